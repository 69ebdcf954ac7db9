"""The ALS objective, computed from the played entries only.

Taught in chapter 02 (``chapters/02_als.md``, sections 2 and 7: the objective, and its value
after each iteration, which must never go up). Hu, Koren & Volinsky (2008), eq. 3::

    L(X, Y) = Σ_{u,i} c_ui (p_ui − x_uᵀ y_i)² + λ (Σ_u ‖x_u‖² + Σ_i ‖y_i‖²)

summed over *all* ``n_users x n_items`` cells, yet computed in O((n_users + n_items) f² + nnz f):
``Σ_{u,i} (x_uᵀy_i)² = trace(XᵀX YᵀY)`` and the played cells correct it.
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp

from course_lib.als import _kernels
from course_lib.als.solvers import prepare_confidence
from course_lib.validation import require_number, validate_matrix

__all__ = ["als_loss", "loss", "total_confidence"]


def loss(
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
    played = _kernels.nonzero_loss(
        conf.indptr, conf.indices, conf.data, X, Y, blocks, X.dtype.type(0)
    )
    penalty = regularization * (float(np.sum(X64 * X64)) + float(np.sum(Y64 * Y64)))
    return all_cells + float(played) + penalty


def total_confidence(conf: sp.csr_matrix) -> float:
    """``Σ_{u,i} c_ui`` over all cells (unplayed cells count 1)."""
    n_cells = conf.shape[0] * conf.shape[1]
    return float(conf.data.sum(dtype=np.float64)) + n_cells - conf.nnz


def _user_factors(user_factors: object) -> np.ndarray:
    dtype = np.asarray(user_factors).dtype
    if dtype not in (np.float32, np.float64):
        raise TypeError(
            f"user_factors must be float32 or float64, got {dtype}; convert with "
            "user_factors.astype(np.float64)"
        )
    return validate_matrix(user_factors, "user_factors", dtype=dtype.type)


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

    Raises
    ------
    TypeError
        ``user_factors`` not float32/float64 (``item_factors`` are converted to its dtype),
        factors that are not numbers or are sparse, ``alpha``, ``regularization`` or ``eps`` not
        a number (``"0.1"``, ``True``), ``plays`` not a matrix of numbers.
    ValueError
        ``plays`` without users or items or with negative/NaN counts; factors that are not 2-D,
        hold NaN or infinite values, or do not fit ``plays`` (one row per user and per item,
        the same number of columns); negative or NaN ``alpha`` or ``regularization``.
    """
    X = _user_factors(user_factors)
    Y = validate_matrix(item_factors, "item_factors", n_columns=X.shape[1], dtype=X.dtype.type)
    regularization = require_number(regularization, "regularization", minimum=0.0)
    conf = prepare_confidence(plays, alpha, confidence_kind, eps, X.dtype.type)
    if X.shape[0] != conf.shape[0] or Y.shape[0] != conf.shape[1]:
        raise ValueError(
            f"factor shapes {X.shape}, {Y.shape} do not fit a {conf.shape} play matrix: pass "
            "one row of user_factors per user and one row of item_factors per item"
        )
    blocks = _kernels.work_blocks(conf.indptr, X.shape[1], 4 * numba.get_num_threads())
    value = loss(conf, X, Y, regularization, blocks)
    if normalised:
        value /= total_confidence(conf)
    return value
