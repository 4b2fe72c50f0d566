r"""Refinement of channels (with a witness when it fails) and channel composition.

Science of QIF, Ch. 8 (composition) and Ch. 9 (refinement): ``A`` is *refined by* ``B``
(:math:`A \sqsubseteq B`) when ``B = A R`` for some channel ``R`` -- ``B`` is a
post-processing of ``A`` -- and then ``B`` never leaks more than ``A``, for every prior and
gain. The converse ("Coriaceous" theorem, Science of QIF, Ch. 9; McIver, Morgan, Smith,
Espinoza, Meinicke, POST 2014): if ``B`` is not a post-processing of ``A`` there are a prior
``π`` and a gain ``g`` with :math:`V_g[\pi \triangleright B] > V_g[\pi \triangleright A]`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse

from .._highs import silent_highs
from .._validation import as_channel, check_size, check_tolerance
from ..errors import InvalidDistributionError, InvalidParameterError, SolverError
from ._common import _PREFIX, _to_float
from ._results import Refinement
from ._vulnerability import posterior_vulnerability

__all__ = ["cascade", "hidden_choice", "parallel", "refines", "visible_choice"]

#: Smallest vulnerability gap accepted for a witness (it is recomputed in float).
WITNESS_MARGIN = 1e-12
#: Largest LP (entries of R) :func:`refines` builds.
MAX_LP_VARIABLES = 2**20


def _two(A: Any, B: Any, fn: str) -> tuple[np.ndarray, np.ndarray]:
    return (
        as_channel(_to_float(A), func=fn, name="A"),
        as_channel(_to_float(B), func=fn, name="B"),
    )


def _same_rows(A: np.ndarray, B: np.ndarray, fn: str) -> None:
    if A.shape[0] != B.shape[0]:
        raise InvalidDistributionError(
            f"{fn}: the 'B' argument must have one row per secret, as 'A' ({A.shape[0]} "
            f"rows, axis 0 = input); got shape {B.shape} instead."
        )


def _witness(A: np.ndarray, B: np.ndarray, Z: np.ndarray):
    r"""Turn a separating matrix ``Z`` (``<Z, B> > max_R <Z, A R>``) into a verified
    witness (uniform prior, gain in [0, 1]); None if the inequality does not verify."""
    n = A.shape[0]
    Graw = n * Z.T  # G[j, x] = Z[x, j] / pi(x), pi uniform: one guess per output of B
    lo, hi = Graw.min(), Graw.max()
    if not hi > lo:
        return None
    G = (Graw - lo) / (hi - lo)  # V_{aG+b} = a V_G + b: the sign of the gap is kept
    prior = np.full(n, 1.0 / n)
    gap = posterior_vulnerability(prior, B, G) - posterior_vulnerability(prior, A, G)
    if not gap > WITNESS_MARGIN:
        return None
    return prior, G, float(gap)


def _dual_lp(A: np.ndarray, B: np.ndarray, runs: tuple) -> np.ndarray | None:
    r"""Separating hyperplane by the explicit dual: max ``<Z, B> - sum_i v_i`` over
    ``|Z| <= 1`` with ``(A^T Z)[i, j] <= v_i`` (its witness is verified by the caller)."""
    n, na = A.shape
    nb = B.shape[1]
    # variables: Z (n*nb, row-major Z[x, j]), v (na)
    T = sparse.kron(sparse.csr_array(A.T), sparse.eye_array(nb), format="csr")  # (na*nb, n*nb)
    Vsel = sparse.kron(sparse.eye_array(na), np.ones((nb, 1)), format="csr")  # (na*nb, na)
    M = sparse.hstack([T, -Vsel], format="csc")
    cost = np.concatenate([-B.ravel(), np.ones(na)])
    lo = np.concatenate([np.full(n * nb, -1.0), np.full(na, -np.inf)])
    hi = np.concatenate([np.full(n * nb, 1.0), np.full(na, np.inf)])
    rows = (np.full(na * nb, -np.inf), np.zeros(na * nb))
    for options in runs:
        status, x = _highs(M, rows, (lo, hi), cost, options)
        if status == "Optimal" and x.size == cost.size:
            return x[: n * nb].reshape(n, nb)
    return None


def _highs(
    M: sparse.csc_array,
    row_bounds: tuple[np.ndarray, np.ndarray],
    col_bounds: tuple[np.ndarray, np.ndarray],
    cost: np.ndarray,
    options: dict,
) -> tuple[str, np.ndarray]:
    """Minimize ``cost . x`` over ``row_lo <= M x <= row_hi``, ``col_lo <= x <= col_hi``
    with HiGHS; (model status, x)."""
    import highspy

    h = silent_highs()
    for key, value in options.items():
        h.setOptionValue(key, value)
    M = sparse.csc_array(M)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = M.shape[1], M.shape[0]
    lp.col_cost_ = cost
    lp.col_lower_, lp.col_upper_ = col_bounds
    lp.row_lower_, lp.row_upper_ = row_bounds
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = M.indptr
    lp.a_matrix_.index_ = M.indices
    lp.a_matrix_.value_ = M.data
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = M.shape[1], M.shape[0]
    h.passModel(lp)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    return status, np.asarray(h.getSolution().col_value)


#: HiGHS runs tried in turn on the refinement LP: the first-order PDLP (64 x 64, rank
#: 32: 0.07 s; its answer is verified, so its looser tolerance is harmless), then the
#: interior-point method without presolve and crossover (0.5 s), then with both (2 s).
_LP_RUNS = (
    {"solver": "pdlp", "time_limit": 5.0},
    {"solver": "ipm", "presolve": "off", "run_crossover": "off"},
    {"solver": "ipm"},
)


#: Runs for the dual (witness) LP: dual simplex first (64 x 64, rank 32: 0.33 s; PDLP
#: does not converge on it in 5 s), then the interior-point method.
_DUAL_RUNS = ({"solver": "simplex"}, {"solver": "ipm"})


def _feasibility_lp(
    A: np.ndarray, B: np.ndarray, tol: float, runs: tuple = _LP_RUNS, strict: bool = True
) -> np.ndarray | None:
    """A channel ``R`` with ``A R = B`` by HiGHS (None if the LP is infeasible); ``A`` may
    be the rank-reduced ``S_r V_r^T`` of the SVD and ``B`` then ``U_r^T B``. A solution
    is accepted when ``max |A R - B| <= tol`` after clipping negatives and renormalizing
    the rows; otherwise the next, more exact run is tried. When none verifies:
    ``SolverError`` (``strict``) or ``None``."""
    na = A.shape[1]
    nb = B.shape[1]
    # column-major variables (R[:, j] contiguous): one dense block A r_j = b_j per column
    # of B, coupled by the row sums
    M = sparse.vstack(
        [
            sparse.kron(sparse.eye_array(nb), sparse.csr_array(A)),
            sparse.kron(np.ones((1, nb)), sparse.eye_array(na)),
        ],
        format="csc",
    )
    b = np.concatenate([B.T.ravel(), np.ones(na)])
    nv = na * nb
    statuses = []
    for options in runs:
        status, x = _highs(M, (b, b), (np.zeros(nv), np.full(nv, np.inf)), np.zeros(nv), options)
        statuses.append(status)
        if status == "Infeasible":
            return None
        if x.size == na * nb:
            R = _stochastic(x.reshape(nb, na).T)
            if np.abs(A @ R - B).max() <= tol:
                return R
    if not strict:  # undecided: the caller goes on to the next method
        return None
    raise SolverError(
        f"{_PREFIX}refines: HiGHS could not settle the refinement LP (statuses "
        f"{', '.join(statuses)}); try a larger tol."
    )


def _stochastic(R: np.ndarray) -> np.ndarray:
    R = np.clip(R, 0.0, None)
    with np.errstate(invalid="ignore", divide="ignore"):  # an all-zero row: nan, refused
        return R / R.sum(axis=1, keepdims=True)


def refines(A: Any, B: Any, *, tol: float = 1e-8) -> Refinement:
    r"""Is ``B`` a post-processing of ``A`` (``B = A R``, :math:`A \sqsubseteq B`)?

    ``B`` is a post-processing of ``A`` iff :math:`\exists R \ge 0,\ R\mathbf{1} =
    \mathbf{1},\ AR = B`. Zero columns of ``A`` are dropped first (they never occur).

    - **A of full column rank** (well conditioned): ``R`` is unique, ``R = A^+ B``
      (pseudo-inverse), and the question is settled in closed form: ``B`` refines ``A``
      iff ``A R = B`` and ``R >= 0`` (within ``tol``).
    - **Otherwise**: with the thin SVD :math:`A = U_r S_r V_r^\top` (rank ``r``), ``B``
      must lie in the column space of ``A`` (else it is not refined), and then
      :math:`AR = B \iff S_r V_r^\top R = U_r^\top B`: this rank-reduced feasibility
      linear program (``r * n_yb`` equalities instead of ``n_x * n_yb``) is solved by
      HiGHS (its first-order PDLP first, then its interior-point method; a solution is
      kept only if it verifies).

    When ``B`` refines ``A``, ``post_processing`` is ``R`` (clipped to be nonnegative,
    rows renormalized) and ``max |A R - B| <= tol`` is verified. Otherwise a **witness**
    is built from a hyperplane ``Z`` separating ``B`` from the convex set
    :math:`\{AR\}`: :math:`\langle Z, B\rangle > \max_R \langle Z, AR\rangle =
    \sum_i \max_j (A^\top Z)[i, j]`. In the full-rank case
    :math:`Z = B - AR` (if ``B`` is off the column space of ``A``) or
    :math:`Z = -(A^+)^\top \max(-R, 0)` (if ``R`` has negative entries; then
    :math:`A^\top Z = \min(R, 0)`); otherwise ``Z`` solves the dual LP
    :math:`\max_{|Z| \le 1} \langle Z, B\rangle - \sum_i \max_j (A^\top Z)[i, j]`.
    With the uniform prior :math:`u` and the gain
    :math:`G[j, x] = |\mathcal{X}|\, Z[x, j]` (one guess per output of ``B``),
    :math:`V_G[u \triangleright A] = \sum_i \max_j (A^\top Z)[i,j]` and
    :math:`V_G[u \triangleright B] \ge \langle Z, B\rangle`, so ``B`` leaks more than
    ``A`` for that gain (the "Coriaceous" theorem, Science of QIF, Ch. 9: a uniform prior
    always suffices, the prior being folded into the gain). The gain is then mapped
    affinely onto [0, 1] (:math:`V_{aG+b} = aV_G + b` for :math:`a > 0`, since
    :math:`\sum_{x,y} \pi(x) C[x,y] = 1`), so the witness gain is nonnegative. The gap
    :math:`V_G[u \triangleright B] - V_G[u \triangleright A]` is recomputed with
    :func:`posterior_vulnerability` and must exceed ``1e-12``.

    Parameters
    ----------
    A, B : (n_x, n_ya), (n_x, n_yb) array-like
        Row-stochastic channels on the same secrets (axis 0 = input).
    tol : float, default 1e-8
        Largest ``max |A R - B|`` (and negative entry of ``R``) accepted as zero.

    Returns
    -------
    Refinement
        ``refines``, ``post_processing`` (R) or the witness ``prior``, ``gain`` and
        ``vulnerability_gap``, and the ``residual``.

    Raises
    ------
    SolverError
        If HiGHS fails, or if neither a post-processing nor a verified witness is found
        (``B`` within numerical noise of the set :math:`\{AR\}`; try a larger ``tol``).

    Examples
    --------
    >>> import numpy as np
    >>> from leakage.qif import refines
    >>> A = np.eye(2)
    >>> B = [[0.5, 0.5], [0.5, 0.5]]
    >>> refines(A, B).refines, refines(B, A).refines
    (True, False)
    """
    fn = _PREFIX + "refines"
    tol = check_tolerance(tol, func=fn)
    A_full, B = _two(A, B, fn)
    _same_rows(A_full, B, fn)
    live = np.flatnonzero(A_full.max(axis=0) > 0)
    A = A_full[:, live]
    na = A.shape[1]
    nb = B.shape[1]
    check_size(na * nb, func=fn, name="B", limit=MAX_LP_VARIABLES, what="LP variables")

    def _result(Rl: np.ndarray) -> Refinement:
        R = np.zeros((A_full.shape[1], nb))
        R[live] = Rl
        return Refinement(
            refines=True, post_processing=R, residual=float(np.abs(A_full @ R - B).max())
        )

    candidates: list[np.ndarray] = []
    wit = None
    U, sv, Vt = np.linalg.svd(A, full_matrices=False)
    r = int((sv > 1e-10 * sv[0]).sum())
    Ur = U[:, :r]
    E = B - Ur @ (Ur.T @ B)  # the part of B off the column space of A
    if np.abs(E).max() > tol:
        candidates.append(E)  # A^T E = 0 and <E, B> = ||E||^2 > 0
    elif r == na and sv[-1] > 1e-8 * sv[0]:  # full column rank: R is unique
        Rls = Vt.T @ ((Ur.T @ B) / sv[:, None])
        if Rls.min() >= -tol:
            R = _stochastic(Rls)
            if np.abs(A @ R - B).max() <= tol:
                return _result(R)
        candidates.append(-np.linalg.pinv(A).T @ np.maximum(-Rls, 0.0))
    else:  # rank-reduced LP: S_r V_r^T R = U_r^T B is equivalent to A R = B here
        Ar, Br = sv[:r, None] * Vt[:r], Ur.T @ B
        R = _feasibility_lp(Ar, Br, tol, _LP_RUNS[:1], strict=False)  # fast, verified
        if R is not None and np.abs(A @ R - B).max() <= tol:
            return _result(R)
        # PDLP found it infeasible (or failed): a verified witness settles it; else the
        # exact interior-point runs decide
        Zd = _dual_lp(A, B, _DUAL_RUNS[:1])
        wit = None if Zd is None else _witness(A, B, Zd)
        if wit is None:
            R = _feasibility_lp(Ar, Br, tol, _LP_RUNS[1:])
            if R is not None and np.abs(A @ R - B).max() <= tol:
                return _result(R)
    for Z in candidates:
        wit = _witness(A, B, Z)
        if wit is not None:
            break
    else:
        if wit is None:
            Zd = _dual_lp(A, B, _DUAL_RUNS[1:])
            wit = None if Zd is None else _witness(A, B, Zd)
    if wit is None:
        raise SolverError(
            f"{fn}: found no post-processing R with max|A R - B| <= tol={tol:g} and no "
            f"witness gain with a gap above {WITNESS_MARGIN:g} (HiGHS); B is within "
            "numerical noise of a post-processing of A. Try a larger tol."
        )
    prior, G, gap = wit
    return Refinement(
        refines=False,
        post_processing=None,
        residual=float(np.abs(B - A @ np.linalg.lstsq(A, B, rcond=None)[0]).max()),
        prior=prior,
        gain=G,
        vulnerability_gap=gap,
    )


def cascade(A: Any, B: Any) -> np.ndarray:
    r"""Cascade (sequential composition) ``A B``: the output of ``A`` is fed to ``B``.

    :math:`(AB)[x, z] = \sum_y A[x, y] B[y, z]` (Science of QIF, Ch. 9): ``A B`` is a
    post-processing of ``A``, so ``refines(A, cascade(A, B)).refines`` is True.

    Parameters
    ----------
    A : (n_x, n_y) array-like
    B : (n_y, n_z) array-like
        Channels with ``B`` having one row per output of ``A``.

    Returns
    -------
    (n_x, n_z) ndarray
    """
    fn = _PREFIX + "cascade"
    A, B = _two(A, B, fn)
    if A.shape[1] != B.shape[0]:
        raise InvalidDistributionError(
            f"{fn}: the 'B' argument must have one row per output of 'A' ({A.shape[1]} "
            f"rows); got shape {B.shape} instead."
        )
    return A @ B


def parallel(A: Any, B: Any) -> np.ndarray:
    r"""Parallel composition :math:`A \parallel B`: both channels run on the same secret.

    :math:`(A \parallel B)[x, (y_1, y_2)] = A[x, y_1]\, B[x, y_2]`, with the output pair
    :math:`(y_1, y_2)` at column :math:`y_1 n_{y_2} + y_2` (Science of QIF, Ch. 8).

    Parameters
    ----------
    A, B : (n_x, n_ya), (n_x, n_yb) array-like

    Returns
    -------
    (n_x, n_ya * n_yb) ndarray
    """
    fn = _PREFIX + "parallel"
    A, B = _two(A, B, fn)
    _same_rows(A, B, fn)
    check_size(A.shape[0] * A.shape[1] * B.shape[1], func=fn, name="B", what="entries")
    return (A[:, :, None] * B[:, None, :]).reshape(A.shape[0], -1)


def _check_p(p: Any, fn: str) -> float:
    ok = isinstance(p, (int, float, np.floating, np.integer)) and not isinstance(p, bool)
    if not ok or not 0.0 <= float(p) <= 1.0:
        raise InvalidParameterError(
            f"{fn}: the 'p' argument must be a probability in [0, 1]; got {p!r} instead."
        )
    return float(p)


def visible_choice(A: Any, B: Any, p: float) -> np.ndarray:
    r"""External (visible) probabilistic choice :math:`A \mathbin{{}_p\boxplus} B`.

    ``A`` runs with probability ``p``, ``B`` otherwise, and the output reveals which ran:
    :math:`C = [\,pA \mid (1-p)B\,]` (columns of ``A`` first; Science of QIF, Ch. 8).

    Parameters
    ----------
    A, B : (n_x, n_ya), (n_x, n_yb) array-like
    p : float in [0, 1]

    Returns
    -------
    (n_x, n_ya + n_yb) ndarray
    """
    fn = _PREFIX + "visible_choice"
    A, B = _two(A, B, fn)
    _same_rows(A, B, fn)
    p = _check_p(p, fn)
    return np.hstack([p * A, (1.0 - p) * B])


def hidden_choice(A: Any, B: Any, p: float) -> np.ndarray:
    r"""Internal (hidden) probabilistic choice :math:`A \mathbin{{}_p\oplus} B`.

    ``A`` runs with probability ``p``, ``B`` otherwise, on the same outputs, and the
    output does not reveal which ran: :math:`C = pA + (1-p)B` (Science of QIF, Ch. 8).

    Parameters
    ----------
    A, B : (n_x, n_y) array-like
        Channels of the same shape.
    p : float in [0, 1]

    Returns
    -------
    (n_x, n_y) ndarray
    """
    fn = _PREFIX + "hidden_choice"
    A, B = _two(A, B, fn)
    if A.shape != B.shape:
        raise InvalidDistributionError(
            f"{fn}: the 'B' argument must have the shape of 'A' {A.shape} (same outputs); "
            f"got shape {B.shape} instead."
        )
    p = _check_p(p, fn)
    return p * A + (1.0 - p) * B
