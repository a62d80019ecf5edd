"""ecomkit's daily pipeline as an Airflow DAG (``dag_id`` ``ecomkit_daily``).

The seed's daily flow: features → explosive score → top candidates; sessions; assignment;
uplift; train-rank. Each task is a ``BashOperator`` on the ``ecomkit`` command line or a
``PythonOperator`` on a ``run(...)`` helper, and reads its input from and writes its results
to a database:

- ``ECOMKIT_DB_URI``: the database (``postgresql://user:password@host:port/db``; default an
  embedded SQLite file ``ecomkit.db`` in the data folder, so the DAG runs anywhere);
- ``ECOMKIT_DATA_DIR``: the folder for file outputs (uplift report, model; default
  ``data/`` beside this file);
- ``ECOMKIT_SETTINGS``: the settings file (default ``examples/settings.toml`` of ecomkit).

The first task loads ecomkit's built-in synthetic data when the source tables are missing
or empty. The explosive scores land in ``score_baseline_daily`` (the seed's table name).

Run one logical date: ``airflow dags test ecomkit_daily 2024-01-01``.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import pendulum

try:  # Airflow 3 moved the core operators into the standard provider
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.providers.standard.operators.python import PythonOperator
except ImportError:  # Airflow 2
    from airflow.operators.bash import BashOperator
    from airflow.operators.python import PythonOperator
from airflow import DAG

HERE = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("ECOMKIT_DATA_DIR", HERE / "data"))
DB_URI = os.environ.get("ECOMKIT_DB_URI", f"sqlite:///{DATA_DIR / 'ecomkit.db'}")
SETTINGS = os.environ.get("ECOMKIT_SETTINGS", str(HERE.parent / "settings.toml"))
#: The command line of the ecomkit installed beside Airflow (the same interpreter).
ECOMKIT = f"{shlex.quote(sys.executable)} -m ecomkit.cli"

#: Source tables and the built-in data set that fills each one when it is empty.
SOURCES = {
    "asin_daily": {"dataset": "asin_daily", "n_asins": 2000, "n_days": 120},
    "clickstream": {"dataset": "clickstream", "n_users": 5000, "n_days": 14},
    "experiment_units": {"dataset": "experiment_units", "n_users": 200_000},
    "ranking_train": {"dataset": "ranking", "n_asins": 2000, "n_days": 120, "seed": 1},
    "ranking_test": {"dataset": "ranking", "n_asins": 2000, "n_days": 120, "seed": 2},
}


def table(name: str) -> str:
    """The ``URI#table`` location of one table of the pipeline's database."""
    return f"{DB_URI}#{name}"


def load_sources() -> dict:
    """Write the built-in synthetic data into every source table that is missing or empty."""
    from ecomkit import _io, pipeline
    from ecomkit.errors import InvalidValueError

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    loaded = {}
    for name, arguments in SOURCES.items():
        try:
            if _io.read_table(table(name)).num_rows > 0:
                continue
        except InvalidValueError:  # not there yet
            pass
        loaded[name] = pipeline.generate(table(name), **arguments)["rows"]
    return loaded


def top_candidates() -> dict:
    """The 20 best-scored products of each site × category on their latest day."""
    from ecomkit import pipeline

    return pipeline.score(table("features_daily"), table("top_candidates_daily"), config=SETTINGS,
                          latest_per="asin", time="date", top_n=20)  # fmt: skip


def sessions() -> dict:
    from ecomkit import pipeline

    return pipeline.sessions(table("clickstream"), table("sessions_daily"), config=SETTINGS)


def uplift() -> dict:
    from ecomkit import pipeline

    return pipeline.uplift(table("assigned_units"), DATA_DIR / "uplift", config=SETTINGS)


def shell_table(name: str) -> str:
    """A table as a BashOperator argument: the URI comes from the task's environment, so
    the password never stands in the command that Airflow logs."""
    return f'"${{ECOMKIT_DB_URI}}#{name}"'


def bash(task_id: str, *argv: str) -> BashOperator:
    """A BashOperator running ``ecomkit ARGV`` (arguments quoted, tables left to the shell)."""
    words = [a if a.startswith('"${') else shlex.quote(a) for a in argv]
    return BashOperator(task_id=task_id, bash_command=" ".join([ECOMKIT, *words]),
                        env={"ECOMKIT_DB_URI": DB_URI}, append_env=True)  # fmt: skip


with DAG(
    dag_id="ecomkit_daily",
    schedule="@daily",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["ecomkit"],
    doc_md=__doc__,
) as dag:
    load = PythonOperator(task_id="load_sources", python_callable=load_sources)
    features = bash("features", "features", shell_table("asin_daily"),
                    "--output", shell_table("features_daily"), "--config", SETTINGS)  # fmt: skip
    score = bash("explosive_score", "score", shell_table("features_daily"),
                 "--output", shell_table("score_baseline_daily"), "--config", SETTINGS,
                 "--latest-per", "asin", "--time", "date",
                 "--group-stats", str(DATA_DIR / "group_stats.csv"))  # fmt: skip
    top = PythonOperator(task_id="top_candidates", python_callable=top_candidates)
    sessionize = PythonOperator(task_id="sessions", python_callable=sessions)
    assign = bash("assign", "assign", shell_table("experiment_units"),
                  "--output", shell_table("assigned_units"), "--config", SETTINGS)  # fmt: skip
    report = PythonOperator(task_id="uplift", python_callable=uplift)
    train_rank = bash("train_rank", "train-rank", shell_table("ranking_train"),
                      "--valid", shell_table("ranking_test"),
                      "--output-dir", str(DATA_DIR / "model"), "--config", SETTINGS)  # fmt: skip

    load >> features >> score >> top
    load >> sessionize
    load >> assign >> report
    load >> train_rank
