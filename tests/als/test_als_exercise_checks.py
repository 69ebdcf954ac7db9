"""Tests of the checks of exercises 2.4 (the loss) and 2.5 (heavy pairs) of chapter 02.

Reached, as in the chapter, through the facade ``course_lib.checks``: an honest answer passes,
the stub reads "not implemented", the course's own function is not accepted, and each common
slip fails with its own words.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib import checks
from course_lib.als import als_loss

USES_COURSE = "uses the course's implementation"
CODE_TOKENS = ("np.", "axis=", "()", "[", " = ", "==", "scipy", ".data")


def _stub(*args):
    raise NotImplementedError("write me")


def _said(capsys) -> str:
    return " ".join(capsys.readouterr().out.split())


def _loss(plays, X, Y, alpha, reg, *, cells="all", penalty=True, ones=1.0, pref=None):
    """The objective of section 2, densely, with switches for the usual slips."""
    R = plays.toarray().astype(np.float64)
    X, Y = np.asarray(X, np.float64), np.asarray(Y, np.float64)
    C = np.where(R > 0, ones + alpha * R, 1.0)
    P = (R > 0).astype(np.float64) if pref is None else pref(R)
    terms = C * (P - X @ Y.T) ** 2
    fit = terms[R > 0].sum() if cells == "played" else terms.sum()
    return fit + (reg * (np.sum(X * X) + np.sum(Y * Y)) if penalty else 0.0)


def _from_played_cells(plays, X, Y, alpha, reg):
    X, Y = np.asarray(X, np.float64), np.asarray(Y, np.float64)
    coo = sp.coo_matrix(plays)
    s = np.einsum("ij,ij->i", X[coo.row], Y[coo.col])
    correction = np.sum((1 + alpha * coo.data) * (1 - s) ** 2 - s**2)
    return np.sum((X.T @ X) * (Y.T @ Y)) + correction + reg * (np.sum(X**2) + np.sum(Y**2))


def test_check_als_loss_accepts_dense_and_sparse_answers():
    assert checks.check_als_loss(_stub).status == "not implemented"
    assert checks.check_als_loss(_loss).passed
    assert checks.check_als_loss(_from_played_cells).passed


def test_check_als_loss_refuses_the_course_function():
    assert checks.check_als_loss(als_loss).status == USES_COURSE

    def wrapped(plays, X, Y, alpha, reg):
        return als_loss(plays, np.asarray(X, np.float64), Y, alpha, reg)

    assert checks.check_als_loss(wrapped).status == USES_COURSE


@pytest.mark.parametrize(
    ("wrong", "words"),
    [
        (lambda *a: _loss(*a, cells="played"), "played cells only"),
        (lambda *a: _loss(*a, penalty=False), "leaves out the penalty"),
        (lambda p, X, Y, a, r: _loss(p, X, Y, a, 1.0), "not multiplied by λ"),
        (lambda *a: _loss(*a, ones=0.0), "no 1 +"),
        (lambda *a: _loss(*a, pref=lambda R: R), "preference is the play count"),
        (lambda *a: _loss(*a) + 1.0, "expected L ="),
    ],
)
def test_check_als_loss_names_the_slip(wrong, words, capsys):
    result = checks.check_als_loss(wrong)
    assert result.status == "wrong"
    assert words in _said(capsys)


def _share(conf, fraction, *, rounding=np.ceil, order=-1, zeros=False, scale=1.0):
    """Exercise 2.5 by hand, with switches for the usual slips."""
    conf = sp.csr_matrix(conf, dtype=np.float64, copy=True)
    if not zeros:
        conf.eliminate_zeros()
    values = np.sort(conf.data)[::order]
    return scale * values[: int(rounding(fraction * values.size))].sum() / values.sum()


def test_check_heavy_share_accepts_the_share():
    assert checks.check_heavy_share(_stub).status == "not implemented"
    assert checks.check_heavy_share(_share).passed


def test_check_heavy_share_cases_hold_a_stored_zero():
    # the check's last case must keep its stored zero, or the stored-zero slip goes unseen
    assert checks.check_heavy_share(lambda c, f: _share(c, f, zeros=True)).status == "wrong"


@pytest.mark.parametrize(
    ("wrong", "words"),
    [
        (lambda c, f: _share(c, f, rounding=np.floor), "rounds fraction x pairs down"),
        (lambda c, f: _share(c, f, rounding=np.round), "rounds fraction x pairs down"),
        (lambda c, f: _share(c, f, order=1), "lightest pairs"),
        (lambda c, f: _share(c, f, zeros=True), "stored zero"),
        (lambda c, f: _share(c, f, scale=100.0), "percentage"),
        (
            lambda c, f: (
                _share(c, f) * c.sum() / (c.sum() + c.shape[0] * c.shape[1] - c.count_nonzero())
            ),
            "unplayed cells",
        ),
    ],
)
def test_check_heavy_share_names_the_slip(wrong, words, capsys):
    assert checks.check_heavy_share(wrong).status == "wrong"
    assert words in _said(capsys)


@pytest.mark.parametrize("check", [checks.check_als_loss, checks.check_heavy_share])
def test_the_new_hints_hold_no_code(check, capsys):
    check(lambda *a: 0.0)
    said = _said(capsys)
    hint = said.split("Hint:")[1]
    assert not any(token in hint for token in CODE_TOKENS), hint
