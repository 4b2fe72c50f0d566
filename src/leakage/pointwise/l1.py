r"""Sections III-B and IV of paper 001: point-wise ℓ1 budgets, the extreme-point LP.

For a letter ``u`` whose posterior is :math:`P_{X|U=u} = P_X + \varepsilon_u J_u`, every
feasible :math:`P_{Y|U=u}` lies in the polytope
:math:`\mathbb S_u = \{y \ge 0 : P_{X|Y}\, y = P_X + \varepsilon_u J_u\}` (Lemma 2/3; the
paper writes it with the matrix ``M`` of right singular vectors, which has the same null
space). Its extreme points sit on supports :math:`\Omega` of ``rank(P_{X|Y})`` letters of
Y (eqs. (29), (36)). Around :math:`J = 0` the entropy of an extreme point is linear in
:math:`J` (eq. (30)), so for a fixed choice of supports the design is the linear program
of Theorems 2–4. This module

* works with the rank-``r`` row space of :math:`P_{X|Y}` (``U_r^T P_{X|Y}``), so ``J`` is
  kept in the range of :math:`P_{X|Y}` — the fix ERRATA.md describes for the
  pseudo-inverse of Section IV-B — and the full-row-rank case is the special case r = |X|;
* writes the LP in ``t_u = P_U(u)`` and ``w_u = t_u ε_u J_u`` (equivalent to the paper's
  η variables, ``η_u = t_u V_0 + P_Ω^{-1} w_u``) with every entry of η >= 0 (ERRATA:
  Theorem 2's "Σ η >= 0" is not enough);
* searches every combination of supports automatically (letters with equal budgets are
  interchangeable) and keeps the combination whose mechanism has the best **exact**
  I(U;Y).

The LP's constraints are exact: each returned mechanism meets its ℓ1 budgets exactly (up
to solver tolerance, guarded to 1e-9). Only the objective is a first-order approximation,
and ``utility_approx`` reports it beside the exact utility.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections import Counter

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import linprog

from .._validation import check_base, check_positive
from ..errors import ConvergenceWarning, DesignWarning, InfeasibleError, InvalidParameterError
from ..results import PointwiseDesign, Status
from ..units import from_nats
from ._bnb import n_vertex_candidates, root_bound
from ._problem import exact_figures, finish, make_problem

__all__ = ["design_l1", "extreme_point_supports"]

_HIGHS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}
# the LP's ℓ1 rows use (1 - margin) * budget, so solver tolerance cannot push a letter over
_MARGIN = 1e-8


def extreme_point_supports(p_xy: ArrayLike) -> list[dict]:
    """The non-degenerate extreme points of :math:`\\mathbb S_u` at :math:`J = 0`.

    Returns one dict per support Ω (``rank(P_{X|Y})`` letters of Y with an invertible
    reduced submatrix and a strictly positive extreme point): ``support`` (tuple),
    ``v0`` (the extreme point on Ω, eq. (29) at ε = 0), ``b`` and ``a`` (eq. (30):
    :math:`H(V_\\Omega) \\approx -(b + a\\, w)` nats in the reduced coordinates).
    """
    prob = make_problem(p_xy, [0.0], func="extreme_point_supports")
    return _supports(prob)[0]


#: Cap on the supports (|Y| choose rank) the extreme-point search examines.
MAX_SUPPORTS = 1_000_000


def _reduce(prob):
    P = prob.p_x_given_y
    U, s, _ = np.linalg.svd(P, full_matrices=False)  # only U: no |Y| x |Y| factor
    r = int((s > 1e-10 * s[0]).sum())
    Ur = U[:, :r]
    return Ur, Ur.T @ P, Ur.T @ prob.p_x


def _supports(prob, func: str = "design_l1"):
    Ur, Pr, pxr = _reduce(prob)
    r, n_y = Pr.shape
    count = math.comb(n_y, r)
    if count > MAX_SUPPORTS:
        raise InvalidParameterError(
            f"{func}: the extreme-point search would examine {count:,} supports (|Y| = "
            f"{n_y} letters choose rank {r}), above the limit of {MAX_SUPPORTS:,}; merge "
            "rare categories of Y or bin it coarser."
        )
    out = []
    for omega in itertools.combinations(range(n_y), r):
        Po = Pr[:, omega]
        if np.linalg.cond(Po) > 1e10:
            continue
        D = np.linalg.inv(Po)
        v0 = D @ pxr
        if v0.min() <= 1e-12:
            continue
        lg = np.log(v0)
        out.append({"support": omega, "v0": v0, "D": D, "b": float(lg @ v0), "a": lg @ D})
    return out, Ur


def _solve_combo(prob, Ur, sups, combo, eps):
    """The Theorem 2-4 LP for one assignment of supports to letters; None if infeasible."""
    n_x, n_y = prob.p_xy.shape
    r = Ur.shape[1]
    K = len(combo)
    # variable layout per letter: t, w (r), s (n_x); budget-0 letters have t only
    offs, n = [], 0
    for u in range(K):
        offs.append(n)
        n += 1 + (r + n_x if eps[u] > 0 else 0)
    c = np.zeros(n)
    A_eq, b_eq, A_ub = [], [], []
    jmap = np.zeros((n_y, K, n))  # P(y, u) = jmap[y, u] @ x
    for u, k in enumerate(combo):
        sp = sups[k]
        o = offs[u]
        c[o] = -sp["b"]
        for j, y in enumerate(sp["support"]):
            jmap[y, u, o] = sp["v0"][j]
            if eps[u] > 0:
                jmap[y, u, o + 1 : o + 1 + r] = sp["D"][j]
        # eta = t v0 + D w >= 0
        for j in range(r):
            row = np.zeros(n)
            row[o] = -sp["v0"][j]
            if eps[u] > 0:
                row[o + 1 : o + 1 + r] = -sp["D"][j]
            A_ub.append(row)
        if eps[u] > 0:
            c[o + 1 : o + 1 + r] = -sp["a"]
            row = np.zeros(n)
            row[o + 1 : o + 1 + r] = Ur.sum(axis=0)  # 1'J = 0, J = U_r w / (t eps)
            A_eq.append(row)
            b_eq.append(0.0)
            so = o + 1 + r
            for i in range(n_x):  # |U_r w|_i <= s_i
                for sign in (1.0, -1.0):
                    row = np.zeros(n)
                    row[o + 1 : o + 1 + r] = sign * Ur[i]
                    row[so + i] = -1.0
                    A_ub.append(row)
            row = np.zeros(n)  # sum s <= eps t
            row[so : so + n_x] = 1.0
            row[o] = -eps[u] * (1 - _MARGIN)
            A_ub.append(row)
    A_eq = np.vstack([jmap.sum(axis=1), *([np.array(A_eq)] if A_eq else [])])
    b_eq = np.concatenate([prob.p_y, b_eq])
    bounds = []
    for u in range(K):
        bounds.append((0, None))
        if eps[u] > 0:
            bounds += [(None, None)] * r + [(0, None)] * n_x
    A_ub = np.array(A_ub)
    lp = dict(A_eq=A_eq, b_eq=b_eq, bounds=bounds, method="highs", options=_HIGHS)
    res = linprog(c, A_ub=A_ub, b_ub=np.zeros(len(A_ub)), **lp)
    if res.status != 0:
        return None
    # The LP's optimum is often a face, and which vertex a solver returns changes between
    # HiGHS releases (the exact utility differs). Ties are broken by the exact utility:
    # Frank-Wolfe steps over the optimal face (I(U;Y) is convex in the joint, so each
    # step's vertex is no worse), until the vertex repeats.
    x, fun = res.x, float(res.fun)
    offs_arr = np.asarray(offs)
    face_ub = np.vstack([A_ub, c])
    face_b = np.concatenate([np.zeros(len(A_ub)), [fun + 1e-10 * max(1.0, abs(fun))]])
    for _ in range(5):
        J = jmap @ x  # (n_y, K)
        # ln(J / (p_y q_u)) is scale-free within a column: an empty column is priced at
        # its extreme point (t = 1, w = 0), not at the -inf of a zero entry
        empty = J.sum(axis=0) <= 1e-14
        J[:, empty] = jmap[:, np.arange(K)[empty], offs_arr[empty]]
        J = np.maximum(J, 1e-300)
        grad = np.log(J / (prob.p_y[:, None] * J.sum(axis=0, keepdims=True)))
        g = np.einsum("yu,yun->n", grad, jmap)
        step = linprog(-g, A_ub=face_ub, b_ub=face_b, **lp)
        if step.status != 0 or g @ step.x <= g @ x + 1e-12 * max(1.0, abs(g @ x)):
            break
        x = step.x
    mech = np.zeros((n_y, K))
    for u, k in enumerate(combo):
        sp = sups[k]
        o = offs[u]
        t = x[o]
        eta = t * sp["v0"] + (sp["D"] @ x[o + 1 : o + 1 + r] if eps[u] > 0 else 0.0)
        mech[list(sp["support"]), u] = np.clip(eta, 0.0, None)
    mech /= prob.p_y[:, None]
    mech /= mech.sum(axis=1, keepdims=True)
    h_y = float(-(prob.p_y * np.log(prob.p_y)).sum())
    return mech, h_y - float(c @ x)  # approximate I(U;Y), nats


def design_l1(
    p_xy: ArrayLike, eps: ArrayLike, *, base: float = 2, max_combinations: int = 100_000
) -> PointwiseDesign:
    r"""Release mechanism under point-wise ℓ1 budgets by the LP of Theorems 2–4 (paper 001).

    Every combination of extreme-point supports (one per released letter) is tried; each
    is a linear program (HiGHS) whose solution is a valid mechanism meeting every budget;
    the one with the best **exact** I(U;Y) is returned. Budget-0 letters are the hybrid
    case of Theorem 3 (their entropy is not approximated). Works for any rank of
    :math:`P_{X|Y}` (Section IV-B, with ``J`` kept in its range).

    Parameters
    ----------
    p_xy : (n_x, n_y) array-like
        Joint distribution of (X, Y), axis 0 = X; every ``P_Y(y) > 0``.
    eps : (K,) array-like
        One ℓ1 budget :math:`\|P_{X|U=u} - P_X\|_1 \le \varepsilon_u` per letter (>= 0).
    base : float, default 2
        Logarithm base of ``utility`` and ``utility_approx``.
    max_combinations : int, default 100000
        Limit on the number of support combinations (LPs) tried. Past it, the first
        ``max_combinations`` are tried and the best is returned with
        ``details["status"] = Status.NOT_CERTIFIED``, ``details["upper_bound"]`` (a proved
        bound on the global optimum of problem (5): the root relaxation of
        :func:`optimal_l1`'s branch and bound, or ``H(Y)``), ``details["gap"]`` and a
        :class:`~leakage.errors.ConvergenceWarning` (if none of those tried is feasible:
        the constant mechanism, utility 0).

    Returns
    -------
    PointwiseDesign
        Exact ``utility`` and ``leakages``; ``utility_approx`` is the LP's first-order
        value of I(U;Y) for the chosen combination; ``details["ranking"]`` lists every
        combination tried (per letter its support; for feasible ones the exact and approximate
        utility and P_U), best first.

    Warns
    -----
    ConvergenceWarning
        The search stopped at ``max_combinations``.

    Raises
    ------
    InfeasibleError
        No combination of extreme points is feasible, all of them tried (possible for
        small K; see ERRATA: Proposition 4 can fail) —
        :func:`optimal_l1` solves the problem exactly.
    InvalidParameterError
        Bad ``eps`` or ``max_combinations``.
    InvalidDistributionError
        ``p_xy`` is not a valid joint distribution.
    """
    fn = "design_l1"
    base = check_base(base, func=fn)
    max_combinations = check_positive(
        max_combinations, func=fn, name="max_combinations", integer=True
    )
    prob = make_problem(p_xy, eps, func=fn)
    sups, Ur = _supports(prob)
    if not sups:
        raise InfeasibleError(
            f"{fn}: P_X|Y has no non-degenerate extreme point (every support's extreme point "
            "has a zero or negative entry), so the first-order LP does not apply; "
            "use optimal_l1 for the exact optimum."
        )
    eps_l = [float(e) for e in prob.eps]
    groups = sorted(Counter(eps_l).items())
    order = [u for e, _ in groups for u in range(len(eps_l)) if eps_l[u] == e]
    eps_sorted = [eps_l[u] for u in order]
    # multisets of k supports out of n: C(n + k - 1, k); counted before any is built
    n_combo = math.prod(math.comb(len(sups) + k - 1, k) for _, k in groups)
    truncated = n_combo > max_combinations
    ranking, best = [], None
    # lazily (itertools.product would first list every group's multisets)
    combos = _multiset_product([k for _, k in groups], len(sups))
    for parts in itertools.islice(combos, max_combinations):
        combo = tuple(k for part in parts for k in part)
        sol = _solve_combo(prob, Ur, sups, combo, eps_sorted)
        supports = [sups[k]["support"] for k in combo]
        if sol is None:
            ranking.append({"supports": supports, "feasible": False})
            continue
        mech_sorted, approx = sol
        mech = np.zeros_like(mech_sorted)
        mech[:, order] = mech_sorted
        exact = exact_figures(prob, mech, measure="l1", base=base)[1]
        ranking.append(
            {
                "supports": [supports[order.index(u)] for u in range(len(order))],
                "feasible": True,
                "utility": exact,
                "utility_approx": float(from_nats(approx, base)),
                "p_u": prob.p_y @ mech,
            }
        )
        if best is None or exact > best[0]:
            best = (exact, mech, approx)
    if best is None and truncated:  # U constant (leaks nothing): feasible, utility 0
        mech = np.zeros((prob.p_y.shape[0], len(eps_l)))
        mech[:, int(np.argmax(eps_l))] = 1.0
        best = (0.0, mech, 0.0)
    if best is None:
        raise InfeasibleError(
            f"{fn}: no combination of extreme points is feasible for these budgets "
            f"({len(ranking)} tried); this can happen for small K (Proposition 4 fails, see "
            "ERRATA.md). Use optimal_l1 for the exact optimum."
        )
    ranking.sort(key=lambda d: -d.get("utility", -math.inf))
    if best[0] <= 1e-12 and max(eps_l) > 0 and not truncated:
        warnings.warn(
            f"{fn}: the extreme-point LP found only constant mechanisms (I(U;Y) = 0) "
            f"although a budget is positive ({max(eps_l):g}); the global optimum can be "
            "larger: optimal_l1 computes it (small alphabets).",
            DesignWarning,
            stacklevel=2,
        )
    details = {"rank": Ur.shape[1], "n_supports": len(sups), "ranking": ranking}
    details.update(n_combinations=n_combo, n_tried=len(ranking))
    design = finish(
        prob,
        best[1],
        measure="l1",
        method="l1 extreme-point LP (Theorems 2-4)",
        utility_approx_nats=best[2],
        base=base,
        details=details,
    )
    if truncated:
        upper = max(_global_upper_bound(prob, base), design.utility)
        gap = upper - design.utility
        design.details.update(
            status=Status.NOT_CERTIFIED,
            upper_bound=upper,
            gap=gap,
            limit=f"max_combinations={max_combinations}",
        )
        warnings.warn(
            f"{fn}: stopped at max_combinations={max_combinations} of {n_combo:,} "
            f"combinations of extreme points: best I(U;Y) = {design.utility:.9g}, proved "
            f"upper bound on the global optimum {upper:.9g}, gap {gap:.3g} (base {base:g}); "
            "raise max_combinations, or use optimal_l1.",
            ConvergenceWarning,
            stacklevel=2,
        )
    return design


def _multiset_product(ks: list[int], n: int):
    """itertools.product of combinations_with_replacement(range(n), k) over ``ks``, same
    order, generated lazily."""
    if not ks:
        yield ()
        return
    for head in itertools.combinations_with_replacement(range(n), ks[0]):
        for rest in _multiset_product(ks[1:], n):
            yield (head, *rest)


def _global_upper_bound(prob, base: float) -> float:
    """A proved bound on max I(U;Y) over all feasible mechanisms (units of ``base``): the
    root relaxation of :func:`optimal_l1`'s branch and bound, or H(Y) when its vertex
    enumeration would be too large."""
    from .exact import MAX_VERTEX_CANDIDATES, _constraint_rows

    n_x, n_y = prob.p_xy.shape
    h_y = float(-(prob.p_y * np.log(prob.p_y)).sum())
    if n_x > 12 or n_vertex_candidates(2**n_x - 2, n_x, n_y) > MAX_VERTEX_CANDIDATES:
        return float(from_nats(h_y, base))
    A = prob.p_x_given_y - prob.p_x[:, None]
    G = {e: _constraint_rows(A, e) for e in set(prob.eps.tolist())}
    bound = root_bound(prob.p_y, [G[e] for e in prob.eps.tolist()])
    return float(from_nats(min(bound, h_y), base))
