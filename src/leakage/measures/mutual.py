r"""Leakage measures of a channel ``W[x, y] = P(y|x)`` driven by an input distribution.

Mutual information, Sibson's :math:`\alpha`-mutual information, maximal leakage and
point-wise (per output letter) leakage. Channels are row-stochastic with **axis 0 =
input**. :func:`mutual_information`, :func:`sibson_mutual_information` and
:func:`maximal_leakage` also accept ``scipy.sparse`` channels, which makes large
deterministic channels (e.g. the :math:`2^{24}`-input example of paper 000, Section I)
cheap to evaluate exactly.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy import sparse
from scipy.special import rel_entr

from .._validation import (
    channel_and_min,
    check_alpha,
    check_base,
    check_choice,
    check_compatible,
    pmf_and_min,
)
from ..units import from_nats

__all__ = [
    "POINTWISE_MEASURES",
    "maximal_leakage",
    "mutual_information",
    "pointwise_leakage",
    "sibson_mutual_information",
]

#: Names accepted by :func:`pointwise_leakage`.
POINTWISE_MEASURES = ("chi2", "l1", "kl", "max_lift")


def _inputs(p_x, channel, fn: str, *, sparse_ok: bool = True):
    """Validated (p, W, p has full support, W has no zero entry) for a channel measure."""
    p, pmin = pmf_and_min(p_x, func=fn, name="p_x")
    W, wmin = channel_and_min(channel, func=fn, name="channel", sparse_ok=sparse_ok)
    check_compatible(p, W, func=fn)
    return p, W, pmin > 0, wmin > 0


def _mi_nats(p: np.ndarray, W, positive: bool = False) -> float:
    """I(X;Y) in nats as the average information density sum_{x,y} P(x,y) log(W(y|x)/q(y)).

    This form has no cancellation between two large entropies, so a small I is
    computed to full relative precision (exactly 0 for an independent output)."""
    # log W - log q, not log(W / q): a subnormal q(y) would make W / q overflow to inf
    # (and 5e-324 * inf = inf), while its log is finite
    if sparse.issparse(W):
        q = W.T @ p
        lq = np.log(np.where(q > 0, q, 1.0))
        row_p = np.repeat(p, np.diff(W.indptr))
        d = W.data
        dens = np.log(np.where(d > 0, d, 1.0)) - lq[W.indices]
        val = float((row_p * d) @ dens)
    else:
        q = p @ W
        lq = np.log(q if positive else np.where(q > 0, q, 1.0))  # q(y) = 0: P(x,y) = 0
        if positive:  # no zero entry (known from validation): no 0 log 0
            dens = np.log(W) - lq
        else:
            dens = np.log(np.where(W > 0, W, 1.0)) - lq  # 0 * log 0 counts as 0
            dens[W == 0] = 0.0
        val = float(np.vdot(p[:, None] * W, dens))
    return max(val, 0.0)


def _joint_entries(p: np.ndarray, W):
    """The entries with P(x, y) > 0: (column index, P(x,y), information density
    log W(y|x)/q(y)) and the output distribution q."""
    if sparse.issparse(W):
        q = W.T @ p
        rows = np.repeat(np.arange(W.shape[0]), np.diff(W.indptr))
        cols, w = W.indices, W.data
    else:
        q = p @ W
        rows, cols = np.nonzero(W)
        w = W[rows, cols]
    joint = p[rows] * w
    keep = joint > 0
    cols, w, joint = cols[keep], w[keep], joint[keep]
    return cols, joint, np.log(w) - np.log(q[cols]), q  # not log(w / q): q may be subnormal


def _sibson_near_one(p: np.ndarray, W, alpha: float) -> float:
    """Sibson MI for |alpha - 1| small, without the 0/0 of the direct formula.

    With s = alpha - 1 and the information density l(x,y) = log W(y|x)/q(y),
    sum_y (sum_x p W^alpha)^(1/alpha) = sum_y q(y) exp(K_y(s)/alpha), where
    K_y(s) = log E[exp(s l) | Y=y]. Evaluating K_y with log1p/expm1 keeps full
    relative precision as s -> 0, where the value tends to I(X;Y)."""
    s = alpha - 1.0
    cols, joint, dens, q = _joint_entries(p, W)
    qs = np.where(q > 0, q, 1.0)
    m = np.bincount(cols, weights=joint * np.expm1(s * dens), minlength=q.shape[0]) / qs
    t = np.log1p(m) / alpha
    return alpha / s * math.log1p(float((q * np.expm1(t)).sum()))


def _active(p: np.ndarray, W, full_support: bool | None = None):
    """Rows of W (and entries of p) with p(x) > 0."""
    if full_support or (full_support is None and np.minimum.reduce(p) > 0):
        return p, W
    mask = p > 0
    return p[mask], W[mask]


def _column_max(W) -> np.ndarray:
    if type(W) is not np.ndarray and sparse.issparse(W):
        # CSR: scatter-max over the stored entries (entries are >= 0)
        out = np.zeros(W.shape[1])
        np.maximum.at(out, W.indices, W.data)
        return out
    return np.maximum.reduce(W, axis=0)


def _maxl_nats(p: np.ndarray, W, full_support: bool | None = None) -> float:
    _, Wa = _active(p, W, full_support)
    return math.log(float(np.add.reduce(_column_max(Wa))))


def _sibson_nats(p: np.ndarray, W, alpha: float) -> float:
    """Sibson MI of finite order alpha != 1, in nats, computed without overflow.

    Each column is scaled by its maximum M_y over active inputs:
    (sum_x p W^a)^(1/a) = M_y (sum_x p (W/M_y)^a)^(1/a), with W/M_y <= 1.
    """
    if abs(alpha - 1.0) < 1e-3:
        return _sibson_near_one(p, W, alpha)
    pa, Wa = _active(p, W)
    M = _column_max(Wa)
    if sparse.issparse(Wa):
        R = Wa.copy()
        R.data = (R.data / M[R.indices]) ** alpha
        s = R.T @ pa
        cols = M > 0
        total = float((M[cols] * s[cols] ** (1.0 / alpha)).sum())
    elif alpha < 0.5:
        # s_y = sum_x p (W/M_y)^a = 1 + sum_x p expm1(a log(W/M_y)): for a small order
        # s_y rounds to 1 and s_y^(1/a) loses every digit; log1p/expm1 keep them
        cols = M > 0
        Mc = M[cols]
        with np.errstate(divide="ignore"):
            lr = np.log(Wa[:, cols] / Mc)  # <= 0, -inf where W = 0
        ls = np.log1p(pa @ np.expm1(alpha * lr))
        total = float((Mc * np.exp(ls / alpha)).sum())
    else:
        cols = M > 0
        Mc = M[cols]
        R = Wa[:, cols] / Mc
        s = pa @ (R**alpha)
        total = float((Mc * s ** (1.0 / alpha)).sum())
    # I_alpha >= 0 for every alpha > 0; rounding can leave a value of order -alpha * eps
    return max(alpha / (alpha - 1.0) * math.log(total), 0.0)


def mutual_information(p_x: ArrayLike, channel, *, base: float = 2) -> float:
    r"""Mutual information :math:`I(X;Y)` of input ``p_x`` through ``channel``.

    .. math::

        I(X;Y) = \sum_{x,y} p(x) W(y|x) \log \frac{W(y|x)}{q(y)}
               = H(Y) - H(Y|X), \qquad q = p W.

    Parameters
    ----------
    p_x : (n_x,) array-like
        Input distribution.
    channel : (n_x, n_y) array-like or scipy.sparse matrix
        Row-stochastic channel, ``channel[x, y] = P(y|x)`` (axis 0 = input).
    base : float, default 2
        Logarithm base (2: bits).

    Returns
    -------
    float
        :math:`I(X;Y) \in [0, \log \min(|X|, |Y|)]` in units of ``log_base``.

    Examples
    --------
    >>> import leakage as lk
    >>> lk.mutual_information([0.5, 0.5], [[1, 0], [0, 1]])
    1.0
    """
    fn = "mutual_information"
    base = check_base(base, func=fn)
    p, W, _, positive = _inputs(p_x, channel, fn)
    return float(from_nats(_mi_nats(p, W, positive), base))


def maximal_leakage(p_x: ArrayLike, channel, *, base: float = 2) -> float:
    r"""Maximal leakage :math:`\mathcal{L}(X \to Y)`.

    .. math:: \mathcal{L}(X \to Y) = \log \sum_y \max_{x:\, p(x) > 0} W(y|x),

    eq. (6) of the successive-refinement paper (Wu, Bai, Zhou; Issa, Wagner, Kamath,
    *An operational approach to information leakage*, Theorem 1). Inputs with
    :math:`p(x) = 0` are ignored, so the value depends on ``p_x`` only through its
    support. Equals :func:`sibson_mutual_information` at :math:`\alpha = \infty`.

    Parameters
    ----------
    p_x : (n_x,) array-like
        Input distribution (only its support matters).
    channel : (n_x, n_y) array-like or scipy.sparse matrix
        Row-stochastic channel, axis 0 = input.
    base : float, default 2
        Logarithm base (2: bits).

    Returns
    -------
    float
        :math:`\mathcal{L}(X\to Y) \in [I(X;Y), \log\min(|\mathrm{supp}\,p|, |Y|)]`
        in units of ``log_base``.

    Examples
    --------
    >>> import leakage as lk
    >>> lk.maximal_leakage([0.9, 0.1], [[0.5, 0.5], [0.0, 1.0]])
    0.5849625007211562
    """
    fn = "maximal_leakage"
    base = check_base(base, func=fn)
    p, W, full, _ = _inputs(p_x, channel, fn)
    return float(from_nats(_maxl_nats(p, W, full), base))


def sibson_mutual_information(p_x: ArrayLike, channel, alpha: float, *, base: float = 2) -> float:
    r"""Sibson's :math:`\alpha`-mutual information, :math:`\alpha \in (0, \infty]`.

    .. math::

        I_\alpha(X;Y) = \frac{\alpha}{\alpha-1}
            \log \sum_y \Big( \sum_x p(x)\, W(y|x)^\alpha \Big)^{1/\alpha},

    (Sibson 1969; Verdú, *α-mutual information*, ITA 2015, eq. (23)), with the limits
    :math:`I_1 = I(X;Y)` and :math:`I_\infty = \mathcal{L}(X\to Y)`
    (:func:`maximal_leakage`). Non-decreasing in :math:`\alpha`. Columns are scaled by
    their maximum before the power, so large :math:`\alpha` does not overflow.

    Parameters
    ----------
    p_x : (n_x,) array-like
        Input distribution.
    channel : (n_x, n_y) array-like or scipy.sparse matrix
        Row-stochastic channel, axis 0 = input.
    alpha : float
        Order in ``(0, inf]``; ``1`` gives :func:`mutual_information`, ``math.inf``
        gives :func:`maximal_leakage`.
    base : float, default 2
        Logarithm base (2: bits).

    Returns
    -------
    float
        :math:`I_\alpha(X;Y)` in units of ``log_base``.
    """
    fn = "sibson_mutual_information"
    base = check_base(base, func=fn)
    alpha = check_alpha(alpha, func=fn)
    p, W, full, positive = _inputs(p_x, channel, fn)
    if alpha == 1.0:
        val = _mi_nats(p, W, positive)
    elif math.isinf(alpha):
        val = _maxl_nats(p, W, full)
    else:
        val = _sibson_nats(p, W, alpha)
    return float(from_nats(val, base))


def pointwise_leakage(
    p_x: ArrayLike, channel: ArrayLike, *, measure: str, base: float = 2
) -> np.ndarray:
    r"""Point-wise leakage of every output letter: how far :math:`P_{X|U=u}` is from :math:`P_X`.

    For each output letter ``u`` with :math:`P_U(u) > 0`, the posterior
    :math:`P_{X|U=u}(x) = p(x) W(u|x) / P_U(u)` is compared with the prior ``p_x``:

    ``"chi2"``
        :math:`\sqrt{\chi^2(P_{X|u} \| P_X)} = \big(\sum_{x: p(x)>0}
        (P_{X|u}(x) - p(x))^2 / p(x)\big)^{1/2}` — the **square root** (the convention
        of paper 001 from its eq. (8) on; see ``ERRATA.md``); unitless.
    ``"l1"``
        :math:`\|P_{X|u} - P_X\|_1` (the ℓ1 norm, not total variation; paper 001,
        eq. (1c)); unitless.
    ``"kl"``
        :math:`D(P_{X|u} \| P_X)`, in units of ``log_base``.
    ``"max_lift"``
        :math:`\log \max_{x: p(x)>0} P_{X|u}(x)/p(x) = \log \max_x W(u|x)/P_U(u)`,
        in units of ``log_base``.

    A letter that is never output (:math:`P_U(u) = 0`) has no posterior: its entry is
    *masked* (not applicable; the result is a ``numpy.ma.MaskedArray``), so ``.max()``
    and other reductions run over the letters that are output. ``.filled(np.nan)``
    gives a plain array with ``nan`` there.

    Parameters
    ----------
    p_x : (n_x,) array-like
        Prior of the private variable.
    channel : (n_x, n_u) array-like
        Row-stochastic mechanism ``P(u|x)``, axis 0 = input.
    measure : {"chi2", "l1", "kl", "max_lift"}
        Which leakage to report.
    base : float, default 2
        Logarithm base, used by ``"kl"`` and ``"max_lift"`` only.

    Returns
    -------
    numpy.ma.MaskedArray, shape (n_u,)
        One leakage value per output letter, masked for letters never output.

    Examples
    --------
    >>> import leakage as lk
    >>> lk.pointwise_leakage([0.5, 0.5], [[0.75, 0.25], [0.25, 0.75]], measure="l1")
    masked_array(data=[0.5, 0.5],
                 mask=[False, False],
           fill_value=1e+20)
    >>> lk.pointwise_leakage([0.5, 0.5], [[1, 0], [1, 0]], measure="l1")
    masked_array(data=[0.0, --],
                 mask=[False,  True],
           fill_value=1e+20)
    """
    fn = "pointwise_leakage"
    measure = check_choice(measure, POINTWISE_MEASURES, func=fn, name="measure")
    base = check_base(base, func=fn)
    p, W, _, _ = _inputs(p_x, channel, fn, sparse_ok=False)
    q = p @ W
    seen = q > 0
    out = np.zeros(W.shape[1])
    result = np.ma.MaskedArray(out, mask=~seen)
    qs = q[seen]
    support = p > 0
    ps = p[support]
    Ws = W[np.ix_(support, seen)]
    if measure == "max_lift":  # log max_x W(u|x) / q(u), in logs: q may be subnormal
        with np.errstate(divide="ignore"):
            out[seen] = from_nats(np.log(Ws.max(axis=0)) - np.log(qs), base)
        return result
    post = ps[:, None] * Ws / qs  # P_{X|U=u}(x), x in supp(p)
    if measure == "chi2":
        # sqrt(sum (d / sqrt p)^2), scaled by its largest term: a subnormal p(x) makes
        # d^2 / p overflow although the root is representable
        t = np.abs(post - ps[:, None]) / np.sqrt(ps)[:, None]
        m = t.max(axis=0)
        ms = np.where(m > 0, m, 1.0)
        out[seen] = m * np.sqrt(((t / ms) ** 2).sum(axis=0))
    elif measure == "l1":
        out[seen] = np.abs(post - ps[:, None]).sum(axis=0)
    else:  # kl
        out[seen] = from_nats(rel_entr(post, ps[:, None]).sum(axis=0), base)
    return result
