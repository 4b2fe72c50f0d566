"""Tests for the ``leakage`` command line (leakage.cli)."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
from typer.testing import CliRunner

import leakage as lk
from leakage.cli import app
from leakage.io import write_channel, write_pmf

runner = CliRunner()

P = "0.3,0.7"
Q = "0.6,0.4"
PX = "0.25,0.75"
W_TEXT = "0.9,0.1,0;0.2,0.7,0.1"
P_ARR = np.array([0.3, 0.7])
Q_ARR = np.array([0.6, 0.4])
PX_ARR = np.array([0.25, 0.75])
W_ARR = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1]])


def run(*args: str):
    return runner.invoke(app, list(args))


def streams(result) -> tuple[str, str]:
    """(stdout, stderr), also with runners that mix stderr into the output (older Click)."""
    try:
        return result.stdout, result.stderr
    except ValueError:
        lines = result.output.splitlines(keepends=True)
        err = [line for line in lines if line.startswith(("error: ", "warning: "))]
        out = [line for line in lines if line not in err]
        return "".join(out), "".join(err)


def stdout(result) -> str:
    return streams(result)[0]


def run_json(*args: str) -> dict:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(stdout(result))


def assert_one_line_error(result, *fragments: str) -> None:
    """Exit 1, a single 'error: ...' line on stderr, no traceback, nothing on stdout."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # not an uncaught exception
    out, err = streams(result)
    assert err.startswith("error: ")
    assert err.count("\n") == 1 and err.endswith("\n")
    assert "Traceback" not in result.output
    assert out == ""
    for fragment in fragments:
        assert fragment in err


# --------------------------------------------------------------------------- values


SCALAR_CASES = [
    (["entropy", "--p", P], "entropy", lambda: lk.entropy(P_ARR)),
    (
        ["kl-divergence", "--p", P, "--q", Q],
        "kl_divergence",
        lambda: lk.kl_divergence(P_ARR, Q_ARR),
    ),
    (
        ["renyi-divergence", "--p", P, "--q", Q, "--alpha", "0.5"],
        "renyi_divergence",
        lambda: lk.renyi_divergence(P_ARR, Q_ARR, 0.5),
    ),
    (
        ["chi2-divergence", "--p", P, "--q", Q],
        "chi2_divergence",
        lambda: lk.chi2_divergence(P_ARR, Q_ARR),
    ),
    (
        ["total-variation", "--p", P, "--q", Q],
        "total_variation",
        lambda: lk.total_variation(P_ARR, Q_ARR),
    ),
    (
        ["mutual-information", "--p", PX, "--channel", W_TEXT],
        "mutual_information",
        lambda: lk.mutual_information(PX_ARR, W_ARR),
    ),
    (
        ["sibson-mutual-information", "--p", PX, "--channel", W_TEXT, "--alpha", "3"],
        "sibson_mutual_information",
        lambda: lk.sibson_mutual_information(PX_ARR, W_ARR, 3),
    ),
    (
        ["maximal-leakage", "--p", PX, "--channel", W_TEXT],
        "maximal_leakage",
        lambda: lk.maximal_leakage(PX_ARR, W_ARR),
    ),
]


@pytest.mark.parametrize(("args", "measure", "expected"), SCALAR_CASES, ids=lambda c: str(c)[:30])
def test_scalar_measures_json(args, measure, expected):
    out = run_json("measure", *args)
    assert out["measure"] == measure
    assert out["value"] == expected()  # same library call: identical float
    unitless = measure in ("chi2_divergence", "total_variation")
    assert out["unit"] == ("unitless" if unitless else "bits")
    if not unitless:
        assert out["base"] == 2.0


@pytest.mark.parametrize(("args", "measure", "expected"), SCALAR_CASES, ids=lambda c: str(c)[:30])
def test_scalar_measures_human_output(args, measure, expected):
    result = run("measure", *args)
    assert result.exit_code == 0, result.output
    assert f"{expected():.10g}" in stdout(result)
    unitless = measure in ("chi2_divergence", "total_variation")
    assert ("unitless" if unitless else "bits") in stdout(result)


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("kl", "kl-divergence"),
        ("chi2", "chi2-divergence"),
        ("tv", "total-variation"),
    ],
)
def test_aliases_give_the_same_output(alias, name):
    assert run_json("measure", alias, "--p", P, "--q", Q) == run_json(
        "measure", name, "--p", P, "--q", Q
    )


@pytest.mark.parametrize("alias", ["mi", "maxl"])
def test_channel_aliases(alias):
    out = run_json("measure", alias, "--p", PX, "--channel", W_TEXT)
    assert out["measure"] in ("mutual_information", "maximal_leakage")


def test_aliases_are_hidden_from_help():
    result = run("measure", "--help")
    assert result.exit_code == 0
    assert "mutual-information" in stdout(result)
    assert " maxl " not in stdout(result)


@pytest.mark.parametrize("measure", ["chi2", "l1", "kl", "max_lift"])
def test_pointwise(measure):
    out = run_json(
        "measure", "pointwise", "--p", PX, "--channel", "0.9,0.1,0;0.2,0.8,0", "--measure", measure
    )
    expected = lk.pointwise_leakage(PX_ARR, [[0.9, 0.1, 0], [0.2, 0.8, 0]], measure=measure)
    assert out["measure"] == "pointwise_leakage"
    assert out["pointwise_measure"] == measure
    assert out["value"][:2] == expected[:2].tolist()
    assert out["value"][2] == "nan"  # letter never output
    assert out["unit"] == ("bits" if measure in ("kl", "max_lift") else "unitless")


def test_pointwise_human_output():
    result = run(
        "measure", "pointwise-leakage", "--p", PX, "--channel", "0.9,0.1,0;0.2,0.8,0",
        "--measure", "l1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    expected = lk.pointwise_leakage(PX_ARR, [[0.9, 0.1, 0], [0.2, 0.8, 0]], measure="l1")
    lines = stdout(result).splitlines()
    assert f"{expected[0]:.10g}" in lines[1]
    assert "never output" in lines[3]


def test_capacity():
    out = run_json("measure", "channel-capacity", "--channel", W_TEXT)
    r = lk.channel_capacity(W_ARR)
    assert out["measure"] == "channel_capacity"
    assert out["unit"] == "bits"
    for key in ("capacity", "lower", "upper", "gap", "n_iter"):
        assert out[key] == getattr(r, key)
    assert out["converged"] is True
    assert out["input_distribution"] == r.input_distribution.tolist()


def test_capacity_human_output_and_tol():
    result = run("measure", "capacity", "--channel", W_TEXT, "--tol", "1e-6")
    assert result.exit_code == 0, result.output
    r = lk.channel_capacity(W_ARR, tol=1e-6)
    for word in ("capacity", "lower", "upper", "gap", "converged", "iterations", "input"):
        assert word in stdout(result)
    assert f"{r.capacity:.10g}" in stdout(result)


@pytest.mark.filterwarnings("default::leakage.errors.ConvergenceWarning")
def test_capacity_iteration_cap_warns_on_one_line():
    result = run("measure", "capacity", "--channel", W_TEXT, "--max-iter", "1", "--json")
    assert result.exit_code == 0
    out, err = streams(result)
    assert json.loads(out)["converged"] is False
    assert err.startswith("warning: channel_capacity: stopped")
    assert err.count("\n") == 1


# --------------------------------------------------------------------------- options


def test_file_inputs(tmp_path):
    p_file = tmp_path / "p.csv"
    w_file = tmp_path / "W.json"
    write_pmf(p_file, PX_ARR)
    write_channel(w_file, W_ARR)
    out = run_json("measure", "mi", "--p", str(p_file), "--channel", str(w_file))
    assert out["value"] == lk.mutual_information(PX_ARR, W_ARR)
    np.save(tmp_path / "W.npy", W_ARR)
    out = run_json("measure", "capacity", "--channel", str(tmp_path / "W.npy"))
    assert out["capacity"] == lk.channel_capacity(W_ARR).capacity


@pytest.mark.parametrize(
    ("base", "value", "unit"),
    [("2", 2.0, "bits"), ("e", math.e, "nats"), ("10", 10.0, "hartleys"), ("3", 3.0, "log-base-3")],
)
def test_base_changes_unit_and_value(base, value, unit):
    out = run_json("measure", "mi", "--p", PX, "--channel", W_TEXT, "--base", base)
    assert out["value"] == lk.mutual_information(PX_ARR, W_ARR, base=value)
    assert out["unit"].startswith(unit)
    assert out["base"] == value
    human = run("measure", "entropy", "--p", P, "--base", base).stdout
    assert unit in human
    assert f"{lk.entropy(P_ARR, base=value):.10g}" in human


def test_sibson_alpha_inf_is_maximal_leakage():
    sib = run_json("measure", "sibson", "--p", PX, "--channel", W_TEXT, "--alpha", "inf")
    maxl = run_json("measure", "maximal-leakage", "--p", PX, "--channel", W_TEXT)
    assert sib["alpha"] == "inf"
    assert sib["value"] == pytest.approx(maxl["value"], rel=1e-14)
    assert maxl["value"] == lk.maximal_leakage(PX_ARR, W_ARR)


def test_alpha_fraction_and_renyi_inf():
    half = run_json("measure", "renyi", "--p", P, "--q", Q, "--alpha", "1/2")
    assert half["value"] == lk.renyi_divergence(P_ARR, Q_ARR, 0.5)
    inf = run_json("measure", "renyi", "--p", P, "--q", Q, "--alpha", "inf")
    assert inf["value"] == lk.renyi_divergence(P_ARR, Q_ARR, math.inf)


def test_infinite_value_is_a_string_in_json():
    out = run_json("measure", "kl", "--p", "0.5,0.5", "--q", "1,0")
    assert out["value"] == "inf"


def test_version():
    result = run("--version")
    assert result.exit_code == 0
    assert stdout(result).strip() == f"leakage {lk.__version__}"


def test_no_arguments_shows_help():
    result = run()
    assert "measure" in result.output
    assert "Usage" in result.output


# --------------------------------------------------------------------------- errors


def test_non_normalized_p():
    result = run("measure", "entropy", "--p", "0.5,0.6")
    assert_one_line_error(result, "entropy", "sum to 1")


def test_shape_mismatch():
    result = run("measure", "mi", "--p", "0.2,0.3,0.5", "--channel", "0.9,0.1;0.2,0.8")
    assert_one_line_error(result, "mutual_information", "one row per entry")


def test_pq_shape_mismatch():
    assert_one_line_error(run("measure", "kl", "--p", P, "--q", "0.2,0.3,0.5"), "same shape")


@pytest.mark.parametrize("alpha", ["-1", "0", "nan"])
def test_bad_alpha_value(alpha):
    result = run("measure", "sibson", "--p", PX, "--channel", W_TEXT, "--alpha", alpha)
    assert_one_line_error(result, "'alpha'", "(0, inf]")


def test_unparseable_alpha():
    result = run("measure", "renyi", "--p", P, "--q", Q, "--alpha", "big")
    assert_one_line_error(result, "'--alpha'", "'big'")


@pytest.mark.parametrize("base", ["1", "-2", "two"])
def test_bad_base(base):
    assert_one_line_error(run("measure", "entropy", "--p", P, "--base", base), "base")


def test_unparseable_list():
    result = run("measure", "entropy", "--p", "0.3,abc")
    assert_one_line_error(result, "'--p'", "not an inline list of numbers", "'abc'")


def test_multi_line_library_message_is_joined_into_one_line():
    # a 2-D p: the library message embeds the array (several lines) -> still one line
    assert_one_line_error(run("measure", "entropy", "--p", "0.5,0.5;0.5,0.5"), "1-D")


def test_missing_file(tmp_path):
    missing = str(tmp_path / "missing.json")
    result = run("measure", "capacity", "--channel", missing)
    assert_one_line_error(result, "'--channel'", "not a readable file", "no such file")


def test_bad_file_content(tmp_path):
    path = tmp_path / "W.csv"
    path.write_text("0.9,0.1\n0.2,zzz\n")
    result = run("measure", "capacity", "--channel", str(path))
    assert_one_line_error(result, "line 2", "'zzz' is not a number")


def test_bad_pointwise_measure():
    result = run("measure", "pointwise", "--p", PX, "--channel", W_TEXT, "--measure", "tv")
    assert_one_line_error(result, "'measure'", "'chi2'")


def test_usage_errors_keep_exit_code_2():
    result = run("measure", "entropy")  # missing --p
    assert result.exit_code == 2
    result = run("measure", "entropy", "--p", P, "--bogus")
    assert result.exit_code == 2


# --------------------------------------------------------------------------- pointwise design

# Section V of paper 001: P_X|Y columns, P_Y = (1/2, 1/4, 1/8, 1/8), so P_XY = P_X|Y * P_Y
SEC5_P_XY = np.array([[0.3, 0.8, 0.5, 0.4], [0.7, 0.2, 0.5, 0.6]]) * [0.5, 0.25, 0.125, 0.125]
SEC5_PXY = ";".join(",".join(repr(float(v)) for v in row) for row in SEC5_P_XY)
SEC5_EPS = [0.01, 0.01, 0.01, 0.0]
SEC5 = ("pointwise", "design", "--pxy", SEC5_PXY, "--eps", "0.01,0.01,0.01,0")
# I(U;Y) in bits: the LP method and the exact optimum (independent of this code's output)
# the LP's optimal face has vertices of exact utility 0.92661547 and 0.92661655: the
# tie is broken by the exact utility, whatever vertex HiGHS returns first (issue 15)
SEC5_LP_BITS, SEC5_EXACT_BITS = 0.92661655, 0.926617
CHI2_PXY = "0.35,0.1;0.15,0.4"
CHI2_P_XY = np.array([[0.35, 0.1], [0.15, 0.4]])


def assert_design_json(out: dict, design) -> None:
    """The JSON object carries the library's design, number for number."""
    assert out["mechanism"] == design.mechanism.tolist()
    assert out["p_u"] == design.p_u.tolist()
    assert out["utility"] == design.utility
    assert out["leakages"] == lk.results.to_jsonable(design.leakages)
    assert out["budgets"] == design.budgets.tolist()
    assert out["measure"] == design.measure
    assert out["method"] == design.method
    assert out["max_violation"] <= 1e-9


def test_pointwise_design_l1_section_v():
    out = run_json(*SEC5, "--measure", "l1")
    design = lk.pointwise.design_l1(SEC5_P_XY, SEC5_EPS)
    assert_design_json(out, design)
    assert out["utility_approx"] == design.utility_approx
    assert out["unit"] == "bits" and out["base"] == 2.0
    assert out["utility"] == pytest.approx(SEC5_LP_BITS, abs=1e-6)


def test_pointwise_design_exact_section_v():
    out = run_json(*SEC5, "--measure", "l1", "--exact")
    design = lk.pointwise.optimal_l1(SEC5_P_XY, SEC5_EPS)
    assert_design_json(out, design)
    assert out["method"] == "exact vertex enumeration"
    assert out["utility_approx"] == "nan"  # nothing approximated
    assert out["utility"] == pytest.approx(SEC5_EXACT_BITS, abs=1e-6)
    lp = run_json(*SEC5, "--measure", "l1")
    assert out["utility"] >= lp["utility"]


def test_pointwise_design_shows_a_letter_never_released():
    pxy = "0.2,0.05,0.05;0.05,0.25,0.05;0.05,0.05,0.25"
    result = run("pointwise", "design", "--pxy", pxy, "--eps", "0.05,0.1,0.02", "--measure", "chi2")
    assert result.exit_code == 0, result.output
    row = next(line for line in stdout(result).splitlines() if "never released" in line)
    assert row.split()[:2] == ["2", "0"]  # letter 2, P_U = 0


def test_pointwise_design_human_output():
    result = run(*SEC5, "--measure", "l1")
    assert result.exit_code == 0, result.output
    design = lk.pointwise.design_l1(SEC5_P_XY, SEC5_EPS)
    text = stdout(result)
    lines = text.splitlines()
    assert lines[0].startswith("mechanism P(u|y)")
    assert lines[1].split() == ["y", "u=0", "u=1", "u=2", "u=3"]
    assert lines[2].split() == ["0", *(f"{v:.10g}" for v in design.mechanism[0])]
    assert "l1 leakage" in text and "budget" in text and "unitless" in text
    # the budget-0 letter is released (the better vertex of the LP's optimal face) and
    # meets its budget exactly
    assert design.p_u[3] > 0.5 and "never released" not in text
    row3 = next(line for line in lines if line.split()[:1] == ["3"] and "unitless" in line)
    assert row3.split()[1:4] == [f"{design.p_u[3]:.10g}", f"{design.leakages[3]:.10g}", "0"]
    exact_line = next(line for line in lines if line.startswith("I(U;Y), exact"))
    assert exact_line.split()[-2:] == [f"{design.utility:.10g}", "bits"]
    approx_line = next(line for line in lines if line.startswith("I(U;Y), approximate"))
    assert f"{design.utility_approx:.10g}" in approx_line
    assert lines[-1] == f"method: {design.method}"


def test_pointwise_design_exact_human_output_has_no_approximation():
    result = run(*SEC5, "--measure", "l1", "--exact", "--base", "e")
    assert result.exit_code == 0, result.output
    design = lk.pointwise.optimal_l1(SEC5_P_XY, SEC5_EPS, base=math.e)
    assert f"{design.utility:.10g}" in stdout(result)
    assert "nats" in stdout(result)
    assert "none (exact method)" in stdout(result)


def test_pointwise_design_out_writes_a_mechanism(tmp_path):
    path = tmp_path / "sub" / "mechanism.json"
    result = run(*SEC5, "--measure", "l1", "--exact", "--out", str(path))
    assert result.exit_code == 0, result.output
    assert stdout(result).splitlines()[-1] == f"mechanism written to {path}"
    design = lk.pointwise.optimal_l1(SEC5_P_XY, SEC5_EPS)
    mech = lk.Mechanism.load(path)
    assert np.array_equal(mech.matrix, design.mechanism)
    assert mech.provenance["method"] == "exact vertex enumeration"
    assert mech.provenance["utility"] == design.utility
    assert mech.provenance["budgets"] == SEC5_EPS
    assert [p.name for p in path.parent.iterdir()] == ["mechanism.json"]  # no temporary left


def test_pointwise_design_out_with_json_keeps_stdout_one_object(tmp_path):
    path = tmp_path / "m.json"
    result = run(*SEC5, "--measure", "l1", "--out", str(path), "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(stdout(result))
    assert payload["mechanism_file"] == str(path)
    assert np.array_equal(lk.Mechanism.load(path).matrix, np.array(payload["mechanism"]))
    assert f"mechanism written to {path}" in result.output


def test_pointwise_design_chi2():
    out = run_json(
        "pointwise", "design", "--pxy", CHI2_PXY, "--eps", "0.1,0.05", "--measure", "chi2"
    )
    design = lk.pointwise.design_chi2(CHI2_P_XY, [0.1, 0.05])
    assert_design_json(out, design)
    assert out["utility_approx"] == design.utility_approx
    assert out["leakages"] == pytest.approx([0.1, 0.05], abs=1e-12)  # sqrt(chi^2), exact
    assert out["measure"] == "chi2" and out["leakage_unit"] == "unitless"
    assert out["utility"] > 0


def test_pointwise_design_chi2_human_output_and_base():
    args = ("pointwise", "design", "--pxy", CHI2_PXY, "--eps", "0.1,0.05", "--measure", "chi2")
    result = run(*args, "--base", "e")
    assert result.exit_code == 0, result.output
    design = lk.pointwise.design_chi2(CHI2_P_XY, [0.1, 0.05], base=math.e)
    text = stdout(result)
    assert "sqrt(chi^2) leakage" in text
    assert f"{design.utility:.10g}" in text and f"{design.utility_approx:.10g}" in text
    assert "nats" in text


def test_pointwise_design_wide_mechanism_is_not_wrapped():
    eps = ",".join(["0.1", "0.05"] + ["0.01"] * 10)  # K = 12 columns: wider than 80
    result = run("pointwise", "design", "--pxy", CHI2_PXY, "--eps", eps, "--measure", "chi2")
    assert result.exit_code == 0, result.output
    design = lk.pointwise.design_chi2(CHI2_P_XY, [0.1, 0.05] + [0.01] * 10)
    lines = stdout(result).splitlines()
    assert lines[1].split() == ["y", *(f"u={u}" for u in range(12))]
    for y in range(2):
        assert lines[2 + y].split() == [str(y), *(f"{v:.10g}" for v in design.mechanism[y])]
    assert "…" not in stdout(result)


def test_pointwise_design_file_inputs(tmp_path):
    from leakage.io import write_array, write_joint

    write_joint(tmp_path / "pxy.csv", SEC5_P_XY)
    write_array(tmp_path / "eps.json", SEC5_EPS)
    out = run_json(
        "pointwise", "design", "--pxy", str(tmp_path / "pxy.csv"),
        "--eps", str(tmp_path / "eps.json"), "--measure", "l1",
    )  # fmt: skip
    assert out["utility"] == lk.pointwise.design_l1(SEC5_P_XY, SEC5_EPS).utility


@pytest.mark.parametrize(
    ("pxy", "eps", "extra", "fragments"),
    [
        (SEC5_PXY, "0.01,-0.01,0.01,0", (), ("design_l1", "option --eps", ">= 0")),
        (SEC5_PXY, "0.01,0.01;0.01,0", (), ("option --eps", "1-D")),
        (SEC5_PXY, "0.01,nan", ("--exact",), ("optimal_l1", "option --eps", "finite")),
        ("0.5,0.5", "0.1,0.1", (), ("option --pxy", "2-D")),
        ("0.2,0.3;0.2,0.4", "0.1,0.1", (), ("option --pxy", "sum to 1")),
        ("0.2,-0.1;0.5,0.4", "0.1,0.1", ("--exact",), ("option --pxy", "nonnegative")),
        ("0.3,0.2;0.3,0.2", "0.1,0.1", ("--chi2",), ("design_chi2", "option --pxy", "invertible")),
        (SEC5_PXY, "0.1,0.1", ("--chi2",), ("design_chi2", "option --pxy", "square")),
        (CHI2_PXY, "0.1,0.1", ("--base", "1"), ("option --base",)),
        (CHI2_PXY, "0.1,abc", (), ("'--eps'", "'abc'")),
        ("missing.csv", "0.1,0.1", (), ("'--pxy'", "no such file")),
    ],
    ids=[
        "negative-budget", "2d-budgets", "nan-budget", "1d-joint", "not-normalized",
        "negative-joint", "chi2-singular", "chi2-not-square", "bad-base", "unparseable-eps",
        "missing-file",
    ],
)  # fmt: skip
def test_pointwise_design_errors(pxy, eps, extra, fragments):
    measure = ("--measure", "chi2") if "--chi2" in extra else ("--measure", "l1")
    extra = tuple(a for a in extra if a != "--chi2")
    result = run("pointwise", "design", "--pxy", pxy, "--eps", eps, *measure, *extra)
    assert_one_line_error(result, *fragments)


def test_pointwise_design_exact_with_chi2_is_an_error():
    result = run("pointwise", "design", "--pxy", CHI2_PXY, "--eps", "0.1,0.05",
                 "--measure", "chi2", "--exact")  # fmt: skip
    assert_one_line_error(result, "'--exact'", "--measure l1")


def test_pointwise_design_unknown_measure():
    result = run("pointwise", "design", "--pxy", CHI2_PXY, "--eps", "0.1", "--measure", "tv")
    assert_one_line_error(result, "'--measure'", "'l1'", "'chi2'", "'tv'")


def test_pointwise_design_unwritable_out(tmp_path):
    result = run(*SEC5, "--measure", "l1", "--out", str(tmp_path))  # a directory
    assert_one_line_error(result, "'--out'", str(tmp_path))


def test_pointwise_design_infeasible_chi2_budgets():
    result = run("pointwise", "design", "--pxy", CHI2_PXY, "--eps", "1,1", "--measure", "chi2")
    assert_one_line_error(result, "design_chi2", "scaled by at most")


def test_pointwise_is_listed_in_help():
    assert "pointwise" in stdout(run("--help"))
    result = run("pointwise", "design", "--help")
    assert result.exit_code == 0
    for option in ("--pxy", "--eps", "--measure", "--exact", "--out", "--json"):
        assert option in stdout(result)


# --------------------------------------------------------------------------- rd


def test_rd_value_matches_the_library_and_the_closed_form():
    out = run_json("rd", "value", "--p", "0.4,0.6", "-d", "hamming", "--D", "0.2")
    ref = lk.ratedistortion.rate_distortion([0.4, 0.6], "hamming", 0.2)
    assert out["rate"] == ref.rate and out["unit"] == "bits"
    assert out["rate"] == pytest.approx(rate_bern(0.4, 0.2), abs=1e-12)  # H_b(0.4) - H_b(0.2)
    assert out["gap"] <= 1e-9 and out["test_channel"] == ref.test_channel.tolist()


def test_rd_value_table_and_matrix_distortion():
    result = run("rd", "value", "--p", "0.5,0.5", "-d", "0,1,0.3;1,0,0.3", "--D", "0.1")
    assert result.exit_code == 0, result.output
    text = stdout(result)
    ref = lk.ratedistortion.rate_distortion([0.5, 0.5], [[0, 1, 0.3], [1, 0, 0.3]], 0.1)
    assert f"{ref.rate:.10g}" in text and "bits" in text and "x^=2" in text


def test_rd_curve_writes_csv_and_png(tmp_path):
    csv_path, png = tmp_path / "rd.csv", tmp_path / "rd.png"
    args = ("rd", "curve", "--p", "0.4,0.6", "-d", "hamming", "-n", "5")
    result = run(*args, "--out", str(csv_path), "--plot", str(png))
    assert result.exit_code == 0, result.output
    rows = np.loadtxt(csv_path, delimiter=",", skiprows=1)
    np.testing.assert_allclose(rows[:, 0], np.linspace(0, 0.4, 5))
    truth = [lk.ratedistortion.rate_distortion_bernoulli(0.4, D) for D in rows[:, 0]]
    np.testing.assert_allclose(rows[:, 1], truth, atol=1e-9)
    assert png.read_bytes()[:4] == b"\x89PNG"
    out = run_json("rd", "curve", "--p", "0.4,0.6", "-d", "hamming", "--D-values", "0.1,0.3")
    np.testing.assert_allclose(out["rate"], [truth[1], rate_bern(0.4, 0.3)], atol=1e-9)


def rate_bern(q, D):
    return lk.ratedistortion.rate_distortion_bernoulli(q, D)


def test_rd_errors_are_one_line():
    assert_one_line_error(run("rd", "value", "--p", "0.5,0.5", "-d", "hamming", "--D", "-1"), "'D'")
    assert_one_line_error(
        run("rd", "value", "--p", "0.5,0.5", "-d", "1,1;1,1", "--D", "0.5"), "D_min"
    )
    assert_one_line_error(
        run("rd", "value", "--p", "0.5,0.5", "-d", "cosine", "--D", "0.1"), "--distortion"
    )


# --------------------------------------------------------------------------- reproduce


def test_reproduce_list():
    result = run("reproduce", "--list")
    assert result.exit_code == 0, result.output
    assert "000-intro" in stdout(result)


@pytest.mark.slow
def test_reproduce_writes_report(tmp_path):
    result = run("reproduce", "000-intro", "--out", str(tmp_path), "--no-plots")
    assert result.exit_code == 0, result.output
    out = stdout(result)
    assert "000-intro" in out and "18" in out and str(tmp_path / "report.md") in out
    report = (tmp_path / "report.md").read_text()
    assert "**18 of 18 published numbers reproduced**." in report
    assert (tmp_path / "000-intro" / "values.csv").exists()
    assert not (tmp_path / "000-intro" / "leakage_vs_n.png").exists()
    # the versions each entry was computed with, in the report and beside its tables
    env = json.loads((tmp_path / "000-intro" / "environment.json").read_text())
    for name in ("python", "leakage", "numpy", "scipy", "cvxpy", "clarabel", "highspy"):
        assert env[name] and env[name] in report
    assert env["numpy"] == np.__version__
    assert f"numpy {np.__version__}" in report.split("## `000-intro`")[1]


def test_reproduce_counts_errata_apart_and_strict_passes(tmp_path):
    result = run("reproduce", "001-section5", "--out", str(tmp_path), "--no-plots", "--strict")
    assert result.exit_code == 0, result.output
    row = next(line for line in stdout(result).splitlines() if line.startswith("001-section5"))
    assert row.split()[1:] == ["2", "5", "0"]  # reproduced, erratum, not reproduced


def test_reproduce_unknown_id_is_a_one_line_error(tmp_path):
    assert_one_line_error(run("reproduce", "nope", "--out", str(tmp_path)), "nope")


def test_reproduce_strict_exits_1_on_mismatch(tmp_path, fake_entries):
    lax = run("reproduce", "zz-bad", "--out", str(tmp_path))
    strict = run("reproduce", "zz-bad", "--out", str(tmp_path), "--strict")
    assert lax.exit_code == 0 and strict.exit_code == 1
    assert "not reproduced" in streams(strict)[1]


# --------------------------------------------------------------------------- cipher

CIPHER = ("--p", "0.3,0.7", "--d1", "hamming", "--d2", "hamming", "--D1", "0.2", "--D2", "0.1")


def test_cipher_region_json_matches_the_library():
    out = run_json("cipher", "region", *CIPHER, "--r1", "0.06", "--r2", "0.1", "--alpha", "0.05")
    ref = lk.cipher.leakage_region(
        [0.3, 0.7], "hamming", "hamming", D1=0.2, D2=0.1, R1=None, r1=0.06, r2=0.1, alpha=0.05
    )
    assert out[0]["L1"] == pytest.approx(ref.L1, abs=1e-12)
    assert out[0]["L2_outer"] == pytest.approx(ref.L2_outer, abs=1e-12)
    assert out[0]["unit"] == "bits" and out[0]["criterion"] == "jep"
    om = run_json("cipher", "region", *CIPHER, "--r1", "0.06", "--r2", "0.1")
    assert om["criterion"] == "expected" and om["alpha"] is None


def test_cipher_region_curve_table_csv_and_plot(tmp_path):
    csv_path, png = tmp_path / "reg.csv", tmp_path / "reg.png"
    result = run(
        "cipher",
        "region",
        *CIPHER,
        "--r1",
        "0.06",
        "--r2",
        "0.1",
        "--alpha",
        "0.2,0.01",
        "--out",
        str(csv_path),
        "--plot",
        str(png),
        "--R1",
        "tight",
    )
    assert result.exit_code == 0, result.output
    text = stdout(result)
    # one Hamming distortion: the tight reading is the uncapped one, certified
    assert "Λ1 [bits]" in text and "R1 reading: tight" in text and "uncertified" not in text
    assert "not certified" not in streams(result)[1]
    rows = np.genfromtxt(csv_path, delimiter=",", names=True, dtype=None, encoding=None)
    assert list(rows["alpha"]) == [0.2, 0.01]
    assert rows["L1_bits"][0] == pytest.approx(1 - 0.7219280948873623 - 0.06, abs=1e-9)
    assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.filterwarnings("default::leakage.errors.ConvergenceWarning")
def test_cipher_region_curve_says_uncertified_for_the_tight_reading():
    # ternary |x - y| and (x - y)^2: no certified bound under R1 = "tight"
    ternary = ("--p", "0.5,0.3,0.2", "--d1", "abs", "--d2", "squared", "--D1", "0.3")
    result = run(
        "cipher", "region", *ternary, "--D2", "0.2", "--r1", "0.05", "--r2", "0.05",
        "--alpha", "0.05,0.01", "--R1", "tight",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = stdout(result)
    assert "uncertified" in text and "R1 reading: tight" in text
    assert "warning: leakage_region_curve: not certified" in streams(result)[1]


def test_cipher_key_rates_remark4():
    out = run_json(
        "cipher",
        "key-rates",
        "--p",
        "0.4,0.6",
        "--d1",
        "hamming",
        "--d2",
        "hamming",
        "--D1",
        "0.2",
        "--D2",
        "0.15",
        "--alpha",
        "0.03",
    )
    assert round(out["r1_max"], 3) == 0.162 and round(out["r2_max"], 3) == 0.112
    assert out["r1_bound"] <= out["r1_max"]
    assert out["status"] == "optimal" and out["certified"] and out["missed"] <= 1e-6
    result = run(
        "cipher",
        "key-rates",
        "--p",
        "0.4,0.6",
        "--d1",
        "hamming",
        "--d2",
        "hamming",
        "--D1",
        "0.2",
        "--D2",
        "0.15",
    )
    assert result.exit_code == 0 and "r1_max" in stdout(result) and "bits" in stdout(result)
    assert "status: optimal" in stdout(result)


def test_cipher_errors_are_one_line():
    assert_one_line_error(
        run(
            "cipher",
            "region",
            "--p",
            "0.3,0.7",
            "--d1",
            "0,1;0.5,1",
            "--d2",
            "hamming",
            "--D1",
            "0.2",
            "--D2",
            "0.1",
            "--r1",
            "0",
            "--r2",
            "0",
            "--alpha",
            "0.1",
        ),
        "'d1'",
        "row 1",
    )
    assert_one_line_error(
        run(
            "cipher", "region", *CIPHER, "--r1", "0", "--r2", "0", "--R1", "0.05", "--alpha", "0.1"
        ),
        "R1",
    )
    assert_one_line_error(run("cipher", "key-rates", *CIPHER, "--R1", "loose"), "--R1")


BUILD = (
    "--p",
    "0.3,0.7",
    "--d1",
    "hamming",
    "--d2",
    "hamming",
    "--D1",
    "0.34",
    "--D2",
    "0.17",
    "--r1",
    "0.34",
    "--r2",
    "0.17",
    "--alpha",
    "0.3",
)


def test_cipher_build_encrypt_decrypt_round_trip(tmp_path):
    code_path = tmp_path / "code.json"
    result = run("cipher", "build", *BUILD, "--n", "6", "--out", str(code_path))
    assert result.exit_code == 0, result.output
    assert "bits per symbol" in stdout(result)
    code = lk.cipher.SuccessiveRefinementCipher.load(code_path)
    rng = np.random.default_rng(5)
    src = rng.integers(0, 2, 60)
    (tmp_path / "src.txt").write_text("".join(map(str, src)))
    (tmp_path / "k1.txt").write_text(" ".join(map(str, rng.integers(0, 2, 20))))
    (tmp_path / "k2.txt").write_text("\n".join(map(str, rng.integers(0, 2, 10))))
    files = [str(tmp_path / f) for f in ("src.txt", "k1.txt", "k2.txt")]
    m = tmp_path / "m.json"
    assert (
        run(
            "cipher",
            "encrypt",
            "--code",
            str(code_path),
            "--source",
            files[0],
            "--key1",
            files[1],
            "--key2",
            files[2],
            "--out",
            str(m),
        ).exit_code
        == 0
    )
    rec = tmp_path / "rec.json"
    result = run(
        "cipher",
        "decrypt",
        "--code",
        str(code_path),
        "--messages",
        str(m),
        "--key1",
        files[1],
        "--key2",
        files[2],
        "--out",
        str(rec),
    )
    assert result.exit_code == 0, result.output
    out = json.loads(rec.read_text())
    y, z = np.array(out["layer1"]), np.array(out["layer2"])
    typical = set(code.types)
    for b in range(10):
        x = src[6 * b : 6 * b + 6]
        if tuple(int((x == a).sum()) for a in range(2)) in typical:
            assert np.mean(x != y[6 * b : 6 * b + 6]) <= 0.34 + 1e-12
            assert np.mean(x != z[6 * b : 6 * b + 6]) <= 0.17 + 1e-12
    # a key too short for the stream: one-line error and no output file
    bad = tmp_path / "bad.json"
    assert_one_line_error(
        run(
            "cipher",
            "encrypt",
            "--code",
            str(code_path),
            "--source",
            files[0],
            "--key1",
            files[2],
            "--key2",
            files[2],
            "--out",
            str(bad),
        ),
        "key1",
        "fresh key bits",
    )
    assert not bad.exists()


def test_cipher_report_json():
    out = run_json("cipher", "report", *BUILD, "--ns", "3,5")
    assert [r["n"] for r in out["rows"]] == [3, 5] and out["unit"] == "bits"
    assert all(r["L1_per_symbol"] <= r["rate1"] + 1e-12 for r in out["rows"])
    # a blocklength that is not an integer is refused, not truncated (issue 16)
    assert_one_line_error(run("cipher", "report", *BUILD, "--ns", "2.5"), "2.5")


# --------------------------------------------------------------------------- hypothesis


def test_hypothesis_design_json_matches_the_library(tmp_path):
    out = tmp_path / "W.json"
    data = run_json(
        "hypothesis",
        "design",
        "--p1",
        "0.55,0.45",
        "--p2",
        "0.95,0.05",
        "--eps",
        "0.01",
        "--out",
        str(out),
    )
    ps = [(0.55, 0.45), (0.95, 0.05)]
    eit = lk.hypothesis.design_binary(*ps, 0.01, 0.01)
    assert eit.max_violation > 5e-6  # the E-IT design leaks 0.010009 bits > 0.01 (issue 16)
    lib = lk.hypothesis.within_budget(eit, ps)
    assert data["utility"] == pytest.approx(lib.utility, rel=1e-12)
    assert np.allclose(data["mechanism"], lib.mechanism)
    assert data["unit"] == "bits"
    assert max(data["leakages"]) <= 0.01 and data["max_violation"] <= 0
    saved = lk.Mechanism.load(out)
    assert np.allclose(saved.matrix, lib.mechanism)
    assert saved.provenance["method"].startswith("E-IT closed form")
    assert "meet the budgets exactly" in saved.provenance["method"]
    # the saved mechanism meets the budget exactly, not to second order
    leaks = [lk.mutual_information(p, saved.matrix) for p in ps]
    assert max(leaks) <= 0.01 and max(leaks) == pytest.approx(0.01, rel=1e-12)


def test_hypothesis_design_exact_and_mary_tables():
    r = run(
        "hypothesis", "design", "--p1", "0.55,0.45", "--p2", "0.95,0.05", "--eps", "0.01", "--exact"
    )
    assert r.exit_code == 0, r.output
    text = stdout(r)
    assert "certified upper bound on the optimum" in text and "bits" in text
    assert "optimal (limits reached: none)" in text
    r = run("hypothesis", "design", "--ps", "0.5,0.3,0.2;0.3,0.4,0.3;0.2,0.3,0.5", "--eps", "0.02")
    assert r.exit_code == 0, r.output
    assert "E-IT SDP" in stdout(r)


@pytest.mark.filterwarnings("default::leakage.errors.ConvergenceWarning")
def test_hypothesis_design_exact_max_time():
    """--max-time: a budget too small to certify prints the proved bracket and the
    not_certified status; without --exact it is refused; a bad value names the option."""
    ps = "0.3,0.2,0.1,0.1,0.1,0.1,0.05,0.05;0.05,0.05,0.1,0.1,0.1,0.1,0.2,0.3;" + ",".join(
        ["0.125"] * 8
    )
    args = ("hypothesis", "design", "--ps", ps, "--eps", "0.05", "--exact")
    r = run(*args, "--max-time", "0.2")
    assert r.exit_code == 0, r.output
    text = stdout(r)
    assert "not_certified (limits reached: max_time)" in text
    assert "certified upper bound on the optimum" in text
    data = run_json(*args, "--max-time", "0.2")
    assert data["details"]["status"] == "not_certified" and data["gap"] > 0
    assert_one_line_error(run(*args[:-1], "--max-time", "1"), "--exact")
    assert_one_line_error(run(*args, "--max-time", "-1"), "--max-time")


def test_hypothesis_simulate_reads_a_saved_mechanism(tmp_path):
    out = tmp_path / "W.json"
    run_json(
        "hypothesis",
        "design",
        "--p1",
        "0.55,0.45",
        "--p2",
        "0.95,0.05",
        "--eps",
        "0.05",
        "--exact",
        "--out",
        str(out),
    )
    data = run_json(
        "hypothesis",
        "simulate",
        "-W",
        str(out),
        "--p1",
        "0.55,0.45",
        "--p2",
        "0.95,0.05",
        "--n",
        "10,40",
        "--trials",
        "2000",
    )
    assert data["ns"] == [10, 40] and len(data["missed"]) == 2
    W = lk.Mechanism.load(out).matrix
    q1, q2 = np.array([0.55, 0.45]) @ W, np.array([0.95, 0.05]) @ W
    assert data["stein_exponent"] == pytest.approx(lk.kl_divergence(q2, q1), rel=1e-12)


def test_hypothesis_errors_are_one_line():
    assert_one_line_error(
        run("hypothesis", "design", "--p1", "0.5,0.5", "--p2", "0.5,0.5", "--eps", "0.1"),
        "equals p_1",
    )
    assert_one_line_error(run("hypothesis", "design", "--p1", "0.5,0.5", "--eps", "0.1"), "--p2")
    assert_one_line_error(
        run("hypothesis", "design", "--p1", "0.5,0.5", "--p2", "0.4,0.6", "--eps", "-1"), "eps"
    )
    assert_one_line_error(
        run("hypothesis", "design", "--p1", "0.5,0.5", "--p2", "0.4,0.6", "--eps", "0.9"),
        "largest feasible budget scale",
    )


# --------------------------------------------------------------------------- release


def _fair_like(tmp_path):
    import pandas as pd

    rng = np.random.default_rng(0)
    y = rng.integers(1, 5, 4000)
    x = (rng.random(4000) < 0.2 + 0.1 * (y == 3)).astype(int)
    df = pd.DataFrame({"x": x, "occupation": y, "age": rng.uniform(18, 60, 4000)})
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    return path


def test_release_fit_design_apply_audit(tmp_path):
    data = _fair_like(tmp_path)
    fit = run_json(
        "release", "fit", "--data", str(data), "--private", "x", "--useful", "occupation"
    )
    assert sum(map(sum, fit["counts"])) == 4000
    rel = tmp_path / "r.json"
    d = run_json(
        "release",
        "design",
        "--data",
        str(data),
        "--private",
        "x",
        "--useful",
        "occupation",
        "--eps",
        "0.03,0.03,0.03,0.03",
        "--out",
        str(rel),
    )
    assert d["release_file"] == str(rel) and rel.exists()
    out = tmp_path / "o.parquet"
    apply = ("release", "apply", "--release", str(rel))
    info = run_json(*apply, "--data", str(data), "--out", str(out), "--keep", "age")
    assert info["written"] == 4000 and info["columns"] == ["age", "released"]
    # the public table: no private column, mode 0600; a new 256-bit key in OUT.key (0600)
    import pandas as pd
    import pyarrow.parquet as pq

    assert pq.read_schema(out).names == ["age", "released"]
    key_file = tmp_path / "o.parquet.key"
    assert info["key_file"] == str(key_file) and len(key_file.read_text().strip()) == 64
    if os.name == "posix":
        assert out.stat().st_mode & 0o777 == 0o600 and key_file.stat().st_mode & 0o777 == 0o600
    # the same key and release id give the same bytes on both engines
    pq_src = tmp_path / "t.parquet"
    pd.read_csv(data).to_parquet(pq_src)
    same = ("--key", f"@{key_file}", "--release-id", info["release_id"])
    for engine, name in (("stream", "s.parquet"), ("dask", "d.parquet")):
        run_json(
            *apply,
            "--data",
            str(pq_src),
            "--out",
            str(tmp_path / name),
            *same,
            "--engine",
            engine,
            "--audit-out",
            str(tmp_path / f"audit-{name}"),
        )
    assert (tmp_path / "d.parquet").read_bytes() == (tmp_path / "s.parquet").read_bytes()
    assert (
        pq.read_table(tmp_path / "s.parquet")
        .column("released")
        .equals(pq.read_table(out).column("released"))
    )
    # a run without --key draws a new key: an existing key file is never replaced
    o2 = str(tmp_path / "o2.parquet")
    again = run(*apply, "--data", str(data), "--out", o2, "--key-file", str(key_file))
    assert_one_line_error(again, "key file", "exists")
    again = run(*apply, "--data", str(data), "--out", str(out), *same)
    assert_one_line_error(again, "exists")
    # audit: the public table beside the source, or the private audit file: one answer
    audit = ("release", "audit", "--release", str(rel), "--bootstrap", "200")
    a = run_json(
        *audit, "--data", str(out), "--source", str(data), "--plot", str(tmp_path / "a.png")
    )
    assert len(a["plugin"]) == 4 and (tmp_path / "a.png").exists()
    b = run_json(*audit, "--data", str(tmp_path / "audit-s.parquet"))
    assert a["counts"] == b["counts"] and a["plugin"] == b["plugin"]
    assert_one_line_error(run(*audit, "--data", str(out)), "private column", "source")
    assert_one_line_error(
        run(*apply, "--data", str(data), "--out", str(tmp_path / "x.csv"), "--seed", "4"),
        "replaced by '--key'",
    )
    assert_one_line_error(
        run(*apply, "--data", str(data), "--out", str(tmp_path / "x.csv"), "--key", "07e2"),
        "at least 128 bits",
        "--insecure-key",
    )
    assert not (tmp_path / "x.csv").exists()
    r = run(
        "release",
        "fit",
        "--data",
        str(data),
        "--private",
        "x",
        "--useful",
        "age",
        "--bins",
        "age=18,30,45,60",
    )
    assert r.exit_code == 0 and "[45, 60]" in stdout(r)


def test_release_errors_are_one_line(tmp_path):
    data = _fair_like(tmp_path)
    assert_one_line_error(
        run("release", "fit", "--data", str(data), "--private", "nope", "--useful", "x"),
        "no column",
    )
    assert_one_line_error(
        run(
            "release",
            "fit",
            "--data",
            str(data),
            "--private",
            "x",
            "--useful",
            "age",
            "--bins",
            "age",
        ),
        "--bins",
    )


def test_pointwise_design_falls_back_to_the_exact_optimum_when_the_lp_is_constant():
    pxy = "0.30,0.05,0.10;0.05,0.20,0.05;0.02,0.08,0.15"
    r = run("pointwise", "design", "--pxy", pxy, "--eps", "0.05,0.05,0.05", "--measure", "l1")
    assert r.exit_code == 0, r.output
    out, err = streams(r)
    assert "exact vertex enumeration" in out and "the LP design was constant" in err
    exact = lk.pointwise.optimal_l1(
        np.array([[0.30, 0.05, 0.10], [0.05, 0.20, 0.05], [0.02, 0.08, 0.15]]), [0.05] * 3
    )
    line = next(ln for ln in out.splitlines() if ln.startswith("I(U;Y), exact"))
    assert line.split()[2] == f"{exact.utility:.10g}"


def test_release_design_warns_at_the_posterior_quantile_and_robust_meets_it(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.integers(0, 2, 20_000)
    y = (x + (rng.random(20_000) < 0.3)) % 3
    data = tmp_path / "t.csv"
    data.write_text("x,y\n" + "".join(f"{a},{b}\n" for a, b in zip(x, y, strict=True)))
    args = ("release", "design", "--data", str(data), "--private", "x", "--useful", "y")
    plain = run(*args, "--eps", "0.05,0.05", "--out", str(tmp_path / "a.json"))
    assert plain.exit_code == 0 and "--robust designs to meet it" in streams(plain)[1]
    robust = run(*args, "--eps", "0.05,0.05", "--out", str(tmp_path / "b.json"), "--robust")
    assert robust.exit_code == 0 and "--robust designs" not in streams(robust)[1]
    assert "robust: budgets scaled by" in streams(robust)[0]


def test_pointwise_design_warns_when_the_lp_is_well_below_the_quick_exact_optimum():
    pxy = (
        "0.042042042042042045,0.38738738738738737,0.1701701701701702,0.026026026026026026;"
        "0.04604604604604604,0.14914914914914915,0.09109109109109109,0.08808808808808809"
    )
    r = run("pointwise", "design", "--pxy", pxy, "--eps", "0.2,0.2,0.2", "--measure", "l1")
    assert r.exit_code == 0, r.output
    out, err = streams(r)
    assert "l1 extreme-point LP" in out  # the LP design is still what is shown
    P = np.array([[float(v) for v in row.split(",")] for row in pxy.split(";")])
    lp = lk.pointwise.design_l1(P, [0.2] * 3).utility
    best = lk.pointwise.optimal_l1(P, [0.2] * 3).utility
    assert lp < 0.95 * best
    assert f"reaches {lp / best:.4%} of the optimum" in err and "--exact gives it" in err


# --------------------------------------------------------------------------- estimate


@pytest.fixture
def log_files(tmp_path):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    n = 3000
    s = rng.integers(0, 4, n)
    o = np.where(rng.random(n) < 0.7, s, rng.integers(0, 4, n))
    t = 2.0 * s + rng.normal(size=n)
    frame = pd.DataFrame({"s": s, "o": o, "t": t})
    frame.to_parquet(tmp_path / "log.parquet")
    frame.to_csv(tmp_path / "log.csv", index=False)
    return tmp_path, s, o, t


def test_estimate_prints_each_measure_with_its_interval_and_unit(log_files):
    d, s, o, _ = log_files
    args = ("estimate", "--data", str(d / "log.csv"), "--secret", "s", "--observable", "o")
    r = run(*args, "--measure", "mi,maximal-leakage,bayes-risk", "--test")
    assert r.exit_code == 0, r.output
    out = stdout(r)
    assert "3,000 pairs" in out and "bits" in out and "unitless" in out
    assert "independence test" in out and "p-value" in out
    data = run_json(*args, "--measure", "mi,maximal-leakage", "--seed", "3")
    lib = lk.estimate.mutual_information(s, o, rng=3)
    assert data["estimates"]["mi"]["value"] == pytest.approx(lib.value, rel=1e-12)
    assert data["estimates"]["mi"]["lower"] == pytest.approx(lib.lower, rel=1e-12)
    assert data["estimates"]["maximal-leakage"]["unit"] == "bits"
    # the plug-in maximal leakage is the exact measure of the empirical joint
    table, _, _ = lk.estimate.counts(s, o)
    px = table.sum(axis=1) / table.sum()
    W = table / table.sum(axis=1, keepdims=True)
    assert data["estimates"]["maximal-leakage"]["value"] == pytest.approx(
        lk.maximal_leakage(px, W), rel=1e-12
    )


def test_estimate_numeric_observable_with_knn_and_errors(log_files):
    d, *_ = log_files
    base = ("estimate", "--data", str(d / "log.parquet"), "--secret", "s")
    r = run(*base, "--observable", "t", "--measure", "mi,bayes-risk", "--method", "knn")
    assert r.exit_code == 0, r.output
    assert "knn" in stdout(r)
    assert "Bayes risk, lower bound (1-NN, Cover-Hart)" in stdout(r)  # not shown as R*
    assert_one_line_error(run(*base, "--observable", "zz"), "--observable zz")
    assert_one_line_error(run(*base, "--observable", "t", "--measure", "nope"), "--measure")
    assert_one_line_error(
        run(*base, "--observable", "t", "--measure", "maximal-leakage", "--method", "knn"),
        "mi and bayes-risk only",
    )


SYSTEM_MODULE = """
import numpy as np

def bsc(bit, rng):
    return bit ^ int(rng.random() < 0.1)

def bsc_vec(bits, rng):
    return bits ^ (rng.random(bits.shape[0]) < 0.1)

def broken(secret, rng):
    raise RuntimeError("device busy")
"""


def test_estimate_system_samples_until_width(tmp_path, monkeypatch):
    (tmp_path / "leaky_cli_mod.py").write_text(SYSTEM_MODULE)
    monkeypatch.chdir(tmp_path)
    truth = 1 - lk.entropy([0.1, 0.9])
    args = ("estimate", "--system", "leaky_cli_mod:bsc", "--prior", "0.5,0.5", "--width", "0.05")
    r = run(*args, "--measure", "mi,bayes-risk", "--test")
    assert r.exit_code == 0, r.output
    out = stdout(r)
    assert "sampled until the interval width <= 0.05 (width)" in out
    assert "Bonferroni" in out and "samples" in out and "p-value" in out
    data = run_json(*args, "--seed", "4")
    e = data["estimates"]["mi"]
    assert e["lower"] <= truth <= e["upper"] and e["upper"] - e["lower"] <= 0.05
    assert data["samples"]["mi"] == e["n"] == e["details"]["calls"]
    # the same run through the library (the CLI's --seed is the run's rng)
    from leakage.estimate import from_system

    def bsc(bit, rng):
        return bit ^ int(rng.random() < 0.1)

    lib = from_system(bsc, [0.5, 0.5], width=0.05, rng=4)
    assert e["value"] == pytest.approx(lib.value, rel=1e-12) and e["n"] == lib.n
    # a file path and a vectorized system
    vec = run_json(
        "estimate",
        "--system",
        f"{tmp_path / 'leaky_cli_mod.py'}:bsc_vec",
        "--vectorized",
        "--prior",
        "0.5,0.5",
        "--width",
        "0.05",
    )
    assert vec["estimates"]["mi"]["details"]["calls"] == vec["estimates"]["mi"]["details"]["looks"]


def test_estimate_system_errors(tmp_path, monkeypatch):
    (tmp_path / "leaky_cli_mod2.py").write_text(SYSTEM_MODULE)
    monkeypatch.chdir(tmp_path)
    sys_ = ("estimate", "--system")
    assert_one_line_error(run(*sys_, "leaky_cli_mod2:broken", "--prior", "0.5,0.5"), "device busy")
    assert_one_line_error(run(*sys_, "leaky_cli_mod2:nope", "--prior", "1,0"), "no function 'nope'")
    assert_one_line_error(run(*sys_, "no_such_mod_xyz:f", "--prior", "0.5,0.5"), "cannot import")
    assert_one_line_error(run(*sys_, "leaky_cli_mod2", "--prior", "0.5,0.5"), "MODULE:FUNC")
    assert_one_line_error(run(*sys_, "leaky_cli_mod2:bsc"), "--prior")
    assert_one_line_error(
        run(*sys_, "leaky_cli_mod2:bsc", "--prior", "0.5,0.5", "--width", "0"), "--width"
    )
    assert_one_line_error(
        run(*sys_, "leaky_cli_mod2:bsc", "--prior", "0.5,0.6"), "--prior", "sum to 1"
    )
    assert_one_line_error(run("estimate", "--prior", "0.5,0.5"), "exactly one source")
    assert_one_line_error(
        run("estimate", "--data", "x.csv", "--system", "leaky_cli_mod2:bsc"),
        "exactly one source",
    )
    assert_one_line_error(run("estimate", "--data", "x.csv"), "--secret")


@pytest.mark.filterwarnings("default::leakage.errors.ConvergenceWarning")
def test_estimate_system_max_samples_warns_on_one_line(tmp_path, monkeypatch):
    (tmp_path / "leaky_cli_mod3.py").write_text(SYSTEM_MODULE)
    monkeypatch.chdir(tmp_path)
    sys_ = ("estimate", "--system")
    r = run(
        *sys_,
        "leaky_cli_mod3:bsc",
        "--prior",
        "0.5,0.5",
        "--width",
        "1e-4",
        "--max-samples",
        "3000",
    )
    assert r.exit_code == 0, r.output
    out, err = streams(r)
    assert "(max_samples)" in out
    assert "stopped by max_samples at 3,000 samples" in err and "would reach it" in err
    assert err.startswith("warning: ") and err.count("\n") == 1


# --------------------------------------------------------------------------- qif and ldp

C3 = "0.8,0.2;0.5,0.5;0.1,0.9"


def test_qif_leakage_and_capacity_match_the_library():
    pi = np.array([0.5, 0.3, 0.2])
    C = np.array([[0.8, 0.2], [0.5, 0.5], [0.1, 0.9]])
    data = run_json("qif", "leakage", "--prior", "0.5,0.3,0.2", "--channel", C3)
    assert data["posterior_vulnerability"] == pytest.approx((pi[:, None] * C).max(axis=0).sum())
    assert data["additive_leakage"] == pytest.approx(0.08)
    assert data["multiplicative_leakage"] == pytest.approx(math.log2(0.58 / 0.5))
    tries = run_json("qif", "leakage", "--prior", "0.5,0.3,0.2", "--channel", C3, "--tries", "2")
    assert tries["gain"] == "k-tries" and tries["prior_vulnerability"] == pytest.approx(0.8)
    cap = run_json("qif", "capacity", "--channel", C3)
    assert cap["multiplicative"]["capacity"] == pytest.approx(lk.maximal_leakage(pi, C))
    assert cap["additive"]["capacity"] == pytest.approx(0.35)
    assert "multiplicative leakage" in stdout(
        run("qif", "leakage", "--prior", "1,0,0", "--channel", C3)
    )
    assert_one_line_error(run("qif", "leakage", "--prior", "0.5,0.5", "--channel", C3), "--channel")
    assert_one_line_error(
        run(
            "qif",
            "leakage",
            "--prior",
            "0.5,0.3,0.2",
            "--channel",
            C3,
            "--gain",
            "1,0",
            "--tries",
            "2",
        ),
        "not both",
    )


def test_qif_refines_prints_r_or_a_verified_witness(tmp_path):
    yes = run("qif", "refines", "--a", "1,0;0,1", "--b", "0.5,0.5;0.5,0.5")
    assert yes.exit_code == 0 and "is a post-processing" in stdout(yes)
    out = tmp_path / "witness.json"
    no = run("qif", "refines", "--a", "0.5,0.5;0.5,0.5", "--b", "1,0;0,1", "--out", str(out))
    assert no.exit_code == 0 and "NOT a post-processing" in stdout(no)
    w = json.loads(out.read_text())
    pi, G, B, A = np.array(w["prior"]), np.array(w["gain"]), np.eye(2), np.full((2, 2), 0.5)
    gap = (G @ (pi[:, None] * B)).max(axis=0).sum() - (G @ (pi[:, None] * A)).max(axis=0).sum()
    assert gap == pytest.approx(w["vulnerability_gap"]) and gap > 0


def test_ldp_report_protocol_and_channel(tmp_path):
    data = run_json("ldp", "report", "--protocol", "grr", "--k", "4", "--eps", "1")
    e = math.e
    assert data["epsilon"] == pytest.approx(1.0)
    assert data["maximal_leakage"] == pytest.approx(math.log2(4 * e / (e + 3)))
    ch = run_json("ldp", "report", "--channel", "0.8,0.2;0.3,0.7", "--prior", "0.6,0.4")
    assert ch["epsilon"] == pytest.approx(math.log(0.7 / 0.2))
    text = stdout(run("ldp", "report", "--protocol", "oue", "--k", "4", "--eps", "1", "--n", "100"))
    assert "nats" in text and "bits" in text and "n = 100" in text
    r = run("ldp", "plot", "--out", str(tmp_path / "f.png"), "--k", "3", "--protocols", "grr,oue")
    assert r.exit_code == 0 and (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    assert_one_line_error(
        run("ldp", "report", "--protocol", "nope", "--k", "4", "--eps", "1"), "grr"
    )
    assert_one_line_error(
        run("ldp", "report", "--protocol", "grr", "--k", "4", "--eps", "0"), "--eps"
    )
    assert_one_line_error(run("ldp", "report"), "exactly one mechanism")
    assert_one_line_error(run("ldp", "report", "--protocol", "grr"), "--k")


def _edited_release_apply(tmp_path) -> tuple[str, ...]:
    """A designed release file with its budgets edited afterwards, and the apply command
    line for it (without --out)."""
    data = _fair_like(tmp_path)
    rel = tmp_path / "r.json"
    design = ("release", "design", "--data", str(data), "--private", "x", "--useful")
    run_json(*design, "occupation", "--eps", "0.03,0.03,0.03,0.03", "--out", str(rel))
    edited = json.loads(rel.read_text())
    edited["budgets"] = [0.3] * 4
    rel.write_text(json.dumps(edited))
    key = ("--key", "00" * 16)
    return ("release", "apply", "--release", str(rel), "--data", str(data), *key)


def test_release_apply_refuses_an_edited_release_file_unless_forced(tmp_path):
    apply = _edited_release_apply(tmp_path)
    assert_one_line_error(
        run(*apply, "--out", str(tmp_path / "o.parquet")), "integrity hash", "--force"
    )
    assert not (tmp_path / "o.parquet").exists()


@pytest.mark.filterwarnings("default::leakage.errors.IntegrityWarning")
def test_release_apply_force_loads_an_edited_file_with_a_warning(tmp_path):
    out = tmp_path / "o.parquet"
    r = run(*_edited_release_apply(tmp_path), "--out", str(out), "--force")
    assert r.exit_code == 0, r.output
    assert "loaded anyway" in streams(r)[1] and out.exists()
