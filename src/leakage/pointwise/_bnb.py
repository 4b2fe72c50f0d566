r"""Branch and bound for problem (5) of paper 001 (point-wise ℓ1 budgets).

In the joint :math:`Q(y,u) = P_Y(y)P(u|y)` (see :mod:`.exact`) the problem is to maximize
:math:`F(Q) = \sum_u f(q_u)`, :math:`f(q) = \sum_y q_y \ln\frac{q_y}{P_Y(y)\,\mathbf 1^\top q}`
(convex), over :math:`q_u \in C_u` (letter ``u``'s budget cone, rows ``G_u q >= 0``) and
:math:`\sum_u q_u = P_Y`. Every column also satisfies :math:`0 \le q_u \le P_Y`.

**Nodes.** A node gives each letter a box :math:`l_u \le q_u \le h_u` (root: ``[0, P_Y]``);
its region is the polytope :math:`B_u = C_u \cap [l_u, h_u]` with vertex set :math:`W_u`
(enumerated, vectorized: a vertex has ``k <= rank`` cone rows tight and the other ``|Y| - k``
coordinates at a box bound).

**Bound.** ``f`` is convex, so on :math:`B_u` it lies below its values at the vertices:
:math:`f(q_u) \le \sum_j \lambda_{uj} f(w_{uj})` for any convex weights with
:math:`q_u = \sum_j\lambda_{uj}w_{uj}`. The linear program

.. math:: \max_{\lambda \ge 0} \sum_{u,j} \lambda_{uj} f(w_{uj}) \quad\text{s.t.}\quad
          \sum_{u,j} \lambda_{uj} w_{uj} = P_Y, \quad \sum_j \lambda_{uj} = 1 \;\forall u

bounds ``F`` on the node. The bound is re-derived from the LP's duals, independently of the
solver's claim: for any :math:`\mu` (and :math:`\nu \ge 0` on the symmetry rows ``S``),

.. math:: F \le \mu^\top P_Y + \sum_u \max_j \big[f(w_{uj}) - \mu^\top w_{uj}
          - (S^\top\nu)_{uj}\big].

**Incumbent.** :math:`q_u = \sum_j \lambda_{uj} w_{uj}` is feasible; it is improved by LP
ascent steps over the whole polytope (``F`` is convex: each step is no worse), and its
utility is evaluated exactly.

**Branching.** On the letter with the largest slack :math:`\sum_j \lambda_{uj} f(w_{uj}) -
f(q_u)`, on the coordinate where its vertices' weighted spread is largest, at the LP point
(or the box midpoint when the point is near an end): two children with the box halves.
(A node whose LP fails keeps the dual-free bound :math:`\sum_u \max_j f(w_{uj})` and is
split at the midpoint of its widest box edge.) Best-first; the search ends when the largest
open bound is within ``gap_tol`` of the incumbent. Letters with equal budgets are
interchangeable: their masses :math:`P_U(u)` are ordered (a symmetry cut that keeps an
optimum).
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import math
import time

import numpy as np
from scipy.optimize import linprog

_HIGHS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}
_TOL = 1e-12


def f_cols(V: np.ndarray, p_y: np.ndarray) -> np.ndarray:
    """f of every column of V (nats), 0 log 0 = 0."""
    t = V.sum(axis=0, keepdims=True)
    denom = p_y[:, None] * t
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(V > 0, V * np.log(V / np.where(denom > 0, denom, 1.0)), 0.0)
    return terms.sum(axis=0)


def n_vertex_candidates(n_rows: int, rank: int, n: int) -> int:
    """Candidate points the vertex enumeration of one box region examines."""
    return sum(math.comb(n_rows, k) * math.comb(n, k) * 2 ** (n - k) for k in range(rank + 1))


class BoxVertices:
    """Vertices of :math:`\\{q : S q \\ge 0, l \\le q \\le h\\}` for fixed rows S and any box:
    the linear algebra (which rows are tight, which coordinates are free) is done once."""

    def __init__(self, S: np.ndarray, n: int):
        self.S = S
        rank = int(np.linalg.matrix_rank(S)) if len(S) else 0
        self.parts = []
        for k in range(min(rank, n) + 1):
            m = n - k
            pats = np.array(list(itertools.product((False, True), repeat=m)), dtype=bool)
            pats = pats.reshape(2**m, m)
            if k:
                Ts = np.array(list(itertools.combinations(range(len(S)), k)), dtype=int)
                Fs = np.array(list(itertools.combinations(range(n), k)), dtype=int)
            else:
                Ts = Fs = np.zeros((1, 0), dtype=int)
            ti, fi = np.meshgrid(np.arange(len(Ts)), np.arange(len(Fs)), indexing="ij")
            T, F = Ts[ti.ravel()], Fs[fi.ravel()]
            N = len(T)
            free = np.zeros((N, n), dtype=bool)
            free[np.arange(N)[:, None], F] = True
            fixed = np.argsort(free, axis=1, kind="stable")[:, :m]  # the m fixed coordinates
            if k:
                ST = S[T]  # N x k x n
                M = np.take_along_axis(ST, np.broadcast_to(F[:, None, :], (N, k, k)), axis=2)
                s = np.linalg.svd(M, compute_uv=False)
                good = s[:, -1] > 1e-9 * np.maximum(s[:, 0], 1e-300)
                ST, M, F, fixed = ST[good], M[good], F[good], fixed[good]
                # x_F = -M^{-1} S_T[:, fixed] b: one matrix per (T, F), k x m
                Sfix = np.take_along_axis(ST, np.broadcast_to(fixed[:, None, :], (len(M), k, m)), 2)
                R = -np.linalg.solve(M, Sfix)
            else:
                R = np.zeros((1, 0, m))
            self.parts.append((pats, F, fixed, R))

    def __call__(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """The vertices (rows) of the region with box [lo, hi]; empty if it is empty."""
        n = lo.shape[0]
        out = []
        for pats, F, fixed, R in self.parts:
            if len(fixed) == 0:
                continue
            b = np.where(pats[None], hi[fixed][:, None, :], lo[fixed][:, None, :])  # N x P x m
            Q = np.zeros((len(fixed), pats.shape[0], n))
            idx = np.broadcast_to(fixed[:, None, :], b.shape)
            np.put_along_axis(Q, idx, b, axis=2)
            if F.shape[1]:
                x = np.einsum("tkm,tpm->tpk", R, b)
                np.put_along_axis(Q, np.broadcast_to(F[:, None, :], x.shape), x, axis=2)
            Q = Q.reshape(-1, n)
            Q = Q[np.all((Q >= lo - _TOL) & (Q <= hi + _TOL), axis=1)]
            if len(self.S) and len(Q):
                Q = Q[np.all(Q @ self.S.T >= -1e-11, axis=1)]
            out.append(Q)
        V = np.vstack(out) if out else np.zeros((0, n))
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

    def __init__(self, p_y: np.ndarray, G: list[np.ndarray], groups: list[list[int]]):
        n = p_y.shape[0]
        self.p_y, self.n, self.K = p_y, n, len(G)
        cache: dict[int, BoxVertices] = {}
        self.verts = []
        for Gu in G:
            key = id(Gu)
            if key not in cache:
                cache[key] = BoxVertices(Gu[n:], n)  # rows after the identity: q >= 0 is the box
            self.verts.append(cache[key])
        self.sym = [(g[i], g[i + 1]) for g in groups for i in range(len(g) - 1)]
        K = self.K
        self.poly_ub = -np.vstack(
            [
                np.hstack([Gu if v == u else np.zeros_like(Gu) for v in range(K)])
                for u, Gu in enumerate(G)
            ]
        )
        self.poly_eq = np.hstack([np.eye(n)] * K)

    def region(self, u: int, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        W = self.verts[u](lo, hi)
        return W, f_cols(W.T, self.p_y)

    def solve(self, regs: list[tuple[np.ndarray, np.ndarray]]):
        """LP bound of a node: (certified bound, lambda per letter), or None if infeasible."""
        if any(len(W) == 0 for W, _ in regs):
            return None
        K, n = self.K, self.n
        sizes = [len(W) for W, _ in regs]
        offs = np.concatenate([[0], np.cumsum(sizes)])
        cols = np.vstack([W for W, _ in regs]).T
        c = np.concatenate([fv for _, fv in regs])
        conv = np.zeros((K, cols.shape[1]))
        for u in range(K):
            conv[u, offs[u] : offs[u + 1]] = 1.0
        mass = cols.sum(axis=0)
        S = np.zeros((len(self.sym), cols.shape[1]))
        for k, (u, v) in enumerate(self.sym):
            S[k, offs[v] : offs[v + 1]] = mass[offs[v] : offs[v + 1]]
            S[k, offs[u] : offs[u + 1]] = -mass[offs[u] : offs[u + 1]]
        res = linprog(
            -c,
            A_ub=S if len(S) else None,
            b_ub=np.zeros(len(S)) if len(S) else None,
            A_eq=np.vstack([cols, conv]),
            b_eq=np.concatenate([self.p_y, np.ones(K)]),
            bounds=(0, None),
            method="highs",
            options=_HIGHS,
        )
        if res.status == 2:
            return None
        if res.status == 0:
            mu = -np.asarray(res.eqlin.marginals)[:n]
            red = c - cols.T @ mu
            if len(S):
                red = red - S.T @ np.clip(-np.asarray(res.ineqlin.marginals), 0.0, None)
        else:  # no usable duals: the bound with mu = 0, nu = 0 (still valid)
            mu, red = np.zeros(n), c
        upper = float(mu @ self.p_y) + sum(
            float(red[offs[u] : offs[u + 1]].max()) for u in range(K)
        )
        if res.status != 0:
            return upper, None
        lam = np.clip(res.x, 0.0, None)
        return upper, [lam[offs[u] : offs[u + 1]] for u in range(K)]

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
) -> BnbResult:
    """Best-first branch and bound (module docstring); ``gap_tol`` and values in nats.

    ``G[u]`` are letter ``u``'s cone rows (the identity first, as built by
    :func:`leakage.pointwise.exact._constraint_rows`), ``groups`` the letters with equal
    budgets."""
    t0 = time.perf_counter()
    srch = Search(p_y, G, groups)
    n, K = srch.n, srch.K
    boxes = [(np.zeros(n), p_y.copy()) for _ in range(K)]
    regs = [srch.region(u, *boxes[u]) for u in range(K)]
    sol = srch.solve(regs)
    if sol is None or sol[1] is None:  # pragma: no cover - constant U is always feasible
        raise RuntimeError("branch and bound: the root relaxation failed")
    root_upper, lam = sol
    best_Q, best = srch.ascend(
        np.column_stack([W.T @ lu for (W, _), lu in zip(regs, lam, strict=True)])
    )
    heap = [(-root_upper, 0, boxes, regs, lam)]
    tie = itertools.count(1)
    nodes, limit = 1, None
    closed = -math.inf  # largest bound of a node closed without branching
    while heap:
        neg_ub, _, boxes, regs, lam = heap[0]
        if -neg_ub <= best + gap_tol:
            break  # best-first: every open node is within the tolerance
        if nodes >= max_nodes:
            limit = f"max_nodes={max_nodes}"
            break
        if max_time is not None and time.perf_counter() - t0 > max_time:
            limit = f"max_time={max_time:g} s"
            break
        heapq.heappop(heap)
        if lam is None:  # its LP failed: bisect the widest box edge (relative to P_Y)
            width = np.array([(b[1] - b[0]) / p_y for b in boxes])
            u, y = np.unravel_index(int(np.argmax(width)), width.shape)
            u, y = int(u), int(y)
            q = 0.5 * (boxes[u][0] + boxes[u][1])
        else:
            qs = [W.T @ lu for (W, _), lu in zip(regs, lam, strict=True)]
            slack = [
                float(fv @ lu) - float(f_cols(q[:, None], p_y)[0])
                for (_, fv), lu, q in zip(regs, lam, qs, strict=True)
            ]
            u = int(np.argmax(slack))
            W, q, lu = regs[u][0], qs[u], lam[u]
            y = int(np.argmax(lu @ (W - q) ** 2))
        lo, hi = boxes[u][0][y], boxes[u][1][y]
        cut = q[y] if lo + 0.1 * (hi - lo) < q[y] < hi - 0.1 * (hi - lo) else 0.5 * (lo + hi)
        for side in (0, 1):
            nlo, nhi = boxes[u][0].copy(), boxes[u][1].copy()
            if side == 0:
                nhi[y] = cut
            else:
                nlo[y] = cut
            cboxes = [*boxes[:u], (nlo, nhi), *boxes[u + 1 :]]
            cregs = [*regs[:u], srch.region(u, nlo, nhi), *regs[u + 1 :]]
            nodes += 1
            sol = srch.solve(cregs)
            if sol is None:
                continue
            ub, lc = sol
            if lc is None:  # the LP failed: its (valid, weak) bound; branched on the box
                if ub > best + gap_tol:
                    heapq.heappush(heap, (-ub, next(tie), cboxes, cregs, None))
                continue
            Q = np.column_stack([Wc.T @ x for (Wc, _), x in zip(cregs, lc, strict=True)])
            if srch.value(Q) > best + 1e-12:
                best_Q, best = srch.ascend(Q)
            if ub > best + gap_tol:
                heapq.heappush(heap, (-ub, next(tie), cboxes, cregs, lc))
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
    srch = Search(p_y, G, [])
    regs = [srch.region(u, np.zeros(srch.n), p_y.copy()) for u in range(srch.K)]
    return srch.solve(regs)[0]
