"""The closed-form update of one user, written as in the paper (the "naive" solver).

Taught in chapter 02 (``chapters/02_als.md``, sections 3 and 4): with the item factors ``Y``
fixed, Hu, Koren & Volinsky (2008, eq. 4) give ``x_u = (YᵀC_uY + λI)⁻¹ YᵀC_u p_u`` with the
dense ``n_items x n_items`` diagonal ``C_u``. :func:`user_update` is the tested copy the chapter
compares its own cell with (and the reference of exercise 2.2); :func:`naive_half_step` applies
it to every row, which is :func:`~course_lib.als.fit_als`'s ``solver="naive"``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from course_lib.validation import require_number, validate_index, validate_matrix

__all__ = ["naive_half_step", "user_update"]


def _played_counts(plays: object, n_played: int) -> np.ndarray:
    """The play counts of one user's played items: finite, > 0, one per item."""
    counts = np.asarray(plays)
    if counts.dtype == object or counts.dtype.kind not in "biuf":
        raise TypeError(f"plays must hold numbers (play counts), got dtype {counts.dtype}")
    counts = counts.astype(np.float64)
    if counts.shape != (n_played,):
        raise ValueError(
            f"items and plays must have the same length: {n_played} items but plays has shape "
            f"{counts.shape}; pass one play count per played item"
        )
    if not np.all(np.isfinite(counts)) or np.any(counts <= 0):
        raise ValueError(
            f"plays must be finite counts > 0 for the items listed, got {counts[:5].tolist()}"
            f"{'...' if counts.size > 5 else ''}; leave unplayed items out of items"
        )
    return counts


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
        The items this user played, each once (may be empty: the update is then ``0``).
    plays : np.ndarray
        Their play counts (> 0), aligned with ``items``.
    alpha, regularization : float
        ``α`` and ``λ`` (both >= 0).

    Returns
    -------
    np.ndarray (f,), float64

    Raises
    ------
    TypeError
        ``alpha`` or ``regularization`` not a number (``"0.1"``, ``True``), ``item_factors`` or
        ``plays`` not numbers, ``item_factors`` sparse.
    ValueError
        ``item_factors`` not 2-D, empty or not finite; ``items`` not 1-D integers in
        ``[0, n_items)`` or listing an item twice; ``plays`` of another length, not finite or
        not > 0; ``alpha`` or ``regularization`` negative or NaN; a singular system
        (``regularization=0`` with fewer informative items than factors).
    """
    alpha = require_number(alpha, "alpha", minimum=0.0)
    regularization = require_number(regularization, "regularization", minimum=0.0)
    Y = validate_matrix(item_factors, "item_factors", dtype=np.float64)
    items = validate_index(items, Y.shape[0], "items")
    counts = _played_counts(plays, items.size)
    if np.unique(items).size != items.size:
        values, seen = np.unique(items, return_counts=True)
        raise ValueError(
            f"items lists item {int(values[seen > 1][0])} more than once; add up its plays "
            "and list it once"
        )
    c_u = np.ones(Y.shape[0])
    c_u[items] = 1.0 + alpha * counts
    p_u = np.zeros(Y.shape[0])
    p_u[items] = 1.0
    A = Y.T @ (c_u[:, None] * Y) + regularization * np.eye(Y.shape[1])
    try:
        return np.linalg.solve(A, Y.T @ (c_u * p_u))
    except np.linalg.LinAlgError:
        raise ValueError(
            f"YᵀC_uY + λI is singular with regularization={regularization}: the item factors "
            "do not span all f directions. Use regularization > 0 (it makes the system "
            "positive definite)."
        ) from None


def naive_half_step(
    conf: sp.csr_matrix, X: np.ndarray, Y: np.ndarray, regularization: float
) -> None:
    """Eq. 4 as written for every row of ``X``, in place: the dense diagonal ``C_u`` per row.

    ``conf`` holds ``c_ui`` on the played entries (:func:`course_lib.evaluation.confidence`);
    O(n_cols f²) per row, so for small teaching examples only.
    """
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
