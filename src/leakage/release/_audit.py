r"""Audit a release: from the released table, the empirical joint of (X, U) and the
plug-in per-letter leakage with bootstrap intervals, beside the design's exact value.

The plug-in leakage of letter u is :math:`\|\hat P_{X|u} - \hat P_X\|_1` (or
:math:`\sqrt{\chi^2}`) from the counts :math:`n_{xu}`; the interval is the bias-corrected
percentile bootstrap at ``level`` over ``bootstrap`` multinomial resamples of the whole
table (vectorized): the percentiles shifted down by the bootstrap estimate of the plug-in's
upward bias, clipped at 0. A letter is *flagged* when the design's exact leakage lies outside its
interval: the released column does not behave as designed (or the sample is unlucky, at
rate about 1 - level per letter). Coverage measured on 200 simulated releases of a known
population (95% intervals): 0.94 and 0.93 for letters leaking 0.05, 0.95 for one leaking
5e-4 (20,000 records); with 2,000 records 0.98, 0.98 and 0.87 (the uncorrected percentile
interval: 0.965, 0.98 and 0.30). For letters released for very few records read a flag as
"look closer", not as proof.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from .._validation import as_generator, check_size
from ..errors import InvalidParameterError
from . import _tables
from ._apply import _policy, check_release, release_codes
from ._checks import (
    CHUNK_ENTRIES,
    MAX_BOOTSTRAP,
    MAX_VALUES,
    check_column,
    check_instance,
    check_open_unit,
    param_error,
)
from ._design import Release
from ._fit import Coder, _letter_leakage


@dataclasses.dataclass(frozen=True)
class AuditResult:
    """Per released letter: plug-in leakage, its bootstrap interval, the design's exact
    leakage and the budget (unitless ℓ1 or √χ², per ``measure``)."""

    labels_u: list
    counts: np.ndarray  # (|X|, K) records of each (x, u)
    plugin: np.ndarray
    interval: np.ndarray  # (K, 2)
    design: np.ndarray
    budgets: np.ndarray
    flagged: np.ndarray
    level: float
    bootstrap: int
    measure: str
    n: int


def _x_codes(release: Release, source: Any, unknown: str, func: str):
    """Codes of X of the source's records that the apply kept (the same ``unknown``
    policy applied to their Y), batch by batch."""
    cx = release.coder("private")
    row0 = 0
    for b in _tables.batches(source, [release.private, release.useful], func, name="source"):
        _, ok = release_codes(release, b.column(release.useful), row0, unknown, func, "source")
        x = cx.codes(_tables.column_values(b, release.private), func=func, name="source")
        bad = x < 0
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InvalidParameterError(
                f"{func}: row {row0 + i} of the source has a value in '{release.private}' "
                "that the release does not know."
            )
        yield x[ok]
        row0 += b.num_rows


def _codes(release: Release, table: Any, names: list[str], func: str, name: str):
    """Codes of the columns ``names`` (the private and/or the released one), by batch."""
    coders = [
        release.coder("private") if c == release.private else Coder(release.labels_u, None, c)
        for c in names
    ]
    row0 = 0
    for b in _tables.batches(table, names, func, name=name):
        out = []
        for c, coder in zip(names, coders, strict=True):
            v = coder.codes(_tables.column_values(b, c), func=func, name=name)
            if (v < 0).any():
                i = int(np.flatnonzero(v < 0)[0])
                raise InvalidParameterError(
                    f"{func}: row {row0 + i} has a value in '{c}' that the release does not know."
                )
            out.append(v)
        yield out
        row0 += b.num_rows


def _counts(
    release: Release, released: Any, column: str, source: Any, unknown: str, func: str
) -> np.ndarray:
    K = len(release.labels_u)
    counts = np.zeros((len(release.labels_x), K), dtype=np.int64)
    if source is None:
        for x, u in _codes(release, released, [release.private, column], func, "released"):
            np.add.at(counts, (x, u), 1)
        return counts
    # the public table beside the source: records in the same order, the dropped ones
    # found again by the same policy; streamed in step, leftovers carried over
    us = (u for (u,) in _codes(release, released, [column], func, "released"))
    bx = np.empty(0, dtype=np.int64)
    bu = np.empty(0, dtype=np.int64)
    n_x = n_u = 0
    for x in _x_codes(release, source, unknown, func):
        n_x += x.size
        bx = np.concatenate([bx, x])
        while bu.size < bx.size:
            nxt = next(us, None)
            if nxt is None:
                break
            n_u += nxt.size
            bu = np.concatenate([bu, nxt])
        m = min(bx.size, bu.size)
        np.add.at(counts, (bx[:m], bu[:m]), 1)
        bx, bu = bx[m:], bu[m:]
    for rest in us:
        n_u += rest.size
    if n_x != n_u:
        raise InvalidParameterError(
            f"{func}: the released table has {n_u:,} records and the source {n_x:,} (after "
            f"the unknown={unknown!r} policy): they do not belong to one apply. Pass the "
            "source the release was applied to and the same 'unknown' policy, or audit the "
            "audit file written with audit_out."
        )
    return counts


def audit(
    release: Release,
    released: Any,
    *,
    column: str = "released",
    source: Any = None,
    unknown: str = "error",
    bootstrap: int = 1000,
    level: float = 0.95,
    rng: np.random.Generator | int | None = 0,
) -> AuditResult:
    """Audit a release against its design: from the private audit file of (X, U) that
    :func:`leakage.release.apply` writes with ``audit_out``, or from the public table
    beside the source it was applied to.

    Parameters
    ----------
    release : Release
    released : path (.csv/.parquet), DataFrame or pyarrow Table
        The audit file (the private and the released column), or, with ``source``, the
        public table. At least one record; every value known to the release.
    column : str
        The released column (not the private one).
    source : path, DataFrame, pyarrow Table or None
        The table the release was applied to: its records, less those the ``unknown``
        policy dropped, are matched in order with the public table's (the apply keeps
        the order). None: ``released`` holds X.
    unknown : {"error", "drop", "map:LABEL"}
        With ``source``: the policy the apply used, to find the dropped records again.
    bootstrap : int
        Resamples, in ``[1, MAX_BOOTSTRAP]`` (``MAX_BOOTSTRAP`` = 100,000) and with
        ``bootstrap * K <= 2**27`` (K released letters); resampled in chunks, so memory
        stays bounded.
    level : float
        Interval level, in (0, 1).
    rng : None, int >= 0 or numpy.random.Generator

    Raises
    ------
    InvalidParameterError
        For an argument outside the above (checked before the table is read), an empty
        table, or a value the release does not know.
    """
    fn = "audit"
    check_release(release, fn)
    column = check_column(column, func=fn, name="column")
    if column == release.private:
        raise param_error(
            fn, "column", f"name the released column, not the private one ({column!r})", column
        )
    K = len(release.labels_u)
    hint = "Use fewer resamples (1,000, the default, is plenty for a 95% interval)."
    B = check_size(
        bootstrap, func=fn, name="bootstrap", limit=MAX_BOOTSTRAP, what="resamples", hint=hint
    )
    check_size(
        B * K,
        func=fn,
        name="bootstrap",
        limit=MAX_VALUES,
        what="values (resamples x released letters)",
        hint=hint,
    )
    level = check_open_unit(level, func=fn, name="level")
    gen = as_generator(rng, func=fn, name="rng")
    _policy(unknown, release, fn)
    if source is None:
        names = _tables.column_names(released, fn, "released")
        if names is not None and release.private not in names and column in names:
            raise param_error(
                fn,
                "released",
                f"hold the private column '{release.private}' when no 'source' is given",
                got_text=f"a public table (columns: {', '.join(names)})",
                hint="Pass source= the table the release was applied to (and its unknown "
                "policy), or audit the audit file written by apply(..., audit_out=...).",
            )
    counts = _counts(release, released, column, source, unknown, fn)
    n = int(counts.sum())
    if n == 0:
        raise param_error(fn, "released", "hold at least one record", got_text="an empty table")
    measure = release.measure
    p = counts / n
    eye = np.eye(counts.shape[1])
    plugin = _letter_leakage(p, eye, measure)
    # chunks of resamples keep the work arrays near CHUNK_ENTRIES; the stream (and so every
    # value) is the same as in one block
    per = max(1, CHUNK_ENTRIES // counts.size)
    vals = np.empty((B, K))
    for s0 in range(0, B, per):
        c = min(per, B - s0)
        res = gen.multinomial(n, p.ravel(), size=c).reshape(c, *counts.shape) / n
        vals[s0 : s0 + c] = _letter_leakage(res, eye, measure)
    a = (1 - level) / 2
    lo = np.full(counts.shape[1], np.nan)
    hi = np.full(counts.shape[1], np.nan)
    seen = ~np.all(np.isnan(vals), axis=0)  # letters never released have no interval
    # bias-corrected percentile interval: the plug-in of a norm is biased upward, and the
    # bootstrap sees that bias once more; shifting the percentiles by the bootstrap's
    # estimate b = mean(theta*) - theta^ restores the coverage near 0 (measured, module
    # docstring)
    v = vals[:, seen]
    b = np.nanmean(v, axis=0) - plugin[seen]
    lo[seen] = np.maximum(np.nanquantile(v, a, axis=0) - b, 0.0)
    hi[seen] = np.nanquantile(v, 1 - a, axis=0) - b
    design = np.asarray(release.leakages, dtype=float)
    flagged = ~np.isnan(design) & ((design < lo) | (design > hi))
    return AuditResult(
        labels_u=list(release.labels_u),
        counts=counts,
        plugin=plugin,
        interval=np.stack([lo, hi], axis=1),
        design=design,
        budgets=np.asarray(release.budgets, dtype=float),
        flagged=flagged,
        level=float(level),
        bootstrap=B,
        measure=measure,
        n=n,
    )


def plot_audit(result: AuditResult, path, *, title: str | None = None) -> None:
    """Budget, design and audited leakage (with its interval) per letter, as a PNG
    (atomic write)."""
    fn = "plot_audit"
    check_instance(result, AuditResult, func=fn, name="result", what="an AuditResult (audit)")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..io import atomic_write

    K = len(result.labels_u)
    x = np.arange(K)
    fig, ax = plt.subplots(figsize=(max(4.0, 1.2 * K + 2) + 2.6, 3.6))
    ax.scatter(x - 0.15, result.budgets, marker="_", s=400, color="k", label="budget")
    ax.scatter(x, result.design, marker="o", color="C0", label="design (exact)")
    err = np.abs(result.interval.T - result.plugin)
    ax.errorbar(
        x + 0.15,
        result.plugin,
        yerr=err,
        fmt="s",
        color="C1",
        capsize=4,
        label=f"audited ({result.level:.0%} bootstrap interval)",
    )
    never = np.asarray(result.counts).sum(axis=0) == 0
    if never.any():
        # no record carries the letter: no plug-in value, no interval; mark it at 0
        ax.scatter(
            x[never] + 0.15,
            np.zeros(int(never.sum())),
            marker="s",
            s=60,
            facecolors="none",
            edgecolors="C1",
            linewidths=1.5,
            label="never released (no records)",
            zorder=3,
        )
    for k in np.flatnonzero(result.flagged):
        ax.annotate(
            "flagged",
            (x[k], result.design[k]),
            textcoords="offset points",
            xytext=(0, 8),
            ha="center",
            color="C3",
        )
    ax.set_xticks(x, result.labels_u)
    ax.set_xlabel("released letter u")
    ax.set_ylabel("ℓ1 leakage" if result.measure == "l1" else "√χ² leakage")
    ax.set_title(title or f"Audit of the released column (n = {result.n:,})")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_write(path, "wb") as f:
        fig.savefig(f, format="png", dpi=120)
    plt.close(fig)
