"""leakage: information-theoretic privacy and secrecy.

Measure leakage (mutual information, maximal leakage, Sibson α-MI, point-wise leakage),
design mechanisms and codes with provable leakage guarantees, and reproduce the papers
they come from. Logarithms are base 2 (bits) unless a ``base=`` says otherwise.
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

from . import cipher, estimate, hypothesis, ldp, pointwise, qif, ratedistortion
from .errors import (
    ConvergenceWarning,
    DesignWarning,
    InfeasibleError,
    InvalidDistributionError,
    InvalidParameterError,
    LeakageError,
    SolverError,
    SystemCallError,
)
from .measures import (
    channel_capacity,
    chi2_divergence,
    entropy,
    kl_divergence,
    maximal_leakage,
    mutual_information,
    pointwise_leakage,
    renyi_divergence,
    sibson_mutual_information,
    total_variation,
)
from .mechanism import Mechanism
from .results import (
    CapacityResult,
    HypothesisDesign,
    PointwiseDesign,
    RateDistortionCurve,
    RateDistortionResult,
    SimulationResult,
    Status,
    SuccessiveRefinementResult,
)

try:
    __version__ = _version("leakage")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "CapacityResult",
    "ConvergenceWarning",
    "DesignWarning",
    "HypothesisDesign",
    "InfeasibleError",
    "InvalidDistributionError",
    "InvalidParameterError",
    "LeakageError",
    "Mechanism",
    "PointwiseDesign",
    "RateDistortionCurve",
    "RateDistortionResult",
    "SimulationResult",
    "SolverError",
    "Status",
    "SuccessiveRefinementResult",
    "SystemCallError",
    "__version__",
    "channel_capacity",
    "chi2_divergence",
    "cipher",
    "entropy",
    "estimate",
    "hypothesis",
    "kl_divergence",
    "ldp",
    "maximal_leakage",
    "mutual_information",
    "pointwise",
    "pointwise_leakage",
    "qif",
    "ratedistortion",
    "renyi_divergence",
    "sibson_mutual_information",
    "total_variation",
]
