"""
A timing side channel, estimated from samples
=============================================

A timing side channel, measured on this machine: how much does a comparison leak?

A password check compares the user's guess with the secret. A naive comparison returns at
the first differing byte, so its running time reveals how long a prefix of the guess is
right; ``hmac.compare_digest`` takes the same time whatever the inputs. The secret here is
the length of the matching prefix (0, 4, ..., 28 of 32 bytes, uniform); the observable is
the running time of 50 comparisons, in microseconds. ``leakage.estimate`` gives the mutual
information between the two (k-nearest-neighbour estimator of Ross 2014) and the Bayes
risk of guessing the prefix length from one timing (nearest-neighbour rule, as F-BLEAU),
each with a bootstrap interval. Then the same question is put to a black box:
``leakage.estimate.from_system`` times one comparison per call on secrets drawn uniformly
and stops when the interval is 0.1 bits wide, keeping its 95% coverage at that
data-dependent stop.

Run: ``python examples/timing_side_channel.py [figure.png]``.
"""

from __future__ import annotations

import hmac
import sys
import time

import numpy as np

import leakage as lk


def naive_equal(a: bytes, b: bytes) -> bool:
    """Early exit at the first difference: the time grows with the matching prefix."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):  # the early exit is the point
        if x != y:
            return False
    return True


def measure(compare, prefixes: np.ndarray, rng: np.random.Generator, reps: int = 50):
    """Running time (microseconds) of ``reps`` comparisons for each secret prefix length."""
    secret = bytes(rng.integers(0, 256, 32, dtype=np.uint8))
    times = np.empty(prefixes.size)
    for i, k in enumerate(prefixes):  # a loop over measurements: each is one experiment
        guess = secret[:k] + bytes((b + 1) % 256 for b in secret[k:])
        t0 = time.perf_counter_ns()
        for _ in range(reps):
            compare(guess, secret)
        times[i] = (time.perf_counter_ns() - t0) / 1000.0
    return times


def main(figure: str | None = None) -> None:
    rng = np.random.default_rng(2026)
    levels = np.arange(0, 32, 4)  # the secret: matching prefix length
    prefixes = rng.permutation(np.repeat(levels, 250))  # interleaved: drift hits all alike
    results = {}
    for name, compare in (("naive", naive_equal), ("compare_digest", hmac.compare_digest)):
        t = measure(compare, prefixes, rng)
        mi = lk.estimate.mutual_information(prefixes, t, method="knn", resamples=100, rng=1)
        risk = lk.estimate.bayes_risk(prefixes, t, method="knn", resamples=100, rng=1)
        results[name] = t
        print(
            f"{name:15s} I(prefix; time) = {mi.value:.3f} bits "
            f"[{mi.lower:.3f}, {mi.upper:.3f}] ({mi.level:.0%}, log2 8 = 3 bits at most); "
            f"Bayes risk >= {risk.value:.3f} [{risk.lower:.3f}, {risk.upper:.3f}] "
            f"(0.875 = blind guessing)"
        )
    secret = bytes(rng.integers(0, 256, 32, dtype=np.uint8))
    for name, compare in (("naive", naive_equal), ("compare_digest", hmac.compare_digest)):

        def timed(k: int, _rng, compare=compare) -> float:
            """The black box: the time (µs) of 50 comparisons of a k-byte-prefix guess."""
            guess = secret[:k] + bytes((b + 1) % 256 for b in secret[k:])
            t0 = time.perf_counter_ns()
            for _ in range(50):
                compare(guess, secret)
            return (time.perf_counter_ns() - t0) / 1000.0

        prior = {int(k): 1 / levels.size for k in levels}
        est = lk.estimate.from_system(
            timed, prior, method="knn", width=0.1, max_samples=32_000, progress=False, rng=4
        )
        print(
            f"{name:15s} from_system: I = {est.value:.3f} bits [{est.lower:.3f}, "
            f"{est.upper:.3f}] after {est.n:,} calls ({est.details['stopped']})"
        )
    if figure:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), sharey=False)
        for ax, (name, t) in zip(axes, results.items(), strict=True):
            data = [t[prefixes == k] for k in levels]
            ax.boxplot(data, showfliers=False)
            ax.set_xticks(range(1, levels.size + 1), [str(k) for k in levels])
            ax.set_title(name)
            ax.set_xlabel("matching prefix (bytes): the secret")
        axes[0].set_ylabel("time of 50 comparisons (µs)")
        fig.tight_layout()
        fig.savefig(figure, dpi=110)
        print(f"figure written to {figure}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
