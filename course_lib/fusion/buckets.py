"""Popularity buckets (head, torso, tail) and chapter 01's ranking metrics per bucket.

Taught in chapter 07 (``chapters/07_fusion.md``): section 1 labels every warm track by its number
of listeners and section 7 ranks new tracks per bucket; chapter 07b
(``chapters/07b_tags_and_ensembles.md``) measures the tag model and compares ensembles of
recommenders bucket by bucket, because the long tail is the point of Nieto (2017).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from course_lib.evaluation import compare_models, ranking_metrics
from course_lib.validation import (
    require_int,
    require_number,
    validate_index,
    validate_matrix,
    validate_plays,
)

__all__ = [
    "BUCKETS",
    "bucket_table",
    "compare_by_bucket",
    "metrics_by_bucket",
    "popularity_buckets",
]

#: Popularity bucket names, most popular first.
BUCKETS: tuple[str, ...] = ("head", "torso", "tail")


def popularity_buckets(
    plays: Any, head: float = 0.2, tail: float = 0.5, items: Any = None
) -> np.ndarray:
    """Label tracks "head", "torso" or "tail" by their number of listeners.

    Tracks are ranked by how many users played them (the popularity of chapter 01's
    ``ranking_metrics``), ties broken by index; the ``head`` share of most popular tracks is the
    head, the ``tail`` share of least popular ones the tail, the rest the torso (Celma 2010 splits
    the long tail the same way, with other thresholds).

    Parameters
    ----------
    plays : sparse matrix (n_users, n_tracks)
    head, tail : float
        Shares of the ranked tracks, ``head + tail <= 1``.
    items : array of int, optional
        Rank only these columns (e.g. the warm tracks, or the new tracks with their future plays);
        default all columns.

    Returns
    -------
    np.ndarray of str, one label per entry of ``items`` (or per column)

    Raises
    ------
    TypeError
        A dense ``plays`` array, or shares that are not numbers (strings, booleans).
    ValueError
        Shares outside (0, 1) or summing above 1; negative or NaN plays; empty or
        out-of-range ``items``.
    """
    head = require_number(head, "head", minimum=0.0, maximum=1.0, strict_minimum=True)
    tail = require_number(tail, "tail", minimum=0.0, maximum=1.0, strict_minimum=True)
    if not (head < 1 and tail < 1 and head + tail <= 1):
        raise ValueError(f"need 0 < head, tail < 1 and head + tail <= 1, got {head}, {tail}")
    if not sp.issparse(plays):
        raise TypeError("plays must be a scipy.sparse users x tracks matrix")
    csc = validate_plays(plays, "plays").tocsc()
    listeners = np.diff(csc.indptr)
    n_tracks = csc.shape[1]
    cols = validate_index(np.arange(n_tracks) if items is None else items, n_tracks, "items")
    if cols.size == 0:
        raise ValueError("items is empty: pass the columns to rank (or None for all)")
    order = np.argsort(-listeners[cols], kind="stable")
    n_head = int(round(head * cols.size))
    n_tail = int(round(tail * cols.size))
    labels = np.full(cols.size, "torso", dtype=object)
    labels[order[:n_head]] = "head"
    labels[order[cols.size - n_tail :]] = "tail"
    return labels.astype(str)


def metrics_by_bucket(
    scores: np.ndarray,
    train: Any,
    test: Any,
    items: Any,
    buckets: np.ndarray,
    k: int = 10,
    metrics: Sequence[str] = ("recall", "ndcg"),
) -> pd.DataFrame:
    """Chapter 01's ranking metrics when recommending only among the tracks of each bucket.

    For bucket ``b`` the candidate tracks are ``items[buckets == b]``; scores, training and test
    plays are restricted to those columns and :func:`course_lib.evaluation.ranking_metrics`
    ranks them (training plays excluded). "How well does a model rank the tail?" is then a fair
    question even though tail tracks would rarely reach a top 10 over the whole catalogue.

    Parameters
    ----------
    scores : array (n_users, n_tracks)
    train, test : sparse (n_users, n_tracks)
    items : array of int
        Candidate columns.
    buckets : array of str, one label per entry of ``items`` (:func:`popularity_buckets`)
    k : int
    metrics : names of ``ranking_metrics`` outputs to keep

    Returns
    -------
    pandas.DataFrame, one row per bucket plus "all"; columns ``metrics`` and ``n_users``.

    Raises
    ------
    TypeError, ValueError
        Scores that are empty or hold NaN; shapes that differ; negative or NaN plays; items out
        of range; not one label per item; a ``k`` that is not a positive integer; an unknown
        metric name.
    """
    s = validate_matrix(scores, "scores", dtype=np.float64)
    train = validate_plays(train, "train")
    test = validate_plays(test, "test")
    if s.shape != train.shape or train.shape != test.shape:
        raise ValueError(
            f"scores {s.shape}, train {train.shape} and test {test.shape} must all "
            "be (n_users, n_tracks)"
        )
    k = require_int(k, "k", minimum=1)
    cols = validate_index(items, s.shape[1], "items")
    labels = np.asarray(buckets)
    if labels.shape != cols.shape:
        raise ValueError(
            f"need one bucket label per item: {labels.shape} labels, {cols.shape} items"
        )
    rows = {}
    for name in (*[b for b in BUCKETS if b in set(labels)], "all"):
        c = cols if name == "all" else cols[labels == name]
        m = ranking_metrics(s[:, c], train[:, c], test[:, c], k=k)
        unknown = [key for key in metrics if key not in m]
        if unknown:
            raise ValueError(f"unknown metrics {unknown}; ranking_metrics gives {sorted(m)}")
        rows[name] = {**{key: m[key] for key in metrics}, "n_users": m["n_users_evaluated"]}
    return pd.DataFrame(rows).T


def bucket_table(
    recommenders: Mapping[str, np.ndarray],
    train: Any,
    test: Any,
    items: Any,
    buckets: np.ndarray,
    k: int = 10,
    metric: str = "recall",
) -> pd.DataFrame:
    """One metric of several recommenders, per popularity bucket (:func:`metrics_by_bucket`).

    Returns a DataFrame with one row per recommender and one column per bucket plus "all".
    Refuses an empty mapping of recommenders, and whatever :func:`metrics_by_bucket` refuses.
    """
    if not recommenders:
        raise ValueError("give at least one recommender's scores")
    rows = {
        name: metrics_by_bucket(s, train, test, items, buckets, k=k, metrics=(metric,))[metric]
        for name, s in recommenders.items()
    }
    return pd.DataFrame(rows).T.astype(float)


def compare_by_bucket(
    scores_a: np.ndarray,
    scores_b: np.ndarray,
    train: Any,
    test: Any,
    items: Any,
    buckets: np.ndarray,
    k: int = 10,
    metric: str = "recall",
    seed: int = 0,
) -> pd.DataFrame:
    """Recommender a against b per bucket: the difference of ``metric`` with its standard error.

    Within each bucket (and over all ``items``) both rank the same candidates for the same users
    (:func:`metrics_by_bucket`), so the per-user differences carry the comparison
    (:func:`course_lib.evaluation.compare_models`): a beats b in a bucket by ``n`` standard
    errors when ``difference > n * standard error``.

    Returns
    -------
    pandas.DataFrame, one row per bucket plus "all"; columns ``a``, ``b``, ``difference``,
    ``standard error`` and ``users``.

    Raises
    ------
    TypeError, ValueError
        As :func:`metrics_by_bucket`, and a bucket with fewer than two users with test plays.
    """
    cols = validate_index(items, np.shape(scores_a)[1], "items")
    labels = np.asarray(buckets)
    if labels.shape != cols.shape:
        raise ValueError(
            f"need one bucket label per item: {labels.shape} labels, {cols.shape} items"
        )
    train, test = validate_plays(train, "train").tocsc(), validate_plays(test, "test").tocsc()
    rows = {}
    for name in (*[b for b in BUCKETS if b in set(labels)], "all"):
        c = cols if name == "all" else cols[labels == name]
        r = compare_models(
            np.asarray(scores_a)[:, c],
            np.asarray(scores_b)[:, c],
            train[:, c].tocsr(),
            test[:, c].tocsr(),
            k=k,
            metric=metric,
            seed=seed,
        )
        rows[name] = {
            "a": r.mean_a,
            "b": r.mean_b,
            "difference": r.difference,
            "standard error": r.standard_error,
            "users": r.n,
        }
    return pd.DataFrame(rows).T
