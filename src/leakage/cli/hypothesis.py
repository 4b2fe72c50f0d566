"""``leakage hypothesis``: privacy mechanisms for hypothesis testing (paper 002)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from ..errors import InvalidParameterError
from ._common import (
    _ARRAY_HELP,
    BaseOpt,
    JsonOpt,
    _fmt,
    _naming_options,
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

hypothesis_app = typer.Typer(
    no_args_is_help=True,
    help=(
        "Paper 002: local privacy mechanisms W for hypothesis testing: maximize the "
        "Chernoff-Stein exponent min_k D(p_k W || p_1 W) subject to I(p_k, W) <= eps_k "
        "(units of log base, bits by default)."
    ),
)
app.add_typer(hypothesis_app, name="hypothesis")

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
    import numpy as np

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
    max_time: Annotated[
        str | None,
        typer.Option(
            "--max-time",
            metavar="SECONDS",
            help="With --exact: wall-clock budget; once spent, the best mechanism and the "
            "bound proved so far are printed (status not_certified).",
        ),
    ] = None,
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
    import numpy as np

    from ..hypothesis import design_binary, design_mary, optimal_mechanism, within_budget
    from ..mechanism import Mechanism

    b = _number(base, "--base")
    P = _hypotheses(p1, p2, ps)
    budgets = np.atleast_1d(load_array_arg(eps, name="--eps"))
    if budgets.size == 1:
        budgets = np.full(P.shape[0], float(budgets[0]))
    a = None if alpha is None else _number(alpha, "--alpha")
    w = w0 if w0 == "auto" else _pmf(w0, "--w0")
    if max_time is not None and not exact:
        raise InvalidParameterError(
            "hypothesis design: '--max-time' bounds the certified optimum: add '--exact'."
        )
    t_max = None if max_time is None else _number(max_time, "--max-time")
    names = {
        "eps": "--eps",
        "alpha": "--alpha",
        "w0": "--w0",
        "utility": "--utility",
        "max_time": "--max-time",
    }
    with _naming_options(names), _spinner("designing the mechanism"):
        if exact:
            design = optimal_mechanism(P, budgets, utility=utility, alpha=a, base=b, max_time=t_max)
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
    status = design.details.get("status")
    if status is not None:
        limits = ", ".join(design.details.get("limits", [])) or "none"
        summary.add_row("status", f"{status.value} (limits reached: {limits})", "")
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
    import numpy as np

    from ..hypothesis import simulate_test
    from ..mechanism import Mechanism

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
