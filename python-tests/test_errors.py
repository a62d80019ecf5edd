"""Bad input raises a named ValueError / TypeError; a panic becomes an exception."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from conftest import to_kind

from ecomkit import _ecomkit, features
from ecomkit.errors import (
    ColumnNotFoundError,
    EcomkitError,
    EmptyInputError,
    InternalError,
    InvalidTypeError,
    InvalidValueError,
    LengthMismatchError,
)
from ecomkit.score import explosive_score, group_stats, robust_zscore

DF = pd.DataFrame({"site": ["US", "DE"], "bsr": [1.0, 2.0], "name": ["a", "b"]})


def test_hierarchy():
    assert issubclass(ColumnNotFoundError, ValueError)
    assert issubclass(InvalidTypeError, TypeError)
    assert issubclass(LengthMismatchError, ValueError)
    for cls in (ColumnNotFoundError, InvalidTypeError, LengthMismatchError, InternalError):
        assert issubclass(cls, EcomkitError)


def test_unknown_by_column_names_argument_and_columns(kind):
    with pytest.raises(ColumnNotFoundError, match=r"by: column 'shop' not found; the frame has"):
        explosive_score(to_kind(DF, kind), {"bsr": 1.0}, "shop")


def test_weight_for_missing_column(kind):
    with pytest.raises(ColumnNotFoundError, match=r"weights: column 'price' not found"):
        explosive_score(to_kind(DF, kind), {"price": 1.0}, "site")


def test_non_numeric_feature_column(kind):
    with pytest.raises(InvalidTypeError, match=r"weights \(column 'name'\): expected a numeric"):
        explosive_score(to_kind(DF, kind), {"name": 1.0}, "site")


def test_mismatched_lengths():
    with pytest.raises(LengthMismatchError, match=r"groups: expected length 3"):
        robust_zscore(np.ones(3), ["a", "b"])


def test_empty_frame(kind):
    with pytest.raises(EmptyInputError, match=r"frame: is empty"):
        explosive_score(to_kind(DF.iloc[:0], kind), {"bsr": 1.0}, "site")
    with pytest.raises(EmptyInputError):
        group_stats(to_kind(DF.iloc[:0], kind), "bsr", "site")


def test_empty_values_give_an_empty_array():
    assert robust_zscore(np.array([])).shape == (0,)


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        (dict(weights=["bsr"]), InvalidTypeError, "weights: expected a mapping"),
        (dict(weights={}), InvalidValueError, "weights: expected at least one feature"),
        (
            dict(weights={"bsr": float("nan")}),
            InvalidValueError,
            r"weights\['bsr'\]: expected a finite",
        ),
        (dict(weights={"bsr": "1"}), InvalidTypeError, r"weights\['bsr'\]: expected a number"),
        (dict(top_n=0), InvalidValueError, "top_n: expected an integer >= 1"),
        (dict(top_n=2.5), InvalidTypeError, "top_n: expected an integer"),
        (dict(clip=-1), InvalidValueError, "clip: expected a positive number"),
        (dict(zero_mad="nan"), InvalidValueError, "zero_mad: expected one of"),
        (dict(by=3), InvalidTypeError, "by: expected a column name"),
    ],
)
def test_bad_parameters(kwargs, error, pattern):
    args = dict(weights={"bsr": 1.0}, by="site") | kwargs
    with pytest.raises(error, match=pattern):
        explosive_score(DF, **args)


def test_bad_frame_and_values():
    with pytest.raises(InvalidTypeError, match="frame: expected a pandas, polars or pyarrow"):
        explosive_score({"bsr": [1.0]}, {"bsr": 1.0})
    with pytest.raises(InvalidTypeError, match="values: expected numeric values"):
        robust_zscore(np.array(["a", "b"]))
    with pytest.raises(InvalidValueError, match="values: expected a 1-D array"):
        robust_zscore(np.ones((2, 2)))
    with pytest.raises(InvalidTypeError, match="groups: expected an array of group keys"):
        robust_zscore(np.ones(2), [object(), object()])


def test_rust_side_checks_name_the_argument():
    # Straight to the compiled core, past the Python checks.
    with pytest.raises(InvalidValueError, match="clip: must be a positive number"):
        _ecomkit.robust_zscore(np.ones(2), None, clip=0.0)
    with pytest.raises(InvalidValueError, match="zero_mad: expected 'mean_ad' or 'zero'"):
        _ecomkit.robust_zscore(np.ones(2), None, zero_mad="x")


def test_errors_carry_the_argument_and_column_at_fault():
    frame = pa.table({"u": ["a"], "t": pa.array([None], pa.timestamp("s"))})
    with pytest.raises(InvalidValueError) as caught:
        features.sessionize(frame, "u", "t")
    assert (caught.value.argument, caught.value.column) == ("time", "t")
    with pytest.raises(InvalidValueError) as caught:
        _ecomkit.robust_zscore(np.ones(2), None, clip=0.0)
    assert (caught.value.argument, caught.value.column) == ("clip", None)
    with pytest.raises(InvalidValueError) as caught:  # the kernel's own check, not Python's
        features.rolling(pa.table({"g": [1], "t": pa.array([0], pa.timestamp("s")),
                                   "x": [1.0]}), "g", "t", "x", stats=["median"])  # fmt: skip
    assert caught.value.argument == "stats" and "got 'median'" in str(caught.value)
    assert features.STATS[:3] == ("mean", "sum", "std")


def test_panic_becomes_an_exception_not_an_abort():
    with pytest.raises(InternalError, match="deliberate panic for tests"):
        _ecomkit._panic_for_tests()
    # The interpreter is still fine afterwards.
    assert robust_zscore(np.array([1.0, 2.0, 3.0]))[1] == 0.0
