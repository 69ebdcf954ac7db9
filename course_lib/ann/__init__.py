"""Approximate nearest neighbours with random-hyperplane trees, annoy's way.

Taught in chapter 06 (approximate nearest neighbours). Spotify's catalogue has tens of millions of
tracks, so "the tracks closest to this vector" cannot be a full scan per request; Bernhardsson
wrote annoy (2013) for this. This package rebuilds its method and measures it, one file a job:

* :mod:`~course_lib.ann.data`: :func:`make_clustered_vectors`, the synthetic catalogue.
* :mod:`~course_lib.ann.exact`: :func:`brute_force_knn`, the exact answer (matrix product +
  ``argpartition``), and :func:`recall_at_k`, how much of it an index finds.
* :mod:`~course_lib.ann.splits`: :func:`split_hyperplane` and :func:`two_means`, annoy's split
  rule (the hyperplane equidistant from two centroids of a node's points), and
  :class:`TreeRandom`, the builder's random draws in Python.
* :mod:`~course_lib.ann.forest`: :class:`RandomHyperplaneForest`, a forest of such trees stored as
  flat numpy arrays, built and searched by the numba kernels of ``_kernels`` and
  ``_search_kernels``; the search is annoy's best-first walk over all trees until ``search_k``
  candidates, followed by exact re-ranking.
* :mod:`~course_lib.ann.search`: :func:`search_candidates`, the same search written with
  :mod:`heapq`, readable and slow.
* :mod:`~course_lib.ann.mips`: :func:`mips_transform` / :func:`mips_query`, the extra dimension of
  Bachrach et al. (2014) that turns maximum inner product search into nearest neighbour search.
* :mod:`~course_lib.ann.measure`: :func:`recall_qps_grid` and :func:`leaf_size_sweep`.
* :mod:`~course_lib.ann.plots`: :func:`plot_recall_qps` and :func:`plot_tree_splits`.
* :mod:`~course_lib.ann.checks`: the exercise checks of chapter 06 (through
  :mod:`course_lib.checks`).
"""

from __future__ import annotations

from course_lib.ann.data import make_clustered_vectors
from course_lib.ann.exact import METRICS, brute_force_knn, recall_at_k
from course_lib.ann.forest import NotFittedError, RandomHyperplaneForest
from course_lib.ann.measure import leaf_size_sweep, recall_qps_grid
from course_lib.ann.mips import mips_query, mips_transform
from course_lib.ann.plots import plot_recall_qps, plot_tree_splits
from course_lib.ann.search import search_candidates
from course_lib.ann.splits import TreeRandom, split_hyperplane, two_means

__all__ = [
    "METRICS",
    "NotFittedError",
    "RandomHyperplaneForest",
    "TreeRandom",
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
