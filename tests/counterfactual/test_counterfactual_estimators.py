"""course_lib.counterfactual.estimators (chapter 08, sections 2 and 4): IPS and its relatives."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from course_lib.counterfactual import (
    Estimate,
    clipped_ips,
    direct_method,
    doubly_robust,
    effective_sample_size,
    exact_expectation,
    importance_weights,
    ips,
    snips,
    softmax_policy,
)


def _enumerate(estimator, n, problem):
    """Independent enumeration (no library helper): expectation of ``estimator`` over all logs."""
    mu, pi, q = problem.mu, problem.pi, problem.q
    outcomes = [(a, r) for a in range(3) for r in (0, 1)]
    mean = 0.0
    for log in itertools.product(outcomes, repeat=n):
        a = np.array([x[0] for x in log])
        r = np.array([x[1] for x in log], dtype=float)
        prob = np.prod(mu[a] * np.where(r == 1, q[a], 1 - q[a]))
        mean += prob * float(estimator(r, mu[a], pi[a]))
    return mean


@pytest.mark.parametrize("n", [1, 2, 3])
def test_ips_is_unbiased_by_exact_enumeration(n, tiny_problem):
    t = tiny_problem
    assert _enumerate(ips, n, t) == pytest.approx(t.truth, abs=1e-12)
    assert exact_expectation(ips, t.mu, t.pi, t.q, n)[0] == pytest.approx(t.truth, abs=1e-12)


def test_snips_stays_in_reward_range_and_is_scale_free():
    rng = np.random.default_rng(0)
    r = rng.random(100)
    mu = rng.uniform(0.01, 1, 100)
    pi = rng.uniform(0, 1, 100)
    est = snips(r, mu, pi).value
    assert r.min() <= est <= r.max()
    assert snips(r, mu, pi * 0.1).value == pytest.approx(est)  # unnormalised target: same answer
    assert snips(np.full(100, 0.7), mu, pi).value == pytest.approx(0.7)


def test_clipping_removes_large_weights_and_biases_downwards(tiny_problem):
    t = tiny_problem
    r = np.ones(4)
    mu = np.array([0.01, 0.5, 0.5, 0.5])
    pi = np.array([0.5, 0.5, 0.5, 0.5])  # weights 50, 1, 1, 1
    assert ips(r, mu, pi).value == pytest.approx(53 / 4)
    assert clipped_ips(r, mu, pi, max_weight=2).value == pytest.approx(5 / 4)
    assert clipped_ips(r, mu, pi, max_weight=np.inf).value == pytest.approx(53 / 4)
    mean_clipped, var_clipped = exact_expectation(
        lambda r, m, p: clipped_ips(r, m, p, 1.5), t.mu, t.pi, t.q, 2
    )
    assert mean_clipped < t.truth
    assert var_clipped < exact_expectation(ips, t.mu, t.pi, t.q, 2)[1]


def test_doubly_robust_is_unbiased_with_a_wrong_reward_model(tiny_problem):
    t = tiny_problem
    q_hat = np.array([0.6, 0.1, 0.2])  # a poor model

    def dr(r, mu, pi):
        a = np.array([np.flatnonzero(t.mu == m)[0] for m in mu])  # items have distinct mu
        return doubly_robust(r, mu, pi, q_hat[a], np.full(r.size, t.pi @ q_hat))

    assert exact_expectation(dr, t.mu, t.pi, t.q, 2)[0] == pytest.approx(t.truth)


def test_doubly_robust_with_a_perfect_model_has_zero_error():
    rng = np.random.default_rng(1)
    n_users, n_items, n = 30, 12, 400
    p = rng.uniform(0.05, 0.9, (n_users, n_items))
    pi = softmax_policy(rng.normal(size=(n_users, n_items)))
    mu = softmax_policy(rng.normal(size=(n_users, n_items)))
    users = np.arange(n) % n_users
    items = rng.integers(n_items, size=n)
    expected_per_user = (pi * p).sum(axis=1)
    # rewards equal to their expectation: no noise left, so DR is exact on every log
    est = doubly_robust(
        p[users, items],
        mu[users, items],
        pi[users, items],
        p[users, items],
        expected_per_user[users],
    )
    assert est.value == pytest.approx(expected_per_user[users].mean(), abs=1e-12)
    assert direct_method(expected_per_user[users]).value == pytest.approx(est.value)


def test_estimate_interval_and_standard_error():
    r = np.array([1.0, 0.0, 1.0, 1.0])
    mu = np.full(4, 0.5)
    pi = np.full(4, 0.5)
    est = ips(r, mu, pi, confidence=0.95)
    assert isinstance(est, Estimate)
    assert est.value == pytest.approx(0.75)
    assert est.std_error == pytest.approx(np.std(r, ddof=1) / 2)
    assert est.ci_high - est.value == pytest.approx(1.959964 * est.std_error, rel=1e-5)
    assert est.covers(0.75) and not est.covers(5.0)
    assert float(est) == est.value


@pytest.mark.parametrize(
    ("propensities", "message"),
    [
        ([0.5, 0.0, 0.2], "must be > 0"),
        ([0.5, -0.1, 0.2], "must be > 0"),
        ([0.5, 1.5, 0.2], "<= 1"),
        ([0.5, np.nan, 0.2], "missing"),
        ([0.5, 0.2], "mismatched lengths"),
    ],
)
@pytest.mark.parametrize("estimator", [ips, snips, lambda r, m, p: clipped_ips(r, m, p, 5.0)])
def test_bad_propensities_raise_clear_errors(estimator, propensities, message):
    with pytest.raises(ValueError, match=message):
        estimator(np.array([1.0, 0.0, 1.0]), np.array(propensities), np.array([0.1, 0.2, 0.3]))


def test_missing_and_malformed_inputs():
    with pytest.raises(TypeError, match="missing"):
        ips(np.ones(3), None, np.ones(3) / 3)
    with pytest.raises(ValueError, match="missing"):
        ips(np.ones(2), pd.Series([0.5, None], dtype="Float64"), np.ones(2) / 2)
    with pytest.raises(ValueError, match="target_probs"):
        ips(np.ones(2), np.full(2, 0.5), np.array([0.5, 1.2]))
    with pytest.raises(ValueError, match="empty"):
        ips([], [], [])
    with pytest.raises(ValueError, match="max_weight"):
        clipped_ips(np.ones(2), np.full(2, 0.5), np.full(2, 0.5), max_weight=0)
    with pytest.raises(ValueError, match="probability 0 to every"):
        snips(np.ones(2), np.full(2, 0.5), np.zeros(2))
    with pytest.raises(ValueError, match="mismatched"):
        doubly_robust(np.ones(2), np.full(2, 0.5), np.full(2, 0.5), np.ones(3), np.ones(2))


@pytest.mark.parametrize("estimator", [ips, snips, lambda r, m, p: clipped_ips(r, m, p, 5.0)])
def test_text_and_boolean_propensities_are_refused(estimator):
    r, pi = np.array([1.0, 0.0]), np.array([0.5, 0.5])
    with pytest.raises(TypeError, match=r"rewards holds text.*pd\.to_numeric"):
        estimator(np.array(["1", "0"]), np.full(2, 0.5), pi)
    with pytest.raises(TypeError, match="propensities holds text"):
        estimator(r, pd.Series(["0.5", "0.25"], dtype=object), pi)
    with pytest.raises(TypeError, match="propensities holds True/False values"):
        estimator(r, np.array([True, True]), pi)
    # a played flag as True/False is a fine reward, and a deterministic target is 0/1
    assert float(estimator(np.array([True, False]), np.full(2, 0.5), np.array([True, False]))) > 0


@pytest.mark.parametrize(
    ("confidence", "error", "message"),
    [
        ("0.95", TypeError, "confidence must be a number"),
        (True, TypeError, "confidence must be a number"),
        (1.0, ValueError, "confidence must be in"),
        (0.0, ValueError, "confidence must be a number > 0"),
        (float("nan"), ValueError, "confidence must be a finite number"),
    ],
)
def test_confidence_must_be_a_level_between_0_and_1(confidence, error, message):
    with pytest.raises(error, match=message):
        ips(np.ones(3), np.full(3, 0.5), np.full(3, 0.5), confidence=confidence)
    with pytest.raises(error, match=message):
        direct_method(np.ones(3), confidence=confidence)


@pytest.mark.parametrize(
    ("max_weight", "error"),
    [(True, TypeError), ("10", TypeError), (float("nan"), ValueError), (-np.inf, ValueError)],
)
def test_clipped_ips_refuses_bad_caps(max_weight, error):
    with pytest.raises(error, match="max_weight"):
        clipped_ips(np.ones(2), np.full(2, 0.5), np.full(2, 0.5), max_weight=max_weight)


def test_direct_method_and_doubly_robust_refuse_nan_predictions():
    with pytest.raises(ValueError, match="repair the reward model"):
        direct_method([0.2, np.nan])
    with pytest.raises(ValueError, match="repair the model"):
        doubly_robust(np.ones(2), np.full(2, 0.5), np.full(2, 0.5), [0.1, np.nan], np.ones(2))
    with pytest.raises(TypeError, match="expected_rewards holds text"):
        direct_method(["0.2", "0.3"])


def test_weights_and_effective_sample_size():
    np.testing.assert_allclose(importance_weights([0.5, 0.25], [0.5, 0.5]), [1.0, 2.0])
    assert effective_sample_size(np.ones(10)) == pytest.approx(10)
    assert effective_sample_size(np.array([1.0, 0, 0, 0])) == pytest.approx(1)
    with pytest.raises(ValueError, match="non-negative"):
        effective_sample_size(np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="must be > 0"):
        importance_weights([0.5, 0.0], [0.5, 0.5])


@pytest.mark.parametrize("estimator", [ips, snips])
def test_pandas_missing_values_are_read_as_missing(estimator):
    for rewards in ([1, 0, pd.NA], np.array([1, 0, pd.NA], dtype=object), [1.0, 0.0, None]):
        with pytest.raises(ValueError, match="rewards has 1 missing .* at positions 2"):
            estimator(rewards, [0.5, 0.5, 0.5], [0.2, 0.5, 0.5])
    with pytest.raises(ValueError, match="propensities has 1 missing .* at positions 1"):
        estimator([1, 0, 1], [0.5, pd.NA, 0.5], [0.2, 0.5, 0.5])
    with pytest.raises(TypeError, match="propensities holds True/False"):
        estimator([1, 0, 1], pd.array([True, pd.NA, False], dtype="boolean"), [0.2, 0.5, 0.5])
