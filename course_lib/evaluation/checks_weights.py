"""Chapter 01's exercise checks 1.1, 1.4 and 1.5: confidence weights, recall ceiling, tail hits.

Kept apart from :mod:`course_lib.evaluation.checks` (which re-exports them, and through which
the facade ``course_lib.checks`` reaches them) so that each file stays short. All go through
:func:`course_lib.checking.run_check`; each reference is private, and handing it in (or any
function that runs it) is never accepted.

* exercise 1.1: :func:`check_top_track_share` (``my_top_track_share(c)``);
* exercise 1.4: :func:`check_recall_ceiling` (``my_recall_ceiling(test, k)``);
* exercise 1.5: :func:`check_tail_hit_share` (``my_tail_hit_share(top_items, train, test,
  head_fraction)``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from course_lib.checking import Case, CheckResult, compare_values, run_check
from course_lib.evaluation.feedback import confidence
from course_lib.evaluation.metrics import top_k_items
from course_lib.evaluation.split import split_plays
from course_lib.evaluation.synthetic import random_plays

__all__ = ["check_recall_ceiling", "check_tail_hit_share", "check_top_track_share"]


def _verdict(want: Any, got: Any, slips: dict[str, Any]) -> str | None:
    """None if ``got`` matches ``want``; else the first slip it matches, or what differs."""
    problem = compare_values(want, got)
    if problem is None:
        return None
    try:
        value = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return problem
    for slip, slipped in slips.items():
        slipped = np.asarray(slipped, dtype=np.float64)
        if value.shape == slipped.shape and np.allclose(value, slipped, equal_nan=True):
            return slip
    return problem


def _with_empty_user(plays: sp.csr_matrix, user: int) -> sp.csr_matrix:
    dense = plays.toarray()
    dense[user] = 0
    return sp.csr_matrix(dense)


# --- exercise 1.1: the heaviest track's share of a user's extra confidence ---------------------
def _top_track_share(c: sp.csr_matrix) -> np.ndarray:
    """Per user: max(c - 1) / sum(c - 1) over the played entries; 0 for a user without plays."""
    extra = sp.csr_matrix(c, dtype=np.float64, copy=True)
    extra.data -= 1.0
    top = extra.max(axis=1).toarray().ravel()
    total = np.asarray(extra.sum(axis=1)).ravel()
    return np.divide(top, total, out=np.zeros_like(total), where=total > 0)


def _top_track_property(case: Case, got: Any) -> str | None:
    c = sp.csr_matrix(case.args[0], dtype=np.float64)
    want = _top_track_share(c)
    top, total = c.max(axis=1).toarray().ravel(), np.asarray(c.sum(axis=1)).ravel()
    extra_top = top - (np.diff(c.indptr) > 0)
    extra_total = total - np.diff(c.indptr)
    with np.errstate(all="ignore"):
        slips = {
            "it divides c itself, not the extra confidence c - 1 that playing adds": np.divide(
                top, total, out=np.zeros_like(total), where=total > 0
            ),
            "it divides by one total over all users; each user's share is of their own "
            "total": extra_top / extra_total.sum(),
            "it gives NaN to the user without plays; the statement says 0": extra_top / extra_total,
        }
    return _verdict(want, got, slips)


def check_top_track_share(my_top_track_share: Callable[[sp.csr_matrix], Any]) -> CheckResult:
    """Check ``my_top_track_share(c) -> array (n_users,)`` (chapter 01, exercise 1.1).

    For each user, the share of their extra confidence ``c_ui - 1`` (summed over their played
    tracks) carried by their heaviest track; 0 for a user without plays. The cases are linear
    and log confidences (the log one catches a share of plays instead of confidence) with a
    user without plays; the slips caught: ``c`` instead of ``c - 1``, one grand total instead
    of each user's own, a share of plays, a NaN for the user without plays.
    """
    base = [_with_empty_user(random_plays(9, 12, density=0.5, seed=s), 3) for s in (4, 5)]
    cases = [
        Case((confidence(base[0], alpha=40.0),), label="linear confidence, alpha = 40"),
        Case(
            (confidence(base[1], alpha=2.0, kind="log", eps=1.0),),
            label="log confidence, alpha = 2, eps = 1",
        ),
        Case(
            (confidence(base[0], alpha=1.0, kind="log", eps=10.0),),
            label="log confidence, alpha = 1, eps = 10",
        ),
    ]
    return run_check(
        my_top_track_share,
        None,
        cases,
        name="my_top_track_share",
        properties=[_top_track_property],
        forbidden=[_top_track_share],
        hint="the weight a played track adds is its confidence above that of an unplayed "
        "one; of whose total is the heaviest track's weight a share, and what does a user "
        "who played nothing get (the statement says)?",
    )


# --- exercise 1.4: the best recall@k any model could reach -------------------------------------
def _recall_ceiling(test: sp.csr_matrix, k: int) -> float:
    n_test = np.diff(sp.csr_matrix(test).indptr)
    n_test = n_test[n_test > 0]
    return float(np.mean(np.minimum(k, n_test) / n_test))


def _recall_ceiling_property(case: Case, got: Any) -> str | None:
    test, k = case.args
    n_all = np.diff(test.indptr).astype(np.float64)
    n_test = n_all[n_all > 0]
    slips = {
        "it returns 1: a list of k tracks holds at most k of a user's held-out tracks": 1.0,
        "it averages over every user; the metrics average over the users with a test "
        "track only": np.sum(np.minimum(k, n_test) / n_test) / n_all.size,
        "it divides k by the number of held-out tracks without capping at one track per "
        "slot and one per held-out track": np.mean(k / n_test),
        "it takes the median user, not the mean": np.median(np.minimum(k, n_test) / n_test),
    }
    return _verdict(_recall_ceiling(test, k), got, slips)


def check_recall_ceiling(my_recall_ceiling: Callable[[sp.csr_matrix, int], Any]) -> CheckResult:
    """Check ``my_recall_ceiling(test, k) -> float`` (chapter 01, exercise 1.4).

    The mean recall@k of a perfect model: each user with ``n_u >= 1`` test tracks can find at
    most ``min(k, n_u)`` of them, and users without test tracks are not evaluated. The cases
    have users with more test tracks than ``k`` and users without any, so forgetting the
    ``min``, averaging over all users or ``k / n_u`` are caught.
    """
    cases = []
    for seed, k in ((0, 3), (1, 5), (2, 2)):
        _, test = split_plays(random_plays(25, 30, density=0.4, seed=seed), 0.3, seed=seed)
        cases.append(Case((_with_empty_user(test, 0), k), label=f"25 users, k = {k}"))
    return run_check(
        my_recall_ceiling,
        None,
        cases,
        name="my_recall_ceiling",
        properties=[_recall_ceiling_property],
        forbidden=[_recall_ceiling],
        hint="imagine a model that puts a user's held-out tracks first: how many of them fit "
        "in a list of length k, out of how many; and which users does section 5 average over?",
    )


# --- exercise 1.5: where the hits fall, head or tail -------------------------------------------
def _tail_hit_share(
    top_items: np.ndarray, train: sp.csr_matrix, test: sp.csr_matrix, head_fraction: float
) -> float:
    n_items = train.shape[1]
    listeners = np.diff(sp.csc_matrix(train).indptr)
    is_tail = np.ones(n_items, dtype=bool)
    is_tail[np.argsort(-listeners, kind="stable")[: int(np.ceil(head_fraction * n_items))]] = False
    top_items = np.asarray(top_items)
    hits = np.take_along_axis(sp.csr_matrix(test).toarray() > 0, top_items, axis=1)
    n_hits = int(hits.sum())
    return float(is_tail[top_items][hits].sum() / n_hits) if n_hits else 0.0


def _tail_hit_property(case: Case, got: Any) -> str | None:
    top, train, test, fraction = case.args
    n_items = train.shape[1]
    exact = fraction * n_items
    plays = np.asarray(train.sum(axis=0)).ravel()
    listeners = np.diff(train.tocsc().indptr)
    hits = np.take_along_axis(test.toarray() > 0, top, axis=1)

    def tail_of(popularity: np.ndarray, n_head: int) -> np.ndarray:
        is_tail = np.ones(n_items, dtype=bool)
        is_tail[np.argsort(-popularity, kind="stable")[:n_head]] = False
        return is_tail[top]

    tail = tail_of(listeners, int(np.ceil(exact)))
    slips = {
        "it ranks the tracks by training plays; popularity is the number of training "
        "listeners": tail_of(plays, int(np.ceil(exact)))[hits].mean(),
        f"its head has {int(np.floor(exact))} tracks: head_fraction * n_items = {exact:.4g} "
        "here, and section 5 rounds it up": tail_of(listeners, int(np.floor(exact)))[hits].mean(),
        "it is the tail share of all recommended slots (the long-tail share), not of the "
        "hits": tail.mean(),
        "it returns the number of tail hits, not their share of the hits": tail[hits].sum(),
    }
    return _verdict(_tail_hit_share(top, train, test, fraction), got, slips)


def _tail_case(seed: int, n_items: int, k: int, head_fraction: float) -> Case:
    plays = random_plays(40, n_items, density=0.35, seed=seed)
    train, test = split_plays(plays, 0.3, seed=seed)
    listeners = np.diff(train.tocsc().indptr)
    heavy = np.argsort(listeners, kind="stable")[listeners.size // 3 :][:4]
    # a few tracks with few listeners but many plays: the head by plays differs
    train = sp.csr_matrix(train.multiply(np.where(np.isin(np.arange(n_items), heavy), 50, 1)))
    noise = np.random.default_rng([seed, 1]).random(plays.shape)  # not random_plays' stream
    top = top_k_items(noise * (1 + listeners[None, :]), k, exclude=train)
    return Case(
        (top, train, test, head_fraction),
        label=f"40 users, {n_items} items, k = {k}, head {head_fraction:.0%}",
    )


def check_tail_hit_share(
    my_tail_hit_share: Callable[[np.ndarray, sp.csr_matrix, sp.csr_matrix, float], Any],
) -> CheckResult:
    """Check ``my_tail_hit_share(top_items, train, test, head_fraction) -> float`` (ex. 1.5).

    Of all hits (an item of a user's list that is among their test items), the share that are
    tail items: outside the ``ceil(head_fraction * n_items)`` items with most training
    listeners (the head of :func:`~course_lib.evaluation.ranking_metrics`); 0 without hits.
    The cases catch: popularity by plays instead of listeners, a head rounded down, the share
    of all recommended slots (``long_tail_share``) instead of hits, a count instead of a share.
    """
    cases = [_tail_case(0, 18, 6, 0.25), _tail_case(1, 31, 4, 0.2), _tail_case(3, 29, 5, 0.3)]
    return run_check(
        my_tail_hit_share,
        None,
        cases,
        name="my_tail_hit_share",
        properties=[_tail_hit_property],
        forbidden=[_tail_hit_share],
        hint="three steps: which items form the head (popularity as section 5 defines it, "
        "and how a fractional head size is rounded), which slots of the lists are hits, and "
        "which share of those hits lies outside the head",
    )
