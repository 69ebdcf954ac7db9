"""Shared plot helpers: one look for every chapter's figures.

Introduced in chapter 00 (welcome) and used throughout. Each helper follows the same contract
(after libfmp's ``plot_*`` functions): it draws into ``ax`` when one is given, otherwise it creates
a figure of size ``figsize``; it labels its axes with units; it never calls ``plt.show()``; and it
returns the :class:`~matplotlib.figure.Figure`, so a chapter can place several plots side by side::

    fig, axes = plt.subplots(1, 2, figsize=(10, 3))
    plot_long_tail(item_plays, ax=axes[0])
    plot_learning_curve(losses, ax=axes[1])

Topic-specific plots live beside their topic (``course_lib.audio.plot_spectrogram``,
``course_lib.ann.plot_tree_splits``) and follow the same contract.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "axes_or_new",
    "plot_embedding_2d",
    "plot_learning_curve",
    "plot_long_tail",
    "plot_matrix",
    "plot_metric_at_k",
]


def axes_or_new(
    ax: Axes | None = None, figsize: tuple[float, float] = (6, 3)
) -> tuple[Figure, Axes]:
    """Return ``(figure, axes)``: the given axes and its figure, or a new figure with one axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.get_figure(), ax


def _as_1d(values: Any, what: str) -> np.ndarray:
    if hasattr(values, "toarray"):  # a sparse row or column
        values = values.toarray()
    array = np.asarray(values, dtype=np.float64).ravel()
    if array.size == 0:
        raise ValueError(f"{what} is empty; pass at least one value")
    return array


def plot_long_tail(
    item_plays: Any,
    *,
    ax: Axes | None = None,
    log: bool = True,
    head_share: float | None = 0.5,
    title: str | None = "Plays per track, most played first",
    figsize: tuple[float, float] = (6, 3),
) -> Figure:
    """Plot play counts per item sorted in decreasing order: the long tail (Celma 2010, ch. 4).

    Parameters
    ----------
    item_plays
        Total plays per item, shape ``(n_items,)`` (e.g. ``plays.sum(axis=0)`` of a users x items
        matrix; a sparse row is accepted).
    log
        Use a logarithmic y axis (items with zero plays are then left out of the curve).
    head_share
        If given, mark the number of top items that together collect this share of all plays.
    """
    counts = np.sort(_as_1d(item_plays, "item_plays"))[::-1]
    if np.any(counts < 0):
        raise ValueError("item_plays holds negative values; play counts must be >= 0")
    fig, ax = axes_or_new(ax, figsize)
    rank = np.arange(1, counts.size + 1)
    shown = counts > 0 if log else np.ones_like(counts, dtype=bool)
    ax.plot(rank[shown], counts[shown], color="C0")
    ax.fill_between(rank[shown], counts[shown], alpha=0.2, color="C0")
    if log:
        ax.set_yscale("log")
    total = counts.sum()
    if head_share is not None and total > 0:
        if not 0 < head_share < 1:
            raise ValueError(f"head_share must lie strictly between 0 and 1, got {head_share}")
        n_head = int(np.searchsorted(np.cumsum(counts) / total, head_share) + 1)
        ax.axvline(n_head, color="C3", linestyle="--", linewidth=1)
        ax.annotate(
            f"top {n_head} items: {head_share:.0%} of plays",
            xy=(n_head, 1),
            xycoords=("data", "axes fraction"),
            xytext=(4, -14),
            textcoords="offset points",
            color="C3",
        )
    ax.set_xlabel("item rank (1 = most played)")
    ax.set_ylabel("plays")
    if title:
        ax.set_title(title)
    return fig


def plot_learning_curve(
    values: Sequence[float] | Mapping[str, Sequence[float]],
    *,
    ax: Axes | None = None,
    xlabel: str = "iteration",
    ylabel: str = "loss",
    log: bool = False,
    title: str | None = None,
    figsize: tuple[float, float] = (6, 3),
) -> Figure:
    """Plot one or several curves against the iteration (or epoch) number, starting at 1.

    Parameters
    ----------
    values
        One sequence, or a mapping ``{label: sequence}`` for several curves (e.g. training and
        validation loss, or our ALS against ``implicit``'s).
    """
    curves = values if isinstance(values, Mapping) else {"": values}
    if not curves:
        raise ValueError("values is empty; pass a sequence or a non-empty {label: sequence}")
    fig, ax = axes_or_new(ax, figsize)
    for label, curve in curves.items():
        y = _as_1d(curve, f"curve {label!r}" if label else "values")
        ax.plot(
            np.arange(1, y.size + 1), y, marker="o" if y.size <= 30 else None, label=label or None
        )
    if log:
        ax.set_yscale("log")
    if any(curves.keys()):
        ax.legend()
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return fig


def plot_metric_at_k(
    results: Mapping[str, Sequence[float]],
    ks: Sequence[int],
    *,
    metric: str = "recall@k",
    ax: Axes | None = None,
    title: str | None = None,
    figsize: tuple[float, float] = (6, 3),
) -> Figure:
    """Plot a ranking metric against the cut-off ``k`` for several recommenders.

    Parameters
    ----------
    results
        ``{recommender name: metric values, one per k}``.
    ks
        The cut-offs, increasing.
    """
    k_values = np.asarray(ks)
    if k_values.ndim != 1 or k_values.size == 0:
        raise ValueError("ks must be a non-empty 1-D sequence of cut-offs, e.g. [1, 5, 10, 50]")
    if not results:
        raise ValueError("results is empty; pass {recommender name: values}")
    fig, ax = axes_or_new(ax, figsize)
    for name, values in results.items():
        y = _as_1d(values, f"results[{name!r}]")
        if y.size != k_values.size:
            raise ValueError(
                f"results[{name!r}] has {y.size} values but ks has {k_values.size} cut-offs"
            )
        ax.plot(k_values, y, marker="o", label=name)
    ax.set_xscale("log")
    ax.set_xticks(k_values, [str(k) for k in k_values])
    ax.set_xlabel("k (length of the recommendation list)")
    ax.set_ylabel(metric)
    ax.legend()
    if title:
        ax.set_title(title)
    return fig


def plot_embedding_2d(
    points: Any,
    labels: Sequence[int] | np.ndarray | None = None,
    *,
    label_names: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    point_size: float = 8.0,
    figsize: tuple[float, float] = (6, 5),
) -> Figure:
    """Scatter a 2-D embedding (t-SNE, van der Maaten & Hinton 2008; or PCA), coloured by label.

    Parameters
    ----------
    points
        Array of shape ``(n, 2)``.
    labels
        Optional integer label per point (e.g. ``genre_id``); one colour and legend entry each.
    label_names
        Optional name per label value, used in the legend.
    """
    xy = np.asarray(points, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(
            f"points must have shape (n, 2), got {xy.shape}; reduce to 2-D first (PCA or t-SNE)"
        )
    fig, ax = axes_or_new(ax, figsize)
    if labels is None:
        ax.scatter(xy[:, 0], xy[:, 1], s=point_size, alpha=0.7)
    else:
        label_array = np.asarray(labels)
        if label_array.shape != (xy.shape[0],):
            raise ValueError(
                f"labels must have one entry per point ({xy.shape[0]}), got {label_array.shape}"
            )
        for value in np.unique(label_array):
            mask = label_array == value
            name = label_names[int(value)] if label_names is not None else str(value)
            ax.scatter(xy[mask, 0], xy[mask, 1], s=point_size, alpha=0.7, label=name)
        ax.legend(markerscale=2, fontsize="small", loc="best")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("dimension 1 (no unit)")
    ax.set_ylabel("dimension 2 (no unit)")
    if title:
        ax.set_title(title)
    return fig


def plot_matrix(
    matrix: Any,
    *,
    ax: Axes | None = None,
    xlabel: str = "track",
    ylabel: str = "user",
    colorbar_label: str = "plays",
    title: str | None = None,
    cmap: str = "Blues",
    annotate: bool | None = None,
    figsize: tuple[float, float] = (5, 3),
) -> Figure:
    """Show a small matrix (e.g. a users x tracks play-count matrix) as a heat map.

    Parameters
    ----------
    matrix
        Dense or sparse, shape ``(n_rows, n_columns)``.
    annotate
        Write each value in its cell; by default only when the matrix has at most 100 cells.
    """
    values = matrix.toarray() if hasattr(matrix, "toarray") else np.asarray(matrix)
    if values.ndim != 2:
        raise ValueError(f"matrix must be 2-D, got shape {values.shape}")
    fig, ax = axes_or_new(ax, figsize)
    image = ax.imshow(values, cmap=cmap, aspect="auto", interpolation="nearest")
    fig.colorbar(image, ax=ax, label=colorbar_label)
    if annotate if annotate is not None else values.size <= 100:
        threshold = (np.nanmax(values) + np.nanmin(values)) / 2 if values.size else 0
        for (row, col), value in np.ndenumerate(values):
            text = f"{value:.2g}" if np.issubdtype(values.dtype, np.floating) else str(value)
            color = "white" if value > threshold else "black"
            ax.text(col, row, text, ha="center", va="center", color=color, fontsize="small")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return fig
