"""Exercise checks about play counts: chapter 00's demonstration and chapter 01's.

Chapters call them through the facade: ``from course_lib import checks``. Built on
:func:`course_lib.checking.run_check`, so the verdicts read like every other chapter's: "Correct",
"Not quite" (what differs, and a hint) or "Not implemented yet" (a stub that still raises
``NotImplementedError``; not an error, the notebook keeps running).

* chapter 00 (welcome), exercise 0.1: :func:`check_play_share`, against the reference
  :func:`play_share`;
* chapter 01 (implicit feedback): :func:`check_head_share` (``my_head_share(plays,
  head_fraction)``) and :func:`check_ndcg_at_k` (``my_ndcg(ranked_items, relevant_items, k)``);
  exercises 1.1, 1.4 and 1.5 live in :mod:`course_lib.evaluation.checks_weights`, re-exported here.

Each check recognises the usual slips and names them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from course_lib.checking import Case, CheckResult, compare_values, run_check
from course_lib.evaluation.checks_weights import (
    check_recall_ceiling,
    check_tail_hit_share,
    check_top_track_share,
)
from course_lib.evaluation.feedback import popularity_curve
from course_lib.evaluation.metrics import per_user_metrics, ranking_metrics
from course_lib.evaluation.synthetic import random_plays
from course_lib.validation import validate_matrix

__all__ = [
    "check_head_share",
    "check_ndcg_at_k",
    "check_play_share",
    "check_recall_ceiling",
    "check_tail_hit_share",
    "check_top_track_share",
]  # the reference play_share is importable from here, but the facade does not export answers


def _number(got: Any) -> float | None:
    try:
        return float(np.asarray(got).item())
    except (TypeError, ValueError):
        return None


def _first_slip(got: float | np.ndarray, slips: dict[str, Any]) -> str | None:
    for slip, value in slips.items():
        value = np.asarray(value, dtype=np.float64)
        if np.shape(got) == value.shape and np.allclose(
            got, value, rtol=1e-5, atol=1e-10, equal_nan=True
        ):
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


def _play_share_property(case: Case, got: Any) -> str | None:
    if isinstance(got, list | tuple):
        return "it returns a Python list; return a numpy array of the same shape as plays"
    counts = np.asarray(case.args[0], dtype=np.float64)
    problem = compare_values(play_share(case.args[0]), got)
    if problem is None:
        return None
    if isinstance(got, np.ndarray) and got.shape == counts.shape:
        slips = {
            "it divides by each track's total (a column sum); a user's shares divide by that "
            "user's own total": counts / counts.sum(axis=0, keepdims=True),
            "it divides by the grand total of all plays; each user's shares divide by that "
            "user's own total": counts / counts.sum(),
        }
        if counts.shape[0] == counts.shape[1]:  # only a square matrix broadcasts this way
            slips[
                "it divides each column by one user's total: the row sums must keep their "
                "axis so that each row is divided by its own total"
            ] = counts / counts.sum(axis=1)
        with np.errstate(all="ignore"):
            slip = _first_slip(got.astype(np.float64), slips)
        if slip:
            return slip
        if np.issubdtype(got.dtype, np.integer):
            return "it returns whole numbers; shares are fractions (use true division, /)"
    return problem


def check_play_share(student_fn: Callable[[np.ndarray], np.ndarray]) -> CheckResult:
    """Check an implementation of :func:`play_share` (the chapter 00 exercise).

    The cases include a square matrix (where dividing by row sums without keeping their axis
    still runs, but divides the wrong entries), a user without plays (a plain division gives
    NaN) and integer input (floor division gives zeros).
    """
    cases = [
        Case((np.array([[3, 1], [0, 2]]),), label="two users, two tracks"),
        Case((np.array([[1, 1, 2, 0, 4]]),), label="one user, five tracks"),
        Case((np.array([[0, 0, 0], [5, 0, 5]]),), label="a user with no plays"),
        Case((np.array([[2, 0, 0, 6], [1, 3, 0, 0], [0, 0, 7, 7]]),), label="three users"),
        Case(
            (np.array([[4, 0, 1], [0, 2, 2], [1, 1, 8]]),),
            label="three users, three tracks (square)",
        ),
    ]
    return run_check(
        student_fn,
        None,
        cases,
        name="play_share",
        properties=[_play_share_property, _rows_sum_to_one_or_zero],
        forbidden=[play_share],
        hint=(
            "a share is a user's count for one track over that user's own total: think about "
            "which axis holds one user's tracks, how to divide every row by its own total, "
            "and what a user who has played nothing should get (the statement says)"
        ),
    )


# ---------------------------------------------------------------------------------------------
# Chapter 01: the head's share of plays
# ---------------------------------------------------------------------------------------------
def _head_share(plays: sp.csr_matrix, head_fraction: float, n_head: int | None = None) -> float:
    """The reference of exercise 1.2 (or, with ``n_head``, the share of that many items)."""
    per_item = np.sort(np.asarray(plays.sum(axis=0), dtype=np.float64).ravel())[::-1]
    if n_head is None:
        n_head = int(np.ceil(head_fraction * plays.shape[1]))
    return float(per_item[:n_head].sum() / per_item.sum())


def _head_share_property(case: Case, got: Any) -> str | None:
    plays, fraction = case.args
    value = _number(got)
    if value is None:
        return f"expected one number, got a {type(got).__name__}"
    want = _head_share(plays, fraction)
    if np.isclose(value, want, rtol=1e-6):
        return None
    exact = fraction * plays.shape[1]
    n_head = int(np.ceil(exact))
    users = np.sort(np.diff(plays.tocsc().indptr))[::-1].astype(float)
    per_item = np.sort(np.asarray(plays.sum(axis=0)).ravel())[::-1].astype(float)
    per_user = np.sort(np.asarray(plays.sum(axis=1)).ravel())[::-1].astype(float)
    n_users_head = int(np.ceil(fraction * plays.shape[0]))
    slips = {
        f"it ranks {plays.shape[1]} tracks by how many users played them, not by their total "
        "plays": users[:n_head].sum() / users.sum(),
        "it returns the number of plays in the head, not their share of all plays": per_item[
            :n_head
        ].sum(),
        "it takes the least played tracks (sort in decreasing order)": per_item[-n_head:].sum()
        / per_item.sum(),
        "it returns a percentage; the share is a fraction between 0 and 1": 100 * want,
        "it ranks users by their total plays: sum each track's plays over the users (the "
        "other axis)": per_user[:n_users_head].sum() / per_user.sum(),
    }
    if n_head != exact:  # a head of a fractional number of tracks: how was it rounded?
        slips[
            f"its head has {int(np.floor(exact))} tracks: head_fraction * n_tracks = "
            f"{exact:.4g} here, and the statement rounds it up"
        ] = _head_share(plays, fraction, int(np.floor(exact)))
    if n_head + 1 <= plays.shape[1]:
        slips[f"its head has {n_head + 1} tracks, one too many (off by one)"] = _head_share(
            plays, fraction, n_head + 1
        )
    if n_head > 1:
        slips[f"its head has {n_head - 1} tracks, one too few (off by one)"] = _head_share(
            plays, fraction, n_head - 1
        )
    if np.isclose(value, 1.0) and not np.isclose(want, 1.0):
        return (
            "it returns 1.0, the share of every track: the sum over users of a sparse matrix "
            "is a 1 x n matrix, so sorting or slicing it acts on its single row; flatten it "
            "into a 1-D array first"
        )
    slip = _first_slip(value, slips)
    return slip or f"expected {want:.6g}, got {value:.6g}"


def check_head_share(my_head_share: Callable[[sp.csr_matrix, float], float]) -> CheckResult:
    """Check ``my_head_share(plays, head_fraction) -> float`` (chapter 01, exercise 1.2).

    The answer is the share of all plays that go to the ``ceil(head_fraction * n_items)`` most
    played items (items ranked by total plays), as read off
    :func:`course_lib.evaluation.popularity_curve` in the chapter; the check does not accept a
    call of ``popularity_curve`` itself. Two of the four cases have a head of a fractional
    number of tracks (6.3 and 5.95), so rounding down or to the nearest whole number is caught,
    and the verdict names the usual slips: ranking by listeners or users, the least played
    tracks, a count or a percentage instead of a share, a head one track too large or small.
    """
    cases = [
        Case(
            (random_plays(40, 25, density=0.3, seed=0), 0.2), label="40 users, 25 items, head 20 %"
        ),
        Case(
            (random_plays(30, 21, density=0.3, seed=1), 0.3),
            label="30 users, 21 items, head 30 % (6.3 items)",
        ),
        Case(
            (random_plays(50, 17, density=0.3, seed=2), 0.35),
            label="50 users, 17 items, head 35 % (5.95 items)",
        ),
        Case(
            (random_plays(12, 10, density=0.4, seed=3), 0.1), label="12 users, 10 items, head 10 %"
        ),
    ]
    return run_check(
        my_head_share,
        None,
        cases,
        name="my_head_share",
        properties=[_head_share_property],
        forbidden=[popularity_curve],
        hint="which tracks are the most played ones: how do you total a track's plays, in "
        "which order do you rank them, and how many of them make the head when "
        "head_fraction * n_tracks is not a whole number? Reread the statement.",
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


def _dcg(hits: np.ndarray, first_rank: int = 1) -> float:
    ranks = np.arange(first_rank, first_rank + hits.size)
    return float(np.sum(hits / np.log2(ranks + 1)))


def _ndcg_property(case: Case, got: Any) -> str | None:
    ranked, relevant, k = case.args
    value = _number(got)
    if value is None:
        return f"expected one number, got a {type(got).__name__}"
    want = _reference_ndcg(ranked, relevant, k)
    if np.isclose(value, want, rtol=1e-6, atol=1e-12):
        return None
    if np.isnan(value) or np.isinf(value):
        return (
            f"it returns {value}: a division by zero; the discount of rank r is "
            "1 / log2(r + 1), and a list without hits has NDCG 0"
        )
    hits = np.isin(ranked[:k], relevant).astype(float)
    all_hits = np.isin(ranked, relevant).astype(float)
    n_relevant = len(set(relevant.tolist()))
    n_best = min(k, n_relevant)
    idcg = _dcg(np.ones(n_best))
    slips = {
        "it returns the DCG without dividing by the ideal DCG": _dcg(hits),
        "its ideal DCG counts all relevant items; the ideal list has only k slots, so use "
        "the smaller of k and the number of relevant items": _dcg(hits) / _dcg(np.ones(n_relevant)),
        "its ideal DCG always has k hits; a user with fewer relevant items than k can "
        "only have that many hits": _dcg(hits) / _dcg(np.ones(k)),
        "it returns precision@k (hits / k), without the rank discount": hits.sum() / k,
        "it counts hits beyond rank k: only the first k ranks of the list count": _dcg(all_hits)
        / idcg,
        "its discount is off by one rank: rank r (counting from 1) gains 1 / log2(r + 1)": (
            _dcg(hits, first_rank=2) / _dcg(np.ones(n_best), first_rank=2)
        ),
    }
    if n_best:
        slips["it returns the ideal DCG, not the DCG of the list divided by it"] = idcg
    slip = _first_slip(value, slips)
    return slip or f"expected {want:.6g}, got {value:.6g}"


def check_ndcg_at_k(my_ndcg: Callable[[np.ndarray, np.ndarray, int], float]) -> CheckResult:
    """Check ``my_ndcg(ranked_items, relevant_items, k) -> float`` (chapter 01, exercise 1.3).

    Järvelin & Kekäläinen (2002): a hit at rank ``r`` (1-based) gains ``1 / log2(r + 1)``; NDCG
    divides the sum by the best achievable one, with ``min(k, |relevant|)`` hits on top. The same
    definition as :func:`course_lib.evaluation.ranking_metrics`, which the check does not accept
    as an answer. The cases catch: no division by the ideal DCG, an ideal DCG over all relevant
    items or over k hits, precision instead of NDCG, hits counted beyond rank k, a discount off
    by one rank, and a division by zero when nothing is hit.
    """
    cases = [
        Case((np.array([3, 1, 4, 0, 2]), np.array([1, 2]), 5), label="two hits in five"),
        Case(
            (np.array([7, 8, 9, 1, 2, 3]), np.array([7, 8, 9, 1, 2, 3, 4, 5]), 3),
            label="more relevant items than k",
        ),
        Case((np.array([5, 6, 7, 8]), np.array([0, 1, 2]), 4), label="no hit"),
        Case((np.array([9, 4, 2, 8, 1, 0, 3]), np.array([0]), 7), label="one hit, late"),
        Case(
            (np.array([6, 2, 9, 5, 0, 1, 4]), np.array([2, 1, 4]), 3),
            label="a list longer than k, with hits below rank k",
        ),
    ]
    return run_check(
        my_ndcg,
        None,
        cases,
        name="my_ndcg",
        properties=[_ndcg_property],
        forbidden=[ranking_metrics, per_user_metrics],
        hint="go back to the NDCG row of section 5's table: which ranks count, how much a hit "
        "at rank r gains, and what the best possible list for this user looks like",
    )
