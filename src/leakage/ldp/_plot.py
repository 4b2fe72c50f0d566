"""Figure: the report's metrics against ε for several LDP protocols (matplotlib, lazy)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..errors import MissingDependencyError
from ._common import raise_param
from ._protocols import PROTOCOLS
from ._report import report

__all__ = ["plot_report_vs_epsilon"]

_METRICS = {
    "maximal_leakage": "maximal leakage [bits]",
    "pointwise_maximal_leakage": "point-wise maximal leakage [bits]",
    "mutual_information": "mutual information [bits]",
    "sibson_2": "Sibson MI, alpha = 2 [bits]",
    "bayes_leakage": "multiplicative Bayes leakage [bits]",
    "variance_total": "n * sum_v Var[f_hat_v]",
}


def plot_report_vs_epsilon(
    protocols: Sequence[str] = ("grr", "oue", "olh", "hadamard", "subset_selection", "rappor"),
    *,
    k: int = 4,
    eps_grid: ArrayLike | None = None,
    metrics: Sequence[str] = ("maximal_leakage", "mutual_information", "variance_total"),
    prior: ArrayLike | None = None,
    ax: Any = None,
):
    """Plot :func:`leakage.ldp.report` metrics against ε (nats) for several protocols.

    Parameters
    ----------
    protocols : sequence of str
        Names among ``grr, oue, rappor, olh, blh, hadamard, subset_selection``.
    k : int, default 4
        Domain size (small: the exact channels are built).
    eps_grid : array-like, optional
        The budgets (nats); default ``np.linspace(0.25, 3, 12)``.
    metrics : sequence of str
        Fields of :class:`~leakage.ldp.LDPReport` (information quantities in bits;
        ``"variance_total"`` is per user, ``n`` times the summed variance).
    prior : (k,) array-like, optional
        Prior and frequency vector of the report (uniform when ``None``).
    ax : matplotlib Axes or sequence of Axes, optional
        One axes per metric; a new figure with one panel per metric when ``None``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fn = "plot_report_vs_epsilon"
    for name in protocols:
        if name not in PROTOCOLS:
            raise_param(fn, "protocols", f"hold names among {sorted(PROTOCOLS)}", repr(name))
    for mname in metrics:
        if mname not in _METRICS:
            raise_param(fn, "metrics", f"hold names among {sorted(_METRICS)}", repr(mname))
    grid = np.linspace(0.25, 3.0, 12) if eps_grid is None else np.asarray(eps_grid, dtype=float)
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(
            "plotting needs matplotlib, which is not installed; "
            "install the 'plot' extra: pip install -e \".[plot]\" in a checkout of "
            "leakage, pip install 'leakage[plot]' otherwise."
        ) from exc
    if ax is None:
        fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.4), squeeze=False)
        axes = list(axes[0])
    else:
        axes = list(np.atleast_1d(ax))
        if len(axes) != len(metrics):
            raise_param(fn, "ax", f"hold one axes per metric ({len(metrics)})", f"{len(axes)} axes")
        fig = axes[0].figure
    for name in protocols:
        reps = [report(PROTOCOLS[name](k, float(e)), prior) for e in grid]
        for a, mname in zip(axes, metrics, strict=True):
            a.plot(grid, [getattr(r, mname) for r in reps], marker="o", ms=3, label=name)
    for a, mname in zip(axes, metrics, strict=True):
        a.set_xlabel("epsilon [nats]")
        a.set_ylabel(_METRICS[mname])
        if mname == "variance_total":
            a.set_yscale("log")
    axes[0].legend(fontsize="small")
    axes[0].set_title(f"k = {k}")
    fig.tight_layout()
    return fig
