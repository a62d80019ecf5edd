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
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow as pa

from . import _check, _ecomkit, _frames
from .errors import InvalidTypeError, InvalidValueError, ValidationFailed

DriftResult = _ecomkit.DriftResult

__all__ = [
    "Counts",
    "DriftReport",
    "Profile",
    "DriftResult",
    "QualityReport",
    "CleanedEvents",
    "chi2_test",
    "clean_events",
    "drift",
    "jensen_shannon",
    "ks_test",
    "profile",
    "proportion_z_test",
    "psi",
    "validate",
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
    ``current`` also has, except ``by`` and times). ``method="auto"`` picks what Evidently's
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
    default = columns is None
    if default:
        present = set(current_names)
        columns = [c for c in reference_names if c in present and c not in by]
    else:
        columns = list(dict.fromkeys(_check.names(columns, "columns")))
    _frames.require_columns(reference_names, columns + by, "reference")
    _frames.require_columns(current_names, columns + by, "current")
    reference_view = _frames.select(reference, kind, by + columns)
    current_view = _frames.select(current, current_kind, by + columns)
    if default:
        columns = _ecomkit.drift_columns(reference_view, columns)
    methods = _per_column(method, columns, "method", _method)
    thresholds = _per_column(threshold, columns, "threshold", _threshold)
    table, share, dataset_drift = _ecomkit.drift_report(
        reference_view,
        current_view,
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


def _cell(value: Any) -> str:
    """A report cell as text: NaN and None empty, booleans yes/no, 4 significant digits."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    return str(value)


def _clean(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


class _Report:
    """What every monitoring report shares: its rows as an Arrow table, shown as a frame,
    Markdown, HTML and JSON. A report defines ``summary()``, ``_shown`` and ``to_dict()``."""

    _table: pa.Table
    _kind: str
    _shown: list[str]

    def summary(self) -> str:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def _rows(self) -> list[dict[str, Any]]:
        return [{k: _clean(v) for k, v in r.items()} for r in self._table.to_pylist()]

    def to_arrow(self) -> pa.Table:
        return self._table

    def to_dataframe(self) -> Any:
        """The rows as a frame of the input's kind (pandas, polars or pyarrow)."""
        return _frames.from_arrow(self._table, self._kind)

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    def _cells(self) -> list[list[str]]:
        return [[_cell(r[n]) for n in self._shown] for r in self._table.to_pylist()]

    def to_markdown(self) -> str:
        """The verdict, then a Markdown table of the rows."""
        header = self._shown
        lines = [self.summary() + ".", "", "| " + " | ".join(header) + " |",
                 "|" + "|".join("---" for _ in header) + "|"]  # fmt: skip
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |"
                  for r in self._cells()]  # fmt: skip
        return "\n".join(lines) + "\n"

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self._shown)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
            for r in self._cells()
        )
        return (
            f"<p>{html.escape(self.summary())}</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.summary()})"


class DriftReport(_Report):
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
        self._shown = by + ["column", "kind", "method", "statistic", "p_value", "threshold",
                            "drifted", "n_reference", "n_current", "message"]  # fmt: skip

    @property
    def drifted_columns(self) -> list[str]:
        """The drifted columns, each once, in report order."""
        rows = self._table.filter(self._table.column("drifted")).column("column").to_pylist()
        return list(dict.fromkeys(rows))

    def to_dict(self) -> dict[str, Any]:
        """Plain Python values (NaN → None), JSON-able."""

        return {
            "dataset_drift": self.dataset_drift,
            "share_drifted": self.share_drifted,
            "drift_share": self.drift_share,
            "by": self.by,
            "rows": self._rows(),
        }

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


def _rules(rules: Any) -> Any:
    """The rules dict, from a dict or from the ``[validate]`` section of a settings file."""
    if isinstance(rules, (str, Path)):
        from . import settings

        section = settings.load_section(rules, "validate")
        if not section:
            raise InvalidValueError(f"rules: '{rules}' has no [validate] section")
        return section
    if not isinstance(rules, Mapping):
        raise InvalidTypeError(
            f"rules: expected a dict of rules or the path of a settings file, got "
            f"{type(rules).__name__}"
        )
    return rules  # the shape and every value are checked by Rust


def _as_of(value: Any) -> int:
    """``as_of`` as nanoseconds since the epoch; a naive time is UTC, as the kernels read
    naive timestamps."""
    import datetime as dt

    if value is None:
        return time.time_ns()
    if hasattr(value, "value") and hasattr(value, "tz_localize"):  # pandas.Timestamp
        value = value.tz_localize("UTC") if value.tzinfo is None else value
        return int(value.value)
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidValueError(
                f"as_of: expected an ISO time such as '2026-12-01T06:00:00Z', got {value!r}"
            ) from None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
        return (value - epoch) // dt.timedelta(microseconds=1) * 1000
    raise InvalidTypeError(
        f"as_of: expected a datetime, a pandas Timestamp or an ISO text, got {value!r}"
    )


def validate(frame: Any, rules: Mapping[str, Any] | str | Path, *,
             references: Mapping[str, Any] | None = None,
             as_of: Any = None) -> QualityReport:  # fmt: skip
    """Checks data-quality ``rules`` on ``frame`` (pandas, polars, pyarrow, …), all in one
    Rust pass, and returns a :class:`QualityReport` with one row per rule.

    ``rules`` is a dict (or the path of a settings file whose ``[validate]`` section holds
    it) of ``columns`` (per column: ``not_null``, ``dtype``, ``min``, ``max``,
    ``max_null_fraction``, ``in``, ``pattern``), ``unique``, ``ordered``, ``references``,
    ``freshness``, ``volume``, ``coverage`` and ``anomaly``; see docs/monitor.md.
    ``references`` holds the frames ``references`` rules name (``{"products": frame}``),
    ``as_of`` the time ``freshness`` measures against (default: now; a naive time is UTC).

    >>> import pandas as pd
    >>> events = pd.DataFrame({"user_id": ["u1", "u2", None, "u1"],
    ...                        "price": [9.5, -1.0, 3.0, 9.5],
    ...                        "event": ["view", "view", "click", "view"]})
    >>> report = validate(events, {
    ...     "columns": {"user_id": {"not_null": True}, "price": {"min": 0.0},
    ...                 "event": {"in": ["view", "addtocart", "transaction"]}},
    ...     "unique": [["user_id", "price"]]})
    >>> report.passed
    False
    >>> report.to_dataframe()[["rule", "column", "passed", "n_failed", "examples"]]
           rule          column  passed  n_failed examples
    0  not_null         user_id   False         1      [2]
    1       min           price   False         1      [1]
    2        in           event   False         1      [2]
    3    unique  user_id,price   False         1      [3]
    """
    frame, kind = _frames.prepare(frame, "frame")
    rules = _rules(rules)
    if references is not None and not isinstance(references, Mapping):
        raise InvalidTypeError(
            f"references: expected a dict of name → frame, got {type(references).__name__}"
        )
    reference_frames = []
    for name, other in (references or {}).items():
        other, other_kind = _frames.prepare(other, f"references['{name}']")
        names = _frames.column_names(other, other_kind)
        reference_frames.append((str(name), _frames.select(other, other_kind, names)))
    table, passed, rows, periods = _ecomkit.validate(
        _frames.select(frame, kind, _frames.column_names(frame, kind)),
        rules,
        reference_frames,
        _as_of(as_of),
    )
    return QualityReport(pa.table(table), passed, rows, periods, frame=frame, kind=kind)


class CleanedEvents(NamedTuple):
    """What :func:`clean_events` returns: two frames of the input's kind."""

    events: Any
    """The kept rows in input order (a new 0, 1, … index), the time column in UTC."""
    dropped: Any
    """The dropped rows: ``row`` (the input row number), ``reason`` (``"duplicate"`` or
    ``"bot"``), then the input's columns (the time in UTC)."""


def clean_events(frame: Any, user: str = "visitorid", time: str = "timestamp", *,
                 max_events_per_minute: float | None = None, duplicates: bool = True,
                 time_zone: str = "UTC") -> CleanedEvents:  # fmt: skip
    """Cleans a click stream (RetailRocket's columns by default), the step after
    :func:`validate`: drops exact duplicate events (rows equal in every column to an
    earlier row; the first is kept) and, with ``max_events_per_minute``, every event of a
    user with more events than that within some 60 seconds (a bot; counted after
    duplicates are dropped), and converts the ``time`` column (a timestamp) to UTC: a
    zoned column keeps its instants, a naive one is read as local times in ``time_zone``
    (IANA name; an ambiguous time is its first occurrence, a skipped one takes the offset
    before the change, as Python's ``datetime`` with ``fold=0``). Rows with a null user or
    time are kept and not counted in any rate.

    >>> import pandas as pd
    >>> events = pd.DataFrame({
    ...     "visitorid": [1, 1, 2, 2, 2],
    ...     "timestamp": pd.to_datetime(["2024-03-31 01:59:00", "2024-03-31 01:59:00",
    ...                                  "2024-03-31 03:00:00", "2024-03-31 03:00:20",
    ...                                  "2024-03-31 03:00:40"]),
    ...     "event": ["view", "view", "view", "view", "view"]})
    >>> cleaned, dropped = clean_events(events, max_events_per_minute=2,
    ...                                 time_zone="Europe/Berlin")
    >>> cleaned
       visitorid                 timestamp event
    0          1 2024-03-31 00:59:00+00:00  view
    >>> dropped[["row", "reason", "visitorid"]]
       row     reason  visitorid
    0    1  duplicate          1
    1    2        bot          2
    2    3        bot          2
    3    4        bot          2
    """
    frame, kind = _frames.prepare(frame, "frame")
    names = _frames.column_names(frame, kind)
    _frames.require_columns(names, [user], "user")
    _frames.require_columns(names, [time], "time")
    limit = max_events_per_minute  # the rule (> 0) is Rust's
    if limit is not None:
        limit = _check.real(limit, "max_events_per_minute")
    events, dropped = _ecomkit.clean_events(
        _frames.select(frame, kind, names), user, time,
        _check.boolean(duplicates, "duplicates"), limit, time_zone,
    )  # fmt: skip
    return CleanedEvents(_frames.from_arrow(events, kind), _frames.from_arrow(dropped, kind))


class QualityReport(_Report):
    """One row per rule and column: ``rule``, ``column``, ``passed``, ``n_failed``,
    ``fraction_failed``, ``examples`` (the first failing row numbers) and ``message``;
    ``passed`` when every rule passed. ``failed_rows(rule, column)`` gives the offending
    rows, ``raise_for_failures()`` raises :class:`ecomkit.errors.ValidationFailed`;
    ``to_dataframe()``, ``to_markdown()``, ``to_json()``, ``plot()``; HTML in notebooks."""

    _shown = ["rule", "column", "passed", "n_failed", "fraction_failed", "examples", "message"]

    def __init__(self, table: pa.Table, passed: bool, rows: list[Any], periods: list[Any], *,
                 frame: Any = None, kind: str = "pandas") -> None:  # fmt: skip
        self._table = table
        self.passed = passed
        self._failed = rows
        self._periods = periods
        self._frame = frame
        self._kind = kind

    @property
    def failures(self) -> list[tuple[str, str]]:
        """(rule, column) of every rule that failed, in report order."""
        return [(r["rule"], r["column"]) for r in self._table.to_pylist() if not r["passed"]]

    def _index(self, rule: str, column: str | None) -> int:
        rules = self._table.column("rule").to_pylist()
        columns = self._table.column("column").to_pylist()
        found = [i for i, (r, c) in enumerate(zip(rules, columns, strict=True))
                 if r == rule and (column is None or c == column)]  # fmt: skip
        if not found:
            known = ", ".join(f"{r}/{c}" if c else r for r, c in zip(rules, columns, strict=True))
            raise InvalidValueError(
                f"rule: no {rule!r} rule"
                + (f" on column {column!r}" if column else "")
                + f" in this report; it has {known or 'no rules'}"
            )
        if len(found) > 1:
            raise InvalidValueError(
                f"column: the report has {len(found)} {rule!r} rules; name the column"
            )
        return found[0]

    def failed_rows(self, rule: str, column: str | None = None) -> Any:
        """The rows of the frame that failed ``rule`` on ``column`` (same kind of frame;
        pandas keeps its index). For ``coverage``: the missing (entity, period start)
        pairs; for ``anomaly``: the flagged periods with ``n_rows`` and ``z``."""
        i = self._index(rule, column)
        if self._periods[i] is not None:
            return _frames.from_arrow(self._periods[i], self._kind)
        return _frames.take(self._frame, self._kind, self._failed[i].astype("int64"))

    def raise_for_failures(self) -> None:
        """Raises :class:`ecomkit.errors.ValidationFailed` (with this report) when a rule
        failed."""
        if not self.passed:
            raise ValidationFailed(self)

    def summary(self) -> str:
        """One line: how many rules failed, and which."""
        failures = self.failures
        n = self._table.num_rows
        if not failures:
            return f"all {n} rules passed"
        names = ", ".join(f"{r} {c}".strip() for r, c in failures)
        return f"{len(failures)} of {n} rules failed: {names}"

    def to_dict(self) -> dict[str, Any]:
        """Plain Python values, JSON-able."""
        return {"passed": self.passed, "rows": self._rows()}

    def plot(self, path: str | Path | None = None, *, title: str | None = None) -> Any:
        """The share of failing rows per rule (failed rules in red). Returns the matplotlib
        Figure; with ``path``, also writes a PNG. Needs ``ecomkit[plot]``."""
        from . import plots

        return plots.quality(self, path, title=title)


# ---- profiles: drift of data that arrives in pieces ---------------------------------------


def profile(reference: Any, columns: str | Sequence[str] | None = None, *,
            bins: int = 10) -> Profile:  # fmt: skip
    """The reference profile of ``columns`` (default: every column): numeric columns get
    ``bins`` quantile bins of the reference (those of :func:`psi`), other columns one bin
    per reference category and one for any other. Count current pieces against it
    (:meth:`Profile.count`), merge the counts (:meth:`Counts.merge`), and compare
    (:meth:`Profile.drift`): the statistics from merged counts equal those of the pieces
    concatenated. Save it with :meth:`Profile.save`, load it with :meth:`Profile.load`.

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> reference = pd.DataFrame({"price": rng.normal(50, 10, 2_000),
    ...                           "event": rng.choice(["view", "cart"], 2_000)})
    >>> prof = profile(reference)
    >>> monday, tuesday = (pd.DataFrame({"price": rng.normal(60, 10, 500),
    ...                                  "event": rng.choice(["view", "cart"], 500)})
    ...                    for _ in range(2))
    >>> counts = prof.count(monday).merge(prof.count(tuesday))
    >>> report = prof.drift(counts)
    >>> report.to_dataframe()[["column", "method", "drifted"]]
      column method  drifted
    0  price    psi     True
    1  event    psi    False
    >>> both = prof.drift(prof.count(pd.concat([monday, tuesday])))
    >>> report.to_dataframe().equals(both.to_dataframe())
    True
    """
    reference, kind = _frames.prepare(reference, "reference")
    names = _frames.column_names(reference, kind)
    columns = names if columns is None else list(dict.fromkeys(_check.names(columns, "columns")))
    _frames.require_columns(names, columns, "reference")
    bins = _check.non_negative_int(bins, "bins")  # the rule (>= 2) is Rust's
    specs = _ecomkit.profile_reference(_frames.select(reference, kind, columns), columns, bins)
    return Profile(specs, bins=bins, kind=kind)


def _default_kind() -> str:
    try:
        import pandas  # noqa: F401
    except ImportError:
        return "pyarrow"
    return "pandas"


class Profile:
    """A reference profile (see :func:`profile`): per column its kind, bin edges or
    categories, and the reference's counts. ``count(piece)`` → :class:`Counts`,
    ``drift(counts)`` → :class:`DriftReport`; ``to_dict()`` / ``to_json()`` / ``save(path)``
    and ``Profile.from_dict`` / ``from_json`` / ``load(path)``."""

    FORMAT = "ecomkit.monitor.profile/1"

    def __init__(self, specs: list[tuple[Any, ...]], *, bins: int, kind: str | None = None):
        self._specs = [tuple(s) for s in specs]
        self.bins = bins
        self._kind = kind or _default_kind()

    @property
    def columns(self) -> list[str]:
        return [s[0] for s in self._specs]

    def count(self, piece: Any) -> Counts:
        """The counts of a piece (any frame holding the profile's columns) in the bins."""
        piece, kind = _frames.prepare(piece, "piece")
        _frames.require_columns(_frames.column_names(piece, kind), self.columns, "piece")
        counts = _ecomkit.profile_count(_frames.select(piece, kind, self.columns), self._specs)
        return Counts(self, counts)

    def drift(self, current: Counts | Any, *, method: str | Mapping[str, str] = "psi",
              threshold: float | Mapping[str, float] | None = None,
              drift_share: float = 0.5) -> DriftReport:  # fmt: skip
        """The drift of ``current`` (:class:`Counts`, or a frame, counted now) against the
        reference: ``method`` ``psi`` (default), ``chisquare`` or ``jensenshannon``, or a
        dict per column; ``threshold`` one number or a dict."""
        counts = current if isinstance(current, Counts) else self.count(current)
        if counts.fingerprint != self.fingerprint:
            raise InvalidValueError("current: these counts were made against another profile")
        methods = _per_column(method, self.columns, "method", _method)
        thresholds = _per_column(threshold, self.columns, "threshold", _threshold)
        table, share, dataset_drift = _ecomkit.profile_drift(
            self._specs, counts._counts, methods, thresholds,
            _check.real(drift_share, "drift_share"),  # the range is Rust's
        )  # fmt: skip
        return DriftReport(pa.table(table), share, dataset_drift, drift_share=drift_share,
                           by=[], kind=self._kind)  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        keys = ("column", "kind", "edges", "categories", "counts", "missing")
        return {"format": self.FORMAT, "bins": self.bins,
                "columns": [dict(zip(keys, s, strict=True)) for s in self._specs]}  # fmt: skip

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @property
    def fingerprint(self) -> str:
        """A short hash of the bins, which counts carry so that only counts of the same
        profile merge."""
        import hashlib

        bins = [(s[0], s[1], s[2], s[3]) for s in self._specs]
        return hashlib.sha256(json.dumps(bins).encode()).hexdigest()[:16]

    def save(self, path: str | Path) -> Path:
        """Write the profile as JSON, atomically."""
        from . import _io

        return _io.write_text(self.to_json(indent=1), path)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        if not isinstance(data, Mapping) or data.get("format") != cls.FORMAT:
            raise InvalidValueError(f"profile: expected a dict of format {cls.FORMAT!r}")
        keys = ("column", "kind", "edges", "categories", "counts", "missing")
        try:
            specs = [tuple(column[k] for k in keys) for column in data["columns"]]
        except (KeyError, TypeError):
            raise InvalidValueError(f"profile: every column needs {', '.join(keys)}") from None
        return cls(specs, bins=int(data["bins"]))

    @classmethod
    def from_json(cls, text: str) -> Profile:
        return cls.from_dict(json.loads(text))

    @classmethod
    def load(cls, path: str | Path) -> Profile:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Profile) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"Profile(columns={self.columns}, bins={self.bins})"


class Counts:
    """A piece's counts in a :class:`Profile`'s bins. ``merge(other)`` (or ``+``) adds the
    counts of another piece of the same profile; ``to_dict()`` / ``Counts.from_dict`` carry
    them between processes (Spark executors, Airflow tasks)."""

    def __init__(self, profile: Profile | str, counts: list[tuple[list[int], int]]):
        self.fingerprint = profile.fingerprint if isinstance(profile, Profile) else profile
        self._counts = [(list(c), int(m)) for c, m in counts]

    @property
    def n_rows(self) -> int:
        """Rows counted (values and missing values of the first column)."""
        counts, missing = self._counts[0] if self._counts else ([], 0)
        return sum(counts) + missing

    def merge(self, other: Counts) -> Counts:
        if not isinstance(other, Counts):
            raise InvalidTypeError(f"other: expected Counts, got {type(other).__name__}")
        if other.fingerprint != self.fingerprint:
            raise InvalidValueError("other: these counts were made against another profile")
        merged = [
            ([a + b for a, b in zip(c1, c2, strict=True)], m1 + m2)
            for (c1, m1), (c2, m2) in zip(self._counts, other._counts, strict=True)
        ]
        return Counts(self.fingerprint, merged)

    __add__ = merge

    def to_dict(self) -> dict[str, Any]:
        return {"profile": self.fingerprint,
                "columns": [{"counts": c, "missing": m} for c, m in self._counts]}  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Counts:
        try:
            return cls(str(data["profile"]),
                       [(c["counts"], c["missing"]) for c in data["columns"]])  # fmt: skip
        except (KeyError, TypeError):
            raise InvalidValueError(
                "counts: expected a dict of 'profile' and 'columns' (counts, missing)"
            ) from None

    def __repr__(self) -> str:
        return f"Counts(n_rows={self.n_rows}, profile={self.fingerprint!r})"
