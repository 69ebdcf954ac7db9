"""Exercise checks of chapter 05 (what the network learned), called through ``course_lib.checks``.

* Exercise 5.1, :func:`check_top_steps_playlist`: a filter playlist between Dieleman's peak
  and average playlists (2014, sec. 6.1, 6.2): the tracks whose strongest few time steps
  average highest.
* Exercise 5.2, :func:`check_most_selective_filter`: the filter whose favourite tracks score
  highest on one attribute.
* Exercise 5.4, :func:`check_receptive_field`: the input frames one step of the last convolution
  sees. Exercise 5.5, :func:`check_centroid_outlier_scores`: the cosine distance of a track to
  the centroid of its album-mates. Exercise 5.6, :func:`check_genre_vote`: the genre the
  nearest tracks (by cosine) vote for. Their references are private: variations, not library
  calls.

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
from course_lib.convnet.network import min_input_frames
from course_lib.inspection.activations import top_steps_scores
from course_lib.inspection.outliers import album_outlier_scores
from course_lib.inspection.playlists import top_steps_playlist
from course_lib.inspection.selectivity import attribute_selectivity, most_selective_filter

__all__ = [
    "check_centroid_outlier_scores",
    "check_genre_vote",
    "check_most_selective_filter",
    "check_receptive_field",
    "check_top_steps_playlist",
]


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


def _axis_slips(acts: np.ndarray, f: int, k: int, n_steps: int) -> dict[str, np.ndarray]:
    """Answers of slips that pick the wrong axis, or the wrong end of the order."""
    scores = np.sort(acts[:, :, f], axis=1)[:, -n_steps:].mean(axis=1)
    answers = {
        "these are the k tracks with the *lowest* scores: sort by decreasing score": np.argsort(
            scores, kind="stable"
        )[:k],
    }
    if f < acts.shape[1]:  # acts[:, filter_index] picks a time step, not a filter
        step = np.sort(acts[:, f, :], axis=1)[:, -min(n_steps, acts.shape[2]) :].mean(axis=1)
        answers[
            "you indexed the time axis with filter_index: activations are (tracks, time, "
            "filters), so a filter is picked on the last axis"
        ] = np.argsort(-step, kind="stable")[:k]
    return answers


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
    for problem, tracks in _axis_slips(acts, f, k, n_steps).items():
        if np.array_equal(answer, tracks):
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
        forbidden=[top_steps_playlist, top_steps_scores],
        hint=(
            "a track's score comes from one filter's activations over time: which time "
            "steps count, and how are they combined into one number? The playlist orders "
            "the tracks by that score; the statement says which end comes first."
        ),
    )


# ---------------------------------------------------------------------------------------------
# Exercise 5.2: the filter most selective for an attribute
# ---------------------------------------------------------------------------------------------
def _selectivity_cases() -> list[Case]:
    cases = []
    rng = np.random.default_rng(210)
    n, k = 80, 8
    attribute = rng.normal(size=n)
    scores = rng.gamma(2.0, 1.0, size=(n, 4))
    order = np.argsort(attribute)
    scores[order[-k:], 1] += 8.0  # fires on the top tracks by attribute ...
    scores[rng.choice(order[: n // 2], k, replace=False), 1] += 12.0  # ... but more on others
    scores[order[-k:], 2] += 4.0  # its own top tracks are the top tracks by attribute
    scores[:, 3] += 3.0  # the most active overall
    cases.append(Case((scores, attribute, k), label="a filter loud on other tracks, top_k=8"))
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
    by_attribute = np.argsort(-attribute, kind="stable")[:k]
    if (
        int(got)
        == int(np.argmax(scores[by_attribute].mean(axis=0)))
        != int(np.argmax(scores.mean(axis=0)))
    ):
        return (
            f"filter {got} fires most on the top_k tracks *by attribute*; the exercise picks "
            "each filter's own top_k tracks (by its scores) and averages their attribute"
        )
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
        forbidden=[most_selective_filter, attribute_selectivity],
        hint=(
            "every filter has favourite tracks of its own, picked by its scores alone; what "
            "do they say about the attribute? Compare the filters on that, and reread what "
            "the exercise asks you to return."
        ),
    )


def _as_int(got: Any) -> int | None:
    if isinstance(got, (bool, np.bool_)):
        return None
    if isinstance(got, (int, np.integer)):
        return int(got)
    if isinstance(got, (float, np.floating)) and float(got).is_integer():
        return int(got)
    return None


# ---------------------------------------------------------------------------------------------
# Exercise 5.4: the receptive field of the last convolution
# ---------------------------------------------------------------------------------------------
def _receptive_field(kernel_sizes: list[int], pool_sizes: list[int], *, pools_widen=True) -> int:
    frames, jump = 1, 1  # frames seen by one step; input frames between neighbouring steps
    for i, kernel in enumerate(kernel_sizes):
        frames += (kernel - 1) * jump
        if i < len(pool_sizes):
            frames += (pool_sizes[i] - 1) * jump if pools_widen else 0
            jump *= pool_sizes[i]
    return frames


def _field_cases() -> list[Case]:
    sizes = [
        ([4], []),
        ([4, 4], [4]),
        ([3, 5, 2], [2, 3]),
        ([1, 3], [2]),
        ([4, 4, 4, 4], [4, 2, 2]),
    ]
    return [Case((k, p), label=f"kernels {k}, poolings {p}") for k, p in sizes]


def _field_property(case: Case, got: Any) -> str | None:
    kernels, pools = case.args
    expected = _receptive_field(kernels, pools)
    answer = _as_int(got)
    if answer is None:
        return f"expected a number of frames (an int), got {type(got).__name__} {got!r}"
    if answer == expected:
        return None
    slips = {
        1 + sum(k - 1 for k in kernels): "you added the kernel widths as if no pooling came in "
        "between: after a pooling, neighbouring steps lie several input frames apart",
        _receptive_field(kernels, pools, pools_widen=False): "a pooling window also widens the "
        "view: it covers several steps of the layer below, not only spaces them out",
        int(np.prod(kernels + pools)): "multiplying all the sizes overcounts: neighbouring "
        "windows overlap",
        sum(kernels) + sum(pools): "adding all the sizes ignores how far apart the steps of a "
        "pooled layer are",
    }
    if answer in slips:
        return slips[answer]
    return f"expected {expected} frames, got {answer}"


def check_receptive_field(student_fn: Callable[[list[int], list[int]], Any]) -> CheckResult:
    """Check exercise 5.4: ``student_fn(kernel_sizes, pool_sizes)`` returns the number of input
    frames one time step of the last convolution sees (stride-1 convolutions, a max-pooling of
    stride equal to its size between each two of them)."""
    return run_check(
        student_fn,
        None,
        _field_cases(),
        name="receptive_field",
        properties=[_field_property],
        forbidden=[_receptive_field, min_input_frames],
        hint=(
            "walk up the layers keeping two numbers: how many input frames one step sees, and "
            "how many input frames lie between two neighbouring steps. Ask what each layer "
            "does to each of them."
        ),
    )


# ---------------------------------------------------------------------------------------------
# Exercise 5.5: the distance to the centroid of the album-mates
# ---------------------------------------------------------------------------------------------
def _centroid_scores(
    features: np.ndarray, album_ids: np.ndarray, *, unit_first=True, leave_out=True
) -> np.ndarray:
    x = np.asarray(features, dtype=np.float64)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    v = unit if unit_first else x
    album = np.asarray(album_ids)
    scores = np.full(len(x), np.nan)
    for a in np.unique(album):
        members = np.flatnonzero(album == a)
        if members.size < 2:
            continue
        for i in members:
            mates = members[members != i] if leave_out else members
            centroid = v[mates].mean(axis=0)
            scores[i] = 1 - unit[i] @ centroid / np.linalg.norm(centroid)
    return scores


def _centroid_cases() -> list[Case]:
    cases = []
    for seed, (n, dim, n_albums) in enumerate([(12, 3, 3), (30, 5, 6), (25, 4, 4)]):
        rng = np.random.default_rng(500 + seed)
        features = rng.normal(size=(n, dim)) * rng.uniform(0.2, 5.0, size=(n, 1))
        album = rng.integers(10, 10 + n_albums, size=n) * 7  # not 0..n-1, not sorted
        album[-1] = 999  # alone on its album
        cases.append(Case((features, album), label=f"{n} tracks, {n_albums + 1} albums"))
    return cases


def _centroid_property(case: Case, got: Any) -> str | None:
    features, album = case.args
    expected = _centroid_scores(features, album)
    try:
        answer = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return f"expected one score per track (an array), got {type(got).__name__}"
    if answer.shape != expected.shape:
        return f"expected {expected.shape[0]} scores, one per track; got shape {answer.shape}"
    lonely = np.isnan(expected)
    if np.allclose(answer[~lonely], expected[~lonely]) and not np.isnan(answer[lonely]).all():
        return "a track alone on its album has no album-mates: its score is NaN, not a number"
    if np.allclose(answer, expected, equal_nan=True):
        return None
    slips = {
        "the centroid includes the track itself: use its album-mates only": _centroid_scores(
            features, album, leave_out=False
        ),
        "average the album-mates' *unit* vectors: raw vectors let the loudest track decide "
        "the centroid": _centroid_scores(features, album, unit_first=False),
        "this is a similarity (high = close); the score is a distance, 1 minus the cosine": (
            1 - expected
        ),
        "this is the median distance to each album-mate (the chapter's score), not the "
        "distance to their centroid": album_outlier_scores(features, album),
    }
    for problem, values in slips.items():
        if np.allclose(answer[~lonely], values[~lonely]):
            return problem
    return "the scores differ from the cosine distances to the album-mates' centroids"


def check_centroid_outlier_scores(
    student_fn: Callable[[np.ndarray, np.ndarray], Any],
) -> CheckResult:
    """Check exercise 5.5: ``student_fn(features, album_ids)`` returns, per track, the cosine
    distance of its features to the mean of its album-mates' unit vectors (NaN when alone)."""
    return run_check(
        student_fn,
        None,
        _centroid_cases(),
        name="centroid_outlier_scores",
        properties=[_centroid_property],
        forbidden=[_centroid_scores],
        hint=(
            "for one track, list its album-mates first; the centroid is made from them alone, "
            "after each vector is scaled to length 1. What does a track without album-mates "
            "get?"
        ),
    )


# ---------------------------------------------------------------------------------------------
# Exercise 5.6: the genre the nearest tracks vote for
# ---------------------------------------------------------------------------------------------
def _vote(query_vectors, vectors, labels, k, *, metric="cosine") -> np.ndarray:
    q = np.atleast_2d(np.asarray(query_vectors, dtype=np.float64))
    v = np.asarray(vectors, dtype=np.float64)
    if metric == "cosine":
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
        similarity = q @ (v / np.linalg.norm(v, axis=1, keepdims=True)).T
    elif metric == "dot":
        similarity = q @ v.T
    else:
        similarity = -np.linalg.norm(q[:, None] - v[None], axis=2)
    top = np.argsort(-similarity, axis=1, kind="stable")[:, :k]
    labels = np.asarray(labels)
    return np.array([np.bincount(labels[row], minlength=labels.max() + 1).argmax() for row in top])


def _vote_cases() -> list[Case]:
    cases = []
    for seed, (n, dim, n_queries, k) in enumerate([(40, 4, 6, 5), (60, 6, 8, 7), (50, 3, 10, 9)]):
        rng = np.random.default_rng(600 + seed)
        centres = rng.normal(size=(4, dim))
        labels = rng.integers(0, 4, size=n)
        directions = centres[labels] + 0.6 * rng.normal(size=(n, dim))
        vectors = directions * rng.uniform(0.1, 10.0, size=(n, 1))  # lengths say nothing
        queries = centres[rng.integers(0, 4, size=n_queries)] + 0.6 * rng.normal(
            size=(n_queries, dim)
        )
        cases.append(Case((queries, vectors, labels, k), label=f"{n} tracks, k={k}"))
    return cases


def _vote_property(case: Case, got: Any) -> str | None:
    queries, vectors, labels, k = case.args
    expected = _vote(queries, vectors, labels, k)
    try:
        answer = np.asarray(got).ravel()
    except Exception:  # noqa: BLE001 - anything that is not array-like
        return f"expected one genre per query (an array), got {type(got).__name__}"
    if answer.shape != expected.shape:
        return f"expected {expected.size} genres, one per query; got shape {answer.shape}"
    if np.array_equal(answer, expected):
        return None
    for metric, problem in [
        ("euclidean", "Euclidean distance lets a vector's length decide; use cosine similarity"),
        ("dot", "a dot product favours long vectors; divide by both lengths (cosine)"),
    ]:
        if np.array_equal(answer, _vote(queries, vectors, labels, k, metric=metric)):
            return problem
    if np.array_equal(answer, _vote(queries, vectors, labels, 1)):
        return "only the single nearest track voted; let the k nearest vote"
    return f"expected genres {expected.tolist()}, got {answer.tolist()}"


def check_genre_vote(
    student_fn: Callable[[np.ndarray, np.ndarray, np.ndarray, int], Any],
) -> CheckResult:
    """Check exercise 5.6: ``student_fn(query_vectors, vectors, labels, k)`` returns, per query,
    the most common label among its ``k`` most cosine-similar rows of ``vectors`` (ties: the
    smallest label)."""
    return run_check(
        student_fn,
        None,
        _vote_cases(),
        name="genre_vote",
        properties=[_vote_property],
        forbidden=[_vote],
        hint=(
            "the tracks' vectors have lengths that carry no meaning here: compare directions "
            "only. Then each query's k nearest tracks vote, one vote each, and a tie goes to "
            "the smallest genre."
        ),
    )
