r"""Capacities: the worst-case leakage of a channel over priors (Science of QIF, Ch. 7)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import as_channel, check_base, check_size
from ..errors import InvalidParameterError, SolverError
from ._common import _PREFIX, _to_float, as_gain
from ._results import AdditiveCapacity, MultiplicativeCapacity
from ._vulnerability import leakage

__all__ = ["additive_capacity", "multiplicative_capacity"]

#: Largest number of secrets for the enumeration of :func:`additive_capacity`.
MAX_SECRETS_ADDITIVE = 16
#: Default largest number of secrets (with a positive gain) for the exact multiplicative
#: g-capacity by vertex enumeration (its cost grows exponentially with it).
MAX_SECRETS_VERTICES = 8
_CHUNK = 2**22  # entries of one batch array


def _bayes_capacity_nats(C: np.ndarray) -> float:
    return math.log(C.max(axis=0).sum())


def _polytope_vertices(G: np.ndarray) -> np.ndarray:
    r"""Vertices of :math:`\{\pi \ge 0 : G\pi \le 1\}` (bounded: every column of G has a
    positive entry), by Qhull's halfspace intersection; the origin is dropped."""
    from scipy.spatial import HalfspaceIntersection, QhullError

    m, n = G.shape
    halfspaces = np.vstack(
        [
            np.hstack([-np.eye(n), np.zeros((n, 1))]),  # -pi_x <= 0
            np.hstack([G, -np.ones((m, 1))]),  # G pi - 1 <= 0
        ]
    )
    interior = np.full(n, 0.5 / G.sum(axis=1).max())
    try:
        hs = HalfspaceIntersection(halfspaces, interior)
    except QhullError as exc:  # pragma: no cover - degenerate input Qhull cannot handle
        raise SolverError(
            f"{_PREFIX}multiplicative_capacity: Qhull failed to enumerate the vertices of "
            f"the gain polytope ({exc!s:.200})."
        ) from exc
    V = np.unique(np.round(hs.intersections, 13), axis=0)
    V = np.clip(V, 0.0, None)
    return V[V.sum(axis=1) > 1e-12]


def _batch_ratio(P: np.ndarray, C: np.ndarray, G: np.ndarray) -> np.ndarray:
    """``V_g[p |> C] / V_g(p)`` for each row ``p`` of ``P`` (unnormalized priors)."""
    prior_v = (P @ G.T).max(axis=1)
    post_v = np.empty(P.shape[0])
    b = max(1, _CHUNK // (G.shape[0] * C.shape[1]))
    for s in range(0, P.shape[0], b):  # batches of priors, each fully vectorized
        J = P[s : s + b, :, None] * C[None]
        post_v[s : s + b] = (G @ J).max(axis=1).sum(axis=1)
    return post_v / prior_v


def multiplicative_capacity(
    C: Any,
    gain: Any = None,
    *,
    base: float = 2,
    max_secrets: int = MAX_SECRETS_VERTICES,
) -> MultiplicativeCapacity:
    r"""Multiplicative g-capacity :math:`\mathcal{ML}^\times_g(\mathbb{D}, C) =
    \sup_\pi \mathcal{L}^\times_g(\pi, C)`.

    **Bayes gain** (``gain=None``): the closed form

    .. math:: \mathcal{ML}^\times_1(\mathbb{D}, C) = \log \sum_y \max_x C[x, y],

    attained at the uniform prior (indeed at every full-support prior; Science of QIF,
    Ch. 7), which equals the maximal leakage
    :func:`leakage.maximal_leakage`. It bounds every multiplicative g-leakage with a
    nonnegative gain under every prior (the "miracle" theorem, Science of QIF, Ch. 7;
    Alvim et al., *Measuring information leakage using generalized gain functions*,
    CSF 2012): :math:`\mathcal{L}^\times_g(\pi, C) \le \mathcal{ML}^\times_1(\mathbb{D}, C)`.

    **Given nonnegative gain**: the leakage ratio is invariant under scaling of
    :math:`\pi`, so its supremum is the maximum of the convex, piecewise-linear function
    :math:`\pi \mapsto V_g[\pi \triangleright C]` over the polytope
    :math:`\{\pi \ge 0 : G\pi \le 1\}`, attained at one of its vertices. The vertices are
    enumerated (Qhull) and scored in a batch: the result is exact (to floating point), at a
    cost exponential in the number of secrets, hence ``max_secrets``. Secrets whose gain
    column is zero carry no value and are left out (mass on them changes neither
    vulnerability). Above ``max_secrets`` only the bounds are returned: the Bayes
    capacity above and the leakage of the uniform prior below (``exact=False``,
    ``capacity=None``, ``method="bound only"``).

    Parameters
    ----------
    C : (n_x, n_y) array-like
        Row-stochastic channel, axis 0 = input.
    gain : (n_w, n_x) array-like, optional
        Nonnegative gain matrix ``G[w, x]``; default: identity (Bayes capacity).
    base : float, default 2
        Logarithm base (2: bits).
    max_secrets : int, default 8
        Largest number of secrets (with a positive gain) for the exact vertex enumeration.

    Returns
    -------
    MultiplicativeCapacity
        ``capacity`` (exact value or None), ``upper_bound`` (Bayes capacity),
        ``lower_bound`` (leakage of ``prior``, recomputed), ``prior``, ``exact``, ``tight``,
        ``method``, ``base``.

    Raises
    ------
    InvalidParameterError
        For a negative gain entry, or a gain that is 0 everywhere.

    Examples
    --------
    >>> from leakage.qif import multiplicative_capacity
    >>> r = multiplicative_capacity([[0.75, 0.25], [0.25, 0.75]])
    >>> round(r.capacity, 6), r.exact
    (0.584963, True)
    """
    fn = _PREFIX + "multiplicative_capacity"
    base = check_base(base, func=fn)
    W = as_channel(_to_float(C), func=fn, name="C")
    n = W.shape[0]
    upper = _bayes_capacity_nats(W) / math.log(base)
    if gain is None:
        uniform = np.full(n, 1.0 / n)
        return MultiplicativeCapacity(
            capacity=upper,
            upper_bound=upper,
            lower_bound=upper,
            prior=uniform,
            exact=True,
            tight=True,
            method="closed form",
            base=base,
        )
    G = as_gain(gain, n, func=fn, nonnegative=True)
    max_secrets = check_size(max_secrets, func=fn, name="max_secrets", limit=64)
    live = np.flatnonzero(G.max(axis=0) > 0)
    if live.size == 0:
        raise InvalidParameterError(
            f"{fn}: the 'gain' argument must have a positive entry (else V_g = 0 for every "
            "prior and multiplicative leakage is undefined); got an all-zero gain instead."
        )
    prior = np.zeros(n)
    if live.size == 1:
        prior[live] = 1.0  # one valuable secret: nothing can leak about it
        method, exact = "closed form", True
    elif live.size > max_secrets:
        prior[live] = 1.0 / live.size
        method, exact = "bound only", False
    else:
        Gl, Cl = G[:, live], W[live]
        V = _polytope_vertices(Gl)
        ratio = _batch_ratio(V, Cl, Gl)
        best = V[int(np.argmax(ratio))]
        prior[live] = best / best.sum()
        method, exact = "vertex enumeration", True
    value = leakage(prior, W, G, base=base)
    return MultiplicativeCapacity(
        capacity=value if exact else None,
        upper_bound=upper,
        lower_bound=value,
        prior=prior,
        exact=exact,
        tight=bool(value >= upper - 1e-9),
        method=method,
        base=base,
    )


def additive_capacity(
    C: Any,
    *,
    max_secrets: int = MAX_SECRETS_ADDITIVE,
) -> AdditiveCapacity:
    r"""Additive Bayes capacity :math:`\mathcal{ML}^+_1(\mathbb{D}, C) =
    \max_\pi (V_1[\pi \triangleright C] - V_1(\pi))`, by exact enumeration.

    The maximum is attained at a *sub-uniform* prior, uniform on some nonempty subset
    :math:`S \subseteq \mathcal{X}`, and deciding whether it exceeds a threshold is
    NP-complete (Alvim, Chatzikokolakis, McIver, Morgan, Palamidessi, Smith, *Additive
    and multiplicative notions of leakage, and their capacities*, CSF 2014; Science of
    QIF, Ch. 7). On the prior uniform on :math:`S`,

    .. math::

        \mathcal{L}^+_1(u_S, C) = \frac{1}{|S|}\Big(\sum_y \max_{x \in S} C[x, y] - 1\Big),

    and all :math:`2^{|\mathcal{X}|} - 1` subsets are scored at once (the column maxima
    of every subset built by doubling over the secrets, in column batches), so the cost is
    :math:`O(2^{|\mathcal{X}|} |\mathcal{Y}|)`; hence the limit ``max_secrets`` (at most
    16).

    Parameters
    ----------
    C : (n_x, n_y) array-like
        Row-stochastic channel, axis 0 = input.
    max_secrets : int, default 16
        Refuse channels with more rows than this (at most 16).

    Returns
    -------
    AdditiveCapacity
        ``capacity``, the maximizing ``prior`` (uniform on ``support``), ``support`` and
        ``n_candidates``.

    Raises
    ------
    InvalidParameterError
        If the channel has more than ``max_secrets`` rows.

    Examples
    --------
    >>> from leakage.qif import additive_capacity
    >>> r = additive_capacity([[1.0, 0.0], [0.0, 1.0]])
    >>> r.capacity, r.support.tolist()
    (0.5, [0, 1])
    """
    fn = _PREFIX + "additive_capacity"
    max_secrets = check_size(
        max_secrets, func=fn, name="max_secrets", limit=MAX_SECRETS_ADDITIVE, what="secrets"
    )
    W = as_channel(_to_float(C), func=fn, name="C")
    n, ny = W.shape
    check_size(
        n,
        func=fn,
        name="C",
        limit=max_secrets,
        what="secrets (rows)",
        hint=f"The exact enumeration scores 2**n_x sub-uniform priors; n_x <= "
        f"{MAX_SECRETS_ADDITIVE} is supported (the problem is NP-hard).",
    )
    m = 1 << n
    sums = np.zeros(m)
    b = max(1, _CHUNK // m)
    for s in range(0, ny, b):  # column batches; rows of M are the subsets (bit masks)
        cols = W[:, s : s + b]
        M = np.zeros((m, cols.shape[1]))
        for k in range(n):  # doubling: subsets containing secret k = those without, + k
            h = 1 << k
            np.maximum(M[:h], cols[k], out=M[h : 2 * h])
        sums += M.sum(axis=1)
    sizes = np.zeros(m, dtype=np.int64)
    for k in range(n):
        h = 1 << k
        sizes[h : 2 * h] = sizes[:h] + 1
    values = np.full(m, -np.inf)
    values[1:] = (sums[1:] - 1.0) / sizes[1:]
    best = int(np.argmax(values))
    support = np.flatnonzero((best >> np.arange(n)) & 1)
    prior = np.zeros(n)
    prior[support] = 1.0 / support.size
    # The exact value of the maximizing prior, recomputed from the definition.
    value = float(W[support].max(axis=0).sum() / support.size - 1.0 / support.size)
    return AdditiveCapacity(
        capacity=max(0.0, value),
        prior=prior,
        support=support,
        n_candidates=m - 1,
    )
