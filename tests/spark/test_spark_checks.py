"""course_lib.spark.checks: the exercise checks of chapter 02b reject plausible wrong answers."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib import checks
from course_lib import spark as S


def test_the_facade_and_the_package_give_the_same_checks():
    assert checks.check_spark_reg_param is S.check_spark_reg_param
    assert checks.check_plays_to_rows is S.check_plays_to_rows


USES_COURSE = "uses the course's implementation"
CODE_TOKENS = ("np.", "axis=", ".data", "()", "[", " = ", "==", "indptr", "repeat")


def _said(capsys) -> str:
    return " ".join(capsys.readouterr().out.split())


def _active(plays):
    plays = sp.csr_matrix(plays, copy=True)
    plays.eliminate_zeros()
    users = np.count_nonzero(np.diff(plays.indptr))
    items = np.count_nonzero(np.diff(plays.tocsc().indptr))
    return plays, users, items


def _right_reg_param(lam, plays):
    plays, users, items = _active(plays)
    return lam * (users + items) / (2 * plays.nnz)


def test_check_spark_reg_param_accepts_the_answer_and_reports_stubs(capsys):
    def stub(lam, plays):
        raise NotImplementedError

    assert checks.check_spark_reg_param(_right_reg_param).passed
    assert checks.check_spark_reg_param(stub).status == "not implemented"
    assert "Not implemented yet" in capsys.readouterr().out
    assert checks.check_spark_reg_param(S.spark_reg_param).status == USES_COURSE


def _stored_zeros_count(lam, plays):
    plays = sp.csr_matrix(plays)
    users = np.count_nonzero(np.diff(plays.indptr))
    items = np.count_nonzero(np.diff(plays.tocsc().indptr))
    return lam * (users + items) / (2 * plays.nnz)


def _mean_of_means(lam, plays):
    plays, users, items = _active(plays)
    return lam / ((plays.nnz / users + plays.nnz / items) / 2)


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda lam, plays: lam * sum(plays.shape) / (2 * plays.nnz), "without plays"),
        (_stored_zeros_count, "stored zeros"),
        (lambda lam, plays: lam * _active(plays)[1] / _active(plays)[0].nnz, "users' average"),
        (lambda lam, plays: lam * _active(plays)[2] / _active(plays)[0].nnz, "items' average"),
        (lambda lam, plays: _right_reg_param(1.0, plays) / lam, "upside down"),
        (
            lambda lam, plays: lam * sum(_active(plays)[1:]) / (2 * _active(plays)[0].sum()),
            "sum of the counts",
        ),
        (_mean_of_means, "users' mean and the items' mean"),
    ],
)
def test_check_spark_reg_param_names_the_slip(wrong, words, capsys):
    result = checks.check_spark_reg_param(wrong)
    assert result.status == "wrong"
    assert words in _said(capsys)
    assert not [t for t in CODE_TOKENS if t in result.hint], result.hint


def _right_rows(plays):
    coo = sp.coo_matrix(plays)
    keep = coo.data != 0
    return coo.row[keep], coo.col[keep], coo.data[keep]


def test_check_plays_to_rows_accepts_the_answer_and_reports_stubs():
    def stub(plays):
        raise NotImplementedError

    assert checks.check_plays_to_rows(_right_rows).passed
    assert checks.check_plays_to_rows(stub).status == "not implemented"
    assert checks.check_plays_to_rows(S.plays_to_rows).status == USES_COURSE


def _keeps_zeros(plays):
    coo = sp.coo_matrix(plays)
    return coo.row, coo.col, coo.data


def _swapped(plays):
    user, item, values = _right_rows(plays)
    return item, user, values


def _by_item_counts(plays):  # repeats each user id by the listeners of the item of that id
    _, item, values = _right_rows(plays)
    counts = np.diff(sp.csc_matrix(plays).indptr)[: plays.shape[0]]
    user = np.repeat(np.arange(counts.size), counts)[: item.size]
    return np.resize(user, item.size), item, values


@pytest.mark.parametrize(
    "wrong, words",
    [
        (_keeps_zeros, "stored zeros"),
        (_swapped, "swapped"),
        (lambda plays: np.column_stack(_right_rows(plays)), "tuple of three arrays"),
        (_by_item_counts, "user column"),
    ],
)
def test_check_plays_to_rows_names_the_slip(wrong, words, capsys):
    result = checks.check_plays_to_rows(wrong)
    assert result.status == "wrong"
    assert words in _said(capsys)
    assert not [t for t in CODE_TOKENS if t in result.hint], result.hint
