r"""Apply a :class:`Release` to every record: streamed, deterministic, atomic.

The released letter of record ``r`` (0-based row index of the source) is the inverse-CDF
draw of :math:`P(U \mid y_r)` at the uniform :math:`u_r`, the ``r``-th double of the
counter-based stream ``Philox(key=seed)``: the generator for a batch starting at row
``r0`` is built at counter :math:`\lfloor r_0/4\rfloor` (Philox yields four 64-bit words
per counter step) and the first :math:`r_0 \bmod 4` doubles are skipped. A record's draw
therefore depends only on (seed, row index, its Y), and the output is identical whatever
the batch size or engine (:func:`apply_dask` gives the same bytes). Dropped records keep
their row index, so dropping never shifts another record's draw.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_positive
from ..errors import InvalidParameterError
from . import _tables
from ._design import Release

#: Rows per Parquet row group of the output (fixed, so the bytes do not depend on batches).
ROW_GROUP = 1 << 20


def uniforms(seed: int, start: int, n: int) -> np.ndarray:
    """Doubles ``start .. start + n - 1`` of the counter-based stream ``Philox(key=seed)``."""
    bg = np.random.Philox(key=int(seed), counter=int(start) // 4)
    skip = int(start) % 4
    return np.random.Generator(bg).random(skip + int(n))[skip:]


def _policy(unknown: str, release: Release, func: str) -> tuple[str, int]:
    if unknown in ("error", "drop"):
        return unknown, -1
    if isinstance(unknown, str) and unknown.startswith("map:"):
        label = unknown[4:]
        if label not in release.labels_y:
            raise InvalidParameterError(
                f"{func}: unknown='map:{label}' names no category of '{release.useful}' "
                f"(categories: {', '.join(release.labels_y)})."
            )
        return "map", release.labels_y.index(label)
    raise InvalidParameterError(
        f"{func}: 'unknown' must be 'error', 'drop' or 'map:LABEL'; got {unknown!r}."
    )


def release_codes(
    release: Release, values, row0: int, unknown: str, func: str
) -> tuple[np.ndarray, np.ndarray]:
    """Letter indices of the useful values (a NumPy or pyarrow array) and the mask of
    records kept (the policy for unseen or missing values applied)."""
    policy, target = _policy(unknown, release, func)
    coder = release.coder()
    codes = coder.codes(values) if isinstance(values, np.ndarray) else coder.codes_arrow(values)
    bad = codes < 0
    keep = np.ones(codes.shape, dtype=bool)
    if bad.any():
        if policy == "error":
            i = int(np.flatnonzero(bad)[0])
            v = values[i] if isinstance(values, np.ndarray) else values[i].as_py()
            what = "a missing value" if v is None or v != v else f"the unseen value {v!r}"
            raise InvalidParameterError(
                f"{func}: row {row0 + i} has {what} in column '{release.useful}' (categories: "
                f"{', '.join(release.labels_y)}); pass unknown='drop' or 'map:LABEL'."
            )
        if policy == "drop":
            keep = ~bad
        else:
            codes = np.where(bad, target, codes)
    return codes, keep


def released_letters(release: Release, codes: np.ndarray, seed: int, row0: int) -> np.ndarray:
    """Released letter indices of the records ``row0 .. row0 + len(codes) - 1``."""
    gen = np.random.Generator(np.random.Philox(key=int(seed), counter=int(row0) // 4))
    if row0 % 4:
        gen.random(row0 % 4)  # the stream's doubles before row0 in its counter block
    return release.mechanism._invert(
        codes.astype(np.int64, copy=False), lambda x: gen.random(out=x)
    )


def apply_frame(
    release: Release, frame: Any, *, seed: int, column: str = "released", unknown: str = "error"
):
    """In memory: a copy of a pandas DataFrame with the released column added (row ``r``
    of the frame is record ``r``)."""
    import pandas as pd

    fn = "apply_frame"
    if release.useful not in frame.columns:
        raise InvalidParameterError(f"{fn}: no column '{release.useful}' in the frame.")
    values = frame[release.useful].to_numpy()
    codes, keep = release_codes(release, values, 0, unknown, fn)
    letters = released_letters(release, codes, seed, 0)
    out = frame.loc[keep].copy() if not keep.all() else frame.copy()
    out[column] = pd.Categorical.from_codes(letters[keep], release.labels_u)
    return out


def apply(
    release: Release,
    source: Any,
    out: str | Path,
    *,
    seed: int,
    column: str = "released",
    batch_size: int = 1 << 20,
    unknown: str = "error",
    overwrite: bool = False,
    progress: bool = False,
) -> dict[str, Any]:
    r"""Add the released column to every record of ``source`` and write ``out``.

    Parameters
    ----------
    release : Release
    source : path (.csv/.parquet), DataFrame or pyarrow Table
        Read in batches of at most ``batch_size`` records (constant memory).
    out : path (.csv or .parquet)
        Written atomically: it appears complete, or not at all (a failed run leaves no
        file). An existing ``out`` needs ``overwrite=True``.
    seed : int
        Key of the counter-based stream (module docstring).
    column : str
        Name of the released column (must not exist in the source).
    unknown : {"error", "drop", "map:LABEL"}
        A record whose useful value is unseen or missing: an error naming the value and the
        row, skip it, or treat it as category ``LABEL``.
    progress : bool
        A progress bar on stderr (records/s, ETA when the size is known).

    Returns
    -------
    dict
        ``records`` read, ``written``, ``dropped``, ``seconds``, ``rate`` (records/s).
    """
    fn = "apply"
    batch_size = int(check_positive(batch_size, func=fn, name="batch_size", integer=True))
    out = check_run(release, out, seed, unknown, overwrite, fn)
    pa = _tables.pa()
    total = _tables.n_rows(source, fn)
    t0 = time.perf_counter()
    read = written = 0
    bar = _Bar(total, progress)
    with bar:
        gen = _tables.batches(source, None, fn, rows=batch_size)
        head = next(gen, None)
        if head is None:
            raise InvalidParameterError(f"{fn}: the source has no records.")
        if release.useful not in head.schema.names:
            raise InvalidParameterError(
                f"{fn}: no column '{release.useful}' in the source (columns: "
                f"{', '.join(head.schema.names)})."
            )
        if column in head.schema.names:
            raise InvalidParameterError(
                f"{fn}: the source already has a column '{column}'; pick another 'column'."
            )
        schema = head.schema.append(pa.field(column, pa.string()))
        with _tables.writer(out, schema, fn, ROW_GROUP) as write:
            for big in _chain(head, gen):
                for b in _slices(big, batch_size):
                    ob, n = released_table(b, read, release, seed, unknown, schema, fn)
                    write(ob)
                    read += n
                    written += ob.num_rows
                    bar.advance(n)
    return summary(read, written, time.perf_counter() - t0, out)


def check_run(release: Release, out, seed, unknown: str, overwrite: bool, fn: str) -> Path:
    """The checks every apply makes before reading anything: seed, policy, the release's
    exact leakage against its budgets, and the output path."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidParameterError(f"{fn}: 'seed' must be an integer >= 0; got {seed!r}.")
    _policy(unknown, release, fn)
    release.check(func=fn)
    out = Path(out)
    if out.exists() and not overwrite:
        raise InvalidParameterError(
            f"{fn}: '{out}' exists; pass overwrite=True (--overwrite) to replace it."
        )
    return out


def summary(read: int, written: int, secs: float, out) -> dict[str, Any]:
    return {
        "records": read,
        "written": written,
        "dropped": read - written,
        "seconds": secs,
        "rate": read / secs if secs > 0 else float("inf"),
        "out": str(out),
    }


def released_table(t, offset: int, release: Release, seed: int, unknown: str, schema, fn: str):
    """An Arrow table of records ``offset ..`` with the released column appended (records
    dropped by the policy removed); returns it and the number of records read."""
    pa = _tables.pa()
    vals = t.column(release.useful)
    if isinstance(vals, pa.ChunkedArray):
        vals = vals.combine_chunks()
    codes, keep = release_codes(release, vals, offset, unknown, fn)
    letters = released_letters(release, codes, seed, offset)
    if not keep.all():
        t = t.filter(pa.array(keep))
        letters = letters[keep]
    col = pa.array(release.labels_u, type=pa.string()).take(pa.array(letters))
    cls = pa.RecordBatch if isinstance(t, pa.RecordBatch) else pa.Table
    return cls.from_arrays([*t.columns, col], schema=schema), int(keep.size)


def _chain(head, rest):
    yield head
    yield from rest


def _slices(batch, size: int):
    for s0 in range(0, batch.num_rows, size):
        yield batch.slice(s0, size)


class _Bar:
    """A rich progress bar on stderr (records/s, ETA), or nothing."""

    def __init__(self, total: int | None, show: bool):
        self.total, self.show = total, show
        self._p = None

    def __enter__(self):
        if self.show:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._p = Progress(
                TextColumn("apply"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]} records/s"),
                TimeRemainingColumn(),
                console=Console(file=sys.stderr),
                transient=True,
            )
            self._p.__enter__()
            self._task = self._p.add_task("apply", total=self.total, rate="-")
            self._t0 = time.perf_counter()
        return self

    def advance(self, n: int) -> None:
        if self._p is not None:
            done = self._p.tasks[0].completed + n
            rate = done / max(time.perf_counter() - self._t0, 1e-9)
            self._p.update(self._task, advance=n, rate=f"{rate:,.0f}")

    def __exit__(self, *exc):
        if self._p is not None:
            self._p.__exit__(*exc)
        return False
