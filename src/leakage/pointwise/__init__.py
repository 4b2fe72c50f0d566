"""Paper 001: release mechanisms ``P(U|Y)`` under multi-level point-wise leakage budgets.

A curator holds useful data Y correlated with private X (joint ``p_xy``, |X|×|Y|, axis 0 =
X) and releases U drawn from ``P(U|Y)``; released letter ``u_i`` may leak at most its own
budget ``ε_i`` about X. Every design reports the exact ``I(U;Y)`` and the exact per-letter
leakage of the mechanism it returns, apart from the approximate value it optimized.
"""

from ..results import PointwiseDesign
from .chi2 import design_chi2
from .exact import optimal_l1
from .l1 import design_l1, extreme_point_supports

__all__ = [
    "PointwiseDesign",
    "design_chi2",
    "design_l1",
    "extreme_point_supports",
    "optimal_l1",
]
