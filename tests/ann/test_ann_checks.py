"""course_lib.ann.checks (chapter 06, exercises 6.1-6.3), reached through course_lib.checks."""

from __future__ import annotations

import heapq
import math

import numpy as np
import pandas as pd
import pytest

from course_lib import checks
from course_lib.ann import leaf_size_sweep, search_candidates, split_hyperplane


def test_check_split_rule_accepts_the_reference_and_rejects_slips(capsys):
    assert checks.check_split_rule(split_hyperplane).passed

    def stub(p, q, metric):
        raise NotImplementedError

    assert checks.check_split_rule(stub).status == "not implemented"

    def no_unit_scaling(p, q, metric):  # angular without scaling p and q first
        normal = (p - q) / np.linalg.norm(p - q)
        offset = 0.0 if metric == "angular" else -normal @ (p + q) / 2
        return normal, offset

    def offset_through_origin(p, q, metric):
        normal, _ = split_hyperplane(p, q, metric)
        return normal, 0.0

    def swapped(p, q, metric):
        normal, offset = split_hyperplane(p, q, metric)
        return -normal, -offset

    for wrong in (no_unit_scaling, offset_through_origin, swapped):
        assert checks.check_split_rule(wrong).status == "wrong", wrong.__name__
    assert "unit length" in capsys.readouterr().out


def test_check_priority_search_accepts_the_reference_and_rejects_slips(capsys):
    assert checks.check_priority_search(search_candidates).passed

    def no_min(forest, vector, search_k):  # priority = the last margin only
        heap = [(-math.inf, int(r)) for r in forest.roots_]
        found: list[int] = []
        while heap and len(found) < search_k:
            _, ref = heapq.heappop(heap)
            if ref < 0:
                found += forest.leaf_items_[
                    forest.leaf_start_[-ref - 1] : forest.leaf_end_[-ref - 1]
                ].tolist()
                continue
            m = float(forest.normals_[ref] @ vector + forest.offsets_[ref])
            heapq.heappush(heap, (-m, int(forest.children_[ref, 1])))
            heapq.heappush(heap, (m, int(forest.children_[ref, 0])))
        return found

    def unique_only(forest, vector, search_k):
        return sorted(set(search_candidates(forest, vector, search_k)))

    def one_tree_at_a_time(forest, vector, search_k):
        found: list[int] = []
        for root in forest.roots_:
            ref = int(root)
            while ref >= 0:
                m = forest.normals_[ref] @ vector + forest.offsets_[ref]
                ref = int(forest.children_[ref, 1 if m > 0 else 0])
            found += forest.leaf_items_[
                forest.leaf_start_[-ref - 1] : forest.leaf_end_[-ref - 1]
            ].tolist()
        return found

    for wrong in (no_min, unique_only, one_tree_at_a_time):
        assert checks.check_priority_search(wrong).status == "wrong", wrong.__name__
    assert "repeats" in capsys.readouterr().out


def test_check_leaf_size_sweep_accepts_the_reference_and_rejects_slips(capsys):
    result = checks.check_leaf_size_sweep(
        leaf_size_sweep, prediction={"recall": "down", "n_nodes": "down"}
    )
    assert result.passed
    out = capsys.readouterr().out
    assert "recall as leaves grow: 'down'; measured: down (right)" in out

    def ignores_leaf_size(vectors, queries, leaf_sizes, n_trees, search_k, k, seed):
        return leaf_size_sweep(
            vectors, queries, [leaf_sizes[0]] * len(leaf_sizes), n_trees, search_k, k, seed
        )

    def default_search_k(vectors, queries, leaf_sizes, n_trees, search_k, k, seed):
        return leaf_size_sweep(vectors, queries, leaf_sizes, n_trees, None, k, seed)

    def recall_per_candidate(vectors, queries, leaf_sizes, n_trees, search_k, k, seed):
        table = leaf_size_sweep(vectors, queries, leaf_sizes, n_trees, search_k, k, seed)
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
    normal, offset = split_hyperplane(p, q, metric)
    return -normal, -offset


def _wrong_search(forest, vector, search_k):
    return sorted(set(search_candidates(forest, vector, search_k)))


def _wrong_sweep(vectors, queries, leaf_sizes, n_trees, search_k, k, seed):
    return leaf_size_sweep(vectors, queries, leaf_sizes, n_trees, None, k, seed)


@pytest.mark.parametrize(
    ("check", "wrong"),
    [
        (checks.check_split_rule, _wrong_split),
        (checks.check_priority_search, _wrong_search),
        (checks.check_leaf_size_sweep, _wrong_sweep),
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
