"""Exact enumeration: every possible log of a tiny problem, and an estimator's exact moments.

Taught in chapter 08 (``chapters/08_beyond_accuracy.md``, "3. Unbiased, exactly: enumerating
every possible log"); exercise 8.1 asks for the same enumeration by hand
(:func:`course_lib.counterfactual.checks.enumerate_ips` is its reference answer). With one user,
``K`` items and ``n`` impressions there are ``(2K)^n`` logs; summing an estimator over all of
them, weighted by their probabilities, gives its exact mean and variance, no sampling noise.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import NoReturn

import numpy as np

from course_lib.counterfactual.estimators import Estimate
from course_lib.counterfactual.policies import _validate_policy, _validate_probabilities
from course_lib.validation import require_int

__all__ = ["exact_expectation"]

#: The most logs :func:`exact_expectation` enumerates.
MAX_LOGS = 2_000_000


def _all_logs(
    logging_probs: np.ndarray, reward_probs: np.ndarray, n_impressions: int
) -> Iterator[tuple[float, np.ndarray, np.ndarray]]:
    """Every log of ``n_impressions`` as ``(probability, items, rewards)``.

    Each impression shows item ``a`` with probability ``logging_probs[a]`` (items with
    probability 0 never appear) and is played with probability ``reward_probs[a]``.
    """
    mu, q = logging_probs, reward_probs
    outcomes = [(a, r) for a in range(mu.size) if mu[a] > 0 for r in (0, 1)]
    for log in itertools.product(outcomes, repeat=n_impressions):
        items = np.array([a for a, _ in log])
        rewards = np.array([r for _, r in log], dtype=np.float64)
        yield (
            float(np.prod(mu[items] * np.where(rewards == 1, q[items], 1 - q[items]))),
            items,
            rewards,
        )


def _validate_problem(
    logging_probs: object, target_probs: object, reward_probs: object, n_impressions: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The tiny problem of :func:`exact_expectation` as float64 vectors, or a clear error."""
    shapes = [np.shape(v) for v in (logging_probs, target_probs, reward_probs)]
    if not (all(len(shape) == 1 for shape in shapes) and len(set(shapes)) == 1):
        raise ValueError(
            "logging_probs, target_probs and reward_probs must be 1-D arrays of equal length K, "
            f"got shapes {shapes}"
        )
    mu = _validate_policy("logging_probs", np.asarray(logging_probs)[None, :])[0]
    pi = _validate_policy("target_probs", np.asarray(target_probs)[None, :])[0]
    q = _validate_probabilities("reward_probs", np.asarray(reward_probs)[None, :])[0]
    n_impressions = require_int(n_impressions, "n_impressions", 1)
    if (2 * mu.size) ** n_impressions > MAX_LOGS:
        raise ValueError(
            f"{2 * mu.size}^{n_impressions} logs are too many to enumerate (at most {MAX_LOGS:,}); "
            "use fewer impressions or items"
        )
    return mu, pi, q, n_impressions


def _reraise(error: Exception, note: str) -> NoReturn:
    """Raise ``error`` with ``note`` added (Python >= 3.11), or a copy whose message has it."""
    if hasattr(error, "add_note"):
        error.add_note(note)
        raise error
    try:
        copy = type(error)(f"{error}\n{note}")
    except Exception:  # noqa: BLE001 - an exception class with another constructor
        copy = RuntimeError(f"{type(error).__name__}: {error}\n{note}")
    raise copy from error


def _describe_log(items: np.ndarray, rewards: np.ndarray, mu: np.ndarray, pi: np.ndarray) -> str:
    return (
        f"the log items={items.tolist()}, rewards={rewards.astype(int).tolist()} (propensities "
        f"{mu.tolist()}, target probabilities {pi.tolist()})"
    )


def _estimate_on(
    estimator: Callable[..., float | Estimate],
    rewards: np.ndarray,
    propensities: np.ndarray,
    target_probs: np.ndarray,
    items: np.ndarray,
) -> float:
    """The estimator's value on one log; 0 where it is undefined (no target weight at all)."""
    try:
        value = estimator(rewards, propensities, target_probs)
    except Exception as error:
        if isinstance(error, ValueError) and not np.any(target_probs > 0):
            return 0.0  # e.g. SNIPS: undefined when every importance weight is 0
        log = _describe_log(items, rewards, propensities, target_probs)
        _reraise(error, f"exact_expectation: the estimator failed on {log}; call it on these")
    try:
        return float(value)
    except (TypeError, ValueError):
        log = _describe_log(items, rewards, propensities, target_probs)
        raise TypeError(
            f"exact_expectation: the estimator returned {repr(value)[:80]} on {log}, which is "
            "not a number: an estimator must return a float or an Estimate"
        ) from None


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
        :class:`Estimate`. On a log where the target policy gives probability 0 to every
        logged item, an estimator may raise ``ValueError`` (SNIPS is undefined there: all
        weights are 0); such a log counts as the estimate 0. Any other error is raised, with
        a note naming the log it happened on: a broken estimator is never scored as 0.
    logging_probs, target_probs : arrays of shape (K,), each summing to 1
    reward_probs : array of shape (K,), in [0, 1]
    n_impressions : int
        Size of each log; keep ``(2K)^n`` small (at most about a million).

    Returns
    -------
    (mean, variance) : tuple of float

    Raises
    ------
    TypeError, ValueError
        An estimator that is not callable; arrays that are not 1-D of one length ``K``, text,
        NaN, probabilities that are negative or do not sum to 1, reward probabilities outside
        [0, 1]; an ``n_impressions`` that is not an integer >= 1 or makes more than
        :data:`MAX_LOGS` logs.
    Exception
        Whatever the estimator raises (other than on a log without target weight), or a
        ``TypeError`` if it returns something that is not a number; a note names the log.
    """
    if not callable(estimator):
        raise TypeError(f"estimator must be a function such as ips, got {estimator!r}")
    mu, pi, q, n_impressions = _validate_problem(
        logging_probs, target_probs, reward_probs, n_impressions
    )
    mean = second = 0.0
    for prob, items, rewards in _all_logs(mu, q, n_impressions):
        if prob == 0:
            continue
        value = _estimate_on(estimator, rewards, mu[items], pi[items], items)
        mean += prob * value
        second += prob * value**2
    return mean, second - mean**2
