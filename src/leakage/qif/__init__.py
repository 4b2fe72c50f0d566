r"""Quantitative information flow: g-vulnerability, leakage, capacities, hyper-distributions
and refinement.

The vocabulary of Alvim, Chatzikokolakis, McIver, Morgan, Palamidessi and Smith, *The
Science of Quantitative Information Flow*, Springer 2020. A prior ``π`` is a 1-D array on
the secrets ``X``; a channel ``C[x, y] = P(y | x)`` is row-stochastic with axis 0 = input;
a gain ``G[w, x]`` is a ``|W| x |X|`` matrix whose rows are the adversary's guesses (see
:mod:`leakage.qif.gains`). Priors and channels given as :class:`fractions.Fraction`
select the exact mode of the closed-form quantities (:func:`vulnerability`,
:func:`posterior_vulnerability`, additive :func:`leakage`, :func:`hyper`, ...).
"""

from . import gains
from ._capacity import additive_capacity, multiplicative_capacity
from ._hyper import hyper
from ._refinement import cascade, hidden_choice, parallel, refines, visible_choice
from ._results import AdditiveCapacity, Hyper, MultiplicativeCapacity, Refinement
from ._vulnerability import (
    g_entropy,
    guessing_entropy,
    leakage,
    posterior_g_entropy,
    posterior_uncertainty,
    posterior_vulnerability,
    uncertainty,
    vulnerability,
)

__all__ = [
    "AdditiveCapacity",
    "Hyper",
    "MultiplicativeCapacity",
    "Refinement",
    "additive_capacity",
    "cascade",
    "g_entropy",
    "gains",
    "guessing_entropy",
    "hidden_choice",
    "hyper",
    "leakage",
    "multiplicative_capacity",
    "parallel",
    "posterior_g_entropy",
    "posterior_uncertainty",
    "posterior_vulnerability",
    "refines",
    "uncertainty",
    "visible_choice",
    "vulnerability",
]
