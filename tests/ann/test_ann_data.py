"""course_lib.ann.data (chapter 06, section 1): the synthetic clustered catalogue."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.ann import make_clustered_vectors


def test_clustered_vectors_are_seeded_float32_and_clustered():
    a = make_clustered_vectors(2000, dim=16, n_clusters=20, seed=3)
    assert a.shape == (2000, 16) and a.dtype == np.float32
    np.testing.assert_array_equal(a, make_clustered_vectors(2000, dim=16, n_clusters=20, seed=3))
    assert not np.array_equal(a, make_clustered_vectors(2000, dim=16, n_clusters=20, seed=4))
    # clustered: a point's nearest neighbour is much closer than a random other point
    sample = a[:200]
    dist = np.linalg.norm(sample[:, None] - a[None], axis=-1)
    dist[np.arange(200), np.arange(200)] = np.inf
    assert np.median(dist.min(axis=1)) < 0.25 * np.median(dist)


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"n": 0}, ValueError, "n must be an integer >= 1"),
        ({"n": 10.0}, TypeError, "n must be an integer"),
        ({"n": 10, "dim": True}, TypeError, "dim must be an integer"),
        ({"n": 10, "n_clusters": "3"}, TypeError, "n_clusters must be an integer"),
        ({"n": 10, "intrinsic_dim": 0}, ValueError, "intrinsic_dim"),
        ({"n": 10, "noise": -0.1}, ValueError, "noise must be a number >= 0"),
        ({"n": 10, "noise": "0.1"}, TypeError, "noise=float"),
        ({"n": 10, "seed": -1}, ValueError, "seed must be an integer >= 0"),
        ({"n": 10, "seed": 1.5}, TypeError, "seed must be an integer"),
    ],
)
def test_clustered_vectors_refuse_bad_settings(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        make_clustered_vectors(**kwargs)
