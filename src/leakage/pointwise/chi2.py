r"""Section III-A of paper 001: invertible :math:`P_{X|Y}`, point-wise :math:`\chi^2` budgets.

Budgets bound :math:`\sqrt{\chi^2(P_{X|U=u}\|P_X)}` (the convention of the paper from its
eq. (8) on; see ``ERRATA.md``).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from .._validation import check_base
from ..errors import InfeasibleError, InvalidDistributionError
from ..results import PointwiseDesign
from ._problem import exact_figures, finish, make_problem

__all__ = ["design_chi2"]

#: Condition number beyond which P_{X|Y} is treated as singular.
COND_MAX = 1e12


def _w_matrix(p_x: np.ndarray, p_y: np.ndarray, inv: np.ndarray) -> np.ndarray:
    """W = [sqrt(P_Y)]^{-1} P_{X|Y}^{-1} [sqrt(P_X)] (Section III-A)."""
    return (inv * np.sqrt(p_x)) / np.sqrt(p_y)[:, None]


def design_chi2(p_xy: ArrayLike, eps: ArrayLike, *, base: float = 2) -> PointwiseDesign:
    r"""Closed-form release mechanism under point-wise :math:`\chi^2` budgets (paper 001, §III-A).

    For an invertible leakage matrix :math:`P_{X|Y}` (:math:`|X| = |Y|`) and budgets
    :math:`\varepsilon_1 \ge \varepsilon_2 \ge \dots` (given in any order), the second-order
    approximation (11) of problem (3) is solved by a binary :math:`U` on the two letters with
    the largest budgets (Proposition 2, Lemma 1, Theorem 1):

    .. math::

        W = [\sqrt{P_Y}]^{-1} P_{X|Y}^{-1} [\sqrt{P_X}], \qquad
        P_U(u_1) = \frac{\varepsilon_2}{\varepsilon_1+\varepsilon_2},\;
        P_U(u_2) = \frac{\varepsilon_1}{\varepsilon_1+\varepsilon_2}, \qquad (13)

    .. math::

        P_{Y|U=u_i} = P_Y \pm \varepsilon_i P_{X|Y}^{-1} [\sqrt{P_X}] L^*, \qquad (22)\text{–}(23)

    with :math:`L^*` the top right singular vector of :math:`W` orthogonal to
    :math:`\sqrt{P_X}` (which is itself a right singular vector of :math:`W` with singular
    value 1), and the value :math:`\tfrac12\varepsilon_1\varepsilon_2\sigma_{\max}^2(W)`
    nats, eq. (21). (22)–(23) print :math:`P_X` where :math:`P_Y` is meant (ERRATA).
    The mechanism is :math:`P(u|y) = P_{Y|U}(y|u) P_U(u) / P_Y(y)`; every other letter
    gets zero mass. Both signs of :math:`L^*` are evaluated exactly and the one with the
    larger exact :math:`I(U;Y)` is returned.

    The two used letters meet their budgets with equality,
    :math:`\sqrt{\chi^2(P_{X|u_i}\|P_X)} = \varepsilon_i` — exactly, not to second order.

    Parameters
    ----------
    p_xy : (n, n) array-like
        Joint distribution of (X, Y), axis 0 = X; :math:`P_{X|Y}` must be invertible.
    eps : (K,) array-like
        One :math:`\sqrt{\chi^2}` budget >= 0 per released letter (unitless), any order.
    base : float, default 2
        Logarithm base of ``utility`` and ``utility_approx`` (2: bits).

    Returns
    -------
    PointwiseDesign
        ``mechanism`` (n, K), exact ``utility`` and ``leakages``, ``utility_approx``
        (:math:`\tfrac12\varepsilon_1\varepsilon_2\sigma_{\max}^2` converted to ``base``),
        and ``details`` with ``sigma_max``, ``sign`` and ``letters``.

    Raises
    ------
    InvalidDistributionError
        ``p_xy`` is not a joint distribution, is not square, some :math:`P_Y(y) = 0`, or
        :math:`P_{X|Y}` is singular (condition number above ``1e12``).
    InvalidParameterError
        ``eps`` is not a 1-D array of finite budgets >= 0.
    InfeasibleError
        The construction is not a stochastic matrix at these budgets; the message gives the
        largest factor by which to scale all budgets so that it is.

    Examples
    --------
    >>> import numpy as np, leakage as lk
    >>> p_xy = np.array([[0.35, 0.10], [0.15, 0.40]])
    >>> d = lk.pointwise.design_chi2(p_xy, [0.1, 0.05])
    >>> bool(np.allclose(d.leakages, [0.1, 0.05])), d.utility > 0
    (True, True)
    """
    fn = "design_chi2"
    base = check_base(base, func=fn)
    prob = make_problem(p_xy, eps, func=fn)
    n_x, n_y = prob.p_xy.shape
    if n_x != n_y:
        raise InvalidDistributionError(
            f"{fn}: the 'p_xy' argument must be square (|X| = |Y|, so that P_X|Y can be "
            f"invertible); got shape {prob.p_xy.shape} instead. Use design_l1 or optimal_l1."
        )
    P = prob.p_x_given_y
    cond = np.linalg.cond(P)
    if not cond < COND_MAX:
        raise InvalidDistributionError(
            f"{fn}: the 'p_xy' argument must have an invertible P_X|Y (condition number "
            f"< {COND_MAX:g}); got condition number {cond:.3g} instead. "
            "Use design_l1 or optimal_l1 for a singular leakage matrix."
        )
    inv = np.linalg.inv(P)
    W = _w_matrix(prob.p_x, prob.p_y, inv)
    s = np.sqrt(prob.p_x)
    # maximize ||W L|| over unit L orthogonal to sqrt(P_X): SVD of W restricted there
    W_perp = W - np.outer(W @ s, s)
    _, sig, Vt = np.linalg.svd(W_perp)
    sigma_max, L = float(sig[0]), Vt[0]
    order = np.argsort(-prob.eps, kind="stable")
    i1, i2 = (int(order[0]), int(order[1])) if prob.K >= 2 else (int(order[0]), None)
    e1 = float(prob.eps[i1])
    e2 = float(prob.eps[i2]) if i2 is not None else 0.0
    K = prob.K
    if e2 == 0.0:
        # at most one positive budget: (13) puts all mass on a zero-leakage letter, and with
        # an invertible P_X|Y perfect privacy means U independent of Y (utility 0)
        zero = i2 if i2 is not None else i1
        if e1 == 0.0:
            zero = i1
        mech = np.zeros((n_y, K))
        mech[:, zero] = 1.0
        return finish(
            prob,
            mech,
            measure="chi2",
            method="chi2 closed form (Section III-A)",
            utility_approx_nats=0.0,
            base=base,
            details={"sigma_max": sigma_max, "sign": 1, "letters": (zero,)},
        )
    p_u1, p_u2 = e2 / (e1 + e2), e1 / (e1 + e2)
    v = inv @ (s * L)  # P_X|Y^{-1} [sqrt(P_X)] L*

    def mechanism(sign: int, scale: float = 1.0) -> np.ndarray:
        py_u1 = prob.p_y + sign * scale * e1 * v
        py_u2 = prob.p_y - sign * scale * e2 * v
        mech = np.zeros((n_y, K))
        mech[:, i1] = py_u1 * p_u1 / prob.p_y
        mech[:, i2] = py_u2 * p_u2 / prob.p_y
        return mech

    def max_scale(sign: int) -> float:
        """Largest t with P_Y + t*sign*e1*v >= 0 and P_Y - t*sign*e2*v >= 0."""
        d = np.concatenate([sign * e1 * v, -sign * e2 * v])
        base_ = np.concatenate([prob.p_y, prob.p_y])
        neg = d < 0
        return float(np.min(base_[neg] / -d[neg])) if neg.any() else math.inf

    candidates = []
    for sign in (1, -1):
        if max_scale(sign) >= 1.0:
            m = mechanism(sign)
            candidates.append((exact_figures(prob, m, measure="chi2", base=base)[1], sign, m))
    if not candidates:
        t = max(max_scale(1), max_scale(-1))
        raise InfeasibleError(
            f"{fn}: the closed-form mechanism is not a stochastic matrix at these budgets "
            f"(largest {e1:g}, {e2:g}): P_Y(y|u) would be negative. It is valid when every "
            f"budget is scaled by at most {t:.6g}; or use design_l1/optimal_l1."
        )
    _, sign, mech = max(candidates, key=lambda c: c[0])
    return finish(
        prob,
        mech,
        measure="chi2",
        method="chi2 closed form (Section III-A)",
        utility_approx_nats=0.5 * e1 * e2 * sigma_max**2,
        base=base,
        details={
            "sigma_max": sigma_max,
            "sign": sign,
            "letters": (i1, i2),
            "max_budget_scale": max(max_scale(1), max_scale(-1)),
        },
    )
