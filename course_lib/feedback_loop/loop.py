"""A recommender that retrains on the plays it caused, and two remedies (chapter 08).

Taught in chapter 08 (``chapters/08_beyond_accuracy.md``, "9. Filter bubbles: a recommender that
learns from itself"). Each round of :func:`run_feedback_loop` fits a model on the current play
matrix, shows every user a list of ``k`` tracks, draws the plays from the simulator's exact play
probabilities and adds them to the matrix, so that the next model learns from data its
predecessor chose (the "algorithmic confounding" of Chaney, Stewart & Engelhardt 2018). Two
remedies can be switched on: random exploration of a share of the slots (:func:`explore`), and
maximal marginal relevance re-ranking (:func:`mmr_rerank`, Carbonell & Goldstein 1998).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from course_lib.evaluation import top_k_items
from course_lib.feedback_loop.diversity import (
    _validate_recommendations,
    exposure_counts,
    genres_per_user,
    gini,
)
from course_lib.validation import (
    require_choice,
    require_int,
    require_number,
    validate_matrix,
    validate_plays,
)
from course_lib.vectors import unit_rows

__all__ = ["STRATEGIES", "explore", "mmr_rerank", "run_feedback_loop"]

#: The shelves :func:`run_feedback_loop` can show.
STRATEGIES = ("plain", "explore", "mmr")


def mmr_rerank(
    scores: np.ndarray,
    item_vectors: np.ndarray,
    k: int,
    trade_off: float = 0.7,
    n_candidates: int = 50,
    exclude: sp.spmatrix | None = None,
    batch_size: int = 1024,
) -> np.ndarray:
    """Maximal marginal relevance re-ranking (Carbonell & Goldstein 1998).

    From each user's ``n_candidates`` best-scored items, pick ``k`` greedily, each time the item
    maximising ``trade_off * relevance - (1 - trade_off) * max cosine similarity to the items
    already picked``. Relevance is the score rescaled to [0, 1] over the user's candidates, so that
    ``trade_off`` means the same for every user; ``trade_off = 1`` is the plain top-k.

    Parameters
    ----------
    scores : array of shape (n_users, n_items)
    item_vectors : array of shape (n_items, f)
        Vectors whose cosine similarity says how alike two items are (e.g. ALS item factors).
    k : int
    trade_off : float in [0, 1]
    n_candidates : int
        Size of the pool re-ranked per user (>= k).
    exclude : sparse matrix (n_users, n_items), optional
        Items that must not be recommended (e.g. already played).
    batch_size : int
        Users processed at once (memory grows as batch_size * n_candidates^2).

    Returns
    -------
    np.ndarray int (n_users, k)

    Raises
    ------
    TypeError, ValueError
        Scores that are not a 2-D matrix of numbers or hold NaN; item vectors that are not a
        finite matrix with one row per item; ``k``, ``n_candidates``, ``batch_size`` that are
        not integers with ``1 <= k <= n_candidates <= n_items``; a ``trade_off`` that is not a
        number in [0, 1]; an ``exclude`` of another shape.
    """
    trade_off = require_number(trade_off, "trade_off", minimum=0, maximum=1)
    k = require_int(k, "k", 1)
    n_candidates = require_int(n_candidates, "n_candidates", 1)
    batch_size = require_int(batch_size, "batch_size", 1)
    scores = np.asarray(scores)
    if scores.dtype.kind not in "biuf" or scores.ndim != 2:
        raise ValueError(
            f"scores must be a (n_users, n_items) matrix of numbers, got dtype {scores.dtype} and "
            f"shape {scores.shape}"
        )
    scores = scores.astype(np.float64)  # a copy: top_k_items writes -inf into excluded items
    n_users, n_items = scores.shape
    if not 1 <= k <= n_candidates <= n_items:
        raise ValueError(
            f"need 1 <= k <= n_candidates <= n_items, got {k}, {n_candidates}, {n_items}"
        )
    v = validate_matrix(item_vectors, "item_vectors", dtype=np.float64)
    if v.shape[0] != n_items:
        raise ValueError(f"item_vectors has {v.shape[0]} rows, scores has {n_items} items")
    unit = unit_rows(v, dtype=np.float64)
    candidates = top_k_items(scores, n_candidates, exclude)
    out = np.empty((n_users, k), dtype=np.int64)
    for start in range(0, n_users, batch_size):
        cand = candidates[start : start + batch_size]
        rows = np.arange(cand.shape[0])
        rel = np.take_along_axis(scores[start : start + batch_size], cand, axis=1)
        rel = np.where(np.isfinite(rel), rel, np.nan)
        low, high = np.nanmin(rel, axis=1, keepdims=True), np.nanmax(rel, axis=1, keepdims=True)
        rel = np.nan_to_num((rel - low) / np.where(high > low, high - low, 1.0), nan=-np.inf)
        vecs = unit[cand]
        sim = vecs @ vecs.transpose(0, 2, 1)
        max_sim = np.zeros(cand.shape)
        available = np.ones(cand.shape, dtype=bool)
        for step in range(k):
            objective = trade_off * rel - (1 - trade_off) * max_sim
            objective[~available] = -np.inf
            j = np.argmax(objective, axis=1)
            out[start + rows, step] = cand[rows, j]
            available[rows, j] = False
            picked_sim = sim[rows, j, :]
            max_sim = picked_sim if step == 0 else np.maximum(max_sim, picked_sim)
    return out


def explore(
    recommendations: np.ndarray,
    n_items: int,
    epsilon: float,
    seed: int = 0,
    exclude: sp.spmatrix | None = None,
) -> np.ndarray:
    """Replace each slot, with probability ``epsilon``, by a uniformly random item.

    A draw that hits an item already in the user's list or in ``exclude`` keeps the original item,
    so lists never hold duplicates.

    Parameters
    ----------
    recommendations : int array (n_users, k)
    n_items : int
    epsilon : float in [0, 1]
    seed : int
    exclude : sparse matrix (n_users, n_items), optional

    Returns
    -------
    np.ndarray int (n_users, k), a new array.

    Raises
    ------
    TypeError, ValueError
        Lists that are not an integer ``(n_users, k)`` matrix of ids in ``0..n_items-1``; an
        ``epsilon`` that is not a number in [0, 1]; a ``seed`` that is not an integer >= 0; an
        ``exclude`` matrix of another shape than ``(n_users, n_items)``.
    """
    recs = _validate_recommendations(recommendations, n_items).copy()
    epsilon = require_number(epsilon, "epsilon", minimum=0, maximum=1)
    seed = require_int(seed, "seed", 0)
    if exclude is not None and sp.csr_matrix(exclude).shape != (recs.shape[0], n_items):
        raise ValueError(
            f"exclude has shape {sp.csr_matrix(exclude).shape}; it must be (n_users, n_items) = "
            f"{(recs.shape[0], n_items)}"
        )
    rng = np.random.default_rng(seed)
    swap = rng.random(recs.shape) < epsilon
    draws = rng.integers(n_items, size=recs.shape)
    clash = (draws[:, :, None] == recs[:, None, :]).any(axis=2)
    if exclude is not None:
        ex = sp.csr_matrix(exclude)
        clash |= np.asarray(ex[np.arange(recs.shape[0])[:, None], draws].todense()) != 0
    earlier = np.tri(recs.shape[1], recs.shape[1], -1, dtype=bool)[None]  # slot j < slot i
    clash |= ((draws[:, :, None] == draws[:, None, :]) & earlier).any(axis=2)
    use = swap & ~clash
    recs[use] = draws[use]
    return recs


def run_feedback_loop(
    plays: sp.spmatrix,
    play_probability: np.ndarray,
    fit: Callable[[sp.csr_matrix], tuple[np.ndarray, np.ndarray]],
    genre_ids: np.ndarray,
    n_rounds: int = 8,
    k: int = 10,
    strategy: str = "plain",
    epsilon: float = 0.2,
    trade_off: float = 0.5,
    n_candidates: int = 100,
    exclude_played: bool = False,
    seed: int = 0,
) -> pd.DataFrame:
    """Simulate a recommender that retrains on the plays it caused (Chaney et al. 2018).

    Each round: ``user_factors, item_factors = fit(plays)``; every user gets ``k`` tracks
    (``strategy``: "plain" top-k, "explore" top-k with a share ``epsilon`` of random slots,
    "mmr" re-ranked with :func:`mmr_rerank`); each shown track is played with its true
    probability; the plays are added to ``plays`` for the next round.

    Parameters
    ----------
    plays : sparse matrix (n_users, n_items)
        Starting play counts (not modified).
    play_probability : array (n_users, n_items)
        True probability that a user plays a recommended track (``world.play_probability()``).
    fit : callable
        ``fit(plays) -> (user_factors, item_factors)``, e.g. ``functools.partial(fit_als, ...)``.
    genre_ids : int array (n_items,)
    n_rounds, k : int
    strategy : {"plain", "explore", "mmr"}
    epsilon : float
        Exploration rate of the "explore" strategy.
    trade_off, n_candidates : float, int
        MMR settings of the "mmr" strategy.
    exclude_played : bool
        Recommend only tracks the user has not played yet. Off by default: people play music
        they know again and again, and a shelf may hold it.
    seed : int

    Returns
    -------
    DataFrame, one row per round: ``round`` (counted from 1), ``coverage``, ``gini``,
    ``genres_per_user``, ``play_rate`` (share of shown tracks that were played), ``strategy``.

    Raises
    ------
    TypeError, ValueError
        Before the first fit: an unknown ``strategy``; a ``fit`` that is not callable; bad play
        counts; play probabilities of another shape, with NaN or outside [0, 1]; genre ids that
        are not one integer per item; ``n_rounds``, ``k``, ``n_candidates``, ``seed`` that are
        not integers in range (``1 <= k <= n_items``); ``epsilon``, ``trade_off`` that are not
        numbers in [0, 1]. During the loop: a ``fit`` that returns factors of the wrong shape or
        with NaN (the message names the round).
    """
    require_choice(strategy, "strategy", STRATEGIES)
    if not callable(fit):
        raise TypeError(
            f"fit must be a function plays -> (user_factors, item_factors), got {fit!r}"
        )
    n_rounds = require_int(n_rounds, "n_rounds", 1)
    k = require_int(k, "k", 1)
    epsilon = require_number(epsilon, "epsilon", minimum=0, maximum=1)
    trade_off = require_number(trade_off, "trade_off", minimum=0, maximum=1)
    n_candidates = require_int(n_candidates, "n_candidates", 1)
    seed = require_int(seed, "seed", 0)
    if not isinstance(exclude_played, bool | np.bool_):
        raise TypeError(f"exclude_played must be True or False, got {exclude_played!r}")
    current = validate_plays(plays).astype(np.float32)  # a copy: the input is never modified
    n_users, n_items = current.shape
    if not 1 <= k <= n_items:
        raise ValueError(f"k must be between 1 and the {n_items} items, got {k}")
    if strategy == "mmr" and n_candidates < k:
        raise ValueError(f"n_candidates ({n_candidates}) must be >= k ({k}) for MMR")
    p = validate_matrix(play_probability, "play_probability", dtype=np.float64)
    if p.shape != current.shape:
        raise ValueError(f"play_probability has shape {p.shape}, plays {current.shape}")
    if ((p < 0) | (p > 1)).any():
        raise ValueError(
            f"play_probability must hold probabilities in [0, 1], found {p.min():.4g} to "
            f"{p.max():.4g}"
        )
    genre_ids = np.asarray(genre_ids)
    if genre_ids.shape != (n_items,) or genre_ids.dtype.kind not in "iu":
        raise ValueError(
            f"genre_ids must be {n_items} integer ids, one per item; got dtype {genre_ids.dtype} "
            f"and shape {genre_ids.shape}"
        )
    rng = np.random.default_rng(seed)
    rows = []
    for rnd in range(n_rounds):
        user_factors, item_factors = _fitted_factors(fit(current.tocsr()), current.shape, rnd)
        scores = user_factors @ item_factors.T
        exclude = current if exclude_played else None
        if strategy == "mmr":
            pool = min(n_candidates, n_items)
            recs = mmr_rerank(scores, item_factors, k, trade_off, pool, exclude)
        else:
            recs = top_k_items(scores, k, exclude)
            if strategy == "explore":
                recs = explore(recs, n_items, epsilon, int(rng.integers(2**31)), exclude)
        user_idx = np.repeat(np.arange(n_users), k)
        played = rng.random(recs.shape) < p[np.arange(n_users)[:, None], recs]
        caused = sp.csr_matrix(
            (played.ravel().astype(np.float32), (user_idx, recs.ravel())), shape=current.shape
        )
        current = current + caused
        counts = exposure_counts(recs, n_items)
        rows.append(
            {
                "round": rnd + 1,
                "coverage": float(np.count_nonzero(counts) / n_items),
                "gini": gini(counts),
                "genres_per_user": genres_per_user(recs, genre_ids),
                "play_rate": float(played.mean()),
            }
        )
    out = pd.DataFrame(rows)
    out["strategy"] = strategy
    return out


def _fitted_factors(
    fitted: object, shape: tuple[int, int], round_index: int
) -> tuple[np.ndarray, np.ndarray]:
    """``fit``'s ``(user_factors, item_factors)`` as float64, or an error naming the round."""
    where = f"in round {round_index + 1}, fit(plays)"
    if not isinstance(fitted, tuple | list) or len(fitted) != 2:
        raise TypeError(f"{where} must return (user_factors, item_factors), got {type(fitted)}")
    user_factors = validate_matrix(fitted[0], f"{where}'s user_factors", dtype=np.float64)
    item_factors = validate_matrix(fitted[1], f"{where}'s item_factors", dtype=np.float64)
    if user_factors.shape[0] != shape[0] or item_factors.shape[0] != shape[1]:
        raise ValueError(
            f"{where} returned {user_factors.shape[0]} user and {item_factors.shape[0]} item "
            f"rows for {shape[0]} users and {shape[1]} items"
        )
    if user_factors.shape[1] != item_factors.shape[1]:
        raise ValueError(
            f"{where} returned {user_factors.shape[1]} user factors but "
            f"{item_factors.shape[1]} item factors"
        )
    return user_factors, item_factors
