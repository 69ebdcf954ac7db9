"""Fixtures of the bandit tests (chapter 08): a problem whose rewards are linear in the context."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest


@pytest.fixture
def linear_problem() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """``linear_problem(seed=0, n_users=200, n_arms=8, d=4)`` -> ``(contexts, reward_probs)`` with
    ``p(u, k) = clip(x_u . theta_k, 0, 1)`` (a genre mix plus a constant as context)."""

    def make(seed: int = 0, n_users: int = 200, n_arms: int = 8, d: int = 4):
        rng = np.random.default_rng(seed)
        contexts = np.hstack([rng.dirichlet(np.ones(d - 1), n_users), np.ones((n_users, 1))])
        theta = rng.uniform(0, 0.6, (n_arms, d))
        return contexts, np.clip(contexts @ theta.T, 0, 1)

    return make
