"""Reference profiles (`monitor.profile`): counts of pieces merge into the counts of the
pieces concatenated, and the statistics from counts equal scipy's on the same bins and
`monitor.psi` on the concatenated sample. Tolerance: 1e-12 (relative or absolute, as in
test_monitor.py) for statistics, 1e-9 absolute for p-values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial import distance

from ecomkit import errors, monitor

CASES = 300


def random_frame(rng: np.random.Generator, n: int, shift: float = 0.0) -> pd.DataFrame:
    values = rng.normal(shift, 1.0, n)
    if rng.random() < 0.3:
        values = np.round(values, 1)  # ties at the edges
    values[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({
        "x": values,
        "n": rng.integers(0, 4 + int(shift * 3), n),
        "c": rng.choice(["a", "b", "c", "d"][: 2 + rng.integers(0, 3)], n),
    })  # fmt: skip


def pieces(rng: np.random.Generator, frame: pd.DataFrame) -> list[pd.DataFrame]:
    cuts = np.sort(rng.integers(0, len(frame) + 1, rng.integers(1, 5)))
    return [frame.iloc[a:b] for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(frame)], strict=True)]


def bin_counts(profile: monitor.Profile, frame: pd.DataFrame, column: str) -> np.ndarray:
    """The counts of `column` in the profile's bins, written with numpy."""
    spec = next(c for c in profile.to_dict()["columns"] if c["column"] == column)
    values = frame[column].dropna().to_numpy()
    if spec["kind"] == "numeric":
        index = np.searchsorted(np.asarray(spec["edges"], dtype=float), values, side="right")
        return np.bincount(index, minlength=len(spec["edges"]) + 1).astype(float)
    known = {c: i for i, c in enumerate(spec["categories"])}
    index = [known.get(str(v), len(known)) for v in values]
    return np.bincount(index, minlength=len(known) + 1).astype(float)


@pytest.mark.parametrize("seed", range(CASES))
def test_merged_counts_equal_the_concatenation_and_scipy(seed):
    rng = np.random.default_rng(seed)
    reference = random_frame(rng, int(rng.integers(5, 400)))
    current = random_frame(rng, int(rng.integers(1, 400)), shift=float(rng.uniform(0, 1)))
    prof = monitor.profile(reference, bins=int(rng.integers(2, 12)))
    parts = [prof.count(p) for p in pieces(rng, current)]
    merged = parts[0]
    for part in parts[1:]:
        merged = merged + part
    whole = prof.count(current)
    assert merged.to_dict() == whole.to_dict()
    for method in ("psi", "chisquare", "jensenshannon"):
        report = prof.drift(merged, method=method).to_arrow().to_pylist()
        for row in report:
            column = row["column"]
            r, c = bin_counts(prof, reference, column), bin_counts(prof, current, column)
            assert (row["n_reference"], row["n_current"]) == (r.sum(), c.sum())
            if c.sum() == 0:
                assert row["method"] is None and row["message"] == "no values in current"
                continue
            if method == "psi":
                rs, cs = np.maximum(r / r.sum(), 1e-4), np.maximum(c / c.sum(), 1e-4)
                want = np.sum((rs - cs) * np.log(rs / cs))
                if column == "x":  # the quantile PSI of the concatenated samples
                    got = monitor.psi(reference[column], current[column],
                                      bins=prof.bins).statistic  # fmt: skip
                    assert got == pytest.approx(row["statistic"], rel=1e-12, abs=1e-15)
            elif method == "jensenshannon":
                want = distance.jensenshannon(r, c)
            else:
                keep = (r + c) > 0
                r, c = r[keep], c[keep]
                expected = r * c.sum() / r.sum()
                with np.errstate(divide="ignore", invalid="ignore"):
                    result = stats.chisquare(c, expected, sum_check=False)
                want = result.statistic
                if np.isfinite(want) and len(r) > 1:
                    assert row["p_value"] == pytest.approx(result.pvalue, abs=1e-9)
            assert row["statistic"] == pytest.approx(want, rel=1e-12, abs=1e-12), (column, method)


def test_categories_new_in_current_share_one_bin():
    prof = monitor.profile(pd.DataFrame({"c": ["a", "b", "a"]}))
    counts = prof.count(pd.DataFrame({"c": ["a", "z", "y", None]})).to_dict()
    assert counts["columns"] == [{"counts": [1, 0, 2], "missing": 1}]
    assert prof.to_dict()["columns"][0]["categories"] == ["a", "b"]


def test_save_load_and_counts_between_processes(tmp_path):
    rng = np.random.default_rng(1)
    reference, current = random_frame(rng, 300), random_frame(rng, 200, shift=0.5)
    prof = monitor.profile(reference, ["x", "c"])
    path = prof.save(tmp_path / "profile.json")
    loaded = monitor.Profile.load(path)
    assert loaded == prof and loaded.fingerprint == prof.fingerprint
    counts = monitor.Counts.from_dict(prof.count(current).to_dict())
    assert loaded.drift(counts).to_arrow().to_pylist()[0]["statistic"] == pytest.approx(
        prof.drift(current).to_arrow().to_pylist()[0]["statistic"], rel=0
    )
    assert counts.n_rows == 200


def test_bad_input():
    rng = np.random.default_rng(2)
    reference = random_frame(rng, 50)
    prof = monitor.profile(reference, ["x"])
    other = monitor.profile(reference, ["x"], bins=4)
    with pytest.raises(errors.InvalidValueError, match="another profile"):
        prof.count(reference).merge(other.count(reference))
    with pytest.raises(errors.InvalidValueError, match="another profile"):
        prof.drift(other.count(reference))
    with pytest.raises(errors.InvalidValueError, match="'psi', 'chisquare' or 'jensenshannon'"):
        prof.drift(reference, method="ks")
    with pytest.raises(errors.InvalidValueError, match="bins: at least 2"):
        monitor.profile(reference, bins=1)
    with pytest.raises(errors.EmptyInputError, match="reference"):
        monitor.profile(reference.iloc[:0])
    with pytest.raises(errors.InvalidValueError, match="no values to profile"):
        monitor.profile(pd.DataFrame({"x": [np.nan, np.nan]}))
    with pytest.raises(errors.ColumnNotFoundError, match="piece"):
        prof.count(reference[["c"]])
    with pytest.raises(errors.InvalidTypeError, match="numbers, as in the reference profile"):
        prof.count(pd.DataFrame({"x": ["a"]}))
    with pytest.raises(errors.InvalidValueError, match="format"):
        monitor.Profile.from_dict({"columns": []})
    with pytest.raises(errors.InvalidTypeError, match="other: expected Counts"):
        prof.count(reference).merge({"counts": []})
