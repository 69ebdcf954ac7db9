"""Tests of course_lib.evaluation.synthetic: the one maker of random play matrices."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib import evaluation


def test_random_plays_shape_counts_density_and_seed():
    plays = evaluation.random_plays(n_users=200, n_items=100, density=0.2, seed=3, max_count=4)
    assert sp.issparse(plays) and plays.format == "csr" and plays.dtype == np.int32
    assert plays.shape == (200, 100)
    assert plays.data.min() >= 1 and plays.data.max() <= 4
    assert plays.nnz / (200 * 100) == pytest.approx(0.2, abs=0.02)
    assert (evaluation.random_plays(seed=3) != evaluation.random_plays(seed=3)).nnz == 0
    assert (evaluation.random_plays(seed=3) != evaluation.random_plays(seed=4)).nnz > 0


def test_the_fixture_is_the_library_function(random_plays):
    assert random_plays is evaluation.random_plays


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"n_users": 0}, ValueError, "n_users must be an integer >= 1"),
        ({"n_items": 2.0}, TypeError, "n_items must be an integer"),
        ({"density": "0.1"}, TypeError, "density must be a number"),
        ({"density": 1.5}, ValueError, "density must be a number <= 1"),
        ({"seed": None}, TypeError, "seed must be an integer"),
        ({"max_count": 0}, ValueError, "max_count must be an integer >= 1"),
    ],
)
def test_random_plays_refuses_bad_arguments(kwargs, error, words):
    with pytest.raises(error, match=words):
        evaluation.random_plays(**kwargs)
