r"""Hyper-distributions: the abstract (output-free) view of a channel under a prior."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_tolerance
from ._common import _PREFIX, channel_inputs
from ._results import Hyper

__all__ = ["hyper"]

#: Posteriors closer than this (max-norm) are merged.
HYPER_ATOL = 1e-12


def _reduce_float(J: np.ndarray, atol: float) -> tuple[np.ndarray, np.ndarray]:
    outer = J.sum(axis=0)
    keep = outer > 0
    J, outer = J[:, keep], outer[keep]
    P = J / outer
    # Sort the columns lexicographically by their quantized values, then merge neighbours
    # within atol (max-norm): equal posteriors end up adjacent.
    key = np.round(P / atol)
    order = np.lexsort(key[::-1])
    Ps = P[:, order]
    new = np.ones(order.shape[0], dtype=bool)
    if order.shape[0] > 1:
        new[1:] = np.abs(np.diff(Ps, axis=1)).max(axis=0) > atol
    starts = np.flatnonzero(new)
    Jg = np.add.reduceat(J[:, order], starts, axis=1)
    og = np.add.reduceat(outer[order], starts)
    # Order the groups by the first output they contain (deterministic, output order).
    first = np.minimum.reduceat(order, starts)
    perm = np.argsort(first, kind="stable")
    Jg, og = Jg[:, perm], og[perm]
    return og, Jg / og


def _reduce_exact(J: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    outer = J.sum(axis=0)
    groups: dict[tuple, int] = {}
    cols: list[np.ndarray] = []
    outs: list = []
    for j in range(J.shape[1]):  # exact mode: small, textbook-sized inputs
        o = outer[j]
        if o == 0:
            continue
        col = J[:, j] / o
        k = groups.setdefault(tuple(col.tolist()), len(cols))
        if k == len(cols):
            cols.append(col)
            outs.append(o)
        else:
            outs[k] += o
    o_arr = np.empty(len(outs), dtype=object)
    o_arr[:] = outs
    return o_arr, np.stack(cols, axis=1)


def hyper(prior: Any, C: Any, *, atol: float = HYPER_ATOL) -> Hyper:
    r"""The reduced hyper-distribution :math:`[\pi \triangleright C]`.

    Each output :math:`y` with :math:`p(y) = \sum_x \pi(x) C[x, y] > 0` yields the
    posterior :math:`\delta^y(x) = \pi(x) C[x, y] / p(y)` (an *inner*) with probability
    :math:`p(y)` (the *outer*). The hyper is *reduced* (Science of QIF, Ch. 4): outputs
    of probability 0 are dropped and outputs with equal posteriors (within ``atol`` in
    max-norm; exactly equal in exact mode) are merged, their outer probabilities added.
    The posterior g-vulnerability depends only on the hyper:
    :math:`V_g[\pi \triangleright C] = \sum_i o_i V_g(\delta^i)`.

    Parameters
    ----------
    prior : (n_x,) array-like
        Prior (Fractions: exact mode, returning ``Fraction`` object arrays).
    C : (n_x, n_y) array-like
        Row-stochastic channel, axis 0 = input.
    atol : float, default 1e-12
        Posteriors within this max-norm distance are merged (float mode).

    Returns
    -------
    Hyper
        ``outer`` (k,) and ``inners`` (n_x, k), in the order of the first output of each
        posterior. Merged inners are the outer-weighted average of their members, so
        ``inners @ outer`` equals the prior.

    Examples
    --------
    >>> from leakage.qif import hyper
    >>> h = hyper([0.5, 0.5], [[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]])
    >>> h.outer, h.inners
    (array([1.]), array([[0.5],
           [0.5]]))
    """
    fn = _PREFIX + "hyper"
    atol = check_tolerance(atol, func=fn, name="atol")
    pi, W, _, exact = channel_inputs(prior, C, None, fn)
    J = W * pi[:, None]
    outer, inners = _reduce_exact(J) if exact else _reduce_float(J, atol)
    return Hyper(outer=outer, inners=inners)
