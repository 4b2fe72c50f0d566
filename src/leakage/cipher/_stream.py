r"""Greedy cover of one type class by its distortion balls, streamed: the sparse cover
matrix of :func:`._code._ball_entries` (``|T| x |B|`` candidate indices) is never held,
each row's entries are recomputed, chunk by chunk, when they are needed.

:func:`greedy_ball_cover` returns exactly what
``_greedy_entries(_ball_entries(T, ball0, kc), ncols, covered_by, padded=False)``
returns (the same picks in the same order, the same assignment, the same errors) in
memory :math:`O(|T| + \text{ncols})` plus chunks of at most :data:`CHUNK_ENTRIES`
entries. The initial gains come from a closed form (:func:`_class_gains`) when the
symmetry it rests on is verified, else from one chunked pass over the entries; after
that the entries of a row are generated once: when a pick covers it (to decrement the
gains) or, at the end, for its smallest candidate. :func:`ball_columns` gives, under the
same symmetry, the ``covered_by`` columns from bit counts.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np

from ._code import _ball_entries, _greedy_rounds, _masks

__all__ = ["ball_columns", "greedy_ball_cover"]

#: Largest number of (row, candidate) entries generated at once (a float and an index
#: array of that many entries live together: 48 MiB at the default).
CHUNK_ENTRIES = 2**22


class _Entries:
    r"""The rows of :func:`._code._ball_entries` for any subset of the rows of ``T`` (the
    same integers; int32 below :math:`2^{31}`, the cheaper cast).

    The index of the entry of ball member ``b`` for row ``x`` is
    :math:`\sum_s b_s\, k^{n-1-\sigma^{-1}(s)}` with :math:`\sigma^{-1}` the stable
    argsort of ``x``: one matrix product ``W @ B`` with ``W[r, s] = k^{n-1-inv[r, s]}``.
    Every partial sum is an integer below :math:`k^n`, exact in float32 when
    :math:`k^n \le 2^{24}` and in float64 below :math:`2^{53}`, so the summation order
    does not matter and the values equal :func:`._code._ball_entries`'. When
    :math:`k^n \ge 2^{53}` (never in the build) that function is called itself, chunk by
    chunk: inexact there, its rounding may then depend on the chunking."""

    def __init__(self, T: np.ndarray, ball0: np.ndarray, kc: int):
        self.T, self.ball0, self.kc = T, ball0, kc
        n = T.shape[1]
        self.exact = kc**n < 2**53
        ft = np.float32 if kc**n <= 2**24 else np.float64
        self.B = np.ascontiguousarray(ball0.astype(ft).T)  # (n, B)
        self.power = (kc ** np.arange(n - 1, -1, -1, dtype=np.int64)).astype(ft)
        self.step = max(1, CHUNK_ENTRIES // max(ball0.shape[0], 1))  # rows per chunk
        self.it = np.int32 if kc**n < 2**31 else np.intp  # the cast is cheaper to int32

    def of(self, rows: np.ndarray | slice) -> np.ndarray:
        """Entries of ``T[rows]`` (at most :attr:`step` rows), shape ``(rows, B)``."""
        S = self.T[rows]
        if not self.exact:
            return _ball_entries(S, self.ball0, self.kc)
        W = self.power[np.argsort(S, axis=1, kind="stable")]
        return (W @ self.B).astype(self.it)

    def smallest(self, rows: np.ndarray) -> np.ndarray:
        """The smallest entry of each of ``T[rows]`` (at most :attr:`step` rows, ``B >= 1``),
        int64; the minimum is taken before the cast (the same integers)."""
        if not self.exact:
            return _ball_entries(self.T[rows], self.ball0, self.kc).min(axis=1).astype(np.int64)
        W = self.power[np.argsort(self.T[rows], axis=1, kind="stable")]
        return (W @ self.B).min(axis=1).astype(np.int64)

    def chunks(self, rows: np.ndarray | None = None):
        """Yield the entries of the rows ``rows`` (all rows when None), chunk by chunk."""
        total = self.T.shape[0] if rows is None else rows.size
        for s0 in range(0, total, self.step):
            sl = slice(s0, s0 + self.step)
            yield self.of(sl if rows is None else rows[sl])


def _is_whole_class(T: np.ndarray, x0: np.ndarray, size: int) -> bool:
    """Whether the rows of ``T`` are exactly the type class of the sorted ``x0`` (of
    ``size`` members): as many rows, each of that type, with strictly increasing base-``k``
    indices (so distinct). Checked in chunks; False (not verified) as well when the
    indices would not be exact."""
    rows, n = T.shape
    k = int(x0[-1]) + 1
    if rows != size or k**n >= 2**53 or not _all_of_type(T, x0):
        return False
    kpow = (k ** np.arange(n - 1, -1, -1, dtype=np.int64)).astype(np.float64)
    last = -1.0
    step = max(1, CHUNK_ENTRIES // n)
    for s0 in range(0, rows, step):
        idx = T[s0 : s0 + step].astype(np.float64) @ kpow  # exact: integers below 2**53
        if idx[0] <= last or np.any(idx[1:] <= idx[:-1]):
            return False
        last = float(idx[-1])
    return True


def _all_of_type(T: np.ndarray, x0: np.ndarray) -> bool:
    r"""Whether every row of ``T`` has the type of the sorted ``x0`` (type code
    :math:`\sum_t (n+1)^{x_t}`), in chunks; False as well when codes would overflow."""
    rows, n = T.shape
    k = int(x0[-1]) + 1
    if (n + 1) ** k >= 2**62:
        return False
    Q = np.bincount(x0, minlength=k)
    step = max(1, CHUNK_ENTRIES // max(n, 1))
    for s0 in range(0, rows, step):
        part = T[s0 : s0 + step]
        if part.min() < 0 or part.max() >= k:
            return False
        for a in range(k - 1):  # a loop over letters: counts of k - 1 of them suffice
            if np.any(np.count_nonzero(part == a, axis=1) != Q[a]):
                return False
    return True


def _multinomial_int(counts) -> int:
    """Multinomial coefficient of a count vector, exact (Python integers)."""
    out, total = 1, 0
    for c in counts:
        total += int(c)
        out *= math.comb(total, int(c))
    return out


def _orbits(x0: np.ndarray, bl: np.ndarray, kc: int) -> tuple[np.ndarray, np.ndarray] | None:
    r"""The joint types :math:`N_{ac} = |\{s : x_{0,s} = a,\ b_s = c\}|` of the sorted
    ``x0`` (int64) with the members ``bl`` (int64, letters ``0 .. kc-1``) of a ball, shape
    ``(J, k, kc)``, and how many members have each; None unless the members are distinct
    and each joint type present is whole (as many members as its orbit under the
    permutations fixing ``x0``, :math:`\prod_a \binom{Q_a}{N_{a\cdot}}`)."""
    B, n = bl.shape
    k = int(x0[-1]) + 1
    if kc**n >= 2**63 or np.unique(bl @ (kc ** np.arange(n - 1, -1, -1, dtype=np.int64))).size != B:
        return None  # members not distinct (or not indexable)
    N = np.empty((B, k * kc), dtype=np.int64)
    step = max(1, CHUNK_ENTRIES // n)
    pair = x0[None, :] * kc
    for s0 in range(0, B, step):  # in chunks of members
        part = bl[s0 : s0 + step]
        flat = (pair + part) + (np.arange(part.shape[0]) * (k * kc))[:, None]
        N[s0 : s0 + step] = np.bincount(flat.ravel(), minlength=part.shape[0] * k * kc).reshape(
            part.shape[0], k * kc
        )
    joint, members = np.unique(N, axis=0, return_counts=True)
    joint = joint.reshape(-1, k, kc)
    for Nj, m in zip(joint.tolist(), members.tolist(), strict=True):
        # a loop over the joint types present (orbits), not over members or letters
        if m != math.prod(_multinomial_int(row) for row in Nj):
            return None  # not a whole orbit: no symmetry
    return joint, members


def _letters(T: np.ndarray, ball0: np.ndarray, kc: int):
    """``(ball0 as int64, the sorted first row of T as int64, its alphabet size)``, or
    None when there is nothing to cover (no rows, no positions, an empty ball) or the
    letters are out of range."""
    if T.shape[1] == 0 or T.shape[0] == 0 or ball0.shape[0] == 0:
        return None
    bl = np.asarray(ball0, dtype=np.int64)
    if bl.min() < 0 or bl.max() >= kc or T[0].min() < 0:
        return None
    x0 = np.sort(np.asarray(T[0], dtype=np.int64))
    return bl, x0, int(x0[-1]) + 1


def _class_gains(
    T: np.ndarray, ball0: np.ndarray, kc: int, ncols: int, out: np.ndarray | None = None
) -> np.ndarray | None:
    r"""The initial gains of :func:`greedy_ball_cover` (how many rows of ``T`` list each
    candidate ``0 .. ncols-1``) by symmetry, int64, written into ``out`` (``ncols``
    entries) when given; None when the symmetry is not verified (then the caller counts
    the entries, and ``out`` is untouched).

    Let :math:`x_0` be the sorted sequence of the type of ``T`` and
    :math:`G = \{\tau : x_0 \circ \tau = x_0\}`. The entries of row
    :math:`x = x_0 \circ \sigma` are :math:`E(x) = \{b \circ \sigma : b \in B\}`
    (:func:`._code._ball_entries`, :math:`\sigma` from the stable argsort). If ``B`` is a
    union of :math:`G`-orbits (whole joint types with :math:`x_0`: a member count equal
    to :math:`\prod_a \binom{Q_a}{N_{a\cdot}}` for each joint type :math:`N` present,
    rows distinct), :math:`E(x)` does not depend on which :math:`\sigma` is used, so
    :math:`E(x \circ \pi) = E(x) \circ \pi` for every permutation :math:`\pi`. If moreover
    ``T`` is the whole type class :math:`\mathcal T_Q` (checked: size, types, strictly
    increasing rows), :math:`x \mapsto x \circ \pi` permutes the rows, so the gain
    :math:`g(c) = |\{x \in \mathcal T_Q : c \in E(x)\}|` is constant on the type class
    :math:`\mathcal T_R` of ``c``; summed over that class it is
    :math:`\sum_x |E(x) \cap \mathcal T_R| = |\mathcal T_Q|\, b_R` (:math:`b_R` the members
    of ``B`` of type ``R``), hence

    .. math:: g(c) = |\mathcal T_Q|\, b_R / |\mathcal T_R| \quad (c \in \mathcal T_R),

    an integer (checked). The type of column ``c`` is coded by
    :math:`\sum_t (n+1)^{c_t} = \sum_a N_a(c)\, (n+1)^a` (counts are at most ``n``)."""
    rows, n = T.shape
    if kc**n >= 2**53 or (n + 1) ** kc >= 2**62 or ncols < kc**n:
        return None
    start = _letters(T, ball0, kc)
    if start is None:
        return None
    bl, x0, k = start
    Q = np.bincount(x0, minlength=k)
    if not _is_whole_class(T, x0, _multinomial_int(Q)):
        return None
    orbits = _orbits(x0, bl, kc)
    if orbits is None:
        return None
    power = kc ** np.arange(n - 1, -1, -1, dtype=np.int64)
    weights = (n + 1) ** np.arange(kc, dtype=np.int64)
    per_type: dict[int, int] = {}
    for Nj, m in zip(*orbits, strict=True):  # a loop over the orbits present
        code = int(Nj.sum(axis=0) @ weights)
        per_type[code] = per_type.get(code, 0) + int(m)
    codes = np.array(sorted(per_type), dtype=np.int64)
    values = np.empty(codes.size, dtype=np.int64)
    for i, code in enumerate(codes.tolist()):
        R = [(code // (n + 1) ** a) % (n + 1) for a in range(kc)]
        num = rows * per_type[code]
        size = _multinomial_int(R)
        if num % size:
            return None  # cannot happen under the symmetry; stay exact regardless
        values[i] = num // size
    gain = np.empty(ncols, dtype=np.int64) if out is None else out
    gain[kc**n :] = 0  # columns past the sequences: in no ball
    cstep = max(1, CHUNK_ENTRIES // 2)
    for c0 in range(0, kc**n, cstep):
        c = np.arange(c0, min(c0 + cstep, kc**n), dtype=np.int64)
        if kc == 2:  # the type is the weight: one gather from a table per weight
            w = np.arange(n + 1, dtype=np.int64)
            code = (n - w) + w * (n + 1)
            pos = np.minimum(np.searchsorted(codes, code), codes.size - 1)
            by_weight = np.where(codes[pos] == code, values[pos], 0)
            gain[c0 : c0 + c.size] = by_weight[np.bitwise_count(c)]
            continue
        else:
            code = np.zeros(c.size, dtype=np.int64)
            for t in range(n):  # a loop over positions: digits of the column indices
                code += weights[(c // power[t]) % kc]
        pos = np.minimum(np.searchsorted(codes, code), codes.size - 1)
        gain[c0 : c0 + c.size] = np.where(codes[pos] == code, values[pos], 0)
    return gain


def ball_columns(T: np.ndarray, ball0: np.ndarray, kc: int) -> Callable[[int], np.ndarray] | None:
    r"""A ``covered_by`` for :func:`greedy_ball_cover` computed from joint types: column
    ``c`` is the rows ``x`` of ``T`` whose entries (:func:`._code._ball_entries`) hold
    ``c``; None when the symmetry it rests on is not verified.

    With ``ball0`` a union of orbits of the permutations fixing the sorted sequence
    :math:`x_0` of the type (checked as in :func:`_class_gains`) and every row of that
    type (checked), :math:`c \in E(x)` with :math:`x = x_0 \circ \sigma` iff
    :math:`c \circ \sigma^{-1} \in B` iff the joint type of :math:`(x, c)` (that of
    :math:`(x_0, c \circ \sigma^{-1})`) is one of the joint types of ``x0`` with the
    members of ``ball0``. Row types are fixed and ``c``'s type is known, so the counts
    :math:`N_{ae} = \mathrm{popcount}(\mathrm{mask}_a(x) \,\&\, \mathrm{mask}_e(c))`
    for :math:`a < k-1,\ e < k_c-1` determine the joint type: :math:`(k-1)(k_c-1)` bit
    counts per row and column (one for two binary alphabets). With ``ball0`` the
    distortion ball (whole candidate types kept) this is the column of the dense cover
    matrix (:func:`._code._covers`) for every candidate of a kept type, so for every
    candidate the greedy can pick (a positive gain): what the build's ``covered_by``
    gives, at a fraction of its cost (one bit count and one table look-up per row for
    two binary alphabets). Needs :math:`n \le 63`."""
    rows, n = T.shape
    start = None if n > 63 else _letters(T, ball0, kc)
    if start is None:
        return None
    bl, x0, k = start
    if (n + 1) ** max((k - 1) * (kc - 1), 1) >= 2**62 or not _all_of_type(T, x0):
        return None
    orbits = _orbits(x0, bl, kc)
    if orbits is None:
        return None
    joint = orbits[0]
    free = joint[:, : k - 1, : kc - 1].reshape(joint.shape[0], -1)  # the counts used
    wts = (n + 1) ** np.arange(free.shape[1], dtype=np.int64)
    span = (n + 1) ** free.shape[1]  # codes of the free counts: 0 .. span-1
    allowed: dict[tuple[int, ...], np.ndarray] = {}  # per column type: which codes
    for R in np.unique(joint.sum(axis=1), axis=0):
        codes = np.unique(free[(joint.sum(axis=1) == R).all(axis=1)] @ wts)
        if span <= 2**22:  # a table: one gather per column instead of a search
            table = np.zeros(span, dtype=bool)
            table[codes] = True
            codes = table
        allowed[tuple(R.tolist())] = codes
    # masks of the rows for the letters a < k-1 (bit t: position t)
    bit = np.left_shift(np.uint64(1), np.arange(n, dtype=np.uint64))
    masks = _masks(T, k)[: k - 1]
    letters = np.arange(kc)

    def covered_by(c: int) -> np.ndarray:
        digits = np.array([(int(c) // kc ** (n - 1 - t)) % kc for t in range(n)])
        codes = allowed.get(tuple(np.bincount(digits, minlength=kc).tolist()))
        if codes is None:
            return np.zeros(rows, dtype=bool)
        mc = ((digits[None, :] == letters[: kc - 1, None]) * bit).sum(axis=1, dtype=np.uint64)
        if free.shape[1] == 1:  # two binary alphabets: one count, N_00
            return codes[np.bitwise_count(masks[0] & mc[0])]
        code = np.zeros(rows, dtype=np.int32 if span <= 2**22 else np.int64)
        for i, (a, b) in enumerate(itertools.product(range(k - 1), range(kc - 1))):
            code += np.bitwise_count(masks[a] & mc[b]).astype(code.dtype) * code.dtype.type(wts[i])
        if span <= 2**22:
            return codes[code]
        pos = np.minimum(np.searchsorted(codes, code), codes.size - 1)
        return codes[pos] == code

    return covered_by


def _counted_gains(entries: _Entries, ncols: int, out: np.ndarray | None = None) -> np.ndarray:
    """The initial gains by counting every row's entries, chunk by chunk (int64), added
    into ``out`` (``ncols`` zeros) when given."""
    gain = np.zeros(ncols, dtype=np.int64) if out is None else out
    one = np.int64(1)  # the gain's type: ufunc.at's fast loop
    for part in entries.chunks():
        np.add.at(gain, part.ravel(), one)
    return gain


def greedy_ball_cover(
    T: np.ndarray,
    ball0: np.ndarray,
    kc: int,
    ncols: int,
    covered_by: Callable[[int], np.ndarray],
) -> tuple[list[int], np.ndarray]:
    r"""Greedy set cover of the rows of ``T`` by the candidates of their distortion
    balls, without the sparse cover matrix: exactly
    ``_greedy_entries(_ball_entries(T, ball0, kc), ncols, covered_by, padded=False)``.

    Parameters
    ----------
    T : (rows, n) int array
        Sequences of one type (in the build, the type class :func:`._code._type_class`
        gives, lexicographic).
    ball0 : (B, n) int array
        Distinct reproductions (letters ``0 .. kc-1``) within the level of the sorted
        sequence of that type: the ball of :func:`._code._ball`, possibly restricted to
        whole candidate type classes. Row ``x`` is covered by ``{b o sigma : b in
        ball0}`` (:func:`._code._ball_entries`).
    kc : int
        Reproduction alphabet size; candidates are base-``kc`` indices.
    ncols : int
        Number of candidates (``kc**n`` in the build), above every entry.
    covered_by : callable
        ``covered_by(c)`` is the boolean column ``c`` of the dense cover matrix (which
        rows of ``T`` candidate ``c`` covers).

    Returns
    -------
    chosen : list of int
        The greedy picks in order: largest gain (uncovered rows covered), ties to the
        lowest candidate, until every row is covered.
    assign : (rows,) int64 array
        For each row, the position in ``chosen`` of the first pick covering it.

    Raises
    ------
    InvalidParameterError
        A row has no candidate (``ball0`` empty): no reproduction within the level.

    Notes
    -----
    Memory :math:`O(|T| + \text{ncols})` plus chunks of :data:`CHUNK_ENTRIES` entries.
    The initial gains come from :func:`_class_gains` (a closed form) when ``T`` is a
    whole type class and ``ball0`` a union of orbits of the permutations fixing the sorted
    sequence, else from counting every row's entries once. Each pick subtracts the
    entries of the rows it newly covers, generated then; gains only decrease, so a block's
    maximum stays an upper bound and the argmax is searched only in the blocks whose bound
    reaches it. Once the largest gain is 1 the remaining picks are each uncovered row's
    smallest candidate, in increasing order (generated once more, for those rows only)."""
    rows = T.shape[0]
    entries = _Entries(T, ball0, kc)
    bs = 4096
    nb = max(1, -(-ncols // bs))
    gain = np.zeros(nb * bs, dtype=np.int64)  # zero-gain padding past the columns
    if rows and ball0.shape[0]:  # the closed form when it is the cheaper (and applies)
        if rows * ball0.shape[0] < ncols or _class_gains(T, ball0, kc, ncols, gain[:ncols]) is None:
            _counted_gains(entries, ncols, gain[:ncols])  # in place (gain is zero here)

    def smallest_of(todo: np.ndarray) -> np.ndarray:
        first = np.empty(todo.size, dtype=np.int64)
        for s0 in range(0, todo.size, entries.step):
            first[s0 : s0 + entries.step] = entries.smallest(todo[s0 : s0 + entries.step])
        return first

    def entries_of(newly: np.ndarray):
        return (part.ravel() for part in entries.chunks(newly))

    return _greedy_rounds(gain, bs, rows, ncols, covered_by, entries_of, smallest_of)
