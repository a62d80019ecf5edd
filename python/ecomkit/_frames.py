"""Frames in and out: pandas, polars, pyarrow, or anything with the Arrow PyCapsule interface.

Inputs go to Rust through ``__arrow_c_stream__`` (only the columns a kernel reads, so an
unrelated string column is never converted). Results come back in the kind of frame the
user passed in: pandas keeps its index, polars and pyarrow get zero-copy new columns.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from . import _ecomkit
from .errors import InvalidTypeError, InvalidValueError

KINDS = ("pandas", "polars", "pyarrow")


def kind_of(frame: Any, argument: str = "frame") -> str:
    """'pandas', 'polars' or 'pyarrow' (other Arrow-capable objects are read as pyarrow)."""
    module = type(frame).__module__.split(".")[0]
    if module == "pandas" and hasattr(frame, "iloc") and getattr(frame, "ndim", 2) != 2:
        raise InvalidTypeError(
            f"{argument}: expected a DataFrame, got a pandas Series (use series.to_frame())"
        )
    if module == "pandas" and hasattr(frame, "columns") and hasattr(frame, "iloc"):
        return "pandas"
    if module == "polars" and type(frame).__name__ == "Series":
        raise InvalidTypeError(
            f"{argument}: expected a DataFrame, got a polars Series (use series.to_frame())"
        )
    if isinstance(frame, (pa.Array, pa.ChunkedArray)):
        raise InvalidTypeError(
            f"{argument}: expected a table, got a pyarrow {type(frame).__name__} "
            "(use pa.table({'name': array}))"
        )
    if module == "polars":
        if type(frame).__name__ == "LazyFrame":
            raise InvalidTypeError(f"{argument}: got a polars LazyFrame; call .collect() first")
        if type(frame).__name__ == "DataFrame":
            return "polars"
    if isinstance(frame, (pa.Table, pa.RecordBatch)):
        return "pyarrow"
    if hasattr(frame, "__arrow_c_stream__") or hasattr(frame, "__arrow_c_array__"):
        return "arrow"
    raise InvalidTypeError(
        f"{argument}: expected a pandas, polars or pyarrow frame, or an object with "
        f"__arrow_c_stream__ (duckdb, arro3, ...), got {type(frame).__module__}."
        f"{type(frame).__name__}"
    )


def column_names(frame: Any, kind: str) -> list[str]:
    if kind == "pandas":
        return [str(c) for c in frame.columns]
    if kind == "polars":
        return list(frame.columns)
    return list(frame.schema.names)


def require_columns(available: Sequence[str], wanted: Sequence[str], argument: str) -> None:
    """ColumnNotFoundError for the first of ``wanted`` not in ``available`` (Rust's check)."""
    _ecomkit.require_columns(list(available), list(wanted), argument)


def prepare(frame: Any, argument: str = "frame") -> tuple[Any, str]:
    """(frame, kind), with generic Arrow objects read into a pyarrow Table."""
    kind = kind_of(frame, argument)
    if kind == "arrow":
        frame = pa.table(frame)
        kind = "pyarrow"
    elif isinstance(frame, pa.RecordBatch):
        frame = pa.Table.from_batches([frame])
    return frame, kind


def select(frame: Any, kind: str, columns: Sequence[str]) -> Any:
    """An Arrow-exportable view of just `columns`, without converting the others."""
    columns = list(dict.fromkeys(columns))
    if kind == "pandas":
        if frame.columns.has_duplicates:
            raise InvalidValueError("frame: has duplicate column names")
        # Labels that are not strings (0, 1 after a pivot) are found by their text, the
        # names column_names() gives them.
        labels = {str(label): label for label in frame.columns}
        return pa.table({name: _pandas_column(frame[labels[name]]) for name in columns})
    if kind == "polars":
        return _polars_columns(frame, columns)
    return frame.select(columns)


def _polars_columns(frame: Any, columns: list[str]) -> Any:
    """The polars frame's `columns`, with categoricals as Arrow dictionaries over their own
    category ids (polars' export remaps every row to a local dictionary: ~0.75 s per 100M
    rows; this is a zero-copy view plus the category list)."""
    import polars as pl

    out = frame.select(columns)
    # polars exports an all-null column of dtype Null with a buffer the Arrow C data
    # interface does not allow: hand it over as all-null float64 instead.
    nulls = [name for name in columns if out.schema[name] == pl.Null]
    if nulls:
        out = out.with_columns(pl.col(nulls).cast(pl.Float64))
    fast = {}
    for name in columns:
        series = out.get_column(name)
        if isinstance(series.dtype, (pl.Categorical, pl.Enum)):
            array = _polars_categorical(series)
            if array is not None:
                fast[name] = array
    if not fast:
        return out
    rest = pa.table(out.select([name for name in columns if name not in fast]))
    return pa.table({name: fast[name] if name in fast else rest[name] for name in columns})


def _polars_categorical(series: Any) -> pa.Array | None:
    """A polars Categorical / Enum as a dictionary array, or None when its category list
    (shared by every categorical of the process) is longer than the column itself."""
    import polars as pl

    if isinstance(series.dtype, pl.Enum):
        categories = series.dtype.categories
    else:
        categories = series.dtype.categories.to_series()
    if len(categories) > max(len(series), 1):
        return None
    ids = series.to_physical().to_arrow()
    dictionary = categories.to_arrow()
    return pa.DictionaryArray.from_arrays(ids, dictionary, safe=False)


def _pandas_column(series: Any) -> pa.Array | pa.ChunkedArray:
    try:
        if type(series.dtype).__name__ == "CategoricalDtype":
            return _pandas_categorical(series)
        if series.dtype.kind == "M":
            return _pandas_datetimes(series)
        # NaN stays NaN (no null bitmap pass): the kernels treat both as missing.
        return pa.array(series, from_pandas=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InvalidTypeError(
            f"frame: column '{series.name}' of dtype {series.dtype} cannot be read: {exc}"
        ) from None


def _pandas_datetimes(series: Any) -> pa.Array:
    """A pandas datetime column (naive or with a time zone) as an Arrow timestamp array over
    its int64 values, without a copy; NaT becomes null (pyarrow's own conversion checks
    every value for NaT into a new bitmap: ~0.1 s per 50M rows)."""
    values = np.asarray(series.array.asi8)
    unit = series.array.unit
    tz = getattr(series.dtype, "tz", None)
    arrow_type = pa.timestamp(unit, tz=None if tz is None else str(tz))
    nat = np.iinfo(np.int64).min
    missing = values == nat if values.size and values.min() == nat else None
    return pa.array(values, type=arrow_type, mask=missing)


def _pandas_categorical(series: Any) -> pa.Array:
    """A pandas categorical as an Arrow dictionary array over its codes, without a copy
    (pyarrow's own conversion re-checks and copies every code: 0.2-0.5 s per 100M rows)."""
    codes = np.asarray(series.array.codes)
    dictionary = pa.array(np.asarray(series.cat.categories, dtype=object), from_pandas=True)
    missing = codes < 0 if codes.size and codes.min() < 0 else None
    indices = pa.array(codes, mask=missing)
    return pa.DictionaryArray.from_arrays(
        indices, dictionary, ordered=bool(series.cat.ordered), safe=False
    )


def with_columns(
    frame: Any, kind: str, new: Mapping[str, np.ndarray], rows: np.ndarray | None = None
) -> Any:
    """`frame` (only `rows`, if given) with the columns `new` set or replaced."""
    if rows is not None:
        new = {name: values[rows] for name, values in new.items()}
    if kind == "pandas":
        import pandas as pd

        out = frame.iloc[rows] if rows is not None else frame
        if any(name in out.columns for name in new):
            # Replace in place, keeping the column's position (rare: re-scoring).
            out = out.copy(deep=False)
            for name, values in new.items():
                out[name] = values
            return out
        # One concat of a frame that wraps the arrays: no copies, unlike column-by-column
        # assignment, whose cost in pandas varies with the references the frame has.
        extra = pd.DataFrame(new, index=out.index, copy=False)
        if int(pd.__version__.split(".")[0]) >= 3:
            return pd.concat([out, extra], axis=1)
        return pd.concat([out, extra], axis=1, copy=False)
    if kind == "polars":
        import polars as pl

        out = frame[rows] if rows is not None else frame
        return out.with_columns(
            [pl.Series(name, values, nan_to_null=True) for name, values in new.items()]
        )
    out = arrow_take(frame, rows) if rows is not None else frame
    for name, values in new.items():
        array = _arrow_column(values)
        index = out.schema.get_field_index(name)
        if index >= 0:
            out = out.set_column(index, name, array)
        else:
            out = out.append_column(name, array)
    return out


def with_result(frame: Any, kind: str, result: Any, rows: np.ndarray | None = None) -> Any:
    """`frame` (only `rows`, if given) with a kernel's result columns set or appended. Every
    frame function's columns come back from Rust as one Arrow table, named there, one row
    per row of `frame`. Numbers reach pandas and polars as numpy views of the Arrow buffers
    (no copy); other columns (categories) as Arrow arrays."""
    table = pa.table(result)
    numbers, others = {}, {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_floating(column.type) or pa.types.is_integer(column.type):
            chunk = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
            numbers[name] = chunk.to_numpy(zero_copy_only=False)
        else:
            others[name] = column.combine_chunks()
    out = with_columns(frame, kind, numbers, rows)
    for name, array in others.items():
        out = with_arrow_column(out, kind, name, array if rows is None else array.take(rows))
    return out


def with_arrow_column(frame: Any, kind: str, name: str, array: pa.Array) -> Any:
    """`frame` with the Arrow array `array` set or appended as column `name`."""
    if kind == "pandas":
        frame = frame.copy(deep=False)
        frame[name] = array.to_pandas().to_numpy()  # positional: keeps the frame's index
        return frame
    if kind == "polars":
        import polars as pl

        return frame.with_columns(pl.Series(name, array))
    index = frame.schema.get_field_index(name)
    if index >= 0:
        return frame.set_column(index, name, array)
    return frame.append_column(name, array)


def _arrow_column(values: np.ndarray) -> pa.Array:
    """`values` as an Arrow array, NaN as null (as polars and pandas' readers see missing
    floats). Floats keep their buffer and get a validity bitmap: pyarrow's own NaN-to-null
    conversion copies every value (~25 ms per 10M)."""
    if values.dtype.kind != "f" or values.dtype.itemsize not in (4, 8):
        return pa.array(values, from_pandas=True)
    values = np.ascontiguousarray(values)
    missing = np.isnan(values)
    n_missing = int(np.count_nonzero(missing))
    if n_missing == 0:
        return pa.array(values)
    valid = np.packbits(~missing, bitorder="little")
    buffers = [pa.py_buffer(valid), pa.py_buffer(values)]
    return pa.Array.from_buffers(
        pa.from_numpy_dtype(values.dtype), len(values), buffers, null_count=n_missing
    )


def take(frame: Any, kind: str, rows: np.ndarray) -> Any:
    """The rows `rows` (positions) of `frame`, same kind (pandas keeps its index)."""
    if kind == "pandas":
        return frame.iloc[rows]
    if kind == "polars":
        return frame[rows]
    return arrow_take(frame, rows)


def arrow_take(frame: Any, rows: Any) -> Any:
    """The rows `rows` of a pyarrow table or record batch, string_view columns included."""
    import pyarrow as pa

    rows = pa.array(rows, type=pa.int64())
    # pyarrow has no take kernel for the view types: take their plain form, then cast back.
    plain_of = {pa.string_view(): pa.large_string(), pa.binary_view(): pa.large_binary()}
    plain = pa.schema([field.with_type(plain_of.get(field.type, field.type))
                       for field in frame.schema], metadata=frame.schema.metadata)  # fmt: skip
    if plain == frame.schema:
        return frame.take(rows)
    return frame.cast(plain).take(rows).cast(frame.schema)


def require(package: str, what: str) -> Any:
    """Import the optional `package` (pandas, polars, matplotlib, ...) that `what` needs, or
    raise an ImportError that says how to get it."""
    import importlib

    try:
        return importlib.import_module(package)
    except ModuleNotFoundError:
        extra = {"matplotlib": "plot"}.get(package, package)
        raise ImportError(
            f"{what} needs {package}, an optional dependency of ecomkit: "
            f"pip install 'ecomkit[{extra}]' (or pip install {package})"
        ) from None


def from_arrow(table: Any, kind: str) -> Any:
    """A new frame of `kind` from an Arrow-exportable table made by the Rust core."""
    table = pa.table(table)
    if kind == "pandas":
        require("pandas", "a pandas result (backend='pandas'; pass backend='pyarrow' for none)")
        # One block per column: pandas wraps the Arrow buffers of non-null numeric columns
        # instead of copying every column into consolidated 2-D blocks.
        return table.to_pandas(date_as_object=False, split_blocks=True)
    if kind == "polars":
        import polars as pl

        return pl.from_arrow(table)
    return table


def _refuse(argument: str, dtype: Any) -> None:
    raise InvalidTypeError(
        f"{argument}: expected numeric values, got {dtype} (convert times, text and other "
        "values to numbers first; strings such as '1e3' are not read as numbers)"
    )


def _refuse_non_numbers(dtype: Any, argument: str, items: Any) -> None:
    """Refuse datetimes, timedeltas and text, which numpy and pandas would turn into numbers
    (epoch nanoseconds, parsed strings) without a word."""
    kind = getattr(dtype, "kind", "")
    if kind in "MmUS" and kind:
        _refuse(argument, dtype)
    if str(dtype) in ("string", "str") or str(dtype).startswith(("datetime64", "timedelta64")):
        _refuse(argument, dtype)
    if kind == "O":
        for item in items:
            if isinstance(item, (str, bytes, _dt.date, _dt.timedelta, np.datetime64)):
                _refuse(argument, f"{type(item).__name__} values")


def to_float64(values: Any, argument: str) -> np.ndarray:
    """A contiguous 1-D float64 numpy array (zero-copy when it already is one)."""
    module = type(values).__module__.split(".")[0]
    try:
        if module == "pandas":
            _refuse_non_numbers(values.dtype, argument, values if values.dtype == object else ())
            values = values.to_numpy(dtype=np.float64, na_value=np.nan)
        elif module == "polars":
            import polars as pl

            if not (values.dtype.is_numeric() or values.dtype == pl.Boolean):
                _refuse(argument, values.dtype)
            values = values.cast(pl.Float64).to_numpy()
        elif isinstance(values, (pa.Array, pa.ChunkedArray)):
            kind = values.type
            if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)
                    or pa.types.is_boolean(kind) or pa.types.is_null(kind)
                    or pa.types.is_decimal(kind)):  # fmt: skip
                _refuse(argument, kind)
            # Rounded to the nearest float64 beyond 2^53, as numpy, pandas and polars do.
            values = values.cast(pa.float64(), safe=False).to_numpy(zero_copy_only=False)
        elif isinstance(values, (list, tuple)):
            _refuse_non_numbers(np.dtype(object), argument, values)
    except InvalidTypeError:
        raise
    except (TypeError, ValueError, pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InvalidTypeError(f"{argument}: expected numeric values: {exc}") from None
    array = np.asarray(values)
    if array.ndim != 1:
        raise InvalidValueError(f"{argument}: expected a 1-D array, got shape {array.shape}")
    if array.dtype.kind not in "iuf":
        raise InvalidTypeError(f"{argument}: expected numeric values, got dtype {array.dtype}")
    return np.ascontiguousarray(array, dtype=np.float64)


def to_arrow_array(values: Any, argument: str) -> Any:
    """Group keys as something with __arrow_c_array__ or __arrow_c_stream__."""
    if hasattr(values, "__arrow_c_array__") or hasattr(values, "__arrow_c_stream__"):
        if type(values).__module__.split(".")[0] != "pandas":
            return values
    try:
        if isinstance(values, np.ndarray) and values.ndim != 1:
            raise InvalidValueError(f"{argument}: expected a 1-D array, got shape {values.shape}")
        return pa.array(values, from_pandas=True)
    except UnicodeEncodeError as exc:
        raise InvalidValueError(
            f"{argument}: a value is not valid Unicode ({exc.reason}: {exc.object!r}); "
            "Arrow strings are UTF-8, so lone surrogates cannot be keys"
        ) from None
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
        raise InvalidTypeError(
            f"{argument}: expected an array of group keys (ints or strings): {exc}"
        ) from None


def latest_rows(table: Any, by: list[str], time: str) -> Any:
    """Each entity's latest row of an Arrow table: the row with the greatest ``time`` per
    combination of the ``by`` columns (the last of equal times in input order; null keys
    form a group of their own), in the order of the sorted keys."""
    import pyarrow.compute as pc

    require_columns(table.column_names, [*by, time], "latest_per")
    keys = [(name, "ascending") for name in (*by, time)]
    ordered = table.take(pc.sort_indices(table, sort_keys=keys))
    n = ordered.num_rows
    last = np.ones(n, dtype=bool)
    if n > 1:
        same = np.ones(n - 1, dtype=bool)
        for name in by:
            after, before = ordered[name].slice(1), ordered[name].slice(0, n - 1)
            equal = pc.or_kleene(pc.equal(after, before),
                                 pc.and_(pc.is_null(after), pc.is_null(before)))  # fmt: skip
            same &= pc.fill_null(equal, False).to_numpy(zero_copy_only=False)
        last[:-1] = ~same
    return ordered.filter(pa.array(last))
