"""Exercise checks of chapters 07 and 07b (fusion, tags, ensembles), reached through the facade.

Chapter 07 calls ``checks.check_paired_se``, ``check_blend_weights`` and
``check_standardize_scores``; chapter 07b ``check_untagged_share``, ``check_tail_tags_answer``
and ``check_ensemble_scores`` (:mod:`course_lib.checks`). Each goes through
:func:`course_lib.checking.run_check` with the course's implementation as ``forbidden``, on
small seeded cases chosen so that each plausible wrong answer is rejected with its own words.
The multiple-choice check only says whether the letter is right; the reasons are on the
solutions page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from course_lib.checking import Case, CheckResult, compare_values, run_check
from course_lib.fusion.blending import fit_blend_weights
from course_lib.fusion.distances import paired_difference
from course_lib.fusion.ensembles import ensemble_scores, standardize_scores
from course_lib.fusion.features import untagged_share
from course_lib.vectors import unit_rows

__all__ = [
    "TAIL_TAGS_CHOICES",
    "check_blend_weights",
    "check_ensemble_scores",
    "check_paired_se",
    "check_standardize_scores",
    "check_tail_tags_answer",
    "check_untagged_share",
]


# ---------------------------------------------------------------------------------------------
# Exercise 7.2: fit the blending weights
# ---------------------------------------------------------------------------------------------
def _blend_cases() -> list[Case]:
    rng = np.random.default_rng(7)
    y = rng.normal(size=(60, 6))
    good = y + 0.4 * rng.normal(size=y.shape)
    other = y + 0.7 * rng.normal(size=y.shape)
    # A model that repeats the first model's mistakes: unconstrained least squares gives it a
    # negative weight (it "subtracts" the error), which non-negative blending must not do; and
    # clipping that weight to zero afterwards leaves the other two weights unrefitted.
    echo = (good - y) + 0.3 * rng.normal(size=y.shape)
    # A model whose outputs are 100 times larger: only row directions count.
    loud = 100.0 * (y + 0.8 * rng.normal(size=y.shape))
    mixed = [y + 0.6 * rng.normal(size=y.shape) for _ in range(3)]
    targets_scaled = y * rng.uniform(0.2, 5.0, size=(60, 1))  # targets of unequal length
    return [
        Case(
            ([good, other, echo], y),
            label="two good models and one that repeats the first's errors",
        ),
        Case(([good, loud], y), label="a model with 100 times larger outputs"),
        Case((mixed, targets_scaled), label="three noisy models, targets of unequal length"),
    ]


def _same_direction(expected: Any, got: Any) -> str | None:
    """Weights match up to a positive factor (the cosine distance ignores the blend's scale)."""
    exp = np.asarray(expected, dtype=np.float64)
    try:
        arr = np.asarray(got, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        return f"expected an array of {exp.size} weights, got a {type(got).__name__}"
    if arr.shape != exp.shape:
        return f"expected {exp.size} weights (one per model), got {arr.size}"
    if np.any(arr < -1e-9):
        return (
            f"weight {int(np.argmin(arr))} is negative ({arr.min():.3g}); blending weights "
            "must be >= 0"
        )
    if arr.sum() <= 0:
        return "all weights are zero"
    return compare_values(exp / exp.sum(), arr / arr.sum(), rtol=1e-3, atol=1e-4)


def _nnls_weights(columns: list[np.ndarray], target: np.ndarray) -> np.ndarray:
    from scipy.optimize import nnls

    return nnls(np.stack([c.ravel() for c in columns], axis=1), target.ravel())[0]


def _blend_slips(predictions: Sequence[np.ndarray], targets: np.ndarray) -> dict[str, Any]:
    units = [unit_rows(p, dtype=np.float64) for p in predictions]
    y_unit = unit_rows(targets, dtype=np.float64)
    a = np.stack([u.ravel() for u in units], axis=1)
    least_squares = np.linalg.lstsq(a, y_unit.ravel(), rcond=None)[0]
    return {
        "these are least-squares weights with the negative ones set to zero afterwards; "
        "the others were fitted while the negative weight helped, so the fit has to know "
        "the constraint from the start": np.clip(least_squares, 0.0, None),
        "the rows were not scaled to unit length, so a model with larger outputs gets a "
        "smaller weight, and long target rows count more": _nnls_weights(
            [np.asarray(p, dtype=np.float64) for p in predictions],
            np.asarray(targets, dtype=np.float64),
        ),
        "only the predictions were scaled to unit length; the targets' rows need it too, "
        "since the cosine distance ignores their length as well": _nnls_weights(
            units, np.asarray(targets, dtype=np.float64)
        ),
        "these are equal weights: the blend has to be fitted to the targets": np.ones(
            len(predictions)
        ),
    }


def _blend_property(case: Case, got: Any) -> str | None:
    predictions, targets = case.args
    problem = _same_direction(fit_blend_weights(predictions, targets), got)
    if problem is None or "negative" in problem:
        return problem
    for slip, weights in _blend_slips(predictions, targets).items():
        if _same_direction(weights, got) is None:
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
        _blend_cases(),
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
def _untagged_cases() -> list[Case]:
    rng = np.random.default_rng(3)
    counts = rng.poisson(rng.uniform(0.0, 3.0, size=(12, 1)), size=(12, 5)).astype(np.float32)
    counts[[1, 7, 10]] = 0.0
    labels = np.array(["head"] * 3 + ["torso"] * 4 + ["tail"] * 5)
    # The same counts as a sparse matrix that stores explicit zeros (a tag that was removed
    # again): counting stored entries (getnnz) would call those tracks tagged.
    dense = counts.copy()
    dense[[4, 9, 11]] = 0.0
    coo = sp.coo_matrix(dense)
    rows = np.r_[coo.row, [4, 9, 11]]
    cols = np.r_[coo.col, [0, 2, 1]]
    data = np.r_[coo.data, [0.0, 0.0, 0.0]].astype(np.float32)
    stored_zeros = sp.csr_matrix((data, (rows, cols)), shape=dense.shape)
    shuffled = rng.permutation(12)
    return [
        Case((counts, labels), label="dense counts"),
        Case((stored_zeros, labels), label="sparse counts with stored zeros"),
        Case((counts[shuffled], labels[shuffled]), label="tracks in no particular order"),
    ]


def _same_shares(expected: Mapping[str, float], got: Any) -> str | None:
    if not isinstance(got, Mapping):
        return f"expected a dict bucket -> share, got a {type(got).__name__}"
    missing = [b for b in expected if b not in got]
    if missing:
        return f"no share for bucket(s) {missing}"
    for b, v in expected.items():
        try:
            g = float(got[b])
        except (TypeError, ValueError):
            return f"the share for {b!r} is not a number ({got[b]!r})"
        if not np.isclose(g, v, atol=1e-9):
            return f"the share of untagged tracks in the {b!r} bucket is {v:.3f}, you give {g:.3f}"
    return None


def _untagged_slips(tags: Any, buckets: np.ndarray) -> dict[str, dict[str, float]]:
    stored = sp.csr_matrix(tags)
    totals = np.asarray(stored.sum(axis=1)).ravel()
    entries = stored.getnnz(axis=1)
    dense = stored.toarray()
    names = sorted(set(buckets.tolist()))
    untagged = totals <= 0
    return {
        "a track that stores entries is not necessarily tagged: a stored zero is no tag, so "
        "look at the counts, not at what is stored": {
            b: float(np.mean(entries[buckets == b] == 0)) for b in names
        },
        "this is the share of empty (track, tag) cells; the exercise asks for the share of "
        "tracks without any tag": {b: float(np.mean(dense[buckets == b] == 0)) for b in names},
        "this is the share of *tagged* tracks; the exercise asks for the untagged ones": {
            b: float(np.mean(~untagged[buckets == b])) for b in names
        },
        "this is how the untagged tracks are spread over the buckets; the exercise asks, "
        "within each bucket, which share of its tracks is untagged": {
            b: float(np.sum(untagged[buckets == b]) / max(untagged.sum(), 1)) for b in names
        },
        "these are counts of untagged tracks; divide by the tracks in each bucket": {
            b: float(np.sum(untagged[buckets == b])) for b in names
        },
    }


def _untagged_property(case: Case, got: Any) -> str | None:
    tags, buckets = case.args
    problem = _same_shares(untagged_share(tags, buckets), got)
    if problem is None or not isinstance(got, Mapping):
        return problem
    for slip, shares in _untagged_slips(tags, buckets).items():
        if _same_shares(shares, got) is None:
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
        _untagged_cases(),
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
def _paired_cases() -> list[Case]:
    rng = np.random.default_rng(11)
    shared = rng.uniform(0.2, 0.9, size=40)  # per-track difficulty that both models share
    a, b = shared + 0.02 * rng.normal(size=40), shared + 0.05 + 0.02 * rng.normal(size=40)
    few = rng.uniform(0.0, 1.0, size=(2, 6))  # six tracks: n - 1 and n differ by a sixth
    return [
        Case((a, b), label="two models that find the same tracks hard"),
        Case((few[0], few[1]), label="six tracks"),
        Case((b, a), label="the same models in the other order"),
    ]


def _paired_slips(a: np.ndarray, b: np.ndarray) -> dict[str, tuple[float, float]]:
    d, n = a - b, a.size
    return {
        "the sign: the difference is a minus b, track by track": (
            -d.mean(),
            d.std(ddof=1) / n**0.5,
        ),
        "the standard deviation of a sample of differences divides by n - 1, not n": (
            d.mean(),
            d.std() / n**0.5,
        ),
        "the standard error divides the standard deviation by the square root of n, not by n": (
            d.mean(),
            d.std(ddof=1) / n,
        ),
        "this is the standard error of two independent samples; the tracks are the same, so "
        "take the differences track by track first": (
            d.mean(),
            float(np.sqrt(a.var(ddof=1) / n + b.var(ddof=1) / n)),
        ),
    }


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
    for slip, values in _paired_slips(a, b).items():
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
        _paired_cases(),
        name="paired standard error",
        properties=[_paired_property],
        forbidden=[paired_difference],
        hint=(
            "the two models were scored on the same tracks: what single number per track "
            "carries the comparison, and how uncertain is the mean of such numbers?"
        ),
    )


# ---------------------------------------------------------------------------------------------
# Exercise 7.3: standardise each user's scores
# ---------------------------------------------------------------------------------------------
def _standardize_cases() -> list[Case]:
    rng = np.random.default_rng(5)
    scores = rng.normal(3.0, 2.0, size=(5, 7)) * rng.uniform(0.5, 4.0, size=(5, 1))
    with_constant = scores.copy()
    with_constant[2] = 4.0  # a user for whom the recommender scores every item alike
    return [
        Case((scores,), label="five users, seven items"),
        Case((with_constant,), label="a user whose scores are all equal"),
        Case((scores[:, :2],), label="two items"),
    ]


def _standardize_slips(scores: np.ndarray) -> dict[str, np.ndarray]:
    s = np.asarray(scores, dtype=np.float64)
    return {
        "each user's scores (a row) are standardised, not each item's (a column)": (
            standardize_scores(s.T).T
        ),
        "the scores are only centred; divide by each row's standard deviation too": (
            s - s.mean(axis=1, keepdims=True)
        ),
    }


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
    for slip, values in _standardize_slips(scores).items():
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
        _standardize_cases(),
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
def _ensemble_cases() -> list[Case]:
    rng = np.random.default_rng(9)
    a = rng.normal(size=(4, 6))
    b = 100.0 * rng.random(size=(4, 6))  # counts: a much larger scale than a dot product
    c = rng.normal(size=(4, 6))
    return [
        Case(
            ({"ALS": a, "popularity": b}, {"ALS": 0.7, "popularity": 0.3}),
            label="two recommenders on different scales",
        ),
        Case(
            ({"ALS": a, "tags": c, "popularity": b}, {"ALS": 0.5, "tags": 0.5}),
            label="a recommender without a weight",
        ),
    ]


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
        _ensemble_cases(),
        name="ensemble scores",
        properties=[_ensemble_property],
        forbidden=[ensemble_scores],
        hint=(
            "a dot product and a count of listeners live on different scales: what makes a "
            "weight mean the same thing for both? Read the label of the failing case."
        ),
    )
