"""The design problem of paper 001: a joint ``P_XY``, one budget per released letter."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_joint
from ..errors import InvalidDistributionError, InvalidParameterError, SolverError
from ..measures import mutual_information, pointwise_leakage
from ..results import PointwiseDesign
from ..units import from_nats

#: Tolerance on "no returned mechanism exceeds a budget".
BUDGET_ATOL = 1e-9


@dataclasses.dataclass(frozen=True)
class Problem:
    """Validated data of problem (1): marginals, ``P_{X|Y}`` and budgets."""

    p_xy: np.ndarray
    p_x: np.ndarray
    p_y: np.ndarray
    p_x_given_y: np.ndarray  # |X| x |Y|, columns are P_{X|Y=y}
    eps: np.ndarray

    @property
    def K(self) -> int:
        return self.eps.shape[0]


def make_problem(p_xy: ArrayLike, eps: ArrayLike, *, func: str) -> Problem:
    """Validate ``p_xy`` (a joint distribution whose every ``y`` has positive probability)
    and ``eps`` (one finite budget >= 0 per released letter)."""
    J = as_joint(p_xy, func=func, name="p_xy")
    p_y = J.sum(axis=0)
    if not p_y.min() > 0:
        y = int(np.argmin(p_y))
        raise InvalidDistributionError(
            f"{func}: the 'p_xy' argument must give every y positive probability (P_Y(y) > 0; "
            f"axis 1 = Y); got P_Y({y}) = 0 instead. Drop the letters of Y that never occur."
        )
    try:
        e = np.asarray(eps, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"{func}: the 'eps' argument must be a 1-D array of budgets >= 0 (one per released "
            f"letter); got {eps!r} instead."
        ) from None
    if e.ndim != 1 or e.size == 0 or not np.all(np.isfinite(e)) or np.any(e < 0):
        raise InvalidParameterError(
            f"{func}: the 'eps' argument must be a non-empty 1-D array of finite budgets >= 0 "
            f"(one per released letter); got {np.array2string(e, precision=6)} instead."
        )
    return Problem(p_xy=J, p_x=J.sum(axis=1), p_y=p_y, p_x_given_y=J / p_y, eps=e.copy())


def exact_figures(
    prob: Problem, mechanism: np.ndarray, *, measure: str, base: float
) -> tuple[np.ndarray, float, np.ndarray]:
    """Exact ``P_U``, ``I(U;Y)`` (in units of ``log_base``) and per-letter leakages of a
    mechanism ``P(u|y)``, computed with :mod:`leakage.measures`."""
    p_u = prob.p_y @ mechanism
    utility = mutual_information(prob.p_y, mechanism, base=base)
    # channel X -> U: P(u|x) = sum_y P(y|x) P(u|y); rows with P_X(x) = 0 never matter
    px = prob.p_x
    p_y_given_x = np.divide(
        prob.p_xy, px[:, None], out=np.full_like(prob.p_xy, 0.0), where=px[:, None] > 0
    )
    p_y_given_x[px == 0] = 1.0 / prob.p_xy.shape[1]
    channel = p_y_given_x @ mechanism
    channel /= channel.sum(axis=1, keepdims=True)  # absorb rounding (exact up to ulps)
    leak = pointwise_leakage(px, channel, measure=measure, base=base).filled(np.nan)
    return p_u, utility, leak


def finish(
    prob: Problem,
    mechanism: np.ndarray,
    *,
    measure: str,
    method: str,
    utility_approx_nats: float,
    base: float,
    details: dict,
) -> PointwiseDesign:
    """Package a mechanism as a :class:`PointwiseDesign` with exact figures, and refuse it
    if it is not a stochastic matrix or exceeds a budget (a bug guard, not user error)."""
    if not (mechanism.min() >= -1e-12 and np.allclose(mechanism.sum(axis=1), 1.0, atol=1e-9)):
        raise SolverError(f"{method}: internal error, the mechanism is not stochastic")
    mechanism = np.clip(mechanism, 0.0, None)
    mechanism /= mechanism.sum(axis=1, keepdims=True)
    p_u, utility, leak = exact_figures(prob, mechanism, measure=measure, base=base)
    design = PointwiseDesign(
        mechanism=mechanism,
        p_u=p_u,
        utility=utility,
        utility_approx=float(from_nats(utility_approx_nats, base))
        if math.isfinite(utility_approx_nats)
        else math.nan,
        leakages=leak,
        budgets=prob.eps.copy(),
        measure=measure,
        method=method,
        base=base,
        details=details,
    )
    if design.max_violation > BUDGET_ATOL:
        raise SolverError(
            f"{method}: internal error, a budget is exceeded by {design.max_violation:.3g}"
        )
    return design
