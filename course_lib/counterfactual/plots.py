"""Plots of chapter 08's estimator study: estimates over re-drawn logs, and the clipping trade-off.

Taught in chapter 08 (``chapters/08_beyond_accuracy.md``): "4. Five estimators over many re-drawn
logs" draws :func:`plot_estimates`, "5. Clipping: trading bias for variance" draws
:func:`plot_clipping`. Both follow the :mod:`course_lib.plotting` contract: ``ax=None``, labelled
axes, the figure returned, nothing shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from course_lib.counterfactual.simulation import _require_frame
from course_lib.plotting import axes_or_new
from course_lib.validation import require_number

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_clipping", "plot_estimates"]


def plot_estimates(
    trials: pd.DataFrame,
    truth: float,
    *,
    ax: Axes | None = None,
    title: str | None = "Estimates over re-drawn logs",
    figsize: tuple[float, float] = (7, 3),
) -> Figure:
    """Box plot of each estimator's estimates over repeated trials, with the exact value.

    Parameters
    ----------
    trials : DataFrame
        The output of :func:`repeated_trials`.
    truth : float
        The exact value of the target policy (a dashed line).
    """
    _require_frame(trials, "trials", ("estimator", "estimate"), "repeated_trials")
    truth = require_number(truth, "truth")
    order = list(dict.fromkeys(trials["estimator"]))
    groups = [trials.loc[trials["estimator"] == name, "estimate"].to_numpy() for name in order]
    fig, ax = axes_or_new(ax, figsize)
    ax.boxplot(groups, showmeans=True, meanprops={"marker": "^"})
    ax.set_xticks(range(1, len(order) + 1), order)
    ax.axhline(truth, color="C3", linestyle="--", linewidth=1, label="exact value")
    ax.set_ylabel("estimated play rate")
    ax.legend(loc="best")
    if title:
        ax.set_title(title)
    return fig


def plot_clipping(
    sweep: pd.DataFrame,
    *,
    ax: Axes | None = None,
    title: str | None = "Clipped IPS: bias against variance",
    figsize: tuple[float, float] = (6, 3),
) -> Figure:
    """Squared bias, variance and mean squared error of clipped IPS against the cap ``M``.

    Parameters
    ----------
    sweep : DataFrame
        The output of :func:`clipping_sweep`; a row with ``max_weight = inf`` (plain IPS) is drawn
        as a horizontal line.
    """
    _require_frame(sweep, "sweep", ("max_weight", "bias", "std", "rmse"), "clipping_sweep")
    finite = sweep[np.isfinite(sweep["max_weight"])]
    if finite.empty:
        raise ValueError("sweep has no finite cap to draw; pass caps such as [1, 5, np.inf]")
    fig, ax = axes_or_new(ax, figsize)
    m = finite["max_weight"]
    ax.plot(m, finite["bias"] ** 2, marker="o", label="bias²")
    ax.plot(m, finite["std"] ** 2, marker="o", label="variance")
    ax.plot(m, finite["rmse"] ** 2, marker="o", color="k", label="MSE")
    plain = sweep[~np.isfinite(sweep["max_weight"])]
    if len(plain):
        ax.axhline(float(plain["rmse"].iloc[0]) ** 2, color="k", linestyle=":", label="MSE of IPS")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("weight cap M")
    ax.set_ylabel("squared error (play rate²)")
    ax.legend(loc="best", fontsize="small")
    if title:
        ax.set_title(title)
    return fig
