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


# outputs (lower, upper, bits) of the implementation before the capped/tight evaluation
# was sped up (warm starts, early stop at the certified gap): random sources of 2-4
# letters, R1 "tight" and a number above R(Q, D1)
_RECORDED = [
    (
        [0.536965, 0.463035],
        "squared",
        "hamming",
        0.21579195638175355,
        0.05088565722650606,
        "tight",
        0.7059064522994282,
        0.7059064522994283,
    ),
    (
        [0.536965, 0.463035],
        "squared",
        "hamming",
        0.21579195638175355,
        0.05088565722650606,
        0.38283033152800827,
        0.7059064522994282,
        0.7059064522994283,
    ),
    (
        [0.069782, 0.700641, 0.22957700000000003],
        "abs",
        "abs",
        0.09702270452608422,
        0.03581354487013189,
        "tight",
        0.8639784946220486,
        0.8639784946220492,
    ),
    (
        [0.069782, 0.700641, 0.22957700000000003],
        "abs",
        "abs",
        0.09702270452608422,
        0.03581354487013189,
        0.6342268950730785,
        0.8639784946220486,
        0.8639784946220492,
    ),
    (
        [0.146419, 0.760151, 0.09343000000000001],
        "squared",
        "hamming",
        0.08187887584502311,
        0.11161842260955285,
        "tight",
        0.5464100928019925,
        0.5464100928019926,
    ),
    (
        [0.146419, 0.760151, 0.09343000000000001],
        "squared",
        "hamming",
        0.08187887584502311,
        0.11161842260955285,
        0.5574082264899188,
        0.5464100928019925,
        0.5464100928019926,
    ),
    (
        [0.193732, 0.110343, 0.586929, 0.10899599999999998],
        "abs",
        "hamming",
        0.3788107409716688,
        0.11067861447620513,
        "tight",
        0.9345752117764157,
        0.9345752117764161,
    ),
    (
        [0.193732, 0.110343, 0.586929, 0.10899599999999998],
        "abs",
        "hamming",
        0.3788107409716688,
        0.11067861447620513,
        0.4819973268804005,
        0.9319622050009285,
        0.9319622054595367,
    ),
    (
        [0.457482, 0.5425180000000001],
        "squared",
        "abs",
        0.26927601487683916,
        0.19853164229305112,
        "tight",
        0.2757959028241891,
        0.2757959028241891,
    ),
    (
        [0.457482, 0.5425180000000001],
        "squared",
        "abs",
        0.26927601487683916,
        0.19853164229305112,
        0.3276754433182827,
        0.2757959028241891,
        0.2757959028241891,
    ),
    (
        [0.661142, 0.057744, 0.281114],
        "squared",
        "squared",
        0.38790988029909584,
        0.20708047713103053,
        "tight",
        0.6056450468730701,
        0.60564504687328,
    ),
    (
        [0.661142, 0.057744, 0.281114],
        "squared",
        "squared",
        0.38790988029909584,
        0.20708047713103053,
        0.5793152732518918,
        0.6018164369561354,
        0.6018164370715262,
    ),
    (
        [0.003167, 0.743603, 0.25322999999999996],
        "hamming",
        "abs",
        0.20492079388095955,
        0.08980210886491942,
        "tight",
        0.39145626819588597,
        0.39145626819588825,
    ),
    (
        [0.003167, 0.743603, 0.25322999999999996],
        "hamming",
        "abs",
        0.20492079388095955,
        0.08980210886491942,
        0.16169036191729058,
        0.39122014753460066,
        0.39122014787361004,
    ),
    (
        [0.130043, 0.465049, 0.217687, 0.18722100000000008],
        "squared",
        "squared",
        0.8700702713215855,
        0.18067220339683954,
        "tight",
        1.0041892023965557,
        1.0041892023965562,
    ),
    (
        [0.130043, 0.465049, 0.217687, 0.18722100000000008],
        "squared",
        "squared",
        0.8700702713215855,
        0.18067220339683954,
        0.08642015817191784,
        1.0041892023965557,
        1.0041892023965562,
    ),
    (
        [0.84258, 0.15742],
        "abs",
        "abs",
        0.1067552266756795,
        0.0671058905657399,
        "tight",
        0.2730721085621387,
        0.2730721085621387,
    ),
    (
        [0.84258, 0.15742],
        "abs",
        "abs",
        0.1067552266756795,
        0.0671058905657399,
        0.21931178651219096,
        0.2730721085621387,
        0.2730721085621387,
    ),
    (
        [0.903815, 0.041416, 0.05476899999999996],
        "hamming",
        "squared",
        0.045067506604725034,
        0.09335054607946963,
        "tight",
        0.2664759077979446,
        0.2664759077979883,
    ),
    (
        [0.903815, 0.041416, 0.05476899999999996],
        "hamming",
        "squared",
        0.045067506604725034,
        0.09335054607946963,
        0.4210560301383145,
        0.24393682359367347,
        0.24393682359367347,
    ),
    (
        [0.160369, 0.13023, 0.709401],
        "squared",
        "abs",
        0.3449990811867951,
        0.16665121546209222,
        "tight",
        0.4719981646554102,
        0.47199816465541033,
    ),
    (
        [0.160369, 0.13023, 0.709401],
        "squared",
        "abs",
        0.3449990811867951,
        0.16665121546209222,
        0.322305527706404,
        0.4704232622337296,
        0.4704232624938886,
    ),
    (
        [0.3369, 0.503949, 0.042282, 0.116869],
        "hamming",
        "hamming",
        0.3099612927650157,
        0.1498774969454041,
        "tight",
        0.7361742039654237,
        0.7361742039654287,
    ),
    (
        [0.3369, 0.503949, 0.042282, 0.116869],
        "hamming",
        "hamming",
        0.3099612927650157,
        0.1498774969454041,
        0.2947376229388248,
        0.7361742039654237,
        0.7361742039654287,
    ),
    (
        [0.326124, 0.6738759999999999],
        "hamming",
        "squared",
        0.23412372544179155,
        0.039176410633378,
        "tight",
        0.6724139339713434,
        0.6724139339713436,
    ),
    (
        [0.326124, 0.6738759999999999],
        "hamming",
        "squared",
        0.23412372544179155,
        0.039176410633378,
        0.3221896500394079,
        0.6724139339713434,
        0.6724139339713436,
    ),
    (
        [0.249312, 0.362567, 0.38812100000000005],
        "hamming",
        "hamming",
        0.34389340256329964,
        0.3214737361021035,
        "tight",
        0.3327956095475413,
        0.3327956095475413,
    ),
    (
        [0.249312, 0.362567, 0.38812100000000005],
        "hamming",
        "hamming",
        0.34389340256329964,
        0.3214737361021035,
        0.44814569515129266,
        0.33279560954754145,
        0.33279560954754145,
    ),
    (
        [0.192289, 0.293849, 0.513862],
        "abs",
        "squared",
        0.4311258593994926,
        0.3501609643252484,
        "tight",
        0.3929105094738067,
        0.39291050947380723,
    ),
    (
        [0.192289, 0.293849, 0.513862],
        "abs",
        "squared",
        0.4311258593994926,
        0.3501609643252484,
        0.26354214009411764,
        0.39242252257156046,
        0.392422522735634,
    ),
    (
        [0.126897, 0.365376, 0.264517, 0.24321000000000004],
        "hamming",
        "abs",
        0.23659341377762017,
        0.11036164321597491,
        "tight",
        1.3253125048307082,
        1.3253125048307084,
    ),
    (
        [0.126897, 0.365376, 0.264517, 0.24321000000000004],
        "hamming",
        "abs",
        0.23659341377762017,
        0.11036164321597491,
        0.765750443218174,
        1.3253125048307082,
        1.3253125048307084,
    ),
    (
        [0.151739, 0.8482609999999999],
        "abs",
        "abs",
        0.051538783922255284,
        0.04625097114715714,
        "tight",
        0.3439224425405997,
        0.3439224425405997,
    ),
    (
        [0.151739, 0.8482609999999999],
        "abs",
        "abs",
        0.051538783922255284,
        0.04625097114715714,
        0.5192613815141646,
        0.3439224425405994,
        0.3439224425405999,
    ),
    (
        [0.353831, 0.161444, 0.48472499999999996],
        "abs",
        "squared",
        0.523607241992747,
        0.17983647333968938,
        "tight",
        0.7814103690249454,
        0.7814103690249463,
    ),
    (
        [0.353831, 0.161444, 0.48472499999999996],
        "abs",
        "squared",
        0.523607241992747,
        0.17983647333968938,
        0.3033289230982107,
        0.7814103690249453,
        0.7814103690249463,
    ),
    (
        [0.071348, 0.365732, 0.56292],
        "abs",
        "squared",
        0.40299118883472834,
        0.10559173396874316,
        "tight",
        0.73498853736488,
        0.73498853736488,
    ),
    (
        [0.071348, 0.365732, 0.56292],
        "abs",
        "squared",
        0.40299118883472834,
        0.10559173396874316,
        0.14330400636244922,
        0.7349885373648798,
        0.73498853736488,
    ),
    (
        [0.272236, 0.257833, 0.447434, 0.0224970000000001],
        "abs",
        "abs",
        0.2731202401379102,
        0.13494721160367898,
        "tight",
        0.9772544100443702,
        0.9772544100443702,
    ),
    (
        [0.272236, 0.257833, 0.447434, 0.0224970000000001],
        "abs",
        "abs",
        0.2731202401379102,
        0.13494721160367898,
        0.656379116894176,
        0.9772544100443702,
        0.9772544100443702,
    ),
]


@pytest.mark.parametrize("case", _RECORDED)
def test_recorded_values_agree_within_certified_gaps(case):
    p, d1, d2, D1, D2, R1, lower, upper = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lk.errors.ConvergenceWarning)
        r = successive_refinement_rate(p, d1, d2, D1, D2, R1=R1)
    assert r.lower <= upper + 1e-12 and lower <= r.upper + 1e-12  # the intervals overlap
    assert r.sum_rate == pytest.approx(upper, abs=1e-9)
    assert r.gap <= 1e-9
    dm1 = distortion_matrix(d1, len(p))
    dm2 = distortion_matrix(d2, len(p))
    _check_channel(r, p, dm1, dm2, D1, D2)


def test_conditional_warm_start_from_a_neighbour_agrees():
    """The conditional problem warm-started from a neighbouring source type (as the cipher
    region searches do) certifies the same value as a cold start."""
    from leakage.ratedistortion._refinement import _Ctx, conditional

    d1 = distortion_matrix("abs", 4)
    d2 = distortion_matrix("squared", 4)
    D1, D2, tol = 0.4, 0.25, 1e-9
    shared = _Ctx(np.full(4, 0.25), d1, d2, D1, D2, tol, 100_000, "t")
    for p in ([0.4, 0.3, 0.2, 0.1], [0.41, 0.29, 0.2, 0.1], [0.3, 0.3, 0.3, 0.1]):
        p = np.asarray(p)
        cold = _Ctx(p, d1, d2, D1, D2, tol, 100_000, "t")
        rd1 = cold.rd(d1, D1)
        up_c, lo_c, _, _ = conditional(cold, rd1[2])
        warm = _Ctx(p, d1, d2, D1, D2, tol, 100_000, "t")
        warm.warm = shared.warm  # carries the previous source's slope and outputs
        up_w, lo_w, V_w, _ = conditional(warm, rd1[2])
        assert lo_c <= up_c + 1e-15 and lo_w <= up_w + 1e-15
        assert up_c - lo_c <= tol and up_w - lo_w <= tol
        assert lo_w <= up_c + 1e-12 and lo_c <= up_w + 1e-12
        # the channel is feasible: E d2 <= D2
        e2 = float(p @ ((rd1[2][:, :, None] * V_w).sum(axis=1) * d2).sum(axis=1))
        assert e2 <= D2 + 1e-10
    assert "cond" in shared.warm


def test_batched_letters_match_one_slope_per_letter():
    """The vectorized evaluation of every first-layer letter at one slope equals the
    per-letter :class:`Slope` (same kernel, per-letter normalization)."""
    from leakage.ratedistortion._blahut import Slope
    from leakage.ratedistortion._refinement import _cond_slopes

    rng = np.random.default_rng(3)
    d2 = distortion_matrix("squared", 4)
    dd = d2 - d2.min(axis=1, keepdims=True)
    post = rng.dirichlet(np.ones(4), size=3)
    qs = rng.dirichlet(np.ones(4), size=3)
    _K, _z, c, V, dist, log_z = _cond_slopes(0.7, qs, post, dd, d2)
    for i in range(3):
        s = Slope(0.7, qs[i], dd, post[i], d2)
        np.testing.assert_allclose(c[i], s.c, rtol=1e-13)
        np.testing.assert_allclose(V[i], s.Q, rtol=1e-13, atol=1e-16)
        assert dist[i] == pytest.approx(s.distortion, rel=1e-13)
        assert log_z[i] == pytest.approx(s.log_z, rel=1e-13, abs=1e-15)


@pytest.mark.parametrize(
    "case",
    [
        ([0.4, 0.3, 0.2, 0.1], "abs", "squared", 0.4, 0.25),
        ([0.3, 0.7], "hamming", "hamming", 0.2, 0.1),
        ([0.5, 0.3, 0.2], "squared", "hamming", 0.4, 0.2),
        ([0.25, 0.25, 0.3, 0.2], "hamming", "abs", 0.3, 0.2),
    ],
)
def test_conditional_newton_agrees_with_the_bracketing_search(case, monkeypatch):
    """The joint Newton solve of the conditional problem (all letters and the slope at
    once) and the per-letter bracketing search it falls back to certify overlapping
    intervals, each within the target gap, with feasible channels."""
    from leakage.ratedistortion import _refinement as rf

    p, d1, d2, D1, D2 = case
    p = np.asarray(p, float)
    dm1, dm2 = distortion_matrix(d1, p.size), distortion_matrix(d2, p.size)
    tol = 1e-9
    out = {}
    solved = []
    newton = rf._cond_newton

    def spy(*args, **kwargs):
        got = newton(*args, **kwargs)
        solved.append(got is not None)
        return got

    for mode in ("newton", "search"):
        monkeypatch.setattr(rf, "_cond_newton", spy if mode == "newton" else lambda *a: None)
        ctx = rf._Ctx(p, dm1, dm2, D1, D2, tol, 100_000, "t")
        rd1 = ctx.rd(dm1, D1)
        up, lo, V, _beta = rf.conditional(ctx, rd1[2])
        assert lo <= up + 1e-15 and up - lo <= tol / 4 + 1e-15
        e2 = float(p @ ((rd1[2][:, :, None] * V).sum(axis=1) * dm2).sum(axis=1))
        assert e2 <= D2 * (1 + 1e-12) + 1e-15
        np.testing.assert_allclose(V.sum(axis=2), 1.0, atol=1e-12)
        # the returned upper bound is the exact conditional rate of the returned channel
        Qj = rd1[2][:, :, None] * V
        i1, i12 = rf.joint_info(p, Qj)
        assert up == pytest.approx(i12 - i1, abs=1e-12)
        out[mode] = (up, lo)
    assert solved == [True]  # the cold Newton start converged (no fallback needed)
    (un, ln), (us, ls) = out["newton"], out["search"]
    assert ln <= us + 1e-12 and ls <= un + 1e-12
