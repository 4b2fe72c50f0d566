"""``leakage release apply`` and ``leakage release audit`` (the group is in :mod:`.release`)."""

from __future__ import annotations

import json
import math
import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..errors import InvalidParameterError
from ._common import JsonOpt, _fmt, _leakage_label, _naming_options, _print_unwrapped, to_jsonable
from .release import _RELEASE_OPTIONS, DataOpt, ForceOpt, release_app


def _apply_key(key: str | None, key_file: Path | None, out: Path, overwrite: bool, insecure: bool):
    """The key to use and the key file written for it (None when the key was given)."""
    from ..release import new_key, read_key
    from ..release._keys import check_key

    if key is not None:
        if key_file is not None:
            raise InvalidParameterError(
                "release apply: give either '--key' (an existing key) or '--key-file' (where "
                "a new key is written), not both."
            )
        if key.startswith("@"):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                raw = read_key(key[1:], insecure=insecure)
            for w in caught:
                typer.echo(f"warning: {w.message}", err=True)
            return raw, None
        return check_key(key, insecure=insecure, func="release apply", name="--key"), None
    path = key_file if key_file is not None else out.with_name(out.name + ".key")
    if path.exists() and not overwrite:
        from ..errors import OutputExistsError

        raise OutputExistsError(
            f"release apply: the key file '{path}' exists; a new key is drawn for every run "
            "without --key. Pass --key @FILE to reuse that key, --key-file for another "
            "path, or --overwrite to replace it."
        )
    return new_key(), path


@release_app.command("apply")
def _release_apply(
    release: Annotated[Path, typer.Option("--release", metavar="FILE", help="Release JSON.")],
    data: DataOpt,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            metavar="FILE",
            help="The public table (.csv/.parquet): the released column and the --keep "
            "columns only (never the private column).",
        ),
    ],
    keep: Annotated[
        list[str] | None,
        typer.Option(
            "--keep",
            metavar="COL",
            help="A source column to copy to the public table (a row key, say); repeat or "
            "separate by commas. Never the private column; the useful one warns.",
        ),
    ] = None,
    audit_out: Annotated[
        Path | None,
        typer.Option(
            "--audit-out",
            metavar="FILE",
            help="Also write a private audit file of (X, U) per record (mode 0600) for "
            "'release audit'.",
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            metavar="HEX|@FILE",
            help="The secret key of the random stream (>= 128 bits, hexadecimal, or @FILE "
            "to read a key file). Default: 256 new bits from the OS, written to --key-file.",
        ),
    ] = None,
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            metavar="FILE",
            help="Where a new key is written (mode 0600; default: OUT.key); refused if it "
            "exists unless --overwrite.",
        ),
    ] = None,
    release_id: Annotated[
        str | None,
        typer.Option(
            "--release-id",
            metavar="ID",
            help="Not secret; with the key it fixes every draw. Default: a new id per run.",
        ),
    ] = None,
    insecure_key: Annotated[
        bool,
        typer.Option(
            "--insecure-key",
            help="Accept a --key shorter than 128 bits (tests and reproducible examples "
            "only: a short key can be found by search).",
        ),
    ] = False,
    mode: Annotated[
        str,
        typer.Option(
            "--mode", metavar="OCTAL", help="File mode of the public table (e.g. 644 to share)."
        ),
    ] = "600",
    column: Annotated[str, typer.Option("--column", help="Released column name.")] = "released",
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 1 << 20,
    unknown: Annotated[
        str,
        typer.Option(
            "--unknown", metavar="error|drop|map:LABEL", help="Unseen or missing useful values."
        ),
    ] = "error",
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace --out, --audit-out, --key-file.")
    ] = False,
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
            help="With --engine dask: threads (default), processes, or a Dask cluster's "
            "address (tcp://...), whose workers see the data.",
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", hidden=True)] = None,
    force: ForceOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Release every record: the public table (U and the --keep columns; mode 0600) and,
    with --audit-out, a private audit file (streamed; each appears atomically).

    A record's draw depends only on (key, release id, row index, its useful value): the
    output is the same whatever the batch size or engine. Keep the key private: with it,
    the public table gives Y away (threat model: the 'leakage.release' docs).
    """
    from ..release import Release, write_key

    if seed is not None:
        raise InvalidParameterError(
            "release apply: '--seed' was replaced by '--key': a small integer seed can be "
            "found by search, and with it the released column gives Y away. Drop --seed (a "
            "new 256-bit key is drawn and written to --key-file), or pass --key @FILE."
        )
    try:
        perms = int(mode, 8)
    except ValueError:
        perms = -1
    if not 0 <= perms <= 0o777:
        raise InvalidParameterError(
            f"release apply: the '--mode' option must be an octal file mode such as 600 or "
            f"644; got {mode!r}."
        )
    kept = [c.strip() for spec in keep or () for c in spec.split(",") if c.strip()]
    r = Release.load(release, force=force)
    raw, new_key_path = _apply_key(key, key_file, out, overwrite, insecure_key)
    common = dict(
        key=raw,
        release_id=release_id,
        keep=kept,
        audit_out=audit_out,
        column=column,
        unknown=unknown,
        overwrite=overwrite,
        perms=perms,
        insecure_key=insecure_key,
    )
    if engine not in ("stream", "dask"):
        raise InvalidParameterError(
            f"release apply: the '--engine' option must be 'stream' or 'dask'; got {engine!r}."
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if new_key_path is not None:  # written first (no-replace); removed if the run fails
            write_key(new_key_path, raw, overwrite=overwrite)
        try:
            info = _run_apply(r, data, out, engine, scheduler, batch_size, json_out, common)
        except BaseException:
            if new_key_path is not None:
                new_key_path.unlink(missing_ok=True)
            raise
    for w in caught:
        typer.echo(f"warning: {w.message}", err=True)
    info["key_file"] = None if new_key_path is None else str(new_key_path)
    if json_out:
        typer.echo(json.dumps(to_jsonable(info)))
        return
    lines = [
        f"{info['written']:,} records written to {out} ({info['dropped']:,} dropped) in "
        f"{info['seconds']:.2f} s ({info['rate']:,.0f} records/s); public columns: "
        f"{', '.join(info['columns'])}; mode {perms:04o}",
        f"release id: {info['release_id']} (not secret; with the key it reproduces the draws)",
    ]
    if audit_out is not None:
        lines.append(f"private audit file (X, U; mode 0600): {audit_out}")
    if new_key_path is not None:
        lines.append(
            f"key written to {new_key_path} (mode 0600): keep it private; with it the public "
            "table gives Y away"
        )
    typer.echo("\n".join(lines))


def _run_apply(r, data, out, engine, scheduler, batch_size, json_out, common):
    from ..release import apply, apply_dask

    if engine == "stream":
        progress = not json_out and sys.stderr.isatty()
        with _naming_options(_RELEASE_OPTIONS):
            return apply(r, data, out, batch_size=batch_size, progress=progress, **common)
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
            return apply_dask(r, data, out, scheduler=client, **common)
    with _naming_options(_RELEASE_OPTIONS):
        return apply_dask(r, data, out, scheduler=scheduler or "threads", **common)


@release_app.command("audit")
def _release_audit(
    release: Annotated[Path, typer.Option("--release", metavar="FILE", help="Release JSON.")],
    data: Annotated[
        Path,
        typer.Option(
            "--data",
            metavar="FILE",
            help="The audit file (--audit-out of apply), or with --source the public table.",
        ),
    ],
    source: Annotated[
        Path | None,
        typer.Option(
            "--source",
            metavar="FILE",
            help="The table the release was applied to: its records are matched in order "
            "with the public --data (the dropped ones found again by --unknown).",
        ),
    ] = None,
    unknown: Annotated[
        str,
        typer.Option("--unknown", metavar="error|drop|map:LABEL", help="As given to apply."),
    ] = "error",
    column: Annotated[str, typer.Option("--column", help="Released column name.")] = "released",
    bootstrap: Annotated[int, typer.Option("--bootstrap", min=10)] = 1000,
    level: Annotated[float, typer.Option("--level", help="Interval level.")] = 0.95,
    seed: Annotated[int, typer.Option("--seed", min=0)] = 0,
    plot: Annotated[Path | None, typer.Option("--plot", metavar="PNG")] = None,
    force: ForceOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Plug-in leakage of each released letter with bootstrap intervals, beside the
    design's exact value and the budget; flags letters whose design value lies outside."""
    from ..release import Release, audit, plot_audit

    r = Release.load(release, force=force)
    with _naming_options({**_RELEASE_OPTIONS, "rng": "--seed", "source": "--source"}):
        a = audit(
            r,
            data,
            column=column,
            source=source,
            unknown=unknown,
            bootstrap=bootstrap,
            level=level,
            rng=seed,
        )
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
    lines: list = [f"audit of {data} ({a.n:,} records, {_leakage_label(a.measure)}, unitless)", t]
    if plot is not None:
        lines.append(f"plot written to {plot}")
    _print_unwrapped(*lines)
