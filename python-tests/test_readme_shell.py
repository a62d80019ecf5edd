"""README's command-line sequence runs as written, in a temporary folder."""

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def shell_blocks() -> list[str]:
    """The README's ```bash blocks of ecomkit commands (not the make targets)."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    return [b for b in blocks if b.lstrip().startswith("ecomkit ")]


def test_readme_command_line_sequence_runs_as_written(tmp_path):
    (blocks,) = shell_blocks()
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    ecomkit = str(Path(sys.executable).with_name("ecomkit"))
    for command in blocks.replace("\\\n", " ").splitlines():
        if not command.strip():
            continue
        argv = shlex.split(command)
        assert argv[0] == "ecomkit"
        done = subprocess.run([ecomkit, *argv[1:]], cwd=tmp_path, capture_output=True,
                              text=True)  # fmt: skip
        assert done.returncode == 0, f"{command}\n{done.stderr}"
    for made in ("daily.parquet", "features.parquet", "scores.parquet", "group_stats.csv",
                 "sessions.parquet", "assigned.parquet", "report/uplift.csv",
                 "model/model.txt", "model/metrics.json", "quality/quality.md",
                 "drift/drift.csv", "ecomkit-demo/summary.md"):  # fmt: skip
        assert (tmp_path / made).stat().st_size > 0, made
    shutil.rmtree(tmp_path / "ecomkit-demo")


def test_score_latest_per_scores_each_products_latest_day(tmp_path):
    import pyarrow.parquet as pq

    from ecomkit import pipeline

    pipeline.generate(tmp_path / "daily.parquet", n_asins=60, n_days=30)
    pipeline.features(tmp_path / "daily.parquet", tmp_path / "features.parquet")
    summary = pipeline.score(tmp_path / "features.parquet", tmp_path / "scores.parquet",
                        weights={"bsr_trend_7d": -1.0}, by=["site"], top_n=3,
                        latest_per="asin", time="date")  # fmt: skip
    scored = pq.read_table(tmp_path / "scores.parquet").to_pandas()
    daily = pq.read_table(tmp_path / "features.parquet").to_pandas()
    latest = daily.sort_values("date").groupby("asin").tail(1)
    assert summary["rows_in"] == len(latest) == 60
    assert scored["asin"].is_unique
    merged = scored.merge(latest[["asin", "date"]], on="asin", suffixes=("", "_latest"))
    assert (merged["date"] == merged["date_latest"]).all()
    assert len(scored) == 3 * daily["site"].nunique()
