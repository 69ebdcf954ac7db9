"""Similarity playlists: the nearest tracks of a query track, and how two methods' lists compare.

Taught in chapter 05 (what the network learned), section 5 ("Similarity playlists") and used again
in section 6 ("A map of the catalogue"): Dieleman (2014, sec. 6.4) made playlists of the tracks
"close to [a query] in terms of cosine distance" in the space of predicted factors. Chapter 06
replaces the exact search of :func:`neighbour_lists` with approximate search.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib.inspection._arguments import as_lists, candidate_pool, require_k
from course_lib.validation import require_choice, require_int, validate_index, validate_matrix

__all__ = [
    "jaccard_at_k",
    "neighbour_lists",
    "overlap_at_k",
    "same_label_share",
    "similar_tracks",
]

_METRICS = ("cosine", "euclidean")


def _similarities(
    vectors: np.ndarray, queries: np.ndarray, pool: np.ndarray, metric: str
) -> np.ndarray:
    if metric == "cosine":
        norms = np.linalg.norm(vectors, axis=1)
        zero = queries[norms[queries] == 0]
        if zero.size:
            raise ValueError(
                f"track(s) {zero[:5].tolist()} have an all-zero vector, so cosine similarity is "
                "undefined (a track without plays has zero ALS factors); leave them out of the "
                "queries"
            )
        unit = vectors / np.maximum(norms, 1e-12)[:, None]
        return unit[queries] @ unit[pool].T
    d2 = (
        np.sum(vectors[queries] ** 2, axis=1)[:, None]
        - 2 * vectors[queries] @ vectors[pool].T
        + np.sum(vectors[pool] ** 2, axis=1)[None, :]
    )
    return -np.sqrt(np.maximum(d2, 0.0))


def neighbour_lists(
    vectors: np.ndarray,
    k: int = 10,
    *,
    queries: np.ndarray | None = None,
    metric: str = "cosine",
    candidates: np.ndarray | None = None,
    chunk: int = 1024,
) -> np.ndarray:
    """The ``k`` nearest tracks of every query track (itself excluded), best first.

    Exact (brute-force) search: the similarity of each query with every candidate, sorted (ties
    by track index). Chapter 06 replaces it with approximate search for large catalogues.

    Parameters
    ----------
    vectors : array (n_tracks, dim)
        Predicted factors, ALS factors, mean log-mel features, attributes ...
    k : int
    queries : array of int, optional
        Default: every track.
    metric : {"cosine", "euclidean"}
        Cosine similarity (Dieleman 2014, sec. 6.4: "close to it in terms of cosine distance") or
        negative Euclidean distance.
    candidates : array of int or bool mask, optional
        Tracks allowed in the lists (default: all).
    chunk : int
        Queries per block (bounds memory).

    Returns
    -------
    np.ndarray int64 (n_queries, k)

    Raises
    ------
    TypeError
        A sparse or non-numeric ``vectors``; a ``k`` or ``chunk`` that is not an integer.
    ValueError
        ``vectors`` not 2-D, empty or holding NaN / inf; an unknown metric; queries or
        candidates out of range; ``k`` below 1 or larger than the number of candidate tracks;
        a query with an all-zero vector (cosine).
    """
    v = validate_matrix(vectors, "vectors", dtype=np.float64)
    require_choice(metric, "metric", _METRICS)
    chunk = require_int(chunk, "chunk", 1)
    q = np.arange(len(v)) if queries is None else np.asarray(queries).ravel()
    q = validate_index(q, len(v), "queries")
    pool = candidate_pool(candidates, len(v))
    k = require_k(k, pool.size - int(np.isin(q, pool).any()), "k", "candidate tracks")
    out = np.empty((q.size, k), dtype=np.int64)
    for s in range(0, q.size, chunk):
        qs = q[s : s + chunk]
        sim = _similarities(v, qs, pool, metric)
        sim[pool[None, :] == qs[:, None]] = -np.inf  # never recommend the seed itself
        out[s : s + chunk] = pool[np.argsort(-sim, axis=1, kind="stable")[:, :k]]
    return out


def similar_tracks(
    vectors: np.ndarray,
    track: int,
    k: int = 10,
    metric: str = "cosine",
    *,
    candidates: np.ndarray | None = None,
) -> np.ndarray:
    """The ``k`` tracks most similar to ``track``, most similar first, ``track`` excluded.

    Dieleman (2014, sec. 6.4): similarity playlists from predicted factor vectors by cosine
    distance. See :func:`neighbour_lists` for the parameters and what is refused; a ``track``
    that is not one integer index in range is refused too.
    """
    track = require_int(track, "track")
    n = np.asarray(vectors).shape[0]
    if not 0 <= track < n:
        raise ValueError(f"track {track} is out of range: there are {n} tracks (0 .. {n - 1})")
    return neighbour_lists(
        vectors, k, queries=np.array([track]), metric=metric, candidates=candidates
    )[0]


def _paired(lists_a: Any, lists_b: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
    a, b = as_lists(lists_a, "lists_a"), as_lists(lists_b, "lists_b")
    if len(a) != len(b) or not a:
        raise ValueError(
            f"need the same number (> 0) of lists on both sides, got {len(a)} and {len(b)}: "
            "pass both methods' lists for the same queries"
        )
    return a, b


def overlap_at_k(lists_a: Any, lists_b: Any) -> float:
    """Mean share of list A's tracks that also appear in list B (same query, same ``k``).

    ``overlap@k = |A ∩ B| / k``, averaged over queries: 1 when two methods recommend the same
    tracks (in any order), 0 when they share none. Refuses unpaired lists (another number of
    lists on each side, or none) and lists that are not integer track indices.
    """
    a, b = _paired(lists_a, lists_b)
    return float(np.mean([np.intersect1d(x, y).size / max(x.size, 1) for x, y in zip(a, b)]))


def jaccard_at_k(lists_a: Any, lists_b: Any) -> float:
    """Mean Jaccard index ``|A ∩ B| / |A ∪ B|`` of paired lists (same queries).

    Refuses what :func:`overlap_at_k` refuses.
    """
    a, b = _paired(lists_a, lists_b)
    return float(
        np.mean([np.intersect1d(x, y).size / max(np.union1d(x, y).size, 1) for x, y in zip(a, b)])
    )


def same_label_share(lists: Any, labels: Any, queries: Any) -> float:
    """Mean share of neighbours that carry the query's label (e.g. the same genre).

    Refuses labels that are not 1-D, another number of queries than lists, and queries or list
    entries that are not track indices into ``labels``.
    """
    y = np.asarray(labels)
    if y.ndim != 1:
        raise ValueError(f"labels must be 1-D (one per track), got shape {y.shape}")
    rows = as_lists(lists)
    q = validate_index(np.asarray(queries).ravel(), y.size, "queries")
    if len(rows) != q.size or not rows:
        raise ValueError(
            f"{len(rows)} lists but {q.size} queries: pass the queries the lists were made for"
        )
    for row in rows:
        validate_index(row, y.size, "lists")
    return float(np.mean([np.mean(y[row] == y[query]) for row, query in zip(rows, q)]))
