"""Tests for course_lib.als (chapter 02): the three solvers against a dense closed form."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from course_lib.als import als_loss, fit_als, solve_rows, user_update
from course_lib.evaluation import confidence

ALPHA, REG = 5.0, 0.3


def tiny_plays(n_users: int = 30, n_items: int = 24, seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    dense = (rng.random((n_users, n_items)) < 0.25) * rng.integers(1, 6, (n_users, n_items))
    dense[2] = 0  # a user with no plays
    dense[:, 5] = 0  # an item nobody played
    return sp.csr_matrix(dense.astype(np.int32))


def closed_form(fixed: np.ndarray, counts: np.ndarray, alpha: float, reg: float) -> np.ndarray:
    """Hu, Koren & Volinsky (2008) eq. 4 for every row of ``counts``, with dense C_u."""
    out = np.empty((counts.shape[0], fixed.shape[1]))
    for u, row in enumerate(counts):
        c_u = 1.0 + alpha * row
        p_u = (row > 0).astype(float)
        A = fixed.T @ np.diag(c_u) @ fixed + reg * np.eye(fixed.shape[1])
        out[u] = np.linalg.solve(A, fixed.T @ (c_u * p_u))
    return out


def brute_force_loss(counts: np.ndarray, X: np.ndarray, Y: np.ndarray, alpha: float, reg: float):
    c = 1.0 + alpha * counts
    p = (counts > 0).astype(float)
    return float((c * (p - X @ Y.T) ** 2).sum() + reg * ((X**2).sum() + (Y**2).sum()))


def fit(plays, solver, **kwargs):
    defaults = {
        "factors": 4,
        "alpha": ALPHA,
        "regularization": REG,
        "iterations": 4,
        "progress": False,
    }
    defaults.update(kwargs)
    return fit_als(plays, solver=solver, dtype=np.float64, return_history=True, **defaults)


@pytest.mark.parametrize("solver", ["naive", "cholesky"])
def test_exact_solvers_match_dense_closed_form(solver):
    plays = tiny_plays()
    counts = plays.toarray().astype(float)
    X, Y, _ = fit(plays, solver, iterations=2)
    # the last half-step updated the items from the final user factors, exactly
    np.testing.assert_allclose(Y, closed_form(X, counts.T, ALPHA, REG), atol=1e-8)


def test_cholesky_equals_naive():
    plays = tiny_plays(seed=1)
    Xn, Yn, hn = fit(plays, "naive")
    Xc, Yc, hc = fit(plays, "cholesky")
    np.testing.assert_allclose(Xc, Xn, atol=1e-6)
    np.testing.assert_allclose(Yc, Yn, atol=1e-6)
    np.testing.assert_allclose(hc.loss, hn.loss, rtol=1e-9)


def test_cg_with_enough_steps_equals_cholesky_and_few_steps_stay_close():
    plays = tiny_plays(seed=2)
    Xc, Yc, hc = fit(plays, "cholesky", iterations=6)
    Xg, Yg, _hg = fit(plays, "cg", iterations=6, cg_steps=12)  # CG is exact after f steps
    np.testing.assert_allclose(Xg, Xc, atol=1e-6)
    np.testing.assert_allclose(Yg, Yc, atol=1e-6)
    _, _, h3 = fit(plays, "cg", iterations=6, cg_steps=3)
    assert h3.loss[-1] == pytest.approx(hc.loss[-1], rel=0.05)


@pytest.mark.parametrize("solver", ["naive", "cholesky", "cg"])
def test_loss_decreases_monotonically_and_matches_brute_force(solver):
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


def test_user_update_is_the_closed_form():
    plays = tiny_plays(seed=4)
    counts = plays.toarray().astype(float)
    Y = np.random.default_rng(0).normal(size=(plays.shape[1], 3))
    items = np.flatnonzero(counts[0])
    x = user_update(Y, items, counts[0, items], alpha=ALPHA, regularization=REG)
    np.testing.assert_allclose(x, closed_form(Y, counts[:1], ALPHA, REG)[0], atol=1e-10)


def test_seed_determinism_and_threads():
    plays = tiny_plays(seed=5)
    a = fit_als(plays, factors=4, iterations=3, progress=False, seed=7)
    b = fit_als(plays, factors=4, iterations=3, progress=False, seed=7, num_threads=1)
    c = fit_als(plays, factors=4, iterations=3, progress=False, seed=8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.allclose(a[0], c[0])
    assert a[0].dtype == np.float32 and a[0].shape == (30, 4) and a[1].shape == (24, 4)


def test_empty_rows_and_columns_keep_zero_factors():
    plays = tiny_plays(seed=6)
    for solver in ("naive", "cholesky", "cg"):
        X, Y, _ = fit(plays, solver, iterations=2)
        assert not X[2].any(), solver
        assert not Y[5].any(), solver


def test_coo_input_and_log_confidence():
    plays = tiny_plays(seed=7)
    a = fit(plays, "cg")
    b = fit(plays.tocoo(), "cg")
    np.testing.assert_array_equal(a[0], b[0])
    c = fit(plays, "cg", confidence_kind="log", eps=2.0)
    assert not np.allclose(a[0], c[0])


def test_callback_sees_every_iteration():
    seen = []
    fit_als(
        tiny_plays(),
        factors=3,
        iterations=5,
        progress=False,
        callback=lambda step: seen.append((step.iteration, step.loss, step.user_factors.shape)),
    )
    assert [s[0] for s in seen] == list(range(5))
    assert all(s[1] is not None and s[2] == (30, 3) for s in seen)


@pytest.mark.parametrize(
    "plays, kwargs, error, words",
    [
        (sp.csr_matrix(np.array([[1.0, -1.0]])), {}, ValueError, "negative"),
        (sp.csr_matrix(np.array([[1.0, np.nan]])), {}, ValueError, "NaN"),
        ([[1, 0], [0, 1]], {}, TypeError, "scipy.sparse"),
        (sp.csr_matrix(np.eye(3)), {"solver": "sgd"}, ValueError, "solver"),
        (sp.csr_matrix(np.eye(3)), {"factors": 0}, ValueError, "factors"),
        (sp.csr_matrix(np.eye(3)), {"alpha": -1.0}, ValueError, "alpha"),
        (sp.csr_matrix(np.eye(3)), {"dtype": np.int32}, TypeError, "dtype"),
    ],
)
def test_bad_input_raises_clear_errors(plays, kwargs, error, words):
    with pytest.raises(error, match=words):
        fit_als(plays, progress=False, **kwargs)


def test_default_return_is_a_pair():
    out = fit_als(tiny_plays(), factors=2, iterations=1, progress=False)
    assert isinstance(out, tuple) and len(out) == 2


def test_agrees_with_implicit_step_by_step():
    implicit_als = pytest.importorskip("implicit.cpu.als")
    plays = tiny_plays(n_users=60, n_items=40, seed=8).tolil()
    plays[2, 0] = 1  # implicit keeps random factors for empty rows; give every row a play
    plays[0, 5] = 1
    plays = plays.tocsr()
    _, _, ours = fit(plays, "cg", factors=5, iterations=5, seed=3)
    theirs = []
    with threadpool_limits(1, "blas"):  # implicit warns about threaded BLAS otherwise
        model = implicit_als.AlternatingLeastSquares(
            factors=5,
            regularization=REG,
            alpha=1.0,
            iterations=5,
            random_state=3,
            calculate_training_loss=True,
            dtype=np.float64,
            num_threads=1,
        )
        model.fit(
            confidence(plays, ALPHA).astype(np.float64),
            show_progress=False,
            callback=lambda iteration, seconds, loss: theirs.append(loss),
        )
    np.testing.assert_allclose(ours.loss_normalised, theirs, rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# Exercise checks of chapter 02
# ---------------------------------------------------------------------------------------------
def _stub(*args):
    raise NotImplementedError("write me")


def _said(capsys) -> str:
    """What the checks printed, with line wrapping undone."""
    return " ".join(capsys.readouterr().out.split())


def test_check_confidence_matrix(capsys):
    from course_lib.checks_als import check_confidence_matrix

    assert check_confidence_matrix(_stub).status == "not implemented"
    assert "not implemented yet" in _said(capsys).lower()
    assert check_confidence_matrix(lambda plays, alpha: confidence(plays, alpha)).passed
    assert check_confidence_matrix(lambda plays, alpha: 1 + alpha * plays.toarray()).passed
    assert not check_confidence_matrix(lambda plays, alpha: alpha * plays).passed
    assert "implicit's convention" in _said(capsys)
    assert not check_confidence_matrix(
        lambda plays, alpha: confidence(plays, alpha).toarray()
    ).passed
    assert "1 where nothing was played" in _said(capsys)


def test_check_user_update(capsys):
    from course_lib.checks_als import check_user_update

    assert check_user_update(_stub).status == "not implemented"
    assert check_user_update(user_update).passed

    def no_ridge(Y, items, plays, alpha, reg):
        return user_update(Y, items, plays, alpha, 0.0)

    assert not check_user_update(no_ridge).passed
    assert "regularization" in _said(capsys)

    def unweighted_rhs(Y, items, plays, alpha, reg):
        c = np.ones(Y.shape[0])
        c[items] = 1 + alpha * plays
        p = np.zeros(Y.shape[0])
        p[items] = 1
        return np.linalg.solve(Y.T @ (c[:, None] * Y) + reg * np.eye(Y.shape[1]), Y.T @ p)

    assert not check_user_update(unweighted_rhs).passed
    assert "right-hand side" in _said(capsys)


def test_check_naive_cost(capsys):
    from course_lib.checks_als import check_naive_cost

    assert check_naive_cost(_stub).status == "not implemented"
    assert check_naive_cost(lambda n_items, f: n_items * f**2 + f**3).passed
    assert "Measured here" in _said(capsys)
    assert not check_naive_cost(lambda n_items, f: n_items * f, measure=False).passed
    assert "quadruple" in _said(capsys)
    assert not check_naive_cost(
        lambda n_items, f: 40 * f**2, measure=False
    ).passed  # the Cholesky-trick cost
    assert "should double" in _said(capsys)


def test_solve_rows_is_the_exact_update_of_every_row():
    rng = np.random.default_rng(11)
    item_factors = rng.normal(size=(12, 3))
    plays = sp.random(5, 12, density=0.3, random_state=11, format="csr") * 4
    plays.data = np.ceil(plays.data)
    plays = plays.tolil()
    plays[2] = 0  # a user without plays
    plays = plays.tocsr()
    plays.eliminate_zeros()
    got = solve_rows(plays, item_factors, alpha=2.0, regularization=0.3)
    for u in range(5):
        row = plays[u]
        want = (
            user_update(item_factors, row.indices, row.data, 2.0, 0.3) if row.nnz else np.zeros(3)
        )
        np.testing.assert_allclose(got[u], want, rtol=1e-8, atol=1e-10)
    with pytest.raises(ValueError, match="one row per column"):
        solve_rows(plays, item_factors[:5])
