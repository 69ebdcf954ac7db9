"""Tests of course_lib.inspection.checks: the exercise checks of chapter 05 (exercises 5.1, 5.2)."""

from __future__ import annotations

import numpy as np

from course_lib import checks
from course_lib import inspection as ins

USES_COURSE = "uses the course's implementation"


def _scores(acts, f, n_steps):
    return np.sort(acts[:, :, f], axis=1)[:, -n_steps:].mean(axis=1)


def reference(acts, f, k, n_steps):
    return np.argsort(-_scores(acts, f, n_steps), kind="stable")[:k]


def test_top_steps_playlist_check_accepts_an_answer_and_rejects_slips():
    assert checks.check_top_steps_playlist(reference).passed
    for course in (
        lambda a, f, k, n: ins.top_steps_playlist(a, f, k, n).tracks,
        lambda a, f, k, n: np.argsort(-ins.top_steps_scores(a, n)[:, f])[:k],
    ):
        assert checks.check_top_steps_playlist(course).status == USES_COURSE

    def by_sorting(acts, f, k, n_steps):
        return np.argsort(-np.sort(acts[:, :, f], axis=1)[:, -n_steps:].mean(axis=1))[:k]

    assert checks.check_top_steps_playlist(by_sorting).passed

    def stub(acts, f, k, n_steps):
        raise NotImplementedError

    assert checks.check_top_steps_playlist(stub).status == "not implemented"
    for wrong, words in [
        (lambda a, f, k, n: ins.filter_playlist(a, f, k, mode="max").tracks, "peak"),
        (lambda a, f, k, n: ins.filter_playlist(a, f, k, mode="mean").tracks, "mean playlist"),
        (lambda a, f, k, n: np.argsort(-a[:, :n, f].mean(axis=1))[:k], "first n_steps"),
        (lambda a, f, k, n: np.argsort(-np.sort(a[:, :, f], 1)[:, :n].mean(1))[:k], "weakest"),
        (lambda a, f, k, n: reference(a, f, k, n)[::-1], "reversed"),
        (lambda a, f, k, n: np.sort(reference(a, f, k, n)), "wrong order"),
        (lambda a, f, k, n: _scores(a, f, n)[reference(a, f, k, n)], "indices"),
        (lambda a, f, k, n: np.argsort(_scores(a, f, n), kind="stable")[:k], "*lowest*"),
        (
            lambda a, f, k, n: np.argsort(-np.sort(a[:, f, :], 1)[:, -n:].mean(1), kind="stable")[
                :k
            ],
            "time axis",
        ),
    ]:
        result = checks.check_top_steps_playlist(wrong)
        assert not result.passed
        assert any(words in p for p in result.problems), (words, result.problems)


def test_the_hints_guide_without_giving_the_code():
    for check, wrong in [
        (checks.check_top_steps_playlist, lambda a, f, k, n: np.arange(k)),
        (checks.check_most_selective_filter, lambda scores, attribute, top_k: 0),
    ]:
        hint = check(wrong).hint
        assert hint and "np." not in hint and "argsort" not in hint and "=" not in hint


def test_most_selective_filter_check_rejects_plausible_wrong_answers():
    def right(scores, attribute, top_k):
        top = np.argsort(-scores, axis=0, kind="stable")[:top_k]
        return int(np.argmax(attribute[top].mean(axis=0)))

    assert checks.check_most_selective_filter(right).passed
    for course in (
        ins.most_selective_filter,
        lambda s, a, k: int(np.nanargmax(ins.attribute_selectivity(s, a, k))),
    ):
        assert checks.check_most_selective_filter(course).status == USES_COURSE

    def by_attribute(scores, attribute, top_k):
        return int(np.argmax(scores[np.argsort(-attribute)[:top_k]].mean(axis=0)))

    def most_active(scores, attribute, top_k):
        return int(np.argmax(scores.mean(axis=0)))

    def correlated(scores, attribute, top_k):
        return int(np.argmax([np.corrcoef(s, attribute)[0, 1] for s in scores.T]))

    def bottom_k(scores, attribute, top_k):
        return int(np.argmax(attribute[np.argsort(scores, axis=0)[:top_k]].mean(axis=0)))

    for wrong, words in [
        (most_active, "most active"),
        (correlated, "correlates"),
        (bottom_k, "least"),
        (by_attribute, "*by attribute*"),
    ]:
        result = checks.check_most_selective_filter(wrong)
        assert not result.passed
        assert any(words in p for p in result.problems), (wrong.__name__, result.problems)


def test_the_checks_are_reached_through_the_facade():
    from course_lib.inspection import checks as inspection_checks

    assert checks.check_top_steps_playlist is inspection_checks.check_top_steps_playlist
    assert checks.check_most_selective_filter is inspection_checks.check_most_selective_filter
