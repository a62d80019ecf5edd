"""The ecomkit command and its run() helpers: settings, atomic outputs, exit codes."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv  # noqa: F401  (pa.csv)
import pyarrow.parquet as pq
import pytest

from ecomkit import _io, abtest, cli, datasets, demo, pipeline
from ecomkit import score as score_step
from ecomkit.cli import main


@pytest.fixture
def daily_file(tmp_path: Path) -> Path:
    path = tmp_path / "daily.parquet"
    pipeline.generate(path, n_asins=300, n_days=30, seed=1)
    return path


def test_score_with_flags(daily_file, tmp_path, capsys):
    out = tmp_path / "scores.parquet"
    stats = tmp_path / "stats.csv"
    code = main(
        [
            "score",
            str(daily_file),
            "--output",
            str(out),
            "--weights",
            "bsr=-1,review_count=0.5",
            "--by",
            "site,category",
            "--top-n",
            "3",
            "--group-stats",
            str(stats),
        ]
    )
    assert code == 0
    table = pq.read_table(out)
    assert max(table["rank"].to_pylist()) <= 3
    assert {"z_bsr", "z_review_count", "explosive_score"} <= set(table.column_names)
    assert stats.is_file()
    assert '"rows_out"' in capsys.readouterr().out


@pytest.mark.parametrize("suffix", [".toml", ".yaml"])
def test_settings_file_and_flag_override(daily_file, tmp_path, suffix):
    config = tmp_path / f"settings{suffix}"
    if suffix == ".toml":
        config.write_text('[score]\nweights = { bsr = -1.0 }\nby = ["site"]\ntop_n = 2\n')
    else:
        config.write_text("score:\n  weights: {bsr: -1.0}\n  by: [site]\n  top_n: 2\n")
    out = tmp_path / "scores.csv"
    summary = score_step.run(daily_file, out, config=config)
    assert summary["rows_out"] == 2 * 4  # four sites
    summary = score_step.run(daily_file, out, config=config, top_n=1)
    assert summary["rows_out"] == 4


def test_bad_column_exits_2_and_leaves_previous_output(daily_file, tmp_path, capsys):
    out = tmp_path / "scores.parquet"
    out.write_bytes(b"previous good output")
    code = main(["score", str(daily_file), "--output", str(out), "--weights", "nope=1"])
    assert code == 2
    assert "weights: column 'nope' not found" in capsys.readouterr().err
    assert out.read_bytes() == b"previous good output"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["daily.parquet", "scores.parquet"]


def test_failed_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "out.parquet"
    target.write_bytes(b"old")

    def explode(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        _io.atomic_write(target, explode)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]


def test_write_table_round_trips_every_format(tmp_path):
    table = pa.table({"a": [1, 2], "b": ["x", "y"]})
    for suffix in (".parquet", ".csv", ".feather"):
        path = _io.write_table(table, tmp_path / f"t{suffix}")
        assert _io.read_table(path).column("a").to_pylist() == [1, 2]


def test_demo_writes_its_artefacts(tmp_path):
    summary = demo.run(tmp_path / "demo", n_asins=400, n_days=60)
    names = sorted(p.name for p in (tmp_path / "demo").iterdir())
    assert names == [
        "group_stats.csv",
        "group_stats.png",
        "monitoring",
        "rank",
        "scores.parquet",
        "sessions.parquet",
        "summary.md",
        "top_candidates_20240229.csv",
        "uplift.csv",
        "uplift.md",
        "uplift.png",
        "user_features.parquet",
    ]
    assert summary["exploding_found"] == summary["exploding_total"]
    text = (tmp_path / "demo" / "summary.md").read_text()
    assert "explosive score" in text and "uplift report" in text
    assert "Click-stream sessions" in text and summary["sessions"]["sessions"] > 0
    # The report recovers the known true lift of the synthetic experiment.
    assert summary["experiment"]["recovered"] == {"converted": True, "ctr": True}
    ranked = sorted(p.name for p in (tmp_path / "demo" / "rank").iterdir())
    assert ranked == ["calibration.png", "lift_curve.csv", "lift_curve.png", "metrics.csv",
                      "model.txt", "ranking_report.png"]  # fmt: skip
    assert 0 < summary["ranking"]["recall_at_10"] <= 1
    # The monitoring step finds the drift and the defects it injected, and cleans them.
    watched = summary["monitoring"]
    assert watched["dataset_drift"] and set(watched["drifted_columns"]) == {"price", "categoryid"}
    assert not watched["validation_passed"] and watched["dropped"] == {"bot": 120, "duplicate": 15}
    quality = pa.csv.read_csv(tmp_path / "demo" / "monitoring" / "quality.csv").to_pylist()
    failed = {(r["rule"], r["n_failed"]) for r in quality if not r["passed"]}
    assert failed == {("not_null", 10), ("min", 10), ("in", 5), ("unique", 15), ("ordered", 10)}
    assert "Monitoring: drift and data quality" in text


def test_console_script_runs(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ecomkit.cli",
            "generate",
            str(tmp_path / "d.csv"),
            "--n-asins",
            "5",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "d.csv").is_file()


def test_assign_and_uplift_steps(tmp_path, capsys):
    units = datasets.experiment_units(20_000, seed=3, backend="pyarrow")
    ids = tmp_path / "users.parquet"
    pq.write_table(units.drop_columns(["variant"]), ids)
    settings = tmp_path / "ab.toml"
    settings.write_text(
        '[split]\nexperiment = "demo-ranker"\nvariants = ["control", "treatment"]\n'
        'id = "user_id"\n\n[uplift]\nmetrics = ["converted", "gmv"]\n'
        'covariates = "pre_spend"\ncorrection = "holm"\n'
    )
    assigned = tmp_path / "assigned.parquet"
    assert main(["assign", str(ids), "--output", str(assigned), "--config", str(settings)]) == 0
    table = pq.read_table(assigned)
    # Same hash, same experiment key: the generator's own assignment is reproduced.
    assert table["variant"].to_pylist() == units["variant"].to_pylist()
    assert main(["uplift", str(assigned), "--output-dir", str(tmp_path / "report"),
                 "--config", str(settings)]) == 0  # fmt: skip
    report = pa.csv.read_csv(tmp_path / "report" / "uplift.csv")
    assert report["metric"].to_pylist() == ["converted", "gmv"]
    assert report["test"].to_pylist() == ["welch_t_cuped"] * 2
    assert (tmp_path / "report" / "uplift.md").read_text().startswith("Control: `control`")
    capsys.readouterr()
    # Bad input: exit code 2 and a message naming the argument; no output left behind.
    assert main(["uplift", str(assigned), "--output-dir", str(tmp_path / "bad"),
                 "--metrics", "nope"]) == 2  # fmt: skip
    assert "metrics: column 'nope' not found" in capsys.readouterr().err
    assert not (tmp_path / "bad" / "uplift.csv").exists()
    assert main(["assign", str(ids), "--output", str(tmp_path / "x.parquet"),
                 "--experiment", "e", "--variants", "a,b", "--weights", "0.7,0.6",
                 "--id", "user_id"]) == 2  # fmt: skip
    assert not (tmp_path / "x.parquet").exists()


def test_uplift_step_on_a_summary_frame(tmp_path):
    summary = pa.table({"variant": ["control", "treatment"], "impressions": [1000, 1000],
                        "clicks": [50, 70], "conversions": [5, 9], "gmv": [100.0, 150.0],
                        "spend": [40.0, 40.0]})  # fmt: skip
    pa.csv.write_csv(summary, tmp_path / "summary.csv")

    out = pipeline.uplift(tmp_path / "summary.csv", tmp_path / "report")
    assert out["rows"] == 4
    assert json.loads((tmp_path / "report" / "uplift.json").read_text())["control"] == "control"


def test_flags_are_named_as_the_run_arguments_and_old_spellings_still_work(tmp_path, capsys):
    pipeline.generate(tmp_path / "events.parquet", dataset="clickstream", n_users=50, n_days=2)
    assert cli.main(["sessions", str(tmp_path / "events.parquet"), "--output",
                     str(tmp_path / "a.parquet"), "--user", "visitorid", "--time", "timestamp",
                     "--quiet"]) == 0  # fmt: skip
    assert "deprecated" not in capsys.readouterr().err
    assert cli.main(["sessions", str(tmp_path / "events.parquet"), "--output",
                     str(tmp_path / "b.parquet"), "--user-col", "visitorid"]) == 0  # fmt: skip
    assert "ecomkit: --user-col is deprecated; use --user" in capsys.readouterr().err
    assert _io.read_table(tmp_path / "a.parquet").equals(_io.read_table(tmp_path / "b.parquet"))
    # assign: --id (was --id-col), and the settings key id (was id_col).
    pq.write_table(pa.table({"user_id": ["u1", "u2", "u3"]}), tmp_path / "ids.parquet")
    flags = ["assign", str(tmp_path / "ids.parquet"), "--experiment", "e", "--variants", "a,b"]
    assert cli.main([*flags, "--output", str(tmp_path / "c.parquet"), "--id", "user_id"]) == 0
    assert cli.main([*flags, "--output", str(tmp_path / "d.parquet"), "--id-col", "user_id"]) == 0
    assert "ecomkit: --id-col is deprecated; use --id" in capsys.readouterr().err
    (tmp_path / "old.toml").write_text('[split]\nid_col = "user_id"\n')
    with pytest.warns(DeprecationWarning, match="settings: 'id_col' is deprecated; use 'id'"):
        assert cli.main([*flags, "--output", str(tmp_path / "e.parquet"),
                         "--config", str(tmp_path / "old.toml")]) == 0  # fmt: skip
    with pytest.warns(DeprecationWarning, match="assign: 'id_col' is deprecated"):
        pipeline.assign(tmp_path / "ids.parquet", tmp_path / "f.parquet", experiment="e",
                          variants=["a", "b"], id_col="user_id")  # fmt: skip
    tables = [_io.read_table(tmp_path / f"{n}.parquet") for n in "cdef"]
    assert all(t.equals(tables[0]) for t in tables)


def test_old_step_names_still_work_with_a_deprecation_warning(tmp_path):
    from ecomkit import features, rank

    with pytest.warns(
        DeprecationWarning,
        match=r"ecomkit\.datasets\.run is deprecated; use ecomkit\.pipeline\.generate",
    ):
        summary = datasets.run(tmp_path / "daily.parquet", n_asins=5, n_days=3)
    again = pipeline.generate(tmp_path / "again.parquet", n_asins=5, n_days=3)
    assert summary["rows"] == again["rows"]
    with pytest.warns(DeprecationWarning, match=r"use ecomkit\.pipeline\.score"):
        score_step.run(tmp_path / "daily.parquet", tmp_path / "s.csv", weights={"bsr": -1.0})
    old = [features.run_asin_features, features.run_sessions, abtest.run_assign,
           abtest.run_uplift, rank.run]  # fmt: skip
    new = ["features", "sessions", "assign", "uplift", "train_rank"]
    for alias, name in zip(old, new, strict=True):
        assert f"ecomkit.pipeline.{name}" in alias.__doc__
        assert callable(getattr(pipeline, name))


def test_every_flag_is_an_argument_of_its_step_function():
    # The CLI passes each flag to the step function under its dest: a dest that is not an
    # argument would be dropped silently.
    import inspect

    parser = cli.build_parser()
    (steps,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for name, step in steps.choices.items():
        parameters = inspect.signature(cli._step_function(name)).parameters
        dests = {a.dest for a in step._actions} - {"help", "quiet"}
        assert dests <= set(parameters), (name, dests - set(parameters))


def test_drift_step_writes_reports_and_fails_on_drift_when_asked(tmp_path, capsys):
    clicks = datasets.clickstream(300, 14, seed=4, backend="pyarrow")
    week = pa.compute.less(
        clicks["timestamp"],
        pa.scalar(clicks["timestamp"][0].value + 7 * 86400_000, clicks["timestamp"].type),
    )
    pq.write_table(clicks.filter(week), tmp_path / "reference.parquet")
    later = clicks.filter(pa.compute.invert(week))
    pq.write_table(later, tmp_path / "current.parquet")
    args = ["drift", str(tmp_path / "reference.parquet"), str(tmp_path / "current.parquet"),
            "--columns", "event,price,categoryid"]  # fmt: skip
    assert main([*args, "--output-dir", str(tmp_path / "same")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["columns"] == 3
    report = pa.csv.read_csv(tmp_path / "same" / "drift.csv")
    assert report["column"].to_pylist() == ["event", "price", "categoryid"]
    assert (
        json.loads((tmp_path / "same" / "drift.json").read_text())["rows"][0]["column"] == "event"
    )
    # A shifted price drifts; with --fail-on-drift that is exit 1, the reports written first.
    shifted = later.set_column(later.schema.get_field_index("price"), "price",
                               pa.compute.multiply(later["price"], 3.0))  # fmt: skip
    pq.write_table(shifted, tmp_path / "current.parquet")
    assert main([*args, "--output-dir", str(tmp_path / "drifted"), "--drift-share", "0.3",
                 "--fail-on-drift"]) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert "ecomkit drift: error:" in err and "dataset drift [price" in err
    assert (tmp_path / "drifted" / "drift.md").read_text().startswith("1 of 3 columns drifted")
    assert main([*args[:3], "--output-dir", str(tmp_path / "bad"), "--columns", "nope"]) == 2
    assert "column 'nope' not found" in capsys.readouterr().err
    assert not (tmp_path / "bad" / "drift.csv").exists()


def test_validate_step_exits_1_with_the_failures_on_stderr(daily_file, tmp_path, capsys):
    rules = tmp_path / "rules.toml"
    rules.write_text('[validate.columns.asin]\nnot_null = true\n\n[validate.columns.price]\n'
                     'min = 0.0\n\n[validate]\nunique = [["asin", "date"]]\n'
                     'references = { asin = "catalog.asin" }\n')  # fmt: skip
    catalog = tmp_path / "catalog.csv"
    daily = pq.read_table(daily_file)
    pa.csv.write_csv(pa.table({"asin": pa.compute.unique(daily["asin"])}), catalog)
    args = ["validate", str(daily_file), "--rules", str(rules), "--references",
            f"catalog={catalog}"]  # fmt: skip
    assert main([*args, "--output-dir", str(tmp_path / "ok")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["passed"] is True and summary["rules"] == 4
    assert {p.name for p in (tmp_path / "ok").iterdir()} >= {"quality.csv", "quality.md",
                                                              "quality.json"}  # fmt: skip
    # Inject defects: a null asin, a negative price, a repeated row.
    bad = pa.concat_tables([daily, daily.slice(0, 1)]).to_pandas()
    bad.loc[3, "asin"] = None
    bad.loc[5, "price"] = -1.0
    bad_file = tmp_path / "bad.parquet"
    bad.to_parquet(bad_file)
    args[1] = str(bad_file)
    assert main([*args, "--output-dir", str(tmp_path / "failed")]) == 1
    err = capsys.readouterr().err
    # (a null key is not a dangling reference: not_null counts it)
    assert err.startswith("ecomkit validate: error: 3 of 4 rules failed")
    assert "  min price: 1 rows below 0" in err
    report = pa.csv.read_csv(tmp_path / "failed" / "quality.csv")
    assert report["n_failed"].to_pylist() == [1, 1, 1, 0]
    assert report["examples"].to_pylist()[1] in ("5", 5)  # CSV reads one number as a number
    # A rule of the wrong type: exit 2, naming it; no report.
    rules.write_text('[validate.columns.price]\nmin = "zero"\n')
    assert main([*args, "--output-dir", str(tmp_path / "typo")]) == 2
    assert "rules.columns.price.min: expected a number, got text" in capsys.readouterr().err
    assert not (tmp_path / "typo").exists()
