r"""Asymptotic leakage regions of the successive-refinement Shannon cipher (paper 000,
Section III): :math:`\Lambda_1, \Lambda_2, \Lambda_2^{out}` (eqs. (16)–(18)) under the JEP
criterion, :math:`\Omega_1, \Omega_2, \Omega_2^{out}` (eqs. (32)–(34)) under expected
distortion, the key-rate conditions of Corollaries 2 and 4 and the floor
:math:`\alpha^*` of Remark 2. Every number is computed in nats here and converted once.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import warnings
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from .._validation import (
    as_pmf,
    check_base,
    check_nonnegative,
    check_positive,
    check_size,
    check_tolerance,
)
from ..errors import ConvergenceWarning, InfeasibleError, InvalidParameterError
from ..ratedistortion import as_distortion_arg
from ..ratedistortion._refinement import (
    _Ctx,
    _marginals,
    capped_candidates,
    joint_info,
    uncapped,
)
from ..results import Status
from ..units import from_nats, to_nats
from ._bounds import CappedGibbs, gibbs_upper, slope_lower
from ._search import SearchResult, ball_extremum, kl

#: Largest budget of source types (``max_evals``) of one search.
MAX_EVALS = 10**6
#: Largest number of exponents of one :func:`leakage_region_curve` call.
MAX_ALPHAS = 10**4

__all__ = [
    "KeyRateLimits",
    "LeakageRegion",
    "alpha_star",
    "key_rate_limits",
    "leakage_region",
    "leakage_region_curve",
]


@dataclasses.dataclass(frozen=True)
class LeakageRegion:
    r"""The corner point of the inner region :math:`\{L_1 \ge L1, L_2 \ge L2_{inner}\}`
    and of the outer region :math:`\{L_1 \ge L1, L_2 \ge L2_{outer}\}`.

    Attributes
    ----------
    L1, L2_inner, L2_outer : float
        :math:`\Lambda_1, \Lambda_2, \Lambda_2^{out}` (eqs. (16)–(18)) when ``alpha`` is
        given, :math:`\Omega_1, \Omega_2, \Omega_2^{out}` (eqs. (32)–(34)) when it is
        ``None``; each is the value at a point of the KL ball (attained, achievable).
    L1_bound, L2_inner_bound, L2_outer_bound : float
        Certified upper bounds of the maxima over the ball (``nan`` where no certificate
        is available: ``R1="tight"``, except with one Hamming distortion for both layers,
        where every source is successively refinable (Equitz & Cover 1991) and the tight
        reading equals the uncapped one, bounds included). The true values lie in
        ``[value, bound]``.
    tight : bool
        Whether inner and outer regions coincide (``L2_inner == L2_outer`` to ``tol``).
    criterion : str
        ``"jep"`` (Theorem 1) or ``"expected"`` (Theorem 3).
    alpha : float or None
        The JEP exponent (units of ``log base``).
    argmax_L1, argmax_L2_inner, argmax_L2_outer : ndarray
        A maximizing source type ``Q`` of each term (``p`` itself for ``"expected"``).
    max_rate1, max_sum_rate : float
        :math:`\max_Q R(Q, D_1)` and :math:`\max_Q R(Q, R_1, D_1, D_2)` over the ball.
    rates_sufficient : bool
        Whether the message rates meet Theorem 1's (21)–(22) (Theorem 3's (37)–(38)).
    R1_reading : str
        ``"none"`` (no cap), ``"value"`` or ``"tight"`` (``R1 = R(Q, D1)`` at each Q).
    certified : bool
        Whether every bound is within ``tol`` of its value (property ``status``:
        ``Status.OPTIMAL``, else ``Status.NOT_CERTIFIED`` with a
        :class:`~leakage.errors.ConvergenceWarning` naming the gap and the limit).
    n_evals : int
        Source types evaluated.
    base : float
    """

    L1: float
    L2_inner: float
    L2_outer: float
    L1_bound: float
    L2_inner_bound: float
    L2_outer_bound: float
    tight: bool
    criterion: str
    alpha: float | None
    argmax_L1: np.ndarray
    argmax_L2_inner: np.ndarray
    argmax_L2_outer: np.ndarray
    max_rate1: float
    max_sum_rate: float
    rates_sufficient: bool
    R1_reading: str
    certified: bool
    n_evals: int
    base: float

    _json_extra = ("missed", "status")

    @property
    def status(self) -> Status:
        """``OPTIMAL`` when certified, else ``NOT_CERTIFIED`` (a limit or a missing
        certificate stopped it; a :class:`~leakage.errors.ConvergenceWarning` says which)."""
        return Status.OPTIMAL if self.certified else Status.NOT_CERTIFIED

    @property
    def missed(self) -> float:
        """Largest certified ``bound - value`` over the three terms (``nan``: uncertified)."""
        gaps = (
            self.L1_bound - self.L1,
            self.L2_inner_bound - self.L2_inner,
            self.L2_outer_bound - self.L2_outer,
        )
        return math.nan if any(math.isnan(g) for g in gaps) else max(gaps)


@dataclasses.dataclass(frozen=True)
class KeyRateLimits:
    r"""Largest key rates with inner = outer region (Corollary 2 (26)–(27); Corollary 4
    (41)–(42) for ``alpha=None``): :math:`r_1 \le \min_Q R(Q,D_1)`,
    :math:`r_2 \le \min_Q [R(Q,R_1,D_1,D_2) - R(Q,D_1)]` over the KL ball. Unpacks as
    ``r1_max, r2_max = key_rate_limits(...)``. ``*_bound`` are certified lower bounds of
    the minima (``nan`` where uncertified); ``certified``: both within ``tol``."""

    r1_max: float
    r2_max: float
    r1_bound: float
    r2_bound: float
    argmin_r1: np.ndarray
    argmin_r2: np.ndarray
    alpha: float | None
    R1_reading: str
    base: float
    certified: bool = True

    _json_extra = ("missed", "status")

    def __iter__(self):
        return iter((self.r1_max, self.r2_max))

    @property
    def status(self) -> Status:
        """``OPTIMAL`` when certified, else ``NOT_CERTIFIED`` (a
        :class:`~leakage.errors.ConvergenceWarning` said why)."""
        return Status.OPTIMAL if self.certified else Status.NOT_CERTIFIED

    @property
    def missed(self) -> float:
        """Largest certified ``value - bound`` of the two minima (``nan``: uncertified)."""
        gaps = (self.r1_max - self.r1_bound, self.r2_max - self.r2_bound)
        return math.nan if any(math.isnan(g) for g in gaps) else max(gaps)


@dataclasses.dataclass
class _State:
    """The two terms at one source type and the dual points that certify cell bounds."""

    A: float  # R(Q, D1), nats
    S: float  # R(Q, R1, D1, D2), nats
    bA: float  # slope multiplier of R(Q, D1)
    qA: np.ndarray  # its output distribution on X̂1
    b12: np.ndarray  # multipliers (beta1, beta2) of the uncapped sum rate
    qS: np.ndarray  # its output distribution on X̂1 x X̂2 (flattened)
    Q: np.ndarray | None = None  # the source type
    r12: tuple | None = None  # a capped reading: output marginals (r1, r2) of S's channel
    cg: CappedGibbs | None = None  # its Gibbs family (built on the first cell bound)
    theta: np.ndarray | None = None  # multipliers (mu, beta1, beta2) of U_r at Q
    alt: list | None = None  # smoothed families, tried where cg has no feasible channel
    # the cell bounds of this dual point at each vertex already bounded: neighbouring
    # cells share vertices, and the bounds are deterministic in (vertex, dual point)
    memo: dict = dataclasses.field(default_factory=dict)


def _one_hamming(d1: np.ndarray, d2: np.ndarray) -> bool:
    """Whether both layers use one Hamming distortion ``c (1 - I)``, ``c > 0`` (square):
    then every source is successively refinable (Equitz & Cover, *Successive refinement of
    information*, IEEE Trans. IT 37(2), 1991, Sec. IV)."""
    if d1.shape != d2.shape or d1.shape[0] != d1.shape[1] or not np.array_equal(d1, d2):
        return False
    off = d1[~np.eye(d1.shape[0], dtype=bool)]
    return bool(np.all(np.diag(d1) == 0) and off.size and np.all(off == off[0]) and off[0] > 0)


def _per_vertex(bound):
    """Memoize a cell bound ``bound(self, v, st)`` per dual point ``st`` and vertex ``v``."""

    @functools.wraps(bound)
    def memoized(self, v: np.ndarray, st: _State) -> float:
        key = (bound.__name__, v.tobytes())
        hit = st.memo.get(key)
        if hit is None:
            hit = st.memo[key] = bound(self, v, st)
        return hit

    return memoized


class _Terms:
    """``A(Q) = R(Q, D1)`` and ``S(Q) = R(Q, R1, D1, D2)`` in nats, cached per type, with
    certified bounds over cells of types (:mod:`leakage.cipher._bounds`)."""

    def __init__(self, d1, d2, D1, D2, R1, tol_n, func):
        self.d1, self.d2, self.D1, self.D2 = d1, d2, D1, D2
        self.R1, self.tol, self.func = R1, tol_n, func
        self.cache: dict[bytes, _State] = {}
        self.warm: dict[str, tuple] = {}  # warm starts carried from one type to the next
        n1, n2 = d1.shape[1], d2.shape[1]
        self.dA = d1[None]  # (1, nx, n1)
        self.dS = np.stack([np.repeat(d1, n2, axis=1), np.tile(d2, (1, n1))])
        self.DA = np.array([D1])
        self.DS = np.array([D1, D2])
        # One Hamming distortion for both layers: every finite source is successively
        # refinable (Equitz & Cover 1991, Sec. IV), so at every Q the sum rate with the
        # first layer at R(Q, D1) is R(Q, min(D1, D2)) (for D2 >= D1: X̂2 = X̂1), the
        # uncapped sum rate: the tight reading takes the uncapped terms and bounds.
        self.tight_by_refinability = R1 == "tight" and _one_hamming(d1, d2)
        if self.tight_by_refinability:
            R1 = self.R1 = None
        # a numeric cap has the convex majorant of CappedGibbs; R1 = R(Q, D1) ("tight")
        # has none: the cap moves with Q and R(Q, R1, D1, D2) has an infinite slope in R1
        # at R1 = R(Q, D1) (ERRATA), so no feasible channel of a neighbour is certified
        self.S_certified = R1 != "tight"
        self._cg_args = (d1, d2, D1, D2, R1)

    def state(self, Q: np.ndarray) -> _State:
        key = np.round(Q, 15).tobytes()
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        on = Q > 1e-300
        p = Q[on] / Q[on].sum()
        d1, d2 = self.d1[on], self.d2[on]
        ctx = _Ctx(p, d1, d2, self.D1, self.D2, self.tol, 100_000, self.func)
        if on.all():
            ctx.warm = self.warm
        rd1 = ctx.rd(d1, self.D1, tag="d1")
        A = rd1[0]
        S, _lo, Qj, (b1, b2, q12) = uncapped(ctx, rd1)
        if self.R1 is not None:
            cap = rd1[0] if self.R1 == "tight" else self.R1
            if cap < rd1[1] - 1e-12:
                raise InfeasibleError(
                    f"{self.func}: R1 = {self.R1!r} nats is below R(Q, D1) = {rd1[1]:.10g} "
                    f"nats at the source type Q = {np.array2string(Q, precision=6)} of the "
                    "KL ball (ERRATA: Theorem 1 needs (21)); raise R1, or use R1='tight'."
                )
            if joint_info(p, Qj)[0] > max(cap, rd1[0]) + 1e-12:
                # the tight construction first: when it meets the uncapped lower bound
                # it is optimal for every cap >= R(Q, D1) (no cone program needed)
                cands = capped_candidates(ctx, rd1, cap, False)[0]
                if self.R1 != "tight" and cands[0][0] > _lo + self.tol:
                    cands = capped_candidates(ctx, rd1, cap, True)[0]
                S, Qj, _m = min(cands, key=lambda c: c[0])
        st = _State(A, S, float(rd1[4]), rd1[5], np.array([b1, b2], dtype=float), q12, Q)
        if self.R1 is not None:
            st.r12 = _marginals(p, Qj)  # output marginals of the channel of S
        self.cache[key] = st
        return st

    def __call__(self, Q: np.ndarray) -> tuple[float, float]:
        st = self.state(Q)
        return st.A, st.S

    # certified bounds over a cell with vertices V. Every dual point gives a valid bound;
    # those of the cell's evaluated point and of its vertices are tried, the best is kept.
    def _duals(self, V, Qe):
        yield self.state(Qe)
        if V.shape[1] == 2:  # 1-D: the vertices are evaluated points too (2-D+: extra solves)
            for v in V:
                yield self.state(v)

    @_per_vertex
    def _UA(self, v, st: _State) -> float:
        return gibbs_upper(v, st.qA, self.dA, self.DA, np.array([st.bA]))

    @_per_vertex
    def _LA(self, v, st: _State) -> float:
        return slope_lower(v, self.d1, self.D1, st.bA, st.qA)

    @_per_vertex
    def _US(self, v, st: _State) -> float:
        if self.R1 is None:
            return gibbs_upper(v, st.qS, self.dS, self.DS, st.b12)
        if self.R1 == "tight":
            return math.inf
        if st.cg is None:  # the Gibbs family of S's output marginals, multipliers at Q
            r1, r2 = st.r12
            st.cg = CappedGibbs(r1, r2, *self._cg_args)
            # the cap's multiplier from 0 (cap slack) and from 1: a degenerate r2 (X̂2 a
            # function of X̂1) leaves a flat direction the Newton ascent can run along
            val, st.theta = st.cg.upper(st.Q, np.array([0.0, *st.b12]))
            if not math.isfinite(val):
                st.theta = st.cg.upper(st.Q, np.array([1.0, *st.b12]))[1]
        val = st.cg.upper(v, st.theta)[0]
        if math.isinf(val) and st.alt is None:
            # S's own family can be infeasible on a neighbour: X̂2 a function of X̂1 (the
            # cap slack at Q, D1 met through X̂2) forces I(X; X̂1) = I(X; X̂1 X̂2), above
            # R1 past the curve R(Q, D2) = R1. Any output distributions give a majorant:
            # r2 mixed with the uniform one lets X̂2 refine X̂1 (looser, but finite).
            r1, r2 = st.r12
            st.alt = [
                CappedGibbs(r1, (1 - e) * r2 + e / r2.shape[1], *self._cg_args)
                for e in (1e-2, 1e-1)
            ]
        for cg in st.alt if math.isinf(val) else ():
            val = cg.upper(v, st.theta)[0]
            if math.isfinite(val):
                break
        return val

    @_per_vertex
    def _LS(self, v, st: _State) -> float:
        b1, b2 = st.b12
        dc = b1 * self.dS[0] + b2 * self.dS[1]
        return slope_lower(v, dc, b1 * self.D1 + b2 * self.D2, 1.0, st.qS)

    @staticmethod
    def _best(values, better, enough: float) -> float:
        """The best of lazily computed bounds; stops once one reaches ``enough``."""
        out = None
        for v in values:
            out = v if out is None else better(out, v)
            if (better is min and out <= enough) or (better is max and out >= enough):
                break
        return out

    def upper_A(self, V, Qe, enough: float = -math.inf) -> float:
        """Upper bound of A over the cell (convex majorant: its max is at a vertex)."""
        vals = (max(self._UA(v, st) for v in V) for st in self._duals(V, Qe))
        return self._best(vals, min, enough)

    def lower_A(self, V, Qe, enough: float = math.inf) -> float:
        """Lower bound of A over the cell (concave minorant: its min is at a vertex)."""
        vals = (min(self._LA(v, st) for v in V) for st in self._duals(V, Qe))
        return self._best(vals, max, enough)

    def upper_S(self, V, Qe, enough: float = -math.inf) -> float:
        vals = (max(self._US(v, st) for v in V) for st in self._duals(V, Qe))
        return self._best(vals, min, enough)

    def upper_SmA(self, V, Qe, enough: float = -math.inf) -> float:
        """Upper bound of S - A: convex majorant minus concave minorant (convex, so its
        maximum over the cell is at a vertex)."""
        vals = (max(self._US(v, st) - self._LA(v, st) for v in V) for st in self._duals(V, Qe))
        return self._best(vals, min, enough)

    def lower_SmA(self, V, Qe, enough: float = math.inf) -> float:
        """Lower bound of S - A: concave minorant minus convex majorant, per vertex."""
        vals = (min(self._LS(v, st) - self._UA(v, st) for v in V) for st in self._duals(V, Qe))
        return self._best(vals, max, enough)


def _setup(p, d1, d2, D1, D2, R1, base, alpha, func):
    base = check_base(base, func=func)
    pv = as_pmf(p, func=func, name="p")
    if np.any(pv <= 0):
        raise InvalidParameterError(
            f"{func}: the 'p' argument must have full support (paper 000, Section II-A: "
            f"'P fully supported'); got {np.array2string(pv)} instead. Drop the letters of "
            "probability 0."
        )
    d1v = as_distortion_arg(d1, pv.size, func=func, name="d1")
    d2v = as_distortion_arg(d2, pv.size, func=func, name="d2")
    for name, d in (("d1", d1v), ("d2", d2v)):
        bad = np.flatnonzero(d.min(axis=1) > 0)
        if bad.size:
            raise InvalidParameterError(
                f"{func}: every row of '{name}' must contain a 0 (paper 000, Section II-B: "
                f"each x has a reproduction at distortion 0); row {int(bad[0])} has minimum "
                f"{float(d[bad[0]].min())!r}. Subtract each row's minimum (it shifts D by "
                "sum_x p(x) min d(x, .))."
            )
    D1 = check_positive(D1, func=func, name="D1")
    D2 = check_positive(D2, func=func, name="D2")
    if R1 is None:
        R1n, reading = None, "none"
    elif isinstance(R1, str):
        if R1 != "tight":
            raise InvalidParameterError(
                f"{func}: the 'R1' argument must be a rate, None (no cap) or 'tight'; got "
                f"{R1!r} instead."
            )
        R1n, reading = "tight", "tight"
    else:
        R1n, reading = to_nats(check_nonnegative(R1, func=func, name="R1"), base), "value"
    alpha_n = None
    if alpha is not None:
        alpha_n = to_nats(check_positive(alpha, func=func, name="alpha"), base)
    return base, pv, d1v, d2v, D1, D2, R1n, reading, alpha_n


def _tol_evals(fn, base, tol, max_evals):
    """The tolerance (finite, > 0; a tolerance <= 0 or NaN would never be met and the
    search would not stop) in nats, and the budget of evaluations (1..MAX_EVALS)."""
    tol_n = to_nats(check_tolerance(tol, func=fn, name="tol"), base)
    evals = check_size(
        max_evals,
        func=fn,
        name="max_evals",
        limit=MAX_EVALS,
        what="evaluations",
        hint="Each evaluation solves rate-distortion problems; loosen 'tol' instead.",
    )
    return tol_n, evals


def _numbers(fn, base, r1, r2, tol, max_evals, R2):
    """Key rates, tolerance and message rate validated and in nats; the budget an int."""
    tol_n, evals = _tol_evals(fn, base, tol, max_evals)
    return (
        to_nats(check_nonnegative(r1, func=fn, name="r1"), base),
        to_nats(check_nonnegative(r2, func=fn, name="r2"), base),
        tol_n,
        evals,
        None if R2 is None else to_nats(check_nonnegative(R2, func=fn, name="R2"), base),
    )


def _warn_uncertified(fn, regs, tol, max_evals, reading, terms="the L2 terms") -> None:
    """One :class:`ConvergenceWarning` naming the gap and the limit of uncertified results
    (regions or key-rate limits: anything with ``certified`` and ``missed``)."""
    bad = [r for r in regs if not r.certified]
    if not bad:
        return
    where = "" if len(regs) == 1 else f" at {len(bad)} of {len(regs)} exponents"
    if reading == "tight" and any(math.isnan(r.missed) for r in bad):
        why = (
            "R1='tight' has no certified cell bound (ERRATA: R(Q, R1, D1, D2) has an "
            f"infinite slope in R1 at R1 = R(Q, D1), and the cap moves with Q), so {terms} "
            "come from a grid of source types plus local polishing and their bounds "
            "are nan; use R1=None or a numeric R1 for certified values"
        )
    else:
        gap = max(r.missed for r in bad)
        why = (
            f"the certified gap |bound - value| = {gap:.3g} (units of log base) exceeds "
            f"tol = {tol!r} after the limit max_evals = {max_evals} source types per search "
            "was reached; raise 'max_evals' or loosen 'tol'"
        )
    warnings.warn(f"{fn}: not certified{where}: {why}.", ConvergenceWarning, stacklevel=3)


def _bits(x: float, base: float) -> float:
    """A nats value in the caller's base (``nan`` for a missing bound)."""
    return float(from_nats(x, base)) if math.isfinite(x) else math.nan


def _extremum(
    f: Callable[[np.ndarray], float],
    P,
    alpha_n,
    L,
    sense,
    tol_n,
    max_evals,
    inner=None,
    cell_bound=None,
    stop_at=-math.inf,
) -> SearchResult:
    if alpha_n is None:
        v = f(P)
        return SearchResult(v, P.copy(), v, 1, True)
    return ball_extremum(
        f,
        P,
        alpha_n,
        lipschitz=L,
        sense=sense,
        tol=tol_n,
        max_evals=max_evals,
        inner=inner,
        cell_bound=cell_bound,
        stop_at=stop_at,
    )


def leakage_region(
    p: ArrayLike,
    d1: ArrayLike | str,
    d2: ArrayLike | str,
    *,
    D1: float,
    D2: float,
    R1: float | str | None,
    R2: float | None = None,
    r1: float,
    r2: float,
    alpha: float | None = None,
    base: float = 2,
    tol: float = 1e-6,
    max_evals: int = 3000,
) -> LeakageRegion:
    r"""Normalized maximal-leakage region of the successive-refinement cipher.

    With ``alpha`` (JEP exponent, Theorem 1), over the KL ball
    :math:`B_\alpha = \{Q : D(Q\|P) \le \alpha\}`:

    .. math::

        \Lambda_1 &= \max_{B_\alpha} \{R(Q,D_1) - r_1\}^+ \quad (16)\\
        \Lambda_2 &= \max_{B_\alpha} \{R(Q,D_1) - r_1\}^+
                     + \{R(Q,R_1,D_1,D_2) - R(Q,D_1) - r_2\}^+ \quad (17)\\
        \Lambda_2^{out} &= \max_{B_\alpha} \{R(Q,R_1,D_1,D_2) - r_1 - r_2\}^+ \quad (18)

    the inner region (19) is :math:`L_1 \ge \Lambda_1, L_2 \ge \Lambda_2`, the outer (20)
    :math:`L_1 \ge \Lambda_1, L_2 \ge \Lambda_2^{out}`. With ``alpha=None`` (expected
    distortion, Theorem 3) the same terms at ``Q = p``: :math:`\Omega_1, \Omega_2,
    \Omega_2^{out}` (eqs. (32)–(34)).

    :math:`R(Q, D)` is not concave in ``Q`` in general, so the maxima are global: a branch
    and bound over cells of source types (:mod:`leakage.cipher._search`) whose cell bounds
    come from the dual of the rate–distortion problem (:mod:`leakage.cipher._bounds`): for
    a fixed output distribution, :math:`\max_\beta[-\sum_x Q(x)\log(K_\beta q)(x) - \beta D]`
    is a convex majorant of :math:`R(\cdot, D)` and :math:`F(\cdot,\beta) - \beta D` a
    concave minorant, both touching it to first order at the cell's evaluated type, so
    their extrema over a cell are at its vertices. With three searches (max R(Q,D1),
    max R(Q,R1,D1,D2), max of their difference), (17) follows from
    :math:`\{x\}^+ + \{y\}^+ = \max(x+y, x, y, 0)`. The bounds are returned beside the
    values.

    Parameters
    ----------
    p : array-like
        Source distribution ``P`` (full support).
    d1, d2 : array-like or {"hamming", "abs", "squared"}
        Distortion matrices; every row must contain a 0 (paper 000, Section II-B).
    D1, D2 : float
        Distortion levels (> 0).
    R1 : float, "tight" or None
        Rate of the first message: caps :math:`I(X;\hat X_1)` in
        :math:`R(Q,R_1,D_1,D_2)` (eq. (15)). ``None``: no cap; ``"tight"``:
        :math:`R_1 = R(Q, D_1)` at each ``Q`` (ERRATA, convention). A number must be
        ``>= R(Q, D1)`` on the whole ball (else :class:`~leakage.InfeasibleError` naming
        the ``Q``). A numeric cap is certified through a convex majorant of the
        capped sum rate (the Lagrangian of the cap with fixed output distributions,
        :mod:`leakage.cipher._bounds`: those of the cell's type, mixed with the uniform
        one where these have no feasible channel); ``"tight"`` has no certified bound
        (``*_bound = nan`` for the L2 terms, ``status = NOT_CERTIFIED`` and a
        :class:`~leakage.errors.ConvergenceWarning`; ERRATA: infinite slope in R1),
        except when both layers use one Hamming distortion: every finite source is then
        successively refinable (Equitz & Cover 1991), the tight sum rate equals the
        uncapped one at every ``Q``, and ``"tight"`` is computed and certified as
        ``None``.
    R2 : float or None
        Rate of the second message (only checked against (22)); ``None``: unlimited.
    r1, r2 : float
        Key rates (units of ``log base``).
    alpha : float or None
        JEP exponent (units of ``log base``; ERRATA: bits by default); ``None`` for the
        expected-distortion criterion.
    base : float, default 2
    tol : float, default 1e-6
        Certification target for ``bound - value`` (units of ``log base``): a finite
        number > 0.
    max_evals : int, default 3000
        Budget of source types per search, ``1 <= max_evals <= MAX_EVALS`` (10**6).

    Returns
    -------
    LeakageRegion

    Raises
    ------
    InvalidDistributionError
        ``p`` is not a probability vector.
    InvalidParameterError
        ``p`` lacks full support, a distortion row has no 0, or a level, rate, ``alpha``,
        ``base``, ``tol`` or ``max_evals`` is of the wrong type or out of range.
    InfeasibleError
        A numeric ``R1`` is below ``R(Q, D1)`` somewhere on the ball.

    Examples
    --------
    >>> import leakage as lk
    >>> reg = lk.cipher.leakage_region([0.3, 0.7], "hamming", "hamming", D1=0.2, D2=0.1,
    ...                                R1=None, r1=0.06, r2=0.1, alpha=0.2)
    >>> round(reg.L1, 6), round(reg.L2_outer, 6), reg.tight   # q = 0.5 is in the ball
    (0.218072, 0.371004, True)
    """
    fn = "leakage_region"
    base, pv, d1v, d2v, D1, D2, R1n, reading, alpha_n = _setup(
        p, d1, d2, D1, D2, R1, base, alpha, fn
    )
    r1n, r2n, tol_n, max_evals, R2n = _numbers(fn, base, r1, r2, tol, max_evals, R2)
    terms = _Terms(d1v, d2v, D1, D2, R1n, min(tol_n / 100, 1e-10), fn)
    searches = _region_searches(terms, pv, alpha_n, r1n, r2n, tol_n, max_evals)
    reg = _package(searches, terms, alpha, r1n, r2n, R1n, R2n, reading, tol_n, base)
    _warn_uncertified(fn, [reg], tol, max_evals, reading)
    return reg


def leakage_region_curve(
    p: ArrayLike,
    d1: ArrayLike | str,
    d2: ArrayLike | str,
    *,
    D1: float,
    D2: float,
    R1: float | str | None,
    R2: float | None = None,
    r1: float,
    r2: float,
    alphas: ArrayLike,
    base: float = 2,
    tol: float = 1e-6,
    max_evals: int = 3000,
    progress: Callable[[int, int], None] | None = None,
) -> list[LeakageRegion]:
    """:func:`leakage_region` at many JEP exponents (any order), as a list in the order
    of ``alphas``. The KL balls are nested, so each search starts from the previous
    (smaller) ball's certified result and only searches the new shell; every entry is
    certified exactly as a single call. ``progress(i, n)`` is called after each point.

    ``alphas`` must be a non-empty 1-D array of at most ``MAX_ALPHAS`` (10**4) finite
    exponents >= 0 (``0``: the ball is ``{P}``, the curve's first point, evaluated
    exactly); ``progress`` None or a callable. Other arguments, and the errors, as in
    :func:`leakage_region`.
    """
    fn = "leakage_region_curve"
    base, pv, d1v, d2v, D1, D2, R1n, reading, _ = _setup(p, d1, d2, D1, D2, R1, base, None, fn)
    req = f"be a non-empty 1-D array of at most {MAX_ALPHAS:,} finite exponents >= 0"
    try:
        al = np.asarray(alphas, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"{fn}: the 'alphas' argument must {req}; got {alphas!r:.80} instead."
        ) from exc
    if al.ndim != 1 or al.size == 0 or not np.all(np.isfinite(al)) or al.min() < 0:
        raise InvalidParameterError(
            f"{fn}: the 'alphas' argument must {req}; "
            f"got {np.array2string(al, threshold=8)} instead."
        )
    check_size(
        al.size,
        func=fn,
        name="alphas",
        limit=MAX_ALPHAS,
        what="exponents",
        hint="Each exponent is a certified search; split the sweep into several calls.",
    )
    if progress is not None and not callable(progress):
        raise InvalidParameterError(
            f"{fn}: the 'progress' argument must be None or a callable progress(i, n); "
            f"got {progress!r:.80} instead."
        )
    r1n, r2n, tol_n, max_evals, R2n = _numbers(fn, base, r1, r2, tol, max_evals, R2)
    terms = _Terms(d1v, d2v, D1, D2, R1n, min(tol_n / 100, 1e-10), fn)
    out: list[LeakageRegion | None] = [None] * al.size
    # the searches over the whole simplex: a ball that holds their maximizer has their
    # value, and every ball's maximum is at most their bound. Only with certified S
    # terms: an uncertified (tight) search of the whole simplex grids all of it (34 s
    # for a ternary source, against ~1 s for a ball of 0.05 bits) and bounds nothing.
    whole = None
    if terms.S_certified:
        try:
            whole = _region_searches(
                terms, pv, float(np.log(1.0 / pv.min())), r1n, r2n, tol_n, max_evals
            )
        except InfeasibleError:  # a numeric R1 below R(Q, D1) outside the balls asked for
            whole = None
    prev = None
    for n_done, i in enumerate(np.argsort(al, kind="stable"), start=1):
        a_n = to_nats(float(al[i]), base)
        searches = _region_searches(terms, pv, a_n, r1n, r2n, tol_n, max_evals, prev, whole)
        out[i] = _package(searches, terms, float(al[i]), r1n, r2n, R1n, R2n, reading, tol_n, base)
        prev = (a_n, searches)
        if progress is not None:
            progress(n_done, al.size)
    _warn_uncertified(fn, out, tol, max_evals, reading)
    return out  # type: ignore[return-value]


def _region_searches(terms, pv, alpha_n, r1n, r2n, tol_n, max_evals, prev=None, whole=None):
    """The three searches over one ball: max A, max S and max (S - A), from which
    (16)–(18) follow (``{x}^+ + {y}^+ = max(x + y, x, y, 0)``).

    ``prev``: ``(alpha, searches)`` of a smaller ball; ``whole``: the searches over the
    whole simplex (a ball holding their maximizer takes their result)."""
    cS = terms.S_certified
    fs = (
        (lambda Q: terms(Q)[0], terms.upper_A),
        (lambda Q: terms(Q)[1], terms.upper_S if cS else None),
        (lambda Q: terms(Q)[1] - terms(Q)[0], terms.upper_SmA if cS else None),
    )
    res = []
    for j, (f, cb) in enumerate(fs):
        stop = -math.inf
        if j == 2:  # max (S - A) only matters if it beats the other branches of (17)
            stop = max(res[1].value - r1n - r2n, res[0].value - r1n, 0.0) + r2n
        if alpha_n == 0:  # the ball {P}: the value at P is the exact maximum
            res.append(_extremum(f, pv, None, math.nan, "max", tol_n, max_evals))
            continue
        if whole is not None and kl(whole[j].argopt, pv) <= alpha_n:
            res.append(whole[j])
            continue
        inner = None if prev is None else (prev[0], prev[1][j])
        r = _extremum(f, pv, alpha_n, math.nan, "max", tol_n, max_evals, inner, cb, stop)
        if whole is not None and math.isfinite(whole[j].bound) and whole[j].bound < r.bound:
            r = dataclasses.replace(
                r, bound=whole[j].bound, certified=whole[j].bound - r.value <= tol_n
            )
        res.append(r)
    return tuple(res)


def _package(searches, terms, alpha, r1n, r2n, R1n, R2n, reading, tol_n, base) -> LeakageRegion:
    sA, sS, sC = searches

    def plus(x: float) -> float:
        return max(x, 0.0) if not math.isnan(x) else math.nan

    L1, L1b = plus(sA.value - r1n), plus(sA.bound - r1n)
    L2o, L2ob = plus(sS.value - r1n - r2n), plus(sS.bound - r1n - r2n)
    # (17): the best of the four branches of {A - r1}^+ + {S - A - r2}^+
    branches = [
        (sS.value - r1n - r2n, sS.bound - r1n - r2n, sS.argopt),
        (sA.value - r1n, sA.bound - r1n, sA.argopt),
        (sC.value - r2n, sC.bound - r2n, sC.argopt),
    ]
    L2 = plus(max(v for v, _, _ in branches))
    L2b = (
        plus(max(b for _, b, _ in branches))
        if all(math.isfinite(b) for _, b, _ in branches)
        else math.nan
    )
    arg2 = max(branches, key=lambda t: t[0])[2]
    slack = max(L2b - L2, L2ob - L2o) if math.isfinite(L2b) and math.isfinite(L2ob) else 0.0
    tight = abs(L2 - L2o) <= max(tol_n, slack + tol_n)
    R1_rate = math.inf if R1n in (None, "tight") else float(R1n)
    R2_rate = math.inf if R2n is None else float(R2n)
    upA = sA.bound if math.isfinite(sA.bound) else sA.value
    upS = sS.bound if math.isfinite(sS.bound) else sS.value
    sufficient = (R1n in (None, "tight") or R1_rate > upA) and R1_rate + R2_rate > upS

    b = functools.partial(_bits, base=base)
    return LeakageRegion(
        L1=b(L1),
        L2_inner=b(L2),
        L2_outer=b(L2o),
        L1_bound=b(L1b),
        L2_inner_bound=b(L2b),
        L2_outer_bound=b(L2ob),
        tight=bool(tight),
        criterion="expected" if alpha is None else "jep",
        alpha=None if alpha is None else float(alpha),
        argmax_L1=sA.argopt,
        argmax_L2_inner=arg2,
        argmax_L2_outer=sS.argopt,
        max_rate1=b(sA.value),
        max_sum_rate=b(sS.value),
        rates_sufficient=bool(sufficient),
        R1_reading=reading,
        certified=bool(
            all(
                math.isfinite(bd) and bd - v <= tol_n * (1 + 1e-9)
                for v, bd in ((L1, L1b), (L2, L2b), (L2o, L2ob))
            )
        ),
        n_evals=len(terms.cache),
        base=base,
    )


def key_rate_limits(
    p: ArrayLike,
    d1: ArrayLike | str,
    d2: ArrayLike | str,
    *,
    D1: float,
    D2: float,
    R1: float | str | None,
    alpha: float | None = None,
    base: float = 2,
    tol: float = 1e-6,
    max_evals: int = 3000,
) -> KeyRateLimits:
    r"""Largest key rates for which inner and outer regions coincide.

    Corollary 2 (JEP, eqs. (26)–(27)): :math:`r_1 \le \min_{B_\alpha} R(Q, D_1)` and
    :math:`r_2 \le \min_{B_\alpha} [R(Q,R_1,D_1,D_2) - R(Q,D_1)]`; Corollary 4 (expected
    distortion, ``alpha=None``, eqs. (41)–(42)): the same at ``Q = p``. Arguments (``tol``
    finite and > 0, ``1 <= max_evals <= MAX_EVALS``) and errors as in
    :func:`leakage_region`. Returns a :class:`KeyRateLimits` with certified lower bounds
    and ``status``; when ``max_evals`` (or, for ``R1="tight"`` without one Hamming
    distortion, the missing cell bound) leaves a gap above ``tol``, the status is
    ``NOT_CERTIFIED`` and a :class:`~leakage.errors.ConvergenceWarning` gives the gap.

    Examples
    --------
    >>> import leakage as lk       # Remark 4: r1 <= 0.162, r2 <= 0.112
    >>> r1, r2 = lk.cipher.key_rate_limits([0.4, 0.6], "hamming", "hamming", D1=0.2,
    ...                                    D2=0.15, R1=None, alpha=0.03)
    >>> round(r1, 3), round(r2, 3)
    (0.162, 0.112)
    """
    fn = "key_rate_limits"
    base, pv, d1v, d2v, D1, D2, R1n, reading, alpha_n = _setup(
        p, d1, d2, D1, D2, R1, base, alpha, fn
    )
    tol_n, max_evals = _tol_evals(fn, base, tol, max_evals)
    terms = _Terms(d1v, d2v, D1, D2, R1n, min(tol_n / 100, 1e-10), fn)
    cS = terms.S_certified
    s1 = _extremum(
        lambda Q: terms(Q)[0],
        pv,
        alpha_n,
        math.nan,
        "min",
        tol_n,
        max_evals,
        cell_bound=lambda V, Qe, e: -terms.lower_A(V, Qe, -e),
    )
    s2 = _extremum(
        lambda Q: terms(Q)[1] - terms(Q)[0],
        pv,
        alpha_n,
        math.nan,
        "min",
        tol_n,
        max_evals,
        cell_bound=(lambda V, Qe, e: -terms.lower_SmA(V, Qe, -e)) if cS else None,
    )

    b = functools.partial(_bits, base=base)
    out = KeyRateLimits(
        r1_max=b(s1.value),
        r2_max=b(s2.value),
        r1_bound=b(s1.bound),
        r2_bound=b(s2.bound),
        argmin_r1=s1.argopt,
        argmin_r2=s2.argopt,
        alpha=None if alpha is None else float(alpha),
        R1_reading=reading,
        base=base,
        certified=bool(s1.certified and s2.certified),
    )
    _warn_uncertified(fn, [out], tol, max_evals, reading, terms="r2_max")
    return out


def alpha_star(
    p: ArrayLike,
    d1: ArrayLike | str,
    d2: ArrayLike | str,
    *,
    D1: float,
    D2: float,
    R1: float | str | None,
    r1: float,
    r2: float,
    which: int = 1,
    base: float = 2,
    tol: float = 1e-9,
    max_evals: int = 3000,
) -> float:
    r"""The floor :math:`\alpha_i^*` of Remark 2: the smallest :math:`\alpha` from which
    :math:`\Lambda_i(\alpha)` (``which=1``: eq. (16); ``which=2``: eq. (17)) stops growing.

    :math:`\Lambda_i(\alpha)` is non-decreasing and reaches its supremum
    :math:`\max_Q f_i(Q)` over the whole simplex once the ball contains a maximizer, so
    :math:`\alpha_i^* = D(Q^*\|P)` for the global maximizer :math:`Q^*` of the term
    (found by the same certified search over the simplex, then polished); ``0`` when the
    term is 0 everywhere. Units of ``log base``. For Bernoulli/Hamming this is
    :math:`D_b(0.5\|p)` (Remark 6).

    Parameters
    ----------
    p, d1, d2, D1, D2, R1, r1, r2, base
        As in :func:`leakage_region`.
    which : {1, 2}
        The term: 1 for :math:`\Lambda_1` (16), 2 for :math:`\Lambda_2` (17).
    tol : float, default 1e-9
        Certification target of the search (units of ``log base``): finite and > 0 (a
        tolerance <= 0 or NaN can never be met).
    max_evals : int, default 3000
        Budget of source types, ``1 <= max_evals <= MAX_EVALS`` (10**6).

    Returns
    -------
    float

    Raises
    ------
    InvalidParameterError
        An argument is of the wrong type or out of range (as in :func:`leakage_region`).

    Warns
    -----
    ConvergenceWarning
        The search over the simplex did not certify its maximum within ``tol`` (the
        ``max_evals`` limit, or ``R1="tight"`` without a certified cell bound): the
        returned value comes from the best maximizer found.
    """
    fn = "alpha_star"
    base, pv, d1v, d2v, D1, D2, R1n, reading, _ = _setup(p, d1, d2, D1, D2, R1, base, None, fn)
    if not isinstance(which, numbers.Integral) or isinstance(which, bool) or which not in (1, 2):
        raise InvalidParameterError(
            f"{fn}: the 'which' argument must be 1 (Lambda_1, eq. (16)) or 2 (Lambda_2, "
            f"eq. (17)); got {which!r:.80} instead."
        )
    r1n = to_nats(check_nonnegative(r1, func=fn, name="r1"), base)
    r2n = to_nats(check_nonnegative(r2, func=fn, name="r2"), base)
    tol_n, max_evals = _tol_evals(fn, base, tol, max_evals)
    terms = _Terms(d1v, d2v, D1, D2, R1n, 1e-11, fn)
    whole = float(np.log(1.0 / pv.min()))  # the ball of this radius is the simplex

    if which == 1:
        sA = _extremum(
            lambda Q: terms(Q)[0],
            pv,
            whole,
            math.nan,
            "max",
            tol_n,
            max_evals,
            None,
            terms.upper_A,
        )
        if not sA.certified:
            _warn_alpha_star(fn, sA.bound - sA.value, base, tol, max_evals)
        if sA.value - r1n <= 0:
            return 0.0
        return float(from_nats(kl(sA.argopt, pv), base))
    searches = _region_searches(terms, pv, whole, r1n, r2n, tol_n, max_evals)
    region = _package(searches, terms, 1.0, r1n, r2n, R1n, None, reading, tol_n, base)
    if not region.certified:
        _warn_alpha_star(fn, to_nats(region.missed, base), base, tol, max_evals)
    if region.L2_inner <= 0:
        return 0.0
    return float(from_nats(kl(region.argmax_L2_inner, pv), base))


def _warn_alpha_star(fn, gap_n, base, tol, max_evals) -> None:
    """The maximizer behind alpha* was not certified: say so (the value is the best found)."""
    gap = "no certified bound" if math.isnan(gap_n) else f"a gap of {from_nats(gap_n, base):.3g}"
    warnings.warn(
        f"{fn}: not certified: the search over the simplex stopped with {gap} (units of "
        f"log base; tol = {tol!r}, max_evals = {max_evals}), so the maximizer, and the "
        "alpha* it gives, are the best found; raise 'max_evals' or loosen 'tol'.",
        ConvergenceWarning,
        stacklevel=3,
    )
