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

import contextlib
import contextvars
import glob
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from . import _database, _progress
from .errors import InvalidValueError

TABLE_FORMATS = (".parquet", ".csv", ".feather", ".arrow")
#: Inputs and outputs from this size on get progress lines (``--quiet`` silences them).
LARGE = 64 * 2**20


#: The outputs of the pipeline step running now, committed together when it ends: a list of
#: (commit, discard) pairs, or None outside a step (each output is then committed at once).
_PENDING: contextvars.ContextVar[list[tuple[Callable[[], None], Callable[[], None]]] | None] = (
    contextvars.ContextVar("ecomkit_pending_outputs", default=None)
)


def _stage(commit: Callable[[], None], discard: Callable[[], None]) -> None:
    """Commit an output now, or at the end of the running step, with its other outputs."""
    pending = _PENDING.get()
    if pending is None:
        commit()
    else:
        pending.append((commit, discard))


@contextlib.contextmanager
def outputs_together() -> Iterator[None]:
    """All outputs written inside are written in full first and renamed (or swapped in)
    only when the block ends without an error; on an error none is, and the temporaries go.
    So a step with several outputs never leaves a mix of this run's and the last run's."""
    if _PENDING.get() is not None:  # a step inside a step: the outer one commits
        yield
        return
    pending: list[tuple[Callable[[], None], Callable[[], None]]] = []
    token = _PENDING.set(pending)
    try:
        yield
    except BaseException:
        for _, discard in pending:
            discard()
        raise
    finally:
        _PENDING.reset(token)
    for commit, _ in pending:
        commit()


def pipeline_step(run: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Mark a ``run(...)`` helper: its outputs are committed together
    (:func:`outputs_together`), and its summary, which Airflow logs and keeps as an XCom,
    shows every database URI with its password masked."""
    import functools

    @functools.wraps(run)
    def step(*args: Any, **kwargs: Any) -> dict[str, Any]:
        with outputs_together():
            summary = run(*args, **kwargs)
        return _database.redacted(summary)

    return step


def redacted(summary: dict[str, Any]) -> dict[str, Any]:
    """A summary with every database URI's password masked (for steps that commit their
    outputs themselves, then raise: validation and drift)."""
    return _database.redacted(summary)


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
        return _read_csv(path)
    import pyarrow.feather as feather

    return feather.read_table(path)


def _read_csv(path: Path) -> pa.Table:
    """A CSV file with pyarrow's type inference, except that an integer column whose text
    has a leading zero or sign (ids such as ``007``, ``0042``) stays text: a key is never
    re-spelled (``007`` is not the id ``7``, and GrowthBook hashes the text)."""
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    table = pacsv.read_csv(path)
    integers = [f.name for f in table.schema if pa.types.is_integer(f.type)]
    if not integers:
        return table
    options = pacsv.ConvertOptions(column_types={n: pa.string() for n in integers},
                                   include_columns=integers)  # fmt: skip
    text = pacsv.read_csv(path, convert_options=options)
    for name in integers:
        respelled = pc.any(pc.match_substring_regex(text[name], r"^\s*(\+|-?0\d)")).as_py()
        if respelled:
            table = table.set_column(table.schema.get_field_index(name), name, text[name])
    return table


def _remove_stale_temporaries(path: Path) -> None:
    """Delete temporaries of `path` left by runs that were killed (SIGKILL, power loss): the
    process named in a temporary's name (``.<name>.<pid>.<random>.tmp``) is gone."""
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = stale.name[len(path.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not process_alive(int(pid)):
            stale.unlink(missing_ok=True)


def process_alive(pid: int) -> bool:
    """Whether process `pid` runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary_path)``, then rename the temporary file onto ``path`` (at once,
    or at the end of the running pipeline step, with the step's other outputs)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp",
                               dir=path.parent)  # fmt: skip
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
    except OSError as exc:  # a full disk, a file-size limit: name the output, not the temporary
        tmp_path.unlink(missing_ok=True)
        if exc.filename in (None, tmp):
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None
        raise
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    _stage(lambda: os.replace(tmp_path, path), lambda: tmp_path.unlink(missing_ok=True))
    return path


def write_table(frame: Any, path: str | Path, argument: str = "output") -> Any:
    """Write a pandas/polars/pyarrow frame as Parquet, CSV or Feather, or into a database
    table (``URI#table``), atomically. Returns the path (or the URI)."""
    if _database.named(path):
        return _database.write(_as_arrow(frame), str(path), argument, stage=_stage)
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
