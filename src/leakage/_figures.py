"""Figure *data*: what a reproduction entry returns and :mod:`leakage.plotting` draws.

This module sits below both :mod:`leakage.reproduce` (which builds figures) and
:mod:`leakage.plotting` (which draws them), so neither imports the other for the type.
``from leakage.reproduce import Figure, Series`` keeps working (re-exported there).
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["SERIES_STYLES", "Figure", "Series"]

#: the drawing styles a :class:`Series` may ask for
SERIES_STYLES = (
    "line",
    "dashed",
    "markers",
    "line+markers",
    # a dashed line with hollow markers: stays visible where it lies on another curve
    "dashed+markers",
)


@dataclasses.dataclass(frozen=True)
class Series:
    """One curve: ``label`` (matplotlib mathtext allowed between ``$``), ``x``, ``y`` and a
    ``style`` from :data:`SERIES_STYLES`."""

    label: str
    x: np.ndarray
    y: np.ndarray
    style: str = "line"


@dataclasses.dataclass(frozen=True)
class Figure:
    """Data of a figure written as ``<name>.png`` (drawn by :mod:`leakage.plotting`).

    ``note`` is a sentence printed under the axes (e.g. which curves coincide where).
    """

    name: str
    title: str
    xlabel: str
    ylabel: str
    series: tuple[Series, ...]
    logy: bool = False
    integer_x: bool = False
    logx: bool = False
    #: optional heat map ``(x (n,), y (m,), z (m, n), colorbar label)`` under the series
    image: tuple | None = None
    note: str = ""
