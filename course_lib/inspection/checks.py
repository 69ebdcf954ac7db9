"""Exercise checks of chapter 05 (what the network learned), called through ``course_lib.checks``.

* Exercise 5.1, :func:`check_top_steps_playlist`: a filter playlist between Dieleman's peak
  and average playlists (2014, sec. 6.1, 6.2): the tracks whose strongest few time steps
  average highest.
* Exercise 5.2, :func:`check_most_selective_filter`: the filter whose favourite tracks score
  highest on one attribute.

Each check runs the student's function on small made-up activations whose right answer differs
from the answers of the usual slips (peak or mean instead of the strongest steps, the first steps
instead of the strongest, wrong order, most active filter instead of most selective), and names
the slip when it sees one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from course_lib.checking import Case, CheckResult, run_check
from course_lib.inspection.activations import top_steps_scores
from course_lib.inspection.playlists import top_steps_playlist
from course_lib.inspection.selectivity import most_selective_filter

__all__ = ["check_most_selective_filter", "check_top_steps_playlist"]


# ---------------------------------------------------------------------------------------------
# Exercise 5.1: a playlist between peak and mean (the strongest n_steps time steps)
# ---------------------------------------------------------------------------------------------
def _playlist_cases() -> list[Case]:
    cases = []
    for seed, (n, t, f, k, n_steps) in enumerate(
        [(30, 12, 4, 4, 3), (50, 20, 6, 6, 5), (40, 16, 3, 5, 4)]
    ):
        rng = np.random.default_rng(100 + seed)
        acts = rng.gamma(1.0, 1.0, size=(n, t, f)) * (rng.random((n, t, f)) < 0.6)
        target = (seed + 1) % f
        burst, few, steady = rng.permutation(n)[: 3 * k].reshape(3, k)
        # One loud moment: these tracks win the peak playlist only.
        acts[burst, rng.integers(0, t, size=k), target] += 12.0
        # n_steps strong moments, anywhere in the clip: the playlist the exercise asks for.
        for track in few:
            acts[track, rng.choice(t, size=n_steps, replace=False), target] += 8.0
        # Moderate all along: these tracks win the mean playlist.
        acts[steady, :, target] += 3.0
        label = f"{n} tracks, {t} time steps, filter {target}, n_steps={n_steps}"
        cases.append(Case((acts.astype(np.float32), target, k, n_steps), label=label))
    return cases


def _slips(acts: np.ndarray, f: int, n_steps: int) -> dict[str, np.ndarray]:
    """The scores behind the usual slips, to name the one a wrong answer made."""
    curves = acts[:, :, f]
    ascending = np.sort(curves, axis=1)
    return {
        "this is the peak (max over time) playlist: average the n_steps strongest steps, "
        "not just the strongest one": curves.max(axis=1),
        "this is the mean playlist (all time steps): keep only the n_steps strongest steps of "
        "each track": curves.mean(axis=1),
        "these are the first n_steps time steps of each clip, not its strongest ones: sort each "
        "track's activations over time first": curves[:, :n_steps].mean(axis=1),
        "you averaged each track's n_steps *weakest* steps: after an ascending sort the "
        "strongest steps are at the end": ascending[:, :n_steps].mean(axis=1),
    }


def _ranks_by(scores: np.ndarray, answer: np.ndarray) -> bool:
    """Whether ``answer`` lists the tracks of highest ``scores``, best first (ties in any order)."""
    if answer.min() < 0 or answer.max() >= len(scores):
        return False
    best = np.sort(scores)[::-1][: answer.size]
    return bool(np.allclose(scores[answer], best, rtol=1e-5, atol=1e-6))


def _playlist_property(case: Case, got: Any) -> str | None:
    acts, f, k, n_steps = case.args
    expected = top_steps_playlist(acts, f, k, n_steps).tracks
    try:
        answer = np.asarray(got).ravel()
    except Exception:  # noqa: BLE001 - anything that is not array-like
        return f"expected an array of {k} track indices, got {type(got).__name__}"
    if answer.size != k:
        return f"returned {answer.size} tracks; the playlist should hold k = {k}"
    if not np.issubdtype(answer.dtype, np.integer):
        if np.allclose(answer, top_steps_scores(acts, n_steps)[expected, f]):
            return "returned the scores; return the track indices (np.argsort gives them)"
        return f"returned values of type {answer.dtype}; return integer track indices"
    if np.array_equal(answer, expected):
        return None
    for problem, scores in _slips(acts, f, n_steps).items():
        if _ranks_by(scores, answer):
            return problem
    if np.array_equal(answer, expected[::-1]):
        return "right tracks, reversed order: the highest score comes first"
    if set(answer.tolist()) == set(expected.tolist()):
        return "right tracks in the wrong order: sort by decreasing score"
    return f"expected tracks {expected.tolist()}, got {answer.tolist()}"


def check_top_steps_playlist(
    student_fn: Callable[[np.ndarray, int, int, int], Any],
) -> CheckResult:
    """Check exercise 5.1: ``student_fn(activations, filter_index, k, n_steps)`` returns the ``k``
    tracks whose ``n_steps`` strongest time steps of one filter have the highest mean, best first
    (as :func:`course_lib.inspection.top_steps_playlist`)."""
    return run_check(
        student_fn,
        None,
        _playlist_cases(),
        name="top_steps_playlist",
        properties=[_playlist_property],
        hint=(
            "work on one filter's (tracks, time) slice; for each track, find its n_steps largest "
            "values over time (sorting along the time axis puts them at one end), average them, "
            "then order the tracks by that score, highest first"
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
            "treat each filter (column of scores) on its own: which top_k tracks does it score "
            "highest, and what is their average attribute? Then return the filter whose "
            "average is largest, as an int"
        ),
    )
