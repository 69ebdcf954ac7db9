"""Exercise checks of chapters 07 and 07b (fusion, tags, ensembles), reached through the facade.

Chapter 07 calls ``checks.check_paired_se``, ``check_blend_weights``,
``check_standardize_scores``, ``check_group_blend`` and ``check_bootstrap_interval``; chapter
07b ``check_untagged_share``, ``check_tail_tags_answer``, ``check_ensemble_scores``,
``check_popularity_buckets`` and ``check_tfidf``
(:mod:`course_lib.checks`). Each goes through :func:`course_lib.checking.run_check` with the
course's implementation as ``forbidden``, on small seeded cases (built in
:mod:`course_lib.fusion._exercise_cases`) chosen so that each plausible wrong answer is
rejected with its own words. The multiple-choice check only says whether the letter is
right; the reasons are on the solutions page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from course_lib.checking import Case, CheckResult, compare_values, run_check
from course_lib.evaluation.compare import paired_comparison
from course_lib.fusion import _exercise_cases as cases
from course_lib.fusion.blending import fit_blend_weights
from course_lib.fusion.buckets import popularity_buckets
from course_lib.fusion.distances import paired_difference
from course_lib.fusion.ensembles import ensemble_scores, standardize_scores
from course_lib.fusion.features import tag_features, untagged_share
from course_lib.vectors import unit_rows

__all__ = [
    "TAIL_TAGS_CHOICES",
    "check_blend_weights",
    "check_bootstrap_interval",
    "check_ensemble_scores",
    "check_group_blend",
    "check_paired_se",
    "check_popularity_buckets",
    "check_standardize_scores",
    "check_tail_tags_answer",
    "check_tfidf",
    "check_untagged_share",
]


# ---------------------------------------------------------------------------------------------
# Exercise 7.2: fit the blending weights
# ---------------------------------------------------------------------------------------------


def _blend_property(case: Case, got: Any) -> str | None:
    predictions, targets = case.args
    problem = cases.same_direction(fit_blend_weights(predictions, targets), got)
    if problem is None or "negative" in problem:
        return problem
    for slip, weights in cases.blend_slips(predictions, targets).items():
        if cases.same_direction(weights, got) is None:
            return slip
    return problem


def check_blend_weights(
    student_fn: Callable[[Sequence[np.ndarray], np.ndarray], Any],
) -> CheckResult:
    """Check ``student_fn(predictions, targets) -> weights`` against
    :func:`course_lib.fusion.fit_blend_weights` (non-negative least squares on unit-length rows,
    Lawson & Hanson 1974; Breiman 1996).

    Any positive multiple of the reference weights is accepted; the reference itself is not.
    The verdict names the usual slips: a negative weight (unconstrained least squares),
    least squares clipped at zero afterwards, rows not scaled to unit length (predictions,
    targets or both) and equal weights.
    """
    return run_check(
        student_fn,
        None,
        cases.blend_cases(),
        name="blend weights",
        properties=[_blend_property],
        forbidden=[fit_blend_weights],
        hint=(
            "the cosine distance looks only at the direction of each row: are the models' "
            "outputs and the targets comparable before you fit anything? And what would a "
            "negative weight mean for a blend of models? Read the label of the failing case."
        ),
    )


# ---------------------------------------------------------------------------------------------
# Exercise 7b.1: how bare is the tail?
# ---------------------------------------------------------------------------------------------


def _untagged_property(case: Case, got: Any) -> str | None:
    tags, buckets = case.args
    problem = cases.same_shares(untagged_share(tags, buckets), got)
    if problem is None or not isinstance(got, Mapping):
        return problem
    for slip, shares in cases.untagged_slips(tags, buckets).items():
        if cases.same_shares(shares, got) is None:
            return slip
    return problem


def check_untagged_share(
    student_fn: Callable[[Any, np.ndarray], Mapping[str, float]],
) -> CheckResult:
    """Check ``student_fn(tags, buckets) -> {bucket: share of tracks without any tag}``
    against :func:`course_lib.fusion.untagged_share` (Celma 2010, ch. 5), which is not accepted as
    an answer. The verdict names the usual slips: stored entries counted as tags, the share of
    empty cells, the tagged share, the spread of the untagged tracks over the buckets, counts.
    """
    return run_check(
        student_fn,
        None,
        cases.untagged_cases(),
        name="untagged share",
        properties=[_untagged_property],
        forbidden=[untagged_share],
        hint=(
            "what makes a track untagged: that its row stores no entries, or that nobody gave "
            "it a tag? The label of the failing case says which kind of input trips your "
            "function."
        ),
    )


# ---------------------------------------------------------------------------------------------
# Exercise 7b.2: why do tags fail in the tail?
# ---------------------------------------------------------------------------------------------
#: The answers offered in chapter 07b, letter -> text (why each wrong one is wrong is explained on
#: the solutions page, not here: the check only says right or wrong).
TAIL_TAGS_CHOICES: dict[str, str] = {
    "A": "The tag vocabulary has no words for the music of tail tracks.",
    "B": (
        "Tags come from listeners, so their number grows with plays: many tail tracks have no or "
        "very few tags, and the network maps an empty (all-zero) input to one and the same "
        "prediction for all of them, whatever they sound like."
    ),
    "C": "TF-IDF down-weights the tags that tail tracks use.",
    "D": "The factors of tail tracks are noisier, and that hurts tags only.",
}

_TAIL_TAGS_ANSWER = "B"


def _right_letter(case: Case, got: Any) -> str | None:
    letter = str(got).strip().upper()[:1] if got is not None else ""
    if letter not in TAIL_TAGS_CHOICES:
        return f"answer with one of the letters {sorted(TAIL_TAGS_CHOICES)}, got {got!r}"
    return None if letter == _TAIL_TAGS_ANSWER else f"{letter} is not this one"


def check_tail_tags_answer(student_fn: Callable[[], str]) -> CheckResult:
    """Check ``student_fn() -> letter`` for the multiple-choice question of exercise 7b.2.

    A wrong letter gets "not this one" and the same general nudge whatever the letter, so the
    verdict cannot be used to eliminate the choices one by one.
    """
    return run_check(
        student_fn,
        None,
        [Case(label="the question")],
        name="why tags fail in the tail",
        properties=[_right_letter],
        hint=(
            "go back to the evidence rather than trying letters: which statement do the "
            "chapter's own tables (sections 2 and 3) and one measurement of yours support?"
        ),
    )


# ---------------------------------------------------------------------------------------------
# Exercise 7.1: the paired standard error
# ---------------------------------------------------------------------------------------------


def _paired_property(case: Case, got: Any) -> str | None:
    a, b = (np.asarray(x, dtype=np.float64) for x in case.args)
    reference = paired_difference(a, b, n_boot=100)
    expected = (reference["mean"], reference["se"])
    try:
        pair = tuple(float(x) for x in got)
    except (TypeError, ValueError):
        return f"expected (mean difference, standard error), got {got!r}"
    if len(pair) != 2:
        return f"expected two numbers (mean difference, standard error), got {len(pair)}"
    if np.allclose(pair, expected, rtol=1e-6, atol=1e-12):
        return None
    for slip, values in cases.paired_slips(a, b).items():
        if np.allclose(pair, values, rtol=1e-6, atol=1e-12):
            return slip
    return f"expected ({expected[0]:.5f}, {expected[1]:.5f}), got ({pair[0]:.5f}, {pair[1]:.5f})"


def check_paired_se(student_fn: Callable[[np.ndarray, np.ndarray], Any]) -> CheckResult:
    """Check ``student_fn(a, b) -> (mean of a - b, its standard error)`` for per-track scores of
    two models on the same tracks, against :func:`course_lib.fusion.paired_difference` (its
    ``mean`` and ``se``), which is not accepted as an answer. The verdict names the usual
    slips: the sign, ``n`` instead of ``n - 1``, ``/ n`` instead of ``/ sqrt(n)``, and the
    standard error of two independent samples."""
    return run_check(
        student_fn,
        None,
        cases.paired_cases(),
        name="paired standard error",
        properties=[_paired_property],
        forbidden=[paired_difference, paired_comparison],
        hint=(
            "the two models were scored on the same tracks: what single number per track "
            "carries the comparison, and how uncertain is the mean of such numbers?"
        ),
    )


# ---------------------------------------------------------------------------------------------
# Exercise 7.3: standardise each user's scores
# ---------------------------------------------------------------------------------------------


def _standardize_property(case: Case, got: Any) -> str | None:
    (scores,) = case.args
    expected = standardize_scores(scores)
    try:
        arr = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return f"expected an array like the scores, got a {type(got).__name__}"
    if arr.shape != expected.shape:
        return f"expected shape {expected.shape} (users x items), got {arr.shape}"
    if not np.isfinite(arr).all():
        return "a user whose scores are all equal gets NaN; such a row should become all zeros"
    if np.allclose(arr, expected, atol=1e-5):
        return None
    for slip, values in cases.standardize_slips(scores).items():
        if values.shape == arr.shape and np.allclose(arr, values, atol=1e-5):
            return slip
    return compare_values(expected, arr, rtol=1e-4, atol=1e-5)


def check_standardize_scores(student_fn: Callable[[np.ndarray], Any]) -> CheckResult:
    """Check ``student_fn(scores) -> z`` (each row: zero mean, unit standard deviation; a
    constant row all zeros) against :func:`course_lib.fusion.standardize_scores`, which is not
    accepted as an answer. The verdict names the usual slips: columns instead of rows, only
    centring, NaN for a constant row."""
    return run_check(
        student_fn,
        None,
        cases.standardize_cases(),
        name="standardised scores",
        properties=[_standardize_property],
        forbidden=[standardize_scores],
        hint=(
            "whose scores must become comparable: the users' or the items'? And what should "
            "a row look like when the recommender cannot tell its items apart?"
        ),
    )


# ---------------------------------------------------------------------------------------------
# Exercise 7b.3: the ensemble's scores
# ---------------------------------------------------------------------------------------------


def _ensemble_property(case: Case, got: Any) -> str | None:
    sources, weights = case.args
    expected = ensemble_scores(sources, weights)
    try:
        arr = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return f"expected an array of scores (users x items), got a {type(got).__name__}"
    if arr.shape != expected.shape:
        return f"expected shape {expected.shape} (users x items), got {arr.shape}"
    if np.allclose(arr, expected, atol=1e-4):
        return None
    raw = sum(w * np.asarray(sources[n], dtype=np.float64) for n, w in weights.items())
    if np.allclose(arr, raw, atol=1e-4):
        return (
            "the raw scores were weighted: standardise each recommender's scores per user "
            "first, or the one with the largest numbers decides alone"
        )
    return compare_values(expected, arr, rtol=1e-4, atol=1e-4)


def check_ensemble_scores(student_fn: Callable[[Mapping[str, Any], Mapping], Any]) -> CheckResult:
    """Check ``student_fn(sources, weights) -> scores`` (the weighted sum of each source's
    per-user standardised scores; a source without a weight counts 0) against
    :func:`course_lib.fusion.ensemble_scores`, which is not accepted as an answer; the
    student may use :func:`course_lib.fusion.standardize_scores`. The verdict names the usual
    slip: weighting the raw scores."""
    return run_check(
        student_fn,
        None,
        cases.ensemble_cases(),
        name="ensemble scores",
        properties=[_ensemble_property],
        forbidden=[ensemble_scores],
        hint=(
            "a dot product and a count of listeners live on different scales: what makes a "
            "weight mean the same thing for both? Read the label of the failing case."
        ),
    )


# ---------------------------------------------------------------------------------------------
# Exercise 7.4: blending that knows about tags
# ---------------------------------------------------------------------------------------------


def _group_blend_property(case: Case, got: Any) -> str | None:
    try:
        arr = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return f"expected an array of blended factors, got a {type(got).__name__}"
    blends = cases.group_blends(*case.args)
    if arr.shape != blends[""].shape:
        return f"expected shape {blends[''].shape} (tracks x factors), got {arr.shape}"
    directions = unit_rows(arr, dtype=np.float64)
    for slip, expected in blends.items():
        if np.allclose(directions, unit_rows(expected, dtype=np.float64), atol=1e-4):
            return slip or None
    return compare_values(unit_rows(blends[""], dtype=np.float64), directions, atol=1e-4)


def check_group_blend(student_fn: Callable[..., Any]) -> CheckResult:
    """Check ``student_fn(predictions, targets, has_tags, fit_rows) -> blend`` (one set of
    non-negative blending weights fitted on the tagged fitting rows, one on the untagged ones,
    each track blended with its group's set) against :func:`course_lib.fusion.fit_blend_weights`
    and :func:`course_lib.fusion.blend` per group. Only each row's direction is compared (the
    cosine distance ignores scale). The verdict names the usual slips: one set for all, the sets
    swapped, weights fitted on every track, raw predictions blended."""
    return run_check(
        student_fn,
        None,
        cases.group_blend_cases(),
        name="blend per tag group",
        properties=[_group_blend_property],
        forbidden=[fit_blend_weights],
        hint=(
            "which tracks may the weights learn from, and which weights does a track without "
            "tags get? Blend the same kind of rows the weights were fitted on."
        ),
    )


# ---------------------------------------------------------------------------------------------
# Exercise 7.5: the bootstrap interval of a paired difference
# ---------------------------------------------------------------------------------------------
def _bootstrap_property(case: Case, got: Any) -> str | None:
    a, b, level = case.args
    d, n = a - b, a.size
    try:
        low, high = (float(x) for x in got)
    except (TypeError, ValueError):
        return f"expected two numbers (low, high), got {got!r}"
    if not low <= high:
        return f"low ({low:.4f}) should not exceed high ({high:.4f})"
    z = float(stats.norm.ppf(0.5 + level / 2))
    half, mean = z * d.std(ddof=1) / n**0.5, d.mean()
    centre, ratio = (low + high) / 2, (high - low) / (2 * half)
    if abs(centre - mean) < 1e-12 and abs(ratio - 1) < 1e-6:
        return (
            "this is the normal interval, mean ± z SE; the exercise asks for the "
            "percentiles of the resampled means"
        )
    near = 0.85 <= ratio <= 1.18
    if near and abs(centre - mean) <= 0.3 * half:
        return None
    if near and abs(centre + mean) <= 0.3 * half:
        return "the sign: the difference is a minus b, track by track"
    unpaired = z * np.sqrt(a.var(ddof=1) / n + b.var(ddof=1) / n)
    if 0.8 <= (high - low) / (2 * unpaired) <= 1.25:
        return (
            "a and b were resampled independently; resample tracks, keeping each "
            "track's pair of distances together"
        )
    if 0.8 <= (high - low) / (2 * z * d.std(ddof=1)) <= 1.25:
        return (
            "these are percentiles of the per-track differences themselves, not of "
            "the means of resampled sets of tracks"
        )
    return (
        f"expected an interval about {mean - half:.4f} to {mean + half:.4f}, got {low:.4f} "
        f"to {high:.4f}; does it use the level asked for ({level})?"
    )


def check_bootstrap_interval(student_fn: Callable[..., Any]) -> CheckResult:
    """Check ``student_fn(a, b, level) -> (low, high)``, the percentile bootstrap interval of
    the mean of ``a - b`` over resampled tracks, against the interval of
    :func:`course_lib.fusion.paired_difference`, which is not accepted as an answer. Any seed
    and number of resamples (some thousands) is accepted: the width must be within 15 % of
    the normal approximation's, the centre near the mean. The verdict names the usual slips:
    the sign, unpaired resampling, percentiles of the differences, the normal interval."""
    return run_check(
        student_fn,
        None,
        cases.bootstrap_cases(),
        name="bootstrap interval",
        properties=[_bootstrap_property],
        forbidden=[paired_difference, paired_comparison],
        hint=(
            "what do you resample, and what do you compute on each resampled set? The "
            "interval is read off the spread of those numbers, not of the tracks."
        ),
    )


# ---------------------------------------------------------------------------------------------
# Exercise 7b.5: popularity buckets
# ---------------------------------------------------------------------------------------------
def _bucket_property(case: Case, got: Any) -> str | None:
    expected = popularity_buckets(*case.args)
    labels = np.asarray(got).astype(str).ravel() if got is not None else np.array([])
    if labels.shape != expected.shape:
        return f"expected one label per item ({expected.size}), got {labels.size}"
    if np.array_equal(labels, expected):
        return None
    for slip, wrong in cases.bucket_slips(*case.args).items():
        if np.array_equal(labels, wrong):
            return slip
    first = int(np.flatnonzero(labels != expected)[0])
    return f"item {first} is {expected[first]!r}, you label it {labels[first]!r}"


def check_popularity_buckets(student_fn: Callable[..., Any]) -> CheckResult:
    """Check ``student_fn(plays, head, tail) -> labels`` ("head", "torso" or "tail" per item)
    against :func:`course_lib.fusion.popularity_buckets`, which is not accepted as an answer.
    The cases have no ties in listeners and shares that give whole numbers of items. The
    verdict names the usual slips: ranking by plays, head and tail swapped."""
    return run_check(
        student_fn,
        None,
        cases.bucket_cases(),
        name="popularity buckets",
        properties=[_bucket_property],
        forbidden=[popularity_buckets],
        hint=(
            "what makes a track popular here, and from which end of the ranking is each "
            "share counted? Read the label of the failing case."
        ),
    )


# ---------------------------------------------------------------------------------------------
# Exercise 7b.6: TF-IDF tag features
# ---------------------------------------------------------------------------------------------
def _tfidf_property(case: Case, got: Any) -> str | None:
    expected = tag_features(case.args[0], weighting="tfidf", fit_rows=case.args[1])
    try:
        arr = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return f"expected an array (items x tags), got a {type(got).__name__}"
    if arr.shape != expected.shape:
        return f"expected shape {expected.shape} (items x tags), got {arr.shape}"
    if np.allclose(arr, expected, atol=1e-5):
        return None
    for slip, wrong in cases.tfidf_slips(*case.args).items():
        if np.allclose(arr, wrong, atol=1e-5):
            return slip
    if not np.isfinite(arr).all():
        return "the features contain NaN or infinity; an untagged row stays all zeros"
    return compare_values(expected, arr, rtol=1e-4, atol=1e-5)


def check_tfidf(student_fn: Callable[..., Any]) -> CheckResult:
    """Check ``student_fn(tags, fit_rows) -> features`` (``log(1 + count)`` times the smoothed
    idf computed on ``fit_rows``, each row scaled to unit length) against
    :func:`course_lib.fusion.tag_features` with ``weighting="tfidf"``, which is not accepted
    as an answer. The verdict names the usual slips: idf on every row, document frequency from
    the counts, raw counts, rows not scaled, the plain idf."""
    return run_check(
        student_fn,
        None,
        cases.tfidf_cases(),
        name="TF-IDF tag features",
        properties=[_tfidf_property],
        forbidden=[tag_features],
        hint=(
            "which tracks may the idf learn from, what does a document frequency count, and "
            "what happens to each row at the end? Read the label of the failing case."
        ),
    )
