"""The ``leakage`` command line: parse → call the library → print with units.

Thin by design: every number is computed by the library; this module only turns
options into arrays (:func:`leakage.io.load_array_arg`), calls one function and prints
the result as a small table or, with ``--json``, as one JSON object on stdout.

Any :class:`~leakage.LeakageError` raised by a command (bad input, failed solve) is
printed as a single line ``error: <message>`` on stderr and the exit code is 1; usage
errors (unknown option, missing value) keep the exit code 2. This is handled once, by
the root group (:class:`_LeakageGroup`), so command groups added later with
``app.add_typer(...)`` or ``app.command(...)`` get the same behaviour for free.
"""

from __future__ import annotations

import json
import math
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from . import __version__
from .errors import InvalidParameterError, LeakageError
from .io import load_array_arg, parse_number
from .measures import (
    POINTWISE_MEASURES,
    channel_capacity,
    chi2_divergence,
    entropy,
    kl_divergence,
    maximal_leakage,
    mutual_information,
    pointwise_leakage,
    renyi_divergence,
    sibson_mutual_information,
    total_variation,
)
from .results import to_jsonable
from .units import unit_name

__all__ = ["app", "main", "measure_app"]

UNITLESS = "unitless"


# --------------------------------------------------------------------------- error handling


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Print warnings (e.g. ConvergenceWarning) as one ``warning:`` line, without a path."""
    typer.echo(f"warning: {_one_line(str(message))}", err=True)


class _LeakageGroup(TyperGroup):
    """Root group: turns a LeakageError from any subcommand into ``error: ...`` and exit 1."""

    def invoke(self, ctx: Any) -> Any:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            try:
                return super().invoke(ctx)
            except LeakageError as exc:
                typer.echo(f"error: {_one_line(str(exc))}", err=True)
                raise typer.Exit(code=1) from None


# --------------------------------------------------------------------------- the apps

app = typer.Typer(
    name="leakage",
    cls=_LeakageGroup,
    no_args_is_help=True,
    add_completion=False,
)

measure_app = typer.Typer(
    no_args_is_help=True,
    help=(
        "Information measures of distributions and channels. Arrays are given inline "
        "('0.3,0.7'; rows separated by ';': '0.9,0.1;0.2,0.8') or as a .json/.csv/.txt/.npy "
        "file. A channel is a row-stochastic matrix of P(y|x), one row per input x."
    ),
)
app.add_typer(measure_app, name="measure")


def _version_callback(value: bool) -> None:
    if value:
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
) -> None:
    """Information leakage: measure it, design mechanisms against it, reproduce the papers."""


def main() -> None:
    """Entry point of the ``leakage`` console script."""
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


def _pmf(value: str, option: str = "--p") -> np.ndarray:
    return load_array_arg(value, name=option, kind="pmf")


def _channel(value: str) -> np.ndarray:
    return load_array_arg(value, name="--channel", kind="channel")


def _number(text: str, option: str) -> float:
    """A scalar option: a number, a fraction, ``inf``, or ``e`` (for ``--base``)."""
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


def _command(name: str, alias: str | None = None) -> Callable[[Callable[..., None]], Callable]:
    """Register a function as ``leakage measure <name>`` plus a hidden short alias."""

    def register(func: Callable[..., None]) -> Callable[..., None]:
        measure_app.command(name)(func)
        if alias is not None:
            measure_app.command(alias, hidden=True)(func)
        return func

    return register


# --------------------------------------------------------------------------- measure commands


@_command("entropy")
def _entropy(p: POpt, base: BaseOpt = "2", json_out: JsonOpt = False) -> None:
    """Shannon entropy H(p)."""
    b = _number(base, "--base")
    _report("entropy", "H(p)", entropy(_pmf(p), base=b), base=b, json_out=json_out)


@_command("kl-divergence", "kl")
def _kl(p: POpt, q: QOpt, base: BaseOpt = "2", json_out: JsonOpt = False) -> None:
    """Relative entropy (Kullback-Leibler divergence) D(p||q)."""
    b = _number(base, "--base")
    value = kl_divergence(_pmf(p), _pmf(q, "--q"), base=b)
    _report("kl_divergence", "D(p||q)", value, base=b, json_out=json_out)


@_command("renyi-divergence", "renyi")
def _renyi(
    p: POpt, q: QOpt, alpha: AlphaOpt, base: BaseOpt = "2", json_out: JsonOpt = False
) -> None:
    """Renyi divergence D_alpha(p||q) of order alpha in (0, inf]."""
    b, a = _number(base, "--base"), _number(alpha, "--alpha")
    value = renyi_divergence(_pmf(p), _pmf(q, "--q"), a, base=b)
    label = f"D_alpha(p||q), alpha={_fmt(a)}"
    _report("renyi_divergence", label, value, base=b, json_out=json_out, alpha=a)


def _unitless_divergence(
    name: str, alias: str, func: Callable[..., float], label: str, summary: str
) -> None:
    """Register a unitless divergence of two distributions (no --base)."""

    def command(p: POpt, q: QOpt, json_out: JsonOpt = False) -> None:
        value = func(_pmf(p), _pmf(q, "--q"))
        _report(func.__name__, label, value, base=None, json_out=json_out)

    command.__doc__ = summary
    _command(name, alias)(command)


_unitless_divergence(
    "chi2-divergence",
    "chi2",
    chi2_divergence,
    "chi^2(p||q)",
    "Pearson chi^2 divergence (unitless).",
)
_unitless_divergence(
    "total-variation",
    "tv",
    total_variation,
    "TV(p, q)",
    "Total variation distance ||p - q||_1 / 2 (unitless).",
)


def _channel_measure(
    name: str, alias: str, func: Callable[..., float], label: str, summary: str
) -> None:
    """Register a leakage measure of an input distribution and a channel (with --base)."""

    def command(
        p: PxOpt, channel: ChannelOpt, base: BaseOpt = "2", json_out: JsonOpt = False
    ) -> None:
        b = _number(base, "--base")
        value = func(_pmf(p), _channel(channel), base=b)
        _report(func.__name__, label, value, base=b, json_out=json_out)

    command.__doc__ = summary
    _command(name, alias)(command)


_channel_measure(
    "mutual-information",
    "mi",
    mutual_information,
    "I(X;Y)",
    "Mutual information I(X;Y) of input p through the channel.",
)
_channel_measure(
    "maximal-leakage",
    "maxl",
    maximal_leakage,
    "L(X->Y)",
    "Maximal leakage L(X->Y) = log sum_y max_{x: p(x)>0} P(y|x).",
)


@_command("sibson-mutual-information", "sibson")
def _sibson(
    p: PxOpt, channel: ChannelOpt, alpha: AlphaOpt, base: BaseOpt = "2", json_out: JsonOpt = False
) -> None:
    """Sibson's alpha-mutual information I_alpha(X;Y); alpha=inf gives maximal leakage."""
    b, a = _number(base, "--base"), _number(alpha, "--alpha")
    value = sibson_mutual_information(_pmf(p), _channel(channel), a, base=b)
    label = f"I_alpha(X;Y), alpha={_fmt(a)}"
    _report("sibson_mutual_information", label, value, base=b, json_out=json_out, alpha=a)


@_command("pointwise-leakage", "pointwise")
def _pointwise(
    p: PxOpt,
    channel: ChannelOpt,
    measure: Annotated[
        str,
        typer.Option(
            "--measure",
            metavar="|".join(POINTWISE_MEASURES),
            help="chi2 (sqrt of chi^2), l1 (l1 norm), kl or max_lift (log of max lift).",
        ),
    ],
    base: BaseOpt = "2",
    json_out: JsonOpt = False,
) -> None:
    """Point-wise leakage of every output letter u: distance of P(X|U=u) from P(X)."""
    b = _number(base, "--base")
    values = pointwise_leakage(_pmf(p), _channel(channel), measure=measure, base=b)
    unit_base = b if measure in ("kl", "max_lift") else None
    unit = _unit(unit_base)
    payload: dict[str, Any] = {
        "measure": "pointwise_leakage",
        "pointwise_measure": measure,
        "value": values,
        "unit": unit,
    }
    if unit_base is not None:
        payload["base"] = b
    rows = [
        (str(u), "never output" if math.isnan(v) else _fmt(v), unit) for u, v in enumerate(values)
    ]
    _emit(payload, ("output u", f"{measure} leakage", "unit"), rows, json_out)


@_command("channel-capacity", "capacity")
def _capacity(
    channel: ChannelOpt,
    base: BaseOpt = "2",
    tol: Annotated[
        str, typer.Option("--tol", metavar="TOL", help="Certified gap upper - lower to reach.")
    ] = "1e-12",
    max_iter: Annotated[
        int, typer.Option("--max-iter", min=1, help="Iteration cap (a warning if reached).")
    ] = 100_000,
    json_out: JsonOpt = False,
) -> None:
    """Channel capacity max_p I(X;Y), with certified lower and upper bounds."""
    b = _number(base, "--base")
    r = channel_capacity(_channel(channel), base=b, tol=_number(tol, "--tol"), max_iter=max_iter)
    unit = _unit(b)
    payload = {"measure": "channel_capacity", **to_jsonable(r), "unit": unit}
    dist = "[" + ", ".join(_fmt(v) for v in r.input_distribution) + "]"
    rows = [
        ("capacity", _fmt(r.capacity), unit),
        ("lower", _fmt(r.lower), unit),
        ("upper", _fmt(r.upper), unit),
        ("gap", f"{r.gap:.3g}", unit),
        ("converged", str(r.converged), ""),
        ("iterations", str(r.n_iter), ""),
        ("input distribution", dist, ""),
    ]
    _emit(payload, ("quantity", "value", "unit"), rows, json_out)


# --------------------------------------------------------------------------- reproduce


@app.command("reproduce")
def _reproduce(
    ids: Annotated[
        list[str] | None,
        typer.Argument(metavar="[ID|all]...", help="Entries to run (default: all)."),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Output folder for CSV, PNG and report.md.")
    ] = Path("results"),
    list_only: Annotated[
        bool, typer.Option("--list", help="List the available entries and exit.")
    ] = False,
    plots: Annotated[bool, typer.Option("--plots/--no-plots", help="Draw PNG figures.")] = True,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 if any published number is not reproduced.")
    ] = False,
) -> None:
    """Recompute published figures and numbers; write PNG + CSV per entry and report.md.

    Every published number is set beside ours with the absolute difference and a
    verdict. Information quantities are in bits.
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from . import reproduce

    console = Console(file=sys.stdout, markup=False, highlight=False)
    if list_only:
        table = Table("id", "paper", "title", box=None, pad_edge=False, header_style="bold")
        for e in reproduce.available():
            table.add_row(e.id, e.paper.split(" — ")[0], e.title)
        console.print(table)
        return
    err = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        tasks: dict[str, Any] = {}

        def _progress(entry_id: str, stage: str) -> None:
            if stage == "start":
                tasks[entry_id] = progress.add_task(f"reproducing {entry_id}", total=1)
            else:
                progress.update(tasks[entry_id], completed=1)
                err.print(f"done {entry_id}", markup=False, highlight=False)

        reps = reproduce.run(ids or "all", out, plots=plots, progress=_progress)
    table = Table(
        "id", "reproduced", "not reproduced", box=None, pad_edge=False, header_style="bold"
    )
    bad = 0
    for r in reps:
        nbad = sum(not c.ok for c in r.comparisons)
        bad += nbad
        table.add_row(r.id, str(len(r.comparisons) - nbad), str(nbad))
    console.print(table)
    console.print(f"report: {out / 'report.md'}")
    if bad:
        typer.echo(f"warning: {bad} published number(s) not reproduced; see the report.", err=True)
        if strict:
            raise typer.Exit(code=1)
