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

import contextlib
import inspect
import json
import math
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from . import __version__
from .errors import DesignWarning, InvalidParameterError, LeakageError
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
from .mechanism import Mechanism
from .pointwise import design_chi2, design_l1, optimal_l1
from .results import PointwiseDesign, to_jsonable
from .units import unit_name

__all__ = [
    "app",
    "cipher_app",
    "hypothesis_app",
    "main",
    "measure_app",
    "pointwise_app",
    "rd_app",
    "release_app",
]

UNITLESS = "unitless"


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


class _LeakageGroup(TyperGroup):
    """Root group: turns a LeakageError from any subcommand into ``error: ...`` and exit 1;
    file-system errors, exhausted memory and runaway recursion too (no traceback unless
    ``--debug``)."""

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

measure_app = typer.Typer(
    no_args_is_help=True,
    help=(
        "Information measures of distributions and channels. Arrays are given inline "
        "('0.3,0.7'; rows separated by ';': '0.9,0.1;0.2,0.8') or as a .json/.csv/.txt/.npy "
        "file. A channel is a row-stochastic matrix of P(y|x), one row per input x."
    ),
)
app.add_typer(measure_app, name="measure")

pointwise_app = typer.Typer(
    no_args_is_help=True,
    help=(
        "Paper 001: design a release mechanism P(U|Y) for useful data Y correlated with "
        "private data X, under one point-wise leakage budget per released letter u."
    ),
)
app.add_typer(pointwise_app, name="pointwise")

rd_app = typer.Typer(
    no_args_is_help=True,
    help=(
        "Rate-distortion function R(D) = min I(X;X^) s.t. E d(X,X^) <= D (eq. (14) of "
        "paper 000), certified: every value comes with lower and upper bounds."
    ),
)
app.add_typer(rd_app, name="rd")

cipher_app = typer.Typer(
    no_args_is_help=True,
    help=(
        "Paper 000: the successive-refinement Shannon cipher under maximal leakage: the "
        "asymptotic leakage regions (Theorems 1 and 3) and the key-rate limits of "
        "Corollaries 2 and 4. Rates, key rates and alpha in units of log base (bits)."
    ),
)
app.add_typer(cipher_app, name="cipher")

hypothesis_app = typer.Typer(
    no_args_is_help=True,
    help=(
        "Paper 002: local privacy mechanisms W for hypothesis testing: maximize the "
        "Chernoff-Stein exponent min_k D(p_k W || p_1 W) subject to I(p_k, W) <= eps_k "
        "(units of log base, bits by default)."
    ),
)
app.add_typer(hypothesis_app, name="hypothesis")

release_app = typer.Typer(
    no_args_is_help=True,
    help=(
        "Data release: fit the joint of a private and a useful column of a table (CSV or "
        "Parquet), design P(U|Y) under per-letter budgets (paper 001), apply it to every "
        "record (streamed, deterministic per record, atomic), and audit the result."
    ),
)
app.add_typer(release_app, name="release")


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
    values = pointwise_leakage(_pmf(p), _channel(channel), measure=measure, base=b).filled(np.nan)
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


# --------------------------------------------------------------------------- pointwise

#: Point-wise measures a mechanism can be designed for, and the leakage each budget bounds.
DESIGN_MEASURES = {"l1": "l1 leakage", "chi2": "sqrt(chi^2) leakage"}


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


#: library arguments of leakage.release and the options that set them
_RELEASE_OPTIONS = {
    "unknown": "--unknown",
    "missing": "--missing",
    "min_count": "--min-count",
    "bins": "--bins",
    "prior": "--prior",
    "eps": "--eps",
    "method": "--method",
    "source": "--data",
    "table": "--data",
    "out": "--out",
    "seed": "--seed",
    "column": "--column",
    "bootstrap": "--bootstrap",
    "level": "--level",
    "quantile": "--quantile",
    "scheduler": "--scheduler",
    "batch_size": "--batch-size",
    "optimal_l1()": "--method l1-exact",
}


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


def _print_design(design: PointwiseDesign, unit: str, out: Path | None) -> None:
    """The mechanism, the per-letter table and the summary, as three small tables."""
    n_y, n_u = design.mechanism.shape
    mechanism = Table(
        "y", *(f"u={u}" for u in range(n_u)), box=None, pad_edge=False, header_style="bold"
    )
    for y in range(n_y):
        mechanism.add_row(str(y), *(_fmt(v) for v in design.mechanism[y]))
    label = DESIGN_MEASURES[design.measure]
    letters = Table(
        "u", "P_U(u)", label, "budget", "unit", box=None, pad_edge=False, header_style="bold"
    )
    for u in range(n_u):
        leak = design.leakages[u]
        shown = "never released" if math.isnan(leak) else _fmt(leak)
        letters.add_row(str(u), _fmt(design.p_u[u]), shown, _fmt(design.budgets[u]), UNITLESS)
    approx = design.utility_approx
    summary = Table("quantity", "value", "unit", box=None, pad_edge=False, header_style="bold")
    summary.add_row("I(U;Y), exact", _fmt(design.utility), unit)
    label = "I(U;Y), approximate (what the method optimized)"
    if math.isnan(approx):
        summary.add_row(label, "none (exact method)", "")
    else:
        summary.add_row(label, _fmt(approx), unit)
    lines: list[Table | str] = [
        "mechanism P(u|y): one row per y, one column per released letter u",
        mechanism,
        "",
        letters,
        "",
        summary,
        f"method: {design.method}",
    ]
    if out is not None:
        lines.append(f"mechanism written to {out}")
    _print_unwrapped(*lines)


@pointwise_app.command("design")
def _pointwise_design(
    pxy: Annotated[
        str,
        typer.Option(
            "--pxy",
            metavar="JOINT",
            help=(
                "Joint P_XY, one row per private letter x and one column per useful letter y: "
                "inline ('0.15,0.2;0.35,0.3') or a .json/.csv/.txt/.npy file."
            ),
        ),
    ],
    eps: Annotated[
        str,
        typer.Option(
            "--eps",
            metavar="BUDGETS",
            help="One leakage budget >= 0 per released letter u, any order: inline "
            "('0.01,0.01,0.01,0') or a file. 0 means perfect privacy for that letter.",
        ),
    ],
    measure: Annotated[
        str,
        typer.Option(
            "--measure",
            metavar="l1|chi2",
            help="l1: ||P_X|u - P_X||_1 <= eps_u (extreme-point LP, Sections III-B/IV); "
            "chi2: sqrt(chi^2(P_X|u || P_X)) <= eps_u (closed form, Section III-A; needs "
            "a square invertible P_X|Y).",
        ),
    ],
    exact: Annotated[
        bool,
        typer.Option(
            "--exact",
            help="With --measure l1: the exact global optimum by vertex enumeration (small "
            "alphabets; can take tens of seconds) instead of the LP method.",
        ),
    ] = False,
    base: BaseOpt = "2",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="FILE",
            help="Save the mechanism with its provenance as JSON (atomic write); "
            "read it back with leakage.Mechanism.load.",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Design P(U|Y) maximizing I(U;Y) under a point-wise leakage budget per letter u.

    Prints P(u|y), P_U, each letter's exact leakage and budget, and the exact I(U;Y).
    """
    if measure not in DESIGN_MEASURES:
        raise InvalidParameterError(
            f"pointwise design: the '--measure' option must be one of "
            f"{', '.join(map(repr, DESIGN_MEASURES))}; got {measure!r} instead."
        )
    if exact and measure != "l1":
        raise InvalidParameterError(
            f"pointwise design: the '--exact' option needs '--measure l1' (the exact optimum "
            f"is computed for l1 budgets only); got '--measure {measure}' instead. Drop "
            "--exact for the chi2 closed form, or use --measure l1 --exact."
        )
    b = _number(base, "--base")
    p_xy = load_array_arg(pxy, name="--pxy", kind="joint")
    budgets = load_array_arg(eps, name="--eps")
    design_func = optimal_l1 if exact else design_l1 if measure == "l1" else design_chi2
    fallback = ""
    with (
        _naming_options(
            {"p_xy": "--pxy", "eps": "--eps", "base": "--base", "optimal_l1()": "--exact"}
        ),
        _spinner(f"{design_func.__name__}: designing the mechanism"),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore", DesignWarning)  # handled below
        design = design_func(p_xy, budgets, base=b)
        if design_func is design_l1 and budgets.max() > 0:
            # the LP against the exact optimum where its enumeration is small (a few
            # thousand face assignments): a constant LP design is replaced by it, a
            # design well below it is flagged
            try:
                best = optimal_l1(p_xy, budgets, base=b, max_assignments=20_000)
            except InvalidParameterError:
                best = None
            if best is None and design.utility <= 1e-12:
                fallback = (
                    "warning: the LP design is constant (I(U;Y) = 0) and the instance is "
                    "too large for a quick --exact; the optimum may be larger."
                )
            elif best is not None and design.utility <= 1e-12 < best.utility:
                design = best
                fallback = (
                    "note: the LP design was constant (I(U;Y) = 0); the exact optimum "
                    "(as with --exact) is shown instead."
                )
            elif best is not None and best.utility > design.utility * (1 + 1e-6) + 1e-12:
                fallback = (
                    f"warning: the LP design reaches {design.utility / best.utility:.4%} of "
                    f"the optimum I(U;Y) = {_fmt(best.utility)} {_unit(b)}; --exact gives it."
                )
    if out is not None:
        try:
            Mechanism.from_design(design).save(out)
        except OSError as exc:
            raise InvalidParameterError(
                f"pointwise design: the '--out' option must name a writable file; cannot "
                f"write '{out}' ({exc.strerror or exc})."
            ) from None
    unit = _unit(b)
    if json_out:
        payload = {**to_jsonable(design), "unit": unit, "leakage_unit": UNITLESS}
        if out is not None:
            payload["mechanism_file"] = str(out)
            typer.echo(f"mechanism written to {out}", err=True)
        typer.echo(json.dumps(payload))
        if fallback:
            typer.echo(fallback, err=True)
        return
    _print_design(design, unit, out)
    if fallback:
        typer.echo(fallback, err=True)


# --------------------------------------------------------------------------- rd

DistortionOpt = Annotated[
    str,
    typer.Option(
        "--distortion",
        "-d",
        metavar="NAME|MATRIX",
        help="hamming, abs or squared (on the letters 0..n-1), or a matrix d[x, x^] "
        "inline ('0,1;1,0') or from a file; any number of columns.",
    ),
]
TolOpt = Annotated[
    str, typer.Option("--tol", metavar="TOL", help="Certified gap upper - lower, in the unit.")
]


def _distortion(value: str) -> np.ndarray | str:
    from .ratedistortion import DISTORTIONS

    if value in DISTORTIONS:
        return value
    if value.replace("_", "").replace("-", "").isalpha() and not Path(value).exists():
        raise InvalidParameterError(
            f"the '--distortion' option must name a distortion ({', '.join(DISTORTIONS)}) "
            f"or give a matrix (inline or a file); got {value!r} instead."
        )
    return load_array_arg(value, name="--distortion")


@rd_app.command("value")
def _rd_value(
    p: PxOpt,
    distortion: DistortionOpt,
    D: Annotated[str, typer.Option("--D", metavar="D", help="Target expected distortion.")],
    base: BaseOpt = "2",
    tol: TolOpt = "1e-9",
    json_out: JsonOpt = False,
) -> None:
    """R(D) at one distortion, with its certified bounds and the test channel."""
    from .ratedistortion import rate_distortion

    b = _number(base, "--base")
    r = rate_distortion(
        _pmf(p), _distortion(distortion), _number(D, "--D"), base=b, tol=_number(tol, "--tol")
    )
    unit = _unit(b)
    if json_out:
        typer.echo(json.dumps({**to_jsonable(r), "unit": unit}))
        return
    rows = [
        ("R(D)", _fmt(r.rate), unit),
        ("lower bound", _fmt(r.lower), unit),
        ("upper bound", _fmt(r.upper), unit),
        ("certified gap", f"{r.gap:.3g}", unit),
        ("distortion of the test channel", _fmt(r.distortion), "distortion"),
        ("slope dR/dD", _fmt(r.slope), f"{unit} per unit distortion"),
    ]
    table = Table("quantity", "value", "unit", box=None, pad_edge=False, header_style="bold")
    for row in rows:
        table.add_row(*row)
    channel = Table(
        "x",
        *(f"x^={j}" for j in range(r.test_channel.shape[1])),
        box=None,
        pad_edge=False,
        header_style="bold",
    )
    for x, row in enumerate(r.test_channel):
        channel.add_row(str(x), *(_fmt(v) for v in row))
    _print_unwrapped(table, "", "test channel Q(x^|x):", channel)


@rd_app.command("curve")
def _rd_curve(
    p: PxOpt,
    distortion: DistortionOpt,
    points: Annotated[
        int,
        typer.Option(
            "--points",
            "-n",
            min=2,
            help="Evenly spaced D from D_min to D_max (at most 100,000).",
        ),
    ] = 101,
    d_values: Annotated[
        str | None,
        typer.Option(
            "--D-values", metavar="LIST", help="Explicit distortions (overrides --points)."
        ),
    ] = None,
    base: BaseOpt = "2",
    tol: TolOpt = "1e-9",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", metavar="FILE.csv", help="Write the curve as CSV.")
    ] = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", metavar="FILE.png", help="Draw the curve (PNG).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """R(D) over a range of distortions, every point certified (warm-started)."""
    from .ratedistortion import MAX_CURVE_POINTS, distortion_range, rate_distortion_curve

    b = _number(base, "--base")
    pv, dist = _pmf(p), _distortion(distortion)
    if d_values is None:
        if points > MAX_CURVE_POINTS:  # before linspace allocates them
            raise InvalidParameterError(
                f"rd curve: the '--points' option asks for {points:,} points, above the limit "
                f"of {MAX_CURVE_POINTS:,}; give fewer, or explicit --D-values."
            )
        Ds = np.linspace(*distortion_range(pv, dist), points)
    else:
        Ds = load_array_arg(d_values, name="--D-values")
    with _spinner("rate-distortion curve"):
        c = rate_distortion_curve(pv, dist, Ds, base=b, tol=_number(tol, "--tol"))
    unit = _unit(b)
    if out is not None:
        from .io import atomic_write

        with atomic_write(out, newline="") as f:
            f.write(f"D,rate_{unit},lower_{unit},upper_{unit},slope\n")
            for row in zip(c.D, c.rate, c.lower, c.upper, c.slope, strict=True):
                f.write(",".join(repr(float(v)) for v in row) + "\n")
    if plot is not None:
        from .plotting import plot_figure
        from .reproduce import Figure, Series

        plot_figure(
            Figure(
                name="rd",
                title=f"Rate-distortion function (D_min={c.D_min:.4g}, D_max={c.D_max:.4g})",
                xlabel="D (expected distortion)",
                ylabel=f"R(D) [{unit}]",
                series=(Series("R(D)", c.D, c.rate, "line"),),
            ),
            plot,
        )
    if json_out:
        typer.echo(json.dumps({**to_jsonable(c), "unit": unit}))
        return
    table = Table(
        "D", f"R(D) [{unit}]", "gap", "slope", box=None, pad_edge=False, header_style="bold"
    )
    for row in zip(c.D, c.rate, c.gap, c.slope, strict=True):
        table.add_row(_fmt(row[0]), _fmt(row[1]), f"{row[2]:.2g}", _fmt(row[3]))
    lines: list[Table | str] = [table, f"D_min = {_fmt(c.D_min)}, D_max = {_fmt(c.D_max)}"]
    if out is not None:
        lines.append(f"curve written to {out}")
    if plot is not None:
        lines.append(f"plot written to {plot}")
    _print_unwrapped(*lines)


# --------------------------------------------------------------------------- cipher

R1Opt = Annotated[
    str,
    typer.Option(
        "--R1",
        metavar="RATE|none|tight",
        help="First message rate: caps I(X;X^1) in R(Q,R1,D1,D2) (eq. (15)); 'none': no "
        "cap; 'tight': R1 = R(Q,D1) at each source type Q.",
    ),
]
D1Opt = Annotated[str, typer.Option("--D1", metavar="D1", help="First-layer distortion level.")]
D2Opt = Annotated[str, typer.Option("--D2", metavar="D2", help="Second-layer distortion level.")]
D1dOpt = Annotated[
    str, typer.Option("--d1", metavar="NAME|MATRIX", help="First-layer distortion matrix.")
]
D2dOpt = Annotated[
    str, typer.Option("--d2", metavar="NAME|MATRIX", help="Second-layer distortion matrix.")
]
CipherAlphaOpt = Annotated[
    str | None,
    typer.Option(
        "--alpha",
        metavar="ALPHA",
        help="JEP exponent (Theorem 1); omit for the expected-distortion criterion "
        "(Theorem 3). Comma-separated values give a curve.",
    ),
]


def _R1(value: str) -> float | str | None:
    v = value.strip().lower()
    if v == "none":
        return None
    if v == "tight":
        return "tight"
    return _number(value, "--R1")


def _bound(x: float) -> str:
    return "uncertified" if not math.isfinite(x) else _fmt(x)


@cipher_app.command("region")
def _cipher_region(
    p: PxOpt,
    d1: D1dOpt,
    d2: D2dOpt,
    D1: D1Opt,
    D2: D2Opt,
    r1: Annotated[str, typer.Option("--r1", metavar="RATE", help="Key rate of K1.")],
    r2: Annotated[str, typer.Option("--r2", metavar="RATE", help="Key rate of K2.")],
    R1: R1Opt = "none",
    R2: Annotated[
        str | None, typer.Option("--R2", metavar="RATE", help="Second message rate (checked).")
    ] = None,
    alpha: CipherAlphaOpt = None,
    base: BaseOpt = "2",
    tol: TolOpt = "1e-6",
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", metavar="FILE.csv", help="Write the values as CSV."),
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", metavar="FILE.png", help="Draw L1, L2, L2out against alpha."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Corner points of the inner and outer leakage regions: Λ1, Λ2, Λ2out (eqs. (16)-(18))
    with --alpha, Ω1, Ω2, Ω2out (eqs. (32)-(34)) without; each a certified global maximum
    over the KL ball D(Q||P) <= alpha, with its bound."""
    from .cipher import leakage_region, leakage_region_curve

    b = _number(base, "--base")
    kw = dict(
        D1=_number(D1, "--D1"),
        D2=_number(D2, "--D2"),
        R1=_R1(R1),
        R2=None if R2 is None else _number(R2, "--R2"),
        r1=_number(r1, "--r1"),
        r2=_number(r2, "--r2"),
        base=b,
        tol=_number(tol, "--tol"),
    )
    pv, dd1, dd2 = _pmf(p), _distortion(d1), _distortion(d2)
    if alpha is None:
        regs = [leakage_region(pv, dd1, dd2, alpha=None, **kw)]
    else:
        alphas = load_array_arg(alpha, name="--alpha")
        alphas = np.atleast_1d(alphas).astype(float)
        with _spinner(f"leakage regions at {alphas.size} alpha value(s)"):
            regs = leakage_region_curve(pv, dd1, dd2, alphas=alphas, **kw)
    unit = _unit(b)
    names = ("Λ1", "Λ2", "Λ2out") if alpha is not None else ("Ω1", "Ω2", "Ω2out")
    if out is not None:
        from .io import atomic_write

        with atomic_write(out, newline="") as f:
            f.write(
                f"alpha,L1_{unit},L2_inner_{unit},L2_outer_{unit},L1_bound,L2_inner_bound,"
                "L2_outer_bound,tight,certified\n"
            )
            for r in regs:
                vals = (
                    r.alpha,
                    r.L1,
                    r.L2_inner,
                    r.L2_outer,
                    r.L1_bound,
                    r.L2_inner_bound,
                    r.L2_outer_bound,
                )
                f.write(",".join("" if v is None else repr(float(v)) for v in vals))
                f.write(f",{r.tight},{r.certified}\n")
    if plot is not None and alpha is not None:
        from .plotting import plot_figure
        from .reproduce import Figure, Series

        x = np.array([r.alpha for r in regs])
        order = np.argsort(x)
        plot_figure(
            Figure(
                name="cipher_region",
                title="Leakage region corner points against the JEP exponent",
                xlabel=f"alpha ({unit})",
                ylabel=f"normalized maximal leakage ({unit})",
                series=tuple(
                    Series(n, x[order], np.array([getattr(r, a) for r in regs])[order], st)
                    for n, a, st in zip(
                        names,
                        ("L1", "L2_inner", "L2_outer"),
                        ("line", "line", "dashed"),
                        strict=True,
                    )
                ),
            ),
            plot,
        )
    if json_out:
        payload = [{**to_jsonable(r), "unit": unit} for r in regs]
        typer.echo(json.dumps(payload[0] if alpha is None else payload))
        return
    table = Table(
        "alpha",
        f"{names[0]} [{unit}]",
        f"{names[1]} [{unit}]",
        f"{names[2]} [{unit}]",
        "inner = outer",
        "certified gap",
        box=None,
        pad_edge=False,
        header_style="bold",
    )
    for r in regs:
        table.add_row(
            "-" if r.alpha is None else _fmt(r.alpha),
            _fmt(r.L1),
            _fmt(r.L2_inner),
            _fmt(r.L2_outer),
            "yes" if r.tight else "no",
            "uncertified" if not math.isfinite(r.missed) else f"{r.missed:.2g}",
        )
    lines: list[Table | str] = [table]
    last = regs[-1]
    lines.append(
        f"maximizing Q of {names[0]}: {np.array2string(last.argmax_L1, precision=6)}; "
        f"max R(Q,D1) = {_fmt(last.max_rate1)} {unit}, max R(Q,R1,D1,D2) = "
        f"{_fmt(last.max_sum_rate)} {unit} (R1 reading: {last.R1_reading})"
    )
    if not all(r.rates_sufficient for r in regs):
        lines.append("note: the message rates do not meet (21)-(22) at every alpha.")
    if out is not None:
        lines.append(f"values written to {out}")
    if plot is not None and alpha is not None:
        lines.append(f"plot written to {plot}")
    _print_unwrapped(*lines)


@cipher_app.command("key-rates")
def _cipher_key_rates(
    p: PxOpt,
    d1: D1dOpt,
    d2: D2dOpt,
    D1: D1Opt,
    D2: D2Opt,
    R1: R1Opt = "none",
    alpha: Annotated[
        str | None,
        typer.Option("--alpha", metavar="ALPHA", help="JEP exponent; omit for Corollary 4."),
    ] = None,
    base: BaseOpt = "2",
    tol: TolOpt = "1e-6",
    json_out: JsonOpt = False,
) -> None:
    """Largest key rates (r1, r2) for which the inner and outer regions coincide:
    Corollary 2 (26)-(27) with --alpha, Corollary 4 (41)-(42) without."""
    from .cipher import key_rate_limits

    b = _number(base, "--base")
    kr = key_rate_limits(
        _pmf(p),
        _distortion(d1),
        _distortion(d2),
        D1=_number(D1, "--D1"),
        D2=_number(D2, "--D2"),
        R1=_R1(R1),
        alpha=None if alpha is None else _number(alpha, "--alpha"),
        base=b,
        tol=_number(tol, "--tol"),
    )
    unit = _unit(b)
    if json_out:
        typer.echo(json.dumps({**to_jsonable(kr), "unit": unit}))
        return
    table = Table(
        "limit",
        "value",
        "certified lower bound",
        "unit",
        "minimizing Q",
        box=None,
        pad_edge=False,
        header_style="bold",
    )
    table.add_row(
        "r1_max = min R(Q,D1)",
        _fmt(kr.r1_max),
        _bound(kr.r1_bound),
        unit,
        np.array2string(kr.argmin_r1, precision=6),
    )
    table.add_row(
        "r2_max = min R(Q,R1,D1,D2) - R(Q,D1)",
        _fmt(kr.r2_max),
        _bound(kr.r2_bound),
        unit,
        np.array2string(kr.argmin_r2, precision=6),
    )
    _print_unwrapped(table)


def _letters(value: str, option: str) -> np.ndarray:
    """Letters (or bits) from a file or inline: '0110...' with no separators is one letter
    per character; otherwise numbers separated by commas, spaces or newlines; .npy too."""
    path = Path(value)
    if path.suffix == ".npy" and path.exists():
        return np.load(path).astype(np.int64).ravel()
    text = path.read_text(encoding="utf-8") if path.exists() else value
    compact = "".join(text.split())
    try:
        if compact.isdigit():
            return np.array([int(ch) for ch in compact], dtype=np.int64)
        parts = [t for t in text.replace(",", " ").replace(";", " ").split() if t]
        return np.array([int(t) for t in parts], dtype=np.int64)
    except ValueError:
        raise InvalidParameterError(
            f"the '{option}' option must be a file (or inline text) of integer letters, "
            "e.g. '0110' or '0 1 1 0'; got other characters."
        ) from None


_MSG_FORMAT = "leakage.cipher.messages/1"

CodeOpt = Annotated[Path, typer.Option("--code", metavar="CODE.json", help="Built code.")]
Key1Opt = Annotated[str, typer.Option("--key1", metavar="FILE", help="Bits of K1, in order.")]
Key2Opt = Annotated[str, typer.Option("--key2", metavar="FILE", help="Bits of K2, in order.")]


@cipher_app.command("build")
def _cipher_build(
    p: PxOpt,
    d1: D1dOpt,
    d2: D2dOpt,
    n: Annotated[int, typer.Option("--n", min=1, help="Blocklength (binary: n <= 20).")],
    D1: D1Opt,
    D2: D2Opt,
    r1: Annotated[str, typer.Option("--r1", metavar="RATE", help="Key rate of K1.")],
    r2: Annotated[str, typer.Option("--r2", metavar="RATE", help="Key rate of K2.")],
    alpha: Annotated[str, typer.Option("--alpha", metavar="ALPHA", help="JEP exponent.")],
    out: Annotated[Path, typer.Option("--out", "-o", metavar="CODE.json", help="Code file.")],
) -> None:
    """Build the type-based code of Section IV and save it; prints its exact figures."""
    from .cipher import SuccessiveRefinementCipher

    with _spinner(f"building the code for n = {n}"):
        code = SuccessiveRefinementCipher.build(
            _pmf(p),
            _distortion(d1),
            _distortion(d2),
            n=n,
            D1=_number(D1, "--D1"),
            D2=_number(D2, "--D2"),
            r1=_number(r1, "--r1"),
            r2=_number(r2, "--r2"),
            alpha=_number(alpha, "--alpha"),
        )
    code.save(out)
    L1, L12 = code.leakage()
    R1, R2 = code.rates()
    table = Table("quantity", "value", "unit", box=None, pad_edge=False, header_style="bold")
    for row in (
        ("key bits per block (K1, K2)", f"{code.key_bits[0]}, {code.key_bits[1]}", "bits"),
        ("(1/n) L(X^n -> M1)", _fmt(L1 / n), "bits per symbol"),
        ("(1/n) L(X^n -> M1 M2)", _fmt(L12 / n), "bits per symbol"),
        ("JEP Pe(D1, D2)", _fmt(code.jep()), UNITLESS),
        ("rates log|M1|/n, log|M2|/n", f"{_fmt(R1)}, {_fmt(R2)}", "bits per symbol"),
    ):
        table.add_row(*row)
    _print_unwrapped(table, f"code written to {out}")


@cipher_app.command("encrypt")
def _cipher_encrypt(
    code_path: CodeOpt,
    source: Annotated[
        str, typer.Option("--source", metavar="FILE", help="Source letters (a multiple of n).")
    ],
    key1: Key1Opt,
    key2: Key2Opt,
    out: Annotated[
        Path, typer.Option("--out", "-o", metavar="MESSAGES.json", help="Message file.")
    ],
) -> None:
    """Encrypt a stream: one (M1, M2) per block of n letters, fresh key bits per block."""
    from .cipher import SuccessiveRefinementCipher
    from .io import atomic_write

    code = SuccessiveRefinementCipher.load(code_path)
    msgs = code.encrypt(
        _letters(source, "--source"), _letters(key1, "--key1"), _letters(key2, "--key2")
    )
    with atomic_write(out) as f:
        json.dump({"format": _MSG_FORMAT, "n": code.n, "messages": msgs}, f)
        f.write("\n")
    typer.echo(f"{len(msgs)} block(s) of {code.n} letters encrypted to {out}")


@cipher_app.command("decrypt")
def _cipher_decrypt(
    code_path: CodeOpt,
    messages: Annotated[
        Path, typer.Option("--messages", metavar="MESSAGES.json", help="From encrypt.")
    ],
    key1: Key1Opt,
    key2: Key2Opt,
    out: Annotated[
        Path, typer.Option("--out", "-o", metavar="RECON.json", help="Both reproductions.")
    ],
) -> None:
    """Decrypt a message stream into the first- and second-layer reproductions."""
    from .cipher import SuccessiveRefinementCipher
    from .io import atomic_write

    code = SuccessiveRefinementCipher.load(code_path)
    try:
        data = json.loads(messages.read_text(encoding="utf-8"))
        msgs = data["messages"] if data.get("format") == _MSG_FORMAT else None
    except (OSError, ValueError, AttributeError):
        msgs = None
    if msgs is None:
        raise InvalidParameterError(
            f"the '--messages' option must name a file written by 'leakage cipher encrypt'; "
            f"'{messages}' is not one."
        )
    y, z = code.decrypt(msgs, _letters(key1, "--key1"), _letters(key2, "--key2"))
    with atomic_write(out) as f:
        json.dump({"layer1": y.tolist(), "layer2": z.tolist()}, f)
        f.write("\n")
    typer.echo(f"{len(msgs)} block(s) decrypted to {out}")


@cipher_app.command("report")
def _cipher_report(
    p: PxOpt,
    d1: D1dOpt,
    d2: D2dOpt,
    D1: D1Opt,
    D2: D2Opt,
    r1: Annotated[str, typer.Option("--r1", metavar="RATE", help="Key rate of K1.")],
    r2: Annotated[str, typer.Option("--r2", metavar="RATE", help="Key rate of K2.")],
    alpha: Annotated[str, typer.Option("--alpha", metavar="ALPHA", help="JEP exponent.")],
    ns: Annotated[str, typer.Option("--ns", metavar="LIST", help="Blocklengths, e.g. 4,6,8.")],
    json_out: JsonOpt = False,
) -> None:
    """The built code's exact figures at each blocklength beside the limits Λ1, Λ2."""
    from .cipher import finite_n_report, leakage_region

    pv, dd1, dd2 = _pmf(p), _distortion(d1), _distortion(d2)
    kw = dict(
        D1=_number(D1, "--D1"),
        D2=_number(D2, "--D2"),
        r1=_number(r1, "--r1"),
        r2=_number(r2, "--r2"),
        alpha=_number(alpha, "--alpha"),
    )
    # passed as read: the library refuses 2.5 (int() here would truncate it to 2)
    nlist = np.atleast_1d(load_array_arg(ns, name="--ns")).tolist()
    with _spinner(f"building {len(nlist)} code(s)"):
        rows = finite_n_report(pv, dd1, dd2, ns=nlist, **kw)
    reg = leakage_region(pv, dd1, dd2, R1=None, **kw)
    if json_out:
        typer.echo(
            json.dumps(
                {
                    "rows": [to_jsonable(r) for r in rows],
                    "Lambda1": reg.L1,
                    "Lambda2": reg.L2_inner,
                    "unit": "bits",
                }
            )
        )
        return
    table = Table(
        "n",
        "(1/n)L(M1)",
        "(1/n)L(M1M2)",
        "JEP",
        "JEP exponent",
        "rate1",
        "rate2",
        box=None,
        pad_edge=False,
        header_style="bold",
    )
    for r in rows:
        table.add_row(
            str(r.n),
            _fmt(r.L1_per_symbol),
            _fmt(r.L12_per_symbol),
            _fmt(r.jep),
            _fmt(r.jep_exponent),
            _fmt(r.rate1),
            _fmt(r.rate2),
        )
    _print_unwrapped(
        table,
        f"limits (bits per symbol): Λ1 = {_fmt(reg.L1)}, Λ2 = {_fmt(reg.L2_inner)}; "
        f"alpha = {kw['alpha']}",
    )


# --------------------------------------------------------------------------- hypothesis

HypPOpt = Annotated[
    str | None,
    typer.Option("--p1", metavar="PMF", help=f"Hypothesis H1's distribution: {_ARRAY_HELP}."),
]
HypP2Opt = Annotated[
    str | None,
    typer.Option("--p2", metavar="PMF", help=f"Hypothesis H2's distribution: {_ARRAY_HELP}."),
]
HypPsOpt = Annotated[
    str | None,
    typer.Option(
        "--ps",
        metavar="MATRIX",
        help="All hypotheses, one row per p_k (H1 first): '0.5,0.5;0.45,0.55;0.55,0.45' "
        "or a file. Instead of --p1/--p2.",
    ),
]


def _hypotheses(p1: str | None, p2: str | None, ps: str | None) -> np.ndarray:
    if ps is not None:
        if p1 is not None or p2 is not None:
            raise InvalidParameterError(
                "hypothesis: give either '--ps' or '--p1' and '--p2', not both."
            )
        return np.atleast_2d(load_array_arg(ps, name="--ps"))
    if p1 is None or p2 is None:
        raise InvalidParameterError(
            "hypothesis: the hypotheses are missing: give '--p1' and '--p2' (binary) or "
            "'--ps' (one row per hypothesis)."
        )
    a, b = _pmf(p1, "--p1"), _pmf(p2, "--p2")
    if a.shape != b.shape:
        raise InvalidParameterError(
            f"hypothesis: '--p1' and '--p2' must have the same length; got {a.size} and {b.size}."
        )
    return np.vstack([a, b])


@hypothesis_app.command("design")
def _hypothesis_design(
    eps: Annotated[
        str,
        typer.Option(
            "--eps",
            metavar="BUDGETS",
            help="Budget on I(p_k, W): one number for all hypotheses or one per hypothesis "
            "('0.01,0.02').",
        ),
    ],
    p1: HypPOpt = None,
    p2: HypP2Opt = None,
    ps: HypPsOpt = None,
    exact: Annotated[
        bool,
        typer.Option(
            "--exact",
            help="The certified optimum of the original problem (column generation) instead "
            "of the E-IT design (Theorems 1-2 for two hypotheses, the SDP otherwise).",
        ),
    ] = False,
    utility: Annotated[
        str,
        typer.Option(
            "--utility",
            metavar="kl|renyi",
            help="kl: D(p_k W||p_1 W); renyi: D_alpha(p_2 W||p_1 W), two hypotheses, with --alpha.",
        ),
    ] = "kl",
    alpha: Annotated[
        str | None, typer.Option("--alpha", metavar="ALPHA", help="Renyi order in (0, 1).")
    ] = None,
    w0: Annotated[
        str,
        typer.Option(
            "--w0",
            metavar="auto|PMF",
            help="E-IT designs: the perfect-privacy row w0 ('auto' keeps W' nonnegative "
            "with the largest margin; the paper uses 0.5,0.5).",
        ),
    ] = "auto",
    base: BaseOpt = "2",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="FILE",
            help="Save W with its provenance as JSON (atomic write; leakage.Mechanism.load).",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Design a privacy mechanism W for testing H1: p_1 against H2..Hm.

    Prints W, the exact exponents and leakages of W beside the budgets, the approximate
    objective and, with --exact, the certified upper bound on the optimum.
    """
    from .hypothesis import design_binary, design_mary, optimal_mechanism, within_budget

    b = _number(base, "--base")
    P = _hypotheses(p1, p2, ps)
    budgets = np.atleast_1d(load_array_arg(eps, name="--eps"))
    if budgets.size == 1:
        budgets = np.full(P.shape[0], float(budgets[0]))
    a = None if alpha is None else _number(alpha, "--alpha")
    w = w0 if w0 == "auto" else _pmf(w0, "--w0")
    names = {"eps": "--eps", "alpha": "--alpha", "w0": "--w0", "utility": "--utility"}
    with _naming_options(names), _spinner("designing the mechanism"):
        if exact:
            design = optimal_mechanism(P, budgets, utility=utility, alpha=a, base=b)
        elif P.shape[0] == 2:
            if budgets.size != 2:
                raise InvalidParameterError(
                    f"hypothesis design: '--eps' needs one budget or two; got {budgets.size}."
                )
            design = design_binary(
                P[0], P[1], budgets[0], budgets[1], w0=w, utility=utility, alpha=a, base=b
            )
        else:
            if utility != "kl":
                raise InvalidParameterError(
                    "hypothesis design: '--utility renyi' is for two hypotheses; use kl."
                )
            design = design_mary(P, budgets, w0=w, base=b)
    # what is printed and saved never exceeds a budget (the E-IT designs meet them to
    # second order only): mixed with a constant channel to meet them exactly
    design = within_budget(design, P)
    if out is not None:
        try:
            Mechanism.from_design(design).save(out)
        except OSError as exc:
            raise InvalidParameterError(
                f"hypothesis design: the '--out' option must name a writable file; cannot "
                f"write '{out}' ({exc.strerror or exc})."
            ) from None
    unit = _unit(b)
    if json_out:
        payload = {**to_jsonable(design), "unit": unit}
        if out is not None:
            payload["mechanism_file"] = str(out)
            typer.echo(f"mechanism written to {out}", err=True)
        typer.echo(json.dumps(payload))
        return
    M, N = design.mechanism.shape
    mech = Table(
        "x", *(f"out={j}" for j in range(N)), box=None, pad_edge=False, header_style="bold"
    )
    for i in range(M):
        mech.add_row(str(i), *(_fmt(v) for v in design.mechanism[i]))
    hyp = Table(
        "k",
        "I(p_k, W)",
        "budget",
        "D(p_k W||p_1 W)"
        if design.utility_kind == "kl"
        else f"D_{_fmt(design.alpha)}(p_2 W||p_1 W)",
        "unit",
        box=None,
        pad_edge=False,
        header_style="bold",
    )
    for k in range(P.shape[0]):
        ex = "" if k == 0 else _fmt(design.exponents[k - 1])
        hyp.add_row(str(k + 1), _fmt(design.leakages[k]), _fmt(design.budgets[k]), ex, unit)
    summary = Table("quantity", "value", "unit", box=None, pad_edge=False, header_style="bold")
    summary.add_row("utility of W, exact", _fmt(design.utility), unit)
    if not math.isnan(design.utility_approx):
        summary.add_row(
            "E-IT objective (what the design optimized)", _fmt(design.utility_approx), unit
        )
    if not math.isnan(design.upper_bound):
        summary.add_row("certified upper bound on the optimum", _fmt(design.upper_bound), unit)
        summary.add_row("gap", _fmt(design.gap), unit)
    lines: list[Table | str] = [
        "mechanism W: one row per letter x, one column per published letter",
        mech,
        "",
        hyp,
        "",
        summary,
        f"method: {design.method}",
    ]
    scaled = design.details.get("within_budget")
    if scaled is not None:
        before = scaled["leakages_before"] - design.budgets
        lines.append(
            f"note: the E-IT design exceeded a budget by {_fmt(float(before.max()))} {unit} "
            "(it meets the budgets to second order only); W above is it mixed with a "
            f"constant channel (t = {_fmt(scaled['t'])}) to meet them exactly: utility "
            f"{_fmt(scaled['utility_before'])} -> {_fmt(design.utility)} {unit}."
        )
    if out is not None:
        lines.append(f"mechanism written to {out}")
    _print_unwrapped(*lines)


@hypothesis_app.command("simulate")
def _hypothesis_simulate(
    mechanism: Annotated[
        str,
        typer.Option(
            "--mechanism",
            "-W",
            metavar="FILE|MATRIX",
            help="W: a file written by 'hypothesis design --out', or a matrix inline/file.",
        ),
    ],
    n: Annotated[str, typer.Option("--n", metavar="LIST", help="Sample sizes, e.g. 10,20,40.")],
    p1: HypPOpt = None,
    p2: HypP2Opt = None,
    ps: HypPsOpt = None,
    trials: Annotated[
        int, typer.Option("--trials", min=1, help="Datasets per hypothesis.")
    ] = 20000,
    delta: Annotated[
        float, typer.Option("--delta", help="Level: P(decide H1 | H2) <= delta.")
    ] = 0.05,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    base: BaseOpt = "2",
    json_out: JsonOpt = False,
) -> None:
    """Monte-Carlo Neyman-Pearson test of H1 vs H2 on data privatized by W.

    Prints the missed-detection probability with its 99% interval, the empirical exponent
    and the Chernoff-Stein exponent D(p_2 W || p_1 W) it tends to.
    """
    from .hypothesis import simulate_test

    b = _number(base, "--base")
    P = _hypotheses(p1, p2, ps)
    path = Path(mechanism)
    if path.suffix == ".json" and path.exists():
        W = Mechanism.load(path).matrix
    else:
        W = load_array_arg(mechanism, name="--mechanism", kind="channel")
    ns = np.atleast_1d(load_array_arg(n, name="--n"))
    with _spinner("simulating"):
        r = simulate_test(
            P,
            W,
            ns.tolist(),  # as read: the library checks integrality and the size limit
            trials,
            seed,
            delta=delta,
            base=b,
        )
    unit = _unit(b)
    if json_out:
        typer.echo(json.dumps({**to_jsonable(r), "unit": unit}))
        return
    t = Table(
        "n",
        "P(decide H2|H1)",
        "99% interval",
        "exact",
        "exponent",
        "unit",
        box=None,
        pad_edge=False,
        header_style="bold",
    )
    for i, nn in enumerate(r.ns):
        ex = "" if math.isnan(r.exact_missed[i]) else _fmt(r.exact_missed[i])
        t.add_row(
            str(nn),
            _fmt(r.missed[i]),
            f"[{_fmt(r.interval[i, 0])}, {_fmt(r.interval[i, 1])}]",
            ex,
            _fmt(r.exponent[i]),
            unit,
        )
    _print_unwrapped(
        t,
        f"Chernoff-Stein exponent D(p_2 W||p_1 W) = {_fmt(r.stein_exponent)} {unit} "
        f"(the limit of the exponent); level delta = {_fmt(r.delta)}, {r.trials} datasets "
        "per hypothesis",
    )


# --------------------------------------------------------------------------- release

DataOpt = Annotated[
    Path, typer.Option("--data", metavar="FILE", help="The table: a .csv or .parquet file.")
]
PrivateOpt = Annotated[str, typer.Option("--private", metavar="COL", help="Private column X.")]
UsefulOpt = Annotated[str, typer.Option("--useful", metavar="COL", help="Useful column Y.")]
BinsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--bins",
        metavar="COL=EDGES",
        help="Bin a numeric column: 'age=18,30,50,65' (right-open bins, the last closed); "
        "repeat for several columns.",
    ),
]
PriorOpt = Annotated[
    float, typer.Option("--prior", min=0.0, help="Dirichlet concentration per cell (0: none).")
]


def _bins(specs: list[str] | None) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for spec in specs or ():
        col, sep, edges = spec.partition("=")
        if not sep or not col:
            raise InvalidParameterError(
                f"release: the '--bins' option must look like 'COL=e1,e2,...'; got {spec!r}."
            )
        try:
            out[col] = [float(v) for v in edges.split(",")]
        except ValueError:
            raise InvalidParameterError(
                f"release: the '--bins' edges of '{col}' must be numbers; got {edges!r}."
            ) from None
    return out


def _fitted(data, private, useful, bins, prior, min_count, missing):
    from .release import fit

    with warnings.catch_warnings(record=True) as caught, _naming_options(_RELEASE_OPTIONS):
        warnings.simplefilter("always")
        f = fit(
            data,
            private,
            useful,
            bins=_bins(bins),
            prior=prior,
            min_count=min_count,
            missing=missing,
        )
    for w in caught:
        typer.echo(f"warning: {w.message}", err=True)
    return f


@release_app.command("fit")
def _release_fit(
    data: DataOpt,
    private: PrivateOpt,
    useful: UsefulOpt,
    bins: BinsOpt = None,
    prior: PriorOpt = 0.0,
    min_count: Annotated[int, typer.Option("--min-count", min=0, help="Warn below.")] = 5,
    missing: Annotated[str, typer.Option("--missing", metavar="error|drop")] = "error",
    json_out: JsonOpt = False,
) -> None:
    """Count the joint of the private and the useful column (one streaming pass)."""
    f = _fitted(data, private, useful, bins, prior, min_count, missing)
    if json_out:
        typer.echo(json.dumps(to_jsonable(f)))
        return
    t = Table(f"{private} \\ {useful}", *f.labels_y, box=None, pad_edge=False, header_style="bold")
    for i, x in enumerate(f.labels_x):
        t.add_row(x, *(str(int(c)) for c in f.counts[i]))
    _print_unwrapped(
        f"records per cell ({f.n:,} records)",
        t,
        f"{len(f.small_cells)} cell(s) below {f.min_count} records",
    )


@release_app.command("design")
def _release_design(
    data: DataOpt,
    private: PrivateOpt,
    useful: UsefulOpt,
    eps: Annotated[
        str, typer.Option("--eps", metavar="BUDGETS", help="One budget per released letter.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", metavar="FILE", help="Release JSON.")],
    method: Annotated[
        str, typer.Option("--method", metavar="l1|l1-exact|chi2", help="The design.")
    ] = "l1",
    bins: BinsOpt = None,
    prior: PriorOpt = 0.0,
    quantile: Annotated[
        float, typer.Option("--quantile", help="Posterior quantile of the leakage shown.")
    ] = 0.95,
    missing: Annotated[str, typer.Option("--missing", metavar="error|drop")] = "error",
    robust: Annotated[
        bool,
        typer.Option(
            "--robust",
            help="Meet the budgets at the posterior --quantile too (scales the design's "
            "budgets down; a constant mechanism if nothing else does).",
        ),
    ] = False,
    base: BaseOpt = "2",
    json_out: JsonOpt = False,
) -> None:
    """Fit, design P(U|Y) and save the release; refuses a mechanism over its budgets.

    Prints P(u|y), each letter's exact leakage on the fitted joint beside its budget and
    its value at the posterior quantile (estimation uncertainty), and I(U;Y).
    """
    from .release import design, posterior_leakage

    b = _number(base, "--base")
    f = _fitted(data, private, useful, bins, prior, 5, missing)
    budgets = load_array_arg(eps, name="--eps")
    with _naming_options(_RELEASE_OPTIONS), _spinner("designing"):
        r = design(f, budgets, method=method, base=b, robust=quantile if robust else None)
        post = posterior_leakage(f, r.mechanism, measure=r.measure, quantile=quantile)
    r.save(out)
    qv = post["quantile"]
    over = [u for u, v, e in zip(r.labels_u, qv, r.budgets, strict=True) if v > e]
    if over and not robust:
        typer.echo(
            f"warning: at the posterior q{quantile:g} the leakage of {', '.join(over)} exceeds "
            "its budget (the fitted joint is an estimate); --robust designs to meet it there.",
            err=True,
        )
    if json_out:
        typer.echo(
            json.dumps(
                {
                    **to_jsonable(r.to_dict()),
                    "posterior": to_jsonable(post),
                    "release_file": str(out),
                }
            )
        )
        return
    mech = Table(useful, *r.labels_u, box=None, pad_edge=False, header_style="bold")
    for j, y in enumerate(r.labels_y):
        mech.add_row(y, *(_fmt(v) for v in r.mechanism.matrix[j]))
    letters = Table(
        "u",
        "leakage (fitted)",
        f"q{quantile:g} (posterior)",
        "budget",
        box=None,
        pad_edge=False,
        header_style="bold",
    )
    for k, u in enumerate(r.labels_u):
        lk_ = r.leakages[k]
        letters.add_row(
            u,
            "never released" if math.isnan(lk_) else _fmt(lk_),
            "" if math.isnan(post["quantile"][k]) else _fmt(post["quantile"][k]),
            _fmt(r.budgets[k]),
        )
    _print_unwrapped(
        "mechanism P(u|y)",
        mech,
        "",
        letters,
        "",
        f"I(U;Y) = {_fmt(r.utility)} {_unit(b)} (exact, fitted joint); {r.measure} "
        f"leakage is unitless; method: {r.method}",
        f"release written to {out}",
    )


@release_app.command("apply")
def _release_apply(
    release: Annotated[Path, typer.Option("--release", metavar="FILE", help="Release JSON.")],
    data: DataOpt,
    out: Annotated[Path, typer.Option("--out", "-o", metavar="FILE", help=".csv/.parquet")],
    seed: Annotated[int, typer.Option("--seed", min=0, help="Key of the random stream.")],
    column: Annotated[str, typer.Option("--column", help="Released column name.")] = "released",
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 1 << 20,
    unknown: Annotated[
        str,
        typer.Option(
            "--unknown", metavar="error|drop|map:LABEL", help="Unseen or missing useful values."
        ),
    ] = "error",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace --out.")] = False,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            metavar="stream|dask",
            help="dask: a Parquet input on a Dask scheduler (the same output bytes).",
        ),
    ] = "stream",
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            metavar="NAME|ADDRESS",
            help="With --engine dask: threads, processes, or a Dask cluster's address (tcp://...).",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Add the released column to every record (streamed; the output appears atomically).

    A record's draw depends only on (seed, row index, its useful value): the output is the
    same whatever the batch size.
    """
    from .release import Release, apply

    r = Release.load(release)
    common = dict(seed=seed, column=column, unknown=unknown, overwrite=overwrite)
    if engine == "dask":
        from .release import apply_dask

        if scheduler is not None and "://" in scheduler:
            from distributed import Client

            try:
                client = Client(scheduler, timeout="10s")
            except (OSError, MemoryError, TimeoutError, ValueError) as exc:
                raise InvalidParameterError(
                    f"release apply: cannot connect to the '--scheduler' {scheduler!r} within "
                    f"10 s ({type(exc).__name__}: {exc}); check the address, or drop "
                    "--scheduler to run on local threads."
                ) from None
            with client, _naming_options(_RELEASE_OPTIONS):
                info = apply_dask(r, data, out, **common)
        else:
            with _naming_options(_RELEASE_OPTIONS):
                info = apply_dask(r, data, out, scheduler=scheduler or "threads", **common)
    elif engine == "stream":
        progress = not json_out and sys.stderr.isatty()
        with _naming_options(_RELEASE_OPTIONS):
            info = apply(r, data, out, batch_size=batch_size, progress=progress, **common)
    else:
        raise InvalidParameterError(
            f"release apply: the '--engine' option must be 'stream' or 'dask'; got {engine!r}."
        )
    if json_out:
        typer.echo(json.dumps(to_jsonable(info)))
        return
    typer.echo(
        f"{info['written']:,} records written to {out} ({info['dropped']:,} dropped) in "
        f"{info['seconds']:.2f} s ({info['rate']:,.0f} records/s)"
    )


@release_app.command("audit")
def _release_audit(
    release: Annotated[Path, typer.Option("--release", metavar="FILE", help="Release JSON.")],
    data: Annotated[Path, typer.Option("--data", metavar="FILE", help="The released table.")],
    column: Annotated[str, typer.Option("--column", help="Released column name.")] = "released",
    bootstrap: Annotated[int, typer.Option("--bootstrap", min=10)] = 1000,
    level: Annotated[float, typer.Option("--level", help="Interval level.")] = 0.95,
    seed: Annotated[int, typer.Option("--seed", min=0)] = 0,
    plot: Annotated[Path | None, typer.Option("--plot", metavar="PNG")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Plug-in leakage of each released letter with bootstrap intervals, beside the
    design's exact value and the budget; flags letters whose design value lies outside."""
    from .release import Release, audit, plot_audit

    r = Release.load(release)
    with _naming_options({**_RELEASE_OPTIONS, "rng": "--seed"}):
        a = audit(r, data, column=column, bootstrap=bootstrap, level=level, rng=seed)
    if plot is not None:
        plot_audit(a, plot)
    if json_out:
        typer.echo(json.dumps(to_jsonable(a)))
        return
    t = Table(
        "u",
        "audited",
        f"{level:.0%} interval",
        "design",
        "budget",
        "flag",
        box=None,
        pad_edge=False,
        header_style="bold",
    )
    for k, u in enumerate(a.labels_u):
        if math.isnan(a.design[k]):
            t.add_row(u, "never released", "", "", _fmt(a.budgets[k]), "")
            continue
        t.add_row(
            u,
            _fmt(a.plugin[k]),
            f"[{_fmt(a.interval[k, 0])}, {_fmt(a.interval[k, 1])}]",
            _fmt(a.design[k]),
            _fmt(a.budgets[k]),
            "FLAG" if a.flagged[k] else "",
        )
    lines: list = [f"audit of {data} ({a.n:,} records, {a.measure} leakage, unitless)", t]
    if plot is not None:
        lines.append(f"plot written to {plot}")
    _print_unwrapped(*lines)


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
        "id",
        "reproduced",
        "erratum",
        "not reproduced",
        box=None,
        pad_edge=False,
        header_style="bold",
    )
    bad = 0
    for r in reps:
        nbad = sum(not c.ok for c in r.comparisons)
        nerr = sum(c.ok and bool(c.erratum) for c in r.comparisons)
        bad += nbad
        table.add_row(r.id, str(len(r.comparisons) - nbad - nerr), str(nerr), str(nbad))
    console.print(table)
    console.print(f"report: {out / 'report.md'}")
    if bad:
        typer.echo(f"warning: {bad} published number(s) not reproduced; see the report.", err=True)
        if strict:
            raise typer.Exit(code=1)


# --------------------------------------------------------------------------- estimate

#: --measure names and (function name, label, information measure?)
_ESTIMATE_MEASURES = {
    "mi": ("mutual_information", "I(X;Y)", True),
    "maximal-leakage": ("maximal_leakage", "L(X->Y)", True),
    "min-entropy-leakage": ("min_entropy_leakage", "min-entropy leakage", True),
    "bayes-vulnerability": ("bayes_vulnerability", "posterior Bayes vulnerability", False),
    "bayes-risk": ("bayes_risk", "Bayes risk", False),
}


def _log_columns(path: Path, secret: str, observable: str, *, counted: bool = False):
    """The two columns of a CSV/Parquet log as NumPy arrays (pyarrow: the release extra).

    ``counted``: their :class:`~leakage.estimate.Counts` instead, the file streamed in
    batches by :func:`~leakage.estimate.count_log` (only its schema is read here)."""
    try:
        import pyarrow.csv as pcsv
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - the release extra is missing
        raise InvalidParameterError(
            "estimate: reading a log needs pyarrow: pip install 'leakage[release]'."
        ) from exc
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise InvalidParameterError(
            f"estimate: the '--data' option must name a .csv or .parquet file; got '{path}'."
        )
    try:
        if counted:  # the column names only (a CSV's first block)
            csv = suffix == ".csv"
            names = pcsv.open_csv(path).schema.names if csv else pq.read_schema(path).names
        elif suffix == ".csv":
            table = pcsv.read_csv(path)
            names = table.column_names
        else:  # only the two columns are read
            names = pq.read_schema(path).names
            want = [c for c in (secret, observable) if c in names]
            table = pq.read_table(path, columns=want)
        missing = [c for c in (secret, observable) if c not in names]
        if missing:
            raise InvalidParameterError(
                f"estimate: '--secret {secret}' and '--observable {observable}' must be "
                f"columns of '{path}'; missing: {', '.join(missing)} (columns: "
                f"{', '.join(names[:20])})."
            )
    except (ValueError, OSError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        if isinstance(exc, InvalidParameterError):
            raise
        if isinstance(exc, FileNotFoundError):
            raise
        raise InvalidParameterError(
            f"estimate: cannot read the '--data' file '{path}' ({_one_line(str(exc))[:200]})."
        ) from None
    if counted:
        from .estimate import count_log

        with _naming_options({"source": "--data"}), _spinner("counting"):
            return count_log(path, secret, observable)
    return (
        table.column(secret).to_numpy(zero_copy_only=False),
        table.column(observable).to_numpy(zero_copy_only=False),
    )


@app.command("estimate")
def _estimate(
    data: Annotated[
        Path | None,
        typer.Option("--data", metavar="FILE", help="The log: a .csv or .parquet file."),
    ] = None,
    secret: Annotated[
        str | None, typer.Option("--secret", metavar="COL", help="Secret column X (--data).")
    ] = None,
    observable: Annotated[
        str | None,
        typer.Option("--observable", metavar="COL", help="Observable column Y (--data)."),
    ] = None,
    system: Annotated[
        str | None,
        typer.Option(
            "--system",
            metavar="MODULE:FUNC",
            help="Instead of --data: a Python function system(secret, rng) -> observable "
            "(module or file.py, then ':' and its name), sampled until --width.",
        ),
    ] = None,
    prior: Annotated[
        str | None,
        typer.Option(
            "--prior",
            metavar="PMF",
            help=f"Prior of the secrets 0..k-1 for --system: {_ARRAY_HELP}.",
        ),
    ] = None,
    width: Annotated[
        float, typer.Option("--width", help="--system: stop when the interval is this narrow.")
    ] = 0.05,
    max_samples: Annotated[
        int, typer.Option("--max-samples", help="--system: most calls of the system.")
    ] = 1_000_000,
    vectorized: Annotated[
        bool,
        typer.Option("--vectorized", help="--system: call it once per look on an array."),
    ] = False,
    measure: Annotated[
        str,
        typer.Option(
            "--measure",
            metavar="LIST",
            help="Comma-separated: " + ", ".join(_ESTIMATE_MEASURES) + ".",
        ),
    ] = "mi",
    level: Annotated[float, typer.Option("--level", help="Interval level.")] = 0.95,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            metavar="NAME",
            help="Estimator: auto, plugin, miller_madow, jackknife, chao_shen, dirichlet; "
            "knn for a numeric observable (mi, bayes-risk: the 1-NN lower bound); knn-log, "
            "knn-log10 (bayes-risk: F-BLEAU's k-NN estimates).",
        ),
    ] = "auto",
    interval: Annotated[
        str,
        typer.Option("--interval", metavar="KIND", help="bootstrap, bootstrap-bc or dirichlet."),
    ] = "bootstrap",
    resamples: Annotated[int, typer.Option("--resamples", help="Bootstrap resamples.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the resampling.")] = 0,
    test: Annotated[
        bool, typer.Option("--test", help="Also test independence of secret and observable.")
    ] = False,
    base: BaseOpt = "2",
    json_out: JsonOpt = False,
) -> None:
    """Leakage of a system estimated from a log of (secret, observable) pairs, with intervals.

    Prints, per measure, the estimate and its interval at --level (units: bits unless
    --base), the estimator and how the interval was made; --test adds a test of
    independence (p-value). With --system instead of --data, a Python function is run on
    secrets drawn from --prior until the interval is narrower than --width (one run per
    measure; the interval keeps its --level at the data-dependent stop).
    """
    from . import estimate as est

    b = _number(base, "--base")
    names = [m.strip() for m in measure.split(",") if m.strip()]
    unknown = [m for m in names if m not in _ESTIMATE_MEASURES]
    if unknown or not names:
        raise InvalidParameterError(
            f"estimate: the '--measure' option must list names from "
            f"{', '.join(_ESTIMATE_MEASURES)}; got {measure!r} instead."
        )
    if (data is None) == (system is None):
        raise InvalidParameterError(
            "estimate: give exactly one source: --data FILE (a log, with --secret and "
            "--observable) or --system MODULE:FUNC (with --prior)."
        )
    if system is not None:
        _estimate_system(
            system,
            prior,
            names,
            width,
            max_samples,
            vectorized,
            level,
            method,
            resamples,
            seed,
            test,
            b,
            json_out,
        )
        return
    if secret is None or observable is None:
        raise InvalidParameterError(
            "estimate: --data needs --secret COL and --observable COL (the log's columns)."
        )
    if method.startswith("knn"):  # numeric observables: the samples themselves
        x, y = _log_columns(data, secret, observable)
    else:  # discrete: the count table, the file streamed in batches
        x, y = _log_columns(data, secret, observable, counted=True), None
    options = {"level": "--level", "method": "--method", "interval": "--interval"}
    options.update({"resamples": "--resamples", "base": "--base", "rng": "--seed"})
    results = []
    with _naming_options(options), _spinner("estimating"):
        for name in names:
            func_name, label, info = _ESTIMATE_MEASURES[name]
            func = getattr(est, func_name)
            takes = inspect.signature(func).parameters
            kw: dict[str, Any] = dict(level=level, rng=seed)
            if "method" not in takes and method != "auto":
                raise InvalidParameterError(
                    f"estimate: the '--method' option applies to mi and bayes-risk only; "
                    f"'--measure {name}' uses its plug-in estimate (drop --method)."
                )
            if method.startswith("knn"):  # a numeric observable: bootstrap over samples
                kw.update(method=method, resamples=min(resamples, 200))
            else:
                kw.update(interval=interval, resamples=resamples)
                if "method" in takes:
                    auto = "frequentist" if func_name == "bayes_risk" else "auto"
                    kw["method"] = auto if method == "auto" else method
            if "base" in takes:
                kw["base"] = b
            results.append((name, label, info, func(x, y, **kw)))
        indep = est.independence_test(x, y, rng=seed) if test else None
    _print_estimates(
        results,
        f"{results[0][3].n:,} pairs from {data}",
        b,
        level,
        json_out,
        {"data": str(data), "n": results[0][3].n},
        indep,
    )


def _print_estimates(results, title, b, level, json_out, head, indep, samples=False) -> None:
    """The estimates as a table (or one JSON object with ``head`` first)."""
    unit = _unit(b)
    if json_out:
        payload: dict[str, Any] = {
            **head,
            "estimates": {
                name: {**to_jsonable(e), "unit": unit if info else UNITLESS}
                for name, _, info, e in results
            },
        }
        if indep is not None:
            payload["independence_test"] = to_jsonable(indep)
        typer.echo(json.dumps(payload))
        return
    columns = ["measure", "estimate", f"{level:g} interval", "unit", "estimator", "interval"]
    columns += ["samples"] if samples else []
    table = Table(*columns, box=None, pad_edge=False, header_style="bold")
    for _, label, info, e in results:
        shown = "" if math.isnan(e.lower) else f"[{_fmt(e.lower)}, {_fmt(e.upper)}]"
        if e.measure == "bayes_risk" and e.method == "knn":
            label = "Bayes risk, lower bound (1-NN, Cover-Hart)"  # not an estimate of R*
        elif e.measure == "bayes_risk" and e.method.startswith("knn-"):
            label = "Bayes risk (k_n-NN estimate, F-BLEAU)"
        row = [label, _fmt(e.value), shown, unit if info else UNITLESS, e.method, e.interval]
        table.add_row(*row, *([f"{e.n:,}"] if samples else []))
    lines: list[Table | str] = [title, table]
    if indep is not None:
        lines.append(
            f"independence test ({indep.method}): p-value = {_fmt(indep.pvalue)} "
            f"(statistic: plug-in I = {_fmt(indep.statistic)} bits)"
        )
    _print_unwrapped(*lines)


def _system_function(spec: str):
    """``module:func`` or ``path/file.py:func`` -> the callable (cwd importable)."""
    import importlib
    import importlib.util

    where, sep, name = spec.rpartition(":")
    if not sep or not where or not name.isidentifier():
        raise InvalidParameterError(
            f"estimate: the '--system' option must be MODULE:FUNC or FILE.py:FUNC; got {spec!r}."
        )
    try:
        if where.endswith(".py"):
            path = Path(where)
            if not path.is_file():
                raise InvalidParameterError(
                    f"estimate: the '--system' file '{where}' does not exist."
                )
            module_spec = importlib.util.spec_from_file_location(path.stem, path)
            assert module_spec is not None and module_spec.loader is not None
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
        else:
            if os.getcwd() not in sys.path:
                sys.path.insert(0, os.getcwd())
            module = importlib.import_module(where)
    except LeakageError:
        raise
    except Exception as exc:  # the user's module failed to import
        raise InvalidParameterError(
            f"estimate: cannot import '{where}' for '--system' "
            f"({type(exc).__name__}: {_one_line(str(exc))[:200]})."
        ) from None
    func = getattr(module, name, None)
    if not callable(func):
        raise InvalidParameterError(f"estimate: '{where}' has no function '{name}' for '--system'.")
    return func


def _estimate_system(
    spec,
    prior,
    names,
    width,
    max_samples,
    vectorized,
    level,
    method,
    resamples,
    seed,
    test,
    b,
    json_out,
) -> None:
    """``leakage estimate --system``: one :func:`leakage.estimate.from_system` run per
    measure."""
    from . import estimate as est

    if prior is None:
        raise InvalidParameterError(
            "estimate: --system needs --prior (the distribution of the secrets 0..k-1, "
            "e.g. --prior 0.5,0.5)."
        )
    p = _pmf(prior, "--prior")
    func = _system_function(spec)
    options = {"level": "--level", "method": "--method", "resamples": "--resamples"}
    options.update({"base": "--base", "rng": "--seed", "width": "--width", "prior": "--prior"})
    options.update({"max_samples": "--max-samples"})
    results = []
    with _naming_options(options):
        for k, name in enumerate(names):
            func_name, label, info = _ESTIMATE_MEASURES[name]
            if method not in ("auto", "knn", "knn-log", "knn-log10") and func_name not in (
                "mutual_information",
                "bayes_risk",
            ):
                raise InvalidParameterError(
                    f"estimate: the '--method' option applies to mi and bayes-risk only; "
                    f"'--measure {name}' uses its plug-in estimate (drop --method)."
                )
            e = est.from_system(
                func,
                p,
                measure=func_name,
                width=width,
                level=level,
                max_samples=max_samples,
                method=method if func_name in ("mutual_information", "bayes_risk") else "auto",
                vectorized=vectorized,
                resamples=None if resamples == 1000 else resamples,
                base=b,
                rng=seed + k,
            )
            results.append((name, label, info, e))
    indep = None
    if test:
        first = results[0][3].details.get("counts")
        if first is None:
            raise InvalidParameterError(
                "estimate: --test needs discrete observables (drop --test with --method knn)."
            )
        indep = est.independence_test(first, rng=seed)
    for _, _, _, e in results:
        e.details.pop("counts", None)  # the table stays out of the JSON output
    stops = {e.details["stopped"] for _, _, _, e in results}
    title = f"{spec}: sampled until the interval width <= {width:g} ({', '.join(sorted(stops))})"
    head = {"system": spec, "width": width, "samples": {n: e.n for n, _, _, e in results}}
    _print_estimates(results, title, b, level, json_out, head, indep, samples=True)


# --------------------------------------------------------------------------- qif

qif_app = typer.Typer(
    no_args_is_help=True,
    help=(
        "Quantitative information flow (The Science of QIF): g-vulnerability and leakage, "
        "capacities, refinement with a witness. A gain matrix G[w, x] has one row per guess "
        "w and one column per secret x; without --gain, Bayes vulnerability (G = I)."
    ),
)
app.add_typer(qif_app, name="qif")

GainOpt = Annotated[
    str | None,
    typer.Option(
        "--gain",
        metavar="MATRIX",
        help="Gain G[w, x] (rows: guesses): inline ('1,0;0,1') or a file. Default: Bayes.",
    ),
]
TriesOpt = Annotated[
    int | None,
    typer.Option("--tries", min=1, help="Instead of --gain: the k-tries gain (k guesses)."),
]


def _gain(gain: str | None, tries: int | None, n_secrets: int) -> np.ndarray | None:
    from . import qif

    if gain is not None and tries is not None:
        raise InvalidParameterError("qif: give --gain or --tries, not both.")
    if tries is not None:
        with _naming_options({"k": "--tries"}):
            return qif.gains.k_tries(n_secrets, tries)
    return None if gain is None else load_array_arg(gain, name="--gain")


@qif_app.command("leakage")
def _qif_leakage(
    prior: Annotated[str, typer.Option("--prior", metavar="PMF", help=f"Prior: {_ARRAY_HELP}.")],
    channel: ChannelOpt,
    gain: GainOpt = None,
    tries: TriesOpt = None,
    base: BaseOpt = "2",
    json_out: JsonOpt = False,
) -> None:
    """Prior and posterior g-vulnerability, multiplicative and additive g-leakage."""
    from . import qif

    b = _number(base, "--base")
    pi, C = _pmf(prior, "--prior"), _channel(channel)
    G = _gain(gain, tries, pi.shape[0])
    with _naming_options({"prior": "--prior", "channel": "--channel", "gain": "--gain"}):
        v0 = float(qif.vulnerability(pi, G))
        v1 = float(qif.posterior_vulnerability(pi, C, G))
        add = float(qif.leakage(pi, C, G, kind="additive"))
        mult = float(qif.leakage(pi, C, G, kind="multiplicative", base=b)) if v0 > 0 else None
    unit = _unit(b)
    payload = {
        "gain": "bayes" if G is None else ("k-tries" if tries else "given"),
        "prior_vulnerability": v0,
        "posterior_vulnerability": v1,
        "additive_leakage": add,
        "multiplicative_leakage": mult,
        "unit": unit,
    }
    rows = [
        ("prior vulnerability V_g(pi)", _fmt(v0), UNITLESS),
        ("posterior vulnerability V_g[pi > C]", _fmt(v1), UNITLESS),
        ("additive leakage", _fmt(add), UNITLESS),
        ("multiplicative leakage", "n/a (V_g(pi) = 0)" if mult is None else _fmt(mult), unit),
    ]
    _emit(payload, ("quantity", "value", "unit"), rows, json_out)


@qif_app.command("capacity")
def _qif_capacity(
    channel: ChannelOpt,
    gain: GainOpt = None,
    tries: TriesOpt = None,
    base: BaseOpt = "2",
    json_out: JsonOpt = False,
) -> None:
    """Multiplicative g-capacity (exact, or bounds) and the additive Bayes capacity."""
    from . import qif

    b = _number(base, "--base")
    C = _channel(channel)
    G = _gain(gain, tries, C.shape[0])
    with _naming_options({"channel": "--channel", "gain": "--gain"}):
        m = qif.multiplicative_capacity(C, G, base=b)
        a = qif.additive_capacity(C) if C.shape[0] <= 16 else None
    unit = _unit(b)
    payload: dict[str, Any] = {"multiplicative": to_jsonable(m), "unit": unit}
    shown = _fmt(m.capacity) if m.capacity is not None else "not computed (bounds below)"
    rows = [
        (f"multiplicative capacity ({m.method})", shown, unit),
        ("  lower bound", _fmt(m.lower_bound), unit),
        ("  upper bound (Bayes capacity)", _fmt(m.upper_bound), unit),
    ]
    if a is not None:
        payload["additive"] = to_jsonable(a)
        support = ",".join(str(int(i)) for i in a.support)
        rows.append(("additive Bayes capacity", _fmt(a.capacity), UNITLESS))
        rows.append(("  at the prior uniform on secrets", support, ""))
    else:
        rows.append(("additive Bayes capacity", "not computed (over 16 secrets)", ""))
    _emit(payload, ("quantity", "value", "unit"), rows, json_out)


@qif_app.command("refines")
def _qif_refines(
    a: Annotated[str, typer.Option("--a", metavar="MATRIX", help="Channel A (the original).")],
    b: Annotated[str, typer.Option("--b", metavar="MATRIX", help="Channel B (post-processed?).")],
    out: Annotated[
        Path | None,
        typer.Option("--out", metavar="FILE.json", help="Write R or the witness gain here."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Is B a post-processing of A (B = A R)? R if so, else a prior and gain where B leaks
    more than A (verified)."""
    from . import qif
    from .io import atomic_write

    A = load_array_arg(a, name="--a", kind="channel")
    B = load_array_arg(b, name="--b", kind="channel")
    with _naming_options({"A": "--a", "B": "--b"}):
        r = qif.refines(A, B)
    payload = to_jsonable(r)
    if out is not None:
        with atomic_write(out) as f:
            json.dump(payload, f)
    if json_out:
        typer.echo(json.dumps(payload))
        return
    if r.refines:
        lines = [
            "B is a post-processing of A (A is refined by B): B never leaks more, for any "
            "prior and gain.",
            f"R found with max |A R - B| = {r.residual:.3g}"
            + (f"; written to {out}" if out else " (--out FILE.json to save it)."),
        ]
    else:
        lines = [
            "B is NOT a post-processing of A: a witness where B leaks more than A (verified):",
            f"  prior: uniform on {A.shape[0]} secrets; gain: {r.gain.shape[0]} x "
            f"{r.gain.shape[1]} in [0, 1]"
            + (f", written to {out}" if out else " (--out FILE.json to save it)"),
            f"  V_g[pi > B] - V_g[pi > A] = {_fmt(r.vulnerability_gap)}",
        ]
    _print_unwrapped(*lines)


# --------------------------------------------------------------------------- ldp

ldp_app = typer.Typer(
    no_args_is_help=True,
    help=(
        "Local differential privacy: frequency-estimation protocols (grr, oue, rappor, olh, "
        "blh, hadamard, subset-selection) and any channel, set side by side under every "
        "metric (epsilon in nats; leakages in units of log base, bits by default)."
    ),
)
app.add_typer(ldp_app, name="ldp")


def _protocol(name: str, k: int | None, eps: str | None):
    from . import ldp

    key = name.replace("-", "_")
    if key not in ldp.PROTOCOLS:
        raise InvalidParameterError(
            f"ldp: the '--protocol' option must be one of "
            f"{', '.join(n.replace('_', '-') for n in ldp.PROTOCOLS)}; got {name!r} instead."
        )
    if k is None or eps is None:
        raise InvalidParameterError("ldp: --protocol needs --k (values) and --eps (nats).")
    with _naming_options({"k": "--k", "eps": "--eps"}):
        return ldp.PROTOCOLS[key](k, _number(eps, "--eps"))


@ldp_app.command("report")
def _ldp_report(
    protocol: Annotated[
        str | None,
        typer.Option("--protocol", metavar="NAME", help="grr, oue, rappor, olh, blh, ..."),
    ] = None,
    k: Annotated[int | None, typer.Option("--k", help="Number of values (--protocol).")] = None,
    eps: Annotated[
        str | None, typer.Option("--eps", metavar="EPS", help="Budget in nats (--protocol).")
    ] = None,
    channel: Annotated[
        str | None,
        typer.Option(
            "--channel", metavar="MATRIX", help="Instead of --protocol: any channel P(y|x)."
        ),
    ] = None,
    prior: Annotated[
        str | None,
        typer.Option("--prior", metavar="PMF", help="Prior / frequencies (default uniform)."),
    ] = None,
    n: Annotated[int | None, typer.Option("--n", min=1, help="Users, for the variance.")] = None,
    base: BaseOpt = "2",
    json_out: JsonOpt = False,
) -> None:
    """Every privacy metric of one mechanism, side by side, and its estimator's variance."""
    from . import ldp

    if (protocol is None) == (channel is None):
        raise InvalidParameterError(
            "ldp report: give exactly one mechanism: --protocol NAME --k K --eps EPS, or "
            "--channel MATRIX."
        )
    b = _number(base, "--base")
    mech = _protocol(protocol, k, eps) if protocol is not None else _channel(channel)
    p = None if prior is None else _pmf(prior, "--prior")
    with _naming_options({"prior": "--prior", "n": "--n", "mechanism": "--channel"}):
        r = ldp.report(mech, p, n=n, base=b)
    if json_out:
        typer.echo(json.dumps(r.to_dict()))
        return
    unit = _unit(b)
    rows = [
        ("epsilon (LDP)", _fmt(r.epsilon), r.epsilon_unit),
        ("maximal leakage", _fmt(r.maximal_leakage), unit),
        ("point-wise maximal leakage (max over y)", _fmt(r.pointwise_maximal_leakage), unit),
        ("Sibson MI, alpha = 2", _fmt(r.sibson_2), unit),
        ("Sibson MI, alpha = inf", _fmt(r.sibson_inf), unit),
        ("mutual information", _fmt(r.mutual_information), unit),
        ("multiplicative Bayes leakage", _fmt(r.bayes_leakage), unit),
        ("Bayes capacity", _fmt(r.bayes_capacity), unit),
    ]
    if r.variance_total is not None:
        who = f"n = {n:,}" if n is not None else "per user (n Var)"
        rows.append((f"estimator variance, sum over values ({who})", _fmt(r.variance_total), ""))
    table = Table("metric", "value", "unit", box=None, pad_edge=False, header_style="bold")
    for row in rows:
        table.add_row(*row)
    head = f"{r.name}: {r.k} inputs, {r.n_outputs} outputs; prior {r.prior_note}"
    _print_unwrapped(head, table, f"variance: {r.variance_note}")


@ldp_app.command("plot")
def _ldp_plot(
    out: Annotated[Path, typer.Option("--out", metavar="FILE.png", help="Figure to write.")],
    k: Annotated[int, typer.Option("--k", min=2, help="Number of values.")] = 4,
    protocols: Annotated[
        str, typer.Option("--protocols", metavar="LIST", help="Comma-separated protocol names.")
    ] = "grr,oue,rappor,olh,hadamard,subset-selection",
) -> None:
    """The metrics of several protocols against epsilon, at one k (a PNG figure)."""
    import matplotlib.pyplot as plt

    from . import ldp
    from .io import atomic_write

    names = [s.strip().replace("-", "_") for s in protocols.split(",") if s.strip()]
    bad = [s for s in names if s not in ldp.PROTOCOLS]
    if bad or not names:
        raise InvalidParameterError(
            f"ldp plot: the '--protocols' option must list names from "
            f"{', '.join(n.replace('_', '-') for n in ldp.PROTOCOLS)}; got {protocols!r}."
        )
    with _naming_options({"k": "--k"}):
        fig = ldp.plot_report_vs_epsilon(tuple(names), k=k)
    try:
        with atomic_write(out, "wb") as f:
            fig.savefig(f, format="png", dpi=120)
    finally:
        plt.close(fig)
    typer.echo(f"figure written to {out}")
