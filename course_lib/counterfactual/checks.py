"""Exercise checks of chapter 08 (beyond accuracy): SNIPS, IPS by enumeration, clipping's MSE.

Taught in chapter 08 (``chapters/08_beyond_accuracy.md``, sections 3 and "Exercises"):
exercise 8.1 enumerates every possible log (:func:`check_ips_enumeration`; :func:`enumerate_ips`
is the reference answer, which the facade does not export), exercise 8.3 writes ``my_snips``
(:func:`check_snips`) and exercise 8.5 writes the exact MSE of clipped IPS
(:func:`check_clipped_mse`). Built on
:func:`course_lib.checking.run_check`, so the verdicts read like every other chapter's: "Correct",
"Not quite" (with what differs and a hint) or "Not implemented yet" (a stub that still raises
``NotImplementedError``; not an error, the notebook keeps running). Chapters call them through
the facade: ``from course_lib import checks; checks.check_snips(my_snips)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from course_lib.checking import Case, CheckResult, run_check
from course_lib.counterfactual.enumeration import _all_logs, _validate_problem, exact_expectation
from course_lib.counterfactual.estimators import ips, snips

__all__ = ["check_clipped_mse", "check_ips_enumeration", "check_snips"]  # not enumerate_ips


def _snips_cases() -> list[Case]:
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
        "the IPS estimate: you divided by the number of impressions; look again at what the "
        "formula of the exercise divides by": float(np.mean(w * rewards)),
        "what you get when each impression is weighted by pi * mu: the weight says how much "
        "more often the target policy shows the item than the logging policy did": float(
            np.sum(target_probs * propensities * rewards) / np.sum(target_probs * propensities)
        ),
        "the weighted rewards divided by the sum of the target probabilities: the normaliser "
        "must be made of the same numbers that weight the rewards": float(
            np.sum(w * rewards) / np.sum(target_probs)
        ),
        "the plain mean reward of the log, which estimates the logging policy; each impression "
        "needs its importance weight": float(np.mean(rewards)),
        "what you get with the weights upside down, mu / pi: the weight is how much more often "
        "the target policy shows the item than the logging policy did": float(
            np.sum(propensities / target_probs * rewards) / np.sum(propensities / target_probs)
        ),
        "the weighted rewards divided by the sum of the rewards: the normaliser is made of "
        "the weights alone": (
            float(np.sum(w * rewards) / np.sum(rewards)) if np.sum(rewards) else np.nan
        ),
    }
    for slip, slip_value in slips.items():
        if np.isclose(value, slip_value, rtol=1e-7, atol=1e-12):
            return f"you returned {value:.6g}, which is {slip}"
    return f"you returned {value:.6g}, expected {want:.6g}"


def check_snips(student_fn: Callable[[np.ndarray, np.ndarray, np.ndarray], float]) -> CheckResult:
    """Check ``my_snips(rewards, propensities, target_probs) -> float`` (chapter 08, exercise 8.3).

    Compared with :func:`course_lib.counterfactual.snips` on four seeded logs (one, seven and 200
    impressions with 0/1 rewards, and real-valued rewards); the verdict names the usual slips:
    dividing by n as IPS does, weighting by ``pi * mu``, normalising by ``sum(pi)``, or ignoring
    the weights.
    """
    return run_check(
        student_fn,
        None,
        _snips_cases(),
        name="my_snips",
        properties=[_snips_property],
        forbidden=[snips],
        hint=(
            "compute one importance weight per impression first (section 2 of the chapter), "
            "then follow the exercise's formula term by term: what is summed above the line, "
            "and what below it?"
        ),
    )


def enumerate_ips(
    logging_probs: np.ndarray,
    target_probs: np.ndarray,
    reward_probs: np.ndarray,
    n_impressions: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Every possible log of a tiny problem, with its probability and its IPS estimate.

    The reference answer of chapter 08's exercise 8.1. One user, ``K`` items; each of the
    ``n_impressions`` impressions shows item ``a`` with probability ``logging_probs[a]`` and is
    played with probability ``reward_probs[a]``. There are ``(2K)^n`` logs (items with logging
    probability 0 never appear).

    Returns
    -------
    probabilities, estimates : np.ndarray of shape ((2K)^n,)
        ``probabilities @ estimates`` is the exact expectation of IPS, which equals
        ``target_probs @ reward_probs`` (Horvitz & Thompson 1952).

    Raises
    ------
    TypeError, ValueError
        What :func:`~course_lib.counterfactual.exact_expectation` refuses: arrays that are not
        1-D of one length, NaN, probabilities that do not sum to 1, too many logs.
    """
    mu, pi, q, n_impressions = _validate_problem(
        logging_probs, target_probs, reward_probs, n_impressions
    )
    probabilities, estimates = [], []
    for probability, items, rewards in _all_logs(mu, q, n_impressions):
        probabilities.append(probability)
        estimates.append(np.mean(pi[items] / mu[items] * rewards))
    return np.array(probabilities), np.array(estimates)


def _enumeration_cases() -> list[Case]:
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
            "check the estimate on one log against section 2's IPS formula (is every reward "
            "reweighted by the right ratio?), and that a log's probability accounts for both "
            "which track each impression showed and whether it was played"
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

    Chapter 08, exercise 8.1. The function returns ``(probabilities, estimates)`` over every
    possible log. The check asks that the probabilities sum to 1, that the expectation equals the
    true value ``sum_a pi_a q_a`` (IPS is unbiased) and that the variance equals the exact one
    (so the logs were really enumerated, not replaced by the answer).
    """
    return run_check(
        student_fn,
        None,
        _enumeration_cases(),
        name="my_enumerate_ips",
        properties=[_enumeration_property],
        forbidden=[enumerate_ips, exact_expectation, _all_logs],
        hint=(
            "one impression has a handful of outcomes (which track was shown, and whether it "
            "was played); a log is a sequence of n_impressions of them, and Python's standard "
            "library has a tool that lists every such sequence. Impressions are "
            "independent: how do their probabilities combine into the log's?"
        ),
    )


def _clipped_terms(mu: np.ndarray, pi: np.ndarray, cap: float) -> np.ndarray:
    return np.minimum(pi / mu, cap)


def _clipped_mse(
    logging_probs: np.ndarray,
    target_probs: np.ndarray,
    reward_probs: np.ndarray,
    n_impressions: int,
    max_weight: float,
) -> float:
    """The expected answer of exercise 8.5: bias^2 + variance of clipped IPS, in closed form.

    One impression's term ``X = min(w_a, M) r`` has mean ``sum_a mu_a min(w_a, M) q_a`` and
    second moment ``sum_a mu_a min(w_a, M)^2 q_a``; the estimate is the mean of ``n``
    independent such terms, so its variance is ``Var X / n``.
    """
    mu, pi, q = (
        np.asarray(x, dtype=np.float64) for x in (logging_probs, target_probs, reward_probs)
    )
    capped = _clipped_terms(mu, pi, max_weight)
    mean, second = np.sum(mu * capped * q), np.sum(mu * capped**2 * q)
    return float((mean - pi @ q) ** 2 + (second - mean**2) / n_impressions)


def _mse_cases() -> list[Case]:
    a = (np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.3, 0.5]), np.array([0.1, 0.5, 0.9]))
    b = (np.array([0.6, 0.3, 0.1]), np.array([0.1, 0.3, 0.6]), np.array([0.2, 0.4, 0.9]))
    return [
        Case((*a, 1, 1.5), label="section 3's problem, one impression, M = 1.5"),
        Case((*a, 4, 1.5), label="section 3's problem, four impressions, M = 1.5"),
        Case((*b, 1000, 2.0), label="1000 impressions, M = 2"),
        Case((*b, 50, np.inf), label="no cap (M = inf): plain IPS"),
        Case((*b, 10, 0.5), label="a cap below 1, M = 0.5"),
    ]


def _mse_property(case: Case, got: Any) -> str | None:
    mu, pi, q, n, cap = case.args
    try:
        value = float(got)
    except (TypeError, ValueError):
        return f"expected one number, got a {type(got).__name__}"
    want = _clipped_mse(mu, pi, q, n, cap)
    if np.isclose(value, want, rtol=1e-7, atol=1e-12):
        return None
    capped, truth = _clipped_terms(mu, pi, cap), float(pi @ q)
    mean, second = np.sum(mu * capped * q), np.sum(mu * capped**2 * q)
    bias, variance = mean - truth, (second - mean**2) / n
    dropped = np.where(pi / mu <= cap, pi / mu, 0.0)
    d_mean, d_second = np.sum(mu * dropped * q), np.sum(mu * dropped**2 * q)
    slips = {
        "the variance alone: the clipped estimate is also biased, and the bias counts too": (
            variance
        ),
        "the squared bias alone: the estimate also varies from log to log": bias**2,
        "the bias plus the variance: the mean squared error adds the bias squared": (
            bias + variance
        ),
        "the root of the mean squared error; the exercise asks for the MSE itself": np.sqrt(want),
        "the error of one impression: the estimate averages n_impressions independent terms, "
        "which divides their variance by n_impressions": bias**2 + second - mean**2,
        "the squared bias plus the second moment of one term over n: the variance subtracts "
        "the squared mean first": bias**2 + second / n,
        "what you get when weights above M are dropped (set to 0) instead of capped at M": (
            (d_mean - truth) ** 2 + (d_second - d_mean**2) / n
        ),
    }
    for slip, slip_value in slips.items():
        if np.isclose(value, slip_value, rtol=1e-7, atol=1e-12):
            return f"you returned {value:.6g}, which is {slip}"
    return f"you returned {value:.6g}, expected {want:.6g}"


def check_clipped_mse(
    student_fn: Callable[[np.ndarray, np.ndarray, np.ndarray, int, float], float],
) -> CheckResult:
    """Check ``my_clipped_mse(logging_probs, target_probs, reward_probs, n_impressions,
    max_weight) -> float`` (chapter 08, exercise 8.5): the exact mean squared error of clipped
    IPS on a one-user problem, in closed form.

    Five cases, among them section 3's problem (where the answer can be compared with
    ``exact_expectation``), 1000 impressions (too many logs to enumerate), no cap and a cap
    below 1. The verdict names the usual slips: variance or bias alone, bias not squared, the
    root, one impression's variance, the second moment for the variance, weights dropped
    instead of capped.
    """
    return run_check(
        student_fn,
        None,
        _mse_cases(),
        name="my_clipped_mse",
        properties=[_mse_property],
        forbidden=[_clipped_mse],
        hint=(
            "an impression's clipped term takes one value per item (and 0 when not played); "
            "write its mean and its variance as sums over the items, then ask what averaging "
            "n independent terms does to each, and how bias and variance make the MSE"
        ),
    )
