"""Reading inputs and writing outputs atomically: files, and database tables.

Every output file is written to a temporary file in the target's folder and renamed over
the target only when complete, so a failed run leaves no half-written file and never
clobbers the previous good output.

A database table is named by a URI and a table after ``#``:
``postgresql://user:password@host:5432/db#table`` or ``sqlite:///relative.db#table`` /
``sqlite:////absolute/path.db#table``. Tables are read and written through ADBC (Arrow in,
Arrow out; ``adbc-driver-postgresql``, ``adbc-driver-sqlite``, the ``ecomkit[db]`` extra).
A write loads a staging table and then, in one transaction, drops the old table and renames
the staging table over it: a failed run leaves the previous table as it was.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from . import _database, _progress
from .errors import InvalidValueError

TABLE_FORMATS = (".parquet", ".csv", ".feather", ".arrow")
#: Inputs and outputs from this size on get progress lines (``--quiet`` silences them).
LARGE = 64 * 2**20


def pipeline_step(run: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Mark a ``run(...)`` helper: its summary, which Airflow logs and keeps as an XCom,
    shows every database URI with its password masked."""
    import functools

    @functools.wraps(run)
    def step(*args: Any, **kwargs: Any) -> dict[str, Any]:
        return _database.redacted(run(*args, **kwargs))

    return step


def _format(path: Path, argument: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in TABLE_FORMATS:
        raise InvalidValueError(
            f"{argument}: expected a file ending in one of {list(TABLE_FORMATS)}, got '{path}'"
        )
    return suffix


def read_table(path: str | Path, argument: str = "input") -> pa.Table:
    """A Parquet, CSV or Feather file, or a database table (``URI#table``), as a pyarrow
    Table."""
    if _database.named(path):
        return _database.read(str(path), argument)
    path = Path(path)
    suffix = _format(path, argument)
    if not path.is_file():
        raise InvalidValueError(f"{argument}: no such file '{path}'")
    size = path.stat().st_size
    if size >= LARGE:
        _progress.note(f"reading {path} ({size / 2**20:,.0f} MiB)")
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        if size < LARGE:
            return pq.read_table(path)
        source = pq.ParquetFile(path)
        progress = _progress.Progress(source.num_row_groups, f"reading {path.name} (row groups)")
        groups = []
        for index in range(source.num_row_groups):
            groups.append(source.read_row_group(index))
            progress(index + 1)
        return pa.concat_tables(groups) if groups else source.schema_arrow.empty_table()
    if suffix == ".csv":
        import pyarrow.csv as pacsv

        return pacsv.read_csv(path)
    import pyarrow.feather as feather

    return feather.read_table(path)


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary_path)``, then rename the temporary file onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        with open(tmp_path, "rb+") as handle:
            os.fsync(handle.fileno())
        # mkstemp makes 0600 files; give the output the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return path


def write_table(frame: Any, path: str | Path, argument: str = "output") -> Any:
    """Write a pandas/polars/pyarrow frame as Parquet, CSV or Feather, or into a database
    table (``URI#table``), atomically. Returns the path (or the URI)."""
    if _database.named(path):
        return _database.write(_as_arrow(frame), str(path), argument)
    path = Path(path)
    suffix = _format(path, argument)
    table = _as_arrow(frame)
    if table.nbytes >= LARGE:
        _progress.note(f"writing {table.num_rows:,} rows ({table.nbytes / 2**20:,.0f} MiB) "
                       f"to {path}")  # fmt: skip

    def write(tmp: Path) -> None:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            pq.write_table(table, tmp)
        elif suffix == ".csv":
            import pyarrow.csv as pacsv

            pacsv.write_csv(table, tmp)
        else:
            import pyarrow.feather as feather

            feather.write_feather(table, tmp)

    return atomic_write(path, write)


def write_text(text: str, path: str | Path) -> Path:
    """Write a text file atomically."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _as_arrow(frame: Any) -> pa.Table:
    if type(frame).__module__.split(".")[0] == "pandas":
        if frame.attrs:  # e.g. a report's lift curve: not part of the table written
            frame = frame.copy(deep=False)
            frame.attrs = {}
        return pa.Table.from_pandas(frame, preserve_index=False)
    return pa.table(frame)
