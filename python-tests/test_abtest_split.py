"""Traffic splitting against GrowthBook: its published conformance cases, its Python SDK on
random ids, a frozen golden file, layers on a million ids, the audit trail and config."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from scipy import stats

from ecomkit import abtest
from ecomkit.abtest import TrafficSplitter

GOLDEN = Path(__file__).parent / "golden" / "abtest_assignments.json"

growthbook = pytest.importorskip("growthbook")
gb_core = pytest.importorskip("growthbook.core")


@pytest.fixture
def cases(shared_data):
    path = shared_data / "growthbook" / "bucketing_cases.json"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return json.loads(path.read_text())


# --- GrowthBook's published cases ---------------------------------------------------------


def test_hash_cases(cases):
    for seed, value, version, expected in cases["hash"]:
        if expected is None:
            with pytest.raises(ValueError, match="version"):
                abtest.hash(seed, value, version)
            continue
        assert abtest.hash(seed, value, version) == expected, (seed, value, version)
        assert abtest.hash(seed, [value], version).tolist() == [expected]


def test_bucket_range_cases(cases):
    for name, (n, coverage, weights), expected in cases["getBucketRange"]:
        ours = abtest.bucket_ranges(n, coverage, weights)
        # The case file rounds; GrowthBook's own function is the exact reference.
        assert ours == [tuple(r) for r in gb_core.getBucketRanges(n, coverage, weights)], name
        np.testing.assert_allclose(ours, expected, atol=1e-9, err_msg=name)


def test_choose_variation_cases(cases):
    for name, bucket, ranges, expected in cases["chooseVariation"]:
        assert abtest.choose_variation(bucket, ranges) == expected, name
        assert abtest.choose_variation([bucket], ranges).tolist() == [expected], name


def test_in_namespace_cases(cases):
    for name, user, (ns, start, end), expected in cases["inNamespace"]:
        assert abtest.in_namespace(user, ns, start, end) is expected, name
        assert abtest.in_namespace([user], ns, start, end).tolist() == [expected], name


def test_equal_weights_cases(cases):
    for n, expected in cases["getEqualWeights"]:
        np.testing.assert_allclose(abtest.equal_weights(n), expected, atol=1e-8)


# --- Against GrowthBook's Python SDK on random ids ------------------------------------------


def random_ids(rng: np.random.Generator, n: int) -> list[str]:
    alphabet = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:. ")
    alphabet += ["é", "ß", "中", "文", "😀", "𝄞", "ü", "\u0301"]
    return ["".join(rng.choice(alphabet, size=rng.integers(0, 24)).tolist()) for _ in range(n)]


def fnv_units(units) -> int:
    h = 0x811C9DC5
    for u in units:
        h = ((h ^ u) * 0x01000193) & 0xFFFFFFFF
    return h


def reference_hash(seed: str, value: str, version: int, encoding: str) -> float:
    """GrowthBook's algorithm with the units of each SDK family."""

    def fnv(s: str) -> int:
        if encoding == "utf-8":
            return fnv_units(s.encode("utf-8"))
        if encoding == "codepoint":
            return fnv_units(ord(c) for c in s)
        return gb_core.fnv1a32(s)  # the Python SDK 4.x: UTF-16 code units

    if version == 1:
        return (fnv(value + seed) % 1000) / 1000
    return (fnv(str(fnv(seed + value))) % 10000) / 10000


@pytest.mark.parametrize("encoding", abtest.ENCODINGS)
@pytest.mark.parametrize("version", [1, 2])
def test_hash_matches_sdk_on_random_ids(encoding, version):
    rng = np.random.default_rng(version)
    ids = random_ids(rng, 3000)
    for seed in ["", "exp-1", "é-seed", "种子"]:
        ours = abtest.hash(seed, ids, version, encoding=encoding)
        expected = [reference_hash(seed, i, version, encoding) for i in ids]
        np.testing.assert_array_equal(ours, expected)
        if encoding == "utf-16":
            assert ours.tolist() == [gb_core.gbhash(seed, i, version) for i in ids]


def test_encodings_agree_on_ascii_and_differ_beyond():
    ids = ["user-1", "abc", "123"]
    results = [abtest.hash("s", ids, 2, encoding=e).tolist() for e in abtest.ENCODINGS]
    assert results[0] == results[1] == results[2]
    wide = ["ünïcödé-" + str(i) for i in range(200)]
    utf16, utf8 = (abtest.hash("s", wide, 2, encoding=e) for e in ("utf-16", "utf-8"))
    assert (utf16 != utf8).any()


def growthbook_run(ids, key, n, weights, coverage, hash_version, namespace=None, seed=None):
    """GrowthBook's `run()` for each id: (variation index or -1)."""
    from growthbook import Experiment, GrowthBook

    out = []
    for i in ids:
        gb = GrowthBook(attributes={"id": i})
        exp = Experiment(
            key=key,
            variations=list(range(n)),
            weights=weights,
            coverage=coverage,
            hashVersion=hash_version,
            namespace=namespace,
            seed=seed,
        )
        result = gb.run(exp)
        out.append(result.variationId if result.inExperiment else -1)
    return out


CONFIGS = [
    {"experiment": "checkout-button", "variants": ["control", "treatment"]},
    {"experiment": "ranker-v2", "variants": ["a", "b", "c"], "weights": [0.5, 0.25, 0.25]},
    {"experiment": "banner", "variants": ["off", "on"], "coverage": 0.4, "hash_version": 1},
    {
        "experiment": "layered",
        "variants": ["control", "x"],
        "namespace": ("pricing", 0.2, 0.7),
        "seed": "custom-seed",
    },
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c["experiment"])
def test_splitter_matches_growthbook_run(config):
    ids = random_ids(np.random.default_rng(7), 1500) + [""]
    splitter = TrafficSplitter(**config)
    ns = config.get("namespace")
    expected = growthbook_run(
        ids,
        config["experiment"],
        len(config["variants"]),
        config.get("weights"),
        config.get("coverage", 1.0),
        config.get("hash_version", 2),
        namespace=list(ns) if ns else None,
        seed=config.get("seed"),
    )
    assert splitter.assign_index(ids).tolist() == expected
    names = [None if e < 0 else config["variants"][e] for e in expected]
    assert splitter.assign(ids).tolist() == names
    assert [splitter.assign_one(i) for i in ids[:50]] == names[:50]


def test_golden_assignments_never_move():
    golden = json.loads(GOLDEN.read_text())
    for entry in golden["configs"]:
        splitter = TrafficSplitter.from_dict(entry["config"])
        categories = entry.get("categories")
        got = splitter.assign_index(golden["ids"], categories).tolist()
        assert got == entry["assignments"], entry["config"]["experiment"]


# --- Input kinds --------------------------------------------------------------------------


def test_every_input_kind_gives_the_same_assignment():
    ids = [f"user-{i}" for i in range(1000)]
    splitter = TrafficSplitter("e", ["a", "b", "c"])
    expected = splitter.assign_index(ids)
    assert expected.dtype == np.int32
    for values in (
        np.array(ids, dtype=object),
        np.array(ids),
        pd.Series(ids),
        pd.Series(ids, dtype="category"),
        pd.Series(ids, dtype="string[pyarrow]"),
        pl.Series(ids),
        pl.Series(ids, dtype=pl.Categorical),
        pa.array(ids),
        pa.array(ids, pa.large_string()),
        pa.array(ids).dictionary_encode(),
        pa.chunked_array([ids[:300], ids[300:]]),
    ):
        np.testing.assert_array_equal(splitter.assign_index(values), expected)


def test_integer_ids_hash_as_their_decimal_text():
    ints = np.arange(-50, 1000, dtype=np.int64)
    texts = [str(i) for i in ints]
    np.testing.assert_array_equal(abtest.hash("s", ints), abtest.hash("s", texts))
    np.testing.assert_array_equal(
        abtest.hash("s", ints.astype(np.uint16)[50:]), abtest.hash("s", texts[50:])
    )


def test_null_and_empty_ids_are_never_in_the_experiment():
    splitter = TrafficSplitter("e", ["a", "b"])
    assert splitter.assign_index(pa.array(["", None, "x"])).tolist()[:2] == [-1, -1]
    assert math.isnan(abtest.hash("s", pa.array([None], pa.string()))[0])


def test_bad_input_names_the_argument():
    with pytest.raises(TypeError, match="ids: expected strings or integers"):
        TrafficSplitter("e", ["a", "b"]).assign_index(np.array([1.5, 2.5]))
    with pytest.raises(ValueError, match="weights"):
        TrafficSplitter("e", ["a", "b"], [0.7, 0.6])
    with pytest.raises(ValueError, match="weights"):
        TrafficSplitter("e", ["a", "b"], [1.2, -0.2])
    with pytest.raises(ValueError, match="per_category"):
        TrafficSplitter("e", ["a", "b"], per_category={"toys": [0.5]})
    with pytest.raises(ValueError, match="hash_version"):
        TrafficSplitter("e", ["a", "b"], hash_version=3)
    with pytest.raises(ValueError, match="encoding"):
        TrafficSplitter("e", ["a", "b"], encoding="latin-1")
    with pytest.raises(ValueError, match="coverage"):
        TrafficSplitter("e", ["a", "b"], coverage=1.5)
    with pytest.raises(ValueError, match="variants"):
        TrafficSplitter("e", ["only"])
    with pytest.raises(ValueError, match="namespace"):
        TrafficSplitter("e", ["a", "b"], namespace=("ns", 0.8, 0.2))
    with pytest.raises(ValueError, match="categories"):
        TrafficSplitter("e", ["a", "b"]).assign_index(["x", "y"], ["c"])
    with pytest.raises(ValueError, match="version"):
        abtest.hash("s", ["x"], 3)


# --- Per-category allocations ---------------------------------------------------------------


def test_per_category_weights_apply_to_their_rows_only():
    n = 200_000
    ids = np.array([f"asin-{i}" for i in range(n)], dtype=object)
    categories = np.where(np.arange(n) % 2 == 0, "toys", "books")
    splitter = TrafficSplitter(
        "e", ["control", "treatment"], [0.5, 0.5], per_category={"toys": [0.9, 0.1]}
    )
    index = splitter.assign_index(ids, categories)
    toys, books = index[categories == "toys"], index[categories == "books"]
    assert abs((toys == 1).mean() - 0.1) < 0.005
    assert abs((books == 1).mean() - 0.5) < 0.005
    # Row by row, each category gets exactly the split of a splitter with its weights.
    only_toys = TrafficSplitter("e", ["control", "treatment"], [0.9, 0.1])
    np.testing.assert_array_equal(toys, only_toys.assign_index(ids[categories == "toys"]))
    np.testing.assert_array_equal(
        books,
        TrafficSplitter("e", ["control", "treatment"]).assign_index(ids[categories == "books"]),
    )
    # Unknown and null categories use the default weights.
    other = splitter.assign_index(ids[:10], pa.array([None, "garden"] * 5))
    np.testing.assert_array_equal(
        other, TrafficSplitter("e", ["control", "treatment"]).assign_index(ids[:10])
    )


# --- Layers on a million ids -----------------------------------------------------------------


def test_layers_exclusive_within_and_orthogonal_across():
    ids = pa.array([f"user-{i}" for i in range(1_000_000)])
    # One layer: two experiments on disjoint halves of namespace "search".
    a = TrafficSplitter("search-a", ["c", "t"], namespace=("search", 0.0, 0.5)).assign_index(ids)
    b = TrafficSplitter("search-b", ["c", "t"], namespace=("search", 0.5, 1.0)).assign_index(ids)
    assert not ((a >= 0) & (b >= 0)).any()  # mutually exclusive
    assert ((a >= 0) | (b >= 0)).all()  # together they cover everyone
    assert abs((a >= 0).mean() - 0.5) < 0.002
    # Another layer: independent of the first.
    c = TrafficSplitter("pricing", ["c", "t1", "t2"], namespace=("pricing", 0, 1)).assign_index(ids)
    table = pd.crosstab(a, c).to_numpy()
    assert stats.chi2_contingency(table).pvalue > 0.001
    # Within an experiment, the arm split is as planned.
    assert stats.chisquare(np.bincount(c)).pvalue > 0.001


# --- Audit trail and config --------------------------------------------------------------------


def test_audit_log_records_bounded_and_exports(kind, caplog):
    splitter = TrafficSplitter(
        "e", ["a", "b"], audit=True, audit_max_rows=5, namespace=("ns", 0, 1), audit_logger="ab"
    )
    with caplog.at_level(logging.INFO, logger="ab"):
        first = splitter.assign(["u1", "u2", "u3"], ["x", "y", "x"])
        second = splitter.assign(["u4", "u5", "u6", ""])
    assert len(caplog.records) == 7 and "experiment=e" in caplog.records[0].getMessage()
    log = splitter.audit_log(kind)
    df = log if kind == "pandas" else log.to_pandas()
    assert df["id"].tolist() == ["u3", "u4", "u5", "u6", ""]  # the newest 5
    assert df["variant"].tolist()[:4] == [first[2], *second[:3]]
    assert df["variant"].iloc[-1] is None or pd.isna(df["variant"].iloc[-1])
    assert df["category"].tolist()[0] == "x"
    assert set(df["experiment"]) == {"e"} and set(df["namespace"]) == {"ns"}
    assert (df["hash_version"] == 2).all()
    assert list(df.columns) == [
        "id",
        "experiment",
        "variant",
        "category",
        "namespace",
        "hash_version",
        "time",
    ]
    splitter.clear_audit()
    assert len(splitter.audit_log("pyarrow")) == 0


def test_config_round_trips_through_json():
    splitter = TrafficSplitter(
        "e", ["a", "b", "c"], [0.2, 0.3, 0.5], coverage=0.8, seed="s", hash_version=1,
        encoding="utf-8", namespace=("ns", 0.1, 0.9), per_category={"toys": [0.6, 0.2, 0.2]},
    )  # fmt: skip
    again = TrafficSplitter.from_json(splitter.to_json())
    assert again == splitter
    ids = [f"id-{i}" for i in range(500)]
    cats = ["toys", "books"] * 250
    np.testing.assert_array_equal(again.assign_index(ids, cats), splitter.assign_index(ids, cats))
    with pytest.raises(ValueError, match="unknown keys"):
        TrafficSplitter.from_dict({**splitter.to_dict(), "colour": "red"})
