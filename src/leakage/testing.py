"""Hypothesis strategies for property-testing code built on :mod:`leakage`.

Shipped inside the package (as dit does) so users can property-test their own code::

    from hypothesis import given
    from leakage.testing import pmfs, channels

    @given(pmfs(4), channels(4, 3))
    def test_mine(p, W): ...

Requires the ``hypothesis`` package (in the ``test`` extra); importing :mod:`leakage`
does not import this module.

Generated arrays are valid inputs: entries are finite and nonnegative and every pmf,
channel row and joint sums to one within ``1e-12``. ``zeros=True`` lets entries be
exactly zero (sparse supports are where leakage formulas have edge cases).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

__all__ = ["channels", "joints", "pmfs"]

_SIZE = st.integers(min_value=1, max_value=6)


def _weights(shape, zeros: bool):
    # weights bounded away from denormals, optionally exactly zero
    elem = st.floats(min_value=1e-3, max_value=1.0, allow_nan=False, allow_infinity=False)
    if zeros:
        elem = st.one_of(st.just(0.0), elem)
    return arrays(np.float64, shape, elements=elem)


def _size(draw, v) -> int:
    if v is None:
        return draw(_SIZE)
    return v if isinstance(v, int) else draw(v)


@st.composite
def pmfs(draw, size: int | st.SearchStrategy[int] | None = None, *, zeros: bool = True):
    """Probability vectors of a given (or drawn, 1..6) size."""
    n = _size(draw, size)
    w = draw(_weights((n,), zeros).filter(lambda a: a.sum() > 0))
    return w / w.sum()


@st.composite
def channels(
    draw,
    n_in: int | st.SearchStrategy[int] | None = None,
    n_out: int | st.SearchStrategy[int] | None = None,
    *,
    zeros: bool = True,
):
    """Row-stochastic channels ``W[x, y] = P(y|x)`` with axis 0 = input."""

    shape = (_size(draw, n_in), _size(draw, n_out))
    w = draw(_weights(shape, zeros).filter(lambda a: bool(np.all(a.sum(axis=1) > 0))))
    return w / w.sum(axis=1, keepdims=True)


@st.composite
def joints(
    draw,
    n_x: int | st.SearchStrategy[int] | None = None,
    n_y: int | st.SearchStrategy[int] | None = None,
    *,
    zeros: bool = True,
):
    """Joint distributions ``P[x, y]`` (2-D, summing to one)."""

    shape = (_size(draw, n_x), _size(draw, n_y))
    w = draw(_weights(shape, zeros).filter(lambda a: a.sum() > 0))
    return w / w.sum()
