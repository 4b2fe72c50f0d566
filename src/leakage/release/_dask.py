r"""The same apply on a Dask DataFrame (the ``scale`` extra).

Partitions are processed by whatever Dask scheduler is active (a ``distributed.Client``
if one exists, else ``scheduler=``): each partition learns its first row index from the
partition lengths, draws its records' letters from the same counter-based stream as
:func:`leakage.release.apply`, and comes back as an Arrow table with the source's schema.
The driver writes them in order through the same atomic writer (fixed row groups), so the
output file is byte-identical to the streaming path's for the same seed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_size
from ..errors import InvalidParameterError, MissingDependencyError
from . import _tables
from ._apply import ROW_GROUP, check_run, released_table, summary
from ._checks import MAX_WINDOW, check_path, param_error
from ._design import Release


def _dask():
    try:
        import dask
        import dask.dataframe as dd
    except ImportError as exc:  # pragma: no cover - exercised without the extra only
        raise MissingDependencyError(
            "apply_dask needs dask, which is not installed; "
            "install the 'scale' extra: pip install -e \".[scale]\" in a checkout of "
            "leakage, pip install 'leakage[scale]' otherwise."
        ) from exc
    return dask, dd


def _partition(df, offset: int, release: Release, seed: int, unknown: str, column: str, schema):
    """One partition (a pandas DataFrame) with the released column, as an Arrow table."""
    import pyarrow as pa

    t = pa.Table.from_pandas(
        df, schema=schema.remove(schema.get_field_index(column)), preserve_index=False
    )
    return released_table(t, offset, release, seed, unknown, schema, "apply_dask")


def _row_group(
    path: str,
    group: int,
    offset: int,
    release: Release,
    seed: int,
    unknown: str,
    column: str,
    schema,
):
    """One Parquet row group read by the worker itself (pyarrow, no pandas round trip)."""
    import pyarrow.parquet as pq

    t = pq.ParquetFile(path).read_row_group(group)
    return released_table(t, offset, release, seed, unknown, schema, "apply_dask")


def apply_dask(
    release: Release,
    source: Any,
    out: str | Path,
    *,
    seed: int,
    column: str = "released",
    unknown: str = "error",
    overwrite: bool = False,
    scheduler: str | None = None,
    window: int = 8,
) -> dict[str, Any]:
    """:func:`leakage.release.apply` on Dask: ``source`` is a Parquet path (read with
    ``dask.dataframe.read_parquet``) or a Dask DataFrame; ``window`` partitions are in
    flight at a time (bounded memory on the driver). Returns the same summary.

    ``window`` is an integer in ``[1, MAX_WINDOW]`` (``MAX_WINDOW`` = 1024); ``scheduler``
    None or a Dask scheduler's name; the other arguments as in :func:`apply`. Raises
    :class:`~leakage.InvalidParameterError` for an argument outside these, before any
    partition is computed."""
    import time

    dask, dd = _dask()
    pa = _tables.pa()
    fn = "apply_dask"
    out = check_run(release, out, seed, unknown, overwrite, fn, column=column)
    window = check_size(
        window,
        func=fn,
        name="window",
        limit=MAX_WINDOW,
        what="partitions",
        hint="Memory on the driver grows with the partitions in flight; 8 is the default.",
    )
    if scheduler is not None and not isinstance(scheduler, str):
        raise param_error(
            fn, "scheduler", "be None or a scheduler's name ('threads', ...)", scheduler
        )
    if isinstance(source, dd.DataFrame):
        ddf = source
        base = pa.Schema.from_pandas(ddf._meta, preserve_index=False)
    else:
        check_path(source, func=fn, name="source", what="a Parquet path or a Dask DataFrame")
        path = Path(source)
        if _tables.SUFFIXES.get(path.suffix.lower()) != "parquet":
            raise InvalidParameterError(
                f"{fn}: the source must be a Parquet file or a Dask DataFrame; got '{path}'."
            )
        if not path.exists():
            raise InvalidParameterError(f"{fn}: the source file '{path}' does not exist.")
        pf = _tables.parquet_file(path, fn, "source")
        base = pf.schema_arrow
        ddf = None
    if release.useful not in base.names:
        raise InvalidParameterError(
            f"{fn}: no column '{release.useful}' in the source (columns: {', '.join(base.names)})."
        )
    if column in base.names:
        raise InvalidParameterError(f"{fn}: the source already has a column '{column}'.")
    schema = base.append(pa.field(column, pa.string()))
    t0 = time.perf_counter()
    kw = {} if scheduler is None else {"scheduler": scheduler}
    if ddf is None:  # a Parquet file: one task per row group, read by the worker
        lens = np.array([pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)])
        offsets = np.concatenate([[0], np.cumsum(lens)])[:-1]
        task = dask.delayed(_row_group, pure=True)
        src = str(path)

        def job(i):
            return task(src, i, int(offsets[i]), release, int(seed), unknown, column, schema)
    else:  # a Dask DataFrame: partitions, offsets from their lengths
        lens = ddf.map_partitions(len).compute(**kw).to_numpy()
        offsets = np.concatenate([[0], np.cumsum(lens)])[:-1]
        parts = ddf.to_delayed()
        task = dask.delayed(_partition, pure=True)

        def job(i):
            return task(parts[i], int(offsets[i]), release, int(seed), unknown, column, schema)

    read = written = 0
    with _tables.writer(out, schema, fn, ROW_GROUP) as write:
        for s0 in range(0, len(lens), window):
            jobs = [job(i) for i in range(s0, min(s0 + window, len(lens)))]
            for table, n in dask.compute(*jobs, **kw):
                for b in table.to_batches():
                    write(b)
                read += n
                written += table.num_rows
    return summary(read, written, time.perf_counter() - t0, out)
