"""Filter bubbles: a recommender that retrains on the plays it caused, and how to measure diversity.

Taught in chapter 08 (beyond accuracy). Each round of :func:`run_feedback_loop` fits a model on
the current play matrix, shows every user a list of ``k`` tracks, draws the plays from the
simulator's exact play probabilities and adds them to the matrix, so that the next model learns
from data its predecessor chose (the "algorithmic confounding" of Chaney, Stewart & Engelhardt
2018). Two remedies can be switched on: random exploration of a share of the slots, and
maximal marginal relevance (MMR) re-ranking (Carbonell & Goldstein 1998).

Diversity is measured per round with :func:`catalogue_coverage`, :func:`gini` of the exposure
counts (Fleder & Hosanagar 2009) and :func:`genres_per_user`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from course_lib.evaluation import top_k_items

__all__ = [
    "catalogue_coverage",
    "explore",
    "exposure_counts",
    "genres_per_user",
    "gini",
    "mmr_rerank",
    "run_feedback_loop",
]

STRATEGIES = ("plain", "explore", "mmr")


def _check_recommendations(recommendations: np.ndarray, n_items: int) -> np.ndarray:
    recs = np.asarray(recommendations)
    if recs.ndim != 2 or not np.issubdtype(recs.dtype, np.integer):
        raise ValueError(
            f"recommendations must be an integer matrix (n_users, k) of item ids, got dtype "
            f"{recs.dtype} and shape {recs.shape}"
        )
    if recs.size and (recs.min() < 0 or recs.max() >= n_items):
        raise ValueError(f"recommendations contain item ids outside [0, {n_items})")
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
    """
    x = np.sort(np.asarray(values, dtype=np.float64).ravel())
    if x.size == 0 or not np.isfinite(x).all() or (x < 0).any():
        raise ValueError("gini needs a non-empty array of finite, non-negative values")
    total = x.sum()
    if total == 0:
        raise ValueError("gini is undefined when every value is 0 (nothing was exposed)")
    n = x.size
    ranks = np.arange(1, n + 1)
    return float(np.sum((2 * ranks - n - 1) * x) / (n * total))


def exposure_counts(recommendations: np.ndarray, n_items: int) -> np.ndarray:
    """How many times each item appears in the recommendation lists, shape (n_items,)."""
    recs = _check_recommendations(recommendations, n_items)
    return np.bincount(recs.ravel(), minlength=n_items)


def catalogue_coverage(recommendations: np.ndarray, n_items: int) -> float:
    """Share of the catalogue recommended to at least one user."""
    return float(np.count_nonzero(exposure_counts(recommendations, n_items)) / n_items)


def genres_per_user(recommendations: np.ndarray, genre_ids: np.ndarray) -> float:
    """Mean number of distinct genres in a user's recommendation list."""
    g = np.asarray(genre_ids, dtype=np.int64)
    recs = _check_recommendations(recommendations, g.size)
    genres = np.sort(g[recs], axis=1)
    return float(np.mean(1 + np.count_nonzero(np.diff(genres, axis=1), axis=1)))


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
    """
    if not 0 <= trade_off <= 1:
        raise ValueError(f"trade_off must be in [0, 1], got {trade_off}")
    scores = np.array(scores, dtype=np.float64)
    n_users, n_items = scores.shape
    if not 1 <= k <= n_candidates <= n_items:
        raise ValueError(
            f"need 1 <= k <= n_candidates <= n_items, got {k}, {n_candidates}, {n_items}"
        )
    v = np.asarray(item_vectors, dtype=np.float64)
    if v.shape[0] != n_items:
        raise ValueError(f"item_vectors has {v.shape[0]} rows, scores has {n_items} items")
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    unit = np.divide(v, norms, out=np.zeros_like(v), where=norms > 0)
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
    """
    recs = _check_recommendations(recommendations, n_items).copy()
    if not 0 <= epsilon <= 1:
        raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
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
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    current = sp.csr_matrix(plays, dtype=np.float32, copy=True)
    p = np.asarray(play_probability)
    if p.shape != current.shape:
        raise ValueError(f"play_probability has shape {p.shape}, plays {current.shape}")
    n_users, n_items = current.shape
    genre_ids = np.asarray(genre_ids)
    rng = np.random.default_rng(seed)
    rows = []
    for rnd in range(n_rounds):
        user_factors, item_factors = fit(current.tocsr())
        scores = np.asarray(user_factors, dtype=np.float64) @ np.asarray(item_factors).T
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
