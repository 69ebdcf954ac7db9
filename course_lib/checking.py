"""The exercise-check framework: compare a student's function with the reference, in plain words.

Every chapter's exercises use it; chapter 00 (welcome) introduces it. An exercise cell defines a
stub that ends in ``raise NotImplementedError``; the next cell calls a check (from the facade
:mod:`course_lib.checks`). A check runs the student's function and the tested reference on a few
small cases and prints one verdict:

* ``Correct``: every case matches;
* ``Not quite``: what differs, case by case, and a hint;
* ``Not implemented yet``: the function still raises the stub's own ``NotImplementedError``.
  This is *not* an error, so a chapter with unsolved exercises still runs from top to bottom. A
  ``NotImplementedError`` raised inside a library the function calls (scipy refuses
  ``1 + sparse_matrix`` that way) is reported as that error, like any other;
* ``Not accepted``: the function is, or calls, the course's own implementation of the exercise
  (the reference, or one of the check's ``forbidden`` callables). Handing in the course's
  function never passes.

The building blocks are :class:`Case`, :class:`CheckResult`, :func:`run_check` (student vs
reference, or student vs a property) and :func:`compare_values` (the default comparison: arrays,
sparse matrices, data frames, numbers, sequences and mappings, with a message that names the
first difference). Each topic's own checks live beside the topic (``course_lib/als/checks.py``
...) and import only this module from the framework side; this module imports nothing else from
``course_lib`` but its private helper :mod:`course_lib._watch`, so no import circle can form.

``tools/grade.py`` does not trust what a student's notebook printed: after the student's cells
it loads this module afresh, runs each check again and collects the results with
:func:`_record_verdicts`.
"""

from __future__ import annotations

import copy
import math
import textwrap
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from course_lib._watch import code_objects, qualified_name, raised_in_library, watch_calls

__all__ = [
    "USES_REFERENCE",
    "Case",
    "CheckResult",
    "Comparison",
    "Property",
    "compare_values",
    "run_check",
]

Status = Literal["correct", "wrong", "not implemented", "uses the course's implementation"]
#: The status of a function that is, or calls, the course's own implementation of the exercise.
USES_REFERENCE: Status = "uses the course's implementation"
Comparison = Callable[[Any, Any], "str | None"]
Property = Callable[["Case", Any], "str | None"]

_HEADLINES = {
    "correct": "Correct",
    "wrong": "Not quite",
    "not implemented": "Not implemented yet",
    USES_REFERENCE: "Not accepted",
}


@dataclass(frozen=True)
class Case:
    """One input on which a student's function is tried.

    Parameters
    ----------
    args, kwargs
        Positional and keyword arguments passed to the function (deep-copied for each call, so a
        function that modifies its input cannot spoil the next call).
    label
        A few words that describe the case in a verdict, e.g. ``"a user with no plays"``.
    """

    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""


@dataclass
class CheckResult:
    """The outcome of one check; printed as a plain-words verdict.

    Attributes
    ----------
    name
        What was checked (usually the exercise's function name).
    status
        ``"correct"``, ``"wrong"``, ``"not implemented"`` or ``"uses the course's
        implementation"`` (:data:`USES_REFERENCE`).
    n_cases, n_failed
        How many cases were tried and how many did not match.
    problems
        One sentence per failing case.
    hint
        Shown under a ``"wrong"`` verdict.
    uses
        The course callables the function ran (status :data:`USES_REFERENCE`).
    """

    name: str
    status: Status
    n_cases: int = 0
    n_failed: int = 0
    problems: list[str] = field(default_factory=list)
    hint: str | None = None
    uses: list[str] = field(default_factory=list)
    _shown: bool = field(default=False, repr=False, compare=False)

    @property
    def passed(self) -> bool:
        """True when every case matched."""
        return self.status == "correct"

    @property
    def implemented(self) -> bool:
        """False while the function still raises ``NotImplementedError``."""
        return self.status != "not implemented"

    def verdict(self) -> str:
        """The verdict as printed in the notebook (wrapped to 88 columns)."""
        head = f"{_HEADLINES[self.status]}: {self.name}"
        if self.status == "correct":
            return _wrap(f"{head} gives the expected answer on all {self.n_cases} test cases.")
        if self.status == "not implemented":
            return _wrap(
                f"{head} still raises NotImplementedError. Replace that line with your code, "
                "run the cell that defines the function again, then run this check."
            )
        if self.status == USES_REFERENCE:
            return _wrap(
                f"{head} calls the course's own implementation ({', '.join(self.uses)}); "
                "write it yourself."
            )
        lines = [_wrap(f"{head} is wrong on {self.n_failed} of {self.n_cases} test cases.")]
        lines += [_wrap(problem, first="  - ", rest="    ") for problem in self.problems]
        if self.hint:
            lines.append(_wrap(f"Hint: {self.hint}", first="  ", rest="  "))
        return "\n".join(lines)

    def show(self) -> None:
        """Print the verdict (once; displaying the result again in IPython adds nothing)."""
        print(self.verdict())
        self._shown = True

    def __str__(self) -> str:
        return self.verdict()

    def _ipython_display_(self) -> None:
        # ``run_check`` has already printed the verdict; a check called as the last line of a cell
        # would otherwise print it a second time.
        if not self._shown:
            self.show()


def _wrap(text: str, first: str = "", rest: str = "  ") -> str:
    return textwrap.fill(
        text, width=88, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False
    )


def _call(
    fn: Callable[..., Any],
    case: Case,
    codes: Mapping[Any, str] | None = None,
    entered: list[str] | None = None,
) -> Any:
    """Call ``fn`` on a deep copy of the case; numpy's RuntimeWarnings (0 / 0, overflow) are
    silenced because the verdict describes their consequence (NaN, inf) in words. The names of
    the course callables of ``codes`` that ran during the call (not the copy) go to ``entered``.
    """
    args, kwargs = copy.deepcopy(case.args), copy.deepcopy(dict(case.kwargs))
    with warnings.catch_warnings(), np.errstate(all="ignore"), watch_calls(codes or {}) as names:
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            return fn(*args, **kwargs)
        finally:
            if entered is not None:
                entered.extend(names)


def _kind(value: Any) -> str:
    return type(value).__name__


def _is_sparse(value: Any) -> bool:
    return bool(sp.issparse(value))


def _compare_arrays(expected: np.ndarray, got: Any, rtol: float, atol: float) -> str | None:
    if _is_sparse(got):
        got = got.toarray()
    try:
        got_array = np.asarray(got)
    except Exception:  # noqa: BLE001 - any failure means "not array-like"
        return f"expected an array, got a {_kind(got)}"
    if got_array.shape != expected.shape:
        return f"the result has shape {got_array.shape}, but it should have shape {expected.shape}"
    if expected.dtype.kind in "biufc" and got_array.dtype.kind not in "biufc":
        return f"the result holds {got_array.dtype} values; numbers were expected"
    if expected.dtype.kind not in "biufc":
        mismatch = expected != got_array
        if not np.any(mismatch):
            return None
        index = tuple(int(i) for i in np.argwhere(mismatch)[0])
        return f"entry {index} is {got_array[index]!r}, but it should be {expected[index]!r}"
    got_f = got_array.astype(np.complex128 if got_array.dtype.kind == "c" else np.float64)
    exp_f = expected.astype(np.complex128 if expected.dtype.kind == "c" else np.float64)
    nan_got, nan_exp = np.isnan(got_f), np.isnan(exp_f)
    if np.any(nan_got & ~nan_exp):
        index = tuple(int(i) for i in np.argwhere(nan_got & ~nan_exp)[0])
        return (
            f"the result contains NaN (first at index {index}, where {exp_f[index]:.6g} was "
            "expected); look for a division by zero"
        )
    close = np.isclose(got_f, exp_f, rtol=rtol, atol=atol, equal_nan=True)
    if np.all(close):
        return None
    wrong = np.argwhere(~close)
    diff = np.where(close, 0.0, np.abs(got_f - exp_f))
    worst = tuple(int(i) for i in np.unravel_index(int(np.nanargmax(diff)), diff.shape))
    return (
        f"{len(wrong)} of {exp_f.size} entries differ; the largest difference is at index "
        f"{worst}: expected {exp_f[worst]:.6g}, got {got_f[worst]:.6g}"
    )


def compare_values(
    expected: Any, got: Any, *, rtol: float = 1e-6, atol: float = 1e-8
) -> str | None:
    """Compare a result with the expected value.

    Numbers and arrays are compared with a relative tolerance ``rtol`` and an absolute tolerance
    ``atol`` (as :func:`numpy.isclose`); sparse matrices as dense arrays; pandas objects with
    :func:`pandas.testing.assert_frame_equal` / ``assert_series_equal`` (dtypes not compared);
    sequences and mappings element by element; anything else with ``==``.

    Returns
    -------
    str or None
        ``None`` when the values match, otherwise one sentence saying what differs.
    """
    if got is None and expected is not None:
        return "your function returned None; did you forget the `return` statement?"
    if _is_sparse(expected):
        expected = expected.toarray()
    if isinstance(expected, np.ndarray):
        return _compare_arrays(expected, got, rtol, atol)
    pandas_kind = type(expected).__module__.split(".")[0] == "pandas"
    if pandas_kind and _kind(expected) in ("DataFrame", "Series"):
        import pandas as pd

        if _kind(got) != _kind(expected):
            return f"expected a pandas {_kind(expected)}, got a {_kind(got)}"
        assert_equal = (
            pd.testing.assert_frame_equal
            if _kind(expected) == "DataFrame"
            else pd.testing.assert_series_equal
        )
        try:
            assert_equal(got, expected, check_dtype=False, rtol=rtol, atol=atol)
        except AssertionError as error:
            first_line = str(error).strip().splitlines()[0]
            return f"the {_kind(expected)} differs: {first_line}"
        return None
    if isinstance(expected, bool | np.bool_):
        if isinstance(got, bool | np.bool_) and bool(got) == bool(expected):
            return None
        return f"expected {bool(expected)}, got {got!r}"
    if isinstance(expected, int | float | np.number):
        if isinstance(got, np.ndarray) and got.shape == ():
            got = got.item()
        if not isinstance(got, int | float | np.number) or isinstance(got, bool | np.bool_):
            return f"expected a number, got a {_kind(got)} ({got!r})"
        if math.isnan(float(got)) and not math.isnan(float(expected)):
            return f"got NaN, expected {float(expected):.6g}; look for a division by zero"
        if math.isclose(float(got), float(expected), rel_tol=rtol, abs_tol=atol):
            return None
        return f"expected {float(expected):.6g}, got {float(got):.6g}"
    if isinstance(expected, Mapping):
        if not isinstance(got, Mapping):
            return f"expected a mapping (dict), got a {_kind(got)}"
        missing = [key for key in expected if key not in got]
        extra = [key for key in got if key not in expected]
        if missing or extra:
            return f"keys differ: missing {missing!r}, unexpected {extra!r}"
        for key in expected:
            problem = compare_values(expected[key], got[key], rtol=rtol, atol=atol)
            if problem:
                return f"at key {key!r}: {problem}"
        return None
    if isinstance(expected, list | tuple):
        if isinstance(got, np.ndarray):
            got = got.tolist()
        if not isinstance(got, list | tuple):
            return f"expected a {_kind(expected)}, got a {_kind(got)}"
        if len(got) != len(expected):
            return f"expected {len(expected)} elements, got {len(got)}"
        for position, (exp_item, got_item) in enumerate(zip(expected, got, strict=True)):
            problem = compare_values(exp_item, got_item, rtol=rtol, atol=atol)
            if problem:
                return f"at position {position}: {problem}"
        return None
    try:
        equal = bool(expected == got)
    except Exception:  # noqa: BLE001 - an incomparable value is a mismatch
        equal = False
    return None if equal else f"expected {expected!r}, got {got!r}"


def _as_case(case: Case | tuple[Any, ...] | Any) -> Case:
    if isinstance(case, Case):
        return case
    if isinstance(case, tuple):
        return Case(args=case)
    return Case(args=(case,))


def _describe(case: Case, position: int) -> str:
    return f'case {position + 1} ("{case.label}")' if case.label else f"case {position + 1}"


def run_check(
    student_fn: Callable[..., Any],
    reference_fn: Callable[..., Any] | None,
    cases: Iterable[Case | tuple[Any, ...] | Any],
    *,
    name: str | None = None,
    compare: Comparison | None = None,
    properties: Sequence[Property] = (),
    hint: str | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    max_problems: int = 3,
    verbose: bool = True,
    forbidden: Iterable[Any] = (),
) -> CheckResult:
    """Run a student's function on test cases and report, in plain words, whether it is right.

    For each case the function is called on a deep copy of the inputs, with numpy's
    ``RuntimeWarning`` silenced (the verdict reports NaN or inf in words). Its output is compared
    with ``reference_fn``'s output on the same case (``compare``, by default
    :func:`compare_values`) and then checked against each of ``properties``.

    Three outcomes end the check early. The stub's own ``NotImplementedError`` (raised by the
    student's code, not inside a library it calls) gives the status ``"not implemented"``. A
    function that is, or runs, ``reference_fn`` or one of ``forbidden`` while it is called gives
    :data:`USES_REFERENCE` and never passes: whatever the path (an alias, a module attribute, a
    wrapper), the check notices that the course's code started running. Any other exception,
    a library's ``NotImplementedError`` included, counts as a failed case and its message is
    shown, with the library module that raised it.

    Parameters
    ----------
    student_fn
        The function written in the exercise.
    reference_fn
        The tested implementation from ``course_lib``; ``None`` to check only ``properties``.
    cases
        :class:`Case` objects, or tuples of positional arguments, or single arguments.
    name
        How the verdict names the function (default: ``student_fn.__name__``).
    compare
        ``compare(expected, got) -> None`` if they match, else a sentence saying what differs.
    properties
        Extra conditions ``prop(case, got) -> None or sentence``, e.g. "rows sum to one".
    hint
        A sentence shown under a wrong verdict.
    rtol, atol
        Tolerances of the default comparison.
    max_problems
        At most this many failing cases are described.
    verbose
        Print the verdict (default). The result is returned either way.
    forbidden
        More callables that are the course's implementation of the exercise (functions,
        classes: every method of the class body, bound methods, partials), besides
        ``reference_fn``; needed where ``reference_fn`` is ``None`` or a lambda around them.

    Returns
    -------
    CheckResult

    Raises
    ------
    TypeError
        If ``student_fn`` is not callable (e.g. the result of calling it was passed instead).
    ValueError
        If there are no cases, or neither a reference nor properties to check against.
    """
    if not callable(student_fn):
        raise TypeError(
            f"expected your function itself, got a {_kind(student_fn)}; "
            "pass the name without parentheses, e.g. check(my_function), not check(my_function())"
        )
    case_list = [_as_case(case) for case in cases]
    if not case_list:
        raise ValueError("run_check needs at least one test case")
    if reference_fn is None and not properties:
        raise ValueError("give a reference_fn or at least one property to check against")
    label = name or getattr(student_fn, "__name__", "your function")
    comparison: Comparison = compare or (
        lambda expected, got: compare_values(expected, got, rtol=rtol, atol=atol)
    )
    course_callables = [c for c in (reference_fn, *forbidden) if c is not None]
    codes = code_objects(course_callables)
    # the course's function handed in itself (a built-in one has no code to watch)
    uses = [qualified_name(c) for c in course_callables if c is student_fn]
    problems: list[str] = []
    n_failed = 0
    status: Status = USES_REFERENCE if uses else "correct"
    for position, case in enumerate([] if uses else case_list):
        where = _describe(case, position)
        error: Exception | None = None
        entered: list[str] = []
        try:
            got = _call(student_fn, case, codes, entered)
        except Exception as raised:  # noqa: BLE001 - reported below, in words
            error = raised
        if entered:
            uses, status = entered, USES_REFERENCE
            break
        if isinstance(error, NotImplementedError) and raised_in_library(error) is None:
            status = "not implemented"
            break
        if error is not None:
            library = raised_in_library(error)
            origin = f" (from {library})" if library else ""
            n_failed += 1
            problems.append(f"{where}: your function raised {_kind(error)}: {error}{origin}")
            continue
        problem: str | None = None
        if reference_fn is not None:
            expected = _call(reference_fn, case)
            problem = comparison(expected, got)
        for prop in properties:
            if problem:
                break
            problem = prop(case, got)
        if problem:
            n_failed += 1
            problems.append(f"{where}: {problem}")
    if status == "correct" and n_failed:
        status = "wrong"
    if len(problems) > max_problems:
        hidden = len(problems) - max_problems
        problems = [*problems[:max_problems], f"... and {hidden} more case(s)"]
    if status == USES_REFERENCE:
        problems = [f"it calls the course's own implementation ({', '.join(uses)})"]
    result = CheckResult(
        name=label,
        status=status,
        n_cases=len(case_list),
        n_failed=n_failed,
        problems=problems if status in ("wrong", USES_REFERENCE) else [],
        hint=hint if status == "wrong" else None,
        uses=list(uses) if status == USES_REFERENCE else [],
    )
    for record in _RECORDERS:
        record(result)
    if verbose:
        result.show()
    return result


_RECORDERS: list[Callable[[CheckResult], None]] = []


@contextmanager
def _record_verdicts() -> Iterator[list[CheckResult]]:
    """Collect every :class:`CheckResult` that :func:`run_check` returns within the block.

    How ``tools/grade.py`` reads the verdicts: it loads this module afresh in the student's
    kernel, after the student's cells, and runs the handout's check cells inside this block.
    """
    results: list[CheckResult] = []
    record = results.append
    _RECORDERS.append(record)
    try:
        yield results
    finally:
        _RECORDERS.remove(record)
