"""Data release: from a table of records to a released column with an audited guarantee.

A curator's table has a private attribute X and a useful attribute Y. :func:`fit` counts
their joint (streaming), :func:`design` builds a point-wise mechanism P(U|Y) (paper 001)
and refuses one over its budgets, :func:`apply` adds the released column U to every
record (streamed, deterministic per record, written atomically) into a *public* table
that holds U and only the columns named in ``keep`` (never X), and :func:`audit` checks the
release against the design, from a private audit file of (X, U) or from the source table
beside the public one. Needs the ``release`` extra (pyarrow,
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

Keys, not seeds: the draws come from a counter-based stream keyed by a secret key of at
least 128 bits (:func:`new_key` draws 256 from the OS; :func:`write_key` keeps it in a
file of mode 0600) and a release id (not secret, new on every run unless given), combined
by HMAC-SHA256 (:func:`stream_key`). What someone with the key, the public table or both
can learn (the threat model):

* the public table alone: what the budgets allow, each released letter leaking at most
  its budget about X;
* the key (with the release id, which is not secret) and the public table: every record's
  uniform draw, and so, from its released letter, its Y narrowed to the letters whose
  interval of the mechanism's CDF holds that draw, often a single letter; the key is as
  sensitive as the private data;
* two releases with a new release id each have independent draws, but their leakages add
  up (composition), which one design does not budget.

``rng`` arguments are None, a nonnegative integer or a ``numpy.random.Generator``.
"""

from ._apply import apply, apply_frame, uniforms
from ._audit import AuditResult, audit, plot_audit
from ._dask import apply_dask
from ._design import Release, design
from ._fit import FittedJoint, fit, posterior_leakage
from ._keys import new_key, new_release_id, read_key, stream_key, write_key

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
    "new_key",
    "new_release_id",
    "plot_audit",
    "posterior_leakage",
    "read_key",
    "stream_key",
    "uniforms",
    "write_key",
]
