r"""Rate–distortion functions with certified bounds (paper 000, eq. (14)).

.. math::

    R(p, D) = \min_{Q(\hat x|x):\ \mathbb E\, d(X, \hat X) \le D} I(X; \hat X)

for a finite source ``p`` and any ``|X| x |X̂|`` distortion matrix (rectangular too),
by Blahut–Arimoto in the slope parameter with Newton polishing; every value comes with a
certified interval ``[lower, upper]`` (see :mod:`leakage.ratedistortion._blahut`).

>>> import leakage as lk
>>> r = lk.ratedistortion.rate_distortion([0.4, 0.6], "hamming", 0.2)
>>> f"{r.rate:.10f}", r.gap <= 1e-9     # H_b(0.4) - H_b(0.2) = 0.2490224996
('0.2490224996', True)
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from numpy.typing import ArrayLike

from .._validation import (
    as_distortion,
    as_pmf,
    check_base,
    check_nonnegative,
    check_positive,
)
from ..errors import ConvergenceWarning, InfeasibleError, InvalidParameterError
from ..results import RateDistortionCurve, RateDistortionResult, Status
from ..units import from_nats, to_nats
from ._blahut import Problem, mutual_information_nats, solve_target

__all__ = [
    "DISTORTIONS",
    "RateDistortionCurve",
    "RateDistortionResult",
    "binary_entropy",
    "distortion_matrix",
    "distortion_range",
    "rate_distortion",
    "rate_distortion_bernoulli",
    "rate_distortion_curve",
]

#: Named distortion measures on the letters ``0..m-1`` (reproduction alphabet = source's).
DISTORTIONS = ("hamming", "abs", "squared")

_MIN_TOL = 1e-13


def distortion_matrix(name: str, n: int, m: int | None = None) -> np.ndarray:
    """A named distortion matrix on letters ``0..n-1`` (rows) and ``0..m-1`` (columns).

    ``"hamming"``: ``1[x != x̂]``; ``"abs"``: ``|x - x̂|``; ``"squared"``: ``(x - x̂)^2``.
    ``m`` defaults to ``n``.
    """
    if name not in DISTORTIONS:
        raise InvalidParameterError(
            f"distortion_matrix: the 'name' argument must be one of "
            f"{', '.join(map(repr, DISTORTIONS))}; got {name!r} instead."
        )
    n = int(check_positive(n, func="distortion_matrix", name="n", integer=True))
    m = n if m is None else int(check_positive(m, func="distortion_matrix", name="m", integer=True))
    x = np.arange(n)[:, None]
    xh = np.arange(m)[None, :]
    if name == "hamming":
        return (x != xh).astype(np.float64)
    if name == "abs":
        return np.abs(x - xh).astype(np.float64)
    return ((x - xh) ** 2).astype(np.float64)


def _setup(p: ArrayLike, distortion, *, func: str):
    pv = as_pmf(p, func=func, name="p")
    if isinstance(distortion, str):
        if distortion not in DISTORTIONS:
            raise InvalidParameterError(
                f"{func}: the 'distortion' argument must be a matrix or one of "
                f"{', '.join(map(repr, DISTORTIONS))}; got {distortion!r} instead."
            )
        d = distortion_matrix(distortion, pv.size)
    else:
        d = as_distortion(distortion, func=func, name="distortion", n_x=pv.size)
    on = pv > 0
    return pv, d, on, Problem(pv[on], d[on])


def _check_tol(tol, func: str) -> float:
    tol = check_positive(tol, func=func, name="tol")
    if tol < _MIN_TOL:
        raise InvalidParameterError(
            f"{func}: the 'tol' argument must be >= {_MIN_TOL:g} (a smaller certified gap "
            f"is below double-precision resolution); got {tol!r} instead."
        )
    return tol


def _full_channel(Q_on: np.ndarray, d: np.ndarray, on: np.ndarray) -> np.ndarray:
    """Put back the letters with p(x) = 0 (mapped to a closest reproduction)."""
    if on.all():
        return Q_on
    Q = np.zeros(d.shape)
    Q[on] = Q_on
    off = np.flatnonzero(~on)
    Q[off, np.argmin(d[off], axis=1)] = 1.0
    return Q


def _solve(prob: Problem, D: float, tol_n: float, max_iter: int, func: str, warm=None):
    """(upper, lower, Q, distortion, beta, q, n_iter, converged) in nats, edges exact."""
    if D < prob.D_min - 1e-12 * max(1.0, prob.D_min):
        raise InfeasibleError(
            f"{func}: the 'D' argument must be >= D_min = {prob.D_min:.10g} (every letter "
            f"reproduced at its smallest distortion); got {D!r} instead. No test channel "
            "reaches a smaller expected distortion."
        )
    if D >= prob.D_max:
        Q = np.zeros(prob.d.shape)
        Q[:, prob.best_constant] = 1.0
        q = Q[0].copy()
        return 0.0, 0.0, Q, prob.D_max, 0.0, q, 0, True
    beta0, q0 = warm if warm is not None else (None, None)
    return solve_target(prob, max(D, prob.D_min), tol_n, max_iter, beta0, q0)


def _result(pv, d, on, out, D: float, tol_n: float, base: float) -> RateDistortionResult:
    upper, lower, Q_on, _dist, beta, _q, n_iter, converged = out
    Q = _full_channel(Q_on, d, on)
    lower = min(lower, upper)
    return RateDistortionResult(
        rate=float(from_nats(upper, base)),
        lower=float(from_nats(max(lower, 0.0), base)),
        upper=float(from_nats(upper, base)),
        D=D,
        distortion=float(pv @ (Q * d).sum(axis=1)),
        test_channel=Q,
        output_distribution=pv @ Q,
        slope=-float(beta) / math.log(base) if beta else 0.0,
        converged=bool(converged),
        n_iter=int(n_iter),
        base=base,
        status=Status.OPTIMAL if converged else Status.ITERATION_LIMIT,
    )


def distortion_range(p: ArrayLike, distortion: ArrayLike | str) -> tuple[float, float]:
    r"""``(D_min, D_max)``: below ``D_min = sum_x p(x) min_x̂ d(x, x̂)`` nothing is
    achievable; from ``D_max = min_x̂ sum_x p(x) d(x, x̂)`` on, ``R(D) = 0``."""
    _, _, _, prob = _setup(p, distortion, func="distortion_range")
    return prob.D_min, prob.D_max


def rate_distortion(
    p: ArrayLike,
    distortion: ArrayLike | str,
    D: float,
    *,
    base: float = 2,
    tol: float = 1e-9,
    max_iter: int = 100_000,
) -> RateDistortionResult:
    r"""Rate–distortion function :math:`R(p, D)` (eq. (14) of paper 000), certified.

    .. math:: R(p, D) = \min_{Q:\ \sum_{x,\hat x} p(x) Q(\hat x|x) d(x,\hat x) \le D} I(X;\hat X)

    Blahut–Arimoto in the slope :math:`\beta` (Blahut 1972) with Newton polishing, the
    target ``D`` reached by a bracketing search on :math:`\log\beta`; stops when the
    certified gap between the rate of the returned test channel (upper bound) and
    Blahut's dual lower bound is at most ``tol``.

    Edges are exact: for :math:`D \ge D_{\max} = \min_{\hat x} \sum_x p(x) d(x,\hat x)`
    the rate is 0 and the test channel sends every ``x`` to that best constant
    :math:`\hat x`; for :math:`D < D_{\min} = \sum_x p(x) \min_{\hat x} d(x,\hat x)`
    nothing is achievable (:class:`~leakage.InfeasibleError`).

    Parameters
    ----------
    p : (n_x,) array-like
        Source distribution.
    distortion : (n_x, n_xhat) array-like or {"hamming", "abs", "squared"}
        Distortion matrix ``d[x, x_hat] >= 0`` (finite; any number of columns), or the
        name of one on the letters ``0..n_x-1``.
    D : float
        Target expected distortion (>= 0, same unit as ``distortion``).
    base : float, default 2
        Logarithm base of the rate (2: bits).
    tol : float, default 1e-9
        Required certified gap ``upper - lower`` (units of ``log_base``), >= 1e-13.
    max_iter : int, default 100000
        Cap on Blahut–Arimoto iterations per slope; if the gap is not reached, the
        result has ``converged=False`` (bounds still valid) and a ConvergenceWarning.

    Returns
    -------
    RateDistortionResult
        ``rate`` (= ``upper``, achieved by ``test_channel`` at distortion
        ``distortion <= D``), ``lower``, ``upper``, ``gap``, ``slope``, ...

    Raises
    ------
    InfeasibleError
        ``D < D_min``.
    InvalidDistributionError, InvalidParameterError
        Bad ``p``, ``distortion``, ``D``, ``base`` or ``tol``.

    Examples
    --------
    >>> import leakage as lk
    >>> r = lk.ratedistortion.rate_distortion([0.5, 0.5], [[0, 1], [1, 0]], 0.11)
    >>> round(r.rate, 6), r.distortion <= 0.11
    (0.500084, True)
    """
    fn = "rate_distortion"
    base = check_base(base, func=fn)
    tol = _check_tol(tol, fn)
    max_iter = check_positive(max_iter, func=fn, name="max_iter", integer=True)
    D = check_nonnegative(D, func=fn, name="D")
    pv, d, on, prob = _setup(p, distortion, func=fn)
    tol_n = to_nats(tol, base)
    out = _solve(prob, D, tol_n, max_iter, fn)
    res = _result(pv, d, on, out, D, tol_n, base)
    if not res.converged:
        warnings.warn(
            f"{fn}: stopped with certified gap {res.gap:.3g} > tol={tol:g} at D={D:g}; "
            "the bounds are valid. Raise max_iter or tol.",
            ConvergenceWarning,
            stacklevel=2,
        )
    return res


def rate_distortion_curve(
    p: ArrayLike,
    distortion: ArrayLike | str,
    D_values: ArrayLike,
    *,
    base: float = 2,
    tol: float = 1e-9,
    max_iter: int = 100_000,
) -> RateDistortionCurve:
    r""":func:`rate_distortion` at many distortions, warm-started along the curve.

    Points are solved from the largest ``D`` down, each starting from its neighbour's
    slope and output distribution; every point is certified to ``tol``. Returns arrays in
    the order of ``D_values``.

    Parameters
    ----------
    p, distortion, base, tol, max_iter
        As in :func:`rate_distortion`.
    D_values : (n,) array-like
        Target distortions, each ``>= D_min`` (any order).

    Returns
    -------
    RateDistortionCurve
        ``D``, ``rate`` (= ``upper``), ``lower``, ``upper``, ``slope``, ``converged``,
        ``D_min``, ``D_max`` and the property ``gap``.
    """
    fn = "rate_distortion_curve"
    base = check_base(base, func=fn)
    tol = _check_tol(tol, fn)
    max_iter = check_positive(max_iter, func=fn, name="max_iter", integer=True)
    Ds = np.asarray(D_values, dtype=np.float64)
    if Ds.ndim != 1 or Ds.size == 0 or not np.all(np.isfinite(Ds)) or Ds.min() < 0:
        raise InvalidParameterError(
            f"{fn}: the 'D_values' argument must be a non-empty 1-D array of finite "
            f"distortions >= 0; got {np.array2string(Ds, threshold=8)} instead."
        )
    pv, d, on, prob = _setup(p, distortion, func=fn)
    if Ds.min() < prob.D_min - 1e-12 * max(1.0, prob.D_min):
        raise InfeasibleError(
            f"{fn}: every entry of 'D_values' must be >= D_min = {prob.D_min:.10g}; got "
            f"{Ds.min()!r} instead."
        )
    tol_n = to_nats(tol, base)
    n = Ds.size
    rate, lower, upper, slope = (np.empty(n) for _ in range(4))
    conv = np.zeros(n, dtype=bool)
    warm = None
    for i in np.argsort(-Ds, kind="stable"):
        out = _solve(prob, float(Ds[i]), tol_n, max_iter, fn, warm)
        r = _result(pv, d, on, out, float(Ds[i]), tol_n, base)
        rate[i], lower[i], upper[i], slope[i], conv[i] = (
            r.rate,
            r.lower,
            r.upper,
            r.slope,
            r.converged,
        )
        if out[4] and math.isfinite(out[4]):
            warm = (out[4], out[5])
    if not conv.all():
        warnings.warn(
            f"{fn}: {int((~conv).sum())} point(s) stopped above tol={tol:g}; their bounds "
            "are valid. Raise max_iter or tol.",
            ConvergenceWarning,
            stacklevel=2,
        )
    return RateDistortionCurve(
        D=Ds.copy(),
        rate=rate,
        lower=lower,
        upper=upper,
        slope=slope,
        converged=conv,
        D_min=prob.D_min,
        D_max=prob.D_max,
        base=base,
    )


def binary_entropy(q: ArrayLike, *, base: float = 2) -> np.ndarray | float:
    """:math:`H_b(q) = -q\\log q - (1-q)\\log(1-q)` (vectorized; ``H_b(0) = H_b(1) = 0``)."""
    base = check_base(base, func="binary_entropy")
    qa = np.asarray(q, dtype=np.float64)
    if np.any(~np.isfinite(qa)) or np.any(qa < 0) or np.any(qa > 1):
        raise InvalidParameterError(
            "binary_entropy: the 'q' argument must lie in [0, 1]; got "
            f"{np.array2string(qa, threshold=8)} instead."
        )
    from scipy.special import xlogy

    h = -(xlogy(qa, qa) + xlogy(1 - qa, 1 - qa)) / math.log(base)
    return float(h) if h.ndim == 0 else h


def rate_distortion_bernoulli(q: float, D: float, *, base: float = 2) -> float:
    """Closed form for Bern(q) under Hamming distortion (eqs. (29)–(30) of paper 000):
    :math:`R = H_b(q) - H_b(D)` for :math:`D < \\min(q, 1-q)`, else 0 (ERRATA)."""
    fn = "rate_distortion_bernoulli"
    D = check_nonnegative(D, func=fn, name="D")
    if not 0 <= q <= 1:
        raise InvalidParameterError(
            f"{fn}: the 'q' argument must lie in [0, 1]; got {q!r} instead."
        )
    if D >= min(q, 1 - q):
        return 0.0
    return float(binary_entropy(q, base=base) - binary_entropy(D, base=base))


# re-exported for the tests and the cipher package
_mutual_information_nats = mutual_information_nats
