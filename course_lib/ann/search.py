"""The best-first search over all trees of a forest, written with :mod:`heapq` to be read.

Taught in chapter 06 (approximate nearest neighbours), section 4 ("Searching all trees at once"),
and practised in exercise 6.2. The compiled copy that :meth:`RandomHyperplaneForest.query` runs is
:func:`course_lib.ann._search_kernels.collect_candidates`; a test checks that both visit the same
candidates in the same order.
"""

from __future__ import annotations

import heapq
import math

import numpy as np

from course_lib.ann.forest import RandomHyperplaneForest
from course_lib.validation import require_int

__all__ = ["search_candidates"]


def search_candidates(
    forest: RandomHyperplaneForest, vector: np.ndarray, search_k: int
) -> list[int]:
    """Best-first search over all trees, written with :mod:`heapq` (slow; for reading).

    A heap holds ``(priority, node)``; every root starts at ``+inf``. Pop the node with the largest
    priority: a leaf adds its items to the candidates; an internal node with margin
    ``m = normal . x + offset`` pushes its positive child with ``min(priority, m)`` and its
    other child with ``min(priority, -m)``. Stop when ``search_k`` candidates (repeats included)
    are collected. This is annoy's ``_get_all_nns`` (Bernhardsson 2013).

    Raises
    ------
    TypeError
        ``forest`` not a :class:`RandomHyperplaneForest`; ``search_k`` not an integer.
    NotFittedError
        An unfitted forest.
    ValueError
        ``search_k < 1``; ``vector`` not 1-D, of another dimension than the forest's vectors, or
        with NaN or infinite values.
    """
    if not isinstance(forest, RandomHyperplaneForest):
        raise TypeError(
            f"forest must be a RandomHyperplaneForest, got {type(forest).__name__}; build one "
            "with RandomHyperplaneForest(n_trees).fit(vectors)"
        )
    forest._require_fit()
    search_k = require_int(search_k, "search_k", 1)
    traversal, _ = forest._transform(forest._as_row(vector), "vector")
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
