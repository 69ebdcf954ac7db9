"""Exercise checks about play counts: chapter 00's demonstration, chapter 01's, chapter 02's first.

Chapters call them through the facade: ``from course_lib import checks``. Built on
:func:`course_lib.checking.run_check`, so the verdicts read like every other chapter's: "Correct",
"Not quite" (what differs, and a hint) or "Not implemented yet" (a stub that still raises
``NotImplementedError``; not an error, the notebook keeps running).

* chapter 00 (welcome), exercise 0.1: :func:`check_play_share`, against the reference
  :func:`play_share`;
* chapter 01 (implicit feedback): :func:`check_head_share` (``my_head_share(plays,
  head_fraction)``) and :func:`check_ndcg_at_k` (``my_ndcg(ranked_items, relevant_items, k)``);
* chapter 02 (ALS by hand), exercise 2.1: :func:`check_confidence_matrix` (``my_confidence(plays,
  alpha)``, ``c_ui = 1 + alpha * plays``).

Each check recognises the usual slips and names them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from course_lib.checking import Case, CheckResult, run_check
from course_lib.evaluation.feedback import popularity_curve
from course_lib.evaluation.synthetic import random_plays
from course_lib.validation import validate_matrix

__all__ = [
    "check_confidence_matrix",
    "check_head_share",
    "check_ndcg_at_k",
    "check_play_share",
    "play_share",
]


def _number(got: Any) -> float | None:
    try:
        return float(np.asarray(got).item())
    except (TypeError, ValueError):
        return None


def _first_slip(got: float | np.ndarray, slips: dict[str, Any]) -> str | None:
    for slip, value in slips.items():
        value = np.asarray(value, dtype=np.float64)
        if np.shape(got) == value.shape and np.allclose(got, value, rtol=1e-5, atol=1e-10):
            return slip
    return None


# ---------------------------------------------------------------------------------------------
# Chapter 00 (welcome): the demonstration exercise
# ---------------------------------------------------------------------------------------------
def play_share(plays: np.ndarray) -> np.ndarray:
    """Each user's share of their own plays per track: divide every row by its sum.

    A user's row of the users x tracks play-count matrix becomes a distribution over tracks
    (non-negative, summing to one). A user without any plays keeps a row of zeros instead of
    the ``0 / 0 = NaN`` a plain division would give. This is the "relative frequency" view of
    implicit feedback; chapter 01 contrasts it with the confidence weights of Hu, Koren &
    Volinsky (2008). Taught in chapter 00 as the demonstration exercise.

    Parameters
    ----------
    plays
        Dense array, shape ``(n_users, n_tracks)``, non-negative play counts.

    Returns
    -------
    numpy.ndarray
        float64 array of the same shape; each row sums to 1, or is all zeros.

    Raises
    ------
    TypeError
        If ``plays`` is a sparse matrix (call ``.toarray()``) or does not hold numbers (e.g.
        strings read from a file).
    ValueError
        If ``plays`` is not two-dimensional, holds negative counts, NaN or infinite values.
    """
    if np.ndim(plays) != 2:
        raise ValueError(
            f"plays must be a 2-D users x tracks array, got {np.ndim(plays)} dimension(s); "
            "reshape a single user's counts with plays[None, :]"
        )
    counts = validate_matrix(plays, "plays", allow_empty=True, dtype=np.float64)
    if np.any(counts < 0):
        raise ValueError("plays holds negative counts; play counts must be >= 0")
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def _rows_sum_to_one_or_zero(case: Case, got: Any) -> str | None:
    rows = np.asarray(got, dtype=np.float64).sum(axis=1)
    bad = ~(np.isclose(rows, 1.0) | np.isclose(rows, 0.0))
    if np.any(bad):
        user = int(np.argmax(bad))
        return f"row {user} sums to {rows[user]:.4g}; each user's shares must sum to 1"
    return None


def check_play_share(student_fn: Callable[[np.ndarray], np.ndarray]) -> CheckResult:
    """Check an implementation of :func:`play_share` (the chapter 00 exercise)."""
    cases = [
        Case((np.array([[3, 1], [0, 2]]),), label="two users, two tracks"),
        Case((np.array([[1, 1, 2, 0, 4]]),), label="one user, five tracks"),
        Case((np.array([[0, 0, 0], [5, 0, 5]]),), label="a user with no plays"),
        Case((np.array([[2, 0, 0, 6], [1, 3, 0, 0], [0, 0, 7, 7]]),), label="three users"),
    ]
    return run_check(
        student_fn,
        play_share,
        cases,
        name="play_share",
        properties=[_rows_sum_to_one_or_zero],
        hint=(
            "divide each row by that user's total (sum over axis=1, keepdims=True), and leave "
            "rows of users without plays at zero"
        ),
    )


# ---------------------------------------------------------------------------------------------
# Chapter 01: the head's share of plays
# ---------------------------------------------------------------------------------------------
def _head_share_property(case: Case, got: Any) -> str | None:
    plays, fraction = case.args
    value = _number(got)
    if value is None:
        return f"expected a number, got {type(got).__name__}"
    _, share = popularity_curve(plays)
    n_head = int(np.ceil(fraction * plays.shape[1]))
    want = float(share[n_head - 1])
    if np.isclose(value, want, rtol=1e-6):
        return None
    users = np.sort(np.diff(plays.tocsc().indptr))[::-1].astype(float)
    per_item = np.sort(np.asarray(plays.sum(axis=0)).ravel())[::-1].astype(float)
    slip = _first_slip(
        value,
        {
            "it ranks items by how many users played them, not by their total plays": users[
                :n_head
            ].sum()
            / users.sum(),
            "it returns the number of plays in the head, not their share of all plays": per_item[
                :n_head
            ].sum(),
            "it takes the least played items (sort in decreasing order)": per_item[-n_head:].sum()
            / per_item.sum(),
        },
    )
    return slip or f"expected {want:.6g}, got {value:.6g}"


def check_head_share(my_head_share: Callable[[sp.csr_matrix, float], float]) -> CheckResult:
    """Check ``my_head_share(plays, head_fraction) -> float`` (chapter 01, exercise 1.1).

    The answer is the share of all plays that go to the ``ceil(head_fraction * n_items)`` most
    played items (items ranked by total plays), as read off
    :func:`course_lib.evaluation.popularity_curve`.
    """
    cases = [
        Case(
            (random_plays(40, 25, density=0.3, seed=0), 0.2), label="40 users, 25 items, head 20 %"
        ),
        Case(
            (random_plays(30, 20, density=0.3, seed=1), 0.4), label="30 users, 20 items, head 40 %"
        ),
        Case(
            (random_plays(50, 10, density=0.3, seed=2), 0.1), label="50 users, 10 items, head 10 %"
        ),
    ]
    return run_check(
        my_head_share,
        None,
        cases,
        name="my_head_share",
        properties=[_head_share_property],
        hint="sum each item's plays over users, sort decreasing, and divide the top "
        "ceil(head_fraction * n_items) items' plays by all plays",
    )


# ---------------------------------------------------------------------------------------------
# Chapter 01: NDCG@k of one list
# ---------------------------------------------------------------------------------------------
def _reference_ndcg(ranked: np.ndarray, relevant: np.ndarray, k: int) -> float:
    hits = np.isin(np.asarray(ranked)[:k], relevant).astype(float)
    dcg = float(np.sum(hits / np.log2(np.arange(2, hits.size + 2))))
    n_best = min(k, len(set(np.asarray(relevant).tolist())))
    idcg = float(np.sum(1.0 / np.log2(np.arange(2, n_best + 2))))
    return dcg / idcg if idcg > 0 else 0.0


def _ndcg_property(case: Case, got: Any) -> str | None:
    ranked, relevant, k = case.args
    value = _number(got)
    if value is None:
        return f"expected a number, got {type(got).__name__}"
    want = _reference_ndcg(ranked, relevant, k)
    if np.isclose(value, want, rtol=1e-6, atol=1e-12):
        return None
    hits = np.isin(ranked[:k], relevant).astype(float)
    dcg = float(np.sum(hits / np.log2(np.arange(2, hits.size + 2))))
    idcg_all = float(np.sum(1.0 / np.log2(np.arange(2, relevant.size + 2))))
    slip = _first_slip(
        value,
        {
            "it returns the DCG without dividing by the ideal DCG": dcg,
            "its ideal DCG counts all relevant items; the ideal list has only k slots, so use "
            "min(k, number of relevant items)": dcg / idcg_all,
            "it returns precision@k (hits / k), without the rank discount": hits.sum() / k,
        },
    )
    return slip or f"expected {want:.6g}, got {value:.6g}"


def check_ndcg_at_k(my_ndcg: Callable[[np.ndarray, np.ndarray, int], float]) -> CheckResult:
    """Check ``my_ndcg(ranked_items, relevant_items, k) -> float`` (chapter 01, exercise 1.2).

    Järvelin & Kekäläinen (2002): a hit at rank ``r`` (1-based) gains ``1 / log2(r + 1)``; NDCG
    divides the sum by the best achievable one, with ``min(k, |relevant|)`` hits on top. The same
    definition as :func:`course_lib.evaluation.ranking_metrics`.
    """
    cases = [
        Case((np.array([3, 1, 4, 0, 2]), np.array([1, 2]), 5), label="two hits in five"),
        Case(
            (np.array([7, 8, 9, 1, 2, 3]), np.array([7, 8, 9, 1, 2, 3, 4, 5]), 3),
            label="more relevant items than k",
        ),
        Case((np.array([5, 6, 7, 8]), np.array([0, 1, 2]), 4), label="no hit"),
        Case((np.array([9, 4, 2, 8, 1, 0, 3]), np.array([0]), 7), label="one hit, late"),
    ]
    return run_check(
        my_ndcg,
        None,
        cases,
        name="my_ndcg",
        properties=[_ndcg_property],
        hint="DCG = sum over the first k ranks of hit / log2(rank + 1); divide by the DCG of a "
        "list with min(k, len(relevant)) hits on top",
    )


# ---------------------------------------------------------------------------------------------
# Chapter 02: the confidence matrix
# ---------------------------------------------------------------------------------------------
def _confidence_property(case: Case, got: Any) -> str | None:
    plays, alpha = case.args
    counts = plays.toarray().astype(np.float64)
    played = counts > 0
    full = np.where(played, 1.0 + alpha * counts, 1.0)
    if got is None:
        return "your function returned None; did you forget the `return` statement?"
    dense = got.toarray() if sp.issparse(got) else np.asarray(got, dtype=np.float64)
    if dense.shape != plays.shape:
        return f"the result has shape {dense.shape}, it should have shape {plays.shape}"
    if np.allclose(dense, full, rtol=1e-5):
        return None  # the full matrix, 1 where nothing was played
    if sp.issparse(got) and np.allclose(dense, np.where(played, full, 0.0), rtol=1e-5):
        return None  # sparse: c_ui on the played entries, unplayed ones implicitly 1
    if not sp.issparse(got) and np.allclose(dense, np.where(played, full, 0.0), rtol=1e-5):
        return (
            "as a dense matrix it needs 1 where nothing was played (c_ui = 1 there); return "
            "a sparse matrix to store only the played entries"
        )
    values = dense[played]
    slip = _first_slip(
        values,
        {
            "it uses alpha * plays (implicit's convention); the paper adds 1": alpha
            * counts[played],
            "it forgot alpha: it returns 1 + plays": 1.0 + counts[played],
            "it uses the log variant; this exercise asks for 1 + alpha * plays": 1.0
            + alpha * np.log1p(counts[played]),
        },
    )
    return slip or f"with alpha={alpha} some played entries differ from 1 + alpha * plays"


def check_confidence_matrix(my_confidence: Callable[[sp.csr_matrix, float], Any]) -> CheckResult:
    """Check ``my_confidence(plays, alpha)`` (chapter 02, exercise 2.1).

    ``c_ui = 1 + alpha * plays_ui`` (Hu, Koren & Volinsky 2008, section 4). A sparse answer holds
    ``c_ui`` on the played entries (unplayed entries are implicitly 1), as
    :func:`course_lib.evaluation.confidence` does; a dense answer must be the full matrix.
    """
    cases = [
        Case(
            (random_plays(12, 15, density=0.3, seed=0), 40.0),
            label="12 users x 15 items, alpha = 40",
        ),
        Case(
            (random_plays(12, 15, density=0.3, seed=1), 2.5),
            label="12 users x 15 items, alpha = 2.5",
        ),
    ]
    return run_check(
        my_confidence,
        None,
        cases,
        name="my_confidence",
        properties=[_confidence_property],
        hint="copy the sparse matrix, then set its .data to 1 + alpha * plays.data",
    )
