"""Experiments: GrowthBook-compatible traffic splitting and uplift statistics.

Splitting
    :func:`hash`, :func:`bucket_ranges`, :func:`choose_variation`, :func:`in_namespace` are
    GrowthBook's bucketing functions, vectorized; :class:`TrafficSplitter` assigns ids to
    variants with GrowthBook's ``run()`` semantics, per-category weights, namespaces
    (layers) and an audit trail.
Uplift
    :func:`evaluate_uplift` (the seed's summary frame), :func:`evaluate_experiment` (one row
    per unit), :func:`aggregate` (mergeable partial aggregates), :class:`UpliftEvaluator`,
    :func:`daily_effects`; design helpers :func:`sample_size`,
    :func:`minimum_detectable_effect`, :func:`power`, :func:`duration`,
    :func:`sample_ratio_check`, :func:`adjust_p_values`.

The conventions (tests, intervals, CUPED, corrections) are in docs/abtest.md.
"""

from __future__ import annotations

import collections
import datetime as _dt
import json
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from . import _check, _display, _ecomkit, _frames
from .errors import InvalidTypeError, InvalidValueError

__all__ = [
    "ENCODINGS",
    "ExperimentAggregates",
    "TrafficSplitter",
    "UpliftEvaluator",
    "UpliftReport",
    "adjust_p_values",
    "aggregate",
    "bucket_ranges",
    "choose_variation",
    "daily_effects",
    "duration",
    "equal_weights",
    "evaluate_experiment",
    "evaluate_uplift",
    "hash",
    "in_namespace",
    "minimum_detectable_effect",
    "power",
    "run_assign",
    "run_uplift",
    "sample_ratio_check",
    "sample_size",
]

#: Which units of an id are hashed: "utf-16" (GrowthBook's JavaScript SDK and Python SDK
#: 4.x), "codepoint" (Python SDK up to 2.x), "utf-8" (Go, Rust and Java SDKs).
ENCODINGS = ("utf-16", "codepoint", "utf-8")
CORRECTIONS = (None, "holm", "bh")


def _version(version: Any, argument: str = "version") -> int:
    if isinstance(version, bool) or not isinstance(version, (int, np.integer)):
        raise InvalidTypeError(f"{argument}: expected 1 or 2, got {version!r}")
    if version not in (1, 2):
        raise InvalidValueError(f"{argument}: expected hash version 1 or 2, got {version}")
    return int(version)


def _ids(values: Any, argument: str) -> Any:
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        raise InvalidTypeError(f"{argument}: expected strings or integers, got float64 ids")
    return _frames.to_arrow_array(values, argument)


# --- GrowthBook bucketing ---------------------------------------------------------------


def hash(seed: str, values: Any, version: int = 2, *, encoding: str = "utf-16") -> Any:
    """GrowthBook's bucket of each id in [0, 1): FNV-1a 32-bit, hash version 1 or 2.

    ``values`` is one ``str`` (→ float) or an array / pandas / polars / pyarrow column of
    strings or integers (→ float64 numpy array; NaN for a null id). Integers are hashed as
    their decimal text, as GrowthBook hashes ``str(id)``.

    >>> from ecomkit import abtest
    >>> abtest.hash("seed", "a", 2)   # a GrowthBook conformance case
    0.0505
    >>> abtest.hash("", ["a", "b"], 1).tolist()
    [0.22, 0.077]
    """
    _version(version)
    _check.choice(encoding, "encoding", ENCODINGS)
    if not isinstance(seed, str):
        raise InvalidTypeError(f"seed: expected a string, got {type(seed).__name__}")
    _frames.to_arrow_array([seed], "seed")
    if isinstance(values, str):
        _frames.to_arrow_array([values], "values")  # refuses text Rust cannot hold
        return _ecomkit.hash_one(seed, values, version, encoding)
    return _ecomkit.hash_ids(seed, _ids(values, "values"), version, encoding)


def equal_weights(num_variations: int) -> list[float]:
    """``num_variations`` weights of ``1 / num_variations`` (GrowthBook's getEqualWeights)."""
    n = int(num_variations)
    return [1 / n] * n if n >= 1 else []


def bucket_ranges(
    num_variations: int, coverage: float = 1.0, weights: Sequence[float] | None = None
) -> list[tuple[float, float]]:
    """GrowthBook's ``getBucketRanges``: half-open ``[start, end)`` per variation.

    Coverage is clamped to [0, 1]; weights of the wrong length, negative, or not summing to
    0.99–1.01 are replaced by equal weights (as GrowthBook does, silently).

    >>> bucket_ranges(3, 0.2, [0.2, 0.3, 0.5])
    [(0.0, 0.04000000000000001), (0.2, 0.26), (0.5, 0.6)]
    """
    n = _check.non_negative_int(num_variations, "num_variations")
    coverage = _check.real(coverage, "coverage")
    if weights is not None:
        weights = [float(w) for w in weights]
    return _ecomkit.bucket_ranges(n, coverage, weights)


def choose_variation(buckets: Any, ranges: Sequence[tuple[float, float]]) -> Any:
    """Index of the range holding each bucket (``-1``: in none), ranges half-open.

    >>> choose_variation(0.5, [(0, 0.5), (0.5, 1)])
    1
    >>> choose_variation([0.2, 0.99, 1.0], [(0, 0.5), (0.5, 1)]).tolist()
    [0, 1, -1]
    """
    ranges = [(float(start), float(end)) for start, end in ranges]
    if np.isscalar(buckets):
        return int(_ecomkit.choose_variation(np.array([float(buckets)]), ranges)[0])
    return _ecomkit.choose_variation(_frames.to_float64(buckets, "buckets"), ranges)


def in_namespace(
    ids: Any, namespace_id: str, start: float, end: float, *, encoding: str = "utf-16"
) -> Any:
    """Whether each id falls in the namespace range ``[start, end)`` (GrowthBook's
    ``inNamespace``: the version-1 hash of the id under ``"__" + namespace_id``).

    >>> in_namespace("1", "namespace1", 0.4, 1)
    True
    """
    _check.choice(encoding, "encoding", ENCODINGS)
    start, end = _check.real(start, "start"), _check.real(end, "end")
    if isinstance(ids, str):
        n = _ecomkit.hash_one("__" + str(namespace_id), ids, 1, encoding)
        return bool(start <= n < end)
    return _ecomkit.namespace_membership(_ids(ids, "ids"), str(namespace_id), start, end, encoding)


# --- TrafficSplitter --------------------------------------------------------------------


class TrafficSplitter:
    """Assign ids to the variants of one experiment, as GrowthBook's ``run()`` would.

    Parameters
    ----------
    experiment : str
        The experiment key; also the hash seed unless ``seed`` is given.
    variants : sequence of str
        Variant names (at least 2), in GrowthBook's variation order.
    weights : sequence of float, optional
        Traffic share per variant (summing to 1); equal by default.
    coverage : float
        Share of ids included in the experiment at all (0–1).
    seed : str, optional
        Hash seed; defaults to ``experiment`` as in GrowthBook.
    hash_version : {1, 2}
    encoding : {"utf-16", "codepoint", "utf-8"}
        See :data:`ENCODINGS`.
    namespace : (namespace_id, start, end), optional
        Only ids in this namespace range take part: experiments of one namespace with
        disjoint ranges are mutually exclusive (a layer); different namespaces are
        independent.
    per_category : mapping of category to weights, optional
        Weights that replace ``weights`` for the ids of a category (see ``categories=`` of
        :meth:`assign_index`).
    audit : bool
        Record every assignment (id, experiment, variant, category, namespace, hash
        version, time) in a bounded in-memory log; see :meth:`audit_log`.
    audit_max_rows : int
        The log keeps the newest ``audit_max_rows`` records.
    audit_logger : logging.Logger or str, optional
        Also forward each record to this logger (INFO), for low-volume online use.

    Unlike GrowthBook, which silently falls back to equal weights, weights that GrowthBook
    would not use (wrong length, negative, not summing to 0.99–1.01) raise ``ValueError``.

    >>> splitter = TrafficSplitter("checkout-button", ["control", "treatment"])
    >>> splitter.assign_one("user-1") in ("control", "treatment")
    True
    >>> splitter.assign(["user-1", "", None]).tolist()[1:]
    [None, None]
    """

    def __init__(
        self,
        experiment: str,
        variants: Sequence[str],
        weights: Sequence[float] | None = None,
        *,
        coverage: float = 1.0,
        seed: str | None = None,
        hash_version: int = 2,
        encoding: str = "utf-16",
        namespace: tuple[str, float, float] | None = None,
        per_category: Mapping[str, Sequence[float]] | None = None,
        audit: bool = False,
        audit_max_rows: int = 1_000_000,
        audit_logger: logging.Logger | str | None = None,
    ) -> None:
        if not isinstance(experiment, str) or not experiment:
            raise InvalidValueError(f"experiment: expected a non-empty string, got {experiment!r}")
        if isinstance(variants, str) or not isinstance(variants, Sequence):
            raise InvalidTypeError("variants: expected a sequence of variant names")
        self.experiment = experiment
        self.variants = [str(v) for v in variants]
        if len(self.variants) < 2:
            raise InvalidValueError(f"variants: expected at least 2, got {len(self.variants)}")
        if len(set(self.variants)) != len(self.variants):
            raise InvalidValueError(f"variants: names must be distinct, got {self.variants}")
        self.weights = None if weights is None else [float(w) for w in weights]
        self.coverage = _check.real(coverage, "coverage")
        self.seed = experiment if seed is None else str(seed)
        self.hash_version = _version(hash_version, "hash_version")
        self.encoding = _check.choice(encoding, "encoding", ENCODINGS)
        if namespace is not None:
            if len(namespace) != 3:
                raise InvalidValueError("namespace: expected (namespace_id, start, end)")
            namespace = (
                str(namespace[0]),
                _check.real(namespace[1], "namespace"),
                _check.real(namespace[2], "namespace"),
            )
        self.namespace = namespace
        self.per_category = {
            str(category): [float(w) for w in ws] for category, ws in (per_category or {}).items()
        }
        self.audit = bool(audit)
        self.audit_max_rows = _check.positive_int(audit_max_rows, "audit_max_rows")
        if isinstance(audit_logger, str):
            audit_logger = logging.getLogger(audit_logger)
        self.audit_logger = audit_logger
        self._audit: collections.deque[tuple[Any, ...]] = collections.deque()
        self._audit_rows = 0
        # Validate now, not at the first assignment.
        _ecomkit.assign_variations(pa.array([], pa.string()), None, **self._kernel_args())

    def _kernel_args(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "num_variations": len(self.variants),
            "coverage": self.coverage,
            "weights": self.weights,
            "hash_version": self.hash_version,
            "encoding": self.encoding,
            "namespace": self.namespace,
            "per_category": list(self.per_category.items()),
        }

    @property
    def ranges(self) -> list[tuple[float, float]]:
        """The bucket ranges of the default weights."""
        return bucket_ranges(len(self.variants), self.coverage, self.weights)

    def assign_index(self, ids: Any, categories: Any = None) -> np.ndarray:
        """The variant index of each id (int32); ``-1`` = not in the experiment (null or
        empty id, outside the namespace, or outside the coverage)."""
        array = _ids(ids, "ids")
        cats = None if categories is None else _ids(categories, "categories")
        index = _ecomkit.assign_variations(array, cats, **self._kernel_args())
        if self.audit or self.audit_logger is not None:
            self._record(array, cats, index)
        return index

    def assign(self, ids: Any, categories: Any = None) -> np.ndarray:
        """The variant name of each id (object array; ``None`` = not in the experiment)."""
        index = self.assign_index(ids, categories)
        names = np.array([*self.variants, None], dtype=object)
        return names[index]  # index -1 picks the trailing None

    def assign_one(self, id: str, category: str | None = None) -> str | None:
        """The variant name of one id, or ``None``."""
        categories = None if category is None else [category]
        return self.assign([id], categories)[0]

    # Audit trail.

    def _record(self, ids: Any, categories: Any, index: np.ndarray) -> None:
        now = _dt.datetime.now(_dt.timezone.utc)
        ids = pa.array(ids) if not isinstance(ids, (pa.Array, pa.ChunkedArray)) else ids
        if categories is not None and not isinstance(categories, (pa.Array, pa.ChunkedArray)):
            categories = pa.array(categories)
        n = len(index)
        if self.audit_logger is not None:
            names = [*self.variants, None]
            cats = categories.to_pylist() if categories is not None else [None] * n
            for i, v, c in zip(ids.to_pylist(), index.tolist(), cats, strict=True):
                self.audit_logger.info(
                    "assignment id=%s experiment=%s variant=%s category=%s namespace=%s "
                    "hash_version=%d",
                    i,
                    self.experiment,
                    names[v],
                    c,
                    self.namespace[0] if self.namespace else None,
                    self.hash_version,
                )
        if not self.audit:
            return
        keep = min(n, self.audit_max_rows)
        start = n - keep
        self._audit.append(
            (
                ids.slice(start),
                None if categories is None else categories.slice(start),
                index[start:],
                now,
            )
        )
        self._audit_rows += keep
        while self._audit_rows > self.audit_max_rows:
            ids0, cats0, index0, time0 = self._audit[0]
            excess = self._audit_rows - self.audit_max_rows
            if len(index0) <= excess:
                self._audit.popleft()
                self._audit_rows -= len(index0)
            else:
                self._audit[0] = (
                    ids0.slice(excess),
                    None if cats0 is None else cats0.slice(excess),
                    index0[excess:],
                    time0,
                )
                self._audit_rows -= excess

    def audit_log(self, kind: str = "pandas") -> Any:
        """The recorded assignments, oldest first, as a frame of ``kind`` ("pandas",
        "polars" or "pyarrow"): id, experiment, variant, category, namespace, hash_version,
        time (UTC)."""
        _check.choice(kind, "kind", ("pandas", "polars", "pyarrow"))
        names = pa.array([*self.variants, None], pa.string())
        parts = []
        for ids, cats, index, when in self._audit:
            n = len(index)
            parts.append(
                pa.table(
                    {
                        "id": ids.cast(pa.string()),
                        "experiment": pa.array([self.experiment] * n, pa.string()),
                        "variant": names.take(
                            pa.array(np.where(index < 0, len(self.variants), index))
                        ),
                        "category": cats.cast(pa.string())
                        if cats is not None
                        else pa.nulls(n, pa.string()),
                        "namespace": pa.array(
                            [self.namespace[0] if self.namespace else None] * n, pa.string()
                        ),
                        "hash_version": pa.array(np.full(n, self.hash_version, np.int64)),
                        "time": pa.array([when] * n, pa.timestamp("us", tz="UTC")),
                    }
                )
            )
        if not parts:
            schema = pa.schema(
                [
                    ("id", pa.string()),
                    ("experiment", pa.string()),
                    ("variant", pa.string()),
                    ("category", pa.string()),
                    ("namespace", pa.string()),
                    ("hash_version", pa.int64()),
                    ("time", pa.timestamp("us", tz="UTC")),
                ]
            )
            table = schema.empty_table()
        else:
            table = pa.concat_tables(parts)
        return _frames.from_arrow(table, kind)

    def clear_audit(self) -> None:
        """Empty the audit log."""
        self._audit.clear()
        self._audit_rows = 0

    # Configuration.

    def to_dict(self) -> dict[str, Any]:
        """The configuration (JSON-able); ``TrafficSplitter.from_dict`` restores it."""
        return {
            "experiment": self.experiment,
            "variants": list(self.variants),
            "weights": self.weights,
            "coverage": self.coverage,
            "seed": self.seed,
            "hash_version": self.hash_version,
            "encoding": self.encoding,
            "namespace": list(self.namespace) if self.namespace else None,
            "per_category": dict(self.per_category),
            "audit": self.audit,
            "audit_max_rows": self.audit_max_rows,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, config: Mapping[str, Any]) -> TrafficSplitter:
        config = dict(config)
        try:
            experiment, variants = config.pop("experiment"), config.pop("variants")
        except KeyError as missing:
            raise InvalidValueError(f"config: missing key {missing}") from None
        weights = config.pop("weights", None)
        if config.get("namespace") is not None:
            config["namespace"] = tuple(config["namespace"])
        known = {
            "coverage",
            "seed",
            "hash_version",
            "encoding",
            "namespace",
            "per_category",
            "audit",
            "audit_max_rows",
        }
        unknown = set(config) - known
        if unknown:
            raise InvalidValueError(f"config: unknown keys {sorted(unknown)}")
        return cls(experiment, variants, weights, **config)

    @classmethod
    def from_json(cls, text: str) -> TrafficSplitter:
        return cls.from_dict(json.loads(text))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TrafficSplitter) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"TrafficSplitter({self.experiment!r}, {self.variants!r}, weights={self.weights!r})"


# --- Uplift -----------------------------------------------------------------------------

REPORT_COLUMNS = [
    "variant", "metric", "n", "control_n", "value", "control_value", "abs_lift", "rel_lift",
    "p_value", "p_value_adjusted", "ci_low", "ci_high", "rel_ci_low", "rel_ci_high", "test",
    "variance_reduction", "note",
]  # fmt: skip


class UpliftReport:
    """One row per (non-control variant, metric) with lifts, p-values and intervals, plus
    the sample-ratio check. ``to_dataframe()`` (pandas), ``to_arrow()``, ``to_polars()``,
    ``to_markdown()``, ``to_dict()`` / ``to_json()``; renders as HTML in notebooks."""

    def __init__(
        self,
        columns: Mapping[str, Any],
        sample_ratio: list[tuple[str, list[float], list[float], float, float]],
        *,
        control: str,
        variants: list[str],
        alpha: float,
        correction: str | None,
        segment_name: str | None = None,
    ) -> None:
        self.control = control
        self.variants = variants
        self.alpha = alpha
        self.correction = correction
        self._segment_name = segment_name
        names = ([segment_name] if segment_name else []) + REPORT_COLUMNS
        data = dict(columns)
        if segment_name:
            data[segment_name] = data.pop("segment")
        else:
            data.pop("segment")
        self._table = pa.table({name: data[name] for name in names})
        self.sample_ratio = [
            {
                **({segment_name: s} if segment_name else {}),
                "variants": list(variants),
                "observed": obs,
                "expected": exp,
                "statistic": stat,
                "p_value": p,
            }
            for s, obs, exp, stat, p in sample_ratio
        ]

    @property
    def srm_p_value(self) -> float:
        """The sample-ratio-mismatch p-value (of the first segment); small = a broken split."""
        return self.sample_ratio[0]["p_value"] if self.sample_ratio else math.nan

    def to_arrow(self) -> pa.Table:
        return self._table

    def to_dataframe(self) -> Any:
        """Long format, one row per (variant, metric), as a pandas DataFrame."""
        return self._table.to_pandas()

    def to_polars(self) -> Any:
        import polars as pl

        return pl.from_arrow(self._table)

    def to_dict(self) -> dict[str, Any]:
        """Plain Python values (NaN → None), JSON-able."""

        def clean(value: Any) -> Any:
            return None if isinstance(value, float) and math.isnan(value) else value

        return {
            "control": self.control,
            "variants": self.variants,
            "alpha": self.alpha,
            "correction": self.correction,
            "rows": [{k: clean(v) for k, v in row.items()} for row in self._table.to_pylist()],
            "sample_ratio": [{k: clean(v) for k, v in s.items()} for s in self.sample_ratio],
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    def _cells(self) -> tuple[list[str], list[list[str]]]:
        shown = ([self._segment_name] if self._segment_name else []) + [
            "variant", "metric", "n", "value", "control_value", "abs_lift", "rel_lift",
            "rel_ci", "p_value", "p_value_adjusted", "test",
        ]  # fmt: skip

        def fmt(name: str, value: Any) -> str:
            if value is None or (isinstance(value, float) and math.isnan(value)):
                return ""
            if name == "rel_lift":
                return f"{value:+.2%}"
            if name in ("n",):
                return f"{value:,.0f}"
            if name.startswith("p_value"):
                return f"{value:.4g}"
            if isinstance(value, float):
                return f"{value:.6g}"
            return str(value)

        def cell(name: str, row: dict[str, Any]) -> str:
            if name == "rel_ci":
                low, high = fmt("rel_lift", row["rel_ci_low"]), fmt("rel_lift", row["rel_ci_high"])
                return f"[{low}, {high}]" if low and high else ""
            return fmt(name, row[name])

        rows = [[cell(n, row) for n in shown] for row in self._table.to_pylist()]
        return shown, rows

    def to_markdown(self) -> str:
        """A Markdown table, then the sample-ratio check and any notes."""
        header, rows = self._cells()
        lines = [
            f"Control: `{self.control}`; alpha = {self.alpha}; "
            f"correction: {self.correction or 'none'}.",
            "",
            "| " + " | ".join(header) + " |",
            "|" + "|".join("---" for _ in header) + "|",
        ]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        for s in self.sample_ratio:
            where = f" ({self._segment_name} {s[self._segment_name]})" if self._segment_name else ""
            lines.append("")
            lines.append(
                f"Sample ratio{where}: observed {s['observed']}, expected "
                f"{[round(e, 1) for e in s['expected']]}, chi² = {s['statistic']:.4g}, "
                f"p = {s['p_value']:.4g}"
                + (" **(mismatch: check the split)**" if s["p_value"] < 0.001 else "")
            )
        notes = sorted({n for n in self._table.column("note").to_pylist() if n})
        if notes:
            lines.append("")
            lines += [f"- {n}" for n in notes]
        return "\n".join(lines) + "\n"

    def plot(self, path: str | Path | None = None, *, title: str | None = None) -> Any:
        """Each metric's relative lift with its confidence interval. Returns the matplotlib
        Figure; with ``path``, also writes a PNG. Needs ``ecomkit[plot]``."""
        from . import plots

        return plots.uplift(self, path, title=title)

    def _repr_html_(self) -> str:
        import html

        header, rows = self._cells()
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows
        )
        srm = f"<p>Sample-ratio p = {self.srm_p_value:.4g}</p>" if self.sample_ratio else ""
        return (
            f"<p>Control: <code>{html.escape(self.control)}</code>, alpha = {self.alpha}</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{srm}"
        )

    def __repr__(self) -> str:
        return self.to_markdown()

    def __len__(self) -> int:
        return self._table.num_rows


def _metric_tuples(metrics: Any, covariates: Any) -> list[tuple[str, str, str, str | None]]:
    if isinstance(metrics, str):
        metrics = [metrics]
    if isinstance(metrics, Mapping):
        items = list(metrics.items())
    elif isinstance(metrics, Sequence):
        items = [(m, m) for m in metrics]
    else:
        raise InvalidTypeError(
            "metrics: expected a list of column names or a dict of name -> column or "
            "(numerator, denominator)"
        )
    if not items:
        raise InvalidValueError("metrics: expected at least one metric")
    if covariates is not None and not isinstance(covariates, (str, Mapping)):
        raise InvalidTypeError("covariates: expected a column name or a dict of metric -> column")
    if isinstance(covariates, Mapping):
        unknown = set(covariates) - {name for name, _ in items}
        if unknown:
            raise InvalidValueError(f"covariates: not metrics: {sorted(unknown)}")
    out = []
    for name, spec in items:
        if isinstance(spec, str):
            covariate = covariates if isinstance(covariates, str) else (covariates or {}).get(name)
            out.append((str(name), "mean", spec, covariate))
        elif (
            isinstance(spec, Sequence) and len(spec) == 2 and all(isinstance(s, str) for s in spec)
        ):
            if isinstance(covariates, Mapping) and name in covariates:
                raise InvalidValueError(
                    f"covariates: CUPED is for mean metrics, '{name}' is a ratio"
                )
            out.append((str(name), "ratio", spec[0], spec[1]))
        else:
            raise InvalidTypeError(
                f"metrics['{name}']: expected a column name or (numerator, denominator), "
                f"got {spec!r}"
            )
    return out


def _alpha(alpha: Any) -> float:
    alpha = _check.real(alpha, "alpha")
    if not 0 < alpha < 1:
        raise InvalidValueError(f"alpha: expected 0 < alpha < 1, got {alpha}")
    return alpha


class ExperimentAggregates:
    """Mergeable per-variant (and per-segment) aggregates of an experiment's metrics.

    Aggregates of disjoint sets of units (files, partitions, days) combine with ``+`` or
    :meth:`merge` into what one pass over all of them gives, so a report can be built
    incrementally. ``to_json`` / ``from_json`` persist them.
    """

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def _fields(self) -> list[tuple[str, Any]]:
        state = self.to_dict()
        units = [sum(row) for row in zip(*state["units"], strict=True)] if state["units"] else []
        return [
            ("variants", self.variants),
            ("units", dict(zip(self.variants, (int(u) for u in units), strict=False))),
            ("metrics", [metric[0] for metric in state["metrics"]]),
            ("segments", [s for s in self.segments if s] or None),
        ]

    def __repr__(self) -> str:
        return _display.text("ExperimentAggregates", self._fields())

    def _repr_html_(self) -> str:
        return _display.table("ExperimentAggregates", self._fields())

    @property
    def variants(self) -> list[str]:
        return self._inner.variants

    @property
    def segments(self) -> list[str]:
        return self._inner.segments

    def merge(self, other: ExperimentAggregates) -> ExperimentAggregates:
        if not isinstance(other, ExperimentAggregates):
            raise InvalidTypeError("other: expected ExperimentAggregates")
        return ExperimentAggregates(self._inner.merge(other._inner))

    __add__ = merge

    def evaluate(
        self,
        control_variant: str = "control",
        *,
        alpha: float = 0.05,
        correction: str | None = None,
        expected_weights: Sequence[float] | Mapping[str, float] | None = None,
        by_segment: bool = False,
        segment_name: str = "segment",
    ) -> UpliftReport:
        """The uplift report (all segments together unless ``by_segment``)."""
        inner = self._inner if by_segment else self._inner.total()
        _check.choice(correction, "correction", CORRECTIONS)
        weights = _expected_weights(expected_weights, inner.variants)
        rows, srm = _ecomkit.evaluate_aggregates(
            inner, str(control_variant), _alpha(alpha), correction, weights
        )
        rows = pa.table(rows)
        return UpliftReport(
            dict(zip(rows.column_names, rows.columns, strict=True)),
            srm,
            control=str(control_variant),
            variants=inner.variants,
            alpha=alpha,
            correction=correction,
            segment_name=segment_name if by_segment else None,
        )

    def to_dict(self) -> dict[str, Any]:
        state = self._inner.to_state()
        return {key: _plain(value) for key, value in state.items()}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> ExperimentAggregates:
        try:
            return cls(
                _ecomkit.Aggregates.from_state(
                    [tuple(m) for m in state["metrics"]],
                    state["segments"],
                    state["variants"],
                    state["units"],
                    [
                        [
                            [(c[0], tuple(c[1]), [tuple(r) for r in c[2]], c[3], c[4]) for c in v]
                            for v in s
                        ]
                        for s in state["cells"]
                    ],
                    [tuple(n) for n in state["notes"]],
                )
            )
        except (KeyError, TypeError, IndexError) as exc:
            raise InvalidValueError(f"state: not an ExperimentAggregates state ({exc})") from None

    @classmethod
    def from_json(cls, text: str) -> ExperimentAggregates:
        return cls.from_dict(json.loads(text, parse_constant=float))


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _expected_weights(weights: Any, variants: list[str]) -> list[float] | None:
    if weights is None:
        return None
    if isinstance(weights, Mapping):
        missing = [v for v in variants if v not in weights]
        if missing:
            raise InvalidValueError(f"expected_weights: no weight for variants {missing}")
        return [float(weights[v]) for v in variants]
    weights = [float(w) for w in weights]
    if len(weights) != len(variants):
        raise InvalidValueError(
            f"expected_weights: expected {len(variants)} weights (variants {variants}), "
            f"got {len(weights)}"
        )
    return weights


@_check.renamed(variant_col="variant", segment_col="segment")
def aggregate(
    frame: Any,
    variant: str,
    metrics: Any,
    *,
    covariates: str | Mapping[str, str] | None = None,
    segment: str | None = None,
) -> ExperimentAggregates:
    """Mergeable aggregates of unit-level rows (one per user); see
    :func:`evaluate_experiment` for ``metrics`` and ``covariates``."""
    specs = _metric_tuples(metrics, covariates)
    frame, kind = _frames.prepare(frame)
    columns = [variant] + ([segment] if segment else [])
    for _, _, first, second in specs:
        columns += [first] + ([second] if second else [])
    available = _frames.column_names(frame, kind)
    _frames.require_columns(available, [variant], "variant")
    if segment:
        _frames.require_columns(available, [segment], "segment")
    _frames.require_columns(available, [s[2] for s in specs], "metrics")
    _frames.require_columns(available, [s[3] for s in specs if s[1] == "ratio"], "metrics")
    _frames.require_columns(
        available, [s[3] for s in specs if s[1] == "mean" and s[3]], "covariates"
    )
    inner = _ecomkit.aggregate_units(_frames.select(frame, kind, columns), variant, segment, specs)
    return ExperimentAggregates(inner)


@_check.renamed(variant_col="variant")
def evaluate_experiment(
    frame: Any,
    variant: str,
    metrics: Any,
    control_variant: str,
    *,
    alpha: float = 0.05,
    correction: str | None = None,
    covariates: str | Mapping[str, str] | None = None,
    expected_weights: Sequence[float] | Mapping[str, float] | None = None,
) -> UpliftReport:
    """Uplift of every variant against ``control_variant`` from unit-level rows.

    Parameters
    ----------
    frame : pandas, polars or pyarrow frame, one row per unit (user)
    variant : str
        The column naming each unit's variant (rows with a null variant are left out).
    metrics : list of column names, or dict of name -> column or (numerator, denominator)
        A column metric is the mean over units: 0/1 columns are tested with the pooled
        two-proportion z-test, others with Welch's t. A (numerator, denominator) metric is
        Σ numerator / Σ denominator (e.g. CTR = clicks / impressions per user), tested with
        the delta method. Units with a NaN value are left out of that metric.
    control_variant : str
    alpha : float
        Level of the confidence intervals.
    correction : {None, "holm", "bh"}
        Adjust p-values across metrics × variants (``p_value_adjusted``).
    covariates : column name, or dict of metric -> column, optional
        Pre-period covariate for CUPED (mean metrics): θ = cov(y, x) / var(x) over all
        units; the report's values are the adjusted means and ``variance_reduction`` says
        how much variance CUPED removed.
    expected_weights : planned traffic share per variant (list in first-appearance order, or
        dict), for the sample-ratio check; equal by default.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"variant": ["a", "b"] * 4, "bought": [0, 1, 0, 1, 1, 1, 0, 0]})
    >>> report = evaluate_experiment(df, "variant", ["bought"], "a")
    >>> report.to_dataframe()[["variant", "value", "control_value", "abs_lift", "test"]]
      variant  value  control_value  abs_lift              test
    0       b   0.75           0.25       0.5  two_proportion_z
    """
    aggregates = aggregate(frame, variant, metrics, covariates=covariates)
    return aggregates.evaluate(
        control_variant, alpha=alpha, correction=correction, expected_weights=expected_weights
    )


def _summary_aggregates(frame: Any, variant: str) -> ExperimentAggregates:
    """Aggregates of the seed's summary frame (see :func:`evaluate_uplift`)."""
    frame, kind = _frames.prepare(frame)
    available = _frames.column_names(frame, kind)
    required = ["impressions", "clicks", "conversions", "gmv", "spend"]
    _frames.require_columns(available, [variant], "variant")
    _frames.require_columns(available, required, "frame")
    optional = [c for c in ("gmv_sq", "roas", "roas_sq") if c in available]
    columns = _frames.select(frame, kind, [variant, *required, *optional])
    return ExperimentAggregates(_ecomkit.aggregate_summary(columns, variant))


@_check.renamed(variant_col="variant")
def evaluate_uplift(
    frame: Any,
    control_variant: str = "control",
    *,
    variant: str = "variant",
    alpha: float = 0.05,
    correction: str | None = None,
    expected_weights: Sequence[float] | Mapping[str, float] | None = None,
) -> UpliftReport:
    """Uplift from the seed's summary frame: per variant ``impressions``, ``clicks``,
    ``conversions``, ``gmv``, ``spend`` and optionally ``gmv_sq``, ``roas``, ``roas_sq``
    (sums over impressions; several rows of a variant are added up).

    Metrics: ``ctr`` = clicks / impressions and ``cr`` = conversions / clicks (two-proportion
    z-tests), ``gmv_per_impression`` (Welch's t from gmv and gmv_sq), ``roas`` (gmv / spend;
    with ``roas`` and ``roas_sq`` columns, the mean per-impression ROAS and Welch's t).
    Without the squared sums the p-values are missing and the ``note`` says why.

    >>> import pandas as pd
    >>> summary = pd.DataFrame({"variant": ["control", "treatment"],
    ...     "impressions": [10000, 10000], "clicks": [500, 600], "conversions": [50, 66],
    ...     "gmv": [2500.0, 3300.0], "spend": [1000.0, 1000.0]})
    >>> report = evaluate_uplift(summary)
    >>> report.to_dataframe()[["metric", "value", "control_value", "rel_lift"]].round(4)
                   metric  value  control_value  rel_lift
    0                 ctr   0.06           0.05      0.20
    1                  cr   0.11           0.10      0.10
    2  gmv_per_impression   0.33           0.25      0.32
    3                roas   3.30           2.50      0.32
    """
    return _summary_aggregates(frame, variant).evaluate(
        control_variant, alpha=alpha, correction=correction, expected_weights=expected_weights
    )


class UpliftEvaluator:
    """Evaluate experiments repeatedly with one set of options, and build a report from
    partial data: :meth:`update` adds a frame's aggregates, :meth:`report` evaluates what
    was added so far. Without ``metrics`` frames are the seed's summary frames
    (:func:`evaluate_uplift`); with ``metrics`` they are unit-level rows
    (:func:`evaluate_experiment`)."""

    @_check.renamed(variant_col="variant")
    def __init__(
        self,
        control_variant: str = "control",
        *,
        variant: str = "variant",
        metrics: Any = None,
        covariates: str | Mapping[str, str] | None = None,
        alpha: float = 0.05,
        correction: str | None = None,
        expected_weights: Sequence[float] | Mapping[str, float] | None = None,
    ) -> None:
        self.control_variant = control_variant
        self.variant = variant
        self.metrics = metrics
        self.covariates = covariates
        self.alpha = _alpha(alpha)
        self.correction = _check.choice(correction, "correction", CORRECTIONS)
        self.expected_weights = expected_weights
        self._aggregates: ExperimentAggregates | None = None

    def __repr__(self) -> str:
        return _display.text("UpliftEvaluator", [
            ("control_variant", self.control_variant), ("variant", self.variant),
            ("metrics", self.metrics), ("covariates", self.covariates), ("alpha", self.alpha),
            ("correction", self.correction), ("aggregates", self._aggregates),
        ])  # fmt: skip

    def _aggregate(self, frame: Any) -> ExperimentAggregates:
        if self.metrics is None:
            return _summary_aggregates(frame, self.variant)
        return aggregate(frame, self.variant, self.metrics, covariates=self.covariates)

    def update(self, frame: Any) -> UpliftEvaluator:
        """Add the aggregates of `frame` (disjoint from the frames added before)."""
        part = self._aggregate(frame)
        self._aggregates = part if self._aggregates is None else self._aggregates + part
        return self

    def report(self) -> UpliftReport:
        if self._aggregates is None:
            raise InvalidValueError("frame: nothing added yet; call update(frame) first")
        return self._aggregates.evaluate(
            self.control_variant,
            alpha=self.alpha,
            correction=self.correction,
            expected_weights=self.expected_weights,
        )

    def evaluate(self, frame: Any) -> UpliftReport:
        """The report of `frame` alone."""
        return self._aggregate(frame).evaluate(
            self.control_variant,
            alpha=self.alpha,
            correction=self.correction,
            expected_weights=self.expected_weights,
        )


@_check.renamed(variant_col="variant", time_col="time", tz="time_zone")
def daily_effects(
    frame: Any,
    variant: str,
    metrics: Any,
    control_variant: str,
    time: str,
    *,
    time_zone: str = "UTC",
    alpha: float = 0.05,
    covariates: str | Mapping[str, str] | None = None,
) -> Any:
    """The uplift report per calendar day of ``time`` (in time zone ``time_zone``): one row
    per (day, variant, metric), to spot novelty effects. Returns a pandas DataFrame with a
    ``day`` column (ISO date) before the report columns."""
    frame, kind = _frames.prepare(frame)
    _frames.require_columns(_frames.column_names(frame, kind), [time], "time")
    import pyarrow.compute as pc

    times = pa.table(_frames.select(frame, kind, [time])).column(0)
    if pa.types.is_timestamp(times.type):
        if times.type.tz is None:
            times = pc.assume_timezone(times, "UTC")
        days = pc.strftime(times.cast(pa.timestamp(times.type.unit, tz=time_zone)), "%Y-%m-%d")
    elif pa.types.is_date(times.type):
        days = pc.strftime(times, "%Y-%m-%d")
    else:
        raise InvalidTypeError(f"time: expected a timestamp or date column, got {times.type}")
    table = pa.table(
        _frames.select(
            frame, kind, [c for c in _frames.column_names(frame, kind) if c != "__day__"]
        )
    )
    table = table.append_column("__day__", days)
    aggregates = aggregate(table, variant, metrics, covariates=covariates, segment="__day__")
    report = aggregates.evaluate(control_variant, alpha=alpha, by_segment=True, segment_name="day")
    return (
        report.to_dataframe()
        .sort_values(["day", "variant", "metric"], kind="stable")
        .reset_index(drop=True)
    )


# --- Design -----------------------------------------------------------------------------


def _standardized(baseline: float, mde: float, sd: float | None, relative: bool) -> float:
    baseline = _check.real(baseline, "baseline")
    mde = _check.real(mde, "mde")
    if sd is None:
        if not 0 < baseline < 1:
            raise InvalidValueError(
                "sd: required unless baseline is a conversion rate in (0, 1), "
                f"got baseline {baseline}"
            )
        sd = math.sqrt(baseline * (1 - baseline))
    sd = _check.real(sd, "sd")
    if not sd > 0:
        raise InvalidValueError(f"sd: expected a positive standard deviation, got {sd}")
    delta = baseline * mde if relative else mde
    return delta / sd


def sample_size(
    baseline: float,
    mde: float = 0.01,
    *,
    sd: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    relative: bool = True,
) -> int:
    """Units needed in the control arm (the treatment gets ``ratio`` × as many) to detect
    a lift of ``mde`` (relative to ``baseline`` unless ``relative=False``) with the given
    power in a two-sided test at level ``alpha``. ``sd`` is the per-unit standard deviation;
    for a conversion rate it defaults to √(p(1−p)). Same as statsmodels
    ``NormalIndPower().solve_power(effect_size=delta / sd, ...)``, rounded up.

    >>> sample_size(0.05, 0.01)  # 5% conversion, 1% relative lift, 80% power
    2982567
    """
    effect = _standardized(baseline, mde, sd, relative)
    return math.ceil(
        _ecomkit.sample_size(
            effect, _alpha(alpha), _check.real(power, "power"), _check.real(ratio, "ratio")
        )
        - 1e-9
    )


def minimum_detectable_effect(
    baseline: float,
    n: float,
    *,
    sd: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    relative: bool = True,
) -> float:
    """The smallest lift detectable with ``n`` control units (relative to ``baseline``
    unless ``relative=False``)."""
    unit = _standardized(baseline, 1.0, sd, relative)  # standardized effect per unit of mde
    d = _ecomkit.minimum_detectable_effect(
        _check.real(n, "n"), _alpha(alpha), _check.real(power, "power"), _check.real(ratio, "ratio")
    )
    return d / unit


def power(
    baseline: float,
    mde: float,
    n: float,
    *,
    sd: float | None = None,
    alpha: float = 0.05,
    ratio: float = 1.0,
    relative: bool = True,
) -> float:
    """The power of detecting a lift of ``mde`` with ``n`` control units."""
    effect = _standardized(baseline, mde, sd, relative)
    return _ecomkit.normal_power(
        abs(effect), _check.real(n, "n"), _alpha(alpha), _check.real(ratio, "ratio")
    )


def duration(
    baseline: float,
    daily_units: float,
    mde: float = 0.01,
    *,
    n_variants: int = 2,
    sd: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    relative: bool = True,
) -> int:
    """Days needed when ``daily_units`` units a day are split equally over ``n_variants``
    arms (each treatment compared with the control at the sample size of
    :func:`sample_size`).

    >>> duration(0.05, daily_units=500_000, mde=0.01)
    12
    """
    n_variants = _check.integer(n_variants, "n_variants", 2)
    daily_units = _check.real(daily_units, "daily_units")
    if not daily_units > 0:
        raise InvalidValueError(f"daily_units: expected a positive number, got {daily_units}")
    per_arm = sample_size(baseline, mde, sd=sd, alpha=alpha, power=power, relative=relative)
    return math.ceil(per_arm * n_variants / daily_units)


def sample_ratio_check(
    counts: Sequence[float] | Mapping[str, float], weights: Any = None
) -> dict[str, float]:
    """Pearson's chi-squared test of observed units per variant against the planned
    ``weights`` (equal by default), as scipy ``chisquare``: ``{"statistic", "p_value"}``. A
    tiny p-value (< 0.001) means the split is broken and the experiment's results are
    suspect.

    >>> round(sample_ratio_check([5000, 5300])["p_value"], 5)
    0.00312
    """
    if isinstance(counts, Mapping):
        names, values = list(counts), [float(v) for v in counts.values()]
        weights = _expected_weights(weights, names) if weights is not None else None
    else:
        values = [float(v) for v in counts]
        weights = None if weights is None else [float(w) for w in weights]
    if weights is None:
        weights = [1.0] * len(values)
    statistic, p_value = _ecomkit.chi_square_gof(values, weights)
    return {"statistic": statistic, "p_value": p_value}


def adjust_p_values(p_values: Sequence[float], method: str = "holm") -> np.ndarray:
    """Holm (``"holm"``) or Benjamini–Hochberg (``"bh"``) adjusted p-values, as statsmodels
    ``multipletests``; NaN p-values stay NaN and are not counted."""
    _check.choice(method, "method", ("holm", "bh"))
    return np.array(_ecomkit.adjust_p_values([float(p) for p in p_values], method))


# --- Pipeline steps (CLI: ``ecomkit assign`` and ``ecomkit uplift``) ----------------------


run_assign = _check.moved("ecomkit.abtest.run_assign", "assign")


run_uplift = _check.moved("ecomkit.abtest.run_uplift", "uplift")
