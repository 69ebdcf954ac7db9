"""Tests of course_lib.convnet.losses: unit-norm targets, MSE and cosine distance (chapter 04)."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import convnet as C


def test_losses_match_numpy() -> None:
    rng = np.random.default_rng(2)
    t, p = rng.normal(size=(6, 8)), rng.normal(size=(6, 8))
    tn = t / np.linalg.norm(t, axis=1, keepdims=True)
    pn = p / np.linalg.norm(p, axis=1, keepdims=True)
    np.testing.assert_allclose(np.asarray(C.unit_mse(t, p)), ((p - tn) ** 2).mean(1), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(C.cosine_distance(t, p)), 1 - (tn * pn).sum(1), rtol=1e-5)
    got = C.factor_metrics(p, t)
    assert got["mse"] == pytest.approx(((p - tn) ** 2).mean(), rel=1e-5)
    assert got["cosine_distance"] == pytest.approx((1 - (tn * pn).sum(1)).mean(), rel=1e-5)
    # predicting the mean of the training targets is the baseline the network must beat
    base = C.mean_baseline_metrics(t, t)
    assert base["mse"] == pytest.approx(tn.var(axis=0).mean(), rel=1e-5)


def test_normalize_factors_keeps_zero_rows() -> None:
    f = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(C.normalize_factors(f), [[0.6, 0.8], [0.0, 0.0]])
    with pytest.raises(ValueError, match="n_factors"):
        C.normalize_factors(np.ones(3))


def test_factor_helpers_refuse_nan_and_mismatched_shapes() -> None:
    f = np.array([[3.0, 4.0], [np.nan, 1.0]])
    with pytest.raises(ValueError, match=r"factors contains NaN .*rows \[1\]"):
        C.normalize_factors(f)
    good = np.ones((3, 2))
    with pytest.raises(ValueError, match="predicted contains NaN"):
        C.factor_metrics(np.full((3, 2), np.nan), good)
    with pytest.raises(ValueError, match="same shape"):
        C.factor_metrics(np.ones((3, 4)), good)
    with pytest.raises(ValueError, match="train_targets is empty"):
        C.mean_baseline_metrics(np.ones((0, 2)), good)
