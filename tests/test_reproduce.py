"""Reproduction framework and the paper-000 Section I entry."""

import csv
import math

import numpy as np
import pytest

import leakage as lk
from leakage import reproduce
from leakage.reproduce import Comparison, paper000


# ---------------------------------------------------------------- the Section I example
def _dense_channels_by_loop(n):
    """Build P(Y|X), P(Z|X) letter by letter, straight from the paper's words."""
    N = 2 ** (8 * n)
    ys = sorted({x for x in range(N) if x % 8 == 0} | {1})
    y_index = {y: i for i, y in enumerate(ys)}
    Wy = np.zeros((N, len(ys)))
    Wz = np.zeros((N, 2 ** (n + 1)))
    for x in range(N):
        Wy[x, y_index[x if x % 8 == 0 else 1]] = 1.0
        bits = format(x, f"0{8 * n}b")
        Wz[x, int(bits[: n + 1], 2)] = 1.0
    return Wy, Wz


def test_intro_channels_match_a_letter_by_letter_construction():
    Wy, Wz = paper000.intro_channels(1)
    Dy, Dz = _dense_channels_by_loop(1)
    # same channels up to a relabelling of Y's alphabet (the value 1 is last for us)
    p = np.full(256, 1 / 256)
    for f in (lk.mutual_information, lk.maximal_leakage):
        assert f(p, Wy) == pytest.approx(f(p, Dy), abs=1e-13)
        assert f(p, Wz) == pytest.approx(f(p, Dz), abs=1e-13)
    np.testing.assert_array_equal(Wz.toarray(), Dz)
    assert sorted(Wy.toarray().sum(axis=0)) == sorted(Dy.sum(axis=0))


@pytest.mark.parametrize("n", [1, 2])
def test_intro_values_equal_closed_forms(n):
    Wy, Wz = paper000.intro_channels(n)
    p = np.full(Wy.shape[0], 1.0 / Wy.shape[0])
    assert lk.maximal_leakage(p, Wy) == pytest.approx(math.log2(2 ** (8 * n - 3) + 1), abs=1e-12)
    assert lk.maximal_leakage(p, Wz) == pytest.approx(n + 1, abs=1e-12)
    assert lk.mutual_information(p, Wy) == pytest.approx(n + 7 / 8 * math.log2(8 / 7), abs=1e-12)
    assert lk.mutual_information(p, Wz) == pytest.approx(n + 1, abs=1e-12)
    # Sibson interpolates: I <= I_2 <= L for both
    for W in (Wy, Wz):
        assert (
            lk.mutual_information(p, W) - 1e-12
            <= lk.sibson_mutual_information(p, W, 2.0)
            <= lk.maximal_leakage(p, W) + 1e-12
        )


@pytest.mark.slow
def test_intro_entry_reproduces_every_number():
    rep = reproduce.compute("000-intro")
    assert len(rep.comparisons) == 18
    assert rep.ok, [c for c in rep.comparisons if not c.ok]
    # the paper's point, from our numbers: L ranks Y above Z, I ranks Z above Y
    vals = {row[0]: row for row in rep.tables[0].rows}
    for n in (1, 2, 3):
        _, _, lxy, lxz, ixy, ixz, *_ = vals[n]
        assert lxy > lxz and ixy < ixz


# ---------------------------------------------------------------- framework
def test_comparison_verdicts():
    assert Comparison("a", 1.0, 1.0004, 5e-4, "s").verdict == "match"
    assert Comparison("a", 1.0, 1.0006, 5e-4, "s").verdict == "MISMATCH"
    assert Comparison("a", 1.0, 1.2, 0.0, "s", relation=">=").verdict == "holds"
    assert Comparison("a", 1.0, 0.9, 0.0, "s", relation=">=").verdict == "VIOLATED"
    assert Comparison("a", 1.0, 0.9, 0.0, "s", relation="<=").verdict == "holds"
    assert Comparison("a", 1.0, 1.5, 0.1, "s").difference == pytest.approx(0.5)


def test_erratum_rows_must_differ():
    """A documented erratum is expected to differ; agreeing anyway is a failure."""
    differs = Comparison("a", 0.9109, 0.9264, 5e-5, "s", erratum="slip")
    assert differs.verdict == "erratum" and differs.ok and not differs.agrees
    agrees = Comparison("a", 0.9109, 0.9109, 5e-5, "s", erratum="slip")
    assert agrees.verdict == "AGREES despite erratum" and not agrees.ok
    bound = Comparison("a", 0.9109, 0.9153, 0.0, "s", relation="<=", erratum="slip")
    assert bound.verdict == "erratum" and bound.ok


def test_report_counts_errata_apart(tmp_path):
    rep = reproduce.Reproduction(
        id="zz",
        paper="P",
        title="t",
        description="d",
        comparisons=(
            Comparison("x", 1.0, 1.0, 1e-9, "s"),
            Comparison("y", 1.0, 2.0, 1e-9, "s", erratum="printed wrong"),
            Comparison("z", 1.0, 3.0, 1e-9, "s", erratum="printed wrong"),
            Comparison("w|v", 1.0, 5.0, 1e-9, "s"),
        ),
    )
    text = reproduce.write_report([rep], tmp_path, {}).read_text()
    assert "**1 of 4 published numbers reproduced**; 2 differ as ERRATA.md documents; 1 do " in text
    assert "- y; z: printed wrong" in text  # one line per erratum, not per row
    assert "| w\\|v |" in text  # a '|' in a quantity does not break the table


def test_run_writes_tables_figures_and_report(tmp_path, fake_entries):
    reps = reproduce.run(["zz-good", "zz-bad"], tmp_path)
    assert [r.id for r in reps] == ["zz-good", "zz-bad"]
    with open(tmp_path / "zz-good" / "t.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows == [["a", "b"], ["1", "0.1"], ["2", "0.2"]]
    with open(tmp_path / "zz-bad" / "comparisons.csv", newline="") as f:
        comp = list(csv.DictReader(f))
    assert comp[0]["verdict"] == "MISMATCH" and float(comp[0]["abs_difference"]) == 1.0
    assert (tmp_path / "zz-good" / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (tmp_path / "report.md").read_text()
    assert "**1 of 2 published numbers reproduced**; 1 do not match" in report
    assert "| x | eq. (1) | 0.5 bits | 0.5 bits | 0 | 1e-12 | match |" in report
    assert "| y | Table I | 1 | 2 | 1 | 0.001 | MISMATCH |" in report
    assert "![f](zz-good/f.png)" in report and "- a note" in report
    assert not list(tmp_path.rglob("*.tmp"))


def test_run_without_plots_and_unknown_id(tmp_path, fake_entries):
    reproduce.run("zz-good", tmp_path, plots=False)
    assert not (tmp_path / "zz-good" / "f.png").exists()
    with pytest.raises(lk.InvalidParameterError, match=r"known: 000-intro.*got 'nope'"):
        reproduce.run(["nope"], tmp_path)


def test_failed_entry_leaves_the_previous_report(tmp_path, fake_entries):
    from leakage.reproduce import _REGISTRY

    reproduce.run("zz-good", tmp_path, plots=False)
    before = (tmp_path / "report.md").read_text()

    def broken():
        raise lk.SolverError("boom")

    reproduce.register("zz-broken", paper="P", title="broken")(broken)
    try:
        with pytest.raises(lk.SolverError):
            reproduce.run(["zz-good", "zz-broken"], tmp_path, plots=False)
    finally:
        _REGISTRY.pop("zz-broken")
    assert (tmp_path / "report.md").read_text() == before


def test_available_lists_the_entries():
    ids = [e.id for e in reproduce.available()]
    assert {"000-intro", "001-section5", "001-theorem1"} <= set(ids)
