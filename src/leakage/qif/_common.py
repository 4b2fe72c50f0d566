"""Private input handling of :mod:`leakage.qif`: float and exact (``Fraction``) modes.

Float inputs go through :mod:`leakage._validation` (``as_pmf``, ``as_channel``); this
module adds the gain-matrix checks and the exact mode, in which priors and channels given
as :class:`fractions.Fraction` (object arrays or lists) are checked and computed on
without any conversion to float.
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction
from typing import Any

import numpy as np

from .._validation import as_channel, as_pmf, check_compatible
from ..errors import InvalidDistributionError, InvalidParameterError

_PREFIX = "qif."


def _raise(func: str, name: str, requirement: str, got: str, error=InvalidParameterError):
    raise error(f"{func}: the '{name}' argument must {requirement}; got {got} instead.")


def _describe(a: np.ndarray) -> str:
    if a.size <= 8:
        return repr(a.tolist())
    return f"an array of shape {a.shape}"


def _is_exact_scalar(v: Any) -> bool:
    return isinstance(v, (Fraction, numbers.Integral)) and not isinstance(v, (bool, np.bool_))


def _kind(x: Any) -> str:
    """``"exact"`` (object array of Fractions/ints), ``"int"`` (integer dtype), ``"float"``."""
    if x is None:
        return "int"
    try:
        a = x if isinstance(x, np.ndarray) else np.asarray(x)
    except (TypeError, ValueError):
        return "float"  # the float validators report it
    if a.dtype == object:
        flat = a.ravel().tolist()
        if flat and all(_is_exact_scalar(v) for v in flat):
            return "exact"
        return "float"
    if a.dtype.kind in "iu":
        return "int"
    return "float"


def is_exact(*xs: Any) -> bool:
    """Exact mode: every input holds only Fractions/integers and one holds a Fraction."""
    kinds = [_kind(x) for x in xs]
    return all(k != "float" for k in kinds) and "exact" in kinds


def _to_float(x: Any) -> Any:
    """An object array of numbers (e.g. Fractions mixed with floats) as float64."""
    if isinstance(x, np.ndarray) and x.dtype != object:
        return x
    try:
        a = np.asarray(x)
    except (TypeError, ValueError):
        return x
    if a.dtype == object:
        try:
            return a.astype(np.float64)
        except (TypeError, ValueError):
            return x  # the validator reports it
    return x


def _fractions(a: np.ndarray) -> np.ndarray:
    out = np.empty(a.shape, dtype=object)
    out.ravel()[:] = [Fraction(v) for v in a.ravel().tolist()]
    return out


def exact_pmf(p: Any, *, func: str, name: str = "prior") -> np.ndarray:
    """A prior of Fractions/integers: 1-D, non-negative, summing to exactly 1."""
    a = np.asarray(p, dtype=object)
    if a.ndim != 1 or a.size == 0:
        _raise(
            func,
            name,
            "be a non-empty 1-D probability vector",
            f"an array of shape {a.shape}",
            InvalidDistributionError,
        )
    a = _fractions(a)
    neg = [i for i, v in enumerate(a.tolist()) if v < 0]
    if neg:
        _raise(
            func,
            name,
            "have only nonnegative entries (probabilities)",
            f"{a[neg[0]]} at index {neg[0]}",
            InvalidDistributionError,
        )
    s = sum(a.tolist(), Fraction(0))
    if s != 1:
        _raise(
            func,
            name,
            "sum to exactly 1 (exact Fraction mode)",
            f"entries summing to {s}",
            InvalidDistributionError,
        )
    return a


def exact_channel(C: Any, *, func: str, name: str = "channel") -> np.ndarray:
    """A channel of Fractions/integers: 2-D, non-negative, every row summing to exactly 1."""
    a = np.asarray(C, dtype=object)
    if a.ndim != 2 or a.size == 0:
        _raise(
            func,
            name,
            "be a non-empty 2-D channel matrix C[x, y] = P(y|x)",
            f"an array of shape {a.shape}",
            InvalidDistributionError,
        )
    a = _fractions(a)
    if (a < 0).any():
        idx = [int(i) for i in np.argwhere(a < 0)[0]]
        _raise(
            func,
            name,
            "have only nonnegative entries (probabilities)",
            f"{a[tuple(idx)]} at index {idx}",
            InvalidDistributionError,
        )
    sums = a.sum(axis=1)
    bad = [i for i, s in enumerate(sums.tolist()) if s != 1]
    if bad:
        _raise(
            func,
            name,
            "be row-stochastic (axis 0 = input; every row sums to exactly 1, exact mode)",
            f"row {bad[0]} summing to {sums[bad[0]]}",
            InvalidDistributionError,
        )
    return a


def as_gain(
    G: Any,
    n_x: int,
    *,
    func: str,
    name: str = "gain",
    exact: bool = False,
    nonnegative: bool = False,
    what: str = "gain",
) -> np.ndarray:
    """Validate a gain (or loss) matrix ``G[w, x]``: 2-D, finite, ``n_x`` columns.

    In exact mode the result is an object array of Fractions (float entries are taken at
    their exact binary value). With ``nonnegative=True`` negative entries are refused.
    """
    req = f"be a 2-D array of finite real {what}s G[w, x] (rows: guesses w, columns: secrets x)"
    try:
        raw = np.asarray(G)
    except (TypeError, ValueError) as exc:
        _raise(func, name, req, f"an unreadable value ({exc})")
    if raw.dtype == object and all(_is_exact_scalar(v) for v in raw.ravel().tolist()):
        a = raw  # Fractions / ints
    else:
        if raw.dtype.kind not in "biufO":
            _raise(func, name, req, f"an array of dtype {raw.dtype}")
        try:
            a = raw.astype(np.float64)
        except (TypeError, ValueError):
            _raise(func, name, req, f"an array of dtype {raw.dtype}")
    if a.ndim != 2 or a.size == 0:
        _raise(func, name, req, f"an array of shape {a.shape}")
    if a.shape[1] != n_x:
        raise InvalidParameterError(
            f"{func}: the '{name}' argument must have one column per secret ({n_x} columns; "
            f"G[w, x] with rows = guesses w, columns = secrets x); got an array of shape "
            f"{a.shape} instead. Transpose it if its rows are the secrets."
        )
    if a.dtype != object:
        finite = np.isfinite(a)
        if not finite.all():
            idx = [int(i) for i in np.argwhere(~finite)[0]]
            _raise(
                func, name, f"have only finite {what} entries", f"{a[tuple(idx)]} at index {idx}"
            )
    if nonnegative:
        neg = a < 0
        if neg.any():
            idx = [int(i) for i in np.argwhere(neg)[0]]
            _raise(
                func,
                name,
                f"have only nonnegative entries (required here: multiplicative leakage and "
                f"capacity are defined for nonnegative {what}s only)",
                f"{a[tuple(idx)]} at index {idx}",
            )
    if exact:
        return _fractions(a)
    return a


def prior_inputs(prior: Any, gain: Any, func: str):
    """(pi, G or None, exact) for a prior-only quantity."""
    if _kind(prior) == "exact":
        pi = exact_pmf(prior, func=func, name="prior")
        G = None if gain is None else as_gain(gain, pi.shape[0], func=func, exact=True)
        return pi, G, True
    pi = as_pmf(_to_float(prior), func=func, name="prior")
    G = None if gain is None else as_gain(gain, pi.shape[0], func=func)
    return pi, G, False


def channel_inputs(prior: Any, C: Any, gain: Any, func: str, *, nonnegative: bool = False):
    """(pi, C, G or None, exact) for a quantity of a prior and a channel."""
    if is_exact(prior, C):
        pi = exact_pmf(prior, func=func, name="prior")
        W = exact_channel(C, func=func, name="channel")
        exact = True
    else:
        pi = as_pmf(_to_float(prior), func=func, name="prior")
        W = as_channel(_to_float(C), func=func, name="channel")
        exact = False
    check_compatible(pi, W, func=func, p_name="prior", w_name="channel")
    G = None
    if gain is not None:
        G = as_gain(gain, pi.shape[0], func=func, exact=exact, nonnegative=nonnegative)
    return pi, W, G, exact


def as_scalar(v: Any, exact: bool):
    """A result as ``Fraction`` (exact mode) or ``float``."""
    return Fraction(v) if exact else float(v)


def log_ratio(num: Any, den: Any, base: float, exact: bool) -> float:
    """``log_base(num / den)`` for positive numbers (exactly rounded-ish for Fractions)."""
    if exact:
        num, den = Fraction(num), Fraction(den)
        nats = math.log(num.numerator * den.denominator) - math.log(num.denominator * den.numerator)
    else:
        nats = math.log(float(num)) - math.log(float(den))
    return nats / math.log(base)
