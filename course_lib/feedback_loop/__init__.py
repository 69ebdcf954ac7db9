"""Filter bubbles: a recommender that retrains on the plays it caused, and how to measure diversity.

Taught in chapter 08 (``chapters/08_beyond_accuracy.md``, "9. Filter bubbles: a recommender that
learns from itself"). :func:`run_feedback_loop` simulates the loop of Chaney, Stewart & Engelhardt
(2018) with two remedies, random exploration (:func:`explore`) and maximal marginal relevance
re-ranking (:func:`mmr_rerank`, Carbonell & Goldstein 1998); the diversity of each round is
measured with :func:`catalogue_coverage`, :func:`gini` of the :func:`exposure_counts` (Fleder &
Hosanagar 2009) and :func:`genres_per_user`.

Two files: :mod:`~course_lib.feedback_loop.loop` (the loop and the remedies) and
:mod:`~course_lib.feedback_loop.diversity` (the measures).
"""

from __future__ import annotations

from course_lib.feedback_loop.diversity import (
    catalogue_coverage,
    exposure_counts,
    genres_per_user,
    gini,
)
from course_lib.feedback_loop.loop import STRATEGIES, explore, mmr_rerank, run_feedback_loop

__all__ = [
    "STRATEGIES",
    "catalogue_coverage",
    "explore",
    "exposure_counts",
    "genres_per_user",
    "gini",
    "mmr_rerank",
    "run_feedback_loop",
]
