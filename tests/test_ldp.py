"""Tests of leakage.ldp: protocols, estimators, epsilon, IBU, projection, report, figure."""

from __future__ import annotations

import itertools
import json
import math
import zlib

import numpy as np
import pytest
from scipy import stats

import leakage as lk
from leakage import ldp
from leakage.errors import (
    ConvergenceWarning,
    InvalidDistributionError,
    InvalidParameterError,
    LeakageError,
)

NAMES = ["grr", "oue", "rappor", "olh", "blh", "hadamard", "subset_selection"]


def make(name, k, eps):
    return ldp.PROTOCOLS[name](k, eps)


# ----------------------------------------------------------------------- closed forms


@pytest.mark.parametrize("k", [2, 3, 8, 50])
@pytest.mark.parametrize("eps", [0.1, 1.0, 4.0])
def test_grr_epsilon_and_maximal_leakage_closed_form(k, eps):
    W = ldp.grr(k, eps).channel
    assert ldp.epsilon(W) == pytest.approx(eps, rel=1e-12)
    e = math.exp(eps)
    expected = math.log2(k * e / (e + k - 1))
    assert lk.maximal_leakage(np.full(k, 1 / k), W) == pytest.approx(expected, rel=1e-12)
    assert ldp.report(W).maximal_leakage == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("eps", [0.5, 2.0])
def test_every_protocol_channel_is_eps_ldp(name, eps):
    P = make(name, 5, eps)
    W = P.channel
    assert W.shape == (5, P.n_outputs)
    np.testing.assert_allclose(W.sum(axis=1), 1.0, atol=1e-12)
    assert ldp.epsilon(W) == pytest.approx(eps, rel=1e-12)
    assert ldp.epsilon(P) == pytest.approx(eps, rel=1e-12)


def test_variance_closed_forms():
    n, k, eps = 1000, 8, 1.3
    e = math.exp(eps)
    f = np.arange(1, k + 1) / (k * (k + 1) / 2)
    grr = ldp.grr(k, eps).variance(n, f)
    np.testing.assert_allclose(
        grr, (e + k - 2) / (n * (e - 1) ** 2) + f * (k - 2) / (n * (e - 1)), rtol=1e-12
    )
    oue = ldp.oue(k, eps).variance(n, f)
    np.testing.assert_allclose(oue, 4 * e / (n * (e - 1) ** 2) + f / n, rtol=1e-12)
    had = ldp.hadamard(k, eps).variance(n, f)
    np.testing.assert_allclose(had, (e + 1) ** 2 / (n * (e - 1) ** 2) - f / n, rtol=1e-12)
    # OLH: Wang et al.'s formula with the family's exact q*; q* is within 1/P of 1/g
    P = ldp.olh(k, eps)
    g, p, q = P.g, P.p_star, P.q_star
    assert g == round(e + 1)
    assert p == pytest.approx(e / (e + g - 1))
    assert abs(q - 1 / g) < 1 / P.P
    np.testing.assert_allclose(
        P.variance(n, f), (f * p * (1 - p) + (1 - f) * q * (1 - q)) / (n * (p - q) ** 2)
    )
    # with an ideal hash (q* = 1/g) and g = e^eps + 1 this is 4e^eps/(n(e^eps-1)^2) + f term
    eps2 = math.log(3.0)  # e^eps + 1 = 4 exactly
    e2 = 3.0
    p2, q2 = e2 / (e2 + 3), 1 / 4
    ideal = (0 * p2 * (1 - p2) + 1 * q2 * (1 - q2)) / (n * (p2 - q2) ** 2)
    assert ideal == pytest.approx(4 * e2 / (n * (e2 - 1) ** 2))
    assert ldp.olh(1 << 12, eps2).variance(n)[0] == pytest.approx(ideal, rel=1e-3)
    # iid adds f(1 - f)/n
    np.testing.assert_allclose(ldp.grr(k, eps).variance(n, f, iid=True), grr + f * (1 - f) / n)


def test_unary_channel_equals_product_form():
    k = 4
    for P in (ldp.oue(k, 0.8), ldp.rappor(k, 0.8)):
        W = P.channel
        p, q = P.p_star, P.q_star
        for x in range(k):
            for y, bits in enumerate(itertools.product((0, 1), repeat=k)):
                bits = bits[::-1]  # bit j of the integer y is value j
                prob = 1.0
                for j, b in enumerate(bits):
                    r = p if j == x else q
                    prob *= r if b else 1 - r
                assert W[x, y] == pytest.approx(prob, rel=1e-12)


def test_rappor_is_symmetric_unary_encoding():
    P = ldp.rappor(6, 2.0)
    assert P.p_star == pytest.approx(math.exp(1) / (math.exp(1) + 1))
    assert P.q_star == pytest.approx(1 - P.p_star)


def test_subset_selection_omega_near_optimum():
    for k, eps in [(8, 1.0), (20, 0.5), (30, 3.0)]:
        w = ldp.subset_selection(k, eps).omega
        t = k / (math.exp(eps) + 1)
        assert w in {max(math.floor(t), 1), math.ceil(t)}
    assert ldp.subset_selection(8, 6.0).omega == 1  # reduces to GRR
    np.testing.assert_allclose(ldp.subset_selection(8, 6.0).channel, ldp.grr(8, 6.0).channel)


# ------------------------------------------------------------- unbiasedness & variance


@pytest.mark.parametrize("path", ["sample", "sample_counts"])
@pytest.mark.parametrize("name", NAMES)
def test_estimator_unbiased_with_stated_variance(name, path):
    k, eps, n, runs = 8, 1.0, 500, 200
    rng = np.random.default_rng(zlib.crc32(f"{name}-{path}".encode()))
    f = np.array([0.3, 0.2, 0.15, 0.1, 0.1, 0.1, 0.05, 0.0])
    values = np.repeat(np.arange(k), (f * n).astype(int))
    assert values.size == n
    P = make(name, k, eps)
    if path == "sample":
        est = np.array([P.estimate(P.sample(values, rng)) for _ in range(runs)])
    else:
        est = np.array([P.estimate(P.sample_counts(values, rng)) for _ in range(runs)])
    var = P.variance(n, f)
    se = np.sqrt(var / runs)
    assert np.all(np.abs(est.mean(axis=0) - f) < 4 * se), (est.mean(axis=0) - f) / se
    # (R - 1) s^2 / sigma^2 ~ chi2(R - 1): two-sided, 1e-4 per coordinate
    stat = (runs - 1) * est.var(axis=0, ddof=1) / var
    lo, hi = stats.chi2.ppf([1e-4, 1 - 1e-4], runs - 1)
    assert np.all((stat > lo) & (stat < hi)), stat / (runs - 1)


def test_olh_fast_support_counting_equals_naive():
    rng = np.random.default_rng(3)
    for k, eps in [(8, 1.0), (1024, 1.0), (1024, 3.0), (40, 3.0)]:
        P = ldp.olh(k, eps)
        values = rng.integers(0, k, 3000)
        r = P.sample(values, rng).astype(np.int64)
        h = ((r[:, [0]] * np.arange(k)[None, :] + r[:, [1]]) % P.P) % P.g
        naive = (h == r[:, [2]]).sum(axis=0)
        np.testing.assert_array_equal(P.support_counts(r).counts, naive)
    assert len(ldp.olh(1024, 3.0)._blocks()) > 1  # the blocked (sorted) path ran


def test_hadamard_support_equals_channel_membership():
    P = ldp.hadamard(11, 1.0)
    W = P.channel
    inside = W > 1.0 / P.K  # S_v has probability 2p/K > 1/K per point, the rest less
    rng = np.random.default_rng(4)
    r = P.sample(rng.integers(0, 11, 5000), rng)
    np.testing.assert_array_equal(P.support_counts(r).counts, inside[:, r].sum(axis=1))
    assert np.all(inside.sum(axis=1) == P.K // 2)


def test_unary_reports_are_packed_bits():
    P = ldp.oue(10, 1.0)
    r = P.sample([3, 3, 9], rng=0)
    assert r.shape == (3, 2) and r.dtype == np.uint8
    bits = np.unpackbits(r, axis=1, count=10, bitorder="little")
    np.testing.assert_array_equal(P.support_counts(r).counts, bits.sum(axis=0))
    s = ldp.subset_selection(10, 1.0)
    bits = np.unpackbits(s.sample(np.arange(10), rng=1), axis=1, count=10, bitorder="little")
    assert np.all(bits.sum(axis=1) == s.omega)


def test_unary_sample_refuses_huge_report_arrays():
    with pytest.raises(InvalidParameterError, match=r"oue\.sample: .* use sample_counts|Use"):
        ldp.oue(1024, 1.0).sample(np.zeros(2_200_000, dtype=np.int64))


def test_seeded_sampling_is_reproducible():
    for name in NAMES:
        P = make(name, 6, 1.0)
        v = np.arange(6).repeat(10)
        np.testing.assert_array_equal(P.sample(v, rng=7), P.sample(v, rng=7))
        np.testing.assert_array_equal(P.sample_counts(v, 7).counts, P.sample_counts(v, 7).counts)


# --------------------------------------------------------------------- IBU, projection


def test_ibu_converges_to_true_frequencies_at_large_n():
    k, n = 8, 2_000_000
    f = np.array([0.3, 0.2, 0.15, 0.1, 0.1, 0.1, 0.05, 0.0])
    P = ldp.grr(k, 1.0)
    values = np.repeat(np.arange(k), (f * n).astype(int))
    counts = P.sample_counts(values, rng=11).counts  # GRR: support counts = output counts
    res = ldp.ibu(P.channel, counts, tol=1e-9, max_iter=100_000)
    assert res.converged and res.gap <= 1e-9
    assert res.freqs.sum() == pytest.approx(1.0) and res.freqs.min() >= 0
    sd = np.sqrt(P.variance(n, f))
    assert np.all(np.abs(res.freqs - f) < 5 * sd + 1e-3)
    # on the interior of the simplex the ML estimate equals the unbiased inverse estimate
    Q = ldp.grr(4, 1.0)
    c = Q.sample_counts(np.repeat(np.arange(4), [400, 300, 200, 100]), rng=2)
    r2 = ldp.ibu(Q, c.counts, tol=1e-13, max_iter=100_000)
    np.testing.assert_allclose(r2.freqs, Q.estimate(c), atol=1e-6)


def test_ibu_on_mechanism_and_warning():
    W = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    m = lk.Mechanism(W)
    res = ldp.ibu(m, [30, 25, 45])
    assert res.converged
    with pytest.warns(ConvergenceWarning, match="max_iter = 1"):
        res = ldp.ibu(W, [30, 25, 45], max_iter=1)
    assert not res.converged and res.n_iter == 1
    with pytest.raises(InvalidParameterError, match="ibu: the 'counts' argument must have one"):
        ldp.ibu(W, [1, 2])
    with pytest.raises(InvalidParameterError, match="never produces"):
        ldp.ibu(np.array([[1.0, 0.0], [1.0, 0.0]]), [3, 1])


def test_project_simplex_known_and_kkt():
    np.testing.assert_allclose(ldp.project_simplex([0.5, 0.7, -0.2]), [0.4, 0.6, 0.0])
    np.testing.assert_allclose(ldp.project_simplex([0.2, 0.3, 0.5]), [0.2, 0.3, 0.5])
    np.testing.assert_allclose(ldp.project_simplex([5.0, 0.0, 0.0]), [1.0, 0.0, 0.0])
    np.testing.assert_allclose(ldp.project_simplex([1.0, 1.0]), [0.5, 0.5])
    rng = np.random.default_rng(5)
    for _ in range(200):
        v = rng.normal(size=rng.integers(1, 12)) * 2
        p = ldp.project_simplex(v)
        assert p.min() >= 0 and p.sum() == pytest.approx(1.0)
        # KKT: v - p = tau on the support, v - p <= tau... i.e. v <= tau off the support
        tau = (v - p)[p > 0]
        assert np.ptp(tau) < 1e-12
        assert np.all(v[p == 0] <= tau[0] + 1e-12)
    # brute force: no random point of the simplex is closer
    v = np.array([0.9, -0.3, 0.6, 0.1])
    p = ldp.project_simplex(v)
    cand = rng.dirichlet(np.ones(4) * 0.3, size=20000)
    assert np.linalg.norm(p - v) <= np.linalg.norm(cand - v, axis=1).min() + 1e-12


def test_epsilon_conventions():
    assert ldp.epsilon([[0.75, 0.25], [0.25, 0.75]]) == pytest.approx(math.log(3))
    assert ldp.epsilon([[1.0, 0.0], [0.5, 0.5]]) == math.inf
    assert ldp.epsilon([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]]) == 0.0  # all-zero column skipped
    assert ldp.epsilon(lk.Mechanism([[0.6, 0.4], [0.4, 0.6]])) == pytest.approx(math.log(1.5))


# ----------------------------------------------------------------------------- report


def test_report_on_grr_matches_measures():
    k, eps = 6, 1.2
    P = ldp.grr(k, eps)
    W = P.channel
    prior = np.array([0.3, 0.25, 0.2, 0.1, 0.1, 0.05])
    r = ldp.report(P, prior, n=1000)
    assert r.epsilon == pytest.approx(eps, rel=1e-12) and r.epsilon_unit == "nats"
    assert r.unit == "bits" and r.prior_note == "given"
    assert r.maximal_leakage == pytest.approx(lk.maximal_leakage(prior, W))
    assert r.sibson_inf == pytest.approx(r.maximal_leakage)
    assert r.sibson_2 == pytest.approx(lk.sibson_mutual_information(prior, W, 2))
    assert r.mutual_information == pytest.approx(lk.mutual_information(prior, W))
    pml = lk.pointwise_leakage(prior, W, measure="max_lift").max()
    assert r.pointwise_maximal_leakage == pytest.approx(pml)
    # GRR: the largest lift is at the least likely input's own output
    e = math.exp(eps)
    q = prior * (e - 1) / (e + k - 1) + 1 / (e + k - 1)
    assert r.pointwise_maximal_leakage == pytest.approx(
        math.log2(e / (e + k - 1) / q.min()), rel=1e-12
    )
    v_post = (prior[:, None] * W).max(axis=0).sum()
    assert r.bayes_leakage == pytest.approx(math.log2(v_post / prior.max()))
    assert r.bayes_capacity == pytest.approx(math.log2(k * e / (e + k - 1)))
    np.testing.assert_allclose(r.variance, P.variance(1000, prior))
    assert r.variance_total == pytest.approx(r.variance.sum())
    rn = ldp.report(P, prior, base=math.e)
    assert rn.unit == "nats"
    assert rn.mutual_information == pytest.approx(r.mutual_information * math.log(2))


def test_report_accepts_array_and_mechanism():
    P = ldp.grr(5, 0.7)
    r_prot = ldp.report(P, n=100)
    r_arr = ldp.report(P.channel, n=100)
    r_mech = ldp.report(lk.Mechanism(P.channel.tolist()), n=100)
    assert r_arr.name == "channel" and r_mech.name == "Mechanism" and r_prot.name == "grr"
    assert r_prot.prior_note == "uniform (prior=None)"
    for f in ("epsilon", "maximal_leakage", "mutual_information", "sibson_2", "bayes_leakage"):
        assert getattr(r_arr, f) == pytest.approx(getattr(r_prot, f))
        assert getattr(r_mech, f) == pytest.approx(getattr(r_prot, f))
    # the inverse-channel estimator of the GRR channel is the GRR estimator
    np.testing.assert_allclose(r_arr.variance, r_prot.variance, rtol=1e-9)
    np.testing.assert_allclose(r_mech.variance, r_prot.variance, rtol=1e-9)
    json.dumps(r_prot.to_dict())
    # a channel of rank < k has no unbiased estimator
    r = ldp.report([[0.5, 0.5], [0.5, 0.5], [0.2, 0.8]])
    assert r.variance is None and "rank" in r.variance_note
    assert r.to_dict()["variance"] is None
    # a non-square channel of full row rank: least-squares inverse, checked by simulation
    W = np.array([[0.6, 0.3, 0.1], [0.1, 0.3, 0.6]])
    r = ldp.report(W, [0.7, 0.3], n=400)
    rng = np.random.default_rng(9)
    m = lk.Mechanism(W)
    vals = np.repeat([0, 1], [280, 120])
    A = np.linalg.pinv(W.T)
    est = np.array([A @ np.bincount(m.sample(vals, rng), minlength=3) / 400 for _ in range(2000)])
    np.testing.assert_allclose(est.var(axis=0), r.variance, rtol=0.12)


def test_report_for_every_protocol():
    for name in NAMES:
        r = ldp.report(make(name, 4, 1.0), n=10)
        assert r.epsilon == pytest.approx(1.0)
        assert r.maximal_leakage <= 1.0 / math.log(2) + 1e-12  # ML <= eps (nats -> bits)
        assert r.mutual_information <= r.sibson_2 <= r.maximal_leakage + 1e-12
        assert r.bayes_capacity == pytest.approx(r.maximal_leakage)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    ("k", "eps", "arg", "needle"),
    [
        (8, 0.0, "eps", "finite real number > 0"),
        (8, -1.0, "eps", "finite real number > 0"),
        (8, math.inf, "eps", "finite real number > 0"),
        (8, math.nan, "eps", "finite real number > 0"),
        (1, 1.0, "k", "integer >= 2"),
        (8.0, 1.0, "k", "integer >= 2"),
        (2.5, 1.0, "k", "integer >= 2"),
        (True, 1.0, "k", "integer >= 2"),
    ],
)
def test_bad_parameters(name, k, eps, arg, needle):
    with pytest.raises(InvalidParameterError) as ei:
        make(name, k, eps)
    msg = str(ei.value)
    assert msg.startswith(f"{name}: the '{arg}' argument must") and needle in msg
    assert "got" in msg


@pytest.mark.parametrize("name", NAMES)
def test_bad_values(name):
    P = make(name, 4, 1.0)
    with pytest.raises(
        InvalidParameterError,
        match=r"the 'values' argument must hold integers "
        r"in \[0, 4\) \(k = 4\); got 4 at index 1",
    ):
        P.sample([0, 4, 1], rng=0)
    with pytest.raises(InvalidParameterError, match="got -1 at index 0"):
        P.sample_counts([-1, 2], rng=0)
    with pytest.raises(InvalidParameterError, match="hold integers"):
        P.sample([0.5, 1], rng=0)
    with pytest.raises(InvalidParameterError, match="non-empty 1-D"):
        P.sample([], rng=0)
    with pytest.raises(InvalidParameterError, match="'rng' argument"):
        P.sample([0, 1], rng=-3)
    with pytest.raises(InvalidParameterError, match=f"{name}.estimate: the 'reports'|reports"):
        P.estimate(ldp.SupportCounts(np.zeros(5, dtype=np.int64), 3, name))
    with pytest.raises(InvalidDistributionError, match="variance: the 'freqs' argument"):
        P.variance(10, [0.5, 0.6, 0.0, 0.0])
    with pytest.raises(InvalidParameterError, match="the 'n' argument must be an integer >= 1"):
        P.variance(0)


def test_bad_channels():
    with pytest.raises(
        InvalidDistributionError, match="epsilon: the 'mechanism' argument must be row-stochastic"
    ):
        ldp.epsilon([[0.5, 0.4], [0.5, 0.5]])
    with pytest.raises(InvalidDistributionError, match="report: the 'mechanism' argument"):
        ldp.report([[0.5, 0.6], [0.5, 0.5]])
    with pytest.raises(InvalidDistributionError, match="ibu: the 'mechanism' argument"):
        ldp.ibu([[-0.1, 1.1]], [1, 1])
    with pytest.raises(InvalidDistributionError, match="report: the 'prior' argument must have"):
        ldp.report(np.eye(3), [0.5, 0.5])
    with pytest.raises(InvalidParameterError, match="the exact channel would have"):
        ldp.oue(40, 1.0).channel
    with pytest.raises(InvalidParameterError, match="project_simplex: the 'v' argument"):
        ldp.project_simplex([1.0, np.nan])
    with pytest.raises(LeakageError):
        ldp.report(ldp.grr(3, 1.0), base=1)


# ------------------------------------------------------------------------------ figure


def test_plot_report_vs_epsilon_renders(tmp_path):
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    fig = ldp.plot_report_vs_epsilon(k=3, eps_grid=[0.5, 1.0, 2.0])
    assert len(fig.axes) == 3
    assert len(fig.axes[0].lines) == 6
    fig.savefig(tmp_path / "ldp.png")
    assert (tmp_path / "ldp.png").stat().st_size > 0
    import matplotlib.pyplot as plt

    plt.close(fig)
    with pytest.raises(InvalidParameterError, match="plot_report_vs_epsilon: the 'protocols'"):
        ldp.plot_report_vs_epsilon(protocols=("nope",))
