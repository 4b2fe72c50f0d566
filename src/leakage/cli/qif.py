"""``leakage qif``: quantitative information flow (g-leakage, capacities, refinement)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import InvalidParameterError
from ._common import (
    _ARRAY_HELP,
    UNITLESS,
    BaseOpt,
    ChannelOpt,
    JsonOpt,
    _channel,
    _emit,
    _fmt,
    _naming_options,
    _number,
    _pmf,
    _print_unwrapped,
    _unit,
    app,
    load_array_arg,
    to_jsonable,
)

if TYPE_CHECKING:
    import numpy as np

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
    from .. import qif

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
    from .. import qif

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
    from .. import qif

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
    from .. import qif
    from ..io import atomic_write

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
