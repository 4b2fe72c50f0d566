r"""The LDP budget of a channel, and consistent frequency estimates (projection, IBU)."""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_pmf, check_size, check_tolerance
from ..errors import ConvergenceWarning, InvalidDistributionError, InvalidParameterError
from ._common import as_matrix, raise_param

__all__ = ["IBUResult", "epsilon", "ibu", "project_simplex"]


def epsilon(mechanism: Any) -> float:
    r"""The local-DP budget :math:`\varepsilon` of a channel, in **nats**.

    .. math::

        \varepsilon(W) = \max_{y}\ \max_{x, x'} \log \frac{W[x, y]}{W[x', y]}
                       = \max_y \log \frac{\max_x W[x, y]}{\min_x W[x, y]}.

    Conventions: a column with a zero next to a nonzero entry gives :math:`+\infty` (that
    output rules an input out); an all-zero column (an output never produced) constrains
    nothing and is skipped; a channel whose columns are all constant gives 0. ε is in
    nats by the convention of the DP literature (:math:`e^\varepsilon` is the likelihood
    ratio); divide by :math:`\ln 2` for bits.

    Parameters
    ----------
    mechanism : (k, m) array-like, Mechanism, design result or LDP protocol
        The channel ``W[x, y] = P(y | x)`` (axis 0 = input), validated (row-stochastic).

    Returns
    -------
    float
        :math:`\varepsilon \in [0, \infty]`, in nats.

    Examples
    --------
    >>> from leakage.ldp import epsilon
    >>> round(epsilon([[0.75, 0.25], [0.25, 0.75]]), 12)  # log 3
    1.098612288668
    """
    W, _ = as_matrix(mechanism, func="epsilon")
    hi = W.max(axis=0)
    lo = W.min(axis=0)
    used = hi > 0
    if not used.any():  # pragma: no cover - impossible for a row-stochastic matrix
        return 0.0
    if (lo[used] == 0).any():
        return math.inf
    return float(max(np.max(np.log(hi[used]) - np.log(lo[used])), 0.0))


def project_simplex(v: ArrayLike) -> np.ndarray:
    r"""Euclidean projection of a vector onto the probability simplex.

    .. math:: \Pi(v) = \arg\min_{p \ge 0,\ \sum p = 1} \|p - v\|_2, \qquad
              \Pi(v)_i = \max(v_i - \tau, 0),

    with :math:`\tau = (\sum_{i \le \rho} u_i - 1)/\rho`, :math:`u` = :math:`v` sorted in
    decreasing order and :math:`\rho = \max\{j : u_j - (\sum_{i\le j} u_i - 1)/j > 0\}`
    (Held, Wolfe, Crowder 1974; Duchi, Shalev-Shwartz, Singer, Chandra, ICML 2008;
    Wang and Carreira-Perpiñán, arXiv:1309.1541). :math:`O(k \log k)`. Turns an unbiased
    LDP estimate into a distribution (the result is no longer unbiased).

    Parameters
    ----------
    v : (k,) array-like
        Finite real numbers.

    Returns
    -------
    (k,) ndarray
        Nonnegative, summing to 1.

    Examples
    --------
    >>> from leakage.ldp import project_simplex
    >>> project_simplex([0.5, 0.7, -0.2]).tolist()
    [0.4, 0.6, 0.0]
    """
    fn = "project_simplex"
    try:
        a = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"{fn}: the 'v' argument must be a 1-D array of finite real numbers; "
            f"reading it failed ({exc})."
        ) from exc
    if a.ndim != 1 or a.size == 0:
        raise_param(fn, "v", "be a non-empty 1-D array of finite real numbers", f"shape {a.shape}")
    if not np.all(np.isfinite(a)):
        bad = int(np.flatnonzero(~np.isfinite(a))[0])
        raise_param(fn, "v", "have finite entries", f"{a[bad]} at index {bad}")
    u = np.sort(a)[::-1]
    css = np.cumsum(u) - 1.0
    j = np.arange(1, a.size + 1)
    rho = int(np.flatnonzero(u - css / j > 0)[-1])
    tau = css[rho] / (rho + 1)
    return np.maximum(a - tau, 0.0)


@dataclasses.dataclass(frozen=True)
class IBUResult:
    """Result of :func:`ibu` (iterative Bayesian update = EM for the input distribution).

    Attributes
    ----------
    freqs : (k,) ndarray
        The estimated input distribution (a pmf; the maximum-likelihood estimate when
        converged).
    log_likelihood : float
        :math:`\\sum_y (N_y / n) \\log (\\pi W)_y` at ``freqs``, in nats per report.
    gap : float
        Certified bound on the distance to the maximum log-likelihood (nats per report):
        :math:`\\log \\max_x \\sum_y (N_y/n) W[x,y]/(\\pi W)_y \\ge L^* - L(\\pi)`.
    converged : bool
        ``gap <= tol``.
    n_iter : int
        EM iterations run.
    tol : float
        The requested tolerance on ``gap``.
    """

    freqs: np.ndarray
    log_likelihood: float
    gap: float
    converged: bool
    n_iter: int
    tol: float


def ibu(
    mechanism: Any,
    counts: ArrayLike,
    *,
    init: ArrayLike | None = None,
    max_iter: int = 10_000,
    tol: float = 1e-10,
) -> IBUResult:
    r"""Iterative Bayesian update: the maximum-likelihood input distribution from output counts.

    EM on the channel (Agrawal and Aggarwal, PODS 2001; Agrawal, Srikant, Thomas,
    SIGMOD 2005):

    .. math::

        \pi_{t+1}(x) = \sum_y \frac{N_y}{n}\,
            \frac{\pi_t(x)\, W[x, y]}{\sum_{x'} \pi_t(x') W[x', y]}
          = \pi_t(x)\, g_x(\pi_t),
        \qquad g_x(\pi) = \sum_y \frac{N_y}{n} \frac{W[x, y]}{(\pi W)_y}.

    The log-likelihood :math:`L(\pi) = \sum_y (N_y/n) \log (\pi W)_y` is concave, and
    (as for Cover's log-optimal portfolio) :math:`L^* - L(\pi) \le \log \max_x g_x(\pi)`:
    iterations stop when this **certified gap** is at most ``tol``, not when successive
    iterates are close. The estimate is consistent (a distribution, unlike the unbiased
    inverse estimators) but biased at finite ``n``.

    Parameters
    ----------
    mechanism : (k, m) array-like, Mechanism, design result or small LDP protocol
        The channel ``W[x, y] = P(y | x)``.
    counts : (m,) array-like
        Nonnegative counts (or frequencies) of the outputs, not all zero.
    init : (k,) array-like, optional
        Starting distribution (full support needed for the ML estimate); uniform if
        ``None``.
    max_iter : int, default 10000
        Largest number of EM iterations; reaching it issues a
        :class:`~leakage.ConvergenceWarning`.
    tol : float, default 1e-10
        Tolerance on the certified gap (nats per report).

    Returns
    -------
    IBUResult

    Raises
    ------
    InvalidDistributionError
        For a channel that is not row-stochastic or an ``init`` that is not a pmf.
    InvalidParameterError
        For counts of the wrong length, negative or non-finite counts, all-zero counts,
        or counts on an output the channel never produces.
    """
    fn = "ibu"
    W, _ = as_matrix(mechanism, func=fn)
    k, m = W.shape
    max_iter = check_size(max_iter, func=fn, name="max_iter", limit=10**9)
    tol = check_tolerance(tol, func=fn)
    try:
        c = np.asarray(counts, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"{fn}: the 'counts' argument must be a 1-D array of {m} nonnegative counts; "
            f"reading it failed ({exc})."
        ) from exc
    if c.shape != (m,):
        raise_param(fn, "counts", f"have one entry per channel output ({m})", f"shape {c.shape}")
    if not np.all(np.isfinite(c)) or c.min() < 0 or c.sum() <= 0:
        raise_param(fn, "counts", "hold finite nonnegative counts, not all zero", c.tolist()[:8])
    never = (W.max(axis=0) == 0) & (c > 0)
    if never.any():
        y = int(np.flatnonzero(never)[0])
        raise_param(
            fn, "counts", "be zero on outputs the channel never produces", f"{c[y]} at output {y}"
        )
    w = c / c.sum()
    keep = w > 0  # outputs without counts do not enter the likelihood
    w, Wk = w[keep], W[:, keep]
    if init is None:
        pi = np.full(k, 1.0 / k)
    else:
        pi = as_pmf(init, func=fn, name="init")
        if pi.shape[0] != k:
            raise InvalidDistributionError(
                f"{fn}: the 'init' argument must have one entry per channel input ({k}); "
                f"got {pi.shape[0]} entries instead."
            )
    n_iter = 0
    while True:
        q = pi @ Wk
        g = Wk @ (w / q)
        gap = float(math.log(max(g.max(), 1.0)))  # sum_x pi g = 1, so max g >= 1
        if gap <= tol or n_iter >= max_iter:
            break
        pi = pi * g
        pi /= pi.sum()  # sums to 1 in exact arithmetic; removes rounding drift
        n_iter += 1
    converged = gap <= tol
    if not converged:
        warnings.warn(
            f"ibu: stopped at max_iter = {max_iter} with certified log-likelihood gap "
            f"{gap:.3g} > tol = {tol:g}; raise max_iter or tol.",
            ConvergenceWarning,
            stacklevel=2,
        )
    ll = float(w @ np.log(pi @ Wk))
    return IBUResult(pi, ll, gap, converged, n_iter, tol)
