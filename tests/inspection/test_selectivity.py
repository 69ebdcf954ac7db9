"""Tests of course_lib.inspection.selectivity (chapter 05, section 4)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import mutual_info_score

from course_lib import inspection as ins


def test_genre_purity_chance_and_dead_filters():
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(4), 50)
    scores = rng.random((200, 3)) + 0.1
    scores[labels == 2, 0] += 5.0  # filter 0 loves genre 2
    scores[:, 2] = 0.0
    scores[:5, 2] = 1.0  # filter 2 fires on only 5 tracks: no top-20 playlist
    purity = ins.genre_purity(scores, labels, top_k=20)
    assert purity[0] == 1.0
    assert purity[1] < 0.7
    assert np.isnan(purity[2])
    chance = ins.chance_purity(np.repeat([0, 1], 1000), top_k=2, n_draws=4000, seed=0)
    assert abs(chance - 0.75) < 0.02  # two equal genres, two tracks: same genre half the time
    assert ins.chance_purity(labels, 20) < 0.5


def test_mutual_information_agrees_with_sklearn():
    rng = np.random.default_rng(2)
    labels = rng.permutation(np.repeat(np.arange(4), 100))
    scores = np.stack([labels + rng.normal(0, 0.05, 400), rng.random(400)], axis=1)
    mi = ins.label_mutual_information(scores, labels, n_bins=4)
    entropy = -np.sum(np.bincount(labels) / 400 * np.log2(np.bincount(labels) / 400))
    assert mi[0] == pytest.approx(entropy, abs=1e-9)  # the activation reveals the label
    assert mi[1] < 0.1
    bins = np.searchsorted(np.quantile(scores[:, 1], [0.25, 0.5, 0.75]), scores[:, 1], "right")
    assert mi[1] == pytest.approx(mutual_info_score(labels, bins) / np.log(2), rel=1e-9)


def test_attribute_selectivity_and_most_selective_filter():
    rng = np.random.default_rng(3)
    attribute = rng.normal(size=100)
    scores = rng.random((100, 4))
    scores[:, 1] += 10  # loud but indifferent
    scores[np.argsort(attribute)[-10:], 3] += 2  # picky
    z = ins.attribute_selectivity(scores, attribute, top_k=10)
    assert np.argmax(z) == 3 and z[3] > 1.5
    assert ins.most_selective_filter(scores, attribute, 10) == 3
    with pytest.raises(ValueError, match="constant"):
        ins.attribute_selectivity(scores, np.ones(100), 10)


def test_top_k_larger_than_the_tracks_is_refused_everywhere():
    scores = np.random.default_rng(4).random((30, 3))
    labels = np.arange(30) % 3
    for call in (
        lambda: ins.genre_purity(scores, labels, top_k=31),
        lambda: ins.chance_purity(labels, top_k=31),
        lambda: ins.attribute_selectivity(scores, labels.astype(float), top_k=31),
        lambda: ins.most_selective_filter(scores, labels.astype(float), top_k=31),
    ):
        with pytest.raises(ValueError, match="top_k=31 is larger than the 30 tracks .*top_k=30"):
            call()
    with pytest.raises(ValueError, match="top_k must be an integer >= 1"):
        ins.genre_purity(scores, labels, top_k=0)
    with pytest.raises(TypeError, match="n_draws must be an integer"):
        ins.chance_purity(labels, 5, n_draws=10.5)
    with pytest.raises(ValueError, match="n_bins must be an integer >= 2"):
        ins.label_mutual_information(scores, labels, n_bins=1)


def test_nan_activations_and_attributes_are_refused():
    rng = np.random.default_rng(5)
    scores = rng.random((30, 3))
    attribute = rng.normal(size=30)
    broken = scores.copy()
    broken[7, 1] = np.nan
    for call in (
        lambda: ins.genre_purity(broken, np.arange(30) % 3, 5),
        lambda: ins.label_mutual_information(broken, np.arange(30) % 3),
        lambda: ins.most_selective_filter(broken, attribute, 5),
    ):
        with pytest.raises(ValueError, match=r"activations contain NaN .*tracks \[7\]"):
            call()
    attribute[4] = np.nan
    with pytest.raises(ValueError, match=r"attribute contains NaN .*tracks \[4\].*drop"):
        ins.attribute_selectivity(scores, attribute, 5)


def test_labels_of_the_wrong_length_or_kind_are_refused():
    scores = np.random.default_rng(6).random((30, 3))
    with pytest.raises(ValueError, match=r"labels must be 1-D with one entry per track \(30\)"):
        ins.genre_purity(scores, np.zeros(29), 5)
    with pytest.raises(ValueError, match="labels must be 1-D"):
        ins.chance_purity(np.zeros((5, 2)), 2)
    with pytest.raises(TypeError, match="attribute must hold numbers"):
        ins.attribute_selectivity(scores, np.array(["rock"] * 30), 5)
    with pytest.raises(ValueError, match="every filter is silent"):
        ins.most_selective_filter(np.zeros((30, 3)), np.arange(30.0), 5)
