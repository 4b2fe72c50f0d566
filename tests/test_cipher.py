"""Leakage regions Λ/Ω, key-rate limits and α* of paper 000 (leakage.cipher)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq
from scipy.special import rel_entr

import leakage as lk
from leakage.cipher._search import ball_interval
from leakage.ratedistortion import binary_entropy as hb
from leakage.ratedistortion import rate_distortion, successive_refinement_rate

LN2 = math.log(2)


def _q_star(p: float, alpha: float) -> float:
    """The type of the KL ball closest to 1/2 (the maximizer of H_b over the ball)."""
    lo, hi = ball_interval(np.array([p, 1 - p]), alpha * LN2)
    return min(max(0.5, lo), hi)


def _remark6(p, D1, D2, r1, r2, alpha):
    """Closed forms (30)-(31) of Remark 6 and the exact (17) for Bernoulli/Hamming."""
    h = hb(_q_star(p, alpha))
    L1 = max(h - hb(D1) - r1, 0.0)
    L2out = max(h - hb(D2) - r1 - r2, 0.0)
    L2 = L1 + max(hb(D1) - hb(D2) - r2, 0.0)  # S - A = H_b(D1) - H_b(D2) is constant
    return L1, L2, L2out


GRID = [
    (0.3, 0.2, 0.1, 0.06, 0.1, 0.05),  # Fig. 2's parameters
    (0.3, 0.2, 0.1, 0.06, 0.1, 0.3),  # beyond alpha*
    (0.4, 0.2, 0.15, 0.0, 0.0, 0.03),
    (0.25, 0.15, 0.05, 0.5, 0.1, 0.02),  # {R - r1}^+ = 0: inner != outer
    (0.35, 0.3, 0.05, 0.1, 0.4, 0.1),  # second key exceeds the refinement rate
    (0.2, 0.1, 0.02, 0.05, 0.02, 0.01),
]


@pytest.mark.parametrize(("p", "D1", "D2", "r1", "r2", "alpha"), GRID)
def test_remark6_closed_forms(p, D1, D2, r1, r2, alpha):
    reg = lk.cipher.leakage_region(
        [p, 1 - p], "hamming", "hamming", D1=D1, D2=D2, R1=None, r1=r1, r2=r2, alpha=alpha
    )
    L1, L2, L2out = _remark6(p, D1, D2, r1, r2, alpha)
    assert reg.L1 == pytest.approx(L1, abs=1e-9)
    assert reg.L2_inner == pytest.approx(L2, abs=1e-9)
    assert reg.L2_outer == pytest.approx(L2out, abs=1e-9)
    # certified: the exact values lie in [value, bound], the bound within tol
    for v, b, exact in ((reg.L1, reg.L1_bound, L1), (reg.L2_inner, reg.L2_inner_bound, L2)):
        assert v - 1e-12 <= exact <= b + 1e-12
        assert b - v <= 1e-6
    assert reg.certified
    assert reg.tight == (abs(L2 - L2out) < 1e-9)
    assert reg.criterion == "jep" and reg.R1_reading == "none"


def test_tight_reading_agrees_for_a_refinable_triplet():
    # one Hamming distortion: every source is successively refinable (Equitz & Cover
    # 1991), so the tight reading is the uncapped one, certified with the same bounds
    kw = dict(D1=0.2, D2=0.1, r1=0.06, r2=0.1, alpha=0.05)
    a = lk.cipher.leakage_region([0.3, 0.7], "hamming", "hamming", R1=None, **kw)
    b = lk.cipher.leakage_region([0.3, 0.7], "hamming", "hamming", R1="tight", **kw)
    for name in ("L1", "L2_inner", "L2_outer", "L1_bound", "L2_inner_bound", "L2_outer_bound"):
        assert getattr(b, name) == getattr(a, name), name
    assert b.certified and b.status == lk.results.Status.OPTIMAL
    assert b.R1_reading == "tight" and b.L2_outer_bound - b.L2_outer <= 1e-6


@settings(max_examples=12, deadline=None)
@given(
    w=st.lists(st.floats(0.05, 1.0), min_size=2, max_size=5),
    f1=st.floats(0.02, 1.2),
    f2=st.floats(0.0, 1.0),
)
def test_hamming_is_successively_refinable_at_every_source(w, f1, f2):
    # the premise of the shortcut above, checked by the two independent solvers of
    # R(Q, R1, D1, D2): with the cap at R(Q, D1) (capped candidates) and with no cap
    p = np.array(w) / sum(w)
    D1 = f1 * (1 - p.max())
    D2 = f2 * D1
    tight = successive_refinement_rate(p, "hamming", "hamming", D1, D2, R1="tight")
    free = successive_refinement_rate(p, "hamming", "hamming", D1, D2, R1=None)
    assert tight.sum_rate == pytest.approx(free.sum_rate, abs=1e-8)


def test_tight_reading_without_one_hamming_distortion_is_not_certified():
    # ternary |x - y| and (x - y)^2: no refinability theorem, no certified cell bound
    kw = dict(D1=0.3, D2=0.2, r1=0.05, r2=0.05, alpha=0.05)
    p = [0.5, 0.3, 0.2]
    with pytest.warns(lk.errors.ConvergenceWarning, match="R1='tight' has no certified"):
        b = lk.cipher.leakage_region(p, "abs", "squared", R1="tight", **kw)
    assert math.isnan(b.L2_outer_bound) and not b.certified
    assert b.status == lk.results.Status.NOT_CERTIFIED
    a = lk.cipher.leakage_region(p, "abs", "squared", R1=None, **kw)
    assert b.L2_outer >= a.L2_outer - 1e-9  # the cap only raises the sum rate


def test_tight_reading_curve_agrees_for_a_refinable_triplet():
    # Bernoulli/Hamming is refinable: R(Q, R(Q, D1), D1, D2) = R(Q, D2) (paper 000, Remark
    # 5), so the tight curve is the certified R1=None curve; and the largest sum rate
    # over the ball is h(q*) - h(D2) at q* = min(0.5, the ball's upper end)
    kw = dict(D1=0.2, D2=0.1, r1=0.06, r2=0.1, alphas=np.linspace(0.0, 0.3, 40))
    a = lk.cipher.leakage_region_curve([0.3, 0.7], "hamming", "hamming", R1=None, **kw)
    b = lk.cipher.leakage_region_curve([0.3, 0.7], "hamming", "hamming", R1="tight", **kw)

    def h(q):
        return -q * np.log2(q) - (1 - q) * np.log2(1 - q)

    def kl_bits(q):
        return float(rel_entr([q, 1 - q], [0.3, 0.7]).sum()) / np.log(2)

    for alpha, x, y in zip(kw["alphas"], a, b, strict=True):
        for name in ("L1", "L2_inner", "L2_outer", "max_rate1", "max_sum_rate"):
            assert getattr(y, name) == pytest.approx(getattr(x, name), abs=1e-9), (alpha, name)
        end = 0.5 if alpha >= kl_bits(0.5) else brentq(lambda t, a=alpha: kl_bits(t) - a, 0.3, 0.5)
        assert y.max_sum_rate == pytest.approx(h(end) - h(0.1), abs=1e-9)
        assert y.status == lk.results.Status.OPTIMAL and y.R1_reading == "tight"
    # the sweep reuses the smaller balls' results: types are not re-gridded per exponent
    assert b[-1].n_evals <= 1500


# Some generated cases stop at max_evals uncertified (e.g. p = 0.125, r1 = 0.25: gap 0.13,
# the same values as before the warning existed); this test is about the order of the
# returned values, the certificates are tested below.
@pytest.mark.filterwarnings("ignore::leakage.errors.ConvergenceWarning")
@settings(max_examples=8, deadline=None)
@given(
    p=st.floats(0.1, 0.45),
    a1=st.floats(0.001, 0.2),
    a2=st.floats(0.001, 0.2),
    r1=st.floats(0.0, 0.3),
)
def test_monotone_in_alpha(p, a1, a2, r1):
    lo, hi = sorted((a1, a2))
    kw = dict(D1=0.7 * p, D2=0.3 * p, R1=None, r1=r1, r2=0.05)
    regs = lk.cipher.leakage_region_curve([p, 1 - p], "hamming", "abs", alphas=[lo, hi], **kw)
    assert regs[0].L1 <= regs[1].L1 + 1e-12
    assert regs[0].L2_inner <= regs[1].L2_inner + 1e-12
    assert regs[0].L2_outer <= regs[1].L2_outer + 1e-12
    # inner L2 >= outer L2 and >= L1 (Remark 5)
    for r in regs:
        assert r.L2_inner >= r.L2_outer - 1e-12 and r.L2_inner >= r.L1 - 1e-12


def test_curve_equals_single_calls():
    kw = dict(D1=0.2, D2=0.1, R1=None, r1=0.06, r2=0.1)
    alphas = [0.2, 0.01, 0.08]
    regs = lk.cipher.leakage_region_curve([0.3, 0.7], "hamming", "hamming", alphas=alphas, **kw)
    for a, r in zip(alphas, regs, strict=True):
        one = lk.cipher.leakage_region([0.3, 0.7], "hamming", "hamming", alpha=a, **kw)
        assert r.alpha == a
        assert r.L1 == pytest.approx(one.L1, abs=1e-10)
        assert r.L2_inner == pytest.approx(one.L2_inner, abs=1e-10)
        assert r.L2_outer == pytest.approx(one.L2_outer, abs=1e-10)
        assert r.certified


def test_expected_distortion_and_remark7():
    kw = dict(D1=0.2, D2=0.1, R1=None, r1=0.06, r2=0.1)
    om = lk.cipher.leakage_region([0.3, 0.7], "hamming", "hamming", alpha=None, **kw)
    assert om.criterion == "expected"
    assert om.L1 == pytest.approx(hb(0.3) - hb(0.2) - 0.06, abs=1e-9)
    assert om.L2_outer == pytest.approx(hb(0.3) - hb(0.1) - 0.16, abs=1e-9)
    # Omega is the limit alpha -> 0 of Lambda (eqs. (111)-(114))
    lam = lk.cipher.leakage_region([0.3, 0.7], "hamming", "hamming", alpha=1e-7, **kw)
    assert lam.L1 == pytest.approx(om.L1, abs=2e-3)
    assert lam.L1 >= om.L1
    # Remark 7: for Bern(0.5), Omega = Lambda at every alpha
    om5 = lk.cipher.leakage_region([0.5, 0.5], "hamming", "hamming", alpha=None, **kw)
    for a in (0.01, 0.1, 1.0):
        l5 = lk.cipher.leakage_region([0.5, 0.5], "hamming", "hamming", alpha=a, **kw)
        assert (l5.L1, l5.L2_inner, l5.L2_outer) == pytest.approx(
            (om5.L1, om5.L2_inner, om5.L2_outer), abs=1e-9
        )


def test_remark4_key_rate_limits():
    kr = lk.cipher.key_rate_limits(
        [0.4, 0.6], "hamming", "hamming", D1=0.2, D2=0.15, R1=None, alpha=0.03
    )
    r1, r2 = kr
    assert round(r1, 3) == 0.162 and round(r2, 3) == 0.112
    lo, _ = ball_interval(np.array([0.4, 0.6]), 0.03 * LN2)
    assert r1 == pytest.approx(hb(lo) - hb(0.2), abs=1e-9)
    assert r2 == pytest.approx(hb(0.2) - hb(0.15), abs=1e-9)
    assert kr.r1_bound <= r1 + 1e-12 and r1 - kr.r1_bound <= 1e-6
    assert kr.r2_bound <= r2 + 1e-12 and r2 - kr.r2_bound <= 1e-6
    # Corollary 4 (alpha=None): the same at P
    e1, _ = lk.cipher.key_rate_limits([0.4, 0.6], "hamming", "hamming", D1=0.2, D2=0.15, R1=None)
    assert e1 == pytest.approx(hb(0.4) - hb(0.2), abs=1e-9)


def test_remark5_refinability_collapses_the_outer_region():
    """Lambda2_out(P, R1, R2, D1, D2) = Lambda1(P, R1 + R2, D2) for Bernoulli/Hamming."""
    for p, a in ((0.3, 0.05), (0.2, 0.2), (0.45, 0.01)):
        two = lk.cipher.leakage_region(
            [p, 1 - p],
            "hamming",
            "hamming",
            D1=0.15,
            D2=0.05,
            R1=None,
            r1=0.1,
            r2=0.2,
            alpha=a,
        )
        one = lk.cipher.leakage_region(
            [p, 1 - p],
            "hamming",
            "hamming",
            D1=0.05,
            D2=0.05,
            R1=None,
            r1=0.3,
            r2=0.0,
            alpha=a,
        )
        assert two.L2_outer == pytest.approx(one.L1, abs=1e-9)


def test_alpha_star_bernoulli():
    for p in (0.3, 0.4, 0.15):
        a = lk.cipher.alpha_star(
            [p, 1 - p], "hamming", "hamming", D1=0.2 * p, D2=0.1 * p, R1=None, r1=0.0, r2=0.0
        )
        exact = 0.5 * math.log2(0.5 / p) + 0.5 * math.log2(0.5 / (1 - p))
        assert a == pytest.approx(exact, abs=1e-6)
    # a key longer than the rate: Lambda1 = 0 at every alpha, no floor
    z = lk.cipher.alpha_star(
        [0.3, 0.7], "hamming", "hamming", D1=0.2, D2=0.1, R1=None, r1=0.5, r2=0.0
    )
    assert z == 0.0


def test_alpha_star_warns_when_its_search_is_not_certified():
    kw = dict(D1=0.3, D2=0.2, R1=None, r1=0.0, r2=0.0, max_evals=2)
    for which in (1, 2):
        with pytest.warns(lk.errors.ConvergenceWarning, match=r"alpha_star: not certified"):
            a = lk.cipher.alpha_star([0.5, 0.3, 0.2], "abs", "squared", which=which, **kw)
        assert a >= 0 and math.isfinite(a)


def test_global_search_on_a_non_concave_rate_distortion_function():
    """R(Q, D) is not concave in Q for this distortion (ERRATA): the certified search must
    still find the maximum a dense brute-force grid finds."""
    d = np.array([[0.0, 1.0, 0.45], [1.0, 0.0, 0.45]])
    P = np.array([0.12, 0.88])
    alpha = 0.3
    lo, hi = ball_interval(P, alpha * LN2)
    qs = np.linspace(lo, hi, 301)
    grid = max(rate_distortion([q, 1 - q], d, 0.2).rate for q in qs)
    reg = lk.cipher.leakage_region(
        P, d, "hamming", D1=0.2, D2=0.1, R1=None, r1=0.0, r2=0.0, alpha=alpha
    )
    assert reg.max_rate1 >= grid - 1e-9
    assert reg.L1_bound >= grid
    assert reg.certified


@pytest.mark.slow
def test_ternary_against_a_brute_force_grid():
    P = np.array([0.5, 0.3, 0.2])
    alpha = 0.05
    reg = lk.cipher.leakage_region(
        P,
        "hamming",
        "hamming",
        D1=0.2,
        D2=0.1,
        R1=None,
        r1=0.06,
        r2=0.1,
        alpha=alpha,
        tol=1e-5,
    )
    # brute force: R(Q, D1) on a grid of the KL ball (ours must be at least as large)
    best = -1.0
    for a in np.linspace(0.3, 0.7, 41):
        for b in np.linspace(0.1, 0.5, 41):
            Q = np.array([a, b, 1 - a - b])
            if Q.min() <= 0 or float(np.sum(Q * np.log2(Q / P))) > alpha:
                continue
            best = max(best, rate_distortion(Q, "hamming", 0.2).rate)
    assert reg.max_rate1 >= best - 1e-9
    assert reg.L1_bound >= best - 0.06
    assert reg.L1_bound - reg.L1 <= 1e-5


def test_errors():
    kw = dict(D1=0.2, D2=0.1, R1=None, r1=0.06, r2=0.1, alpha=0.05)
    with pytest.raises(lk.InvalidParameterError, match=r"'d1'.*row 1"):
        lk.cipher.leakage_region([0.3, 0.7], [[0, 1], [0.5, 1]], "hamming", **kw)
    with pytest.raises(lk.InvalidParameterError, match="full support"):
        lk.cipher.leakage_region([0.0, 1.0], "hamming", "hamming", **kw)
    with pytest.raises(lk.InvalidParameterError, match="'alpha'"):
        lk.cipher.leakage_region([0.3, 0.7], "hamming", "hamming", **{**kw, "alpha": -1})
    with pytest.raises(lk.InfeasibleError, match="source type Q"):
        lk.cipher.leakage_region([0.3, 0.7], "hamming", "hamming", **{**kw, "R1": 0.1})
    with pytest.raises(lk.InvalidParameterError, match="'R1'"):
        lk.cipher.key_rate_limits(
            [0.3, 0.7], "hamming", "hamming", D1=0.2, D2=0.1, R1="loose", alpha=0.1
        )
    with pytest.raises(lk.InvalidParameterError, match="'alphas'"):
        lk.cipher.leakage_region_curve(
            [0.3, 0.7], "hamming", "hamming", D1=0.2, D2=0.1, R1=None, r1=0, r2=0, alphas=[]
        )


def test_leakage_region_curve_accepts_alpha_zero_the_ball_of_p():
    """alpha = 0: the ball is {P}; Lambda_1 = R(P, D1) - r1 exactly (binary Hamming:
    h(0.3) - h(0.2)), certified, and the curve is continuous into alpha > 0."""
    from leakage import entropy

    kw = dict(D1=0.2, D2=0.1, R1=None, r1=0.06, r2=0.1)
    c = lk.cipher.leakage_region_curve([0.3, 0.7], "hamming", "hamming", alphas=[1e-9, 0], **kw)
    exact = entropy([0.3, 0.7]) - entropy([0.2, 0.8]) - 0.06
    assert c[1].alpha == 0 and c[1].certified
    assert c[1].L1 == pytest.approx(exact, abs=1e-12)
    assert c[1].L1 <= c[0].L1 <= c[1].L1 + 1e-4
    with pytest.raises(lk.InvalidParameterError, match=">= 0"):
        lk.cipher.leakage_region_curve([0.3, 0.7], "hamming", "hamming", alphas=[-0.1], **kw)


# --- capped readings (numeric R1): the convex majorant of CappedGibbs -----------------

SQ = np.array([[0.0, 1.0, 4.0], [1.0, 0.0, 1.0], [4.0, 1.0, 0.0]])  # (x - y)^2
HAM3 = 1.0 - np.eye(3)


def _recheck(cg, v, theta, bound, d1, d2, D1, D2, cap):
    """Re-check a CappedGibbs certificate independently: the Gibbs channel of ``theta``
    meets both distortions and the cap at ``v``, and its I(X; X1 X2) is <= bound."""
    from leakage.ratedistortion._blahut import mutual_information_nats as mi

    _, _, _, W1, W2 = cg._eval(v > 0, theta)
    n1 = d1.shape[1]
    W1f = np.zeros((W1.shape[0], n1))
    W1f[:, cg.on1] = W1
    W2f = np.zeros((W1.shape[0], n1, d2.shape[1]))
    W2f[:, cg.on1] = W2
    W = W1f[:, :, None] * W2f
    vv = v[v > 0]
    assert np.allclose(W.sum(axis=(1, 2)), 1.0)
    assert mi(vv, W1f) <= cap + 1e-12
    assert float(vv @ (W1f * d1[v > 0]).sum(axis=1)) <= D1 + 1e-12
    assert float(vv @ (W.sum(axis=1) * d2[v > 0]).sum(axis=1)) <= D2 + 1e-12
    assert mi(vv, W.reshape(W.shape[0], -1)) <= bound + 1e-12


def _capped_setup():
    from leakage.cipher._bounds import CappedGibbs
    from leakage.ratedistortion._refinement import _marginals

    P = np.array([0.5, 0.3, 0.2])
    cap = 0.45 * LN2  # nats; binding (rate1 of the uncapped optimum is 0.56 bits)
    ref = lk.ratedistortion.successive_refinement_rate(
        P, SQ, HAM3, 0.4, 0.2, R1=0.45 * LN2, base=math.e
    )
    assert ref.cap_active
    r1, r2 = _marginals(P, ref.test_channel)
    return P, cap, ref, CappedGibbs(r1, r2, SQ, HAM3, 0.4, 0.2, cap), (r1, r2)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    shape=st.tuples(st.integers(2, 4), st.integers(1, 4), st.integers(1, 4)),
)
def test_capped_dual_hessian_matches_central_differences(seed, shape):
    """CappedGibbs._hessian (closed form) against central differences of the dual's
    gradient, and that gradient (the constraint terms) against differences of the dual,
    at random output distributions, distortions, sources and multipliers."""
    from leakage.cipher._bounds import CappedGibbs

    rng = np.random.default_rng(seed)
    nx, k1, n2 = shape
    r1, r2 = rng.dirichlet(np.ones(k1)), rng.dirichlet(np.ones(n2), size=k1)
    d1, d2 = 2 * rng.random((nx, k1)), 3 * rng.random((nx, n2))
    cg = CappedGibbs(r1, r2, d1, d2, 0.4, 0.3, 0.5)
    v = rng.dirichlet(np.ones(nx))
    rows = v > 0
    vv, th, h = v[rows], 0.05 + 2 * rng.random(3), 1e-5

    def dual(t):
        logA, cons = cg._eval(rows, t)[:2]
        return -(1 + t[0]) * float(vv @ logA) - float(t @ cg.D), cons @ vv - cg.D

    H = cg._hessian(rows, th, vv)
    E = np.eye(3) * h
    Hfd = np.column_stack([(dual(th + e)[1] - dual(th - e)[1]) / (2 * h) for e in E])
    gfd = np.array([(dual(th + e)[0] - dual(th - e)[0]) / (2 * h) for e in E])
    scale = 1.0 + np.abs(H).max()
    assert np.allclose(H, H.T, rtol=0, atol=1e-12 * scale)
    assert np.allclose(H, Hfd, rtol=0, atol=1e-6 * scale)
    assert np.allclose(dual(th)[1], gfd, rtol=0, atol=1e-6 * (1 + np.abs(gfd).max()))
    # concave dual: the Hessian is negative semidefinite
    assert np.linalg.eigvalsh(H).max() <= 1e-9 * scale


def test_capped_majorant_touches_at_its_point_and_is_certified():
    """U_r(P) with r the optimal output marginals equals R(P, R1, D1, D2) (to the
    reference's certified gap), and every returned bound carries a feasible channel."""
    P, cap, ref, cg, r12 = _capped_setup()
    val, th = cg.upper(P, [1.0, 1.0, 1.0])
    assert ref.lower - 1e-9 <= val <= ref.upper + 1e-7
    _recheck(cg, P, th, val, SQ, HAM3, 0.4, 0.2, cap)
    rng = np.random.default_rng(3)
    for _ in range(6):
        v = P + rng.normal(scale=0.02, size=3)
        v = np.abs(v - v.mean() + P.mean())
        v /= v.sum()
        b, t = cg.upper(v, th)
        if math.isfinite(b):
            _recheck(cg, v, t, b, SQ, HAM3, 0.4, 0.2, cap)
    # a cap below R(v, D1) has no feasible channel: inf, never a wrong number
    assert cg.upper(np.array([1 / 3, 1 / 3, 1 / 3]), th)[0] >= ref.lower
    tiny = type(cg)(*r12, SQ, HAM3, 0.4, 0.2, 1e-3)
    assert tiny.upper(P, th)[0] == math.inf


@pytest.mark.slow
def test_capped_majorant_bounds_the_reference_on_a_cell():
    """Convexity: on a segment [v0, v1], R(Q, R1, D1, D2) (existing cone-program path,
    its certified lower bound) stays below max(U_r(v0), U_r(v1))."""
    P, _, _, cg, _ = _capped_setup()
    _, th = cg.upper(P, [1.0, 1.0, 1.0])
    v0, v1 = P + np.array([0.03, -0.02, -0.01]), P + np.array([-0.02, 0.0, 0.02])
    top = max(cg.upper(v0, th)[0], cg.upper(v1, th)[0])
    assert math.isfinite(top)
    for t in (0.0, 0.5, 1.0):
        Q = (1 - t) * v0 + t * v1
        with warnings.catch_warnings():  # a wider reference gap: its lower is valid
            warnings.simplefilter("ignore", lk.errors.ConvergenceWarning)
            r = lk.ratedistortion.successive_refinement_rate(
                Q, SQ, HAM3, 0.4, 0.2, R1=0.45 * LN2, base=math.e
            )
        assert r.lower <= top + 1e-9


def test_numeric_R1_curve_is_certified_and_matches_the_uncapped_one():
    """Fig. 2 with R1 = 0.3 bits >= max R(Q, D1): Bernoulli/Hamming is refinable, so the
    capped reading equals the uncapped one, now with certified bounds."""
    kw = dict(D1=0.2, D2=0.1, r1=0.06, r2=0.1, alphas=np.linspace(0.0, 0.5, 12))
    a = lk.cipher.leakage_region_curve([0.3, 0.7], "hamming", "hamming", R1=None, **kw)
    b = lk.cipher.leakage_region_curve([0.3, 0.7], "hamming", "hamming", R1=0.3, **kw)
    for x, y in zip(a, b, strict=True):
        assert y.certified and y.status == lk.results.Status.OPTIMAL
        assert y.R1_reading == "value"
        for f in ("L1", "L2_inner", "L2_outer"):
            assert getattr(y, f) == pytest.approx(getattr(x, f), abs=1e-8)
            assert getattr(y, f) - 1e-12 <= getattr(y, f + "_bound") <= getattr(y, f) + 1e-6
        # the closed forms of Remark 6 lie in [value, bound]
        if y.alpha > 0:
            _, _, L2o = _remark6(0.3, 0.2, 0.1, 0.06, 0.1, y.alpha)
            assert y.L2_outer - 1e-9 <= L2o <= y.L2_outer_bound + 1e-9


def test_key_rate_limits_status_and_warning():
    """Certified where the search closes its gap (Remark 4's case); a forced max_evals
    leaves a gap: NOT_CERTIFIED, a warning with the gap, the bounds still below."""
    kw = dict(D1=0.2, D2=0.15, R1=None, alpha=0.03)
    kr = lk.cipher.key_rate_limits([0.4, 0.6], "hamming", "hamming", **kw)
    assert kr.certified and kr.status == lk.results.Status.OPTIMAL and kr.missed <= 1e-6
    P = [0.4, 0.3, 0.2, 0.1]
    kw = dict(D1=0.4, D2=0.25, R1=None, alpha=0.05, max_evals=3)
    with pytest.warns(lk.errors.ConvergenceWarning, match=r"key_rate_limits: not certified"):
        kr = lk.cipher.key_rate_limits(P, "abs", "squared", **kw)
    assert not kr.certified and kr.status == lk.results.Status.NOT_CERTIFIED
    assert kr.missed > 1e-6
    assert kr.r1_bound <= kr.r1_max and kr.r2_bound <= kr.r2_max


def test_a_forced_limit_is_not_certified_and_warns():
    kw = dict(D1=0.2, D2=0.1, r1=0.06, r2=0.1, alpha=0.3)
    with pytest.warns(lk.errors.ConvergenceWarning, match=r"gap.*max_evals = 2 "):
        reg = lk.cipher.leakage_region(
            [0.5, 0.3, 0.2], "hamming", "hamming", R1=0.9, max_evals=2, **kw
        )
    assert not reg.certified and reg.status == lk.results.Status.NOT_CERTIFIED
    assert not reg.missed <= 1e-6  # a wider gap, or nan where no cell bound was found


def test_clip_to_ball_keeps_every_point_of_the_cell_in_the_ball():
    """The clipped points lie in the cell, and their hull holds every sampled point of
    cell ∩ ball (a feasibility LP per point: convex weights of the clipped points)."""
    from scipy.optimize import linprog

    from leakage.cipher._search import _clip_to_ball, kl

    rng = np.random.default_rng(7)
    P = np.array([0.5, 0.3, 0.2])
    alpha = 0.05
    n_cut = 0
    for _ in range(30):
        c = P + rng.normal(scale=0.12, size=3)
        c = np.abs(c - c.mean() + 1 / 3)
        c /= c.sum()
        V = np.abs(c + rng.normal(scale=0.08, size=(3, 3)))
        V /= V.sum(axis=1, keepdims=True)
        W = _clip_to_ball(V, P, alpha)
        pts = rng.dirichlet(np.ones(3), size=3000) @ V
        inside = pts[np.array([kl(q, P) <= alpha for q in pts])]
        if not W.size:
            assert inside.size == 0  # the cell misses the ball
            continue
        # every clipped point is a point of the cell (barycentric coordinates >= 0)
        assert np.linalg.solve(V.T, W.T).min() >= -1e-9
        n_cut += len(W) != 3 or not np.allclose(W, V)
        for x in inside[:25]:
            lp = linprog(
                np.zeros(len(W)),
                A_eq=np.vstack([W.T, np.ones(len(W))]),
                b_eq=np.append(x, 1.0),
                bounds=(0, None),
                method="highs",
            )
            assert lp.status == 0
    assert n_cut > 0


def test_clip_to_ball_keeps_only_hull_vertices(monkeypatch):
    """A 5-letter cell cut by the ball: the clipped points are the vertices of the hull
    of all the cut points (77,887 before pruning here), so the bounds, extrema of convex
    or concave functions over that hull, are unchanged while costing 22 solves."""
    from scipy.spatial import ConvexHull

    import leakage.cipher._search as search

    P = np.array([0.3, 0.25, 0.2, 0.15, 0.1])
    alpha = 0.05 * LN2
    rng = np.random.default_rng(5)
    cells = [np.eye(5)] + [rng.dirichlet(np.ones(5) * 3, size=5) for _ in range(4)]
    pruned = [search._clip_to_ball(V, P, alpha) for V in cells]
    monkeypatch.setattr(search, "_hull_vertices", lambda pts: pts)
    for V, W in zip(cells, pruned, strict=True):
        full = search._clip_to_ball(V, P, alpha)
        if full.shape[0] <= 5:
            assert np.array_equal(full, W)
            continue
        assert W.shape[0] <= full.shape[0]
        # the pruned points are cut points, and their hull is the hull of all of them
        assert all(np.abs(full - w).sum(axis=1).min() < 1e-12 for w in W)
        vol = ConvexHull(full[:, :-1]).volume
        assert ConvexHull(W[:, :-1]).volume == pytest.approx(vol, rel=1e-9)
    assert pruned[0].shape[0] < 100


def test_five_letter_region_returns_with_its_gap_at_a_small_budget():
    """A 5-letter source (past the papers' sizes): bounded work per cell, so a small
    max_evals returns promptly, NOT_CERTIFIED with finite proved bounds and a warning."""
    P = [0.3, 0.25, 0.2, 0.15, 0.1]
    kw = dict(D1=0.5, D2=0.3, R1=None, r1=0.06, r2=0.1, alpha=0.05, max_evals=30)
    with pytest.warns(lk.errors.ConvergenceWarning, match=r"max_evals = 30"):
        reg = lk.cipher.leakage_region(P, "abs", "squared", **kw)
    assert reg.status == lk.results.Status.NOT_CERTIFIED and not reg.certified
    for f in ("L1", "L2_inner", "L2_outer"):
        value, bound = getattr(reg, f), getattr(reg, f + "_bound")
        assert math.isfinite(bound) and value <= bound + 1e-12


def test_degenerate_refinement_family_still_gives_a_finite_bound():
    """Binary Fig. 2 with R1 = 0.3 bits at q = 0.219: S's optimal channel has X̂2 = X̂1
    (D1 met through X̂2), whose own capped family is degenerate; the cell bound must
    still be finite and above the true S at the neighbours."""
    from leakage.cipher._regions import _Terms

    ham = np.array([[0.0, 1.0], [1.0, 0.0]])
    t = _Terms(ham, ham, 0.2, 0.1, 0.3 * LN2, 1e-10, "test")
    q = 0.2191443843
    st_ = t.state(np.array([q, 1 - q]))
    for v in (q - 0.002, q, q + 0.002):
        V = np.array([v, 1 - v])
        ub = t._US(V, st_)
        assert math.isfinite(ub)
        assert ub >= t(V)[1] - 1e-9


@pytest.mark.slow
def test_ternary_numeric_R1_is_certified():
    """A ternary abs/squared triplet with a numeric R1 that binds past R(Q, D2) = R1 on
    part of the simplex: certified (finite bounds) and, the cap being slack at the
    maximizer, equal to the uncapped reading."""
    kw = dict(D1=0.3, D2=0.2, r1=0.06, r2=0.1, alpha=0.05, tol=1e-5)
    P = [0.5, 0.3, 0.2]
    a = lk.cipher.leakage_region(P, "abs", "squared", R1=None, **kw)
    b = lk.cipher.leakage_region(P, "abs", "squared", R1=0.6, **kw)
    assert a.certified and b.certified
    for f in ("L1", "L2_inner", "L2_outer"):
        assert getattr(b, f) == pytest.approx(getattr(a, f), abs=2e-5)
        assert getattr(b, f) <= getattr(b, f + "_bound") <= getattr(b, f) + 1e-5
