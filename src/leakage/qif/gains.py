r"""Standard gain and loss functions, as matrices ``G[w, x]`` (rows: guesses, columns: secrets).

A gain function :math:`g : \mathcal{W} \times \mathcal{X} \to \mathbb{R}` says how much an
adversary gains by acting ``w`` when the secret is ``x`` (Alvim et al., *The Science of
Quantitative Information Flow*, Springer 2020, Ch. 3); a loss function ``ℓ[w, x]`` how much
she loses (Ch. 3). Every function here returns a ``float64`` matrix with one column per
secret, to pass as ``gain=`` (or ``loss=``) to the functions of :mod:`leakage.qif`.
"""

from __future__ import annotations

import math
from itertools import combinations
from typing import Any

import numpy as np

from .._validation import check_choice, check_nonnegative, check_positive, check_size
from ._common import _PREFIX, _raise

__all__ = [
    "MAX_GUESSES",
    "bayes_loss",
    "distance_matrix",
    "identity",
    "k_tries",
    "metric",
]

#: Largest number of rows (guesses) a gain constructor builds.
MAX_GUESSES = 1_000_000


def identity(n: int) -> np.ndarray:
    r"""The identity gain :math:`g_{id}(w, x) = [w = x]`: Bayes vulnerability.

    :math:`V_{g_{id}}(\pi) = \max_x \pi_x` (Science of QIF, Chs. 2-3).

    Parameters
    ----------
    n : int
        Number of secrets.

    Returns
    -------
    (n, n) ndarray
        ``numpy.eye(n)``.

    Examples
    --------
    >>> from leakage.qif import gains
    >>> gains.identity(2)
    array([[1., 0.],
           [0., 1.]])
    """
    n = check_size(n, func=_PREFIX + "gains.identity", name="n", limit=2**13, what="secrets")
    return np.eye(n)


def bayes_loss(n: int) -> np.ndarray:
    r"""The 0-1 loss :math:`\ell(w, x) = [w \ne x]`, whose uncertainty is the Bayes risk.

    :math:`U_\ell(\pi) = \min_w \sum_x \pi_x \ell(w, x) = 1 - \max_x \pi_x`.

    Parameters
    ----------
    n : int
        Number of secrets.

    Returns
    -------
    (n, n) ndarray
        ``1 - numpy.eye(n)``.
    """
    n = check_size(n, func=_PREFIX + "gains.bayes_loss", name="n", limit=2**13, what="secrets")
    return 1.0 - np.eye(n)


def k_tries(n: int, k: int) -> np.ndarray:
    r"""The k-tries gain: one guess is a set of ``k`` secrets, won if it contains ``x``.

    .. math:: g_k(w, x) = [x \in w], \qquad w \subseteq \mathcal{X},\ |w| = k,

    so :math:`V_{g_k}(\pi)` is the sum of the ``k`` largest prior probabilities
    (Science of QIF, Ch. 3). Rows are the k-subsets in lexicographic order.

    Parameters
    ----------
    n : int
        Number of secrets.
    k : int
        Number of tries, ``1 <= k <= n``.

    Returns
    -------
    (C(n, k), n) ndarray
        0/1 gain matrix.

    Raises
    ------
    InvalidParameterError
        If ``k`` is not in ``[1, n]`` or ``C(n, k)`` exceeds :data:`MAX_GUESSES`.

    Examples
    --------
    >>> from leakage.qif import gains
    >>> gains.k_tries(3, 2)
    array([[1., 1., 0.],
           [1., 0., 1.],
           [0., 1., 1.]])
    """
    fn = _PREFIX + "gains.k_tries"
    n = check_size(n, func=fn, name="n", limit=2**13, what="secrets")
    k = check_size(k, func=fn, name="k", limit=n, what="tries (k <= n)")
    m = check_size(
        math.comb(n, k),
        func=fn,
        name="k",
        limit=MAX_GUESSES,
        what="guesses (k-subsets of the secrets)",
        hint="Use fewer secrets or tries.",
    )
    idx = np.fromiter(
        (i for c in combinations(range(n), k) for i in c), dtype=np.intp, count=m * k
    ).reshape(m, k)
    G = np.zeros((m, n))
    G[np.arange(m)[:, None], idx] = 1.0
    return G


def distance_matrix(secrets: Any, guesses: Any = None, *, p: float = 2.0) -> np.ndarray:
    r"""Minkowski distances ``d[w, x] = ||guesses[w] - secrets[x]||_p`` for :func:`metric`.

    Parameters
    ----------
    secrets : (n_x,) or (n_x, d) array-like
        Points of the secrets (1-D: points on the real line).
    guesses : (n_w,) or (n_w, d) array-like, optional
        Points of the guesses; default: the secrets themselves.
    p : float, default 2
        Order of the norm (``>= 1``; ``math.inf`` for the maximum norm).

    Returns
    -------
    (n_w, n_x) ndarray
    """
    from scipy.spatial.distance import cdist

    fn = _PREFIX + "gains.distance_matrix"

    def _pts(v: Any, name: str) -> np.ndarray:
        try:
            a = np.asarray(v, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            _raise(fn, name, "be a 1-D or 2-D array of finite coordinates", f"({exc})")
        if a.ndim == 1:
            a = a[:, None]
        if a.ndim != 2 or a.shape[0] == 0 or not np.isfinite(a).all():
            _raise(fn, name, "be a non-empty 1-D or 2-D array of finite coordinates", repr(v))
        return a

    X = _pts(secrets, "secrets")
    W = X if guesses is None else _pts(guesses, "guesses")
    if W.shape[1] != X.shape[1]:
        _raise(fn, "guesses", f"have points of dimension {X.shape[1]}", f"dimension {W.shape[1]}")
    if not (isinstance(p, (int, float)) and p >= 1):
        _raise(fn, "p", "be a real number >= 1 (or math.inf)", repr(p))
    check_size(W.shape[0] * X.shape[0], func=fn, name="guesses", what="distances")
    if math.isinf(p):
        return cdist(W, X, metric="chebyshev")
    return cdist(W, X, metric="minkowski", p=float(p))


def metric(distances: Any, radius: float, *, kind: str = "threshold") -> np.ndarray:
    r"""A distance-based gain from a distance matrix ``d[w, x]``.

    .. math::

        g_{\mathrm{threshold}}(w, x) = [d(w, x) \le r], \qquad
        g_{\mathrm{linear}}(w, x) = \max\Big(0,\ 1 - \frac{d(w, x)}{r}\Big).

    The threshold gain (the adversary wins when she guesses within distance ``r``) is the
    standard one for location privacy (Science of QIF, Ch. 3).

    Parameters
    ----------
    distances : (n_w, n_x) array-like
        Finite nonnegative distances ``d[w, x]`` (e.g. from :func:`distance_matrix`).
    radius : float
        ``r >= 0`` for ``"threshold"``, ``r > 0`` for ``"linear"``.
    kind : {"threshold", "linear"}, default "threshold"

    Returns
    -------
    (n_w, n_x) ndarray
        Gains in [0, 1].

    Examples
    --------
    >>> from leakage.qif import gains
    >>> gains.metric(gains.distance_matrix([0.0, 1.0, 2.0]), 1.0)
    array([[1., 1., 0.],
           [1., 1., 1.],
           [0., 1., 1.]])
    """
    fn = _PREFIX + "gains.metric"
    kind = check_choice(kind, ("threshold", "linear"), func=fn, name="kind")
    try:
        d = np.asarray(distances, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        _raise(fn, "distances", "be a 2-D array of finite nonnegative distances", f"({exc})")
    if d.ndim != 2 or d.size == 0 or not np.isfinite(d).all() or (d < 0).any():
        _raise(
            fn,
            "distances",
            "be a non-empty 2-D array of finite nonnegative distances d[w, x]",
            f"an array of shape {d.shape}"
            if d.ndim != 2 or d.size == 0
            else "a negative or non-finite entry",
        )
    if kind == "threshold":
        r = check_nonnegative(radius, func=fn, name="radius")
        return (d <= r).astype(np.float64)
    r = check_positive(radius, func=fn, name="radius")
    return np.maximum(0.0, 1.0 - d / r)
