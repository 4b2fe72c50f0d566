"""``leakage release``: fit, design, apply and audit a data release."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..errors import InvalidParameterError
from ._common import (
    BaseOpt,
    JsonOpt,
    _fmt,
    _leakage_label,
    _naming_options,
    _number,
    _print_unwrapped,
    _spinner,
    _unit,
    app,
    load_array_arg,
    to_jsonable,
)

ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Load a release file whose integrity hash is missing or does not match "
        "(its fields are still checked; a warning says so).",
    ),
]

release_app = typer.Typer(
    no_args_is_help=True,
    help=(
        "Data release: fit the joint of a private and a useful column of a table (CSV or "
        "Parquet), design P(U|Y) under per-letter budgets (paper 001), apply it to every "
        "record (streamed, deterministic per record, atomic), and audit the result."
    ),
)
app.add_typer(release_app, name="release")

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
    "key": "--key",
    "release_id": "--release-id",
    "keep": "--keep",
    "audit_out": "--audit-out",
    "perms": "--mode",
    "released": "--data",
    "column": "--column",
    "bootstrap": "--bootstrap",
    "level": "--level",
    "quantile": "--quantile",
    "scheduler": "--scheduler",
    "batch_size": "--batch-size",
    "optimal_l1()": "--method l1-exact",
}

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
    from ..release import fit

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
    from ..release import design, posterior_leakage

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
        f"I(U;Y) = {_fmt(r.utility)} {_unit(b)} (exact, fitted joint); "
        f"{_leakage_label(r.measure)} is unitless; method: {r.method}",
        f"release written to {out}",
    )


# apply and audit live in .release_run (registered after fit and design, in this order)
from . import release_run  # noqa: E402, F401  isort: skip
