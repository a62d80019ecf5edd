"""ecomkit.datasets: deterministic, realistic, in every backend."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from ecomkit.datasets import asin_daily, exploding_asins
from ecomkit.errors import InvalidTypeError, InvalidValueError


def test_columns_types_and_order():
    df = asin_daily(200, 60, seed=3)
    assert list(df.columns) == [
        "site",
        "category",
        "asin",
        "date",
        "bsr",
        "price",
        "review_count",
        "rating",
    ]
    assert df["date"].dtype.kind == "M"
    assert df["bsr"].dtype == np.int64 and df["review_count"].dtype == np.int64
    assert df.sort_values(["asin", "date"]).index.equals(df.index)
    assert df["asin"].str.match(r"^B0[0-9A-Z]{8}$").all()
    assert df.groupby("asin")["site"].nunique().max() == 1
    assert (df["rating"].between(1, 5)).all() and (df["bsr"] >= 1).all()


def test_same_seed_same_data_other_seed_other_data():
    pd.testing.assert_frame_equal(asin_daily(50, 30, seed=9), asin_daily(50, 30, seed=9))
    assert not asin_daily(50, 30, seed=9).equals(asin_daily(50, 30, seed=10))


def test_products_do_not_change_when_more_are_asked_for():
    small = asin_daily(20, 30, seed=1)
    large = asin_daily(40, 30, seed=1)
    pd.testing.assert_frame_equal(small, large.iloc[: len(small)])


def test_missing_days_and_monotone_reviews():
    df = asin_daily(300, 90, seed=0)
    per_asin = df.groupby("asin")["date"].agg(["count", "min", "max"])
    span = (per_asin["max"] - per_asin["min"]).dt.days + 1
    assert (per_asin["count"] < span).mean() > 0.5  # most products miss some days
    assert (df.groupby("asin")["review_count"].diff().dropna() >= 0).all()


def test_exploding_products_fall_in_bsr_and_gain_reviews():
    n_asins, n_days = 2000, 120
    truth = exploding_asins(n_asins, n_days, seed=0)
    assert 10 < len(truth) < 100
    df = asin_daily(n_asins, n_days, seed=0)
    last = df.groupby("asin").tail(1).set_index("asin")
    exploded = last.loc[list(truth)]
    others = last.drop(index=list(truth))
    assert exploded["bsr"].median() < others["bsr"].median() / 10
    assert all(n_days * 3 // 4 <= day < n_days for day in truth.values())


@pytest.mark.parametrize("backend", ["polars", "pyarrow"])
def test_backends_hold_the_same_data(backend):
    frame = asin_daily(30, 20, seed=2, backend=backend)
    assert isinstance(frame, pl.DataFrame if backend == "polars" else pa.Table)
    expected = asin_daily(30, 20, seed=2)
    got = frame.to_pandas()
    assert got["bsr"].tolist() == expected["bsr"].tolist()
    assert got["asin"].tolist() == expected["asin"].tolist()


def test_bad_arguments():
    with pytest.raises(InvalidValueError, match="n_asins: expected an integer >= 1"):
        asin_daily(0, 10)
    with pytest.raises(InvalidTypeError, match="n_days: expected an integer"):
        asin_daily(10, "10")
    with pytest.raises(InvalidValueError, match="start: expected an ISO date"):
        asin_daily(1, 1, start="yesterday")
    with pytest.raises(InvalidValueError, match="backend: expected one of"):
        asin_daily(1, 1, backend="spark")
