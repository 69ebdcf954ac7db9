"""course_lib.ann.measure (chapter 06, sections 5-6, exercise 6.3): the grid and the leaf sweep."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.ann import leaf_size_sweep, recall_qps_grid


@pytest.fixture(scope="module")
def small(clustered_module) -> tuple[np.ndarray, np.ndarray]:
    return clustered_module(1500, 8, 15, seed=20), clustered_module(40, 8, 15, seed=21)


def test_recall_qps_grid_has_a_row_per_setting_and_annoy_beside_ours(small):
    vectors, queries = small
    table = recall_qps_grid(vectors, queries, [2, 4], [40, 200], k=5, seed=0)
    assert list(table.columns) == [
        "library",
        "n_trees",
        "search_k",
        "recall",
        "qps",
        "build_s",
        "index_mb",
    ]
    assert table.library.iloc[0] == "brute force" and table.recall.iloc[0] == 1.0
    # per n_trees: search_k in {n_trees * k, 40, 200}, three libraries each
    assert len(table) == 1 + 3 * 3 + 3 * 3
    assert set(table.library) == {"brute force", "ours", "ours, 1 thread", "annoy"}
    ours = table[table.library == "ours"]
    single = table[table.library == "ours, 1 thread"]
    np.testing.assert_array_equal(ours.recall.to_numpy(), single.recall.to_numpy())
    annoy = table[table.library == "annoy"]
    assert annoy.recall.between(0, 1).all() and (annoy.qps > 0).all()
    for _, group in ours.groupby("n_trees"):
        assert group.sort_values("search_k").recall.is_monotonic_increasing
    without = recall_qps_grid(vectors, queries, [2], [40], k=5, with_annoy=False)
    assert "annoy" not in set(without.library)


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"n_trees": []}, ValueError, "n_trees is empty"),
        ({"n_trees": 3}, TypeError, "n_trees must be a list of integers"),
        ({"n_trees": [2, 0]}, ValueError, r"n_trees\[1\] must be an integer >= 1"),
        ({"search_ks": [100, "500"]}, TypeError, r"search_ks\[1\] must be an integer"),
        ({"search_ks": [3]}, ValueError, r"search_ks \[3\] are smaller than k=5"),
        ({"k": True}, TypeError, "k must be an integer"),
        ({"repeats": 0}, ValueError, "repeats must be an integer >= 1"),
        ({"with_annoy": "no"}, TypeError, "with_annoy must be True or False"),
        ({"metric": "cosine"}, ValueError, "metric must be one of"),
    ],
)
def test_recall_qps_grid_refuses_bad_settings_before_building(small, kwargs, error, pattern):
    vectors, queries = small
    arguments = {"n_trees": [2], "search_ks": [50], "k": 5, **kwargs}
    with pytest.raises(error, match=pattern):
        recall_qps_grid(vectors, queries, **arguments)


def test_recall_qps_grid_refuses_queries_of_another_dimension(small):
    vectors, queries = small
    with pytest.raises(ValueError, match="queries has 7 columns but 8 are expected"):
        recall_qps_grid(vectors, queries[:, :7], [2], [50], k=5)


def test_leaf_size_sweep_one_row_per_leaf_size(small):
    vectors, queries = small
    table = leaf_size_sweep(vectors, queries, [4, 32, 256], n_trees=3, search_k=60, k=5)
    assert table.leaf_size.tolist() == [4, 32, 256]
    assert table.n_nodes.is_monotonic_decreasing
    assert table.recall.iloc[0] > table.recall.iloc[-1]
    assert {"index_mb", "build_s", "query_ms"} <= set(table.columns)


@pytest.mark.parametrize(
    ("leaf_sizes", "kwargs", "error", "pattern"),
    [
        ([], {}, ValueError, "leaf_sizes is empty"),
        ([8, 16.0], {}, TypeError, r"leaf_sizes\[1\] must be an integer"),
        (["8"], {}, TypeError, r"leaf_sizes\[0\] must be an integer"),
        ([True], {}, TypeError, r"leaf_sizes\[0\] must be an integer"),
        ([0], {}, ValueError, r"leaf_sizes\[0\] must be an integer >= 1"),
        ([8], {"n_trees": 0}, ValueError, "n_trees must be an integer >= 1"),
        ([8], {"k": 0}, ValueError, "k must be an integer >= 1"),
        ([8], {"search_k": 2, "k": 5}, ValueError, "search_k=2 is smaller than k=5"),
    ],
)
def test_leaf_size_sweep_refuses_bad_settings(small, leaf_sizes, kwargs, error, pattern):
    vectors, queries = small
    with pytest.raises(error, match=pattern):
        leaf_size_sweep(vectors, queries, leaf_sizes, **kwargs)
