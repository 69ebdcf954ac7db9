"""No chapter hands a student the answer before the exercise that asks for it (issue 23).

Each chapter's exercises are found as the course's tools find them: a stub cell that raises
``NotImplementedError("Exercise ...")`` followed by a cell calling ``checks.check_...``. For each
check, :data:`ANSWERS` names the course's own implementation of what the exercise asks the
student to write (the functions the check refuses as an answer). No code cell above the
exercise's stub may import one of those names or call it (plain or qualified, e.g.
``als.user_update(...)``); a cell below the exercise may, since the chapter continues with the
tested copy.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.md"))

#: check -> the course's implementations of what its exercise asks for.
ANSWERS: dict[str, set[str]] = {
    "check_play_share": {"play_share"},
    "check_top_track_share": set(),  # its reference is private to the check
    "check_recall_ceiling": set(),
    "check_tail_hit_share": set(),
    "check_head_share": {"popularity_curve"},
    "check_ndcg_at_k": {"ranking_metrics", "per_user_metrics"},
    "check_gram_correction": set(),  # its reference is private to the check
    "check_user_update": {"user_update", "solve_rows"},
    "check_naive_cost": set(),
    "check_spark_reg_param": {"spark_reg_param"},
    "check_plays_to_rows": {"plays_to_rows"},
    "check_als_loss": {"als_loss"},
    "check_heavy_share": set(),  # no course function computes it
    "check_marginal_cost": {"marginal_core_seconds_per_play"},
    "check_nodes_needed": {"cluster_estimate"},
    "check_ridge_spread": set(),  # uses exercise 2b.2's regParam, computed by no course function
    "check_window_leakage": {"window_leakage"},
    "check_global_temporal_pooling": {"GlobalTemporalPooling", "global_temporal_pooling"},
    "check_cosine_distance_loss": {"cosine_distance", "cosine_distance_loss"},
    "check_time_only": set(),
    "check_semitone_window": {"semitone_window"},
    "check_gain_shift": {"gain_shift_db"},
    "check_spectral_centroid": {"spectral_centroid"},
    "check_side_share": {"side_share"},
    "check_dropout": {"inverted_dropout"},
    "check_gaussian_nll": {"gaussian_nll"},
    "check_top_steps_playlist": {"top_steps_playlist", "top_steps_scores"},
    "check_most_selective_filter": {"most_selective_filter", "attribute_selectivity"},
    "check_receptive_field": {"min_input_frames"},
    "check_centroid_outlier_scores": set(),
    "check_genre_vote": set(),
    "check_split_rule": {"split_hyperplane"},
    "check_per_tree_search": set(),
    "check_leaf_size_sweep": {"leaf_size_sweep"},
    "check_euclidean_as_dot": set(),
    "check_trees_needed": set(),
    "check_blend_weights": {"fit_blend_weights"},
    "check_untagged_share": {"untagged_share"},
    "check_tail_tags_answer": set(),
    "check_paired_se": {"paired_difference"},
    "check_standardize_scores": {"standardize_scores"},
    "check_ensemble_scores": {"ensemble_scores"},
    "check_group_blend": set(),  # per group; the chapter calls fit_blend_weights above, for one set
    "check_bootstrap_interval": set(),  # paired_difference is called above; the check refuses it
    "check_popularity_buckets": set(),  # popularity_buckets labels the items above; refused
    "check_tfidf": set(),  # tag_features builds the tag model's input above; refused
    "check_snips": {"snips"},
    "check_ips_enumeration": {"enumerate_ips", "exact_expectation"},
    "check_epsilon_greedy_probabilities": {"action_probabilities"},
    "check_gini": {"gini"},
    "check_clipped_mse": set(),
}

_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
_CHECK_CALL = re.compile(r"\bchecks\.(check_\w+)\(")
_STUB = re.compile(r"raise NotImplementedError\(\s*[\"']Exercise")


def code_cells(markdown: str) -> list[str]:
    """The source of every code cell, in order (cell options included)."""
    return [match.group(1) for match in _CELL.finditer(markdown)]


def exercises(cells: list[str]) -> list[tuple[str, int]]:
    """``(check name, index of its stub cell)`` for every exercise check of a chapter."""
    found = []
    for index, cell in enumerate(cells):
        for check in _CHECK_CALL.findall(cell):
            stubs = [i for i in range(index + 1) if _STUB.search(cells[i])]
            if stubs:  # a check with a stub above it is an exercise (not a demonstration)
                found.append((check, stubs[-1]))
    return found


def uses(cell: str, name: str) -> bool:
    """Whether a cell imports ``name`` or calls it (``name(``, ``module.name(``)."""
    code = "\n".join(line.split("#", 1)[0] for line in cell.splitlines())
    imported = re.search(rf"^\s*(from\s+\S+\s+)?import\s[^\n]*\b{name}\b", code, re.MULTILINE)
    in_parentheses = re.search(rf"^\s*from\s+\S+\s+import\s*\((?:[^)]*?)\b{name}\b", code, re.M)
    called = re.search(rf"(?<![\w\"'])(?:\w+\.)*{name}\s*\(", code)
    return bool(imported or in_parentheses or called)


def test_the_parser_finds_imports_calls_and_exercises():
    cells = [
        "from course_lib.als import fit_als, user_update",
        "from course_lib.evaluation import (\n    confidence,\n    ranking_metrics,\n)",
        "x = als.user_update(Y, items)\n# user_update(...) in a comment does not count",
        ':tags: [raises-exception]\n\ndef f():\n    raise NotImplementedError("Exercise 1")',
        "checks.check_user_update(f);",
        'print("user_update(")  # a string is not a call',
    ]
    assert uses(cells[0], "user_update") and not uses(cells[0], "update")
    assert uses(cells[1], "confidence") and uses(cells[1], "ranking_metrics")
    assert uses(cells[2], "user_update")
    assert not uses(cells[5], "user_update")
    assert not uses("my_user_update(Y)", "user_update")
    assert exercises(cells) == [("check_user_update", 3)]


def test_every_exercise_check_has_its_answers_listed():
    for chapter in CHAPTERS:
        for check, _ in exercises(code_cells(chapter.read_text(encoding="utf-8"))):
            assert check in ANSWERS, f"{chapter.name}: add {check} to ANSWERS in this test"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.stem)
def test_no_answer_is_imported_or_called_above_its_exercise(chapter):
    cells = code_cells(chapter.read_text(encoding="utf-8"))
    early = []
    for check, stub in exercises(cells):
        for name in sorted(ANSWERS.get(check, ())):
            early += [
                f"cell {i + 1} uses {name}, the answer to {check} (stub in cell {stub + 1})"
                for i in range(stub)
                if uses(cells[i], name)
            ]
    assert not early, f"{chapter.name}: " + "; ".join(early)
