"""Fixtures of the course_lib.inspection tests (chapter 05): a small untrained course convnet."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

N_FRAMES, N_MELS, N_FACTORS = 112, 16, 6


@pytest.fixture(scope="session")
def model():
    """The course architecture for 112 frames x 16 mel bands, 6 factors (untrained, seed 0)."""
    from course_lib.convnet import build_factor_convnet

    return build_factor_convnet(N_FRAMES, N_MELS, N_FACTORS, preset="course", seed=0)


@pytest.fixture(scope="session")
def log_mels():
    """Six random spectrograms, 10 frames longer than the model's input."""
    rng = np.random.default_rng(0)
    return rng.normal(size=(6, N_FRAMES + 10, N_MELS)).astype(np.float32)
