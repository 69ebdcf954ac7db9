"""Comparing two models on the same users: a difference with a standard error, not a percentage.

Taught in chapter 01 (``chapters/01_implicit_feedback.md``, section 6) and used by every
chapter that compares models on held-out plays. A few hundred users give a noisy NDCG@10: two
fits of the same model from different starts, or on two machines whose BLAS rounds
differently, differ by a few per cent, so a fixed tolerance ("within 1 %") fails on one data
set and is meaningless on another. Both models are scored on the *same* users, so the
per-user differences carry the comparison (a paired design); their standard error says how far
apart two equally good models may land by chance:

* two models **agree** when their mean difference is within ``n_se`` standard errors
  (default 3) of zero;
* model a **beats** model b when the difference exceeds ``n_se`` standard errors.

The bootstrap interval (resampling users with replacement, Efron & Tibshirani 1993, ch. 13)
is reported beside it; for a mean over a few hundred users both say the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from course_lib.evaluation.metrics import PER_USER_METRICS, Scores, per_user_metrics
from course_lib.validation import require_choice, require_int, require_number

__all__ = ["PairedComparison", "compare_models", "paired_comparison"]


@dataclass(frozen=True)
class PairedComparison:
    """Mean of ``a - b`` over the same users, its standard error and a bootstrap interval.

    Attributes
    ----------
    mean_a, mean_b : float
        The two means (e.g. NDCG@10 of each model).
    difference : float
        ``mean_a - mean_b``.
    standard_error : float
        Sample standard deviation of the per-user differences over ``sqrt(n)``.
    low, high : float
        Bootstrap percentile interval of the difference at ``level``.
    level : float
    n : int
        Users (pairs).
    """

    mean_a: float
    mean_b: float
    difference: float
    standard_error: float
    low: float
    high: float
    level: float
    n: int

    @property
    def z(self) -> float:
        """The difference in standard errors (0 when both are 0, infinite for an exact gap)."""
        if self.standard_error > 0:
            return self.difference / self.standard_error
        return 0.0 if self.difference == 0 else float(np.copysign(np.inf, self.difference))

    def agrees(self, n_se: float = 3.0) -> bool:
        """True when ``|difference| <= n_se`` standard errors: a gap chance alone explains."""
        n_se = require_number(n_se, "n_se", minimum=0.0)
        return abs(self.difference) <= n_se * self.standard_error

    def beats(self, n_se: float = 3.0) -> bool:
        """True when a is ahead of b by more than ``n_se`` standard errors."""
        n_se = require_number(n_se, "n_se", minimum=0.0)
        return self.difference > n_se * self.standard_error

    def __str__(self) -> str:
        return (
            f"{self.mean_a:.4f} vs {self.mean_b:.4f}: difference {self.difference:+.4f}, "
            f"standard error {self.standard_error:.4f} ({self.z:+.1f} SE), "
            f"{self.level:.0%} bootstrap interval [{self.low:+.4f}, {self.high:+.4f}], "
            f"{self.n} users"
        )


def paired_comparison(
    values_a: np.ndarray,
    values_b: np.ndarray,
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> PairedComparison:
    """Compare two arrays of per-user values measured on the same users, in the same order.

    Parameters
    ----------
    values_a, values_b : array of float, 1-D, same length (>= 2)
        E.g. ``per_user_metrics(...)["ndcg"]`` of two models on one split.
    n_boot : int
        Bootstrap resamples of the users (>= 100).
    level : float
        Coverage of the bootstrap interval, in (0, 1).
    seed : int
        Seed of the resampling.

    Returns
    -------
    PairedComparison

    Raises
    ------
    TypeError, ValueError
        Arrays that are not 1-D, of different lengths, shorter than 2 or not finite (values of
        two different splits cannot be paired: score both models on the same ``train``/``test``);
        ``n_boot`` below 100, ``level`` outside (0, 1), ``seed`` not a non-negative integer.
    """
    a = np.asarray(values_a, dtype=np.float64)
    b = np.asarray(values_b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(
            f"values_a {a.shape} and values_b {b.shape} must be 1-D and of equal length: one "
            "value per user, the same users in the same order (score both models on one split)"
        )
    if a.size < 2:
        raise ValueError(f"need at least two users to compare, got {a.size}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("values contain NaN or infinity; compare finite per-user metrics")
    n_boot = require_int(n_boot, "n_boot", minimum=100)
    level = require_number(level, "level", minimum=0.0, maximum=1.0, strict_minimum=True)
    if level >= 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    seed = require_int(seed, "seed", minimum=0)
    diff = a - b
    means = diff[np.random.default_rng(seed).integers(0, diff.size, (n_boot, diff.size))]
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means.mean(axis=1), [tail, 1.0 - tail])
    return PairedComparison(
        mean_a=float(a.mean()),
        mean_b=float(b.mean()),
        difference=float(diff.mean()),
        standard_error=float(diff.std(ddof=1) / np.sqrt(diff.size)),
        low=float(low),
        high=float(high),
        level=level,
        n=int(diff.size),
    )


def compare_models(
    scores_a: Scores,
    scores_b: Scores,
    train: sp.spmatrix,
    test: sp.spmatrix,
    k: int = 10,
    metric: str = "ndcg",
    *,
    seed: int = 0,
) -> PairedComparison:
    """Model a against model b on one split: ``metric``@``k`` user by user, then paired.

    ``scores_a`` and ``scores_b`` take any form :func:`~course_lib.evaluation.ranking_metrics`
    takes (a dense score matrix, a factor pair, a function of user ids). ``mean_a`` and
    ``mean_b`` are the two models' ``ranking_metrics(...)[metric]``.

    Example: ``compare_models(als, popularity_scores(train), train, test).beats()`` is true
    when ALS is ahead of the popularity list by more than 3 standard errors.

    Raises
    ------
    TypeError, ValueError
        As :func:`ranking_metrics`, a ``metric`` other than precision, recall, ndcg or map,
        and fewer than two users with test items.
    """
    metric = require_choice(metric, "metric", PER_USER_METRICS)
    a = per_user_metrics(scores_a, train, test, k=k)[metric]
    b = per_user_metrics(scores_b, train, test, k=k)[metric]
    return paired_comparison(a, b, seed=seed)
