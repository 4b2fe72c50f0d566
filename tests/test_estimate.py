"""Tests of :mod:`leakage.estimate` (discrete samples): counting, estimators, intervals,
the independence test and bad inputs."""

from __future__ import annotations

import math
import warnings
import zlib

import numpy as np
import pytest

import leakage as lk
from leakage import estimate as E
from leakage.estimate import _discrete as D

BSC = 0.5 * np.array([[0.9, 0.1], [0.1, 0.9]])
MID = np.array(
    [
        [0.10, 0.05, 0.02, 0.03, 0.00, 0.05],
        [0.01, 0.02, 0.12, 0.05, 0.05, 0.00],
        [0.03, 0.03, 0.03, 0.03, 0.18, 0.20],
    ]
)
_RNG = np.random.default_rng(20261202)
WEAK = np.full((6, 12), 1.0) + _RNG.uniform(0, 1.0, (6, 12))
WEAK /= WEAK.sum()


def exact(p, fn="mi", alpha=None):
    p_x = p.sum(axis=1)
    W = p / p_x[:, None]
    if fn == "mi":
        return lk.mutual_information(p_x, W)
    if fn == "maxl":
        return lk.maximal_leakage(p_x, W)
    if fn == "sibson":
        return lk.sibson_mutual_information(p_x, W, alpha)
    v_post = p.max(axis=0).sum()
    if fn == "vpost":
        return v_post
    return math.log2(v_post / p_x.max())  # min-entropy leakage


def sample(p, n, rng):
    idx = rng.choice(p.size, size=n, p=p.ravel())
    return np.divmod(idx, p.shape[1])


def empirical(x, y):
    table, _, _ = E.counts(x, y)
    p_x = table.sum(axis=1) / table.sum()
    return p_x, table / table.sum(axis=1, keepdims=True)


# ------------------------------------------------------------------------------- counting


def test_counts_matches_loop_and_labels():
    rng = np.random.default_rng(0)
    x = rng.choice(["a", "b", "c"], size=500)
    y = rng.integers(-3, 4, size=500)
    table, lx, ly = E.counts(x, y)
    assert table.dtype == np.int64 and table.shape == (3, 7)
    assert lx.tolist() == ["a", "b", "c"] and ly.tolist() == list(range(-3, 4))
    for i, a in enumerate(lx):
        for j, b in enumerate(ly):
            assert table[i, j] == np.sum((x == a) & (y == b))


@pytest.mark.parametrize(
    "func, kw",
    [
        (E.mutual_information, {}),
        (E.mutual_information, {"method": "miller_madow", "interval": "dirichlet"}),
        (E.maximal_leakage, {}),
        (E.sibson_mutual_information, {"alpha": 2.0}),
        (E.min_entropy_leakage, {}),
        (E.bayes_vulnerability, {"interval": "bootstrap-bc"}),
        (E.bayes_risk, {}),
    ],
)
def test_counts_table_in_place_of_samples_gives_identical_estimates(func, kw):
    x, y = sample(MID, 400, np.random.default_rng(5))
    c = E.counts(x, y)
    assert c.n == 400 and isinstance(c, tuple)
    assert func(c, rng=9, **kw) == func(x, y, rng=9, **kw)
    # a table with zero rows/columns (labels never seen) gives the same estimate
    t = np.zeros((4, c.table.shape[1] + 1), dtype=np.int64)
    t[:3, :-1] = c.table
    padded = E.Counts(t, np.append(c.labels_x, 99), np.append(c.labels_y, 99))
    assert func(padded, rng=9, **kw) == func(c, rng=9, **kw)


def test_independence_test_from_counts_uses_conditional_tables():
    x, y = sample(WEAK, 60, np.random.default_rng(2))  # 72 cells > 60 samples
    c = E.counts(x, y)
    res = E.independence_test(c, method="permutation", permutations=999, rng=1)
    ref = E.independence_test(x, y, method="permutation", permutations=999, rng=1)
    assert res.statistic == ref.statistic
    # two exact samplers of the same permutation law: p-values agree within MC error
    assert abs(res.pvalue - ref.pvalue) < 4 * math.sqrt(0.25 / 999)


@pytest.mark.parametrize(
    "call, text",
    [
        (lambda c, x, y: E.mutual_information(x), "'y' argument must hold the observables"),
        (lambda c, x, y: E.mutual_information(c, y), "'y' argument must be omitted"),
        (lambda c, x, y: E.bayes_risk(c, method="knn"), "a count table has no distances"),
        (lambda c, x, y: E.sibson_mutual_information(c), "'alpha' argument must be given"),
        (
            lambda c, x, y: E.maximal_leakage(E.Counts(-c.table, c.labels_x, c.labels_y)),
            "non-negative integer counts",
        ),
        (
            lambda c, x, y: E.maximal_leakage(E.Counts(c.table, c.labels_x[:1], c.labels_y)),
            "one label per row",
        ),
        (
            lambda c, x, y: E.maximal_leakage(E.Counts(c.table[:1], c.labels_x[:1], c.labels_y)),
            "at least 2 distinct secret values",
        ),
    ],
)
def test_counts_bad_inputs(call, text):
    x, y = sample(MID, 100, np.random.default_rng(5))
    with pytest.raises(lk.LeakageError, match=text):
        call(E.counts(x, y), x, y)


def test_counts_accepts_series_bool_float_and_mixed_labels():
    pd = pytest.importorskip("pandas")
    table, lx, ly = E.counts(pd.Series([1.5, 2.5, 1.5]), pd.Series([True, False, True]))
    assert table.tolist() == [[0, 2], [1, 0]] and ly.tolist() == [False, True]
    table, lx, _ = E.counts(np.array([1, "a", 1, "a"], dtype=object), [0, 1, 0, 1])
    assert table.sum() == 4 and sorted(map(str, lx.tolist())) == ["1", "a"]
    big = np.array([0, 10**12, 0, 10**12])  # wide integer range: sorting path
    assert E.counts(big, [0, 0, 1, 1])[0].tolist() == [[1, 1], [1, 1]]


# ------------------------------------------------------------------------ plug-in values


@pytest.mark.parametrize(
    ("func", "kind", "kw"),
    [
        (E.mutual_information, "mi", {"method": "plugin"}),
        (E.maximal_leakage, "maxl", {}),
        (E.min_entropy_leakage, "mel", {}),
        (E.bayes_vulnerability, "vpost", {}),
    ],
)
def test_plugin_equals_exact_measure_of_empirical_joint(func, kind, kw):
    rng = np.random.default_rng(1)
    x, y = sample(MID, 300, rng)
    table = E.counts(x, y)[0]
    est = func(x, y, interval=None, **kw)
    assert est.value == pytest.approx(exact(table / table.sum(), kind), abs=1e-12)
    assert math.isnan(est.lower) and math.isnan(est.upper) and est.interval == "none"
    assert est.n == 300 and est.details["table_shape"] == table.shape


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0, 5.0, math.inf])
def test_sibson_plugin_and_batch_agree(alpha):
    x, y = sample(MID, 200, np.random.default_rng(2))
    est = E.sibson_mutual_information(x, y, alpha, interval=None)
    assert est.value == pytest.approx(lk.sibson_mutual_information(*empirical(x, y), alpha))
    t = E.counts(x, y)[0][None].astype(float)
    assert D._sibson(alpha)(t)[0] / math.log(2) == pytest.approx(est.value, abs=1e-10)
    assert est.details["alpha"] == alpha


def test_batch_formulas_match_measures_on_every_resampled_table():
    rng = np.random.default_rng(3)
    tables = rng.multinomial(40, MID.ravel(), size=50).reshape(50, *MID.shape).astype(float)
    mi, ml = D._mi_plugin(tables), D._maxl(tables)
    for t, a, b in zip(tables, mi, ml, strict=True):
        r = t.sum(axis=1)
        keep = r > 0
        p_x, W = r[keep] / r.sum(), t[keep] / r[keep, None]
        assert a == pytest.approx(lk.mutual_information(p_x, W, base=math.e), abs=1e-12)
        assert b == pytest.approx(lk.maximal_leakage(p_x, W, base=math.e), abs=1e-12)


def test_bayes_risk_is_one_minus_vulnerability_and_base():
    x, y = sample(MID, 400, np.random.default_rng(4))
    v = E.bayes_vulnerability(x, y, rng=0)
    r = E.bayes_risk(x, y, rng=0)
    assert r.value == pytest.approx(1 - v.value)
    assert r.lower == pytest.approx(1 - v.upper) and r.upper == pytest.approx(1 - v.lower)
    assert math.isnan(r.base) and r.method == "frequentist"
    bits = E.mutual_information(x, y, method="plugin", interval=None).value
    nats = E.mutual_information(x, y, method="plugin", interval=None, base=math.e).value
    assert nats == pytest.approx(bits * math.log(2))


# ---------------------------------------------------------------------- MI estimators


def test_jackknife_matches_brute_force_leave_one_out():
    x, y = sample(MID, 60, np.random.default_rng(5))
    n = len(x)
    loo = [
        lk.mutual_information(*empirical(np.delete(x, i), np.delete(y, i)), base=math.e)
        for i in range(n)
    ]
    plug = lk.mutual_information(*empirical(x, y), base=math.e)
    want = (n * plug - (n - 1) * np.mean(loo)) / math.log(2)
    got = E.mutual_information(x, y, method="jackknife", interval=None).value
    assert got == pytest.approx(want, abs=1e-10)


def test_miller_madow_and_chao_shen_formulas():
    x, y = sample(MID, 80, np.random.default_rng(6))
    t = E.counts(x, y)[0].astype(float)
    n = t.sum()

    def h_plug(c):
        c = c[c > 0]
        return -np.sum(c / n * np.log(c / n))

    def h_mm(c):
        return h_plug(c) + (np.count_nonzero(c) - 1) / (2 * n)

    def h_cs(c):
        c = c[c > 0]
        f1 = min(np.sum(c == 1), n - 1)
        p = (1 - f1 / n) * c / n
        return -np.sum(p * np.log(p) / (1 - (1 - p) ** n))

    for method, h in [("miller_madow", h_mm), ("chao_shen", h_cs)]:
        want = (h(t.sum(1)) + h(t.sum(0)) - h(t.ravel())) / math.log(2)
        got = E.mutual_information(x, y, method=method, interval=None).value
        assert got == pytest.approx(want, abs=1e-12), method


def test_dirichlet_posterior_mean_matches_monte_carlo():
    t = np.array([[5.0, 1.0, 0.0], [2.0, 7.0, 3.0]])
    rng = np.random.default_rng(7)
    draws = rng.dirichlet(t.ravel() + 0.5, size=200_000).reshape(-1, *t.shape)
    mc = D._mi_plugin(draws)
    closed = D._mi_dirichlet(t[None])[0]
    assert abs(mc.mean() - closed) < 4 * mc.std() / math.sqrt(mc.size)


def test_auto_is_the_documented_default():
    x, y = sample(MID, 100, np.random.default_rng(8))
    est = E.mutual_information(x, y, interval=None)
    assert est.method == D.AUTO_METHOD == "jackknife"


@pytest.mark.parametrize(
    "method", ["plugin", "miller_madow", "jackknife", "chao_shen", "dirichlet"]
)
def test_estimates_converge_to_exact(method):
    rng = np.random.default_rng(9)
    x, y = sample(MID, 200_000, rng)
    est = E.mutual_information(x, y, method=method, interval=None)
    assert est.value == pytest.approx(exact(MID), abs=0.01)


def test_other_measures_converge_to_exact():
    x, y = sample(MID, 200_000, np.random.default_rng(10))
    kw = {"interval": None}
    assert E.maximal_leakage(x, y, **kw).value == pytest.approx(exact(MID, "maxl"), abs=0.01)
    sib = E.sibson_mutual_information(x, y, 3.0, **kw).value
    assert sib == pytest.approx(exact(MID, "sibson", 3.0), abs=0.01)
    assert E.min_entropy_leakage(x, y, **kw).value == pytest.approx(exact(MID, "mel"), abs=0.01)
    assert E.bayes_risk(x, y, **kw).value == pytest.approx(1 - exact(MID, "vpost"), abs=0.01)


def test_bias_ordering_at_small_n():
    """Mean over replications: Miller-Madow, Chao-Shen and jackknife have smaller |bias|
    than the plug-in at small n."""
    rng = np.random.default_rng(11)
    for p, n in [(MID, 60), (WEAK, 200)]:
        tables = rng.multinomial(n, p.ravel(), size=400).reshape(400, *p.shape).astype(float)
        truth = exact(p) * math.log(2)
        bias = {m: abs(D._MI_BATCH[m](tables).mean() - truth) for m in D._MI_BATCH}
        for m in ("miller_madow", "chao_shen", "jackknife"):
            assert bias[m] < bias["plugin"], (m, bias)


# ------------------------------------------------------------------------------ intervals


def test_interval_contains_value_and_is_reproducible():
    x, y = sample(MID, 500, np.random.default_rng(12))
    for interval in ["bootstrap", "bootstrap-bc", "dirichlet"]:
        a = E.mutual_information(x, y, interval=interval, resamples=300, rng=3)
        b = E.mutual_information(x, y, interval=interval, resamples=300, rng=3)
        assert a == b
        assert 0 <= a.lower < a.upper and a.level == 0.95 and a.details["resamples"] == 300
        assert a.lower <= a.value <= a.upper
    assert a.interval == "dirichlet"
    assert E.mutual_information(x, y, rng=0).interval == "bootstrap-percentile"
    assert E.mutual_information(x, y, interval="bootstrap-bc", rng=0).interval == "bootstrap-bc"


def test_narrower_interval_at_lower_level_and_chunking(monkeypatch):
    x, y = sample(MID, 500, np.random.default_rng(13))
    wide = E.mutual_information(x, y, level=0.99, rng=1)
    narrow = E.mutual_information(x, y, level=0.5, rng=1)
    assert narrow.width < wide.width
    monkeypatch.setattr(D, "CHUNK_ENTRIES", 50)  # 18 cells: 2 resamples per chunk
    chunked = E.maximal_leakage(x, y, resamples=101, rng=1)
    assert np.isfinite([chunked.lower, chunked.upper]).all() and chunked.lower <= chunked.upper


def _coverage(p, n, interval, reps, seed, method="auto"):
    rng = np.random.default_rng(seed)
    truth = exact(p)
    hits = 0
    for _ in range(reps):
        x, y = sample(p, n, rng)
        est = E.mutual_information(x, y, method=method, interval=interval, resamples=400, rng=rng)
        hits += est.lower <= truth <= est.upper
    return hits / reps


@pytest.mark.slow
@pytest.mark.parametrize("interval", ["bootstrap", "bootstrap-bc", "dirichlet"])
@pytest.mark.parametrize(("name", "n"), [("bsc", 100), ("bsc", 400), ("mid", 150), ("mid", 600)])
def test_coverage_mutual_information(interval, name, n):
    """200 replications: coverage of the nominal 95% interval within binomial error
    (sd 0.015) of 0.95: >= 0.88."""
    p = {"bsc": BSC, "mid": MID}[name]
    cov = _coverage(p, n, interval, reps=200, seed=zlib.crc32(f"{interval}-{name}-{n}".encode()))
    assert cov >= 0.88, cov


# ------------------------------------------------------------------------ independence test


def test_independence_test_statistic_and_methods():
    x, y = sample(MID, 2000, np.random.default_rng(14))
    res = E.independence_test(x, y, rng=0)
    assert res.method == "chi2" and res.permutations == 0 and res.dof == 10
    assert res.statistic == pytest.approx(lk.mutual_information(*empirical(x, y)))
    assert res.pvalue < 1e-10
    small = E.independence_test(x[:30], y[:30], rng=0)
    assert small.method == "permutation" and small.permutations == 2000
    assert 1 / 2001 <= small.pvalue <= 1


def test_permutation_paths_agree():
    """Hypergeometric tables (cells <= n) and argsort permutations give the same p-value
    up to Monte-Carlo error."""
    rng = np.random.default_rng(15)
    x, y = sample(WEAK, 150, rng)  # 72 cells <= 150: hypergeometric path
    p_h = E.independence_test(x, y, method="permutation", permutations=4000, rng=1).pvalue
    t = E.counts(x, y)[0]
    _, _, _, ix, iy = D._paired(x, y, "t")
    tables = D._permuted_tables(ix, iy, *t.shape, 4000, np.random.default_rng(2))
    stat = D._mi_plugin(t[None].astype(float))[0]
    p_a = (1 + np.sum(D._mi_plugin(tables) >= stat - 1e-12)) / 4001
    assert abs(p_h - p_a) < 0.05
    hyper = D._hypergeometric_tables(t.sum(1), t.sum(0), 5, np.random.default_rng(3))
    assert (hyper.sum(axis=2) == t.sum(1)).all() and (hyper.sum(axis=1) == t.sum(0)).all()


def test_permutation_small_sample_argsort_path():
    res = E.independence_test([0, 1, 2, 0], [5, 6, 7, 5], method="permutation", rng=0)
    assert res.method == "permutation" and 0 < res.pvalue <= 1  # 9 cells > 4 samples


@pytest.mark.slow
@pytest.mark.parametrize(("method", "n"), [("permutation", 40), ("chi2", 400), ("auto", 60)])
def test_independence_false_positive_rate(method, n):
    """Independent data, 300 replications: rejections at 0.05 within binomial error
    (sd 0.0126): <= 0.09."""
    rng = np.random.default_rng(16)
    rejections = 0
    for _ in range(300):
        x = rng.integers(0, 2, n)
        y = rng.integers(0, 3, n)
        res = E.independence_test(x, y, method=method, permutations=199, rng=rng)
        rejections += res.pvalue <= 0.05
    assert rejections / 300 <= 0.09


@pytest.mark.slow
def test_independence_power():
    """Weak dependence (I ~ 0.03 bits) at n = 400: power > 0.8 for both methods."""
    p = np.array([[0.30, 0.20], [0.20, 0.30]])
    rng = np.random.default_rng(17)
    for method in ["permutation", "chi2"]:
        power = np.mean(
            [
                E.independence_test(
                    *sample(p, 400, rng), method=method, permutations=199, rng=rng
                ).pvalue
                <= 0.05
                for _ in range(200)
            ]
        )
        assert power > 0.8, (method, power)


# ------------------------------------------------------------------------------ bad inputs

X = [0, 1, 0, 1]
Y = [0, 0, 1, 1]
BAD = [
    (E.mutual_information, ([0, 1, 0], Y), {}, "InvalidDistributionError", "'y' argument"),
    (E.mutual_information, ([0], [1]), {}, "InvalidDistributionError", "at least 2"),
    (E.mutual_information, ([1, 1, 1], [0, 1, 0]), {}, "InvalidDistributionError", "distinct"),
    (E.mutual_information, ([0, 1, np.nan], [0, 1, 2]), {}, "InvalidDistributionError", "NaN"),
    (E.mutual_information, ([0, 1, None], [0, 1, 2]), {}, "InvalidDistributionError", "None"),
    (E.mutual_information, (X, [0, 1, None, 1]), {}, "InvalidDistributionError", "'y'"),
    (
        E.mutual_information,
        ([[0, 1], [1, 0]], [[0, 1], [1, 0]]),
        {},
        "InvalidDistributionError",
        "1-D",
    ),
    (E.mutual_information, (X, Y), {"level": 1.0}, "InvalidParameterError", "'level'"),
    (E.mutual_information, (X, Y), {"level": 0}, "InvalidParameterError", "'level'"),
    (E.mutual_information, (X, Y), {"level": "0.9"}, "InvalidParameterError", "'level'"),
    (E.mutual_information, (X, Y), {"resamples": 0}, "InvalidParameterError", "'resamples'"),
    (E.mutual_information, (X, Y), {"resamples": 2.5}, "InvalidParameterError", "'resamples'"),
    (E.mutual_information, (X, Y), {"resamples": 10**6}, "InvalidParameterError", "limit"),
    (E.mutual_information, (X, Y), {"method": "magic"}, "InvalidParameterError", "'method'"),
    (E.mutual_information, (X, Y), {"interval": "wald"}, "InvalidParameterError", "'interval'"),
    (E.mutual_information, (X, Y), {"base": 1}, "InvalidParameterError", "'base'"),
    (E.mutual_information, (X, Y), {"base": 0.5}, "InvalidParameterError", "'base'"),
    (E.mutual_information, (X, Y), {"rng": -1}, "InvalidParameterError", "'rng'"),
    (E.maximal_leakage, (X, Y), {"base": -2}, "InvalidParameterError", "'base'"),
    (E.sibson_mutual_information, (X, Y, 0), {}, "InvalidParameterError", "'alpha'"),
    (E.sibson_mutual_information, (X, Y, -1.0), {}, "InvalidParameterError", "'alpha'"),
    (E.sibson_mutual_information, (X, Y, float("nan")), {}, "InvalidParameterError", "'alpha'"),
    (E.min_entropy_leakage, (X, Y), {"interval": "none"}, "InvalidParameterError", "'interval'"),
    (E.bayes_risk, (X, Y), {"method": "plugin"}, "InvalidParameterError", "'method'"),
    (E.bayes_vulnerability, (X, [0, 1]), {}, "InvalidDistributionError", "4 samples"),
    (E.independence_test, (X, Y), {"method": "fisher"}, "InvalidParameterError", "'method'"),
    (E.independence_test, (X, Y), {"permutations": 0}, "InvalidParameterError", "'permutations'"),
    (E.independence_test, ([2, 2], [0, 1]), {}, "InvalidDistributionError", "distinct"),
    (E.counts, ([0, 1], [0, 1, 2]), {}, "InvalidDistributionError", "'y'"),
]


@pytest.mark.parametrize(("func", "args", "kw", "error", "text"), BAD)
def test_bad_inputs(func, args, kw, error, text):
    with pytest.raises(getattr(lk, error)) as info:
        func(*args, **kw)
    msg = str(info.value)
    assert isinstance(info.value, lk.LeakageError)
    assert text in msg and msg.startswith("estimate.")
    assert "instead." in msg or "above the limit" in msg


def test_pandas_na_is_rejected():
    pd = pytest.importorskip("pandas")
    with pytest.raises(lk.InvalidDistributionError, match="missing"):
        E.mutual_information(pd.Series(["a", "b", pd.NA]), [0, 1, 1])


# ------------------------------------------------- measured weak spots and their remedies


def test_min_entropy_leakage_with_known_prior_estimates_only_the_posterior():
    x, y = sample(BSC, 2000, np.random.default_rng(8))
    c = E.counts(x, y)
    est = E.min_entropy_leakage(c, prior_vulnerability=0.5, rng=3)
    bv = E.bayes_vulnerability(c, rng=3)  # the same resampled tables
    assert est.value == pytest.approx(math.log2(bv.value / 0.5), rel=1e-12)
    assert est.details["prior_vulnerability"] == 0.5
    # a percentile of a monotone map is the map of the percentile (up to interpolation)
    assert est.lower == pytest.approx(math.log2(bv.lower / 0.5), rel=1e-3)
    assert est.upper == pytest.approx(math.log2(bv.upper / 0.5), rel=1e-3)
    # the plug-in prior vulnerability differs from the known one: so does the value
    with warnings.catch_warnings():  # (its uniform-prior tie is flagged by the bias warning)
        warnings.simplefilter("ignore", lk.errors.SmallCountWarning)
        assert E.min_entropy_leakage(c, rng=3).value != est.value
    for bad in (0, 1.5, "0.5", True, float("nan")):
        with pytest.raises(lk.InvalidParameterError, match="prior_vulnerability"):
            E.min_entropy_leakage(c, prior_vulnerability=bad)


def test_shifted_intervals_are_never_inverted():
    """bootstrap-bc may move both ends below 0: both are clipped into the range."""
    p = np.outer([0.3, 0.3, 0.4], [0.25] * 4)  # independent: every leakage is 0
    rng = np.random.default_rng(4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lk.errors.SmallCountWarning)
        for _ in range(40):
            c = E.counts(*sample(p, 1000, rng))
            for fn in (E.min_entropy_leakage, E.maximal_leakage, E.mutual_information):
                est = fn(c, interval="bootstrap-bc", resamples=200, rng=rng)
                assert 0 <= est.lower <= est.upper


def test_bias_warning_flags_the_intervals_that_undercover():
    rng = np.random.default_rng(6)
    weak = E.counts(*sample(WEAK, 1000, rng))  # maximal leakage covers 0.00 here
    with pytest.warns(lk.errors.SmallCountWarning, match="bootstrap-bc") as rec:
        est = E.maximal_leakage(weak, resamples=300, rng=1)
    assert est.details["bias_to_se"] > D.BIAS_WARNING
    assert rec[0].filename == __file__  # points at the caller
    clear = E.counts(*sample(BSC, 1000, rng))  # covers 0.93-0.97
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = E.maximal_leakage(clear, resamples=300, rng=1)
        E.mutual_information(weak, resamples=300, rng=1)  # the jackknife is unbiased enough
    assert est.details["bias_to_se"] < D.BIAS_WARNING


def test_from_system_min_entropy_leakage_uses_the_known_prior():
    def bsc(bits, rng):
        return bits ^ (rng.random(bits.shape[0]) < 0.1)

    est = E.from_system(bsc, [0.5, 0.5], measure="min_entropy_leakage", vectorized=True, rng=2)
    assert est.details["prior_vulnerability"] == 0.5
    assert est.lower <= math.log2(0.9 / 0.5) <= est.upper
