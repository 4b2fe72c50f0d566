r"""Monte-Carlo Neyman–Pearson tests on privatized samples (paper 002, Section II).

A dataset is ``n`` i.i.d. letters privatized by ``W``: under :math:`H_k` the published
letters are i.i.d. :math:`q_k = p_k W`. The likelihood-ratio test between :math:`H_1` and
:math:`H_2` decides :math:`H_2` when :math:`S = \sum_t \ln\frac{q_2(\hat x_t)}{q_1(\hat
x_t)} \ge T`. With :math:`T` set so that :math:`P(\text{decide } H_1 \mid H_2) \le \delta`,
the Chernoff–Stein lemma (eq. (1)) gives :math:`-\frac1n \log P(\text{decide } H_2 \mid
H_1) \to D(q_2\|q_1)`: the utility the designs maximize is the exponent the test achieves.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import beta as beta_dist
from scipy.stats import binom

from .._validation import MAX_ENTRIES, as_generator, check_base, check_size
from ..errors import InvalidParameterError
from ..results import SimulationResult
from ..units import from_nats
from ._common import as_hypotheses, check_mechanism


def _cp(k: int, n: int, confidence: float) -> tuple[float, float]:
    a = (1 - confidence) / 2
    lo = 0.0 if k == 0 else float(beta_dist.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(beta_dist.ppf(1 - a, k + 1, n - k))
    return lo, hi


#: Largest sample size per dataset (counts are drawn as multinomials: the cost does not
#: grow with n; the limit keeps n * log-likelihood sums exact in float64).
MAX_N = 2**53


def _exact_binary(n: int, llr: np.ndarray, T: float, q: float) -> float:
    """P(S >= T | H1) for binary outputs: S = n llr[0] + K (llr[1] - llr[0]) with
    K ~ Binomial(n, q), a threshold on K found in O(1) (no array of n + 1 entries)."""
    step = float(llr[1] - llr[0])
    thr = T - 1e-12 * max(abs(T), 1.0)

    def dec(k: int) -> bool:
        return n * float(llr[0]) + k * step >= thr

    # dec is monotone in k; the estimate is within a step or two of its boundary
    k = min(max(math.floor((thr - n * float(llr[0])) / step), 0), n)
    if step > 0:  # decided for k >= first
        while k > 0 and dec(k - 1):
            k -= 1
        while k <= n and not dec(k):
            k += 1
        return float(binom.sf(k - 1, n, q)) if k <= n else 0.0
    while k < n and dec(k + 1):  # step < 0: decided for k <= last
        k += 1
    while k >= 0 and not dec(k):
        k -= 1
    return float(binom.cdf(k, n, q)) if k >= 0 else 0.0


def simulate_test(
    ps: ArrayLike,
    W: ArrayLike,
    n: int | ArrayLike,
    trials: int = 20_000,
    rng: np.random.Generator | int | None = None,
    *,
    delta: float = 0.05,
    confidence: float = 0.99,
    base: float = 2,
) -> SimulationResult:
    r"""Simulate the level-``delta`` likelihood-ratio test of :math:`H_1` against
    :math:`H_2` on privatized data, at each sample size in ``n``.

    ``ps`` holds at least :math:`p_1, p_2` (rows; further rows are ignored), ``W`` is the
    mechanism (M×N). For each ``n``: ``trials`` datasets under :math:`H_2` set the
    threshold :math:`T` (their empirical ``delta``-quantile), ``trials`` datasets under
    :math:`H_1` estimate the missed-detection probability :math:`P(S \ge T \mid H_1)`
    with a Clopper–Pearson interval at ``confidence``. With binary outputs the same
    probability for the same :math:`T` is also computed exactly (binomial tail): a check
    on the simulation, and the exponent at sample sizes Monte Carlo cannot reach. The
    published letters of a dataset enter only through their counts, drawn as one
    multinomial per dataset (vectorized).

    Returns
    -------
    SimulationResult
        Exponents in units of ``log_base``, beside ``stein_exponent`` = D(q_2||q_1).
    """
    fn = "simulate_test"
    b = check_base(base, func=fn)
    P = as_hypotheses(ps, func=fn)
    Wv = check_mechanism(W, P.shape[1], func=fn)
    try:
        ns = np.atleast_1d(np.asarray(n, dtype=float))
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"{fn}: the 'n' argument must be a positive integer or a list of them; got {n!r}."
        ) from exc
    if ns.ndim != 1 or ns.size == 0 or not all(float(v).is_integer() and v > 0 for v in ns):
        raise InvalidParameterError(f"{fn}: 'n' must be a positive integer or a list of them.")
    check_size(len(ns), func=fn, name="n", limit=10_000, what="sample sizes")
    for v in ns:  # counts are drawn, never records: n costs nothing up to int64 safety
        check_size(int(v), func=fn, name="n", limit=MAX_N, what="samples per dataset")
    ns = ns.astype(np.int64)
    trials = check_size(
        trials,
        func=fn,
        name="trials",
        limit=max(1, MAX_ENTRIES // (2 * Wv.shape[1])),
        what="datasets",
        hint="Each trial holds one count vector per hypothesis; run several calls with "
        "fewer trials and pool them.",
    )
    if not 0 < delta < 1:
        raise InvalidParameterError(f"{fn}: 'delta' must lie in (0, 1); got {delta!r}.")
    if not 0 < confidence < 1:
        raise InvalidParameterError(f"{fn}: 'confidence' must lie in (0, 1); got {confidence!r}.")
    gen = as_generator(rng, func=fn)
    q1, q2 = P[0] @ Wv, P[1] @ Wv
    used = (q1 > 0) | (q2 > 0)
    q1, q2 = q1[used], q2[used]
    if np.any((q2 > 0) & (q1 == 0)) or np.any((q1 > 0) & (q2 == 0)):
        raise InvalidParameterError(
            f"{fn}: p_1 W and p_2 W must have the same support (a letter possible under one "
            "hypothesis only makes the test trivial and the exponent infinite)."
        )
    llr = np.log(q2) - np.log(q1)
    D = float(np.sum(q2 * llr))
    if D <= 0:
        raise InvalidParameterError(
            f"{fn}: p_1 W = p_2 W: the privatized hypotheses are identical (utility 0)."
        )
    k = ns.size
    missed, fa, exact = np.empty(k), np.empty(k), np.full(k, math.nan)
    ci = np.empty((k, 2))
    for i, nn in enumerate(ns):  # a loop over sample sizes
        c2 = gen.multinomial(nn, q2, size=trials)
        c1 = gen.multinomial(nn, q1, size=trials)
        s2, s1 = c2 @ llr, c1 @ llr
        T = float(np.quantile(s2, delta, method="higher"))
        # decide H2 iff S >= T (ties to H2 keep P(decide H1 | H2) <= delta)
        fa[i] = float(np.mean(s2 < T))
        errs = int(np.sum(s1 >= T))
        missed[i] = errs / trials
        ci[i] = _cp(errs, trials, confidence)
        if q1.size == 2:  # S = n llr[0] + K (llr[1] - llr[0]), K ~ Binomial(n, q[1])
            exact[i] = _exact_binary(int(nn), llr, T, float(q1[1]))
    with np.errstate(divide="ignore"):
        expo = -np.log(missed) / ns
        eci = np.stack([-np.log(ci[:, 1]) / ns, -np.log(ci[:, 0]) / ns], axis=1)
    return SimulationResult(
        ns=ns,
        missed=missed,
        interval=ci,
        false_alarm=fa,
        exponent=from_nats(expo, b),
        exponent_interval=from_nats(eci, b),
        stein_exponent=float(from_nats(D, b)),
        exact_missed=exact,
        delta=float(delta),
        confidence=float(confidence),
        trials=trials,
        base=b,
    )
