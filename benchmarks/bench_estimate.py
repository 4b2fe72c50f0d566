"""Estimating leakage from samples (issue: "Leakage of a real system, estimated from samples").

Run by hand: ``python benchmarks/bench_estimate.py``.

1. Bias/RMSE study of the mutual-information estimators of :mod:`leakage.estimate`
   (plug-in, Miller-Madow, jackknife, Chao-Shen, Dirichlet posterior mean) on three joints
   and three sample sizes, ``REPS`` replications each; prints bias and RMSE in bits. This
   study chose ``method="auto"``: the estimator with the smallest mean RMSE over the cells.
2. Timing: mutual information with a 1,000-resample bootstrap from 10^7 discrete pairs;
   counting is timed separately, the rest (point estimate + bootstrap on the count table)
   must take <= 2 s.
3. Bayes risk of a numeric observable (F-BLEAU's setting): four secrets,
   ``y = 2x + N(0, 1)`` (exact R* = 1.5 Q(1) = 0.2380) and the same in two dimensions
   (independent noise per coordinate; R* = 1.5 Q(sqrt 2) = 0.1180), n = 10^3, 10^4,
   10^5: the frequentist (plug-in) estimate on ``y`` rounded to a 0.25 grid, the 1-NN
   Cover-Hart lower bound (``method="knn"``) and F-BLEAU's k_n-NN estimates
   (``"knn-log"``, ``"knn-log10"``) side by side, with their times (200 bootstrap
   resamples each); goal: the 1-NN estimate on 10^5 one-dimensional samples <= 5 s.

Prints tables; exits 1 if the timing goal is missed.
"""

from __future__ import annotations

import math
import sys
import time
import warnings

import numpy as np

import leakage as lk
from leakage.estimate import _discrete as D

REPS = 500
NS = (50, 200, 1000)
METHODS = ("plugin", "miller_madow", "jackknife", "chao_shen", "dirichlet")


def joints() -> dict[str, np.ndarray]:
    """The joints of the study (axis 0 = secret)."""
    bsc = 0.5 * np.array([[0.9, 0.1], [0.1, 0.9]])
    rng = np.random.default_rng(20261202)
    w = rng.dirichlet(np.full(8, 0.7), size=4)
    mid = 0.25 * w
    weak = np.full((6, 12), 1.0) + rng.uniform(0, 1.0, (6, 12))
    weak /= weak.sum()
    return {"bsc 2x2": bsc, "random 4x8": mid, "weak 6x12": weak}


def exact_mi(p: np.ndarray) -> float:
    p_x = p.sum(axis=1)
    return lk.mutual_information(p_x, p / p_x[:, None])


def _observed(t: np.ndarray) -> np.ndarray:
    """The table restricted to the labels that were seen (what :func:`counts` returns)."""
    return t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]


def study(reps: int = REPS, seed: int = 0) -> list[tuple[str, int, str, float, float, float]]:
    """Rows (joint, n, method, true I, bias, RMSE), in bits."""
    rng = np.random.default_rng(seed)
    rows = []
    for name, p in joints().items():
        truth = exact_mi(p)
        for n in NS:
            tables = rng.multinomial(n, p.ravel(), size=reps).reshape(reps, *p.shape)
            for m in METHODS:
                fn = D._MI_BATCH[m]
                if m == "dirichlet":  # the prior sits on the observed cells only
                    vals = np.array([fn(_observed(t)[None].astype(float))[0] for t in tables])
                else:
                    vals = fn(tables.astype(float))
                err = vals / math.log(2) - truth
                rows.append((name, n, m, truth, float(err.mean()), float(np.sqrt((err**2).mean()))))
    return rows


def print_study(rows) -> str:
    print(f"Bias / RMSE of MI estimators (bits), {REPS} replications")
    print(f"{'joint':<11} {'n':>5} {'I':>7} " + " ".join(f"{m:>22}" for m in METHODS))
    by = {}
    for name, n, m, truth, bias, rmse in rows:
        by.setdefault((name, n, truth), {})[m] = (bias, rmse)
    score = dict.fromkeys(METHODS, 0.0)
    for (name, n, truth), res in by.items():
        cells = " ".join(f"{res[m][0]:+10.4f} /{res[m][1]:10.4f}" for m in METHODS)
        print(f"{name:<11} {n:>5} {truth:7.4f} {cells}")
        for m in METHODS:
            score[m] += res[m][1] / len(by)
    print("mean RMSE:  " + ", ".join(f"{m} {score[m]:.4f}" for m in METHODS))
    best = min(score, key=score.get)
    print(f"smallest mean RMSE: {best} (method='auto' uses {D.AUTO_METHOD!r})")
    return best


def timing() -> bool:
    """MI (``method="auto"``) with a 1,000-resample bootstrap from 10^7 pairs, two tables."""
    n = 10**7
    rng = np.random.default_rng(1)
    ok = True
    print()
    print("MI with a 1,000-resample bootstrap from 10^7 pairs (goal: <= 2 s after counting)")
    for nx, ny in [(4, 8), (32, 256)]:
        x = rng.integers(0, nx, n)
        y = (x * (ny // nx) + rng.integers(0, 2 * (ny // nx), n)) % ny
        D.counts(x[:1000], y[:1000])  # warm-up
        t0 = time.perf_counter()
        table, _, _ = D.counts(x, y)
        t_count = time.perf_counter() - t0
        stat = D._MI_BATCH[D.AUTO_METHOD]
        t0 = time.perf_counter()
        est = D._estimate(
            table,
            measure="mutual_information",
            method=D.AUTO_METHOD,
            value=float(stat(table[None].astype(float))[0]) / math.log(2),
            stat=stat,
            interval="bootstrap",
            level=0.95,
            resamples=1000,
            gen=np.random.default_rng(2),
            scale=math.log(2),
            base=2.0,
            bounds=(0.0, math.inf),
            details={},
            plugin=D._mi_plugin,
        )
        t_boot = time.perf_counter() - t0
        t0 = time.perf_counter()
        full = D.mutual_information(x, y, resamples=1000, rng=2)
        t_full = time.perf_counter() - t0
        ok &= t_boot <= 2.0 and full.value == est.value
        print(f"  {nx} x {ny} table:")
        print(f"    counting:                 {t_count:7.3f} s")
        print(f"    estimate + bootstrap:     {t_boot:7.3f} s")
        print(f"    whole call (incl. count): {t_full:7.3f} s")
        print(f"    I = {est.value:.5f} bits, 95% [{est.lower:.5f}, {est.upper:.5f}]")
    return ok


def bayes_risk_study() -> bool:
    """Estimates of R* for a numeric observable against the exact value; the timing goal."""
    from scipy import stats

    q1 = float(stats.norm.sf(1.0))
    # d = 2: the mean of the coordinates, 2x + N(0, 1/2), is sufficient: R* = 1.5 Q(sqrt 2)
    exact = {1: 1.5 * q1, 2: 1.5 * float(stats.norm.sf(math.sqrt(2.0)))}
    print()
    print("Bayes risk of y = 2x + N(0, I_d), x uniform on 0..3 (200 resamples per interval)")
    print(f"{'d':>2} {'n':>7} {'R*':>7}  " + "  ".join(f"{m:>22}" for m in BR_METHODS))
    ok = True
    rng = np.random.default_rng(7)
    for d in (1, 2):
        for n in (10**3, 10**4, 10**5):
            x = rng.integers(0, 4, n)
            y = 2.0 * x[:, None] + rng.standard_normal((n, d))
            cells = []
            for m in BR_METHODS:
                t0 = time.perf_counter()
                if m == "frequentist":  # the plug-in baseline on a discretized observable
                    grid = np.round(y * 4).astype(np.int64) @ (10_000 ** np.arange(d))
                    with warnings.catch_warnings():  # small-n bias warnings: shown in R* col
                        warnings.simplefilter("ignore", lk.errors.SmallCountWarning)
                        e = lk.estimate.bayes_risk(x, grid, resamples=200, rng=1)
                else:
                    e = lk.estimate.bayes_risk(x, y if d > 1 else y[:, 0], method=m, rng=1)
                dt = time.perf_counter() - t0
                cells.append(f"{e.value:.4f} ({dt:6.2f} s)")
                if m == "knn" and d == 1 and n == 10**5:
                    ok &= dt <= 5.0
            print(f"{d:>2} {n:>7} {exact[d]:7.4f}  " + "  ".join(f"{c:>22}" for c in cells))
    print("  knn: Cover-Hart lower bound; knn-log/-log10: consistent, above R* at finite n")
    return ok


BR_METHODS = ("frequentist", "knn", "knn-log", "knn-log10")


def main() -> int:
    print_study(study())
    ok = timing()
    ok &= bayes_risk_study()
    print("timing goals:", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
