r"""Fit the joint of a private attribute X and a useful attribute Y from a table.

The joint is counted in one streaming pass (constant memory), with optional binning of
numeric columns and an optional symmetric Dirichlet prior; the point estimate is the
posterior mean :math:`(n_{xy} + a) / (n + a|X||Y|)` (the empirical joint for ``a = 0``).
:func:`posterior_leakage` reports a mechanism's per-letter leakage under the estimation
uncertainty: its value at an upper quantile of the Dirichlet posterior, by Monte Carlo.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._validation import (
    as_channel,
    as_generator,
    check_choice,
    check_nonnegative,
    check_positive,
    check_size,
)
from ..errors import InvalidParameterError, SmallCountWarning
from . import _tables
from ._checks import (
    CHUNK_ENTRIES,
    MAX_CELLS,
    MAX_DRAWS,
    MAX_VALUES,
    check_column,
    check_count,
    check_instance,
    check_open_unit,
    param_error,
)


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

    def codes(
        self,
        values: np.ndarray,
        *,
        func: str = "Binning.codes",
        name: str = "values",
        column: str = "",
    ) -> np.ndarray:
        """Bin index of each value; -1 outside the edges or missing. Values that are not
        numbers raise :class:`~leakage.InvalidParameterError` naming ``func``, the argument
        ``name`` and the ``column``."""
        v = numeric(values, func=func, name=name, requirement=f"hold numbers in column '{column}'")
        idx = np.searchsorted(np.asarray(self.edges), v, side="right") - 1
        idx[v == self.edges[-1]] = len(self.edges) - 2
        bad = ~np.isfinite(v) | (idx < 0) | (idx > len(self.edges) - 2)
        idx[bad] = -1
        return idx


def numeric(values, *, func: str, name: str, requirement: str, hint: str = "") -> np.ndarray:
    """The values of a binned column as floats (missing values as NaN); values that are
    not numbers raise :class:`~leakage.InvalidParameterError` with an example."""
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        ex = _first_non_numeric(values)
        raise param_error(
            func,
            name,
            requirement,
            got_text=f"the value {ex!r}",
            hint=hint or "Bin only numeric columns, or cast the column to numbers.",
        ) from exc


def _first_non_numeric(values) -> Any:
    """The first value that ``float`` refuses (only called once conversion has failed)."""
    flat = np.asarray(values, dtype=object).ravel()
    for v in flat:
        try:
            float(v)
        except (TypeError, ValueError):
            if v is not None:
                return v
    return flat[0] if flat.size else None


def as_binning(spec: Any, col: str, func: str, name: str = "bins") -> Binning | None:
    """The :class:`Binning` of ``col`` from its edges (None: not binned); edges must be
    increasing and finite, at least two."""
    if spec is None:
        return None
    req = f"give increasing finite edges (at least two) for column '{col}'"
    if isinstance(spec, (str, bytes, Mapping)):
        raise param_error(func, name, req, spec)
    try:
        e = np.asarray(spec, dtype=float)
    except (TypeError, ValueError) as exc:
        raise param_error(func, name, req, spec) from exc
    if e.ndim != 1 or e.size < 2 or not np.all(np.isfinite(e)) or np.any(np.diff(e) <= 0):
        raise param_error(func, name, req, spec)
    return Binning(tuple(float(v) for v in e))


class Coder:
    """Maps a column's raw values to letter indices 0..K-1 (labels as strings)."""

    def __init__(self, labels: Sequence[str], binning: Binning | None = None, column: str = ""):
        self.labels = [str(v) for v in labels]
        self.binning = binning
        self.column = column
        import pandas as pd

        self._index = pd.Index(self.labels)

    @classmethod
    def for_column(cls, labels: Sequence[str], bins: Mapping, column: str) -> Coder:
        """The coder of ``column``: its labels, binned when ``bins`` has its edges."""
        edges = bins.get(column)
        return cls(labels, None if edges is None else Binning(tuple(edges)), column)

    def codes(
        self, values: np.ndarray, *, func: str = "Coder.codes", name: str = "values"
    ) -> np.ndarray:
        """Letter index of each value (-1: unseen or missing); ``func`` and ``name`` name
        the caller and its argument if a binned column holds values that are not numbers."""
        if self.binning is not None:
            return self.binning.codes(values, func=func, name=name, column=self.column)
        return self._index.get_indexer(keys(values, func=func, name=name, column=self.column))

    def codes_arrow(self, col, *, func: str = "Coder.codes", name: str = "values") -> np.ndarray:
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
            return self.codes(col.to_numpy(zero_copy_only=False), func=func, name=name)
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
            return self.codes(col.to_numpy(zero_copy_only=False), func=func, name=name)
        idx = pc.index_in(col, value_set=vs)
        return idx.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


def keys(values: np.ndarray, *, func: str, name: str, column: str) -> np.ndarray:
    """:func:`_keys`, refusing values that have no string key (bytes that are not UTF-8,
    say) with :class:`~leakage.InvalidParameterError` naming ``func``, ``name``, ``column``."""
    try:
        return _keys(values)
    except (TypeError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise param_error(
            func,
            name,
            f"hold categories (UTF-8 strings, numbers or booleans) in column '{column}'",
            got_text=f"values that cannot be read as text ({type(exc).__name__}: {exc})",
            hint="Decode or clean the column first.",
        ) from exc


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
    private: str | None = None,
    useful: str | None = None,
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
        Every column of a DataFrame holds one type (mixed ``str`` and numbers are refused:
        cast the column first).
    private, useful : str
        Column names of X and Y; two different columns (required, although they have
        defaults so that a missing one gets a clear error).
    bins : dict, optional
        Column -> increasing finite bin edges (at least two) for numeric columns
        (right-open bins, the last closed); values outside the edges are missing. Only
        ``private`` and ``useful`` may be binned.
    prior : float
        Symmetric Dirichlet concentration per cell, finite and >= 0 (e.g. 0.5,
        Jeffreys); 0 gives the empirical joint.
    min_count : int
        An integer >= 0. Cells with fewer records raise a :class:`SmallCountWarning`
        (their estimate is not to be trusted) and are listed in ``small_cells``.
    missing : {"error", "drop"}
        A record with a missing value in either column: an error naming the row, or skip.

    Returns
    -------
    FittedJoint

    Raises
    ------
    InvalidParameterError
        For any argument outside the above; for a table with no complete record; and when
        the joint would have more than ``MAX_CELLS`` = 2**22 cells |X| x |Y| (checked
        before the count table grows: bin the columns coarser or merge categories).
    """
    fn = "fit"
    _tables.check_source(table, fn, "table")
    private = check_column(private, func=fn, name="private")
    useful = check_column(useful, func=fn, name="useful")
    if useful == private:
        raise param_error(
            fn,
            "useful",
            f"name a column other than the private one ('{private}')",
            useful,
            hint="X and Y are two different columns (a release of X itself leaks all of it).",
        )
    check_nonnegative(prior, func=fn, name="prior")
    min_count = check_count(min_count, func=fn, name="min_count")
    check_choice(missing, ("error", "drop"), func=fn, name="missing")
    if bins is None:
        bins = {}
    elif not isinstance(bins, Mapping):
        raise param_error(
            fn, "bins", "be a mapping column -> edges, e.g. {'age': [18, 30, 50, 65]}", bins
        )
    extra = [c for c in bins if c not in (private, useful)]
    if extra:
        raise param_error(
            fn,
            "bins",
            f"give edges only for the fitted columns '{private}' and '{useful}'",
            got_text=f"edges for {extra[0]!r}",
            hint="Check the column's name, or leave it out of 'bins'.",
        )
    binnings = {c: as_binning(bins.get(c), c, fn) for c in (private, useful)}
    for c, b in binnings.items():
        if b is not None:
            check_size(
                len(b.edges) - 1,
                func=fn,
                name="bins",
                limit=MAX_CELLS,
                what=f"bins of '{c}'",
                hint="Use coarser bins; a release is designed over far fewer letters.",
            )

    cats: dict[str, dict] = {private: {}, useful: {}}
    acc = np.zeros((0, 0), dtype=np.int64)  # counts in first-seen category order
    row0 = 0
    for batch in _tables.batches(table, [private, useful], fn, name="table"):
        codes = [_batch_codes(batch, c, binnings[c], cats[c], fn) for c in (private, useful)]
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
            _check_cells(nb, private, useful, fn, "table")
            acc = np.pad(acc, ((0, nb[0] - acc.shape[0]), (0, nb[1] - acc.shape[1])))
        if codes[0].size:
            flat = codes[0] * nb[1] + codes[1]
            acc += np.bincount(flat, minlength=nb[0] * nb[1]).reshape(nb)
        row0 += batch.num_rows
    if not acc.any():
        raise param_error(
            fn,
            "table",
            f"hold at least one complete record (values in both '{private}' and '{useful}')",
            got_text=f"{row0:,} records and none complete",
        )
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


def _check_cells(sizes, private: str, useful: str, fn: str, name: str) -> None:
    """Refuse a joint over ``MAX_CELLS`` cells before the count table is allocated."""
    check_size(
        sizes[0] * sizes[1],
        func=fn,
        name=name,
        limit=MAX_CELLS,
        what="cells",
        hint=f"('{private}' has {sizes[0]:,} categories and '{useful}' {sizes[1]:,}): bin "
        "the columns coarser or merge rare categories; a release is designed over far "
        "fewer letters.",
    )


def _batch_codes(batch, col: str, binning: Binning | None, cats: dict, fn: str) -> np.ndarray:
    """Category indices (first-seen order, growing ``cats``) of one batch's column; -1
    for missing values. Arrow's dictionary encoding does the per-record work; only the
    batch's distinct values go through Python."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = batch.column(batch.schema.get_field_index(col))
    if binning is not None:
        v = numeric(
            arr.to_numpy(zero_copy_only=False),
            func=fn,
            name="bins",
            requirement=f"give edges only for numeric columns (column '{col}' is binned)",
            hint=f"Leave '{col}' out of 'bins' to fit it as categories, or cast it to numbers.",
        )
        return binning.codes(v)
    try:
        enc = pc.dictionary_encode(arr)
    except (pa.ArrowException, NotImplementedError) as exc:
        raise param_error(
            fn,
            "table",
            f"hold categories (strings, numbers or booleans) in column '{col}'",
            got_text=f"a column of type {arr.type}",
        ) from exc
    ks = keys(enc.dictionary.to_numpy(zero_copy_only=False), func=fn, name="table", column=col)
    remap = np.array(
        [-1 if k is None else cats.setdefault(k, len(cats)) for k in ks] or [-1],
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

    Parameters
    ----------
    fitted : FittedJoint
        From :func:`fit`.
    mechanism : Mechanism or array-like, shape (|Y|, K)
        A row-stochastic P(u|y) (validated).
    measure : {"l1", "chi2"}
    quantile : float
        In (0, 1).
    draws : int
        Monte-Carlo joints, in ``[1, MAX_DRAWS]`` (``MAX_DRAWS`` = 100,000), and with
        ``draws * K <= 2**27`` (the values kept for the quantile). The joints are drawn
        in chunks, so memory stays bounded; the Monte-Carlo error of the quantile shrinks
        like ``1/sqrt(draws)``.
    prior : float, optional
        Dirichlet concentration per cell, finite and > 0.
    rng : None, int >= 0 or numpy.random.Generator

    Returns
    -------
    dict
        ``{"point": ..., "quantile": ..., "mean": ...}``, each of shape (K,) (unitless:
        ℓ1 or √χ²; ``nan`` for a letter never released).

    Raises
    ------
    InvalidParameterError, InvalidDistributionError
        For any argument outside the above (checked before anything is drawn).
    """
    fn = "posterior_leakage"
    check_instance(fitted, FittedJoint, func=fn, name="fitted", what="a FittedJoint (from fit)")
    check_choice(measure, ("l1", "chi2"), func=fn, name="measure")
    check_open_unit(quantile, func=fn, name="quantile")
    W = as_channel(getattr(mechanism, "matrix", mechanism), func=fn, name="mechanism")
    if W.shape[0] != fitted.counts.shape[1]:
        raise param_error(
            fn,
            "mechanism",
            f"have one row per useful letter ({fitted.counts.shape[1]} rows, P(u|y))",
            got_text=f"shape {W.shape}",
        )
    K = W.shape[1]
    hint = "Use fewer draws: the Monte-Carlo error of the quantile shrinks like 1/sqrt(draws)."
    draws = check_size(draws, func=fn, name="draws", limit=MAX_DRAWS, what="draws", hint=hint)
    check_size(
        draws * K,
        func=fn,
        name="draws",
        limit=MAX_VALUES,
        what="values (draws x released letters)",
        hint=hint,
    )
    if prior is not None:
        prior = check_positive(prior, func=fn, name="prior")
    gen = as_generator(rng, func=fn, name="rng")
    a = fitted.prior if prior is None else prior
    a = a if a > 0 else 0.5
    alpha = (fitted.counts + a).ravel()
    shape = fitted.counts.shape
    # chunks of draws keep the work arrays near CHUNK_ENTRIES; the stream (and so every
    # value) is the same as in one block
    per = max(1, CHUNK_ENTRIES // max(alpha.size, shape[0] * K))
    vals = np.empty((draws, K))
    for s0 in range(0, draws, per):
        c = min(per, draws - s0)
        g = gen.standard_gamma(alpha, size=(c, alpha.size))
        J = (g / g.sum(axis=1, keepdims=True)).reshape(c, *shape)
        vals[s0 : s0 + c] = _letter_leakage(J, W, measure)
    seen = ~np.all(np.isnan(vals), axis=0)  # letters never released: nan throughout
    q, mean = np.full(K, np.nan), np.full(K, np.nan)
    q[seen] = np.nanquantile(vals[:, seen], quantile, axis=0)
    mean[seen] = np.nanmean(vals[:, seen], axis=0)
    return {"point": _letter_leakage(fitted.joint, W, measure), "quantile": q, "mean": mean}
