"""Theorems 1–2 and Lemma 3 / Theorem 3 of paper 002 (the E-IT designs)."""

from __future__ import annotations

import math

import cvxpy as cp
import numpy as np
import pytest

import leakage as lk
from leakage.hypothesis import design_binary, design_mary

PAIRS = [
    ((0.55, 0.45), (0.95, 0.05)),
    ((0.95, 0.05), (0.05, 0.95)),
    ((0.50, 0.50), (0.45, 0.55)),
    ((0.10, 0.90), (0.05, 0.95)),
    ((0.5, 0.3, 0.2), (0.2, 0.3, 0.5)),
    ((0.6, 0.1, 0.3), (0.2, 0.5, 0.3)),
]


def _qcqp_cvxpy(p1, p2, e1, e2):
    """(62) by cvxpy: max ½ λp a·vp s.t. ½ a[p_k]a <= e_k; (15)'s value is 2 V² / λp."""
    p1, p2 = np.asarray(p1), np.asarray(p2)
    d = p2 - p1
    lam = float(d @ d)
    vp = d / math.sqrt(lam)
    a = cp.Variable(p1.size)  # well scaled: max vp·a s.t. a[p_k]a / (2 e_k) <= 1
    cons = [cp.sum(cp.multiply(p / (2 * e), cp.square(a))) <= 1 for p, e in ((p1, e1), (p2, e2))]
    prob = cp.Problem(cp.Maximize(vp @ a), cons)
    prob.solve(solver="CLARABEL", tol_gap_abs=1e-9, tol_gap_rel=1e-9, tol_feas=1e-9)
    return 0.5 * lam * prob.value**2


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("ratio", [0.2, 1.0, 5.0])
def test_closed_form_equals_the_qcqp_solved_by_cvxpy(pair, ratio):
    eps1 = 0.01
    d = design_binary(*pair, eps1, eps1 * ratio)
    e1, e2 = d.details["budgets_qp_nats"]
    ref = _qcqp_cvxpy(*pair, e1, e2)
    assert d.details["qp_value_nats"] == pytest.approx(ref, rel=1e-6)
    assert d.details["qp_value_nats"] <= d.details["qp_bound_nats"] * (1 + 1e-12)
    assert d.details["qp_bound_nats"] <= d.details["qp_value_nats"] * (1 + 1e-7)
    assert d.utility_approx == pytest.approx(lk.units.from_nats(ref, 2), rel=1e-6)


@pytest.mark.parametrize("pair", PAIRS)
def test_the_case_matches_the_papers_conditions_and_formulas(pair):
    p1, p2 = (np.asarray(p) for p in pair)
    vp = (p2 - p1) / np.linalg.norm(p2 - p1)
    r20 = float(np.sum(vp**2 * p2 / p1**2) / np.sum(vp**2 / p1))
    r22 = float(np.sum(vp**2 * p1 / p2**2) / np.sum(vp**2 / p2))
    for ratio in (0.05, 0.7, 1.0, 1.4, 20.0):
        if min(abs(ratio - r20), abs(1 / ratio - r22)) < 1e-9:
            continue  # on the boundary between cases both labels are right
        d = design_binary(p1, p2, 0.01, 0.01 * ratio)
        e1, e2 = d.details["budgets_qp_nats"]
        a = d.details["a"]
        case = d.details["case"]
        if d.details["condition_20"]:
            assert case.startswith("only constraint 1")
            ref = math.sqrt(2 * e1 / np.sum(vp**2 / p1)) * vp / p1  # eq. (21)
            assert np.allclose(np.abs(a), np.abs(ref), rtol=1e-6)
        elif d.details["condition_22"]:
            assert case.startswith("only constraint 2")
            ref = math.sqrt(2 * e2 / np.sum(vp**2 / p2)) * vp / p2  # eq. (23)
            assert np.allclose(np.abs(a), np.abs(ref), rtol=1e-6)
        else:
            assert case.startswith("both")
            eta1, eta2 = d.details["eta"]
            lam = float((p2 - p1) @ (p2 - p1))
            den = (eta1 * p1 + eta2 * p2) ** 2
            # eqs. (25)-(26)
            assert np.sum(vp**2 * p1 / den) == pytest.approx(8 * e1 / lam**2, rel=1e-6)
            assert np.sum(vp**2 * p2 / den) == pytest.approx(8 * e2 / lam**2, rel=1e-6)


@pytest.mark.parametrize("pair", PAIRS)
def test_w_prime_is_a_mechanism_with_exact_figures(pair):
    d = design_binary(*pair, 0.005, 0.005)
    W = d.mechanism
    assert W.shape == (len(pair[0]), 2) and W.min() >= 0
    assert np.allclose(W.sum(axis=1), 1, atol=1e-14)
    p1, p2 = (np.asarray(p) for p in pair)
    assert d.utility == pytest.approx(lk.kl_divergence(p2 @ W, p1 @ W), rel=1e-12)
    assert d.leakages == pytest.approx([lk.mutual_information(p, W) for p in (p1, p2)])
    # high privacy: the exact figures approach the E-IT ones
    small = design_binary(*pair, 1e-6, 1e-6)
    assert small.utility == pytest.approx(small.utility_approx, rel=5e-2)
    r = design_binary(*pair, 0.005, 0.005, utility="renyi", alpha=0.5)
    assert r.utility == pytest.approx(lk.renyi_divergence(p2 @ W, p1 @ W, 0.5), rel=1e-9)


def test_w0_rule_and_the_largest_feasible_budget_scale():
    pair = ((0.50, 0.50), (0.45, 0.55))
    with pytest.raises(lk.InfeasibleError, match="largest feasible budget scale is") as ei:
        design_binary(*pair, 0.9, 0.9)
    c = float(str(ei.value).split("scale is ")[1].split(" ")[0])
    # binary sources: max(a) max(-a) = 2 eps (nats), so the scale is 1 / (2 * 0.9 ln 2)
    assert c == pytest.approx(1 / (2 * 0.9 * math.log(2)), rel=1e-5)
    ok = design_binary(*pair, 0.9 * c * (1 - 1e-6), 0.9 * c * (1 - 1e-6))
    assert ok.mechanism.min() >= 0 and ok.mechanism.min() < 1e-3  # at the wall
    with pytest.raises(lk.InfeasibleError):
        design_binary(*pair, 0.9 * c * 1.001, 0.9 * c * 1.001)
    # the paper's w0 = (0.5, 0.5) is accepted when it works and recorded
    d = design_binary(*pair, 0.001, 0.001, w0=[0.5, 0.5])
    assert d.details["w0"] == pytest.approx([0.5, 0.5]) and d.details["w0_rule"] == "given"
    assert d.utility == pytest.approx(design_binary(*pair, 0.001, 0.001).utility, rel=1e-2)


def test_bad_inputs():
    with pytest.raises(lk.InvalidParameterError, match="eps"):
        design_binary((0.5, 0.5), (0.4, 0.6), -0.1, 0.1)
    with pytest.raises(lk.InvalidParameterError, match="equals p_1"):
        design_binary((0.5, 0.5), (0.5, 0.5), 0.1, 0.1)
    with pytest.raises(lk.InvalidDistributionError, match="full support"):
        design_binary((1.0, 0.0), (0.4, 0.6), 0.1, 0.1)
    with pytest.raises(lk.InvalidDistributionError, match="sum to 1"):
        design_binary((0.5, 0.6), (0.4, 0.6), 0.1, 0.1)
    with pytest.raises(lk.InvalidParameterError, match="same length"):
        design_binary((0.5, 0.5), (0.2, 0.3, 0.5), 0.1, 0.1)
    with pytest.raises(lk.InvalidParameterError, match="alpha"):
        design_binary((0.5, 0.5), (0.4, 0.6), 0.1, 0.1, utility="renyi")
    with pytest.raises(lk.InvalidParameterError, match="one budget per hypothesis"):
        design_mary([(0.5, 0.5), (0.4, 0.6), (0.3, 0.7)], [0.1, 0.1])
    z = design_binary((0.5, 0.5), (0.4, 0.6), 0.0, 0.1)
    assert z.utility == 0 and np.allclose(z.leakages, 0)


TRIPLES = [
    [(0.50, 0.50), (0.45, 0.55), (0.55, 0.45)],
    [(0.15, 0.85), (0.10, 0.90), (0.20, 0.80)],
    [(0.5, 0.3, 0.2), (0.3, 0.4, 0.3), (0.2, 0.3, 0.5)],
    [(0.4, 0.3, 0.2, 0.1), (0.1, 0.2, 0.3, 0.4), (0.25, 0.25, 0.25, 0.25)],
]


@pytest.mark.parametrize("ps", TRIPLES)
def test_sdp_certificate_and_theorem_3_construction(ps):
    d = design_mary(ps, 0.005)
    lo, hi = d.details["sdp_bounds_nats"]
    assert lo <= hi <= lo * (1 + 1e-9) + 1e-15
    approx_nats = lk.units.to_nats(d.utility_approx, 2)
    assert lo * (1 - 1e-6) <= approx_nats <= hi * (1 + 1e-9)
    W = d.mechanism
    assert W.shape[1] == d.details["rank"] + 1 and W.min() >= 0
    assert np.allclose(W.sum(axis=1), 1, atol=1e-14)
    P = np.asarray(ps)
    ex = [lk.kl_divergence(p @ W, P[0] @ W) for p in P[1:]]
    assert d.utility == pytest.approx(min(ex), rel=1e-12)
    assert d.leakages == pytest.approx([lk.mutual_information(p, W) for p in P], rel=1e-12)


def test_binary_sources_give_rank_one_and_m2_equals_the_closed_form():
    d = design_mary(TRIPLES[0], 0.01)
    assert d.details["rank"] == 1  # Section V-A: collinear differences
    pair = PAIRS[4]
    m2 = design_mary(list(pair), [0.01, 0.01])
    b = design_binary(*pair, 0.01, 0.01)
    assert m2.utility_approx == pytest.approx(b.utility_approx, rel=1e-5)


def test_explicit_w0_and_V_and_the_scs_path():
    # uniform p1, the other two moved in orthogonal directions: the SDP needs rank 2
    p1 = np.full(3, 1 / 3)
    ps = [p1, p1 + 0.1 * np.array([1, -1, 0]), p1 + 0.1 * np.array([1, 1, -2]) / np.sqrt(3)]
    auto = design_mary(ps, 0.002)
    assert auto.details["rank"] >= 2
    w, V = auto.details["w0"], auto.details["V"]
    again = design_mary(ps, 0.002, w0=w, V=V)
    assert np.allclose(again.mechanism, auto.mechanism, atol=1e-12)
    assert np.allclose(again.details["V"], V)
    with pytest.raises(lk.InvalidParameterError, match="orthonormal"):
        design_mary(ps, 0.002, w0=w, V=np.ones_like(V))
    with pytest.raises(lk.InvalidParameterError, match="explicit 'w0'"):
        design_mary(ps, 0.002, V=V)
    scs = design_mary(ps, 0.002, solver="SCS")
    lo, hi = scs.details["sdp_bounds_nats"]
    clar_lo, _ = auto.details["sdp_bounds_nats"]
    assert lo <= clar_lo * (1 + 1e-9) <= hi * (1 + 1e-6) and "SCS" in scs.method


def test_within_budget_meets_every_budget_exactly_and_keeps_most_utility():
    """Issue 16: what is saved or released never exceeds its budget."""
    from leakage.hypothesis import within_budget

    ps = [(0.55, 0.45), (0.95, 0.05)]
    d = design_binary(*ps, 0.01, 0.01)
    assert d.max_violation > 5e-6  # the E-IT closed form: second-order accurate only
    s = within_budget(d, ps)
    assert s.max_violation <= 0 and s.leakages.max() == pytest.approx(0.01, rel=1e-12)
    assert 0.99 * d.utility < s.utility < d.utility
    t = s.details["within_budget"]["t"]
    w = np.asarray(ps[0]) @ d.mechanism
    np.testing.assert_allclose(s.mechanism, (1 - t) * d.mechanism + t * w, atol=1e-15)
    assert within_budget(s, ps) is s  # already within: unchanged
    # three hypotheses, and a zero budget (the constant channel: t = 1)
    ps3 = [(0.5, 0.3, 0.2), (0.3, 0.4, 0.3), (0.2, 0.3, 0.5)]
    m = design_mary(ps3, 0.02)
    assert within_budget(m, ps3).max_violation <= 0
    with pytest.raises(lk.InvalidParameterError, match="does not match"):
        within_budget(d, ps3)
    with pytest.raises(lk.InvalidParameterError, match="HypothesisDesign"):
        within_budget(d.mechanism, ps)
