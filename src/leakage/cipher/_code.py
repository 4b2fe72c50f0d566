r"""The finite-blocklength secure successive-refinement code of paper 000, Section IV.

For every source type :math:`Q` of the typical set :math:`\mathcal Q_n(\alpha, \delta) =
\{Q : D(Q\|P) \le \alpha + \delta\}` (eq. (53)) the code holds

* a :math:`D_1`-covering codebook :math:`\mathcal B_Y(Q) \subset \hat{\mathcal X}_1^n` of the
  type class :math:`\mathcal T_Q` (Lemma 5, eq. (47)), built by greedy set cover;
* for each first-layer codeword :math:`y`, a :math:`D_2`-covering codebook
  :math:`\mathcal B_Z(y)` of the sequences the first layer maps to ``y`` (what the encoder
  needs of eq. (50));
* bins of :math:`2^{\lfloor n r_i \rfloor}` codewords; the index inside a bin is sent XORed
  with the first :math:`s_i = \lceil \log_2 |\text{bin}| \rceil` bits of the key (eqs.
  (54)–(55)); decoders (56)–(57) undo it;
* the reserved message :math:`m_0` for sequences of atypical type (eq. (58)).

Messages are integer tuples: ``m1 = (type, bin, masked index)`` and ``m2 = (bin, masked
index)``; ``m0 = (-1, -1, -1)`` and ``(-1, -1)``. Sequences are integer arrays of letters.
Every figure of the built code is exact (no bounds): the maximal leakages by Definition 2
from the code's :math:`P(m|x^n)` (keys uniform), the JEP by summing over types, the
expected distortions, and the rates :math:`\log|\mathcal M_i|/n`. They are computed type
class by type class: only the typical classes are enumerated (the atypical ones enter
through closed forms), never all :math:`k^n` blocks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import math
import numbers
import os
import re

import numpy as np
from numpy.typing import ArrayLike
from scipy import sparse
from scipy.special import gammaln

from .._validation import (
    MAX_ENTRIES,
    as_generator,
    as_pmf,
    check_nonnegative,
    check_size,
)
from ..errors import InvalidParameterError, LeakageError
from ..ratedistortion import as_distortion_arg

#: Largest number of sequences (source or reproduction, ``k^n``) of a block: the build's
#: dense fallback and :meth:`SuccessiveRefinementCipher.message_channels` enumerate them
#: (binary ``n <= 24``; the build and the other figures go per type class).
MAX_SEQUENCES = 2**24
#: Largest blocklength for any alphabet (one bit per position in 64-bit masks).
MAX_BLOCKLENGTH = 63
#: Largest number of key bits per block and layer (``floor(n r_i)``): a bin never holds
#: more than ``MAX_SEQUENCES`` codewords, so at most 24 of them ever mask an index.
MAX_KEY_BITS = 62
#: Largest number of blocklengths :func:`finite_n_report` builds codes for in one call.
MAX_REPORT_ROWS = 64
#: Largest number of trials of :func:`guessing_attack`.
MAX_TRIALS = 10**6
#: Largest first-layer cover matrix (entries, one byte each) before the candidates are
#: restricted to the best reproduction types (see :func:`_restricted_pool`).
COVER_BUDGET = 2**29
#: The same for the cover matrix of one second-layer cell.
CELL_BUDGET = 2**24
#: Hard limit on any dense cover matrix (entries, one byte each): the budgets above can
#: be exceeded when even the smallest useful class of candidates is larger, and beyond
#: this the build stops with an error instead of allocating (see :func:`_check_dense`).
DENSE_LIMIT = 2**30

_FORMAT_NAME = "leakage.cipher.SuccessiveRefinementCipher"
#: Version of the code file format that :meth:`SuccessiveRefinementCipher.save` writes
#: (the suffix of its ``"format"`` field) and the only one :meth:`~.load` reads.
FORMAT_VERSION = 1
_FORMAT = f"{_FORMAT_NAME}/{FORMAT_VERSION}"
_FIELDS = (
    "p",
    "d1",
    "d2",
    "n",
    "D1",
    "D2",
    "r1",
    "r2",
    "alpha",
    "key_bits",
    "types",
    "book_y",
    "book_z",
    "fallback",
)
_REBUILD = (
    "The file is damaged or was edited: build the code again "
    "(SuccessiveRefinementCipher.build) and save it."
)


# ---------------------------------------------------------------------- validation
def _show(v) -> str:
    """A short description of a value for error messages."""
    if isinstance(v, np.ndarray):
        if v.size <= 8:
            return np.array2string(v, separator=", ")
        return f"an array of shape {v.shape}"
    r = repr(v)
    return r if len(r) <= 80 else r[:77] + "..."


def _count(k: int, unit: str) -> str:
    return f"{k:,} {unit}" + ("" if k == 1 else "s")


def _refuse(func: str, name: str, requirement: str, got: str, hint: str = ""):
    """The house-style error (returned, to be raised, optionally ``from`` a cause)."""
    msg = f"{func}: the '{name}' argument must {requirement}; got {got} instead."
    return InvalidParameterError(msg + (" " + hint if hint else ""))


def _int_vector(v, *, func: str, name: str, requirement: str, lo: int, hi: int) -> np.ndarray:
    """A 1-D array of integers in ``lo..hi`` as ``int64``. Booleans and floats holding
    exact integers are accepted; anything else (0.5, strings, None, nested lists) is
    refused, never truncated."""
    try:
        a = np.asarray(v)
    except (TypeError, ValueError) as exc:  # ragged nested lists, etc.
        raise _refuse(func, name, requirement, f"an unreadable value ({exc})") from exc
    if a.ndim != 1:
        got = _show(v) if a.ndim == 0 else f"an array of shape {a.shape}"
        raise _refuse(func, name, requirement, got)
    kind = a.dtype.kind
    if kind not in "biuf" or (kind == "f" and a.size and not np.isfinite(a).all()):
        got = f"an array of dtype {a.dtype}" + (f": {_show(a)}" if a.size <= 8 else "")
        raise _refuse(func, name, requirement, got)
    if kind == "f" and a.size:
        frac = a != np.floor(a)
        if frac.any():
            i = int(np.argmax(frac))
            raise _refuse(func, name, requirement, f"{a[i].item()!r} at index {i} (not an integer)")
    if a.size:
        out = (a < lo) | (a > hi)
        if out.any():
            i = int(np.argmax(out))
            raise _refuse(func, name, requirement, f"{a[i].item()!r} at index {i}")
    return a.astype(np.int64)


def _as_tuple(m, length: int):
    """``m`` as a tuple of ``length`` Python ints, or None if it is not one."""
    if isinstance(m, np.ndarray):
        if m.ndim != 1 or m.dtype.kind not in "iu":
            return None
        m = m.tolist()
    if not isinstance(m, (tuple, list)) or len(m) != length:
        return None
    if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in m):
        return None
    return tuple(int(v) for v in m)


def _max_blocklength(size: int) -> int:
    """Largest ``n`` with ``size**n <= MAX_SEQUENCES`` (and ``n <= MAX_BLOCKLENGTH``),
    without computing any large power."""
    if size <= 1:
        return MAX_BLOCKLENGTH
    n = 0
    while n < MAX_BLOCKLENGTH and size ** (n + 1) <= MAX_SEQUENCES:
        n += 1
    return n


def _check_blocklength(n, size: int, *, func: str, name: str = "n") -> int:
    """A blocklength whose ``size**n`` blocks the code can enumerate, checked before any
    power or array is computed."""
    limit = _max_blocklength(size)
    if limit < MAX_BLOCKLENGTH:
        why = (
            f"The build's dense fallback and message_channels enumerate all {size}^n "
            f"sequences of the largest alphabet ({size} letters), at most MAX_SEQUENCES = "
            f"{MAX_SEQUENCES:,}, so n <= {limit}"
        )
    else:
        why = f"The code handles blocks of at most {MAX_BLOCKLENGTH} letters (64-bit masks)"
    return check_size(
        n,
        func=func,
        name=name,
        limit=limit,
        what="letters per block",
        hint=f"{why}; lower n (leakage_region gives the limits as n grows).",
    )


def _check_alphabets(p, d1, d2, *, func: str):
    """Source distribution and both distortion matrices (one row per source letter)."""
    pv = as_pmf(p, func=func, name="p")
    d1v = as_distortion_arg(d1, pv.size, func=func, name="d1")
    d2v = as_distortion_arg(d2, pv.size, func=func, name="d2")
    return pv, d1v, d2v


def _check_levels(func: str, **values) -> dict[str, float]:
    """Distortion levels, key rates and exponents: finite reals >= 0."""
    return {k: check_nonnegative(v, func=func, name=k) for k, v in values.items()}


def _key_bits(n: int, r1: float, r2: float, *, func: str) -> tuple[int, int]:
    r"""Key bits per block :math:`\lfloor n r_i \rfloor`, at most ``MAX_KEY_BITS``."""
    out = []
    for name, r in (("r1", r1), ("r2", r2)):
        bits = math.floor(n * r + 1e-12)
        if bits > MAX_KEY_BITS:
            raise InvalidParameterError(
                f"{func}: the '{name}' argument asks for floor(n {name}) = {bits:,} key bits "
                f"per block, above the limit of {MAX_KEY_BITS} key bits per block. A bin "
                f"never holds more than {MAX_SEQUENCES:,} codewords, so at most "
                f"{MAX_SEQUENCES.bit_length() - 1} key bits "
                f"ever mask an index; lower {name} to at most {MAX_KEY_BITS / n:.6g} bits "
                "per symbol."
            )
        out.append(bits)
    return out[0], out[1]


def _build_parameters(p, d1, d2, n, D1, D2, r1, r2, alpha, delta, *, func: str):
    """Every check :meth:`SuccessiveRefinementCipher.build` makes of its arguments, in
    order; :meth:`~SuccessiveRefinementCipher.load` makes the same of a file's fields."""
    pv, d1v, d2v = _check_alphabets(p, d1, d2, func=func)
    n = _check_blocklength(n, max(pv.size, d1v.shape[1], d2v.shape[1]), func=func)
    lv = _check_levels(func, D1=D1, D2=D2, r1=r1, r2=r2, alpha=alpha, delta=delta)
    kb = _key_bits(n, lv["r1"], lv["r2"], func=func)
    return pv, d1v, d2v, n, lv, kb


def _type_size(Q) -> int:
    """Number of sequences of type ``Q`` (a multinomial coefficient)."""
    out, left = 1, sum(Q)
    for c in Q:
        out *= math.comb(left, c)
        left -= c
    return out


@contextlib.contextmanager
def _file_fields(func: str, where: str):
    """Re-word the errors of the argument checks as errors of a file's fields (same
    type, original as ``__cause__``); low-level parse errors become
    :class:`InvalidParameterError`."""
    try:
        yield
    except LeakageError as exc:
        if str(exc).endswith(_REBUILD):  # already a field error
            raise
        msg = re.sub(
            r"the '([^']+)' argument",
            lambda m: f"the '{m.group(1)}' field of {where}",
            str(exc),
            count=1,
        )
        raise type(exc)(f"{msg} {_REBUILD}") from exc
    except (TypeError, ValueError, KeyError, IndexError, OverflowError) as exc:
        raise InvalidParameterError(
            f"{func}: the 'path' argument must name a code file written by "
            f"SuccessiveRefinementCipher.save; reading {where} failed "
            f"({type(exc).__name__}: {exc}). {_REBUILD}"
        ) from exc


def _types(n: int, k: int) -> list[tuple[int, ...]]:
    """All count vectors of length ``k`` summing to ``n`` (the types of length-n sequences)."""
    out = []
    for cut in itertools.combinations(range(n + k - 1), k - 1):
        prev, counts = -1, []
        for c in (*cut, n + k - 1):
            counts.append(c - prev - 1)
            prev = c
        out.append(tuple(counts))
    return out


def _all_sequences(n: int, k: int, dtype=np.int64) -> np.ndarray:
    """Every sequence of ``k``-ary letters of length ``n``, lexicographic, shape (k^n, n)."""
    idx = np.arange(k**n, dtype=np.int64)
    return ((idx[:, None] // (k ** np.arange(n - 1, -1, -1))[None, :]) % k).astype(dtype)


def _classes(masks: np.ndarray, ref: np.ndarray | None, n: int) -> np.ndarray:
    """Integer label of each sequence's orbit under the permutations of positions that fix
    a reference sequence: its joint type with ``ref`` (per-letter masks of one sequence),
    or its type when ``ref`` is None. ``masks`` are per-letter masks, shape (k, N)."""
    if ref is None:
        cnt = [np.bitwise_count(m) for m in masks]
    else:
        cnt = [np.bitwise_count(m & r) for r in ref for m in masks]
    code = np.zeros(masks.shape[1], dtype=np.int64)
    for c in cnt:
        code = code * (n + 1) + c.astype(np.int64)
    return code


def _restricted_pool(
    S: np.ndarray,
    pool: np.ndarray,
    C: np.ndarray,
    masks: np.ndarray,
    d: np.ndarray,
    D: float,
    budget: int,
    ref: np.ndarray | None,
    src_masks: np.ndarray,
) -> np.ndarray:
    r"""Candidates (a sorted subset of ``pool``, indices into ``C``) for covering the rows
    ``S`` within ``D``: all of ``pool`` when the cover matrix fits ``budget`` entries,
    else whole orbit classes of candidates (their types, or joint types with ``ref``).

    Symmetry makes this exact and cheap: the pool is a union of orbits of the permutations
    of positions that fix ``ref``, and distortion is invariant under them. So whether a
    class holds a candidate covering a row depends only on the row's orbit, and how many
    of a class cover one row of an orbit, ``cnt[J, K]``, is found from one representative
    row per orbit. Classes are taken in decreasing order of the rows a random member
    covers, :math:`\sum_J |S_J|\, cnt[J, K] / |K|` (the type-covering lemma's best
    conditional type first) as long as they fit the budget, then as needed until every
    orbit present in ``S`` has a class that covers it."""
    if S.shape[0] * pool.size <= budget:
        return pool
    n = S.shape[1]
    inv = _dense_labels(
        _classes(masks[:, pool], ref, n),
        (n + 1) ** (masks.shape[0] * (1 if ref is None else ref.size)),
    )
    sizes = np.bincount(inv)
    _, rep, n_j = np.unique(_classes(src_masks, ref, n), return_index=True, return_counts=True)
    cov = _covers(S[rep], C[pool], d, D, masks[:, pool])  # one row per orbit
    cnt = np.stack([np.bincount(inv, weights=row, minlength=sizes.size) for row in cov])
    return pool[_take_classes(cnt, sizes, n_j, S.shape[0], budget)[inv]]


def _dense_labels(code: np.ndarray, bound: int) -> np.ndarray:
    """``np.unique(code, return_inverse=True)[1]`` (the rank of each code among the
    distinct codes, all in ``0..bound-1``), by a table instead of a sort when ``bound``
    is at most ``2**22``."""
    if bound > 2**22:
        return np.unique(code, return_inverse=True)[1]
    present = np.zeros(bound, dtype=bool)
    present[code] = True
    rank = np.cumsum(present, dtype=np.int64) - 1
    return rank[code]


def _take_classes(
    cnt: np.ndarray, sizes: np.ndarray, n_j: np.ndarray, rows: int, budget: int
) -> np.ndarray:
    """The classes :func:`_restricted_pool` keeps (a boolean per class), from ``cnt[J, K]``
    (float64: members of class ``K`` covering a row of orbit ``J``), the class sizes
    (int64), the orbit sizes ``n_j`` (int64, orbits in increasing code order) and the
    number of rows to cover. Classes are in increasing code order (ties of the score go
    to the first)."""
    hits = cnt > 0
    score = n_j @ (cnt / sizes)
    order = np.argsort(-score, kind="stable")
    take = np.zeros(sizes.size, dtype=bool)
    used = 0
    for c in order:  # a loop over classes (at most (n+1)^(k k') of them), not letters
        if score[c] > 0 and (used + sizes[c]) * rows <= budget:
            take[c] = True
            used += sizes[c]
    if not take.any() and np.any(score > 0):  # none fits: the smallest useful class
        take[np.flatnonzero(score > 0)[np.argmin(sizes[score > 0])]] = True
    missing = ~hits[:, take].any(axis=1)
    while missing.any():
        gain = hits[missing].sum(axis=0) * ~take
        c = int(np.argmax(gain))
        if gain[c] == 0:
            break  # no candidate covers these rows: the greedy cover reports it
        take[c] = True
        missing &= ~hits[:, c]
    return take


def _masks(S: np.ndarray, k: int) -> np.ndarray:
    """Per-letter bitmasks of sequences (n <= 63): ``out[a, i]`` has bit t set iff
    ``S[i, t] == a``."""
    rows, n = S.shape
    out = np.empty((k, rows), dtype=np.uint64)
    nb = -(-n // 8)
    buf = np.zeros((max(1, min(rows, 2**20)), 8), dtype=np.uint8)  # little-endian: byte b, bit j
    for s0 in range(0, rows, buf.shape[0]):  # is position 8 b + j, so bit t of the uint64
        part = S[s0 : s0 + buf.shape[0]]
        for a in range(k):
            buf[: part.shape[0], :nb] = np.packbits(part == a, axis=1, bitorder="little")
            out[a, s0 : s0 + part.shape[0]] = buf[: part.shape[0]].view("<u8")[:, 0]
    return out


def _covers(
    X: np.ndarray,
    C: np.ndarray,
    d: np.ndarray,
    D: float,
    mC: np.ndarray | None = None,
    mX: np.ndarray | None = None,
) -> np.ndarray:
    """Boolean matrix ``d(x^n, c^n) <= D`` (rows X, columns C), in column chunks. The test
    is on sums, ``sum_t d(x_t, c_t) <= n D + 1e-9``, everywhere in this module.

    The sum is ``sum_{a,b} d(a,b) N_ab`` with ``N_ab = popcount(mask_a(x) & mask_b(c))``:
    vectorized bit counts instead of a loop over positions. For two binary alphabets one
    count suffices, since ``N_10 = |x|_1 - N_11``, ``N_01 = |c|_1 - N_11`` and ``N_00 =
    n - |x|_1 - |c|_1 + N_11``, so the test is ``N_11 * coef <= lim - base(|x|_1, |c|_1)``,
    a threshold on ``N_11`` per (row weight, column)."""
    out = np.empty((X.shape[0], C.shape[0]), dtype=bool)
    n = X.shape[1]
    lim = D * n + 1e-9
    step = max(1, 2**23 // max(X.shape[0], 1))
    mX = _masks(X, d.shape[0]) if mX is None else mX
    mC = _masks(C, d.shape[1]) if mC is None else mC
    if d.shape == (2, 2):
        (d00, d01), (d10, d11) = (float(v) for v in d[0]), (float(v) for v in d[1])
        coef = d00 - d01 - d10 + d11
        wx, wc = np.bitwise_count(mX[1]).astype(np.int64), np.bitwise_count(mC[1])
        ws = np.arange(n + 1, dtype=np.float64)  # the column weights: thresholds per weight
        # rows of one weight share the thresholds (<= n + 1 groups; np.unique would hash)
        for w in np.flatnonzero(np.bincount(wx, minlength=n + 1)).tolist():
            rows = np.flatnonzero(wx == w)
            base = d00 * n + (d10 - d00) * w + (d01 - d00) * ws
            if coef == 0:
                out[rows] = (base <= lim)[wc][None, :]
                continue
            t = (lim - base) / coef  # N_11 <= t (coef > 0) or N_11 >= t (coef < 0)
            thr = np.floor(t) if coef > 0 else np.ceil(t)
            # 0 <= N_11 <= n: clip, with -1 (coef > 0) or n + 1 (coef < 0) for "never"
            never = thr < 0 if coef > 0 else thr > n
            thr = np.clip(thr, 0, n).astype(np.int16)
            thr[never] = -1 if coef > 0 else n + 1
            thr = thr[wc]  # per column
            xr = mX[1][rows]
            rstep = max(1, 2**23 // max(rows.size, 1))
            for s0 in range(0, C.shape[0], rstep):
                sl = slice(s0, s0 + rstep)
                cnt = np.bitwise_count(xr[:, None] & mC[1][None, sl])
                out[rows, sl] = cnt <= thr[None, sl] if coef > 0 else cnt >= thr[None, sl]
        return out
    pairs = [
        (a, b, float(d[a, b])) for a in range(d.shape[0]) for b in range(d.shape[1]) if d[a, b] != 0
    ]
    integer = all(float(w).is_integer() and 0 < w < 256 for _, _, w in pairs)
    wmax = max((w for _, _, w in pairs), default=0.0)
    small = integer and wmax * n < 256  # per-entry sums fit a byte: 4x less traffic
    dtype = np.uint8 if small else (np.int32 if integer else np.float64)
    for s0 in range(0, C.shape[0], step):
        width = min(step, C.shape[0] - s0)
        acc = np.zeros((X.shape[0], width), dtype=dtype)
        for a, b, w in pairs:
            cnt = np.bitwise_count(mX[a][:, None] & mC[b][None, s0 : s0 + step])
            if integer and w == 1:
                acc += cnt
            else:
                acc += (np.uint8(w) if small else (int(w) if integer else w)) * cnt
        out[:, s0 : s0 + step] = acc <= lim
    return out


def _check_dense(rows: int, cols: int, Q, layer: str) -> None:
    """Refuse a dense cover matrix of ``rows x cols`` entries above ``DENSE_LIMIT``
    before allocating it."""
    if rows * cols > DENSE_LIMIT:
        raise InvalidParameterError(
            f"SuccessiveRefinementCipher.build: the 'n' argument is too large for this "
            f"source and these levels: the {layer} cover of type {tuple(int(c) for c in Q)} "
            f"needs a dense matrix of {rows:,} blocks x {cols:,} candidates = "
            f"{rows * cols:,} entries, "
            f"above the limit of DENSE_LIMIT = {DENSE_LIMIT:,} entries (one byte each). "
            "Lower n (the limits as n grows are in leakage_region), or change D1/D2."
        )


def _is_metric(d1: np.ndarray, d2: np.ndarray) -> bool:
    """Whether both layers use one metric on one alphabet (zero diagonal, symmetric,
    triangle inequality): then the per-letter average is a metric on sequences."""
    if d1.shape != d2.shape or d1.shape[0] != d1.shape[1] or not np.array_equal(d1, d2):
        return False
    if np.any(np.diag(d1) != 0) or not np.array_equal(d1, d1.T):
        return False
    return bool(np.all(d1[:, None, :] <= d1[:, :, None] + d1[None, :, :] + 1e-12))


#: The build's error when a block has no reproduction within its level.
_NO_REPRODUCTION = (
    "SuccessiveRefinementCipher.build: a sequence has no reproduction within the "
    "distortion level; raise D1/D2."
)


def _greedy_cover(covers: np.ndarray) -> list[int]:
    """Greedy set cover: columns (candidates) chosen until every row is covered. Gains are
    updated incrementally (each row is subtracted once), so the whole cover costs one pass
    over the matrix."""
    uncovered = np.ones(covers.shape[0], dtype=bool)
    gain = covers.sum(axis=0, dtype=np.int64)
    chosen: list[int] = []
    while uncovered.any():
        j = int(np.argmax(gain)) if gain.size else 0
        if gain.size == 0 or gain[j] == 0:
            raise InvalidParameterError(_NO_REPRODUCTION)
        chosen.append(j)
        newly = uncovered & covers[:, j]
        gain -= covers[newly].sum(axis=0, dtype=np.int64)
        uncovered &= ~newly
    return chosen


# ------------------------------------------------------------ per type class (sparse)
#: Largest number of (block, candidate) entries of the sparse cover of one type class
#: (the candidates within the level of each block; generated chunk by chunk, never held
#: at once: a bound on time, not memory) before the build falls back to the dense cover
#: matrix for that type.
SPARSE_ENTRIES = 2**32
#: Largest number of (block, candidate) entries, padded, of one batch of second-layer
#: cells covered at once by :func:`_greedy_groups` (int32: 64 MiB; a batch holds at least
#: one cell).
CELL_ENTRIES = 2**24
#: Largest distortion ball (reproductions within a level of one block) enumerated.
MAX_BALL = 2**20
#: Whether :meth:`SuccessiveRefinementCipher.build` uses the per-type-class sparse
#: covers (False: the dense cover matrices over all sequences, the reference path; both
#: build the same code).
_SPARSE_COVERS = True


def _type_class(Q: tuple[int, ...], dtype=np.int8) -> np.ndarray:
    """Every sequence of type ``Q`` (a count vector), in lexicographic order (increasing
    base-k index), shape ``(|T_Q|, n)``: built from the classes of the suffix types,
    never from all ``k^n`` sequences."""
    k = len(Q)
    memo: dict[tuple[int, ...], np.ndarray] = {}

    def rec(R: tuple[int, ...]) -> np.ndarray:
        if R in memo:
            return memo[R]
        m = sum(R)
        if m == 0:
            out = np.zeros((1, 0), dtype=dtype)
        else:
            parts = []
            for a in range(k):  # first letter a, then every sequence of the rest
                if R[a]:
                    sub = rec((*R[:a], R[a] - 1, *R[a + 1 :]))
                    blk = np.empty((sub.shape[0], m), dtype=dtype)
                    blk[:, 0] = a
                    blk[:, 1:] = sub
                    parts.append(blk)
            out = np.concatenate(parts)
        memo[R] = out
        return out

    return rec(tuple(int(c) for c in Q))


def _decode(idx: np.ndarray, n: int, k: int, dtype=np.int64) -> np.ndarray:
    """Letters of the sequences with base-``k`` indices ``idx`` (the rows of
    :func:`_all_sequences`), shape ``(idx.size, n)``."""
    idx = np.asarray(idx, dtype=np.int64)
    return ((idx[:, None] // (k ** np.arange(n - 1, -1, -1, dtype=np.int64))[None, :]) % k).astype(
        dtype
    )


def _ball(x0: np.ndarray, d: np.ndarray, D: float, limit: int) -> np.ndarray | None:
    r"""Every reproduction ``c`` with ``d(x0, c) <= D`` exactly as :func:`_covers` decides
    it, as letters ``(B, n)``; None when more than ``limit`` partial sequences arise.

    Depth-first by position, vectorized over the partial sequences: a prefix is dropped
    once its sum plus the smallest possible rest exceeds :math:`nD` (with a slack), and
    the survivors go through :func:`_covers` itself."""
    n, kc = x0.size, d.shape[1]
    lim = D * n + 1e-9
    slack = 1e-7 * max(1.0, abs(lim))
    step = d[x0]  # (n, kc): the distortion of each letter at each position
    rest = np.concatenate([np.cumsum(step.min(axis=1)[::-1])[::-1], [0.0]])
    dt = np.int8 if kc < 128 else np.int64
    letters = np.zeros((1, 0), dtype=dt)
    cost = np.zeros(1)
    for t in range(n):
        c = cost[:, None] + step[t][None, :]
        s, m = np.nonzero(c + rest[t + 1] <= lim + slack)
        if s.size > limit:
            return None
        letters = np.concatenate([letters[s], m[:, None].astype(dt)], axis=1)
        cost = c[s, m]
    return letters[_covers(x0[None, :], letters, d, D)[0]]


def _ball_entries(S: np.ndarray, ball0: np.ndarray, kc: int) -> np.ndarray:
    r"""Base-``kc`` indices of the ball around each row of ``S`` (all of one type),
    shape ``(rows, B)``, from the ball ``ball0`` around the sorted sequence of that type.

    Distortion is invariant under permutations of positions: if ``x = x0 o sigma`` then
    the ball of ``x`` is ``{c o sigma : c in ball(x0)}``. With :math:`\sigma^{-1}` the
    stable argsort of ``x``, the index of ``c o sigma`` is :math:`\sum_s c_s\,
    k^{n-1-\sigma^{-1}(s)}`: one matrix product per chunk of rows (exact in float64,
    indices below :math:`2^{53}`; in float32 below :math:`2^{24}`, where every partial
    sum is an integer it holds exactly)."""
    n = S.shape[1]
    dt = np.int32 if kc**n < 2**31 else np.int64
    out = np.empty((S.shape[0], ball0.shape[0]), dtype=dt)
    if out.size == 0:
        return out
    ft = np.float32 if kc**n <= 2**24 else np.float64
    B = ball0.astype(ft).T  # (n, B)
    power = (kc ** np.arange(n - 1, -1, -1, dtype=np.int64)).astype(ft)
    step = max(1, 2**22 // ball0.shape[0])
    for s0 in range(0, S.shape[0], step):
        inv = np.argsort(S[s0 : s0 + step], axis=1, kind="stable")
        out[s0 : s0 + step] = power[inv] @ B  # exact integers: the cast truncates nothing
    return out


def _block_argmax(gain: np.ndarray, bound: np.ndarray, bs: int) -> tuple[int, int]:
    """The first column of the largest gain and that gain, searched by blocks of ``bs``
    columns whose stored maxima ``bound`` are upper bounds of their gains (gains only
    decrease): only the blocks whose bound reaches the largest one are looked at, and
    the bounds found stale are tightened in place."""
    while True:
        top = int(bound.max())
        for b in np.flatnonzero(bound == top).tolist():
            block = gain[b * bs : (b + 1) * bs]
            true = int(block.max())
            if true == top:
                return b * bs + int(np.argmax(block == top)), top
            bound[b] = true


def _last_picks(
    first: np.ndarray, rows: np.ndarray, assign: np.ndarray, chosen: list[int], ncols: int
) -> None:
    """The greedy's picks once the largest gain is 1: every candidate left covers one
    uncovered row, so the rows ``rows`` are taken in increasing order of their smallest
    candidate ``first`` (``ncols``: none), each by that candidate (appended to
    ``chosen``, ``assign`` updated in place)."""
    order = np.argsort(first, kind="stable")
    if first[order[-1]] == ncols:  # a row without candidates: what the loop meets
        raise InvalidParameterError(_NO_REPRODUCTION)
    assign[rows[order]] = len(chosen) + np.arange(rows.size)
    chosen.extend(first[order].tolist())


def _greedy_entries(
    E: np.ndarray, ncols: int, covered_by, padded: bool = True
) -> tuple[list[int], np.ndarray]:
    """:func:`_greedy_cover` on a sparse cover: ``E[r]`` lists the candidates (``0 ..
    ncols-1``, ``-1`` for none) covering row ``r``, each once; ``covered_by(c)`` is the
    boolean column ``c`` of the dense matrix. Picks the same candidates in the same order
    (largest gain, ties to the lowest candidate), and returns with them, for each row,
    the position in the picks of the first pick covering it (the encoder's choice).

    Gains only decrease, so a block's maximum once computed stays an upper bound of its
    gains: the first column of the largest gain is searched only in the blocks whose bound
    reaches it (tightening the bounds of those that fall short), not over all columns at
    every pick. Once the largest gain is 1, every candidate left covers one uncovered
    row, and the greedy takes, row after row in increasing order of their smallest
    candidate, that candidate: those picks are made at once. ``padded=False`` promises
    that ``E`` holds no ``-1``."""
    bs = 4096
    nb = max(1, -(-ncols // bs))
    gain = np.zeros(nb * bs, dtype=np.int64)  # zero-gain padding past the columns
    step = max(1, 2**22 // max(E.shape[1], 1))  # rows per chunk: bounded int64 copies
    for s0 in range(0, E.shape[0], step):
        part = E[s0 : s0 + step]
        gain[:ncols] += np.bincount(part[part >= 0] if padded else part.ravel(), minlength=ncols)

    def entries_of(rows: np.ndarray):
        for s0 in range(0, rows.size, step):
            part = E[rows[s0 : s0 + step]].ravel()
            yield part[part >= 0] if padded else part

    def smallest_of(rows: np.ndarray) -> np.ndarray:
        first = np.empty(rows.size, dtype=np.int64)
        for s0 in range(0, rows.size, step):
            part = E[rows[s0 : s0 + step]]
            first[s0 : s0 + step] = np.where(part >= 0, part, ncols).min(axis=1)
        return first

    return _greedy_rounds(gain, bs, E.shape[0], ncols, covered_by, entries_of, smallest_of)


def _greedy_rounds(
    gain: np.ndarray, bs: int, nrows: int, ncols: int, covered_by, entries_of, smallest_of
) -> tuple[list[int], np.ndarray]:
    """The picks of :func:`_greedy_entries` from the initial ``gain`` (int64, padded to
    whole blocks of ``bs``; decremented in place): ``entries_of(rows)`` yields, chunk by
    chunk, the candidates of those rows (flat), ``smallest_of(rows)`` each row's smallest
    candidate (``ncols``: none), ``covered_by(c)`` the rows candidate ``c`` covers.
    Shared by the whole sparse cover and the streamed one
    (:func:`._stream.greedy_ball_cover`), which differ only in where entries come from."""
    bound = gain.reshape(-1, bs).max(axis=1)
    uncovered = np.ones(nrows, dtype=bool)
    assign = np.full(nrows, -1, dtype=np.int64)
    chosen: list[int] = []
    left = nrows
    one = np.int64(1)  # the gain's type: ufunc.at's fast loop
    while left:
        j, top = _block_argmax(gain, bound, bs)
        if top == 0:
            raise InvalidParameterError(_NO_REPRODUCTION)
        if top == 1:
            rows = np.flatnonzero(uncovered)
            _last_picks(smallest_of(rows), rows, assign, chosen, ncols)
            break
        newly = np.flatnonzero(uncovered & covered_by(j))
        assign[newly] = len(chosen)
        chosen.append(j)
        uncovered[newly] = False
        left -= newly.size
        for part in entries_of(newly if left else newly[:0]):  # none after the last pick
            np.subtract.at(gain, part, one)
    return chosen, assign


def _greedy_groups(
    E: np.ndarray, row_group: np.ndarray, col_group: np.ndarray, groups: int
) -> list[np.ndarray]:
    """:func:`_greedy_cover` of many independent covers at once (the second-layer cells
    of one type): ``E[r]`` lists the columns covering row ``r`` (``-1`` for none), all of
    the row's group ``row_group[r]``; columns are numbered group by group (``col_group``
    nondecreasing). Each round every group with uncovered rows makes its next greedy pick
    (largest gain, ties to its lowest column), so the rounds are as many as the picks of
    the largest cover, each vectorized over all groups. Returns each group's picks in
    order."""
    ncols = col_group.size
    nr = max(E.shape[0], 1)
    valid = E >= 0
    flat_c = E[valid]
    flat_r = np.broadcast_to(np.arange(E.shape[0])[:, None], E.shape)[valid]
    gain = np.bincount(flat_c, minlength=ncols).astype(np.int64)
    # the rows of each column (in increasing order): one sort of (column, row) keys
    ckey = np.sort(flat_c.astype(np.int64) * nr + flat_r)
    csc_rows = ckey % nr
    cptr = np.searchsorted(ckey, np.arange(ncols + 1, dtype=np.int64) * nr)
    del valid, flat_c, flat_r, ckey
    gstart = np.searchsorted(col_group, np.arange(groups + 1))
    has_cols = np.flatnonzero(gstart[1:] > gstart[:-1])
    left = np.bincount(row_group, minlength=groups)
    uncovered = np.ones(E.shape[0], dtype=bool)
    S = ncols + 1
    tie = S - 1 - np.arange(ncols, dtype=np.int64)  # the lower column wins ties
    seg = np.full(groups, -1, dtype=np.int64)
    seg[has_cols] = np.arange(has_cols.size)
    rec_g, rec_c = [], []
    active = np.flatnonzero(left > 0)
    # key = gain * S + tie, kept up to date (and a sentinel past the end for reduceat):
    # each round reduces only the column ranges of the groups still active
    key = np.zeros(ncols + 1, dtype=np.int64)
    key[:ncols] = gain * S + tie
    gain = key[:ncols]  # decremented in units of S below
    idx = np.empty(2 * groups, dtype=np.intp)
    while active.size:
        if np.any(seg[active] < 0):
            best_gain = np.zeros(1)
        else:
            ia = idx[: 2 * active.size]
            ia[0::2], ia[1::2] = gstart[active], gstart[active + 1]
            best = np.maximum.reduceat(key, ia)[0::2]
            best_gain, j = best // S, S - 1 - best % S
        if np.any(best_gain == 0):
            raise InvalidParameterError(_NO_REPRODUCTION)
        rec_g.append(active)
        rec_c.append(j)
        lengths = cptr[j + 1] - cptr[j]
        starts = np.repeat(cptr[j] - np.cumsum(lengths) + lengths, lengths)
        rows = csc_rows[starts + np.arange(lengths.sum())]
        newly = rows[uncovered[rows]]
        uncovered[newly] = False
        left -= np.bincount(row_group[newly], minlength=groups)
        cols = E[newly]
        cols = cols[cols >= 0]
        if cols.size:  # the columns of the active groups: a range of them
            lo, hi = int(cols.min()), int(cols.max()) + 1
            gain[lo:hi] -= np.bincount(cols - lo, minlength=hi - lo) * S
        active = np.flatnonzero(left > 0)
    if not rec_g:
        return [np.zeros(0, dtype=np.int64) for _ in range(groups)]
    g, c = np.concatenate(rec_g), np.concatenate(rec_c)
    by = np.argsort(g, kind="stable")  # each group's picks in round order
    ends = np.searchsorted(g[by], np.arange(groups + 1))
    return [c[by[ends[i] : ends[i + 1]]] for i in range(groups)]


def _code_of(counts: np.ndarray, n: int) -> np.ndarray:
    """The orbit label of :func:`_classes` from count columns ``(m, c)`` (same order)."""
    code = np.zeros(counts.shape[0], dtype=np.int64)
    for c in counts.T:
        code = code * (n + 1) + c.astype(np.int64)
    return code


def _multinomial(counts: np.ndarray) -> np.ndarray:
    """Row-wise multinomial coefficients of a count matrix (int64, exact: a product of
    binomials from Pascal's triangle, every partial product a smaller multinomial)."""
    counts = np.asarray(counts, dtype=np.int64)
    top = int(counts.sum(axis=1).max(initial=0))
    pascal = np.zeros((top + 1, top + 1), dtype=np.int64)
    for m in range(top + 1):
        pascal[m, : m + 1] = [math.comb(m, i) for i in range(m + 1)]
    out = np.ones(counts.shape[0], dtype=np.int64)
    for c, total in zip(counts.T, np.cumsum(counts, axis=1).T, strict=True):
        out *= pascal[total, c]
    return out


def _type_classes(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """All types of ``k`` letters (codes of :func:`_classes` with ``ref=None``, increasing)
    and their sizes."""
    counts = np.array(_types(n, k), dtype=np.int64).reshape(-1, k)
    code = _code_of(counts, n)
    order = np.argsort(code)
    return code[order], _multinomial(counts[order])


def _joint_classes(yq: tuple[int, ...], k2: int, n: int):
    """All joint types of a fixed sequence of type ``yq`` with sequences of ``k2``
    letters: codes of :func:`_classes` (``ref`` the fixed one), sizes and one member
    each, relative to the sorted sequence of type ``yq``, in increasing code order."""
    blocks = [np.array(_types(c, k2), dtype=np.int64).reshape(-1, k2) for c in yq]
    grids = np.meshgrid(*[np.arange(b.shape[0]) for b in blocks], indexing="ij")
    N = np.concatenate([b[g.ravel()] for b, g in zip(blocks, grids, strict=True)], axis=1)
    sizes = np.ones(N.shape[0], dtype=np.int64)
    for r in range(len(yq)):
        sizes *= _multinomial(N[:, r * k2 : (r + 1) * k2])
    code = _code_of(N, n)
    order = np.argsort(code)
    N, code, sizes = N[order], code[order], sizes[order]
    # a member of each: positions of letter r of the sorted sequence get N[r] sorted
    letters = np.tile(np.arange(k2), len(yq) * N.shape[0])
    reps = np.repeat(letters, N.ravel()).reshape(N.shape[0], n)
    return code, sizes, reps


def _bins(size: int, bits: int) -> list[int]:
    """Sizes of the bins of ``size`` codewords in bins of ``2^bits``."""
    b = 2**bits
    return [min(b, size - s) for s in range(0, size, b)] or [0]


def _first_cover(X: np.ndarray, C: np.ndarray, d: np.ndarray, D: float) -> np.ndarray:
    """Index of the first row of ``C`` within ``D`` of each row of ``X`` (-1: none), in
    row chunks of at most 2**24 cover entries (bounded memory for any codebook size)."""
    out = np.full(X.shape[0], -1, dtype=np.int64)
    if C.shape[0] == 0 or X.shape[0] == 0:
        return out
    mC = _masks(C, d.shape[1])
    step = max(1, 2**24 // C.shape[0])
    for s0 in range(0, X.shape[0], step):
        cov = _covers(X[s0 : s0 + step], C, d, D, mC)
        j = np.argmax(cov, axis=1)
        out[s0 : s0 + step] = np.where(cov[np.arange(j.size), j], j, -1)
    return out


def _row_sums(d: np.ndarray, X: np.ndarray, C: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``d[X, C[idx]].sum(axis=1)``: the distortion sum of each row of ``X`` with its
    codeword ``C[idx]``, in row chunks (bounded temporaries)."""
    out = np.empty(X.shape[0])
    step = max(1, 2**22 // max(X.shape[1], 1))
    for s0 in range(0, X.shape[0], step):
        out[s0 : s0 + step] = d[X[s0 : s0 + step], C[idx[s0 : s0 + step]]].sum(axis=1)
    return out


def _key_value(key: np.ndarray, s: int) -> int:
    """The first ``s`` bits of a validated key as an integer (most significant first)."""
    v = 0
    for b in key[:s].tolist():
        v = (v << 1) | b
    return v


class _CoverGap(InvalidParameterError):
    """A typical block without a reproduction within a level (a damaged code)."""

    def __init__(self, field: str, t: int, Q, x: np.ndarray, level: str, D: float):
        self.field = field
        self.requirement = (
            f"reproduce every block of each typical type within {level} = {D!r} "
            "(a covering codebook, as built)"
        )
        self.got = f"block {_show(np.asarray(x, dtype=np.int64))} of type {tuple(Q)} uncovered"
        super().__init__(
            f"SuccessiveRefinementCipher: the code's '{field}' must {self.requirement}; got "
            f"{self.got} instead."
        )


def _field_error(func: str, where: str, field: str, requirement: str, got: str):
    """The house-style error for a field of a code file."""
    return InvalidParameterError(
        f"{func}: the '{field}' field of {where} must {requirement}; got {got} instead. {_REBUILD}"
    )


def _book(v, *, rows: tuple[int, int], n: int, letters: int, field: str, label: str, err):
    """One codebook of a code file: a (m, n) integer array with ``rows[0] <= m <=
    rows[1]`` and letters in ``0..letters-1`` (``[]`` for an empty one)."""
    req = (
        f"hold, for {label}, {rows[0]} to {rows[1]:,} codewords of n = {n} integer letters "
        f"in 0..{letters - 1}"
    )
    try:
        a = np.asarray(v)
    except (TypeError, ValueError) as exc:
        raise err(field, req, f"an unreadable value ({exc})") from exc
    if a.ndim == 1 and a.size == 0:
        a = np.zeros((0, n), dtype=np.int64)
    if a.ndim != 2 or a.shape[1] != n:
        raise err(field, req, _show(v) if a.ndim == 0 else f"an array of shape {a.shape}")
    if a.size and a.dtype.kind not in "iu":
        raise err(field, req, f"an array of dtype {a.dtype}")
    if a.size and (a.min() < 0 or a.max() >= letters):
        bad = (a < 0) | (a >= letters)
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise err(field, req, f"the letter {a[idx].item()!r} at {list(idx)}")
    if not rows[0] <= a.shape[0] <= rows[1]:
        raise err(field, req, f"{a.shape[0]:,} codewords")
    return a.astype(np.int64)


def _code_fields(data: dict, k: int, d1: np.ndarray, d2: np.ndarray, n: int, kb, func, where):
    """The code's own fields of a file (``key_bits``, ``types``, both codebooks and the
    fallback), checked against its parameters. Raises house-style field errors."""

    def err(field, requirement, got):
        return _field_error(func, where, field, requirement, got)

    raw = data["key_bits"]
    if _as_tuple(raw, 2) != kb:
        req = f"be [floor(n r1), floor(n r2)] = {list(kb)} for the file's n, r1 and r2"
        raise err("key_bits", req, _show(raw))
    raw = data["types"]
    req = f"be a list of distinct source types: {k} nonnegative integer counts summing to {n}"
    if not isinstance(raw, list):
        raise err("types", req, _show(raw))
    types: list[tuple[int, ...]] = []
    seen: set = set()
    for i, tq in enumerate(raw):
        Q = _as_tuple(tq, k)
        if Q is None or min(Q) < 0 or sum(Q) != n or Q in seen:
            raise err("types", req, f"{_show(tq)} at index {i}")
        seen.add(Q)
        types.append(Q)
    sizes = [_type_size(Q) for Q in types]
    raw_y, raw_z = data["book_y"], data["book_z"]
    for field, raw in (("book_y", raw_y), ("book_z", raw_z)):
        if not isinstance(raw, list) or len(raw) != len(types):
            req = f"be a list of one codebook per typical type ({len(types)})"
            got = _show(raw) if not isinstance(raw, list) else f"a list of {len(raw)}"
            raise err(field, req, got)
    book_y = [
        _book(
            Y,
            rows=(1, sz),
            n=n,
            letters=d1.shape[1],
            field="book_y",
            label=f"type {i} {types[i]}",
            err=err,
        )
        for i, (Y, sz) in enumerate(zip(raw_y, sizes, strict=True))
    ]
    book_z = []
    for i, (zs, Y, sz) in enumerate(zip(raw_z, book_y, sizes, strict=True)):
        if not isinstance(zs, list) or len(zs) != len(Y):
            req = f"hold, for type {i}, one codebook per first-layer codeword ({len(Y)})"
            got = _show(zs) if not isinstance(zs, list) else f"a list of {len(zs)}"
            raise err("book_z", req, got)
        label = f"codeword {{}} of type {i} {types[i]}"
        book = [
            _book(
                Z,
                rows=(0, sz),
                n=n,
                letters=d2.shape[1],
                field="book_z",
                label=label.format(j),
                err=err,
            )
            for j, Z in enumerate(zs)
        ]
        total = sum(len(Z) for Z in book)
        if total > sz:  # every codeword covers a block of its cell first: sum <= |T_Q|
            req = f"hold, for type {i}, at most {sz:,} codewords in all (its type class)"
            raise err("book_z", req, f"{total:,}")
        book_z.append(book)
    raw = data["fallback"]
    req = (
        f"be two constant reproductions of n = {n} letters (one in 0..{d1.shape[1] - 1}, "
        f"one in 0..{d2.shape[1] - 1}), as built"
    )
    if not isinstance(raw, list) or len(raw) != 2:
        raise err("fallback", req, _show(raw))
    fb = []
    for raw_f, size in zip(raw, (d1.shape[1], d2.shape[1]), strict=True):
        try:
            f = _int_vector(raw_f, func=func, name="fallback", requirement=req, lo=0, hi=size - 1)
        except InvalidParameterError as exc:
            raise err("fallback", req, _show(raw_f)) from exc
        if f.size != n or np.any(f != f[0]):
            raise err("fallback", req, _show(raw_f))
        fb.append(f)
    return types, book_y, book_z, (fb[0], fb[1])


class _DenseCovers:
    """The codebooks of one type from dense cover matrices over all sequences: the
    reference path of :meth:`SuccessiveRefinementCipher.build` (``_SPARSE_COVERS =
    False``) and its fallback when a type's sparse cover is too large. The sequences are
    enumerated on first use."""

    def __init__(self, d1v, d2v, n: int, D1: float, D2: float, metric: bool):
        self.d1v, self.d2v, self.n, self.D1, self.D2, self.metric = d1v, d2v, n, D1, D2, metric
        self.ready = False

    def _enumerate(self, k: int) -> None:
        d1v, d2v, n = self.d1v, self.d2v, self.n
        small = np.int8 if max(k, *d1v.shape, *d2v.shape) < 128 else np.int64
        self.X = X = _all_sequences(n, k, small)
        self.C1 = C1 = X if d1v.shape[1] == k else _all_sequences(n, d1v.shape[1], small)
        self.C2 = C1 if d2v.shape[1] == d1v.shape[1] else _all_sequences(n, d2v.shape[1], small)
        self.mX = mX = _masks(X, k)
        self.masks1 = mX if C1 is X else _masks(C1, d1v.shape[1])
        self.masks2 = self.masks1 if self.C2 is C1 else _masks(self.C2, d2v.shape[1])
        self.counts = np.stack([np.bitwise_count(m) for m in mX], axis=1)
        self.ready = True

    def __call__(self, Q: tuple[int, ...]) -> tuple[np.ndarray, list[np.ndarray]]:
        if not self.ready:
            self._enumerate(len(Q))
        X, C1, mX = self.X, self.C1, self.mX
        masks1, d1v, D1 = self.masks1, self.d1v, self.D1
        all1 = np.arange(C1.shape[0])
        rows = np.flatnonzero(np.all(self.counts == np.asarray(Q), axis=1))
        T, mT = X[rows], mX[:, rows]
        cand = _restricted_pool(T, all1, C1, masks1, d1v, D1, COVER_BUDGET, None, mT)
        _check_dense(T.shape[0], cand.size, Q, "first-layer")
        cov1 = _covers(T, C1[cand], d1v, D1, masks1[:, cand])
        chosen = cand[_greedy_cover(cov1)]
        Y = C1[chosen]
        # the encoder: x -> the first chosen codeword that covers it
        assign = np.argmax(cov1[:, np.searchsorted(cand, chosen)], axis=1)
        del cov1
        return Y, self.cells(T, Y, assign)

    def cells(self, T: np.ndarray, Y: np.ndarray, assign: np.ndarray) -> list[np.ndarray]:
        """The second-layer codebooks of the first-layer codewords ``Y`` of the type class
        ``T`` (lexicographic), ``assign`` the codeword of each block."""
        if not self.ready:
            self._enumerate(self.d1v.shape[0])
        C2, masks2 = self.C2, self.masks2
        d2v, D1, D2 = self.d2v, self.D1, self.D2
        all2 = np.arange(C2.shape[0])
        mT = _masks(T, self.d1v.shape[0])
        mY = _masks(Y, self.d1v.shape[1])
        zs = []
        for j in range(Y.shape[0]):
            sel = assign == j
            cell = T[sel]
            if cell.shape[0] == 0:
                zs.append(C2[:0].astype(np.int64))
                continue
            # with one metric, d(z, y) <= d(z, x) + d(x, y) <= D2 + D1 for any useful
            # z: only those candidates can cover the cell (the cover is the same)
            near = (
                np.flatnonzero(_covers(Y[j : j + 1], C2, d2v, D1 + D2, masks2)[0])
                if self.metric
                else all2
            )
            near = _restricted_pool(
                cell, near, C2, masks2, d2v, D2, CELL_BUDGET, mY[:, j], mT[:, sel]
            )
            Q = np.bincount(T[0], minlength=self.d1v.shape[0])
            _check_dense(cell.shape[0], near.size, Q, "second-layer")
            pick = _greedy_cover(_covers(cell, C2[near], d2v, D2, masks2[:, near]))
            zs.append(C2[near[pick]].astype(np.int64))
        return zs


def _sparse_books(
    Q: tuple[int, ...],
    d1: np.ndarray,
    d2: np.ndarray,
    n: int,
    D1: float,
    D2: float,
    metric: bool,
    cache: dict,
) -> tuple[np.ndarray, list[np.ndarray]] | None:
    r"""The codebooks of type ``Q`` that :class:`_DenseCovers` builds, computed per type
    class: None when the balls or the sparse covers are too large (then the dense path
    builds them).

    Only the type class :math:`\mathcal T_Q` is enumerated, never all ``k^n`` blocks.
    Each block's candidates are its distortion ball, the ball of the sorted block of the
    type carried over by the permutation that sorts it (:func:`_ball_entries`): a cover
    with :math:`|\mathcal T_Q|\,|B|` entries instead of :math:`|\mathcal T_Q|\,k^n`.
    Which candidates :func:`_restricted_pool` would keep depends only on types and joint
    types (:func:`_take_classes` on counts from one ball per orbit, class sizes as
    multinomials), and :func:`._stream.greedy_ball_cover` picks what :func:`_greedy_entries`
    (on the whole sparse cover) and :func:`_greedy_cover` (on the dense one) pick; the
    cells are covered by :func:`_cell_books`."""
    if not _SPARSE_COVERS:
        return None
    k, k1, k2 = len(Q), d1.shape[1], d2.shape[1]
    if max(k, k1, k2) ** n >= 2**53:
        return None
    dt = np.int8 if max(k, k1, k2) < 128 else np.int64
    T = _type_class(Q, dt)
    x0 = T[0]  # the sorted block of the type
    ball1 = _ball(x0, d1, D1, MAX_BALL)
    ball2 = _ball(x0, d2, D2, MAX_BALL)
    if ball1 is None or ball2 is None:
        return None
    if T.shape[0] * k1**n > COVER_BUDGET:  # _restricted_pool keeps whole types
        if ("types", k1) not in cache:
            cache["types", k1] = _type_classes(n, k1)
        codes, sizes = cache["types", k1]
        counts = (ball1[:, :, None] == np.arange(k1)[None, None, :]).sum(axis=1)
        pos = np.searchsorted(codes, _code_of(counts, n))
        cnt = np.bincount(pos, minlength=codes.size).astype(np.float64)[None, :]
        rows = T.shape[0]
        take = _take_classes(cnt, sizes, np.array([rows], dtype=np.int64), rows, COVER_BUDGET)
        ball1 = ball1[take[pos]]  # a candidate's type is the type of its ball entry
    if T.shape[0] * ball1.shape[0] > SPARSE_ENTRIES:
        return None
    mT = _masks(T, k)

    def cover1(c: int) -> np.ndarray:
        return _covers(T, _decode(np.array([c]), n, k1, dt), d1, D1, mX=mT)[:, 0]

    # the greedy of _greedy_entries on the entries of _ball_entries, streamed (never the
    # |T| x |ball1| matrix); columns from joint types where the symmetry allows
    from ._stream import ball_columns, greedy_ball_cover

    chosen, assign = greedy_ball_cover(T, ball1, k1, k1**n, ball_columns(T, ball1, k1) or cover1)
    Y = _decode(np.array(chosen, dtype=np.int64), n, k1, dt)
    return Y, _cell_books(T, mT, assign, Y, ball2, d1, d2, D1, D2, metric, cache)


def _joint_pool(
    yq: tuple[int, ...], d2: np.ndarray, n: int, D1: float, D2: float, metric: bool, cache: dict
):
    """The candidate classes of the cells of a first-layer codeword of type ``yq``, as
    :class:`_DenseCovers` pools them: joint types with the codeword (codes increasing, as
    :func:`_joint_classes`), their sizes and the pool size. With one metric the pool is the
    candidates within ``D1 + D2`` of the codeword (whole classes: the distortion of a
    candidate to the codeword is a function of their joint type)."""
    key = ("joint", yq)
    if key not in cache:
        k2 = d2.shape[1]
        jc, js, reps = _joint_classes(yq, k2, n)
        if metric:
            y0 = np.repeat(np.arange(len(yq)), yq)
            near = _covers(y0[None, :], reps, d2, D1 + D2)[0]
            jc, js = jc[near], js[near]
        cache[key] = jc, js, int(js.sum()) if metric else k2**n
    return cache[key]


def _orbit_ball(
    code: int, yq: tuple[int, ...], k: int, ball2: np.ndarray, k2: int, jc: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    r"""The second-layer ball of the canonical block of an orbit, and the class of each
    member.

    The orbit ``code`` (:func:`_classes` of a block with a codeword of type ``yq``) fixes
    the counts :math:`N_{rm}` of positions where the codeword has letter ``r`` and the
    block letter ``m``. In canonical coordinates (positions sorted by the pair (codeword
    letter, block letter)) the codeword is sorted and the block is ``m`` repeated
    :math:`N_{rm}` times within each codeword letter ``r``. Returns the ball of that block
    (letters, canonical coordinates; :func:`_ball_entries` of ``ball2``, the ball of the
    sorted block of the type) and, per member, its position in ``jc`` (-1 when its joint
    type with the codeword is not a candidate class)."""
    k1 = len(yq)
    n = ball2.shape[1]
    digits = [(code // (n + 1) ** e) % (n + 1) for e in range(k1 * k - 1, -1, -1)]
    x_can = np.repeat(np.tile(np.arange(k), k1), digits).astype(ball2.dtype)
    y_can = np.repeat(np.arange(k1), yq)
    B = _decode(_ball_entries(x_can[None, :], ball2, k2)[0], n, k2, ball2.dtype)
    lab = _classes(_masks(B, k2), _masks(y_can[None, :], k1)[:, 0], n)
    if jc.size == 0:
        return B, np.full(B.shape[0], -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(jc, lab), jc.size - 1)
    return B, np.where(jc[pos] == lab, pos, -1)


def _cell_books(
    T: np.ndarray,
    mT: np.ndarray,
    assign: np.ndarray,
    Y: np.ndarray,
    ball2: np.ndarray,
    d1: np.ndarray,
    d2: np.ndarray,
    D1: float,
    D2: float,
    metric: bool,
    cache: dict,
) -> list[np.ndarray]:
    r"""The second-layer codebooks of the first-layer codewords ``Y`` of the type class
    ``T`` (``assign``: the codeword of each block), as :class:`_DenseCovers` builds them,
    from a sparse cover holding only the candidates each block can use.

    A cell's blocks fall into orbits under the permutations of positions that fix its
    codeword ``y`` (their joint types with ``y``), and its candidate pool is a union of
    whole classes of candidates (joint types with ``y``). Which classes
    :func:`_restricted_pool` keeps is found from the ball of one canonical block per
    orbit (:func:`_orbit_ball`: :func:`_take_classes` on the class counts, the class sizes
    being multinomials); the kept members of that ball, carried to each block of the
    orbit by the permutation that sorts the pairs (codeword letter, block letter), are
    exactly that block's row of the dense cover matrix. So the cover has one entry per
    (block, usable candidate) instead of (block, pool member), and no cell ever scans the
    ``k^n`` sequences. Cells are covered in batches of at most ``CELL_ENTRIES`` entries by
    :func:`_greedy_groups`."""
    n, k = T.shape[1], mT.shape[0]
    k1, k2 = d1.shape[1], d2.shape[1]
    groups = Y.shape[0]
    by_cell = np.argsort(assign, kind="stable")
    rstart = np.searchsorted(assign[by_cell], np.arange(groups + 1))
    mY = _masks(Y, k1)
    orbits: dict = {}  # (yq, code) -> (ball, class positions): this type's orbits
    kept: list[np.ndarray] = []  # per orbit of a cell: the usable ball members
    row_orbit = np.empty(T.shape[0], dtype=np.int64)
    width = np.zeros(groups, dtype=np.int64)  # the largest row of each cell
    for j in range(groups):  # a loop over codewords, not letters or blocks
        R = by_cell[rstart[j] : rstart[j + 1]]
        if R.size == 0:
            continue
        yq = tuple(int(c) for c in np.bincount(Y[j], minlength=k1))
        jc, js, pool_size = _joint_pool(yq, d2, n, D1, D2, metric, cache)
        codes, inv, n_j = np.unique(
            _classes(mT[:, R], mY[:, j], n), return_inverse=True, return_counts=True
        )
        infos = []
        for c in codes.tolist():
            if (yq, c) not in orbits:
                orbits[yq, c] = _orbit_ball(c, yq, k, ball2, k2, jc)
            infos.append(orbits[yq, c])
        if R.size * pool_size > CELL_BUDGET:  # _restricted_pool keeps whole classes
            cnt = np.stack([np.bincount(pos[pos >= 0], minlength=jc.size) for _, pos in infos])
            take = _take_classes(cnt.astype(np.float64), js, n_j, int(R.size), CELL_BUDGET)
        else:
            take = np.ones(jc.size, dtype=bool)
        row_orbit[R] = len(kept) + inv.reshape(-1)
        for B, pos in infos:
            kept.append(B[(pos >= 0) & take[np.maximum(pos, 0)]] if jc.size else B[:0])
        width[j] = max(b.shape[0] for b in kept[-len(infos) :])
    ft = np.float32 if k2**n <= 2**24 else np.float64
    it = np.int32 if k2**n < 2**31 else np.int64
    power = (k2 ** np.arange(n - 1, -1, -1, dtype=np.int64)).astype(ft)
    table = np.empty(k2**n, dtype=np.int32) if k2**n <= 2**26 else None
    zs: list[np.ndarray] = []
    j0 = 0
    while j0 < groups:  # batches of whole cells
        j1, wmax = j0 + 1, int(width[j0])
        while j1 < groups:
            w = max(wmax, int(width[j1]))
            if (rstart[j1 + 1] - rstart[j0]) * w > CELL_ENTRIES:
                break
            j1, wmax = j1 + 1, w
        rows = by_cell[rstart[j0] : rstart[j1]]
        cell = assign[rows] - j0
        key = Y[assign[rows]].astype(np.int32) * k + T[rows]
        P = power[np.argsort(key, axis=1, kind="stable")]  # canonical position -> weight
        E = np.full((rows.size, max(wmax, 1)), -1, dtype=it)
        orb = row_orbit[rows]
        by_orb = np.argsort(orb, kind="stable")
        ostart = np.flatnonzero(np.r_[True, orb[by_orb][1:] != orb[by_orb][:-1], True])
        for a, b in zip(ostart[:-1].tolist(), ostart[1:].tolist(), strict=True):
            B = kept[int(orb[by_orb[a]])]
            if B.shape[0]:
                sel = by_orb[a:b]
                E[sel, : B.shape[0]] = P[sel] @ B.T.astype(ft)  # exact integer indices
        # per cell: its candidates, numbered in increasing order after the earlier cells'
        # (E becomes the column matrix in place)
        cand: list[np.ndarray] = []
        col_group: list[np.ndarray] = []
        off = 0
        cs = np.searchsorted(cell, np.arange(j1 - j0 + 1))
        for g in range(j1 - j0):
            part = E[cs[g] : cs[g + 1]]
            ok = part >= 0
            v = part[ok]
            u = np.sort(v)  # np.unique, by a plain sort (no hashing)
            u = u[np.r_[True, u[1:] != u[:-1]]] if u.size else u
            if table is not None:
                table[u] = np.arange(off, off + u.size, dtype=np.int32)
                part[ok] = table[v]
            else:
                part[ok] = off + np.searchsorted(u, v)
            cand.append(u)
            col_group.append(np.full(u.size, g, dtype=np.int64))
            off += u.size
        cols = E
        del E
        allc = np.concatenate(cand) if cand else np.zeros(0, dtype=np.int64)
        picks = _greedy_groups(
            cols, cell, np.concatenate(col_group) if col_group else allc, j1 - j0
        )
        zs += [_decode(allc[p], n, k2, T.dtype).astype(np.int64) for p in picks]
        j0 = j1
    return zs


@dataclasses.dataclass
class SuccessiveRefinementCipher:
    """A built code (see the module docstring); create with :meth:`build`."""

    p: np.ndarray
    d1: np.ndarray
    d2: np.ndarray
    n: int
    D1: float
    D2: float
    r1: float
    r2: float
    alpha: float
    key_bits: tuple[int, int]
    types: list[tuple[int, ...]]  # typical types (count vectors), index = type field of m1
    book_y: list[np.ndarray]  # per type: first-layer codewords (rows)
    book_z: list[list[np.ndarray]]  # per type, per first-layer codeword: second-layer words
    fallback: tuple[np.ndarray, np.ndarray]  # reproductions of m0
    _assigned: tuple | None = dataclasses.field(default=None, init=False, repr=False, compare=False)
    _cache: dict = dataclasses.field(default_factory=dict, init=False, repr=False, compare=False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def build(
        cls,
        p: ArrayLike,
        d1: ArrayLike | str,
        d2: ArrayLike | str,
        *,
        n: int,
        D1: float,
        D2: float,
        r1: float,
        r2: float,
        alpha: float,
        delta: float = 0.0,
    ) -> SuccessiveRefinementCipher:
        r"""Build the code of Section IV for blocklength ``n``.

        ``alpha`` and ``delta`` (bits) define the typical types :math:`D(Q\|P) \le \alpha
        + \delta` (eq. (53)); key rates ``r1``, ``r2`` (bits per symbol) give keys of
        :math:`\lfloor n r_i \rfloor` bits. The covering codebooks are deterministic
        (greedy set cover, ties to the lexicographically first sequence). They are
        built per typical type class: only its blocks are enumerated, each block's
        candidates are its distortion ball (the ball of the sorted block of the type,
        permuted), and the candidate restrictions depend on types and joint types only;
        the code is the one the dense cover matrices over all ``k^n`` blocks give.

        Parameters
        ----------
        p : array-like
            Source distribution (sums to 1; zeros allowed).
        d1, d2 : array-like or {"hamming", "abs", "squared"}
            Distortion matrices of the two layers (one row per source letter).
        n : int
            Blocklength, ``1 <= n`` with ``k**n <= MAX_SEQUENCES`` (2**24) for the largest
            alphabet ``k`` of ``p``, ``d1`` and ``d2`` (binary: ``n <= 24``, ternary:
            ``n <= 15``), and ``n <= 63``. Checked before anything is computed; a cover
            matrix above ``DENSE_LIMIT`` entries is refused before it is allocated. The
            time grows fast with ``n`` (2 cores, ``benchmarks/bench_cipher.py``'s
            levels: binary n = 24 ~45 s, ternary n = 15 ~5 min, both under 1.5 GB).
        D1, D2 : float
            Distortion levels (finite, >= 0).
        r1, r2 : float
            Key rates in bits per symbol (finite, >= 0); each ``floor(n r_i)`` must be at
            most ``MAX_KEY_BITS`` (62).
        alpha, delta : float
            Exponent and slack of the typical set (finite, >= 0).

        Returns
        -------
        SuccessiveRefinementCipher

        Raises
        ------
        InvalidDistributionError
            ``p`` is not a probability vector.
        InvalidParameterError
            A distortion matrix, level, rate or ``n`` is invalid or above its limit, or a
            block has no reproduction within ``D1``/``D2``.
        """
        fn = "SuccessiveRefinementCipher.build"
        pv, d1v, d2v, n, lv, kb = _build_parameters(
            p, d1, d2, n, D1, D2, r1, r2, alpha, delta, func=fn
        )
        D1, D2, r1, r2, alpha, delta = (lv[k] for k in ("D1", "D2", "r1", "r2", "alpha", "delta"))
        k = pv.size
        metric = _is_metric(d1v, d2v)
        dense = _DenseCovers(d1v, d2v, n, D1, D2, metric)
        cache: dict = {}
        types, book_y, book_z = [], [], []
        with np.errstate(divide="ignore"):
            logp = np.log2(pv)
        for Q in _types(n, k):
            q = np.asarray(Q, float) / n
            on = q > 0
            kl = float(np.sum(q[on] * (np.log2(q[on]) - logp[on])))
            if kl > alpha + delta + 1e-12:
                continue
            books = _sparse_books(Q, d1v, d2v, n, D1, D2, metric, cache)
            Y, zs = books if books is not None else dense(Q)
            types.append(Q)
            book_y.append(Y.astype(np.int64))
            book_z.append(zs)
        # m0 reproduces the best constant sequences
        fb = (
            np.full(n, int(np.argmin(pv @ d1v)), dtype=np.int64),
            np.full(n, int(np.argmin(pv @ d2v)), dtype=np.int64),
        )
        return cls(
            p=pv,
            d1=d1v,
            d2=d2v,
            n=n,
            D1=float(D1),
            D2=float(D2),
            r1=float(r1),
            r2=float(r2),
            alpha=float(alpha),
            key_bits=kb,
            types=types,
            book_y=book_y,
            book_z=book_z,
            fallback=fb,
        )

    # ------------------------------------------------------------------ coding
    def _locate(self, x: np.ndarray):
        """(type index, y index, z index) of a typical x, or None."""
        k = self.p.size
        Q = tuple(int((x == a).sum()) for a in range(k))
        try:
            t = self.types.index(Q)
        except ValueError:
            return None
        j = int(np.argmax(_covers(x[None, :], self.book_y[t], self.d1, self.D1)[0]))
        w = int(np.argmax(_covers(x[None, :], self.book_z[t][j], self.d2, self.D2)[0]))
        return t, j, w

    def _type_rows(self, ti: int) -> tuple[np.ndarray, ...]:
        """The blocks of typical type ``ti`` (its type class, lexicographic, never all
        ``k^n`` blocks) and, for each, what :meth:`_locate` returns and the two distortion
        sums under correct keys: ``(T, j, w, e1, e2)``. Raises :class:`_CoverGap` if a
        block has no reproduction within a level (never for a built code)."""
        Q, Y, zs = self.types[ti], self.book_y[ti], self.book_z[ti]
        k = self.p.size
        T = _type_class(
            Q, np.int8 if max(k, self.d1.shape[1], self.d2.shape[1]) < 128 else np.int64
        )
        jt = _first_cover(T, Y, self.d1, self.D1)
        if jt.min(initial=0) < 0:
            raise _CoverGap("book_y", ti, Q, T[int(np.argmin(jt))], "D1", self.D1)
        e1 = _row_sums(self.d1, T, Y, jt)
        w = np.zeros(T.shape[0], dtype=np.int64)
        e2 = np.zeros(T.shape[0])
        order = np.argsort(jt, kind="stable")  # the cells, each in increasing row order
        start = np.searchsorted(jt[order], np.arange(len(Y) + 1))
        for jj in np.flatnonzero(start[1:] > start[:-1]).tolist():  # codewords, not letters
            sel = order[start[jj] : start[jj + 1]]
            Z = zs[jj]
            wt = _first_cover(T[sel], Z, self.d2, self.D2)
            if wt.min(initial=0) < 0:
                raise _CoverGap("book_z", ti, Q, T[sel[int(np.argmin(wt))]], "D2", self.D2)
            w[sel] = wt
            e2[sel] = _row_sums(self.d2, T[sel], Z, wt)
        return T, jt, w, e1, e2

    def _typewise(self) -> dict:
        r"""The code's exact figures per typical type class (computed once per code, one
        type class at a time: memory of the largest class, not of all ``k^n`` blocks).

        Returns a dict with, per typical type, the probability of each of its blocks
        ``px``, the sums of both distortion sums over its blocks, the number of
        first-layer bins its blocks use and its term of :math:`2^{L(X^n \to M_1 M_2)}`:
        for each (bin ``i``, second-layer bin ``u``) its blocks use, with
        :math:`\sigma_1 < \dots < \sigma_r` the distinct key bits ``s2`` they use,
        :math:`\sum_c \max_x P(i, a, u, c | x) 2^{s_1} = 1 + \sum_{l \ge 2} (1 -
        2^{\sigma_{l-1} - \sigma_l})` (a masked index ``c`` can only come from the blocks
        with :math:`c < 2^{s_2}`, each with probability :math:`2^{-s_1 - s_2}`)."""
        if "typewise" in self._cache:
            return self._cache["typewise"]
        b1, b2 = 1 << self.key_bits[0], 1 << self.key_bits[1]
        with np.errstate(divide="ignore"):
            logp = np.log(self.p)
        out = {"px": [], "e1": [], "e2": [], "bins1": [], "term12": []}
        for ti, Q in enumerate(self.types):
            _, j, w, e1, e2 = self._type_rows(ti)
            lz = np.array([len(Z) for Z in self.book_z[ti]], dtype=np.int64)[j]
            u = w // b2
            s2 = _sbits_array(np.minimum(b2, lz - u * b2))
            i = j // b1
            key = np.unique((i * (int(lz.max(initial=1)) + 1) + u) * 64 + s2)
            grp, s = key // 64, key % 64  # sorted: by group, then s2 increasing
            same = grp[1:] == grp[:-1]
            term = np.unique(grp).size + float(np.sum(1.0 - np.exp2(s[:-1] - s[1:])[same]))
            on = np.asarray(Q) > 0
            out["px"].append(math.exp(float(np.asarray(Q)[on] @ logp[on])))
            out["e1"].append(float(e1.sum()))
            out["e2"].append(float(e2.sum()))
            out["bins1"].append(int(np.unique(i).size))
            out["term12"].append(term)
        self._cache["typewise"] = out
        return out

    def _atypical(self):
        """Yield ``(probability of the type class, type)`` for every atypical type of
        positive probability (closed forms, no blocks enumerated)."""
        typical = set(self.types)
        for Q in _types(self.n, self.p.size):
            if Q in typical or any(c and pk == 0 for c, pk in zip(Q, self.p, strict=True)):
                continue
            logsize = gammaln(self.n + 1) - sum(gammaln(c + 1) for c in Q)
            logp = sum(c * math.log(pk) for c, pk in zip(Q, self.p, strict=True) if c)
            yield math.exp(logsize + logp), Q

    def _assignment(self) -> tuple[np.ndarray, ...]:
        """For every block of ``X^n`` (lexicographic): its probability, type index ``t``
        (-1 when atypical), first-layer index ``j``, second-layer index ``w`` (what
        :meth:`_locate` returns, for all blocks at once), and the two distortion sums of
        its reproductions under correct keys. Enumerates all ``k^n`` blocks: only
        :meth:`message_channels` (a matrix over them) needs it; the other figures are
        computed per type class (:meth:`_typewise`). Raises :class:`_CoverGap` if a
        typical block has no reproduction within a level."""
        if self._assigned is not None:
            return self._assigned
        n, k = self.n, self.p.size
        X = _all_sequences(n, k, np.int8 if k < 128 else np.int64)
        px = np.prod(self.p[X], axis=1)
        t = np.full(X.shape[0], -1, dtype=np.int64)
        j = np.zeros(X.shape[0], dtype=np.int64)
        w = np.zeros(X.shape[0], dtype=np.int64)
        e1 = self.d1[X, self.fallback[0][None, :]].sum(axis=1)
        e2 = self.d2[X, self.fallback[1][None, :]].sum(axis=1)
        power = k ** np.arange(n - 1, -1, -1, dtype=np.int64)
        for ti in range(len(self.types)):
            T, jt, wt, f1, f2 = self._type_rows(ti)
            rows = T.astype(np.int64) @ power  # the blocks' indices in X
            t[rows], j[rows], w[rows], e1[rows], e2[rows] = ti, jt, wt, f1, f2
        self._assigned = (px, t, j, w, e1, e2)
        return self._assigned

    def _s1(self, t: int, i: int) -> int:
        """Key bits used by bin ``i`` of type ``t``'s first-layer codebook."""
        b = 1 << self.key_bits[0]
        return _sbits(min(b, len(self.book_y[t]) - i * b))

    def _s2(self, Z: np.ndarray, u: int) -> int:
        """Key bits used by bin ``u`` of a second-layer codebook ``Z`` (the last bin for a
        ``u`` past it: what a wrong first-layer key leads to)."""
        b = 1 << self.key_bits[1]
        nb = max(-(-len(Z) // b), 1)
        return _sbits(max(min(b, len(Z) - min(u, nb - 1) * b), 0))

    def _first(self, m1: tuple[int, int, int], k1: np.ndarray) -> tuple[int, int]:
        """(type, first-layer codeword index) that a valid ``m1`` and ``k1`` decode to."""
        t, i, jm = m1
        j = i * 2 ** self.key_bits[0] + (jm ^ _key_value(k1, self._s1(t, i)))
        return t, min(j, len(self.book_y[t]) - 1)

    def _block(self, x, *, func: str, name: str) -> np.ndarray:
        k = self.p.size
        req = f"be a source block: a 1-D array of {self.n} integer letters in 0..{k - 1}"
        xa = _int_vector(x, func=func, name=name, requirement=req, lo=0, hi=k - 1)
        if xa.size != self.n:
            raise _refuse(func, name, req, _count(xa.size, "letter"))
        return xa

    def _key(self, key, layer: int, *, func: str, name: str) -> np.ndarray:
        bits = self.key_bits[layer]
        req = f"be a key of {bits} bits (a 1-D array of 0s and 1s)"
        ka = _int_vector(key, func=func, name=name, requirement=req, lo=0, hi=1)
        if ka.size != bits:
            raise _refuse(func, name, req, _count(ka.size, "bit"))
        return ka

    def _stream_key(self, key, blocks: int, layer: int, *, func: str, name: str) -> np.ndarray:
        bits = self.key_bits[layer]
        req = "be a 1-D array of key bits (0s and 1s)"
        ka = _int_vector(key, func=func, name=name, requirement=req, lo=0, hi=1)
        need = blocks * bits
        if ka.size < need:
            raise _refuse(
                func,
                name,
                f"hold at least {need} key bits ({bits} per block for {blocks} block(s): "
                "fresh key bits for every block)",
                _count(ka.size, "bit"),
                "Supply a longer key.",
            )
        return ka

    def _m1(self, m1, *, func: str, name: str, lead: str, where: str = ""):
        """A first-layer message this code can emit, as ``(t, i, a)``; None for m0."""
        v = _as_tuple(m1, 3)
        got = f"m1 = {_show(m1)}{where}"
        if v is None:
            detail = "m1 = (type, bin, masked index): three integers, as returned by encode"
            raise _refuse(func, name, f"{lead} ({detail})", got)
        if v == (-1, -1, -1):
            return None
        t, i, a = v
        T = len(self.types)
        if not 0 <= t < T:
            detail = f"a type index in 0..{T - 1}, or m0 = (-1, -1, -1)" if T else "only m0"
            raise _refuse(func, name, f"{lead} ({detail})", got)
        nb = -(-len(self.book_y[t]) // (1 << self.key_bits[0]))
        if not 0 <= i < nb:
            raise _refuse(func, name, f"{lead} (a bin index in 0..{nb - 1} for type {t})", got)
        s = self._s1(t, i)
        if not 0 <= a < 2**s:
            detail = f"a masked index in 0..{2**s - 1} for bin {i} of type {t}"
            raise _refuse(func, name, f"{lead} ({detail})", got)
        return v

    def _m2(self, m2, m1v, *, func: str, name: str, lead: str, where: str = ""):
        """A second-layer message this code can emit after ``m1v``, as ``(u, c)``: ``u``
        and ``c`` in range for some codeword of the first-layer bin (the key decides
        which); None for m0."""
        v = _as_tuple(m2, 2)
        got = f"m2 = {_show(m2)}{where}"
        if v is None:
            detail = "m2 = (bin, masked index): two integers, as returned by encode"
            raise _refuse(func, name, f"{lead} ({detail})", got)
        if m1v is None:
            if v != (-1, -1):
                raise _refuse(func, name, f"{lead} (m2 = (-1, -1) after m0)", got)
            return None
        t, i, _ = m1v
        b1, b2 = 1 << self.key_bits[0], 1 << self.key_bits[1]
        cache = self._cache.setdefault("zlen", {})
        if t not in cache:
            cache[t] = np.array([len(Z) for Z in self.book_z[t]], dtype=np.int64)
        lens = cache[t][min(i * b1, cache[t].size) : min((i + 1) * b1, cache[t].size)]
        L = int(lens.max(initial=0))  # the longest codebook of the bin has the most bins
        nb = -(-L // b2)
        u, c = v
        if not 0 <= u < nb:
            detail = f"a second-layer bin index in 0..{nb - 1} after bin {i} of type {t}"
            raise _refuse(func, name, f"{lead} ({detail})", got)
        s = _sbits(min(b2, L - u * b2))
        if not 0 <= c < 2**s:
            detail = f"a masked index in 0..{2**s - 1} for second-layer bin {u}"
            raise _refuse(func, name, f"{lead} ({detail})", got)
        return v

    def encode(self, x: ArrayLike, k1: ArrayLike, k2: ArrayLike) -> tuple[tuple, tuple]:
        """Eqs. (54)–(55) and (58): ``(m1, m2)`` for one block and its key bits.

        Parameters
        ----------
        x : array-like
            A source block: ``n`` integer letters in ``0..len(p)-1`` (1-D; floats are
            accepted only when they hold exact integers).
        k1, k2 : array-like
            Exactly ``key_bits[0]`` and ``key_bits[1]`` key bits (0s and 1s).

        Returns
        -------
        m1, m2 : tuple
            ``m1 = (type, bin, masked index)``, ``m2 = (bin, masked index)``;
            ``(-1, -1, -1)`` and ``(-1, -1)`` for an atypical block.

        Raises
        ------
        InvalidParameterError
            A letter is not an integer in range, a key bit is not 0/1, or a length is
            wrong.
        """
        fn = "SuccessiveRefinementCipher.encode"
        xa = self._block(x, func=fn, name="x")
        return self._encode(
            xa, self._key(k1, 0, func=fn, name="k1"), self._key(k2, 1, func=fn, name="k2")
        )

    def _encode(self, xa: np.ndarray, k1: np.ndarray, k2: np.ndarray) -> tuple[tuple, tuple]:
        loc = self._locate(xa)
        if loc is None:
            return (-1, -1, -1), (-1, -1)
        t, j, w = loc
        b1, b2 = 2 ** self.key_bits[0], 2 ** self.key_bits[1]
        i, jj = divmod(j, b1)
        s1 = self._s1(t, i)
        u, vv = divmod(w, b2)
        s2 = self._s2(self.book_z[t][j], u)
        m1 = (t, i, jj ^ _key_value(k1, s1))
        m2 = (u, vv ^ _key_value(k2, s2))
        return m1, m2

    def decode1(self, m1: tuple, k1: ArrayLike) -> np.ndarray:
        """Eq. (56): the first-layer reproduction.

        Parameters
        ----------
        m1 : tuple of int
            A first-layer message this code can emit (``(-1, -1, -1)`` for m0).
        k1 : array-like
            Exactly ``key_bits[0]`` key bits (a wrong key decodes to a wrong codeword).

        Returns
        -------
        ndarray
            ``n`` letters of the first reproduction alphabet.

        Raises
        ------
        InvalidParameterError
            ``m1`` holds an index out of range (negative, past the type's bins or past the
            bin's masked indices) or is not three integers, or the key is invalid.
        """
        fn = "SuccessiveRefinementCipher.decode1"
        m1v = self._m1(m1, func=fn, name="m1", lead="be a first-layer message this code can emit")
        return self._decode1(m1v, self._key(k1, 0, func=fn, name="k1"))

    def _decode1(self, m1v, k1: np.ndarray) -> np.ndarray:
        if m1v is None:
            return self.fallback[0].copy()
        t, j = self._first(m1v, k1)
        return self.book_y[t][j].copy()

    def decode2(self, m1: tuple, m2: tuple, k1: ArrayLike, k2: ArrayLike) -> np.ndarray:
        """Eq. (57): the second-layer reproduction.

        Parameters
        ----------
        m1, m2 : tuple of int
            A message pair this code can emit (``m2 = (-1, -1)`` after m0).
        k1, k2 : array-like
            Exactly ``key_bits[0]`` and ``key_bits[1]`` key bits.

        Returns
        -------
        ndarray
            ``n`` letters of the second reproduction alphabet.

        Raises
        ------
        InvalidParameterError
            A message holds an index out of range or is malformed, or a key is invalid.
        """
        fn = "SuccessiveRefinementCipher.decode2"
        lead = "be a message this code can emit"
        m1v = self._m1(m1, func=fn, name="m1", lead=lead)
        m2v = self._m2(m2, m1v, func=fn, name="m2", lead=lead)
        k1a = self._key(k1, 0, func=fn, name="k1")
        return self._decode2(m1v, m2v, k1a, self._key(k2, 1, func=fn, name="k2"))

    def _decode2(self, m1v, m2v, k1: np.ndarray, k2: np.ndarray) -> np.ndarray:
        if m1v is None:
            return self.fallback[1].copy()
        t, j = self._first(m1v, k1)
        Z = self.book_z[t][j]
        if len(Z) == 0:
            return self.fallback[1].copy()
        u, vm = m2v
        w = u * 2 ** self.key_bits[1] + (vm ^ _key_value(k2, self._s2(Z, u)))
        return Z[min(w, len(Z) - 1)].copy()

    # ------------------------------------------------------------------ streams
    def encrypt(self, source: ArrayLike, key1: ArrayLike, key2: ArrayLike) -> list[tuple]:
        """Encode a stream of letters block by block with fresh key bits per block.

        Parameters
        ----------
        source : array-like
            1-D integer letters in ``0..len(p)-1``, a positive multiple of ``n`` of them
            (floats only when they hold exact integers: nothing is truncated).
        key1, key2 : array-like
            1-D key bits (0s and 1s), at least ``blocks * key_bits[i]`` of them, used in
            order and never reused (extra bits are ignored).

        Returns
        -------
        list of tuple
            One ``(m1, m2)`` pair per block.

        Raises
        ------
        InvalidParameterError
            A letter or key bit is invalid, the source is not a positive multiple of
            ``n`` letters, or a key is too short.
        """
        fn = "SuccessiveRefinementCipher.encrypt"
        k, n = self.p.size, self.n
        src = _int_vector(
            source,
            func=fn,
            name="source",
            requirement=f"be a 1-D array of integer letters in 0..{k - 1}",
            lo=0,
            hi=k - 1,
        )
        if src.size == 0 or src.size % n:
            raise _refuse(
                fn,
                "source",
                f"hold a positive multiple of the blocklength n = {n} letters",
                _count(src.size, "letter"),
                "Pad or trim it.",
            )
        blocks = src.size // n
        k1 = self._stream_key(key1, blocks, 0, func=fn, name="key1")
        k2 = self._stream_key(key2, blocks, 1, func=fn, name="key2")
        b1, b2 = self.key_bits
        return [
            self._encode(
                src[i * n : (i + 1) * n], k1[i * b1 : (i + 1) * b1], k2[i * b2 : (i + 1) * b2]
            )
            for i in range(blocks)
        ]

    def decrypt(self, messages, key1: ArrayLike, key2: ArrayLike):
        """Both layers' reproductions of a message stream.

        Parameters
        ----------
        messages : list of (m1, m2)
            Message pairs as returned by :meth:`encrypt` (lists instead of tuples, as read
            back from JSON, are accepted).
        key1, key2 : array-like
            The key bits used by :meth:`encrypt` (at least ``len(messages) *
            key_bits[i]`` of them).

        Returns
        -------
        y, z : ndarray
            The first- and second-layer reproductions, ``n`` letters per block,
            concatenated.

        Raises
        ------
        InvalidParameterError
            ``messages`` is not a list of pairs, a message holds an index this code never
            emits (e.g. a negative one), or a key is invalid or too short.
        """
        fn = "SuccessiveRefinementCipher.decrypt"
        if not isinstance(messages, (list, tuple)):
            raise _refuse(
                fn,
                "messages",
                "be a list of (m1, m2) pairs as returned by encrypt",
                _show(messages),
            )
        blocks = len(messages)
        k1 = self._stream_key(key1, blocks, 0, func=fn, name="key1")
        k2 = self._stream_key(key2, blocks, 1, func=fn, name="key2")
        b1, b2 = self.key_bits
        lead = "hold only message pairs this code can emit"
        y, z = [], []
        for i, msg in enumerate(messages):
            where = f" in block {i}"
            if not isinstance(msg, (list, tuple)) or len(msg) != 2:
                raise _refuse(fn, "messages", f"{lead} ((m1, m2) pairs)", f"{_show(msg)}{where}")
            m1v = self._m1(msg[0], func=fn, name="messages", lead=lead, where=where)
            m2v = self._m2(msg[1], m1v, func=fn, name="messages", lead=lead, where=where)
            kk1, kk2 = k1[i * b1 : (i + 1) * b1], k2[i * b2 : (i + 1) * b2]
            y.append(self._decode1(m1v, kk1))
            z.append(self._decode2(m1v, m2v, kk1, kk2))
        empty = np.zeros(0, dtype=np.int64)
        return (np.concatenate(y) if y else empty, np.concatenate(z) if z else empty)

    # ------------------------------------------------------------------ files
    def to_dict(self) -> dict:
        """The code as a JSON-ready dict (what :meth:`save` writes); its ``"format"``
        field names the file format and its version (``FORMAT_VERSION``)."""
        from .. import __version__

        return {
            "format": _FORMAT,
            "library_version": __version__,
            "p": self.p.tolist(),
            "d1": self.d1.tolist(),
            "d2": self.d2.tolist(),
            "n": self.n,
            "D1": self.D1,
            "D2": self.D2,
            "r1": self.r1,
            "r2": self.r2,
            "alpha": self.alpha,
            "key_bits": list(self.key_bits),
            "types": [list(t) for t in self.types],
            "book_y": [Y.tolist() for Y in self.book_y],
            "book_z": [[Z.tolist() for Z in zs] for zs in self.book_z],
            "fallback": [self.fallback[0].tolist(), self.fallback[1].tolist()],
        }

    def save(self, path) -> None:
        """Write the code as JSON, atomically (a failed write leaves no partial file)."""
        import json

        from ..io import atomic_write

        with atomic_write(path) as f:
            json.dump(self.to_dict(), f)
            f.write("\n")

    @classmethod
    def load(cls, path) -> SuccessiveRefinementCipher:
        """Read a code written by :meth:`save`, checking every field.

        The parameters (``p``, ``d1``, ``d2``, ``n``, ``D1``, ``D2``, ``r1``, ``r2``,
        ``alpha``) go through the same checks as the arguments of :meth:`build` (the same
        limits on ``n`` and the key bits); ``key_bits`` must be the ones they give;
        ``types`` must be distinct source types of length ``n``; every codeword must
        hold ``n`` letters of its alphabet (no book larger than its type class); and every
        typical block must be reproduced within ``D1`` and ``D2``, as by a built code.

        Parameters
        ----------
        path : str or os.PathLike
            A file written by :meth:`save` (format version ``FORMAT_VERSION``).

        Returns
        -------
        SuccessiveRefinementCipher

        Raises
        ------
        InvalidParameterError
            The file cannot be read, is not JSON, is not a code file, has another format
            version (the message names the one this library writes), misses a field or
            holds an invalid one.
        InvalidDistributionError
            Its ``p`` is not a probability vector.
        """
        import json

        fn = "SuccessiveRefinementCipher.load"
        if not isinstance(path, (str, bytes, os.PathLike)):
            raise _refuse(
                fn,
                "path",
                "be the path (str or os.PathLike) of a file written by "
                "SuccessiveRefinementCipher.save",
                _show(path),
            )
        shown = f"'{os.fsdecode(os.fspath(path))}'"
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError, RecursionError) as exc:
            raise _refuse(
                fn,
                "path",
                "name a readable JSON file written by SuccessiveRefinementCipher.save",
                f"{shown} ({type(exc).__name__}: {exc})",
            ) from exc
        return cls._from_dict(data, func=fn, where=shown)

    @classmethod
    def _from_dict(cls, data, *, func: str, where: str) -> SuccessiveRefinementCipher:
        """A code from the dict :meth:`to_dict` returns, checked field by field."""
        fmt = data.get("format") if isinstance(data, dict) else None
        if not isinstance(fmt, str) or not fmt.startswith(_FORMAT_NAME + "/"):
            kind = "a JSON object" if isinstance(data, dict) else f"a JSON {type(data).__name__}"
            raise _refuse(
                func,
                "path",
                f'name a cipher code file (a JSON object with "format": "{_FORMAT}", '
                "written by SuccessiveRefinementCipher.save)",
                f"{where}, which is not a cipher code file ({kind} with format {fmt!r})",
            )
        version = fmt[len(_FORMAT_NAME) + 1 :]
        if version != str(FORMAT_VERSION):
            lib = data.get("library_version")
            by = f", written by leakage {lib}" if isinstance(lib, str) else ""
            raise _refuse(
                func,
                "path",
                f"name a code file of format version {FORMAT_VERSION}, the version this "
                f'library reads and writes ("format": "{_FORMAT}")',
                f"{where} of format version {version!r}{by}",
                "Read it with the version of leakage that wrote it, or build the code "
                "again with this one.",
            )
        missing = [f for f in _FIELDS if f not in data]
        if missing:
            raise _refuse(
                func,
                "path",
                f"name a code file with the fields {', '.join(_FIELDS)}",
                f"{where} without {', '.join(repr(m) for m in missing)}",
                _REBUILD,
            )
        with _file_fields(func, where):
            pv, d1v, d2v, n, lv, kb = _build_parameters(
                *(data[f] for f in ("p", "d1", "d2", "n", "D1", "D2", "r1", "r2", "alpha")),
                0.0,
                func=func,
            )
            types, book_y, book_z, fb = _code_fields(data, pv.size, d1v, d2v, n, kb, func, where)
        code = cls(
            p=pv,
            d1=d1v,
            d2=d2v,
            n=n,
            D1=lv["D1"],
            D2=lv["D2"],
            r1=lv["r1"],
            r2=lv["r2"],
            alpha=lv["alpha"],
            key_bits=kb,
            types=types,
            book_y=book_y,
            book_z=book_z,
            fallback=fb,
        )
        try:
            code._typewise()  # every typical block reproduced within both levels
        except _CoverGap as exc:
            raise _field_error(func, where, exc.field, exc.requirement, exc.got) from exc
        return code

    # ------------------------------------------------------------------ exact figures
    def message_channels(self) -> tuple[sparse.csr_array, sparse.csr_array, np.ndarray]:
        """The exact channels ``P(M1 | X^n)`` and ``P(M1 M2 | X^n)`` over all ``|X|^n``
        blocks (keys uniform), as sparse matrices, and the block probabilities.

        A typical block in bin ``i`` of its type's first-layer book sends ``(t, i, a)``
        for each of the :math:`2^{s_1}` masked indices ``a`` (the key is uniform, so
        each with probability :math:`2^{-s_1}`), and likewise ``(u, c)`` on the second
        layer; an atypical block sends ``m0``. Columns are the distinct messages. This
        enumerates all ``k^n`` blocks; :meth:`leakage` gives the same figures per type
        class without it.

        Raises
        ------
        InvalidParameterError
            The second channel would hold more than ``MAX_ENTRIES`` (2**27) nonzero
            entries (one per block and masked-index pair): checked before allocating.
        """
        px, t, j, w, _, _ = self._assignment()
        N = px.size
        b1, b2 = 2 ** self.key_bits[0], 2 ** self.key_bits[1]
        typ = t >= 0
        tt = np.where(typ, t, 0)
        len_y = np.array([len(Y) for Y in self.book_y] or [0], dtype=np.int64)
        bins_y = -(-len_y // b1)  # bins per type
        off_y = np.concatenate([[0], np.cumsum(bins_y)])
        zoff = np.concatenate([[0], np.cumsum([len(zs) for zs in self.book_z])]).astype(np.int64)
        len_z = np.array([len(Z) for zs in self.book_z for Z in zs] or [0], dtype=np.int64)
        i = j // b1
        s1 = _sbits_array(np.minimum(b1, len_y[tt] - i * b1))
        lz = len_z[np.where(typ, zoff[tt] + j, 0)]
        u = w // b2
        s2 = _sbits_array(np.minimum(b2, lz - u * b2))
        s1, s2 = np.where(typ, s1, 0), np.where(typ, s2, 0)
        entries = int(np.left_shift(np.int64(1), s1 + s2).sum())
        if entries > MAX_ENTRIES:
            raise InvalidParameterError(
                f"SuccessiveRefinementCipher.message_channels: the code's channel "
                f"P(M1 M2 | X^n) has {entries:,} entries (one per block and masked-index "
                f"pair), above the limit of {MAX_ENTRIES:,} entries. Build the code with "
                "smaller key rates r1, r2 or a smaller n."
            )
        bin1 = np.where(typ, off_y[tt] + i, -1)  # a global index of (type, bin); -1 is m0
        # widths of the column keys: what the masked indices use, not the key sizes, so
        # that no key overflows int64 whatever the key bits
        B1 = 1 << int(s1.max(initial=0))
        B2 = 1 << int(s2.max(initial=0))
        n_u = int(-(-len_z.max() // b2)) if len_z.size else 1

        def channel(nbits, key):
            reps = 2**nbits
            rows = np.repeat(np.arange(N), reps)
            start = np.cumsum(reps) - reps
            sub = np.arange(rows.size) - np.repeat(start, reps)  # masked index bits
            keys = key(rows, sub)
            uniq, cols = np.unique(keys, return_inverse=True)
            vals = np.repeat(2.0 ** -nbits.astype(np.float64), reps)
            W = sparse.csr_array((vals, (rows, cols)), shape=(N, int(cols.max()) + 1))
            return W, uniq

        def key1(r, a):
            return (bin1[r] + 1) * B1 + a

        W1, uniq1 = channel(s1, key1)

        def key12(r, s):
            a, c = s >> s2[r], s & (2 ** s2[r] - 1)
            c1 = np.searchsorted(uniq1, key1(r, a))  # the column of m1: < 2**27
            return ((c1 * (n_u + 1) + np.where(typ[r], u[r], -1) + 1) * B2) + c

        return W1, channel(s1 + s2, key12)[0], px

    def leakage(self, *, base: float = 2) -> tuple[float, float]:
        r""":math:`(L(X^n \to M_1), L(X^n \to M_1 M_2))` exactly, by Definition 2 (eq. (6))
        on the code's message channels (not normalized by ``n``), per type class.

        :math:`2^{L} = \sum_m \max_{x:\,P(x) > 0} P(m | x)` (base 2). A block in bin
        ``i`` of type ``t`` sends each of the :math:`2^{s_1}` masked indices with
        probability :math:`2^{-s_1}`, so the first layer's sum is the number of (type,
        bin) pairs its blocks use, plus 1 for :math:`m_0` when an atypical block has
        positive probability; the second layer's is the sum of the terms described in
        :meth:`_typewise`, plus the same 1. Only typical type classes are enumerated
        (what :func:`leakage.measures.maximal_leakage` on :meth:`message_channels` gives,
        without its ``k^n`` rows)."""
        tw = self._typewise()
        m0 = 1 if next(self._atypical(), None) is not None else 0
        s1 = float(sum(tw["bins1"]) + m0)
        s12 = float(sum(tw["term12"]) + m0)
        return math.log(s1) / math.log(base), math.log(s12) / math.log(base)

    def jep(self) -> float:
        r"""The joint excess-distortion probability :math:`P_e^n(D_1, D_2)` (eq. (5)),
        exactly: every typical block is reproduced within both levels by construction, so
        it is the probability of the atypical types (plus any atypical block that the
        fallback happens to reproduce within both levels is counted correctly)."""
        total = 0.0
        fb1, fb2 = self.fallback
        for prob, Q in self._atypical():
            # the fallback is constant (as built; load checks it): its distortion depends
            # only on the type
            e1 = sum(c * self.d1[a, fb1[0]] for a, c in enumerate(Q))
            e2 = sum(c * self.d2[a, fb2[0]] for a, c in enumerate(Q))
            if e1 > self.D1 * self.n + 1e-9 or e2 > self.D2 * self.n + 1e-9:
                total += prob
        return total

    def expected_distortions(self) -> tuple[float, float]:
        r"""Exact :math:`(E d_1(X^n, \hat X_1^n), E d_2(X^n, \hat X_2^n))` with correct keys
        (the reproductions do not depend on the key value then), per symbol: over the
        typical types, each block's probability times the sum of its distortion sums
        (:meth:`_typewise`); over the atypical ones, the probability of the class times
        the constant fallback's distortion sum, which depends only on the type."""
        tw = self._typewise()
        e1 = sum(px * s for px, s in zip(tw["px"], tw["e1"], strict=True))
        e2 = sum(px * s for px, s in zip(tw["px"], tw["e2"], strict=True))
        fb1, fb2 = self.fallback
        for prob, Q in self._atypical():
            e1 += prob * sum(c * self.d1[a, fb1[0]] for a, c in enumerate(Q))
            e2 += prob * sum(c * self.d2[a, fb2[0]] for a, c in enumerate(Q))
        return float(e1) / self.n, float(e2) / self.n

    def rates(self) -> tuple[float, float]:
        r""":math:`(\log_2|\mathcal M_1|/n, \log_2|\mathcal M_2|/n)`: the messages the code
        can emit (including :math:`m_0`), in bits per symbol."""
        m1 = {(-1, -1, -1)}
        m2 = {(-1, -1)}
        for t, Y in enumerate(self.book_y):
            for i, size in enumerate(_bins(len(Y), self.key_bits[0])):
                m1.update((t, i, a) for a in range(2 ** _sbits(size)))
            for Z in self.book_z[t]:
                for u, size in enumerate(_bins(len(Z), self.key_bits[1])):
                    m2.update((u, c) for c in range(2 ** _sbits(size)))
        return math.log2(len(m1)) / self.n, math.log2(len(m2)) / self.n


def _sbits(size: int) -> int:
    """:math:`s = \\lceil \\log_2 |\\text{bin}| \\rceil` (0 for a bin of one codeword)."""
    return (size - 1).bit_length() if size > 0 else 0


def _sbits_array(size: np.ndarray) -> np.ndarray:
    """:func:`_sbits` of an integer array."""
    size = np.asarray(size, dtype=np.int64)
    out = np.zeros(size.shape, dtype=np.int64)
    big = size > 1
    out[big] = np.floor(np.log2(size[big] - 1)).astype(np.int64) + 1
    return out


@dataclasses.dataclass(frozen=True)
class FiniteNRow:
    """Exact figures of the code built at one blocklength (rates and leakages in bits)."""

    n: int
    key_bits: tuple[int, int]
    L1_per_symbol: float  # (1/n) L(X^n -> M1)
    L12_per_symbol: float  # (1/n) L(X^n -> M1 M2)
    jep: float
    jep_exponent: float  # -(1/n) log2 JEP (inf when JEP = 0)
    rate1: float
    rate2: float
    distortion1: float  # expected, exact
    distortion2: float


def finite_n_report(
    p: ArrayLike,
    d1: ArrayLike | str,
    d2: ArrayLike | str,
    *,
    ns,
    D1: float,
    D2: float,
    r1: float,
    r2: float,
    alpha: float,
) -> list[FiniteNRow]:
    """Build the Section IV code at each blocklength in ``ns`` and report its exact
    figures (compare with :func:`leakage.cipher.leakage_region`, their limits).

    Parameters
    ----------
    p, d1, d2, D1, D2, r1, r2, alpha
        As in :meth:`SuccessiveRefinementCipher.build`.
    ns : iterable of int
        Blocklengths, at most ``MAX_REPORT_ROWS`` (64) of them, each an integer within
        the limit of :meth:`~SuccessiveRefinementCipher.build` (binary: ``n <= 24``).
        All are checked before any code is built; nothing is truncated (``2.5`` is
        refused).

    Returns
    -------
    list of FiniteNRow
        One row per blocklength, in the order of ``ns``.

    Raises
    ------
    InvalidParameterError
        ``ns`` is not an iterable of integers, holds too many entries or an ``n`` above
        the limit, or another argument is invalid (as for ``build``).
    """
    fn = "finite_n_report"
    pv, d1v, d2v = _check_alphabets(p, d1, d2, func=fn)
    size = max(pv.size, d1v.shape[1], d2v.shape[1])
    req = f"be a list of blocklengths (integers), at most {MAX_REPORT_ROWS} of them"
    if isinstance(ns, (str, bytes)):
        raise _refuse(fn, "ns", req, _show(ns))
    try:
        it = iter(ns)
    except TypeError as exc:
        raise _refuse(fn, "ns", req, _show(ns)) from exc
    vals = list(itertools.islice(it, MAX_REPORT_ROWS + 1))  # bounded, even for generators
    if not vals or len(vals) > MAX_REPORT_ROWS:
        got = "an empty list" if not vals else f"more than {MAX_REPORT_ROWS} entries"
        raise _refuse(fn, "ns", req, got, "Each row builds a code: report fewer blocklengths.")
    blocklengths = [
        _check_blocklength(v, size, func=fn, name=f"ns[{i}]") for i, v in enumerate(vals)
    ]
    _check_levels(fn, D1=D1, D2=D2, r1=r1, r2=r2, alpha=alpha)
    rows = []
    for n in blocklengths:
        code = SuccessiveRefinementCipher.build(
            pv, d1v, d2v, n=n, D1=D1, D2=D2, r1=r1, r2=r2, alpha=alpha
        )
        L1, L12 = code.leakage()
        e = code.jep()
        R1, R2 = code.rates()
        e1, e2 = code.expected_distortions()
        rows.append(
            FiniteNRow(
                n=code.n,
                key_bits=code.key_bits,
                L1_per_symbol=L1 / code.n,
                L12_per_symbol=L12 / code.n,
                jep=e,
                jep_exponent=-math.log2(e) / code.n if e > 0 else math.inf,
                rate1=R1,
                rate2=R2,
                distortion1=e1,
                distortion2=e2,
            )
        )
    return rows


@dataclasses.dataclass(frozen=True)
class GuessingResult:
    """Eve's guessing attack of Section V-A, simulated (success probabilities unitless)."""

    trials: int
    successes: int
    success_rate: float
    interval: tuple[float, float]  # Clopper-Pearson interval at ``confidence``
    confidence: float
    leakage_bound: float  # 2^{L(X^n -> M1 M2)} max_u P_U(u): no guess can beat it
    p_star: float  # max_u P_U(u), the best blind guess
    leakage_bits: float  # L(X^n -> M1 M2), exact
    lower_bound_106: float  # the converse's guarantee (106), asymptotic in n (see below)


def _compositions(total: int, parts: int):
    if parts == 1:
        yield (total,)
        return
    for first in range(total + 1):
        for rest in _compositions(total - first, parts - 1):
            yield (first, *rest)


def _type_guess(code: SuccessiveRefinementCipher, y: np.ndarray, z: np.ndarray, rng):
    """Lemma 6 (ii): a joint type of (x, y, z) uniformly among those with the type of
    (y, z) and both expected distortions within the levels, then a sequence uniformly from
    its conditional type class."""
    k = code.p.size
    cells = {}
    for t, (a, b) in enumerate(zip(y, z, strict=True)):
        cells.setdefault((int(a), int(b)), []).append(t)
    keys = list(cells)
    options = [list(_compositions(len(cells[c]), k)) for c in keys]
    valid = []
    lim1, lim2 = code.D1 * code.n + 1e-9, code.D2 * code.n + 1e-9
    for combo in itertools.product(*options):
        e1 = sum(
            cnt[x] * code.d1[x, a]
            for (a, _), cnt in zip(keys, combo, strict=True)
            for x in range(k)
        )
        e2 = sum(
            cnt[x] * code.d2[x, b]
            for (_, b), cnt in zip(keys, combo, strict=True)
            for x in range(k)
        )
        if e1 <= lim1 and e2 <= lim2:
            valid.append(combo)
    if not valid:  # nothing is consistent: a blind guess of the most likely block
        return np.full(code.n, int(np.argmax(code.p)), dtype=np.int64)
    combo = valid[int(rng.integers(len(valid)))]
    x = np.empty(code.n, dtype=np.int64)
    for c, cnt in zip(keys, combo, strict=True):
        pos = rng.permutation(cells[c])
        letters = np.repeat(np.arange(k), cnt)
        x[pos] = letters
    return x


def guessing_attack(
    code: SuccessiveRefinementCipher,
    *,
    trials: int = 2000,
    rng: np.random.Generator | int | None = None,
    function=None,
    confidence: float = 0.99,
) -> GuessingResult:
    r"""Monte-Carlo simulation of Eve (Section V-A) against a built code.

    Each trial draws :math:`X^n \sim P^n` and uniform keys, encodes, and lets Eve guess:
    uniform random keys, both decoders, the type-based guess :math:`g_2` of Lemma 6, then
    the MAP guess of :math:`U = f(X^n)` (``function``, default the block itself). Eve's
    strategy satisfies :math:`U - X^n - (M_1,M_2) - \hat U`, so by Definition 5 her
    success can never exceed :math:`2^{L(X^n\to M_1M_2)} \max_u P_U(u)`; the result sets
    the empirical rate and its Clopper–Pearson interval beside that bound, and the
    converse's lower bound (106) on the success of Eve's scheme (valid for large ``n``:
    at small ``n`` its polynomial factors make it tiny).

    Parameters
    ----------
    code : SuccessiveRefinementCipher
        A built (or loaded) code.
    trials : int, default 2000
        Number of simulated blocks, ``1 <= trials <= MAX_TRIALS`` (10**6).
    rng : None, int, numpy.random.Generator or SeedSequence
        Randomness (a nonnegative seed; strings, negative integers and booleans are
        refused).
    function : callable or None
        ``U = function(x)`` for a block ``x`` (hashable result); None: the block.
    confidence : float, default 0.99
        Level of the Clopper–Pearson interval, in (0, 1).

    Returns
    -------
    GuessingResult

    Raises
    ------
    InvalidParameterError
        An argument is of the wrong type or out of range.
    """
    from scipy.stats import beta as beta_dist

    fn = "guessing_attack"
    if not isinstance(code, SuccessiveRefinementCipher):
        raise _refuse(
            fn, "code", "be a SuccessiveRefinementCipher (from build or load)", _show(code)
        )
    trials = check_size(
        trials,
        func=fn,
        name="trials",
        limit=MAX_TRIALS,
        what="trials",
        hint="Each trial decodes and guesses one block; run several calls for more.",
    )
    if (
        not isinstance(confidence, numbers.Real)
        or isinstance(confidence, bool)
        or not 0 < confidence < 1
    ):
        raise _refuse(fn, "confidence", "be a real number in (0, 1)", _show(confidence))
    confidence = float(confidence)
    if function is not None and not callable(function):
        raise _refuse(fn, "function", "be None or a callable U = f(x)", _show(function))
    gen = as_generator(rng, func=fn, name="rng")
    f = function if function is not None else (lambda x: tuple(int(v) for v in x))
    X = _all_sequences(code.n, code.p.size, np.int8 if code.p.size < 128 else np.int64)
    px = np.prod(code.p[X], axis=1)
    if function is None:  # U = X^n: the most likely block
        p_star = float(px.max())
    else:
        pu: dict = {}
        for x, w in zip(X, px, strict=True):
            u = f(x.astype(np.int64))
            pu[u] = pu.get(u, 0.0) + float(w)
        p_star = max(pu.values())
    _, L12 = code.leakage()
    wins = 0
    kb1, kb2 = code.key_bits
    cum = np.cumsum(px)
    for _ in range(trials):
        x = X[min(int(np.searchsorted(cum, gen.random() * cum[-1])), X.shape[0] - 1)].astype(
            np.int64
        )
        m1, m2 = code._encode(x, gen.integers(0, 2, kb1), gen.integers(0, 2, kb2))
        g1, g2 = gen.integers(0, 2, kb1), gen.integers(0, 2, kb2)
        m1v = None if m1[0] < 0 else m1  # emitted by the code: valid
        y = code._decode1(m1v, g1)
        z = code._decode2(m1v, None if m1v is None else m2, g1, g2)
        guess = _type_guess(code, y, z, gen)
        wins += int(f(guess) == f(x))
    a = (1 - confidence) / 2
    # (106): (b4 p*/2) max_{D(Q||P) <= alpha} 2^{n (R(Q, inf, D1, D2) - r1 - r2)}, with
    # b4 = (n+1)^{-|X|} (n+1)^{-|X||X1||X2|}; a large-n statement ((105) needs
    # 1 - 2^{-n(alpha - D(Q||P) - b3)} >= 1/2), reported as the formula's value
    from ..ratedistortion import successive_refinement_rate

    k, n1, n2 = code.p.size, code.d1.shape[1], code.d2.shape[1]
    n = code.n
    log_b4 = -(k + k * n1 * n2) * math.log2(n + 1)
    best = -math.inf
    for Q in code.types:
        q = np.asarray(Q, float) / n
        on = q > 0
        if float(np.sum(q[on] * np.log2(q[on] / code.p[on]))) > code.alpha + 1e-12:
            continue
        R = successive_refinement_rate(q, code.d1, code.d2, code.D1, code.D2, None).lower
        best = max(best, n * (R - code.r1 - code.r2))
    lb106 = 2.0 ** (log_b4 + math.log2(p_star / 2) + best) if math.isfinite(best) else 0.0
    lo = 0.0 if wins == 0 else float(beta_dist.ppf(a, wins, trials - wins + 1))
    hi = 1.0 if wins == trials else float(beta_dist.ppf(1 - a, wins + 1, trials - wins))
    return GuessingResult(
        trials=trials,
        successes=wins,
        success_rate=wins / trials,
        interval=(lo, hi),
        confidence=confidence,
        leakage_bound=min(1.0, 2.0**L12 * p_star),
        p_star=p_star,
        leakage_bits=L12,
        lower_bound_106=min(lb106, 1.0),
    )
