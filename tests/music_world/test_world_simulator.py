"""Tests of the music world's simulator (chapter 08): exact probabilities and logged feedback."""

from __future__ import annotations

import numpy as np
import pytest


def test_simulator_is_consistent(tiny):
    prob = tiny.play_probability()
    policy = tiny.logging_policy()
    assert prob.shape == policy.shape == (tiny.n_users, tiny.n_tracks)
    assert (prob > 0).all() and (prob < 1).all()
    np.testing.assert_allclose(policy.sum(axis=1), 1.0)
    assert (policy > 0).all()
    log = tiny.logged_feedback
    np.testing.assert_allclose(log["propensity"], policy[log["user"], log["item"]])
    # The logged play rate matches the policy's exact value within sampling error.
    truth = (policy * prob).sum(axis=1)[log["user"]].mean()
    se = np.sqrt(truth * (1 - truth) / len(log))
    assert abs(log["played"].mean() - truth) < 4 * se


def test_a_fresh_log_is_reproducible(tiny):
    a = tiny.sample_logged_feedback(300, seed=5)
    b = tiny.sample_logged_feedback(300, seed=5)
    assert len(a) == 300
    assert a.equals(b)
    assert not a.equals(tiny.sample_logged_feedback(300, seed=6))


@pytest.mark.parametrize(
    ("n", "seed", "error", "words"),
    [
        (0, 1, ValueError, "n_impressions must be an integer >= 1"),
        (-5, 1, ValueError, "n_impressions"),
        (1e4, 1, TypeError, "n_impressions must be an integer"),
        (10, -1, ValueError, "seed must be an integer >= 0"),
        (10, 0.5, TypeError, "seed"),
    ],
)
def test_sample_logged_feedback_refuses_bad_arguments(tiny, n, seed, error, words):
    with pytest.raises(error, match=words):
        tiny.sample_logged_feedback(n, seed=seed)


def test_user_ids_are_checked(tiny):
    assert tiny.affinity(3).shape == (1, tiny.n_tracks)
    with pytest.raises(ValueError, match="user ids must lie in \\[0, 199\\]"):
        tiny.play_probability([tiny.n_users])
    with pytest.raises(TypeError, match="user_ids must be an integer id"):
        tiny.logging_policy([0.5])
    with pytest.raises(TypeError, match="user_ids"):
        tiny.affinity([True, False])
