"""Database tables as inputs and outputs (ADBC): SQLite and a real PostgreSQL server."""

import datetime as dt

import pyarrow as pa
import pytest

from ecomkit import _io, pipeline
from ecomkit.errors import InvalidValueError


def sample() -> pa.Table:
    return pa.table({
        "asin": ["A", "B", "C"],
        "date": pa.array([dt.date(2024, 1, d) for d in (1, 2, 3)], pa.date32()),
        "seen": pa.array([dt.datetime(2024, 1, 1, h, tzinfo=dt.timezone.utc) for h in (1, 2, 3)],
                         pa.timestamp("us", tz="UTC")),
        "bsr": pa.array([5, 3, 9], pa.int64()),
        "price": [1.5, None, 3.25],
        "flag": [True, False, None],
    })  # fmt: skip


@pytest.fixture(params=["sqlite", "duckdb", "postgresql"])
def database(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ecomkit.db"
    if request.param == "duckdb":
        pytest.importorskip("adbc_driver_duckdb", reason="duckdb is not installed")
        return f"duckdb:///{tmp_path}/ecomkit.duckdb"
    return request.getfixturevalue("postgres_uri")


def test_a_table_round_trips_with_its_types(database):
    table = sample()
    _io.write_table(table, f"{database}#round_trip")
    back = _io.read_table(f"{database}#round_trip")
    assert back.column_names == table.column_names
    for name in table.column_names:
        assert back[name].to_pylist() == table[name].to_pylist(), name
    assert back.schema.field("date").type == pa.date32()
    assert pa.types.is_timestamp(back.schema.field("seen").type)
    _io.write_table(table.slice(0, 1), f"{database}#round_trip")  # replaces, not appends
    assert _io.read_table(f"{database}#round_trip").num_rows == 1


def test_a_failed_write_leaves_the_previous_table_as_it_was(database, monkeypatch):
    from ecomkit import _database

    _io.write_table(sample(), f"{database}#kept")
    real_commit_count = {"n": 0}
    original = _database._quoted

    def fail_at_the_swap(table):  # fails midway: after the staging rows are committed
        if not table.startswith('"_ecomkit_staging') and real_commit_count["n"] == 0:
            real_commit_count["n"] += 1
            raise RuntimeError("killed midway")
        return original(table)

    monkeypatch.setattr(_database, "_quoted", fail_at_the_swap)
    with pytest.raises(InvalidValueError, match="killed midway"):
        _io.write_table(sample().slice(0, 1), f"{database}#kept")
    monkeypatch.undo()
    assert _io.read_table(f"{database}#kept").num_rows == 3
    leftovers = [t for t in _database_tables(database) if "staging" in t]
    assert leftovers == []


def _database_tables(database):
    from ecomkit import _database

    scheme, uri, _ = _database._split(f"{database}#x", "test")
    with _database._connect(scheme, uri, "test") as connection, connection.cursor() as cursor:
        return _database._tables(cursor, scheme)


def test_a_schema_qualified_table_is_written_in_that_schema(postgres_uri):
    _io.write_table(sample(), f"{postgres_uri}#public.qualified")
    assert _io.read_table(f"{postgres_uri}#public.qualified").num_rows == 3
    assert _io.read_table(f"{postgres_uri}#qualified").num_rows == 3


def test_a_missing_table_is_a_named_error(database):
    with pytest.raises(InvalidValueError, match=r"input: table 'nowhere' not found"):
        _io.read_table(f"{database}#nowhere")


def test_bad_credentials_are_a_named_error_without_the_password(postgres_uri):
    wrong = postgres_uri.replace(":ecomkit-test@", ":wrong-password@")
    with pytest.raises(InvalidValueError) as caught:
        _io.read_table(f"{wrong}#anything")
    message = str(caught.value)
    assert message.startswith("input: cannot connect to 'postgresql://postgres:***@")
    assert "wrong-password" not in message and "password authentication failed" in message


def test_a_table_name_must_be_plain(tmp_path):
    with pytest.raises(InvalidValueError, match="output: expected '<database URI>#<table>'"):
        _io.write_table(sample(), f"sqlite:///{tmp_path}/x.db#bad name; drop")
    with pytest.raises(InvalidValueError, match="expected '<database URI>#<table>'"):
        _io.read_table(f"sqlite:///{tmp_path}/x.db")


def test_pipeline_steps_read_and_write_tables(postgres_uri, tmp_path):
    pipeline.generate(f"{postgres_uri}#asin_daily", n_asins=40, n_days=20)

    pipeline.features(f"{postgres_uri}#asin_daily", f"{postgres_uri}#features_daily")
    scores = f"{postgres_uri}#score_baseline_daily"
    summary = pipeline.score(f"{postgres_uri}#features_daily", scores,
                        weights={"bsr_trend_7d": -1.0}, by=["site"], latest_per="asin")  # fmt: skip
    scored = _io.read_table(f"{postgres_uri}#score_baseline_daily")
    assert summary["rows_out"] == scored.num_rows == 40
    on_disk = tmp_path / "features.parquet"
    pipeline.features(f"{postgres_uri}#asin_daily", on_disk)
    assert _io.read_table(on_disk).equals(_io.read_table(f"{postgres_uri}#features_daily"))


def test_command_summaries_mask_the_database_password(postgres_uri, capsys):
    from ecomkit import cli

    assert cli.main(["generate", f"{postgres_uri}#tiny", "--n-asins", "2", "--n-days", "2"]) == 0
    printed = capsys.readouterr().out
    assert "ecomkit-test" not in printed and "postgres:***@" in printed


def test_database_errors_are_catchable_from_ecomkit_errors(tmp_path):
    from ecomkit.errors import DatabaseError

    with pytest.raises(DatabaseError):
        _io.read_table(f"sqlite:///{tmp_path}/none.db#missing")
