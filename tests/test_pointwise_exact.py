"""Paper 001, problem (5): the exact optimum by vertex enumeration, checked against cdd."""

import itertools
import math

import cdd  # pycddlib-standalone: GPL, a test-only dependency
import numpy as np
import pytest
from scipy.optimize import linprog

import leakage as lk
from leakage.pointwise import optimal_l1
from leakage.pointwise.exact import _utility_nats
from leakage.results import Status

SEC5_P = np.array([[0.3, 0.8, 0.5, 0.4], [0.7, 0.2, 0.5, 0.6]])
SEC5_PY = np.array([0.5, 0.25, 0.125, 0.125])
SEC5 = SEC5_P * SEC5_PY


def _random_vertices(p_xy, eps, count: int):
    """Vertices of the feasible polytope (as Q, shape (|Y|, K)) found by LPs with random
    objectives (HiGHS, seed 0); each LP must succeed."""
    G, E, py = _polytope(p_xy, eps)
    rng = np.random.default_rng(0)
    for _ in range(count):
        res = linprog(
            rng.normal(size=G.shape[1]),
            A_ub=-G,
            b_ub=np.zeros(len(G)),
            A_eq=E,
            b_eq=py,
            bounds=(None, None),
            method="highs",
        )
        assert res.status == 0
        yield np.clip(res.x, 0, None).reshape(len(py), len(eps))


def _polytope(p_xy, eps):
    """H-representation of {Q >= 0 : sum_u Q[:, u] = P_Y, ||A q_u||_1 <= eps_u 1'q_u},
    Q flattened row-major (y, u): inequality rows G x >= 0, equalities E x = P_Y."""
    py, px = p_xy.sum(0), p_xy.sum(1)
    A = p_xy / py - px[:, None]
    ny, K = len(py), len(eps)
    G = [np.eye(ny * K)]
    for u, e in enumerate(eps):
        for s in itertools.product((-1.0, 1.0), repeat=A.shape[0]):
            if len(set(s)) == 1:
                continue  # s'A = 0: the row would be eps 1'q >= 0, implied by Q >= 0
            g = e * np.ones(ny) - np.array(s) @ A
            row = np.zeros((ny, K))
            row[:, u] = g
            G.append(row.reshape(1, -1))
    E = np.kron(np.eye(ny), np.ones((1, K)))
    return np.vstack(G), E, py


def _cdd_optimum(p_xy, eps):
    """max I(U;Y) over the vertices that cdd enumerates (bits), and the vertex count."""
    G, E, py = _polytope(p_xy, eps)
    rows = [[0.0, *g] for g in G] + [[-b, *e] for e, b in zip(E, py, strict=True)]
    lin = list(range(len(G), len(rows)))
    m = cdd.matrix_from_array(rows, rep_type=cdd.RepType.INEQUALITY, lin_set=lin)
    gen = np.array(cdd.copy_generators(cdd.polyhedron_from_matrix(m)).array)
    V = np.clip(gen[gen[:, 0] == 1][:, 1:], 0, None).reshape(-1, len(py), len(eps))
    return float(_utility_nats(V, py).max() / math.log(2)), len(V)


CASES = [
    (2, 3, [0.1, 0.05, 0.0]),
    (2, 3, [0.1, 0.1, 0.1]),
    (3, 3, [0.2, 0.05]),
    (2, 4, [0.1, 0.02, 0.0]),
    (3, 4, [0.1, 0.1, 0.0]),
    (2, 2, [0.3, 0.0]),
]


# seeds 1-3: on seed 0's 3x4 joint, cdd's floating-point mode stops with "numerical
# inconsistency" (pycddlib-standalone ships without GMP exact arithmetic)
@pytest.mark.parametrize("seed", range(1, 4))
@pytest.mark.parametrize(("nx", "ny", "eps"), CASES)
def test_matches_cdd_vertex_enumeration(nx, ny, eps, seed):
    p_xy = np.random.default_rng(seed).dirichlet(np.ones(nx * ny)).reshape(nx, ny)
    d = optimal_l1(p_xy, eps)
    ref, n_vertices = _cdd_optimum(p_xy, eps)
    assert n_vertices > 0
    assert d.utility == pytest.approx(ref, abs=1e-10)
    assert d.max_violation <= 1e-9 and d.mechanism.min() >= 0
    np.testing.assert_allclose(d.mechanism.sum(axis=1), 1, atol=1e-12)


def test_section_v_example():
    """Paper 001, Section V: the printed 0.9109 is below even the perfect-privacy optimum."""
    d = optimal_l1(SEC5, [0.01, 0.01, 0.01, 0.0])
    ref, _ = _cdd_optimum(SEC5, [0.01, 0.01, 0.01, 0.0])
    assert d.utility == pytest.approx(ref, abs=1e-12)
    assert d.utility == pytest.approx(0.926616548522792, abs=1e-12)
    perfect = optimal_l1(SEC5, [0.0] * 4)
    assert perfect.utility == pytest.approx(0.9152579568703373, abs=1e-12)
    assert perfect.utility > 0.9109 and d.utility > perfect.utility
    np.testing.assert_allclose(np.nan_to_num(perfect.leakages), 0, atol=1e-12)
    assert d.leakages[3] == pytest.approx(0.0, abs=1e-12)  # the perfectly private letter


def test_no_feasible_point_beats_it():
    """Vertices found by an LP with random objectives (HiGHS) never exceed the optimum."""
    eps = [0.05, 0.02, 0.0]
    p_xy = np.random.default_rng(11).dirichlet(np.ones(8)).reshape(2, 4)
    best = optimal_l1(p_xy, eps).utility
    py = p_xy.sum(0)
    for Q in _random_vertices(p_xy, eps, 200):
        assert _utility_nats(Q, py) / math.log(2) <= best + 1e-9


def test_monotone_in_budgets_and_letters():
    p_xy = np.random.default_rng(3).dirichlet(np.ones(8)).reshape(2, 4)
    a = optimal_l1(p_xy, [0.05, 0.0]).utility
    b = optimal_l1(p_xy, [0.05, 0.02]).utility
    c = optimal_l1(p_xy, [0.05, 0.02, 0.0]).utility
    assert a <= b + 1e-12 <= c + 2e-12


def test_unconstrained_budgets_release_y():
    """ℓ1 <= 2 always, so budgets of 2 with K = |Y| letters let U = Y: I = H(Y)."""
    p_xy = np.random.default_rng(4).dirichlet(np.ones(6)).reshape(2, 3)
    d = optimal_l1(p_xy, [2.0, 2.0, 2.0])
    assert d.utility == pytest.approx(lk.entropy(p_xy.sum(0)), abs=1e-12)


def test_size_limit_and_bad_inputs():
    with pytest.raises(lk.InvalidParameterError, match=r"too large .* max_assignments=5 "):
        optimal_l1(SEC5, [0.01, 0.01, 0.01, 0.0], method="enumerate", max_assignments=5)
    with pytest.raises(lk.InvalidParameterError, match="'method' argument"):
        optimal_l1(SEC5, [0.1], method="simplex")
    with pytest.raises(lk.InvalidParameterError, match="'max_nodes' argument"):
        optimal_l1(SEC5, [0.1], max_nodes=0)
    big = np.full((13, 2), 1 / 26)
    with pytest.raises(lk.InvalidParameterError, match=r"\|X\| <= 12"):
        optimal_l1(big, [0.1])
    with pytest.raises(lk.InvalidParameterError, match="'eps' argument"):
        optimal_l1(SEC5, [0.1, -0.1])
    with pytest.raises(lk.InvalidDistributionError, match="must sum to 1"):
        optimal_l1(SEC5 * 2, [0.1])


def test_branch_and_bound_matches_enumeration():
    """Seeded random small instances: B&B (own bound, own search) = vertex enumeration."""
    rng = np.random.default_rng(2026)
    for _ in range(20):
        nx, ny, K = int(rng.integers(2, 4)), int(rng.integers(2, 5)), int(rng.integers(1, 4))
        eps = rng.choice([0.0, 0.02, 0.05, 0.1, 0.3, 2.0], size=K)
        p_xy = rng.dirichlet(np.ones(nx * ny)).reshape(nx, ny)
        b = optimal_l1(p_xy, eps, method="bnb", max_nodes=5000)
        e = optimal_l1(p_xy, eps, method="enumerate")
        assert b.details["status"] is Status.OPTIMAL, (nx, ny, eps)
        assert b.utility == pytest.approx(e.utility, abs=1e-7), (nx, ny, eps)
        assert e.utility <= b.details["upper_bound"] + 1e-12
        assert 0 <= b.details["gap"] <= 1e-7
        assert b.max_violation <= 1e-9


def test_branch_and_bound_section_v_and_auto():
    d = optimal_l1(SEC5, [0.01, 0.0], method="bnb")
    assert d.details["status"] is Status.OPTIMAL
    assert d.utility == pytest.approx(optimal_l1(SEC5, [0.01, 0.0]).utility, abs=1e-9)
    auto = optimal_l1(SEC5, [0.01, 0.01, 0.01, 0.0])
    assert auto.method == "exact vertex enumeration"  # small: auto enumerates
    assert auto.details["upper_bound"] == auto.utility and auto.details["gap"] == 0
    assert auto.status is Status.OPTIMAL and auto.gap == 0
    chi2 = lk.pointwise.design_chi2([[0.3, 0.2], [0.1, 0.4]], [0.1, 0.1])
    assert chi2.status is None and np.isnan(chi2.upper_bound)  # approximate: no claim


def test_a_limit_gives_best_found_status_gap_and_warning():
    opt = 0.926616548522792
    with pytest.warns(lk.ConvergenceWarning, match=r"max_nodes=5 .* gap"):
        d = optimal_l1(SEC5, [0.01, 0.01, 0.01, 0.0], method="bnb", max_nodes=5)
    assert d.details["status"] is Status.NOT_CERTIFIED
    assert d.details["limit"] == "max_nodes=5"
    assert d.utility <= opt + 1e-12 <= d.details["upper_bound"] + 2e-12
    assert d.details["gap"] == pytest.approx(d.details["upper_bound"] - d.utility, abs=1e-15)
    assert d.status is Status.NOT_CERTIFIED and d.gap == pytest.approx(d.details["gap"])
    assert d.upper_bound == d.details["upper_bound"]
    assert d.max_violation <= 1e-9
    # the old keyword is now a node limit of the search, not an exception
    with pytest.warns(lk.ConvergenceWarning, match="max_nodes=5"):
        old = optimal_l1(SEC5, [0.01, 0.01, 0.01, 0.0], max_assignments=5)
    assert old.details["status"] is Status.NOT_CERTIFIED
    with pytest.warns(lk.ConvergenceWarning, match=r"max_time=1e-06 s"):
        t = optimal_l1(SEC5, [0.01, 0.01, 0.01, 0.0], method="bnb", max_time=1e-6)
    assert t.details["status"] is Status.NOT_CERTIFIED


def _cone_rays_cdd(A, eps):
    """Extreme rays (sum 1) of {q >= 0 : ||A q||_1 <= eps 1'q}, by cdd (independent)."""
    ny = A.shape[1]
    rows = [[0.0, *np.eye(ny)[y]] for y in range(ny)]
    for s in itertools.product((-1.0, 1.0), repeat=A.shape[0]):
        rows.append([0.0, *(eps * np.ones(ny) - np.array(s) @ A)])
    m = cdd.matrix_from_array(rows, rep_type=cdd.RepType.INEQUALITY)
    gen = np.array(cdd.copy_generators(cdd.polyhedron_from_matrix(m)).array)
    R = gen[gen[:, 0] == 0][:, 1:]
    return R / R.sum(axis=1, keepdims=True)


def _check_certificate(p_xy, eps, d):
    """Re-check a design and its bound independently of the solver."""
    py, px = p_xy.sum(0), p_xy.sum(1)
    M = d.mechanism
    assert M.min() >= 0 and np.allclose(M.sum(axis=1), 1, atol=1e-12)
    assert d.utility == pytest.approx(lk.mutual_information(py, M), abs=1e-12)
    q = p_xy @ M  # P(x, u)
    pu = q.sum(axis=0)
    used = pu > 1e-15
    l1 = np.abs(q[:, used] / pu[used] - px[:, None]).sum(axis=0)
    assert np.all(l1 <= np.asarray(eps)[used] + 1e-9)
    up = d.details["upper_bound"]
    assert up == pytest.approx(d.utility + d.details["gap"], abs=1e-15) and up >= d.utility
    # the bound is at most the cone relaxation (largest budget, any number of letters),
    # computed here from cdd's rays with an LP ...
    A = p_xy / py - px[:, None]
    R = _cone_rays_cdd(A, max(eps))
    fr = np.array([_utility_nats(r[:, None], py) for r in R])
    cone = linprog(-fr, A_eq=R.T, b_eq=py, bounds=(0, None), method="highs")
    assert up <= -cone.fun / math.log(2) + 1e-9
    # ... and at least every vertex that LPs with random objectives find
    for Q in _random_vertices(p_xy, eps, 100):
        assert _utility_nats(Q, py) / math.log(2) <= up + 1e-9


def test_certified_optimum_at_the_target_size():
    """|X| = 2, |Y| = 8, K = 4 (the issue's target; timings in benchmarks/): certified, and
    the certificate re-checked independently."""
    p_xy = np.random.default_rng(2).dirichlet(np.ones(16)).reshape(2, 8)
    eps = [0.2, 0.1, 0.1, 0.05]
    d = optimal_l1(p_xy, eps)
    assert d.method.startswith("branch and bound")
    assert d.details["status"] is Status.OPTIMAL and d.details["gap"] <= 1e-7
    _check_certificate(p_xy, eps, d)


def test_node_limited_certificate_with_three_secrets():
    """|X| = 3, |Y| = 8, K = 4 stopped early: a valid design with a proved bound."""
    p_xy = np.random.default_rng(3).dirichlet(np.ones(24)).reshape(3, 8)
    eps = [0.1, 0.05, 0.02, 0.0]
    with pytest.warns(lk.ConvergenceWarning, match="max_nodes=3"):
        d = optimal_l1(p_xy, eps, max_nodes=3)
    assert d.details["status"] is Status.NOT_CERTIFIED and d.details["gap"] > 0
    _check_certificate(p_xy, eps, d)


def test_branch_and_bound_matches_enumeration_at_five_letters_of_y():
    p_xy = np.random.default_rng(5).dirichlet(np.ones(10)).reshape(2, 5)
    for eps in ([0.1, 0.05, 0.0], [0.05, 0.05, 0.05]):
        b = optimal_l1(p_xy, eps, method="bnb")
        e = optimal_l1(p_xy, eps, method="enumerate")
        assert b.details["status"] is Status.OPTIMAL
        assert b.utility == pytest.approx(e.utility, abs=1e-7)
        assert e.utility <= b.details["upper_bound"] + 1e-12


@pytest.mark.slow
def test_certified_optimum_with_three_secrets_hard_instance():
    """The issue-18 benchmark instance the box regions could not certify in 60 s (|X| = 3,
    |Y| = 8, K = 4, seed 2): certified on direction regions, certificate re-checked, and
    the direction-region and box-region searches agree on small instances."""
    p_xy = np.random.default_rng(2).dirichlet(np.ones(24)).reshape(3, 8)
    eps = [0.1, 0.05, 0.02, 0.0]
    d = optimal_l1(p_xy, eps)
    assert d.details["status"] is Status.OPTIMAL and d.details["gap"] <= 1e-7
    assert d.utility == pytest.approx(1.4230054227, abs=1e-9)
    _check_certificate(p_xy, eps, d)


def test_direction_and_box_regions_agree():
    """The two region types of the branch and bound (directions q/1'q, joint columns q)
    certify the same optimum, and both match the enumeration."""
    from leakage.pointwise._bnb import branch_and_bound
    from leakage.pointwise.exact import _constraint_rows

    rng = np.random.default_rng(7)
    for _ in range(6):
        nx, ny = int(rng.integers(2, 4)), int(rng.integers(3, 6))
        eps = rng.choice([0.0, 0.02, 0.05, 0.1], size=3)
        p_xy = rng.dirichlet(np.ones(nx * ny)).reshape(nx, ny)
        py = p_xy.sum(0)
        A = p_xy / py - p_xy.sum(1)[:, None]
        G = [_constraint_rows(A, e) for e in eps]
        groups = [[u for u in range(3) if eps[u] == e] for e in sorted(set(eps))]
        vals = []
        for directions in (True, False):
            r = branch_and_bound(
                py, G, groups, max_nodes=5000, max_time=None, gap_tol=1e-9, directions=directions
            )
            assert r.limit is None and r.upper - r.value <= 1e-9 + 1e-12
            vals.append(r.value / math.log(2))
        e = optimal_l1(p_xy, eps, method="enumerate").utility
        assert vals == pytest.approx([e, e], abs=1e-8), (nx, ny, eps)


def test_direction_regions_with_equal_budgets_match_enumeration():
    """Direction regions order letters with equal budgets on one coordinate (a symmetry cut
    in the branching): the certified optimum is still the enumeration's, at |X| = 2 and 3."""
    from leakage.pointwise._bnb import branch_and_bound
    from leakage.pointwise.exact import _constraint_rows

    rng = np.random.default_rng(18)
    for k in range(8):
        nx, ny, K = 2 + k % 2, int(rng.integers(3, 6)), int(rng.integers(2, 5))
        eps = [float(rng.choice([0.02, 0.05, 0.1, 0.3]))] * K
        if k >= 6:  # a group of equal budgets next to a distinct one
            eps[0] = 0.0
        p_xy = rng.dirichlet(np.ones(nx * ny)).reshape(nx, ny)
        py = p_xy.sum(0)
        A = p_xy / py - p_xy.sum(1)[:, None]
        G = [_constraint_rows(A, e) for e in eps]
        groups = [[u for u in range(K) if eps[u] == e] for e in sorted(set(eps))]
        r = branch_and_bound(
            py, G, groups, max_nodes=20000, max_time=None, gap_tol=1e-10, directions=True
        )
        e = optimal_l1(p_xy, eps, method="enumerate").utility
        assert r.limit is None and r.upper - r.value <= 1e-10 + 1e-12
        assert r.value / math.log(2) == pytest.approx(e, abs=1e-8), (nx, ny, eps)
        assert e <= r.upper / math.log(2) + 1e-12


@pytest.mark.slow
def test_certified_optimum_with_three_secrets_equal_budgets():
    """The issue-18 benchmark instance with equal budgets (|X| = 3, |Y| = 8, K = 4, seed 2;
    not certified in 60 s before the order on direction regions): certified, certificate
    re-checked."""
    p_xy = np.random.default_rng(2).dirichlet(np.ones(24)).reshape(3, 8)
    eps = [0.05] * 4
    d = optimal_l1(p_xy, eps)
    assert d.details["status"] is Status.OPTIMAL and d.details["gap"] <= 1e-7
    assert d.utility == pytest.approx(1.4187333102, abs=1e-9)
    _check_certificate(p_xy, eps, d)


def test_enumeration_drops_letters_of_rounding_mass():
    """A vertex with a letter of mass ~1e-15 (rounding) once came out with that letter's
    direction as noise, outside its budget ("internal error, a budget is exceeded")."""
    p_xy = np.array([[0.2048, 0.3064, 0.1498], [0.0172, 0.1185, 0.0476], [0.0333, 0.1043, 0.018]])
    p_xy /= p_xy.sum()
    e = optimal_l1(p_xy, [0.1, 0.0], method="enumerate")
    b = optimal_l1(p_xy, [0.1, 0.0], method="bnb")
    assert e.max_violation <= 1e-9 and b.details["status"] is Status.OPTIMAL
    assert e.utility == pytest.approx(b.utility, abs=1e-9)
