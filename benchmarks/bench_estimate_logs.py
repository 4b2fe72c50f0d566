"""Counting a big log streamed in batches (issue item "Big logs").

Run by hand: ``python benchmarks/bench_estimate_logs.py`` (10^8 pairs, ~150 MiB of
temporary Parquet) or ``python benchmarks/bench_estimate_logs.py --rows 10000000``.

1. Writes a Parquet file of ``--rows`` (secret, observable) int64 pairs (secret in 0..15,
   observable in 0..255, the observable equal to ``16 * secret`` plus noise), generated in
   chunks through a ``ParquetWriter`` (memory independent of ``--rows``), into a temporary
   directory deleted afterwards.
2. Times :func:`leakage.estimate.count_log` on it (goal: <= 30 s for 10^8 pairs, i.e. at
   least 3.3 million pairs/s) and checks the total count.
3. Times the mutual information (``method="auto"``) with a 1,000-resample bootstrap from
   the resulting :class:`~leakage.estimate.Counts`.

Prints the timings; exits 1 if the counting goal is missed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from leakage.estimate import count_log, mutual_information

GOAL_ROWS = 10**8
GOAL_SECONDS = 30.0
CHUNK = 5_000_000


def write_log(path: Path, rows: int, seed: int = 0) -> None:
    """``rows`` pairs in chunks of ``CHUNK`` rows (one row group each)."""
    rng = np.random.default_rng(seed)
    schema = pa.schema([("secret", pa.int64()), ("observable", pa.int64())])
    with pq.ParquetWriter(path, schema) as w:
        for start in range(0, rows, CHUNK):
            m = min(CHUNK, rows - start)
            s = rng.integers(0, 16, m)
            o = (16 * s + rng.integers(0, 48, m)) % 256
            w.write_table(pa.table({"secret": s, "observable": o}, schema=schema))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=GOAL_ROWS, help="pairs in the log (10^8)")
    ap.add_argument("--batch-rows", type=int, default=1_000_000, help="count_log batch_rows")
    ap.add_argument("--progress", action="store_true", help="show count_log's progress bar")
    args = ap.parse_args(argv)
    rows = args.rows
    goal = GOAL_SECONDS * rows / GOAL_ROWS  # the same rate as 10^8 pairs in 30 s
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.parquet"
        t0 = time.perf_counter()
        write_log(path, rows)
        t_write = time.perf_counter() - t0
        size = path.stat().st_size
        print(f"wrote {rows:,} pairs ({size / 2**20:,.1f} MiB of Parquet) in {t_write:.1f} s")
        t0 = time.perf_counter()
        c = count_log(
            path, "secret", "observable", batch_rows=args.batch_rows, progress=args.progress
        )
        t_count = time.perf_counter() - t0
    assert c.n == rows, (c.n, rows)
    print(f"count_log: {rows:,} pairs in {t_count:.2f} s = {rows / t_count:,.0f} pairs/s")
    print(f"  table {c.table.shape[0]} x {c.table.shape[1]}, n = {c.n:,}")
    t0 = time.perf_counter()
    est = mutual_information(c, resamples=1000, rng=0)
    t_mi = time.perf_counter() - t0
    print(f"MI ({est.method}) + 1,000-resample bootstrap from the Counts: {t_mi:.3f} s")
    print(f"  I = {est.value:.5f} bits, 95% [{est.lower:.5f}, {est.upper:.5f}]")
    ok = t_count <= goal
    print(
        f"goal (<= {GOAL_SECONDS:g} s for 10^8 pairs, i.e. <= {goal:.2f} s here):",
        "met" if ok else "MISSED",
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
