"""Input validation: the only place where :mod:`leakage` checks its inputs.

Every public function funnels its arguments through these helpers, so that every bad
input raises the same kind of error with the same kind of message::

    <function>: the '<argument>' argument must <requirement>; got <value> instead.

Distributions are never renormalized: entries must sum to one within ``ATOL = 1e-9``.
The fast path (valid input) costs a handful of NumPy reductions; the diagnosis of
*what* is wrong only runs once something is.
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import Any

import numpy as np
from scipy import sparse as _sp

from .errors import InvalidDistributionError, InvalidParameterError

__all__ = [
    "ATOL",
    "as_channel",
    "as_distortion",
    "as_generator",
    "as_joint",
    "as_pmf",
    "channel_and_min",
    "check_alpha",
    "check_base",
    "check_choice",
    "check_compatible",
    "check_nonnegative",
    "check_positive",
    "check_same_shape",
    "check_size",
    "check_tolerance",
    "pmf_and_min",
    "wrap_errors",
]

#: Absolute tolerance on "sums to one".
ATOL = 1e-9

_ALLOWED_KINDS = "biuf"


def _fmt(x: float) -> str:
    return f"{x:.10g}"


def _describe(a: np.ndarray) -> str:
    """A short description of an array for error messages."""
    if a.size <= 8:
        return np.array2string(np.asarray(a), precision=6, separator=", ")
    return f"an array of shape {a.shape}"


_MIN = np.minimum.reduce
_SUM = np.add.reduce


def _raise_dist(func: str, name: str, requirement: str, got: str, hint: str = "") -> None:
    msg = f"{func}: the '{name}' argument must {requirement}; got {got} instead."
    if hint:
        msg += " " + hint
    raise InvalidDistributionError(msg)


def _raise_param(func: str, name: str, requirement: str, got: Any, hint: str = "") -> None:
    msg = f"{func}: the '{name}' argument must {requirement}; got {got!r} instead."
    if hint:
        msg += " " + hint
    raise InvalidParameterError(msg)


def _as_float_array(x: Any, *, func: str, name: str, what: str) -> np.ndarray:
    if type(x) is np.ndarray and x.dtype == np.float64:  # the common case, at no cost
        return x
    try:
        a = np.asarray(x)
    except (TypeError, ValueError) as exc:  # ragged nested lists, etc.
        _raise_dist(func, name, f"be {what} of real numbers", f"an unreadable value ({exc})")
    if a.dtype.kind not in _ALLOWED_KINDS:
        _raise_dist(
            func, name, f"be {what} of real numbers", f"an array of dtype {a.dtype}: {_describe(a)}"
        )
    return a.astype(np.float64, copy=False)


def _diagnose_entries(a: np.ndarray, *, func: str, name: str, hint: str = "") -> None:
    """Raise for the first non-finite or negative entry of ``a`` (called only on failure)."""
    bad = ~np.isfinite(a)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        idx_s = str(idx[0]) if len(idx) == 1 else str(list(idx))
        _raise_dist(func, name, "have only finite entries", f"{a[idx]} at index {idx_s}", hint)
    neg = a < 0
    if neg.any():
        idx = tuple(int(i) for i in np.argwhere(neg)[0])
        idx_s = str(idx[0]) if len(idx) == 1 else str(list(idx))
        _raise_dist(
            func,
            name,
            "have only nonnegative entries (probabilities)",
            f"{_fmt(a[idx])} at index {idx_s}",
            hint,
        )


def as_pmf(p: Any, *, func: str, name: str = "p") -> np.ndarray:
    """Validate a probability vector and return it as a 1-D ``float64`` array.

    Requirements: 1-D, non-empty, finite, nonnegative, summing to 1 within ``ATOL``.
    """
    return pmf_and_min(p, func=func, name=name)[0]


def pmf_and_min(p: Any, *, func: str, name: str = "p") -> tuple[np.ndarray, float]:
    """:func:`as_pmf`, also returning ``min(p)`` (``> 0`` means full support) for free."""
    a = _as_float_array(p, func=func, name=name, what="a 1-D array")
    if a.ndim != 1 or a.size == 0:
        _raise_dist(
            func,
            name,
            "be a non-empty 1-D probability vector",
            f"an array of shape {a.shape}",
        )
    # ufunc reductions called directly: the ndarray methods add ~1 us each, which is
    # most of the cost on small alphabets
    m = _MIN(a, axis=None)
    if not m >= 0:  # also catches NaN
        _diagnose_entries(a, func=func, name=name)
    s = _SUM(a, axis=None)
    if not abs(s - 1.0) <= ATOL:  # also catches +inf
        _diagnose_entries(a, func=func, name=name)
        _raise_dist(
            func,
            name,
            f"sum to 1 (atol {ATOL:g})",
            f"entries summing to {_fmt(s)}",
            f"Pass {name} / {name}.sum() if you meant to normalize; "
            "leakage never does it silently.",
        )
    return a, float(m)


def _check_rows(row_sums: np.ndarray, *, func: str, name: str) -> None:
    dev = np.abs(row_sums - 1.0)
    if not dev.max() <= ATOL:
        i = int(np.argmax(np.where(np.isnan(dev), np.inf, dev)))
        _raise_dist(
            func,
            name,
            f"be row-stochastic (axis 0 = input; every row sums to 1, atol {ATOL:g})",
            f"row {i} summing to {_fmt(row_sums[i])}",
            f"Divide each row by its sum ({name} / {name}.sum(axis=1, keepdims=True)) "
            "if you meant to normalize.",
        )


@functools.lru_cache(maxsize=64)
def _ones(n: int) -> np.ndarray:
    o = np.ones(n)
    o.flags.writeable = False
    return o


def _sparse_row_sums(S) -> np.ndarray:
    """Row sums of a CSR array (faster than ``S.sum(axis=1)`` on tall deterministic channels)."""
    nonempty = np.diff(S.indptr) > 0
    out = np.zeros(S.shape[0])
    if S.data.size:
        out[nonempty] = np.add.reduceat(S.data, S.indptr[:-1][nonempty])
    return out


def as_channel(W: Any, *, func: str, name: str = "channel", sparse_ok: bool = False):
    """Validate a channel ``W[x, y] = P(y | x)`` (2-D, row-stochastic).

    With ``sparse_ok=True`` a ``scipy.sparse`` matrix/array is accepted and returned as a
    ``float64`` CSR array; otherwise it is rejected with a message naming the function.
    """
    return channel_and_min(W, func=func, name=name, sparse_ok=sparse_ok)[0]


def channel_and_min(W: Any, *, func: str, name: str = "channel", sparse_ok: bool = False):
    """:func:`as_channel`, also returning the smallest entry (``> 0``: no zeros) for free."""
    if type(W) is not np.ndarray and _sp.issparse(W):
        if not sparse_ok:
            _raise_dist(
                func,
                name,
                "be a dense 2-D array (this function does not take sparse channels)",
                f"a sparse matrix of shape {W.shape}",
                "Use W.toarray().",
            )
        S = _sp.csr_array(W, dtype=np.float64)
        if S.ndim != 2 or S.shape[0] == 0 or S.shape[1] == 0:
            _raise_dist(func, name, "be a non-empty 2-D channel", f"shape {S.shape}")
        data = S.data
        if data.size and not data.min() >= 0:
            _diagnose_entries(data, func=func, name=name + ".data")
        _check_rows(_sparse_row_sums(S), func=func, name=name)
        full = data.size == S.shape[0] * S.shape[1]
        return S, (float(data.min()) if full else 0.0)
    a = _as_float_array(W, func=func, name=name, what="a 2-D array")
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
        _raise_dist(
            func,
            name,
            "be a non-empty 2-D channel matrix W[x, y] = P(y|x)",
            f"an array of shape {a.shape}",
        )
    m = _MIN(a, axis=None)
    if not m >= 0:
        _diagnose_entries(a, func=func, name=name)
    # Row sums by a BLAS matrix-vector product, and a one-reduction fast test:
    # ||s - 1||_2 <= ATOL implies max|s - 1| <= ATOL (NaN/inf fail it); only when
    # it fails is the exact max-norm test (and the diagnosis) run.
    s = a @ _ones(a.shape[1])
    d = s - 1.0
    if not float(d @ d) <= ATOL * ATOL and not np.abs(d).max() <= ATOL:
        _diagnose_entries(a, func=func, name=name)
        _check_rows(s, func=func, name=name)
    return a, float(m)


def as_joint(p_xy: Any, *, func: str, name: str = "p_xy") -> np.ndarray:
    """Validate a joint distribution (2-D, nonnegative, summing to 1)."""
    a = _as_float_array(p_xy, func=func, name=name, what="a 2-D array")
    if a.ndim != 2 or a.size == 0:
        _raise_dist(
            func, name, "be a non-empty 2-D joint distribution", f"an array of shape {a.shape}"
        )
    m = a.min()
    if not m >= 0:
        _diagnose_entries(a, func=func, name=name)
    s = a.sum()
    if not abs(s - 1.0) <= ATOL:
        _diagnose_entries(a, func=func, name=name)
        _raise_dist(func, name, f"sum to 1 (atol {ATOL:g})", f"entries summing to {_fmt(s)}")
    return a


def check_compatible(
    p: np.ndarray, W, *, func: str, p_name: str = "p_x", w_name: str = "channel"
) -> None:
    """Check that ``len(p) == W.shape[0]`` (``p`` is the input distribution of ``W``)."""
    if p.shape[0] != W.shape[0]:
        _raise_dist(
            func,
            w_name,
            f"have one row per entry of '{p_name}' ({p.shape[0]} rows, axis 0 = input)",
            f"shape {W.shape}",
            "Transpose the channel if its axis 0 is the output.",
        )


def check_same_shape(p: np.ndarray, q: np.ndarray, *, func: str, names=("p", "q")) -> None:
    """Check that two distributions live on the same alphabet."""
    if p.shape != q.shape:
        _raise_dist(
            func,
            names[1],
            f"have the same shape as '{names[0]}' {p.shape}",
            f"shape {q.shape}",
        )


def _is_real(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def check_base(base: Any, *, func: str) -> float:
    """Logarithm base: a finite real number > 1 (2: bits, e: nats, 10: hartleys).

    A base in (0, 1) would turn every information quantity negative: refused."""
    if base == 2 and type(base) in (int, float):  # the default, checked first
        return 2.0
    if not _is_real(base) or not math.isfinite(base) or base <= 1:
        _raise_param(
            func,
            "base",
            "be a finite real number > 1 (2 for bits, e for nats, 10 for hartleys)",
            base,
        )
    return float(base)


def check_tolerance(tol: Any, *, func: str, name: str = "tol") -> float:
    """A tolerance: a finite real number > 0 (a tolerance <= 0 can never be met)."""
    if not _is_real(tol) or not math.isfinite(tol) or tol <= 0:
        _raise_param(func, name, "be a finite real number > 0 (a tolerance)", tol)
    return float(tol)


#: Default limit on the number of entries of one array the library allocates from a size
#: argument (2**27 float64 entries = 1 GiB). Functions document their own limits.
MAX_ENTRIES = 2**27


def check_size(
    n: Any,
    *,
    func: str,
    name: str,
    limit: int = MAX_ENTRIES,
    minimum: int = 1,
    what: str = "",
    hint: str = "",
) -> int:
    """An integer size in ``[minimum, limit]``, checked *before* anything is allocated.

    The error says the size, the limit and, through ``hint``, how to raise it or what to
    use instead (e.g. streaming)."""
    if not isinstance(n, numbers.Integral) or isinstance(n, bool):
        if isinstance(n, float) and n.is_integer():
            n = int(n)
        else:
            _raise_param(func, name, f"be an integer >= {minimum}", n)
    n = int(n)
    if n < minimum:
        _raise_param(func, name, f"be an integer >= {minimum}", n)
    if n > limit:
        unit = f" {what}" if what else ""
        msg = (
            f"{func}: the '{name}' argument asks for {n:,}{unit}, above the limit of "
            f"{limit:,}{unit}."
        )
        raise InvalidParameterError(msg + (" " + hint if hint else ""))
    return n


def as_generator(rng: Any, *, func: str, name: str = "rng") -> np.random.Generator:
    """``None`` (fresh OS entropy), a nonnegative integer seed, a ``SeedSequence``, a
    ``BitGenerator`` or a ``Generator``: returned as a ``numpy.random.Generator``."""
    if isinstance(rng, np.random.Generator):
        return rng
    ok = rng is None or isinstance(rng, (np.random.SeedSequence, np.random.BitGenerator))
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        ok = int(rng) >= 0
    if not ok:
        _raise_param(
            func,
            name,
            "be None, a nonnegative integer seed or a numpy.random.Generator",
            rng,
        )
    return np.random.default_rng(rng)


class wrap_errors:
    """Turn the low-level exceptions a parser raises (``TypeError``, ``ValueError``,
    ``KeyError``, ``IndexError``) into :class:`InvalidParameterError` naming the
    function, the argument and the fix; the original stays as ``__cause__``::

        with wrap_errors("Cipher.load", "path", "a file written by Cipher.save"):
            data = json.loads(text)["key_bits"]
    """

    def __init__(self, func: str, name: str, requirement: str, error=InvalidParameterError):
        self.func, self.name, self.requirement, self.error = func, name, requirement, error

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        if et is not None and issubclass(et, (TypeError, ValueError, KeyError, IndexError)):
            from .errors import LeakageError

            if issubclass(et, LeakageError):
                return False
            detail = f"{et.__name__}: {ev}"
            raise self.error(
                f"{self.func}: the '{self.name}' argument must be {self.requirement}; "
                f"reading it failed ({detail})."
            ) from ev
        return False


def check_alpha(
    alpha: Any,
    *,
    func: str,
    name: str = "alpha",
    allow_inf: bool = True,
) -> float:
    """An order alpha in (0, inf) (or (0, inf] with ``allow_inf``); returns a float."""
    ok = _is_real(alpha) and not math.isnan(alpha) and alpha > 0
    if ok and math.isinf(alpha) and not allow_inf:
        ok = False
    if not ok:
        rng = "(0, inf]" if allow_inf else "(0, inf)"
        _raise_param(func, name, f"be a real number in {rng}", alpha)
    return float(alpha)


def check_positive(x: Any, *, func: str, name: str, integer: bool = False) -> float | int:
    """A finite real (or integer) number > 0."""
    if integer:
        ok = isinstance(x, numbers.Integral) and not isinstance(x, bool) and x > 0
        if not ok:
            _raise_param(func, name, "be a positive integer", x)
        return int(x)
    if not _is_real(x) or not math.isfinite(x) or x <= 0:
        _raise_param(func, name, "be a finite real number > 0", x)
    return float(x)


def check_choice(value: Any, choices, *, func: str, name: str) -> str:
    """One of a fixed set of string choices."""
    if value not in choices:
        opts = ", ".join(repr(c) for c in choices)
        _raise_param(func, name, f"be one of {opts}", value)
    return value


def check_nonnegative(x: Any, *, func: str, name: str) -> float:
    """A finite real number >= 0."""
    if not _is_real(x) or not math.isfinite(x) or x < 0:
        _raise_param(func, name, "be a finite real number >= 0", x)
    return float(x)


def as_distortion(d: Any, *, func: str, name: str = "distortion", n_x: int | None = None):
    """Validate a distortion matrix ``d[x, x_hat]``: 2-D, finite, nonnegative, and with
    ``n_x`` rows (one per source letter) when ``n_x`` is given. Returns ``float64``."""
    req = "be a 2-D array of finite real distortions >= 0 (rows x, columns x_hat)"
    try:
        raw = np.asarray(d)
        if raw.dtype.kind not in _ALLOWED_KINDS:  # complex, strings, objects: refused
            raise TypeError(f"dtype {raw.dtype}")
        a = raw.astype(np.float64, copy=False)
    except (TypeError, ValueError) as exc:
        msg = f"{func}: the '{name}' argument must {req}; got {d!r} instead."
        raise InvalidParameterError(msg) from exc
    if a.ndim != 2 or a.size == 0:
        _raise_param(
            func,
            name,
            "be a non-empty 2-D array (rows: source letters x, columns: reproductions x_hat)",
            f"an array of shape {a.shape}",
        )
    if not np.all(np.isfinite(a)) or a.min() < 0:
        bad = np.argwhere(~np.isfinite(a) | (a < 0))[0]
        _raise_param(
            func,
            name,
            "have finite, nonnegative entries (bounded distortion)",
            f"{a[tuple(bad)]} at index {[int(i) for i in bad]}",
        )
    if n_x is not None and a.shape[0] != n_x:
        _raise_param(
            func,
            name,
            f"have one row per source letter ({n_x} rows)",
            f"an array of shape {a.shape}",
            "Rows index the source letter x, columns the reproduction x_hat.",
        )
    return a


def clip_interval(lo: float, hi: float, low: float = 0.0, high: float = math.inf):
    """An interval ``[lo, hi]`` for a quantity known to lie in ``[low, high]``.

    Ends outside the range are moved onto it. An interval lying *entirely* outside (e.g.
    a bias-corrected or k-NN interval below 0 for a leakage near 0) would collapse to a
    point that claims certainty; it is reported instead as the range's edge plus the
    interval's half-width (``[0, (hi - lo) / 2]`` below 0): the data cannot tell the
    quantity from the edge within that."""
    half = (hi - lo) / 2
    if hi < low:
        return low, min(low + half, high)
    if lo > high:
        return max(high - half, low), high
    return max(lo, low), min(hi, high)
