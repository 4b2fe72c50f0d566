"""Mutual information, Sibson MI, maximal leakage and point-wise leakage."""

import math

import numpy as np
import pytest
import qif
from dit.other.sibson_mutual_information import sibson_mutual_information_pmf
from hypothesis import given
from hypothesis import strategies as st
from scipy import optimize, sparse

import leakage as lk
from leakage.testing import channels, pmfs


def _h(x):
    return 0.0 if x in (0.0, 1.0) else -x * math.log2(x) - (1 - x) * math.log2(1 - x)


def bsc(e):
    return np.array([[1 - e, e], [e, 1 - e]])


def _pW(n_in=None, n_out=None, zeros=True):
    """A (p, W) pair with matching input alphabets."""
    n = st.integers(1, 6) if n_in is None else st.just(n_in)
    return n.flatmap(lambda k: st.tuples(pmfs(k, zeros=zeros), channels(k, n_out)))


# ---------------------------------------------------------------- closed forms
def test_mi_closed_forms():
    assert lk.mutual_information([0.5, 0.5], bsc(0.11)) == pytest.approx(1 - _h(0.11), abs=1e-14)
    p = np.array([0.2, 0.3, 0.5])
    assert lk.mutual_information(p, np.eye(3)) == pytest.approx(lk.entropy(p), abs=1e-14)
    assert lk.mutual_information(p, np.full((3, 4), 0.25)) == 0.0
    assert lk.mutual_information([0.5, 0.5], np.eye(2), base=math.e) == pytest.approx(math.log(2))


def test_maximal_leakage_closed_forms():
    # noiseless channel: log of the support size of p
    assert lk.maximal_leakage([0.2, 0.3, 0.5], np.eye(3)) == pytest.approx(math.log2(3))
    assert lk.maximal_leakage([0.5, 0.5, 0.0], np.eye(3)) == pytest.approx(1.0)
    # BSC: log(2(1-e))
    assert lk.maximal_leakage([0.3, 0.7], bsc(0.2)) == pytest.approx(math.log2(1.6), abs=1e-15)
    # independent output: no leakage
    assert lk.maximal_leakage([0.3, 0.7], [[0.4, 0.6], [0.4, 0.6]]) == pytest.approx(0, abs=1e-15)


def test_maximal_leakage_ignores_zero_probability_inputs():
    W = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    assert lk.maximal_leakage([0.0, 0.0, 1.0], W) == pytest.approx(0.0, abs=1e-15)
    assert lk.maximal_leakage([0.5, 0.0, 0.5], W) == pytest.approx(math.log2(1.5))


def test_maximal_leakage_is_guessing_gain_for_uniform_input():
    # For uniform X, L(X->Y) = log( P_c(X|Y) / max_x P_X(x) ) (Issa et al., Thm 1 / Cor.).
    rng = np.random.default_rng(1)
    W = rng.dirichlet(np.ones(5), size=7)
    p = np.full(7, 1 / 7)
    pc = (p[:, None] * W).max(axis=0).sum()
    assert lk.maximal_leakage(p, W) == pytest.approx(math.log2(pc / p.max()), abs=1e-13)


# ---------------------------------------------------------------- Sibson
def test_sibson_special_orders():
    rng = np.random.default_rng(2)
    W = rng.dirichlet(np.ones(4), size=3)
    p = rng.dirichlet(np.ones(3))
    assert lk.sibson_mutual_information(p, W, 1) == lk.mutual_information(p, W)
    assert lk.sibson_mutual_information(p, W, math.inf) == lk.maximal_leakage(p, W)
    assert lk.sibson_mutual_information(p, W, 1 + 1e-7) == pytest.approx(
        lk.mutual_information(p, W), abs=1e-6
    )
    assert lk.sibson_mutual_information(p, W, 1e7) == pytest.approx(
        lk.maximal_leakage(p, W), abs=1e-5
    )
    assert math.isfinite(lk.sibson_mutual_information(p, W, 1e300))
    # Y = X: I_alpha = H_{1/alpha}(X), the Rényi entropy of order 1/alpha (Verdú 2015, eq. (34))
    a = 3.0
    renyi_entropy = math.log2((p ** (1 / a)).sum()) / (1 - 1 / a)
    assert lk.sibson_mutual_information(p, np.eye(3), a) == pytest.approx(renyi_entropy)


@pytest.mark.parametrize("alpha", [0.3, 0.5, 2.0, 5.0])
def test_sibson_is_min_over_q_of_renyi(alpha):
    """Sibson's definition: I_a = min_Q D_a(P_XY || P_X x Q_Y), solved numerically."""
    rng = np.random.default_rng(3)
    W = rng.dirichlet(np.ones(3), size=4)
    p = rng.dirichlet(np.ones(4))
    joint = (p[:, None] * W).ravel()

    def objective(z):
        q = np.exp(z - z.max())
        q /= q.sum()
        return lk.renyi_divergence(joint, (p[:, None] * q[None, :]).ravel(), alpha)

    res = optimize.minimize(
        objective,
        np.zeros(3),
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 20000},
    )
    assert lk.sibson_mutual_information(p, W, alpha) == pytest.approx(res.fun, abs=1e-8)


# ---------------------------------------------------------------- other libraries
@given(_pW(), st.sampled_from([0.2, 0.5, 0.9, 1.0, 1.7, 3.0, 10.0, math.inf]))
def test_sibson_matches_dit(pW, alpha):
    p, W = pW
    ref = sibson_mutual_information_pmf(p[:, None] * W, alpha)
    assert lk.sibson_mutual_information(p, W, alpha) == pytest.approx(ref, abs=1e-10)


@given(_pW())
def test_mi_and_maximal_leakage_match_dit(pW):
    p, W = pW
    joint = p[:, None] * W
    assert lk.mutual_information(p, W) == pytest.approx(
        sibson_mutual_information_pmf(joint, 1), abs=1e-10
    )
    assert lk.maximal_leakage(p, W) == pytest.approx(
        sibson_mutual_information_pmf(joint, np.inf), abs=1e-10
    )


@given(_pW(zeros=False))
def test_mi_and_maximal_leakage_match_qif(pW):
    p, W = pW
    assert lk.mutual_information(p, W) == pytest.approx(
        qif.measure.shannon.add_leakage(p, W), abs=1e-10
    )
    # qif's multiplicative Bayes capacity is the maximal leakage for full-support priors
    assert lk.maximal_leakage(p, W) == pytest.approx(
        math.log2(qif.measure.bayes_vuln.mult_capacity(W)), abs=1e-10
    )


# ---------------------------------------------------------------- properties
@given(_pW())
def test_leakage_ordering(pW):
    p, W = pW
    mi, ml = lk.mutual_information(p, W), lk.maximal_leakage(p, W)
    support = int((p > 0).sum())
    assert 0.0 <= mi <= ml + 1e-12
    assert ml <= math.log2(min(support, W.shape[1])) + 1e-12


@given(_pW(), st.data())
def test_data_processing(pW, data):
    p, W = pW
    V = data.draw(channels(W.shape[1]))
    assert lk.mutual_information(p, W @ V) <= lk.mutual_information(p, W) + 1e-12
    assert lk.maximal_leakage(p, W @ V) <= lk.maximal_leakage(p, W) + 1e-12
    for a in (0.5, 2.0):
        assert lk.sibson_mutual_information(p, W @ V, a) <= (
            lk.sibson_mutual_information(p, W, a) + 1e-10
        )


@given(_pW(), st.lists(st.floats(0.05, 30), min_size=2, max_size=2, unique=True))
def test_sibson_nondecreasing_in_alpha(pW, alphas):
    p, W = pW
    a, b = sorted(alphas)
    assert lk.sibson_mutual_information(p, W, a) <= lk.sibson_mutual_information(p, W, b) + 1e-9
    assert lk.sibson_mutual_information(p, W, b) <= lk.maximal_leakage(p, W) + 1e-9


# ---------------------------------------------------------------- sparse channels
def test_sparse_channels_give_the_dense_values():
    rng = np.random.default_rng(4)
    W = rng.dirichlet(np.ones(6), size=5)
    W[W < 0.1] = 0
    W /= W.sum(axis=1, keepdims=True)
    p = np.array([0.1, 0.0, 0.3, 0.2, 0.4])
    S = sparse.csr_matrix(W)
    assert lk.mutual_information(p, S) == pytest.approx(lk.mutual_information(p, W), abs=1e-14)
    assert lk.maximal_leakage(p, S) == pytest.approx(lk.maximal_leakage(p, W), abs=1e-14)
    for a in (0.5, 3.0):
        assert lk.sibson_mutual_information(p, S, a) == pytest.approx(
            lk.sibson_mutual_information(p, W, a), abs=1e-13
        )
    with pytest.raises(lk.InvalidDistributionError, match=r"pointwise_leakage.*sparse"):
        lk.pointwise_leakage(p, S, measure="l1")
    bad = S.copy()
    bad.data[0] += 0.5
    with pytest.raises(lk.InvalidDistributionError, match="row 0 summing to"):
        lk.mutual_information(p, bad)


# ---------------------------------------------------------------- point-wise leakage
def _pointwise_by_definition(p, W, measure):
    """Letter by letter with the library's scalar divergences (a second code path)."""
    out = []
    for u in range(W.shape[1]):
        pu = float(p @ W[:, u])
        if pu == 0:
            out.append(math.nan)
            continue
        post = p * W[:, u] / pu
        post = post / post.sum()  # absorb rounding; exact up to 1 ulp
        if measure == "chi2":
            out.append(math.sqrt(lk.chi2_divergence(post, p)))
        elif measure == "l1":
            out.append(2 * lk.total_variation(post, p))
        elif measure == "kl":
            out.append(lk.kl_divergence(post, p))
        else:
            out.append(lk.renyi_divergence(post, p, math.inf))
    return np.array(out)


@given(_pW(), st.sampled_from(["chi2", "l1", "kl", "max_lift"]))
def test_pointwise_matches_definition(pW, measure):
    p, W = pW
    ours = lk.pointwise_leakage(p, W, measure=measure)
    ref = _pointwise_by_definition(p, W, measure)
    assert ours.shape == (W.shape[1],)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
    np.testing.assert_allclose(ours, ref, atol=1e-10, equal_nan=True)


@given(_pW())
def test_pointwise_averages_to_mi_and_maximal_leakage(pW):
    # I(X;U) = sum_u P_U(u) D(P_{X|u} || P_X)
    p, W = pW
    q = p @ W
    kl = lk.pointwise_leakage(p, W, measure="kl")
    avg = float(np.nansum(q * kl))
    assert avg == pytest.approx(lk.mutual_information(p, W), abs=1e-12)
    # and maximal leakage is the log of the average exponentiated max-lift:
    # L(X->U) = log sum_u max_x W(u|x) = log sum_u P_U(u) 2^{max_lift(u)}
    lift = lk.pointwise_leakage(p, W, measure="max_lift")
    assert math.log2(np.nansum(q * 2.0**lift)) == pytest.approx(lk.maximal_leakage(p, W), abs=1e-12)


def test_pointwise_unused_letter_is_masked_never_nan_and_base():
    W = np.array([[0.5, 0.5, 0.0], [0.25, 0.75, 0.0]])
    p = np.array([0.5, 0.5])
    for m in ("chi2", "l1", "kl", "max_lift"):
        out = lk.pointwise_leakage(p, W, measure=m)
        assert isinstance(out, np.ma.MaskedArray)
        assert out.mask.tolist() == [False, False, True]
        assert np.all(np.isfinite(out.data))  # no nan anywhere, not even under the mask
        assert out.max() == max(out[0], out[1])  # reductions skip the letter never output
        assert np.isnan(out.filled(np.nan)[2])
    kl2 = lk.pointwise_leakage(p, W, measure="kl")
    kle = lk.pointwise_leakage(p, W, measure="kl", base=math.e)
    np.testing.assert_allclose(kle[:2], kl2[:2] * math.log(2), rtol=1e-14)


def test_pointwise_rejects_unknown_measure():
    with pytest.raises(lk.InvalidParameterError, match="'measure' argument must be one of"):
        lk.pointwise_leakage([0.5, 0.5], np.eye(2), measure="tv")


# ---------------------------------------------------------------- validation in every entry point
@pytest.mark.parametrize(
    "fn",
    [
        lk.mutual_information,
        lk.maximal_leakage,
        lambda p, W: lk.sibson_mutual_information(p, W, 2.0),
        lambda p, W: lk.pointwise_leakage(p, W, measure="kl"),
    ],
)
def test_channel_measures_validate(fn):
    with pytest.raises(lk.InvalidDistributionError, match=r"row 1 summing to 1.1"):
        fn([0.5, 0.5], [[0.5, 0.5], [0.6, 0.5]])
    with pytest.raises(lk.InvalidDistributionError, match="one row per entry of 'p_x'"):
        fn([0.2, 0.3, 0.5], np.eye(2))
    with pytest.raises(lk.InvalidDistributionError, match="'p_x' argument must sum to 1"):
        fn([0.5, 0.6], np.eye(2))


@pytest.mark.parametrize("eps", [1e-16, 1e-15, 1e-12, 1e-9, 1e-6, 9.99e-4, 1.001e-3])
def test_sibson_is_continuous_at_one(eps):
    p, W = np.array([0.5, 0.5]), np.array([[0.9, 0.1], [0.2, 0.8]])
    mi = lk.mutual_information(p, W)
    for a in (1 - eps, 1 + eps):
        val = lk.sibson_mutual_information(p, W, a)
        assert val == pytest.approx(mi, abs=10 * eps + 1e-14)
        if eps >= 1e-6:  # dit's direct formula loses ~1e-16/eps to cancellation
            ref = sibson_mutual_information_pmf(p[:, None] * W, a)
            assert val == pytest.approx(ref, abs=1e-9)
    # a single output column: no leakage at any order
    assert lk.sibson_mutual_information([0.3, 0.7], [[1.0], [1.0]], 1 - eps) == 0.0
    assert lk.mutual_information([0.3, 0.7], [[1.0], [1.0]]) == 0.0
