"""Every bad input of :mod:`leakage.cipher` gets a specific error (a ``LeakageError``)
whose message names the function, the argument and the fix; nothing hangs, nothing is
truncated or wrapped around silently."""

from __future__ import annotations

import contextlib
import json
import math
import signal
import threading

import numpy as np
import pytest

import leakage as lk
from leakage.cipher import SuccessiveRefinementCipher as Cipher
from leakage.errors import InvalidDistributionError, InvalidParameterError

IPE, IDE = InvalidParameterError, InvalidDistributionError

BUILD = dict(n=6, D1=0.34, D2=0.17, r1=0.34, r2=0.17, alpha=0.3)  # key bits (2, 1)
BUILD_KW = {k: v for k, v in BUILD.items() if k != "n"}
REGION = dict(D1=0.2, D2=0.1, R1=None, r1=0.06, r2=0.1)
P2, HAM = [0.3, 0.7], "hamming"


@pytest.fixture(scope="module")
def code():
    c = Cipher.build(P2, HAM, HAM, **BUILD)
    assert c.key_bits == (2, 1) and c.types == [(1, 5), (2, 4), (3, 3)]
    return c


@contextlib.contextmanager
def deadline(seconds: float):
    """Turn a hang into a failure (where SIGALRM exists): the fixed code refuses at once."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def boom(*_):
        raise TimeoutError(f"no answer within {seconds} s: the bad input was not refused")

    old = signal.signal(signal.SIGALRM, boom)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# ----------------------------------------------------------------------------- code files
def _saved(code) -> dict:
    return json.loads(json.dumps(code.to_dict()))


def _load_text(tmp_path, text):
    path = tmp_path / "code.json"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return Cipher.load(path)


def _load_edited(code, tmp_path, **fields):
    data = _saved(code)
    for k, v in fields.items():
        if v is _DROP:
            del data[k]
        else:
            data[k] = v(data) if callable(v) else v
    return _load_text(tmp_path, json.dumps(data))


_DROP = object()


def _swap_book_y(data, t, words):
    data["book_y"][t] = words
    return data["book_y"]


# ----------------------------------------------------------------------------- the table
# (id, call(code, tmp_path), exception type, message fragment)
CASES = [
    # --- tolerances and budgets of the region searches ---------------------------------
    (
        "alpha_star-tol-negative",
        lambda c, t: lk.cipher.alpha_star(P2, HAM, HAM, **REGION, tol=-1),
        IPE,
        "alpha_star: the 'tol' argument must be a finite real number > 0",
    ),
    (
        "alpha_star-tol-nan",
        lambda c, t: lk.cipher.alpha_star(P2, HAM, HAM, **REGION, tol=math.nan),
        IPE,
        "alpha_star: the 'tol' argument",
    ),
    (
        "alpha_star-tol-zero",
        lambda c, t: lk.cipher.alpha_star(P2, HAM, HAM, **REGION, tol=0),
        IPE,
        "alpha_star: the 'tol' argument",
    ),
    (
        "alpha_star-max_evals-negative",
        lambda c, t: lk.cipher.alpha_star(P2, HAM, HAM, **REGION, max_evals=-1),
        IPE,
        "alpha_star: the 'max_evals' argument must be an integer >= 1",
    ),
    (
        "alpha_star-which-bool",
        lambda c, t: lk.cipher.alpha_star(P2, HAM, HAM, **REGION, which=True),
        IPE,
        "the 'which' argument must be 1",
    ),
    (
        "key_rate_limits-max_evals-zero",
        lambda c, t: lk.cipher.key_rate_limits(
            P2, HAM, HAM, D1=0.2, D2=0.1, R1=None, alpha=0.05, max_evals=0
        ),
        IPE,
        "key_rate_limits: the 'max_evals' argument",
    ),
    (
        "leakage_region-max_evals-huge",
        lambda c, t: lk.cipher.leakage_region(P2, HAM, HAM, **REGION, alpha=0.05, max_evals=10**12),
        IPE,
        "above the limit of 1,000,000 evaluations",
    ),
    (
        "leakage_region_curve-alphas-string",
        lambda c, t: lk.cipher.leakage_region_curve(P2, HAM, HAM, **REGION, alphas="abc"),
        IPE,
        "leakage_region_curve: the 'alphas' argument must be a non-empty 1-D array",
    ),
    (
        "leakage_region_curve-alphas-too-many",
        lambda c, t: lk.cipher.leakage_region_curve(
            P2, HAM, HAM, **REGION, alphas=np.full(10**6, 0.1), max_evals=1
        ),
        IPE,
        "above the limit of 10,000 exponents",
    ),
    (
        "leakage_region_curve-progress-not-callable",
        lambda c, t: lk.cipher.leakage_region_curve(
            P2, HAM, HAM, **REGION, alphas=[0.05], progress="x"
        ),
        IPE,
        "the 'progress' argument must be None or a callable",
    ),
    # --- sizes -------------------------------------------------------------------------
    (
        "build-n-1e9",
        lambda c, t: Cipher.build(P2, HAM, HAM, **{**BUILD, "n": 10**9}),
        IPE,
        "above the limit of 24 letters per block",
    ),
    (
        "build-n-1e12",
        lambda c, t: Cipher.build(P2, HAM, HAM, **{**BUILD, "n": 10**12}),
        IPE,
        "above the limit of 24 letters per block",
    ),
    (
        "build-n-past-the-64-bit-masks",
        lambda c, t: Cipher.build([1.0], HAM, HAM, **{**BUILD, "n": 64}),
        IPE,
        "above the limit of 63 letters per block",
    ),
    (
        "build-key-rate-huge",
        lambda c, t: Cipher.build(P2, HAM, HAM, **{**BUILD, "r1": 1e300}),
        IPE,
        "the 'r1' argument asks for floor(n r1)",
    ),
    (
        "finite_n_report-ns-fractional",
        lambda c, t: lk.cipher.finite_n_report(P2, HAM, HAM, ns=[2.5], **BUILD_KW),
        IPE,
        "finite_n_report: the 'ns[0]' argument must be an integer >= 1; got 2.5",
    ),
    (
        "finite_n_report-ns-huge",
        lambda c, t: lk.cipher.finite_n_report(P2, HAM, HAM, ns=[3, 10**9], **BUILD_KW),
        IPE,
        "the 'ns[1]' argument asks for 1,000,000,000 letters per block",
    ),
    (
        "finite_n_report-ns-none",
        lambda c, t: lk.cipher.finite_n_report(P2, HAM, HAM, ns=None, **BUILD_KW),
        IPE,
        "finite_n_report: the 'ns' argument must be a list of blocklengths",
    ),
    # --- guessing_attack ---------------------------------------------------------------
    (
        "guessing_attack-rng-string",
        lambda c, t: lk.cipher.guessing_attack(c, trials=5, rng="abc"),
        IPE,
        "guessing_attack: the 'rng' argument must be None, a nonnegative integer seed",
    ),
    (
        "guessing_attack-rng-negative",
        lambda c, t: lk.cipher.guessing_attack(c, trials=5, rng=-1),
        IPE,
        "the 'rng' argument",
    ),
    (
        "guessing_attack-rng-bool",
        lambda c, t: lk.cipher.guessing_attack(c, trials=5, rng=True),
        IPE,
        "the 'rng' argument",
    ),
    (
        "guessing_attack-trials-huge",
        lambda c, t: lk.cipher.guessing_attack(c, trials=10**12, rng=0),
        IPE,
        "above the limit of 1,000,000 trials",
    ),
    (
        "guessing_attack-confidence-string",
        lambda c, t: lk.cipher.guessing_attack(c, trials=5, rng=0, confidence="x"),
        IPE,
        "the 'confidence' argument must be a real number in (0, 1)",
    ),
    (
        "guessing_attack-code-wrong-type",
        lambda c, t: lk.cipher.guessing_attack("code", trials=5, rng=0),
        IPE,
        "the 'code' argument must be a SuccessiveRefinementCipher",
    ),
    (
        "guessing_attack-function-not-callable",
        lambda c, t: lk.cipher.guessing_attack(c, trials=5, rng=0, function=5),
        IPE,
        "the 'function' argument must be None or a callable",
    ),
    # --- encode / decode ---------------------------------------------------------------
    (
        "encode-letter-fractional",
        lambda c, t: c.encode([0.5, 1, 1, 1, 0, 1], [0, 0], [0]),
        IPE,
        "encode: the 'x' argument must be a source block: a 1-D array of 6 integer letters",
    ),
    (
        "encode-letter-string",
        lambda c, t: c.encode(["a", 1, 1, 1, 0, 1], [0, 0], [0]),
        IPE,
        "the 'x' argument",
    ),
    ("encode-block-none", lambda c, t: c.encode(None, [0, 0], [0]), IPE, "the 'x' argument"),
    (
        "encode-block-2d",
        lambda c, t: c.encode([[0, 1, 1], [1, 0, 1]], [0, 0], [0]),
        IPE,
        "got an array of shape (2, 3)",
    ),
    (
        "encode-key-bit-fractional",
        lambda c, t: c.encode([0, 1, 1, 1, 0, 1], [0.5, 0], [0]),
        IPE,
        "encode: the 'k1' argument must be a key of 2 bits",
    ),
    (
        "encode-key-none",
        lambda c, t: c.encode([0, 1, 1, 1, 0, 1], None, [0]),
        IPE,
        "the 'k1' argument",
    ),
    (
        "encrypt-letter-fractional",
        lambda c, t: c.encrypt([0.5, 1, 1, 1, 0, 1], [0, 0], [0]),
        IPE,
        "encrypt: the 'source' argument must be a 1-D array of integer letters in 0..1",
    ),
    (
        "encrypt-key-bit-fractional",
        lambda c, t: c.encrypt([0, 1, 1, 1, 0, 1], [0.5, 0], [0]),
        IPE,
        "encrypt: the 'key1' argument must be a 1-D array of key bits",
    ),
    (
        "encrypt-key-bit-two",
        lambda c, t: c.encrypt([0, 1, 1, 1, 0, 1], [0, 0], [2]),
        IPE,
        "the 'key2' argument",
    ),
    (
        "encrypt-source-string",
        lambda c, t: c.encrypt("abc", [0, 0], [0]),
        IPE,
        "the 'source' argument",
    ),
    (
        "encrypt-key-string",
        lambda c, t: c.encrypt([0, 1, 1, 1, 0, 1], "ab", [0]),
        IPE,
        "the 'key1' argument",
    ),
    (
        "decrypt-negative-bin",
        lambda c, t: c.decrypt([((0, -1, 0), (0, 0))], [0, 0], [0]),
        IPE,
        "decrypt: the 'messages' argument must hold only message pairs this code can emit",
    ),
    (
        "decrypt-negative-masked-index",
        lambda c, t: c.decrypt([((0, 0, -3), (0, 0))], [0, 0], [0]),
        IPE,
        "got m1 = (0, 0, -3) in block 0",
    ),
    (
        "decrypt-negative-second-bin",
        lambda c, t: c.decrypt([((0, 0, 0), (-2, 0))], [0, 0], [0]),
        IPE,
        "got m2 = (-2, 0) in block 0",
    ),
    (
        "decrypt-negative-type",
        lambda c, t: c.decrypt([((-5, 0, 0), (0, 0))], [0, 0], [0]),
        IPE,
        "a type index in 0..2, or m0 = (-1, -1, -1)",
    ),
    (
        "decrypt-type-too-large",
        lambda c, t: c.decrypt([((99, 0, 0), (0, 0))], [0, 0], [0]),
        IPE,
        "a type index in 0..2",
    ),
    (
        "decrypt-masked-index-too-large",
        lambda c, t: c.decrypt([((0, 0, 99), (0, 0))], [0, 0], [0]),
        IPE,
        "a masked index in 0..0 for bin 0 of type 0",
    ),
    (
        "decrypt-second-bin-too-large",
        lambda c, t: c.decrypt([((0, 0, 0), (99, 0))], [0, 0], [0]),
        IPE,
        "a second-layer bin index",
    ),
    (
        "decrypt-m2-after-m0",
        lambda c, t: c.decrypt([((-1, -1, -1), (3, 3))], [0, 0], [0]),
        IPE,
        "m2 = (-1, -1) after m0",
    ),
    (
        "decrypt-m1-too-short",
        lambda c, t: c.decrypt([((0, 0), (0, 0))], [0, 0], [0]),
        IPE,
        "three integers",
    ),
    (
        "decrypt-m1-fractional",
        lambda c, t: c.decrypt([((0, 0, 0.5), (0, 0))], [0, 0], [0]),
        IPE,
        "got m1 = (0, 0, 0.5) in block 0",
    ),
    (
        "decrypt-not-a-pair",
        lambda c, t: c.decrypt([5], [0, 0], [0]),
        IPE,
        "(m1, m2) pairs); got 5 in block 0",
    ),
    (
        "decrypt-messages-none",
        lambda c, t: c.decrypt(None, [0, 0], [0]),
        IPE,
        "the 'messages' argument must be a list of (m1, m2) pairs",
    ),
    (
        "decrypt-key-bit-fractional",
        lambda c, t: c.decrypt([((1, 0, 0), (0, 0))], [0.5, 0], [0]),
        IPE,
        "decrypt: the 'key1' argument",
    ),
    (
        "decode1-negative-bin",
        lambda c, t: c.decode1((0, -1, 0), [0, 0]),
        IPE,
        "decode1: the 'm1' argument must be a first-layer message this code can emit",
    ),
    ("decode1-none", lambda c, t: c.decode1(None, [0, 0]), IPE, "the 'm1' argument"),
    (
        "decode2-negative-second-bin",
        lambda c, t: c.decode2((1, 0, 0), (-1, 0), [0, 0], [0]),
        IPE,
        "decode2: the 'm2' argument",
    ),
    (
        "decode2-m2-too-short",
        lambda c, t: c.decode2((1, 0, 0), (0,), [0, 0], [0]),
        IPE,
        "two integers",
    ),
    # --- load ----------------------------------------------------------------------------
    (
        "load-not-json",
        lambda c, t: _load_text(t, "not json"),
        IPE,
        "load: the 'path' argument must name a readable JSON file",
    ),
    (
        "load-not-utf8",
        lambda c, t: _load_text(t, b"\xff\xfe\x00garbage"),
        IPE,
        "the 'path' argument must name a readable JSON file",
    ),
    (
        "load-deeply-nested",
        lambda c, t: _load_text(t, "[" * 200_000),
        IPE,
        "the 'path' argument must name a readable JSON file",
    ),
    (
        "load-json-list",
        lambda c, t: _load_text(t, "[1, 2]"),
        IPE,
        "not a cipher code file (a JSON list",
    ),
    (
        "load-path-none",
        lambda c, t: Cipher.load(None),
        IPE,
        "load: the 'path' argument must be the path",
    ),
    (
        "load-missing-n",
        lambda c, t: _load_edited(c, t, n=_DROP),
        IPE,
        "without 'n'",
    ),
    (
        "load-missing-book_y",
        lambda c, t: _load_edited(c, t, book_y=_DROP),
        IPE,
        "without 'book_y'",
    ),
    (
        "load-n-string",
        lambda c, t: _load_edited(c, t, n="x"),
        IPE,
        "the 'n' field of",
    ),
    (
        "load-n-huge",
        lambda c, t: _load_edited(c, t, n=10**9),
        IPE,
        "the 'n' field of",
    ),
    (
        "load-book_y-null",
        lambda c, t: _load_edited(c, t, book_y=None),
        IPE,
        "the 'book_y' field of",
    ),
    (
        "load-key_bits-huge",
        lambda c, t: _load_edited(c, t, key_bits=[10**6, 1]),
        IPE,
        "the 'key_bits' field of",
    ),
    (
        "load-p-not-normalized",
        lambda c, t: _load_edited(c, t, p=[0.5, 0.7]),
        IDE,
        "the 'p' field of",
    ),
    (
        "load-D1-negative",
        lambda c, t: _load_edited(c, t, D1=-1),
        IPE,
        "the 'D1' field of",
    ),
    (
        "load-types-tampered",
        lambda c, t: _load_edited(c, t, types=[[9, 9], [2, 4], [3, 3]]),
        IPE,
        "the 'types' field of",
    ),
    (
        "load-types-repeated",
        lambda c, t: _load_edited(c, t, types=[[1, 5], [1, 5], [3, 3]]),
        IPE,
        "the 'types' field of",
    ),
    (
        "load-letter-out-of-range",
        lambda c, t: _load_edited(c, t, book_y=lambda d: _swap_book_y(d, 0, [[7] * 6])),
        IPE,
        "the 'book_y' field of",
    ),
    (
        "load-negative-letter",
        lambda c, t: _load_edited(c, t, book_y=lambda d: _swap_book_y(d, 0, [[-1] * 6])),
        IPE,
        "the letter -1",
    ),
    (
        "load-codeword-not-covering",
        lambda c, t: _load_edited(c, t, book_y=lambda d: _swap_book_y(d, 0, [[0] * 6])),
        IPE,
        "must reproduce every block of each typical type within D1",
    ),
    (
        "load-book_z-too-short",
        lambda c, t: _load_edited(c, t, book_z=lambda d: [zs[:-1] for zs in d["book_z"]]),
        IPE,
        "the 'book_z' field of",
    ),
    (
        "load-fallback-tampered",
        lambda c, t: _load_edited(c, t, fallback=[[5] * 6, [0] * 6]),
        IPE,
        "the 'fallback' field of",
    ),
    (
        "load-unknown-format-version",
        lambda c, t: _load_edited(c, t, format="leakage.cipher.SuccessiveRefinementCipher/2"),
        IPE,
        'format version 1, the version this library reads and writes ("format": '
        '"leakage.cipher.SuccessiveRefinementCipher/1")',
    ),
]


@pytest.mark.parametrize(
    ("call", "error", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_is_refused_with_a_specific_error(code, tmp_path, call, error, fragment):
    with deadline(30), pytest.raises(error) as info:
        call(code, tmp_path)
    assert isinstance(info.value, lk.LeakageError)
    assert fragment in str(info.value), str(info.value)


def test_the_table_ids_are_unique():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids))


def test_low_level_errors_are_kept_as_the_cause(code, tmp_path):
    with pytest.raises(IPE) as info:
        _load_text(tmp_path, "not json")
    assert isinstance(info.value.__cause__, json.JSONDecodeError)
    with pytest.raises(IDE) as info:
        _load_edited(code, tmp_path, p=[0.5, 0.7])
    assert isinstance(info.value.__cause__, IDE)  # the very check build makes of 'p'
    assert "SuccessiveRefinementCipher.load: the 'p' argument" in str(info.value.__cause__)
    with pytest.raises(IPE) as info:
        code.encode([[0, 1], [2]], [0, 0], [0])  # ragged
    assert isinstance(info.value.__cause__, ValueError)
    with pytest.raises(IPE) as info:
        _load_edited(code, tmp_path, book_y=lambda d: _swap_book_y(d, 0, [[0] * 6]))
    assert "uncovered" in str(info.value.__cause__)
    with pytest.raises(IPE) as info:
        lk.cipher.leakage_region_curve(P2, HAM, HAM, **REGION, alphas="abc")
    assert isinstance(info.value.__cause__, ValueError)


def test_a_zero_probability_letter_does_not_break_the_jep():
    c = Cipher.build([0.0, 1.0], HAM, HAM, n=4, D1=0.3, D2=0.1, r1=0.3, r2=0.1, alpha=0.1)
    assert c.jep() == 0.0


def test_message_channels_refuse_before_allocating_too_much(code, monkeypatch):
    import leakage.cipher._code as code_mod

    monkeypatch.setattr(code_mod, "MAX_ENTRIES", 10)
    fresh = Cipher.build(P2, HAM, HAM, **BUILD)
    with pytest.raises(IPE, match="above the limit of 10 entries"):
        fresh.message_channels()


def test_valid_inputs_keep_working(code, tmp_path):
    """Integral floats and booleans are letters/bits; longer stream keys are fine; files
    without edits, and with extra fields, load back to the same code."""
    x = [0, 1, 1, 1, 0, 1]
    m = code.encode(x, [0, 1], [1])
    assert code.encode(np.array(x, dtype=float), np.array([False, True]), [1.0]) == m
    assert code.encrypt(x, [0, 1, 1, 1], [1, 0]) == [m]
    y, z = code.decrypt([[list(m[0]), list(m[1])]], [0, 1], [1])  # as read from JSON
    assert np.array_equal(y, code.decode1(m[0], [0, 1]))
    assert np.array_equal(z, code.decode2(*m, [0, 1], [1]))
    # a wrong key still decodes (to a wrong codeword), as Eve does
    code.decode2(*m, [1, 0], [0])
    path = tmp_path / "c.json"
    code.save(path)
    assert json.loads(path.read_text())["format"].endswith("/1")
    back = Cipher.load(path)
    assert back.leakage() == code.leakage() and back.jep() == code.jep()
    data = _saved(code)
    data["comment"] = "extra fields are ignored"
    path.write_text(json.dumps(data))
    assert Cipher.load(path).types == code.types
    rows = lk.cipher.finite_n_report(P2, HAM, HAM, ns=(n for n in (3, 4)), **BUILD_KW)
    assert [r.n for r in rows] == [3, 4]
