"""Off-policy estimators: IPS, clipped IPS, SNIPS, the direct method and doubly robust.

Taught in chapter 08 (``chapters/08_beyond_accuracy.md``): "2. Inverse propensity scoring"
(:func:`ips` and :func:`effective_sample_size`; the chapter writes the weights of
:func:`importance_weights` out by hand), "3. Unbiased, exactly" and "4. Five estimators over many
re-drawn logs" (:func:`snips`, :func:`clipped_ips`; the chapter writes :func:`direct_method` and
:func:`doubly_robust` by hand on the world's log, checks them against these, then runs all five
through :func:`~course_lib.counterfactual.repeated_trials`), and exercise 8.3 (SNIPS). A
deployed stochastic recommender (the *logging policy* ``mu``) showed item ``a_j`` to user
``u_j`` with a known probability (the *propensity* ``mu(a_j | u_j)``) and recorded whether it
was played (the *reward* ``r_j``). A *target policy* ``pi`` that was never deployed can then be
evaluated from the same logs by reweighting each impression with the importance weight
``w_j = pi(a_j | u_j) / mu(a_j | u_j)``.

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
error and a normal-approximation confidence interval. Every one refuses, with a message that
names the argument and the fix: ``None``, text or non-1-D arrays, arrays of different lengths,
empty logs, NaN or infinite values, propensities outside (0, 1] (or given as booleans), target
probabilities outside [0, 1], and a ``confidence`` outside (0, 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from course_lib.validation import require_number

__all__ = [
    "Estimate",
    "clipped_ips",
    "direct_method",
    "doubly_robust",
    "effective_sample_size",
    "importance_weights",
    "ips",
    "snips",
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


def _as_vector(name: str, x: object, allow_bool: bool = True) -> np.ndarray:
    """``x`` as a 1-D float64 array, one value per logged impression; text is refused."""
    if x is None:
        raise TypeError(
            f"{name} is missing (got None): pass one value per logged impression, "
            "e.g. a column of the logged_feedback table"
        )
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be numbers, one per logged impression: {err}") from None
    if raw.dtype.kind in "USV" or (
        raw.dtype == object and any(isinstance(v, str | bytes) for v in raw.ravel())
    ):
        raise TypeError(
            f"{name} holds text, not numbers; convert the column first, e.g. "
            f"pd.to_numeric(logs[{name!r}]) or np.asarray(..., dtype=float)"
        )
    is_bool = raw.dtype.kind == "b"
    if raw.dtype == object:
        missing = np.asarray(pd.isna(raw), dtype=bool)  # pd.NA, None and NaN alike
        if missing.any():
            present = raw[~missing]
            is_bool = present.size > 0 and all(isinstance(v, bool | np.bool_) for v in present)
            x = np.where(missing, np.nan, raw)
    if is_bool and not allow_bool:
        raise TypeError(
            f"{name} holds True/False values, not probabilities: pass the probability with "
            "which the logging policy showed each item (the propensity column of the log)"
        )
    try:
        arr = np.asarray(x, dtype=np.float64)  # missing values (pd.NA, None) are NaN now
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


def _validate_logged(
    rewards: object, propensities: object, target_probs: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three columns of a log as float64 vectors, or a clear error (see the module doc)."""
    r = _as_vector("rewards", rewards)
    mu = _as_vector("propensities", propensities, allow_bool=False)
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


def _require_confidence(confidence: object) -> float:
    level = require_number(confidence, "confidence", minimum=0, maximum=1, strict_minimum=True)
    if level == 1:
        raise ValueError("confidence must be in (0, 1), e.g. 0.95; a 100 % interval is infinite")
    return level


def _interval(value: float, terms_or_se: float, n: int, confidence: float) -> Estimate:
    confidence = _require_confidence(confidence)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    se = float(terms_or_se)
    return Estimate(float(value), se, float(value - z * se), float(value + z * se), int(n))


def _mean_estimate(terms: np.ndarray, confidence: float) -> Estimate:
    n = terms.size
    se = float(np.std(terms, ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    return _interval(float(terms.mean()), se, n, confidence)


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
    _, mu, pi = _validate_logged(np.zeros(np.size(propensities)), propensities, target_probs)
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
    r, mu, pi = _validate_logged(rewards, propensities, target_probs)
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
    r, mu, pi = _validate_logged(rewards, propensities, target_probs)
    if not (isinstance(max_weight, float | np.floating) and max_weight == np.inf):
        require_number(max_weight, "max_weight (the weight cap M)", minimum=0, strict_minimum=True)
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
    r, mu, pi = _validate_logged(rewards, propensities, target_probs)
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
    r, mu, pi = _validate_logged(rewards, propensities, target_probs)
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
