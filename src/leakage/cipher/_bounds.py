r"""First-order-tight bounds of :math:`R(Q, D)` over a cell of source types (nats).

With zero-distortion letters in every row (paper 000's assumption), Lagrange duality and
the Gibbs variational principle give, for any output distribution ``q``,

.. math::

    R(Q', D) = \max_{\beta \ge 0} [F(Q', \beta) - \beta D] \le U_q(Q') :=
    \max_{\beta\ge0} \Big[-\sum_x Q'(x) \log \sum_{\hat x} q(\hat x) e^{-\beta d(x,\hat x)}
    - \beta D\Big] = \min_{W:\ E_{Q'} d(W) \le D} \sum_x Q'(x) D(W_x \| q),

where :math:`F(Q',\beta) = \min_q -\sum_x Q'(x)\log(K_\beta q)(x)`. :math:`U_q` is a max of
functions linear in :math:`Q'`, hence **convex**: its maximum over a cell is at a vertex,
and any feasible Gibbs channel at a vertex bounds it there. Likewise
:math:`R(Q', D) \ge F(Q', \beta) - \beta D` for any :math:`\beta`, and :math:`F(\cdot,
\beta)` is **concave**: its minimum over a cell is at a vertex, where Blahut's bound
certifies it. With ``q`` and :math:`\beta` those of a point :math:`Q_e` of the cell, both
bounds touch :math:`R` at :math:`Q_e` with its gradient, so they are tight to second order
in the cell size. The same holds for several distortion constraints (a vector
:math:`\beta`, used for the uncapped sum rate on the product alphabet).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import xlogy

from ..ratedistortion._blahut import solve_slope


def _lse_rows(a: np.ndarray) -> np.ndarray:
    """log sum exp over the last axis (finite entries; plain NumPy, no array-API layer)."""
    m = a.max(axis=-1, keepdims=True)
    return (m + np.log(np.exp(a - m).sum(axis=-1, keepdims=True)))[..., 0]


def _gibbs(logq: np.ndarray, ds: np.ndarray, beta: np.ndarray):
    """The Gibbs channel W ∝ q e^{-beta·d} (rows x) and log of its normalizers."""
    logits = logq[None, :] - np.tensordot(beta, ds, axes=1)  # (nx, nh)
    lz = _lse_rows(logits)
    return np.exp(logits - lz[:, None]), lz


def gibbs_upper(
    v: np.ndarray, q: np.ndarray, ds: np.ndarray, Ds: np.ndarray, beta0: np.ndarray
) -> float:
    r"""A certified upper bound of :math:`U_q(v)` (see the module docstring): the value
    :math:`\sum_x v(x) D(W_x\|q)` of a Gibbs channel :math:`W \propto q e^{-\beta\cdot d}`
    checked to meet every constraint :math:`E_v d_i(W) \le D_i`; ``inf`` if none is found.

    ``ds``: (m, nx, nh) distortion matrices, ``Ds``: (m,) levels, ``beta0``: start.
    """
    on = q > 0
    rows = v > 0
    if not rows.any():
        return 0.0
    v = v[rows]
    ds = ds[:, rows][:, :, on]
    qs = q[on] / q[on].sum()
    logq = np.log(qs)
    m = ds.shape[0]
    beta = np.maximum(np.asarray(beta0, dtype=np.float64), 0.0)
    if not np.all(np.isfinite(beta)):
        beta = np.ones(m)

    def stats(b: np.ndarray):
        W, lz = _gibbs(logq, ds, b)
        Ed = np.einsum("x,ixh,xh->i", v, ds, W)
        g = -float(v @ lz) - float(b @ Ds)
        return W, Ed, g

    W, Ed, g = stats(beta)
    for _ in range(60):
        grad = Ed - Ds
        free = (beta > 0) | (grad > 0)
        if not free.any() or float(np.abs(grad[free]).max()) < 1e-15:
            break
        mean = np.einsum("ixh,xh->xi", ds, W)
        cen = ds - mean.T[:, :, None]
        H = -np.einsum("x,ixh,jxh,xh->ij", v, cen, cen, W)
        step = np.zeros(m)
        Hf = H[np.ix_(free, free)]
        try:
            step[free] = -np.linalg.solve(Hf - 1e-14 * np.eye(int(free.sum())), grad[free])
        except np.linalg.LinAlgError:
            step[free] = grad[free]
        if not np.all(np.isfinite(step)):
            break
        t = 1.0
        accepted = False
        for _ in range(40):
            nb = np.maximum(beta + t * step, 0.0)
            nW, nEd, ng = stats(nb)
            if ng >= g - 1e-15 * max(1.0, abs(g)):
                beta, W, Ed, g = nb, nW, nEd, ng
                accepted = True
                break
            t *= 0.5
        if not accepted:
            break
    # a feasible channel: nudge the violated multipliers up until every constraint holds
    viol = Ed > Ds
    if viol.any():
        ok = False
        for eps in (1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1e-1, 1.0, 10.0, 100.0):
            nb = beta + eps * (np.abs(beta) + 1.0) * viol
            nW, nEd, _ = stats(nb)
            if np.all(nEd <= Ds):
                W, ok = nW, True
                break
        if not ok:
            return math.inf
    return float(v @ (xlogy(W, W) - W * logq[None, :]).sum(axis=1))


def slope_lower(v: np.ndarray, d: np.ndarray, D: float, beta: float, q0: np.ndarray) -> float:
    r"""A certified lower bound of :math:`R(v, D)` from the slope ``beta``: Blahut's bound
    :math:`-\beta D - \sum_x v(x)\log z(x) - \log\max c` at the best output distribution
    found at that slope (``d`` has a zero in every row)."""
    if not math.isfinite(beta) or beta <= 0:
        return 0.0
    q = np.maximum(np.asarray(q0, dtype=np.float64), 1e-12)
    q = q / q.sum()
    s, _ = solve_slope(float(beta), q, d, v, d, 1e-13, 2000)
    return float(s.lower(D, 0.0))
