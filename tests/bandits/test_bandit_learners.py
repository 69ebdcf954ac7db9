"""course_lib.bandits.learners (chapter 08, sections 7 and 8): the linear bandits."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.bandits import (
    EpsilonGreedy,
    LinearBandit,
    LinearThompson,
    LinUCB,
    UniformRandom,
    simulate_bandit,
)


def test_sherman_morrison_keeps_the_exact_inverse():
    rng = np.random.default_rng(0)
    bandit = LinearBandit(n_arms=2, n_features=3, regularization=0.5)
    xs = rng.normal(size=(20, 3))
    for x in xs:
        bandit.update(1, x, 1.0)
    np.testing.assert_allclose(bandit.A[1], 0.5 * np.eye(3) + xs.T @ xs)
    np.testing.assert_allclose(bandit.A_inv[1], np.linalg.inv(0.5 * np.eye(3) + xs.T @ xs))
    np.testing.assert_array_equal(bandit.A[0], 0.5 * np.eye(3))
    np.testing.assert_allclose(bandit.A_inv[0], np.eye(3) / 0.5)
    np.testing.assert_allclose(
        bandit.A @ bandit.A_inv, np.repeat(np.eye(3)[None], 2, axis=0), atol=1e-10
    )
    np.testing.assert_allclose(
        bandit.theta[1], np.linalg.solve(0.5 * np.eye(3) + xs.T @ xs, xs.sum(0))
    )


def test_action_probabilities_are_distributions(linear_problem):
    contexts, p = linear_problem(seed=2, n_users=30)
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


def test_bandit_input_errors(linear_problem):
    with pytest.raises(ValueError, match="epsilon"):
        EpsilonGreedy(3, 2, epsilon=1.5)
    with pytest.raises(ValueError, match="regularization"):
        LinUCB(3, 2, regularization=0)
    contexts, p = linear_problem(n_arms=5)
    with pytest.raises(ValueError, match="arms"):
        simulate_bandit(LinUCB(4, 4), contexts, p, 10)
    with pytest.raises(ValueError, match="features"):
        LinUCB(5, 3).select(np.ones(4))


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: LinearBandit("3", 2), TypeError, "n_arms must be an integer"),
        (lambda: LinearBandit(3.0, 2), TypeError, "n_arms must be an integer"),
        (lambda: LinearBandit(3, 0), ValueError, "n_features must be an integer >= 1"),
        (lambda: LinearBandit(3, 2, regularization="1"), TypeError, "regularization must be"),
        (lambda: LinearBandit(3, 2, regularization=np.nan), ValueError, "regularization must"),
        (lambda: LinearBandit(3, 2, seed=-1), ValueError, "seed"),
        (lambda: EpsilonGreedy(3, 2, epsilon=True), TypeError, "epsilon must be a number"),
        (lambda: LinUCB(3, 2, alpha="1.0"), TypeError, "alpha must be a number"),
        (lambda: LinUCB(3, 2, alpha=np.nan), ValueError, "alpha must be a finite number"),
        (lambda: LinearThompson(3, 2, v=-0.1), ValueError, "v must be a number >= 0"),
    ],
)
def test_learners_refuse_bad_settings(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_update_refuses_bad_arms_contexts_and_rewards_and_learns_nothing():
    bandit = LinUCB(3, 2)
    before = (bandit.A_inv.copy(), bandit.b.copy(), bandit.A.copy())
    with pytest.raises(ValueError, match=r"arm must be in 0\.\.2"):
        bandit.update(3, np.ones(2), 1.0)
    with pytest.raises(ValueError, match="arm must be an integer >= 0"):
        bandit.update(-1, np.ones(2), 1.0)  # would silently update the last arm
    with pytest.raises(TypeError, match="arm must be an integer"):
        bandit.update(1.0, np.ones(2), 1.0)
    with pytest.raises(ValueError, match="NaN or infinite"):
        bandit.update(0, np.array([1.0, np.nan]), 1.0)
    with pytest.raises(ValueError, match="reward must be a finite number"):
        bandit.update(0, np.ones(2), np.nan)
    with pytest.raises(TypeError, match="reward must be a number"):
        bandit.update(0, np.ones(2), "1")
    with pytest.raises(TypeError, match="contexts must be numbers"):
        bandit.select(np.array(["1", "0"]))
    with pytest.raises(ValueError, match=r"shape \(d,\)"):
        bandit.select(np.ones((1, 2)))
    np.testing.assert_array_equal(bandit.A_inv, before[0])
    np.testing.assert_array_equal(bandit.b, before[1])
    np.testing.assert_array_equal(bandit.A, before[2])
    bandit.update(0, np.ones(2), True)  # a played flag counts as reward 1
    assert bandit.counts[0] == 1 and bandit.b[0].sum() == 2.0


def test_action_probabilities_need_a_batch_of_contexts():
    for bandit in (LinearBandit(3, 2), LinUCB(3, 2), LinearThompson(3, 2), UniformRandom(3, 2)):
        with pytest.raises(ValueError, match=r"shape \(n_users, d\)"):
            bandit.action_probabilities(np.ones(2))
    with pytest.raises(ValueError, match="n_samples"):
        LinearThompson(3, 2).action_probabilities(np.ones((4, 2)), n_samples=0)


def _from_scratch(choose, contexts, p, n_rounds, seed):
    """Chapter 08's hand-written learners: explicit A and b, a solve per round, same rngs."""
    n_arms, d = p.shape[1], contexts.shape[1]
    visits = np.random.default_rng(seed)
    users, coins = visits.integers(len(contexts), size=n_rounds), visits.random(n_rounds)
    rng = np.random.default_rng(seed)
    A, b = np.stack([np.eye(d)] * n_arms), np.zeros((n_arms, d))
    arms = np.empty(n_rounds, dtype=np.int64)
    for t, u in enumerate(users):
        x = contexts[u]
        theta = np.linalg.solve(A, b[:, :, None])[:, :, 0]
        width = np.sqrt(np.einsum("i,aij,j->a", x, np.linalg.inv(A), x))
        scores = choose(theta @ x, width, rng)
        if scores is None:  # epsilon-greedy explored
            arms[t] = rng.integers(n_arms)
        else:
            best = np.flatnonzero(scores >= scores.max() - 1e-12)
            arms[t] = best[0] if best.size == 1 else rng.choice(best)
        A[arms[t]] += np.outer(x, x)
        b[arms[t]] += float(coins[t] < p[u, arms[t]]) * x
    return arms, A, b


@pytest.mark.parametrize(
    ("learner", "choose"),
    [
        (LinearBandit(8, 4), lambda mean, width, rng: mean),
        (
            EpsilonGreedy(8, 4, epsilon=0.2),
            lambda mean, width, rng: None if rng.random() < 0.2 else mean,
        ),
        (LinUCB(8, 4, alpha=0.7), lambda mean, width, rng: mean + 0.7 * width),
        (
            LinearThompson(8, 4, v=0.4),
            lambda mean, width, rng: mean + 0.4 * width * rng.standard_normal(mean.size),
        ),
    ],
)
def test_learners_match_the_chapters_from_scratch_versions(linear_problem, learner, choose):
    contexts, p = linear_problem(seed=5)
    arms, A, b = _from_scratch(choose, contexts, p, 400, seed=0)
    run = simulate_bandit(learner, contexts, p, 400, seed=0)
    np.testing.assert_array_equal(run.arms, arms)
    np.testing.assert_allclose(learner.A, A)
    np.testing.assert_allclose(learner.b, b)


@pytest.mark.parametrize(
    "make",
    [
        lambda: LinearBandit(4, 3, seed=1),
        lambda: EpsilonGreedy(4, 3, epsilon=0.3, seed=1),
        lambda: LinUCB(4, 3, alpha=1.0, seed=1),
        lambda: LinearThompson(4, 3, v=0.0, seed=1),
    ],
)
def test_action_probabilities_are_the_selection_probabilities_on_ties(make):
    x = np.array([0.2, 0.5, 1.0])
    bandit = make()
    bandit.update(3, x, -1.0)  # arm 3 falls behind; arms 0, 1 and 2 stay tied at 0
    probs = bandit.action_probabilities(x[None, :])[0]
    n = 4_000
    shown = np.bincount([bandit.select(x) for _ in range(n)], minlength=4) / n
    # each frequency within 5 standard errors of the claimed probability
    tolerance = 5 * np.sqrt(probs * (1 - probs) / n) + 1e-9
    assert np.all(np.abs(shown - probs) <= tolerance), (probs, shown)
    assert probs[0] == pytest.approx(probs[1]) and probs[1] == pytest.approx(probs[2])
    assert probs[0] > probs[3]


def test_a_ragged_batch_of_contexts_is_named():
    bandit = LinUCB(3, 2)
    with pytest.raises(ValueError, match=r"contexts is a ragged list.*one row of 2 numbers"):
        bandit.action_probabilities([[0.1, 0.2], [0.3]])
