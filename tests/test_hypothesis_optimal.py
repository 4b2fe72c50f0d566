"""The certified optimum of paper 002's original problem (2)/(32)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

import leakage as lk
from leakage.hypothesis import design_binary, optimal_mechanism

CASES = [
    ([(0.55, 0.45), (0.95, 0.05)], 0.01, {}),
    ([(0.50, 0.50), (0.45, 0.55)], 0.05, {}),
    ([(0.10, 0.90), (0.05, 0.95)], 0.01, {}),
    ([(0.5, 0.3, 0.2), (0.2, 0.3, 0.5)], 0.02, {}),
    ([(0.5, 0.3, 0.2), (0.3, 0.4, 0.3), (0.2, 0.3, 0.5)], 0.02, {}),
    ([(0.15, 0.85), (0.10, 0.90), (0.20, 0.80)], 0.005, {}),
    ([(0.55, 0.45), (0.95, 0.05)], 0.01, {"utility": "renyi", "alpha": 0.5}),
]


def _utility(P, W, kind, alpha):
    q = P @ W
    if kind == "kl":
        return min(lk.kl_divergence(qk, q[0]) for qk in q[1:])
    return lk.renyi_divergence(q[1], q[0], alpha)


def _multistart(P, eps, N, kind, alpha, starts, seed):
    """Independent local search on the original problem: SLSQP on W (M×N) from random
    starts; returns the best feasible utility found (bits)."""
    rng = np.random.default_rng(seed)
    M = P.shape[1]
    best = 0.0

    def W_of(x):
        return np.abs(x).reshape(M, N) / np.abs(x).reshape(M, N).sum(axis=1, keepdims=True)

    cons = [
        {"type": "ineq", "fun": (lambda x, p=p: 1e3 * (eps - lk.mutual_information(p, W_of(x))))}
        for p in P
    ]
    for _ in range(starts):
        x0 = rng.dirichlet(np.ones(N), size=M) * 0.2 + 0.8 / N
        r = minimize(
            lambda x: -_utility(P, W_of(x), kind, alpha),
            x0.ravel(),
            method="SLSQP",
            constraints=cons,
            bounds=[(1e-12, 1)] * (M * N),
            options={"maxiter": 300, "ftol": 1e-12},
        )
        W = W_of(r.x)
        if all(lk.mutual_information(p, W) <= eps * (1 + 1e-9) for p in P):
            best = max(best, _utility(P, W, kind, alpha))
    return best


@pytest.mark.parametrize(("ps", "eps", "kw"), CASES)
def test_certified_gap_and_a_valid_mechanism(ps, eps, kw):
    d = optimal_mechanism(ps, eps, **kw)
    P = np.asarray(ps)
    W = d.mechanism
    assert W.min() >= 0 and np.allclose(W.sum(axis=1), 1, atol=1e-14)
    assert d.details["certified"] and d.gap >= 0
    assert d.gap <= 1e-8 * d.upper_bound
    assert np.all(d.leakages <= d.budgets * (1 + 1e-12))
    assert d.leakages == pytest.approx([lk.mutual_information(p, W) for p in P], rel=1e-12)
    assert d.utility == pytest.approx(_utility(P, W, d.utility_kind, kw.get("alpha")), rel=1e-12)


@pytest.mark.parametrize(("ps", "eps", "kw"), CASES[:4] + CASES[6:])
def test_no_local_search_beats_the_certified_bound(ps, eps, kw):
    P = np.asarray(ps)
    d = optimal_mechanism(ps, eps, **kw)
    for N in (2, 3, 4):
        found = _multistart(P, eps, N, d.utility_kind, kw.get("alpha"), starts=6, seed=N)
        assert found <= d.upper_bound * (1 + 1e-9)
    # and with N large enough the local search gets close to the optimum (from below)
    assert found >= 0.9 * d.utility


def test_two_by_two_against_a_dense_grid():
    """M = N = 2: the paper's exhaustive search, done densely: its best feasible value
    never exceeds the certified bound, and the optimum restricted to 2 outputs (the
    local polish) is at least the grid's best."""
    P = np.array([(0.55, 0.45), (0.95, 0.05)])
    eps = 0.01
    g = np.linspace(0, 1, 801)
    a, b = np.meshgrid(g, g, indexing="ij")
    W = np.stack([np.stack([a, 1 - a], -1), np.stack([b, 1 - b], -1)], -2)  # (.., 2, 2)
    q = np.einsum("km,...mn->...kn", P, W)
    from scipy.special import rel_entr, xlogy

    D = rel_entr(q[..., 1, :], q[..., 0, :]).sum(-1) / np.log(2)
    leak = np.stack(
        [
            (P[k][:, None] * (xlogy(W, W) - xlogy(W, q[..., k, None, :]))).sum((-1, -2))
            for k in range(2)
        ],
        -1,
    ) / np.log(2)
    ok = np.all(leak <= eps, axis=-1)
    grid_best = float(D[ok].max())
    d = optimal_mechanism(P, eps)
    assert grid_best <= d.upper_bound
    d2 = optimal_mechanism(P, eps, n_outputs=2)
    assert d2.mechanism.shape == (2, 2)
    assert d2.utility >= grid_best * (1 - 1e-6)
    assert d2.utility <= d.upper_bound
    # here two outputs suffice: the polish reaches the certified optimum
    assert d2.utility == pytest.approx(d.utility, rel=1e-7)


def test_e_it_design_never_beats_the_optimum_at_its_own_leakage():
    pair = ((0.55, 0.45), (0.95, 0.05))
    for eps in (0.001, 0.01, 0.05):
        w = design_binary(*pair, eps, eps)
        leak = float(w.leakages.max())
        opt = optimal_mechanism(list(pair), leak)
        assert w.utility <= opt.upper_bound * (1 + 1e-9)


@settings(max_examples=10, deadline=None)
@given(
    st.integers(2, 3),
    st.integers(0, 2**31 - 1),
    st.floats(0.002, 0.2),
)
def test_property_random_instances(M, seed, eps):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(M) * 2, size=2) * 0.9 + 0.1 / M
    d = optimal_mechanism(P, eps)
    assert d.utility <= d.upper_bound
    assert d.gap <= 1e-7 * d.upper_bound
    assert np.all(d.leakages <= eps * (1 + 1e-12))
    # monotone in the budget: a smaller budget never has a larger optimum
    d_small = optimal_mechanism(P, eps / 2)
    assert d_small.utility <= d.upper_bound * (1 + 1e-9)


def test_bad_inputs():
    with pytest.raises(lk.InvalidDistributionError, match="full support"):
        optimal_mechanism([(0.5, 0.5, 0.0), (0.2, 0.3, 0.5)], 0.1)
    with pytest.raises(lk.InvalidParameterError, match="m = 2"):
        optimal_mechanism([(0.5, 0.5), (0.4, 0.6), (0.3, 0.7)], 0.1, utility="renyi", alpha=0.5)
    with pytest.raises(lk.InvalidParameterError, match="alpha"):
        optimal_mechanism([(0.5, 0.5), (0.4, 0.6)], 0.1, utility="renyi", alpha=1.5)
    with pytest.raises(lk.InvalidParameterError, match="eps"):
        optimal_mechanism([(0.5, 0.5), (0.4, 0.6)], -0.1)
    z = optimal_mechanism([(0.5, 0.5), (0.4, 0.6)], 0.0)
    assert z.utility == pytest.approx(0.0, abs=1e-15) and z.upper_bound <= 1e-12
