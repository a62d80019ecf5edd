"""Monitoring: drift statistics between a reference and a current sample.

Each function takes two 1-D samples (numpy arrays, lists, pyarrow arrays, pandas or polars
series). Numbers are numeric; strings, booleans, categoricals and dictionaries are
categorical (``categorical=True`` reads numbers as categories too). Nulls and NaN are left
out and counted. The result is a :class:`DriftResult`, read as scipy's results:
``statistic``, ``pvalue`` (NaN for distances), plus ``method``, ``threshold`` and
``drifted``. The numbers are Evidently's stattests (``psi`` with ``binning="evidently"``,
``chisquare``, ``jensenshannon``, ``wasserstein``, ``z``), computed in Rust.

>>> import numpy as np
>>> from ecomkit import monitor
>>> rng = np.random.default_rng(0)
>>> result = monitor.psi(rng.normal(size=5_000), rng.normal(0.5, 1.0, size=5_000))
>>> result.drifted, round(result.statistic, 2)
(True, 0.27)
>>> monitor.chi2_test(["a", "b", "a", "c"] * 50, ["a", "b", "b", "c"] * 50).method
'chisquare'
"""

from __future__ import annotations

from typing import Any

from . import _check, _ecomkit, _frames

DriftResult = _ecomkit.DriftResult

__all__ = [
    "DriftResult",
    "chi2_test",
    "jensen_shannon",
    "proportion_z_test",
    "psi",
    "wasserstein",
]


def _test(method: str, reference: Any, current: Any, threshold: Any, *, bins: int = 10,
          binning: str = "quantile", categorical: bool = False) -> DriftResult:  # fmt: skip
    return _ecomkit.drift_test(
        method,
        _frames.to_arrow_array(reference, "reference"),
        _frames.to_arrow_array(current, "current"),
        _check.non_negative_int(bins, "bins"),  # the rule (>= 2) is Rust's
        binning,
        None if threshold is None else _check.real(threshold, "threshold"),
        _check.boolean(categorical, "categorical"),
    )


def psi(reference: Any, current: Any, *, bins: int = 10, binning: str = "quantile",
        threshold: float | None = None, categorical: bool = False) -> DriftResult:  # fmt: skip
    """Population stability index, Σ (ref − cur) · ln(ref / cur) over shared bins; drifted
    when ≥ ``threshold`` (default 0.1).

    ``binning="quantile"``: ``bins`` quantile bins of the reference (first and last
    open-ended), shares floored at 1e-4. ``binning="evidently"``: Evidently's ``psi``
    (Sturges edges over both samples when the reference has more than 20 distinct values,
    else one bin per value; its zero-share replacement). Categories get one bin each.

    >>> psi(range(1, 11), range(5, 15), bins=5).drifted
    True
    """
    return _test("psi", reference, current, threshold, bins=bins, binning=binning,
                 categorical=categorical)  # fmt: skip


def chi2_test(reference: Any, current: Any, *, threshold: float | None = None) -> DriftResult:
    """Chi-squared test of the current category counts against the reference shares
    (expected = reference counts × n current / n reference, ``scipy.stats.chisquare``);
    drifted when p < ``threshold`` (default 0.05). Numbers are read as categories.

    >>> result = chi2_test(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    >>> result.statistic, round(result.pvalue, 4), result.drifted
    (1.0, 0.3173, False)
    """
    return _test("chisquare", reference, current, threshold, categorical=True)


def jensen_shannon(reference: Any, current: Any, *, threshold: float | None = None,
                   categorical: bool = False) -> DriftResult:  # fmt: skip
    """``scipy.spatial.distance.jensenshannon`` (natural log) of the shares on Evidently's
    bins; drifted when ≥ ``threshold`` (default 0.1).

    >>> round(jensen_shannon(["a", "a", "b", "b"], ["a", "b", "b", "b"]).statistic, 4)
    0.1839
    """
    return _test("jensenshannon", reference, current, threshold, categorical=categorical)


def wasserstein(reference: Any, current: Any, *, threshold: float | None = None) -> DriftResult:
    """``scipy.stats.wasserstein_distance`` divided by max(population std of the reference,
    0.001), as Evidently norms it; drifted when ≥ ``threshold`` (default 0.1).

    >>> round(wasserstein([0.0, 1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0]).statistic, 4)
    0.8944
    """
    return _test("wasserstein", reference, current, threshold)


def proportion_z_test(reference: Any, current: Any, *,
                      threshold: float | None = None) -> DriftResult:  # fmt: skip
    """Evidently's two-proportion z test for binary columns: the first category in sorted
    order is "0", any other "1"; two-sided p = 2 · (1 − Φ(|z|)); drifted when
    p < ``threshold`` (default 0.05).

    >>> result = proportion_z_test([0, 0, 1, 1] * 25, [0, 1, 1, 1] * 25)
    >>> round(result.statistic, 4), result.drifted
    (-3.6515, True)
    """
    return _test("z", reference, current, threshold, categorical=True)
