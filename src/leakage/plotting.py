"""Figures with matplotlib, imported lazily: ``import leakage`` never loads this module.

Reproduction entries return figure *data* (:class:`leakage.reproduce.Figure`, defined in
:mod:`leakage._figures` below both modules); this module draws it. Install the ``plot``
extra: ``pip install -e ".[plot]"`` in a checkout, ``pip install 'leakage[plot]'``
otherwise.
"""

from __future__ import annotations

import os
import re
import textwrap

from ._figures import Figure
from .errors import MissingDependencyError
from .io import atomic_write

__all__ = ["plot_figure"]

_STYLES = {
    "line": {"linestyle": "-", "marker": None},
    "dashed": {"linestyle": "--", "marker": None},
    "markers": {"linestyle": "none", "marker": "o", "markerfacecolor": "none", "markersize": 8},
    "line+markers": {"linestyle": "-", "marker": "o"},
    # drawn over the curves before it, hollow: visible where it coincides with one
    "dashed+markers": {
        "linestyle": "--",
        "marker": "o",
        "markerfacecolor": "none",
        "markersize": 9,
        "markeredgewidth": 1.5,
        "zorder": 3,
    },
}

_HOLLOW_MARKERS = ("o", "s", "^", "D")

_MATH = re.compile(r"\$[^$]*\$")


def _fill(text: str, width: int) -> str:
    """``textwrap.fill`` that never breaks a line inside ``$...$`` (mathtext is laid out
    per line, so a split formula would be drawn as raw text)."""
    glued = _MATH.sub(lambda m: m.group(0).replace(" ", "\0"), text)
    return textwrap.fill(glued, width).replace("\0", " ")


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(
            "plotting needs matplotlib, which is not installed; install the 'plot' extra: "
            'pip install -e ".[plot]" in a checkout of leakage, pip install '
            "'leakage[plot]' otherwise"
        ) from exc
    return plt


def plot_figure(figure: Figure, path: str | os.PathLike[str], *, dpi: int = 150) -> None:
    """Draw a reproduction :class:`~leakage.reproduce.Figure` and save it as PNG, atomically.

    Parameters
    ----------
    figure : leakage.reproduce.Figure
        Title, axis labels (with units) and series (x, y, label, style).
    path : path-like
        Output file (``.png``); written through a temporary file and renamed, so a
        failure never leaves a partial image.
    dpi : int, default 150
        Resolution.
    """
    plt = _pyplot()
    # the legend goes to the right of the axes, never over a curve
    fig, ax = plt.subplots(figsize=(8.6, 4.6 if figure.note else 4.4), layout="constrained")
    try:
        if figure.image is not None:
            x, y, z, label = figure.image
            mesh = ax.pcolormesh(x, y, z, shading="auto", cmap="viridis")
            fig.colorbar(mesh, ax=ax, label=label)
        hollow = 0
        for s in figure.series:
            style = dict(_STYLES.get(s.style, _STYLES["line"]))
            if s.style == "dashed+markers":
                # successive hollow-marker curves get other shapes and smaller sizes, so two
                # that coincide both stay visible
                style["marker"] = _HOLLOW_MARKERS[hollow % len(_HOLLOW_MARKERS)]
                style["markersize"] = max(5, 11 - 2 * hollow)
                hollow += 1
            ax.plot(s.x, s.y, label=s.label, **style)
        ax.set_title(_fill(figure.title, 70), fontsize="medium")
        ax.set_xlabel(figure.xlabel)
        ax.set_ylabel(figure.ylabel)
        if figure.logy:
            ax.set_yscale("log")
        if figure.logx:
            ax.set_xscale("log")
        if figure.integer_x:
            ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(True, alpha=0.3)
        if figure.series:
            ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0))
        if figure.note:
            fig.supxlabel(_fill(figure.note, 110), fontsize="small", color="0.3")
        with atomic_write(path, "wb") as f:
            fig.savefig(f, format="png", dpi=dpi)
    finally:
        plt.close(fig)
