"""The README stays true: every ```python block runs, every `leakage ...` line parses.

Each Python block runs on its own (a fresh namespace, in a temporary directory), so each
must carry its own imports; a block that defines ``test_*`` functions has them called. The
command lines of the "Command line" section are resolved against the real CLI: the
subcommand path must exist and every option the line uses must be one of that command's
options. ``leakage --version`` and ``leakage reproduce --list`` are cheap and are run.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
TEXT = README.read_text(encoding="utf-8")

PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", TEXT, flags=re.S)
#: blocks that take more than a few seconds (certified optimizations, bootstrap audits)
SLOW = ("optimal_mechanism", "rl.audit", "leakage_region", "optimal_l1")
#: blocks that need a package outside the core dependencies
NEEDS = {"statsmodels": "statsmodels", "hypothesis import": "hypothesis", "rl.": "pyarrow"}


def _section(title: str) -> str:
    start = TEXT.index(f"## {title}\n")
    end = TEXT.find("\n## ", start + 1)
    return TEXT[start : end if end >= 0 else None]


def _cli_lines() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", _section("Command line"), flags=re.S)
    lines = [ln.strip() for b in blocks for ln in b.splitlines()]
    return [ln for ln in lines if ln.startswith("leakage ")]


CLI_LINES = _cli_lines()


def _block_param(i: int, code: str):
    marks = []
    if any(s in code for s in SLOW):
        marks.append(pytest.mark.slow)
    return pytest.param(code, id=f"block{i}", marks=marks)


def test_readme_has_snippets_and_commands():
    assert len(PYTHON_BLOCKS) >= 6 and len(CLI_LINES) >= 30


@pytest.mark.parametrize("code", [_block_param(i, c) for i, c in enumerate(PYTHON_BLOCKS)])
def test_python_block_runs(code, tmp_path, monkeypatch):
    for needle, module in NEEDS.items():
        if needle in code and importlib.util.find_spec(module) is None:
            pytest.skip(f"needs {module}")
    monkeypatch.chdir(tmp_path)  # blocks may write files (released.csv, ...)
    namespace: dict = {"__name__": "readme"}
    exec(compile(code, str(README), "exec"), namespace)
    for name, fn in list(namespace.items()):
        if name.startswith("test_") and callable(fn):
            fn()  # e.g. the property test: hypothesis runs it on generated examples


def _root():
    typer = pytest.importorskip("typer")
    from leakage.cli import app

    return typer.main.get_command(app)


def _is_group(cmd) -> bool:
    # duck-typed: typer may bundle its own copy of click
    return hasattr(cmd, "get_command") and hasattr(cmd, "list_commands")


def _resolve(tokens: list[str]):
    """The click command a line names, and the tokens after its name."""
    cmd = _root()
    ctx = cmd.context_class(cmd, info_name="leakage")
    rest = tokens[1:]
    while _is_group(cmd) and rest and not rest[0].startswith("-"):
        sub = cmd.get_command(ctx, rest[0])
        assert sub is not None, f"no command {rest[0]!r} under {ctx.command_path!r}"
        ctx = sub.context_class(sub, info_name=rest[0], parent=ctx)
        cmd, rest = sub, rest[1:]
    return cmd, rest


@pytest.mark.parametrize("line", CLI_LINES)
def test_cli_line_parses(line):
    tokens = shlex.split(line, comments=True)
    cmd, rest = _resolve(tokens)
    known = set()
    for param in cmd.params:
        if getattr(param, "param_type_name", "") == "option":
            known.update(param.opts)
            known.update(param.secondary_opts)
    if _is_group(cmd):
        known.update({"--version", "--help", "--debug"})
    used = [t.split("=", 1)[0] for t in rest if re.match(r"--?[A-Za-z]", t)]
    unknown = [t for t in used if t not in known]
    assert not unknown, f"{line!r}: {unknown} are not options of {cmd.name!r} ({sorted(known)})"


@pytest.mark.parametrize("args", [["--version"], ["reproduce", "--list"]])
def test_cheap_cli_lines_run(args):
    from typer.testing import CliRunner

    from leakage.cli import app

    assert f"leakage {' '.join(args)}" in CLI_LINES or args == ["reproduce", "--list"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    if args == ["reproduce", "--list"]:
        assert "000-intro" in result.output
