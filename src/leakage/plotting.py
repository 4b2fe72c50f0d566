"""Figures with matplotlib, imported lazily: ``import leakage`` never loads this module.

Reproduction entries return figure *data* (:class:`leakage.reproduce.Figure`); this
module draws it. Install the ``plot`` extra (``pip install 'leakage[plot]'``).
"""

from __future__ import annotations

import os
import textwrap
from typing import TYPE_CHECKING

from .errors import MissingDependencyError
from .io import atomic_write

if TYPE_CHECKING:  # pragma: no cover
    from .reproduce import Figure

__all__ = ["plot_figure"]

_STYLES = {
    "line": {"linestyle": "-", "marker": None},
    "dashed": {"linestyle": "--", "marker": None},
    "markers": {"linestyle": "none", "marker": "o", "markerfacecolor": "none", "markersize": 8},
    "line+markers": {"linestyle": "-", "marker": "o"},
}


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(
            "plotting needs matplotlib, which is not installed; "
            "install it with: pip install 'leakage[plot]'"
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
    fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
    try:
        if figure.image is not None:
            x, y, z, label = figure.image
            mesh = ax.pcolormesh(x, y, z, shading="auto", cmap="viridis")
            fig.colorbar(mesh, ax=ax, label=label)
        for s in figure.series:
            ax.plot(s.x, s.y, label=s.label, **_STYLES.get(s.style, _STYLES["line"]))
        ax.set_title(textwrap.fill(figure.title, 60), fontsize="medium")
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
            ax.legend(fontsize="small")
        with atomic_write(path, "wb") as f:
            fig.savefig(f, format="png", dpi=dpi)
    finally:
        plt.close(fig)
