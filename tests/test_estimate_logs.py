"""leakage.estimate.count_log: count tables of logs streamed in batches.

Every path (CSV, Parquet, pyarrow Table, pandas, Dask) is checked against
:func:`leakage.estimate.counts` on the two columns read fully into memory: same table,
same labels in the same order, same dtypes.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

import leakage as lk
from leakage.errors import InvalidDistributionError, InvalidParameterError, MissingDependencyError
from leakage.estimate import Counts, count_log, counts

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
pcsv = pytest.importorskip("pyarrow.csv")
pq = pytest.importorskip("pyarrow.parquet")

N = 100
#: (secret, observable) column pairs covering ints, strings, floats and booleans
PAIRS = [
    ("i", "s"),
    ("s", "f"),
    ("b", "i"),
    ("f", "b"),
    ("big", "s"),
    ("neg", "f"),
    ("i", "i"),
]


def assert_same(got: Counts, want: Counts) -> None:
    assert isinstance(got, Counts)
    np.testing.assert_array_equal(got.table, want.table)
    assert got.table.dtype == want.table.dtype == np.int64
    for a, b in ((got.labels_x, want.labels_x), (got.labels_y, want.labels_y)):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype
        assert a.tolist() == b.tolist()


@pytest.fixture(scope="module")
def frame():
    """100 records; some labels appear only in the last batches (rows >= 90)."""
    rng = np.random.default_rng(7)
    df = pd.DataFrame(
        {
            "i": rng.integers(0, 4, N),
            "s": rng.choice(["a", "b", "c"], N),
            "f": rng.integers(0, 3, N) / 2,
            "b": rng.random(N) < 0.3,
            "big": rng.integers(0, 10**12, N),
            "neg": rng.integers(-3, 3, N),
        }
    )
    df.loc[93, "i"] = 99  # a secret first seen in a late batch
    df.loc[97, "s"] = "late"
    df.loc[99, "f"] = -7.25
    df.loc[96, "neg"] = -1000
    return df


@pytest.fixture(scope="module")
def files(frame, tmp_path_factory):
    d = tmp_path_factory.mktemp("logs")
    frame.to_csv(d / "log.csv", index=False)  # CSV written by pandas
    # Parquet written by pyarrow, row groups (5 rows) smaller than the batches
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), d / "log.parquet", 5)
    frame.to_parquet(d / "log.pq")  # one row group, the other suffix
    return d


def full_read(path, s, o) -> Counts:
    t = pcsv.read_csv(path) if path.suffix == ".csv" else pq.read_table(path)
    return counts(
        t.column(s).to_numpy(zero_copy_only=False), t.column(o).to_numpy(zero_copy_only=False)
    )


@pytest.mark.parametrize("name", ["log.csv", "log.parquet", "log.pq"])
@pytest.mark.parametrize("batch_rows", [7, 1_000_000])
def test_files_give_the_counts_of_the_full_columns(files, name, batch_rows):
    for s, o in PAIRS:
        want = full_read(files / name, s, o)
        assert_same(count_log(files / name, s, o, batch_rows=batch_rows), want)
    assert_same(
        count_log(str(files / name), "i", "s", batch_rows=1), full_read(files / name, "i", "s")
    )


def test_late_labels_are_counted(files, frame):
    c = count_log(files / "log.csv", "i", "s", batch_rows=7)
    assert 99 in c.labels_x.tolist() and "late" in c.labels_y.tolist()
    assert c.n == N and c.labels_x.dtype == np.int64 and c.labels_y.dtype == object


def test_pandas_and_pyarrow_table_sources(frame):
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for s, o in PAIRS:
        want = counts(frame[s], frame[o])
        assert_same(count_log(frame, s, o, batch_rows=7), want)
        assert_same(count_log(frame, s, o), want)
        assert_same(count_log(table, s, o, batch_rows=9), want)


def test_dask_gives_the_pandas_counts(frame):
    dd = pytest.importorskip("dask.dataframe")
    ddf = dd.from_pandas(frame, npartitions=6)
    for s, o in PAIRS:
        assert_same(count_log(ddf, s, o), count_log(frame, s, o, batch_rows=7))
    assert_same(count_log(ddf, "i", "s"), counts(frame["i"], frame["s"]))


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # dask's, with pandas 3.1
def test_dask_reads_a_parquet_file(files):
    dd = pytest.importorskip("dask.dataframe")
    ddf = dd.read_parquet(files / "log.parquet")
    assert_same(count_log(ddf, "i", "neg"), count_log(files / "log.parquet", "i", "neg"))


def test_periodic_merges_keep_the_counts(files, frame, monkeypatch):
    from leakage.estimate import _logs

    monkeypatch.setattr(_logs, "MERGE_ROWS", 3)
    for s, o in PAIRS[:3]:
        assert_same(
            count_log(files / "log.parquet", s, o, batch_rows=4),
            full_read(files / "log.parquet", s, o),
        )
        assert_same(count_log(frame, s, o, batch_rows=4), counts(frame[s], frame[o]))


def test_categorical_columns_count_their_values(tmp_path, frame):
    cat = frame.astype({"s": "category", "i": "category"})
    cat["s"] = cat["s"].cat.add_categories(["never"])  # unobserved: not a label
    cat.to_parquet(tmp_path / "cat.parquet")
    want = full_read(tmp_path / "cat.parquet", "s", "i")
    assert "never" not in want.labels_x.tolist()
    assert_same(count_log(tmp_path / "cat.parquet", "s", "i", batch_rows=7), want)
    assert_same(count_log(cat, "s", "i", batch_rows=7), counts(cat["s"], cat["i"]))


def test_counts_feed_the_estimators(files, frame):
    c = count_log(files / "log.parquet", "i", "s", batch_rows=7)
    x, y = frame["i"], frame["s"]
    mi = lk.estimate.mutual_information(c, rng=1)
    assert mi == lk.estimate.mutual_information(x, y, rng=1)
    assert lk.estimate.maximal_leakage(c, rng=2) == lk.estimate.maximal_leakage(x, y, rng=2)
    t1 = lk.estimate.independence_test(c, method="chi2")
    assert t1 == lk.estimate.independence_test(x, y, method="chi2")


def test_progress_is_shown_on_stderr(files, frame, capsys):
    c = count_log(files / "log.parquet", "i", "s", batch_rows=7, progress=True)
    assert c.n == N
    count_log(files / "log.csv", "i", "s", batch_rows=7, progress=True)
    count_log(frame, "i", "s", progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "rows" in captured.err


# --------------------------------------------------------------------------- errors


def test_missing_values_name_the_column_and_row(tmp_path):
    df = pd.DataFrame({"x": [0, 1, 0, 1, 1, 0, 1, 0], "y": list("abababab")})
    df["x"] = df["x"].astype(float)
    df.loc[6, "x"] = np.nan
    df.to_csv(tmp_path / "m.csv", index=False)
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp_path / "m.parquet")
    sources = [tmp_path / "m.csv", tmp_path / "m.parquet", df]
    for src in sources:
        for batch_rows in (3, 100):
            with pytest.raises(InvalidDistributionError, match=r"column 'x'.* at row 6 "):
                count_log(src, "x", "y", batch_rows=batch_rows)
    df2 = pd.DataFrame({"x": [0, 1, 0, 1], "y": ["a", None, "b", "a"]})
    with pytest.raises(InvalidDistributionError, match=r"no missing values .* column 'y'.*row 1"):
        count_log(df2, "x", "y")
    dd = pytest.importorskip("dask.dataframe")
    with pytest.raises(InvalidDistributionError, match=r"column 'x'; got 1 missing value inst"):
        count_log(dd.from_pandas(df, npartitions=3), "x", "y")


def test_missing_columns_list_the_available_ones(files, frame):
    for src in (files / "log.csv", files / "log.parquet", frame):
        with pytest.raises(InvalidParameterError, match=r"no column 'zz' .*columns: i, s, f"):
            count_log(src, "i", "zz")
    dd = pytest.importorskip("dask.dataframe")
    with pytest.raises(InvalidParameterError, match=r"no column 'zz' .*columns: i, s, f"):
        count_log(dd.from_pandas(frame, npartitions=2), "zz", "i")


def test_bad_sources_and_arguments(files, tmp_path):
    with pytest.raises(InvalidParameterError, match=r"'source' argument must be a path ending"):
        count_log(tmp_path / "log.txt", "i", "s")
    with pytest.raises(InvalidParameterError, match="does not exist"):
        count_log(tmp_path / "nope.csv", "i", "s")
    with pytest.raises(InvalidParameterError, match=r"'source' argument must be a \.csv"):
        count_log([1, 2, 3], "i", "s")
    with pytest.raises(InvalidParameterError, match=r"'secret' argument must be the name"):
        count_log(files / "log.csv", 3, "s")
    for bad in (0, -1, 2.5, "10", True):
        with pytest.raises(InvalidParameterError, match="'batch_rows' argument"):
            count_log(files / "log.csv", "i", "s", batch_rows=bad)
    with pytest.raises(InvalidParameterError, match="'progress' argument"):
        count_log(files / "log.csv", "i", "s", progress="yes")


def test_too_few_samples_or_secrets_as_counts(tmp_path):
    one = pd.DataFrame({"x": [1, 1, 1], "y": [1, 2, 3]})
    one.to_csv(tmp_path / "one.csv", index=False)
    (tmp_path / "empty.csv").write_text("x,y\n")
    with pytest.raises(InvalidDistributionError, match="at least 2 distinct secret values"):
        count_log(tmp_path / "one.csv", "x", "y", batch_rows=2)
    with pytest.raises(InvalidDistributionError, match="at least 2 distinct secret values"):
        counts(one["x"], one["y"])
    for src in (one.iloc[:1], one.iloc[:0], tmp_path / "empty.csv"):
        with pytest.raises(InvalidDistributionError, match="at least 2 paired samples"):
            count_log(src, "x", "y")


def test_missing_dependencies_name_the_extra(files, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'leakage\[release\]'"):
        count_log(files / "log.csv", "i", "s")

    class FakeDask:  # recognized by its module, without importing dask
        columns = ("i", "s")

    FakeDask.__module__ = "dask.dataframe.fake"
    monkeypatch.setitem(sys.modules, "dask", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'leakage\[scale\]'"):
        count_log(FakeDask(), "i", "s")


def test_cli_estimate_counts_the_log(files, frame):
    from typer.testing import CliRunner

    from leakage.cli import app

    args = ["estimate", "--data", str(files / "log.parquet"), "--secret", "i"]
    r = CliRunner().invoke(app, [*args, "--observable", "s", "--json", "--seed", "4"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    lib = lk.estimate.mutual_information(frame["i"], frame["s"], rng=4)
    assert data["n"] == N and data["estimates"]["mi"]["value"] == lib.value
    assert data["estimates"]["mi"]["upper"] == lib.upper
