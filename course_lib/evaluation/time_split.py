"""The split by time: hold out what each user discovered last.

Taught in chapter 01 (``chapters/01_implicit_feedback.md``, section 4, "A split students can
trust"), where a data set with timestamps (Last.fm 1K, :func:`course_lib.datasets.load_chapter_data`
with ``dataset="lastfm_1k"``) is split by time instead of at random; chapter 02 splits the same
way. A random hold-out lets the model learn from a user's future to predict their past; holding
out the items each user played *for the first time* last asks the question a service faces: what
will this user discover next? (Campos, Díez & Cantador 2014, "Time-aware recommender systems: a
comprehensive survey and analysis of existing evaluation protocols", section 4.)
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from course_lib.evaluation.split import hold_out, require_test_fraction, users_with_two_items
from course_lib.validation import validate_nonempty_plays

__all__ = ["split_plays_by_time"]


def split_plays_by_time(
    plays: sp.spmatrix, first_played: sp.spmatrix, test_fraction: float = 0.2
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Per-user hold-out of the items each user played first most recently.

    Each user keeps exactly as many items in training as :func:`~course_lib.evaluation.
    split_plays` would (``np.rint(test_fraction * n_u)`` held out, at least one, at most
    ``n_u - 1``), but the held-out items are the user's last discoveries: those with the latest
    first-listen time (ties broken by item index, so the split is deterministic). A (user, item)
    pair moves with all its plays, so ``train + test == plays``.

    Parameters
    ----------
    plays : sparse matrix (n_users, n_items)
        Play counts.
    first_played : sparse matrix (n_users, n_items)
        When each user first played each item (any increasing clock, e.g. Unix seconds), stored
        on exactly the entries of ``plays``.
    test_fraction : float
        Share of each user's played items to hold out, in (0, 1).

    Returns
    -------
    train, test : scipy.sparse.csr_matrix
        Like :func:`split_plays`'s: the shape and dtype of ``plays``, summing to it, disjoint.

    Raises
    ------
    TypeError
        ``test_fraction`` not a number, or a matrix that is not a matrix of numbers.
    ValueError
        ``test_fraction`` outside (0, 1); ``first_played`` of another shape or another sparsity
        pattern than ``plays``, or with NaN times; ``plays`` without two items for any user.
    """
    test_fraction = require_test_fraction(test_fraction)
    csr = validate_nonempty_plays(plays)
    if not sp.issparse(first_played) or first_played.shape != csr.shape:
        shape = getattr(first_played, "shape", type(first_played).__name__)
        raise ValueError(
            f"first_played must be a sparse matrix of the shape of plays, {csr.shape}, got "
            f"{shape}; pass the first_played of the same data set"
        )
    csr = csr.copy()
    csr.sort_indices()
    explicit = sp.csr_matrix(first_played, copy=True)
    explicit.sort_indices()
    same = np.array_equal(explicit.indptr, csr.indptr) and np.array_equal(
        explicit.indices, csr.indices
    )
    if not same:
        raise ValueError(
            "first_played must hold one time on exactly the played entries of plays (the same "
            "sparsity pattern); build both from the same log"
        )
    stamp = np.asarray(explicit.data, dtype=np.float64)
    if np.isnan(stamp).any():
        raise ValueError("first_played holds NaN times; every played entry needs a time")
    rows, per_user = users_with_two_items(csr)
    order = np.lexsort((csr.indices, stamp, rows))  # by user, then time, then item
    return hold_out(csr, rows, per_user, order, test_fraction, latest=True)
