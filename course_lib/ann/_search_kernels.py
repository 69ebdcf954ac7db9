"""Compiled kernels of chapter 06's forest, part two: the best-first search and the re-ranking.

Private module of :mod:`course_lib.ann` (taught in chapter 06, section 4: searching all trees at
once). The readable version is :func:`course_lib.ann.search_candidates`; this is the same walk
written as numba loops (annoy's ``_get_all_nns``, Bernhardsson 2013, ``src/annoylib.h``). The
search reads a packed copy of the trees, one row per internal node (``[normal, offset, child0,
child1]``), so that opening a node touches one contiguous block; node references are as in
:mod:`course_lib.ann._kernels` (``r >= 0`` internal node, ``r < 0`` leaf ``-r - 1``).
"""

from __future__ import annotations

import numba
import numpy as np

from course_lib.ann._kernels import _dot


@numba.njit(nogil=True, cache=True)
def _before(pa: float, ra: int, pb: float, rb: int) -> bool:
    """Heap order: larger priority first; equal priorities (inherited ones are common) by ref."""
    return pa > pb or (pa == pb and ra < rb)


@numba.njit(nogil=True, cache=True)
def _heap_push(pri: np.ndarray, ref: np.ndarray, size: int, p: float, r: int) -> int:
    """Push onto a max-heap stored in ``pri``/``ref``; returns the new size."""
    i = size
    pri[i] = p
    ref[i] = r
    while i > 0:
        parent = (i - 1) >> 1
        if not _before(pri[i], ref[i], pri[parent], ref[parent]):
            break
        tp = pri[parent]
        pri[parent] = pri[i]
        pri[i] = tp
        tr = ref[parent]
        ref[parent] = ref[i]
        ref[i] = tr
        i = parent
    return size + 1


@numba.njit(nogil=True, cache=True)
def _heap_pop(pri: np.ndarray, ref: np.ndarray, size: int) -> int:
    """Remove the maximum (read it from ``pri[0]``/``ref[0]`` first); returns the new size."""
    size -= 1
    pri[0] = pri[size]
    ref[0] = ref[size]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= size:
            break
        best = left
        if left + 1 < size and _before(pri[left + 1], ref[left + 1], pri[left], ref[left]):
            best = left + 1
        if not _before(pri[best], ref[best], pri[i], ref[i]):
            break
        tp = pri[best]
        pri[best] = pri[i]
        pri[i] = tp
        tr = ref[best]
        ref[best] = ref[i]
        ref[i] = tr
        i = best
    return size


@numba.njit(nogil=True, fastmath=True, cache=True)
def collect_candidates(qt, nodes_f, nodes_i, leaves, leaf_items, roots, search_k, pri, ref, cand):
    """Best-first walk of all trees; fills ``cand`` and returns how many were written.

    ``nodes_f`` packs one internal node per row: ``[normal (dim), offset, child0, child1]``, the
    two children stored as int32 bits and read through ``nodes_i``, the same buffer viewed as
    int32 (one contiguous read per node). ``leaves[l] = (start, end)`` in ``leaf_items``.
    Each heap entry's priority is the smallest signed margin on its path (annoy's
    ``pq_distance``): a node is worth opening while the query lies well inside every half-space
    leading to it. Stops once ``search_k`` candidates (counted with repeats) are collected.
    """
    dim = nodes_f.shape[1] - 3
    size = 0
    for t in range(roots.shape[0]):
        size = _heap_push(pri, ref, size, np.inf, roots[t])
    n_cand = 0
    while n_cand < search_k and size > 0:
        d = pri[0]
        r = ref[0]
        size = _heap_pop(pri, ref, size)
        if r < 0:
            leaf = -r - 1
            for i in range(leaves[leaf, 0], leaves[leaf, 1]):
                cand[n_cand] = leaf_items[i]
                n_cand += 1
        else:
            row = nodes_f[r]
            m = row[dim] + _dot(row[:dim], qt)
            size = _heap_push(pri, ref, size, min(d, m), nodes_i[r, dim + 2])
            size = _heap_push(pri, ref, size, min(d, -m), nodes_i[r, dim + 1])
    return n_cand


@numba.njit(nogil=True, fastmath=True, cache=True)
def _rerank(qr, cand, n_cand, stamp, tag, rerank_vectors, sq_norms, kind, k, out_ids, out_dist):
    """Exact distances of the distinct candidates; keeps the ``k`` best sorted in ``out_*``.

    ``kind`` 0: angular (unit vectors, distance -cos), 1: euclidean (|x|^2 - 2 x.q), 2: dot (-x.q).
    """
    for j in range(k):
        out_ids[j] = -1
        out_dist[j] = np.inf
    for c in range(n_cand):
        item = cand[c]
        if stamp[item] == tag:
            continue
        stamp[item] = tag
        s = _dot(rerank_vectors[item], qr)
        if kind == 1:
            dist = sq_norms[item] - 2.0 * s
        else:
            dist = -s
        worst = out_dist[k - 1]
        if dist > worst or (dist == worst and out_ids[k - 1] >= 0 and item > out_ids[k - 1]):
            continue
        j = k - 1
        while j > 0 and (
            out_dist[j - 1] > dist or (out_dist[j - 1] == dist and out_ids[j - 1] > item)
        ):
            out_dist[j] = out_dist[j - 1]
            out_ids[j] = out_ids[j - 1]
            j -= 1
        out_dist[j] = dist
        out_ids[j] = item


@numba.njit(nogil=True, parallel=True, cache=True)
def query_batch(
    traversal_queries,
    rerank_queries,
    nodes_f,
    nodes_i,
    leaves,
    leaf_items,
    roots,
    rerank_vectors,
    sq_norms,
    kind,
    k,
    search_k,
    cand_cap,
    n_threads,
):
    """``query_batch`` of the forest, parallel over queries.

    Each thread owns its scratch (heap, candidates, "seen" stamps, top-k), picked by
    ``numba.get_thread_id()``; ``n_threads`` must equal ``numba.get_num_threads()``. Stamps are
    tagged with the query index, so they never need clearing. Run it under
    ``numba.parallel_chunksize`` for dynamic load balancing.
    """
    n_queries = traversal_queries.shape[0]
    n_items = rerank_vectors.shape[0]
    heap_cap = roots.shape[0] + nodes_f.shape[0] + 1
    ids = np.full((n_queries, k), -1, dtype=np.int32)
    pri = np.empty((n_threads, heap_cap), dtype=np.float32)
    ref = np.empty((n_threads, heap_cap), dtype=np.int32)
    cand = np.empty((n_threads, cand_cap), dtype=np.int32)
    stamp = np.full((n_threads, n_items), -1, dtype=np.int32)
    # top-k rows padded by 32 entries (128 bytes): threads never share a cache line
    out_dist = np.empty((n_threads, k + 32), dtype=np.float32)
    out_ids = np.empty((n_threads, k + 32), dtype=np.int32)
    for i in numba.prange(n_queries):
        t = numba.get_thread_id()
        n_cand = collect_candidates(
            traversal_queries[i],
            nodes_f,
            nodes_i,
            leaves,
            leaf_items,
            roots,
            search_k,
            pri[t],
            ref[t],
            cand[t],
        )
        _rerank(
            rerank_queries[i],
            cand[t],
            n_cand,
            stamp[t],
            i,
            rerank_vectors,
            sq_norms,
            kind,
            k,
            out_ids[t],
            out_dist[t],
        )
        ids[i] = out_ids[t, :k]
    return ids


@numba.njit(nogil=True, cache=True)
def candidates_one(qt, nodes_f, nodes_i, leaves, leaf_items, roots, search_k, cand_cap):
    """Compiled candidate list of one query (with repeats), for tests and teaching."""
    heap_cap = roots.shape[0] + nodes_f.shape[0] + 1
    pri = np.empty(heap_cap, dtype=np.float32)
    ref = np.empty(heap_cap, dtype=np.int32)
    cand = np.empty(cand_cap, dtype=np.int32)
    n_cand = collect_candidates(
        qt, nodes_f, nodes_i, leaves, leaf_items, roots, search_k, pri, ref, cand
    )
    return cand[:n_cand].copy()
