"""Tests of course_lib.als.checks: the exercise checks of chapter 02.

Reached, as in the chapter, through the facade ``course_lib.checks``.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import checks
from course_lib.als import user_update


def _stub(*args):
    raise NotImplementedError("write me")


def _said(capsys) -> str:
    """What the checks printed, with line wrapping undone."""
    return " ".join(capsys.readouterr().out.split())


USES_COURSE = "uses the course's implementation"
CODE_TOKENS = ("np.", "axis=", "keepdims", ".data", "()", "[", " = ", "==", "scipy")


def _correction(Y, row, alpha, *, weight=lambda c: c - 1, full=False):
    """Yᵀ(C_u - I)Y from the played items, with switches that reproduce the usual slips."""
    Y_u, plays = Y[row.indices], row.data
    out = (weight(1 + alpha * plays) * Y_u.T) @ Y_u
    return out + Y.T @ Y if full else out


def test_check_gram_correction_accepts_the_sum_over_played_items_and_reports_stubs():
    assert checks.check_gram_correction(_stub).status == "not implemented"
    assert checks.check_gram_correction(_correction).passed

    def dense(Y, row, alpha):
        C = np.diag(1 + alpha * row.toarray().ravel())
        return Y.T @ C @ Y - Y.T @ Y

    assert checks.check_gram_correction(dense).passed


def test_check_gram_correction_refuses_its_reference():
    from course_lib.als import checks as als_checks

    reference = als_checks._gram_correction
    assert checks.check_gram_correction(reference).status == USES_COURSE
    assert checks.check_gram_correction(lambda *a: reference(*a)).status == USES_COURSE


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda *a: _correction(*a, weight=lambda c: c), "c_ui for c_ui - 1"),
        (lambda Y, row, alpha: (row.data * Y[row.indices].T) @ Y[row.indices], "raw play"),
        (lambda *a: _correction(*a, weight=lambda c: 1.0), "preference"),
        (lambda *a: _correction(*a, full=True), "all of YᵀC_uY"),
        (lambda *a: _correction(*a) if a[1].nnz else None, "f x f"),
        (lambda *a: _correction(*a) if a[1].nnz else np.ones((a[0].shape[1],) * 2), "zeros"),
    ],
)
def test_check_gram_correction_names_the_slip(wrong, words, capsys):
    assert checks.check_gram_correction(wrong).status == "wrong"
    assert words in _said(capsys)


def test_check_gram_correction_hint_holds_no_code():
    result = checks.check_gram_correction(lambda *a: _correction(*a, weight=lambda c: c))
    assert result.hint and not [t for t in CODE_TOKENS if t in result.hint], result.hint


def _by_hand(Y, items, plays, alpha, reg, *, ones=1.0, pref=None, ridge=None, only_played=False):
    """The update of section 3, with switches that reproduce the usual slips."""
    c = np.zeros(Y.shape[0]) if only_played else np.ones(Y.shape[0])
    c[items] = ones + alpha * np.asarray(plays)
    p = np.zeros(Y.shape[0])
    p[items] = 1.0 if pref is None else pref(np.asarray(plays))
    lam = reg if ridge is None else ridge(reg, len(items))
    return np.linalg.solve(Y.T @ (c[:, None] * Y) + lam * np.eye(Y.shape[1]), Y.T @ (c * p))


def test_check_user_update_accepts_the_closed_form_and_reports_stubs():
    assert checks.check_user_update(_stub).status == "not implemented"
    assert checks.check_user_update(_by_hand).passed


def test_check_user_update_refuses_the_course_function():
    assert checks.check_user_update(user_update).status == USES_COURSE

    def wrapped(Y, items, plays, alpha, reg):
        return user_update(Y, items, plays, alpha, reg)

    assert checks.check_user_update(wrapped).status == USES_COURSE


def _unweighted_rhs(Y, items, plays, alpha, reg):
    c = np.ones(Y.shape[0])
    c[items] = 1 + alpha * plays
    p = np.zeros(Y.shape[0])
    p[items] = 1
    return np.linalg.solve(Y.T @ (c[:, None] * Y) + reg * np.eye(Y.shape[1]), Y.T @ p)


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda *a: _by_hand(*a, ridge=lambda reg, n: 0.0), "regularization"),
        (_unweighted_rhs, "right-hand side"),
        (lambda *a: _by_hand(*a, ones=0.0), "no 1 +"),
        (lambda *a: _by_hand(*a, only_played=True), "played items only"),
        (lambda *a: _by_hand(*a, pref=lambda plays: plays), "preference is the play count"),
        (lambda *a: _by_hand(*a, ridge=lambda reg, n: reg * n), "ALS-WR"),
        (lambda *a: _by_hand(*a)[:, None], "1-D vector"),
    ],
)
def test_check_user_update_names_the_slip(wrong, words, capsys):
    assert checks.check_user_update(wrong).status == "wrong"
    assert words in _said(capsys)


def test_check_user_update_hint_holds_no_code():
    result = checks.check_user_update(lambda *a: _by_hand(*a, ones=0.0))
    assert result.hint and not [t for t in CODE_TOKENS if t in result.hint], result.hint


def test_check_naive_cost(capsys):
    assert checks.check_naive_cost(_stub).status == "not implemented"
    assert checks.check_naive_cost(lambda n_items, f: n_items * f**2 + f**3).passed
    assert "Measured here" in _said(capsys)
    assert checks.check_naive_cost(lambda n_items, f: n_items * f * (f + 1), measure=False).passed


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda n_items, f: n_items * f, "scaling the rows of Y costs"),
        (lambda n_items, f: 40 * f**2, "does not grow with n_items"),  # the Cholesky trick
        (lambda n_items, f: f**3, "does not grow with n_items"),  # only the solve
        (lambda n_items, f: n_items**2 * f, "np.diag"),  # C_u as a dense matrix
        (lambda n_items, f: n_items * f**3, "about quadruple"),
    ],
)
def test_check_naive_cost_names_the_slip(wrong, words, capsys):
    result = checks.check_naive_cost(wrong, measure=False)
    assert result.status == "wrong"
    assert words in _said(capsys)
    assert "dense n_items" not in (result.hint or "")
