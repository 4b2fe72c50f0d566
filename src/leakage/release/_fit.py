r"""Fit the joint of a private attribute X and a useful attribute Y from a table.

The joint is counted in one streaming pass (constant memory), with optional binning of
numeric columns and an optional symmetric Dirichlet prior; the point estimate is the
posterior mean :math:`(n_{xy} + a) / (n + a|X||Y|)` (the empirical joint for ``a = 0``).
:func:`posterior_leakage` reports a mechanism's per-letter leakage under the estimation
uncertainty: its value at an upper quantile of the Dirichlet posterior, by Monte Carlo.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import InvalidParameterError, SmallCountWarning
from . import _tables


@dataclasses.dataclass(frozen=True)
class Binning:
    """Right-open bins ``[edges[i], edges[i+1])`` (the last one closed) of a numeric column."""

    edges: tuple[float, ...]

    @property
    def labels(self) -> list[str]:
        e = self.edges
        return [
            f"[{e[i]:g}, {e[i + 1]:g}{']' if i == len(e) - 2 else ')'}" for i in range(len(e) - 1)
        ]

    def codes(self, values: np.ndarray) -> np.ndarray:
        """Bin index of each value; -1 outside the edges or missing."""
        v = np.asarray(values, dtype=float)
        idx = np.searchsorted(np.asarray(self.edges), v, side="right") - 1
        idx[v == self.edges[-1]] = len(self.edges) - 2
        bad = ~np.isfinite(v) | (idx < 0) | (idx > len(self.edges) - 2)
        idx[bad] = -1
        return idx


def _as_binning(spec: Any, col: str) -> Binning | None:
    if spec is None:
        return None
    e = np.asarray(spec, dtype=float)
    if e.ndim != 1 or e.size < 2 or not np.all(np.isfinite(e)) or np.any(np.diff(e) <= 0):
        raise InvalidParameterError(
            f"fit: the bins of '{col}' must be increasing finite edges (at least two); "
            f"got {spec!r}."
        )
    return Binning(tuple(float(v) for v in e))


class Coder:
    """Maps a column's raw values to letter indices 0..K-1 (labels as strings)."""

    def __init__(self, labels: Sequence[str], binning: Binning | None = None):
        self.labels = [str(v) for v in labels]
        self.binning = binning
        import pandas as pd

        self._index = pd.Index(self.labels)

    @classmethod
    def for_column(cls, labels: Sequence[str], bins: Mapping, column: str) -> Coder:
        """The coder of ``column``: its labels, binned when ``bins`` has its edges."""
        edges = bins.get(column)
        return cls(labels, None if edges is None else Binning(tuple(edges)))

    def codes(self, values: np.ndarray) -> np.ndarray:
        if self.binning is not None:
            return self.binning.codes(values)
        return self._index.get_indexer(_keys(values))

    def codes_arrow(self, col) -> np.ndarray:
        """:meth:`codes` of a pyarrow array, in Arrow's kernels (hash lookup of the
        labels cast to the column's type); -1 for unseen or missing values."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if isinstance(col, pa.ChunkedArray):
            col = col.combine_chunks()
        if pa.types.is_dictionary(col.type):
            col = col.dictionary_decode()
        t = col.type
        if self.binning is not None:
            return self.binning.codes(col.to_numpy(zero_copy_only=False))
        try:
            if pa.types.is_integer(t) or pa.types.is_floating(t):
                nums = [float(v) for v in self.labels]
                if pa.types.is_integer(t) and any(v != int(v) for v in nums):
                    raise ValueError
                vs = pa.array(nums).cast(t)
            elif pa.types.is_string(t) or pa.types.is_large_string(t):
                vs = pa.array(self.labels, type=t)
            else:
                raise ValueError
        except (ValueError, pa.ArrowInvalid):
            return self.codes(col.to_numpy(zero_copy_only=False))
        idx = pc.index_in(col, value_set=vs)
        return idx.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


def _keys(values: np.ndarray) -> np.ndarray:
    """Raw values as the string keys used for labels (missing values as None). Whole
    floats read as integers ("3.0" and 3 are the same category)."""
    import pandas as pd

    v = np.asarray(values)
    if v.dtype.kind == "f":
        out = np.empty(v.shape, dtype=object)
        ok = np.isfinite(v)
        whole = ok & (v == np.round(v))
        out[whole] = v[whole].astype(np.int64).astype(str)
        rest = ok & ~whole
        out[rest] = v[rest].astype(str)
        return out
    if v.dtype.kind in "iub":
        return v.astype(str).astype(object)
    s = pd.Series(v, dtype=object)
    miss = s.isna().to_numpy()
    out = s.astype(str).to_numpy(dtype=object)
    out[miss] = None
    return out


@dataclasses.dataclass(frozen=True)
class FittedJoint:
    """The fitted joint of (X, Y): counts, labels, the estimate and its trust.

    Attributes
    ----------
    private, useful : str
        Column names of X and Y.
    labels_x, labels_y : list of str
        Category labels (bins shown as intervals), in the order of the joint's axes.
    counts : ndarray of int64, shape (|X|, |Y|)
        Records per cell (exact).
    prior : float
        Symmetric Dirichlet concentration added to every cell (0: none).
    joint : ndarray, shape (|X|, |Y|)
        The estimate :math:`(n_{xy} + a) / (n + a|X||Y|)`; axis 0 = X (paper 001's
        ``p_xy``).
    small_cells : list of (x label, y label, count)
        Cells with fewer than ``min_count`` records.
    bins : dict
        The binning of numeric columns (column -> edges).
    """

    private: str
    useful: str
    labels_x: list
    labels_y: list
    counts: np.ndarray
    prior: float
    joint: np.ndarray
    small_cells: list
    min_count: int
    bins: dict

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    def coder(self, which: str) -> Coder:
        if which == "useful":
            return Coder.for_column(self.labels_y, self.bins, self.useful)
        return Coder.for_column(self.labels_x, self.bins, self.private)


def fit(
    table: Any,
    private: str,
    useful: str,
    *,
    bins: Mapping[str, Sequence[float]] | None = None,
    prior: float = 0.0,
    min_count: int = 5,
    missing: str = "error",
) -> FittedJoint:
    r"""Count the joint of ``private`` (X) and ``useful`` (Y) in ``table``.

    Parameters
    ----------
    table : path, pandas/polars DataFrame or pyarrow Table
        A ``.csv`` or ``.parquet`` path is read in streaming batches (constant memory).
    private, useful : str
        Column names.
    bins : dict, optional
        Column -> increasing bin edges for numeric columns (right-open bins, the last
        closed); values outside the edges are missing.
    prior : float
        Symmetric Dirichlet concentration per cell (e.g. 0.5, Jeffreys); 0 gives the
        empirical joint.
    min_count : int
        Cells with fewer records raise a :class:`SmallCountWarning` (their estimate is not
        to be trusted) and are listed in ``small_cells``.
    missing : {"error", "drop"}
        A record with a missing value in either column: an error naming the row, or skip.

    Returns
    -------
    FittedJoint
    """
    fn = "fit"
    if not (isinstance(prior, (int, float)) and math.isfinite(prior) and prior >= 0):
        raise InvalidParameterError(f"{fn}: 'prior' must be a finite number >= 0; got {prior!r}.")
    if missing not in ("error", "drop"):
        raise InvalidParameterError(f"{fn}: 'missing' must be 'error' or 'drop'; got {missing!r}.")
    binnings = {c: _as_binning((bins or {}).get(c), c) for c in (private, useful)}

    cats: dict[str, dict] = {private: {}, useful: {}}
    acc = np.zeros((0, 0), dtype=np.int64)  # counts in first-seen category order
    row0 = 0
    cols = [private] if private == useful else [private, useful]
    for batch in _tables.batches(table, cols, fn):
        codes = [_batch_codes(batch, c, binnings[c], cats[c]) for c in (private, useful)]
        bad = (codes[0] < 0) | (codes[1] < 0)
        if bad.any():
            if missing == "error":
                i = int(np.flatnonzero(bad)[0])
                c = private if codes[0][i] < 0 else useful
                raise InvalidParameterError(
                    f"{fn}: row {row0 + i} has a missing value (or one outside the bins) in "
                    f"column '{c}'; clean it, or pass missing='drop' to skip such records."
                )
            codes = [k[~bad] for k in codes]
        nb = [
            len(cats[c]) if binnings[c] is None else len(binnings[c].edges) - 1
            for c in (private, useful)
        ]
        if acc.shape != tuple(nb):  # new categories: grow the table
            acc = np.pad(acc, ((0, nb[0] - acc.shape[0]), (0, nb[1] - acc.shape[1])))
        if codes[0].size:
            flat = codes[0] * nb[1] + codes[1]
            acc += np.bincount(flat, minlength=nb[0] * nb[1]).reshape(nb)
        row0 += batch.num_rows
    labels = {}
    order = {}
    for c in (private, useful):
        if binnings[c] is not None:
            labels[c] = binnings[c].labels
            order[c] = np.arange(len(labels[c]))
        else:
            names = list(cats[c])
            srt = sorted(range(len(names)), key=lambda i: _sort_key(names[i]))
            labels[c] = [names[i] for i in srt]
            order[c] = np.argsort(srt)  # old index -> sorted position
    if not acc.any():
        raise InvalidParameterError(f"{fn}: the table has no complete records.")
    counts = np.zeros((len(labels[private]), len(labels[useful])), dtype=np.int64)
    counts[np.ix_(order[private], order[useful])] = acc
    # a category seen only beside a dropped (missing) value has no record: not a letter
    keep_x = (counts.sum(axis=1) > 0) | (binnings[private] is not None)
    keep_y = (counts.sum(axis=0) > 0) | (binnings[useful] is not None)
    counts = counts[keep_x][:, keep_y]
    labels[private] = [v for v, k in zip(labels[private], keep_x, strict=True) if k]
    labels[useful] = [v for v, k in zip(labels[useful], keep_y, strict=True) if k]
    n = counts.sum()
    joint = (counts + prior) / (n + prior * counts.size)
    small = [
        (labels[private][i], labels[useful][j], int(counts[i, j]))
        for i, j in zip(*np.nonzero(counts < min_count), strict=True)
    ]
    if small:
        warnings.warn(
            f"fit: {len(small)} cell(s) of ({private}, {useful}) have fewer than {min_count} "
            f"records (e.g. {small[0][0]!r}, {small[0][1]!r}: {small[0][2]}); their estimates "
            "are not to be trusted — merge categories, bin coarser, or see posterior_leakage.",
            SmallCountWarning,
            stacklevel=2,
        )
    return FittedJoint(
        private=private,
        useful=useful,
        labels_x=labels[private],
        labels_y=labels[useful],
        counts=counts,
        prior=float(prior),
        joint=joint,
        small_cells=small,
        min_count=int(min_count),
        bins={c: list(b.edges) for c, b in binnings.items() if b is not None},
    )


def _batch_codes(batch, col: str, binning: Binning | None, cats: dict) -> np.ndarray:
    """Category indices (first-seen order, growing ``cats``) of one batch's column; -1
    for missing values. Arrow's dictionary encoding does the per-record work; only the
    batch's distinct values go through Python."""
    import pyarrow.compute as pc

    arr = batch.column(batch.schema.get_field_index(col))
    if binning is not None:
        return binning.codes(arr.to_numpy(zero_copy_only=False))
    enc = pc.dictionary_encode(arr)
    keys = _keys(enc.dictionary.to_numpy(zero_copy_only=False))
    remap = np.array(
        [-1 if k is None else cats.setdefault(k, len(cats)) for k in keys] or [-1],
        dtype=np.int64,
    )
    idx = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return np.where(idx >= 0, remap[idx], -1)


def _sort_key(s: str):
    try:
        return (0, float(s), s)
    except ValueError:
        return (1, 0.0, s)


def _letter_leakage(joint: np.ndarray, W: np.ndarray, measure: str) -> np.ndarray:
    """Per-letter leakage for a stack of joints (..., |X|, |Y|) and P(u|y) (|Y|, K)."""
    pxu = joint @ W  # (..., X, K)
    pu = pxu.sum(axis=-2)  # (..., K)
    px = joint.sum(axis=-1)  # (..., X)
    with np.errstate(invalid="ignore", divide="ignore"):
        cond = pxu / pu[..., None, :]
        d = cond - px[..., :, None]
        if measure == "l1":
            out = np.abs(d).sum(axis=-2)
        else:
            out = np.sqrt((d**2 / px[..., :, None]).sum(axis=-2))
    return np.where(pu > 0, out, np.nan)


def posterior_leakage(
    fitted: FittedJoint,
    mechanism: Any,
    *,
    measure: str = "l1",
    quantile: float = 0.95,
    draws: int = 2000,
    prior: float | None = None,
    rng: np.random.Generator | int | None = 0,
) -> dict[str, np.ndarray]:
    r"""Per-letter leakage of ``mechanism`` (P(u|y), |Y|×K) at the point estimate and at
    the ``quantile`` of the Dirichlet posterior over the joint (counts + ``prior``; default
    the fit's prior, or 1/2 when that was 0), by ``draws`` Monte-Carlo joints.

    Returns ``{"point": ..., "quantile": ..., "mean": ...}``, each of shape (K,)
    (unitless: ℓ1 or √χ²; ``nan`` for a letter never released)."""
    fn = "posterior_leakage"
    if measure not in ("l1", "chi2"):
        raise InvalidParameterError(f"{fn}: 'measure' must be 'l1' or 'chi2'; got {measure!r}.")
    if not 0 < quantile < 1:
        raise InvalidParameterError(f"{fn}: 'quantile' must lie in (0, 1); got {quantile!r}.")
    W = np.asarray(getattr(mechanism, "matrix", mechanism), dtype=float)
    if W.shape[0] != fitted.counts.shape[1]:
        raise InvalidParameterError(
            f"{fn}: the mechanism needs one row per useful letter ({fitted.counts.shape[1]}); "
            f"got shape {W.shape}."
        )
    a = fitted.prior if prior is None else float(prior)
    a = a if a > 0 else 0.5
    gen = np.random.default_rng(rng)
    alpha = (fitted.counts + a).ravel()
    g = gen.standard_gamma(alpha, size=(int(draws), alpha.size))
    J = (g / g.sum(axis=1, keepdims=True)).reshape(int(draws), *fitted.counts.shape)
    vals = _letter_leakage(J, W, measure)
    seen = ~np.all(np.isnan(vals), axis=0)  # letters never released: nan throughout
    q, mean = np.full(W.shape[1], np.nan), np.full(W.shape[1], np.nan)
    q[seen] = np.nanquantile(vals[:, seen], quantile, axis=0)
    mean[seen] = np.nanmean(vals[:, seen], axis=0)
    return {"point": _letter_leakage(fitted.joint, W, measure), "quantile": q, "mean": mean}
