"""Every bad input to leakage.release and leakage.Mechanism gets a specific error.

Each row of ``CASES`` is one call with a bad argument, the :class:`leakage.LeakageError`
subclass it must raise, a fragment of the message (in the house style
``<function>: the '<argument>' argument must <requirement>; got <value> instead.``) and,
where a low-level error is wrapped, the type of its ``__cause__``.
"""

from __future__ import annotations

import json
import types

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import leakage as lk
from leakage import release as rl
from leakage.mechanism import Mechanism

pytestmark = pytest.mark.filterwarnings("ignore::leakage.errors.SmallCountWarning")

IPE = lk.InvalidParameterError
#: a 256-bit test key (never a real release's key)
KEY = bytes(range(32))
IDE = lk.InvalidDistributionError
JOINT = np.array([[0.15, 0.2, 0.0625, 0.05], [0.35, 0.05, 0.0625, 0.075]])


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad_inputs")
    rng = np.random.default_rng(0)
    idx = rng.choice(JOINT.size, size=4000, p=JOINT.ravel())
    x, y = np.divmod(idx, JOINT.shape[1])
    df = pd.DataFrame(
        {"x": x, "y": np.array(["a", "b", "c", "d"])[y], "age": rng.uniform(18, 60, 4000)}
    )
    fitted = rl.fit(df, "x", "y")
    release = rl.design(fitted, [0.3] * 4)
    out = rl.apply_frame(release, df, key=KEY)
    # an audit table: X beside the released column (what apply writes to audit_out)
    audit_frame = pd.DataFrame({"x": df["x"], "released": out["released"].astype(str)})
    released = pa.Table.from_pandas(audit_frame, preserve_index=False)
    release.save(tmp / "release.json")
    mech = Mechanism(np.array([[0.5, 0.5], [0.0, 1.0]]))
    mech.save(tmp / "mechanism.json")
    counter = iter(range(10**6))

    def write(content) -> str:
        path = tmp / f"file{next(counter)}.json"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content if isinstance(content, str) else json.dumps(content))
        return str(path)

    def release_file(**changes) -> str:
        data = json.loads((tmp / "release.json").read_text())
        for k, v in changes.items():
            if v is _DROP:
                del data[k]
            else:
                data[k] = v
        return write(data)

    def mechanism_file(**changes) -> str:
        data = json.loads((tmp / "mechanism.json").read_text())
        data.update(changes)
        return write(data)

    return types.SimpleNamespace(
        tmp=tmp,
        df=df,
        fitted=fitted,
        release=release,
        released=released,
        mech=mech,
        write=write,
        release_file=release_file,
        mechanism_file=mechanism_file,
    )


_DROP = object()


def case(id, func, call, exc, fragment, cause=None):
    return pytest.param(func, call, exc, fragment, cause, id=id)


CASES = [
    # --- posterior_leakage
    case(
        "posterior-draws-0",
        "posterior_leakage",
        lambda c: rl.posterior_leakage(c.fitted, c.release.mechanism, draws=0),
        IPE,
        "the 'draws' argument must be an integer >= 1; got 0 instead.",
    ),
    case(
        "posterior-draws-over-limit",
        "posterior_leakage",
        lambda c: rl.posterior_leakage(c.fitted, c.release.mechanism, draws=100_001),
        IPE,
        "the 'draws' argument asks for 100,001 draws, above the limit of 100,000 draws",
    ),
    case(
        "posterior-prior-negative",
        "posterior_leakage",
        lambda c: rl.posterior_leakage(c.fitted, c.release.mechanism, prior=-1),
        IPE,
        "the 'prior' argument must be a finite real number > 0; got -1 instead.",
    ),
    case(
        "posterior-prior-inf",
        "posterior_leakage",
        lambda c: rl.posterior_leakage(c.fitted, c.release.mechanism, prior=float("inf")),
        IPE,
        "the 'prior' argument must be a finite real number > 0",
    ),
    case(
        "posterior-rng-string",
        "posterior_leakage",
        lambda c: rl.posterior_leakage(c.fitted, c.release.mechanism, rng="abc"),
        IPE,
        "the 'rng' argument must be None, a nonnegative integer seed",
    ),
    case(
        "posterior-mechanism-not-stochastic",
        "posterior_leakage",
        lambda c: rl.posterior_leakage(c.fitted, np.full((4, 2), 0.7)),
        IDE,
        "the 'mechanism' argument must be row-stochastic",
    ),
    case(
        "posterior-quantile-string",
        "posterior_leakage",
        lambda c: rl.posterior_leakage(c.fitted, c.release.mechanism, quantile="high"),
        IPE,
        "the 'quantile' argument must be a real number in (0, 1); got 'high' instead.",
    ),
    # --- uniforms
    case(
        "uniforms-7-TiB",
        "uniforms",
        lambda c: rl.uniforms(0, 0, 10**12),
        IPE,
        "the 'n' argument asks for 1,000,000,000,000 doubles, above the limit of "
        "134,217,728 doubles. Draw the stream in smaller pieces",
    ),
    case(
        "uniforms-stream-key-negative",
        "uniforms",
        lambda c: rl.uniforms(-1, 0, 10),
        IPE,
        "the 'stream_key' argument must be an integer in [0, 2**128)",
    ),
    case(
        "uniforms-start-negative",
        "uniforms",
        lambda c: rl.uniforms(0, -1, 10),
        IPE,
        "the 'start' argument must be an integer in [0, 2**64)",
    ),
    case(
        "uniforms-n-fraction",
        "uniforms",
        lambda c: rl.uniforms(0, 0, 2.5),
        IPE,
        "the 'n' argument must be an integer >= 0; got 2.5 instead.",
    ),
    # --- Mechanism
    case(
        "sample-rng-string",
        "Mechanism.sample",
        lambda c: c.mech.sample([0, 1], rng="abc"),
        IPE,
        "the 'rng' argument must be None, a nonnegative integer seed or a "
        "numpy.random.Generator; got 'abc' instead.",
    ),
    case(
        "sample-rng-negative",
        "Mechanism.sample",
        lambda c: c.mech.sample([0, 1], rng=-1),
        IPE,
        "the 'rng' argument must be None, a nonnegative integer seed",
    ),
    case(
        "sample-rng-float",
        "Mechanism.sample",
        lambda c: c.mech.sample([0, 1], rng=1.5),
        IPE,
        "got 1.5 instead.",
    ),
    case(
        "from-design-none",
        "Mechanism.from_design",
        lambda c: Mechanism.from_design(None),
        IPE,
        "the 'design' argument must be a PointwiseDesign or a HypothesisDesign",
    ),
    case(
        "mechanism-provenance-not-dict",
        "Mechanism",
        lambda c: Mechanism(np.eye(2), [1, 2]),
        IPE,
        "the 'provenance' argument must be a dict",
    ),
    case(
        "mechanism-load-version-99",
        "Mechanism.load",
        lambda c: Mechanism.load(c.mechanism_file(format="leakage.mechanism/99")),
        IPE,
        "must be a mechanism file in format version 1 ('leakage.mechanism/1', the version "
        "this library writes); got version '99'",
    ),
    case(
        "mechanism-load-binary",
        "Mechanism.load",
        lambda c: Mechanism.load(c.write(b"\x80\x81\xff\x00")),
        IPE,
        "cannot read",
        UnicodeDecodeError,
    ),
    case(
        "mechanism-load-json-list",
        "Mechanism.load",
        lambda c: Mechanism.load(c.write([1, 2])),
        IPE,
        "the 'path' argument must be a mechanism file (a JSON object with \"format\": "
        '"leakage.mechanism/1" and a "matrix")',
    ),
    case(
        "mechanism-load-matrix-not-a-channel",
        "Mechanism.load",
        lambda c: Mechanism.load(c.mechanism_file(matrix=[[0.5, 0.6]])),
        IDE,
        "the 'path' argument must be a mechanism file whose \"matrix\" is a channel",
        IDE,
    ),
    case(
        "mechanism-load-provenance-list",
        "Mechanism.load",
        lambda c: Mechanism.load(c.mechanism_file(provenance=[1])),
        IPE,
        'whose "provenance" is a JSON object',
    ),
    # --- fit
    case(
        "fit-none",
        "fit",
        lambda c: rl.fit(None),
        IPE,
        "the 'table' argument must be a .csv or .parquet path, a pandas or polars DataFrame "
        "or a pyarrow Table; got None instead.",
    ),
    case(
        "fit-missing-private",
        "fit",
        lambda c: rl.fit(c.df),
        IPE,
        "the 'private' argument must be a column name (a non-empty string); got None instead.",
    ),
    case(
        "fit-missing-useful",
        "fit",
        lambda c: rl.fit(c.df, "x"),
        IPE,
        "the 'useful' argument must be a column name",
    ),
    case(
        "fit-private-none",
        "fit",
        lambda c: rl.fit(c.df, None, "y"),
        IPE,
        "the 'private' argument must be a column name",
    ),
    case(
        "fit-useful-none",
        "fit",
        lambda c: rl.fit(c.df, "x", None),
        IPE,
        "the 'useful' argument must be a column name",
    ),
    case(
        "fit-private-equals-useful",
        "fit",
        lambda c: rl.fit(c.df, "x", "x"),
        IPE,
        "the 'useful' argument must name a column other than the private one ('x'); "
        "got 'x' instead.",
    ),
    case(
        "fit-min-count-negative",
        "fit",
        lambda c: rl.fit(c.df, "x", "y", min_count=-1),
        IPE,
        "the 'min_count' argument must be an integer >= 0; got -1 instead.",
    ),
    case(
        "fit-mixed-type-column",
        "fit",
        lambda c: rl.fit(pd.DataFrame({"x": [0, 1, 0], "y": ["a", 1, 2.5]}), "x", "y"),
        IPE,
        "column 'y' mixes types",
        pa.ArrowException,
    ),
    case(
        "fit-bins-on-string-column",
        "fit",
        lambda c: rl.fit(c.df, "x", "y", bins={"y": [0, 1, 2]}),
        IPE,
        "the 'bins' argument must give edges only for numeric columns (column 'y' is "
        "binned); got the value",
        ValueError,
    ),
    case(
        "fit-bins-of-another-column",
        "fit",
        lambda c: rl.fit(c.df, "x", "y", bins={"agee": [18, 30]}),
        IPE,
        "the 'bins' argument must give edges only for the fitted columns 'x' and 'y'",
    ),
    case(
        "fit-bins-non-numeric-edges",
        "fit",
        lambda c: rl.fit(c.df, "x", "age", bins={"age": [0, "x"]}),
        IPE,
        "the 'bins' argument must give increasing finite edges (at least two) for column 'age'",
        ValueError,
    ),
    case(
        "fit-prior-string",
        "fit",
        lambda c: rl.fit(c.df, "x", "y", prior="0.5"),
        IPE,
        "the 'prior' argument must be a finite real number >= 0; got '0.5' instead.",
    ),
    case(
        "fit-list-column",
        "fit",
        lambda c: rl.fit(pa.table({"x": [1, 2], "y": [[1], [2]]}), "x", "y"),
        IPE,
        "the 'table' argument must hold categories (strings, numbers or booleans) in column 'y'",
        pa.ArrowException,
    ),
    case(
        "fit-csv-not-utf8",
        "fit",
        lambda c: rl.fit(_bytes_csv(c), "x", "y"),
        IPE,
        "in column 'x'; got values that cannot be read as text",
        UnicodeDecodeError,
    ),
    # --- design
    case(
        "design-none",
        "design",
        lambda c: rl.design(None),
        IPE,
        "the 'fitted' argument must be a FittedJoint (from fit); got None instead.",
    ),
    case(
        "design-missing-eps",
        "design",
        lambda c: rl.design(c.fitted),
        IPE,
        "the 'eps' argument must be one leakage budget >= 0 per released letter",
    ),
    case(
        "design-labels-not-a-sequence",
        "design",
        lambda c: rl.design(c.fitted, [0.3] * 4, labels_u=5),
        IPE,
        "the 'labels_u' argument must be a sequence of distinct labels; got 5 instead.",
    ),
    # --- apply_frame / apply / apply_dask
    case(
        "apply-frame-seed-removed",
        "apply_frame",
        lambda c: rl.apply_frame(c.release, c.df, key=KEY, seed=2026),
        IPE,
        "the 'seed' argument was replaced by 'key': a small integer seed can be found by search",
    ),
    case(
        "apply-frame-key-integer",
        "apply_frame",
        lambda c: rl.apply_frame(c.release, c.df, key=2026),
        IPE,
        "the 'key' argument must be bytes (e.g. leakage.release.new_key()); got 2026 instead. "
        "An integer seed can be searched in seconds",
    ),
    case(
        "apply-frame-key-short",
        "apply_frame",
        lambda c: rl.apply_frame(c.release, c.df, key=b"2026"),
        IPE,
        "the 'key' argument must have at least 128 bits (16 bytes); got a key of 32 bits "
        "instead. A short key can be found by search",
    ),
    case(
        "apply-frame-key-not-hex",
        "apply_frame",
        lambda c: rl.apply_frame(c.release, c.df, key="not a key"),
        IPE,
        "the 'key' argument must be bytes or a string of hexadecimal digits",
    ),
    case(
        "apply-frame-release-id-bad",
        "apply_frame",
        lambda c: rl.apply_frame(c.release, c.df, key=KEY, release_id="a b"),
        IPE,
        "the 'release_id' argument must be None (a new id) or 1 to 64 characters",
    ),
    case(
        "apply-frame-keep-private",
        "apply_frame",
        lambda c: rl.apply_frame(c.release, c.df, key=KEY, keep=["x"]),
        IPE,
        "the 'keep' argument must not name the private column 'x'; got ['x'] instead. The "
        "public table never holds X",
    ),
    case(
        "apply-frame-keep-string",
        "apply_frame",
        lambda c: rl.apply_frame(c.release, c.df, key=KEY, keep="age"),
        IPE,
        "the 'keep' argument must be a list of column names",
    ),
    case(
        "apply-frame-not-a-frame",
        "apply_frame",
        lambda c: rl.apply_frame(c.release, None, key=KEY),
        IPE,
        "the 'frame' argument must be a pandas DataFrame; got None instead.",
    ),
    case(
        "apply-out-is-the-source",
        "apply",
        lambda c: rl.apply(
            c.release, c.tmp / "in.parquet", c.tmp / "in.parquet", key=KEY, overwrite=True
        ),
        IPE,
        "the 'out' argument must differ from the source; got '",
    ),
    case(
        "apply-audit-out-is-out",
        "apply",
        lambda c: rl.apply(c.release, c.df, c.tmp / "o1.csv", key=KEY, audit_out=c.tmp / "o1.csv"),
        IPE,
        "the 'audit_out' argument must differ from 'out'",
    ),
    case(
        "apply-perms-bad",
        "apply",
        lambda c: rl.apply(c.release, c.df, c.tmp / "never.csv", key=KEY, perms=0o1777),
        IPE,
        "the 'perms' argument must be a file mode in [0, 0o777]",
    ),
    case(
        "apply-dask-scheduler-address",
        "apply_dask",
        lambda c: rl.apply_dask(
            c.release,
            c.tmp / "in.parquet",
            c.tmp / "o.parquet",
            key=KEY,
            scheduler="tcp://10.0.0.1:8786",
        ),
        IPE,
        "the 'scheduler' argument must be None, one of threads",
    ),
    case(
        "audit-public-table-without-source",
        "audit",
        lambda c: rl.audit(c.release, c.released.drop_columns(["x"])),
        IPE,
        "the 'released' argument must hold the private column 'x' when no 'source' is given",
    ),
    case(
        "apply-batch-size-over-limit",
        "apply",
        lambda c: rl.apply(c.release, c.df, c.tmp / "never.csv", key=KEY, batch_size=2**40),
        IPE,
        "the 'batch_size' argument asks for 1,099,511,627,776 records, above the limit of "
        "16,777,216 records.",
    ),
    case(
        "apply-source-none",
        "apply",
        lambda c: rl.apply(c.release, None, c.tmp / "never.csv", key=KEY),
        IPE,
        "the 'source' argument must be a .csv or .parquet path",
    ),
    case(
        "apply-release-none",
        "apply",
        lambda c: rl.apply(None, c.df, c.tmp / "never.csv", key=KEY),
        IPE,
        "the 'release' argument must be a Release",
    ),
    case(
        "apply-dask-window-0",
        "apply_dask",
        lambda c: rl.apply_dask(
            c.release, c.tmp / "in.parquet", c.tmp / "o.parquet", key=KEY, window=0
        ),
        IPE,
        "the 'window' argument must be an integer >= 1; got 0 instead.",
    ),
    # --- audit
    case(
        "audit-bootstrap-negative",
        "audit",
        lambda c: rl.audit(c.release, c.released, bootstrap=-1),
        IPE,
        "the 'bootstrap' argument must be an integer >= 1; got -1 instead.",
    ),
    case(
        "audit-empty-table",
        "audit",
        lambda c: rl.audit(c.release, c.released.slice(0, 0)),
        IPE,
        "the 'released' argument must hold at least one record; got an empty table instead.",
    ),
    case(
        "audit-rng-negative",
        "audit",
        lambda c: rl.audit(c.release, c.released, rng=-1),
        IPE,
        "the 'rng' argument must be None, a nonnegative integer seed",
    ),
    case(
        "audit-level-string",
        "audit",
        lambda c: rl.audit(c.release, c.released, level="0.95"),
        IPE,
        "the 'level' argument must be a real number in (0, 1); got '0.95' instead.",
    ),
    # --- Release.load / Release
    case(
        "release-load-missing-key",
        "Release.load",
        lambda c: rl.Release.load(c.release_file(labels_u=_DROP)),
        IPE,
        'whose "labels_u" entry must be present; got no such entry instead',
    ),
    case(
        "release-load-json-list",
        "Release.load",
        lambda c: rl.Release.load(c.write([1, 2])),
        IPE,
        "which is not a release file (a JSON list), instead.",
    ),
    case(
        "release-load-base-two",
        "Release.load",
        lambda c: rl.Release.load(c.release_file(base="two")),
        IPE,
        "whose \"base\" entry must be a finite number > 1 (the logarithm base of 'utility': "
        "2 for bits); got 'two' instead",
    ),
    case(
        "release-load-binary",
        "Release.load",
        lambda c: rl.Release.load(c.write(b"\x80\x81\xff\x00")),
        IPE,
        "the 'path' argument must be a readable release JSON file; cannot read",
        UnicodeDecodeError,
    ),
    case(
        "release-load-bins-not-numbers",
        "Release.load",
        lambda c: rl.Release.load(c.release_file(bins={"y": [0, "x"]})),
        IPE,
        "whose \"bins\" entry must give increasing finite edges (at least two) for 'y'; "
        "got [0, 'x'] instead",
        IPE,
    ),
    case(
        "release-load-duplicate-labels-u",
        "Release.load",
        lambda c: rl.Release.load(c.release_file(labels_u=["u0", "u0", "u1", "u2"])),
        IPE,
        "whose \"labels_u\" entry must be a non-empty list of distinct strings; got 'u0' "
        "twice instead",
    ),
    case(
        "release-load-version-99",
        "Release.load",
        lambda c: rl.Release.load(c.release_file(format="leakage.release.Release/99")),
        IPE,
        "must be a release file in format version 1 ('leakage.release.Release/1', the "
        "version this library writes); got version '99'",
    ),
    case(
        "release-load-bad-matrix",
        "Release.load",
        lambda c: rl.Release.load(
            c.release_file(mechanism={"matrix": [[2, -1, 0, 0]] * 4, "provenance": {}})
        ),
        IPE,
        'whose "mechanism" entry must be a mechanism',
        IDE,
    ),
    case(
        "release-load-budgets-short",
        "Release.load",
        lambda c: rl.Release.load(c.release_file(budgets=[0.1])),
        IPE,
        'whose "budgets" entry must be 4 finite numbers >= 0 (one per released letter); got '
        "an array of shape (1,) instead",
    ),
    case(
        "release-load-path-none",
        "Release.load",
        lambda c: rl.Release.load(None),
        IPE,
        "the 'path' argument must be the path of a release JSON file",
    ),
    case(
        "release-duplicate-labels",
        "Release",
        lambda c: _replace(c.release, labels_y=["a", "a", "b", "c"]),
        IPE,
        "the 'labels_y' argument must be a non-empty list of distinct strings; got 'a' twice "
        "instead.",
    ),
]


def _replace(release, **changes):
    import dataclasses

    return dataclasses.replace(release, **changes)


def _bytes_csv(c) -> str:
    path = c.tmp / "not_utf8.csv"
    path.write_bytes(b"x,y\n1,a\n\xff\xfe,b\n")
    return str(path)


@pytest.mark.parametrize(("func", "call", "exc", "fragment", "cause"), CASES)
def test_bad_input_gets_a_specific_error(ctx, func, call, exc, fragment, cause):
    with pytest.raises(lk.LeakageError) as info:
        call(ctx)
    err = info.value
    assert type(err) is exc, f"{type(err).__name__}: {err}"
    msg = str(err)
    assert msg.startswith(f"{func}: "), msg
    assert fragment in msg, msg
    if cause is not None:
        assert isinstance(err.__cause__, cause), repr(err.__cause__)


def test_fit_refuses_a_joint_over_the_cell_limit(ctx, monkeypatch):
    """The cell limit is checked before the count table grows (here lowered to 100)."""
    import leakage.release._fit as fit_mod

    monkeypatch.setattr(fit_mod, "MAX_CELLS", 100)
    df = pd.DataFrame({"x": np.arange(400) % 2, "y": np.arange(400)})
    with pytest.raises(IPE, match=r"fit: the 'table' argument asks for 800 cells, above the "):
        rl.fit(df, "x", "y", min_count=0)


def test_chunked_posterior_and_audit_draw_the_same_values(ctx, monkeypatch):
    """Memory is bounded by chunks of draws and resamples; the values do not change."""
    import leakage.release._audit as audit_mod
    import leakage.release._fit as fit_mod

    post = rl.posterior_leakage(ctx.fitted, ctx.release.mechanism, draws=300, rng=4)
    aud = rl.audit(ctx.release, ctx.released, bootstrap=200, rng=4)
    monkeypatch.setattr(fit_mod, "CHUNK_ENTRIES", 70)
    monkeypatch.setattr(audit_mod, "CHUNK_ENTRIES", 70)
    post2 = rl.posterior_leakage(ctx.fitted, ctx.release.mechanism, draws=300, rng=4)
    aud2 = rl.audit(ctx.release, ctx.released, bootstrap=200, rng=4)
    for k in post:
        np.testing.assert_array_equal(post[k], post2[k])
    np.testing.assert_array_equal(aud.interval, aud2.interval)
