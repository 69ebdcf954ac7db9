"""Tests of course_lib.als.fit (chapter 02): fit_als end to end, its arguments and implicit."""

from __future__ import annotations

import implicit.cpu.als as implicit_als
import numpy as np
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from course_lib.als import fit_als
from course_lib.evaluation import confidence

ALPHA, REG = 5.0, 0.3


def test_seed_determinism_and_threads(tiny_plays):
    plays = tiny_plays(seed=5)
    a = fit_als(plays, factors=4, iterations=3, progress=False, seed=7)
    b = fit_als(plays, factors=4, iterations=3, progress=False, seed=7, num_threads=1)
    c = fit_als(plays, factors=4, iterations=3, progress=False, seed=8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.allclose(a[0], c[0])
    assert a[0].dtype == np.float32 and a[0].shape == (30, 4) and a[1].shape == (24, 4)


def test_coo_input_and_log_confidence(tiny_plays, fit):
    plays = tiny_plays(seed=7)
    a = fit(plays, "cg")
    b = fit(plays.tocoo(), "cg")
    np.testing.assert_array_equal(a[0], b[0])
    c = fit(plays, "cg", confidence_kind="log", eps=2.0)
    assert not np.allclose(a[0], c[0])


def test_callback_sees_every_iteration(tiny_plays):
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


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"regularization": "0.1"}, TypeError, r"regularization.*float\('0.1'\)"),
        ({"regularization": float("nan")}, ValueError, "regularization must be a finite"),
        ({"regularization": -0.1}, ValueError, "regularization must be a number >= 0"),
        ({"alpha": "40"}, TypeError, r"alpha=float\('40'\)"),
        ({"alpha": True}, TypeError, "alpha must be a number"),
        ({"eps": float("inf")}, ValueError, "eps must be a finite number"),
        ({"factors": True}, TypeError, "factors must be an integer"),
        ({"factors": 4.0}, TypeError, "factors must be an integer"),
        ({"iterations": "15"}, TypeError, "iterations must be an integer"),
        ({"iterations": -1}, ValueError, "iterations must be an integer >= 0"),
        ({"cg_steps": 0}, ValueError, "cg_steps must be an integer >= 1"),
        ({"num_threads": 1.5}, TypeError, "num_threads must be an integer"),
        ({"seed": "0"}, TypeError, "seed must be an integer"),
        ({"seed": -3}, ValueError, "seed must be an integer >= 0"),
        ({"confidence_kind": "Log"}, ValueError, "confidence_kind must be one of 'linear'"),
        ({"callback": "print"}, TypeError, "callback must be a function"),
    ],
)
def test_fit_als_refuses_strings_bools_and_nan(kwargs, error, words):
    with pytest.raises(error, match=words):
        fit_als(sp.csr_matrix(np.eye(3)), progress=False, **kwargs)


@pytest.mark.parametrize(
    "shape, words", [((0, 0), "no users"), ((0, 10), "no users"), ((10, 0), "no items")]
)
def test_fit_als_refuses_an_empty_matrix(shape, words):
    with pytest.raises(ValueError, match=f"plays has {words}") as info:
        fit_als(sp.csr_matrix(shape, dtype=np.float32), progress=False)
    assert str(shape) in str(info.value) and "at least one user and one item" in str(info.value)


def test_fit_als_refuses_a_matrix_without_plays():
    with pytest.raises(ValueError, match=r"holds no plays \(every count is 0\)"):
        fit_als(sp.csr_matrix((4, 6)), progress=False)


def test_default_return_is_a_pair(tiny_plays):
    out = fit_als(tiny_plays(), factors=2, iterations=1, progress=False)
    assert isinstance(out, tuple) and len(out) == 2


def test_agrees_with_implicit_step_by_step(tiny_plays, fit):
    plays = tiny_plays(n_users=60, n_items=40, seed=8).tolil()
    plays[2, 0] = 1  # implicit keeps random factors for empty rows; give every row a play
    plays[0, 5] = 1
    plays = plays.tocsr()
    assert np.diff(plays.indptr).min() > 0 and np.diff(plays.tocsc().indptr).min() > 0
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


def test_float16_play_counts_are_fitted_like_float32(tiny_plays):
    dense = tiny_plays(seed=2).toarray()
    half = fit_als(dense.astype(np.float16), factors=3, iterations=2, progress=False)
    single = fit_als(dense.astype(np.float32), factors=3, iterations=2, progress=False)
    np.testing.assert_array_equal(half[0], single[0])
    with pytest.raises(TypeError, match="integer or float play counts, got dtype complex"):
        fit_als(dense.astype(np.complex64), progress=False)


@pytest.mark.parametrize(
    "callback",
    [
        lambda iteration, seconds, loss: None,  # implicit's signature
        lambda: None,
    ],
)
def test_a_callback_of_the_wrong_shape_is_refused_before_fitting(tiny_plays, callback, monkeypatch):
    from course_lib.als import fit as fit_module

    def never(*args, **kwargs):
        raise AssertionError("the fit started before the callback was checked")

    monkeypatch.setattr(fit_module, "half_step", never)
    with pytest.raises(
        TypeError,
        match=r"callback <lambda>\(.*\) cannot be called with one arg.*"
        r"ALSIteration.*wrap one as callback=lambda step",
    ):
        fit_als(tiny_plays(seed=0), iterations=2, progress=False, callback=callback)


def test_callbacks_with_defaults_or_star_args_are_accepted(tiny_plays):
    seen = []
    fit_als(
        tiny_plays(seed=0),
        factors=2,
        iterations=2,
        progress=False,
        callback=lambda step, extra=1: seen.append(step.iteration),
    )
    fit_als(
        tiny_plays(seed=0),
        factors=2,
        iterations=1,
        progress=False,
        callback=lambda *args: seen.append(len(args)),
    )
    assert seen == [0, 1, 1]
