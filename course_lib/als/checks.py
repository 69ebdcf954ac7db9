"""Exercise checks of chapter 02 (ALS by hand): one user's update and the naive solver's cost.

Chapters call them through the facade: ``from course_lib import checks``. Built on
:func:`course_lib.checking.run_check`, so the verdicts read like every other chapter's: "Correct",
"Not quite" (what differs, and a hint) or "Not implemented yet" (a stub that still raises
``NotImplementedError``; not an error, the notebook keeps running).

* :func:`check_user_update`, exercise 2.2: ``my_user_update(item_factors, items, plays, alpha,
  regularization) -> x_u`` (Hu, Koren & Volinsky 2008, eq. 4);
* :func:`check_naive_cost`, exercise 2.3: ``my_naive_flops(n_items, factors) -> float``, checked
  by how it scales, beside a timing of the naive update on this machine.

Exercise 2.1's check (the confidence matrix) lives with :func:`course_lib.evaluation.confidence`,
in :mod:`course_lib.evaluation.checks`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from course_lib.als.update import user_update
from course_lib.checking import Case, CheckResult, run_check

__all__ = ["check_naive_cost", "check_user_update"]


# ---------------------------------------------------------------------------------------------
# Exercise 2.2: one user update
# ---------------------------------------------------------------------------------------------
def _user_update_property(case: Case, got: Any) -> str | None:
    Y, items, plays, alpha, reg = case.args
    want = user_update(Y, items, plays, alpha, reg)
    try:
        vector = np.asarray(got, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        return f"expected a vector of {want.size} numbers, got {type(got).__name__}"
    if vector.shape != want.shape:
        return f"the result has shape {vector.shape}, it should have shape {want.shape}"
    if np.allclose(vector, want, rtol=1e-5, atol=1e-8):
        return None
    n_items, f = Y.shape
    c = np.ones(n_items)
    c[items] = 1.0 + alpha * plays
    p = np.zeros(n_items)
    p[items] = 1.0
    YtCY = Y.T @ (c[:, None] * Y)
    eye = np.eye(f)
    slips = {
        "it forgot the regularization λI": np.linalg.lstsq(YtCY, Y.T @ (c * p), rcond=None)[0],
        "its right-hand side is Yᵀp_u; it should be YᵀC_u p_u": np.linalg.solve(
            YtCY + reg * eye, Y.T @ p
        ),
        "its left-hand side uses YᵀY without the confidence weights": np.linalg.solve(
            Y.T @ Y + reg * eye, Y.T @ (c * p)
        ),
        "it uses c = alpha * plays (no 1 +)": user_update(
            Y, items, plays - 1.0 / alpha, alpha, reg
        ),
    }
    for slip, value in slips.items():  # every slip is a vector of f numbers, like the answer
        if np.allclose(vector, value, rtol=1e-5, atol=1e-10):
            return slip
    return "the factors differ from (YᵀC_uY + λI)⁻¹ YᵀC_u p_u"


def check_user_update(
    my_user_update: Callable[[np.ndarray, np.ndarray, np.ndarray, float, float], np.ndarray],
) -> CheckResult:
    """Check ``my_user_update(item_factors, items, plays, alpha, regularization)`` (ex. 2.2).

    Compared with the closed form ``(YᵀC_uY + λI)⁻¹ YᵀC_u p_u`` (Hu, Koren & Volinsky 2008,
    eq. 4), :func:`course_lib.als.user_update`, on three seeded users.
    """
    rng = np.random.default_rng(2)
    cases = []
    for n_items, f, n_played, alpha, reg in (
        (30, 4, 5, 40.0, 0.1),
        (50, 6, 12, 3.0, 2.0),
        (20, 3, 1, 10.0, 0.5),
    ):
        Y = rng.normal(scale=0.3, size=(n_items, f))
        items = np.sort(rng.choice(n_items, n_played, replace=False))
        plays = rng.integers(1, 20, n_played).astype(np.float64)
        label = f"{n_items} items, {f} factors, {n_played} played, alpha={alpha}, λ={reg}"
        cases.append(Case((Y, items, plays, alpha, reg), label=label))
    return run_check(
        my_user_update,
        None,
        cases,
        name="my_user_update",
        properties=[_user_update_property],
        hint="C_u is 1 for unplayed items and 1 + alpha * plays for played ones, p_u is 0/1; "
        "solve (Yᵀ C_u Y + λI) x = Yᵀ C_u p_u with np.linalg.solve",
    )


# ---------------------------------------------------------------------------------------------
# Exercise 2.3: the naive solver's cost
# ---------------------------------------------------------------------------------------------
def _time_naive_grams(sizes: list[tuple[int, int]], repeats: int = 7) -> list[float]:
    """Best-of-``repeats`` seconds to form ``YᵀC_uY`` with a dense ``C_u``, per ``(n, f)`` size.

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
        return "your function must return one number (a flop count)"
    if not (np.isfinite(base) and base > 0):
        return (
            f"it returned {base} for n_items={_N_ITEMS}, f={_FACTORS}; a cost is a positive number"
        )
    grow_n, grow_f = double_n / base, double_f / base
    problems = []
    if not 1.7 <= grow_n <= 2.3:
        problems.append(
            f"doubling n_items multiplies your cost by {grow_n:.2f}, but it should double: C_u "
            "is n_items x n_items, so every entry of YᵀC_uY sums over all items, played or not"
        )
    if not 3.4 <= grow_f <= 4.6:
        problems.append(
            f"doubling f multiplies your cost by {grow_f:.2f}, but it should quadruple: YᵀC_uY "
            "has f x f entries, each a sum over the items"
        )
    return "; and ".join(problems) or None


def check_naive_cost(
    my_naive_flops: Callable[[int, int], float], measure: bool = True
) -> CheckResult:
    """Check ``my_naive_flops(n_items, factors) -> float`` (chapter 02, exercise 2.3).

    The naive update forms ``YᵀC_uY`` with the dense ``n_items x n_items`` diagonal ``C_u``: each
    of the ``f²`` entries sums over all ``n_items`` items, so the cost grows like
    ``n_items · f²`` (the ``f³`` solve is small beside it when ``n_items ≫ f``). The check reads
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
        hint="count the multiply-adds of Yᵀ C_u Y when C_u is a dense n_items x n_items matrix",
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
