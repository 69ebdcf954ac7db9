"""course_lib.ann.search (chapter 06, section 4): the readable best-first search over all trees."""

from __future__ import annotations

import heapq
import math

import numpy as np
import pytest

from course_lib.ann import NotFittedError, RandomHyperplaneForest, search_candidates


def test_compiled_search_visits_candidates_in_the_readable_order(data):
    vectors, queries = data
    forest = RandomHyperplaneForest(n_trees=5, leaf_size=8, seed=3).fit(vectors)
    for q, search_k in zip(queries[:6], (1, 10, 50, 200, 1000, 100_000)):
        compiled = forest.candidates(q, search_k).tolist()
        readable = search_candidates(forest, q, search_k)
        assert compiled == readable
        if search_k < 5 * len(vectors):
            assert len(readable) >= search_k
            assert len(readable) - search_k < forest.leaf_size_


def test_readable_search_follows_annoys_rule_on_a_hand_made_forest(data):
    """An independent heapq walk over the flat arrays gives the same candidates."""
    vectors, queries = data
    forest = RandomHyperplaneForest(n_trees=2, leaf_size=30, metric="euclidean", seed=9).fit(
        vectors
    )
    q = queries[3]
    heap = [(-math.inf, int(r)) for r in forest.roots_]
    heapq.heapify(heap)
    seen: list[int] = []
    while heap and len(seen) < 120:
        neg, ref = heapq.heappop(heap)
        if ref < 0:
            seen += forest.leaf_items_[
                forest.leaf_start_[-ref - 1] : forest.leaf_end_[-ref - 1]
            ].tolist()
            continue
        m = float(forest.normals_[ref] @ q + forest.offsets_[ref])
        heapq.heappush(heap, (-min(-neg, m), int(forest.children_[ref, 1])))
        heapq.heappush(heap, (-min(-neg, -m), int(forest.children_[ref, 0])))
    assert seen == search_candidates(forest, q, 120)


def test_search_candidates_refuses_bad_input(data, fitted):
    vectors, queries = data
    with pytest.raises(NotFittedError, match="call .fit"):
        search_candidates(RandomHyperplaneForest(2), queries[0], 10)
    with pytest.raises(TypeError, match="forest must be a RandomHyperplaneForest"):
        search_candidates(vectors, queries[0], 10)
    with pytest.raises(ValueError, match="search_k must be an integer >= 1, got 0"):
        search_candidates(fitted, queries[0], 0)
    with pytest.raises(TypeError, match="search_k must be an integer, got '10'"):
        search_candidates(fitted, queries[0], "10")
    with pytest.raises(
        ValueError, match="vector has 11 dimensions but the forest was fitted on 12"
    ):
        search_candidates(fitted, queries[0, :11], 10)
    with pytest.raises(ValueError, match="vector must be 1-D.*use query_batch"):
        search_candidates(fitted, queries[:2], 10)
    with pytest.raises(ValueError, match="vector contains NaN"):
        search_candidates(fitted, np.full(12, np.nan), 10)
