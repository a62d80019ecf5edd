"""Frames in and out: pandas, polars, pyarrow and generic Arrow objects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from conftest import to_kind

from ecomkit.score import explosive_score, group_stats

DATA = pd.DataFrame(
    {
        "site": ["US", "US", "US", "DE", "DE"],
        "asin": ["A1", "A2", "A3", "A4", "A5"],
        "bsr": [10.0, 200.0, np.nan, 5.0, 50.0],
        "reviews": [100, 3, 7, 40, 2],
    }
)


def test_output_is_the_input_kind_with_new_columns(kind):
    frame = to_kind(DATA, kind)
    out = explosive_score(frame, {"bsr": -1.0, "reviews": 0.5}, "site")
    assert type(out) is type(frame)
    names = list(out.columns) if kind != "pyarrow" else out.column_names
    assert names == list(DATA.columns) + ["z_bsr", "z_reviews", "explosive_score", "rank"]


def test_missing_z_is_the_kinds_own_missing_value(kind):
    out = explosive_score(to_kind(DATA, kind), {"bsr": -1.0}, "site")
    if kind == "pandas":
        assert np.isnan(out["z_bsr"].iloc[2])
    elif kind == "polars":
        assert out["z_bsr"][2] is None
    else:
        assert out["z_bsr"][2].as_py() is None


def test_group_stats_come_back_in_the_input_kind(kind):
    stats = group_stats(to_kind(DATA, kind), ["bsr", "reviews"], "site")
    assert type(stats).__module__.split(".")[0] == {"pandas": "pandas", "polars": "polars"}.get(
        kind, "pyarrow"
    )
    assert len(stats) == 4


def test_pandas_index_is_kept_and_input_untouched():
    df = DATA.set_index(pd.Index([10, 20, 30, 40, 50], name="row"))
    before = df.copy()
    out = explosive_score(df, {"bsr": -1.0}, "site", top_n=1)
    assert out.index.tolist() == [10, 40]
    pd.testing.assert_frame_equal(df, before)


def test_existing_output_columns_are_replaced(kind):
    df = DATA.assign(rank=0)
    out = explosive_score(to_kind(df, kind), {"bsr": -1.0}, "site")
    names = list(out.columns) if kind != "pyarrow" else out.column_names
    assert names.count("rank") == 1
    assert list(out["rank"]) != [0] * 5


def test_only_needed_columns_are_read():
    # An object column pyarrow cannot convert must not matter when it is not used.
    df = DATA.assign(blob=[object(), {}, [], set(), 1])
    out = explosive_score(df, {"bsr": -1.0}, "site")
    assert len(out) == 5


def test_chunked_and_generic_arrow_inputs():
    table = pa.Table.from_pandas(DATA, preserve_index=False)
    chunked = pa.concat_tables([table.slice(0, 2), table.slice(2)])
    assert chunked["bsr"].num_chunks == 2
    one = explosive_score(table, {"bsr": -1.0}, "site")
    two = explosive_score(chunked, {"bsr": -1.0}, "site")
    assert one.combine_chunks().equals(two.combine_chunks())

    class Stream:  # any object with __arrow_c_stream__, as duckdb relations have
        def __arrow_c_stream__(self, requested_schema=None):
            return table.__arrow_c_stream__(requested_schema)

    out = explosive_score(Stream(), {"bsr": -1.0}, "site")
    assert isinstance(out, pa.Table)
    assert out["rank"].equals(one["rank"])
    batch = explosive_score(table.to_batches()[0], {"bsr": -1.0}, "site")
    assert batch["rank"].equals(one["rank"])


@pytest.mark.parametrize(
    "column",
    [
        pa.array([1, 2, 3, 4, 5], type=pa.int32()),
        pa.array([1, 2, 3, 4, 5], type=pa.uint8()),
        pa.array([1.0, 2.0, None, 4.0, 5.0], type=pa.float32()),
        pa.array([1, 2, 3, 4, 5], type=pa.decimal128(10, 2)),
        pa.array([None] * 5, type=pa.null()),
    ],
    ids=str,
)
def test_numeric_feature_types(column):
    table = pa.table({"g": ["a"] * 5, "x": column})
    out = explosive_score(table, {"x": 1.0}, "g")
    expected = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    med = np.nanmedian(expected) if not np.isnan(expected).all() else np.nan
    got = out["z_x"].to_numpy(zero_copy_only=False)
    assert np.array_equal(np.isnan(got), np.isnan(expected))
    if not np.isnan(med):
        assert np.all(np.sign(got[~np.isnan(got)]) == np.sign(expected[~np.isnan(expected)] - med))


@pytest.mark.parametrize(
    "key",
    [
        pa.array([1, 1, 2, 2, 2]),
        pa.array([True, True, False, False, False]),
        pa.array([1.5, 1.5, -0.0, 0.0, 0.0]),
        pa.array([18000, 18000, 18001, 18001, 18001], type=pa.date32()),
        pa.array([1, 1, 2, 2, 2], type=pa.timestamp("us", tz="UTC")),
    ],
    ids=str,
)
def test_key_types(key):
    table = pa.table({"g": key, "x": [1.0, 3.0, 1.0, 2.0, 9.0]})
    out = explosive_score(table, {"x": 1.0}, "g")
    assert out["rank"].to_pylist() == [2, 1, 3, 2, 1]


def test_polars_categorical_and_string_view_keys():
    df = pl.DataFrame({"g": ["a", "a", "b", "b", "b"], "x": [1.0, 3.0, 1.0, 2.0, 9.0]})
    cat = df.with_columns(pl.col("g").cast(pl.Categorical))
    assert explosive_score(cat, {"x": 1.0}, "g")["rank"].to_list() == [2, 1, 3, 2, 1]
    assert explosive_score(df, {"x": 1.0}, "g")["rank"].to_list() == [2, 1, 3, 2, 1]


def test_categoricals_with_nulls_group_like_their_strings():
    """pandas categoricals and polars Categorical / Enum reach Rust over their own codes;
    nulls and unused categories must not change the groups or the result kind."""
    rng = np.random.default_rng(3)
    n = 3_000
    labels = np.array(["US", "DE", "FR", None], dtype=object)[rng.integers(0, 4, n)]
    x = rng.normal(size=n)
    expected = explosive_score(pa.table({"g": labels, "x": x}), {"x": 1.0}, "g")
    expected = expected["rank"].to_pylist()
    frames = {
        "pandas": pd.DataFrame(
            {"g": pd.Categorical(labels, categories=["unused", "FR", "DE", "US"]), "x": x}
        ),
        "polars Categorical": pl.DataFrame(
            {"g": pl.Series(labels.tolist(), dtype=pl.Categorical), "x": x}
        ),
        "polars Enum": pl.DataFrame(
            {"g": pl.Series(labels.tolist(), dtype=pl.Enum(["FR", "unused", "US", "DE"])), "x": x}
        ),
    }
    for label, frame in frames.items():
        out = explosive_score(frame, {"x": 1.0}, "g")
        assert type(out) is type(frame), label
        assert list(out["rank"]) == expected, label
        assert out["g"].to_list() == frame["g"].to_list(), label
