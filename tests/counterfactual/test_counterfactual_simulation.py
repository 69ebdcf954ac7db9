"""course_lib.counterfactual.simulation (chapter 08, sections 4 to 6 and 8): re-drawn logs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_lib.counterfactual import (
    LogSimulator,
    clipping_sweep,
    evaluate_logs,
    policy_value,
    repeated_trials,
    softmax_policy,
    summarise_trials,
)


def test_log_simulator_draws_from_the_logging_policy(toy_simulator):
    sim, mu, p = toy_simulator()
    logs = sim.sample(200_000, seed=3)
    assert list(logs.columns) == ["user", "item", "propensity", "played"]
    np.testing.assert_allclose(logs.propensity, mu[logs.user, logs.item])
    freq = np.zeros_like(mu)
    np.add.at(freq, (logs.user, logs.item), 1)
    np.testing.assert_allclose(freq / len(logs), mu / mu.shape[0], atol=2e-3)
    assert logs.played.mean() == pytest.approx(policy_value(mu, p), abs=5e-3)
    assert sim.sample(50, seed=3).equals(sim.sample(50, seed=3))


def test_repeated_trials_ips_is_unbiased_and_snips_less_variable(toy_simulator):
    sim, _, p = toy_simulator(seed=2)
    target = softmax_policy(np.random.default_rng(5).normal(size=p.shape), temperature=0.5)
    res = repeated_trials(sim, target, n_impressions=300, n_trials=300, seed=0, reward_model=p)
    ips_err = res.loc[res.estimator == "IPS", "error"]
    assert abs(ips_err.mean()) < 3 * ips_err.std() / np.sqrt(ips_err.size)
    spread = res.groupby("estimator")["estimate"].std()
    assert spread["SNIPS"] < spread["IPS"]
    assert spread["DR"] < spread["IPS"]  # a perfect reward model leaves only reward noise
    cover = res.loc[res.estimator == "IPS", "covers"].mean()
    assert 0.85 < cover <= 1.0


def test_wrong_propensities_bias_ips(toy_simulator):
    sim, mu, p = toy_simulator(seed=4)
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


def test_clipping_sweep_and_summary_agree_with_repeated_trials(toy_simulator):
    sim, _, p = toy_simulator(seed=7)
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


# --- bad input (issue 17) ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("play_probability", "message"),
    [
        (np.full((2, 3), np.nan), "play_probability contains NaN"),
        (np.full((2, 3), 2.0), "play_probability must hold probabilities in \\[0, 1\\]"),
        (np.full((3, 2), 0.5), r"shape \(3, 2\) but the policy has shape \(2, 3\)"),
    ],
)
def test_log_simulator_refuses_bad_play_probabilities(play_probability, message):
    with pytest.raises(ValueError, match=message):
        LogSimulator(np.full((2, 3), 1 / 3), play_probability)


def test_sample_refuses_bad_sizes_seeds_and_recorded_policies(toy_simulator):
    sim, mu, _ = toy_simulator()
    with pytest.raises(ValueError, match="n_impressions must be an integer >= 1"):
        sim.sample(0)
    with pytest.raises(TypeError, match="n_impressions must be an integer"):
        sim.sample("100")
    with pytest.raises(ValueError, match="seed"):
        sim.sample(10, seed=-1)
    with pytest.raises(ValueError, match="recorded_policy has shape"):
        sim.sample(10, recorded_policy=mu[:, :5])
    with pytest.raises(ValueError, match="recorded_policy contains NaN"):
        sim.sample(10, recorded_policy=np.where(mu > 0.2, np.nan, mu))


def test_evaluate_logs_refuses_logs_from_another_world(toy_simulator):
    sim, _, p = toy_simulator()
    logs = sim.sample(500, seed=1)
    shelf = softmax_policy(np.zeros((p.shape[0], 5)))  # a policy over 5 of the 15 items
    with pytest.raises(ValueError, match=r"logs\['item'\] holds ids 0\.\.14 but the policy has 5"):
        evaluate_logs(logs, shelf)
    with pytest.raises(TypeError, match="logs must be a DataFrame"):
        evaluate_logs(logs.to_numpy(), softmax_policy(np.zeros(p.shape)))
    with_gap = logs.astype({"user": float})
    with_gap.loc[3, "user"] = np.nan
    with pytest.raises(ValueError, match=r"logs\['user'\] must hold integer ids"):
        evaluate_logs(with_gap, softmax_policy(np.zeros(p.shape)))
    with pytest.raises(ValueError, match=r"logs lack the columns \['played'\]"):
        evaluate_logs(logs.drop(columns="played"), softmax_policy(np.zeros(p.shape)))
    with pytest.raises(ValueError, match="reward_model has shape"):
        evaluate_logs(logs, softmax_policy(np.zeros(p.shape)), reward_model=p[:, :5])
    text = logs.astype({"propensity": str})
    with pytest.raises(TypeError, match=r"logs\['propensity'\] holds text"):
        evaluate_logs(text, softmax_policy(np.zeros(p.shape)))


def test_trials_refuse_a_policy_of_another_shape_before_drawing(toy_simulator):
    sim, mu, p = toy_simulator()
    wrong = softmax_policy(np.zeros((p.shape[0] + 1, p.shape[1])))
    with pytest.raises(ValueError, match="the simulator's world has shape"):
        repeated_trials(sim, wrong, n_impressions=10, n_trials=2)
    with pytest.raises(ValueError, match="the simulator's world has shape"):
        clipping_sweep(sim, wrong, [1.0], n_impressions=10, n_trials=2)
    with pytest.raises(TypeError, match="simulator must be a LogSimulator"):
        repeated_trials((mu, p), mu, n_impressions=10, n_trials=2)
    with pytest.raises(TypeError, match="n_trials must be an integer"):
        repeated_trials(sim, mu, n_impressions=10, n_trials=2.0)
    with pytest.raises(ValueError, match="n_impressions must be an integer >= 1"):
        clipping_sweep(sim, mu, [1.0], n_impressions=0, n_trials=2)


@pytest.mark.parametrize(
    ("caps", "error"),
    [
        ([1.0, np.nan], ValueError),
        (["1", "5"], TypeError),
        ([[1.0, 2.0]], ValueError),
        ([], ValueError),
    ],
)
def test_clipping_sweep_refuses_bad_caps(toy_simulator, caps, error):
    sim, mu, _ = toy_simulator()
    with pytest.raises(error, match="max_weights"):
        clipping_sweep(sim, mu, caps, n_impressions=10, n_trials=2)


def test_summarise_trials_refuses_other_frames():
    with pytest.raises(ValueError, match="repeated_trials returns"):
        summarise_trials(pd.DataFrame({"estimator": ["IPS"], "value": [0.1]}))
    empty = pd.DataFrame(columns=["trial", "estimator", "estimate", "std_error", "covers", "error"])
    with pytest.raises(ValueError, match="no rows"):
        summarise_trials(empty)
