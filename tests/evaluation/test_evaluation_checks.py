"""Tests of course_lib.evaluation.checks: the exercise checks of chapters 00, 01 and 02 (2.1).

Reached, as in the chapters, through the facade ``course_lib.checks``.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib import checks
from course_lib.evaluation import popularity_curve
from course_lib.evaluation.checks import play_share

USES_COURSE = "uses the course's implementation"


def _stub(*args):
    raise NotImplementedError("write me")


def _said(capsys) -> str:
    """What the checks printed, with line wrapping undone."""
    return " ".join(capsys.readouterr().out.split())


# --- the chapter 00 exercise ------------------------------------------------------------------


def test_play_share_reference():
    plays = np.array([[3, 1, 0], [0, 0, 0], [2, 2, 4]])
    shares = play_share(plays)
    np.testing.assert_allclose(shares, [[0.75, 0.25, 0], [0, 0, 0], [0.25, 0.25, 0.5]])
    with pytest.raises(ValueError, match="2-D"):
        play_share(np.array([1, 2, 3]))
    with pytest.raises(ValueError, match="negative"):
        play_share(np.array([[1, -1]]))


@pytest.mark.parametrize(
    "bad, error, words",
    [
        (np.array([["3", "1"]]), TypeError, "plays must hold real numbers"),
        (np.array([[1.0, np.nan]]), ValueError, r"plays contains NaN or infinite values \(rows"),
        (np.array([[1.0, np.inf]]), ValueError, "NaN or infinite"),
        (sp.csr_matrix(np.eye(2)), TypeError, r"call \.toarray\(\)"),
        (np.array(5), ValueError, r"plays\[None, :\]"),
    ],
)
def test_play_share_refuses_strings_nan_and_sparse(bad, error, words):
    with pytest.raises(error, match=words):
        play_share(bad)


def test_play_share_of_no_users_is_empty():
    assert play_share(np.zeros((0, 3))).shape == (0, 3)


def _by_column_totals(plays):
    return plays / plays.sum(axis=0, keepdims=True)


def _by_grand_total(plays):
    return plays / plays.sum()


def _plain_division(plays):  # NaN for a user without plays
    return plays / plays.sum(axis=1, keepdims=True)


def _without_keepdims(plays):  # row sums broadcast along the columns (or fail to broadcast)
    return plays / plays.sum(axis=1)


def _forgets_return(plays):
    plays / plays.sum(axis=1, keepdims=True)


def _as_list(plays):  # right numbers, but a nested list
    totals = np.maximum(plays.sum(axis=1, keepdims=True), 1)
    return (plays / totals).tolist()


def _integer_division(plays):
    totals = np.maximum(plays.sum(axis=1, keepdims=True), 1)
    return plays // totals


@pytest.mark.parametrize(
    "wrong",
    [
        _by_column_totals,
        _by_grand_total,
        _plain_division,
        _without_keepdims,
        _forgets_return,
        _integer_division,
        lambda plays: plays,  # returns the counts unchanged
        _as_list,  # a list, not an array
    ],
)
def test_check_play_share_rejects_plausible_wrong_answers(wrong):
    with np.errstate(divide="ignore", invalid="ignore"):
        result = checks.check_play_share(wrong)
    assert result.status == "wrong"


@pytest.mark.parametrize(
    "wrong, words",
    [
        (_by_column_totals, "each track's total"),
        (_by_grand_total, "grand total"),
        (_without_keepdims, "keep their axis"),
        (_integer_division, "whole numbers"),
        (_as_list, "Python list"),
    ],
)
def test_check_play_share_names_the_slip(wrong, words, capsys):
    with np.errstate(divide="ignore", invalid="ignore"):
        assert checks.check_play_share(wrong).status == "wrong"
    assert words in _said(capsys)


def test_check_play_share_accepts_correct_answers_and_reports_stubs():
    def stub(plays):
        raise NotImplementedError

    def loop_version(plays):
        out = np.zeros(plays.shape)
        for user, row in enumerate(plays):
            if row.sum() > 0:
                out[user] = row / row.sum()
        return out

    assert checks.check_play_share(play_share).status == USES_COURSE
    assert checks.check_play_share(lambda plays: play_share(plays)).status == USES_COURSE
    assert checks.check_play_share(loop_version).passed
    assert checks.check_play_share(stub).status == "not implemented"


# --- hints guide, they hold no code -----------------------------------------------------------

CODE_TOKENS = ("np.", "axis=", "keepdims", ".data", "()", "[", " = ", "==", "scipy", "librosa")


def test_hints_hold_no_code():
    for check, wrong in (
        (checks.check_play_share, _by_grand_total),
        (checks.check_head_share, lambda plays, fraction: 0.5),
        (checks.check_ndcg_at_k, lambda ranked, relevant, k: 0.5),
    ):
        result = check(wrong, verbose=False) if "verbose" in check.__code__.co_varnames else None
        result = result or check(wrong)
        assert result.status == "wrong" and result.hint
        assert not [token for token in CODE_TOKENS if token in result.hint], result.hint


# --- chapter 01, exercise 1.2 -----------------------------------------------------------------


def _head(plays, head_fraction, rounding=np.ceil, extra=0):
    per_item = np.sort(np.asarray(plays.sum(axis=0)).ravel())[::-1]
    n_head = int(rounding(head_fraction * plays.shape[1])) + extra
    return per_item[:n_head].sum() / per_item.sum()


def test_check_head_share_accepts_a_right_answer_and_reports_stubs(capsys):
    assert checks.check_head_share(_stub).status == "not implemented"
    assert "not implemented yet" in _said(capsys).lower()
    assert checks.check_head_share(_head).passed


def test_check_head_share_refuses_popularity_curve():
    def via_library(plays, head_fraction):
        _, share = popularity_curve(plays)
        return share[int(np.ceil(head_fraction * plays.shape[1])) - 1]

    assert checks.check_head_share(via_library).status == USES_COURSE


def _by_users(plays, head_fraction):
    users = np.sort(np.diff(plays.tocsc().indptr))[::-1]
    return users[: int(np.ceil(head_fraction * plays.shape[1]))].sum() / users.sum()


def _least_played(plays, head_fraction):
    per_item = np.sort(np.asarray(plays.sum(axis=0)).ravel())
    return per_item[: int(np.ceil(head_fraction * plays.shape[1]))].sum() / per_item.sum()


def _matrix_not_flattened(plays, head_fraction):
    per_item = np.sort(plays.sum(axis=0))[::-1]  # a 1 x n np.matrix: [::-1] flips nothing
    return per_item[: int(np.ceil(head_fraction * plays.shape[1]))].sum() / per_item.sum()


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda plays, f: _head(plays, f, np.floor), "rounds it up"),
        (lambda plays, f: _head(plays, f, round), "rounds it up"),
        (lambda plays, f: _head(plays, f, extra=1), "one too many"),
        (lambda plays, f: _head(plays, f, extra=-1), "one too few"),
        (lambda plays, f: 100 * _head(plays, f), "percentage"),
        (_by_users, "how many users"),
        (_least_played, "least played"),
        (_matrix_not_flattened, "flatten"),
    ],
)
def test_check_head_share_names_the_slip(wrong, words, capsys):
    assert checks.check_head_share(wrong).status == "wrong"
    assert words in _said(capsys)


# --- chapter 01, exercise 1.3 -----------------------------------------------------------------


def _ndcg(ranked, relevant, k, first_rank=1, ideal_slots=None, cut=True):
    ranked = ranked[:k] if cut else ranked
    ranks = np.arange(first_rank, first_rank + len(ranked))
    dcg = (np.isin(ranked, relevant) / np.log2(ranks + 1)).sum()
    n_ideal = min(k, len(relevant)) if ideal_slots is None else ideal_slots(k, relevant)
    ideal = (1 / np.log2(np.arange(first_rank, first_rank + n_ideal) + 1)).sum()
    return dcg / ideal


def test_check_ndcg_at_k_accepts_a_right_answer_and_reports_stubs():
    assert checks.check_ndcg_at_k(_stub).status == "not implemented"
    assert checks.check_ndcg_at_k(_ndcg).passed


@pytest.mark.parametrize(
    "wrong, words",
    [
        (
            lambda ranked, relevant, k: (
                np.isin(ranked[:k], relevant) / np.log2(np.arange(2, k + 2))
            ).sum(),
            "without dividing",
        ),
        (lambda r, rel, k: _ndcg(r, rel, k, ideal_slots=lambda k, rel: len(rel)), "all relevant"),
        (lambda r, rel, k: _ndcg(r, rel, k, ideal_slots=lambda k, rel: k), "always has k hits"),
        (lambda r, rel, k: np.isin(r[:k], rel).sum() / k, "precision@k"),
        (lambda r, rel, k: _ndcg(r, rel, k, cut=False), "beyond rank k"),
        (lambda r, rel, k: _ndcg(r, rel, k, first_rank=2), "off by one rank"),
        (lambda r, rel, k: _ndcg(r, rel, k, first_rank=0), "division by zero"),
    ],
)
def test_check_ndcg_at_k_names_the_slip(wrong, words, capsys):
    with np.errstate(divide="ignore", invalid="ignore"):
        assert checks.check_ndcg_at_k(wrong).status == "wrong"
    assert words in _said(capsys)
