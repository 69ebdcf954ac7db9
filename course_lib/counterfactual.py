"""Counterfactual (off-policy) evaluation: a new policy's play rate from logged impressions.

Taught in chapter 08 (beyond accuracy). A deployed stochastic recommender (the *logging policy*
``mu``) showed item ``a_j`` to user ``u_j`` with a known probability (the *propensity*
``mu(a_j | u_j)``) and recorded whether it was played (the *reward* ``r_j``). A *target policy*
``pi`` that was never deployed can then be evaluated from the same logs by reweighting each
impression with the importance weight ``w_j = pi(a_j | u_j) / mu(a_j | u_j)``.

Notation of the chapter and the names used here:

=================  =====================  ===========================================
symbol             code name              meaning
=================  =====================  ===========================================
``r_j``            ``rewards``            observed reward of impression j (played 0/1)
``mu(a_j|u_j)``    ``propensities``       logging policy's probability of the shown item
``pi(a_j|u_j)``    ``target_probs``       target policy's probability of the same item
``w_j``            ``weights``            importance weight ``pi / mu``
``q_hat(u, a)``    ``reward_predictions`` a reward model's prediction for the logged item
``sum_a pi q_hat`` ``expected_rewards``   the reward model's value of ``pi`` for user u_j
=================  =====================  ===========================================

The estimators are vectorised over impressions and return an :class:`Estimate` with a standard
error and a normal-approximation confidence interval. :class:`LogSimulator` re-draws logs from a
simulator's exact probabilities so that bias and variance can be measured over many seeds.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "Estimate",
    "LogSimulator",
    "clipped_ips",
    "clipping_sweep",
    "direct_method",
    "doubly_robust",
    "effective_sample_size",
    "evaluate_logs",
    "exact_expectation",
    "importance_weights",
    "ips",
    "plot_clipping",
    "plot_estimates",
    "policy_value",
    "repeated_trials",
    "snips",
    "softmax_policy",
    "summarise_trials",
]


@dataclass(frozen=True)
class Estimate:
    """An off-policy estimate with its uncertainty.

    Attributes
    ----------
    value : float
        The estimated value (expected reward per impression) of the target policy.
    std_error : float
        Estimated standard error of ``value`` (NaN when it cannot be estimated, e.g. n = 1).
    ci_low, ci_high : float
        Normal-approximation confidence interval ``value -/+ z * std_error``.
    n : int
        Number of logged impressions used.
    """

    value: float
    std_error: float
    ci_low: float
    ci_high: float
    n: int

    def __float__(self) -> float:
        return float(self.value)

    def covers(self, truth: float) -> bool:
        """Whether the confidence interval contains ``truth``."""
        return bool(self.ci_low <= truth <= self.ci_high)


# ----------------------------------------------------------------------------------------------
# input checking
# ----------------------------------------------------------------------------------------------


def _as_vector(name: str, x: object) -> np.ndarray:
    if x is None:
        raise TypeError(
            f"{name} is missing (got None): pass one value per logged impression, "
            "e.g. a column of the logged_feedback table"
        )
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be numbers, one per logged impression: {err}") from None
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be one-dimensional (one value per impression), got shape {arr.shape}"
        )
    return arr


def _positions(mask: np.ndarray, limit: int = 5) -> str:
    idx = np.flatnonzero(mask)
    shown = ", ".join(str(i) for i in idx[:limit])
    return shown + (", ..." if idx.size > limit else "")


def _check_inputs(
    rewards: object, propensities: object, target_probs: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r = _as_vector("rewards", rewards)
    mu = _as_vector("propensities", propensities)
    pi = _as_vector("target_probs", target_probs)
    if not (r.size == mu.size == pi.size):
        raise ValueError(
            f"mismatched lengths: rewards has {r.size}, propensities {mu.size}, target_probs "
            f"{pi.size} entries; pass one entry per logged impression in each"
        )
    if r.size == 0:
        raise ValueError("no logged impressions: the arrays are empty")
    for name, arr in (("rewards", r), ("propensities", mu), ("target_probs", pi)):
        bad = ~np.isfinite(arr)
        if bad.any():
            raise ValueError(
                f"{name} has {int(bad.sum())} missing (NaN) or infinite entries at positions "
                f"{_positions(bad)}; every impression needs a finite value (drop or repair those "
                "rows)"
            )
    if (mu <= 0).any():
        bad = mu <= 0
        raise ValueError(
            f"propensities must be > 0, found {int(bad.sum())} zero or negative values at "
            f"positions {_positions(bad)}: importance weighting divides by the logging "
            "probability, so log the probability with which the deployed policy showed the item "
            "(it must be able to show it)"
        )
    if (mu > 1).any():
        bad = mu > 1
        raise ValueError(
            f"propensities must be probabilities <= 1, found {int(bad.sum())} values > 1 at "
            f"positions {_positions(bad)}: did you log a score or an inverse propensity instead of "
            "a probability?"
        )
    if ((pi < 0) | (pi > 1)).any():
        bad = (pi < 0) | (pi > 1)
        raise ValueError(
            f"target_probs must lie in [0, 1], found {int(bad.sum())} values outside at positions "
            f"{_positions(bad)}: pass the target policy's probability of each logged item"
        )
    return r, mu, pi


def _interval(value: float, terms_or_se: float, n: int, confidence: float) -> Estimate:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    se = float(terms_or_se)
    return Estimate(float(value), se, float(value - z * se), float(value + z * se), int(n))


def _mean_estimate(terms: np.ndarray, confidence: float) -> Estimate:
    n = terms.size
    se = float(np.std(terms, ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    return _interval(float(terms.mean()), se, n, confidence)


# ----------------------------------------------------------------------------------------------
# estimators
# ----------------------------------------------------------------------------------------------


def importance_weights(propensities: np.ndarray, target_probs: np.ndarray) -> np.ndarray:
    """Importance weights ``w_j = pi(a_j | u_j) / mu(a_j | u_j)`` (Horvitz & Thompson 1952).

    Parameters
    ----------
    propensities : array of shape (n,)
        Logging policy's probabilities of the logged items, in (0, 1].
    target_probs : array of shape (n,)
        Target policy's probabilities of the same items, in [0, 1].

    Returns
    -------
    np.ndarray of shape (n,)
    """
    _, mu, pi = _check_inputs(np.zeros(np.size(propensities)), propensities, target_probs)
    return pi / mu


def ips(
    rewards: np.ndarray,
    propensities: np.ndarray,
    target_probs: np.ndarray,
    confidence: float = 0.95,
) -> Estimate:
    """Inverse propensity scoring (IPS): ``V = (1/n) sum_j w_j r_j``.

    Unbiased whenever the logging policy gives every item the target policy may show a
    positive probability (Horvitz & Thompson 1952; Dudík, Langford & Li 2011).
    The standard error is the sample standard deviation of ``w_j r_j`` over ``sqrt(n)``.

    Parameters
    ----------
    rewards, propensities, target_probs : arrays of shape (n,)
        See the module docstring.
    confidence : float
        Level of the normal confidence interval.

    Returns
    -------
    Estimate
    """
    r, mu, pi = _check_inputs(rewards, propensities, target_probs)
    return _mean_estimate(pi / mu * r, confidence)


def clipped_ips(
    rewards: np.ndarray,
    propensities: np.ndarray,
    target_probs: np.ndarray,
    max_weight: float,
    confidence: float = 0.95,
) -> Estimate:
    """Clipped (truncated) IPS: ``V = (1/n) sum_j min(w_j, M) r_j``.

    Capping the weights at ``M`` trades a (downward, for non-negative rewards) bias for a lower
    variance (Ionides 2008; Bottou et al. 2013). ``M = inf`` gives plain IPS.

    Parameters
    ----------
    rewards, propensities, target_probs : arrays of shape (n,)
    max_weight : float
        The cap ``M`` > 0 on the importance weights.
    confidence : float

    Returns
    -------
    Estimate
        The standard error describes the spread of the clipped estimator only; it ignores the
        clipping bias, so its interval can miss the truth when ``M`` is small.
    """
    r, mu, pi = _check_inputs(rewards, propensities, target_probs)
    if not (isinstance(max_weight, (int, float, np.floating, np.integer)) and max_weight > 0):
        raise ValueError(
            f"max_weight must be a positive number (the weight cap M), got {max_weight!r}"
        )
    w = np.minimum(pi / mu, float(max_weight))
    return _mean_estimate(w * r, confidence)


def snips(
    rewards: np.ndarray,
    propensities: np.ndarray,
    target_probs: np.ndarray,
    confidence: float = 0.95,
) -> Estimate:
    """Self-normalised IPS: ``V = sum_j w_j r_j / sum_j w_j``.

    The self-normalised estimator of Swaminathan & Joachims (2015). Dividing by the realised sum
    of weights instead of ``n`` makes the estimate a weighted average of rewards (it stays within
    the reward range), removes the variance that comes from the weights' own fluctuation, and
    costs a small bias of order ``1/n``. The standard error uses the delta method,
    ``sqrt(sum_j w_j^2 (r_j - V)^2) / sum_j w_j`` (Owen 2013, ch. 9).

    Parameters
    ----------
    rewards, propensities, target_probs : arrays of shape (n,)
    confidence : float

    Returns
    -------
    Estimate
    """
    r, mu, pi = _check_inputs(rewards, propensities, target_probs)
    w = pi / mu
    total = w.sum()
    if total <= 0:
        raise ValueError(
            "SNIPS is undefined: the target policy gives probability 0 to every logged item "
            "(the sum of importance weights is 0); the logs carry no information about this policy"
        )
    value = float((w * r).sum() / total)
    se = float(np.sqrt(np.sum(w**2 * (r - value) ** 2)) / total) if r.size > 1 else float("nan")
    return _interval(value, se, r.size, confidence)


def direct_method(expected_rewards: np.ndarray, confidence: float = 0.95) -> Estimate:
    """Direct method (DM): average the reward model's value of the target policy over logged users.

    ``V = (1/n) sum_j sum_a pi(a | u_j) q_hat(u_j, a)``. No importance weights, so low variance, but
    biased by whatever the reward model gets wrong (Dudík, Langford & Li 2011). The
    standard error reflects only the sampling of users, not the model's error.

    Parameters
    ----------
    expected_rewards : array of shape (n,)
        ``sum_a pi(a | u_j) q_hat(u_j, a)`` for each logged impression's user.
    confidence : float

    Returns
    -------
    Estimate
    """
    q = _as_vector("expected_rewards", expected_rewards)
    if q.size == 0:
        raise ValueError("no logged impressions: expected_rewards is empty")
    if not np.isfinite(q).all():
        raise ValueError(
            "expected_rewards has missing (NaN) or infinite entries; repair the reward model"
        )
    return _mean_estimate(q, confidence)


def doubly_robust(
    rewards: np.ndarray,
    propensities: np.ndarray,
    target_probs: np.ndarray,
    reward_predictions: np.ndarray,
    expected_rewards: np.ndarray,
    confidence: float = 0.95,
) -> Estimate:
    """Doubly robust (DR) estimator: the direct method plus an IPS correction of its residuals.

    ``V = (1/n) sum_j [ sum_a pi(a|u_j) q_hat(u_j, a) + w_j (r_j - q_hat(u_j, a_j)) ]``
    (Dudík, Langford & Li 2011). Unbiased when the propensities are right, whatever the
    reward model; when the reward model is exact, the correction only carries reward noise.

    Parameters
    ----------
    rewards, propensities, target_probs : arrays of shape (n,)
    reward_predictions : array of shape (n,)
        ``q_hat(u_j, a_j)``, the reward model's prediction for the logged item.
    expected_rewards : array of shape (n,)
        ``sum_a pi(a | u_j) q_hat(u_j, a)``: the reward model's value of the target policy for
        the user of impression j.
    confidence : float

    Returns
    -------
    Estimate
    """
    r, mu, pi = _check_inputs(rewards, propensities, target_probs)
    q_logged = _as_vector("reward_predictions", reward_predictions)
    q_pi = _as_vector("expected_rewards", expected_rewards)
    if not (q_logged.size == q_pi.size == r.size):
        raise ValueError(
            f"mismatched lengths: {r.size} impressions but reward_predictions has "
            f"{q_logged.size} and expected_rewards {q_pi.size} entries; pass one per impression"
        )
    if not (np.isfinite(q_logged).all() and np.isfinite(q_pi).all()):
        raise ValueError(
            "the reward model's predictions contain NaN or infinite values; repair the model"
        )
    return _mean_estimate(q_pi + pi / mu * (r - q_logged), confidence)


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size of importance weights, ``(sum w)^2 / sum w^2``.

    Equals n for equal weights and shrinks towards 1 when a few impressions carry most of the
    weight (Kish 1965; Owen 2013, ch. 9).
    """
    w = _as_vector("weights", weights)
    if w.size == 0 or (w < 0).any() or not np.isfinite(w).all():
        raise ValueError("weights must be a non-empty array of finite, non-negative numbers")
    denom = float(np.sum(w**2))
    return float(w.sum() ** 2 / denom) if denom > 0 else 0.0


# ----------------------------------------------------------------------------------------------
# policies and their exact values
# ----------------------------------------------------------------------------------------------


def _check_policy(name: str, policy: np.ndarray, atol: float = 1e-6) -> np.ndarray:
    p = np.asarray(policy, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(
            f"{name} must be a (n_users, n_items) matrix of probabilities, got shape {p.shape}"
        )
    if not np.isfinite(p).all() or (p < 0).any():
        raise ValueError(f"{name} must contain finite, non-negative probabilities")
    rows = p.sum(axis=1)
    if not np.allclose(rows, 1.0, atol=atol):
        worst = int(np.argmax(np.abs(rows - 1)))
        raise ValueError(
            f"each row of {name} must sum to 1 (a distribution over items); row {worst} sums to "
            f"{rows[worst]:.6f}. Normalise with policy / policy.sum(axis=1, keepdims=True)"
        )
    return p


def softmax_policy(scores: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Stochastic policy ``pi(a | u) = softmax(scores[u] / temperature)``.

    Parameters
    ----------
    scores : array of shape (n_users, n_items)
    temperature : float
        > 0. Small values approach the greedy (top-1) policy, large values the uniform one.

    Returns
    -------
    np.ndarray float64 of shape (n_users, n_items), rows summing to 1.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2:
        raise ValueError(f"scores must be (n_users, n_items), got shape {s.shape}")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    z = s / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def policy_value(policy: np.ndarray, play_probability: np.ndarray) -> float:
    """Exact value of a policy in the simulator: ``mean_u sum_a pi(a|u) p(u, a)``.

    Users are weighted equally, as when the logs draw users uniformly at random.

    Parameters
    ----------
    policy : array of shape (n_users, n_items), rows summing to 1
    play_probability : array of shape (n_users, n_items)
        True probability of a play when the item is recommended.

    Returns
    -------
    float
    """
    pi = _check_policy("policy", policy)
    p = np.asarray(play_probability, dtype=np.float64)
    if p.shape != pi.shape:
        raise ValueError(f"policy has shape {pi.shape} but play_probability has shape {p.shape}")
    return float(np.einsum("ua,ua->u", pi, p).mean())


# ----------------------------------------------------------------------------------------------
# exact enumeration and repeated trials
# ----------------------------------------------------------------------------------------------


def exact_expectation(
    estimator: Callable[[np.ndarray, np.ndarray, np.ndarray], float | Estimate],
    logging_probs: np.ndarray,
    target_probs: np.ndarray,
    reward_probs: np.ndarray,
    n_impressions: int = 1,
) -> tuple[float, float]:
    """Mean and variance of an estimator over *every* possible log, by exact enumeration.

    One context, ``K`` actions, Bernoulli rewards. A log is ``n_impressions`` independent draws of
    (action ~ logging_probs, reward ~ Bernoulli(reward_probs[action])); there are ``(2K)^n`` logs.
    Comparing the mean with ``sum_a target_probs[a] * reward_probs[a]`` shows whether an estimator
    is unbiased (IPS is; SNIPS and clipped IPS are not).

    Parameters
    ----------
    estimator : callable
        ``estimator(rewards, propensities, target_probs)`` returning a float or an
        :class:`Estimate`.
        Logs on which it raises ``ValueError`` (e.g. SNIPS when all weights are 0) count as 0.
    logging_probs, target_probs : arrays of shape (K,), each summing to 1
    reward_probs : array of shape (K,), in [0, 1]
    n_impressions : int
        Size of each log; keep ``(2K)^n`` small (at most about a million).

    Returns
    -------
    (mean, variance) : tuple of float
    """
    mu = np.asarray(logging_probs, dtype=np.float64)
    pi = np.asarray(target_probs, dtype=np.float64)
    q = np.asarray(reward_probs, dtype=np.float64)
    if not (mu.ndim == pi.ndim == q.ndim == 1 and mu.size == pi.size == q.size):
        raise ValueError(
            "logging_probs, target_probs and reward_probs must be 1-D arrays of equal length K"
        )
    _check_policy("logging_probs", mu[None, :])
    _check_policy("target_probs", pi[None, :])
    if ((q < 0) | (q > 1)).any():
        raise ValueError("reward_probs must lie in [0, 1]")
    if n_impressions < 1 or (2 * mu.size) ** n_impressions > 2_000_000:
        raise ValueError("n_impressions must be >= 1 and keep (2K)^n_impressions below two million")
    outcomes = [(a, r) for a in range(mu.size) if mu[a] > 0 for r in (0, 1)]
    mean = second = 0.0
    for log in itertools.product(outcomes, repeat=n_impressions):
        actions = np.array([a for a, _ in log])
        rewards = np.array([r for _, r in log], dtype=np.float64)
        prob = float(np.prod(mu[actions] * np.where(rewards == 1, q[actions], 1 - q[actions])))
        if prob == 0:
            continue
        try:
            value = float(estimator(rewards, mu[actions], pi[actions]))
        except ValueError:
            value = 0.0
        mean += prob * value
        second += prob * value**2
    return mean, second - mean**2


class LogSimulator:
    """Draw logged impressions from a simulator's exact probabilities, for repeated trials.

    Each impression picks a user uniformly at random, an item from ``logging_policy[user]`` and a
    play with probability ``play_probability[user, item]``: the process behind
    ``world.logged_feedback`` (chapter 08), re-run with any seed.

    Parameters
    ----------
    logging_policy : array of shape (n_users, n_items), rows summing to 1, all entries > 0
    play_probability : array of shape (n_users, n_items), in [0, 1]
    """

    def __init__(self, logging_policy: np.ndarray, play_probability: np.ndarray) -> None:
        self.logging_policy = _check_policy("logging_policy", logging_policy)
        self.play_probability = np.asarray(play_probability, dtype=np.float64)
        if self.play_probability.shape != self.logging_policy.shape:
            raise ValueError(
                f"logging_policy has shape {self.logging_policy.shape} but play_probability has "
                f"shape {self.play_probability.shape}"
            )
        n_users, n_items = self.logging_policy.shape
        self.n_users, self.n_items = n_users, n_items
        # joint distribution of (user, item): uniform user, then the logging policy
        self._cdf = np.cumsum(self.logging_policy.ravel()) / n_users
        self._cdf[-1] = 1.0

    def true_value(self, policy: np.ndarray) -> float:
        """Exact value of ``policy`` under this simulator (see :func:`policy_value`)."""
        return policy_value(policy, self.play_probability)

    def sample(
        self, n_impressions: int, seed: int = 0, recorded_policy: np.ndarray | None = None
    ) -> pd.DataFrame:
        """One log of ``n_impressions`` rows: ``user``, ``item``, ``propensity``, ``played``.

        Parameters
        ----------
        n_impressions : int
        seed : int
        recorded_policy : array of shape (n_users, n_items), optional
            If given, the ``propensity`` column is read from this matrix instead of the policy that
            really chose the items: a model of propensities that were logged wrongly.
        """
        if n_impressions < 1:
            raise ValueError(f"n_impressions must be >= 1, got {n_impressions}")
        rng = np.random.default_rng(seed)
        # sorted keys make the search cache-friendly; rows come out grouped by user
        flat = np.searchsorted(self._cdf, np.sort(rng.random(n_impressions)), side="right")
        flat = np.minimum(flat, self._cdf.size - 1)
        users, items = np.divmod(flat, self.n_items)
        recorded = self.logging_policy if recorded_policy is None else np.asarray(recorded_policy)
        if recorded.shape != self.logging_policy.shape:
            raise ValueError(f"recorded_policy must have shape {self.logging_policy.shape}")
        played = rng.random(n_impressions) < self.play_probability[users, items]
        return pd.DataFrame(
            {
                "user": users.astype(np.int64),
                "item": items.astype(np.int64),
                "propensity": recorded[users, items].astype(np.float64),
                "played": played.astype(np.int8),
            }
        )


def _log_columns(logs: pd.DataFrame) -> tuple[np.ndarray, ...]:
    missing = {"user", "item", "propensity", "played"} - set(logs.columns)
    if missing:
        raise ValueError(
            f"logs lack the columns {sorted(missing)}; expected user, item, propensity, played"
        )
    return (
        logs["user"].to_numpy(),
        logs["item"].to_numpy(),
        logs["played"].to_numpy(dtype=np.float64),
        logs["propensity"].to_numpy(dtype=np.float64),
    )


def _reward_model_values(
    target_policy: np.ndarray, reward_model: np.ndarray | None
) -> tuple[np.ndarray | None, np.ndarray | None]:
    if reward_model is None:
        return None, None
    q = np.asarray(reward_model, dtype=np.float64)
    if q.shape != np.shape(target_policy):
        raise ValueError(f"reward_model must have shape {np.shape(target_policy)}, got {q.shape}")
    return q, np.einsum("ua,ua->u", target_policy, q)


def _evaluate(
    logs: pd.DataFrame,
    target_policy: np.ndarray,
    q: np.ndarray | None,
    q_pi: np.ndarray | None,
    max_weight: float,
    confidence: float,
) -> dict[str, Estimate]:
    u, a, r, mu = _log_columns(logs)
    pi = target_policy[u, a]
    out = {
        "IPS": ips(r, mu, pi, confidence),
        "clipped IPS": clipped_ips(r, mu, pi, max_weight, confidence),
        "SNIPS": snips(r, mu, pi, confidence),
    }
    if q is not None and q_pi is not None:
        out["DM"] = direct_method(q_pi[u], confidence)
        out["DR"] = doubly_robust(r, mu, pi, q[u, a], q_pi[u], confidence)
    return out


def evaluate_logs(
    logs: pd.DataFrame,
    target_policy: np.ndarray,
    reward_model: np.ndarray | None = None,
    max_weight: float = 10.0,
    confidence: float = 0.95,
) -> dict[str, Estimate]:
    """All estimators of this module on one log.

    Parameters
    ----------
    logs : DataFrame with columns ``user``, ``item``, ``propensity``, ``played``
        (the layout of ``world.logged_feedback``).
    target_policy : array of shape (n_users, n_items), rows summing to 1
    reward_model : array of shape (n_users, n_items), optional
        Predicted play probabilities ``q_hat``; adds the direct method ("DM") and "DR".
    max_weight : float
        Cap of clipped IPS.
    confidence : float

    Returns
    -------
    dict mapping "IPS", "clipped IPS", "SNIPS" (and "DM", "DR") to :class:`Estimate`
    """
    pi = _check_policy("target_policy", target_policy)
    q, q_pi = _reward_model_values(pi, reward_model)
    return _evaluate(logs, pi, q, q_pi, max_weight, confidence)


def _trial_seeds(seed: int, n_trials: int) -> np.ndarray:
    if n_trials < 1:
        raise ValueError(f"n_trials must be >= 1, got {n_trials}")
    return np.random.SeedSequence(seed).generate_state(n_trials)


def repeated_trials(
    simulator: LogSimulator,
    target_policy: np.ndarray,
    n_impressions: int,
    n_trials: int,
    seed: int = 0,
    reward_model: np.ndarray | None = None,
    max_weight: float = 10.0,
    recorded_policy: np.ndarray | None = None,
) -> pd.DataFrame:
    """Re-draw ``n_trials`` logs from ``simulator`` and run :func:`evaluate_logs` on each.

    Parameters
    ----------
    simulator : LogSimulator
    target_policy : array (n_users, n_items)
    n_impressions, n_trials : int
    seed : int
        Seeds the trials (trial t uses the t-th seed of ``np.random.SeedSequence(seed)``).
    reward_model : array (n_users, n_items), optional
        Adds "DM" and "DR".
    max_weight : float
        Cap of clipped IPS.
    recorded_policy : array (n_users, n_items), optional
        Log propensities from this matrix instead of the true logging policy (see
        :meth:`LogSimulator.sample`).

    Returns
    -------
    DataFrame with one row per (trial, estimator): ``trial``, ``estimator``, ``estimate``,
    ``std_error``, ``covers`` (whether the interval contains the exact value) and ``error``
    (estimate minus the exact value).
    """
    pi = _check_policy("target_policy", target_policy)
    truth = simulator.true_value(pi)
    q, q_pi = _reward_model_values(pi, reward_model)
    rows = []
    for trial, trial_seed in enumerate(_trial_seeds(seed, n_trials)):
        logs = simulator.sample(n_impressions, int(trial_seed), recorded_policy=recorded_policy)
        for name, est in _evaluate(logs, pi, q, q_pi, max_weight, 0.95).items():
            rows.append(
                (trial, name, est.value, est.std_error, est.covers(truth), est.value - truth)
            )
    return pd.DataFrame(
        rows, columns=["trial", "estimator", "estimate", "std_error", "covers", "error"]
    )


def summarise_trials(trials: pd.DataFrame) -> pd.DataFrame:
    """Bias, spread and interval coverage of each estimator over repeated trials.

    Parameters
    ----------
    trials : DataFrame
        The output of :func:`repeated_trials`.

    Returns
    -------
    DataFrame indexed by estimator: ``mean`` estimate, ``bias`` (mean error), ``std`` (standard
    deviation of the estimates), ``rmse`` and ``coverage`` (share of 95 % intervals that contain
    the exact value), in the order the estimators first appear.
    """
    order = list(dict.fromkeys(trials["estimator"]))
    summary = trials.groupby("estimator").agg(
        mean=("estimate", "mean"),
        bias=("error", "mean"),
        std=("estimate", "std"),
        rmse=("error", lambda e: float(np.sqrt(np.mean(np.square(e))))),
        coverage=("covers", "mean"),
    )
    return summary.loc[order]


def clipping_sweep(
    simulator: LogSimulator,
    target_policy: np.ndarray,
    max_weights: np.ndarray,
    n_impressions: int,
    n_trials: int,
    seed: int = 0,
) -> pd.DataFrame:
    """Bias, standard deviation and RMSE of clipped IPS for several weight caps ``M``.

    Every cap is applied to the same ``n_trials`` logs (drawn as in :func:`repeated_trials`), so
    the curves differ only through ``M``. ``M = inf`` is plain IPS.

    Returns
    -------
    DataFrame with columns ``max_weight``, ``bias``, ``std``, ``rmse``.
    """
    pi = _check_policy("target_policy", target_policy)
    caps = np.asarray(max_weights, dtype=np.float64)
    if caps.ndim != 1 or caps.size == 0 or (caps <= 0).any():
        raise ValueError("max_weights must be a non-empty 1-D array of positive caps")
    truth = simulator.true_value(pi)
    estimates = np.empty((n_trials, caps.size))
    for trial, trial_seed in enumerate(_trial_seeds(seed, n_trials)):
        u, a, r, mu = _log_columns(simulator.sample(n_impressions, int(trial_seed)))
        w = pi[u, a] / mu
        estimates[trial] = (np.minimum(w[:, None], caps[None, :]) * r[:, None]).mean(axis=0)
    errors = estimates - truth
    return pd.DataFrame(
        {
            "max_weight": caps,
            "bias": errors.mean(axis=0),
            "std": estimates.std(axis=0, ddof=1),
            "rmse": np.sqrt(np.mean(errors**2, axis=0)),
        }
    )


# ----------------------------------------------------------------------------------------------
# plots (the course_lib.plotting contract: ax=None, labelled axes, return the figure)
# ----------------------------------------------------------------------------------------------


def plot_estimates(
    trials: pd.DataFrame,
    truth: float,
    *,
    ax: Axes | None = None,
    title: str | None = "Estimates over re-drawn logs",
    figsize: tuple[float, float] = (7, 3),
) -> Figure:
    """Box plot of each estimator's estimates over repeated trials, with the exact value.

    Parameters
    ----------
    trials : DataFrame
        The output of :func:`repeated_trials`.
    truth : float
        The exact value of the target policy (a dashed line).
    """
    from course_lib.plotting import axes_or_new

    order = list(dict.fromkeys(trials["estimator"]))
    groups = [trials.loc[trials["estimator"] == name, "estimate"].to_numpy() for name in order]
    fig, ax = axes_or_new(ax, figsize)
    ax.boxplot(groups, showmeans=True, meanprops={"marker": "^"})
    ax.set_xticks(range(1, len(order) + 1), order)
    ax.axhline(truth, color="C3", linestyle="--", linewidth=1, label="exact value")
    ax.set_ylabel("estimated play rate")
    ax.legend(loc="best")
    if title:
        ax.set_title(title)
    return fig


def plot_clipping(
    sweep: pd.DataFrame,
    *,
    ax: Axes | None = None,
    title: str | None = "Clipped IPS: bias against variance",
    figsize: tuple[float, float] = (6, 3),
) -> Figure:
    """Squared bias, variance and mean squared error of clipped IPS against the cap ``M``.

    Parameters
    ----------
    sweep : DataFrame
        The output of :func:`clipping_sweep`; a row with ``max_weight = inf`` (plain IPS) is drawn
        as a horizontal line.
    """
    from course_lib.plotting import axes_or_new

    finite = sweep[np.isfinite(sweep["max_weight"])]
    fig, ax = axes_or_new(ax, figsize)
    m = finite["max_weight"]
    ax.plot(m, finite["bias"] ** 2, marker="o", label="bias²")
    ax.plot(m, finite["std"] ** 2, marker="o", label="variance")
    ax.plot(m, finite["rmse"] ** 2, marker="o", color="k", label="MSE")
    plain = sweep[~np.isfinite(sweep["max_weight"])]
    if len(plain):
        ax.axhline(float(plain["rmse"].iloc[0]) ** 2, color="k", linestyle=":", label="MSE of IPS")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("weight cap M")
    ax.set_ylabel("squared error (play rate²)")
    ax.legend(loc="best", fontsize="small")
    if title:
        ax.set_title(title)
    return fig
