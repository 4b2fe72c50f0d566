"""Data release (leakage.release): fit, design, apply (streamed), audit."""

from __future__ import annotations

import hashlib
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy.stats import chisquare

import leakage as lk
from leakage import release as rl
from leakage.release._audit import _letter_leakage

JOINT = np.array([[0.15, 0.2, 0.0625, 0.05], [0.35, 0.05, 0.0625, 0.075]])


def _table(n, seed, joint=JOINT):
    rng = np.random.default_rng(seed)
    idx = rng.choice(joint.size, size=n, p=joint.ravel())
    x, y = np.divmod(idx, joint.shape[1])
    ylab = np.array(["a", "b", "c", "d"])[y]
    return pd.DataFrame({"x": x, "y": ylab, "other": np.arange(n) * 0.5})


def _key(i):
    """A 256-bit test key, one per integer (never a real release's key)."""
    return hashlib.sha256(f"leakage-test-key-{i}".encode()).digest()


def _sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.fixture(scope="module")
def release():
    f = rl.fit(_table(200_000, 0), "x", "y")
    return rl.design(f, [0.05, 0.05, 0.05, 0.05], method="l1")


def test_fit_recovers_the_counts_from_every_source(tmp_path):
    df = _table(5000, 1)
    ref = pd.crosstab(df.x, df.y).to_numpy()
    f = rl.fit(df, "x", "y")
    assert f.labels_x == ["0", "1"] and f.labels_y == ["a", "b", "c", "d"]
    assert np.array_equal(f.counts, ref) and f.n == 5000
    assert np.allclose(f.joint, ref / 5000)
    df.to_csv(tmp_path / "t.csv", index=False)
    pq.write_table(pa.Table.from_pandas(df), tmp_path / "t.parquet", row_group_size=777)
    for src in (tmp_path / "t.csv", tmp_path / "t.parquet", pa.Table.from_pandas(df)):
        assert np.array_equal(rl.fit(src, "x", "y").counts, ref)
    g = rl.fit(df, "x", "y", prior=0.5)
    assert np.allclose(g.joint, (ref + 0.5) / (5000 + 0.5 * 8))


def test_fit_bins_missing_values_and_small_cells():
    df = pd.DataFrame({"x": [0, 1, 0, 1, 0], "age": [20.0, 35.0, 51.0, np.nan, 64.9]})
    with pytest.raises(lk.InvalidParameterError, match=r"row 3 .* 'age'"):
        rl.fit(df, "x", "age", bins={"age": [18, 30, 50, 65]})
    with pytest.warns(lk.errors.SmallCountWarning, match="fewer than 5"):
        f = rl.fit(df, "x", "age", bins={"age": [18, 30, 50, 65]}, missing="drop")
    assert f.labels_y == ["[18, 30)", "[30, 50)", "[50, 65]"]
    assert f.counts.tolist() == [[1, 0, 2], [0, 1, 0]]
    # a category seen only beside a dropped record is not a letter
    g = rl.fit(
        pd.DataFrame({"x": [0, 1, None], "y": ["a", "b", "c"]}),
        "x",
        "y",
        missing="drop",
        min_count=0,
    )
    assert g.labels_y == ["a", "b"] and g.counts.tolist() == [[1, 0], [0, 1]]
    with pytest.raises(lk.InvalidParameterError, match="no column 'nope'"):
        rl.fit(df, "x", "nope")
    with pytest.raises(lk.InvalidParameterError, match="increasing"):
        rl.fit(df, "x", "age", bins={"age": [3, 2]})


def test_design_refuses_a_mechanism_over_budget(release):
    assert np.all(np.nan_to_num(release.leakages) <= release.budgets + 1e-9)
    f = rl.fit(_table(20_000, 2), "x", "y")
    with pytest.raises(lk.InfeasibleError, match="refused"):
        rl.design(f, [0.05] * 4, tol=-1e-3)  # a stricter-than-budget check must refuse
    # a release file whose mechanism was edited (here: publish Y as is) is refused by apply
    import dataclasses

    leaky = dataclasses.replace(release, mechanism=lk.Mechanism(np.eye(4), {}))
    with pytest.raises(lk.InfeasibleError, match="would leak"):
        rl.apply(leaky, _table(100, 3), "never.csv", key=_key(1), release_id="t")


def test_uniforms_are_one_counter_based_stream():
    ref = rl.uniforms(42, 0, 1000)
    for start, n in ((0, 5), (1, 9), (3, 4), (4, 100), (997, 3)):
        assert np.array_equal(rl.uniforms(42, start, n), ref[start : start + n])


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_output_is_identical_across_batch_sizes(release, tmp_path, suffix):
    df = _table(3000, 3)
    src = tmp_path / f"in{suffix}"
    if suffix == ".csv":
        df.to_csv(src, index=False)
    else:
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), src, row_group_size=500)
    hashes = set()
    for bs in (1, 7, 10**6):
        out = tmp_path / f"out{bs}{suffix}"
        info = rl.apply(release, src, out, key=_key(11), release_id="t", batch_size=bs)
        assert info["records"] == info["written"] == 3000
        hashes.add(_sha(out))
    assert len(hashes) == 1
    # the in-memory path draws the same letters
    mem = rl.apply_frame(release, df, key=_key(11), release_id="t")
    back = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert (mem["released"].astype(str).to_numpy() == back["released"].to_numpy()).all()


def test_released_column_follows_the_mechanism(release):
    """Chi-square goodness of fit of the released letters given each y, level 1e-3."""
    df = _table(100_000, 4)
    out = rl.apply_frame(release, df, key=_key(5), release_id="t")
    assert list(out.columns) == ["released"]  # the public table: U only
    W = release.mechanism.matrix
    for j, y in enumerate(release.labels_y):
        got = (
            out.loc[(df.y == y).to_numpy(), "released"]
            .value_counts()
            .reindex(release.labels_u)
            .fillna(0)
        )
        exp = W[j] * got.sum()
        live = exp > 0
        assert got[~live].sum() == 0
        if live.sum() > 1:
            assert chisquare(got[live].to_numpy(), exp[live]).pvalue > 1e-3


def test_unknown_values_policies(release, tmp_path):
    df = _table(50, 5)
    df.loc[17, "y"] = "zzz"
    with pytest.raises(lk.InvalidParameterError, match="row 17 has the unseen value 'zzz'"):
        rl.apply(release, df, tmp_path / "o.csv", key=_key(1), release_id="t")
    assert not (tmp_path / "o.csv").exists()
    info = rl.apply(release, df, tmp_path / "d.csv", key=_key(1), release_id="t", unknown="drop")
    assert info["dropped"] == 1 and info["written"] == 49
    full = rl.apply_frame(
        release, df.drop(index=17).reset_index(drop=True), key=_key(1), release_id="t"
    )
    kept = pd.read_csv(tmp_path / "d.csv")
    # dropping keeps every other record's draw: rows before 17 agree with a clean run
    assert (kept["released"][:17].to_numpy() == full["released"].astype(str)[:17]).all()
    rl.apply(release, df, tmp_path / "m.csv", key=_key(1), release_id="t", unknown="map:a")
    assert len(pd.read_csv(tmp_path / "m.csv")) == 50
    df.loc[3, "y"] = None
    with pytest.raises(lk.InvalidParameterError, match="row 3 has a missing value"):
        rl.apply(release, df, tmp_path / "n.csv", key=_key(1), release_id="t", unknown="error")
    with pytest.raises(lk.InvalidParameterError, match="names no category"):
        rl.apply(release, df, tmp_path / "n.csv", key=_key(1), release_id="t", unknown="map:nope")


def test_bad_outputs_leave_no_file(release, tmp_path, monkeypatch):
    df = _table(5000, 6)
    out = tmp_path / "o.parquet"
    out.write_bytes(b"keep me")
    with pytest.raises(lk.OutputExistsError, match="exists"):
        rl.apply(release, df, out, key=_key(1), release_id="t")
    assert out.read_bytes() == b"keep me"
    with pytest.raises(lk.InvalidParameterError, match="no column 'y'"):
        rl.apply(release, df.drop(columns="y"), tmp_path / "x.csv", key=_key(1), release_id="t")
    assert not (tmp_path / "x.csv").exists()
    # a crash mid-run: the third batch fails
    import leakage.release._apply as ap

    calls = {"n": 0}
    real = ap.released_letters

    def boom(*a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("simulated crash")
        return real(*a, **k)

    monkeypatch.setattr(ap, "released_letters", boom)
    with pytest.raises(RuntimeError, match="simulated crash"):
        rl.apply(release, df, tmp_path / "c.csv", key=_key(1), release_id="t", batch_size=1000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.parquet"]


def test_audit_covers_the_design_value_at_the_stated_rate():
    """Simulated releases from a known population: the 95% interval covers the true
    per-letter leakage about 95% of the time for letters whose leakage is well above the
    sampling noise (near-zero letters are biased upward: the plug-in of a norm)."""
    f = rl.fit(_table(10**6, 7), "x", "y")
    r = rl.design(f, [0.05] * 4, method="l1")
    truth = _letter_leakage(JOINT, r.mechanism.matrix, "l1")
    strong = np.nan_to_num(truth) > 0.02
    cover = []
    for rep in range(120):
        src = _table(20_000, 100 + rep)
        out = rl.apply_frame(r, src, key=_key(rep), release_id="t")
        t = pa.Table.from_pandas(out.astype({"released": str}), preserve_index=False)
        a = rl.audit(r, t, source=src, bootstrap=300, rng=rep)
        cover.append((a.interval[:, 0] <= truth) & (truth <= a.interval[:, 1]))
    rate = np.mean(cover, axis=0)[strong]
    assert np.all(rate >= 0.95 - 3 * np.sqrt(0.95 * 0.05 / 120))


def test_audit_flags_a_tampered_release(release, tmp_path):
    df = _table(50_000, 8)
    leaky = rl.design(rl.fit(df, "x", "y"), [0.3] * 4, method="l1")
    out = rl.apply_frame(leaky, df, key=_key(2), release_id="t")  # a leakier mechanism
    t = pa.Table.from_pandas(out.astype({"released": str}), preserve_index=False)
    a = rl.audit(release, t, source=df, bootstrap=300)
    assert a.flagged.any()
    rl.plot_audit(a, tmp_path / "a.png")
    assert (tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"


def test_posterior_leakage_brackets_the_point_estimate(release):
    f = rl.fit(_table(2000, 9), "x", "y")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        post = rl.posterior_leakage(f, release.mechanism, quantile=0.95, draws=500)
    ok = ~np.isnan(post["point"])
    assert np.all(post["quantile"][ok] >= post["mean"][ok])
    big = rl.fit(_table(10**6, 10), "x", "y")
    tight = rl.posterior_leakage(big, release.mechanism, draws=300)
    assert np.allclose(tight["quantile"][ok], tight["point"][ok], atol=0.01)


def test_dask_output_is_byte_identical_to_streaming(release, tmp_path):
    dd = pytest.importorskip("dask.dataframe")
    df = _table(20_000, 11)
    src = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), src, row_group_size=3000)
    rl.apply(release, src, tmp_path / "s.parquet", key=_key(9), release_id="t", batch_size=4096)
    ref = _sha(tmp_path / "s.parquet")
    for sched in ("synchronous", "threads"):
        out = tmp_path / f"d_{sched}.parquet"
        info = rl.apply_dask(
            release, src, out, key=_key(9), release_id="t", scheduler=sched, window=2
        )
        assert info["written"] == 20_000 and _sha(out) == ref
    # a Dask DataFrame source (partitions, not row groups), with dropped records
    df.loc[[5, 13_000], "y"] = "zzz"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), src, row_group_size=3000)
    rl.apply(release, src, tmp_path / "s2.parquet", key=_key(9), release_id="t", unknown="drop")
    ddf = dd.from_pandas(df, npartitions=7)
    rl.apply_dask(
        release,
        ddf,
        tmp_path / "d2.parquet",
        key=_key(9),
        release_id="t",
        unknown="drop",
        scheduler="threads",
    )
    # same records and letters
    a, b = pq.read_table(tmp_path / "d2.parquet"), pq.read_table(tmp_path / "s2.parquet")
    assert a.num_rows == 19_998 and a.column_names == ["released"]
    assert a.column("released").to_pylist() == b.column("released").to_pylist()
    with pytest.raises(lk.InvalidParameterError, match="Parquet"):
        rl.apply_dask(
            release, tmp_path / "x.csv", tmp_path / "o.parquet", key=_key(1), release_id="t"
        )


@pytest.mark.slow
def test_dask_on_a_local_cluster(release, tmp_path):
    distributed = pytest.importorskip("distributed")
    df = _table(30_000, 12)
    src = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), src, row_group_size=4000)
    rl.apply(release, src, tmp_path / "s.parquet", key=_key(3), release_id="t")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        rl.apply_dask(release, src, tmp_path / "c.parquet", key=_key(3), release_id="t")
    assert _sha(tmp_path / "c.parquet") == _sha(tmp_path / "s.parquet")


def test_polars_frames_are_tables_too(release, tmp_path):
    pl = pytest.importorskip("polars")
    df = _table(4000, 13)
    f_pd = rl.fit(df, "x", "y")
    f_pl = rl.fit(pl.from_pandas(df), "x", "y")
    assert np.array_equal(f_pd.counts, f_pl.counts) and f_pd.labels_y == f_pl.labels_y
    rl.apply(release, df, tmp_path / "a.csv", key=_key(2), release_id="t")
    rl.apply(release, pl.from_pandas(df), tmp_path / "b.csv", key=_key(2), release_id="t")
    assert _sha(tmp_path / "a.csv") == _sha(tmp_path / "b.csv")


def _noisy_table(n, seed=3):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, n)
    y = (x + (rng.random(n) < 0.3)) % 3
    return pd.DataFrame({"x": x, "y": y})


@pytest.mark.filterwarnings("ignore::leakage.errors.SmallCountWarning")
def test_robust_design_meets_the_budget_at_the_posterior_quantile():
    """Issue 16: the plain design meets its budgets on the fitted joint only; --robust
    meets them at the posterior 95% quantile too, at a small cost in utility."""
    f = rl.fit(_noisy_table(20_000), "x", "y")
    plain = rl.design(f, [0.05, 0.05])
    qp = rl.posterior_leakage(f, plain.mechanism, quantile=0.95)["quantile"]
    assert qp.max() > 0.05  # over budget at the quantile
    r = rl.design(f, [0.05, 0.05], robust=0.95)
    q = rl.posterior_leakage(f, r.mechanism, quantile=0.95)["quantile"]
    assert np.all(q <= 0.05 + 1e-12) and q.max() > 0.045  # met, and not by far
    assert np.all(r.budgets == 0.05) and np.all(r.leakages <= 0.05)
    assert 0.98 * plain.utility < r.utility < plain.utility
    assert "robust: budgets scaled by" in r.method
    # few records: nothing but a constant mechanism meets the budgets at the quantile
    small = rl.design(rl.fit(_noisy_table(400), "x", "y"), [0.05, 0.05], robust=0.95)
    assert small.utility == 0.0 and "constant mechanism" in small.method
    with pytest.raises(lk.InvalidParameterError, match="robust"):
        rl.design(f, [0.05, 0.05], robust=1.5)


def test_a_failed_parquet_apply_leaves_no_file_and_no_finalizer_traceback(tmp_path, capfd):
    """Issue 16: after a clean error, pyarrow's ParquetWriter.__del__ wrote to the closed
    file and printed a second traceback ("Exception ignored in ...")."""
    import gc

    f = rl.fit(_noisy_table(20_000), "x", "y")
    r = rl.design(f, [0.05, 0.05])
    table = tmp_path / "t.csv"
    table.write_text("x,y\n0,0\n1,1\n0,7\n")
    out = tmp_path / "o.parquet"
    with pytest.raises(lk.InvalidParameterError, match="unseen value"):
        rl.apply(r, table, out, key=_key(1), release_id="t")
    gc.collect()
    assert not out.exists()
    assert "Exception ignored" not in capfd.readouterr().err


# ------------------------------------------------------------------ integrity of the file


def test_release_file_carries_a_hash_of_its_content_and_edits_are_refused(release, tmp_path):
    import json

    path = tmp_path / "r.json"
    release.save(path)
    data = json.loads(path.read_text())
    content = {k: v for k, v in data.items() if k != "sha256"}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert data["sha256"] == hashlib.sha256(canonical.encode()).hexdigest()
    # layout is not content: the same data re-indented loads
    relaid = tmp_path / "relaid.json"
    relaid.write_text(json.dumps(data, indent=7))
    assert rl.Release.load(relaid).budgets.tolist() == release.budgets.tolist()
    # a valid-looking edit (a looser budget) is refused, and loads only with force, loudly
    data["budgets"] = [0.5] * 4
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data))
    with pytest.raises(lk.IntegrityError, match="does not match its integrity hash"):
        rl.Release.load(edited)
    with pytest.warns(lk.IntegrityWarning, match="loaded anyway"):
        forced = rl.Release.load(edited, force=True)
    assert forced.budgets.tolist() == [0.5] * 4
    # a file without the hash (written before it existed) is refused the same way
    del data["sha256"]
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(data))
    with pytest.raises(lk.IntegrityError, match="no integrity hash"):
        rl.Release.load(bare)
