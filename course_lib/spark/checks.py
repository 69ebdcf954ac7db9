"""Exercise checks of chapter 02b (ALS at scale): regParam from λ, and a CSR matrix as rows.

Taught in chapter 02b (``chapters/02b_als_at_scale.md``, "Exercises"): exercise 2b.1 writes
``my_spark_reg_param`` (checked against :func:`course_lib.spark.spark_reg_param`), exercise 2b.2
``my_plays_to_rows`` (against :func:`course_lib.spark.plays_to_rows`). Chapters call them through
the facade: ``from course_lib import checks; checks.check_spark_reg_param(my_spark_reg_param)``.
No Spark is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from course_lib.checking import Case, CheckResult, run_check
from course_lib.evaluation import random_plays
from course_lib.spark.model import spark_reg_param
from course_lib.spark.rows import plays_to_rows

__all__ = ["check_plays_to_rows", "check_spark_reg_param"]


def _check_matrices() -> list[tuple[str, sp.csr_matrix]]:
    dense = random_plays(n_users=9, n_items=7, density=0.35, seed=11, max_count=5).toarray()
    dense[3] = 0  # a user without plays
    dense[:, 5] = 0  # an item without listeners
    with_gaps = sp.csr_matrix(dense)
    explicit_zero = sp.csr_matrix(
        (np.array([2, 0, 3], np.int32), (np.array([0, 1, 2]), np.array([1, 0, 2]))),
        shape=(4, 3),
    )
    skewed = sp.csr_matrix(
        (np.ones(7, np.int32), (np.array([0] * 5 + [1, 2]), np.array([0, 1, 2, 3, 4, 0, 0]))),
        shape=(3, 5),
    )
    return [
        ("a user without plays and an item without listeners", with_gaps),
        ("a matrix that stores an explicit zero", explicit_zero),
        ("one heavy user", skewed),
    ]


def check_spark_reg_param(
    my_spark_reg_param: Callable[[float, sp.csr_matrix], float],
) -> CheckResult:
    """Check ``my_spark_reg_param(regularization, plays) -> float`` against
    :func:`spark_reg_param` with ``match="mean"``, on matrices with empty rows and columns.
    """
    cases = [
        Case(args=(lam, matrix), label=label)
        for lam, (label, matrix) in zip((0.1, 2.0, 0.5), _check_matrices())
    ]
    return run_check(
        my_spark_reg_param,
        lambda lam, matrix: spark_reg_param(lam, matrix, match="mean"),
        cases,
        name="my_spark_reg_param",
        rtol=1e-6,
        hint=(
            "count only users and items that have at least one play (Spark never sees the "
            "others), and make regParam times the average number of plays per active row "
            "(users and items together) equal to λ."
        ),
    )


def _same_rows(expected: Any, got: Any) -> str | None:
    if not isinstance(got, tuple | list) or len(got) != 3:
        return "return a tuple of three arrays: (user, item, plays)"
    try:
        got_cols = [np.asarray(column).ravel() for column in got]
    except Exception:  # noqa: BLE001 - anything not array-like is a wrong answer
        return "the three results must be arrays"
    if len({column.size for column in got_cols}) != 1:
        return f"the three arrays have different lengths {[c.size for c in got_cols]}"
    if got_cols[0].size != expected[0].size:
        return f"expected {expected[0].size} rows (one per nonzero entry), got {got_cols[0].size}"
    order = np.lexsort((got_cols[1], got_cols[0]))  # any row order is fine
    for name, want, column in zip(("user", "item", "plays"), expected, got_cols):
        if not np.allclose(np.asarray(column[order], dtype=np.float64), want):
            return f"the {name} column differs from the expected one"
    return None


def check_plays_to_rows(my_plays_to_rows: Callable[[sp.csr_matrix], tuple]) -> CheckResult:
    """Check ``my_plays_to_rows(plays) -> (user, item, plays)`` against :func:`plays_to_rows`.

    Any row order is accepted; explicit zeros must be dropped.
    """
    return run_check(
        my_plays_to_rows,
        plays_to_rows,
        [Case(args=(matrix,), label=label) for label, matrix in _check_matrices()],
        name="my_plays_to_rows",
        compare=_same_rows,
        hint=(
            "row u of a CSR matrix owns the entries indptr[u]:indptr[u + 1]; np.repeat of the "
            "user ids by np.diff(indptr) gives the user column. Drop stored zeros first "
            "(plays.eliminate_zeros() on a copy)."
        ),
    )
