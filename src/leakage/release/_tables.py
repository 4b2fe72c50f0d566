"""Tables of records for :mod:`leakage.release`: batches in, batches out (pyarrow).

A source is a path (``.csv``, ``.parquet``/``.pq``), a pandas or polars DataFrame, or a
pyarrow Table. Batches are pyarrow RecordBatches; only the needed columns are read.
pyarrow (and pandas for DataFrames) come with the ``release`` extra and are imported here,
never by ``import leakage``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidParameterError, MissingDependencyError
from ._checks import param_error, some

SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def pa():
    try:
        import pyarrow
    except ImportError as exc:  # pragma: no cover - exercised without the extra only
        raise MissingDependencyError(
            "leakage.release reads and writes tables with pyarrow, which is not installed; "
            "install the 'release' extra: pip install -e \".[release]\" in a checkout of "
            "leakage, pip install 'leakage[release]' otherwise."
        ) from exc
    return pyarrow


SOURCE = "a .csv or .parquet path, a pandas or polars DataFrame or a pyarrow Table"


def kind(path: Path, func: str, name: str) -> str:
    """``"csv"`` or ``"parquet"``, from the suffix of ``path``."""
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise InvalidParameterError(
            f"{func}: the '{name}' argument must be a path ending in .csv, .parquet or .pq; "
            f"got '{path}' instead."
        )
    return fmt


def _is_pandas(source: Any) -> bool:
    return type(source).__module__.startswith("pandas") and hasattr(source, "columns")


def as_table(source: Any, func: str = "as_table", name: str = "source", columns=None):
    """A pyarrow Table for in-memory sources (DataFrames, Tables), else None.

    Of a pandas DataFrame only ``columns`` are converted, when given and all present. A
    column that Arrow cannot type (mixed ``str`` and numbers, say) raises
    :class:`~leakage.InvalidParameterError` naming it, the Arrow error as ``__cause__``."""
    pyarrow = pa()
    if isinstance(source, pyarrow.Table):
        return source
    if hasattr(source, "to_arrow") and not isinstance(source, (str, os.PathLike)):
        return source.to_arrow()  # polars
    if _is_pandas(source):
        if columns is not None and all(c in source.columns for c in columns):
            source = source[list(columns)]
        try:
            return pyarrow.Table.from_pandas(source, preserve_index=False)
        except (pyarrow.ArrowException, TypeError, ValueError) as exc:
            raise _mixed_column(source, exc, func, name) from exc
    return None


def _mixed_column(frame, exc: Exception, func: str, name: str) -> Exception:
    """The error for a DataFrame Arrow cannot convert: find the first column at fault."""
    pyarrow = pa()
    bad = None
    for c in frame.columns:
        try:
            pyarrow.Array.from_pandas(frame[c])
        except (pyarrow.ArrowException, TypeError, ValueError):
            bad = c
            break
    where = f"column {bad!r} mixes types" if bad is not None else "a column cannot be typed"
    fix = f"df[{bad!r}].astype(str)" if bad is not None else "df[col].astype(str)"
    return param_error(
        func,
        name,
        "hold one type per column (strings, or numbers, or booleans)",
        got_text=f"a DataFrame where {where} ({type(exc).__name__}: {exc})",
        hint=f"Cast the column first, e.g. {fix}.",
    )


def check_source(source: Any, func: str, name: str) -> None:
    """Refuse a source that is neither a path nor a table before anything is read."""
    pyarrow = pa()
    if isinstance(source, (str, os.PathLike)) and (not isinstance(source, str) or source):
        return
    if isinstance(source, pyarrow.Table) or _is_pandas(source):
        return
    if hasattr(source, "to_arrow"):
        return
    raise param_error(func, name, f"be {SOURCE}", source)


def n_rows(source: Any, func: str, name: str = "source") -> int | None:
    """Number of records when cheap to know (Parquet metadata, in-memory), else None."""
    check_source(source, func, name)
    t = as_table(source, func, name)
    if t is not None:
        return t.num_rows
    path = Path(source)
    if kind(path, func, name) == "parquet" and path.exists():
        return parquet_file(path, func, name).metadata.num_rows
    return None


def column_names(source: Any, func: str, name: str = "source") -> list[str] | None:
    """The column names of ``source`` when cheap to know (a header, a schema), else None."""
    check_source(source, func, name)
    if _is_pandas(source):
        return [str(c) for c in source.columns]
    pyarrow = pa()
    if isinstance(source, pyarrow.Table):
        return list(source.schema.names)
    if hasattr(source, "columns") and not isinstance(source, (str, os.PathLike)):
        return [str(c) for c in source.columns]  # polars
    path = Path(source)
    if not path.exists():
        return None
    if kind(path, func, name) == "parquet":
        return list(parquet_file(path, func, name).schema_arrow.names)
    import pyarrow.csv as pcsv

    try:
        return list(pcsv.open_csv(path).schema.names)
    except (pyarrow.ArrowInvalid, UnicodeDecodeError, OSError):
        return None


def parquet_file(path: Path, func: str, name: str):
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (OSError, pa().ArrowException, ValueError) as exc:
        raise param_error(
            func, name, "be a readable Parquet file", got_text=f"'{path}' ({exc})"
        ) from exc


def batches(
    source: Any,
    columns: list[str] | None,
    func: str,
    rows: int = 1 << 20,
    name: str = "source",
) -> Iterator:
    """RecordBatches of ``source`` (only ``columns`` when given), in order; ``name`` is the
    caller's name for the argument, in error messages."""
    pyarrow = pa()
    check_source(source, func, name)
    t = as_table(source, func, name, columns)
    if t is not None:
        _check_columns(t.schema.names, columns, func, "table")
        sub = t if columns is None else t.select(columns)
        yield from sub.to_batches(max_chunksize=rows)
        return
    path = Path(source)
    if not path.exists():
        raise InvalidParameterError(f"{func}: the source file '{path}' does not exist.")
    if kind(path, func, name) == "parquet":
        f = parquet_file(path, func, name)
        _check_columns(f.schema_arrow.names, columns, func, str(path))
        try:
            yield from f.iter_batches(batch_size=rows, columns=columns)
        except (OSError, pyarrow.ArrowException) as exc:
            raise param_error(
                func, name, "be a readable Parquet file", got_text=f"'{path}' ({exc})"
            ) from exc
        return
    import pyarrow.csv as pcsv

    conv = pcsv.ConvertOptions(include_columns=columns) if columns else None
    try:
        reader = pcsv.open_csv(
            path, read_options=pcsv.ReadOptions(block_size=1 << 24), convert_options=conv
        )
    except (KeyError, pyarrow.ArrowKeyError):  # a missing column: name it and the others
        _check_columns(pcsv.open_csv(path).schema.names, columns, func, str(path))
        raise
    except (pyarrow.ArrowInvalid, UnicodeDecodeError) as exc:
        raise InvalidParameterError(f"{func}: cannot read '{path}' as CSV ({exc}).") from exc
    _check_columns(reader.schema.names, columns, func, str(path))
    try:
        yield from reader
    except (pyarrow.ArrowInvalid, UnicodeDecodeError) as exc:  # a later block that breaks
        raise InvalidParameterError(
            f"{func}: cannot read '{path}' as CSV ({exc}); a column whose type changes "
            "past the first block can be fixed by quoting it or converting to Parquet."
        ) from exc


def _check_columns(names, columns, func: str, where: str) -> None:
    for c in columns or ():
        if c not in names:
            raise InvalidParameterError(
                f"{func}: no column '{c}' in {where} (columns: {some(names)})."
            )


def column_values(batch, name: str) -> np.ndarray:
    """A column of a batch as a NumPy array (strings as objects, nulls as None/NaN)."""
    col = batch.column(batch.schema.get_field_index(name))
    return col.to_numpy(zero_copy_only=False)


@contextlib.contextmanager
def _closed_on_error(w):
    """Close a pyarrow writer when the block fails (the output is discarded anyway), so
    that its finalizer does not write to the closed file later ("Exception ignored in
    ParquetWriter.__del__" after a clean error message)."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            w.close()
        raise


@contextlib.contextmanager
def writer(out: Path, schema, func: str, row_group: int, *, perms: int | None = None, replace=True):
    """A writer of batches to ``out`` (CSV or Parquet by suffix), atomic: the file appears
    only when the block succeeds (with mode ``perms``; without ``replace`` never over an
    existing file, :func:`leakage.io.atomic_write`). Parquet row groups have exactly
    ``row_group`` rows (the last fewer), whatever the batches written, so the bytes do not
    depend on them."""
    from ..io import atomic_write

    fmt = kind(out, func, "out")
    pyarrow = pa()
    with atomic_write(out, "wb", perms=perms, replace=replace) as f:
        if fmt == "csv":
            import pyarrow.csv as pcsv

            w = pcsv.CSVWriter(f, schema)
            with _closed_on_error(w):
                yield w.write_batch
            w.close()
        else:
            import pyarrow.parquet as pq

            w = pq.ParquetWriter(f, schema, compression="zstd")
            pending: list = []
            count = 0

            def write(batch):
                nonlocal count
                pending.append(batch)
                count += batch.num_rows
                while count >= row_group:
                    t = pyarrow.Table.from_batches(pending).combine_chunks()
                    w.write_table(t.slice(0, row_group), row_group_size=row_group)
                    rest = t.slice(row_group)
                    pending[:] = rest.to_batches()
                    count = rest.num_rows

            with _closed_on_error(w):
                yield write
            if count:
                w.write_table(pyarrow.Table.from_batches(pending), row_group_size=row_group)
            w.close()
