"""Local differential privacy: frequency-estimation protocols and a cross-metric report.

Protocols (client ``sample``, server ``estimate``, exact ``variance``, exact ``channel``
for small ``k``): :func:`grr`, :func:`oue`, :func:`rappor` (basic one-time RAPPOR =
symmetric unary encoding, no Bloom filters), :func:`olh`, :func:`blh`, :func:`hadamard`,
:func:`subset_selection`. Any channel: :func:`epsilon` (in nats), :func:`ibu`
(maximum-likelihood frequencies), :func:`project_simplex`, :func:`report`
(ε, maximal / point-wise maximal leakage, Sibson MI, MI, Bayes leakage, variance).
"""

from ._common import MAX_CHANNEL_CELLS
from ._estimation import IBUResult, epsilon, ibu, project_simplex
from ._plot import plot_report_vs_epsilon
from ._protocols import (
    GRR,
    MAX_HASH_TABLE,
    MAX_REPORT_BITS,
    PROTOCOLS,
    HadamardResponse,
    LDPProtocol,
    LocalHashing,
    SubsetSelection,
    SupportCounts,
    UnaryEncoding,
    blh,
    grr,
    hadamard,
    olh,
    oue,
    rappor,
    subset_selection,
)
from ._report import LDPReport, report

__all__ = [
    "GRR",
    "MAX_CHANNEL_CELLS",
    "MAX_HASH_TABLE",
    "MAX_REPORT_BITS",
    "PROTOCOLS",
    "HadamardResponse",
    "IBUResult",
    "LDPProtocol",
    "LDPReport",
    "LocalHashing",
    "SubsetSelection",
    "SupportCounts",
    "UnaryEncoding",
    "blh",
    "epsilon",
    "grr",
    "hadamard",
    "ibu",
    "olh",
    "oue",
    "plot_report_vs_epsilon",
    "project_simplex",
    "rappor",
    "report",
    "subset_selection",
]
