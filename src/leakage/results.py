"""Result types shared by the solvers: a small status vocabulary and frozen dataclasses.

Every iterative solver in :mod:`leakage` returns a frozen dataclass that reports
``converged``, ``n_iter`` and a certified gap, and keeps *exact* quantities (recomputed
from the returned object) apart from approximate/solver objectives.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import Any

import numpy as np

__all__ = [
    "CapacityResult",
    "Estimate",
    "HypothesisDesign",
    "PointwiseDesign",
    "RateDistortionCurve",
    "RateDistortionResult",
    "SimulationResult",
    "Status",
    "SuccessiveRefinementResult",
    "to_jsonable",
]


class Status(str, enum.Enum):
    """Outcome of a solve, shared by every optimizer (mapped from each backend's own codes)."""

    OPTIMAL = "optimal"
    """Certified: the reported gap is within the requested tolerance."""
    OPTIMAL_INACCURATE = "optimal_inaccurate"
    """Stopped with a valid but larger-than-requested certified gap."""
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    ITERATION_LIMIT = "iteration_limit"
    """Stopped by ``max_iter`` before the tolerance was certified; the gap says how far."""
    NOT_CERTIFIED = "not_certified"
    """Stopped by a time, size or cell limit (``max_time``, ``max_cells``, ``max_nodes``,
    an alphabet-size limit) before the tolerance was certified. The returned value is a
    feasible point evaluated exactly; the result's bound and ``gap`` are proved but wider
    than requested, and a :class:`~leakage.errors.ConvergenceWarning` names the limit."""
    SOLVER_ERROR = "solver_error"


def to_jsonable(obj: Any) -> Any:
    """Turn a result dataclass (or nested arrays/enums/floats) into JSON-ready Python objects.

    Non-finite floats become the strings ``"inf"``, ``"-inf"`` and ``"nan"``.
    """
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        for name in getattr(obj, "_json_extra", ()):
            out[name] = to_jsonable(getattr(obj, name))
        return out
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        if math.isnan(f):
            return "nan"
        if f in (float("inf"), float("-inf")):
            return "inf" if f > 0 else "-inf"
        return f
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


@dataclasses.dataclass(frozen=True)
class CapacityResult:
    """Certified channel capacity (see :func:`leakage.channel_capacity`).

    Attributes
    ----------
    capacity : float
        ``I(p*, W)`` for the returned input distribution ``p*`` (equal to ``lower``):
        an achievable rate, exact for the returned ``p*``. The true capacity lies in
        ``[lower, upper]``.
    lower, upper : float
        Certified bounds, ``lower = I(p*, W) <= C <= upper = max_x D(W_x || p* W)``.
    input_distribution : ndarray, shape (n_x,)
        The input distribution ``p*`` achieving ``lower``.
    output_distribution : ndarray, shape (n_y,)
        ``p* W``.
    converged : bool
        Whether ``upper - lower <= tol``.
    n_iter : int
        Blahut–Arimoto iterations plus Newton steps performed.
    base : float
        Logarithm base of ``capacity``, ``lower``, ``upper`` and ``gap``.
    status : Status
    """

    capacity: float
    lower: float
    upper: float
    input_distribution: np.ndarray
    output_distribution: np.ndarray
    converged: bool
    n_iter: int
    base: float
    status: Status

    _json_extra = ("gap",)

    @property
    def gap(self) -> float:
        """Certified gap ``upper - lower`` (in units of ``log_base``)."""
        return self.upper - self.lower


@dataclasses.dataclass(frozen=True)
class PointwiseDesign:
    """A release mechanism ``P(U|Y)`` designed under per-letter leakage budgets (paper 001).

    Every number except ``utility_approx`` is recomputed *exactly* from ``mechanism``.

    Attributes
    ----------
    mechanism : ndarray, shape (n_y, K)
        Row-stochastic ``P(u|y)``; column ``i`` is the letter with budget ``budgets[i]``.
    p_u : ndarray, shape (K,)
        ``P_U``; letters that are never released have 0.
    utility : float
        Exact ``I(U;Y)`` of ``mechanism`` (units of ``log_base``).
    utility_approx : float
        The value of the approximate problem the method optimized (same units), e.g.
        ``½ ε₁ε₂ σ²_max`` for the χ² design; ``nan`` when the method is exact.
    leakages : ndarray, shape (K,)
        Exact point-wise leakage of every letter (``√χ²`` or ℓ1, per ``measure``;
        ``nan`` for letters never released).
    budgets : ndarray, shape (K,)
        The budgets as given.
    measure : str
        ``"chi2"`` (budgets bound ``√χ²(P_{X|u}‖P_X)``) or ``"l1"``.
    method : str
        Which construction produced the mechanism.
    base : float
        Logarithm base of ``utility`` and ``utility_approx``.
    details : dict
        Method-specific facts (e.g. ``sigma_max``, the sign chosen for ``L*``).
    """

    mechanism: np.ndarray
    p_u: np.ndarray
    utility: float
    utility_approx: float
    leakages: np.ndarray
    budgets: np.ndarray
    measure: str
    method: str
    base: float
    details: dict = dataclasses.field(default_factory=dict)

    _json_extra = ("max_violation",)

    @property
    def status(self) -> Status | None:
        """For the exact designs (``optimal_l1``, ``design_l1``): :attr:`Status.OPTIMAL`
        when the utility is proved within tolerance of the global optimum, else
        :attr:`Status.NOT_CERTIFIED` (a limit stopped the search; see :attr:`gap`).
        ``None`` for the approximate designs, which certify nothing about optimality."""
        return self.details.get("status")

    @property
    def upper_bound(self) -> float:
        """A proved upper bound on the optimal utility (``nan`` when not computed)."""
        return float(self.details.get("upper_bound", math.nan))

    @property
    def gap(self) -> float:
        """``upper_bound - utility`` (``nan`` when no bound was computed)."""
        return self.upper_bound - self.utility

    @property
    def max_violation(self) -> float:
        """Largest ``leakage - budget`` over released letters (``<= 1e-9`` for every design)."""
        used = ~np.isnan(self.leakages)
        if not used.any():
            return 0.0
        return float(np.max(self.leakages[used] - self.budgets[used]))


@dataclasses.dataclass(frozen=True)
class RateDistortionResult:
    """Certified rate–distortion function ``R(p, D)`` (see
    :func:`leakage.ratedistortion.rate_distortion`).

    Attributes
    ----------
    rate : float
        ``I(p, test_channel)``, an achievable rate at distortion ``<= D`` (equal to
        ``upper``). The true ``R(p, D)`` lies in ``[lower, upper]``.
    lower, upper : float
        Certified bounds: ``lower`` from Blahut's dual (a slope ``beta`` and an output
        distribution), ``upper`` the mutual information of ``test_channel``.
    D : float
        The target distortion.
    distortion : float
        Expected distortion of ``test_channel`` (``<= D``).
    test_channel : ndarray, shape (n_x, n_xhat)
        Row-stochastic ``Q(x_hat | x)`` achieving ``rate``.
    output_distribution : ndarray, shape (n_xhat,)
        ``p @ test_channel``.
    slope : float
        ``dR/dD`` at ``D`` in units of ``log_base`` per unit distortion (``-beta``, where
        ``beta`` is the Lagrange multiplier of the distortion constraint); ``-inf`` at
        ``D = D_min`` when the curve is vertical there, ``0`` for ``D >= D_max``.
    converged : bool
        Whether ``upper - lower <= tol``.
    n_iter : int
        Blahut–Arimoto iterations plus Newton steps.
    base : float
        Logarithm base of ``rate``, ``lower``, ``upper``, ``slope`` and ``gap``.
    status : Status
    """

    rate: float
    lower: float
    upper: float
    D: float
    distortion: float
    test_channel: np.ndarray
    output_distribution: np.ndarray
    slope: float
    converged: bool
    n_iter: int
    base: float
    status: Status

    _json_extra = ("gap",)

    @property
    def gap(self) -> float:
        """Certified gap ``upper - lower`` (units of ``log_base``)."""
        return self.upper - self.lower


@dataclasses.dataclass(frozen=True)
class RateDistortionCurve:
    """``R(p, D)`` at many distortions (see
    :func:`leakage.ratedistortion.rate_distortion_curve`); arrays share one index."""

    D: np.ndarray
    rate: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    slope: np.ndarray
    converged: np.ndarray
    D_min: float
    D_max: float
    base: float

    _json_extra = ("gap", "status")

    @property
    def gap(self) -> np.ndarray:
        """Certified gaps ``upper - lower``."""
        return self.upper - self.lower

    @property
    def status(self) -> Status:
        """:attr:`Status.OPTIMAL` when every point is certified to the tolerance, else
        :attr:`Status.ITERATION_LIMIT` (``max_iter`` stopped a point; see ``converged``
        and ``gap``)."""
        return Status.OPTIMAL if bool(np.all(self.converged)) else Status.ITERATION_LIMIT


@dataclasses.dataclass(frozen=True)
class SuccessiveRefinementResult:
    """Certified minimum sum rate ``R(Q, R1, D1, D2)`` of eq. (15) of paper 000 (see
    :func:`leakage.ratedistortion.successive_refinement_rate`).

    Attributes
    ----------
    sum_rate : float
        ``I(X; X̂1 X̂2)`` of ``test_channel`` (= ``upper``); the true value lies in
        ``[lower, upper]``.
    lower, upper : float
        Certified bounds (see the method notes of the function).
    rate1 : float
        ``I(X; X̂1)`` of ``test_channel`` (``<= R1``).
    R1 : float
        The first-layer rate cap used (``inf`` for no cap; ``R(Q, D1)`` for ``"tight"``).
    R1_reading : str
        ``"none"``, ``"value"`` or ``"tight"``.
    D1, D2 : float
        Target distortions.
    distortion1, distortion2 : float
        Expected distortions of ``test_channel`` (``<= D1``, ``<= D2``).
    test_channel : ndarray, shape (n_x, n_xhat1, n_xhat2)
        ``Q(x̂1, x̂2 | x)``; sums to one over the last two axes.
    rate_D1 : float
        Upper bound of ``R(Q, D1)`` (certified to the same tolerance).
    cap_active : bool
        Whether the cap ``I(X; X̂1) <= R1`` changes the answer (the uncapped optimum
        violates it).
    method : str
        How the optimum was found.
    converged : bool
        Whether ``upper - lower <= tol``.
    n_iter : int
    base : float
        Logarithm base of every rate.
    status : Status
    """

    sum_rate: float
    lower: float
    upper: float
    rate1: float
    R1: float
    R1_reading: str
    D1: float
    D2: float
    distortion1: float
    distortion2: float
    test_channel: np.ndarray
    rate_D1: float
    cap_active: bool
    method: str
    converged: bool
    n_iter: int
    base: float
    status: Status

    _json_extra = ("gap",)

    @property
    def gap(self) -> float:
        """Certified gap ``upper - lower`` (units of ``log_base``)."""
        return self.upper - self.lower


@dataclasses.dataclass(frozen=True)
class HypothesisDesign:
    """A local privacy mechanism for hypothesis testing (paper 002).

    Every number except ``utility_approx`` is recomputed *exactly* from ``mechanism``.

    Attributes
    ----------
    mechanism : ndarray, shape (M, N)
        Row-stochastic ``W``: respondents with letter ``i`` publish ``j`` with
        probability ``W[i, j]``.
    utility : float
        Exact utility of ``mechanism``: ``min_{k>=2} D(p_k W || p_1 W)`` (``utility="kl"``)
        or ``D_alpha(p_2 W || p_1 W)`` (``"renyi"``), units of ``log_base``.
    utility_approx : float
        The value of the approximate (E-IT) problem the method optimized, converted to the
        same units; ``nan`` for :func:`leakage.hypothesis.optimal_mechanism`.
    upper_bound : float
        Certified methods: the optimum of the problem solved lies in ``[utility,
        upper_bound]`` (the original PUT for ``optimal_mechanism``); ``nan`` otherwise.
    exponents : ndarray, shape (m - 1,)
        Exact ``D(p_k W || p_1 W)`` (or ``D_alpha``) for ``k = 2..m``, same units.
    leakages : ndarray, shape (m,)
        Exact ``I(p_k, W)`` for every hypothesis, same units.
    budgets : ndarray, shape (m,)
        The budgets ``eps_k`` as given (units of ``log_base``).
    utility_kind : str
        ``"kl"`` or ``"renyi"``.
    alpha : float
        The Rényi order (``nan`` for ``"kl"``).
    method : str
        Which construction produced the mechanism.
    base : float
        Logarithm base of every information quantity here.
    details : dict
        Method-specific facts: the budgets used in the quadratic program (nats), ``w0``,
        ``v``/``V``, the active case and multipliers, solver iterations, the certificate.
    """

    mechanism: np.ndarray
    utility: float
    utility_approx: float
    upper_bound: float
    exponents: np.ndarray
    leakages: np.ndarray
    budgets: np.ndarray
    utility_kind: str
    alpha: float
    method: str
    base: float
    details: dict = dataclasses.field(default_factory=dict)

    _json_extra = ("gap", "max_violation")

    @property
    def gap(self) -> float:
        """``upper_bound - utility`` (``nan`` for uncertified methods)."""
        return self.upper_bound - self.utility

    @property
    def max_violation(self) -> float:
        """Largest ``I(p_k, W) - eps_k`` (``<= 0`` up to rounding for a valid design)."""
        return float(np.max(self.leakages - self.budgets))


@dataclasses.dataclass(frozen=True)
class SimulationResult:
    """Monte-Carlo Neyman–Pearson tests on privatized samples (paper 002, Section II).

    For each sample size ``n`` in ``ns``: ``trials`` privatized datasets under each of
    ``H1`` and ``H2``; the likelihood-ratio threshold is the empirical level-``delta``
    quantile under ``H2`` (so ``P(decide H1 | H2) <= delta``), and ``missed`` is the
    fraction of ``H1`` datasets decided as ``H2`` — the error whose exponent the
    Chernoff–Stein lemma gives as ``D(p_2 W || p_1 W)``.

    Attributes
    ----------
    ns : ndarray of int
    missed : ndarray
        Estimated ``P(decide H2 | H1)`` at each ``n``.
    interval : ndarray, shape (len(ns), 2)
        Clopper–Pearson interval of ``missed`` at ``confidence``.
    false_alarm : ndarray
        Empirical ``P(decide H1 | H2)`` (about ``delta`` by construction).
    exponent : ndarray
        ``-(1/n) log missed`` (``inf`` when no error was seen), units of ``log_base``.
    exponent_interval : ndarray, shape (len(ns), 2)
        The exponent's interval from ``interval``.
    stein_exponent : float
        ``D(p_2 W || p_1 W)``, the limit.
    exact_missed : ndarray
        ``P(decide H2 | H1)`` of the same threshold test computed exactly over the
        output types (binary outputs), ``nan`` otherwise.
    delta, confidence, trials, base
    """

    ns: np.ndarray
    missed: np.ndarray
    interval: np.ndarray
    false_alarm: np.ndarray
    exponent: np.ndarray
    exponent_interval: np.ndarray
    stein_exponent: float
    exact_missed: np.ndarray
    delta: float
    confidence: float
    trials: int
    base: float


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A leakage measure estimated from samples, with an interval (:mod:`leakage.estimate`).

    Shaped like the :mod:`scipy.stats` results users know: ``value`` and an interval
    ``[lower, upper]`` at ``level``; ``interval`` names how it was made.

    Attributes
    ----------
    measure : str
        ``"mutual_information"``, ``"maximal_leakage"``, ``"sibson"``,
        ``"min_entropy_leakage"``, ``"bayes_vulnerability"``, ``"bayes_risk"``.
    value : float
        The point estimate (units of ``log_base`` for information measures; a probability
        for the Bayes vulnerability and risk).
    lower, upper : float
        The interval; ``nan`` when none was asked for.
    level : float
        Its nominal coverage (e.g. 0.95).
    method : str
        The point estimator (e.g. ``"plugin"``, ``"miller_madow"``, ``"jackknife"``,
        ``"chao_shen"``, ``"dirichlet"``, ``"knn"``).
    interval : str
        How the interval was made (e.g. ``"bootstrap-percentile"``, ``"dirichlet"``).
    n : int
        Number of paired samples used.
    base : float
        Logarithm base of ``value`` (information measures).
    details : dict
        The count table, ``k``, resamples, alpha, standard error ...
    """

    measure: str
    value: float
    lower: float
    upper: float
    level: float
    method: str
    interval: str
    n: int
    base: float = 2.0
    details: dict = dataclasses.field(default_factory=dict)

    @property
    def width(self) -> float:
        """``upper - lower``."""
        return self.upper - self.lower
