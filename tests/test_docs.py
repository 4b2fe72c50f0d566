"""The API reference (docs/api/*.rst) lists every public name; no build needed."""

import importlib
import re
from pathlib import Path

import pytest

API = Path(__file__).resolve().parents[1] / "docs" / "api"

#: public module -> the page of the API reference that must list its __all__
PAGES = {
    "leakage": "leakage.rst",
    "leakage.measures": "measures.rst",
    "leakage.ratedistortion": "ratedistortion.rst",
    "leakage.cipher": "cipher.rst",
    "leakage.pointwise": "pointwise.rst",
    "leakage.hypothesis": "hypothesis.rst",
    "leakage.release": "release.rst",
    "leakage.estimate": "estimate.rst",
    "leakage.qif": "qif.rst",
    "leakage.ldp": "ldp.rst",
    "leakage.io": "io.rst",
    "leakage.results": "results.rst",
    "leakage.errors": "errors.rst",
}

_ENTRY = re.compile(r"^ {3}~?([\w.]+)\s*$")  # a line of an autosummary table
_ROLE = re.compile(r":(?:mod|func|class|data|obj):`~?([\w.]+)`")
_DIRECTIVE = re.compile(r"^\.\. (?:data|auto\w+|py:\w+):: ([\w.]+)", re.M)


def _documented(text: str) -> set[str]:
    """Dotted names the page documents: autosummary entries, roles, directives."""
    names = set(_ROLE.findall(text)) | set(_DIRECTIVE.findall(text))
    in_table = False
    for line in text.splitlines():
        if line.startswith(".. autosummary::"):
            in_table = True
        elif in_table and line and not line.startswith(" "):
            in_table = False
        elif in_table and (m := _ENTRY.match(line)):
            names.add(m.group(1))
    return names


def _last(name: str) -> str:
    return name.rsplit(".", 1)[-1]


@pytest.mark.parametrize("module", sorted(PAGES))
def test_every_public_name_is_in_the_api_reference(module):
    mod = importlib.import_module(module)
    documented = {_last(n) for n in _documented((API / PAGES[module]).read_text())}
    missing = sorted(set(mod.__all__) - documented)
    assert not missing, f"{module}.__all__ names missing from docs/api/{PAGES[module]}: {missing}"


def test_api_index_lists_every_page():
    index = (API / "index.rst").read_text()
    for page in sorted({*PAGES.values(), "mechanism.rst"}):
        assert re.search(rf"^ {{3}}{Path(page).stem}$", index, re.M), page


def test_fully_qualified_entries_exist():
    """A dotted autosummary entry (``~leakage.results.Estimate``) names a real object."""
    for page in sorted(API.glob("*.rst")):
        for name in _documented(page.read_text()):
            if not name.startswith("leakage.") or name == "leakage":
                continue
            mod_name, _, attr = name.rpartition(".")
            try:
                importlib.import_module(name)
                continue
            except ImportError:
                pass
            assert hasattr(importlib.import_module(mod_name), attr), f"{page.name}: {name}"
