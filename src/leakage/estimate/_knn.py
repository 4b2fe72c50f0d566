"""Nearest-neighbour estimators for a discrete secret ``x`` and a numeric observable ``y``.

Two estimators, both built on :class:`scipy.spatial.cKDTree` (no hand-written neighbour
search), both with a bootstrap-percentile interval:

* :func:`knn_mutual_information` -- the k-nearest-neighbour estimator of ``I(X; Y)`` of
  Ross (2014) for a discrete ``X`` and a continuous ``Y``;
* :func:`knn_bayes_risk` -- the nearest-neighbour estimate of the Bayes risk (the error of
  the best guess of ``x`` from ``y``) used by F-BLEAU (Cherubin, Chatzikokolakis and Jaggi,
  2019): the leave-one-out error of the 1-NN rule turned into a lower estimate of the Bayes
  risk by the Cover--Hart inequality.

Conventions shared by both
--------------------------
Distances
    The max-norm (Chebyshev, ``p = inf``) on the rows of ``y``, as in Kraskov et al. (2004)
    and Ross (2014). For a one-dimensional ``y`` it is ``|y_i - y_j|``. Scale the columns of
    a multi-dimensional ``y`` first if they are in different units.
Ties in ``y``
    Both estimators assume a continuous ``y``: exactly repeated values (e.g. timings on a
    clock grid) put neighbours at distance 0 and break them. When ``y`` has repeated rows,
    a tiny jitter is added: ``N(0, 1) * 1e-10 * std(column)`` per column (``1e-10 * max(1,
    |column|)`` for a constant column), drawn from a generator with the fixed seed 0 -- not
    from ``rng`` -- so the point estimate stays deterministic (rows that still coincide
    after rounding get further draws). The jitter only breaks ties,
    at random (so tied neighbours are chosen at random); it does not make a discrete ``y``
    continuous: for heavily discrete observables prefer the plug-in estimators of
    :mod:`leakage.estimate`. ``details["jitter"]`` says whether it was applied. Ties the
    jitter cannot break (values huge relative to their spread) are refused.
Bootstrap
    ``resamples`` times, ``n`` indices are drawn with replacement (from ``rng``) and the
    estimator is recomputed; the interval is the ``(1 - level) / 2`` and ``(1 + level) / 2``
    percentiles of the recomputed values. Copies of one observation drawn several times
    would be each other's nearest neighbours at distance 0 (a 1-NN rule that never errs on
    them, an inflated k-NN information), so a resample is evaluated on its *distinct*
    observations, each weighted by the number of times it was drawn: copies are never
    neighbours of each other. Cost: ``resamples`` times one estimate on about ``0.63 n``
    points, i.e. ``O(resamples * n log n)``; at the default 200 resamples the interval costs
    about 130 point estimates. ``details["standard_error"]`` is the standard deviation of
    the bootstrap values.

References
----------
.. [1] B. C. Ross, "Mutual information between discrete and continuous data sets",
   PLoS ONE 9(2): e87357, 2014.
.. [2] A. Kraskov, H. Stögbauer and P. Grassberger, "Estimating mutual information",
   Phys. Rev. E 69, 066138, 2004.
.. [3] G. Cherubin, K. Chatzikokolakis and M. Jaggi, "F-BLEAU: Fast Black-box Leakage
   Estimation", IEEE S&P 2019.
.. [4] T. Cover and P. Hart, "Nearest neighbor pattern classification", IEEE Trans. Inf.
   Theory 13(1), 1967.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma

from .._validation import as_generator, check_base, check_positive, check_size, clip_interval
from ..errors import InvalidParameterError
from ..results import Estimate

__all__ = ["knn_bayes_risk", "knn_mutual_information"]

#: Upper limit on ``resamples``.
MAX_RESAMPLES = 100_000

#: Relative size of the tie-breaking jitter.
JITTER = 1e-10

_P = np.inf  # max-norm


def _raise(func: str, name: str, requirement: str, got: str, hint: str = "") -> None:
    msg = f"{func}: the '{name}' argument must {requirement}; got {got} instead."
    if hint:
        msg += " " + hint
    raise InvalidParameterError(msg)


def _check_level(level: Any, *, func: str) -> float:
    ok = isinstance(level, numbers.Real) and not isinstance(level, bool)
    if not ok or not 0 < level < 1:
        _raise(func, "level", "be a real number in (0, 1) (e.g. 0.95)", repr(level))
    return float(level)


def _codes(x: Any, *, func: str) -> np.ndarray:
    """Integer codes ``0..L-1`` of the labels of a 1-D array-like."""
    try:
        a = np.asarray(x)
    except (TypeError, ValueError):  # e.g. a list mixing tuples and strings
        try:
            a = np.fromiter(x, dtype=object)
        except (TypeError, ValueError) as exc:
            msg = (
                f"{func}: the 'x' argument must be a 1-D array of secret labels; got {x!r} instead."
            )
            raise InvalidParameterError(msg) from exc
    if a.ndim != 1:
        _raise(func, "x", "be a 1-D array of secret labels", f"an array of shape {a.shape}")
    if a.dtype.kind == "f" and np.isnan(a).any():
        _raise(
            func, "x", "have no NaN labels", f"NaN at index {int(np.flatnonzero(np.isnan(a))[0])}"
        )
    try:
        return np.unique(a, return_inverse=True)[1].reshape(-1).astype(np.intp)
    except TypeError:  # mixed, unorderable labels: code them in order of appearance
        table: dict = {}
        try:
            return np.fromiter((table.setdefault(v, len(table)) for v in a.tolist()), np.intp)
        except TypeError as exc:
            msg = f"{func}: the 'x' argument must hold hashable labels; got {x!r} instead."
            raise InvalidParameterError(msg) from exc


def _prepare(x: Any, y: Any, *, func: str) -> tuple[np.ndarray, np.ndarray, bool]:
    """Validate ``(x, y)``: codes of ``x``, ``y`` as a float ``(n, d)`` array (tie-broken),
    and whether a jitter was added."""
    codes = _codes(x, func=func)
    try:
        raw = np.asarray(y)
        if raw.dtype.kind not in "biuf":
            raise TypeError(f"dtype {raw.dtype}")
        Y = raw.astype(np.float64)
    except (TypeError, ValueError) as exc:
        msg = (
            f"{func}: the 'y' argument must be a numeric array of shape (n,) or (n, d); "
            f"got {y!r} instead."
        )
        raise InvalidParameterError(msg) from exc
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.ndim != 2 or Y.shape[1] == 0:
        _raise(func, "y", "be a numeric array of shape (n,) or (n, d)", f"shape {raw.shape}")
    n = codes.shape[0]
    if Y.shape[0] != n:
        _raise(
            func,
            "y",
            f"have one row per secret in 'x' ({n} rows)",
            f"{Y.shape[0]} rows",
        )
    if n < 2:
        _raise(func, "x", "hold at least 2 samples", f"{n}")
    if not np.isfinite(Y).all():
        bad = int(np.flatnonzero(~np.isfinite(Y).all(axis=1))[0])
        _raise(func, "y", "hold finite numbers only", f"{Y[bad].tolist()} at row {bad}")
    if np.bincount(codes).size < 2:
        _raise(func, "x", "hold at least 2 distinct secrets", "a single secret value")
    jitter = _ties(Y).size > 0
    if jitter:
        scale = Y.std(axis=0)
        const = scale == 0
        scale[const] = np.maximum(1.0, np.abs(Y[0, const]))
        scale *= JITTER
        noise = np.random.default_rng(0)
        Y = Y + noise.standard_normal(Y.shape) * scale
        # A draw rounded onto the float grid can still collide: redraw those rows.
        for _ in range(20):
            tied = _ties(Y)
            if tied.size == 0:
                break
            Y[tied] += noise.standard_normal((tied.size, Y.shape[1])) * scale
        else:
            _raise(
                func,
                "y",
                "have ties that a relative jitter of 1e-10 can break",
                "values too large for their spread",
                "Subtract the mean of y first.",
            )
    return codes, Y, jitter


def _ties(Y: np.ndarray) -> np.ndarray:
    """Indices of the rows of ``Y`` equal to another row (all copies but one)."""
    if Y.shape[1] == 1:
        order = np.argsort(Y[:, 0], kind="stable")
        s = Y[order, 0]
        return order[1:][s[1:] == s[:-1]]
    _, first, inverse = np.unique(Y, axis=0, return_index=True, return_inverse=True)
    rows = np.arange(Y.shape[0])
    return rows[first[inverse.reshape(-1)] != rows]


def _bootstrap(stat, n: int, resamples: int, gen: np.random.Generator) -> np.ndarray:
    """``stat(idx, weights)`` on ``resamples`` bootstrap draws: ``idx`` the distinct drawn
    indices, ``weights`` how often each was drawn."""
    out = np.empty(resamples)
    for b in range(resamples):
        counts = np.bincount(gen.integers(0, n, size=n), minlength=n)
        idx = np.flatnonzero(counts)
        out[b] = stat(idx, counts[idx].astype(np.float64))
    return out


def _interval(boot: np.ndarray, level: float) -> tuple[float, float, float]:
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    se = float(boot.std(ddof=1)) if boot.size > 1 else float("nan")
    return float(lo), float(hi), se


# --------------------------------------------------------------------------- mutual information


def _ross(codes: np.ndarray, Y: np.ndarray, k: int, w: np.ndarray | None = None) -> float:
    """Ross's estimate (nats) on distinct points ``Y`` with secrets ``codes``; the per-point
    terms are averaged with weights ``w`` (bootstrap multiplicities), uniform if ``None``.
    Points whose secret occurs once have no same-secret neighbour and are left out."""
    sizes = np.bincount(codes)
    keep = sizes[codes] > 1
    if not keep.all():
        codes, Y = codes[keep], Y[keep]
        w = None if w is None else w[keep]
        sizes = np.bincount(codes)
    n = codes.shape[0]
    if n == 0:
        return float("nan")
    radius = np.empty(n)
    k_i = np.empty(n)
    for c in np.flatnonzero(sizes):  # one tree per secret value
        members = np.flatnonzero(codes == c)
        kc = min(k, members.size - 1)
        Yc = Y[members]
        dist, _ = cKDTree(Yc).query(Yc, k=[kc + 1], p=_P)  # self is the 0-th neighbour
        radius[members] = dist[:, 0]
        k_i[members] = kc
    # m_i: the other points within distance <= d_i (the k-th neighbour included, as in
    # Ross); the radius is widened by 1e-12 relative so that rounding cannot drop the
    # boundary point (ties are broken beforehand, at a relative 1e-10).
    m = cKDTree(Y).query_ball_point(Y, radius * (1 + 1e-12), p=_P, return_length=True) - 1
    terms = digamma(k_i) - digamma(m) - digamma(sizes[codes])
    if w is None:
        return float(digamma(n) + terms.mean())
    return float(digamma(n) + np.average(terms, weights=w))


def knn_mutual_information(
    x: Any,
    y: Any,
    *,
    k: int = 3,
    level: float = 0.95,
    resamples: int = 200,
    base: float = 2,
    rng: Any = None,
) -> Estimate:
    r"""Mutual information ``I(X; Y)`` of a discrete secret and a numeric observable, by
    the k-nearest-neighbour estimator of Ross (2014), with a bootstrap interval.

    For every sample ``i``, let ``d_i`` be the (max-norm) distance from ``y_i`` to its
    ``k``-th nearest neighbour among the ``N_{x_i}`` samples with the same secret ``x_i``
    (``k`` capped at ``N_{x_i} - 1``), and ``m_i`` the number of samples of the whole set,
    other than ``i``, within distance ``<= d_i`` (the ``k``-th neighbour included). Then

    .. math::

        \hat I = \psi(n) - \langle \psi(N_{x_i}) \rangle + \langle \psi(k_i) \rangle
                 - \langle \psi(m_i) \rangle \quad \text{nats},

    with ``psi`` the digamma function and ``<.>`` the average over the samples; it is
    divided by ``ln(base)``. Samples whose secret occurs only once have no same-secret
    neighbour and are left out (``details["n_used"]``).

    The estimator is nearly unbiased but can come out slightly negative when ``X`` and
    ``Y`` are (nearly) independent. ``value``, ``lower`` and ``upper`` are clipped at 0
    (mutual information is nonnegative; an interval entirely below 0 is reported as
    ``[0, half its width]``, not as the point ``[0, 0]``); the unclipped numbers are in
    ``details["raw_value"]`` and ``details["raw_interval"]``.

    Parameters
    ----------
    x : array-like, shape (n,)
        The secrets: hashable labels (numbers, strings, ...).
    y : array-like of float, shape (n,) or (n, d)
        The observables, finite numbers. Repeated values are tie-broken by a tiny
        deterministic jitter (see the module notes).
    k : int, default 3
        The neighbour order; small ``k`` has low bias and high variance (Ross recommends
        ``k = 3``).
    level : float in (0, 1), default 0.95
        Nominal coverage of the interval.
    resamples : int, default 200
        Bootstrap resamples (at most 100,000); each costs one estimate on about
        ``0.63 n`` points.
    base : float > 1, default 2
        Logarithm base (2: bits).
    rng : None, int, Generator
        Source of the bootstrap draws.

    Returns
    -------
    Estimate
        ``measure="mutual_information"``, ``method="knn"``,
        ``interval="bootstrap-percentile"``; ``details``: ``k``, ``n``, ``n_used``,
        ``raw_value``, ``raw_interval``, ``standard_error`` (of the bootstrap values, units
        of ``base``), ``resamples``, ``metric`` (``"chebyshev"``), ``jitter``.

    References
    ----------
    B. C. Ross, "Mutual information between discrete and continuous data sets",
    PLoS ONE 9(2): e87357, 2014.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> x = rng.integers(0, 2, 2000)
    >>> est = knn_mutual_information(x, 3.0 * x + rng.standard_normal(2000), rng=2)
    >>> 0.7 < est.value < 0.9  # true value 0.80 bits
    True
    """
    func = "knn_mutual_information"
    codes, Y, jitter = _prepare(x, y, func=func)
    k = check_positive(k, func=func, name="k", integer=True)
    level = _check_level(level, func=func)
    resamples = check_size(resamples, func=func, name="resamples", limit=MAX_RESAMPLES)
    base = check_base(base, func=func)
    gen = as_generator(rng, func=func)

    n = codes.shape[0]
    n_used = int((np.bincount(codes)[codes] > 1).sum())
    if n_used == 0:
        _raise(func, "x", "hold some secret value at least twice", "all-distinct secrets")
    to_base = 1.0 / math.log(base)
    raw = _ross(codes, Y, k) * to_base
    boot = _bootstrap(lambda i, w: _ross(codes[i], Y[i], k, w), n, resamples, gen) * to_base
    boot = boot[np.isfinite(boot)]
    lo, hi, se = _interval(boot, level)
    shown = clip_interval(lo, hi)
    return Estimate(
        measure="mutual_information",
        value=max(raw, 0.0),
        lower=shown[0],
        upper=shown[1],
        level=level,
        method="knn",
        interval="bootstrap-percentile",
        n=n,
        base=base,
        details={
            "k": k,
            "n": n,
            "n_used": n_used,
            "raw_value": raw,
            "raw_interval": (lo, hi),
            "standard_error": se,
            "resamples": resamples,
            "metric": "chebyshev",
            "jitter": jitter,
        },
    )


# --------------------------------------------------------------------------- Bayes risk


#: Neighbours kept per point for the bootstrap of the 1-NN rule (see :func:`_NNTable`).
_NN_LIST = 20


class _NNTable:
    """The ``K`` nearest other points of every sample, from one query on the full set.

    A bootstrap resample keeps about 63% of the distinct samples; the nearest *drawn*
    neighbour of a drawn sample is the first drawn entry of its list unless all ``K`` are
    missing (probability ``0.368**K``, about ``2e-9`` for ``K = 20``), when a tree on the
    drawn samples is queried for those few. The result equals a fresh 1-NN search on the
    distinct drawn samples, at a fraction of the cost.
    """

    def __init__(self, Y: np.ndarray, K: int = _NN_LIST):
        self.Y = Y
        self.K = min(K, Y.shape[0] - 1)
        # Rows of Y are distinct (ties broken in _prepare): self is the 0-th neighbour.
        _, nb = cKDTree(Y).query(Y, k=self.K + 1, p=_P)
        itype = np.int32 if Y.shape[0] < 2**31 else np.intp  # half the memory traffic
        self.nb = np.ascontiguousarray(nb[:, 1:], dtype=itype)

    def nearest(self, idx: np.ndarray | None = None) -> np.ndarray:
        """Nearest other drawn sample of every drawn sample ``idx`` (all if ``None``)."""
        if idx is None:
            return self.nb[:, 0]
        drawn = np.zeros(self.Y.shape[0], dtype=bool)
        drawn[idx] = True
        out = self.nb[idx, 0]
        rows = np.flatnonzero(~drawn[out])  # nearest not drawn: walk down the list
        for j in range(1, self.K):
            if rows.size == 0:
                break
            cand = self.nb[idx[rows], j]
            good = drawn[cand]
            out[rows[good]] = cand[good]
            rows = rows[~good]
        if rows.size:  # all K candidates missing: a fresh query on the drawn samples
            _, j = cKDTree(self.Y[idx]).query(self.Y[idx[rows]], k=2, p=_P)
            out[rows] = idx[j[:, 1]]
        return out

    def nearest_k(self, k: int, idx: np.ndarray | None = None) -> np.ndarray:
        """The ``k`` nearest other drawn samples of every drawn sample, nearest first,
        shape ``(len(idx), k)`` (a fresh query for rows with fewer than ``k`` drawn
        candidates in their list)."""
        if idx is None:
            return self.nb[:, :k]
        drawn = np.zeros(self.Y.shape[0], dtype=bool)
        drawn[idx] = True
        cand = self.nb[idx]
        ok = drawn[cand]
        seen = ok.cumsum(axis=1, dtype=np.int16 if self.K < 2**15 else np.intp)
        ok &= seen <= k  # the first k drawn of each row
        short = np.flatnonzero(seen[:, -1] < k)
        if short.size:  # too few drawn candidates: a fresh query on the drawn samples
            _, j = cKDTree(self.Y[idx]).query(self.Y[idx[short]], k=k + 1, p=_P)
            cand[short, :k] = idx[j[:, 1:]]
            ok[short] = False
            ok[short, :k] = True
        # every row now holds exactly k selected entries, in row-major (nearest-first) order
        return cand.ravel()[np.flatnonzero(ok)].reshape(-1, k)


def _nn_error(
    codes: np.ndarray, table: _NNTable, idx: np.ndarray | None = None, w: np.ndarray | None = None
) -> float:
    """Leave-one-out error of the 1-NN rule on the distinct samples ``idx`` (all if
    ``None``), each weighted by ``w`` (bootstrap multiplicities)."""
    nb = table.nearest(idx)
    own = codes if idx is None else codes[idx]
    wrong = codes[nb] != own
    if w is None:
        return float(wrong.mean())
    return float(np.dot(w, wrong) / w.sum())


def _vote(labels: np.ndarray, L: int) -> np.ndarray:
    """Majority label (``0..L-1``) of each row of neighbour labels (nearest first); a tie
    goes to the tied label held by the nearest neighbour among the tied ones."""
    m, k = labels.shape
    if L <= k:  # votes per label: one bincount, then the first position of each label
        votes = np.bincount((np.arange(m)[:, None] * L + labels).ravel(), minlength=m * L)
        votes = votes.reshape(m, L) * (k + 1)
        first = np.full((m, L), k, dtype=np.intp)
        rows = np.arange(m)
        for j in range(k - 1, -1, -1):  # k vectorized passes; the smallest j stays
            first[rows, labels[:, j]] = j
        return (votes - first).argmax(axis=1)
    votes = (labels[:, :, None] == labels[:, None, :]).sum(axis=2)  # (m, k): votes of each
    score = votes * (k + 1) - np.arange(k)
    return np.take_along_axis(labels, score.argmax(axis=1)[:, None], axis=1)[:, 0]


def _knn_error(
    codes: np.ndarray,
    table: _NNTable,
    k: int,
    idx: np.ndarray | None = None,
    w: np.ndarray | None = None,
) -> float:
    """Leave-one-out error of the k-NN majority rule on the distinct samples ``idx``."""
    nb = table.nearest_k(k, idx)
    own = codes if idx is None else codes[idx]
    wrong = _vote(codes[nb], int(codes.max()) + 1) != own
    if w is None:
        return float(wrong.mean())
    return float(np.dot(w, wrong) / w.sum())


def _k_of_rule(rule: str, n: int) -> int:
    """F-BLEAU's neighbour counts: ``k = ln n`` ("log") or ``log10 n`` ("log10"), rounded
    up to an odd number (no two-way ties), at least 1 and at most ``n - 1``."""
    k = math.log(n) if rule == "log" else math.log10(n)
    k = max(1, math.ceil(k))
    k += 1 - k % 2
    return int(min(k, n - 1))


def _cover_hart(r_nn: np.ndarray | float, L: int) -> np.ndarray | float:
    """Smallest Bayes risk compatible with an asymptotic 1-NN risk ``r_nn`` (Cover-Hart)."""
    c = (L - 1) / L
    return c * (1.0 - np.sqrt(np.clip(1.0 - np.asarray(r_nn) / c, 0.0, 1.0)))


def knn_bayes_risk(
    x: Any,
    y: Any,
    *,
    rule: str = "nn-bound",
    level: float = 0.95,
    resamples: int = 200,
    rng: Any = None,
) -> Estimate:
    r"""Bayes risk of guessing the secret from the observable, by the nearest-neighbour
    rule, as in F-BLEAU (Cherubin, Chatzikokolakis and Jaggi, 2019).

    Two numbers are computed:

    * ``R_NN`` (``details["nn_error"]``): the leave-one-out error of the 1-NN rule on the
      samples -- each ``y_i`` is classified by the secret of its nearest other sample
      (max-norm). It estimates the asymptotic 1-NN risk, which is *at least* the Bayes
      risk ``R*``.
    * ``value``: the Cover--Hart (1967) inequality
      :math:`R_{NN} \le R^*\,(2 - \tfrac{L}{L-1} R^*)` for ``L`` secrets, solved for ``R*``:

      .. math::

          R^* \ge \frac{L-1}{L}\left(1 - \sqrt{1 - \frac{L}{L-1} R_{NN}}\right),

      (the square root taken as 0 when ``R_NN > (L-1)/L``). This *lower* estimate of the
      Bayes risk is what F-BLEAU reports: the adversary may do better than the 1-NN
      rule, but not -- asymptotically -- better than this. It is a bound, not a
      consistent estimate of ``R*``: for overlapping classes it can sit well below ``R*``
      (for four Gaussians ``2x + N(0, 1)``: ``R* = 0.238``, ``R_NN -> 0.331``, the bound
      ``-> 0.189``).

    ``L`` is the number of distinct secrets in ``x``; ``lower`` and ``upper`` are the
    bootstrap percentiles of the bound (those of ``R_NN`` are in
    ``details["nn_error_interval"]``).

    ``rule="log"`` or ``"log10"``: instead of the bound, F-BLEAU's *estimate* of ``R*``:
    the leave-one-out error of the ``k_n``-NN majority rule with ``k_n = ln n`` (or
    ``log10 n``) rounded up to an odd number. As ``k_n -> inf`` and ``k_n / n -> 0`` its
    risk tends to ``R*`` for every distribution (Stone 1977), so it is consistent; at finite
    ``n`` it is the error of one classifier and sits *above* ``R*`` on average. The pair
    (``"nn-bound"``, ``"log"``) therefore brackets ``R*`` asymptotically from below and
    above. Ties among the ``k`` votes go to the label of the nearest tied neighbour.

    Parameters
    ----------
    x : array-like, shape (n,)
        The secrets: hashable labels.
    y : array-like of float, shape (n,) or (n, d)
        The observables, finite numbers (ties broken as in the module notes).
    rule : {"nn-bound", "log", "log10"}, default "nn-bound"
        The Cover--Hart lower bound from the 1-NN error, or the ``k_n``-NN estimate.
    level : float in (0, 1), default 0.95
        Nominal coverage of the interval.
    resamples : int, default 200
        Bootstrap resamples (at most 100,000). The 20 nearest neighbours of every sample
        are found once; a resample then costs ``O(20 n)`` array operations (a fresh tree
        only in the rare case that all 20 are missing from it).
    rng : None, int, Generator
        Source of the bootstrap draws.

    Returns
    -------
    Estimate
        ``measure="bayes_risk"``, ``method="knn"``, ``interval="bootstrap-percentile"``,
        ``value`` a probability; ``details``: ``nn_error``, ``nn_error_interval``,
        ``n_secrets``, ``n``, ``standard_error`` (of the bound), ``resamples``,
        ``metric``, ``jitter``, ``bound`` (``"cover-hart-lower"``).

    References
    ----------
    G. Cherubin, K. Chatzikokolakis and M. Jaggi, "F-BLEAU: Fast Black-box Leakage
    Estimation", IEEE S&P 2019; T. Cover and P. Hart, "Nearest neighbor pattern
    classification", IEEE Trans. Inf. Theory 13(1), 1967.
    """
    func = "knn_bayes_risk"
    if rule not in ("nn-bound", "log", "log10"):
        _raise(func, "rule", "be one of 'nn-bound', 'log', 'log10'", repr(rule))
    codes, Y, jitter = _prepare(x, y, func=func)
    level = _check_level(level, func=func)
    resamples = check_size(resamples, func=func, name="resamples", limit=MAX_RESAMPLES)
    gen = as_generator(rng, func=func)

    n = codes.shape[0]
    L = int(np.bincount(codes).size)
    if rule != "nn-bound":
        return _knn_rule_estimate(codes, Y, rule, L, level, resamples, gen, jitter)
    table = _NNTable(Y)
    r_nn = _nn_error(codes, table)
    boot_nn = _bootstrap(lambda i, w: _nn_error(codes, table, i, w), n, resamples, gen)
    boot = _cover_hart(boot_nn, L)
    lo, hi, se = _interval(boot, level)
    nn_lo, nn_hi, nn_se = _interval(boot_nn, level)
    return Estimate(
        measure="bayes_risk",
        value=float(_cover_hart(r_nn, L)),
        lower=lo,
        upper=hi,
        level=level,
        method="knn",
        interval="bootstrap-percentile",
        n=n,
        base=2.0,
        details={
            "nn_error": r_nn,
            "nn_error_interval": (nn_lo, nn_hi),
            "nn_error_standard_error": nn_se,
            "n_secrets": L,
            "n": n,
            "standard_error": se,
            "resamples": resamples,
            "metric": "chebyshev",
            "jitter": jitter,
            "bound": "cover-hart-lower",
        },
    )


def _knn_rule_estimate(codes, Y, rule, L, level, resamples, gen, jitter) -> Estimate:
    """The ``k_n``-NN estimate of the Bayes risk (``rule="log"`` / ``"log10"``)."""
    n = codes.shape[0]
    k = _k_of_rule(rule, n)
    # enough candidates that a resample (63% of the points) rarely runs short of k
    table = _NNTable(Y, K=max(_NN_LIST, 3 * k + 10))
    value = _knn_error(codes, table, k)
    boot = _bootstrap(lambda i, w: _knn_error(codes, table, k, i, w), n, resamples, gen)
    lo, hi, se = _interval(boot, level)
    return Estimate(
        measure="bayes_risk",
        value=value,
        lower=lo,
        upper=hi,
        level=level,
        method=f"knn-{rule}",
        interval="bootstrap-percentile",
        n=n,
        base=2.0,
        details={
            "k": k,
            "rule": rule,
            "n_secrets": L,
            "n": n,
            "standard_error": se,
            "resamples": resamples,
            "metric": "chebyshev",
            "jitter": jitter,
            "bound": "none (consistent estimate; above R* on average at finite n)",
        },
    )
