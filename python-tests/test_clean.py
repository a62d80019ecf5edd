"""Cleaning a click stream (`monitor.clean_events`) against straightforward pandas: exact
duplicates as `DataFrame.duplicated`, bots as a 60-second rolling count per user, and UTC
times as Python's zoneinfo with `fold=0`, across DST changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from conftest import to_kind, to_pandas

from ecomkit import errors, monitor

START = pd.Timestamp("2024-03-30 20:00")  # the night Europe sets its clocks forward


def click_stream(seed: int, n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "visitorid": rng.integers(0, 25, n),
        "timestamp": START + pd.to_timedelta(rng.integers(0, 8 * 3600, n), unit="s"),
        "event": rng.choice(["view", "addtocart", "transaction"], n, p=[0.8, 0.15, 0.05]),
        "itemid": rng.integers(0, 5, n),
    })  # fmt: skip
    bursts = rng.choice(25, 3, replace=False)  # a few users click many times a minute
    for user in bursts:
        at = START + pd.Timedelta(seconds=int(rng.integers(0, 7 * 3600)))
        burst = pd.DataFrame({
            "visitorid": user, "event": "view", "itemid": rng.integers(0, 5, 15),
            "timestamp": at + pd.to_timedelta(np.sort(rng.integers(0, 50, 15)), unit="s"),
        })  # fmt: skip
        frame = pd.concat([frame, burst], ignore_index=True)
    copies = frame.sample(30, random_state=seed)
    return pd.concat([frame, copies], ignore_index=True).sample(frac=1.0, random_state=seed)


def reference_reasons(frame: pd.DataFrame, limit: float) -> pd.Series:
    """Per row: "duplicate", "bot" or None, written with pandas."""
    frame = frame.reset_index(drop=True)
    reasons = pd.Series([None] * len(frame), dtype=object)
    duplicated = frame.duplicated()
    reasons[duplicated] = "duplicate"
    rest = frame[~duplicated]
    counts = (rest.sort_values("timestamp").set_index("timestamp").groupby("visitorid")["event"]
              .rolling("60s").count())  # fmt: skip
    bots = counts[counts > limit].index.get_level_values("visitorid").unique()
    reasons[~duplicated & frame["visitorid"].isin(bots)] = "bot"
    return reasons


def utc_of_local(local: pd.Timestamp, zone: str) -> pd.Timestamp:
    """Python's own reading of a wall-clock time: zoneinfo with fold=0."""
    aware = local.to_pydatetime().replace(tzinfo=ZoneInfo(zone))
    return pd.Timestamp(aware.astimezone(dt.timezone.utc))


@pytest.mark.parametrize("limit", [3, 7.5, 12])
def test_drops_duplicates_and_bots_as_pandas_finds_them(limit, kind):
    for seed in range(8):
        stream = click_stream(seed)
        cleaned, dropped = monitor.clean_events(to_kind(stream, kind), max_events_per_minute=limit)
        cleaned, dropped = to_pandas(cleaned), to_pandas(dropped)
        expected = reference_reasons(stream, limit)
        assert dropped["row"].tolist() == list(np.flatnonzero(expected.notna()))
        assert dropped["reason"].tolist() == expected.dropna().tolist()
        assert (expected == "bot").any() and (expected == "duplicate").any()
        kept = stream.reset_index(drop=True)[expected.isna()].reset_index(drop=True)
        kept["timestamp"] = kept["timestamp"].dt.tz_localize("UTC")
        pd.testing.assert_frame_equal(cleaned, kept, check_dtype=False)
        assert list(dropped.columns) == ["row", "reason", *stream.columns]


def test_without_a_limit_only_duplicates_go_and_duplicates_can_be_kept():
    stream = click_stream(1)
    cleaned, dropped = monitor.clean_events(stream)
    assert set(dropped["reason"]) == {"duplicate"}
    assert len(dropped) == stream.duplicated().sum()
    cleaned, dropped = monitor.clean_events(stream, duplicates=False)
    assert len(cleaned) == len(stream) and len(dropped) == 0
    # Without duplicate dropping the copies count towards the rate.
    _, dropped = monitor.clean_events(stream, duplicates=False, max_events_per_minute=3)
    assert set(dropped["reason"]) == {"bot"}


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Sydney"])
def test_naive_times_are_local_times_read_as_python_reads_them(zone):
    # Every 10 minutes through both of the year's changes: skipped and repeated hours.
    times = pd.concat([
        pd.Series(pd.date_range("2024-03-09 22:00", "2024-04-08 04:00", freq="10min")),
        pd.Series(pd.date_range("2024-10-05 22:00", "2024-11-04 04:00", freq="10min")),
    ], ignore_index=True)  # fmt: skip
    times = times[(times.dt.hour < 4) | (times.dt.hour >= 22)].reset_index(drop=True)
    stream = pd.DataFrame({"visitorid": np.arange(len(times)), "timestamp": times})
    cleaned, dropped = monitor.clean_events(stream, time_zone=zone)
    assert len(dropped) == 0 and str(cleaned["timestamp"].dt.tz) == "UTC"
    expected = [utc_of_local(t, zone) for t in times]
    assert cleaned["timestamp"].tolist() == expected


def test_zoned_times_keep_their_instants_in_any_unit():
    times = pd.date_range("2024-11-03 00:00", periods=50, freq="7min", tz="America/Los_Angeles")
    for unit in ["s", "ms", "us", "ns"]:
        stamps = pa.array(times).cast(pa.timestamp(unit, times.tz.key))
        table = pa.table({"visitorid": np.arange(50), "timestamp": stamps})
        cleaned, _ = monitor.clean_events(table, time_zone="Asia/Tokyo")  # ignored: zoned
        assert cleaned.schema.field("timestamp").type == pa.timestamp(unit, "UTC")
        assert cleaned["timestamp"].to_pandas().tolist() == list(times.tz_convert("UTC"))


def test_nulls_are_kept_and_not_counted():
    stream = pd.DataFrame({
        "visitorid": pd.array([1, 1, None, None, 2, 2], dtype="Int64"),
        "timestamp": pd.to_datetime(["2024-01-01 10:00:00", None, "2024-01-01 10:00:01",
                                     "2024-01-01 10:00:02", "2024-01-01 10:00:00",
                                     "2024-01-01 10:00:30"]),
        "event": ["view"] * 6,
    })  # fmt: skip
    cleaned, dropped = monitor.clean_events(stream, max_events_per_minute=1)
    assert dropped["row"].tolist() == [4, 5] and set(dropped["reason"]) == {"bot"}
    assert cleaned["visitorid"].tolist()[:2] == [1, 1] and len(cleaned) == 4


def test_empty_and_one_row_frames():
    empty = pd.DataFrame({"visitorid": pd.Series([], dtype="int64"),
                          "timestamp": pd.Series([], dtype="datetime64[ns]")})  # fmt: skip
    cleaned, dropped = monitor.clean_events(empty, max_events_per_minute=1)
    assert len(cleaned) == 0 and len(dropped) == 0
    assert list(dropped.columns) == ["row", "reason", "visitorid", "timestamp"]
    one = pd.DataFrame({"visitorid": [7], "timestamp": [pd.Timestamp("2024-01-01")]})
    cleaned, dropped = monitor.clean_events(one, max_events_per_minute=1)
    assert len(cleaned) == 1 and len(dropped) == 0


def test_bad_input_names_the_argument():
    stream = click_stream(0, 20)
    with pytest.raises(errors.ColumnNotFoundError, match="user"):
        monitor.clean_events(stream, user="user_id")
    with pytest.raises(errors.InvalidTypeError, match="time.*'itemid'.*timestamp"):
        monitor.clean_events(stream, time="itemid")
    for limit in [0, -2.0]:
        with pytest.raises(errors.InvalidValueError, match="max_events_per_minute"):
            monitor.clean_events(stream, max_events_per_minute=limit)
    with pytest.raises(errors.InvalidTypeError, match="max_events_per_minute"):
        monitor.clean_events(stream, max_events_per_minute="10")
    with pytest.raises(errors.InvalidValueError, match="time_zone"):
        monitor.clean_events(stream, time_zone="Mars/Olympus")
    with pytest.raises(errors.InvalidTypeError, match="duplicates"):
        monitor.clean_events(stream, duplicates="yes")


def test_real_retailrocket_events(shared_data):
    events = pd.read_csv(shared_data / "retailrocket" / "events.csv")
    events["timestamp"] = pd.to_datetime(events["timestamp"], unit="ms")
    doubled = pd.concat([events, events.head(100)], ignore_index=True)
    cleaned, dropped = monitor.clean_events(doubled, max_events_per_minute=10)
    expected = reference_reasons(doubled, 10)
    assert dropped["row"].tolist() == list(np.flatnonzero(expected.notna()))
    assert dropped["reason"].tolist() == expected.dropna().tolist()
    assert len(cleaned) + len(dropped) == len(doubled)
