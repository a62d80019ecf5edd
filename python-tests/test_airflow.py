"""examples/airflow/ecomkit_daily.py under real Apache Airflow, against a real PostgreSQL.

`make test` builds ecomkit's wheel, installs it with Airflow into a virtualenv of their
own (`.venv-airflow`, no pandas) and names that virtualenv in ECOMKIT_AIRFLOW_VENV; the
test then runs ``airflow dags test ecomkit_daily 2024-01-01`` with SQLite metadata in a
temporary AIRFLOW_HOME and checks what the DAG wrote into PostgreSQL.
"""

import os
import subprocess
from pathlib import Path

import pytest

from ecomkit import _io

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def airflow_bin() -> Path:
    venv = os.environ.get("ECOMKIT_AIRFLOW_VENV")
    if not venv:
        pytest.skip("ECOMKIT_AIRFLOW_VENV is not set (make test-airflow sets it up)")
    return Path(venv) / "bin"


def test_the_daily_dag_runs_under_airflow_against_postgresql(airflow_bin, postgres_uri, tmp_path):
    home = tmp_path / "airflow"
    env = {
        **{k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"},
        "PATH": f"{airflow_bin}:{os.environ['PATH']}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "examples" / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "ECOMKIT_DB_URI": postgres_uri,
        "ECOMKIT_DATA_DIR": str(tmp_path / "data"),
    }
    airflow = str(airflow_bin / "airflow")
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
    done = subprocess.run([airflow, "dags", "test", "ecomkit_daily", "2024-01-01"], env=env,
                          capture_output=True, text=True)  # fmt: skip
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-5000:]
    for task in ("load_sources", "features", "explosive_score", "top_candidates", "sessions",
                 "assign", "uplift", "train_rank"):  # fmt: skip
        assert f"Marking task as SUCCESS. dag_id=ecomkit_daily, task_id={task}," in log, task
    assert "ecomkit-test" not in log  # the database password never reaches the task logs

    scores = _io.read_table(f"{postgres_uri}#score_baseline_daily")
    features = _io.read_table(f"{postgres_uri}#features_daily")
    assert scores.num_rows == len(set(features["asin"].to_pylist())) == 2000  # latest day each
    assert {"explosive_score", "rank", "asin", "date"} <= set(scores.column_names)
    top = _io.read_table(f"{postgres_uri}#top_candidates_daily")
    groups = set(zip(scores["site"].to_pylist(), scores["category"].to_pylist(), strict=True))
    assert 0 < top.num_rows <= 20 * len(groups)
    assert _io.read_table(f"{postgres_uri}#sessions_daily").num_rows > 0
    assert (tmp_path / "data" / "uplift" / "uplift.csv").stat().st_size > 0
    assert (tmp_path / "data" / "model" / "model.txt").stat().st_size > 0
