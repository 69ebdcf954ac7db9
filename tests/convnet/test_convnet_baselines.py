"""Tests of course_lib.convnet.baselines: genre popularity, fold-in, nearest neighbours and the
cold-start table (chapter 04), and what they refuse (issue 17)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib import convnet as C


def test_genre_popularity_scores_are_each_users_genre_share() -> None:
    plays = sp.csr_matrix(np.array([[3, 1, 0, 0], [0, 0, 2, 2]]))
    genres = np.array([0, 1, 1, 0])
    got = C.genre_popularity_scores(plays, genres, np.array([2, 3]), seed=None)
    np.testing.assert_allclose(got, [[0.25, 0.75], [0.5, 0.5]])
    jittered = C.genre_popularity_scores(plays, genres, np.array([2, 3]), seed=1)
    np.testing.assert_allclose(jittered, got, atol=1e-6)
    assert jittered[1, 0] != jittered[1, 1]  # the tie is broken
    with pytest.raises(ValueError, match="one non-negative integer genre id per track"):
        C.genre_popularity_scores(plays, genres[:3], np.array([2, 3]))
    with pytest.raises(ValueError, match="one non-negative integer genre id per track"):
        C.genre_popularity_scores(plays, genres.astype(float), np.array([2, 3]))
    with pytest.raises(ValueError, match="candidates indexes rows 2..4"):
        C.genre_popularity_scores(plays, genres, np.array([2, 4]))


def test_fold_in_matches_the_textbook_item_update() -> None:
    from course_lib.als import user_update

    rng = np.random.default_rng(5)
    users = rng.normal(size=(30, 4))
    plays = sp.random(30, 6, density=0.3, random_state=5, format="csr") * 5
    plays.data = np.ceil(plays.data)
    got = C.fold_in_item_factors(users, plays, np.array([1, 4]), alpha=3.0, regularization=0.5)
    csc = plays.tocsc()
    for row, item in enumerate([1, 4]):
        col = csc[:, item]
        want = user_update(users, col.indices, col.data, 3.0, 0.5)
        np.testing.assert_allclose(got[row], want, rtol=1e-4, atol=1e-5)


def test_fold_in_refuses_mismatched_shapes_and_bad_settings(random_plays) -> None:
    plays = random_plays()  # 80 users x 60 items
    users = np.random.default_rng(0).normal(size=(80, 4))
    items = np.array([1, 5])
    with pytest.raises(ValueError, match="plays has 80 users .* user_factors has 79 rows"):
        C.fold_in_item_factors(users[:79], plays, items)
    with pytest.raises(ValueError, match="plays has 60 users .* user_factors has 80 rows"):
        C.fold_in_item_factors(users, plays.T.tocsr(), items)  # items x users: transposed
    with pytest.raises(ValueError, match="user_factors must be 2-D"):
        C.fold_in_item_factors(users[:, 0], plays, items)
    with pytest.raises(ValueError, match=r"user_factors contains NaN .*rows \[7\]"):
        bad = users.copy()
        bad[7, 2] = np.nan
        C.fold_in_item_factors(bad, plays, items)
    with pytest.raises(ValueError, match="items indexes rows 1..60 but there are only 60"):
        C.fold_in_item_factors(users, plays, np.array([1, 60]))
    with pytest.raises(ValueError, match="alpha must be a number >= 0"):
        C.fold_in_item_factors(users, plays, items, alpha=-1.0)
    with pytest.raises(TypeError, match="regularization must be a number"):
        C.fold_in_item_factors(users, plays, items, regularization="0.1")
    assert C.fold_in_item_factors(users, plays, items).shape == (2, 4)


def test_nearest_neighbour_copies_the_closest_training_track() -> None:
    features = np.array([[0.0], [10.0], [1.0], [8.0]])
    targets = np.array([[1.0, 0.0], [0.0, 2.0], [5.0, 5.0], [1.0, 1.0]])
    pred, nb = C.nearest_neighbour_factors(features, targets, np.array([0, 1]), np.array([2, 3]))
    assert nb.tolist() == [0, 1]
    np.testing.assert_allclose(pred, [[1.0, 0.0], [0.0, 1.0]])
    everyone = np.arange(4)
    _, nb = C.nearest_neighbour_factors(features, targets, everyone, everyone)
    assert nb.tolist() == [2, 3, 0, 1]  # never itself
    _, nb = C.nearest_neighbour_factors(features, targets, everyone, everyone, groups=[0, 1, 0, 1])
    assert nb.tolist() == [3, 2, 3, 2]  # never its own group
    with pytest.raises(ValueError, match="features has 4 rows but targets has 3"):
        C.nearest_neighbour_factors(features, targets[:3], everyone, everyone)
    with pytest.raises(ValueError, match="groups must hold one group id per track"):
        C.nearest_neighbour_factors(features, targets, everyone, everyone, groups=[0, 1])
    with pytest.raises(ValueError, match="no admissible neighbour"):
        C.nearest_neighbour_factors(features, targets, np.array([0]), np.array([0]))


def test_cold_start_table_ranks_a_perfect_scorer_first() -> None:
    rng = np.random.default_rng(6)
    new = np.array([3, 4, 5, 6, 7])
    is_new = np.isin(np.arange(8), new)[None]
    future = sp.csr_matrix(((rng.random((20, 8)) < 0.3) & is_new).astype(np.int32))
    plays = sp.csr_matrix(((rng.random((20, 8)) < 0.5) & ~is_new).astype(np.int32))
    truth = future[:, new].toarray().astype(float)
    table = C.cold_start_table({"perfect": truth, "reversed": -truth}, plays, future, new, k=2)
    assert table.loc["perfect", "ndcg@2"] == pytest.approx(1.0)
    assert table.loc["reversed", "ndcg@2"] < 1.0
    with pytest.raises(ValueError, match=r"plays \(20, 8\) and new_track_plays \(20, 7\)"):
        C.cold_start_table({"perfect": truth}, plays, future[:, :7], new, k=2)
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        C.cold_start_table({"perfect": truth}, plays, future, new, k=0)
