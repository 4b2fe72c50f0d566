"""Per-source-type cost of the capped/tight evaluation (``capped_candidates``).

Run by hand: ``python benchmarks/bench_refinement.py``. Times a sweep of neighbouring
source types sharing one warm-start dictionary (as the cipher region searches do) and the
same types solved cold, for the binary Fig. 2 case and a 4-letter case; then the same
with the joint Newton solve of the conditional problem disabled (the per-letter bracketing
search it falls back to, i.e. the previous method).
"""

from __future__ import annotations

import time

import numpy as np

from leakage.ratedistortion import _refinement, distortion_matrix
from leakage.ratedistortion._refinement import _Ctx, capped_candidates


def sweep(types, d1, d2, D1, D2, warm: bool) -> float:
    shared: dict = {}
    t0 = time.perf_counter()
    for p in types:
        ctx = _Ctx(p, d1, d2, D1, D2, 1e-9, 100_000, "bench")
        if warm:
            ctx.warm = shared
        rd1 = ctx.rd(d1, D1, tag="d1")
        capped_candidates(ctx, rd1, rd1[0], False)
    return (time.perf_counter() - t0) / len(types)


def main() -> None:
    h = distortion_matrix("hamming", 2)
    binary = [np.array([a, 1 - a]) for a in np.linspace(0.28, 0.32, 200)]
    P = np.array([0.4, 0.3, 0.2, 0.1])
    rng = np.random.default_rng(0)
    four = [P + 0.01 * (x - x.mean()) for x in rng.random((100, 4))]
    cases = [
        ("binary hamming/hamming D1=0.2 D2=0.1", binary, h, h, 0.2, 0.1),
        (
            "4-letter abs/squared D1=0.4 D2=0.25",
            four,
            distortion_matrix("abs", 4),
            distortion_matrix("squared", 4),
            0.4,
            0.25,
        ),
    ]
    newton = _refinement._cond_newton
    for label, fn in (("joint Newton", newton), ("bracketing only", lambda *a: None)):
        _refinement._cond_newton = fn
        for name, types, d1, d2, D1, D2 in cases:
            cold = sweep(types, d1, d2, D1, D2, warm=False)
            hot = sweep(types, d1, d2, D1, D2, warm=True)
            print(f"[{label}] {name}: cold {1e3 * cold:.2f} ms/type, warm {1e3 * hot:.2f} ms/type")
    _refinement._cond_newton = newton


if __name__ == "__main__":
    main()
