"""Outliers: the intros, outros and covers that collaborative filtering recommends.

Taught in chapter 05 (what the network learned), section 7 ("Outliers: the intros and outros
that collaborative filtering recommends"); :func:`outlier_share` is first used in section 6.
Dieleman (2014, sec. 2 and 7) observed these outliers in collaborative-filtering playlists and
suggested filtering them "using an audio-based approach".
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib.inspection._arguments import as_lists
from course_lib.validation import require_number, validate_matrix

__all__ = ["album_outlier_scores", "flag_outliers", "outlier_share"]


def outlier_share(neighbour_lists: Any, is_outlier: Any) -> float:
    """Mean share of outliers (intros, outros, covers ...) in recommendation lists.

    Dieleman (2014, sec. 2): collaborative filtering recommends "intro tracks, outro tracks,
    interludes, cover songs and remixes", which "aren't good recommendations". Each list counts
    equally; lists may differ in length.

    Raises
    ------
    ValueError
        No lists; an ``is_outlier`` that is not a 1-D boolean flag per track; list entries that
        are not track indices into ``is_outlier``.
    """
    raw = np.asarray(is_outlier)
    binary = raw.dtype.kind == "b" or (raw.dtype.kind in "iu" and np.isin(raw, (0, 1)).all())
    if raw.ndim != 1 or not binary:
        raise ValueError(
            f"is_outlier must be one boolean flag per track (1-D), got dtype {raw.dtype} and "
            f"shape {raw.shape}; e.g. world.tracks.kind.ne('song').to_numpy()"
        )
    flags = raw.astype(bool)
    rows = as_lists(neighbour_lists, "neighbour_lists")
    if not rows:
        raise ValueError("no lists given")
    for row in rows:
        if row.size and (row.min() < 0 or row.max() >= flags.size):
            raise ValueError(f"list entries must be track indices in [0, {flags.size - 1}]")
    return float(np.mean([flags[row].mean() if row.size else 0.0 for row in rows]))


def album_outlier_scores(features: np.ndarray, album_ids: Any) -> np.ndarray:
    """Median cosine distance of each track's features to the *other* tracks of its album.

    An audio-based outlier score (Dieleman 2014, sec. 7: outliers "could be filtered out
    effectively using an audio-based approach"): an intro or outro shares its album's listeners,
    hence its collaborative-filtering factors, but not its sound. With features computed from
    audio (predicted factors, log-mel statistics) such tracks sit far from their album-mates. The
    median (not the mean) keeps one odd track from making its album-mates look odd too.
    NaN for a track that is alone on its album.

    Raises
    ------
    ValueError
        Features not 2-D, empty or holding NaN / inf; ``album_ids`` not one per track.
    """
    x = validate_matrix(features, "features", dtype=np.float64)
    album = np.asarray(album_ids)
    if album.shape != (x.shape[0],):
        raise ValueError(
            f"features must be (n_tracks, dim), album_ids (n_tracks,); got {x.shape}, {album.shape}"
        )
    unit = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    scores = np.full(len(x), np.nan)
    order = np.argsort(album, kind="stable")
    starts = np.flatnonzero(np.r_[True, album[order][1:] != album[order][:-1]])
    for members in np.split(order, starts[1:]):
        if members.size < 2:
            continue
        dist = 1.0 - unit[members] @ unit[members].T
        np.fill_diagonal(dist, np.nan)
        scores[members] = np.nanmedian(dist, axis=1)
    return scores


def flag_outliers(scores: Any, z: float = 3.0) -> np.ndarray:
    """Flag scores far above the typical one: robust z-score ``(s - median) / (1.4826 MAD) > z``.

    The median and the median absolute deviation (MAD) ignore the outliers themselves, unlike a
    mean and a standard deviation; ``1.4826 MAD`` estimates the standard deviation of the bulk
    NaN scores (lonely tracks) are never flagged.

    Raises
    ------
    TypeError
        A ``z`` that is not a number.
    ValueError
        Scores that are not 1-D, none finite, or with zero spread; a NaN or infinite ``z``.
    """
    z = require_number(z, "z")
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1:
        raise ValueError(f"scores must be 1-D (one per track), got shape {s.shape}")
    finite = np.isfinite(s)
    if not finite.any():
        raise ValueError("no finite scores to threshold")
    med = np.median(s[finite])
    mad = 1.4826 * np.median(np.abs(s[finite] - med))
    if mad == 0:
        raise ValueError("the scores have zero spread (MAD = 0); a z threshold is meaningless")
    with np.errstate(invalid="ignore"):
        return finite & ((s - med) / mad > z)
