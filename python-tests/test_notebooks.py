"""What notebooks and logs show: pictures, reprs, HTML, progress."""

import io

import numpy as np
import pytest

from ecomkit import _progress, abtest, datasets, features, metrics, plots, rank, score

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


def labels_of(fig):
    return [(ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) for ax in fig.axes]


def assert_png(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000


def test_every_plot_is_written_with_labelled_axes(tmp_path):
    units = datasets.experiment_units(20_000, seed=1)
    report = abtest.evaluate_experiment(units, "variant", {"converted": "converted",
                                        "gmv": "gmv"}, "control")  # fmt: skip
    task = datasets.ranking(300, 40, seed=1)
    ranking = metrics.ranking_report(task, "group", "label", "explosive_score", k=(1, 3),
                                     baseline="popularity")  # fmt: skip
    rng = np.random.default_rng(0)
    prob = rng.uniform(size=2000)
    curve = metrics.calibration_curve((rng.uniform(size=2000) < prob).astype(int), prob)
    figures = {
        "uplift": report.plot(tmp_path / "uplift.png"),
        "ranking": metrics.plot_ranking_report(ranking, tmp_path / "ranking.png"),
        "lift": metrics.plot_lift_curve(ranking.attrs["lift_curve"], tmp_path / "lift.png"),
        "calibration": metrics.plot_calibration(curve, tmp_path / "calibration.png"),
        "group_stats": score.plot_group_stats(
            task, ["site", "category"], path=tmp_path / "group_stats.png"
        ),  # fmt: skip
    }
    for name, fig in figures.items():
        assert_png(tmp_path / f"{name}.png")
        for xlabel, ylabel, title in labels_of(fig):
            assert xlabel and title, name
            assert ylabel or name in ("uplift",), name  # the uplift rows are labelled ticks
    assert "relative lift over control" in labels_of(figures["uplift"])[0][0]
    assert [t.get_text() for t in figures["uplift"].axes[0].get_yticklabels()] == [
        "converted (treatment)", "gmv (treatment)"]  # fmt: skip


def test_plots_need_matplotlib_with_a_clear_error(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"needs matplotlib.*pip install 'ecomkit\[plot\]'"):
        plots.lift_curve({"fraction": [0.5], "recall": [1.0]})


def test_the_demo_writes_pictures_and_links_them(tmp_path):
    from ecomkit import demo

    summary = demo.run(tmp_path)  # the defaults of `make demo`
    text = (tmp_path / "summary.md").read_text()
    for picture in ("group_stats.png", "uplift.png", "rank/lift_curve.png",
                    "rank/ranking_report.png", "rank/calibration.png", "monitoring/drift.png",
                    "monitoring/quality.png"):  # fmt: skip
        assert_png(tmp_path / picture)
        assert f"]({picture})" in text, picture
    ranking = summary["ranking"]
    assert ranking["recall_at_10"] > 1.5 * ranking["baseline_recall_at_10"]  # beats popularity


def test_every_public_object_has_a_readable_repr():
    units = datasets.experiment_units(2000, seed=1)
    aggregates = abtest.aggregate(units, "variant", {"converted": "converted"})
    x = np.random.default_rng(0).normal(size=(200, 3))
    model = rank.train_binary(x, (x[:, 0] > 0).astype(float), num_boost_round=3, verbose=False)
    shown = {
        "ExperimentAggregates": repr(aggregates),
        "SessionState": repr(features.SessionState(timeout="15m")),
        "UpliftEvaluator": repr(abtest.UpliftEvaluator()),
        "CategoricalEncoder": repr(features.CategoricalEncoder().fit(["a", "b"])),
        "IsotonicCalibrator": repr(metrics.IsotonicCalibrator()),
        "Model": repr(model),
        "TrafficSplitter": repr(abtest.TrafficSplitter("e", ["a", "b"])),
    }
    for name, text in shown.items():
        assert text.startswith(name) and " at 0x" not in text, text
    assert "units={'control'" in shown["ExperimentAggregates"]
    assert "timeout='15m'" in shown["SessionState"]
    assert "n_categories=2" in shown["CategoricalEncoder"]
    assert "objective='binary sigmoid:1'" in shown["Model"] and "trees=3" in shown["Model"]
    assert "<table>" in aggregates._repr_html_() and "<table>" in model._repr_html_()
    report = aggregates.evaluate("control")
    assert "<table>" in report._repr_html_()


def test_progress_is_a_line_every_tenth_in_logs_and_silent_when_quiet(monkeypatch):
    log = io.StringIO()
    progress = _progress.Progress(50, "training LambdaRank", stream=log, verbose=True, delay=0)
    for done in range(1, 51):
        progress(done)
    lines = log.getvalue().splitlines()
    assert len(lines) == 10 and lines[0].startswith("ecomkit: training LambdaRank: 5/50 (10%)")
    assert lines[-1].startswith("ecomkit: training LambdaRank: 50/50 (100%)")
    quiet = io.StringIO()
    _progress.Progress(50, "x", stream=quiet, verbose=False)(50)
    monkeypatch.setenv("ECOMKIT_QUIET", "1")
    _progress.Progress(50, "x", stream=quiet)(50)
    assert quiet.getvalue() == ""
    quick = io.StringIO()
    _progress.Progress(50, "x", stream=quick, verbose=True, delay=60)(50)
    assert quick.getvalue() == ""  # work quicker than the delay stays silent


def test_a_terminal_gets_one_bar_redrawn_in_place():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    progress = _progress.Progress(4, "training", stream=screen, verbose=True, delay=0)
    for done in range(1, 5):
        progress(done)
    assert screen.getvalue().count("\r") == 4 and screen.getvalue().endswith("\n")
    assert "[" + "#" * 30 + "] 4/4" in screen.getvalue()


def test_training_reports_its_rounds_and_quiet_silences_them(capfd, monkeypatch):
    monkeypatch.setattr(_progress, "DELAY", 0.0)
    x = np.random.default_rng(0).normal(size=(300, 3))
    y = (x[:, 0] > 0).astype(float)
    rank.train_lambdarank(x, y, group=np.full(30, 10, np.int32), num_boost_round=20)
    assert "ecomkit: training LambdaRank: 20/20 (100%)" in capfd.readouterr().err
    rank.train_lambdarank(x, y, group=np.full(30, 10, np.int32), num_boost_round=20,
                          verbose=False)  # fmt: skip
    assert capfd.readouterr().err == ""


def test_an_exception_in_the_progress_callback_stops_training():
    from ecomkit import _ecomkit

    x = np.random.default_rng(0).normal(size=(300, 3))
    y = (x[:, 0] > 0).astype(float)

    def interrupt(done):
        if done == 3:
            raise KeyboardInterrupt

    rank._lightgbm()
    with pytest.raises(KeyboardInterrupt):
        _ecomkit.lgbm_train(x, y, None, "objective=binary verbosity=-1", 50, None, None, interrupt)
