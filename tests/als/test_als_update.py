"""Tests of course_lib.als.update (chapter 02): one user's closed-form update, eq. 4."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib.als import user_update

ALPHA, REG = 5.0, 0.3


def test_user_update_is_the_closed_form(tiny_plays, closed_form):
    plays = tiny_plays(seed=4)
    counts = plays.toarray().astype(float)
    Y = np.random.default_rng(0).normal(size=(plays.shape[1], 3))
    items = np.flatnonzero(counts[0])
    x = user_update(Y, items, counts[0, items], alpha=ALPHA, regularization=REG)
    np.testing.assert_allclose(x, closed_form(Y, counts[:1], ALPHA, REG)[0], atol=1e-10)


def test_user_update_accepts_lists_and_gives_zero_without_plays():
    Y = np.random.default_rng(1).normal(size=(10, 3))
    from_lists = user_update(Y, [3, 7, 9], [2, 1, 15], 40.0, 0.1)  # as in the solutions
    from_arrays = user_update(Y, np.array([3, 7, 9]), np.array([2.0, 1.0, 15.0]), 40.0, 0.1)
    np.testing.assert_array_equal(from_lists, from_arrays)
    np.testing.assert_array_equal(user_update(Y, [], [], 40.0, 0.1), np.zeros(3))


Y5 = np.random.default_rng(2).normal(size=(5, 2))


@pytest.mark.parametrize(
    "args, kwargs, error, words",
    [
        ((Y5, [0, 1], [1, 2]), {"regularization": "0.1"}, TypeError, "regularization=float"),
        ((Y5, [0, 1], [1, 2]), {"alpha": True}, TypeError, "alpha must be a number"),
        ((Y5, [0, 1], [1, 2]), {"alpha": float("nan")}, ValueError, "alpha must be a finite"),
        ((Y5, [0, 1], [1, 2]), {"regularization": -1.0}, ValueError, "regularization must be"),
        ((Y5, [0, 1], [1]), {}, ValueError, "items and plays must have the same length"),
        ((Y5, [0, 9], [1, 2]), {}, ValueError, "items indexes rows 0..9 but there are only 5"),
        ((Y5, [0.0, 1.0], [1, 2]), {}, ValueError, "items must be a 1-D array of integer"),
        ((Y5, [1, 1], [1, 2]), {}, ValueError, "item 1 more than once; add up its plays"),
        ((Y5, [0, 1], [1, np.nan]), {}, ValueError, "plays must be finite counts > 0"),
        ((Y5, [0, 1], [1, 0]), {}, ValueError, "leave unplayed items out"),
        ((Y5, [0, 1], ["1", "2"]), {}, TypeError, "plays must hold numbers"),
        ((np.where(Y5 > 0, np.nan, Y5), [0], [1]), {}, ValueError, "item_factors contains NaN"),
        ((Y5[:, 0], [0], [1]), {}, ValueError, "item_factors must be 2-D"),
        ((sp.csr_matrix(Y5), [0], [1]), {}, TypeError, r"\.toarray\(\)"),
    ],
)
def test_user_update_refuses_bad_input(args, kwargs, error, words):
    with pytest.raises(error, match=words):
        user_update(*args, **kwargs)


def test_user_update_explains_a_singular_system():
    Y = np.zeros((6, 3))
    Y[:, 0] = 1.0  # the item factors span one direction of three
    with pytest.raises(ValueError, match=r"singular with regularization=0\.0.*regularization > 0"):
        user_update(Y, [0, 2], [3, 1], alpha=2.0, regularization=0.0)
    assert np.all(np.isfinite(user_update(Y, [0, 2], [3, 1], alpha=2.0, regularization=0.1)))
