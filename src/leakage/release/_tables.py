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

SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def pa():
    try:
        import pyarrow
    except ImportError as exc:  # pragma: no cover - exercised without the extra only
        raise MissingDependencyError(
            "leakage.release reads and writes tables with pyarrow: pip install 'leakage[release]'."
        ) from exc
    return pyarrow


def _kind(path: Path, func: str, name: str) -> str:
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise InvalidParameterError(
            f"{func}: the '{name}' file must end in .csv, .parquet or .pq; got '{path}'."
        )
    return kind


def as_table(source: Any):
    """A pyarrow Table for in-memory sources (DataFrames, Tables), else None."""
    pyarrow = pa()
    if isinstance(source, pyarrow.Table):
        return source
    if hasattr(source, "to_arrow") and not isinstance(source, (str, os.PathLike)):
        return source.to_arrow()  # polars
    mod = type(source).__module__
    if mod.startswith("pandas"):
        return pyarrow.Table.from_pandas(source, preserve_index=False)
    return None


def n_rows(source: Any, func: str) -> int | None:
    """Number of records when cheap to know (Parquet metadata, in-memory), else None."""
    t = as_table(source)
    if t is not None:
        return t.num_rows
    path = Path(source)
    if _kind(path, func, "source") == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    return None


def batches(source: Any, columns: list[str] | None, func: str, rows: int = 1 << 20) -> Iterator:
    """RecordBatches of ``source`` (only ``columns`` when given), in order."""
    pyarrow = pa()
    t = as_table(source)
    if t is not None:
        _check_columns(t.schema.names, columns, func, "table")
        sub = t if columns is None else t.select(columns)
        yield from sub.to_batches(max_chunksize=rows)
        return
    path = Path(source)
    if not path.exists():
        raise InvalidParameterError(f"{func}: the source file '{path}' does not exist.")
    if _kind(path, func, "source") == "parquet":
        import pyarrow.parquet as pq

        f = pq.ParquetFile(path)
        _check_columns(f.schema_arrow.names, columns, func, str(path))
        yield from f.iter_batches(batch_size=rows, columns=columns)
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
    except pyarrow.ArrowInvalid as exc:
        raise InvalidParameterError(f"{func}: cannot read '{path}' as CSV ({exc}).") from None
    _check_columns(reader.schema.names, columns, func, str(path))
    yield from reader


def _check_columns(names, columns, func: str, where: str) -> None:
    for c in columns or ():
        if c not in names:
            raise InvalidParameterError(
                f"{func}: no column '{c}' in {where} (columns: {', '.join(names)})."
            )


def column_values(batch, name: str) -> np.ndarray:
    """A column of a batch as a NumPy array (strings as objects, nulls as None/NaN)."""
    col = batch.column(batch.schema.get_field_index(name))
    return col.to_numpy(zero_copy_only=False)


@contextlib.contextmanager
def writer(out: Path, schema, func: str, row_group: int):
    """A writer of batches to ``out`` (CSV or Parquet by suffix), atomic: the file appears
    only when the block succeeds. Parquet row groups have exactly ``row_group`` rows
    (the last fewer), whatever the batches written, so the bytes do not depend on them."""
    from ..io import atomic_write

    kind = _kind(out, func, "out")
    pyarrow = pa()
    with atomic_write(out, "wb") as f:
        if kind == "csv":
            import pyarrow.csv as pcsv

            w = pcsv.CSVWriter(f, schema)
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

            yield write
            if count:
                w.write_table(pyarrow.Table.from_batches(pending), row_group_size=row_group)
            w.close()
