r"""Successive refinement: the minimum sum rate :math:`R(Q, R_1, D_1, D_2)` of eq. (15)
of paper 000, with certified bounds. Every number in this module is in nats.

.. math::

    R(Q, R_1, D_1, D_2) = \min_{Q(\hat x_1, \hat x_2 | x):\ E d_1 \le D_1,\ E d_2 \le D_2,\
                                 I(X;\hat X_1) \le R_1} I(X; \hat X_1 \hat X_2)

a convex program over joint test channels (the constraint :math:`I(X;\hat X_1) \le R_1`
is convex because the marginal channel is linear in the joint one).

How it is solved
----------------
* **No cap** (``R1 = inf``): an ordinary rate–distortion problem on the product alphabet
  with two distortion constraints. By Lagrange duality
  :math:`R(D_1, D_2) = \max_{\theta\in[0,1]} R_\theta(D_\theta)` where
  :math:`R_\theta` is the rate–distortion function of the single distortion
  :math:`d_\theta = (1-\theta) d_1 + \theta d_2` at
  :math:`D_\theta = (1-\theta)D_1 + \theta D_2`; every certified lower bound of every
  :math:`R_\theta` is a lower bound on :math:`R(D_1, D_2)`. The optimal
  :math:`\theta` is where the optimal channel of :math:`R_\theta` meets both
  constraints, found by a root-finder on :math:`E d_2 - E d_1`; the channel returned
  is repaired to meet both constraints exactly (mixing with the minimum-distortion
  channel), and its exact mutual information is the upper bound.
* **Binding cap at** :math:`R_1 = R(Q, D_1)` (``"tight"``): the first layer must be an
  optimal :math:`D_1` test channel; given it, what remains is a *conditional*
  rate–distortion problem :math:`\min I(X;\hat X_2|\hat X_1)` s.t. :math:`E d_2 \le D_2`,
  one Blahut–Arimoto problem per first-layer letter sharing one slope.
* **Binding cap above** :math:`R(Q, D_1)`: the exponential-cone program is solved with
  cvxpy (Clarabel); its channel is checked and repaired to be exactly feasible.

The lower bound for a binding cap is the following weak-duality bound (derived for this
library; it reduces to Blahut's bound when :math:`\mu = 0`). For multipliers
:math:`\mu, \beta_1, \beta_2 \ge 0`, any :math:`r_1(\hat x_1)` and
:math:`r_2(\hat x_2|\hat x_1)`, with
:math:`Z_2(x,\hat x_1) = \sum_{\hat x_2} r_2(\hat x_2|\hat x_1) e^{-\beta_2 d_2(x,\hat x_2)}`,
:math:`G = \log Z_2 - \beta_1 d_1`, :math:`A(x) = \sum_{\hat x_1} r_1 e^{G/(1+\mu)}`,

.. math::

    R(Q,R_1,D_1,D_2) \ge -(1+\mu)\sum_x Q(x)\log A(x) - \mu \log\max_{\hat x_1} c_1
    - \log\max_{\hat x_1,\hat x_2} c_{12} - \mu R_1 - \beta_1 D_1 - \beta_2 D_2,

:math:`c_1(\hat x_1) = \sum_x Q(x) e^{G/(1+\mu)}/A`,
:math:`c_{12}(\hat x_1,\hat x_2) = \sum_x Q(x) e^{G/(1+\mu)} e^{-\beta_2 d_2}/(A Z_2)`.
It follows from :math:`L(W) = F(W, r) - \mu D(q_1\|r_1) - D(q_{12}\|r_1 r_2)` for the
Lagrangian :math:`L` and the data-processing inequality on the output marginals; it is
tight at the optimum (with :math:`r` its output marginals and the KKT multipliers).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.optimize import brentq, minimize
from scipy.special import logsumexp

from ..errors import InfeasibleError
from ._blahut import Problem, mutual_information_nats, solve_rd, solve_slope

_FEAS = 1e-12  # relative slack allowed on a constraint (floating-point rounding)


def joint_info(p: np.ndarray, Qj: np.ndarray) -> tuple[float, float]:
    """``(I(X; X̂1), I(X; X̂1 X̂2))`` in nats of a joint channel ``Qj[x, a, b]``."""
    return (
        mutual_information_nats(p, Qj.sum(axis=2)),
        mutual_information_nats(p, Qj.reshape(Qj.shape[0], -1)),
    )


def joint_distortions(p: np.ndarray, Qj: np.ndarray, d1: np.ndarray, d2: np.ndarray):
    """Expected distortions ``(E d1, E d2)`` of a joint channel."""
    return (
        float(p @ (Qj.sum(axis=2) * d1).sum(axis=1)),
        float(p @ (Qj.sum(axis=1) * d2).sum(axis=1)),
    )


def _le(value: float, bound: float) -> bool:
    return value <= bound + _FEAS * max(1.0, abs(bound))


class _Ctx:
    """A validated full-support source and its two distortion matrices."""

    def __init__(self, p, d1, d2, D1, D2, tol, max_iter, func):
        self.p, self.d1, self.d2 = p, d1, d2
        self.D1, self.D2 = D1, D2
        self.n1, self.n2 = d1.shape[1], d2.shape[1]
        self.tol, self.max_iter, self.func = tol, max_iter, func
        self.Dmin1 = float(p @ d1.min(axis=1))
        self.Dmin2 = float(p @ d2.min(axis=1))
        self.n_iter = 0
        self.lower_uncapped = -math.inf  # lower bound of the relaxation R(Q, inf, D1, D2)
        self.warm: dict[str, tuple] = {}  # warm starts (slope, output pmf) per matrix tag
        # the channel of least distortion in both layers
        nx = p.size
        self.Q_min = np.zeros((nx, self.n1, self.n2))
        self.Q_min[np.arange(nx), d1.argmin(axis=1), d2.argmin(axis=1)] = 1.0

    def rd(self, d: np.ndarray, D: float, warm=None, tag: str | None = None):
        if warm is None and tag is not None:
            warm = self.warm.get(tag)
        out = solve_rd(Problem(self.p, d), D, self.tol / 8, self.max_iter, self.func, warm)
        self.n_iter += out[6]
        if tag is not None and out[4] and math.isfinite(out[4]):
            self.warm[tag] = (out[4], out[5])
        return out

    def repair(self, Qj: np.ndarray) -> np.ndarray | None:
        """Mix with the least-distortion channel until both distortions are met."""
        e1, e2 = joint_distortions(self.p, Qj, self.d1, self.d2)
        lam = 0.0
        for e, D, Dmin in ((e1, self.D1, self.Dmin1), (e2, self.D2, self.Dmin2)):
            if e > D:
                if e - Dmin <= 0:
                    return None
                lam = max(lam, (e - D) / (e - Dmin))
        if lam == 0.0:
            return Qj
        if lam > 1.0:
            return None
        return (1.0 - lam) * Qj + lam * self.Q_min

    def feasible(self, Qj: np.ndarray, cap: float) -> bool:
        e1, e2 = joint_distortions(self.p, Qj, self.d1, self.d2)
        i1 = mutual_information_nats(self.p, Qj.sum(axis=2))
        return _le(e1, self.D1) and _le(e2, self.D2) and _le(i1, cap)


def _lift_first(ctx: _Ctx, Q1: np.ndarray) -> np.ndarray:
    """Joint channel with X̂2 the best function of X̂1 (no extra rate)."""
    J1 = ctx.p[:, None] * Q1
    f = np.argmin(J1.T @ ctx.d2, axis=1)  # (n1,)
    Qj = np.zeros((ctx.p.size, ctx.n1, ctx.n2))
    Qj[:, np.arange(ctx.n1), f] = Q1
    return Qj


def _lift_second(ctx: _Ctx, Q2: np.ndarray) -> np.ndarray:
    """Joint channel with X̂1 the best function of X̂2 (no extra rate)."""
    J2 = ctx.p[:, None] * Q2
    g = np.argmin(J2.T @ ctx.d1, axis=1)  # (n2,)
    Qj = np.zeros((ctx.p.size, ctx.n1, ctx.n2))
    Qj[:, g, np.arange(ctx.n2)] = Q2
    return Qj


def uncapped(ctx: _Ctx, rd1=None):
    """``R(Q, inf, D1, D2)``: returns ``(upper, lower, Qj, dual)`` where
    ``dual = (beta1, beta2, q12)`` are the multipliers of the two distortion constraints
    and the output distribution on the product alphabet (flattened ``a*n2 + b``) at the
    solution: a dual point of the problem, used by the cell bounds of the cipher regions."""
    p = ctx.p
    rd1 = rd1 if rd1 is not None else ctx.rd(ctx.d1, ctx.D1, tag="d1")
    Qj = _lift_first(ctx, rd1[2])
    if _le(joint_distortions(p, Qj, ctx.d1, ctx.d2)[1], ctx.D2):
        q12 = (p[:, None, None] * Qj).sum(axis=0).ravel()
        ctx.lower_uncapped = rd1[1]
        return rd1[0], rd1[1], Qj, (rd1[4], 0.0, q12)  # the second constraint is free
    rd2 = ctx.rd(ctx.d2, ctx.D2, tag="d2")
    Qj = _lift_second(ctx, rd2[2])
    if _le(joint_distortions(p, Qj, ctx.d1, ctx.d2)[0], ctx.D1):
        q12 = (p[:, None, None] * Qj).sum(axis=0).ravel()
        ctx.lower_uncapped = rd2[1]
        return rd2[0], rd2[1], Qj, (0.0, rd2[4], q12)  # the first constraint is free
    lower = max(rd1[1], rd2[1])
    D1p = np.repeat(ctx.d1, ctx.n2, axis=1)  # column a*n2 + b -> d1[x, a]
    D2p = np.tile(ctx.d2, (1, ctx.n1))  # column a*n2 + b -> d2[x, b]
    shape = (p.size, ctx.n1, ctx.n2)
    seen: dict[float, tuple] = {}
    warm = [None]

    def h(theta: float) -> float:
        nonlocal lower
        out = ctx.rd(
            (1 - theta) * D1p + theta * D2p, (1 - theta) * ctx.D1 + theta * ctx.D2, warm[0]
        )
        lower = max(lower, out[1])
        Q = out[2].reshape(shape)
        e1, e2 = joint_distortions(p, Q, ctx.d1, ctx.d2)
        seen[theta] = (Q, e1 - ctx.D1, e2 - ctx.D2, out[4], out[5])
        if out[4] and math.isfinite(out[4]):
            warm[0] = (out[4], out[5])
        return (e2 - ctx.D2) - (e1 - ctx.D1)

    a, b = 0.0, 1.0
    t0 = ctx.warm.get("theta")
    if t0 is not None:  # a neighbouring source's root: try a narrow bracket first
        lo_, hi_ = max(t0[0] - 0.02, 0.0), min(t0[0] + 0.02, 1.0)
        if h(lo_) > 0 > h(hi_):
            a, b = lo_, hi_
    theta = brentq(h, a, b, xtol=1e-15, rtol=8.9e-16, maxiter=200)
    ctx.warm["theta"] = (theta,)
    # candidates: the channels next to the root on each side, their balanced mixture
    left = [t for t, v in seen.items() if v[2] - v[1] > 0]
    right = [t for t, v in seen.items() if v[2] - v[1] <= 0]
    cands = [seen[t][0] for t in seen]
    if left and right:
        Qa, e1a, e2a = seen[max(left)][:3]  # e2 > e1
        Qb, e1b, e2b = seen[min(right)][:3]
        for t in np.linspace(0.0, 1.0, 33):
            cands.append(t * Qa + (1 - t) * Qb)
        # the mixture that makes both violations equal
        den = (e2a - e1a) - (e2b - e1b)
        if den != 0:
            t = -(e2b - e1b) / den
            if 0 <= t <= 1:
                cands.append(t * Qa + (1 - t) * Qb)
    best = (math.inf, None)
    for Q in cands:
        R = ctx.repair(Q)
        if R is None:
            continue
        info = joint_info(p, R)[1]
        if info < best[0]:
            best = (info, R)
    if best[1] is None:
        best = (joint_info(p, ctx.Q_min)[1], ctx.Q_min)
    t_near = min(seen, key=lambda t: abs(t - theta))
    b = seen[t_near][3]
    dual = ((1 - t_near) * b, t_near * b, seen[t_near][4])
    ctx.lower_uncapped = lower
    return best[0], lower, best[1], dual


class _Certified(Exception):
    """Raised inside a root-finder once the certified gap target is met."""


def _cond_slopes(beta: float, qs: np.ndarray, post: np.ndarray, dd: np.ndarray, d2):
    r"""Every first-layer letter at one slope, vectorized (the kernel is shared).

    With :math:`K = e^{-\beta\, dd}`, :math:`z_a = K q_a`, :math:`c_a = K^\top(P(\cdot|a)/z_a)`
    and :math:`V_a = q_a K / z_a`: returns ``(K, z, c, V, dist, log_z)`` with
    ``dist[a] = E[d2 | a]`` and ``log_z[a] = sum_x P(x|a) log z_a(x)``.
    """
    K = np.exp(-beta * dd)  # (nx, n2)
    z = np.maximum(qs @ K.T, 1e-300)  # (k, nx)
    c = (post / z) @ K  # (k, n2)
    V = qs[:, None, :] * K[None] / z[:, :, None]  # (k, nx, n2)
    V /= V.sum(axis=2, keepdims=True)
    dist = np.einsum("kx,kxb,xb->k", post, V, d2)
    log_z = (post * np.log(z)).sum(axis=1)
    return K, z, c, V, dist, log_z


def _cond_blahut(beta: float, qs: np.ndarray, post: np.ndarray, dd: np.ndarray, n: int):
    r"""``n`` Blahut–Arimoto steps :math:`q_a \leftarrow q_a \odot c_a` for every letter at
    once (one shared kernel, per-letter normalization)."""
    K = np.exp(-beta * dd)
    for _ in range(n):
        qs = qs * ((post / np.maximum(qs @ K.T, 1e-300)) @ K)
        qs /= qs.sum(axis=1, keepdims=True)
    return qs


def _cond_newton(beta, qs, post, wa, dd, d2, D2, tol, max_steps=40):
    r"""Newton's method on the optimality system of the conditional problem.

    Unknowns: every letter's output distribution ``q_a`` on its support and
    :math:`u = \log\beta`; equations :math:`c_a = 1` on the support of ``q_a`` (the KKT
    conditions at the slope) and :math:`\sum_a P(a) E[d_2|a] = D_2`. The Jacobian is
    block-diagonal in the letters (blocks :math:`-K^\top \mathrm{diag}(P(\cdot|a)/z_a^2) K`)
    bordered by the slope column :math:`\beta(K^\top(\rho_a \bar d_a) - (K\odot dd)^\top
    \rho_a)`, :math:`\rho_a = P(\cdot|a)/z_a`, and the distortion row
    :math:`P(a)((K\odot dd)^\top\rho_a - K^\top(\rho_a\bar d_a))`, corner
    :math:`-\beta\sum_a P(a) \sum_x P(x|a)\mathrm{Var}_{V_a(\cdot|x)}(dd)` (the same blocks
    as :func:`~leakage.ratedistortion._blahut.joint_newton`). Off-support entries are
    pinned (identity rows); letters leave the support when a step drives them to 0 and
    join it when ``c > 1``. Damped by backtracking on the residual. Returns
    ``(beta, qs, steps)`` or ``None`` when it stalls; the caller certifies the result.
    """
    k, n2 = qs.shape
    n = k * n2
    qs = qs.copy()
    steps = 0
    ev = _cond_slopes(beta, qs, post, dd, d2)
    eye_k = np.eye(k)

    def residual(qs, ev) -> float:
        S = qs > 0
        return float(np.abs(np.where(S, ev[2] - 1.0, 0.0)).max()) + abs(float(wa @ ev[4]) - D2)

    while steps < max_steps:
        steps += 1
        K, z, c, V, dist, _lz = ev
        rowmax = qs.max(axis=1, keepdims=True)
        fading = (qs > 0) & (qs < 1e-9 * rowmax) & (c < 1.0)
        if fading.any():
            qs = np.where(fading, 0.0, qs)
            qs /= qs.sum(axis=1, keepdims=True)
            ev = _cond_slopes(beta, qs, post, dd, d2)
            continue
        S = qs > 0
        out = ~S & (c > 1.0 + 1e-13)
        if out.any():
            qs = np.where(out, 1e-6 * rowmax, qs)
            qs /= qs.sum(axis=1, keepdims=True)
            ev = _cond_slopes(beta, qs, post, dd, d2)
            continue
        r0 = residual(qs, ev)
        on_target = abs(float(wa @ dist) - D2) <= 1e-15 * max(D2, 1.0)
        gap = float(np.log(np.maximum(c.max(axis=1), 1e-300)).max())
        if r0 <= 1e-15 or (gap <= tol / 8 and on_target):
            return beta, qs, steps
        rho = post / z  # (k, nx)
        dbar = (V * dd[None]).sum(axis=2)  # (k, nx)
        var = (V * dd[None] ** 2).sum(axis=2) - dbar**2
        H = -np.einsum("xb,kx,xc->kbc", K, rho / z, K)  # (k, n2, n2)
        g = (rho * dbar) @ K - rho @ (K * dd)  # (k, n2): dc/dbeta
        A = np.zeros((n + 1, n + 1))
        A[:n, :n] = (H[:, :, None, :] * eye_k[:, None, :, None]).reshape(n, n)
        A[:n, n] = beta * g.ravel()
        A[n, :n] = -(wa[:, None] * g).ravel()
        A[n, n] = -beta * float(wa @ (post * var).sum(axis=1))
        F = np.append(np.where(S, c - 1.0, 0.0).ravel(), float(wa @ dist) - D2)
        off = np.flatnonzero(~S.ravel())
        A[off, :] = 0.0
        A[:, off] = 0.0
        A[off, off] = 1.0
        try:
            step = np.linalg.solve(A, -F)
        except np.linalg.LinAlgError:
            return None
        if not np.all(np.isfinite(step)):
            return None
        dq = step[:n].reshape(k, n2)
        du = max(min(float(step[n]), 2.0), -2.0)
        neg = (dq < 0) & S
        ratios = np.where(neg, qs / np.where(neg, -dq, 1.0), np.inf)
        i0 = np.unravel_index(int(np.argmin(ratios)), ratios.shape)
        t_max = min(1.0, float(ratios[i0]))
        t = t_max
        for _ in range(30):
            new = np.maximum(qs + t * dq, 0.0)
            if t == t_max and t_max < 1.0:
                new[i0] = 0.0
            tot = new.sum(axis=1, keepdims=True)
            if np.all(tot > 0):
                new /= tot
                b_new = beta * math.exp(t * du)
                ev_new = _cond_slopes(b_new, new, post, dd, d2)
                if residual(new, ev_new) < r0 or (t == t_max and t_max < 1.0):
                    qs, beta, ev = new, b_new, ev_new
                    break
            t *= 0.5
        else:
            return None
    return None


def _cond_certify(ctx: _Ctx, beta, qs, post, wa, act, dd):
    """Certified ``(upper, lower, V)`` of the conditional problem from one slope and
    output distributions: the lower bound of :func:`conditional`, and the exact rate of
    the slope's channel (mixed with the least-distortion one if it is above ``D2``)."""
    p, d2, D2 = ctx.p, ctx.d2, ctx.D2
    _K, _z, c, Vs, dist, log_z = _cond_slopes(beta, qs, post, dd, d2)
    lower = -beta * (D2 - ctx.Dmin2) - float(wa @ (log_z + np.log(np.maximum(c.max(1), 1e-300))))
    e2 = float(wa @ dist)
    if e2 > D2:  # mix with the channel of least distortion: meets D2 exactly
        if e2 - ctx.Dmin2 <= 0:
            return math.inf, lower, None
        lam = (e2 - D2) / (e2 - ctx.Dmin2)
        Vmin = np.zeros_like(Vs[0])
        Vmin[np.arange(p.size), d2.argmin(axis=1)] = 1.0
        Vs = (1.0 - lam) * Vs + lam * Vmin[None]
    J = post[:, :, None] * Vs  # (k, nx, n2)
    qo = J.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        h_out = -np.where(qo > 0, qo * np.log(np.where(qo > 0, qo, 1.0)), 0.0).sum(axis=1)
        h_cond = -np.where(J > 0, J * np.log(np.where(Vs > 0, Vs, 1.0)), 0.0).sum(axis=(1, 2))
    upper = float(wa @ np.maximum(h_out - h_cond, 0.0))
    V = np.zeros((p.size, ctx.n1, ctx.n2))
    V[:, np.arange(ctx.n1), 0] = 1.0
    V[:, act, :] = Vs.transpose(1, 0, 2)
    return upper, lower, V


def conditional(ctx: _Ctx, Q1: np.ndarray):
    r"""``min I(X; X̂2 | X̂1)`` s.t. ``E d2 <= D2`` with the first layer ``Q1`` fixed.

    One Blahut–Arimoto problem per first-layer letter ``a`` (source ``P(x|a)``, weight
    ``P(a)``), all at one slope; returns ``(upper, lower, V, beta)`` with ``V[x, a, b]``
    the conditional channel and the lower bound
    :math:`-\beta(D_2 - D_{2,\min}) - \sum_a P(a)(\sum_x P(x|a)\log z_a(x) + \log\max c_a)`.

    First, :func:`_cond_newton` solves the optimality system of all letters and the slope
    at once (vectorized over the letters: they share the kernel), from the previous call
    on the same context (``ctx.warm["cond"]``: its slope and per-letter output
    distributions; neighbouring source types of a region search share it) or, cold, from
    a slope walked to ``D2`` by batched Blahut–Arimoto (:func:`_cond_blahut`). Its slope
    and outputs are certified by :func:`_cond_certify` (the bound above; the exact rate of
    the slope's channel, mixed with the least-distortion channel if above ``D2``) and
    returned when the gap is within ``ctx.tol / 4``. Otherwise (Newton stalled) a bracketing
    search on the slope, one :func:`solve_slope` per letter, takes over from there and stops
    as soon as the best feasible mixture of the two bracketing slopes is within
    ``ctx.tol / 4`` of the best lower bound (mutual information is convex in the channel,
    so the mixture's rate is at most the weighted sum); the returned bounds are certified
    either way.
    """
    p, d2, D2 = ctx.p, ctx.d2, ctx.D2
    nx, n1, n2 = p.size, ctx.n1, ctx.n2
    w = p @ Q1
    act = np.flatnonzero(w > 0)
    post = (p[:, None] * Q1[:, act] / w[act]).T  # (k, nx)
    wa = w[act]
    dd = d2 - d2.min(axis=1, keepdims=True)
    costs = post @ d2  # (k, n2): E[d2(X, b) | a]
    Dmax = float(wa @ costs.min(axis=1))
    V = np.zeros((nx, n1, n2))
    V[:, np.arange(n1), 0] = 1.0
    if D2 >= Dmax:
        V[:, act, :] = 0.0
        V[:, act, costs.argmin(axis=1)] = 1.0
        return 0.0, 0.0, V, 0.0
    tol_in = ctx.tol / 8
    target = ctx.tol / 4  # certified gap of the conditional problem at which to stop
    # warm start from the previous call on this context (a neighbouring source type):
    # its slope and per-letter output distributions
    warm = ctx.warm.get("cond")
    if warm is not None and warm[1].shape == (act.size, n2):
        qs = list(warm[1])
    else:
        warm = None
        qs = [np.full(n2, 1.0 / n2) for _ in act]
    if D2 > ctx.Dmin2 * (1 + 1e-12):
        # Newton on the whole optimality system, from a neighbouring type's slope and
        # outputs (or a natural slope and uniform outputs); the bracketing search below
        # is the fallback when it stalls or does not certify
        b0 = warm[0] if warm is not None and 0.0 < warm[0] < math.inf else math.nan
        q0 = np.array(qs)
        if not math.isfinite(b0):  # cold: walk the slope by factors of 2 to D2
            b0 = 1.0 / float(np.median(dd[dd > 0]))
            q0 = _cond_blahut(b0, q0, post, dd, 200)
            first = None
            for _ in range(40):
                above = float(wa @ _cond_slopes(b0, q0, post, dd, d2)[4]) > D2
                if first is not None and above != first:
                    break
                first = above
                b0 *= 2.0 if above else 0.5
                q0 = _cond_blahut(b0, q0, post, dd, 100)
            for i in range(act.size):  # the supports at b0 (Blahut-Arimoto only fades them)
                s, n = solve_slope(b0, q0[i], dd, post[i], d2, tol_in, ctx.max_iter)
                ctx.n_iter += n + 1
                q0[i] = s.q
        got = _cond_newton(b0, q0, post, wa, dd, d2, D2, tol_in)
        if got is not None:
            beta_n, qs_n, steps = got
            ctx.n_iter += steps
            upper, lower, Vn = _cond_certify(ctx, beta_n, qs_n, post, wa, act, dd)
            if upper - lower <= target:
                ctx.warm["cond"] = (beta_n, qs_n)
                return upper, min(lower, upper), Vn, beta_n
            qs = list(qs_n)
    lower = -math.inf
    sides: dict[str, tuple] = {}

    def at(beta: float):
        nonlocal lower
        slopes = []
        for i in range(act.size):
            s, n = solve_slope(beta, qs[i], dd, post[i], d2, tol_in, ctx.max_iter)
            ctx.n_iter += n + 1
            qs[i] = s.q
            slopes.append(s)
        dist = float(sum(wa[i] * s.distortion for i, s in enumerate(slopes)))
        lb_terms = sum(
            wa[i] * (s.log_z + math.log(max(float(s.c.max()), 1e-300)))
            for i, s in enumerate(slopes)
        )
        lb = -lb_terms if math.isinf(beta) else -beta * (D2 - ctx.Dmin2) - lb_terms
        if math.isinf(beta) and D2 > ctx.Dmin2:
            lb = -math.inf
        lower = max(lower, lb)
        Vb = np.zeros((nx, n1, n2))
        for i, s in enumerate(slopes):
            Vb[:, act[i], :] = s.Q
        info = float(sum(wa[i] * s.info for i, s in enumerate(slopes)))
        side = "hi" if dist <= D2 else "lo"
        prev = sides.get(side)
        if prev is None or (side == "hi") == (beta < prev[0]):
            sides[side] = (beta, Vb, dist, info, np.array(qs))
        return dist - D2

    def chord() -> float:
        """Upper bound on the conditional rate of the mixture of the two sides that meets
        ``D2`` exactly (mutual information is convex in the channel)."""
        hi = sides.get("hi")
        if hi is None:
            return math.inf
        lo = sides.get("lo")
        if lo is None or hi[2] >= D2:
            return hi[3]
        lam = (D2 - hi[2]) / (lo[2] - hi[2])
        return lam * lo[3] + (1 - lam) * hi[3]

    def g(u: float) -> float:
        val = at(math.exp(u))
        if chord() - lower <= target:
            raise _Certified
        return val

    if D2 <= ctx.Dmin2 * (1 + 1e-12):
        at(math.inf)
    else:
        try:
            if warm is not None and 0.0 < warm[0] < math.inf:
                u0, step = math.log(warm[0]), 1e-3
            else:
                u0, step = -math.log(float(np.median(dd[dd > 0]))), math.log(4.0)
            f = g(u0)
            lo_u = hi_u = u0
            for _ in range(80):
                if f > 0:
                    hi_u += step
                    f = g(hi_u)
                else:
                    lo_u -= step
                    f = g(lo_u)
                if "lo" in sides and "hi" in sides:
                    break
                step = min(4.0 * step, math.log(4.0))
            if "lo" in sides and "hi" in sides:
                a, b = math.log(sides["lo"][0]), math.log(sides["hi"][0])
                for _ in range(3):
                    try:
                        brentq(g, a, b, xtol=1e-13, maxiter=100)
                    except ValueError:
                        break
                    a, b = math.log(sides["lo"][0]), math.log(sides["hi"][0])
        except _Certified:
            pass
    hi = sides.get("hi")
    if hi is None:
        raise InfeasibleError(
            f"{ctx.func}: no second-layer channel reaches D2 = {D2!r} given the first layer."
        )
    if 0.0 < hi[0] < math.inf:
        ctx.warm["cond"] = (hi[0], hi[4])
    Vh = hi[1]
    if "lo" in sides and hi[2] < D2:
        lo = sides["lo"]
        lam = (D2 - hi[2]) / (lo[2] - hi[2])
        Vh = lam * lo[1] + (1 - lam) * hi[1]
    V[:, act, :] = Vh[:, act, :]
    upper = float(
        sum(wa[i] * mutual_information_nats(post[i], V[:, a, :]) for i, a in enumerate(act))
    )
    return upper, min(lower, upper), V, hi[0]


def dual_bound(ctx: _Ctx, R1: float, mu: float, beta1: float, beta2: float, r1, r2) -> float:
    """The weak-duality lower bound of the module docstring (nats); any inputs >= 0."""
    p, d1, d2 = ctx.p, ctx.d1, ctx.d2
    with np.errstate(divide="ignore"):
        lr1 = np.log(r1)
        lr2 = np.log(r2)  # (n1, n2)
    e2 = -beta2 * d2  # (nx, n2)
    logZ2 = logsumexp(lr2[None, :, :] + e2[:, None, :], axis=2)  # (nx, n1)
    G = (logZ2 - beta1 * d1) / (1.0 + mu)
    logA = logsumexp(lr1[None, :] + G, axis=1)  # (nx,)
    lp = np.log(p)
    base = lp[:, None] + G - logA[:, None]  # (nx, n1)
    log_c1 = logsumexp(base, axis=0)
    log_c12 = logsumexp(base[:, :, None] + e2[:, None, :] - logZ2[:, :, None], axis=0)
    val = (
        -(1.0 + mu) * float(p @ logA)
        - mu * float(log_c1.max())
        - float(log_c12.max())
        - mu * R1
        - beta1 * ctx.D1
        - beta2 * ctx.D2
    )
    return val if math.isfinite(val) else -math.inf


def _marginals(p: np.ndarray, Qj: np.ndarray, floor: float = 1e-300):
    J = p[:, None, None] * Qj
    q12 = J.sum(axis=0)
    q1 = q12.sum(axis=1)
    r2 = np.where(q1[:, None] > 0, q12 / np.maximum(q1, floor)[:, None], 1.0 / Qj.shape[2])
    return q1, r2


def best_dual_bound(ctx: _Ctx, R1: float, Qj: np.ndarray, starts) -> tuple[float, tuple]:
    """Maximize :func:`dual_bound` over the multipliers from several starts, with the
    output marginals of ``Qj`` and a few alternating-minimization refinements of them."""
    p = ctx.p
    r1, r2 = _marginals(p, Qj)
    best = (-math.inf, None)

    def unpack(z):
        mu = math.exp(min(z[0], 60.0))
        return mu, max(z[1], 0.0), math.exp(min(z[2], 60.0))

    def neg(z, r1, r2):
        mu, b1, b2 = unpack(z)
        return -dual_bound(ctx, R1, mu, b1, b2, r1, r2)

    for mu0, b10, b20 in starts:
        z0 = np.array([math.log(max(mu0, 1e-12)), b10, math.log(max(b20, 1e-12))])
        res = minimize(
            neg,
            z0,
            args=(r1, r2),
            method="Nelder-Mead",
            options={"xatol": 1e-12, "fatol": 1e-15, "maxiter": 4000, "maxfev": 8000},
        )
        val = -float(res.fun)
        if val > best[0]:
            best = (val, unpack(res.x))
    return best


def capped_cvxpy(ctx: _Ctx, R1: float, margin: float):
    """Solve the exponential-cone program with every constraint tightened by ``margin``;
    returns ``(Qj, (mu, beta1, beta2))`` or ``None`` when the solver fails."""
    import cvxpy as cp

    p, d1, d2 = ctx.p, ctx.d1, ctx.d2
    nx, n1, n2 = p.size, ctx.n1, ctx.n2
    J = cp.Variable((nx, n1 * n2), nonneg=True)
    S1 = np.kron(np.eye(n1), np.ones((n2, 1)))
    S2 = np.kron(np.ones((n1, 1)), np.eye(n2))
    J1, J2 = J @ S1, J @ S2
    P = p[:, None]
    q12 = cp.reshape(cp.sum(J, axis=0), (1, n1 * n2), order="C")
    q1 = cp.reshape(cp.sum(J1, axis=0), (1, n1), order="C")
    cons = [
        cp.sum(J, axis=1) == p,
        cp.sum(cp.rel_entr(J1, P @ q1)) <= R1 - margin,
        cp.sum(cp.multiply(J1, d1)) <= ctx.D1 - margin,
        cp.sum(cp.multiply(J2, d2)) <= ctx.D2 - margin,
    ]
    prob = cp.Problem(cp.Minimize(cp.sum(cp.rel_entr(J, P @ q12))), cons)
    try:
        with warnings.catch_warnings():  # the result is checked and certified by the caller
            warnings.simplefilter("ignore")
            prob.solve(solver="CLARABEL", tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    except Exception:  # any solver failure: the caller falls back to its other bounds
        return None
    if J.value is None or prob.status not in ("optimal", "optimal_inaccurate"):
        return None
    Jv = np.maximum(J.value, 0.0)
    Jv = Jv / Jv.sum(axis=1, keepdims=True)
    duals = tuple(float(max(c.dual_value or 0.0, 0.0)) for c in cons[1:])
    return Jv.reshape(nx, n1, n2), duals


def unique_first_layer(ctx: _Ctx, rd1) -> bool:
    r"""Whether the optimal :math:`D_1` test channel is unique (so that the ``"tight"``
    reading is the conditional problem at that channel).

    The returned channel must be the Blahut channel :math:`q K_\beta / z` of its slope
    (not a mix across a straight piece of the curve), and the output distribution at
    that slope unique: ``z = Kq`` is unique (strict concavity of ``log``), so ``q`` is
    unique iff the kernel columns that may carry mass (``c >= 1``) are linearly
    independent (weighted by ``sqrt(p)/z``).
    """
    from ._blahut import Slope

    beta, q, Q1 = rd1[4], rd1[5], rd1[2]
    if beta == 0.0:  # D1 >= D_max: the constant channel; unique iff the best constant is
        col = ctx.p @ ctx.d1
        return int(np.sum(col <= col.min() + 1e-12 * max(1.0, col.min()))) == 1
    dd = ctx.d1 - ctx.d1.min(axis=1, keepdims=True)
    s = Slope(float(beta), q, dd, ctx.p, ctx.d1)
    if float(np.abs(s.Q - Q1).max()) > 1e-8:
        return False
    cols = np.flatnonzero(s.c >= 1.0 - 1e-9)
    z = np.maximum(s.K @ q, 1e-300)
    M = (np.sqrt(ctx.p) / z)[:, None] * s.K[:, cols]
    sv = np.linalg.svd(M, compute_uv=False)
    return cols.size <= ctx.p.size and sv.size == cols.size and sv[-1] > 1e-9 * sv[0]


def capped_candidates(ctx: _Ctx, rd1, cap: float, program: bool):
    """Achievable points of the capped problem once the cap binds: the tight construction
    (an optimal first layer and the conditional problem), feasible for every cap at least
    ``R(Q, D1)``, and with ``program`` (a cap above R(Q, D1)) the exponential-cone
    program's repaired channel -- unless the tight construction is already within
    ``ctx.tol / 2`` of the lower bound of the uncapped relaxation (``ctx.lower_uncapped``,
    set by :func:`uncapped`), which certifies it. Returns
    ``(candidates, lower_conditional, beta2, duals)`` with ``candidates`` a list of
    ``(I(X; X̂1 X̂2), Qj, method)``."""
    Q1 = rd1[2]
    _up, lo_c, V, beta2 = conditional(ctx, Q1)
    Qt = Q1[:, :, None] * V
    cands = [(joint_info(ctx.p, Qt)[1], Qt, "tight first layer + conditional Blahut-Arimoto")]
    duals = None
    settled = cands[0][0] <= ctx.lower_uncapped + ctx.tol / 2
    if program and cap > rd1[0] + 1e-7 and not settled:
        got = capped_cvxpy(ctx, cap, margin=1e-10)
        if got is not None:
            Qc = ctx.repair(got[0])
            duals = got[1]
            if Qc is not None and ctx.feasible(Qc, cap):
                cands.append((joint_info(ctx.p, Qc)[1], Qc, "exponential-cone program"))
    return cands, lo_c, beta2, duals
