"""Paper-001 reproduction entries: Section V and the Theorem 1 figure."""

import math

import numpy as np
import pytest
from scipy.optimize import linprog, minimize

import leakage as lk
from leakage import reproduce
from leakage.pointwise import design_chi2
from leakage.reproduce import paper001
from leakage.reproduce.paper001 import binary_chi2_optimum


@pytest.fixture(scope="module")
def sec5():
    return reproduce.compute("001-section5")


def _table(rep, name):
    t = next(t for t in rep.tables if t.name == name)
    return [dict(zip(t.columns, row, strict=True)) for row in t.rows]


def _perfect_privacy_by_hand():
    """Perfect privacy from scratch: P_{Y|u} must solve P_X|Y y = P_X, y >= 0. The
    vertices of that polytope sit on pairs of letters of Y; I(U;Y) = H(Y) - sum_u P_U(u)
    H(P_{Y|u}) is maximized by the mixture of vertices of least average entropy (an LP)."""
    P, p_y = paper001.SEC5_P_X_GIVEN_Y, paper001.SEC5_P_Y
    p_x = P @ p_y
    verts = []
    for i in range(4):
        for j in range(i + 1, 4):
            y = np.zeros(4)
            y[[i, j]] = np.linalg.solve(P[:, [i, j]], p_x)
            if y.min() >= 0:
                verts.append(y)
    V = np.array(verts).T
    H = [-(v[v > 0] * np.log2(v[v > 0])).sum() for v in verts]
    res = linprog(H, A_eq=V, b_eq=p_y, bounds=(0, None), method="highs")
    assert res.status == 0
    return -(p_y * np.log2(p_y)).sum() - res.fun, len(verts)


def test_section5_reproduces_every_number_or_documents_the_erratum(sec5):
    assert sec5.ok, [c for c in sec5.comparisons if not c.ok]
    verdicts = {c.quantity: c.verdict for c in sec5.comparisons}
    assert verdicts["I(U;Y) of the paper's design"] == "erratum"
    assert verdicts["P_U(u4) > 0 although eps_4 = 0 (Remark 3)"] == "holds"


def test_section5_perfect_privacy_and_optimum_by_independent_computation(sec5):
    by_hand, n_vertices = _perfect_privacy_by_hand()
    assert n_vertices == 4  # the paper's four extreme points at J = 0
    designs = {r["design"]: r for r in _table(sec5, "designs")}
    assert designs["perfect privacy, exact"]["exact I(U;Y) bits"] == pytest.approx(
        by_hand, abs=1e-9
    )
    assert by_hand == pytest.approx(0.915258, abs=1e-6)
    # the printed 0.9109 is below perfect privacy: the paper's claim fails
    assert by_hand > paper001.SEC5_PAPER_UTILITY
    exact = designs["exact optimum"]["exact I(U;Y) bits"]
    lp = designs["LP, best combination"]["exact I(U;Y) bits"]
    mine = designs["LP, the paper's combination"]["exact I(U;Y) bits"]
    equal = designs["equal budgets, exact"]["exact I(U;Y) bits"]
    assert by_hand < mine < lp <= exact + 1e-12 < equal
    assert exact == pytest.approx(0.926617, abs=1e-6)


def test_section5_combination_table(sec5):
    rows = _table(sec5, "combinations")
    assert len(rows) == 80
    feasible = [r for r in rows if r["feasible"] == "yes"]
    assert len(feasible) == 22
    utilities = [r["exact I(U;Y) bits"] for r in feasible]
    assert utilities == sorted(utilities, reverse=True)
    for r in feasible:
        pu = [r[f"P_U(u{i})"] for i in range(1, 5)]
        assert sum(pu) == pytest.approx(1.0, abs=1e-9) and min(pu) >= -1e-12
        assert r["LP approx I(U;Y) bits"] <= r["exact I(U;Y) bits"] + 1e-3
    assert sum(r["paper's choice"] == "yes" for r in rows) == 1
    paper = next(r for r in rows if r["paper's choice"] == "yes")
    assert paper["feasible"] == "yes" and paper["rank"] > 1  # not the best combination


def test_printed_p_u_is_inconsistent_but_ours_is_consistent(sec5):
    assert paper001.paper_p_u_residual() > 1e-3
    ours = next(r for r in _table(sec5, "designs") if r["design"] == "LP, the paper's combination")
    pu = tuple(ours[f"P_U(u{i})"] for i in range(1, 5))
    assert paper001.paper_p_u_residual(pu) < 1e-9


# ---------------------------------------------------------------- Theorem 1
def _brute_force_binary(p_xy, e1, e2, n=41):
    """Problem (3) over binary U by a grid over P(u1|y) in [0,1]^3, then SLSQP from the
    best feasible grid points: a second algorithm, independent of the chord argument."""
    p_y, p_x = p_xy.sum(0), p_xy.sum(1)

    def parts(M):
        pu1 = M @ p_y
        post1 = (p_xy @ M.T) / pu1
        post2 = (p_xy @ (1 - M).T) / (1 - pu1)
        c1 = np.sqrt((((post1 - p_x[:, None]) ** 2) / p_x[:, None]).sum(0))
        c2 = np.sqrt((((post2 - p_x[:, None]) ** 2) / p_x[:, None]).sum(0))
        y1, y2 = (M * p_y).T / pu1, ((1 - M) * p_y).T / (1 - pu1)
        with np.errstate(divide="ignore", invalid="ignore"):
            t1 = np.where(y1 > 0, y1 * np.log(y1 / p_y[:, None]), 0).sum(0)
            t2 = np.where(y2 > 0, y2 * np.log(y2 / p_y[:, None]), 0).sum(0)
        return pu1 * t1 + (1 - pu1) * t2, c1, c2

    g = np.linspace(0, 1, n)
    M = np.stack(np.meshgrid(g, g, g, indexing="ij"), -1).reshape(-1, 3)
    pu = M @ p_y
    M = M[(pu > 1e-9) & (pu < 1 - 1e-9)]
    info, c1, c2 = parts(M)
    ok = (c1 <= e1) & (c2 <= e2)
    best = info[ok].max()
    for k in np.argsort(np.where(ok, -info, np.inf))[:5]:
        res = minimize(
            lambda m: -parts(m[None, :])[0][0],
            M[k],
            method="SLSQP",
            bounds=[(1e-9, 1 - 1e-9)] * 3,
            constraints=[
                {"type": "ineq", "fun": lambda m: e1 - parts(m[None, :])[1][0]},
                {"type": "ineq", "fun": lambda m: e2 - parts(m[None, :])[2][0]},
            ],
            options={"ftol": 1e-14, "maxiter": 500},
        )
        _, r1, r2 = parts(res.x[None, :])
        if r1[0] <= e1 + 1e-9 and r2[0] <= e2 + 1e-9:
            best = max(best, -res.fun)
    return best


@pytest.mark.parametrize("e1", [0.05, 0.2113, 0.2512, 0.5])
def test_binary_optimum_against_brute_force(e1):
    P = paper001.THM1_P_XY
    ours = binary_chi2_optimum(P, e1, e1 / 2)
    brute = _brute_force_binary(P, e1, e1 / 2)
    assert brute <= ours + 1e-9
    assert ours == pytest.approx(brute, rel=1e-5)


@pytest.mark.parametrize("e", [0.01, 0.1, 0.3])
def test_binary_optimum_equals_the_design_for_two_letters_of_x(e):
    """|X| = 2: the closed form is the optimum of (3) over binary U wherever it is valid."""
    P = np.array([[0.35, 0.10], [0.15, 0.40]])
    d = design_chi2(P, [e, e / 2], base=math.e)
    assert binary_chi2_optimum(P, e, e / 2) == pytest.approx(d.utility, rel=1e-12)


def test_binary_optimum_rejects_other_sizes():
    with pytest.raises(lk.InvalidParameterError, match=r"'p_xy'.*2x2 or 3x3"):
        binary_chi2_optimum(np.full((4, 4), 1 / 16), 0.1, 0.1)


def test_theorem1_entry():
    rep = reproduce.compute("001-theorem1")
    assert rep.ok, [c for c in rep.comparisons if not c.ok]
    rows = _table(rep, "theorem1")
    eps = np.array([r["eps1"] for r in rows])
    design = np.array([r["design exact I(U;Y) bits"] for r in rows])
    opt = np.array([r["optimum of (3) bits"] for r in rows])
    approx = np.array([r["approx 1/2 e1 e2 sigma^2 bits"] for r in rows])
    valid = np.isfinite(design)
    # valid exactly up to the closed form's largest budget scale, then NaN
    small = design_chi2(paper001.THM1_P_XY, [1e-3, 5e-4])
    np.testing.assert_array_equal(valid, eps <= 1e-3 * small.details["max_budget_scale"])
    assert np.all(design[valid] <= opt[valid] + 1e-12)
    assert np.all(np.diff(opt) > 0)
    # second order: approximation / exact -> 1 as eps -> 0, with error O(eps)
    rel = np.abs(approx[valid] - design[valid]) / design[valid]
    assert rel[0] < 1e-3 and rel[0] < rel[5] < rel[10]
    sigma2 = small.details["sigma_max"] ** 2
    expected = 0.5 * eps * (eps / 2) * sigma2 / math.log(2)  # nats -> bits
    np.testing.assert_allclose(approx[valid], expected[valid], rtol=1e-12)
