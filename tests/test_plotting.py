"""course_lib.plotting: every helper draws into a given axes or a new figure, and returns it."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from course_lib import plotting  # noqa: E402

RNG = np.random.default_rng(0)
CASES = {
    "plot_long_tail": lambda ax: plotting.plot_long_tail(RNG.zipf(2.0, 200), ax=ax),
    "plot_learning_curve": lambda ax: plotting.plot_learning_curve(
        {"ours": [3, 2, 1.5], "implicit": [3, 2.1, 1.4]}, ax=ax
    ),
    "plot_metric_at_k": lambda ax: plotting.plot_metric_at_k(
        {"popularity": [0.1, 0.2, 0.3], "ALS": [0.2, 0.3, 0.5]}, [1, 10, 100], ax=ax
    ),
    "plot_embedding_2d": lambda ax: plotting.plot_embedding_2d(
        RNG.normal(size=(30, 2)), RNG.integers(0, 3, 30), label_names=["a", "b", "c"], ax=ax
    ),
    "plot_matrix": lambda ax: plotting.plot_matrix(sp.random(4, 6, 0.5, random_state=0), ax=ax),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_helper_returns_its_figure_with_or_without_axes(name):
    fig = CASES[name](None)
    assert isinstance(fig, Figure) and fig.axes
    assert fig.axes[0].get_xlabel() and fig.axes[0].get_ylabel()
    outer, axes = plt.subplots(1, 2)
    assert CASES[name](axes[1]) is outer
    assert axes[1].has_data() and not axes[0].has_data()
    plt.close("all")


def test_long_tail_marks_the_head():
    plays = np.array([50, 30, 10, 5, 5])
    fig = plotting.plot_long_tail(plays, head_share=0.5)
    line = fig.axes[0].lines[-1]  # the vertical marker
    assert line.get_xdata()[0] == 1  # the first item alone has half of the plays
    plt.close("all")


def test_helpers_reject_bad_input_with_a_clear_message():
    with pytest.raises(ValueError, match="empty"):
        plotting.plot_long_tail([])
    with pytest.raises(ValueError, match="negative"):
        plotting.plot_long_tail([3, -1])
    with pytest.raises(ValueError, match="head_share"):
        plotting.plot_long_tail([3, 1], head_share=2)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        plotting.plot_embedding_2d(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="one entry per point"):
        plotting.plot_embedding_2d(np.zeros((5, 2)), labels=[0, 1])
    with pytest.raises(ValueError, match="cut-offs"):
        plotting.plot_metric_at_k({"a": [1, 2]}, [1, 5, 10])
    with pytest.raises(ValueError, match="2-D"):
        plotting.plot_matrix(np.zeros(3))
    plt.close("all")
