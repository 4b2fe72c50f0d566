"""leakage: information-theoretic privacy and secrecy.

Measure leakage (mutual information, maximal leakage, Sibson α-MI, point-wise leakage),
design mechanisms and codes with provable leakage guarantees, and reproduce the papers
they come from. Logarithms are base 2 (bits) unless a ``base=`` says otherwise.

The subpackages (``leakage.cipher``, ``leakage.estimate``, ...) and the top-level
functions and classes are imported on first use (PEP 562 ``__getattr__``), so that
``import leakage`` and the ``leakage`` command line start fast; ``import leakage as lk;
lk.cipher...`` and ``from leakage import mutual_information`` work as usual.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .errors import (
    ConvergenceWarning,
    DesignWarning,
    DisclosureWarning,
    InfeasibleError,
    IntegrityError,
    IntegrityWarning,
    InvalidDistributionError,
    InvalidParameterError,
    LeakageError,
    OutputExistsError,
    SolverError,
    SystemCallError,
)

if TYPE_CHECKING:  # what the lazy names below resolve to, for type checkers and IDEs
    from . import cipher, estimate, hypothesis, ldp, pointwise, qif, ratedistortion
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

    __version__: str

#: submodules imported on first attribute access (``lk.cipher``, ``lk.release``, ...)
_SUBMODULES = frozenset(
    {
        "cipher",
        "estimate",
        "hypothesis",
        "io",
        "ldp",
        "measures",
        "mechanism",
        "plotting",
        "pointwise",
        "qif",
        "ratedistortion",
        "release",
        "reproduce",
        "results",
        "units",
    }
)

#: top-level names imported on first access, and the submodule that defines each
_LAZY = {
    **dict.fromkeys(
        (
            "channel_capacity",
            "chi2_divergence",
            "entropy",
            "kl_divergence",
            "maximal_leakage",
            "mutual_information",
            "pointwise_leakage",
            "renyi_divergence",
            "sibson_mutual_information",
            "total_variation",
        ),
        "measures",
    ),
    "Mechanism": "mechanism",
    **dict.fromkeys(
        (
            "CapacityResult",
            "HypothesisDesign",
            "PointwiseDesign",
            "RateDistortionCurve",
            "RateDistortionResult",
            "SimulationResult",
            "Status",
            "SuccessiveRefinementResult",
        ),
        "results",
    ),
}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("leakage")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


def __getattr__(name: str) -> Any:
    """Import a subpackage or a top-level name on first access (PEP 562)."""
    if name == "__version__":
        value: Any = _version()
    elif name in _SUBMODULES:
        value = import_module(f"{__name__}.{name}")
    elif name in _LAZY:
        value = getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # cached: __getattr__ is not called again for it
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBMODULES})


__all__ = [
    "CapacityResult",
    "ConvergenceWarning",
    "DesignWarning",
    "DisclosureWarning",
    "HypothesisDesign",
    "InfeasibleError",
    "IntegrityError",
    "IntegrityWarning",
    "InvalidDistributionError",
    "InvalidParameterError",
    "LeakageError",
    "Mechanism",
    "OutputExistsError",
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
