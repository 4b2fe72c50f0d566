"""Paper 001, Sections III-B/IV: the extreme-point LP design."""

import math

import numpy as np
import pytest

import leakage as lk
from leakage.pointwise import design_l1, extreme_point_supports, optimal_l1
from leakage.results import Status

SEC5 = np.array([[0.3, 0.8, 0.5, 0.4], [0.7, 0.2, 0.5, 0.6]]) * np.array([0.5, 0.25, 0.125, 0.125])
SEC5_EPS = [0.01, 0.01, 0.01, 0.0]


def test_extreme_points_of_section_v():
    """The paper's V1..V4 at J = 0 (it prints 0.6251/0.3749 for 0.625/0.375: ERRATA)."""
    sups = {s["support"]: s["v0"] for s in extreme_point_supports(SEC5)}
    assert sorted(sups) == [(0, 1), (0, 2), (1, 3), (2, 3)]
    np.testing.assert_allclose(sups[(0, 1)], [0.675, 0.325], atol=1e-12)
    np.testing.assert_allclose(sups[(0, 2)], [0.1875, 0.8125], atol=1e-12)
    np.testing.assert_allclose(sups[(1, 3)], [0.15625, 0.84375], atol=1e-12)
    np.testing.assert_allclose(sups[(2, 3)], [0.625, 0.375], atol=1e-12)


def test_section_v_design():
    d = design_l1(SEC5, SEC5_EPS)
    opt = optimal_l1(SEC5, SEC5_EPS)
    assert d.max_violation <= 1e-9 and d.mechanism.min() >= 0
    assert d.utility <= opt.utility + 1e-12
    assert d.utility > 0.9109  # the paper's printed value is beaten by the automatic search
    ranking = d.details["ranking"]
    assert ranking[0]["utility"] == pytest.approx(d.utility, abs=1e-15)
    # the paper's hand-picked combination (V4, V2, V3 | V1) is among those tried
    # (letters with equal budgets are interchangeable: compare as a multiset)
    paper = [(2, 3), (0, 2), (1, 3), (0, 1)]
    assert any(
        sorted(r["supports"][:3]) == sorted(paper[:3]) and r["supports"][3] == paper[3]
        for r in ranking
    )


@pytest.mark.parametrize("seed", range(6))
def test_never_beats_the_exact_optimum_and_meets_budgets(seed):
    rng = np.random.default_rng(seed)
    p_xy = rng.dirichlet(np.ones(8)).reshape(2, 4)
    eps = [*sorted(rng.uniform(0, 0.1, size=3), reverse=True), 0.0]
    try:
        d = design_l1(p_xy, eps)
    except lk.InfeasibleError as e:
        assert "optimal_l1" in str(e)
        return
    opt = optimal_l1(p_xy, eps)
    assert d.utility <= opt.utility + 1e-10
    assert d.max_violation <= 1e-9
    np.testing.assert_allclose(d.mechanism.sum(axis=1), 1, atol=1e-12)


def test_first_order_objective_converges():
    errs = []
    for t in (1e-1, 1e-2, 1e-3):
        d = design_l1(SEC5, [t, t, t, 0.0])
        errs.append(abs(d.utility - d.utility_approx))
    assert errs[2] < errs[1] < errs[0]


def test_rank_deficient_leakage_matrix():
    """|X| = 3 with a rank-2 P_X|Y: J is kept in the range of P_X|Y (ERRATA, Sec. IV-B)."""
    P = np.array([[0.2, 0.3, 0.25, 0.15], [0.2, 0.3, 0.25, 0.15], [0.6, 0.4, 0.5, 0.7]])
    p_xy = P * np.array([0.4, 0.3, 0.2, 0.1])
    assert np.linalg.matrix_rank(P) == 2
    eps = [0.05, 0.02, 0.0, 0.0]
    d = design_l1(p_xy, eps)
    assert d.details["rank"] == 2 and d.max_violation <= 1e-9
    assert d.utility <= optimal_l1(p_xy, eps).utility + 1e-10


def test_perfect_privacy_is_exact_and_small_k_can_be_infeasible():
    """All budgets 0: nothing is approximated, and with K = |Y| letters the extreme-point
    LP reaches the exact optimum. With K = 2 no pair of extreme points averages to P_Y,
    although the problem itself is feasible (ERRATA: Proposition 4 with small K)."""
    d = design_l1(SEC5, [0.0] * 4)
    np.testing.assert_allclose(np.nan_to_num(d.leakages), 0, atol=1e-9)
    assert d.utility == pytest.approx(optimal_l1(SEC5, [0.0] * 4).utility, abs=1e-9)
    assert d.utility == pytest.approx(d.utility_approx, abs=1e-12)
    with pytest.raises(lk.InfeasibleError, match="Use optimal_l1"):
        design_l1(SEC5, [0.0, 0.0])
    assert optimal_l1(SEC5, [0.0, 0.0]).utility > 0


def test_limits_and_bad_inputs():
    """Past max_combinations: the best of those tried, a proved global bound, a warning."""
    opt = optimal_l1(SEC5, SEC5_EPS).utility
    with pytest.warns(lk.ConvergenceWarning, match=r"max_combinations=3 .* gap"):
        d = design_l1(SEC5, [0.01, 0.02, 0.03, 0.0], max_combinations=3)
    assert d.details["status"] is Status.NOT_CERTIFIED and d.details["n_tried"] == 3
    assert d.max_violation <= 1e-9
    up = d.details["upper_bound"]
    assert d.utility <= up and d.details["gap"] == pytest.approx(up - d.utility, abs=1e-15)
    assert opt <= up + 1e-12  # a bound on the global optimum, not only on the LP designs
    # counted, not listed: C(25 + 10 - 1, 10) multisets of 25 supports, only 20 tried
    big = np.random.default_rng(0).dirichlet(np.ones(20)).reshape(2, 10)
    with pytest.warns(lk.ConvergenceWarning, match=f"of {math.comb(34, 10):,} combinations"):
        d = design_l1(big, [0.01] * 10, max_combinations=20)
    assert d.details["n_combinations"] == math.comb(34, 10) and d.details["n_tried"] == 20
    assert d.utility <= d.details["upper_bound"] <= lk.entropy(big.sum(0)) + 1e-12
    with pytest.raises(lk.InvalidParameterError, match="'eps' argument"):
        design_l1(SEC5, [0.01, -1])
    with pytest.raises(lk.InvalidParameterError, match="'max_combinations' argument"):
        design_l1(SEC5, SEC5_EPS, max_combinations=0)


def test_ties_on_the_lps_optimal_face_are_broken_by_the_exact_utility():
    """Section V's best combination has an optimal face with two vertices (exact utility
    0.92661547 and 0.92661655, same LP value): scipy 1.13's HiGHS returned one, 1.17's the
    other (issue 15). Frank-Wolfe steps on the face pick the better one either way."""
    d = design_l1(SEC5, SEC5_EPS)
    best = d.details["ranking"][0]
    assert best["supports"] == [(0, 1), (0, 2), (1, 3), (0, 1)]
    assert d.utility == pytest.approx(0.9266165484061638, abs=1e-12)
    # the face's other vertex: letter 4 (budget 0) empty, its mass on letter 1
    assert d.mechanism[:, 3].max() > 0.9
    assert optimal_l1(SEC5, SEC5_EPS).utility - d.utility < 2e-10


TRIVIAL = [[0.30, 0.05, 0.10], [0.05, 0.20, 0.05], [0.02, 0.08, 0.15]]


def test_a_constant_lp_design_warns_and_names_the_exact_method():
    """Issue 16: the LP returned I(U;Y) = 0 where the global optimum is 0.0244 bit."""
    with pytest.warns(lk.DesignWarning, match="optimal_l1"):
        d = design_l1(TRIVIAL, [0.05, 0.05, 0.05])
    assert d.utility <= 1e-12
    opt = optimal_l1(TRIVIAL, [0.05, 0.05, 0.05])
    assert opt.utility == pytest.approx(0.02436827168, abs=1e-10)
    assert opt.max_violation <= 1e-9
