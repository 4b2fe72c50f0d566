"""The command line as a package (leakage.cli) and the lazy top-level package (leakage).

``leakage --version`` and ``--help`` must not import the numerical library (NumPy, SciPy,
cvxpy, the subpackages): these tests look at the modules loaded, not at the time taken.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import leakage
from leakage.cli import app

CLI_DIR = Path(leakage.__file__).parent / "cli"

#: imported by the numerical library, never by `leakage --version` or `leakage --help`
HEAVY = (
    "numpy",
    "scipy",
    "scipy.optimize",
    "cvxpy",
    "matplotlib",
    "leakage.cipher",
    "leakage.estimate",
    "leakage.hypothesis",
    "leakage.ldp",
    "leakage.measures",
    "leakage.pointwise",
    "leakage.qif",
    "leakage.ratedistortion",
    "leakage.release",
    "leakage.reproduce",
)


def _modules_after(code: str) -> set[str]:
    """The modules loaded by ``code`` in a fresh interpreter (printed last, as JSON)."""
    script = (
        "import json, sys\n"
        "try:\n" + "".join(f"    {line}\n" for line in code.splitlines()) + "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


# --------------------------------------------------------------------------- lazy package


@pytest.mark.parametrize("name", leakage.__all__)
def test_every_public_name_resolves(name):
    assert getattr(leakage, name) is not None
    assert name in dir(leakage)


def test_subpackages_and_functions_import_as_before():
    import leakage as lk
    from leakage import estimate, mutual_information

    assert estimate is lk.estimate
    assert callable(lk.cipher.leakage_region)
    assert mutual_information([0.5, 0.5], [[1.0, 0.0], [0.0, 1.0]]) == pytest.approx(1.0)
    assert isinstance(lk.__version__, str) and lk.__version__
    with pytest.raises(AttributeError):
        lk.no_such_name


def test_import_leakage_loads_no_subpackage():
    loaded = _modules_after("import leakage")
    assert not loaded & set(HEAVY)


# --------------------------------------------------------------------------- fast startup


def test_import_cli_loads_no_numerical_module():
    loaded = _modules_after("import leakage.cli")
    assert not loaded & set(HEAVY)


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["estimate", "--help"]])
def test_version_and_help_load_no_numerical_module(argv):
    code = f"import sys\nsys.argv = ['leakage', *{argv!r}]\nfrom leakage.cli import main\nmain()"
    loaded = _modules_after(code)
    assert "leakage.cli.estimate" in loaded
    assert not loaded & set(HEAVY)


def test_version_is_printed():
    done = subprocess.run(
        [sys.executable, "-m", "leakage", "--version"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"leakage {leakage.__version__}"


# --------------------------------------------------------------------------- the package


def test_every_cli_module_is_small():
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in CLI_DIR.glob("*.py")}
    assert len(sizes) >= 11  # __init__, _common and the command modules
    assert {n: s for n, s in sizes.items() if s > 450} == {}


def test_the_old_single_module_is_gone():
    assert not (CLI_DIR.parent / "cli.py").exists()


def test_the_spelled_out_pointwise_measures_match_the_library():
    from leakage.cli.measure import _POINTWISE_MEASURES
    from leakage.measures import POINTWISE_MEASURES

    assert tuple(_POINTWISE_MEASURES) == tuple(POINTWISE_MEASURES)


def test_groups_are_listed_in_the_registration_order():
    text = _help()
    order = ["reproduce", "estimate", "measure", "pointwise", "rd", "cipher", "hypothesis"]
    order += ["release", "qif", "ldp"]
    where = [text.index(f"│ {name} ") for name in order]
    assert where == sorted(where)


# --------------------------------------------------------------------------- help output


def _help(*args: str) -> str:
    """``--help`` 200 columns wide: each paragraph of a docstring fits on one line."""
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_flags_show_no_bool_type():
    for args in (("estimate",), ("release", "apply"), ()):
        assert "<bool>" not in _help(*args)


def test_help_keeps_brackets_and_joins_paragraph_lines():
    assert "d[x, x^]" in _help("rd", "value")
    assert "G[w, x]" in _help()
    # the second paragraph of `estimate`'s docstring is wrapped by Rich, not at its source
    # line breaks: 'unless' and '--base)' were on two lines
    assert "(units: bits unless --base)" in _help("estimate")


def test_chi2_leakage_is_labelled_sqrt_chi2():
    result = CliRunner().invoke(
        app,
        [
            *("measure", "pointwise-leakage", "--p", "0.5,0.5"),
            *("--channel", "0.9,0.1;0.2,0.8", "--measure", "chi2"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "sqrt(chi^2) leakage" in result.stdout
    assert "chi2 leakage" not in result.stdout
