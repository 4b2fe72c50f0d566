"""Successive refinement rate R(Q, R1, D1, D2) (eq. (15) of paper 000)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import leakage as lk
from leakage.ratedistortion import (
    binary_entropy,
    distortion_matrix,
    is_successively_refinable,
    rate_distortion,
    successive_refinement_rate,
)

TERNARY = dict(p=[0.5, 0.3, 0.2], d1="squared", d2="hamming", D1=0.4, D2=0.2)


def _cvx_sum_rate(p, d1, d2, D1, D2, R1_bits=None):
    """An independent solve of eq. (15) as an exponential-cone program (bits)."""
    cp = pytest.importorskip("cvxpy")
    p = np.asarray(p, float)
    nx, n1 = d1.shape
    n2 = d2.shape[1]
    J = cp.Variable((nx, n1 * n2), nonneg=True)
    S1 = np.kron(np.eye(n1), np.ones((n2, 1)))
    S2 = np.kron(np.ones((n1, 1)), np.eye(n2))
    J1, J2 = J @ S1, J @ S2
    P = p[:, None]
    q12 = cp.reshape(cp.sum(J, axis=0), (1, n1 * n2), order="C")
    q1 = cp.reshape(cp.sum(J1, axis=0), (1, n1), order="C")
    cons = [
        cp.sum(J, axis=1) == p,
        cp.sum(cp.multiply(J1, d1)) <= D1,
        cp.sum(cp.multiply(J2, d2)) <= D2,
    ]
    if R1_bits is not None:
        cons.append(cp.sum(cp.rel_entr(J1, P @ q1)) <= R1_bits * math.log(2))
    prob = cp.Problem(cp.Minimize(cp.sum(cp.rel_entr(J, P @ q12))), cons)
    prob.solve(solver="CLARABEL", tol_gap_abs=1e-11, tol_gap_rel=1e-11, tol_feas=1e-11)
    return prob.value / math.log(2)


def _check_channel(r, p, d1, d2, D1, D2):
    Qj = r.test_channel
    p = np.asarray(p, float)
    assert np.all(Qj >= 0)
    np.testing.assert_allclose(Qj.sum(axis=(1, 2)), 1.0, atol=1e-12)
    e1 = float(p @ (Qj.sum(axis=2) * d1).sum(axis=1))
    e2 = float(p @ (Qj.sum(axis=1) * d2).sum(axis=1))
    assert e1 <= D1 + 1e-10 and e2 <= D2 + 1e-10
    assert r.distortion1 == pytest.approx(e1, abs=1e-12)
    # the reported rates are the mutual information of the returned channel
    flat = Qj.reshape(Qj.shape[0], -1)
    assert r.sum_rate == pytest.approx(lk.mutual_information(p, flat), abs=1e-10)
    assert r.rate1 == pytest.approx(lk.mutual_information(p, Qj.sum(axis=2)), abs=1e-10)
    assert r.rate1 <= r.R1 + 1e-10
    assert r.lower <= r.upper + 1e-15


@pytest.mark.parametrize("p", [0.5, 0.4, 0.3, 0.15])
@pytest.mark.parametrize("frac", [(0.9, 0.5), (0.6, 0.2), (0.99, 0.98)])
def test_bernoulli_hamming_is_refinable(p, frac):
    m = min(p, 1 - p)
    D1, D2 = frac[0] * m, frac[1] * m
    r = successive_refinement_rate([p, 1 - p], "hamming", "hamming", D1, D2, R1="tight")
    expected = binary_entropy(p) - binary_entropy(D2)
    assert r.sum_rate == pytest.approx(expected, abs=1e-9)
    assert r.lower == pytest.approx(expected, abs=1e-9)
    assert r.gap <= 1e-9
    assert r.rate1 == pytest.approx(binary_entropy(p) - binary_entropy(D1), abs=1e-9)
    assert r.R1_reading == "tight"
    assert is_successively_refinable([p, 1 - p], "hamming", "hamming", D1, D2, tol=1e-9)
    _check_channel(r, [p, 1 - p], 1 - np.eye(2), 1 - np.eye(2), D1, D2)


@pytest.mark.parametrize("m", [3, 4])
def test_uniform_mary_hamming_closed_form(m):
    D1, D2 = 0.3, 0.1
    r = successive_refinement_rate(np.full(m, 1 / m), "hamming", "hamming", D1, D2, "tight")
    closed = math.log2(m) - binary_entropy(D2) - D2 * math.log2(m - 1)
    assert r.sum_rate == pytest.approx(closed, abs=1e-9)
    assert r.gap <= 1e-9


def test_no_cap_with_equal_distortions_is_rd_at_the_finer_level():
    # X̂1 = X̂2 is allowed without a cap: R(Q, inf, D1, D2) = R(Q, min(D1, D2))
    p = [0.2, 0.5, 0.3]
    r = successive_refinement_rate(p, "abs", "abs", 0.5, 0.2, R1=None)
    assert r.sum_rate == pytest.approx(rate_distortion(p, "abs", 0.2).rate, abs=1e-9)
    assert not r.cap_active and r.R1 == math.inf


@pytest.mark.parametrize("seed", range(5))
def test_against_exponential_cone_program(seed):
    rng = np.random.default_rng(seed)
    n, n1, n2 = 3, 2 + seed % 2, 3
    p = rng.dirichlet(np.ones(n))
    d1 = rng.random((n, n1))
    d2 = rng.random((n, n2))
    D1 = float(p @ d1.min(axis=1)) + 0.3 * float(min(p @ d1) - p @ d1.min(axis=1))
    D2 = float(p @ d2.min(axis=1)) + 0.3 * float(min(p @ d2) - p @ d2.min(axis=1))
    R1min = rate_distortion(p, d1, D1).rate
    for R1 in (None, R1min + 0.1):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            r = successive_refinement_rate(p, d1, d2, D1, D2, R1=R1)
        ref = _cvx_sum_rate(p, d1, d2, D1, D2, None if R1 is None else r.R1)
        assert abs(r.sum_rate - ref) <= 1e-6
        # the generic solver's answer lies inside our certified bracket (up to its accuracy)
        assert r.lower <= ref + 1e-7 and ref <= r.upper + 1e-7
        assert r.gap <= 1e-8
        _check_channel(r, p, d1, d2, D1, D2)


@pytest.mark.filterwarnings("ignore:Solution may be inaccurate")
def test_three_readings_differ_on_a_non_refinable_triplet():
    t = TERNARY
    d1, d2 = distortion_matrix("squared", 3), distortion_matrix("hamming", 3)
    none = successive_refinement_rate(**t, R1=None)
    tight = successive_refinement_rate(**t, R1="tight")
    mid = successive_refinement_rate(**t, R1=tight.R1 + 0.05)
    assert none.sum_rate + 1e-3 < mid.sum_rate < tight.sum_rate - 1e-3
    assert max(none.gap, tight.gap, mid.gap) <= 1e-8
    assert tight.rate1 == pytest.approx(tight.rate_D1, abs=1e-12)
    assert "unique" in tight.method
    assert not is_successively_refinable(**t)
    for r in (none, tight, mid):
        _check_channel(r, t["p"], d1, d2, t["D1"], t["D2"])
    # the capped value falls toward the tight one as the cap closes, like sqrt(slack)
    vals = [_cvx_sum_rate(t["p"], d1, d2, 0.4, 0.2, tight.R1 + s) for s in (1e-3, 1e-5, 1e-7)]
    assert vals[0] < vals[1] < vals[2] <= tight.sum_rate + 1e-9
    gaps = [tight.sum_rate - v for v in vals]
    assert 5 < gaps[0] / gaps[1] < 20 and 5 < gaps[1] / gaps[2] < 20  # ~ sqrt(100) = 10


def test_source_letters_of_probability_zero():
    r = successive_refinement_rate([0.5, 0.0, 0.5], "hamming", "hamming", 0.3, 0.1, "tight")
    ref = successive_refinement_rate([0.5, 0.5], "hamming", "hamming", 0.3, 0.1, "tight")
    assert r.sum_rate == pytest.approx(ref.sum_rate, abs=1e-12)
    assert r.test_channel.shape == (3, 3, 3)
    np.testing.assert_allclose(r.test_channel.sum(axis=(1, 2)), 1.0)


def test_base_nats():
    b = successive_refinement_rate([0.3, 0.7], "hamming", "hamming", 0.2, 0.1, "tight")
    n = successive_refinement_rate([0.3, 0.7], "hamming", "hamming", 0.2, 0.1, "tight", base=math.e)
    assert n.sum_rate == pytest.approx(b.sum_rate * math.log(2), rel=1e-12)


@settings(max_examples=15, deadline=None)
@given(
    q=st.floats(0.1, 0.9),
    a=st.floats(0.3, 0.9),
    b=st.floats(0.1, 0.9),
    extra=st.floats(0.0, 0.5),
)
def test_order_of_the_readings(q, a, b, extra):
    """R(inf) <= R(R1) <= R(tight), and every value is at least R(D1) and R(D2)."""
    p = [q, (1 - q) / 2, (1 - q) / 2]
    D1, D2 = 0.6 * a, 0.6 * a * b
    args = (p, "abs", "hamming", D1, D2)
    none = successive_refinement_rate(*args, R1=None, tol=1e-8)
    tight = successive_refinement_rate(*args, R1="tight", tol=1e-8)
    assert none.lower <= tight.upper + 1e-9
    floor = max(rate_distortion(p, "abs", D1).lower, rate_distortion(p, "hamming", D2).lower)
    assert none.upper >= floor - 1e-9
    if extra > 0.05:
        mid = successive_refinement_rate(*args, R1=tight.R1 + extra, tol=1e-7)
        assert none.lower - 1e-8 <= mid.upper and mid.lower <= tight.upper + 1e-8


def test_errors():
    p = [0.4, 0.6]
    with pytest.raises(lk.InfeasibleError, match=r"'R1'.*R\(Q, D1\)"):
        successive_refinement_rate(p, "hamming", "hamming", 0.2, 0.1, R1=0.1)
    with pytest.raises(lk.InfeasibleError, match="'D2'"):
        successive_refinement_rate(p, "hamming", [[0.5, 1], [1, 0.5]], 0.2, 0.1)
    with pytest.raises(lk.InvalidParameterError, match="'R1'"):
        successive_refinement_rate(p, "hamming", "hamming", 0.2, 0.1, R1="loose")
    with pytest.raises(lk.InvalidParameterError, match="'d1'"):
        successive_refinement_rate(p, [[0, 1, 2]], "hamming", 0.2, 0.1)
    with pytest.raises(lk.InvalidDistributionError):
        successive_refinement_rate([0.5, 0.6], "hamming", "hamming", 0.2, 0.1)
    with pytest.raises(lk.InvalidParameterError, match="'D1'"):
        successive_refinement_rate(p, "hamming", "hamming", -0.2, 0.1)
