"""Fixtures shared by the tests of course_lib.fusion (chapter 07)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return np.where(n > 0, x / np.maximum(n, 1e-12), 0.0)


@pytest.fixture
def unit() -> Callable[[np.ndarray], np.ndarray]:
    """An independent copy of "scale each row to unit length" (rows of zeros stay zero)."""
    return _unit
