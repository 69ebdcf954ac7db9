"""course_lib.ann.mips (chapter 06, section 8): dot products turned into angles (Bachrach 2014)."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.ann import (
    RandomHyperplaneForest,
    brute_force_knn,
    mips_query,
    mips_transform,
    recall_at_k,
)


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
    np.testing.assert_array_equal(mips_query(queries[3]), padded[3])
    with pytest.raises(ValueError, match="below the largest"):
        mips_transform(items, max_norm=0.5 * max_norm)


def test_mips_refuses_bad_input():
    items = np.random.default_rng(0).normal(size=(30, 4))
    with pytest.raises(TypeError, match="max_norm must be a number"):
        mips_transform(items, max_norm="10")
    with pytest.raises(TypeError, match="max_norm must be a number"):
        mips_transform(items, max_norm=True)
    with pytest.raises(ValueError, match="max_norm must be a finite number"):
        mips_transform(items, max_norm=np.nan)
    bad = items.copy()
    bad[2] = np.inf
    with pytest.raises(ValueError, match=r"item_vectors contains NaN or infinite.*\[2\]"):
        mips_transform(bad)
    with pytest.raises(ValueError, match="item_vectors is empty"):
        mips_transform(np.zeros((0, 4)))
    with pytest.raises(ValueError, match="queries contains NaN"):
        mips_query(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="queries is empty"):
        mips_query(np.zeros(0))


def test_dot_forest_beats_angular_forest_on_top_dot_products(clustered):
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
