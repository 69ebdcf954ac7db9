"""Tests of course_lib.als.objective (chapter 02): the loss of eq. 3, never going up."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib.als import als_loss

ALPHA, REG = 5.0, 0.3


@pytest.mark.parametrize("solver", ["naive", "cholesky", "cg"])
def test_loss_decreases_monotonically_and_matches_brute_force(
    solver, tiny_plays, brute_force_loss, fit
):
    plays = tiny_plays(seed=3)
    X, Y, history = fit(plays, solver, iterations=8)
    assert len(history.loss) == len(history.seconds) == 8
    assert np.all(np.diff(history.loss) <= 1e-9 * history.loss[0])
    counts = plays.toarray().astype(float)
    expected = brute_force_loss(counts, X, Y, ALPHA, REG)
    assert history.loss[-1] == pytest.approx(expected, rel=1e-9)
    assert als_loss(plays, X, Y, ALPHA, REG) == pytest.approx(expected, rel=1e-9)
    total_confidence = (1.0 + ALPHA * counts).sum()
    assert history.loss_normalised[-1] == pytest.approx(expected / total_confidence, rel=1e-9)
    normalised = als_loss(plays, X, Y, ALPHA, REG, normalised=True)
    assert normalised == pytest.approx(expected / total_confidence, rel=1e-9)


def _case():
    plays = sp.csr_matrix(np.array([[1, 0, 2], [0, 3, 0]]))
    rng = np.random.default_rng(0)
    return plays, rng.normal(size=(2, 2)), rng.normal(size=(3, 2))


@pytest.mark.parametrize(
    "change, error, words",
    [
        ({"regularization": "0.1"}, TypeError, r"regularization=float\('0.1'\)"),
        ({"regularization": True}, TypeError, "regularization must be a number"),
        ({"alpha": float("nan")}, ValueError, "alpha must be a finite number"),
        ({"eps": "1"}, TypeError, "eps must be a number"),
        ({"confidence_kind": "exp"}, ValueError, "confidence_kind must be one of"),
        ({"user_factors": np.ones((2, 2), dtype=int)}, TypeError, r"astype\(np.float64\)"),
        ({"user_factors": np.full((2, 2), np.nan)}, ValueError, "user_factors contains NaN"),
        ({"item_factors": np.full((3, 2), np.inf)}, ValueError, "item_factors contains NaN"),
        ({"item_factors": np.array([["a", "b"]] * 3)}, TypeError, "item_factors must hold"),
        ({"item_factors": np.ones((3, 5))}, ValueError, "item_factors has 5 columns but 2"),
        ({"item_factors": np.ones((4, 2))}, ValueError, "one row of item_factors per item"),
        ({"user_factors": np.ones(2)}, ValueError, "user_factors must be 2-D"),
        ({"plays": sp.csr_matrix((0, 3))}, ValueError, "plays has no users"),
    ],
)
def test_als_loss_refuses_bad_input(change, error, words):
    plays, X, Y = _case()
    kwargs = {"plays": plays, "user_factors": X, "item_factors": Y, "alpha": 2.0}
    kwargs.update(change)
    with pytest.raises(error, match=words):
        als_loss(**kwargs)
