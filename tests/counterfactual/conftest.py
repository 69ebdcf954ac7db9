"""Fixtures of the counterfactual tests (chapter 08): a tiny one-user problem and a simulator."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import numpy as np
import pytest

from course_lib.counterfactual import LogSimulator, softmax_policy


@pytest.fixture
def tiny_problem() -> SimpleNamespace:
    """One user, three items: logging policy ``mu``, target ``pi``, play probabilities ``q`` and
    the target's true value ``truth = pi @ q``."""
    mu = np.array([0.5, 0.3, 0.2])
    pi = np.array([0.2, 0.3, 0.5])
    q = np.array([0.1, 0.5, 0.9])
    return SimpleNamespace(mu=mu, pi=pi, q=q, truth=float(pi @ q))


@pytest.fixture
def toy_simulator() -> Callable[..., tuple[LogSimulator, np.ndarray, np.ndarray]]:
    """``toy_simulator(seed=0, n_users=20, n_items=15)`` -> ``(simulator, logging_policy,
    play_probability)``: a softmax logging policy and uniform play probabilities in [0, 0.6]."""

    def make(seed: int = 0, n_users: int = 20, n_items: int = 15):
        rng = np.random.default_rng(seed)
        mu = softmax_policy(rng.normal(size=(n_users, n_items)))
        p = rng.uniform(0.0, 0.6, (n_users, n_items))
        return LogSimulator(mu, p), mu, p

    return make
