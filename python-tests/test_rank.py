"""LambdaRank and binary training against LightGBM's Python package on LightGBM's own
lambdarank example: same data, parameters and seed ⇒ the same model and predictions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import scipy.sparse

from ecomkit import _ecomkit, metrics, rank
from ecomkit.datasets import load_svmlight
from ecomkit.errors import InvalidValueError
from ecomkit.pipeline import train_rank
from ecomkit.rank import Model, train_binary, train_lambdarank

lgb = pytest.importorskip("lightgbm")

PARAMS = {
    "objective": "lambdarank",
    "metric": "ndcg",
    "ndcg_eval_at": [1, 3, 5],
    "learning_rate": 0.1,
    "num_leaves": 31,
    "min_data_in_leaf": 50,
    "min_sum_hessian_in_leaf": 5.0,
    "bagging_freq": 1,
    "bagging_fraction": 0.9,
    "max_bin": 255,
    "seed": 7,
    "num_threads": 2,
    "verbosity": -1,
}


@pytest.fixture
def example(shared_data):
    folder = shared_data / "lightgbm-lambdarank"
    if not (folder / "rank.train").exists():
        pytest.skip(f"{folder} is absent")
    return load_svmlight(folder / "rank.train"), load_svmlight(folder / "rank.test"), folder


def lightgbm_reference(train, test, rounds=100, **extra):
    n = max(train.X.shape[1], test.X.shape[1])
    pad = lambda x: np.pad(x, ((0, 0), (0, n - x.shape[1])))  # noqa: E731
    record = {}
    booster = lgb.train(
        PARAMS,
        lgb.Dataset(pad(train.X), train.y, group=train.group),
        num_boost_round=rounds,
        valid_sets=[lgb.Dataset(pad(test.X), test.y, group=test.group)],
        valid_names=["test"],
        callbacks=[lgb.record_evaluation(record), *extra.get("callbacks", [])],
    )
    return booster, record, pad


def test_a_model_keeps_its_booster_and_pickles_as_text():
    import pickle

    x = np.random.default_rng(3).normal(size=(300, 3))
    model = rank.train_binary(x, (x[:, 1] > 0).astype(float), num_boost_round=5, verbose=False)
    first = model.predict(x)
    booster = model._booster()
    assert model._booster() is booster  # parsed once
    copy = pickle.loads(pickle.dumps(model))
    assert copy._loaded is None and np.array_equal(copy.predict(x), first)
    model.model_text = rank.train_binary(x, (x[:, 0] > 0).astype(float), num_boost_round=5,
                                         verbose=False).model_text  # fmt: skip
    assert model._booster() is not booster  # a new text is parsed again


def test_load_svmlight_matches_the_files(example):
    train, test, folder = example
    assert train.X.shape == (3005, train.X.shape[1]) and train.group.sum() == 3005
    assert len(train.group) == 201 and len(test.group) == 50
    first = (folder / "rank.train").read_text().splitlines()[0].split()
    assert train.y[0] == float(first[0])
    index, value = first[1].split(":")
    assert train.X[0, int(index)] == float(value)


def test_sparse_lambdarank_matches_lightgbm_python_on_the_same_csr_matrix(example):
    _, _, folder = example
    train = load_svmlight(folder / "rank.train", sparse=True)
    test = load_svmlight(folder / "rank.test", sparse=True)
    width = max(train.X.shape[1], test.X.shape[1])
    for x in (train.X, test.X):
        x.resize((x.shape[0], width))
    assert (train.X.toarray() == np.pad(load_svmlight(folder / "rank.train").X,
                                        ((0, 0), (0, width - 301)))).all()  # fmt: skip
    booster = lgb.train(PARAMS, lgb.Dataset(train.X, train.y, group=train.group), 20)
    model = train_lambdarank(train.X, train.y, train.group, PARAMS, num_boost_round=20)
    assert np.max(np.abs(model.predict(test.X) - booster.predict(test.X))) == 0.0
    dense = train_lambdarank(train.X.toarray(), train.y, train.group, PARAMS, 20)
    assert dense.model_text == model.model_text
    # Any scipy format (here COO, with a repeated entry that scipy sums) is read as CSR.
    coo = test.X[:30].tocoo()
    rows, cols = np.r_[coo.row, coo.row[:1]], np.r_[coo.col, coo.col[:1]]
    repeated = scipy.sparse.coo_matrix((np.r_[coo.data, 1.0], (rows, cols)), shape=coo.shape)
    # (LightGBM returns SHAP values of a sparse matrix as a sparse matrix.)
    theirs = booster.predict(repeated.tocsr(), pred_contrib=True).toarray()
    np.testing.assert_allclose(model.predict_contrib(repeated), theirs, atol=1e-12)


def test_lambdarank_matches_lightgbm_python(example, tmp_path):
    train, test, _ = example
    booster, record, pad = lightgbm_reference(train, test)
    model = train_lambdarank(pad(train.X), train.y, train.group, PARAMS, num_boost_round=100)
    ours, theirs = model.predict(pad(test.X)), booster.predict(pad(test.X))
    assert np.max(np.abs(ours - theirs)) == 0.0
    np.testing.assert_array_equal(model.feature_importance("split"),
                                  booster.feature_importance("split"))  # fmt: skip
    np.testing.assert_allclose(model.feature_importance("gain"),
                               booster.feature_importance("gain"), rtol=1e-12)  # fmt: skip
    head = pad(test.X[:50])
    np.testing.assert_allclose(
        model.predict_contrib(head), booster.predict(head, pred_contrib=True), atol=1e-12
    )
    # LightGBM's own ndcg@k of the final model is ecomkit's with its conventions.
    groups = np.repeat(np.arange(len(test.group)), test.group)
    for k in (1, 3, 5):
        ours_ndcg = metrics.ndcg(test.y, ours, groups, k=k, no_relevant="one")
        assert ours_ndcg == pytest.approx(record["test"][f"ndcg@{k}"][-1], abs=1e-12)
    # The saved model is LightGBM's text format, readable by the Python package.
    path = model.save(tmp_path / "model.txt")
    reread = lgb.Booster(model_file=str(path))
    assert np.max(np.abs(reread.predict(pad(test.X)) - ours)) == 0.0
    assert np.array_equal(Model.load(path).predict(pad(test.X)), ours)


def test_query_ids_in_any_order_train_the_same_model(example):
    train, test, _ = example
    model = train_lambdarank(train.X, train.y, train.group, PARAMS, num_boost_round=20)
    ids = np.repeat(np.arange(len(train.group)), train.group)
    order = np.random.default_rng(0).permutation(len(ids))
    # Shuffle whole queries but keep each query's rows in order: the same training set.
    query_order = np.random.default_rng(1).permutation(len(train.group))
    rows = np.concatenate([np.flatnonzero(ids == q) for q in query_order])
    shuffled = train_lambdarank(train.X[rows], train.y[rows], params=PARAMS, num_boost_round=20,
                                groups=[f"q{i}" for i in ids[rows]])  # fmt: skip
    assert len(order) == len(ids)
    # LightGBM sees the queries in another order, so compare quality, not bits.
    s1, s2 = model.predict(test.X), shuffled.predict(test.X)
    groups = np.repeat(np.arange(len(test.group)), test.group)
    assert metrics.ndcg(test.y, s2, groups, k=5) == pytest.approx(
        metrics.ndcg(test.y, s1, groups, k=5), abs=0.05
    )


def test_query_groups_number_queries_by_first_appearance_and_keep_row_order():
    sizes, order = _ecomkit.lgbm_query_groups(pa.array(["b", "a", "b", "c", "a"]), 5, "groups")
    assert sizes.tolist() == [2, 2, 1] and order.tolist() == [0, 2, 1, 4, 3]
    # The same as pandas.factorize and a stable argsort, on many random ids.
    rng = np.random.default_rng(3)
    for n in (1, 7, 1000):
        ids = rng.integers(0, max(1, n // 5), n)
        codes, _ = pd.factorize(ids)
        sizes, order = _ecomkit.lgbm_query_groups(pa.array(ids), n, "groups")
        assert sizes.tolist() == np.bincount(codes).tolist()
        assert order.tolist() == np.argsort(codes, kind="stable").tolist()
    with pytest.raises(InvalidValueError, match="groups: 1 missing values; expected none"):
        _ecomkit.lgbm_query_groups(pa.array(["a", None]), 2, "groups")
    with pytest.raises(ValueError, match="groups"):
        _ecomkit.lgbm_query_groups(pa.array(["a"]), 2, "groups")


def test_group_ids_is_a_deprecated_alias_of_groups(example):
    train, _, _ = example
    ids = np.repeat(np.arange(len(train.group)), train.group)
    new = train_lambdarank(train.X, train.y, params=PARAMS, num_boost_round=3, groups=ids)
    with pytest.warns(DeprecationWarning, match="'group_ids' is deprecated; use 'groups'"):
        old = train_lambdarank(train.X, train.y, params=PARAMS, num_boost_round=3,
                               group_ids=ids)  # fmt: skip
    assert old.model_text == new.model_text
    with pytest.warns(DeprecationWarning, match="valid: 'group_ids' is deprecated"):
        train_lambdarank(train.X, train.y, params=PARAMS, num_boost_round=2, groups=ids,
                         valid={"X": train.X, "y": train.y, "group_ids": ids})  # fmt: skip


def test_early_stopping_matches_lightgbm(example):
    train, test, _ = example
    booster, _, pad = lightgbm_reference(
        train, test, rounds=200,
        callbacks=[lgb.early_stopping(5, first_metric_only=True, verbose=False)],
    )  # fmt: skip
    model = train_lambdarank(
        pad(train.X), train.y, train.group, PARAMS, num_boost_round=200,
        valid=(pad(test.X), test.y, test.group), early_stopping_rounds=5,
    )  # fmt: skip
    assert model.best_iteration == booster.best_iteration
    expected = booster.predict(pad(test.X), num_iteration=booster.best_iteration)
    assert np.max(np.abs(model.predict(pad(test.X)) - expected)) == 0.0
    assert set(model.eval_history) == {"ndcg@1", "ndcg@3", "ndcg@5"}


def test_binary_matches_lightgbm_python():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 6))
    y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(size=3000) > 0).astype(float)
    params = {"objective": "binary", "seed": 1, "num_threads": 2, "verbosity": -1,
              "bagging_freq": 1, "bagging_fraction": 0.8}  # fmt: skip
    booster = lgb.train(params, lgb.Dataset(x, y), num_boost_round=30)
    model = train_binary(x, y, params, num_boost_round=30)
    assert np.max(np.abs(model.predict(x) - booster.predict(x))) == 0.0
    assert ((model.predict(x) > 0) & (model.predict(x) < 1)).all()


def test_bad_input_is_a_named_error(example):
    train, _, _ = example
    with pytest.raises(ValueError, match="group"):
        train_lambdarank(train.X, train.y, [5, 5], PARAMS)
    with pytest.raises(ValueError, match="group"):
        train_lambdarank(train.X, train.y)
    with pytest.raises(ValueError, match="LightGBM"):
        train_lambdarank(train.X, train.y, train.group, {"num_leaves": -3}, num_boost_round=2)
    with pytest.raises(ValueError, match="y: expected length"):
        train_lambdarank(train.X, train.y[:10], train.group)
    model = train_lambdarank(train.X, train.y, train.group, PARAMS, num_boost_round=2)
    with pytest.raises(ValueError, match="features"):
        model.predict(train.X[:, :5])
    with pytest.raises(ValueError, match="early_stopping_rounds"):
        train_lambdarank(train.X, train.y, train.group, PARAMS, early_stopping_rounds=3)


def test_train_rank_step_writes_its_artefacts(example, tmp_path):
    _, _, folder = example
    summary = train_rank(folder / "rank.train", tmp_path / "out", valid=folder / "rank.test",
                         k=[1, 5, 10], params=PARAMS, num_boost_round=20)  # fmt: skip
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "lift_curve.csv", "metrics.csv", "metrics.json", "model.txt"
    ]  # fmt: skip
    payload = json.loads((out / "metrics.json").read_text())
    assert {"ndcg@1", "recall@10", "map@5"} <= set(payload["metrics"])
    assert len(payload["population_lift_curve"]) == 10
    assert pd.read_csv(out / "metrics.csv")["k"].tolist() == [1, 5, 10]
    assert summary["metrics"]["ndcg@1"] == payload["metrics"]["ndcg@1"]


def test_train_rank_with_a_baseline_on_a_table(tmp_path):
    rng = np.random.default_rng(3)
    n = 2000
    df = pd.DataFrame({"query": np.repeat(np.arange(100), 20), "f1": rng.normal(size=n),
                       "f2": rng.normal(size=n), "popularity": rng.random(n)})  # fmt: skip
    df["label"] = (df["f1"] + rng.normal(scale=0.5, size=n) > 1).astype(int)
    df.to_parquet(tmp_path / "train.parquet")
    from ecomkit.cli import main

    code = main(["train-rank", str(tmp_path / "train.parquet"), "--output-dir",
                 str(tmp_path / "out"), "--group", "query", "--features", "f1,f2",
                 "--baseline-score", "popularity", "--k", "1,5",
                 "--num-boost-round", "10", "--params", '{"min_data_in_leaf": 5}'])  # fmt: skip
    assert code == 0
    curve = pd.read_csv(tmp_path / "out" / "lift_curve.csv")
    assert list(curve.columns) == ["k", "recall", "baseline_recall", "lift"]
    assert (curve["lift"] > 1).all()  # the model beats random popularity
