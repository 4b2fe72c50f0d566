r"""Branch and bound for problem (5) of paper 001 (point-wise ℓ1 budgets).

In the joint :math:`Q(y,u) = P_Y(y)P(u|y)` (see :mod:`.exact`) the problem is to maximize
:math:`F(Q) = \sum_u f(q_u)`, :math:`f(q) = \sum_y q_y \ln\frac{q_y}{P_Y(y)\,\mathbf 1^\top q}`
(convex), over :math:`q_u \in C_u` (letter ``u``'s budget cone, rows ``G_u q >= 0``) and
:math:`\sum_u q_u = P_Y`. Every column also satisfies :math:`0 \le q_u \le P_Y`.

**Nodes.** A node gives each letter a box, on one of two kinds of regions:

* *joint columns* (``directions=False``): :math:`l_u \le q_u \le h_u` (root ``[0, P_Y]``),
  region :math:`B_u = C_u \cap [l_u, h_u]`;
* *directions* (``directions=True``): :math:`l_u \le p_u \le h_u` on the direction
  :math:`p_u = q_u / \mathbf 1^\top q_u` (root ``[0, 1]``), region :math:`R_u =
  \{p : G_u p \ge 0, \mathbf 1^\top p = 1, l_u \le p \le h_u\}`. Since
  :math:`f(q) = t\,D(p \| P_Y)` (:math:`t = \mathbf 1^\top q`) is linear along rays, the
  letters' masses are left to the LP: only directions are branched on.

The vertex set :math:`W_u` of a region is enumerated, vectorized (a vertex has
``k <= rank`` cone rows tight, on directions also the simplex row, and the other
coordinates at a box bound); a child's vertices are its parent's on the kept side plus the
candidates with the cut coordinate fixed at the cut.

**Bound.** ``f`` is convex, so on a region it lies below its values at the vertices. The
linear program

.. math:: \max_{a \ge 0} \sum_{u,j} a_{uj} f(w_{uj}) \quad\text{s.t.}\quad
          \sum_{u,j} a_{uj} w_{uj} = P_Y

(joint columns: also :math:`\sum_j a_{uj} = 1` for every ``u``; directions: the weights
are the masses, their total is :math:`\mathbf 1^\top P_Y`, and a letter with an empty
region is unused) bounds ``F`` on the node. The bound is re-derived from the LP's duals,
independently of the solver's claim: for any :math:`\mu` (and :math:`\nu \ge 0` on the
symmetry rows ``S``), with :math:`r_{uj} = f(w_{uj}) - \mu^\top w_{uj} - (S^\top\nu)_{uj}`,

.. math:: F \le \mu^\top P_Y + \sum_u \max_j r_{uj} \;\text{(joint columns)}, \qquad
          F \le \mu^\top P_Y + \mathbf 1^\top P_Y \max_{u,j} r_{uj} \;\text{(directions)}.

A node whose LP fails (twice: at tight, then default tolerances) takes the bound of its
parent's duals (at most the parent's bound: ``r`` is convex and the child's vertices lie
in the parent region) and is split at the midpoint of its widest box edge.

**Incumbent.** The LP's point :math:`q_u = \sum_j a_{uj} w_{uj}` is feasible; it is
improved by LP ascent steps over the whole polytope (``F`` is convex: each step is no
worse), and its utility is evaluated exactly.

**Branching.** On the letter with the largest slack :math:`\sum_j a_{uj} f(w_{uj}) -
f(q_u)`, on the coordinate where its vertices' weighted spread is largest, at the
incumbent's direction when it is inside the edge (directions: the incumbent becomes a
vertex of the regions around it), else at the LP point, else at the midpoint: two
children with the box halves. Best-first; the search ends when the largest open bound is
within ``gap_tol`` of the incumbent.

**Symmetry.** Letters with equal budgets are interchangeable, so an order among them keeps
an optimum (a symmetry cut). On joint columns their masses :math:`P_U(u)` are ordered (LP
rows). On directions, letters ``g[0], g[1], ...`` of a group are ordered on one coordinate
:math:`y_0` of their directions, :math:`p_{g[0]}(y_0) \le p_{g[1]}(y_0) \le \dots`
(:math:`y_0`: where the root incumbent's directions differ most); not as LP rows (with
them HiGHS stopped with status "unknown" on many nodes) but in the branching: a cut on
:math:`y_0` also bounds the letters after (lower bound) or before (upper bound) in the
group, and a child where the order cannot hold (an empty box edge, or an empty region of
such a letter) is discarded.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import math
import time

import numpy as np
from scipy.optimize import linprog

from .._highs import silent_highs

_HIGHS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}
_TOL = 1e-12


def f_cols(V: np.ndarray, p_y: np.ndarray) -> np.ndarray:
    """f of every column of V (nats), 0 log 0 = 0."""
    t = V.sum(axis=0, keepdims=True)
    denom = p_y[:, None] * t
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(V > 0, V * np.log(V / np.where(denom > 0, denom, 1.0)), 0.0)
    return terms.sum(axis=0)


def n_vertex_candidates(n_rows: int, rank: int, n: int, simplex: bool = False) -> int:
    """Candidate points the vertex enumeration of one region examines (``k <= rank`` tight
    cone rows, with ``simplex`` also the equality ``1'p = 1``, as many free coordinates as
    tight rows, the others at a box bound)."""
    e = int(simplex)
    return sum(
        math.comb(n_rows, k) * math.comb(n, k + e) * 2 ** (n - k - e)
        for k in range(min(rank, n - e) + 1)
    )


class BoxVertices:
    """Vertices of :math:`\\{p : S p \\ge 0, l \\le p \\le h\\}` (with ``simplex`` also
    :math:`\\mathbf 1^\\top p = 1`) for fixed rows S and any box: the linear algebra (which
    rows are tight, which coordinates are free) is done once."""

    def __init__(self, S: np.ndarray, n: int, simplex: bool = False):
        self.S = S
        e = int(simplex)  # equality rows (right-hand side 1), always tight
        E = np.ones((e, n))
        # at most rank([S; E]) - e cone rows are independently tight
        rank = int(np.linalg.matrix_rank(np.vstack([S, E]))) - e if len(S) else 0
        self.parts = []
        for k in range(min(rank, n - e) + 1):
            m = n - k - e  # coordinates at a box bound
            pats = np.array(list(itertools.product((False, True), repeat=m)), dtype=bool)
            pats = pats.reshape(2**m, m)
            Ts = np.array(list(itertools.combinations(range(len(S)), k)), dtype=int)
            Ts = Ts if k else np.zeros((1, 0), dtype=int)
            Fs = np.array(list(itertools.combinations(range(n), k + e)), dtype=int)
            Fs = Fs if k + e else np.zeros((1, 0), dtype=int)
            ti, fi = np.meshgrid(np.arange(len(Ts)), np.arange(len(Fs)), indexing="ij")
            T, F = Ts[ti.ravel()], Fs[fi.ravel()]
            N = len(T)
            free = np.zeros((N, n), dtype=bool)
            free[np.arange(N)[:, None], F] = True
            fixed = np.argsort(free, axis=1, kind="stable")[:, :m]  # the m fixed coordinates
            # tight rows: the k cone rows and the equality (right-hand sides 0 and 1)
            d = k + e
            ST = np.concatenate([S[T], np.broadcast_to(E, (N, e, n))], axis=1)  # N x d x n
            if d:
                M = np.take_along_axis(ST, np.broadcast_to(F[:, None, :], (N, d, d)), 2)
                s = np.linalg.svd(M, compute_uv=False)
                good = s[:, -1] > 1e-9 * np.maximum(s[:, 0], 1e-300)
                ST, M, F, fixed = ST[good], M[good], F[good], fixed[good]
                # x_F = M^{-1} (rhs - S_T[:, fixed] b) = c - R b
                idx = np.broadcast_to(fixed[:, None, :], (len(M), d, m))
                R = np.linalg.solve(M, np.take_along_axis(ST, idx, 2))
                rhs = np.zeros((len(M), d, 1))
                rhs[:, k:] = 1.0
                c = np.linalg.solve(M, rhs)
            else:
                R, c = np.zeros((1, 0, m)), np.zeros((1, 0, 1))
            # per coordinate y, per position j in the fixed list: the candidates with y
            # fixed there (for the vertices a new bound on y creates)
            at = [[np.flatnonzero(fixed[:, j] == y) for j in range(m)] for y in range(n)]
            self.parts.append((pats, F, fixed, R, c[..., 0], at))

    def __call__(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """The vertices (rows) of the region with box [lo, hi]; empty if it is empty."""
        out = []
        for pats, F, fixed, R, c, _ in self.parts:
            out.append(self._candidates(lo, hi, pats, F, fixed, R, c))
        return self._finish(out, lo, hi)

    def child(
        self, W: np.ndarray, lo: np.ndarray, hi: np.ndarray, y: int, upper: bool
    ) -> np.ndarray:
        """The vertices of the region with box [lo, hi], a child of the region with vertices
        ``W`` cut at ``hi[y]`` (``upper``) or ``lo[y]``: the parent's vertices on the kept
        side and the new vertices on the cut (the candidates with ``y`` fixed there)."""
        keep = W[W[:, y] <= hi[y] + _TOL] if upper else W[W[:, y] >= lo[y] - _TOL]
        out = [keep]
        for pats, F, fixed, R, c, at in self.parts:
            for j, rows in enumerate(at[y]):
                if len(rows):
                    sel = pats[:, j] == upper
                    out.append(
                        self._candidates(lo, hi, pats[sel], F[rows], fixed[rows], R[rows], c[rows])
                    )
        return self._finish(out, lo, hi)

    def _candidates(self, lo, hi, pats, F, fixed, R, c) -> np.ndarray:
        n = lo.shape[0]
        if len(fixed) == 0:
            return np.zeros((0, n))
        b = np.where(pats[None], hi[fixed][:, None, :], lo[fixed][:, None, :])  # N x P x m
        x = c[:, None, :] - np.einsum("tkm,tpm->tpk", R, b)  # N x P x (k+1)
        # keep the candidates whose free coordinates are inside the box before scattering
        ok = np.all((x >= lo[F][:, None, :] - _TOL) & (x <= hi[F][:, None, :] + _TOL), axis=2)
        ti, pi = np.nonzero(ok)
        Q = np.empty((len(ti), n))
        Q[np.arange(len(ti))[:, None], fixed[ti]] = b[ti, pi]
        Q[np.arange(len(ti))[:, None], F[ti]] = x[ti, pi]
        if len(self.S):
            Q = Q[np.all(Q @ self.S.T >= -1e-11, axis=1)]
        return Q

    @staticmethod
    def _finish(out: list[np.ndarray], lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        V = np.vstack(out)
        return np.unique(np.round(np.clip(V, lo, hi), 14), axis=0)


@dataclasses.dataclass
class BnbResult:
    Q: np.ndarray  # n_y x K joint (letters in the given order)
    value: float  # F(Q), nats
    upper: float  # certified upper bound, nats
    nodes: int
    limit: str | None  # which limit stopped the search (None: finished)
    seconds: float
    root_upper: float


class Search:
    """The data of one instance: per letter its cone rows and its vertex enumerator."""

    def __init__(
        self, p_y: np.ndarray, G: list[np.ndarray], groups: list[list[int]], directions: bool
    ):
        n = p_y.shape[0]
        self.p_y, self.n, self.K = p_y, n, len(G)
        self.directions = directions
        self.total = float(p_y.sum())
        cache: dict[int, BoxVertices] = {}
        self.verts = []
        for Gu in G:
            key = id(Gu)
            if key not in cache:
                # rows after the identity (q >= 0 is in the box)
                cache[key] = BoxVertices(Gu[n:], n, simplex=directions)
            self.verts.append(cache[key])
        # Letters with equal budgets are interchangeable: their masses are ordered (rows
        # t_v <= t_u). Not on direction regions: there these rows made HiGHS stop with
        # status "unknown" on many nodes of the |X| = 3, |Y| = 8 benchmark.
        self.sym = (
            [] if directions else [(g[i], g[i + 1]) for g in groups for i in range(len(g) - 1)]
        )
        # Direction regions: letters with equal budgets are ordered on one coordinate of
        # their directions instead (``split``; ``y0`` set by the search).
        self.order = (
            {u: (g, i) for g in groups if len(g) > 1 for i, u in enumerate(g)} if directions else {}
        )
        self.y0 = 0
        self._highs = None
        self.box0 = (np.zeros(n), np.ones(n) if directions else p_y.copy())
        K = self.K
        self.poly_ub = -np.vstack(
            [
                np.hstack([Gu if v == u else np.zeros_like(Gu) for v in range(K)])
                for u, Gu in enumerate(G)
            ]
        )
        self.poly_eq = np.hstack([np.eye(n)] * K)

    def split(self, boxes: list, regs: list, u: int, y: int, cut: float, upper: bool):
        """The child of a node with letter ``u``'s box cut at ``cut`` on coordinate ``y``
        (``upper``: the lower half, ``p_y <= cut``): its boxes and regions, or None when it
        holds no point meeting the symmetry order. On directions, letters ``g[0], g[1],
        ...`` of a group of equal budgets are ordered on coordinate ``self.y0``:
        :math:`p_{g[0]}(y_0) \\le p_{g[1]}(y_0) \\le \\dots` (every design has a
        permutation of its letters that meets it, unused letters taking a used letter's
        direction), so a cut on ``y0`` moves the bound of the letters after (lower bound) or
        before (upper bound) ``u`` in its group too."""
        boxes, regs = list(boxes), list(regs)
        todo = [(u, cut)]
        if self.order and y == self.y0 and u in self.order:
            g, i = self.order[u]
            todo += [(v, cut) for v in (g[:i] if upper else g[i + 1 :])]
        for v, c in todo:
            lo, hi = boxes[v]
            if (upper and hi[y] <= c) or (not upper and lo[y] >= c):
                continue  # already within the bound
            lo, hi = lo.copy(), hi.copy()
            if upper:
                hi[y] = c
            else:
                lo[y] = c
            if lo[y] > hi[y]:
                return None  # the order cannot hold in this node
            W = self.verts[v].child(regs[v][0], lo, hi, y, upper)
            if v != u and len(W) == 0:
                return None  # letter v has no direction meeting the order
            boxes[v], regs[v] = (lo, hi), (W, f_cols(W.T, self.p_y))
        return boxes, regs

    def region(self, u: int, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        W = self.verts[u](lo, hi)
        return W, f_cols(W.T, self.p_y)

    def solve(self, regs: list[tuple[np.ndarray, np.ndarray]], duals=None):
        """LP bound of a node: (certified bound, weights per letter, duals), or None if
        infeasible. When the LP fails, the bound is re-derived from ``duals`` (the parent's:
        a child's bound with them is at most the parent's), else from ``mu = nu = 0``.

        The weights ``a_uj >= 0`` of the vertices ``w_uj`` (directions) give the joint
        columns :math:`q_u = \\sum_j a_{uj} w_{uj}`; their total is :math:`1^\\top P_Y`."""
        if all(len(W) == 0 for W, _ in regs) or (
            not self.directions and any(len(W) == 0 for W, _ in regs)
        ):
            return None  # (on directions, a letter with an empty region is unused)
        K, n = self.K, self.n
        sizes = [len(W) for W, _ in regs]
        offs = np.concatenate([[0], np.cumsum(sizes)])
        cols = np.vstack([W for W, _ in regs]).T
        c = np.concatenate([fv for _, fv in regs])
        mass = cols.sum(axis=0)
        S = np.zeros((len(self.sym), cols.shape[1]))
        for k, (u, v) in enumerate(self.sym):  # masses ordered: t_v <= t_u
            S[k, offs[v] : offs[v + 1]] = mass[offs[v] : offs[v + 1]]
            S[k, offs[u] : offs[u + 1]] = -mass[offs[u] : offs[u + 1]]
        if self.directions:  # weights free: q_u = sum_j a_uj w_uj, total 1'P_Y
            A_eq, b_eq = cols, self.p_y
        else:  # convex weights per letter: q_u in conv(W_u)
            conv = np.zeros((K, cols.shape[1]))
            for u in range(K):
                conv[u, offs[u] : offs[u + 1]] = 1.0
            A_eq, b_eq = np.vstack([cols, conv]), np.concatenate([self.p_y, np.ones(K)])
        A = np.vstack([A_eq, S]) if len(S) else A_eq
        row_lo = np.concatenate([b_eq, np.full(len(S), -np.inf)])
        row_hi = np.concatenate([b_eq, np.zeros(len(S))])
        for tight in (True, False):  # near-infeasible nodes: retried at default tolerances
            status, x, dual = self.lp(-c, A, row_lo, row_hi, tight)
            if status in (0, 2):
                break
        if status == 2:
            return None
        if status == 0:
            mu = -dual[:n]
            nu = np.clip(-dual[len(b_eq) :], 0.0, None) if len(S) else None
        elif duals is not None:  # the parent's duals (still valid)
            mu, nu = duals
        else:  # no usable duals: the bound with mu = 0, nu = 0 (still valid)
            mu, nu = np.zeros(n), None
        red = c - cols.T @ mu
        if nu is not None and len(S):
            red = red - S.T @ nu
        if self.directions:  # any feasible a >= 0 has total weight 1'P_Y, and S a <= 0
            upper = float(mu @ self.p_y) + self.total * float(red.max())
        else:  # per letter, convex weights
            upper = float(mu @ self.p_y) + sum(
                float(red[offs[u] : offs[u + 1]].max()) for u in range(K) if sizes[u]
            )
        if status != 0:
            return upper, None, (mu, nu)
        lam = np.clip(x, 0.0, None)
        return upper, [lam[offs[u] : offs[u + 1]] for u in range(K)], (mu, nu)

    def lp(self, cost, A, row_lo, row_hi, tight: bool):
        """``min cost'x`` s.t. ``row_lo <= A x <= row_hi``, ``x >= 0``, by HiGHS (called
        directly: ``scipy.optimize.linprog`` costs ~2 ms more per call). Returns (0:
        optimal, 2: infeasible, 4: other; x; row duals in ``linprog``'s ``marginals``
        convention). The duals need not be exact: the bound is re-derived from them."""
        import highspy

        if self._highs is None:
            self._highs = silent_highs()
        h = self._highs
        for key, val in _HIGHS.items():
            h.setOptionValue(key, val if tight else 1e-7)
        m, nc = A.shape
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = nc, m
        lp.col_cost_ = np.ascontiguousarray(cost, dtype=float)
        lp.col_lower_, lp.col_upper_ = np.zeros(nc), np.full(nc, highspy.kHighsInf)
        lp.row_lower_ = np.where(np.isinf(row_lo), -highspy.kHighsInf, row_lo)
        lp.row_upper_ = np.where(np.isinf(row_hi), highspy.kHighsInf, row_hi)
        At = A.T  # column-wise storage: column j's nonzeros
        nz = At != 0
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.concatenate([[0], np.cumsum(nz.sum(axis=1))]).astype(np.int32)
        lp.a_matrix_.index_ = np.nonzero(nz)[1].astype(np.int32)
        lp.a_matrix_.value_ = At[nz]
        h.passModel(lp)
        h.run()
        st = h.getModelStatus()
        if st == highspy.HighsModelStatus.kInfeasible:
            return 2, None, None
        if st != highspy.HighsModelStatus.kOptimal:
            return 4, None, None
        sol = h.getSolution()
        return 0, np.array(sol.col_value), np.array(sol.row_dual)

    def value(self, Q: np.ndarray) -> float:
        return float(f_cols(np.clip(Q, 0.0, None), self.p_y).sum())

    def ascend(self, Q: np.ndarray) -> tuple[np.ndarray, float]:
        """LP ascent over the whole polytope from Q (each step: a vertex, no worse)."""
        best_Q, best = Q, self.value(Q)
        for _ in range(20):
            Qc = np.maximum(best_Q, 1e-300)
            grad = np.log(Qc / (self.p_y[:, None] * Qc.sum(axis=0, keepdims=True)))
            res = linprog(
                -grad.T.ravel(),
                A_ub=self.poly_ub,
                b_ub=np.zeros(self.poly_ub.shape[0]),
                A_eq=self.poly_eq,
                b_eq=self.p_y,
                bounds=(0, None),
                method="highs",
                options=_HIGHS,
            )
            if res.status != 0:
                break
            Qn = np.clip(res.x.reshape(self.K, self.n).T, 0.0, None)
            val = self.value(Qn)
            if val <= best + 1e-13:
                break
            best_Q, best = Qn, val
        return best_Q, best


def branch_and_bound(
    p_y: np.ndarray,
    G: list[np.ndarray],
    groups: list[list[int]],
    *,
    max_nodes: int,
    max_time: float | None,
    gap_tol: float,
    directions: bool = True,
) -> BnbResult:
    """Best-first branch and bound (module docstring); ``gap_tol`` and values in nats.

    ``G[u]`` are letter ``u``'s cone rows (the identity first, as built by
    :func:`leakage.pointwise.exact._constraint_rows`), ``groups`` the letters with equal
    budgets."""
    t0 = time.perf_counter()
    srch = Search(p_y, G, groups, directions)
    K = srch.K
    boxes = [srch.box0 for _ in range(K)]
    regs = [srch.region(u, *boxes[u]) for u in range(K)]
    sol = srch.solve(regs)
    if sol is None or sol[1] is None:  # pragma: no cover - constant U is always feasible
        raise RuntimeError("branch and bound: the root relaxation failed")
    root_upper, lam, duals = sol
    best_Q, best = srch.ascend(
        np.column_stack([W.T @ lu for (W, _), lu in zip(regs, lam, strict=True)])
    )
    if srch.order:  # order on the coordinate where the incumbent's directions differ most
        P = best_Q / np.maximum(best_Q.sum(axis=0, keepdims=True), 1e-300)
        srch.y0 = int(np.argmax(P.max(axis=1) - P.min(axis=1)))
    heap = [(-root_upper, 0, boxes, regs, lam, duals)]
    tie = itertools.count(1)
    nodes, limit = 1, None
    closed = -math.inf  # largest bound of a node closed without branching
    while heap:
        neg_ub, _, boxes, regs, lam, duals = heap[0]
        if -neg_ub <= best + gap_tol:
            break  # best-first: every open node is within the tolerance
        if nodes >= max_nodes:
            limit = f"max_nodes={max_nodes}"
            break
        if max_time is not None and time.perf_counter() - t0 > max_time:
            limit = f"max_time={max_time:g} s"
            break
        heapq.heappop(heap)
        if lam is None:  # its LP failed: bisect the widest box edge
            width = np.array([(b[1] - b[0]) / srch.box0[1] for b in boxes])
            u, y = np.unravel_index(int(np.argmax(width)), width.shape)
            u, y = int(u), int(y)
            p = 0.5 * (boxes[u][0] + boxes[u][1])
        else:
            qs = [W.T @ lu for (W, _), lu in zip(regs, lam, strict=True)]
            slack = [
                float(fv @ lu) - float(f_cols(q[:, None], p_y)[0])
                for (_, fv), lu, q in zip(regs, lam, qs, strict=True)
            ]
            u = int(np.argmax(slack))
            W, lu = regs[u][0], lam[u]
            t = float(lu.sum())
            if directions:
                p = qs[u] / t if t > 0 else 0.5 * (boxes[u][0] + boxes[u][1])
            else:
                p = qs[u]
            if t > 0:
                y = int(np.argmax(lu @ (W - p) ** 2))
            else:  # an unused letter (all slacks zero up to rounding): its widest edge
                y = int(np.argmax(boxes[u][1] - boxes[u][0]))
        lo, hi = boxes[u][0][y], boxes[u][1][y]
        t_inc = float(best_Q[:, u].sum())
        p_inc = best_Q[:, u] / t_inc if t_inc > 0 else p
        if directions and lo + 0.05 * (hi - lo) < p_inc[y] < hi - 0.05 * (hi - lo):
            cut = p_inc[y]  # the incumbent's direction becomes a vertex of the regions
        elif lo + 0.1 * (hi - lo) < p[y] < hi - 0.1 * (hi - lo):
            cut = p[y]
        else:
            cut = 0.5 * (lo + hi)
        for side in (0, 1):
            nodes += 1
            child = srch.split(boxes, regs, u, y, cut, side == 0)
            if child is None:  # no point of the child meets the symmetry order
                continue
            cboxes, cregs = child
            sol = srch.solve(cregs, duals)
            if sol is None:
                continue
            ub, lc, cduals = sol
            if lc is None:  # the LP failed: the parent duals' bound; branched on the box
                if ub > best + gap_tol:
                    heapq.heappush(heap, (-ub, next(tie), cboxes, cregs, None, cduals))
                continue
            Q = np.column_stack([Wc.T @ x for (Wc, _), x in zip(cregs, lc, strict=True)])
            if srch.value(Q) > best + 1e-12:
                best_Q, best = srch.ascend(Q)
            if ub > best + gap_tol:
                heapq.heappush(heap, (-ub, next(tie), cboxes, cregs, lc, cduals))
            else:
                closed = max(closed, ub)
    upper = max(best, closed, -heap[0][0] if heap else -math.inf)
    return BnbResult(
        Q=best_Q,
        value=best,
        upper=upper,
        nodes=nodes,
        limit=limit,
        seconds=time.perf_counter() - t0,
        root_upper=root_upper,
    )


def root_bound(p_y: np.ndarray, G: list[np.ndarray]) -> float:
    """Certified upper bound (nats) on I(U;Y) over all mechanisms: the root relaxation."""
    srch = Search(p_y, G, [], directions=False)
    regs = [srch.region(u, *srch.box0) for u in range(srch.K)]
    return srch.solve(regs)[0]
