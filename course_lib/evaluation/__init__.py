"""Implicit feedback, an honest evaluation protocol and three baselines.

Taught in chapter 01 (``chapters/01_implicit_feedback.md``) and used by every later chapter
that ranks tracks for users. The conventions follow ``implicit`` (Frederickson, 2017): play counts
arrive as a ``scipy.sparse.csr_matrix`` of shape ``(n_users, n_items)``; a model is judged by the
items it ranks highest for a user, after removing the items that user already played in the
training split (Hu, Koren & Volinsky 2008, section 6).

One file per job:

* :mod:`~course_lib.evaluation.feedback`: :func:`preference`, :func:`confidence` (Hu et al.
  2008, eqs. 1-2 and 6), :func:`popularity_curve` (the long tail);
* :mod:`~course_lib.evaluation.split`: :func:`split_plays`, the per-user hold-out;
* :mod:`~course_lib.evaluation.time_split`: :func:`split_plays_by_time`, the hold-out of
  each user's last discoveries, for data with timestamps (Last.fm 1K);
* :mod:`~course_lib.evaluation.metrics`: :func:`top_k_items`, :func:`ranking_metrics`
  (precision, recall, NDCG, MAP, coverage, long-tail share), :func:`per_user_metrics` and the
  three kinds of :data:`Scores` a model may hand in;
* :mod:`~course_lib.evaluation.compare`: :func:`compare_models` and
  :func:`paired_comparison`, two models on the same users: the difference, its standard error
  and a bootstrap interval (agreement and "beats" judged in standard errors, not per cent);
* :mod:`~course_lib.evaluation.baselines`: :func:`random_scores`, :func:`popularity_scores`,
  :func:`item_knn_scores`;
* :mod:`~course_lib.evaluation.synthetic`: :func:`random_plays`, the random matrices of the
  tests and exercise checks;
* :mod:`~course_lib.evaluation.checks`: the exercise checks of chapters 00, 01 and 02's first
  (reach them through :mod:`course_lib.checks`).

The play-matrix validator that used to live here is
:func:`course_lib.validation.validate_plays`.
"""

from __future__ import annotations

from course_lib.evaluation.baselines import item_knn_scores, popularity_scores, random_scores
from course_lib.evaluation.compare import PairedComparison, compare_models, paired_comparison
from course_lib.evaluation.feedback import (
    CONFIDENCE_KINDS,
    confidence,
    popularity_curve,
    preference,
)
from course_lib.evaluation.metrics import (
    PER_USER_METRICS,
    ScoreFunction,
    Scores,
    per_user_metrics,
    ranking_metrics,
    top_k_items,
)
from course_lib.evaluation.split import split_plays
from course_lib.evaluation.synthetic import random_plays
from course_lib.evaluation.time_split import split_plays_by_time

__all__ = [
    "CONFIDENCE_KINDS",
    "PER_USER_METRICS",
    "PairedComparison",
    "ScoreFunction",
    "Scores",
    "compare_models",
    "confidence",
    "item_knn_scores",
    "paired_comparison",
    "per_user_metrics",
    "popularity_curve",
    "popularity_scores",
    "preference",
    "random_plays",
    "random_scores",
    "ranking_metrics",
    "split_plays",
    "split_plays_by_time",
    "top_k_items",
]
