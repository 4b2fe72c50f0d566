"""The CLI under bad input (issue 16): exit 1, one ``error:`` line, no traceback, quickly.

Each case is an invocation a fuzz of the CLI ended in a traceback, a hang or a runaway
allocation with; files are built in a temporary folder.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from leakage.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    rng = np.random.default_rng(0)
    f = {"dir": d / "adir"}
    f["dir"].mkdir()
    (d / "list.json").write_text("[1, 2]")
    f["list"] = d / "list.json"
    for name in ("rand.csv", "rand.npy", "rand.parquet", "rand.json"):
        (d / name).write_bytes(rng.bytes(300))
        f[name] = d / name
    np.save(d / "empty.npy", np.zeros(0))
    f["empty"] = d / "empty.npy"
    # a .npy header claiming 10^12 entries, with 16 bytes of data
    head = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }"
    head = head + b" " * (118 - len(head)) + b"\n"
    (d / "huge.npy").write_bytes(b"\x93NUMPY\x01\x00" + len(head).to_bytes(2, "little") + head)
    f["huge"] = d / "huge.npy"
    (d / "W_abc.json").write_text(json.dumps({"matrix": "abc"}))
    f["W_abc"] = d / "W_abc.json"
    P = rng.dirichlet(np.ones(80)).reshape(4, 20)
    np.savetxt(d / "p4x20.csv", P, delimiter=",")
    f["p4x20"] = d / "p4x20.csv"
    (d / "t.csv").write_text("x,y\n" + "".join(f"{i % 2},{i % 3}\n" for i in range(300)))
    f["table"] = d / "t.csv"
    (d / "wide.csv").write_text("x,y\n" + "".join(f"{i % 2},{i}\n" for i in range(2000)))
    f["wide"] = d / "wide.csv"
    f["file"] = d / "t.csv"
    return f


HYP = ("hypothesis", "simulate", "--p1", "0.5,0.5", "--p2", "0.4,0.6")
BUILD = ("--p", "0.3,0.7", "--d1", "hamming", "--d2", "hamming", "--D1", "0.2", "--D2", "0.1")
KEYS = ("--r1", "0.06", "--r2", "0.1", "--alpha", "0.1")

CASES = [
    # output paths that are directories, or below a file
    (
        "rd out dir",
        lambda f: (
            "rd",
            "curve",
            "--p",
            "0.3,0.7",
            "--distortion",
            "hamming",
            "--out",
            str(f["dir"]),
        ),
        "directory",
    ),
    (
        "reproduce out file",
        lambda f: ("reproduce", "000-intro", "--out", str(f["file"]), "--no-plots"),
        "not a directory",
    ),
    # inputs that are not what they claim
    ("p is a dir", lambda f: ("measure", "entropy", "--p", str(f["dir"])), "it is a directory"),
    ("p divides by 0", lambda f: ("measure", "entropy", "--p", "1/0,1"), "divides by zero"),
    ("p is /dev/zero", lambda f: ("measure", "entropy", "--p", "/dev/zero"), "not a regular file"),
    (
        "p nested",
        lambda f: ("measure", "entropy", "--p", "[" * 5000 + "]" * 5000),
        "nested too deeply",
    ),
    ("p empty npy", lambda f: ("measure", "entropy", "--p", str(f["empty"])), "p'"),
    ("p huge npy header", lambda f: ("measure", "entropy", "--p", str(f["huge"])), "p'"),
    ("p random npy", lambda f: ("measure", "entropy", "--p", str(f["rand.npy"])), "p'"),
    ("p random csv", lambda f: ("measure", "entropy", "--p", str(f["rand.csv"])), "p'"),
    ("p random json", lambda f: ("measure", "entropy", "--p", str(f["rand.json"])), "p'"),
    (
        "distortion name",
        lambda f: ("rd", "curve", "--p", "0.3,0.7", "--distortion", "nope"),
        "hamming",
    ),
    (
        "rd huge n",
        lambda f: ("rd", "curve", "--p", "0.3,0.7", "--distortion", "hamming", "-n", "1000000000"),
        "--points",
    ),
    (
        "base 0.5",
        lambda f: (
            "rd",
            "value",
            "--p",
            "0.3,0.7",
            "--distortion",
            "hamming",
            "--D",
            "0.1",
            "--base",
            "0.5",
        ),
        "> 1",
    ),
    # sizes and integer ranges
    ("seed -5", lambda f: (*HYP, "-W", "1,0;0,1", "--n", "10", "--seed", "-5"), "seed"),
    ("n 1e21", lambda f: (*HYP, "-W", "1,0;0,1", "--n", "1000000000000000000000"), "limit"),
    (
        "trials 1e12",
        lambda f: (*HYP, "-W", "1,0;0,1", "--n", "10", "--trials", "1000000000000"),
        "trials",
    ),
    ("W not a matrix", lambda f: (*HYP, "-W", str(f["W_abc"]), "--n", "10"), "W_abc.json"),
    (
        "cipher n 1e9",
        lambda f: (
            "cipher",
            "build",
            *BUILD,
            *KEYS,
            "--n",
            "1000000000",
            "--out",
            str(f["dir"] / "c.json"),
        ),
        "limit",
    ),
    (
        "cipher ns 1e12",
        lambda f: ("cipher", "report", *BUILD, *KEYS, "--ns", "1000000000000"),
        "limit",
    ),
    (
        "exact 4x20",
        lambda f: (
            "pointwise",
            "design",
            "--pxy",
            str(f["p4x20"]),
            "--eps",
            "0.1,0.1",
            "--measure",
            "l1",
            "--exact",
        ),
        "row subsets",
    ),
    (
        "exact 1500 budgets",
        lambda f: (
            "pointwise",
            "design",
            "--pxy",
            "0.1,0.1;0.1,0.7",
            "--eps",
            ",".join(["0.01"] * 1500),
            "--measure",
            "l1",
            "--exact",
        ),
        "1,500",
    ),
    # release files and tables
    (
        "release data dir",
        lambda f: (
            "release",
            "apply",
            "--data",
            str(f["dir"]),
            "--release",
            str(f["list"]),
            "--out",
            str(f["dir"] / "o.csv"),
            "--key",
            "00" * 16,
        ),
        "release",
    ),
    (
        "release file is a list",
        lambda f: (
            "release",
            "apply",
            "--data",
            str(f["table"]),
            "--release",
            str(f["list"]),
            "--out",
            str(f["dir"] / "o.csv"),
            "--key",
            "00" * 16,
        ),
        "list.json",
    ),
    (
        "release file binary",
        lambda f: (
            "release",
            "apply",
            "--data",
            str(f["table"]),
            "--release",
            str(f["rand.json"]),
            "--out",
            str(f["dir"] / "o.csv"),
            "--key",
            "00" * 16,
        ),
        "rand.json",
    ),
    (
        "random parquet",
        lambda f: (
            "release",
            "fit",
            "--data",
            str(f["rand.parquet"]),
            "--private",
            "x",
            "--useful",
            "y",
        ),
        "rand.parquet",
    ),
    (
        "design 2000 categories",
        lambda f: (
            "release",
            "design",
            "--data",
            str(f["wide"]),
            "--private",
            "x",
            "--useful",
            "y",
            "--eps",
            "0.1,0.1",
            "--out",
            str(f["dir"] / "r.json"),
        ),
        "supports",
    ),
]


CASES += [
    # CLI errors speak CLI: the option, not the library's keyword
    (
        "missing option",
        lambda f: (
            "release",
            "fit",
            "--data",
            str(f["table"]),
            "--private",
            "x",
            "--useful",
            "y",
            "--missing",
            "maybe",
        ),
        "option --missing",
    ),
    (
        "exact advice",
        lambda f: (
            "pointwise",
            "design",
            "--pxy",
            str(f["p4x20"]),
            "--eps",
            "0.1,0.1",
            "--measure",
            "l1",
            "--exact",
        ),
        "row subsets",
    ),
]


@pytest.mark.parametrize(("label", "args", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_ends_in_one_error_line(files, label, args, fragment):
    result = runner.invoke(app, [str(a) for a in args(files)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # not an uncaught exception
    err = result.stderr
    lines = [ln for ln in err.splitlines() if not ln.startswith("warning:")]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in result.output
    assert fragment in lines[0], lines[0]
    assert "load_array_arg:" not in lines[0]  # no internal names


def test_debug_shows_the_traceback_of_a_file_error(files):
    args = ["rd", "curve", "--p", "0.3,0.7", "--distortion", "hamming", "--out", str(files["dir"])]
    result = runner.invoke(app, ["--debug", *args])
    assert isinstance(result.exception, IsADirectoryError)
