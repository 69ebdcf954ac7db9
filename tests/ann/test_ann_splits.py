"""course_lib.ann.splits (chapter 06, sections 2-3): the split hyperplane, annoy's two means and
the builder's random draws (TreeRandom)."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.ann import TreeRandom, split_hyperplane, two_means


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


@pytest.mark.parametrize(
    ("p", "q", "metric", "error", "pattern"),
    [
        ([1.0, np.nan], [0.0, 1.0], "euclidean", ValueError, "p contains NaN"),
        ([1.0, 0.0], [np.inf, 1.0], "angular", ValueError, "q contains NaN or infinite"),
        ([1.0, 2.0], [1.0, 2.0], "euclidean", ValueError, "are the same point"),
        ([1.0, 2.0], [2.0, 4.0], "angular", ValueError, "point the same way"),
        ([0.0, 0.0], [1.0, 0.0], "angular", ValueError, "p is the zero vector"),
        ([1.0, 2.0], [1.0, 2.0, 3.0], "euclidean", ValueError, "same length"),
        ([[1.0, 2.0]], [[0.0, 1.0]], "euclidean", ValueError, "p must be a non-empty 1-D"),
        ([], [], "euclidean", ValueError, "non-empty 1-D"),
        (["a", "b"], [0.0, 1.0], "euclidean", TypeError, "p must be a vector of real numbers"),
        ([1.0, 0.0], [0.0, 1.0], "cosine", ValueError, "metric must be one of"),
    ],
)
def test_split_hyperplane_refuses_points_without_a_plane(p, q, metric, error, pattern):
    with pytest.raises(error, match=pattern):
        split_hyperplane(np.array(p), np.array(q), metric)


def test_two_means_is_seeded_and_separates_two_clusters():
    rng = np.random.default_rng(0)
    points = np.vstack([rng.normal(-5, 0.1, (100, 2)), rng.normal(5, 0.1, (100, 2))])
    p, q = two_means(points, "euclidean", seed=1)
    np.testing.assert_array_equal(p, two_means(points, "euclidean", seed=1)[0])
    assert sorted([p[0], q[0]]) == pytest.approx([-5, 5], abs=0.3)


def test_two_means_for_dot_groups_by_inner_product_not_by_the_pole():
    # Items along +x and along -x, most of them short. After the MIPS transform the short ones
    # crowd around the pole (0, 0, M); grouping by inner product still sees the two directions.
    rng = np.random.default_rng(3)
    lengths = np.r_[rng.uniform(0.05, 0.3, 90), rng.uniform(2.0, 3.0, 10)]
    right = np.c_[lengths, rng.normal(0, 0.02, 100)]
    points = np.vstack([right, -right])
    for seed in range(5):
        p, q = two_means(points, "dot", seed=seed)
        assert p.shape == q.shape == (3,)  # centroids live in the transformed space
        assert p[0] * q[0] < 0, f"seed {seed}: the centroids should point to opposite sides"


def test_two_means_refuses_bad_input():
    points = np.random.default_rng(0).normal(size=(10, 3))
    with pytest.raises(ValueError, match="at least 2 points, got 1"):
        two_means(points[:1])
    bad = points.copy()
    bad[7, 1] = np.nan
    with pytest.raises(ValueError, match=r"points contains NaN.*rows \[7\]"):
        two_means(bad)
    with pytest.raises(TypeError, match="seed must be an integer"):
        two_means(points, seed=True)
    with pytest.raises(ValueError, match="metric must be one of"):
        two_means(points, metric="manhattan")


def _python_two_means(points, draw, steps=200):
    """Chapter 06's two-means, written with numpy."""
    n = len(points)
    i, j = draw.integer(n), draw.integer(n - 1)
    centres = [points[i].copy(), points[j + (j >= i)].copy()]
    counts = [1, 1]
    for _ in range(steps):
        x = points[draw.integer(n)]
        weighted = [c * (m @ m + x @ x - 2 * m @ x) for c, m in zip(counts, centres)]
        if weighted[0] != weighted[1]:
            near = int(weighted[1] < weighted[0])
            c = counts[near]
            centres[near] = centres[near] * (c / (c + 1)) + x * (1 / (c + 1))
            counts[near] += 1
    return centres


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_tree_random_replays_the_compiled_draws(seed):
    points = np.random.default_rng(seed).normal(size=(300, 5)).astype(np.float32)
    ours = _python_two_means(points.astype(np.float64), TreeRandom(seed))
    np.testing.assert_allclose(ours, two_means(points, "euclidean", seed=seed), rtol=1e-9)


def test_tree_random_draws_in_range_and_refuses_bad_seeds():
    draw = TreeRandom(3, tree=2)
    values = [draw.integer(7) for _ in range(500)]
    assert set(values) == set(range(7))
    assert {draw.coin() for _ in range(100)} == {0, 1}
    with pytest.raises(TypeError, match="seed must be an integer"):
        TreeRandom(1.5)
    with pytest.raises(ValueError, match="tree"):
        TreeRandom(0, tree=-1)
