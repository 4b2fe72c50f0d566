r"""Apply a :class:`Release` to every record: streamed, deterministic, atomic, public.

The released letter of record ``r`` (0-based row index of the source) is the inverse-CDF
draw of :math:`P(U \mid y_r)` at the uniform :math:`u_r`, the ``r``-th double of the
counter-based stream ``Philox(k)`` whose 128-bit key ``k = stream_key(key, release_id)``
is derived from the secret key and the release id (:mod:`leakage.release._keys`, with the
threat model): the generator for a batch starting at row ``r0`` is built at counter
:math:`\lfloor r_0/4\rfloor` (Philox yields four 64-bit words per counter step) and the
first :math:`r_0 \bmod 4` doubles are skipped. A record's draw therefore depends only on
(key, release id, row index, its Y), and the output is identical whatever the batch size
or engine (:func:`apply_dask` gives the same bytes). Dropped records keep their row index,
so dropping never shifts another record's draw.

The output is the *public* table: the released column and only the columns named in
``keep`` (never the private column; the useful one only when kept, with a
:class:`~leakage.errors.DisclosureWarning`), mode 0600 unless ``perms`` says otherwise.
The audit's (X, U) pairs go, when asked, to a separate private file (``audit_out``), or
the audit rejoins the public table with the source (:func:`leakage.release.audit`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_size
from ..errors import DisclosureWarning, InvalidParameterError, OutputExistsError
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
from ._keys import check_key, check_release_id, new_release_id, stream_key

#: Rows per Parquet row group of the output (fixed, so the bytes do not depend on batches).
ROW_GROUP = 1 << 20
#: File mode of the public output and of the audit file unless asked otherwise.
PRIVATE_PERMS = 0o600


def uniforms(stream_key: int, start: int, n: int) -> np.ndarray:
    """Doubles ``start .. start + n - 1`` of the counter-based stream ``Philox(stream_key)``.

    Parameters
    ----------
    stream_key : int
        The 128-bit Philox key, in ``[0, 2**128)``; a release's is
        :func:`~leakage.release.stream_key` of its key and release id.
    start : int
        The first row index, in ``[0, 2**64)``.
    n : int
        How many doubles, in ``[0, MAX_UNIFORMS]`` (``MAX_UNIFORMS`` = 2**27, 1 GiB); the
        limit is checked before anything is allocated. For more, draw consecutive pieces
        (``uniforms(k, start + i * m, m)``, the same stream) or use :func:`apply`, which
        streams.

    Raises
    ------
    InvalidParameterError
        For an argument outside the above.
    """
    fn = "uniforms"
    k = check_seed(stream_key, func=fn)
    start = check_start(start, func=fn)
    n = check_size(
        n,
        func=fn,
        name="n",
        limit=MAX_UNIFORMS,
        minimum=0,
        what="doubles",
        hint="Draw the stream in smaller pieces (uniforms(k, start + i * m, m) gives the "
        "same doubles), or let apply stream the records.",
    )
    bg = np.random.Philox(key=k, counter=start // 4)
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


def released_letters(release: Release, codes: np.ndarray, skey: int, row0: int) -> np.ndarray:
    """Released letter indices of the records ``row0 .. row0 + len(codes) - 1`` (``skey``:
    the Philox stream key)."""
    gen = np.random.Generator(np.random.Philox(key=int(skey), counter=int(row0) // 4))
    if row0 % 4:
        gen.random(row0 % 4)  # the stream's doubles before row0 in its counter block
    return release.mechanism._invert(
        codes.astype(np.int64, copy=False), lambda x: gen.random(out=x)
    )


@dataclasses.dataclass(frozen=True)
class Plan:
    """What an apply writes, checked before anything is read."""

    out: Path
    audit_out: Path | None
    skey: int
    release_id: str
    keep: tuple[str, ...]
    column: str
    private: str
    unknown: str
    overwrite: bool
    perms: int

    def public_names(self) -> list[str]:
        return [*self.keep, self.column]

    def audit_names(self) -> list[str]:
        return [self.private, self.column]

    def read_names(self, useful: str) -> list[str]:
        """The source columns to read: the useful one, the kept ones, X for the audit."""
        names = [useful, *self.keep]
        if self.audit_out is not None:
            names.append(self.private)
        return list(dict.fromkeys(names))


def _seed_removed(seed: Any, fn: str) -> None:
    if seed is not None:
        raise InvalidParameterError(
            f"{fn}: the 'seed' argument was replaced by 'key': a small integer seed can be "
            "found by search, and with it the released column gives Y away. Pass "
            "key=leakage.release.new_key() (keep it with write_key) and, to reproduce a "
            "release, its release_id."
        )


def check_run(
    release: Release,
    out,
    *,
    key,
    release_id,
    keep: Sequence[str],
    audit_out,
    unknown: str,
    overwrite: bool,
    perms: int,
    insecure_key: bool,
    fn: str,
    column: str = "released",
    source: Any = None,
) -> Plan:
    """The checks every apply makes before reading anything: the release, key, release
    id, columns, policy, the release's exact leakage against its budgets, and the output
    paths (none of them the source; existing ones only with ``overwrite``)."""
    check_release(release, fn)
    skey, rid, column, kept = _check_draws(
        release, key, release_id, column, keep, unknown, insecure_key, fn
    )
    if isinstance(perms, bool) or not isinstance(perms, int) or not 0 <= perms <= 0o777:
        raise param_error(fn, "perms", "be a file mode in [0, 0o777], e.g. 0o600", perms)
    release.check(func=fn)
    outp = _out_path(out, fn, "out", overwrite, source)
    aud = None
    if audit_out is not None:
        aud = _out_path(audit_out, fn, "audit_out", overwrite, source)
        if _same_path(aud, outp):
            raise param_error(
                fn, "audit_out", "differ from 'out'", got_text=f"'{aud}', the same file,"
            )
    return Plan(
        out=outp,
        audit_out=aud,
        skey=skey,
        release_id=rid,
        keep=kept,
        column=column,
        private=release.private,
        unknown=unknown,
        overwrite=bool(overwrite),
        perms=perms,
    )


def _check_draws(
    release: Release, key, release_id, column, keep, unknown, insecure_key: bool, fn: str
) -> tuple[int, str, str, tuple[str, ...]]:
    """What fixes the draws and the public columns, checked: the stream key, the release
    id (a new one when None), the released column's name, the kept columns, the policy."""
    raw = check_key(key, insecure=insecure_key, func=fn)
    rid = new_release_id() if release_id is None else check_release_id(release_id, func=fn)
    column = check_column(column, func=fn, name="column")
    kept = _check_keep(keep, release, column, fn)
    _policy(unknown, release, fn)
    return stream_key(raw, rid), rid, column, kept


def _check_keep(keep: Any, release: Release, column: str, fn: str) -> tuple[str, ...]:
    if isinstance(keep, str) or not isinstance(keep, (list, tuple)):
        raise param_error(fn, "keep", "be a list of column names (e.g. ['id'])", keep)
    kept = tuple(check_column(c, func=fn, name="keep") for c in keep)
    if len(set(kept)) != len(kept):
        raise param_error(fn, "keep", "name each column once", list(kept))
    if release.private in kept:
        raise param_error(
            fn,
            "keep",
            f"not name the private column '{release.private}'",
            list(kept),
            hint="The public table never holds X; pass audit_out (--audit-out) for a private "
            "file of (X, U) to audit, or audit with the source table.",
        )
    if column in kept:
        raise param_error(fn, "keep", f"not name the released column '{column}'", list(kept))
    if release.useful in kept:
        warnings.warn(
            f"{fn}: the useful column '{release.useful}' is kept in the public table beside "
            f"the released one: Y is correlated with the private '{release.private}' and its "
            "leakage is not bounded by the release's budgets.",
            DisclosureWarning,
            stacklevel=3,
        )
    return kept


def _same_path(a: Path, b: Any) -> bool:
    try:
        if a.exists() and Path(b).exists():
            return os.path.samefile(a, b)
        return a.resolve() == Path(b).resolve()
    except (OSError, TypeError, ValueError):
        return False


def _out_path(out: Any, fn: str, name: str, overwrite: bool, source: Any) -> Path:
    p = Path(check_path(out, func=fn, name=name, what="an output path (.csv or .parquet)"))
    _tables.kind(p, fn, name)
    if isinstance(source, (str, os.PathLike)) and _same_path(p, source):
        raise param_error(
            fn,
            name,
            "differ from the source",
            got_text=f"'{p}', the source itself,",
            hint="Write the released table to a new file; the source is never replaced, "
            "even with overwrite.",
        )
    if p.exists() and not overwrite:
        raise OutputExistsError(
            f"{fn}: '{p}' exists; pass overwrite=True (--overwrite) to replace it."
        )
    return p


def apply_frame(
    release: Release,
    frame: Any,
    *,
    key: bytes | str,
    release_id: str | None = None,
    keep: Sequence[str] = (),
    column: str = "released",
    unknown: str = "error",
    insecure_key: bool = False,
    seed: None = None,
):
    """In memory: the public table of a pandas DataFrame (row ``r`` of the frame is
    record ``r``): the columns named in ``keep`` and the released column.

    Parameters
    ----------
    release : Release
        Checked against its budgets first (as :func:`apply` does).
    frame : pandas.DataFrame
    key, release_id, keep, column, unknown, insecure_key
        As in :func:`apply`. The release id used is ``result.attrs["release_id"]``.
    seed : None
        Removed (use ``key``); any other value raises.

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
    _seed_removed(seed, fn)
    check_release(release, fn)
    check_instance(frame, pd.DataFrame, func=fn, name="frame", what="a pandas DataFrame")
    skey, rid, column, kept = _check_draws(
        release, key, release_id, column, keep, unknown, insecure_key, fn
    )
    release.check(func=fn)
    for c in (release.useful, *kept):
        if c not in frame.columns:
            raise InvalidParameterError(
                f"{fn}: no column '{c}' in the frame (columns: {some(list(frame.columns))})."
            )
    values = frame[release.useful].to_numpy()
    codes, ok = release_codes(release, values, 0, unknown, fn, "frame")
    letters = released_letters(release, codes, skey, 0)
    out = frame.loc[ok, list(kept)].copy()
    out[column] = pd.Categorical.from_codes(letters[ok], release.labels_u)
    out.attrs["release_id"] = rid
    return out


def apply(
    release: Release,
    source: Any,
    out: str | Path,
    *,
    key: bytes | str,
    release_id: str | None = None,
    keep: Sequence[str] = (),
    audit_out: str | Path | None = None,
    column: str = "released",
    batch_size: int = 1 << 20,
    unknown: str = "error",
    overwrite: bool = False,
    perms: int = PRIVATE_PERMS,
    insecure_key: bool = False,
    progress: bool = False,
    seed: None = None,
) -> dict[str, Any]:
    r"""Release every record of ``source``: write the public table ``out`` (and, if asked,
    the private audit file ``audit_out``).

    Parameters
    ----------
    release : Release
    source : path (.csv/.parquet), DataFrame or pyarrow Table
        Read in batches of at most ``batch_size`` records (constant memory).
    out : path (.csv or .parquet)
        The public table: the columns named in ``keep`` and the released column, one row
        per record kept. Written atomically (it appears complete, or not at all) with a
        no-replace publish: an existing ``out``, or one another run writes meanwhile, is
        replaced only with ``overwrite=True``. Never the source.
    key : bytes or str (hexadecimal)
        The secret key of the random stream, at least 128 bits (``new_key()`` draws 256
        from the OS); keep it private (threat model: :mod:`leakage.release`). Shorter keys
        need ``insecure_key=True``.
    release_id : str or None
        Not secret; with the key it fixes every draw (same key and id: the same bytes on
        every engine and batch size). None: a new id (``summary["release_id"]``), so two
        runs never share draws.
    keep : list of str
        Source columns copied to the public table (a row key, say). Never the private
        column; the useful one warns (:class:`~leakage.errors.DisclosureWarning`).
    audit_out : path (.csv or .parquet) or None
        A private file of (X, U) per record for :func:`audit`, mode 0600, written
        atomically beside ``out``. None: audit with the source instead.
    column : str
        Name of the released column (not one of ``keep``).
    batch_size : int
        Records per batch, in ``[1, MAX_BATCH]`` (``MAX_BATCH`` = 2**24); memory grows
        with it, the output does not depend on it.
    unknown : {"error", "drop", "map:LABEL"}
        A record whose useful value is unseen or missing: an error naming the value and the
        row, skip it, or treat it as category ``LABEL``.
    overwrite : bool
        Replace existing outputs (never the source).
    perms : int
        File mode of ``out`` (default 0o600: readable by its owner only, until the curator
        decides to publish it); ``audit_out`` is always 0o600.
    insecure_key : bool
        Accept a key shorter than 128 bits (tests and reproducible examples only).
    progress : bool
        A progress bar on stderr (records/s, ETA when the size is known).
    seed : None
        Removed (use ``key``); any other value raises.

    Returns
    -------
    dict
        ``records`` read, ``written``, ``dropped``, ``seconds``, ``rate`` (records/s),
        ``out``, ``audit_out``, ``release_id``, ``columns`` (of the public table).

    Raises
    ------
    InvalidParameterError
        For an argument outside the above (all checked before anything is read).
    OutputExistsError
        An output exists (or appeared while writing) and ``overwrite`` is False.
    InfeasibleError
        When the release leaks over a budget (an edited release).
    """
    fn = "apply"
    _seed_removed(seed, fn)
    batch_size = check_size(
        batch_size,
        func=fn,
        name="batch_size",
        limit=MAX_BATCH,
        what="records",
        hint="Smaller batches give the same output; 2**20 (the default) is plenty.",
    )
    _tables.check_source(source, fn, "source")
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
        source=source,
    )
    total = _tables.n_rows(source, fn)
    t0 = time.perf_counter()
    read = written = 0
    bar = _Bar(total, progress)
    names = plan.read_names(release.useful)
    with bar:
        gen = _tables.batches(source, names, fn, rows=batch_size)
        head = next(gen, None)
        if head is None:
            raise InvalidParameterError(f"{fn}: the source has no records.")
        schemas = output_schemas(head.schema, plan)
        with outputs(plan, schemas, fn) as write:
            for big in _chain(head, gen):
                for b in _slices(big, batch_size):
                    pub, aud, n = released_tables(b, read, release, plan, schemas, fn)
                    write(pub, aud)
                    read += n
                    written += pub.num_rows
                    bar.advance(n)
    return summary(read, written, time.perf_counter() - t0, plan)


def check_release(release: Any, fn: str) -> Release:
    """``release`` if it is a :class:`Release` (the fields are validated on construction)."""
    return check_instance(
        release, Release, func=fn, name="release", what="a Release (from design or Release.load)"
    )


def summary(read: int, written: int, secs: float, plan: Plan) -> dict[str, Any]:
    return {
        "records": read,
        "written": written,
        "dropped": read - written,
        "seconds": secs,
        "rate": read / secs if secs > 0 else float("inf"),
        "out": str(plan.out),
        "audit_out": None if plan.audit_out is None else str(plan.audit_out),
        "release_id": plan.release_id,
        "columns": plan.public_names(),
    }


def output_schemas(source_schema, plan: Plan):
    """The public and the audit schema (None without ``audit_out``) from the source's."""
    pa = _tables.pa()
    field = pa.field(plan.column, pa.string())
    pub = pa.schema([*(source_schema.field(c) for c in plan.keep), field])
    aud = None
    if plan.audit_out is not None:
        aud = pa.schema([source_schema.field(plan.private), field])
    return pub, aud


def released_tables(t, offset: int, release: Release, plan: Plan, schemas, fn: str):
    """The public and audit tables of records ``offset ..`` (records dropped by the
    policy removed) and the number of records read."""
    pa = _tables.pa()
    vals = t.column(release.useful)
    if isinstance(vals, pa.ChunkedArray):
        vals = vals.combine_chunks()
    codes, ok = release_codes(release, vals, offset, plan.unknown, fn)
    letters = released_letters(release, codes, plan.skey, offset)
    if not ok.all():
        t = t.filter(pa.array(ok))
        letters = letters[ok]
    col = pa.array(release.labels_u, type=pa.string()).take(pa.array(letters))
    cls = pa.RecordBatch if isinstance(t, pa.RecordBatch) else pa.Table
    pub_schema, aud_schema = schemas
    pub = cls.from_arrays([*(t.column(c) for c in plan.keep), col], schema=pub_schema)
    aud = None
    if aud_schema is not None:
        aud = cls.from_arrays([t.column(plan.private), col], schema=aud_schema)
    return pub, aud, int(ok.size)


class outputs:  # a context manager, named like open
    """The writers of the public table and of the audit file: both published, or neither
    (the audit file, published first, is removed when the public one cannot be)."""

    def __init__(self, plan: Plan, schemas, fn: str):
        self.plan, self.schemas, self.fn = plan, schemas, fn
        self._pub = self._aud = None

    def __enter__(self):
        p = self.plan
        self._pub = _tables.writer(
            p.out, self.schemas[0], self.fn, ROW_GROUP, perms=p.perms, replace=p.overwrite
        )
        wp = self._pub.__enter__()
        wa = None
        if p.audit_out is not None:
            self._aud = _tables.writer(
                p.audit_out,
                self.schemas[1],
                self.fn,
                ROW_GROUP,
                perms=PRIVATE_PERMS,
                replace=p.overwrite,
            )
            try:
                wa = self._aud.__enter__()
            except BaseException:
                self._pub.__exit__(*sys.exc_info())
                raise

        def write(pub, aud) -> None:
            for b in _as_batches(pub):
                wp(b)
            if wa is not None:
                for b in _as_batches(aud):
                    wa(b)

        return write

    def __exit__(self, typ, value, tb):
        audit_published = False
        if self._aud is not None:
            try:
                self._aud.__exit__(typ, value, tb)
                audit_published = typ is None
            except BaseException as exc:  # the audit file failed: discard the public one
                self._pub.__exit__(type(exc), exc, exc.__traceback__)
                raise
        try:
            self._pub.__exit__(typ, value, tb)
        except BaseException:
            if audit_published:  # ours, complete but orphaned: a failed run leaves nothing
                with contextlib.suppress(OSError):
                    os.unlink(self.plan.audit_out)
            raise
        return False


def _as_batches(t) -> list:
    return t.to_batches() if isinstance(t, _tables.pa().Table) else [t]


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
