"""Measuring: cosine distance per track, a paired comparison, distances by group and their plot.

Taught in chapters 07 (``chapters/07_fusion.md``, sections 5 and 6) and 07b: they average the
per-track cosine distance that Nieto (2017) reports, compare two models track by track with a
bootstrap interval, and split the distances by popularity bucket and by "has tags or not".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from course_lib.evaluation.compare import paired_comparison
from course_lib.plotting import axes_or_new
from course_lib.validation import validate_index, validate_matrix

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["cosine_distances", "distance_by_group", "paired_difference", "plot_distance_by_bucket"]


def cosine_distances(predicted: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per-track cosine distance ``1 - p.y / (||p|| ||y||)`` (0 = same direction, 2 = opposite).

    The quantity Nieto (2017) reports, before averaging over the test set. A zero prediction
    counts as distance 1 (no information about the direction). Refuses empty, non-2-D or
    non-finite (NaN) arrays and arrays of different shapes.
    """
    p = validate_matrix(predicted, "predicted").astype(np.float64)
    y = validate_matrix(targets, "targets").astype(np.float64)
    if p.shape != y.shape:
        raise ValueError(f"predicted {p.shape} and targets {y.shape} must have the same shape")
    pn = np.linalg.norm(p, axis=1)
    yn = np.linalg.norm(y, axis=1)
    cos = np.sum(p * y, axis=1) / np.maximum(pn * yn, 1e-12)
    return 1.0 - cos


def paired_difference(
    distances_a: np.ndarray,
    distances_b: np.ndarray,
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, float]:
    """Compare two models on the same test tracks: mean of ``a - b`` with a bootstrap interval.

    Both arrays hold one distance per test track, in the same order (:func:`cosine_distances`).
    Because the tracks are the same, the per-track differences carry the comparison (a paired
    design), and resampling the tracks with replacement ``n_boot`` times gives a percentile
    interval for their mean (Efron & Tibshirani 1993, ch. 13). Negative means ``a`` is better.
    ``se``, the standard error of the mean difference (the per-track differences' sample
    standard deviation over ``sqrt(n)``), says the same in one number: ``a`` beats ``b`` by ``k``
    standard errors when ``mean < -k * se``.

    Returns
    -------
    dict with ``mean``, ``se``, ``low`` and ``high`` (the interval at ``level``),
    ``share_a_better`` (the fraction of tracks where ``a`` is strictly closer) and ``n``
    (tracks).

    Raises
    ------
    TypeError, ValueError
        Arrays that are not 1-D, of different lengths, shorter than 2 or not finite; a ``level``
        outside (0, 1); an ``n_boot`` below 100; a ``seed`` that is not an integer.
    """
    a = np.asarray(distances_a, dtype=np.float64)
    b = np.asarray(distances_b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(
            f"distances_a {a.shape} and distances_b {b.shape} must be 1-D and of equal length, "
            "one distance per test track in the same order"
        )
    if a.size < 2:
        raise ValueError("need at least two paired distances")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("distances contain NaN or infinity; compute them on valid predictions")
    # the paired mean, its standard error and the bootstrap interval: chapter 01's comparison
    paired = paired_comparison(a, b, n_boot=n_boot, level=level, seed=seed)
    return {
        "mean": paired.difference,
        "se": paired.standard_error,
        "low": paired.low,
        "high": paired.high,
        "share_a_better": float(np.mean(a < b)),
        "n": paired.n,
    }


def distance_by_group(
    predictions: Mapping[str, np.ndarray],
    targets: np.ndarray,
    rows: Any,
    groups: Mapping[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Mean cosine distance of each model on ``rows``, overall and per group.

    Parameters
    ----------
    predictions : mapping model name -> array (n_tracks, n_factors), all tracks
    targets : array (n_tracks, n_factors)
    rows : array of int
        The evaluation tracks (e.g. the test split).
    groups : mapping group name -> boolean mask over all tracks, optional
        E.g. ``{"tail": buckets == "tail", "tail, no tags": ...}``; each adds a column.

    Returns
    -------
    pandas.DataFrame
        One row per model; columns ``all`` and one per group; a final row ``n tracks``.

    Raises
    ------
    TypeError, ValueError
        No predictions; predictions or targets that are empty or hold NaN, or differ in shape;
        rows out of range; a group that is not a boolean mask with one entry per track (an
        array of indices is refused, not reinterpreted).
    """
    if not predictions:
        raise ValueError("give at least one model's predictions")
    y = validate_matrix(targets, "targets")
    idx = validate_index(rows, len(y), "rows")
    masks = {"all": np.ones(len(y), dtype=bool)}
    for g, m in (groups or {}).items():
        m = np.asarray(m)
        if m.dtype != bool or m.shape != (len(y),):
            raise ValueError(
                f"group {g!r} must be a boolean mask with one entry per track "
                f"({len(y)}), got {m.dtype} of shape {m.shape}; build it with a comparison "
                "such as buckets == 'tail' (or np.isin(np.arange(n_tracks), indices))"
            )
        masks[g] = m
    table: dict[str, dict[str, float]] = {}
    for name, pred in predictions.items():
        p = validate_matrix(pred, f"predictions[{name!r}]")
        if p.shape != y.shape:
            raise ValueError(f"predictions[{name!r}] has shape {p.shape}, targets {y.shape}")
        d = cosine_distances(p[idx], y[idx])
        table[name] = {
            g: float(d[m[idx]].mean()) if m[idx].any() else float("nan") for g, m in masks.items()
        }
    out = pd.DataFrame(table).T
    out.loc["n tracks"] = [int(m[idx].sum()) for m in masks.values()]
    return out


def plot_distance_by_bucket(
    table: pd.DataFrame, ax: Any = None, figsize: tuple[float, float] = (7, 3)
) -> Figure:
    """Grouped bars: mean test cosine distance of each model (rows) in each group (columns).

    Takes :func:`distance_by_group`'s table (its ``n tracks`` row is ignored); lower is better.
    """
    data = table.drop(index="n tracks", errors="ignore").astype(float)
    if data.empty:
        raise ValueError("the table has no model rows to plot; pass distance_by_group's output")
    fig, ax = axes_or_new(ax, figsize)
    n_models, n_groups = data.shape
    width = 0.8 / max(n_models, 1)
    x = np.arange(n_groups)
    for m, (name, row) in enumerate(data.iterrows()):
        ax.bar(x + (m - (n_models - 1) / 2) * width, row.to_numpy(), width, label=str(name))
    ax.set_xticks(x, [str(c) for c in data.columns])
    ax.set_ylabel("cosine distance (lower is better)")
    ax.set_xlabel("test tracks")
    ax.legend(fontsize="small", ncols=2)
    return fig
