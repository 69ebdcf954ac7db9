"""Approximate nearest neighbours with random-hyperplane trees, annoy's way.

Taught in chapter 06 (approximate nearest neighbour search). Spotify's catalogue has tens of
millions of tracks, so "the tracks closest to this vector" cannot be a full scan per request;
Bernhardsson wrote annoy (2013) for this. This module rebuilds its method and measures it:

* :func:`brute_force_knn`: the exact answer (matrix product + ``argpartition``), the baseline.
* :func:`split_hyperplane` and :func:`two_means`: annoy's split rule, the hyperplane equidistant
  from two centroids of the node's points.
* :class:`RandomHyperplaneForest`: a forest of such trees stored as flat numpy arrays, built and
  searched by numba kernels (:mod:`course_lib._ann_numba`); the search is annoy's best-first walk
  over all trees until ``search_k`` candidates, followed by exact re-ranking.
* :func:`search_candidates`: the same search written with :mod:`heapq`, readable and slow.
* :func:`mips_transform` / :func:`mips_query`: the extra dimension of Bachrach et al. (2014) that
  turns maximum inner product search into nearest neighbour search.
* :func:`recall_at_k`, :func:`recall_qps_grid`, :func:`leaf_size_sweep`: measurements;
  :func:`plot_recall_qps`, :func:`plot_tree_splits`: pictures.
"""

from __future__ import annotations

import heapq
import math
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numba
import numpy as np

from course_lib import _ann_numba

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "METRICS",
    "NotFittedError",
    "RandomHyperplaneForest",
    "brute_force_knn",
    "leaf_size_sweep",
    "make_clustered_vectors",
    "mips_query",
    "mips_transform",
    "plot_tree_splits",
    "plot_recall_qps",
    "recall_at_k",
    "recall_qps_grid",
    "search_candidates",
    "split_hyperplane",
    "two_means",
]

METRICS = ("angular", "euclidean", "dot")
_KIND = {"angular": 0, "euclidean": 1, "dot": 2}


class NotFittedError(ValueError, AttributeError):
    """Raised when a forest is queried before :meth:`RandomHyperplaneForest.fit`."""


# ----------------------------------------------------------------------------- validation
def _check_metric(metric: str) -> str:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    return metric


def _check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _as_matrix(x: Any, name: str, dim: int | None = None) -> np.ndarray:
    """A finite float32 C-contiguous 2-D array, or a clear error."""
    if hasattr(x, "toarray"):
        raise TypeError(f"{name} must be a dense array; call .toarray() on the sparse matrix first")
    arr = np.asarray(x)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n, dim), got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if dim is not None and arr.shape[1] != dim:
        raise ValueError(
            f"{name} has {arr.shape[1]} dimensions but the index was fitted on {dim}-dimensional "
            "vectors; pass vectors from the same embedding"
        )
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        bad = np.flatnonzero(~np.isfinite(arr).all(axis=1))
        raise ValueError(
            f"{name} contains NaN or infinite values (rows {bad[:5].tolist()}"
            f"{'...' if bad.size > 5 else ''}); drop or repair those rows first"
        )
    return arr


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.where(norms > 0, norms, 1.0)).astype(np.float32)


# ----------------------------------------------------------------------------- test data
def make_clustered_vectors(
    n: int,
    dim: int = 64,
    n_clusters: int = 1000,
    intrinsic_dim: int = 8,
    noise: float = 0.05,
    seed: int = 0,
) -> np.ndarray:
    """A synthetic catalogue of embedding vectors: clusters spread along low-dimensional subspaces.

    Learned embeddings (ALS factors, word vectors) have a low intrinsic dimension: tracks of one
    style vary along a few directions only. Each cluster here has a random centre, a random
    ``intrinsic_dim``-dimensional orientation and its own spread; cluster sizes follow a Zipf-like
    law; ``noise`` adds a little isotropic jitter. Deterministic for a seed.

    Returns
    -------
    np.ndarray, float32, shape (n, dim)
    """
    n = _check_int(n, "n", 1)
    dim = _check_int(dim, "dim", 1)
    n_clusters = _check_int(n_clusters, "n_clusters", 1)
    intrinsic_dim = _check_int(intrinsic_dim, "intrinsic_dim", 1)
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, dim)).astype(np.float32)
    weights = 1.0 / np.arange(1, n_clusters + 1) ** 0.5
    labels = np.sort(rng.choice(n_clusters, size=n, p=weights / weights.sum()))
    spread = rng.uniform(0.2, 0.6, size=n_clusters)
    out = np.empty((n, dim), dtype=np.float32)
    bounds = np.searchsorted(labels, np.arange(n_clusters + 1))
    for c in range(n_clusters):
        lo, hi = bounds[c], bounds[c + 1]
        if hi == lo:
            continue
        basis = rng.normal(size=(intrinsic_dim, dim)).astype(np.float32) / np.sqrt(intrinsic_dim)
        z = rng.normal(scale=spread[c], size=(hi - lo, intrinsic_dim)).astype(np.float32)
        out[lo:hi] = centres[c] + z @ basis
    out += noise * rng.normal(size=(n, dim)).astype(np.float32)
    return out[rng.permutation(n)]


# ----------------------------------------------------------------------------- brute force
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
    """
    _check_metric(metric)
    items = _as_matrix(vectors, "vectors")
    q = _as_matrix(queries, "queries", dim=items.shape[1])
    k = _check_int(k, "k", 1)
    n = items.shape[0]
    if k > n:
        raise ValueError(f"k={k} is larger than the number of vectors ({n}); ask for k <= {n}")
    if metric == "angular":
        items, q = _unit_rows(items), _unit_rows(q)
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


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean fraction of the true ``k`` neighbours that were found (``-1`` entries never count).

    Parameters
    ----------
    found : int array (n_queries, k_found)
    truth : int array (n_queries, k)

    Returns
    -------
    float in [0, 1]: ``mean_q |found_q ∩ truth_q| / k``.
    """
    found = np.asarray(found)
    truth = np.asarray(truth)
    if found.ndim != 2 or truth.ndim != 2 or found.shape[0] != truth.shape[0]:
        raise ValueError(
            f"found {found.shape} and truth {truth.shape} must be 2-D with one row per query"
        )
    hits = 0
    for f_row, t_row in zip(found, truth):
        hits += np.intersect1d(f_row[f_row >= 0], t_row).size
    return hits / truth.size


# ----------------------------------------------------------------------------- the split rule
def split_hyperplane(
    p: np.ndarray, q: np.ndarray, metric: str = "angular"
) -> tuple[np.ndarray, float]:
    """The hyperplane equidistant from two points: ``normal . x + offset = 0``.

    ``normal . x + offset > 0`` on ``p``'s side. Euclidean: ``normal = (p - q)/|p - q|`` and
    ``offset = -normal . (p + q)/2`` (the plane through the midpoint). Angular: ``p`` and ``q``
    are first scaled to unit length and the plane passes through the origin (``offset = 0``), so
    the side of ``x`` depends only on its direction: ``cos(x, p) > cos(x, q)``.
    This is annoy's ``create_split`` (Bernhardsson 2013, ``annoylib.h``).
    """
    _check_metric(metric)
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    if p.shape != q.shape or p.ndim != 1:
        raise ValueError(f"p and q must be 1-D of the same length, got {p.shape} and {q.shape}")
    if metric != "euclidean":
        p = p / max(np.linalg.norm(p), 1e-30)
        q = q / max(np.linalg.norm(q), 1e-30)
    normal, offset = _ann_numba.split_from_centroids(p, q, metric != "euclidean")
    return normal, float(offset)


def two_means(
    points: np.ndarray, metric: str = "angular", seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """annoy's two centroids of a node's points (the split is the plane between them).

    Start from two distinct random points; then 200 random points in turn move the nearer centroid
    towards themselves (a running mean). Distances are weighted by each centroid's count, which
    keeps the two halves balanced. Angular: points are unit-normalised before averaging. Dot:
    the points are first :func:`mips_transform`-ed, as the forest does, and grouped by inner
    product over their original coordinates (annoy's ``DotProduct``).

    Returns
    -------
    (p, q) : two arrays of shape (dim,), or (dim + 1,) for ``"dot"``
    """
    _check_metric(metric)
    pts = _as_matrix(points, "points")
    if pts.shape[0] < 2:
        raise ValueError("two_means needs at least 2 points")
    state = np.array([np.random.SeedSequence(seed).generate_state(1, np.uint64)[0]], np.uint64)
    if metric == "dot":
        pts = mips_transform(pts)[0]
    perm = np.arange(pts.shape[0], dtype=np.int32)
    cosine = metric != "euclidean"
    return _ann_numba.two_means(pts, perm, 0, pts.shape[0], cosine, state, metric == "dot")


# ----------------------------------------------------------------------------- MIPS
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
    """
    items = _as_matrix(item_vectors, "item_vectors").astype(np.float64)
    sq = np.einsum("ij,ij->i", items, items)
    largest = float(np.sqrt(sq.max()))
    m = largest if max_norm is None else float(max_norm)
    if m < largest * (1 - 1e-6):
        raise ValueError(
            f"max_norm={m} is below the largest item norm {largest}; use max_norm=None"
        )
    extra = np.sqrt(np.maximum(m * m - sq, 0.0))
    return np.hstack([items, extra[:, None]]).astype(np.float32), m


def mips_query(queries: np.ndarray) -> np.ndarray:
    """Pad queries with a zero to match :func:`mips_transform`'s items (Bachrach et al. 2014)."""
    q = np.asarray(queries, dtype=np.float32)
    if q.ndim == 1:
        return np.append(q, np.float32(0.0))
    q = _as_matrix(q, "queries")
    return np.hstack([q, np.zeros((q.shape[0], 1), np.float32)])


# ----------------------------------------------------------------------------- the forest
class RandomHyperplaneForest:
    """A forest of random-hyperplane trees searched best-first, like annoy (Bernhardsson 2013).

    Parameters
    ----------
    n_trees : int
        Number of trees. More trees: higher recall at a given ``search_k``, bigger index, slower
        build.
    leaf_size : int, optional
        Largest number of items in a leaf. ``None`` uses annoy's rule, ``dim + 2`` (the number of
        item ids that fit in one annoy node), so the two libraries build comparable trees.
    metric : {"angular", "euclidean", "dot"}
        ``"dot"`` builds angular trees on :func:`mips_transform`-ed items and ranks candidates by
        inner product.
    seed : int
        Seeds every random choice: the same data and seed give the same trees, whatever
        ``n_jobs``.
    n_jobs : int
        Threads used to build trees (``-1``: all cores). Queries use numba's thread pool.

    Attributes (after ``fit``)
    --------------------------
    normals_ : float32 (n_internal, index_dim)
        Split normals of all internal nodes of all trees.
    offsets_ : float32 (n_internal,)
        Split offsets (0 for angular); the node's margin is ``normals_[r] . x + offsets_[r]``.
    children_ : int32 (n_internal, 2)
        References of the two children: column 1 is the side with positive margin. A reference
        ``r >= 0`` is internal node ``r``; ``r < 0`` is leaf ``-r - 1``.
    leaf_start_, leaf_end_ : int64 (n_leaves,)
        Leaf ``l`` holds items ``leaf_items_[leaf_start_[l]:leaf_end_[l]]``.
    leaf_items_ : int32 (n_trees * n_items,)
    roots_ : int32 (n_trees,)
        Reference of each tree's root.
    """

    def __init__(
        self,
        n_trees: int = 10,
        leaf_size: int | None = None,
        metric: str = "angular",
        seed: int = 0,
        n_jobs: int = -1,
    ) -> None:
        self.n_trees = _check_int(n_trees, "n_trees", 1)
        self.leaf_size = None if leaf_size is None else _check_int(leaf_size, "leaf_size", 1)
        self.metric = _check_metric(metric)
        self.seed = _check_int(seed, "seed", 0)
        self.n_jobs = _check_int(n_jobs, "n_jobs", -1)
        if self.n_jobs == 0:
            raise ValueError("n_jobs must be -1 (all cores) or a positive number of threads")
        self._fitted = False

    def __repr__(self) -> str:
        state = f", n_items={self.n_items}" if self._fitted else ""
        return (
            f"RandomHyperplaneForest(n_trees={self.n_trees}, leaf_size={self.leaf_size}, "
            f"metric={self.metric!r}, seed={self.seed}{state})"
        )

    # -- building -------------------------------------------------------------------------
    def fit(self, vectors: np.ndarray) -> RandomHyperplaneForest:
        """Build ``n_trees`` trees over the rows of ``vectors`` (n, dim).

        Each node's items are split by :func:`split_hyperplane` between the :func:`two_means`
        centroids. As in annoy, a split that leaves more than 95 % on one side is tried again
        (three hyperplanes at most), and one that still leaves more than 99 % (duplicates) is
        replaced by random sides; nodes of at most ``leaf_size`` items become leaves.
        """
        self._fitted = False
        items = _as_matrix(vectors, "vectors")
        n, dim = items.shape
        self.dim = dim
        self.n_items = n
        if self.metric == "angular":
            build_data = _unit_rows(items)
            self._rerank_vectors = build_data
        elif self.metric == "euclidean":
            build_data = items
            self._rerank_vectors = items
        else:
            build_data, self.max_norm_ = mips_transform(items)
            self._rerank_vectors = items
        self._sq_norms = (
            np.einsum("ij,ij->i", items, items).astype(np.float32)
            if (self.metric == "euclidean")
            else np.zeros(1, np.float32)
        )
        self.index_dim = build_data.shape[1]
        self.leaf_size_ = self.leaf_size if self.leaf_size is not None else self.index_dim + 2
        cosine = self.metric != "euclidean"
        seeds = np.random.SeedSequence(self.seed).generate_state(self.n_trees, np.uint64)

        def build(t: int):
            return _ann_numba.build_tree(
                build_data, self.leaf_size_, cosine, seeds[t], self.metric == "dot"
            )

        workers = (os.cpu_count() or 1) if self.n_jobs == -1 else self.n_jobs
        if workers == 1 or self.n_trees == 1:
            trees = [build(t) for t in range(self.n_trees)]
        else:
            with ThreadPoolExecutor(max_workers=min(workers, self.n_trees)) as pool:
                trees = list(pool.map(build, range(self.n_trees)))
        self._concatenate(trees)
        self._fitted = True
        return self

    def _concatenate(self, trees: list[tuple]) -> None:
        internal_base = np.cumsum([0] + [t[0].shape[0] for t in trees])
        leaf_base = np.cumsum([0] + [t[3].shape[0] for t in trees])

        def shift(refs: np.ndarray, i: int) -> np.ndarray:
            refs = np.asarray(refs, dtype=np.int64)
            out = np.where(refs >= 0, refs + internal_base[i], refs - leaf_base[i])
            return out.astype(np.int32)

        d = self.index_dim
        normals = np.concatenate([t[0] for t in trees]).reshape(-1, d)
        packed = np.empty((normals.shape[0], d + 3), dtype=np.float32)
        packed[:, :d] = normals
        packed[:, d] = np.concatenate([t[1] for t in trees])
        packed_int = packed.view(np.int32)
        packed_int[:, d + 1 :] = np.concatenate(
            [shift(t[2], i) for i, t in enumerate(trees)]
        ).reshape(-1, 2)
        self._nodes_f, self._nodes_i = packed, packed_int
        # the public, readable names are views into the packed rows
        self.normals_ = packed[:, :d]
        self.offsets_ = packed[:, d]
        self.children_ = packed_int[:, d + 1 :]
        n = self.n_items
        self._leaves = np.stack(
            [
                np.concatenate([t[3] + i * n for i, t in enumerate(trees)]),
                np.concatenate([t[4] + i * n for i, t in enumerate(trees)]),
            ],
            axis=1,
        )
        self.leaf_start_ = self._leaves[:, 0]
        self.leaf_end_ = self._leaves[:, 1]
        self.leaf_items_ = np.concatenate([t[5] for t in trees])
        self.roots_ = np.array(
            [shift(np.array([t[6]]), i)[0] for i, t in enumerate(trees)], dtype=np.int32
        )
        self._max_leaf = int((self.leaf_end_ - self.leaf_start_).max())

    # -- sizes ----------------------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        """Internal nodes plus leaves over all trees."""
        self._require_fit()
        return int(self.normals_.shape[0] + self.leaf_start_.shape[0])

    @property
    def nbytes(self) -> int:
        """Bytes of the index: the trees' arrays plus the vectors kept for re-ranking."""
        self._require_fit()
        arrays = (self._nodes_f, self._leaves, self.leaf_items_, self.roots_, self._rerank_vectors)
        extra = self._sq_norms.nbytes if self.metric == "euclidean" else 0
        return int(sum(a.nbytes for a in arrays) + extra)

    # -- querying -------------------------------------------------------------------------
    def _require_fit(self) -> None:
        if not self._fitted:
            raise NotFittedError("this forest is not fitted yet; call .fit(vectors) first")

    def _check_k(self, k: int, search_k: int | None) -> tuple[int, int]:
        k = _check_int(k, "k", 1)
        if k > self.n_items:
            raise ValueError(
                f"k={k} is larger than the index ({self.n_items} items); ask for k <= "
                f"{self.n_items}"
            )
        if search_k is None or search_k == -1:
            search_k = self.n_trees * k
        search_k = _check_int(search_k, "search_k", 1)
        return k, search_k

    def transform_queries(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(vectors the trees see, vectors the re-ranking sees) for a validated (m, dim) matrix."""
        self._require_fit()
        q = _as_matrix(queries, "queries", dim=self.dim)
        if self.metric == "angular":
            unit = _unit_rows(q)
            return unit, unit
        if self.metric == "euclidean":
            return q, q
        return mips_query(q), q

    def query(self, vector: np.ndarray, k: int, search_k: int | None = None) -> np.ndarray:
        """Ids of the (approximately) ``k`` nearest items to ``vector``, nearest first.

        ``search_k`` (default ``n_trees * k``, annoy's default) is the number of candidates,
        counted with repeats across trees, collected before the exact re-ranking; larger means
        higher recall and slower queries. Fewer than ``k`` ids come back only if ``search_k`` is
        so small that fewer distinct items were seen.
        """
        self._require_fit()
        v = np.asarray(vector)
        if v.ndim != 1:
            raise ValueError(
                f"vector must be 1-D, got shape {v.shape}; use query_batch for a matrix"
            )
        ids = self.query_batch(v[None, :], k, search_k, n_threads=1)[0]
        return ids[ids >= 0]

    def query_batch(
        self,
        queries: np.ndarray,
        k: int,
        search_k: int | None = None,
        n_threads: int | None = None,
    ) -> np.ndarray:
        """:meth:`query` for every row of ``queries`` in one compiled call.

        Parameters
        ----------
        queries : array (m, dim)
        k, search_k : as in :meth:`query`.
        n_threads : int, optional
            Threads to spread the queries over (default: numba's thread count).

        Returns
        -------
        np.ndarray, int32, shape (m, k); ``-1`` pads rows where fewer than ``k`` distinct items
        were seen.
        """
        self._require_fit()
        k, search_k = self._check_k(k, search_k)
        traversal, rerank = self.transform_queries(queries)
        cand_cap = int(min(search_k, self.n_trees * self.n_items)) + self._max_leaf
        threads = (
            numba.get_num_threads() if n_threads is None else _check_int(n_threads, "n_threads", 1)
        )
        threads = min(threads, numba.config.NUMBA_NUM_THREADS)
        previous = numba.get_num_threads()
        numba.set_num_threads(threads)
        try:
            with numba.parallel_chunksize(16):  # dynamic scheduling, 16 queries at a time
                return _ann_numba.query_batch(
                    traversal,
                    rerank,
                    self._nodes_f,
                    self._nodes_i,
                    self._leaves,
                    self.leaf_items_,
                    self.roots_,
                    self._rerank_vectors,
                    self._sq_norms,
                    _KIND[self.metric],
                    k,
                    search_k,
                    cand_cap,
                    threads,
                )
        finally:
            numba.set_num_threads(previous)

    def candidates(self, vector: np.ndarray, search_k: int) -> np.ndarray:
        """Compiled candidate list (with repeats, in visiting order) before re-ranking."""
        self._require_fit()
        search_k = _check_int(search_k, "search_k", 1)
        traversal, _ = self.transform_queries(np.asarray(vector)[None, :])
        cand_cap = int(min(search_k, self.n_trees * self.n_items)) + self._max_leaf
        return _ann_numba.candidates_one(
            traversal[0],
            self._nodes_f,
            self._nodes_i,
            self._leaves,
            self.leaf_items_,
            self.roots_,
            search_k,
            cand_cap,
        )


def search_candidates(
    forest: RandomHyperplaneForest, vector: np.ndarray, search_k: int
) -> list[int]:
    """Best-first search over all trees, written with :mod:`heapq` (slow; for reading).

    A heap holds ``(priority, node)``; every root starts at ``+inf``. Pop the node with the largest
    priority: a leaf adds its items to the candidates; an internal node with margin
    ``m = normal . x + offset`` pushes its positive child with ``min(priority, m)`` and its
    other child with ``min(priority, -m)``. Stop when ``search_k`` candidates (repeats included)
    are collected. This is annoy's ``_get_all_nns`` (Bernhardsson 2013).
    """
    forest._require_fit()
    traversal, _ = forest.transform_queries(np.asarray(vector)[None, :])
    x = traversal[0]
    heap = [(-math.inf, int(root)) for root in forest.roots_]
    heapq.heapify(heap)
    found: list[int] = []
    while heap and len(found) < search_k:
        neg_priority, ref = heapq.heappop(heap)
        if ref < 0:
            leaf = -ref - 1
            found.extend(forest.leaf_items_[forest.leaf_start_[leaf] : forest.leaf_end_[leaf]])
        else:
            margin = float(forest.normals_[ref] @ x + forest.offsets_[ref])
            priority = -neg_priority
            heapq.heappush(heap, (-min(priority, margin), int(forest.children_[ref, 1])))
            heapq.heappush(heap, (-min(priority, -margin), int(forest.children_[ref, 0])))
    return [int(i) for i in found]


# ----------------------------------------------------------------------------- leaf size
def leaf_size_sweep(
    vectors: np.ndarray,
    queries: np.ndarray,
    leaf_sizes: Sequence[int],
    n_trees: int = 10,
    search_k: int | None = None,
    k: int = 10,
    seed: int = 0,
    metric: str = "angular",
) -> pd.DataFrame:
    """Build one forest per leaf size and measure it at a fixed ``search_k``.

    The reference answer of chapter 06's third exercise. Recall is against
    :func:`brute_force_knn`; times are wall-clock seconds on this machine (one query thread).

    Returns
    -------
    pandas.DataFrame with columns ``leaf_size, n_nodes, index_mb, build_s, query_ms, recall``
    (``query_ms``: milliseconds per query).
    """
    import pandas as pd

    truth = brute_force_knn(vectors, queries, k, metric)
    rows = []
    for leaf_size in leaf_sizes:
        start = time.perf_counter()
        forest = RandomHyperplaneForest(
            n_trees, leaf_size=int(leaf_size), metric=metric, seed=seed
        ).fit(vectors)
        build_s = time.perf_counter() - start
        start = time.perf_counter()
        found = forest.query_batch(queries, k, search_k, n_threads=1)
        query_ms = 1e3 * (time.perf_counter() - start) / len(queries)
        rows.append(
            {
                "leaf_size": int(leaf_size),
                "n_nodes": forest.n_nodes,
                "index_mb": forest.nbytes / 2**20,
                "build_s": build_s,
                "query_ms": query_ms,
                "recall": recall_at_k(found, truth),
            }
        )
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- grids
def recall_qps_grid(
    vectors: np.ndarray,
    queries: np.ndarray,
    n_trees: Sequence[int],
    search_ks: Sequence[int],
    k: int = 10,
    metric: str = "angular",
    seed: int = 0,
    with_annoy: bool = True,
    repeats: int = 1,
) -> pd.DataFrame:
    """Recall@k and queries per second of brute force, our forest and annoy on a settings grid.

    For each ``n_trees`` both indexes are built once (same vectors, metric and seed; annoy with all
    cores, like ours); each ``search_k`` (plus the default ``n_trees * k``) is then queried with
    every query: ours through :meth:`RandomHyperplaneForest.query_batch` on all threads and on one,
    annoy one ``get_nns_by_vector`` call per query (its Python API; single thread). Times are the
    best of ``repeats``.

    Returns
    -------
    pandas.DataFrame with columns ``library, n_trees, search_k, recall, qps, build_s, index_mb``;
    ``library`` is ``"brute force"``, ``"ours"``, ``"ours, 1 thread"`` or ``"annoy"``.
    """
    import pandas as pd

    items = _as_matrix(vectors, "vectors")
    q = _as_matrix(queries, "queries", dim=items.shape[1])
    seconds, truth = _best_of(repeats, brute_force_knn, items, q, k, metric)
    rows = [
        dict(
            library="brute force",
            n_trees=0,
            search_k=len(items),
            recall=1.0,
            qps=len(q) / seconds,
            build_s=0.0,
            index_mb=items.nbytes / 2**20,
        )
    ]
    for trees in n_trees:
        start = time.perf_counter()
        forest = RandomHyperplaneForest(trees, metric=metric, seed=seed).fit(items)
        build_s = time.perf_counter() - start
        index, annoy_build_s, annoy_mb = None, 0.0, 0.0
        if with_annoy:
            index, annoy_build_s, annoy_mb = _annoy_index(items, metric, trees, seed)
        for search_k in sorted({trees * k, *search_ks}):
            for library, threads in (("ours", None), ("ours, 1 thread", 1)):
                seconds, found = _best_of(repeats, forest.query_batch, q, k, search_k, threads)
                rows.append(
                    dict(
                        library=library,
                        n_trees=trees,
                        search_k=search_k,
                        recall=recall_at_k(found, truth),
                        qps=len(q) / seconds,
                        build_s=build_s,
                        index_mb=forest.nbytes / 2**20,
                    )
                )
            if index is not None:
                seconds, found = _best_of(repeats, _annoy_query, index, q, k, search_k)
                rows.append(
                    dict(
                        library="annoy",
                        n_trees=trees,
                        search_k=search_k,
                        recall=recall_at_k(np.array(found), truth),
                        qps=len(q) / seconds,
                        build_s=annoy_build_s,
                        index_mb=annoy_mb,
                    )
                )
    return pd.DataFrame(rows)


def _best_of(repeats: int, fn: Any, *args: Any) -> tuple[float, Any]:
    """(best wall-clock seconds over ``repeats`` calls of ``fn(*args)``, its result)."""
    times, result = [], None
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        result = fn(*args)
        times.append(time.perf_counter() - start)
    return min(times), result


def _annoy_query(index: Any, queries: np.ndarray, k: int, search_k: int) -> list[list[int]]:
    return [index.get_nns_by_vector(v, k, search_k=search_k) for v in queries]


def _annoy_index(
    items: np.ndarray, metric: str, n_trees: int, seed: int
) -> tuple[Any, float, float]:
    """An annoy index of ``items`` (build seconds, size in MB of its saved file)."""
    import tempfile

    import annoy

    index = annoy.AnnoyIndex(items.shape[1], metric)
    index.set_seed(seed)
    for i, v in enumerate(items):
        index.add_item(i, v)
    start = time.perf_counter()
    index.build(n_trees, n_jobs=-1)
    build_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:  # save() re-opens the file by mmap, which
        path = os.path.join(folder, "index.ann")  # outlives the deleted file
        index.save(path)
        size = os.path.getsize(path)
    return index, build_s, size / 2**20


def plot_recall_qps(table: pd.DataFrame, ax: Any = None, title: str | None = None) -> Any:
    """Queries per second against recall, one line per library and ``n_trees`` (log scale).

    ``table`` is :func:`recall_qps_grid`'s output; up and to the right is better, as in
    ann-benchmarks (Aumüller et al. 2020). Returns the figure.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    else:
        fig = ax.figure
    styles = {"ours": ("C0", "o"), "ours, 1 thread": ("C0", "^"), "annoy": ("C1", "s")}
    dashes = {}
    for (library, trees), group in table[table.library != "brute force"].groupby(
        ["library", "n_trees"], sort=False
    ):
        colour, marker = styles.get(library, ("C2", "x"))
        style = dashes.setdefault(trees, ["-", "--", ":", "-."][len(dashes) % 4])
        group = group.sort_values("search_k")
        ax.plot(
            group.recall,
            group.qps,
            color=colour,
            marker=marker,
            linestyle=style,
            label=f"{library}, {trees} trees",
        )
    brute = table[table.library == "brute force"]
    ax.scatter(
        brute.recall,
        brute.qps,
        color="k",
        marker="*",
        s=150,
        zorder=3,
        label="brute force",
    )
    ax.set_yscale("log")
    ax.set_xlabel("recall@k (fraction of the true neighbours found)")
    ax.set_ylabel("queries per second (log scale)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    if title:
        ax.set_title(title)
    return fig


# ----------------------------------------------------------------------------- picture
def _clip(polygon: np.ndarray, normal: np.ndarray, offset: float, sign: float) -> np.ndarray:
    """Keep the part of a convex polygon where ``sign * (normal . x + offset) >= 0``."""
    out = []
    n = len(polygon)
    for i in range(n):
        a, b = polygon[i], polygon[(i + 1) % n]
        fa = sign * (normal @ a + offset)
        fb = sign * (normal @ b + offset)
        if fa >= 0:
            out.append(a)
        if fa * fb < 0:
            out.append(a + (b - a) * fa / (fa - fb))
    return np.array(out) if out else np.zeros((0, 2))


def _line_in_cell(polygon: np.ndarray, normal: np.ndarray, offset: float) -> np.ndarray:
    """End points of the line ``normal . x + offset = 0`` inside a convex polygon."""
    out = []
    n = len(polygon)
    for i in range(n):
        a, b = polygon[i], polygon[(i + 1) % n]
        fa, fb = normal @ a + offset, normal @ b + offset
        if fa == 0:
            out.append(a)
        elif fa * fb < 0:
            out.append(a + (b - a) * fa / (fa - fb))
    return np.array(out)


def plot_tree_splits(
    forest: RandomHyperplaneForest,
    points: np.ndarray,
    tree: int = 0,
    max_depth: int | None = None,
    query: np.ndarray | None = None,
    ax: Any = None,
) -> Any:
    """Draw the splits of one tree of a forest fitted on 2-D points (euclidean or angular).

    Each split line is drawn inside its node's cell, thicker near the root; points are coloured by
    leaf. Returns the matplotlib figure.
    """
    import matplotlib.pyplot as plt

    forest._require_fit()
    pts = np.asarray(points, dtype=np.float64)
    if forest.index_dim != 2 or pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError("plot_tree_splits needs a forest fitted on 2-D points")
    if not 0 <= tree < forest.n_trees:
        raise ValueError(f"tree must be in [0, {forest.n_trees}), got {tree}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 5))
    else:
        fig = ax.figure
    shown = _unit_rows(pts.astype(np.float32)) if forest.metric == "angular" else pts
    lo, hi = shown.min(axis=0), shown.max(axis=0)
    pad = 0.05 * (hi - lo).max()
    lo, hi = lo - pad, hi + pad
    box = np.array([[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]])
    leaf_colour = np.zeros(pts.shape[0])
    stack: list[tuple[int, np.ndarray, int]] = [(int(forest.roots_[tree]), box, 0)]
    rng = np.random.default_rng(0)
    while stack:
        ref, cell, depth = stack.pop()
        if ref < 0:
            items = forest.leaf_items_[forest.leaf_start_[-ref - 1] : forest.leaf_end_[-ref - 1]]
            leaf_colour[items] = rng.random()
            continue
        normal = forest.normals_[ref].astype(np.float64)
        offset = float(forest.offsets_[ref])
        if max_depth is None or depth < max_depth:
            left = _clip(cell, normal, offset, -1.0)
            right = _clip(cell, normal, offset, 1.0)
            seg = _line_in_cell(cell, normal, offset)
            if len(seg) >= 2:
                ax.plot(seg[:, 0], seg[:, 1], color="k", lw=max(0.4, 2.5 - 0.4 * depth))
            stack.append((int(forest.children_[ref, 0]), left, depth + 1))
            stack.append((int(forest.children_[ref, 1]), right, depth + 1))
    ax.scatter(shown[:, 0], shown[:, 1], c=leaf_colour, cmap="tab20", s=8)
    if query is not None:
        qv = np.asarray(query, dtype=np.float64)
        if forest.metric == "angular":
            qv = qv / np.linalg.norm(qv)
        ax.scatter([qv[0]], [qv[1]], marker="*", s=200, color="red", label="query")
        ax.legend(loc="upper right")
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    ax.set_xlabel("dimension 1")
    ax.set_ylabel("dimension 2")
    ax.set_title(f"tree {tree} of a {forest.metric} forest (leaf_size={forest.leaf_size_})")
    return fig
