"""Uplift statistics against statsmodels and scipy on thousands of random experiments, on
the real Hillstrom e-mail experiment, and on the edge cases."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from conftest import outputs_for_thread_counts, to_kind
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from ecomkit import abtest
from ecomkit.abtest import (
    ExperimentAggregates,
    UpliftEvaluator,
    aggregate,
    evaluate_experiment,
    evaluate_uplift,
)

TOL = 1e-9  # relative and absolute tolerance against the references
Z975 = stats.norm.ppf(0.975)


def close(a, b, tol=TOL):
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def row(report, variant, metric):
    df = report.to_dataframe()
    return df[(df["variant"] == variant) & (df["metric"] == metric)].iloc[0]


def random_units(rng, n_t, n_c, kind="binary"):
    if kind == "binary":
        p = rng.uniform(0.01, 0.6)
        t, c = (rng.random(n_t) < p * rng.uniform(0.8, 1.3)), (rng.random(n_c) < p)
        return t.astype(np.int64), c.astype(np.int64)
    scale = rng.uniform(0.1, 1000)
    return rng.lognormal(0, 1.5, n_t) * scale, rng.lognormal(0.05, 1.5, n_c) * scale


def frame_of(t, c, name="y", **extra):
    return pd.DataFrame(
        {"variant": ["t"] * len(t) + ["c"] * len(c), name: np.concatenate([t, c]), **extra}
    )


# --- Tests against statsmodels and scipy ---------------------------------------------------


def test_binary_metric_is_the_pooled_two_proportion_z_test():
    rng = np.random.default_rng(1)
    for _ in range(1000):
        t, c = random_units(rng, rng.integers(2, 400), rng.integers(2, 400))
        if t.sum() + c.sum() in (0, len(t) + len(c)):
            continue
        r = row(evaluate_experiment(frame_of(t, c), "variant", ["y"], "c"), "t", "y")
        assert r["test"] == "two_proportion_z"
        _, p = proportions_ztest([t.sum(), c.sum()], [len(t), len(c)])
        low, high = confint_proportions_2indep(
            t.sum(), len(t), c.sum(), len(c), method="wald", compare="diff"
        )
        close([r["p_value"], r["ci_low"], r["ci_high"]], [p, low, high])
        close(r["abs_lift"], t.mean() - c.mean())
        # The relative lift's interval by the delta method, by hand.
        se_t, se_c = (math.sqrt(x.mean() * (1 - x.mean()) / len(x)) for x in (t, c))
        if c.mean() > 0:
            rel = t.mean() / c.mean() - 1
            se = math.sqrt(se_t**2 / c.mean() ** 2 + t.mean() ** 2 * se_c**2 / c.mean() ** 4)
            close([r["rel_lift"], r["rel_ci_low"], r["rel_ci_high"]],
                  [rel, rel - Z975 * se, rel + Z975 * se])  # fmt: skip


def test_continuous_metric_is_welch_t():
    rng = np.random.default_rng(2)
    for _ in range(1000):
        t, c = random_units(rng, rng.integers(2, 300), rng.integers(2, 300), "continuous")
        r = row(evaluate_experiment(frame_of(t, c), "variant", ["y"], "c"), "t", "y")
        assert r["test"] == "welch_t"
        ref = stats.ttest_ind(t, c, equal_var=False)
        ci = ref.confidence_interval(0.95)
        close([r["p_value"], r["ci_low"], r["ci_high"]], [ref.pvalue, ci.low, ci.high])
        close([r["value"], r["control_value"]], [t.mean(), c.mean()])


def every_metric_kind(variant, y, x, clicks, views, bought):
    """Reports of a mean (y), a 0/1 (bought) and a ratio (clicks / views) metric, and of y
    with CUPED on x, control "c"."""
    df = pd.DataFrame(
        {"variant": variant, "y": y, "x": x, "clicks": clicks, "views": views, "bought": bought}
    )
    metrics = {"y": "y", "bought": "bought", "ctr": ("clicks", "views")}
    report = evaluate_experiment(df, "variant", metrics, "c")
    return report, evaluate_experiment(df, "variant", ["y"], "c", covariates="x")


def test_many_pieces_with_missing_values_match_references():
    """Frames of several 8,192-row pieces, NaN and ±inf in every column, three variants
    from a pandas categorical with nulls: every metric kind against the references."""
    rng = np.random.default_rng(14)
    for _ in range(6):
        n = int(rng.integers(20_000, 60_000))
        codes = rng.integers(-1, 3, n)  # -1: a null variant, left out
        y = rng.normal(10, 3, n)
        x = 0.5 * y + rng.normal(0, 1, n)
        clicks = rng.poisson(2, n).astype(float)
        views = clicks + rng.integers(1, 5, n)
        bought = (rng.random(n) < 0.1).astype(float)
        for column in (y, x, clicks, views, bought):
            hit = rng.random(n) < 0.01
            column[hit] = rng.choice([np.nan, np.inf, -np.inf], hit.sum())
        variant = pd.Categorical.from_codes(codes, ["c", "t", "u"])
        report, cuped = every_metric_kind(variant, y, x, clicks, views, bought)
        ok = np.isfinite
        in_cuped = (codes >= 0) & ok(y) & ok(x)
        theta = np.cov(y[in_cuped], x[in_cuped])[0, 1] / np.var(x[in_cuped], ddof=1)
        with np.errstate(invalid="ignore"):  # inf - inf where a unit is left out anyway
            adjusted = y - theta * (x - x[in_cuped].mean())
        for v, name in ((1, "t"), (2, "u")):
            t, c = (codes == v) & ok(y), (codes == 0) & ok(y)
            r = row(report, name, "y")
            ref = stats.ttest_ind(y[t], y[c], equal_var=False)
            close([r["n"], r["value"], r["control_value"]], [t.sum(), y[t].mean(), y[c].mean()])
            close(r["p_value"], ref.pvalue)
            t, c = (codes == v) & ok(bought), (codes == 0) & ok(bought)
            r = row(report, name, "bought")
            assert r["test"] == "two_proportion_z"
            close([r["n"], r["value"], r["control_value"]], [t.sum(), bought[t].mean(),
                                                             bought[c].mean()])  # fmt: skip
            both = ok(clicks) & ok(views)
            t, c = (codes == v) & both, (codes == 0) & both
            r = row(report, name, "ctr")
            ratios = [clicks[t].sum() / views[t].sum(), clicks[c].sum() / views[c].sum()]
            close([r["n"], r["value"], r["control_value"]], [t.sum(), *ratios])
            t, c = (codes == v) & in_cuped, (codes == 0) & in_cuped
            r = row(cuped, name, "y")
            ref = stats.ttest_ind(adjusted[t], adjusted[c], equal_var=False)
            close([r["value"], r["p_value"]], [adjusted[t].mean(), ref.pvalue])


def test_many_clean_pieces_match_references_in_any_row_order():
    """Frames of several 8,192-row pieces without missing values: up to four cells are
    summed under masks with running-mean shifts, five or more through the sort. Rows in
    random order, sorted by variant (a cell first seen late), sorted by value (a shift
    far from the piece's mean), values around 1e6 (raw sums of squares would cancel), and a
    0/1 column that gets a 2 in one variant late (no longer binary there)."""
    rng = np.random.default_rng(15)
    for n_variants in (2, 3, 4, 5):
        for layout in ("random", "by_variant", "by_value", "offset"):
            n = int(rng.integers(30_000, 70_000))
            codes = rng.integers(0, n_variants, n)
            y = rng.lognormal(1, 1, n) * (1 + 0.1 * codes)
            if layout == "offset":
                y = 1e6 + rng.normal(0, 1, n) + 0.5 * codes
            x = 0.5 * y + rng.normal(0, 1, n)
            views = rng.integers(1, 9, n).astype(float)
            clicks = rng.binomial(views.astype(int), 0.3).astype(float)
            bought = (rng.random(n) < 0.2).astype(float)
            order = {
                "by_variant": np.argsort(codes, kind="stable"),
                "by_value": np.argsort(y, kind="stable"),
            }.get(layout, np.arange(n))
            codes, y, x, views, clicks = (a[order] for a in (codes, y, x, views, clicks))
            bought[np.flatnonzero(codes == 1)[-1]] = 2.0
            names = ["c", "t", "u", "v", "w"][:n_variants]
            variant = np.array(names)[codes]
            report, cuped = every_metric_kind(variant, y, x, clicks, views, bought)
            theta = np.cov(y, x)[0, 1] / np.var(x, ddof=1)
            adjusted = y - theta * (x - x.mean())
            c = codes == 0
            for v, name in list(enumerate(names))[1:]:
                t = codes == v
                r = row(report, name, "y")
                close([r["n"], r["value"], r["control_value"]], [t.sum(), y[t].mean(), y[c].mean()])
                ref = stats.ttest_ind(y[t], y[c], equal_var=False)
                close(r["p_value"], ref.pvalue)
                # The interval's width depends on the variances only (not on the means,
                # whose rounding around 1e6 would dominate): it shows their precision.
                ci = ref.confidence_interval(0.95)
                close(r["ci_high"] - r["ci_low"], ci.high - ci.low)
                r = row(report, name, "bought")
                assert r["test"] == ("welch_t" if v == 1 else "two_proportion_z")
                close([r["value"], r["control_value"]], [bought[t].mean(), bought[c].mean()])
                if v == 1:  # Welch's t; the still-binary control's variance is p (1 − p)
                    p_c = bought[c].mean()
                    ref = stats.ttest_ind_from_stats(
                        bought[t].mean(), bought[t].std(ddof=1), t.sum(),
                        p_c, np.sqrt(p_c * (1 - p_c)), c.sum(), equal_var=False,
                    )  # fmt: skip
                    close(r["p_value"], ref.pvalue)
                r = row(report, name, "ctr")
                ref, _ = delta_ratio(clicks[t], views[t])
                close([r["value"], r["control_value"]],
                      [ref, clicks[c].sum() / views[c].sum()])  # fmt: skip
                r = row(cuped, name, "y")
                ref = stats.ttest_ind(adjusted[t], adjusted[c], equal_var=False)
                close([r["value"], r["p_value"]], [adjusted[t].mean(), ref.pvalue])


def test_segments_of_many_pieces_match_references():
    """2 variants × 2 segments (4 cells, masked sums) and × 3 segments (6 cells, sorted):
    each segment's report against scipy."""
    rng = np.random.default_rng(17)
    for n_segments in (2, 3):
        n = 50_000
        codes, days = rng.integers(0, 2, n), rng.integers(0, n_segments, n)
        y = rng.gamma(2.0, 3.0, n) + days
        df = pd.DataFrame({"variant": np.array(["c", "t"])[codes], "day": days, "y": y})
        report = aggregate(df, "variant", ["y"], segment="day").evaluate(
            "c", by_segment=True, segment_name="day"
        )
        frame = report.to_dataframe()
        for day in range(n_segments):
            r = frame[frame["day"] == str(day)].iloc[0]
            t, c = (codes == 1) & (days == day), (codes == 0) & (days == day)
            close([r["n"], r["value"], r["control_value"]], [t.sum(), y[t].mean(), y[c].mean()])
            close(r["p_value"], stats.ttest_ind(y[t], y[c], equal_var=False).pvalue)


def test_non_finite_values_of_rows_without_a_variant_are_ignored():
    """A row whose variant is null is left out, whatever its metric holds."""
    rng = np.random.default_rng(16)
    n = 20_000
    codes = rng.integers(-1, 2, n)
    y = rng.normal(5, 2, n)
    y[codes < 0] = np.where(rng.random((codes < 0).sum()) < 0.5, np.nan, np.inf)
    df = pd.DataFrame({"variant": pd.Categorical.from_codes(codes, ["c", "t"]), "y": y})
    r = row(evaluate_experiment(df, "variant", ["y"], "c"), "t", "y")
    t, c = codes == 1, codes == 0
    close([r["n"], r["value"]], [t.sum(), y[t].mean()])
    close(r["p_value"], stats.ttest_ind(y[t], y[c], equal_var=False).pvalue)


def test_alpha_sets_the_interval_level():
    rng = np.random.default_rng(3)
    t, c = random_units(rng, 200, 150, "continuous")
    r = row(evaluate_experiment(frame_of(t, c), "variant", ["y"], "c", alpha=0.1), "t", "y")
    ci = stats.ttest_ind(t, c, equal_var=False).confidence_interval(0.9)
    close([r["ci_low"], r["ci_high"]], [ci.low, ci.high])


def delta_ratio(num, den):
    """Ratio Σnum/Σden and the delta-method variance of it, written out independently."""
    n = len(num)
    mx, my = num.mean(), den.mean()
    cov = np.cov(num, den, ddof=1)
    var = (cov[0, 0] / my**2 - 2 * mx * cov[0, 1] / my**3 + mx**2 * cov[1, 1] / my**4) / n
    return mx / my, var


def test_ratio_metric_uses_the_delta_method():
    rng = np.random.default_rng(4)
    for _ in range(500):
        n_t, n_c = rng.integers(3, 300, size=2)
        imp = rng.integers(1, 30, n_t + n_c).astype(float)
        clicks = rng.binomial(imp.astype(int), rng.uniform(0.01, 0.3)).astype(float)
        df = pd.DataFrame(
            {"variant": ["t"] * n_t + ["c"] * n_c, "clicks": clicks, "impressions": imp}
        )
        report = evaluate_experiment(df, "variant", {"ctr": ("clicks", "impressions")}, "c")
        r = row(report, "t", "ctr")
        assert r["test"] == "delta_z"
        rt, vt = delta_ratio(clicks[:n_t], imp[:n_t])
        rc, vc = delta_ratio(clicks[n_t:], imp[n_t:])
        se = math.sqrt(vt + vc)
        close([r["value"], r["control_value"]], [rt, rc])
        if se > 0:
            close(r["p_value"], 2 * stats.norm.sf(abs(rt - rc) / se))
            close([r["ci_low"], r["ci_high"]], [rt - rc - Z975 * se, rt - rc + Z975 * se])


def test_cuped_matches_welch_on_adjusted_values():
    rng = np.random.default_rng(5)
    for _ in range(300):
        n = rng.integers(10, 400)
        x = rng.lognormal(3, 1, n)
        variant = np.where(rng.random(n) < 0.5, "t", "c")
        y = 0.8 * x + rng.normal(0, 5, n) + np.where(variant == "t", 2.0, 0.0)
        if (variant == "t").sum() < 2 or (variant == "c").sum() < 2:
            continue
        df = pd.DataFrame({"variant": variant, "y": y, "x": x})
        r = row(evaluate_experiment(df, "variant", ["y"], "c", covariates="x"), "t", "y")
        theta = np.cov(y, x, ddof=1)[0, 1] / np.var(x, ddof=1)
        adjusted = y - theta * (x - x.mean())
        ref = stats.ttest_ind(adjusted[variant == "t"], adjusted[variant == "c"], equal_var=False)
        ci = ref.confidence_interval(0.95)
        assert r["test"] == "welch_t_cuped"
        close([r["p_value"], r["ci_low"], r["ci_high"]], [ref.pvalue, ci.low, ci.high])
        close(r["value"], adjusted[variant == "t"].mean())
        raw = stats.ttest_ind(y[variant == "t"], y[variant == "c"], equal_var=False)
        se_raw = raw.confidence_interval(0.95).high - raw.confidence_interval(0.95).low
        se_adj = ci.high - ci.low
        assert r["variance_reduction"] > 0.3  # x explains most of y
        assert se_adj < se_raw


def test_corrections_match_statsmodels():
    rng = np.random.default_rng(6)
    for _ in range(40):  # multipletests takes ~50 ms a call here
        p = rng.random(rng.integers(1, 30)) ** 3
        for ours, theirs in (("holm", "holm"), ("bh", "fdr_bh")):
            close(abtest.adjust_p_values(p, ours), multipletests(p, method=theirs)[1], 1e-12)


def test_report_corrects_across_metrics_and_variants():
    rng = np.random.default_rng(7)
    n = 3000
    df = pd.DataFrame(
        {
            "variant": rng.choice(["control", "a", "b"], n),
            "bought": (rng.random(n) < 0.1).astype(int),
            "spend": rng.lognormal(3, 1, n),
        }
    )
    report = evaluate_experiment(df, "variant", ["bought", "spend"], "control", correction="holm")
    out = report.to_dataframe()
    assert len(out) == 4
    close(out["p_value_adjusted"], multipletests(out["p_value"], method="holm")[1], 1e-12)


def test_sample_ratio_check_matches_scipy():
    rng = np.random.default_rng(8)
    for _ in range(300):
        k = rng.integers(2, 6)
        counts = rng.integers(1, 10**6, k)
        weights = rng.random(k) + 0.1
        ours = abtest.sample_ratio_check(counts.tolist(), weights.tolist())
        ref = stats.chisquare(counts, counts.sum() * weights / weights.sum())
        close([ours["statistic"], ours["p_value"]], [ref.statistic, ref.pvalue], 1e-8)


def test_report_flags_a_sample_ratio_mismatch():
    df = pd.DataFrame({"variant": ["c"] * 5000 + ["t"] * 5400, "y": np.ones(10400)})
    report = evaluate_experiment(df, "variant", ["y"], "c")
    assert report.srm_p_value < 0.001
    assert "mismatch" in report.to_markdown()
    planned = evaluate_experiment(df, "variant", ["y"], "c", expected_weights={"c": 5, "t": 5.4})
    assert planned.srm_p_value > 0.5


def test_power_and_sample_size_match_statsmodels():
    solver = NormalIndPower()
    rng = np.random.default_rng(9)
    for _ in range(200):
        baseline = rng.uniform(0.01, 0.5)
        mde = rng.uniform(0.01, 0.5)
        alpha = rng.choice([0.01, 0.05, 0.1])
        power = rng.uniform(0.5, 0.95)
        ratio = rng.choice([0.5, 1.0, 2.0])
        effect = baseline * mde / math.sqrt(baseline * (1 - baseline))
        n = solver.solve_power(effect_size=effect, alpha=alpha, power=power, ratio=ratio)
        ours = abtest.sample_size(baseline, mde, alpha=alpha, power=power, ratio=ratio)
        assert ours == math.ceil(n - 1e-6) or abs(ours - n) < 1.0
        close(abtest.power(baseline, mde, n, alpha=alpha, ratio=ratio),
              solver.power(effect, n, alpha, ratio), 1e-10)  # fmt: skip
        d = solver.solve_power(nobs1=n, alpha=alpha, power=power, ratio=ratio)
        mde_ours = abtest.minimum_detectable_effect(
            baseline, n, alpha=alpha, power=power, ratio=ratio
        )
        # statsmodels stops its root search early; ours solves to rounding, so check the
        # power at our MDE exactly and statsmodels' answer loosely.
        close(abtest.power(baseline, mde_ours, n, alpha=alpha, ratio=ratio), power, 1e-10)
        close(mde_ours, d * math.sqrt(baseline * (1 - baseline)) / baseline, 1e-4)


def test_seed_design_and_duration():
    # The seed's design: 80% power, 1% relative lift, alpha 0.05, 5% conversion.
    n = abtest.sample_size(0.05, 0.01)
    assert n == 2982567
    assert abtest.duration(0.05, daily_units=100_000, mde=0.01, n_variants=3) == math.ceil(
        3 * n / 100_000
    )
    assert abtest.sample_size(100.0, 0.01, sd=50.0) == math.ceil(
        NormalIndPower().solve_power(effect_size=1 / 50, alpha=0.05, power=0.8) - 1e-9
    )
    with pytest.raises(ValueError, match="sd"):
        abtest.sample_size(100.0, 0.01)


# --- Summary frame (the seed's evaluate_uplift) -------------------------------------------


def test_summary_frame_against_references(kind):
    rng = np.random.default_rng(10)
    for _ in range(50):
        imp = rng.integers(1000, 100000, 2)
        clicks = rng.binomial(imp, 0.05)
        conv = rng.binomial(clicks, 0.1)
        gmv_units = [rng.lognormal(0, 1, i) * (rng.random(i) < 0.01) for i in imp]
        summary = pd.DataFrame(
            {
                "variant": ["control", "treatment"],
                "impressions": imp,
                "clicks": clicks,
                "conversions": conv,
                "gmv": [g.sum() for g in gmv_units],
                "gmv_sq": [(g**2).sum() for g in gmv_units],
                "spend": [500.0, 520.0],
            }
        )
        report = evaluate_uplift(to_kind(summary, kind))
        ctr = row(report, "treatment", "ctr")
        close(ctr["p_value"], proportions_ztest(clicks[::-1], imp[::-1])[1])
        cr = row(report, "treatment", "cr")
        close(cr["p_value"], proportions_ztest(conv[::-1], clicks[::-1])[1])
        gmv = row(report, "treatment", "gmv_per_impression")
        ref = stats.ttest_ind(gmv_units[1], gmv_units[0], equal_var=False)
        close(gmv["p_value"], ref.pvalue, 1e-7)  # sums of squares lose a few digits
        roas = row(report, "treatment", "roas")
        close(roas["value"], summary["gmv"][1] / 520.0)
        assert math.isnan(roas["p_value"]) and "roas_sq" in roas["note"]


def test_summary_rows_of_a_variant_add_up():
    one = pd.DataFrame(
        {"variant": ["control", "t"], "impressions": [2000, 2000], "clicks": [100, 130],
         "conversions": [10, 9], "gmv": [50.0, 60.0], "spend": [10.0, 10.0]}
    )  # fmt: skip
    split = pd.concat([one, one]).assign(
        impressions=lambda d: d["impressions"] // 2, clicks=lambda d: d["clicks"] // 2,
        conversions=[5, 5, 5, 4], gmv=lambda d: d["gmv"] / 2, spend=lambda d: d["spend"] / 2,
    )  # fmt: skip
    split.loc[split.index[-1], "conversions"] = 4
    a, b = evaluate_uplift(one).to_dataframe(), evaluate_uplift(split).to_dataframe()
    close(a.loc[0, "p_value"], b.loc[0, "p_value"])


def test_summary_with_roas_sums_tests_roas():
    summary = pd.DataFrame(
        {"variant": ["control", "t"], "impressions": [1000, 1000], "clicks": [50, 60],
         "conversions": [5, 6], "gmv": [100.0, 120.0], "spend": [40.0, 40.0],
         "roas": [2500.0, 3000.0], "roas_sq": [9000.0, 12000.0]}
    )  # fmt: skip
    r = row(evaluate_uplift(summary), "t", "roas")
    ref = stats.ttest_ind_from_stats(
        3.0, math.sqrt((12000 - 3000**2 / 1000) / 999), 1000,
        2.5, math.sqrt((9000 - 2500**2 / 1000) / 999), 1000, equal_var=False,
    )  # fmt: skip
    close(r["p_value"], ref.pvalue)
    assert r["test"] == "welch_t"


# --- Mergeable aggregates --------------------------------------------------------------------


def test_partial_aggregates_merge_into_the_whole(kind):
    rng = np.random.default_rng(11)
    n = 20_000
    df = pd.DataFrame(
        {
            "variant": rng.choice(["control", "a", "b"], n),
            "bought": (rng.random(n) < 0.05).astype(int),
            "spend": rng.lognormal(3, 1, n),
            "clicks": rng.integers(0, 5, n).astype(float),
            "impressions": rng.integers(5, 20, n).astype(float),
            "pre": rng.lognormal(3, 1, n),
        }
    )
    metrics = {"bought": "bought", "spend": "spend", "ctr": ("clicks", "impressions")}
    whole = evaluate_experiment(df, "variant", metrics, "control", covariates={"spend": "pre"})
    parts = [
        aggregate(to_kind(df.iloc[i::3].reset_index(drop=True), kind), "variant", metrics,
                  covariates={"spend": "pre"})
        for i in range(3)
    ]  # fmt: skip
    merged = parts[0] + parts[1] + parts[2]
    restored = ExperimentAggregates.from_json(merged.to_json())
    for aggregates in (merged, restored):
        # Variants come in first-appearance order, which differs between the parts.
        got = aggregates.evaluate("control").to_dataframe().sort_values(["variant", "metric"])
        expected = whole.to_dataframe().sort_values(["variant", "metric"])
        for column in ("value", "control_value", "p_value", "ci_low", "rel_ci_high"):
            close(got[column], expected[column])
    evaluator = UpliftEvaluator("control", metrics=metrics, covariates={"spend": "pre"})
    for i in range(3):
        evaluator.update(df.iloc[i::3])
    close(
        evaluator.report().to_dataframe().sort_values(["variant", "metric"])["p_value"],
        whole.to_dataframe().sort_values(["variant", "metric"])["p_value"],
    )


def test_results_do_not_depend_on_thread_count():
    code = (
        "import numpy as np, pandas as pd\n"
        "from ecomkit.abtest import evaluate_experiment\n"
        "rng = np.random.default_rng(0); n = 300_000\n"
        "df = pd.DataFrame({'v': rng.choice(['c','t'], n), 'y': rng.lognormal(0, 2, n)})\n"
        "print(evaluate_experiment(df, 'v', ['y'], 'c').to_dataframe()['p_value'].iloc[0].hex())"
    )
    assert len(outputs_for_thread_counts(code)) == 1


# --- Hillstrom --------------------------------------------------------------------------------


@pytest.fixture
def hillstrom(shared_data):
    path = shared_data / "hillstrom" / "hillstrom.csv"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return pd.read_csv(path)


def test_hillstrom_three_arms(hillstrom):
    report = evaluate_experiment(
        hillstrom, "segment", ["visit", "conversion", "spend"], "No E-Mail", correction="holm"
    )
    df = report.to_dataframe()
    assert sorted(df["variant"].unique()) == ["Mens E-Mail", "Womens E-Mail"]
    control = hillstrom[hillstrom["segment"] == "No E-Mail"]
    p_values = []
    for variant in ("Womens E-Mail", "Mens E-Mail"):
        arm = hillstrom[hillstrom["segment"] == variant]
        for metric in ("visit", "conversion"):
            r = row(report, variant, metric)
            assert r["test"] == "two_proportion_z"
            _, p = proportions_ztest([arm[metric].sum(), control[metric].sum()],
                                     [len(arm), len(control)])  # fmt: skip
            close(r["p_value"], p)
            p_values.append(p)
        r = row(report, variant, "spend")
        ref = stats.ttest_ind(arm["spend"], control["spend"], equal_var=False)
        close(r["p_value"], ref.pvalue)
        p_values.append(ref.pvalue)
    # The e-mails raise visits (a well-known result of this data set).
    assert (df[df["metric"] == "visit"]["p_value"] < 1e-10).all()
    assert report.srm_p_value > 0.001  # the arms are balanced
    by_ref = multipletests(p_values, method="holm")[1]
    ours = [row(report, v, m)["p_value_adjusted"] for v in ("Womens E-Mail", "Mens E-Mail")
            for m in ("visit", "conversion", "spend")]  # fmt: skip
    close(ours, by_ref)


def test_hillstrom_cuped_with_history(hillstrom):
    report = evaluate_experiment(
        hillstrom, "segment", ["spend", "visit"], "No E-Mail", covariates="history"
    )
    x = hillstrom["history"].to_numpy()
    for metric in ("spend", "visit"):
        y = hillstrom[metric].to_numpy(dtype=float)
        theta = np.cov(y, x, ddof=1)[0, 1] / np.var(x, ddof=1)
        adjusted = y - theta * (x - x.mean())
        control = adjusted[hillstrom["segment"] == "No E-Mail"]
        for variant in ("Womens E-Mail", "Mens E-Mail"):
            ref = stats.ttest_ind(adjusted[hillstrom["segment"] == variant], control,
                                  equal_var=False)  # fmt: skip
            r = row(report, variant, metric)
            close(r["p_value"], ref.pvalue)
            assert r["variance_reduction"] > 0


# --- Edge cases ---------------------------------------------------------------------------------


def test_zero_events_zero_clicks_and_empty_variant():
    df = pd.DataFrame({"variant": ["c", "t"] * 10, "y": np.zeros(20), "z": [np.nan, 1.0] * 10})
    report = evaluate_experiment(df, "variant", ["y", "z"], "c")
    y, z = row(report, "t", "y"), row(report, "t", "z")
    assert math.isnan(y["p_value"]) and "no events" in y["note"]
    assert math.isnan(z["control_value"]) and "no units" in z["note"]
    summary = pd.DataFrame(
        {"variant": ["control", "t"], "impressions": [100, 100], "clicks": [0, 0],
         "conversions": [0, 0], "gmv": [0.0, 0.0], "spend": [-5.0, 10.0]}
    )  # fmt: skip
    out = evaluate_uplift(summary).to_dataframe()
    assert out["note"].str.len().gt(0).all()
    assert np.isfinite(out["value"][out["metric"] == "roas"]).all()  # negative spend is data
    assert not np.isinf(out.select_dtypes(float).to_numpy()).any()


def test_nan_and_null_variants_are_left_out():
    df = pd.DataFrame(
        {"variant": ["c", "t", None, "c", "t", "t"], "y": [1.0, 2.0, 100.0, np.nan, 3.0, 4.0]}
    )
    r = row(evaluate_experiment(df, "variant", ["y"], "c"), "t", "y")
    assert (r["n"], r["control_n"], r["value"]) == (3, 1, 3.0)


def test_bad_input_gives_named_errors():
    df = pd.DataFrame({"variant": ["c", "t"], "y": [1.0, 2.0], "s": ["a", "b"]})
    with pytest.raises(ValueError, match="control_variant: 'ctrl' is not among"):
        evaluate_experiment(df, "variant", ["y"], "ctrl")
    with pytest.raises(ValueError, match="metrics: column 'nope' not found"):
        evaluate_experiment(df, "variant", ["nope"], "c")
    with pytest.raises(ValueError, match="variant: column 'arm' not found"):
        evaluate_experiment(df, "arm", ["y"], "c")
    with pytest.raises(TypeError, match="metrics"):
        evaluate_experiment(df, "variant", ["s"], "c")
    with pytest.raises(ValueError, match="alpha"):
        evaluate_experiment(df, "variant", ["y"], "c", alpha=1.5)
    with pytest.raises(ValueError, match="correction"):
        evaluate_experiment(df, "variant", ["y"], "c", correction="bonferroni")
    with pytest.raises(ValueError, match="frame: column 'spend' not found"):
        evaluate_uplift(pd.DataFrame({"variant": ["control"], "impressions": [1], "clicks": [1],
                                      "conversions": [1], "gmv": [1.0]}))  # fmt: skip
    bad = pd.DataFrame({"variant": ["control", "t"], "impressions": [10, 10], "clicks": [20, 1],
                        "conversions": [1, 1], "gmv": [1.0, 1.0], "spend": [1.0, 1.0]})  # fmt: skip
    with pytest.raises(ValueError, match="conversions <= clicks <= impressions"):
        evaluate_uplift(bad)
    with pytest.raises(ValueError, match="frame: is empty"):
        evaluate_experiment(df.iloc[:0], "variant", ["y"], "c")


# --- Report formats and daily effects ----------------------------------------------------------


def test_report_formats():
    rng = np.random.default_rng(12)
    df = pd.DataFrame({"v": rng.choice(["c", "t"], 500), "y": rng.normal(size=500)})
    report = evaluate_experiment(df, "v", ["y"], "c")
    frame = report.to_dataframe()
    assert list(frame.columns)[:16] == [
        "variant", "metric", "n", "control_n", "value", "control_value", "abs_lift",
        "rel_lift", "p_value", "p_value_adjusted", "ci_low", "ci_high", "rel_ci_low",
        "rel_ci_high", "test", "variance_reduction",
    ]  # fmt: skip
    assert report.to_markdown().count("\n| t | y |") == 1
    assert "<table>" in report._repr_html_()
    data = json.loads(report.to_json())
    assert data["rows"][0]["variant"] == "t" and data["control"] == "c"
    assert report.to_polars().shape == frame.shape
    assert isinstance(report.to_arrow(), pa.Table)


def test_daily_effects_in_a_time_zone():
    # 20:00 in Los Angeles on the 1st is the 2nd in UTC.
    times = pd.to_datetime(["2024-03-01 20:00", "2024-03-01 21:00", "2024-03-02 10:00",
                            "2024-03-02 11:00"]).tz_localize("America/Los_Angeles")  # fmt: skip
    df = pd.DataFrame({"v": ["c", "t"] * 2, "y": [1.0, 2.0, 3.0, 5.0], "time": times})
    local = abtest.daily_effects(df, "v", ["y"], "c", "time", time_zone="America/Los_Angeles")
    assert local["day"].tolist() == ["2024-03-01", "2024-03-02"]
    assert local["abs_lift"].tolist() == [1.0, 2.0]
    utc = abtest.daily_effects(df, "v", ["y"], "c", "time")
    assert utc["day"].tolist() == ["2024-03-02"]  # all four events fall on the 2nd in UTC
    assert utc["abs_lift"].tolist() == [1.5]


def test_welch_with_huge_degrees_of_freedom_matches_scipy():
    # Millions of units give Welch df in the millions, where the t distribution must come
    # from an expansion (statrs' own quantile does not converge there).
    rng = np.random.default_rng(13)
    for n in (30_000, 3_000_000):
        t, c = rng.normal(0.01, 1, n), rng.normal(0, 1, n)
        r = row(evaluate_experiment(frame_of(t, c), "variant", ["y"], "c"), "t", "y")
        ref = stats.ttest_ind(t, c, equal_var=False)
        ci = ref.confidence_interval(0.95)
        close([r["p_value"], r["ci_low"], r["ci_high"]], [ref.pvalue, ci.low, ci.high], 1e-10)


def test_old_argument_names_still_work_for_a_release_with_a_warning():
    df = pd.DataFrame({"arm": ["c", "t"] * 50, "y": np.arange(100.0) % 7,
                       "day": ["d1", "d2"] * 50})  # fmt: skip
    new = evaluate_experiment(df, "arm", ["y"], "c").to_dataframe()
    with pytest.warns(DeprecationWarning, match="'variant_col' is deprecated; use 'variant'"):
        old = evaluate_experiment(df, variant_col="arm", metrics=["y"], control_variant="c")
    pd.testing.assert_frame_equal(old.to_dataframe(), new)
    with pytest.warns(DeprecationWarning, match="'segment_col' is deprecated"):
        abtest.aggregate(df, "arm", ["y"], segment_col="day")
    with pytest.raises(TypeError, match="variant: given twice"):
        evaluate_experiment(df, "arm", ["y"], "c", variant_col="arm")
