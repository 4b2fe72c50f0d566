r"""Global extrema over the KL ball :math:`\{Q : D(Q\|P) \le \alpha\}` with a certificate.

Lipschitz branch and bound over simplicial cells: a cell (an interval for binary
sources, a triangle for ternary, a simplex in general; split by longest-edge bisection)
is evaluated at one feasible point :math:`Q_e` (its centroid, or the centroid's radial
projection onto the ball when the centroid lies outside), and every point of the cell
satisfies :math:`f(Q) \le f(Q_e) + L \max_v \|v - Q_e\|_1` (the ℓ1 distance to a point of
a convex cell is largest at a vertex). Cells that cannot beat the best value found by more
than the tolerance are pruned; cells that miss the ball (the tangent plane of the convex
:math:`D(\cdot\|P)` at the centroid stays above :math:`\alpha` on the cell) are dropped.
Local polishing (bounded Brent for binary sources, SLSQP otherwise) from the best points
raises the best value early. The result states the certified bound: no point of the ball
has a value above ``bound`` (for a maximum). Without a Lipschitz constant or a cell bound
the search is a plain grid (about 500 cells: down to ``500**(-1/(k-1))`` of the ball's
size for ``k`` letters; 64 cells for binary sources, where the Brent polishing makes an
interior maximum exact) plus local polishing, and the bound is ``nan``; in a sweep
(``inner``) it grids the new shells only and polishes again only when they beat the
smaller ball's (already polished) best by more than ``tol`` (a flat maximum, such as
``S - A`` of a refinable triplet, would otherwise be re-polished on rounding noise).
In 1-D a search with ``inner`` starts from the two new shells of the interval; in 2-D
and up the bounds of a cell that crosses the sphere use the cell cut by tangent planes
of the ball (:func:`_clip_to_ball`), so they converge to second order there too.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
from collections.abc import Callable

import numpy as np
from scipy.optimize import brentq, minimize, minimize_scalar
from scipy.spatial import ConvexHull, QhullError
from scipy.special import rel_entr

GRID_1D = 64  # cells of an uncertified search over a binary source's interval


@dataclasses.dataclass(frozen=True)
class SearchResult:
    value: float  # best value found (attained at argopt, a point of the ball)
    argopt: np.ndarray
    bound: float  # certified: every point of the ball has f <= bound (max) / >= bound (min)
    n_evals: int
    certified: bool


def kl(Q: np.ndarray, P: np.ndarray) -> float:
    return float(rel_entr(Q, P).sum())


def ball_interval(P: np.ndarray, alpha: float) -> tuple[float, float]:
    """For a binary ``P = (p, 1-p)``: the interval of ``q`` with ``D_b(q||p) <= alpha``."""
    p = float(P[0])

    def g(q: float) -> float:
        return kl(np.array([q, 1.0 - q]), P) - alpha

    lo = 0.0 if g(0.0) <= 0 else brentq(g, 0.0, p, xtol=1e-15, rtol=8.9e-16)
    hi = 1.0 if g(1.0) <= 0 else brentq(g, p, 1.0, xtol=1e-15, rtol=8.9e-16)
    return lo, hi


def _project(Qc: np.ndarray, P: np.ndarray, alpha: float) -> np.ndarray:
    """The point of the segment [P, Qc] on the ball's boundary (Qc outside the ball)."""
    t = brentq(lambda t: kl(P + t * (Qc - P), P) - alpha, 0.0, 1.0, xtol=1e-15)
    Q = P + t * (Qc - P)
    return np.maximum(Q, 0.0) / np.maximum(Q, 0.0).sum()


def _misses_ball(V: np.ndarray, P: np.ndarray, alpha: float) -> bool:
    """True when the cell with vertices ``V`` (rows) certainly has no point in the ball."""
    Qc = V.mean(axis=0)
    if np.any(Qc <= 0):
        return False
    grad = np.log(Qc / P) + 1.0
    d0 = kl(Qc, P)
    return bool(d0 + float(((V - Qc) @ grad).min()) > alpha)


def _clip_to_ball(V: np.ndarray, P: np.ndarray, alpha: float) -> np.ndarray:
    """Points whose convex hull holds ``cell ∩ ball`` (rows of ``V``: the cell's vertices).

    ``D(·||P)`` is convex, so the ball lies in the half-space below its tangent plane at
    any point ``T``: ``D(T) + ∇D(T)·(Q - T) <= alpha``. For each vertex outside the ball
    the cell is cut by the tangent plane at the vertex's radial projection onto the
    boundary; a cut keeps the points inside and adds the crossings of every
    inside–outside pair (their hull is exactly the cut polytope). The hull overshoots
    the ball only by the boundary's curvature (second order in the cell size), where the
    plain vertices overshoot it to first order."""
    out = [v for v in V if kl(v, P) > alpha]
    if not out:
        return V
    pts = V
    for v in out:
        T = _project(v, P, alpha)
        if np.any(T <= 0):
            continue
        grad = np.log(T / P) + 1.0
        # <= 0: inside the half-space (a hair wider: rounding never cuts off the ball)
        h = (pts - T) @ grad + kl(T, P) - alpha - 1e-12 * (1.0 + alpha)
        keep = h <= 0
        if keep.all():
            continue
        if not keep.any():
            return pts[:0]  # the cell misses the ball
        new = [pts[keep]]
        for i in np.flatnonzero(keep):
            for j in np.flatnonzero(~keep):
                t = h[i] / (h[i] - h[j])
                new.append((pts[i] + t * (pts[j] - pts[i]))[None])
        pts = np.concatenate(new)
        pts = np.maximum(pts, 0.0)
        pts = pts / pts.sum(axis=1, keepdims=True)
        pts = _hull_vertices(np.unique(np.round(pts, 15), axis=0))
    return pts


def _hull_vertices(pts: np.ndarray) -> np.ndarray:
    """The points of ``pts`` (rows, on the simplex) that are vertices of their convex hull.

    Each cut adds a crossing for every inside–outside pair, most of them inside the hull:
    a 5-letter cell cut five times gave 77,887 points of which 22 are vertices, and every
    point costs a solve in the cell bounds. The bounds are extrema of convex (concave)
    functions, attained at vertices, so dropping the other points changes nothing. A
    degenerate hull (the cell in a face of the simplex) keeps all points."""
    if pts.shape[0] <= pts.shape[1]:  # at most a simplex's worth of points
        return pts
    try:
        hull = ConvexHull(pts[:, :-1])  # the first k - 1 coordinates chart the simplex
    except (QhullError, ValueError):
        return pts
    return pts[np.sort(hull.vertices)]


def ball_extremum(
    f: Callable[[np.ndarray], float],
    P: np.ndarray,
    alpha: float,
    *,
    lipschitz: float,
    sense: str = "max",
    tol: float = 1e-7,
    max_evals: int = 3000,
    inner: tuple[float, SearchResult] | None = None,
    cell_bound: Callable[[np.ndarray, np.ndarray, float], float] | None = None,
    stop_at: float = -math.inf,
) -> SearchResult:
    """Global max (or min) of ``f`` over ``{Q : D(Q||P) <= alpha}`` (nats for ``alpha``).

    ``lipschitz``: a constant with ``|f(Q) - f(Q')| <= L ||Q - Q'||_1`` on the simplex
    (``nan``: unknown, no certificate). ``tol``: stop when the certified bound is within
    ``tol`` of the best value. ``max_evals``: budget of evaluations of ``f``.
    ``inner``: ``(alpha_in, result)`` of the same search on a smaller ball
    (``alpha_in <= alpha``, same ``sense``): cells inside that ball are covered by its
    bound, so a sweep over increasing ``alpha`` only searches the new shells.
    ``cell_bound(V, Qe, enough)``: a certified upper bound of ``f`` (of ``-f`` for a
    minimum) over the cell with vertices ``V`` given its evaluated point ``Qe``; it may
    return as soon as its bound is ``<= enough`` (the cell is pruned then); combined with
    the Lipschitz bound (the smaller is used). ``stop_at``: also stop once the certified
    bound is at most this (the caller only needs to know the extremum is below it).
    """
    sign = 1.0 if sense == "max" else -1.0
    k = P.size
    cache: dict[bytes, float] = {}

    def g(Q: np.ndarray) -> float:
        key = np.round(Q, 15).tobytes()
        if key not in cache:
            cache[key] = sign * float(f(Q))
        return cache[key]

    stop_g = sign * stop_at if math.isfinite(stop_at) else -math.inf
    L = float(lipschitz)
    certified = math.isfinite(L) or cell_bound is not None
    Lw = L if math.isfinite(L) else math.inf
    if k == 2:
        lo, hi = ball_interval(P, alpha)
        V0 = np.array([[lo, 1.0 - lo], [hi, 1.0 - hi]])
        cells = [V0]
        if inner is not None:  # only the two new shells: the rest is the smaller ball
            lo_in, hi_in = ball_interval(P, min(inner[0], alpha))
            cells = [
                np.array([[a, 1.0 - a], [b, 1.0 - b]])
                for a, b in ((lo, max(lo_in, lo)), (min(hi_in, hi), hi))
                if b > a
            ]
    else:
        V0 = np.eye(k)
        cells = [V0]
    best = -math.inf
    best_Q = P.copy()
    inner_bound = -math.inf
    if inner is not None:
        _alpha_in, res_in = inner
        best, best_Q = sign * res_in.value, res_in.argopt.copy()
        inner_bound = sign * res_in.bound if math.isfinite(res_in.bound) else math.nan
    # the smaller ball's best point was polished there already: polish again only when the
    # new shells beat it by more than the tolerance (on a flat maximum, e.g. S - A for a
    # refinable triplet, rounding noise would otherwise trigger a polish at every alpha)
    best_in = best
    heap: list = []
    counter = 0

    def consider(V: np.ndarray) -> None:
        nonlocal best, best_Q, counter
        if k > 2 and _misses_ball(V, P, alpha):
            return
        if inner is not None and all(kl(v, P) <= inner[0] for v in V):
            return  # inside the smaller ball: covered by its bound
        Vb = _clip_to_ball(V, P, alpha) if k > 2 else V  # the bounds need cell ∩ ball
        if not Vb.size:
            return
        Qc = V.mean(axis=0)
        Qe = Qc if kl(Qc, P) <= alpha else _project(Qc, P, alpha)
        val = g(Qe)
        if val > best:
            best, best_Q = val, Qe
        radius = float(np.abs((Vb if certified else V) - Qe).sum(axis=1).max())
        if certified:
            ub = val + Lw * radius if radius > 0 else val
            if cell_bound is not None and ub > val:
                enough = max(best + tol, stop_g)  # a bound this low prunes the cell anyway
                ub = min(ub, max(val, float(cell_bound(Vb, Qe, enough))))
        else:
            ub = val + radius  # no certificate: refine the largest cells first
        counter += 1
        heapq.heappush(heap, (-ub, counter, V, radius))

    def polish(Q0: np.ndarray) -> None:
        nonlocal best, best_Q
        if k == 2:
            lo, hi = V0[0, 0], V0[1, 0]
            if hi - lo <= 0:
                return
            w = max((hi - lo) / 64, 1e-9)
            a, b = max(lo, Q0[0] - w), min(hi, Q0[0] + w)
            res = minimize_scalar(
                lambda q: -g(np.array([q, 1.0 - q])),
                bounds=(a, b),
                method="bounded",
                options={"xatol": 1e-12},
            )
            Q = np.array([res.x, 1.0 - res.x])
        else:
            cons = [{"type": "ineq", "fun": lambda z: alpha - kl(np.append(z, 1 - z.sum()), P)}]
            res = minimize(
                lambda z: -g(np.clip(np.append(z, 1 - z.sum()), 0, 1)),
                Q0[:-1],
                method="SLSQP",
                bounds=[(0.0, 1.0)] * (k - 1),
                constraints=cons,
                options={"ftol": 1e-14, "maxiter": 8},
            )
            z = np.clip(res.x, 0, 1)
            Q = np.append(z, max(1 - z.sum(), 0.0))
            Q = Q / Q.sum()
            if kl(Q, P) > alpha:
                return
        val = g(Q)
        if val > best:
            best, best_Q = val, Q

    def interior() -> bool:
        """Whether the best point is not an end of the interval (binary sources) and, in
        a sweep, beats the smaller ball's (polished) best by more than ``tol``."""
        if not certified and inner is not None and best <= best_in + tol:
            return False
        return k > 2 or bool(np.abs(V0[:, 0] - best_Q[0]).min() > 1e-12)

    if k == 2:  # the ends of the interval are points of the ball (often the maximizer)
        for Q in V0:
            val = g(Q)
            if val > best:
                best, best_Q = val, Q.copy()
    for V in cells:
        consider(V)
    # the grid resolution of an uncertified search: relative to the whole ball
    root_radius = float(np.abs(V0 - V0.mean(axis=0)).sum(axis=1).max())
    # an uncertified search's resolution: ~500 cells; 1-D: 64 (Brent polishing makes an
    # interior maximum exact, and a sweep over alpha grids every new shell at this scale)
    grid = 1.0 / GRID_1D if k == 2 else 500.0 ** (-1.0 / (k - 1))
    polished = 0
    while heap and len(cache) < max_evals:
        neg_ub, _, V, radius = heapq.heappop(heap)
        ub = -neg_ub
        if certified and (ub <= best + tol or ub <= stop_g):
            heapq.heappush(heap, (neg_ub, 0, V, radius))
            break
        if not certified and radius < grid * root_radius:
            continue  # no certificate: a grid of this resolution, then local polishing
        # longest-edge bisection
        i, j = max(
            ((a, b) for a in range(V.shape[0]) for b in range(a + 1, V.shape[0])),
            key=lambda e: float(np.abs(V[e[0]] - V[e[1]]).sum()),
        )
        mid = 0.5 * (V[i] + V[j])
        A, B = V.copy(), V.copy()
        A[j], B[i] = mid, mid
        consider(A)
        consider(B)
        if k == 2 and polished < 4 and len(cache) in (8, 32, 128, 512) and interior():
            polished += 1  # cheap in 1-D: raises the best value early, prunes more
            polish(best_Q)
    done = certified and bool(heap) and -heap[0][0] <= max(best + tol, stop_g)
    irrelevant = certified and bool(heap) and -heap[0][0] <= stop_g  # caller needs no more
    if (k == 2 and interior() and not irrelevant) or (k > 2 and not done):
        polish(best_Q)  # 1-D: cheap, and makes an interior maximum exact
    if certified:
        live = [-h[0] for h in heap]
        bound = max([best, *live]) if live else best
        if inner is not None:
            bound = math.nan if math.isnan(inner_bound) else max(bound, inner_bound)
            certified = math.isfinite(bound)
    else:
        bound = math.nan
    return SearchResult(
        value=sign * best,
        argopt=best_Q,
        bound=sign * bound if certified else math.nan,
        n_evals=len(cache),
        certified=bool(certified and bound - best <= tol * (1 + 1e-9)),
    )
