"""Fixtures of the ALS tests (chapter 02): small play matrices and the dense closed forms.

The fit fixture's defaults are ``alpha=5.0, regularization=0.3`` (each test file that compares
with a closed form names the same two numbers ``ALPHA, REG``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib.als import fit_als


@pytest.fixture
def tiny_plays(random_plays) -> Callable[..., sp.csr_matrix]:
    """``tiny_plays(n_users=30, n_items=24, seed=0)``: random plays (density 0.25, counts 1..5)
    in which user 2 played nothing and nobody played item 5."""

    def make(n_users: int = 30, n_items: int = 24, seed: int = 0) -> sp.csr_matrix:
        plays = random_plays(n_users, n_items, density=0.25, seed=seed, max_count=5).toarray()
        plays[2] = 0  # a user with no plays
        plays[:, 5] = 0  # an item nobody played
        return sp.csr_matrix(plays)

    return make


@pytest.fixture
def closed_form() -> Callable[..., np.ndarray]:
    """``closed_form(fixed, counts, alpha, reg)``: Hu, Koren & Volinsky (2008) eq. 4 for every
    row of the dense ``counts``, with a dense ``C_u``."""

    def solve(fixed: np.ndarray, counts: np.ndarray, alpha: float, reg: float) -> np.ndarray:
        out = np.empty((counts.shape[0], fixed.shape[1]))
        for u, row in enumerate(counts):
            c_u = 1.0 + alpha * row
            p_u = (row > 0).astype(float)
            A = fixed.T @ np.diag(c_u) @ fixed + reg * np.eye(fixed.shape[1])
            out[u] = np.linalg.solve(A, fixed.T @ (c_u * p_u))
        return out

    return solve


@pytest.fixture
def brute_force_loss() -> Callable[..., float]:
    """``brute_force_loss(counts, X, Y, alpha, reg)``: eq. 3 summed cell by cell."""

    def loss(counts: np.ndarray, X: np.ndarray, Y: np.ndarray, alpha: float, reg: float) -> float:
        c = 1.0 + alpha * counts
        p = (counts > 0).astype(float)
        return float((c * (p - X @ Y.T) ** 2).sum() + reg * ((X**2).sum() + (Y**2).sum()))

    return loss


@pytest.fixture
def fit() -> Callable[..., tuple]:
    """``fit(plays, solver, **kwargs)``: ``fit_als`` in float64 with a history, 4 factors,
    ``alpha=5.0``, ``regularization=0.3``, 4 iterations and no progress bar unless overridden."""

    def run(plays: sp.spmatrix, solver: str, **kwargs: object) -> tuple:
        settings = {
            "factors": 4,
            "alpha": 5.0,
            "regularization": 0.3,
            "iterations": 4,
            "progress": False,
        }
        settings.update(kwargs)
        return fit_als(plays, solver=solver, dtype=np.float64, return_history=True, **settings)

    return run
