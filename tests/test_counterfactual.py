"""Tests of course_lib.counterfactual (chapter 08) and of its exercise checks."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from course_lib.checks_counterfactual import check_ips_enumeration, check_snips, enumerate_ips
from course_lib.counterfactual import (
    Estimate,
    LogSimulator,
    clipped_ips,
    clipping_sweep,
    direct_method,
    doubly_robust,
    effective_sample_size,
    evaluate_logs,
    exact_expectation,
    importance_weights,
    ips,
    policy_value,
    repeated_trials,
    snips,
    softmax_policy,
    summarise_trials,
)

MU = np.array([0.5, 0.3, 0.2])  # logging policy over three items (one user)
PI = np.array([0.2, 0.3, 0.5])  # target policy
Q = np.array([0.1, 0.5, 0.9])  # true play probabilities
TRUTH = float(PI @ Q)


def _enumerate(estimator, n):
    """Independent enumeration (no library helper): expectation of ``estimator`` over all logs."""
    outcomes = [(a, r) for a in range(3) for r in (0, 1)]
    mean = 0.0
    for log in itertools.product(outcomes, repeat=n):
        a = np.array([x[0] for x in log])
        r = np.array([x[1] for x in log], dtype=float)
        prob = np.prod(MU[a] * np.where(r == 1, Q[a], 1 - Q[a]))
        mean += prob * float(estimator(r, MU[a], PI[a]))
    return mean


@pytest.mark.parametrize("n", [1, 2, 3])
def test_ips_is_unbiased_by_exact_enumeration(n):
    assert _enumerate(ips, n) == pytest.approx(TRUTH, abs=1e-12)
    assert exact_expectation(ips, MU, PI, Q, n)[0] == pytest.approx(TRUTH, abs=1e-12)


def test_ips_variance_shrinks_like_one_over_n():
    v1 = exact_expectation(ips, MU, PI, Q, 1)[1]
    v3 = exact_expectation(ips, MU, PI, Q, 3)[1]
    assert v3 == pytest.approx(v1 / 3, rel=1e-9)


def test_snips_is_biased_for_small_logs_and_the_bias_shrinks():
    # one impression: SNIPS returns the observed reward, so it estimates the logging policy's value
    mean1, _ = exact_expectation(snips, MU, PI, Q, 1)
    assert mean1 == pytest.approx(float(MU @ Q))
    bias = [abs(exact_expectation(snips, MU, PI, Q, n)[0] - TRUTH) for n in (1, 2, 3, 4)]
    assert all(b2 < b1 for b1, b2 in itertools.pairwise(bias))


def test_snips_has_lower_variance_than_ips_here():
    for n in (2, 3):
        assert exact_expectation(snips, MU, PI, Q, n)[1] < exact_expectation(ips, MU, PI, Q, n)[1]


def test_snips_stays_in_reward_range_and_is_scale_free():
    rng = np.random.default_rng(0)
    r = rng.random(100)
    mu = rng.uniform(0.01, 1, 100)
    pi = rng.uniform(0, 1, 100)
    est = snips(r, mu, pi).value
    assert r.min() <= est <= r.max()
    assert snips(r, mu, pi * 0.1).value == pytest.approx(est)  # unnormalised target: same answer
    assert snips(np.full(100, 0.7), mu, pi).value == pytest.approx(0.7)


def test_clipping_removes_large_weights_and_biases_downwards():
    r = np.ones(4)
    mu = np.array([0.01, 0.5, 0.5, 0.5])
    pi = np.array([0.5, 0.5, 0.5, 0.5])  # weights 50, 1, 1, 1
    assert ips(r, mu, pi).value == pytest.approx(53 / 4)
    assert clipped_ips(r, mu, pi, max_weight=2).value == pytest.approx(5 / 4)
    assert clipped_ips(r, mu, pi, max_weight=np.inf).value == pytest.approx(53 / 4)
    mean_clipped, var_clipped = exact_expectation(
        lambda r, m, p: clipped_ips(r, m, p, 1.5), MU, PI, Q, 2
    )
    assert mean_clipped < TRUTH
    assert var_clipped < exact_expectation(ips, MU, PI, Q, 2)[1]


def test_doubly_robust_is_unbiased_with_a_wrong_reward_model():
    q_hat = np.array([0.6, 0.1, 0.2])  # a poor model

    def dr(r, mu, pi):
        a = np.array([np.flatnonzero(MU == m)[0] for m in mu])  # items have distinct mu
        return doubly_robust(r, mu, pi, q_hat[a], np.full(r.size, PI @ q_hat))

    assert exact_expectation(dr, MU, PI, Q, 2)[0] == pytest.approx(TRUTH)


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


def test_weights_and_effective_sample_size():
    np.testing.assert_allclose(importance_weights([0.5, 0.25], [0.5, 0.5]), [1.0, 2.0])
    assert effective_sample_size(np.ones(10)) == pytest.approx(10)
    assert effective_sample_size(np.array([1.0, 0, 0, 0])) == pytest.approx(1)


def test_policy_value_and_softmax():
    p = np.array([[0.1, 0.9], [0.5, 0.5]])
    pi = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert policy_value(pi, p) == pytest.approx((0.9 + 0.5) / 2)
    with pytest.raises(ValueError, match="sum to 1"):
        policy_value(np.array([[0.5, 0.4], [1.0, 0.0]]), p)
    s = softmax_policy(np.array([[0.0, np.log(3.0)]]))
    np.testing.assert_allclose(s, [[0.25, 0.75]])


def _toy_simulator(seed=0, n_users=20, n_items=15):
    rng = np.random.default_rng(seed)
    mu = softmax_policy(rng.normal(size=(n_users, n_items)))
    p = rng.uniform(0.0, 0.6, (n_users, n_items))
    return LogSimulator(mu, p), mu, p


def test_log_simulator_draws_from_the_logging_policy():
    sim, mu, p = _toy_simulator()
    logs = sim.sample(200_000, seed=3)
    assert list(logs.columns) == ["user", "item", "propensity", "played"]
    np.testing.assert_allclose(logs.propensity, mu[logs.user, logs.item])
    freq = np.zeros_like(mu)
    np.add.at(freq, (logs.user, logs.item), 1)
    np.testing.assert_allclose(freq / len(logs), mu / mu.shape[0], atol=2e-3)
    assert logs.played.mean() == pytest.approx(policy_value(mu, p), abs=5e-3)
    assert sim.sample(50, seed=3).equals(sim.sample(50, seed=3))


def test_repeated_trials_ips_is_unbiased_and_snips_less_variable():
    sim, _, p = _toy_simulator(seed=2)
    target = softmax_policy(np.random.default_rng(5).normal(size=p.shape), temperature=0.5)
    res = repeated_trials(sim, target, n_impressions=300, n_trials=300, seed=0, reward_model=p)
    ips_err = res.loc[res.estimator == "IPS", "error"]
    assert abs(ips_err.mean()) < 3 * ips_err.std() / np.sqrt(ips_err.size)
    spread = res.groupby("estimator")["estimate"].std()
    assert spread["SNIPS"] < spread["IPS"]
    assert spread["DR"] < spread["IPS"]  # a perfect reward model leaves only reward noise
    cover = res.loc[res.estimator == "IPS", "covers"].mean()
    assert 0.85 < cover <= 1.0


def test_wrong_propensities_bias_ips():
    sim, mu, p = _toy_simulator(seed=4)
    target = softmax_policy(np.random.default_rng(6).normal(size=p.shape))
    truth = sim.true_value(target)
    uniform = np.full_like(mu, 1 / mu.shape[1])
    errors = [
        evaluate_logs(sim.sample(2000, seed=s, recorded_policy=uniform), target)["IPS"].value
        - truth
        for s in range(30)
    ]
    right = [
        evaluate_logs(sim.sample(2000, seed=s), target)["IPS"].value - truth for s in range(30)
    ]
    assert abs(np.mean(errors)) > 3 * abs(np.mean(right))


def test_check_snips_accepts_the_reference_and_rejects_slips(capsys):
    assert check_snips(lambda r, m, p: snips(r, m, p).value).passed

    def as_ips(r, m, p):
        return float(np.mean(p / m * r))

    def pi_times_mu(r, m, p):
        return float(np.sum(p * m * r) / np.sum(p * m))

    def by_sum_pi(r, m, p):
        return float(np.sum(p / m * r) / np.sum(p))

    def stub(r, m, p):
        raise NotImplementedError("implement SNIPS")

    for wrong in (as_ips, pi_times_mu, by_sum_pi):
        assert check_snips(wrong).status == "wrong"
    out = capsys.readouterr().out
    assert "the IPS estimate" in out and "pi * mu" in out
    result = check_snips(stub)
    assert result.status == "not implemented"
    assert "not implemented yet" in capsys.readouterr().out.lower()


def _independent_enumeration(mu, pi, q, n, weight=lambda p, m: p / m):
    outcomes = [(a, r) for a in range(mu.size) for r in (0, 1)]
    probs, estimates = [], []
    for log in itertools.product(outcomes, repeat=n):
        a = np.array([x[0] for x in log])
        r = np.array([x[1] for x in log], dtype=float)
        probs.append(np.prod(mu[a] * np.where(r == 1, q[a], 1 - q[a])))
        estimates.append(np.mean(weight(pi[a], mu[a]) * r))
    return np.array(probs), np.array(estimates)


def test_enumerate_ips_reference_matches_an_independent_enumeration():
    for n in (1, 2):
        p_ref, e_ref = enumerate_ips(MU, PI, Q, n)
        p_ind, e_ind = _independent_enumeration(MU, PI, Q, n)
        np.testing.assert_allclose(p_ref, p_ind)
        np.testing.assert_allclose(e_ref, e_ind)
        assert p_ref @ e_ref == pytest.approx(TRUTH)


def test_check_ips_enumeration_accepts_the_reference_and_rejects_slips(capsys):
    assert check_ips_enumeration(_independent_enumeration).passed
    assert check_ips_enumeration(enumerate_ips).passed

    def only_played(mu, pi, q, n):  # forgets the impressions that were not played
        probs, est = _independent_enumeration(mu, pi, q, n)
        keep = est > 0
        return probs[keep], est[keep]

    def no_division(mu, pi, q, n):  # pi * r instead of pi / mu * r
        return _independent_enumeration(mu, pi, q, n, weight=lambda p, m: p)

    def just_the_truth(mu, pi, q, n):
        return np.array([1.0]), np.array([pi @ q])

    def stub(mu, pi, q, n):
        raise NotImplementedError

    for wrong in (only_played, no_division, just_the_truth):
        assert check_ips_enumeration(wrong).status == "wrong"
    out = capsys.readouterr().out
    assert "sum to" in out and "true value" in out and "spread" in out
    assert check_ips_enumeration(stub).status == "not implemented"


def test_clipping_sweep_and_summary_agree_with_repeated_trials():
    sim, _, p = _toy_simulator(seed=7)
    target = softmax_policy(np.random.default_rng(8).normal(size=p.shape), temperature=0.3)
    trials = repeated_trials(sim, target, n_impressions=200, n_trials=40, seed=3, max_weight=2.0)
    summary = summarise_trials(trials)
    assert list(summary.index) == ["IPS", "clipped IPS", "SNIPS"]
    ips_rows = trials[trials.estimator == "IPS"]
    assert summary.loc["IPS", "bias"] == pytest.approx(ips_rows.error.mean())
    assert summary.loc["IPS", "rmse"] == pytest.approx(np.sqrt(np.mean(ips_rows.error**2)))
    sweep = clipping_sweep(sim, target, [0.5, 2.0, np.inf], n_impressions=200, n_trials=40, seed=3)
    assert sweep.loc[2, "bias"] == pytest.approx(summary.loc["IPS", "bias"])
    assert sweep.loc[1, "std"] == pytest.approx(summary.loc["clipped IPS", "std"])
    assert sweep.loc[0, "std"] < sweep.loc[2, "std"]
    assert sweep.loc[0, "bias"] < sweep.loc[1, "bias"] < 0
    with pytest.raises(ValueError, match="positive caps"):
        clipping_sweep(sim, target, [0.0], n_impressions=10, n_trials=2)


def test_plots_return_figures_with_labelled_axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib.counterfactual import plot_clipping, plot_estimates

    sim, _, p = _toy_simulator(seed=9)
    target = softmax_policy(np.random.default_rng(1).normal(size=p.shape))
    trials = repeated_trials(sim, target, n_impressions=100, n_trials=5, seed=0)
    fig = plot_estimates(trials, sim.true_value(target))
    assert fig.axes[0].get_ylabel() == "estimated play rate"
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["IPS", "clipped IPS", "SNIPS"]
    sweep = clipping_sweep(sim, target, [1.0, 5.0, np.inf], n_impressions=100, n_trials=5)
    _, ax = plt.subplots()
    assert plot_clipping(sweep, ax=ax) is ax.get_figure()
    assert ax.get_xlabel() == "weight cap M"
    plt.close("all")
