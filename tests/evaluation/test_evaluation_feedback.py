"""Tests of course_lib.evaluation.feedback (chapter 01): preference, confidence, the long tail.

Also the play-matrix validators the whole topic relies on (course_lib.validation.validate_plays,
formerly evaluation.check_plays, and validate_nonempty_plays).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib.evaluation import confidence, popularity_curve, preference
from course_lib.validation import validate_nonempty_plays, validate_plays


# ---------------------------------------------------------------------------------------------
# The play-matrix validators
# ---------------------------------------------------------------------------------------------
def test_validate_plays_accepts_coo_and_dense_and_keeps_input(random_plays):
    plays = random_plays()
    coo = plays.tocoo()
    before = coo.data.copy()
    assert (validate_plays(coo) != plays).nnz == 0
    assert (validate_plays(plays.toarray()) != plays).nnz == 0
    np.testing.assert_array_equal(coo.data, before)


@pytest.mark.parametrize(
    "bad, error, words",
    [
        (sp.csr_matrix(np.array([[1.0, -2.0]])), ValueError, "negative"),
        (sp.csr_matrix(np.array([[1.0, np.nan]])), ValueError, "NaN"),
        ([[1, 2], [3, 4]], TypeError, "scipy.sparse"),
        (sp.csr_matrix(np.array([[True, False]])), TypeError, "dtype"),
    ],
)
def test_validate_plays_rejects_bad_input(bad, error, words):
    with pytest.raises(error, match=words):
        validate_plays(bad)


@pytest.mark.parametrize(
    "shape, words",
    [((0, 0), r"no users \(no rows\)"), ((0, 10), "no users"), ((10, 0), r"no items")],
)
def test_validate_nonempty_plays_refuses_matrices_without_users_or_items(shape, words):
    with pytest.raises(ValueError, match=words) as info:
        validate_nonempty_plays(sp.csr_matrix(shape, dtype=np.float32), "train")
    assert "train" in str(info.value) and str(shape) in str(info.value)
    assert validate_nonempty_plays(sp.csr_matrix((2, 3))).shape == (2, 3)  # no plays: allowed


# ---------------------------------------------------------------------------------------------
# preference, confidence, popularity_curve
# ---------------------------------------------------------------------------------------------
def test_preference_and_confidence_values():
    plays = sp.csr_matrix(np.array([[0, 1, 4], [2, 0, 0]], dtype=np.int32))
    np.testing.assert_array_equal(preference(plays).toarray(), [[0, 1, 1], [1, 0, 0]])
    linear = confidence(plays, alpha=2.0).toarray()
    np.testing.assert_allclose(linear, [[0, 3, 9], [5, 0, 0]])
    log = confidence(plays, alpha=2.0, kind="log", eps=0.5).toarray()
    np.testing.assert_allclose(log[0, 2], 1 + 2 * np.log(1 + 4 / 0.5), rtol=1e-6)
    assert confidence(plays).dtype == np.float32
    with pytest.raises(ValueError, match="kind"):
        confidence(plays, kind="square")
    with pytest.raises(ValueError, match="alpha"):
        confidence(plays, alpha=-1.0)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"alpha": "40"}, TypeError, r"alpha must be a number.*alpha=float\('40'\)"),
        ({"alpha": True}, TypeError, "alpha must be a number"),
        ({"alpha": float("nan")}, ValueError, "alpha must be a finite number"),
        ({"eps": "1"}, TypeError, "eps must be a number"),
        ({"eps": 0.0}, ValueError, "eps must be a number > 0"),
        ({"eps": float("inf")}, ValueError, "eps must be a finite number"),
        ({"kind": "LOG"}, ValueError, "kind must be one of 'linear', 'log'"),
    ],
)
def test_confidence_refuses_strings_bools_nan_and_unknown_kinds(kwargs, error, words):
    plays = sp.csr_matrix(np.array([[0, 1, 4]]))
    with pytest.raises(error, match=words):
        confidence(plays, **kwargs)


def test_popularity_curve_is_sorted_and_reaches_one(random_plays):
    counts, share = popularity_curve(random_plays())
    assert np.all(np.diff(counts) <= 0)
    assert share[-1] == pytest.approx(1.0)
    assert np.all(np.diff(share) >= -1e-12)


def test_popularity_curve_of_a_matrix_without_plays_is_all_zeros():
    counts, share = popularity_curve(sp.csr_matrix((3, 4)))
    np.testing.assert_array_equal(counts, np.zeros(4))
    np.testing.assert_array_equal(share, np.zeros(4))  # documented: no NaN from 0 / 0
    with pytest.raises(TypeError, match="scipy.sparse"):
        popularity_curve("plays.csv")
