"""Exercise checks of chapter 02b (ALS at scale).

Taught in chapter 02b (``chapters/02b_als_at_scale.md``): exercise 2b.1 writes
``my_plays_to_rows`` (checked against :func:`course_lib.spark.plays_to_rows`), exercise 2b.2
``my_spark_reg_param`` (against :func:`course_lib.spark.spark_reg_param`), 2b.3 ``my_marginal_cost``
(against :func:`course_lib.spark.marginal_core_seconds_per_play`), 2b.4 ``my_nodes_needed``
(against :func:`course_lib.spark.cluster_estimate`), 2b.5 ``my_ridge_spread`` (Spark's
per-user ridge against ``λ``). Chapters call them through
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
from course_lib.spark.scaling import cluster_estimate, marginal_core_seconds_per_play

__all__ = [
    "check_marginal_cost",
    "check_nodes_needed",
    "check_plays_to_rows",
    "check_ridge_spread",
    "check_spark_reg_param",
]


def _check_matrices() -> list[tuple[str, sp.csr_matrix]]:
    dense = random_plays(n_users=9, n_items=7, density=0.35, seed=11, max_count=5).toarray()
    dense[3] = 0  # a user without plays
    dense[:, 5] = 0  # an item without listeners
    with_gaps = sp.csr_matrix(dense)
    explicit_zero = sp.csr_matrix(  # user 1 and item 0 hold only a stored zero
        (np.array([2, 0, 3, 1], np.int32), (np.array([0, 1, 2, 0]), np.array([1, 0, 2, 2]))),
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


def _reg_param_slips(lam: float, matrix: sp.csr_matrix) -> dict[str, float]:
    stored = sp.csr_matrix(matrix)
    played = stored.copy()
    played.eliminate_zeros()
    n_pairs = played.nnz
    users = int(np.count_nonzero(np.diff(played.indptr)))
    items = int(np.count_nonzero(np.diff(played.tocsc().indptr)))
    n_rows, n_columns = matrix.shape
    return {
        "it counts every user and item, also those without plays; Spark never sees those, "
        "so count only the rows and columns with at least one play": lam
        * (n_rows + n_columns)
        / (2 * n_pairs),
        "it counts stored zeros as plays; a stored zero is not a play": lam
        * (
            np.count_nonzero(np.diff(stored.indptr))
            + np.count_nonzero(np.diff(stored.tocsc().indptr))
        )
        / (2 * stored.nnz),
        "it matches the users' average ridge only; the exercise averages over the users and "
        "the items together": lam * users / n_pairs,
        "it matches the items' average ridge only; the exercise averages over the users and "
        "the items together": lam * items / n_pairs,
        "it is upside down: regParam times the average number of plays must give λ, so a "
        "larger λ needs a larger regParam": (users + items) / (2 * n_pairs) / lam,
        "it counts the plays (the sum of the counts); a row's ridge grows with the number of "
        "items it played, not with how often": lam * (users + items) / (2 * played.sum()),
        "it averages the users' mean and the items' mean; the exercise averages over every "
        "active row at once": lam / ((n_pairs / users + n_pairs / items) / 2),
    }


def _reg_param_property(case: Case, got: Any) -> str | None:
    lam, matrix = case.args
    want = spark_reg_param(lam, matrix, match="mean")
    try:
        value = float(np.asarray(got).item())
    except (TypeError, ValueError):
        return f"expected one number, got a {type(got).__name__}"
    if np.isclose(value, want, rtol=1e-6):
        return None
    for slip, slip_value in _reg_param_slips(lam, matrix).items():
        if np.isclose(value, slip_value, rtol=1e-6):
            return slip
    return f"expected {want:.6g}, got {value:.6g}"


def check_spark_reg_param(
    my_spark_reg_param: Callable[[float, sp.csr_matrix], float],
) -> CheckResult:
    """Check ``my_spark_reg_param(regularization, plays) -> float`` against
    :func:`spark_reg_param` with ``match="mean"`` (not accepted as an answer), on matrices with
    empty rows and columns, a stored zero and one heavy user.

    The verdict names the usual slips: every row counted (also those without plays), stored
    zeros counted as plays, users only or items only, the ratio upside down, the play counts
    summed instead of the played items counted, and the mean of the two means.
    """
    cases = [
        Case(args=(lam, matrix), label=label)
        for lam, (label, matrix) in zip((0.1, 2.0, 0.5), _check_matrices())
    ]
    return run_check(
        my_spark_reg_param,
        None,
        cases,
        name="my_spark_reg_param",
        properties=[_reg_param_property],
        forbidden=[spark_reg_param],
        hint=(
            "reread section 3: which rows does Spark ever see, what does it multiply regParam "
            "by in a row's normal equations, and over which rows does the exercise average "
            "that ridge?"
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
    if got_cols[0].size > expected[0].size and np.any(got_cols[2] == 0):
        return (
            f"it returns {got_cols[0].size} rows, {expected[0].size} expected: it keeps the "
            "stored zeros, which are not plays"
        )
    if got_cols[0].size != expected[0].size:
        return f"expected {expected[0].size} rows (one per nonzero entry), got {got_cols[0].size}"
    order = np.lexsort((got_cols[1], got_cols[0]))  # any row order is fine
    columns = [np.asarray(column[order], dtype=np.float64) for column in got_cols]
    swapped = np.lexsort((got_cols[0], got_cols[1]))
    if np.allclose(got_cols[0][swapped], expected[1]) and np.allclose(
        got_cols[1][swapped], expected[0]
    ):
        return "the user and item columns are swapped: rows of the matrix are users"
    for name, want, column in zip(("user", "item", "plays"), expected, columns):
        if not np.allclose(column, want):
            return f"the {name} column differs from the expected one"
    return None


def check_plays_to_rows(my_plays_to_rows: Callable[[sp.csr_matrix], tuple]) -> CheckResult:
    """Check ``my_plays_to_rows(plays) -> (user, item, plays)`` against :func:`plays_to_rows`
    (not accepted as an answer).

    Any row order is accepted; explicit zeros must be dropped. The cases hold a user without
    plays, an item without listeners, a stored zero and one heavy user; the verdict names kept
    zeros and swapped columns.
    """
    return run_check(
        my_plays_to_rows,
        plays_to_rows,
        [Case(args=(matrix,), label=label) for label, matrix in _check_matrices()],
        name="my_plays_to_rows",
        compare=_same_rows,
        hint=(
            "a CSR matrix already stores each played pair's item and count; what it stores "
            "for the users is where each user's entries start and end. How many times must "
            "each user id appear? A stored zero is not a play, and the caller's matrix should "
            "stay as it was."
        ),
    )


# ---------------------------------------------------------------------------------------------
# Exercise 2b.4: nodes for a job
# ---------------------------------------------------------------------------------------------
def _nodes(
    core_seconds: float, n_users: float, per_user: float, it: int, hours: float, cores: int
) -> float:
    return core_seconds * n_users * per_user * it / (hours * 3600.0 * cores)


def _nodes_property(case: Case, got: Any) -> str | None:
    core_seconds, n_users, per_user, it, hours, cores = case.args
    want = cluster_estimate(
        core_seconds,
        n_users=n_users,
        plays_per_user=per_user,
        iterations=it,
        hours=hours,
        cores_per_node=cores,
    ).nodes
    try:
        value = float(np.asarray(got, dtype=np.float64).item())
    except (TypeError, ValueError):
        return f"expected one number (the nodes), got {type(got).__name__}"
    if np.isclose(value, want, rtol=1e-6) or value == np.ceil(want):
        return None
    slips = {
        "it leaves out the iterations: the job runs every iteration in the time budget": _nodes(
            core_seconds, n_users, per_user, 1, hours, cores
        ),
        "it divides core-seconds by hours: convert the budget to seconds (x 3600)": _nodes(
            core_seconds, n_users, per_user, it, hours / 3600.0, cores
        ),
        "it counts cores, not nodes: divide by the cores of one node": _nodes(
            core_seconds, n_users, per_user, it, hours, 1
        ),
        "it multiplies by the cores of a node; a node of more cores does more work, so "
        "fewer nodes are needed": _nodes(core_seconds, n_users, per_user, it, hours, 1) * cores,
        "it counts the users, not the played pairs (users x plays per user)": _nodes(
            core_seconds, n_users, 1.0, it, hours, cores
        ),
    }
    for slip, slip_value in slips.items():
        if np.isclose(value, slip_value, rtol=1e-6):
            return slip
    return f"expected {want:.6g} nodes, got {value:.6g}"


def check_nodes_needed(my_nodes_needed: Callable[..., float]) -> CheckResult:
    """Check ``my_nodes_needed(core_seconds_per_play, n_users, plays_per_user, iterations,
    hours, cores_per_node) -> float`` (chapter 02b, exercise 2b.4).

    Compared with :func:`course_lib.spark.cluster_estimate`'s ``nodes`` (not accepted as an
    answer; the value rounded up to a whole node passes too). The verdict names the usual
    slips: no iterations, hours not converted to seconds, cores instead of nodes, the cores of
    a node multiplied, users instead of played pairs.
    """
    cases = [
        Case((2e-6, 60e6, 300.0, 20, 4.0, 8), label="Spotify's catalogue, 300 plays per user"),
        Case((5e-5, 1e6, 50.0, 10, 2.0, 16), label="1 million users, 50 plays each, 16 cores"),
        Case((1e-6, 2e5, 1000.0, 3, 0.5, 4), label="half an hour, 4 cores a node"),
    ]
    return run_check(
        my_nodes_needed,
        None,
        cases,
        name="my_nodes_needed",
        properties=[_nodes_property],
        forbidden=[cluster_estimate],
        hint="follow the units: core-seconds per played pair and iteration, times what, gives "
        "the core-seconds of the whole job? And how many core-seconds does one node give "
        "within the budget?",
    )


# ---------------------------------------------------------------------------------------------
# Exercise 2b.3: the marginal cost of a played pair
# ---------------------------------------------------------------------------------------------
def _marginal_property(case: Case, got: Any) -> str | None:
    n_plays, seconds, cores = case.args
    want = marginal_core_seconds_per_play(n_plays, seconds, cores)
    try:
        value = float(np.asarray(got, dtype=np.float64).item())
    except (TypeError, ValueError):
        return f"expected one number (core-seconds per play), got {type(got).__name__}"
    if not np.isfinite(value):
        return "it returned NaN or inf: a skipped timing (NaN) must be left out of the fit"
    if np.isclose(value, want, rtol=1e-6):
        return None
    x, y = np.asarray(n_plays, np.float64), np.asarray(seconds, np.float64)
    keep = np.isfinite(y)
    x, y = x[keep], y[keep]
    largest = np.argmax(x)
    slips = {
        "it forgot the cores: a second of wall-clock time on c cores is c core-seconds": want
        / cores,
        "it divides the time at the largest size by its plays; that ratio still holds the "
        "fixed cost of an iteration. Fit a straight line through all sizes and take its "
        "slope": y[largest] / x[largest] * cores,
        "it averages seconds / plays over the sizes, which keeps the fixed cost; take the "
        "slope of a fitted line": float(np.mean(y / x)) * cores,
        "its line goes through the origin (no intercept), so the fixed cost leaks into the "
        "slope": float(x @ y / (x @ x)) * cores,
        "it returns the intercept of the line, not its slope": float(np.polyfit(x, y, 1)[1])
        * cores,
    }
    for slip, slip_value in slips.items():
        if np.isclose(value, slip_value, rtol=1e-6):
            return slip
    return f"expected {want:.6g} core-seconds per play, got {value:.6g}"


def check_marginal_cost(my_marginal_cost: Callable[..., float]) -> CheckResult:
    """Check ``my_marginal_cost(n_plays, seconds_per_iteration, cores) -> float`` (ex. 2b.3).

    The least-squares slope of seconds per iteration against played pairs, times the cores,
    as :func:`course_lib.spark.marginal_core_seconds_per_play` (not accepted as an answer)
    computes it, on timings with a fixed cost per iteration, noise, unsorted sizes and one
    skipped (NaN) timing. The verdict names the usual slips: no cores, the ratio at the largest
    size or the mean ratio, a line through the origin, the intercept.
    """
    rng = np.random.default_rng(5)
    cases = []
    for sizes, fixed, per_play, cores, label in (
        ([1e5, 2e5, 4e5, 8e5], 0.4, 2e-6, 2, "four sizes, a fixed cost of 0.4 s"),
        ([3e6, 1e6, 2e6], 1.5, 5e-7, 8, "three sizes, not sorted, 8 cores"),
        ([1e4, 5e4, 2e5, 4e5, 8e5], 0.05, 1e-6, 4, "five sizes, one timing skipped"),
    ):
        x = np.array(sizes)
        y = fixed + per_play * x * (1 + rng.normal(scale=0.05, size=x.size))
        if "skipped" in label:
            y[1] = np.nan
        cases.append(Case((x, y, cores), label=label))
    return run_check(
        my_marginal_cost,
        None,
        cases,
        name="my_marginal_cost",
        properties=[_marginal_property],
        forbidden=[marginal_core_seconds_per_play],
        hint="an iteration costs a fixed part plus a part per played pair: which number of a "
        "straight-line fit is the second, what is it in, and what does a NaN timing do to a "
        "fit?",
    )


# ---------------------------------------------------------------------------------------------
# Exercise 2b.5: how far Spark's ridge strays from λ
# ---------------------------------------------------------------------------------------------
def _ridge_share(
    lam: float,
    matrix: sp.csr_matrix,
    factor: float,
    match: str = "mean",
    active_only: bool = True,
    sides: str = "both",
    strict: bool = True,
) -> float:
    played = sp.csr_matrix(matrix, copy=True)
    played.eliminate_zeros()
    n_u = np.diff(played.indptr).astype(np.float64)
    ridge = spark_reg_param(lam, played, match=match) * n_u
    if active_only:
        ridge = ridge[n_u > 0]
    above, below = (
        (ridge > factor * lam, ridge < lam / factor)
        if strict
        else (ridge >= factor * lam, ridge <= lam / factor)
    )
    off = {"both": above | below, "above": above, "below": below}[sides]
    return float(np.mean(off))


def _ridge_property(case: Case, got: Any) -> str | None:
    lam, matrix, factor = case.args
    want = _ridge_share(lam, matrix, factor)
    try:
        value = float(np.asarray(got, dtype=np.float64).item())
    except (TypeError, ValueError):
        return f"expected one number (a share of the users), got {type(got).__name__}"
    if np.isclose(value, want, rtol=1e-9, atol=1e-12):
        return None
    if np.isclose(value, 100 * want, rtol=1e-9):
        return "it returns a percentage; return a share between 0 and 1"
    slips = {
        "it counts the users without plays too; Spark never sees them": _ridge_share(
            lam, matrix, factor, active_only=False
        ),
        "it counts only the users above factor x λ; those below λ / factor stray too": _ridge_share(
            lam, matrix, factor, sides="above"
        ),
        "it counts only the users below λ / factor; those above factor x λ stray too": _ridge_share(
            lam, matrix, factor, sides="below"
        ),
        "it matches regParam on the users only; use exercise 2b.2's regParam (users and "
        "items together)": _ridge_share(lam, matrix, factor, match="users"),
    }
    for slip, slip_value in slips.items():
        if np.isclose(value, slip_value, rtol=1e-9, atol=1e-12):
            return slip
    return f"expected a share of {want:.4f}, got {value:.4f}"


def check_ridge_spread(my_ridge_spread: Callable[..., float]) -> CheckResult:
    """Check ``my_ridge_spread(regularization, plays, factor) -> float`` (exercise 2b.5).

    The share of the users with plays whose Spark ridge ``regParam * n_u`` (``regParam`` from
    :func:`course_lib.spark.spark_reg_param`, which is not accepted as an answer: use your
    exercise 2b.2) is more than ``factor`` times ``λ`` or less than ``λ / factor``. The cases
    hold a user without plays, a stored zero and one heavy user. The verdict names the usual
    slips: users without plays counted, one side only, regParam matched on the users only, a
    percentage.
    """
    cases = [Case((0.1, matrix, 2.0), label=label) for label, matrix in _check_matrices()]
    cases.append(
        Case((1.0, random_plays(60, 40, density=0.2, seed=7), 1.5), label="60 users, factor 1.5")
    )
    return run_check(
        my_ridge_spread,
        None,
        cases,
        name="my_ridge_spread",
        properties=[_ridge_property],
        forbidden=[spark_reg_param],
        hint="which users does Spark ever see, what ridge does each get with the regParam of "
        "exercise 2b.2, and is that ridge far from λ on either side?",
    )
