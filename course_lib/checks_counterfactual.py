"""Exercise checks of chapter 08 (beyond accuracy): SNIPS, and IPS by exact enumeration.

Built on :func:`course_lib.checks.run_check`, so the verdicts read like every other chapter's:
"Correct", "Not quite" (with what differs and a hint) or "Not implemented yet" (a stub that still
raises ``NotImplementedError``; not an error, the notebook keeps running). Re-exported by
:mod:`course_lib.checks`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from course_lib.counterfactual import exact_expectation, ips, snips

if TYPE_CHECKING:
    from course_lib.checks import Case, CheckResult

__all__ = ["check_ips_enumeration", "check_snips", "enumerate_ips"]


def _snips_cases() -> list[Case]:
    from course_lib.checks import Case

    rng = np.random.default_rng(8)
    cases = []
    for n, label in ((1, "one impression"), (7, "seven impressions"), (200, "200 impressions")):
        rewards = (rng.random(n) < 0.3).astype(np.float64)
        if n > 1:
            rewards[:2] = (1.0, 0.0)
        propensities = rng.uniform(0.01, 0.5, n)
        target_probs = rng.uniform(0.05, 1.0, n)
        cases.append(Case((rewards, propensities, target_probs), label=label))
    rewards = rng.normal(2.0, 1.0, 50)
    cases.append(
        Case(
            (rewards, rng.uniform(0.05, 1.0, 50), rng.uniform(0.0, 1.0, 50)),
            label="real-valued rewards",
        )
    )
    return cases


def _snips_property(case: Case, got: Any) -> str | None:
    rewards, propensities, target_probs = case.args
    try:
        value = float(got)
    except (TypeError, ValueError):
        return f"expected a number, got a {type(got).__name__}"
    want = snips(rewards, propensities, target_probs).value
    if np.isclose(value, want, rtol=1e-7, atol=1e-12):
        return None
    w = target_probs / propensities
    slips = {
        "the IPS estimate (the sum of w * r divided by n); divide by the sum of the weights "
        "instead": float(np.mean(w * rewards)),
        "sum(pi * mu * r) / sum(pi * mu); the weight is pi / mu, not pi * mu": float(
            np.sum(target_probs * propensities * rewards) / np.sum(target_probs * propensities)
        ),
        "sum(w * r) / sum(pi); normalise by the sum of the weights w = pi / mu": float(
            np.sum(w * rewards) / np.sum(target_probs)
        ),
        "the plain mean reward of the log; weight each impression by w = pi / mu": float(
            np.mean(rewards)
        ),
    }
    for slip, slip_value in slips.items():
        if np.isclose(value, slip_value, rtol=1e-7, atol=1e-12):
            return f"you returned {value:.6g}, which is {slip}"
    return f"you returned {value:.6g}, expected {want:.6g}"


def check_snips(student_fn: Callable[[np.ndarray, np.ndarray, np.ndarray], float]) -> CheckResult:
    """Check ``my_snips(rewards, propensities, target_probs) -> float`` (chapter 08, exercise 1).

    Compared with :func:`course_lib.counterfactual.snips` on four seeded logs (one, seven and 200
    impressions with 0/1 rewards, and real-valued rewards); the verdict names the usual slips:
    dividing by n as IPS does, weighting by ``pi * mu``, normalising by ``sum(pi)``, or ignoring
    the weights.
    """
    from course_lib.checks import run_check

    return run_check(
        student_fn,
        None,
        _snips_cases(),
        name="my_snips",
        properties=[_snips_property],
        hint="SNIPS is sum(w * r) / sum(w) with w = target_probs / propensities.",
    )


def enumerate_ips(
    logging_probs: np.ndarray,
    target_probs: np.ndarray,
    reward_probs: np.ndarray,
    n_impressions: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Every possible log of a tiny problem, with its probability and its IPS estimate.

    The reference answer of chapter 08's exercise 2. One user, ``K`` items; each of the
    ``n_impressions`` impressions shows item ``a`` with probability ``logging_probs[a]`` and is
    played with probability ``reward_probs[a]``. There are ``(2K)^n`` logs (items with logging
    probability 0 never appear).

    Returns
    -------
    probabilities, estimates : np.ndarray of shape ((2K)^n,)
        ``probabilities @ estimates`` is the exact expectation of IPS, which equals
        ``target_probs @ reward_probs`` (Horvitz & Thompson 1952).
    """
    mu = np.asarray(logging_probs, dtype=np.float64)
    pi = np.asarray(target_probs, dtype=np.float64)
    q = np.asarray(reward_probs, dtype=np.float64)
    outcomes = [(a, r) for a in range(mu.size) if mu[a] > 0 for r in (0, 1)]
    probabilities, estimates = [], []
    for log in itertools.product(outcomes, repeat=n_impressions):
        items = np.array([a for a, _ in log])
        rewards = np.array([r for _, r in log], dtype=np.float64)
        probabilities.append(np.prod(mu[items] * np.where(rewards == 1, q[items], 1 - q[items])))
        estimates.append(np.mean(pi[items] / mu[items] * rewards))
    return np.array(probabilities), np.array(estimates)


def _enumeration_cases() -> list[Case]:
    from course_lib.checks import Case

    a = (np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.3, 0.5]), np.array([0.1, 0.5, 0.9]))
    b = (np.array([0.7, 0.2, 0.1]), np.array([0.0, 0.1, 0.9]), np.array([0.3, 0.2, 0.6]))
    return [
        Case((*a, 1), label="three items, one impression"),
        Case((*a, 2), label="three items, two impressions"),
        Case((*b, 2), label="a target policy that never shows item 0, two impressions"),
    ]


def _enumeration_property(case: Case, got: Any) -> str | None:
    mu, pi, q, n = case.args
    try:
        probabilities, estimates = (np.asarray(x, dtype=np.float64).ravel() for x in got)
    except (TypeError, ValueError):
        return "return two arrays: (probabilities, estimates), one entry per possible log"
    if probabilities.shape != estimates.shape:
        return "probabilities and estimates must have one entry per possible log each"
    total = probabilities.sum()
    if not np.isclose(total, 1.0):
        return (
            f"the probabilities of your logs sum to {total:.4f}, not 1: enumerate every (item, "
            "played or not) outcome of every impression, including the impressions not played"
        )
    mean = float(probabilities @ estimates)
    truth = float(pi @ q)
    if not np.isclose(mean, truth):
        return (
            f"your expectation is {mean:.6f} but the target policy's true value is {truth:.6f}: "
            "on each log IPS is the mean of r * pi(a) / mu(a), and a log's probability multiplies "
            "mu(a) by P(r | a) over its impressions"
        )
    variance = float(probabilities @ (estimates - mean) ** 2)
    exact_variance = exact_expectation(ips, mu, pi, q, n)[1]
    if not np.isclose(variance, exact_variance, rtol=1e-6, atol=1e-12):
        return (
            f"the expectation is right, but your estimates spread with variance {variance:.5f} "
            f"instead of IPS's {exact_variance:.5f}: return one IPS estimate per possible log, "
            "not the true value itself"
        )
    return None


def check_ips_enumeration(
    student_fn: Callable[[np.ndarray, np.ndarray, np.ndarray, int], tuple[np.ndarray, np.ndarray]],
) -> CheckResult:
    """Check ``my_enumerate_ips(logging_probs, target_probs, reward_probs, n_impressions)``.

    Chapter 08, exercise 2. The function returns ``(probabilities, estimates)`` over every
    possible log. The check asks that the probabilities sum to 1, that the expectation equals the
    true value ``sum_a pi_a q_a`` (IPS is unbiased) and that the variance equals the exact one
    (so the logs were really enumerated, not replaced by the answer).
    """
    from course_lib.checks import run_check

    return run_check(
        student_fn,
        None,
        _enumeration_cases(),
        name="my_enumerate_ips",
        properties=[_enumeration_property],
        hint=(
            "loop over itertools.product(outcomes, repeat=n_impressions) with outcomes all "
            "(item, reward) pairs; multiply mu[a] * P(r | a) for the probability and average "
            "r * pi[a] / mu[a] for the estimate"
        ),
    )
