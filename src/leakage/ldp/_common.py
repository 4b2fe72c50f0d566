"""Validation shared by the :mod:`leakage.ldp` modules (built on :mod:`leakage._validation`)."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .._validation import as_channel, check_size
from ..errors import InvalidParameterError

#: Largest number of cells of an exact channel (``k * n_outputs``) that ``.channel`` builds.
MAX_CHANNEL_CELLS = 2**20
#: Users processed at once by the chunked samplers and counters.
CHUNK = 2**18


def raise_param(func: str, name: str, requirement: str, got: Any, hint: str = "") -> None:
    msg = f"{func}: the '{name}' argument must {requirement}; got {got} instead."
    raise InvalidParameterError(msg + (" " + hint if hint else ""))


def check_k(k: Any, *, func: str) -> int:
    """The domain size: an integer >= 2 (a float such as ``8.0`` is refused too)."""
    if not isinstance(k, numbers.Integral) or isinstance(k, bool):
        raise_param(func, "k", "be an integer >= 2 (the number of input values)", repr(k))
    return check_size(k, func=func, name="k", minimum=2, limit=2**31 - 1, what="values")


def check_eps(eps: Any, *, func: str) -> float:
    """The privacy budget: a finite real number > 0, in nats."""
    ok = isinstance(eps, numbers.Real) and not isinstance(eps, bool)
    if not ok or not math.isfinite(eps) or eps <= 0:
        raise_param(func, "eps", "be a finite real number > 0 (the LDP budget, in nats)", repr(eps))
    return float(eps)


def check_values(values: Any, k: int, *, func: str, name: str = "values") -> np.ndarray:
    """A non-empty 1-D array of integer values in ``[0, k)``, returned as ``int64``."""
    try:
        v = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"{func}: the '{name}' argument must be a 1-D array of integers in [0, {k}); "
            f"reading it failed ({exc})."
        ) from exc
    if v.ndim != 1 or v.size == 0:
        raise_param(
            func, name, f"be a non-empty 1-D array of integers in [0, {k})", f"shape {v.shape}"
        )
    if v.dtype.kind not in "iu":
        whole = v.dtype.kind == "f" and bool(np.all(np.isfinite(v) & (v == np.round(v))))
        if not whole:
            raise_param(func, name, f"hold integers in [0, {k})", f"an array of dtype {v.dtype}")
    v = v.astype(np.int64, copy=False)
    lo, hi = int(v.min()), int(v.max())
    if lo < 0 or hi >= k:
        bad = int(np.flatnonzero((v < 0) | (v >= k))[0])
        raise_param(
            func, name, f"hold integers in [0, {k}) (k = {k})", f"{int(v[bad])} at index {bad}"
        )
    return v


def check_cells(k: int, n_outputs: int, *, func: str) -> None:
    """Refuse an exact channel of more than :data:`MAX_CHANNEL_CELLS` entries."""
    cells = k * n_outputs
    if cells > MAX_CHANNEL_CELLS:
        raise InvalidParameterError(
            f"{func}: the exact channel would have {k:,} x {n_outputs:,} = {cells:,} cells, "
            f"above the limit of {MAX_CHANNEL_CELLS:,} cells. Use a smaller k, or the "
            "protocol's sample/sample_counts/estimate/variance, which never build the channel."
        )


def as_matrix(mechanism: Any, *, func: str, name: str = "mechanism") -> tuple[np.ndarray, str]:
    """A validated dense channel from a protocol, a :class:`~leakage.Mechanism`, a design
    result (``.mechanism``) or a plain array; also returns a short description."""
    from ..mechanism import Mechanism
    from ..results import HypothesisDesign, PointwiseDesign
    from ._protocols import LDPProtocol

    if isinstance(mechanism, LDPProtocol):
        return mechanism.channel, mechanism.name
    if isinstance(mechanism, Mechanism):
        return np.asarray(mechanism.matrix), "Mechanism"
    if isinstance(mechanism, (PointwiseDesign, HypothesisDesign)):
        W = as_channel(mechanism.mechanism, func=func, name=f"{name}.mechanism")
        return W, type(mechanism).__name__
    return as_channel(mechanism, func=func, name=name), "channel"
