"""How selective a filter is, measured against the music world's ground truth.

Taught in chapter 05 (what the network learned), section 4 ("What do the filters detect? Ask the
ground truth", with exercise 5.2): Dieleman (2014, sec. 6.3) found the last dense layer's units
"very selective for certain subgenres"; the music world knows every track's genre and
attributes, so the claim can be measured (:func:`genre_purity`, :func:`label_mutual_information`,
:func:`attribute_selectivity`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib.inspection._arguments import require_k
from course_lib.inspection.activations import track_scores
from course_lib.validation import require_int

__all__ = [
    "attribute_selectivity",
    "chance_purity",
    "genre_purity",
    "label_mutual_information",
    "most_selective_filter",
]


def _labels(labels: Any, n_tracks: int | None, name: str) -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim != 1 or (n_tracks is not None and y.shape[0] != n_tracks):
        expected = "one entry per track" + ("" if n_tracks is None else f" ({n_tracks})")
        raise ValueError(
            f"{name} must be 1-D with {expected}, got shape {y.shape}; pass a column of "
            "world.tracks for the same tracks as the activations"
        )
    if y.size == 0:
        raise ValueError(f"{name} is empty: pass one entry per track")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        bad = np.flatnonzero(~np.isfinite(y))
        raise ValueError(
            f"{name} contains NaN or infinite values (tracks {bad[:5].tolist()}); "
            "drop those tracks (from the activations too) or fill the missing values"
        )
    return y


def _scores_and_labels(
    activations: np.ndarray, labels: Any, mode: str, name: str
) -> tuple[np.ndarray, np.ndarray]:
    scores = track_scores(activations, mode)
    return scores, _labels(labels, scores.shape[0], name)


def _top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(top-k track indices per filter (filters, k), filters whose k-th best score is > 0)."""
    order = np.argsort(-scores, axis=0, kind="stable")[:k].T
    kth = np.take_along_axis(scores, order[:, -1:].T, axis=0)[0]
    return order, kth > 0


def genre_purity(
    activations: np.ndarray, labels: Any, top_k: int = 20, *, mode: str = "max"
) -> np.ndarray:
    """Per filter: the share of its ``top_k`` tracks that carry its most common label.

    A purity of 1 means all of the filter's favourite tracks share one genre; ``1 / n_genres``
    is the floor for a filter that ignores genre (see :func:`chance_purity`). Dieleman (2014,
    sec. 6.3) found the last dense layer's units "very selective for certain subgenres" and the
    first layer's playlists "quite varied" in genre (sec. 6.1).

    Parameters
    ----------
    activations : array (n_tracks, time, filters) or (n_tracks, units)
    labels : array (n_tracks,)
        E.g. ``world.tracks.genre_id``.
    top_k : int
        Size of each filter's playlist.
    mode : {"max", "mean"}
        How conv activations are reduced over time (:func:`~course_lib.inspection.track_scores`).

    Returns
    -------
    np.ndarray float64 (filters,)
        NaN for a filter that is silent (zero) on some of its ``top_k`` tracks: such a "dead"
        ReLU unit has no playlist, and ranking its zeros would only reflect the track order.

    Raises
    ------
    ValueError
        Activations of the wrong shape or with NaN / inf; labels not one per track (or NaN);
        ``top_k`` below 1 or larger than the number of tracks.
    """
    scores, y = _scores_and_labels(activations, labels, mode, "labels")
    k = require_k(top_k, len(y), "top_k")
    order, alive = _top_k(scores, k)
    _, codes = np.unique(y, return_inverse=True)
    counts = np.stack([np.bincount(row, minlength=codes.max() + 1) for row in codes[order]])
    purity = counts.max(axis=1) / k
    return np.where(alive, purity, np.nan)


def chance_purity(labels: Any, top_k: int = 20, *, n_draws: int = 2000, seed: int = 0) -> float:
    """Expected :func:`genre_purity` of a filter that picks ``top_k`` tracks at random.

    The reference line for the purity histograms: a purity near this value means the filter's
    playlist is as mixed as a random sample of the catalogue. Refuses labels that are not 1-D
    (or NaN), a ``top_k`` larger than the catalogue and ``n_draws`` below 1.
    """
    y = _labels(labels, None, "labels")
    k = require_k(top_k, y.size, "top_k")
    n_draws = require_int(n_draws, "n_draws", 1)
    _, codes = np.unique(y, return_inverse=True)
    rng = np.random.default_rng(seed)
    draws = np.stack([rng.choice(codes, size=k, replace=False) for _ in range(n_draws)])
    counts = np.stack([np.bincount(row, minlength=codes.max() + 1) for row in draws])
    return float((counts.max(axis=1) / k).mean())


def label_mutual_information(
    activations: np.ndarray, labels: Any, *, n_bins: int = 8, mode: str = "max"
) -> np.ndarray:
    """Mutual information (bits) between each filter's activation and a discrete label.

    The activation is cut into ``n_bins`` equal-frequency bins (quantiles; tied values, such as a
    ReLU's zeros, share a bin) and ``I(A; Y) = sum p(a, y) log2 p(a, y) / (p(a) p(y))`` is computed
    from the contingency table. Unlike :func:`genre_purity` it looks at every track, not only the
    top of the playlist; its upper bound is the label entropy ``H(Y)``. Refuses what
    :func:`genre_purity` refuses, and ``n_bins`` below 2.
    """
    scores, y = _scores_and_labels(activations, labels, mode, "labels")
    n_bins = require_int(n_bins, "n_bins", 2)
    _, codes = np.unique(y, return_inverse=True)
    n_labels = codes.max() + 1
    out = np.empty(scores.shape[1])
    for f in range(scores.shape[1]):
        edges = np.unique(np.quantile(scores[:, f], np.linspace(0, 1, n_bins + 1)[1:-1]))
        bins = np.searchsorted(edges, scores[:, f], side="right")
        joint = np.zeros((n_bins, n_labels))
        np.add.at(joint, (bins, codes), 1.0)
        joint /= joint.sum()
        outer = joint.sum(axis=1, keepdims=True) * joint.sum(axis=0, keepdims=True)
        nz = joint > 0
        out[f] = float(np.sum(joint[nz] * np.log2(joint[nz] / outer[nz])))
    return out


def attribute_selectivity(
    activations: np.ndarray, attribute: Any, top_k: int = 20, *, mode: str = "mean"
) -> np.ndarray:
    """Per filter: how far above average an attribute is among the filter's ``top_k`` tracks.

    ``z_f = (mean of attribute over the top_k tracks of filter f - catalogue mean) / catalogue
    std``: a filter with ``z = 2`` fills its playlist with tracks two standard deviations above
    average (e.g. very distorted ones). NaN for filters silent on part of their top ``k`` (see
    :func:`genre_purity`).

    Raises
    ------
    TypeError
        An attribute that is not numeric.
    ValueError
        What :func:`genre_purity` refuses, and a constant attribute.
    """
    scores, x = _scores_and_labels(activations, attribute, mode, "attribute")
    if x.dtype.kind not in "biuf":
        raise TypeError(f"attribute must hold numbers (one per track), got dtype {x.dtype}")
    x = x.astype(np.float64)
    k = require_k(top_k, len(x), "top_k")
    std = x.std()
    if std == 0:
        raise ValueError("the attribute is constant: nothing to be selective for")
    order, alive = _top_k(scores, k)
    z = (x[order].mean(axis=1) - x.mean()) / std
    return np.where(alive, z, np.nan)


def most_selective_filter(activations: np.ndarray, attribute: Any, top_k: int = 20) -> int:
    """The filter whose ``top_k`` tracks (by mean activation) have the highest mean attribute.

    The argmax of :func:`attribute_selectivity` over the filters that are alive (the answer to
    exercise 5.2). Ties go to the lower filter index. Refuses what
    :func:`attribute_selectivity` refuses, and activations where every filter is silent.
    """
    z = attribute_selectivity(activations, attribute, top_k, mode="mean")
    if np.all(np.isnan(z)):
        raise ValueError("every filter is silent on part of its top-k tracks; lower top_k")
    return int(np.nanargmax(z))
