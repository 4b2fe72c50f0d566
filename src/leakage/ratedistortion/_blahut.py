r"""Blahut–Arimoto in the slope parameter, with Newton polishing and certified bounds.

For a slope :math:`\beta \ge 0` and an output distribution :math:`q` on :math:`\hat{\mathcal X}`,
write the (row-shifted) kernel :math:`K(x,\hat x) = e^{-\beta (d(x,\hat x) - d_{\min}(x))}`,
:math:`z = Kq`, :math:`c = K^\top(p / z)` and the test channel
:math:`Q(\hat x|x) = q(\hat x) K(x,\hat x) / z(x)`. Then (Blahut 1972, Theorem 8 / Csiszár)

.. math::

    R(D) \;\ge\; -\beta (D - D_{\min}) - \sum_x p(x) \log z(x) - \log \max_{\hat x} c(\hat x)
    \qquad\text{for every } \beta \ge 0,\ q,

and every channel with expected distortion :math:`\le D` gives an upper bound
:math:`R(D) \le I(p, Q)`. For fixed :math:`\beta`, the best :math:`q` maximizes the concave
:math:`\sum_x p(x) \log (Kq)(x)` over the simplex (its KKT conditions are :math:`c \le 1`
with equality on the support); Blahut–Arimoto's step is :math:`q \leftarrow q \odot c` and
Newton steps on the support finish the job. The target :math:`D` is reached by a
bracketing search on :math:`\log \beta` (the distortion of the optimal test channel
decreases in :math:`\beta`); the returned channel mixes the two bracketing channels so
that its distortion is exactly :math:`D` (``R`` is convex, so on a straight piece of the
curve the mixture is optimal). Every number is in nats here.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import xlogy

from ..errors import InfeasibleError

_TINY = 1e-300
#: Inner gap (nats) below which :func:`solve_slope` tries safeguarded Newton steps (when a
#: Newton step on the current support costs no more than ~50 Blahut–Arimoto iterations; else
#: from ``1e-3`` on). Near a slope where letters enter or leave the support, Blahut–Arimoto
#: alone converges sublinearly (thousands of iterations); Newton only accepts ascent steps.
_NEWTON_GAP = 0.1


def mutual_information_nats(p: np.ndarray, Q: np.ndarray) -> float:
    """I(p, Q) in nats, computed from the channel itself (never from an auxiliary q)."""
    J = p[:, None] * Q
    q = J.sum(axis=0)
    h_q = -float(xlogy(q, q).sum())
    h_cond = -float((p * xlogy(Q, Q).sum(axis=1)).sum())
    return max(h_q - h_cond, 0.0)


class Slope:
    """Everything about one slope ``beta`` and one output distribution ``q``."""

    __slots__ = ("K", "Q", "_info", "_p", "beta", "c", "distortion", "log_z", "q")

    def __init__(self, beta: float, q: np.ndarray, dd: np.ndarray, p: np.ndarray, d: np.ndarray):
        self.beta = beta
        self.K = (dd == 0).astype(np.float64) if math.isinf(beta) else np.exp(-beta * dd)
        self._set_q(q, p, d)

    def _set_q(self, q: np.ndarray, p: np.ndarray, d: np.ndarray) -> None:
        self.q = q
        z = np.maximum(self.K @ q, _TINY)
        self.log_z = float(p @ np.log(z))
        self.c = self.K.T @ (p / z)
        Q = q[None, :] * self.K / z[:, None]
        Q /= Q.sum(axis=1, keepdims=True)
        self.Q = Q
        self.distortion = float(p @ (Q * d).sum(axis=1))
        self._p = p
        self._info: float | None = None  # computed on first use (line searches skip it)

    @property
    def info(self) -> float:
        """``I(p, Q)`` in nats of this slope's channel (computed once, on first use)."""
        if self._info is None:
            self._info = mutual_information_nats(self._p, self.Q)
        return self._info

    def inner_gap(self) -> float:
        """Upper bound on how far ``q`` is from the best output distribution at ``beta``."""
        return max(math.log(max(float(self.c.max()), _TINY)), 0.0)

    def lower(self, D: float, D_min: float) -> float:
        """Blahut's lower bound on R(D) from this (beta, q), in nats."""
        if math.isinf(self.beta):
            if D > D_min:
                return -math.inf
            return -self.log_z - math.log(float(self.c.max()))
        return -self.beta * (D - D_min) - self.log_z - math.log(float(self.c.max()))


def _newton(s: Slope, p: np.ndarray, d: np.ndarray, tol: float, max_steps: int) -> int:
    """Active-set, regularized Newton ascent on ``phi(q) = sum_x p(x) log (Kq)(x)``.

    On the support S of ``q``: gradient ``c_S``, Hessian ``-K_S^T diag(p/z^2) K_S``,
    constraint ``sum(dq) = 0``. A step that would leave the simplex stops on its boundary
    (that letter leaves S); a letter outside S with ``c > 1`` is brought in by a
    Blahut–Arimoto step. Accepts only steps that increase ``phi``; the caller certifies.
    """
    steps = 0
    mus = (0.0, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1.0)
    # letters on their way out (tiny mass, c < 1) leave the support at once
    fading = (s.q > 0) & (s.q < 1e-7 * s.q.max()) & (s.c < 1.0)
    if fading.any():
        q = s.q.copy()
        q[fading] = 0.0
        s._set_q(q / q.sum(), p, d)
    while steps < max_steps and s.inner_gap() > tol:
        steps += 1
        q = s.q
        S = q > 0
        if float(s.c[~S].max(initial=0.0)) > 1.0 + tol:
            # a letter outside the support would help: a Blahut–Arimoto step revives it
            q_new = q * s.c
            q_new[~S] = 1e-3 * s.c[~S] * (s.c[~S] > 1.0) / max(int((~S).sum()), 1)
            q_new /= q_new.sum()
            s._set_q(q_new, p, d)
            continue
        idx = np.flatnonzero(S)
        k = idx.size
        KS = s.K[:, idx]
        z = np.maximum(s.K @ q, _TINY)
        H = -(KS * (p / z**2)[:, None]).T @ KS
        g = s.c[idx] - 1.0
        scale = max(float(-np.diag(H).min()), 1e-300)
        A = np.zeros((k + 1, k + 1))
        A[:k, k] = 1.0
        A[k, :k] = 1.0
        rhs = np.concatenate([-g, [0.0]])
        qs = q[idx]
        accepted = False
        for mu in mus:
            A[:k, :k] = H - (mu * scale) * np.eye(k)
            try:
                dq = np.linalg.solve(A, rhs)[:k]
            except np.linalg.LinAlgError:
                continue
            if not np.all(np.isfinite(dq)) or not np.any(dq):
                continue
            neg = dq < 0
            ratios = np.where(neg, qs / np.where(neg, -dq, 1.0), np.inf)
            i0 = int(np.argmin(ratios))
            t = min(1.0, float(ratios[i0]))
            new = np.maximum(qs + t * dq, 0.0)
            if t < 1.0:
                new[i0] = 0.0
            if not new.sum() > 0:
                continue
            cand = np.zeros_like(q)
            cand[idx] = new / new.sum()
            z_new = np.maximum(s.K @ cand, _TINY)
            if float(p @ np.log(z_new)) >= s.log_z - 1e-15 * max(abs(s.log_z), 1.0):
                s._set_q(cand, p, d)
                accepted = True
                break
        if not accepted:
            break
    return steps


def solve_slope(
    beta: float,
    q0: np.ndarray,
    dd: np.ndarray,
    p: np.ndarray,
    d: np.ndarray,
    tol: float,
    max_iter: int,
) -> tuple[Slope, int]:
    """Best output distribution at slope ``beta`` to inner gap ``tol`` (or ``max_iter``)."""
    s = Slope(beta, q0, dd, p, d)
    n = 0
    since = 0
    nm = p.size * q0.size
    while s.inner_gap() > tol and n < max_iter:
        gap = s.inner_gap()
        k = int(np.count_nonzero(s.q))
        if since == 0 and (gap < 1e-3 or (gap < _NEWTON_GAP and k**3 <= 50 * nm)):
            n += _newton(s, p, d, tol, max_steps=50)
            if s.inner_gap() <= tol:
                break
        since = (since + 1) % 10
        q = s.q * s.c
        dead = (s.q == 0) & (s.c > 1.0)
        if dead.any():  # multiplicative steps never revive a letter: seed it
            q[dead] = 1e-3 * (s.c[dead] - 1.0) / dead.size
        s._set_q(q / q.sum(), p, d)
        n += 1
    return s, n


class Problem:
    """A validated source ``p`` (full support) and distortion matrix ``d``."""

    def __init__(self, p: np.ndarray, d: np.ndarray):
        self.p = p
        self.d = d
        self.dmin = d.min(axis=1)
        self.dd = d - self.dmin[:, None]
        self.D_min = float(p @ self.dmin)
        col = p @ d
        self.best_constant = int(np.argmin(col))
        self.D_max = float(col[self.best_constant])
        # a natural slope scale: 1 / (typical positive distortion gap)
        pos = self.dd[self.dd > 0]
        self.beta_scale = 1.0 / float(np.median(pos)) if pos.size else 1.0


def joint_newton(
    prob: Problem, D: float, beta: float, q: np.ndarray, tol: float, max_steps: int = 60
) -> tuple[Slope | None, int]:
    r"""Newton's method on the optimality system of the target ``D`` in ``(q_S, log beta)``.

    Unknowns: the output distribution on its support S and :math:`u = \log\beta`.
    Equations: :math:`c_S(q, \beta) = 1` (the KKT conditions at slope beta; they imply
    ``sum(q_S) = 1``) and :math:`D(q, \beta) = D`. Jacobian blocks, with
    :math:`\bar d(x) = \sum_{\hat x} Q(\hat x|x)\, dd(x, \hat x)`:
    :math:`\partial c/\partial q = -K^\top \mathrm{diag}(p/z^2) K`,
    :math:`\partial c/\partial\beta = K^\top(p/z \odot \bar d) - (K \odot dd)^\top (p/z)`,
    :math:`\partial D/\partial q(\hat x) = \sum_x p(x) K(x,\hat x)(dd(x,\hat x) - \bar d(x))/z(x)`,
    :math:`\partial D/\partial\beta = -\sum_x p(x) \mathrm{Var}_{Q(\cdot|x)}(dd)`.
    Letters leave S when a step drives them to 0 and join it when ``c > 1``. Damped by
    a backtracking line search on the residual. Returns the final slope (or ``None`` if
    it stalls) and the number of steps; the caller certifies the result.
    """
    p, d, dd = prob.p, prob.d, prob.dd
    q = q.copy()
    steps = 0
    s = Slope(beta, q, dd, p, d)

    def residual(sl: Slope, S: np.ndarray) -> float:
        return float(np.abs(sl.c[S] - 1.0).max(initial=0.0)) + abs(sl.distortion - D)

    while steps < max_steps:
        steps += 1
        q = s.q
        fading = (q > 0) & (q < 1e-9 * q.max()) & (s.c < 1.0)
        if fading.any():
            q = q.copy()
            q[fading] = 0.0
            s = Slope(s.beta, q / q.sum(), dd, p, d)
            q = s.q
        S = q > 0
        out = ~S & (s.c > 1.0 + 1e-13)
        if out.any():
            q = q.copy()
            q[out] = 1e-6 * q.max()
            s = Slope(s.beta, q / q.sum(), dd, p, d)
            continue
        r0 = residual(s, S)
        on_target = abs(s.distortion - D) <= 1e-15 * max(D, 1.0)
        if r0 <= 1e-15 or (s.inner_gap() <= tol / 8 and on_target):
            return s, steps
        idx = np.flatnonzero(S)
        K = s.K
        z = np.maximum(K @ q, _TINY)
        w = p / z
        KS = K[:, idx]
        ddS = dd[:, idx]
        Qd = s.Q * dd  # Q(xh|x) dd(x,xh)
        dbar = Qd.sum(axis=1)
        var = (s.Q * dd**2).sum(axis=1) - dbar**2
        beta_ = s.beta
        J = np.empty((idx.size + 1, idx.size + 1))
        J[:-1, :-1] = -(KS * (w / z)[:, None]).T @ KS
        dc_dbeta = KS.T @ (w * dbar) - (KS * ddS).T @ w
        J[:-1, -1] = beta_ * dc_dbeta  # d/du with u = log beta
        J[-1, :-1] = ((KS * (ddS - dbar[:, None])) * w[:, None]).sum(axis=0)
        J[-1, -1] = -beta_ * float(p @ var)
        F = np.concatenate([s.c[idx] - 1.0, [s.distortion - D]])
        try:
            step = np.linalg.solve(J, -F)
        except np.linalg.LinAlgError:
            return None, steps
        if not np.all(np.isfinite(step)):
            return None, steps
        dq, du = step[:-1], float(step[-1])
        du = max(min(du, 2.0), -2.0)
        qs = q[idx]
        neg = dq < 0
        ratios = np.where(neg, qs / np.where(neg, -dq, 1.0), np.inf)
        t_max = min(1.0, float(ratios.min()))
        accepted = False
        t = t_max
        for _ in range(30):
            new = np.maximum(qs + t * dq, 0.0)
            if t == t_max and t_max < 1.0:
                new[int(np.argmin(ratios))] = 0.0
            if new.sum() > 0:
                cand = np.zeros_like(q)
                cand[idx] = new / new.sum()
                cs = Slope(beta_ * math.exp(t * du), cand, dd, p, d)
                if residual(cs, cand > 0) < r0 or (t == t_max and t_max < 1.0):
                    s = cs
                    accepted = True
                    break
            t *= 0.5
        if not accepted:
            return None, steps
    return None, steps


def solve_target(
    prob: Problem,
    D: float,
    tol: float,
    max_iter: int,
    beta0: float | None = None,
    q0: np.ndarray | None = None,
    revive: float = 0.0,
):
    """Certified R(D) for ``D_min <= D < D_max`` (nats). Returns
    ``(upper, lower, Q, distortion, beta, q, n_iter, converged)``; ``beta`` estimates the
    slope multiplier at ``D`` (``inf`` at ``D = D_min``). ``beta0``, ``q0``: a warm start
    (Newton from it first); ``revive``: if that Newton fails, the Blahut-Arimoto steps
    start from ``q0`` mixed with this share of the uniform distribution (letters that
    ``q0`` gives weight ~0 would otherwise regrow only geometrically)."""
    p, d, dd = prob.p, prob.d, prob.dd
    n_hat = d.shape[1]
    if beta0 is not None and not (
        math.isfinite(beta0) and 1e-4 * prob.beta_scale < beta0 < 1e4 * prob.beta_scale
    ):
        beta0 = None  # a warm slope from the ends of the curve (near D_max or D_min) misleads
    q_init = np.full(n_hat, 1.0 / n_hat) if q0 is None else np.maximum(q0, 1e-12 / n_hat)
    q_init = q_init / q_init.sum()
    tol_in = tol / 8
    n_total = 0
    # the channel reaching D_min: every x to a closest reproduction
    Q_min = np.zeros(d.shape)
    Q_min[np.arange(d.shape[0]), np.argmin(d, axis=1)] = 1.0

    best_lower = -math.inf
    lo: Slope | None = None  # distortion > D (beta too small)
    hi: Slope | None = None  # distortion <= D
    best_newton: tuple | None = None

    def certify(s: Slope) -> tuple[float, np.ndarray]:
        """An upper bound from one slope: its channel, or (if its distortion is above D)
        its mix with Q_min at distortion exactly D."""
        if s.distortion <= D:
            return s.info, s.Q
        lam = (s.distortion - D) / (s.distortion - prob.D_min)
        Q = (1.0 - lam) * s.Q + lam * Q_min
        return mutual_information_nats(p, Q), Q

    def evaluate(beta: float, q_start: np.ndarray) -> Slope:
        nonlocal n_total
        s, n = solve_slope(beta, q_start, dd, p, d, tol_in, max_iter)
        n_total += n + 1
        return s

    def record(s: Slope) -> None:
        nonlocal best_lower, lo, hi
        best_lower = max(best_lower, s.lower(D, prob.D_min))
        # at beta = inf the distortion is D_min up to rounding: never "above" D_min
        above = s.distortion > D and not (
            math.isinf(s.beta) and s.distortion - D <= 1e-12 * max(1.0, abs(D))
        )
        if above:
            if lo is None or s.beta > lo.beta:
                lo = s
        elif hi is None or s.beta < hi.beta:
            hi = s

    def upper_channel() -> tuple[float, np.ndarray]:
        if best_newton is not None:
            return best_newton
        if hi is None:
            return math.inf, None
        if lo is None or hi.distortion >= D:
            return hi.info, hi.Q
        lam = (D - hi.distortion) / (lo.distortion - hi.distortion)
        Q = lam * lo.Q + (1.0 - lam) * hi.Q
        return mutual_information_nats(p, Q), Q

    def slope_estimate() -> float:
        if lo is None or hi is None:
            return hi.beta if hi is not None else math.nan
        if math.isinf(hi.beta) or hi.distortion == lo.distortion:
            return hi.beta
        lam = (D - hi.distortion) / (lo.distortion - hi.distortion)
        return math.exp(lam * math.log(lo.beta) + (1 - lam) * math.log(hi.beta))

    def try_newton(beta: float, q: np.ndarray) -> bool:
        nonlocal n_total, best_lower, best_newton
        s, n = joint_newton(prob, D, beta, q, tol)
        n_total += n
        if s is None:
            return False
        best_lower = max(best_lower, s.lower(D, prob.D_min))
        u, Q = certify(s)
        if best_newton is None or u < best_newton[0]:
            best_newton = (u, Q)
        if u - best_lower <= tol:
            best_newton = (u, Q, s.beta, s.q)
            return True
        return False

    def done(beta: float, q: np.ndarray, converged: bool):
        u, Q = upper_channel()[:2]
        if Q is None:  # no slope reached D (D within rounding of D_min): the exact
            Q = Q_min  # minimum-distortion channel is feasible, its rate an upper bound
            u = mutual_information_nats(p, Q)
        dist = float(p @ (Q * d).sum(axis=1))
        return u, best_lower, Q, dist, beta, q, n_total, converged and u - best_lower <= tol

    if D <= prob.D_min:
        s = evaluate(math.inf, q_init)
        record(s)
        return done(math.inf, s.q, upper_channel()[0] - best_lower <= tol)

    if beta0 is not None and math.isfinite(beta0) and q0 is not None:
        if try_newton(beta0, q_init):
            return done(best_newton[2], best_newton[3], True)
    if revive > 0 and q0 is not None:
        q_init = (1.0 - revive) * q_init + revive / n_hat

    beta = beta0 if beta0 is not None and math.isfinite(beta0) else prob.beta_scale
    s = evaluate(beta, q_init)
    record(s)
    # bracket: walk beta by factors of 4 until the distortion crosses D
    for _ in range(60):
        if lo is not None and hi is not None:
            break
        if hi is None:
            beta *= 4.0
            if beta > 1e6 * prob.beta_scale:
                record(evaluate(math.inf, (lo or s).q))
                break
        else:
            beta /= 4.0
        s = evaluate(beta, s.q)
        record(s)
    converged = False
    newton_tried = 0
    kept, last_side = 0, ""  # Illinois: how often the same end moved in a row
    for _ in range(200):
        u = upper_channel()[0]
        if u - best_lower <= tol:
            converged = True
            break
        if lo is None or hi is None:
            break
        if newton_tried < 3 and math.isfinite(hi.beta):
            newton_tried += 1
            b_est = slope_estimate()
            near = lo if abs(math.log(b_est / lo.beta)) < abs(math.log(hi.beta / b_est)) else hi
            if try_newton(b_est, near.q):
                return done(best_newton[2], best_newton[3], True)
        # next slope: secant on (log beta, distortion), safeguarded by bisection
        if math.isinf(hi.beta):
            beta = lo.beta * 4.0
        else:
            a, b = math.log(lo.beta), math.log(hi.beta)
            fa, fb = lo.distortion - D, hi.distortion - D
            if kept >= 2:
                if last_side == "hi":
                    fa *= 0.5 ** (kept - 1)
                else:
                    fb *= 0.5 ** (kept - 1)
            x = b - fb * (b - a) / (fb - fa) if fb != fa else 0.5 * (a + b)
            width = b - a
            if not (a + 0.02 * width < x < b - 0.02 * width):
                x = 0.5 * (a + b)
            if width < 1e-13:
                # the distortion jumps here (a straight piece of R(D)): polish both ends
                tol_in = max(tol_in / 16, 1e-15)
                for end in (lo, hi):
                    t, n = solve_slope(end.beta, end.q, dd, p, d, tol_in, max_iter)
                    n_total += n
                    record(t)
                if tol_in <= 1e-15:
                    converged = upper_channel()[0] - best_lower <= tol
                    break
                continue
            beta = math.exp(x)
        near = lo if abs(math.log(beta / lo.beta)) < 1 else hi
        t = evaluate(beta, near.q)
        side = "lo" if t.distortion > D else "hi"
        kept = kept + 1 if side == last_side else 1
        last_side = side
        record(t)
    q_ret = hi.q if hi is not None else q_init
    return done(slope_estimate(), q_ret, converged)


def solve_rd(
    prob: Problem, D: float, tol_n: float, max_iter: int, func: str, warm=None, revive=0.0
):
    """(upper, lower, Q, distortion, beta, q, n_iter, converged) in nats, edges exact.
    ``warm``: (slope, output pmf) of a neighbouring point; ``revive``: see
    :func:`solve_target`."""
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
    if D <= prob.D_min + 1e-12 * max(1.0, prob.D_min):
        D = prob.D_min  # within rounding of D_min (e.g. D_min summed in another order)
    return solve_target(prob, max(D, prob.D_min), tol_n, max_iter, beta0, q0, revive)
