"""Tests of course_lib.als.checks: the exercise checks 2.2 and 2.3 of chapter 02.

Reached, as in the chapter, through the facade ``course_lib.checks``.
"""

from __future__ import annotations

import numpy as np

from course_lib import checks
from course_lib.als import user_update


def _stub(*args):
    raise NotImplementedError("write me")


def _said(capsys) -> str:
    """What the checks printed, with line wrapping undone."""
    return " ".join(capsys.readouterr().out.split())


def test_check_user_update(capsys):
    assert checks.check_user_update(_stub).status == "not implemented"
    assert checks.check_user_update(user_update).passed

    def no_ridge(Y, items, plays, alpha, reg):
        return user_update(Y, items, plays, alpha, 0.0)

    assert not checks.check_user_update(no_ridge).passed
    assert "regularization" in _said(capsys)

    def unweighted_rhs(Y, items, plays, alpha, reg):
        c = np.ones(Y.shape[0])
        c[items] = 1 + alpha * plays
        p = np.zeros(Y.shape[0])
        p[items] = 1
        return np.linalg.solve(Y.T @ (c[:, None] * Y) + reg * np.eye(Y.shape[1]), Y.T @ p)

    assert not checks.check_user_update(unweighted_rhs).passed
    assert "right-hand side" in _said(capsys)

    def implicit_confidence(Y, items, plays, alpha, reg):
        return user_update(Y, items, plays - 1.0 / alpha, alpha, reg)

    assert not checks.check_user_update(implicit_confidence).passed
    assert "no 1 +" in _said(capsys)


def test_check_naive_cost(capsys):
    assert checks.check_naive_cost(_stub).status == "not implemented"
    assert checks.check_naive_cost(lambda n_items, f: n_items * f**2 + f**3).passed
    assert "Measured here" in _said(capsys)
    assert not checks.check_naive_cost(lambda n_items, f: n_items * f, measure=False).passed
    assert "quadruple" in _said(capsys)
    assert not checks.check_naive_cost(
        lambda n_items, f: 40 * f**2, measure=False
    ).passed  # the Cholesky-trick cost
    assert "should double" in _said(capsys)
