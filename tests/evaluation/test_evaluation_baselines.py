"""Tests of course_lib.evaluation.baselines (chapter 01): random, most popular, item kNN."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib.evaluation import (
    item_knn_scores,
    popularity_scores,
    random_scores,
    ranking_metrics,
    split_plays,
)


def block_plays(n_users: int = 120, n_items: int = 90, n_groups: int = 3, seed: int = 0):
    """Users of group g play mostly items of group g: structure a recommender can find."""
    rng = np.random.default_rng(seed)
    user_group = np.arange(n_users) % n_groups
    item_group = np.arange(n_items) % n_groups
    same = user_group[:, None] == item_group[None, :]
    popularity = rng.permutation(np.linspace(1.0, 0.05, n_items))  # a few items are hits
    prob = np.where(same, 0.6, 0.08) * popularity[None, :]
    dense = (rng.random((n_users, n_items)) < prob) * rng.integers(1, 5, (n_users, n_items))
    return sp.csr_matrix(dense.astype(np.int32))


def test_popularity_baseline_ranks_by_number_of_users():
    train = sp.csr_matrix(np.array([[1, 5, 0, 0], [1, 0, 0, 0], [1, 0, 2, 0]]))
    user_factors, item_factors = popularity_scores(train)
    order = np.argsort(-(user_factors[0] @ item_factors.T), kind="stable")
    np.testing.assert_array_equal(order[:1], [0])  # item 0: three users (item 1: more plays)


def test_random_baseline_is_seeded_and_batch_independent(random_plays):
    plays = random_plays()
    scorer = random_scores(plays, seed=3)
    users = np.arange(10)
    np.testing.assert_array_equal(scorer(users)[4], scorer(np.array([4]))[0])
    assert not np.allclose(scorer(users), random_scores(plays, seed=4)(users))


def test_knn_and_popularity_beat_random_on_structured_data():
    plays = block_plays()
    train, test = split_plays(plays, seed=0)
    ndcg = {
        name: ranking_metrics(scores, train, test, k=10)["ndcg"]
        for name, scores in {
            "random": random_scores(train, seed=0),
            "popular": popularity_scores(train),
            "knn": item_knn_scores(train, n_neighbours=20),
        }.items()
    }
    assert ndcg["knn"] > ndcg["random"] + 0.1
    assert ndcg["popular"] > ndcg["random"]


def test_knn_similarity_is_cosine():
    train = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 1], [1, 1, 0]]))
    scores = item_knn_scores(train, n_neighbours=None)(np.array([1]))  # user 1 played 0 and 2
    # item 1 scored by sim(0, 1) + sim(2, 1) = 2 / sqrt(3 * 2) + 0
    assert scores[0, 1] == pytest.approx(2 / np.sqrt(6))


def test_knn_keeps_only_the_nearest_neighbours():
    # item 2: sim(2, 0) = 1 / sqrt(3 * 3), sim(2, 3) = 2 / sqrt(3 * 2): its nearest is item 3
    train = sp.csr_matrix(
        np.array([[1, 1, 0, 0], [1, 1, 0, 0], [1, 0, 1, 0], [0, 0, 1, 1], [0, 0, 1, 1]])
    )
    everyone = item_knn_scores(train, n_neighbours=None)(np.array([0]))  # user 0 played 0, 1
    one = item_knn_scores(train, n_neighbours=1)(np.array([0]))
    assert everyone[0, 2] == pytest.approx(1 / 3)
    assert one[0, 2] == 0.0  # item 2 keeps only item 3, which user 0 never played


@pytest.mark.parametrize(
    "make, error, words",
    [
        (lambda t: item_knn_scores(t, n_neighbours="100"), TypeError, "n_neighbours must be an"),
        (lambda t: item_knn_scores(t, n_neighbours=2.5), TypeError, "n_neighbours must be an"),
        (lambda t: item_knn_scores(t, n_neighbours=0), ValueError, "n_neighbours must be an"),
        (lambda t: random_scores(t, seed="1"), TypeError, "seed must be an integer"),
        (lambda t: random_scores(t, seed=-2), ValueError, "seed must be an integer >= 0"),
        (lambda t: popularity_scores(t.toarray().tolist()), TypeError, "train must be a scipy"),
    ],
)
def test_baselines_refuse_bad_arguments(random_plays, make, error, words):
    with pytest.raises(error, match=words):
        make(random_plays())
