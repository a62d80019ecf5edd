"""Ranking, classification and calibration metrics, computed in Rust.

Ranking (``y_true, y_score, groups``; rows of a group need not be contiguous or sorted):
:func:`ndcg`, :func:`precision`, :func:`recall`, :func:`average_precision`, :func:`mrr`,
:func:`hit_rate`, :func:`ranking_report`, :func:`lift_curve`.
Classification and calibration (``y_true, y_score``): :func:`roc_auc`,
:func:`average_precision_score`, :func:`log_loss`, :func:`brier_score`,
:func:`calibration_curve`, :class:`IsotonicCalibrator`, :func:`precision_recall_at`,
:func:`sliced`.

Conventions (gain, ties, groups without a relevant item, "relevant" = label > 0) are in
docs/metrics.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from . import _check, _display, _ecomkit, _frames
from .errors import InvalidValueError

__all__ = [
    "IsotonicCalibrator",
    "average_precision",
    "average_precision_score",
    "brier_score",
    "calibration_curve",
    "hit_rate",
    "lift_curve",
    "log_loss",
    "mrr",
    "ndcg",
    "plot_lift_curve",
    "precision",
    "precision_recall_at",
    "ranking_metrics",
    "ranking_report",
    "recall",
    "roc_auc",
    "sliced",
]

GAINS = ("exponential", "linear")
TIES = ("stable", "average")
NO_RELEVANT = ("zero", "one", "skip")
AP_DENOMINATORS = ("relevant", "min_k")
NAMES = {
    "ndcg": "ndcg",
    "precision": "precision",
    "recall": "recall",
    "average_precision": "map",
    "mrr": "mrr",
    "hit_rate": "hit_rate",
}


def _cuts(k: Any) -> tuple[list[int | None], bool]:
    """([cut-offs], whether a list was given)."""
    if k is None:
        return [None], False
    if isinstance(k, (list, tuple, range, np.ndarray)):
        cuts = [_check.positive_int(int(c) if isinstance(c, np.integer) else c, "k") for c in k]
        if not cuts:
            raise InvalidValueError("k: expected at least one cut-off")
        return cuts, True
    return [_check.positive_int(k, "k")], False


ALL_METRICS = ("ndcg", "precision", "recall", "average_precision", "mrr", "hit_rate")


def _compute(
    names: Sequence[str],
    y_true: Any,
    y_score: Any,
    groups: Any,
    k: Any,
    *,
    gain: str = "exponential",
    ties: str = "stable",
    no_relevant: str = "zero",
    ap_denominator: str = "relevant",
) -> tuple[np.ndarray, list[int], list[int | None], bool, Any]:
    _check.choice(gain, "gain", GAINS)
    _check.choice(ties, "ties", TIES)
    _check.choice(no_relevant, "no_relevant", NO_RELEVANT)
    _check.choice(ap_denominator, "ap_denominator", AP_DENOMINATORS)
    for name in names:
        _check.choice(name, "metrics", ALL_METRICS)
    cuts, many = _cuts(k)
    y_true = _frames.to_float64(y_true, "y_true")
    y_score = _frames.to_float64(y_score, "y_score")
    keys = _frames.to_arrow_array(groups, "groups")
    flat, first_rows = _ecomkit.ranking_metrics(
        list(names), y_true, y_score, keys, cuts, gain, ties, no_relevant, ap_denominator
    )
    # (group, metric, cut) → [metric][cut] arrays over groups.
    values = flat.reshape(len(first_rows), len(names), len(cuts)).transpose(1, 2, 0)
    return values, first_rows, cuts, many, keys


def _mean(values: np.ndarray) -> float:
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if len(finite) else math.nan


def _ranking(metric: str, y_true: Any, y_score: Any, groups: Any, k: Any, *,
             per_group: bool = False, **options: Any) -> Any:  # fmt: skip
    values, first_rows, cuts, many, keys = _compute([metric], y_true, y_score, groups, k,
                                                    **options)  # fmt: skip
    name = NAMES[metric]
    columns = [name if c is None else f"{name}@{c}" for c in cuts]
    if per_group:
        import pandas as pd

        key_values = pa.array(keys) if not isinstance(keys, pa.ChunkedArray) else keys
        group_ids = key_values.take(pa.array(first_rows, pa.int64())).to_pylist()
        return pd.DataFrame({"group": group_ids, **dict(zip(columns, values[0], strict=True))})
    means = [_mean(v) for v in values[0]]
    return dict(zip(cuts, means, strict=True)) if many else means[0]


@_check.renamed(labels="y_true", scores="y_score")
def ranking_metrics(
    y_true: Any,
    y_score: Any,
    groups: Any,
    k: Any = None,
    *,
    metrics: Sequence[str] = ALL_METRICS,
    gain: str = "exponential",
    ties: str = "stable",
    no_relevant: str = "zero",
    ap_denominator: str = "relevant",
) -> dict[str, Any]:
    """Several ranking metrics at once — each group is sorted once for all of them:
    ``{metric: mean}`` (or ``{metric: {k: mean}}`` for a list of cut-offs), with the same
    conventions as :func:`ndcg` and friends.

    >>> ranking_metrics([0, 1, 0], [0.9, 0.8, 0.1], [1, 1, 1], k=[1, 2],
    ...                 metrics=["recall", "mrr"])
    {'recall': {1: 0.0, 2: 1.0}, 'mrr': {1: 0.0, 2: 0.5}}
    """
    names = list(metrics)
    options = {"gain": gain, "ties": ties, "no_relevant": no_relevant,
               "ap_denominator": ap_denominator}  # fmt: skip
    values, _, cuts, many, _ = _compute(names, y_true, y_score, groups, k, **options)
    out: dict[str, Any] = {}
    for name, per_cut in zip(names, values, strict=True):
        means = [_mean(v) for v in per_cut]
        out[name] = dict(zip(cuts, means, strict=True)) if many else means[0]
    return out


def _ranking_doc(name: str, what: str) -> str:
    return f"""{what}, averaged over groups (or per group).

    ``{name}(y_true, y_score, groups, k=None, *, ties="stable", no_relevant="zero",
    per_group=False)``: ``k`` is a cut-off, ``None`` (the whole group) or a list of
    cut-offs computed in one pass (→ dict k → mean). ``per_group=True`` returns a pandas
    DataFrame with the group id and one column per cut-off. See docs/metrics.md."""


@_check.renamed(labels="y_true", scores="y_score")
def ndcg(
    y_true: Any,
    y_score: Any,
    groups: Any,
    k: Any = None,
    *,
    gain: str = "exponential",
    ties: str = "stable",
    no_relevant: str = "zero",
    per_group: bool = False,
) -> Any:
    """Normalized discounted cumulative gain per group, averaged over groups.

    ``gain="exponential"`` (2^label − 1; LightGBM, ranx ``ndcg_burges``) or ``"linear"``
    (label; ranx ``ndcg``, scikit-learn); ``ties="stable"`` (equal scores keep input order,
    as LightGBM) or ``"average"`` (scikit-learn's tie-averaged DCG); a group with no
    relevant item counts ``no_relevant="zero"`` (ranx), ``"one"`` (LightGBM) or is skipped.
    ``k`` may be a list of cut-offs (→ dict of means).

    >>> ndcg([0, 1, 0, 2, 0], [0.9, 0.8, 0.1, 0.3, 0.4], ["a", "a", "a", "b", "b"], k=2)
    0.6309297535714575
    >>> ndcg([0, 1, 0], [0.9, 0.8, 0.1], [1, 1, 1], k=[1, 2])
    {1: 0.0, 2: 0.6309297535714575}
    """
    return _ranking("ndcg", y_true, y_score, groups, k, gain=gain, ties=ties,
                    no_relevant=no_relevant, per_group=per_group)  # fmt: skip


@_check.renamed(labels="y_true", scores="y_score")
def precision(y_true: Any, y_score: Any, groups: Any, k: Any = None, *, ties: str = "stable",
              no_relevant: str = "zero", per_group: bool = False) -> Any:  # fmt: skip
    return _ranking("precision", y_true, y_score, groups, k, ties=ties,
                    no_relevant=no_relevant, per_group=per_group)  # fmt: skip


@_check.renamed(labels="y_true", scores="y_score")
def recall(y_true: Any, y_score: Any, groups: Any, k: Any = None, *, ties: str = "stable",
           no_relevant: str = "zero", per_group: bool = False) -> Any:  # fmt: skip
    return _ranking("recall", y_true, y_score, groups, k, ties=ties,
                    no_relevant=no_relevant, per_group=per_group)  # fmt: skip


@_check.renamed(labels="y_true", scores="y_score")
def average_precision(
    y_true: Any,
    y_score: Any,
    groups: Any,
    k: Any = None,
    *,
    ap_denominator: str = "relevant",
    ties: str = "stable",
    no_relevant: str = "zero",
    per_group: bool = False,
) -> Any:
    """Mean average precision (MAP@k): Σ precision@i over relevant positions i ≤ k, divided
    by the number of relevant items (``ap_denominator="relevant"``, trec_eval/ranx) or by
    min(k, relevant) (``"min_k"``, LightGBM)."""
    return _ranking("average_precision", y_true, y_score, groups, k, ties=ties,
                    no_relevant=no_relevant, ap_denominator=ap_denominator,
                    per_group=per_group)  # fmt: skip


@_check.renamed(labels="y_true", scores="y_score")
def mrr(y_true: Any, y_score: Any, groups: Any, k: Any = None, *, ties: str = "stable",
        no_relevant: str = "zero", per_group: bool = False) -> Any:  # fmt: skip
    return _ranking("mrr", y_true, y_score, groups, k, ties=ties, no_relevant=no_relevant,
                    per_group=per_group)  # fmt: skip


@_check.renamed(labels="y_true", scores="y_score")
def hit_rate(y_true: Any, y_score: Any, groups: Any, k: Any = None, *, ties: str = "stable",
             no_relevant: str = "zero", per_group: bool = False) -> Any:  # fmt: skip
    return _ranking("hit_rate", y_true, y_score, groups, k, ties=ties, no_relevant=no_relevant,
                    per_group=per_group)  # fmt: skip


precision.__doc__ = _ranking_doc("precision", "Precision@k: relevant items in the top k / k")
recall.__doc__ = _ranking_doc("recall", "Recall@k: relevant items in the top k / relevant items")
mrr.__doc__ = _ranking_doc("mrr", "Mean reciprocal rank: 1 / rank of the first relevant item")
hit_rate.__doc__ = _ranking_doc("hit_rate", "Hit rate@k: 1 when a relevant item is in the top k")


# --- Reports --------------------------------------------------------------------------------


def _columns(frame: Any, names: list[str]) -> dict[str, Any]:
    frame, kind = _frames.prepare(frame)
    _frames.require_columns(_frames.column_names(frame, kind), names, "frame")
    table = pa.table(_frames.select(frame, kind, names))
    return {name: table.column(name) for name in names}


def ranking_report(
    frame: Any,
    group: str,
    label: str,
    score: str,
    k: Sequence[int] = (1, 3, 5, 10),
    baseline: str | None = None,
    *,
    fractions: Sequence[float] | None = None,
) -> Any:
    """Group-wise ranking metrics of ``score`` at each ``k``, with the lift of the model's
    recall over a ``baseline`` score column, plus a lift curve over population fractions.

    Returns a pandas DataFrame with one row per k: ``k``, ``ndcg``, ``precision``,
    ``recall``, ``map``, ``mrr``, ``hit_rate`` and, with a baseline, ``baseline_recall`` and
    ``lift`` (model recall / baseline recall). ``.attrs["lift_curve"]`` holds the lift curve
    (:func:`lift_curve`): one row per population fraction (deciles by default) with
    ``fraction``, ``recall``, and with a baseline ``baseline_recall`` and ``lift``; the cut
    of a group at fraction f is ceil(f × group size).

    >>> import pandas as pd
    >>> df = pd.DataFrame({"q": [1, 1, 1, 2, 2, 2], "y": [1, 0, 0, 0, 0, 1],
    ...                    "model": [0.9, 0.2, 0.1, 0.3, 0.2, 0.8],
    ...                    "popularity": [0.1, 0.5, 0.9, 0.9, 0.5, 0.1]})
    >>> ranking_report(df, "q", "y", "model", k=[1], baseline="popularity")
       k  ndcg  precision  recall  map  mrr  hit_rate  baseline_recall  lift
    0  1   1.0        1.0     1.0  1.0  1.0       1.0              0.0   inf
    """
    pd = _frames.require("pandas", "ranking_report")
    rows, curve = _report_columns(frame, group, label, score, k, baseline, fractions)
    report = pd.DataFrame(rows)
    report.attrs["lift_curve"] = pd.DataFrame(curve)
    return report


def _report_columns(
    frame: Any,
    group: str,
    label: str,
    score: str,
    k: Sequence[int],
    baseline: str | None,
    fractions: Sequence[float] | None,
) -> tuple[dict[str, list[Any]], dict[str, list[float]]]:
    """:func:`ranking_report`'s columns and its lift curve's, as dicts of lists."""
    names = [group, label, score] + ([baseline] if baseline else [])
    cols = _columns(frame, names)
    y_true = _frames.to_float64(cols[label], "label")
    y_score = _frames.to_float64(cols[score], "score")
    keys = cols[group]
    cuts = [int(c) for c in k]
    rows: dict[str, list[Any]] = {"k": cuts}
    all_means = ranking_metrics(y_true, y_score, keys, cuts)
    for metric in ALL_METRICS:
        rows[NAMES[metric]] = [all_means[metric][c] for c in cuts]
    if baseline:
        base = _frames.to_float64(cols[baseline], "baseline")
        base_recall = _ranking("recall", y_true, base, keys, cuts)
        rows["baseline_recall"] = [base_recall[c] for c in cuts]
        rows["lift"] = [_lift(m, b) for m, b in zip(rows["recall"], rows["baseline_recall"],
                                                     strict=True)]  # fmt: skip
    curve = _lift_curve_columns(y_true, y_score, keys, base if baseline else None, fractions)
    return rows, curve


def _lift(model: float, base: float) -> float:
    if base > 0:
        return model / base
    return math.inf if model > 0 else math.nan


@_check.renamed(labels="y_true", scores="y_score")
def lift_curve(
    y_true: Any,
    y_score: Any,
    groups: Any,
    baseline: Any = None,
    *,
    fractions: Sequence[float] | None = None,
) -> Any:
    """Mean recall of the top fraction f of each group (cut = ceil(f × group size)), for the
    model and optionally a baseline score, and their ratio, at each fraction (deciles by
    default). Groups without a relevant item are left out (their recall is undefined). A
    pandas DataFrame."""
    pd = _frames.require("pandas", "lift_curve")
    return pd.DataFrame(_lift_curve_columns(y_true, y_score, groups, baseline, fractions))


def _lift_curve_columns(
    y_true: Any, y_score: Any, groups: Any, baseline: Any, fractions: Sequence[float] | None
) -> dict[str, list[float]]:
    """:func:`lift_curve`'s columns."""
    fractions = [0.1 * i for i in range(1, 11)] if fractions is None else list(fractions)
    if not fractions or any(not 0 < f <= 1 for f in fractions):
        raise InvalidValueError("fractions: expected fractions in (0, 1]")
    y_true = _frames.to_float64(y_true, "y_true")
    keys = _frames.to_arrow_array(groups, "groups")
    # Dense codes of the groups (NaN and null keys are groups too, as in the Rust core).
    arrow_keys = pa.array(keys)
    if isinstance(arrow_keys, pa.ChunkedArray):
        arrow_keys = arrow_keys.combine_chunks()
    codes = arrow_keys.dictionary_encode(null_encoding="encode").indices.to_numpy()
    group_size = np.bincount(codes)
    # The cut of each group at each fraction: recall@cut of each group, averaged.
    out: dict[str, list[float]] = {"fraction": [round(f, 10) for f in fractions]}

    def curve(values: Any) -> list[float]:
        values = _frames.to_float64(values, "y_score")
        cuts = sorted({max(1, math.ceil(f * n - 1e-9)) for f in fractions for n in set(group_size)})
        flat, first_rows = _ecomkit.ranking_metrics(
            ["recall"], y_true, values, keys, cuts, "exponential", "stable", "skip", "relevant"
        )
        per_group = flat.reshape(len(first_rows), len(cuts)).T
        sizes = group_size[codes[np.asarray(first_rows, dtype=np.int64)]].tolist()
        index = {c: i for i, c in enumerate(cuts)}
        result = []
        for f in fractions:
            recalls = [
                per_group[index[max(1, math.ceil(f * size - 1e-9))]][i]
                for i, size in enumerate(sizes)
            ]
            result.append(float(np.nanmean(recalls)) if not np.all(np.isnan(recalls)) else math.nan)
        return result

    out["recall"] = curve(y_score)
    if baseline is not None:
        out["baseline_recall"] = curve(baseline)
        out["lift"] = [_lift(m, b) for m, b in zip(out["recall"], out["baseline_recall"],
                                                    strict=True)]  # fmt: skip
    return out


# --- Classification and calibration ----------------------------------------------------------


def _binary(y_true: Any, y_score: Any, sample_weight: Any,
            score: str = "y_score") -> tuple[Any, Any, Any]:  # fmt: skip
    y = _frames.to_float64(y_true, "y_true")
    p = _frames.to_float64(y_score, score)
    w = None if sample_weight is None else _frames.to_float64(sample_weight, "sample_weight")
    return y, p, w


def roc_auc(y_true: Any, y_score: Any, *, sample_weight: Any = None) -> float:
    """Area under the ROC curve, as scikit-learn ``roc_auc_score`` (ties included).

    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    return _ecomkit.roc_auc(*_binary(y_true, y_score, sample_weight))


def average_precision_score(y_true: Any, y_score: Any, *, sample_weight: Any = None) -> float:
    """Average precision, as scikit-learn ``average_precision_score``."""
    return _ecomkit.average_precision_score(*_binary(y_true, y_score, sample_weight))


def log_loss(y_true: Any, y_prob: Any, *, sample_weight: Any = None) -> float:
    """Mean negative log-likelihood, as scikit-learn ``log_loss`` (probabilities clipped to
    [ε, 1 − ε], ε = 2.2e-16)."""
    return _ecomkit.log_loss(*_binary(y_true, y_prob, sample_weight, "y_prob"))


def brier_score(y_true: Any, y_prob: Any, *, sample_weight: Any = None) -> float:
    """Mean squared error of the probabilities, as scikit-learn ``brier_score_loss``.

    >>> round(brier_score([0, 1, 1], [0.1, 0.9, 0.6]), 12)
    0.06
    """
    return _ecomkit.brier_score(*_binary(y_true, y_prob, sample_weight, "y_prob"))


def precision_recall_at(
    y_true: Any, y_score: Any, threshold: float, *, sample_weight: Any = None
) -> tuple[float, float]:
    """(precision, recall) of predicting positive when ``y_score >= threshold`` (0 when
    undefined, as scikit-learn's ``zero_division=0``)."""
    threshold = _check.real(threshold, "threshold")
    y, p, w = _binary(y_true, y_score, sample_weight)
    return _ecomkit.precision_recall_at(y, p, threshold, w)


def calibration_curve(y_true: Any, y_prob: Any, n_bins: int = 10, strategy: str = "uniform") -> Any:
    """Reliability curve as a pandas DataFrame (``prob_true``, ``prob_pred``, ``count``),
    non-empty bins only; the same bins as scikit-learn ``calibration_curve``."""
    import pandas as pd

    n_bins = _check.positive_int(n_bins, "n_bins")
    _check.choice(strategy, "strategy", ("uniform", "quantile"))
    y, p, _ = _binary(y_true, y_prob, None, "y_prob")
    prob_true, prob_pred, count = _ecomkit.calibration_curve(y, p, n_bins, strategy)
    return pd.DataFrame({"prob_true": prob_true, "prob_pred": prob_pred, "count": count})


class IsotonicCalibrator:
    """Monotone calibration of scores by pool-adjacent-violators (scikit-learn
    ``IsotonicRegression(out_of_bounds="clip")``): ``fit(scores, y)``, ``transform(scores)``.

    >>> cal = IsotonicCalibrator().fit([0.1, 0.2, 0.3, 0.4], [0, 1, 0, 1])
    >>> cal.transform([0.1, 0.25, 0.4]).tolist()
    [0.0, 0.5, 1.0]
    """

    def __init__(self) -> None:
        self.x_: list[float] | None = None
        self.y_: list[float] | None = None

    def __repr__(self) -> str:
        fitted = self.x_
        return _display.text("IsotonicCalibrator",
                             [("fitted", fitted is not None),
                              ("steps", None if fitted is None else len(fitted))])  # fmt: skip

    def fit(self, scores: Any, y: Any, *, sample_weight: Any = None) -> IsotonicCalibrator:
        x = _frames.to_float64(scores, "scores")
        t = _frames.to_float64(y, "y")
        w = None if sample_weight is None else _frames.to_float64(sample_weight, "sample_weight")
        self.x_, self.y_ = _ecomkit.isotonic_fit(x, t, w)
        return self

    def transform(self, scores: Any) -> np.ndarray:
        if self.x_ is None:
            raise InvalidValueError("IsotonicCalibrator: call fit() first")
        return _ecomkit.isotonic_transform(self.x_, self.y_, _frames.to_float64(scores, "scores"))

    def fit_transform(self, scores: Any, y: Any, *, sample_weight: Any = None) -> np.ndarray:
        return self.fit(scores, y, sample_weight=sample_weight).transform(scores)


def sliced(
    metric: Callable[..., float], y_true: Any, y_score: Any, *, segments: Any, **kwargs: Any
) -> Any:
    """``metric`` per segment (the fairness check): a pandas DataFrame with ``segment``,
    ``n`` and ``value`` per segment, and ``attrs["max_gap"]`` = largest minus smallest
    value (NaN values, e.g. a one-class segment for AUC, are left out of the gap).

    >>> out = sliced(brier_score, [0, 1, 1, 0], [0.2, 0.6, 0.9, 0.5], segments=["a", "a", "b", "b"])
    >>> out["value"].round(3).tolist(), round(out.attrs["max_gap"], 3)
    ([0.1, 0.13], 0.03)
    """
    import pandas as pd

    y = _frames.to_float64(y_true, "y_true")
    p = _frames.to_float64(y_score, "y_score")
    seg = pa.array(_frames.to_arrow_array(segments, "segments")).to_pandas()
    if len(seg) != len(y):
        raise InvalidValueError(f"segments: expected length {len(y)}, got {len(seg)}")
    codes, uniques = pd.factorize(seg, use_na_sentinel=False)
    rows = []
    for i, name in enumerate(uniques):
        mask = codes == i
        try:
            value = float(metric(y[mask], p[mask], **kwargs))
        except ValueError:
            value = math.nan  # e.g. AUC of a segment with one class
        rows.append({"segment": name, "n": int(mask.sum()), "value": value})
    out = pd.DataFrame(rows)
    finite = out["value"].dropna()
    out.attrs["max_gap"] = float(finite.max() - finite.min()) if len(finite) else math.nan
    return out


def plot_lift_curve(curve: Any, path: str | Path | None = None, *, title: str | None = None) -> Any:
    """Plot a lift curve (the frame of :func:`lift_curve` or
    ``ranking_report(...).attrs["lift_curve"]``): recall of the model and of the baseline
    against the population fraction. Returns the matplotlib Figure; with ``path``, also
    writes it there (PNG, atomically). Needs matplotlib (``pip install 'ecomkit[plot]'``)."""
    from . import plots

    return plots.lift_curve(curve, path, title=title)


def plot_ranking_report(report: Any, path: str | Path | None = None, *,
                        title: str | None = None) -> Any:  # fmt: skip
    """Plot a :func:`ranking_report`: its lift curve, and NDCG@k and recall@k (with the
    baseline's recall) by k. Returns the Figure; with ``path``, also writes a PNG."""
    from . import plots

    return plots.ranking_report(report, path, title=title)


def plot_calibration(curve: Any, path: str | Path | None = None, *,
                     title: str | None = None) -> Any:  # fmt: skip
    """A reliability diagram of :func:`calibration_curve`'s frame. Returns the Figure; with
    ``path``, also writes a PNG."""
    from . import plots

    return plots.calibration(curve, path, title=title)
