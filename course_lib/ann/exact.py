"""The exact answer and how close an approximation comes: brute-force k-NN and recall@k.

Taught in chapter 06 (approximate nearest neighbours), section 1 ("Brute force: exact, and linear
in the catalogue"); every later section measures the forests with :func:`recall_at_k` against
:func:`brute_force_knn`, as annoy's own tests compare with brute force (Bernhardsson 2013).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib.validation import require_choice, require_int, validate_matrix
from course_lib.vectors import unit_rows

__all__ = ["METRICS", "brute_force_knn", "recall_at_k"]

#: The distances the course's indexes know, with annoy's names.
METRICS = ("angular", "euclidean", "dot")


def brute_force_knn(
    vectors: np.ndarray,
    queries: np.ndarray,
    k: int,
    metric: str = "angular",
    max_block_bytes: int = 1 << 27,
) -> np.ndarray:
    """Exact k nearest neighbours by a full scan: one matrix product per block of queries.

    Each query costs ``n * dim`` multiply-adds (every item is scored); memory is the item matrix
    plus one ``(block, n)`` score block, kept under ``max_block_bytes``.

    Parameters
    ----------
    vectors : array (n, dim)
        The catalogue.
    queries : array (n_queries, dim)
    k : int
        Neighbours per query, ``1 <= k <= n``.
    metric : {"angular", "euclidean", "dot"}
        Angular ranks by cosine similarity, euclidean by distance, dot by inner product (largest
        first, the ranking of a matrix-factorisation recommender).
    max_block_bytes : int
        Upper bound on the score block's size.

    Returns
    -------
    np.ndarray, int32, shape (n_queries, k)
        Neighbour ids, nearest first (ties broken by smaller id).

    Raises
    ------
    TypeError
        A sparse or non-numeric ``vectors``/``queries``; ``k`` or ``max_block_bytes`` not an
        integer (bools and strings included).
    ValueError
        An unknown metric; empty, non-2-D or NaN/infinite ``vectors`` or ``queries``; queries of
        another dimension than the vectors; ``k < 1`` or ``k > n``.
    """
    require_choice(metric, "metric", METRICS)
    items = validate_matrix(vectors, "vectors")
    q = validate_matrix(queries, "queries", n_columns=items.shape[1])
    k = require_int(k, "k", 1)
    max_block_bytes = require_int(max_block_bytes, "max_block_bytes", 1)
    n = items.shape[0]
    if k > n:
        raise ValueError(f"k={k} is larger than the number of vectors ({n}); ask for k <= {n}")
    if metric == "angular":
        items, q = unit_rows(items), unit_rows(q)
    sq_norms = np.einsum("ij,ij->i", items, items) if metric == "euclidean" else None
    block = max(1, int(max_block_bytes // (4 * n)))
    out = np.empty((q.shape[0], k), dtype=np.int32)
    for start in range(0, q.shape[0], block):
        scores = q[start : start + block] @ items.T  # (block, n)
        dist = sq_norms[None, :] - 2.0 * scores if sq_norms is not None else -scores
        top = (
            np.argpartition(dist, k - 1, axis=1)[:, :k]
            if k < n
            else np.tile(np.arange(n), (dist.shape[0], 1))
        )
        top_d = np.take_along_axis(dist, top, axis=1)
        order = np.lexsort((top, top_d), axis=1)
        out[start : start + block] = np.take_along_axis(top, order, axis=1)
    return out


def _id_matrix(ids: Any, name: str) -> np.ndarray:
    arr = np.asarray(ids)
    if arr.dtype == object or (arr.size and arr.dtype.kind not in "iu"):
        raise TypeError(
            f"{name} must hold integer item ids (as returned by brute_force_knn or query_batch), "
            f"got dtype {arr.dtype}"
        )
    return arr


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean fraction of the true ``k`` neighbours that were found (``-1`` entries never count).

    The accuracy measure of approximate search (Aumüller et al. 2020, ann-benchmarks).

    Parameters
    ----------
    found : int array (n_queries, k_found)
    truth : int array (n_queries, k)

    Returns
    -------
    float in [0, 1]: ``mean_q |found_q ∩ truth_q| / k``.

    Raises
    ------
    TypeError
        Ids that are not integers (floats, strings).
    ValueError
        Arrays that are not 2-D, that differ in their number of queries, or an empty ``truth``.
    """
    found = _id_matrix(found, "found")
    truth = _id_matrix(truth, "truth")
    if found.ndim != 2 or truth.ndim != 2 or found.shape[0] != truth.shape[0]:
        raise ValueError(
            f"found {found.shape} and truth {truth.shape} must be 2-D with one row per query"
        )
    if truth.size == 0:
        raise ValueError(
            f"truth is empty (shape {truth.shape}); it needs at least one query and k >= 1"
        )
    hits = 0
    for f_row, t_row in zip(found, truth):
        hits += np.intersect1d(f_row[f_row >= 0], t_row).size
    return hits / truth.size
