r"""Count tables of big logs: a CSV/Parquet file streamed in batches, a pandas or Dask
DataFrame.

:func:`count_log` reduces a log of (secret, observable) records to the :class:`Counts`
every estimator of :mod:`leakage.estimate` starts from, without holding the log in
memory: each batch of ``batch_rows`` records is reduced to its distinct pairs and their
counts (a vectorized group-by: pyarrow for files, pandas for DataFrames), and the partial
results are merged whenever they outgrow the merged one, so memory grows with the number
of distinct pairs, not with the number of records. A Dask DataFrame is counted on its
cluster (a group-by); only the small count result comes back.

The labels are then factorized exactly as :func:`counts` does, so the result is identical
to ``counts(x, y)`` on the two columns read fully into memory.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from .._validation import MAX_ENTRIES, check_size
from ..errors import InvalidDistributionError, MissingDependencyError
from ._discrete import _PREFIX, Counts, _factorize, _missing, _raise

__all__ = ["count_log"]

_FN = "count_log"
#: Partial (per-batch) count tables are merged once they hold this many rows, or more
#: rows than the merged table (whichever is larger): memory O(distinct pairs).
MERGE_ROWS = 1 << 20
#: Largest ``batch_rows`` accepted.
MAX_BATCH_ROWS = MAX_ENTRIES
_SOURCE = "a .csv or .parquet path, a pandas DataFrame or a Dask DataFrame"


# --------------------------------------------------------------------------- helpers


def _pyarrow():
    try:
        import pyarrow
        import pyarrow.compute
    except ImportError as exc:
        raise MissingDependencyError(
            f"{_PREFIX}{_FN}: reading a CSV/Parquet log needs pyarrow; "
            "install the 'release' extra: pip install -e \".[release]\" in a checkout of "
            "leakage, pip install 'leakage[release]' otherwise."
        ) from exc
    return pyarrow


def _dask_compute():
    try:
        import dask
    except ImportError as exc:  # a Dask DataFrame implies dask, but not always importable
        raise MissingDependencyError(
            f"{_PREFIX}{_FN}: counting a Dask DataFrame needs dask; "
            "install the 'scale' extra: pip install -e \".[scale]\" in a checkout of "
            "leakage, pip install 'leakage[scale]' otherwise."
        ) from exc
    return dask.compute


def _module(source: Any) -> str:
    return type(source).__module__ or ""


def _is_dask(source: Any) -> bool:
    """A Dask DataFrame, recognized without importing dask (``dask.dataframe`` and the
    older ``dask_expr`` collections)."""
    return _module(source).startswith("dask") and hasattr(source, "columns")


def _is_pandas(source: Any) -> bool:
    return _module(source).startswith("pandas") and hasattr(source, "columns")


def _check_names(secret: Any, observable: Any, frame: bool) -> None:
    for name, value in (("secret", secret), ("observable", observable)):
        ok = isinstance(value, str) and value != ""
        if frame and not ok:  # DataFrame columns may be any hashable label
            try:
                hash(value)
                ok = value is not None
            except TypeError:
                ok = False
        if not ok:
            _raise(_FN, name, "be the name of a column of the source", repr(value))


def _check_columns(names, wanted, where: str) -> None:
    from ..release._tables import _check_columns as check

    check(list(names), wanted, _PREFIX + _FN, where)


def _missing_error(column: Any, value: Any, where: str):
    _raise(
        _FN,
        "source",
        f"have no missing values (NaN/None) in column {column!r}",
        f"{value!r} at {where}",
        InvalidDistributionError,
    )


@contextlib.contextmanager
def _progress(enabled: bool, total: int | None, what: str) -> Iterator:
    """``advance(rows)``: a rich progress display of rows counted, on stderr."""
    if not enabled:
        yield lambda rows: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = [SpinnerColumn(), TextColumn("{task.description}")]
    if total is not None:
        columns += [BarColumn(), TextColumn("{task.percentage:>5.1f}%")]
    columns += [TextColumn("{task.completed:,.0f} rows"), TimeElapsedColumn()]
    if total is not None:
        columns.append(TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(f"counting {what}", total=total)
        yield lambda rows: bar.advance(task, rows)


def _to_counts(kx: np.ndarray, ky: np.ndarray, cnt: np.ndarray, secret: Any) -> Counts:
    """The :class:`Counts` of distinct (or repeated) pairs ``(kx, ky)`` seen ``cnt`` times,
    factorized as :func:`counts` factorizes the full columns."""
    cnt = np.asarray(cnt, dtype=np.int64)
    keep = cnt > 0  # unobserved categories of a categorical column
    kx, ky, cnt = kx[keep], ky[keep], cnt[keep]
    n = int(cnt.sum())
    if n < 2:
        _raise(_FN, "source", "hold at least 2 paired samples", f"{n}", InvalidDistributionError)
    lx, ix = _factorize(kx)
    ly, iy = _factorize(ky)
    if lx.shape[0] < 2:
        _raise(
            _FN,
            "source",
            f"take at least 2 distinct secret values in column {secret!r} (nothing can leak "
            "otherwise)",
            f"only {lx[0]!r}",
            InvalidDistributionError,
        )
    ny = ly.shape[0]
    table = np.zeros(lx.shape[0] * ny, dtype=np.int64)
    np.add.at(table, ix * ny + iy, cnt)  # pairs equal as labels may repeat (e.g. 0.0, -0.0)
    return Counts(table.reshape(lx.shape[0], ny), lx, ly)


# --------------------------------------------------------------------------- files (pyarrow)


def _arrow_batches(source: Any, columns: list, batch_rows: int):
    """(batches, total rows or None, what): record batches of at most ``batch_rows`` rows."""
    from pathlib import Path

    from ..release import _tables

    name = "source"
    _tables.check_source(source, _PREFIX + _FN, name)
    total = what = None
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        what = str(path)
        fmt = _tables.kind(path, _PREFIX + _FN, name)
        if fmt == "parquet" and path.exists():
            total = _tables.parquet_file(path, _PREFIX + _FN, name).metadata.num_rows
    else:
        total = _tables.n_rows(source, _PREFIX + _FN, name)
        what = type(source).__name__

    def gen():
        for batch in _tables.batches(source, columns, _PREFIX + _FN, batch_rows, name):
            for start in range(0, batch.num_rows, batch_rows):  # CSV blocks are bytes
                yield batch.slice(start, batch_rows)

    return gen(), total, what


def _arrow_column(batch, name: str):
    """A column of a batch, dictionaries decoded (their values are the labels)."""
    pa = _pyarrow()
    col = batch.column(batch.schema.get_field_index(name))
    if pa.types.is_dictionary(col.type):
        col = col.dictionary_decode()
    return col


def _check_arrow_missing(col, column: str, offset: int) -> None:
    pa = _pyarrow()
    pc = pa.compute
    floating = pa.types.is_floating(col.type)
    if col.null_count == 0 and not (floating and pc.any(pc.is_nan(col)).as_py()):
        return
    mask = pc.is_null(col, nan_is_null=True) if floating else pc.is_null(col)
    i = pc.index(mask, True).as_py()
    _missing_error(column, col[i].as_py(), f"row {offset + i}")


def _count_arrow(source: Any, secret: str, observable: str, batch_rows: int, progress: bool):
    pa = _pyarrow()
    columns = list(dict.fromkeys([secret, observable]))
    batches, total, what = _arrow_batches(source, columns, batch_rows)
    merged = None
    parts: list = []
    pending = 0
    offset = 0

    def reduce(tables, agg):
        t = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
        out = t.group_by(["x", "y"], use_threads=False).aggregate(agg)
        value = next(c for c in out.column_names if c not in ("x", "y"))  # order varies
        return out.select(["x", "y", value]).rename_columns(["x", "y", "n"])

    count = [("x", "count", pa.compute.CountOptions(mode="all"))]  # pyarrow >= 14

    with _progress(progress, total, what) as advance:
        for batch in batches:
            cx = _arrow_column(batch, secret)
            cy = _arrow_column(batch, observable)
            _check_arrow_missing(cx, secret, offset)
            _check_arrow_missing(cy, observable, offset)
            offset += batch.num_rows
            if batch.num_rows:
                t = pa.table({"x": cx, "y": cy})
                parts.append(reduce([t], count))
                pending += parts[-1].num_rows
                if pending > max(MERGE_ROWS, 0 if merged is None else merged.num_rows):
                    merged = reduce(parts if merged is None else [merged, *parts], [("n", "sum")])
                    parts, pending = [], 0
            advance(batch.num_rows)
    if parts:
        merged = reduce(parts if merged is None else [merged, *parts], [("n", "sum")])
    if merged is None:  # no rows at all
        return _to_counts(np.empty(0), np.empty(0), np.empty(0, dtype=np.int64), secret)
    kx = merged.column("x").to_numpy(zero_copy_only=False)
    ky = merged.column("y").to_numpy(zero_copy_only=False)
    return _to_counts(kx, ky, merged.column("n").to_numpy(), secret)


# --------------------------------------------------------------------------- DataFrames


def _grouped(frame, keys: list, **kw):
    """Sizes of the groups of ``keys`` (pandas or Dask), unobserved categories dropped."""
    return frame[keys].groupby(keys, sort=False, observed=True, **kw).size()


def _pairs(sizes, keys: list, secret: Any, observable: Any):
    """(kx, ky, counts) of a group-size Series indexed by ``keys``."""
    idx = sizes.index
    level = idx.get_level_values if len(keys) > 1 else (lambda _: idx)
    kx = level(keys.index(secret)).to_numpy()
    ky = level(keys.index(observable)).to_numpy()
    return kx, ky, sizes.to_numpy()


def _count_pandas(frame, secret: Any, observable: Any, batch_rows: int, progress: bool):
    import pandas as pd

    keys = list(dict.fromkeys([secret, observable]))
    _check_columns(frame.columns, keys, "the DataFrame")
    merged = None
    parts: list = []
    pending = 0
    n = len(frame)
    with _progress(progress, n, "DataFrame") as advance:
        for start in range(0, n, batch_rows):
            part = frame.iloc[start : start + batch_rows]
            for column in keys:
                miss = _missing(part[column].to_numpy())
                if miss.any():
                    i = int(np.argmax(miss))
                    _missing_error(column, part[column].iloc[i], f"row {start + i}")
            parts.append(_grouped(part, keys))
            pending += len(parts[-1])
            if pending > max(MERGE_ROWS, 0 if merged is None else len(merged)):
                merged = _merge(pd, [merged, *parts] if merged is not None else parts, keys)
                parts, pending = [], 0
            advance(len(part))
    if parts:
        merged = _merge(pd, [merged, *parts] if merged is not None else parts, keys)
    if merged is None:
        return _to_counts(np.empty(0), np.empty(0), np.empty(0, dtype=np.int64), secret)
    return _to_counts(*_pairs(merged, keys, secret, observable), secret)


def _merge(pd, sizes: list, keys: list):
    s = pd.concat(sizes) if len(sizes) > 1 else sizes[0]
    return s.groupby(level=list(range(len(keys))), sort=False, observed=True).sum()


def _count_dask(frame, secret: Any, observable: Any, progress: bool):
    compute = _dask_compute()
    keys = list(dict.fromkeys([secret, observable]))
    _check_columns(frame.columns, keys, "the Dask DataFrame")
    sizes = _grouped(frame, keys)
    nulls = frame[keys].isna().sum()
    with _progress(progress, None, "Dask DataFrame") as advance:
        sizes, nulls = compute(sizes, nulls)
        advance(int(sizes.sum()) + int(nulls.max()))
    for column in keys:
        k = int(nulls[column])
        if k:  # the row is not known without another pass
            _raise(
                _FN,
                "source",
                f"have no missing values (NaN/None) in column {column!r}",
                f"{k:,} missing value{'s' if k != 1 else ''}",
                InvalidDistributionError,
            )
    return _to_counts(*_pairs(sizes, keys, secret, observable), secret)


# --------------------------------------------------------------------------- public


def count_log(
    source: Any,
    secret: Any,
    observable: Any,
    *,
    batch_rows: int = 1_000_000,
    progress: bool = False,
) -> Counts:
    """Count table of a log of (secret, observable) records, streamed in batches.

    The same :class:`Counts` as :func:`counts` on the two columns read fully into memory
    (same table, same sorted labels of the same dtype), in memory that grows with the
    number of distinct (secret, observable) pairs, not with the number of records. Pass
    it as ``x`` (``y`` omitted) to any estimator or to :func:`independence_test`.

    Parameters
    ----------
    source : str, os.PathLike, pandas.DataFrame or dask.dataframe.DataFrame
        The log. A path to a ``.csv`` or ``.parquet``/``.pq`` file is read with pyarrow
        (the ``release`` extra) ``batch_rows`` records at a time, only the two columns;
        a pandas DataFrame is counted in slices of ``batch_rows`` rows; a Dask DataFrame
        is counted on its cluster by a group-by, only the counts come back (the ``scale``
        extra). A pyarrow Table is read like a file.
    secret, observable : str
        Names of the secret (``X``) and observable (``Y``) columns; any labels (integers,
        strings, floats, booleans, ...), no missing values.
    batch_rows : int, default 1_000_000
        Records counted per batch (memory of one batch); at most ``2**27``. Ignored for a
        Dask DataFrame (its partitions are the batches).
    progress : bool, default False
        Show the rows counted on stderr (a ``rich`` progress bar; with the total for a
        Parquet file or a DataFrame).

    Returns
    -------
    Counts
        ``(table, labels_x, labels_y)``: ``table[i, j]`` (int64) = number of records with
        secret ``labels_x[i]`` and observable ``labels_y[j]``; the labels sorted
        (unorderable mixed labels of a DataFrame: first-seen order, which for a Dask
        DataFrame may differ from the row order).

    Raises
    ------
    InvalidParameterError
        A source of another kind, a path without a ``.csv``/``.parquet``/``.pq`` suffix or
        that does not exist, an unreadable file, a column that is not in the source (the
        message lists the columns), a ``batch_rows`` that is not a positive integer.
    InvalidDistributionError
        A missing value (null, NaN, None) in either column (the message names the column
        and the row, 0-based, or for a Dask DataFrame the number of missing values), fewer than 2
        records or fewer than 2 distinct secrets.
    MissingDependencyError
        pyarrow (the ``release`` extra: ``pip install -e ".[release]"`` in a checkout) for a
        file, dask (the ``scale`` extra) for a Dask DataFrame.

    Examples
    --------
    >>> import pandas as pd
    >>> from leakage.estimate import count_log, mutual_information
    >>> log = pd.DataFrame({"s": [0, 0, 1, 1, 1], "o": ["a", "b", "b", "b", "a"]})
    >>> c = count_log(log, "s", "o", batch_rows=2)
    >>> c.table.tolist(), c.labels_x.tolist(), c.labels_y.tolist()
    ([[1, 1], [1, 2]], [0, 1], ['a', 'b'])
    >>> round(mutual_information(c, method="plugin", interval=None).value, 4)
    0.02
    """
    frame = _is_pandas(source) or _is_dask(source)
    _check_names(secret, observable, frame)
    batch_rows = check_size(
        batch_rows,
        func=_PREFIX + _FN,
        name="batch_rows",
        limit=MAX_BATCH_ROWS,
        what="rows",
        hint="A batch is held in memory; the default (10^6) is a good size.",
    )
    if progress not in (True, False):
        _raise(_FN, "progress", "be True or False", repr(progress))
    if _is_dask(source):
        return _count_dask(source, secret, observable, bool(progress))
    if _is_pandas(source):
        return _count_pandas(source, secret, observable, batch_rows, bool(progress))
    pa = _pyarrow()
    if not isinstance(source, (str, os.PathLike, pa.Table)) or (
        isinstance(source, str) and not source
    ):
        _raise(_FN, "source", f"be {_SOURCE}", f"a {type(source).__name__}")
    return _count_arrow(source, secret, observable, batch_rows, bool(progress))
