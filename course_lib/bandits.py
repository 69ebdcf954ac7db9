"""Contextual bandits for a recommendation shelf with reasons ("because you played X").

Taught in chapter 08 (beyond accuracy), after McInerney et al. (2018), who ran a bandit over
explained recommendations on Spotify's home page. Each round a user arrives with a context vector
``x`` (here: the genre mix of their listening history), the bandit picks one of ``K`` candidate
tracks (its *arms*), shows it with a reason, and observes whether it was played.

All learners keep one ridge regression per arm (the *disjoint* linear model of Li et al. 2010,
Algorithm 1): ``A_k = lambda I + sum x x^T`` and ``b_k = sum r x`` over the rounds in which arm k
was shown, with ``A_k^{-1}`` kept up to date by the Sherman-Morrison formula. They differ only in
how they turn the estimates into a choice:

* :class:`EpsilonGreedy`: the best estimate, except a uniformly random arm with probability epsilon;
* :class:`LinUCB`: the best upper confidence bound ``theta_k x + alpha sqrt(x^T A_k^{-1} x)``
  (Li et al. 2010, Algorithm 1);
* :class:`LinearThompson`: the best draw from the Gaussian posterior ``N(theta_k, v^2 A_k^{-1})``
  (Agrawal & Goyal 2013, Algorithm 1).

:func:`simulate_bandit` runs a learner online against exact play probabilities and records the
regret against the best arm of each user.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = [
    "BanditRun",
    "EpsilonGreedy",
    "LinUCB",
    "LinearBandit",
    "LinearThompson",
    "UniformRandom",
    "because_you_played",
    "genre_mix",
    "simulate_bandit",
]


class LinearBandit:
    """Greedy disjoint linear bandit; the base class of the exploring learners.

    Parameters
    ----------
    n_arms : int
        Number of candidate items ``K``.
    n_features : int
        Length ``d`` of the context vectors.
    regularization : float
        Ridge penalty ``lambda`` > 0 (the prior precision of each arm's weights).
    seed : int
        Seed of the learner's own random choices (tie breaks, exploration).
    """

    name = "greedy"

    def __init__(
        self, n_arms: int, n_features: int, regularization: float = 1.0, seed: int = 0
    ) -> None:
        if int(n_arms) < 1 or int(n_features) < 1:
            raise ValueError(f"need n_arms >= 1 and n_features >= 1, got {n_arms} and {n_features}")
        if not regularization > 0:
            raise ValueError(f"regularization must be > 0, got {regularization}")
        self.n_arms, self.n_features = int(n_arms), int(n_features)
        self.regularization = float(regularization)
        self.seed = seed
        self.reset()

    def reset(self) -> None:
        """Forget everything learned (back to the prior) and reseed."""
        eye = np.eye(self.n_features) / self.regularization
        self.A_inv = np.repeat(eye[None], self.n_arms, axis=0)
        self.b = np.zeros((self.n_arms, self.n_features))
        self.counts = np.zeros(self.n_arms, dtype=np.int64)
        self.rng = np.random.default_rng(self.seed)

    @property
    def theta(self) -> np.ndarray:
        """Ridge estimates ``A_k^{-1} b_k`` of every arm, shape (K, d)."""
        return np.einsum("kij,kj->ki", self.A_inv, self.b)

    def _check_context(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.shape[-1] != self.n_features:
            raise ValueError(
                f"context has {x.shape[-1]} features, the bandit expects {self.n_features}"
            )
        return x

    def scores(self, x: np.ndarray) -> np.ndarray:
        """Score of every arm for context ``x`` (shape (d,)); the learner picks the largest."""
        return self.theta @ self._check_context(x)

    def _argmax(self, s: np.ndarray) -> int:
        best = np.flatnonzero(s >= s.max() - 1e-12)
        return int(best[0] if best.size == 1 else self.rng.choice(best))

    def select(self, x: np.ndarray) -> int:
        """Arm to show to a user with context ``x``."""
        return self._argmax(self.scores(x))

    def update(self, arm: int, x: np.ndarray, reward: float) -> None:
        """Add one observation to arm ``arm`` (Sherman-Morrison rank-one update of ``A^{-1}``)."""
        x = self._check_context(x)
        a_inv = self.A_inv[arm]
        ax = a_inv @ x
        a_inv -= np.outer(ax, ax) / (1.0 + x @ ax)
        self.b[arm] += reward * x
        self.counts[arm] += 1

    def greedy_arms(self, contexts: np.ndarray) -> np.ndarray:
        """Arm with the best ridge estimate for each row of ``contexts`` (ties: lowest index)."""
        return np.argmax(self._check_context(contexts) @ self.theta.T, axis=1)

    def action_probabilities(self, contexts: np.ndarray) -> np.ndarray:
        """Probability of each arm for each context of shape (n, d) when learning is frozen.

        Used to evaluate a trained learner offline with the estimators of
        :mod:`course_lib.counterfactual`. Returns an (n, K) matrix whose rows sum to 1.
        """
        arms = self.greedy_arms(contexts)
        out = np.zeros((arms.size, self.n_arms))
        out[np.arange(arms.size), arms] = 1.0
        return out


class EpsilonGreedy(LinearBandit):
    """Greedy on the ridge estimates, but a uniformly random arm with probability ``epsilon``.

    Parameters
    ----------
    epsilon : float
        Exploration rate in [0, 1] (Sutton & Barto 2018, sec. 2.2).
    n_arms, n_features, regularization, seed
        See :class:`LinearBandit`.
    """

    name = "epsilon-greedy"

    def __init__(
        self,
        n_arms: int,
        n_features: int,
        epsilon: float = 0.1,
        regularization: float = 1.0,
        seed: int = 0,
    ) -> None:
        if not 0 <= epsilon <= 1:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
        self.epsilon = float(epsilon)
        super().__init__(n_arms, n_features, regularization, seed)

    def select(self, x: np.ndarray) -> int:
        if self.rng.random() < self.epsilon:
            return int(self.rng.integers(self.n_arms))
        return super().select(x)

    def action_probabilities(self, contexts: np.ndarray) -> np.ndarray:
        greedy = super().action_probabilities(contexts)
        return (1 - self.epsilon) * greedy + self.epsilon / self.n_arms


class LinUCB(LinearBandit):
    """LinUCB with disjoint linear models (Li, Chu, Langford & Schapire 2010, Algorithm 1).

    Picks ``argmax_k theta_k^T x + alpha * sqrt(x^T A_k^{-1} x)``: the estimate plus a bonus that
    is large for arms whose reward is still uncertain for contexts like ``x``.

    Parameters
    ----------
    alpha : float
        Width of the confidence bound (>= 0; 0 is the greedy learner).
    n_arms, n_features, regularization, seed
        See :class:`LinearBandit`.
    """

    name = "LinUCB"

    def __init__(
        self,
        n_arms: int,
        n_features: int,
        alpha: float = 1.0,
        regularization: float = 1.0,
        seed: int = 0,
    ) -> None:
        if not alpha >= 0:
            raise ValueError(f"alpha must be >= 0, got {alpha}")
        self.alpha = float(alpha)
        super().__init__(n_arms, n_features, regularization, seed)

    def scores(self, x: np.ndarray) -> np.ndarray:
        x = self._check_context(x)
        width = np.sqrt(np.einsum("i,kij,j->k", x, self.A_inv, x))
        return self.theta @ x + self.alpha * width

    def action_probabilities(self, contexts: np.ndarray) -> np.ndarray:
        contexts = self._check_context(contexts)
        width = np.sqrt(np.einsum("ni,kij,nj->nk", contexts, self.A_inv, contexts))
        arms = np.argmax(contexts @ self.theta.T + self.alpha * width, axis=1)
        out = np.zeros((arms.size, self.n_arms))
        out[np.arange(arms.size), arms] = 1.0
        return out


class LinearThompson(LinearBandit):
    """Linear Thompson sampling (Agrawal & Goyal 2013, Algorithm 1), one model per arm.

    Each round draws ``theta_k ~ N(A_k^{-1} b_k, v^2 A_k^{-1})`` and picks the best drawn arm. With
    disjoint arms only the scalar ``theta_k^T x`` matters, which is Gaussian with mean
    ``theta_k^T x`` and variance ``v^2 x^T A_k^{-1} x``, so one normal draw per arm suffices.

    Parameters
    ----------
    v : float
        Scale of the posterior (>= 0; 0 is the greedy learner).
    n_arms, n_features, regularization, seed
        See :class:`LinearBandit`.
    """

    name = "Thompson"

    def __init__(
        self,
        n_arms: int,
        n_features: int,
        v: float = 0.5,
        regularization: float = 1.0,
        seed: int = 0,
    ) -> None:
        if not v >= 0:
            raise ValueError(f"v must be >= 0, got {v}")
        self.v = float(v)
        super().__init__(n_arms, n_features, regularization, seed)

    def _draw(self, contexts: np.ndarray) -> np.ndarray:
        mean = contexts @ self.theta.T
        sd = np.sqrt(np.einsum("ni,kij,nj->nk", contexts, self.A_inv, contexts))
        return mean + self.v * sd * self.rng.standard_normal(mean.shape)

    def scores(self, x: np.ndarray) -> np.ndarray:
        return self._draw(self._check_context(x)[None, :])[0]

    def action_probabilities(self, contexts: np.ndarray, n_samples: int = 200) -> np.ndarray:
        """Monte Carlo estimate of the probability of each arm (``n_samples`` posterior draws)."""
        contexts = self._check_context(contexts)
        counts = np.zeros((contexts.shape[0], self.n_arms))
        rows = np.arange(contexts.shape[0])
        for _ in range(n_samples):
            counts[rows, np.argmax(self._draw(contexts), axis=1)] += 1
        return counts / n_samples


class UniformRandom(LinearBandit):
    """Shows a uniformly random arm every round; learns nothing. The baseline of regret curves."""

    name = "random"

    def select(self, x: np.ndarray) -> int:
        return int(self.rng.integers(self.n_arms))

    def update(self, arm: int, x: np.ndarray, reward: float) -> None:
        self.counts[arm] += 1

    def action_probabilities(self, contexts: np.ndarray) -> np.ndarray:
        n = self._check_context(contexts).shape[0]
        return np.full((n, self.n_arms), 1.0 / self.n_arms)


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
    """
    contexts = np.asarray(contexts, dtype=np.float64)
    p = np.asarray(reward_probs, dtype=np.float64)
    if contexts.ndim != 2 or p.ndim != 2 or contexts.shape[0] != p.shape[0]:
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
        raise ValueError("reward_probs must be probabilities in [0, 1]")
    if n_rounds < 1:
        raise ValueError(f"n_rounds must be >= 1, got {n_rounds}")
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


def genre_mix(
    plays: sp.spmatrix, genre_ids: np.ndarray, n_genres: int | None = None, add_bias: bool = True
) -> np.ndarray:
    """Context vectors: the share of each user's plays that falls in each genre.

    Parameters
    ----------
    plays : sparse matrix (n_users, n_tracks)
        Play counts.
    genre_ids : int array of shape (n_tracks,)
    n_genres : int, optional
        Number of genres (default: ``genre_ids.max() + 1``).
    add_bias : bool
        Append a constant 1 so that each arm also learns an intercept (its overall appeal).

    Returns
    -------
    np.ndarray float64 of shape (n_users, n_genres [+ 1]); rows of users without plays are 0
    (apart from the bias).
    """
    plays = sp.csr_matrix(plays)
    g = np.asarray(genre_ids, dtype=np.int64)
    if g.shape != (plays.shape[1],):
        raise ValueError(
            f"genre_ids must have one entry per track ({plays.shape[1]}), got {g.shape}"
        )
    n_genres = int(g.max()) + 1 if n_genres is None else int(n_genres)
    onehot = sp.csr_matrix((np.ones(g.size), (np.arange(g.size), g)), shape=(g.size, n_genres))
    counts = np.asarray((plays @ onehot).todense(), dtype=np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    mix = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    return np.hstack([mix, np.ones((mix.shape[0], 1))]) if add_bias else mix


def because_you_played(
    plays: sp.spmatrix, users: np.ndarray, items: np.ndarray, item_vectors: np.ndarray
) -> np.ndarray:
    """The reason for each recommendation: the user's played track most similar to it.

    Similarity is the cosine between item vectors (e.g. ALS item factors or genome attributes),
    the "because you played X" explanation of McInerney et al. (2018). The recommended track
    itself is never its own reason.

    Parameters
    ----------
    plays : sparse matrix (n_users, n_tracks)
    users, items : int arrays of equal length
        Who was recommended which track.
    item_vectors : array of shape (n_tracks, f)

    Returns
    -------
    np.ndarray of int64
        The track id of the reason for each pair (-1 if the user played nothing else).
    """
    plays = sp.csr_matrix(plays)
    users = np.asarray(users, dtype=np.int64)
    items = np.asarray(items, dtype=np.int64)
    if users.shape != items.shape:
        raise ValueError("users and items must have the same length (one pair per recommendation)")
    v = np.asarray(item_vectors, dtype=np.float64)
    if v.shape[0] != plays.shape[1]:
        raise ValueError(
            f"item_vectors has {v.shape[0]} rows but there are {plays.shape[1]} tracks"
        )
    norms = np.linalg.norm(v, axis=1)
    unit = np.divide(v, norms[:, None], out=np.zeros_like(v), where=norms[:, None] > 0)
    reasons = np.full(users.size, -1, dtype=np.int64)
    for j, (u, i) in enumerate(zip(users, items)):
        history = plays.indices[plays.indptr[u] : plays.indptr[u + 1]]
        history = history[history != i]
        if history.size:
            reasons[j] = history[np.argmax(unit[history] @ unit[i])]
    return reasons
