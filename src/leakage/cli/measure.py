"""``leakage measure``: information measures of distributions and channels."""

from __future__ import annotations

import math
from collections.abc import Callable
from importlib import import_module
from typing import Annotated, Any

import typer

from ._common import (
    AlphaOpt,
    BaseOpt,
    ChannelOpt,
    JsonOpt,
    POpt,
    PxOpt,
    QOpt,
    _channel,
    _emit,
    _fmt,
    _leakage_label,
    _number,
    _pmf,
    _report,
    _unit,
    app,
    to_jsonable,
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

#: leakage.measures.POINTWISE_MEASURES, spelled out: importing it would import NumPy
_POINTWISE_MEASURES = ("chi2", "l1", "kl", "max_lift")


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
    from ..measures import entropy

    b = _number(base, "--base")
    _report("entropy", "H(p)", entropy(_pmf(p), base=b), base=b, json_out=json_out)


@_command("kl-divergence", "kl")
def _kl(p: POpt, q: QOpt, base: BaseOpt = "2", json_out: JsonOpt = False) -> None:
    """Relative entropy (Kullback-Leibler divergence) D(p||q)."""
    from ..measures import kl_divergence

    b = _number(base, "--base")
    value = kl_divergence(_pmf(p), _pmf(q, "--q"), base=b)
    _report("kl_divergence", "D(p||q)", value, base=b, json_out=json_out)


@_command("renyi-divergence", "renyi")
def _renyi(
    p: POpt, q: QOpt, alpha: AlphaOpt, base: BaseOpt = "2", json_out: JsonOpt = False
) -> None:
    """Renyi divergence D_alpha(p||q) of order alpha in (0, inf]."""
    from ..measures import renyi_divergence

    b, a = _number(base, "--base"), _number(alpha, "--alpha")
    value = renyi_divergence(_pmf(p), _pmf(q, "--q"), a, base=b)
    label = f"D_alpha(p||q), alpha={_fmt(a)}"
    _report("renyi_divergence", label, value, base=b, json_out=json_out, alpha=a)


def _unitless_divergence(name: str, alias: str, func_name: str, label: str, summary: str) -> None:
    """Register a unitless divergence of two distributions (no --base)."""

    def command(p: POpt, q: QOpt, json_out: JsonOpt = False) -> None:
        func = getattr(import_module("leakage.measures"), func_name)
        value = func(_pmf(p), _pmf(q, "--q"))
        _report(func.__name__, label, value, base=None, json_out=json_out)

    command.__doc__ = summary
    _command(name, alias)(command)


_unitless_divergence(
    "chi2-divergence",
    "chi2",
    "chi2_divergence",
    "chi^2(p||q)",
    "Pearson chi^2 divergence (unitless).",
)
_unitless_divergence(
    "total-variation",
    "tv",
    "total_variation",
    "TV(p, q)",
    "Total variation distance ||p - q||_1 / 2 (unitless).",
)


def _channel_measure(name: str, alias: str, func_name: str, label: str, summary: str) -> None:
    """Register a leakage measure of an input distribution and a channel (with --base)."""

    def command(
        p: PxOpt, channel: ChannelOpt, base: BaseOpt = "2", json_out: JsonOpt = False
    ) -> None:
        func = getattr(import_module("leakage.measures"), func_name)
        b = _number(base, "--base")
        value = func(_pmf(p), _channel(channel), base=b)
        _report(func.__name__, label, value, base=b, json_out=json_out)

    command.__doc__ = summary
    _command(name, alias)(command)


_channel_measure(
    "mutual-information",
    "mi",
    "mutual_information",
    "I(X;Y)",
    "Mutual information I(X;Y) of input p through the channel.",
)
_channel_measure(
    "maximal-leakage",
    "maxl",
    "maximal_leakage",
    "L(X->Y)",
    "Maximal leakage L(X->Y) = log sum_y max_{x: p(x)>0} P(y|x).",
)


@_command("sibson-mutual-information", "sibson")
def _sibson(
    p: PxOpt, channel: ChannelOpt, alpha: AlphaOpt, base: BaseOpt = "2", json_out: JsonOpt = False
) -> None:
    """Sibson's alpha-mutual information I_alpha(X;Y); alpha=inf gives maximal leakage."""
    from ..measures import sibson_mutual_information

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
            metavar="|".join(_POINTWISE_MEASURES),
            help="chi2 (sqrt of chi^2), l1 (l1 norm), kl or max_lift (log of max lift).",
        ),
    ],
    base: BaseOpt = "2",
    json_out: JsonOpt = False,
) -> None:
    """Point-wise leakage of every output letter u: distance of P(X|U=u) from P(X)."""
    import numpy as np

    from ..measures import pointwise_leakage

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
    _emit(payload, ("output u", _leakage_label(measure), "unit"), rows, json_out)


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
    from ..measures import channel_capacity

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
