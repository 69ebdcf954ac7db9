"""References, cases and verdicts of chapter 06's exercises 6.4 and 6.5 (private).

The checks themselves, ``check_euclidean_as_dot`` and ``check_trees_needed``, are in
:mod:`course_lib.ann.checks` (taught in chapter 06, exercises); this module keeps that file short.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from course_lib.ann.exact import brute_force_knn, recall_at_k
from course_lib.ann.forest import RandomHyperplaneForest
from course_lib.checking import Case


def _clustered(n: int, dim: int, n_clusters: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, dim))
    labels = rng.integers(0, n_clusters, n)
    return (centres[labels] + 0.35 * rng.normal(size=(n, dim))).astype(np.float32)


def _euclidean_as_dot(items: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exercise 6.4's reference: (y, -|y|^2 / 2) for items, (x, 1) for queries."""
    items = np.asarray(items, dtype=np.float64)
    queries = np.asarray(queries, dtype=np.float64)
    half_sq = -0.5 * np.einsum("ij,ij->i", items, items)
    return np.c_[items, half_sq], np.c_[queries, np.ones(len(queries))]


def _euclidean_cases() -> list[Case]:
    rng = np.random.default_rng(64)
    cases = []
    for n, dim, spread in ((300, 4, 3.0), (500, 12, 0.5)):
        items = rng.normal(size=(n, dim)) * rng.uniform(0.2, spread, size=(n, 1))
        queries = rng.normal(size=(20, dim))
        cases.append(Case((items, queries), label=f"{n} items in {dim}-D, lengths vary"))
    return cases


def _euclidean_property(case: Case, got: Any, student_fn: Callable[..., Any]) -> str | None:
    items, queries = case.args
    try:
        new_items, new_queries = (np.asarray(a, dtype=np.float64) for a in got)
    except (TypeError, ValueError):
        return "return a pair (item_vectors, query_vectors) of 2-D arrays"
    shapes = (items.shape[0], items.shape[1] + 1), (queries.shape[0], queries.shape[1] + 1)
    if (new_items.shape, new_queries.shape) != shapes:
        return f"expected shapes {shapes}, one extra coordinate each; got " + str(
            (new_items.shape, new_queries.shape)
        )
    try:  # the same items with other queries
        again = np.asarray(student_fn(items, queries[:3] + 1.0)[0], dtype=np.float64)
    except Exception:  # noqa: BLE001 - any failure here is reported as a dependence
        again = None
    if again is None or again.shape != new_items.shape or not np.allclose(again, new_items):
        return "the item vectors change with the queries; an index is built before any query"
    k = 10
    want = brute_force_knn(items, queries, k, "euclidean")
    dot = np.argsort(-(new_queries @ new_items.T), axis=1, kind="stable")[:, :k]
    hits = np.mean([np.intersect1d(a, b).size / k for a, b in zip(dot, want)])
    if hits > 1 - 1e-9:
        return None
    sq = np.einsum("ij,ij->i", items, items)
    if np.allclose(new_items[:, -1], -sq) or np.allclose(new_items[:, -1], sq):
        return (
            f"only {hits:.0%} of the nearest found: compare the factor of x . y with that of "
            "|y|^2 in the squared distance"
        )
    if np.allclose(new_items[:, -1], 0.5 * sq):
        return f"only {hits:.0%} of the nearest found: a long item should score lower, not higher"
    return (
        f"the largest dot products find {hits:.0%} of the euclidean nearest; expand "
        "|x - y|^2 and keep what depends on y"
    )


TREE_GRID = (1, 2, 4, 8, 16, 32, 64)


def _trees_needed(items, queries, k, search_k, target, seed, *, default_k=False, last=False):
    """Exercise 6.5's reference (and, with a switch, a slip): the smallest n_trees of
    TREE_GRID whose angular forest reaches mean recall@k >= target at search_k, else None."""
    truth = brute_force_knn(items, queries, k, "angular")
    for n_trees in TREE_GRID:
        forest = RandomHyperplaneForest(n_trees, seed=seed).fit(items)
        found = forest.query_batch(queries, k, None if default_k else search_k, n_threads=1)
        if recall_at_k(found, truth) >= target:
            return n_trees
    return TREE_GRID[-1] if last else None


@functools.lru_cache(maxsize=1)
def _trees_cases() -> list[Case]:
    vectors = _clustered(2500, 16, 30, seed=11)
    queries = _clustered(50, 16, 30, seed=12)
    return [
        Case((vectors, queries, 10, 200, 0.85, 0), label="target 0.85, search_k 200"),
        Case((vectors, queries, 10, 100, 0.6, 0), label="target 0.6, search_k 100"),
        Case((vectors, queries, 5, 400, 0.95, 3), label="k 5, target 0.95, search_k 400"),
        Case((vectors, queries, 10, 10, 0.9999, 1), label="a target no forest reaches"),
    ]


def _trees_property(case: Case, got: Any) -> str | None:
    want = _trees_needed(*case.args)
    if got is None or want is None:
        if got is want:
            return None
        if want is None:
            return "no forest of the grid reaches this target: return None"
        return f"expected {want} trees, got None"
    if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
        return f"return a number of trees (an int) or None, not {type(got).__name__}"
    if got == want:
        return None
    if got == _trees_needed(*case.args, default_k=True):
        return f"expected {want} trees, got {got}: query every forest with the given search_k"
    return (
        f"expected {want} trees, got {got}: try the grid in increasing order and stop at "
        "the first forest whose mean recall reaches the target"
    )
