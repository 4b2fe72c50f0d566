r"""The exact optimum of paper 002's original privacy–utility problem (2)/(32).

The paper solves the non-convex problem only for :math:`M = N = 2` by grid search and
calls it prohibitive beyond. It is in fact a linear program over measures. Write the
columns of :math:`W` as :math:`W_{:,j} = s_j u_j` with :math:`u_j` in the simplex
:math:`\Delta_M` and :math:`s_j \ge 0`. Every quantity of the problem is a sum over
output letters of a function that is positively homogeneous of degree 1 in the column:

* :math:`D(p_kW\|p_1W) = \sum_j s_j f_k(u_j)`, :math:`f_k(u) = (p_k u)\ln\frac{p_k
  u}{p_1 u}` (convex);
* :math:`\sum_j s_j h(u_j)`, :math:`h(u) = (p_2u)^\alpha (p_1u)^{1-\alpha}` (concave), whose
  logarithm over :math:`\alpha - 1` is :math:`D_\alpha(p_2W\|p_1W)`;
* :math:`I(p_k, W) = \sum_j s_j g_k(u_j)`, :math:`g_k(u) = \sum_i p_{ki}u_i \ln
  \frac{u_i}{p_k u}` (convex);
* row-stochasticity is :math:`\sum_j s_j u_j = \mathbf 1`.

So (2) is :math:`\max \tau` s.t. :math:`\int f_k\,d\mu \ge \tau`, :math:`\int g_k\,d\mu \le
\epsilon_k`, :math:`\int u\,d\mu = \mathbf 1` over nonnegative measures :math:`\mu` on
:math:`\Delta_M` (and (32) is :math:`\min \int h\,d\mu` under the same constraints). Every
finite-support measure is a mechanism and conversely; Carathéodory bounds the optimal
support by :math:`M + 2m - 1` output letters.

**Column generation.** A restricted master LP (HiGHS) over a finite set of columns gives
multipliers :math:`\nu \ge 0` (:math:`\sum\nu = 1`), :math:`\kappa \ge 0`, :math:`y`; the
reduced cost of a column is :math:`r(u) = -\sum_k\nu_kf_k(u) + \sum_k\kappa_kg_k(u) -
y\cdot u` (or :math:`h + \sum\kappa g - y\cdot u`). Columns with :math:`r < 0` enter.

**Certificate (weak duality).** For *any* such multipliers and any :math:`\rho \le
\min_{\Delta_M} r`, every feasible mechanism has utility :math:`\tau \le \sum_k\kappa_k
\epsilon_k - \sum_i y_i - M\rho` (since :math:`\mu(\Delta_M) = M`); for (32),
:math:`\int h\,d\mu \ge \sum_i y_i - \sum_k \kappa_k\epsilon_k + M\rho`. The bound
:math:`\rho` comes from a branch and bound over simplicial cells of :math:`\Delta_M`:
:math:`r` is concave part + convex part + linear, so on a cell it is bounded below by the
concave function (concave part + tangent plane of the convex part at the centroid +
linear), whose minimum over the cell is at a vertex — a bound tight to second order in
the cell size. Nothing of the LP solver's own accuracy enters the bound.

**Pricing in likelihood-ratio space.** That bisection needs cells in :math:`M - 1`
dimensions and its tangent planes are loose near the faces of :math:`\Delta_M`
(:math:`u\ln u` has unbounded curvature): at :math:`M = 6` it stalled at 80–97% gaps.
Normalizing columns by :math:`p_1u = 1` instead (so the certificate subtracts
:math:`\rho' = \min\{r(u) : u \ge 0, p_1u = 1\}` once, not :math:`M\rho`), the
reduced cost is a concave function of the :math:`m - 1` ratios :math:`a_k = p_ku` plus
:math:`\phi(a)`, the value of a separable entropy problem with those moments, which is
convex with affine minorants in closed form from any dual point (:class:`_RatioModel`).
The branch and bound then runs over the polytope of the letters' likelihood-ratio points
(:math:`m - 1` dimensions, whatever :math:`M`), and the entropy part is bounded exactly.

The returned mechanism is the master's solution, rows renormalized exactly and, if
rounding left a leakage above its budget, mixed with a perfect-privacy mechanism just
enough (:math:`I` is convex in :math:`W`); its utility and leakages are recomputed
exactly.
"""

from __future__ import annotations

import contextvars
import functools
import heapq
import itertools
import math
import time
import warnings
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import linprog, minimize, minimize_scalar
from scipy.spatial import Delaunay, QhullError
from scipy.special import xlogy

from .._validation import check_base, check_positive
from ..errors import (
    ConvergenceWarning,
    InvalidDistributionError,
    InvalidParameterError,
    SolverError,
)
from ..results import HypothesisDesign, Status
from ..units import from_nats, to_nats
from ._common import (
    as_budgets,
    as_hypotheses,
    check_mechanism,
    check_utility,
    exponents_nats,
    figures,
    mi_nats,
)


class _Problem:
    """The column functions of one instance (all in nats), vectorized over rows of U."""

    def __init__(self, ps: np.ndarray, e: np.ndarray, utility: str, alpha: float):
        self.ps, self.e, self.utility, self.alpha = ps, e, utility, alpha
        self.m, self.M = ps.shape
        self._ratio_cells: np.ndarray | bool | None = False

    def ratio_cells(self) -> np.ndarray | None:
        """A triangulation of the polytope spanned by the likelihood-ratio points
        ``(p_ki / p_1i)_{k>=2}`` of the letters: simplices, shape (S, m, m - 1); ``None``
        if the points do not span ``m - 1`` dimensions."""
        if self._ratio_cells is False:
            R = (self.ps[1:] / self.ps[0]).T  # (M, m - 1)
            cells = None
            if R.shape[1] == 1:
                lo, hi = float(R.min()), float(R.max())
                if hi > lo:
                    cells = np.array([[[lo], [hi]]])
            elif R.shape[0] > R.shape[1]:
                try:
                    cells = R[Delaunay(R).simplices]
                except (QhullError, ValueError):  # degenerate: the simplicial pricing
                    cells = None
            self._ratio_cells = cells
        return self._ratio_cells

    def parts(self, U: np.ndarray):
        """Utility rows (convex) and leakage rows per column: shapes (K, m-1) and (K, m).

        KL: f_k for k = 2..m. Rényi: one row, phi(u) = p_1 u - h(u), since
        sum_j s_j p_1 u_j = 1 for every mechanism, so sum_j s_j h(u_j) = 1 - sum_j s_j
        phi(u_j): maximizing the phi-sum is minimizing S = sum_j s_j h(u_j), and the
        small quantity 1 - S is what the LP carries (D_alpha = ln(S) / (alpha - 1))."""
        lin = U @ self.ps.T  # (K, m)
        if self.utility == "kl":
            obj = xlogy(lin[:, 1:], lin[:, 1:]) - xlogy(lin[:, 1:], lin[:, :1])
        else:
            a = self.alpha
            obj = (lin[:, 0] - lin[:, 1] ** a * lin[:, 0] ** (1 - a)).reshape(-1, 1)
        ulogu = xlogy(U, U)  # (K, M)
        g = ulogu @ self.ps.T - xlogy(lin, lin)
        return obj, g

    def values(self, C: np.ndarray) -> np.ndarray:
        """The utility rows of a whole mechanism C (M×N): the exponents (KL) or 1 - S."""
        if self.utility == "kl":
            return exponents_nats(self.ps, C, "kl", math.nan)
        q = self.ps @ C
        return np.array([1.0 - float(np.sum(q[1] ** self.alpha * q[0] ** (1 - self.alpha)))])

    def reduced(self, U: np.ndarray, duals) -> np.ndarray:
        nu, kappa, y = duals
        obj, g = self.parts(U)
        return -(obj @ nu) + g @ kappa - U @ y

    def gradients(self, U: np.ndarray):
        """Gradients of the utility rows and the leakage rows at ``U`` (rows, interior
        coordinates): shapes (K, r, M) and (K, m, M). Every row function is positively
        homogeneous of degree 1, so ``u . grad = value`` (Euler)."""
        lin = U @ self.ps.T  # (K, m)
        P = self.ps
        if self.utility == "kl":
            # d/du_i [a ln(a/c)] = p_ki (ln(a/c) + 1) - p_1i a/c, a = p_k u, c = p_1 u
            ratio = lin[:, 1:] / lin[:, :1]  # (K, m-1)
            dobj = P[None, 1:, :] * (np.log(ratio) + 1.0)[:, :, None] - (
                ratio[:, :, None] * P[None, :1, :]
            )
        else:
            a, c, al = lin[:, 1:2], lin[:, :1], self.alpha
            # d/du_i [c - a^al c^(1-al)]
            dobj = (
                P[None, 0, :]
                - al * P[None, 1, :] * (c / a) ** (1 - al)
                - (1 - al) * P[None, 0, :] * (a / c) ** al
            )[:, None, :]
        with np.errstate(divide="ignore"):
            # d/du_i g_k(u) = p_ki ln(u_i / (p_k u))
            dg = P[None, :, :] * (np.log(U)[:, None, :] - np.log(lin)[:, :, None])
        return dobj, dg

    def concave_and_grad(self, U: np.ndarray, C: np.ndarray, duals):
        """Concave part + linear part at ``U`` (rows), and the convex part's value and
        gradient at the centroids ``C`` (rows): for the cell lower bound."""
        nu, kappa, y = duals
        obj, _ = self.parts(U)
        conc = -(obj @ nu) - U @ y
        _, gC = self.parts(C)
        lin = C @ self.ps.T
        # grad g_k(c) = p_k * (ln c - ln(p_k c))
        grad = np.log(C)[:, None, :] - np.log(lin)[:, :, None]  # (K, m, M)
        grad = np.einsum("k,kM,nkM->nM", kappa, self.ps, grad)
        return conc, gC @ kappa, grad


#: the column generation polishes the master's support every iteration up to this many
#: letters (beyond, one SLSQP on the support costs more than the iterations it saves)
_POLISH_MAX_LETTERS = 4
#: the output-count reduction (a local polish per count) is tried up to this many entries
_REDUCE_MAX_ENTRIES = 24


class _Clock:
    """The wall-clock budget of one :func:`optimal_mechanism` call (``max_time``)."""

    def __init__(self, max_time: float | None):
        self.start = time.perf_counter()
        self.budget = math.inf if max_time is None else float(max_time)
        self.expired = False

    def up(self, share: float = 1.0) -> bool:
        """Whether ``share`` of the budget is spent (the whole budget, once spent, stays
        spent)."""
        if self.expired:
            return True
        late = time.perf_counter() - self.start > share * self.budget
        if late and share >= 1.0:
            self.expired = True
        return late


#: the budget of the running call: every loop and local search of the solve checks it
_CLOCK: contextvars.ContextVar[_Clock | None] = contextvars.ContextVar("_CLOCK", default=None)


def _clock() -> _Clock:
    return _CLOCK.get() or _Clock(None)


def _under_clock(solver):
    """Run ``solver`` under the clock of its ``max_time`` argument (validated first)."""

    @functools.wraps(solver)
    def timed(*args, max_time: float | None = None, **kwargs):
        if max_time is not None:
            max_time = check_positive(max_time, func=solver.__name__, name="max_time")
        token = _CLOCK.set(_Clock(max_time))
        try:
            return solver(*args, max_time=max_time, **kwargs)
        finally:
            _CLOCK.reset(token)

    return timed


def _stop_when_time_is_up(*_args) -> None:
    """SciPy ``minimize`` callback: stop the local search once ``max_time`` is spent."""
    if _clock().up():
        raise StopIteration


#: the share of ``max_time`` the column generation may use; the rest is left to the
#: certificate of what it found (its branch and bound) and to the refinement
_CG_SHARE = 2 / 3


#: the initial columns of the master: the simplex lattice of step 1/L with the largest
#: L (at most 12 for M <= 3, else 4) that gives at most this many points
_LATTICE_MAX_POINTS = 5000


def _lattice(M: int, L: int) -> np.ndarray:
    """The points of the simplex lattice ``{c / L : c in N^M, sum c = L}`` (rows), in
    lexicographic order of ``c``; ``L`` is lowered until there are at most
    ``_LATTICE_MAX_POINTS`` of them (C(M + L - 1, L) points: never the L^M candidates)."""
    while L > 1 and math.comb(M + L - 1, L) > _LATTICE_MAX_POINTS:
        L -= 1
    bins = np.array(list(itertools.combinations_with_replacement(range(M), L)), dtype=np.intp)
    counts = np.zeros((bins.shape[0], M))
    np.add.at(counts, (np.arange(bins.shape[0])[:, None], bins), 1.0)
    return counts[np.lexsort(counts.T[::-1])] / L


class _Master:
    """The restricted master LP over the current columns (HiGHS through scipy).

    max tau s.t. tau <= sum_j s_j obj_k(u_j), sum_j s_j g_k(u_j) <= e_k, sum_j s_j u_j = 1,
    solved with the utility rows divided by their largest entry and each leakage row by
    its budget (so HiGHS's tolerances are relative), duals mapped back to the original
    rows."""

    def __init__(self, prob: _Problem):
        self.prob = prob
        self.U = np.zeros((0, prob.M))
        self.obj = np.zeros((0, prob.m - 1 if prob.utility == "kl" else 1))
        self.g = np.zeros((0, prob.m))
        self.scale = 0.0

    def add(self, U: np.ndarray) -> None:
        U = np.clip(U, 0.0, None)
        U = U / U.sum(axis=1, keepdims=True)
        obj, g = self.prob.parts(U)
        self.U = np.vstack([self.U, U])
        self.obj = np.vstack([self.obj, obj])
        self.g = np.vstack([self.g, g])

    def solve(self):
        p, K = self.prob, self.U.shape[0]
        r = self.obj.shape[1]
        esc = np.where(p.e > 0, p.e, 1.0)
        c = np.zeros(K + 1)
        c[-1] = -1.0
        b_ub = np.concatenate([np.zeros(r), p.e / esc])
        A_eq = np.hstack([self.U.T, np.zeros((p.M, 1))])
        # the utility rows in units of the current value (HiGHS's tolerances are
        # absolute); if HiGHS fails on that scaling, the largest entry, then defaults
        big = max(float(np.abs(self.obj).max()), 1e-300)
        attempts = [
            (self.scale, 1e-10, "highs-ds"),
            (self.scale, 1e-10, "highs-ipm"),
            (big, 1e-10, "highs"),
            (big, 1e-7, "highs"),
        ]
        for sig, tol, meth in attempts:
            if not sig > 0:
                continue
            A_ub = np.vstack(
                [
                    np.hstack([-self.obj.T / sig, np.ones((r, 1))]),
                    np.hstack([self.g.T / esc[:, None], np.zeros((p.m, 1))]),
                ]
            )
            res = linprog(
                c,
                A_ub=A_ub,
                b_ub=b_ub,
                A_eq=A_eq,
                b_eq=np.ones(p.M),
                bounds=[(0, None)] * K + [(None, None)],
                method=meth,
                options=dict(primal_feasibility_tolerance=tol, dual_feasibility_tolerance=tol),
            )
            if res.status == 0:
                break
        else:
            raise SolverError(f"optimal_mechanism: the master LP failed: {res.message}")
        mu = -res.ineqlin.marginals
        nu = np.maximum(mu[:r], 0.0)
        nu = nu / nu.sum() if nu.sum() > 0 else np.full(r, 1.0 / r)
        kappa = sig * np.maximum(mu[r:], 0.0) / esc
        y = sig * res.eqlin.marginals
        value = -sig * float(res.fun)
        if value > 0:
            self.scale = value
        return res.x[:K], (nu, kappa, y), value


def _local_min(prob: _Problem, duals, u0: np.ndarray) -> np.ndarray:
    """A local minimizer of the reduced cost from ``u0`` (bounded Brent for M = 2)."""
    M = prob.M
    if M == 2:

        def f1(t: float) -> float:
            return float(prob.reduced(np.array([[t, 1 - t]]), duals)[0])

        r = minimize_scalar(f1, bounds=(0.0, 1.0), method="bounded", options={"xatol": 1e-13})
        cands = [r.x, 0.0, 1.0, float(u0[0])]
        t = min(cands, key=f1)
        return np.array([t, 1 - t])

    def f(u: np.ndarray) -> float:
        return float(prob.reduced(u[None, :], duals)[0])

    r = minimize(
        f,
        u0,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * M,
        constraints=[{"type": "eq", "fun": lambda u: u.sum() - 1.0}],
        options={"ftol": 1e-15, "maxiter": 200},
        callback=_stop_when_time_is_up,
    )
    u = np.clip(r.x, 0.0, None)
    u = u / u.sum()
    return u if f(u) < f(u0) else u0


def _slsqp(prob: _Problem, W0: np.ndarray, maxiter: int = 300) -> np.ndarray:
    """Local optimum of (2)/(32) over mechanisms of W0's shape (M×N), from W0: SLSQP
    with exact gradients (finite differences cap the accuracy near 1e-8 relative, which
    the certificate would see). KL: max tau s.t. D(p_kW||p_1W) >= tau (epigraph);
    Rényi: max tau = 1 - S, S = sum_j (p_2W)_j^a (p_1W)_j^(1-a). Objective and leakage
    rows scaled (by the value at W0, by the budgets) so that SLSQP's absolute tolerances
    are relative to the instance."""
    M, N = W0.shape
    P, e = prob.ps, prob.e
    MN = M * N
    esc = np.where(e > 0, e, 1.0)
    logfloor = 1e-300

    def unpack(x):
        return x[:MN].reshape(M, N)

    def leak(x):
        return (e - _mi_rows(P, unpack(x))) / esc

    def leak_jac(x):
        W = np.maximum(unpack(x), logfloor)
        q = P @ W
        # d I(p_k, W) / d W_ij = p_ki ln(W_ij / (p_k W)_j)
        d = P[:, :, None] * (np.log(W)[None] - np.log(q)[:, None, :])
        J = -d.reshape(P.shape[0], MN) / esc[:, None]
        return np.hstack([J, np.zeros((P.shape[0], x.size - MN))])

    row_jac = np.zeros((M, MN))
    for i in range(M):
        row_jac[i, i * N : (i + 1) * N] = 1.0
    cons = [
        {
            "type": "eq",
            "fun": lambda x: unpack(x).sum(axis=1) - 1.0,
            "jac": lambda x: np.hstack([row_jac, np.zeros((M, x.size - MN))]),
        },
        {"type": "ineq", "fun": leak, "jac": leak_jac},
    ]
    if prob.utility == "kl":
        sc = float(prob.values(W0).min())
        sc = sc if sc > 1e-300 else 1.0

        def util(x):
            return (exponents_nats(P, unpack(x), "kl", math.nan) - x[-1] * sc) / sc

        def util_jac(x):
            W = unpack(x)
            q = np.maximum(P @ W, logfloor)
            ratio = q[1:] / q[:1]  # (m-1, N)
            d = P[1:, :, None] * (np.log(ratio) + 1.0)[:, None, :] - (
                P[:1, :, None] * ratio[:, None, :]
            )
            J = d.reshape(P.shape[0] - 1, MN) / sc
            return np.hstack([J, -np.ones((J.shape[0], 1))])

        cons.append({"type": "ineq", "fun": util, "jac": util_jac})
        x0 = np.concatenate([W0.ravel(), [float(prob.values(W0).min()) / sc]])
        grad = np.zeros(MN + 1)
        grad[-1] = -1.0

        def obj(x):
            return -x[-1]

        def obj_jac(x):
            return grad

        bnds = [(0.0, 1.0)] * MN + [(None, None)]
    else:
        a = prob.alpha
        # maximize tau = 1 - S = sum_j [(p_1W)_j - (p_2W)_j^a (p_1W)_j^(1-a)] (each term
        # small: no cancellation against 1), in units of its value at W0
        sc = float(prob.values(W0)[0])
        sc = sc if sc > 1e-300 else 1.0

        def obj(x):
            q = P @ unpack(x)
            return -float(np.sum(q[0] - q[1] ** a * q[0] ** (1 - a))) / sc

        def obj_jac(x):
            q = np.maximum(P @ unpack(x), logfloor)
            d = (
                a * P[1][:, None] * (q[0] / q[1])[None] ** (1 - a)
                + (1 - a) * P[0][:, None] * (q[1] / q[0])[None] ** a
            )
            return (d - P[0][:, None]).ravel() / sc

        x0 = W0.ravel().copy()
        bnds = [(0.0, 1.0)] * MN
    try:
        r = minimize(
            obj,
            x0,
            jac=obj_jac,
            method="SLSQP",
            bounds=bnds,
            constraints=cons,
            options={"ftol": 1e-16, "maxiter": maxiter},
            callback=_stop_when_time_is_up,
        )
    except (ValueError, FloatingPointError):
        return W0
    W = np.clip(unpack(r.x), 0.0, None)
    return W / W.sum(axis=1, keepdims=True)


def _mi_rows(P: np.ndarray, W: np.ndarray) -> np.ndarray:
    """I(p_k, W) in nats for every row p_k of P."""
    q = P @ W
    return (P[:, :, None] * (xlogy(W, W)[None] - xlogy(W[None], q[:, None, :]))).sum(axis=(1, 2))


def _polish_support(prob: _Problem, U: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Newton-like refinement of the master's support: the original problem with the
    support's N columns as free variables (SLSQP from the LP solution), which converges
    fast where column generation alone tails off. Returns the refined columns (to be
    added to the master; the LP and the certificate decide what is used)."""
    keep = s > 1e-12 * max(float(s.max()), 1.0)
    C0 = (U[keep] * s[keep, None]).T  # (M, N)
    C0 = C0 / C0.sum(axis=1, keepdims=True)
    C = _slsqp(prob, C0)
    return C[:, C.sum(axis=0) > 1e-14]


def _directions(C: np.ndarray) -> np.ndarray:
    """Columns of a mechanism as points of the simplex (rows)."""
    return (C / C.sum(axis=0, keepdims=True)).T if C.size else np.zeros((0, C.shape[0]))


def _kkt_duals(prob: _Problem, C: np.ndarray):
    """Multipliers from the optimality conditions at a (polished) mechanism C (M×N).

    At an optimum the reduced cost r >= 0 on the simplex vanishes on every used column
    u_j, which is then a minimizer of r: its gradient vanishes on the coordinates where
    u_j > 0 (and r(u_j) = u_j . grad r(u_j) = 0 follows by Euler's identity). With
    sum(nu) = 1 and multipliers only on the active rows this is an overdetermined
    linear system in (nu, kappa, y), solved by least squares: far more accurate than an
    LP's duals when the columns are accurate. Any result is safe: the certificate holds
    for all multipliers."""
    U = _directions(C)
    sw = C.sum(axis=0)
    obj, g = prob.parts(U)
    tau_k = sw @ obj
    act_u = np.flatnonzero(tau_k <= tau_k.min() + 1e-7 * abs(tau_k.min()))
    act_l = np.flatnonzero(sw @ g >= prob.e * (1 - 1e-7))
    a, b, M = act_u.size, act_l.size, prob.M
    dobj, dg = prob.gradients(U)
    inside = U > 1e-12  # the gradient of g is -inf on a face: no condition there
    # rows: one per (column, interior coordinate); unknowns (nu_act, kappa_act, y)
    blocks = [-dobj[:, act_u, :], dg[:, act_l, :], -np.broadcast_to(np.eye(M), (U.shape[0], M, M))]
    A = np.concatenate([np.swapaxes(blk, 1, 2) for blk in blocks], axis=2)
    # weighted by the column's mass: a column of negligible mass is not a settled
    # optimum of the polish, and its conditions must not pull the multipliers
    A = (A * np.sqrt(sw / sw.max())[:, None, None])[inside]
    A = np.vstack([A, np.concatenate([np.ones(a), np.zeros(b + M)])])
    rhs = np.zeros(A.shape[0])
    rhs[-1] = 1.0
    if not np.isfinite(A).all():
        return None
    norms = np.linalg.norm(A, axis=0)
    norms[norms == 0] = 1.0
    x = np.linalg.lstsq(A / norms, rhs, rcond=None)[0] / norms
    nu = np.zeros(obj.shape[1])
    nu[act_u] = np.maximum(x[:a], 0.0)
    if nu.sum() <= 0:
        return None
    kappa = np.zeros(prob.m)
    kappa[act_l] = np.maximum(x[a : a + b], 0.0)
    return nu / nu.sum(), kappa, x[a + b :]


def _newton_kkt(prob: _Problem, W: np.ndarray, max_steps: int = 8):
    """Newton's method on the optimality system of the active set at ``W``.

    Unknowns: the free entries of W (zeros stay zero), tau, the multipliers of the
    active utility rows (nu) and leakage rows (kappa), and y (row sums). Equations: the
    Lagrangian's stationarity in each free entry (the reduced cost's gradient, see
    :func:`_kkt_duals`), the active rows at equality, rows summing to one and sum(nu) = 1.
    Jacobian by central differences of the exact residual; steps by least squares (an
    output split in two makes the system singular). Converges to the accuracy of the
    arithmetic, so the multipliers it returns make the certificate as tight as the
    mechanism. Returns ``(W, (nu, kappa, y))`` or ``None`` (not converged, or a sign
    condition fails: the active set was wrong)."""
    sw = W.sum(axis=0)
    W = W[:, sw > 1e-9 * sw.max()]
    W = W / W.sum(axis=1, keepdims=True)
    init = _kkt_duals(prob, W)
    if init is None:
        return None
    M, N = W.shape
    sw = W.sum(axis=0)
    obj, g = prob.parts(_directions(W))
    tau_k, leak_k = sw @ obj, sw @ g
    act_u = np.flatnonzero(tau_k <= tau_k.min() + 1e-7 * abs(tau_k.min()))
    act_l = np.flatnonzero(leak_k >= prob.e * (1 - 1e-7))
    free = W > 0
    nf, a, b = int(free.sum()), act_u.size, act_l.size

    def unpack(x):
        Wx = np.zeros((M, N))
        Wx[free] = x[:nf]
        return Wx, x[nf], x[nf + 1 : nf + 1 + a], x[nf + 1 + a : nf + 1 + a + b], x[-M:]

    def resid(x):
        Wx, tau, nu, ka, y = unpack(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            dobj, dg = prob.gradients(Wx.T)  # degree-0 homogeneous: columns as they are
        # the reduced cost's gradient (the sign convention of the certificate)
        stat = (
            np.einsum("k,nkM->Mn", ka, dg[:, act_l, :])
            - np.einsum("k,nkM->Mn", nu, dobj[:, act_u, :])
            - y[:, None]
        )
        return np.concatenate(
            [
                stat[free],
                prob.values(Wx)[act_u] - tau,
                _mi_rows(prob.ps, Wx)[act_l] - prob.e[act_l],
                Wx.sum(axis=1) - 1.0,
                [nu.sum() - 1.0],
            ]
        )

    nu0, ka0, y0 = init
    x = np.concatenate([W[free], [tau_k.min()], nu0[act_u], ka0[act_l], y0])
    r = resid(x)
    if not np.all(np.isfinite(r)):
        return None
    norm = float(np.linalg.norm(r))
    for _ in range(max_steps):
        h = 1e-7 * np.maximum(np.abs(x), 1e-7 * max(float(np.abs(x[:nf]).max()), 1e-300))
        J = np.empty((r.size, x.size))
        for c in range(x.size):  # a loop over unknowns (a few dozen), not letters
            e_c = np.zeros(x.size)
            e_c[c] = h[c]
            J[:, c] = (resid(x + e_c) - resid(x - e_c)) / (2 * h[c])
        if not np.all(np.isfinite(J)):
            return None
        xn = x - np.linalg.lstsq(J, r, rcond=None)[0]
        if np.any(xn[:nf] <= 0):
            return None
        rn = resid(xn)
        nn = float(np.linalg.norm(rn))
        if not np.isfinite(nn) or nn >= norm:
            break
        x, r, norm = xn, rn, nn
    Wx, _, nu, ka, y = unpack(x)
    if nu.min() < 0 or (b and ka.min() < 0):
        return None
    nu_f, ka_f = np.zeros(obj.shape[1]), np.zeros(prob.m)
    nu_f[act_u], ka_f[act_l] = nu / nu.sum(), ka
    return Wx / Wx.sum(axis=1, keepdims=True), (nu_f, ka_f, y)


def _drive(
    prob: _Problem,
    W: np.ndarray,
    mix: float,
    tau_ub: float,
    rho: float,
    *,
    rtol: float,
    max_cells: int,
    max_refine: int,
):
    """Drive the certificate: refine ``W`` and the bound until ``tau_ub - U(W) <= rtol
    |tau_ub|`` or ``max_refine`` rounds.

    Each round solves the optimality conditions of ``W``'s active set by Newton's method
    (:func:`_newton_kkt`; the least-squares multipliers of :func:`_kkt_duals` if it
    fails) and prices with those multipliers: a full branch and bound gives a certified
    bound from them (kept if it beats ``tau_ub``) and the most negative reduced cost;
    that column enters the
    local polish of ``W`` itself (nonlinear column generation: the master LP's
    tolerances cannot hide it). Stops early when the polish no longer improves ``W``
    (the multipliers depend on ``W`` alone).
    Returns ``(W, mix, tau_ub, rho, cells, rounds, hits)``; ``hits``: the limits that
    stopped a pricing (``"max_cells"``, ``"max_time"``) or the rounds (``"max_refine"``,
    ``"max_time"``)."""
    cells, rounds, hits = 0, 0, set()
    val = float(prob.values(W).min())
    while True:
        gap = tau_ub - val
        if gap <= rtol * abs(tau_ub) and (rounds or gap <= 0.1 * rtol * abs(tau_ub)):
            break
        if _clock().up():
            hits.add("max_time")
            break
        newton = _newton_kkt(prob, W)
        if newton is not None:  # exact multipliers, and W polished to the same accuracy
            Wn, duals = newton
            Wn, mix_n = _repair(prob.ps, Wn, prob.e)
            vn = float(prob.values(Wn).min())
            if vn > val:
                W, mix, val = Wn, mix_n, vn
        else:
            duals = _kkt_duals(prob, W)
        if duals is None:
            break
        tol = rtol * max(abs(tau_ub), 1e-300) / 4
        pr = _certify(prob, duals, tol, max_cells, stop_early=False)
        cells += pr.cells
        ub_k = float(duals[1] @ prob.e - duals[2].sum()) - pr.pen
        if ub_k < tau_ub:
            tau_ub, rho = ub_k, pr.rho
        if tau_ub - val <= rtol * abs(tau_ub):
            break
        if pr.hit:
            hits.add(pr.hit)
        if rounds >= max_refine:
            hits.add("max_refine")
            break
        rounds += 1
        U, sw = _directions(W), W.sum(axis=0)
        if pr.improving:  # an improving column: it enters the polish with a small mass
            U = np.vstack([U, pr.u])
            sw = np.concatenate([sw, [1e-3 * sw.sum() / sw.size]])
        C = _polish_support(prob, U, sw)
        if not C.size:
            break
        Cn, mix_n = _repair(prob.ps, C / C.sum(axis=1, keepdims=True), prob.e)
        v = float(prob.values(Cn).min())
        if v <= val:  # W unchanged: the next round would price the same multipliers
            break
        W, mix, val = Cn, mix_n, v
    return W, mix, tau_ub, rho, cells, rounds, hits


class _Pricing(NamedTuple):
    """What one certified pricing step proves and finds.

    ``pen``: every mechanism's utility is at most ``sum kappa e - sum y - pen`` (the
    certificate); ``rho``: the proved lower bound on the reduced cost (in the pricing's
    normalization); ``u``, ``value``: the column of least reduced cost found and its
    exact (normalized) reduced cost; ``improving``: ``value < -delta`` (it enters the
    master); ``cells``: cells bounded; ``hit``: the limit (``"max_cells"`` or
    ``"max_time"``) that stopped the search with cells still open, else ``""`` (``rho``
    is then only what the open cells prove)."""

    pen: float
    rho: float
    u: np.ndarray
    value: float
    improving: bool
    cells: int
    hit: str


def _certify(prob: _Problem, duals, tol: float, max_cells: int, *, stop_early: bool) -> _Pricing:
    """Certified pricing: a lower bound on min r by branch and bound, losing at most
    about ``tol`` in the certificate when it runs to completion.

    The bound in the space of likelihood ratios is used whenever it
    applies (every letter priced by a leakage multiplier and the ratio points spanning
    ``m - 1`` dimensions, :class:`_RatioModel`); otherwise the simplicial bound on
    :math:`\\Delta_M` (:class:`_SimplexModel`)."""
    c = duals[1] @ prob.ps
    cells0 = prob.ratio_cells()
    if cells0 is not None and c.min() > 1e-12 * max(float(c.max()), 1e-300):
        model = _RatioModel(prob, duals, c)
        rho, u, best, n, hit = _branch_and_bound(
            model, cells0, model.start(cells0), tol, max_cells, stop_early=stop_early
        )
        return _Pricing(min(rho, 0.0), rho, u, best, best < -tol, n, hit)
    M = prob.M
    delta = tol / M
    model = _SimplexModel(prob, duals)
    rho, u, best, n, hit = _branch_and_bound(
        model, np.eye(M)[None], np.zeros((1, 0)), delta, max_cells, stop_early=stop_early
    )
    return _Pricing(M * min(rho, 0.0), rho, u, best, best < -delta, n, hit)


class _SimplexModel:
    r"""Cells are simplices of :math:`\Delta_M`; ``r`` = concave part + convex part + linear
    is bounded below on a cell by the concave function (concave part + tangent plane of
    the convex part at the centroid + linear), whose minimum over the cell is at a vertex.
    The certificate subtracts ``M min(rho, 0)`` (:math:`\mu(\Delta_M) = M`)."""

    def __init__(self, prob: _Problem, duals):
        self.prob, self.duals = prob, duals

    def bound(self, cells: np.ndarray, state: np.ndarray):
        prob, duals, M = self.prob, self.duals, self.prob.M
        K = cells.shape[0]
        C = cells.mean(axis=1)  # centroids (interior points)
        verts = cells.reshape(-1, M)
        conc, gC, grad = prob.concave_and_grad(verts, C, duals)
        tang = gC[:, None] + np.einsum("kvM,kM->kv", cells - C[:, None, :], grad)
        lb = (conc.reshape(K, M) + tang).min(axis=1)
        pts = np.vstack([C, verts])
        return lb, pts, prob.reduced(pts, duals), state


class _RatioModel:
    r"""The pricing problem in the space of likelihood ratios (``m - 1`` dimensions).

    Normalize columns by :math:`p_1 u = 1` instead of :math:`\sum_i u_i = 1`: since
    :math:`r(u) \ge \rho'\,p_1u` for all :math:`u \ge 0` when :math:`\rho' = \min\{r(u):
    u\ge0, p_1u=1\}`, and :math:`\int p_1u\,d\mu = p_1\mathbf 1 = 1`, the certificate is
    :math:`\tau \le \sum_k\kappa_k\epsilon_k - \sum_iy_i - \rho'`. With :math:`a_k = p_ku`
    (:math:`a_1 = 1`) and :math:`c = \sum_k\kappa_kp_k`,

    .. math:: r(u) = \Psi(a) + \sum_i c_iu_i\ln u_i - y\cdot u,\qquad
              \Psi(a) = -\sum_{k\ge2}(\nu_k+\kappa_k)\,a_k\ln a_k

    (KL; Rényi: :math:`\Psi = -\nu(1-a_2^\alpha) - \kappa_2a_2\ln a_2`), :math:`\Psi`
    concave. So :math:`\rho' = \min_a \Psi(a) + \phi(a)` over the polytope spanned by the
    ratio points :math:`(p_{ki}/p_{1i})_{k\ge2}`, where :math:`\phi(a) = \min\{\sum_i
    c_iu_i\ln u_i - y\cdot u : u\ge0, Pu = (1, a)\}` is convex, and by weak duality, for
    *every* :math:`z \in \mathbb R^m`,

    .. math:: \phi(a) \ge z\cdot(1, a) - \sum_i c_i\exp\big((y_i + (P^Tz)_i)/c_i - 1\big),

    an affine minorant (exact when :math:`z` is the dual optimum at :math:`a`). On a
    simplex of the ratio space :math:`\Psi` is at least its interpolant at the vertices,
    so the cell bound is the minimum over the vertices of :math:`\Psi` + the minorant, with
    :math:`z` from Newton steps on the dual at the cell's centroid (warm-started from the
    parent cell). Whatever :math:`z` the steps reach, the bound is valid; the minimizer
    :math:`u(z)` of the dual is a column whose reduced cost is evaluated exactly."""

    def __init__(self, prob: _Problem, duals, c: np.ndarray):
        self.prob, self.duals, self.c = prob, duals, c
        self.y = duals[2]

    def _psi(self, a: np.ndarray) -> np.ndarray:
        nu, kappa, _ = self.duals
        if self.prob.utility == "kl":
            return -(xlogy(a, a) @ (nu + kappa[1:]))
        al = self.prob.alpha
        return -nu[0] * (1.0 - a[..., 0] ** al) - kappa[1] * xlogy(a[..., 0], a[..., 0])

    def _dual(self, z: np.ndarray, A0: np.ndarray):
        """u(z) (K, M), h(z) = -sum c u and the dual value z.A0 + h."""
        with np.errstate(over="ignore", invalid="ignore"):
            u = np.exp((self.y + z @ self.prob.ps) / self.c - 1.0)
            h = -(u @ self.c)
            D = np.einsum("km,km->k", z, A0) + h
        return u, h, np.where(np.isfinite(D), D, -np.inf)

    def start(self, cells: np.ndarray) -> np.ndarray:
        """Initial dual points: exponents of a uniform column (least squares in z)."""
        P, c, y = self.prob.ps, self.c, self.y
        target = c * (1.0 + math.log(1.0 / self.prob.M)) - y
        z = np.linalg.lstsq(P.T, target, rcond=None)[0]
        return np.repeat(z[None], cells.shape[0], axis=0)

    def _newton(self, z: np.ndarray, A0: np.ndarray, steps: int):
        P, c = self.prob.ps, self.c
        m = P.shape[0]
        u, h, D = self._dual(z, A0)
        ts = 0.5 ** np.arange(8)
        for _ in range(steps):
            g = A0 - u @ P.T
            H = np.einsum("mi,ki,ni->kmn", P, u / c, P)
            H = H + 1e-14 * np.trace(H, axis1=1, axis2=2)[:, None, None] * np.eye(m)
            with np.errstate(all="ignore"):
                step = np.linalg.solve(H, g[..., None])[..., 0]
            step = np.where(np.isfinite(step), step, 0.0)
            Zc = z[None] + ts[:, None, None] * step[None]  # (T, K, m)
            uc, hc, Dc = self._dual(Zc.reshape(-1, m), np.tile(A0, (ts.size, 1)))
            Dc = Dc.reshape(ts.size, -1)
            j = np.argmax(Dc, axis=0)
            k = np.arange(z.shape[0])
            better = Dc[j, k] > D
            if not better.any():
                break
            sel = j * z.shape[0] + k
            z = np.where(better[:, None], Zc[j, k], z)
            u = np.where(better[:, None], uc[sel], u)
            h = np.where(better, hc[sel], h)
            D = np.where(better, Dc[j, k], D)
        return z, u, h

    def bound(self, cells: np.ndarray, z: np.ndarray):
        prob = self.prob
        a0 = cells.mean(axis=1)
        A0 = np.hstack([np.ones((a0.shape[0], 1)), a0])
        z, u, h = self._newton(z, A0, 6)
        # Psi at the vertices + the affine minorant of phi from z, at the vertices
        tang = z[:, None, 0] + np.einsum("kvd,kd->kv", cells, z[:, 1:]) + h[:, None]
        lb = (self._psi(cells) + tang).min(axis=1)
        lb = np.where(np.isnan(lb), -np.inf, lb)
        ok = np.all(np.isfinite(u), axis=1) & (u.sum(axis=1) > 0)
        U = u[ok] / u[ok].sum(axis=1, keepdims=True)
        vals = prob.reduced(U, self.duals) / (U @ prob.ps[0]) if U.size else np.zeros(0)
        return lb, U, vals, z


def _branch_and_bound(model, cells0, state0, delta: float, max_cells: int, *, stop_early: bool):
    """Best-first branch and bound for min r: returns (rho, argmin, value, cells, hit).

    Cells whose bound is >= -delta are set aside (their bound enters ``rho``); the search
    stops as soon as a point with r < -delta is found (``stop_early``: ``rho`` is then only
    the current bound) or no cell is left below -delta: ``rho`` = the smallest bound of all
    leaves, a certified lower bound on min r. ``hit``: the limit that stopped it first
    (``"max_cells"``, ``"max_time"``) or ``""``."""
    heap: list = []
    counter = itertools.count()
    best_u, best = None, math.inf
    settled = math.inf  # smallest bound among the cells set aside

    def push(cells: np.ndarray, states: np.ndarray):
        nonlocal best, best_u, settled
        lb, pts, val, states = model.bound(cells, states)
        if val.size:
            i = int(np.nanargmin(np.where(np.isnan(val), np.inf, val)))
            if val[i] < best:
                best, best_u = float(val[i]), pts[i]
        thr = -delta if (stop_early or best >= -delta) else best - delta
        low = lb < thr
        if (~low).any():
            settled = min(settled, float(lb[~low].min()))
        for c, s, bnd in zip(cells[low], states[low], lb[low], strict=True):
            heapq.heappush(heap, (float(bnd), next(counter), c, s))

    push(cells0, state0)
    n = cells0.shape[0]
    hit = ""
    clock = _clock()
    while heap and (best >= -delta or not stop_early):
        if n >= max_cells or clock.up():
            hit = "max_cells" if n >= max_cells else "max_time"
            break
        thr = -delta if (stop_early or best >= -delta) else best - delta
        batch, bstates = [], []
        while heap and len(batch) < 256:
            bnd, _, cell, st = heapq.heappop(heap)
            if bnd >= thr:  # settled by a better incumbent found meanwhile
                settled = min(settled, bnd)
                continue
            batch.append(cell)
            bstates.append(st)
        if not batch:
            break
        kids, kstates = [], []
        for V, st in zip(batch, bstates, strict=True):  # split the longest edge (a loop
            d = ((V[:, None, :] - V[None, :, :]) ** 2).sum(axis=2)  # over cells)
            a, b = np.unravel_index(int(np.argmax(d)), d.shape)
            mid = 0.5 * (V[a] + V[b])
            A_, B_ = V.copy(), V.copy()
            A_[a], B_[b] = mid, mid
            kids += [A_, B_]
            kstates += [st, st]
        push(np.asarray(kids), np.asarray(kstates))
        n += len(kids)
    rho = min([h[0] for h in heap] + [settled, best])
    if best_u is None:
        best_u = np.full(model.prob.M, 1.0 / model.prob.M)
    return rho, best_u, best, n, hit


def _mechanism(master: _Master, s: np.ndarray) -> np.ndarray:
    keep = s > 1e-14 * max(float(s.max()), 1.0)
    cols = master.U[keep] * s[keep, None]  # (N, M)
    # merge columns that are the same direction
    order = np.lexsort(np.round(master.U[keep], 12).T[::-1])
    merged: list[np.ndarray] = []
    last = None
    for i in order:
        key = tuple(np.round(master.U[keep][i], 12))
        if merged and key == last:
            merged[-1] = merged[-1] + cols[i]
        else:
            merged.append(cols[i].copy())
            last = key
    W = np.array(merged).T
    return W / W.sum(axis=1, keepdims=True)


def _repair(ps: np.ndarray, W: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, float]:
    """Mix with the perfect-privacy mechanism 1 (p_1 W) if rounding put a leakage above
    its budget (I is convex in W, so (1-t) W + t 1 w leaks at most (1-t) I)."""
    leaks = np.array([mi_nats(p, W) for p in ps])
    over = leaks > e
    if not over.any():
        return W, 0.0
    t = float(np.max(1 - e[over] / leaks[over]))
    t = min(1.0, t * (1 + 1e-9) + 1e-16)
    w = ps[0] @ W
    return (1 - t) * W + t * w[None, :], t


@_under_clock
def optimal_mechanism(
    ps: ArrayLike,
    eps: ArrayLike,
    n_outputs: int | None = None,
    *,
    utility: str = "kl",
    alpha: float | None = None,
    rtol: float = 1e-8,
    max_iter: int = 200,
    max_cells: int = 400_000,
    max_refine: int = 20,
    start: ArrayLike | None = None,
    base: float = 2,
    max_time: float | None = None,
) -> HypothesisDesign:
    r"""The certified optimum of the original problem (2) (``utility="kl"``) or (32)
    (``"renyi"``, binary hypotheses) over mechanisms with any number of outputs.

    Column generation with a HiGHS master LP and a certified branch-and-bound pricing
    step (module docstring). The result's ``utility`` is the exact utility of the
    returned mechanism, ``upper_bound`` a certified upper bound on the optimum over
    *every* mechanism; the loop stops when ``upper_bound - utility <= rtol *
    upper_bound`` (or at ``max_iter`` / ``max_cells``, reporting the gap reached).

    Parameters
    ----------
    ps : array_like, shape (m, M)
        Row k is :math:`p_k`; :math:`p_1` needs full support (a letter impossible under
        :math:`H_1` could be published as is: the exponent would be infinite).
    eps : float or array_like, shape (m,)
        Budgets on :math:`I(p_k, W)`, units of ``log_base``.
    n_outputs : int, optional
        If the optimum found has more output letters than this, it is reduced to
        ``n_outputs`` columns by merging outputs greedily (the pair whose merge keeps
        the utility highest; a merge never raises a leakage), then polished locally
        (SLSQP); the certified bound over all mechanisms still holds, and the gap says
        how far the reduced mechanism is from it (often nowhere: the column
        generation's optimum tends to split outputs into near-copies). Fewer are padded
        with zero columns. Without ``n_outputs`` the returned optimum is reduced the
        same way to the fewest outputs that keep its utility within ``rtol / 10``.
    utility, alpha
        ``"kl"``: :math:`\min_{k\ge2} D(p_kW\|p_1W)`; ``"renyi"``:
        :math:`D_\alpha(p_2W\|p_1W)`, ``alpha`` in (0, 1), m = 2.
    rtol : float
        Relative certified gap to reach.
    max_iter, max_cells, max_refine : int
        Limits: column-generation iterations, cells of each branch and bound, and rounds
        of the final refinement that drives the certificate (optimality-condition
        multipliers priced exactly, the best column polished in) until the gap is met.
    start : array_like, optional
        A mechanism (M×N) within the budgets, e.g. an E-IT design: returned instead if the
        column generation ends below it (the certified bound holds either way).
    max_time : float, optional
        Wall-clock budget in seconds (default: none). Once spent, every stage stops where
        it is (column generation, branch and bound, local searches, refinement) and the
        best mechanism is returned with the bound proved so far: ``NOT_CERTIFIED`` unless
        the gap already met ``rtol``. The budget is checked between steps, so a call
        can overrun it by one step (one LP solve or one branch-and-bound batch).

    Returns
    -------
    HypothesisDesign
        ``details["certified"]`` (gap ``<= rtol * upper_bound``), ``details["status"]``
        (:class:`~leakage.results.Status`: ``OPTIMAL``; ``ITERATION_LIMIT`` when
        ``max_iter`` stopped it; ``NOT_CERTIFIED`` when ``max_time``, ``max_cells``,
        ``max_refine``, ``n_outputs`` or a stall left the gap above ``rtol``),
        ``details["limits"]`` (the limits that stopped it), the iterations, refinements,
        cells and seconds used.
        ``utility`` and ``upper_bound`` are proved whatever the status.

    Warns
    -----
    ConvergenceWarning
        Whenever the returned gap is above ``rtol``: the message gives the relative gap
        and names the limit(s) that stopped the solver (the bound and the mechanism are
        still valid).
    """
    fn = "optimal_mechanism"
    b = check_base(base, func=fn)
    P = as_hypotheses(ps, func=fn)
    if P[0].min() <= 0:
        i = int(np.argmin(P[0]))
        raise InvalidDistributionError(
            f"{fn}: p_1 must have full support; p_1[{i}] = 0 while another hypothesis may "
            "produce that letter, so publishing it as is gives an infinite exponent at "
            "finite leakage. Remove the letter or treat it apart."
        )
    m, M = P.shape
    epsv = as_budgets(eps, m, func=fn)
    kind, a_ren = check_utility(utility, alpha, m, func=fn)
    check_positive(rtol, func=fn, name="rtol")
    check_positive(max_iter, func=fn, name="max_iter", integer=True)
    check_positive(max_cells, func=fn, name="max_cells", integer=True)
    if max_refine != 0:
        check_positive(max_refine, func=fn, name="max_refine", integer=True)
    if n_outputs is not None:
        n_outputs = int(check_positive(n_outputs, func=fn, name="n_outputs", integer=True))
    e = to_nats(epsv, b)
    zero = [k for k in range(m) if e[k] == 0 and P[k].min() > 0]
    if zero:  # Lemma 1: I(p_k, W) = 0 with p_k > 0 forces equal rows, so utility 0
        W = np.ones((M, n_outputs or 1)) / (n_outputs or 1)
        u, ex, leaks = figures(P, W, kind, a_ren, b)
        return HypothesisDesign(
            mechanism=W,
            utility=u,
            utility_approx=math.nan,
            upper_bound=0.0,
            exponents=ex,
            leakages=leaks,
            budgets=epsv,
            utility_kind=kind,
            alpha=a_ren,
            method=f"perfect privacy (eps_{zero[0] + 1} = 0 forces equal rows, Lemma 1)",
            base=b,
            details=dict(certified=True),
        )
    prob = _Problem(P, e, kind, a_ren)
    master = _Master(prob)
    master.add(np.vstack([_lattice(M, 12 if M <= 3 else 4), np.full((1, M), 1.0 / M)]))
    W_start = None
    if start is not None:
        W_start = check_mechanism(start, M, func=fn)
        if np.any(np.array([mi_nats(p, W_start) for p in P]) > e * (1 + 1e-12)):
            raise InvalidParameterError(f"{fn}: 'start' leaks more than the budgets allow.")
    t0 = time.perf_counter()
    cells_total, it, stall, prev, futile = 0, 0, 0, -math.inf, 0
    rho, pen, done, hits = -math.inf, math.inf, False, set()
    clock = _clock()
    for it in range(1, max_iter + 1):
        s, duals, lp = master.solve()
        _, kappa, y = duals
        dual_obj = float(kappa @ e - y.sum())
        if it > 1 and clock.up(_CG_SHARE):  # the rest of max_time: certify what it has
            hits.add("max_time")
            break
        tol = rtol * max(abs(dual_obj), 1e-300) / 4  # the certificate may lose this
        moved = lp > prev + 1e-13 * max(abs(lp), 1e-300)
        stall = 0 if moved else stall + 1
        futile = 0 if moved else futile
        prev = max(prev, lp)
        good: list = []
        if stall < 2:  # cheap pricing: local minima from the columns of least reduced cost
            rc = prob.reduced(master.U, duals)
            new = [_local_min(prob, duals, u) for u in master.U[np.argsort(rc)[:6]]]
            vals = prob.reduced(np.array(new), duals)
            good = [u for u, v in zip(new, vals, strict=True) if v < -tol / M]
        if not good:  # certified pricing: the global minimum of the reduced cost
            pr = _certify(prob, duals, tol, max_cells, stop_early=True)
            cells_total += pr.cells
            if not pr.improving:  # proved (or, if max_cells stopped it, bounded)
                rho, pen, done = pr.rho, pr.pen, True
                if pr.hit:
                    hits.add(pr.hit)
                break
            futile += 1
            if futile > 3:  # the LP cannot use what the pricing finds (its tolerances):
                break  # _drive takes over
            good = [pr.u, _local_min(prob, duals, pr.u)]
        master.add(np.array(good))
        if M <= _POLISH_MAX_LETTERS:  # a local polish of the support speeds it up where
            pol = _directions(_polish_support(prob, master.U[: s.size], s))  # it is cheap
            if pol.size:
                master.add(pol)
    else:
        hits.add("max_iter")
        s, duals, lp = master.solve()
        _, kappa, y = duals
        dual_obj = float(kappa @ e - y.sum())
    if not done:
        tol = rtol * max(abs(dual_obj), 1e-300) / 4
        pr = _certify(prob, duals, tol, max_cells, stop_early=False)
        cells_total += pr.cells
        rho, pen = pr.rho, pr.pen
        if pr.hit:
            hits.add(pr.hit)
    W, mix = _repair(P, _mechanism(master, s), e)
    # the polished support is usually more accurate than the LP's solution
    C = _polish_support(prob, master.U[: s.size], s)
    if C.size:
        Cp, mix_p = _repair(P, C / C.sum(axis=1, keepdims=True), e)
        if float(prob.values(Cp).min()) > float(prob.values(W).min()):
            W, mix = Cp, mix_p
    if W_start is not None and float(prob.values(W_start).min()) > float(prob.values(W).min()):
        W, mix = W_start, 0.0
    # the certificate: tau <= sum kappa e - sum y - pen for every mechanism (``pen`` from
    # the pricing's proved bound rho), from the LP's multipliers, then driven by the
    # optimality conditions at W (``_drive``)
    W, mix, tau_ub, rho, cells, refinements, drive_hits = _drive(
        prob,
        W,
        mix,
        dual_obj - pen,
        rho,
        rtol=rtol,
        max_cells=max_cells,
        max_refine=max_refine,
    )
    cells_total += cells
    hits |= drive_hits
    if kind == "kl":
        ub_nats = tau_ub
    else:  # tau = 1 - S, D_alpha = ln(S) / (alpha - 1)
        ub_nats = math.log1p(-tau_ub) / (a_ren - 1) if tau_ub < 1 else math.inf
    method = "column generation (HiGHS) + certified branch and bound"
    full = float(prob.values(W).min())
    solved = bool(tau_ub - full <= rtol * abs(tau_ub))
    if n_outputs is None and 2 < W.shape[1]:
        # the LP's basic solution may split an output in two (or into near-copies); keep
        # the fewest outputs that reach the same utility (within rtol / 10, and the
        # certified gap kept): first by merging outputs (no leakage can rise), then, for
        # small mechanisms only (one SLSQP per output count), by a local polish
        floor = full - 0.1 * rtol * abs(full)
        if solved:
            floor = max(floor, tau_ub - rtol * abs(tau_ub))
        K = W.shape[1]
        for Wn, v in reversed(_merge_path(prob, W, 2)):
            if v >= floor:
                Wn = _repair(P, Wn, e)[0]
                if Wn.shape[1] < K and float(prob.values(Wn).min()) >= floor:
                    W = Wn
                    method += f"; {W.shape[1]} outputs suffice (outputs merged)"
                break
        for N in range(2, W.shape[1]) if M * W.shape[1] <= _REDUCE_MAX_ENTRIES else ():
            Wn = _polish_fixed(P, W, e, N, kind, a_ren)
            if float(prob.values(Wn).min()) >= floor:
                W = Wn
                method += f"; {N} outputs suffice (local polish of the optimum)"
                break
    if n_outputs is not None and W.shape[1] > n_outputs:
        W = _polish_fixed(P, W, e, n_outputs, kind, a_ren)
        method += f", then a local polish to {n_outputs} outputs"
    elif n_outputs is not None and W.shape[1] < n_outputs:
        W = np.hstack([W, np.zeros((M, n_outputs - W.shape[1]))])
    u, ex, leaks = figures(P, W, kind, a_ren, b)
    ub = float(from_nats(ub_nats, b))
    if u > ub + 1e-9 * abs(ub) + 1e-15:  # weak duality forbids it: never report it
        raise SolverError(
            f"{fn}: internal error: the certified bound {ub!r} lies below the utility {u!r} "
            "of a feasible mechanism; please report this instance."
        )
    value = max(ub, u)  # equal up to rounding here
    certified = bool(value - u <= rtol * abs(value))
    limits: list[str] = []
    if certified:
        status = Status.OPTIMAL
    else:
        if not solved:
            limits = sorted(hits) or ["stall"]
        else:  # the certified optimum needs more outputs than n_outputs allows
            limits = ["n_outputs"]
        status = Status.ITERATION_LIMIT if "max_iter" in limits else Status.NOT_CERTIFIED
        _warn_not_certified(
            fn,
            gap=value - u,
            rel=(value - u) / abs(value) if value else math.inf,
            rtol=rtol,
            limits=limits,
            values=dict(
                max_iter=max_iter,
                max_cells=max_cells,
                max_refine=max_refine,
                n_outputs=n_outputs,
                max_time=max_time,
            ),
            counts=(it, refinements, cells_total),
            base=b,
        )
    return HypothesisDesign(
        mechanism=W,
        utility=u,
        utility_approx=math.nan,
        upper_bound=value,
        exponents=ex,
        leakages=leaks,
        budgets=epsv,
        utility_kind=kind,
        alpha=a_ren,
        method=method,
        base=b,
        details=dict(
            certified=certified,
            status=status,
            limits=limits,
            iterations=it,
            refinements=refinements,
            columns=int(master.U.shape[0]),
            cells=cells_total,
            rho_nats=rho,
            lp_value_nats=lp,
            mixing=mix,
            seconds=time.perf_counter() - t0,
        ),
    )


_LIMIT_TEXT = {
    "max_cells": "max_cells = {max_cells} (a certified pricing ran out of cells)",
    "max_iter": "max_iter = {max_iter} (column-generation iterations)",
    "max_refine": "max_refine = {max_refine} (refinements of the certificate)",
    "max_time": "max_time = {max_time:g} s (wall-clock time)",
    "n_outputs": (
        "n_outputs = {n_outputs} (the certified optimum needs more outputs; the bound is "
        "over every mechanism)"
    ),
    "stall": (
        "a stall (neither the master LP nor the local polish improves the mechanism or "
        "its multipliers further)"
    ),
}


def _warn_not_certified(fn, *, gap, rel, rtol, limits, values, counts, base) -> None:
    """The ConvergenceWarning of a result whose certified gap is above ``rtol``."""
    why = " and ".join(_LIMIT_TEXT[k].format(**values) for k in limits)
    it, refinements, cells = counts
    fix = " or ".join(k for k in limits if k != "stall")
    warnings.warn(
        f"{fn}: not certified: the certified relative gap {rel:.3g} (upper_bound - utility "
        f"= {gap:.3g}, log base {base:g}) is above rtol = {rtol:g}; stopped by {why} "
        f"after {it} iterations, {refinements} refinements and {cells} cells. The optimum "
        f"lies in [utility, upper_bound]. Raise {fix or 'the limits'} or rtol.",
        ConvergenceWarning,
        stacklevel=3,
    )


def _merge_path(prob: _Problem, W: np.ndarray, N: int = 1) -> list[tuple[np.ndarray, float]]:
    """Greedy merging of outputs: from ``W``'s nonzero columns down to ``N`` outputs, each
    step merging the pair of outputs whose merge keeps the utility highest. Returns
    ``[(mechanism, utility row minimum)]`` for K, K - 1, ..., N outputs.

    Merging two outputs is a garbling of Y, so no leakage budget can break (data
    processing); the utility rows are sums over outputs of functions positively
    homogeneous in the column (module docstring), so a merge changes only the two terms
    of the merged columns, and all pairs are scored at once."""
    C = W[:, W.sum(axis=0) > 0]
    obj = prob.parts(C.T)[0]  # (K, r): each output's share of every utility row
    tot = obj.sum(axis=0)
    path = [(C, float(prob.values(C).min()))]
    while C.shape[1] > max(N, 1):
        i, j = np.triu_indices(C.shape[1], 1)
        merged = prob.parts((C[:, i] + C[:, j]).T)[0]  # (pairs, r)
        score = (tot - obj[i] - obj[j] + merged).min(axis=1)
        b = int(np.argmax(score))
        a, c = int(i[b]), int(j[b])
        keep = [k for k in range(C.shape[1]) if k not in (a, c)]
        C = np.column_stack([C[:, keep], C[:, a] + C[:, c]])
        obj = np.vstack([obj[keep], merged[b]])
        tot = obj.sum(axis=0)
        C = C / C.sum(axis=1, keepdims=True)  # exact row sums (a merge can round them)
        path.append((C, float(prob.values(C).min())))
    return path


def _polish_fixed(P, W, e, N, kind, alpha):
    """Best mechanism with N outputs near ``W``: outputs merged greedily down to N
    (:func:`_merge_path`), then SLSQP on (2)/(32) with W of shape (M, N); the better of
    the two. A merge can only lower the leakages, so both are feasible."""
    prob = _Problem(P, e, kind, alpha)
    W0, _ = _repair(P, _merge_path(prob, W, N)[-1][0], e)
    if W0.shape[1] < N:
        W0 = np.hstack([W0, np.zeros((W0.shape[0], N - W0.shape[1]))])
    W1, _ = _repair(P, _slsqp(prob, W0, maxiter=500), e)
    return W1 if prob.values(W1).min() >= prob.values(W0).min() else W0
