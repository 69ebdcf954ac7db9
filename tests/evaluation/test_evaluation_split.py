"""Tests of course_lib.evaluation.split (chapter 01): the per-user hold-out."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib.evaluation import split_plays


def test_split_partitions_plays_per_user(random_plays):
    plays = random_plays().tolil()
    plays[5] = 0
    plays[6] = 0
    plays[6, 3] = 7  # a user with a single played item
    plays = plays.tocsr()
    plays.eliminate_zeros()
    train, test = split_plays(plays, test_fraction=0.25, seed=3)
    assert train.shape == test.shape == plays.shape
    assert ((train + test) != plays).nnz == 0
    assert train.multiply(test).nnz == 0
    n_u = np.diff(plays.indptr)
    n_test = np.diff(test.indptr)
    expected = np.where(n_u >= 2, np.clip(np.rint(0.25 * n_u), 1, n_u - 1), 0)
    np.testing.assert_array_equal(n_test, expected)
    assert test[6].nnz == 0 and train[6, 3] == 7


def test_split_is_seeded(random_plays):
    plays = random_plays()
    _a_train, a_test = split_plays(plays, seed=1)
    _b_train, b_test = split_plays(plays, seed=1)
    _c_train, c_test = split_plays(plays, seed=2)
    assert (a_test != b_test).nnz == 0
    assert (a_test != c_test).nnz > 0
    with pytest.raises(ValueError, match="test_fraction"):
        split_plays(plays, test_fraction=1.5)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"test_fraction": "0.2"}, TypeError, r"test_fraction=float\('0.2'\)"),
        ({"test_fraction": True}, TypeError, "test_fraction must be a number"),
        ({"test_fraction": float("nan")}, ValueError, "test_fraction must be a finite number"),
        ({"test_fraction": 0.0}, ValueError, "test_fraction must be a number > 0"),
        ({"test_fraction": 1.0}, ValueError, "test_fraction=0.2"),
        ({"seed": 1.5}, TypeError, "seed must be an integer"),
        ({"seed": "0"}, TypeError, "seed must be an integer"),
        ({"seed": -1}, ValueError, "seed must be an integer >= 0"),
    ],
)
def test_split_refuses_bad_arguments(random_plays, kwargs, error, words):
    with pytest.raises(error, match=words):
        split_plays(random_plays(), **kwargs)


@pytest.mark.parametrize("shape", [(0, 0), (0, 10), (10, 0)])
def test_split_refuses_an_empty_matrix(shape):
    with pytest.raises(ValueError, match=r"plays has no (users|items)") as info:
        split_plays(sp.csr_matrix(shape))
    assert "at least one user and one item" in str(info.value)


def test_split_refuses_a_matrix_whose_test_half_would_be_empty():
    one_item_each = sp.csr_matrix(np.eye(4))
    with pytest.raises(ValueError, match="test matrix would be empty") as info:
        split_plays(one_item_each)
    assert "two items or more" in str(info.value)
    with pytest.raises(ValueError, match="test matrix would be empty"):
        split_plays(sp.csr_matrix((3, 5)))  # no plays at all
