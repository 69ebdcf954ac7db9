"""course_lib.bandits.checks: exercise 8.4's check passes honest work and names the slips."""

from __future__ import annotations

import numpy as np

from course_lib import checks
from course_lib.bandits import EpsilonGreedy
from course_lib.bandits.checks import (
    _epsilon_greedy_probabilities,
    check_epsilon_greedy_probabilities,
)

USES_COURSE = "uses the course's implementation"


def _honest(scores, epsilon):
    scores = np.asarray(scores, dtype=float)
    n, k = scores.shape
    out = np.full((n, k), epsilon / k)
    for row, s in enumerate(scores):
        tied = np.flatnonzero(s == s.max())
        out[row, tied] += (1 - epsilon) / tied.size
    return out


def _words(capsys) -> str:
    return " ".join(capsys.readouterr().out.split())


def test_honest_work_passes_and_the_course_is_refused():
    assert checks.check_epsilon_greedy_probabilities is check_epsilon_greedy_probabilities
    assert check_epsilon_greedy_probabilities(_honest).status == "correct"
    assert check_epsilon_greedy_probabilities(_epsilon_greedy_probabilities).status == (USES_COURSE)

    def via_learner(scores, epsilon):  # a learner whose theta gives these scores
        scores = np.asarray(scores, dtype=float)
        learner = EpsilonGreedy(scores.shape[1], scores.shape[0], epsilon=epsilon)
        learner.theta = scores.T.copy()
        return learner.action_probabilities(np.eye(scores.shape[0]))

    assert check_epsilon_greedy_probabilities(via_learner).status == USES_COURSE


def test_each_common_slip_is_named(capsys):
    def first_of_ties(scores, epsilon):
        scores = np.asarray(scores, dtype=float)
        out = np.full(scores.shape, epsilon / scores.shape[1])
        out[np.arange(len(scores)), scores.argmax(axis=1)] += 1 - epsilon
        return out

    def whole_share_to_each(scores, epsilon):
        scores = np.asarray(scores, dtype=float)
        best = scores == scores.max(axis=1, keepdims=True)
        return (1 - epsilon) * best + epsilon / scores.shape[1]

    def explores_the_others(scores, epsilon):
        greedy = _honest(scores, 0.0)
        k = greedy.shape[1]
        return np.where(greedy > 0, (1 - epsilon) * greedy, epsilon / (k - 1))

    def no_exploration(scores, epsilon):
        return _honest(scores, 0.0)

    slips = {
        first_of_ties: "first best arm",
        whole_share_to_each: "whole 1 - epsilon",
        explores_the_others: "a random arm can be the best one too",
        no_exploration: "still explores",
    }
    for wrong, words in slips.items():
        assert check_epsilon_greedy_probabilities(wrong).status == "wrong", words
        assert words in _words(capsys), words

    def stub(scores, epsilon):
        raise NotImplementedError("Exercise 8.4")

    assert check_epsilon_greedy_probabilities(stub).status == "not implemented"
