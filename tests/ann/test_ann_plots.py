"""course_lib.ann.plots (chapter 06, sections 3 and 5): tree splits and recall against speed."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

from course_lib.ann import NotFittedError, RandomHyperplaneForest, plot_recall_qps, plot_tree_splits

matplotlib.use("Agg")


def test_plot_tree_splits_draws_one_line_per_split(clustered):
    points = clustered(300, 2, 5, seed=0)
    forest = RandomHyperplaneForest(n_trees=1, leaf_size=30, metric="euclidean").fit(points)
    fig = plot_tree_splits(forest, points, query=points[0])
    assert len(fig.axes[0].lines) == forest.normals_.shape[0]
    shallow = plot_tree_splits(forest, points, max_depth=1)
    assert len(shallow.axes[0].lines) == 1


def test_plot_tree_splits_refuses_what_it_cannot_draw(clustered):
    points = clustered(300, 2, 5, seed=0)
    forest = RandomHyperplaneForest(n_trees=2, leaf_size=30, metric="euclidean").fit(points)
    with pytest.raises(ValueError, match="2-D"):
        plot_tree_splits(RandomHyperplaneForest(1).fit(clustered(50, 3, 2, 0)), points)
    with pytest.raises(NotFittedError, match="fit"):
        plot_tree_splits(RandomHyperplaneForest(1), points)
    with pytest.raises(ValueError, match="points has 100 rows but the forest was fitted on 300"):
        plot_tree_splits(forest, points[:100])
    with pytest.raises(ValueError, match=r"tree must be in \[0, 2\), got 2"):
        plot_tree_splits(forest, points, tree=2)
    with pytest.raises(TypeError, match="tree must be an integer, got True"):
        plot_tree_splits(forest, points, tree=True)
    with pytest.raises(ValueError, match="max_depth must be an integer >= 0"):
        plot_tree_splits(forest, points, max_depth=-1)
    with pytest.raises(ValueError, match="query contains NaN"):
        plot_tree_splits(forest, points, query=np.array([np.nan, 1.0]))


def test_plot_recall_qps_draws_a_line_per_library_and_trees():
    table = pd.DataFrame(
        {
            "library": ["brute force", "ours", "ours", "annoy", "annoy"],
            "n_trees": [0, 5, 5, 5, 5],
            "search_k": [1000, 50, 500, 50, 500],
            "recall": [1.0, 0.5, 0.9, 0.6, 0.95],
            "qps": [100.0, 5000.0, 1000.0, 4000.0, 800.0],
        }
    )
    fig = plot_recall_qps(table, title="toy")
    assert len(fig.axes[0].lines) == 2
    assert fig.axes[0].get_yscale() == "log"
    with pytest.raises(ValueError, match=r"lacks the columns \['qps'\]"):
        plot_recall_qps(table.drop(columns="qps"))
    with pytest.raises(ValueError, match="no rows"):
        plot_recall_qps(table.iloc[:0])
