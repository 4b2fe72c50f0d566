"""Performance goals of leakage.ldp (issue: ldp), run by hand: ``python benchmarks/bench_ldp.py``.

For n = 10**7 users with values in k = 1,024 (Zipf-like frequencies, seeded), eps = 1:

* GRR: ``sample`` (one report per user) + ``estimate``          <= 5 s
* GRR: ``sample_counts`` + ``estimate``                          <= 5 s
* OUE: ``sample_counts`` + ``estimate`` (per-user bit reports would take 1.28 GB and are
  refused; the counts are drawn exactly from the per-value binomials)  <= 5 s
* OLH: ``sample`` (n x 3 int32 reports) + ``estimate`` (table + FFT support counting) <= 5 s

Prints one line per case (seconds, max |f_hat - f| / predicted sd) and exits 1 if a goal is
missed. Every case also checks the estimate is within 6 predicted standard deviations.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from leakage import ldp

N, K, EPS, GOAL = 10**7, 1024, 1.0, 5.0


def main() -> int:
    rng = np.random.default_rng(20261123)
    w = 1.0 / np.arange(1, K + 1)
    values = rng.choice(K, size=N, p=w / w.sum())
    f = np.bincount(values, minlength=K) / N
    cases = [
        ("grr  sample+estimate", ldp.grr(K, EPS), "sample"),
        ("grr  sample_counts+estimate", ldp.grr(K, EPS), "sample_counts"),
        ("oue  sample_counts+estimate", ldp.oue(K, EPS), "sample_counts"),
        ("olh  sample+estimate", ldp.olh(K, EPS), "sample"),
    ]
    ok = True
    print(f"n = {N:,}, k = {K:,}, eps = {EPS} (goal <= {GOAL} s each)")
    for label, proto, path in cases:
        t0 = time.perf_counter()
        reports = getattr(proto, path)(values, rng)
        est = proto.estimate(reports)
        dt = time.perf_counter() - t0
        z = float(np.max(np.abs(est - f) / np.sqrt(proto.variance(N, f))))
        met = dt <= GOAL and z < 6
        ok &= met
        print(f"{label:32s} {dt:7.2f} s   max|z| = {z:4.2f}   {'ok' if met else 'MISSED'}")
        del reports
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
