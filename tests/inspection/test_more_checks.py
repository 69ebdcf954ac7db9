"""The checks of exercises 5.4 to 5.6: honest answers pass, the usual slips and the course's own
implementations do not, and the hints hold no code."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import checks
from course_lib.inspection import album_outlier_scores
from course_lib.inspection import checks as topic_checks

USES_COURSE = "uses the course's implementation"


def receptive_field(kernel_sizes, pool_sizes):
    frames, jump = 1, 1
    for i, kernel in enumerate(kernel_sizes):
        frames += (kernel - 1) * jump
        if i < len(pool_sizes):
            frames += (pool_sizes[i] - 1) * jump
            jump *= pool_sizes[i]
    return frames


def centroid_outlier_scores(features, album_ids):
    unit = features / np.linalg.norm(features, axis=1, keepdims=True)
    scores = np.full(len(features), np.nan)
    for i, album in enumerate(album_ids):
        mates = np.flatnonzero(album_ids == album)
        mates = mates[mates != i]
        if mates.size:
            centroid = unit[mates].mean(axis=0)
            scores[i] = 1 - unit[i] @ centroid / np.linalg.norm(centroid)
    return scores


def genre_vote(query_vectors, vectors, labels, k):
    q = query_vectors / np.linalg.norm(query_vectors, axis=1, keepdims=True)
    v = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    nearest = np.argsort(-(q @ v.T), axis=1, kind="stable")[:, :k]
    return np.array([np.bincount(labels[row]).argmax() for row in nearest])


def spaced_only(kernel_sizes, pool_sizes):
    """The slip that lets a pooling space the steps out without widening their view."""
    frames, jump = 1, 1
    for i, kernel in enumerate(kernel_sizes):
        frames += (kernel - 1) * jump
        if i < len(pool_sizes):
            jump *= pool_sizes[i]
    return frames


def test_receptive_field_check():
    assert checks.check_receptive_field(receptive_field).passed
    assert checks.check_receptive_field(topic_checks._receptive_field).status == USES_COURSE
    for wrong, words in [
        (lambda k, p: 1 + sum(x - 1 for x in k), "no pooling"),
        (spaced_only, "widens"),
        (lambda k, p: int(np.prod(k + p)), "overcounts"),
        (lambda k, p: receptive_field(k, p) + 1, "expected"),
        (lambda k, p: str(receptive_field(k, p)), "an int"),
    ]:
        result = checks.check_receptive_field(wrong)
        assert result.status == "wrong", words
        assert any(words in problem for problem in result.problems), result.problems


def test_centroid_outlier_scores_check():
    assert checks.check_centroid_outlier_scores(centroid_outlier_scores).passed
    for course in (album_outlier_scores, topic_checks._centroid_scores):
        assert checks.check_centroid_outlier_scores(course).status != "correct"
    assert (
        checks.check_centroid_outlier_scores(
            lambda f, a: topic_checks._centroid_scores(f, a)
        ).status
        == USES_COURSE
    )

    for wrong, words in [
        (lambda f, a: 1 - centroid_outlier_scores(f, a), "similarity"),
        (lambda f, a: np.nan_to_num(centroid_outlier_scores(f, a)), "NaN"),
        (album_outlier_scores, "median"),
        (
            lambda f, a: centroid_outlier_scores(f * np.linalg.norm(f, axis=1)[:, None], a)[:2],
            "one per",
        ),
    ]:
        result = checks.check_centroid_outlier_scores(wrong)
        assert not result.passed, words
        assert any(words in problem for problem in result.problems), result.problems

    def raw_centroid(features, album_ids):
        unit = features / np.linalg.norm(features, axis=1, keepdims=True)
        scores = np.full(len(features), np.nan)
        for i, album in enumerate(album_ids):
            mates = np.flatnonzero((album_ids == album) & (np.arange(len(album_ids)) != i))
            if mates.size:
                centroid = features[mates].mean(axis=0)
                scores[i] = 1 - unit[i] @ centroid / np.linalg.norm(centroid)
        return scores

    def with_itself(features, album_ids):
        unit = features / np.linalg.norm(features, axis=1, keepdims=True)
        scores = np.full(len(features), np.nan)
        for i, album in enumerate(album_ids):
            members = np.flatnonzero(album_ids == album)
            if members.size > 1:
                centroid = unit[members].mean(axis=0)
                scores[i] = 1 - unit[i] @ centroid / np.linalg.norm(centroid)
        return scores

    for wrong, words in [(raw_centroid, "*unit*"), (with_itself, "itself")]:
        result = checks.check_centroid_outlier_scores(wrong)
        assert not result.passed, words
        assert any(words in problem for problem in result.problems), result.problems


def test_genre_vote_check():
    assert checks.check_genre_vote(genre_vote).passed
    assert checks.check_genre_vote(topic_checks._vote).status == USES_COURSE

    def euclidean(q, v, labels, k):
        nearest = np.argsort(np.linalg.norm(q[:, None] - v[None], axis=2), axis=1)[:, :k]
        return np.array([np.bincount(labels[row]).argmax() for row in nearest])

    def dot(q, v, labels, k):
        nearest = np.argsort(-(q @ v.T), axis=1, kind="stable")[:, :k]
        return np.array([np.bincount(labels[row]).argmax() for row in nearest])

    for wrong, words in [
        (euclidean, "Euclidean"),
        (dot, "dot product"),
        (lambda q, v, labels, k: genre_vote(q, v, labels, 1), "single nearest"),
        (lambda q, v, labels, k: genre_vote(q, v, labels, k)[:-1], "one per query"),
    ]:
        result = checks.check_genre_vote(wrong)
        assert not result.passed, words
        assert any(words in problem for problem in result.problems), result.problems


@pytest.mark.parametrize(
    ("check", "wrong"),
    [
        (checks.check_receptive_field, lambda k, p: 0),
        (checks.check_centroid_outlier_scores, lambda f, a: np.zeros(len(f))),
        (checks.check_genre_vote, lambda q, v, labels, k: np.zeros(len(q), dtype=int)),
    ],
)
def test_hints_guide_without_giving_the_code(check, wrong):
    result = check(wrong)
    assert result.status == "wrong"
    hint = result.hint
    assert hint and not any(code in hint for code in ("np.", "argsort", "=", "linalg", "("))
