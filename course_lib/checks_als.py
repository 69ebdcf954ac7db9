"""Exercise checks of chapters 01 (implicit feedback) and 02 (ALS by hand).

Built on :func:`course_lib.checks.run_check`, so the verdicts read like every other chapter's:
"Correct", "Not quite" (what differs, and a hint) or "Not implemented yet" (a stub that still
raises ``NotImplementedError``; not an error, the notebook keeps running).

Chapter 01:

* :func:`check_head_share`: ``my_head_share(plays, head_fraction) -> float``;
* :func:`check_ndcg_at_k`: ``my_ndcg(ranked_items, relevant_items, k) -> float``.

Chapter 02:

* :func:`check_confidence_matrix`: ``my_confidence(plays, alpha)``, ``c_ui = 1 + alpha * plays``;
* :func:`check_user_update`: ``my_user_update(item_factors, items, plays, alpha,
  regularization) -> x_u`` (Hu, Koren & Volinsky 2008, eq. 4);
* :func:`check_naive_cost`: ``my_naive_flops(n_items, factors) -> float``, checked by how it
  scales, beside a timing of the naive update on this machine.

Each check recognises the usual slips and names them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from course_lib.als import user_update
from course_lib.evaluation import popularity_curve

if TYPE_CHECKING:  # course_lib.checks imports this module at its end: import it lazily here
    from course_lib.checks import Case, CheckResult

__all__ = [
    "check_confidence_matrix",
    "check_head_share",
    "check_naive_cost",
    "check_ndcg_at_k",
    "check_user_update",
]


def _small_plays(seed: int, n_users: int = 12, n_items: int = 15) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    dense = (rng.random((n_users, n_items)) < 0.3) * rng.geometric(0.3, (n_users, n_items))
    return sp.csr_matrix(dense.astype(np.int32))


def _number(got: Any) -> float | None:
    try:
        return float(np.asarray(got).item())
    except (TypeError, ValueError):
        return None


def _first_slip(got: float | np.ndarray, slips: dict[str, Any]) -> str | None:
    for slip, value in slips.items():
        value = np.asarray(value, dtype=np.float64)
        if np.shape(got) == value.shape and np.allclose(got, value, rtol=1e-5, atol=1e-10):
            return slip
    return None


# ---------------------------------------------------------------------------------------------
# Chapter 01: the head's share of plays
# ---------------------------------------------------------------------------------------------
def _head_share_property(case: Case, got: Any) -> str | None:
    plays, fraction = case.args
    value = _number(got)
    if value is None:
        return f"expected a number, got {type(got).__name__}"
    _, share = popularity_curve(plays)
    n_head = int(np.ceil(fraction * plays.shape[1]))
    want = float(share[n_head - 1])
    if np.isclose(value, want, rtol=1e-6):
        return None
    users = np.sort(np.diff(plays.tocsc().indptr))[::-1].astype(float)
    per_item = np.sort(np.asarray(plays.sum(axis=0)).ravel())[::-1].astype(float)
    slip = _first_slip(
        value,
        {
            "it ranks items by how many users played them, not by their total plays": users[
                :n_head
            ].sum()
            / users.sum(),
            "it returns the number of plays in the head, not their share of all plays": per_item[
                :n_head
            ].sum(),
            "it takes the least played items (sort in decreasing order)": per_item[-n_head:].sum()
            / per_item.sum(),
        },
    )
    return slip or f"expected {want:.6g}, got {value:.6g}"


def check_head_share(my_head_share: Callable[[sp.csr_matrix, float], float]) -> CheckResult:
    """Check ``my_head_share(plays, head_fraction) -> float`` (chapter 01, exercise 1).

    The answer is the share of all plays that go to the ``ceil(head_fraction * n_items)`` most
    played items (items ranked by total plays), as read off
    :func:`course_lib.evaluation.popularity_curve`.
    """
    from course_lib.checks import Case, run_check

    cases = [
        Case((_small_plays(0, 40, 25), 0.2), label="40 users, 25 items, head 20 %"),
        Case((_small_plays(1, 30, 20), 0.4), label="30 users, 20 items, head 40 %"),
        Case((_small_plays(2, 50, 10), 0.1), label="50 users, 10 items, head 10 %"),
    ]
    return run_check(
        my_head_share,
        None,
        cases,
        name="my_head_share",
        properties=[_head_share_property],
        hint="sum each item's plays over users, sort decreasing, and divide the top "
        "ceil(head_fraction * n_items) items' plays by all plays",
    )


# ---------------------------------------------------------------------------------------------
# Chapter 01: NDCG@k of one list
# ---------------------------------------------------------------------------------------------
def _reference_ndcg(ranked: np.ndarray, relevant: np.ndarray, k: int) -> float:
    hits = np.isin(np.asarray(ranked)[:k], relevant).astype(float)
    dcg = float(np.sum(hits / np.log2(np.arange(2, hits.size + 2))))
    n_best = min(k, len(set(np.asarray(relevant).tolist())))
    idcg = float(np.sum(1.0 / np.log2(np.arange(2, n_best + 2))))
    return dcg / idcg if idcg > 0 else 0.0


def _ndcg_property(case: Case, got: Any) -> str | None:
    ranked, relevant, k = case.args
    value = _number(got)
    if value is None:
        return f"expected a number, got {type(got).__name__}"
    want = _reference_ndcg(ranked, relevant, k)
    if np.isclose(value, want, rtol=1e-6, atol=1e-12):
        return None
    hits = np.isin(ranked[:k], relevant).astype(float)
    dcg = float(np.sum(hits / np.log2(np.arange(2, hits.size + 2))))
    idcg_all = float(np.sum(1.0 / np.log2(np.arange(2, relevant.size + 2))))
    slip = _first_slip(
        value,
        {
            "it returns the DCG without dividing by the ideal DCG": dcg,
            "its ideal DCG counts all relevant items; the ideal list has only k slots, so use "
            "min(k, number of relevant items)": dcg / idcg_all,
            "it returns precision@k (hits / k), without the rank discount": hits.sum() / k,
        },
    )
    return slip or f"expected {want:.6g}, got {value:.6g}"


def check_ndcg_at_k(my_ndcg: Callable[[np.ndarray, np.ndarray, int], float]) -> CheckResult:
    """Check ``my_ndcg(ranked_items, relevant_items, k) -> float`` (chapter 01, exercise 2).

    Järvelin & Kekäläinen (2002): a hit at rank ``r`` (1-based) gains ``1 / log2(r + 1)``; NDCG
    divides the sum by the best achievable one, with ``min(k, |relevant|)`` hits on top. The same
    definition as :func:`course_lib.evaluation.ranking_metrics`.
    """
    from course_lib.checks import Case, run_check

    cases = [
        Case((np.array([3, 1, 4, 0, 2]), np.array([1, 2]), 5), label="two hits in five"),
        Case(
            (np.array([7, 8, 9, 1, 2, 3]), np.array([7, 8, 9, 1, 2, 3, 4, 5]), 3),
            label="more relevant items than k",
        ),
        Case((np.array([5, 6, 7, 8]), np.array([0, 1, 2]), 4), label="no hit"),
        Case((np.array([9, 4, 2, 8, 1, 0, 3]), np.array([0]), 7), label="one hit, late"),
    ]
    return run_check(
        my_ndcg,
        None,
        cases,
        name="my_ndcg",
        properties=[_ndcg_property],
        hint="DCG = sum over the first k ranks of hit / log2(rank + 1); divide by the DCG of a "
        "list with min(k, len(relevant)) hits on top",
    )


# ---------------------------------------------------------------------------------------------
# Chapter 02: the confidence matrix
# ---------------------------------------------------------------------------------------------
def _confidence_property(case: Case, got: Any) -> str | None:
    plays, alpha = case.args
    counts = plays.toarray().astype(np.float64)
    played = counts > 0
    full = np.where(played, 1.0 + alpha * counts, 1.0)
    if got is None:
        return "your function returned None; did you forget the `return` statement?"
    dense = got.toarray() if sp.issparse(got) else np.asarray(got, dtype=np.float64)
    if dense.shape != plays.shape:
        return f"the result has shape {dense.shape}, it should have shape {plays.shape}"
    if np.allclose(dense, full, rtol=1e-5):
        return None  # the full matrix, 1 where nothing was played
    if sp.issparse(got) and np.allclose(dense, np.where(played, full, 0.0), rtol=1e-5):
        return None  # sparse: c_ui on the played entries, unplayed ones implicitly 1
    if not sp.issparse(got) and np.allclose(dense, np.where(played, full, 0.0), rtol=1e-5):
        return (
            "as a dense matrix it needs 1 where nothing was played (c_ui = 1 there); return "
            "a sparse matrix to store only the played entries"
        )
    values = dense[played]
    slip = _first_slip(
        values,
        {
            "it uses alpha * plays (implicit's convention); the paper adds 1": alpha
            * counts[played],
            "it forgot alpha: it returns 1 + plays": 1.0 + counts[played],
            "it uses the log variant; this exercise asks for 1 + alpha * plays": 1.0
            + alpha * np.log1p(counts[played]),
        },
    )
    return slip or f"with alpha={alpha} some played entries differ from 1 + alpha * plays"


def check_confidence_matrix(my_confidence: Callable[[sp.csr_matrix, float], Any]) -> CheckResult:
    """Check ``my_confidence(plays, alpha)`` (chapter 02, exercise 1).

    ``c_ui = 1 + alpha * plays_ui`` (Hu, Koren & Volinsky 2008, section 4). A sparse answer holds
    ``c_ui`` on the played entries (unplayed entries are implicitly 1), as
    :func:`course_lib.evaluation.confidence` does; a dense answer must be the full matrix.
    """
    from course_lib.checks import Case, run_check

    cases = [
        Case((_small_plays(0), 40.0), label="12 users x 15 items, alpha = 40"),
        Case((_small_plays(1), 2.5), label="12 users x 15 items, alpha = 2.5"),
    ]
    return run_check(
        my_confidence,
        None,
        cases,
        name="my_confidence",
        properties=[_confidence_property],
        hint="copy the sparse matrix, then set its .data to 1 + alpha * plays.data",
    )


# ---------------------------------------------------------------------------------------------
# Chapter 02: one user update
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
    slip = _first_slip(
        vector,
        {
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
        },
    )
    return slip or "the factors differ from (YᵀC_uY + λI)⁻¹ YᵀC_u p_u"


def check_user_update(
    my_user_update: Callable[[np.ndarray, np.ndarray, np.ndarray, float, float], np.ndarray],
) -> CheckResult:
    """Check ``my_user_update(item_factors, items, plays, alpha, regularization)`` (ch. 02, ex. 2).

    Compared with the closed form ``(YᵀC_uY + λI)⁻¹ YᵀC_u p_u`` (Hu, Koren & Volinsky 2008,
    eq. 4), :func:`course_lib.als.user_update`, on three seeded users.
    """
    from course_lib.checks import Case, run_check

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
# Chapter 02: the naive solver's cost
# ---------------------------------------------------------------------------------------------
def _time_naive_grams(sizes: list[tuple[int, int]], repeats: int = 7) -> list[float]:
    """Best-of-``repeats`` seconds to form ``YᵀC_uY`` with a dense ``C_u``, per ``(n, f)`` size.

    The sizes take turns within each round, so a busy machine slows them alike; one BLAS thread,
    as in :func:`course_lib.als.fit_als`.
    """
    from threadpoolctl import threadpool_limits

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
    """Check ``my_naive_flops(n_items, factors) -> float`` (chapter 02, exercise 3).

    The naive update forms ``YᵀC_uY`` with the dense ``n_items x n_items`` diagonal ``C_u``: each
    of the ``f²`` entries sums over all ``n_items`` items, so the cost grows like
    ``n_items · f²`` (the ``f³`` solve is small beside it when ``n_items ≫ f``). The check reads
    off how the student's formula grows when ``n_items`` doubles and when ``f`` doubles, and
    (with ``measure=True``) prints what the same doublings cost on this machine.
    """
    from course_lib.checks import Case, run_check

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
