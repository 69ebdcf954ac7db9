"""course_lib.ann.checks (chapter 06, exercises 6.1-6.5), reached through course_lib.checks."""

from __future__ import annotations

import heapq
import math

import numpy as np
import pandas as pd
import pytest

from course_lib import checks
from course_lib.ann import (
    RandomHyperplaneForest,
    brute_force_knn,
    leaf_size_sweep,
    recall_at_k,
    search_candidates,
    split_hyperplane,
)
from course_lib.ann import _exercise_cases as cases
from course_lib.ann import checks as ann_checks

USES_COURSE = "uses the course's implementation"


def _split(p, q, metric):
    """Exercise 6.1 written out (the course's split_hyperplane may not be handed in)."""
    if metric == "angular":
        p, q = p / np.linalg.norm(p), q / np.linalg.norm(q)
    normal = (p - q) / np.linalg.norm(p - q)
    offset = 0.0 if metric == "angular" else -normal @ (p + q) / 2
    return normal, offset


def _search(forest, x, budget, roots, *, inherit=True, flip=True, largest_first=True):
    """Best-first search from roots (section 4), with switches for the usual slips."""
    sign = -1.0 if largest_first else 1.0
    heap = [(sign * math.inf, int(r)) for r in roots]
    heapq.heapify(heap)
    found: list[int] = []
    while heap and len(found) < budget:
        key, ref = heapq.heappop(heap)
        if ref < 0:
            found += forest.leaf_items_[
                forest.leaf_start_[-ref - 1] : forest.leaf_end_[-ref - 1]
            ].tolist()
            continue
        m = float(forest.normals_[ref] @ x + forest.offsets_[ref])
        priority = sign * key if inherit else math.inf
        heapq.heappush(heap, (sign * min(priority, m), int(forest.children_[ref, 1])))
        heapq.heappush(
            heap, (sign * min(priority, -m if flip else m), int(forest.children_[ref, 0]))
        )
    return found


def _per_tree(forest, vector, search_k, *, share=None, **switches):
    """Exercise 6.2 written out: each tree alone, with ceil(search_k / n_trees)."""
    x = forest.transform_queries(np.asarray(vector)[None])[0][0]
    share = math.ceil(search_k / forest.n_trees) if share is None else share
    return [i for root in forest.roots_ for i in _search(forest, x, share, [root], **switches)]


def _euclidean_as_dot(items, queries, factor=-0.5):
    """Exercise 6.4 written out: (y, -|y|^2 / 2) and (x, 1)."""
    items = np.asarray(items, dtype=float)
    extra = factor * (items**2).sum(axis=1)
    return np.c_[items, extra], np.c_[queries, np.ones(len(queries))]


def _trees_needed(items, queries, k, search_k, target, seed, *, default_search_k=False):
    """Exercise 6.5 written out."""
    truth = brute_force_knn(items, queries, k, "angular")
    for n_trees in (1, 2, 4, 8, 16, 32, 64):
        forest = RandomHyperplaneForest(n_trees, seed=seed).fit(items)
        found = forest.query_batch(queries, k, None if default_search_k else search_k)
        if recall_at_k(found, truth) >= target:
            return n_trees
    return None


def test_the_checks_refuse_the_course_implementations():
    assert checks.check_split_rule(split_hyperplane).status == USES_COURSE
    assert checks.check_leaf_size_sweep(leaf_size_sweep).status == USES_COURSE
    assert checks.check_per_tree_search(ann_checks._per_tree_candidates).status == USES_COURSE
    assert checks.check_euclidean_as_dot(cases._euclidean_as_dot).status == USES_COURSE
    assert checks.check_trees_needed(cases._trees_needed).status == USES_COURSE

    def wraps_the_reference(forest, vector, search_k):
        return list(ann_checks._per_tree_candidates(forest, vector, search_k))

    assert checks.check_per_tree_search(wraps_the_reference).status == USES_COURSE


def test_check_split_rule_accepts_the_reference_and_rejects_slips(capsys):
    assert checks.check_split_rule(_split).passed

    def stub(p, q, metric):
        raise NotImplementedError

    assert checks.check_split_rule(stub).status == "not implemented"

    def no_unit_scaling(p, q, metric):  # angular without scaling p and q first
        normal = (p - q) / np.linalg.norm(p - q)
        offset = 0.0 if metric == "angular" else -normal @ (p + q) / 2
        return normal, offset

    def offset_through_origin(p, q, metric):
        normal, _ = _split(p, q, metric)
        return normal, 0.0

    def swapped(p, q, metric):
        normal, offset = _split(p, q, metric)
        return -normal, -offset

    def half_difference(p, q, metric):
        normal, offset = _split(p, q, metric)
        return normal, offset if metric == "angular" else -normal @ (p - q) / 2

    def not_unit(p, q, metric):
        normal, offset = _split(p, q, metric)
        return 2 * normal, 2 * offset

    def sign_of_offset(p, q, metric):
        normal, offset = _split(p, q, metric)
        return normal, -offset

    for wrong, words in (
        (no_unit_scaling, "unit length"),
        (offset_through_origin, "through the origin"),
        (swapped, "wrong side"),
        (half_difference, "half the difference"),
        (not_unit, "divide it by its norm"),
        (sign_of_offset, "wrong sign"),
    ):
        assert checks.check_split_rule(wrong).status == "wrong", wrong.__name__
        assert words in " ".join(capsys.readouterr().out.split()), wrong.__name__


def test_check_per_tree_search_accepts_the_reference_and_rejects_slips(capsys):
    assert checks.check_per_tree_search(_per_tree).passed
    assert checks.check_per_tree_search(search_candidates).status == "wrong"
    assert "one queue over all trees" in " ".join(capsys.readouterr().out.split())

    def distinct_only(forest, vector, search_k):
        return sorted(set(_per_tree(forest, vector, search_k)))

    def one_leaf_per_tree(forest, vector, search_k):
        return _per_tree(forest, vector, search_k, share=1)

    for wrong in (distinct_only, one_leaf_per_tree):
        assert checks.check_per_tree_search(wrong).status == "wrong", wrong.__name__
    capsys.readouterr()
    floor = lambda f, k: {"share": k // f.n_trees}  # noqa: E731
    whole = lambda f, k: {"share": k}  # noqa: E731
    for switches, words in (
        (floor, "round up"),
        (whole, "the budget is shared"),
        (lambda f, k: {"inherit": False}, "smaller of its parent's priority"),
        (lambda f, k: {"flip": False}, "minus the margin"),
    ):
        result = checks.check_per_tree_search(
            lambda f, v, k, switches=switches: _per_tree(f, v, k, **switches(f, k))
        )
        assert result.status == "wrong", words
        assert words in " ".join(capsys.readouterr().out.split()), words
    result = checks.check_per_tree_search(lambda f, v, k: _per_tree(f, v, k, largest_first=False))
    assert result.status == "wrong"


def test_check_euclidean_as_dot_accepts_the_reference_and_rejects_slips(capsys):
    assert checks.check_euclidean_as_dot(_euclidean_as_dot).passed
    assert checks.check_euclidean_as_dot(lambda y, x: _euclidean_as_dot(y, x, -1.0)).passed is False
    assert "factor of x . y" in " ".join(capsys.readouterr().out.split())
    assert checks.check_euclidean_as_dot(lambda y, x: _euclidean_as_dot(y, x, 0.5)).passed is False
    assert "should score lower" in capsys.readouterr().out

    def plain_dot(items, queries):  # no extra term: the angle and length of y decide
        return _euclidean_as_dot(items, queries, 0.0)

    def depends_on_queries(items, queries):
        new_items, new_queries = _euclidean_as_dot(items, queries)
        return new_items + np.mean(queries), new_queries

    def no_extra_coordinate(items, queries):
        return np.asarray(items), np.asarray(queries)

    for wrong in (plain_dot, depends_on_queries, no_extra_coordinate):
        assert checks.check_euclidean_as_dot(wrong).status == "wrong", wrong.__name__
    assert "change with the queries" in " ".join(capsys.readouterr().out.split())


def test_check_trees_needed_accepts_the_reference_and_rejects_slips(capsys):
    assert checks.check_trees_needed(_trees_needed).passed

    def default_search_k(*args):
        return _trees_needed(*args, default_search_k=True)

    def never_none(*args):
        return _trees_needed(*args) or 64

    def the_recall(items, queries, k, search_k, target, seed):
        n_trees = _trees_needed(items, queries, k, search_k, target, seed)
        return None if n_trees is None else target

    for wrong in (default_search_k, never_none, the_recall):
        assert checks.check_trees_needed(wrong).status == "wrong", wrong.__name__
    assert "given search_k" in " ".join(capsys.readouterr().out.split())


def _sweep(vectors, queries, leaf_sizes, n_trees, search_k, k, seed):
    """Exercise 6.3 written out (the course's leaf_size_sweep may not be handed in)."""
    truth = brute_force_knn(vectors, queries, k, "angular")
    rows = []
    for leaf_size in leaf_sizes:
        forest = RandomHyperplaneForest(n_trees, leaf_size=leaf_size, seed=seed).fit(vectors)
        found = forest.query_batch(queries, k, search_k)
        rows.append(
            {"leaf_size": leaf_size, "n_nodes": forest.n_nodes, "recall": recall_at_k(found, truth)}
        )
    return pd.DataFrame(rows)


def test_check_leaf_size_sweep_accepts_the_reference_and_rejects_slips(capsys):
    result = checks.check_leaf_size_sweep(_sweep, prediction={"recall": "down", "n_nodes": "down"})
    assert result.passed
    out = capsys.readouterr().out
    assert "recall as leaves grow: 'down'; measured: down (right)" in out

    def ignores_leaf_size(vectors, queries, leaf_sizes, n_trees, search_k, k, seed):
        return _sweep(
            vectors, queries, [leaf_sizes[0]] * len(leaf_sizes), n_trees, search_k, k, seed
        )

    def default_search_k(vectors, queries, leaf_sizes, n_trees, search_k, k, seed):
        return _sweep(vectors, queries, leaf_sizes, n_trees, None, k, seed)

    def recall_per_candidate(vectors, queries, leaf_sizes, n_trees, search_k, k, seed):
        table = _sweep(vectors, queries, leaf_sizes, n_trees, search_k, k, seed)
        return pd.DataFrame({**table, "recall": table["recall"] * k / search_k})

    for wrong in (ignores_leaf_size, default_search_k, recall_per_candidate):
        assert checks.check_leaf_size_sweep(wrong).status == "wrong", wrong.__name__


CODE_FRAGMENTS = (
    "= [",
    " = ",
    "forest.",
    "heapq",
    "RandomHyperplaneForest(",
    "recall_at_k(",
    "-normal",
    "/|",
    "min(p",
    "(-inf",
)


def _wrong_split(p, q, metric):
    normal, offset = _split(p, q, metric)
    return -normal, -offset


def _wrong_per_tree(forest, vector, search_k):
    return _per_tree(forest, vector, search_k, share=search_k)


def _wrong_euclidean(items, queries):
    return _euclidean_as_dot(items, queries, -1.0)


def _wrong_trees(*args):
    return _trees_needed(*args, default_search_k=True)


def _wrong_sweep(vectors, queries, leaf_sizes, n_trees, search_k, k, seed):
    return _sweep(vectors, queries, leaf_sizes, n_trees, None, k, seed)


@pytest.mark.parametrize(
    ("check", "wrong"),
    [
        (checks.check_split_rule, _wrong_split),
        (checks.check_per_tree_search, _wrong_per_tree),
        (checks.check_leaf_size_sweep, _wrong_sweep),
        (checks.check_euclidean_as_dot, _wrong_euclidean),
        (checks.check_trees_needed, _wrong_trees),
    ],
)
def test_hints_point_at_the_idea_without_giving_the_code(capsys, check, wrong):
    result = check(wrong)
    assert result.status == "wrong"
    assert result.hint and len(result.hint) > 80
    out = capsys.readouterr().out
    assert result.hint.split()[0] in out
    leaked = [fragment for fragment in CODE_FRAGMENTS if fragment in result.hint]
    assert not leaked, f"the hint gives code away: {leaked} in {result.hint!r}"
