"""Tests of chapter 01's exercise checks 1.3-1.5 (course_lib/evaluation/checks_weights.py).

Reached, as in the chapter, through the facade ``course_lib.checks``: an honest answer passes,
the course's reference handed in (or wrapped) does not, and each common slip fails.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib import checks
from course_lib.evaluation import checks_weights

USES_COURSE = "uses the course's implementation"


def _stub(*args):
    raise NotImplementedError("write me")


# --- exercise 1.1 ------------------------------------------------------------------------------
def _top_share(c, extra=1.0, grand=False, nan=False):
    c = sp.csr_matrix(c, dtype=float)
    values = c.copy()
    values.data -= extra
    top = values.max(axis=1).toarray().ravel()
    total = np.asarray(values.sum(axis=1)).ravel()
    if grand:
        return top / total.sum()
    if nan:
        with np.errstate(all="ignore"):
            return top / total
    return np.divide(top, total, out=np.zeros_like(total), where=total > 0)


def _share_of_plays(c):
    # the slip: the heaviest track's share of the plays, read back from a linear-looking c
    plays = sp.csr_matrix(c, dtype=float)
    plays.data = np.ones_like(plays.data) * 0 + (plays.data > 0)
    return _top_share(plays + plays, extra=0.0)


def test_check_top_track_share_accepts_an_honest_answer(capsys):
    assert checks.check_top_track_share(_top_share).passed
    assert checks.check_top_track_share(_stub).status == "not implemented"


def test_check_top_track_share_refuses_the_reference():
    result = checks.check_top_track_share(checks_weights._top_track_share)
    assert result.status == USES_COURSE and not result.passed
    wrapped = checks.check_top_track_share(lambda c: checks_weights._top_track_share(c))
    assert wrapped.status == USES_COURSE


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda c: _top_share(c, extra=0.0), "not the extra confidence c - 1"),
        (lambda c: _top_share(c, grand=True), "one total over all users"),
        (lambda c: _top_share(c, nan=True), "NaN to the user without plays"),
        (_share_of_plays, "should have"),  # 1 / n_u: not named, but refused
    ],
)
def test_check_top_track_share_catches_each_slip(wrong, words, capsys):
    assert checks.check_top_track_share(wrong).status == "wrong"
    said = " ".join(capsys.readouterr().out.split())
    assert words in said or "expected" in said


# --- exercise 1.4 ------------------------------------------------------------------------------
def _ceiling(test, k, clip=True, all_users=False, ratio=False):
    n = np.diff(sp.csr_matrix(test).indptr).astype(float)
    if not all_users:
        n = n[n > 0]
    if ratio:
        return float(np.mean(np.minimum(1.0, k / n)))
    with np.errstate(all="ignore"):
        best = np.minimum(k, n) if clip else n
        return float(np.nanmean(np.where(n > 0, best / np.maximum(n, 1), 0.0)))


def test_check_recall_ceiling_accepts_an_honest_answer():
    assert checks.check_recall_ceiling(_ceiling).passed
    assert checks.check_recall_ceiling(_stub).status == "not implemented"
    assert checks.check_recall_ceiling(checks_weights._recall_ceiling).status == USES_COURSE


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda test, k: _ceiling(test, k, clip=False), "it returns 1"),
        (lambda test, k: _ceiling(test, k, all_users=True), "averages over every user"),
        (
            lambda test, k: float(np.mean(k / np.diff(test.indptr)[np.diff(test.indptr) > 0])),
            "without capping",
        ),
        (
            lambda test, k: float(
                np.median(np.minimum(k, n := np.diff(test.indptr)[np.diff(test.indptr) > 0]) / n)
            ),
            "median user",
        ),
    ],
)
def test_check_recall_ceiling_catches_each_slip(wrong, words, capsys):
    assert checks.check_recall_ceiling(wrong).status == "wrong"
    assert words in " ".join(capsys.readouterr().out.split())


def test_check_recall_ceiling_cases_have_users_above_k_and_without_test():
    # the slips are only caught if the cases contain both kinds of users
    assert _ceiling(sp.csr_matrix([[1, 1, 1], [0, 0, 0]]), 2) == pytest.approx(2 / 3)
    assert _ceiling(sp.csr_matrix([[1, 1, 1], [0, 0, 0]]), 2, ratio=True) == pytest.approx(2 / 3)


# --- exercise 1.5 ------------------------------------------------------------------------------
def _tail_hits(top, train, test, head_fraction, by="listeners", rounding=np.ceil, of="hits"):
    n_items = train.shape[1]
    if by == "listeners":
        popularity = np.diff(sp.csc_matrix(train).indptr)
    else:
        popularity = np.asarray(train.sum(axis=0)).ravel()
    n_head = int(rounding(head_fraction * n_items))
    tail = np.ones(n_items, dtype=bool)
    tail[np.argsort(-popularity, kind="stable")[:n_head]] = False
    hits = np.take_along_axis(test.toarray() > 0, top, axis=1)
    if of == "slots":
        return float(tail[top].mean())
    if of == "count":
        return float(tail[top][hits].sum())
    return float(tail[top][hits].mean()) if hits.any() else 0.0


def test_check_tail_hit_share_accepts_an_honest_answer():
    assert checks.check_tail_hit_share(_tail_hits).passed
    assert checks.check_tail_hit_share(_stub).status == "not implemented"
    reference = checks_weights._tail_hit_share
    assert checks.check_tail_hit_share(reference).status == USES_COURSE


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda *a: _tail_hits(*a, by="plays"), "by training plays"),
        (lambda *a: _tail_hits(*a, rounding=np.floor), "rounds it up"),
        (lambda *a: _tail_hits(*a, of="slots"), "all recommended slots"),
        (lambda *a: _tail_hits(*a, of="count"), "number of tail hits"),
    ],
)
def test_check_tail_hit_share_catches_each_slip(wrong, words, capsys):
    assert checks.check_tail_hit_share(wrong).status == "wrong"
    assert words in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize(
    "check",
    [checks.check_top_track_share, checks.check_recall_ceiling, checks.check_tail_hit_share],
)
def test_hints_hold_no_code(check, capsys):
    check(lambda *args: 0.0)
    said = capsys.readouterr().out
    assert "Hint" in said or "hint" in said.lower()
    for code in ("np.", "()", "=", "sum(", "ceil", "[", "def ", "lambda"):
        hint = said.lower().split("hint", 1)[-1]
        assert code not in hint, f"the hint shows code: {code!r}"
