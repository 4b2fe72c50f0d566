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
    MAX_ENTRIES,
    as_distortion,
    as_pmf,
    check_base,
    check_nonnegative,
    check_positive,
    check_size,
)
from ..errors import ConvergenceWarning, InfeasibleError, InvalidParameterError, SolverError
from ..results import (
    RateDistortionCurve,
    RateDistortionResult,
    Status,
    SuccessiveRefinementResult,
)
from ..units import from_nats, to_nats
from ._blahut import Problem, mutual_information_nats, solve_rd
from ._refinement import (
    _Ctx,
    best_dual_bound,
    capped_candidates,
    joint_distortions,
    joint_info,
    uncapped,
    unique_first_layer,
)

__all__ = [
    "DISTORTIONS",
    "RateDistortionCurve",
    "RateDistortionResult",
    "SuccessiveRefinementResult",
    "binary_entropy",
    "distortion_matrix",
    "distortion_range",
    "is_successively_refinable",
    "rate_distortion",
    "rate_distortion_bernoulli",
    "rate_distortion_curve",
    "successive_refinement_rate",
]

#: Named distortion measures on the letters ``0..m-1`` (reproduction alphabet = source's).
DISTORTIONS = ("hamming", "abs", "squared")

_MIN_TOL = 1e-13


#: Most D values :func:`rate_distortion_curve` computes in one call (one certified solve each).
MAX_CURVE_POINTS = 100_000


def distortion_matrix(name: str, n: int, m: int | None = None) -> np.ndarray:
    """A named distortion matrix on letters ``0..n-1`` (rows) and ``0..m-1`` (columns).

    ``"hamming"``: ``1[x != x̂]``; ``"abs"``: ``|x - x̂|``; ``"squared"``: ``(x - x̂)^2``.
    ``m`` defaults to ``n``. At most ``MAX_ENTRIES`` (2**27, 1 GiB of float64) entries:
    a larger size is refused before anything is allocated.
    """
    if name not in DISTORTIONS:
        raise InvalidParameterError(
            f"distortion_matrix: the 'name' argument must be one of "
            f"{', '.join(map(repr, DISTORTIONS))}; got {name!r} instead."
        )
    fn = "distortion_matrix"
    n = check_size(n, func=fn, name="n", limit=MAX_ENTRIES, what="letters")
    m = n if m is None else check_size(m, func=fn, name="m", limit=MAX_ENTRIES, what="letters")
    check_size(
        n * m,
        func=fn,
        name="n * m",
        what="entries",
        hint="A distortion this large does not fit in memory; work on a smaller alphabet.",
    )
    x = np.arange(n)[:, None]
    xh = np.arange(m)[None, :]
    if name == "hamming":
        return (x != xh).astype(np.float64)
    if name == "abs":
        return np.abs(x - xh).astype(np.float64)
    return ((x - xh) ** 2).astype(np.float64)


def as_distortion_arg(distortion, n_x: int, *, func: str, name: str = "distortion"):
    """A distortion matrix from a matrix or one of the names in :data:`DISTORTIONS`."""
    if isinstance(distortion, str):
        if distortion not in DISTORTIONS:
            raise InvalidParameterError(
                f"{func}: the '{name}' argument must be a matrix or one of "
                f"{', '.join(map(repr, DISTORTIONS))}; got {distortion!r} instead."
            )
        return distortion_matrix(distortion, n_x)
    return as_distortion(distortion, func=func, name=name, n_x=n_x)


def _setup(p: ArrayLike, distortion, *, func: str):
    pv = as_pmf(p, func=func, name="p")
    d = as_distortion_arg(distortion, pv.size, func=func)
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
    out = solve_rd(prob, D, tol_n, max_iter, fn)
    res = _result(pv, d, on, out, D, tol_n, base)
    if not res.converged:
        warnings.warn(
            f"{fn}: stopped by the iteration limit max_iter={max_iter} with certified gap "
            f"{res.gap:.3g} > tol={tol:g} at D={D:g}; the bounds are valid. Raise max_iter "
            "or tol.",
            ConvergenceWarning,
            stacklevel=2,
        )
    return res


#: A curve warm-starts each point from its neighbour (Newton first). When that fails,
#: the next (smaller) D may need reproductions the neighbour gives weight 0, which
#: Blahut-Arimoto regrows from 1e-12 only geometrically (n = 128, Hamming: 12,903 and
#: 21,352 iterations at two points, ~1,000 cold): its steps start from the neighbour's
#: output distribution mixed with this share of the uniform one.
_WARM_MIX = 1e-3


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

    Points are solved from the largest ``D`` down, each warm-started from its neighbour's
    slope and output distribution (a joint Newton step on ``(q, log beta)``, falling back to
    slope bracketing); every point is certified to ``tol``: ``upper`` is the exact mutual
    information of a test channel with distortion ``<= D``, ``lower`` Blahut's dual bound

    .. math:: R(D) \ge -\beta (D - D_{\min}) - \sum_x p(x) \log z(x)
              - \log \max_{\hat x} c(\hat x),

    evaluated exactly at the final slope. A point stopped by ``max_iter`` keeps its valid
    bounds, has ``converged=False`` (status ITERATION_LIMIT) and a ConvergenceWarning
    names the largest gap and the limit. Returns arrays in the order of ``D_values``.

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
    check_size(Ds.size, func=fn, name="D_values", limit=MAX_CURVE_POINTS, what="points")
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
        out = solve_rd(prob, float(Ds[i]), tol_n, max_iter, fn, warm, _WARM_MIX)
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
        worst = int(np.argmax(np.where(conv, -np.inf, upper - lower)))
        warnings.warn(
            f"{fn}: {int((~conv).sum())} point(s) stopped by the iteration limit "
            f"max_iter={max_iter} above tol={tol:g}; largest certified gap "
            f"{upper[worst] - lower[worst]:.3g} (at D={Ds[worst]:g}). Their bounds are "
            "valid (status ITERATION_LIMIT). Raise max_iter or tol.",
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


def successive_refinement_rate(
    p: ArrayLike,
    d1: ArrayLike | str,
    d2: ArrayLike | str,
    D1: float,
    D2: float,
    R1: float | str | None = None,
    *,
    base: float = 2,
    tol: float = 1e-9,
    max_iter: int = 100_000,
) -> SuccessiveRefinementResult:
    r"""Minimum sum rate :math:`R(Q, R_1, D_1, D_2)` of eq. (15) of paper 000, certified.

    .. math::

        R(Q,R_1,D_1,D_2) = \min I(X;\hat X_1\hat X_2)\ \text{s.t.}\
        E d_1(X,\hat X_1) \le D_1,\ E d_2(X,\hat X_2) \le D_2,\ I(X;\hat X_1) \le R_1

    over joint test channels :math:`Q(\hat x_1, \hat x_2 | x)` (ERRATA: ``I(X, X̂1)`` in
    (15) means ``I(X; X̂1)``). The paper's examples never give ``R1``; it is explicit here
    (ERRATA, convention):

    * ``R1=None`` — no cap (:math:`R_1 = \infty`, what the converse of Theorem 1 uses);
    * ``R1="tight"`` — :math:`R_1 = R(Q, D_1)`, what the codebook of Section IV-B uses;
    * a number (in units of ``log base``) — must be :math:`\ge R(Q, D_1)`, else
      :class:`~leakage.InfeasibleError`. A number within the certified gap of
      :math:`R(Q, D_1)` is read as ``"tight"``.

    Method (see :mod:`leakage.ratedistortion._refinement`): the uncapped problem by
    certified Blahut–Arimoto on the product alphabet with a root-finder on the mix of
    the two distortions; if its optimum already meets the cap, that is the answer.
    Otherwise the cap binds: ``"tight"`` fixes an optimal :math:`D_1` test channel and
    solves the conditional problem :math:`\min I(X;\hat X_2|\hat X_1)`; a larger cap is
    solved as an exponential-cone program (cvxpy + Clarabel). The lower bound is a
    weak-duality bound evaluated exactly, never the solver's own estimate.

    Parameters
    ----------
    p : (n_x,) array-like
        Source distribution ``Q`` of the paper.
    d1, d2 : array-like or {"hamming", "abs", "squared"}
        Distortion matrices ``d_i[x, x̂_i]`` (rows: source letters; any number of columns).
    D1, D2 : float
        Target expected distortions (each ``>= sum_x p(x) min d_i(x, .)``).
    R1 : float, "tight" or None
        First-layer rate cap (see above).
    base : float, default 2
        Logarithm base of every rate (2: bits).
    tol : float, default 1e-9
        Target certified gap ``upper - lower``.
    max_iter : int
        Cap on Blahut–Arimoto iterations per slope.

    Returns
    -------
    SuccessiveRefinementResult
        ``sum_rate`` (= ``upper``), ``lower``, ``rate1``, ``test_channel[x, x̂1, x̂2]``,
        ``gap``, ``R1`` (the cap used), ``cap_active``, ...

    Raises
    ------
    InfeasibleError
        ``D1`` or ``D2`` below its minimum, or ``R1 < R(Q, D1)``.

    Examples
    --------
    >>> import leakage as lk
    >>> r = lk.ratedistortion.successive_refinement_rate([0.3, 0.7], "hamming", "hamming",
    ...                                                   0.2, 0.1, R1="tight")
    >>> f"{r.sum_rate:.8f}", r.gap <= 1e-9      # = H_b(0.3) - H_b(0.1): refinable
    ('0.41229531', True)
    """
    fn = "successive_refinement_rate"
    base = check_base(base, func=fn)
    tol = _check_tol(tol, fn)
    max_iter = int(check_positive(max_iter, func=fn, name="max_iter", integer=True))
    pv = as_pmf(p, func=fn, name="p")
    d1v = as_distortion_arg(d1, pv.size, func=fn, name="d1")
    d2v = as_distortion_arg(d2, pv.size, func=fn, name="d2")
    D1 = check_nonnegative(D1, func=fn, name="D1")
    D2 = check_nonnegative(D2, func=fn, name="D2")
    on = pv > 0
    pon, d1o, d2o = pv[on], d1v[on], d2v[on]
    for name, d, D in (("D1", d1o, D1), ("D2", d2o, D2)):
        Dmin = float(pon @ d.min(axis=1))
        if D < Dmin - 1e-12 * max(1.0, Dmin):
            raise InfeasibleError(
                f"{fn}: the '{name}' argument must be >= {Dmin:.10g} (every letter "
                f"reproduced at its smallest distortion); got {D!r} instead."
            )
    tol_n = to_nats(tol, base)
    ctx = _Ctx(pon, d1o, d2o, D1, D2, tol_n, max_iter, fn)
    rd1 = ctx.rd(d1o, D1)
    if R1 is None:
        cap, reading = math.inf, "none"
    elif isinstance(R1, str):
        if R1 != "tight":
            raise InvalidParameterError(
                f"{fn}: the 'R1' argument must be a rate, None (no cap) or 'tight' "
                f"(R1 = R(Q, D1)); got {R1!r} instead."
            )
        cap, reading = rd1[0], "tight"
    else:
        R1n = to_nats(check_nonnegative(R1, func=fn, name="R1"), base)
        if R1n < rd1[1] - 1e-12:
            raise InfeasibleError(
                f"{fn}: the 'R1' argument must be >= R(Q, D1) = "
                f"{from_nats(rd1[1], base):.10g} (no first layer at distortion D1 has a "
                f"smaller rate); got {R1!r} instead. Raise R1 or D1."
            )
        cap, reading = (R1n, "value") if R1n >= rd1[0] else (rd1[0], "tight")

    upper, lower, Qj, _theta = uncapped(ctx, rd1)
    method = "uncapped: Blahut-Arimoto on the product alphabet"
    i1 = joint_info(pon, Qj)[0]
    cap_active = not i1 <= cap + 1e-12 * max(1.0, cap)
    if cap_active:
        cands, lo_c, beta2, duals = capped_candidates(ctx, rd1, cap, reading == "value")
        unique = unique_first_layer(ctx, rd1)
        upper, Qj, method = min(cands, key=lambda c: c[0])
        if reading == "tight" and unique:
            # eq. (15) at R1 = R(Q, D1) is R(Q, D1) + the conditional problem at the
            # (unique, checked) optimal first layer
            lower = max(lower, rd1[1] + lo_c)
            method += " (first layer unique: checked)"
        elif upper - lower > tol_n / 2:
            s1 = rd1[4]  # slope multiplier of R(Q, D1) (nats per unit distortion)
            beta1_0 = float(s1) if s1 and math.isfinite(s1) else 1.0
            starts = [(mu, (1 + mu) * beta1_0, max(beta2, 1e-6)) for mu in (1.0, 10.0, 1e2)]
            if duals is not None:
                starts.insert(0, duals)
            lb, _mult = best_dual_bound(ctx, cap, Qj, starts)
            lower = max(lower, lb)
            if reading == "tight":
                method += " (first layer not unique: weak-duality lower bound)"
    upper_b = from_nats(upper, base)
    lower_b = from_nats(max(min(lower, upper), 0.0), base)
    e1, e2 = joint_distortions(pon, Qj, d1o, d2o)
    full = np.zeros((pv.size, d1v.shape[1], d2v.shape[1]))
    full[on] = Qj
    off = np.flatnonzero(~on)
    full[off, d1v[off].argmin(axis=1), d2v[off].argmin(axis=1)] = 1.0
    converged = upper_b - lower_b <= tol
    if not converged:
        warnings.warn(
            f"{fn}: certified gap {upper_b - lower_b:.3g} > tol={tol:g} (D1={D1:g}, "
            f"D2={D2:g}, R1={R1!r}); the bounds are valid.",
            ConvergenceWarning,
            stacklevel=2,
        )
    return SuccessiveRefinementResult(
        sum_rate=float(upper_b),
        lower=float(lower_b),
        upper=float(upper_b),
        rate1=float(from_nats(joint_info(pon, Qj)[0], base)),
        R1=float(from_nats(cap, base)),
        R1_reading=reading,
        D1=D1,
        D2=D2,
        distortion1=e1,
        distortion2=e2,
        test_channel=full,
        rate_D1=float(from_nats(rd1[0], base)),
        cap_active=bool(cap_active),
        method=method,
        converged=bool(converged),
        n_iter=ctx.n_iter,
        base=base,
        status=Status.OPTIMAL if converged else Status.ITERATION_LIMIT,
    )


def is_successively_refinable(
    p: ArrayLike,
    d1: ArrayLike | str,
    d2: ArrayLike | str,
    D1: float,
    D2: float,
    *,
    tol: float = 1e-8,
) -> bool:
    r"""Whether :math:`R(Q, R(Q, D_1), D_1, D_2) = R(Q, D_2)` at this source (Remark 5).

    Both sides are computed with certified bounds; returns ``True`` when they agree to
    ``tol`` bits, ``False`` when they differ by more, and raises
    :class:`~leakage.SolverError` if the certified gaps are too wide to tell. (The
    paper's definition asks this for every source distribution; this checks one.)
    """
    fn = "is_successively_refinable"
    tol = check_positive(tol, func=fn, name="tol")
    inner = min(1e-10, tol / 10)
    sr = successive_refinement_rate(p, d1, d2, D1, D2, R1="tight", tol=inner)
    r2 = rate_distortion(p, d2, D2, tol=inner)
    if sr.upper - r2.lower <= tol:
        return True
    if sr.lower - r2.upper > tol:
        return False
    raise SolverError(
        f"{fn}: the certified bounds [{sr.lower:.12g}, {sr.upper:.12g}] and "
        f"[{r2.lower:.12g}, {r2.upper:.12g}] are too wide to decide at tol={tol:g}; "
        "raise tol."
    )


# re-exported for the tests and the cipher package
_mutual_information_nats = mutual_information_nats
