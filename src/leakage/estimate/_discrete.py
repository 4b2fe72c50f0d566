r"""Leakage of a real system estimated from paired samples of a discrete secret and output.

Everything starts from the count table ``N[x, y]`` (:func:`counts`). Point estimates are
plug-in values of the :mod:`leakage.measures` on the empirical joint ``N / n`` (or, for
mutual information, bias-corrected estimators); intervals come from resampling the count
table (bootstrap: ``Multinomial(n, N / n)``, cost independent of ``n``) or from the
``Dirichlet(N + 1/2)`` posterior over the joint. The coverage
of every interval was measured (``benchmarks/coverage_estimate.py``, the table in
``docs/estimate_coverage.md``).

Every resample is scored by vectorized formulas on a batch of tables (``_batch_*``); their
agreement with :func:`leakage.mutual_information`, :func:`leakage.maximal_leakage` and
:func:`leakage.sibson_mutual_information` on a single table is tested.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import warnings
from typing import Any, NamedTuple

import numpy as np
from scipy import special, stats

from .. import measures
from .._validation import (
    as_generator,
    check_alpha,
    check_base,
    check_choice,
    check_size,
    clip_interval,
)
from ..errors import InvalidDistributionError, InvalidParameterError, SmallCountWarning
from ..results import Estimate

__all__ = [
    "Counts",
    "IndependenceTest",
    "bayes_risk",
    "bayes_vulnerability",
    "counts",
    "independence_test",
    "maximal_leakage",
    "min_entropy_leakage",
    "mutual_information",
    "sibson_mutual_information",
]

#: Default point estimator of :func:`mutual_information` (``method="auto"``), chosen by the
#: bias/RMSE study of ``benchmarks/bench_estimate.py``.
AUTO_METHOD = "jackknife"
MI_METHODS = ("auto", "plugin", "miller_madow", "jackknife", "chao_shen", "dirichlet", "knn")
INTERVALS = ("bootstrap", "bootstrap-bc", "dirichlet", None)
BAYES_RISK_METHODS = ("frequentist", "knn", "knn-log", "knn-log10")
#: Largest number of resamples (or permutations) accepted.
MAX_RESAMPLES = 100_000
#: ``|bootstrap bias| / standard error`` above which an interval is flagged: measured on
#: the joints of ``docs/estimate_coverage.md``, cells with a median ratio <= 0.25 covered
#: 0.88-0.98 and cells above 0.4 covered 0.00-0.82.
BIAS_WARNING = 0.5
#: Largest number of table cells (or permuted samples) scored at once.
CHUNK_ENTRIES = 2**24
_PREFIX = "estimate."


# --------------------------------------------------------------------------- validation


def _raise(func: str, name: str, requirement: str, got: str, error=InvalidParameterError):
    raise error(f"{_PREFIX}{func}: the '{name}' argument must {requirement}; got {got} instead.")


def _missing(a: np.ndarray) -> np.ndarray:
    """Boolean mask of missing entries (NaN, None, pandas NA/NaT)."""
    if a.dtype.kind in "fc":
        return np.isnan(a)
    if a.dtype.kind == "M" or a.dtype.kind == "m":
        return np.isnat(a)
    if a.dtype.kind == "O":
        try:
            import pandas as pd

            return np.asarray(pd.isna(a), dtype=bool)
        except ImportError:  # pragma: no cover - pandas is optional
            return np.array([v is None or v != v for v in a.tolist()], dtype=bool)
    return np.zeros(a.shape, dtype=bool)


def _as_samples(v: Any, *, func: str, name: str) -> np.ndarray:
    """A 1-D array of labels without missing values."""
    if hasattr(v, "to_numpy") and not isinstance(v, np.ndarray):  # pandas Series / Index
        v = v.to_numpy()
    try:
        a = np.asarray(v)
    except (TypeError, ValueError) as exc:
        _raise(func, name, "be a 1-D array of labels", f"an unreadable value ({exc})")
    if a.ndim != 1:
        _raise(
            func,
            name,
            "be a 1-D array of labels (one per sample)",
            f"an array of shape {a.shape}",
            InvalidDistributionError,
        )
    miss = _missing(a)
    if miss.any():
        i = int(np.argmax(miss))
        _raise(
            func,
            name,
            "have no missing values (NaN/None)",
            f"{a[i]!r} at index {i}",
            InvalidDistributionError,
        )
    return a


def _factorize(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct labels and the index of each sample's label (vectorized)."""
    if a.dtype.kind in "iub" and a.size:
        lo, hi = int(a.min()), int(a.max())
        if hi - lo <= max(2 * a.size, 1 << 16):  # a bincount beats a sort
            shifted = (a - lo).astype(np.intp) if a.dtype.kind != "b" else a.astype(np.intp)
            present = np.bincount(shifted, minlength=hi - lo + 1) > 0
            codes = np.cumsum(present) - 1
            values = np.flatnonzero(present) + (lo if a.dtype.kind != "b" else 0)
            return values.astype(a.dtype), codes[shifted]
    try:
        labels, inverse = np.unique(a, return_inverse=True)
        return labels, inverse.reshape(-1)
    except TypeError:  # unorderable mixed labels: fall back to first-seen order
        seen: dict = {}
        inverse = np.fromiter((seen.setdefault(v, len(seen)) for v in a.tolist()), np.intp)
        labels = np.empty(len(seen), dtype=object)
        labels[:] = list(seen)
        return labels, inverse


class Counts(NamedTuple):
    """Count table of paired samples: what every estimator of this module starts from.

    Returned by :func:`counts` (arrays) and :func:`count_log` (a CSV/Parquet log streamed
    in batches, a pandas or Dask DataFrame); pass it as ``x`` (with ``y`` omitted) to any
    estimator or to :func:`independence_test` to skip the counting.

    Attributes
    ----------
    table : ndarray of int64, shape (|X|, |Y|)
        ``table[i, j]`` = number of samples with secret ``labels_x[i]`` and observable
        ``labels_y[j]``.
    labels_x, labels_y : ndarray
        The distinct labels, sorted (first-seen order for unorderable mixed labels).
    """

    table: np.ndarray
    labels_x: np.ndarray
    labels_y: np.ndarray

    @property
    def n(self) -> int:
        """Number of paired samples counted."""
        return int(self.table.sum())


def _from_counts(c: Counts, func: str):
    """Validate a :class:`Counts`; drop all-zero rows and columns."""
    try:
        t = np.asarray(c.table)
    except (TypeError, ValueError) as exc:
        _raise(func, "x", "be a Counts table of counts", f"an unreadable table ({exc})")
    ok_kind = t.dtype.kind in "iu" or (
        t.dtype.kind == "f" and np.isfinite(t).all() and (t == np.round(t)).all()
    )
    if t.ndim != 2 or not ok_kind or (t < 0).any():
        _raise(
            func,
            "x",
            "be a Counts whose table is a 2-D array of non-negative integer counts",
            f"a table of shape {t.shape} and dtype {t.dtype}",
            InvalidDistributionError,
        )
    lx, ly = np.asarray(c.labels_x), np.asarray(c.labels_y)
    if lx.shape != (t.shape[0],) or ly.shape != (t.shape[1],):
        _raise(
            func,
            "x",
            "be a Counts with one label per row and per column of its table",
            f"{lx.shape} row labels and {ly.shape} column labels for a {t.shape} table",
            InvalidDistributionError,
        )
    t = t.astype(np.int64)
    rows, cols = t.sum(axis=1) > 0, t.sum(axis=0) > 0
    t, lx, ly = t[rows][:, cols], lx[rows], ly[cols]
    if t.sum() < 2:
        _raise(
            func, "x", "hold at least 2 paired samples", f"{int(t.sum())}", InvalidDistributionError
        )
    if t.shape[0] < 2:
        _raise(
            func,
            "x",
            "take at least 2 distinct secret values (nothing can leak otherwise)",
            f"only {lx[0]!r}",
            InvalidDistributionError,
        )
    return t, lx, ly, None, None


def _numeric_only(x: Any, func: str) -> None:
    if isinstance(x, Counts):
        _raise(
            func,
            "x",
            "be the secrets paired with numeric observables for method='knn' (a count "
            "table has no distances); use a discrete method",
            "a Counts table",
        )


def _paired(x: Any, y: Any, func: str):
    """Validate paired samples; return (table, labels_x, labels_y, ix, iy).

    ``x`` may be a :class:`Counts` (``y`` omitted): ``ix`` and ``iy`` are then ``None``."""
    if isinstance(x, Counts):
        if y is not None:
            _raise(func, "y", "be omitted when 'x' is a Counts table", f"{type(y).__name__}")
        return _from_counts(x, func)
    if y is None:
        _raise(
            func,
            "y",
            "hold the observables paired with 'x' (or pass a Counts table as 'x')",
            "None",
        )
    xa = _as_samples(x, func=func, name="x")
    ya = _as_samples(y, func=func, name="y")
    if xa.shape[0] != ya.shape[0]:
        _raise(
            func,
            "y",
            f"have one observation per secret in 'x' ({xa.shape[0]} samples)",
            f"{ya.shape[0]} samples",
            InvalidDistributionError,
        )
    if xa.shape[0] < 2:
        _raise(
            func, "x", "hold at least 2 paired samples", f"{xa.shape[0]}", InvalidDistributionError
        )
    lx, ix = _factorize(xa)
    ly, iy = _factorize(ya)
    if lx.shape[0] < 2:
        _raise(
            func,
            "x",
            "take at least 2 distinct secret values (nothing can leak otherwise)",
            f"only {lx[0]!r}",
            InvalidDistributionError,
        )
    ny = ly.shape[0]
    table = np.bincount(ix * ny + iy, minlength=lx.shape[0] * ny).reshape(lx.shape[0], ny)
    return table.astype(np.int64, copy=False), lx, ly, ix, iy


def _check_level(level: Any, func: str) -> float:
    ok = isinstance(level, numbers.Real) and not isinstance(level, bool)
    if not ok or not 0 < level < 1:
        _raise(func, "level", "be a real number in (0, 1), e.g. 0.95", repr(level))
    return float(level)


def _check_common(func, interval, level, resamples, base, rng):
    interval = check_choice(interval, INTERVALS, func=_PREFIX + func, name="interval")
    level = _check_level(level, func)
    resamples = check_size(
        resamples,
        func=_PREFIX + func,
        name="resamples",
        limit=MAX_RESAMPLES,
        what="resamples",
    )
    base = check_base(base, func=_PREFIX + func)
    gen = as_generator(rng, func=_PREFIX + func)
    return interval, level, resamples, base, gen


def counts(x: Any, y: Any) -> Counts:
    """Contingency table of paired samples.

    Parameters
    ----------
    x, y : (n,) array-like or pandas Series
        Paired samples (secret, observable); any hashable labels, no missing values.

    Returns
    -------
    Counts
        A named tuple ``(table, labels_x, labels_y)``: ``table[i, j]`` (int64) = number
        of samples with ``x == labels_x[i]`` and ``y == labels_y[j]``; the labels sorted
        (first-seen order for unorderable mixed labels).

    Examples
    --------
    >>> from leakage.estimate import counts
    >>> table, lx, ly = counts([0, 0, 1, 1], ["a", "b", "b", "b"])
    >>> table.tolist(), lx.tolist(), ly.tolist()
    ([[1, 1], [0, 2]], [0, 1], ['a', 'b'])
    """
    table, lx, ly, _, _ = _paired(x, y, "counts")
    return Counts(table, lx, ly)


# ------------------------------------------------------------------ batch estimators (nats)
# Every function takes tables of shape (B, n_x, n_y) (float; counts or probabilities) and
# returns (B,) values in nats.


def _ent_counts(c: np.ndarray, axis) -> np.ndarray:
    """Plug-in entropy (nats) of count vectors along ``axis``: log N - sum c log c / N."""
    total = c.sum(axis=axis)
    return np.log(total) - special.xlogy(c, c).sum(axis=axis) / total


def _margins(t: np.ndarray):
    return t.sum(axis=2), t.sum(axis=1), t.reshape(t.shape[0], -1)


def _mi_plugin(t: np.ndarray) -> np.ndarray:
    r, c, j = _margins(t)
    return np.maximum(_ent_counts(r, 1) + _ent_counts(c, 1) - _ent_counts(j, 1), 0.0)


def _mi_miller_madow(t: np.ndarray) -> np.ndarray:
    r, c, j = _margins(t)
    n = j.sum(axis=1)
    m = (r > 0).sum(axis=1) + (c > 0).sum(axis=1) - (j > 0).sum(axis=1) - 1
    return _mi_plugin(t) + m / (2.0 * n)


def _mi_jackknife(t: np.ndarray) -> np.ndarray:
    r, c, _ = _margins(t)
    n = r.sum(axis=1)
    xl = special.xlogy
    s_xy = xl(t, t).sum(axis=(1, 2))
    s_x = xl(r, r).sum(axis=1)
    s_y = xl(c, c).sum(axis=1)
    tm = np.maximum(t - 1, 0)
    rm = np.maximum(r - 1, 0)
    cm = np.maximum(c - 1, 0)
    d_xy = xl(tm, tm) - xl(t, t)  # change of sum c log c when one sample leaves cell (i, j)
    d_x = (xl(rm, rm) - xl(r, r))[:, :, None]
    d_y = (xl(cm, cm) - xl(c, c))[:, None, :]
    n1 = (n - 1)[:, None, None]
    s = (s_x + s_y - s_xy)[:, None, None]
    loo = np.log(n1) - (s + d_x + d_y - d_xy) / n1  # I of the table without one (i, j) sample
    mean_loo = (t * loo).sum(axis=(1, 2)) / n
    return n * _mi_plugin(t) - (n - 1) * mean_loo


def _ent_chao_shen(c: np.ndarray) -> np.ndarray:
    n = c.sum(axis=1, keepdims=True)
    f1 = (c == 1).sum(axis=1, keepdims=True)
    f1 = np.where(f1 >= n, n - 1, f1)
    p = (1.0 - f1 / n) * c / n
    lam = -np.expm1(n * np.log1p(-p))  # 1 - (1 - p)^n
    terms = np.where(c > 0, -special.xlogy(p, p) / np.where(c > 0, lam, 1.0), 0.0)
    return terms.sum(axis=1)


def _mi_chao_shen(t: np.ndarray) -> np.ndarray:
    r, c, j = _margins(t)
    return _ent_chao_shen(r) + _ent_chao_shen(c) - _ent_chao_shen(j)


def _mi_dirichlet(t: np.ndarray) -> np.ndarray:
    a = t + 0.5
    ar = a.sum(axis=2, keepdims=True)
    ac = a.sum(axis=1, keepdims=True)
    at = a.sum(axis=(1, 2), keepdims=True)
    psi = special.digamma
    inner = psi(a + 1) - psi(ar + 1) - psi(ac + 1) + psi(at + 1)
    return (a * inner).sum(axis=(1, 2)) / at[:, 0, 0]


_MI_BATCH = {
    "plugin": _mi_plugin,
    "miller_madow": _mi_miller_madow,
    "jackknife": _mi_jackknife,
    "chao_shen": _mi_chao_shen,
    "dirichlet": _mi_dirichlet,
}


def _posterior_v(t: np.ndarray) -> np.ndarray:
    return t.max(axis=1).sum(axis=1) / t.sum(axis=(1, 2))


def _prior_v(t: np.ndarray) -> np.ndarray:
    r = t.sum(axis=2)
    return r.max(axis=1) / r.sum(axis=1)


def _channel(t: np.ndarray):
    r = t.sum(axis=2, keepdims=True)
    return r[:, :, 0] / r.sum(axis=(1, 2))[:, None], t / np.where(r > 0, r, 1.0)


def _maxl(t: np.ndarray) -> np.ndarray:
    _, w = _channel(t)
    return np.log(w.max(axis=1).sum(axis=1))


def _sibson(alpha: float):
    if alpha == 1.0:
        return _mi_plugin
    if math.isinf(alpha):
        return _maxl

    def stat(t: np.ndarray) -> np.ndarray:
        p, w = _channel(t)
        s = (p[:, :, None] * w**alpha).sum(axis=1) ** (1.0 / alpha)
        return np.maximum(alpha / (alpha - 1.0) * np.log(s.sum(axis=1)), 0.0)

    return stat


def _min_entropy(t: np.ndarray) -> np.ndarray:
    return np.log(_posterior_v(t) / _prior_v(t))


# --------------------------------------------------------------------------- intervals


def _resampled(table: np.ndarray, stat, *, kind: str, resamples: int, gen) -> np.ndarray:
    """``stat`` on ``resamples`` bootstrap (multinomial) or Dirichlet-posterior tables."""
    shape = table.shape
    flat = table.ravel().astype(np.float64)
    n = int(flat.sum())
    chunk = max(1, CHUNK_ENTRIES // flat.size)
    out = np.empty(resamples)
    for start in range(0, resamples, chunk):
        b = min(chunk, resamples - start)
        if kind == "dirichlet":
            g = gen.standard_gamma(flat + 0.5, size=(b, flat.size))
            t = g / g.sum(axis=1, keepdims=True)
        else:
            t = gen.multinomial(n, flat / n, size=b).astype(np.float64)
        out[start : start + b] = stat(t.reshape(b, *shape))
    return out


def _estimate(
    table,
    *,
    measure,
    method,
    value,
    stat,
    interval,
    level,
    resamples,
    gen,
    scale,
    base,
    bounds,
    details,
    plugin=None,
    depth=0,
):
    """Assemble an :class:`Estimate`: ``stat`` gives nats (or probabilities) per table."""
    n = int(table.sum())
    info = {
        "table_shape": tuple(int(s) for s in table.shape),
        "nonzero_cells": int(np.count_nonzero(table)),
        **details,
    }
    lo = hi = math.nan
    name = "none"
    plugin = stat if plugin is None else plugin
    if interval is not None:
        kind = "dirichlet" if interval == "dirichlet" else "bootstrap"
        boot = _resampled(table, stat, kind=kind, resamples=resamples, gen=gen) / scale
        q = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
        lo, hi = float(q[0]), float(q[1])
        info["resamples"] = resamples
        info["se"] = float(boot.std(ddof=1)) if resamples > 1 else math.nan
        if kind == "bootstrap":
            # In the bootstrap world the truth is the plug-in value of the observed table,
            # ``world``; the resampled errors ``boot - world`` stand for ``value - truth``.
            # Percentile: the resampled values, moved so that ``world`` sits on ``value``
            # (the classic percentile interval for the plug-in estimator, where the two
            # coincide). Bias-corrected: shifted further by ``-2 * bias``, with ``bias =
            # mean(boot) - world`` the bootstrap estimate of the estimator's bias.
            world = float(plugin(table[None].astype(np.float64))[0]) / scale
            bias = float(boot.mean()) - world
            lo, hi = lo + value - world, hi + value - world
            info["bootstrap_bias"] = bias
            se = info["se"]
            ratio = abs(bias) / se if se > 0 else (0.0 if bias == 0 else math.inf)
            info["bias_to_se"] = ratio
            if ratio > BIAS_WARNING:
                _warn_bias(measure, ratio, interval, 4 + depth)
            if interval == "bootstrap-bc":
                lo, hi = lo - 2 * bias, hi - 2 * bias
                name = "bootstrap-bc"
            else:
                name = "bootstrap-percentile"
        else:
            name = "dirichlet"
        # both ends into the measure's range (a shifted interval may leave it entirely)
        lo, hi = clip_interval(lo, hi, *bounds)
    return Estimate(
        measure=measure,
        value=float(value),
        lower=lo,
        upper=hi,
        level=level,
        method=method,
        interval=name,
        n=n,
        base=base,
        details=info,
    )


def _warn_bias(measure: str, ratio: float, interval: str, stacklevel: int) -> None:
    """The bootstrap sees a bias comparable to the spread: the interval is unreliable."""
    if interval == "bootstrap-bc":
        advice = (
            "the bias correction is that large too, and coverage can still fall short: "
            "collect more samples"
        )
    else:
        advice = "use interval='bootstrap-bc'"
        if measure == "mutual_information":
            advice += " or method='auto'"
        advice += ", or collect more samples"
    warnings.warn(
        f"{_PREFIX}{measure}: the estimator's bootstrap bias is {ratio:.2f} times its "
        f"standard error, so the {interval} interval is unreliable (measured coverage falls "
        "far below the level in such cases, e.g. secrets nearly tied for a column's "
        "maximum, many cells for n, or no leakage at all; docs/estimate_coverage.md); "
        f"{advice}. To ask whether anything leaks, use independence_test.",
        SmallCountWarning,
        stacklevel=stacklevel,
    )


def _empirical(table: np.ndarray):
    """``p_x`` (row sums / n) and the row-normalized channel of a count table."""
    r = table.sum(axis=1)
    return r / r.sum(), table / r[:, None]


# --------------------------------------------------------------------------- estimators


def mutual_information(
    x: Any,
    y: Any = None,
    *,
    method: str = "auto",
    interval: str | None = "bootstrap",
    level: float = 0.95,
    resamples: int | None = None,
    base: float = 2,
    rng: Any = None,
) -> Estimate:
    r"""Mutual information :math:`I(X;Y)` estimated from paired samples, with an interval.

    With the count table :math:`N_{xy}`, :math:`n = \sum N_{xy}` and the plug-in entropy
    :math:`\hat H(N) = \log n - \frac1n \sum N \log N` of a count vector:

    * ``"plugin"``: :math:`\hat I = \hat H(X) + \hat H(Y) - \hat H(X,Y)`, i.e.
      :func:`leakage.mutual_information` of the empirical joint (biased upwards by about
      :math:`(|X|-1)(|Y|-1) / (2n)` nats).
    * ``"miller_madow"``: each entropy gets :math:`H_{MM} = \hat H + (m-1)/(2n)`, ``m`` the
      number of nonzero cells, so :math:`I_{MM} = \hat I + (m_X + m_Y - m_{XY} - 1)/(2n)`.
    * ``"jackknife"``: :math:`I_{JK} = n \hat I_n - (n-1)\,\overline{\hat I_{n-1}}`, the mean
      over the ``n`` leave-one-out tables, computed per cell in closed form (one
      leave-one-out value per nonzero cell, weighted by its count).
    * ``"chao_shen"``: coverage-adjusted entropies, :math:`C = 1 - f_1/n` (``f_1``
      singletons), :math:`\tilde p = C \hat p`,
      :math:`H_{CS} = -\sum \tilde p \log \tilde p \,/\, (1 - (1-\tilde p)^n)`, and
      :math:`I_{CS} = H_{CS}(X) + H_{CS}(Y) - H_{CS}(X,Y)`.
    * ``"dirichlet"``: the posterior mean of :math:`I` under a ``Dirichlet(N + 1/2)``
      posterior over the joint (Jeffreys prior on the observed cells). The Monte-Carlo
      mean is replaced by its exact value (Hutter 2002), with :math:`a = N + 1/2`:
      :math:`E[I] = \frac1A \sum_{xy} a_{xy}\,[\psi(a_{xy}+1) - \psi(a_{x\cdot}+1)
      - \psi(a_{\cdot y}+1) + \psi(A+1)]`.
    * ``"auto"`` (default): ``"jackknife"``, the smallest RMSE averaged over the
      (joint, n) cells of the study in ``benchmarks/bench_estimate.py`` (0.104 bits
      against 0.118 Chao-Shen, 0.143 Miller-Madow, 0.148 Dirichlet, 0.205 plug-in; n from
      50 to 1000, up to 72 cells), with |bias| at most 0.06 bits except on 72 cells at
      n = 50 (0.24, plug-in 0.88), and the best-calibrated bootstrap intervals.
    * ``"knn"``: numeric ``y`` (shape ``(n,)`` or ``(n, d)``), the k-nearest-neighbour
      estimator of :mod:`leakage.estimate._knn` (``interval`` is ignored).

    Bias-corrected values may be slightly negative for independent data; the interval is
    clipped to ``[0, inf)`` (an interval entirely below 0 is reported as ``[0, half its
    width]``: the data cannot tell the leakage from 0 within that).

    Parameters
    ----------
    x, y : (n,) array-like or pandas Series
        Paired samples: secret and observable (any hashable labels). Or ``x`` a
        :class:`Counts` table (from :func:`counts` or :func:`count_log`), ``y`` omitted.
    method : str, default "auto"
        Point estimator (see above).
    interval : {"bootstrap", "bootstrap-bc", "dirichlet", None}, default "bootstrap"
        ``"bootstrap"``: percentile interval of the estimator applied to ``resamples``
        tables drawn from ``Multinomial(n, N/n)`` (cost independent of ``n``), moved by
        ``value - I_plugin`` (the truth of the bootstrap world is the plug-in value
        ``I_plugin`` of the observed table; nothing moves for ``"plugin"``). The
        percentile interval of the *plug-in* estimator inherits its bias and undercovers
        when the table has many cells for ``n``: use a bias-corrected method or
        ``"bootstrap-bc"`` then. ``"bootstrap-bc"``: the same shifted by ``-2 * bias``,
        ``bias`` = mean of the resampled estimates minus ``I_plugin``. ``"dirichlet"``:
        equal-tailed credible interval of the plug-in ``I`` of ``Dirichlet(N + 1/2)``
        posterior draws (Jeffreys prior on every cell of the observed rows and columns).
        Measured coverage (``docs/estimate_coverage.md``): close to nominal on joints
        with all cells positive and clear dependence, but far below it (i) on joints
        with structural zeros, where the prior mass on cells that cannot occur dilutes
        the dependence (0.04-0.81 up to n = 10,000), and (ii) near independence, where
        the posterior of ``I`` sits above the truth as the plug-in does (0.00-0.18 on a
        weakly dependent 6x12 joint up to n = 10,000). A prior on the observed cells only
        repairs (i) but undercovers joints with rare cells at small n (0.64), so it is
        not offered. ``"bootstrap"`` with ``method="auto"`` is the calibrated choice.
        ``None``: no interval (``lower = upper = nan``).
    level : float, default 0.95
        Nominal coverage, in (0, 1).
    resamples : int, optional
        Bootstrap resamples or posterior draws (at most 100,000); default 1000, and 200
        for ``"knn"`` (each resample is a k-NN estimate).
    base : float, default 2
        Logarithm base (2: bits).
    rng : numpy.random.Generator, int or None
        Randomness of the interval.

    Returns
    -------
    Estimate
        ``measure="mutual_information"``; ``details`` holds ``table_shape``,
        ``nonzero_cells``, ``resamples``, ``se`` (standard deviation of the resampled
        values) and ``bootstrap_bias``.

    Examples
    --------
    >>> import numpy as np
    >>> from leakage import estimate
    >>> x = np.array([0, 0, 1, 1] * 50)
    >>> est = estimate.mutual_information(x, x, method="plugin", interval=None)
    >>> est.value, est.interval
    (1.0, 'none')
    """
    fn = "mutual_information"
    method = check_choice(method, MI_METHODS, func=_PREFIX + fn, name="method")
    if method == "knn":
        _numeric_only(x, fn)
        from ._knn import knn_mutual_information

        resamples = 200 if resamples is None else resamples
        return knn_mutual_information(x, y, level=level, resamples=resamples, base=base, rng=rng)
    resamples = 1000 if resamples is None else resamples
    interval, level, resamples, base, gen = _check_common(fn, interval, level, resamples, base, rng)
    table = _paired(x, y, fn)[0]
    if method == "auto":
        method = AUTO_METHOD
    scale = math.log(base)
    if method == "plugin":
        value = measures.mutual_information(*_empirical(table), base=base)
    else:
        value = float(_MI_BATCH[method](table[None].astype(np.float64))[0]) / scale
    stat = _mi_plugin if interval == "dirichlet" else _MI_BATCH[method]
    return _estimate(
        table,
        measure="mutual_information",
        method=method,
        value=value,
        stat=stat,
        interval=interval,
        level=level,
        resamples=resamples,
        gen=gen,
        scale=scale,
        base=base,
        bounds=(0.0, math.inf),
        details={},
        plugin=_mi_plugin,
    )


def _plugin_measure(
    fn,
    measure,
    x,
    y,
    value_of,
    stat,
    *,
    interval,
    level,
    resamples,
    base,
    rng,
    scale_log=True,
    bounds=(0.0, math.inf),
    details=None,
):
    interval, level, resamples, base, gen = _check_common(fn, interval, level, resamples, base, rng)
    table = _paired(x, y, fn)[0]
    return _estimate(
        table,
        measure=measure,
        method="plugin",
        value=value_of(table, base),
        stat=stat,
        interval=interval,
        level=level,
        resamples=resamples,
        gen=gen,
        scale=math.log(base) if scale_log else 1.0,
        base=base,
        bounds=bounds,
        details=details or {},
        depth=1,
    )


_COMMON_PARAMS = """
    x, y : (n,) array-like or pandas Series
        Paired samples: secret and observable (any hashable labels). Or ``x`` a
        :class:`Counts` table (from :func:`counts` or :func:`count_log`), ``y`` omitted.
    interval : {"bootstrap", "bootstrap-bc", "dirichlet", None}, default "bootstrap"
        How the interval is made (see :func:`mutual_information`); the resampled tables
        are scored with the same plug-in formula.
    level : float, default 0.95
        Nominal coverage, in (0, 1).
    resamples : int, default 1000
        Bootstrap resamples or posterior draws (at most 100,000).
    rng : numpy.random.Generator, int or None
        Randomness of the interval."""


def maximal_leakage(
    x: Any,
    y: Any = None,
    *,
    interval: str | None = "bootstrap",
    level: float = 0.95,
    resamples: int = 1000,
    base: float = 2,
    rng: Any = None,
) -> Estimate:
    r"""Maximal leakage :math:`\log \sum_y \max_x \hat P(y|x)` of the empirical channel.

    The plug-in value is :func:`leakage.maximal_leakage` of ``p_x = N_{x.}/n`` and the
    row-normalized counts; the max runs over the secrets seen in the samples. It is
    biased upwards at small ``n`` (each row maximum picks up noise).

    Parameters
    ----------%s
    base : float, default 2
        Logarithm base (2: bits).

    Returns
    -------
    Estimate
        ``measure="maximal_leakage"``, ``method="plugin"``.
    """
    return _plugin_measure(
        "maximal_leakage",
        "maximal_leakage",
        x,
        y,
        lambda t, b: measures.maximal_leakage(*_empirical(t), base=b),
        _maxl,
        interval=interval,
        level=level,
        resamples=resamples,
        base=base,
        rng=rng,
    )


def sibson_mutual_information(
    x: Any,
    y: Any = None,
    alpha: float | None = None,
    *,
    interval: str | None = "bootstrap",
    level: float = 0.95,
    resamples: int = 1000,
    base: float = 2,
    rng: Any = None,
) -> Estimate:
    r"""Sibson's :math:`\alpha`-mutual information of the empirical joint.

    .. math:: \hat I_\alpha = \frac{\alpha}{\alpha-1}\log\sum_y\Big(\sum_x \hat p(x)\,
              \hat W(y|x)^\alpha\Big)^{1/\alpha},

    :func:`leakage.sibson_mutual_information` of ``p_x = N_{x.}/n`` and the
    row-normalized counts (``alpha = 1``: plug-in mutual information, ``alpha = inf``:
    maximal leakage).

    Parameters
    ----------%s
    alpha : float
        Order in ``(0, inf]`` (required; by keyword when ``x`` is a :class:`Counts`).
    base : float, default 2
        Logarithm base (2: bits).

    Returns
    -------
    Estimate
        ``measure="sibson"``, ``method="plugin"``, ``details["alpha"]``.
    """
    if alpha is None:
        _raise(
            "sibson_mutual_information",
            "alpha",
            "be given: the order in (0, inf], e.g. alpha=2",
            "None",
        )
    alpha = check_alpha(alpha, func=_PREFIX + "sibson_mutual_information")
    return _plugin_measure(
        "sibson_mutual_information",
        "sibson",
        x,
        y,
        lambda t, b: measures.sibson_mutual_information(*_empirical(t), alpha, base=b),
        _sibson(alpha),
        interval=interval,
        level=level,
        resamples=resamples,
        base=base,
        rng=rng,
        details={"alpha": alpha},
    )


def min_entropy_leakage(
    x: Any,
    y: Any = None,
    *,
    prior_vulnerability: float | None = None,
    interval: str | None = "bootstrap",
    level: float = 0.95,
    resamples: int = 1000,
    base: float = 2,
    rng: Any = None,
) -> Estimate:
    r"""Min-entropy leakage :math:`\log V(X|Y) / V(X)` of the empirical joint.

    With prior Bayes vulnerability :math:`\hat V(X) = \max_x N_{x\cdot}/n` and posterior
    :math:`\hat V(X|Y) = \sum_y \max_x N_{xy}/n`, the value is
    :math:`\log \sum_y \max_x N_{xy} - \log \max_x N_{x\cdot}`.

    When two secrets tie (or nearly tie) for the most likely prior value, the plug-in
    :math:`\hat V(X)` is biased up by order :math:`1/\sqrt n`, the order of the interval
    itself, and the bootstrap cannot see it: intervals then undercover at every ``n``
    (0.41-0.77 for a uniform prior in ``docs/estimate_coverage.md``). If the prior is
    known (a designed experiment, :func:`from_system`), pass ``prior_vulnerability``.

    Parameters
    ----------%s
    prior_vulnerability : float, optional
        The known :math:`V(X) = \max_x \pi(x)` in (0, 1]: then the value is
        :math:`\log \hat V(X|Y) - \log V(X)` (clipped at 0) and only the posterior
        vulnerability is estimated (the interval calibrated as that of
        :func:`bayes_vulnerability`).
    base : float, default 2
        Logarithm base (2: bits).

    Returns
    -------
    Estimate
        ``measure="min_entropy_leakage"``, ``method="plugin"``;
        ``details["prior_vulnerability"]`` when it was given.
    """
    fn = "min_entropy_leakage"
    stat, details = _min_entropy, {}
    if prior_vulnerability is not None:
        ok = isinstance(prior_vulnerability, numbers.Real) and not isinstance(
            prior_vulnerability, bool
        )
        if not ok or not 0 < prior_vulnerability <= 1:
            _raise(
                fn,
                "prior_vulnerability",
                "be the known max_x p(x), a number in (0, 1]",
                repr(prior_vulnerability),
            )
        log_v = math.log(float(prior_vulnerability))

        def stat(t: np.ndarray) -> np.ndarray:
            return np.log(_posterior_v(t)) - log_v

        details = {"prior_vulnerability": float(prior_vulnerability)}
    return _plugin_measure(
        fn,
        "min_entropy_leakage",
        x,
        y,
        lambda t, b: max(0.0, float(stat(t[None].astype(np.float64))[0]) / math.log(b)),
        stat,
        interval=interval,
        level=level,
        resamples=resamples,
        base=base,
        rng=rng,
        details=details,
    )


def bayes_vulnerability(
    x: Any,
    y: Any = None,
    *,
    interval: str | None = "bootstrap",
    level: float = 0.95,
    resamples: int = 1000,
    rng: Any = None,
) -> Estimate:
    r"""Posterior Bayes vulnerability :math:`V(X|Y) = \sum_y \max_x P(x, y)`.

    The probability that an adversary who sees ``y`` guesses ``x`` in one try, estimated
    by :math:`\sum_y \max_x N_{xy} / n` (biased upwards at small ``n``).

    Parameters
    ----------%s

    Returns
    -------
    Estimate
        ``measure="bayes_vulnerability"``, ``method="plugin"``, a probability
        (``base`` is ``nan``).
    """
    est = _plugin_measure(
        "bayes_vulnerability",
        "bayes_vulnerability",
        x,
        y,
        lambda t, b: float(_posterior_v(t[None].astype(np.float64))[0]),
        _posterior_v,
        interval=interval,
        level=level,
        resamples=resamples,
        base=2,
        rng=rng,
        scale_log=False,
        bounds=(0.0, 1.0),
    )
    return dataclasses.replace(est, base=math.nan)


def bayes_risk(
    x: Any,
    y: Any = None,
    *,
    method: str = "frequentist",
    interval: str | None = "bootstrap",
    level: float = 0.95,
    resamples: int | None = None,
    rng: Any = None,
) -> Estimate:
    r"""Bayes risk :math:`1 - V(X|Y)`: the error of the best guess of ``x`` from ``y``.

    ``method="frequentist"``: :math:`1 - \sum_y \max_x N_{xy}/n` from the count table
    (discrete ``y``; biased downwards at small ``n``). Numeric ``y`` of shape ``(n,)`` or
    ``(n, d)``, by nearest neighbours (:func:`leakage.estimate.knn_bayes_risk`;
    ``interval`` is ignored): ``method="knn"``, the Cover--Hart *lower bound* from the
    1-NN error; ``"knn-log"`` / ``"knn-log10"``, F-BLEAU's consistent estimate, the
    leave-one-out error of the ``k_n``-NN rule with ``k_n = ln n`` / ``log10 n`` (above
    the Bayes risk on average at finite ``n``).

    Parameters
    ----------%s
    method : {"frequentist", "knn", "knn-log", "knn-log10"}, default "frequentist"
        The nearest-neighbour methods bootstrap 200 times unless ``resamples`` is given.

    Returns
    -------
    Estimate
        ``measure="bayes_risk"``, a probability (``base`` is ``nan``).
    """
    fn = "bayes_risk"
    method = check_choice(method, BAYES_RISK_METHODS, func=_PREFIX + fn, name="method")
    if method.startswith("knn"):
        _numeric_only(x, fn)
        from ._knn import knn_bayes_risk

        rule = {"knn": "nn-bound", "knn-log": "log", "knn-log10": "log10"}[method]
        resamples = 200 if resamples is None else resamples
        return knn_bayes_risk(x, y, rule=rule, level=level, resamples=resamples, rng=rng)
    resamples = 1000 if resamples is None else resamples
    est = _plugin_measure(
        fn,
        "bayes_risk",
        x,
        y,
        lambda t, b: 1.0 - float(_posterior_v(t[None].astype(np.float64))[0]),
        lambda t: 1.0 - _posterior_v(t),
        interval=interval,
        level=level,
        resamples=resamples,
        base=2,
        rng=rng,
        scale_log=False,
        bounds=(0.0, 1.0),
    )
    return dataclasses.replace(est, base=math.nan, method="frequentist")


for _f in (
    maximal_leakage,
    sibson_mutual_information,
    min_entropy_leakage,
    bayes_vulnerability,
    bayes_risk,
):
    _f.__doc__ = _f.__doc__.replace("----------%s", "----------" + _COMMON_PARAMS, 1)
del _f


# ---------------------------------------------------------------------- independence test


@dataclasses.dataclass(frozen=True)
class IndependenceTest:
    """Result of :func:`independence_test`.

    Attributes
    ----------
    statistic : float
        Plug-in mutual information of the samples, in bits.
    pvalue : float
        p-value of the null hypothesis "x and y are independent".
    method : str
        ``"permutation"`` or ``"chi2"`` (G-test).
    n : int
        Number of paired samples.
    permutations : int
        Permutations drawn (0 for ``"chi2"``).
    dof : int
        ``(|X|-1)(|Y|-1)``, the degrees of freedom of the G-test.
    """

    statistic: float
    pvalue: float
    method: str
    n: int
    permutations: int
    dof: int


def _hypergeometric_tables(r: np.ndarray, c: np.ndarray, b: int, gen) -> np.ndarray:
    """``b`` tables with margins ``r``, ``c`` drawn as random permutations would give them.

    Row by row, column by column: ``N_ij ~ Hypergeometric(left_j, left_{>j}, quota_i)``
    (Fisher's conditional distribution), cost ``O(|X| |Y| b)``, independent of ``n``."""
    nx, ny = r.shape[0], c.shape[0]
    out = np.zeros((b, nx, ny))
    left = np.broadcast_to(c, (b, ny)).astype(np.int64).copy()
    for i in range(nx - 1):
        quota = np.full(b, r[i], dtype=np.int64)
        rest = left.sum(axis=1)
        for j in range(ny - 1):
            rest = rest - left[:, j]
            draw = gen.hypergeometric(left[:, j], rest, quota)
            out[:, i, j] = draw
            left[:, j] -= draw
            quota -= draw
        out[:, i, ny - 1] = quota
        left[:, ny - 1] -= quota
    out[:, nx - 1, :] = left
    return out


def _permuted_tables(ix, iy, nx, ny, b, gen) -> np.ndarray:
    """``b`` count tables of ``x`` against randomly permuted ``y`` (argsort of random keys)."""
    n = ix.shape[0]
    perm = np.argsort(gen.random((b, n)), axis=1)
    codes = ix[None, :] * ny + iy[perm] + (np.arange(b) * nx * ny)[:, None]
    return np.bincount(codes.ravel(), minlength=b * nx * ny).reshape(b, nx, ny).astype(float)


def independence_test(
    x: Any,
    y: Any = None,
    *,
    method: str = "auto",
    permutations: int = 2000,
    rng: Any = None,
) -> IndependenceTest:
    r"""Test whether the observable ``y`` leaks anything about the secret ``x``.

    The statistic is the plug-in mutual information :math:`\hat I` (bits).

    * ``"permutation"``: ``y`` is permuted relative to ``x`` ``permutations`` times;
      :math:`p = (1 + \#\{\hat I_{perm} \ge \hat I\}) / (1 + \text{permutations})`, valid
      at every sample size. Permuted tables are drawn directly from their conditional
      (multivariate hypergeometric) law when the table has fewer cells than samples, so
      the cost does not grow with ``n``.
    * ``"chi2"``: the G-test, :math:`G = 2 n \ln 2 \cdot \hat I \sim
      \chi^2_{(|X|-1)(|Y|-1)}` under independence; valid when every expected count
      :math:`N_{x\cdot} N_{\cdot y} / n \ge 5`.
    * ``"auto"``: ``"chi2"`` when it is valid, ``"permutation"`` otherwise.

    Parameters
    ----------
    x, y : (n,) array-like or pandas Series
        Paired samples (any hashable labels), or ``x`` a :class:`Counts` table.
    method : {"auto", "permutation", "chi2"}, default "auto"
    permutations : int, default 2000
        Number of permutations (at most 100,000).
    rng : numpy.random.Generator, int or None

    Returns
    -------
    IndependenceTest

    Examples
    --------
    >>> from leakage.estimate import independence_test
    >>> res = independence_test([0, 1] * 30, [0, 1] * 30, method="permutation", rng=0)
    >>> res.pvalue < 0.01
    True
    """
    fn = "independence_test"
    method = check_choice(method, ("auto", "permutation", "chi2"), func=_PREFIX + fn, name="method")
    permutations = check_size(
        permutations, func=_PREFIX + fn, name="permutations", limit=MAX_RESAMPLES
    )
    gen = as_generator(rng, func=_PREFIX + fn)
    table, _, _, ix, iy = _paired(x, y, fn)
    nx, ny = table.shape
    n = int(table.sum())
    t = table[None].astype(np.float64)
    stat_nats = float(_mi_plugin(t)[0])
    dof = (nx - 1) * (ny - 1)
    r, c = table.sum(axis=1), table.sum(axis=0)
    if method == "auto":
        valid = (np.outer(r, c) / n).min() >= 5
        method = "chi2" if valid else "permutation"
    if method == "chi2":
        p = float(stats.chi2.sf(2 * n * stat_nats, dof)) if dof > 0 else 1.0
        return IndependenceTest(stat_nats / math.log(2), p, "chi2", n, 0, dof)
    exceed = 0
    tol = 1e-12 * max(1.0, stat_nats)
    hyper = nx * ny <= n or ix is None
    per = CHUNK_ENTRIES // (nx * ny if hyper else n)
    per = max(1, min(per, 4096 if hyper else per))
    for start in range(0, permutations, per):
        b = min(per, permutations - start)
        if hyper:
            tables = _hypergeometric_tables(r, c, b, gen)
        else:
            tables = _permuted_tables(ix, iy, nx, ny, b, gen)
        exceed += int((_mi_plugin(tables) >= stat_nats - tol).sum())
    p = (1 + exceed) / (1 + permutations)
    return IndependenceTest(stat_nats / math.log(2), p, "permutation", n, permutations, dof)
