"""``leakage pointwise``: design a release mechanism under point-wise leakage budgets."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from ..errors import DesignWarning, InvalidParameterError
from ._common import (
    DESIGN_MEASURES,
    UNITLESS,
    BaseOpt,
    JsonOpt,
    _fmt,
    _naming_options,
    _number,
    _print_unwrapped,
    _spinner,
    _unit,
    app,
    load_array_arg,
    to_jsonable,
)

if TYPE_CHECKING:
    from ..results import PointwiseDesign

pointwise_app = typer.Typer(
    no_args_is_help=True,
    help=(
        "Paper 001: design a release mechanism P(U|Y) for useful data Y correlated with "
        "private data X, under one point-wise leakage budget per released letter u."
    ),
)
app.add_typer(pointwise_app, name="pointwise")

# --------------------------------------------------------------------------- pointwise


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
    from ..mechanism import Mechanism
    from ..pointwise import design_chi2, design_l1, optimal_l1

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
