"""course_lib.feedback_loop.diversity (chapter 08, section 9): coverage, Gini, genres per user."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.feedback_loop import catalogue_coverage, exposure_counts, genres_per_user, gini


def test_gini_on_hand_examples():
    assert gini(np.array([5, 5, 5, 5])) == pytest.approx(0.0)
    assert gini(np.array([0, 0, 0, 8])) == pytest.approx(3 / 4)
    # x = (1, 2, 3, 4): sum_i (2i - 5) x_i = -3 - 2 + 3 + 12 = 10; 10 / (4 * 10) = 0.25
    assert gini(np.array([4, 1, 3, 2])) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="every value is 0"):
        gini(np.zeros(3))
    with pytest.raises(ValueError, match="non-negative"):
        gini(np.array([1, -1]))
    with pytest.raises(ValueError, match="finite"):
        gini(np.array([1.0, np.nan]))
    with pytest.raises(TypeError, match="gini needs numbers"):
        gini(np.array(["1", "2"]))


def test_coverage_exposure_and_genres_on_hand_examples():
    recs = np.array([[0, 1], [1, 2], [1, 0]])
    np.testing.assert_array_equal(exposure_counts(recs, 5), [2, 3, 1, 0, 0])
    assert catalogue_coverage(recs, 5) == pytest.approx(3 / 5)
    genres = np.array([0, 0, 1, 1, 2])
    assert genres_per_user(recs, genres) == pytest.approx((1 + 2 + 1) / 3)
    with pytest.raises(ValueError, match="outside"):
        catalogue_coverage(np.array([[0, 7]]), 5)


def test_diversity_measures_refuse_bad_lists_and_sizes():
    recs = np.array([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="n_items must be an integer >= 1"):
        catalogue_coverage(recs, 0)  # would divide by zero
    with pytest.raises(TypeError, match="n_items must be an integer"):
        exposure_counts(recs, 5.0)
    with pytest.raises(ValueError, match="integer matrix"):
        exposure_counts(recs.astype(float), 5)
    with pytest.raises(ValueError, match="recommendations are empty"):
        genres_per_user(np.empty((0, 3), dtype=int), np.array([0, 1, 1]))  # mean of nothing
    with pytest.raises(ValueError, match="recommendations are empty"):
        genres_per_user(np.empty((2, 0), dtype=int), np.array([0, 1, 1]))
    with pytest.raises(ValueError, match="genre_ids must be a 1-D integer array"):
        genres_per_user(recs, np.array([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="outside"):
        genres_per_user(recs, np.array([0, 1]))  # fewer genre ids than items in the lists
