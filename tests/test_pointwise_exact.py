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

SEC5_P = np.array([[0.3, 0.8, 0.5, 0.4], [0.7, 0.2, 0.5, 0.6]])
SEC5_PY = np.array([0.5, 0.25, 0.125, 0.125])
SEC5 = SEC5_P * SEC5_PY


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
    G, E, py = _polytope(p_xy, eps)
    rng = np.random.default_rng(0)
    for _ in range(200):
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
        Q = np.clip(res.x, 0, None).reshape(len(py), len(eps))
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
        optimal_l1(SEC5, [0.01, 0.01, 0.01, 0.0], max_assignments=5)
    big = np.full((13, 2), 1 / 26)
    with pytest.raises(lk.InvalidParameterError, match=r"\|X\| <= 12"):
        optimal_l1(big, [0.1])
    with pytest.raises(lk.InvalidParameterError, match="'eps' argument"):
        optimal_l1(SEC5, [0.1, -0.1])
    with pytest.raises(lk.InvalidDistributionError, match="must sum to 1"):
        optimal_l1(SEC5 * 2, [0.1])
