"""Disjoint linear bandits: greedy, epsilon-greedy, LinUCB and linear Thompson sampling.

Taught in chapter 08 (``chapters/08_beyond_accuracy.md``, "7. A contextual bandit for a shelf,
with reasons", where the student writes the same four learners from their equations and checks
that they make the same choices and end with the same ``A`` and ``b``; "8. Evaluating the
trained bandits offline" uses :meth:`action_probabilities`).
All learners keep one ridge regression per arm (the *disjoint* linear model of Li et al. 2010,
Algorithm 1): ``A_k = lambda I + sum x x^T`` and ``b_k = sum r x`` over the rounds in which arm k
was shown (attributes ``A`` and ``b``), with ``A_k^{-1}`` (``A_inv``) kept up to date by the
Sherman-Morrison formula, so that no round inverts a matrix. They differ only in how they turn
the estimates ``theta_k = A_k^{-1} b_k`` into a choice:

* :class:`LinearBandit`: the best estimate (greedy, the control);
* :class:`EpsilonGreedy`: the best estimate, except a uniformly random arm with probability epsilon;
* :class:`LinUCB`: the best upper confidence bound ``theta_k x + alpha sqrt(x^T A_k^{-1} x)``
  (Li et al. 2010, Algorithm 1);
* :class:`LinearThompson`: the best draw from the Gaussian posterior ``N(theta_k, v^2 A_k^{-1})``
  (Agrawal & Goyal 2013, Algorithm 1);
* :class:`UniformRandom`: a random arm every round (the baseline of regret curves).

Every learner refuses, with a ``TypeError`` or ``ValueError`` that names the argument: sizes
that are not integers >= 1, settings that are strings, bools, NaN or out of range, contexts that
are not numbers, have the wrong number of features or hold NaN, arms outside ``0..K-1``, rewards
that are not finite numbers.
"""

from __future__ import annotations

import numpy as np

from course_lib.validation import as_array, require_int, require_number

__all__ = ["EpsilonGreedy", "LinUCB", "LinearBandit", "LinearThompson", "UniformRandom"]

#: Scores within this distance of the best one are a tie, broken uniformly at random.
TIE_TOLERANCE = 1e-12


def _best_arm_probabilities(scores: np.ndarray) -> np.ndarray:
    """For each row of ``scores`` (n, K): 1 / (number of best arms) on each best arm, else 0.

    The probabilities with which :meth:`LinearBandit.select` picks an arm: the best one, ties
    (within :data:`TIE_TOLERANCE`) broken uniformly at random.
    """
    best = scores >= scores.max(axis=1, keepdims=True) - TIE_TOLERANCE
    return best / best.sum(axis=1, keepdims=True)


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
        Seed of the learner's own random choices (tie breaks, exploration), >= 0.

    Attributes
    ----------
    A : np.ndarray of shape (K, d, d)
        ``A_k = lambda I + sum x x^T`` over the rounds in which arm k was shown (Li et al. 2010,
        Algorithm 1, line 12).
    A_inv : np.ndarray of shape (K, d, d)
        ``A_k^{-1}``, updated by Sherman-Morrison rather than recomputed.
    b : np.ndarray of shape (K, d)
        ``b_k = sum r x`` over the same rounds (line 13).
    counts : np.ndarray of int, shape (K,)
        How often each arm was shown.
    rng : np.random.Generator
        The learner's own generator; ties are broken with ``rng.choice`` among the arms within
        ``1e-12`` of the best score.
    """

    name = "greedy"

    def __init__(
        self, n_arms: int, n_features: int, regularization: float = 1.0, seed: int = 0
    ) -> None:
        self.n_arms = require_int(n_arms, "n_arms", 1)
        self.n_features = require_int(n_features, "n_features", 1)
        self.regularization = require_number(
            regularization, "regularization", minimum=0, strict_minimum=True
        )
        self.seed = require_int(seed, "seed", 0)
        self.reset()

    def reset(self) -> None:
        """Forget everything learned (back to the prior) and reseed."""
        eye = np.eye(self.n_features)[None]
        self.A = np.repeat(eye * self.regularization, self.n_arms, axis=0)
        self.A_inv = np.repeat(eye / self.regularization, self.n_arms, axis=0)
        self.b = np.zeros((self.n_arms, self.n_features))
        self.counts = np.zeros(self.n_arms, dtype=np.int64)
        self.rng = np.random.default_rng(self.seed)

    @property
    def theta(self) -> np.ndarray:
        """Ridge estimates ``A_k^{-1} b_k`` of every arm, shape (K, d)."""
        return np.einsum("kij,kj->ki", self.A_inv, self.b)

    def _check_context(self, x: np.ndarray, ndim: int = 1) -> np.ndarray:
        """One context (``ndim=1``: shape (d,)) or a batch (``ndim=2``: shape (n, d)) as float64,
        or a clear error."""
        arr = as_array(x, "contexts", f"pass one row of {self.n_features} numbers per user")
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"contexts must be numbers, got dtype {arr.dtype}")
        shape = "(d,)" if ndim == 1 else "(n_users, d)"
        if arr.ndim != ndim:
            raise ValueError(f"expected a context of shape {shape}, got shape {arr.shape}")
        if arr.shape[-1] != self.n_features:
            raise ValueError(
                f"context has {arr.shape[-1]} features, the bandit expects {self.n_features}"
            )
        arr = arr.astype(np.float64)
        if not np.isfinite(arr).all():
            raise ValueError("contexts contain NaN or infinite values; repair the features first")
        return arr

    def scores(self, x: np.ndarray) -> np.ndarray:
        """Score of every arm for context ``x`` (shape (d,)); the learner picks the largest."""
        return self.theta @ self._check_context(x)

    def _argmax(self, s: np.ndarray) -> int:
        best = np.flatnonzero(s >= s.max() - TIE_TOLERANCE)
        return int(best[0] if best.size == 1 else self.rng.choice(best))

    def select(self, x: np.ndarray) -> int:
        """Arm to show to a user with context ``x``."""
        return self._argmax(self.scores(x))

    def update(self, arm: int, x: np.ndarray, reward: float) -> None:
        """Add one observation to arm ``arm`` (Sherman-Morrison rank-one update of ``A^{-1}``).

        ``reward`` is a finite number (True/False count as 1/0: played or not). Nothing is
        learned when an argument is refused.
        """
        arm = require_int(arm, "arm", 0)
        if arm >= self.n_arms:
            raise ValueError(f"arm must be in 0..{self.n_arms - 1}, got {arm}")
        x = self._check_context(x)
        if isinstance(reward, bool | np.bool_):
            reward = float(reward)
        self._learn(arm, x, require_number(reward, "reward"))

    def _learn(self, arm: int, x: np.ndarray, reward: float) -> None:
        a_inv = self.A_inv[arm]
        ax = a_inv @ x
        a_inv -= np.outer(ax, ax) / (1.0 + x @ ax)
        self.A[arm] += np.outer(x, x)
        self.b[arm] += reward * x
        self.counts[arm] += 1

    def greedy_arms(self, contexts: np.ndarray) -> np.ndarray:
        """Arm with the best ridge estimate for each row of ``contexts`` (ties: lowest index)."""
        return np.argmax(self._check_context(contexts, ndim=2) @ self.theta.T, axis=1)

    def action_probabilities(self, contexts: np.ndarray) -> np.ndarray:
        """Probability of each arm for each context of shape (n, d) when learning is frozen.

        Used to evaluate a trained learner offline with the estimators of
        :mod:`course_lib.counterfactual`, so these are the probabilities with which
        :meth:`select` picks each arm: arms tied for the best score share its probability
        equally, as :meth:`select` breaks ties uniformly at random. Returns an (n, K) matrix
        whose rows sum to 1.
        """
        return _best_arm_probabilities(self._check_context(contexts, ndim=2) @ self.theta.T)


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
        self.epsilon = require_number(epsilon, "epsilon", minimum=0, maximum=1)
        super().__init__(n_arms, n_features, regularization, seed)

    def select(self, x: np.ndarray) -> int:
        if self.rng.random() < self.epsilon:
            return int(self.rng.integers(self.n_arms))
        return super().select(x)

    def action_probabilities(self, contexts: np.ndarray) -> np.ndarray:
        """``epsilon / K`` on every arm, plus ``1 - epsilon`` shared by the arms tied for best.

        The probabilities with which :meth:`select` picks each arm (see
        :meth:`LinearBandit.action_probabilities`).
        """
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
        self.alpha = require_number(alpha, "alpha", minimum=0)
        super().__init__(n_arms, n_features, regularization, seed)

    def scores(self, x: np.ndarray) -> np.ndarray:
        x = self._check_context(x)
        width = np.sqrt(np.einsum("i,kij,j->k", x, self.A_inv, x))
        return self.theta @ x + self.alpha * width

    def action_probabilities(self, contexts: np.ndarray) -> np.ndarray:
        contexts = self._check_context(contexts, ndim=2)
        width = np.sqrt(np.einsum("ni,kij,nj->nk", contexts, self.A_inv, contexts))
        return _best_arm_probabilities(contexts @ self.theta.T + self.alpha * width)


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
        self.v = require_number(v, "v", minimum=0)
        super().__init__(n_arms, n_features, regularization, seed)

    def _draw(self, contexts: np.ndarray) -> np.ndarray:
        mean = contexts @ self.theta.T
        sd = np.sqrt(np.einsum("ni,kij,nj->nk", contexts, self.A_inv, contexts))
        return mean + self.v * sd * self.rng.standard_normal(mean.shape)

    def scores(self, x: np.ndarray) -> np.ndarray:
        return self._draw(self._check_context(x)[None, :])[0]

    def action_probabilities(self, contexts: np.ndarray, n_samples: int = 200) -> np.ndarray:
        """Monte Carlo estimate of the probability of each arm (``n_samples`` posterior draws).

        Ties among the drawn scores (``v = 0``, or arms never shown) are shared equally, as
        :meth:`select` breaks them uniformly at random.
        """
        n_samples = require_int(n_samples, "n_samples", 1)
        contexts = self._check_context(contexts, ndim=2)
        counts = np.zeros((contexts.shape[0], self.n_arms))
        for _ in range(n_samples):
            counts += _best_arm_probabilities(self._draw(contexts))
        return counts / n_samples


class UniformRandom(LinearBandit):
    """Shows a uniformly random arm every round; learns nothing. The baseline of regret curves."""

    name = "random"

    def select(self, x: np.ndarray) -> int:
        return int(self.rng.integers(self.n_arms))

    def _learn(self, arm: int, x: np.ndarray, reward: float) -> None:
        self.counts[arm] += 1

    def action_probabilities(self, contexts: np.ndarray) -> np.ndarray:
        n = self._check_context(contexts, ndim=2).shape[0]
        return np.full((n, self.n_arms), 1.0 / self.n_arms)
