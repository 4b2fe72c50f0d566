"""Proposition 1's E-IT approximations (paper 002) against the exact quantities."""

from __future__ import annotations

import numpy as np
import pytest

import leakage as lk
from leakage.hypothesis import eit_divergence, eit_leakage


def _setup(seed, centred_for=None):
    rng = np.random.default_rng(seed)
    M, N = 3, 4
    pk, p1 = rng.dirichlet(np.ones(M) * 3), rng.dirichlet(np.ones(M) * 3)
    w0 = rng.dirichlet(np.ones(N) * 3)
    T = rng.standard_normal((M, N))
    T -= T.mean(axis=1, keepdims=True)  # rows sum to 0 (eq. (46))
    if centred_for is not None:  # the p-weighted mean row of Theta is zero
        T -= (centred_for @ T)[None, :]
    T *= 0.5 * w0.min() / np.abs(T).max()
    return pk, p1, w0, T


@pytest.mark.parametrize("seed", range(4))
def test_divergence_approximation_error_is_third_order(seed):
    pk, p1, w0, T = _setup(seed)
    errs = []
    for t in (0.2, 0.1, 0.05, 0.025):
        W = w0[None, :] + t * T
        exact = lk.kl_divergence(pk @ W, p1 @ W)
        approx = eit_divergence(pk, p1, w0, t * T)
        errs.append(abs(exact - approx) / t**2)
    # error / t^2 -> 0 linearly in t: halving t halves it
    ratios = np.array(errs[:-1]) / np.array(errs[1:])
    assert np.all((ratios > 1.6) & (ratios < 2.5))


@pytest.mark.parametrize("seed", range(4))
def test_centred_leakage_expansion_is_second_order_exact(seed):
    pk, _, w0, T = _setup(seed)
    errs = []
    for t in (0.2, 0.1, 0.05, 0.025):
        W = w0[None, :] + t * T
        exact = lk.mutual_information(pk, W)
        errs.append(abs(exact - eit_leakage(pk, w0, t * T)) / t**2)
    ratios = np.array(errs[:-1]) / np.array(errs[1:])
    assert np.all((ratios > 1.6) & (ratios < 2.5))


def test_printed_eq_12_is_off_at_second_order_unless_centred():
    """ERRATA 002: (12) drops the mean term ½‖p_k A‖², so its error / t² tends to that
    constant; for a p_k-centred perturbation it coincides with the expansion."""
    pk, _, w0, T = _setup(7)
    A = T / np.sqrt(w0)[None, :]
    mean_term = lk.units.from_nats(0.5 * float(np.sum((pk @ A) ** 2)), 2)
    t = 1e-3
    W = w0[None, :] + t * T
    exact = lk.mutual_information(pk, W)
    gap = (eit_leakage(pk, w0, t * T, centred=False) - exact) / t**2
    assert gap == pytest.approx(mean_term, rel=1e-2) and mean_term > 0
    pk_c, _, w0_c, T_c = _setup(8)
    T_c -= (pk_c @ T_c)[None, :]  # p_k-centred: the mean term vanishes
    for f in (eit_leakage(pk_c, w0_c, t * T_c, centred=False), eit_leakage(pk_c, w0_c, t * T_c)):
        assert f == pytest.approx(lk.mutual_information(pk_c, w0_c[None, :] + t * T_c), rel=1e-2)


def test_units_and_errors():
    pk, p1, w0, T = _setup(1)
    bits = eit_divergence(pk, p1, w0, 0.1 * T)
    nats = eit_divergence(pk, p1, w0, 0.1 * T, base=np.e)
    assert nats == pytest.approx(bits * np.log(2))
    with pytest.raises(lk.InvalidParameterError, match="w0"):
        eit_leakage(pk, [0.0, 0.5, 0.25, 0.25], 0.1 * T)
    with pytest.raises(lk.InvalidParameterError, match="sum to 0"):
        eit_leakage(pk, w0, T + 1.0)
    with pytest.raises(lk.InvalidParameterError, match="Theta"):
        eit_leakage(pk, w0, T[:, :2])
