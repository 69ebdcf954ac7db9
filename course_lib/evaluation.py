"""Implicit feedback, an honest evaluation protocol and three baselines.

Taught in chapter 01 (``chapters/01_implicit_feedback.md``) and used by every later chapter
that ranks tracks for users.

The conventions follow ``implicit`` (Frederickson, 2017): play counts arrive as a
``scipy.sparse.csr_matrix`` of shape ``(n_users, n_items)``; a model is judged by the items it
ranks highest for a user, after removing the items that user already played in the training
split (Hu, Koren & Volinsky 2008, section 6).

Three kinds of "scores" are accepted wherever a model's output is evaluated:

* a dense ``np.ndarray`` of shape ``(n_users, n_items)``;
* a tuple ``(user_factors, item_factors)``; scores are ``user_factors @ item_factors.T``,
  computed batch by batch so the full matrix never exists in memory;
* a callable ``scores(user_ids) -> np.ndarray`` of shape ``(len(user_ids), n_items)``
  (this is how the item-kNN and random baselines are written).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

__all__ = [
    "Scores",
    "check_plays",
    "confidence",
    "item_knn_scores",
    "popularity_curve",
    "popularity_scores",
    "preference",
    "random_scores",
    "ranking_metrics",
    "split_plays",
    "top_k_items",
]

ScoreFunction = Callable[[np.ndarray], np.ndarray]
Scores = np.ndarray | tuple[np.ndarray, np.ndarray] | ScoreFunction


# ----------------------------------------------------------------------------------------------
# Input checks
# ----------------------------------------------------------------------------------------------
def check_plays(plays: object, name: str = "plays") -> sp.csr_matrix:
    """Validate a users x items play-count matrix and return it as canonical CSR.

    Parameters
    ----------
    plays : scipy.sparse matrix or array (n_users, n_items)
        Play counts. COO, CSC, CSR and dense arrays are accepted and converted to CSR.
    name : str
        Name used in error messages.

    Returns
    -------
    scipy.sparse.csr_matrix
        A CSR matrix with sorted indices and duplicate entries summed. Explicit zeros are
        removed. The dtype is kept (integer counts stay integer).

    Raises
    ------
    TypeError
        If ``plays`` is not a 2-D matrix of numbers.
    ValueError
        If it contains negative, NaN or infinite values.
    """
    if isinstance(plays, np.ndarray | np.matrix):
        if plays.ndim != 2:
            raise TypeError(f"{name} must be 2-D (users x items); got shape {plays.shape}.")
        plays = sp.csr_matrix(plays)
    if not sp.issparse(plays):
        raise TypeError(
            f"{name} must be a scipy.sparse matrix (users x items), got {type(plays).__name__}. "
            "Build one with scipy.sparse.csr_matrix((counts, (user_ids, item_ids)))."
        )
    if plays.ndim != 2:
        raise TypeError(f"{name} must be 2-D (users x items); got shape {plays.shape}.")
    if not (np.issubdtype(plays.dtype, np.integer) or np.issubdtype(plays.dtype, np.floating)):
        raise TypeError(
            f"{name} must hold integer or float play counts, got dtype {plays.dtype}. "
            "Convert with plays.astype(np.float32)."
        )
    csr = sp.csr_matrix(plays, copy=True)  # converts coo/csc/lil; copy so we never touch input
    csr.sum_duplicates()
    csr.sort_indices()
    data = csr.data
    if data.size and np.issubdtype(data.dtype, np.floating) and not np.all(np.isfinite(data)):
        raise ValueError(
            f"{name} contains NaN or infinite values; play counts must be finite. "
            "Drop or fill those entries first (e.g. plays.data = np.nan_to_num(plays.data))."
        )
    if data.size and data.min() < 0:
        raise ValueError(
            f"{name} contains negative values (min {data.min()}); play counts must be >= 0. "
            "Implicit feedback has no negative plays: clip them with plays.data.clip(0)."
        )
    csr.eliminate_zeros()
    return csr


# ----------------------------------------------------------------------------------------------
# Preference and confidence (Hu, Koren & Volinsky 2008, eqs. 1-2 and section 4)
# ----------------------------------------------------------------------------------------------
def preference(plays: sp.spmatrix) -> sp.csr_matrix:
    """Binary preference ``p_ui = 1[plays_ui > 0]`` (Hu, Koren & Volinsky 2008, eq. 1).

    Returns a float32 CSR matrix with a 1 wherever the user played the item.
    """
    csr = check_plays(plays)
    out = csr.astype(np.float32)
    out.data[:] = 1.0
    return out


def confidence(
    plays: sp.spmatrix, alpha: float = 40.0, kind: str = "linear", eps: float = 1.0
) -> sp.csr_matrix:
    """Confidence ``c_ui`` in the preference ``p_ui`` (Hu, Koren & Volinsky 2008, section 4).

    * ``kind="linear"``: ``c_ui = 1 + alpha * plays_ui`` (their eq. 2, the Spotify slides'
      "1 + a x plays");
    * ``kind="log"``: ``c_ui = 1 + alpha * log(1 + plays_ui / eps)`` (their eq. 6), which
      stops a handful of tracks on repeat from dominating a user's profile.

    Only played entries are stored: every unplayed entry has ``c_ui = 1`` implicitly.

    Parameters
    ----------
    plays : sparse matrix (n_users, n_items)
        Raw play counts (>= 0).
    alpha : float
        How fast confidence grows with plays. Must be >= 0.
    kind : {"linear", "log"}
        Which of the two formulas to use.
    eps : float
        Scale of the log variant (plays are divided by it). Must be > 0.

    Returns
    -------
    scipy.sparse.csr_matrix of float32, same sparsity pattern as ``plays``.
    """
    if not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"alpha must be a finite number >= 0, got {alpha}.")
    if not np.isfinite(eps) or eps <= 0:
        raise ValueError(f"eps must be a finite number > 0, got {eps}.")
    csr = check_plays(plays).astype(np.float64)
    if kind == "linear":
        csr.data = 1.0 + alpha * csr.data
    elif kind == "log":
        csr.data = 1.0 + alpha * np.log1p(csr.data / eps)
    else:
        raise ValueError(f'kind must be "linear" or "log", got {kind!r}.')
    return csr.astype(np.float32)


def popularity_curve(plays: sp.spmatrix) -> tuple[np.ndarray, np.ndarray]:
    """Items sorted by popularity, and the cumulative share of plays they account for.

    Returns
    -------
    counts : np.ndarray (n_items,)
        Total plays per item, sorted in decreasing order (the "long tail" curve).
    cumulative_share : np.ndarray (n_items,)
        ``cumulative_share[j]`` is the fraction of all plays that go to the ``j + 1`` most
        played items.
    """
    csr = check_plays(plays)
    counts = np.asarray(csr.sum(axis=0)).ravel().astype(np.float64)
    counts = np.sort(counts)[::-1]
    total = counts.sum()
    share = np.cumsum(counts) / total if total > 0 else np.zeros_like(counts)
    return counts, share


# ----------------------------------------------------------------------------------------------
# The split
# ----------------------------------------------------------------------------------------------
def split_plays(
    plays: sp.spmatrix, test_fraction: float = 0.2, seed: int = 0
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Per-user random hold-out of played items.

    For each user with ``n_u`` played items, ``np.rint(test_fraction * n_u)`` of them (rounded to
    the nearest integer, ties to even; at least one, at most ``n_u - 1``), chosen uniformly at
    random, move with all their plays to the test matrix; the rest stay in
    the training matrix. A user with a single played item keeps it in training (we could not
    learn anything about them otherwise) and is therefore skipped by :func:`ranking_metrics`.
    Every user and item keeps its row/column index, so factors trained on ``train`` can be
    scored against ``test`` directly.

    Parameters
    ----------
    plays : sparse matrix (n_users, n_items)
        Play counts.
    test_fraction : float
        Share of each user's played items to hold out, in (0, 1).
    seed : int
        Seed of the random choice; the same seed gives the same split.

    Returns
    -------
    train, test : scipy.sparse.csr_matrix
        Same shape and dtype as ``plays``; their sum is ``plays`` and they share no entry.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}.")
    csr = check_plays(plays)
    n_users = csr.shape[0]
    per_user = np.diff(csr.indptr)
    rows = np.repeat(np.arange(n_users), per_user)
    rng = np.random.default_rng(seed)
    keys = rng.random(csr.nnz)
    order = np.lexsort((keys, rows))  # random order of entries inside each row
    rank = np.empty(csr.nnz, dtype=np.int64)
    rank[order] = np.arange(csr.nnz) - np.repeat(csr.indptr[:-1], per_user)
    n_test = np.rint(test_fraction * per_user).astype(np.int64)
    n_test = np.clip(n_test, 1, None)
    n_test = np.minimum(n_test, per_user - 1)  # users with one item keep it in train
    n_test = np.maximum(n_test, 0)
    in_test = rank < np.repeat(n_test, per_user)

    def _pick(mask: np.ndarray) -> sp.csr_matrix:
        indptr = np.r_[0, np.cumsum(np.bincount(rows[mask], minlength=n_users))]
        return sp.csr_matrix((csr.data[mask], csr.indices[mask], indptr), shape=csr.shape)

    return _pick(~in_test), _pick(in_test)


# ----------------------------------------------------------------------------------------------
# Ranking metrics
# ----------------------------------------------------------------------------------------------
def _score_function(scores_or_factors: Scores, shape: tuple[int, int]) -> ScoreFunction:
    n_users, n_items = shape
    if callable(scores_or_factors):
        return scores_or_factors
    if isinstance(scores_or_factors, tuple):
        if len(scores_or_factors) != 2:
            raise TypeError("a factor tuple must be (user_factors, item_factors).")
        user_factors, item_factors = (np.asarray(f) for f in scores_or_factors)
        if user_factors.ndim != 2 or item_factors.ndim != 2:
            raise ValueError("user_factors and item_factors must both be 2-D arrays.")
        if user_factors.shape[0] != n_users or item_factors.shape[0] != n_items:
            raise ValueError(
                f"factor shapes {user_factors.shape} and {item_factors.shape} do not match the "
                f"{n_users} users x {n_items} items of train/test."
            )
        if user_factors.shape[1] != item_factors.shape[1]:
            raise ValueError("user_factors and item_factors must have the same number of columns.")
        return lambda users: user_factors[users] @ item_factors.T
    scores = np.asarray(scores_or_factors)
    if scores.shape != (n_users, n_items):
        raise ValueError(
            f"score matrix has shape {scores.shape}, expected {(n_users, n_items)} "
            "(users x items). Pass (user_factors, item_factors) to avoid the dense matrix."
        )
    return lambda users: scores[users]


def top_k_items(scores: np.ndarray, k: int, exclude: sp.csr_matrix | None = None) -> np.ndarray:
    """Indices of the ``k`` highest scores of each row, best first.

    Parameters
    ----------
    scores : np.ndarray (n_rows, n_items)
        Scores; modified in place when ``exclude`` is given.
    k : int
        How many items to return per row.
    exclude : sparse matrix (n_rows, n_items), optional
        Nonzero entries get the score ``-inf`` before ranking (items already played).

    Returns
    -------
    np.ndarray of int (n_rows, k)
        Ties are broken by ``np.argpartition``, deterministically for a given input.
    """
    scores = np.asarray(scores)
    n_rows, n_items = scores.shape
    k = min(k, n_items)
    if exclude is not None:
        exclude = sp.csr_matrix(exclude)
        rows = np.repeat(np.arange(n_rows), np.diff(exclude.indptr))
        scores[rows, exclude.indices] = -np.inf
    if k < n_items:
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        top = np.tile(np.arange(n_items), (n_rows, 1))
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1)


def ranking_metrics(
    scores_or_factors: Scores,
    train: sp.spmatrix,
    test: sp.spmatrix,
    k: int = 10,
    head_fraction: float = 0.2,
    batch_size: int | None = None,
) -> dict[str, float]:
    """Top-``k`` ranking metrics on held-out plays, never recommending training items.

    For every user with at least one test item, the ``k`` best-scored items that are *not* in
    the user's training plays form the recommendation list ``R_u``; ``T_u`` is the user's test
    items and ``hit_r = 1[R_u[r] in T_u]`` (rank ``r = 1..k``). Per user:

    * ``precision = hits / k``;
    * ``recall = hits / |T_u|``;
    * ``ndcg = sum_r hit_r / log2(r + 1)`` divided by its best possible value,
      ``sum_{r <= min(k, |T_u|)} 1 / log2(r + 1)`` (Järvelin & Kekäläinen 2002);
    * ``map`` (average precision at k) ``= sum_r hit_r * precision@r / min(k, |T_u|)``.

    These are averaged over evaluated users. Catalogue-level numbers:

    * ``coverage``: share of the catalogue that appears in at least one list;
    * ``long_tail_share``: share of all recommended slots filled by *tail* items, the items
      outside the ``head_fraction`` (20 %) most popular ones, popularity being the number of
      training users who played an item.

    Users without test items (including those with a single play, see :func:`split_plays`)
    are skipped and counted in ``n_users_skipped``.

    Parameters
    ----------
    scores_or_factors : ndarray, (user_factors, item_factors) or callable
        The model's scores, see the module docstring.
    train, test : sparse matrix (n_users, n_items)
        The two halves returned by :func:`split_plays`.
    k : int
        Length of each recommendation list.
    head_fraction : float
        Share of the most popular items that form the head (the rest is the tail).
    batch_size : int, optional
        Users scored at once; by default about 8 million scores per batch.

    Returns
    -------
    dict
        ``precision, recall, ndcg, map, coverage, long_tail_share`` (floats in [0, 1]) and
        ``k, n_users_evaluated, n_users_skipped``.
    """
    train = check_plays(train, "train")
    test = check_plays(test, "test")
    if train.shape != test.shape:
        raise ValueError(f"train {train.shape} and test {test.shape} must have the same shape.")
    if int(k) < 1:
        raise ValueError(f"k must be >= 1, got {k}.")
    if not 0.0 < head_fraction < 1.0:
        raise ValueError(f"head_fraction must be in (0, 1), got {head_fraction}.")
    k = int(k)
    n_users, n_items = train.shape
    score = _score_function(scores_or_factors, train.shape)

    popularity = np.diff(train.tocsc().indptr)
    n_head = int(np.ceil(head_fraction * n_items))
    is_tail = np.ones(n_items, dtype=bool)
    is_tail[np.argsort(-popularity, kind="stable")[:n_head]] = False

    n_test = np.diff(test.indptr)
    users = np.flatnonzero(n_test > 0)
    if batch_size is None:
        batch_size = max(1, (1 << 23) // max(n_items, 1))
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.cumsum(discounts)

    totals = dict.fromkeys(("precision", "recall", "ndcg", "map"), 0.0)
    recommended = np.zeros(n_items, dtype=bool)
    tail_slots = 0
    slots = 0
    for start in range(0, users.size, batch_size):
        batch = users[start : start + batch_size]
        scores = np.array(score(batch), dtype=np.float64)
        if scores.shape != (batch.size, n_items):
            raise ValueError(
                f"scores for {batch.size} users must have shape {(batch.size, n_items)}, "
                f"got {scores.shape}."
            )
        top = top_k_items(scores, k, exclude=train[batch])
        valid = np.isfinite(np.take_along_axis(scores, top, axis=1))
        truth = test[batch].toarray() > 0
        hits = np.take_along_axis(truth, top, axis=1) & valid
        n_rel = n_test[batch]
        n_hits = hits.sum(axis=1)
        totals["precision"] += float(np.sum(n_hits / k))
        totals["recall"] += float(np.sum(n_hits / n_rel))
        best = np.minimum(n_rel, k)
        totals["ndcg"] += float(np.sum(hits @ discounts[: hits.shape[1]] / ideal[best - 1]))
        precision_at_r = np.cumsum(hits, axis=1) / np.arange(1, hits.shape[1] + 1)
        totals["map"] += float(np.sum((precision_at_r * hits).sum(axis=1) / best))
        recommended[top[valid]] = True
        tail_slots += int(is_tail[top[valid]].sum())
        slots += int(valid.sum())

    n_eval = users.size
    out = {name: (value / n_eval if n_eval else float("nan")) for name, value in totals.items()}
    out["coverage"] = float(recommended.sum() / n_items)
    out["long_tail_share"] = float(tail_slots / slots) if slots else float("nan")
    out["k"] = k
    out["n_users_evaluated"] = int(n_eval)
    out["n_users_skipped"] = int(n_users - n_eval)
    return out


# ----------------------------------------------------------------------------------------------
# Baselines
# ----------------------------------------------------------------------------------------------
def random_scores(train: sp.spmatrix, seed: int = 0) -> ScoreFunction:
    """Random baseline: every user gets an independent uniformly random ranking.

    Returns a callable ``scores(user_ids)``; user ``u``'s scores depend only on ``(seed, u)``,
    so results do not depend on batch sizes.
    """
    n_items = check_plays(train, "train").shape[1]

    def scores(users: np.ndarray) -> np.ndarray:
        return np.stack([np.random.default_rng([seed, int(u)]).random(n_items) for u in users])

    return scores


def popularity_scores(train: sp.spmatrix) -> tuple[np.ndarray, np.ndarray]:
    """Most-popular baseline: every user gets the items played by most training users.

    Returned as a rank-1 factor pair ``(ones (n_users, 1), popularity (n_items, 1))`` so that
    :func:`ranking_metrics` can score it in batches like any factor model.
    """
    csr = check_plays(train, "train")
    popularity = np.diff(csr.tocsc().indptr).astype(np.float32)
    return np.ones((csr.shape[0], 1), dtype=np.float32), popularity[:, None]


def item_knn_scores(train: sp.spmatrix, n_neighbours: int | None = 100) -> ScoreFunction:
    """Item-item cosine kNN baseline (Sarwar et al. 2001; Linden, Smith & York 2003).

    ``sim(i, j) = |U_i ∩ U_j| / sqrt(|U_i| |U_j|)`` on binary preferences, the diagonal set to
    zero and each item keeping only its ``n_neighbours`` most similar items (all if ``None``).
    A user's score for item ``j`` is the sum of ``sim(i, j)`` over the items ``i`` they played.

    Returns a callable ``scores(user_ids)``.
    """
    binary = preference(train)
    norms = np.sqrt(np.asarray(binary.sum(axis=0)).ravel())
    norms[norms == 0] = 1.0
    normalised = binary @ sp.diags(1.0 / norms).astype(np.float32)
    similarity = (normalised.T @ normalised).tocsr()
    similarity.setdiag(0.0)
    similarity.eliminate_zeros()
    if n_neighbours is not None:
        similarity = _keep_top_per_row(similarity, int(n_neighbours))
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
