"""Certified channel capacity."""

import math
import warnings

import numpy as np
import pytest
import qif
from hypothesis import given
from hypothesis import strategies as st

import leakage as lk
from leakage.testing import channels, pmfs


def _h(x):
    return 0.0 if x in (0.0, 1.0) else -x * math.log2(x) - (1 - x) * math.log2(1 - x)


@pytest.mark.parametrize("e", [0.0, 0.01, 0.11, 0.3, 0.5])
def test_bsc_capacity(e):
    r = lk.channel_capacity([[1 - e, e], [e, 1 - e]])
    assert r.converged and r.status is lk.Status.OPTIMAL
    assert r.gap <= 1e-12
    assert r.lower <= 1 - _h(e) + 1e-15 and 1 - _h(e) <= r.upper + 1e-15
    assert r.capacity == pytest.approx(1 - _h(e), abs=1e-12)


@pytest.mark.parametrize("n", [1, 2, 5, 16])
def test_noiseless_capacity(n):
    r = lk.channel_capacity(np.eye(n))
    assert r.capacity == pytest.approx(math.log2(n), abs=1e-12)
    np.testing.assert_allclose(r.input_distribution, np.full(n, 1 / n), atol=1e-9)


@pytest.mark.parametrize("e", [0.1, 0.5, 0.9])
def test_z_channel_capacity(e):
    # Z channel (1 -> 0 with probability e): C = log2(1 + (1-e) e^{e/(1-e)})
    r = lk.channel_capacity([[1.0, 0.0], [e, 1 - e]])
    closed = math.log2(1 + (1 - e) * e ** (e / (1 - e)))
    assert r.lower - 1e-15 <= closed <= r.upper + 1e-15
    assert r.capacity == pytest.approx(closed, abs=1e-12)


def test_binary_erasure_and_useless_channels():
    e = 0.25
    r = lk.channel_capacity([[1 - e, e, 0.0], [0.0, e, 1 - e]])
    assert r.capacity == pytest.approx(1 - e, abs=1e-12)
    r = lk.channel_capacity([[0.2, 0.8], [0.2, 0.8], [0.2, 0.8]])
    assert r.capacity == pytest.approx(0.0, abs=1e-15) and r.converged
    r = lk.channel_capacity([[0.3, 0.0, 0.7]])  # a single input, an unused output column
    assert r.capacity == 0.0 and r.output_distribution.shape == (3,)


def test_duplicate_rows_and_boundary_optimum():
    # identical rows make the optimal p non-unique (singular Newton system);
    # the middle row of the second channel gets zero mass at the optimum.
    W = np.array([[0.9, 0.1], [0.9, 0.1], [0.1, 0.9]])
    r = lk.channel_capacity(W)
    assert r.capacity == pytest.approx(1 - _h(0.1), abs=1e-12) and r.converged
    W2 = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    r2 = lk.channel_capacity(W2)
    assert r2.capacity == pytest.approx(1.0, abs=1e-12)
    assert r2.input_distribution[1] < 1e-9


def test_binary_input_against_grid_search():
    rng = np.random.default_rng(5)
    W = rng.dirichlet(np.ones(5), size=2)
    grid = np.linspace(0, 1, 200001)
    best = max(lk.mutual_information([a, 1 - a], W) for a in grid[::100])
    a0 = grid[::100][np.argmax([lk.mutual_information([a, 1 - a], W) for a in grid[::100]])]
    fine = np.linspace(max(a0 - 1e-3, 0), min(a0 + 1e-3, 1), 2001)
    best = max(best, max(lk.mutual_information([a, 1 - a], W) for a in fine))
    r = lk.channel_capacity(W)
    assert best <= r.upper + 1e-15
    assert r.capacity == pytest.approx(best, abs=1e-9)


def test_base_and_tol():
    W = [[0.8, 0.2], [0.3, 0.7]]
    bits = lk.channel_capacity(W)
    nats = lk.channel_capacity(W, base=math.e)
    assert nats.capacity == pytest.approx(bits.capacity * math.log(2), abs=1e-12)
    assert nats.base == math.e
    loose = lk.channel_capacity(W, tol=1e-3)
    assert loose.gap <= 1e-3 and loose.lower <= bits.upper and bits.lower <= loose.upper


def test_iteration_limit_warns_and_keeps_valid_bounds():
    rng = np.random.default_rng(6)
    W = rng.dirichlet(np.ones(30), size=30)
    exact = lk.channel_capacity(W)
    with pytest.warns(lk.ConvergenceWarning, match="max_iter=2"):
        r = lk.channel_capacity(W, max_iter=2)
    assert not r.converged and r.status is lk.Status.ITERATION_LIMIT
    assert r.lower <= exact.upper + 1e-15 and exact.lower <= r.upper + 1e-15


@given(st.integers(1, 6).flatmap(lambda n: st.tuples(channels(n), pmfs(n))))
def test_bounds_bracket_every_input(Wp):
    W, p = Wp
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = lk.channel_capacity(W)
    assert r.converged and r.upper - r.lower <= 1e-12
    assert lk.mutual_information(p, W) <= r.upper + 1e-12
    # the returned input distribution achieves the lower bound exactly
    assert lk.mutual_information(r.input_distribution, W) == pytest.approx(r.lower, abs=1e-13)
    assert r.upper <= math.log2(min(W.shape)) + 1e-12


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("size", [(3, 4), (8, 5), (20, 20)])
def test_capacity_matches_qif_within_certified_bounds(seed, size):
    rng = np.random.default_rng(seed)
    W = rng.dirichlet(np.full(size[1], 0.5), size=size[0])
    r = lk.channel_capacity(W)
    ref, _ = qif.measure.shannon.add_capacity(W, 1e-12, 1e-14)
    # qif's value is an achievable rate (lower bound) computed to its own tolerance
    assert ref <= r.upper + 1e-12
    assert ref == pytest.approx(r.capacity, abs=1e-9)


def test_capacity_validates():
    with pytest.raises(lk.InvalidDistributionError, match="channel_capacity: the 'channel'"):
        lk.channel_capacity([[0.5, 0.4], [0.5, 0.5]])
    with pytest.raises(lk.InvalidParameterError, match="'tol' argument must be"):
        lk.channel_capacity(np.eye(2), tol=0)
    with pytest.raises(lk.InvalidParameterError, match="'max_iter' argument must be"):
        lk.channel_capacity(np.eye(2), max_iter=1.5)


def test_upper_bound_is_infinite_for_an_unreached_output():
    """D(W_x || pW) = inf when x reaches an output p never produces: never clipped."""
    from scipy.special import xlogy

    from leakage.measures.capacity import _Bounds

    W = np.array([[1.0, 0.0], [1 - 1e-20, 1e-20]])
    b = _Bounds(np.array([1.0, 0.0]), W, xlogy(W, W).sum(axis=1))
    assert b.upper == math.inf and b.lower == 0.0
    # and the solver still certifies the (tiny but positive) capacity
    r = lk.channel_capacity(W)
    assert r.converged and r.lower <= r.upper and r.upper < 1e-12


def test_tol_below_double_precision_is_refused():
    with pytest.raises(lk.InvalidParameterError, match=r"'tol' argument must be >= 1e-14"):
        lk.channel_capacity(np.eye(2), tol=1e-16)


def test_unique_output_input_with_vanishing_optimal_weight():
    """Input 2 alone reaches output 2, so the optimum keeps it, with weight ~1e-18
    (found by hypothesis: a solver that drops it never certifies)."""
    W = np.array(
        [
            [0.0, 7.82953496e-01, 0.0, 2.17046504e-01, 0.0],
            [2.11417991e-01, 0.0, 0.0, 2.61987378e-03, 7.85962135e-01],
            [5.41106111e-02, 5.52038564e-01, 5.81669769e-04, 3.93269155e-01, 0.0],
        ]
    )
    W /= W.sum(axis=1, keepdims=True)
    r = lk.channel_capacity(W)
    assert r.converged and r.gap <= 1e-12
    assert r.input_distribution[2] > 0
