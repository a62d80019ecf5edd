"""Digests of ecomkit's outputs on the compare.py data sets, to show that a refactoring
changes no bit: record them with one build, check them with the next.

    python benches/digest.py --write /tmp/before.json      # with the old build
    python benches/digest.py --check /tmp/before.json      # with the new one

Each case computes what its compare.py case computes (and the rolling case every statistic,
with missing values, integer columns and unsorted rows as well, so that every path of the
kernel is covered), then hashes every output column's bytes (SHA-256). `--check` names each
output that differs and exits 1. A check, not a benchmark: `--rows` (1M) sets the sizes as in
compare.py.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

sys.path.insert(0, str(Path(__file__).resolve().parent))

import compare  # noqa: E402  (the data sets are compare.py's)

import ecomkit  # noqa: E402
from ecomkit import features, metrics  # noqa: E402
from ecomkit.abtest import TrafficSplitter, evaluate_experiment  # noqa: E402
from ecomkit.score import explosive_score  # noqa: E402


def digest(values: object) -> str:
    """SHA-256 of an output's bytes (numbers as little-endian float64 or int64, text as UTF-8)."""
    if isinstance(values, pd.Series):
        values = values.to_numpy()
    array = np.asarray(values)
    if array.dtype.kind in "fc":
        data = array.astype("<f8").tobytes()
    elif array.dtype.kind in "iub":
        data = array.astype("<i8").tobytes()
    else:
        data = "\x00".join(map(str, array.tolist())).encode()
    return hashlib.sha256(data).hexdigest()


def frame_digests(prefix: str, frame: pd.DataFrame) -> dict[str, str]:
    return {f"{prefix}.{column}": digest(frame[column]) for column in frame.columns}


def rolling_digests(rows: int) -> dict[str, str]:
    daily = ecomkit.datasets.asin_daily(5000, 730, backend="pyarrow")
    df = daily.to_pandas(date_as_object=False)
    out = frame_digests("benchmark", compare_rolling(df))
    # Every statistic and path: missing values, an integer column, unsorted rows, one entity.
    rng = np.random.default_rng(11)
    n = min(rows, 400_000)
    mixed = pd.DataFrame(
        {
            "entity": rng.integers(0, 2_000, n),
            "time": pd.to_datetime(rng.integers(0, 400, n) * 43_200, unit="s"),
            "with_nan": np.where(rng.random(n) < 0.1, np.nan, 1e6 + rng.normal(0, 1e3, n)),
            "complete": rng.uniform(-5, 5, n),
            "integers": rng.integers(0, 1_000, n),
            "huge": rng.normal(0, 1, n) * 1e300,
        }
    )
    stats = list(ecomkit._ecomkit.ROLLING_STATS)
    columns = ["with_nan", "complete", "integers", "huge"]
    for min_periods in (1, 3):
        result = features.rolling(
            mixed, "entity", "time", columns, ["1d", "7d", "30d"], stats, min_periods=min_periods
        )
        out |= frame_digests(f"all_stats.min_periods={min_periods}", result)
    result = features.rolling(mixed, None, "time", ["complete"], ["2d"], stats)
    out |= frame_digests("one_entity", result)
    out |= frame_digests("asin_daily_features", features.asin_daily_features(df))
    return out


def compare_rolling(df: pd.DataFrame) -> pd.DataFrame:
    return features.rolling(df, "asin", "date", compare.SIGNALS, ["7d", "30d"],
                            ["mean", "std", "slope"])  # fmt: skip


def sessions_digests(rows: int) -> dict[str, str]:
    n_users = max(1, rows * 5 // 56)
    events = ecomkit.datasets.clickstream(n_users, 30, backend="pyarrow")
    df = events.select(["timestamp", "visitorid", "event", "itemid"]).to_pandas()
    sessions, per_event = features.session_features(df)
    return frame_digests("sessions", sessions) | frame_digests("events", per_event)


def explosive_digests(rows: int) -> dict[str, str]:
    df = compare.explosive_data(rows)
    return frame_digests("explosive", explosive_score(df, compare.WEIGHTS, compare.BY))


def ranking_digests(rows: int) -> dict[str, str]:
    labels, scores, groups = compare.ranking_data(rows // 10)
    out = {}
    for name, by_k in compare.ours_ranking(labels, scores, groups).items():
        out |= {f"ranking.{name}@{k}": digest([value]) for k, value in by_k.items()}
    rng = np.random.default_rng(3)
    y = (rng.random(rows) < 0.2).astype(np.float64)
    p = np.round(y * 0.2 + rng.random(rows), 6)
    out["roc_auc"] = digest([metrics.roc_auc(y, p)])
    return out


def abtest_digests(rows: int) -> dict[str, str]:
    ids = pc.binary_join_element_wise("user-", pc.cast(pa.array(np.arange(rows)), pa.string()), "")
    out = {"assign": digest(TrafficSplitter("bench-exp", ["control", "a", "b"]).assign_index(ids))}
    df = compare.uplift_data(rows)
    report = evaluate_experiment(df, "variant", compare.UPLIFT_METRICS, "control")
    return out | frame_digests("uplift", report.to_dataframe())


CASES: dict[str, Callable[[int], dict[str, str]]] = {
    "rolling": rolling_digests,
    "sessions": sessions_digests,
    "explosive": explosive_digests,
    "ranking": ranking_digests,
    "abtest": abtest_digests,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", type=Path, help="record the digests in this JSON file")
    action.add_argument("--check", type=Path, help="compare with the digests in this file")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--case", choices=sorted(CASES), action="append")
    args = parser.parse_args()
    digests: dict[str, str] = {}
    for name in args.case or sorted(CASES):
        digests |= {f"{name}/{key}": value for key, value in CASES[name](args.rows).items()}
    if args.write:
        args.write.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")
        print(f"{len(digests)} digests written to {args.write}")
        return
    recorded = json.loads(args.check.read_text())
    differ = sorted(k for k in digests if k in recorded and digests[k] != recorded[k])
    missing = sorted(set(recorded) - set(digests)) if not args.case else []
    for key in differ:
        print(f"differs: {key}")
    for key in missing:
        print(f"missing: {key}")
    compared = sum(k in recorded for k in digests)
    print(f"{compared} outputs compared: {len(differ)} differ, {len(missing)} missing")
    sys.exit(1 if differ or missing else 0)


if __name__ == "__main__":
    main()
