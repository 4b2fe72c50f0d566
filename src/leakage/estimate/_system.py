r"""Leakage of a black-box system, sampled until the interval is as narrow as asked.

:func:`from_system` draws secrets from a known prior, runs the system on each, and
estimates the leakage from the pairs seen so far at a fixed, geometric schedule of
*looks* (``n_0, 2 n_0, 4 n_0, ...`` up to ``max_samples``). It stops at the first look
whose interval is narrower than ``width``.

Looking repeatedly and stopping on a narrow interval is a data-dependent stopping rule:
each look's interval at the nominal level would cover the truth less often than stated
at the look where it happens to stop. The schedule has a known number ``J`` of looks, so
each look's interval is made at level :math:`1 - (1 - \text{level}) / J` (a Bonferroni
union bound over the looks): then the probability that *any* look's interval misses the
truth is at most ``1 - level``, and so is the probability that the interval at the stop
misses it, whatever the rule that chose the stop. The price is a wider interval per
look (for ``J = 10`` and ``level = 0.95``: each look at 0.995, about 1.4 times the width
of a 0.95 interval), i.e. about twice the samples of a fixed-``n`` design that knew the
right ``n`` in advance. The coverage holds to the extent that each look's interval
holds its own level (bootstrap intervals are asymptotically valid); the coverage
measured in ``tests/test_estimate_system.py`` is the evidence.
"""

from __future__ import annotations

import math
import numbers
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from scipy import stats

from .._validation import (
    as_generator,
    as_pmf,
    check_base,
    check_choice,
    check_positive,
    check_size,
    clip_interval,
)
from ..errors import (
    ConvergenceWarning,
    InvalidDistributionError,
    InvalidParameterError,
    SmallCountWarning,
    SystemCallError,
)
from ..results import Estimate
from . import _discrete as D

__all__ = ["from_system"]

_FN = "estimate.from_system"

#: ``measure=`` names (and aliases) and the estimator each one uses.
MEASURES = {
    "mutual_information": "mutual_information",
    "mi": "mutual_information",
    "maximal_leakage": "maximal_leakage",
    "sibson": "sibson_mutual_information",
    "sibson_mutual_information": "sibson_mutual_information",
    "min_entropy_leakage": "min_entropy_leakage",
    "bayes_vulnerability": "bayes_vulnerability",
    "bayes_risk": "bayes_risk",
}
#: Largest number of system calls a run may ask for.
MAX_SAMPLES = 10**8
#: Bootstrap resamples per tail beyond the per-look level's quantile (at least).
_TAIL_RESAMPLES = 25


def _prior(prior: Any) -> tuple[np.ndarray, np.ndarray]:
    """(secrets, probabilities) from a mapping ``{secret: p}`` or a vector over 0..k-1."""
    if isinstance(prior, Mapping):
        secrets = list(prior.keys())
        p = as_pmf(list(prior.values()), func=_FN, name="prior")
        labels = np.empty(len(secrets), dtype=object)
        labels[:] = secrets
        if all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in secrets):
            labels = np.asarray(secrets, dtype=np.int64)
    else:
        p = as_pmf(prior, func=_FN, name="prior")
        labels = np.arange(p.shape[0])
    if np.count_nonzero(p) < 2:
        raise InvalidDistributionError(
            f"{_FN}: the 'prior' argument must give positive probability to at least 2 "
            f"secrets (nothing can leak otherwise); got {np.count_nonzero(p)} instead."
        )
    keep = p > 0
    return labels[keep], p[keep] / p[keep].sum()


def _schedule(initial: int, max_samples: int) -> list[int]:
    """Sample sizes of the looks: ``initial * 2**j``, the last one ``max_samples``."""
    looks = [initial]
    while looks[-1] < max_samples:
        looks.append(min(2 * looks[-1], max_samples))
    return looks


def _as_labels(values: list, *, numeric: bool) -> np.ndarray:
    """The system's outputs as an array: floats for ``knn``, hashable labels otherwise."""
    if numeric:
        try:
            a = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise SystemCallError(
                f"{_FN}: method='knn' needs numeric observables (a number or a vector of "
                f"numbers per call); the system returned values that are not ({exc})."
            ) from None
        if a.ndim > 2 or (a.ndim == 2 and a.shape[1] == 0):
            raise SystemCallError(
                f"{_FN}: the system must return a number or a flat vector per call; "
                f"got outputs stacking to shape {a.shape}."
            )
        return a
    try:
        a = np.asarray(values)
    except (TypeError, ValueError):  # ragged outputs: hashable tuples below
        a = None
    if a is not None and a.ndim == 1 and a.dtype.kind in "biufUSM":
        if a.dtype.kind in "fc" and np.isnan(a).any():
            i = int(np.flatnonzero(np.isnan(a))[0])
            raise SystemCallError(
                f"{_FN}: the system returned NaN on call {i + 1}; observables must be "
                "labels or finite numbers."
            )
        return a
    out = np.empty(len(values), dtype=object)
    try:
        out[:] = [tuple(np.ravel(v).tolist()) if _is_vector(v) else v for v in values]
        hash(tuple(out.tolist()))
    except TypeError as exc:
        raise SystemCallError(
            f"{_FN}: the system's observables must be hashable labels (numbers, strings, "
            f"tuples) or vectors of numbers; got unhashable values ({exc})."
        ) from None
    return out


def _is_vector(v: Any) -> bool:
    return isinstance(v, (list, tuple, np.ndarray))


class _Runner:
    """Calls the system, one secret at a time or vectorized, with clear errors."""

    def __init__(self, system: Callable, gen: np.random.Generator, vectorized: bool):
        self.system, self.gen, self.vectorized = system, gen, vectorized
        self.calls = 0

    def __call__(self, secrets: np.ndarray) -> list:
        if self.vectorized:
            try:
                out = self.system(secrets, self.gen)
            except Exception as exc:
                raise SystemCallError(
                    f"{_FN}: the system raised {type(exc).__name__}: {exc} when called on "
                    f"{secrets.shape[0]} secrets (vectorized=True)."
                ) from exc
            self.calls += 1
            try:
                m = len(out)
            except TypeError:
                m = -1
            if m != secrets.shape[0]:
                raise SystemCallError(
                    f"{_FN}: with vectorized=True the system must return one observable per "
                    f"secret ({secrets.shape[0]}); got "
                    f"{'an unsized ' + type(out).__name__ if m < 0 else m} instead."
                )
            return list(out)
        out = []
        system, gen = self.system, self.gen
        for s in secrets.tolist():
            try:
                out.append(system(s, gen))
            except Exception as exc:
                raise SystemCallError(
                    f"{_FN}: the system raised {type(exc).__name__}: {exc} on secret {s!r} "
                    f"(call {self.calls + 1})."
                ) from exc
            self.calls += 1
        return out


def _progress(show: bool | None):
    if show is None:
        show = sys.stderr.isatty()
    if not show:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("from_system"),
        BarColumn(),
        TextColumn("{task.completed:,} samples"),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )


def from_system(
    system: Callable[[Any, np.random.Generator], Any],
    prior: Any,
    *,
    measure: str = "mutual_information",
    width: float = 0.05,
    level: float = 0.95,
    max_samples: int = 1_000_000,
    initial_samples: int = 1000,
    method: str = "auto",
    alpha: float | None = None,
    vectorized: bool = False,
    resamples: int | None = None,
    base: float = 2,
    max_time: float | None = None,
    progress: bool | None = None,
    rng: Any = None,
) -> Estimate:
    r"""Estimate the leakage of a black-box system, sampling until the interval is narrow.

    Secrets are drawn from ``prior``; the system maps each to an observable; at the looks
    ``n_0, 2 n_0, 4 n_0, ..., max_samples`` the chosen measure is estimated from all pairs
    so far (:func:`mutual_information` and the other estimators of this module) and the
    run stops at the first look whose interval is narrower than ``width``.

    **Coverage at the stop.** With ``J`` looks in the schedule, each look's interval is
    made at level :math:`1 - (1-\text{level})/J`; by the union bound the interval at the
    stop holds the truth with probability at least ``level``, although the stop was
    chosen by looking (see the module notes). The returned ``level`` is that overall
    level; ``details["look_level"]`` is the per-look one.

    Parameters
    ----------
    system : callable ``system(secret, rng) -> observable``
        The system under test. ``rng`` is a :class:`numpy.random.Generator` reserved for
        the system's own randomness. With ``vectorized=True``: ``system(secrets, rng)``
        takes an array of secrets and returns one observable per secret. Observables are
        hashable labels (numbers, strings, tuples) for the discrete estimators, or
        numbers / flat vectors of numbers for ``method="knn"``.
    prior : mapping ``{secret: probability}`` or 1-D array-like
        The distribution secrets are drawn from (a vector: over the secrets
        ``0, ..., k-1``). Probabilities must sum to 1; at least two must be positive.
    measure : str, default "mutual_information"
        ``"mutual_information"`` (alias ``"mi"``), ``"maximal_leakage"``, ``"sibson"``
        (with ``alpha``), ``"min_entropy_leakage"``, ``"bayes_vulnerability"`` or
        ``"bayes_risk"``.
    width : float, default 0.05
        Target width ``upper - lower`` of the interval, in the measure's unit (bits for
        information measures at ``base=2``, a probability for Bayes
        vulnerability/risk). ``width=0.02`` asks for about ``+-0.01``.
    level : float, default 0.95
        Coverage of the interval at the stop, in (0, 1).
    max_samples : int, default 1,000,000
        Most system calls (secrets) drawn; at most 10**8. Reached without the width:
        the last look's estimate is returned with a :class:`ConvergenceWarning` and
        ``details["samples_needed"]``, the extrapolated number of samples the width
        would take (widths shrink like ``1/sqrt(n)``).
    initial_samples : int, default 1000
        Samples at the first look (each later look doubles them).
    method : str, default "auto"
        The estimator (``mutual_information``: ``"auto"``, ``"plugin"``,
        ``"miller_madow"``, ``"jackknife"``, ``"chao_shen"``, ``"dirichlet"``, ``"knn"``;
        ``bayes_risk``: ``"frequentist"``, ``"knn"``, ``"knn-log"``, ``"knn-log10"``;
        other measures: ``"auto"``, the plug-in). ``"knn*"``: numeric observables,
        interval ``value +- z se`` with the
        bootstrap standard error (``z`` at the per-look level), as a percentile from a
        few hundred resamples cannot reach the far tails.
    alpha : float, optional
        Order of Sibson's mutual information (``measure="sibson"``).
    vectorized : bool, default False
        Call the system once per look on the array of new secrets.
    resamples : int, optional
        Bootstrap resamples per look. Discrete observables: default 1000, raised so that
        each tail of the per-look level holds at least 25 resamples. ``knn``: default
        200 (each resample is a k-NN estimate on all samples so far), used for the
        standard error.
    base : float, default 2
        Logarithm base of information measures (2: bits).
    max_time : float, optional
        Seconds after which no new look starts (checked between looks); the last look's
        estimate is returned as for ``max_samples``.
    progress : bool, optional
        A progress display on stderr (default: when stderr is a terminal).
    rng : numpy.random.Generator, int or None
        Randomness of the secrets, of the system (an independent child stream) and of the
        intervals.

    Returns
    -------
    Estimate
        The estimate at the stop. ``details``: ``samples`` (pairs used), ``calls``,
        ``looks`` (looks made) and ``schedule`` (all planned), ``look_level``,
        ``target_width``, ``reached_width``, ``stopped`` (``"width"``,
        ``"max_samples"`` or ``"max_time"``), ``samples_needed`` (extrapolated, when the
        width was not reached), ``history`` (``(n, value, lower, upper)`` per look),
        ``seconds``, and for discrete observables the :class:`Counts` table.

    Raises
    ------
    SystemCallError
        The system raised (the original exception is chained) or returned the wrong
        number or kind of observables.

    Examples
    --------
    A binary symmetric channel with crossover 0.1 leaks :math:`1 - h(0.1) = 0.531` bits
    about a uniform bit:

    >>> import numpy as np
    >>> from leakage import estimate
    >>> def bsc(bits, rng):
    ...     return bits ^ (rng.random(bits.shape[0]) < 0.1)
    >>> est = estimate.from_system(bsc, [0.5, 0.5], width=0.05, vectorized=True, rng=1)
    >>> est.lower <= 0.531 <= est.upper, est.width <= 0.05
    (True, True)
    """
    if not callable(system):
        raise InvalidParameterError(
            f"{_FN}: the 'system' argument must be a callable system(secret, rng) -> "
            f"observable; got {type(system).__name__} instead."
        )
    labels, p = _prior(prior)
    measure = check_choice(measure, tuple(MEASURES), func=_FN, name="measure")
    func_name = MEASURES[measure]
    width = check_positive(width, func=_FN, name="width")
    level = D._check_level(level, "from_system")
    max_samples = check_size(
        max_samples, func=_FN, name="max_samples", limit=MAX_SAMPLES, minimum=2, what="samples"
    )
    initial = check_size(
        initial_samples, func=_FN, name="initial_samples", limit=MAX_SAMPLES, minimum=2
    )
    knn = isinstance(method, str) and method.startswith("knn")
    if resamples is None:
        resamples = 200 if knn else 1000
    resamples = check_size(resamples, func=_FN, name="resamples", limit=D.MAX_RESAMPLES)
    base = check_base(base, func=_FN)
    if max_time is not None:
        max_time = check_positive(max_time, func=_FN, name="max_time")
    if not isinstance(vectorized, bool):
        raise InvalidParameterError(
            f"{_FN}: the 'vectorized' argument must be True or False; got {vectorized!r}."
        )
    if knn and func_name not in ("mutual_information", "bayes_risk"):
        raise InvalidParameterError(
            f"{_FN}: method='knn' applies to measure='mutual_information' and "
            f"'bayes_risk' only; got measure={measure!r}."
        )
    if func_name == "sibson_mutual_information" and alpha is None:
        raise InvalidParameterError(f"{_FN}: measure='sibson' needs alpha= (e.g. alpha=2).")
    estimator = getattr(D, func_name)
    kw: dict[str, Any] = {}
    if func_name == "mutual_information":
        kw["method"] = method
    elif func_name == "bayes_risk":
        kw["method"] = "frequentist" if method == "auto" else method
    elif method != "auto":
        raise InvalidParameterError(
            f"{_FN}: measure={measure!r} uses its plug-in estimate; the 'method' argument "
            f"must be 'auto'; got {method!r}."
        )
    if func_name == "sibson_mutual_information":
        kw["alpha"] = alpha
    if func_name == "min_entropy_leakage":  # the prior is known: only V(X|Y) is estimated
        kw["prior_vulnerability"] = float(p.max())
    if func_name not in ("bayes_vulnerability", "bayes_risk"):
        kw["base"] = base
    information = "base" in kw

    gen = as_generator(rng, func=_FN)
    g_secret, g_system, g_interval = gen.spawn(3)
    schedule = _schedule(min(initial, max_samples), max_samples)
    n_looks = len(schedule)
    look_level = 1.0 - (1.0 - level) / n_looks
    tail = (1.0 - look_level) / 2
    z = float(stats.norm.isf(tail))
    if not knn:
        kw["resamples"] = min(max(resamples, math.ceil(_TAIL_RESAMPLES / tail)), D.MAX_RESAMPLES)
        kw["interval"] = "bootstrap"
    else:
        kw["resamples"] = resamples

    run = _Runner(system, g_system, vectorized)
    secrets = np.empty(0, dtype=labels.dtype)
    outputs: list = []
    history: list[tuple[int, float, float, float]] = []
    start = time.perf_counter()
    stopped = "max_samples"
    est: Estimate | None = None
    bar = _progress(progress)
    task = None
    if bar is not None:
        bar.start()
        task = bar.add_task("sampling", total=max_samples, status="")
    try:
        for j, n_j in enumerate(schedule):
            new = labels[g_secret.choice(labels.shape[0], size=n_j - secrets.shape[0], p=p)]
            outputs.extend(run(new))
            secrets = np.concatenate([secrets, new])
            y = _as_labels(outputs, numeric=knn)
            if knn and not np.isfinite(y).all():
                i = int(np.flatnonzero(~np.isfinite(y.reshape(y.shape[0], -1)).all(axis=1))[0])
                raise SystemCallError(
                    f"{_FN}: the system returned a non-finite observable {outputs[i]!r} "
                    f"for secret {secrets[i]!r} (call {i + 1}); k-NN needs finite numbers."
                )
            if j == 0 and not knn:
                _warn_if_continuous(y)
            with warnings.catch_warnings(record=True) as caught:  # only the last look's
                warnings.simplefilter("always")
                # discrete: count once per look; the estimator takes the table
                table = None if knn else D.counts(secrets, y)
                est = _look(estimator, secrets, y, table, kw, look_level, z, g_interval)
            history.append((n_j, est.value, est.lower, est.upper))
            if bar is not None:
                bar.update(
                    task,
                    completed=n_j,
                    status=f"width {est.width:.4g} (target {width:.4g})",
                )
            if est.width <= width:
                stopped = "width"
                break
            if max_time is not None and time.perf_counter() - start > max_time:
                stopped = "max_time" if n_j < max_samples else "max_samples"
                break
    finally:
        if bar is not None:
            bar.stop()
    assert est is not None
    for w in caught:  # the diagnostics of the estimate returned (e.g. a large bias)
        warnings.warn(w.message, w.category, stacklevel=2)
    n = secrets.shape[0]
    details = dict(est.details)
    details.update(
        samples=n,
        calls=run.calls,
        looks=len(history),
        schedule=schedule,
        look_level=look_level,
        target_width=width,
        reached_width=stopped == "width",
        stopped=stopped,
        history=history,
        seconds=time.perf_counter() - start,
    )
    if not knn:
        details["counts"] = table
    if stopped != "width":
        needed = math.ceil(n * (est.width / width) ** 2) if est.width > 0 else n
        details["samples_needed"] = needed
        unit = f"{'bits' if base == 2 else f'log base {base:g} units'}" if information else ""
        warnings.warn(
            f"{_FN}: stopped by {stopped} at {n:,} samples with interval width "
            f"{est.width:.4g} {unit}, above the target {width:g}; about {needed:,} samples "
            f"would reach it (raise max_samples{' or max_time' if max_time else ''}).",
            ConvergenceWarning,
            stacklevel=2,
        )
    return Estimate(
        measure=est.measure,
        value=est.value,
        lower=est.lower,
        upper=est.upper,
        level=level,
        method=est.method,
        interval=f"sequential ({est.interval}, {n_looks} looks, Bonferroni)",
        n=n,
        base=est.base,
        details=details,
    )


def _warn_if_continuous(y: np.ndarray) -> None:
    """A discrete estimator on mostly-distinct outputs estimates nothing useful."""
    distinct = len(set(y.tolist()))
    if y.shape[0] >= 50 and distinct > y.shape[0] / 2:
        warnings.warn(
            f"{_FN}: {distinct:,} of the first {y.shape[0]:,} observables are distinct: a "
            "count-based estimator needs repeated values. For numeric observables (timings) "
            "use method='knn'.",
            SmallCountWarning,
            stacklevel=3,
        )


def _look(estimator, x, y, table, kw, look_level, z, gen) -> Estimate:
    """One look: the estimate and its interval at ``look_level``."""
    if table is not None:  # discrete observables: the estimator's own interval
        return estimator(table, level=look_level, rng=gen, **kw)
    est = estimator(x, y, level=look_level, rng=gen, **kw)  # knn: value +- z se below
    d = est.details
    raw = d.get("raw_value", est.value)
    se = d["standard_error"]
    lo, hi = raw - z * se, raw + z * se
    top = 1.0 if est.measure == "bayes_risk" else math.inf
    lo, hi = clip_interval(lo, hi, 0.0, top)
    return Estimate(
        measure=est.measure,
        value=est.value,
        lower=lo,
        upper=hi,
        level=look_level,
        method=est.method,
        interval="bootstrap-normal",
        n=est.n,
        base=est.base,
        details=d,
    )
