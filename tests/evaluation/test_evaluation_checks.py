"""Tests of course_lib.evaluation.checks: the exercise checks of chapters 00, 01 and 02 (2.1).

Reached, as in the chapters, through the facade ``course_lib.checks``.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib import checks
from course_lib.evaluation import confidence, popularity_curve


def _stub(*args):
    raise NotImplementedError("write me")


def _said(capsys) -> str:
    """What the checks printed, with line wrapping undone."""
    return " ".join(capsys.readouterr().out.split())


# --- the chapter 00 exercise ------------------------------------------------------------------


def test_play_share_reference():
    plays = np.array([[3, 1, 0], [0, 0, 0], [2, 2, 4]])
    shares = checks.play_share(plays)
    np.testing.assert_allclose(shares, [[0.75, 0.25, 0], [0, 0, 0], [0.25, 0.25, 0.5]])
    with pytest.raises(ValueError, match="2-D"):
        checks.play_share(np.array([1, 2, 3]))
    with pytest.raises(ValueError, match="negative"):
        checks.play_share(np.array([[1, -1]]))


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
        checks.play_share(bad)


def test_play_share_of_no_users_is_empty():
    assert checks.play_share(np.zeros((0, 3))).shape == (0, 3)


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
    ],
)
def test_check_play_share_rejects_plausible_wrong_answers(wrong):
    with np.errstate(divide="ignore", invalid="ignore"):
        result = checks.check_play_share(wrong)
    assert result.status == "wrong"


def test_check_play_share_accepts_correct_answers_and_reports_stubs():
    def stub(plays):
        raise NotImplementedError

    def loop_version(plays):
        out = np.zeros(plays.shape)
        for user, row in enumerate(plays):
            if row.sum() > 0:
                out[user] = row / row.sum()
        return out

    assert checks.check_play_share(checks.play_share).passed
    assert checks.check_play_share(loop_version).passed
    assert checks.check_play_share(stub).status == "not implemented"


# --- chapter 01 -------------------------------------------------------------------------------


def test_check_head_share(capsys):
    def right(plays, head_fraction):
        _, share = popularity_curve(plays)
        return share[int(np.ceil(head_fraction * plays.shape[1])) - 1]

    def by_users(plays, head_fraction):
        users = np.sort(np.diff(plays.tocsc().indptr))[::-1]
        return users[: int(np.ceil(head_fraction * plays.shape[1]))].sum() / users.sum()

    def least_played(plays, head_fraction):
        per_item = np.sort(np.asarray(plays.sum(axis=0)).ravel())
        return per_item[: int(np.ceil(head_fraction * plays.shape[1]))].sum() / per_item.sum()

    assert checks.check_head_share(_stub).status == "not implemented"
    assert "not implemented yet" in _said(capsys).lower()
    assert checks.check_head_share(right).passed
    assert not checks.check_head_share(by_users).passed
    assert "how many users" in _said(capsys)
    assert not checks.check_head_share(least_played).passed
    assert "least played" in _said(capsys)


def test_check_ndcg_at_k(capsys):
    def right(ranked, relevant, k):
        gains = np.isin(ranked[:k], relevant) / np.log2(np.arange(2, k + 2))
        ideal = 1 / np.log2(np.arange(2, min(k, len(relevant)) + 2))
        return gains.sum() / ideal.sum()

    def dcg_only(ranked, relevant, k):
        return (np.isin(ranked[:k], relevant) / np.log2(np.arange(2, k + 2))).sum()

    assert checks.check_ndcg_at_k(_stub).status == "not implemented"
    assert checks.check_ndcg_at_k(right).passed
    assert not checks.check_ndcg_at_k(dcg_only).passed
    assert "without dividing" in _said(capsys)


# --- chapter 02, exercise 2.1 -----------------------------------------------------------------


def test_check_confidence_matrix(capsys):
    assert checks.check_confidence_matrix(_stub).status == "not implemented"
    assert "not implemented yet" in _said(capsys).lower()
    assert checks.check_confidence_matrix(lambda plays, alpha: confidence(plays, alpha)).passed
    assert checks.check_confidence_matrix(lambda plays, alpha: 1 + alpha * plays.toarray()).passed
    assert not checks.check_confidence_matrix(lambda plays, alpha: alpha * plays).passed
    assert "implicit's convention" in _said(capsys)
    assert not checks.check_confidence_matrix(
        lambda plays, alpha: confidence(plays, alpha).toarray()
    ).passed
    assert "1 where nothing was played" in _said(capsys)
    assert not checks.check_confidence_matrix(
        lambda plays, alpha: confidence(plays, alpha, kind="log")
    ).passed
    assert "log variant" in _said(capsys)
