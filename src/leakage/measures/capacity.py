r"""Certified capacity of a discrete memoryless channel.

For any input distribution :math:`p` with output :math:`q = pW`,

.. math::

    I(p, W) \;\le\; C \;\le\; \max_x D(W_x \| q)

(the lower bound is the definition of :math:`C`; the upper bound is Gallager's/Csiszár's
dual, Cover & Thomas, Problem 7.28/Theorem 13.1.1 of Csiszár–Körner). The solver moves
:math:`p` by Blahut–Arimoto iterations (Blahut 1972, Arimoto 1972) and, once the support
of the optimum shows, by Newton steps on the KKT system
:math:`D(W_x\|q) = C` on the support, and stops only when the *certified* gap
``upper - lower`` is at most ``tol``. Both bounds are evaluated at the returned ``p``,
so the certificate does not depend on how ``p`` was found.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import xlogy

from .._validation import as_channel, check_base, check_positive
from ..errors import ConvergenceWarning, InvalidParameterError
from ..results import CapacityResult, Status
from ..units import from_nats, to_nats

__all__ = ["channel_capacity"]

_TINY = 1e-300
_MIN_TOL = 1e-14


class _Bounds:
    """Divergences D(W_x || pW) for all x, and the two bounds, in nats."""

    __slots__ = ("D", "lower", "q", "upper")

    def better_than(self, other: _Bounds) -> bool:
        """Progress: a larger I(p), or (once I(p) is flat to rounding, near the optimum,
        where D(W_x||q) still moves to first order) a smaller gap at no loss of I(p)."""
        if self.lower > other.lower:
            return True
        flat = self.lower >= other.lower - 8e-16 * max(abs(other.lower), 1.0)
        return flat and self.upper - self.lower < other.upper - other.lower

    def __init__(self, p: np.ndarray, W: np.ndarray, neg_h: np.ndarray):
        q = p @ W
        self.q = q
        # D(W_x || q) = sum_y W log W - sum_y W log q; W_xy = 0 terms vanish.
        D = neg_h - W @ np.log(np.maximum(q, _TINY))
        if not q.min() > 0:
            # An output that p never produces: D(W_x || q) = +inf for every input that can
            # produce it (it is outside the support of p), so the upper bound is +inf.
            D[(W[:, q <= 0] > 0).any(axis=1)] = np.inf
        self.D = D
        self.lower = max(float(p @ np.where(p > 0, D, 0.0)), 0.0)
        self.upper = float(D.max())


def _mix_in(p: np.ndarray, j: int, W: np.ndarray, neg_h: np.ndarray) -> np.ndarray:
    """Maximize I(p_s) over p_s = (1 - s) p + s e_j, s in (0, 1).

    I(p_s) is concave in s with derivative D(W_j || q_s) - sum_x p(x) D(W_x || q_s),
    which is positive at s = 0 when input j beats the current support (it may be +inf,
    when j reaches an output p never produces). The root of the derivative is found by
    bisection on log s (weights down to 1e-18), then on s.
    """

    def slope(s: float) -> float:
        ps = (1.0 - s) * p
        ps[j] += s
        b = _Bounds(ps, W, neg_h)
        return float(b.D[j] - p @ np.where(p > 0, b.D, 0.0))

    lo, hi = -18.0 * math.log(10), math.log(0.999)  # bracket in log s
    if slope(math.exp(hi)) >= 0:
        s_best = math.exp(hi)
    elif slope(math.exp(lo)) <= 0:
        s_best = math.exp(lo)
    else:
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if slope(math.exp(mid)) > 0:
                lo = mid
            else:
                hi = mid
        s_best = math.exp(0.5 * (lo + hi))
    out = (1.0 - s_best) * p
    out[j] += s_best
    return out


def _newton_polish(p: np.ndarray, W: np.ndarray, neg_h: np.ndarray, tol: float, max_steps: int):
    """Active-set (regularized) Newton ascent on I(p, W) over the probability simplex.

    On the support S of p, solves the KKT system of max I(p) s.t. sum(p) = 1 with the
    Hessian -W_S diag(1/q) W_S^T shifted by -mu*I (mu = 0 first; raised tenfold whenever a
    step fails to increase I, so the step tends to a projected-gradient step). A step that
    would leave the simplex stops at its boundary and the input reaching zero leaves S;
    an input outside S whose divergence D(W_x || q) exceeds I(p) is mixed in by a line
    search. Near-duplicate rows (a nearly singular Hessian) are handled by the
    regularization plus the boundary steps. Every accepted step increases I(p), and the
    caller certifies the result, so this routine only has to make progress.
    """
    steps = 0
    p = p.copy()
    p[p < 1e-12 * p.max()] = 0.0
    p /= p.sum()
    b = _Bounds(p, W, neg_h)
    mus = (0.0, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1.0, 1e2, 1e4)
    while steps < max_steps and b.upper - b.lower > tol:
        steps += 1
        S = p > 0
        D_in = b.D[S].max()
        if b.upper > D_in and b.upper > b.lower + tol:
            # An input outside the support beats it: mix it in at the best weight.
            j = int(np.argmax(b.D))
            cand = _mix_in(p, j, W, neg_h)
            cb = _Bounds(cand, W, neg_h)
            if cb.lower >= b.lower - 8e-16 * max(abs(b.lower), 1.0):
                p, b = cand, cb
                continue
        idx = np.flatnonzero(S)
        k = idx.size
        Ws = W[idx]
        H = -(Ws / np.maximum(b.q, _TINY)) @ Ws.T  # Hessian of I on the support (nats)
        g = b.D[idx] - 1.0  # gradient of I on the support
        scale = max(float(-np.diag(H).min()), 1e-300)
        K = np.zeros((k + 1, k + 1))
        K[:k, k] = 1.0
        K[k, :k] = 1.0
        rhs = np.concatenate([-g, [0.0]])
        ps = p[idx]
        accepted = False
        for mu in mus:
            K[:k, :k] = H - (mu * scale) * np.eye(k)
            try:
                dp = np.linalg.solve(K, rhs)[:k]
            except np.linalg.LinAlgError:
                continue
            if not np.all(np.isfinite(dp)) or not np.any(dp):
                continue
            neg = dp < 0
            ratios = np.where(neg, ps / np.where(neg, -dp, 1.0), np.inf)
            i0 = int(np.argmin(ratios))
            t = min(1.0, float(ratios[i0]))
            new = np.maximum(ps + t * dp, 0.0)
            if t < 1.0:
                new[i0] = 0.0  # the blocking input leaves the support
            total = new.sum()
            if not total > 0:
                continue
            cand = np.zeros_like(p)
            cand[idx] = new / total
            cb = _Bounds(cand, W, neg_h)
            if cb.better_than(b) or (t < 1.0 and cb.lower >= b.lower):
                p, b = cand, cb
                accepted = True
                break
        if not accepted:
            break
    return p, steps


def channel_capacity(
    channel: ArrayLike,
    *,
    base: float = 2,
    tol: float = 1e-12,
    max_iter: int = 100_000,
) -> CapacityResult:
    r"""Capacity :math:`C = \max_p I(p, W)` of a discrete memoryless channel, certified.

    Blahut–Arimoto iterations :math:`p_x \leftarrow p_x \exp D(W_x\|pW) / Z`
    (Blahut 1972, Theorem 1; Arimoto 1972) followed by Newton steps on the support of
    the optimum. Stops when the certified gap

    .. math:: \max_x D(W_x \| pW) - I(p, W) \;\le\; \mathrm{tol}

    holds at the current :math:`p`, and returns both bounds.

    Parameters
    ----------
    channel : (n_x, n_y) array-like
        Row-stochastic channel ``channel[x, y] = P(y|x)`` (axis 0 = input).
    base : float, default 2
        Logarithm base of the result (2: bits).
    tol : float, default 1e-12
        Required certified gap ``upper - lower``, in units of ``log_base``; at least
        ``1e-14`` (smaller gaps are below double-precision resolution).
    max_iter : int, default 100000
        Iteration cap. If it is reached the result has ``converged=False`` (its bounds
        remain valid) and a :class:`~leakage.ConvergenceWarning` is issued.

    Returns
    -------
    CapacityResult
        ``capacity`` (= ``lower`` = :math:`I(p^*, W)`), ``lower``, ``upper``,
        ``input_distribution`` :math:`p^*`, ``output_distribution``, ``converged``,
        ``n_iter``, ``status``, and the property ``gap``.

    Examples
    --------
    >>> import leakage as lk
    >>> r = lk.channel_capacity([[0.9, 0.1], [0.1, 0.9]])
    >>> round(r.capacity, 10), r.gap <= 1e-12
    (0.5310044064, True)
    """
    fn = "channel_capacity"
    base = check_base(base, func=fn)
    tol = check_positive(tol, func=fn, name="tol")
    if tol < _MIN_TOL:
        raise InvalidParameterError(
            f"{fn}: the 'tol' argument must be >= {_MIN_TOL:g} (a smaller certified gap is "
            f"below double-precision resolution); got {tol!r} instead."
        )
    max_iter = check_positive(max_iter, func=fn, name="max_iter", integer=True)
    W = as_channel(channel, func=fn, name="channel")
    tol_n = to_nats(tol, base)
    # Work on the columns that can ever be output.
    used = W.max(axis=0) > 0
    if not used.all():
        W = W[:, used]
    neg_h = xlogy(W, W).sum(axis=1)
    n_x = W.shape[0]
    p = np.full(n_x, 1.0 / n_x)
    n_iter = 0
    b = _Bounds(p, W, neg_h)
    # Newton needs a rough picture of the support first (gap below 1e-3 nats); from then
    # on, every few Blahut–Arimoto steps are followed by a Newton polish.
    polish_every, since_polish, started = 25, 0, False
    while b.upper - b.lower > tol_n and n_iter < max_iter:
        started = started or b.upper - b.lower < 1e-3
        if started and since_polish == 0:
            p_new, steps = _newton_polish(p, W, neg_h, tol_n, max_steps=100)
            n_iter += steps
            b_new = _Bounds(p_new, W, neg_h)
            if b_new.better_than(b):
                p, b = p_new, b_new
            if b.upper - b.lower <= tol_n:
                break
        since_polish = (since_polish + 1) % polish_every
        # one Blahut–Arimoto step, in a numerically safe form (shifted by the largest
        # divergence on the support, which is finite; inputs with p = 0 stay at 0)
        on = p > 0
        w = np.where(on, p * np.exp(np.minimum(b.D - b.D[on].max(), 0.0)), 0.0)
        p = w / w.sum()
        n_iter += 1
        b = _Bounds(p, W, neg_h)
    converged = b.upper - b.lower <= tol_n
    if not converged:
        warnings.warn(
            f"{fn}: stopped after max_iter={max_iter} iterations with certified gap "
            f"{from_nats(b.upper - b.lower, base):.3g} > tol={tol:g}; the bounds are valid. "
            "Raise max_iter or tol.",
            ConvergenceWarning,
            stacklevel=2,
        )
    q_full = np.zeros(used.size)
    q_full[used] = b.q
    lower = float(from_nats(b.lower, base))
    upper = float(from_nats(b.upper, base))
    return CapacityResult(
        capacity=lower,
        lower=lower,
        upper=max(upper, lower),
        input_distribution=p,
        output_distribution=q_full,
        converged=converged,
        n_iter=n_iter,
        base=base,
        status=Status.OPTIMAL if converged else Status.ITERATION_LIMIT,
    )
