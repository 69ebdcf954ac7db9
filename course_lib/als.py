"""Alternating least squares for implicit feedback, written by hand.

Taught in chapter 02 (``chapters/02_als.md``). Model and notation: Hu, Koren & Volinsky (2008),
"Collaborative Filtering for Implicit Feedback Datasets"; the conjugate-gradient solver:
Takács, Pilászy & Tikk (2011), "Applications of the conjugate gradient method for implicit
feedback collaborative filtering".

The objective (Hu et al. 2008, eq. 3), with ``p_ui = 1[plays_ui > 0]`` and
``c_ui = 1 + alpha * plays_ui``::

    L(X, Y) = Σ_{u,i} c_ui (p_ui − x_uᵀ y_i)² + λ (Σ_u ‖x_u‖² + Σ_i ‖y_i‖²)

summed over *all* ``n_users x n_items`` cells. With ``Y`` fixed, each ``x_u`` has the closed
form (eq. 4) ``x_u = (YᵀC_uY + λI)⁻¹ YᵀC_u p_u``; three solvers compute it:

* ``"naive"``: builds the dense ``n_items x n_items`` diagonal ``C_u`` for every user,
  O(n_items f²) per user. For teaching on small data only.
* ``"cholesky"``: ``YᵀC_uY = YᵀY + Yᵀ(C_u − I)Y``; ``YᵀY`` is computed once per half-step and
  the second term only touches the user's played items: O(n_u f² + f³) per user.
* ``"cg"``: a few conjugate-gradient steps on the same system, warm-started from the previous
  factors, never forming the matrix: O(cg_steps (n_u f + f²)) per user. Compiled with numba
  and multithreaded; this is what ``implicit`` runs by default.

Conventions match ``implicit.cpu.als.AlternatingLeastSquares`` (users x items CSR input,
``factors``, ``regularization``, ``iterations``, ``cg_steps=3``, and the initialisation
``rng.random(shape) * 0.01`` from ``np.random.default_rng(seed)``, users first). One
difference is deliberate: ``implicit`` uses the matrix it is given, times ``alpha``, as the
confidence itself (``c_ui = alpha * plays_ui``), whereas we follow the paper
(``c_ui = 1 + alpha * plays_ui``). To give ``implicit`` exactly our model, fit it with
``alpha=1.0`` on ``course_lib.evaluation.confidence(plays, alpha)``.

Users (items) with no plays get zero factors and keep them: their optimum under the
objective is ``x_u = 0``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numba
import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from . import _als_numba
from .evaluation import check_plays, confidence

__all__ = [
    "SOLVERS",
    "ALSHistory",
    "ALSIteration",
    "als_loss",
    "fit_als",
    "initial_factors",
    "solve_rows",
    "user_update",
]

SOLVERS = ("naive", "cholesky", "cg")


@dataclass(frozen=True)
class ALSIteration:
    """What a ``callback`` of :func:`fit_als` receives after each iteration.

    ``user_factors`` and ``item_factors`` are the live arrays: copy them to keep a snapshot.
    """

    iteration: int
    seconds: float
    loss: float | None
    loss_normalised: float | None
    user_factors: np.ndarray
    item_factors: np.ndarray


@dataclass
class ALSHistory:
    """Per-iteration record returned by ``fit_als(..., return_history=True)``.

    Attributes
    ----------
    loss : list of float
        The full objective ``L(X, Y)`` after each iteration (empty if the loss was not computed).
    loss_normalised : list of float
        ``L(X, Y) / Σ_{u,i} c_ui``, the number ``implicit`` reports as its training loss.
    seconds : list of float
        Wall-clock seconds of each iteration's two half-steps (loss computation excluded).
    """

    loss: list[float] = field(default_factory=list)
    loss_normalised: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


def initial_factors(
    n_rows: int, factors: int, rng: np.random.Generator, dtype: type = np.float32
) -> np.ndarray:
    """Uniform ``[0, 0.01)`` random factors, exactly as ``implicit`` draws them.

    Small values keep the first half-step close to the regularised solution; positive values
    make every first prediction a small positive score rather than a random sign.
    """
    return rng.random((n_rows, factors), dtype=dtype) * dtype(0.01)


def _check_positive_int(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def _check_float(value: object, name: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}.") from None
    if not np.isfinite(number) or number < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")
    return number


def _naive_half_step(
    conf: sp.csr_matrix, X: np.ndarray, Y: np.ndarray, regularization: float
) -> None:
    """Eq. 4 as written: the dense diagonal C_u for every row. O(n_cols f²) per row."""
    n_cols, f = Y.shape
    ridge = regularization * np.eye(f)
    Y64 = Y.astype(np.float64)
    for u in range(X.shape[0]):
        items = conf.indices[conf.indptr[u] : conf.indptr[u + 1]]
        c_u = np.ones(n_cols)
        c_u[items] = conf.data[conf.indptr[u] : conf.indptr[u + 1]]
        p_u = np.zeros(n_cols)
        p_u[items] = 1.0
        A = Y64.T @ (c_u[:, None] * Y64) + ridge
        b = Y64.T @ (c_u * p_u)
        X[u] = np.linalg.solve(A, b)


def _half_step(
    solver: str,
    conf: sp.csr_matrix,
    X: np.ndarray,
    Y: np.ndarray,
    regularization: float,
    cg_steps: int,
    blocks: np.ndarray,
) -> None:
    if solver == "naive":
        _naive_half_step(conf, X, Y, regularization)
        return
    A0 = Y.T @ Y
    A0[np.diag_indices_from(A0)] += regularization
    if solver == "cg":
        A0 = np.ascontiguousarray(A0, dtype=X.dtype)
        _als_numba.cg_half_step(
            conf.indptr, conf.indices, conf.data, X, Y, A0, cg_steps, blocks, X.dtype.type(0)
        )
    else:
        A0 = np.ascontiguousarray(A0, dtype=np.float64)
        _als_numba.cholesky_half_step(conf.indptr, conf.indices, conf.data, X, Y, A0, blocks)


def _loss(
    conf: sp.csr_matrix,
    X: np.ndarray,
    Y: np.ndarray,
    regularization: float,
    blocks: np.ndarray,
) -> float:
    """Full objective (Hu et al. 2008, eq. 3) in O((n_users + n_items) f² + nnz f)."""
    X64 = X.astype(np.float64)
    Y64 = Y.astype(np.float64)
    all_cells = float(np.sum((X64.T @ X64) * (Y64.T @ Y64)))  # Σ_{u,i} (x_u·y_i)²
    played = _als_numba.nonzero_loss(
        conf.indptr, conf.indices, conf.data, X, Y, blocks, X.dtype.type(0)
    )
    penalty = regularization * (float(np.sum(X64 * X64)) + float(np.sum(Y64 * Y64)))
    return all_cells + float(played) + penalty


def _prepare_confidence(
    plays: object, alpha: float, confidence_kind: str, eps: float, dtype: type
) -> sp.csr_matrix:
    csr = check_plays(plays)
    conf = confidence(csr, alpha=alpha, kind=confidence_kind, eps=eps)
    conf = conf.astype(dtype)
    conf.indptr = conf.indptr.astype(np.int64)
    conf.indices = conf.indices.astype(np.int32)
    return conf


def _transpose(conf: sp.csr_matrix) -> sp.csr_matrix:
    out = conf.T.tocsr()
    out.sort_indices()
    out.indptr = out.indptr.astype(np.int64)
    out.indices = out.indices.astype(np.int32)
    return out


def als_loss(
    plays: sp.spmatrix,
    user_factors: np.ndarray,
    item_factors: np.ndarray,
    alpha: float = 40.0,
    regularization: float = 0.1,
    confidence_kind: str = "linear",
    eps: float = 1.0,
    normalised: bool = False,
) -> float:
    """The ALS objective (Hu, Koren & Volinsky 2008, eq. 3) for given factors.

    ``Σ_{u,i} c_ui (p_ui − x_uᵀy_i)² + λ(Σ‖x_u‖² + Σ‖y_i‖²)`` over all cells, computed from the
    nonzeros plus ``trace(XᵀX YᵀY)``. With ``normalised=True`` it is divided by ``Σ_{u,i} c_ui``
    (``implicit``'s convention for its reported training loss).
    """
    X = np.ascontiguousarray(user_factors)
    Y = np.ascontiguousarray(item_factors, dtype=X.dtype)
    if X.dtype not in (np.float32, np.float64):
        raise TypeError(f"factors must be float32 or float64, got {X.dtype}.")
    conf = _prepare_confidence(plays, alpha, confidence_kind, eps, X.dtype.type)
    if X.shape[0] != conf.shape[0] or Y.shape[0] != conf.shape[1] or X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"factor shapes {X.shape}, {Y.shape} do not fit a {conf.shape} play matrix."
        )
    blocks = _als_numba.work_blocks(conf.indptr, X.shape[1], 4 * numba.get_num_threads())
    loss = _loss(conf, X, Y, _check_float(regularization, "regularization"), blocks)
    if normalised:
        loss /= _total_confidence(conf)
    return loss


def _total_confidence(conf: sp.csr_matrix) -> float:
    n_cells = conf.shape[0] * conf.shape[1]
    return float(conf.data.sum(dtype=np.float64)) + n_cells - conf.nnz


def user_update(
    item_factors: np.ndarray,
    items: np.ndarray,
    plays: np.ndarray,
    alpha: float = 40.0,
    regularization: float = 0.1,
) -> np.ndarray:
    """One user's exact update, written as in the paper (Hu, Koren & Volinsky 2008, eq. 4).

    ``x_u = (YᵀC_uY + λI)⁻¹ YᵀC_u p_u`` with the dense diagonal ``C_u`` (``1`` for unplayed
    items, ``1 + alpha * plays`` for played ones) and ``p_u`` the 0/1 preference vector.

    Parameters
    ----------
    item_factors : np.ndarray (n_items, f)
        ``Y``, held fixed.
    items : np.ndarray of int
        The items this user played.
    plays : np.ndarray
        Their play counts, aligned with ``items``.
    alpha, regularization : float
        ``α`` and ``λ``.

    Returns
    -------
    np.ndarray (f,), float64
    """
    Y = np.asarray(item_factors, dtype=np.float64)
    items = np.asarray(items, dtype=np.int64)
    plays = np.asarray(plays, dtype=np.float64)
    if items.shape != plays.shape:
        raise ValueError("items and plays must have the same length.")
    c_u = np.ones(Y.shape[0])
    c_u[items] = 1.0 + alpha * plays
    p_u = np.zeros(Y.shape[0])
    p_u[items] = 1.0
    A = Y.T @ (c_u[:, None] * Y) + regularization * np.eye(Y.shape[1])
    return np.linalg.solve(A, Y.T @ (c_u * p_u))


def solve_rows(
    plays: sp.spmatrix,
    fixed_factors: np.ndarray,
    alpha: float = 40.0,
    regularization: float = 0.1,
    *,
    confidence_kind: str = "linear",
    eps: float = 1.0,
) -> np.ndarray:
    """Exact factors of every row of ``plays`` with the other side held fixed: one half-step.

    The update of eq. 4 (Hu, Koren & Volinsky 2008) for all rows at once, as :func:`fit_als`'s
    ``"cholesky"`` solver does it: ``A = YᵀY + λI + Σᵢ (cᵤᵢ − 1) yᵢyᵢᵀ`` over the row's plays
    only, solved exactly. This folds new users into a trained model (``plays``: their rows,
    ``fixed_factors``: the item factors) or new items (``plays``: their columns transposed,
    ``fixed_factors``: the user factors) without refitting. A row without plays gets zeros.

    Returns
    -------
    np.ndarray float64 (n_rows, f)
    """
    conf = _prepare_confidence(plays, alpha, confidence_kind, eps, np.float64)
    fixed = np.ascontiguousarray(fixed_factors, dtype=np.float64)
    if fixed.ndim != 2 or fixed.shape[0] != conf.shape[1]:
        raise ValueError(
            f"fixed_factors must be ({conf.shape[1]}, f), one row per column of plays; "
            f"got shape {fixed.shape}"
        )
    rows = np.zeros((conf.shape[0], fixed.shape[1]), dtype=np.float64)
    blocks = _als_numba.work_blocks(conf.indptr, fixed.shape[1], 4 * numba.get_num_threads())
    _half_step(
        "cholesky", conf, rows, fixed, _check_float(regularization, "regularization"), 0, blocks
    )
    return rows


def fit_als(
    plays: sp.spmatrix,
    factors: int = 40,
    alpha: float = 40.0,
    regularization: float = 0.1,
    iterations: int = 15,
    solver: str = "cg",
    seed: int = 0,
    progress: bool = True,
    *,
    confidence_kind: str = "linear",
    eps: float = 1.0,
    cg_steps: int = 3,
    num_threads: int = 0,
    dtype: type = np.float32,
    calculate_training_loss: bool = True,
    callback: Callable[[ALSIteration], None] | None = None,
    return_history: bool = False,
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, ALSHistory]:
    """Fit user and item factors to play counts by alternating least squares.

    Minimises Hu, Koren & Volinsky (2008), eq. 3, alternating the user update (eq. 4) and the
    symmetric item update (eq. 5). See the module docstring for the three solvers.

    Parameters
    ----------
    plays : sparse matrix (n_users, n_items)
        Raw play counts (CSR, COO or CSC; converted to CSR). Must be finite and >= 0.
    factors : int
        Number of latent factors ``f``.
    alpha : float
        Confidence slope: ``c_ui = 1 + alpha * plays_ui``.
    regularization : float
        ``λ``, the L2 penalty on both factor matrices (not scaled by counts, as in ``implicit``).
    iterations : int
        Number of (user half-step, item half-step) pairs.
    solver : {"naive", "cholesky", "cg"}
        How each half-step is solved.
    seed : int
        Seed of the initial factors (``np.random.default_rng(seed)``).
    progress : bool
        Show a tqdm bar with the loss.
    confidence_kind, eps
        Use ``"log"`` for ``c_ui = 1 + alpha * log(1 + plays_ui / eps)`` (eq. 6).
    cg_steps : int
        Conjugate-gradient steps per row and half-step (``implicit`` uses 3).
    num_threads : int
        numba threads for the compiled solvers; 0 means all available. BLAS (used for the small
        ``f x f`` products ``YᵀY``) is held to one thread during the fit, as ``implicit``
        recommends: its thread pool only fights numba's for the cores.
    dtype : np.float32 or np.float64
        Factor precision (float32, like ``implicit``, unless you need exact comparisons).
    calculate_training_loss : bool
        Compute the objective after each iteration (about a quarter of an iteration's cost).
    callback : callable, optional
        Called with an :class:`ALSIteration` after each iteration.
    return_history : bool
        Also return an :class:`ALSHistory`.

    Returns
    -------
    user_factors : np.ndarray (n_users, factors)
    item_factors : np.ndarray (n_items, factors)
    history : ALSHistory
        Only when ``return_history=True``.

    Notes
    -----
    Users or items without plays start and stay at zero factors (their optimum).
    """
    factors = _check_positive_int(factors, "factors", 1)
    iterations = _check_positive_int(iterations, "iterations", 0)
    cg_steps = _check_positive_int(cg_steps, "cg_steps", 1)
    num_threads = _check_positive_int(num_threads, "num_threads", 0)
    alpha = _check_float(alpha, "alpha")
    regularization = _check_float(regularization, "regularization")
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}.")
    dtype = np.dtype(dtype).type
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be np.float32 or np.float64, got {np.dtype(dtype)}.")

    conf_users = _prepare_confidence(plays, alpha, confidence_kind, eps, dtype)
    conf_items = _transpose(conf_users)
    n_users, n_items = conf_users.shape
    if solver == "naive" and (n_users + n_items) * n_items * factors**2 > 5e10:
        warnings.warn(
            f'solver="naive" on {n_users} x {n_items} will be very slow (O(n_items f²) per '
            'user); it is for small teaching examples, use "cholesky" or "cg".',
            stacklevel=2,
        )

    rng = np.random.default_rng(seed)
    X = initial_factors(n_users, factors, rng, dtype)
    Y = initial_factors(n_items, factors, rng, dtype)
    X[np.diff(conf_users.indptr) == 0] = 0.0
    Y[np.diff(conf_items.indptr) == 0] = 0.0

    max_threads = numba.config.NUMBA_NUM_THREADS
    threads = max_threads if num_threads == 0 else min(num_threads, max_threads)
    previous_threads = numba.get_num_threads()
    history = ALSHistory()
    blas_limit = threadpool_limits(limits=1, user_api="blas")
    try:
        numba.set_num_threads(threads)
        user_blocks = _als_numba.work_blocks(conf_users.indptr, factors, 4 * threads)
        item_blocks = _als_numba.work_blocks(conf_items.indptr, factors, 4 * threads)
        total_confidence = _total_confidence(conf_users)
        bar = tqdm(total=iterations, disable=not progress, desc=f"ALS ({solver})")
        with bar:
            for iteration in range(iterations):
                start = time.perf_counter()
                _half_step(solver, conf_users, X, Y, regularization, cg_steps, user_blocks)
                _half_step(solver, conf_items, Y, X, regularization, cg_steps, item_blocks)
                seconds = time.perf_counter() - start
                history.seconds.append(seconds)
                loss = loss_normalised = None
                if calculate_training_loss:
                    loss = _loss(conf_users, X, Y, regularization, user_blocks)
                    loss_normalised = loss / total_confidence
                    history.loss.append(loss)
                    history.loss_normalised.append(loss_normalised)
                    bar.set_postfix(loss=f"{loss:.5g}")
                bar.update(1)
                if callback is not None:
                    callback(ALSIteration(iteration, seconds, loss, loss_normalised, X, Y))
    finally:
        numba.set_num_threads(previous_threads)
        blas_limit.restore_original_limits()

    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(Y))):
        raise FloatingPointError(
            "ALS produced non-finite factors; increase regularization (it must be > 0 when "
            "some users or items have fewer plays than factors) or use dtype=np.float64."
        )
    if return_history:
        return X, Y, history
    return X, Y
