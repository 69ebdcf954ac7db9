"""Fixtures of the chapter 06 tests (course_lib.ann): small clustered catalogues, a naive k-NN."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from course_lib.ann import RandomHyperplaneForest


def _clustered(n: int, dim: int, n_clusters: int, seed: int, spread: float = 0.35) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, dim))
    labels = rng.integers(0, n_clusters, n)
    return (centres[labels] + spread * rng.normal(size=(n, dim))).astype(np.float32)


def _naive_knn(vectors: np.ndarray, queries: np.ndarray, k: int, metric: str) -> np.ndarray:
    x = vectors.astype(np.float64)
    q = queries.astype(np.float64)
    if metric == "angular":
        sims = (q / np.linalg.norm(q, axis=1, keepdims=True)) @ (
            x / np.linalg.norm(x, axis=1, keepdims=True)
        ).T
        dist = -sims
    elif metric == "euclidean":
        dist = ((q[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    else:
        dist = -(q @ x.T)
    return np.argsort(dist, axis=1, kind="stable")[:, :k]


@pytest.fixture
def clustered() -> Callable[..., np.ndarray]:
    """``clustered(n, dim, n_clusters, seed, spread=0.35)``: float32 points near random centres."""
    return _clustered


@pytest.fixture(scope="module")
def clustered_module() -> Callable[..., np.ndarray]:
    """:func:`clustered` for module-scoped fixtures."""
    return _clustered


@pytest.fixture
def naive_knn() -> Callable[..., np.ndarray]:
    """``naive_knn(vectors, queries, k, metric)``: exact neighbours by a float64 double loop."""
    return _naive_knn


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    """3000 catalogue vectors and 80 queries, 12-D, 30 clusters."""
    return _clustered(3000, 12, 30, seed=0), _clustered(80, 12, 30, seed=1)


@pytest.fixture(scope="module")
def fitted(data) -> RandomHyperplaneForest:
    """An angular forest of 2 trees over ``data``'s catalogue (read-only: do not refit it)."""
    return RandomHyperplaneForest(n_trees=2, seed=0).fit(data[0])
