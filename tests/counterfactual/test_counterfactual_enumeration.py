"""course_lib.counterfactual.enumeration (chapter 08, section 3): exact moments over every log."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from course_lib.counterfactual import exact_expectation, ips, snips


def test_ips_variance_shrinks_like_one_over_n(tiny_problem):
    t = tiny_problem
    v1 = exact_expectation(ips, t.mu, t.pi, t.q, 1)[1]
    v3 = exact_expectation(ips, t.mu, t.pi, t.q, 3)[1]
    assert v3 == pytest.approx(v1 / 3, rel=1e-9)


def test_snips_is_biased_for_small_logs_and_the_bias_shrinks(tiny_problem):
    t = tiny_problem
    # one impression: SNIPS returns the observed reward, so it estimates the logging policy's value
    mean1, _ = exact_expectation(snips, t.mu, t.pi, t.q, 1)
    assert mean1 == pytest.approx(float(t.mu @ t.q))
    bias = [abs(exact_expectation(snips, t.mu, t.pi, t.q, n)[0] - t.truth) for n in (1, 2, 3, 4)]
    assert all(b2 < b1 for b1, b2 in itertools.pairwise(bias))


def test_snips_has_lower_variance_than_ips_here(tiny_problem):
    t = tiny_problem
    for n in (2, 3):
        snips_variance = exact_expectation(snips, t.mu, t.pi, t.q, n)[1]
        assert snips_variance < exact_expectation(ips, t.mu, t.pi, t.q, n)[1]


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"n_impressions": "2"}, TypeError, "n_impressions must be an integer"),
        ({"n_impressions": 2.0}, TypeError, "n_impressions must be an integer"),
        ({"n_impressions": 0}, ValueError, "n_impressions must be an integer >= 1"),
        ({"n_impressions": 9}, ValueError, "too many to enumerate"),
        ({"logging_probs": [0.5, np.nan, 0.5]}, ValueError, "logging_probs contains NaN"),
        ({"logging_probs": [0.5, 0.5]}, ValueError, "equal length K"),
        ({"target_probs": [0.6, 0.6, 0.6]}, ValueError, "target_probs must sum to 1"),
        ({"target_probs": ["0.2", "0.3", "0.5"]}, TypeError, "target_probs must hold real numbers"),
        ({"reward_probs": [0.1, 1.5, 0.2]}, ValueError, "reward_probs must hold probabilities"),
        ({"estimator": "ips"}, TypeError, "estimator must be a function"),
    ],
)
def test_exact_expectation_refuses_bad_problems(tiny_problem, change, error, message):
    t = tiny_problem
    arguments = {
        "estimator": ips,
        "logging_probs": t.mu,
        "target_probs": t.pi,
        "reward_probs": t.q,
        "n_impressions": 2,
        **change,
    }
    with pytest.raises(error, match=message):
        exact_expectation(**arguments)


def test_a_broken_estimator_is_not_scored_as_zero(tiny_problem):
    t = tiny_problem

    def broken(rewards, propensities, target_probs):
        raise ValueError("my estimator has a bug")

    with pytest.raises(ValueError, match="my estimator has a bug") as info:
        exact_expectation(broken, t.mu, t.pi, t.q, 1)
    notes = " ".join(getattr(info.value, "__notes__", [])) or str(info.value)
    assert "exact_expectation: the estimator failed on the log items=[0]" in notes

    def typo(rewards, propensities, target_probs):
        return (rewards * target_probs / propensitis).mean()  # noqa: F821 - the bug under test

    with pytest.raises(NameError, match="propensitis"):
        exact_expectation(typo, t.mu, t.pi, t.q, 2)
    with pytest.raises(TypeError, match="returned 'high' on the log items=.*not a number"):
        exact_expectation(lambda r, m, p: "high", t.mu, t.pi, t.q, 1)


def test_snips_counts_as_zero_only_where_it_is_undefined():
    # the target never shows item 0: on logs that show only item 0, SNIPS has no weight at all
    mu, pi, q = np.array([0.5, 0.5]), np.array([0.0, 1.0]), np.array([0.4, 0.8])
    mean, _ = exact_expectation(snips, mu, pi, q, 2)
    # logs with item 1 at least once (prob. 3/4) estimate q[1]; the log (0, 0) counts 0
    assert mean == pytest.approx(0.75 * q[1])
