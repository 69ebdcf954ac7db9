"""A visit's context (the user's genre mix) and the reason shown with a pick (chapter 08).

Taught in chapter 08 (``chapters/08_beyond_accuracy.md``, "7. A contextual bandit for a shelf,
with reasons"): :func:`genre_mix` gives each user's context vector, :func:`because_you_played`
the "because you played X" explanation of McInerney et al. (2018).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from course_lib.validation import require_int, validate_index, validate_matrix, validate_plays
from course_lib.vectors import unit_rows

__all__ = ["because_you_played", "genre_mix"]


def genre_mix(
    plays: sp.spmatrix, genre_ids: np.ndarray, n_genres: int | None = None, add_bias: bool = True
) -> np.ndarray:
    """Context vectors: the share of each user's plays that falls in each genre.

    Parameters
    ----------
    plays : sparse matrix (n_users, n_tracks)
        Play counts.
    genre_ids : int array of shape (n_tracks,)
    n_genres : int, optional
        Number of genres (default: ``genre_ids.max() + 1``).
    add_bias : bool
        Append a constant 1 so that each arm also learns an intercept (its overall appeal).

    Returns
    -------
    np.ndarray float64 of shape (n_users, n_genres [+ 1]); rows of users without plays are 0
    (apart from the bias).

    Raises
    ------
    TypeError, ValueError
        Bad play counts (:func:`course_lib.validation.validate_plays`); genre ids that are not
        integers, negative, or not one per track; an ``n_genres`` that is not an integer larger
        than every genre id; an ``add_bias`` that is not a bool.
    """
    plays = validate_plays(plays)
    g = np.asarray(genre_ids)
    if g.shape != (plays.shape[1],):
        raise ValueError(
            f"genre_ids must have one entry per track ({plays.shape[1]}), got shape {g.shape}"
        )
    if g.size and g.dtype.kind not in "iu":
        raise TypeError(
            f"genre_ids must be integer ids, got dtype {g.dtype}; map genre names to ids first "
            "(e.g. world.tracks.genre_id)"
        )
    g = g.astype(np.int64)
    if g.size and g.min() < 0:
        raise ValueError(f"genre_ids must be >= 0, found {g.min()}")
    needed = int(g.max()) + 1 if g.size else 0
    n_genres = needed if n_genres is None else require_int(n_genres, "n_genres", 1)
    if n_genres < needed:
        raise ValueError(f"n_genres is {n_genres} but genre_ids go up to {needed - 1}")
    if not isinstance(add_bias, bool | np.bool_):
        raise TypeError(f"add_bias must be True or False, got {add_bias!r}")
    onehot = sp.csr_matrix((np.ones(g.size), (np.arange(g.size), g)), shape=(g.size, n_genres))
    counts = np.asarray((plays @ onehot).todense(), dtype=np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    mix = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    return np.hstack([mix, np.ones((mix.shape[0], 1))]) if add_bias else mix


def because_you_played(
    plays: sp.spmatrix, users: np.ndarray, items: np.ndarray, item_vectors: np.ndarray
) -> np.ndarray:
    """The reason for each recommendation: the user's played track most similar to it.

    Similarity is the cosine between item vectors (e.g. ALS item factors or genome attributes),
    the "because you played X" explanation of McInerney et al. (2018). The recommended track
    itself is never its own reason.

    Parameters
    ----------
    plays : sparse matrix (n_users, n_tracks)
    users, items : int arrays of equal length
        Who was recommended which track.
    item_vectors : array of shape (n_tracks, f)

    Returns
    -------
    np.ndarray of int64
        The track id of the reason for each pair (-1 if the user played nothing else).

    Raises
    ------
    TypeError, ValueError
        Bad play counts; ``users`` or ``items`` that are not 1-D integer ids within the matrix
        (a negative id would silently pick another user) or of different lengths; item vectors
        that are not a finite matrix with one row per track.
    """
    plays = validate_plays(plays)
    users = validate_index(users, plays.shape[0], "users")
    items = validate_index(items, plays.shape[1], "items")
    if users.shape != items.shape:
        raise ValueError("users and items must have the same length (one pair per recommendation)")
    v = validate_matrix(item_vectors, "item_vectors", dtype=np.float64)
    if v.shape[0] != plays.shape[1]:
        raise ValueError(
            f"item_vectors has {v.shape[0]} rows but there are {plays.shape[1]} tracks"
        )
    unit = unit_rows(v, dtype=np.float64)
    reasons = np.full(users.size, -1, dtype=np.int64)
    for j, (u, i) in enumerate(zip(users, items)):
        history = plays.indices[plays.indptr[u] : plays.indptr[u + 1]]
        history = history[history != i]
        if history.size:
            reasons[j] = history[np.argmax(unit[history] @ unit[i])]
    return reasons
