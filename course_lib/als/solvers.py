"""One ALS half-step by each of the three solvers, and :func:`solve_rows` to fold rows in.

Taught in chapter 02 (``chapters/02_als.md``, sections 4-6: naive, only the played tracks,
conjugate gradient); chapter 04 folds new tracks into a trained model with :func:`solve_rows`
(through :func:`course_lib.convnet.fold_in_item_factors`). With the other side's factors ``Y``
fixed, each row's optimum is Hu, Koren & Volinsky (2008), eq. 4; the solvers differ in how they
get it:

* ``"naive"``: the dense diagonal ``C_u`` (:func:`~course_lib.als.update.naive_half_step`);
* ``"cholesky"``: ``YᵀC_uY = YᵀY + Yᵀ(C_u − I)Y``, touching only the row's plays, solved exactly;
* ``"cg"``: a few conjugate-gradient steps on the same system, warm-started (Takács, Pilászy &
  Tikk 2011).
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp

from course_lib.als import _kernels
from course_lib.als.update import naive_half_step
from course_lib.evaluation import CONFIDENCE_KINDS, confidence
from course_lib.validation import (
    require_choice,
    require_number,
    validate_matrix,
    validate_nonempty_plays,
)

__all__ = ["SOLVERS", "half_step", "prepare_confidence", "solve_rows", "transpose_rows"]

#: The solvers of :func:`course_lib.als.fit_als`, slowest first.
SOLVERS = ("naive", "cholesky", "cg")


def prepare_confidence(
    plays: object, alpha: float, confidence_kind: str, eps: float, dtype: type
) -> sp.csr_matrix:
    """``c_ui`` on the played entries, as CSR with the index types the kernels expect.

    Refuses what :func:`course_lib.validation.validate_nonempty_plays` refuses, ``alpha`` that
    is not a number >= 0, an unknown ``confidence_kind`` and ``eps`` that is not a number > 0.
    """
    alpha = require_number(alpha, "alpha", minimum=0.0)
    require_choice(confidence_kind, "confidence_kind", CONFIDENCE_KINDS)
    csr = validate_nonempty_plays(plays)
    conf = confidence(csr, alpha=alpha, kind=confidence_kind, eps=eps)
    conf = conf.astype(dtype)
    conf.indptr = conf.indptr.astype(np.int64)
    conf.indices = conf.indices.astype(np.int32)
    return conf


def transpose_rows(conf: sp.csr_matrix) -> sp.csr_matrix:
    """The items x users CSR of a users x items one, with the kernels' index types."""
    out = conf.T.tocsr()
    out.sort_indices()
    out.indptr = out.indptr.astype(np.int64)
    out.indices = out.indices.astype(np.int32)
    return out


def half_step(
    solver: str,
    conf: sp.csr_matrix,
    X: np.ndarray,
    Y: np.ndarray,
    regularization: float,
    cg_steps: int,
    blocks: np.ndarray,
) -> None:
    """Update every row of ``X`` in place, ``Y`` fixed, by ``solver`` (one of :data:`SOLVERS`).

    ``blocks`` are the row ranges of :func:`course_lib.als._kernels.work_blocks`, one per task
    handed to numba's threads.
    """
    if solver == "naive":
        naive_half_step(conf, X, Y, regularization)
        return
    A0 = Y.T @ Y
    A0[np.diag_indices_from(A0)] += regularization
    if solver == "cg":
        A0 = np.ascontiguousarray(A0, dtype=X.dtype)
        _kernels.cg_half_step(
            conf.indptr, conf.indices, conf.data, X, Y, A0, cg_steps, blocks, X.dtype.type(0)
        )
    else:
        A0 = np.ascontiguousarray(A0, dtype=np.float64)
        _kernels.cholesky_half_step(conf.indptr, conf.indices, conf.data, X, Y, A0, blocks)


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

    The update of eq. 4 (Hu, Koren & Volinsky 2008) for all rows at once, as
    :func:`~course_lib.als.fit_als`'s ``"cholesky"`` solver does it:
    ``A = YᵀY + λI + Σᵢ (cᵤᵢ − 1) yᵢyᵢᵀ`` over the row's plays only, solved exactly. This folds
    new users into a trained model (``plays``: their rows, ``fixed_factors``: the item factors)
    or new items (``plays``: their columns transposed, ``fixed_factors``: the user factors)
    without refitting. A row without plays gets zeros.

    Returns
    -------
    np.ndarray float64 (n_rows, f)

    Raises
    ------
    TypeError
        ``alpha``, ``regularization`` or ``eps`` not a number (``"0.1"``, ``True``);
        ``fixed_factors`` not numbers or sparse; ``plays`` not a matrix of numbers.
    ValueError
        ``plays`` without rows or columns, with negative/NaN counts; ``fixed_factors`` not 2-D,
        not finite, or not one row per column of ``plays``; negative or NaN ``alpha`` or
        ``regularization``; an unknown ``confidence_kind``.
    FloatingPointError
        ``regularization=0`` and a row whose system is singular (fewer informative plays than
        factors): its factors would be NaN.
    """
    regularization = require_number(regularization, "regularization", minimum=0.0)
    conf = prepare_confidence(plays, alpha, confidence_kind, eps, np.float64)
    fixed = validate_matrix(fixed_factors, "fixed_factors", dtype=np.float64)
    if fixed.shape[0] != conf.shape[1]:
        raise ValueError(
            f"fixed_factors must be ({conf.shape[1]}, f), one row per column of plays; "
            f"got shape {fixed.shape}"
        )
    rows = np.zeros((conf.shape[0], fixed.shape[1]), dtype=np.float64)
    blocks = _kernels.work_blocks(conf.indptr, fixed.shape[1], 4 * numba.get_num_threads())
    half_step("cholesky", conf, rows, fixed, regularization, 0, blocks)
    bad = np.flatnonzero(~np.isfinite(rows).all(axis=1))
    if bad.size:
        raise FloatingPointError(
            f"rows {bad[:5].tolist()} got non-finite factors: their system is singular with "
            f"regularization={regularization}; use regularization > 0"
        )
    return rows
