"""course_lib.feedback_loop.loop (chapter 08, section 9): the loop, exploration and MMR."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib.feedback_loop import explore, mmr_rerank, run_feedback_loop


@pytest.fixture
def svd_fit():
    """A tiny stand-in recommender: truncated SVD of log(1 + plays), 4 factors."""
    from scipy.sparse.linalg import svds

    def fit(plays, factors=4):
        m = sp.csr_matrix(plays, dtype=np.float64)
        m.data = np.log1p(m.data)
        u, s, vt = svds(m, k=factors, random_state=0)
        return u * s, vt.T

    return fit


@pytest.fixture
def toy_world():
    """``(plays, play_probability, genre_ids)``: 120 users with one favourite of 4 genres, 80
    tracks with Pareto popularity."""
    rng = np.random.default_rng(0)
    n_users, n_items, n_genres = 120, 80, 4
    genres = np.arange(n_items) % n_genres
    user_genre = rng.integers(n_genres, size=n_users)
    popularity = rng.pareto(1.5, n_items) + 0.1
    p = (
        0.05
        + 0.4 * (genres[None, :] == user_genre[:, None]) * 0.8
        + 0.1 * popularity / popularity.max()
    )
    plays = sp.csr_matrix((rng.random((n_users, n_items)) < p * 0.3).astype(np.float32))
    return plays, np.clip(p, 0, 1), genres


def test_mmr_prefers_dissimilar_items_and_reduces_to_top_k():
    scores = np.array([[1.0, 0.99, 0.98, 0.5]])
    vectors = np.array([[1.0, 0.0], [1.0, 0.01], [0.99, 0.0], [0.0, 1.0]])
    np.testing.assert_array_equal(
        mmr_rerank(scores, vectors, k=2, trade_off=1.0, n_candidates=4), [[0, 1]]
    )
    np.testing.assert_array_equal(
        mmr_rerank(scores, vectors, k=2, trade_off=0.5, n_candidates=4), [[0, 3]]
    )
    exclude = sp.csr_matrix(np.array([[1, 0, 0, 0]]))
    out = mmr_rerank(scores, vectors, k=2, trade_off=0.5, n_candidates=3, exclude=exclude)
    assert 0 not in out and len(set(out[0])) == 2
    assert scores[0, 0] == 1.0  # the caller's scores are not modified


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"trade_off": "0.5"}, TypeError, "trade_off must be a number"),
        ({"trade_off": 1.5}, ValueError, "trade_off must be a number <= 1"),
        ({"k": 2.0}, TypeError, "k must be an integer"),
        ({"k": 5}, ValueError, "need 1 <= k <= n_candidates <= n_items"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"scores": np.array([1.0, 0.5, 0.2, 0.1])}, ValueError, "scores must be a"),
        ({"scores": np.array([[1.0, np.nan, 0.2, 0.1]])}, ValueError, "scores contain NaN"),
        ({"item_vectors": np.ones((3, 2))}, ValueError, "item_vectors has 3 rows"),
        ({"item_vectors": np.full((4, 2), np.nan)}, ValueError, "item_vectors contains NaN"),
    ],
)
def test_mmr_rerank_refuses_bad_input(kwargs, error, message):
    arguments = {
        "scores": np.array([[1.0, 0.99, 0.98, 0.5]]),
        "item_vectors": np.eye(4)[:, :2] + 0.1,
        "k": 2,
        "n_candidates": 4,
        **kwargs,
    }
    with pytest.raises(error, match=message):
        mmr_rerank(**arguments)


def test_explore_replaces_about_epsilon_of_slots_without_duplicates():
    recs = np.tile(np.arange(10), (500, 1))
    out = explore(recs, n_items=1000, epsilon=0.3, seed=0)
    changed = (out != recs).mean()
    assert 0.25 < changed < 0.35
    assert all(len(set(row)) == 10 for row in out)
    np.testing.assert_array_equal(explore(recs, 1000, 0.0, seed=0), recs)
    small = explore(np.tile(np.arange(3), (200, 1)), n_items=4, epsilon=1.0, seed=1)
    assert all(len(set(row)) == 3 for row in small)


def test_explore_refuses_bad_rates_seeds_and_exclusions():
    recs = np.tile(np.arange(3), (4, 1))
    with pytest.raises(TypeError, match="epsilon must be a number"):
        explore(recs, 10, epsilon="0.2")
    with pytest.raises(ValueError, match="epsilon must be a finite number"):
        explore(recs, 10, epsilon=np.nan)
    with pytest.raises(ValueError, match="seed"):
        explore(recs, 10, epsilon=0.2, seed=-3)
    with pytest.raises(ValueError, match=r"exclude has shape \(4, 9\)"):
        explore(recs, 10, epsilon=0.2, exclude=sp.csr_matrix((4, 9)))


def test_feedback_loop_runs_and_exploration_raises_coverage(toy_world, svd_fit):
    plays, p, genres = toy_world
    out = {
        s: run_feedback_loop(plays, p, svd_fit, genres, n_rounds=3, k=5, strategy=s, seed=0)
        for s in ("plain", "explore", "mmr")
    }
    for df in out.values():
        assert list(df["round"]) == [1, 2, 3]
        assert ((df.coverage > 0) & (df.coverage <= 1)).all()
        assert ((df.play_rate >= 0) & (df.play_rate <= 1)).all()
    assert out["explore"].coverage.mean() > out["plain"].coverage.mean()
    assert out["explore"].gini.mean() < out["plain"].gini.mean()
    plays_before = plays.copy()
    run_feedback_loop(plays, p, svd_fit, genres, n_rounds=1, k=5)
    assert (plays != plays_before).nnz == 0  # the input is not modified
    with pytest.raises(ValueError, match="strategy"):
        run_feedback_loop(plays, p, svd_fit, genres, strategy="bubble")


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"play_probability": "nan"}, ValueError, "play_probability contains NaN"),
        ({"play_probability": "scaled"}, ValueError, r"probabilities in \[0, 1\]"),
        ({"play_probability": "narrow"}, ValueError, "play_probability has shape"),
        ({"genre_ids": "short"}, ValueError, "genre_ids must be 80 integer ids"),
        ({"k": 0}, ValueError, "k must be an integer >= 1"),
        ({"k": 81}, ValueError, "k must be between 1 and the 80 items"),
        ({"n_rounds": "3"}, TypeError, "n_rounds must be an integer"),
        ({"epsilon": 2.0}, ValueError, "epsilon must be a number <= 1"),
        ({"strategy": "mmr", "n_candidates": 3}, ValueError, "n_candidates \\(3\\) must be >= k"),
        ({"exclude_played": "no"}, TypeError, "exclude_played must be True or False"),
        ({"fit": "als"}, TypeError, "fit must be a function"),
    ],
)
def test_feedback_loop_refuses_bad_input_before_fitting(toy_world, change, error, message):
    plays, p, genres = toy_world
    fitted = []

    def fit(matrix):  # records that it was called: a bad argument must stop the loop before
        fitted.append(matrix)
        return np.ones((120, 2)), np.ones((80, 2))

    variants = {
        "nan": np.where(p > 0.4, np.nan, p),
        "scaled": p * 10,
        "narrow": p[:, :40],
        "short": genres[:40],
    }
    arguments = {"plays": plays, "play_probability": p, "fit": fit, "genre_ids": genres, "k": 5}
    arguments.update({key: variants.get(value, value) for key, value in change.items()})
    with pytest.raises(error, match=message):
        run_feedback_loop(**arguments)
    assert fitted == []


@pytest.mark.parametrize(
    ("factors", "error", "message"),
    [
        ((np.ones((120, 2)),), TypeError, r"in round 1, fit\(plays\) must return"),
        ((np.ones((120, 2)), np.ones((79, 2))), ValueError, "120 user and 79 item rows"),
        ((np.ones((120, 2)), np.ones((80, 3))), ValueError, "2 user factors but 3 item"),
        ((np.full((120, 2), np.nan), np.ones((80, 2))), ValueError, "user_factors contains NaN"),
    ],
)
def test_feedback_loop_names_the_round_when_fit_returns_bad_factors(
    toy_world, factors, error, message
):
    plays, p, genres = toy_world
    with pytest.raises(error, match=message):
        run_feedback_loop(plays, p, lambda matrix: factors, genres, n_rounds=2, k=5)
