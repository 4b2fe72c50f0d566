"""Reproduce the published results the library is built on.

Each entry computes, from the problem data, the numbers a paper prints and the data of
its figures, and sets every published number beside ours. Entries return *data*
(:class:`Reproduction`); :func:`run` writes it out as CSV tables, PNG figures and one
``report.md`` with a row per published number: published value, ours, absolute
difference, tolerance and verdict, and per entry the versions of Python and of the
numerical packages it was computed with (also in ``<id>/environment.json``).

>>> from leakage import reproduce
>>> [e.id for e in reproduce.available()]  # doctest: +ELLIPSIS
['000-intro'...]
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as _dt
import importlib
import io as _io
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from .._figures import Figure, Series
from ..errors import InvalidParameterError

__all__ = [
    "CHECK",
    "KINDS",
    "PUBLISHED",
    "Comparison",
    "Entry",
    "Figure",
    "Reproduction",
    "Series",
    "Table",
    "available",
    "compute",
    "environment",
    "headline",
    "register",
    "run",
    "write_report",
]

#: :attr:`Comparison.kind` of a number, formula or claim the paper prints
PUBLISHED = "published"
#: :attr:`Comparison.kind` of an internal check (certificate, consistency, derived form)
CHECK = "check"
KINDS = (PUBLISHED, CHECK)

# Modules holding entries; importing one registers its entries.
_ENTRY_MODULES = ("paper000", "paper001", "paper002")


@dataclasses.dataclass(frozen=True)
class Comparison:
    """One published number set beside ours.

    ``relation`` is ``"=="`` (the numbers *agree* when ``|ours - published| <=
    tolerance``), ``">="`` or ``"<="`` (the paper claims a bound; it *holds* when ours
    satisfies it within ``tolerance``). ``tolerance`` reflects how the paper printed the
    number (e.g. 5e-4 for three decimals) or, for closed forms, numerical precision.

    ``erratum`` names a known slip of the paper (ERRATA.md) that makes the published
    number wrong. Such a row is expected *not* to agree: its verdict is ``erratum`` when
    it does not, and ``AGREES despite erratum`` (a failure: the erratum needs another
    look) when it does.

    ``kind`` says what the row is. ``"published"`` (the default): a number, formula or
    claim the paper prints, evaluated from the problem data. ``"check"``: an internal
    check the paper does not state — a certificate of one of our solvers, two of our
    computations agreeing, a closed form we derived, a sanity bound. The report counts
    the two kinds apart.
    """

    quantity: str
    published: float
    ours: float
    tolerance: float
    source: str
    relation: str = "=="
    unit: str = ""
    note: str = ""
    erratum: str = ""
    kind: str = PUBLISHED

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidParameterError(
                f"Comparison: the 'kind' argument must be one of {KINDS}; got {self.kind!r} "
                "instead."
            )

    @property
    def difference(self) -> float:
        return abs(self.ours - self.published)

    @property
    def agrees(self) -> bool:
        """Whether ours agrees with the published number (or satisfies the claimed bound)."""
        if self.relation == ">=":
            return self.ours >= self.published - self.tolerance
        if self.relation == "<=":
            return self.ours <= self.published + self.tolerance
        return self.difference <= self.tolerance

    @property
    def ok(self) -> bool:
        """Agrees, or is a documented erratum that indeed does not agree."""
        return self.agrees != bool(self.erratum)

    @property
    def verdict(self) -> str:
        if self.erratum:
            return "erratum" if not self.agrees else "AGREES despite erratum"
        if self.relation == "==":
            return "match" if self.agrees else "MISMATCH"
        return "holds" if self.agrees else "VIOLATED"


@dataclasses.dataclass(frozen=True)
class Table:
    """A table written as ``<name>.csv``."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple, ...]


@dataclasses.dataclass(frozen=True)
class Reproduction:
    """Everything one entry produces."""

    id: str
    paper: str
    title: str
    description: str
    comparisons: tuple[Comparison, ...]
    tables: tuple[Table, ...] = ()
    figures: tuple[Figure, ...] = ()
    notes: tuple[str, ...] = ()
    #: what the entry was computed with (:func:`environment`), filled in by :func:`run`
    environment: dict = dataclasses.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.comparisons)


@dataclasses.dataclass(frozen=True)
class Entry:
    id: str
    paper: str
    title: str
    compute: Callable[[], Reproduction]


_REGISTRY: dict[str, Entry] = {}


def register(id: str, *, paper: str, title: str):
    """Decorator registering a function ``() -> Reproduction`` as entry ``id``."""

    def deco(fn: Callable[[], Reproduction]) -> Callable[[], Reproduction]:
        if id in _REGISTRY and _REGISTRY[id].compute is not fn:
            raise InvalidParameterError(f"register: reproduction id {id!r} is already taken.")
        _REGISTRY[id] = Entry(id=id, paper=paper, title=title, compute=fn)
        return fn

    return deco


def _load() -> None:
    for name in _ENTRY_MODULES:
        importlib.import_module(f"{__name__}.{name}")


def available() -> list[Entry]:
    """All registered entries, in registration order."""
    _load()
    return list(_REGISTRY.values())


def _resolve(ids: str | Sequence[str]) -> list[Entry]:
    entries = available()
    if isinstance(ids, str):
        ids = [ids]
    if list(ids) == ["all"] or not ids:
        return entries
    known = {e.id: e for e in entries}
    out = []
    for i in ids:
        if i not in known:
            raise InvalidParameterError(
                f"reproduce: the 'ids' argument must name registered entries or 'all' "
                f"(known: {', '.join(known)}); got {i!r} instead."
            )
        out.append(known[i])
    return out


#: the numerical packages whose releases can move a reproduced number
SOLVER_PACKAGES = ("numpy", "scipy", "cvxpy", "clarabel", "highspy")


def environment() -> dict[str, str]:
    """Versions of Python, ``leakage`` and the numerical packages (``SOLVER_PACKAGES``) in
    this process; ``"not installed"`` for an absent one. HiGHS behind
    ``scipy.optimize.linprog`` is the copy bundled with scipy."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    env = {"python": platform.python_version(), "machine": platform.machine()}
    for name in ("leakage", *SOLVER_PACKAGES):
        try:
            env[name] = version(name)
        except PackageNotFoundError:
            env[name] = "not installed"
    return env


def compute(id: str) -> Reproduction:
    """Compute one entry without writing anything."""
    return _resolve([id])[0].compute()


def _fmt(x: float) -> str:
    if isinstance(x, (int, np.integer)):
        return str(x)
    if not math.isfinite(x):
        return str(x)
    return f"{x:.10g}"


def _table_csv(table: Table) -> str:
    buf = _io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(table.columns)
    for row in table.rows:
        w.writerow([repr(float(v)) if isinstance(v, (float, np.floating)) else v for v in row])
    return buf.getvalue()


def _comparisons_csv(rep: Reproduction) -> Table:
    return Table(
        name="comparisons",
        columns=(
            "quantity",
            "source",
            "relation",
            "published",
            "ours",
            "abs_difference",
            "tolerance",
            "unit",
            "verdict",
            "erratum",
            "kind",
        ),
        rows=tuple(
            (
                c.quantity,
                c.source,
                c.relation,
                c.published,
                c.ours,
                c.difference,
                c.tolerance,
                c.unit,
                c.verdict,
                c.erratum,
                c.kind,
            )
            for c in rep.comparisons
        ),
    )


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|")


def _section(rep: Reproduction, files: list[str]) -> str:
    lines = [f"## `{rep.id}` — {rep.title}", "", f"*{rep.paper}.* {rep.description}", ""]
    lines += [
        "| quantity | where | published | ours | abs. difference | tolerance | verdict | kind |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in rep.comparisons:
        rel = "" if c.relation == "==" else c.relation + " "
        unit = f" {c.unit}" if c.unit else ""
        lines.append(
            f"| {_cell(c.quantity)} | {_cell(c.source)} | {rel}{_fmt(c.published)}{unit} "
            f"| {_fmt(c.ours)}{unit} | {c.difference:.3g} | {c.tolerance:.3g} | {c.verdict} "
            f"| {c.kind} |"
        )
    errata: dict[str, list[str]] = {}
    for c in rep.comparisons:
        if c.erratum:
            errata.setdefault(c.erratum, []).append(c.quantity)
    if errata:
        lines += ["", "Errata (ERRATA.md) behind the rows marked *erratum*:", ""]
        lines += [f"- {'; '.join(qs)}: {text}" for text, qs in errata.items()]
    lines.append("")
    for f in files:
        if f.endswith(".png"):
            lines.append(f"![{Path(f).stem}]({f})")
        else:
            lines.append(f"- [{Path(f).name}]({f})")
    if rep.notes:
        lines += ["", "Notes:", ""] + [f"- {n}" for n in rep.notes]
    if rep.environment:
        env = dict(rep.environment)
        secs = env.pop("seconds", None)
        lines += [
            "",
            "Computed with "
            + ", ".join(f"{k} {v}" for k, v in env.items())
            + (f" in {secs:.1f} s." if secs is not None else "."),
        ]
    return "\n".join(lines) + "\n"


def headline(comparisons: Sequence[Comparison]) -> str:
    """The report's first line: published numbers and internal checks counted apart.

    >>> headline([Comparison("a", 1.0, 1.0, 0.0, "s"), Comparison("b", 0.0, 0.0, 0.0, "s",
    ...           kind=CHECK)])
    '**1 of 1 published numbers reproduced**. **1 of 1 internal checks pass**.'
    """
    pub = [c for c in comparisons if c.kind == PUBLISHED]
    chk = [c for c in comparisons if c.kind == CHECK]
    bad = sum(not c.ok for c in pub)
    errata = sum(c.ok and bool(c.erratum) for c in pub)
    chk_bad = sum(not c.ok for c in chk)
    return (
        f"**{len(pub) - bad - errata} of {len(pub)} published numbers reproduced**"
        + (f"; {errata} differ as ERRATA.md documents" if errata else "")
        + (f"; {bad} do not match (see the verdict column)." if bad else ".")
        + f" **{len(chk) - chk_bad} of {len(chk)} internal checks pass**"
        + (f"; {chk_bad} fail (see the verdict column)." if chk_bad else ".")
    )


def write_report(reps: Sequence[Reproduction], out_dir: Path, files: dict[str, list[str]]) -> Path:
    """Write ``report.md`` summarizing ``reps`` (atomically) and return its path."""
    from .. import __version__
    from ..io import atomic_write

    rows = [c for r in reps for c in r.comparisons]
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    head = [
        "# Reproduction report",
        "",
        f"`leakage` {__version__}, {stamp}. Information quantities are in bits unless a row "
        "says otherwise.",
        "",
        headline(rows),
        "",
        "Rows of kind *published* set a number, formula or claim printed in a paper beside "
        "ours; rows of kind *check* are internal checks the papers do not state (solver "
        "certificates, two of our computations agreeing, closed forms we derived) and are "
        "counted apart.",
        "",
    ]
    body = [_section(r, files.get(r.id, [])) for r in reps]
    path = out_dir / "report.md"
    with atomic_write(path) as f:
        f.write("\n".join(head) + "\n" + "\n".join(body))
    return path


def run(
    ids: str | Sequence[str] = "all",
    out_dir: str | os.PathLike[str] = "results",
    *,
    plots: bool = True,
    progress: Callable[[str, str], None] | None = None,
) -> list[Reproduction]:
    """Compute entries and write their CSV tables, PNG figures and ``report.md``.

    Parameters
    ----------
    ids : str or sequence of str, default "all"
        Entry ids (see :func:`available`) or ``"all"``.
    out_dir : path-like, default "results"
        Output folder; each entry writes into ``out_dir/<id>/``. Every file is written
        atomically.
    plots : bool, default True
        Draw PNG figures (needs matplotlib, the ``plot`` extra).
    progress : callable, optional
        Called as ``progress(entry_id, stage)`` with stage ``"start"``/``"done"``.

    Returns
    -------
    list of Reproduction
    """
    from ..io import atomic_write

    entries = _resolve(ids)
    out = Path(out_dir)
    reps: list[Reproduction] = []
    files: dict[str, list[str]] = {}
    for e in entries:
        if progress:
            progress(e.id, "start")
        t0 = time.perf_counter()
        rep = e.compute()
        env = {**environment(), "seconds": round(time.perf_counter() - t0, 2)}
        rep = dataclasses.replace(rep, environment=env)
        d = out / e.id
        written = []
        for t in (*rep.tables, _comparisons_csv(rep)):
            with atomic_write(d / f"{t.name}.csv", newline="") as f:
                f.write(_table_csv(t))
            written.append(f"{e.id}/{t.name}.csv")
        with atomic_write(d / "environment.json") as f:
            f.write(json.dumps(env, indent=2) + "\n")
        written.append(f"{e.id}/environment.json")
        if plots:
            from ..plotting import plot_figure

            for fig in rep.figures:
                plot_figure(fig, d / f"{fig.name}.png")
                written.append(f"{e.id}/{fig.name}.png")
        files[e.id] = written
        reps.append(rep)
        if progress:
            progress(e.id, "done")
    write_report(reps, out, files)
    return reps
