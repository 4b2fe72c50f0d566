"""``leakage cipher``: the successive-refinement Shannon cipher (paper 000): leakage
regions and key-rate limits; building and using the code is in :mod:`.cipher_code`."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

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
from .rd import TolOpt, _distortion

cipher_app = typer.Typer(
    no_args_is_help=True,
    help=(
        "Paper 000: the successive-refinement Shannon cipher under maximal leakage: the "
        "asymptotic leakage regions (Theorems 1 and 3) and the key-rate limits of "
        "Corollaries 2 and 4. Rates, key rates and alpha in units of log base (bits)."
    ),
)
app.add_typer(cipher_app, name="cipher")

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
    import numpy as np

    from ..cipher import leakage_region, leakage_region_curve

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
        from ..io import atomic_write

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
        from ..plotting import plot_figure
        from ..reproduce import Figure, Series

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
    import numpy as np

    from ..cipher import key_rate_limits

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
    _print_unwrapped(table, f"status: {kr.status.value}")
