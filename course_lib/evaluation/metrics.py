"""Top-k lists and the ranking metrics computed on them.

Taught in chapter 01 (``chapters/01_implicit_feedback.md``, section 5, "Metrics at k"); later
chapters score their models with :func:`ranking_metrics`. A model is judged by the items it
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

import warnings
from collections.abc import Callable, Iterator

import numpy as np
import scipy.sparse as sp

from course_lib.validation import require_int, require_number, validate_matrix, validate_plays

__all__ = [
    "PER_USER_METRICS",
    "ScoreFunction",
    "Scores",
    "per_user_metrics",
    "ranking_metrics",
    "top_k_items",
]

PER_USER_METRICS = ("precision", "recall", "ndcg", "map")

ScoreFunction = Callable[[np.ndarray], np.ndarray]
Scores = np.ndarray | tuple[np.ndarray, np.ndarray] | ScoreFunction


def _factor_matrix(factors: object, name: str, n_columns: int | None = None) -> np.ndarray:
    """Finite 2-D factors, float32 kept as float32 (the scores then match the model's own)."""
    dtype = np.float32 if np.asarray(factors).dtype == np.float32 else np.float64
    return validate_matrix(factors, name, n_columns=n_columns, dtype=dtype)


def _score_function(scores_or_factors: Scores, shape: tuple[int, int]) -> ScoreFunction:
    n_users, n_items = shape
    if callable(scores_or_factors):
        return scores_or_factors
    if isinstance(scores_or_factors, tuple):
        if len(scores_or_factors) != 2:
            raise TypeError(
                f"a factor tuple must be (user_factors, item_factors), got {len(scores_or_factors)}"
                " elements"
            )
        user_factors = _factor_matrix(scores_or_factors[0], "user_factors")
        item_factors = _factor_matrix(scores_or_factors[1], "item_factors", user_factors.shape[1])
        if user_factors.shape[0] != n_users or item_factors.shape[0] != n_items:
            raise ValueError(
                f"factor shapes {user_factors.shape} and {item_factors.shape} do not match the "
                f"{n_users} users x {n_items} items of train/test."
            )
        return lambda users: user_factors[users] @ item_factors.T
    scores = np.asarray(scores_or_factors)
    if scores.dtype == object or scores.dtype.kind not in "biuf":
        raise TypeError(
            f"scores must be real numbers, got dtype {scores.dtype}; pass a float array, a "
            "(user_factors, item_factors) pair or a function of user ids"
        )
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
        Scores; modified in place when ``exclude`` is given (integer or boolean scores, which
        cannot hold ``-inf``, are ranked as a float64 copy instead).
    k : int
        How many items to return per row (>= 1; at most ``n_items`` are returned).
    exclude : sparse matrix (n_rows, n_items), optional
        Nonzero entries get the score ``-inf`` before ranking (items already played).

    Returns
    -------
    np.ndarray of int (n_rows, min(k, n_items))
        Ties are broken by ``np.argpartition``, deterministically for a given input.

    Raises
    ------
    TypeError
        ``k`` not an integer, ``scores`` not real numbers.
    ValueError
        ``k < 1``; ``scores`` not 2-D, without items, or holding NaN (NaN sorts nowhere: the
        item would silently never be recommended); ``exclude`` of another shape than ``scores``.
    """
    k = require_int(k, "k", minimum=1)
    scores = np.asarray(scores)
    if scores.dtype == object or scores.dtype.kind not in "biuf":
        raise TypeError(f"scores must be real numbers, got dtype {scores.dtype}")
    if scores.ndim != 2 or scores.shape[1] == 0:
        raise ValueError(
            f"scores must be 2-D (n_rows, n_items) with at least one item, got shape "
            f"{scores.shape}; score one user with scores[None, :]"
        )
    n_rows, n_items = scores.shape
    if scores.dtype.kind == "f" and np.isnan(scores).any():
        rows = np.flatnonzero(np.isnan(scores).any(axis=1))
        raise ValueError(
            f"scores contain NaN (rows {rows[:5].tolist()}); a model with NaN factors has "
            "diverged: refit it (more regularization, float64) before ranking"
        )
    k = min(k, n_items)
    if exclude is not None and scores.dtype.kind != "f":
        scores = scores.astype(np.float64)  # -inf marks the excluded items: it needs floats
    if exclude is not None:
        exclude = sp.csr_matrix(exclude)
        if exclude.shape != scores.shape:
            raise ValueError(
                f"exclude has shape {exclude.shape} but scores {scores.shape}: pass the training "
                "plays of the same users (rows) and items (columns)"
            )
        rows = np.repeat(np.arange(n_rows), np.diff(exclude.indptr))
        scores[rows, exclude.indices] = -np.inf
    if k < n_items:
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        top = np.tile(np.arange(n_items), (n_rows, 1))
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1)


def _require_separate_halves(train: sp.csr_matrix, test: sp.csr_matrix) -> None:
    """Refuse halves that share entries; warn when ``test`` outweighs a non-empty ``train``."""
    shared = train.multiply(test).tocsr()
    shared.eliminate_zeros()
    if shared.nnz:
        users = np.flatnonzero(np.diff(shared.indptr))
        raise ValueError(
            f"train and test share {shared.nnz} (user, item) entries (of {test.nnz} in test; "
            f"users {users[:5].tolist()}): training items are never recommended, so these "
            "test items can never be hit and every metric drops (to 0 if all plays are in "
            "train). Pass the two disjoint halves of split_plays(plays): "
            "train, test = split_plays(plays, test_fraction=0.2, seed=0)"
        )
    train_plays, test_plays = float(train.sum()), float(test.sum())
    if 0 < train.nnz < test.nnz and train_plays < test_plays:
        warnings.warn(
            f"test holds more (user, item) entries ({test.nnz}) and more plays ({test_plays:g}) "
            f"than train ({train.nnz}, {train_plays:g}): did you swap them? The order is "
            "ranking_metrics(scores, train, test), and the model must be fitted on train, the "
            "larger half",
            RuntimeWarning,
            stacklevel=4,  # the caller of ranking_metrics (through _validated)
        )


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

    These are averaged over evaluated users (:func:`per_user_metrics` returns them user by
    user, for comparisons with a standard error). Catalogue-level numbers:

    * ``coverage``: share of the catalogue that appears in at least one list;
    * ``long_tail_share``: share of all recommended slots filled by *tail* items, the items
      outside the ``head_fraction`` (20 %) most popular ones, popularity being the number of
      training users who played an item.

    Users without test items (including those with a single play, see
    :func:`~course_lib.evaluation.split_plays`) are skipped and counted in ``n_users_skipped``.
    When no user has a test item the per-user metrics are NaN, with a ``RuntimeWarning``.

    ``train`` and ``test`` must be disjoint halves of the plays (as :func:`~course_lib.
    evaluation.split_plays` and :func:`~course_lib.evaluation.split_plays_by_time` return them):
    a (user, item) pair in both can never be recommended, since training items are excluded,
    so every metric would silently drop (to 0 when all plays are passed as ``train``); such
    an overlap is refused. A ``test`` with more entries and more plays than a non-empty
    ``train`` is most likely the two halves swapped, and gets a ``RuntimeWarning``; an empty
    ``train`` (cold-start items, which no one played in training) is fine.

    Parameters
    ----------
    scores_or_factors : ndarray, (user_factors, item_factors) or callable
        The model's scores, see the module docstring.
    train, test : sparse matrix (n_users, n_items)
        The two halves returned by :func:`~course_lib.evaluation.split_plays`.
    k : int
        Length of each recommendation list (>= 1).
    head_fraction : float
        Share of the most popular items that form the head (the rest is the tail), in (0, 1).
    batch_size : int, optional
        Users scored at once (>= 1); by default about 8 million scores per batch.

    Returns
    -------
    dict
        ``precision, recall, ndcg, map, coverage, long_tail_share`` (floats in [0, 1]) and
        ``k, n_users_evaluated, n_users_skipped``.

    Raises
    ------
    TypeError
        ``k`` or ``batch_size`` not an integer (``"10"``, ``2.5``, ``True``), ``head_fraction``
        not a number, scores that are not real numbers, ``train``/``test`` not matrices.
    ValueError
        Out-of-range ``k``, ``head_fraction`` or ``batch_size``; ``train`` and ``test`` of
        different shapes or without users or items, or sharing (user, item) entries; scores or
        factors of the wrong shape or holding NaN (for factors, also infinite values).
    """
    train, test, k, batch_size, score = _validated(scores_or_factors, train, test, k, batch_size)
    head_fraction = require_number(
        head_fraction, "head_fraction", minimum=0.0, maximum=1.0, strict_minimum=True
    )
    if head_fraction == 1.0:
        raise ValueError("head_fraction must be in (0, 1), got 1.0: the tail would be empty.")
    n_users, n_items = train.shape
    popularity = np.diff(train.tocsc().indptr)
    n_head = int(np.ceil(head_fraction * n_items))
    is_tail = np.ones(n_items, dtype=bool)
    is_tail[np.argsort(-popularity, kind="stable")[:n_head]] = False

    users = np.flatnonzero(np.diff(test.indptr) > 0)
    if users.size == 0:
        warnings.warn(
            "no user has a test item, so precision, recall, ndcg and map are NaN; pass the "
            "test half of split_plays (did you swap train and test?)",
            RuntimeWarning,
            stacklevel=2,
        )
    totals = dict.fromkeys(PER_USER_METRICS, 0.0)
    recommended = np.zeros(n_items, dtype=bool)
    tail_slots = 0
    slots = 0
    for top, valid, values in _ranked_batches(score, train, test, users, k, batch_size):
        for name, value in values.items():
            totals[name] += float(np.sum(value))
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


def per_user_metrics(
    scores_or_factors: Scores,
    train: sp.spmatrix,
    test: sp.spmatrix,
    k: int = 10,
    batch_size: int | None = None,
) -> dict[str, np.ndarray]:
    """The per-user values that :func:`ranking_metrics` averages, one entry per evaluated user.

    Two models scored on the same split are compared user by user, which is what a standard
    error of their difference needs (:func:`~course_lib.evaluation.compare_models`).

    Parameters
    ----------
    scores_or_factors, train, test, k, batch_size
        As for :func:`ranking_metrics`.

    Returns
    -------
    dict
        ``user`` (the ids of the users with at least one test item, ascending) and
        ``precision, recall, ndcg, map``, float arrays of the same length: the mean of each is
        :func:`ranking_metrics`'s value.

    Raises
    ------
    TypeError, ValueError
        As :func:`ranking_metrics`.
    """
    train, test, k, batch_size, score = _validated(scores_or_factors, train, test, k, batch_size)
    users = np.flatnonzero(np.diff(test.indptr) > 0)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in PER_USER_METRICS}
    for _, _, values in _ranked_batches(score, train, test, users, k, batch_size):
        for name, value in values.items():
            parts[name].append(value)
    out = {"user": users}
    for name, chunks in parts.items():
        out[name] = np.concatenate(chunks) if chunks else np.zeros(0)
    return out


def _validated(
    scores_or_factors: Scores,
    train: sp.spmatrix,
    test: sp.spmatrix,
    k: int,
    batch_size: int | None,
) -> tuple[sp.csr_matrix, sp.csr_matrix, int, int, ScoreFunction]:
    train = validate_plays(train, "train")
    test = validate_plays(test, "test")
    if train.shape != test.shape:
        raise ValueError(f"train {train.shape} and test {test.shape} must have the same shape.")
    if 0 in train.shape:
        raise ValueError(
            f"train and test have no {'users' if train.shape[0] == 0 else 'items'} (shape "
            f"{train.shape}); there is nothing to rank"
        )
    _require_separate_halves(train, test)
    k = require_int(k, "k", minimum=1)
    if batch_size is None:
        batch_size = max(1, (1 << 23) // train.shape[1])
    batch_size = require_int(batch_size, "batch_size", minimum=1)
    return train, test, k, batch_size, _score_function(scores_or_factors, train.shape)


def _ranked_batches(
    score: ScoreFunction,
    train: sp.csr_matrix,
    test: sp.csr_matrix,
    users: np.ndarray,
    k: int,
    batch_size: int,
) -> Iterator[tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]]:
    """Per batch of ``users``: the top-k lists, which slots are real items, per-user metrics."""
    n_items = train.shape[1]
    n_test = np.diff(test.indptr)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.cumsum(discounts)
    for start in range(0, users.size, batch_size):
        batch = users[start : start + batch_size]
        raw = np.asarray(score(batch))
        if raw.dtype == object or raw.dtype.kind not in "biuf":
            raise TypeError(f"the scores of users {batch[:5].tolist()} are not real numbers")
        scores = np.array(raw, dtype=np.float64)
        if scores.shape != (batch.size, n_items):
            raise ValueError(
                f"scores for {batch.size} users must have shape {(batch.size, n_items)}, "
                f"got {scores.shape}."
            )
        if np.isnan(scores).any():
            bad = batch[np.isnan(scores).any(axis=1)]
            raise ValueError(
                f"the scores of users {bad[:5].tolist()} contain NaN; the model has diverged: "
                "refit it (more regularization, float64) before evaluating"
            )
        top = top_k_items(scores, k, exclude=train[batch])
        valid = np.isfinite(np.take_along_axis(scores, top, axis=1))
        truth = test[batch].toarray() > 0
        hits = np.take_along_axis(truth, top, axis=1) & valid
        n_rel = n_test[batch]
        n_hits = hits.sum(axis=1)
        best = np.minimum(n_rel, k)
        precision_at_r = np.cumsum(hits, axis=1) / np.arange(1, hits.shape[1] + 1)
        values = {
            "precision": n_hits / k,
            "recall": n_hits / n_rel,
            "ndcg": hits @ discounts[: hits.shape[1]] / ideal[best - 1],
            "map": (precision_at_r * hits).sum(axis=1) / best,
        }
        yield top, valid, values
