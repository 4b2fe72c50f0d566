r"""The same apply on a Dask DataFrame (the ``scale`` extra).

Partitions are processed by the scheduler the caller names (``scheduler=``: a local
scheduler's name, or a ``distributed.Client``), never by one that happens to be active:
each partition learns its first row index from the partition lengths, draws its records'
letters from the same counter-based stream as :func:`leakage.release.apply`, and comes
back as Arrow tables (public and, if asked, audit). The driver writes them in order
through the same atomic writers (fixed row groups), so the output files are byte-identical
to the streaming path's for the same key and release id.

A distributed scheduler's workers see the data: the columns read (Y, the kept ones, X when
an audit file is written) and the stream key travel to them. Use one only where the
private table may go.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_size
from ..errors import InvalidParameterError, MissingDependencyError
from . import _tables
from ._apply import (
    PRIVATE_PERMS,
    Plan,
    _seed_removed,
    check_run,
    output_schemas,
    outputs,
    released_tables,
    summary,
)
from ._checks import MAX_WINDOW, check_path, param_error
from ._design import Release

#: Local Dask schedulers accepted by name.
LOCAL_SCHEDULERS = ("threads", "processes", "synchronous", "sync", "single-threaded")


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


def _partition(df, offset: int, release: Release, plan: Plan, schemas, source_schema):
    """One partition (a pandas DataFrame): its public and audit tables."""
    import pyarrow as pa

    t = pa.Table.from_pandas(df, schema=source_schema, preserve_index=False)
    return released_tables(t, offset, release, plan, schemas, "apply_dask")


def _row_group(path: str, group: int, offset: int, release: Release, plan: Plan, schemas):
    """One Parquet row group read by the worker itself (pyarrow, no pandas round trip)."""
    import pyarrow.parquet as pq

    names = plan.read_names(release.useful)
    t = pq.ParquetFile(path).read_row_group(group, columns=names)
    return released_tables(t, offset, release, plan, schemas, "apply_dask")


def _check_scheduler(scheduler: Any, fn: str) -> Any:
    """The scheduler to pass to ``dask.compute``: a local one by name (None: threads), or
    a ``distributed.Client`` the caller made."""
    if scheduler is None:
        return "threads"
    if isinstance(scheduler, str):
        if scheduler in LOCAL_SCHEDULERS:
            return scheduler
        raise param_error(
            fn,
            "scheduler",
            f"be None, one of {', '.join(LOCAL_SCHEDULERS)}, or a distributed.Client",
            scheduler,
            hint="For a cluster, connect first: with distributed.Client(address) as c: "
            "apply_dask(..., scheduler=c) (its workers see the data).",
        )
    if type(scheduler).__name__ == "Client" and hasattr(scheduler, "get"):
        return scheduler
    raise param_error(
        fn, "scheduler", "be None, a local scheduler's name or a distributed.Client", scheduler
    )


def apply_dask(
    release: Release,
    source: Any,
    out: str | Path,
    *,
    key: bytes | str,
    release_id: str | None = None,
    keep: list[str] | tuple[str, ...] = (),
    audit_out: str | Path | None = None,
    column: str = "released",
    unknown: str = "error",
    overwrite: bool = False,
    perms: int = PRIVATE_PERMS,
    insecure_key: bool = False,
    scheduler: Any = None,
    window: int = 8,
    seed: None = None,
) -> dict[str, Any]:
    """:func:`leakage.release.apply` on Dask: ``source`` is a Parquet path (one task per
    row group) or a Dask DataFrame; ``window`` partitions are in flight at a time (bounded
    memory on the driver). Returns the same summary; the same key and release id give the
    same bytes as :func:`~leakage.release.apply`.

    ``scheduler``: None (local threads), a local scheduler's name (``"threads"``,
    ``"processes"``, ``"synchronous"``), or a ``distributed.Client``; only the scheduler
    named here is used, and a distributed one's workers see the data and the stream key.
    ``window`` is an integer in ``[1, MAX_WINDOW]`` (``MAX_WINDOW`` = 1024); the other
    arguments as in :func:`apply`. Raises :class:`~leakage.InvalidParameterError` for an
    argument outside these, or a source with no records, before any output is written."""
    dask, dd = _dask()
    pa = _tables.pa()
    fn = "apply_dask"
    _seed_removed(seed, fn)
    sched = _check_scheduler(scheduler, fn)
    window = check_size(
        window,
        func=fn,
        name="window",
        limit=MAX_WINDOW,
        what="partitions",
        hint="Memory on the driver grows with the partitions in flight; 8 is the default.",
    )
    is_ddf = isinstance(source, dd.DataFrame)
    if not is_ddf:
        check_path(source, func=fn, name="source", what="a Parquet path or a Dask DataFrame")
    plan = check_run(
        release,
        out,
        key=key,
        release_id=release_id,
        keep=keep,
        audit_out=audit_out,
        unknown=unknown,
        overwrite=overwrite,
        perms=perms,
        insecure_key=insecure_key,
        fn=fn,
        column=column,
        source=None if is_ddf else source,
    )
    if is_ddf:
        ddf = source
        base = pa.Schema.from_pandas(ddf._meta, preserve_index=False)
    else:
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
    names = plan.read_names(release.useful)
    missing = [c for c in names if c not in base.names]
    if missing:
        raise InvalidParameterError(
            f"{fn}: no column '{missing[0]}' in the source (columns: {', '.join(base.names)})."
        )
    schemas = output_schemas(base, plan)
    t0 = time.perf_counter()
    if ddf is None:  # a Parquet file: one task per row group, read by the worker
        lens = np.array(
            [pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)], dtype=np.int64
        )
        offsets = np.concatenate([[0], np.cumsum(lens)])[:-1]
        task = dask.delayed(_row_group, pure=True)
        src = str(path)

        def job(i):
            return task(src, i, int(offsets[i]), release, plan, schemas)
    else:  # a Dask DataFrame: partitions, offsets from their lengths
        ddf = ddf[names]
        lens = ddf.map_partitions(len).compute(scheduler=sched).to_numpy()
        offsets = np.concatenate([[0], np.cumsum(lens)])[:-1]
        parts = ddf.to_delayed()
        task = dask.delayed(_partition, pure=True)
        sub = pa.schema([base.field(c) for c in names])

        def job(i):
            return task(parts[i], int(offsets[i]), release, plan, schemas, sub)

    if int(np.sum(lens)) == 0:
        raise InvalidParameterError(f"{fn}: the source has no records.")
    read = written = 0
    with outputs(plan, schemas, fn) as write:
        for s0 in range(0, len(lens), window):
            jobs = [job(i) for i in range(s0, min(s0 + window, len(lens)))]
            for pub, aud, n in dask.compute(*jobs, scheduler=sched):
                write(pub, aud)
                read += n
                written += pub.num_rows
    return summary(read, written, time.perf_counter() - t0, plan)
