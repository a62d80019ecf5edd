"""Regression tests of issue 25's cases: no input aborts the interpreter, loses an output or
gives a silently wrong number. Inputs that could abort run in a subprocess."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from ecomkit import _io, abtest, cli, datasets, features, metrics, pipeline, rank, score
from ecomkit.errors import InvalidTypeError, InvalidValueError


@pytest.fixture(scope="module")
def model_text() -> str:
    x = np.random.default_rng(0).normal(size=(500, 4))
    return rank.train_binary(x, (x[:, 0] > 0).astype(float), num_boost_round=10,
                             verbose=False).model_text  # fmt: skip


def run_isolated(code: str) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter: an abort there fails the test, not the suite."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120)  # fmt: skip


def test_cut_or_corrupted_model_text_is_a_named_error_never_an_abort(model_text, tmp_path):
    cuts = [10, 300, len(model_text) // 3, len(model_text) // 2, model_text.find("end of trees")]
    for number, cut in enumerate(cuts):
        (tmp_path / f"cut{number}.txt").write_text(model_text[:cut])
    rng = np.random.default_rng(1)
    for number in range(20):  # a few characters changed anywhere
        chars = list(model_text)
        for i in rng.integers(0, len(chars), 5):
            chars[i] = rng.choice(list("0123456789=\n -.eTree"))
        (tmp_path / f"noise{number}.txt").write_text("".join(chars))
    done = run_isolated(f"""
        import pathlib, numpy as np
        from ecomkit import rank
        from ecomkit.errors import EcomkitError
        for path in sorted(pathlib.Path({str(tmp_path)!r}).glob("*.txt")):
            try:
                model = rank.Model.load(path)
                model.predict(np.zeros((3, 4)))
                model.predict_contrib(np.zeros((3, 4)))
                model.feature_importance("gain")
                print(path.name, "loaded")
            except EcomkitError as error:
                print(path.name, "error", type(error).__name__)
    """)
    assert done.returncode == 0, done.stderr[-2000:]
    ours = [line for line in done.stdout.splitlines() if line.split(" ")[0].endswith(".txt")]
    lines = dict(line.split(" ", 1) for line in ours)  # not LightGBM's own warnings
    assert len(lines) == 25, lines
    for number in range(len(cuts)):
        assert lines[f"cut{number}.txt"] == "error InvalidValueError"


def test_a_cut_model_names_what_is_missing(model_text):
    with pytest.raises(InvalidValueError, match="model: not a complete LightGBM model text"):
        rank.Model(model_text[: len(model_text) // 2]).predict(np.zeros((1, 4)))
    header = model_text.replace("\nTree=9\n", "\nTree_gone=9\n")
    with pytest.raises(InvalidValueError, match="announces 10 trees, the text holds 9"):
        rank.Model(header).feature_importance()
    with pytest.raises(InvalidValueError, match="model: contains a NUL byte"):
        rank.Model(model_text.replace("Tree=3", "Tree=3\x00")).predict(np.zeros((1, 4)))


def test_an_absurd_feature_index_is_refused_before_allocating(tmp_path):
    path = tmp_path / "rank.train"
    path.write_text("1 1:0.5 100000000000:1\n0 2:1\n1 3:1\n")
    with pytest.raises(InvalidValueError, match="line 1: bad feature index '100000000000'"):
        datasets.load_svmlight(path, sparse=True)
    path.write_text("1 1:0.5 2000000000:1\n0 2:1\n")
    with pytest.raises(InvalidValueError, match=r"dense matrix of 2 rows × 2000000001 columns.*"
                       r"sparse=True"):  # fmt: skip
        datasets.load_svmlight(path)
    # Read as sparse, the file is three entries; LightGBM would then set up 500 bytes for
    # each of 2e9 features (1 TB, the process killed): refused before it is called.
    X, y, group = datasets.load_svmlight(path, sparse=True)
    assert X.shape == (2, 2000000001) and X.nnz == 3 and group is None
    (tmp_path / "rank.train.query").write_text("2\n")
    result = run_isolated(f"""
        from ecomkit import cli
        raise SystemExit(cli.main(["train-rank", {str(path)!r}, "--output-dir",
                                   {str(tmp_path / "m")!r}, "--quiet"]))
    """)
    assert result.returncode == 2, result.stderr
    assert "2000000001 features" in result.stderr and "renumber the features" in result.stderr
    assert not (tmp_path / "m").exists()


def test_svmlight_rows_are_sorted_and_a_repeated_index_is_refused(tmp_path):
    path = tmp_path / "rows.svm"
    path.write_text("1 3:0.5 1:2 # a comment\n0 qid:7 2:1\n")
    X, y, _ = datasets.load_svmlight(path, sparse=True)
    assert X.has_sorted_indices and X.toarray().tolist() == [[0, 2, 0, 0.5], [0, 0, 1, 0]]
    assert datasets.load_svmlight(path).X.tolist() == X.toarray().tolist()
    path.write_text("1 3:0.5 3:2\n")
    with pytest.raises(InvalidValueError, match="line 1: feature index 3 appears twice"):
        datasets.load_svmlight(path)
    with pytest.raises(InvalidTypeError, match="sparse: expected True or False"):
        datasets.load_svmlight(path, sparse="yes")


def test_a_sparse_matrix_that_does_not_hold_together_is_a_named_error(model_text):
    import scipy.sparse

    model = rank.Model(model_text)
    x = scipy.sparse.random(20, 4, density=0.5, format="csr", random_state=0)
    assert np.array_equal(model.predict(x), model.predict(x.toarray()))
    ours = rank._native(rank._matrix(x, "X"))
    bad_index = (ours[0], ours[1] + 4, ours[2], 4)
    with pytest.raises(InvalidValueError, match="X: a sparse matrix has feature index"):
        rank._lightgbm().Booster(model_text).predict(bad_index, False)
    bad_offsets = (ours[0][:-1], ours[1], ours[2], 4)
    with pytest.raises(InvalidValueError, match=r"X: a sparse matrix's row offsets \(indptr\)"):
        rank._lightgbm().Booster(model_text).predict(bad_offsets, False)


def test_no_metrics_or_no_cut_offs_are_named_errors_not_panics():
    with pytest.raises(InvalidValueError, match="metrics: expected at least one metric"):
        metrics.ranking_metrics([1, 0], [0.5, 0.2], [1, 1], metrics=[])
    with pytest.raises(InvalidValueError, match="k: "):
        metrics.ranking_metrics([1, 0], [0.5, 0.2], [1, 1], k=[])


def test_train_rank_takes_zero_rounds_and_stopping_without_validation_at_their_word(tmp_path):
    task = datasets.ranking(200, 40, seed=1, backend="pyarrow")
    _io.write_table(task, tmp_path / "rank.parquet")
    common = ["train-rank", str(tmp_path / "rank.parquet"), "--output-dir", str(tmp_path / "m"),
              "--features", "bsr,price", "--quiet"]  # fmt: skip
    assert cli.main([*common, "--num-boost-round", "0"]) == 2
    with pytest.raises(InvalidValueError, match="num_boost_round"):
        pipeline.train_rank(
            tmp_path / "rank.parquet", tmp_path / "m", features=["bsr"], num_boost_round=0
        )
    with pytest.raises(InvalidValueError, match="early_stopping_rounds: needs validation data"):
        pipeline.train_rank(tmp_path / "rank.parquet", tmp_path / "m", features=["bsr"],
                 early_stopping_rounds=5)  # fmt: skip
    assert not (tmp_path / "m").exists()


def test_csv_ids_keep_their_spelling_and_get_growthbooks_variant(tmp_path):
    (tmp_path / "ids.csv").write_text("user_id,spend\n007,1\n0042,2\n5,3\n-01,4\n")
    pipeline.assign(tmp_path / "ids.csv", tmp_path / "out.csv", experiment="e1",
                      variants=["a", "b"], id="user_id")  # fmt: skip
    out = _io.read_table(tmp_path / "out.csv")
    assert out["user_id"].to_pylist() == ["007", "0042", "5", "-01"]
    splitter = abtest.TrafficSplitter("e1", ["a", "b"])
    assert out["variant"].to_pylist() == list(splitter.assign(["007", "0042", "5", "-01"]))
    assert out["spend"].type == "int64"  # plain numbers are still numbers
    (tmp_path / "plain.csv").write_text("id\n7\n42\n")
    assert _io.read_table(tmp_path / "plain.csv")["id"].type == "int64"


@pytest.mark.parametrize("missing", [pd.NaT, np.datetime64("NaT"), None])
def test_nat_is_a_missing_time_online_as_in_batch(missing):
    with pytest.raises(InvalidValueError, match="time: a missing time"):
        features.SessionState().update(missing, "view", 1)
    events = pd.DataFrame({"visitorid": [1], "itemid": [2], "event": ["view"],
                           "timestamp": pd.to_datetime(["2024-01-01"])})  # fmt: skip
    if missing is not None:
        with pytest.raises(InvalidValueError, match="as_of: a missing time"):
            features.interaction_scores(events, as_of=missing)


@pytest.mark.parametrize("values", [
    pd.Series(pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-05"])),
    pd.Series(pd.to_timedelta([1, 2, 3], unit="s")),
    pd.Series(["1e3", "2", "3"]),
    ["1e3", 2.0, 3.0],
    np.array(["1", "2"]),
])  # fmt: skip
def test_times_and_numeric_text_are_not_read_as_numbers(values):
    with pytest.raises(InvalidTypeError, match="values: expected numeric values"):
        score.robust_zscore(values)
    with pytest.raises(InvalidTypeError, match="expected numeric values"):
        metrics.roc_auc([0, 1, 0][: len(values)] + [1] * (len(values) - 3), values)


def test_a_step_commits_all_its_outputs_or_none(tmp_path):
    pipeline.generate(tmp_path / "daily.parquet", n_asins=30, n_days=10)
    first = pipeline.score(tmp_path / "daily.parquet", tmp_path / "scores.parquet",
                      weights={"bsr": -1.0}, group_stats_output=tmp_path / "stats.csv")  # fmt: skip
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    (tmp_path / "blocked").write_text("a file where the second output's folder should be")
    with pytest.raises(OSError):
        pipeline.score(
            tmp_path / "daily.parquet",
            tmp_path / "scores.parquet",
            weights={"bsr": 1.0},
            group_stats_output=tmp_path / "blocked" / "stats.csv",
        )
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name != "blocked"}
    assert after == before  # the first output was not replaced; no temporary is left
    assert first["rows_out"] > 0


def test_stale_temporaries_of_killed_runs_are_removed_and_live_ones_kept(tmp_path):
    import os

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    stale = tmp_path / f".out.csv.{dead}.x1y2.tmp"
    live = tmp_path / f".out.csv.{os.getppid()}.z3.tmp"
    stale.write_text("half")
    live.write_text("half")
    _io.write_text("done", tmp_path / "out.csv")
    assert not stale.exists() and live.exists()
    assert (tmp_path / "out.csv").read_text() == "done"


def test_sigterm_during_a_write_leaves_no_temporary_and_no_output(tmp_path):
    import os
    import signal
    import time

    ecomkit = os.path.join(os.path.dirname(sys.executable), "ecomkit")
    process = subprocess.Popen([ecomkit, "generate", str(tmp_path / "big.csv"), "--n-asins",
                                "20000", "--n-days", "365", "--quiet"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".big.csv.*.tmp")) and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    if process.poll() is not None:
        pytest.skip("the write ended before the test could interrupt it")
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 128 + signal.SIGTERM
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("calendar", ["1M", "1MS", "3ME", "1Y", "1Q"])
def test_pandas_calendar_units_are_refused_not_read_as_minutes(calendar):
    daily = datasets.asin_daily(5, 20)
    with pytest.raises(InvalidValueError, match="is a calendar unit in pandas"):
        features.rolling(daily, "asin", "date", ["price"], windows=[calendar], stats=["mean"])
    assert features.rolling(daily, "asin", "date", ["price"], windows=["1min"], stats=["mean"]) \
        is not None  # fmt: skip


def test_timedelta64_durations_keep_their_nanoseconds():
    assert features._duration(np.timedelta64(1500, "ns"), "timeout") == "1500ns"
    assert features._duration(np.timedelta64(2, "h"), "timeout") == "7200000000000ns"
    with pytest.raises(InvalidValueError, match="timeout: a missing duration"):
        features._duration(np.timedelta64("NaT"), "timeout")


def test_categorical_encoder_treats_pandas_missing_values_as_missing():
    values = pd.Series([1, 2, None, 2], dtype="Int64")
    encoder = features.CategoricalEncoder().fit(values)
    assert encoder.categories_ == ["1", "2"]
    assert encoder.transform(values).tolist() == [1, 2, 0, 2]
    assert encoder.transform([1.0, 2.0, 3.0]).tolist() == [1, 2, 0]  # 1.0 is the category 1
    times = pd.Series(pd.to_datetime(["2024-01-01", None]))
    assert features.CategoricalEncoder().fit(times).categories_ == ["2024-01-01 00:00:00"]


def test_integers_beyond_the_cores_range_are_named_errors_not_overflows():
    frame = pd.DataFrame({"g": ["a", "b"], "x": [1.0, 2.0]})
    with pytest.raises(
        InvalidValueError, match="top_n: expected an integer <= 9223372036854775807"
    ):
        score.explosive_score(frame, {"x": 1.0}, by="g", top_n=2**64)
    with pytest.raises(InvalidValueError, match="seed: expected an integer <="):
        datasets.asin_daily(2, 2, seed=2**64)


def test_an_unwritable_output_is_one_line_without_a_traceback(capsys):
    assert cli.main(["generate", "/proc/1/no-such-folder/out.parquet", "--n-asins", "2",
                     "--n-days", "2"]) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert err.startswith("ecomkit generate: error: '/proc/1/no-such-folder'") and "Traceback" \
        not in err  # fmt: skip


def test_times_centuries_apart_do_not_wrap():
    """A 1677 sentinel beside 2024: 346 years of nanoseconds overflow int64 differences."""
    times = pd.Series([pd.Timestamp("1677-09-22"), pd.Timestamp("2024-01-01 10:00"),
                       pd.Timestamp("2024-01-01 10:10")], dtype="datetime64[ns]")  # fmt: skip
    events = pd.DataFrame({"visitorid": [1, 1, 1], "timestamp": times, "event": ["view"] * 3,
                           "itemid": [1, 1, 1]})  # fmt: skip
    sessions, _ = features.session_features(events)
    assert sessions["n_events"].tolist() == [1, 2]  # the sentinel is a session of its own
    assert sessions["duration_seconds"].tolist() == [0.0, 600.0]
    scores = features.interaction_scores(events, as_of=pd.Timestamp("2024-02-01"))["score"]
    assert np.isfinite(scores).all() and 0 < scores.iloc[0] < 3
    as_of = pd.DataFrame({"visitorid": [1], "timestamp": [pd.Timestamp("2024-02-01")]})
    purchases = events.assign(event=["transaction", "view", "view"])
    profile = features.user_features(purchases, as_of, value=None, category=None)
    days = profile.filter(like="days_since").iloc[0].dropna()
    assert (days > 0).all() and (days > 126_000).any()  # 346 years back, not negative


def test_nan_group_keys_are_a_group_in_the_ranking_report():
    frame = pd.DataFrame({"q": [1.0, 1.0, np.nan, np.nan], "y": [1, 0, 1, 0],
                          "s": [0.9, 0.1, 0.2, 0.8]})  # fmt: skip
    report = metrics.ranking_report(frame, "q", "y", "s", k=[1])
    assert report["recall"].tolist() == [0.5]  # group 1.0 finds its item, the NaN group not
    assert report.attrs["lift_curve"]["recall"].iloc[0] == 0.5


@pytest.mark.parametrize("column", [
    pd.Series([1.0, 2.0], name="x"), pl.Series("x", [1.0, 2.0]), pa.array([1.0, 2.0])
])  # fmt: skip
def test_a_column_passed_as_the_frame_is_a_named_error(column):
    with pytest.raises(InvalidTypeError, match="frame: expected a (DataFrame|table), got a"):
        score.explosive_score(column, {"x": 1.0})


def test_names_that_would_duplicate_an_output_column_are_refused():
    times = pd.Series(pd.to_datetime(["2024-01-01 00:00", "2024-01-01 00:10"]))
    events = pd.DataFrame({"start": [1, 1], "timestamp": times, "event": ["view", "events"],
                           "itemid": [1, 2]})  # fmt: skip
    with pytest.raises(InvalidValueError, match="user: the user column 'start' has the name"):
        features.session_features(events, user="start")
    renamed = events.rename(columns={"start": "visitorid"})
    with pytest.raises(InvalidValueError, match="view: the event name 'events' would make"):
        features.session_features(renamed, view="events")
    with pytest.raises(InvalidValueError, match="view: the event name 'events' would make"):
        features.SessionState(view="events")  # online as in batch
    with pytest.raises(InvalidValueError, match="purchase: the event name 'view'"):
        features.SessionState(purchase="view")


def test_the_demo_runs_on_a_single_day(tmp_path):
    assert cli.main(["demo", "--out", str(tmp_path), "--n-days", "1", "--n-asins", "200",
                     "--quiet"]) == 0  # fmt: skip
    assert (tmp_path / "summary.md").stat().st_size > 0


def test_welch_degrees_of_freedom_do_not_overflow_for_huge_values():
    import scipy.stats

    x, y = np.array([1e80, 1, 2, 3, 4.0]), np.array([5, 6, 7, 8, 9.0])
    frame = pd.DataFrame({"variant": ["control"] * 5 + ["treatment"] * 5,
                          "x": np.r_[x, y]})  # fmt: skip
    row = abtest.evaluate_experiment(frame, "variant", {"x": "x"}, "control").to_dataframe()
    # scipy squares 1e159 to infinity here (p = 0.5 with df = 1); the same data scaled down
    # gives the right answer, and the test is scale-free.
    expected = scipy.stats.ttest_ind(y / 1e70, x / 1e70, equal_var=False)
    assert row["p_value"].iloc[0] == pytest.approx(expected.pvalue, rel=1e-12)


def test_an_all_null_polars_column_is_read_as_missing_values():
    frame = pl.DataFrame({"g": ["a", "b"], "x": [None, None], "y": [1.0, 2.0]})
    scored = score.explosive_score(frame, {"x": 1.0, "y": 1.0}, by="g")
    assert scored["z_x"].null_count() == 2 and scored["rank"].to_list() == [1, 1]


def test_messages_name_the_argument_as_the_caller_spelled_it():
    with pytest.raises(InvalidValueError, match=r"^y_prob: expected probabilities"):
        metrics.log_loss([0, 1], [0.5, 1.5])
    with pytest.raises(InvalidValueError, match=r"^y_prob: expected length 2"):
        metrics.brier_score([0, 1], [0.5])
    with pytest.raises(InvalidValueError, match=r"^y_score: expected length 2"):
        metrics.roc_auc([0, 1], [0.5])
    x = np.zeros((4, 2))
    with pytest.raises(InvalidValueError, match=r"^y: expected finite labels"):
        rank.train_binary(x, [0, 1, np.nan, 0], num_boost_round=2, verbose=False)
    with pytest.raises(InvalidValueError, match=r"^valid y: expected finite labels"):
        rank.train_binary(x, [0, 1, 1, 0], num_boost_round=2, verbose=False,
                          valid=(x, [0, np.inf, 1, 0]))  # fmt: skip


def test_a_lone_surrogate_id_is_a_named_error():
    splitter = abtest.TrafficSplitter("e", ["a", "b"])
    with pytest.raises(InvalidValueError, match="ids: a value is not valid Unicode"):
        splitter.assign(["ok", "\ud800x"])
    with pytest.raises(InvalidValueError, match="values: a value is not valid Unicode"):
        abtest.hash("e", "\ud800")
    with pytest.raises(InvalidValueError, match="seed: a value is not valid Unicode"):
        abtest.hash("\udfff", "a")


def test_non_string_pandas_labels_are_found_by_their_text():
    frame = pd.DataFrame({0: ["a", "b", "a"], 1: [1.0, 2.0, 3.0]})
    scored = score.explosive_score(frame, {"1": 1.0}, by="0")
    assert scored["rank"].tolist() == [2, 1, 1]
    with pytest.raises(InvalidValueError, match="frame: has duplicate column names"):
        score.explosive_score(pd.DataFrame([[1.0, 2.0]], columns=["x", "x"]), {"x": 1.0})


@pytest.mark.parametrize("scale", [1e160, 1e300, 1e-170, 1e-300])
def test_rolling_statistics_of_extreme_values_are_those_of_the_values_scaled(scale):
    # Squares of 1e160 overflow and those of 1e-170 vanish: the kernel scans such a column
    # scaled by a power of two. pandas gives inf (and 0.0) for these std values.
    stats = list(features.STATS)
    frame = pd.DataFrame({"e": list("aaaab"), "x": np.array([1.0, 3.0, 2.0, 7.0, 5.0]),
                          "t": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03",
                                               "2024-01-05", "2024-01-01"])})  # fmt: skip
    plain = features.rolling(frame, "e", "t", "x", windows="3d", stats=stats)
    scaled = features.rolling(frame.assign(x=frame.x * scale), "e", "t", "x", windows="3d",
                              stats=stats)  # fmt: skip
    for stat in stats:
        column = f"x_{stat}_3d"
        unit = 1.0 if stat in ("count", "pct_change") else scale
        np.testing.assert_allclose(scaled[column], plain[column] * unit, rtol=1e-14,
                                   err_msg=column)  # fmt: skip
    assert scaled["x_std_3d"].iloc[1] == pytest.approx(np.sqrt(2) * scale, rel=1e-15)


@pytest.mark.parametrize("scale", [1e160, 1e-160, 1e-170])
def test_a_metric_whose_squares_leave_float64_gets_a_note_not_a_wrong_p_value(scale):
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(10, 2, 50), rng.normal(11, 2, 50)] * scale
    frame = pd.DataFrame({"variant": ["control"] * 50 + ["treatment"] * 50, "x": x})
    row = abtest.evaluate_experiment(frame, "variant", {"x": "x"}, "control").to_dataframe()
    assert np.isnan(row["p_value"].iloc[0]) and np.isnan(row["ci_low"].iloc[0])
    assert "outside float64's range" in row["note"].iloc[0]
    assert row["value"].iloc[0] == pytest.approx(frame.x[50:].mean(), rel=1e-12)


def test_an_infinite_sum_in_an_uplift_summary_is_refused():
    summary = pd.DataFrame({"variant": ["control", "treatment"], "impressions": [10, 10],
                            "clicks": [5, 6], "conversions": [1, 2], "gmv": [25.0, 33.0],
                            "gmv_sq": [np.inf, 700.0], "spend": [10.0, 10.0]})  # fmt: skip
    with pytest.raises(InvalidValueError, match="'gmv_sq' has a missing or infinite value"):
        abtest.evaluate_uplift(summary)


# Found by the property tests (test_properties.py):


def test_an_all_missing_dictionary_column_is_read_as_missing_values():
    # pyarrow's dictionary_encode of nulls has an empty dictionary; arrow-rs panicked on it.
    empty = pa.array([None, None], pa.string()).dictionary_encode()
    assert len(empty.dictionary) == 0
    events = pa.table({"u": ["a", "a"], "i": [1, 2], "e": empty,
                       "t": pa.array([0, 1], pa.timestamp("s"))})  # fmt: skip
    scores = features.interaction_scores(events, user="u", item="i", time="t", event="e")
    assert scores.column("score").to_pylist() == [0.0, 0.0]
    assert np.isnan(abtest.hash("seed", empty)).all()
    assert score.robust_zscore([1.0, 2.0], empty).tolist() == [-0.6744897501960817,
                                                                0.6744897501960817]  # fmt: skip


def test_string_view_columns_are_split_and_taken():
    frame = pa.table({"t": pa.array([3, 1, 2], pa.timestamp("s")),
                      "u": pa.array(["c", "a", "b"], pa.string_view())})  # fmt: skip
    first, second = features.temporal_split(frame, "t", (0.5, 0.5))
    assert first.column("u").to_pylist() == ["a", "b"]
    assert second.column("u").to_pylist() == ["c"]
    assert first.schema == frame.schema == second.schema


def test_as_of_keys_of_another_string_kind_match_the_events():
    events = pa.table({"u": pa.array(["a"], pa.large_string()), "e": ["transaction"],
                       "t": pa.array([0], pa.timestamp("s")), "p": [5.0]})  # fmt: skip
    for keys in (pa.array(["a"]), pa.array(["a"]).dictionary_encode(),
                 pa.array(["a"], pa.string_view())):  # fmt: skip
        as_of = pa.table({"u": keys, "t": pa.array([10], pa.timestamp("s"))})
        out = features.user_features(events, as_of, user="u", time="t", event="e", value="p",
                                     category=None)  # fmt: skip
        assert out.column("lifetime_purchases").to_pylist() == [1.0]
    with pytest.raises(InvalidTypeError, match="as_of"):  # "007" is not 7
        features.user_features(events, pa.table({"u": [7], "t": pa.array([10], pa.timestamp("s"))}),
                               user="u", time="t", event="e", value="p", category=None)  # fmt: skip


def test_arrow_integers_beyond_2_53_are_rounded_like_pandas():
    big = [2**62, -(2**63), 1, 5]
    assert np.array_equal(score.robust_zscore(pa.array(big)), score.robust_zscore(pd.Series(big)))


def test_structurally_bad_trees_are_a_named_error_never_a_segfault(model_text):
    broken = {
        "num_leaves=abc": model_text.replace("num_leaves=4", "num_leaves=abc", 1),
        "loop": model_text.replace("left_child=1 -1 -2", "left_child=0 -1 -2", 1),
        "feature": model_text.replace("split_feature=0", "split_feature=99", 1),
        "short": model_text.replace("right_child=2 -3 -4", "right_child=2 -3", 1),
        "twice": model_text.replace("num_cat=0", "num_cat=0\nnum_cat=0", 1),
    }
    assert all(text != model_text for text in broken.values())
    done = run_isolated(f"""
        import numpy as np
        from ecomkit import rank
        from ecomkit.errors import InvalidValueError
        for name, text in {broken!r}.items():
            try:
                rank.Model(text).predict(np.zeros((2, 4)))
                print(name, "loaded")
            except InvalidValueError as error:
                print(name, "refused", "not a complete LightGBM model text" in str(error))
    """)
    assert done.returncode == 0, done.stderr[-2000:]
    ours = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert set(ours.values()) == {"refused True"}, ours
