"""Tests of the exercise-check framework (course_lib.checking), which every chapter uses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from course_lib.checking import Case, CheckResult, compare_values, run_check


def _square(x):
    return np.asarray(x) ** 2


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
    result = run_check(_square, _square, [(1,)])
    first = capsys.readouterr().out
    result._ipython_display_()  # what IPython calls when the check is a cell's last line
    assert first and capsys.readouterr().out == ""
    quiet = run_check(_square, _square, [(1,)], verbose=False)
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


def test_every_verdict_is_logged_for_grading_when_asked(tmp_path, monkeypatch):
    import json

    from course_lib.checking import GRADING_LOG_VARIABLE

    log = tmp_path / "verdicts.jsonl"
    monkeypatch.setenv(GRADING_LOG_VARIABLE, str(log))
    run_check(lambda x: x + 1, lambda x: x + 1, [1, 2], name="good", verbose=False)
    run_check(lambda x: x, lambda x: x + 1, [1], name="bad", verbose=False)

    def stub(x):
        raise NotImplementedError

    run_check(stub, lambda x: x, [1], name="stub", verbose=False)
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["name"], r["status"]) for r in records] == [
        ("good", "correct"),
        ("bad", "wrong"),
        ("stub", "not implemented"),
    ]
    assert records[1]["n_failed"] == 1 and records[1]["problems"]


def test_nothing_is_logged_without_the_variable(tmp_path, monkeypatch):
    from course_lib.checking import GRADING_LOG_VARIABLE

    monkeypatch.delenv(GRADING_LOG_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)
    run_check(lambda x: x, lambda x: x, [1], verbose=False)
    assert list(tmp_path.iterdir()) == []
