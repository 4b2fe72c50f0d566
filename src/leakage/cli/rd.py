"""``leakage rd``: the rate-distortion function, certified."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from ..errors import InvalidParameterError
from ._common import (
    BaseOpt,
    JsonOpt,
    PxOpt,
    _fmt,
    _number,
    _pmf,
    _print_unwrapped,
    _spinner,
    _unit,
    app,
    load_array_arg,
    to_jsonable,
)

if TYPE_CHECKING:
    import numpy as np

rd_app = typer.Typer(
    no_args_is_help=True,
    help=(
        "Rate-distortion function R(D) = min I(X;X^) s.t. E d(X,X^) <= D (eq. (14) of "
        "paper 000), certified: every value comes with lower and upper bounds."
    ),
)
app.add_typer(rd_app, name="rd")

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
    from ..ratedistortion import DISTORTIONS

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
    from ..ratedistortion import rate_distortion

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
    import numpy as np

    from ..ratedistortion import MAX_CURVE_POINTS, distortion_range, rate_distortion_curve

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
        from ..io import atomic_write

        with atomic_write(out, newline="") as f:
            f.write(f"D,rate_{unit},lower_{unit},upper_{unit},slope\n")
            for row in zip(c.D, c.rate, c.lower, c.upper, c.slope, strict=True):
                f.write(",".join(repr(float(v)) for v in row) + "\n")
    if plot is not None:
        from ..plotting import plot_figure
        from ..reproduce import Figure, Series

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
