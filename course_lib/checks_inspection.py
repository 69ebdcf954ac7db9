"""Exercise checks of chapter 05 (what the network learned), re-exported by ``course_lib.checks``.

* Exercise 5.1, :func:`check_mean_playlist`: the "average activation" filter playlist of
  Dieleman (2014, sec. 6.2).
* Exercise 5.2, :func:`check_most_selective_filter`: the filter whose favourite tracks score
  highest on one attribute.

Each check runs the student's function on small made-up activations whose right answer differs
from the answers of the usual slips (peak instead of average, wrong axis, wrong order, most active
filter instead of most selective), and names the slip when it sees one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from course_lib.checks import Case, CheckResult, run_check
from course_lib.inspection import filter_playlist, most_selective_filter, track_scores

__all__ = ["check_mean_playlist", "check_most_selective_filter"]


# ---------------------------------------------------------------------------------------------
# Exercise 5.1: the mean-activation playlist
# ---------------------------------------------------------------------------------------------
def _playlist_cases() -> list[Case]:
    cases = []
    for seed, (n, t, f, k) in enumerate([(30, 12, 4, 5), (50, 20, 6, 8), (40, 16, 3, 10)]):
        rng = np.random.default_rng(100 + seed)
        acts = rng.gamma(1.0, 1.0, size=(n, t, f)) * (rng.random((n, t, f)) < 0.6)
        target = seed % f
        # Short loud bursts: these tracks win the peak playlist but not the average one.
        burst = rng.choice(n, size=k, replace=False)
        acts[burst, rng.integers(0, t, size=k), target] += 25.0
        cases.append(
            Case((acts.astype(np.float32), target, k), label=f"{n} tracks, filter {target}")
        )
    return cases


def _playlist_property(case: Case, got: Any) -> str | None:
    acts, f, k = case.args
    expected = filter_playlist(acts, f, k, mode="mean").tracks
    try:
        answer = np.asarray(got).ravel()
    except Exception:  # noqa: BLE001 - anything that is not array-like
        return f"expected an array of {k} track indices, got {type(got).__name__}"
    if answer.size != k:
        return f"returned {answer.size} tracks; the playlist should hold k = {k}"
    if not np.issubdtype(answer.dtype, np.integer):
        if np.allclose(answer, track_scores(acts, "mean")[expected, f]):
            return "returned the mean activations; return the track indices (np.argsort gives them)"
        return f"returned values of type {answer.dtype}; return integer track indices"
    if np.array_equal(answer, expected):
        return None
    if np.array_equal(answer, filter_playlist(acts, f, k, mode="max").tracks):
        return "this is the peak (max over time) playlist; average over the time axis instead"
    if np.array_equal(answer, expected[::-1]):
        return "right tracks, reversed order: the strongest average activation comes first"
    if set(answer.tolist()) == set(expected.tolist()):
        return "right tracks in the wrong order: sort by decreasing mean activation"
    means = track_scores(acts, "mean")[:, f]
    weakest = np.argsort(means, kind="stable")[:k]
    if set(answer.tolist()) == set(weakest.tolist()):
        return "these are the tracks with the *lowest* mean activation; sort in decreasing order"
    return f"expected tracks {expected.tolist()}, got {answer.tolist()}"


def check_mean_playlist(student_fn: Callable[[np.ndarray, int, int], Any]) -> CheckResult:
    """Check exercise 5.1: ``student_fn(activations, filter_index, k)`` returns the ``k`` tracks
    with the highest *average* activation of one filter, best first (as
    :func:`course_lib.inspection.filter_playlist` with ``mode="mean"``)."""
    return run_check(
        student_fn,
        None,
        _playlist_cases(),
        name="mean_playlist",
        properties=[_playlist_property],
        hint=(
            "activations[:, :, filter_index] is (tracks, time); take .mean(axis=1) per track, "
            "then np.argsort(-means)[:k]"
        ),
    )


# ---------------------------------------------------------------------------------------------
# Exercise 5.2: the filter most selective for an attribute
# ---------------------------------------------------------------------------------------------
def _selectivity_cases() -> list[Case]:
    cases = []
    for seed, (n, f, k) in enumerate([(60, 6, 5), (80, 8, 10), (100, 5, 8)]):
        rng = np.random.default_rng(200 + seed)
        attribute = rng.normal(size=n)
        scores = rng.gamma(2.0, 1.0, size=(n, f))
        loud, picky, anti = (seed + 1) % f, (seed + 3) % f, (seed + 4) % f
        scores[:, loud] += 10.0  # the most active filter overall, unrelated to the attribute
        order = np.argsort(attribute)
        scores[order[-k:], picky] += 5.0  # its top-k tracks have the largest attribute values
        scores[order[:k], anti] += 20.0  # loves the tracks with the *smallest* values
        # Correlated over the whole catalogue, but its top-k tracks are only moderately high.
        scores[:, (seed + 5) % f] = attribute - 3.0 * (attribute > np.quantile(attribute, 0.9)) + 4
        cases.append(Case((scores, attribute, k), label=f"{f} filters, top_k={k}"))
    return cases


def _selectivity_property(case: Case, got: Any) -> str | None:
    scores, attribute, k = case.args
    expected = most_selective_filter(scores, attribute, k)
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, np.integer)):
        if isinstance(got, (float, np.floating)) and float(got).is_integer():
            got = int(got)
        else:
            return f"expected one filter index (an int), got {type(got).__name__} {got!r}"
    if int(got) == expected:
        return None
    if int(got) == int(np.argmax(scores.mean(axis=0))):
        return (
            f"filter {got} is the most active filter overall, not the most selective: average "
            "the attribute over each filter's top_k tracks"
        )
    bottom = np.argsort(scores, axis=0, kind="stable")[:k]
    if int(got) == int(np.argmax(attribute[bottom].mean(axis=0))):
        return f"filter {got} wins on the tracks each filter likes *least*; use the top_k tracks"
    top = np.argsort(-scores, axis=0, kind="stable")[:k]
    if int(got) == int(np.argmin(attribute[top].mean(axis=0))):
        return f"filter {got} has the *lowest* mean attribute over its top tracks; take the argmax"
    corr = [np.corrcoef(scores[:, j], attribute)[0, 1] for j in range(scores.shape[1])]
    if int(got) == int(np.argmax(corr)):
        return (
            f"filter {got} correlates best with the attribute over all tracks, but the exercise "
            "asks about each filter's top_k tracks only"
        )
    return f"expected filter {expected}, got {got}"


def check_most_selective_filter(
    student_fn: Callable[[np.ndarray, np.ndarray, int], Any],
) -> CheckResult:
    """Check exercise 5.2: ``student_fn(scores, attribute, top_k)`` returns the index of the filter
    whose ``top_k`` tracks (by ``scores[:, filter]``) have the highest mean ``attribute`` (as
    :func:`course_lib.inspection.most_selective_filter`)."""
    return run_check(
        student_fn,
        None,
        _selectivity_cases(),
        name="most_selective_filter",
        properties=[_selectivity_property],
        hint=(
            "for each filter j: top = np.argsort(-scores[:, j])[:top_k]; "
            "selectivity[j] = attribute[top].mean(); return int(np.argmax(selectivity))"
        ),
    )
