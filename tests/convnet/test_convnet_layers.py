"""Tests of course_lib.convnet.layers: global temporal pooling (chapter 04)."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import convnet as C


def test_global_temporal_pooling_matches_numpy() -> None:
    x = np.random.default_rng(1).normal(size=(3, 11, 5)).astype("float32")
    got = np.asarray(C.GlobalTemporalPooling(epsilon=0.0)(x))
    want = np.concatenate([x.mean(1), x.max(1), np.sqrt((x**2).sum(1))], axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    layer = C.GlobalTemporalPooling.from_config(C.GlobalTemporalPooling(epsilon=1e-3).get_config())
    assert layer.epsilon == 1e-3


def test_pooling_gradient_is_finite_for_a_silent_channel(input_gradient) -> None:
    grad = input_gradient(C.GlobalTemporalPooling(), np.zeros((2, 7, 3), dtype="float32"))
    assert grad.shape == (2, 7, 3) and np.all(np.isfinite(grad))


def test_pooling_refuses_a_bad_epsilon() -> None:
    with pytest.raises(ValueError, match="epsilon must be a number >= 0"):
        C.GlobalTemporalPooling(epsilon=-1.0)
    with pytest.raises(ValueError, match="epsilon must be a finite number"):
        C.GlobalTemporalPooling(epsilon=float("nan"))
    with pytest.raises(TypeError, match="epsilon must be a number"):
        C.GlobalTemporalPooling(epsilon="1e-7")
