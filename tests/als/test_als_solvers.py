"""Tests of course_lib.als.solvers and its kernels (chapter 02): the three solvers against a dense
closed form, and solve_rows (chapter 04's fold-in)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib.als import solve_rows, user_update
from course_lib.als._kernels import work_blocks

ALPHA, REG = 5.0, 0.3


@pytest.mark.parametrize("solver", ["naive", "cholesky"])
def test_exact_solvers_match_dense_closed_form(solver, tiny_plays, closed_form, fit):
    plays = tiny_plays()
    counts = plays.toarray().astype(float)
    X, Y, _ = fit(plays, solver, iterations=2)
    # the last half-step updated the items from the final user factors, exactly
    np.testing.assert_allclose(Y, closed_form(X, counts.T, ALPHA, REG), atol=1e-8)


def test_cholesky_equals_naive(tiny_plays, fit):
    plays = tiny_plays(seed=1)
    Xn, Yn, hn = fit(plays, "naive")
    Xc, Yc, hc = fit(plays, "cholesky")
    np.testing.assert_allclose(Xc, Xn, atol=1e-6)
    np.testing.assert_allclose(Yc, Yn, atol=1e-6)
    np.testing.assert_allclose(hc.loss, hn.loss, rtol=1e-9)


def test_cg_with_enough_steps_equals_cholesky_and_few_steps_stay_close(tiny_plays, fit):
    plays = tiny_plays(seed=2)
    Xc, Yc, hc = fit(plays, "cholesky", iterations=6)
    Xg, Yg, _hg = fit(plays, "cg", iterations=6, cg_steps=12)  # CG is exact after f steps
    np.testing.assert_allclose(Xg, Xc, atol=1e-6)
    np.testing.assert_allclose(Yg, Yc, atol=1e-6)
    _, _, h3 = fit(plays, "cg", iterations=6, cg_steps=3)
    assert h3.loss[-1] == pytest.approx(hc.loss[-1], rel=0.05)


def test_empty_rows_and_columns_keep_zero_factors(tiny_plays, fit):
    plays = tiny_plays(seed=6)
    for solver in ("naive", "cholesky", "cg"):
        X, Y, _ = fit(plays, solver, iterations=2)
        assert not X[2].any(), solver
        assert not Y[5].any(), solver


def test_work_blocks_cover_every_row_once():
    indptr = np.r_[0, np.cumsum([5, 0, 40, 1, 1, 1, 30, 2])].astype(np.int64)
    blocks = work_blocks(indptr, n_factors=8, n_blocks=3)
    assert blocks[0] == 0 and blocks[-1] == 8 and blocks.size == 4
    assert np.all(np.diff(blocks) >= 0)
    assert work_blocks(indptr, 8, 100).size == 9  # never more blocks than rows


def _small_case():
    rng = np.random.default_rng(11)
    item_factors = rng.normal(size=(12, 3))
    plays = sp.random(5, 12, density=0.3, random_state=11, format="csr") * 4
    plays.data = np.ceil(plays.data)
    plays = plays.tolil()
    plays[2] = 0  # a user without plays
    plays = plays.tocsr()
    plays.eliminate_zeros()
    return plays, item_factors


def test_solve_rows_is_the_exact_update_of_every_row():
    plays, item_factors = _small_case()
    got = solve_rows(plays, item_factors, alpha=2.0, regularization=0.3)
    for u in range(5):
        row = plays[u]
        want = (
            user_update(item_factors, row.indices, row.data, 2.0, 0.3) if row.nnz else np.zeros(3)
        )
        np.testing.assert_allclose(got[u], want, rtol=1e-8, atol=1e-10)
    with pytest.raises(ValueError, match="one row per column"):
        solve_rows(plays, item_factors[:5])


@pytest.mark.parametrize(
    "change, error, words",
    [
        ({"regularization": "0.3"}, TypeError, r"regularization=float\('0.3'\)"),
        ({"regularization": float("nan")}, ValueError, "regularization must be a finite"),
        ({"alpha": "2"}, TypeError, "alpha must be a number"),
        ({"alpha": -1.0}, ValueError, "alpha must be a number >= 0"),
        ({"eps": 0.0}, ValueError, "eps must be a number > 0"),
        ({"confidence_kind": "square"}, ValueError, "confidence_kind must be one of"),
        ({"plays": sp.csr_matrix((0, 12))}, ValueError, "plays has no users"),
        ({"plays": sp.csr_matrix((5, 0))}, ValueError, "plays has no items"),
        ({"plays": [[1, 0]]}, TypeError, "plays must be a scipy.sparse matrix"),
        ({"fixed_factors": "factors.npy"}, TypeError, "fixed_factors must hold real numbers"),
        ({"fixed_factors": np.full((12, 3), np.nan)}, ValueError, "fixed_factors contains NaN"),
        ({"fixed_factors": np.ones(12)}, ValueError, "fixed_factors must be 2-D"),
    ],
)
def test_solve_rows_refuses_bad_input(change, error, words):
    plays, item_factors = _small_case()
    kwargs = {"plays": plays, "fixed_factors": item_factors, "alpha": 2.0, "regularization": 0.3}
    kwargs.update(change)
    with pytest.raises(error, match=words):
        solve_rows(**kwargs)


def test_solve_rows_refuses_a_singular_system_instead_of_returning_nan():
    plays = sp.csr_matrix(np.array([[1, 0, 0, 0]]))
    fixed = np.zeros((4, 2))
    fixed[:, 0] = 1.0  # the factors span one direction of two
    with pytest.raises(FloatingPointError, match=r"rows \[0\].*regularization > 0"):
        solve_rows(plays, fixed, alpha=1.0, regularization=0.0)
