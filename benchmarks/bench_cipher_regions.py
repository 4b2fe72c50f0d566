"""Timings of the cipher leakage regions under the three readings of R1 (issue 18), run by
hand: ``python benchmarks/bench_cipher_regions.py [--quick]``.

1. Fig. 2 of paper 000 (Bern(0.3), Hamming, D1 = 0.2, D2 = 0.1, r1 = 0.06, r2 = 0.1) at
   200 values of alpha in [0, 0.5] bits, for R1 = None, 0.3 and "tight": goal **2 s** each.
2. A ternary source P = (0.5, 0.3, 0.2), d1 = |x - y|, d2 = (x - y)^2, D1 = 0.3,
   D2 = 0.2, alpha = 0.05 bits, R1 = None, 0.6 and "tight": goal **10 s** per alpha.
3. A 4-letter source P = (0.4, 0.3, 0.2, 0.1), d1 = |x - y|, d2 = (x - y)^2, D1 = 0.4,
   D2 = 0.25, alpha = 0.05 bits, R1 = None, 0.9 and "tight": goal **60 s** per alpha.

Prints time, how many results are certified and the largest certified gap (``nan``: no
certificate, e.g. R1 = "tight", which also warns).
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np

from leakage.cipher import leakage_region, leakage_region_curve


def main() -> int:
    quick = "--quick" in sys.argv
    warnings.simplefilter("ignore")  # uncertified results are reported in the table
    rows = []
    n = 20 if quick else 200
    for R1 in (None, 0.3, "tight"):
        t0 = time.perf_counter()
        out = leakage_region_curve(
            [0.3, 0.7],
            "hamming",
            "hamming",
            D1=0.2,
            D2=0.1,
            R1=R1,
            r1=0.06,
            r2=0.1,
            alphas=np.linspace(0.0, 0.5, n),
        )
        dt = time.perf_counter() - t0
        gaps = [r.missed for r in out]
        rows.append(
            (
                f"binary curve, {n} alphas, R1={R1!r}",
                dt,
                2.0,
                sum(r.certified for r in out),
                len(out),
                max(gaps),
            )
        )
    cases = (
        ("ternary", [0.5, 0.3, 0.2], 0.3, 0.2, (None, 0.6, "tight"), 10.0),
        ("4-letter", [0.4, 0.3, 0.2, 0.1], 0.4, 0.25, (None, 0.9, "tight"), 60.0),
    )
    for name, P, D1, D2, readings, goal in () if quick else cases:
        for R1 in readings:
            t0 = time.perf_counter()
            r = leakage_region(
                P, "abs", "squared", D1=D1, D2=D2, R1=R1, r1=0.06, r2=0.1, alpha=0.05
            )
            dt = time.perf_counter() - t0
            rows.append((f"{name} abs/squared, R1={R1!r}", dt, goal, int(r.certified), 1, r.missed))
    print(f"{'case':45s} {'time':>9s} {'goal':>6s} {'certified':>10s} {'max gap':>10s}")
    missed = 0
    for name, dt, goal, c, tot, gap in rows:
        flag = "" if dt <= goal else "  (goal missed)"
        missed += dt > goal
        print(f"{name:45s} {dt:8.2f}s {goal:5.0f}s {c:>5d}/{tot:<4d} {gap:10.3g}{flag}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
