"""Fixtures of the audio tests: test tones and noise at 16 kHz."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

SR = 16000


@pytest.fixture
def tone() -> Callable[..., np.ndarray]:
    """``tone(freq, seconds=0.5, sr=16000)``: a float32 sine at half scale."""

    def make(freq: float, seconds: float = 0.5, sr: int = SR) -> np.ndarray:
        t = np.arange(int(seconds * sr)) / sr
        return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)

    return make


@pytest.fixture
def noise() -> Callable[..., np.ndarray]:
    """``noise(n=8000, seed=0)``: float32 white noise at 0.1 standard deviation."""

    def make(n: int = 8000, seed: int = 0) -> np.ndarray:
        return (0.1 * np.random.default_rng(seed).standard_normal(n)).astype(np.float32)

    return make
