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


class CappedGibbs:
    r"""The Gibbs channels of the capped sum rate for fixed output distributions.

    For output distributions :math:`r_1(\hat x_1)`, :math:`r_2(\hat x_2|\hat x_1)` and
    multipliers :math:`\theta = (\mu, \beta_1, \beta_2) \ge 0`, let
    :math:`Z_2(x,a) = \sum_b r_2(b|a) e^{-\beta_2 d_2(x,b)}`,
    :math:`G = (\log Z_2 - \beta_1 d_1)/(1+\mu)`, :math:`A(x) = \sum_a r_1(a) e^{G(x,a)}`,
    :math:`W_1(a|x) = r_1(a) e^{G}/A` and :math:`W_2(b|x,a) = r_2(b|a)e^{-\beta_2 d_2}/Z_2`.
    :math:`W = W_1 W_2` minimizes the Lagrangian
    :math:`\sum_x Q(x)[D(W_x\|r_1r_2) + \mu D(W_{1,x}\|r_1) + \beta\cdot E d]` for every
    ``Q`` (the channel does not depend on ``Q``), with value
    :math:`-(1+\mu)\sum_x Q(x)\log A(x)`. Hence

    .. math::

        U_r(Q') = \min_{W:\ E_{Q'}d_i(W) \le D_i,\ \sum_x Q'(x) D(W_{1,x}\|r_1) \le R_1}
        \sum_x Q'(x) D(W_x\|r_1 r_2)
        = \max_{\theta\ge0} -(1+\mu)\sum_x Q'(x)\log A(x) - \mu R_1 - \beta\cdot D

    majorizes the capped sum rate :math:`R(Q', R_1, D_1, D_2)` (a channel feasible for
    :math:`U_r` meets :math:`I(X;\hat X_1) \le \sum_x Q' D(W_{1,x}\|r_1) \le R_1`, and
    :math:`I(X;\hat X_1\hat X_2) \le \sum_x Q' D(W_x\|r_1r_2)`), and it is **convex** in
    :math:`Q'` (in the joint :math:`J = Q'W` objective and cap are perspectives, jointly
    convex in :math:`(J, Q')`; the rest is linear), so its maximum over a cell is at a
    vertex. At a vertex, any feasible Gibbs channel evaluated exactly bounds it.
    """

    def __init__(self, r1, r2, d1, d2, D1: float, D2: float, R1: float):
        on1 = r1 > 0
        self.on1 = on1
        self.lr1 = np.log(r1[on1] / r1[on1].sum())
        with np.errstate(divide="ignore"):
            self.lr2 = np.log(r2[on1])  # (k1, n2), -inf where r2 = 0
        self.d1 = d1[:, on1]
        self.d2 = d2
        self.D = np.array([R1, D1, D2])
        self._last = None  # the last _eval: (rows, theta bytes, result, intermediates)

    def _eval(self, rows, theta):
        """Channel and per-row terms of multipliers ``theta`` on the rows ``rows`` of the
        source: (log A, (3, nx) constraint terms, objective terms, W1, W2). The last call's
        result is kept, and returned again for the same ``rows`` object and ``theta``."""
        key = np.asarray(theta, dtype=np.float64).tobytes()
        last = self._last
        if last is not None and last[0] is rows and last[1] == key:
            return last[2]
        mu, b1, b2 = theta
        d1, d2 = self.d1[rows], self.d2[rows]
        E2 = self.lr2[None, :, :] - b2 * d2[:, None, :]  # (nx, k1, n2)
        m2 = E2.max(axis=2, keepdims=True)
        w2 = np.exp(E2 - m2)
        z2 = w2.sum(axis=2, keepdims=True)
        W2 = w2 / z2
        logZ2 = (m2 + np.log(z2))[..., 0]
        G = (logZ2 - b1 * d1) / (1.0 + mu)
        L1 = self.lr1[None, :] + G
        logA = _lse_rows(L1)
        W1 = np.exp(L1 - logA[:, None])
        ed2 = (W2 * d2[:, None, :]).sum(axis=2)  # E[d2 | x, a]
        kl1 = (W1 * G).sum(axis=1) - logA  # D(W1_x || r1)
        kl2 = (W1 * (-b2 * ed2 - logZ2)).sum(axis=1)  # E_W1 D(W2_{x,a} || r2_a)
        cons = np.stack([kl1, (W1 * d1).sum(axis=1), (W1 * ed2).sum(axis=1)])  # (3, nx)
        out = (logA, cons, kl1 + kl2, W1, W2)
        self._last = (rows, key, out, (np.array(theta, dtype=float), G, d1, d2, ed2))
        return out

    def _hessian(self, rows, theta, vv: np.ndarray) -> np.ndarray:
        r"""The Hessian in :math:`\theta` of the dual :math:`\sum_x v(x)\varphi_x(\theta) -
        \theta\cdot D`, :math:`\varphi_x = -s\log A(x)`, :math:`s = 1 + \mu`, at the
        multipliers ``theta`` (``vv = v[rows]``; the last :meth:`_eval` is reused when it
        was at ``rows``, ``theta``).

        With :math:`G_\mu = -G/s`, :math:`G_{\beta_1} = -d_1/s`, :math:`G_{\beta_2} =
        -E[d_2|x,a]/s` and the only non-zero second derivatives :math:`G_{\mu\mu} = 2G/s^2`,
        :math:`G_{\mu\beta_1} = d_1/s^2`, :math:`G_{\mu\beta_2} = E[d_2|x,a]/s^2`,
        :math:`G_{\beta_2\beta_2} = \mathrm{Var}[d_2|x,a]/s`, the Hessian of :math:`\log A`
        is :math:`E_{W_1}[G_{ij}] + \mathrm{Cov}_{W_1}(G_i, G_j)`; then
        :math:`\varphi_{ij} = -s(\log A)_{ij}` plus :math:`-(\log A)_j` in each
        :math:`\mu` row/column (twice on the diagonal). Used only to steer Newton steps:
        nothing of it enters a bound."""
        W1, W2 = self._eval(rows, theta)[3:]  # the last call's, when at theta
        theta, G, d1, d2, ed2 = self._last[3]
        s = 1.0 + theta[0]
        var2 = (W2 * (d2[:, None, :] - ed2[..., None]) ** 2).sum(axis=2)
        Gd = np.stack([G, d1, ed2]) * (-1.0 / s)  # (3, nx, k1): first derivatives of G
        mean = (W1 * Gd).sum(axis=2)  # (3, nx): gradient of log A
        cen = Gd - mean[..., None]
        M = np.einsum("x,xa,ixa,jxa->ij", vv, W1, cen, cen)
        Ew = np.einsum("x,xa,ixa->i", vv, W1, np.stack([G, d1, ed2, var2]))
        M[0, 0] += 2.0 * Ew[0] / s**2
        M[0, 1] += Ew[1] / s**2
        M[1, 0] += Ew[1] / s**2
        M[0, 2] += Ew[2] / s**2
        M[2, 0] += Ew[2] / s**2
        M[2, 2] += Ew[3] / s
        H = -s * M
        g = mean @ vv  # the v-weighted gradient of log A
        H[0, :] -= g
        H[:, 0] -= g
        return H

    def upper(self, v: np.ndarray, theta0) -> tuple[float, np.ndarray]:
        r"""A certified upper bound of :math:`U_r(v)` (``inf`` if no feasible Gibbs
        channel is found) and the multipliers used: the concave dual is maximized over
        :math:`\theta \ge 0` (projected Newton), violated multipliers are then raised until the
        channel is feasible, and :math:`\sum_x v(x) D(W_x\|r_1r_2)` is evaluated exactly."""
        rows = v > 0
        vv = v[rows]
        D = self.D

        def dual(th):
            logA, cons, _, _, _ = self._eval(rows, th)
            return -(1.0 + th[0]) * float(vv @ logA) - float(th @ D), cons @ vv - D

        theta = np.maximum(np.nan_to_num(np.asarray(theta0, dtype=float), nan=1.0), 0.0)
        g, grad = dual(theta)
        for _ in range(60):  # projected Newton ascent (analytic Hessian, _hessian)
            free = (theta > 0) | (grad > 0)
            if not free.any() or float(np.abs(grad[free]).max()) < 1e-14:
                break
            if float(theta.max()) > 1e8:  # a diverging multiplier: infeasible at v
                return math.inf, theta
            H = self._hessian(rows, theta, vv)
            Hf = H[np.ix_(free, free)]
            lam = max(0.0, float(np.linalg.eigvalsh(Hf).max()) + 1e-12)
            step = np.zeros(3)
            try:
                step[free] = -np.linalg.solve(Hf - lam * np.eye(int(free.sum())), grad[free])
            except np.linalg.LinAlgError:
                step[free] = grad[free]
            if not np.all(np.isfinite(step)):
                break
            t, accepted = 1.0, False
            for _ in range(30):
                nt = np.maximum(theta + t * step, 0.0)
                ng, ngrad = dual(nt)
                if ng >= g - 1e-15 * max(1.0, abs(g)):
                    accepted = ng > g or np.array_equal(nt, theta)
                    theta, g, grad = nt, ng, ngrad
                    break
                t *= 0.5
            if not accepted:
                break
        _, cons, obj, _, _ = self._eval(rows, theta)
        viol = cons @ vv > D
        # at the dual optimum the active constraints hold only to rounding: Newton steps
        # on them aim a little inside (cons = D - margin) to make the channel feasible
        margin = 1e-10 * (1.0 + np.abs(D))
        for _ in range(20):
            if not viol.any():
                break
            act = (theta > 0) | viol
            F = cons @ vv - D + margin
            H = self._hessian(rows, theta, vv)
            step = np.zeros(3)
            try:
                step[act] = -np.linalg.solve(H[np.ix_(act, act)], F[act])
            except np.linalg.LinAlgError:
                break
            if not np.all(np.isfinite(step)):
                break
            theta = np.maximum(theta + step, 0.0)
            if float(theta.max()) > 1e8:  # diverging (as in the ascent): infeasible at v
                return math.inf, theta
            _, cons, obj, _, _ = self._eval(rows, theta)
            viol = cons @ vv > D
        if viol.any():
            for eps in (1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0):
                nt = theta + eps * (theta + 1.0) * viol
                _, cons_n, obj_n, _, _ = self._eval(rows, nt)
                bad = cons_n @ vv > D
                if not bad.any():
                    theta, cons, obj, viol = nt, cons_n, obj_n, bad
                    break
                viol = viol | bad
            if viol.any():
                return math.inf, theta
        return float(vv @ obj), theta
