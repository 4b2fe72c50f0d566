"""Data release: from a table of records to a released column with an audited guarantee.

A curator's table has a private attribute X and a useful attribute Y. :func:`fit` counts
their joint (streaming), :func:`design` builds a point-wise mechanism P(U|Y) (paper 001)
and refuses one over its budgets, :func:`apply` adds the released column U to every
record (streamed, deterministic per record, written atomically), and :func:`audit`
checks the released table against the design. Needs the ``release`` extra (pyarrow,
pandas).
"""

from ._apply import apply, apply_frame, uniforms
from ._audit import AuditResult, audit, plot_audit
from ._dask import apply_dask
from ._design import Release, design
from ._fit import FittedJoint, fit, posterior_leakage

__all__ = [
    "AuditResult",
    "FittedJoint",
    "Release",
    "apply",
    "apply_dask",
    "apply_frame",
    "audit",
    "design",
    "fit",
    "plot_audit",
    "posterior_leakage",
    "uniforms",
]
