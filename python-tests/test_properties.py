"""Property tests (hypothesis): generated columns of every Arrow kind a user can hand us —
integers at their limits, floats with NaN/±inf/-0.0/subnormals, booleans, decimals, the
null type, the string kinds, dictionaries, timestamps of every unit and several time zones,
dates — in pandas, polars and pyarrow frames, whole, chunked or sliced.

The property, for every public function tried: the call either raises a named
:class:`EcomkitError` (never ``InternalError``, which is a caught panic, and never a bare
Python exception), or returns what the same call returns on the canonical form of the data
(float64 with NaN for missing numbers, Python strings for keys, UTC nanosecond timestamps).
So no container, chunking, offset or dtype may change an answer.

``ECOMKIT_PROPERTY_EXAMPLES`` sets the number of generated cases per function (default 200,
which keeps this file to about 15 s on two cores); examples are derandomized, so a run
is reproducible and CI does not flake.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ecomkit import abtest, features, metrics, score
from ecomkit.errors import EcomkitError, InternalError

EXAMPLES = int(os.environ.get("ECOMKIT_PROPERTY_EXAMPLES", "200"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ---------------------------------------------------------------------------------------
# Columns: (an Arrow array of some type, its canonical form)
# ---------------------------------------------------------------------------------------

INT_TYPES = [
    pa.int8(),
    pa.int16(),
    pa.int32(),
    pa.int64(),
    pa.uint8(),
    pa.uint16(),
    pa.uint32(),
    pa.uint64(),
]
STRING_TYPES = [pa.string(), pa.large_string(), pa.string_view()]
TIME_UNITS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
TIME_ZONES = [None, "UTC", "Europe/Berlin", "America/New_York"]
# Nanosecond instants 2019-2026 (DST changes in both time zones included), most of the time.
NANOS_2019 = 1_546_300_800 * 10**9
NANOS_2026 = 1_798_761_600 * 10**9


def _with_nulls(draw, values: list, allow_nulls: bool) -> list:
    if not allow_nulls or not values or not draw(st.booleans()):
        return values
    mask = draw(st.lists(st.booleans(), min_size=len(values), max_size=len(values)))
    return [None if hide else value for value, hide in zip(values, mask, strict=True)]


@st.composite
def number_columns(draw, n: int, allow_nulls: bool = True):
    """Numbers of a random Arrow type; canonical form float64 with NaN for nulls."""
    kind = draw(st.sampled_from(["int", "float32", "float64", "decimal", "bool", "null"]))
    if kind == "int":
        arrow_type = draw(st.sampled_from(INT_TYPES))
        info = np.iinfo(arrow_type.to_pandas_dtype())
        small = st.integers(-50, 50).filter(lambda v: info.min <= v <= info.max)
        edges = st.sampled_from([int(info.min), int(info.max), 0])
        values = draw(st.lists(st.one_of(small, small, edges), min_size=n, max_size=n))
    elif kind in ("float32", "float64"):
        width = 32 if kind == "float32" else 64
        arrow_type = pa.float32() if width == 32 else pa.float64()
        tame = st.floats(-1e3, 1e3, width=width)
        wild = st.floats(width=width, allow_nan=True, allow_infinity=True)
        special = st.sampled_from([0.0, -0.0, math.nan, math.inf, -math.inf, 5e-324, 1e300])
        if width == 32:
            special = st.sampled_from([0.0, -0.0, math.nan, math.inf, -math.inf, 1e-45])
        values = draw(st.lists(st.one_of(tame, tame, tame, wild, special), min_size=n, max_size=n))
        if width == 32:  # the float32 values the column holds (1e-45 is 1.4e-45 there)
            values = [float(np.float32(v)) for v in values]
    elif kind == "decimal":
        arrow_type = pa.decimal128(12, 3)
        values = draw(
            st.lists(
                st.decimals(-1e6, 1e6, places=3, allow_nan=False, allow_infinity=False),
                min_size=n,
                max_size=n,
            )
        )
    elif kind == "bool":
        arrow_type = pa.bool_()
        values = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    else:
        return pa.nulls(n), np.full(n, np.nan)
    values = _with_nulls(draw, values, allow_nulls)
    array = pa.array(values, type=arrow_type)
    canonical = np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)
    return array, canonical


@st.composite
def key_columns(draw, n: int, allow_nulls: bool = False):
    """Grouping keys of a random Arrow type; canonical form the keys as Python strings."""
    kind = draw(st.sampled_from(["int", "string", "dictionary", "bool"]))
    if kind == "int":
        arrow_type = draw(st.sampled_from(INT_TYPES))
        info = np.iinfo(arrow_type.to_pandas_dtype())
        pool = [v for v in (0, 1, 7, int(info.max), int(info.min)) if info.min <= v <= info.max]
        values = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))
    elif kind == "bool":
        arrow_type = pa.bool_()
        values = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    else:
        arrow_type = draw(st.sampled_from(STRING_TYPES)) if kind == "string" else None
        pool = ["a", "b", "", "é", "007", "7", "日本"]
        values = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))
    values = _with_nulls(draw, values, allow_nulls)
    if kind == "dictionary":
        array = pa.array(values, type=pa.string()).dictionary_encode()
    else:
        array = pa.array(values, type=arrow_type)
    canonical = [None if v is None else str(v) for v in values]
    return array, canonical


class Times(list):
    """Canonical instants: int64 nanoseconds since the epoch."""


@st.composite
def time_columns(draw, n: int, allow_nulls: bool = False, wild: bool = True):
    """Instants as timestamps of a random unit and time zone, or dates; canonical form
    int64 nanoseconds since the epoch (None where missing, or where the instant does not
    fit nanoseconds — there only a named error or a correct answer may come back)."""
    if draw(st.integers(0, 5)) == 0:  # dates
        days = draw(st.lists(st.integers(17_897, 20_819), min_size=n, max_size=n))
        days = _with_nulls(draw, days, allow_nulls)
        array = pa.array(days, type=pa.int32()).cast(pa.date32())
        return array, Times(None if d is None else d * 86_400 * 10**9 for d in days)
    unit = draw(st.sampled_from(list(TIME_UNITS)))
    zone = draw(st.sampled_from(TIME_ZONES))
    factor = TIME_UNITS[unit]
    realistic = st.integers(NANOS_2019 // factor, NANOS_2026 // factor)
    limits = np.iinfo(np.int64)
    extreme = st.sampled_from([limits.min + 1, limits.max, -(2**40), 2**40]) if wild else realistic
    ticks = draw(
        st.lists(
            st.one_of(realistic, realistic, realistic, realistic, extreme), min_size=n, max_size=n
        )
    )
    ticks = _with_nulls(draw, ticks, allow_nulls)
    array = pa.array(ticks, type=pa.int64()).cast(pa.timestamp(unit, tz=zone))
    canonical = Times()
    for tick in ticks:
        nanos = None if tick is None else tick * factor
        canonical.append(nanos if nanos is None or limits.min < nanos <= limits.max else "out")
    return array, canonical


# ---------------------------------------------------------------------------------------
# Containers: the same columns as pandas, polars or pyarrow, whole, chunked or sliced
# ---------------------------------------------------------------------------------------

CONTAINERS = ["pyarrow", "pyarrow-chunked", "pyarrow-sliced", "pandas", "polars"]


def as_container(table: pa.Table, container: str) -> Any:
    """`table` as a frame of the given kind; hypothesis skips a case the library of that kind
    cannot hold (e.g. pandas and a string_view column)."""
    if container == "pyarrow-chunked" and table.num_rows > 1:
        half = table.num_rows // 2
        return pa.concat_tables([table.slice(0, half), table.slice(half)])
    if container == "pyarrow-sliced":
        padded = pa.concat_tables([table.slice(0, 1), table]) if table.num_rows else table
        return padded.combine_chunks().slice(1 if table.num_rows else 0)
    if container in ("pandas", "polars"):
        try:
            return table.to_pandas() if container == "pandas" else pl.from_arrow(table)
        except (pa.ArrowException, pl.exceptions.PolarsError, TypeError, ValueError, OverflowError):
            assume(False)
    return table


def column(table: Any, name: str) -> Any:
    """One column of a frame of any kind, as that library's own array type."""
    return table[name] if not isinstance(table, pa.Table) else table.column(name)


def outcome(call) -> tuple[str, Any]:
    """("ok", result) or ("error", the exception's class name); an exception that is not a
    named ecomkit error, or is an InternalError (a panic), fails the test."""
    try:
        return "ok", call()
    except InternalError:
        raise
    except EcomkitError as error:
        assert str(error), "an error must say what is wrong"
        return "error", type(error).__name__


def same(ours: Any, canonical: Any, what: str) -> None:
    ours = np.asarray(ours, dtype=np.float64)
    canonical = np.asarray(canonical, dtype=np.float64)
    np.testing.assert_allclose(ours, canonical, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=what)


sizes = st.integers(0, 12)
containers = st.sampled_from(CONTAINERS)


# ---------------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------------


@SETTINGS
@given(data=st.data(), n=sizes, container=containers)
def test_robust_zscore_of_any_column_kind(data, n, container):
    values, canonical_values = data.draw(number_columns(n))
    keys, canonical_keys = data.draw(key_columns(n))
    frame = as_container(pa.table({"x": values, "g": keys}), container)
    expected = outcome(
        lambda: score.robust_zscore(canonical_values, np.array(canonical_keys, dtype=object))
    )
    got = outcome(lambda: score.robust_zscore(column(frame, "x"), column(frame, "g")))
    if values.type == pa.bool_() or pa.types.is_null(values.type):
        return  # either a type error or the 0/1 (all-missing) answer; no crash is the point
    agree(got, expected, lambda x, y: same(x, y, f"{values.type} in {container}"), frame)


def table_of(container: str, **columns) -> Any:
    """A frame of the given container kind holding `columns` and a `row` number column."""
    n = len(next(iter(columns.values()))) if columns else 0
    columns["row"] = pa.array(range(n), type=pa.int64())
    return as_container(pa.table(columns), container)


def canonical_table(**columns) -> pa.Table:
    """The canonical frame: float64 numbers, string keys, UTC nanosecond timestamps."""
    arrays = {}
    for name, values in columns.items():
        if isinstance(values, np.ndarray):
            arrays[name] = pa.array(values, type=pa.float64())
        elif isinstance(values, Times):
            arrays[name] = pa.array(values, type=pa.int64()).cast(pa.timestamp("ns", tz="UTC"))
        else:
            arrays[name] = pa.array(values, type=pa.string())
    n = len(next(iter(columns.values()))) if columns else 0
    arrays["row"] = pa.array(range(n), type=pa.int64())
    return pa.table(arrays)


def normalized(frame: Any, names: list[str], keys: tuple[str, ...]) -> dict[str, list]:
    """Columns of an output frame of any kind as plain lists: numbers as floats (NaN for
    missing), timestamps as UTC nanoseconds, keys and anything else as their text."""
    if isinstance(frame, pd.DataFrame):
        table = pa.Table.from_pandas(frame, preserve_index=False)
    elif isinstance(frame, pl.DataFrame):
        table = frame.to_arrow()
    else:
        table = frame
    out = {}
    for name in names:
        array = table.column(name)
        if name in keys:
            out[name] = [None if v is None else str(v) for v in array.to_pylist()]
        elif pa.types.is_timestamp(array.type) or pa.types.is_date(array.type):
            array = array.cast(pa.timestamp("ns")) if pa.types.is_date(array.type) else array
            out[name] = array.cast(pa.int64()).to_pylist()
        elif (
            pa.types.is_integer(array.type)
            or pa.types.is_floating(array.type)
            or pa.types.is_boolean(array.type)
        ):
            out[name] = [math.nan if v is None else float(v) for v in array.to_pylist()]
        else:
            out[name] = [None if v is None else str(v) for v in array.to_pylist()]
    return out


KEYS = ("g", "u", "i", "k", "q")  # the key columns of the generated frames


def assert_same_frames(got: Any, expected: Any, names: list[str], what: str) -> None:
    ours, theirs = normalized(got, names, KEYS), normalized(expected, names, KEYS)
    for name in names:
        a, b = ours[name], theirs[name]
        assert len(a) == len(b), (what, name, a, b)
        if a and isinstance(b[0], float):
            same(a, b, f"{what}: column {name}")
        else:
            assert a == b, (what, name, a, b)


def fits(canonical_times: list) -> bool:
    return "out" not in canonical_times


def has_untyped_column(frame: Any) -> bool:
    """Whether a column of the frame lost its type (Arrow's null type, or a dictionary of
    it), as pandas gives for an empty or all-missing object column: such a column may be
    refused with a named error."""
    if isinstance(frame, pd.DataFrame):
        schema = pa.Schema.from_pandas(frame, preserve_index=False)
    elif isinstance(frame, pl.DataFrame):
        schema = frame.to_arrow().schema
    else:
        schema = frame.schema
    return any(
        pa.types.is_null(field.type)
        or (pa.types.is_dictionary(field.type) and pa.types.is_null(field.type.value_type))
        for field in schema
    )


def agree(got: tuple, expected: tuple, check, frame: Any = None, may_refuse: bool = False):
    """Both calls failed with a named error, or both succeeded and `check` passes. The call on
    the generated `frame` may also fail with a named error where the frame has an untyped
    column, or with `may_refuse`."""
    if got[0] == "error" and (may_refuse or (frame is not None and has_untyped_column(frame))):
        return
    assert got[0] == expected[0], (got, expected)
    if got[0] == "ok":
        check(got[1], expected[1])


@SETTINGS
@given(data=st.data(), n=sizes, container=containers)
def test_explosive_score_of_any_column_kind(data, n, container):
    (a, ca), (b, cb) = data.draw(number_columns(n)), data.draw(number_columns(n))
    keys, ckeys = data.draw(key_columns(n))
    assume(not any(pa.types.is_boolean(c.type) or pa.types.is_null(c.type) for c in (a, b)))
    frame = table_of(container, a=a, b=b, g=keys)
    weights = {"a": 1.0, "b": -0.5}
    got = outcome(lambda: score.explosive_score(frame, weights, by="g", top_n=3))
    expected = outcome(
        lambda: score.explosive_score(
            canonical_table(a=ca, b=cb, g=ckeys), weights, by="g", top_n=3
        )
    )
    names = ["row", "z_a", "z_b", "explosive_score", "rank"]
    agree(got, expected, lambda x, y: assert_same_frames(x, y, names, container), frame)


@SETTINGS
@given(data=st.data(), n=sizes, container=containers, k=st.sampled_from([None, 1, 3, [1, 5]]))
def test_ranking_metrics_of_any_column_kind(data, n, container, k):
    labels, clabels = data.draw(number_columns(n, allow_nulls=False))
    scores, cscores = data.draw(number_columns(n))
    groups, cgroups = data.draw(key_columns(n))
    assume(not pa.types.is_null(labels.type))
    frame = table_of(container, y=labels, s=scores, q=groups)
    got = outcome(
        lambda: metrics.ranking_metrics(
            column(frame, "y"), column(frame, "s"), column(frame, "q"), k
        )
    )
    expected = outcome(
        lambda: metrics.ranking_metrics(clabels, cscores, np.array(cgroups, dtype=object), k)
    )

    def check(ours, theirs):
        assert ours.keys() == theirs.keys()
        for name in ours:
            if isinstance(ours[name], dict):
                same(list(ours[name].values()), list(theirs[name].values()), name)
            else:
                same(ours[name], theirs[name], name)

    agree(got, expected, check, frame)


@SETTINGS
@given(
    data=st.data(),
    n=sizes,
    container=containers,
    stats=st.sampled_from([["mean", "std"], ["sum", "count", "min", "max"]]),
)
def test_rolling_of_any_column_kind(data, n, container, stats):
    keys, ckeys = data.draw(key_columns(n))
    times, ctimes = data.draw(time_columns(n))
    values, cvalues = data.draw(number_columns(n))
    frame = table_of(container, g=keys, t=times, x=values)

    def call(f):
        return features.rolling(f, "g", "t", "x", windows=["1h", "7d"], stats=stats)

    got = outcome(lambda: call(frame))
    if not fits(ctimes) or pa.types.is_boolean(values.type) or pa.types.is_null(values.type):
        return  # no canonical nanosecond form: a named error or an answer, never a crash
    expected = outcome(lambda: call(canonical_table(g=ckeys, t=ctimes, x=cvalues)))
    names = ["row"] + [f"x_{stat}_{w}" for w in ("1h", "7d") for stat in stats]
    agree(got, expected, lambda x, y: assert_same_frames(x, y, names, container), frame)


@SETTINGS
@given(data=st.data(), n=sizes, container=containers, max_duration=st.sampled_from([None, "2h"]))
def test_sessionize_of_any_column_kind(data, n, container, max_duration):
    users, cusers = data.draw(key_columns(n))
    times, ctimes = data.draw(time_columns(n, allow_nulls=True))
    frame = table_of(container, u=users, t=times)
    got = outcome(lambda: features.sessionize(frame, "u", "t", "30m", max_duration=max_duration))
    if not fits(ctimes):
        return
    expected = outcome(
        lambda: features.sessionize(
            canonical_table(u=cusers, t=ctimes), "u", "t", "30m", max_duration=max_duration
        )
    )
    agree(got, expected, lambda x, y: np.testing.assert_array_equal(x, y), frame)


@SETTINGS
@given(data=st.data(), n=sizes, container=containers, grouped=st.booleans())
def test_temporal_split_of_any_column_kind(data, n, container, grouped):
    times, ctimes = data.draw(time_columns(n, allow_nulls=True))
    users, cusers = data.draw(key_columns(n))
    frame = table_of(container, t=times, u=users)
    group = "u" if grouped else None
    got = outcome(lambda: features.temporal_split(frame, "t", (0.5, 0.3, 0.2), group=group))
    if not fits(ctimes):
        return
    expected = outcome(
        lambda: features.temporal_split(
            canonical_table(t=ctimes, u=cusers), "t", (0.5, 0.3, 0.2), group=group
        )
    )

    def check(ours, theirs):
        for part, reference in zip(ours, theirs, strict=True):
            assert_same_frames(part, reference, ["row"], container)

    agree(got, expected, check, frame)


EVENTS = ["view", "addtocart", "transaction", "other"]


@st.composite
def event_columns(draw, n: int):
    values = draw(st.lists(st.sampled_from(EVENTS), min_size=n, max_size=n))
    values = _with_nulls(draw, values, True)
    kind = draw(st.sampled_from(["string", "large_string", "string_view", "dictionary"]))
    if kind == "dictionary":
        return pa.array(values, type=pa.string()).dictionary_encode(), values
    return pa.array(values, type=getattr(pa, kind)()), values


def click_stream(data, n: int) -> tuple:
    """Users, items, times and events, each as (generated column, canonical form)."""
    (users, cusers), (items, citems) = data.draw(key_columns(n)), data.draw(key_columns(n))
    times, ctimes = data.draw(time_columns(n))
    events, cevents = data.draw(event_columns(n))
    return users, cusers, items, citems, times, ctimes, events, cevents


@SETTINGS
@given(data=st.data(), n=sizes, container=containers)
def test_interaction_scores_of_any_column_kind(data, n, container):
    users, cusers, items, citems, times, ctimes, events, cevents = click_stream(data, n)
    frame = table_of(container, u=users, i=items, t=times, e=events)

    def call(f):
        return features.interaction_scores(
            f, user="u", item="i", time="t", event="e", as_of=dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
        )

    got = outcome(lambda: call(frame))
    if not fits(ctimes):
        return
    expected = outcome(lambda: call(canonical_table(u=cusers, i=citems, t=ctimes, e=cevents)))
    names = ["u", "i", "score", "n_events", "last_time"]
    agree(got, expected, lambda x, y: assert_same_frames(x, y, names, container), frame)


@SETTINGS
@given(data=st.data(), n=sizes, container=containers)
def test_session_and_user_features_of_any_column_kind(data, n, container):
    users, cusers, items, citems, times, ctimes, events, cevents = click_stream(data, n)
    prices, cprices = data.draw(number_columns(n))
    assume(not pa.types.is_boolean(prices.type))
    frame = table_of(container, u=users, i=items, t=times, e=events, p=prices)
    canonical = (
        None
        if not fits(ctimes)
        else canonical_table(u=cusers, i=citems, t=ctimes, e=cevents, p=cprices)
    )

    def sessions(f):
        return features.session_features(
            f, user="u", time="t", event="e", item="i", time_zone="Europe/Berlin"
        ).sessions

    got = outcome(lambda: sessions(frame))
    if canonical is not None:
        names = [
            "session_id",
            "u",
            "start",
            "end",
            "duration_seconds",
            "n_events",
            "n_view",
            "n_items",
            "purchased",
            "start_hour",
            "is_weekend",
        ]
        agree(
            got,
            outcome(lambda: sessions(canonical)),
            lambda x, y: assert_same_frames(x, y, names, container),
            frame,
        )

    def as_of(keys):
        times = pa.array([NANOS_2026] * len(keys), pa.int64()).cast(pa.timestamp("ns", tz="UTC"))
        return pa.table({"u": keys, "t": times})

    # Point-in-time features of users, then of items, at a few of the generated keys.
    for name, call, keys, canonical_keys in (
        ("u", features.user_features, users, cusers),
        ("i", features.item_features, items, citems),
    ):

        def point_in_time(f, queries, name=name, call=call):
            queries = queries.rename_columns([name, "t"])
            columns = {"user" if name == "u" else "item": name}
            return call(f, queries, **columns, time="t", event="e", value="p", category=None)

        got = outcome(lambda keys=keys: point_in_time(frame, as_of(keys[:3])))
        if canonical is not None:
            queries = as_of(pa.array(canonical_keys[:3], pa.string()))
            expected = outcome(lambda queries=queries: point_in_time(canonical, queries))
            agree(
                got,
                expected,
                lambda x, y: assert_same_frames(x, y, list(y.column_names), container),
                frame,
            )


@SETTINGS
@given(data=st.data(), n=sizes, container=containers, version=st.sampled_from([1, 2]))
def test_hash_and_encoder_of_any_key_kind(data, n, container, version):
    keys, ckeys = data.draw(key_columns(n, allow_nulls=True))
    frame = table_of(container, k=keys)
    got = outcome(lambda: abtest.hash("seed", column(frame, "k"), version))
    expected = outcome(lambda: abtest.hash("seed", np.array(ckeys, dtype=object), version))
    # pandas holds integers with a missing value as floats, which are refused as ids.
    floats = container == "pandas" and pa.types.is_integer(keys.type) and keys.null_count > 0
    if not pa.types.is_boolean(keys.type):
        agree(got, expected, lambda x, y: same(x, y, "hash"), frame, may_refuse=floats)
    got = outcome(lambda: features.CategoricalEncoder().fit_transform(column(frame, "k")))
    expected = outcome(lambda: features.CategoricalEncoder().fit_transform(ckeys))
    if not pa.types.is_boolean(keys.type):
        agree(got, expected, lambda x, y: np.testing.assert_array_equal(x, y), frame)


# ---------------------------------------------------------------------------------------
# LightGBM model text: mutated models load and predict, or are a named error
# ---------------------------------------------------------------------------------------

MUTATION_SCRIPT = """
import sys
import numpy as np
from hypothesis import given, settings, strategies as st
from ecomkit import rank
from ecomkit.errors import EcomkitError, InternalError

text = open(sys.argv[1]).read()
lines = text.split("\\n")
tokens = ["", "-1", "0", "1e308", "-1e308", "nan", "inf", "99999999999", "4294967296", "abc",
          "=", "\\x00", "-", "1 2", "Tree=0", "end of trees", "[", "0.5:1"]
edits = st.tuples(st.sampled_from(["delete", "repeat", "value", "number", "cut", "swap"]),
                  st.integers(0, len(lines) - 1), st.integers(0, len(lines) - 1),
                  st.sampled_from(tokens))

def mutate(edits):
    out = list(lines)
    for kind, i, j, token in edits:
        i, j = i % max(len(out), 1), j % max(len(out), 1)
        if not out:
            break
        if kind == "delete":
            del out[i]
        elif kind == "repeat":
            out.insert(j, out[i])
        elif kind == "swap":
            out[i], out[j] = out[j], out[i]
        elif kind == "value" and "=" in out[i]:
            out[i] = out[i].split("=", 1)[0] + "=" + token
        elif kind == "number":
            words = out[i].split(" ")
            words[j % len(words)] = token
            out[i] = " ".join(words)
        elif kind == "cut":
            return "\\n".join(out)[: (i * 97 + j) % max(len(text), 1)]
    return "\\n".join(out)

outcomes = {"loaded": 0, "refused": 0}

@settings(max_examples=int(sys.argv[2]), deadline=None, derandomize=True, database=None)
@given(st.lists(edits, min_size=1, max_size=4))
def mutated_models(edits):
    try:
        model = rank.Model(mutate(edits))
        model.predict(np.zeros((3, 4)))
        model.predict_contrib(np.zeros((3, 4)))
        model.feature_importance("gain")
        outcomes["loaded"] += 1
    except InternalError:
        raise
    except EcomkitError as error:
        assert str(error)
        outcomes["refused"] += 1

mutated_models()
print(outcomes["loaded"], outcomes["refused"])
"""


def test_mutated_lightgbm_models_load_or_are_a_named_error(tmp_path):
    import subprocess
    import sys

    from ecomkit import rank

    x = np.random.default_rng(0).normal(size=(300, 4))
    model = rank.train_binary(x, (x[:, 0] > 0).astype(float), num_boost_round=3, verbose=False)
    path = tmp_path / "model.txt"
    path.write_text(model.model_text)
    done = subprocess.run(
        [sys.executable, "-c", MUTATION_SCRIPT, str(path), str(EXAMPLES * 2)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loaded, refused = map(int, done.stdout.split()[-2:])
    assert loaded + refused >= EXAMPLES  # the script ran its cases to the end
