"""Design a release mechanism on a fitted joint, and refuse one over its budgets."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import as_channel, as_joint, check_choice
from ..errors import (
    InfeasibleError,
    IntegrityError,
    IntegrityWarning,
    InvalidParameterError,
    LeakageError,
)
from ..mechanism import Mechanism
from ..results import PointwiseDesign, to_jsonable
from ._checks import check_finite, check_instance, check_path, is_real, param_error, show
from ._fit import Coder, FittedJoint, as_binning

_PREFIX = "leakage.release.Release/"
_VERSION = 1
_FORMAT = f"{_PREFIX}{_VERSION}"
METHODS = ("l1", "l1-exact", "chi2")
MEASURES = ("l1", "chi2")
_FIELDS = (
    "mechanism",
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


class _Fields:
    """Validation of a release's fields, from the constructor or from a file.

    Errors name ``func`` and the field as the argument (constructor), or the ``path``
    argument and the field as an entry of the file (:meth:`Release.load`)."""

    def __init__(self, func: str, path: Any = None):
        self.func, self.path = func, path

    def error(self, field: str, requirement: str, got: Any = None, *, got_text=None, cause=None):
        text = show(got) if got_text is None else got_text
        if self.path is None:
            exc = param_error(self.func, field, requirement, got_text=text)
        else:
            exc = InvalidParameterError(
                f"{self.func}: the 'path' argument must be a release file written by "
                f'Release.save, whose "{field}" entry must {requirement}; got {text} instead '
                f"(in '{self.path}'). Write the file again with Release.save (or `leakage "
                "release design`)."
            )
        raise exc from cause

    @contextlib.contextmanager
    def reading(self, field: str, requirement: str):
        """Low-level errors (and the library's own, for files) inside the block become one
        error about ``field``, the original as ``__cause__``."""
        try:
            yield
        except LeakageError as exc:
            if self.path is None:
                raise
            inner = str(exc).removeprefix(f"{self.func}: ")
            self.error(field, requirement, got_text=f"an entry that fails: {inner}", cause=exc)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
            self.error(
                field,
                requirement,
                got_text=f"an entry that cannot be read ({type(exc).__name__}: {exc})",
                cause=exc,
            )

    def text(self, raw: Mapping, field: str) -> str:
        v = raw[field]
        if not isinstance(v, str) or not v:
            self.error(field, "be a non-empty string", v)
        return v

    def labels(self, raw: Mapping, field: str) -> list:
        v = raw[field]
        req = "be a non-empty list of distinct strings"
        if not isinstance(v, (list, tuple)) or not v:
            self.error(field, req, v)
        bad = next((x for x in v if not isinstance(x, str)), None)
        if bad is not None:
            self.error(field, req, got_text=f"the entry {show(bad)}")
        if len(set(v)) != len(v):
            seen: set = set()
            dup = next(x for x in v if x in seen or seen.add(x))
            self.error(field, req, got_text=f"{dup!r} twice")
        return list(v)

    def floats(self, raw: Mapping, field: str, k: int, *, nan_ok: bool) -> np.ndarray:
        """``k`` numbers, finite and >= 0 (or nan when ``nan_ok``); "nan" read as nan."""
        req = f"be {k} finite numbers >= 0 (one per released letter)"
        if nan_ok:
            req = f"be {k} numbers >= 0 or nan (one per released letter; nan: never released)"
        with self.reading(field, req):
            v = raw[field]
            if isinstance(v, (str, bytes)):
                raise TypeError(f"a string, {v!r}")
            a = np.asarray(v, dtype=float)
        if a.shape != (k,):
            self.error(field, req, got_text=f"an array of shape {a.shape}")
        ok = (a >= 0) & np.isfinite(a)
        if nan_ok:
            ok |= np.isnan(a)
        if not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            self.error(field, req, got_text=f"{float(a[i])!r} at index {i}")
        return a

    def number(self, raw: Mapping, field: str, requirement: str, ok) -> float:
        v = raw[field]
        if not is_real(v) or not ok(float(v)):
            self.error(field, requirement, v)
        return float(v)

    def validate(self, raw: Any) -> dict[str, Any]:
        """Every field checked and normalized (arrays float64, labels lists of str, ...)."""
        missing = [k for k in _FIELDS if k not in raw]
        if missing:
            self.error(missing[0], "be present", got_text="no such entry")
        out: dict[str, Any] = {}
        m = raw["mechanism"]
        if isinstance(m, Mechanism):
            out["mechanism"] = m
        elif self.path is not None and isinstance(m, Mapping) and "matrix" in m:
            req = 'be a mechanism: {"matrix": P(u|y) row-stochastic, "provenance": {...}}'
            with self.reading("mechanism", req):
                W = as_channel(m["matrix"], func=self.func, name="mechanism.matrix")
                out["mechanism"] = Mechanism(W, m.get("provenance", {}))
        else:
            what = "a leakage.Mechanism" if self.path is None else 'an object with a "matrix"'
            self.error("mechanism", f"be {what}", m)
        out["private"] = self.text(raw, "private")
        out["useful"] = self.text(raw, "useful")
        if out["useful"] == out["private"]:
            self.error("useful", f"differ from 'private' ({out['private']!r})", out["useful"])
        for k in ("labels_x", "labels_y", "labels_u"):
            out[k] = self.labels(raw, k)
        nx, ny, nu = (len(out[k]) for k in ("labels_x", "labels_y", "labels_u"))
        W = out["mechanism"].matrix
        if W.shape != (ny, nu):
            self.error(
                "mechanism",
                f"have one row per label of 'labels_y' ({ny}) and one column per label of "
                f"'labels_u' ({nu})",
                got_text=f"a matrix of shape {W.shape}",
            )
        out["bins"] = self.bins(raw, out)
        v = raw["measure"]
        if not isinstance(v, str) or v not in MEASURES:
            self.error("measure", "be 'l1' or 'chi2'", v)
        out["measure"] = v
        out["method"] = self.text(raw, "method")
        out["budgets"] = self.floats(raw, "budgets", nu, nan_ok=False)
        out["leakages"] = self.floats(raw, "leakages", nu, nan_ok=True)
        out["utility"] = self.number(raw, "utility", "be a finite number", np.isfinite)
        out["base"] = self.number(
            raw,
            "base",
            "be a finite number > 1 (the logarithm base of 'utility': 2 for bits)",
            lambda b: np.isfinite(b) and b > 1,
        )
        req = f"be a joint distribution of shape ({nx}, {ny}) (labels_x x labels_y)"
        with self.reading("fitted_joint", req):
            J = as_joint(raw["fitted_joint"], func=self.func, name="fitted_joint")
        if J.shape != (nx, ny):
            self.error("fitted_joint", req, got_text=f"an array of shape {J.shape}")
        out["fitted_joint"] = J
        return out

    def bins(self, raw: Mapping, out: dict) -> dict:
        v = raw["bins"]
        cols = (out["private"], out["useful"])
        if not isinstance(v, Mapping):
            self.error("bins", "be a mapping column -> increasing edges", v)
        res = {}
        for col, edges in v.items():
            if col not in cols:
                self.error(
                    "bins",
                    f"give edges only for '{cols[0]}' and '{cols[1]}'",
                    got_text=f"edges for {col!r}",
                )
            req = f"give increasing finite edges (at least two) for '{col}'"
            try:
                b = as_binning(edges, col, self.func, name="bins")
            except LeakageError as exc:
                self.error("bins", req, edges, cause=exc)
            labels = out["labels_x" if col == cols[0] else "labels_y"]
            if b is None or b.labels != labels:
                which = "labels_x" if col == cols[0] else "labels_y"
                self.error(
                    "bins",
                    f"give the edges of the bins of '{col}' listed in '{which}'",
                    edges,
                )
            res[col] = list(b.edges)
        return res


@dataclasses.dataclass(frozen=True)
class Release:
    """What a curator applies to a table: P(U|Y) with the labels it maps between.

    ``labels_y`` are the useful column's categories (rows of ``mechanism``), ``labels_u``
    the released letters (columns); ``budgets`` and ``leakages`` are per released letter
    (unitless ℓ1 or √χ², per ``measure``), ``leakages`` exact on the fitted joint.

    Every field is validated on construction (and by :meth:`load`): distinct string labels
    whose counts match the shapes of ``mechanism`` and ``fitted_joint``, two different
    column names, ``bins`` only for those columns and matching their labels, ``measure``
    ``"l1"`` or ``"chi2"``, finite budgets >= 0, leakages >= 0 or nan, a finite
    ``utility``, ``base`` > 1 and a valid joint; anything else raises
    :class:`~leakage.InvalidParameterError` (or :class:`~leakage.InvalidDistributionError`)
    naming the field."""

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

    def __post_init__(self) -> None:
        fields = _Fields("Release").validate({k: getattr(self, k) for k in _FIELDS})
        for k, v in fields.items():
            object.__setattr__(self, k, v)

    def check(self, tol: float = 1e-9, func: str = "Release") -> None:
        """Recompute every letter's exact leakage of ``mechanism`` on ``fitted_joint`` and
        refuse (:class:`~leakage.InfeasibleError`) a release over any budget — e.g. a
        release file whose mechanism was edited."""
        from ._fit import _letter_leakage

        tol = check_finite(tol, func=func, name="tol")
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
        """The release as JSON-ready data, with ``"sha256"``: the SHA-256 of the rest in
        canonical form (sorted keys, no spaces), checked by :meth:`load`."""
        content = {
            "format": _FORMAT,
            "mechanism": self.mechanism.to_dict(),
            **{k: to_jsonable(getattr(self, k)) for k in _FIELDS if k != "mechanism"},
        }
        return {**content, "sha256": _digest(content)}

    def save(self, path) -> None:
        """Write the release as JSON, atomically."""
        from ..io import atomic_write

        with atomic_write(path) as f:
            json.dump(self.to_dict(), f, indent=2)
            f.write("\n")

    @classmethod
    def load(cls, path, *, force: bool = False) -> Release:
        """Read a release written by :meth:`save`; every field is validated again, and the
        file's ``"sha256"`` must match its content (an edited file is refused).

        ``force=True`` loads a file whose hash is missing or does not match, with a
        :class:`~leakage.IntegrityWarning` (its fields are still validated).

        Raises
        ------
        InvalidParameterError
            For a path that cannot be read as UTF-8 JSON, a file that is not a release, a
            format version other than 1 (the one this library writes), a missing entry or
            an invalid one (the message names it); the low-level error is the
            ``__cause__``.
        """
        fn = "Release.load"
        check_path(path, func=fn, name="path", what="the path of a release JSON file")
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as exc:  # incl. JSON and UTF-8 errors
            raise InvalidParameterError(
                f"{fn}: the 'path' argument must be a readable release JSON file; cannot read "
                f"'{path}' ({type(exc).__name__}: {exc})."
            ) from exc
        fmt = data.get("format") if isinstance(data, dict) else None
        if fmt != _FORMAT:
            if isinstance(fmt, str) and fmt.startswith(_PREFIX):
                raise InvalidParameterError(
                    f"{fn}: the 'path' argument must be a release file in format version "
                    f"{_VERSION} ({_FORMAT!r}, the version this library writes); got version "
                    f"{fmt[len(_PREFIX) :]!r} in '{path}' instead. Read it with the leakage "
                    "version that wrote it, or design the release again."
                )
            what = (
                f"a JSON {type(data).__name__}"
                if not isinstance(data, dict)
                else f"an object with format {show(fmt)}"
            )
            raise InvalidParameterError(
                f"{fn}: the 'path' argument must be a release file (a JSON object with "
                f'"format": "{_FORMAT}"); got \'{path}\', which is not a release file '
                f"({what}), instead."
            )
        release = cls(**_Fields(fn, path).validate(data))
        stored = data.get("sha256")
        content = {k: v for k, v in data.items() if k != "sha256"}
        if stored != _digest(content):
            problem = (
                'has no integrity hash ("sha256")'
                if stored is None
                else 'does not match its integrity hash ("sha256"): it was edited or damaged'
            )
            if not force:
                raise IntegrityError(
                    f"{fn}: the release file '{path}' {problem}; a release is applied to "
                    "records as written, so it is refused. Design it again, or pass "
                    "force=True (CLI: --force) to load it anyway."
                )
            warnings.warn(
                f"{fn}: the release file '{path}' {problem}; loaded anyway because of "
                "force=True: its fields are valid, but nothing vouches for its content.",
                IntegrityWarning,
                stacklevel=2,
            )
        return release


def _digest(content: Mapping) -> str:
    """SHA-256 of ``content`` as canonical JSON (sorted keys, compact separators)."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _robust(fitted, d: PointwiseDesign, func, q, base: float) -> PointwiseDesign:
    """The design for budgets ``s * eps`` with the largest ``s`` in [0, 1] (bisection to
    1e-3) whose posterior ``q``-quantile leakage meets ``eps`` on every released letter."""
    import dataclasses

    from ..errors import InfeasibleError
    from ._fit import posterior_leakage

    if not (isinstance(q, (int, float)) and not isinstance(q, bool) and 0 < q < 1):
        raise param_error("design", "robust", "be a posterior quantile in (0, 1), e.g. 0.95", q)
    eps = np.asarray(d.budgets, dtype=float)

    def meets(dd: PointwiseDesign) -> bool:
        post = posterior_leakage(fitted, dd.mechanism, measure=dd.measure, quantile=q, rng=0)
        qv = post["quantile"]
        used = ~np.isnan(qv)
        return bool(np.all(qv[used] <= eps[used]))

    if meets(d):
        best, s_best = d, 1.0
    else:
        lo, hi, best, s_best = 0.0, 1.0, None, 0.0
        while hi - lo > 1e-3:
            mid = 0.5 * (lo + hi)
            try:
                dd = func(fitted.joint, eps * mid, base=base)
            except InfeasibleError:  # no design of this method at these budgets
                hi = mid
                continue
            if meets(dd):
                lo, best, s_best = mid, dd, mid
            else:
                hi = mid
        if best is None:
            try:  # s = 0: every budget zero (its letters may still leak under the posterior)
                dd = func(fitted.joint, eps * 0.0, base=base)
            except InfeasibleError:
                dd = None
            if dd is not None and meets(dd):
                best = dd
            else:  # a constant mechanism: U independent of Y leaks nothing under any joint
                from ..pointwise._problem import finish, make_problem

                K = eps.size
                best = finish(
                    make_problem(fitted.joint, eps, func="design"),
                    np.full((fitted.joint.shape[1], K), 1.0 / K),
                    measure=d.measure,
                    method="constant mechanism (no design meets the budgets at the quantile)",
                    utility_approx_nats=float("nan"),
                    base=base,
                    details={},
                )
    return dataclasses.replace(
        best,
        budgets=eps,
        method=best.method
        + f"; robust: budgets scaled by {s_best:.4g} so that the posterior q{q:g} leakage "
        "meets them",
    )


def design(
    fitted: FittedJoint,
    eps=None,
    *,
    method: str = "l1",
    labels_u=None,
    base: float = 2,
    tol: float = 1e-9,
    robust: float | None = None,
) -> Release:
    r"""A point-wise design (paper 001) on the fitted joint, as a :class:`Release`.

    ``method``: ``"l1"`` (the extreme-point LP, :func:`leakage.pointwise.design_l1`),
    ``"l1-exact"`` (:func:`~leakage.pointwise.optimal_l1`) or ``"chi2"``
    (:func:`~leakage.pointwise.design_chi2`). ``eps`` is one budget per released letter.
    The mechanism's *exact* per-letter leakage on the fitted joint is checked against the
    budgets: a letter over its budget by more than ``tol`` raises
    :class:`~leakage.InfeasibleError` and nothing is released.

    Parameters
    ----------
    fitted : FittedJoint
        From :func:`fit`.
    eps : array-like
        One budget >= 0 per released letter (required; the default only turns a missing
        one into a clear error; validated by the design method).
    method : {"l1", "l1-exact", "chi2"}
    labels_u : sequence, optional
        One distinct label per released letter (default ``u0, u1, ...``).
    base : float
        Logarithm base of the utility, > 1.
    tol : float
        A finite number: the slack of the exact budget check (negative: stricter).
    robust : float, optional
        A posterior quantile in (0, 1), e.g. 0.95: design for budgets scaled by the
        largest factor ``s`` in [0, 1] (bisection, to 1e-3) such that every letter's
        leakage at that quantile of the Dirichlet posterior over the joint
        (:func:`posterior_leakage`, 2,000 draws, seeded) meets its budget ``eps`` — a
        release safe against the estimation error of a fitted joint, not only on it.
        The release keeps the budgets ``eps``; its method names ``s``.

    Raises
    ------
    InvalidParameterError
        For any argument outside the above.
    InfeasibleError
        When the mechanism leaks over a budget on the fitted joint.
    """
    from ..pointwise import design_chi2, design_l1, optimal_l1

    fn = "design"
    check_instance(fitted, FittedJoint, func=fn, name="fitted", what="a FittedJoint (from fit)")
    if eps is None:
        raise param_error(
            fn, "eps", "be one leakage budget >= 0 per released letter, e.g. [0.05, 0.05]", eps
        )
    check_choice(method, METHODS, func=fn, name="method")
    tol = check_finite(tol, func=fn, name="tol")
    if labels_u is not None and (
        isinstance(labels_u, (str, bytes, Mapping)) or not hasattr(labels_u, "__iter__")
    ):
        raise param_error(fn, "labels_u", "be a sequence of distinct labels", labels_u)
    func = {"l1": design_l1, "l1-exact": optimal_l1, "chi2": design_chi2}[method]
    d: PointwiseDesign = func(fitted.joint, eps, base=base)
    if robust is not None:
        d = _robust(fitted, d, func, robust, base)
    K = d.mechanism.shape[1]
    labels = [f"u{k}" for k in range(K)] if labels_u is None else [str(v) for v in labels_u]
    if len(labels) != K or len(set(labels)) != K:
        raise param_error(
            fn,
            "labels_u",
            f"hold {K} distinct labels (one per released letter)",
            labels_u,
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
