"""Bad and extreme inputs (issue 16): a specific error naming the argument, or a right number.

One table of calls that must raise (exception type, message fragment), then the values
that must come out right where a number used to come out wrong, then property tests that
feed random shapes and NaN / inf / subnormal / huge entries to every public measure:
either a :class:`leakage.LeakageError`, or a finite result that satisfies the measure's
invariants. The cipher, release and mechanism cases live in ``test_bad_inputs_cipher.py``
and ``test_bad_inputs_release.py``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom

import leakage as lk
from leakage.hypothesis import design_binary, design_mary, optimal_mechanism, simulate_test
from leakage.hypothesis.simulate import _exact_binary
from leakage.ratedistortion import distortion_matrix, rate_distortion

P = [0.5, 0.5]
W = np.array([[0.9, 0.1], [0.2, 0.8]])
PS3 = [(0.5, 0.3, 0.2), (0.2, 0.3, 0.5), (0.3, 0.4, 0.3)]
PS2 = [(0.55, 0.45), (0.95, 0.05)]
IP, ID = lk.InvalidParameterError, lk.InvalidDistributionError

CASES = [
    # a base in (0, 1) turned every leakage negative
    (
        "base 1e-300",
        lambda: lk.mutual_information(P, W, base=1e-300),
        IP,
        "must be a finite real number > 1",
    ),
    ("base 0.5", lambda: lk.entropy(P, base=0.5), IP, "'base' argument"),
    ("base 1", lambda: lk.maximal_leakage(P, W, base=1), IP, "'base' argument"),
    ("base nan", lambda: lk.sibson_mutual_information(P, W, 2.0, base=math.nan), IP, "'base'"),
    # solver limits: positive integers, whatever path the solver takes
    ("max_cells 0", lambda: optimal_mechanism(PS2, 0.01, max_cells=0), IP, "'max_cells'"),
    ("max_iter -1", lambda: optimal_mechanism(PS2, 0.01, max_iter=-1), IP, "'max_iter'"),
    ("rtol 0", lambda: optimal_mechanism(PS2, 0.01, rtol=0), IP, "'rtol'"),
    ("n_candidates 0", lambda: design_mary(PS3, 0.01, n_candidates=0), IP, "'n_candidates'"),
    ("n_candidates -3", lambda: design_mary(PS3, 0.01, n_candidates=-3), IP, "'n_candidates'"),
    (
        "n_candidates huge",
        lambda: design_mary(PS3, 0.01, n_candidates=10**9),
        IP,
        "above the limit",
    ),
    ("V without w0", lambda: design_mary(PS3, 0.01, V=[[1.0]]), IP, "explicit 'w0'"),
    ("V nan", lambda: design_mary(PS3, 0.01, w0=[0.5, 0.5], V=[[math.nan]]), IP, "finite real"),
    ("V text", lambda: design_mary(PS3, 0.01, w0=[0.5, 0.5], V=[["a"]]), IP, "real matrix"),
    ("mary rng text", lambda: design_mary(PS3, 0.01, rng="x"), IP, "'rng' argument"),
    ("mary rng negative", lambda: design_mary(PS3, 0.01, rng=-5), IP, "nonnegative integer seed"),
    ("binary text", lambda: design_binary(["a", "b"], [0.5, 0.5], 0.1, 0.1), ID, "'p1'"),
    ("binary text p2", lambda: design_binary([0.5, 0.5], [None, 1], 0.1, 0.1), ID, "'p2'"),
    (
        "binary lengths",
        lambda: design_binary([0.5, 0.5], [0.2, 0.3, 0.5], 0.1, 0.1),
        IP,
        "same length",
    ),
    # sizes are checked before anything is allocated
    ("distortion 1e9", lambda: distortion_matrix("hamming", 10**9), IP, "above the limit"),
    ("distortion n*m", lambda: distortion_matrix("abs", 100_000, 100_000), IP, r"'n \* m'"),
    ("distortion 0", lambda: distortion_matrix("hamming", 0), IP, "integer >= 1"),
    ("distortion 2.5", lambda: distortion_matrix("hamming", 2.5), IP, "'n' argument"),
    (
        "simulate n 2^60",
        lambda: simulate_test(PS2, np.eye(2), n=2**60, trials=10),
        IP,
        "above the limit",
    ),
    ("simulate trials", lambda: simulate_test(PS2, np.eye(2), n=10, trials=10**12), IP, "'trials'"),
    ("simulate n text", lambda: simulate_test(PS2, np.eye(2), n="ten"), IP, "'n' argument"),
    ("simulate rng", lambda: simulate_test(PS2, np.eye(2), n=10, trials=10, rng="x"), IP, "'rng'"),
    (
        "simulate seed -5",
        lambda: simulate_test(PS2, np.eye(2), n=10, trials=10, rng=-5),
        IP,
        "'rng'",
    ),
    # a complex distortion was cast (imaginary part dropped) with only a warning
    (
        "complex distortion",
        lambda: rate_distortion(P, np.eye(2) * (1 + 1j), 0.1),
        IP,
        "finite real",
    ),
    (
        "text distortion",
        lambda: rate_distortion(P, [["a", "b"], ["c", "d"]], 0.1),
        IP,
        "finite real",
    ),
]


@pytest.mark.parametrize(("label", "call", "exc", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_a_specific_error(label, call, exc, fragment):
    with pytest.raises(exc, match=fragment) as info:
        call()
    assert isinstance(info.value, lk.LeakageError)
    assert ":" in str(info.value)  # "<function>: ..."


# ------------------------------------------------------------ numbers that were wrong
def test_subnormal_probability_gives_the_right_information_not_inf():
    p = [5e-324, 1.0]
    i = lk.mutual_information(p, np.eye(2))
    # I(X;X) = H(p) = 5e-324 log2(1/5e-324) (+ a term 1e-324-small): about 5.3e-321 bits
    assert math.isfinite(i) and 5e-321 < i < 6e-321
    assert i == pytest.approx(lk.entropy(p), rel=1e-2)
    assert lk.maximal_leakage(p, np.eye(2)) == 1.0
    for a in (0.5, 2.0, math.inf):
        assert 0.0 <= lk.sibson_mutual_information(p, np.eye(2), a) <= 1.0


def test_tiny_order_sibson_is_nonnegative_and_linear_in_alpha():
    # I_a ~ a * (-log sum_y prod_x W(y|x)^p(x)) as a -> 0: never -a * L as before
    slope = -math.log2(sum(np.prod(W[:, y] ** np.array(P)) for y in range(2)))
    for a in (1e-17, 1e-12, 1e-8):
        v = lk.sibson_mutual_information(P, W, a)
        assert v >= 0
        assert v == pytest.approx(a * slope, rel=1e-6)


def test_pointwise_leakage_of_a_letter_never_output_is_masked_not_nan():
    Wz = np.array([[1.0, 0.0], [1.0, 0.0]])
    for m in ("l1", "kl", "chi2", "max_lift"):
        out = lk.pointwise_leakage(P, Wz, measure=m)
        assert out.mask.tolist() == [False, True] and not np.isnan(out.data).any()
        assert out.max() == 0.0


def test_pointwise_leakage_with_a_subnormal_prior_is_finite_and_exact():
    p = [5e-324, 1.0]
    # the output 0 reveals x = 0: posterior (1, 0), lift 1 / 5e-324, sqrt(chi2) ~ 1/sqrt(p0)
    lift = lk.pointwise_leakage(p, np.eye(2), measure="max_lift", base=math.e)
    assert lift[0] == pytest.approx(-math.log(5e-324), rel=1e-12) and lift[1] == 0.0
    chi = lk.pointwise_leakage(p, np.eye(2), measure="chi2")
    assert math.isfinite(chi[0]) and chi[0] == pytest.approx(1 / math.sqrt(5e-324), rel=1e-9)


def test_simulate_huge_n_draws_counts_and_the_exact_tail_needs_no_big_array():
    ps = [(0.5, 0.5), (0.45, 0.55)]
    r = simulate_test(ps, np.eye(2), n=10**12, trials=20, rng=1)
    assert r.ns.tolist() == [10**12] and r.missed.tolist() == [0.0]
    assert r.exact_missed[0] == 0.0  # an exponent of 5e-3 nats over 1e12 samples


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 400),
    st.floats(0.01, 0.99),
    st.floats(-3.0, 3.0),
    st.floats(-3.0, 3.0),
    st.floats(-2000.0, 2000.0),
)
def test_exact_binary_tail_equals_the_sum_over_every_count(n, q, l0, l1, T):
    """The O(1) threshold search against the old sum over k = 0..n."""
    if abs(l1 - l0) < 1e-3:
        return
    llr = np.array([l0, l1])
    kk = np.arange(n + 1)
    dec = n * l0 + kk * (l1 - l0) >= T - 1e-12 * max(abs(T), 1.0)
    brute = float(binom.pmf(kk[dec], n, q).sum())
    assert _exact_binary(n, llr, T, q) == pytest.approx(brute, rel=1e-9, abs=1e-300)


# ------------------------------------------ property tests: every measure, any input
def _nasty_floats():
    return st.one_of(
        st.floats(0.0, 1.0),
        st.sampled_from(
            [
                0.0,
                5e-324,
                1e-310,
                1e-300,
                1.0,
                1.0 - 1e-16,
                math.nan,
                math.inf,
                -0.0,
                -1e-300,
                1e300,
            ]
        ),
    )


@st.composite
def _pairs(draw):
    """A prior and a channel of random shapes: half the time valid (normalized), half
    the time with whatever nasty entries were drawn."""
    nx = draw(st.integers(1, 5))
    ny = draw(st.integers(1, 5))
    p = np.array(draw(st.lists(_nasty_floats(), min_size=nx, max_size=nx)), dtype=float)
    Wm = np.array(
        draw(st.lists(_nasty_floats(), min_size=nx * ny, max_size=nx * ny)), dtype=float
    ).reshape(nx, ny)
    if draw(st.booleans()):
        with np.errstate(all="ignore"):
            p = np.nan_to_num(np.abs(p), nan=1.0, posinf=1.0) + (np.abs(p).sum() == 0)
            p = p / p.sum()
            Wm = np.nan_to_num(np.abs(Wm), nan=1.0, posinf=1.0)
            Wm[Wm.sum(axis=1) == 0] = 1.0
            Wm = Wm / Wm.sum(axis=1, keepdims=True)
    if draw(st.booleans()) and nx > 1:  # a shape mismatch now and then
        p = p[:-1]
    return p, Wm


@settings(max_examples=300, deadline=None)
@given(_pairs(), st.sampled_from([2, math.e, 10]))
def test_every_measure_raises_cleanly_or_satisfies_its_invariants(pair, base):
    p, Wm = pair
    try:
        i = lk.mutual_information(p, Wm, base=base)
        lmax = lk.maximal_leakage(p, Wm, base=base)
        s = [lk.sibson_mutual_information(p, Wm, a, base=base) for a in (0.5, 2.0, 10.0)]
        pw = [
            lk.pointwise_leakage(p, Wm, measure=m, base=base)
            for m in ("chi2", "l1", "kl", "max_lift")
        ]
    except lk.LeakageError:
        return
    cap = math.log(min(np.count_nonzero(p), Wm.shape[1])) / math.log(base)
    tol = 1e-9 * max(1.0, cap)
    assert all(math.isfinite(v) for v in (i, lmax, *s))
    assert -tol <= i <= lmax + tol and lmax <= cap + tol  # 0 <= I <= L <= log min(|X|, |Y|)
    # Sibson is nondecreasing in alpha, with I_1 = I and I_inf = L
    chain = [0.0, s[0], i, s[1], s[2], lmax]
    assert all(a <= b + tol for a, b in itertools.pairwise(chain))
    for v in pw:
        assert not np.isnan(v.filled(0.0)).any() and np.all(v.filled(0.0) >= -tol)


@settings(max_examples=80, deadline=None)
@given(_pairs(), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_data_processing_inequality_on_random_inputs(pair, nz, seed):
    p, Wm = pair
    V = np.random.default_rng(seed).dirichlet(np.ones(nz), size=Wm.shape[1])
    try:
        i_y = lk.mutual_information(p, Wm)
        l_y = lk.maximal_leakage(p, Wm)
    except lk.LeakageError:
        return
    WV = Wm @ V
    assert lk.mutual_information(p, WV) <= i_y + 1e-9
    assert lk.maximal_leakage(p, WV) <= l_y + 1e-9
