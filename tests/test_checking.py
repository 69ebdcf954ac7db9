"""Tests of the exercise-check framework (course_lib.checking), which every chapter uses."""

from __future__ import annotations

import functools
import sys

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from course_lib import checking
from course_lib.checking import USES_REFERENCE, Case, CheckResult, compare_values, run_check


def _square(x):
    return np.asarray(x) ** 2


def _own_square(x):  # a student's: handing in the reference itself is never accepted
    return np.asarray(x) * np.asarray(x)


# --- run_check --------------------------------------------------------------------------------


def test_correct_function_passes_and_prints_correct(capsys):
    result = run_check(lambda x: np.asarray(x) * np.asarray(x), _square, [([1, 2, 3],), (4.0,)])
    assert result.passed and result.status == "correct"
    assert result.n_cases == 2 and result.n_failed == 0
    assert capsys.readouterr().out.startswith("Correct:")


def test_stub_is_reported_as_not_implemented_without_raising(capsys):
    def stub(x):
        raise NotImplementedError("Exercise: your code here")

    result = run_check(stub, _square, [(1,)])
    assert result.status == "not implemented"
    assert not result.passed and not result.implemented
    out = capsys.readouterr().out
    assert out.startswith("Not implemented yet:")
    assert "NotImplementedError" in out


def test_wrong_function_is_rejected_with_the_failing_case_named(capsys):
    result = run_check(
        lambda x: np.asarray(x) * 2,
        _square,
        [Case(([1, 2],), label="small"), Case(([2],), label="two")],
        hint="square, do not double",
    )
    assert result.status == "wrong"
    assert result.n_failed == 1  # 2 * 2 == 2 ** 2: the second case agrees by accident
    out = capsys.readouterr().out
    assert out.startswith("Not quite:")
    assert '"small"' in out and "Hint: square, do not double" in out


def test_exception_in_student_code_is_a_failed_case_with_its_message():
    def broken(x):
        raise KeyError("missing column")

    result = run_check(broken, _square, [(1,), (2,)], verbose=False)
    assert result.status == "wrong" and result.n_failed == 2
    assert "KeyError" in result.problems[0] and "missing column" in result.problems[0]


def test_inputs_are_copied_so_a_mutating_function_cannot_spoil_the_reference():
    def mutating(values):
        values[0] = 100
        return sum(values)

    result = run_check(mutating, lambda values: sum(values) - values[0] + 100, [([1, 2, 3],)])
    assert result.passed


def test_properties_alone_can_reject_an_answer():
    def must_be_positive(case, got):
        return None if got > 0 else f"expected a positive number, got {got}"

    good = run_check(lambda x: x + 1, None, [(0,), (5,)], properties=[must_be_positive])
    bad = run_check(lambda x: x - 1, None, [(0,), (5,)], properties=[must_be_positive])
    assert good.passed and bad.status == "wrong" and bad.n_failed == 1


def test_max_problems_limits_the_listing():
    result = run_check(lambda x: -x, lambda x: x, [(i,) for i in range(1, 8)], max_problems=2)
    assert result.n_failed == 7
    assert len(result.problems) == 3 and "5 more" in result.problems[-1]


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(TypeError, match="without parentheses"):
        run_check(42, _square, [(1,)])
    with pytest.raises(ValueError, match="at least one test case"):
        run_check(_square, _square, [])
    with pytest.raises(ValueError, match="reference_fn or at least one property"):
        run_check(_square, None, [(1,)])


def test_result_is_displayed_once_in_ipython(capsys):
    result = run_check(_own_square, _square, [(1,)])
    first = capsys.readouterr().out
    result._ipython_display_()  # what IPython calls when the check is a cell's last line
    assert first and capsys.readouterr().out == ""
    quiet = run_check(_own_square, _square, [(1,)], verbose=False)
    assert capsys.readouterr().out == ""
    quiet._ipython_display_()
    assert capsys.readouterr().out.startswith("Correct:")
    assert isinstance(quiet, CheckResult) and "Correct" in str(quiet)


# --- compare_values ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "got", "fragment"),
    [
        (np.zeros((2, 3)), np.zeros((3, 2)), "shape (3, 2)"),
        (np.array([1.0, 2.0]), np.array([1.0, 2.5]), "largest difference is at index (1,)"),
        (np.array([1.0, 0.0]), np.array([1.0, np.nan]), "NaN"),
        (np.array([1.0]), None, "returned None"),
        (np.array([1, 2]), np.array(["a", "b"]), "numbers were expected"),
        (3.0, "3.0", "expected a number"),
        (3.0, 3.5, "expected 3, got 3.5"),
        (True, 1, "expected True"),
        ([1, 2], [1, 2, 3], "expected 2 elements, got 3"),
        ((1, [2, 3]), (1, [2, 4]), "at position 1"),
        ({"a": 1}, {"b": 1}, "keys differ"),
        ({"a": 1.0}, {"a": 2.0}, "at key 'a'"),
        (pd.Series([1.0, 2.0]), [1.0, 2.0], "expected a pandas Series"),
        (pd.DataFrame({"x": [1]}), pd.DataFrame({"x": [2]}), "DataFrame differs"),
        ("abc", "abx", "expected 'abc'"),
    ],
)
def test_compare_values_names_the_difference(expected, got, fragment):
    problem = compare_values(expected, got)
    assert problem is not None and fragment in problem


@pytest.mark.parametrize(
    ("expected", "got"),
    [
        (np.array([[1.0, 2.0]]), np.array([[1.0, 2.0 + 1e-9]])),
        (np.array([1.0, np.nan]), np.array([1.0, np.nan])),
        (sp.csr_matrix(np.eye(2)), np.eye(2)),
        (np.eye(2), sp.csr_matrix(np.eye(2))),
        (1, 1.0),
        (np.float32(0.1), 0.1),
        ([1, 2.0], np.array([1, 2])),
        ({"a": [1, 2]}, {"a": (1, 2)}),
        (pd.DataFrame({"x": [1, 2]}), pd.DataFrame({"x": [1.0, 2.0]})),
        ("abc", "abc"),
    ],
)
def test_compare_values_accepts_equal_values(expected, got):
    assert compare_values(expected, got) is None


def test_compare_values_respects_tolerances():
    assert compare_values(1.0, 1.01) is not None
    assert compare_values(1.0, 1.01, rtol=0.05) is None
    assert compare_values(np.array([0.0]), np.array([1e-3]), atol=1e-2) is None


# --- no pass without the work ----------------------------------------------------------------


def _course_share(plays):
    """A stand-in for a course reference defined elsewhere (the real ones follow below)."""
    plays = np.asarray(plays, dtype=float)
    return plays / plays.sum(axis=1, keepdims=True)


def _own_share(plays):
    plays = np.asarray(plays, dtype=float)
    totals = plays.sum(axis=1)[:, None]
    return plays / totals


SHARE_CASES = [([[1, 3], [2, 2]],), ([[5.0, 0.0, 5.0]],)]


def test_an_honest_implementation_passes_while_the_reference_runs_for_the_expected_values():
    result = run_check(_own_share, _course_share, SHARE_CASES, verbose=False)
    assert result.passed and not result.uses
    assert sys.getprofile() is None  # nothing stays installed after the check


def _handed_in_as_is():
    return _course_share


def _called_by_name():
    def share(plays):
        return _course_share(plays)

    return share


def _called_through_its_module():
    module = sys.modules[__name__]

    def share(plays):
        return module._course_share(plays)

    return share


def _default_argument():
    def share(plays, helper=_course_share):
        return helper(plays)

    return share


def _partial():
    return functools.partial(_course_share)


@pytest.mark.parametrize(
    "make",
    [_handed_in_as_is, _called_by_name, _called_through_its_module, _default_argument, _partial],
)
def test_a_function_that_is_or_calls_the_reference_never_passes(make, capsys):
    result = run_check(make(), _course_share, SHARE_CASES, name="play_share")
    assert result.status == USES_REFERENCE and not result.passed and result.implemented
    assert result.uses == [f"{__name__}._course_share"]
    out = capsys.readouterr().out
    assert out.startswith("Not accepted: play_share calls the course's own implementation")
    assert "write it yourself" in out and "_course_share" in out


def test_the_issue_s_hand_ins_of_the_course_s_functions_are_not_accepted():
    from course_lib import ann
    from course_lib.evaluation import confidence
    from course_lib.evaluation.checks import play_share

    def my_confidence(plays, alpha):
        return confidence(plays, alpha)

    def nonzero(case, got):
        return None if got is not None else "returned nothing"

    plays = sp.csr_matrix(np.array([[0, 2], [3, 0]]))
    results = [
        run_check(play_share, play_share, [(np.array([[1, 3]]),)], verbose=False),
        run_check(
            my_confidence,
            None,
            [(plays, 2.0)],
            properties=[nonzero],
            forbidden=[confidence],
            verbose=False,
        ),
        run_check(
            ann.search_candidates,
            None,
            [(None,)],
            properties=[nonzero],
            forbidden=[ann.search_candidates],
            verbose=False,
        ),
    ]  # the last one is never even called: the course's function was handed in as it is
    assert [r.status for r in results] == [USES_REFERENCE] * 3
    assert "course_lib.evaluation.feedback.confidence" in results[1].problems[0]
    assert results[2].uses == ["course_lib.ann.search.search_candidates"]


class _CourseLayer:
    def __call__(self, x):
        return np.asarray(x) * 2


def test_a_subclass_that_calls_the_course_s_class_is_not_accepted():
    class Mine(_CourseLayer):
        def __call__(self, x):
            return super().__call__(x)

    class Honest:
        def __call__(self, x):
            return np.asarray(x) + np.asarray(x)

    def apply(layer_class):  # how a check wraps a class: the watch is by code, not identity
        return lambda x: layer_class()(x)

    reference = _CourseLayer()
    assert (
        run_check(
            apply(Mine), reference, [([1, 2],)], forbidden=[_CourseLayer], verbose=False
        ).status
        == USES_REFERENCE
    )
    assert run_check(
        apply(Honest), reference, [([1, 2],)], forbidden=[_CourseLayer], verbose=False
    ).passed


# --- errors are reported as themselves --------------------------------------------------------


def test_a_library_s_not_implemented_error_is_a_failed_case_with_its_text():
    def my_confidence(plays, alpha):
        return 1 + alpha * plays  # scipy refuses to add a number to a sparse matrix

    def dense_ok(case, got):
        return None

    plays = sp.csr_matrix(np.array([[0, 2], [3, 0]]))
    result = run_check(my_confidence, None, [(plays, 2.0)], properties=[dense_ok], verbose=False)
    assert result.status == "wrong" and result.implemented
    assert "your function raised NotImplementedError" in result.problems[0]
    assert "(from scipy." in result.problems[0]


def test_the_stub_s_own_error_is_not_implemented_even_from_a_helper():
    def helper(x):
        raise NotImplementedError("Exercise 9.9: write helper")

    def stub(x):
        return helper(x)

    assert run_check(stub, _square, [(1,)], verbose=False).status == "not implemented"


def test_an_error_from_a_library_names_the_library():
    result = run_check(lambda x: np.linalg.inv(np.zeros((2, 2))), _square, [(1,)], verbose=False)
    assert "LinAlgError" in result.problems[0] and "(from numpy" in result.problems[0]


# --- the grader's recorder and the facade -----------------------------------------------------


def test_the_grader_s_recorder_collects_every_result_of_its_block():
    from course_lib.checking import _RECORDERS, _record_verdicts

    run_check(_own_square, _square, [1], verbose=False)  # outside the block: not recorded
    with _record_verdicts() as results:
        run_check(_own_square, _square, [1], name="good", verbose=False)
        run_check(lambda x: x, _square, [3], name="bad", verbose=False)
    assert [(r.name, r.status) for r in results] == [("good", "correct"), ("bad", "wrong")]
    assert not _RECORDERS
    assert not hasattr(checking, "GRADING_LOG_VARIABLE")  # no channel through the environment


def test_the_facade_exports_checks_and_no_answers():
    from course_lib import checks

    framework = {"Case", "CheckResult", "LOCATIONS", "compare_values", "run_check"}
    assert set(checks.__all__) == framework | set(checks.LOCATIONS)
    for name in checks.__all__:
        assert name in framework or name.startswith("check_") or name.endswith("_CHOICES"), (
            f"course_lib.checks exports {name!r}, which is neither a check nor a framework name"
        )
    for answer in ("play_share", "enumerate_ips"):
        assert answer not in checks.__all__ and answer not in dir(checks)
        with pytest.raises(AttributeError):
            getattr(checks, answer)
