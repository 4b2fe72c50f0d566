"""A release that is safe by default (issue 17): each attack on the earlier workflow as a
test that fails on it — the public output holds no X (and no Y unless kept), a guessed
small key is refused, two concurrent applies cannot both succeed, SIGTERM leaves no
temporary file, the output is never the input."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import leakage as lk
from leakage import release as rl
from leakage.release._keys import stream_key

JOINT = np.array([[0.15, 0.2, 0.0625, 0.05], [0.35, 0.05, 0.0625, 0.075]])
KEY = hashlib.sha256(b"leakage-test-key").digest()
POSIX = pytest.mark.skipif(os.name != "posix", reason="POSIX modes and signals")


def _table(n, seed=0):
    rng = np.random.default_rng(seed)
    idx = rng.choice(JOINT.size, size=n, p=JOINT.ravel())
    x, y = np.divmod(idx, JOINT.shape[1])
    return pd.DataFrame({"id": np.arange(n), "x": x, "y": np.array(list("abcd"))[y]})


@pytest.fixture(scope="module")
def release():
    return rl.design(rl.fit(_table(50_000, 1), "x", "y"), [0.05] * 4)


# ------------------------------------------------------------------ 1. two outputs


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_public_output_holds_only_the_released_and_kept_columns(release, tmp_path, suffix):
    df = _table(3000)
    out = tmp_path / f"pub{suffix}"
    info = rl.apply(release, df, out, key=KEY, keep=["id"])
    back = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert list(back.columns) == ["id", "released"] == info["columns"]
    assert (back["id"].to_numpy() == df["id"].to_numpy()).all()
    if os.name == "posix":
        assert out.stat().st_mode & 0o777 == 0o600
    # the curator may choose to share it
    rl.apply(release, df, tmp_path / f"shared{suffix}", key=KEY, perms=0o644)
    if os.name == "posix":
        assert (tmp_path / f"shared{suffix}").stat().st_mode & 0o777 == 0o644


def test_the_private_column_is_never_kept_and_the_useful_one_warns(release, tmp_path):
    df = _table(500)
    with pytest.raises(lk.InvalidParameterError, match="private column 'x'"):
        rl.apply(release, df, tmp_path / "o.csv", key=KEY, keep=["id", "x"])
    assert not (tmp_path / "o.csv").exists()
    with pytest.warns(lk.DisclosureWarning, match="useful column 'y'"):
        rl.apply(release, df, tmp_path / "o.csv", key=KEY, keep=["y"])
    assert list(pd.read_csv(tmp_path / "o.csv").columns) == ["y", "released"]


def test_audit_file_and_public_table_beside_the_source_agree(release, tmp_path):
    df = _table(20_000, 2)
    df.loc[[3, 777, 15_000], "y"] = "zzz"  # dropped records: found again by the policy
    pub, aud = tmp_path / "pub.parquet", tmp_path / "audit.parquet"
    info = rl.apply(release, df, pub, key=KEY, audit_out=aud, unknown="drop", batch_size=3000)
    assert info["dropped"] == 3 and info["audit_out"] == str(aud)
    assert pq.read_schema(aud).names == ["x", "released"]
    if os.name == "posix":
        assert aud.stat().st_mode & 0o777 == 0o600
    a = rl.audit(release, aud, bootstrap=200, rng=1)
    b = rl.audit(release, pub, source=df, unknown="drop", bootstrap=200, rng=1)
    assert np.array_equal(a.counts, b.counts) and np.array_equal(a.interval, b.interval)
    # independent count of (x, u) from the audit file
    t = pq.read_table(aud).to_pandas()
    u = t["released"].map({v: k for k, v in enumerate(release.labels_u)})
    ref = np.zeros_like(a.counts)
    np.add.at(ref, (t["x"].to_numpy(), u.to_numpy()), 1)
    assert np.array_equal(a.counts, ref)
    # a source that does not match (records missing) is refused, not silently misaligned
    with pytest.raises(lk.InvalidParameterError, match="do not belong to one apply"):
        rl.audit(release, pub, source=df.iloc[:-5], unknown="drop")
    with pytest.raises(lk.InvalidParameterError, match="unseen value"):
        rl.audit(release, pub, source=df)  # the apply dropped them: the policy is needed


# ------------------------------------------------------------------ 2. keys, not seeds


def test_small_integer_seeds_and_short_keys_are_refused(release, tmp_path):
    df = _table(100)
    with pytest.raises(lk.InvalidParameterError, match="replaced by 'key'"):
        rl.apply(release, df, tmp_path / "o.csv", key=KEY, seed=2026)
    with pytest.raises(lk.InvalidParameterError, match="integer seed can be searched"):
        rl.apply(release, df, tmp_path / "o.csv", key=2026)
    with pytest.raises(lk.InvalidParameterError, match="at least 128 bits"):
        rl.apply(release, df, tmp_path / "o.csv", key=(2026).to_bytes(8, "big"))
    assert not (tmp_path / "o.csv").exists()
    # for tests and reproducible examples only
    rl.apply(release, df, tmp_path / "o.csv", key=b"\x07\xea", insecure_key=True)


def test_same_key_and_id_reproduce_and_a_new_id_gives_new_draws(release, tmp_path):
    df = _table(5000, 3)
    a = rl.apply_frame(release, df, key=KEY, release_id="r1")["released"].astype(str)
    b = rl.apply_frame(release, df, key=KEY.hex(), release_id="r1")["released"].astype(str)
    assert (a == b).all()
    fresh = rl.apply_frame(release, df, key=KEY)
    assert fresh.attrs["release_id"] != "r1" and len(fresh.attrs["release_id"]) == 16
    c = rl.apply_frame(release, df, key=KEY, release_id="r2")["released"].astype(str)
    assert (a != c).mean() > 0.2  # independent draws, not the same stream
    # the stream key is HMAC-SHA256(key, domain || id), truncated to 128 bits
    import hashlib as h
    import hmac

    mac = hmac.new(KEY, b"leakage.release.philox.v1\x00r1", h.sha256).digest()
    assert stream_key(KEY, "r1") == int.from_bytes(mac[:16], "little")
    info = rl.apply(release, df, tmp_path / "o.csv", key=KEY)
    assert info["release_id"] != rl.apply(release, df, tmp_path / "p.csv", key=KEY)["release_id"]


def test_the_key_is_in_neither_the_release_nor_the_output(release, tmp_path):
    df = _table(2000, 4)
    rel = tmp_path / "r.json"
    release.save(rel)
    out = tmp_path / "o.parquet"
    rl.apply(release, df, out, key=KEY, audit_out=tmp_path / "a.parquet")
    skey = stream_key(KEY, "x").to_bytes(16, "little")
    for f in (rel, out, tmp_path / "a.parquet"):
        raw = f.read_bytes()
        assert KEY not in raw and KEY.hex().encode() not in raw and skey not in raw


@POSIX
def test_key_files_are_private_and_never_replaced_by_accident(tmp_path):
    k = rl.new_key()
    assert len(k) == 32 and k != rl.new_key()
    path = rl.write_key(tmp_path / "k.key", k)
    assert path.stat().st_mode & 0o777 == 0o600 and rl.read_key(path) == k
    with pytest.raises(lk.OutputExistsError, match="never replaced"):
        rl.write_key(path, rl.new_key())
    assert rl.read_key(path) == k
    rl.write_key(path, b"\x01" * 16, overwrite=True)
    os.chmod(path, 0o644)
    with pytest.warns(UserWarning, match="can be read by others"):
        assert rl.read_key(path) == b"\x01" * 16
    (tmp_path / "short.key").write_text("07ea\n")
    os.chmod(tmp_path / "short.key", 0o600)
    with pytest.raises(lk.InvalidParameterError, match="at least 128 bits"):
        rl.read_key(tmp_path / "short.key")


# ------------------------------------------------------------------ 4. files that survive


def test_output_equal_to_the_input_is_refused_even_with_overwrite(release, tmp_path):
    src = tmp_path / "in.csv"
    _table(300).to_csv(src, index=False)
    before = src.read_bytes()
    for out in (src, tmp_path / "." / "in.csv"):
        with pytest.raises(lk.InvalidParameterError, match="differ from the source"):
            rl.apply(release, src, out, key=KEY, overwrite=True)
        with pytest.raises(lk.InvalidParameterError, match="differ from the source"):
            rl.apply(release, src, tmp_path / "o.csv", key=KEY, audit_out=out, overwrite=True)
    assert src.read_bytes() == before


def test_an_output_appearing_mid_run_is_not_replaced(release, tmp_path, monkeypatch):
    """The race of two applies: the second to finish fails at publication, cleanly."""
    import leakage.release._apply as ap

    df = _table(3000)
    out = tmp_path / "o.parquet"
    real = ap.released_letters

    def racing(*a, **k):  # another run publishes the same path while this one writes
        if not out.exists():
            out.write_bytes(b"the other run's output")
        return real(*a, **k)

    monkeypatch.setattr(ap, "released_letters", racing)
    with pytest.raises(lk.OutputExistsError, match="appeared while this run was writing"):
        rl.apply(release, df, out, key=KEY, audit_out=tmp_path / "a.parquet")
    assert out.read_bytes() == b"the other run's output"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.parquet"]  # no audit, no tmp


_SCRIPT = """
import signal, sys, time
# as from a terminal: under nohup (CI) SIGHUP arrives ignored, and an ignored signal stays so
if hasattr(signal, "SIGHUP"):
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
from leakage import release as rl
import leakage.release._apply as ap
r = rl.Release.load(sys.argv[1])
slow = len(sys.argv) > 4
real = ap.released_letters
def letters(*a, **k):
    if slow:
        print("writing", flush=True)
        time.sleep(30)
    return real(*a, **k)
ap.released_letters = letters
try:
    rl.apply(r, sys.argv[2], sys.argv[3], key=bytes(32), batch_size=500)
except Exception as exc:
    print(type(exc).__name__, exc, flush=True)
    sys.exit(3)
print("ok", flush=True)
"""


def _script(tmp_path, release) -> tuple[Path, Path, Path]:
    rel, src = tmp_path / "r.json", tmp_path / "in.csv"
    release.save(rel)
    _table(2000).to_csv(src, index=False)
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(_SCRIPT))
    return script, rel, src


@pytest.mark.slow
def test_two_concurrent_applies_exactly_one_succeeds(release, tmp_path):
    script, rel, src = _script(tmp_path, release)
    out = tmp_path / "o.csv"
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(rel), str(src), str(out)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [(p.wait(timeout=120), p.stdout.read()) for p in procs]
    codes = sorted(rc for rc, _ in results)
    assert codes == [0, 3], results
    assert any("OutputExistsError" in text for _, text in results)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@POSIX
@pytest.mark.slow
@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP"])
def test_a_signal_mid_apply_leaves_no_temporary_file(release, tmp_path, sig):
    script, rel, src = _script(tmp_path, release)
    out = tmp_path / "o.csv"
    p = subprocess.Popen(
        [sys.executable, str(script), str(rel), str(src), str(out), "slow"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert p.stdout.readline().strip() == "writing"
    tmps = [q for q in tmp_path.iterdir() if q.name.endswith(".tmp")]
    assert len(tmps) == 1  # the temporary output exists while writing
    p.send_signal(getattr(signal, sig))
    assert p.wait(timeout=60) == -getattr(signal, sig)  # died by the signal, as asked
    assert sorted(q.name for q in tmp_path.iterdir()) == ["in.csv", "r.json", "run.py"]


@POSIX
def test_stale_temporary_files_of_killed_runs_are_removed(release, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "o.csv"
    from leakage.io import _host_tag

    host = _host_tag()
    stale = tmp_path / f".o.csv.leakage-{host}-{dead.pid}-{'ab' * 8}.tmp"
    stale.write_bytes(b"x" * 1000)
    alive = tmp_path / f".o.csv.leakage-{host}-{os.getppid()}-{'cd' * 8}.tmp"  # live
    alive.write_bytes(b"y")
    elsewhere = tmp_path / f".o.csv.leakage-{'0' * 8}-{dead.pid}-{'ef' * 8}.tmp"
    elsewhere.write_bytes(b"another machine's run on a shared file system")
    foreign = tmp_path / ".o.csv.other.tmp"  # not a name atomic_write makes
    foreign.write_bytes(b"z")
    rl.apply(release, _table(200), out, key=KEY)
    assert not stale.exists() and alive.exists() and foreign.exists() and out.exists()
    assert elsewhere.exists()


def test_dask_and_stream_refuse_an_empty_source_alike(release, tmp_path):
    pytest.importorskip("dask.dataframe")
    src = tmp_path / "empty.parquet"
    pq.write_table(pa.Table.from_pandas(_table(0), preserve_index=False), src)
    for run in (rl.apply, rl.apply_dask):
        with pytest.raises(lk.InvalidParameterError, match="the source has no records"):
            run(release, src, tmp_path / "o.parquet", key=KEY)
        assert not (tmp_path / "o.parquet").exists()


def test_dask_runs_only_on_the_scheduler_named(release, tmp_path, monkeypatch):
    """A distributed Client made elsewhere in the program is not used unless passed."""
    dask = pytest.importorskip("dask")
    df = _table(4000, 5)
    src = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), src, row_group_size=1000)
    seen = []
    real = dask.compute

    def spy(*a, **k):
        seen.append(k.get("scheduler"))
        return real(*a, **k)

    import leakage.release._dask as dk

    monkeypatch.setattr(dask, "compute", spy)
    with dask.config.set(scheduler="processes"):  # a global default is not picked up
        dk.apply_dask(release, src, tmp_path / "o.parquet", key=KEY, release_id="s")
    assert seen and all(s == "threads" for s in seen)
    rl.apply(release, src, tmp_path / "s.parquet", key=KEY, release_id="s")
    assert (tmp_path / "o.parquet").read_bytes() == (tmp_path / "s.parquet").read_bytes()


def test_apply_does_not_touch_the_process_umask(release, tmp_path, monkeypatch):
    def no_umask(*a):
        raise AssertionError("os.umask called")

    monkeypatch.setattr(os, "umask", no_umask)
    rl.apply(release, _table(100), tmp_path / "o.csv", key=KEY)
    from leakage.io import atomic_write

    with atomic_write(tmp_path / "t.txt") as f:
        f.write("x")
    assert (tmp_path / "t.txt").read_text() == "x"
