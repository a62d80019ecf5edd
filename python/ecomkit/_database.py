"""Database tables as inputs and outputs, through ADBC (Arrow in, Arrow out).

A location is ``<uri>#<table>``: ``postgresql://user:password@host:port/db#table``, or an
embedded file, ``sqlite:///relative/file.db#table`` / ``sqlite:////absolute/file.db#table``
(SQLAlchemy's spelling) or ``duckdb:///file.duckdb#table`` (DuckDB's ADBC driver, shipped
in its ``duckdb`` wheel).

Writes are atomic: the rows go into a staging table first, then one transaction drops the
old table and renames the staging table over it, so a failed run leaves the previous table
as it was. SQLite keeps no dates or timestamps, so the Arrow schema of each table ecomkit
writes there is kept beside it (table ``_ecomkit_schemas``) and restored on read.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pyarrow as pa

from .errors import DatabaseError, InvalidValueError

SCHEMES = ("postgresql", "postgres", "sqlite", "duckdb")
_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
_SCHEMAS = "_ecomkit_schemas"


def named(location: Any) -> bool:
    """Whether `location` names a database table rather than a file."""
    return isinstance(location, str) and location.split("://", 1)[0].lower() in SCHEMES


def _redacted(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def redacted(value: Any) -> Any:
    """`value` (a summary: dicts, lists, strings) with the password of every database URI in
    it masked, for logs."""
    if isinstance(value, dict):
        return {key: redacted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redacted(item) for item in value]
    return _redacted(value) if named(value) else value


def _split(location: str, argument: str) -> tuple[str, str, str]:
    """(scheme, uri, table) of ``uri#table``."""
    uri, _, table = location.partition("#")
    if not _TABLE.match(table):
        raise DatabaseError(
            f"{argument}: expected '<database URI>#<table>' with a plain table name "
            f"(letters, digits, _; optionally schema.table), got '{_redacted(location)}'"
        )
    return uri.split("://", 1)[0].lower(), uri, table


def _quoted(table: str) -> str:
    return ".".join(f'"{part}"' for part in table.split("."))


def _connect(scheme: str, uri: str, argument: str) -> Any:
    try:
        if scheme in ("sqlite", "duckdb"):
            if scheme == "sqlite":
                import adbc_driver_sqlite.dbapi as driver
            else:
                import adbc_driver_duckdb.dbapi as driver
            prefix = f"{scheme}:///"
            target = uri[len(prefix) :] if uri.startswith(prefix) else ""
            if not target:
                raise DatabaseError(f"{argument}: expected {prefix}FILE, got '{uri}'")
            return driver.connect(target)
        import adbc_driver_postgresql.dbapi as driver

        return driver.connect(uri.replace("postgres://", "postgresql://", 1))
    except ModuleNotFoundError as missing:
        extra = "duckdb" if scheme == "duckdb" else "db"
        raise ImportError(
            f"{argument}: {scheme} URIs need the ADBC driver {missing.name}: "
            f"pip install 'ecomkit[{extra}]'"
        ) from None
    except DatabaseError:
        raise
    except Exception as exc:  # the drivers' own exception classes
        raise DatabaseError(
            f"{argument}: cannot connect to '{_redacted(uri)}': {_first_line(exc)}"
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _tables(cursor: Any, scheme: str) -> set[str]:
    if scheme == "sqlite":
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {row[0] for row in cursor.fetchall()}
    cursor.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
    )
    rows = cursor.fetchall()
    return {name for _, name in rows} | {f"{schema}.{name}" for schema, name in rows}


def read(location: str, argument: str = "input") -> pa.Table:
    """The table at ``uri#table`` as a pyarrow Table."""
    scheme, uri, table = _split(location, argument)
    with _connect(scheme, uri, argument) as connection, connection.cursor() as cursor:
        tables = _tables(cursor, scheme)
        if table not in tables:
            raise DatabaseError(
                f"{argument}: table '{table}' not found in '{_redacted(uri)}'; "
                f"it has tables {sorted(t for t in tables if t != _SCHEMAS)}"
            )
        try:
            cursor.execute(f"SELECT * FROM {_quoted(table)}")
            result = cursor.fetch_arrow_table()
        except Exception as exc:
            raise DatabaseError(f"{argument}: cannot read '{table}': {_first_line(exc)}") from None
        if scheme == "sqlite" and _SCHEMAS in tables:
            cursor.execute(f"SELECT schema FROM {_SCHEMAS} WHERE name = ?", (table,))
            row = cursor.fetchone()
            if row is not None:
                result = _restore(result, pa.ipc.read_schema(pa.py_buffer(row[0])))
        return result


def _restore(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Cast the columns SQLite stored as text or integers back to their Arrow types."""
    columns = []
    for name in table.column_names:
        column = table[name]
        index = schema.get_field_index(name)
        if index >= 0 and column.type != schema.field(index).type:
            target = schema.field(index).type
            if pa.types.is_timestamp(target) and target.tz is not None:
                column = column.cast(pa.timestamp(target.unit)).cast(target)
            else:
                column = column.cast(target)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def write(
    table: pa.Table,
    location: str,
    argument: str = "output",
    stage: Callable[[Callable[[], None], Callable[[], None]], None] | None = None,
) -> str:
    """Replace the table at ``uri#table`` with `table`, atomically: the rows are loaded into
    a staging table now; the swap runs now, or when ``stage(swap, discard)`` says (at the end
    of a pipeline step, with the step's other outputs)."""
    scheme, uri, target = _split(location, argument)
    schema_name, _, bare = target.rpartition(".")
    staging_bare = (
        f"{_STAGING}{_digest(target)}_{_digest(socket.gethostname())}_{os.getpid()}_"
        f"{int(time.time())}_{uuid.uuid4().hex[:4]}"
    )
    staging = f"{schema_name}.{staging_bare}" if schema_name else staging_bare

    def failed(exc: BaseException, connection: Any) -> None:
        connection.rollback()
        _drop_quietly(connection, staging)
        if isinstance(exc, Exception) and not isinstance(exc, InvalidValueError):
            raise DatabaseError(
                f"{argument}: cannot write '{target}' in '{_redacted(uri)}': {_first_line(exc)}"
            ) from None

    with _connect(scheme, uri, argument) as connection, connection.cursor() as cursor:
        _drop_stale_staging(connection, cursor, scheme, target)
        try:
            # The rows go into a staging table first, committed or not at all...
            cursor.adbc_ingest(staging_bare, table, mode="create",
                               db_schema_name=schema_name or None)  # fmt: skip
            connection.commit()
        except BaseException as exc:
            failed(exc, connection)
            raise

    def swap() -> None:
        # ... then one transaction swaps it in: readers see the old or the new table.
        with _connect(scheme, uri, argument) as connection, connection.cursor() as cursor:
            try:
                cursor.execute(f"DROP TABLE IF EXISTS {_quoted(target)}")
                cursor.execute(f'ALTER TABLE {_quoted(staging)} RENAME TO "{bare}"')
                if scheme == "sqlite":
                    cursor.execute(
                        f"CREATE TABLE IF NOT EXISTS {_SCHEMAS} "
                        "(name TEXT PRIMARY KEY, schema BLOB)"
                    )
                    cursor.execute(
                        f"INSERT OR REPLACE INTO {_SCHEMAS} VALUES (?, ?)",
                        (target, table.schema.serialize().to_pybytes()),
                    )
                connection.commit()
            except BaseException as exc:
                failed(exc, connection)
                raise

    def discard() -> None:
        with _connect(scheme, uri, argument) as connection:
            _drop_quietly(connection, staging)

    if stage is None:
        swap()
    else:
        stage(swap, discard)
    return location


#: Staging tables are named ``_ecomkit_staging_<target>_<host>_<pid>_<epoch>_<random>``
#: (target and host as 8 hex digits of their SHA-1), so a later write of the same target can
#: tell the leftovers of a killed run from a write in progress.
_STAGING = "_ecomkit_staging_"
#: A staging table this old is a leftover, whichever host made it.
STALE_STAGING_SECONDS = 24 * 3600


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def _drop_stale_staging(connection: Any, cursor: Any, scheme: str, target: str) -> None:
    """Drop the staging tables of `target` that killed runs left (SIGKILL between loading
    and swapping): made on this host by a process that is gone, or older than a day."""
    from ._io import process_alive

    schema_name = target.rpartition(".")[0]
    prefix = f"{schema_name}.{_STAGING}" if schema_name else _STAGING
    prefix += f"{_digest(target)}_"
    this_host = _digest(socket.gethostname())
    for name in sorted(_tables(cursor, scheme)):
        parts = name[len(prefix) :].split("_") if name.startswith(prefix) else []
        if len(parts) != 4 or not (parts[1].isdigit() and parts[2].isdigit()):
            continue
        host, pid, made = parts[0], int(parts[1]), int(parts[2])
        here = host == this_host
        dead = here and pid != os.getpid() and not process_alive(pid)
        if dead or time.time() - made > STALE_STAGING_SECONDS:
            _drop_quietly(connection, name)


def _drop_quietly(connection: Any, table: str) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {_quoted(table)}")
        connection.commit()
    except Exception:  # the connection itself may be gone; the staging table then is too
        pass
