"""What every command module shares: the root app and its error handling, the option
types, parsing helpers (options -> arrays and numbers) and output helpers (tables, JSON,
spinners).

Nothing here imports NumPy or the library's numerical modules at import time: ``leakage
--version`` and ``--help`` only need the command signatures. Library code is imported
inside the functions that use it.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import math
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from ..errors import InvalidParameterError, LeakageError
from ..units import unit_name

if TYPE_CHECKING:
    import numpy as np

UNITLESS = "unitless"

#: Point-wise measures a mechanism can be designed for, and the leakage each budget bounds.
DESIGN_MEASURES = {"l1": "l1 leakage", "chi2": "sqrt(chi^2) leakage"}


def _leakage_label(measure: str) -> str:
    """The column label of a point-wise measure: chi2 bounds sqrt(chi^2), not chi^2."""
    return DESIGN_MEASURES.get(measure, f"{measure} leakage")


# --------------------------------------------------------------------------- error handling


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Print warnings (e.g. ConvergenceWarning) as one ``warning:`` line, without a path."""
    typer.echo(f"warning: {_one_line(str(message))}", err=True)


#: set by the root option --debug: errors keep their traceback
_DEBUG = False


def _os_error(exc: OSError) -> str:
    """One line for a file-system error: what failed, on which path, and what to do."""
    path = exc.filename2 or exc.filename  # a rename's destination is filename2
    what = exc.strerror or type(exc).__name__
    where = f" '{path}'" if path else ""
    hints = {
        IsADirectoryError: "give a file path, not a directory",
        NotADirectoryError: "a part of the path is a file, not a directory",
        PermissionError: "choose a path you may write (or read)",
        FileNotFoundError: "check the path",
    }
    hint = next((h for t, h in hints.items() if isinstance(exc, t)), "check the path")
    return f"{what}:{where} ({hint})"


def _tidy_help(command: Any) -> None:
    """Make ``--help`` of a command and of everything under it read as written.

    With typer's Rich help, a paragraph after the first keeps the line breaks of its
    docstring (so lines break mid-sentence), text in brackets such as ``d[x, x^]`` is taken
    for Rich markup and vanishes, and every flag shows a ``<bool>`` type. Here paragraphs
    are joined into single lines (Rich wraps them to the terminal), brackets are escaped,
    and flags (``--json``, ``--help``, ...) get an empty metavar.
    """
    from rich.markup import escape
    from typer._click import Context

    if command.help:
        paragraphs = inspect.cleandoc(command.help).split("\n\n")
        command.help = "\n\n".join(
            p if p.startswith("\b") else escape(p.replace("\n", " ")) for p in paragraphs
        )
    help_option = command.get_help_option(Context(command))  # created once, then cached
    for param in [*command.params, *([help_option] if help_option else [])]:
        if getattr(param, "help", None):
            param.help = escape(param.help)
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""  # typer shows the metavar instead of the type '<bool>'
    for sub in getattr(command, "commands", {}).values():
        _tidy_help(sub)


class _LeakageGroup(TyperGroup):
    """Root group: turns a LeakageError from any subcommand into ``error: ...`` and exit 1;
    file-system errors, exhausted memory and runaway recursion too (no traceback unless
    ``--debug``). When run, it first tidies the help of every command (:func:`_tidy_help`;
    not when built: ``docs/_cli.py`` documents the untouched tree)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        _tidy_help(self)
        return super().main(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            try:
                return super().invoke(ctx)
            except LeakageError as exc:
                msg = str(exc)
            except BrokenPipeError:  # the reader went away (e.g. '| head'): leave quietly
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                raise typer.Exit(code=1) from None
            except OSError as exc:
                if _DEBUG:
                    raise
                msg = _os_error(exc)
            except MemoryError as exc:
                if _DEBUG:
                    raise
                msg = f"out of memory ({exc or 'an allocation failed'}); a size is too large"
            except RecursionError:
                if _DEBUG:
                    raise
                msg = (
                    "a recursion limit was reached (an input nested too deeply, or a "
                    "problem too large); --debug shows where"
                )
            typer.echo(f"error: {_one_line(msg)}", err=True)
            raise typer.Exit(code=1) from None


# --------------------------------------------------------------------------- the apps

app = typer.Typer(
    name="leakage",
    cls=_LeakageGroup,
    no_args_is_help=True,
    add_completion=False,
)


def _version_callback(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"leakage {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option("--debug", help="Show the traceback of a file or memory error."),
    ] = False,
) -> None:
    """Information leakage: measure it, design mechanisms against it, reproduce the papers."""
    global _DEBUG
    _DEBUG = debug


def main() -> None:
    """Entry point of the ``leakage`` console script."""
    if sys.argv[1:] == ["--version"]:  # answered without building the command tree
        from .. import __version__

        typer.echo(f"leakage {__version__}")
        return
    app()


# --------------------------------------------------------------------------- shared options

_ARRAY_HELP = "inline ('0.3,0.7') or a .json/.csv/.txt/.npy file"
POpt = Annotated[str, typer.Option("--p", metavar="PMF", help=f"Distribution p: {_ARRAY_HELP}.")]
QOpt = Annotated[str, typer.Option("--q", metavar="PMF", help=f"Distribution q: {_ARRAY_HELP}.")]
PxOpt = Annotated[
    str, typer.Option("--p", metavar="PMF", help=f"Input distribution p_x: {_ARRAY_HELP}.")
]
ChannelOpt = Annotated[
    str,
    typer.Option(
        "--channel",
        metavar="MATRIX",
        help="Channel P(y|x), one row per input x: inline ('0.9,0.1;0.2,0.8') or a file.",
    ),
]
AlphaOpt = Annotated[
    str, typer.Option("--alpha", metavar="ALPHA", help="Order alpha in (0, inf]; 'inf' allowed.")
]
BaseOpt = Annotated[
    str,
    typer.Option(
        "--base", metavar="BASE", help="Logarithm base: 2 (bits), e (nats), 10 (hartleys)..."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")]


def load_array_arg(value: str, **kwargs: Any) -> np.ndarray:
    """:func:`leakage.io.load_array_arg`, imported when first called (NumPy)."""
    from ..io import load_array_arg

    return load_array_arg(value, **kwargs)


def to_jsonable(obj: Any) -> Any:
    """:func:`leakage.results.to_jsonable`, imported when first called (NumPy)."""
    from ..results import to_jsonable

    return to_jsonable(obj)


def _pmf(value: str, option: str = "--p") -> np.ndarray:
    return load_array_arg(value, name=option, kind="pmf")


def _channel(value: str) -> np.ndarray:
    return load_array_arg(value, name="--channel", kind="channel")


def _number(text: str, option: str) -> float:
    """A scalar option: a number, a fraction, ``inf``, or ``e`` (for ``--base``)."""
    from ..io import parse_number

    s = text.strip().lower()
    if s == "e":
        return math.e
    if s in ("∞", "infinity"):
        return math.inf
    try:
        return parse_number(s)
    except InvalidParameterError:
        raise InvalidParameterError(
            f"the '{option}' option must be a number (e.g. 2, 0.5, 1/2, inf, or e for the "
            f"natural base); got {text!r} instead."
        ) from None


# --------------------------------------------------------------------------- output


def _fmt(value: float) -> str:
    return f"{float(value):.10g}"


def _unit(base: float | None) -> str:
    return UNITLESS if base is None else unit_name(base)


def _emit(
    payload: dict[str, Any], columns: Sequence[str], rows: Sequence[Sequence[str]], json_out: bool
) -> None:
    """Print ``payload`` as one JSON object (``--json``) or ``rows`` as a small table."""
    if json_out:
        typer.echo(json.dumps(to_jsonable(payload)))
        return
    table = Table(*columns, box=None, pad_edge=False, header_style="bold")
    for row in rows:
        table.add_row(*row)
    Console(file=sys.stdout, markup=False, highlight=False).print(table)


def _report(
    measure: str, label: str, value: float, *, base: float | None, json_out: bool, **params: Any
) -> None:
    """Print one information value with its unit (``base=None``: unitless)."""
    unit = _unit(base)
    payload: dict[str, Any] = {"measure": measure, "value": value, "unit": unit}
    if base is not None:
        payload["base"] = base
    payload.update(params)
    _emit(payload, ("quantity", "value", "unit"), [(label, _fmt(value), unit)], json_out)


@contextlib.contextmanager
def _naming_options(options: dict[str, str]) -> Iterator[None]:
    """Add the option to a library message about an argument.

    ``the 'p_xy' argument must ...`` becomes ``the 'p_xy' argument (option --pxy) must ...``;
    the error keeps its class. Messages that name no mapped argument pass unchanged.
    """
    try:
        yield
    except LeakageError as exc:
        message = text = str(exc)
        for argument, option in options.items():
            if argument.endswith("()"):  # advice naming a function reached by an option
                head, sep, rest = text.partition(": ")  # not the "<function>:" prefix
                text = head + sep + rest.replace(argument[:-2], option) if sep else text
                continue
            text = text.replace(
                f"the '{argument}' argument", f"the '{argument}' argument (option {option})"
            )
            text = text.replace(f"{argument}='", f"{option} '")  # "pass unknown='drop'"
        if text == message:
            raise
        raise type(exc)(text) from None


@contextlib.contextmanager
def _spinner(description: str) -> Iterator[None]:
    """A transient spinner with the elapsed time on stderr, shown only on a terminal."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    err = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        progress.add_task(description, total=None)
        yield


def _print_unwrapped(*items: Table | str) -> None:
    """Print tables and lines on stdout at their natural width (never split a number).

    Rich fits tables to the terminal (80 columns when stdout is not one) by wrapping or
    truncating cells; here the console is widened to the widest table instead.
    """
    from rich.measure import Measurement

    console = Console(file=sys.stdout, markup=False, highlight=False)
    wide = console.options.update_width(10**4)
    need = max(
        (Measurement.get(console, wide, t).maximum for t in items if isinstance(t, Table)),
        default=0,
    )
    if need > console.width:
        console = Console(file=sys.stdout, markup=False, highlight=False, width=need)
    for item in items:
        console.print(item, soft_wrap=isinstance(item, str))
