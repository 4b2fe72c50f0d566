r"""The exact global optimum of problem (5) of paper 001 (point-wise ℓ1 budgets).

Write the design as the joint :math:`Q(y, u) = P_Y(y) P(u|y)`, one column :math:`q_u` per
released letter. With :math:`A = P_{X|Y} - P_X \mathbf 1^\top`, letter ``u`` meets its
budget iff :math:`\|A q_u\|_1 \le \varepsilon_u \mathbf 1^\top q_u` (multiply the ℓ1
constraint by :math:`P_U(u) \ge 0`), so every column lies in a polyhedral cone
:math:`C_u`, and the feasible set

.. math:: \{Q : q_u \in C_u \;\forall u,\; \textstyle\sum_u q_u = P_Y\}

is a polytope. :math:`I(U;Y) = \sum_u f(q_u)` with :math:`f(q) = \sum_y q_y \log
\frac{q_y}{P_Y(y) \mathbf 1^\top q}` convex, so the maximum is attained at a vertex.

**Vertices.** Let :math:`F_u` be the smallest face of :math:`C_u` holding :math:`q_u`.
:math:`Q` is a vertex iff the map :math:`(\lambda_u) \mapsto \sum_u B_u \lambda_u`
(:math:`B_u` a basis of :math:`\mathrm{span} F_u`) is injective, so
:math:`\sum_u \dim F_u \le |Y|`. The solver lists every face of every cone (from its
extreme rays, closed under intersection with the constraints' zero sets), enumerates
assignments of faces to letters with total dimension at most :math:`|Y|` (letters with
equal budgets are interchangeable, so multisets suffice), solves each linear system and
keeps the feasible solutions. Every vertex is among them, so the best one is the global
optimum — no approximation, only floating-point arithmetic (``method="enumerate"``).

**Branch and bound** (``method="bnb"``, :mod:`._bnb`): the number of face assignments grows
about 19-fold per letter of Y, so larger instances are solved by a best-first branch and
bound over boxes on the joint columns :math:`l_u \le q_u \le h_u` or (|X| >= 3,
``DIRECTION_REGIONS_MIN_X``) on the directions :math:`q_u / \mathbf
1^\top q_u` (``f`` is linear along rays: masses are not branched on), bounded by the
concave envelope of ``f`` over each letter's region (an LP over the region's vertices, its
bound re-derived from the LP duals). It returns a feasible mechanism with exact figures
and a proved upper bound: status ``optimal`` when the gap is within ``gap_tol``, else
(stopped by ``max_nodes`` / ``max_time``) ``not_certified`` with the gap and a
``ConvergenceWarning``.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections import Counter

import numpy as np
from numpy.typing import ArrayLike

from .._validation import check_base, check_positive
from ..errors import ConvergenceWarning, InvalidParameterError
from ..results import PointwiseDesign, Status
from ..units import from_nats
from ._bnb import branch_and_bound, n_vertex_candidates
from ._problem import Problem, finish, make_problem

__all__ = ["optimal_l1"]

#: Default cap on the number of face assignments examined (``method="enumerate"``).
MAX_ASSIGNMENTS = 2_000_000
#: Default node limit of the branch and bound.
MAX_NODES = 100_000
#: ``method="auto"`` enumerates when |Y| <= AUTO_MAX_Y and at most AUTO_ASSIGNMENTS face
#: assignments suffice (listing the faces grows fast with |Y|), else branches and bounds.
AUTO_MAX_Y = 6
AUTO_ASSIGNMENTS = 200_000
#: The branch and bound's regions are boxes on the directions ``q_u / 1'q_u`` when
#: |X| >= this, else boxes on the joint columns ``q_u`` (faster at |X| = 2).
DIRECTION_REGIONS_MIN_X = 3
#: Cap on the candidate vertices of one box region of the branch and bound (memory).
MAX_VERTEX_CANDIDATES = 1_000_000
#: Cap on the row subsets the extreme-ray enumeration examines (checked before it starts).
MAX_RAY_SUBSETS = 5_000_000
#: Cap on the number of released letters K (the assignment search recurses over them).
MAX_LETTERS = 256
_TOL = 1e-10


def _constraint_rows(A: np.ndarray, eps: float) -> np.ndarray:
    """Rows g with g . q >= 0 describing C = {q >= 0 : ||A q||_1 <= eps 1'q}."""
    n_x, n_y = A.shape
    signs = np.array(list(itertools.product((-1.0, 1.0), repeat=n_x)))
    signs = signs[np.ptp(signs, axis=1) > 0]  # constant signs give s'A = 0: redundant
    rows = eps * np.ones((signs.shape[0], n_y)) - signs @ A
    return np.vstack([np.eye(n_y), rows])


def _extreme_rays(G: np.ndarray) -> np.ndarray:
    """Extreme rays (normalized to sum 1) of the pointed cone {q : G q >= 0} in R^n."""
    n = G.shape[1]
    scale = np.abs(G).max(axis=1, keepdims=True)
    Gn = G / np.where(scale > 0, scale, 1.0)
    rays: list[np.ndarray] = []
    for T in itertools.combinations(range(Gn.shape[0]), n - 1):
        _, s, Vt = np.linalg.svd(Gn[list(T)])
        if n > 1 and s[-1] < 1e-12 * max(s[0], 1.0):
            continue  # the chosen rows are dependent: no unique direction
        r = Vt[-1]
        if abs(r.sum()) < 1e-12:
            continue  # a nonzero q >= 0 has a positive sum
        r = r / r.sum()
        if (Gn @ r).min() < -1e-11:
            continue
        r[np.abs(r) < 1e-15] = 0.0
        if not any(np.allclose(r, x, atol=1e-12) for x in rays):
            rays.append(r)
    return np.array(rays).reshape(-1, n)


def _faces(G: np.ndarray, rays: np.ndarray) -> list[np.ndarray]:
    """Orthonormal bases of the spans of all nonzero faces of cone(rays) = {G q >= 0}."""
    scale = np.abs(G).max(axis=1, keepdims=True)
    tight = np.abs((G / np.where(scale > 0, scale, 1.0)) @ rays.T) <= 1e-10  # rows x rays
    full = frozenset(range(rays.shape[0]))
    seen = {full}
    frontier = [full]
    while frontier:
        nxt = []
        for F in frontier:
            for row in tight:
                sub = F & frozenset(np.flatnonzero(row).tolist())
                if sub and sub not in seen:
                    seen.add(sub)
                    nxt.append(sub)
        frontier = nxt
    bases = []
    for F in seen:
        R = rays[sorted(F)].T  # n x |F|
        U, s, _ = np.linalg.svd(R, full_matrices=False)
        d = int((s > 1e-10 * s[0]).sum())
        bases.append(U[:, :d])
    # distinct spans only (different ray sets can span the same subspace: keep one)
    uniq: list[np.ndarray] = []
    for B in sorted(bases, key=lambda b: b.shape[1]):
        if not any(
            B.shape[1] == C.shape[1] and np.allclose(B @ B.T, C @ C.T, atol=1e-9) for C in uniq
        ):
            uniq.append(B)
    return uniq


def _utility_nats(Q: np.ndarray, p_y: np.ndarray) -> np.ndarray:
    """I(U;Y) of joints Q[..., y, u] (nats), 0 log 0 = 0."""
    t = Q.sum(axis=-2, keepdims=True)
    denom = p_y[:, None] * t
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(Q > 0, Q * np.log(Q / np.where(denom > 0, denom, 1.0)), 0.0)
    return terms.sum(axis=(-2, -1))


def _solve_batch(
    prob: Problem, combos: list[tuple], faces: dict, Gs: dict, eps_of: list[float]
) -> tuple[float, np.ndarray | None]:
    """Best feasible vertex among assignments with the same shape (dims per letter)."""
    n_y = prob.p_y.shape[0]
    total = float(prob.p_y.sum())
    K = len(eps_of)
    Ms = []
    for combo in combos:
        cols = [faces[eps_of[u]][f] for u, f in enumerate(combo) if f is not None]
        Ms.append(np.hstack(cols))
    M = np.stack(Ms)  # batch x n_y x D
    U_, s, Vt = np.linalg.svd(M, full_matrices=False)
    full_rank = s[:, -1] > 1e-9 * s[:, 0]
    coef = np.einsum("bji,j->bi", U_, prob.p_y) / np.where(s > 0, s, 1.0)
    lam = np.einsum("bji,bj->bi", Vt, coef)  # least-squares solution, batch x D
    resid = np.linalg.norm(np.einsum("byd,bd->by", M, lam) - prob.p_y, axis=1)
    ok = full_rank & (resid <= 1e-10)
    Q = np.zeros((M.shape[0], n_y, K))
    for b, combo in enumerate(combos):
        if not ok[b]:
            continue
        pos = 0
        for u, f in enumerate(combo):
            if f is None:
                continue
            B = faces[eps_of[u]][f]
            d = B.shape[1]
            q = B @ lam[b, pos : pos + d]
            pos += d
            if (Gs[eps_of[u]] @ q).min() < -1e-10:
                ok[b] = False
                break
            if q.sum() <= 1e-12 * total:
                continue  # a letter of mass ~0 (rounding): unused (its direction is noise)
            Q[b, :, u] = q
    if not ok.any():
        return -math.inf, None
    Q = Q[ok]
    vals = _utility_nats(np.clip(Q, 0.0, None), prob.p_y)
    i = int(np.argmax(vals))
    return float(vals[i]), Q[i]


def optimal_l1(
    p_xy: ArrayLike,
    eps: ArrayLike,
    *,
    base: float = 2,
    method: str = "auto",
    max_nodes: int = MAX_NODES,
    max_time: float | None = None,
    gap_tol: float = 1e-7,
    max_assignments: int | None = None,
) -> PointwiseDesign:
    r"""Global optimum of problem (5): max I(U;Y) s.t. ‖P_{X|U=u} − P_X‖₁ ≤ ε_u.

    Maximizes the convex :math:`I(U;Y) = \sum_u f(q_u)` over the polytope of joints
    :math:`Q(y,u)` (module docstring). Any :math:`P_{X|Y}` (no rank condition), any budgets
    (zeros mean perfect privacy for that letter), any number of letters ``K``.

    * ``method="auto"`` (default): ``"enumerate"`` when ``|Y| <= 6`` and at most 200_000
      face assignments suffice (fast and exact), else ``"bnb"``.
    * ``method="bnb"``: conical branch and bound (:mod:`leakage.pointwise._bnb`).
      Every node's bound is the linear relaxation
      :math:`\max \sum_{u,j}\lambda_{uj} f(v_{uj})` s.t. :math:`\sum \lambda_{uj} v_{uj}
      = P_Y` over generators :math:`v_{uj}` of the letters' cones (valid because ``f`` is
      sublinear), re-derived from the LP duals as :math:`\mu^\top P_Y +
      \max(0, \max_{j} f(v_j) - v_j^\top\mu)`. The search stops when the best bound is
      within ``gap_tol`` (nats) of the best mechanism found (``status`` optimal), or at
      ``max_nodes`` / ``max_time``: then the best mechanism is returned with status
      ``not_certified``, its proved upper bound and gap, and a
      :class:`~leakage.errors.ConvergenceWarning` naming both.
    * ``method="enumerate"``: the exact vertex enumeration (every face assignment; raises
      past ``max_assignments``), kept as an independent check for small alphabets.

    Parameters
    ----------
    p_xy : (n_x, n_y) array-like
        Joint distribution of (X, Y), axis 0 = X; every ``y`` must have ``P_Y(y) > 0``.
    eps : (K,) array-like
        One ℓ1 budget >= 0 per released letter (the ℓ1 norm, not total variation).
    base : float, default 2
        Logarithm base of ``utility`` and of the bound and gap in ``details`` (2: bits).
    method : {"auto", "bnb", "enumerate"}, default "auto"
        Branch and bound, exact vertex enumeration, or the latter when it is small.
    max_nodes : int, default 100_000
        Node limit of the branch and bound.
    max_time : float or None, default None
        Wall-clock limit (seconds) of the branch and bound; ``None``: none.
    gap_tol : float, default 1e-7
        Absolute optimality tolerance of the branch and bound (units of ``base``).
    max_assignments : int or None, default None
        ``method="enumerate"``: the cap on face assignments (default 2_000_000); otherwise
        kept for backward compatibility: an alias of ``max_nodes`` for the branch and bound.

    Returns
    -------
    PointwiseDesign
        ``utility`` is the exact ``I(U;Y)`` of the returned mechanism, ``utility_approx`` is
        ``nan`` (nothing is approximated). ``details``: ``status``
        (:class:`~leakage.results.Status`: ``OPTIMAL`` when certified, else
        ``NOT_CERTIFIED``), ``upper_bound`` (proved bound on the global optimum, units of
        ``base``), ``gap`` (``upper_bound - utility``), ``limit`` (the limit that stopped
        the search, or ``None``), ``n_nodes``, ``n_rays``; for ``"enumerate"`` also
        ``n_faces``, ``n_assignments``.

    Raises
    ------
    InvalidParameterError
        Bad ``eps``, ``method`` or limits; ``method="enumerate"`` with more than
        ``max_assignments`` assignments; more than ``MAX_RAY_SUBSETS`` row subsets for the
        extreme rays (counted before the enumeration starts), more than ``MAX_LETTERS``
        budgets, or ``|X| > 12``.
    InvalidDistributionError
        ``p_xy`` is not a joint distribution or some ``P_Y(y) = 0``.

    Warns
    -----
    ConvergenceWarning
        The branch and bound stopped at ``max_nodes`` or ``max_time`` before certifying.
    """
    fn = "optimal_l1"
    base = check_base(base, func=fn)
    if method not in ("auto", "bnb", "enumerate"):
        raise InvalidParameterError(
            f"{fn}: the 'method' argument must be 'auto', 'bnb' or 'enumerate'; got "
            f"{method!r} instead."
        )
    if max_assignments is not None:
        max_assignments = check_positive(
            max_assignments, func=fn, name="max_assignments", integer=True
        )
    max_nodes = check_positive(max_nodes, func=fn, name="max_nodes", integer=True)
    if max_time is not None:
        max_time = check_positive(max_time, func=fn, name="max_time")
    gap_tol = check_positive(gap_tol, func=fn, name="gap_tol")
    prob = make_problem(p_xy, eps, func=fn)
    n_y = prob.p_xy.shape[1]
    A = prob.p_x_given_y - prob.p_x[:, None]
    eps_of = [float(e) for e in prob.eps]
    Gs = {e: _constraint_rows(A, e) for e in sorted(set(eps_of))}
    if method == "enumerate":
        _check_size(prob, fn)
        rays = {e: _extreme_rays(G) for e, G in Gs.items()}
        cap = MAX_ASSIGNMENTS if max_assignments is None else max_assignments
        return _enumerate(prob, Gs, rays, base, cap)
    if method == "auto" and n_y <= AUTO_MAX_Y and _size_ok(prob, fn):
        rays = {e: _extreme_rays(G) for e, G in Gs.items()}
        cap = (
            AUTO_ASSIGNMENTS if max_assignments is None else min(AUTO_ASSIGNMENTS, max_assignments)
        )
        design = _enumerate(prob, Gs, rays, base, cap, strict=False)
        if design is not None:
            return design
    if max_assignments is not None:
        max_nodes = max_assignments
    _check_bnb_size(prob, fn)
    groups = [[u for u in range(len(eps_of)) if eps_of[u] == e] for e in sorted(set(eps_of))]
    res = branch_and_bound(
        prob.p_y,
        [Gs[e] for e in eps_of],
        groups,
        max_nodes=max_nodes,
        max_time=max_time,
        gap_tol=gap_tol * math.log(base),
        directions=_direction_regions(prob),
    )
    mech = np.clip(res.Q, 0.0, None) / prob.p_y[:, None]
    mech /= mech.sum(axis=1, keepdims=True)
    design = finish(
        prob,
        mech,
        measure="l1",
        method="branch and bound (conical, LP relaxation)",
        utility_approx_nats=math.nan,
        base=base,
        details={
            "n_nodes": res.nodes,
            "seconds": res.seconds,
            "root_upper_bound": float(from_nats(res.root_upper, base)),
        },
    )
    upper = max(float(from_nats(res.upper, base)), design.utility)
    gap = upper - design.utility
    # certified only if the proved gap (against the exact utility) is within the tolerance
    certified = res.limit is None and gap <= gap_tol * (1 + 1e-6) + 1e-12
    limit = res.limit if res.limit is not None or certified else "numerical accuracy"
    design.details.update(
        status=Status.OPTIMAL if certified else Status.NOT_CERTIFIED,
        upper_bound=upper,
        gap=gap,
        limit=limit,
    )
    if not certified:
        warnings.warn(
            f"{fn}: branch and bound stopped at {limit} before certifying the optimum: "
            f"best I(U;Y) = {design.utility:.9g}, proved upper bound {upper:.9g}, gap "
            f"{gap:.3g} (base {base:g}); raise the limit for a certified optimum.",
            ConvergenceWarning,
            stacklevel=2,
        )
    return design


def _direction_regions(prob: Problem) -> bool:
    """Whether the branch and bound uses direction regions (``DIRECTION_REGIONS_MIN_X``)."""
    return prob.p_xy.shape[0] >= DIRECTION_REGIONS_MIN_X


def _check_bnb_size(prob: Problem, fn: str) -> None:
    """The branch and bound enumerates the vertices of box regions: counted first."""
    n_x, n_y = _check_alphabets(prob, fn, "")
    directions = _direction_regions(prob)
    count = n_vertex_candidates(2**n_x - 2, n_x - directions, n_y, simplex=directions)
    if count > MAX_VERTEX_CANDIDATES:
        raise InvalidParameterError(
            f"{fn}: the branch and bound on this instance (|X| = {n_x}, |Y| = {n_y}) would "
            f"examine {count:,} candidate vertices (row subsets x box bounds) per region, "
            "above the limit of "
            f"{MAX_VERTEX_CANDIDATES:,}; use design_l1 (the extreme-point LP), or a smaller "
            "alphabet (merge rare letters of Y)."
        )


def _size_ok(prob: Problem, fn: str) -> bool:
    try:
        _check_size(prob, fn)
    except InvalidParameterError:
        return False
    return True


def _check_alphabets(prob: Problem, fn: str, purpose: str) -> tuple[int, int]:
    """The limits every exact method shares: |X| <= 12 and at most ``MAX_LETTERS``
    budgets; ``purpose`` (e.g. " for exact enumeration") goes into the message."""
    n_x, n_y = prob.p_xy.shape
    if n_x > 12:
        raise InvalidParameterError(
            f"{fn}: the 'p_xy' argument must have |X| <= 12{purpose} (the ℓ1 ball needs "
            f"2^|X| inequalities); got |X| = {n_x} instead."
        )
    if len(prob.eps) > MAX_LETTERS:
        raise InvalidParameterError(
            f"{fn}: the 'eps' argument asks for {len(prob.eps):,} released letters, above the "
            f"limit of {MAX_LETTERS}; a vertex uses at most |Y| = {n_y} letters, so give at "
            "most that many budgets (the largest ones)."
        )
    return n_x, n_y


def _check_size(prob: Problem, fn: str) -> None:
    n_x, n_y = _check_alphabets(prob, fn, " for exact enumeration")
    # the cone's rays come from subsets of |Y| - 1 of its |Y| + 2^|X| - 2 rows: counted
    # before any is examined
    subsets = math.comb(n_y + 2**n_x - 2, n_y - 1)
    if subsets > MAX_RAY_SUBSETS:
        raise InvalidParameterError(
            f"{fn}: exact enumeration of this instance (|X| = {n_x}, |Y| = {n_y}) would "
            f"examine {subsets:,} row subsets per budget, above the limit of "
            f"{MAX_RAY_SUBSETS:,}; use design_l1 (the extreme-point LP), or a smaller "
            "alphabet."
        )


def _enumerate(
    prob: Problem, Gs: dict, rays: dict, base: float, max_assignments: int, strict: bool = True
) -> PointwiseDesign | None:
    """Exact vertex enumeration (module docstring): every face assignment is solved.
    Past ``max_assignments``: raise (``strict``) or return None."""
    fn = "optimal_l1"
    n_x, n_y = prob.p_xy.shape
    eps_of = [float(e) for e in prob.eps]
    faces = {e: _faces(Gs[e], rays[e]) for e in Gs}
    n_rays = {e: r.shape[0] for e, r in rays.items()}
    # Letters with equal budgets are interchangeable: per group, a multiset of faces
    # (nondecreasing option index), generated with the dimension budget as it goes.
    groups = sorted(Counter(eps_of).items())
    order = [u for e, _ in groups for u in range(len(eps_of)) if eps_of[u] == e]
    eps_sorted = [eps_of[u] for u in order]
    opt_dims = {e: [0] + [B.shape[1] for B in faces[e]] for e, _ in groups}

    def assignments(g: int, left: int, first: int, budget: int):
        """Options (0 = unused, i = face i-1) for the remaining letters of group g on."""
        if g == len(groups):
            yield ()
            return
        e = groups[g][0]
        if left == 0:
            yield from assignments(g + 1, groups[g + 1][1] if g + 1 < len(groups) else 0, 0, budget)
            return
        dims_e = opt_dims[e]
        for i in range(first, len(dims_e)):
            if dims_e[i] > budget:
                continue
            for rest in assignments(g, left - 1, i, budget - dims_e[i]):
                yield (i, *rest)

    batches: dict[tuple, list[tuple]] = {}
    count = 0
    for opts in assignments(0, groups[0][1], 0, n_y):
        if not any(opts):
            continue  # every letter unused: not a mechanism
        count += 1
        if count > max_assignments:
            if not strict:
                return None
            raise InvalidParameterError(
                f"{fn}: the instance is too large to enumerate exactly: more than "
                f"max_assignments={max_assignments} face assignments (|X|={n_x}, |Y|={n_y}, "
                f"K={len(eps_of)}). Raise max_assignments, merge letters with equal budgets, "
                "or use design_l1."
            )
        combo = tuple(None if i == 0 else i - 1 for i in opts)
        dvec = tuple(opt_dims[e][i] for e, i in zip(eps_sorted, opts, strict=True))
        batches.setdefault(dvec, []).append(combo)
    best_val, best_Q = -math.inf, None
    for combos in batches.values():
        for start in range(0, len(combos), 20000):
            val, Q = _solve_batch(prob, combos[start : start + 20000], faces, Gs, eps_sorted)
            if val > best_val:
                best_val, best_Q = val, Q
    Qc = np.clip(best_Q, 0.0, None)
    mech = np.zeros((n_y, len(eps_of)))
    mech[:, order] = Qc / prob.p_y[:, None]
    mech /= mech.sum(axis=1, keepdims=True)
    design = finish(
        prob,
        mech,
        measure="l1",
        method="exact vertex enumeration",
        utility_approx_nats=math.nan,
        base=base,
        details={
            "n_rays": {str(e): n for e, n in n_rays.items()},
            "n_faces": {str(e): len(f) for e, f in faces.items()},
            "n_assignments": count,
            "status": Status.OPTIMAL,
            "gap": 0.0,
            "limit": None,
        },
    )
    design.details["upper_bound"] = design.utility  # every vertex was examined
    return design
