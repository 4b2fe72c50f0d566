"""Performance goals of leakage.release (issue: data release), run by hand.

1. apply in memory (codes + counter-based draws): goal **>= 10^7 records/s** on one core.
2. A generated 10^8-row Parquet file (columns x, y and a row id) streamed end to end by
   ``apply`` (read, draw, write Parquet atomically): goal **under 60 s, peak memory under
   1 GB** (peak RSS of the process doing it, measured in a child process).
3. ``apply_dask`` on a local Dask cluster (2 worker processes) over the same file: goal
   **within 1.5x of the streaming time, same output hash**.
4. For reference: ``fit`` over the same file (one streaming pass).

``python benchmarks/bench_release.py [ROWS]`` (default 10^8; the file goes to a temporary
directory and is removed). Exits 1 if a goal is missed.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

JOINT = np.array([[0.15, 0.2, 0.0625, 0.05], [0.35, 0.05, 0.0625, 0.075]])


def make_file(path: Path, rows: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    with pq.ParquetWriter(
        path,
        pa.schema([("id", pa.int64()), ("x", pa.int8()), ("y", pa.int8())]),
        compression="zstd",
    ) as w:
        step = 1 << 22
        for s0 in range(0, rows, step):
            n = min(step, rows - s0)
            idx = rng.choice(JOINT.size, size=n, p=JOINT.ravel())
            x, y = np.divmod(idx, JOINT.shape[1])
            w.write_table(
                pa.table(
                    {"id": np.arange(s0, s0 + n), "x": x.astype(np.int8), "y": y.astype(np.int8)}
                )
            )


#: a fixed, published key: benchmarks only, never a real release's
KEY = bytes(32)


def child(src: str, out: str, release_path: str) -> None:
    from leakage import release as rl

    r = rl.Release.load(release_path)
    t0 = time.perf_counter()
    # the public table (the released column and the row id), with the private audit file
    info = rl.apply(
        r,
        src,
        out,
        key=KEY,
        release_id="bench",
        keep=["id"],
        audit_out=out + ".audit.parquet",
        overwrite=True,
    )
    info["seconds"] = time.perf_counter() - t0
    info["rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(json.dumps(info))


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:5])
        return 0
    rows = int(float(sys.argv[1])) if len(sys.argv) > 1 else 10**8
    import pandas as pd
    import pyarrow as pa

    from leakage import release as rl
    from leakage.release._apply import release_codes, released_letters

    rng = np.random.default_rng(1)
    n = 10**7
    df = pd.DataFrame({"x": rng.integers(0, 2, n), "y": rng.integers(0, 4, n)})
    f = rl.fit(df, "x", "y")
    r = rl.design(f, [0.05] * 4)
    col = pa.array(df.y.to_numpy())
    t0 = time.perf_counter()
    codes, _ = release_codes(r, col, 0, "error", "bench")
    released_letters(r, codes, 1, 0)
    rate = n / (time.perf_counter() - t0)
    ok1 = rate >= 1e7
    with tempfile.TemporaryDirectory() as d:
        src, out, rel = Path(d) / "in.parquet", Path(d) / "out.parquet", Path(d) / "r.json"
        t0 = time.perf_counter()
        make_file(src, rows)
        t_make = time.perf_counter() - t0
        t0 = time.perf_counter()
        fitted = rl.fit(src, "x", "y")
        t_fit = time.perf_counter() - t0
        rl.design(fitted, [0.05] * 4).save(rel)
        res = subprocess.run(
            [sys.executable, __file__, "--child", str(src), str(out), str(rel)],
            capture_output=True,
            text=True,
            check=True,
        )
        info = json.loads(res.stdout.strip().splitlines()[-1])
        size_in, size_out = os.path.getsize(src), os.path.getsize(out)
        from distributed import Client, LocalCluster

        with (
            LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as c,
            Client(c) as client,
        ):
            dout = Path(d) / "dask.parquet"
            t0 = time.perf_counter()
            rl.apply_dask(
                rl.Release.load(rel),
                src,
                dout,
                key=KEY,
                release_id="bench",
                keep=["id"],
                audit_out=str(dout) + ".audit.parquet",
                scheduler=client,
            )
            t_dask = time.perf_counter() - t0
        same = dout.read_bytes() == out.read_bytes()
    ok2 = info["seconds"] < 60 and info["rss_gb"] < 1
    print(f"{'':60s}{'value':>14s}  goal")
    print(
        f"{'apply in memory (10^7 records)':60s}{rate:>14,.0f}  >= 1e7/s: "
        f"{'met' if ok1 else 'MISSED'}"
    )
    print(
        f"{f'apply streamed, {rows:,} rows Parquet -> Parquet (s)':60s}"
        f"{info['seconds']:>14.1f}  < 60 s, < 1 GB ({info['rss_gb']:.2f} GB): "
        f"{'met' if ok2 else 'MISSED'}"
    )
    ok3 = t_dask < 1.5 * info["seconds"] and same
    print(
        f"{'apply_dask, local cluster of 2 processes (s)':60s}{t_dask:>14.1f}  < 1.5x "
        f"streaming ({t_dask / info['seconds']:.2f}x), same bytes: {same}: "
        f"{'met' if ok3 else 'MISSED'}"
    )
    print(f"{'fit, same file (s)':60s}{t_fit:>14.1f}")
    print(
        f"{'(generating the file took, s)':60s}{t_make:>14.1f}  in {size_in / 1e6:.0f} MB,"
        f" out {size_out / 1e6:.0f} MB"
    )
    return 0 if ok1 and ok2 and ok3 else 1


if __name__ == "__main__":
    sys.exit(main())
