"""The pipeline steps: each reads its inputs (Parquet, CSV or Feather files, or database
tables ``URI#table``), runs one job, writes its outputs atomically and returns a summary
dict (which Airflow logs and keeps as an XCom). They are what the ``ecomkit`` command
runs, one function per sub-command (``ecomkit train-rank`` is :func:`train_rank`), and what
a PythonOperator calls. Settings come from the arguments, falling back to a section of the
``config`` settings file (TOML or YAML).

The old names (``score.run``, ``abtest.run_assign``, ``features.run_sessions``, …) still
work for this release, with a ``DeprecationWarning``.
"""

from __future__ import annotations

import json
import math
import time as _time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import _check, _frames, _io, plots
from .abtest import TrafficSplitter, evaluate_experiment, evaluate_uplift
from .datasets import DATASETS, asin_daily, clickstream, experiment_units, ranking
from .errors import InvalidValueError
from .features import asin_daily_features, session_features
from .rank import _is_sparse, train_lambdarank
from .score import explosive_score, group_stats
from .settings import load_section

__all__ = [
    "assign",
    "drift",
    "features",
    "generate",
    "score",
    "sessions",
    "train_rank",
    "uplift",
    "validate",
]


@_io.pipeline_step
def generate(
    output: str | Path,
    *,
    dataset: str = "asin_daily",
    n_asins: int = 2000,
    n_days: int = 120,
    n_users: int = 10_000,
    seed: int = 0,
    start: str = "2024-01-01",
    lift: float = 0.05,
) -> dict[str, Any]:
    """The ``ecomkit generate`` step: write one built-in data set to a file (or database
    table), atomically. ``dataset`` is ``"asin_daily"`` (``n_asins``, ``n_days``,
    ``start``), ``"clickstream"`` (``n_users``, ``n_days``, ``start``),
    ``"experiment_units"`` (``n_users``, ``lift``) or ``"ranking"`` (``n_asins``,
    ``n_days``); every one takes ``seed``.

    >>> import pathlib, tempfile
    >>> from ecomkit import datasets, pipeline
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "daily.csv"
    >>> summary = pipeline.generate(path, n_asins=3, n_days=5, seed=1)
    >>> summary["rows"] == len(datasets.asin_daily(3, 5, 1))
    True
    >>> pipeline.generate(path, dataset="clickstream", n_users=20, n_days=2)["dataset"]
    'clickstream'
    """
    _check.choice(dataset, "dataset", DATASETS)
    if dataset == "asin_daily":
        table = asin_daily(n_asins, n_days, seed, start=start, backend="pyarrow")
    elif dataset == "clickstream":
        table = clickstream(n_users, n_days, seed, start=start, backend="pyarrow")
    elif dataset == "experiment_units":
        table = experiment_units(n_users, seed, lift=lift, backend="pyarrow")
    else:
        table = ranking(n_asins, n_days, seed, backend="pyarrow")
    _io.write_table(table, output)
    return {"output": str(output), "dataset": dataset, "rows": table.num_rows}


@_io.pipeline_step
def score(
    input: str | Path,
    output: str | Path,
    *,
    weights: Mapping[str, float] | None = None,
    by: str | Sequence[str] | None = None,
    top_n: int | None = None,
    clip: float | None = None,
    zero_mad: str | None = None,
    config: str | Path | None = None,
    group_stats_output: str | Path | None = None,
    latest_per: str | Sequence[str] | None = None,
    time: str | None = None,
) -> dict[str, Any]:
    """The ``ecomkit score`` pipeline step: read a table, score it, write the result.

    With ``latest_per`` (entity columns, e.g. ``"asin"``) only each entity's latest row by
    ``time`` (default ``"date"``) is scored, as the seed pipeline scores each product on its
    latest day; without it every row is scored. Settings come from the arguments, falling
    back to the ``[score]`` section of ``config`` (TOML or YAML). ``input`` and ``output``
    are Parquet, CSV or Feather files (by extension) or database tables (``URI#table``,
    see :mod:`ecomkit._database`); outputs are written atomically. Returns a summary dict
    (paths, row counts, seconds).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from ecomkit import pipeline
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = pipeline.generate(folder / "daily.parquet", n_asins=50, n_days=10)
    >>> summary = pipeline.score(folder / "daily.parquet", folder / "scores.csv",
    ...                     weights={"bsr": -1.0}, by="site", top_n=2)
    >>> summary["rows_out"]  # 4 sites × top 2
    8
    """
    started = _time.perf_counter()
    settings = load_section(config, "score")
    weights = weights if weights is not None else settings.get("weights")
    if weights is None:
        raise InvalidValueError(
            "weights: give --weights or a [score] weights table in the settings file"
        )
    by = by if by is not None else settings.get("by", ())
    top_n = top_n if top_n is not None else settings.get("top_n")
    clip = clip if clip is not None else settings.get("clip")
    zero_mad = zero_mad if zero_mad is not None else settings.get("zero_mad", "mean_ad")
    latest_per = latest_per if latest_per is not None else settings.get("latest_per")
    time = time if time is not None else settings.get("time", "date")
    table = _io.read_table(input)
    if latest_per:
        table = _frames.latest_rows(table, _check.names(latest_per, "latest_per"), time)
    scored = explosive_score(table, weights, by, top_n=top_n, clip=clip, zero_mad=zero_mad)
    _io.write_table(scored, output)
    summary: dict[str, Any] = {
        "input": str(input),
        "output": str(output),
        "rows_in": table.num_rows,  # after --latest-per
        "rows_out": scored.num_rows,
    }
    if group_stats_output is not None:
        stats = group_stats(table, list(weights), by, zero_mad=zero_mad)
        _io.write_table(stats, group_stats_output)
        summary["group_stats"] = str(group_stats_output)
    summary["seconds"] = round(_time.perf_counter() - started, 3)
    return summary


@_io.pipeline_step
def features(
    input: str | Path,
    output: str | Path,
    *,
    windows: Sequence[str] | None = None,
    by: str | Sequence[str] | None = None,
    time: str | None = None,
    config: str | Path | None = None,
) -> dict[str, Any]:
    """The ``ecomkit features`` pipeline step: daily ASIN rows in, the rows with
    :func:`asin_daily_features` out (Parquet, CSV or Feather by extension; written
    atomically). Settings fall back to the ``[features]`` section of ``config``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from ecomkit import pipeline
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = pipeline.generate(folder / "daily.parquet", n_asins=20, n_days=40)
    >>> summary = pipeline.features(folder / "daily.parquet", folder / "features.parquet")
    >>> summary["columns_added"][:2]
    ['bsr_trend_7d', 'price_volatility_7d']
    """
    started = _time.perf_counter()
    settings = load_section(config, "features")
    windows = windows if windows is not None else settings.get("windows", ("7d", "30d"))
    by = by if by is not None else settings.get("by", "asin")
    time = time if time is not None else settings.get("time", "date")
    table = _io.read_table(input)
    out = asin_daily_features(table, by=by, time=time, windows=windows)
    _io.write_table(out, output)
    return {
        "input": str(input),
        "output": str(output),
        "rows": out.num_rows,
        "columns_added": [c for c in out.column_names if c not in table.column_names],
        "seconds": round(_time.perf_counter() - started, 3),
    }


@_io.pipeline_step
def sessions(
    input: str | Path,
    output: str | Path,
    *,
    events_output: str | Path | None = None,
    timeout: str | None = None,
    max_duration: str | None = None,
    time_zone: str | None = None,
    user: str | None = None,
    time: str | None = None,
    event: str | None = None,
    item: str | None = None,
    config: str | Path | None = None,
) -> dict[str, Any]:
    """The ``ecomkit sessions`` pipeline step: click-stream events in, one row per session
    out (and, with ``events_output``, the events with their session columns). Settings fall
    back to the ``[sessions]`` section of ``config``; outputs are written atomically.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from ecomkit import datasets, pipeline
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> datasets.clickstream(100, 5).to_parquet(folder / "events.parquet")
    >>> summary = pipeline.sessions(folder / "events.parquet", folder / "sessions.csv",
    ...                                 time_zone="Europe/Berlin")
    >>> summary["sessions"] > 0
    True
    """
    started = _time.perf_counter()
    settings = load_section(config, "sessions")

    def pick(value: Any, key: str, default: Any) -> Any:
        return value if value is not None else settings.get(key, default)

    table = _io.read_table(input)
    sessions, events = session_features(
        table,
        user=pick(user, "user", "visitorid"),
        time=pick(time, "time", "timestamp"),
        event=pick(event, "event", "event"),
        item=pick(item, "item", "itemid"),
        timeout=pick(timeout, "timeout", "30m"),
        max_duration=pick(max_duration, "max_duration", None),
        time_zone=pick(time_zone, "time_zone", "UTC"),
    )
    summary: dict[str, Any] = {"input": str(input), "output": str(output)}
    _io.write_table(sessions, output)
    if events_output is not None:
        _io.write_table(events, events_output)
        summary["events_output"] = str(events_output)
    summary.update(
        events=table.num_rows,
        sessions=sessions.num_rows,
        seconds=round(_time.perf_counter() - started, 3),
    )
    return summary


@_io.pipeline_step
@_check.renamed(id_col="id", category_col="category")
def assign(
    input: str | Path,
    output: str | Path,
    *,
    experiment: str | None = None,
    variants: Sequence[str] | None = None,
    weights: Sequence[float] | None = None,
    id: str | None = None,
    category: str | None = None,
    config: str | Path | None = None,
) -> dict[str, Any]:
    """The ``ecomkit assign`` step: read ids, write them with a ``variant`` column (null =
    not in the experiment). The splitter settings come from the arguments, falling back
    to the ``[split]`` section of ``config`` (TrafficSplitter's keyword names, plus
    ``id`` and ``category``). Returns a summary with the count per variant.

    >>> import pathlib, tempfile
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> from ecomkit import pipeline
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> pq.write_table(pa.table({"user": [f"u{i}" for i in range(1000)]}), folder / "ids.parquet")
    >>> summary = pipeline.assign(folder / "ids.parquet", folder / "assigned.parquet",
    ...                      experiment="checkout", variants=["control", "treatment"],
    ...                      id="user")
    >>> summary["counts"]
    {'control': 490, 'treatment': 510}
    """
    started = _time.perf_counter()
    settings = dict(load_section(config, "split"))
    id = id or _check.setting(settings, "id", "id_col", "id")
    category = category or _check.setting(settings, "category", "category_col")
    for key in ("id", "id_col", "category", "category_col"):
        settings.pop(key, None)
    if experiment is not None:
        settings["experiment"] = experiment
    if variants is not None:
        settings["variants"] = list(variants)
    if weights is not None:
        settings["weights"] = list(weights)
    if "experiment" not in settings or "variants" not in settings:
        raise InvalidValueError(
            "experiment: give --experiment and --variants, or a [split] section with them"
        )
    splitter = TrafficSplitter.from_dict(settings)
    table = _io.read_table(input)
    _frames.require_columns(table.column_names, [id], "id")
    if category:
        _frames.require_columns(table.column_names, [category], "category")
    index = splitter.assign_index(table.column(id), table.column(category) if category else None)
    names = pa.array([*splitter.variants, None], pa.string())
    variant = names.take(pa.array(np.where(index < 0, len(splitter.variants), index)))
    if "variant" in table.column_names:
        table = table.drop_columns(["variant"])
    _io.write_table(table.append_column("variant", variant), output)
    counts = np.bincount(np.where(index < 0, len(splitter.variants), index),
                         minlength=len(splitter.variants) + 1)  # fmt: skip
    summary = {
        "input": str(input),
        "output": str(output),
        "rows": table.num_rows,
        "counts": {v: int(c) for v, c in zip(splitter.variants, counts, strict=False)},
        "not_in_experiment": int(counts[-1]),
        "config": splitter.to_dict(),
        "seconds": round(_time.perf_counter() - started, 3),
    }
    return summary


@_io.pipeline_step
@_check.renamed(variant_col="variant")
def uplift(
    input: str | Path,
    output_dir: str | Path,
    *,
    control_variant: str | None = None,
    variant: str | None = None,
    metrics: Any = None,
    covariates: Any = None,
    alpha: float | None = None,
    correction: str | None = None,
    config: str | Path | None = None,
) -> dict[str, Any]:
    """The ``ecomkit uplift`` step: read a summary frame (no ``metrics``: the seed's
    :func:`evaluate_uplift`) or unit-level rows (``metrics`` given:
    :func:`evaluate_experiment`) and write ``uplift.csv``, ``uplift.md`` and
    ``uplift.json`` into ``output_dir``, atomically. Settings fall back to the
    ``[uplift]`` section of ``config``."""
    started = _time.perf_counter()
    settings = load_section(config, "uplift")
    control_variant = control_variant or settings.get("control_variant", "control")
    variant = variant or _check.setting(settings, "variant", "variant_col", "variant")
    metrics = metrics if metrics is not None else settings.get("metrics")
    covariates = covariates if covariates is not None else settings.get("covariates")
    alpha = alpha if alpha is not None else settings.get("alpha", 0.05)
    correction = correction if correction is not None else settings.get("correction")
    table = _io.read_table(input)
    if metrics is None:
        report = evaluate_uplift(
            table, control_variant, variant=variant, alpha=alpha, correction=correction
        )
    else:
        if isinstance(metrics, Mapping):
            metrics = {k: tuple(v) if isinstance(v, list) else v for k, v in metrics.items()}
        report = evaluate_experiment(
            table, variant, metrics, control_variant, alpha=alpha, correction=correction,
            covariates=covariates,
        )  # fmt: skip
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "csv": str(_io.write_table(report.to_arrow(), out / "uplift.csv")),
        "markdown": str(_io.write_text(report.to_markdown(), out / "uplift.md")),
        "json": str(_io.write_text(report.to_json(indent=2), out / "uplift.json")),
    }
    return {
        "input": str(input),
        "rows": len(report),
        "srm_p_value": report.srm_p_value,
        **paths,
        "seconds": round(_time.perf_counter() - started, 3),
    }


# --- ``ecomkit train-rank`` ------------------------------------------------------------------


def _load(path: str | Path, label: str, group: str, features: Any,
          baseline: str | None) -> dict[str, Any]:  # fmt: skip
    """Features, labels, group ids (and a baseline score) from a table or a LibSVM file."""
    from . import _database
    from .datasets import load_svmlight

    if not _database.named(path) and Path(path).suffix.lower() not in _io.TABLE_FORMATS:
        path = Path(path)
        data = load_svmlight(path, sparse=True)
        if data.group is None:
            raise InvalidValueError(f"input: {path} has no .query file of group sizes beside it")
        if baseline:
            raise InvalidValueError("baseline_score: a LibSVM file has no named columns")
        ids = np.repeat(np.arange(len(data.group)), data.group)
        return {"X": data.X, "y": data.y, "groups": ids, "baseline": None, "features": None}
    table = _io.read_table(path)
    names = table.column_names
    _frames.require_columns(names, [label], "label")
    _frames.require_columns(names, [group], "group")
    if baseline:
        _frames.require_columns(names, [baseline], "baseline_score")
    if features is None:
        skip = {label, group, baseline}
        features = [n for n in names if n not in skip and (
            pa.types.is_integer(table.schema.field(n).type)
            or pa.types.is_floating(table.schema.field(n).type))]  # fmt: skip
    _frames.require_columns(names, list(features), "features")
    x = np.column_stack([_frames.to_float64(table.column(c), c) for c in features])
    return {
        "X": x,
        "y": _frames.to_float64(table.column(label), label),
        "groups": table.column(group),
        "baseline": _frames.to_float64(table.column(baseline), baseline) if baseline else None,
        "features": list(features),
    }


@_io.pipeline_step
@_check.renamed(label_col="label", group_col="group", feature_cols="features",
                baseline_score_column="baseline_score")  # fmt: skip
def train_rank(
    train: str | Path,
    output_dir: str | Path,
    *,
    valid: str | Path | None = None,
    label: str | None = None,
    group: str | None = None,
    features: Sequence[str] | None = None,
    baseline_score: str | None = None,
    k: Sequence[int] | None = None,
    params: Mapping[str, Any] | None = None,
    num_boost_round: int | None = None,
    early_stopping_rounds: int | None = None,
    config: str | Path | None = None,
    verbose: bool | None = None,
) -> dict[str, Any]:
    """The ``ecomkit train-rank`` step: train LambdaRank on ``train`` (a table with label,
    group and feature columns, or a LibSVM file with its ``.query`` file), evaluate on
    ``valid`` (or ``train``), and write into ``output_dir``, atomically: ``model.txt``
    (LightGBM text format), ``metrics.json`` (metrics per k, lift curve per k and over
    population fractions), ``metrics.csv`` (one row per k) and ``lift_curve.csv`` (mean
    recall, baseline recall and lift at each k). Settings fall back to the ``[rank]``
    section of ``config``.
    """
    from . import metrics

    started = _time.perf_counter()
    settings = load_section(config, "rank")
    label = label or _check.setting(settings, "label", "label_col", "label")
    group = group or _check.setting(settings, "group", "group_col", "group")
    if features is None:
        features = _check.setting(settings, "features", "feature_cols")
    baseline = baseline_score or _check.setting(settings, "baseline_score", "baseline_score_column")
    cuts = [int(c) for c in (k if k is not None else settings.get("k", (1, 3, 5, 10)))]
    params = {**settings.get("params", {}), **(params or {})}
    rounds = num_boost_round if num_boost_round is not None else \
        settings.get("num_boost_round", 100)  # fmt: skip
    stopping = early_stopping_rounds if early_stopping_rounds is not None else \
        settings.get("early_stopping_rounds")  # fmt: skip
    if stopping is not None and not valid:
        raise InvalidValueError(
            "early_stopping_rounds: needs validation data (--valid / valid=) to stop on"
        )
    train_data = _load(train, label, group, features, baseline)
    eval_data = _load(valid, label, group, train_data["features"], baseline) if valid \
        else train_data  # fmt: skip
    if _is_sparse(train_data["X"]) and _is_sparse(eval_data["X"]):
        # LibSVM files: the features are the indices either file has (LightGBM's reading).
        width = max(train_data["X"].shape[1], eval_data["X"].shape[1])
        for data in (train_data, eval_data):
            data["X"] = data["X"].copy()
            data["X"].resize((data["X"].shape[0], width))
    model = train_lambdarank(
        train_data["X"], train_data["y"], params=params, num_boost_round=rounds,
        groups=train_data["groups"],
        valid=({"X": eval_data["X"], "y": eval_data["y"], "groups": eval_data["groups"]}
               if stopping is not None else None),
        early_stopping_rounds=stopping, verbose=verbose,
    )  # fmt: skip
    scores = model.predict(eval_data["X"])
    columns = {"group": eval_data["groups"], "label": eval_data["y"], "score": scores}
    if eval_data["baseline"] is not None:
        columns["baseline"] = eval_data["baseline"]
    frame = pa.table(columns)
    report, curve = metrics._report_columns(frame, "group", "label", "score", cuts,
                                            "baseline" if baseline else None, None)  # fmt: skip
    per_k = {name: report[name] for name in ["k", "recall"] +
             (["baseline_recall", "lift"] if baseline else [])}  # fmt: skip
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)

    def clean(value: Any) -> Any:
        return None if isinstance(value, float) and not math.isfinite(value) else value

    def records(columns: dict[str, list[Any]]) -> list[dict[str, Any]]:
        return [{k: clean(v) for k, v in zip(columns, row, strict=True)}
                for row in zip(*columns.values(), strict=True)]  # fmt: skip

    payload = {
        "metrics": {
            f"{col}@{row['k']}": clean(row[col])
            for row in records(report)
            for col in report
            if col != "k"
        },
        "lift_curve": records(per_k),
        "population_lift_curve": records(curve),
        "best_iteration": model.best_iteration,
        "rows": frame.num_rows,
        "groups": len(pc.unique(frame["group"])),
    }
    paths = {
        "model": str(model.save(out / "model.txt")),
        "metrics_json": str(_io.write_text(json.dumps(payload, indent=2), out / "metrics.json")),
        "metrics_csv": str(_io.write_table(pa.table(report), out / "metrics.csv")),
        "lift_curve": str(_io.write_table(pa.table(per_k), out / "lift_curve.csv")),
    }
    return {**paths, "metrics": payload["metrics"],
            "seconds": round(_time.perf_counter() - started, 3)}  # fmt: skip


# --- ``ecomkit drift`` and ``ecomkit validate`` ----------------------------------------------


def _report_files(report: Any, out: Path, name: str) -> dict[str, Any]:
    """``name``.csv / .md / .json (and .png with matplotlib) of a monitoring report in `out`,
    committed with the step's other outputs."""
    out.mkdir(parents=True, exist_ok=True)
    flat = report.to_arrow()
    if "examples" in flat.column_names:  # CSV has no lists: the row numbers as text
        examples = [" ".join(map(str, rows)) for rows in flat.column("examples").to_pylist()]
        flat = flat.set_column(flat.column_names.index("examples"), "examples",
                               pa.array(examples, pa.string()))  # fmt: skip
    files = {
        "csv": str(_io.write_table(flat, out / f"{name}.csv")),
        "markdown": str(_io.write_text(report.to_markdown(), out / f"{name}.md")),
        "json": str(_io.write_text(report.to_json(indent=2), out / f"{name}.json")),
    }
    png = plots.optional(report.plot, out / f"{name}.png")
    if png is not None:
        files["png"] = str(png)
    return files


def drift(
    reference: str | Path,
    current: str | Path,
    output_dir: str | Path,
    *,
    columns: str | Sequence[str] | None = None,
    method: str | Mapping[str, str] | None = None,
    threshold: float | Mapping[str, float] | None = None,
    by: str | Sequence[str] | None = None,
    drift_share: float | None = None,
    fail_on_drift: bool = False,
    config: str | Path | None = None,
) -> dict[str, Any]:
    """The ``ecomkit drift`` step: :func:`ecomkit.monitor.drift` of two tables (files or
    database tables), written as ``drift.csv``, ``drift.md``, ``drift.json`` (and
    ``drift.png`` with matplotlib) into ``output_dir``, atomically. Settings fall back to the
    ``[drift]`` section of ``config``. With ``fail_on_drift``, a dataset drift raises
    :class:`ecomkit.errors.DriftDetected` after the reports are written (the CLI exits 1).

    >>> import pathlib, tempfile
    >>> from ecomkit import pipeline
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = pipeline.generate(folder / "a.parquet", n_asins=40, n_days=20, seed=1)
    >>> _ = pipeline.generate(folder / "b.parquet", n_asins=40, n_days=20, seed=2)
    >>> summary = pipeline.drift(folder / "a.parquet", folder / "b.parquet", folder / "drift",
    ...                          columns=["price", "rating"])
    >>> summary["columns"], sorted(p.name for p in (folder / "drift").glob("drift.*"))[:3]
    (2, ['drift.csv', 'drift.json', 'drift.md'])
    """
    from . import monitor
    from .errors import DriftDetected

    started = _time.perf_counter()
    settings = load_section(config, "drift")
    columns = columns if columns is not None else settings.get("columns")
    method = method if method is not None else settings.get("method", "auto")
    threshold = threshold if threshold is not None else settings.get("threshold")
    by = by if by is not None else settings.get("by")
    drift_share = drift_share if drift_share is not None else settings.get("drift_share", 0.5)
    fail_on_drift = _check.boolean(fail_on_drift or settings.get("fail_on_drift", False),
                                   "fail_on_drift")  # fmt: skip
    reference_table = _io.read_table(reference, "reference")
    current_table = _io.read_table(current, "current")
    report = monitor.drift(reference_table, current_table, columns, method=method,
                           threshold=threshold, by=by, drift_share=drift_share)  # fmt: skip
    with _io.outputs_together():
        files = _report_files(report, Path(output_dir), "drift")
    summary = {
        "reference": str(reference),
        "current": str(current),
        "columns": len(set(report.to_arrow().column("column").to_pylist())),
        "drifted_columns": report.drifted_columns,
        "share_drifted": report.share_drifted,
        "dataset_drift": report.dataset_drift,
        **files,
        "seconds": round(_time.perf_counter() - started, 3),
    }
    if fail_on_drift and report.dataset_drift:
        raise DriftDetected(report)
    return _io.redacted(summary)


def _named_tables(value: Any) -> dict[str, Any]:
    """``{"products": "products.parquet"}`` (or ``"products=products.parquet"``) → tables."""
    if value is None:
        return {}
    if isinstance(value, str):
        value = dict(item.split("=", 1) for item in _check.names(value, "references"))
    if not isinstance(value, Mapping):
        raise InvalidValueError(
            "references: expected name=file pairs, e.g. products=products.parquet"
        )
    return {
        str(name): _io.read_table(path, f"references['{name}']") for name, path in value.items()
    }


def validate(
    input: str | Path,
    output_dir: str | Path,
    *,
    rules: str | Path | Mapping[str, Any] | None = None,
    references: str | Mapping[str, str | Path] | None = None,
    as_of: Any = None,
) -> dict[str, Any]:
    """The ``ecomkit validate`` step: :func:`ecomkit.monitor.validate` of a table (file or
    database table) against ``rules`` (a dict, or a settings file whose ``[validate]``
    section holds them), written as ``quality.csv``, ``quality.md``, ``quality.json`` (and
    ``quality.png`` with matplotlib) into ``output_dir``, atomically. ``references`` maps
    the names ``references`` rules use to tables. A failed rule raises
    :class:`ecomkit.errors.ValidationFailed` after the reports are written (the CLI exits
    1, the failures on stderr), so an Airflow task fails visibly.

    >>> import pathlib, tempfile
    >>> from ecomkit import errors, pipeline
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = pipeline.generate(folder / "daily.parquet", n_asins=20, n_days=10)
    >>> pipeline.validate(folder / "daily.parquet", folder / "quality",
    ...                   rules={"columns": {"asin": {"not_null": True}}})["passed"]
    True
    >>> try:
    ...     pipeline.validate(folder / "daily.parquet", folder / "quality",
    ...                       rules={"columns": {"price": {"max": 1.0}}})
    ... except errors.ValidationFailed as failed:
    ...     print(str(failed).splitlines()[0])
    1 of 1 rules failed: max price
    """
    from . import monitor
    from .errors import ValidationFailed

    started = _time.perf_counter()
    if rules is None:
        raise InvalidValueError("rules: give --rules (a settings file with a [validate] section)")
    table = _io.read_table(input)
    report = monitor.validate(table, rules, references=_named_tables(references), as_of=as_of)
    with _io.outputs_together():
        files = _report_files(report, Path(output_dir), "quality")
    summary = {
        "input": str(input),
        "rows": table.num_rows,
        "rules": report.to_arrow().num_rows,
        "passed": report.passed,
        "failures": [f"{r} {c}".strip() for r, c in report.failures],
        **files,
        "seconds": round(_time.perf_counter() - started, 3),
    }
    if not report.passed:
        raise ValidationFailed(report)
    return _io.redacted(summary)
