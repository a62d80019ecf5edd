"""Time ecomkit against pandas and polars doing the same work, check that the outputs agree,
and print one table of medians and ratios. A benchmark, not a test: `make bench`.

    python benches/compare.py                      # every case at full size
    python benches/compare.py --rows 1000000       # smaller
    python benches/compare.py --case explosive_score --repeat 5

Each case generates its data once, runs every implementation `--repeat` times (pandas, the
slowest, fewer), checks the outputs against ecomkit's, and reports the median wall time.
"ratio" is the other implementation's time divided by ecomkit's on the same input kind.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa

import ecomkit
from ecomkit.score import explosive_score


@dataclass
class Timing:
    case: str
    name: str
    seconds: float
    baseline: str | None = None  # the ecomkit row this one is compared with


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        result = None  # free the previous result before the clock starts
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


# --- explosive score --------------------------------------------------------------------

WEIGHTS = {"bsr": -1.0, "reviews": 1.0, "price": 0.3, "rating": 0.5}
BY = ["site", "category"]


def explosive_data(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    sites = np.array([f"site_{i}" for i in range(10)])
    categories = np.array([f"category_{i:03d}" for i in range(200)])
    return pd.DataFrame(
        {
            "site": sites[rng.integers(0, len(sites), rows)],
            "category": categories[rng.integers(0, len(categories), rows)],
            "bsr": rng.lognormal(8, 2, rows),
            "reviews": rng.lognormal(3, 1.5, rows),
            "price": rng.lognormal(3, 0.7, rows),
            "rating": rng.normal(4.2, 0.4, rows),
        }
    )


def explosive_pandas(df: pd.DataFrame) -> pd.DataFrame:
    """The straightforward pandas groupby implementation (the seed pipeline's)."""
    keys = [df[b] for b in BY]
    out = {}
    score = pd.Series(0.0, index=df.index)
    for feature, weight in WEIGHTS.items():
        x = df[feature]
        median = x.groupby(keys, sort=False).transform("median")
        mad = (x - median).abs().groupby(keys, sort=False).transform("median")
        z = (x - median) / (1.482602218505602 * mad)
        out[f"z_{feature}"] = z
        score = score + weight * z.fillna(0.0)
    out["explosive_score"] = score
    out["rank"] = score.groupby(keys, sort=False).rank(method="first", ascending=False)
    return df.assign(**out)


def explosive_polars(df: pl.DataFrame) -> pl.DataFrame:
    """The best polars expression we know for the same output."""
    zs = []
    for feature in WEIGHTS:
        median = pl.col(feature).median().over(BY)
        mad = (pl.col(feature) - median).abs().median().over(BY)
        zs.append(((pl.col(feature) - median) / (1.482602218505602 * mad)).alias(f"z_{feature}"))
    score = pl.sum_horizontal(
        [weight * pl.col(f"z_{f}").fill_nan(0.0).fill_null(0.0) for f, weight in WEIGHTS.items()]
    ).alias("explosive_score")
    return (
        df.with_columns(zs)
        .with_columns(score)
        .with_columns(
            pl.col("explosive_score").rank("ordinal", descending=True).over(BY).alias("rank")
        )
    )


def check_same(ours: pd.DataFrame, theirs: pd.DataFrame, label: str) -> None:
    for column in [f"z_{f}" for f in WEIGHTS] + ["explosive_score"]:
        np.testing.assert_allclose(
            ours[column].to_numpy(dtype=float),
            theirs[column].to_numpy(dtype=float),
            rtol=1e-9,
            atol=1e-9,
            err_msg=f"{label}: {column}",
        )
    np.testing.assert_array_equal(
        ours["rank"].to_numpy(dtype=np.int64), theirs["rank"].to_numpy(dtype=np.int64), label
    )


def case_explosive_score(rows: int, repeat: int) -> list[Timing]:
    case = f"explosive_score {rows:,} rows, 4 features, by site×category"
    df = explosive_data(rows)
    pdf = pl.from_pandas(df)
    table = pa.Table.from_pandas(df, preserve_index=False)
    cat = df.astype({"site": "category", "category": "category"})
    print(f"{case}: {df.groupby(BY).ngroups} groups", file=sys.stderr)

    timings = []
    t, ours_pd = timed(lambda: explosive_score(df, WEIGHTS, BY), repeat)
    timings.append(Timing(case, "ecomkit (pandas in/out)", t))
    t, _ = timed(lambda: explosive_score(cat, WEIGHTS, BY), repeat)
    timings.append(Timing(case, "ecomkit (pandas, category keys)", t))
    t, ours_pl = timed(lambda: explosive_score(pdf, WEIGHTS, BY), repeat)
    timings.append(Timing(case, "ecomkit (polars in/out)", t))
    t, _ = timed(lambda: explosive_score(table, WEIGHTS, BY), repeat)
    timings.append(Timing(case, "ecomkit (pyarrow in/out)", t))

    t, theirs = timed(lambda: explosive_pandas(df), max(1, repeat // 2))
    timings.append(Timing(case, "pandas groupby", t, "ecomkit (pandas in/out)"))
    check_same(ours_pd, theirs, "pandas")
    t, theirs_pl = timed(lambda: explosive_polars(pdf), repeat)
    timings.append(Timing(case, "polars expressions", t, "ecomkit (polars in/out)"))
    check_same(ours_pl.to_pandas(), theirs_pl.to_pandas(), "polars")
    return timings


CASES: dict[str, Callable[[int, int], list[Timing]]] = {
    "explosive_score": case_explosive_score,
}


def print_table(timings: list[Timing]) -> None:
    by_name = {(t.case, t.name): t.seconds for t in timings}
    print()
    print("| case | implementation | median s | ratio vs ecomkit |")
    print("|---|---|---:|---:|")
    for t in timings:
        ratio = ""
        if t.baseline is not None:
            ratio = f"{t.seconds / by_name[(t.case, t.baseline)]:.1f}×"
        print(f"| {t.case} | {t.name} | {t.seconds:.3f} | {ratio} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", choices=sorted(CASES), action="append")
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(
        f"ecomkit {ecomkit.__version__}, pandas {pd.__version__}, polars {pl.__version__}, "
        f"pyarrow {pa.__version__}, numpy {np.__version__}; {os.cpu_count()} cores",
        file=sys.stderr,
    )
    timings = []
    for name in args.case or sorted(CASES):
        timings += CASES[name](args.rows, args.repeat)
    print_table(timings)


if __name__ == "__main__":
    main()
