"""The honest split: hold out part of every user's played items.

Taught in chapter 01 (``chapters/01_implicit_feedback.md``, section 4, "A split students can
trust"); every later chapter that scores a model on held-out plays splits with it. The protocol
is that of Hu, Koren & Volinsky (2008, section 6): train on part of each user's items, rank the
rest among everything the user did not play in training.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from course_lib.validation import require_int, require_number, validate_nonempty_plays

__all__ = ["split_plays"]


def split_plays(
    plays: sp.spmatrix, test_fraction: float = 0.2, seed: int = 0
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Per-user random hold-out of played items.

    For each user with ``n_u`` played items, ``np.rint(test_fraction * n_u)`` of them (rounded to
    the nearest integer, ties to even; at least one, at most ``n_u - 1``), chosen uniformly at
    random, move with all their plays to the test matrix; the rest stay in
    the training matrix. A user with a single played item keeps it in training (we could not
    learn anything about them otherwise) and is therefore skipped by
    :func:`~course_lib.evaluation.ranking_metrics`. Every user and item keeps its row/column
    index, so factors trained on ``train`` can be scored against ``test`` directly.

    Parameters
    ----------
    plays : sparse matrix (n_users, n_items)
        Play counts.
    test_fraction : float
        Share of each user's played items to hold out, in (0, 1).
    seed : int
        Seed of the random choice (>= 0); the same seed gives the same split.

    Returns
    -------
    train, test : scipy.sparse.csr_matrix
        Same shape and dtype as ``plays``; their sum is ``plays`` and they share no entry.

    Raises
    ------
    TypeError
        ``test_fraction`` not a number (e.g. the string ``"0.2"``), ``seed`` not an integer, or
        ``plays`` not a matrix of numbers.
    ValueError
        ``test_fraction`` outside (0, 1) or NaN; a negative ``seed``; ``plays`` without users
        or items, with negative/NaN counts, or in which no user played two items or more (the
        test matrix would be empty and no user could be evaluated).
    """
    test_fraction = require_test_fraction(test_fraction)
    seed = require_int(seed, "seed", minimum=0)
    csr = validate_nonempty_plays(plays)
    rows, per_user = users_with_two_items(csr)
    keys = np.random.default_rng(seed).random(csr.nnz)
    order = np.lexsort((keys, rows))  # random order of entries inside each row
    return hold_out(csr, rows, per_user, order, test_fraction, latest=False)


def require_test_fraction(test_fraction: object) -> float:
    """``test_fraction`` as a float in (0, 1), or a clear error (shared by the two splits)."""
    fraction = require_number(
        test_fraction, "test_fraction", minimum=0.0, maximum=1.0, strict_minimum=True
    )
    if fraction == 1.0:
        raise ValueError(
            "test_fraction must be in (0, 1), got 1.0: every user keeps at least one item in "
            "training; pass e.g. test_fraction=0.2"
        )
    return fraction


def users_with_two_items(csr: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """The row of every entry and the entries per user; refuses a matrix nobody could test."""
    per_user = np.diff(csr.indptr)
    if not np.any(per_user >= 2):
        raise ValueError(
            f"no user of plays {csr.shape} played two items or more (most: {per_user.max()}), "
            "so the test matrix would be empty; split a matrix with richer users (drop users "
            "with a single item before splitting, or use more data)"
        )
    return np.repeat(np.arange(csr.shape[0]), per_user), per_user


def hold_out(
    csr: sp.csr_matrix,
    rows: np.ndarray,
    per_user: np.ndarray,
    order: np.ndarray,
    test_fraction: float,
    *,
    latest: bool,
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Hold out ``test_fraction`` of each user's entries, taken in ``order`` within the user.

    ``order`` sorts the entries by user first (a ``np.lexsort`` whose last key is ``rows``);
    the held-out entries are the first ones in that order, or the last ones if ``latest``. Each
    user keeps at least one entry in training and, with two or more, gives at least one to test.
    """
    rank = np.empty(csr.nnz, dtype=np.int64)
    rank[order] = np.arange(csr.nnz) - np.repeat(csr.indptr[:-1], per_user)
    n_test = np.rint(test_fraction * per_user).astype(np.int64)
    n_test = np.minimum(np.clip(n_test, 1, None), per_user - 1)  # one item stays in train
    n_test = np.maximum(n_test, 0)
    if latest:
        in_test = rank >= np.repeat(per_user - n_test, per_user)
    else:
        in_test = rank < np.repeat(n_test, per_user)

    def _pick(mask: np.ndarray) -> sp.csr_matrix:
        indptr = np.r_[0, np.cumsum(np.bincount(rows[mask], minlength=csr.shape[0]))]
        return sp.csr_matrix((csr.data[mask], csr.indices[mask], indptr), shape=csr.shape)

    return _pick(~in_test), _pick(in_test)
