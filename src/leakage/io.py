"""Read and write distributions and channels as JSON, CSV and ``.npy``; writes are atomic.

File formats, chosen by the file's extension:

``.json``
    ``{"kind": "pmf" | "channel" | "joint", "values": [...]}`` (what the writers produce;
    ``"kind"`` is optional), or a bare list / list of lists. Non-finite entries may be
    written as the strings ``"inf"``, ``"-inf"`` and ``"nan"``.
``.csv``, ``.txt``
    One row per line, numbers separated by commas (or, on lines without a comma, by
    whitespace). Blank lines and lines starting with ``#`` are ignored; a comment
    ``# kind: channel`` records the kind. A file with a single row or a single column
    reads as a 1-D array, unless it is read as a channel or a joint.
``.npy``
    NumPy's binary format (read with ``allow_pickle=False``).

Every write goes to a temporary file in the target's directory that replaces the target
only once it is complete (:func:`atomic_write`), so a crash or an error never leaves a
half-written file behind. Floats are written with full precision (shortest round-trip
representation), so a read after a write returns exactly the same numbers.

Every problem with a file or an inline list raises
:class:`~leakage.errors.InvalidParameterError` naming the path (or the text) and what is
accepted; the typed readers (:func:`read_pmf`, :func:`read_channel`, :func:`read_joint`)
then validate the numbers and raise :class:`~leakage.errors.InvalidDistributionError`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import secrets
import signal
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import ArrayLike

from ._validation import as_channel, as_joint, as_pmf
from .errors import InvalidParameterError, OutputExistsError
from .results import to_jsonable

__all__ = [
    "KINDS",
    "atomic_write",
    "load_array_arg",
    "parse_array",
    "parse_number",
    "read_array",
    "read_channel",
    "read_joint",
    "read_pmf",
    "write_array",
    "write_channel",
    "write_joint",
    "write_pmf",
]

#: Kinds of arrays a file may declare (JSON ``"kind"`` field, CSV ``# kind:`` comment).
KINDS = ("pmf", "channel", "joint")

_TWO_D_KINDS = ("channel", "joint")
_TEXT_EXTS = (".csv", ".txt")
_EXTS = (".json", *_TEXT_EXTS, ".npy")
_ACCEPTED_FILES = "a .json, .csv, .txt or .npy file"
_INLINE_HELP = (
    "numbers separated by commas and rows by ';' (e.g. '0.3,0.7' or '0.9,0.1;0.2,0.8') "
    "or a JSON list"
)
_KIND_COMMENT = re.compile(r"#\s*kind\s*[:=]\s*(\w+)\s*$", re.IGNORECASE)
_NONFINITE = {"inf": math.inf, "+inf": math.inf, "-inf": -math.inf, "nan": math.nan}


# --------------------------------------------------------------------------- atomic writes


#: Temporary files of :func:`atomic_write`: ``.NAME.leakage-HOST-PID-TOKEN.tmp`` beside the
#: target.
_TMP_RE = re.compile(
    r"^\.(?P<name>.+)\.leakage-(?P<host>[0-9a-f]{8})-(?P<pid>[0-9]+)-[0-9a-f]{16}\.tmp$"
)
#: Temporary files this process is writing (removed on SIGTERM/SIGHUP).
_LIVE: set[str] = set()
_GUARD = {"depth": 0, "prev": {}}
_GUARD_LOCK = threading.Lock()
_CLEANUP_SIGNALS = tuple(getattr(signal, s) for s in ("SIGTERM", "SIGHUP") if hasattr(signal, s))


def _on_signal(signum: int, frame: Any) -> None:
    """SIGTERM/SIGHUP while a temporary file is open: remove it, then die by the signal
    (or hand over to the handler that was installed before)."""
    prev = _GUARD["prev"].get(signum, signal.SIG_DFL)
    if callable(prev):  # the program's own handler: if it raises, the block cleans up
        prev(signum, frame)
        return
    for name in list(_LIVE):
        with contextlib.suppress(OSError):
            os.unlink(name)
    _LIVE.clear()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


@contextlib.contextmanager
def _signal_guard() -> Iterator[None]:
    """Install :func:`_on_signal` for SIGTERM and SIGHUP while a write is under way (main
    thread only; a signal the program ignores stays ignored)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    with _GUARD_LOCK:
        if _GUARD["depth"] == 0:
            _GUARD["prev"] = {}
            for sig in _CLEANUP_SIGNALS:
                cur = signal.getsignal(sig)
                if cur in (signal.SIG_IGN, None) or cur is _on_signal:
                    continue
                _GUARD["prev"][sig] = cur
                signal.signal(sig, _on_signal)
        _GUARD["depth"] += 1
    try:
        yield
    finally:
        with _GUARD_LOCK:
            _GUARD["depth"] -= 1
            if _GUARD["depth"] == 0:
                for sig, prev in _GUARD["prev"].items():
                    if signal.getsignal(sig) is _on_signal:
                        signal.signal(sig, prev)
                _GUARD["prev"] = {}


def _host_tag() -> str:
    """8 hex digits naming this machine in temporary names: a stale file is removed only
    by a run on the machine whose process wrote it (a shared file system may hold others')."""
    return hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _remove_stale(target: Path) -> list[str]:
    """Remove the temporary files of earlier runs for ``target`` whose process is gone
    (killed by SIGKILL, a power cut): only names :func:`atomic_write` makes."""
    removed = []
    host = _host_tag()
    try:
        entries = os.scandir(target.parent)
    except OSError:
        return removed
    with entries:
        for e in entries:
            m = _TMP_RE.match(e.name)
            if (
                m is None
                or m["name"] != target.name
                or m["host"] != host
                or _pid_alive(int(m["pid"]))
            ):
                continue
            with contextlib.suppress(OSError):
                os.unlink(e.path)
                removed.append(e.name)
    return removed


def _publish(tmp_name: str, target: Path, replace: bool) -> None:
    """Move the complete temporary file onto ``target``; without ``replace`` an existing
    ``target`` (even one created a moment ago by another run) is never replaced."""
    if replace:
        os.replace(tmp_name, target)
        return
    appeared = OutputExistsError(
        f"atomic_write: '{target}' appeared while this run was writing it (another run "
        "wrote it first); nothing was replaced. Pass overwrite=True (--overwrite) to "
        "replace it, or choose another output."
    )
    try:
        os.link(tmp_name, target)  # atomic, fails if target exists
    except FileExistsError:
        raise appeared from None
    except OSError:  # no hard links here (some network/FAT file systems): exclusive create
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise appeared from None
        os.close(fd)
        os.replace(tmp_name, target)
        return
    os.unlink(tmp_name)


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str],
    mode: str = "w",
    *,
    encoding: str = "utf-8",
    newline: str | None = None,
    replace: bool = True,
    perms: int | None = None,
) -> Iterator[IO[Any]]:
    """Open a temporary file that atomically replaces ``path`` when the block succeeds.

    The data go to a temporary file ``.NAME.leakage-HOST-PID-TOKEN.tmp`` in the same directory
    as ``path`` (created if missing). When the ``with`` block exits normally the file is
    flushed, ``fsync``-ed and moved onto ``path`` atomically: readers see either the old
    file or the complete new one. When the block raises, or the process gets SIGTERM or
    SIGHUP, the temporary file is removed and ``path`` is left untouched. Temporary files
    of earlier runs on this machine for the same ``path`` whose process is gone (SIGKILL, a
    crash) are removed when the next write starts.

    Parameters
    ----------
    path : str or path-like
        Target file.
    mode : {"w", "wt", "wb"}, default "w"
        Text (``"w"``, ``"wt"``) or binary (``"wb"``) writing.
    encoding : str, default "utf-8"
        Text encoding (text modes only).
    newline : str or None, default None
        Passed to :func:`open` in text modes (use ``""`` with the :mod:`csv` module).
    replace : bool, default True
        Replace an existing ``path``. With ``False`` the file is published with a
        no-replace hard link: if ``path`` exists when the block ends (another run wrote it
        meanwhile), :class:`~leakage.errors.OutputExistsError` is raised and nothing is
        replaced.
    perms : int or None
        File mode of the result (e.g. ``0o600``). None: the mode of the file it replaces,
        else ``0o666`` less the process umask (read by the kernel, never changed).

    Yields
    ------
    file object
        The open temporary file.

    Raises
    ------
    InvalidParameterError
        If ``mode`` is not a write mode listed above, or ``perms`` not in ``[0, 0o7777]``.
    OutputExistsError
        With ``replace=False``, when ``path`` exists at the end of the block.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "report.md"
    >>> with atomic_write(target) as f:
    ...     _ = f.write("# Report\\n")
    >>> target.read_text()
    '# Report\\n'
    """
    if mode not in ("w", "wt", "wb"):
        raise InvalidParameterError(
            f"atomic_write: the 'mode' argument must be one of 'w', 'wt', 'wb'; "
            f"got {mode!r} instead."
        )
    if perms is not None and (
        isinstance(perms, bool) or not isinstance(perms, int) or not 0 <= perms <= 0o7777
    ):
        raise InvalidParameterError(
            f"atomic_write: the 'perms' argument must be None or a file mode in "
            f"[0, 0o7777] (e.g. 0o600); got {perms!r} instead."
        )
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target)
    if perms is None and replace:
        with contextlib.suppress(FileNotFoundError):
            perms = target.stat().st_mode & 0o7777
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    with _signal_guard():
        while True:
            tmp_name = str(
                target.parent
                / f".{target.name}.leakage-{_host_tag()}-{os.getpid()}-{secrets.token_hex(8)}.tmp"
            )
            try:
                # 0o666 less the umask (applied by the kernel), or the mode asked for
                fd = os.open(tmp_name, flags, 0o600 if perms is not None else 0o666)
                break
            except FileExistsError:  # pragma: no cover - 64 random bits collided
                continue
        _LIVE.add(tmp_name)
        try:
            if perms is not None:
                os.fchmod(fd, perms)
            f = (
                os.fdopen(fd, mode)
                if "b" in mode
                else os.fdopen(fd, mode, encoding=encoding, newline=newline)
            )
        except BaseException:
            os.close(fd)
            os.unlink(tmp_name)
            _LIVE.discard(tmp_name)
            raise
        try:
            with f:
                yield f
                f.flush()
                os.fsync(f.fileno())
            _publish(tmp_name, target, replace)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        finally:
            _LIVE.discard(tmp_name)
    _fsync_dir(target.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


# --------------------------------------------------------------------------- parsing numbers


class _ParseError(Exception):
    """A short reason why text is not an array; turned into InvalidParameterError by callers."""


def _to_float(text: str) -> float:
    s = text.strip()
    try:
        if "/" in s:
            num, den = s.split("/", 1)
            d = float(den)
            if d == 0:
                raise _ParseError(f"{s!r} divides by zero")
            return float(num) / d
        return float(s)
    except ValueError:
        raise _ParseError(f"{s!r} is not a number") from None


def parse_number(text: str) -> float:
    """Parse one number: a decimal (``0.25``, ``1e-3``), a fraction (``1/3``) or ``inf``/``nan``.

    Parameters
    ----------
    text : str
        The number, surrounding whitespace allowed.

    Returns
    -------
    float

    Raises
    ------
    InvalidParameterError
        If ``text`` is not a number (the message names it).

    Examples
    --------
    >>> parse_number("1/4"), parse_number(" 0.5 "), parse_number("inf")
    (0.25, 0.5, inf)
    """
    try:
        return _to_float(text)
    except _ParseError as exc:
        raise InvalidParameterError(
            f"parse_number: {exc} (expected a decimal such as 0.25 or 1e-3, a fraction such "
            "as 1/3, or inf)."
        ) from None


def _parse_row(line: str) -> list[float]:
    """Numbers of one row: comma-separated, or whitespace-separated if there is no comma."""
    fields = [f.strip() for f in line.split(",")] if "," in line else line.split()
    if len(fields) > 1 and not fields[-1]:  # tolerate one trailing comma
        fields.pop()
    if any(not f for f in fields):
        raise _ParseError("it has an empty field (two commas in a row?)")
    return [_to_float(f) for f in fields]


def _json_leaves(obj: Any) -> np.ndarray:
    """A (nested) JSON list of numbers → float array; non-finite may be spelt as strings."""

    def leaf(v: Any) -> Any:
        if isinstance(v, list):
            return [leaf(u) for u in v]
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
        if isinstance(v, str) and v.strip().lower() in _NONFINITE:
            return _NONFINITE[v.strip().lower()]
        raise _ParseError(f"expected numbers, got {v!r}")

    if not isinstance(obj, list):
        raise _ParseError(f"expected a list of numbers or a list of rows, got {obj!r:.40}")
    values = leaf(obj)
    try:
        a = np.array(values, dtype=np.float64)
    except ValueError:
        raise _ParseError("the rows have different lengths") from None
    if a.size == 0:
        raise _ParseError("the list is empty")
    return a


def _parse_inline(text: str) -> np.ndarray:
    s = text.strip()
    if s.startswith("["):
        try:
            return _json_leaves(json.loads(s))
        except json.JSONDecodeError as exc:
            raise _ParseError(f"invalid JSON list ({exc.msg} at column {exc.colno})") from None
        except RecursionError:
            raise _ParseError("the JSON list is nested too deeply (at most 2 levels)") from None
    lines = [r.strip() for r in s.split(";")]
    if len(lines) > 1 and not lines[-1]:  # tolerate one trailing ';'
        lines.pop()
    rows = [_parse_row(line) for line in lines]
    if not rows[0]:
        raise _ParseError("it is empty")
    for i, row in enumerate(rows):
        if len(row) != len(rows[0]):
            raise _ParseError(f"row {i + 1} has length {len(row)} but row 1 has {len(rows[0])}")
    a = np.array(rows, dtype=np.float64)
    return a[0] if a.shape[0] == 1 else a


def parse_array(text: str) -> np.ndarray:
    """Parse an inline array: ``"0.3,0.7"``, ``"0.9,0.1;0.2,0.8"`` or a JSON list.

    Numbers are separated by commas and rows by ``;`` (whitespace around them is
    ignored); a single row gives a 1-D array, several rows a 2-D array. A text starting
    with ``[`` is read as a JSON list (``"[[0.9, 0.1], [0.2, 0.8]]"``). Entries may be
    fractions (``"1/3,2/3"``) and ``inf``/``nan``.

    Parameters
    ----------
    text : str
        The inline array.

    Returns
    -------
    ndarray of float64
        1-D for a single row, 2-D for several rows.

    Raises
    ------
    InvalidParameterError
        If ``text`` is not a list of numbers; the message quotes it and says why.

    Examples
    --------
    >>> parse_array("0.3, 0.7")
    array([0.3, 0.7])
    >>> parse_array("0.9,0.1; 0.2,0.8")
    array([[0.9, 0.1],
           [0.2, 0.8]])
    >>> parse_array("1/4,3/4")
    array([0.25, 0.75])
    """
    try:
        return _parse_inline(text)
    except _ParseError as exc:
        raise InvalidParameterError(
            f"parse_array: cannot read {text!r} as an array: {exc}. Expected {_INLINE_HELP}."
        ) from None


# --------------------------------------------------------------------------- reading files


def _read_json(path: Path) -> tuple[np.ndarray, str | None]:
    try:
        obj = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise _ParseError(
            f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    kind = None
    if isinstance(obj, dict):
        if "values" not in obj:
            raise _ParseError(
                'a JSON object must have a "values" key holding the numbers; '
                f"got keys {sorted(obj)}"
            )
        kind = obj.get("kind")
        if kind is not None and kind not in KINDS:
            raise _ParseError(
                f'the "kind" field must be one of {", ".join(KINDS)} or absent; got {kind!r}'
            )
        obj = obj["values"]
    return _json_leaves(obj), kind


def _read_text(path: Path) -> tuple[np.ndarray, str | None]:
    rows: list[list[float]] = []
    first_line = 0
    kind = None
    for lineno, raw in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        line = raw.strip()
        if line.startswith("#"):
            m = _KIND_COMMENT.match(line)
            if m and m.group(1).lower() in KINDS:
                kind = m.group(1).lower()
            continue
        if not line:
            continue
        try:
            row = _parse_row(line)
        except _ParseError as exc:
            raise _ParseError(f"line {lineno}: {exc}") from None
        if not rows:
            first_line = lineno
        elif len(row) != len(rows[0]):
            raise _ParseError(
                f"line {lineno} has {len(row)} entries but line {first_line} has "
                f"{len(rows[0])}; every row must have the same length"
            )
        rows.append(row)
    if not rows:
        raise _ParseError("the file holds no numbers")
    return np.array(rows, dtype=np.float64), kind


#: Largest array a file may hold (entries): 2**27 float64 = 1 GiB, checked from the header.
MAX_FILE_ENTRIES = 2**27


def _read_npy(path: Path) -> tuple[np.ndarray, str | None]:
    try:
        with open(path, "rb") as f:
            if f.read(6) != b"\x93NUMPY":
                raise _ParseError("not a .npy file (its first bytes are not the NUMPY magic)")
        # mapped first (nothing read): its size checked against the limit before anything
        # is allocated; a header promising more than the file holds fails here
        m = np.load(path, mmap_mode="r", allow_pickle=False)
        if isinstance(m, np.ndarray) and m.size > MAX_FILE_ENTRIES:
            raise _ParseError(
                f"it holds {m.size:,} entries, above the limit of {MAX_FILE_ENTRIES:,}"
            )
        del m
        a = np.load(path, allow_pickle=False)
    except ValueError as exc:  # bad header, pickled object arrays, ...
        raise _ParseError(f"not a readable .npy array ({exc})") from None
    if not isinstance(a, np.ndarray):  # a .npz archive behind a .npy name
        a.close()
        raise _ParseError("the file is an .npz archive, not a .npy array")
    if a.dtype.kind not in "biuf":
        raise _ParseError(f"expected real numbers, got dtype {a.dtype}")
    return a.astype(np.float64, copy=False), None


_READERS = {".json": _read_json, ".csv": _read_text, ".txt": _read_text, ".npy": _read_npy}


def _load(path: str | os.PathLike[str], *, func: str, kind: str | None = None) -> np.ndarray:
    """Read ``path`` by extension; ``kind`` is what the caller expects (checked if declared)."""
    p = Path(path)
    ext = p.suffix.lower()
    try:
        if ext not in _READERS:
            raise _ParseError(
                f"unknown file extension {ext or '(none)'!r}; expected {_ACCEPTED_FILES}"
            )
        if not p.exists():
            raise _ParseError(f"no such file (expected {_ACCEPTED_FILES})")
        if not p.is_file():
            raise _ParseError("not a regular file")
        try:
            a, declared = _READERS[ext](p)
        except UnicodeDecodeError:
            raise _ParseError("not a UTF-8 text file") from None
        except OSError as exc:
            raise _ParseError(exc.strerror or str(exc)) from None
        if kind is not None and declared is not None and declared != kind:
            raise _ParseError(f"the file declares kind {declared!r} but a {kind} was expected")
    except _ParseError as exc:
        raise InvalidParameterError(f"{func}: cannot read '{p}': {exc}.") from None
    if ext in _TEXT_EXTS and 1 in a.shape and (kind or declared) not in _TWO_D_KINDS:
        a = a.ravel()  # one row or one column: a vector
    return a


def read_array(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an array from a ``.json``, ``.csv``/``.txt`` or ``.npy`` file (by extension).

    No validation beyond "a rectangular array of real numbers"; use :func:`read_pmf`,
    :func:`read_channel` or :func:`read_joint` to also check that it is a distribution.
    A CSV/text file with a single row or a single column gives a 1-D array.

    Parameters
    ----------
    path : str or path-like
        The file; its extension picks the format (see the module docstring).

    Returns
    -------
    ndarray of float64

    Raises
    ------
    InvalidParameterError
        Unknown extension, missing or unreadable file, or content that is not a
        rectangular array of numbers; the message names the path and what is accepted.
    """
    return _load(path, func="read_array")


def read_pmf(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a probability vector from a file and validate it.

    Parameters
    ----------
    path : str or path-like
        ``.json``, ``.csv``/``.txt`` or ``.npy`` file holding a 1-D array.

    Returns
    -------
    ndarray, shape (n,)

    Raises
    ------
    InvalidParameterError
        The file cannot be read (see :func:`read_array`).
    InvalidDistributionError
        The numbers are not a probability vector (not 1-D, negative, not summing to 1).
    """
    return as_pmf(_load(path, func="read_pmf", kind="pmf"), func="read_pmf", name=str(path))


def read_channel(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a channel ``W[x, y] = P(y|x)`` (2-D, row-stochastic) from a file and validate it.

    A CSV/text file with a single row or column is kept 2-D here.

    Parameters
    ----------
    path : str or path-like
        ``.json``, ``.csv``/``.txt`` or ``.npy`` file holding a 2-D array, axis 0 = input.

    Returns
    -------
    ndarray, shape (n_x, n_y)

    Raises
    ------
    InvalidParameterError
        The file cannot be read (see :func:`read_array`).
    InvalidDistributionError
        The numbers are not a row-stochastic matrix.
    """
    a = _load(path, func="read_channel", kind="channel")
    return as_channel(a, func="read_channel", name=str(path))


def read_joint(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a joint distribution (2-D, nonnegative, summing to 1) from a file and validate it.

    Parameters
    ----------
    path : str or path-like
        ``.json``, ``.csv``/``.txt`` or ``.npy`` file holding a 2-D array.

    Returns
    -------
    ndarray, shape (n_x, n_y)

    Raises
    ------
    InvalidParameterError
        The file cannot be read (see :func:`read_array`).
    InvalidDistributionError
        The numbers are not a joint distribution.
    """
    return as_joint(_load(path, func="read_joint", kind="joint"), func="read_joint", name=str(path))


def load_array_arg(value: str, *, name: str = "value", kind: str | None = None) -> np.ndarray:
    """Interpret a command-line value: an existing file is read, anything else parsed inline.

    Parameters
    ----------
    value : str
        A path to a ``.json``/``.csv``/``.txt``/``.npy`` file, or an inline array
        accepted by :func:`parse_array`.
    name : str, default "value"
        Name of the option, used in error messages (e.g. ``"--p"``).
    kind : {"pmf", "channel", "joint"} or None
        What the caller expects; a file declaring another kind is rejected, and a
        one-row CSV file stays 2-D for ``"channel"`` and ``"joint"``.

    Returns
    -------
    ndarray of float64
        Not validated as a distribution (the library function receiving it does that).

    Raises
    ------
    InvalidParameterError
        The file cannot be read, or ``value`` is not an existing file and not an inline
        list of numbers.
    """
    p = Path(value)

    def probe(test) -> bool:  # a value too long or odd for a path is no file
        try:
            return bool(test())
        except (OSError, ValueError):
            return False

    where = f"the '{name}' file"
    if p.suffix.lower() in _EXTS and probe(p.is_file):
        return _load(p, func=where, kind=kind)
    try:
        return _parse_inline(value)
    except _ParseError as exc:
        if probe(p.is_file):  # an existing file with an extension we cannot read
            return _load(p, func=where, kind=kind)
        # say what the value is: a directory, a special file, a missing path, or text that
        # is not numbers (messages name the option as the user typed it, e.g. '--p')
        if probe(p.is_dir):
            reason = "it is a directory"
        elif probe(p.exists):
            reason = "it is not a regular file"
        elif p.suffix.lower() in _EXTS:
            reason = "no such file"
        else:
            reason = str(exc)
        shown = value if len(value) <= 60 else value[:50] + f"... ({len(value)} characters)"
        raise InvalidParameterError(
            f"the '{name}' value {shown!r} is not a readable file and not an inline list of "
            f"numbers ({reason}); give {_ACCEPTED_FILES}, or {_INLINE_HELP}."
        ) from None


# --------------------------------------------------------------------------- writing files


def _check_kind(kind: str | None, func: str) -> None:
    if kind is not None and kind not in KINDS:
        raise InvalidParameterError(
            f"{func}: the 'kind' argument must be one of {', '.join(map(repr, KINDS))} or "
            f"None; got {kind!r} instead."
        )


def _json_text(a: np.ndarray, kind: str | None) -> str:
    """JSON with one row of a 2-D array per line; floats in shortest round-trip form."""
    head = f'{{\n  "kind": {json.dumps(kind)},\n' if kind is not None else "{\n"
    if a.ndim == 2:
        rows = ",\n".join("    " + json.dumps(to_jsonable(row)) for row in a)
        values = f"[\n{rows}\n  ]"
    else:
        values = json.dumps(to_jsonable(a))
    return f'{head}  "values": {values}\n}}\n'


def _csv_text(a: np.ndarray, kind: str | None, func: str, path: Path) -> str:
    if a.ndim not in (1, 2):
        raise InvalidParameterError(
            f"{func}: cannot write '{path}': a CSV/text file holds 1-D or 2-D arrays, got "
            f"shape {a.shape}; use .json or .npy."
        )
    rows = a.reshape(1, -1) if a.ndim == 1 else a
    head = f"# kind: {kind}\n" if kind is not None else ""
    return head + "".join(",".join(repr(float(v)) for v in row) + "\n" for row in rows)


def _write(path: str | os.PathLike[str], a: np.ndarray, kind: str | None, func: str) -> None:
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in _EXTS:
        raise InvalidParameterError(
            f"{func}: cannot write '{p}': unknown file extension {ext or '(none)'!r}; "
            f"expected {_ACCEPTED_FILES}."
        )
    if ext == ".npy":
        with atomic_write(p, "wb") as f:
            np.save(f, a, allow_pickle=False)
        return
    text = _json_text(a, kind) if ext == ".json" else _csv_text(a, kind, func, p)
    with atomic_write(p, "w") as f:
        f.write(text)


def write_array(path: str | os.PathLike[str], array: ArrayLike, *, kind: str | None = None) -> None:
    """Write an array of real numbers to ``path`` atomically, in the format of its extension.

    Parameters
    ----------
    path : str or path-like
        ``.json``, ``.csv``/``.txt`` or ``.npy`` (parent directories are created).
    array : array-like
        Real numbers; CSV/text files take 1-D or 2-D arrays only.
    kind : {"pmf", "channel", "joint"} or None
        Recorded in the file (JSON ``"kind"`` field, CSV ``# kind:`` comment; not in
        ``.npy``). Not validated here: use :func:`write_pmf` / :func:`write_channel`.

    Raises
    ------
    InvalidParameterError
        Unknown extension or ``kind``, non-real entries, or a shape the format cannot hold.
    """
    func = "write_array"
    _check_kind(kind, func)
    a = np.asarray(array)
    if a.dtype.kind not in "biuf" or a.ndim == 0:
        raise InvalidParameterError(
            f"{func}: the 'array' argument must be an array of real numbers with at least one "
            f"dimension; got dtype {a.dtype} and shape {a.shape} instead."
        )
    _write(path, a.astype(np.float64, copy=False), kind, func)


def write_pmf(path: str | os.PathLike[str], p: ArrayLike) -> None:
    """Validate a probability vector and write it atomically (format by extension).

    Raises
    ------
    InvalidDistributionError
        ``p`` is not a probability vector (nothing is written).
    InvalidParameterError
        Unknown extension.
    """
    _write(path, as_pmf(p, func="write_pmf", name="p"), "pmf", "write_pmf")


def write_channel(path: str | os.PathLike[str], W: ArrayLike) -> None:
    """Validate a channel ``W[x, y] = P(y|x)`` and write it atomically (format by extension).

    Raises
    ------
    InvalidDistributionError
        ``W`` is not row-stochastic (nothing is written).
    InvalidParameterError
        Unknown extension.
    """
    _write(path, as_channel(W, func="write_channel", name="W"), "channel", "write_channel")


def write_joint(path: str | os.PathLike[str], p_xy: ArrayLike) -> None:
    """Validate a joint distribution and write it atomically (format by extension).

    Raises
    ------
    InvalidDistributionError
        ``p_xy`` is not a joint distribution (nothing is written).
    InvalidParameterError
        Unknown extension.
    """
    _write(path, as_joint(p_xy, func="write_joint", name="p_xy"), "joint", "write_joint")
