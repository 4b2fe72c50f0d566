"""A release mechanism: a validated channel ``P(out|in)`` with provenance.

:class:`Mechanism` is what a design hands to the code that applies it to records:
``sample`` draws the released letter for an array of input letters (vectorized), and
``save``/``load`` keep the matrix together with where it came from (method, budgets,
utility, leakages, library version) in one JSON file, written atomically.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._validation import as_channel, as_generator
from .errors import InvalidDistributionError, InvalidParameterError
from .results import HypothesisDesign, PointwiseDesign, to_jsonable

__all__ = ["Mechanism"]

_PREFIX = "leakage.mechanism/"
_VERSION = 1
_FORMAT = f"{_PREFIX}{_VERSION}"
_CHUNK = 1 << 16


@dataclasses.dataclass(frozen=True, eq=False)
class Mechanism:
    """A row-stochastic matrix ``matrix[i, o] = P(o | i)`` and its provenance.

    Parameters
    ----------
    matrix : (n_in, n_out) array-like
        Validated as a channel (rows sum to 1, entries >= 0, finite).
    provenance : dict, optional
        Free-form facts about the mechanism (method, budgets, utility, ...); kept as JSON.

    Raises
    ------
    InvalidDistributionError
        For a matrix that is not a channel.
    InvalidParameterError
        For a provenance that is not a mapping.
    """

    matrix: np.ndarray
    provenance: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.provenance, Mapping):
            _raise(
                "Mechanism",
                "provenance",
                "be a dict of facts (method, budgets, ...)",
                self.provenance,
            )
        W = np.array(as_channel(self.matrix, func="Mechanism", name="matrix"), dtype=np.float64)
        W.flags.writeable = False
        object.__setattr__(self, "matrix", W)
        cdf = np.cumsum(W, axis=1)
        cdf[:, -1] = 1.0  # rows sum to 1 within 1e-9: make the last edge exact
        # row i occupies (i, i + 1] on one sorted line, so one searchsorted serves all rows
        flat = (cdf + np.arange(W.shape[0])[:, None]).ravel()
        object.__setattr__(self, "_edges", flat)

    @property
    def n_inputs(self) -> int:
        return self.matrix.shape[0]

    @property
    def n_outputs(self) -> int:
        return self.matrix.shape[1]

    @classmethod
    def from_design(cls, design: PointwiseDesign | HypothesisDesign) -> Mechanism:
        """Wrap a :class:`~leakage.results.PointwiseDesign` (inputs = Y, outputs = U) or a
        :class:`~leakage.results.HypothesisDesign` (inputs = the data's letters).

        Raises
        ------
        InvalidParameterError
            For anything else (e.g. ``None``)."""
        if not isinstance(design, (PointwiseDesign, HypothesisDesign)):
            _raise(
                "Mechanism.from_design",
                "design",
                "be a PointwiseDesign or a HypothesisDesign (from leakage.pointwise or "
                "leakage.hypothesis)",
                design,
                "To wrap a bare matrix, use Mechanism(matrix).",
            )
        if isinstance(design, HypothesisDesign):
            hprov = {
                "method": design.method,
                "utility_kind": design.utility_kind,
                "alpha": design.alpha,
                "budgets": design.budgets,
                "utility": design.utility,
                "utility_approx": design.utility_approx,
                "upper_bound": design.upper_bound,
                "utility_unit_base": design.base,
                "leakages": design.leakages,
                "exponents": design.exponents,
            }
            return cls(design.mechanism, to_jsonable(hprov))
        prov = {
            "method": design.method,
            "measure": design.measure,
            "budgets": design.budgets,
            "utility": design.utility,
            "utility_approx": design.utility_approx,
            "utility_unit_base": design.base,
            "leakages": design.leakages,
            "p_u": design.p_u,
        }
        return cls(design.mechanism, to_jsonable(prov))

    def sample(self, inputs: ArrayLike, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """Draw one output letter for every input letter, independently.

        Parameters
        ----------
        inputs : array-like of int
            Input letters in ``[0, n_inputs)``, any shape.
        rng : numpy.random.Generator, int >= 0 or None
            Source of randomness (an int seeds a new Generator; a ``SeedSequence`` or a
            ``BitGenerator`` is accepted too). Anything else raises
            :class:`~leakage.InvalidParameterError`.

        Returns
        -------
        ndarray of int64, same shape as ``inputs``
            Output letters in ``[0, n_outputs)``; output ``o`` has probability
            ``matrix[i, o]`` for input ``i`` (inverse-CDF sampling, one uniform draw per
            record; exact up to the 2^-53 resolution of the uniforms).
        """
        y = np.asarray(inputs)
        if y.dtype.kind not in "iu":
            whole = y.dtype.kind == "f" and bool(np.all(np.isfinite(y) & (y == np.round(y))))
            if whole or y.size == 0:
                y = y.astype(np.int64)
            else:
                raise InvalidParameterError(
                    f"Mechanism.sample: the 'inputs' argument must hold integer letters in "
                    f"[0, {self.n_inputs}); got an array of dtype {y.dtype} instead."
                )
        if y.size:
            lo, hi = int(y.min()), int(y.max())
            if lo < 0 or hi >= self.n_inputs:
                bad = np.flatnonzero((y.ravel() < 0) | (y.ravel() >= self.n_inputs))[0]
                raise InvalidParameterError(
                    f"Mechanism.sample: the 'inputs' argument must hold letters in "
                    f"[0, {self.n_inputs}); got {y.ravel()[bad]} at position {bad} instead."
                )
        gen = as_generator(rng, func="Mechanism.sample", name="rng")
        flat_y = y.reshape(-1)
        return self._invert(flat_y, lambda x: gen.random(out=x)).reshape(y.shape)

    def _invert(self, flat_y: np.ndarray, fill) -> np.ndarray:
        """Inverse-CDF outputs for valid letters ``flat_y``; ``fill(x)`` writes the next
        ``len(x)`` uniforms into ``x`` (drawn in order, so the result does not depend on
        the chunk size)."""
        out = np.empty(flat_y.shape[0], dtype=np.int64)
        buf = np.empty(min(_CHUNK, flat_y.shape[0]))
        K = self.n_outputs
        for start in range(0, flat_y.shape[0], _CHUNK):  # chunks that stay in cache
            yc = flat_y[start : start + _CHUNK]
            x = buf[: yc.shape[0]]
            fill(x)
            x += yc
            oc = out[start : start + yc.shape[0]]
            oc[:] = np.searchsorted(self._edges, x, side="right")
            oc -= yc * K
            # guard the (measure-zero) rounding edge: stay inside the row
            np.clip(oc, 0, K - 1, out=oc)
        return out

    def to_dict(self) -> dict[str, Any]:
        from . import __version__

        return {
            "format": _FORMAT,
            "matrix": to_jsonable(self.matrix),
            "provenance": to_jsonable(self.provenance),
            "library_version": __version__,
            "saved": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the mechanism and its provenance as JSON, atomically."""
        from .io import atomic_write

        with atomic_write(path) as f:
            json.dump(self.to_dict(), f, indent=2)
            f.write("\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Mechanism:
        """Read a mechanism written by :meth:`save` (the matrix is validated again).

        Raises
        ------
        InvalidParameterError
            For a path that cannot be read as UTF-8 JSON, a file that is not a mechanism,
            a format version other than 1 (the one this library writes) or a provenance
            that is not an object; the low-level error is the ``__cause__``.
        InvalidDistributionError
            For a matrix that is not a channel.
        """
        fn = "Mechanism.load"
        if not isinstance(path, (str, os.PathLike)):
            _raise(fn, "path", "be the path of a mechanism JSON file", path)
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError, RecursionError) as exc:  # incl. JSON and UTF-8 errors
            raise InvalidParameterError(
                f"{fn}: the 'path' argument must be a readable mechanism JSON file; cannot read "
                f"'{path}' ({type(exc).__name__}: {exc})."
            ) from exc
        fmt = data.get("format") if isinstance(data, dict) else None
        if isinstance(fmt, str) and fmt.startswith(_PREFIX) and fmt != _FORMAT:
            raise InvalidParameterError(
                f"{fn}: the 'path' argument must be a mechanism file in format version "
                f"{_VERSION} ({_FORMAT!r}, the version this library writes); got version "
                f"{fmt[len(_PREFIX) :]!r} in '{path}' instead. Read it with the leakage "
                "version that wrote it, or save the mechanism again."
            )
        if fmt != _FORMAT or "matrix" not in data:
            raise InvalidParameterError(
                f"{fn}: the 'path' argument must be a mechanism file (a JSON object with "
                f'"format": "{_FORMAT}" and a "matrix"); got \'{path}\', which is not a '
                "mechanism file, instead."
            )
        prov = data.get("provenance", {})
        if not isinstance(prov, dict):
            _raise(
                fn,
                "path",
                f"be a mechanism file whose \"provenance\" is a JSON object ('{path}')",
                prov,
            )
        prov = dict(prov)
        prov.setdefault("library_version_saved", data.get("library_version"))
        try:
            W = as_channel(data["matrix"], func=fn, name="matrix")
        except InvalidDistributionError as exc:
            inner = str(exc).removeprefix(f"{fn}: ")
            raise InvalidDistributionError(
                f"{fn}: the 'path' argument must be a mechanism file whose \"matrix\" is a "
                f"channel ('{path}'); {inner}"
            ) from exc
        return cls(np.asarray(W, dtype=np.float64), prov)


def _raise(func: str, name: str, requirement: str, got: Any, hint: str = "") -> None:
    import reprlib

    shown = reprlib.repr(got)
    msg = f"{func}: the '{name}' argument must {requirement}; got {shown} instead."
    raise InvalidParameterError(msg + (" " + hint if hint else ""))
