"""course_lib.feedback_loop.checks: exercise 8.3's check passes honest work and names the slips."""

from __future__ import annotations

import numpy as np

from course_lib import checks, feedback_loop
from course_lib.feedback_loop.checks import check_gini

USES_COURSE = "uses the course's implementation"


def _mean_difference_gini(exposure):
    """Half the relative mean absolute difference: the same coefficient by another road."""
    x = np.asarray(exposure, dtype=float)
    return float(np.abs(x[:, None] - x[None, :]).sum() / (2 * x.size**2 * x.mean()))


def _rank_gini(exposure, start=1, order=np.sort):
    x = order(np.asarray(exposure, dtype=float))
    n = x.size
    ranks = np.arange(start, n + start)
    return float(np.sum((2 * ranks - n - 1) * x) / (n * x.sum()))


def _words(capsys) -> str:
    return " ".join(capsys.readouterr().out.split())


def test_honest_work_passes_and_the_course_is_refused():
    assert checks.check_gini is check_gini
    assert check_gini(_mean_difference_gini).status == "correct"
    assert check_gini(_rank_gini).status == "correct"
    assert check_gini(feedback_loop.gini).status == USES_COURSE
    assert check_gini(lambda x: feedback_loop.gini(x) + 0.0).status == USES_COURSE


def test_each_common_slip_is_named(capsys):
    slips = {
        "given order": lambda x: _rank_gini(x, order=np.asarray),
        "most to the least exposed": lambda x: _rank_gini(x, order=lambda v: np.sort(v)[::-1]),
        "ranks counted from 0": lambda x: _rank_gini(x, start=0),
        "sample correction": lambda x: _rank_gini(x) * len(x) / (len(x) - 1),
    }
    for words, wrong in slips.items():
        assert check_gini(wrong).status == "wrong", words
        assert words in _words(capsys), words
    assert check_gini(lambda x: 0.5).status == "wrong"

    def stub(exposure):
        raise NotImplementedError("Exercise 8.3")

    assert check_gini(stub).status == "not implemented"
