"""Performance goals of the measures (issue: foundation), run by hand: ``make bench``.

On the 64x64 instance ``rng = np.random.default_rng(20261123); W = rng.dirichlet(np.ones(64),
size=64); p = rng.dirichlet(np.ones(64))``:

* mutual information and maximal leakage per call (validation included) no slower than
  2x ``qif`` (``measure.shannon.add_leakage``, ``log2(measure.bayes_vuln.mult_capacity)``);
* certified capacity to gap <= 1e-12 at least 5x faster than
  ``qif.measure.shannon.add_capacity``.

Needs the ``test`` extra (qif). Prints one table of timings and ratios; exits 1 if a goal
is missed. Timings are the best of several repeats (least disturbed by other load).
"""

from __future__ import annotations

import math
import sys
import timeit

import numpy as np

import leakage as lk


def best_per_call(fn, number: int, repeat: int = 7) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def main() -> int:
    try:
        import qif
    except ImportError:
        print("benchmarks need qif: pip install -e '.[test]'", file=sys.stderr)
        return 2
    rng = np.random.default_rng(20261123)
    W = rng.dirichlet(np.ones(64), size=64)
    p = rng.dirichlet(np.ones(64))

    rows = []
    ours = best_per_call(lambda: lk.mutual_information(p, W), 2000)
    ref = best_per_call(lambda: qif.measure.shannon.add_leakage(p, W), 2000)
    rows.append(("mutual information", ours, ref, ours / ref, "<= 2", ours / ref <= 2))
    ours = best_per_call(lambda: lk.maximal_leakage(p, W), 2000)
    ref = best_per_call(lambda: math.log2(qif.measure.bayes_vuln.mult_capacity(W)), 2000)
    rows.append(("maximal leakage", ours, ref, ours / ref, "<= 2", ours / ref <= 2))
    ours = best_per_call(lambda: lk.channel_capacity(W, tol=1e-12), 5, repeat=5)
    ref = best_per_call(lambda: qif.measure.shannon.add_capacity(W), 1, repeat=3)
    rows.append(("capacity (gap <= 1e-12)", ours, ref, ours / ref, "<= 0.2", ours / ref <= 0.2))

    r = lk.channel_capacity(W)
    c_qif, _ = qif.measure.shannon.add_capacity(W)
    print(
        f"capacity: ours {r.capacity!r} bits, certified gap {r.gap:.2e}, "
        f"{r.n_iter} iterations; qif {c_qif!r} bits"
    )
    print(f"{'quantity':26s} {'leakage':>12s} {'qif':>12s} {'ratio':>8s} {'goal':>7s}  ok")
    for name, a, b, ratio, goal, ok in rows:
        print(f"{name:26s} {a * 1e6:10.1f}us {b * 1e6:10.1f}us {ratio:8.3f} {goal:>7s}  {ok}")
    return 0 if all(row[-1] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
