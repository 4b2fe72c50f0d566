"""Paper 001, Section III-A: the chi^2 closed-form design."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import leakage as lk
from leakage.pointwise import design_chi2
from leakage.testing import joints


def _binary_optimum(p_xy, e1, e2, n=401):
    """Numerical optimum of problem (3) for |X| = |Y| = 2 and binary U.

    With |X| = 2 a posterior is P_X + (d, -d), and sqrt(chi^2) = |d| / c with
    c = (1/P_X(0) + 1/P_X(1))^(-1/2). Letters u1, u2 have posteriors d1, d2 of opposite
    signs, P_U(u1) = d2 / (d2 - d1) (the posteriors average to P_X), and P_{Y|U=u} =
    P_X|Y^{-1} P_{X|U=u}. A grid over (d1, d2) -- its corners are the closed-form design --
    finds the optimum of (3) over binary U.
    """
    p_y, p_x = p_xy.sum(0), p_xy.sum(1)
    Pinv = np.linalg.inv(p_xy / p_y)
    c = 1 / math.sqrt(1 / p_x[0] + 1 / p_x[1])
    best = 0.0
    for s in (1, -1):
        d1 = s * c * e1 * np.linspace(1e-9, 1, n)[:, None]
        d2 = -s * c * e2 * np.linspace(1e-9, 1, n)[None, :]
        pu1 = d2 / (d2 - d1)
        col = Pinv[:, 0] - Pinv[:, 1]  # P_X|Y^{-1} (1, -1)
        y1 = (Pinv @ p_x)[:, None, None] + col[:, None, None] * d1  # P_{Y|u1}(y)
        y2 = (Pinv @ p_x)[:, None, None] + col[:, None, None] * d2
        ok = (y1.min(0) >= 0) & (y2.min(0) >= 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            t1 = np.where(y1 > 0, y1 * np.log2(y1 / p_y[:, None, None]), 0).sum(0)
            t2 = np.where(y2 > 0, y2 * np.log2(y2 / p_y[:, None, None]), 0).sum(0)
        info = pu1 * t1 + (1 - pu1) * t2  # sum_u P_U(u) D(P_{Y|u} || P_Y)
        if ok.any():
            best = max(best, float(info[ok].max()))
    return best


P_XY = np.array([[0.35, 0.10], [0.15, 0.40]])
P_XY3 = np.array([[0.20, 0.05, 0.05], [0.05, 0.25, 0.05], [0.05, 0.05, 0.25]])


def test_budgets_are_met_with_equality_and_mechanism_is_stochastic():
    d = design_chi2(P_XY3, [0.05, 0.1, 0.02])
    assert d.mechanism.shape == (3, 3)
    assert np.all(d.mechanism >= 0)
    np.testing.assert_allclose(d.mechanism.sum(axis=1), 1, atol=1e-12)
    # the two largest budgets are used, exactly; the third letter is never released
    np.testing.assert_allclose(d.leakages[:2], [0.05, 0.1], rtol=1e-10)
    assert math.isnan(d.leakages[2]) and d.p_u[2] == 0
    np.testing.assert_allclose(d.p_u[:2], [0.1 / 0.15, 0.05 / 0.15], rtol=1e-12)  # eq. (13)
    assert d.max_violation <= 1e-9
    # the reported figures are the exact ones of the returned matrix
    assert d.utility == pytest.approx(lk.mutual_information(P_XY3.sum(0), d.mechanism), abs=1e-15)
    post = (P_XY3 @ d.mechanism)[:, :2] / d.p_u[:2]
    px = P_XY3.sum(1)[:, None]
    np.testing.assert_allclose(np.sqrt((((post - px) ** 2) / px).sum(0)), d.leakages[:2], rtol=1e-9)


@pytest.mark.parametrize("p_xy", [P_XY, P_XY3], ids=["2x2", "3x3"])
def test_theorem1_value_is_second_order_exact(p_xy):
    """I(U;Y) = 1/2 e1 e2 sigma_max^2 + o(eps^2) nats (eq. (21)): relative error -> 0."""
    errs = []
    for t in (1e-1, 1e-2, 1e-3):
        d = design_chi2(p_xy, [2 * t, t], base=math.e)
        assert d.utility_approx == pytest.approx(0.5 * 2 * t * t * d.details["sigma_max"] ** 2)
        errs.append(abs(d.utility - d.utility_approx) / d.utility_approx)
    assert errs[2] < errs[1] < errs[0] and errs[2] < 5e-3


@pytest.mark.parametrize("seed", range(4))
def test_closed_form_vs_numerical_optimum(seed):
    """Never above the optimum of (3); within O(eps) of it as eps -> 0."""
    rng = np.random.default_rng(seed)
    p_xy = rng.dirichlet(np.ones(4)).reshape(2, 2)
    ratios = []
    for t in (1e-2, 1e-3):
        e1, e2 = 2 * t, t
        try:
            d = design_chi2(p_xy, [e1, e2])
        except lk.InfeasibleError:
            continue
        opt = _binary_optimum(p_xy, e1, e2)
        assert d.utility <= opt + 1e-12
        ratios.append(d.utility / opt)
    assert ratios and ratios[-1] > 0.99


def test_k2_and_k3_give_the_same_utility():
    d2 = design_chi2(P_XY3, [0.08, 0.04])
    d3 = design_chi2(P_XY3, [0.04, 0.01, 0.08])
    assert d3.utility == pytest.approx(d2.utility, abs=1e-15)
    np.testing.assert_allclose(d3.mechanism[:, [2, 0]], d2.mechanism, atol=1e-15)


def test_perfect_privacy_releases_nothing():
    for eps in ([0.0, 0.0, 0.0], [0.1, 0.0, 0.0], [0.0]):
        d = design_chi2(P_XY3, eps)
        assert d.utility == pytest.approx(0.0, abs=1e-15)
        px_u = (P_XY3 @ d.mechanism) / np.where(d.p_u > 0, d.p_u, 1)
        used = d.p_u > 0
        np.testing.assert_allclose(px_u[:, used], np.tile(P_XY3.sum(1)[:, None], used.sum()))


def test_sign_choice_is_the_better_exact_utility():
    """Both signs of L* built independently from an SVD of W; the design keeps the better."""
    p_y, p_x = P_XY3.sum(0), P_XY3.sum(1)
    Pinv = np.linalg.inv(P_XY3 / p_y)
    W = np.diag(p_y**-0.5) @ Pinv @ np.diag(p_x**0.5)
    _, sv, Vt = np.linalg.svd(W)
    assert sv[-1] == pytest.approx(1.0) and abs(Vt[-1] @ np.sqrt(p_x)) == pytest.approx(1.0)
    L = Vt[0]
    e1, e2 = 0.05, 0.03
    utilities = []
    for sign in (1, -1):
        v = Pinv @ (np.sqrt(p_x) * L) * sign
        M = np.stack([(p_y + e1 * v) * e2 / (e1 + e2), (p_y - e2 * v) * e1 / (e1 + e2)], 1)
        utilities.append(lk.mutual_information(p_y, M / p_y[:, None]))
    d = design_chi2(P_XY3, [e1, e2])
    assert d.utility == pytest.approx(max(utilities), abs=1e-14)
    assert d.details["sigma_max"] == pytest.approx(sv[0])
    assert utilities[0] != pytest.approx(utilities[1], abs=1e-9)  # the sign matters


def test_infeasible_budgets_report_the_largest_valid_scale():
    with pytest.raises(lk.InfeasibleError, match=r"scaled by at most ([0-9.e-]+)") as info:
        design_chi2(P_XY, [3.0, 2.0])
    scale = float(info.value.args[0].split("scaled by at most ")[1].split(";")[0])
    assert 0 < scale < 1
    ok = design_chi2(P_XY, [3.0 * scale * 0.999, 2.0 * scale * 0.999])
    assert ok.mechanism.min() >= 0 and ok.max_violation <= 1e-9
    with pytest.raises(lk.InfeasibleError):
        design_chi2(P_XY, [3.0 * scale * 1.01, 2.0 * scale * 1.01])


@given(joints(2, 2, zeros=False), st.floats(1e-4, 0.05), st.floats(1e-4, 0.05))
def test_random_instances_meet_budgets(p_xy, a, b):
    try:
        d = design_chi2(p_xy, [a, b])
    except lk.InfeasibleError:
        return
    except lk.InvalidDistributionError as e:  # a near-singular random joint
        assert "invertible" in str(e)
        return
    assert d.mechanism.min() >= 0 and d.max_violation <= 1e-9
    assert d.utility >= 0


@pytest.mark.parametrize(
    ("p_xy", "eps", "exc", "pattern"),
    [
        (P_XY, [-0.1, 0.1], lk.InvalidParameterError, r"'eps' argument must be a non-empty 1-D"),
        (P_XY, [np.nan, 0.1], lk.InvalidParameterError, r"finite budgets >= 0"),
        (P_XY, [], lk.InvalidParameterError, r"non-empty"),
        (P_XY, "a,b", lk.InvalidParameterError, r"'eps' argument must be a 1-D array"),
        ([[0.5, 0.5], [0.5, 0.5]], [0.1, 0.1], lk.InvalidDistributionError, r"must sum to 1"),
        (
            [[0.25, 0.25], [0.25, 0.25]],
            [0.1, 0.1],
            lk.InvalidDistributionError,
            r"invertible P_X\|Y",
        ),
        (
            [[0.2, 0.1, 0.2], [0.1, 0.2, 0.2]],
            [0.1, 0.1],
            lk.InvalidDistributionError,
            r"must be square",
        ),
        ([[0.5, 0.0], [0.5, 0.0]], [0.1, 0.1], lk.InvalidDistributionError, r"P_Y\(1\) = 0"),
    ],
)
def test_bad_inputs(p_xy, eps, exc, pattern):
    with pytest.raises(exc, match=pattern):
        design_chi2(p_xy, eps)
