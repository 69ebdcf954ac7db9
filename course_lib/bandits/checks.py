"""Exercise check of chapter 08 (beyond accuracy): epsilon-greedy as a policy, ties included.

Taught in chapter 08 (``chapters/08_beyond_accuracy.md``, section 8): exercise 8.2 writes
``my_epsilon_greedy_probabilities(scores, epsilon)``, the probability with which an
epsilon-greedy learner shows each arm (:func:`check_epsilon_greedy_probabilities`). Section 8
feeds such probabilities to the off-policy estimators, so they must be the probabilities with
which the learner's ``select`` picks each arm, ties included. Built on
:func:`course_lib.checking.run_check`; chapters call it through the facade
``course_lib.checks``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from course_lib.bandits.learners import EpsilonGreedy, LinearBandit, _best_arm_probabilities
from course_lib.checking import Case, CheckResult, run_check

__all__ = ["check_epsilon_greedy_probabilities"]


def _epsilon_greedy_probabilities(scores: np.ndarray, epsilon: float) -> np.ndarray:
    """The expected answer: ``epsilon / K`` everywhere, ``1 - epsilon`` shared by the best."""
    scores = np.asarray(scores, dtype=np.float64)
    return (1 - epsilon) * _best_arm_probabilities(scores) + epsilon / scores.shape[1]


def _cases() -> list[Case]:
    rng = np.random.default_rng(84)
    return [
        Case((np.array([[0.1, 0.7, 0.3, 0.2]]), 0.1), label="one visitor, four arms"),
        Case((rng.normal(size=(6, 5)), 0.25), label="six visitors, five arms"),
        Case(
            (np.array([[0.0, 0.0, 0.0], [0.4, 0.9, 0.9], [0.5, -0.5, 0.5]]), 0.3),
            label="arms tied for the best score",
        ),
        Case((np.array([[0.2, 0.8], [0.6, 0.6]]), 0.0), label="epsilon = 0 (greedy)"),
        Case((np.array([[0.2, 0.8, 0.1]]), 1.0), label="epsilon = 1 (uniformly random)"),
    ]


def _slips(scores: np.ndarray, epsilon: float) -> dict[str, np.ndarray]:
    n, k = scores.shape
    first_best = np.zeros((n, k))
    first_best[np.arange(n), scores.argmax(axis=1)] = 1.0
    best = scores >= scores.max(axis=1, keepdims=True) - 1e-12
    others = np.where(best, 0.0, epsilon / max(k - 1, 1))
    return {
        "what you get when every tie goes to the first best arm: the learner breaks ties at "
        "random, so arms tied for the best score share its probability": (1 - epsilon) * first_best
        + epsilon / k,
        "what you get when every tied arm gets the whole 1 - epsilon: a row must sum to 1, "
        "so the tied arms share it": (1 - epsilon) * best + epsilon / k,
        "what you get without the exploring draw landing on the best arm: a random arm can "
        "be the best one too": (1 - epsilon) * _best_arm_probabilities(scores) + others,
        "the greedy probabilities: the learner still explores with probability epsilon": (
            _best_arm_probabilities(scores)
        ),
    }


def _probability_property(case: Case, got: Any) -> str | None:
    scores, epsilon = case.args
    try:
        probs = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return f"expected an array of probabilities, got a {type(got).__name__}"
    if probs.shape != scores.shape:
        return f"expected shape {scores.shape} (one row per visitor, one column per arm)"
    want = _epsilon_greedy_probabilities(scores, epsilon)
    if np.allclose(probs, want, rtol=1e-9, atol=1e-12):
        return None
    for slip, value in _slips(scores, epsilon).items():
        if np.allclose(probs, value, rtol=1e-9, atol=1e-12):
            return slip
    sums = probs.sum(axis=1)
    if not np.allclose(sums, 1.0):
        return f"each row should sum to 1; yours sum to {np.round(sums, 4).tolist()}"
    row = int(np.flatnonzero(~np.isclose(probs, want, rtol=1e-9, atol=1e-12).all(axis=1))[0])
    return (
        f"for visitor {row} (scores {np.round(scores[row], 3).tolist()}) you returned "
        f"{np.round(probs[row], 4).tolist()}, expected {np.round(want[row], 4).tolist()}"
    )


def check_epsilon_greedy_probabilities(
    student_fn: Callable[[np.ndarray, float], np.ndarray],
) -> CheckResult:
    """Check ``my_epsilon_greedy_probabilities(scores, epsilon) -> (n, K) array`` (exercise 8.2).

    ``scores`` holds each visitor's estimated score of each arm; the answer is the probability
    with which epsilon-greedy shows each arm: ``epsilon / K`` on every arm, plus ``1 - epsilon``
    shared equally by the arms tied for the best score. Cases include ties, ``epsilon = 0`` and
    ``epsilon = 1``; the verdict names the usual slips (ties to the first arm, each tied arm
    given the whole ``1 - epsilon``, exploration spread over the other arms only, no
    exploration). The course's learners are forbidden.
    """
    return run_check(
        student_fn,
        None,
        _cases(),
        name="my_epsilon_greedy_probabilities",
        properties=[_probability_property],
        forbidden=[
            _epsilon_greedy_probabilities,
            _best_arm_probabilities,
            EpsilonGreedy,
            LinearBandit,
        ],
        hint=(
            "follow one visit of choose_epsilon_greedy in section 7: which arms can the "
            "exploring branch pick, which ones the greedy branch, and with what chance each? "
            "Remember how best_arm breaks a tie."
        ),
    )
