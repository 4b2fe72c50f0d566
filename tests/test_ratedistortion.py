"""Rate–distortion engine (paper 000, eq. (14)): certified R(D)."""

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
    rate_distortion,
    rate_distortion_bernoulli,
    rate_distortion_curve,
)
from leakage.testing import pmfs


def _h(x):
    return 0.0 if x in (0, 1) else -x * math.log2(x) - (1 - x) * math.log2(1 - x)


# ---------------------------------------------------------------- closed forms
@pytest.mark.parametrize("q", [0.5, 0.4, 0.3, 0.11])
@pytest.mark.parametrize("D", [0.0, 0.01, 0.1, 0.2, 0.29, 0.35, 0.5])
def test_bernoulli_hamming_closed_form(q, D):
    r = rate_distortion([q, 1 - q], "hamming", D, tol=1e-12)
    truth = _h(q) - _h(D) if D < min(q, 1 - q) else 0.0
    assert r.lower - 1e-15 <= truth <= r.upper + 1e-15  # the certificate brackets the truth
    assert r.rate == pytest.approx(truth, abs=1e-12)
    assert rate_distortion_bernoulli(q, D) == pytest.approx(truth, abs=1e-15)
    assert r.distortion <= D + 1e-15 and r.converged


@pytest.mark.parametrize("m", [2, 3, 5, 8])
@pytest.mark.parametrize("frac", [0.05, 0.3, 0.7, 0.95])
def test_uniform_mary_hamming_closed_form(m, frac):
    """R = log m - h(D) - D log(m-1) for D <= 1 - 1/m."""
    D = frac * (1 - 1 / m)
    r = rate_distortion(np.full(m, 1 / m), "hamming", D, tol=1e-12)
    truth = math.log2(m) - _h(D) - D * math.log2(m - 1)
    assert r.lower - 1e-13 <= truth <= r.upper + 1e-13
    assert r.rate == pytest.approx(truth, abs=1e-11)
    # slope dR/dD = -log((1-D)(m-1)/D), in bits
    assert r.slope == pytest.approx(-math.log2((1 - D) * (m - 1) / D), rel=1e-6)


def test_base_changes_only_the_unit():
    bits = rate_distortion([0.2, 0.3, 0.5], "abs", 0.3)
    nats = rate_distortion([0.2, 0.3, 0.5], "abs", 0.3, base=math.e)
    assert nats.rate == pytest.approx(bits.rate * math.log(2), rel=1e-9)
    assert nats.slope == pytest.approx(bits.slope * math.log(2), rel=1e-6)


# ---------------------------------------------------------------- edges
def test_edges_are_exact():
    p = np.array([0.2, 0.5, 0.3])
    d = distortion_matrix("squared", 3)
    D_max = float((p @ d).min())  # best constant reproduction: x_hat = 1
    r = rate_distortion(p, d, D_max)
    assert r.rate == 0 and r.gap == 0
    np.testing.assert_array_equal(r.test_channel, np.tile([0.0, 1.0, 0.0], (3, 1)))
    assert rate_distortion(p, d, 10.0).rate == 0
    # D = D_min = 0 with a unique zero per row: R = H(p)
    r0 = rate_distortion(p, d, 0.0)
    assert r0.rate == pytest.approx(lk.entropy(p), abs=1e-12) and r0.slope == -math.inf
    with pytest.raises(lk.InfeasibleError, match="D_min"):
        rate_distortion(p, d + 0.1, 0.05)


def test_d_min_with_ties_is_the_smallest_rate_on_the_zero_sets():
    """Two reproductions serve x=1 at zero cost: R(D_min) = min_q sum p log 1/q(A(x))."""
    p = np.array([0.5, 0.5])
    d = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    assert rate_distortion(p, d, 0.0).rate == pytest.approx(1.0, abs=1e-12)
    d2 = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])  # x_hat=1 serves both: R = 0
    r = rate_distortion(p, d2, 0.0)
    assert r.rate == pytest.approx(0.0, abs=1e-12) and r.distortion == 0


def test_letters_with_zero_probability_and_rectangular_distortion():
    p = np.array([0.3, 0.0, 0.7])
    d = np.array([[0.0, 1.0, 0.4, 2.0], [5.0, 5.0, 5.0, 5.0], [1.0, 0.0, 0.4, 2.0]])
    r = rate_distortion(p, d, 0.2)
    ref = rate_distortion([0.3, 0.7], d[[0, 2]], 0.2)
    assert r.rate == pytest.approx(ref.rate, abs=1e-12)
    assert r.test_channel.shape == (3, 4)
    np.testing.assert_allclose(r.test_channel.sum(axis=1), 1.0)


def test_bad_inputs_are_clear_errors():
    with pytest.raises(lk.InvalidDistributionError, match="'p'"):
        rate_distortion([0.5, 0.6], "hamming", 0.1)
    with pytest.raises(lk.InvalidParameterError, match=r"'distortion'.*one row per source"):
        rate_distortion([0.5, 0.5], np.ones((3, 2)), 0.1)
    with pytest.raises(lk.InvalidParameterError, match=r"'distortion'.*nonnegative"):
        rate_distortion([0.5, 0.5], [[0, -1], [1, 0]], 0.1)
    with pytest.raises(lk.InvalidParameterError, match=r"'distortion'.*nonnegative"):
        rate_distortion([0.5, 0.5], [[0, np.nan], [1, 0]], 0.1)
    with pytest.raises(lk.InvalidParameterError, match=r"'distortion'.*one of"):
        rate_distortion([0.5, 0.5], "manhattan", 0.1)
    with pytest.raises(lk.InvalidParameterError, match="'D'"):
        rate_distortion([0.5, 0.5], "hamming", -0.1)
    with pytest.raises(lk.InvalidParameterError, match="'tol'"):
        rate_distortion([0.5, 0.5], "hamming", 0.1, tol=1e-16)
    with pytest.raises(lk.InvalidParameterError, match="'D_values'"):
        rate_distortion_curve([0.5, 0.5], "hamming", [[0.1]])
    with pytest.raises(lk.InfeasibleError, match="D_values"):
        rate_distortion_curve([0.5, 0.5], np.ones((2, 2)), [0.5, 1.0])
    with pytest.raises(lk.InvalidParameterError, match="'name'"):
        distortion_matrix("cosine", 3)
    with pytest.raises(lk.InvalidParameterError, match="'q'"):
        binary_entropy(1.5)


# ---------------------------------------------------------------- second algorithm
def _cvxpy_rd(p, d, D):
    cp = pytest.importorskip("cvxpy")
    n, m = d.shape
    J = cp.Variable((n, m), nonneg=True)
    q = cp.sum(J, axis=0)
    obj = cp.sum(cp.rel_entr(J, cp.multiply(np.repeat(p[:, None], m, axis=1), cp.vstack([q] * n))))
    prob = cp.Problem(cp.Minimize(obj), [cp.sum(J, axis=1) == p, cp.sum(cp.multiply(J, d)) <= D])
    prob.solve(solver="CLARABEL")
    return prob.value / math.log(2)


@pytest.mark.parametrize("seed", range(5))
def test_random_rectangular_instances_against_a_generic_convex_solver(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(2, 6)), int(rng.integers(2, 7))
    p = rng.dirichlet(np.ones(n))
    d = rng.uniform(0, 1, (n, m))
    D_min, D_max = p @ d.min(axis=1), (p @ d).min()
    D = D_min + rng.uniform(0.1, 0.9) * (D_max - D_min)
    r = rate_distortion(p, d, D, tol=1e-10)
    ref = _cvxpy_rd(p, d, D)
    assert r.lower - 1e-7 <= ref <= r.upper + 1e-7  # the solver's own accuracy is ~1e-8
    assert r.gap <= 1e-10
    # the returned test channel really has this rate and distortion
    assert lk.mutual_information(p, r.test_channel) == pytest.approx(r.rate, abs=1e-13)
    assert float(p @ (r.test_channel * d).sum(axis=1)) <= D + 1e-14


def test_agrees_with_dit_where_dit_is_accurate():
    dit = pytest.importorskip("dit")
    from dit.rate_distortion import RDCurve

    curve = RDCurve(dit.Distribution(["0", "1"], [0.3, 0.7]), beta_num=11, beta_max=5, method="ba")
    betas, R, Dd = (np.asarray(a) for a in (curve.betas, curve.rates, curve.distortions))
    ours = rate_distortion_curve([0.3, 0.7], "hamming", Dd, tol=1e-12)
    # dit's points are achievable, so never below the curve ...
    assert np.all(R >= ours.lower - 1e-12)
    # ... and on it once its iterations converge (large beta)
    np.testing.assert_allclose(R[betas >= 2], ours.rate[betas >= 2], atol=1e-9)


# ---------------------------------------------------------------- properties
@settings(max_examples=25, deadline=None)
@given(p=pmfs(st.integers(2, 5)), t=st.floats(0.0, 1.0), seed=st.integers(0, 2**16))
def test_properties(p, t, seed):
    """0 <= R(D) <= H(p), certificate valid, curve nonincreasing and convex."""
    d = np.random.default_rng(seed).uniform(0, 1, (p.size, 3))
    D_min, D_max = p @ d.min(axis=1), (p @ d).min()
    Ds = D_min + np.array([t, (t + 1) / 2, 1.0]) * (D_max - D_min)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = rate_distortion_curve(p, d, Ds, tol=1e-9)
    assert np.all(c.gap <= 1e-9) and np.all(c.lower <= c.upper)
    assert np.all(c.rate >= 0) and c.rate[0] <= lk.entropy(p) + 1e-12
    assert c.rate[0] >= c.rate[1] - 1e-9 >= c.rate[2] - 2e-9
    # convexity: the midpoint lies below the chord
    assert c.rate[1] <= 0.5 * (c.rate[0] + c.rate[2]) + 2e-9


def test_curve_matches_pointwise_solves_and_keeps_order():
    p = np.random.default_rng(7).dirichlet(0.5 * np.ones(6))
    Ds = np.array([0.3, 0.05, 0.5, 0.0, 0.2])
    c = rate_distortion_curve(p, "hamming", Ds, tol=1e-11)
    for D, rate in zip(Ds, c.rate, strict=True):
        assert rate == pytest.approx(rate_distortion(p, "hamming", D, tol=1e-11).rate, abs=2e-11)
    assert c.D_max == pytest.approx(1 - p.max()) and c.D_min == 0


def test_straight_piece_of_the_curve_is_certified():
    """x_hat = 2 costs 0.5 for both letters: R(D) is linear between the two regimes."""
    p = np.array([0.5, 0.5])
    d = np.array([[0.0, 1.0, 0.3], [1.0, 0.0, 0.3]])
    for D in (0.05, 0.1, 0.2, 0.25):
        r = rate_distortion(p, d, D, tol=1e-10)
        assert r.converged and r.gap <= 1e-10
        assert r.distortion <= D + 1e-15


def test_curve_through_d_min_and_d_max_regression():
    """Found by the property test in CI: a curve whose last point is D_max up to rounding
    warm-started the next point from a near-zero slope, no slope reached D and the solver
    crashed; and D_min summed in another order sat one ulp above the engine's D_min."""
    p = np.array(
        [
            0.40038770736714524,
            0.23991579697719626,
            0.09120040306521236,
            0.21759125482885708,
            0.05090483776158901,
        ]
    )
    d = np.random.default_rng(0).uniform(0, 1, (5, 3))
    D_min, D_max = p @ d.min(axis=1), (p @ d).min()
    Ds = D_min + np.array([0.0, 0.5, 1.0]) * (D_max - D_min)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = rate_distortion_curve(p, d, Ds, tol=1e-9)
    assert np.all(c.gap <= 1e-9)
    for D, rate in zip(Ds, c.rate, strict=True):
        assert rate == pytest.approx(rate_distortion(p, d, D, tol=1e-11).rate, abs=2e-9)


# ---------------------------------------------------------------- curves (issue 18)
def _dit_like_points(p, n=21):
    """Distortions spread like dit's RDCurve points: D_max, then down towards D_min."""
    D_max = 1 - float(np.max(p))
    return np.concatenate(
        [[D_max * 1.4, D_max * 1.0001, D_max * 0.997], np.geomspace(D_max * 0.95, 0.012, n - 3)]
    )


@pytest.mark.parametrize("q", [0.3, 0.11])
def test_curve_binary_hamming_every_point_certified(q):
    Ds = np.linspace(0.0, 0.6, 21)
    c = rate_distortion_curve([q, 1 - q], "hamming", Ds, tol=1e-10)
    truth = np.array([_h(q) - _h(D) if D < min(q, 1 - q) else 0.0 for D in Ds])
    assert np.all(c.converged) and np.all(c.gap <= 1e-10)
    assert np.all(c.lower - 1e-13 <= truth) and np.all(truth <= c.upper + 1e-13)


@pytest.mark.parametrize("m", [4, 16])
def test_curve_uniform_mary_hamming_every_point_certified(m):
    Ds = _dit_like_points(np.full(m, 1 / m))
    c = rate_distortion_curve(np.full(m, 1 / m), "hamming", Ds, tol=1e-10)
    Dc = np.minimum(Ds, 1 - 1 / m)
    truth = np.array(
        [math.log2(m) - _h(D) - D * math.log2(m - 1) if D < 1 - 1 / m else 0.0 for D in Dc]
    )
    assert np.all(c.converged) and np.all(c.gap <= 1e-10)
    assert np.all(c.lower - 1e-12 <= truth) and np.all(truth <= c.upper + 1e-12)


def test_curve_16_letters_warm_equals_cold_monotone_convex():
    p = np.random.default_rng(7).dirichlet(0.5 * np.ones(16))
    Ds = np.sort(_dit_like_points(p))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = rate_distortion_curve(p, "hamming", Ds, tol=1e-10)
    assert np.all(c.converged) and np.all(c.gap <= 1e-10)
    for i in (0, 5, 12, 18, 20):  # cold-started single solves agree within the gaps
        r = rate_distortion(p, "hamming", Ds[i], tol=1e-10)
        assert abs(r.rate - c.rate[i]) <= 2e-10
        assert r.lower <= c.upper[i] + 1e-15 and c.lower[i] <= r.upper + 1e-15
    assert np.all(np.diff(c.upper) <= 1e-10)  # nonincreasing in D
    # convex: every point lies below the chord of its neighbours (certified bounds)
    lam = (Ds[1:-1] - Ds[:-2]) / (Ds[2:] - Ds[:-2])
    chord = (1 - lam) * c.upper[:-2] + lam * c.upper[2:]
    assert np.all(c.lower[1:-1] <= chord + 1e-12)


def test_curve_16_letters_against_dit_loosely():
    dit = pytest.importorskip("dit")
    from dit.rate_distortion import RDCurve

    p = np.random.default_rng(11).dirichlet(np.ones(16))
    np.random.seed(0)  # noqa: NPY002 -- dit's restarts draw from the global generator
    ref = RDCurve(dit.Distribution([chr(97 + i) for i in range(16)], p), beta_num=21, method="ba")
    Dd, R = np.maximum(np.asarray(ref.distortions), 0.0), np.asarray(ref.rates)
    ours = rate_distortion_curve(p, "hamming", Dd, tol=1e-10)
    assert np.all(ours.gap <= 1e-10)
    assert np.all(R >= ours.lower - 1e-9)  # dit's points are achievable: never below R(D)
    np.testing.assert_allclose(R, ours.rate, atol=1e-3)  # dit stops after 100 iterations


def test_curve_iteration_limit_is_reported():
    p = np.random.default_rng(3).dirichlet(0.5 * np.ones(16))
    Ds = np.array([0.05, 0.3, 0.5])
    with pytest.warns(lk.ConvergenceWarning, match=r"max_iter=1 .*largest certified gap"):
        c = rate_distortion_curve(p, "hamming", Ds, tol=1e-12, max_iter=1)
    assert not c.converged.all() and c.status is lk.results.Status.ITERATION_LIMIT
    bad = ~c.converged
    assert np.all(c.gap[bad] > 1e-12) and np.all(np.isfinite(c.gap))
    exact = rate_distortion_curve(p, "hamming", Ds, tol=1e-11)
    assert exact.status is lk.results.Status.OPTIMAL
    assert lk.results.to_jsonable(exact)["status"] == "optimal"
    assert np.all(c.lower <= exact.upper + 1e-12) and np.all(exact.lower <= c.upper + 1e-12)
    with pytest.warns(lk.ConvergenceWarning, match=r"max_iter=1 with certified gap"):
        r = rate_distortion(p, "hamming", c.D_max - 1e-3, tol=1e-12, max_iter=1)
    assert r.status == lk.results.Status.ITERATION_LIMIT and r.gap > 1e-12
