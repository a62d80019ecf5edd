"""Ranking metrics against ranx, scikit-learn and hand-worked cases; classification and
calibration metrics against scikit-learn on thousands of random cases, ties included."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve as sk_calibration_curve
from sklearn.isotonic import IsotonicRegression

from ecomkit import metrics

TOL = 1e-12


def close(a, b, tol=TOL):
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def random_ranking(rng, n_groups=30, max_size=25, ties=False, max_label=3):
    sizes = rng.integers(1, max_size, n_groups)
    groups = np.repeat(np.arange(n_groups), sizes)
    labels = rng.integers(0, max_label + 1, len(groups)).astype(float)
    labels[rng.random(len(groups)) < 0.5] = 0
    scores = rng.integers(0, 5, len(groups)).astype(float) if ties else rng.random(len(groups))
    order = rng.permutation(len(groups))  # groups need not be contiguous
    return labels[order], scores[order], groups[order]


# --- Hand-worked cases -----------------------------------------------------------------------


def test_hand_worked_ndcg_precision_recall_map_mrr():
    # One group: scores rank items d1 > d2 > d3 > d4; labels 0, 2, 0, 1.
    labels, scores, groups = [0, 2, 0, 1], [0.9, 0.8, 0.7, 0.6], ["q"] * 4
    dcg = 3 / math.log2(3) + 1 / math.log2(5)  # (2^2 - 1) at rank 2, (2^1 - 1) at rank 4
    idcg = 3 + 1 / math.log2(3)
    close(metrics.ndcg(labels, scores, groups), dcg / idcg)
    close(metrics.ndcg(labels, scores, groups, k=2), (3 / math.log2(3)) / idcg)
    lin = (2 / math.log2(3) + 1 / math.log2(5)) / (2 + 1 / math.log2(3))
    close(metrics.ndcg(labels, scores, groups, gain="linear"), lin)
    close(metrics.precision(labels, scores, groups, k=2), 0.5)
    close(metrics.precision(labels, scores, groups, k=10), 0.2)  # divided by k, as ranx
    close(metrics.recall(labels, scores, groups, k=2), 0.5)
    close(metrics.average_precision(labels, scores, groups), (1 / 2 + 2 / 4) / 2)
    close(metrics.average_precision(labels, scores, groups, k=2), (1 / 2) / 2)
    close(metrics.average_precision(labels, scores, groups, k=1, ap_denominator="min_k"), 0)
    close(metrics.mrr(labels, scores, groups), 0.5)
    close(metrics.hit_rate(labels, scores, groups, k=1), 0.0)


def test_ties_stable_keeps_input_order_and_average_matches_sklearn():
    labels, scores, groups = [0, 1], [0.5, 0.5], [1, 1]
    close(metrics.ndcg(labels, scores, groups, k=1), 0.0)  # the first row wins the tie
    close(metrics.ndcg(labels, scores, groups, k=1, ties="average"), 0.5)
    close(metrics.precision(labels, scores, groups, k=1, ties="average"), 0.5)
    with pytest.raises(ValueError, match="ties"):
        metrics.mrr(labels, scores, groups, ties="average")


def test_no_relevant_conventions():
    labels, scores, groups = [0, 0, 1, 0], [0.1, 0.2, 0.9, 0.1], ["a", "a", "b", "b"]
    assert metrics.ndcg(labels, scores, groups) == 0.5
    assert metrics.ndcg(labels, scores, groups, no_relevant="one") == 1.0
    assert metrics.ndcg(labels, scores, groups, no_relevant="skip") == 1.0
    out = metrics.ndcg(labels, scores, groups, k=[1, 2], per_group=True)
    assert list(out.columns) == ["group", "ndcg@1", "ndcg@2"]
    assert out["group"].tolist() == ["a", "b"]


# --- ranx --------------------------------------------------------------------------------------


def test_agrees_with_ranx():
    ranx = pytest.importorskip("ranx")
    rng = np.random.default_rng(0)
    for _ in range(20):
        labels, scores, groups = random_ranking(rng)
        has_relevant = pd.Series(labels > 0).groupby(groups).any()
        keep = np.isin(groups, has_relevant[has_relevant].index)  # ranx needs relevant docs
        labels, scores, groups = labels[keep], scores[keep], groups[keep]
        qrels, run = {}, {}
        for i, (g, label, score) in enumerate(zip(groups, labels, scores, strict=True)):
            if label > 0:
                qrels.setdefault(f"q{g}", {})[f"d{i}"] = int(label)
            run.setdefault(f"q{g}", {})[f"d{i}"] = float(score)
        names = {"ndcg_burges": ("ndcg", {}), "ndcg": ("ndcg", {"gain": "linear"}),
                 "precision": ("precision", {}), "recall": ("recall", {}),
                 "map": ("average_precision", {}), "mrr": ("mrr", {}),
                 "hit_rate": ("hit_rate", {})}  # fmt: skip
        for k in (1, 3, 10):
            wanted = [f"{name}@{k}" for name in names]
            reference = ranx.evaluate(ranx.Qrels(qrels), ranx.Run(run), wanted)
            for name, (ours, options) in names.items():
                value = getattr(metrics, ours)(labels, scores, groups, k=k, **options)
                close(value, reference[f"{name}@{k}"], 1e-12)


# --- scikit-learn ndcg_score and LightGBM-style conventions ------------------------------------


def test_ndcg_average_ties_matches_sklearn():
    rng = np.random.default_rng(1)
    for _ in range(300):
        n = rng.integers(2, 30)
        y = rng.integers(0, 4, n).astype(float)
        s = rng.integers(0, 4, n).astype(float)  # many ties
        if y.sum() == 0:
            continue
        for k in (None, 1, 3, 10):
            ours = metrics.ndcg(y, s, np.zeros(n), k=k, gain="linear", ties="average")
            close(ours, skm.ndcg_score([y], [s], k=k), 1e-12)


# --- classification and calibration --------------------------------------------------------------


@pytest.mark.parametrize("weighted", [False, True])
def test_classification_metrics_match_sklearn(weighted):
    rng = np.random.default_rng(2)
    for _ in range(1000):
        n = rng.integers(2, 200)
        y = (rng.random(n) < rng.uniform(0.05, 0.95)).astype(float)
        if y.min() == y.max():
            continue
        p = np.round(rng.random(n), rng.integers(1, 4))  # rounding makes ties
        w = rng.uniform(0.1, 3, n) if weighted else None
        close(
            metrics.roc_auc(y, p, sample_weight=w), skm.roc_auc_score(y, p, sample_weight=w), 1e-9
        )
        close(metrics.average_precision_score(y, p, sample_weight=w),
              skm.average_precision_score(y, p, sample_weight=w), 1e-9)  # fmt: skip
        close(metrics.log_loss(y, p, sample_weight=w), skm.log_loss(y, p, sample_weight=w), 1e-9)
        close(metrics.brier_score(y, p, sample_weight=w),
              skm.brier_score_loss(y, p, sample_weight=w), 1e-9)  # fmt: skip
        t = float(rng.choice(p))
        pr = metrics.precision_recall_at(y, p, t, sample_weight=w)
        hits = p >= t
        expected = (
            skm.precision_score(y, hits, sample_weight=w, zero_division=0),
            skm.recall_score(y, hits, sample_weight=w, zero_division=0),
        )
        close(pr, expected, 1e-9)


def test_calibration_curve_matches_sklearn():
    rng = np.random.default_rng(3)
    for _ in range(500):
        n = rng.integers(5, 500)
        p = rng.beta(2, 5, n)
        y = (rng.random(n) < p).astype(float)
        for strategy in ("uniform", "quantile"):
            n_bins = int(rng.integers(2, 15))
            ours = metrics.calibration_curve(y, p, n_bins=n_bins, strategy=strategy)
            prob_true, prob_pred = sk_calibration_curve(y, p, n_bins=n_bins, strategy=strategy)
            close(ours["prob_true"], prob_true, 1e-12)
            close(ours["prob_pred"], prob_pred, 1e-12)


def test_isotonic_matches_sklearn():
    rng = np.random.default_rng(4)
    for _ in range(500):
        n = rng.integers(2, 300)
        x = np.round(rng.random(n), 2)  # ties in x
        y = (rng.random(n) < x).astype(float)
        w = rng.uniform(0.5, 2, n)
        reference = IsotonicRegression(out_of_bounds="clip").fit(x, y, sample_weight=w)
        ours = metrics.IsotonicCalibrator().fit(x, y, sample_weight=w)
        probe = np.concatenate([x, rng.uniform(-0.2, 1.2, 50)])
        close(ours.transform(probe), reference.predict(probe), 1e-12)


def test_sliced_reports_the_largest_gap():
    rng = np.random.default_rng(5)
    y = (rng.random(3000) < 0.3).astype(float)
    p = np.clip(y * 0.3 + rng.random(3000) * 0.7, 0, 1)
    seg = rng.choice(["web", "app", "phone"], 3000)
    out = metrics.sliced(metrics.roc_auc, y, p, segments=seg)
    expected = {s: skm.roc_auc_score(y[seg == s], p[seg == s]) for s in ("web", "app", "phone")}
    close(out.set_index("segment")["value"].to_dict()[("web")], expected["web"], 1e-9)
    gap = max(expected.values()) - min(expected.values())
    close(out.attrs["max_gap"], gap, 1e-9)


# --- report, errors -----------------------------------------------------------------------------


def test_ranking_report_and_lift_curve():
    rng = np.random.default_rng(6)
    labels, scores, groups = random_ranking(rng, n_groups=50)
    baseline = rng.random(len(labels))
    df = pd.DataFrame({"g": groups, "y": labels, "s": scores, "b": baseline})
    report = metrics.ranking_report(df, "g", "y", "s", k=(1, 5), baseline="b")
    m = report
    assert m["k"].tolist() == [1, 5]
    close(m["ndcg"].iloc[1], metrics.ndcg(labels, scores, groups, k=5))
    close(m["baseline_recall"].iloc[0], metrics.recall(labels, baseline, groups, k=1))
    close(m["lift"], m["recall"] / m["baseline_recall"])
    curve = report.attrs["lift_curve"]
    assert len(curve) == 10 and curve["recall"].iloc[-1] == pytest.approx(1.0)
    at_half = metrics.recall(labels, scores, groups, no_relevant="skip", per_group=True)
    assert curve["recall"].iloc[-1] == pytest.approx(at_half["recall"].mean())
    assert curve["recall"].is_monotonic_increasing


def test_bad_input():
    with pytest.raises(ValueError, match="k: expected an integer >= 1"):
        metrics.ndcg([1], [1.0], [1], k=0)
    with pytest.raises(ValueError, match="y_true"):
        metrics.ndcg([-1], [1.0], [1])
    with pytest.raises(ValueError, match="gain"):
        metrics.ndcg([1], [1.0], [1], gain="cubic")
    with pytest.raises(ValueError, match="y_score: expected length"):
        metrics.ndcg([1, 0], [1.0], [1, 1])
    with pytest.raises(ValueError, match="one class"):
        metrics.roc_auc([1, 1], [0.2, 0.3])
    with pytest.raises(ValueError, match="y_prob"):
        metrics.log_loss([1, 0], [1.2, 0.3])
    with pytest.raises(ValueError, match="y_true"):
        metrics.roc_auc([2, 0], [0.2, 0.3])


def test_old_keyword_names_of_the_ranking_metrics_still_work():
    y_true, y_score, groups = [0, 2, 0, 1], [0.9, 0.8, 0.7, 0.6], ["q"] * 4
    with pytest.warns(DeprecationWarning, match="ndcg: 'labels' is deprecated; use 'y_true'"):
        old = metrics.ndcg(labels=y_true, scores=y_score, groups=groups)
    assert old == metrics.ndcg(y_true, y_score, groups)
