"""Independent reference implementations (numpy / scipy / pandas), written the way a pandas
user would, to test the Rust kernels against."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import median_abs_deviation

MAD_TO_SD = 1.482602218505602
MEAN_AD_TO_SD = 1.2533141373155003


def group_scale(x: np.ndarray, zero_mad: str = "mean_ad") -> tuple[float, float, float]:
    """(median, unscaled MAD, scale) of the finite values of x, as documented."""
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return np.nan, np.nan, 0.0
    median = float(np.median(x))
    mad = float(median_abs_deviation(x, scale=1.0))
    if mad > 0:
        return median, mad, float(median_abs_deviation(x, scale="normal"))
    mean_ad = float(np.mean(np.abs(x - median)))
    if zero_mad == "mean_ad" and mean_ad > 0:
        return median, mad, MEAN_AD_TO_SD * mean_ad
    return median, mad, 0.0


def robust_zscore(values, groups=None, clip=None, zero_mad="mean_ad") -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    keys = np.zeros(len(values)) if groups is None else pd.Series(groups)
    out = np.full(len(values), np.nan)
    for _, index in pd.Series(np.arange(len(values))).groupby(keys, dropna=False).groups.items():
        index = np.asarray(index)
        x = values[index]
        median, _, scale = group_scale(x, zero_mad)
        finite = np.isfinite(x)
        z = np.where(finite, 0.0, np.nan)
        if scale > 0:
            z = np.where(finite, (x - median) / scale, np.nan)
        if clip is not None:
            z = np.clip(z, -clip, clip)
        out[index] = z
    return out


def group_codes(df: pd.DataFrame, by: list) -> np.ndarray:
    """One int per row for the key columns together; a missing key is a key of its own."""
    if not by:
        return np.zeros(len(df), dtype=np.int64)
    codes = [pd.factorize(df[b], use_na_sentinel=False)[0] for b in by]
    return pd.factorize(pd.Series(list(zip(*codes, strict=True))))[0]


def explosive_score(df: pd.DataFrame, weights: dict, by: list, clip=None, zero_mad="mean_ad"):
    """(z per feature, score) with a pandas groupby, as the seed pipeline computes them."""
    groups = group_codes(df, by)
    z = {}
    for feature in weights:
        values = df[feature].astype("float64").to_numpy()
        z[feature] = robust_zscore(values, groups, clip=clip, zero_mad=zero_mad)
    total = np.zeros(len(df))
    any_valid = np.zeros(len(df), dtype=bool)
    for feature, weight in weights.items():
        valid = ~np.isnan(z[feature])
        total = total + np.where(valid, weight * np.nan_to_num(z[feature]), 0.0)
        any_valid |= valid
    return z, np.where(any_valid, total, np.nan)


def rank_first_descending(score: np.ndarray, df: pd.DataFrame, by: list) -> np.ndarray:
    """pandas' rank(method="first", ascending=False, na_option="bottom") within groups."""
    ranked = (
        pd.Series(score)
        .groupby(group_codes(df, by))
        .rank(method="first", ascending=False, na_option="bottom")
    )
    return ranked.to_numpy().astype(np.int64)
