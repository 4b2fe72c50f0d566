"""``leakage ldp``: local differential privacy protocols and their metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..errors import InvalidParameterError
from ._common import (
    BaseOpt,
    JsonOpt,
    _channel,
    _fmt,
    _naming_options,
    _number,
    _pmf,
    _print_unwrapped,
    _unit,
    app,
)

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
    from .. import ldp

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
    from .. import ldp

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

    from .. import ldp
    from ..io import atomic_write

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
