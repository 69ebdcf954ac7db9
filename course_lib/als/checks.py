"""Exercise checks of chapter 02 (ALS by hand): an update, a cost, the loss, heavy pairs.

Chapters call them through the facade: ``from course_lib import checks``. Built on
:func:`course_lib.checking.run_check`, so the verdicts read like every other chapter's: "Correct",
"Not quite" (what differs, and a hint) or "Not implemented yet" (a stub that still raises
``NotImplementedError``; not an error, the notebook keeps running).

* :func:`check_gram_correction`, exercise 2.1: ``my_gram_correction(item_factors, plays_row,
  alpha) -> Yᵀ(C_u - I)Y``, the part of Hu, Koren & Volinsky's speed-up that depends on the user;
* :func:`check_user_update`, exercise 2.2: ``my_user_update(item_factors, items, plays, alpha,
  regularization) -> x_u`` (Hu, Koren & Volinsky 2008, eq. 4);
* :func:`check_naive_cost`, exercise 2.3: ``my_naive_flops(n_items, factors) -> float``, checked
  by how it scales, beside a timing of the naive update on this machine;
* :func:`check_als_loss`, exercise 2.4: ``my_als_loss(plays, user_factors, item_factors, alpha,
  regularization) -> float``, the objective over all cells (eq. 3);
* :func:`check_heavy_share`, exercise 2.5: ``my_heavy_share(conf, fraction) -> float``, the
  share of the confidence that the heaviest played pairs hold.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from course_lib.als.objective import als_loss, loss
from course_lib.als.solvers import half_step, solve_rows
from course_lib.als.update import user_update
from course_lib.checking import Case, CheckResult, run_check

__all__ = [
    "check_als_loss",
    "check_gram_correction",
    "check_heavy_share",
    "check_naive_cost",
    "check_user_update",
]


# --- Exercise 2.1: the correction to YᵀY -----------------------------------------------------
def _gram_correction(Y: np.ndarray, row: sp.csr_matrix, alpha: float) -> np.ndarray:
    """Yᵀ(C_u - I)Y from the dense confidence row: the check's private reference."""
    weights = alpha * row.toarray().ravel()  # c_ui - 1, zero on the unplayed items
    return Y.T @ (weights[:, None] * Y)


def _gram_correction_property(case: Case, got: Any) -> str | None:
    Y, row, alpha = case.args
    want = _gram_correction(Y, row, alpha)
    try:
        matrix = np.asarray(got.toarray() if sp.issparse(got) else got, dtype=np.float64)
    except (TypeError, ValueError):
        return f"expected an f x f matrix of numbers, got {type(got).__name__}"
    if matrix.shape != want.shape:
        return f"the result has shape {matrix.shape}, it should be f x f, {want.shape}"
    if np.allclose(matrix, want, rtol=1e-6, atol=1e-9):
        return None
    if row.nnz == 0:
        return "a user who played nothing has C_u = I, so the correction is all zeros"
    Y_u, plays = Y[row.indices], row.data

    def gram(weights: Any) -> np.ndarray:  # the played items' y_i y_iᵀ, weighted
        return np.multiply(weights, Y_u.T) @ Y_u

    slips = {
        "it uses c_ui for c_ui - 1; the 1 of every item is already in YᵀY": gram(1 + alpha * plays),
        "it weights by the raw play counts; the weight comes from the confidence": gram(plays),
        "it weights by the preference p_ui (1 per played item), not by the confidence": gram(1),
        "it returns all of YᵀC_uY; the exercise asks for what comes on top of YᵀY": want + Y.T @ Y,
    }
    for slip, value in slips.items():
        if np.allclose(matrix, value, rtol=1e-6, atol=1e-9):
            return slip
    return "the matrix differs from Yᵀ(C_u - I)Y"


def check_gram_correction(
    my_gram_correction: Callable[[np.ndarray, sp.csr_matrix, float], np.ndarray],
) -> CheckResult:
    """Check ``my_gram_correction(item_factors, plays_row, alpha)`` (exercise 2.1).

    Compared with the dense product on three seeded users (``plays_row`` a 1 x n_items CSR row),
    one with a single play, one with none (f x f zeros). The verdict names the slips: ``c`` for
    ``c - 1``, the raw counts or the preference as the weight, and all of ``YᵀC_uY``.
    """
    rng = np.random.default_rng(21)
    cases = []
    for n_items, f, n_played, alpha in ((30, 4, 6, 40.0), (50, 5, 1, 3.0), (25, 3, 0, 5.0)):
        Y = rng.normal(scale=0.3, size=(n_items, f))
        row = sp.random(1, n_items, density=n_played / n_items, format="csr", random_state=rng)
        row.data = rng.integers(2, 30, row.nnz).astype(np.float64)
        label = f"{n_items} items, {f} factors, {row.nnz} played, alpha={alpha}"
        if row.nnz == 0:
            label = f"a user who played nothing ({n_items} items, {f} factors)"
        cases.append(Case((Y, row, alpha), label=label))
    return run_check(
        my_gram_correction,
        None,
        cases,
        name="my_gram_correction",
        properties=[_gram_correction_property],
        forbidden=[_gram_correction],
        hint="reread how C_u differs from the identity: for which items is C_u - I not zero, "
        "and by how much? A user who played nothing still gets an f x f answer.",
    )


# --- Exercise 2.2: one user update -----------------------------------------------------------
def _solve(Y: np.ndarray, weights: np.ndarray, rhs_weights: np.ndarray, ridge: float) -> Any:
    gram = Y.T @ (weights[:, None] * Y) + ridge * np.eye(Y.shape[1])
    return np.linalg.lstsq(gram, Y.T @ rhs_weights, rcond=None)[0]


def _user_update_slips(
    Y: np.ndarray, items: np.ndarray, plays: np.ndarray, alpha: float, reg: float
) -> dict[str, np.ndarray]:
    """The x_u that the usual slips give, each a vector of f numbers like the answer."""
    n_items = Y.shape[0]
    c = np.ones(n_items)
    c[items] = 1.0 + alpha * plays
    p = np.zeros(n_items)
    p[items] = 1.0
    only_played = np.zeros(n_items)
    only_played[items] = c[items]
    counts = np.zeros(n_items)
    counts[items] = plays
    return {
        "it forgot the regularization λI": _solve(Y, c, c * p, 0.0),
        "its right-hand side is Yᵀp_u; it should be YᵀC_u p_u": _solve(Y, c, p, reg),
        "its left-hand side uses YᵀY without the confidence weights": _solve(
            Y, np.ones(n_items), c * p, reg
        ),
        "it uses c = alpha * plays (no 1 +)": _solve(
            Y, np.where(p > 0, alpha * counts, 1.0), np.where(p > 0, alpha * counts, 0.0), reg
        ),
        "it sums over the played items only: every item is in YᵀC_uY, the unplayed ones "
        "with confidence 1": _solve(Y, only_played, only_played * p, reg),
        "its preference is the play count; p_ui is 1 for a played item, whatever the count": (
            _solve(Y, c, c * counts, reg)
        ),
        "it scales λ by the number of played items (Spark's ALS-WR); this exercise has a "
        "constant λ": _solve(Y, c, c * p, reg * len(items)),
    }


def _user_update_property(case: Case, got: Any) -> str | None:
    Y, items, plays, alpha, reg = case.args
    want = user_update(Y, items, plays, alpha, reg)
    try:
        vector = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return f"expected a vector of {want.size} numbers, got {type(got).__name__}"
    if vector.size == want.size and vector.shape != want.shape:
        return (
            f"the result has shape {vector.shape}; return a 1-D vector of shape {want.shape}, "
            "like a row of user_factors"
        )
    if vector.shape != want.shape:
        return f"the result has shape {vector.shape}, it should have shape {want.shape}"
    if np.allclose(vector, want, rtol=1e-5, atol=1e-8):
        return None
    if not np.all(np.isfinite(vector)):
        return "the result holds NaN or inf: look for a division by zero or a singular system"
    for slip, value in _user_update_slips(Y, items, plays, alpha, reg).items():
        if np.allclose(vector, value, rtol=1e-5, atol=1e-10):
            return slip
    return "the factors differ from (YᵀC_uY + λI)⁻¹ YᵀC_u p_u"


def check_user_update(
    my_user_update: Callable[[np.ndarray, np.ndarray, np.ndarray, float, float], np.ndarray],
) -> CheckResult:
    """Check ``my_user_update(item_factors, items, plays, alpha, regularization)`` (ex. 2.2).

    Compared with the closed form ``(YᵀC_uY + λI)⁻¹ YᵀC_u p_u`` (Hu, Koren & Volinsky 2008,
    eq. 4), :func:`course_lib.als.user_update` (which is not accepted as an answer), on four
    seeded users: one with a single played item, one whose items are not sorted, and one who
    played nothing (``x_u = 0``). The verdict names the usual slips: no ``λI``, an unweighted
    right-hand side or left-hand side, ``c = alpha * plays``, a sum over the played items
    only, the count as the preference, ``λ`` scaled by the number of plays, and a column
    instead of a 1-D vector.
    """
    rng = np.random.default_rng(2)
    cases = []
    for n_items, f, n_played, alpha, reg in (
        (30, 4, 5, 40.0, 0.1),
        (50, 6, 12, 3.0, 2.0),
        (20, 3, 1, 10.0, 0.5),
        (25, 5, 0, 5.0, 1.0),
    ):
        Y = rng.normal(scale=0.3, size=(n_items, f))
        items = rng.choice(n_items, n_played, replace=False)  # in no particular order
        plays = rng.integers(2, 20, n_played).astype(np.float64)
        label = f"{n_items} items, {f} factors, {n_played} played, alpha={alpha}, λ={reg}"
        if n_played == 0:
            label = f"a user who played nothing ({n_items} items, {f} factors)"
        cases.append(Case((Y, items, plays, alpha, reg), label=label))
    return run_check(
        my_user_update,
        None,
        cases,
        name="my_user_update",
        properties=[_user_update_property],
        forbidden=[user_update, solve_rows, half_step],
        hint="reread section 3: which items enter YᵀC_uY (the played ones, or all of them?), "
        "what confidence and what preference an unplayed and a played item have, and where "
        "λ goes. Solve the f x f system rather than inverting it.",
    )


# --- Exercise 2.3: the naive solver's cost ---------------------------------------------------
def _time_naive_grams(sizes: list[tuple[int, int]], repeats: int = 7) -> list[float]:
    """Best-of-``repeats`` seconds to form ``Yᵀ(C_uY)`` with ``C_u`` applied as a scaling of
    the rows of ``Y`` (as ``fit_als(solver="naive")`` does), per ``(n, f)`` size.

    The sizes take turns within each round, so a busy machine slows them alike; one BLAS thread,
    as in :func:`course_lib.als.fit_als`.
    """
    rng = np.random.default_rng(0)
    problems = [(rng.random((n, f)), 1.0 + rng.random(n)) for n, f in sizes]
    best = [np.inf] * len(sizes)
    with threadpool_limits(1, "blas"):
        for _ in range(repeats):
            for position, (Y, c) in enumerate(problems):
                start = time.perf_counter()
                _ = Y.T @ (c[:, None] * Y)
                best[position] = min(best[position], time.perf_counter() - start)
    return best


_N_ITEMS, _FACTORS = 20_000, 32


def _cost_property(case: Case, got: Any) -> str | None:
    try:
        base, double_n, double_f = (float(v) for v in got)
    except (TypeError, ValueError):
        return "your function must return one number (a count of multiply-adds)"
    if not (np.isfinite(base) and base > 0):
        return (
            f"it returned {base} for n_items={_N_ITEMS}, f={_FACTORS}; a cost is a positive number"
        )
    grow_n, grow_f = double_n / base, double_f / base
    problems = []
    if 3.4 <= grow_n <= 4.6:
        problems.append(
            "doubling n_items quadruples your count: that is the cost of multiplying by C_u as "
            "an n_items x n_items matrix (np.diag); the exercise applies C_u as a scaling of "
            "the rows of Y, which costs far less"
        )
    elif grow_n < 1.2:
        problems.append(
            "your count does not grow with n_items: it counts only the played items or the "
            "f x f solve, but the naive update sums over every item, played or not"
        )
    elif not 1.7 <= grow_n <= 2.3:
        problems.append(
            f"doubling n_items multiplies your count by {grow_n:.2f}, but it should double: "
            "C_u scales every row of Y, played or not, so each entry of Yᵀ(C_uY) is a sum "
            "over all n_items items"
        )
    if 1.7 <= grow_f <= 2.3:
        problems.append(
            "doubling f only doubles your count: scaling the rows of Y costs n_items·f, but "
            "the product Yᵀ(C_uY) has f x f entries, each a sum over the items"
        )
    elif not 3.4 <= grow_f <= 4.6:
        problems.append(
            f"doubling f multiplies your count by {grow_f:.2f}, but it should about quadruple: "
            "Yᵀ(C_uY) has f x f entries, each a sum over the items"
        )
    return "; and ".join(problems) or None


def check_naive_cost(
    my_naive_flops: Callable[[int, int], float], measure: bool = True
) -> CheckResult:
    """Check ``my_naive_flops(n_items, factors) -> float`` (chapter 02, exercise 2.3).

    The naive update applies ``C_u`` as a scaling of the rows of ``Y`` (``n_items · f``
    multiply-adds) and then forms ``Yᵀ(C_uY)``: each of its ``f²`` entries sums over all
    ``n_items`` items, played or not, so the cost grows like ``n_items · f²`` (the ``f³`` solve
    is small beside it when ``n_items ≫ f``). The verdict names the usual slips: a count that
    grows like ``n_items²`` (``C_u`` as a dense ``n_items x n_items`` matrix), one that ignores
    ``n_items`` (only the played items, or only the solve) and one linear in ``f`` (only the
    scaling). The check reads
    off how the student's formula grows when ``n_items`` doubles and when ``f`` doubles, and
    (with ``measure=True``) prints what the same doublings cost on this machine.
    """

    def three_sizes() -> tuple[float, float, float]:
        return (
            my_naive_flops(_N_ITEMS, _FACTORS),
            my_naive_flops(2 * _N_ITEMS, _FACTORS),
            my_naive_flops(_N_ITEMS, 2 * _FACTORS),
        )

    result = run_check(
        three_sizes,
        None,
        [Case(label=f"n_items={_N_ITEMS}, f={_FACTORS}, then each doubled")],
        name="my_naive_flops",
        properties=[_cost_property],
        verbose=False,
        hint="count the multiply-adds of Yᵀ(C_uY) when C_u is applied as a scaling of the rows "
        "of Y: how many entries does the product have, and how many terms does each one sum?",
    )
    if result.implemented and measure:
        n, f = 8_000, 32
        base, double_n, double_f = _time_naive_grams([(n, f), (2 * n, f), (n, 2 * f)])
        print(
            f"Measured here, YᵀC_uY for n_items={n}, f={f}: doubling n_items took "
            f"x{double_n / base:.1f} the time, doubling f x{double_f / base:.1f} (BLAS runs "
            "small matrices below peak speed, so timings follow flop counts only roughly)."
        )
    result.show()
    return result


# --- Exercise 2.4: the loss from the played entries ------------------------------------------
def _dense_loss(
    plays: sp.csr_matrix,
    X: np.ndarray,
    Y: np.ndarray,
    conf: np.ndarray,
    pref: np.ndarray,
    reg: float,
    cells: np.ndarray | None = None,
) -> float:
    """Σ c (p − xᵀy)² (over ``cells`` if given, else all) + λ(‖X‖² + ‖Y‖²), densely."""
    terms = conf * (pref - X @ Y.T) ** 2
    fit = float(terms[cells].sum() if cells is not None else terms.sum())
    return fit + reg * float(np.sum(X * X) + np.sum(Y * Y))


def _loss_slips(case: Case) -> dict[str, float]:
    plays, X, Y, alpha, reg = case.args
    counts = plays.toarray().astype(np.float64)
    played = counts > 0
    X, Y = np.asarray(X, np.float64), np.asarray(Y, np.float64)
    conf, pref = 1.0 + alpha * counts, played.astype(np.float64)
    return {
        "it sums over the played cells only; the unplayed cells count too, with c = 1 and "
        "p = 0": _dense_loss(plays, X, Y, conf, pref, reg, cells=played),
        "it leaves out the penalty λ(Σ‖x_u‖² + Σ‖y_i‖²)": _dense_loss(plays, X, Y, conf, pref, 0.0),
        "its penalty is not multiplied by λ": _dense_loss(plays, X, Y, conf, pref, 1.0),
        "it uses c = alpha * plays (no 1 +) on the played cells": _dense_loss(
            plays, X, Y, np.where(played, alpha * counts, 1.0), pref, reg
        ),
        "its preference is the play count; p_ui is 1 for a played item": _dense_loss(
            plays, X, Y, conf, counts, reg
        ),
        "it squares the norms' sum instead of summing squared norms, or takes a norm without "
        "squaring it": reg * (np.linalg.norm(X) + np.linalg.norm(Y))
        + _dense_loss(plays, X, Y, conf, pref, 0.0),
    }


def _loss_property(case: Case, got: Any) -> str | None:
    plays, X, Y, alpha, reg = case.args
    want = als_loss(plays, np.asarray(X, np.float64), Y, alpha, reg)
    try:
        value = float(np.asarray(got, dtype=np.float64).item())
    except (TypeError, ValueError):
        return f"expected one number (the loss), got {type(got).__name__}"
    if np.isclose(value, want, rtol=1e-6):
        return None
    for slip, slip_value in _loss_slips(case).items():
        if np.isclose(value, slip_value, rtol=1e-6):
            return slip
    return f"expected L = {want:.6g}, got {value:.6g}"


def check_als_loss(
    my_als_loss: Callable[[sp.csr_matrix, np.ndarray, np.ndarray, float, float], float],
) -> CheckResult:
    """Check ``my_als_loss(plays, user_factors, item_factors, alpha, regularization)`` (ex. 2.4).

    The objective of Hu, Koren & Volinsky (2008, eq. 3) over *all* cells, against
    :func:`course_lib.als.als_loss` (not accepted as an answer), on three seeded problems: one
    with a user and an item without plays, one with float32 factors, one 600 x 900. Any correct
    way of computing it passes; the verdict names the usual slips: the played cells only, no
    penalty or a penalty without ``λ``, ``c = alpha * plays``, the count as the preference,
    norms not squared.
    """
    rng = np.random.default_rng(3)
    cases = []
    for n_users, n_items, f, alpha, reg, dtype in (
        (12, 15, 3, 40.0, 0.1, np.float64),
        (20, 30, 4, 2.5, 1.5, np.float32),
        (600, 900, 8, 1.0, 0.1, np.float64),
    ):
        counts = rng.integers(1, 30, (n_users, n_items)) * (rng.random((n_users, n_items)) < 0.1)
        counts[1] = 0  # a user without plays
        counts[:, 2] = 0  # an item nobody played
        plays = sp.csr_matrix(counts.astype(np.float64))
        X = rng.normal(scale=0.3, size=(n_users, f)).astype(dtype)
        Y = rng.normal(scale=0.3, size=(n_items, f)).astype(dtype)
        label = f"{n_users} users x {n_items} items, f={f}, alpha={alpha}, λ={reg}"
        cases.append(Case((plays, X, Y, alpha, reg), label=f"{label}, {np.dtype(dtype)}"))
    return run_check(
        my_als_loss,
        None,
        cases,
        name="my_als_loss",
        properties=[_loss_property],
        forbidden=[als_loss, loss],
        hint="reread section 2: which cells does the sum run over, what are c and p in a "
        "cell nobody played, and what does λ multiply? Then split every cell's term as "
        "section 5 split YᵀC_uY, so that only the played cells need a loop.",
    )


# --- Exercise 2.5: how much of the confidence the heaviest pairs hold ------------------------
def _heavy_share(
    conf: sp.spmatrix,
    fraction: float,
    *,
    rounding: Any = np.ceil,
    largest: bool = True,
    stored_zeros: bool = False,
) -> float:
    csr = sp.csr_matrix(conf, dtype=np.float64, copy=True)
    if not stored_zeros:
        csr.eliminate_zeros()
    values = np.sort(csr.data)[::-1] if largest else np.sort(csr.data)
    top = int(rounding(fraction * values.size))
    return float(values[:top].sum() / values.sum())


def _heavy_share_property(case: Case, got: Any) -> str | None:
    conf, fraction = case.args
    want = _heavy_share(conf, fraction)
    try:
        value = float(np.asarray(got, dtype=np.float64).item())
    except (TypeError, ValueError):
        return f"expected one number (a share), got {type(got).__name__}"
    if np.isclose(value, want, rtol=1e-9):
        return None
    dense_total = float(sp.csr_matrix(conf).sum()) + (
        conf.shape[0] * conf.shape[1] - sp.csr_matrix(conf).count_nonzero()
    )
    slips = {
        "it rounds fraction x pairs down (or to the nearest whole number); the exercise takes "
        "ceil, so a fraction of a pair counts as one": _heavy_share(
            conf, fraction, rounding=np.floor
        ),
        "it takes the lightest pairs; sort from the heaviest": _heavy_share(
            conf, fraction, largest=False
        ),
        "its total holds the unplayed cells too (c = 1 each); the share is of the played "
        "pairs' confidence": want * float(sp.csr_matrix(conf).sum()) / dense_total,
        "it counts a stored zero as a played pair": _heavy_share(conf, fraction, stored_zeros=True),
        "it returns a percentage; return a share between 0 and 1": 100 * want,
    }
    for slip, slip_value in slips.items():
        if not np.isclose(slip_value, want, rtol=1e-9) and np.isclose(value, slip_value, rtol=1e-9):
            return slip
    return f"expected a share of {want:.6g}, got {value:.6g}"


def check_heavy_share(
    my_heavy_share: Callable[[sp.csr_matrix, float], float],
) -> CheckResult:
    """Check ``my_heavy_share(conf, fraction) -> float`` (chapter 02, exercise 2.5).

    The share of the played pairs' total confidence that the ``ceil(fraction * pairs)``
    heaviest played pairs hold, on matrices with a stored zero, ties, and fractions of a pair.
    The verdict names the usual slips: ``floor`` or ``round`` for ``ceil``, the lightest
    pairs, the unplayed cells in the total, a stored zero counted, a percentage.
    """
    rng = np.random.default_rng(6)
    cases = []
    for n_users, n_items, fraction in ((10, 12, 0.05), (30, 20, 0.013), (8, 9, 0.5)):
        counts = rng.integers(1, 40, (n_users, n_items)) * (rng.random((n_users, n_items)) < 0.3)
        counts[0, :3] = [90_000, 7, 7]  # one heavy pair, and a tie
        conf = sp.csr_matrix(np.where(counts > 0, 1.0 + 1.0 * counts, 0.0))
        label = f"{n_users} users x {n_items} items, fraction {fraction}"
        cases.append(Case((conf, fraction), label=label))
    zero_row = sp.csr_matrix(
        (np.array([0.0, 5.0, 3.0, 2.0]), (np.array([0, 0, 1, 2]), np.array([0, 1, 1, 2]))),
        shape=(3, 3),
    )
    cases.append(Case((zero_row, 0.3), label="a stored zero among 3 played pairs"))
    return run_check(
        my_heavy_share,
        None,
        cases,
        name="my_heavy_share",
        properties=[_heavy_share_property],
        hint="which entries are played pairs (a stored zero is not), how many of them make the "
        "top fraction when it is not a whole number, and what is the total you divide by?",
    )
