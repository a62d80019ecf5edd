"""ecomkit.features.rolling and asin_daily_features against straightforward pandas / numpy.

Tolerance: 1e-9 relative (plus 1e-9 × the column's scale absolute) for the pandas
statistics; 1e-8 for the slope against numpy's least squares.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from conftest import to_kind, to_pandas

import ecomkit
from ecomkit.errors import ColumnNotFoundError, InvalidTypeError, InvalidValueError
from ecomkit.features import asin_daily_features, rolling

PANDAS_STATS = ("mean", "sum", "std", "min", "max", "count")
DAY = pd.Timedelta("1D")


def random_frame(rng: np.random.Generator, n_rows: int, n_entities: int) -> pd.DataFrame:
    """Unsorted rows, duplicate times, gaps, NaN values, hour-level times."""
    start = pd.Timestamp("2024-03-01")
    hours = rng.integers(0, 24 * 40, size=n_rows)
    df = pd.DataFrame(
        {
            "entity": rng.choice([f"e{i}" for i in range(n_entities)], size=n_rows),
            "time": start + pd.to_timedelta(hours, unit="h"),
            "x": rng.normal(100, 20, size=n_rows).round(rng.integers(0, 3)),
            "y": rng.exponential(5, size=n_rows),
        }
    )
    df.loc[rng.random(n_rows) < 0.1, "x"] = np.nan
    return df


def pandas_rolling(df, by, time, column, window, stat, min_periods=1) -> np.ndarray:
    """The pandas way, one entity at a time (rows sorted stably by time)."""
    out = np.full(len(df), np.nan)
    for _, sub in df.groupby(by, sort=False):
        sub = sub.sort_values(time, kind="stable")
        series = sub.set_index(time)[column]
        window = window.upper() if window.endswith("d") else window
        if stat == "ewm_mean":
            values = (
                sub[column]
                .ewm(halflife=pd.Timedelta(window), times=sub[time], min_periods=min_periods)
                .mean()
            )
        else:
            values = getattr(series.rolling(window, min_periods=min_periods), stat)()
        out[df.index.get_indexer(sub.index)] = np.asarray(values, dtype=float)
    return out


def window_reference(df, by, time, column, window, stat, min_periods=1) -> np.ndarray:
    """slope / pct_change / velocity / change / std by brute force over each window."""
    out = np.full(len(df), np.nan)
    width = pd.Timedelta(window.upper() if window.endswith("d") else window)
    for _, sub in df.groupby(by, sort=False):
        sub = sub.sort_values(time, kind="stable")
        t = sub[time].to_numpy()
        x = sub[column].to_numpy(dtype=float)
        days = (t - t[0]) / np.timedelta64(1, "D")
        for i in range(len(sub)):
            inside = (t > t[i] - width) & (np.arange(len(sub)) <= i) & ~np.isnan(x)
            xs, ds = x[inside], days[inside]
            value = np.nan
            if len(xs) >= max(min_periods, 1):
                if stat == "slope":
                    if len(xs) >= 2 and ds.max() > ds.min():
                        value = np.polyfit(ds, xs, 1)[0]
                elif stat == "change":
                    value = xs[-1] - xs[0]
                elif stat == "std":
                    value = np.std(xs, ddof=1) if len(xs) >= 2 else np.nan
                elif stat == "pct_change":
                    value = (xs[-1] - xs[0]) / xs[0] if xs[0] != 0 else np.nan
                elif stat == "velocity":
                    if ds[-1] > ds[0]:
                        value = (xs[-1] - xs[0]) / (ds[-1] - ds[0])
            out[df.index.get_loc(sub.index[i])] = value
    return out


def assert_close(actual, expected, rtol=1e-9, scale=1.0):
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert np.array_equal(np.isnan(actual), np.isnan(expected)), (actual, expected)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, equal_nan=True)


@pytest.mark.parametrize("seed", range(40))
def test_pandas_statistics_on_random_frames(seed):
    rng = np.random.default_rng(seed)
    df = random_frame(rng, int(rng.integers(1, 300)), int(rng.integers(1, 12)))
    windows = ["1D", "3D", "12h"]
    min_periods = int(rng.integers(1, 4))
    out = rolling(
        df,
        "entity",
        "time",
        ["x", "y"],
        windows,
        PANDAS_STATS + ("ewm_mean",),
        min_periods=min_periods,
    )
    for column in ("x", "y"):
        scale = float(np.nanmax(np.abs(df[column]))) if df[column].notna().any() else 1.0
        for window in windows:
            for stat in PANDAS_STATS + ("ewm_mean",):
                expected = pandas_rolling(df, "entity", "time", column, window, stat, min_periods)
                name = f"{column}_{stat}_{window.lower()}"
                scale_here = scale * (len(df) if stat == "sum" else 1)
                assert_close(out[name], expected, scale=scale_here)


@pytest.mark.parametrize("seed", range(25))
def test_trend_statistics_by_brute_force(seed):
    rng = np.random.default_rng(100 + seed)
    df = random_frame(rng, int(rng.integers(1, 150)), int(rng.integers(1, 6)))
    stats = ["slope", "change", "pct_change", "velocity"]
    min_periods = int(rng.integers(1, 3))
    out = rolling(df, "entity", "time", "x", ["2D", "5D"], stats, min_periods=min_periods)
    for window in ("2D", "5D"):
        for stat in stats:
            expected = window_reference(df, "entity", "time", "x", window, stat, min_periods)
            assert_close(out[f"x_{stat}_{window.lower()}"], expected, rtol=1e-8, scale=100.0)


@pytest.mark.parametrize("seed", range(20))
def test_columns_without_missing_values_by_brute_force(seed):
    """A column with no NaN and no min / max / ewm_mean takes the kernel's shorter scan."""
    rng = np.random.default_rng(300 + seed)
    df = random_frame(rng, int(rng.integers(1, 200)), int(rng.integers(1, 6)))
    min_periods = int(rng.integers(1, 4))
    trend = ["slope", "change", "pct_change", "velocity"]
    moments = ["mean", "sum", "std", "count"]
    out = rolling(df, "entity", "time", "y", ["1D", "3D"], moments + trend, min_periods=min_periods)
    scale = float(np.max(np.abs(df["y"]))) if len(df) else 1.0
    for window in ("1D", "3D"):
        for stat in trend:
            expected = window_reference(df, "entity", "time", "y", window, stat, min_periods)
            assert_close(out[f"y_{stat}_{window.lower()}"], expected, rtol=1e-8, scale=100.0)
        for stat in moments:
            expected = pandas_rolling(df, "entity", "time", "y", window, stat, min_periods)
            scale_here = scale * (len(df) if stat == "sum" else 1)
            assert_close(out[f"y_{stat}_{window.lower()}"], expected, scale=scale_here)


@pytest.mark.parametrize("seed", range(10))
def test_infinite_values_are_missing_as_in_pandas(seed):
    rng = np.random.default_rng(500 + seed)
    df = random_frame(rng, int(rng.integers(1, 200)), int(rng.integers(1, 5)))
    df.loc[rng.random(len(df)) < 0.05, "x"] = np.inf
    df.loc[rng.random(len(df)) < 0.05, "x"] = -np.inf
    missing = df.assign(x=df["x"].replace([np.inf, -np.inf], np.nan))
    stats = ["mean", "sum", "std", "min", "max", "count", "ewm_mean", "slope", "change"]
    out = rolling(df, "entity", "time", "x", ["1D", "3D"], stats)
    for window in ("1D", "3D"):
        for stat in stats:
            name = f"x_{stat}_{window.lower()}"
            # std by brute force: pandas' add/remove updates leave ~1e-6 where a window of
            # equal values has a std of exactly 0.
            if stat in ("slope", "change", "std"):
                expected = window_reference(missing, "entity", "time", "x", window, stat)
                assert_close(out[name], expected, rtol=1e-8, scale=100.0)
                continue
            # pandas reads ±inf as missing; only its `count` still counts them.
            frame = missing if stat == "count" else df
            expected = pandas_rolling(frame, "entity", "time", "x", window, stat)
            scale = 140.0 * (len(df) if stat == "sum" else 1)
            assert_close(out[name], expected, scale=scale)


def exact_window_moments(days: np.ndarray, x: np.ndarray, width: float):
    """Mean, std and slope of the valid values of every window (t - width, t], by two
    passes over the window."""
    n = len(x)
    mean, std, slope = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    for i in range(n):
        inside = (days > days[i] - width) & (np.arange(n) <= i) & ~np.isnan(x)
        xs, ds = x[inside], days[inside]
        if len(xs) == 0:
            continue
        # Deviations from the window's first value are exact (values within a factor of
        # two of it): a plain two-pass over values near 1e12 would itself be off by 1e-8.
        shifted = xs - xs[0]
        mean[i] = xs[0] + shifted.mean()
        if len(xs) >= 2:
            dx, dy = ds - ds.mean(), shifted - shifted.mean()
            std[i] = np.sqrt((dy * dy).sum() / (len(xs) - 1))
            slope[i] = (dx * dy).sum() / (dx * dx).sum()
    return mean, std, slope


@pytest.mark.parametrize("complete", [True, False])
def test_long_drifting_series_with_outliers_match_two_pass_sums(complete):
    """Running sums against the hard cases: a level that drifts over orders of magnitude,
    outliers a million times the level leaving the window, a long constant stretch, and
    values far from zero. Both scans (with and without missing values); complete, the two
    columns (the second is the first reversed) are scanned together. No window's sums
    subtract a row that left, so mean and std hold to 1e-13 of the exact values."""
    rng = np.random.default_rng(5)
    n = 2000
    level = 1e6 * np.exp(np.cumsum(rng.normal(0, 0.05, n)))
    x = level * (1 + 0.01 * rng.normal(size=n))
    x[rng.choice(n, 15, replace=False)] *= 1e6
    x[900:1000] = 123456.789
    x[1500:1600] = 1e12 + rng.normal(size=100)
    days = np.arange(n, dtype=float)
    if not complete:
        x[rng.choice(n, 100, replace=False)] = np.nan
    df = pd.DataFrame(
        {
            "k": "a",
            "t": pd.Timestamp("2020-01-01") + pd.to_timedelta(days, unit="D"),
            "v": x,
            "w": x[::-1],
        }
    )
    out = rolling(df, "k", "t", ["v", "w"], ["7d", "30d"], ["mean", "std", "slope"])
    for column in ("v", "w"):
        values = df[column].to_numpy()
        for width in (7, 30):
            mean, std, slope = exact_window_moments(days, values, width)
            # A slope whose window holds an outlier at its centre in time is a difference
            # of terms a million times larger than itself: allowed 1e-9 relative and 1e-12
            # of the window's largest value (per day) besides.
            largest = df.set_index("t")[column].abs().rolling(f"{width}D").max().to_numpy()
            for stat, expected in (("mean", mean), ("std", std), ("slope", slope)):
                actual = out[f"{column}_{stat}_{width}d"].to_numpy()
                rtol, atol = (1e-9, 1e-12 * largest) if stat == "slope" else (1e-13, 0.0)
                assert np.array_equal(np.isnan(actual), np.isnan(expected)), stat
                bound = rtol * np.abs(expected) + atol
                finite = ~np.isnan(expected)
                assert (np.abs(actual - expected)[finite] <= bound[finite]).all(), stat
            # The windows inside the constant stretch have a std of exactly 0.
            start = 900 + width if column == "v" else n - 1000 + width
            constant = out[f"{column}_std_{width}d"].to_numpy()[start : start + 100 - width]
            assert (constant == 0.0).all()


def test_daily_windows_follow_pandas_closure_and_gaps():
    df = pd.DataFrame(
        {
            "asin": ["a"] * 5,
            "date": pd.to_datetime(
                ["2024-01-01", "2024-01-02", "2024-01-05", "2024-01-08", "2024-01-09"]
            ),
            "price": [1.0, 2.0, 4.0, 8.0, 16.0],
        }
    )
    out = rolling(df, "asin", "date", "price", "7d", ["sum", "count", "slope"])
    # (t - 7d, t]: on 01-08 the window drops 01-01 and keeps 01-02.
    assert out["price_sum_7d"].tolist() == [1.0, 3.0, 7.0, 14.0, 28.0]
    assert out["price_count_7d"].tolist() == [1.0, 2.0, 3.0, 3.0, 3.0]
    assert np.isnan(out["price_slope_7d"][0])
    assert out["price_slope_7d"][1] == pytest.approx(1.0)


def test_unsorted_input_gives_the_same_rows_in_input_order():
    rng = np.random.default_rng(7)
    df = random_frame(rng, 500, 8)
    shuffled = df.sample(frac=1.0, random_state=3)
    stats = ["mean", "std", "slope", "ewm_mean", "min"]
    # Sorted by entity and time, the input is read in place (no layout pass).
    ordered = df.sort_values(["entity", "time"], kind="stable")
    a = rolling(df, "entity", "time", "x", ["2d"], stats)
    b = rolling(shuffled, "entity", "time", "x", ["2d"], stats).loc[df.index]
    c = rolling(ordered, "entity", "time", "x", ["2d"], stats).loc[df.index]
    for stat in stats:
        # Equal times keep input order, so only rows without ties are comparable exactly.
        name = f"x_{stat}_2d"
        no_ties = ~df.duplicated(["entity", "time"], keep=False)
        assert_close(a[name][no_ties], b[name][no_ties])
        assert_close(a[name][no_ties], c[name][no_ties])


def test_many_unsorted_rows_are_put_back_in_input_order():
    """More rows than one piece of the parallel gathers (65,536), partly sorted groups
    (taken in place) and shuffled ones (sorted, their rows' positions rewritten): every
    output equals, row for row, the one of the same rows sorted."""
    rng = np.random.default_rng(11)
    daily = ecomkit.datasets.asin_daily(400, 400).drop(columns=["site", "category"])
    daily = daily.sort_values(["asin", "date"], kind="stable").reset_index(drop=True)
    # Shuffle the rows of every other ASIN among themselves, then the ASINs' order.
    codes = daily["asin"].astype("category").cat.codes.to_numpy()
    order = np.arange(len(daily))
    for code in range(0, codes.max() + 1, 2):
        rows = np.flatnonzero(codes == code)
        order[rows] = rng.permutation(rows)
    shuffled = daily.iloc[order]
    shuffled = shuffled.iloc[rng.permutation(len(shuffled))]
    assert len(shuffled) > 2 * 65_536
    columns, stats = ["bsr", "price"], ["mean", "std", "slope", "max"]
    expected = rolling(daily, "asin", "date", columns, ["7d", "30d"], stats)
    actual = rolling(shuffled, "asin", "date", columns, ["7d", "30d"], stats)
    pd.testing.assert_frame_equal(actual.loc[daily.index], expected)


def test_entities_in_runs_give_the_bits_of_coded_groups():
    """A table sorted by a string entity is laid out from the runs of its rows, without
    coding the groups; every other way to the same rows must give the same bits: the
    entity as categories or integer codes (coded groups), one entity split in two runs or
    out of time order (laid out by sorting)."""
    daily = ecomkit.datasets.asin_daily(300, 120).drop(columns=["site", "category"])
    daily = daily.sort_values(["asin", "date"], kind="stable").reset_index(drop=True)
    daily["asin"] = daily["asin"].astype(str)
    columns, stats = ["bsr", "price"], ["mean", "std", "slope", "sum", "count"]
    windows = ["7d", "30d"]
    expected = rolling(daily, "asin", "date", columns, windows, stats)
    table = pa.Table.from_pandas(daily, preserve_index=False)
    asin = table.schema.get_field_index("asin")
    variants = {
        "categories": daily.assign(asin=daily["asin"].astype("category")),
        "codes": daily.assign(asin=daily["asin"].astype("category").cat.codes),
    }
    for string_type in [pa.string(), pa.large_string(), pa.string_view()]:
        strings = table["asin"].cast(string_type)
        variants[str(string_type)] = table.set_column(asin, "asin", strings)
    first = daily.index[daily["asin"] == daily["asin"].iloc[0]]
    split = np.r_[first[40:], daily.index[len(first) :], first[:40]]
    variants["split run"] = daily.iloc[split]
    swapped = daily.index.to_numpy().copy()
    swapped[[3, 4]] = swapped[[4, 3]]
    variants["out of time order"] = daily.iloc[swapped]
    outputs = [c for c in expected.columns if c not in daily.columns]
    for name, frame in variants.items():
        actual = rolling(frame, "asin", "date", columns, windows, stats)
        if isinstance(actual, pa.Table):
            actual = actual.to_pandas().set_index(daily.index)
        pd.testing.assert_frame_equal(
            actual.loc[daily.index, outputs], expected[outputs], check_exact=True, obj=name
        )


def test_frame_kinds_agree(kind):
    rng = np.random.default_rng(11)
    df = random_frame(rng, 200, 5)
    expected = rolling(df, "entity", "time", ["x"], ["3d"], ["mean", "std", "slope"])
    out = rolling(to_kind(df, kind), "entity", "time", ["x"], ["3d"], ["mean", "std", "slope"])
    assert type(out) is type(to_kind(df, kind))
    got = to_pandas(out)
    for name in ("x_mean_3d", "x_std_3d", "x_slope_3d"):
        assert_close(got[name].to_numpy(dtype=float), expected[name].to_numpy())


def test_time_zones_dates_and_units():
    times = pd.date_range("2024-03-09", periods=6, freq="12h", tz="America/Los_Angeles")
    df = pd.DataFrame({"k": 1, "t": times, "v": np.arange(6.0)})
    utc = df.assign(t=df["t"].dt.tz_convert("UTC"))
    a = rolling(df, "k", "t", "v", "1d", "sum")["v_sum_1d"]
    b = rolling(utc, "k", "t", "v", "1d", "sum")["v_sum_1d"]
    assert a.tolist() == b.tolist()
    # Windows are durations: across the DST change 1d is still 24 hours.
    assert a.tolist() == pandas_rolling(df, "k", "t", "v", "1d", "sum").tolist()
    table = pa.table(
        {"k": [1, 1, 1], "d": pa.array([19000, 19001, 19010], pa.date32()), "v": [1.0, 2.0, 3.0]}
    )
    out = rolling(table, "k", "d", "v", "7d", "sum")
    assert out.column("v_sum_7d").to_pylist() == [1.0, 3.0, 3.0]


@pytest.mark.parametrize("shuffled", [False, True])
def test_integer_columns_and_time_units_read_in_place_agree(shuffled):
    """int64 columns without nulls and 64-bit timestamps of any unit are read as they lie
    (converted entity by entity); with nulls, of another width, or as float64 and
    nanoseconds they are converted up front: the results are the same to the bit."""
    rng = np.random.default_rng(21)
    n = 5_000
    entity = np.sort(rng.integers(0, 40, n))
    seconds = np.sort(rng.integers(0, 90 * 86_400, n)) + 1_700_000_000
    values = rng.integers(-(10**15), 10**15, n)
    base = pd.DataFrame({"k": entity, "s": seconds, "v": values})
    base = base.sort_values(["k", "s"], kind="stable").reset_index(drop=True)
    if shuffled:
        base = base.iloc[rng.permutation(n)].reset_index(drop=True)
    stats = ["mean", "std", "slope", "max", "change", "pct_change", "velocity", "ewm_mean"]

    def run(times, column):
        table = pa.table({"k": base["k"].to_numpy(), "t": times, "v": column})
        out = rolling(table, "k", "t", "v", ["3d", "20d"], stats).to_pandas()
        return out.drop(columns=["k", "t", "v"])

    ns = pa.array(base["s"].to_numpy() * 10**9, pa.timestamp("ns"))
    expected = run(ns, pa.array(base["v"].to_numpy(dtype=float)))
    for unit in ("s", "ms", "us", "ns"):
        scaled = base["s"].to_numpy() * {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[unit]
        times = pa.array(scaled, pa.timestamp(unit, tz="UTC" if unit == "ms" else None))
        pd.testing.assert_frame_equal(run(times, pa.array(base["v"].to_numpy())), expected)
    first = np.arange(n) == 0
    with_null = pa.array(base["v"].to_numpy(), mask=first)
    with_nan = pa.array(np.where(first, np.nan, base["v"].to_numpy(dtype=float)))
    pd.testing.assert_frame_equal(run(ns, with_null), run(ns, with_nan))
    narrow = pa.array((base["v"].to_numpy() // 10**6).astype(np.int32))
    wide = pa.array((base["v"].to_numpy() // 10**6).astype(np.int64))
    pd.testing.assert_frame_equal(run(ns, narrow), run(ns, wide))


def test_edge_cases():
    one = pd.DataFrame({"k": ["a"], "t": pd.to_datetime(["2024-01-01"]), "v": [3.0]})
    out = rolling(one, "k", "t", "v", "365d", ["mean", "std", "slope", "pct_change", "count"])
    assert out["v_mean_365d"][0] == 3.0
    assert np.isnan(out["v_std_365d"][0]) and np.isnan(out["v_slope_365d"][0])
    assert out["v_pct_change_365d"][0] == 0.0
    same_time = pd.DataFrame(
        {"k": ["a"] * 3, "t": pd.to_datetime(["2024-01-01"] * 3), "v": [1.0, 2.0, 6.0]}
    )
    out = rolling(same_time, "k", "t", "v", "1d", ["mean", "slope", "velocity"])
    assert out["v_mean_1d"].tolist() == [1.0, 1.5, 3.0]
    assert out["v_slope_1d"].isna().all() and out["v_velocity_1d"].isna().all()
    all_nan = same_time.assign(v=np.nan)
    out = rolling(all_nan, "k", "t", "v", "1d", ["mean", "count", "ewm_mean"])
    assert out[["v_mean_1d", "v_ewm_mean_1d"]].isna().all().all()
    assert out["v_count_1d"].tolist() == [0.0, 0.0, 0.0]  # as pandas
    constant = pd.DataFrame(
        {"k": 1, "t": pd.date_range("2024-01-01", periods=50, freq="D"), "v": 0.1}
    )
    std = rolling(constant, "k", "t", "v", "7d", "std")["v_std_7d"]
    assert np.nanmax(np.abs(std)) < 1e-15
    empty = one.iloc[:0]
    assert len(rolling(empty, "k", "t", "v", "7d", "mean")) == 0
    no_entity = rolling(same_time, [], "t", "v", "1d", "sum")
    assert no_entity["v_sum_1d"].tolist() == [1.0, 3.0, 9.0]


def test_timedelta_windows_get_readable_names():
    df = pd.DataFrame({"k": 1, "t": pd.date_range("2024-01-01", periods=3), "v": [1.0, 2, 3]})
    out = rolling(df, "k", "t", "v", [pd.Timedelta("7D"), pd.Timedelta(hours=36)], "sum")
    assert ["v_sum_7d", "v_sum_36h"] == list(out.columns[-2:])
    assert out["v_sum_36h"].tolist() == [1.0, 3.0, 5.0]


def test_errors_name_the_argument():
    df = pd.DataFrame({"k": [1, 2], "t": pd.to_datetime(["2024-01-01"] * 2), "v": [1.0, 2.0]})
    with pytest.raises(ColumnNotFoundError, match="columns: column 'w' not found"):
        rolling(df, "k", "t", "w")
    with pytest.raises(ColumnNotFoundError, match="by: column 'z'"):
        rolling(df, "z", "t", "v")
    with pytest.raises(InvalidValueError, match="stats"):
        rolling(df, "k", "t", "v", stats=["median"])
    with pytest.raises(InvalidValueError, match="windows"):
        rolling(df, "k", "t", "v", windows="7 fortnights")
    with pytest.raises(InvalidValueError, match="windows"):
        rolling(df, "k", "t", "v", windows=[])
    with pytest.raises(InvalidTypeError, match=r"time \(column 'v'\): expected a timestamp"):
        rolling(df, "k", "v", "v")
    with pytest.raises(InvalidValueError, match="min_periods"):
        rolling(df, "k", "t", "v", min_periods=0)
    with pytest.raises(InvalidTypeError, match=r"columns \(column 't'\): expected a numeric"):
        rolling(df, "k", "t", "t")
    nat = df.assign(t=[pd.Timestamp("2024-01-01"), pd.NaT])
    with pytest.raises(InvalidValueError, match="has a null at row 1"):
        rolling(nat, "k", "t", "v")
    far = df.assign(t=pd.to_datetime(["2024-01-01", "3000-01-01"]).as_unit("s"))
    with pytest.raises(InvalidValueError, match=r"\(column .t.\): time 32503680000 is outside"):
        rolling(far, "k", "t", "v")
    assert issubclass(InvalidValueError, ValueError)


def asin_reference(df: pd.DataFrame, window: str) -> dict[str, np.ndarray]:
    logged = df.assign(log_bsr=np.log(df["bsr"].where(df["bsr"] > 0)))
    std = pandas_rolling(df, "asin", "date", "price", window, "std")
    mean = pandas_rolling(df, "asin", "date", "price", window, "mean")
    return {
        f"bsr_trend_{window}": window_reference(logged, "asin", "date", "log_bsr", window, "slope"),
        f"price_volatility_{window}": std / mean,
        f"review_velocity_{window}": window_reference(
            df, "asin", "date", "review_count", window, "velocity"
        ),
        f"rating_change_{window}": window_reference(df, "asin", "date", "rating", window, "change"),
    }


def test_asin_daily_features_match_the_pandas_definitions():
    df = ecomkit.datasets.asin_daily(12, 70, seed=4).sample(frac=1.0, random_state=1)
    out = asin_daily_features(df)
    for window in ("7d", "30d"):
        for name, expected in asin_reference(df, window).items():
            assert_close(out[name], expected, rtol=1e-8, scale=10.0)
    quality = 0.6 * ((df["rating"] - 1) / 4).clip(0, 1) + 0.4 * (
        np.log1p(df["review_count"]) / np.log1p(1000)
    ).clip(0, 1)
    assert_close(out["listing_quality"], quality)


def test_asin_daily_features_read_sorted_rows_in_place_with_the_same_bits():
    # Sorted by ASIN and date, the rows are read in place from the runs of the ASIN column;
    # shuffled, they are laid out first. Both give the same bits, in input order.
    df = ecomkit.datasets.asin_daily(40, 90, seed=5)
    assert df.equals(df.sort_values(["asin", "date"], kind="stable"))
    shuffled = df.sample(frac=1.0, random_state=3)
    in_place = asin_daily_features(df)
    laid_out = asin_daily_features(shuffled).loc[df.index]
    pd.testing.assert_frame_equal(in_place, laid_out, check_exact=True)
    for window in ("7d", "30d"):
        for name, expected in asin_reference(df, window).items():
            assert_close(in_place[name], expected, rtol=1e-8, scale=10.0)


def test_asin_features_rank_exploding_products_first():
    df = ecomkit.datasets.asin_daily(300, 120, seed=2)
    exploding = ecomkit.datasets.exploding_asins(300, 120, seed=2)
    features = asin_daily_features(df)
    last = features[features["date"] == features["date"].max()]
    scored = ecomkit.score.explosive_score(
        last, {"bsr_trend_7d": -1.0, "review_velocity_7d": 1.0}, by="category"
    )
    top = set(scored.loc[scored["rank"] <= 3, "asin"])
    assert len(top & set(exploding)) >= 0.6 * len(exploding)


def test_polars_output_marks_missing_as_null():
    df = pl.DataFrame(
        {"k": [1, 1], "t": [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-02")], "v": [1.0, 2]}
    )
    out = rolling(df, "k", "t", "v", "7d", "std")
    assert out["v_std_7d"].null_count() == 1


def test_features_cli_step(tmp_path):
    from ecomkit.cli import main

    ecomkit.pipeline.generate(tmp_path / "daily.parquet", n_asins=30, n_days=45)
    code = main(
        [
            "features",
            str(tmp_path / "daily.parquet"),
            "--output",
            str(tmp_path / "features.csv"),
            "--windows",
            "3d,14d",
        ]
    )
    assert code == 0
    written = pd.read_csv(tmp_path / "features.csv")
    assert {"bsr_trend_3d", "review_velocity_14d", "listing_quality"} <= set(written.columns)
