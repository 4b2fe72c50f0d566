"""Frozen result dataclasses of :mod:`leakage.qif`."""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["AdditiveCapacity", "Hyper", "MultiplicativeCapacity", "Refinement"]


@dataclasses.dataclass(frozen=True)
class Hyper:
    r"""A reduced hyper-distribution :math:`[\pi \triangleright C]`.

    Attributes
    ----------
    outer : (k,) ndarray
        Outer distribution: the probability of each posterior (all > 0, summing to 1).
    inners : (n_x, k) ndarray
        Inner distributions: column ``i`` is the posterior over the secrets ``X`` that
        occurs with probability ``outer[i]``. Distinct columns (within ``atol``).

    Float arrays, or object arrays of ``Fraction`` in exact mode.
    """

    outer: np.ndarray
    inners: np.ndarray

    @property
    def n_posteriors(self) -> int:
        """Number of (distinct) posteriors ``k``."""
        return int(self.outer.shape[0])

    @property
    def prior(self) -> np.ndarray:
        r"""The prior recovered as the average of the inners, :math:`\sum_i o_i \delta^i`."""
        return self.inners @ self.outer


@dataclasses.dataclass(frozen=True)
class MultiplicativeCapacity:
    r"""Multiplicative g-capacity :math:`\mathcal{ML}^\times_g(\mathbb{D}, C)` over all priors.

    Attributes
    ----------
    capacity : float or None
        The maximum over priors of the multiplicative g-leakage (units of ``log_base``)
        when ``exact`` is True; ``None`` when only bounds were computed.
    upper_bound : float
        The multiplicative Bayes capacity :math:`\log\sum_y\max_x C[x,y]`, which bounds
        every nonnegative g-leakage under every prior (the "miracle" theorem).
    lower_bound : float
        The leakage of the returned ``prior``, recomputed with :func:`leakage.qif.leakage`
        (equals ``capacity`` when ``exact``).
    prior : (n_x,) ndarray
        A prior attaining ``lower_bound``.
    exact : bool
        Whether ``capacity`` is the certified maximum (closed form or vertex enumeration).
    tight : bool
        Whether the Bayes-capacity bound is attained (``lower_bound`` within 1e-9 of it).
    method : str
        ``"closed form"``, ``"vertex enumeration"`` or ``"bound only"``.
    base : float
        Logarithm base of the values.
    """

    capacity: float | None
    upper_bound: float
    lower_bound: float
    prior: np.ndarray
    exact: bool
    tight: bool
    method: str
    base: float


@dataclasses.dataclass(frozen=True)
class AdditiveCapacity:
    r"""Additive Bayes capacity :math:`\mathcal{ML}^+_1(\mathbb{D}, C)`.

    Attributes
    ----------
    capacity : float
        :math:`\max_\pi (V_1[\pi \triangleright C] - V_1(\pi))` (unitless, in [0, 1)).
    prior : (n_x,) ndarray
        A maximizing prior: uniform on ``support``.
    support : (m,) ndarray of int
        The subset of secrets the maximizing prior is uniform on.
    n_candidates : int
        Number of sub-uniform priors enumerated (``2**n_x - 1``).
    """

    capacity: float
    prior: np.ndarray
    support: np.ndarray
    n_candidates: int


@dataclasses.dataclass(frozen=True)
class Refinement:
    r"""Outcome of :func:`leakage.qif.refines`: is ``B`` a post-processing of ``A``?

    Attributes
    ----------
    refines : bool
        True iff ``B = A R`` for a channel ``R`` (``A`` is refined by ``B``,
        :math:`A \sqsubseteq B`): ``B`` never leaks more than ``A``.
    post_processing : (n_ya, n_yb) ndarray or None
        The channel ``R`` (row-stochastic) when ``refines``; else None.
    residual : float
        ``max |A R - B|`` of the returned ``R`` (``refines``); otherwise that of the
        unconstrained least-squares ``R`` (0 when ``B`` lies in the column space of ``A``
        and only the constraint ``R >= 0`` fails).
    prior : (n_x,) ndarray or None
        Witness prior (uniform) when not ``refines``.
    gain : (n_yb, n_x) ndarray or None
        Witness gain ``G[w, x]`` with entries in [0, 1] such that
        :math:`V_g[\pi \triangleright B] > V_g[\pi \triangleright A]`.
    vulnerability_gap : float or None
        :math:`V_g[\pi \triangleright B] - V_g[\pi \triangleright A] > 0` of the witness,
        recomputed with :func:`leakage.qif.posterior_vulnerability`.
    """

    refines: bool
    post_processing: np.ndarray | None
    residual: float
    prior: np.ndarray | None = None
    gain: np.ndarray | None = None
    vulnerability_gap: float | None = None
