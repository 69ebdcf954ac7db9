"""The forest of random-hyperplane trees, built and searched like annoy (Bernhardsson 2013).

Taught in chapter 06 (approximate nearest neighbours), sections 3 to 8: a tree, then a forest
(section 3), the best-first search over all trees (section 4), recall against speed (section 5),
build time and index size (section 6), a growing catalogue (section 7) and the ``"dot"`` metric
(section 8). The trees are flat numpy arrays built and searched by the numba kernels of
:mod:`course_lib.ann._kernels` and :mod:`course_lib.ann._search_kernels`; the readable search is
:func:`course_lib.ann.search_candidates`.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba
import numpy as np

from course_lib.ann import _kernels, _search_kernels
from course_lib.ann.exact import METRICS
from course_lib.ann.mips import mips_query, mips_transform
from course_lib.validation import require_choice, require_int, validate_matrix
from course_lib.vectors import unit_rows

__all__ = ["NotFittedError", "RandomHyperplaneForest"]

_KIND = {"angular": 0, "euclidean": 1, "dot": 2}


class NotFittedError(ValueError, AttributeError):
    """Raised when a forest is queried before :meth:`RandomHyperplaneForest.fit`."""


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
        ``"dot"`` builds angular trees on :func:`~course_lib.ann.mips_transform`-ed items and
        ranks candidates by inner product.
    seed : int
        Seeds every random choice: the same data and seed give the same trees, whatever
        ``n_jobs``.
    n_jobs : int
        Threads used to build trees (``-1``: all cores). Queries use numba's thread pool.

    Raises
    ------
    TypeError
        A setting that is not an integer (``n_trees=2.0``, ``seed="1"``, ``leaf_size=True``).
    ValueError
        An unknown metric, ``n_trees`` or ``leaf_size`` below 1, a negative seed, ``n_jobs`` 0
        or below -1.

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
        self.n_trees = require_int(n_trees, "n_trees", 1)
        self.leaf_size = None if leaf_size is None else require_int(leaf_size, "leaf_size", 1)
        self.metric = require_choice(metric, "metric", METRICS)
        self.seed = require_int(seed, "seed", 0)
        self.n_jobs = require_int(n_jobs, "n_jobs", -1)
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

        Each node's items are split by :func:`~course_lib.ann.split_hyperplane` between the
        :func:`~course_lib.ann.two_means` centroids. As in annoy, a split that leaves more than
        95 % on one side is tried again (three hyperplanes at most), and one that still leaves
        more than 99 % (duplicates) is replaced by random sides; nodes of at most ``leaf_size``
        items become leaves.

        Raises
        ------
        TypeError
            A sparse matrix (call ``.toarray()``) or values that are not numbers.
        ValueError
            ``vectors`` empty, not 2-D, or holding NaN or infinite values (the message lists the
            rows). A refused call leaves a fitted forest as it was.
        """
        items = validate_matrix(vectors, "vectors")
        if self.metric == "angular":
            build_data = unit_rows(items)
            rerank_vectors = build_data
        elif self.metric == "euclidean":
            build_data = items
            rerank_vectors = items
        else:
            build_data, max_norm = mips_transform(items)
            rerank_vectors = items
        index_dim = build_data.shape[1]
        leaf_size = self.leaf_size if self.leaf_size is not None else index_dim + 2
        cosine = self.metric != "euclidean"
        seeds = np.random.SeedSequence(self.seed).generate_state(self.n_trees, np.uint64)

        def build(t: int) -> tuple:
            return _kernels.build_tree(
                build_data, leaf_size, cosine, seeds[t], self.metric == "dot"
            )

        workers = (os.cpu_count() or 1) if self.n_jobs == -1 else self.n_jobs
        if workers == 1 or self.n_trees == 1:
            trees = [build(t) for t in range(self.n_trees)]
        else:
            with ThreadPoolExecutor(max_workers=min(workers, self.n_trees)) as pool:
                trees = list(pool.map(build, range(self.n_trees)))
        # every tree is built: only now replace the previous index (if any)
        self._fitted = False
        self.dim = items.shape[1]
        self.n_items = items.shape[0]
        if self.metric == "dot":
            self.max_norm_ = max_norm
        self._rerank_vectors = rerank_vectors
        self._sq_norms = (
            np.einsum("ij,ij->i", items, items).astype(np.float32)
            if (self.metric == "euclidean")
            else np.zeros(1, np.float32)
        )
        self.index_dim = index_dim
        self.leaf_size_ = leaf_size
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

    # -- checking the arguments of a query -------------------------------------------------
    def _require_fit(self) -> None:
        if not self._fitted:
            raise NotFittedError("this forest is not fitted yet; call .fit(vectors) first")

    def _check_k(self, k: int, search_k: int | None) -> tuple[int, int]:
        k = require_int(k, "k", 1)
        if k > self.n_items:
            raise ValueError(
                f"k={k} is larger than the index ({self.n_items} items); ask for k <= "
                f"{self.n_items}"
            )
        if search_k is None:
            return k, self.n_trees * k
        search_k = require_int(search_k, "search_k", -1)
        if search_k == -1:  # annoy's spelling of "the default"
            return k, self.n_trees * k
        if search_k < k:
            raise ValueError(
                f"search_k={search_k} is smaller than k={k}: the search stops after search_k "
                f"candidates, too few for {k} neighbours; pass search_k >= k, or None for the "
                f"default n_trees * k = {self.n_trees * k}"
            )
        return k, search_k

    def _as_row(self, vector: Any) -> np.ndarray:
        """One query vector as a (1, dim) matrix, or a clear error."""
        v = np.asarray(vector)
        if v.ndim != 1:
            raise ValueError(
                f"vector must be 1-D (one query of {self.dim} numbers), got shape {v.shape}; "
                "use query_batch for a matrix of queries"
            )
        if v.shape[0] != self.dim:
            raise ValueError(
                f"vector has {v.shape[0]} dimensions but the forest was fitted on "
                f"{self.dim}-dimensional vectors; pass a vector from the same embedding"
            )
        return v[None, :]

    def _transform(self, queries: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
        q = validate_matrix(queries, name, n_columns=self.dim)
        if self.metric == "angular":
            unit = unit_rows(q)
            return unit, unit
        if self.metric == "euclidean":
            return q, q
        return mips_query(q), q

    def transform_queries(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(vectors the trees see, vectors the re-ranking sees) for a validated (m, dim) matrix.

        Raises :class:`NotFittedError` before ``fit``, and the errors of ``fit`` for a bad
        matrix, or a ``ValueError`` for queries of another dimension than the fitted vectors.
        """
        self._require_fit()
        return self._transform(queries, "queries")

    # -- querying -------------------------------------------------------------------------
    def query(self, vector: np.ndarray, k: int, search_k: int | None = None) -> np.ndarray:
        """Ids of the (approximately) ``k`` nearest items to ``vector``, nearest first.

        ``search_k`` (default ``n_trees * k``, annoy's default; ``-1`` means the same) is the
        number of candidates, counted with repeats across trees, collected before the exact
        re-ranking; larger means higher recall and slower queries. Fewer than ``k`` ids come back
        only if so few distinct items were seen (the trees gave the same items again).

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        TypeError
            ``k`` or ``search_k`` not an integer (``2.5``, ``True``, ``"10"``); a vector of
            non-numbers.
        ValueError
            ``vector`` not 1-D, of another dimension than the fitted vectors, or with NaN or
            infinite values; ``k < 1`` or larger than the index; ``search_k < k``.
        """
        self._require_fit()
        k, search_k = self._check_k(k, search_k)
        traversal, rerank = self._transform(self._as_row(vector), "vector")
        ids = self._search(traversal, rerank, k, search_k, 1)[0]
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

        Raises
        ------
        NotFittedError, TypeError, ValueError
            As :meth:`query`, for the matrix ``queries`` (empty, not 2-D, wrong number of
            columns, NaN rows, sparse); also ``n_threads`` not an integer >= 1.
        """
        self._require_fit()
        k, search_k = self._check_k(k, search_k)
        traversal, rerank = self._transform(queries, "queries")
        threads = (
            numba.get_num_threads() if n_threads is None else require_int(n_threads, "n_threads", 1)
        )
        return self._search(traversal, rerank, k, search_k, threads)

    def _search(
        self, traversal: np.ndarray, rerank: np.ndarray, k: int, search_k: int, threads: int
    ) -> np.ndarray:
        cand_cap = int(min(search_k, self.n_trees * self.n_items)) + self._max_leaf
        threads = min(threads, numba.config.NUMBA_NUM_THREADS)
        previous = numba.get_num_threads()
        numba.set_num_threads(threads)
        try:
            with numba.parallel_chunksize(16):  # dynamic scheduling, 16 queries at a time
                return _search_kernels.query_batch(
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
        """Compiled candidate list (with repeats, in visiting order) before re-ranking.

        Refuses what :meth:`query` refuses for ``vector``, and a ``search_k`` that is not an
        integer >= 1.
        """
        self._require_fit()
        search_k = require_int(search_k, "search_k", 1)
        traversal, _ = self._transform(self._as_row(vector), "vector")
        cand_cap = int(min(search_k, self.n_trees * self.n_items)) + self._max_leaf
        return _search_kernels.candidates_one(
            traversal[0],
            self._nodes_f,
            self._nodes_i,
            self._leaves,
            self.leaf_items_,
            self.roots_,
            search_k,
            cand_cap,
        )
