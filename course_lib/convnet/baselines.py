"""What the convnet is compared with on new tracks: genre popularity, the fold-in oracle,
nearest-neighbour copying, and the ranking table of them all.

Taught in chapter 04 (section 3: the nearest-neighbour leakage test; section 6: the cold-start
table with the genre-popularity baseline and the fold-in oracle); chapter 07 reuses
:func:`genre_popularity_scores`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from course_lib.als import solve_rows
from course_lib.evaluation import ranking_metrics
from course_lib.validation import (
    require_int,
    require_number,
    validate_index,
    validate_matrix,
    validate_plays,
)

from .losses import normalize_factors

__all__ = [
    "cold_start_table",
    "fold_in_item_factors",
    "genre_popularity_scores",
    "nearest_neighbour_factors",
]


def genre_popularity_scores(
    plays: Any, track_genre_ids: np.ndarray, candidates: np.ndarray, seed: int | None = 0
) -> np.ndarray:
    """Popularity-by-genre baseline for new tracks: each user's share of plays in the track's genre.

    ``score[u, j] = plays of u in genre(candidates[j]) / all plays of u``. A new track has no plays
    of its own, so the best a metadata-only recommender can do with popularity is to rank the
    genres a user listens to most. Tracks of one genre tie; with a ``seed`` the ties are broken
    at random (a uniform jitter below 1e-6, far smaller than any difference between genres), so
    the result does not depend on the order of the catalogue's columns.

    Parameters
    ----------
    plays : scipy.sparse matrix (n_users, n_tracks)
    track_genre_ids : array (n_tracks,) of int
    candidates : array of int, the new tracks to score
    seed : int or None
        Seed of the tie-breaking jitter; ``None`` leaves exact ties.

    Returns
    -------
    np.ndarray float64 (n_users, len(candidates))

    Raises
    ------
    ValueError
        Plays that are not a valid play matrix, genre ids that are not one non-negative integer
        per column of ``plays``, candidates outside the catalogue.
    """
    csr = validate_plays(plays)
    genres = np.asarray(track_genre_ids)
    if genres.shape != (csr.shape[1],) or genres.dtype.kind not in "iu" or genres.min() < 0:
        raise ValueError(
            f"track_genre_ids must hold one non-negative integer genre id per track "
            f"({csr.shape[1]} tracks, the columns of plays), got {genres.dtype} of shape "
            f"{genres.shape}"
        )
    candidates = validate_index(candidates, csr.shape[1], "candidates")
    genres = genres.astype(np.int64)
    n_genres = int(genres.max()) + 1
    onehot = sp.csr_matrix(
        (np.ones(len(genres), np.float64), (np.arange(len(genres)), genres)),
        shape=(len(genres), n_genres),
    )
    per_genre = np.asarray((csr.astype(np.float64) @ onehot).todense())
    share = per_genre / np.maximum(per_genre.sum(axis=1, keepdims=True), 1.0)
    scores = share[:, genres[candidates]]
    if seed is not None:
        seed = require_int(seed, "seed", 0)
        scores = scores + 1e-7 * np.random.default_rng(seed).random(scores.shape)
    return scores


def fold_in_item_factors(
    user_factors: np.ndarray,
    plays: Any,
    items: np.ndarray,
    alpha: float = 40.0,
    regularization: float = 0.1,
) -> np.ndarray:
    """Item factors that ALS would give ``items`` from their plays, the user factors held fixed.

    One item half-step of implicit ALS (Hu, Koren & Volinsky 2008, eq. 5): for item ``i`` with
    confidence ``C_i = 1 + alpha * plays[:, i]``, ``y_i = (X^T C_i X + lambda I)^-1 X^T C_i p_i``.
    For cold-start tracks, given the plays they *will* get, this is the best factor vector in the
    space of the users we already have: the "oracle" target a factor predictor tries to reach.
    Computed by :func:`course_lib.als.solve_rows` on the tracks' columns.

    Parameters
    ----------
    user_factors : array (n_users, f)
    plays : sparse matrix (n_users, n_tracks), e.g. ``world.new_track_plays``
    items : array of int, the tracks to fold in
    alpha, regularization : float
        As in :func:`course_lib.als.fit_als`.

    Returns
    -------
    np.ndarray float32 (len(items), f)

    Raises
    ------
    ValueError
        ``user_factors`` that is not a finite 2-D array with one row per row (user) of ``plays``;
        plays with negative or non-finite counts; items outside the columns of ``plays``;
        a negative ``alpha`` or ``regularization``.
    TypeError
        A dense or non-numeric ``plays``, non-numeric ``alpha`` / ``regularization``.
    """
    users = validate_matrix(user_factors, "user_factors", dtype=np.float64)
    csr = validate_plays(plays)
    if csr.shape[0] != users.shape[0]:
        raise ValueError(
            f"plays has {csr.shape[0]} users (rows) but user_factors has {users.shape[0]} rows: "
            "pass the plays and the user factors of the same users, users x tracks"
        )
    items = validate_index(items, csr.shape[1], "items")
    alpha = require_number(alpha, "alpha", minimum=0.0)
    regularization = require_number(regularization, "regularization", minimum=0.0)
    columns = csr.tocsc()[:, items].T
    return solve_rows(columns, users, alpha, regularization).astype(np.float32)


def nearest_neighbour_factors(
    features: np.ndarray,
    targets: np.ndarray,
    train_idx: np.ndarray,
    query_idx: np.ndarray,
    groups: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Predict each query track's unit-norm factors by copying its nearest training track.

    Nearest by Euclidean distance between standardised ``features`` (e.g. the time-averaged
    log-mel spectrum). A one-line "model" whose score depends on whether a close relative (a song
    by the same artist) may be copied: the cheapest way to see split leakage. A query never
    copies itself; with ``groups`` (e.g. artist ids), it never copies a track of its own group.

    Returns
    -------
    predicted : np.ndarray (len(query_idx), n_factors)
    neighbours : np.ndarray of int (len(query_idx),), the training track copied for each query

    Raises
    ------
    ValueError
        Features or targets that are not finite 2-D arrays with one row per track, indices
        outside them, ``groups`` of another length, a query with no admissible neighbour.
    """
    x = validate_matrix(features, "features", dtype=np.float64)
    factors = validate_matrix(targets, "targets")
    if len(factors) != len(x):
        raise ValueError(
            f"features has {len(x)} rows but targets has {len(factors)}: one row per track in both"
        )
    train_idx = validate_index(train_idx, len(x), "train_idx")
    query_idx = validate_index(query_idx, len(x), "query_idx")
    if train_idx.size == 0:
        raise ValueError("train_idx is empty: there is no training track to copy")
    std = x[train_idx].std(0)
    x = (x - x[train_idx].mean(0)) / np.where(std > 0, std, 1.0)
    d2 = ((x[query_idx, None, :] - x[None, train_idx, :]) ** 2).sum(-1)
    d2[query_idx[:, None] == train_idx[None, :]] = np.inf
    if groups is not None:
        g = np.asarray(groups)
        if g.shape != (len(x),):
            raise ValueError(
                f"groups must hold one group id per track ({len(x)}), got shape {g.shape}"
            )
        d2[g[query_idx][:, None] == g[train_idx][None, :]] = np.inf
    if np.any(np.all(np.isinf(d2), axis=1)):
        raise ValueError("a query has no admissible neighbour: enlarge the training set")
    neighbours = train_idx[np.argmin(d2, axis=1)]
    return normalize_factors(factors[neighbours]), neighbours


def cold_start_table(
    scorers: dict[str, Any], plays: Any, new_track_plays: Any, new_tracks: np.ndarray, k: int = 10
) -> pd.DataFrame:
    """Ranking metrics of several cold-start recommenders on the held-back plays of new tracks.

    Each user's candidates are the new tracks only; the truth is ``new_track_plays`` (chapter 01's
    :func:`course_lib.evaluation.ranking_metrics`: NDCG, precision, recall, MAP at ``k``).

    Parameters
    ----------
    scorers : mapping name -> scores (n_users, n_new), (user_factors, item_factors of the new
        tracks) or a callable, as accepted by ``ranking_metrics``
    plays, new_track_plays : sparse (n_users, n_tracks)
    new_tracks : array of int, the ``is_new`` columns
    k : int

    Returns
    -------
    pandas.DataFrame, one row per scorer

    Raises
    ------
    ValueError
        Play matrices of different shapes or with invalid counts, new tracks outside them,
        ``k`` below 1, no scorer (and whatever ``ranking_metrics`` refuses in a scorer).
    """
    train, test = validate_plays(plays, "plays"), validate_plays(new_track_plays, "new_track_plays")
    if train.shape != test.shape:
        raise ValueError(
            f"plays {train.shape} and new_track_plays {test.shape} must have the same shape "
            "(the same users and tracks)"
        )
    cols = validate_index(new_tracks, train.shape[1], "new_tracks")
    k = require_int(k, "k", 1)
    if not scorers:
        raise ValueError("scorers is empty: pass a mapping of name -> scores")
    train, test = train[:, cols], test[:, cols]
    rows = {}
    for name, scorer in scorers.items():
        m = ranking_metrics(scorer, train, test, k)
        rows[name] = {f"{key}@{k}": m[key] for key in ("ndcg", "precision", "recall", "map")}
    return pd.DataFrame(rows).T
