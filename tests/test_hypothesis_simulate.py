"""Monte-Carlo Neyman–Pearson tests on privatized samples (paper 002)."""

from __future__ import annotations

import numpy as np
import pytest

import leakage as lk
from leakage.hypothesis import optimal_mechanism, simulate_test

PS = [(0.55, 0.45), (0.95, 0.05)]


def test_monte_carlo_matches_the_exact_tail_within_its_interval():
    W = optimal_mechanism(PS, 0.05).mechanism
    assert W.shape[1] == 2
    r = simulate_test(PS, W, [10, 30, 60, 120], 20_000, rng=3, confidence=0.999)
    inside = (r.interval[:, 0] <= r.exact_missed) & (r.exact_missed <= r.interval[:, 1])
    assert inside.all()
    assert np.all(r.false_alarm <= r.delta + 3 * np.sqrt(r.delta / r.trials))
    assert r.stein_exponent == pytest.approx(
        lk.kl_divergence(np.asarray(PS[1]) @ W, np.asarray(PS[0]) @ W), rel=1e-12
    )


def test_the_exponent_is_the_stein_exponent_in_the_limit():
    """The exact missed-detection tail of the same test, at sample sizes Monte Carlo
    cannot reach: -(1/n) log beta approaches D(p_2 W || p_1 W) from below."""
    W = optimal_mechanism(PS, 0.2).mechanism
    r = simulate_test(PS, W, [100, 400, 1600], 4000, rng=0)
    with np.errstate(divide="ignore"):
        ex = -np.log2(r.exact_missed) / r.ns
    gaps = r.stein_exponent - ex
    assert np.all(gaps > 0) and np.all(np.diff(gaps) < 0)
    assert gaps[-1] < 0.2 * r.stein_exponent


def test_more_outputs_use_monte_carlo_only_and_bad_inputs():
    ps = [(0.5, 0.3, 0.2), (0.2, 0.3, 0.5)]
    W = np.eye(3)
    r = simulate_test(ps, W, 20, 5000, rng=1)
    assert np.isnan(r.exact_missed).all() and 0 <= r.missed[0] <= 1
    with pytest.raises(lk.InvalidParameterError, match="identical"):
        simulate_test(ps, np.ones((3, 1)), 20, 100)
    with pytest.raises(lk.InvalidParameterError, match="'n'"):
        simulate_test(ps, W, 0, 100)
    with pytest.raises(lk.InvalidParameterError, match="delta"):
        simulate_test(ps, W, 10, 100, delta=1.5)
    with pytest.raises(lk.InvalidDistributionError, match="one row per letter"):
        simulate_test(ps, np.eye(2), 10, 100)
