"""Logarithm bases and information units.

Every information quantity in :mod:`leakage` is computed in nats (natural logarithm)
and converted once, at the end, to the caller's ``base`` (default 2: bits, as in the
papers). ``base`` must be a finite real number greater than 0 and different from 1;
:func:`leakage._validation.check_base` enforces that.
"""

from __future__ import annotations

import math

__all__ = ["from_nats", "to_nats", "unit_name"]

_NAMES = {2.0: "bits", math.e: "nats", 10.0: "hartleys"}


def from_nats(value, base: float):
    """Convert an information quantity from nats to units of ``log_base``.

    ``value / ln(base)``; works for floats and NumPy arrays alike.
    """
    if base == math.e:
        return value
    return value / math.log(base)


def to_nats(value, base: float):
    """Convert an information quantity in units of ``log_base`` to nats (``value * ln(base)``)."""
    if base == math.e:
        return value
    return value * math.log(base)


def unit_name(base: float) -> str:
    """Human-readable unit of a logarithm base: ``2 → 'bits'``, ``e → 'nats'``,
    ``10 → 'hartleys'``, anything else ``'log-base-<b> units'``."""
    name = _NAMES.get(float(base))
    if name is not None:
        return name
    return f"log-base-{base:g} units"
