"""The streamed greedy ball cover equals the greedy cover of the materialized sparse matrix."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import leakage.cipher._stream as stream
from leakage.cipher._code import (
    COVER_BUDGET,
    MAX_BALL,
    _ball,
    _ball_entries,
    _code_of,
    _covers,
    _decode,
    _greedy_entries,
    _masks,
    _take_classes,
    _type_class,
    _type_classes,
)
from leakage.cipher._stream import ball_columns, greedy_ball_cover
from leakage.errors import InvalidParameterError

HAMMING2 = np.array([[0.0, 1.0], [1.0, 0.0]])


def _reference(T, ball0, kc, ncols, covered_by):
    """The materialized path: what greedy_ball_cover must reproduce (or its error)."""
    try:
        return _greedy_entries(_ball_entries(T, ball0, kc), ncols, covered_by, padded=False)
    except InvalidParameterError as err:
        return err


def _streamed(T, ball0, kc, ncols, covered_by, chunk=None):
    try:
        if chunk is None:
            return greedy_ball_cover(T, ball0, kc, ncols, covered_by)
        with mock.patch.object(stream, "CHUNK_ENTRIES", chunk):
            return greedy_ball_cover(T, ball0, kc, ncols, covered_by)
    except InvalidParameterError as err:
        return err


def _assert_same(got, want):
    if isinstance(want, Exception):
        assert isinstance(got, type(want)) and str(got) == str(want)
        return
    assert not isinstance(got, Exception), got
    assert got[0] == want[0]
    assert got[1].dtype == want[1].dtype and np.array_equal(got[1], want[1])


def _brute_covered_by(T, ball0, kc):
    """Column c of the cover the entries describe: the rows listing c (brute force)."""
    E = _ball_entries(T, ball0, kc)

    def covered_by(c):
        return (E == c).any(axis=1)

    return covered_by


def _distortion(kind: str, k: int, kc: int, rng) -> np.ndarray:
    a, b = np.arange(k)[:, None], np.arange(kc)[None, :]
    if kind == "hamming":
        return (a != b).astype(np.float64)
    if kind == "abs":
        return np.abs(a - b).astype(np.float64)
    return rng.integers(0, 3, size=(k, kc)).astype(np.float64)  # any integer matrix


def _ball_types(ball0: np.ndarray, kc: int) -> np.ndarray:
    """Type code of each ball member (whole candidate type classes share it)."""
    counts = (ball0[:, :, None] == np.arange(kc)[None, None, :]).sum(axis=1)
    return _code_of(counts, ball0.shape[1])


@st.composite
def cases(draw):
    k = draw(st.integers(2, 3))
    kc = draw(st.integers(2, 3))
    n = draw(st.integers(1, 8 if max(k, kc) == 2 else 6))
    cuts = sorted(draw(st.lists(st.integers(0, n), min_size=k - 1, max_size=k - 1)))
    Q = tuple(int(c) for c in np.diff([0, *cuts, n]))
    kind = draw(st.sampled_from(["hamming", "abs", "random"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    d = _distortion(kind, k, kc, rng)
    D = draw(st.sampled_from([0.0, 0.1, 0.25, 0.34, 0.5, 0.75, 1.0]))
    T = _type_class(Q)
    ball0 = _ball(T[0], d, D, MAX_BALL)
    restrict = draw(st.sampled_from(["none", "types", "members", "rows"]))
    if restrict == "types" and ball0.shape[0]:  # whole candidate type classes
        code = _ball_types(ball0, kc)
        kept = np.unique(code)
        kept = kept[rng.random(kept.size) < 0.6]
        ball0 = ball0[np.isin(code, kept)]
    elif restrict == "members":  # any subset of the members: no symmetry left
        ball0 = ball0[rng.random(ball0.shape[0]) < 0.7]
    elif restrict == "rows":  # rows of one type, not the whole class
        T = T[np.sort(rng.choice(T.shape[0], size=max(1, T.shape[0] // 2), replace=False))]
    chunk = draw(st.sampled_from([None, 1, 2, 5, 17, 64]))
    return T, ball0, kc, d, D, chunk


@settings(max_examples=150)
@given(cases())
def test_equals_materialized_greedy(case):
    T, ball0, kc, _, _, chunk = case
    ncols = kc ** T.shape[1]
    cb = _brute_covered_by(T, ball0, kc)
    _assert_same(_streamed(T, ball0, kc, ncols, cb, chunk), _reference(T, ball0, kc, ncols, cb))


@settings(max_examples=150)
@given(cases())
def test_class_gains_count_the_entries(case):
    T, ball0, kc, _, _, chunk = case
    ncols = kc ** T.shape[1]
    with mock.patch.object(stream, "CHUNK_ENTRIES", chunk or stream.CHUNK_ENTRIES):
        closed = stream._class_gains(T, ball0, kc, ncols)
        counted = stream._counted_gains(stream._Entries(T, ball0, kc), ncols)
    want = np.bincount(_ball_entries(T, ball0, kc).ravel(), minlength=ncols)
    assert np.array_equal(counted, want)
    if closed is not None:
        assert closed.dtype == np.int64 and np.array_equal(closed, want)


@settings(max_examples=100)
@given(cases())
def test_ball_columns_are_the_columns_of_the_entries(case):
    T, ball0, kc, _, _, chunk = case
    ncols = kc ** T.shape[1]
    with mock.patch.object(stream, "CHUNK_ENTRIES", chunk or stream.CHUNK_ENTRIES):
        cols = ball_columns(T, ball0, kc)
    if cols is None:
        return
    E = _ball_entries(T, ball0, kc)
    for c in range(ncols):
        assert np.array_equal(cols(c), (E == c).any(axis=1)), c
    want = _reference(T, ball0, kc, ncols, _brute_covered_by(T, ball0, kc))
    _assert_same(_streamed(T, ball0, kc, ncols, cols, chunk), want)


def test_ball_columns_need_the_symmetry():
    T = _type_class((2, 2, 3))
    d = 1.0 - np.eye(3)
    ball0 = _ball(T[0], d, 0.3, MAX_BALL)
    assert ball_columns(T, ball0, 3) is not None
    assert ball_columns(T[::5], ball0, 3) is not None  # any rows of the type
    code = _ball_types(ball0, 3)
    assert ball_columns(T, ball0[code != code[0]], 3) is not None  # whole types dropped
    assert ball_columns(T, ball0[1:], 3) is not None  # ball0[0] = 0000222: its own orbit
    assert ball_columns(T, np.delete(ball0, 1, axis=0), 3) is None  # 0001022: not all of it
    assert ball_columns(T, np.concatenate([ball0, ball0[:1]]), 3) is None  # repeated
    mixed = np.concatenate([T[:3], _type_class((3, 2, 2))[:3]])
    assert ball_columns(mixed, ball0, 3) is None  # rows of two types
    assert ball_columns(T, ball0[:0], 3) is None


@pytest.mark.parametrize("chunk", [None, 1, 3])
@pytest.mark.parametrize(
    ("Q", "kc", "kind", "D"),
    [
        ((3, 4), 2, "hamming", 0.3),
        ((4, 4), 2, "abs", 0.25),
        ((2, 2, 2), 3, "hamming", 0.34),
        ((2, 3, 1), 3, "abs", 0.5),
        ((3, 2, 1), 2, "random", 0.5),
    ],
)
def test_covers_from_distortion(Q, kc, kind, D, chunk):
    """covered_by as in the build: the dense column from _covers (whole classes kept)."""
    T = _type_class(Q)
    n = T.shape[1]
    d = _distortion(kind, len(Q), kc, np.random.default_rng(sum(Q)))
    ball0 = _ball(T[0], d, D, MAX_BALL)
    mT = _masks(T, len(Q))

    def covered_by(c):
        return _covers(T, _decode(np.array([c]), n, kc, np.int8), d, D, mX=mT)[:, 0]

    code = _ball_types(ball0, kc)
    for b in (ball0, ball0[code == code.max(initial=0)]):
        want = _reference(T, b, kc, kc**n, covered_by)
        _assert_same(_streamed(T, b, kc, kc**n, covered_by, chunk), want)


def test_symmetry_paths_are_taken():
    """The closed form applies to balls and whole type classes, and only to them."""
    T = _type_class((3, 4))
    ball0 = _ball(T[0], HAMMING2, 0.3, MAX_BALL)
    want = np.bincount(_ball_entries(T, ball0, 2).ravel(), minlength=2**7)
    assert np.array_equal(stream._class_gains(T, ball0, 2, 2**7), want)
    assert stream._class_gains(T, ball0[1:], 2, 2**7) is None  # not a union of orbits
    assert stream._class_gains(T[1:], ball0, 2, 2**7) is None  # not the whole class
    assert stream._class_gains(T[::-1], ball0, 2, 2**7) is None  # not lexicographic
    assert stream._class_gains(T, ball0, 2, 2**6) is None  # columns missing
    wide = stream._class_gains(T, ball0, 2, 2**7 + 5)  # padding columns: no gain
    assert np.array_equal(wide, np.bincount(_ball_entries(T, ball0, 2).ravel(), minlength=133))


def test_shortcut_only():
    """D = 0: every gain is 1 at once, so the picks are the rows' own indices, sorted,
    and covered_by is never called."""
    T = _type_class((2, 1, 2))
    ball0 = _ball(T[0], 1.0 - np.eye(3), 0.0, MAX_BALL)
    assert ball0.shape[0] == 1

    def never(c):
        raise AssertionError("covered_by called")

    chosen, assign = greedy_ball_cover(T, ball0, 3, 3**5, never)
    idx = T.astype(np.int64) @ 3 ** np.arange(4, -1, -1)
    assert chosen == sorted(idx.tolist())
    assert np.array_equal(np.asarray(chosen)[assign], idx)
    _assert_same((chosen, assign), _reference(T, ball0, 3, 3**5, never))


def test_no_candidate_and_no_rows():
    T = _type_class((2, 3))
    empty = np.zeros((0, 5), dtype=np.int8)
    with pytest.raises(InvalidParameterError, match="no reproduction within the distortion"):
        greedy_ball_cover(T, empty, 2, 32, lambda c: np.zeros(T.shape[0], dtype=bool))
    _assert_same(
        _streamed(T, empty, 2, 32, lambda c: None), _reference(T, empty, 2, 32, lambda c: None)
    )
    none = T[:0]
    ball0 = _ball(T[0], HAMMING2, 0.2, MAX_BALL)
    chosen, assign = greedy_ball_cover(none, ball0, 2, 32, lambda c: None)
    assert chosen == [] and assign.shape == (0,) and assign.dtype == np.int64
    _assert_same((chosen, assign), _reference(none, ball0, 2, 32, lambda c: None))


def test_medium_type_class_as_the_build():
    """Binary n = 18, p = (0.3, 0.7), D1 = 0.3: the largest type class, its ball restricted
    to the candidate types the build keeps (as in _sparse_books), the build's cover1."""
    Q, D = (8, 10), 0.3
    n = sum(Q)
    T = _type_class(Q)
    ball1 = _ball(T[0], HAMMING2, D, MAX_BALL)
    assert T.shape[0] * 2**n > COVER_BUDGET  # the build restricts the ball
    codes, sizes = _type_classes(n, 2)
    counts = (ball1[:, :, None] == np.arange(2)[None, None, :]).sum(axis=1)
    pos = np.searchsorted(codes, _code_of(counts, n))
    cnt = np.bincount(pos, minlength=codes.size).astype(np.float64)[None, :]
    rows = T.shape[0]
    take = _take_classes(cnt, sizes, np.array([rows], dtype=np.int64), rows, COVER_BUDGET)
    ball1 = ball1[take[pos]]
    mT = _masks(T, 2)

    def cover1(c):
        return _covers(T, _decode(np.array([c]), n, 2, np.int8), HAMMING2, D, mX=mT)[:, 0]

    assert stream._class_gains(T, ball1, 2, 2**n) is not None  # the closed form applies
    want = _reference(T, ball1, 2, 2**n, cover1)
    _assert_same(_streamed(T, ball1, 2, 2**n, cover1), want)
    cols = ball_columns(T, ball1, 2)
    _assert_same(_streamed(T, ball1, 2, 2**n, cols, chunk=50_000), want)
    chosen, assign = want
    for c in chosen[:20]:  # the build's columns, for candidates of the kept types
        assert np.array_equal(cols(c), cover1(c))
    covered = np.zeros(rows, dtype=bool)  # every row is covered by its assigned pick
    for i, c in enumerate(chosen):
        covered[assign == i] = cover1(c)[assign == i]
    assert covered.all()
