"""Performance goals of paper 002's designs (issue: private hypothesis testing), by hand.

1. The certified optimum of the original problem (2) for M = 3 letters and binary
   hypotheses, relative gap <= 1e-8: goal **under 10 s** (several budgets, the slowest
   reported).
2. The whole Table I / Table II reproduction (``002-fig2`` and ``002-fig3``: 18 budgets per
   pair and triple, W' and the certified W* at each, relative entropy and Rényi): goal
   **under 5 minutes** on this 2-core machine.
3. The certified optimum for M = 6 letters and three hypotheses (issue 18), relative gap
   <= 1e-6: goal **under 60 s**; the same with the mechanism restricted to N = 6
   outputs ("M = N = 6"): certified to 1e-6, goal **under 60 s**.
4. For reference: ``design_binary`` and ``design_mary`` (SDP) timings.

Prints a table; exits 1 if a goal is missed.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np

from leakage.errors import ConvergenceWarning
from leakage.hypothesis import design_binary, design_mary, optimal_mechanism
from leakage.reproduce.paper002 import fig2, fig3


def _time(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> int:
    ps = [(0.5, 0.3, 0.2), (0.2, 0.3, 0.5)]
    worst, worst_gap = 0.0, 0.0
    for eps in (0.001, 0.01, 0.05, 0.2):
        t, d = _time(lambda eps=eps: optimal_mechanism(ps, eps))
        worst = max(worst, t)
        worst_gap = max(worst_gap, d.gap / d.upper_bound)
    ok1 = worst < 10 and worst_gap <= 1e-8
    t_fig2, _ = _time(fig2)
    t_fig3, _ = _time(fig3)
    ok2 = t_fig2 + t_fig3 < 300
    p6 = np.random.default_rng(0).dirichlet(np.ones(6) * 2, size=3) * 0.9 + 0.1 / 6
    t6, d6 = _time(lambda: optimal_mechanism(p6, 0.02, rtol=1e-6))
    gap6 = d6.gap / d6.upper_bound
    ok3 = t6 < 60 and gap6 <= 1e-6 and d6.details["certified"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t6n, d6n = _time(lambda: optimal_mechanism(p6, 0.02, 6, rtol=1e-6))
    gap6n = d6n.gap / d6n.upper_bound
    ok4 = t6n < 60 and gap6n <= 1e-6 and d6n.details["certified"]
    t_bin, _ = _time(lambda: [design_binary(ps[0], ps[1], e, e) for e in (0.001, 0.01, 0.05)])
    t_sdp, _ = _time(lambda: design_mary([(0.5, 0.3, 0.2), (0.3, 0.4, 0.3), (0.2, 0.3, 0.5)], 0.02))
    print(f"{'':58s}{'seconds':>10s}  goal")
    print(
        f"{'optimal_mechanism, M=3, binary hypotheses (slowest of 4)':58s}{worst:>10.2f}"
        f"  < 10 s, gap <= 1e-8 (worst {worst_gap:.1e}): {'met' if ok1 else 'MISSED'}"
    )
    print(
        f"{'Table I + II reproduction (002-fig2 + 002-fig3)':58s}{t_fig2 + t_fig3:>10.2f}"
        f"  < 300 s: {'met' if ok2 else 'MISSED'}"
    )
    print(
        f"{'optimal_mechanism, M=6, three hypotheses':58s}{t6:>10.2f}"
        f"  < 60 s, gap <= 1e-6 (gap {gap6:.1e}, {d6.mechanism.shape[1]} outputs, "
        f"{d6.details['cells']} cells): {'met' if ok3 else 'MISSED'}"
    )
    print(
        f"{'  the same, restricted to N = 6 outputs':58s}{t6n:>10.2f}"
        f"  < 60 s, gap <= 1e-6 (gap {gap6n:.1e}, status {d6n.details['status'].value}): "
        f"{'met' if ok4 else 'MISSED'}"
    )
    print(f"{'design_binary x3':58s}{t_bin:>10.3f}")
    print(f"{'design_mary (SDP, m=3, M=3)':58s}{t_sdp:>10.3f}")
    return 0 if (ok1 and ok2 and ok3 and ok4) else 1


if __name__ == "__main__":
    sys.exit(main())
