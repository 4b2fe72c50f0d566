"""Performance goals of paper 002's designs (issue: private hypothesis testing), by hand.

1. The certified optimum of the original problem (2) for M = 3 letters and binary
   hypotheses, relative gap <= 1e-8: goal **under 10 s** (several budgets, the slowest
   reported).
2. The whole Table I / Table II reproduction (``002-fig2`` and ``002-fig3``: 18 budgets per
   pair and triple, W' and the certified W* at each, relative entropy and Rényi): goal
   **under 5 minutes** on this 2-core machine.
3. For reference: ``design_binary`` and ``design_mary`` (SDP) timings.

Prints a table; exits 1 if a goal is missed.
"""

from __future__ import annotations

import sys
import time

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
    print(f"{'design_binary x3':58s}{t_bin:>10.3f}")
    print(f"{'design_mary (SDP, m=3, M=3)':58s}{t_sdp:>10.3f}")
    return 0 if (ok1 and ok2) else 1


if __name__ == "__main__":
    sys.exit(main())
