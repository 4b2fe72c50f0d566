"""Data release: from a table of records to a released column with an audited guarantee.

A curator's table has a private attribute X and a useful attribute Y. :func:`fit` counts
their joint (streaming), :func:`design` builds a point-wise mechanism P(U|Y) (paper 001)
and refuses one over its budgets, :func:`apply` adds the released column U to every
record (streamed, deterministic per record, written atomically), and :func:`audit`
checks the released table against the design. Needs the ``release`` extra (pyarrow,
pandas).

Bad input raises :class:`~leakage.InvalidParameterError` (or
:class:`~leakage.InvalidDistributionError` for a mechanism or a joint) naming the function,
the argument and the fix, with any low-level error as ``__cause__``. Every size argument
has a limit, checked before anything is allocated:

* :func:`uniforms`: ``n`` <= 2**27 doubles (draw more in consecutive pieces);
* :func:`apply`: ``batch_size`` <= 2**24 records; :func:`apply_dask`: ``window`` <= 1024;
* :func:`fit`: at most 2**22 cells |X| x |Y| (bin coarser or merge categories);
* :func:`posterior_leakage`: ``draws`` <= 100,000; :func:`audit`: ``bootstrap`` <= 100,000;
  both with (draws or resamples) x released letters <= 2**27, drawn in chunks so memory
  stays bounded.

Seeds of the counter-based stream are integers in ``[0, 2**128)``; ``rng`` arguments are
None, a nonnegative integer or a ``numpy.random.Generator``.
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
