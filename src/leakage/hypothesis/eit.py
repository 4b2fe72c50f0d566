r"""Euclidean information-theoretic (E-IT) approximations of paper 002, Proposition 1.

A mechanism near perfect privacy is :math:`W = W_0 + \Theta` with every row of
:math:`W_0` equal to an interior :math:`w_0` and :math:`\Theta \mathbf 1 = 0`. Writing
:math:`A = \Theta [w_0^{-1/2}]`,

* eq. (9)/(11): :math:`D(p_k W \| p_1 W) \approx \tfrac12 \|(p_k - p_1) A\|^2`, with error
  :math:`o(\|\Theta\|^2)`;
* eq. (10)/(12) *as printed*: :math:`I(p_k, W) \approx \tfrac12 \sum_i p_{ki} \|A_i\|^2`;
* the second-order expansion of :math:`I(p_k, W)` itself (ERRATA 002): :math:`\tfrac12
  \sum_i p_{ki} \|A_i - \sum_l p_{kl} A_l\|^2` — (12) drops the mean term and equals it
  only when the :math:`p_k`-weighted mean row of :math:`A` is zero (otherwise (12)
  over-estimates the leakage).

The quadratic forms are second-order expansions in **nats** (½χ²); these functions return
them converted to ``base`` (bits by default) so they compare directly with the exact
quantities of :mod:`leakage.measures`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_pmf, check_base
from ..errors import InvalidParameterError
from ..units import from_nats


def _perturbation(w0: ArrayLike, Theta: ArrayLike, func: str) -> tuple[np.ndarray, np.ndarray]:
    w = as_pmf(w0, func=func, name="w0")
    if w.min() <= 0:
        raise InvalidParameterError(
            f"{func}: 'w0' must lie in the interior of the simplex (Proposition 1 divides "
            f"by sqrt(w0)); got min(w0) = {w.min()!r}."
        )
    T = np.asarray(Theta, dtype=float)
    if T.ndim != 2 or T.shape[1] != w.size or not np.all(np.isfinite(T)):
        raise InvalidParameterError(
            f"{func}: 'Theta' must be a finite M×N array with N = len(w0) = {w.size}; got "
            f"shape {T.shape}."
        )
    if np.abs(T.sum(axis=1)).max() > 1e-9:
        raise InvalidParameterError(
            f"{func}: every row of 'Theta' must sum to 0 (W = W0 + Theta row-stochastic, eq. (46))."
        )
    return w, T / np.sqrt(w)[None, :]


def eit_divergence(
    pk: ArrayLike, p1: ArrayLike, w0: ArrayLike, Theta: ArrayLike, *, base: float = 2
) -> float:
    r"""Eq. (9)/(11): :math:`\tfrac12 \|(p_k - p_1)\Theta[w_0^{-1/2}]\|^2`, the E-IT
    approximation of :math:`D(p_k W\|p_1 W)` for :math:`W = W_0 + \Theta` (units of
    ``log_base``)."""
    fn = "eit_divergence"
    b = check_base(base, func=fn)
    _, A = _perturbation(w0, Theta, fn)
    d = as_pmf(pk, func=fn, name="pk") - as_pmf(p1, func=fn, name="p1")
    if d.size != A.shape[0]:
        raise InvalidParameterError(f"{fn}: pk and p1 need one entry per row of Theta.")
    return float(from_nats(0.5 * float(np.sum((d @ A) ** 2)), b))


def eit_leakage(
    pk: ArrayLike, w0: ArrayLike, Theta: ArrayLike, *, centred: bool = True, base: float = 2
) -> float:
    r"""E-IT approximation of :math:`I(p_k, W)` for :math:`W = W_0 + \Theta` (units of
    ``log_base``).

    ``centred=True`` (default): the second-order expansion :math:`\tfrac12 \sum_i p_{ki}
    \|A_i - p_k A\|^2`; ``centred=False``: eq. (10)/(12) as printed, :math:`\tfrac12
    \sum_i p_{ki}\|A_i\|^2`, which is larger by :math:`\tfrac12\|p_k A\|^2` (ERRATA 002).
    """
    fn = "eit_leakage"
    b = check_base(base, func=fn)
    _, A = _perturbation(w0, Theta, fn)
    p = as_pmf(pk, func=fn, name="pk")
    if p.size != A.shape[0]:
        raise InvalidParameterError(f"{fn}: pk needs one entry per row of Theta.")
    C = A - (p @ A)[None, :] if centred else A
    return float(from_nats(0.5 * float(p @ np.sum(C**2, axis=1)), b))
