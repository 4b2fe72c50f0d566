"""Entropy and divergences: closed forms, identities, other libraries, properties."""

import itertools
import math

import dit
import numpy as np
import pytest
import scipy.stats
from dit.divergences import kullback_leibler_divergence as dit_kl
from dit.divergences import renyi_divergence as dit_renyi
from hypothesis import given
from hypothesis import strategies as st

import leakage as lk
from leakage.testing import pmfs


def _dit(p):
    d = dit.Distribution([str(i) for i in range(len(p))], list(p))
    d.make_dense()  # keep zero-probability outcomes so both sides share one alphabet
    return d


def _h(x):
    return -x * math.log2(x) - (1 - x) * math.log2(1 - x)


# ---------------------------------------------------------------- entropy
def test_entropy_closed_forms():
    assert lk.entropy([0.5, 0.25, 0.25]) == pytest.approx(1.5, abs=1e-15)
    assert lk.entropy(np.full(8, 1 / 8)) == pytest.approx(3.0, abs=1e-14)
    assert lk.entropy([1.0, 0.0]) == 0.0
    assert lk.entropy([0.3, 0.7]) == pytest.approx(_h(0.3), abs=1e-15)
    assert lk.entropy([0.5, 0.5], base=math.e) == pytest.approx(math.log(2), abs=1e-15)
    assert lk.entropy(np.full(10, 0.1), base=10) == pytest.approx(1.0, abs=1e-14)


@given(pmfs())
def test_entropy_matches_scipy_and_dit(p):
    ours = lk.entropy(p)
    assert ours == pytest.approx(scipy.stats.entropy(p, base=2), abs=1e-12)
    assert ours == pytest.approx(dit.shannon.entropy(_dit(p)), abs=1e-10)
    assert -1e-15 <= ours <= math.log2(len(p)) + 1e-12


# ---------------------------------------------------------------- KL
def test_kl_closed_form_and_infinite():
    # D(Bern(1/2) || Bern(1/4)) = 1/2 log(2) + 1/2 log(2/3) in bits
    expected = 0.5 * math.log2(0.5 / 0.25) + 0.5 * math.log2(0.5 / 0.75)
    assert lk.kl_divergence([0.5, 0.5], [0.25, 0.75]) == pytest.approx(expected, abs=1e-15)
    assert lk.kl_divergence([0.5, 0.5], [1.0, 0.0]) == math.inf
    assert lk.kl_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(1.0, abs=1e-15)


@given(st.integers(1, 6).flatmap(lambda n: st.tuples(pmfs(n), pmfs(n, zeros=False))))
def test_kl_matches_scipy_and_dit(pq):
    p, q = pq
    ours = lk.kl_divergence(p, q)
    assert ours == pytest.approx(scipy.stats.entropy(p, q, base=2), abs=1e-12)
    assert ours == pytest.approx(dit_kl(_dit(p), _dit(q)), abs=1e-10)
    assert ours >= -1e-15


# ---------------------------------------------------------------- Rényi
def _renyi_loop(p, q, a):
    """The defining sum, term by term in plain Python (independent of the vectorized code)."""
    s = sum(pi**a * qi ** (1 - a) for pi, qi in zip(p, q, strict=True) if pi > 0)
    return math.log2(s) / (a - 1)


@pytest.mark.parametrize("alpha", [0.1, 0.5, 0.9, 1.5, 2.0, 7.0])
def test_renyi_matches_definition_and_dit(alpha):
    p = np.array([0.1, 0.2, 0.3, 0.4])
    q = np.array([0.25, 0.25, 0.4, 0.1])
    ours = lk.renyi_divergence(p, q, alpha)
    assert ours == pytest.approx(_renyi_loop(p, q, alpha), abs=1e-13)
    assert ours == pytest.approx(dit_renyi(_dit(p), _dit(q), alpha), abs=1e-10)


def test_renyi_special_orders():
    p = np.array([0.1, 0.2, 0.3, 0.4])
    q = np.array([0.25, 0.25, 0.4, 0.1])
    # alpha = 1 is KL; alpha -> 1 approaches it
    kl = lk.kl_divergence(p, q)
    assert lk.renyi_divergence(p, q, 1) == kl
    assert lk.renyi_divergence(p, q, 1 + 1e-6) == pytest.approx(kl, abs=1e-5)
    assert lk.renyi_divergence(p, q, 1 - 1e-6) == pytest.approx(kl, abs=1e-5)
    # alpha = 2: log(1 + chi^2)
    assert lk.renyi_divergence(p, q, 2) == pytest.approx(
        math.log2(1 + lk.chi2_divergence(p, q)), abs=1e-14
    )
    # alpha = 1/2: -2 log(Bhattacharyya coefficient)
    bc = float(np.sqrt(p * q).sum())
    assert lk.renyi_divergence(p, q, 0.5) == pytest.approx(-2 * math.log2(bc), abs=1e-14)
    # alpha = inf: log max p/q, and large alpha approaches it without overflow
    dinf = math.log2(max(p / q))
    assert lk.renyi_divergence(p, q, math.inf) == pytest.approx(dinf, abs=1e-15)
    assert lk.renyi_divergence(p, q, 1e6) == pytest.approx(dinf, abs=1e-5)
    assert math.isfinite(lk.renyi_divergence(p, q, 1e300))


def test_renyi_support_edge_cases():
    assert lk.renyi_divergence([0.5, 0.5], [1.0, 0.0], 2.0) == math.inf
    assert lk.renyi_divergence([0.5, 0.5], [1.0, 0.0], math.inf) == math.inf
    # alpha < 1: finite even without absolute continuity: -1/(1-a) ... = log(1/0.5^a) / (1-a)
    val = lk.renyi_divergence([0.5, 0.5], [1.0, 0.0], 0.5)
    assert val == pytest.approx(_renyi_loop([0.5], [1.0], 0.5), abs=1e-14)
    assert lk.renyi_divergence([1.0, 0.0], [0.0, 1.0], 0.5) == math.inf


@given(
    st.integers(1, 5).flatmap(lambda n: st.tuples(pmfs(n), pmfs(n, zeros=False))),
    st.lists(st.floats(0.05, 20), min_size=2, max_size=2, unique=True),
)
def test_renyi_nondecreasing_in_alpha(pq, alphas):
    p, q = pq
    a, b = sorted(alphas)
    da, db = lk.renyi_divergence(p, q, a), lk.renyi_divergence(p, q, b)
    assert da <= db + 1e-9
    assert db <= lk.renyi_divergence(p, q, math.inf) + 1e-9
    assert da >= -1e-12


# ---------------------------------------------------------------- chi2 and TV
def test_chi2_closed_form():
    p, q = np.array([0.5, 0.5]), np.array([0.25, 0.75])
    assert lk.chi2_divergence(p, q) == pytest.approx(0.25**2 / 0.25 + 0.25**2 / 0.75, abs=1e-15)
    assert lk.chi2_divergence([0.5, 0.5, 0.0], [0.5, 0.25, 0.25]) == pytest.approx(
        0.25**2 / 0.25 + 0.25**2 / 0.25, abs=1e-15
    )
    assert lk.chi2_divergence([0.5, 0.5], [1.0, 0.0]) == math.inf
    assert lk.chi2_divergence([0.5, 0.0, 0.5], [0.5, 0.0, 0.5]) == 0.0


@given(st.integers(1, 6).flatmap(lambda n: st.tuples(pmfs(n), pmfs(n, zeros=False))))
def test_chi2_bounds_kl(pq):
    # D(p||q) <= log(1 + chi2(p||q))  (Rényi monotonicity between orders 1 and 2)
    p, q = pq
    assert lk.kl_divergence(p, q) <= math.log2(1 + lk.chi2_divergence(p, q)) + 1e-12


@given(st.integers(1, 6).flatmap(lambda n: st.tuples(pmfs(n), pmfs(n))))
def test_total_variation_is_max_over_events(pq):
    p, q = pq
    n = len(p)
    brute = max(
        abs(p[list(A)].sum() - q[list(A)].sum())
        for r in range(n + 1)
        for A in itertools.combinations(range(n), r)
    )
    assert lk.total_variation(p, q) == pytest.approx(brute, abs=1e-14)
    # Pinsker: TV <= sqrt(D/2) with D in nats
    assert lk.total_variation(p, q) <= math.sqrt(lk.kl_divergence(p, q, base=math.e) / 2) + 1e-12


# ---------------------------------------------------------------- validation reaches every measure
@pytest.mark.parametrize(
    "call",
    [
        lambda: lk.entropy([0.5, 0.6]),
        lambda: lk.kl_divergence([0.5, 0.5], [0.5, 0.6]),
        lambda: lk.renyi_divergence([0.5, 0.5], [0.4, 0.7], 2),
        lambda: lk.chi2_divergence([0.5, 0.6], [0.5, 0.5]),
        lambda: lk.total_variation([0.5, 0.5], [0.1, 0.1]),
    ],
)
def test_divergences_reject_unnormalized(call):
    with pytest.raises(lk.InvalidDistributionError, match="must sum to 1"):
        call()


def test_divergences_reject_shape_mismatch():
    with pytest.raises(lk.InvalidDistributionError, match=r"kl_divergence: the 'q' argument"):
        lk.kl_divergence([0.5, 0.5], [0.2, 0.3, 0.5])


def test_renyi_rejects_bad_alpha():
    for bad in (0, -1, float("nan"), "2", True):
        with pytest.raises(lk.InvalidParameterError, match="renyi_divergence: the 'alpha'"):
            lk.renyi_divergence([0.5, 0.5], [0.5, 0.5], bad)


@pytest.mark.parametrize("eps", [1e-16, 1e-15, 1e-12, 1e-9, 1e-6, 9.99e-4, 1.001e-3])
def test_renyi_is_continuous_at_one(eps):
    """No 0/0 near alpha = 1: D_{1±eps} stays within O(eps) of KL (derivative bounded)."""
    p, q = np.array([0.3, 0.7]), np.array([0.6, 0.4])
    kl = lk.kl_divergence(p, q)
    for a in (1 - eps, 1 + eps):
        assert lk.renyi_divergence(p, q, a) == pytest.approx(kl, abs=10 * eps + 1e-14)
        if eps >= 1e-6:  # the direct formula itself loses ~1e-16/eps to cancellation
            assert lk.renyi_divergence(p, q, a) == pytest.approx(_renyi_loop(p, q, a), abs=1e-9)
