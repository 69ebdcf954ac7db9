"""course_lib.ann.forest (chapter 06, sections 3-8): building, querying, errors, recall vs annoy."""

from __future__ import annotations

import annoy
import numpy as np
import pytest
import scipy.sparse as sp

from course_lib.ann import NotFittedError, RandomHyperplaneForest, brute_force_knn, recall_at_k


# ------------------------------------------------------------------------------- exactness
@pytest.mark.parametrize("metric", ["angular", "euclidean", "dot"])
def test_search_k_covering_everything_is_exact(data, metric):
    vectors, queries = data
    forest = RandomHyperplaneForest(n_trees=3, metric=metric, seed=1).fit(vectors)
    got = forest.query_batch(queries, 10, search_k=3 * len(vectors))
    np.testing.assert_array_equal(got, brute_force_knn(vectors, queries, 10, metric))
    single = forest.query(queries[0], 10, search_k=3 * len(vectors))
    np.testing.assert_array_equal(single, got[0])


def test_default_search_k_is_n_trees_times_k(data):
    vectors, queries = data
    forest = RandomHyperplaneForest(n_trees=4, seed=0).fit(vectors)
    expected = forest.query_batch(queries, 5, search_k=20)
    np.testing.assert_array_equal(forest.query_batch(queries, 5), expected)
    np.testing.assert_array_equal(forest.query_batch(queries, 5, search_k=-1), expected)


# ------------------------------------------------------------------------------- structure
@pytest.mark.parametrize("metric", ["angular", "euclidean"])
def test_every_tree_routes_each_item_to_the_leaf_that_holds_it(data, metric):
    vectors, _ = data
    forest = RandomHyperplaneForest(n_trees=3, leaf_size=16, metric=metric, seed=4).fit(vectors)
    points = forest.transform_queries(vectors)[0]
    leaf_of = np.empty(len(vectors), dtype=np.int64)
    for t, root in enumerate(forest.roots_):
        sizes = forest.leaf_end_ - forest.leaf_start_
        in_tree = (forest.leaf_start_ >= t * len(vectors)) & (
            forest.leaf_start_ < (t + 1) * len(vectors)
        )
        assert sizes[in_tree].sum() == len(vectors)  # the leaves partition the items
        assert sizes.max() <= 16
        for leaf in np.flatnonzero(in_tree):
            leaf_of[forest.leaf_items_[forest.leaf_start_[leaf] : forest.leaf_end_[leaf]]] = leaf
        for item in range(0, len(vectors), 37):
            ref = int(root)
            while ref >= 0:
                margin = forest.normals_[ref] @ points[item] + forest.offsets_[ref]
                ref = int(forest.children_[ref, 1 if margin > 0 else 0])
            assert -ref - 1 == leaf_of[item]


def test_default_leaf_size_follows_annoy(data):
    vectors, _ = data
    assert RandomHyperplaneForest(2).fit(vectors).leaf_size_ == vectors.shape[1] + 2
    assert RandomHyperplaneForest(2, metric="dot").fit(vectors).leaf_size_ == vectors.shape[1] + 3


def test_duplicates_fall_back_to_random_splits():
    vectors = np.repeat(np.eye(3, dtype=np.float32), 200, axis=0)
    forest = RandomHyperplaneForest(n_trees=2, leaf_size=10, metric="euclidean").fit(vectors)
    sizes = forest.leaf_end_ - forest.leaf_start_
    assert sizes.max() <= 10 and sizes.sum() == 2 * len(vectors)


def test_a_single_leaf_index_when_everything_fits(clustered):
    vectors = clustered(5, 4, 1, seed=0)
    forest = RandomHyperplaneForest(n_trees=3, leaf_size=10).fit(vectors)
    assert forest.normals_.shape[0] == 0 and np.all(forest.roots_ < 0)
    np.testing.assert_array_equal(
        forest.query_batch(vectors, 5), brute_force_knn(vectors, vectors, 5)
    )


# ------------------------------------------------------------------------------- errors
UNFITTED_CALLS = {
    "query": lambda forest, queries: forest.query(queries[0], 5),
    "query_batch": lambda forest, queries: forest.query_batch(queries, 5),
    "candidates": lambda forest, queries: forest.candidates(queries[0], 5),
    "transform_queries": lambda forest, queries: forest.transform_queries(queries),
    "n_nodes": lambda forest, queries: forest.n_nodes,
    "nbytes": lambda forest, queries: forest.nbytes,
}


@pytest.mark.parametrize("call", sorted(UNFITTED_CALLS))
def test_an_unfitted_forest_says_to_fit_it(data, call):
    with pytest.raises(NotFittedError, match=r"not fitted yet; call \.fit\(vectors\) first"):
        UNFITTED_CALLS[call](RandomHyperplaneForest(n_trees=2), data[1])


def test_bad_queries_name_the_problem(data, fitted):
    _, queries = data
    with pytest.raises(ValueError, match="vector has 5 dimensions but the forest was fitted on 12"):
        fitted.query(np.ones(5), 3)
    with pytest.raises(ValueError, match="queries has 13 columns but 12 are expected"):
        fitted.query_batch(np.ones((4, 13)), 3)
    bad = queries.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"queries contains NaN or infinite values \(rows \[2\]\)"):
        fitted.query_batch(bad, 3)
    with pytest.raises(ValueError, match="vector contains NaN"):
        fitted.query(bad[2], 3)
    with pytest.raises(ValueError, match="vector must be 1-D.*use query_batch"):
        fitted.query(queries[:2], 3)
    with pytest.raises(ValueError, match="queries is empty"):
        fitted.query_batch(np.zeros((0, 12)), 3)
    with pytest.raises(ValueError, match="queries must be 2-D"):
        fitted.query_batch(queries[0], 3)
    with pytest.raises(TypeError, match="toarray"):
        fitted.query_batch(sp.csr_matrix(queries), 3)
    with pytest.raises(TypeError, match="queries must hold real numbers"):
        fitted.query_batch(np.array([["a"] * 12]), 3)


def test_bad_k_and_search_k_name_the_problem_and_the_fix(data, fitted):
    vectors, queries = data
    with pytest.raises(
        ValueError, match=r"larger than the index \(3000 items\); ask for k <= 3000"
    ):
        fitted.query(queries[0], len(vectors) + 1)
    with pytest.raises(ValueError, match="k must be an integer >= 1, got 0"):
        fitted.query(queries[0], 0)
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        fitted.query_batch(queries, 0)
    with pytest.raises(TypeError, match="k must be an integer, got 2.5"):
        fitted.query(queries[0], 2.5)
    with pytest.raises(TypeError, match="k must be an integer, got True"):
        fitted.query_batch(queries, True)
    with pytest.raises(ValueError, match="search_k=3 is smaller than k=5.*search_k >= k"):
        fitted.query(queries[0], 5, search_k=3)
    with pytest.raises(ValueError, match="search_k=0 is smaller than k=3"):
        fitted.query_batch(queries, 3, search_k=0)
    with pytest.raises(ValueError, match="search_k must be an integer >= -1"):
        fitted.query(queries[0], 3, search_k=-5)
    with pytest.raises(TypeError, match="search_k must be an integer, got '100'"):
        fitted.query(queries[0], 3, search_k="100")
    with pytest.raises(TypeError, match="search_k must be an integer, got False"):
        fitted.candidates(queries[0], False)
    with pytest.raises(ValueError, match="n_threads must be an integer >= 1"):
        fitted.query_batch(queries, 3, n_threads=0)
    with pytest.raises(TypeError, match="n_threads must be an integer"):
        fitted.query_batch(queries, 3, n_threads=True)


def test_bad_vectors_and_settings_are_refused(data):
    vectors, _ = data
    with_nan = vectors.copy()
    with_nan[10, 0] = np.nan
    with pytest.raises(ValueError, match="rows \\[10\\]"):
        RandomHyperplaneForest().fit(with_nan)
    with_inf = vectors.copy()
    with_inf[3, 3] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        RandomHyperplaneForest().fit(with_inf)
    with pytest.raises(ValueError, match="2-D"):
        RandomHyperplaneForest().fit(vectors[0])
    with pytest.raises(ValueError, match="vectors is empty"):
        RandomHyperplaneForest().fit(np.zeros((0, 12)))
    with pytest.raises(TypeError, match="numbers"):
        RandomHyperplaneForest().fit(np.array([["a", "b"]]))
    with pytest.raises(TypeError, match="toarray"):
        RandomHyperplaneForest().fit(sp.csr_matrix(vectors))
    with pytest.raises(ValueError, match="metric must be one of 'angular', 'euclidean', 'dot'"):
        RandomHyperplaneForest(metric="cosine")
    with pytest.raises(ValueError, match="n_trees must be an integer >= 1"):
        RandomHyperplaneForest(n_trees=0)
    with pytest.raises(TypeError, match="n_trees must be an integer, got True"):
        RandomHyperplaneForest(n_trees=True)
    with pytest.raises(TypeError, match="n_trees must be an integer, got '10'"):
        RandomHyperplaneForest(n_trees="10")
    with pytest.raises(ValueError, match="n_jobs"):
        RandomHyperplaneForest(n_jobs=0)
    with pytest.raises(TypeError, match="leaf_size"):
        RandomHyperplaneForest(leaf_size=2.0)
    with pytest.raises(TypeError, match="seed must be an integer"):
        RandomHyperplaneForest(seed="0")


def test_a_refused_refit_keeps_the_fitted_index(data):
    vectors, queries = data
    forest = RandomHyperplaneForest(n_trees=2, seed=0).fit(vectors)
    before = forest.query_batch(queries, 5)
    leaf_items = forest.leaf_items_.copy()
    bad = vectors[:100].copy()
    bad[5, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        forest.fit(bad)
    assert forest.n_items == len(vectors)
    np.testing.assert_array_equal(forest.leaf_items_, leaf_items)
    np.testing.assert_array_equal(forest.query_batch(queries, 5), before)


# ------------------------------------------------------------------------------- determinism
def test_same_seed_same_forest_whatever_the_threads(data):
    vectors, queries = data
    one = RandomHyperplaneForest(n_trees=4, seed=7, n_jobs=1).fit(vectors)
    two = RandomHyperplaneForest(n_trees=4, seed=7, n_jobs=2).fit(vectors)
    for name in ("normals_", "offsets_", "children_", "leaf_start_", "leaf_items_", "roots_"):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name))
    np.testing.assert_array_equal(
        one.query_batch(queries, 10, 200, n_threads=1), two.query_batch(queries, 10, 200)
    )
    other = RandomHyperplaneForest(n_trees=4, seed=8).fit(vectors)
    assert not np.array_equal(one.normals_[:5], other.normals_[:5])


# ------------------------------------------------------------------------------- recall
def test_recall_increases_with_search_k_on_clustered_data(clustered):
    vectors = clustered(8000, 16, 80, seed=3)
    queries = clustered(200, 16, 80, seed=4)
    truth = brute_force_knn(vectors, queries, 10)
    forest = RandomHyperplaneForest(n_trees=8, seed=0).fit(vectors)
    recalls = [
        recall_at_k(forest.query_batch(queries, 10, search_k), truth)
        for search_k in (10, 80, 400, 2000, 8 * 8000)
    ]
    assert all(b >= a for a, b in zip(recalls, recalls[1:])), recalls
    assert recalls[0] < 0.6 and recalls[-1] == 1.0, recalls


def test_more_trees_help_at_equal_search_k(clustered):
    vectors = clustered(6000, 16, 60, seed=5)
    queries = clustered(200, 16, 60, seed=6)
    truth = brute_force_knn(vectors, queries, 10)
    few = RandomHyperplaneForest(n_trees=2, seed=0).fit(vectors)
    many = RandomHyperplaneForest(n_trees=20, seed=0).fit(vectors)
    assert recall_at_k(many.query_batch(queries, 10, 600), truth) > recall_at_k(
        few.query_batch(queries, 10, 600), truth
    )


def test_recall_matches_annoy_at_equal_settings(clustered):
    vectors = clustered(10_000, 24, 100, seed=11)
    queries = clustered(300, 24, 100, seed=12)
    truth = brute_force_knn(vectors, queries, 10)
    ours, theirs = [], []
    for seed in range(3):
        forest = RandomHyperplaneForest(n_trees=10, seed=seed).fit(vectors)
        index = annoy.AnnoyIndex(24, "angular")
        index.set_seed(seed)
        for i, v in enumerate(vectors):
            index.add_item(i, v)
        index.build(10, n_jobs=1)
        for search_k in (100, 1000):
            ours.append(recall_at_k(forest.query_batch(queries, 10, search_k), truth))
            found = [index.get_nns_by_vector(q, 10, search_k=search_k) for q in queries]
            theirs.append(recall_at_k(np.array(found), truth))
    assert abs(np.mean(ours) - np.mean(theirs)) < 0.03, (ours, theirs)


# ------------------------------------------------------------------------------- metrics
def test_angular_and_euclidean_differ_where_lengths_differ(clustered, naive_knn):
    rng = np.random.default_rng(0)
    directions = clustered(2000, 6, 10, seed=7)
    vectors = directions * rng.uniform(0.1, 5.0, size=(2000, 1)).astype(np.float32)
    queries = clustered(40, 6, 10, seed=8)
    for metric in ("angular", "euclidean"):
        forest = RandomHyperplaneForest(n_trees=3, metric=metric, seed=0).fit(vectors)
        got = forest.query_batch(queries, 5, search_k=3 * 2000)
        np.testing.assert_array_equal(got, naive_knn(vectors, queries, 5, metric))
    angular = brute_force_knn(vectors, queries, 5, "angular")
    euclidean = brute_force_knn(vectors, queries, 5, "euclidean")
    assert recall_at_k(angular, euclidean) < 0.5
    scaled = RandomHyperplaneForest(n_trees=3, seed=0).fit(vectors * 7.0)
    base = RandomHyperplaneForest(n_trees=3, seed=0).fit(vectors)
    np.testing.assert_array_equal(  # angular ignores lengths entirely
        scaled.query_batch(queries, 5, 60), base.query_batch(queries, 5, 60)
    )
