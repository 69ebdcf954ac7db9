"""The exercise checks of every chapter, in one place: ``from course_lib import checks``.

This module is a facade. The framework (:class:`Case`, :class:`CheckResult`, :func:`run_check`,
:func:`compare_values`) lives in :mod:`course_lib.checking`; each topic's checks live beside the
topic, in ``course_lib/<topic>/checks.py``, and chapters reach all of them through this module::

    from course_lib import checks
    checks.check_user_update(my_user_update)      # chapter 02, from course_lib.als.checks

A check is loaded on first use (the table :data:`LOCATIONS` says from where), so importing this
module is cheap: chapter 01 does not load TensorFlow because chapter 04 has a check about a Keras
layer. Nothing here imports back into a topic's checks, so there is no import circle.

The facade exports checks only (``check_*``, the ``*_CHOICES`` of multiple-choice questions and
the framework's names), never a reference answer: a chapter that continues with the course's
own implementation imports it from its topic module, after the exercise.
"""

from __future__ import annotations

import importlib
from typing import Any

from course_lib.checking import Case, CheckResult, compare_values, run_check

#: Where each topic's public check lives: name -> module (checks and answer choices only).
LOCATIONS: dict[str, str] = {
    # chapter 00 (welcome) and chapter 01 (implicit feedback)
    "check_play_share": "course_lib.evaluation.checks",
    "check_head_share": "course_lib.evaluation.checks",
    "check_ndcg_at_k": "course_lib.evaluation.checks",
    "check_top_track_share": "course_lib.evaluation.checks",
    "check_recall_ceiling": "course_lib.evaluation.checks",
    "check_tail_hit_share": "course_lib.evaluation.checks",
    # chapter 02 (ALS by hand)
    "check_gram_correction": "course_lib.als.checks",
    "check_user_update": "course_lib.als.checks",
    "check_naive_cost": "course_lib.als.checks",
    "check_als_loss": "course_lib.als.checks",
    "check_heavy_share": "course_lib.als.checks",
    # chapter 02b (ALS at scale)
    "check_plays_to_rows": "course_lib.spark.checks",
    "check_spark_reg_param": "course_lib.spark.checks",
    "check_nodes_needed": "course_lib.spark.checks",
    "check_marginal_cost": "course_lib.spark.checks",
    "check_ridge_spread": "course_lib.spark.checks",
    # chapter 03 (audio features)
    "check_window_leakage": "course_lib.audio.checks",
    "check_semitone_window": "course_lib.audio.checks",
    "check_gain_shift": "course_lib.audio.checks",
    "check_spectral_centroid": "course_lib.audio.checks",
    "check_side_share": "course_lib.audio.checks",
    # chapter 04 (convnet cold start)
    "TIME_ONLY_CHOICES": "course_lib.convnet.checks",
    "check_time_only": "course_lib.convnet.checks",
    "check_global_temporal_pooling": "course_lib.convnet.checks",
    "check_cosine_distance_loss": "course_lib.convnet.checks",
    "check_dropout": "course_lib.convnet.checks",
    "check_gaussian_nll": "course_lib.convnet.checks",
    # chapter 05 (what the network learned)
    "check_top_steps_playlist": "course_lib.inspection.checks",
    "check_most_selective_filter": "course_lib.inspection.checks",
    "check_receptive_field": "course_lib.inspection.checks",
    "check_centroid_outlier_scores": "course_lib.inspection.checks",
    "check_genre_vote": "course_lib.inspection.checks",
    # chapter 06 (approximate nearest neighbours)
    "check_split_rule": "course_lib.ann.checks",
    "check_per_tree_search": "course_lib.ann.checks",
    "check_leaf_size_sweep": "course_lib.ann.checks",
    "check_euclidean_as_dot": "course_lib.ann.checks",
    "check_trees_needed": "course_lib.ann.checks",
    # chapter 07 (fusion)
    "TAIL_TAGS_CHOICES": "course_lib.fusion.checks",
    "check_blend_weights": "course_lib.fusion.checks",
    "check_untagged_share": "course_lib.fusion.checks",
    "check_tail_tags_answer": "course_lib.fusion.checks",
    "check_paired_se": "course_lib.fusion.checks",
    "check_standardize_scores": "course_lib.fusion.checks",
    "check_ensemble_scores": "course_lib.fusion.checks",
    "check_group_blend": "course_lib.fusion.checks",
    "check_bootstrap_interval": "course_lib.fusion.checks",
    "check_popularity_buckets": "course_lib.fusion.checks",
    "check_tfidf": "course_lib.fusion.checks",
    # chapter 08 (beyond accuracy)
    "check_snips": "course_lib.counterfactual.checks",
    "check_ips_enumeration": "course_lib.counterfactual.checks",
    "check_gini": "course_lib.feedback_loop.checks",
    "check_epsilon_greedy_probabilities": "course_lib.bandits.checks",
    "check_clipped_mse": "course_lib.counterfactual.checks",
}

__all__ = ["Case", "CheckResult", "LOCATIONS", "compare_values", "run_check", *LOCATIONS]


def __getattr__(name: str) -> Any:
    if name in LOCATIONS:
        value = getattr(importlib.import_module(LOCATIONS[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
