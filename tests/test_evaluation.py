"""Tests for course_lib.evaluation (chapter 01)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib.evaluation import (
    check_plays,
    confidence,
    item_knn_scores,
    popularity_curve,
    popularity_scores,
    preference,
    random_scores,
    ranking_metrics,
    split_plays,
    top_k_items,
)


def random_plays(n_users: int = 80, n_items: int = 60, density: float = 0.15, seed: int = 0):
    rng = np.random.default_rng(seed)
    dense = (rng.random((n_users, n_items)) < density) * rng.integers(1, 9, (n_users, n_items))
    return sp.csr_matrix(dense.astype(np.int32))


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


# ---------------------------------------------------------------------------------------------
# check_plays, preference, confidence
# ---------------------------------------------------------------------------------------------
def test_check_plays_accepts_coo_and_dense_and_keeps_input():
    plays = random_plays()
    coo = plays.tocoo()
    before = coo.data.copy()
    assert (check_plays(coo) != plays).nnz == 0
    assert (check_plays(plays.toarray()) != plays).nnz == 0
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
def test_check_plays_rejects_bad_input(bad, error, words):
    with pytest.raises(error, match=words):
        check_plays(bad)


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


def test_popularity_curve_is_sorted_and_reaches_one():
    counts, share = popularity_curve(random_plays())
    assert np.all(np.diff(counts) <= 0)
    assert share[-1] == pytest.approx(1.0)
    assert np.all(np.diff(share) >= -1e-12)


# ---------------------------------------------------------------------------------------------
# split_plays
# ---------------------------------------------------------------------------------------------
def test_split_partitions_plays_per_user():
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


def test_split_is_seeded():
    plays = random_plays()
    _a_train, a_test = split_plays(plays, seed=1)
    _b_train, b_test = split_plays(plays, seed=1)
    _c_train, c_test = split_plays(plays, seed=2)
    assert (a_test != b_test).nnz == 0
    assert (a_test != c_test).nnz > 0
    with pytest.raises(ValueError, match="test_fraction"):
        split_plays(plays, test_fraction=1.5)


# ---------------------------------------------------------------------------------------------
# ranking_metrics
# ---------------------------------------------------------------------------------------------
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


def test_perfect_scores_give_ndcg_one_and_training_items_are_never_recommended():
    plays = random_plays(seed=4)
    train, test = split_plays(plays, seed=0)
    oracle = test.toarray().astype(float) + 100.0 * train.toarray()  # training items score high
    m = ranking_metrics(oracle, train, test, k=5)
    assert m["ndcg"] == pytest.approx(1.0)
    assert m["map"] == pytest.approx(1.0)


def test_factor_tuple_dense_and_callable_agree_across_batch_sizes():
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


def test_metrics_reject_wrong_shapes():
    plays = random_plays()
    train, test = split_plays(plays)
    with pytest.raises(ValueError, match="shape"):
        ranking_metrics(np.zeros((3, 3)), train, test)
    with pytest.raises(ValueError, match="same shape"):
        ranking_metrics(np.zeros(plays.shape), train, test[:, :-1])
    with pytest.raises(ValueError, match="k must"):
        ranking_metrics(np.zeros(plays.shape), train, test, k=0)


def test_top_k_items_orders_best_first_and_excludes():
    scores = np.array([[0.1, 0.9, 0.5, 0.7]])
    exclude = sp.csr_matrix(np.array([[0, 1, 0, 0]]))
    np.testing.assert_array_equal(top_k_items(scores.copy(), 2), [[1, 3]])
    np.testing.assert_array_equal(top_k_items(scores.copy(), 2, exclude=exclude), [[3, 2]])


# ---------------------------------------------------------------------------------------------
# Baselines
# ---------------------------------------------------------------------------------------------
def test_popularity_baseline_ranks_by_number_of_users():
    train = sp.csr_matrix(np.array([[1, 5, 0, 0], [1, 0, 0, 0], [1, 0, 2, 0]]))
    user_factors, item_factors = popularity_scores(train)
    order = np.argsort(-(user_factors[0] @ item_factors.T), kind="stable")
    np.testing.assert_array_equal(order[:1], [0])  # item 0: three users (item 1: more plays)


def test_random_baseline_is_seeded_and_batch_independent():
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


# ---------------------------------------------------------------------------------------------
# Exercise checks of chapter 01
# ---------------------------------------------------------------------------------------------
def _stub(*args):
    raise NotImplementedError("write me")


def _said(capsys) -> str:
    """What the checks printed, with line wrapping undone."""
    return " ".join(capsys.readouterr().out.split())


def test_check_head_share(capsys):
    from course_lib.checks_als import check_head_share

    def right(plays, head_fraction):
        _, share = popularity_curve(plays)
        return share[int(np.ceil(head_fraction * plays.shape[1])) - 1]

    def by_users(plays, head_fraction):
        users = np.sort(np.diff(plays.tocsc().indptr))[::-1]
        return users[: int(np.ceil(head_fraction * plays.shape[1]))].sum() / users.sum()

    assert check_head_share(_stub).status == "not implemented"
    assert "not implemented yet" in _said(capsys).lower()
    assert check_head_share(right).passed
    assert not check_head_share(by_users).passed
    assert "how many users" in _said(capsys)


def test_check_ndcg_at_k(capsys):
    from course_lib.checks_als import check_ndcg_at_k

    def right(ranked, relevant, k):
        gains = np.isin(ranked[:k], relevant) / np.log2(np.arange(2, k + 2))
        ideal = 1 / np.log2(np.arange(2, min(k, len(relevant)) + 2))
        return gains.sum() / ideal.sum()

    def dcg_only(ranked, relevant, k):
        return (np.isin(ranked[:k], relevant) / np.log2(np.arange(2, k + 2))).sum()

    assert check_ndcg_at_k(_stub).status == "not implemented"
    assert check_ndcg_at_k(right).passed
    assert not check_ndcg_at_k(dcg_only).passed
    assert "without dividing" in _said(capsys)
