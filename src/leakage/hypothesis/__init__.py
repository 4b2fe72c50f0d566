"""Paper 002: hypothesis testing under mutual-information privacy.

Respondents apply a memoryless mechanism ``W`` (M×N, row-stochastic) before their data
reach a Neyman–Pearson test between ``H_k: X ~ p_k``. Utility: the worst Chernoff–Stein
exponent ``min_{k>=2} D(p_k W || p_1 W)`` (or ``D_alpha(p_2 W || p_1 W)``); privacy:
``I(p_k, W) <= eps_k`` for every k. Everything is in bits by default (``base=``).

* :func:`eit_divergence`, :func:`eit_leakage` — Proposition 1's approximations;
* :func:`design_binary` — Theorems 1–2, closed form; :func:`design_mary` — Lemma 3 /
  Theorem 3, an SDP;
* :func:`optimal_mechanism` — the original non-convex problem (2)/(32), solved exactly
  with a certified upper bound (column generation over the simplex of columns);
* :func:`within_budget` — a design mixed with a constant channel to meet its budgets
  exactly (what is saved or released never exceeds a budget);
* :func:`simulate_test` — Monte-Carlo Neyman–Pearson tests on privatized samples.
"""

from ..results import HypothesisDesign, SimulationResult
from .design import design_binary, design_mary, within_budget
from .eit import eit_divergence, eit_leakage
from .optimal import optimal_mechanism
from .simulate import simulate_test

__all__ = [
    "HypothesisDesign",
    "SimulationResult",
    "design_binary",
    "design_mary",
    "eit_divergence",
    "eit_leakage",
    "optimal_mechanism",
    "simulate_test",
    "within_budget",
]
