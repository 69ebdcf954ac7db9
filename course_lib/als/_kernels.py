"""Compiled kernels behind :func:`course_lib.als.fit_als` and :func:`course_lib.als.solve_rows`.

Chapter 02 (``chapters/02_als.md``, sections 5 and 6) writes the same two solvers in plain
numpy for one user; these are the tested, multithreaded versions that
:func:`~course_lib.als.fit_als` runs.

Each kernel updates the factors of every row of a CSR confidence matrix (users for the user
half-step, items for the item half-step, with the transposed matrix) while the other side's
factors stay fixed. The rows are cut into ``blocks`` of roughly equal work; ``prange`` hands
the blocks to numba's threads and each block allocates its scratch vectors once, so the
per-row loops allocate nothing.

``A0`` is always ``YᵀY + λI`` computed once per half-step (Hu, Koren & Volinsky 2008, section
4: the "YᵀY + Yᵀ(Cᵤ − I)Y" trick), and ``zero`` is a scalar of the factors' dtype so the
accumulators stay float32 when the factors are float32 (as in ``implicit``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["cg_half_step", "cholesky_half_step", "nonzero_loss", "work_blocks"]


def work_blocks(indptr: np.ndarray, n_factors: int, n_blocks: int) -> np.ndarray:
    """Boundaries of ``n_blocks`` contiguous row ranges with about the same work each.

    A row costs about ``nnz_row`` dot/axpy pairs plus one ``f x f`` matrix-vector product,
    which we count as ``f / 4`` nonzeros.
    """
    n_rows = indptr.size - 1
    n_blocks = max(1, min(n_blocks, n_rows))
    work = np.diff(indptr).astype(np.float64) + n_factors / 4.0
    cumulative = np.r_[0.0, np.cumsum(work)]
    targets = np.linspace(0.0, cumulative[-1], n_blocks + 1)
    bounds = np.searchsorted(cumulative, targets).astype(np.int64)
    bounds[0], bounds[-1] = 0, n_rows
    return np.maximum.accumulate(bounds)


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def cg_half_step(indptr, indices, conf, X, Y, A0, cg_steps, blocks, zero):  # pragma: no cover
    """Conjugate-gradient update of every row of ``X`` (Takács, Pilászy & Tikk 2011).

    Solves ``(A0 + Yᵀ(Cᵤ − I)Y) xᵤ = YᵀCᵤpᵤ`` approximately with ``cg_steps`` CG steps
    started from the current ``xᵤ`` (warm start), touching only the row's nonzeros.
    """
    f = X.shape[1]
    for b in prange(blocks.size - 1):
        r = np.empty(f, dtype=X.dtype)
        p = np.empty(f, dtype=X.dtype)
        ap = np.empty(f, dtype=X.dtype)
        for u in range(blocks[b], blocks[b + 1]):
            x = X[u]
            lo = indptr[u]
            hi = indptr[u + 1]
            # residual r = b - A x, with b = sum_i c_ui y_i and A = A0 + sum_i (c_ui - 1) y_i y_iᵀ
            for a in range(f):
                acc = zero
                for c in range(f):
                    acc += A0[a, c] * x[c]
                r[a] = -acc
            for jj in range(lo, hi):
                i = indices[jj]
                cui = conf[jj]
                s = zero
                for a in range(f):
                    s += Y[i, a] * x[a]
                w = cui - (cui - 1) * s
                for a in range(f):
                    r[a] += w * Y[i, a]
            rs_old = zero
            for a in range(f):
                rs_old += r[a] * r[a]
                p[a] = r[a]
            if rs_old < 1e-20:
                continue
            for _ in range(cg_steps):
                for a in range(f):
                    acc = zero
                    for c in range(f):
                        acc += A0[a, c] * p[c]
                    ap[a] = acc
                for jj in range(lo, hi):
                    i = indices[jj]
                    s = zero
                    for a in range(f):
                        s += Y[i, a] * p[a]
                    w = (conf[jj] - 1) * s
                    for a in range(f):
                        ap[a] += w * Y[i, a]
                p_ap = zero
                for a in range(f):
                    p_ap += p[a] * ap[a]
                step = rs_old / p_ap
                rs_new = zero
                for a in range(f):
                    x[a] += step * p[a]
                    r[a] -= step * ap[a]
                    rs_new += r[a] * r[a]
                if rs_new < 1e-20:
                    break
                beta = rs_new / rs_old
                for a in range(f):
                    p[a] = r[a] + beta * p[a]
                rs_old = rs_new


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def cholesky_half_step(indptr, indices, conf, X, Y, A0, blocks):  # pragma: no cover
    """Exact update of every row of ``X`` (Hu, Koren & Volinsky 2008, eq. 4).

    Builds ``A = A0 + Σᵢ (cᵤᵢ − 1) yᵢyᵢᵀ`` (lower triangle) and ``b = Σᵢ cᵤᵢ yᵢ`` from the row's
    nonzeros only, then solves ``A xᵤ = b`` by a Cholesky factorisation, in float64.
    """
    f = X.shape[1]
    for blk in prange(blocks.size - 1):
        A = np.empty((f, f), dtype=np.float64)
        rhs = np.empty(f, dtype=np.float64)
        y = np.empty(f, dtype=np.float64)
        for u in range(blocks[blk], blocks[blk + 1]):
            lo = indptr[u]
            hi = indptr[u + 1]
            if hi == lo:  # nothing played: b = 0, so x = 0
                for a in range(f):
                    X[u, a] = 0.0
                continue
            for a in range(f):
                rhs[a] = 0.0
                for c in range(a + 1):
                    A[a, c] = A0[a, c]
            for jj in range(lo, hi):
                i = indices[jj]
                cui = np.float64(conf[jj])
                for a in range(f):
                    y[a] = Y[i, a]
                for a in range(f):
                    wa = (cui - 1.0) * y[a]
                    for c in range(a + 1):
                        A[a, c] += wa * y[c]
                    rhs[a] += cui * y[a]
            # in-place Cholesky A = L Lᵀ (lower triangle)
            for j in range(f):
                d = A[j, j]
                for k in range(j):
                    d -= A[j, k] * A[j, k]
                d = np.sqrt(d)
                A[j, j] = d
                for i in range(j + 1, f):
                    s = A[i, j]
                    for k in range(j):
                        s -= A[i, k] * A[j, k]
                    A[i, j] = s / d
            # forward substitution L z = b, then back substitution Lᵀ x = z
            for i in range(f):
                s = rhs[i]
                for k in range(i):
                    s -= A[i, k] * rhs[k]
                rhs[i] = s / A[i, i]
            for i in range(f - 1, -1, -1):
                s = rhs[i]
                for k in range(i + 1, f):
                    s -= A[k, i] * rhs[k]
                rhs[i] = s / A[i, i]
            for a in range(f):
                X[u, a] = rhs[a]


@njit(parallel=True, fastmath=True, cache=True, nogil=True)
def nonzero_loss(indptr, indices, conf, X, Y, blocks, zero):  # pragma: no cover
    """``Σ_{(u,i) played} [cᵤᵢ (1 − xᵤ·yᵢ)² − (xᵤ·yᵢ)²]``, in float64.

    Added to ``Σ_{all u,i} (xᵤ·yᵢ)² = trace(XᵀX YᵀY)`` this gives the data term of the
    objective over all ``n_users x n_items`` cells while touching only the nonzeros.
    """
    f = X.shape[1]
    partial = np.zeros(blocks.size - 1)
    for b in prange(blocks.size - 1):
        total = 0.0
        for u in range(blocks[b], blocks[b + 1]):
            for jj in range(indptr[u], indptr[u + 1]):
                i = indices[jj]
                s = zero
                for a in range(f):
                    s += X[u, a] * Y[i, a]
                s64 = np.float64(s)
                total += np.float64(conf[jj]) * (1.0 - s64) ** 2 - s64 * s64
        partial[b] = total
    return partial.sum()
