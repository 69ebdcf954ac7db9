"""Tests of the checks of exercises 2b.3 (marginal cost), 2b.4 (nodes) and 2b.5 (ridge spread).

Reached, as in chapter 02b, through the facade ``course_lib.checks``: an honest answer passes,
the stub reads "not implemented", the course's own function is not accepted, and each common
slip fails with its own words. No Spark is needed.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib import checks
from course_lib.spark import cluster_estimate, marginal_core_seconds_per_play, spark_reg_param

USES_COURSE = "uses the course's implementation"
CODE_TOKENS = ("np.", "axis=", "()", "[", " = ", "==", "scipy", ".data", "3600")


def _stub(*args):
    raise NotImplementedError("write me")


def _said(capsys) -> str:
    return " ".join(capsys.readouterr().out.split())


def _nodes(core_seconds, n_users, per_user, iterations, hours, cores, *, seconds=3600.0):
    return core_seconds * n_users * per_user * iterations / (hours * seconds * cores)


def test_check_nodes_needed_accepts_the_count_and_a_whole_node():
    assert checks.check_nodes_needed(_stub).status == "not implemented"
    assert checks.check_nodes_needed(_nodes).passed
    assert checks.check_nodes_needed(lambda *a: np.ceil(_nodes(*a))).passed


def test_check_nodes_needed_refuses_the_course_function():
    def course(core_seconds, n_users, per_user, iterations, hours, cores):
        return cluster_estimate(
            core_seconds,
            n_users,
            plays_per_user=per_user,
            iterations=iterations,
            hours=hours,
            cores_per_node=cores,
        ).nodes

    assert checks.check_nodes_needed(course).status == USES_COURSE


@pytest.mark.parametrize(
    ("wrong", "words"),
    [
        (lambda c, u, p, i, h, n: _nodes(c, u, p, 1, h, n), "leaves out the iterations"),
        (lambda *a: _nodes(*a, seconds=1.0), "x 3600"),
        (lambda c, u, p, i, h, n: _nodes(c, u, p, i, h, 1), "counts cores, not nodes"),
        (lambda c, u, p, i, h, n: _nodes(c, u, p, i, h, 1) * n, "multiplies by the cores"),
        (lambda c, u, p, i, h, n: _nodes(c, u, 1, i, h, n), "counts the users"),
        (lambda *a: 2 * _nodes(*a), "expected"),
    ],
)
def test_check_nodes_needed_names_the_slip(wrong, words, capsys):
    assert checks.check_nodes_needed(wrong).status == "wrong"
    assert words in _said(capsys)


def _finite(x, y):
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    keep = np.isfinite(y)
    return x[keep], y[keep]


def _slope(x, y, cores):
    x, y = _finite(x, y)
    return np.polyfit(x, y, 1)[0] * cores


def test_check_marginal_cost_accepts_the_slope():
    assert checks.check_marginal_cost(_stub).status == "not implemented"
    assert checks.check_marginal_cost(_slope).passed
    assert checks.check_marginal_cost(marginal_core_seconds_per_play).status == USES_COURSE


def _through_origin(x, y, cores):
    x, y = _finite(x, y)
    return x @ y / (x @ x) * cores


@pytest.mark.parametrize(
    ("wrong", "words"),
    [
        (lambda x, y, c: _slope(x, y, 1), "forgot the cores"),
        (lambda x, y, c: np.polyfit(x, y, 1)[0] * c, "NaN"),
        (lambda x, y, c: _finite(x, y)[1].max() / _finite(x, y)[0].max() * c, "largest size"),
        (lambda x, y, c: np.mean(_finite(x, y)[1] / _finite(x, y)[0]) * c, "averages"),
        (_through_origin, "through the origin"),
        (lambda x, y, c: np.polyfit(*_finite(x, y), 1)[1] * c, "intercept"),
    ],
)
def test_check_marginal_cost_names_the_slip(wrong, words, capsys):
    assert checks.check_marginal_cost(wrong).status == "wrong"
    assert words in _said(capsys)


def _reg_param(lam, plays):  # exercise 2b.2, by hand
    return (
        lam
        * (
            np.count_nonzero(np.diff(plays.indptr))
            + np.count_nonzero(np.diff(plays.tocsc().indptr))
        )
        / (2 * plays.nnz)
    )


def _spread(lam, plays, factor, *, active=True, sides="both", reg_param=_reg_param):
    plays = sp.csr_matrix(plays, copy=True)
    plays.eliminate_zeros()
    n_u = np.diff(plays.indptr)
    ridge = reg_param(lam, plays) * (n_u[n_u > 0] if active else n_u)
    above, below = ridge > factor * lam, ridge < lam / factor
    return float(np.mean({"both": above | below, "above": above, "below": below}[sides]))


def test_check_ridge_spread_accepts_the_share():
    assert checks.check_ridge_spread(_stub).status == "not implemented"
    assert checks.check_ridge_spread(_spread).passed


def test_check_ridge_spread_refuses_the_course_reg_param():
    def course(lam, plays, factor):
        return _spread(lam, plays, factor, reg_param=spark_reg_param)

    assert checks.check_ridge_spread(course).status == USES_COURSE


@pytest.mark.parametrize(
    ("wrong", "words"),
    [
        (lambda *a: _spread(*a, active=False), "without plays too"),
        (lambda *a: _spread(*a, sides="above"), "only the users above"),
        (lambda *a: _spread(*a, sides="below"), "only the users below"),
        (lambda *a: 100 * _spread(*a), "percentage"),
        (
            lambda *a: _spread(
                *a, reg_param=lambda lam, p: lam * np.count_nonzero(np.diff(p.indptr)) / p.nnz
            ),
            "users only",
        ),
    ],
)
def test_check_ridge_spread_names_the_slip(wrong, words, capsys):
    assert checks.check_ridge_spread(wrong).status == "wrong"
    assert words in _said(capsys)


@pytest.mark.parametrize(
    "check", [checks.check_nodes_needed, checks.check_marginal_cost, checks.check_ridge_spread]
)
def test_the_new_hints_hold_no_code(check, capsys):
    check(lambda *a: -1.0)
    hint = _said(capsys).split("Hint:")[1]
    assert not any(token in hint for token in CODE_TOKENS), hint
