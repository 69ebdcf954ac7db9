"""Exercise checks of chapter 06 (approximate nearest neighbours), exercises 6.1 to 6.5.

Taught in chapter 06, whose exercise cells call them as ``checks.check_split_rule(my_split)`` ...
through the facade :mod:`course_lib.checks`. Built on :func:`course_lib.checking.run_check`, so the
verdicts read like every other chapter's: "Correct", "Not quite" (what differs, and a hint that
points at the idea, never at the code) or "Not implemented yet" (a stub that still raises
``NotImplementedError``; not an error, the notebook keeps running).

* :func:`check_split_rule`: ``my_split(p, q, metric) -> (normal, offset)``, the hyperplane
  equidistant from two points (annoy's split rule).
* :func:`check_per_tree_search`: ``my_per_tree_search(forest, vector, search_k) -> ids``, the
  best-first search run in each tree alone, with an equal share of ``search_k``.
* :func:`check_leaf_size_sweep`: ``my_sweep(vectors, queries, leaf_sizes, n_trees, search_k, k,
  seed) -> DataFrame``, with feedback on a prediction of the trends.
* :func:`check_euclidean_as_dot`: ``my_euclidean_as_dot(items, queries)``, one extra coordinate
  that turns euclidean nearest neighbours into largest dot products.
* :func:`check_trees_needed`: ``my_trees_needed(items, queries, k, search_k, target, seed)``, the
  fewest trees that reach a target recall (the open-ended exercise, run on real data).
"""

from __future__ import annotations

import functools
import heapq
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from course_lib.ann._exercise_cases import (
    _clustered,
    _euclidean_as_dot,
    _euclidean_cases,
    _euclidean_property,
    _trees_cases,
    _trees_needed,
    _trees_property,
)
from course_lib.ann.forest import RandomHyperplaneForest
from course_lib.ann.measure import leaf_size_sweep
from course_lib.ann.search import search_candidates
from course_lib.ann.splits import split_hyperplane
from course_lib.checking import Case, CheckResult, run_check

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "check_euclidean_as_dot",
    "check_leaf_size_sweep",
    "check_per_tree_search",
    "check_split_rule",
    "check_trees_needed",
]


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
        if np.isclose(offset, -float(normal @ (p - q)) / 2):
            return "the offset uses half the difference of p and q; the midpoint is their mean"
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
        forbidden=[split_hyperplane],
        hint=(
            "the plane holds the points that are as close to p as to q: which direction is "
            "perpendicular to it, and which point must lie on it? For the angular metric, ask "
            "what 'as close' means when only directions count. Check the sign of the margin at "
            "p itself."
        ),
    )


# ---------------------------------------------------------------------------------------------
# Exercise 2: one queue, or one per tree?
# ---------------------------------------------------------------------------------------------
def _search_cases() -> list[Case]:
    points = _clustered(600, 8, 12, seed=3)
    angular = RandomHyperplaneForest(n_trees=4, leaf_size=10, metric="angular", seed=5)
    euclidean = RandomHyperplaneForest(n_trees=3, leaf_size=12, metric="euclidean", seed=2)
    angular.fit(points)
    euclidean.fit(points)
    queries = _clustered(8, 8, 12, seed=4)
    cases = [Case((angular, queries[0], 1), label="search_k = 1: a share of one leaf a tree")]
    for i, search_k in enumerate((40, 150, 301, 700, 150)):
        cases.append(Case((angular, queries[i], search_k), label=f"4 trees, search_k {search_k}"))
    for i, search_k in ((5, 100), (6, 250)):
        cases.append(Case((euclidean, queries[i], search_k), label=f"euclidean, {search_k}"))
    cases.append(Case((angular, queries[7], 10_000), label="search_k beyond the whole forest"))
    return cases


def _best_first(forest, x, budget, roots, inherit=True, flip=True) -> list[int]:
    """annoy's best-first search from ``roots`` until ``budget`` candidates (or slips)."""
    heap = [(-math.inf, int(root)) for root in roots]
    heapq.heapify(heap)
    found: list[int] = []
    while heap and len(found) < budget:
        neg_priority, ref = heapq.heappop(heap)
        if ref < 0:
            start, end = forest.leaf_start_[-ref - 1], forest.leaf_end_[-ref - 1]
            found.extend(int(i) for i in forest.leaf_items_[start:end])
            continue
        margin = float(forest.normals_[ref] @ x + forest.offsets_[ref])
        priority = -neg_priority if inherit else math.inf
        other = -margin if flip else margin
        heapq.heappush(heap, (-min(priority, margin), int(forest.children_[ref, 1])))
        heapq.heappush(heap, (-min(priority, other), int(forest.children_[ref, 0])))
    return found


def _per_tree_candidates(
    forest: RandomHyperplaneForest, vector: np.ndarray, search_k: int, **slip: Any
) -> list[int]:
    """Exercise 6.2's reference: each tree searched alone for ceil(search_k / n_trees)."""
    x = forest._transform(forest._as_row(vector), "vector")[0][0]
    share = slip.pop("share", math.ceil(search_k / forest.n_trees))
    found: list[int] = []
    for root in forest.roots_:
        found += _best_first(forest, x, share, [root], **slip)
    return found


_PER_TREE_SLIPS = {
    "the shares are rounded down; each tree collects at least search_k / n_trees, so round "
    "up": lambda f, k: {"share": k // f.n_trees},
    "every tree collected the whole search_k; the budget is shared, n_trees ways": lambda f, k: {
        "share": k
    },
    "inside a tree a child gets its own margin as priority; it keeps the smaller of its "
    "parent's priority and its margin": lambda f, k: {"inherit": False},
    "on the negative side of a split the query lies inside by minus the margin": lambda f, k: {
        "flip": False
    },
}


def _per_tree_property(case: Case, got: Any) -> str | None:
    forest, vector, search_k = case.args
    try:
        found = np.sort(np.asarray(list(got), dtype=np.int64))
    except (TypeError, ValueError):
        return "return the candidate ids as a list or 1-D array of ints"
    want = np.sort(np.asarray(_per_tree_candidates(forest, vector, search_k)))
    if np.array_equal(found, want):
        return None
    shared = np.sort(np.asarray(search_candidates(forest, vector, search_k)))
    if np.array_equal(found, shared) and shared.size:
        return (
            "these are the candidates of one queue over all trees (section 4): give each tree "
            "a queue and a share of its own"
        )
    for slip, switches in _PER_TREE_SLIPS.items():
        variant = np.sort(
            np.asarray(_per_tree_candidates(forest, vector, search_k, **switches(forest, search_k)))
        )
        if np.array_equal(found, variant):
            return f"not the candidates of the per-tree search: {slip}"
    if np.unique(found).size == found.size < want.size:
        return (
            f"{found.size} distinct ids, but {want.size} candidates counting repeats: keep "
            "an id a second tree gives again"
        )
    return (
        f"{found.size} candidates, {want.size} expected, "
        f"{100 * np.intersect1d(found, want).size / max(np.unique(want).size, 1):.0f} % of the "
        "expected ids: search one tree at a time, best-first, whole leaves, until its share"
    )


def check_per_tree_search(
    student_fn: Callable[[RandomHyperplaneForest, np.ndarray, int], Sequence[int]],
) -> CheckResult:
    """Check ``my_per_tree_search(forest, vector, search_k) -> ids`` (chapter 06, exercise 2).

    Each tree is searched alone, best-first as in section 4, until it holds at least
    ``ceil(search_k / n_trees)`` candidates; the candidates of all trees (repeats included,
    order free) must be those of the reference, on angular and euclidean forests. The verdict
    names the usual slips: one shared queue, shares rounded down, the whole budget per tree,
    priorities not inherited or margins not negated on the negative side.
    """
    return run_check(
        student_fn,
        None,
        _search_cases(),
        name="my_per_tree_search",
        properties=[_per_tree_property],
        forbidden=[_per_tree_candidates],
        hint=(
            "each tree gets a queue of its own that starts at its root; inside a tree the search "
            "is section 4's. Work out each tree's share before you start, and ask what happens "
            "when search_k is not a multiple of the number of trees."
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
        forbidden=[leaf_size_sweep],
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


# ---------------------------------------------------------------------------------------------
# Exercise 4: euclidean neighbours as largest dot products
# ---------------------------------------------------------------------------------------------
def check_euclidean_as_dot(student_fn: Callable[..., Any]) -> CheckResult:
    """Check ``my_euclidean_as_dot(items, queries) -> (item_vectors, query_vectors)`` (6.4).

    Each row gains one coordinate; the largest dot products of the new vectors must be the
    euclidean nearest neighbours (top 10, all queries), and the items' new vectors must not
    depend on the queries. Names the slips: |y|^2 without the 1/2, the wrong sign.
    """
    prop = functools.partial(_euclidean_property, student_fn=student_fn)
    return run_check(
        student_fn,
        None,
        _euclidean_cases(),
        name="my_euclidean_as_dot",
        properties=[prop],
        forbidden=[_euclidean_as_dot],
        hint=(
            "write |x - y|^2 out in three terms. For one query, which term does not change "
            "the ranking, and how can a dot product carry the term that depends on y alone?"
        ),
    )


# ---------------------------------------------------------------------------------------------
# Exercise 5: how many trees for a target recall?
# ---------------------------------------------------------------------------------------------
def check_trees_needed(student_fn: Callable[..., Any]) -> CheckResult:
    """Check ``my_trees_needed(items, queries, k, search_k, target, seed)`` (exercise 6.5).

    The answer is the smallest ``n_trees`` of ``TREE_GRID`` (1, 2, 4, ..., 64) whose angular
    forest (``seed``) reaches mean recall@k >= ``target`` at ``search_k`` against brute force,
    or ``None``. Names the slips: the default search_k, a number returned when none reaches it.
    """
    return run_check(
        student_fn,
        None,
        _trees_cases(),
        name="my_trees_needed",
        properties=[_trees_property],
        forbidden=[_trees_needed],
        hint=(
            "the exact neighbours do not depend on the forest: compute them once. Then grow "
            "forests of 1, 2, 4, ... trees with the given seed, query each with the given k and "
            "search_k, and stop at the first whose recall reaches the target."
        ),
    )
