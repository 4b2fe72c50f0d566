r"""Entropy and divergences between two distributions on one finite alphabet.

All functions validate their inputs (1-D probability vectors summing to 1 within
``atol=1e-9``; never renormalized) and return Python floats. Information quantities are
in units of ``log_base`` (default ``base=2``: bits); :math:`\chi^2` and total variation
are unitless.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import entr, rel_entr

from .._validation import as_pmf, check_alpha, check_base, check_same_shape
from ..units import from_nats

__all__ = [
    "chi2_divergence",
    "entropy",
    "kl_divergence",
    "renyi_divergence",
    "total_variation",
]


def entropy(p: ArrayLike, *, base: float = 2) -> float:
    r"""Shannon entropy of a probability vector.

    .. math:: H(p) = -\sum_x p(x) \log p(x), \qquad 0 \log 0 = 0.

    Parameters
    ----------
    p : (n,) array-like
        Probability vector.
    base : float, default 2
        Logarithm base; the result is in bits for 2, nats for ``math.e``.

    Returns
    -------
    float
        :math:`H(p)` in units of ``log_base`` (bits by default).

    Examples
    --------
    >>> import leakage as lk
    >>> lk.entropy([0.5, 0.25, 0.25])
    1.5
    """
    fn = "entropy"
    base = check_base(base, func=fn)
    p = as_pmf(p, func=fn, name="p")
    return float(from_nats(entr(p).sum(), base))


def kl_divergence(p: ArrayLike, q: ArrayLike, *, base: float = 2) -> float:
    r"""Relative entropy (Kullback–Leibler divergence).

    .. math:: D(p \| q) = \sum_x p(x) \log \frac{p(x)}{q(x)},

    with :math:`0 \log(0/q) = 0` and :math:`p \log(p/0) = +\infty` for :math:`p > 0`
    (Cover & Thomas, eq. (2.26)).

    Parameters
    ----------
    p, q : (n,) array-like
        Probability vectors on the same alphabet.
    base : float, default 2
        Logarithm base (2: bits).

    Returns
    -------
    float
        :math:`D(p\|q)` in units of ``log_base``; ``inf`` when ``p`` is not absolutely
        continuous with respect to ``q``.

    Examples
    --------
    >>> import leakage as lk
    >>> lk.kl_divergence([0.5, 0.5], [0.25, 0.75])  # doctest: +ELLIPSIS
    0.2075...
    """
    fn = "kl_divergence"
    base = check_base(base, func=fn)
    p = as_pmf(p, func=fn, name="p")
    q = as_pmf(q, func=fn, name="q")
    check_same_shape(p, q, func=fn)
    return float(from_nats(rel_entr(p, q).sum(), base))


def _renyi_nats(p: np.ndarray, q: np.ndarray, alpha: float) -> float:
    """Rényi divergence in nats for validated p, q and alpha in (0,1) U (1,inf)."""
    mask = p > 0
    pm, qm = p[mask], q[mask]
    if alpha > 1 and not qm.min() > 0:
        return math.inf
    s = alpha - 1.0
    if abs(s) < 1e-3:
        # D = log E_p[exp(s r)] / s with r = log(p/q): log1p/expm1 keep full relative
        # precision as alpha -> 1 (the direct formula is 0/0 there). r = +inf where
        # q = 0 (alpha < 1 only), and expm1(-inf) = -1 is the right contribution.
        with np.errstate(divide="ignore"):
            r = np.log(pm) - np.log(qm)
        total = float((pm * np.expm1(s * r)).sum())
        if total <= -1.0:  # disjoint supports
            return math.inf
        return math.log1p(total) / s
    if alpha < 1:
        keep = qm > 0
        if not keep.all():
            pm, qm = pm[keep], qm[keep]
            if pm.size == 0:  # disjoint supports
                return math.inf
    # log sum_x p^alpha q^(1-alpha), computed stably in log space
    with np.errstate(divide="ignore"):
        t = alpha * np.log(pm) + (1.0 - alpha) * np.log(qm)
    m = t.max()
    log_sum = m + math.log(np.exp(t - m).sum())
    return log_sum / (alpha - 1.0)


def renyi_divergence(p: ArrayLike, q: ArrayLike, alpha: float, *, base: float = 2) -> float:
    r"""Rényi divergence of order :math:`\alpha \in (0, \infty]`.

    .. math::

        D_\alpha(p \| q) = \frac{1}{\alpha - 1} \log \sum_x p(x)^\alpha q(x)^{1-\alpha},
        \qquad \alpha \in (0,1) \cup (1,\infty),

    with the limits :math:`D_1 = D(p\|q)` (KL) and
    :math:`D_\infty = \log \max_{x: p(x)>0} p(x)/q(x)` (max-divergence); van Erven &
    Harremoës, *Rényi divergence and Kullback–Leibler divergence*, IEEE T-IT 2014,
    Definitions 1–2 and Theorems 4–6. The sum is evaluated in log space, so large
    :math:`\alpha` does not overflow. Non-decreasing in :math:`\alpha`.

    Parameters
    ----------
    p, q : (n,) array-like
        Probability vectors on the same alphabet.
    alpha : float
        Order in ``(0, inf]``; ``1`` gives KL, ``math.inf`` the max-divergence.
    base : float, default 2
        Logarithm base (2: bits).

    Returns
    -------
    float
        :math:`D_\alpha(p\|q)` in units of ``log_base`` (may be ``inf``).
    """
    fn = "renyi_divergence"
    base = check_base(base, func=fn)
    alpha = check_alpha(alpha, func=fn)
    p = as_pmf(p, func=fn, name="p")
    q = as_pmf(q, func=fn, name="q")
    check_same_shape(p, q, func=fn)
    if alpha == 1.0:
        return float(from_nats(rel_entr(p, q).sum(), base))
    if math.isinf(alpha):
        mask = p > 0
        qm = q[mask]
        if not qm.min() > 0:
            return math.inf
        return float(from_nats(math.log((p[mask] / qm).max()), base))
    return float(from_nats(_renyi_nats(p, q, alpha), base))


def chi2_divergence(p: ArrayLike, q: ArrayLike) -> float:
    r"""Pearson :math:`\chi^2`-divergence (unitless).

    .. math:: \chi^2(p \| q) = \sum_x \frac{(p(x) - q(x))^2}{q(x)}
              = \sum_x \frac{p(x)^2}{q(x)} - 1,

    with terms where :math:`p(x) = q(x) = 0` counted as 0 and ``inf`` when
    :math:`p(x) > 0 = q(x)`.

    Parameters
    ----------
    p, q : (n,) array-like
        Probability vectors on the same alphabet.

    Returns
    -------
    float
        :math:`\chi^2(p\|q) \ge 0` (unitless; no ``base``).
    """
    fn = "chi2_divergence"
    p = as_pmf(p, func=fn, name="p")
    q = as_pmf(q, func=fn, name="q")
    check_same_shape(p, q, func=fn)
    mask = q > 0
    if not mask.all():
        if (p[~mask] > 0).any():
            return math.inf
        p, q = p[mask], q[mask]
    d = p - q
    return float((d * d / q).sum())


def total_variation(p: ArrayLike, q: ArrayLike) -> float:
    r"""Total variation distance (unitless).

    .. math:: \mathrm{TV}(p, q) = \tfrac12 \|p - q\|_1 = \tfrac12 \sum_x |p(x) - q(x)|
              \in [0, 1].

    Note the factor :math:`\tfrac12`: paper 001's ℓ1 point-wise leakage is the full
    ℓ1 norm, ``2 * total_variation``.

    Parameters
    ----------
    p, q : (n,) array-like
        Probability vectors on the same alphabet.

    Returns
    -------
    float
        :math:`\mathrm{TV}(p, q) \in [0, 1]` (unitless; no ``base``).

    Examples
    --------
    >>> import leakage as lk
    >>> lk.total_variation([0.5, 0.5], [0.25, 0.75])
    0.25
    """
    fn = "total_variation"
    p = as_pmf(p, func=fn, name="p")
    q = as_pmf(q, func=fn, name="q")
    check_same_shape(p, q, func=fn)
    return float(0.5 * np.abs(p - q).sum())
