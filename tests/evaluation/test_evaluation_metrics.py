"""Tests of course_lib.evaluation.metrics (chapter 01): top-k lists and ranking metrics."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib.evaluation import ranking_metrics, split_plays, top_k_items


def test_metrics_by_hand():
    # 3 users x 5 items. User 0 trains on item 0, tests on items 1 and 3. User 1 has no test
    # items (skipped). User 2 trains on 4, tests on 2.
    train = sp.csr_matrix(np.array([[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 0, 0, 1]]))
    test = sp.csr_matrix(np.array([[0, 1, 0, 1, 0], [0, 0, 0, 0, 0], [0, 0, 1, 0, 0]]))
    scores = np.array(
        [
            [9.0, 8.0, 7.0, 1.0, 0.0],  # ranks (item 0 excluded): 1, 2, 4, 3 -> hit, miss
            [0.0, 0.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 2.0, 3.0, 9.0],  # item 4 excluded: 3, 2 -> miss, hit
        ]
    )
    m = ranking_metrics(scores, train, test, k=2)
    assert m["n_users_evaluated"] == 2 and m["n_users_skipped"] == 1
    assert m["precision"] == pytest.approx((1 / 2 + 1 / 2) / 2)
    assert m["recall"] == pytest.approx((1 / 2 + 1) / 2)
    ndcg0 = 1.0 / (1.0 + 1 / np.log2(3))
    ndcg2 = (1 / np.log2(3)) / 1.0
    assert m["ndcg"] == pytest.approx((ndcg0 + ndcg2) / 2)
    assert m["map"] == pytest.approx((1.0 / 2 + 0.5 / 1) / 2)
    assert m["coverage"] == pytest.approx(3 / 5)  # items 1, 2, 3 were recommended
    # popularity in train: items 0, 1, 4 have one user each; head = top 1 item (stable: item 0)
    assert m["long_tail_share"] == pytest.approx(1.0)


def test_perfect_scores_give_ndcg_one_and_training_items_are_never_recommended(random_plays):
    plays = random_plays(seed=4)
    train, test = split_plays(plays, seed=0)
    oracle = test.toarray().astype(float) + 100.0 * train.toarray()  # training items score high
    m = ranking_metrics(oracle, train, test, k=5)
    assert m["ndcg"] == pytest.approx(1.0)
    assert m["map"] == pytest.approx(1.0)


def test_factor_tuple_dense_and_callable_agree_across_batch_sizes(random_plays):
    plays = random_plays(seed=5)
    train, test = split_plays(plays, seed=0)
    rng = np.random.default_rng(0)
    user_factors = rng.normal(size=(plays.shape[0], 4))
    item_factors = rng.normal(size=(plays.shape[1], 4))
    dense = user_factors @ item_factors.T
    a = ranking_metrics(dense, train, test, k=7)
    b = ranking_metrics((user_factors, item_factors), train, test, k=7, batch_size=3)
    c = ranking_metrics(lambda users: dense[users], train, test, k=7, batch_size=11)
    for key in ("precision", "recall", "ndcg", "map", "coverage", "long_tail_share"):
        assert a[key] == pytest.approx(b[key]) == pytest.approx(c[key])


def test_metrics_reject_wrong_shapes(random_plays):
    plays = random_plays()
    train, test = split_plays(plays)
    with pytest.raises(ValueError, match="shape"):
        ranking_metrics(np.zeros((3, 3)), train, test)
    with pytest.raises(ValueError, match="same shape"):
        ranking_metrics(np.zeros(plays.shape), train, test[:, :-1])
    with pytest.raises(ValueError, match="k must"):
        ranking_metrics(np.zeros(plays.shape), train, test, k=0)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"k": "10"}, TypeError, "k must be an integer, got '10'"),
        ({"k": 2.5}, TypeError, "k must be an integer"),
        ({"k": True}, TypeError, "k must be an integer"),
        ({"head_fraction": "0.2"}, TypeError, r"head_fraction=float\('0.2'\)"),
        ({"head_fraction": float("nan")}, ValueError, "head_fraction must be a finite"),
        ({"head_fraction": 1.0}, ValueError, "tail would be empty"),
        ({"batch_size": 0}, ValueError, "batch_size must be an integer >= 1"),
        ({"batch_size": 100.0}, TypeError, "batch_size must be an integer"),
    ],
)
def test_metrics_refuse_strings_bools_and_nan_arguments(random_plays, kwargs, error, words):
    plays = random_plays()
    train, test = split_plays(plays)
    with pytest.raises(error, match=words):
        ranking_metrics(np.zeros(plays.shape), train, test, **kwargs)


def test_metrics_refuse_nan_scores_and_bad_factors(random_plays):
    plays = random_plays()
    train, test = split_plays(plays)
    scores = np.random.default_rng(0).random(plays.shape)
    scores[7, 3] = np.nan
    with pytest.raises(ValueError, match=r"users \[7\] contain NaN.*refit") as info:
        ranking_metrics(scores, train, test)
    assert "diverged" in str(info.value)
    with pytest.raises(ValueError, match="contain NaN"):
        ranking_metrics(lambda users: scores[users], train, test)
    user_factors = np.ones((plays.shape[0], 2))
    user_factors[4, 1] = np.nan
    item_factors = np.ones((plays.shape[1], 2))
    with pytest.raises(ValueError, match=r"user_factors contains NaN or infinite values \(rows"):
        ranking_metrics((user_factors, item_factors), train, test)
    with pytest.raises(ValueError, match="item_factors has 3 columns but 2 are expected"):
        ranking_metrics((np.ones((plays.shape[0], 2)), np.ones((plays.shape[1], 3))), train, test)
    with pytest.raises(TypeError, match=r"\(user_factors, item_factors\), got 3 elements"):
        ranking_metrics((user_factors, item_factors, item_factors), train, test)
    with pytest.raises(TypeError, match="scores must be real numbers"):
        ranking_metrics(scores.astype(str), train, test)
    with pytest.raises(TypeError, match="not real numbers"):
        ranking_metrics(lambda users: scores[users].astype(str), train, test)


def test_metrics_refuse_empty_matrices_and_warn_when_nobody_is_evaluated():
    empty = sp.csr_matrix((0, 4))
    with pytest.raises(ValueError, match="no users") as info:
        ranking_metrics(np.zeros((0, 4)), empty, empty)
    assert "nothing to rank" in str(info.value)
    with pytest.raises(ValueError, match="no items"):
        ranking_metrics(np.zeros((3, 0)), sp.csr_matrix((3, 0)), sp.csr_matrix((3, 0)))
    train = sp.csr_matrix(np.eye(3))
    with pytest.warns(RuntimeWarning, match="no user has a test item.*swap train and test"):
        m = ranking_metrics(np.zeros((3, 3)), train, sp.csr_matrix((3, 3)))
    assert np.isnan(m["ndcg"]) and m["n_users_evaluated"] == 0


def test_top_k_items_orders_best_first_and_excludes():
    scores = np.array([[0.1, 0.9, 0.5, 0.7]])
    exclude = sp.csr_matrix(np.array([[0, 1, 0, 0]]))
    np.testing.assert_array_equal(top_k_items(scores.copy(), 2), [[1, 3]])
    np.testing.assert_array_equal(top_k_items(scores.copy(), 2, exclude=exclude), [[3, 2]])
    np.testing.assert_array_equal(top_k_items(scores.copy(), 10), [[1, 3, 2, 0]])  # k > n_items


@pytest.mark.parametrize(
    "scores, k, exclude, error, words",
    [
        (np.ones((2, 3)), "2", None, TypeError, "k must be an integer"),
        (np.ones((2, 3)), 0, None, ValueError, "k must be an integer >= 1"),
        (np.ones(3), 2, None, ValueError, r"scores\[None, :\]"),
        (np.ones((2, 0)), 2, None, ValueError, "at least one item"),
        (np.array([[1.0, np.nan]]), 1, None, ValueError, r"NaN \(rows \[0\]\)"),
        (np.array([["a", "b"]]), 1, None, TypeError, "real numbers"),
        (np.ones((2, 3)), 1, sp.csr_matrix((1, 3)), ValueError, "exclude has shape"),
    ],
)
def test_top_k_items_refuses_bad_input(scores, k, exclude, error, words):
    with pytest.raises(error, match=words):
        top_k_items(scores, k, exclude=exclude)


# --------------------------------------------------------------------------- mixed-up halves
def test_metrics_refuse_halves_that_share_entries(random_plays):
    plays = random_plays(seed=5)
    train, test = split_plays(plays, seed=0)
    scores = np.random.default_rng(0).random(plays.shape)
    # all plays passed as train: every test item is excluded, every metric would be 0
    with pytest.raises(ValueError, match=rf"share {test.nnz} \(user, item\) entries.*split_plays"):
        ranking_metrics(scores, plays, test)
    # a test that overlaps train in a single entry
    user, item = train.nonzero()[0][0], train.nonzero()[1][0]
    leaky = test.tolil()
    leaky[user, item] = 1
    with pytest.raises(ValueError, match=rf"share 1 \(user, item\) entries.*users \[{user}\]"):
        ranking_metrics(scores, train, leaky.tocsr())


def test_metrics_warn_when_train_and_test_look_swapped(random_plays):
    plays = random_plays(seed=5)
    train, test = split_plays(plays, test_fraction=0.2, seed=0)
    scores = np.random.default_rng(0).random(plays.shape)
    with pytest.warns(RuntimeWarning, match="did you swap them"):
        ranking_metrics(scores, test, train)
    # the right order, and a cold-start evaluation whose train half is empty, are quiet
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        ranking_metrics(scores, train, test)
        ranking_metrics(scores, sp.csr_matrix(plays.shape, dtype=np.int32), plays)


def test_top_k_items_ranks_integer_scores_with_exclusions():
    scores = np.array([[3, 9, 1, 7], [0, 0, 5, 2]], dtype=np.int64)
    played = sp.csr_matrix(np.array([[0, 1, 0, 0], [0, 0, 1, 0]]))
    np.testing.assert_array_equal(top_k_items(scores, 2, exclude=played), [[3, 0], [3, 0]])
    np.testing.assert_array_equal(scores, [[3, 9, 1, 7], [0, 0, 5, 2]])  # left as it was
    booleans = np.array([[False, True, True]])
    assert top_k_items(booleans, 1, exclude=sp.csr_matrix([[0, 1, 0]]))[0, 0] == 2
