"""Tests of course_lib.fusion.features (chapter 07, section 2): attributes, tags, genres."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib import fusion as fu


def test_attribute_features_standardise_on_the_fit_rows_only():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, size=(50, 4)).astype(np.float32)
    x[:, 3] = 7.0  # a constant column must not divide by zero
    rows = np.arange(30)
    z = fu.attribute_features(x, fit_rows=rows)
    np.testing.assert_allclose(z[rows, :3].mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(z[rows, :3].std(axis=0), 1.0, atol=1e-5)
    assert np.all(z[:, 3] == 0.0)
    assert not np.allclose(z[30:, :3].mean(axis=0), 0.0, atol=1e-3)  # test rows do not define it


def test_feature_builders_reject_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        fu.attribute_features(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="2-D"):
        fu.attribute_features(np.ones(5))
    with pytest.raises(ValueError, match="only 3 rows"):
        fu.attribute_features(np.ones((3, 2)), fit_rows=[0, 5])
    with pytest.raises(ValueError, match="weighting"):
        fu.tag_features(np.ones((3, 2)), weighting="bm25")
    with pytest.raises(ValueError, match=">= 0"):
        fu.tag_features(-np.ones((3, 2)))
    with pytest.raises(ValueError, match="does not fit"):
        fu.genre_features(np.array([0, 3]), n_genres=2)


@pytest.mark.parametrize("weighting", ["tfidf", "log", "binary"])
def test_tag_features_are_unit_rows_and_empty_rows_stay_empty(weighting):
    counts = sp.csr_matrix(np.array([[3, 0, 1], [0, 0, 0], [10, 5, 0], [1, 1, 1]], np.float32))
    x = fu.tag_features(counts, weighting=weighting)
    norms = np.linalg.norm(x, axis=1)
    np.testing.assert_allclose(norms[[0, 2, 3]], 1.0, atol=1e-6)
    assert norms[1] == 0.0


def test_tfidf_weighs_rare_tags_up():
    counts = np.array([[1, 1], [1, 0], [1, 0], [1, 0]], np.float32)
    x = fu.tag_features(counts, weighting="tfidf")
    assert x[0, 1] > x[0, 0]  # tag 1 is rarer than tag 0, so it weighs more in track 0
    np.testing.assert_allclose(
        fu.tag_features(counts, weighting="log")[0], [2**-0.5] * 2, rtol=1e-6
    )


def test_genre_features_one_hot():
    g = fu.genre_features(np.array([2, 0, 1, 2]))
    np.testing.assert_array_equal(g.argmax(axis=1), [2, 0, 1, 2])
    np.testing.assert_array_equal(g.sum(axis=1), 1.0)


def test_untagged_share_counts_tracks_not_stored_entries():
    dense = np.array([[1, 0], [0, 0], [0, 0], [2, 3]], np.float32)
    stored_zero = sp.csr_matrix(
        (np.array([0.0, 1, 2, 3], np.float32), (np.array([1, 0, 3, 3]), np.array([0, 0, 0, 1]))),
        shape=(4, 2),
    )
    labels = np.array(["head", "tail", "tail", "head"])
    for tags in (dense, stored_zero):
        assert fu.untagged_share(tags, labels) == {"head": 0.0, "tail": 1.0}
    with pytest.raises(ValueError, match="one bucket label per track"):
        fu.untagged_share(dense, labels[:3])


# --- issue 17: bad input is refused with a message that names it and the fix ---------------------


def test_nan_features_are_refused_naming_the_rows_and_the_fix():
    attributes = np.ones((6, 3), np.float32)
    attributes[4, 1] = np.nan
    with pytest.raises(ValueError, match=r"attributes contains NaN.*rows \[4\].*drop or repair"):
        fu.attribute_features(attributes)
    tags = np.ones((5, 2), np.float32)
    tags[2, 0] = np.inf
    with pytest.raises(ValueError, match=r"tags contains NaN or infinite.*rows \[2\]"):
        fu.tag_features(tags)
    with pytest.raises(ValueError, match=r"tags contains NaN"):
        fu.untagged_share(sp.csr_matrix(tags), np.array(["head"] * 5))


def test_empty_sources_are_refused():
    with pytest.raises(ValueError, match="attributes is empty"):
        fu.attribute_features(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="tags is empty"):
        fu.tag_features(sp.csr_matrix((0, 4)))
    with pytest.raises(ValueError, match="tags is empty"):
        fu.untagged_share(np.zeros((0, 2)), np.array([], dtype=str))
    with pytest.raises(ValueError, match=r"fit_rows is empty.*split\['train'\]"):
        fu.tag_features(np.ones((3, 2)), weighting="tfidf", fit_rows=[])
    with pytest.raises(ValueError, match="fit_rows is empty"):
        fu.attribute_features(np.ones((3, 2)), fit_rows=np.array([], dtype=int))
    with pytest.raises(ValueError, match="genre ids are empty"):
        fu.genre_features(np.array([], dtype=int))


def test_wrong_kinds_of_arguments_are_refused():
    with pytest.raises(TypeError, match=r"attributes must be a dense array.*toarray"):
        fu.attribute_features(sp.csr_matrix(np.ones((3, 2))))
    with pytest.raises(TypeError, match="attributes must hold real numbers"):
        fu.attribute_features(np.array([["a", "b"]]))
    with pytest.raises(ValueError, match=r"fit_rows must be a 1-D array of integer"):
        fu.attribute_features(np.ones((3, 2)), fit_rows=[0.0, 1.0])
    with pytest.raises(ValueError, match=r"weighting must be one of 'tfidf', 'log', 'binary'"):
        fu.tag_features(np.ones((3, 2)), weighting=True)
    for bad in ("3", True, 2.0):
        with pytest.raises(TypeError, match="n_genres must be an integer"):
            fu.genre_features(np.array([0, 1]), n_genres=bad)
    with pytest.raises(ValueError, match="n_genres must be an integer >= 1"):
        fu.genre_features(np.array([0, 1]), n_genres=0)
    with pytest.raises(ValueError, match="1-D integer array"):
        fu.genre_features(np.array([True, False]))
    with pytest.raises(ValueError, match=r"negative counts.*how many times each tag"):
        fu.untagged_share(-np.ones((2, 2)), np.array(["head", "tail"]))
