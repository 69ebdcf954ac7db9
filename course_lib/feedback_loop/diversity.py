"""How diverse are the recommendation lists? Coverage, Gini of exposure, genres per user.

Taught in chapter 08 (``chapters/08_beyond_accuracy.md``, "9. Filter bubbles: a recommender that
learns from itself"), which measures every round of the feedback loop with
:func:`catalogue_coverage`, :func:`gini` of the :func:`exposure_counts` (Fleder & Hosanagar 2009)
and :func:`genres_per_user`. A recommendation list is an integer matrix ``(n_users, k)`` of
item ids.
"""

from __future__ import annotations

import numpy as np

from course_lib.validation import require_int

__all__ = ["catalogue_coverage", "exposure_counts", "genres_per_user", "gini"]


def _validate_recommendations(recommendations: object, n_items: int) -> np.ndarray:
    """An integer ``(n_users, k)`` matrix of ids in ``0..n_items-1``, or a clear error."""
    n_items = require_int(n_items, "n_items", 1)
    recs = np.asarray(recommendations)
    if recs.ndim != 2 or not np.issubdtype(recs.dtype, np.integer):
        raise ValueError(
            f"recommendations must be an integer matrix (n_users, k) of item ids, got dtype "
            f"{recs.dtype} and shape {recs.shape}"
        )
    if recs.size and (recs.min() < 0 or recs.max() >= n_items):
        raise ValueError(
            f"recommendations contain item ids outside [0, {n_items}) (from {recs.min()} to "
            f"{recs.max()}): the lists and n_items come from different catalogues"
        )
    return recs


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values, e.g. how often each track was shown.

    ``G = sum_i (2i - n - 1) x_(i) / (n sum_i x_i)`` with ``x_(1) <= ... <= x_(n)`` sorted and
    ``i`` counted from 1: 0 when every track gets the same exposure, ``(n - 1) / n`` when one track
    gets all of it (Fleder & Hosanagar 2009 use it for sales concentration).

    Parameters
    ----------
    values : array of shape (n,), non-negative, not all zero

    Returns
    -------
    float in [0, 1)

    Raises
    ------
    TypeError
        Values that are not numbers (text is refused, not converted).
    ValueError
        An empty array, NaN, infinite or negative values, or all zeros.
    """
    raw = np.asarray(values)
    if raw.dtype.kind not in "biuf":
        raise TypeError(f"gini needs numbers, got dtype {raw.dtype}")
    x = np.sort(raw.astype(np.float64).ravel())
    if x.size == 0 or not np.isfinite(x).all() or (x < 0).any():
        raise ValueError("gini needs a non-empty array of finite, non-negative values")
    total = x.sum()
    if total == 0:
        raise ValueError("gini is undefined when every value is 0 (nothing was exposed)")
    n = x.size
    ranks = np.arange(1, n + 1)
    return float(np.sum((2 * ranks - n - 1) * x) / (n * total))


def exposure_counts(recommendations: np.ndarray, n_items: int) -> np.ndarray:
    """How many times each item appears in the recommendation lists, shape (n_items,).

    Refuses lists that are not an integer ``(n_users, k)`` matrix, ids outside ``0..n_items-1``
    and an ``n_items`` that is not an integer >= 1.
    """
    recs = _validate_recommendations(recommendations, n_items)
    return np.bincount(recs.ravel(), minlength=n_items)


def catalogue_coverage(recommendations: np.ndarray, n_items: int) -> float:
    """Share of the catalogue recommended to at least one user (refuses what
    :func:`exposure_counts` refuses)."""
    return float(np.count_nonzero(exposure_counts(recommendations, n_items)) / n_items)


def genres_per_user(recommendations: np.ndarray, genre_ids: np.ndarray) -> float:
    """Mean number of distinct genres in a user's recommendation list.

    Refuses genre ids that are not a 1-D integer array (one per item), and lists that are empty
    (no users or ``k = 0``: the mean would be undefined) or hold ids outside the catalogue.
    """
    g = np.asarray(genre_ids)
    if g.ndim != 1 or g.dtype.kind not in "iu":
        raise ValueError(
            f"genre_ids must be a 1-D integer array, one id per item; got dtype {g.dtype} and "
            f"shape {g.shape}"
        )
    recs = _validate_recommendations(recommendations, g.size)
    if recs.size == 0:
        raise ValueError(f"recommendations are empty (shape {recs.shape}): no list to count")
    genres = np.sort(g[recs], axis=1)
    return float(np.mean(1 + np.count_nonzero(np.diff(genres, axis=1), axis=1)))
