"""Maximum inner product search as nearest neighbour search: the extra dimension of Bachrach et al.

Taught in chapter 06 (approximate nearest neighbours), section 8 ("Dot products are not angles"):
a recommender ranks by dot product, and one extra coordinate makes the angular index rank the same
way (Bachrach et al. 2014). The ``"dot"`` metric of :class:`~course_lib.ann.RandomHyperplaneForest`
builds its trees on these transformed vectors.
"""

from __future__ import annotations

import numpy as np

from course_lib.validation import require_number, validate_matrix

__all__ = ["mips_query", "mips_transform"]


def mips_transform(
    item_vectors: np.ndarray, max_norm: float | None = None
) -> tuple[np.ndarray, float]:
    """Append ``sqrt(M^2 - |x|^2)`` to every item vector (Bachrach et al. 2014, section 4).

    All transformed items have norm ``M``, and a query padded with a 0 (:func:`mips_query`) has
    ``x~ . q~ = x . q``. So ``|q~ - x~|^2 = |q|^2 + M^2 - 2 x . q`` and ``cos(q~, x~) = x . q /
    (M |q|)``: the nearest neighbour (euclidean or angular) of ``q~`` is the item with the largest
    inner product with ``q``.

    Parameters
    ----------
    item_vectors : array (n, dim)
    max_norm : float, optional
        ``M``; defaults to the largest item norm. Must be at least that.

    Returns
    -------
    (transformed (n, dim + 1) float32, M)

    Raises
    ------
    TypeError
        ``item_vectors`` sparse or not numeric; ``max_norm`` not a number (strings and bools
        included).
    ValueError
        ``item_vectors`` empty, not 2-D, with NaN or infinite values; ``max_norm`` negative, not
        finite, or below the largest item norm.
    """
    items = validate_matrix(item_vectors, "item_vectors").astype(np.float64)
    sq = np.einsum("ij,ij->i", items, items)
    largest = float(np.sqrt(sq.max()))
    m = largest if max_norm is None else require_number(max_norm, "max_norm", minimum=0.0)
    if m < largest * (1 - 1e-6):
        raise ValueError(
            f"max_norm={m} is below the largest item norm {largest}; use max_norm=None"
        )
    extra = np.sqrt(np.maximum(m * m - sq, 0.0))
    return np.hstack([items, extra[:, None]]).astype(np.float32), m


def mips_query(queries: np.ndarray) -> np.ndarray:
    """Pad queries with a zero to match :func:`mips_transform`'s items (Bachrach et al. 2014).

    ``queries`` is one query ``(dim,)`` or a matrix ``(m, dim)``; the result is float32 of shape
    ``(dim + 1,)`` or ``(m, dim + 1)``.

    Raises
    ------
    TypeError
        Sparse or non-numeric queries.
    ValueError
        Empty queries, more than two dimensions, NaN or infinite values.
    """
    if np.ndim(queries) == 1:
        q = validate_matrix(np.asarray(queries)[None, :], "queries")
        return np.append(q[0], np.float32(0.0))
    q = validate_matrix(queries, "queries")
    return np.hstack([q, np.zeros((q.shape[0], 1), np.float32)])
