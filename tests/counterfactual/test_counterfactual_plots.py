"""course_lib.counterfactual.plots (chapter 08, sections 4 and 5)."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

from course_lib.counterfactual import (
    clipping_sweep,
    plot_clipping,
    plot_estimates,
    repeated_trials,
    softmax_policy,
)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def test_plots_return_figures_with_labelled_axes(toy_simulator):
    sim, _, p = toy_simulator(seed=9)
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


def test_plots_refuse_other_frames_and_text():
    trials = pd.DataFrame({"estimator": ["IPS", "IPS"], "estimate": [0.1, 0.2]})
    with pytest.raises(TypeError, match="truth must be a number"):
        plot_estimates(trials, "0.15")
    with pytest.raises(ValueError, match="repeated_trials returns"):
        plot_estimates(trials.rename(columns={"estimate": "value"}), 0.15)
    only_ips = pd.DataFrame({"max_weight": [np.inf], "bias": [0.0], "std": [1.0], "rmse": [1.0]})
    with pytest.raises(ValueError, match="no finite cap"):
        plot_clipping(only_ips)
    with pytest.raises(ValueError, match="clipping_sweep returns"):
        plot_clipping(pd.DataFrame({"max_weight": [1.0]}))
    plt.close("all")
