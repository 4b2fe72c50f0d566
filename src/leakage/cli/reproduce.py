"""``leakage reproduce``: recompute the published figures and numbers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ._common import app

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

    from .. import reproduce

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
