r"""The E-IT designs of paper 002: Theorems 1–2 (binary hypotheses, closed form) and
Lemma 3 / Theorem 3 (m-ary hypotheses, an SDP).

Both solve the approximate problem (14)/(35) in **nats** (the quadratic forms of
Proposition 1 are ½χ² expansions); budgets given in ``base`` units are converted once,
:math:`\epsilon \ln(\text{base})` (ERRATA 002). The mechanism is :math:`W' = W_0 +
A^*[\sqrt{w_0}]`; the paper leaves :math:`w_0` (and :math:`v`, :math:`V`) free, and they
decide whether :math:`W'` is a valid (nonnegative) mechanism at all:

* ``w0="auto"`` (default) picks them to keep :math:`W'` nonnegative with the largest
  margin. For a rank-one :math:`A^* = a^T v` (binary hypotheses, or any rank-one SDP
  solution) and :math:`N = 2`, :math:`v = (\sqrt{w_{02}}, -\sqrt{w_{01}})` and with
  :math:`r = \sqrt{w_{01}/w_{02}}` the entries are :math:`w_{01}(1 + a_i/r)` and
  :math:`w_{02}(1 - a_i r)`: nonnegative iff :math:`\max_i(-a_i) \le r \le 1/\max_i
  a_i`. The rule takes the log-midpoint :math:`r = \sqrt{\max(-a)/\max(a)}` (farthest from
  both walls); no :math:`w_0` works when :math:`\max(a)\max(-a) > 1`, and since
  :math:`a` scales as the square root of the budgets, the largest feasible budget scale is
  :math:`1/(\max(a)\max(-a))` — the :class:`InfeasibleError` says so. For rank
  :math:`l \ge 2` the rule searches :math:`w_0` and the rotation of :math:`V`'s first
  :math:`l` columns (seeded random candidates plus the uniform :math:`w_0`) for the
  largest budget scale keeping :math:`W' \ge 0`.
* an explicit ``w0`` is used as given (the paper's Section VI uses (0.5, 0.5)).

Every design reports the exact utility and the exact :math:`I(p_k, W')` of the matrix it
returns beside the approximate objective.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import minimize_scalar

from .._validation import as_generator, as_pmf, check_base, check_size
from ..errors import InfeasibleError, InvalidParameterError, MissingDependencyError, SolverError
from ..results import HypothesisDesign
from ..units import from_nats, to_nats
from ._common import as_budgets, as_hypotheses, check_utility, figures, mi_nats


def _qcqp_binary(p1: np.ndarray, p2: np.ndarray, e1: float, e2: float) -> dict[str, Any]:
    r"""Problem (15) (equivalently the convex (62)) in nats, all three cases of Theorem 2
    at once through its dual: with :math:`\eta = s(t, 1-t)`,

    .. math:: g(\eta) = \frac{\lambda_p^2}{8}\sum_i \frac{v_{p,i}^2}{\eta_1 p_{1i} +
              \eta_2 p_{2i}} + \eta_1\epsilon_1 + \eta_2\epsilon_2 ,

    minimized over :math:`s` in closed form (:math:`2\sqrt{\lambda_p^2 F(t) E(t)/8}`) and
    over :math:`t \in [0, 1]` numerically (the partial minimum is quasi-convex in
    :math:`t`). :math:`t = 1` is case 1 (eqs. (20)–(21)), :math:`t = 0` case 2 ((22)–(23)),
    interior :math:`t` case 3 with :math:`\eta_1, \eta_2 > 0` solving (25)–(26). The
    primal :math:`a` of (66) is then scaled onto the feasible set, so ``value <= optimum
    <= bound`` holds whatever the accuracy of :math:`t`."""
    d = p2 - p1
    lam = float(d @ d)
    vp = d / math.sqrt(lam)
    if min(e1, e2) == 0:
        return dict(a=np.zeros_like(p1), value=0.0, bound=0.0, case="zero budget", eta=(0, 0), t=0)

    def F(t: float) -> float:
        return float(np.sum(vp**2 / (t * p1 + (1 - t) * p2)))

    def E(t: float) -> float:
        return t * e1 + (1 - t) * e2

    def phi(t: float) -> float:
        return math.log(F(t)) + math.log(E(t))

    grid = np.linspace(0.0, 1.0, 257)
    vals = np.array([phi(t) for t in grid])
    i = int(np.argmin(vals))
    best_t, best = float(grid[i]), float(vals[i])
    lo, hi = float(grid[max(i - 1, 0)]), float(grid[min(i + 1, grid.size - 1)])
    if hi > lo:
        r = minimize_scalar(phi, bounds=(lo, hi), method="bounded", options={"xatol": 1e-15})
        if r.fun < best:
            best_t, best = float(r.x), float(r.fun)
    t = best_t
    s = math.sqrt(lam**2 / 8 * F(t) / E(t))
    eta = (s * t, s * (1 - t))
    a = lam / 2 * vp / (eta[0] * p1 + eta[1] * p2)
    f = np.array([0.5 * float(a @ (p * a)) for p in (p1, p2)])
    a = a * min(math.sqrt(e / fk) for e, fk in zip((e1, e2), f, strict=True) if fk > 0)
    value = 0.5 * lam * float(a @ vp) ** 2
    dual = lam**2 / 8 * F(t) / s + s * E(t)
    # the paper's case conditions (20) and (22), reported beside the solution
    c20 = float(np.sum(vp**2 * p2 / p1**2) / np.sum(vp**2 / p1)) < e2 / e1
    c22 = float(np.sum(vp**2 * p1 / p2**2) / np.sum(vp**2 / p2)) < e1 / e2
    case = (
        "only constraint 1 active (20)-(21)"
        if t >= 1 - 1e-12
        else "only constraint 2 active (22)-(23)"
        if t <= 1e-12
        else "both constraints active (24)-(26)"
    )
    return dict(
        a=a,
        value=value,
        bound=max(2 * dual**2 / lam, value),
        case=case,
        eta=eta,
        t=t,
        condition_20=c20,
        condition_22=c22,
        lambda_p=lam,
    )


def _rank_one_mechanism(a: np.ndarray, w0: Any, func: str, scale_unit: str):
    """W' = W0 + a^T v [sqrt(w0)] with N = 2 (module docstring): returns (W, w0, v, sign)."""
    if isinstance(w0, str):
        if w0 != "auto":
            raise InvalidParameterError(f"{func}: 'w0' must be 'auto' or a pmf; got {w0!r}.")
        a_pos, a_neg = max(float(a.max()), 0.0), max(float((-a).max()), 0.0)
        if a_pos * a_neg > 1:
            c = 1 / (a_pos * a_neg)
            raise InfeasibleError(
                f"{func}: no w0 keeps W' = W0 + a^T v [sqrt(w0)] nonnegative at these "
                f"budgets (max(a) max(-a) = {a_pos * a_neg:.6g} > 1); the largest feasible "
                f"budget scale is {c:.6g} (multiply {scale_unit} by at most that)."
            )
        r = math.sqrt(a_neg / a_pos) if a_pos > 0 and a_neg > 0 else 1.0
        w = np.array([r * r / (1 + r * r), 1 / (1 + r * r)])
        sign = 1.0
    else:
        w = as_pmf(w0, func=func, name="w0")
        if w.size != 2 or w.min() <= 0:
            raise InvalidParameterError(
                f"{func}: an explicit 'w0' must be an interior pmf on N = 2 outputs for a "
                f"rank-one design; got {w.tolist()}."
            )
        r = math.sqrt(w[0] / w[1])
        scales = []
        for sgn in (1.0, -1.0):
            sa = sgn * a
            up, dn = max(float(sa.max()), 0.0), max(float((-sa).max()), 0.0)
            c = min(
                (1 / (r * up)) ** 2 if up > 0 else math.inf, (r / dn) ** 2 if dn > 0 else math.inf
            )
            scales.append(c)
        if max(scales) < 1 - 1e-12:
            raise InfeasibleError(
                f"{func}: W' = W0 + a^T v [sqrt(w0)] has negative entries for w0 = "
                f"{w.tolist()} at these budgets; the largest feasible budget scale for this "
                f"w0 is {max(scales):.6g} (or pass w0='auto')."
            )
        sign = 1.0 if scales[0] >= 1 - 1e-12 else -1.0
    v = np.array([math.sqrt(w[1]), -math.sqrt(w[0])])
    W = w[None, :] + sign * np.outer(a, v) * np.sqrt(w)[None, :]
    return _clean(W), w, v, sign


def _clean(W: np.ndarray) -> np.ndarray:
    """Clip rounding-level negatives (a construction that is nonnegative in exact
    arithmetic) and renormalize the rows exactly."""
    if W.min() < -1e-12:
        raise SolverError(f"internal: constructed mechanism has entry {W.min():.3g} < 0.")
    W = np.maximum(W, 0.0)
    return W / W.sum(axis=1, keepdims=True)


def design_binary(
    p1: ArrayLike,
    p2: ArrayLike,
    eps1: float,
    eps2: float,
    *,
    w0: ArrayLike | str = "auto",
    utility: str = "kl",
    alpha: float | None = None,
    base: float = 2,
) -> HypothesisDesign:
    r"""Theorems 1–2 of paper 002: the closed-form E-IT mechanism for testing
    :math:`H_1: p_1` against :math:`H_2: p_2` under :math:`I(p_k, W) \le \epsilon_k`.

    Solves (15) — equivalently the convex (62) — exactly (all three cases of Theorem 2,
    with :math:`\eta_1, \eta_2` of (25)–(26) found through the dual, see
    :func:`_qcqp_binary`), then returns eq. (19), :math:`W' = W_0 + (a^*)^T v
    [\sqrt{w_0}]` with :math:`N = 2` outputs.

    Parameters
    ----------
    p1, p2 : array_like, shape (M,)
        The hypotheses (full support: the solution divides by them).
    eps1, eps2 : float
        Leakage budgets on :math:`I(p_1, W)` and :math:`I(p_2, W)`, units of ``log_base``.
    w0 : "auto" or array_like of shape (2,)
        The perfect-privacy row (module docstring); ``"auto"`` keeps :math:`W'`
        nonnegative with the largest margin.
    utility, alpha : str, float
        Which exact utility to report: ``"kl"``, :math:`D(p_2W\|p_1W)` (eq. (13)), or
        ``"renyi"``, :math:`D_\alpha(p_2W\|p_1W)` with ``alpha`` in (0, 1) (eq. (32); by
        Corollary 1 the same :math:`W'` is the E-IT design there).
    base : float
        Logarithm base of budgets and results (2: bits).

    Returns
    -------
    HypothesisDesign
        ``utility_approx`` is the value of (15), :math:`\tfrac12\lambda_p (a^* v_p^T)^2`;
        ``details`` holds the case, :math:`\eta`, the QP's dual bound, ``w0``, ``v``.

    Raises
    ------
    InfeasibleError
        No :math:`w_0` (or not the given one) keeps :math:`W'` nonnegative; the message
        gives the largest feasible budget scale.
    """
    fn = "design_binary"
    b = check_base(base, func=fn)
    p1v, p2v = as_pmf(p1, func=fn, name="p1"), as_pmf(p2, func=fn, name="p2")
    if p1v.shape != p2v.shape:
        raise InvalidParameterError(
            f"{fn}: p1 and p2 must have the same length; got {p1v.shape} and {p2v.shape}."
        )
    ps = as_hypotheses(np.vstack([p1v, p2v]), func=fn, full_support=True)
    eps = as_budgets([eps1, eps2], 2, func=fn, name="eps1/eps2")
    kind, a_ren = check_utility(utility, alpha, 2, func=fn)
    e = to_nats(eps, b)
    qp = _qcqp_binary(ps[0], ps[1], float(e[0]), float(e[1]))
    W, w, v, sign = _rank_one_mechanism(qp["a"], w0, fn, "eps1 and eps2")
    u, ex, leaks = figures(ps, W, kind, a_ren, b)
    return HypothesisDesign(
        mechanism=W,
        utility=u,
        utility_approx=float(from_nats(qp["value"], b)),
        upper_bound=math.nan,
        exponents=ex,
        leakages=leaks,
        budgets=eps,
        utility_kind=kind,
        alpha=a_ren,
        method="E-IT closed form (Theorems 1-2)",
        base=b,
        details=dict(
            budgets_qp_nats=e,
            case=qp["case"],
            eta=qp["eta"],
            condition_20=qp.get("condition_20"),
            condition_22=qp.get("condition_22"),
            a=sign * qp["a"],
            qp_value_nats=qp["value"],
            qp_bound_nats=qp["bound"],
            w0=w,
            v=v,
            w0_rule="auto: log-midpoint of the nonnegativity interval"
            if isinstance(w0, str)
            else "given",
        ),
    )


def _sdp(ps: np.ndarray, e: np.ndarray, solver: str | None):
    """Lemma 3's SDP (36) in nats, with an independent certificate ``[lower, upper]``."""
    try:
        import cvxpy as cp
    except ImportError as exc:  # pragma: no cover - cvxpy is a runtime dependency
        raise MissingDependencyError("design_mary needs cvxpy (pip install cvxpy).") from exc
    M = ps.shape[1]
    D = ps[1:] - ps[0][None, :]
    # scaled for the solver: B = sB * Bt, t = st * tt with every row O(1)
    sB = float(e.mean())
    st = sB * float(max(d @ d for d in D))
    Bt = cp.Variable((M, M), PSD=True)
    tt = cp.Variable()
    cu = [0.5 * (d @ Bt @ d) * (sB / st) >= tt for d in D]
    cl = [0.5 * (p @ cp.diag(Bt)) * (sB / ek) <= 1 for p, ek in zip(ps, e, strict=True)]
    prob = cp.Problem(cp.Maximize(tt), cu + cl)
    name = solver or ("CLARABEL" if M <= 40 else "SCS")
    opts = (
        dict(tol_gap_abs=1e-11, tol_gap_rel=1e-11, tol_feas=1e-11, tol_ktratio=1e-9)
        if name == "CLARABEL"
        else {}
    )
    try:
        with warnings.catch_warnings():
            # cvxpy warns on "optimal_inaccurate"; the certificate below is independent of
            # the solver's accuracy and is what the result reports
            warnings.simplefilter("ignore", UserWarning)
            prob.solve(solver=name, **opts)
    except cp.error.SolverError as exc:
        raise SolverError(f"design_mary: the SDP solver {name} failed: {exc}") from exc
    if prob.status not in ("optimal", "optimal_inaccurate") or Bt.value is None:
        raise SolverError(f"design_mary: the SDP solver {name} returned status {prob.status!r}.")
    # primal certificate: the PSD part of B, scaled onto the budgets
    Bv = sB * 0.5 * (Bt.value + Bt.value.T)
    lam, U = np.linalg.eigh(Bv)
    lam = np.maximum(lam, 0.0)
    Bp = (U * lam) @ U.T
    used = np.array([0.5 * float(p @ np.diag(Bp)) for p in ps])
    c = min([1.0] + [ek / uk for ek, uk in zip(e, used, strict=True) if uk > 0])
    lam, Bp = lam * c, Bp * c
    lower = float(min(0.5 * d @ Bp @ d for d in D))
    # dual certificate: nu on the utility rows (normalized), mu on the budgets, made
    # feasible by the smallest scaling c with S_nu <= c M_mu
    nu = np.maximum(np.array([float(k.dual_value) for k in cu]), 0.0)
    mu = np.maximum(np.array([float(k.dual_value) for k in cl]), 0.0) * st / e
    upper = math.inf
    if nu.sum() > 0:
        nu = nu / nu.sum()
        S = 0.5 * (D.T * nu) @ D
        diag = 0.5 * (mu @ ps)
        if np.all(diag > 0):
            R = S / np.sqrt(np.outer(diag, diag))
            upper = max(float(np.linalg.eigvalsh(R).max()), 0.0) * float(mu @ e)
    return lam, U, lower, max(upper, lower), name


def _basis(w: np.ndarray, rk: int) -> np.ndarray:
    """(rk+1)×rk orthonormal columns orthogonal to sqrt(w0): the QR completion."""
    Q, _ = np.linalg.qr(np.hstack([np.sqrt(w)[:, None], np.eye(rk + 1)[:, :rk]]))
    return Q[:, 1:]


def _budget_scale(A: np.ndarray, w: np.ndarray, V: np.ndarray) -> float:
    """Largest c with W0 + sqrt(c) A V^T [sqrt(w0)] >= 0: entries need (A V^T)_ij >=
    -sqrt(w0_j) / sqrt(c) (A scales as the square root of the budgets)."""
    Z = A @ V.T
    neg = Z < 0
    ratio = np.where(neg, np.sqrt(w)[None, :] / np.where(neg, -Z, 1.0), np.inf)
    return float(ratio.min() ** 2)


def _rotation_search(A: np.ndarray, rng: np.random.Generator, n_candidates: int):
    """For A = U_l Sigma_l (M×l, l >= 2): (w0, V_l) maximizing the budget scale that keeps
    W0 + A V_l^T [sqrt(w0)] nonnegative; returns (scale, w0, V_l)."""
    rk = A.shape[1]
    N = rk + 1
    best = (-1.0, None, None)
    for c in range(n_candidates):
        w = np.full(N, 1.0 / N) if c == 0 else rng.dirichlet(np.full(N, 4.0))
        V = _basis(w, rk)
        if c > 0:
            G = rng.standard_normal((rk, rk))
            Q, Rm = np.linalg.qr(G)
            V = V @ (Q * np.sign(np.diag(Rm)))
        sc = _budget_scale(A, w, V)
        if sc > best[0]:
            best = (sc, w, V)
    return best


def design_mary(
    ps: ArrayLike,
    eps: ArrayLike,
    *,
    w0: ArrayLike | str = "auto",
    V: ArrayLike | None = None,
    solver: str | None = None,
    rng: np.random.Generator | int | None = 0,
    n_candidates: int = 512,
    base: float = 2,
) -> HypothesisDesign:
    r"""Lemma 3 / Theorem 3 of paper 002: the E-IT mechanism for m-ary testing.

    Solves the SDP (36) (cvxpy; Clarabel, SCS beyond M = 40) for :math:`B^* = A A^T`,
    certifies its value independently (a PSD, budget-feasible primal and a feasible dual
    rebuilt from the solver's multipliers), takes the rank :math:`l` of :math:`B^*`
    (eigenvalues above :math:`10^{-7}` of the largest) and builds eq. (38),
    :math:`A^* = U^*\Sigma^*V^T` with :math:`N = l + 1` outputs, then :math:`W' = W_0 +
    A^*[\sqrt{w_0}]` (37).

    Parameters
    ----------
    ps : array_like, shape (m, M)
        Row k is :math:`p_k` (full support); :math:`H_1` is the distinguished hypothesis.
    eps : float or array_like, shape (m,)
        Budgets on :math:`I(p_k, W)`, units of ``log_base``.
    w0 : "auto" or array_like
        See the module docstring; an explicit ``w0`` must have :math:`l + 1` entries.
    V : array_like, shape (l + 1, l), optional
        With an explicit ``w0`` and rank :math:`l \ge 2`: the first :math:`l` columns of
        Theorem 3's unitary V (orthonormal, orthogonal to :math:`\sqrt{w_0}`); default the
        QR completion of :math:`\sqrt{w_0}`. Recorded in ``details["V"]``.
    solver : str, optional
        A cvxpy solver name.
    rng, n_candidates
        Seed and number of candidates of the ``"auto"`` search when :math:`l \ge 2`.

    Returns
    -------
    HypothesisDesign
        ``utility_approx`` is the E-IT objective (35a) of the returned :math:`A^*`;
        ``details["sdp_bounds_nats"]`` the certified bracket of the SDP's optimum.
    """
    fn = "design_mary"
    b = check_base(base, func=fn)
    P = as_hypotheses(ps, func=fn, full_support=True)
    m, M = P.shape
    epsv = as_budgets(eps, m, func=fn)
    # every argument checked up front, whichever path the rank takes below
    gen = as_generator(rng, func=fn)
    n_candidates = check_size(
        n_candidates, func=fn, name="n_candidates", limit=1_000_000, what="candidates"
    )
    if V is not None:
        if isinstance(w0, str):
            raise InvalidParameterError(f"{fn}: an explicit 'V' needs an explicit 'w0'.")
        Va = np.asarray(V, dtype=object)
        try:
            Vf = np.asarray(V, dtype=float)
        except (TypeError, ValueError) as exc:
            raise InvalidParameterError(
                f"{fn}: the 'V' argument must be a real matrix; got {Va!r} instead."
            ) from exc
        if Vf.ndim != 2 or not np.all(np.isfinite(Vf)):
            raise InvalidParameterError(
                f"{fn}: the 'V' argument must be a 2-D matrix of finite real numbers; got "
                f"{Vf!r} instead."
            )
        V = Vf
    e = to_nats(epsv, b)
    D = P[1:] - P[0][None, :]
    if e.min() == 0:
        lam, U, lower, upper, name = np.zeros(M), np.eye(M), 0.0, 0.0, "none (a zero budget)"
    else:
        lam, U, lower, upper, name = _sdp(P, e, solver)
    # the smallest rank whose truncation keeps the certified SDP value to 1e-6 relative
    order = np.argsort(lam)[::-1]
    rk = 0
    for r in range(1, M + 1):
        top = order[:r]
        if lam[top[-1]] <= 0:
            break
        rk = r
        Br = (U[:, top] * lam[top]) @ U[:, top].T
        if min(0.5 * float(d @ Br @ d) for d in D) >= (1 - 1e-6) * lower:
            break
    keep = np.zeros(M, dtype=bool)
    keep[order[:rk]] = True
    if rk == 0:
        W = np.ones((M, 1))
        info: dict[str, Any] = dict(w0=np.ones(1), rank=0)
        approx = 0.0
    else:
        A = U[:, keep] * np.sqrt(lam[keep])[None, :]
        approx = float(min(0.5 * float(np.sum((d @ A) ** 2)) for d in D))
        if rk == 1:
            W, w, v, _ = _rank_one_mechanism(A[:, 0], w0, fn, "eps")
            info = dict(
                w0=w,
                V=v[:, None],
                rank=1,
                w0_rule="auto: log-midpoint" if isinstance(w0, str) else "given",
            )
        else:
            if isinstance(w0, str):
                sc, w, V = _rotation_search(A, gen, n_candidates)
                rule = f"auto: best of {n_candidates} (w0, rotation) candidates"
            else:
                w = as_pmf(w0, func=fn, name="w0")
                if w.size != rk + 1 or w.min() <= 0:
                    raise InvalidParameterError(
                        f"{fn}: an explicit 'w0' needs N = rank + 1 = {rk + 1} interior entries; "
                        f"got {w.tolist()}."
                    )
                sc, w, V = _rotation_search_fixed(A, w, V, fn)
                rule = "given"
            if sc < 1 - 1e-12:
                raise InfeasibleError(
                    f"{fn}: no (w0, V) found keeps W' = W0 + A* [sqrt(w0)] nonnegative at "
                    f"these budgets (rank {rk}); the largest feasible budget scale found is "
                    f"{sc:.6g} (multiply eps by at most that)."
                )
            W = _clean(w[None, :] + (A @ V.T) * np.sqrt(w)[None, :])
            info = dict(w0=w, V=V, rank=rk, w0_rule=rule, budget_scale=sc)
    u, ex, leaks = figures(P, W, "kl", math.nan, b)
    return HypothesisDesign(
        mechanism=W,
        utility=u,
        utility_approx=float(from_nats(approx, b)),
        upper_bound=math.nan,
        exponents=ex,
        leakages=leaks,
        budgets=epsv,
        utility_kind="kl",
        alpha=math.nan,
        method=f"E-IT SDP (Lemma 3, Theorem 3; {name})",
        base=b,
        details=dict(budgets_qp_nats=e, sdp_bounds_nats=(lower, upper), eigenvalues=lam, **info),
    )


def _rotation_search_fixed(A: np.ndarray, w: np.ndarray, V=None, fn: str = "design_mary"):
    """An explicit w0 (and V, default the QR completion of sqrt(w0)): no search."""
    rk = A.shape[1]
    s = np.sqrt(w)[:, None]
    if V is None:
        V = _basis(w, rk)
    else:
        V = np.asarray(V, dtype=float)
        ok = V.shape == (rk + 1, rk) and np.allclose(V.T @ V, np.eye(rk), atol=1e-10)
        if not ok or not np.allclose(V.T @ s, 0.0, atol=1e-10):
            raise InvalidParameterError(
                f"{fn}: 'V' must be ({rk + 1}, {rk}) with orthonormal columns orthogonal to "
                "sqrt(w0) (Theorem 3)."
            )
    return _budget_scale(A, w, V), w, V


def within_budget(design: HypothesisDesign, ps: ArrayLike) -> HypothesisDesign:
    r"""``design`` mixed with a constant channel just enough to meet every budget exactly.

    The E-IT designs meet their budgets to second order only (their exact leakage can
    exceed :math:`\epsilon_k` slightly). Along :math:`W_t = (1 - t) W + t\,\mathbf 1 w`
    (:math:`w = p_1 W`; the constant channel leaks nothing) each :math:`I(p_k, W_t)` is
    convex in :math:`t` and zero at :math:`t = 1`, hence nonincreasing: bisection finds
    the smallest :math:`t` with every :math:`I(p_k, W_t) \le \epsilon_k (1 - 10^{-13})`
    (the margin absorbs rounding: no evaluation finds a leakage above its budget). A
    design already within its budgets is returned unchanged.

    Parameters
    ----------
    design : HypothesisDesign
        A design of :func:`design_binary`, :func:`design_mary` or
        :func:`optimal_mechanism`.
    ps : array_like, shape (m, M)
        The hypotheses it was designed for (row k = :math:`p_k`).

    Returns
    -------
    HypothesisDesign
        Exact utility, exponents and leakages of the mixed mechanism;
        ``details["within_budget"]`` holds ``t`` and the design's utility and leakages
        before the mixing (units of ``log_base``).

    Examples
    --------
    >>> import numpy as np
    >>> from leakage.hypothesis import design_binary, within_budget
    >>> ps = [(0.55, 0.45), (0.95, 0.05)]
    >>> d = design_binary(*ps, 0.01, 0.01)
    >>> bool(d.max_violation > 0), bool(within_budget(d, ps).max_violation <= 0)
    (True, True)
    """
    fn = "within_budget"
    if not isinstance(design, HypothesisDesign):
        raise InvalidParameterError(
            f"{fn}: the 'design' argument must be a HypothesisDesign; got "
            f"{type(design).__name__} instead."
        )
    P = as_hypotheses(ps, func=fn)
    W = np.asarray(design.mechanism, dtype=float)
    if W.shape[0] != P.shape[1] or design.budgets.shape != (P.shape[0],):
        raise InvalidParameterError(
            f"{fn}: 'ps' ({P.shape[0]} hypotheses of {P.shape[1]} letters) does not match "
            f"the design (W of shape {W.shape}, {design.budgets.size} budgets)."
        )
    # a hair inside (1e-13 relative): every evaluation path of I, in any unit, then
    # finds the leakage at or below the budget, never one rounding step above it
    e = to_nats(np.asarray(design.budgets, dtype=float), design.base) * (1 - 1e-13)

    def excess(t: float) -> float:
        Wt = (1.0 - t) * W + t * w[None, :]
        return float(max(mi_nats(p, Wt) - ek for p, ek in zip(P, e, strict=True)))

    w = P[0] @ W
    if np.all(np.array([mi_nats(p, W) for p in P]) <= e / (1 - 1e-13)):
        return design  # within the budgets as given
    lo, hi = 0.0, 1.0  # excess(lo) > 0 >= excess(hi)
    while hi - lo > 1e-15 * max(hi, 1e-300) and hi > 0:
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        lo, hi = (lo, mid) if excess(mid) <= 0 else (mid, hi)
    Wt = (1.0 - hi) * W + hi * w[None, :]
    u, ex, leaks = figures(P, Wt, design.utility_kind, design.alpha, design.base)
    return dataclasses.replace(
        design,
        mechanism=Wt,
        utility=u,
        exponents=ex,
        leakages=leaks,
        method=design.method
        + f"; mixed with a constant channel (t = {hi:.3g}) to meet the budgets exactly",
        details={
            **design.details,
            "within_budget": dict(
                t=hi, utility_before=design.utility, leakages_before=design.leakages
            ),
        },
    )
