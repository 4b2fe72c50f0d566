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

from .._validation import check_size
from ..errors import InvalidParameterError
from . import _tables
from ._checks import (
    MAX_BATCH,
    MAX_UNIFORMS,
    check_column,
    check_instance,
    check_path,
    check_seed,
    check_start,
    param_error,
    some,
)
from ._design import Release

#: Rows per Parquet row group of the output (fixed, so the bytes do not depend on batches).
ROW_GROUP = 1 << 20


def uniforms(seed: int, start: int, n: int) -> np.ndarray:
    """Doubles ``start .. start + n - 1`` of the counter-based stream ``Philox(key=seed)``.

    Parameters
    ----------
    seed : int
        The key, in ``[0, 2**128)``.
    start : int
        The first row index, in ``[0, 2**64)``.
    n : int
        How many doubles, in ``[0, MAX_UNIFORMS]`` (``MAX_UNIFORMS`` = 2**27, 1 GiB); the
        limit is checked before anything is allocated. For more, draw consecutive pieces
        (``uniforms(seed, start + i * m, m)``, the same stream) or use :func:`apply`, which
        streams.

    Raises
    ------
    InvalidParameterError
        For an argument outside the above.
    """
    fn = "uniforms"
    seed = check_seed(seed, func=fn)
    start = check_start(start, func=fn)
    n = check_size(
        n,
        func=fn,
        name="n",
        limit=MAX_UNIFORMS,
        minimum=0,
        what="doubles",
        hint="Draw the stream in smaller pieces (uniforms(seed, start + i * m, m) gives the "
        "same doubles), or let apply stream the records.",
    )
    bg = np.random.Philox(key=seed, counter=start // 4)
    skip = start % 4
    return np.random.Generator(bg).random(skip + n)[skip:]


def _policy(unknown: str, release: Release, func: str) -> tuple[str, int]:
    if unknown in ("error", "drop"):
        return unknown, -1
    if isinstance(unknown, str) and unknown.startswith("map:"):
        label = unknown[4:]
        if label not in release.labels_y:
            raise param_error(
                func,
                "unknown",
                f"be 'map:LABEL' with LABEL a category of '{release.useful}' (categories: "
                f"{some(release.labels_y)})",
                got_text=f"{unknown!r}, which names no category of '{release.useful}',",
            )
        return "map", release.labels_y.index(label)
    raise param_error(func, "unknown", "be 'error', 'drop' or 'map:LABEL'", unknown)


def release_codes(
    release: Release, values, row0: int, unknown: str, func: str, name: str = "source"
) -> tuple[np.ndarray, np.ndarray]:
    """Letter indices of the useful values (a NumPy or pyarrow array) and the mask of
    records kept (the policy for unseen or missing values applied); ``name`` is the
    caller's argument holding the values, in error messages."""
    policy, target = _policy(unknown, release, func)
    coder = release.coder()
    if isinstance(values, np.ndarray):
        codes = coder.codes(values, func=func, name=name)
    else:
        codes = coder.codes_arrow(values, func=func, name=name)
    bad = codes < 0
    keep = np.ones(codes.shape, dtype=bool)
    if bad.any():
        if policy == "error":
            i = int(np.flatnonzero(bad)[0])
            v = values[i] if isinstance(values, np.ndarray) else values[i].as_py()
            what = "a missing value" if v is None or v != v else f"the unseen value {v!r}"
            raise InvalidParameterError(
                f"{func}: row {row0 + i} has {what} in column '{release.useful}' (categories: "
                f"{some(release.labels_y)}); pass unknown='drop' or 'map:LABEL'."
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
    release: Release,
    frame: Any,
    *,
    seed: int,
    column: str = "released",
    unknown: str = "error",
):
    """In memory: a copy of a pandas DataFrame with the released column added (row ``r``
    of the frame is record ``r``).

    Parameters
    ----------
    release : Release
        Checked against its budgets first (as :func:`apply` does).
    frame : pandas.DataFrame
    seed : int
        Key of the counter-based stream, in ``[0, 2**128)``.
    column : str
        Name of the released column.
    unknown : {"error", "drop", "map:LABEL"}
        As in :func:`apply`.

    Raises
    ------
    InvalidParameterError
        For an argument outside the above, or a record whose useful value is unseen or
        missing under ``unknown="error"``.
    InfeasibleError
        When the release leaks over a budget (an edited release).
    """
    import pandas as pd

    fn = "apply_frame"
    check_release(release, fn)
    check_instance(frame, pd.DataFrame, func=fn, name="frame", what="a pandas DataFrame")
    seed = check_seed(seed, func=fn)
    column = check_column(column, func=fn, name="column")
    _policy(unknown, release, fn)
    release.check(func=fn)
    if release.useful not in frame.columns:
        raise InvalidParameterError(f"{fn}: no column '{release.useful}' in the frame.")
    values = frame[release.useful].to_numpy()
    codes, keep = release_codes(release, values, 0, unknown, fn, "frame")
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
        Key of the counter-based stream (module docstring), in ``[0, 2**128)``.
    column : str
        Name of the released column (must not exist in the source).
    batch_size : int
        Records per batch, in ``[1, MAX_BATCH]`` (``MAX_BATCH`` = 2**24); memory grows
        with it, the output does not depend on it.
    unknown : {"error", "drop", "map:LABEL"}
        A record whose useful value is unseen or missing: an error naming the value and the
        row, skip it, or treat it as category ``LABEL``.
    progress : bool
        A progress bar on stderr (records/s, ETA when the size is known).

    Returns
    -------
    dict
        ``records`` read, ``written``, ``dropped``, ``seconds``, ``rate`` (records/s).

    Raises
    ------
    InvalidParameterError
        For an argument outside the above (all checked before anything is read).
    InfeasibleError
        When the release leaks over a budget (an edited release).
    """
    fn = "apply"
    batch_size = check_size(
        batch_size,
        func=fn,
        name="batch_size",
        limit=MAX_BATCH,
        what="records",
        hint="Smaller batches give the same output; 2**20 (the default) is plenty.",
    )
    out = check_run(release, out, seed, unknown, overwrite, fn, column=column)
    _tables.check_source(source, fn, "source")
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


def check_release(release: Any, fn: str) -> Release:
    """``release`` if it is a :class:`Release` (the fields are validated on construction)."""
    return check_instance(
        release, Release, func=fn, name="release", what="a Release (from design or Release.load)"
    )


def check_run(
    release: Release, out, seed, unknown: str, overwrite: bool, fn: str, *, column="released"
) -> Path:
    """The checks every apply makes before reading anything: the release, seed, column,
    policy, the release's exact leakage against its budgets, and the output path."""
    check_release(release, fn)
    check_seed(seed, func=fn)
    check_column(column, func=fn, name="column")
    _policy(unknown, release, fn)
    release.check(func=fn)
    out = Path(check_path(out, func=fn, name="out", what="an output path (.csv or .parquet)"))
    _tables.kind(out, fn, "out")
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
