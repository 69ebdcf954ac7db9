"""Fitting ALS: initialise, alternate the half-steps, record the loss.

Taught in chapter 02 (``chapters/02_als.md``, sections 7-11: loss per iteration, a ``callback``
that scores every iteration, the choice of ``factors`` and ``alpha``, the comparison with
``implicit``); chapters 02b and 04-08 fit their factors with :func:`fit_als`. Hu, Koren &
Volinsky (2008) eqs. 3-5; the conjugate-gradient solver of Takács, Pilászy & Tikk (2011).
"""

from __future__ import annotations

import inspect
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numba
import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from course_lib.als import _kernels
from course_lib.als.objective import loss, total_confidence
from course_lib.als.solvers import SOLVERS, half_step, prepare_confidence, transpose_rows
from course_lib.validation import require_choice, require_int, require_number

__all__ = ["ALSHistory", "ALSIteration", "fit_als", "initial_factors"]


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


def _require_callback(callback: object) -> None:
    """Refuse, before any work, a callback that is not a function of one ``ALSIteration``."""
    if callback is None:
        return
    if not callable(callback):
        raise TypeError(
            f"callback must be a function of one ALSIteration, got {type(callback).__name__}; "
            "pass callback=lambda step: ... or None"
        )
    try:
        signature = inspect.signature(callback)
    except (TypeError, ValueError):  # some built-ins have no signature: call them as they are
        return
    try:
        signature.bind(None)
    except TypeError:
        name = getattr(callback, "__name__", type(callback).__name__)
        raise TypeError(
            f"callback {name}{signature} cannot be called with one argument: fit_als calls it "
            "with one ALSIteration after each iteration (step.iteration, step.seconds, "
            "step.loss, step.user_factors, ...). implicit's callbacks take (iteration, "
            "seconds, loss): wrap one as callback=lambda step: f(step.iteration, "
            "step.seconds, step.loss)"
        ) from None


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
    symmetric item update (eq. 5). See :mod:`course_lib.als` for the three solvers.

    Parameters
    ----------
    plays : sparse matrix (n_users, n_items)
        Raw play counts (CSR, COO or CSC; converted to CSR). Must be finite and >= 0, with at
        least one user, one item and one play.
    factors : int
        Number of latent factors ``f`` (>= 1).
    alpha : float
        Confidence slope: ``c_ui = 1 + alpha * plays_ui`` (>= 0).
    regularization : float
        ``λ``, the L2 penalty on both factor matrices (not scaled by counts, as in ``implicit``;
        >= 0).
    iterations : int
        Number of (user half-step, item half-step) pairs (>= 0).
    solver : {"naive", "cholesky", "cg"}
        How each half-step is solved.
    seed : int
        Seed of the initial factors (``np.random.default_rng(seed)``, >= 0).
    progress : bool
        Show a tqdm bar with the loss.
    confidence_kind, eps
        Use ``"log"`` for ``c_ui = 1 + alpha * log(1 + plays_ui / eps)`` (eq. 6; ``eps > 0``).
    cg_steps : int
        Conjugate-gradient steps per row and half-step (``implicit`` uses 3; >= 1).
    num_threads : int
        numba threads for the compiled solvers; 0 means all available. BLAS (used for the small
        ``f x f`` products ``YᵀY``) is held to one thread during the fit, as ``implicit``
        recommends: its thread pool only fights numba's for the cores.
    dtype : np.float32 or np.float64
        Factor precision (float32, like ``implicit``, unless you need exact comparisons).
    calculate_training_loss : bool
        Compute the objective after each iteration (about a quarter of an iteration's cost).
    callback : callable, optional
        Called with one argument, an :class:`ALSIteration`, after each iteration (``implicit``'s
        callbacks take ``(iteration, seconds, loss)`` instead: wrap them).
    return_history : bool
        Also return an :class:`ALSHistory`.

    Returns
    -------
    user_factors : np.ndarray (n_users, factors)
    item_factors : np.ndarray (n_items, factors)
    history : ALSHistory
        Only when ``return_history=True``.

    Raises
    ------
    TypeError
        An integer argument that is not an integer (``factors=2.5``, ``True``), a number that is
        not a number (``regularization="0.1"``: convert it with ``float`` first), a ``callback``
        that cannot be called with one argument (checked before the fit starts), another
        ``dtype``, ``plays`` not a matrix of numbers.
    ValueError
        ``plays`` without users, items (shape ``(0, n)`` or ``(n, 0)``) or plays (all zero), or
        with negative, NaN or infinite counts; an argument out of range or NaN; an unknown
        ``solver`` or ``confidence_kind``.
    FloatingPointError
        The factors came out non-finite (``regularization=0`` with too few plays, or float32
        overflow).

    Notes
    -----
    Users or items without plays start and stay at zero factors (their optimum).
    """
    factors = require_int(factors, "factors", minimum=1)
    iterations = require_int(iterations, "iterations", minimum=0)
    cg_steps = require_int(cg_steps, "cg_steps", minimum=1)
    num_threads = require_int(num_threads, "num_threads", minimum=0)
    seed = require_int(seed, "seed", minimum=0)
    regularization = require_number(regularization, "regularization", minimum=0.0)
    require_choice(solver, "solver", SOLVERS)
    _require_callback(callback)
    dtype = np.dtype(dtype).type
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be np.float32 or np.float64, got {np.dtype(dtype)}.")

    conf_users = prepare_confidence(plays, alpha, confidence_kind, eps, dtype)
    if conf_users.nnz == 0:
        raise ValueError(
            f"plays {conf_users.shape} holds no plays (every count is 0): ALS would only return "
            "zero factors. Pass the play counts (check the filter or split that built them)."
        )
    conf_items = transpose_rows(conf_users)
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
        user_blocks = _kernels.work_blocks(conf_users.indptr, factors, 4 * threads)
        item_blocks = _kernels.work_blocks(conf_items.indptr, factors, 4 * threads)
        all_confidence = total_confidence(conf_users)
        bar = tqdm(total=iterations, disable=not progress, desc=f"ALS ({solver})")
        with bar:
            for iteration in range(iterations):
                start = time.perf_counter()
                half_step(solver, conf_users, X, Y, regularization, cg_steps, user_blocks)
                half_step(solver, conf_items, Y, X, regularization, cg_steps, item_blocks)
                seconds = time.perf_counter() - start
                history.seconds.append(seconds)
                value = value_normalised = None
                if calculate_training_loss:
                    value = loss(conf_users, X, Y, regularization, user_blocks)
                    value_normalised = value / all_confidence
                    history.loss.append(value)
                    history.loss_normalised.append(value_normalised)
                    bar.set_postfix(loss=f"{value:.5g}")
                bar.update(1)
                if callback is not None:
                    callback(ALSIteration(iteration, seconds, value, value_normalised, X, Y))
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
