"""k-NN estimators (leakage.estimate._knn) against integrated truths on a Gaussian channel."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from leakage.errors import LeakageError
from leakage.estimate import _knn
from leakage.estimate._knn import knn_bayes_risk, knn_mutual_information
from leakage.results import Estimate

L = 4  # secrets 0..3, uniform; y = 2 x + N(0, 1)


def _truth():
    """I(X;Y) in bits, Bayes risk R*, asymptotic 1-NN risk, by integration on a fine grid."""
    y = np.linspace(-12.0, 20.0, 320_001)
    dy = y[1] - y[0]
    f = np.exp(-0.5 * (y[None, :] - 2.0 * np.arange(L)[:, None]) ** 2) / math.sqrt(2 * math.pi)
    f /= L  # p(x) f(y|x)
    fy = f.sum(axis=0)
    h_y = -np.sum(fy * np.log(fy, where=fy > 0, out=np.zeros_like(fy))) * dy
    h_y_x = 0.5 * math.log(2 * math.pi * math.e)
    mi = (h_y - h_y_x) / math.log(2)
    r_star = 1.0 - np.sum(f.max(axis=0)) * dy
    post = f / fy
    r_nn = np.sum(fy * (1.0 - (post**2).sum(axis=0))) * dy
    return mi, r_star, r_nn


MI_TRUE, R_STAR, R_NN = _truth()
C = (L - 1) / L
R_CH = C * (1 - math.sqrt(1 - R_NN / C))  # the Cover-Hart bound of the limit 1-NN risk


def _channel(n, seed):
    g = np.random.default_rng(seed)
    x = g.integers(0, L, n)
    return x, 2.0 * x + g.standard_normal(n)


def test_truth_values():
    # Closed form of the Bayes risk: inner classes err with 2 Q(1), outer with Q(1).
    q1 = 0.5 * math.erfc(1 / math.sqrt(2))
    assert R_STAR == pytest.approx(6 * q1 / 4, abs=1e-7)
    assert 1.2 < MI_TRUE < 1.24
    assert R_CH < R_STAR < R_NN


@pytest.fixture(scope="module")
def mi_20k():
    x, y = _channel(20_000, 11)
    return knn_mutual_information(x, y, resamples=100, rng=5)


def test_mi_gaussian_channel(mi_20k):
    e = mi_20k
    assert isinstance(e, Estimate)
    assert (e.measure, e.method, e.interval, e.n, e.base) == (
        "mutual_information",
        "knn",
        "bootstrap-percentile",
        20_000,
        2.0,
    )
    se = e.details["standard_error"]
    assert 0.002 < se < 0.02
    err = abs(e.value - MI_TRUE)
    print(f"\nknn MI {e.value:.4f} vs true {MI_TRUE:.4f} bits (err {err:.4f}, se {se:.4f})")
    assert err < min(0.02, 3 * se)
    assert e.lower <= MI_TRUE <= e.upper
    assert e.lower < e.value < e.upper
    assert e.details["k"] == 3 and e.details["n"] == 20_000 and e.details["raw_value"] == e.value


def test_mi_base_and_reproducible():
    x, y = _channel(3000, 12)
    bits = knn_mutual_information(x, y, resamples=20, rng=1)
    nats = knn_mutual_information(x, y, resamples=20, rng=1, base=math.e)
    assert nats.value == pytest.approx(bits.value * math.log(2), rel=1e-12)
    assert nats.upper == pytest.approx(bits.upper * math.log(2), rel=1e-12)
    again = knn_mutual_information(x, y, resamples=20, rng=1)
    assert again == bits
    other = knn_mutual_information(x, y, resamples=20, rng=2)
    assert other.value == bits.value  # the point estimate does not use rng
    assert other.lower != bits.lower


def test_mi_independent_near_zero():
    g = np.random.default_rng(13)
    x = g.integers(0, L, 5000)
    y = g.standard_normal(5000)
    e = knn_mutual_information(x, y, resamples=50, rng=3)
    raw = e.details["raw_value"]
    assert abs(raw) < 0.02
    assert e.value == max(raw, 0.0) and e.lower >= 0.0
    lo, hi = e.details["raw_interval"]
    assert lo <= 0.0 <= hi


def test_mi_ties_are_jittered():
    # y = x exactly: every class is one tied point; the jitter breaks ties, I = H(X) = 1 bit.
    g = np.random.default_rng(14)
    x = g.integers(0, 2, 2000)
    e = knn_mutual_information(x, x.astype(float), resamples=20, rng=1)
    assert e.details["jitter"] is True
    assert e.value == pytest.approx(1.0, abs=0.01)
    # A continuous y is left untouched.
    x, y = _channel(500, 15)
    assert knn_mutual_information(x, y, resamples=5, rng=1).details["jitter"] is False


def test_mi_labels_shapes_and_small_classes():
    x, y = _channel(4000, 16)
    labels = np.array(["a", "b", "c", "d"])[x]
    num = knn_mutual_information(x, y, resamples=10, rng=1)
    txt = knn_mutual_information(labels.tolist(), y.tolist(), resamples=10, rng=1)
    col = knn_mutual_information(x, y[:, None], resamples=10, rng=1)
    assert txt.value == pytest.approx(num.value, abs=1e-12)
    assert col.value == pytest.approx(num.value, abs=1e-12)
    mixed = np.array([None, "b", (1, 2), 3], dtype=object)[x].tolist()
    assert knn_mutual_information(mixed, y, resamples=10, rng=1).value == pytest.approx(
        num.value, abs=1e-12
    )
    # Two dimensions, the second pure noise: still near the truth.
    g = np.random.default_rng(17)
    y2 = np.c_[y, g.standard_normal(y.size)]
    assert knn_mutual_information(x, y2, resamples=5, rng=1).value == pytest.approx(
        MI_TRUE, abs=0.06
    )
    # Classes smaller than k + 1 (k capped at size - 1) and a singleton class (left out).
    e = knn_mutual_information([0, 0, 1, 1, 1, 2], [0.0, 0.1, 5.0, 5.2, 5.1, 9.0], rng=1)
    assert e.details["n_used"] == 5 and e.n == 6
    assert math.isfinite(e.details["raw_value"])


def test_mi_matches_bruteforce_ross():
    """The tree-based counts against an O(n^2) transcription of Ross's definition."""
    g = np.random.default_rng(18)
    x = g.integers(0, 3, 300)
    y = x[:, None] + g.standard_normal((300, 2))
    from scipy.special import digamma

    D = np.abs(y[:, None, :] - y[None, :, :]).max(axis=2)
    n, k = 300, 3
    total = 0.0
    for i in range(n):
        same = np.flatnonzero((x == x[i]) & (np.arange(n) != i))
        d = np.sort(D[i, same])[k - 1]
        m = int(np.sum(D[i] <= d)) - 1
        total += digamma(same.size + 1) + digamma(m)
    expected = (digamma(n) + digamma(k) - total / n) / math.log(2)
    got = knn_mutual_information(x, y, k=k, resamples=1, rng=1).details["raw_value"]
    assert got == pytest.approx(expected, abs=1e-12)


@pytest.fixture(scope="module")
def br_20k():
    x, y = _channel(20_000, 21)
    return knn_bayes_risk(x, y, resamples=200, rng=6)


def test_bayes_risk_gaussian_channel(br_20k):
    e = br_20k
    assert (e.measure, e.method, e.interval, e.n) == (
        "bayes_risk",
        "knn",
        "bootstrap-percentile",
        20_000,
    )
    r_nn = e.details["nn_error"]
    print(
        f"\n1-NN error {r_nn:.4f} (limit {R_NN:.4f}); Cover-Hart estimate {e.value:.4f} "
        f"(limit {R_CH:.4f}); exact Bayes risk {R_STAR:.4f}"
    )
    assert r_nn == pytest.approx(R_NN, abs=0.015)
    assert e.value == pytest.approx(R_CH, abs=0.015)
    assert e.value == pytest.approx(C * (1 - math.sqrt(1 - r_nn / C)), rel=1e-12)
    # A lower estimate of the Bayes risk: below R*, by about 0.05 on this channel.
    assert e.value < R_STAR < r_nn
    assert e.lower < e.value < e.upper < R_STAR
    assert e.width < 0.03
    assert e.lower <= R_CH <= e.upper
    lo, hi = e.details["nn_error_interval"]
    assert lo <= R_NN <= hi
    assert e.details["n_secrets"] == L


def test_bayes_risk_extremes():
    g = np.random.default_rng(22)
    x = g.integers(0, 3, 3000)
    sep = knn_bayes_risk(x, 10.0 * x + 0.1 * g.standard_normal(3000), resamples=20, rng=1)
    assert sep.value == 0.0 and sep.upper == 0.0 and sep.details["nn_error"] == 0.0
    ind = knn_bayes_risk(x, g.standard_normal(3000), resamples=20, rng=1)
    assert ind.details["nn_error"] == pytest.approx(2 / 3, abs=0.03)
    assert ind.value <= 2 / 3 + 1e-12


def test_bayes_risk_bootstrap_fallback(monkeypatch):
    """With one kept neighbour the fresh-tree fallback runs often: same answer."""
    x, y = _channel(2000, 23)
    ref = knn_bayes_risk(x, y, resamples=30, rng=4)
    monkeypatch.setattr(_knn, "_NN_LIST", 1)
    assert knn_bayes_risk(x, y, resamples=30, rng=4) == ref


def test_bayes_risk_bootstrap_excludes_copies():
    """A resample's 1-NN rule never uses a copy of the test point: compare with an O(n^2)
    evaluation on the distinct drawn points."""
    x, y = _channel(400, 24)
    gen = np.random.default_rng(9)
    counts = np.bincount(gen.integers(0, 400, 400), minlength=400)
    idx = np.flatnonzero(counts)
    D = np.abs(y[idx][:, None] - y[idx][None, :])
    np.fill_diagonal(D, np.inf)
    wrong = x[idx][D.argmin(axis=1)] != x[idx]
    expected = np.dot(counts[idx], wrong) / 400
    table = _knn._NNTable(y[:, None])
    got = _knn._nn_error(x, table, idx, counts[idx].astype(float))
    assert got == pytest.approx(expected, abs=1e-12)


def test_bayes_risk_timing_1e5():
    x, y = _channel(100_000, 25)
    t = time.perf_counter()
    e = knn_bayes_risk(x, y, rng=1)
    dt = time.perf_counter() - t
    print(f"\nknn_bayes_risk n=1e5, 1-D, 200 resamples: {dt:.2f} s (value {e.value:.4f})")
    assert math.isfinite(e.value)


X4 = [0, 1, 0, 1]
Y4 = [0.1, 0.5, 0.2, 0.9]
BAD = [
    (dict(x=[0, 1, 0], y=Y4), "'y' argument must have one row per secret"),
    (dict(x=[0], y=[0.5]), "'x' argument must hold at least 2 samples"),
    (dict(x=[1, 1, 1, 1], y=Y4), "at least 2 distinct secrets"),
    (dict(x=X4, y=[0.1, np.nan, 0.2, 0.3]), "'y' argument must hold finite numbers"),
    (dict(x=X4, y=[0.1, np.inf, 0.2, 0.3]), "'y' argument must hold finite numbers"),
    (dict(x=X4, y=["a", "b", "c", "d"]), "'y' argument must be a numeric array"),
    (dict(x=X4, y=np.zeros((4, 1, 1))), "'y' argument must be a numeric array of shape"),
    (dict(x=[[0, 1], [0, 1]], y=Y4), "'x' argument must be a 1-D array"),
    (dict(x=X4, y=Y4, level=1.0), "'level' argument must be a real number in (0, 1)"),
    (dict(x=X4, y=Y4, level=0), "'level' argument must be a real number in (0, 1)"),
    (dict(x=X4, y=Y4, level="0.95"), "'level' argument must be a real number in (0, 1)"),
    (dict(x=X4, y=Y4, resamples=0), "'resamples' argument must be an integer >= 1"),
    (dict(x=X4, y=Y4, resamples=2.5), "'resamples' argument must be an integer >= 1"),
    (dict(x=X4, y=Y4, resamples=100_001), "above the limit of 100,000"),
    (dict(x=X4, y=Y4, rng=-1), "'rng' argument"),
]
BAD_MI = [
    (dict(x=X4, y=Y4, k=0), "'k' argument must be a positive integer"),
    (dict(x=X4, y=Y4, k=2.0), "'k' argument must be a positive integer"),
    (dict(x=X4, y=Y4, k=True), "'k' argument must be a positive integer"),
    (dict(x=X4, y=Y4, base=1), "'base' argument must be a finite real number > 1"),
    (dict(x=X4, y=Y4, base=0.5), "'base' argument must be a finite real number > 1"),
    (dict(x=[0, 1, 2, 3], y=Y4), "'x' argument must hold some secret value at least twice"),
]


@pytest.mark.parametrize(
    ("func", "kwargs", "match"),
    [(f, kw, m) for f in (knn_mutual_information, knn_bayes_risk) for kw, m in BAD]
    + [(knn_mutual_information, kw, m) for kw, m in BAD_MI],
)
def test_bad_inputs(func, kwargs, match):
    with pytest.raises(LeakageError) as info:
        func(**kwargs)
    msg = str(info.value)
    assert msg.startswith(func.__name__ + ": the '")
    assert match in msg
    assert isinstance(info.value, ValueError)


def test_ties_discrete_timings_and_multidim():
    # Integer-valued "timings" with many ties, one and two columns.
    g = np.random.default_rng(26)
    x = g.integers(0, 2, 20_000)
    t = np.round(1000.0 + 3.0 * x + 2.0 * g.standard_normal(x.size))
    y2 = np.c_[t, np.round(g.standard_normal(x.size))]
    for y in (t, y2):
        Y = _knn._prepare(x, y, func="f")[1]
        assert _knn._ties(Y).size == 0
        assert np.abs(Y - np.asarray(y, float).reshape(Y.shape)).max() < 1e-8
    e = knn_mutual_information(x, t, resamples=5, rng=1)
    r = knn_bayes_risk(x, t, resamples=5, rng=1)
    assert e.details["jitter"] and r.details["jitter"]
    assert 0.0 < e.value < 1.0 and 0.0 < r.value < 0.5
    idx = _knn._ties(np.array([[1.0, 2.0], [1.0, 3.0], [1.0, 2.0], [1.0, 2.0]]))
    assert sorted(idx.tolist()) == [2, 3]


# ------------------------------------------------------------- F-BLEAU's k_n-NN estimate


def _loo_knn_bruteforce(x, y, idx, w, k):
    """Leave-one-out k-NN error on the distinct points ``idx`` (weights ``w``), O(n^2)."""
    D = np.abs(y[idx][:, None] - y[idx][None, :])
    np.fill_diagonal(D, np.inf)
    nb = np.argsort(D, axis=1, kind="stable")[:, :k]
    wrong = []
    for row, own in zip(x[idx][nb], x[idx], strict=True):
        votes = np.bincount(row)
        best = np.flatnonzero(votes == votes.max())
        guess = next(v for v in row if v in best)  # the nearest among tied labels
        wrong.append(guess != own)
    return float(np.dot(w, wrong) / w.sum())


@pytest.mark.parametrize("k", [1, 3, 7])
def test_knn_rule_matches_bruteforce_on_bootstrap_resamples(k):
    x, y = _channel(300, 31)
    table = _knn._NNTable(y[:, None], K=max(20, 3 * k + 10))
    gen = np.random.default_rng(k)
    for _ in range(5):
        counts = np.bincount(gen.integers(0, 300, 300), minlength=300)
        idx = np.flatnonzero(counts)
        w = counts[idx].astype(float)
        got = _knn._knn_error(x, table, k, idx, w)
        assert got == pytest.approx(_loo_knn_bruteforce(x, y, idx, w, k), abs=1e-12)
    full = _knn._knn_error(x, table, k)
    assert full == pytest.approx(_loo_knn_bruteforce(x, y, np.arange(300), np.ones(300), k))


def test_knn_rule_short_lists_fall_back_to_a_fresh_query():
    """A candidate list shorter than k for every row: the fresh-query path, same answer."""
    x, y = _channel(400, 32)
    gen = np.random.default_rng(3)
    counts = np.bincount(gen.integers(0, 400, 400), minlength=400)
    idx = np.flatnonzero(counts)
    w = counts[idx].astype(float)
    short = _knn._NNTable(y[:, None], K=5)
    assert _knn._knn_error(x, short, 5, idx, w) == pytest.approx(
        _loo_knn_bruteforce(x, y, idx, w, 5), abs=1e-12
    )


def test_vote_ties_and_many_labels():
    labels = np.array([[2, 1, 1, 2, 0], [0, 1, 2, 3, 4], [3, 3, 1, 1, 1]])
    # 2 and 1 tie at two votes: the nearest tied neighbour holds 2
    assert _knn._vote(labels, 5).tolist() == [2, 0, 1]
    assert _knn._vote(labels, 99).tolist() == [2, 0, 1]  # the (k, k) path for L > k


def test_knn_log_estimate_brackets_with_the_bound(br_20k):
    """F-BLEAU's k_n-NN rule estimates R* from above, the Cover-Hart bound from below."""
    x, y = _channel(20_000, 12)
    est = knn_bayes_risk(x, y, rule="log", resamples=50, rng=2)
    assert est.method == "knn-log" and est.details["k"] == 11  # ceil(ln 2e4) = 10 -> odd
    assert br_20k.value < R_STAR < est.value < R_STAR + 0.04
    assert est.lower <= est.value <= est.upper
    log10 = knn_bayes_risk(x, y, rule="log10", resamples=20, rng=2)
    assert log10.details["k"] == 5 and R_STAR < log10.value < R_NN + 0.02


def test_knn_rule_names_and_k():
    assert [_knn._k_of_rule("log", n) for n in (2, 10, 1000, 10**5)] == [1, 3, 7, 13]
    assert [_knn._k_of_rule("log10", n) for n in (10, 1000, 10**5)] == [1, 3, 5]
    with pytest.raises(LeakageError, match="'rule'"):
        knn_bayes_risk([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], rule="log2")
