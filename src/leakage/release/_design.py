"""Design a release mechanism on a fitted joint, and refuse one over its budgets."""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InfeasibleError, InvalidParameterError
from ..mechanism import Mechanism
from ..results import PointwiseDesign, to_jsonable
from ._fit import Coder, FittedJoint

_FORMAT = "leakage.release.Release/1"
METHODS = ("l1", "l1-exact", "chi2")


@dataclasses.dataclass(frozen=True)
class Release:
    """What a curator applies to a table: P(U|Y) with the labels it maps between.

    ``labels_y`` are the useful column's categories (rows of ``mechanism``), ``labels_u``
    the released letters (columns); ``budgets`` and ``leakages`` are per released letter
    (unitless ℓ1 or √χ², per ``measure``), ``leakages`` exact on the fitted joint."""

    mechanism: Mechanism
    private: str
    useful: str
    labels_x: list
    labels_y: list
    labels_u: list
    bins: dict
    measure: str
    method: str
    budgets: np.ndarray
    leakages: np.ndarray
    utility: float
    base: float
    fitted_joint: np.ndarray

    def check(self, tol: float = 1e-9, func: str = "Release") -> None:
        """Recompute every letter's exact leakage of ``mechanism`` on ``fitted_joint`` and
        refuse (:class:`~leakage.InfeasibleError`) a release over any budget — e.g. a
        release file whose mechanism was edited."""
        from ._fit import _letter_leakage

        W = self.mechanism.matrix
        if W.shape != (len(self.labels_y), len(self.labels_u)) or self.fitted_joint.shape != (
            len(self.labels_x),
            len(self.labels_y),
        ):
            raise InvalidParameterError(f"{func}: the release's shapes do not match its labels.")
        leak = _letter_leakage(self.fitted_joint, W, self.measure)
        over = np.nan_to_num(leak - self.budgets, nan=-np.inf)
        if np.any(over > tol):
            k = int(np.argmax(over))
            raise InfeasibleError(
                f"{func}: released letter {self.labels_u[k]} would leak {leak[k]:.6g} > its "
                f"budget {self.budgets[k]:.6g} ({self.measure}) on the fitted joint; the "
                "mechanism is refused."
            )

    @functools.cached_property
    def _coder(self) -> Coder:
        return Coder.for_column(self.labels_y, self.bins, self.useful)

    def coder(self, which: str = "useful") -> Coder:
        """The coder of the useful column (the one applied; built once per release), or of
        the private column (``which="private"``, for audits)."""
        if which == "useful":
            return self._coder
        return Coder.for_column(self.labels_x, self.bins, self.private)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            "mechanism": self.mechanism.to_dict(),
            **{
                k: to_jsonable(getattr(self, k))
                for k in (
                    "private",
                    "useful",
                    "labels_x",
                    "labels_y",
                    "labels_u",
                    "bins",
                    "measure",
                    "method",
                    "budgets",
                    "leakages",
                    "utility",
                    "base",
                    "fitted_joint",
                )
            },
        }

    def save(self, path) -> None:
        """Write the release as JSON, atomically."""
        from ..io import atomic_write

        with atomic_write(path) as f:
            json.dump(self.to_dict(), f, indent=2)
            f.write("\n")

    @classmethod
    def load(cls, path) -> Release:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InvalidParameterError(f"Release.load: cannot read '{path}' ({exc}).") from None
        if data.get("format") != _FORMAT:
            raise InvalidParameterError(f"Release.load: '{path}' is not a release file.")
        m = data["mechanism"]
        mech = Mechanism(np.asarray(m["matrix"], dtype=float), m.get("provenance", {}))
        return cls(
            mechanism=mech,
            private=data["private"],
            useful=data["useful"],
            labels_x=list(data["labels_x"]),
            labels_y=list(data["labels_y"]),
            labels_u=list(data["labels_u"]),
            bins={k: list(v) for k, v in data["bins"].items()},
            measure=data["measure"],
            method=data["method"],
            budgets=np.asarray(data["budgets"], dtype=float),
            leakages=np.asarray(
                [np.nan if v == "nan" else v for v in data["leakages"]], dtype=float
            ),
            utility=float(data["utility"]),
            base=float(data["base"]),
            fitted_joint=np.asarray(data["fitted_joint"], dtype=float),
        )


def design(
    fitted: FittedJoint,
    eps,
    *,
    method: str = "l1",
    labels_u=None,
    base: float = 2,
    tol: float = 1e-9,
) -> Release:
    r"""A point-wise design (paper 001) on the fitted joint, as a :class:`Release`.

    ``method``: ``"l1"`` (the extreme-point LP, :func:`leakage.pointwise.design_l1`),
    ``"l1-exact"`` (:func:`~leakage.pointwise.optimal_l1`) or ``"chi2"``
    (:func:`~leakage.pointwise.design_chi2`). ``eps`` is one budget per released letter.
    The mechanism's *exact* per-letter leakage on the fitted joint is checked against the
    budgets: a letter over its budget by more than ``tol`` raises
    :class:`~leakage.InfeasibleError` and nothing is released.
    """
    from ..pointwise import design_chi2, design_l1, optimal_l1

    if method not in METHODS:
        raise InvalidParameterError(
            f"design: 'method' must be one of {', '.join(map(repr, METHODS))}; got {method!r}."
        )
    func = {"l1": design_l1, "l1-exact": optimal_l1, "chi2": design_chi2}[method]
    d: PointwiseDesign = func(fitted.joint, eps, base=base)
    K = d.mechanism.shape[1]
    labels = [f"u{k}" for k in range(K)] if labels_u is None else [str(v) for v in labels_u]
    if len(labels) != K or len(set(labels)) != K:
        raise InvalidParameterError(
            f"design: 'labels_u' needs {K} distinct labels (one per released letter)."
        )
    prov = {"method": d.method, "measure": d.measure, "budgets": to_jsonable(d.budgets)}
    r = Release(
        mechanism=Mechanism(d.mechanism, prov),
        private=fitted.private,
        useful=fitted.useful,
        labels_x=list(fitted.labels_x),
        labels_y=list(fitted.labels_y),
        labels_u=labels,
        bins=dict(fitted.bins),
        measure=d.measure,
        method=d.method,
        budgets=np.asarray(d.budgets, dtype=float),
        leakages=np.asarray(d.leakages, dtype=float),
        utility=float(d.utility),
        base=float(d.base),
        fitted_joint=fitted.joint.copy(),
    )
    r.check(tol, "design")  # the exact leakage, recomputed: nothing over budget is released
    return r
