"""leakage.estimate.from_system: sequential estimation from a black-box system."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import integrate, stats

import leakage as lk
from leakage import estimate as E
from leakage.estimate import _system as S

W3 = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.2, 0.2, 0.6]])
P3 = np.array([0.5, 0.3, 0.2])
CUM3 = W3.cumsum(axis=1)


def channel3(secrets, rng):
    """Vectorized system with the known channel W3."""
    u = rng.random(secrets.shape[0])
    return (u[:, None] > CUM3[secrets]).sum(axis=1)


def truth3(measure):
    joint = P3[:, None] * W3
    v_post = joint.max(axis=0).sum()
    return {
        "mutual_information": lk.mutual_information(P3, W3),
        "maximal_leakage": lk.maximal_leakage(P3, W3),
        "sibson": lk.sibson_mutual_information(P3, W3, 2.0),
        "min_entropy_leakage": math.log2(v_post / P3.max()),
        "bayes_vulnerability": v_post,
        "bayes_risk": 1 - v_post,
    }[measure]


def bsc(bit, rng):
    """Scalar system: a binary symmetric channel with crossover 0.1."""
    return bit ^ int(rng.random() < 0.1)


def test_stops_at_width_with_truth_inside_and_reports_its_run():
    est = E.from_system(bsc, [0.5, 0.5], width=0.05, rng=3)
    truth = 1 - lk.entropy([0.1, 0.9])
    d = est.details
    assert est.lower <= truth <= est.upper and est.width <= 0.05
    assert d["reached_width"] and d["stopped"] == "width"
    assert est.n == d["samples"] == d["calls"] == d["history"][-1][0]
    assert d["schedule"][: d["looks"]] == [h[0] for h in d["history"]]
    assert d["schedule"][0] == 1000 and d["schedule"][-1] == 1_000_000
    assert all(b == 2 * a for a, b in zip(d["schedule"][:-2], d["schedule"][1:-1], strict=True))
    assert d["look_level"] == pytest.approx(1 - 0.05 / len(d["schedule"]))
    assert est.level == 0.95 and est.measure == "mutual_information"
    assert "Bonferroni" in est.interval
    # the earlier looks were wider than the target (else the run would have stopped there)
    assert all(h[3] - h[2] > 0.05 for h in d["history"][:-1])
    assert d["counts"].n == est.n
    # the returned numbers are those of the estimator on the same pairs at the look level
    again = E.mutual_information(d["counts"], interval=None)
    assert est.value == pytest.approx(again.value, abs=1e-12)


def test_reproducible_and_vectorized_same_measure():
    a = E.from_system(channel3, P3, width=0.1, vectorized=True, rng=7)
    b = E.from_system(channel3, P3, width=0.1, vectorized=True, rng=7)
    assert a.value == b.value and a.lower == b.lower and a.n == b.n
    assert a.details["calls"] == a.details["looks"]  # one call per look


@pytest.mark.parametrize(
    "measure, kw",
    [
        ("maximal_leakage", {}),
        ("sibson", {"alpha": 2.0}),
        ("min_entropy_leakage", {}),
        ("bayes_vulnerability", {}),
        ("bayes_risk", {}),
    ],
)
def test_every_measure_brackets_its_truth(measure, kw):
    est = E.from_system(channel3, P3, measure=measure, width=0.08, vectorized=True, rng=11, **kw)
    assert est.lower <= truth3(measure) <= est.upper and est.width <= 0.08


def test_labels_from_a_mapping_prior_and_tuple_observables():
    def sys(s, rng):  # a tuple observable: (length bucket, parity)
        noisy = len(s) + int(rng.integers(0, 2))
        return (noisy // 2, noisy % 2)

    est = E.from_system(sys, {"a": 0.25, "bb": 0.25, "cccc": 0.5}, width=0.1, rng=0)
    c = est.details["counts"]
    assert sorted(c.labels_x.tolist()) == ["a", "bb", "cccc"]
    assert all(isinstance(v, tuple) for v in c.labels_y.tolist())
    # exact: X in {1, 2, 4} (by length) + Bernoulli(1/2) -> I = H(Y) - 1
    p_y = np.array([0.125, 0.25, 0.125, 0.25, 0.25])
    truth = lk.entropy(p_y) - 1.0
    assert est.lower <= truth <= est.upper


def test_max_samples_reached_warns_with_projection():
    with pytest.warns(lk.ConvergenceWarning, match="about [0-9,]+ samples"):
        est = E.from_system(channel3, P3, width=0.001, max_samples=5000, vectorized=True, rng=0)
    d = est.details
    assert est.n == 5000 and not d["reached_width"] and d["stopped"] == "max_samples"
    assert d["schedule"] == [1000, 2000, 4000, 5000]
    # width ~ 1/sqrt(n): the projection scales the samples by (width / target)^2
    assert d["samples_needed"] == math.ceil(5000 * (est.width / 0.001) ** 2) > 5000


def test_max_time_stops_between_looks():
    with pytest.warns(lk.ConvergenceWarning, match="max_time"):
        est = E.from_system(channel3, P3, width=1e-4, max_time=1e-6, vectorized=True, rng=0)
    assert est.details["looks"] == 1 and est.details["stopped"] == "max_time"


def test_continuous_outputs_with_a_discrete_method_warn():
    def timing(s, rng):
        return s + rng.normal(size=s.shape[0])

    with pytest.warns(lk.errors.SmallCountWarning, match="method='knn'"):
        E.from_system(timing, [0.5, 0.5], width=10.0, initial_samples=100, vectorized=True, rng=0)


def test_knn_numeric_observable_against_integrated_truth():
    """X uniform on {0, 1}, Y = X + N(0, 1): I = h(Y) - h(N) by quadrature."""

    def mix(y):
        return 0.5 * (stats.norm.pdf(y) + stats.norm.pdf(y - 1))

    h_y = integrate.quad(lambda y: -mix(y) * np.log2(mix(y)), -12, 13)[0]
    truth = h_y - 0.5 * np.log2(2 * np.pi * np.e)

    def gauss(s, rng):
        return s + rng.normal(size=s.shape[0])

    est = E.from_system(
        gauss, [0.5, 0.5], method="knn", width=0.2, vectorized=True, resamples=50, rng=2
    )
    assert est.method == "knn" and "bootstrap-normal" in est.interval
    assert est.lower <= truth <= est.upper and est.width <= 0.2
    # the interval is value +- z se at the per-look level
    d = est.details
    z = stats.norm.isf((1 - d["look_level"]) / 2)
    assert est.upper == pytest.approx(d["raw_value"] + z * d["standard_error"])


@pytest.mark.slow
@pytest.mark.parametrize(
    "measure, reps, width",
    [("mutual_information", 200, 0.08), ("maximal_leakage", 100, 0.1)],
)
def test_coverage_at_the_stop_is_at_least_nominal(measure, reps, width):
    """The interval at a data-dependent stop holds the truth at >= level (95%), within
    binomial error (the union bound over looks makes it conservative)."""
    truth = truth3(measure)
    hits = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lk.ConvergenceWarning)
        for r in range(reps):
            est = E.from_system(
                channel3,
                P3,
                measure=measure,
                width=width,
                vectorized=True,
                initial_samples=200,
                rng=1000 + r,
            )
            hits += est.lower <= truth <= est.upper
    floor = 0.95 - 2.33 * math.sqrt(0.95 * 0.05 / reps)
    assert hits / reps >= floor


def test_union_bound_schedule():
    assert S._schedule(1000, 1000) == [1000]
    assert S._schedule(1000, 4500) == [1000, 2000, 4000, 4500]
    assert S._schedule(10, 80) == [10, 20, 40, 80]


# ------------------------------------------------------------------------------ bad input


def raises_value_error(s, rng):
    raise ValueError("sensor offline")


@pytest.mark.parametrize(
    "args, kw, error, text",
    [
        ((bsc, [0.5, 0.5]), {"width": 0}, lk.InvalidParameterError, "'width'"),
        ((bsc, [0.5, 0.5]), {"width": -1}, lk.InvalidParameterError, "'width'"),
        ((bsc, [1.0, 0.0]), {}, lk.InvalidDistributionError, "at least 2"),
        ((bsc, [0.5, 0.6]), {}, lk.InvalidDistributionError, "'prior'"),
        (("bsc", [0.5, 0.5]), {}, lk.InvalidParameterError, "'system'"),
        ((bsc, [0.5, 0.5]), {"measure": "entropy"}, lk.InvalidParameterError, "'measure'"),
        ((bsc, [0.5, 0.5]), {"measure": "sibson"}, lk.InvalidParameterError, "alpha"),
        (
            (bsc, [0.5, 0.5]),
            {"measure": "maximal_leakage", "method": "knn"},
            lk.InvalidParameterError,
            "applies to",
        ),
        (
            (bsc, [0.5, 0.5]),
            {"measure": "maximal_leakage", "method": "plugin"},
            lk.InvalidParameterError,
            "plug-in estimate",
        ),
        ((bsc, [0.5, 0.5]), {"max_samples": 10**9}, lk.InvalidParameterError, "limit"),
        ((bsc, [0.5, 0.5]), {"level": 1.0}, lk.InvalidParameterError, "'level'"),
        ((bsc, [0.5, 0.5]), {"vectorized": "yes"}, lk.InvalidParameterError, "'vectorized'"),
        ((bsc, [0.5, 0.5]), {"max_time": 0}, lk.InvalidParameterError, "'max_time'"),
    ],
)
def test_bad_arguments(args, kw, error, text):
    with pytest.raises(error, match=text):
        E.from_system(*args, **kw)


def test_a_system_that_raises_is_reported_with_its_secret_and_cause():
    with pytest.raises(lk.SystemCallError, match="sensor offline on secret") as info:
        E.from_system(raises_value_error, [0.5, 0.5], rng=0)
    assert isinstance(info.value.__cause__, ValueError)


@pytest.mark.parametrize(
    "system, kw, text",
    [
        (lambda s, rng: s[:-1], {"vectorized": True}, "one observable per secret"),
        (lambda s, rng: 3.0, {"vectorized": True}, "unsized"),
        (lambda s, rng: float("nan"), {}, "NaN"),
        (lambda s, rng: "slow", {"method": "knn"}, "numeric observables"),
        (lambda s, rng: float("inf") if s else 0.0, {"method": "knn"}, "non-finite"),
        (lambda s, rng: {"a": s}, {}, "hashable"),
    ],
)
def test_unusable_outputs(system, kw, text):
    with pytest.raises(lk.SystemCallError, match=text):
        E.from_system(system, [0.5, 0.5], width=0.1, max_samples=2000, rng=0, **kw)
