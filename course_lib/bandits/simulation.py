"""Running a bandit online against exact play probabilities, and its regret (chapter 08).

Taught in chapter 08 (``chapters/08_beyond_accuracy.md``, "7. A contextual bandit for a shelf,
with reasons"): :func:`simulate_bandit` runs each learner of :mod:`course_lib.bandits.learners`
on the same sequence of visitors and records the regret against the best arm of each user; the
chapter plots :attr:`BanditRun.cumulative_regret`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_lib.bandits.learners import LinearBandit
from course_lib.validation import require_int, validate_matrix

__all__ = ["BanditRun", "simulate_bandit"]


@dataclass(frozen=True)
class BanditRun:
    """What happened in an online simulation, one entry per round.

    Attributes
    ----------
    users, arms : int arrays
        Who arrived and which arm was shown.
    rewards : int array
        Whether the shown item was played (0/1).
    expected_rewards : float array
        True play probability of the shown arm for that user.
    best_expected_rewards : float array
        True play probability of the user's best arm (what an oracle would get).
    """

    users: np.ndarray
    arms: np.ndarray
    rewards: np.ndarray
    expected_rewards: np.ndarray
    best_expected_rewards: np.ndarray

    @property
    def regret(self) -> np.ndarray:
        """Expected regret per round: best arm's play probability minus the shown arm's."""
        return self.best_expected_rewards - self.expected_rewards

    @property
    def cumulative_regret(self) -> np.ndarray:
        """Running sum of :attr:`regret`, the usual regret curve."""
        return np.cumsum(self.regret)


def simulate_bandit(
    bandit: LinearBandit,
    contexts: np.ndarray,
    reward_probs: np.ndarray,
    n_rounds: int,
    seed: int = 0,
) -> BanditRun:
    """Run ``bandit`` online for ``n_rounds`` against exact play probabilities.

    Each round draws a user uniformly at random, asks the bandit for an arm, draws the play from
    ``reward_probs[user, arm]`` and feeds it back. The users and the reward coins depend on
    ``seed`` only, so learners run with the same seed face the same sequence of visitors.

    Parameters
    ----------
    bandit : LinearBandit
        The learner; it is :meth:`~LinearBandit.reset` first.
    contexts : array of shape (n_users, d)
    reward_probs : array of shape (n_users, K)
        Probability that user u plays arm k, e.g. ``world.play_probability()[:, candidates]``.
    n_rounds : int
    seed : int

    Returns
    -------
    BanditRun

    Raises
    ------
    TypeError, ValueError
        Before the bandit is reset: a ``bandit`` that is not a :class:`LinearBandit`; contexts or
        reward probabilities that are not 2-D matrices of numbers, are empty or hold NaN;
        different numbers of users, or arms and features other than the bandit's; reward
        probabilities outside [0, 1]; ``n_rounds`` not an integer >= 1, ``seed`` not one >= 0.
    """
    if not isinstance(bandit, LinearBandit):
        raise TypeError(
            f"bandit must be a learner such as LinUCB(n_arms, n_features), got "
            f"{type(bandit).__name__}"
        )
    contexts = validate_matrix(contexts, "contexts", dtype=np.float64)
    p = validate_matrix(reward_probs, "reward_probs", dtype=np.float64)
    if contexts.shape[0] != p.shape[0]:
        raise ValueError(
            f"contexts (n_users, d) and reward_probs (n_users, K) must share n_users; got "
            f"{contexts.shape} and {p.shape}"
        )
    if p.shape[1] != bandit.n_arms or contexts.shape[1] != bandit.n_features:
        raise ValueError(
            f"the bandit has {bandit.n_arms} arms and {bandit.n_features} features but the data "
            f"has {p.shape[1]} arms and {contexts.shape[1]} features"
        )
    if ((p < 0) | (p > 1)).any():
        raise ValueError(
            f"reward_probs must be probabilities in [0, 1]; found values from {p.min():.4g} to "
            f"{p.max():.4g}"
        )
    n_rounds = require_int(n_rounds, "n_rounds", 1)
    seed = require_int(seed, "seed", 0)
    rng = np.random.default_rng(seed)
    users = rng.integers(contexts.shape[0], size=n_rounds)
    coins = rng.random(n_rounds)
    bandit.reset()
    arms = np.empty(n_rounds, dtype=np.int64)
    for t, u in enumerate(users):
        arm = bandit.select(contexts[u])
        bandit.update(arm, contexts[u], float(coins[t] < p[u, arm]))
        arms[t] = arm
    expected = p[users, arms]
    return BanditRun(
        users=users,
        arms=arms,
        rewards=(coins < expected).astype(np.int8),
        expected_rewards=expected,
        best_expected_rewards=p[users].max(axis=1),
    )
