"""course_lib.counterfactual.policies (chapter 08, section 1): softmax policies, exact values."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib.counterfactual import policy_value, softmax_policy


def test_policy_value_and_softmax():
    p = np.array([[0.1, 0.9], [0.5, 0.5]])
    pi = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert policy_value(pi, p) == pytest.approx((0.9 + 0.5) / 2)
    with pytest.raises(ValueError, match="sum to 1"):
        policy_value(np.array([[0.5, 0.4], [1.0, 0.0]]), p)
    s = softmax_policy(np.array([[0.0, np.log(3.0)]]))
    np.testing.assert_allclose(s, [[0.25, 0.75]])


def test_softmax_takes_minus_infinity_as_never_shown():
    s = softmax_policy(np.array([[0.0, -np.inf, 0.0]]))
    np.testing.assert_allclose(s, [[0.5, 0.0, 0.5]])


@pytest.mark.parametrize(
    ("policy", "play_probability", "error", "message"),
    [
        ([[0.5, 0.5]], [[0.1, np.nan]], ValueError, "play_probability contains NaN"),
        ([[0.5, 0.5]], [[0.1, 1.5]], ValueError, "play_probability must hold probabilities"),
        ([[0.5, 0.5]], [[0.1, 0.2, 0.3]], ValueError, r"shape \(1, 3\) but the policy"),
        (np.empty((0, 3)), np.empty((0, 3)), ValueError, "policy is empty"),
        ([0.5, 0.5], [0.1, 0.2], ValueError, "policy must be 2-D"),
        ([["0.5", "0.5"]], [[0.1, 0.2]], TypeError, "policy must hold real numbers"),
        ([[1.5, -0.5]], [[0.1, 0.2]], ValueError, "non-negative probabilities"),
        (sp.csr_matrix([[0.5, 0.5]]), [[0.1, 0.2]], TypeError, "dense array"),
    ],
)
def test_policy_value_refuses_bad_matrices(policy, play_probability, error, message):
    with pytest.raises(error, match=message):
        policy_value(policy, play_probability)


@pytest.mark.parametrize(
    ("scores", "temperature", "error", "message"),
    [
        ([[0.0, np.nan]], 1.0, ValueError, "scores contain NaN or \\+inf"),
        ([[0.0, np.inf]], 1.0, ValueError, "scores contain NaN or \\+inf"),
        ([[-np.inf, -np.inf], [0.0, 1.0]], 1.0, ValueError, r"users \[0\] is -inf"),
        ([0.0, 1.0], 1.0, ValueError, "non-empty \\(n_users, n_items\\)"),
        ([["a", "b"]], 1.0, TypeError, "scores must be numbers"),
        ([[0.0, 1.0]], "1", TypeError, "temperature must be a number"),
        ([[0.0, 1.0]], 0.0, ValueError, "temperature must be a number > 0"),
        ([[0.0, 1.0]], float("nan"), ValueError, "temperature must be a finite number"),
    ],
)
def test_softmax_policy_refuses_bad_scores_and_temperatures(scores, temperature, error, message):
    with pytest.raises(error, match=message):
        softmax_policy(np.array(scores), temperature=temperature)
