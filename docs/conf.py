"""Sphinx configuration of the leakage documentation.

Build: ``make docs`` (or ``sphinx-build -W --keep-going -b html docs docs/_build/html``).
``LEAKAGE_DOCS_QUICK=1`` runs the heavier gallery examples at a reduced size.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS))  # _cli (sphinx-click) and _gallery (sphinx-gallery hooks)
os.environ.setdefault("MPLBACKEND", "Agg")

import leakage  # noqa: E402

project = "leakage"
author = "The leakage developers"
copyright = "The leakage developers"
release = leakage.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sphinx_click",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "auto_examples/*.ipynb"]
nitpicky = False
default_role = "math"

# -- API reference: autosummary + numpydoc ------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"  # numpydoc writes the types from the docstrings
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# -- Markdown pages (estimate_coverage.md, ERRATA.md) --------------------------------------
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3

# -- Gallery: every script in examples/ runs during the build ---------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"\.py$",  # run all of them, not only plot_*.py
    "within_subsection_order": "FileNameSortKey",
    # the examples save their figures to sys.argv[1] and close them (they are scripts a
    # user runs); _gallery gives each a fresh folder and shows the PNGs written there
    "reset_argv": "_gallery.reset_argv",
    "image_scrapers": ("_gallery.png_scraper",),
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
    "min_reported_time": 0,
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
}

# -- HTML ---------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"leakage {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"index": [], "getting_started": []}
html_static_path: list[str] = []


# -- Generated content --------------------------------------------------------------------
ERRATA = ROOT / "ERRATA.md"


def _errata_source(app, docname, source):
    """``errata``: the repository's ERRATA.md when the checkout has one."""
    if docname != "errata":
        return
    if ERRATA.is_file():
        source[0] = "```{include} ../ERRATA.md\n```\n"
    # otherwise the placeholder text of docs/errata.md stays


_LITERAL = re.compile(r"(``.+?``|:[\w:]+:`[^`]*`|`[^`]*`_{0,2})")


def _escape_bars(app, what, name, obj, options, lines):
    r"""Escape the ``|`` of ``|X|`` in docstring prose: reST reads it as a substitution.

    The docstrings write alphabet sizes as |X| in plain text (fine in ``help()``); here
    the bars outside literals, roles, math and code blocks become ``\|``.
    """
    skip_indent = None
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if skip_indent is not None:
            if not stripped or indent > skip_indent:
                continue
            skip_indent = None
        if stripped.startswith((".. math::", ".. code", ">>>", "...")) or line.endswith("::"):
            skip_indent = indent
            if not line.endswith("::") or stripped.startswith(".."):
                continue
        if i and ("|" not in line or stripped.startswith(("|", "+"))):
            continue
        if i == 0:  # autosummary cuts its summary at ". " even inside ``a .. b``
            line = re.sub(r"(``[^`]*?) \.\. ([^`]*?``)", r"\1 … \2", line)
        parts = _LITERAL.split(line)
        lines[i] = "".join(
            p if k % 2 else re.sub(r"(?<!\\)\|", r"\\|", p) for k, p in enumerate(parts)
        )


def _check_cli_pages(app):
    """Warn (an error under -W) when a command group of the CLI has no page in cli/."""
    import _cli
    from sphinx.util import logging

    log = logging.getLogger(__name__)
    for name in _cli.GROUPS:
        if not (DOCS / "cli" / f"{name}.rst").is_file():
            log.warning(f"the CLI command 'leakage {name}' has no page docs/cli/{name}.rst")


def _remove_gallery_outputs(app, exception):
    """The examples' own output folders (outside the source tree) are not needed after."""
    import shutil

    import _gallery

    shutil.rmtree(_gallery._ROOT, ignore_errors=True)


def setup(app):
    app.connect("build-finished", _remove_gallery_outputs)
    app.connect("autodoc-process-docstring", _escape_bars, priority=100)
    app.connect("source-read", _errata_source)
    app.connect("builder-inited", _check_cli_pages)
    # ERRATA.md is read through the errata page: rebuild that page when it changes
    if ERRATA.is_file():
        app.connect("env-get-outdated", lambda app, env, a, c, r: ["errata"])
