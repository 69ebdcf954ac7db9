"""Compiled kernels of chapter 06's forest, part one: random numbers, the split rule, tree building.

Private module of :mod:`course_lib.ann` (taught in chapter 06, sections 2 and 3: one split, then a
tree). The readable versions live in :mod:`course_lib.ann.splits` and the chapter; these are the
same algorithms written as numba loops over flat arrays, so that a tree is grown without one
Python object per node. The algorithms follow annoy (Bernhardsson 2013, ``src/annoylib.h``): the
split of a node is the hyperplane equidistant from two centroids found by a 200-step online
2-means. The search kernels are in :mod:`course_lib.ann._search_kernels`.

Node references: a tree's children are stored as ``int32`` references; ``r >= 0`` is internal
node ``r``, ``r < 0`` is leaf ``-r - 1`` whose items are ``leaf_items[start:end]``. The builder
returns separate arrays per tree; :class:`course_lib.ann.RandomHyperplaneForest` packs them.
"""

from __future__ import annotations

import math

import numba
import numpy as np

TWO_MEANS_STEPS = 200  # annoy's ``iteration_steps``
SPLIT_ATTEMPTS = 3  # annoy tries up to 3 hyperplanes while a split leaves > 95 % on one side,
MAX_IMBALANCE = 0.95
MAX_IMBALANCE_RANDOM = 0.99  # then falls back to random sides only above 99 %

_U12 = np.uint64(12)
_U25 = np.uint64(25)
_U27 = np.uint64(27)
_MULT = np.uint64(2685821657736338717)


@numba.njit(nogil=True, cache=True)
def _next(state: np.ndarray) -> np.uint64:
    """xorshift64* (Vigna 2016): one 64-bit draw; ``state`` is a uint64 array of length 1."""
    x = state[0]
    x ^= x >> _U12
    x ^= x << _U25
    x ^= x >> _U27
    state[0] = x
    return x * _MULT


@numba.njit(nogil=True, cache=True)
def _index(state: np.ndarray, n: int) -> int:
    return np.int64(_next(state) % np.uint64(n))


@numba.njit(nogil=True, cache=True)
def _flip(state: np.ndarray) -> int:
    return np.int64((_next(state) >> np.uint64(40)) & np.uint64(1))


@numba.njit(nogil=True, fastmath=True, cache=True)
def _dot(x: np.ndarray, y: np.ndarray) -> float:
    s = np.float32(0.0)
    for z in range(x.shape[0]):
        s += x[z] * y[z]
    return s


@numba.njit(nogil=True, cache=True)
def _dot64(x: np.ndarray, y: np.ndarray) -> float:
    """Sequential float64 dot product, no fast-math: the build's arithmetic, which numpy
    reproduces up to the order of a sum (so chapter 06 can rebuild the same trees)."""
    s = 0.0
    for z in range(x.shape[0]):
        s += np.float64(x[z]) * np.float64(y[z])
    return s


@numba.njit(nogil=True, cache=True)
def _angular_distance(pp: float, qq: float, pq: float) -> float:
    ppqq = pp * qq
    if ppqq > 0:
        return 2.0 - 2.0 * pq / math.sqrt(ppqq)
    return 2.0


@numba.njit(nogil=True, cache=True)
def two_means(
    data: np.ndarray,
    perm: np.ndarray,
    lo: int,
    hi: int,
    cosine: bool,
    state: np.ndarray,
    inner_product: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """annoy's two-centroid heuristic on the rows ``data[perm[lo:hi]]`` (needs ``hi - lo >= 2``).

    Two distinct random points start the centroids; then 200 random points each move the centroid
    they are closer to (distance weighted by the centroid's count, which keeps the halves balanced).
    With ``cosine`` the points are unit-normalised before they are averaged. The arithmetic is
    float64 without fast-math (annoy's is float32), so that numpy reproduces the same centroids
    and chapter 06 can rebuild the library's trees.

    With ``inner_product`` (the ``"dot"`` metric: rows are :func:`course_lib.ann.mips_transform`-ed,
    the extra coordinate last) the rule is annoy 1.17's ``DotProduct``: a point joins the centroid
    with the larger inner product over the original coordinates (count-weighted), and only those
    coordinates, normalised by their own length, are averaged in. Points are grouped by what a
    query will rank them by, which keeps the trees of a MIPS index far more useful than angles on
    the transformed vectors, where most items crowd around one pole.
    """
    dim = data.shape[1]
    count = hi - lo
    i = _index(state, count)
    j = _index(state, count - 1)
    if j >= i:
        j += 1
    p = data[perm[lo + i]].astype(np.float64)
    q = data[perm[lo + j]].astype(np.float64)
    if cosine:
        pn = math.sqrt(_dot64(p, p))
        qn = math.sqrt(_dot64(q, q))
        if pn > 0:
            p /= pn
        if qn > 0:
            q /= qn
    pp = _dot64(p, p)
    qq = _dot64(q, q)
    ic = 1
    jc = 1
    for _ in range(TWO_MEANS_STEPS):
        x = data[perm[lo + _index(state, count)]]
        xx = _dot64(x, x)
        px = _dot64(p, x)
        qx = _dot64(q, x)
        n_mean = dim  # coordinates that take part in the running means
        if inner_product:
            n_mean = dim - 1  # the MIPS coordinate takes no part in the assignment or the means
            di = -ic * (px - p[n_mean] * x[n_mean])
            dj = -jc * (qx - q[n_mean] * x[n_mean])
            norm = math.sqrt(max(xx - np.float64(x[n_mean]) * x[n_mean], 0.0))
        elif cosine:
            di = ic * _angular_distance(pp, xx, px)
            dj = jc * _angular_distance(qq, xx, qx)
            norm = math.sqrt(xx)
        else:
            di = ic * (pp + xx - 2.0 * px)
            dj = jc * (qq + xx - 2.0 * qx)
            norm = 1.0
        if not norm > 0:
            continue
        if di < dj:
            a = ic / (ic + 1)
            b = 1.0 / norm / (ic + 1)
            for z in range(n_mean):
                p[z] = p[z] * a + x[z] * b
            pp = _dot64(p, p)
            ic += 1
        elif dj < di:
            a = jc / (jc + 1)
            b = 1.0 / norm / (jc + 1)
            for z in range(n_mean):
                q[z] = q[z] * a + x[z] * b
            qq = _dot64(q, q)
            jc += 1
    return p, q


@numba.njit(nogil=True, cache=True)
def split_from_centroids(p: np.ndarray, q: np.ndarray, cosine: bool) -> tuple[np.ndarray, float]:
    """Unit normal ``(p - q)/|p - q|`` and offset ``-normal . (p + q)/2`` (0 for angular)."""
    normal = p.astype(np.float64) - q.astype(np.float64)
    norm = math.sqrt(np.sum(normal * normal))
    if norm > 0:
        normal /= norm
    offset = 0.0
    if not cosine:
        offset = -np.sum(normal * (p.astype(np.float64) + q.astype(np.float64)) * 0.5)
    return normal, offset


@numba.njit(nogil=True, cache=True)
def build_tree(
    data: np.ndarray, leaf_size: int, cosine: bool, seed: np.uint64, inner_product: bool
):
    """Grow one random-hyperplane tree over all rows of ``data``.

    Returns ``normals (m, d) float32, offsets (m,) float32, children (m, 2) int32, leaf_start (l,)
    int64, leaf_end (l,) int64, leaf_items (n,) int32, root int32``: ``m`` internal nodes, ``l``
    leaves, and the item permutation whose contiguous slices are the leaves.
    """
    n, dim = data.shape
    state = np.empty(1, dtype=np.uint64)
    state[0] = seed if seed != 0 else np.uint64(88172645463325252)
    for _ in range(4):  # warm up the generator
        _next(state)
    perm = np.arange(n).astype(np.int32)
    side = np.empty(n, dtype=np.int8)
    scratch = np.empty(n, dtype=np.int32)

    cap = 16 + (4 * n) // max(leaf_size, 1)
    normals = np.zeros((cap, dim), dtype=np.float32)
    offsets = np.zeros(cap, dtype=np.float32)
    children = np.zeros((cap, 2), dtype=np.int32)
    n_internal = 0
    leaf_cap = 16 + (4 * n) // max(leaf_size, 1)
    leaf_start = np.zeros(leaf_cap, dtype=np.int64)
    leaf_end = np.zeros(leaf_cap, dtype=np.int64)
    n_leaves = 0

    max_depth = int(math.log(n + 1.0) / -math.log(MAX_IMBALANCE_RANDOM)) + 64
    stack = np.zeros((2 * max_depth, 4), dtype=np.int64)  # lo, hi, parent, side
    stack[0, 0] = 0
    stack[0, 1] = n
    stack[0, 2] = -1
    top = 1
    root = np.int32(0)
    while top > 0:
        top -= 1
        lo = stack[top, 0]
        hi = stack[top, 1]
        parent = stack[top, 2]
        which = stack[top, 3]
        size = hi - lo
        if size <= leaf_size or size == 1:
            if n_leaves == leaf_cap:
                leaf_cap *= 2
                new_start = np.zeros(leaf_cap, dtype=np.int64)
                new_end = np.zeros(leaf_cap, dtype=np.int64)
                new_start[:n_leaves] = leaf_start[:n_leaves]
                new_end[:n_leaves] = leaf_end[:n_leaves]
                leaf_start = new_start
                leaf_end = new_end
            leaf_start[n_leaves] = lo
            leaf_end[n_leaves] = hi
            ref = np.int32(-n_leaves - 1)
            n_leaves += 1
        else:
            if n_internal == cap:
                cap *= 2
                new_normals = np.zeros((cap, dim), dtype=np.float32)
                new_offsets = np.zeros(cap, dtype=np.float32)
                new_children = np.zeros((cap, 2), dtype=np.int32)
                new_normals[:n_internal] = normals[:n_internal]
                new_offsets[:n_internal] = offsets[:n_internal]
                new_children[:n_internal] = children[:n_internal]
                normals = new_normals
                offsets = new_offsets
                children = new_children
            node = n_internal
            n_internal += 1
            for _attempt in range(SPLIT_ATTEMPTS):
                p, q = two_means(data, perm, lo, hi, cosine, state, inner_product)
                normal, offset = split_from_centroids(p, q, cosine)
                normals[node] = normal.astype(np.float32)
                offsets[node] = np.float32(offset)
                n_right = 0
                for t in range(lo, hi):
                    m = np.float64(offsets[node]) + _dot64(normals[node], data[perm[t]])
                    if m > 0:
                        side[t] = 1
                    elif m < 0:
                        side[t] = 0
                    else:
                        side[t] = _flip(state)
                    n_right += side[t]
                if max(n_right, size - n_right) / size < MAX_IMBALANCE:
                    break
            while max(n_right, size - n_right) / size > MAX_IMBALANCE_RANDOM:
                # no useful hyperplane (duplicates): split at random, like annoy; the zero
                # normal then gives both children the same priority at query time
                normals[node] = 0.0
                offsets[node] = 0.0
                n_right = 0
                for t in range(lo, hi):
                    side[t] = _flip(state)
                    n_right += side[t]
            n_left = size - n_right
            a = lo
            b = lo + n_left
            for t in range(lo, hi):
                if side[t] == 0:
                    scratch[a] = perm[t]
                    a += 1
                else:
                    scratch[b] = perm[t]
                    b += 1
            perm[lo:hi] = scratch[lo:hi]
            ref = np.int32(node)
            stack[top, 0] = lo + n_left  # right child (side 1)
            stack[top, 1] = hi
            stack[top, 2] = node
            stack[top, 3] = 1
            stack[top + 1, 0] = lo  # left child (side 0), processed first
            stack[top + 1, 1] = lo + n_left
            stack[top + 1, 2] = node
            stack[top + 1, 3] = 0
            top += 2
        if parent < 0:
            root = ref
        else:
            children[parent, which] = ref
    return (
        normals[:n_internal].copy(),
        offsets[:n_internal].copy(),
        children[:n_internal].copy(),
        leaf_start[:n_leaves].copy(),
        leaf_end[:n_leaves].copy(),
        perm,
        root,
    )
