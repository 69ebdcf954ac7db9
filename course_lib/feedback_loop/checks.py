"""Exercise check of chapter 08 (beyond accuracy): the Gini coefficient of exposure.

Taught in chapter 08 (``chapters/08_beyond_accuracy.md``, "Exercises"): exercise 8.4 writes
``my_gini(exposure)``, the Gini coefficient that section 9 tracks round by round
(:func:`check_gini`). Built on :func:`course_lib.checking.run_check`; chapters call it through
the facade ``course_lib.checks``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from course_lib.checking import Case, CheckResult, run_check
from course_lib.feedback_loop.diversity import gini

__all__ = ["check_gini"]


def _cases() -> list[Case]:
    rng = np.random.default_rng(83)
    return [
        Case((np.array([4, 4, 4, 4, 4]),), label="every track shown equally"),
        Case((np.array([0, 0, 12, 0]),), label="one track takes all the exposure"),
        Case((np.array([5, 1, 9, 0, 2, 7]),), label="six tracks, not sorted"),
        Case((rng.poisson(rng.pareto(1.5, 60) * 3),), label="60 tracks, a long tail"),
        Case((rng.uniform(0.0, 2.0, 25),), label="25 tracks, real-valued exposure"),
    ]


def _slips(x: np.ndarray) -> dict[str, float]:
    n, total = x.size, x.sum()
    ranks = np.arange(1, n + 1)

    def formula(values: np.ndarray, ranks: np.ndarray) -> float:
        return float(np.sum((2 * ranks - n - 1) * values) / (n * total))

    correct = gini(x)
    return {
        "the formula applied to the exposures in their given order: the ranks i count from the "
        "least to the most exposed track": formula(x, ranks),
        "the formula with the exposures sorted from the most to the least exposed: the rank "
        "grows with the exposure": formula(np.sort(x)[::-1], ranks),
        "the formula with ranks counted from 0: with i from 1, every track shown equally gives "
        "0": formula(np.sort(x), ranks - 1),
        "the Gini coefficient times n / (n - 1), a sample correction: the exercise asks for the "
        "plain coefficient, whose maximum is (n - 1) / n": correct * n / (n - 1),
    }


def _gini_property(case: Case, got: Any) -> str | None:
    (exposure,) = case.args
    try:
        value = float(got)
    except (TypeError, ValueError):
        return f"expected one number, got a {type(got).__name__}"
    x = np.asarray(exposure, dtype=np.float64)
    want = gini(x)
    if np.isclose(value, want, rtol=1e-9, atol=1e-12):
        return None
    for slip, slip_value in _slips(x).items():
        if np.isclose(value, slip_value, rtol=1e-9, atol=1e-12):
            return f"you returned {value:.6g}, which is {slip}"
    return f"you returned {value:.6g}, expected {want:.6g}"


def check_gini(student_fn: Callable[[np.ndarray], float]) -> CheckResult:
    """Check ``my_gini(exposure) -> float`` (chapter 08, exercise 8.4).

    Compared with :func:`course_lib.feedback_loop.gini` on five exposure vectors (equal, all on
    one track, unsorted, a long tail, real-valued); the verdict names the usual slips (not
    sorting, sorting the wrong way, ranks from 0, a sample correction). Handing in the course's
    ``gini`` is refused.
    """
    return run_check(
        student_fn,
        None,
        _cases(),
        name="my_gini",
        properties=[_gini_property],
        forbidden=[gini],
        hint=(
            "the formula in the exercise weights each exposure by its rank among all tracks, "
            "from the least to the most exposed; check your function on two cases you can do "
            "in your head: every track shown equally, and one track shown alone"
        ),
    )
