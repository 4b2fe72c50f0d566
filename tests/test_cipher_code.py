"""The finite-blocklength successive-refinement cipher of paper 000, Section IV."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import leakage as lk
from leakage.cipher import SuccessiveRefinementCipher

CASES = [
    dict(
        p=[0.3, 0.7], d1="hamming", d2="hamming", n=6, D1=0.34, D2=0.17, r1=0.34, r2=0.17, alpha=0.3
    ),
    dict(p=[0.4, 0.6], d1="hamming", d2="hamming", n=5, D1=0.2, D2=0.0, r1=0.2, r2=0.4, alpha=0.1),
    dict(
        p=[0.5, 0.3, 0.2],
        d1="hamming",
        d2="hamming",
        n=4,
        D1=0.5,
        D2=0.25,
        r1=0.25,
        r2=0.25,
        alpha=0.2,
    ),
]


def _code(case):
    c = dict(case)
    return SuccessiveRefinementCipher.build(c.pop("p"), c.pop("d1"), c.pop("d2"), **c)


def _blocks(code):
    return [np.array(x) for x in itertools.product(range(code.p.size), repeat=code.n)]


def _keys(bits):
    return [np.array(k, dtype=int) for k in itertools.product((0, 1), repeat=bits)]


def _dist(d, x, y):
    return float(np.mean(d[x, y]))


@pytest.mark.parametrize("case", CASES)
def test_round_trip_within_both_distortions(case):
    code = _code(case)
    rng = np.random.default_rng(0)
    typical = set(code.types)
    for x in _blocks(code):
        k1 = rng.integers(0, 2, code.key_bits[0])
        k2 = rng.integers(0, 2, code.key_bits[1])
        m1, m2 = code.encode(x, k1, k2)
        Q = tuple(int((x == a).sum()) for a in range(code.p.size))
        if Q in typical:
            assert _dist(code.d1, x, code.decode1(m1, k1)) <= code.D1 + 1e-12
            assert _dist(code.d2, x, code.decode2(m1, m2, k1, k2)) <= code.D2 + 1e-12
        else:
            assert m1 == (-1, -1, -1) and m2 == (-1, -1)


def test_a_wrong_key_decodes_to_a_wrong_reproduction():
    code = _code(CASES[0])
    assert code.key_bits[0] >= 1
    k1 = np.zeros(code.key_bits[0], dtype=int)
    bad = k1.copy()
    bad[0] = 1
    wrong = 0
    for x in _blocks(code):
        m1, _ = code.encode(x, k1, np.zeros(code.key_bits[1], dtype=int))
        if m1[0] >= 0 and not np.array_equal(code.decode1(m1, bad), code.decode1(m1, k1)):
            wrong += 1
    assert wrong > 0


def _brute_force(code):
    """P(m | x) by enumerating every key pair, then Definition 2 by hand."""
    blocks = _blocks(code)
    keys1, keys2 = _keys(code.key_bits[0]), _keys(code.key_bits[1])
    w = 1.0 / (len(keys1) * len(keys2))
    best1: dict = {}
    best12: dict = {}
    fails = 0.0
    for x in blocks:
        px = float(np.prod(code.p[x]))
        c1: dict = {}
        c12: dict = {}
        for k1 in keys1:
            for k2 in keys2:
                m1, m2 = code.encode(x, k1, k2)
                c1[m1] = c1.get(m1, 0.0) + w
                c12[(m1, m2)] = c12.get((m1, m2), 0.0) + w
        for m, v in c1.items():
            best1[m] = max(best1.get(m, 0.0), v)
        for m, v in c12.items():
            best12[m] = max(best12.get(m, 0.0), v)
        k1, k2 = keys1[0], keys2[0]
        m1, m2 = code.encode(x, k1, k2)
        if (
            _dist(code.d1, x, code.decode1(m1, k1)) > code.D1 + 1e-12
            or _dist(code.d2, x, code.decode2(m1, m2, k1, k2)) > code.D2 + 1e-12
        ):
            fails += px
    return math.log2(sum(best1.values())), math.log2(sum(best12.values())), fails


@pytest.mark.parametrize("case", CASES)
def test_exact_leakage_and_jep_equal_brute_force(case):
    code = _code(case)
    L1, L12 = code.leakage()
    b1, b12, fails = _brute_force(code)
    assert L1 == pytest.approx(b1, abs=1e-12)
    assert L12 == pytest.approx(b12, abs=1e-12)
    assert code.jep() == pytest.approx(fails, abs=1e-15)
    # the counting formula (72) for the first layer: one term per (type, bin), plus m0
    bins = sum(math.ceil(len(Y) / 2 ** code.key_bits[0]) for Y in code.book_y)
    m0 = code.jep() > 0 or len(code.types) < math.comb(code.n + code.p.size - 1, code.p.size - 1)
    assert 2.0**L1 == pytest.approx(bins + int(m0), rel=1e-12)
    # never more than the log of the number of public messages
    R1, R2 = code.rates()
    assert L1 <= code.n * R1 + 1e-12 and L12 <= code.n * (R1 + R2) + 1e-12
    assert L1 <= L12 + 1e-12


def test_without_keys_the_leakage_is_the_unencrypted_codes():
    case = {**CASES[0], "r1": 0.0, "r2": 0.0}
    code = _code(case)
    L1, L12 = code.leakage()
    # a deterministic encoder leaks log(number of distinct outputs)
    n_m1 = sum(len(Y) for Y in code.book_y) + 1
    assert L1 == pytest.approx(math.log2(n_m1), abs=1e-12)
    keyed = _code(CASES[0])
    assert keyed.leakage()[0] <= L1 + 1e-12 and keyed.leakage()[1] <= L12 + 1e-12


def test_bad_inputs():
    code = _code(CASES[0])
    with pytest.raises(lk.InvalidParameterError, match="key"):
        code.encode(np.zeros(code.n, int), [0] * (code.key_bits[0] + 1), [0] * code.key_bits[1])
    with pytest.raises(lk.InvalidParameterError, match="block"):
        code.encode([0, 1], [0] * code.key_bits[0], [0] * code.key_bits[1])
    from leakage.cipher._code import MAX_SEQUENCES, _max_blocklength

    too_long = _max_blocklength(2) + 1
    assert 2**too_long > MAX_SEQUENCES >= 2 ** (too_long - 1)
    with pytest.raises(lk.InvalidParameterError, match="MAX_SEQUENCES"):
        SuccessiveRefinementCipher.build(
            [0.5, 0.5], "hamming", "hamming", n=too_long, D1=0.2, D2=0.1, r1=0, r2=0, alpha=0.1
        )


def test_finite_n_report_rows_are_the_codes_exact_figures():
    kw = dict(D1=0.34, D2=0.17, r1=0.34, r2=0.17, alpha=0.3)
    rows = lk.cipher.finite_n_report([0.3, 0.7], "hamming", "hamming", ns=[3, 6], **kw)
    assert [r.n for r in rows] == [3, 6]
    code = SuccessiveRefinementCipher.build([0.3, 0.7], "hamming", "hamming", n=6, **kw)
    L1, L12 = code.leakage()
    r = rows[1]
    assert r.L1_per_symbol == pytest.approx(L1 / 6) and r.L12_per_symbol == pytest.approx(L12 / 6)
    assert r.jep == pytest.approx(code.jep()) and r.jep_exponent == pytest.approx(
        -math.log2(code.jep()) / 6
    )
    # expected distortions by brute force: the typical blocks are within the levels
    e1 = sum(
        float(np.prod(code.p[x]))
        * _dist(code.d1, x, code.decode1(code.encode(x, [0, 0], [0])[0], [0, 0]))
        for x in _blocks(code)
    )
    assert r.distortion1 == pytest.approx(e1, abs=1e-12)
    assert r.L1_per_symbol <= r.rate1 + 1e-12


@pytest.mark.parametrize("keys", [(0.0, 0.0), (0.34, 0.17), (0.5, 0.5)])
def test_eve_never_beats_the_maximal_leakage_bound(keys):
    """Definition 5: Pr[U = Û] <= 2^L max_u P_U(u) for every guess; the simulated rate's
    99% Clopper-Pearson interval must reach below the bound."""
    case = {**CASES[0], "r1": keys[0], "r2": keys[1]}
    code = _code(case)
    for f in (None, lambda x: int(x[0]), lambda x: int(x.sum())):
        g = lk.cipher.guessing_attack(code, trials=1500, rng=7, function=f)
        assert g.interval[0] <= g.leakage_bound
        assert g.p_star <= g.leakage_bound <= 1.0
        assert g.interval[0] <= g.success_rate <= g.interval[1]
        assert g.leakage_bits == pytest.approx(code.leakage()[1])


def test_keys_make_eve_guess_worse():
    open_ = _code({**CASES[0], "r1": 0.0, "r2": 0.0})
    keyed = _code({**CASES[0], "r1": 0.5, "r2": 0.5})
    a = lk.cipher.guessing_attack(open_, trials=3000, rng=3)
    b = lk.cipher.guessing_attack(keyed, trials=3000, rng=3)
    assert b.interval[1] < a.interval[0]  # separated at 99% confidence
    assert keyed.leakage()[1] < open_.leakage()[1]


def test_save_load_and_streams(tmp_path):
    code = _code(CASES[2])
    path = tmp_path / "code.json"
    code.save(path)
    back = SuccessiveRefinementCipher.load(path)
    assert back.leakage() == code.leakage() and back.jep() == code.jep()
    rng = np.random.default_rng(2)
    src = rng.integers(0, 3, 5 * code.n)
    k1 = rng.integers(0, 2, 5 * code.key_bits[0])
    k2 = rng.integers(0, 2, 5 * code.key_bits[1])
    msgs = code.encrypt(src, k1, k2)
    assert msgs == back.encrypt(src, k1, k2)
    y, z = back.decrypt(msgs, k1, k2)
    for b in range(5):
        x = src[b * code.n : (b + 1) * code.n]
        m1, m2 = code.encode(
            x,
            k1[b * code.key_bits[0] : (b + 1) * code.key_bits[0]],
            k2[b * code.key_bits[1] : (b + 1) * code.key_bits[1]],
        )
        assert (m1, m2) == msgs[b]
    assert y.shape == z.shape == src.shape
    with pytest.raises(lk.InvalidParameterError, match="multiple of the blocklength"):
        code.encrypt(src[:-1], k1, k2)
    with pytest.raises(lk.InvalidParameterError, match="not a cipher code file"):
        (tmp_path / "x.json").write_text("{}")
        SuccessiveRefinementCipher.load(tmp_path / "x.json")


@pytest.mark.parametrize("case", CASES)
def test_second_layer_leakage_equals_the_corrected_counting_formula(case):
    """2^{L(X^n -> M1 M2)} = [m0] + sum over (type, bin) of sum over m2 of the largest
    P(m2 | x) among the blocks of that bin (eqs. (68)-(71) with j unknown to Eve)."""
    from leakage.cipher._code import _bins, _sbits

    code = _code(case)
    b1, b2 = code.key_bits
    total = 1.0  # m0: some type of these codes is atypical
    assert len(code.types) < math.comb(code.n + code.p.size - 1, code.p.size - 1)
    for t, Y in enumerate(code.book_y):
        for i, size in enumerate(_bins(len(Y), b1)):
            best: dict = {}
            for j in range(i * 2**b1, i * 2**b1 + size):
                for u, zsize in enumerate(_bins(len(code.book_z[t][j]), b2)):
                    s2 = _sbits(zsize)
                    for v in range(2**s2):
                        best[(u, v)] = max(best.get((u, v), 0.0), 2.0**-s2)
            total += sum(best.values())
    assert 2.0 ** code.leakage()[1] == pytest.approx(total, rel=1e-12)


def test_eve_lower_bound_106_is_below_the_upper_bound():
    code = _code(CASES[0])
    g = lk.cipher.guessing_attack(code, trials=200, rng=0)
    assert 0.0 < g.lower_bound_106 <= g.leakage_bound
    # at this blocklength the polynomial factors of (106) dominate
    assert g.lower_bound_106 < 1e-3


RESTRICTED = [
    *CASES,
    # two metrics on different alphabets: no triangle-inequality pruning, joint-type classes
    dict(
        p=[0.5, 0.3, 0.2], d1="abs", d2="hamming", n=4, D1=0.5, D2=0.25, r1=0.25, r2=0.25, alpha=0.3
    ),
]


@pytest.mark.parametrize("case", RESTRICTED)
def test_orbit_restricted_candidates_still_cover_and_evaluate_exactly(case, monkeypatch):
    """With the cover budgets at 1 every candidate pool is restricted to whole type /
    joint-type classes (what binary n = 17..20 needs); the code must still reproduce every
    typical block within both levels, and its exact figures must equal brute force."""
    import leakage.cipher._code as code_mod

    full = _code(case)
    monkeypatch.setattr(code_mod, "COVER_BUDGET", 1)
    monkeypatch.setattr(code_mod, "CELL_BUDGET", 1)
    code = _code(case)
    assert code.types == full.types
    typical = set(code.types)
    k1, k2 = np.zeros(code.key_bits[0], int), np.zeros(code.key_bits[1], int)
    for x in _blocks(code):
        if tuple(int((x == a).sum()) for a in range(code.p.size)) in typical:
            m1, m2 = code.encode(x, k1, k2)
            assert _dist(code.d1, x, code.decode1(m1, k1)) <= code.D1 + 1e-12
            assert _dist(code.d2, x, code.decode2(m1, m2, k1, k2)) <= code.D2 + 1e-12
    b1, b12, fails = _brute_force(code)
    L1, L12 = code.leakage()
    assert L1 == pytest.approx(b1, abs=1e-12) and L12 == pytest.approx(b12, abs=1e-12)
    assert code.jep() == pytest.approx(fails, abs=1e-15)


def test_covers_fast_binary_path_equals_direct_sums():
    """The one-popcount binary test against the sum over positions, for distortion
    matrices with every sign of N_11's coefficient, fractional entries and a non-zero
    diagonal."""
    from leakage.cipher._code import _all_sequences, _covers

    rng = np.random.default_rng(3)
    n = 7
    S = _all_sequences(n, 2)
    for d in (
        np.array([[0, 1], [1, 0]]),  # Hamming: coefficient -2
        np.array([[0.0, 0.3], [0.7, 1.5]]),  # positive coefficient
        np.array([[0.2, 0.5], [0.4, 0.7]]),  # zero coefficient
        rng.random((2, 2)),
    ):
        d = d.astype(float)
        X, C = S[rng.choice(S.shape[0], 40)], S[rng.choice(S.shape[0], 50)]
        direct = d[X[:, None, :], C[None, :, :]].sum(axis=2)
        for D in np.unique(direct / n)[::3]:
            assert np.array_equal(_covers(X, C, d, D), direct <= D * n + 1e-9)
    # and the generic path on a rectangular matrix
    d = rng.random((3, 2))
    X, C = _all_sequences(4, 3), _all_sequences(4, 2)
    direct = d[X[:, None, :], C[None, :, :]].sum(axis=2)
    assert np.array_equal(_covers(X, C, d, 0.4), direct <= 1.6 + 1e-9)


@pytest.mark.slow
def test_binary_n20_builds_and_covers():
    """Issue 6's size: binary n = 20 (a million blocks) builds, and every typical block is
    reproduced within both levels (checked vectorized on the exact assignment)."""
    code = SuccessiveRefinementCipher.build(
        [0.3, 0.7], "hamming", "hamming", n=20, D1=0.2, D2=0.1, r1=0.06, r2=0.1, alpha=0.05
    )
    px, t, _, _, e1, e2 = code._assignment()
    typ = t >= 0
    assert typ.sum() == sum(math.comb(20, Q[0]) for Q in code.types)
    assert e1[typ].max() <= 0.2 * 20 + 1e-9 and e2[typ].max() <= 0.1 * 20 + 1e-9
    L1, L12 = code.leakage()
    R1, R2 = code.rates()
    assert 0 < L1 <= L12 <= 20 * (R1 + R2) + 1e-9
    # the JEP: atypical blocks that the fallback m0 does not reproduce within both levels
    fail = ~typ & ((e1 > 0.2 * 20 + 1e-9) | (e2 > 0.1 * 20 + 1e-9))
    assert code.jep() == pytest.approx(px[fail].sum(), abs=1e-12)


# ------------------------------------------------------------------ per type class
# The build covers each typical type class sparsely (distortion balls carried over by the
# permutation that sorts a block, greedy picks on gains); the dense cover matrices over
# all k^n sequences (``_SPARSE_COVERS = False``, the code before issue 18) stay as the
# reference. Both must build the very same code, also where the candidate pools are
# restricted (budgets) and where the sparse path hands a type to the dense
# one.
METRIC_F = [[0.0, 0.3, 0.7], [0.3, 0.0, 0.4], [0.7, 0.4, 0.0]]  # a metric, not integral
SPARSE_CASES = [
    *RESTRICTED,
    dict(p=[0.3, 0.7], d1="hamming", d2="hamming", n=10, D1=0.3, D2=0.1, r1=0.1, r2=0.1, alpha=0.1),
    dict(
        p=[0.5, 0.3, 0.2],
        d1="hamming",
        d2="hamming",
        n=7,
        D1=0.3,
        D2=0.15,
        r1=0.1,
        r2=0.1,
        alpha=0.1,
    ),
    dict(
        p=[0.5, 0.3, 0.2], d1=METRIC_F, d2=METRIC_F, n=6, D1=0.2, D2=0.1, r1=0.2, r2=0.2, alpha=0.2
    ),
    # rectangular distortions (3 source letters, 2 reproduction letters): no metric
    dict(
        p=[0.5, 0.3, 0.2],
        d1=[[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]],
        d2=[[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]],
        n=6,
        D1=0.4,
        D2=0.2,
        r1=0.2,
        r2=0.2,
        alpha=0.2,
    ),
]


def _same_code(a, b):
    assert a.types == b.types and a.key_bits == b.key_bits
    assert len(a.book_y) == len(b.book_y)
    for Ya, Yb in zip(a.book_y, b.book_y, strict=True):
        assert Ya.dtype == Yb.dtype and np.array_equal(Ya, Yb)
    for za, zb in zip(a.book_z, b.book_z, strict=True):
        assert len(za) == len(zb)
        for Za, Zb in zip(za, zb, strict=True):
            assert Za.dtype == Zb.dtype and Za.shape == Zb.shape and np.array_equal(Za, Zb)


@pytest.mark.parametrize("case", SPARSE_CASES)
@pytest.mark.parametrize(
    "limits",
    [
        {},  # as shipped
        {"COVER_BUDGET": 1, "CELL_BUDGET": 1},  # every pool restricted to whole classes
        {"COVER_BUDGET": 64, "CELL_BUDGET": 8},  # restricted, several classes fit
        {"CELL_ENTRIES": 1},  # one cell per batch
        {"CELL_ENTRIES": 40},  # cells covered in many small batches
        {"SPARSE_ENTRIES": 0},  # every type handed to the dense path
        {"MAX_BALL": 1},  # balls too large: dense path
    ],
    ids=["default", "restricted", "budgets", "one-cell", "batches", "dense", "no-ball"],
)
def test_type_class_build_equals_the_dense_reference(case, limits, monkeypatch):
    import leakage.cipher._code as code_mod

    for name, value in limits.items():
        monkeypatch.setattr(code_mod, name, value)
    monkeypatch.setattr(code_mod, "_SPARSE_COVERS", False)
    reference = _code(case)
    monkeypatch.setattr(code_mod, "_SPARSE_COVERS", True)
    _same_code(_code(case), reference)


def test_type_class_helpers_equal_brute_force():
    from leakage.cipher import _code as cm

    rng = np.random.default_rng(5)
    for n, k in ((7, 2), (5, 3), (4, 4)):
        X = cm._all_sequences(n, k, np.int8)
        counts = np.stack([(X == a).sum(axis=1) for a in range(k)], axis=1)
        for Q in cm._types(n, k):
            T = cm._type_class(Q)
            assert np.array_equal(T, X[np.all(counts == Q, axis=1)])  # lexicographic
            assert T.shape[0] == cm._type_size(Q) == cm._multinomial(np.array([Q]))[0]
        d = rng.random((k, k + 1)).round(2)
        C = cm._all_sequences(n, k + 1, np.int8)
        Q = cm._types(n, k)[len(cm._types(n, k)) // 2]
        T = cm._type_class(Q)
        for D in (0.0, 0.2, 0.45):
            ball = cm._ball(T[0], d, D, 2**20)
            full = cm._covers(T, C, d, D)  # the dense cover: every ball by brute force
            assert np.array_equal(
                np.sort(ball @ (k + 1) ** np.arange(n - 1, -1, -1)), np.flatnonzero(full[0])
            )
            E = cm._ball_entries(T, ball, k + 1)
            for r in range(T.shape[0]):
                assert np.array_equal(np.sort(E[r]), np.flatnonzero(full[r]))
        # joint types with a fixed sequence: codes, sizes and a member each
        y = rng.integers(0, k, n)
        yq = tuple(int(c) for c in np.bincount(y, minlength=k))
        codes, sizes, reps = cm._joint_classes(yq, k + 1, n)
        y0 = np.repeat(np.arange(k), yq)
        lab = cm._classes(cm._masks(C, k + 1), cm._masks(y0[None, :], k)[:, 0], n)
        u, cnt = np.unique(lab, return_counts=True)
        assert np.array_equal(codes, u) and np.array_equal(sizes, cnt)
        rl = cm._classes(cm._masks(reps, k + 1), cm._masks(y0[None, :], k)[:, 0], n)
        assert np.array_equal(rl, codes)
    assert cm._multinomial(np.array([[31, 32]]))[0] == math.comb(63, 31)


def test_sparse_greedy_covers_equal_the_dense_greedy():
    """_greedy_entries and _greedy_groups pick what _greedy_cover picks on the dense
    matrix (same order, ties to the lowest column), and the encoder's choice is the first
    pick covering each row."""
    from leakage.cipher import _code as cm

    rng = np.random.default_rng(11)
    for trial in range(60):
        rows, cols = int(rng.integers(1, 40)), int(rng.integers(1, 9000 if trial % 3 == 0 else 60))
        M = rng.random((rows, cols)) < rng.choice([0.02, 0.1, 0.4])
        M[np.arange(rows), rng.integers(0, cols, rows)] = True  # every row coverable
        width = int(M.sum(axis=1).max())
        E = np.full((rows, width), -1, dtype=np.int64)
        for r in range(rows):
            c = rng.permutation(np.flatnonzero(M[r]))
            E[r, : c.size] = c
        ref = cm._greedy_cover(M)
        got, assign = cm._greedy_entries(E, cols, lambda j, M=M: M[:, j])
        assert got == ref
        assert np.array_equal(assign, np.argmax(M[:, ref], axis=1))
        if (E >= 0).all():
            assert cm._greedy_entries(E, cols, lambda j, M=M: M[:, j], padded=False)[0] == ref
    # several independent covers at once
    groups = 7
    blocks = [
        rng.random((int(rng.integers(1, 15)), int(rng.integers(1, 20)))) < 0.3
        for _ in range(groups)
    ]
    for B in blocks:
        B[np.arange(B.shape[0]), rng.integers(0, B.shape[1], B.shape[0])] = True
    offs = np.cumsum([0] + [B.shape[1] for B in blocks])
    width = max(int(B.sum(axis=1).max()) for B in blocks)
    E = np.concatenate(
        [
            np.array(
                [
                    np.pad(np.flatnonzero(r) + o, (0, width - int(r.sum())), constant_values=-1)
                    for r in B
                ]
            )
            for B, o in zip(blocks, offs, strict=False)
        ]
    )
    row_group = np.repeat(np.arange(groups), [B.shape[0] for B in blocks])
    col_group = np.repeat(np.arange(groups), [B.shape[1] for B in blocks])
    picks = cm._greedy_groups(E, row_group, col_group, groups)
    for B, o, p in zip(blocks, offs, picks, strict=False):
        assert (p - o).tolist() == cm._greedy_cover(B)


def test_sparse_greedy_reports_an_uncoverable_row():
    from leakage.cipher import _code as cm

    E = np.array([[0, 1], [-1, -1]])
    with pytest.raises(lk.InvalidParameterError, match="no reproduction"):
        cm._greedy_entries(E, 2, lambda j: E[:, 0] == j)
    with pytest.raises(lk.InvalidParameterError, match="no reproduction"):
        cm._greedy_groups(E, np.array([0, 1]), np.array([0, 0]), 2)


# ------------------------------------------------------------------ per type evaluation
# leakage, expected_distortions, jep and load's coverage check go type class by type
# class (only the typical classes are enumerated); message_channels (a matrix over all
# k^n blocks) stays as the reference they must equal.
N12 = dict(
    p=[0.3, 0.7], d1="hamming", d2="hamming", n=12, D1=0.3, D2=0.15, r1=0.25, r2=0.25, alpha=0.1
)


@pytest.mark.parametrize("case", [*RESTRICTED, *SPARSE_CASES[-4:], N12])
def test_per_type_figures_equal_the_channels_over_all_blocks(case):
    from leakage.measures import maximal_leakage

    code = _code(case)
    fresh = _code(case)  # nothing computed over all blocks yet
    W1, W2, px = code.message_channels()
    for base in (2, math.e):
        got = fresh.leakage(base=base)
        assert got[0] == pytest.approx(float(maximal_leakage(px, W1, base=base)), abs=1e-12)
        assert got[1] == pytest.approx(float(maximal_leakage(px, W2, base=base)), abs=1e-12)
    pxa, t, j, w, e1, e2 = code._assignment()
    d1, d2 = fresh.expected_distortions()
    assert d1 == pytest.approx(float(pxa @ e1) / code.n, abs=1e-14)
    assert d2 == pytest.approx(float(pxa @ e2) / code.n, abs=1e-14)
    fail = (t < 0) & ((e1 > code.D1 * code.n + 1e-9) | (e2 > code.D2 * code.n + 1e-9))
    assert fresh.jep() == pytest.approx(float(pxa[fail].sum()), abs=1e-15)
    # the per-type rows are the assignment's rows of that type
    power = code.p.size ** np.arange(code.n - 1, -1, -1)
    for ti in range(len(code.types)):
        T, jt, wt, f1, f2 = code._type_rows(ti)
        rows = T.astype(np.int64) @ power
        assert np.array_equal(np.sort(rows), np.flatnonzero(t == ti))
        assert np.array_equal(jt, j[rows]) and np.array_equal(wt, w[rows])
        assert np.array_equal(f1, e1[rows]) and np.array_equal(f2, e2[rows])


def test_per_type_leakage_counts_masked_indices_of_several_key_lengths():
    """A (bin, second-layer bin) whose blocks use different numbers of key bits s2: its
    term of 2^{L12} is fractional (1 + sum of 1 - 2^{s_(l-1) - s_l})."""
    code = _code(N12)
    terms = code._typewise()["term12"]
    assert any(t != round(t) for t in terms)
    assert 2.0 ** code.leakage()[1] == pytest.approx(sum(terms) + 1, rel=1e-14)


def test_evaluation_never_enumerates_all_blocks(monkeypatch, tmp_path):
    """Build, leakage, JEP, expected distortions, rates and load work per type class:
    with the enumeration of all k^n blocks disabled they still run (and agree)."""
    import leakage.cipher._code as code_mod

    case = SPARSE_CASES[-4]  # binary n = 10: every type sparse
    ref = _code(case)
    ref_figures = (ref.leakage(), ref.jep(), ref.expected_distortions(), ref.rates())
    ref.save(tmp_path / "c.json")

    def refuse(*args, **kwargs):
        raise AssertionError("all k^n blocks enumerated")

    monkeypatch.setattr(code_mod, "_all_sequences", refuse)
    code = _code(case)
    assert (code.leakage(), code.jep(), code.expected_distortions(), code.rates()) == ref_figures
    back = SuccessiveRefinementCipher.load(tmp_path / "c.json")
    assert back.leakage() == ref_figures[0]


@pytest.mark.parametrize(
    "limits, layer",
    [
        ({"SPARSE_ENTRIES": 0, "DENSE_LIMIT": 10}, "first-layer"),
        # the dense path (the reference, and the fallback of a type whose sparse first
        # layer is too large): small first-layer pools, cells with the whole pool
        (
            {"SPARSE_ENTRIES": 0, "COVER_BUDGET": 1, "CELL_BUDGET": 2**30, "DENSE_LIMIT": 2**12},
            "second-layer",
        ),
    ],
)
def test_a_dense_cover_above_the_limit_is_refused_before_allocating(limits, layer, monkeypatch):
    import leakage.cipher._code as code_mod

    for name, value in limits.items():
        monkeypatch.setattr(code_mod, name, value)
    with pytest.raises(lk.InvalidParameterError) as info:
        _code(SPARSE_CASES[-4])
    msg = str(info.value)
    assert f"the {layer} cover of type (" in msg and "np.int" not in msg
    assert "DENSE_LIMIT" in msg and "Lower n" in msg
    assert "'n' argument" in msg


def test_masks_set_bit_t_for_the_letter_at_position_t():
    from leakage.cipher import _code as cm

    rng = np.random.default_rng(3)
    for n, k, rows in ((1, 2, 5), (8, 3, 17), (24, 2, 2**20 + 3), (63, 4, 9), (0, 2, 4)):
        S = rng.integers(0, k, (rows, n)).astype(np.int8)
        m = cm._masks(S, k)
        assert m.shape == (k, rows) and m.dtype == np.uint64
        for r in (0, rows // 2, rows - 1):
            for a in range(k):
                want = sum(1 << t for t in range(n) if S[r, t] == a)
                assert int(m[a, r]) == want
    assert cm._masks(np.zeros((0, 5), np.int8), 3).shape == (3, 0)
