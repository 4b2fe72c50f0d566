"""Argument checks shared by :mod:`leakage.release` (one path per kind of argument).

Messages follow the library's template::

    <function>: the '<argument>' argument must <requirement>; got <value> instead. <fix>

The generic checks (sizes, generators, tolerances, choices) live in
:mod:`leakage._validation`; this module adds what only the release package needs (seeds of
the counter-based stream, column names, row offsets) and the documented size limits.
"""

from __future__ import annotations

import math
import numbers
import os
import reprlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import MAX_ENTRIES
from ..errors import InvalidParameterError

#: Seeds (keys) of the counter-based ``Philox`` stream live in ``[0, 2**128)``.
SEED_LIMIT = 2**128
#: Row offsets (``start`` of :func:`leakage.release.uniforms`) live in ``[0, 2**64)``.
START_LIMIT = 2**64
#: At most this many doubles from one call of :func:`leakage.release.uniforms` (1 GiB).
MAX_UNIFORMS = MAX_ENTRIES
#: At most this many records per batch of :func:`leakage.release.apply`.
MAX_BATCH = 2**24
#: At most this many cells |X| x |Y| in a fitted joint (32 MiB per count table).
MAX_CELLS = 2**22
#: At most this many Monte-Carlo draws in :func:`leakage.release.posterior_leakage`.
MAX_DRAWS = 100_000
#: At most this many bootstrap resamples in :func:`leakage.release.audit`.
MAX_BOOTSTRAP = 100_000
#: At most this many kept values (draws or resamples x released letters) per call.
MAX_VALUES = MAX_ENTRIES
#: At most this many partitions in flight in :func:`leakage.release.apply_dask`.
MAX_WINDOW = 1024
#: Monte-Carlo and bootstrap work arrays are processed in chunks of about this many
#: entries (32 MiB), so their memory stays bounded whatever the number of draws.
CHUNK_ENTRIES = 2**22

_repr = reprlib.Repr()
_repr.maxstring = 60
_repr.maxother = 60
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 6


def show(value: Any) -> str:
    """A short description of a value for an error message (never a huge repr)."""
    if isinstance(value, np.ndarray):
        if value.size <= 8:
            return repr(value.tolist())
        return f"an array of shape {value.shape} (dtype {value.dtype})"
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and not isinstance(value, (numbers.Number, np.generic)):
        return f"a {type(value).__name__} of shape {shape}"
    return _repr.repr(value)


def param_error(
    func: str,
    name: str,
    requirement: str,
    got: Any = None,
    *,
    got_text: str | None = None,
    hint: str = "",
    error: type[Exception] = InvalidParameterError,
) -> Exception:
    """The exception (to be raised by the caller, ``from`` a cause when there is one)."""
    text = show(got) if got_text is None else got_text
    msg = f"{func}: the '{name}' argument must {requirement}; got {text} instead."
    return error(msg + (" " + hint if hint else ""))


def some(labels: Sequence, k: int = 10) -> str:
    """The first ``k`` labels, comma-separated (a long list is cut, with its length)."""
    head = ", ".join(str(v) for v in labels[:k])
    return head if len(labels) <= k else f"{head}, ... ({len(labels):,} in all)"


def _is_int(x: Any) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def is_real(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def check_seed(seed: Any, *, func: str, name: str = "stream_key") -> int:
    """A key of the counter-based Philox stream: an integer in ``[0, 2**128)``."""
    if not _is_int(seed) or not 0 <= seed < SEED_LIMIT:
        raise param_error(
            func,
            name,
            "be an integer in [0, 2**128) (the key of the Philox stream)",
            seed,
            hint="A release's stream key is stream_key(key, release_id).",
        )
    return int(seed)


def check_start(start: Any, *, func: str, name: str = "start") -> int:
    """A row offset: an integer in ``[0, 2**64)``."""
    if not _is_int(start) or not 0 <= start < START_LIMIT:
        raise param_error(func, name, "be an integer in [0, 2**64) (a row index)", start)
    return int(start)


def check_count(x: Any, *, func: str, name: str) -> int:
    """A count threshold: an integer >= 0."""
    if not _is_int(x) or x < 0:
        raise param_error(func, name, "be an integer >= 0", x)
    return int(x)


def check_column(col: Any, *, func: str, name: str) -> str:
    """A column name: a non-empty string."""
    if not isinstance(col, str) or not col:
        raise param_error(func, name, "be a column name (a non-empty string)", col)
    return col


def check_open_unit(x: Any, *, func: str, name: str) -> float:
    """A real number in the open interval (0, 1) (a level or a quantile)."""
    if not is_real(x) or not 0 < x < 1:
        raise param_error(func, name, "be a real number in (0, 1)", x)
    return float(x)


def check_finite(x: Any, *, func: str, name: str) -> float:
    """A finite real number (any sign)."""
    if not is_real(x) or not math.isfinite(x):
        raise param_error(func, name, "be a finite real number", x)
    return float(x)


def check_instance(obj: Any, cls: type, *, func: str, name: str, what: str) -> Any:
    """``obj`` if it is a ``cls``; ``what`` says what it is and where it comes from."""
    if not isinstance(obj, cls):
        raise param_error(func, name, f"be {what}", obj)
    return obj


def check_path(path: Any, *, func: str, name: str, what: str) -> os.PathLike | str:
    """A filesystem path (``str`` or ``os.PathLike``)."""
    if not isinstance(path, (str, os.PathLike)) or (isinstance(path, str) and not path):
        raise param_error(func, name, f"be {what} (a str or os.PathLike)", path)
    return path
