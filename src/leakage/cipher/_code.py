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
expected distortions, and the rates :math:`\log|\mathcal M_i|/n`.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
from numpy.typing import ArrayLike
from scipy import sparse
from scipy.special import gammaln

from .._validation import as_pmf, check_nonnegative, check_positive
from ..errors import InvalidParameterError
from ..measures import maximal_leakage
from ..ratedistortion import as_distortion_arg

#: Largest number of sequences (source or reproduction, ``k^n``) the code enumerates.
MAX_SEQUENCES = 2**20
#: Largest first-layer cover matrix (entries, one byte each) before the candidates are
#: restricted to the best reproduction types (see :func:`_restricted_pool`).
COVER_BUDGET = 2**29
#: The same for the cover matrix of one second-layer cell.
CELL_BUDGET = 2**24

_FORMAT = "leakage.cipher.SuccessiveRefinementCipher/1"


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
    inv = np.unique(_classes(masks[:, pool], ref, n), return_inverse=True)[1]
    sizes = np.bincount(inv)
    _, rep, n_j = np.unique(_classes(src_masks, ref, n), return_index=True, return_counts=True)
    cov = _covers(S[rep], C[pool], d, D, masks[:, pool])  # one row per orbit
    cnt = np.stack([np.bincount(inv, weights=row, minlength=sizes.size) for row in cov])
    hits = cnt > 0
    score = n_j @ (cnt / sizes)
    order = np.argsort(-score, kind="stable")
    take = np.zeros(sizes.size, dtype=bool)
    used = 0
    for c in order:  # a loop over classes (at most (n+1)^(k k') of them), not letters
        if score[c] > 0 and (used + sizes[c]) * S.shape[0] <= budget:
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
    return pool[take[inv]]


def _masks(S: np.ndarray, k: int) -> np.ndarray:
    """Per-letter bitmasks of sequences (n <= 63): ``out[a, i]`` has bit t set iff
    ``S[i, t] == a``."""
    w = np.left_shift(np.uint64(1), np.arange(S.shape[1], dtype=np.uint64))
    return np.stack(
        [((S == a).astype(np.uint64) * w).sum(axis=1, dtype=np.uint64) for a in range(k)]
    )


def _covers(
    X: np.ndarray, C: np.ndarray, d: np.ndarray, D: float, mC: np.ndarray | None = None
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
    mX = _masks(X, d.shape[0])
    mC = _masks(C, d.shape[1]) if mC is None else mC
    if d.shape == (2, 2):
        (d00, d01), (d10, d11) = (float(v) for v in d[0]), (float(v) for v in d[1])
        coef = d00 - d01 - d10 + d11
        wx, wc = np.bitwise_count(mX[1]).astype(np.int64), np.bitwise_count(mC[1])
        for w in np.unique(wx):  # rows of one weight share the thresholds (<= n+1 groups)
            rows = np.flatnonzero(wx == w)
            base = d00 * n + (d10 - d00) * w + (d01 - d00) * wc.astype(np.float64)
            if coef == 0:
                out[rows] = (base <= lim)[None, :]
                continue
            t = (lim - base) / coef  # N_11 <= t (coef > 0) or N_11 >= t (coef < 0)
            thr = np.floor(t) if coef > 0 else np.ceil(t)
            never = thr < 0 if coef > 0 else thr > n
            thr = np.clip(thr, 0, n).astype(np.uint8)
            xr = mX[1][rows]
            rstep = max(1, 2**23 // max(rows.size, 1))
            for s0 in range(0, C.shape[0], rstep):
                sl = slice(s0, s0 + rstep)
                cnt = np.bitwise_count(xr[:, None] & mC[1][None, sl])
                blk = cnt <= thr[None, sl] if coef > 0 else cnt >= thr[None, sl]
                blk[:, never[sl]] = False
                out[rows, sl] = blk
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


def _is_metric(d1: np.ndarray, d2: np.ndarray) -> bool:
    """Whether both layers use one metric on one alphabet (zero diagonal, symmetric,
    triangle inequality): then the per-letter average is a metric on sequences."""
    if d1.shape != d2.shape or d1.shape[0] != d1.shape[1] or not np.array_equal(d1, d2):
        return False
    if np.any(np.diag(d1) != 0) or not np.array_equal(d1, d1.T):
        return False
    return bool(np.all(d1[:, None, :] <= d1[:, :, None] + d1[None, :, :] + 1e-12))


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
            raise InvalidParameterError(
                "SuccessiveRefinementCipher.build: a sequence has no reproduction within "
                "the distortion level; raise D1/D2."
            )
        chosen.append(j)
        newly = uncovered & covers[:, j]
        gain -= covers[newly].sum(axis=0, dtype=np.int64)
        uncovered &= ~newly
    return chosen


def _bins(size: int, bits: int) -> list[int]:
    """Sizes of the bins of ``size`` codewords in bins of ``2^bits``."""
    b = 2**bits
    return [min(b, size - s) for s in range(0, size, b)] or [0]


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
        (greedy set cover, ties to the lexicographically first sequence).
        """
        fn = "SuccessiveRefinementCipher.build"
        pv = as_pmf(p, func=fn, name="p")
        k = pv.size
        d1v = as_distortion_arg(d1, k, func=fn, name="d1")
        d2v = as_distortion_arg(d2, k, func=fn, name="d2")
        n = int(check_positive(n, func=fn, name="n", integer=True))
        for name, val in (("D1", D1), ("D2", D2), ("r1", r1), ("r2", r2), ("alpha", alpha)):
            check_nonnegative(val, func=fn, name=name)
        check_nonnegative(delta, func=fn, name="delta")
        for name, size in (("p", k), ("d1", d1v.shape[1]), ("d2", d2v.shape[1])):
            if size**n > MAX_SEQUENCES:
                raise InvalidParameterError(
                    f"{fn}: the code enumerates all {size}^{n} sequences of the alphabet of "
                    f"'{name}', more than {MAX_SEQUENCES}; lower 'n'."
                )
        kb = (math.floor(n * r1 + 1e-12), math.floor(n * r2 + 1e-12))
        small = np.int8 if max(k, *d1v.shape, *d2v.shape) < 128 else np.int64
        X = _all_sequences(n, k, small)
        C1 = X if d1v.shape[1] == k else _all_sequences(n, d1v.shape[1], small)
        C2 = C1 if d2v.shape[1] == d1v.shape[1] else _all_sequences(n, d2v.shape[1], small)
        mX = _masks(X, k)
        masks1 = mX if C1 is X else _masks(C1, d1v.shape[1])
        masks2 = masks1 if C2 is C1 else _masks(C2, d2v.shape[1])
        counts = np.stack([np.bitwise_count(m) for m in mX], axis=1)
        metric = _is_metric(d1v, d2v)
        all1, all2 = np.arange(C1.shape[0]), np.arange(C2.shape[0])
        types, book_y, book_z = [], [], []
        with np.errstate(divide="ignore"):
            logp = np.log2(pv)
        for Q in _types(n, k):
            q = np.asarray(Q, float) / n
            on = q > 0
            kl = float(np.sum(q[on] * (np.log2(q[on]) - logp[on])))
            if kl > alpha + delta + 1e-12:
                continue
            rows = np.flatnonzero(np.all(counts == np.asarray(Q), axis=1))
            T, mT = X[rows], mX[:, rows]
            cand = _restricted_pool(T, all1, C1, masks1, d1v, D1, COVER_BUDGET, None, mT)
            cov1 = _covers(T, C1[cand], d1v, D1, masks1[:, cand])
            chosen = cand[_greedy_cover(cov1)]
            Y = C1[chosen]
            # the encoder: x -> the first chosen codeword that covers it
            assign = np.argmax(cov1[:, np.searchsorted(cand, chosen)], axis=1)
            del cov1
            zs = []
            for j in range(len(chosen)):
                sel = assign == j
                cell = T[sel]
                if cell.shape[0] == 0:
                    zs.append(C2[:0].astype(np.int64))
                    continue
                # with one metric, d(z, y) <= d(z, x) + d(x, y) <= D2 + D1 for any useful
                # z: only those candidates can cover the cell (the cover is the same)
                near = (
                    np.flatnonzero(_covers(Y[j : j + 1], C2, d2v, D1 + D2, masks2)[0])
                    if metric
                    else all2
                )
                near = _restricted_pool(
                    cell,
                    near,
                    C2,
                    masks2,
                    d2v,
                    D2,
                    CELL_BUDGET,
                    masks1[:, chosen[j]],
                    mT[:, sel],
                )
                pick = _greedy_cover(_covers(cell, C2[near], d2v, D2, masks2[:, near]))
                zs.append(C2[near[pick]].astype(np.int64))
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

    def _assignment(self) -> tuple[np.ndarray, ...]:
        """For every block of ``X^n`` (lexicographic): its probability, type index ``t``
        (-1 when atypical), first-layer index ``j``, second-layer index ``w`` (what
        :meth:`_locate` returns, for all blocks at once), and the two distortion sums of
        its reproductions under correct keys. Computed once per code."""
        if self._assigned is not None:
            return self._assigned
        n, k = self.n, self.p.size
        X = _all_sequences(n, k, np.int8 if k < 128 else np.int64)
        px = np.prod(self.p[X], axis=1)
        mX = _masks(X, k)
        counts = np.stack([np.bitwise_count(m) for m in mX], axis=1)
        t = np.full(X.shape[0], -1, dtype=np.int64)
        j = np.zeros(X.shape[0], dtype=np.int64)
        w = np.zeros(X.shape[0], dtype=np.int64)
        e1 = self.d1[X, self.fallback[0][None, :]].sum(axis=1)
        e2 = self.d2[X, self.fallback[1][None, :]].sum(axis=1)
        for ti, Q in enumerate(self.types):
            rows = np.flatnonzero(np.all(counts == np.asarray(Q), axis=1))
            T, Y = X[rows], self.book_y[ti]
            jt = np.argmax(_covers(T, Y, self.d1, self.D1), axis=1)
            t[rows], j[rows] = ti, jt
            e1[rows] = self.d1[T, Y[jt]].sum(axis=1)
            for jj in np.unique(jt):  # a loop over codewords, not letters
                sel = rows[jt == jj]
                Z = self.book_z[ti][jj]
                wt = np.argmax(_covers(X[sel], Z, self.d2, self.D2), axis=1)
                w[sel] = wt
                e2[sel] = self.d2[X[sel], Z[wt]].sum(axis=1)
        self._assigned = (px, t, j, w, e1, e2)
        return self._assigned

    def _s1(self, t: int, i: int) -> int:
        """Key bits used by bin ``i`` of type ``t``'s first-layer codebook."""
        return _sbits(_bins(len(self.book_y[t]), self.key_bits[0])[i])

    def _s2(self, Z: np.ndarray, u: int) -> int:
        """Key bits used by bin ``u`` of a second-layer codebook ``Z``."""
        nb = _bins(len(Z), self.key_bits[1])
        return _sbits(nb[min(u, len(nb) - 1)])

    def _first(self, m1: tuple, k1: ArrayLike) -> tuple[int, int]:
        """(type, first-layer codeword index) that ``m1`` and ``k1`` decode to."""
        t, i, jm = (int(v) for v in m1)
        j = i * 2 ** self.key_bits[0] + (jm ^ self._key_int(k1, self.key_bits[0], self._s1(t, i)))
        return t, min(j, len(self.book_y[t]) - 1)

    @staticmethod
    def _key_int(key: ArrayLike, bits: int, s: int) -> int:
        k = np.asarray(key, dtype=np.int64).ravel()
        if k.size != bits or np.any((k != 0) & (k != 1)):
            raise InvalidParameterError(
                f"SuccessiveRefinementCipher: a key must be {bits} bits (0/1); got "
                f"{np.array2string(k, threshold=8)}."
            )
        v = 0
        for b in k[:s]:
            v = (v << 1) | int(b)
        return v

    def _check_x(self, x: ArrayLike) -> np.ndarray:
        xa = np.asarray(x, dtype=np.int64).ravel()
        if xa.size != self.n or xa.min(initial=0) < 0 or xa.max(initial=0) >= self.p.size:
            raise InvalidParameterError(
                f"SuccessiveRefinementCipher: a source block must be {self.n} letters in "
                f"0..{self.p.size - 1}; got {np.array2string(xa, threshold=8)}."
            )
        return xa

    def encode(self, x: ArrayLike, k1: ArrayLike, k2: ArrayLike) -> tuple[tuple, tuple]:
        """Eqs. (54)–(55) and (58): ``(m1, m2)`` for the block ``x`` and key bit strings."""
        xa = self._check_x(x)
        loc = self._locate(xa)
        if loc is None:
            self._key_int(k1, self.key_bits[0], 0)
            self._key_int(k2, self.key_bits[1], 0)
            return (-1, -1, -1), (-1, -1)
        t, j, w = loc
        b1, b2 = 2 ** self.key_bits[0], 2 ** self.key_bits[1]
        i, jj = divmod(j, b1)
        s1 = self._s1(t, i)
        u, vv = divmod(w, b2)
        s2 = self._s2(self.book_z[t][j], u)
        m1 = (t, i, jj ^ self._key_int(k1, self.key_bits[0], s1))
        m2 = (u, vv ^ self._key_int(k2, self.key_bits[1], s2))
        return m1, m2

    def decode1(self, m1: tuple, k1: ArrayLike) -> np.ndarray:
        """Eq. (56): the first-layer reproduction."""
        if int(m1[0]) < 0:
            return self.fallback[0].copy()
        t, j = self._first(m1, k1)
        return self.book_y[t][j].copy()

    def decode2(self, m1: tuple, m2: tuple, k1: ArrayLike, k2: ArrayLike) -> np.ndarray:
        """Eq. (57): the second-layer reproduction."""
        if int(m1[0]) < 0:
            return self.fallback[1].copy()
        t, j = self._first(m1, k1)
        Z = self.book_z[t][j]
        if len(Z) == 0:
            return self.fallback[1].copy()
        u, vm = (int(v) for v in m2)
        w = u * 2 ** self.key_bits[1] + (vm ^ self._key_int(k2, self.key_bits[1], self._s2(Z, u)))
        return Z[min(w, len(Z) - 1)].copy()

    # ------------------------------------------------------------------ streams
    def encrypt(self, source: ArrayLike, key1: ArrayLike, key2: ArrayLike) -> list[tuple]:
        """Encode a stream of letters block by block with fresh key bits per block.

        ``source`` has a multiple of ``n`` letters; ``key1``/``key2`` hold at least
        ``blocks * key_bits[i]`` bits (used in order, never reused). Returns one
        ``(m1, m2)`` pair per block."""
        src, k1, k2, blocks = self._stream(source, key1, key2)
        b1, b2 = self.key_bits
        return [
            self.encode(
                src[i * self.n : (i + 1) * self.n],
                k1[i * b1 : (i + 1) * b1],
                k2[i * b2 : (i + 1) * b2],
            )
            for i in range(blocks)
        ]

    def decrypt(self, messages, key1: ArrayLike, key2: ArrayLike):
        """Both layers' reproductions of a message stream: two arrays of ``n`` letters per
        block, concatenated."""
        blocks = len(messages)
        b1, b2 = self.key_bits
        k1 = self._bits(key1, blocks * b1, "key1")
        k2 = self._bits(key2, blocks * b2, "key2")
        y, z = [], []
        for i, (m1, m2) in enumerate(messages):
            kk1, kk2 = k1[i * b1 : (i + 1) * b1], k2[i * b2 : (i + 1) * b2]
            y.append(self.decode1(tuple(m1), kk1))
            z.append(self.decode2(tuple(m1), tuple(m2), kk1, kk2))
        empty = np.zeros(0, dtype=np.int64)
        return (np.concatenate(y) if y else empty, np.concatenate(z) if z else empty)

    @staticmethod
    def _bits(key: ArrayLike, need: int, name: str) -> np.ndarray:
        k = np.asarray(key, dtype=np.int64).ravel()
        if np.any((k != 0) & (k != 1)):
            raise InvalidParameterError(f"SuccessiveRefinementCipher: '{name}' must hold bits 0/1.")
        if k.size < need:
            raise InvalidParameterError(
                f"SuccessiveRefinementCipher: '{name}' holds {k.size} bits; the stream needs "
                f"{need} (fresh key bits for every block). Supply a longer key."
            )
        return k

    def _stream(self, source, key1, key2):
        src = np.asarray(source, dtype=np.int64).ravel()
        if src.size % self.n or src.size == 0:
            raise InvalidParameterError(
                f"SuccessiveRefinementCipher: the source has {src.size} letters, not a "
                f"positive multiple of the blocklength n = {self.n}; pad or trim it."
            )
        blocks = src.size // self.n
        return (
            src,
            self._bits(key1, blocks * self.key_bits[0], "key1"),
            self._bits(key2, blocks * self.key_bits[1], "key2"),
            blocks,
        )

    # ------------------------------------------------------------------ files
    def to_dict(self) -> dict:
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
        """Read a code written by :meth:`save`."""
        import json

        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, json.JSONDecodeError) as exc:
            raise InvalidParameterError(
                f"SuccessiveRefinementCipher.load: cannot read '{path}' ({exc})."
            ) from None
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise InvalidParameterError(
                f"SuccessiveRefinementCipher.load: '{path}' is not a cipher code file "
                f'(expected "format": "{_FORMAT}").'
            )
        n = int(data["n"])

        def arr(v, width):
            return np.asarray(v, dtype=np.int64).reshape(-1, width)

        return cls(
            p=np.asarray(data["p"], float),
            d1=np.asarray(data["d1"], float),
            d2=np.asarray(data["d2"], float),
            n=n,
            D1=float(data["D1"]),
            D2=float(data["D2"]),
            r1=float(data["r1"]),
            r2=float(data["r2"]),
            alpha=float(data["alpha"]),
            key_bits=(int(data["key_bits"][0]), int(data["key_bits"][1])),
            types=[tuple(int(c) for c in t) for t in data["types"]],
            book_y=[arr(Y, n) for Y in data["book_y"]],
            book_z=[[arr(Z, n) for Z in zs] for zs in data["book_z"]],
            fallback=(
                np.asarray(data["fallback"][0], np.int64),
                np.asarray(data["fallback"][1], np.int64),
            ),
        )

    # ------------------------------------------------------------------ exact figures
    def message_channels(self) -> tuple[sparse.csr_array, sparse.csr_array, np.ndarray]:
        """The exact channels ``P(M1 | X^n)`` and ``P(M1 M2 | X^n)`` over all ``|X|^n``
        blocks (keys uniform), as sparse matrices, and the block probabilities.

        A typical block in bin ``i`` of its type's first-layer book sends ``(t, i, a)``
        for each of the :math:`2^{s_1}` masked indices ``a`` (the key is uniform, so
        each with probability :math:`2^{-s_1}`), and likewise ``(u, c)`` on the second
        layer; an atypical block sends ``m0``. Columns are the distinct messages."""
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
        bin1 = np.where(typ, off_y[tt] + i, -1)  # a global index of (type, bin); -1 is m0
        n_u = int(-(-len_z.max() // b2)) if len_z.size else 1

        def channel(nbits, key):
            reps = 2**nbits
            rows = np.repeat(np.arange(N), reps)
            start = np.cumsum(reps) - reps
            sub = np.arange(rows.size) - np.repeat(start, reps)  # masked index bits
            cols = np.unique(key(rows, sub), return_inverse=True)[1]
            vals = np.repeat(2.0 ** -nbits.astype(np.float64), reps)
            return sparse.csr_array((vals, (rows, cols)), shape=(N, int(cols.max()) + 1))

        def key1(r, a):
            return (bin1[r] + 1) * b1 + a

        def key12(r, s):
            a, c = s >> s2[r], s & (2 ** s2[r] - 1)
            return ((key1(r, a) * (n_u + 1) + np.where(typ[r], u[r], -1) + 1) * b2) + c

        return channel(s1, key1), channel(s1 + s2, key12), px

    def leakage(self, *, base: float = 2) -> tuple[float, float]:
        r""":math:`(L(X^n \to M_1), L(X^n \to M_1 M_2))` exactly, by Definition 2 (eq. (6))
        on the code's message channels (not normalized by ``n``)."""
        W1, W2, px = self.message_channels()
        return (
            float(maximal_leakage(px, W1, base=base)),
            float(maximal_leakage(px, W2, base=base)),
        )

    def jep(self) -> float:
        r"""The joint excess-distortion probability :math:`P_e^n(D_1, D_2)` (eq. (5)),
        exactly: every typical block is reproduced within both levels by construction, so
        it is the probability of the atypical types (plus any atypical block that the
        fallback happens to reproduce within both levels is counted correctly)."""
        k = self.p.size
        total = 0.0
        typical = set(self.types)
        fb1, fb2 = self.fallback
        for Q in _types(self.n, k):
            if Q in typical:
                continue
            logsize = gammaln(self.n + 1) - sum(gammaln(c + 1) for c in Q)
            prob = math.exp(
                logsize + sum(c * math.log(pk) for c, pk in zip(Q, self.p, strict=True) if c)
            )
            # the fallback's distortion depends only on the type
            e1 = sum(c * self.d1[a, fb1[0]] for a, c in enumerate(Q))
            e2 = sum(c * self.d2[a, fb2[0]] for a, c in enumerate(Q))
            if e1 > self.D1 * self.n + 1e-9 or e2 > self.D2 * self.n + 1e-9:
                total += prob
        return total

    def expected_distortions(self) -> tuple[float, float]:
        r"""Exact :math:`(E d_1(X^n, \hat X_1^n), E d_2(X^n, \hat X_2^n))` with correct keys
        (the reproductions do not depend on the key value then), per symbol."""
        px, _, _, _, e1, e2 = self._assignment()
        return float(px @ e1) / self.n, float(px @ e2) / self.n

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
    figures (compare with :func:`leakage.cipher.leakage_region`, their limits)."""
    rows = []
    for n in ns:
        code = SuccessiveRefinementCipher.build(
            p, d1, d2, n=int(n), D1=D1, D2=D2, r1=r1, r2=r2, alpha=alpha
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
    """
    from scipy.stats import beta as beta_dist

    fn = "guessing_attack"
    trials = int(check_positive(trials, func=fn, name="trials", integer=True))
    if not 0 < confidence < 1:
        raise InvalidParameterError(f"{fn}: 'confidence' must lie in (0, 1); got {confidence!r}.")
    gen = np.random.default_rng(rng)
    f = function if function is not None else (lambda x: tuple(int(v) for v in x))
    X = _all_sequences(code.n, code.p.size)
    px = np.prod(code.p[X], axis=1)
    pu: dict = {}
    for x, w in zip(X, px, strict=True):
        u = f(x)
        pu[u] = pu.get(u, 0.0) + float(w)
    p_star = max(pu.values())
    _, L12 = code.leakage()
    wins = 0
    kb1, kb2 = code.key_bits
    cum = np.cumsum(px)
    for _ in range(trials):
        x = X[min(int(np.searchsorted(cum, gen.random() * cum[-1])), X.shape[0] - 1)]
        m1, m2 = code.encode(x, gen.integers(0, 2, kb1), gen.integers(0, 2, kb2))
        g1, g2 = gen.integers(0, 2, kb1), gen.integers(0, 2, kb2)
        y = code.decode1(m1, g1)
        z = code.decode2(m1, m2, g1, g2)
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
