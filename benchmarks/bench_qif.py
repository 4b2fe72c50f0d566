"""Benchmarks of leakage.qif beside the C++ library ``qif`` (run by hand).

Goals: posterior g-vulnerability of a 256x256 channel with 256 guesses <= 50 ms;
refinement of 64x64 channels <= 1 s.
"""

from __future__ import annotations

import time

import numpy as np

from leakage import qif as lq


def _best(f, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def _channel(rng, n, m, alpha=1.0):
    return rng.dirichlet(np.full(m, alpha), size=n)


def main() -> None:
    try:
        import qif
    except ImportError:  # pragma: no cover
        qif = None
    rng = np.random.default_rng(0)
    rows = []
    C, G, pi = _channel(rng, 256, 256), rng.random((256, 256)), rng.dirichlet(np.ones(256))
    rows.append(
        (
            "g-vulnerability 256x256, 256 guesses",
            _best(lambda: lq.posterior_vulnerability(pi, C, G)),
            qif and _best(lambda: qif.measure.g_vuln.posterior(G, pi, C)),
        )
    )
    rows.append(
        (
            "Bayes capacity 256x256",
            _best(lambda: lq.multiplicative_capacity(C)),
            qif and _best(lambda: qif.measure.bayes_vuln.mult_capacity(C)),
        )
    )
    rows.append(
        (
            "hyper 256x256",
            _best(lambda: lq.hyper(pi, C)),
            qif and _best(lambda: qif.channel.hyper(C, pi)),
        )
    )
    A = _channel(rng, 64, 64)
    cases = {
        "refinement 64x64, full rank, refined": (A, A @ _channel(rng, 64, 64)),
        "refinement 64x64, full rank, not refined": (A, _channel(rng, 64, 64)),
    }
    L = _channel(rng, 64, 32) @ _channel(rng, 32, 64)
    cases["refinement 64x64, rank 32, refined (LP)"] = (L, L @ _channel(rng, 64, 64))
    cases["refinement 64x64, rank 32, not refined"] = (L, _channel(rng, 64, 64))
    # in the column space of L but outside the cone {L R}: the witness comes from the LP
    P = _channel(rng, 64, 32)
    L2 = P @ _channel(rng, 32, 64)
    cases["refinement 64x64, rank 32, not refined (LP)"] = (
        L2,
        P @ _channel(rng, 32, 64, alpha=0.05),
    )
    for name, (a, b) in cases.items():
        rows.append(
            (
                name,
                _best(lambda a=a, b=b: lq.refines(a, b), 3),
                qif and _best(lambda a=a, b=b: qif.refinement.refined_by(a, b), 3),
            )
        )
    rows.append(
        (
            "additive Bayes capacity 16x64 (2^16 priors)",
            _best(lambda: lq.additive_capacity(_channel(np.random.default_rng(1), 16, 64))),
            None,
        )
    )
    print(f"{'case':48s} {'leakage.qif':>12s} {'qif':>12s}")
    for name, ours, theirs in rows:
        t = "n/a" if theirs is None else f"{theirs * 1e3:9.2f} ms"
        print(f"{name:48s} {ours * 1e3:9.2f} ms {t:>12s}")


if __name__ == "__main__":
    main()
