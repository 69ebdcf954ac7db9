"""Pictures of chapter 06: the splits of one tree, and queries per second against recall.

Taught in chapter 06 (approximate nearest neighbours): :func:`plot_tree_splits` draws the trees
of section 3 ("A tree, then a forest") on 2-D points; :func:`plot_recall_qps` draws the tables of
:func:`course_lib.ann.recall_qps_grid` in section 5, in the style of ann-benchmarks (Aumüller et
al. 2020). Both take ``ax=None`` and return the figure (:func:`course_lib.plotting.axes_or_new`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from course_lib.ann.forest import RandomHyperplaneForest
from course_lib.plotting import axes_or_new
from course_lib.validation import require_int, validate_matrix
from course_lib.vectors import unit_rows

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["plot_recall_qps", "plot_tree_splits"]


def plot_recall_qps(table: pd.DataFrame, ax: Any = None, title: str | None = None) -> Any:
    """Queries per second against recall, one line per library and ``n_trees`` (log scale).

    ``table`` is :func:`~course_lib.ann.recall_qps_grid`'s output; up and to the right is better,
    as in ann-benchmarks (Aumüller et al. 2020). Returns the figure.

    Raises
    ------
    ValueError
        A table without the columns of :func:`~course_lib.ann.recall_qps_grid`, or with no row.
    """
    needed = ("library", "n_trees", "search_k", "recall", "qps")
    missing = [c for c in needed if c not in getattr(table, "columns", ())]
    if missing:
        raise ValueError(
            f"table lacks the columns {missing}; pass the DataFrame that recall_qps_grid returns"
        )
    if len(table) == 0:
        raise ValueError("table has no rows; pass the DataFrame that recall_qps_grid returns")
    fig, ax = axes_or_new(ax, figsize=(6, 4))
    styles = {"ours": ("C0", "o"), "ours, 1 thread": ("C0", "^"), "annoy": ("C1", "s")}
    dashes = {}
    for (library, trees), group in table[table.library != "brute force"].groupby(
        ["library", "n_trees"], sort=False
    ):
        colour, marker = styles.get(library, ("C2", "x"))
        style = dashes.setdefault(trees, ["-", "--", ":", "-."][len(dashes) % 4])
        group = group.sort_values("search_k")
        ax.plot(
            group.recall,
            group.qps,
            color=colour,
            marker=marker,
            linestyle=style,
            label=f"{library}, {trees} trees",
        )
    brute = table[table.library == "brute force"]
    ax.scatter(
        brute.recall,
        brute.qps,
        color="k",
        marker="*",
        s=150,
        zorder=3,
        label="brute force",
    )
    ax.set_yscale("log")
    ax.set_xlabel("recall@k (fraction of the true neighbours found)")
    ax.set_ylabel("queries per second (log scale)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    if title:
        ax.set_title(title)
    return fig


def _clip(polygon: np.ndarray, normal: np.ndarray, offset: float, sign: float) -> np.ndarray:
    """Keep the part of a convex polygon where ``sign * (normal . x + offset) >= 0``."""
    out = []
    n = len(polygon)
    for i in range(n):
        a, b = polygon[i], polygon[(i + 1) % n]
        fa = sign * (normal @ a + offset)
        fb = sign * (normal @ b + offset)
        if fa >= 0:
            out.append(a)
        if fa * fb < 0:
            out.append(a + (b - a) * fa / (fa - fb))
    return np.array(out) if out else np.zeros((0, 2))


def _line_in_cell(polygon: np.ndarray, normal: np.ndarray, offset: float) -> np.ndarray:
    """End points of the line ``normal . x + offset = 0`` inside a convex polygon."""
    out = []
    n = len(polygon)
    for i in range(n):
        a, b = polygon[i], polygon[(i + 1) % n]
        fa, fb = normal @ a + offset, normal @ b + offset
        if fa == 0:
            out.append(a)
        elif fa * fb < 0:
            out.append(a + (b - a) * fa / (fa - fb))
    return np.array(out)


def plot_tree_splits(
    forest: RandomHyperplaneForest,
    points: np.ndarray,
    tree: int = 0,
    max_depth: int | None = None,
    query: np.ndarray | None = None,
    ax: Any = None,
) -> Any:
    """Draw the splits of one tree of a forest fitted on 2-D points (euclidean or angular).

    Each split line is drawn inside its node's cell, thicker near the root; points are coloured by
    leaf. The splits are annoy's (Bernhardsson 2013). Returns the matplotlib figure.

    Raises
    ------
    TypeError
        ``forest`` not a :class:`~course_lib.ann.RandomHyperplaneForest`; ``tree`` or
        ``max_depth`` not an integer.
    NotFittedError
        An unfitted forest.
    ValueError
        A forest not fitted on 2-D points; ``points`` not the (n_items, 2) points it was fitted
        on, or with NaN values; ``tree`` outside ``[0, n_trees)``; a negative ``max_depth``; a
        ``query`` that is not one finite 2-D point.
    """
    if not isinstance(forest, RandomHyperplaneForest):
        raise TypeError(f"forest must be a RandomHyperplaneForest, got {type(forest).__name__}")
    forest._require_fit()
    if forest.index_dim != 2:
        raise ValueError(
            f"plot_tree_splits needs a forest fitted on 2-D points; this one splits "
            f"{forest.index_dim}-D vectors (metric {forest.metric!r})"
        )
    pts = validate_matrix(points, "points", n_columns=2, dtype=np.float64)
    if pts.shape[0] != forest.n_items:
        raise ValueError(
            f"points has {pts.shape[0]} rows but the forest was fitted on {forest.n_items}; pass "
            "the 2-D points it was fitted on"
        )
    tree = require_int(tree, "tree", 0)
    if tree >= forest.n_trees:
        raise ValueError(f"tree must be in [0, {forest.n_trees}), got {tree}")
    if max_depth is not None:
        max_depth = require_int(max_depth, "max_depth", 0)
    qv = None
    if query is not None:
        qv = validate_matrix(np.reshape(query, (1, -1)), "query", n_columns=2, dtype=np.float64)[0]
    fig, ax = axes_or_new(ax, figsize=(5, 5))
    shown = unit_rows(pts) if forest.metric == "angular" else pts
    lo, hi = shown.min(axis=0), shown.max(axis=0)
    pad = 0.05 * (hi - lo).max()
    lo, hi = lo - pad, hi + pad
    box = np.array([[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]])
    leaf_colour = np.zeros(pts.shape[0])
    stack: list[tuple[int, np.ndarray, int]] = [(int(forest.roots_[tree]), box, 0)]
    rng = np.random.default_rng(0)
    while stack:
        ref, cell, depth = stack.pop()
        if ref < 0:
            items = forest.leaf_items_[forest.leaf_start_[-ref - 1] : forest.leaf_end_[-ref - 1]]
            leaf_colour[items] = rng.random()
            continue
        normal = forest.normals_[ref].astype(np.float64)
        offset = float(forest.offsets_[ref])
        if max_depth is None or depth < max_depth:
            left = _clip(cell, normal, offset, -1.0)
            right = _clip(cell, normal, offset, 1.0)
            seg = _line_in_cell(cell, normal, offset)
            if len(seg) >= 2:
                ax.plot(seg[:, 0], seg[:, 1], color="k", lw=max(0.4, 2.5 - 0.4 * depth))
            stack.append((int(forest.children_[ref, 0]), left, depth + 1))
            stack.append((int(forest.children_[ref, 1]), right, depth + 1))
    ax.scatter(shown[:, 0], shown[:, 1], c=leaf_colour, cmap="tab20", s=8)
    if qv is not None:
        if forest.metric == "angular":
            qv = qv / np.linalg.norm(qv)
        ax.scatter([qv[0]], [qv[1]], marker="*", s=200, color="red", label="query")
        ax.legend(loc="upper right")
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    ax.set_xlabel("dimension 1")
    ax.set_ylabel("dimension 2")
    ax.set_title(f"tree {tree} of a {forest.metric} forest (leaf_size={forest.leaf_size_})")
    return fig
