"""Exercise checks of chapter 06 (approximate nearest neighbours), exercises 6.1 to 6.3.

Taught in chapter 06, whose exercise cells call them as ``checks.check_split_rule(my_split)`` ...
through the facade :mod:`course_lib.checks`. Built on :func:`course_lib.checking.run_check`, so the
verdicts read like every other chapter's: "Correct", "Not quite" (what differs, and a hint that
points at the idea, never at the code) or "Not implemented yet" (a stub that still raises
``NotImplementedError``; not an error, the notebook keeps running).

* :func:`check_split_rule`: ``my_split(p, q, metric) -> (normal, offset)``, the hyperplane
  equidistant from two points (annoy's split rule).
* :func:`check_priority_search`: ``my_search(forest, vector, search_k) -> candidate ids``, the
  best-first search over all trees of a :class:`~course_lib.ann.RandomHyperplaneForest`.
* :func:`check_leaf_size_sweep`: ``my_sweep(vectors, queries, leaf_sizes, n_trees, search_k, k,
  seed) -> DataFrame``, with feedback on a prediction of the trends.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from course_lib.ann.forest import RandomHyperplaneForest
from course_lib.ann.measure import leaf_size_sweep
from course_lib.ann.search import search_candidates
from course_lib.ann.splits import split_hyperplane
from course_lib.checking import Case, CheckResult, run_check

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["check_leaf_size_sweep", "check_priority_search", "check_split_rule"]


def _clustered(n: int, dim: int, n_clusters: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, dim))
    labels = rng.integers(0, n_clusters, n)
    return (centres[labels] + 0.35 * rng.normal(size=(n, dim))).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Exercise 1: the split rule
# ---------------------------------------------------------------------------------------------
def _split_cases() -> list[Case]:
    rng = np.random.default_rng(6)
    cases = []
    for metric in ("euclidean", "angular"):
        for dim, label in ((2, "2-D"), (5, "5-D")):
            p = rng.normal(size=dim) * rng.uniform(0.5, 3.0)
            q = rng.normal(size=dim) * rng.uniform(0.5, 3.0) + 1.0
            cases.append(Case((p, q, metric), label=f"{metric}, {label}"))
    p = np.array([3.0, 0.0, 0.0])
    q = np.array([0.0, 0.5, 0.0])
    cases.append(Case((p, q, "angular"), label="angular, points of very different lengths"))
    cases.append(Case((p, q, "euclidean"), label="euclidean, points of very different lengths"))
    return cases


def _split_property(case: Case, got: Any) -> str | None:
    p, q, metric = case.args
    try:
        normal, offset = got
        normal = np.asarray(normal, dtype=np.float64).ravel()
        offset = float(offset)
    except (TypeError, ValueError):
        return "return a pair (normal, offset): a 1-D array and a number"
    if normal.shape != p.shape:
        return f"the normal has shape {normal.shape}, it should have shape {p.shape}"
    length = float(np.linalg.norm(normal))
    if not np.isclose(length, 1.0, atol=1e-6):
        return (
            f"the normal has length {length:.4g}; divide it by its norm, so that margins of "
            "different nodes are comparable in the search"
        )
    rng = np.random.default_rng(1)
    probes = rng.normal(size=(400, p.size)) * 2.0
    if metric == "angular":
        pu, qu = p / np.linalg.norm(p), q / np.linalg.norm(q)
        unit = probes / np.linalg.norm(probes, axis=1, keepdims=True)
        gap = unit @ pu - unit @ qu  # > 0: closer in angle to p
    else:
        gap = np.linalg.norm(probes - q, axis=1) - np.linalg.norm(probes - p, axis=1)
    keep = np.abs(gap) > 1e-6
    margin = probes @ normal + offset
    agree = np.mean((margin[keep] > 0) == (gap[keep] > 0))
    if agree == 1.0:
        return None
    want_normal, want_offset = split_hyperplane(p, q, metric)
    if agree == 0.0:
        return "every point lands on the wrong side: the normal must point from q towards p"
    if metric == "angular" and abs(offset) > 1e-9:
        return (
            f"offset is {offset:.4g}; for the angular metric the plane passes through the origin "
            "(offset 0), because only directions matter"
        )
    if metric == "angular":
        raw = (p - q) / np.linalg.norm(p - q)
        if np.allclose(normal, raw, atol=1e-6):
            return (
                "you used p - q with p and q as given; for the angular metric scale p and q to "
                "unit length first, otherwise a long p pulls the plane towards q"
            )
    if metric == "euclidean" and np.allclose(normal, want_normal, atol=1e-6):
        if np.isclose(offset, -want_offset):
            return (
                "the offset has the wrong sign: the midpoint of p and q must lie on the plane, "
                "so its margin must be 0"
            )
        if abs(offset) < 1e-12:
            return (
                "the offset is 0, so the plane goes through the origin instead of the midpoint "
                "of p and q; a euclidean split must pass through that midpoint"
            )
    return f"{100 * (1 - agree):.0f} % of test points are put on the side of the farther point"


def check_split_rule(
    student_fn: Callable[[np.ndarray, np.ndarray, str], tuple[np.ndarray, float]],
) -> CheckResult:
    """Check ``my_split(p, q, metric) -> (normal, offset)`` (chapter 06, exercise 1).

    The plane ``normal . x + offset = 0`` must be equidistant from ``p`` and ``q``, with ``p`` on
    the positive side, and ``normal`` of unit length; angular planes pass through the origin and
    compare directions. 400 random points per case must fall on the side of the nearer of ``p``
    and ``q``. The verdict names the usual slips: sides swapped, a wrong or missing offset, an
    unnormalised normal, or angular planes built from ``p - q`` without scaling ``p`` and ``q``.
    """
    return run_check(
        student_fn,
        None,
        _split_cases(),
        name="my_split",
        properties=[_split_property],
        hint=(
            "the plane holds the points that are as close to p as to q. Which direction is "
            "perpendicular to it, and which point must lie on it (margin 0)? For the angular "
            "metric only directions count: make p and q differ in direction alone before you "
            "compare them, and ask which point every such plane passes through. Check the "
            "sign of the margin at p itself."
        ),
    )


# ---------------------------------------------------------------------------------------------
# Exercise 2: the priority-queue search
# ---------------------------------------------------------------------------------------------
def _search_cases() -> list[Case]:
    points = _clustered(600, 8, 12, seed=3)
    forest = RandomHyperplaneForest(n_trees=4, leaf_size=10, metric="angular", seed=5).fit(points)
    queries = _clustered(8, 8, 12, seed=4)
    cases = [Case((forest, queries[0], 1), label="search_k = 1: one leaf is enough")]
    for i, search_k in enumerate((40, 150, 700, 300, 150, 700, 40)):
        cases.append(
            Case((forest, queries[i], search_k), label=f"query {i}, search_k = {search_k}")
        )
    cases.append(Case((forest, queries[7], 10_000), label="search_k beyond the whole forest"))
    return cases


def _search_property(case: Case, got: Any) -> str | None:
    forest, vector, search_k = case.args
    try:
        found = np.asarray(list(got), dtype=np.int64)
    except (TypeError, ValueError):
        return "return the candidate ids as a list or 1-D array of ints"
    want = np.asarray(search_candidates(forest, vector, search_k), dtype=np.int64)
    if found.size == want.size and np.array_equal(np.sort(found), np.sort(want)):
        return None
    if np.unique(found).size == found.size < want.size and np.array_equal(
        np.unique(found), np.unique(want)
    ):
        return (
            f"you returned {found.size} distinct ids but the search collects {want.size} "
            "candidates counting repeats; count every id a leaf adds, even if another tree "
            "already gave it"
        )
    if found.size < want.size:
        return (
            f"you stopped after {found.size} candidates, the search collects {want.size}: keep "
            "popping while fewer than search_k candidates are collected, and add whole leaves"
        )
    if found.size > want.size:
        return (
            f"you collected {found.size} candidates, the search stops at {want.size}: stop as "
            "soon as search_k candidates are collected"
        )
    overlap = np.intersect1d(found, want).size / max(np.unique(want).size, 1)
    return (
        f"right number of candidates, but only {100 * overlap:.0f} % of the expected ids: a "
        "child can never be more promising than its parent, and on the negative side of a "
        "split the margin counts with its sign flipped; open the most promising node first, "
        "over all trees at once"
    )


def check_priority_search(
    student_fn: Callable[[RandomHyperplaneForest, np.ndarray, int], Sequence[int]],
) -> CheckResult:
    """Check ``my_search(forest, vector, search_k) -> ids`` (chapter 06, exercise 2).

    The candidates (repeats included, order free) must equal those of
    :func:`course_lib.ann.search_candidates` on a 4-tree angular forest for search_k from 1 to
    more than the forest holds. Equal priorities are common (a child often inherits its
    parent's), so pop ties in the order of ``heapq`` entries ``(-priority, node_reference)``.
    """
    return run_check(
        student_fn,
        None,
        _search_cases(),
        name="my_search",
        properties=[_search_property],
        hint=(
            "one priority queue for all trees at once, every root as promising as can be. A "
            "node is worth opening while the query lies well inside every half-space on the path "
            "to it: think about which margin along that path limits it, and what the margin "
            "means on the other side of a split. Leaves give all their items, repeats counted, "
            "until search_k are in. Section 4 of the chapter walks through it."
        ),
    )


# ---------------------------------------------------------------------------------------------
# Exercise 3: leaf size, predicted then measured
# ---------------------------------------------------------------------------------------------
TREND_COLUMNS = ("n_nodes", "recall", "query_ms")


@functools.lru_cache(maxsize=1)
def _sweep_data() -> tuple[np.ndarray, np.ndarray]:
    return _clustered(3000, 16, 40, seed=7), _clustered(60, 16, 40, seed=8)


@functools.lru_cache(maxsize=8)
def _reference_sweep(
    leaf_sizes: tuple[int, ...], n_trees: int, search_k: int, k: int, seed: int
) -> pd.DataFrame:
    vectors, queries = _sweep_data()
    return leaf_size_sweep(vectors, queries, list(leaf_sizes), n_trees, search_k, k, seed)


def _sweep_cases() -> list[Case]:
    vectors, queries = _sweep_data()
    return [
        Case((vectors, queries, [4, 16, 64, 256], 5, 300, 10, 0), label="four leaf sizes"),
        Case((vectors, queries, [8, 128], 3, 100, 5, 1), label="two leaf sizes, k = 5, seed 1"),
    ]


def _sweep_property(case: Case, got: Any) -> str | None:
    vectors, queries, leaf_sizes, n_trees, search_k, k, seed = case.args
    columns = getattr(got, "columns", None)
    if columns is None:
        return "return a pandas DataFrame with columns leaf_size, n_nodes, recall (and timings)"
    missing = [c for c in ("leaf_size", "n_nodes", "recall") if c not in columns]
    if missing:
        return f"the table lacks column(s) {missing}"
    want = _reference_sweep(tuple(leaf_sizes), n_trees, search_k, k, seed)
    if len(got) != len(want):
        return f"expected one row per leaf size ({len(want)}), got {len(got)}"
    nodes = np.asarray(got["n_nodes"], dtype=np.int64)
    if np.unique(nodes).size == 1 and np.unique(want["n_nodes"]).size > 1:
        return "n_nodes is the same for every leaf size: pass leaf_size to RandomHyperplaneForest"
    if not np.array_equal(nodes, want["n_nodes"].to_numpy()):
        return (
            f"n_nodes is {nodes.tolist()}, expected {want['n_nodes'].tolist()}: build each "
            "forest with n_trees and seed as given"
        )
    recall = np.asarray(got["recall"], dtype=np.float64)
    if not np.allclose(recall, want["recall"].to_numpy(), atol=1e-9):
        return (
            f"recall is {np.round(recall, 4).tolist()}, expected "
            f"{np.round(want['recall'].to_numpy(), 4).tolist()}: query with the given k and "
            "search_k, and count the hits against the exact neighbours as a fraction of k"
        )
    return None


def _trend(values: np.ndarray) -> str:
    return "down" if values[-1] < values[0] else "up" if values[-1] > values[0] else "flat"


def check_leaf_size_sweep(
    student_fn: Callable[..., Any], prediction: Mapping[str, str] | None = None
) -> CheckResult:
    """Check ``my_sweep(vectors, queries, leaf_sizes, n_trees, search_k, k, seed)`` (exercise 3).

    The returned table must match :func:`course_lib.ann.leaf_size_sweep` on ``n_nodes`` and
    ``recall`` (both deterministic for a seed). If ``prediction`` maps some of ``n_nodes``,
    ``recall`` and ``query_ms`` to ``"up"`` or ``"down"`` (what happens as the leaves grow, at a
    fixed ``search_k``), each guess is compared with the measured trend of the reference sweep.
    """
    result = run_check(
        student_fn,
        None,
        _sweep_cases(),
        name="my_sweep",
        properties=[_sweep_property],
        hint=(
            "from one row to the next only the leaf size may change: everything else (trees, "
            "seed, k, search_k) is as given. Recall compares what the forest finds with the "
            "exact neighbours of brute force, as a fraction of the k true ones per query."
        ),
    )
    if prediction and result.implemented:
        vectors, queries, leaf_sizes, n_trees, search_k, k, seed = _sweep_cases()[0].args
        table = _reference_sweep(tuple(leaf_sizes), n_trees, search_k, k, seed)
        for column, guess in prediction.items():
            if column not in TREND_COLUMNS:
                print(f"  (no measurement called {column!r}; use one of {TREND_COLUMNS})")
                continue
            measured = _trend(table[column].to_numpy())
            verdict = "right" if str(guess).lower() == measured else "not what was measured"
            print(
                f"  Your prediction for {column} as leaves grow: {guess!r}; measured: "
                f"{measured} ({verdict})."
            )
    return result
