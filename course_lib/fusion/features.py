"""Feature assembly: expert attributes, listener tags and genres as one row per track.

Taught in chapter 07 (``chapters/07_fusion.md``, section 2 "What describes a track"): the
non-audio descriptions of Nieto (2017), the Music Genome Project's expert attributes, listener
tags (the course's stand-in for the talk's "MLG") and genres, and the share of untagged tracks per
popularity bucket that explains why tags fail in the long tail (chapter 07b, exercise 7b.1).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib.fusion._inputs import from_world, tag_counts
from course_lib.fusion.buckets import BUCKETS
from course_lib.validation import require_choice, require_int, validate_index, validate_matrix
from course_lib.vectors import unit_rows

__all__ = ["attribute_features", "genre_features", "tag_features", "untagged_share"]


def _fit_rows(fit_rows: Any, n: int) -> np.ndarray:
    rows = validate_index(np.arange(n) if fit_rows is None else fit_rows, n, "fit_rows")
    if rows.size == 0:
        raise ValueError("fit_rows is empty: pass the training rows (split['train'])")
    return rows


def attribute_features(world_or_attributes: Any, fit_rows: Any = None) -> np.ndarray:
    """Expert attributes, standardised per column (zero mean, unit variance).

    The Music Genome Project of Nieto (2017): about 400 attributes per track rated by trained
    musicologists; the music world has 15 (``world.attributes``: 7 rate part of the sound, 8
    the themes of the lyrics, which the audio cannot carry). The mean and standard deviation
    are computed on ``fit_rows`` (the training tracks) so that nothing about the test tracks
    leaks into the features.

    Parameters
    ----------
    world_or_attributes : MusicWorld or array (n_tracks, n_attributes)
    fit_rows : array of int, optional
        Rows that define the mean and scale; default all rows.

    Returns
    -------
    np.ndarray float32 (n_tracks, n_attributes)

    Raises
    ------
    TypeError, ValueError
        A sparse, empty, non-2-D or non-finite (NaN) attribute matrix; ``fit_rows`` that are
        empty, not integers, or outside the rows.
    """
    x = validate_matrix(from_world(world_or_attributes, "attributes"), "attributes")
    rows = _fit_rows(fit_rows, len(x))
    mean = x[rows].mean(axis=0)
    std = x[rows].std(axis=0)
    return ((x - mean) / np.where(std > 0, std, 1.0)).astype(np.float32)


def tag_features(world_or_tags: Any, weighting: str = "tfidf", fit_rows: Any = None) -> np.ndarray:
    """Listener-tag counts turned into a unit-norm bag of tags per track.

    ``weighting="log"``: ``log(1 + count)``; ``"tfidf"``: that times the inverse document
    frequency ``idf_t = log((1 + n) / (1 + df_t)) + 1`` computed on ``fit_rows`` (scikit-learn's
    smoothed idf); ``"binary"``: 1 where a tag was given. Each row is then scaled to unit L2 norm,
    so a track tagged 300 times and one tagged 3 times with the same proportions look alike. A
    track nobody tagged keeps a row of zeros: that is the long-tail problem of chapter 07.

    Parameters
    ----------
    world_or_tags : MusicWorld or (sparse) array (n_tracks, n_tags) of counts
    weighting : {"tfidf", "log", "binary"}
    fit_rows : array of int, optional
        Rows whose tags define the idf; default all rows.

    Returns
    -------
    np.ndarray float32 (n_tracks, n_tags)

    Raises
    ------
    TypeError, ValueError
        Empty, non-2-D, NaN or negative counts; an unknown ``weighting``; bad ``fit_rows``.
    """
    counts = tag_counts(from_world(world_or_tags, "tags"))
    require_choice(weighting, "weighting", ("tfidf", "log", "binary"))
    if weighting == "log":
        x = np.log1p(counts)
    elif weighting == "binary":
        x = (counts > 0).astype(np.float32)
    else:
        rows = _fit_rows(fit_rows, len(counts))
        df = (counts[rows] > 0).sum(axis=0)
        idf = np.log((1.0 + rows.size) / (1.0 + df)) + 1.0
        x = np.log1p(counts) * idf[None, :]
    return unit_rows(x)


def untagged_share(tags: Any, buckets: np.ndarray) -> dict[str, float]:
    """Share of tracks that carry no tag at all, in each popularity bucket.

    A track is untagged when its row of tag counts sums to zero (stored zeros are not tags).
    Listener tags accumulate with listening, so this share grows towards the tail (Celma 2010,
    ch. 5; Nieto 2017): the reason a tag-based model cannot help where help is needed most.

    Parameters
    ----------
    tags : (sparse) array (n_tracks, n_tags) of counts
    buckets : array of str (n_tracks,), e.g. from :func:`popularity_buckets`

    Returns
    -------
    dict bucket -> share in [0, 1], buckets in order of first appearance in :data:`BUCKETS`,
    then any other labels sorted

    Raises
    ------
    TypeError, ValueError
        Empty, NaN or negative counts; not exactly one bucket label per track.
    """
    counts = tag_counts(tags)
    labels = np.asarray(buckets).astype(str)
    if labels.shape != (len(counts),):
        raise ValueError(f"need one bucket label per track ({len(counts)}), got {labels.shape}")
    untagged = counts.sum(axis=1) <= 0
    present = set(labels.tolist())
    order = [b for b in BUCKETS if b in present] + sorted(present - set(BUCKETS))
    return {b: float(untagged[labels == b].mean()) for b in order}


def genre_features(world_or_genre_ids: Any, n_genres: int | None = None) -> np.ndarray:
    """One-hot genre labels, float32 ``(n_tracks, n_genres)``.

    Parameters
    ----------
    world_or_genre_ids : MusicWorld or array of int (n_tracks,)
        A world (its ``tracks.genre_id`` and ``genre_names``) or the genre ids themselves.
    n_genres : int, optional
        Number of columns; default ``len(world.genre_names)`` or ``max id + 1``.

    Raises
    ------
    TypeError, ValueError
        Ids that are not a non-empty 1-D integer array, negative ids, ids that do not fit in
        ``n_genres``, an ``n_genres`` that is not a positive integer.
    """
    if n_genres is not None:
        n_genres = require_int(n_genres, "n_genres", minimum=1)
    if hasattr(world_or_genre_ids, "tracks"):
        ids = world_or_genre_ids.tracks["genre_id"].to_numpy()
        n_genres = n_genres or len(world_or_genre_ids.genre_names)
    else:
        ids = np.asarray(world_or_genre_ids)
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise ValueError("genre ids must be a 1-D integer array (one id per track)")
    if ids.size == 0:
        raise ValueError("genre ids are empty: pass one genre id per track")
    if ids.min() < 0:
        raise ValueError("genre ids must be >= 0")
    n = int(n_genres or ids.max() + 1)
    if ids.max() >= n:
        raise ValueError(f"genre id {ids.max()} does not fit in n_genres={n}")
    out = np.zeros((ids.size, n), dtype=np.float32)
    out[np.arange(ids.size), ids] = 1.0
    return out
