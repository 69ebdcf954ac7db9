"""Shared fixtures of the unit tests: one maker of random play matrices for every topic."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import scipy.sparse as sp

from course_lib.evaluation import random_plays as _random_plays


@pytest.fixture
def random_plays() -> Callable[..., sp.csr_matrix]:
    """``random_plays(n_users=80, n_items=60, density=0.15, seed=0, ...)``: a users x items CSR
    matrix of integer play counts (see :func:`course_lib.evaluation.random_plays`)."""
    return _random_plays
