"""Pure, array-first information measures (validated inputs, ``base=2`` by default)."""

from .capacity import channel_capacity
from .divergences import (
    chi2_divergence,
    entropy,
    kl_divergence,
    renyi_divergence,
    total_variation,
)
from .mutual import (
    POINTWISE_MEASURES,
    maximal_leakage,
    mutual_information,
    pointwise_leakage,
    sibson_mutual_information,
)

__all__ = [
    "POINTWISE_MEASURES",
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
]
