"""Fixtures shared by the tests of course_lib.convnet: a learnable toy problem, a tracks table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest


def _toy_problem(
    n: int = 96, frames: int = 120, mels: int = 8, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Targets are a fixed linear map of each clip's average spectrum: learnable from audio."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, frames, mels)).astype("float32")
    x += rng.normal(size=(n, 1, mels)).astype("float32") * 2.0
    y = (x.mean(axis=1) @ rng.normal(size=(mels, 4))).astype("float32")
    return x, y


@pytest.fixture
def toy_problem() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """``toy_problem(n=96, frames=120, mels=8, seed=0) -> (log_mels, targets)``."""
    return _toy_problem


@pytest.fixture
def tracks() -> pd.DataFrame:
    """200 tracks by 25 artists; the last 20 are new (no plays)."""
    n, n_artists = 200, 25
    return pd.DataFrame({"artist_id": np.arange(n) % n_artists, "is_new": np.arange(n) >= n - 20})


def _input_gradient(layer: Callable[[Any], Any], x: np.ndarray) -> np.ndarray:
    """``d sum(layer(x)) / dx`` as numpy, on whichever Keras backend runs the tests."""
    import keras
    from keras import ops

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            y = ops.sum(layer(xt))
        return np.asarray(tape.gradient(y, xt))
    if backend == "jax":
        import jax

        return np.asarray(jax.grad(lambda v: ops.sum(layer(v)))(x))
    if backend == "torch":
        import torch

        xt = torch.tensor(x, requires_grad=True)
        ops.sum(layer(xt)).backward()
        return xt.grad.detach().cpu().numpy()
    raise NotImplementedError(f"no gradient helper for the {backend!r} backend")


@pytest.fixture
def input_gradient() -> Callable[[Callable[[Any], Any], np.ndarray], np.ndarray]:
    """``input_gradient(layer, x)``: the gradient of ``sum(layer(x))`` on the current backend."""
    return _input_gradient
