"""ecomkit.score against independent numpy / scipy / pandas references.

Tolerance: z-scores and scores agree to 1e-12 (absolute, and relative to their size): both
sides compute (x - median) / scale; the last bits can differ where scipy divides by 0.6745
and ecomkit multiplies by 1.4826, or where numpy sums the mean absolute deviation pairwise.
Ranks are compared exactly with pandas' rank(method="first") of ecomkit's own scores.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
import reference
from conftest import to_kind, to_pandas

from ecomkit.score import explosive_score, group_stats, robust_zscore

TOL = dict(rtol=1e-12, atol=1e-12, equal_nan=True)


def random_values(rng: np.random.Generator, n: int) -> np.ndarray:
    """Values with ties, NaN, ±inf, constant stretches and outliers, in random mixtures."""
    style = rng.integers(5)
    if style == 0:
        x = rng.normal(size=n)
    elif style == 1:
        x = rng.integers(0, 4, size=n).astype(float)  # heavy ties, MAD = 0 often
    elif style == 2:
        x = np.full(n, 7.0)
        x[rng.random(n) < 0.1] = 100.0  # MAD = 0 with a few outliers
    elif style == 3:
        x = rng.lognormal(3, 2, size=n)
    else:
        x = rng.standard_cauchy(size=n)
    missing = rng.random(n) < rng.choice([0.0, 0.1, 0.5])
    x[missing] = rng.choice([np.nan, np.inf, -np.inf], size=missing.sum(), p=[0.8, 0.1, 0.1])
    return x


def random_frame(rng: np.random.Generator) -> pd.DataFrame:
    n = int(rng.integers(1, 80))
    n_sites, n_cats = int(rng.integers(1, 4)), int(rng.integers(1, 12))
    df = pd.DataFrame(
        {
            "site": rng.choice([f"s{i}" for i in range(n_sites)], size=n),
            "category": rng.integers(0, n_cats, size=n),
            "bsr": random_values(rng, n),
            "reviews": random_values(rng, n),
            "rating": random_values(rng, n),
        }
    )
    return df.sample(frac=1.0, random_state=int(rng.integers(1 << 30)))  # unsorted input


@pytest.mark.parametrize("zero_mad", ["mean_ad", "zero"])
def test_robust_zscore_matches_scipy_on_random_groups(zero_mad):
    rng = np.random.default_rng(1)
    for _ in range(1500):
        n = int(rng.integers(0, 60))
        values = random_values(rng, n)
        groups = rng.integers(0, int(rng.integers(1, 10)), size=n)
        clip = rng.choice([None, 2.5])
        got = robust_zscore(values, groups, clip=clip, zero_mad=zero_mad)
        want = reference.robust_zscore(values, groups, clip=clip, zero_mad=zero_mad)
        np.testing.assert_allclose(got, want, **TOL)
        assert not np.isinf(got).any()


def test_explosive_score_matches_pandas_on_random_frames():
    rng = np.random.default_rng(2)
    for case in range(1000):
        df = random_frame(rng)
        weights = {"bsr": -1.0, "reviews": float(rng.uniform(0.1, 2)), "rating": 0.25}
        by = [["site", "category"], ["category"], []][case % 3]
        clip = rng.choice([None, 3.0])
        out = explosive_score(df, weights, by, clip=clip)
        z, score = reference.explosive_score(df, weights, by, clip=clip)
        for feature in weights:
            np.testing.assert_allclose(out[f"z_{feature}"], z[feature], **TOL)
        np.testing.assert_allclose(out["explosive_score"], score, **TOL)
        ours = out["explosive_score"].to_numpy()
        np.testing.assert_array_equal(out["rank"], reference.rank_first_descending(ours, df, by))
        assert not np.isinf(ours).any()
        pd.testing.assert_index_equal(out.index, df.index)


def test_top_n_keeps_best_rows_per_group_in_input_order():
    rng = np.random.default_rng(3)
    for _ in range(300):
        df = random_frame(rng)
        top_n = int(rng.integers(1, 4))
        full = explosive_score(df, {"bsr": -1.0, "reviews": 1.0}, ["site"])
        top = explosive_score(df, {"bsr": -1.0, "reviews": 1.0}, ["site"], top_n=top_n)
        keep = (full["rank"] <= top_n) & full["explosive_score"].notna()
        pd.testing.assert_frame_equal(top, full[keep])


def test_group_stats_match_pandas_and_scipy():
    rng = np.random.default_rng(4)
    for _ in range(300):
        df = random_frame(rng)
        stats = group_stats(df, ["bsr", "rating"], by=["site", "category"])
        codes = reference.group_codes(df, ["site", "category"])
        first = pd.Series(np.arange(len(df))).groupby(codes).min().sort_values()
        assert len(stats) == 2 * len(first)
        for i, (code, row) in enumerate(first.items()):
            members = df[codes == code]
            for j, feature in enumerate(["bsr", "rating"]):
                got = stats.iloc[2 * i + j]
                x = members[feature].to_numpy()
                median, mad, scale = reference.group_scale(x)
                assert got["site"] == df["site"].iloc[row]
                assert got["category"] == df["category"].iloc[row]
                assert got["feature"] == feature
                assert got["count"] == np.isfinite(x).sum()
                assert got["n_nan"] == (~np.isfinite(x)).sum()
                np.testing.assert_allclose(
                    [got["median"], got["mad"], got["scale"]], [median, mad, scale], **TOL
                )


def test_hand_worked_case():
    # Group a: 1, 2, 3, 4, 100 → median 3, |dev| 2, 1, 0, 1, 97 → MAD 1.
    # Group b: 5, 5, 5, 9 → MAD 0 → mean AD = 1 → scale 1.2533.
    # Group c: one row → z = 0. Group d: all NaN → NaN.
    values = [1, 2, 3, 4, 100, 5, 5, 5, 9, 42, np.nan]
    groups = ["a"] * 5 + ["b"] * 4 + ["c", "d"]
    z = robust_zscore(np.array(values, dtype=float), groups)
    expected = [-2, -1, 0, 1, 97, 0, 0, 0, 4]
    np.testing.assert_allclose(z[:5], np.array(expected[:5]) / 1.482602218505602, rtol=1e-15)
    np.testing.assert_allclose(z[5:9], np.array(expected[5:]) / 1.2533141373155003, rtol=1e-15)
    assert z[9] == 0.0 and np.isnan(z[10])
    assert robust_zscore(np.array([1.0, 2.0, 3.0]), zero_mad="zero").tolist() == [
        -1 / 1.482602218505602,
        0,
        1 / 1.482602218505602,
    ]


def test_all_nan_weighted_row_ranks_last_and_is_never_top():
    df = pd.DataFrame({"g": ["a"] * 3, "x": [np.nan, 1.0, 2.0], "y": [np.nan, 5.0, 1.0]})
    out = explosive_score(df, {"x": 1.0, "y": 1.0}, "g")
    assert np.isnan(out["explosive_score"].iloc[0])
    assert out["rank"].tolist() == [3, 1, 2]
    assert len(explosive_score(df, {"x": 1.0, "y": 1.0}, "g", top_n=5)) == 2


def test_ties_rank_in_input_order_and_one_row_groups_score_zero():
    df = pd.DataFrame({"g": ["a", "a", "a", "b"], "x": [1.0, 1.0, 1.0, 3.0]})
    out = explosive_score(df, {"x": 1.0}, "g")
    assert out["rank"].tolist() == [1, 2, 3, 1]
    assert out["explosive_score"].tolist() == [0.0, 0.0, 0.0, 0.0]


def test_many_small_groups_and_one_huge_group():
    rng = np.random.default_rng(5)
    n = 200_000
    groups = np.where(rng.random(n) < 0.5, 0, rng.integers(1, 50_000, size=n))
    values = rng.normal(size=n)
    np.testing.assert_allclose(
        robust_zscore(values, groups), reference.robust_zscore(values, groups), **TOL
    )


@pytest.mark.parametrize("zero_mad", ["mean_ad", "zero"])
def test_large_groups_match_scipy(zero_mad):
    """Groups of 1,024 rows and more are first narrowed down by a sample of their values
    (docs/score.md): random, sorted and periodic values, ties and missing values, against
    scipy's full computation."""
    rng = np.random.default_rng(11)
    for case in range(40):
        sizes = rng.integers(1_000, 6_000, size=int(rng.integers(1, 4)))
        values = np.concatenate([random_values(rng, int(size)) for size in sizes])
        shape = case % 4
        if shape == 1:
            values = np.sort(values)  # NaN last: the sample sees the order exactly
        elif shape == 2:
            values = np.tile(rng.normal(size=16), values.size // 16 + 1)[: values.size]
        groups = np.repeat(np.arange(sizes.size), sizes)
        if shape == 3:
            order = rng.permutation(values.size)  # groups interleaved
            values, groups = values[order], groups[order]
        got = robust_zscore(values, groups, zero_mad=zero_mad)
        want = reference.robust_zscore(values, groups, zero_mad=zero_mad)
        np.testing.assert_allclose(got, want, **TOL)


@pytest.mark.parametrize(
    "keys",
    [
        pa.array(["x", "y", "x", None]),
        pa.array(["x", "y", "x", None], type=pa.large_string()),
        pa.array(["x", "y", "x", None], type=pa.string_view()),
        pa.array(["x", "y", "x", None]).dictionary_encode(),
        pa.chunked_array([["x", "y"], ["x", None]]),
        pl.Series(["x", "y", "x", None]),
        pl.Series(["x", "y", "x", None], dtype=pl.Categorical),
        pd.Series(["x", "y", "x", None], dtype="category"),
        np.array(["x", "y", "x", None], dtype=object),
        ["x", "y", "x", None],
    ],
    ids=lambda k: type(k).__module__.split(".")[0] + "-" + type(k).__name__,
)
def test_string_keys_of_every_encoding_group_alike(keys):
    values = np.array([1.0, 5.0, 3.0, 9.0])
    z = robust_zscore(values, keys)
    # x → {1, 3}: ±1/1.4826; y and the null key are one-row groups: 0.
    np.testing.assert_allclose(z, [-0.67448975, 0.0, 0.67448975, 0.0], rtol=1e-8)


def test_every_frame_kind_gives_the_same_numbers(kind):
    rng = np.random.default_rng(6)
    df = random_frame(rng)
    weights = {"bsr": -1.0, "reviews": 1.0}
    want = explosive_score(df, weights, ["site", "category"])
    got = to_pandas(explosive_score(to_kind(df, kind), weights, ["site", "category"]))
    for column in ["z_bsr", "z_reviews", "explosive_score", "rank"]:
        np.testing.assert_allclose(got[column].to_numpy(dtype=float), want[column], **TOL)
