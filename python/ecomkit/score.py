"""Robust z-scores and the weighted "explosive score", per group.

Within each group (for example site × category) a feature is centred on its median and
divided by its scaled median absolute deviation (MAD), so one outlier cannot move the
yardstick. The explosive score is the weighted sum of those z-scores, ranked within the
group. Conventions (written down in ``docs/score.md``):

- NaN, null and ±inf are missing: they do not enter the median or MAD; their z is NaN.
- scale = 1.482602218505602 × MAD, as ``scipy.stats.median_abs_deviation(x,
  scale="normal")``. When MAD = 0, ``zero_mad="mean_ad"`` (default) falls back to
  1.2533141373155003 × the mean absolute deviation from the median; when that is 0 too (all
  values equal, or a one-row group) every z of the group is 0. ``zero_mad="zero"`` makes
  every z of a zero-MAD group 0. No inf and no division by zero ever reach the output.
- In the weighted sum a missing z counts as 0 (the group median); a row whose weighted
  z-scores are all missing has a NaN score, ranks last and never enters a top-N.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import _check, _ecomkit, _frames

__all__ = ["robust_zscore", "explosive_score", "group_stats", "run"]

ZERO_MAD = ("mean_ad", "zero")


def robust_zscore(
    values: Any,
    groups: Any = None,
    *,
    clip: float | None = None,
    zero_mad: str = "mean_ad",
) -> np.ndarray:
    """Robust z-scores ``(x - median_g) / (1.4826 * MAD_g)`` within each group ``g``.

    Parameters
    ----------
    values : array-like of numbers
        numpy array (read without a copy when float64), pandas/polars Series, pyarrow array.
    groups : array-like of ints or strings, optional
        The group of each value; None puts every value in one group.
    clip : float, optional
        Clip every z to ``[-clip, clip]``.
    zero_mad : {"mean_ad", "zero"}
        What a group whose MAD is 0 yields (see the module docstring).

    Returns
    -------
    numpy.ndarray of float64, aligned with ``values``.

    Examples
    --------
    >>> import numpy as np
    >>> from ecomkit.score import robust_zscore
    >>> z = robust_zscore(np.array([1.0, 2.0, 3.0, 4.0, 100.0]))
    >>> z.round(3).tolist()
    [-1.349, -0.674, 0.0, 0.674, 65.426]
    >>> robust_zscore([1.0, 2.0, 5.0, 7.0], groups=["a", "a", "b", "b"])
    array([-0.67448975,  0.67448975, -0.67448975,  0.67448975])
    """
    _check.choice(zero_mad, "zero_mad", ZERO_MAD)
    clip = _check.optional_positive_real(clip, "clip")
    array = _frames.to_float64(values, "values")
    keys = None if groups is None else _frames.to_arrow_array(groups, "groups")
    return _ecomkit.robust_zscore(array, keys, clip=clip, zero_mad=zero_mad)


def explosive_score(
    frame: Any,
    weights: Mapping[str, float],
    by: str | Sequence[str] = (),
    *,
    top_n: int | None = None,
    clip: float | None = None,
    zero_mad: str = "mean_ad",
) -> Any:
    """Weighted robust z-scores of feature columns, ranked within groups.

    Parameters
    ----------
    frame : pandas, polars or pyarrow frame (or any object with ``__arrow_c_stream__``)
    weights : mapping of feature column to weight
        A negative weight means "lower is better" (e.g. ``{"bsr": -1.0}``).
    by : column name or sequence of names
        Group columns; ``()`` scores all rows as one group.
    top_n : int, optional
        Keep only the ``top_n`` best-ranked rows of each group (in input order; rows with a
        NaN score are never kept).
    clip : float, optional
        Clip every z to ``[-clip, clip]`` before weighting.
    zero_mad : {"mean_ad", "zero"}
        What a group whose MAD is 0 yields.

    Returns
    -------
    A frame of the input's kind: the input columns, ``z_<feature>`` per weighted feature,
    ``explosive_score`` (Σ weight × z) and ``rank`` (int64; 1 = highest score in the group,
    equal scores ranked in input order, NaN scores last). Existing columns of those names
    are replaced. pandas keeps its index; polars and pyarrow show a missing z as null.

    Examples
    --------
    >>> import pandas as pd
    >>> from ecomkit.score import explosive_score
    >>> df = pd.DataFrame({"category": ["toys", "toys", "toys", "books", "books"],
    ...                    "bsr": [500, 20, 800, 10, 30],
    ...                    "reviews": [3, 40, 1, 9, 2]})
    >>> out = explosive_score(df, {"bsr": -1.0, "reviews": 1.0}, by="category")
    >>> out[["category", "bsr", "explosive_score", "rank"]].round(3)
      category  bsr  explosive_score  rank
    0     toys  500            0.000     2
    1     toys   20           13.557     1
    2     toys  800           -1.349     3
    3    books   10            1.349     1
    4    books   30           -1.349     2
    >>> explosive_score(df, {"bsr": -1.0}, by="category", top_n=1)["bsr"].tolist()
    [20, 10]
    """
    pairs = _check.weights(weights)
    by = _check.names(by, "by")
    top_n = _check.optional_positive_int(top_n, "top_n")
    clip = _check.optional_positive_real(clip, "clip")
    _check.choice(zero_mad, "zero_mad", ZERO_MAD)
    frame, kind = _frames.prepare(frame)
    features = [name for name, _ in pairs]
    available = _frames.column_names(frame, kind)
    _frames.require_columns(available, by, "by")
    _frames.require_columns(available, features, "weights")
    columns, top_rows = _ecomkit.explosive_score(
        _frames.select(frame, kind, by + features),
        pairs,
        by,
        top_n=top_n,
        clip=clip,
        zero_mad=zero_mad,
    )
    return _frames.with_result(frame, kind, columns, top_rows)


def group_stats(
    frame: Any,
    features: str | Sequence[str],
    by: str | Sequence[str] = (),
    *,
    zero_mad: str = "mean_ad",
) -> Any:
    """Per group and feature: ``count``, ``n_nan``, ``median``, ``mad`` and ``scale``.

    The table to read when scores jump around. ``count`` is the number of finite values
    that entered the statistics, ``n_nan`` the missing ones (NaN, null, ±inf), ``mad`` the
    unscaled median absolute deviation (scipy's default ``scale=1.0``), and ``scale`` the
    divisor of the z-scores (1.4826 × mad, the mean-AD fallback, or 0 when every z of the
    group is 0). One row per group (in order of first appearance) and feature (in the order
    given), with the ``by`` columns first; returned as a frame of the input's kind.

    Examples
    --------
    >>> import pandas as pd
    >>> from ecomkit.score import group_stats
    >>> df = pd.DataFrame({"site": ["US", "US", "US", "DE"], "bsr": [10.0, 20.0, 60.0, 5.0]})
    >>> group_stats(df, "bsr", by="site")
      site feature  count  n_nan  median   mad      scale
    0   US     bsr      3      0    20.0  10.0  14.826022
    1   DE     bsr      1      0     5.0   0.0   0.000000
    """
    features = _check.names(features, "features")
    by = _check.names(by, "by")
    _check.choice(zero_mad, "zero_mad", ZERO_MAD)
    frame, kind = _frames.prepare(frame)
    available = _frames.column_names(frame, kind)
    _frames.require_columns(available, by, "by")
    _frames.require_columns(available, features, "features")
    table = _ecomkit.group_stats(
        _frames.select(frame, kind, by + features), features, by, zero_mad=zero_mad
    )
    return _frames.from_arrow(table, kind)


def plot_group_stats(frame: Any, by: str | Sequence[str], score: str = "explosive_score",
                     path: str | Path | None = None, *, max_groups: int = 30) -> Any:  # fmt: skip
    """The distribution of ``score`` (by default the explosive score of
    :func:`explosive_score`'s output) per group of ``by``, a box per group: the picture
    beside :func:`group_stats`' table. Returns the Figure; with ``path``, also writes a PNG.
    Needs matplotlib (``pip install 'ecomkit[plot]'``)."""
    from . import plots

    return plots.group_stats(frame, by, score, path, max_groups=max_groups)


run = _check.moved("ecomkit.score.run", "score")
