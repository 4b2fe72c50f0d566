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
from ..errors import ConvergenceWarning
from ..results import CapacityResult, Status
from ..units import from_nats, to_nats

__all__ = ["channel_capacity"]

_TINY = 1e-300


class _Bounds:
    """Divergences D(W_x || pW) for all x, and the two bounds, in nats."""

    __slots__ = ("D", "lower", "q", "upper")

    def __init__(self, p: np.ndarray, W: np.ndarray, neg_h: np.ndarray):
        q = p @ W
        self.q = q
        # D(W_x || q) = sum_y W log W - sum_y W log q; W_xy = 0 terms vanish.
        self.D = neg_h - W @ np.log(np.maximum(q, _TINY))
        self.lower = max(float(p @ self.D), 0.0)
        self.upper = float(self.D.max())


def _newton_polish(p: np.ndarray, W: np.ndarray, neg_h: np.ndarray, tol: float, max_steps: int):
    """Newton's method for max_p I(p, W) restricted to the current support.

    Solves the KKT system D(W_x || pW) = const on the support with a backtracking line
    search; inputs that the step would drive negative leave the support, and an input
    outside the support whose divergence exceeds the upper bound joins it. Returns the
    improved p and the number of steps (the caller certifies the result).
    """
    steps = 0
    p = p.copy()
    for _ in range(max_steps):
        b = _Bounds(p, W, neg_h)
        if b.upper - b.lower <= tol:
            break
        S = p > 0
        # bring in the most violating input outside the support, if any
        outside = ~S
        if outside.any():
            j = int(np.argmax(np.where(outside, b.D, -np.inf)))
            if b.D[j] > b.lower + tol and b.D[j] >= b.D[S].max():
                p = 0.999 * p
                p[j] = 0.001
                steps += 1
                continue
        idx = np.flatnonzero(S)
        Ws = W[idx]
        inv_q = 1.0 / np.maximum(b.q, _TINY)
        H = -(Ws * inv_q) @ Ws.T  # Hessian of I(p) on the support (nats)
        g = b.D[idx] - 1.0  # gradient
        k = idx.size
        K = np.zeros((k + 1, k + 1))
        K[:k, :k] = H
        K[:k, k] = 1.0
        K[k, :k] = 1.0
        rhs = np.concatenate([-g, [0.0]])
        try:
            sol = np.linalg.solve(K, rhs)
        except np.linalg.LinAlgError:
            sol = np.linalg.lstsq(K, rhs, rcond=None)[0]
        dp = sol[:k]
        if not np.all(np.isfinite(dp)):
            break
        ps = p[idx]
        neg = dp < 0
        t_max = float(np.min(-ps[neg] / dp[neg])) if neg.any() else math.inf
        steps += 1
        if t_max <= 1.0:
            # the full step leaves the simplex: the input hitting zero first leaves the support
            i0 = int(np.argmin(np.where(neg, -ps / np.where(neg, dp, -1.0), np.inf)))
            new = ps + t_max * dp
            new[i0] = 0.0
            new = np.maximum(new, 0.0)
            p_new = np.zeros_like(p)
            p_new[idx] = new / new.sum()
            if _Bounds(p_new, W, neg_h).lower >= b.lower - 1e-15:
                p = p_new
                continue
            t = 0.5 * t_max
        else:
            t = 1.0
        # backtracking on the concave objective I(p)
        improved = False
        while t > 1e-10:
            new = ps + t * dp
            if new.min() > 0:
                p_new = np.zeros_like(p)
                p_new[idx] = new / new.sum()
                if _Bounds(p_new, W, neg_h).lower >= b.lower - 1e-15:
                    p = p_new
                    improved = True
                    break
            t *= 0.5
        if not improved:
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
        Required certified gap ``upper - lower``, in units of ``log_base``.
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
    # Newton needs a rough picture of the support first; then alternate.
    polish_at = 1e-3
    while b.upper - b.lower > tol_n and n_iter < max_iter:
        if b.upper - b.lower < polish_at:
            p_new, steps = _newton_polish(p, W, neg_h, tol_n, max_steps=50)
            n_iter += steps
            b_new = _Bounds(p_new, W, neg_h)
            if b_new.upper - b_new.lower < b.upper - b.lower:
                p, b = p_new, b_new
            if b.upper - b.lower <= tol_n:
                break
            polish_at = 0.1 * (b.upper - b.lower)
        # one Blahut–Arimoto step, in a numerically safe form
        w = p * np.exp(b.D - b.upper)
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
