"""Writing a 1M-row score table to PostgreSQL: ecomkit (ADBC, COPY, staging table swapped in)
against pandas ``DataFrame.to_sql`` (SQLAlchemy + psycopg2, ``method="multi"`` and the
default row inserts), on a throw-away local server (python-tests/services/postgres.py).

    python benches/database.py [--rows 1000000] [--repeat 3]

Needs the dev tools plus ``sqlalchemy`` and ``psycopg2-binary`` for the pandas rows.
Each writer replaces the same table; the row count and a checksum read back are compared.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python-tests"))

from services import postgres  # noqa: E402

from ecomkit import _io  # noqa: E402


def score_table(rows: int) -> pa.Table:
    rng = np.random.default_rng(0)
    return pa.table({
        "site": pa.array(rng.choice(["US", "DE", "UK", "JP"], rows)),
        "asin": pa.array([f"B{i:09d}" for i in range(rows)]),
        "date": pa.array(np.datetime64("2024-04-29") - rng.integers(0, 1, rows).astype("m8[D]")),
        "bsr_trend_7d": rng.normal(size=rows),
        "review_velocity_7d": rng.exponential(size=rows),
        "explosive_score": rng.normal(size=rows),
        "rank": rng.integers(1, 500, rows),
    })  # fmt: skip


def checksum(uri: str) -> tuple[int, float]:
    back = _io.read_table(f"{uri}#score_baseline_daily")
    return back.num_rows, round(float(np.sum(back["explosive_score"].to_numpy())), 6)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    table = score_table(args.rows)
    frame = table.to_pandas()
    expected = (args.rows, round(float(np.sum(table["explosive_score"].to_numpy())), 6))
    with postgres.server() as uri:
        import sqlalchemy

        engine = sqlalchemy.create_engine(uri.replace("postgresql://", "postgresql+psycopg2://"))
        writers = {
            "ecomkit (ADBC COPY + swap)": lambda: _io.write_table(
                table, f"{uri}#score_baseline_daily"),
            "pandas to_sql(method='multi', chunksize=10000)": lambda: frame.to_sql(
                "score_baseline_daily", engine, if_exists="replace", index=False,
                method="multi", chunksize=10_000),
            "pandas to_sql() (default inserts)": lambda: frame.to_sql(
                "score_baseline_daily", engine, if_exists="replace", index=False),
        }  # fmt: skip
        times: dict[str, list[float]] = {name: [] for name in writers}
        for _ in range(args.repeat):  # alternated rounds
            for name, write in writers.items():
                started = time.perf_counter()
                write()
                times[name].append(time.perf_counter() - started)
                assert checksum(uri) == expected, name
        engine.dispose()
    base = statistics.median(times["ecomkit (ADBC COPY + swap)"])
    print(f"{args.rows:,} rows × {table.num_columns} columns, median of {args.repeat}:")
    for name, seconds in times.items():
        median = statistics.median(seconds)
        print(f"  {name:50s} {median:7.2f} s  ({median / base:5.1f}× ecomkit)")


if __name__ == "__main__":
    main()
