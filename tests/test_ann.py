"""Tests of course_lib.ann (chapter 06): exactness, errors, determinism, recall, MIPS, checks."""

from __future__ import annotations

import heapq
import math

import numpy as np
import pytest

from course_lib import ann, checks_ann
from course_lib.ann import (
    NotFittedError,
    RandomHyperplaneForest,
    brute_force_knn,
    mips_query,
    mips_transform,
    recall_at_k,
    search_candidates,
    split_hyperplane,
)


def clustered(n: int, dim: int, n_clusters: int, seed: int, spread: float = 0.35) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, dim))
    labels = rng.integers(0, n_clusters, n)
    return (centres[labels] + spread * rng.normal(size=(n, dim))).astype(np.float32)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return clustered(3000, 12, 30, seed=0), clustered(80, 12, 30, seed=1)


def naive_knn(vectors: np.ndarray, queries: np.ndarray, k: int, metric: str) -> np.ndarray:
    x = vectors.astype(np.float64)
    q = queries.astype(np.float64)
    if metric == "angular":
        sims = (q / np.linalg.norm(q, axis=1, keepdims=True)) @ (
            x / np.linalg.norm(x, axis=1, keepdims=True)
        ).T
        dist = -sims
    elif metric == "euclidean":
        dist = ((q[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    else:
        dist = -(q @ x.T)
    return np.argsort(dist, axis=1, kind="stable")[:, :k]


# ------------------------------------------------------------------------------- brute force
@pytest.mark.parametrize("metric", ["angular", "euclidean", "dot"])
def test_brute_force_matches_a_naive_scan(data, metric):
    vectors, queries = data
    got = brute_force_knn(vectors, queries, 7, metric, max_block_bytes=4 * 3000 * 16)
    np.testing.assert_array_equal(got, naive_knn(vectors, queries, 7, metric))


def test_brute_force_k_equal_to_n_returns_everything_sorted():
    vectors = clustered(20, 3, 2, seed=2)
    got = brute_force_knn(vectors, vectors[:2], 20, "euclidean")
    np.testing.assert_array_equal(got, naive_knn(vectors, vectors[:2], 20, "euclidean"))


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
    np.testing.assert_array_equal(
        forest.query_batch(queries, 5), forest.query_batch(queries, 5, search_k=20)
    )


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


def test_a_single_leaf_index_when_everything_fits():
    vectors = clustered(5, 4, 1, seed=0)
    forest = RandomHyperplaneForest(n_trees=3, leaf_size=10).fit(vectors)
    assert forest.normals_.shape[0] == 0 and np.all(forest.roots_ < 0)
    np.testing.assert_array_equal(
        forest.query_batch(vectors, 5), brute_force_knn(vectors, vectors, 5)
    )


# ------------------------------------------------------------------------------- errors
def test_errors_name_the_problem(data):
    vectors, queries = data
    forest = RandomHyperplaneForest(n_trees=2)
    with pytest.raises(NotFittedError, match="fit"):
        forest.query(queries[0], 5)
    with pytest.raises(NotFittedError):
        forest.query_batch(queries, 5)
    forest.fit(vectors)
    with pytest.raises(ValueError, match="dimensions"):
        forest.query(np.ones(5), 3)
    with pytest.raises(ValueError, match="dimensions"):
        forest.query_batch(np.ones((4, 13)), 3)
    bad = queries.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        forest.query_batch(bad, 3)
    with pytest.raises(ValueError, match="larger than the index"):
        forest.query(queries[0], len(vectors) + 1)
    with pytest.raises(ValueError, match="k must be"):
        forest.query(queries[0], 0)
    with pytest.raises(ValueError, match="search_k"):
        forest.query(queries[0], 3, search_k=0)
    with pytest.raises(TypeError, match="int"):
        forest.query(queries[0], 2.5)
    with pytest.raises(ValueError, match="1-D"):
        forest.query(queries[:2], 3)


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
    with pytest.raises(TypeError, match="numbers"):
        RandomHyperplaneForest().fit(np.array([["a", "b"]]))
    import scipy.sparse as sp

    with pytest.raises(TypeError, match="toarray"):
        RandomHyperplaneForest().fit(sp.csr_matrix(vectors))
    with pytest.raises(ValueError, match="metric"):
        RandomHyperplaneForest(metric="cosine")
    with pytest.raises(ValueError, match="n_trees"):
        RandomHyperplaneForest(n_trees=0)
    with pytest.raises(ValueError, match="n_jobs"):
        RandomHyperplaneForest(n_jobs=0)
    with pytest.raises(TypeError, match="leaf_size"):
        RandomHyperplaneForest(leaf_size=2.0)
    with pytest.raises(ValueError, match="larger than"):
        brute_force_knn(vectors[:5], vectors[:1], 6)


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
def test_recall_increases_with_search_k_on_clustered_data():
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


def test_more_trees_help_at_equal_search_k():
    vectors = clustered(6000, 16, 60, seed=5)
    queries = clustered(200, 16, 60, seed=6)
    truth = brute_force_knn(vectors, queries, 10)
    few = RandomHyperplaneForest(n_trees=2, seed=0).fit(vectors)
    many = RandomHyperplaneForest(n_trees=20, seed=0).fit(vectors)
    assert recall_at_k(many.query_batch(queries, 10, 600), truth) > recall_at_k(
        few.query_batch(queries, 10, 600), truth
    )


def test_recall_matches_annoy_at_equal_settings():
    annoy = pytest.importorskip("annoy")
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
def test_angular_and_euclidean_differ_where_lengths_differ():
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


@pytest.mark.parametrize("metric", ["angular", "euclidean"])
def test_split_hyperplane_is_equidistant(metric):
    rng = np.random.default_rng(3)
    p, q = rng.normal(size=4) * 3.0, rng.normal(size=4)
    normal, offset = split_hyperplane(p, q, metric)
    assert np.isclose(np.linalg.norm(normal), 1.0)
    x = rng.normal(size=(500, 4)) * 3.0
    if metric == "euclidean":
        closer_to_p = np.linalg.norm(x - p, axis=1) < np.linalg.norm(x - q, axis=1)
        assert np.isclose(normal @ ((p + q) / 2) + offset, 0.0, atol=1e-9)
    else:
        unit = x / np.linalg.norm(x, axis=1, keepdims=True)
        closer_to_p = unit @ (p / np.linalg.norm(p)) > unit @ (q / np.linalg.norm(q))
        assert offset == 0.0
    np.testing.assert_array_equal(x @ normal + offset > 0, closer_to_p)


def test_two_means_is_seeded_and_separates_two_clusters():
    rng = np.random.default_rng(0)
    points = np.vstack([rng.normal(-5, 0.1, (100, 2)), rng.normal(5, 0.1, (100, 2))])
    p, q = ann.two_means(points, "euclidean", seed=1)
    np.testing.assert_array_equal(p, ann.two_means(points, "euclidean", seed=1)[0])
    assert sorted([p[0], q[0]]) == pytest.approx([-5, 5], abs=0.3)


def test_two_means_for_dot_groups_by_inner_product_not_by_the_pole():
    # Items along +x and along -x, most of them short. After the MIPS transform the short ones
    # crowd around the pole (0, 0, M); grouping by inner product still sees the two directions.
    rng = np.random.default_rng(3)
    lengths = np.r_[rng.uniform(0.05, 0.3, 90), rng.uniform(2.0, 3.0, 10)]
    right = np.c_[lengths, rng.normal(0, 0.02, 100)]
    points = np.vstack([right, -right])
    for seed in range(5):
        p, q = ann.two_means(points, "dot", seed=seed)
        assert p.shape == q.shape == (3,)  # centroids live in the transformed space
        assert p[0] * q[0] < 0, f"seed {seed}: the centroids should point to opposite sides"


# ------------------------------------------------------------------------------- MIPS
def test_mips_transform_makes_dot_products_angles():
    rng = np.random.default_rng(1)
    items = rng.normal(size=(500, 8)) * rng.uniform(0.2, 3.0, size=(500, 1))
    queries = rng.normal(size=(20, 8))
    transformed, max_norm = mips_transform(items)
    assert np.allclose(np.linalg.norm(transformed, axis=1), max_norm, rtol=1e-5)
    padded = mips_query(queries)
    np.testing.assert_allclose(padded @ transformed.T, queries @ items.T, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(
        brute_force_knn(transformed, padded, 10, "angular"),
        brute_force_knn(items, queries, 10, "dot"),
    )
    with pytest.raises(ValueError, match="below the largest"):
        mips_transform(items, max_norm=0.5 * max_norm)


def test_dot_forest_beats_angular_forest_on_top_dot_products():
    rng = np.random.default_rng(2)
    directions = clustered(5000, 10, 40, seed=9)
    items = directions * rng.lognormal(0.0, 0.6, size=(5000, 1)).astype(np.float32)
    queries = clustered(200, 10, 40, seed=10)
    truth = brute_force_knn(items, queries, 10, "dot")
    angular = RandomHyperplaneForest(n_trees=10, metric="angular", seed=0).fit(items)
    dot = RandomHyperplaneForest(n_trees=10, metric="dot", seed=0).fit(items)
    recall_angular = recall_at_k(angular.query_batch(queries, 10, 2000), truth)
    recall_dot = recall_at_k(dot.query_batch(queries, 10, 2000), truth)
    assert recall_dot > recall_angular + 0.1, (recall_dot, recall_angular)


def test_recall_at_k_counts_hits_and_ignores_padding():
    truth = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    found = np.array([[4, 3, 9, -1], [-1, -1, -1, -1]])
    assert recall_at_k(found, truth) == pytest.approx(2 / 8)


# ------------------------------------------------------------------------------- picture
def test_plot_tree_splits_draws_one_line_per_split():
    import matplotlib

    matplotlib.use("Agg")
    points = clustered(300, 2, 5, seed=0)
    forest = RandomHyperplaneForest(n_trees=1, leaf_size=30, metric="euclidean").fit(points)
    fig = ann.plot_tree_splits(forest, points)
    assert len(fig.axes[0].lines) == forest.normals_.shape[0]
    with pytest.raises(ValueError, match="2-D"):
        ann.plot_tree_splits(RandomHyperplaneForest(1).fit(clustered(50, 3, 2, 0)), points)


# ------------------------------------------------------------------------------- checks
def test_check_split_rule_accepts_the_reference_and_rejects_slips(capsys):
    assert checks_ann.check_split_rule(split_hyperplane).passed

    def stub(p, q, metric):
        raise NotImplementedError

    assert checks_ann.check_split_rule(stub).status == "not implemented"

    def no_unit_scaling(p, q, metric):  # angular without scaling p and q first
        normal = (p - q) / np.linalg.norm(p - q)
        offset = 0.0 if metric == "angular" else -normal @ (p + q) / 2
        return normal, offset

    def offset_through_origin(p, q, metric):
        normal, _ = split_hyperplane(p, q, metric)
        return normal, 0.0

    def swapped(p, q, metric):
        normal, offset = split_hyperplane(p, q, metric)
        return -normal, -offset

    for wrong in (no_unit_scaling, offset_through_origin, swapped):
        assert checks_ann.check_split_rule(wrong).status == "wrong", wrong.__name__
    assert "unit length" in capsys.readouterr().out


def test_check_priority_search_accepts_the_reference_and_rejects_slips(capsys):
    assert checks_ann.check_priority_search(search_candidates).passed

    def no_min(forest, vector, search_k):  # priority = the last margin only
        heap = [(-math.inf, int(r)) for r in forest.roots_]
        found: list[int] = []
        while heap and len(found) < search_k:
            _, ref = heapq.heappop(heap)
            if ref < 0:
                found += forest.leaf_items_[
                    forest.leaf_start_[-ref - 1] : forest.leaf_end_[-ref - 1]
                ].tolist()
                continue
            m = float(forest.normals_[ref] @ vector + forest.offsets_[ref])
            heapq.heappush(heap, (-m, int(forest.children_[ref, 1])))
            heapq.heappush(heap, (m, int(forest.children_[ref, 0])))
        return found

    def unique_only(forest, vector, search_k):
        return sorted(set(search_candidates(forest, vector, search_k)))

    def one_tree_at_a_time(forest, vector, search_k):
        found: list[int] = []
        for root in forest.roots_:
            ref = int(root)
            while ref >= 0:
                m = forest.normals_[ref] @ vector + forest.offsets_[ref]
                ref = int(forest.children_[ref, 1 if m > 0 else 0])
            found += forest.leaf_items_[
                forest.leaf_start_[-ref - 1] : forest.leaf_end_[-ref - 1]
            ].tolist()
        return found

    for wrong in (no_min, unique_only, one_tree_at_a_time):
        assert checks_ann.check_priority_search(wrong).status == "wrong", wrong.__name__
    assert "repeats" in capsys.readouterr().out


def test_check_leaf_size_sweep_accepts_the_reference_and_rejects_slips(capsys):
    import pandas as pd

    result = checks_ann.check_leaf_size_sweep(
        ann.leaf_size_sweep, prediction={"recall": "down", "n_nodes": "down"}
    )
    assert result.passed
    out = capsys.readouterr().out
    assert "recall as leaves grow: 'down'; measured: down (right)" in out

    def ignores_leaf_size(vectors, queries, leaf_sizes, n_trees, search_k, k, seed):
        return ann.leaf_size_sweep(
            vectors, queries, [leaf_sizes[0]] * len(leaf_sizes), n_trees, search_k, k, seed
        )

    def default_search_k(vectors, queries, leaf_sizes, n_trees, search_k, k, seed):
        return ann.leaf_size_sweep(vectors, queries, leaf_sizes, n_trees, None, k, seed)

    def recall_per_candidate(vectors, queries, leaf_sizes, n_trees, search_k, k, seed):
        table = ann.leaf_size_sweep(vectors, queries, leaf_sizes, n_trees, search_k, k, seed)
        return pd.DataFrame({**table, "recall": table["recall"] * k / search_k})

    for wrong in (ignores_leaf_size, default_search_k, recall_per_candidate):
        assert checks_ann.check_leaf_size_sweep(wrong).status == "wrong", wrong.__name__
