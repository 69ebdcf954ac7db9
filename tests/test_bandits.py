"""Tests of course_lib.bandits and course_lib.feedback_loop (chapter 08)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib.bandits import (
    EpsilonGreedy,
    LinearBandit,
    LinearThompson,
    LinUCB,
    UniformRandom,
    because_you_played,
    genre_mix,
    simulate_bandit,
)
from course_lib.feedback_loop import (
    catalogue_coverage,
    explore,
    exposure_counts,
    genres_per_user,
    gini,
    mmr_rerank,
    run_feedback_loop,
)


def _linear_problem(seed=0, n_users=200, n_arms=8, d=4):
    """Rewards linear in the context: p(u, k) = clip(x_u . theta_k)."""
    rng = np.random.default_rng(seed)
    contexts = np.hstack([rng.dirichlet(np.ones(d - 1), n_users), np.ones((n_users, 1))])
    theta = rng.uniform(0, 0.6, (n_arms, d))
    return contexts, np.clip(contexts @ theta.T, 0, 1)


def test_sherman_morrison_keeps_the_exact_inverse():
    rng = np.random.default_rng(0)
    bandit = LinearBandit(n_arms=2, n_features=3, regularization=0.5)
    xs = rng.normal(size=(20, 3))
    for x in xs:
        bandit.update(1, x, 1.0)
    np.testing.assert_allclose(bandit.A_inv[1], np.linalg.inv(0.5 * np.eye(3) + xs.T @ xs))
    np.testing.assert_allclose(bandit.A_inv[0], np.eye(3) / 0.5)
    np.testing.assert_allclose(
        bandit.theta[1], np.linalg.solve(0.5 * np.eye(3) + xs.T @ xs, xs.sum(0))
    )


def test_linucb_beats_random_and_greedy_learns_something():
    contexts, p = _linear_problem()
    n_arms, d = p.shape[1], contexts.shape[1]
    regret = {}
    for bandit in (
        UniformRandom(n_arms, d, seed=1),
        LinUCB(n_arms, d, alpha=0.5, seed=1),
        EpsilonGreedy(n_arms, d, epsilon=0.1, seed=1),
        LinearThompson(n_arms, d, v=0.3, seed=1),
    ):
        regret[bandit.name] = simulate_bandit(bandit, contexts, p, n_rounds=3000, seed=7)
    final = {name: run.cumulative_regret[-1] for name, run in regret.items()}
    assert final["LinUCB"] < 0.5 * final["random"]
    assert final["Thompson"] < 0.5 * final["random"]
    assert final["epsilon-greedy"] < final["random"]
    # learning: LinUCB's regret in the last 1000 rounds is below its regret in the first 1000
    r = regret["LinUCB"].regret
    assert r[-1000:].mean() < r[:1000].mean()


def test_simulation_uses_common_random_numbers():
    contexts, p = _linear_problem(seed=3)
    a = simulate_bandit(UniformRandom(p.shape[1], 4, seed=0), contexts, p, 100, seed=5)
    b = simulate_bandit(LinUCB(p.shape[1], 4, seed=0), contexts, p, 100, seed=5)
    np.testing.assert_array_equal(a.users, b.users)
    assert (a.regret >= 0).all() and (b.regret >= 0).all()
    c = simulate_bandit(LinUCB(p.shape[1], 4, seed=0), contexts, p, 100, seed=5)
    np.testing.assert_array_equal(b.arms, c.arms)


def test_action_probabilities_are_distributions():
    contexts, p = _linear_problem(seed=2, n_users=30)
    for bandit in (
        EpsilonGreedy(p.shape[1], 4, epsilon=0.2),
        LinUCB(p.shape[1], 4),
        LinearThompson(p.shape[1], 4),
        UniformRandom(p.shape[1], 4),
    ):
        simulate_bandit(bandit, contexts, p, 300, seed=0)
        probs = bandit.action_probabilities(contexts)
        assert probs.shape == (30, p.shape[1])
        np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    eg = EpsilonGreedy(p.shape[1], 4, epsilon=0.2)
    simulate_bandit(eg, contexts, p, 300, seed=0)
    probs = eg.action_probabilities(contexts)
    assert probs.min() == pytest.approx(0.2 / p.shape[1])
    assert probs.max() == pytest.approx(0.8 + 0.2 / p.shape[1])


def test_bandit_input_errors():
    with pytest.raises(ValueError, match="epsilon"):
        EpsilonGreedy(3, 2, epsilon=1.5)
    with pytest.raises(ValueError, match="regularization"):
        LinUCB(3, 2, regularization=0)
    contexts, p = _linear_problem(n_arms=5)
    with pytest.raises(ValueError, match="arms"):
        simulate_bandit(LinUCB(4, 4), contexts, p, 10)
    with pytest.raises(ValueError, match="features"):
        LinUCB(5, 3).select(np.ones(4))


def test_genre_mix_and_reasons():
    plays = sp.csr_matrix(np.array([[3, 1, 0, 0], [0, 0, 0, 0], [0, 2, 2, 0]]))
    genres = np.array([0, 1, 1, 2])
    mix = genre_mix(plays, genres)
    np.testing.assert_allclose(mix, [[0.75, 0.25, 0, 1], [0, 0, 0, 1], [0, 1, 0, 1]])
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [0.1, 1.0], [1.0, 0.1]])
    reasons = because_you_played(
        plays, users=[0, 0, 1, 2], items=[3, 2, 0, 1], item_vectors=vectors
    )
    # user 0 played 0 and 1: track 3 is like 0, track 2 like 1; user 1 played nothing;
    # user 2 was recommended track 1, which they played, so the reason is their other track 2
    np.testing.assert_array_equal(reasons, [0, 1, -1, 2])


def test_gini_on_hand_examples():
    assert gini(np.array([5, 5, 5, 5])) == pytest.approx(0.0)
    assert gini(np.array([0, 0, 0, 8])) == pytest.approx(3 / 4)
    # x = (1, 2, 3, 4): sum_i (2i - 5) x_i = -3 - 2 + 3 + 12 = 10; 10 / (4 * 10) = 0.25
    assert gini(np.array([4, 1, 3, 2])) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="every value is 0"):
        gini(np.zeros(3))
    with pytest.raises(ValueError, match="non-negative"):
        gini(np.array([1, -1]))


def test_coverage_exposure_and_genres_on_hand_examples():
    recs = np.array([[0, 1], [1, 2], [1, 0]])
    np.testing.assert_array_equal(exposure_counts(recs, 5), [2, 3, 1, 0, 0])
    assert catalogue_coverage(recs, 5) == pytest.approx(3 / 5)
    genres = np.array([0, 0, 1, 1, 2])
    assert genres_per_user(recs, genres) == pytest.approx((1 + 2 + 1) / 3)
    with pytest.raises(ValueError, match="outside"):
        catalogue_coverage(np.array([[0, 7]]), 5)


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


def test_explore_replaces_about_epsilon_of_slots_without_duplicates():
    recs = np.tile(np.arange(10), (500, 1))
    out = explore(recs, n_items=1000, epsilon=0.3, seed=0)
    changed = (out != recs).mean()
    assert 0.25 < changed < 0.35
    assert all(len(set(row)) == 10 for row in out)
    np.testing.assert_array_equal(explore(recs, 1000, 0.0, seed=0), recs)
    small = explore(np.tile(np.arange(3), (200, 1)), n_items=4, epsilon=1.0, seed=1)
    assert all(len(set(row)) == 3 for row in small)


def _svd_fit(plays, factors=4):
    """A tiny stand-in recommender: truncated SVD of log(1 + plays)."""
    from scipy.sparse.linalg import svds

    m = sp.csr_matrix(plays, dtype=np.float64)
    m.data = np.log1p(m.data)
    u, s, vt = svds(m, k=factors, random_state=0)
    return u * s, vt.T


def _toy_world(seed=0, n_users=120, n_items=80, n_genres=4):
    rng = np.random.default_rng(seed)
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


def test_feedback_loop_runs_and_exploration_raises_coverage():
    plays, p, genres = _toy_world()
    out = {
        s: run_feedback_loop(plays, p, _svd_fit, genres, n_rounds=3, k=5, strategy=s, seed=0)
        for s in ("plain", "explore", "mmr")
    }
    for df in out.values():
        assert list(df["round"]) == [1, 2, 3]
        assert ((df.coverage > 0) & (df.coverage <= 1)).all()
        assert ((df.play_rate >= 0) & (df.play_rate <= 1)).all()
    assert out["explore"].coverage.mean() > out["plain"].coverage.mean()
    assert out["explore"].gini.mean() < out["plain"].gini.mean()
    plays_before = plays.copy()
    run_feedback_loop(plays, p, _svd_fit, genres, n_rounds=1, k=5)
    assert (plays != plays_before).nnz == 0  # the input is not modified
    with pytest.raises(ValueError, match="strategy"):
        run_feedback_loop(plays, p, _svd_fit, genres, strategy="bubble")
