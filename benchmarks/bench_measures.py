"""Performance goals of the measures (issue: foundation), run by hand: ``make bench``.

On the 64x64 instance ``rng = np.random.default_rng(20261123); W = rng.dirichlet(np.ones(64),
size=64); p = rng.dirichlet(np.ones(64))``:

* mutual information and maximal leakage per call (validation included) no slower than
  2x ``qif`` (``measure.shannon.add_leakage``, ``log2(measure.bayes_vuln.mult_capacity)``);
* certified capacity to gap <= 1e-12 at least 5x faster than
  ``qif.measure.shannon.add_capacity``.

Needs the ``test`` extra (qif). Prints one table of timings and ratios; exits 1 if a goal
is missed. Ours and qif are timed in alternation, and each keeps its best repeat, so that
drifting machine load affects both sides alike.
"""

from __future__ import annotations

import math
import sys
import timeit

import numpy as np

import leakage as lk


def paired_best(ours, ref, number: int, repeat: int) -> tuple[float, float]:
    """Best per-call time of each function, timed in alternation."""
    t_ours, t_ref = math.inf, math.inf
    for _ in range(repeat):
        t_ours = min(t_ours, timeit.timeit(ours, number=number) / number)
        t_ref = min(t_ref, timeit.timeit(ref, number=number) / number)
    return t_ours, t_ref


def main() -> int:
    try:
        import qif
    except ImportError:
        print("benchmarks need qif: pip install -e '.[test]'", file=sys.stderr)
        return 2
    rng = np.random.default_rng(20261123)
    W = rng.dirichlet(np.ones(64), size=64)
    p = rng.dirichlet(np.ones(64))

    cases = [
        (
            "mutual information",
            lambda: lk.mutual_information(p, W),
            lambda: qif.measure.shannon.add_leakage(p, W),
            2000,
            15,
            2.0,
        ),
        (
            "maximal leakage",
            lambda: lk.maximal_leakage(p, W),
            lambda: math.log2(qif.measure.bayes_vuln.mult_capacity(W)),
            5000,
            15,
            2.0,
        ),
        (
            "capacity (gap <= 1e-12)",
            lambda: lk.channel_capacity(W, tol=1e-12),
            lambda: qif.measure.shannon.add_capacity(W),
            1,
            3,
            0.2,
        ),
    ]
    r = lk.channel_capacity(W)
    c_qif, _ = qif.measure.shannon.add_capacity(W)
    print(
        f"capacity: ours {r.capacity!r} bits, certified gap {r.gap:.2e}, "
        f"{r.n_iter} iterations; qif {c_qif!r} bits"
    )
    print(f"{'quantity':26s} {'leakage':>12s} {'qif':>12s} {'ratio':>8s} {'goal':>7s}  ok")
    ok_all = True
    for name, ours, ref, number, repeat, goal in cases:
        a, b = paired_best(ours, ref, number, repeat)
        ok = a / b <= goal
        ok_all &= ok
        print(
            f"{name:26s} {a * 1e6:10.1f}us {b * 1e6:10.1f}us {a / b:8.3f} "
            f"{'<= ' + str(goal):>7s}  {ok}"
        )
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
