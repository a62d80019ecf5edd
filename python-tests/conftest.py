"""Shared fixtures: the shared data folder and frame-kind converters."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def to_kind(df: pd.DataFrame, kind: str):
    """The same data as a pandas, polars or pyarrow frame."""
    if kind == "pandas":
        return df
    table = pa.Table.from_pandas(df, preserve_index=False)
    return pl.from_arrow(table) if kind == "polars" else table


def to_pandas(frame) -> pd.DataFrame:
    if isinstance(frame, pd.DataFrame):
        return frame
    if isinstance(frame, pl.DataFrame):
        return frame.to_pandas()
    return frame.to_pandas()


@pytest.fixture(params=["pandas", "polars", "pyarrow"])
def kind(request) -> str:
    return request.param


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder {SHARED_DATA} is absent")
    return SHARED_DATA


def outputs_for_thread_counts(script: str, threads: tuple[str, ...] = ("1", "2", "5")) -> set:
    """What `script` prints, run in a fresh interpreter with each RAYON_NUM_THREADS: a set of
    one element when the results do not depend on the number of threads."""
    outputs = set()
    for count in threads:
        env = dict(os.environ, RAYON_NUM_THREADS=count)
        result = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        outputs.add(result.stdout.strip())
    return outputs


@pytest.fixture(scope="session")
def postgres_uri():
    """The URI of a real PostgreSQL server started for this test session (stopped at the
    end); skipped where PostgreSQL is not installed (the Makefile installs it)."""
    from services import postgres

    if postgres.binaries() is None:
        pytest.skip("PostgreSQL is not installed here (make test installs it)")
    with postgres.server() as uri:
        yield uri
