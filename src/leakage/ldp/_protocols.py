r"""Local differential privacy protocols for frequency estimation: client and server.

Each protocol perturbs one value :math:`v \in \{0, \dots, k-1\}` per user on the client
(``sample``) and estimates the frequency vector on the server (``estimate``). All of them
are *pure* protocols in the sense of Wang, Blocki, Li and Jha [1]_: a report :math:`y`
*supports* a set of values, and

.. math::

    P(v \in \mathrm{supp}(Y) \mid X = v) = p^*, \qquad
    P(v \in \mathrm{supp}(Y) \mid X = x) = q^* \quad (x \ne v).

With :math:`C_v` the number of the :math:`n` reports supporting :math:`v`, the estimator

.. math:: \hat f_v = \frac{C_v / n - q^*}{p^* - q^*}

is unbiased, and since users are independent, for the empirical frequencies :math:`f` of
the :math:`n` values (Wang et al. [1]_, eq. (2) with its :math:`f`-dependent term kept)

.. math::

    \mathrm{Var}[\hat f_v] = \frac{f_v\, p^*(1-p^*) + (1-f_v)\, q^*(1-q^*)}{n\,(p^*-q^*)^2}
    = \frac{q^*(1-q^*)}{n (p^*-q^*)^2} + \frac{f_v (1 - p^* - q^*)}{n (p^* - q^*)}.

(If the values are themselves drawn i.i.d. from :math:`f`, add :math:`f_v(1-f_v)/n`:
``variance(..., iid=True)``.) Every protocol keeps the support counts :math:`C` as its
sufficient statistic, so ``sample_counts`` can aggregate in chunks and never holds one
report per user.

References
----------
.. [1] T. Wang, J. Blocki, N. Li, S. Jha, "Locally Differentially Private Protocols for
   Frequency Estimation", USENIX Security 2017.
.. [2] Ú. Erlingsson, V. Pihur, A. Korolova, "RAPPOR: Randomized Aggregatable
   Privacy-Preserving Ordinal Response", CCS 2014.
.. [3] J. Acharya, Z. Sun, H. Zhang, "Hadamard Response: Estimating Distributions
   Privately, Efficiently, and with Little Communication", AISTATS 2019.
.. [4] S. Wang, L. Huang, P. Wang, Y. Nie, H. Xu, W. Yang, X.-Y. Li, C. Qiao, "Mutual
   Information Optimally Local Private Discrete Distribution Estimation", arXiv:1607.08025
   (2016); M. Ye, A. Barg, "Optimal Schemes for Discrete Distribution Estimation Under
   Locally Differential Privacy", IEEE Trans. Inf. Theory 64(8), 2018.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_generator, as_pmf, check_size
from ..errors import InvalidParameterError
from ._common import CHUNK, check_cells, check_eps, check_k, check_values, raise_param

__all__ = [
    "GRR",
    "HadamardResponse",
    "LDPProtocol",
    "LocalHashing",
    "SubsetSelection",
    "SupportCounts",
    "UnaryEncoding",
    "blh",
    "grr",
    "hadamard",
    "olh",
    "oue",
    "rappor",
    "subset_selection",
]

#: Largest number of bits of per-user bit-vector reports (unary encodings, subset
#: selection) that ``sample`` returns at once (2**31 bits = 256 MiB).
MAX_REPORT_BITS = 2**31
#: Largest (a, b, y) table of the local-hashing family (cells) a protocol accepts.
MAX_HASH_TABLE = 2**30
_BLOCK = 2**24  # table cells handled at once by the local-hashing support counter


@dataclasses.dataclass(frozen=True)
class SupportCounts:
    """The sufficient statistic of a pure LDP protocol.

    Attributes
    ----------
    counts : (k,) ndarray of int64
        ``counts[v]`` = number of reports that support value ``v``.
    n : int
        Number of reports (users).
    protocol : str
        Name of the protocol that produced them.
    """

    counts: np.ndarray
    n: int
    protocol: str


class LDPProtocol:
    """Base class of the pure LDP protocols (see the module docstring).

    Subclasses set ``name``, ``k``, ``eps``, ``p_star``, ``q_star`` and implement
    ``_sample_chunk``, ``_check_reports``, ``_support``, ``n_outputs`` and ``_channel``.
    """

    name: str
    k: int
    eps: float
    p_star: float
    q_star: float

    # ----------------------------------------------------------------- to implement
    @property
    def n_outputs(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def _channel(self) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _sample_chunk(self, v: np.ndarray, gen: np.random.Generator) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover - abstract

    def _check_reports(self, reports: Any, func: str) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover - abstract

    def _support(self, reports: np.ndarray) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover - abstract

    def _report_limit(self, n: int, func: str) -> None:
        """Refuse per-user reports that would not fit in memory (bit-vector protocols)."""

    # ----------------------------------------------------------------- public
    def __repr__(self) -> str:
        return f"{self.name}(k={self.k}, eps={self.eps:g})"

    @property
    def channel(self) -> np.ndarray:
        """The exact channel ``W[v, y] = P(report y | value v)``, shape ``(k, n_outputs)``.

        Raises
        ------
        InvalidParameterError
            If ``k * n_outputs`` exceeds ``MAX_CHANNEL_CELLS`` (2**20).
        """
        check_cells(self.k, self.n_outputs, func=f"{self.name}.channel")
        return self._channel()

    def sample(self, values: ArrayLike, rng: np.random.Generator | int | None = None):
        """Perturb one value per user (the client side), vectorized in chunks.

        Parameters
        ----------
        values : (n,) array-like of int
            True values in ``[0, k)``.
        rng : numpy.random.Generator, int >= 0 or None
            Source of randomness.

        Returns
        -------
        ndarray
            One report per user; the format is the protocol's (see its class docstring).
        """
        fn = f"{self.name}.sample"
        v = check_values(values, self.k, func=fn)
        self._report_limit(v.shape[0], fn)
        gen = as_generator(rng, func=fn)
        parts = [self._sample_chunk(v[s : s + CHUNK], gen) for s in range(0, v.shape[0], CHUNK)]
        return np.concatenate(parts, axis=0)

    def support_counts(self, reports: Any) -> SupportCounts:
        """Aggregate per-user reports (from :meth:`sample`) into support counts."""
        r = self._check_reports(reports, f"{self.name}.support_counts")
        return SupportCounts(self._support(r), int(r.shape[0]), self.name)

    def sample_counts(
        self, values: ArrayLike, rng: np.random.Generator | int | None = None
    ) -> SupportCounts:
        """Sample the reports of ``values`` and return only their support counts.

        Works in chunks of ``CHUNK`` users (memory ``O(CHUNK * report size)``), or exactly
        in distribution from the per-value counts where the protocol allows it (unary
        encodings, GRR). Same distribution as ``support_counts(sample(values, rng))``.
        """
        fn = f"{self.name}.sample_counts"
        v = check_values(values, self.k, func=fn)
        gen = as_generator(rng, func=fn)
        return SupportCounts(self._sample_support(v, gen), int(v.shape[0]), self.name)

    def _sample_support(self, v: np.ndarray, gen: np.random.Generator) -> np.ndarray:
        total = np.zeros(self.k, dtype=np.int64)
        for s in range(0, v.shape[0], CHUNK):
            total += self._support(self._sample_chunk(v[s : s + CHUNK], gen))
        return total

    def estimate(self, reports: Any) -> np.ndarray:
        r"""Unbiased frequency estimate :math:`\hat f_v = (C_v/n - q^*)/(p^* - q^*)`.

        Parameters
        ----------
        reports : ndarray or SupportCounts
            Reports from :meth:`sample`, or support counts from :meth:`sample_counts` /
            :meth:`support_counts`.

        Returns
        -------
        (k,) ndarray
            Unbiased, so entries may be negative and need not sum to 1; use
            :func:`leakage.ldp.project_simplex` for a distribution.
        """
        fn = f"{self.name}.estimate"
        if isinstance(reports, SupportCounts):
            if reports.counts.shape != (self.k,) or reports.protocol != self.name:
                raise_param(
                    fn,
                    "reports",
                    f"be support counts of {self.name} with k = {self.k}",
                    f"counts of {reports.protocol} with k = {reports.counts.shape[0]}",
                )
            sc = reports
        else:
            sc = self.support_counts(reports)
        if sc.n < 1:
            raise_param(fn, "reports", "hold at least one report", sc.n)
        return (sc.counts / sc.n - self.q_star) / (self.p_star - self.q_star)

    def variance(self, n: int, freqs: ArrayLike | None = None, *, iid: bool = False) -> np.ndarray:
        r"""Exact variance of :meth:`estimate` for ``n`` users with frequencies ``freqs``.

        .. math::

            \mathrm{Var}[\hat f_v] = \frac{f_v\, p^*(1-p^*) + (1-f_v)\, q^*(1-q^*)}
                                          {n\,(p^*-q^*)^2}
            \;\Big[ + \frac{f_v (1 - f_v)}{n} \text{ if } \texttt{iid} \Big]

        (Wang et al., USENIX Security 2017, eq. (2); the protocol's :math:`p^*, q^*` are in
        its class docstring).

        Parameters
        ----------
        n : int
            Number of users (>= 1).
        freqs : (k,) array-like, optional
            Empirical frequencies of the users' values (a pmf); uniform when ``None``.
        iid : bool, default False
            ``False``: the values are fixed and only the perturbation is random.
            ``True``: the values are drawn i.i.d. from ``freqs`` (adds
            :math:`f_v(1-f_v)/n`).

        Returns
        -------
        (k,) ndarray
            The variance of every coordinate; its sum is the expected squared L2 error.
        """
        fn = f"{self.name}.variance"
        n = check_size(n, func=fn, name="n", limit=2**62, what="users")
        f = np.full(self.k, 1.0 / self.k) if freqs is None else as_pmf(freqs, func=fn, name="freqs")
        if f.shape[0] != self.k:
            raise_param(fn, "freqs", f"have k = {self.k} entries", f"{f.shape[0]} entries")
        p, q = self.p_star, self.q_star
        var = (f * p * (1 - p) + (1 - f) * q * (1 - q)) / (n * (p - q) ** 2)
        if iid:
            var = var + f * (1 - f) / n
        return var


# ---------------------------------------------------------------------------------- GRR


class GRR(LDPProtocol):
    r"""Generalized randomized response (k-RR, direct encoding).

    Report the true value with probability :math:`p = e^\varepsilon/(e^\varepsilon+k-1)`,
    each other value with probability :math:`q = 1/(e^\varepsilon+k-1)`. A report supports
    only itself: :math:`p^* = p`, :math:`q^* = q`, and (Wang et al. 2017, Section 4.1)

    .. math::

        \mathrm{Var}[\hat f_v] = \frac{e^\varepsilon + k - 2}{n (e^\varepsilon - 1)^2}
            + \frac{f_v (k - 2)}{n (e^\varepsilon - 1)}.

    Reports: ``(n,)`` int64 values in ``[0, k)``; the channel is ``k x k``.
    """

    def __init__(self, k: int, eps: float) -> None:
        self.name = "grr"
        self.k = check_k(k, func="grr")
        self.eps = check_eps(eps, func="grr")
        e = math.exp(self.eps)
        self.p_star = e / (e + self.k - 1)
        self.q_star = 1.0 / (e + self.k - 1)

    @property
    def n_outputs(self) -> int:
        return self.k

    def _channel(self) -> np.ndarray:
        W = np.full((self.k, self.k), self.q_star)
        np.fill_diagonal(W, self.p_star)
        return W

    def _sample_chunk(self, v, gen):
        keep = gen.random(v.shape[0]) < self.p_star
        other = (v + gen.integers(1, self.k, size=v.shape[0])) % self.k
        return np.where(keep, v, other)

    def _check_reports(self, reports, func):
        return check_values(reports, self.k, func=func, name="reports")

    def _support(self, reports):
        return np.bincount(reports, minlength=self.k).astype(np.int64)

    def _sample_support(self, v, gen):
        k = self.k
        if k * k > 2**22:
            return super()._sample_support(v, gen)
        # exact in distribution: per value, Binomial(n_v, p) kept, the rest uniform over
        # the k - 1 other values (a multinomial), so the cost is O(n + k^2), not O(n)
        # random draws
        nv = np.bincount(v, minlength=k)
        kept = gen.binomial(nv, self.p_star)
        moved = gen.multinomial(nv - kept, np.full(k - 1, 1.0 / (k - 1)))  # (k, k-1)
        cols = (np.arange(k)[:, None] + np.arange(1, k)[None, :]) % k
        out = np.bincount(cols.ravel(), weights=moved.ravel(), minlength=k)
        return (np.rint(out).astype(np.int64) + kept).astype(np.int64)


# ------------------------------------------------------------------------ unary encoding


class UnaryEncoding(LDPProtocol):
    r"""Unary encoding: one-hot encode the value, then flip each bit independently.

    The bit of the true value is 1 with probability :math:`p`, every other bit with
    probability :math:`q`; a report supports the values whose bit is 1, so
    :math:`p^* = p`, :math:`q^* = q`, and :math:`\varepsilon = \log\frac{p(1-q)}{(1-p)q}`.

    * **OUE** (:func:`oue`, optimized unary encoding): :math:`p = 1/2`,
      :math:`q = 1/(e^\varepsilon + 1)`;
      :math:`\mathrm{Var}[\hat f_v] = \frac{4 e^\varepsilon}{n (e^\varepsilon-1)^2}
      + \frac{f_v}{n}` (Wang et al. 2017, Section 4.3, with the :math:`f` term).
    * **SUE / basic one-time RAPPOR** (:func:`rappor`): :math:`p = e^{\varepsilon/2}/
      (e^{\varepsilon/2}+1)`, :math:`q = 1 - p` — the permanent randomized response of
      RAPPOR (Erlingsson et al. 2014) on a one-hot vector, **without Bloom filters**
      (one bit per value, no hashing) and without the instantaneous second round.

    Reports: ``(n, ceil(k / 8))`` uint8, the k bits packed with
    ``np.packbits(..., axis=1, bitorder="little")`` (bit ``j`` = value ``j``); ``sample``
    refuses more than ``MAX_REPORT_BITS`` bits in total — use :meth:`sample_counts`, which
    draws the support counts exactly (``C_v ~ Binomial(n_v, p) + Binomial(n - n_v, q)``,
    the bits being independent) in ``O(n + k)`` time and memory. The channel has
    :math:`2^k` outputs (output ``y``: bit ``j`` of the integer ``y`` is the bit of value
    ``j``), so it exists only for ``k <= 16``.
    """

    def __init__(self, k: int, eps: float, *, kind: str) -> None:
        self.name = kind
        self.k = check_k(k, func=kind)
        self.eps = check_eps(eps, func=kind)
        if kind == "oue":
            self.p_star, self.q_star = 0.5, 1.0 / (math.exp(self.eps) + 1.0)
        else:  # symmetric unary encoding = basic one-time RAPPOR
            h = math.exp(self.eps / 2)
            self.p_star = h / (h + 1.0)
            self.q_star = 1.0 / (h + 1.0)

    @property
    def n_outputs(self) -> int:
        return 2**self.k

    def _channel(self) -> np.ndarray:
        k, p, q = self.k, self.p_star, self.q_star
        bits = (np.arange(2**k)[:, None] >> np.arange(k)[None, :]) & 1  # (2^k, k)
        ones = bits.sum(axis=1)
        base = q**ones * (1 - q) ** (k - ones)  # every bit at rate q
        return base[None, :] * np.where(bits.T == 1, p / q, (1 - p) / (1 - q))

    def _report_limit(self, n, func):
        if n * self.k > MAX_REPORT_BITS:
            raise InvalidParameterError(
                f"{func}: {n:,} reports of {self.k} bits would take {n * self.k // 8:,} bytes, "
                f"above the limit of {MAX_REPORT_BITS // 8:,} bytes. Use sample_counts, which "
                "returns the support counts without storing the reports."
            )

    def _sample_chunk(self, v, gen):
        m = v.shape[0]
        bits = gen.random((m, self.k)) < self.q_star
        bits[np.arange(m), v] = gen.random(m) < self.p_star
        return np.packbits(bits, axis=1, bitorder="little")

    def _check_reports(self, reports, func):
        return _check_packed(reports, self.k, func)

    def _support(self, reports):
        return _packed_support(reports, self.k)

    def _sample_support(self, v, gen):
        nv = np.bincount(v, minlength=self.k)
        n = v.shape[0]
        return (gen.binomial(nv, self.p_star) + gen.binomial(n - nv, self.q_star)).astype(np.int64)


def _check_packed(reports: Any, k: int, func: str) -> np.ndarray:
    r = np.asarray(reports)
    width = (k + 7) // 8
    if r.dtype != np.uint8 or r.ndim != 2 or r.shape[1] != width or r.shape[0] == 0:
        raise_param(
            func,
            "reports",
            f"be a non-empty (n, {width}) uint8 array of packed bits (from sample)",
            f"an array of dtype {r.dtype} and shape {r.shape}",
        )
    return r


def _packed_support(reports: np.ndarray, k: int) -> np.ndarray:
    total = np.zeros(k, dtype=np.int64)
    for s in range(0, reports.shape[0], CHUNK):
        bits = np.unpackbits(reports[s : s + CHUNK], axis=1, count=k, bitorder="little")
        total += bits.sum(axis=0, dtype=np.int64)
    return total


# ------------------------------------------------------------------------- local hashing


def _next_prime(n: int) -> int:
    n = max(n, 2)
    while True:
        if n < 4 or all(n % d for d in range(2, math.isqrt(n) + 1)):
            return n
        n += 1


class LocalHashing(LDPProtocol):
    r"""Local hashing (OLH: :math:`g = \mathrm{round}(e^\varepsilon + 1)`; BLH: :math:`g = 2`).

    Each user draws a hash function :math:`h_{a,b}(v) = ((a v + b) \bmod P) \bmod g` from
    the **affine family over** :math:`\mathbb{Z}_P` (:math:`P` = the smallest prime
    :math:`\ge \max(k, g)`, :math:`a` uniform in :math:`\{1, \dots, P-1\}`, :math:`b`
    uniform in :math:`\{0, \dots, P-1\}`, independently per user), and reports
    :math:`(a, b, y)`, where :math:`y = h_{a,b}(v)` with probability
    :math:`p = e^\varepsilon/(e^\varepsilon + g - 1)` and each other hash value with
    probability :math:`(1-p)/(g-1)` (GRR on :math:`[g]`). The hash is public, so
    :math:`\varepsilon`-LDP holds for every hash (ratio :math:`e^\varepsilon`).

    The family is exactly pairwise independent on :math:`\mathbb{Z}_P`: for
    :math:`v \ne x` the pair :math:`(h(v), h(x))` before ``mod g`` is uniform over distinct
    pairs, so the collision probability is *exactly*
    :math:`c = (\sum_j m_j^2 - P)/(P(P-1))` with :math:`m_j = |\{w < P: w \bmod g = j\}|`
    (:math:`c \approx 1/g`), and

    .. math::

        p^* = p, \qquad q^* = c\,p + (1-c)\,\frac{1-p}{g-1}
        \;\Big(= \tfrac1g \text{ for an ideal hash}\Big),

    which makes the estimator exactly unbiased and the variance formula exact (Wang et al.
    2017, Section 4.4, with their :math:`q^* = 1/g` replaced by the family's exact value):
    :math:`\mathrm{Var}[\hat f_v] = \frac{f_v p(1-p) + (1-f_v) q^*(1-q^*)}{n (p-q^*)^2}`,
    which for :math:`q^* = 1/g`, :math:`g = e^\varepsilon+1` is
    :math:`\frac{4 e^\varepsilon}{n(e^\varepsilon-1)^2}` plus the :math:`f` term.

    **Fast exact support counting.** Counting naively is :math:`O(nk)`. Instead the reports
    are aggregated into a table :math:`T[a, b, y]` (size :math:`(P-1) P g`), and for every
    :math:`a` the support of :math:`z = a v \bmod P` is the cyclic correlation
    :math:`U_a[z] = \sum_{w} \sum_j [w \bmod g = j]\, T[a, (w - z) \bmod P, j]`, computed
    with FFTs along :math:`b`; then :math:`C_v = \sum_a U_a[a v \bmod P]`. Cost
    :math:`O(n + P^2 g \log P + P k)` (for :math:`k = 1024`, :math:`\varepsilon = 1`: a
    4.2-million-cell table), in blocks of ``2**24`` cells (users sorted by :math:`a` when
    there are several). Users' hashes are independent, unlike a shared finite seed
    family, whose users sharing a seed have correlated support indicators (extra
    variance growing like :math:`n/S`).

    Reports: ``(n, 3)`` int32 rows ``(a, b, y)``. Channel outputs (for small ``k``):
    index ``((a - 1) P + b) g + y``, probability :math:`\frac{1}{(P-1)P}` times
    :math:`p` or :math:`(1-p)/(g-1)`. The protocol refuses tables of more than
    ``MAX_HASH_TABLE`` (2**30) cells (large ``k`` with large ``g``).
    """

    def __init__(self, k: int, eps: float, *, g: int | None, name: str) -> None:
        self.name = name
        self.k = check_k(k, func=name)
        self.eps = check_eps(eps, func=name)
        e = math.exp(self.eps)
        self.g = math.floor(e + 1.5) if g is None else int(g)
        self.P = _next_prime(max(self.k, self.g))
        cells = (self.P - 1) * self.P * self.g
        if cells > MAX_HASH_TABLE:
            raise InvalidParameterError(
                f"{name}: the hash table for k = {self.k}, eps = {self.eps:g} (P = {self.P}, "
                f"g = {self.g}) would have {cells:,} cells, above the limit of "
                f"{MAX_HASH_TABLE:,}. Use a smaller k or eps, or grr/oue/hadamard."
            )
        g_, P = self.g, self.P
        self.p_star = e / (e + g_ - 1)
        m = np.bincount(np.arange(P) % g_, minlength=g_).astype(np.float64)
        self.collision = float((m @ m - P) / (P * (P - 1)))
        self.q_star = self.collision * self.p_star + (1 - self.collision) * (1 - self.p_star) / (
            g_ - 1
        )

    @property
    def n_outputs(self) -> int:
        return (self.P - 1) * self.P * self.g

    def _channel(self) -> np.ndarray:
        P, g, k = self.P, self.g, self.k
        a = np.arange(1, P)[:, None, None]
        b = np.arange(P)[None, :, None]
        h = ((a * np.arange(k)[None, None, :] + b) % P) % g  # (P-1, P, k)
        W = np.full((k, P - 1, P, g), (1 - self.p_star) / (g - 1) / ((P - 1) * P))
        ai, bi, xi = np.indices(h.shape)
        W[xi, ai, bi, h] = self.p_star / ((P - 1) * P)
        return W.reshape(k, -1)

    def _sample_chunk(self, v, gen):
        m, P, g = v.shape[0], self.P, self.g
        a = gen.integers(1, P, size=m)
        b = gen.integers(0, P, size=m)
        h = ((a * v + b) % P) % g
        keep = gen.random(m) < self.p_star
        y = np.where(keep, h, (h + gen.integers(1, g, size=m)) % g)
        return np.stack((a, b, y), axis=1).astype(np.int32)

    def _check_reports(self, reports, func):
        r = np.asarray(reports)
        if r.ndim != 2 or r.shape[1] != 3 or r.shape[0] == 0 or r.dtype.kind not in "iu":
            raise_param(
                func,
                "reports",
                "be a non-empty (n, 3) integer array of (a, b, y) rows (from sample)",
                f"an array of dtype {r.dtype} and shape {r.shape}",
            )
        lo = r.min(axis=0)
        hi = r.max(axis=0)
        if lo[0] < 1 or hi[0] >= self.P or lo[1] < 0 or hi[1] >= self.P or lo[2] < 0:
            raise_param(
                func, "reports", f"hold 1 <= a < {self.P} and 0 <= b < {self.P}", "other values"
            )
        if hi[2] >= self.g:
            raise_param(func, "reports", f"hold 0 <= y < {self.g}", int(hi[2]))
        return r

    def _table_block(self, a, b, y, a0: int, na: int) -> np.ndarray:
        P, g = self.P, self.g
        idx = ((a.astype(np.int64) - a0) * P + b) * g + y
        return np.bincount(idx, minlength=na * P * g).reshape(na, P, g)

    def _support_from_table(self, T: np.ndarray, a0: int, out: np.ndarray) -> None:
        """Add the support counts of the table block ``T[a - a0, b, y]`` to ``out``."""
        P, g = self.P, self.g
        r = (np.arange(P)[:, None] % g == np.arange(g)[None, :]).astype(np.float64)
        R = np.fft.rfft(r, axis=0)  # (P//2+1, g)
        Q = np.fft.rfft(T.astype(np.float64), axis=1)  # (na, P//2+1, g)
        U = np.fft.irfft(np.einsum("afj,fj->af", Q.conj(), R), n=P, axis=1)  # (na, P)
        aa = np.arange(a0, a0 + T.shape[0], dtype=np.int64)
        z = (aa[:, None] * np.arange(self.k)[None, :]) % P
        out += np.rint(np.take_along_axis(U, z, axis=1).sum(axis=0)).astype(np.int64)

    def _blocks(self):
        per_a = self.P * self.g
        step = max(1, _BLOCK // per_a)
        return [(a0, min(step, self.P - a0)) for a0 in range(1, self.P, step)]

    def _support(self, reports):
        out = np.zeros(self.k, dtype=np.int64)
        blocks = self._blocks()
        a, b, y = reports[:, 0], reports[:, 1], reports[:, 2]
        if len(blocks) == 1:
            self._support_from_table(self._table_block(a, b, y, 1, self.P - 1), 1, out)
            return out
        order = np.argsort(a, kind="stable")
        a_s = a[order]
        for a0, na in blocks:
            lo, hi = np.searchsorted(a_s, [a0, a0 + na])
            sel = order[lo:hi]
            T = self._table_block(a[sel], b[sel], y[sel], a0, na)
            self._support_from_table(T, a0, out)
        return out

    def _sample_support(self, v, gen):
        blocks = self._blocks()
        if len(blocks) > 1:
            return super()._sample_support(v, gen)
        T = np.zeros((self.P - 1, self.P, self.g), dtype=np.int64)
        for s in range(0, v.shape[0], CHUNK):
            r = self._sample_chunk(v[s : s + CHUNK], gen)
            T += self._table_block(r[:, 0], r[:, 1], r[:, 2], 1, self.P - 1)
        out = np.zeros(self.k, dtype=np.int64)
        self._support_from_table(T, 1, out)
        return out


# --------------------------------------------------------------------- Hadamard response


def _fwht(a: np.ndarray) -> np.ndarray:
    """Walsh–Hadamard transform (Sylvester order): ``out[i] = sum_y (-1)^{|i & y|} a[y]``."""
    n = a.shape[0]
    x = a.astype(np.float64)
    h = 1
    while h < n:
        x = x.reshape(-1, 2, h)
        x = np.stack((x[:, 0] + x[:, 1], x[:, 0] - x[:, 1]), axis=1)
        h *= 2
    return x.reshape(n)


class HadamardResponse(LDPProtocol):
    r"""Hadamard response (Acharya, Sun, Zhang 2019), the basic one-block version.

    With :math:`K = 2^{\lceil \log_2(k+1) \rceil}` and the Sylvester Hadamard matrix
    :math:`H_K[i, y] = (-1)^{|i \,\&\, y|}`, value :math:`v` owns the half
    :math:`S_v = \{y: H_K[v+1, y] = +1\}` (row 0, all ones, is skipped). The report is
    uniform on :math:`S_v` with probability :math:`e^\varepsilon/(e^\varepsilon+1)`, else
    uniform on its complement. Any two sets meet in :math:`K/4` points, so
    :math:`p^* = e^\varepsilon/(e^\varepsilon+1)`, :math:`q^* = 1/2` and

    .. math::

        \hat f_v = \frac{2(e^\varepsilon+1)}{e^\varepsilon-1}\Big(\frac{C_v}{n}
            - \frac12\Big), \qquad
        \mathrm{Var}[\hat f_v] = \frac{f_v\, p^*(1-p^*) + (1-f_v)/4}{n\,(p^* - 1/2)^2}
            = \frac{(e^\varepsilon+1)^2}{n (e^\varepsilon-1)^2} - \frac{f_v}{n}.

    The support counts come from the histogram :math:`N` of the reports by one fast
    Walsh–Hadamard transform: :math:`C_v = (n + (H_K N)_{v+1})/2`,
    :math:`O(n + K \log K)`. Reports: ``(n,)`` int64 in ``[0, K)``; channel ``k x K``.
    """

    def __init__(self, k: int, eps: float) -> None:
        self.name = "hadamard"
        self.k = check_k(k, func="hadamard")
        self.eps = check_eps(eps, func="hadamard")
        self.K = 1 << self.k.bit_length()
        e = math.exp(self.eps)
        self.p_star = e / (e + 1.0)
        self.q_star = 0.5

    @property
    def n_outputs(self) -> int:
        return self.K

    def _in_set(self, rows: np.ndarray, y: np.ndarray) -> np.ndarray:
        return (np.bitwise_count(rows & y) & 1) == 0

    def _channel(self) -> np.ndarray:
        rows = np.arange(1, self.k + 1)[:, None]
        inside = self._in_set(rows, np.arange(self.K)[None, :])
        return np.where(inside, 2 * self.p_star / self.K, 2 * (1 - self.p_star) / self.K)

    def _sample_chunk(self, v, gen):
        m = v.shape[0]
        rows = v + 1
        y = gen.integers(0, self.K, size=m)
        want = gen.random(m) < self.p_star
        flip = self._in_set(rows, y) != want
        low = rows & -rows  # flipping this bit of y moves it across the halves of row v+1
        return np.where(flip, y ^ low, y)

    def _check_reports(self, reports, func):
        return check_values(reports, self.K, func=func, name="reports")

    def _support(self, reports):
        N = np.bincount(reports, minlength=self.K)
        Hn = _fwht(N)
        return np.rint((reports.shape[0] + Hn[1 : self.k + 1]) / 2).astype(np.int64)


# ---------------------------------------------------------------------- subset selection


class SubsetSelection(LDPProtocol):
    r"""Subset selection (:math:`\omega`-subset mechanism; Wang et al. 2016, Ye–Barg 2018).

    The report is a subset :math:`Z` of :math:`\omega` values with

    .. math::

        P(Z \mid v) = \frac{e^{\varepsilon [v \in Z]}}
            {\binom{k-1}{\omega-1} e^\varepsilon + \binom{k-1}{\omega}},

    so :math:`p^* = \frac{\omega e^\varepsilon}{\omega e^\varepsilon + k - \omega}`,
    :math:`q^* = \frac{\omega\,((\omega-1) e^\varepsilon + k - \omega)}
    {(k-1)(\omega e^\varepsilon + k - \omega)}`, and the variance is the pure-protocol
    formula with these. :math:`\omega` is the integer next to the optimum
    :math:`k/(e^\varepsilon+1)` (floor or ceiling, within ``[1, k - 1]``) with the smaller
    total variance at uniform frequencies (Ye and Barg round this way; Wang et al.
    round to the nearest integer, which mostly agrees).

    Sampling: include :math:`v` with probability :math:`p^*`, then fill the subset with
    uniform other values (random keys + ``argpartition``, ``O(k)`` per user, chunked).
    Reports: packed bit vectors like :class:`UnaryEncoding` (bit ``j`` set iff
    :math:`j \in Z`). Channel (small ``k``): outputs are the :math:`\binom{k}{\omega}`
    subsets in lexicographic order (``itertools.combinations``).
    """

    def __init__(self, k: int, eps: float, *, omega: int | None = None) -> None:
        self.name = "subset_selection"
        self.k = check_k(k, func="subset_selection")
        self.eps = check_eps(eps, func="subset_selection")
        e = math.exp(self.eps)
        k_ = self.k
        if omega is None:
            t = k_ / (e + 1)
            cands = sorted({min(max(c, 1), k_ - 1) for c in (math.floor(t), math.ceil(t))})
            omega = min(cands, key=lambda w: self._uniform_var(w, e))
        elif not isinstance(omega, int) or not 1 <= omega <= k_ - 1:
            raise_param("subset_selection", "omega", f"be an integer in [1, {k_ - 1}]", repr(omega))
        self.omega = int(omega)
        self.p_star, self.q_star = self._pq(self.omega, e)

    def _pq(self, w: int, e: float) -> tuple[float, float]:
        k = self.k
        d = w * e + k - w
        return w * e / d, w * ((w - 1) * e + k - w) / ((k - 1) * d)

    def _uniform_var(self, w: int, e: float) -> float:
        p, q = self._pq(w, e)
        f = 1.0 / self.k
        return self.k * (f * p * (1 - p) + (1 - f) * q * (1 - q)) / (p - q) ** 2

    @property
    def n_outputs(self) -> int:
        return math.comb(self.k, self.omega)

    def _channel(self) -> np.ndarray:
        k, w = self.k, self.omega
        e = math.exp(self.eps)
        d = math.comb(k - 1, w - 1) * e + math.comb(k - 1, w)
        combos = np.array(list(itertools.combinations(range(k), w)), dtype=np.int64)
        member = np.zeros((k, combos.shape[0]), dtype=bool)
        member[combos.T, np.arange(combos.shape[0])[None, :]] = True
        return np.where(member, e / d, 1.0 / d)

    def _report_limit(self, n, func):
        UnaryEncoding._report_limit(self, n, func)  # same packed-bit reports

    def _sample_chunk(self, v, gen):
        m, k, w = v.shape[0], self.k, self.omega
        keys = gen.random((m, k))
        rows = np.arange(m)
        keys[rows, v] = np.where(gen.random(m) < self.p_star, -1.0, 2.0)
        idx = np.argpartition(keys, w - 1, axis=1)[:, :w]
        bits = np.zeros((m, k), dtype=bool)
        bits[rows[:, None], idx] = True
        return np.packbits(bits, axis=1, bitorder="little")

    def _check_reports(self, reports, func):
        return _check_packed(reports, self.k, func)

    def _support(self, reports):
        return _packed_support(reports, self.k)


# ----------------------------------------------------------------------------- factories


def grr(k: int, eps: float) -> GRR:
    """Generalized randomized response (k-RR) on ``k`` values at budget ``eps`` (nats).

    Raises
    ------
    InvalidParameterError
        For ``k`` not an integer >= 2 or ``eps`` not a finite number > 0.
    """
    return GRR(k, eps)


def oue(k: int, eps: float) -> UnaryEncoding:
    """Optimized unary encoding (OUE: ``p = 1/2``, ``q = 1/(e^eps + 1)``)."""
    return UnaryEncoding(k, eps, kind="oue")


def rappor(k: int, eps: float) -> UnaryEncoding:
    """Basic one-time RAPPOR = symmetric unary encoding (SUE), without Bloom filters:
    ``p = e^(eps/2)/(e^(eps/2) + 1)``, ``q = 1 - p``."""
    return UnaryEncoding(k, eps, kind="rappor")


def olh(k: int, eps: float) -> LocalHashing:
    """Optimized local hashing, ``g = round(e^eps + 1)`` (see :class:`LocalHashing`)."""
    return LocalHashing(k, eps, g=None, name="olh")


def blh(k: int, eps: float) -> LocalHashing:
    """Binary local hashing, ``g = 2`` (see :class:`LocalHashing`)."""
    return LocalHashing(k, eps, g=2, name="blh")


def hadamard(k: int, eps: float) -> HadamardResponse:
    """Hadamard response (see :class:`HadamardResponse`)."""
    return HadamardResponse(k, eps)


def subset_selection(k: int, eps: float, *, omega: int | None = None) -> SubsetSelection:
    """Subset selection with subsets of ``omega`` values (default: near ``k/(e^eps+1)``)."""
    return SubsetSelection(k, eps, omega=omega)


#: The factories by name (used by the report figure).
PROTOCOLS = {
    "grr": grr,
    "oue": oue,
    "rappor": rappor,
    "olh": olh,
    "blh": blh,
    "hadamard": hadamard,
    "subset_selection": subset_selection,
}
