r"""One report of a local mechanism across privacy metrics (ε-LDP, leakages, variance)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .. import measures
from .._validation import as_pmf, check_base, check_size
from ..errors import InvalidDistributionError
from ..results import to_jsonable
from ..units import from_nats, unit_name
from ._common import as_matrix
from ._estimation import epsilon
from ._protocols import LDPProtocol

__all__ = ["LDPReport", "report"]


@dataclasses.dataclass(frozen=True)
class LDPReport:
    """A mechanism's privacy and utility under several metrics (see :func:`report`).

    Attributes
    ----------
    name : str
        Protocol name, ``"Mechanism"``, ``"channel"`` or the design result's class name.
    k, n_outputs : int
        Channel shape (inputs, outputs).
    prior : (k,) ndarray
        The prior used by the prior-dependent metrics.
    prior_note : str
        ``"uniform (prior=None)"`` or ``"given"``.
    epsilon : float
        Local-DP budget :func:`~leakage.ldp.epsilon`, in **nats** (``epsilon_unit``).
    maximal_leakage : float
        :math:`\\log \\sum_y \\max_{x: \\pi(x)>0} W[x,y]` (:func:`leakage.maximal_leakage`).
    pointwise_maximal_leakage : float
        :math:`\\max_y \\log \\max_{x: \\pi(x)>0} W[x,y] / (\\pi W)_y`
        (max over output letters of :func:`leakage.pointwise_leakage`, ``"max_lift"``).
    sibson_2 : float
        Sibson mutual information of order 2.
    sibson_inf : float
        Sibson mutual information of order ∞ (equals ``maximal_leakage``).
    mutual_information : float
        :math:`I(X;Y)` under the prior.
    bayes_leakage : float
        Multiplicative Bayes leakage :math:`\\log V[\\pi, W]/V(\\pi)`, with
        :math:`V(\\pi) = \\max_x \\pi(x)` and :math:`V[\\pi, W] = \\sum_y \\max_x \\pi(x)
        W[x,y]` (Alvim et al., *The Science of QIF*, ch. 5).
    bayes_capacity : float
        :math:`\\log \\sum_y \\max_x W[x,y]`, the multiplicative Bayes capacity (over all
        priors; equals ``maximal_leakage`` for a full-support prior).
    base : float
        Logarithm base of the information quantities; ``unit`` names it ("bits").
    unit, epsilon_unit : str
        Units of the information quantities and of ``epsilon`` ("nats").
    n : int or None
        Number of users of the variance (``None``: the variance is per user, ``n Var``).
    variance : (k,) ndarray or None
        Variance of the frequency estimator of every value at frequencies = ``prior``.
    variance_total : float or None
        ``variance.sum()``: the expected squared L2 error.
    variance_note : str
        Which estimator the variance is for, or why there is none.
    """

    name: str
    k: int
    n_outputs: int
    prior: np.ndarray
    prior_note: str
    epsilon: float
    maximal_leakage: float
    pointwise_maximal_leakage: float
    sibson_2: float
    sibson_inf: float
    mutual_information: float
    bayes_leakage: float
    bayes_capacity: float
    base: float
    unit: str
    epsilon_unit: str
    n: int | None
    variance: np.ndarray | None
    variance_total: float | None
    variance_note: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (:func:`leakage.results.to_jsonable`; ``inf`` as ``"inf"``)."""
        return to_jsonable(self)


def _inverse_variance(W: np.ndarray, f: np.ndarray, n: int) -> tuple[np.ndarray | None, str]:
    """Variance of the least-squares inverse estimator, or ``None`` and the reason."""
    k, m = W.shape
    s = np.linalg.svd(W, compute_uv=False)
    if k > m or s[-1] <= s[0] * max(k, m) * np.finfo(float).eps:
        return None, (
            f"channel of rank < k = {k}: no unbiased estimator of the frequencies exists "
            "(IBU is consistent but biased, so no exact variance is reported)"
        )
    A = np.linalg.pinv(W.T)  # (k, m), A W^T = I
    q = f @ W
    # Cov(q_hat) = (diag(q) - sum_x f_x W_x W_x^T) / n and A W_x = e_x, so
    # Var(f_hat_v) = (sum_y A[v, y]^2 q_y - f_v) / n
    var = np.maximum((A**2) @ q - f, 0.0) / n
    kind = "inverse-channel" if k == m else "least-squares inverse (pinv(W^T))"
    return var, f"unbiased {kind} estimator f_hat = pinv(W^T) q_hat, values fixed at the prior"


def report(
    mechanism: Any,
    prior: ArrayLike | None = None,
    *,
    n: int | None = None,
    base: float = 2,
) -> LDPReport:
    r"""Privacy of a local mechanism under several metrics, plus its estimator's variance.

    Parameters
    ----------
    mechanism : LDP protocol, Mechanism, design result or (k, m) array-like
        A protocol from :mod:`leakage.ldp` (its exact ``.channel`` is used, so ``k`` must be
        small enough for it), a :class:`leakage.Mechanism`, a
        :class:`~leakage.PointwiseDesign`/:class:`~leakage.HypothesisDesign` (its
        ``.mechanism``) or a plain row-stochastic channel ``W[x, y] = P(y|x)``.
    prior : (k,) array-like, optional
        Prior on the inputs for the prior-dependent metrics (maximal leakage's support,
        point-wise maximal leakage, Sibson MI, MI, Bayes leakage) and the frequency vector
        of the variance. **Uniform when None.**
    n : int, optional
        Number of users for the variance; ``None`` reports ``n Var`` (the variance of one
        user's contribution, i.e. at ``n = 1``).
    base : float, default 2
        Logarithm base of the information quantities (2: bits). ε is always in nats.

    Returns
    -------
    LDPReport
        Units in ``unit`` and ``epsilon_unit``. The variance is the protocol's exact formula
        (its ``.variance(n, prior)``) for a protocol; for another channel of rank ``k`` it
        is that of the unbiased least-squares inverse estimator
        :math:`\hat f = (W^T)^+ \hat q` (the inverse-channel estimator when ``W`` is square),
        :math:`\mathrm{Var}[\hat f_v] = (\sum_y A_{vy}^2 q_y - f_v)/n` with
        :math:`A = (W^T)^+`, :math:`q = fW`; for a channel of rank below ``k`` no unbiased
        estimator exists and ``variance`` is ``None`` with the reason in ``variance_note``.

    Raises
    ------
    InvalidDistributionError
        For a channel that is not row-stochastic or a prior that is not a pmf on its inputs.
    InvalidParameterError
        For a bad ``n`` or ``base``, or a protocol too large for an exact channel.
    """
    fn = "report"
    base = check_base(base, func=fn)
    W, name = as_matrix(mechanism, func=fn)
    k, m = W.shape
    if prior is None:
        p, note = np.full(k, 1.0 / k), "uniform (prior=None)"
    else:
        p, note = as_pmf(prior, func=fn, name="prior"), "given"
        if p.shape[0] != k:
            raise InvalidDistributionError(
                f"{fn}: the 'prior' argument must have one entry per channel input ({k}); "
                f"got {p.shape[0]} entries instead."
            )
    n_eff = 1 if n is None else check_size(n, func=fn, name="n", limit=2**62, what="users")

    ml = measures.maximal_leakage(p, W, base=base)
    pml = float(measures.pointwise_leakage(p, W, measure="max_lift", base=base).max())
    v_prior = float(p.max())
    v_post = float((p[:, None] * W).max(axis=0).sum())
    bayes = float(from_nats(math.log(v_post / v_prior), base))
    cap = float(from_nats(math.log(float(W.max(axis=0).sum())), base))

    if isinstance(mechanism, LDPProtocol):
        var = mechanism.variance(n_eff, p)
        vnote = f"exact variance of the {mechanism.name} estimator (freqs = prior)"
    else:
        var, vnote = _inverse_variance(W, p, n_eff)
    if n is None:
        vnote += "; n=None: per-user n*Var (divide by n for n users)"
    return LDPReport(
        name=name,
        k=k,
        n_outputs=m,
        prior=p,
        prior_note=note,
        epsilon=epsilon(W),
        maximal_leakage=ml,
        pointwise_maximal_leakage=pml,
        sibson_2=measures.sibson_mutual_information(p, W, 2.0, base=base),
        sibson_inf=measures.sibson_mutual_information(p, W, math.inf, base=base),
        mutual_information=measures.mutual_information(p, W, base=base),
        bayes_leakage=max(bayes, 0.0),
        bayes_capacity=cap,
        base=base,
        unit=unit_name(base),
        epsilon_unit="nats",
        n=n,
        variance=var,
        variance_total=None if var is None else float(var.sum()),
        variance_note=vnote,
    )
