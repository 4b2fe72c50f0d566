"""Leakage of a real system, estimated from samples.

Paired samples ``x`` (the secret) and ``y`` (what an observer sees) go in; an
:class:`~leakage.results.Estimate` (a value and an interval at a stated level) comes out.

Discrete samples (any hashable labels) are reduced to their count table
(:func:`counts`); the point estimates are plug-in values of the :mod:`leakage.measures`
or bias-corrected mutual-information estimators; intervals come from a multinomial
bootstrap of the count table or from a Dirichlet posterior. Numeric observables go to the
k-nearest-neighbour estimators with ``method="knn"``.
"""

from ..results import Estimate
from ._discrete import (
    Counts,
    IndependenceTest,
    bayes_risk,
    bayes_vulnerability,
    counts,
    independence_test,
    maximal_leakage,
    min_entropy_leakage,
    mutual_information,
    sibson_mutual_information,
)
from ._knn import knn_bayes_risk, knn_mutual_information
from ._logs import count_log
from ._system import from_system

__all__ = [
    "Counts",
    "Estimate",
    "IndependenceTest",
    "bayes_risk",
    "bayes_vulnerability",
    "count_log",
    "counts",
    "from_system",
    "independence_test",
    "knn_bayes_risk",
    "knn_mutual_information",
    "maximal_leakage",
    "min_entropy_leakage",
    "mutual_information",
    "sibson_mutual_information",
]
