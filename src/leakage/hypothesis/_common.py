"""Validation and exact evaluation shared by the paper-002 designs."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import rel_entr, xlogy

from .._validation import as_channel, as_pmf, check_alpha, check_base, check_choice
from ..errors import InvalidDistributionError, InvalidParameterError
from ..units import from_nats


def as_hypotheses(ps: ArrayLike, *, func: str, full_support: bool = False) -> np.ndarray:
    """``ps`` (m×M, row k = p_k, m >= 2): every row a pmf, no p_k (k >= 2) equal to p_1.

    ``full_support=True`` (the E-IT designs divide by p_k) also requires p_k > 0."""
    try:
        a = np.asarray(ps, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidDistributionError(
            f"{func}: 'ps' must be an m×M array of probability vectors (row k = p_k); got {ps!r}."
        ) from exc
    if a.ndim != 2 or a.shape[0] < 2 or a.shape[1] < 2:
        raise InvalidDistributionError(
            f"{func}: 'ps' must be an m×M array with m >= 2 hypotheses and M >= 2 letters "
            f"(row k = p_k); got shape {a.shape}."
        )
    for k in range(a.shape[0]):
        as_pmf(a[k], func=func, name=f"p_{k + 1}")
        if full_support and a[k].min() <= 0:
            i = int(np.argmin(a[k]))
            raise InvalidDistributionError(
                f"{func}: p_{k + 1} must have full support here (the E-IT solution divides "
                f"by p_{k + 1}); got p_{k + 1}[{i}] = {a[k, i]!r}. Drop letters no "
                "hypothesis can produce, or use optimal_mechanism."
            )
    for k in range(1, a.shape[0]):
        if np.allclose(a[k], a[0], rtol=0, atol=1e-15):
            raise InvalidParameterError(
                f"{func}: p_{k + 1} equals p_1: the hypotheses cannot be told apart and "
                "every mechanism has utility 0; remove the duplicate."
            )
    return a


def as_budgets(eps: ArrayLike, m: int, *, func: str, name: str = "eps") -> np.ndarray:
    """One budget per hypothesis (a scalar is broadcast), finite and >= 0."""
    e = np.asarray(eps, dtype=float)
    if e.ndim == 0:
        e = np.full(m, float(e))
    if e.shape != (m,):
        raise InvalidParameterError(
            f"{func}: '{name}' needs one budget per hypothesis ({m}) or a single number; "
            f"got shape {e.shape}."
        )
    if not np.all(np.isfinite(e)) or np.any(e < 0):
        raise InvalidParameterError(
            f"{func}: '{name}' must be finite and >= 0 (mutual-information budgets); got "
            f"{e.tolist()}."
        )
    return e


def check_utility(utility: str, alpha, m: int, *, func: str) -> tuple[str, float]:
    utility = check_choice(utility, ("kl", "renyi"), func=func, name="utility")
    if utility == "kl":
        return utility, math.nan
    if alpha is None:
        raise InvalidParameterError(
            f"{func}: utility='renyi' needs 'alpha' in (0, 1) (the paper never gives one)."
        )
    a = check_alpha(alpha, func=func, allow_inf=False)
    if not 0 < a < 1:
        raise InvalidParameterError(
            f"{func}: 'alpha' must lie in (0, 1) for the Rényi setting (Section IV-B); got "
            f"{alpha!r}."
        )
    if m != 2:
        raise InvalidParameterError(
            f"{func}: the Rényi setting is for binary hypothesis testing (m = 2); got m = {m}."
        )
    return utility, a


def mi_nats(p: np.ndarray, W: np.ndarray) -> float:
    """I(p, W) in nats (dense W, rows of W with p = 0 ignored)."""
    q = p @ W
    return float(np.sum(p[:, None] * (xlogy(W, W) - xlogy(W, q[None, :]))))


def exponents_nats(ps: np.ndarray, W: np.ndarray, utility: str, alpha: float) -> np.ndarray:
    """D(p_k W || p_1 W) (or D_alpha) for k = 2..m, in nats."""
    q = ps @ W
    if utility == "kl":
        return rel_entr(q[1:], q[0][None, :]).sum(axis=1)
    s = np.sum(q[1:] ** alpha * q[0][None, :] ** (1 - alpha), axis=1)
    with np.errstate(divide="ignore"):
        return np.log(s) / (alpha - 1)


def figures(ps: np.ndarray, W: np.ndarray, utility: str, alpha: float, base: float):
    """Exact (utility, exponents, leakages) of ``W`` in units of ``log_base``."""
    ex = exponents_nats(ps, W, utility, alpha)
    leaks = np.array([mi_nats(p, W) for p in ps])
    return (
        float(from_nats(float(ex.min()), base)),
        from_nats(ex, base),
        from_nats(np.maximum(leaks, 0.0), base),
    )


def check_mechanism(W: ArrayLike, M: int, *, func: str) -> np.ndarray:
    Wv = as_channel(W, func=func, name="W")
    if Wv.shape[0] != M:
        raise InvalidDistributionError(
            f"{func}: 'W' must have one row per letter of the hypotheses ({M}); got shape "
            f"{Wv.shape}."
        )
    return np.asarray(Wv, dtype=float)


__all__ = [
    "as_budgets",
    "as_hypotheses",
    "check_base",
    "check_mechanism",
    "check_utility",
    "exponents_nats",
    "figures",
    "mi_nats",
]
