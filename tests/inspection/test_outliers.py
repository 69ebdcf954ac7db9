"""Tests of course_lib.inspection.outliers (chapter 05, sections 6 and 7)."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import inspection as ins


def test_outlier_share_counts_each_list_equally():
    a = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    outlier = np.zeros(11, bool)
    outlier[[2, 9]] = True
    assert ins.outlier_share(a, outlier) == pytest.approx(0.125)
    assert ins.outlier_share([[2, 9], [1, 3, 4, 5]], outlier) == pytest.approx(0.5)
    assert ins.outlier_share([[2, 9], [1, 3, 4, 5]], outlier.astype(int)) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="track indices"):
        ins.outlier_share([[20]], outlier)
    with pytest.raises(ValueError, match="no lists"):
        ins.outlier_share([], outlier)


def test_outlier_flags_must_be_one_boolean_per_track():
    lists = [[0, 1]]
    for flags in (np.array([0.0, np.nan, 1.0]), np.array([0, 2, 1]), np.zeros((3, 1), bool)):
        with pytest.raises(ValueError, match="is_outlier must be one boolean flag per track"):
            ins.outlier_share(lists, flags)


def test_album_outlier_rule_finds_the_odd_track_out():
    rng = np.random.default_rng(6)
    album = np.repeat(np.arange(20), 6)
    centres = rng.normal(size=(20, 8))
    features = centres[album] + rng.normal(0, 0.3, size=(120, 8))
    odd = np.arange(0, 120, 6)[:8]  # the first track of 8 albums sounds like nothing else
    features[odd] = -centres[album[odd]] + rng.normal(0, 0.3, size=(8, 8))
    scores = ins.album_outlier_scores(features, album)
    flags = ins.flag_outliers(scores, z=3.0)
    assert set(np.argsort(-scores)[:8]) == set(odd)  # the odd tracks score highest
    assert flags[odd].all() and flags.sum() <= 16  # all found, at least half of the flags right
    lonely = ins.album_outlier_scores(features[:7], album[:7])
    assert np.isnan(lonely[6]) and not ins.flag_outliers(lonely)[6]


def test_outlier_scores_refuse_nan_features_and_bad_thresholds():
    features = np.random.default_rng(7).normal(size=(12, 4))
    album = np.repeat(np.arange(3), 4)
    features[5, 0] = np.inf
    with pytest.raises(ValueError, match=r"features contains NaN or infinite values \(rows \[5\]"):
        ins.album_outlier_scores(features, album)
    with pytest.raises(ValueError, match=r"album_ids \(n_tracks,\)"):
        ins.album_outlier_scores(features[:4], album)
    scores = np.arange(10.0)
    with pytest.raises(TypeError, match="z must be a number"):
        ins.flag_outliers(scores, z="3")
    with pytest.raises(ValueError, match="z must be a finite number"):
        ins.flag_outliers(scores, z=np.nan)
    with pytest.raises(ValueError, match="no finite scores"):
        ins.flag_outliers(np.full(4, np.nan))
    with pytest.raises(ValueError, match="zero spread"):
        ins.flag_outliers(np.ones(4))
    with pytest.raises(ValueError, match="scores must be 1-D"):
        ins.flag_outliers(np.ones((4, 2)))
