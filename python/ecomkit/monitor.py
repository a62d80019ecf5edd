"""Monitoring: drift statistics between a reference and a current sample.

Each function takes two 1-D samples (numpy arrays, lists, pyarrow arrays, pandas or polars
series). Numbers are numeric; strings, booleans, categoricals and dictionaries are
categorical (``categorical=True`` reads numbers as categories too). Nulls and NaN are left
out and counted. The result is a :class:`DriftResult`, read as scipy's results:
``statistic``, ``pvalue`` (NaN for distances), plus ``method``, ``threshold`` and
``drifted``. The numbers are Evidently's stattests (``psi`` with ``binning="evidently"``,
``chisquare``, ``jensenshannon``, ``wasserstein``, ``z``, ``ks``), computed in Rust.

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

import html
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from . import _check, _ecomkit, _frames
from .errors import InvalidTypeError, InvalidValueError

DriftResult = _ecomkit.DriftResult

__all__ = [
    "DriftReport",
    "DriftResult",
    "chi2_test",
    "drift",
    "jensen_shannon",
    "ks_test",
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


def ks_test(reference: Any, current: Any, *, threshold: float | None = None) -> DriftResult:
    """Two-sample Kolmogorov–Smirnov test, equal to ``scipy.stats.ks_2samp`` (two-sided,
    ``method="auto"``: exact p-value up to 10,000 values per sample, else asymptotic);
    drifted when p ≤ ``threshold`` (default 0.05), as Evidently's ``ks``.

    >>> result = ks_test([1.0, 2.0, 3.0, 4.0], [3.0, 4.0, 5.0, 6.0])
    >>> result.statistic, round(result.pvalue, 4), result.drifted
    (0.5, 0.7714, False)
    """
    return _test("ks", reference, current, threshold)


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


def _per_column(value: Any, columns: list[str], argument: str, read: Any) -> list[Any]:
    """One value for every column, from one value or a dict of column → value."""
    if isinstance(value, Mapping):
        _frames.require_columns(columns, [str(k) for k in value], argument)
        return [read(value[c], f"{argument}['{c}']") if c in value else None for c in columns]
    return [read(value, argument)] * len(columns)


def _method(value: Any, argument: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidTypeError(f"{argument}: expected a method name such as 'ks', got {value!r}")
    return None if value == "auto" else value  # names are checked by Rust


def _threshold(value: Any, argument: str) -> float | None:
    return None if value is None else _check.real(value, argument)


def drift(reference: Any, current: Any, columns: str | Sequence[str] | None = None, *,
          method: str | Mapping[str, str] = "auto",
          threshold: float | Mapping[str, float] | None = None,
          by: str | Sequence[str] | None = None, drift_share: float = 0.5, bins: int = 10,
          binning: str = "quantile") -> DriftReport:  # fmt: skip
    """The drift of every column between two frames (pandas, polars, pyarrow, or anything
    with ``__arrow_c_stream__``): one row per column, and per group of ``by``.

    ``columns``: the columns to compare (default: every column of ``reference`` that
    ``current`` also has, except ``by``). ``method="auto"`` picks what Evidently's
    ``DataDriftPreset`` picks (see docs/monitor.md); else one of ``psi``, ``ks``,
    ``chisquare``, ``jensenshannon``, ``wasserstein``, ``z``, or a dict of column → method
    (missing columns: auto). ``threshold``: one number or a dict (default: each method's).
    ``dataset_drift`` is true when the share of drifted columns is at least
    ``drift_share``. ``bins`` and ``binning`` are those of :func:`psi`.

    >>> import pandas as pd
    >>> reference = pd.DataFrame({"price": [float(i % 50) for i in range(500)],
    ...                           "event": ["view", "cart"] * 250})
    >>> current = pd.DataFrame({"price": [float(i % 50) + 20 for i in range(500)],
    ...                         "event": ["view", "cart"] * 250})
    >>> report = drift(reference, current)
    >>> report.to_dataframe()[["column", "kind", "method", "drifted"]]
      column         kind method  drifted
    0  price      numeric     ks     True
    1  event  categorical      z    False
    >>> report.share_drifted, report.dataset_drift
    (0.5, True)
    """
    reference, kind = _frames.prepare(reference, "reference")
    current, current_kind = _frames.prepare(current, "current")
    by = _check.names(by, "by")
    reference_names = _frames.column_names(reference, kind)
    current_names = _frames.column_names(current, current_kind)
    if columns is None:
        present = set(current_names)
        columns = [c for c in reference_names if c in present and c not in by]
    else:
        columns = list(dict.fromkeys(_check.names(columns, "columns")))
    _frames.require_columns(reference_names, columns + by, "reference")
    _frames.require_columns(current_names, columns + by, "current")
    methods = _per_column(method, columns, "method", _method)
    thresholds = _per_column(threshold, columns, "threshold", _threshold)
    table, share, dataset_drift = _ecomkit.drift_report(
        _frames.select(reference, kind, by + columns),
        _frames.select(current, current_kind, by + columns),
        columns,
        methods,
        thresholds,
        by,
        _check.non_negative_int(bins, "bins"),  # the rule (>= 2) is Rust's
        binning,
        _check.real(drift_share, "drift_share"),  # the range is Rust's
    )
    report = DriftReport(pa.table(table), share, dataset_drift, drift_share=drift_share,
                         by=by, kind=kind)  # fmt: skip
    report._samples = (reference, kind, current, current_kind)
    return report


class DriftReport:
    """One row per column (and ``by`` group): ``column``, ``kind``, ``method``,
    ``statistic``, ``p_value``, ``threshold``, ``drifted``, the counts of values and missing
    values on each side, and a ``message`` when a column could not be compared; plus
    ``share_drifted`` and ``dataset_drift``. ``to_dataframe()`` (the reference's kind of
    frame), ``to_arrow()``, ``to_markdown()``, ``to_dict()`` / ``to_json()``, ``plot()``;
    renders as HTML in notebooks."""

    def __init__(self, table: pa.Table, share_drifted: float, dataset_drift: bool, *,
                 drift_share: float, by: list[str], kind: str = "pandas") -> None:  # fmt: skip
        self._table = table
        self.share_drifted = share_drifted
        self.dataset_drift = dataset_drift
        self.drift_share = drift_share
        self.by = by
        self._kind = kind
        self._samples: tuple[Any, str, Any, str] | None = None

    @property
    def drifted_columns(self) -> list[str]:
        """The drifted columns, each once, in report order."""
        rows = self._table.filter(self._table.column("drifted")).column("column").to_pylist()
        return list(dict.fromkeys(rows))

    def to_arrow(self) -> pa.Table:
        return self._table

    def to_dataframe(self) -> Any:
        """The rows as a frame of the reference's kind (pandas, polars or pyarrow)."""
        return _frames.from_arrow(self._table, self._kind)

    def to_dict(self) -> dict[str, Any]:
        """Plain Python values (NaN → None), JSON-able."""

        def clean(value: Any) -> Any:
            return None if isinstance(value, float) and math.isnan(value) else value

        return {
            "dataset_drift": self.dataset_drift,
            "share_drifted": self.share_drifted,
            "drift_share": self.drift_share,
            "by": self.by,
            "rows": [{k: clean(v) for k, v in r.items()} for r in self._table.to_pylist()],
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    def _cells(self) -> tuple[list[str], list[list[str]]]:
        shown = self.by + ["column", "kind", "method", "statistic", "p_value", "threshold",
                           "drifted", "n_reference", "n_current", "message"]  # fmt: skip

        def fmt(value: Any) -> str:
            if value is None or (isinstance(value, float) and math.isnan(value)):
                return ""
            if isinstance(value, bool):
                return "yes" if value else "no"
            if isinstance(value, float):
                return f"{value:.4g}"
            if isinstance(value, int):
                return f"{value:,}"
            return str(value)

        rows = [[fmt(r[n]) for n in shown] for r in self._table.to_pylist()]
        return shown, rows

    def summary(self) -> str:
        """One line: how many columns drifted, and the verdict."""
        measured = sum(1 for m in self._table.column("method").to_pylist() if m is not None)
        drifted = sum(self._table.column("drifted").to_pylist())
        verdict = "dataset drift" if self.dataset_drift else "no dataset drift"
        names = ", ".join(self.drifted_columns)
        return (
            f"{drifted} of {measured} columns drifted ({self.share_drifted:.0%}; "
            f"drift_share {self.drift_share:g}): {verdict}" + (f" [{names}]" if names else "")
        )

    def to_markdown(self) -> str:
        """The verdict, then a Markdown table of the rows."""
        header, rows = self._cells()
        lines = [self.summary() + ".", "", "| " + " | ".join(header) + " |",
                 "|" + "|".join("---" for _ in header) + "|"]  # fmt: skip
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines) + "\n"

    def _repr_html_(self) -> str:
        header, rows = self._cells()
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows
        )
        return (
            f"<p>{html.escape(self.summary())}</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )

    def __repr__(self) -> str:
        return f"DriftReport({self.summary()})"

    def plot(self, path: str | Path | None = None, *, columns: Sequence[str] | None = None,
             max_columns: int = 6, title: str | None = None) -> Any:  # fmt: skip
        """Reference vs current histograms of the drifted columns (or of ``columns``), at
        most ``max_columns``. Returns the matplotlib Figure; with ``path``, also writes a
        PNG. Needs ``ecomkit[plot]`` and the frames the report was made from."""
        from . import plots

        if self._samples is None:
            raise InvalidValueError("plot: this report does not hold its frames (made by drift())")
        shown = _check.names(columns, "columns") if columns is not None else self.drifted_columns
        return plots.drift(self, shown[: _check.positive_int(max_columns, "max_columns")],
                           path, title=title)  # fmt: skip
