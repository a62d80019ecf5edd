"""The ``ecomkit`` command: one subcommand per pipeline step, each a thin wrapper over the
step's function in :mod:`ecomkit.pipeline`, so Airflow can use a BashOperator or a PythonOperator.

Exit codes: 0 success, 2 bad arguments or input (the message names what is wrong), 1 any
other error.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from . import __version__
from .errors import EcomkitError


def _weights(text: str) -> dict[str, float]:
    """``bsr=-1,review_count=0.5`` → {"bsr": -1.0, "review_count": 0.5}."""
    weights = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            weights[name.strip()] = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected feature=weight pairs separated by commas, got {item!r}"
            ) from None
    return weights


class _Renamed(argparse.Action):
    """A flag spelled as its ``run(...)`` argument (``--user``), still accepting its old
    spelling (``--user-col``) for a release, with a deprecation note on stderr."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        if option != self.option_strings[0]:
            print(f"ecomkit: {option} is deprecated; use {self.option_strings[0]}",
                  file=sys.stderr)  # fmt: skip
        setattr(namespace, self.dest, values)


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ecomkit", description=__doc__.split("\n\n")[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", action="store_true",
                        help="no progress on stderr (LightGBM rounds, large files)")  # fmt: skip
    parser.add_argument("--version", action="version", version=f"ecomkit {__version__}")
    steps = parser.add_subparsers(dest="step", required=True, metavar="STEP")

    def step(name: str, **kwargs: Any) -> argparse.ArgumentParser:
        # Every flag's dest is the step function's argument of the same name (_run).
        return steps.add_parser(name, parents=[common], **kwargs)

    demo = step("demo", help="run the main job end to end on built-in data")
    demo.add_argument("--out", default="ecomkit-demo", help="output folder (ecomkit-demo)")
    demo.add_argument("--n-asins", type=int, default=5000)
    demo.add_argument("--n-days", type=int, default=120)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--top-n", type=int, default=10)

    generate = step("generate", help="write a built-in synthetic data set")
    generate.add_argument("output", help="output file (.parquet, .csv, .feather)")
    generate.add_argument("--dataset", default="asin_daily",
                          choices=["asin_daily", "clickstream", "experiment_units", "ranking"],
                          help="which data set (asin_daily)")  # fmt: skip
    generate.add_argument("--n-asins", type=int, default=2000, help="asin_daily, ranking")
    generate.add_argument("--n-days", type=int, default=120, help="all but experiment_units")
    generate.add_argument("--n-users", type=int, default=10_000,
                          help="clickstream, experiment_units")  # fmt: skip
    generate.add_argument("--seed", type=int, default=0)
    generate.add_argument("--start", default="2024-01-01", help="first day")
    generate.add_argument("--lift", type=float, default=0.05, help="experiment_units' true lift")

    score = step("score", help="explosive score per group")
    score.add_argument("input", help="input file (.parquet, .csv, .feather)")
    score.add_argument("--output", required=True, help="output file")
    score.add_argument("--weights", type=_weights, help="feature=weight,... (e.g. bsr=-1)")
    score.add_argument("--by", type=_names, help="group columns, comma separated")
    score.add_argument("--top-n", type=int, help="keep the best N rows of each group")
    score.add_argument("--clip", type=float, help="clip z-scores to [-CLIP, CLIP]")
    score.add_argument("--zero-mad", choices=["mean_ad", "zero"])
    score.add_argument("--config", help="settings file (.toml/.yaml) with a [score] section")
    score.add_argument("--group-stats-output", "--group-stats", dest="group_stats_output",
                       action=_Renamed, help="also write the median/MAD table here")  # fmt: skip
    score.add_argument(
        "--latest-per", type=_names, help="score each entity's latest row only: entity columns"
    )
    score.add_argument("--time", help="time column that orders rows for --latest-per (date)")

    features = step("features", help="ASIN rolling features (trend, volatility, ...)")
    features.add_argument("input", help="daily ASIN rows (.parquet, .csv, .feather)")
    features.add_argument("--output", required=True, help="output file: input + feature columns")
    features.add_argument("--windows", type=_names, help="windows, comma separated (7d,30d)")
    features.add_argument("--by", type=_names, help="product key columns (asin)")
    features.add_argument("--time", help="date column (date)")
    features.add_argument("--config", help="settings file with a [features] section")

    sessions = step("sessions", help="sessionize click streams, session features")
    sessions.add_argument("input", help="events (RetailRocket columns by default)")
    sessions.add_argument("--output", required=True, help="one row per session")
    sessions.add_argument("--events-output", help="also write the events with session columns")
    sessions.add_argument("--timeout", help="inactivity timeout (30m)")
    sessions.add_argument("--max-duration", help="longest session (none)")
    sessions.add_argument("--time-zone", help="IANA zone of start_hour / is_weekend (UTC)")
    for name, default in (("user", "visitorid"), ("time", "timestamp"), ("event", "event"),
                          ("item", "itemid")):  # fmt: skip
        sessions.add_argument(f"--{name}", f"--{name}-col", dest=name, action=_Renamed,
                              help=f"{name} column ({default})")  # fmt: skip
    sessions.add_argument("--config", help="settings file with a [sessions] section")

    assign = step("assign", help="assign ids to experiment variants (GrowthBook)")
    assign.add_argument("input", help="input file with an id column (.parquet, .csv, .feather)")
    assign.add_argument("--output", required=True, help="output file: input + a variant column")
    assign.add_argument("--experiment", help="experiment key (also the hash seed)")
    assign.add_argument("--variants", type=_names, help="variant names, comma separated")
    assign.add_argument("--weights", type=_floats, help="traffic shares, comma separated")
    assign.add_argument("--id", "--id-col", dest="id", action=_Renamed, help="id column (id)")
    assign.add_argument("--category", "--category-col", dest="category", action=_Renamed,
                        help="category column for per-category weights")  # fmt: skip
    assign.add_argument("--config", help="settings file with a [split] section")

    uplift = step("uplift", help="uplift report of an experiment")
    uplift.add_argument("input", help="summary frame, or unit rows with --metrics")
    uplift.add_argument("--output-dir", required=True, help="folder for uplift.{csv,md,json}")
    uplift.add_argument("--control-variant", "--control", dest="control_variant", action=_Renamed,
                        help="control variant (control)")  # fmt: skip
    uplift.add_argument("--variant", "--variant-col", dest="variant", action=_Renamed,
                        help="variant column (variant)")  # fmt: skip
    uplift.add_argument("--metrics", type=_names, help="unit-level metric columns, comma separated")
    uplift.add_argument("--covariates", "--covariate", dest="covariates", action=_Renamed,
                        help="CUPED pre-period covariate column")  # fmt: skip
    uplift.add_argument("--alpha", type=float)
    uplift.add_argument("--correction", choices=["holm", "bh"])
    uplift.add_argument("--config", help="settings file with an [uplift] section")

    rank = step("train-rank", help="train LambdaRank (LightGBM), write metrics")
    rank.add_argument("train", help="training table (.parquet/.csv/.feather) or LibSVM file")
    rank.add_argument("--output-dir", required=True, help="folder for model and metrics")
    rank.add_argument("--valid", help="evaluation data (default: the training data)")
    rank.add_argument("--label", "--label-col", dest="label", action=_Renamed,
                      help="label column (label)")  # fmt: skip
    rank.add_argument("--group", "--group-col", dest="group", action=_Renamed,
                      help="query group column (group)")  # fmt: skip
    rank.add_argument("--features", "--feature-cols", dest="features", action=_Renamed,
                      type=_names, help="feature columns (default: numeric)")  # fmt: skip
    rank.add_argument("--baseline-score", "--baseline-score-column", dest="baseline_score",
                      action=_Renamed, help="baseline score column for the lift")  # fmt: skip
    rank.add_argument("--k", type=_ints, help="cut-offs, comma separated (1,3,5,10)")
    rank.add_argument("--num-boost-round", type=int)
    rank.add_argument("--early-stopping-rounds", type=int)
    rank.add_argument("--params", type=json.loads, help="LightGBM parameters as JSON")
    rank.add_argument("--config", help="settings file with a [rank] section")

    drift = step("drift", help="drift of every column between a reference and a current table")
    drift.add_argument("reference", help="reference table (.parquet, .csv, .feather, URI#table)")
    drift.add_argument("current", help="current table")
    drift.add_argument("--output-dir", required=True, help="folder for drift.{csv,md,json,png}")
    drift.add_argument("--columns", type=_names, help="columns to compare (default: shared ones)")
    drift.add_argument("--method", help="auto (Evidently's choice), psi, ks, chisquare, "
                                         "jensenshannon, wasserstein or z")  # fmt: skip
    drift.add_argument("--threshold", type=float, help="drift threshold (default: the method's)")
    drift.add_argument("--by", type=_names, help="group columns: a report per group")
    drift.add_argument("--drift-share", type=float, help="share of drifted columns that is "
                                                         "dataset drift (0.5)")  # fmt: skip
    drift.add_argument("--fail-on-drift", action="store_true",
                       help="exit 1 on dataset drift (after writing the reports)")  # fmt: skip
    drift.add_argument("--config", help="settings file with a [drift] section")

    validate = step("validate", help="check data-quality rules; exit 1 when one fails")
    validate.add_argument("input", help="table to check (.parquet, .csv, .feather, URI#table)")
    validate.add_argument(
        "--rules", required=True, help="settings file (.toml/.yaml) with the rules under [validate]"
    )
    validate.add_argument(
        "--output-dir", required=True, help="folder for quality.{csv,md,json,png}"
    )
    validate.add_argument(
        "--references",
        help="tables references rules name: name=file,... (products=products.parquet)",
    )
    validate.add_argument("--as-of", help="time freshness is measured against (ISO; now)")
    return parser


def _ints(text: str) -> list[int]:
    try:
        return [int(part) for part in _names(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers separated by commas, got {text!r}"
        ) from None


def _floats(text: str) -> list[float]:
    try:
        return [float(part) for part in _names(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas, got {text!r}"
        ) from None


def _terminated(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from . import _progress

    # --quiet and the SIGTERM handler hold for this call only (main() may be called from
    # Python, e.g. by a test or a PythonOperator).
    quiet, _progress.QUIET = _progress.QUIET, args.quiet
    # SIGTERM (Airflow's stop, `kill`) unwinds like Ctrl-C: a step's temporaries are removed
    # and no output is half-replaced. Only the main thread may set a handler.
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        return _run(args)
    finally:
        _progress.QUIET = quiet
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _step_function(step: str) -> Any:
    """The function a step runs: ``demo.run`` or ``pipeline.<step>`` (``train-rank`` is
    ``train_rank``)."""
    if step == "demo":
        from . import demo

        return demo.run
    from . import pipeline

    return getattr(pipeline, step.replace("-", "_"))


def _run(args: argparse.Namespace) -> int:
    """Run the step `args` names, each flag given as the argument of the same name; the
    exit code."""
    import inspect

    try:
        function = _step_function(args.step)
        parameters = inspect.signature(function).parameters
        summary = function(**{name: value for name, value in vars(args).items()
                              if name in parameters})  # fmt: skip
    except (EcomkitError, TypeError, ValueError) as exc:
        print(f"ecomkit {args.step}: error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, (TypeError, ValueError)) else 1
    except OSError as exc:  # an unwritable folder, a full disk: said in one line, no traceback
        where = f" '{exc.filename}'" if exc.filename else ""
        print(f"ecomkit {args.step}: error:{where} {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(json.dumps(summary, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
