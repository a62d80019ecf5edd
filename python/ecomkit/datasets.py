"""Seeded synthetic data sets, generated in Rust: same seed, same data, on any machine."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from . import _check, _ecomkit, _frames
from .errors import InvalidTypeError, InvalidValueError

__all__ = [
    "Svmlight",
    "asin_daily",
    "clickstream",
    "experiment_units",
    "exploding_asins",
    "load_svmlight",
    "run",
]

_EPOCH = dt.date(1970, 1, 1)


def _start_day(start: str | dt.date) -> int:
    if isinstance(start, str):
        try:
            start = dt.date.fromisoformat(start)
        except ValueError:
            raise InvalidValueError(
                f"start: expected an ISO date like '2024-01-01', got {start!r}"
            ) from None
    if not isinstance(start, dt.date):
        raise InvalidTypeError(f"start: expected a date or an ISO date string, got {start!r}")
    return (start - _EPOCH).days


def asin_daily(
    n_asins: int,
    n_days: int,
    seed: int = 0,
    *,
    start: str | dt.date = "2024-01-01",
    backend: str = "pandas",
) -> Any:
    """Daily snapshots of Amazon-like products.

    Columns ``site``, ``category``, ``asin``, ``date``, ``bsr`` (best-seller rank, int),
    ``price``, ``review_count`` (cumulative, int), ``rating`` (1-5, one decimal); sorted by
    ASIN then date. BSR follows a log random walk with a drift per product, prices change
    rarely and dip on one-day discounts, reviews arrive faster for better-ranked products,
    about one product in five launches during the period, days go missing (single days and
    short outages), and about 2% of products "explode" in the last quarter: their BSR falls
    fast and reviews jump (``exploding_asins`` lists them).

    ``backend`` is ``"pandas"``, ``"polars"`` or ``"pyarrow"``.

    Examples
    --------
    >>> from ecomkit.datasets import asin_daily
    >>> df = asin_daily(3, 5, seed=1)
    >>> list(df.columns)
    ['site', 'category', 'asin', 'date', 'bsr', 'price', 'review_count', 'rating']
    >>> df.equals(asin_daily(3, 5, seed=1))
    True
    """
    n_asins = _check.positive_int(n_asins, "n_asins")
    n_days = _check.positive_int(n_days, "n_days")
    seed = _check.non_negative_int(seed, "seed")
    _check.choice(backend, "backend", _frames.KINDS)
    table = _ecomkit.asin_daily(n_asins, n_days, seed, _start_day(start))
    return _frames.from_arrow(table, backend)


def clickstream(
    n_users: int,
    n_days: int,
    seed: int = 0,
    *,
    start: str | dt.date = "2024-01-01",
    backend: str = "pandas",
) -> Any:
    """RetailRocket-shaped click-stream events.

    Columns ``timestamp`` (UTC, ms), ``visitorid``, ``event`` (``"view"``,
    ``"addtocart"``, ``"transaction"``), ``itemid`` and ``transactionid`` (set on
    transactions only), plus the item's ``categoryid`` and ``price`` (RetailRocket keeps
    those in its item properties), in time order. Visitors have their own activity rates (a few are
    very active), sessions hold a handful of views with gaps of seconds to minutes, some
    views lead to an add-to-cart and some carts to a purchase; popular items get most views;
    sessions lean towards daytime hours (UTC). About 1.5 events per visitor and day.

    Examples
    --------
    >>> from ecomkit.datasets import clickstream
    >>> clicks = clickstream(50, 7, seed=1)
    >>> list(clicks.columns)
    ['timestamp', 'visitorid', 'event', 'itemid', 'transactionid', 'categoryid', 'price']
    >>> sorted(clicks["event"].unique())
    ['addtocart', 'transaction', 'view']
    >>> clicks["timestamp"].is_monotonic_increasing
    True
    """
    n_users = _check.positive_int(n_users, "n_users")
    n_days = _check.positive_int(n_days, "n_days")
    seed = _check.non_negative_int(seed, "seed")
    _check.choice(backend, "backend", _frames.KINDS)
    table = _ecomkit.clickstream(n_users, n_days, seed, _start_day(start))
    return _frames.from_arrow(table, backend)


def exploding_asins(n_asins: int, n_days: int, seed: int = 0) -> dict[str, int]:
    """The ASINs that ``asin_daily`` with the same arguments makes explode, mapped to the
    day index (0 = first day) on which the explosion starts.

    >>> from ecomkit.datasets import exploding_asins
    >>> exploding = exploding_asins(500, 120, seed=0)
    >>> 0 < len(exploding) < 30
    True
    """
    n_asins = _check.positive_int(n_asins, "n_asins")
    n_days = _check.positive_int(n_days, "n_days")
    seed = _check.non_negative_int(seed, "seed")
    return dict(_ecomkit.exploding_asins(n_asins, n_days, seed))


def experiment_units(
    n_users: int, seed: int = 0, *, lift: float = 0.05, backend: str = "pandas"
) -> Any:
    """One row per user of a two-arm experiment with a known true effect.

    Columns ``user_id``, ``variant`` (``"control"`` / ``"treatment"``, assigned with
    GrowthBook's hash under the experiment key ``"demo-ranker"``, as
    ``TrafficSplitter("demo-ranker", ["control", "treatment"])`` does), ``day`` (0-13),
    ``pre_spend`` (pre-period spend: a CUPED covariate), ``impressions``, ``clicks``,
    ``converted`` (0/1) and ``gmv``. The treatment multiplies the click and conversion
    probabilities by ``1 + lift``: the true relative lift of ``converted`` and of clicks per
    impression is ``lift``.

    >>> from ecomkit.datasets import experiment_units
    >>> df = experiment_units(1000, seed=1)
    >>> sorted(df["variant"].unique())
    ['control', 'treatment']
    """
    n_users = _check.positive_int(n_users, "n_users")
    seed = _check.non_negative_int(seed, "seed")
    lift = _check.real(lift, "lift")
    _check.choice(backend, "backend", _frames.KINDS)
    return _frames.from_arrow(_ecomkit.experiment_units(n_users, seed, lift), backend)


class Svmlight(NamedTuple):
    """A LibSVM file: ``X`` (float64, rows × features: a dense array, or a
    ``scipy.sparse.csr_matrix`` with ``sparse=True``), ``y``, and ``group`` (int32 query
    sizes from the ``.query`` file beside it, or ``None``)."""

    X: Any
    y: np.ndarray
    group: np.ndarray | None


def load_svmlight(path: str | Path, *, sparse: bool = False) -> Svmlight:
    """Read a LibSVM / SVMlight text file (``label index:value ...`` per line) and, when
    ``<path>.query`` exists (LightGBM's convention), its query group sizes. Feature index
    ``j`` is column ``j`` (as LightGBM reads the file); absent entries are 0. The file is
    read as a sparse matrix; ``sparse=True`` returns it as ``scipy.sparse.csr_matrix`` (what
    ``train_lambdarank`` and ``Model.predict`` take as well), the default as a dense array
    (refused, with a named error, beyond 2³¹ values). Unpacks as
    ``X, y, group = load_svmlight(path)``."""
    sparse = _check.boolean(sparse, "sparse")
    x, y, group = _ecomkit.load_svmlight(Path(path), sparse)
    if sparse:
        import scipy.sparse

        indptr, indices, values, n_features = x
        x = scipy.sparse.csr_matrix((values, indices, indptr), shape=(len(y), n_features))
    else:
        values, n_features = x
        x = values.reshape(len(y), n_features)
    return Svmlight(x, y, None if group is None else np.array(group, np.int32))


def ranking(n_asins: int, n_days: int, seed: int = 0, *, backend: str = "pandas") -> Any:
    """Products of ``asin_daily(n_asins, n_days, seed)`` at their latest day as a learning-to-
    rank task: one query per site × category (``group``), ``label`` 1 for the products
    generated to explode (``exploding_asins``) and 0 for the rest, the ASIN features of
    :func:`ecomkit.features.asin_daily_features`, ``log_bsr``, and two baselines to beat:
    ``popularity`` (minus the best-seller rank: the best sellers first) and the demo's
    ``explosive_score`` (with its ``z_*`` columns and ``rank``).

    >>> from ecomkit.datasets import ranking
    >>> task = ranking(200, 40, seed=1, backend="pyarrow")
    >>> task.num_rows, sorted(set(task["label"].to_pylist()))
    (200, [0, 1])
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from .demo import BY, WEIGHTS, latest_features
    from .score import explosive_score

    _check.choice(backend, "backend", _frames.KINDS)
    snapshot = latest_features(asin_daily(n_asins, n_days, seed, backend="pyarrow"))
    scored = explosive_score(snapshot, WEIGHTS, BY, clip=10.0)
    exploding = pa.array(list(exploding_asins(n_asins, n_days, seed)), pa.string())
    label = pc.is_in(scored["asin"], value_set=exploding).cast(pa.int64())
    group = pc.binary_join_element_wise(scored["site"], scored["category"], " / ")
    bsr = scored["bsr"].cast(pa.float64())
    table = scored.append_column("label", label).append_column("group", group)
    table = table.append_column("log_bsr", pc.ln(bsr))
    return _frames.from_arrow(table.append_column("popularity", pc.negate(bsr)), backend)


#: The data sets ``ecomkit generate --dataset`` writes, and the sizes each one reads.
DATASETS = ("asin_daily", "clickstream", "experiment_units", "ranking")


run = _check.moved("ecomkit.datasets.run", "generate")
