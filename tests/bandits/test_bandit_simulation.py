"""course_lib.bandits.simulation (chapter 08, section 7): online runs and their regret."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.bandits import (
    EpsilonGreedy,
    LinearThompson,
    LinUCB,
    UniformRandom,
    simulate_bandit,
)


def test_linucb_beats_random_and_greedy_learns_something(linear_problem):
    contexts, p = linear_problem()
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


def test_simulation_uses_common_random_numbers(linear_problem):
    contexts, p = linear_problem(seed=3)
    a = simulate_bandit(UniformRandom(p.shape[1], 4, seed=0), contexts, p, 100, seed=5)
    b = simulate_bandit(LinUCB(p.shape[1], 4, seed=0), contexts, p, 100, seed=5)
    np.testing.assert_array_equal(a.users, b.users)
    assert (a.regret >= 0).all() and (b.regret >= 0).all()
    c = simulate_bandit(LinUCB(p.shape[1], 4, seed=0), contexts, p, 100, seed=5)
    np.testing.assert_array_equal(b.arms, c.arms)


def test_simulate_bandit_refuses_bad_data_before_resetting(linear_problem):
    contexts, p = linear_problem(n_users=20, n_arms=3)
    bandit = LinUCB(3, 4)
    bandit.update(0, contexts[0], 1.0)
    learned = bandit.b.copy()
    nan_probs = p.copy()
    nan_probs[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"reward_probs contains NaN .*rows \[2\]"):
        simulate_bandit(bandit, contexts, nan_probs, 10)
    with pytest.raises(ValueError, match=r"reward_probs must be probabilities in \[0, 1\]"):
        simulate_bandit(bandit, contexts, p * 3, 10)
    with pytest.raises(ValueError, match="contexts contains NaN"):
        simulate_bandit(bandit, np.where(contexts > 0.9, np.nan, contexts), p, 10)
    with pytest.raises(ValueError, match="contexts is empty"):
        simulate_bandit(bandit, contexts[:0], p[:0], 10)
    with pytest.raises(ValueError, match="must share n_users"):
        simulate_bandit(bandit, contexts[:10], p, 10)
    with pytest.raises(TypeError, match="n_rounds must be an integer"):
        simulate_bandit(bandit, contexts, p, 10.0)
    with pytest.raises(ValueError, match="n_rounds must be an integer >= 1"):
        simulate_bandit(bandit, contexts, p, 0)
    with pytest.raises(TypeError, match="bandit must be a learner"):
        simulate_bandit("LinUCB", contexts, p, 10)
    np.testing.assert_array_equal(bandit.b, learned)  # nothing was reset or learned
