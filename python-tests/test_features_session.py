"""Sessions: ecomkit.features.sessionize / session_features / SessionState against
straightforward pandas, time zones and DST, and batch == online on random streams."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from conftest import outputs_for_thread_counts, to_kind, to_pandas

import ecomkit
from ecomkit.errors import ColumnNotFoundError, InvalidTypeError, InvalidValueError
from ecomkit.features import SessionState, session_features, sessionize

EVENTS = np.array(["view", "addtocart", "transaction", "remove"])


def random_events(rng: np.random.Generator, n_rows: int, n_users: int) -> pd.DataFrame:
    """Unsorted events, simultaneous events, gaps around the 30-minute timeout, null items."""
    minutes = np.cumsum(rng.choice([0, 1, 5, 29, 30, 31, 120], size=n_rows))
    df = pd.DataFrame(
        {
            "visitorid": rng.integers(0, n_users, size=n_rows),
            "timestamp": pd.Timestamp("2024-03-09 20:00", tz="UTC")
            + pd.to_timedelta(rng.permutation(minutes) * 60 + rng.integers(0, 2, n_rows), "s"),
            "event": rng.choice(EVENTS, size=n_rows, p=[0.7, 0.15, 0.1, 0.05]),
            "itemid": rng.integers(0, 6, size=n_rows).astype(float),
        }
    )
    df.loc[rng.random(n_rows) < 0.1, "itemid"] = np.nan
    return df


def pandas_sessionize(df, user, time, timeout="30min", max_duration=None) -> np.ndarray:
    codes = pd.factorize(df[user])[0]
    order = np.lexsort((np.arange(len(df)), df[time].to_numpy(), codes))
    t = df[time].to_numpy()[order]
    u = codes[order]
    timeout = pd.Timedelta(timeout).to_timedelta64()
    ids = np.empty(len(df), dtype=np.int64)
    current, start = -1, None
    for k in range(len(order)):
        new = k == 0 or u[k] != u[k - 1] or t[k] - t[k - 1] > timeout
        if not new and max_duration is not None:
            new = t[k] - start > pd.Timedelta(max_duration).to_timedelta64()
        if new:
            current += 1
            start = t[k]
        ids[order[k]] = current
    return ids


def pandas_session_table(df, ids, time_zone="UTC") -> pd.DataFrame:
    frame = df.assign(session_id=ids)
    grouped = frame.groupby("session_id", sort=True)
    table = pd.DataFrame(
        {
            "visitorid": grouped["visitorid"].first(),
            "start": grouped["timestamp"].min(),
            "end": grouped["timestamp"].max(),
            "n_events": grouped.size(),
            "n_view": grouped["event"].agg(lambda e: (e == "view").sum()),
            "n_addtocart": grouped["event"].agg(lambda e: (e == "addtocart").sum()),
            "n_transaction": grouped["event"].agg(lambda e: (e == "transaction").sum()),
            "n_items": grouped["itemid"].nunique(),
        }
    )
    table["duration_seconds"] = (table["end"] - table["start"]).dt.total_seconds()
    table["purchased"] = table["n_transaction"] > 0
    local = table["start"].dt.tz_convert(time_zone)
    table["start_hour"] = local.dt.hour
    table["is_weekend"] = local.dt.day_of_week >= 5
    return table.reset_index()


def pandas_item_features(df, ids) -> tuple[np.ndarray, np.ndarray]:
    """Per row: views of its item in its session so far, seconds since the previous view."""
    order = np.lexsort((np.arange(len(df)), df["timestamp"].to_numpy(), ids))
    views = np.zeros(len(df), dtype=np.int64)
    since = np.full(len(df), np.nan)
    seen: dict = {}
    for row in order:
        item = df["itemid"].iloc[row]
        if pd.isna(item):
            continue
        key = (ids[row], item)
        count, last = seen.get(key, (0, None))
        if last is not None:
            since[row] = (df["timestamp"].iloc[row] - last).total_seconds()
        if df["event"].iloc[row] == "view":
            count, last = count + 1, df["timestamp"].iloc[row]
        seen[key] = (count, last)
        views[row] = count
    return views, since


@pytest.mark.parametrize("seed", range(30))
def test_sessionize_matches_pandas(seed):
    rng = np.random.default_rng(seed)
    df = random_events(rng, int(rng.integers(1, 400)), int(rng.integers(1, 15)))
    assert (
        sessionize(df, "visitorid", "timestamp", "30m").tolist()
        == pandas_sessionize(df, "visitorid", "timestamp").tolist()
    )
    got = sessionize(df, "visitorid", "timestamp", "30m", max_duration="2h")
    assert (
        got.tolist() == pandas_sessionize(df, "visitorid", "timestamp", max_duration="2h").tolist()
    )


@pytest.mark.parametrize("seed", range(20))
def test_session_features_match_pandas(seed):
    rng = np.random.default_rng(50 + seed)
    df = random_events(rng, int(rng.integers(1, 300)), int(rng.integers(1, 10)))
    zone = ["UTC", "America/Los_Angeles", "Europe/Berlin", "Asia/Kolkata"][seed % 4]
    sessions, events = session_features(df, time_zone=zone)
    ids = pandas_sessionize(df, "visitorid", "timestamp")
    assert events["session_id"].tolist() == ids.tolist()
    expected = pandas_session_table(df, ids, zone)
    columns = [
        "session_id",
        "visitorid",
        "start",
        "end",
        "n_events",
        "n_view",
        "n_addtocart",
        "n_transaction",
        "n_items",
        "duration_seconds",
        "purchased",
        "start_hour",
        "is_weekend",
    ]
    pd.testing.assert_frame_equal(
        sessions[columns].reset_index(drop=True),
        expected[columns],
        check_dtype=False,
        check_index_type=False,
    )
    views, since = pandas_item_features(df, ids)
    assert events["item_views_in_session"].tolist() == views.tolist()
    np.testing.assert_allclose(events["seconds_since_item_view"], since, rtol=0, atol=1e-9)


@pytest.mark.parametrize("seed", range(30))
def test_online_state_equals_batch(seed):
    """The property: feeding each user's events to SessionState gives the batch features."""
    rng = np.random.default_rng(200 + seed)
    df = random_events(rng, int(rng.integers(1, 250)), int(rng.integers(1, 8)))
    max_duration = None if seed % 2 else "90m"
    sessions, events = session_features(df, max_duration=max_duration)
    order = np.lexsort(
        (np.arange(len(df)), df["timestamp"].to_numpy(), pd.factorize(df["visitorid"])[0])
    )
    states: dict = {}
    first_session: dict = {}
    for row in order:
        user = df["visitorid"].iloc[row]
        state = states.setdefault(user, SessionState("30m", max_duration=max_duration))
        item = df["itemid"].iloc[row]
        got = state.update(
            df["timestamp"].iloc[row], df["event"].iloc[row], None if pd.isna(item) else int(item)
        )
        session_id = events["session_id"].iloc[row]
        first_session.setdefault(user, session_id - got["session_id"])
        assert session_id == first_session[user] + got["session_id"]
        assert got["item_views_in_session"] == events["item_views_in_session"].iloc[row]
        expected_since = events["seconds_since_item_view"].iloc[row]
        assert got["seconds_since_item_view"] == pytest.approx(expected_since, nan_ok=True)
        current = state.current()
        batch = sessions.iloc[session_id]
        if current["end"] == batch["end"].value and current["n_events"] == batch["n_events"]:
            for name in (
                "n_events",
                "n_view",
                "n_addtocart",
                "n_transaction",
                "n_items",
                "purchased",
                "start_hour",
                "is_weekend",
                "duration_seconds",
            ):
                assert current[name] == batch[name], name
            assert current["start"] == batch["start"].value


def test_time_traveling_user():
    """A purchase at 20:00 in Los Angeles is already the next day in UTC."""
    df = pd.DataFrame(
        {
            "visitorid": [1, 1],
            "timestamp": pd.to_datetime(["2024-03-02 03:50", "2024-03-02 04:00"], utc=True),
            "event": ["view", "transaction"],
            "itemid": [9, 9],
        }
    )
    la, _ = session_features(df, time_zone="America/Los_Angeles")
    utc, _ = session_features(df, time_zone="UTC")
    # 2024-03-01 19:50 PST is a Friday evening; in UTC it is Saturday 03:50.
    assert (la["start_hour"][0], bool(la["is_weekend"][0])) == (19, False)
    assert (utc["start_hour"][0], bool(utc["is_weekend"][0])) == (3, True)
    assert bool(la["purchased"][0])


def test_both_dst_transitions():
    # Spring forward (2024-03-10 02:00 PST -> 03:00 PDT): 09:40 and 10:05 UTC are 01:40 and
    # 03:05 local, 25 minutes apart: one session, whatever the wall clock says.
    spring = pd.DataFrame(
        {
            "visitorid": [1, 1],
            "timestamp": pd.to_datetime(["2024-03-10 09:40", "2024-03-10 10:05"], utc=True),
            "event": ["view", "view"],
            "itemid": [1, 2],
        }
    )
    sessions, _ = session_features(spring, time_zone="America/Los_Angeles")
    assert len(sessions) == 1 and sessions["start_hour"][0] == 1
    state = SessionState("30m", time_zone="America/Los_Angeles")
    state.update(pd.Timestamp("2024-03-10 10:05", tz="UTC"), "view", 1)
    assert state.current()["start_hour"] == 3
    # Fall back (2024-11-03 02:00 PDT -> 01:00 PST): 08:50 and 09:10 UTC are 01:50 PDT and
    # 01:10 PST: 20 minutes apart although the local clock went back 40 minutes.
    fall = spring.assign(
        timestamp=pd.to_datetime(["2024-11-03 08:50", "2024-11-03 09:10"], utc=True)
    )
    sessions, events = session_features(fall, time_zone="America/Los_Angeles")
    assert len(sessions) == 1 and sessions["duration_seconds"][0] == 1200.0
    assert sessions["start_hour"][0] == 1
    # An hour in UTC across the change is a new session even when local clocks repeat.
    apart = spring.assign(
        timestamp=pd.to_datetime(["2024-11-03 08:30", "2024-11-03 09:31"], utc=True)
    )
    assert sessionize(apart, "visitorid", "timestamp", "30m").tolist() == [0, 1]


def test_timeout_is_strictly_greater():
    df = pd.DataFrame(
        {
            "u": ["a", "a", "a"],
            "t": pd.to_datetime(
                ["2024-01-01 00:00:00", "2024-01-01 00:30:00", "2024-01-01 01:00:01"]
            ),
        }
    )
    assert sessionize(df, "u", "t", "30m").tolist() == [0, 0, 1]
    assert sessionize(df, "u", "t", "30m", max_duration="45m").tolist() == [0, 0, 1]
    assert sessionize(df, "u", "t", "2h", max_duration="20m").tolist() == [0, 1, 2]


def test_edge_cases():
    one = pd.DataFrame(
        {
            "visitorid": [5],
            "timestamp": pd.to_datetime(["2024-01-01"], utc=True),
            "event": ["view"],
            "itemid": [None],
        }
    )
    sessions, events = session_features(one)
    assert sessions["n_items"].tolist() == [0] and sessions["duration_seconds"].tolist() == [0.0]
    assert events["item_views_in_session"].tolist() == [0]
    empty = one.iloc[:0]
    sessions, events = session_features(empty)
    assert len(sessions) == 0 and len(events) == 0
    no_items, _ = session_features(one, item=None)
    assert no_items["n_items"].tolist() == [0]
    # Users with no purchases; string user ids; categorical events.
    df = random_events(np.random.default_rng(3), 200, 5)
    df["visitorid"] = "user-" + df["visitorid"].astype(str)
    df["event"] = df["event"].astype("category")
    sessions, _ = session_features(df)
    assert sessions["visitorid"].str.startswith("user-").all()
    assert sessions["purchased"].sum() == (sessions["n_transaction"] > 0).sum()


@pytest.mark.parametrize(
    "item_type", ["int64", "int32", "uint64", "float32", "str", "category", "pyarrow_chunks"]
)
def test_item_ids_of_any_type_give_the_same_features(item_type):
    """Integer ids are keyed as they are, floats as whole numbers or by their bits (-0.0 is
    0.0), other types by a code: the item features must not depend on which."""
    df = random_events(np.random.default_rng(11), 400, 4)
    expected_sessions, expected_events = session_features(df)
    items = df["itemid"]
    if item_type in ("int64", "int32", "uint64"):
        frame = pa.Table.from_pandas(df.drop(columns="itemid"), preserve_index=False)
        ids = pa.array(items, from_pandas=True).cast(getattr(pa, item_type)())
        frame = frame.append_column("itemid", ids)
    elif item_type == "float32":
        frame = df.assign(itemid=items.where(items != 0, -0.0).astype("float32"))
    elif item_type == "str":
        frame = df.assign(itemid=items.map(lambda v: None if np.isnan(v) else f"item-{v:g}"))
    elif item_type == "category":
        frame = df.assign(itemid=items.astype("category"))
    else:
        table = pa.Table.from_pandas(df, preserve_index=False)
        frame = pa.concat_tables([table.slice(0, 150), table.slice(150)])
    sessions, events = session_features(frame)
    got_sessions, got_events = to_pandas(sessions), to_pandas(events)
    assert got_sessions["n_items"].tolist() == expected_sessions["n_items"].tolist()
    for column in ("item_views_in_session", "seconds_since_item_view"):
        np.testing.assert_array_equal(got_events[column], expected_events[column], column)


def test_frame_kinds(kind):
    df = random_events(np.random.default_rng(9), 300, 6)
    expected_sessions, expected_events = session_features(df)
    sessions, events = session_features(to_kind(df, kind))
    assert type(sessions) is type(to_kind(df, kind))
    got = to_pandas(sessions)
    for column in ("session_id", "n_events", "n_view", "n_items", "start_hour"):
        assert got[column].tolist() == expected_sessions[column].tolist()
    got_events = to_pandas(events)
    assert got_events["session_id"].tolist() == expected_events["session_id"].tolist()
    ids = sessionize(to_kind(df, kind), "visitorid", "timestamp")
    assert ids.tolist() == expected_events["session_id"].tolist()


def test_polars_string_views_and_pyarrow_dictionaries():
    df = random_events(np.random.default_rng(4), 100, 3)
    expected, _ = session_features(df)
    frame = pl.from_pandas(df).with_columns(pl.col("event").cast(pl.String))
    sessions, _ = session_features(frame)
    assert sessions["n_view"].to_list() == expected["n_view"].tolist()
    table = pa.Table.from_pandas(df, preserve_index=False)
    table = table.set_column(2, "event", table.column("event").dictionary_encode())
    sessions, _ = session_features(table)
    assert sessions.column("n_addtocart").to_pylist() == expected["n_addtocart"].tolist()


def test_errors():
    df = random_events(np.random.default_rng(1), 20, 2)
    with pytest.raises(ColumnNotFoundError, match="user: column 'user'"):
        sessionize(df, "user", "timestamp")
    with pytest.raises(InvalidValueError, match="timeout"):
        sessionize(df, "visitorid", "timestamp", "soon")
    with pytest.raises(InvalidValueError, match="time_zone: unknown IANA time zone"):
        session_features(df, time_zone="Mars/Olympus_Mons")
    with pytest.raises(InvalidTypeError, match=r"event \(column 'itemid'\): expected a string"):
        session_features(df, event="itemid")
    with pytest.raises(InvalidTypeError, match="time"):
        sessionize(df, "visitorid", "itemid")
    state = SessionState()
    state.update(pd.Timestamp("2024-01-02", tz="UTC"), "view", 1)
    with pytest.raises(InvalidValueError, match="time order"):
        state.update(pd.Timestamp("2024-01-01", tz="UTC"), "view", 1)
    with pytest.raises(InvalidTypeError, match="time"):
        state.update("yesterday", "view", 1)
    assert SessionState().current() is None


def vectorized_item_features(df: pd.DataFrame, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """pandas_item_features without the Python loop, for frames of many rows: per (session,
    item) in time order, views so far and the time of the latest earlier view."""
    frame = pd.DataFrame(
        {
            "session": ids,
            "item": df["itemid"].to_numpy(),
            "t": df["timestamp"].dt.tz_convert(None).to_numpy(),
            "view": (df["event"] == "view").to_numpy(),
            "row": np.arange(len(df)),
        }
    ).sort_values(["session", "t", "row"], kind="stable")
    frame = frame[frame["item"].notna()]
    keys = [frame["session"], frame["item"]]
    views = frame["view"].astype(np.int64).groupby(keys).cumsum()
    viewed_at = frame["t"].where(frame["view"])
    previous = viewed_at.groupby(keys).shift(1)
    latest = previous.groupby(keys).ffill()
    out_views = np.zeros(len(df), dtype=np.int64)
    out_since = np.full(len(df), np.nan)
    out_views[frame["row"].to_numpy()] = views.to_numpy()
    out_since[frame["row"].to_numpy()] = (frame["t"] - latest).dt.total_seconds().to_numpy()
    return out_views, out_since


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_many_rows_and_users_against_pandas(unit):
    """Enough rows for every parallel piece (event kinds, layout, gather back into row
    order), shuffled, with simultaneous events and null items; each time unit is read in
    place (times scale on the fly)."""
    rng = np.random.default_rng(len(unit))
    n_rows, n_users = 400_000, 30_000
    minutes = rng.integers(0, 60 * 24 * 20, size=n_rows)
    df = pd.DataFrame(
        {
            "visitorid": rng.integers(0, n_users, size=n_rows) * 7 - 1000,
            "timestamp": (
                pd.Timestamp("2024-03-01", tz="UTC") + pd.to_timedelta(minutes * 60, "s")
            ).astype(f"datetime64[{unit}, UTC]"),
            "event": rng.choice(EVENTS, size=n_rows, p=[0.7, 0.15, 0.1, 0.05]),
            "itemid": rng.integers(0, 40, size=n_rows).astype(float),
        }
    )
    df.loc[rng.random(n_rows) < 0.05, "itemid"] = np.nan
    sessions, events = session_features(df)
    # pandas_sessionize without the loop: the sort, diff > 30 min, cumsum of the benchmark.
    codes = pd.factorize(df["visitorid"])[0]
    times = df["timestamp"].dt.tz_convert(None).to_numpy()
    order = np.lexsort((np.arange(n_rows), times, codes))
    gap = np.diff(times[order]) > np.timedelta64(30, "m")
    new = np.concatenate([[True], gap | (np.diff(codes[order]) != 0)])
    ids = np.empty(n_rows, dtype=np.int64)
    ids[order] = np.cumsum(new) - 1
    assert events["session_id"].tolist() == ids.tolist()
    frame = df.assign(session_id=ids, is_view=df["event"] == "view")
    grouped = frame.groupby("session_id")
    assert sessions["n_events"].tolist() == grouped.size().tolist()
    assert sessions["n_view"].tolist() == grouped["is_view"].sum().tolist()
    assert sessions["n_items"].tolist() == grouped["itemid"].nunique().tolist()
    assert sessions["visitorid"].tolist() == grouped["visitorid"].first().tolist()
    assert (sessions["start"] == grouped["timestamp"].min().to_numpy()).all()
    assert (sessions["end"] == grouped["timestamp"].max().to_numpy()).all()
    views, since = vectorized_item_features(df, ids)
    assert events["item_views_in_session"].tolist() == views.tolist()
    np.testing.assert_allclose(events["seconds_since_item_view"], since, rtol=0, atol=1e-9)


def many_events(rng: np.random.Generator, n_rows: int = 300_000) -> pd.DataFrame:
    """Unsorted events with item ids 0..49, on enough rows for every parallel piece of the
    session kernel (its layout, loop and gather)."""
    return pd.DataFrame(
        {
            "visitorid": rng.integers(0, 20_000, size=n_rows),
            "timestamp": pd.Timestamp("2024-03-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 60 * 24 * 10, size=n_rows) * 60, "s"),
            "event": rng.choice(EVENTS, size=n_rows, p=[0.7, 0.15, 0.1, 0.05]),
            "itemid": rng.integers(0, 50, size=n_rows),
        }
    )


def test_item_ids_past_32_bits_give_the_same_sessions():
    """Events are laid out in 16-byte records when item ids fit in 32 bits (and fewer than
    2^29 rows), else in 24-byte ones: the same events with ids shifted past 2^32, or
    negative, give the same sessions and features as with small ids, on enough rows for
    every parallel piece, shuffled."""
    rng = np.random.default_rng(8)
    df = many_events(rng)
    n_rows = len(df)
    sessions, events = session_features(df)
    for shift in (2**40, -(2**31)):
        wide_sessions, wide_events = session_features(df.assign(itemid=df["itemid"] + shift))
        assert_same_outputs(wide_events, events)
        pd.testing.assert_frame_equal(wide_sessions, sessions)
    # Nulls (a nullable integer column) in both layouts.
    nullable = df["itemid"].astype("Int64").mask(rng.random(n_rows) < 0.05)
    small = session_features(df.assign(itemid=nullable))
    wide = session_features(df.assign(itemid=nullable + 2**40))
    assert_same_outputs(wide[1], small[1])
    pd.testing.assert_frame_equal(wide[0], small[0])


def test_float_item_ids_whole_or_not_give_the_same_sessions():
    """Float ids that are all whole numbers (pandas' integer ids with a missing one) are
    keyed as those integers, and take the compact records when they fit 32 bits; any other
    float column is keyed by the bits. Either way, the same items give the same outputs as
    integer ids, with -0.0 and 0.0 one id, on enough rows for every parallel piece."""
    rng = np.random.default_rng(12)
    df = many_events(rng)
    n_rows = len(df)
    ids = df["itemid"].to_numpy()
    df["itemid"] = pd.array(ids, dtype="Int64")
    missing = rng.random(n_rows) < 0.05
    df.loc[missing, "itemid"] = pd.NA
    expected_sessions, expected_events = session_features(df)
    whole = np.where(missing, np.nan, ids.astype(float))
    for name, floats in {
        "whole numbers": whole,
        "-0.0 for 0": np.where(whole == 0, -0.0, whole),
        "whole, past 32 bits": whole + 2.0**40,
        "whole, negative": whole - 2.0**31,
        "halves": whole + 0.5,
        "one id of 1e19": np.where(whole == 7, 1e19, whole),
        "float32": whole.astype(np.float32),
    }.items():
        sessions, events = session_features(df.assign(itemid=floats))
        pd.testing.assert_frame_equal(sessions, expected_sessions, obj=name)
        assert_same_outputs(events, expected_events)


def assert_same_outputs(events: pd.DataFrame, expected: pd.DataFrame) -> None:
    """The per-row outputs equal (the input columns aside: the item ids differ)."""
    pd.testing.assert_frame_equal(events.drop(columns="itemid"), expected.drop(columns="itemid"))


def test_time_columns_of_any_unit_or_chunking_give_the_same_sessions():
    df = random_events(np.random.default_rng(21), 500, 7)
    expected_sessions, expected_events = session_features(df)
    table = pa.Table.from_pandas(df, preserve_index=False)
    frames = [
        df.assign(timestamp=df["timestamp"].astype("datetime64[ms, UTC]")),
        df.assign(timestamp=df["timestamp"].dt.tz_localize(None).astype("datetime64[s]")),
        pa.concat_tables([table.slice(0, 200), table.slice(200)]),
        table.set_column(1, "timestamp", table.column("timestamp").cast(pa.timestamp("us"))),
    ]
    for frame in frames:
        sessions, events = session_features(frame)
        sessions, events = to_pandas(sessions), to_pandas(events)
        assert events["session_id"].tolist() == expected_events["session_id"].tolist()
        for column in ("n_events", "n_items", "duration_seconds", "start_hour"):
            assert sessions[column].tolist() == expected_sessions[column].tolist(), column
        np.testing.assert_array_equal(
            events["seconds_since_item_view"], expected_events["seconds_since_item_view"]
        )


def test_missing_or_out_of_range_times_are_named_errors():
    df = random_events(np.random.default_rng(2), 30, 3)
    with_nat = df.assign(timestamp=df["timestamp"].where(df.index != 4))
    with pytest.raises(InvalidValueError, match=r"time \(column 'timestamp'\): has a null"):
        session_features(with_nat)
    with pytest.raises(InvalidValueError, match="has a null"):
        sessionize(with_nat, "visitorid", "timestamp")
    far = pa.Table.from_pandas(df, preserve_index=False)
    seconds = pa.array([2**62] + [0] * (len(df) - 1), type=pa.timestamp("s"))
    far = far.set_column(1, "timestamp", seconds)
    with pytest.raises(InvalidValueError, match="outside the range of nanosecond timestamps"):
        session_features(far)


def test_clickstream_is_deterministic_and_sessionizes():
    a = ecomkit.datasets.clickstream(300, 10, seed=5)
    b = ecomkit.datasets.clickstream(300, 10, seed=5)
    pd.testing.assert_frame_equal(a, b)
    assert a["timestamp"].is_monotonic_increasing
    assert (a["transactionid"].notna() == (a["event"] == "transaction")).all()
    sessions, _ = session_features(a)
    assert 1.5 < sessions["n_events"].mean() < 15
    assert 0.0 < sessions["purchased"].mean() < 0.2


SCRIPT = """
import hashlib, ecomkit
clicks = ecomkit.datasets.clickstream(3000, 20, seed=1)
sessions, events = ecomkit.features.session_features(clicks, time_zone="Europe/Berlin")
rolled = ecomkit.features.rolling(ecomkit.datasets.asin_daily(300, 90), "asin", "date",
                                  ["bsr", "price"], ["7d", "30d"], ["mean", "std", "slope"])
digest = hashlib.sha256()
digest.update(sessions.to_csv().encode())
digest.update(events["seconds_since_item_view"].to_numpy().tobytes())
digest.update(rolled.to_csv().encode())
print(digest.hexdigest())
"""


def test_identical_for_any_thread_count():
    assert len(outputs_for_thread_counts(SCRIPT)) == 1


def test_retailrocket_events(shared_data):
    folder = shared_data / "retailrocket"
    if not (folder / "events.csv").is_file():
        pytest.skip(f"RetailRocket events are absent ({folder}/events.csv); see docs/features.md")
    raw = pd.read_csv(folder / "events.csv", nrows=300_000)
    raw["timestamp"] = pd.to_datetime(raw["timestamp"], unit="ms", utc=True)
    ids = sessionize(raw, "visitorid", "timestamp")
    assert ids.tolist() == pandas_sessionize(raw, "visitorid", "timestamp").tolist()
    sessions, _ = session_features(raw)
    assert int(sessions["n_events"].sum()) == len(raw)


def test_sessions_cli_step(tmp_path, capsys):
    from ecomkit.cli import main

    events = ecomkit.datasets.clickstream(200, 5, seed=2)
    events.to_parquet(tmp_path / "events.parquet")
    config = tmp_path / "settings.toml"
    config.write_text('[sessions]\ntimeout = "20m"\ntime_zone = "Asia/Tokyo"\n')
    code = main(
        [
            "sessions",
            str(tmp_path / "events.parquet"),
            "--output",
            str(tmp_path / "sessions.parquet"),
            "--events-output",
            str(tmp_path / "events_out.parquet"),
            "--config",
            str(config),
        ]
    )
    assert code == 0
    written = pd.read_parquet(tmp_path / "sessions.parquet")
    expected, _ = session_features(events, timeout="20m", time_zone="Asia/Tokyo")
    assert written["start_hour"].tolist() == expected["start_hour"].tolist()
    assert "session_id" in pd.read_parquet(tmp_path / "events_out.parquet").columns
    code = main(
        [
            "sessions",
            str(tmp_path / "events.parquet"),
            "--output",
            str(tmp_path / "bad.parquet"),
            "--time-zone",
            "Nowhere/Land",
        ]
    )
    assert code != 0 and not (tmp_path / "bad.parquet").exists()
    assert "time_zone" in capsys.readouterr().err
