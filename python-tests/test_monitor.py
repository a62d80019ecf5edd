"""Drift statistics against scipy and against Evidently's stattests (its binning and
zero-share rules written out with numpy below; Evidently itself where it is installed), on
many random samples: numeric, categorical, binary, with NaN, ties, constant columns and tiny
samples. Tolerance: 1e-12 relative for statistics, 1e-9 absolute for p-values."""

from __future__ import annotations

import math
import os

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats
from scipy.spatial import distance

from ecomkit import errors, monitor

# Per kind of sample and statistic: 10,000 by default; make test-evidently (whose point is
# Evidently itself, with the same code) runs fewer.
CASES = int(os.environ.get("ECOMKIT_MONITOR_CASES", "10000"))


# ---- references: scipy, and Evidently's get_binned_data written out ----------------------


def _clean(values):
    values = np.asarray(values, dtype=object)
    keep = [v is not None and not (isinstance(v, float) and math.isnan(v)) for v in values]
    return values[np.asarray(keep, dtype=bool)]


def evidently_shares(reference, current, numeric, fill_zeroes=True):
    if numeric and len(np.unique(reference)) > 20:
        edges = np.histogram_bin_edges(np.concatenate([reference, current]), bins="sturges")
        r = np.histogram(reference, edges)[0] / len(reference)
        c = np.histogram(current, edges)[0] / len(current)
    else:
        keys = sorted(set(reference.tolist()) | set(current.tolist()))
        r = np.array([np.sum(reference == k) for k in keys]) / len(reference)
        c = np.array([np.sum(current == k) for k in keys]) / len(current)
    if fill_zeroes:
        for shares in (r, c):
            smallest = shares[shares != 0].min()
            shares[shares == 0] = smallest / 10**6 if smallest <= 0.0001 else 0.0001
    return r, c


def reference_psi_evidently(reference, current, numeric):
    r, c = evidently_shares(reference, current, numeric)
    return float(np.sum((r - c) * np.log(r / c)))


def reference_psi_quantile(reference, current, bins):
    edges = np.unique(np.quantile(reference, np.arange(1, bins) / bins))
    counts = [np.bincount(np.searchsorted(edges, x, side="right"), minlength=len(edges) + 1)
              for x in (reference, current)]  # fmt: skip
    r, c = (np.maximum(k / k.sum(), 1e-4) for k in counts)
    return float(np.sum((r - c) * np.log(r / c)))


def reference_chi2(reference, current):
    keys = sorted(set(reference.tolist()) | set(current.tolist()))
    scale = len(current) / len(reference)
    expected = [np.sum(reference == k) * scale for k in keys]
    observed = [np.sum(current == k) for k in keys]
    with np.errstate(divide="ignore", invalid="ignore"):
        return stats.chisquare(observed, expected)


def reference_z(reference, current):
    keys = sorted(set(reference.tolist()) | set(current.tolist()))
    if len(keys) == 1:
        return 0.0, 1.0
    r, c = (np.where(x == keys[0], 0, 1) for x in (reference, current))
    n1, n2 = len(r), len(c)
    p1, p2 = r.sum() / n1, c.sum() / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return z, 2 * (1 - stats.norm.cdf(abs(z)))


def reference_wasserstein(reference, current):
    return stats.wasserstein_distance(reference, current) / max(np.std(reference), 0.001)


# ---- random samples -----------------------------------------------------------------------


def numeric_pair(rng):
    n_ref, n_cur = rng.integers(1, 400, size=2)
    shape = rng.integers(0, 4)
    if shape == 0:  # continuous, shifted
        ref, cur = rng.normal(size=n_ref), rng.normal(rng.normal(0, 0.5), 1, size=n_cur)
    elif shape == 1:  # ties: few distinct values
        ref, cur = (rng.integers(0, rng.integers(1, 30), size=n).astype(float)
                    for n in (n_ref, n_cur))  # fmt: skip
    elif shape == 2:  # constant reference
        ref, cur = np.full(n_ref, 3.0), rng.normal(3, rng.random(), size=n_cur)
    else:  # heavy tail
        ref, cur = rng.exponential(size=n_ref) ** 3, rng.exponential(1.2, size=n_cur) ** 3
    return ref, cur


def categorical_pair(rng):
    n_ref, n_cur = rng.integers(1, 400, size=2)
    k = rng.integers(1, 12)
    names = np.array([f"c{i}" for i in range(k)], dtype=object)
    p = rng.dirichlet(np.ones(k))
    q = rng.dirichlet(np.ones(k)) if rng.random() < 0.5 else p
    return rng.choice(names, n_ref, p=p), rng.choice(names, n_cur, p=q)


def with_missing(rng, values, numeric):
    values = values.astype(object if not numeric else float)
    holes = rng.random(len(values)) < 0.1
    holes[0] = False  # an all-missing side is an error, tested on its own
    values[holes] = np.nan if numeric else None
    return values


def assert_close(actual, expected, *, rel=1e-12, abs_=1e-12):
    if math.isinf(expected) or math.isnan(expected):
        assert actual == expected or (math.isnan(actual) and math.isnan(expected))
    else:
        assert actual == pytest.approx(expected, rel=rel, abs=abs_)


# ---- the statistics -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["numeric", "categorical"])
def test_psi_evidently_binning(kind):
    rng = np.random.default_rng(1)
    for _ in range(CASES):
        ref, cur = numeric_pair(rng) if kind == "numeric" else categorical_pair(rng)
        ref_in, cur_in = with_missing(rng, ref, kind == "numeric"), cur
        result = monitor.psi(ref_in, cur_in, binning="evidently")
        clean_ref = _clean(ref_in).astype(float if kind == "numeric" else object)
        expected = reference_psi_evidently(clean_ref, cur, kind == "numeric")
        assert_close(result.statistic, expected, abs_=1e-12)
        assert result.drifted == (expected >= 0.1)
        assert math.isnan(result.pvalue)
        assert result.n_missing_reference == len(ref_in) - len(clean_ref)
        assert result.n_reference == len(clean_ref) and result.n_current == len(cur)


def test_psi_quantile_binning():
    rng = np.random.default_rng(2)
    for _ in range(CASES):
        ref, cur = numeric_pair(rng)
        bins = int(rng.integers(2, 20))
        result = monitor.psi(ref, cur, bins=bins)
        assert_close(result.statistic, reference_psi_quantile(ref, cur, bins))


@pytest.mark.parametrize("kind", ["numeric", "categorical"])
def test_jensen_shannon_matches_scipy(kind):
    rng = np.random.default_rng(3)
    for _ in range(CASES):
        ref, cur = numeric_pair(rng) if kind == "numeric" else categorical_pair(rng)
        result = monitor.jensen_shannon(ref, cur)
        r, c = evidently_shares(ref, cur, kind == "numeric", fill_zeroes=False)
        expected = distance.jensenshannon(r, c)
        assert_close(result.statistic, expected, abs_=1e-12)
        assert result.drifted == (expected >= 0.1)


@pytest.mark.parametrize("kind", ["numeric", "categorical"])
def test_chi2_matches_scipy_chisquare(kind):
    rng = np.random.default_rng(4)
    for _ in range(CASES):
        ref, cur = numeric_pair(rng) if kind == "numeric" else categorical_pair(rng)
        if kind == "numeric":
            ref, cur = np.round(ref), np.round(cur)
        result = monitor.chi2_test(ref, cur)
        expected = reference_chi2(ref, cur)
        assert_close(result.statistic, float(expected.statistic), rel=1e-12)
        assert_close(result.pvalue, float(expected.pvalue), rel=0, abs_=1e-9)


def test_wasserstein_matches_scipy():
    rng = np.random.default_rng(5)
    for _ in range(CASES):
        ref, cur = numeric_pair(rng)
        result = monitor.wasserstein(ref, cur)
        assert_close(result.statistic, reference_wasserstein(ref, cur), rel=1e-12, abs_=1e-12)


@pytest.mark.parametrize("kind", ["numeric", "equal sizes", "asymptotic"])
def test_ks_matches_scipy_ks_2samp(kind):
    rng = np.random.default_rng(8)
    for _ in range(CASES if kind != "asymptotic" else CASES // 20):
        ref, cur = numeric_pair(rng)
        if kind == "equal sizes":
            cur = np.resize(cur, len(ref))
        elif kind == "asymptotic":  # scipy's auto switches past 10,000 values
            cur = rng.normal(rng.choice([0.0, 0.01, 0.1]), size=rng.integers(10_001, 40_000))
        result = monitor.ks_test(ref, cur)
        expected = stats.ks_2samp(ref, cur)
        assert_close(result.statistic, float(expected.statistic), rel=1e-12)
        assert_close(result.pvalue, float(expected.pvalue), rel=0, abs_=1e-9)
        assert result.drifted == (expected.pvalue <= 0.05)


def test_ks_large_samples_match_scipy():
    rng = np.random.default_rng(9)
    for n_ref, n_cur, shift in [(10_000, 10_000, 0.01), (250_000, 300_000, 0.004),
                                (2_500_000, 2_000_000, 0.001), (3, 50_000, 2.0)]:  # fmt: skip
        ref, cur = rng.normal(size=n_ref), rng.normal(shift, size=n_cur)
        result, expected = monitor.ks_test(ref, cur), stats.ks_2samp(ref, cur)
        assert_close(result.statistic, float(expected.statistic), rel=1e-12)
        assert_close(result.pvalue, float(expected.pvalue), rel=0, abs_=1e-9)


def test_proportion_z_test_matches_evidently_formula():
    rng = np.random.default_rng(6)
    for _ in range(CASES):
        n_ref, n_cur = rng.integers(1, 400, size=2)
        values = [np.array(["no", "yes"], dtype=object), np.array([0, 1]), np.array([False, True])]
        names = values[rng.integers(0, 3)]
        ref = rng.choice(names, n_ref, p=[p := rng.random(), 1 - p])
        cur = rng.choice(names, n_cur, p=[q := rng.random(), 1 - q])
        result = monitor.proportion_z_test(ref, cur)
        z, p = reference_z(ref, cur)
        assert_close(result.statistic, z, rel=1e-12)
        assert_close(result.pvalue, p, rel=0, abs_=1e-9)


# ---- edge cases and bad input -------------------------------------------------------------


def test_identical_samples_do_not_drift():
    values = np.arange(100.0)
    for test in (monitor.psi, monitor.jensen_shannon, monitor.wasserstein, monitor.ks_test):
        result = test(values, values)
        assert result.statistic == pytest.approx(0.0, abs=1e-15) and not result.drifted
    result = monitor.proportion_z_test([1, 1, 1], [1, 1])
    assert (result.statistic, result.pvalue, result.drifted) == (0.0, 1.0, False)


def test_one_value_each_and_inputs_of_every_kind():
    assert monitor.wasserstein([1.0], [3.0]).statistic == pytest.approx(2.0 / 0.001)
    series = [pa.array(["a", "b", None]), pa.array(["a", "b", "b"]).dictionary_encode()]
    result = monitor.chi2_test(*series)
    assert result.n_missing_reference == 1 and result.n_reference == 2
    pd = pytest.importorskip("pandas")
    result = monitor.psi(pd.Series([1.0, np.nan, 2.0, 3.0]), pd.Series([1.0, 2.0]))
    assert result.n_missing_reference == 1
    pl = pytest.importorskip("polars")
    assert monitor.psi(pl.Series([1.0, 2.0, 3.0]), pl.Series([1.0, None])).n_missing_current == 1


def test_a_current_category_the_reference_never_saw_is_infinite_chi2():
    result = monitor.chi2_test(["a", "a", "b"], ["a", "c"])
    assert result.statistic == math.inf and result.pvalue == 0.0 and result.drifted


def test_bad_input_names_the_argument():
    with pytest.raises(errors.EmptyInputError, match="reference"):
        monitor.psi([], [1.0])
    with pytest.raises(errors.EmptyInputError, match="current"):
        monitor.psi([1.0], [np.nan])
    with pytest.raises(errors.InvalidValueError, match="bins"):
        monitor.psi([1.0], [1.0], bins=1)
    with pytest.raises(errors.InvalidValueError, match="binning"):
        monitor.psi([1.0], [1.0], binning="sturges")
    with pytest.raises(errors.InvalidValueError, match="threshold"):
        monitor.psi([1.0], [1.0], threshold=-1)
    with pytest.raises(errors.InvalidTypeError, match="current"):
        monitor.psi([1.0, 2.0], ["a", "b"])
    with pytest.raises(errors.InvalidValueError, match="method"):
        monitor.wasserstein(["a"], ["b"])
    with pytest.raises(errors.InvalidValueError, match="reference"):
        monitor.psi(np.zeros((2, 2)), [1.0])


def test_thresholds_and_repr():
    result = monitor.psi(np.arange(50.0), np.arange(50.0) + 5, threshold=10.0)
    assert result.threshold == 10.0 and not result.drifted
    assert repr(result).startswith("DriftResult(method='psi', statistic=")


# ---- Evidently itself, where installed ----------------------------------------------------


def test_against_evidently_where_installed():
    pytest.importorskip("evidently", reason="evidently is not installed (pip install evidently)")
    import pandas as pd
    from evidently.legacy.calculations.stattests import (
        chi_stat_test,
        jensenshannon_stat_test,
        ks_stat_test,
        psi_stat_test,
        wasserstein_stat_test,
        z_stat_test,
    )
    from evidently.legacy.core import ColumnType

    rng = np.random.default_rng(7)
    for _ in range(100):
        ref, cur = numeric_pair(rng)
        r, c = pd.Series(ref), pd.Series(cur)
        for ours, theirs in ((monitor.psi(ref, cur, binning="evidently"), psi_stat_test),
                             (monitor.jensen_shannon(ref, cur), jensenshannon_stat_test),
                             (monitor.wasserstein(ref, cur), wasserstein_stat_test)):  # fmt: skip
            expected = theirs.func(r, c, ColumnType.Numerical, 0.1)[0]
            assert_close(ours.statistic, float(expected), abs_=1e-12)
        expected, drifted = ks_stat_test.func(r, c, ColumnType.Numerical, 0.05)
        assert_close(monitor.ks_test(ref, cur).pvalue, float(expected), rel=0, abs_=1e-9)
        assert monitor.ks_test(ref, cur).drifted == drifted
        ref, cur = categorical_pair(rng)
        r, c = pd.Series(ref), pd.Series(cur)
        expected = chi_stat_test.func(r, c, ColumnType.Categorical, 0.05)[0]
        assert_close(monitor.chi2_test(ref, cur).pvalue, float(expected), rel=0, abs_=1e-9)
        binary = np.where(ref == ref[0], "x", "y"), np.where(cur == ref[0], "x", "y")
        expected = z_stat_test.func(pd.Series(binary[0]), pd.Series(binary[1]),
                                    ColumnType.Categorical, 0.05)[0]  # fmt: skip
        assert_close(monitor.proportion_z_test(*binary).pvalue, float(expected), rel=0,
                     abs_=1e-9)  # fmt: skip


# ---- drift() over frames ------------------------------------------------------------------


def random_frames(rng, n_reference, n_current):
    """Frames with every kind of column: floats (many or few values, NaN), integers (few and
    many values), strings, booleans and a constant column."""
    pd = pytest.importorskip("pandas")

    def frame(n, shift):
        floats = rng.normal(shift, 1.0, n)
        floats[rng.random(n) < 0.05] = np.nan
        return pd.DataFrame({
            "price": floats,
            "rounded": np.round(rng.normal(shift, 1.0, n)),
            "few": rng.choice([1.5, 2.5, 3.5], n),
            "clicks": rng.integers(0, 4, n) + (shift > 0),
            "views": rng.integers(0, 40, n),
            "event": rng.choice(["view", "cart", "buy"], n, p=[0.7, 0.2, 0.1]),
            "flag": rng.random(n) < (0.3 + 0.1 * shift),
            "sex": rng.choice(["f", "m"], n),
            "constant": np.ones(n),
        })  # fmt: skip

    return frame(n_reference, 0.0), frame(n_current, float(rng.choice([0.0, 0.3])))


def evidently_choice(reference, current):
    """Evidently's DataDriftPreset choice written out: integer columns with at most 10
    distinct current values are categorical; then by reference size and distinct values."""
    kind = "numeric" if reference.dtype.kind in "fiu" else "categorical"
    if reference.dtype.kind in "iu" and current.nunique() <= 10:
        kind = "categorical"
    distinct = np.unique(np.concatenate([reference.dropna().astype(str).to_numpy(),
                                         current.dropna().astype(str).to_numpy()])).size \
        if kind == "categorical" else np.unique(np.concatenate(
            [reference.dropna().to_numpy(), current.dropna().to_numpy()])).size  # fmt: skip
    if reference.notna().sum() <= 1000:
        if kind == "numeric" and distinct > 5:
            return kind, "ks"
        return kind, "chisquare" if distinct > 2 else "z"
    return kind, "wasserstein" if kind == "numeric" and distinct > 5 else "jensenshannon"


def test_drift_auto_picks_evidently_methods_and_equals_the_single_statistics():
    rng = np.random.default_rng(11)
    single = {"ks": monitor.ks_test, "chisquare": monitor.chi2_test,
              "z": monitor.proportion_z_test, "wasserstein": monitor.wasserstein,
              "jensenshannon": monitor.jensen_shannon}  # fmt: skip
    for n_reference, n_current in [(300, 200), (1000, 50), (1001, 700), (5000, 5000)]:
        reference, current = random_frames(rng, n_reference, n_current)
        report = monitor.drift(reference, current)
        rows = report.to_dataframe().set_index("column")
        assert list(rows.index) == list(reference.columns)
        for name in reference.columns:
            kind, method = evidently_choice(reference[name], current[name])
            row = rows.loc[name]
            assert (row["kind"], row["method"]) == (kind, method), (name, n_reference)
            categorical = kind == "categorical"
            args = {"categorical": True} if categorical and method == "jensenshannon" else {}
            expected = single[method](reference[name], current[name], **args)
            value = row["p_value"] if not math.isnan(expected.pvalue) else row["statistic"]
            assert_close(value, expected.pvalue if not math.isnan(expected.pvalue)
                         else expected.statistic)  # fmt: skip
            assert row["drifted"] == expected.drifted
            assert row["n_reference"] + row["n_missing_reference"] == n_reference
        drifted = rows["drifted"].sum() / len(rows)
        assert report.share_drifted == pytest.approx(drifted)
        assert report.dataset_drift == (drifted >= 0.5)


def test_drift_methods_thresholds_by_groups_and_kinds_of_frame():
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    rng = np.random.default_rng(3)
    reference, current = random_frames(rng, 2000, 1500)
    reference["shop"] = rng.choice(["a", "b", "c"], len(reference))
    current["shop"] = rng.choice(["a", "b", "d"], len(current))
    report = monitor.drift(reference, current, ["price", "event"], by="shop",
                           method={"price": "psi"}, threshold={"event": 0.01})  # fmt: skip
    rows = report.to_dataframe()
    assert list(rows.columns[:2]) == ["shop", "column"]
    groups = list(pd.unique(pd.concat([reference.shop, current.shop])))  # first seen
    assert list(rows["shop"]) == [g for g in groups for _ in range(2)]
    for shop in ["a", "b"]:
        r, c = reference[reference.shop == shop], current[current.shop == shop]
        got = rows[rows.shop == shop].set_index("column")
        assert_close(got.loc["price", "statistic"], monitor.psi(r.price, c.price).statistic)
        event = monitor.chi2_test(r.event, c.event, threshold=0.01)  # ~670 rows a group
        assert got.loc["event", "method"] == "chisquare"
        assert_close(got.loc["event", "p_value"], event.pvalue)
        assert got.loc["event", "threshold"] == 0.01
    missing = rows[rows.shop.isin(["c", "d"])]
    assert missing["method"].isna().all() and not missing["drifted"].any()
    assert set(missing["message"]) == {"no values in current", "no rows of this group in reference"}
    polars_rows = monitor.drift(pl.from_pandas(reference), pl.from_pandas(current)).to_dataframe()
    assert isinstance(polars_rows, pl.DataFrame)
    arrow_rows = monitor.drift(pa.Table.from_pandas(reference), pa.Table.from_pandas(current))
    assert isinstance(arrow_rows.to_dataframe(), pa.Table)
    assert arrow_rows.to_dict()["rows"] == monitor.drift(reference, current).to_dict()["rows"]
    assert isinstance(pd.DataFrame(report.to_dict()["rows"]), pd.DataFrame)


def test_drift_report_outputs_and_an_empty_column():
    pd = pytest.importorskip("pandas")
    reference = pd.DataFrame({"x": np.arange(100.0), "empty": [None] * 100})
    current = pd.DataFrame({"x": np.arange(100.0) + 60, "empty": [None] * 100})
    report = monitor.drift(reference, current)
    row = report.to_dataframe().set_index("column").loc["empty"]
    assert row["message"] == "no values in reference and current" and not row["drifted"]
    assert report.drifted_columns == ["x"] and report.dataset_drift
    assert report.share_drifted == 1.0  # the empty column is not counted
    assert "1 of 1 columns drifted" in report.to_markdown()
    assert "<table>" in report._repr_html_()
    assert '"dataset_drift": true' in report.to_json()


def test_drift_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(5)
    reference, current = random_frames(rng, 2000, 2000)
    current["price"] += 1.0
    current["event"] = "buy"
    report = monitor.drift(reference, current)
    report.plot(tmp_path / "drift.png")
    assert (tmp_path / "drift.png").stat().st_size > 1000
    assert pd is not None


def test_drift_bad_input_names_the_argument():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "s": ["a", "b", "c"]})
    with pytest.raises(errors.ColumnNotFoundError, match="reference: column 'nope'"):
        monitor.drift(frame, frame, ["nope"])
    with pytest.raises(errors.ColumnNotFoundError, match="current: column 's'"):
        monitor.drift(frame, frame[["x"]], ["x", "s"])
    with pytest.raises(errors.InvalidValueError, match="method: expected"):
        monitor.drift(frame, frame, method="nope")
    with pytest.raises(errors.InvalidValueError, match="column 's'.*ks"):
        monitor.drift(frame, frame, method={"s": "ks"})
    with pytest.raises(errors.InvalidTypeError, match=r"threshold\['x'\]"):
        monitor.drift(frame, frame, threshold={"x": "high"})
    with pytest.raises(errors.InvalidValueError, match="drift_share"):
        monitor.drift(frame, frame, drift_share=1.5)
    with pytest.raises(errors.EmptyInputError, match="reference"):
        monitor.drift(frame.iloc[:0], frame)
    with pytest.raises(errors.InvalidValueError, match="'x' is a `by` column"):
        monitor.drift(frame, frame, ["x"], by="x")
    with pytest.raises(errors.InvalidTypeError, match="reference"):
        monitor.drift([1, 2, 3], frame)


EVIDENTLY_METHODS = {"K-S": "ks", "chi-square": "chisquare", "Z-test": "z",
                     "Wasserstein": "wasserstein", "Jensen-Shannon": "jensenshannon"}  # fmt: skip


def test_drift_auto_against_evidently_data_drift_preset():
    pytest.importorskip("evidently", reason="evidently is not installed (pip install evidently)")
    rng = np.random.default_rng(17)
    for n_reference, n_current in [(400, 300), (1000, 1000), (3000, 2000)]:
        reference, current = random_frames(rng, n_reference, n_current)
        reference, current = reference.drop(columns="constant"), current.drop(columns="constant")
        assert_same_as_data_drift_preset(reference, current)


def assert_same_as_data_drift_preset(reference, current):
    """Our drift(method="auto") against Evidently's DataDriftPreset on the same frames."""
    from evidently.legacy.metric_preset import DataDriftPreset
    from evidently.legacy.report import Report

    evidently = Report(metrics=[DataDriftPreset()])
    evidently.run(reference_data=reference, current_data=current)
    result = next(m["result"] for m in evidently.as_dict()["metrics"]
                  if m["metric"] == "DataDriftTable")  # fmt: skip
    ours = monitor.drift(reference, current)
    rows = ours.to_dataframe().set_index("column")
    assert sorted(rows.index) == sorted(result["drift_by_columns"])
    for name, theirs in result["drift_by_columns"].items():
        row = rows.loc[name]
        assert row["method"] == EVIDENTLY_METHODS[theirs["stattest_name"].split(" ")[0]], name
        value = row["statistic"] if math.isnan(row["p_value"]) else row["p_value"]
        assert_close(value, float(theirs["drift_score"]), rel=1e-9, abs_=1e-9)
        assert bool(row["drifted"]) == bool(theirs["drift_detected"]), name
    assert ours.share_drifted == pytest.approx(result["share_of_drifted_columns"])
    assert ours.dataset_drift == result["dataset_drift"]


def test_drift_auto_against_evidently_on_hillstrom(shared_data):
    pytest.importorskip("evidently", reason="evidently is not installed (pip install evidently)")
    import pandas as pd

    users = pd.read_csv(shared_data / "hillstrom" / "hillstrom.csv")
    arms = {name: arm.drop(columns="segment").reset_index(drop=True)
            for name, arm in users.groupby("segment")}  # fmt: skip
    # Control against a mailed arm (visits and spend moved, though under the distances'
    # 0.1), whole and as small samples (KS, chi-squared and z tests instead).
    assert_same_as_data_drift_preset(arms["No E-Mail"], arms["Mens E-Mail"])
    assert_same_as_data_drift_preset(arms["No E-Mail"].head(800), arms["Womens E-Mail"].head(600))
    assert_same_as_data_drift_preset(arms["No E-Mail"].head(4000), arms["No E-Mail"].tail(4000))


def test_drift_auto_against_evidently_on_retailrocket(shared_data):
    pytest.importorskip("evidently", reason="evidently is not installed (pip install evidently)")
    import pandas as pd

    events = pd.read_csv(shared_data / "retailrocket" / "events.csv").sort_values("timestamp")
    times = pd.to_datetime(events.pop("timestamp"), unit="ms")
    events["hour"] = times.dt.hour
    events["bought"] = events.pop("transactionid").notna()
    halves = np.array_split(np.arange(len(events)), 2)  # earlier against later events
    first, second = (events.iloc[h].reset_index(drop=True) for h in halves)
    assert_same_as_data_drift_preset(first, second)
    assert_same_as_data_drift_preset(first.head(900), second.head(700))


def test_default_columns_leave_times_out_and_named_times_are_refused():
    import pandas as pd

    from ecomkit import errors

    times = pd.date_range("2024-03-30", periods=300, freq="h", tz="Europe/Berlin")
    frame = pd.DataFrame({"timestamp": times, "day": times.date, "price": np.arange(300.0),
                          "gap": times - times[0]})  # fmt: skip
    report = monitor.drift(frame, frame)
    assert report.to_arrow().column("column").to_pylist() == ["price"]
    with pytest.raises(errors.InvalidTypeError, match="timestamp"):
        monitor.drift(frame, frame, columns=["timestamp"])
