"""Three baselines every model must beat: random, most popular, item-item cosine kNN.

Taught in chapter 01 (``chapters/01_implicit_feedback.md``, section 6, "Three baselines");
chapter 02 puts ALS beside the most-popular list and chapter 04 uses the random baseline for
cold-start tracks. Each returns something :func:`~course_lib.evaluation.ranking_metrics` scores
in batches: a factor pair or a function of a batch of user ids.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from course_lib.evaluation.feedback import preference
from course_lib.evaluation.metrics import ScoreFunction
from course_lib.validation import require_int, validate_plays

__all__ = ["item_knn_scores", "popularity_scores", "random_scores"]


def random_scores(train: sp.spmatrix, seed: int = 0) -> ScoreFunction:
    """Random baseline: every user gets an independent uniformly random ranking.

    Returns a callable ``scores(user_ids)``; user ``u``'s scores depend only on ``(seed, u)``,
    so results do not depend on batch sizes.

    Raises
    ------
    TypeError, ValueError
        ``seed`` not an integer >= 0; ``train`` refused by
        :func:`course_lib.validation.validate_plays`.
    """
    seed = require_int(seed, "seed", minimum=0)
    n_items = validate_plays(train, "train").shape[1]

    def scores(users: np.ndarray) -> np.ndarray:
        return np.stack([np.random.default_rng([seed, int(u)]).random(n_items) for u in users])

    return scores


def popularity_scores(train: sp.spmatrix) -> tuple[np.ndarray, np.ndarray]:
    """Most-popular baseline: every user gets the items played by most training users.

    Cremonesi, Koren & Turrin (2010) show how strong this cheap list is on accuracy. Returned as
    a rank-1 factor pair ``(ones (n_users, 1), popularity (n_items, 1))`` so that
    :func:`~course_lib.evaluation.ranking_metrics` can score it in batches like any factor model.

    Raises
    ------
    TypeError, ValueError
        ``train`` refused by :func:`course_lib.validation.validate_plays`.
    """
    csr = validate_plays(train, "train")
    popularity = np.diff(csr.tocsc().indptr).astype(np.float32)
    return np.ones((csr.shape[0], 1), dtype=np.float32), popularity[:, None]


def item_knn_scores(train: sp.spmatrix, n_neighbours: int | None = 100) -> ScoreFunction:
    """Item-item cosine kNN baseline (Sarwar et al. 2001; Linden, Smith & York 2003).

    ``sim(i, j) = |U_i ∩ U_j| / sqrt(|U_i| |U_j|)`` on binary preferences, the diagonal set to
    zero and each item keeping only its ``n_neighbours`` most similar items (all if ``None``).
    A user's score for item ``j`` is the sum of ``sim(i, j)`` over the items ``i`` they played.

    Returns a callable ``scores(user_ids)``.

    Raises
    ------
    TypeError
        ``n_neighbours`` neither ``None`` nor an integer (``"100"``, ``2.5``, ``True``).
    ValueError
        ``n_neighbours < 1``; ``train`` refused by :func:`course_lib.validation.validate_plays`.
    """
    if n_neighbours is not None:
        n_neighbours = require_int(n_neighbours, "n_neighbours", minimum=1)
    binary = preference(train)
    norms = np.sqrt(np.asarray(binary.sum(axis=0)).ravel())
    norms[norms == 0] = 1.0
    normalised = binary @ sp.diags(1.0 / norms).astype(np.float32)
    similarity = (normalised.T @ normalised).tocsr()
    similarity.setdiag(0.0)
    similarity.eliminate_zeros()
    if n_neighbours is not None:
        similarity = _keep_top_per_row(similarity, n_neighbours)
    similarity = similarity.T.tocsr()  # column j now holds item j's kept neighbours

    def scores(users: np.ndarray) -> np.ndarray:
        return (binary[users] @ similarity).toarray()

    return scores


def _keep_top_per_row(matrix: sp.csr_matrix, n_keep: int) -> sp.csr_matrix:
    """Keep the ``n_keep`` largest entries of each CSR row."""
    matrix = matrix.tocsr()
    data, indices, indptr = matrix.data, matrix.indices, matrix.indptr
    keep = np.zeros(matrix.nnz, dtype=bool)
    for row in range(matrix.shape[0]):
        lo, hi = indptr[row], indptr[row + 1]
        if hi - lo <= n_keep:
            keep[lo:hi] = True
        else:
            keep[lo + np.argpartition(-data[lo:hi], n_keep - 1)[:n_keep]] = True
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(indptr))
    return sp.csr_matrix((data[keep], (rows[keep], indices[keep])), shape=matrix.shape)
