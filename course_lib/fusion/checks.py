"""Exercise checks of chapter 07 (fusion with attribute data), reached through the facade.

Taught in chapter 07 (``chapters/07_fusion.md``, exercises 7.1 and 7.2), which calls them as
``checks.check_blend_weights(...)`` etc. (:mod:`course_lib.checks`). Built on
:func:`course_lib.checking.run_check`: each check runs the student's function on small seeded
cases, compares it with the tested reference of :mod:`course_lib.fusion` and prints a verdict in
plain words ("Correct", "Not quite" with the failing case and a hint that guides without giving
the code away, or "Not implemented yet" for a stub). Nothing here raises on a stub. The cases are
chosen so that the plausible wrong answers are rejected: unconstrained least squares and
unnormalised rows for the blending weights; counting stored entries instead of tags for the
untagged share. The multiple-choice check only says whether the letter is right, so that wrong
letters cannot be eliminated one by one; the reasons are on the solutions page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from course_lib.checking import Case, CheckResult, compare_values, run_check
from course_lib.fusion.blending import fit_blend_weights
from course_lib.fusion.features import untagged_share

__all__ = [
    "TAIL_TAGS_CHOICES",
    "check_blend_weights",
    "check_tail_tags_answer",
    "check_untagged_share",
]


# ---------------------------------------------------------------------------------------------
# Exercise 7.1: fit the blending weights
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


def check_blend_weights(
    student_fn: Callable[[Sequence[np.ndarray], np.ndarray], Any],
) -> CheckResult:
    """Check ``student_fn(predictions, targets) -> weights`` against
    :func:`course_lib.fusion.fit_blend_weights` (non-negative least squares on unit-length rows,
    Lawson & Hanson 1974; Breiman 1996).

    Any positive multiple of the reference weights is accepted.
    """
    return run_check(
        student_fn,
        fit_blend_weights,
        _blend_cases(),
        name="blend weights",
        compare=_same_direction,
        hint=(
            "the cosine distance looks only at the direction of each row: are the models' "
            "outputs and the targets comparable before you fit anything? And what would a "
            "negative weight mean for a blend of models? Read the label of the failing case."
        ),
    )


# ---------------------------------------------------------------------------------------------
# Exercise 7.2a: how bare is the tail?
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


def check_untagged_share(
    student_fn: Callable[[Any, np.ndarray], Mapping[str, float]],
) -> CheckResult:
    """Check ``student_fn(tags, buckets) -> {bucket: share of tracks without any tag}``
    against :func:`course_lib.fusion.untagged_share` (Celma 2010, ch. 5)."""
    return run_check(
        student_fn,
        untagged_share,
        _untagged_cases(),
        name="untagged share",
        compare=_same_shares,
        hint=(
            "what makes a track untagged: that its row stores no entries, or that nobody gave "
            "it a tag? The label of the failing case says which kind of input trips your "
            "function."
        ),
    )


# ---------------------------------------------------------------------------------------------
# Exercise 7.2b: why do tags fail in the tail?
# ---------------------------------------------------------------------------------------------
#: The answers offered in chapter 07, letter -> text (why each wrong one is wrong is explained on
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
    """Check ``student_fn() -> letter`` for the multiple-choice question of exercise 7.2b.

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
            "chapter's own tables and checks (sections 2 and 6) support?"
        ),
    )
