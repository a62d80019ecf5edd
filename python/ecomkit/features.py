"""Feature kernels: rolling time-window statistics per entity, the ASIN product features,
and click-stream sessions — batch and online through one Rust implementation.

Conventions (written down in ``docs/features.md``):

- Times are read from timestamp or date columns (any unit, with or without a time zone);
  windows and timeouts are durations: ``"7d"``, ``"12h"``, ``"30m"``, ``"90s"``, ``"2w"``
  (pandas' ``"7D"`` / ``"30min"`` too), or a ``datetime.timedelta`` / ``pandas.Timedelta``.
- A rolling window ending at a row with time ``t`` covers ``(t - window, t]``, as pandas'
  ``rolling("7D", closed="right")``: missing days are simply absent, rows with equal times
  enter in input order, NaN and ±inf values are skipped (as pandas' rolling windows do).
- Output rows are in input order, whatever the order of the input.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from . import _check, _display, _ecomkit, _frames, _io
from .errors import InvalidTypeError, InvalidValueError

__all__ = [
    "STATS",
    "rolling",
    "asin_daily_features",
    "sessionize",
    "session_features",
    "SessionFeatures",
    "SessionState",
    "user_features",
    "item_features",
    "interaction_scores",
    "CategoricalEncoder",
    "temporal_split",
    "run_asin_features",
    "run_sessions",
]

#: The statistics `rolling` computes (the kernel's list).
STATS = tuple(_ecomkit.ROLLING_STATS)


def _duration(value: Any, argument: str) -> str:
    """A duration as text the Rust parser reads ("7d", or "<n>ns" for timedelta objects)."""
    if isinstance(value, str):
        return value
    if isinstance(value, np.timedelta64):
        if np.isnat(value):
            raise InvalidValueError(f"{argument}: a missing duration (NaT)")
        return f"{int(value / np.timedelta64(1, 'ns'))}ns"  # exact: 1500 ns stays 1500 ns
    if isinstance(value, _dt.timedelta):
        nanos = getattr(value, "value", None)  # pandas.Timedelta keeps nanoseconds
        if nanos is None:
            nanos = (value.days * 86_400 + value.seconds) * 1_000_000_000 + (
                value.microseconds * 1_000
            )
        return f"{int(nanos)}ns"
    raise InvalidTypeError(
        f"{argument}: expected a duration such as '30m' or '7d' (or a timedelta), "
        f"got {type(value).__name__}"
    )


def _windows(windows: Any) -> list[str]:
    """Window texts for Rust (which labels a timedelta's exact nanoseconds readably)."""
    if isinstance(windows, (str, _dt.timedelta, np.timedelta64)):
        windows = [windows]
    try:
        windows = list(windows)
    except TypeError:
        raise InvalidTypeError("windows: expected a duration or a sequence of durations") from None
    return [_duration(window, "windows") for window in windows]


def rolling(
    frame: Any,
    by: str | Sequence[str],
    time: str,
    columns: str | Sequence[str],
    windows: Any = ("7d", "30d"),
    stats: str | Sequence[str] = ("mean", "std"),
    *,
    min_periods: int = 1,
) -> Any:
    """Rolling time-window statistics of ``columns`` per entity ``by``.

    Parameters
    ----------
    frame : pandas, polars or pyarrow frame (or any object with ``__arrow_c_stream__``)
    by : column name or names
        The entity (e.g. ``"asin"``); ``()`` treats all rows as one entity.
    time : str
        A timestamp or date column. Rows need not be sorted.
    columns : column name or names
        Numeric columns; NaN, ±inf and null values are skipped.
    windows : duration or sequence of durations
        Calendar windows such as ``"7d"``: the window ending at time ``t`` covers
        ``(t - 7 days, t]`` (pandas' ``rolling("7D")``), not a number of rows.
    stats : name or names
        Any of ``mean, sum, std`` (ddof = 1), ``min, max, count``, ``slope`` (least-squares
        trend per day), ``pct_change`` (first to last value in the window), ``velocity``
        (change per day, first to last), ``change`` (last − first), ``ewm_mean``
        (exponentially weighted mean with half-life = the window, over the whole history,
        as pandas ``ewm(halflife=window, times=time).mean()``).
    min_periods : int, default 1
        Fewer values than this in a window give NaN (``std`` and ``slope`` need two).

    Returns
    -------
    A frame of the input's kind: the input columns plus ``<column>_<stat>_<window>`` for
    every column, window and statistic (e.g. ``price_std_7d``), rows in input order.

    Examples
    --------
    >>> import pandas as pd
    >>> from ecomkit.features import rolling
    >>> df = pd.DataFrame({"asin": ["a", "a", "a", "b"],
    ...                    "date": pd.to_datetime(["2024-01-01", "2024-01-02",
    ...                                            "2024-01-08", "2024-01-01"]),
    ...                    "price": [10.0, 12.0, 11.0, 5.0]})
    >>> rolling(df, "asin", "date", "price", windows="7d", stats=["mean", "count"])
      asin       date  price  price_mean_7d  price_count_7d
    0    a 2024-01-01   10.0           10.0             1.0
    1    a 2024-01-02   12.0           11.0             2.0
    2    a 2024-01-08   11.0           11.5             2.0
    3    b 2024-01-01    5.0            5.0             1.0
    """
    by = _check.names(by, "by")
    columns = _check.names(columns, "columns")
    stats = [stats] if isinstance(stats, str) else list(stats)
    if not all(isinstance(stat, str) for stat in stats):
        raise InvalidTypeError(f"stats: expected names of statistics such as 'mean', got {stats!r}")
    # Empty columns, stats or windows and unknown statistics are refused by the kernel.
    min_periods = _check.positive_int(min_periods, "min_periods")
    texts = _windows(windows)
    if not isinstance(time, str):
        raise InvalidTypeError(f"time: expected a column name, got {type(time).__name__}")
    frame, kind = _frames.prepare(frame)
    available = _frames.column_names(frame, kind)
    _frames.require_columns(available, by, "by")
    _frames.require_columns(available, [time], "time")
    _frames.require_columns(available, columns, "columns")
    result = _ecomkit.rolling(
        _frames.select(frame, kind, by + [time] + columns),
        by,
        time,
        columns,
        texts,
        stats,
        min_periods,
    )
    return _frames.with_result(frame, kind, result)


def asin_daily_features(
    frame: Any,
    *,
    by: str | Sequence[str] = "asin",
    time: str = "date",
    bsr: str = "bsr",
    price: str = "price",
    review_count: str = "review_count",
    rating: str = "rating",
    windows: Any = ("7d", "30d"),
    min_periods: int = 1,
) -> Any:
    """The ASIN pipeline's daily product features, ready for ``explosive_score``.

    For every window ``w`` (default 7 and 30 days):

    - ``bsr_trend_w``: least-squares slope of ln(BSR) per day (negative = climbing);
    - ``price_volatility_w``: std / mean of the price;
    - ``review_velocity_w``: reviews gained per day, first to last day in the window;
    - ``rating_change_w``: last − first rating in the window;

    and ``listing_quality`` = 0.6 × (rating − 1) / 4 + 0.4 × ln(1 + reviews) / ln(1001),
    each part clipped to [0, 1].

    Examples
    --------
    >>> import ecomkit
    >>> df = ecomkit.datasets.asin_daily(20, 60)
    >>> out = ecomkit.features.asin_daily_features(df)
    >>> [c for c in out.columns if c not in df.columns][:4]
    ['bsr_trend_7d', 'price_volatility_7d', 'review_velocity_7d', 'rating_change_7d']
    """
    by = _check.names(by, "by")
    min_periods = _check.positive_int(min_periods, "min_periods")
    texts = _windows(windows)
    frame, kind = _frames.prepare(frame)
    available = _frames.column_names(frame, kind)
    named = {
        "time": time,
        "bsr": bsr,
        "price": price,
        "review_count": review_count,
        "rating": rating,
    }
    _frames.require_columns(available, by, "by")
    for argument, name in named.items():
        _frames.require_columns(available, [name], argument)
    result = _ecomkit.asin_daily_features(
        _frames.select(frame, kind, by + list(named.values())),
        by,
        time,
        bsr,
        price,
        review_count,
        rating,
        texts,
        min_periods,
    )
    return _frames.with_result(frame, kind, result)


def sessionize(
    frame: Any,
    user: str,
    time: str,
    timeout: Any = "30m",
    *,
    max_duration: Any = None,
) -> np.ndarray:
    """Session ids of click-stream events.

    A new session starts when the gap to the user's previous event is strictly greater than
    ``timeout``, or when the session would last longer than ``max_duration`` (from its
    first event). Ids are dense (0, 1, …), numbered by the user's first appearance in the
    input, then by session start.

    Returns
    -------
    numpy.ndarray of int64, one id per row in input order.

    Examples
    --------
    >>> import pandas as pd
    >>> from ecomkit.features import sessionize
    >>> events = pd.DataFrame({"user": [1, 1, 2, 1],
    ...                        "ts": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:20",
    ...                                              "2024-01-01 10:00", "2024-01-01 11:00"])})
    >>> sessionize(events, "user", "ts", "30m").tolist()
    [0, 0, 2, 1]
    """
    frame, kind = _frames.prepare(frame)
    available = _frames.column_names(frame, kind)
    _frames.require_columns(available, [user], "user")
    _frames.require_columns(available, [time], "time")
    return _ecomkit.sessionize(
        _frames.select(frame, kind, [user, time]),
        user,
        time,
        _duration(timeout, "timeout"),
        None if max_duration is None else _duration(max_duration, "max_duration"),
    )


class SessionFeatures(NamedTuple):
    """What :func:`session_features` returns."""

    sessions: Any
    """One row per session (frame of the input's kind)."""
    events: Any
    """The input rows with ``session_id``, ``item_views_in_session``,
    ``seconds_since_item_view``."""


def session_features(
    frame: Any,
    user: str = "visitorid",
    time: str = "timestamp",
    event: str = "event",
    item: str | None = "itemid",
    *,
    timeout: Any = "30m",
    max_duration: Any = None,
    time_zone: str = "UTC",
    view: str = "view",
    cart: str = "addtocart",
    purchase: str = "transaction",
    transitions: bool = False,
) -> SessionFeatures:
    """Sessions of a click stream (RetailRocket columns by default) and their features.

    Returns
    -------
    SessionFeatures(sessions, events)
        ``sessions``: one row per session id (as :func:`sessionize`): ``session_id``, the
        user column, ``start``, ``end``, ``duration_seconds``, ``n_events``,
        ``n_<view>``, ``n_<cart>``, ``n_<purchase>`` (named after the event values, e.g.
        ``n_view``), ``n_items`` (distinct non-null items), ``purchased`` (the label),
        ``start_hour`` and ``is_weekend`` of the start in ``time_zone`` (IANA name); with
        ``transitions=True`` also ``p_<from>_to_<to>`` for the three named event types: the
        share of the session's transitions out of ``<from>`` that go to ``<to>`` (NaN when
        none leave ``<from>``).
        ``events``: the input with ``session_id``, ``item_views_in_session`` (views of the
        row's item in its session up to and including this row) and
        ``seconds_since_item_view`` (since the item's previous view in the session; NaN if
        none). Both are point-in-time: they use no later event, like :class:`SessionState`.

    Examples
    --------
    >>> import ecomkit
    >>> clicks = ecomkit.datasets.clickstream(100, 7)
    >>> sessions, events = ecomkit.features.session_features(clicks)
    >>> int(sessions["n_events"].sum()) == len(clicks)
    True
    """
    frame, kind = _frames.prepare(frame)
    available = _frames.column_names(frame, kind)
    for argument, name in (("user", user), ("time", time), ("event", event)):
        _frames.require_columns(available, [name], argument)
    if item is not None:
        _frames.require_columns(available, [item], "item")
    names = [user, time, event] + ([item] if item is not None else [])
    result = _ecomkit.session_features(
        _frames.select(frame, kind, names),
        user,
        time,
        event,
        item,
        _duration(timeout, "timeout"),
        None if max_duration is None else _duration(max_duration, "max_duration"),
        time_zone,
        [view, cart, purchase],
        bool(transitions),
    )
    new_columns, sessions = result
    return SessionFeatures(_frames.from_arrow(sessions, kind),
                           _frames.with_result(frame, kind, new_columns))  # fmt: skip


def _epoch_nanos(time: Any, argument: str = "time") -> int:
    # NaT (pandas' or numpy's) is a missing time, never its sentinel value in 1677.
    if time is None or (isinstance(time, (np.datetime64, _dt.datetime)) and time != time):
        raise InvalidValueError(f"{argument}: a missing time (NaT); expected a time")
    if isinstance(time, (int, np.integer)) and not isinstance(time, bool):
        return int(time)
    if isinstance(time, np.datetime64):
        return int(time.astype("datetime64[ns]").astype(np.int64))
    if isinstance(time, _dt.datetime):
        nanos = getattr(time, "value", None)  # pandas.Timestamp
        if nanos is not None:
            return int(nanos)
        if time.tzinfo is None:
            time = time.replace(tzinfo=_dt.timezone.utc)
        delta = time - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
        return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
    raise InvalidTypeError(
        f"{argument}: expected a datetime, numpy.datetime64 or int nanoseconds since the epoch, "
        f"got {type(time).__name__}"
    )


class SessionState:
    """One user's click stream, online: ``update`` with each event, read ``current()``.

    It runs the same Rust code as :func:`session_features` (which feeds every user's events
    to one of these in time order), so online features equal the batch ones. Naive
    datetimes are read as UTC.

    Examples
    --------
    >>> from datetime import datetime
    >>> from ecomkit.features import SessionState
    >>> state = SessionState(timeout="30m", time_zone="America/Los_Angeles")
    >>> state.update(datetime(2024, 3, 1, 4, 0), "view", 42)
    {'session_id': 0, 'item_views_in_session': 1, 'seconds_since_item_view': nan}
    >>> state.update(datetime(2024, 3, 1, 4, 10), "view", 42)["seconds_since_item_view"]
    600.0
    >>> current = state.current()
    >>> current["n_view"], current["start_hour"], current["duration_seconds"]
    (2, 20, 600.0)
    """

    def __init__(
        self,
        timeout: Any = "30m",
        *,
        max_duration: Any = None,
        time_zone: str = "UTC",
        view: str = "view",
        cart: str = "addtocart",
        purchase: str = "transaction",
    ) -> None:
        self._state = _ecomkit.SessionState(
            _duration(timeout, "timeout"),
            None if max_duration is None else _duration(max_duration, "max_duration"),
            time_zone,
            [view, cart, purchase],
        )
        self._settings = [("timeout", timeout), ("max_duration", max_duration),
                          ("time_zone", time_zone)]  # fmt: skip

    def __repr__(self) -> str:
        current = self.current()
        session = None if current is None else {
            key: current[key] for key in ("session_id", "n_events", "duration_seconds")
            if key in current
        }  # fmt: skip
        return _display.text("SessionState", [*self._settings, ("open_session", session)])

    def update(self, time: Any, event: str | None, item: Any = None) -> dict[str, Any]:
        """Add one event (events must come in time order); its point-in-time features."""
        session, views, since = self._state.update(
            _epoch_nanos(time), event, None if item is None else str(item)
        )
        return {
            "session_id": session,
            "item_views_in_session": views,
            "seconds_since_item_view": since,
        }

    def current(self) -> dict[str, Any] | None:
        """The open session's features (the columns of ``session_features().sessions``,
        times as ns since the epoch), or None before the first event."""
        return self._state.current()


run_asin_features = _check.moved("ecomkit.features.run_asin_features", "features")


run_sessions = _check.moved("ecomkit.features.run_sessions", "sessions")


def _as_of_features(
    kernel: Any,
    events: Any,
    as_of: Any,
    entity: str,
    time: str,
    event: str,
    value: str | None,
    category: str | None,
    names: list[str],
) -> Any:
    """`as_of` with the features `kernel` computes from `events` before each row's time."""
    events, _ = _frames.prepare(events, "events")
    as_of, kind = _frames.prepare(as_of, "as_of")
    event_kind = _frames.kind_of(events, "events")
    available = _frames.column_names(events, event_kind)
    for argument, name in (("entity", entity), ("time", time), ("event", event)):
        _frames.require_columns(available, [name], argument)
    for argument, name in (("value", value), ("category", category)):
        if name is not None:
            _frames.require_columns(available, [name], argument)
    _frames.require_columns(_frames.column_names(as_of, kind), [entity, time], "as_of")
    wanted = [entity, time, event] + [c for c in (value, category) if c is not None]
    result = kernel(
        _frames.select(events, event_kind, wanted),
        _frames.select(as_of, kind, [entity, time]),
        (entity, time, event, value, category, names),
    )
    return _frames.with_result(as_of, kind, result)


def user_features(
    events: Any,
    as_of: Any,
    *,
    user: str = "visitorid",
    time: str = "timestamp",
    event: str = "event",
    value: str | None = "price",
    category: str | None = "categoryid",
    view: str = "view",
    cart: str = "addtocart",
    purchase: str = "transaction",
) -> Any:
    """Point-in-time user features: one row per row of ``as_of`` (a frame of ``user`` and
    ``time`` columns), computed only from the user's events **strictly before** that time.

    Columns added to ``as_of``: ``n_events``, ``lifetime_purchases``, ``aov_90d`` (mean
    ``value`` of the purchase events of the last 90 days; NaN without one),
    ``days_since_last_purchase``, ``recency_days`` (since the latest event of any kind),
    ``frequency_90d`` (purchases in the last 90 days), ``monetary_90d`` (their value),
    ``category_diversity`` (distinct categories seen) and ``preferred_category`` (the most
    frequent category of all events before; ties go to the one seen most recently; null
    before any). A purchase event is an order of its ``value``. Windows are ``[t - 90 days,
    t)``. Without a ``value`` column the money features are NaN / 0; without ``category``,
    ``preferred_category`` is left out and ``category_diversity`` is 0.

    Examples
    --------
    >>> import pandas as pd
    >>> from ecomkit.features import user_features
    >>> events = pd.DataFrame({
    ...     "visitorid": [1, 1, 1],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-02-01"]),
    ...     "event": ["view", "transaction", "transaction"],
    ...     "price": [10.0, 10.0, 30.0], "categoryid": [7, 7, 9]})
    >>> as_of = pd.DataFrame({"visitorid": [1, 1],
    ...                       "timestamp": pd.to_datetime(["2024-01-05", "2024-03-01"])})
    >>> out = user_features(events, as_of)
    >>> out[["lifetime_purchases", "aov_90d", "days_since_last_purchase", "preferred_category"]]
       lifetime_purchases  aov_90d  days_since_last_purchase  preferred_category
    0                 0.0      NaN                       NaN                   7
    1                 2.0     20.0                      29.0                   7
    """
    return _as_of_features(
        _ecomkit.user_features, events, as_of, user, time, event, value, category,
        [view, cart, purchase],
    )  # fmt: skip


def item_features(
    events: Any,
    as_of: Any,
    *,
    item: str = "itemid",
    time: str = "timestamp",
    event: str = "event",
    value: str | None = "price",
    category: str | None = "categoryid",
    view: str = "view",
    cart: str = "addtocart",
    purchase: str = "transaction",
) -> Any:
    """Point-in-time item features: one row per row of ``as_of`` (``item`` and ``time``),
    from the item's events **strictly before** that time.

    Columns added: ``purchases_30d``, ``view_to_purchase_rate`` (purchases / views over
    the whole history; NaN without views), ``avg_price_7d`` (mean ``value`` of the item's
    events of the last 7 days), ``popularity_30d`` (views in the last 30 days),
    ``trending_ratio`` (views per day over the last 7 days / views per day over the last
    30; NaN without views in 30 days), ``price_percentile_in_category`` (the item's latest
    price among the latest prices of all items of its category at that time, as pandas
    ``rank(pct=True)``: ties averaged) and ``n_views``. Windows are ``[t - days, t)``.

    Examples
    --------
    >>> import pandas as pd
    >>> from ecomkit.features import item_features
    >>> events = pd.DataFrame({
    ...     "itemid": [1, 2, 1, 1],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-02", "2024-01-03"]),
    ...     "event": ["view", "view", "view", "transaction"],
    ...     "price": [10.0, 20.0, 10.0, 10.0], "categoryid": [5, 5, 5, 5]})
    >>> as_of = pd.DataFrame({"itemid": [1, 2],
    ...                       "timestamp": pd.to_datetime(["2024-01-04", "2024-01-04"])})
    >>> item_features(events, as_of)[["view_to_purchase_rate", "price_percentile_in_category"]]
       view_to_purchase_rate  price_percentile_in_category
    0                    0.5                          0.5
    1                    0.0                          1.0
    """
    return _as_of_features(
        _ecomkit.item_features, events, as_of, item, time, event, value, category,
        [view, cart, purchase],
    )  # fmt: skip


def interaction_scores(
    events: Any,
    *,
    user: str = "visitorid",
    item: str = "itemid",
    time: str = "timestamp",
    event: str = "event",
    half_life: Any = "7d",
    weights: dict[str, float] | None = None,
    as_of: Any = None,
) -> Any:
    """Time-decayed user–item interaction scores.

    score = Σ weight(event) × 2^(−(reference − t) / half_life) over the pair's events.
    ``weights`` maps event values to weights (default view 1, addtocart 3, transaction 5;
    other values weigh 0). With ``as_of`` (a datetime), only events strictly before it
    count and it is the reference time; without, every event counts and the latest event
    time is the reference.

    Returns
    -------
    A frame of the input's kind, one row per (user, item) pair in order of first
    appearance: the user and item columns, ``score``, ``n_events``, ``last_time``.

    Examples
    --------
    >>> import pandas as pd
    >>> from ecomkit.features import interaction_scores
    >>> events = pd.DataFrame({
    ...     "visitorid": [1, 1, 2],
    ...     "itemid": [9, 9, 9],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-08"]),
    ...     "event": ["view", "addtocart", "view"]})
    >>> interaction_scores(events)[["visitorid", "itemid", "score", "n_events"]]
       visitorid  itemid  score  n_events
    0          1       9    3.5         2
    1          2       9    1.0         1
    """
    weights = {"view": 1.0, "addtocart": 3.0, "transaction": 5.0} if weights is None else weights
    if not isinstance(weights, dict):
        raise InvalidTypeError("weights: expected a dict of event value to weight")
    pairs = [(str(k), _check.real(v, f"weights[{k!r}]")) for k, v in weights.items()]
    frame, kind = _frames.prepare(events, "events")
    available = _frames.column_names(frame, kind)
    for argument, name in (("user", user), ("item", item), ("time", time), ("event", event)):
        _frames.require_columns(available, [name], argument)
    reference = None if as_of is None else _epoch_nanos(as_of, "as_of")
    table = _ecomkit.interaction_scores(
        _frames.select(frame, kind, [user, item, time, event]),
        user, item, time, event, pairs, _duration(half_life, "half_life"), reference,
    )  # fmt: skip
    return _frames.from_arrow(table, kind)


class CategoricalEncoder:
    """A stable categorical encoder: categories → int codes, saved and loaded as JSON.

    Code 0 is reserved for **unknown** categories (and nulls); known categories get 1, 2, …
    in sorted order of their text (so the same data gives the same codes whatever its row
    order). ``min_frequency`` drops rare categories to the unknown code at fit time.

    Examples
    --------
    >>> from ecomkit.features import CategoricalEncoder
    >>> encoder = CategoricalEncoder().fit(["toys", "books", "toys"])
    >>> encoder.categories_
    ['books', 'toys']
    >>> encoder.transform(["toys", "garden", None]).tolist()
    [2, 0, 0]
    >>> CategoricalEncoder.from_json(encoder.to_json()).transform(["books"]).tolist()
    [1]
    """

    UNKNOWN = 0

    def __init__(self, *, min_frequency: int = 1) -> None:
        self.min_frequency = _check.positive_int(min_frequency, "min_frequency")
        self.categories_: list[str] | None = None

    def __repr__(self) -> str:
        categories = self.categories_
        return _display.text("CategoricalEncoder", [
            ("min_frequency", self.min_frequency),
            ("n_categories", None if categories is None else len(categories)),
        ])  # fmt: skip

    def fit(self, values: Any) -> CategoricalEncoder:
        import pandas as pd

        counts = pd.Series(_as_strings(values, "values")).value_counts(dropna=True)
        kept = counts[counts >= self.min_frequency].index
        self.categories_ = sorted(str(v) for v in kept)
        return self

    def transform(self, values: Any) -> np.ndarray:
        import pandas as pd

        if self.categories_ is None:
            raise InvalidValueError("CategoricalEncoder: call fit() or from_json() first")
        index = pd.Index(self.categories_)
        codes = index.get_indexer(pd.Series(_as_strings(values, "values"))) + 1
        return codes.astype(np.int32)

    def fit_transform(self, values: Any) -> np.ndarray:
        return self.fit(values).transform(values)

    def to_json(self) -> str:
        import json

        if self.categories_ is None:
            raise InvalidValueError("CategoricalEncoder: call fit() first")
        return json.dumps(
            {
                "version": 1,
                "unknown": self.UNKNOWN,
                "min_frequency": self.min_frequency,
                "categories": self.categories_,
            }  # fmt: skip
        )

    @classmethod
    def from_json(cls, text: str) -> CategoricalEncoder:
        import json

        try:
            data = json.loads(text)
            encoder = cls(min_frequency=int(data.get("min_frequency", 1)))
            categories = [str(c) for c in data["categories"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidValueError(
                f"text: not a CategoricalEncoder JSON document: {exc}"
            ) from None
        encoder.categories_ = categories
        return encoder

    def save(self, path: str | Path) -> None:
        _io.write_text(self.to_json(), Path(path))

    @classmethod
    def load(cls, path: str | Path) -> CategoricalEncoder:
        return cls.from_json(Path(path).read_text())


def _as_strings(values: Any, argument: str) -> list[Any]:
    """Values as text (None stays None), from a list, numpy array, pandas/polars Series or
    pyarrow array."""
    if hasattr(values, "to_pylist"):
        values = values.to_pylist()
    elif hasattr(values, "tolist"):
        values = values.tolist()
    try:
        values = list(values)
    except TypeError:
        raise InvalidTypeError(f"{argument}: expected a sequence of categories") from None
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and np.isnan(v)) or _missing(v):
            out.append(None)
        elif isinstance(v, float) and v.is_integer():
            out.append(str(int(v)))  # 1.0 is the category 1, as pandas compares them
        else:
            out.append(str(v))
    return out


def _missing(value: Any) -> bool:
    """pandas' NA and NaT, and numpy's NaT: missing values, not the categories '<NA>'/'NaT'."""
    if type(value).__name__ in ("NAType", "NaTType"):
        return True
    return isinstance(value, (np.datetime64, np.timedelta64)) and bool(np.isnat(value))


def temporal_split(
    frame: Any,
    time: str,
    fractions: Sequence[float] = (0.7, 0.1, 0.2),
    *,
    group: str | None = None,
) -> tuple[Any, ...]:
    """Split rows by time: the first ``fractions[0]`` of the rows in time order, then the
    next ``fractions[1]``, … (equal times keep input order). With ``group``, whole groups
    move: each group goes to the part in which its earliest row falls, so no group (user,
    session) is split between training and test.

    Returns one frame of the input's kind per fraction, each in input order.

    Examples
    --------
    >>> import pandas as pd
    >>> from ecomkit.features import temporal_split
    >>> df = pd.DataFrame({"t": pd.date_range("2024-01-01", periods=10), "x": range(10)})
    >>> train, valid, test = temporal_split(df.sample(frac=1, random_state=0), "t")
    >>> sorted(train["x"]), sorted(valid["x"]), sorted(test["x"])
    ([0, 1, 2, 3, 4, 5, 6], [7], [8, 9])
    """
    try:
        fractions = [float(f) for f in fractions]
    except (TypeError, ValueError):
        raise InvalidTypeError("fractions: expected a sequence of numbers") from None
    if not fractions or any(not (f >= 0) for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise InvalidValueError(
            f"fractions: expected non-negative numbers summing to 1, got {fractions}"
        )
    frame, kind = _frames.prepare(frame)
    available = _frames.column_names(frame, kind)
    _frames.require_columns(available, [time], "time")
    if group is not None:
        _frames.require_columns(available, [group], "group")
    import pyarrow as pa

    table = pa.table(_frames.select(frame, kind, [time] + ([group] if group else [])))
    column = table.column(time)
    if not (pa.types.is_timestamp(column.type) or pa.types.is_date(column.type)):
        raise InvalidTypeError(
            f"time (column '{time}'): expected a timestamp or date column, got {column.type}"
        )
    if column.null_count:
        raise InvalidValueError(f"time (column '{time}'): has nulls; every row needs a time")
    times = (
        column.cast(pa.int64()).to_numpy()
        if pa.types.is_timestamp(column.type)
        else (column.cast(pa.date32()).cast(pa.int32()).to_numpy().astype(np.int64))
    )
    n = len(times)
    cuts = np.round(np.cumsum(fractions) * n).astype(np.int64)
    cuts[-1] = n
    order = np.argsort(times, kind="stable")
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    if group is not None:
        import pandas as pd

        keys = table.column(group).to_pandas()
        first = (
            pd.Series(position)
            .groupby(pd.factorize(keys, use_na_sentinel=False)[0])
            .transform("min")
        )
        position = first.to_numpy()
    part = np.searchsorted(cuts, position, side="right")
    out = []
    for p in range(len(fractions)):
        rows = np.flatnonzero(part == p)
        out.append(_frames.take(frame, kind, rows))
    return tuple(out)
