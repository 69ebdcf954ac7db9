"""annoy's split rule: two centroids of a node's points and the hyperplane equidistant from them.

Taught in chapter 06 (approximate nearest neighbours), section 2 ("One split: the hyperplane
between two points"), and practised in exercise 6.1. The compiled versions that build the trees
are :func:`course_lib.ann._kernels.two_means` and ``split_from_centroids``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib.ann import _kernels
from course_lib.ann.exact import METRICS
from course_lib.ann.mips import mips_transform
from course_lib.validation import require_choice, require_int, validate_matrix

__all__ = ["TreeRandom", "split_hyperplane", "two_means"]

_MASK = 2**64 - 1


def _point(x: Any, name: str) -> np.ndarray:
    """A finite, non-empty 1-D float64 vector, or a clear error."""
    arr = np.asarray(x)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a vector of real numbers, got dtype {arr.dtype}")
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"{name} must be a non-empty 1-D vector (one point), got shape {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise ValueError(
            f"{name} contains NaN or infinite values at {np.flatnonzero(~np.isfinite(arr))[:5]}; "
            "a split needs two real points"
        )
    return arr.astype(np.float64)


def split_hyperplane(
    p: np.ndarray, q: np.ndarray, metric: str = "angular"
) -> tuple[np.ndarray, float]:
    """The hyperplane equidistant from two points: ``normal . x + offset = 0``.

    ``normal . x + offset > 0`` on ``p``'s side. Euclidean: ``normal = (p - q)/|p - q|`` and
    ``offset = -normal . (p + q)/2`` (the plane through the midpoint). Angular: ``p`` and ``q``
    are first scaled to unit length and the plane passes through the origin (``offset = 0``), so
    the side of ``x`` depends only on its direction: ``cos(x, p) > cos(x, q)``. ``"dot"`` splits
    like angular: its trees are angular trees on :func:`~course_lib.ann.mips_transform`-ed points.
    This is annoy's ``create_split`` (Bernhardsson 2013, ``annoylib.h``).

    Raises
    ------
    TypeError
        ``p`` or ``q`` not made of real numbers.
    ValueError
        An unknown metric; ``p``, ``q`` not 1-D vectors of one length, empty, or holding NaN or
        infinite values; ``p == q`` (no plane is equidistant from one point); for the angular
        metric, a zero vector (it has no direction) or ``p`` and ``q`` pointing the same way.
    """
    require_choice(metric, "metric", METRICS)
    p = _point(p, "p")
    q = _point(q, "q")
    if p.shape != q.shape:
        raise ValueError(f"p and q must be 1-D of the same length, got {p.shape} and {q.shape}")
    if metric != "euclidean":
        for name, vector in (("p", p), ("q", q)):
            if not np.linalg.norm(vector) > 0:
                raise ValueError(
                    f"{name} is the zero vector, which has no direction; the angular metric "
                    "compares directions only, so pass two non-zero points"
                )
        p = p / np.linalg.norm(p)
        q = q / np.linalg.norm(q)
    if np.array_equal(p, q):
        same = "point the same way" if metric != "euclidean" else "are the same point"
        raise ValueError(
            f"p and q {same}: no plane lies between them; pick two different "
            f"{'directions' if metric != 'euclidean' else 'points'}"
        )
    normal, offset = _kernels.split_from_centroids(p, q, metric != "euclidean")
    return normal, float(offset)


def two_means(
    points: np.ndarray, metric: str = "angular", seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """annoy's two centroids of a node's points (the split is the plane between them).

    The random draws are those of ``TreeRandom(seed)`` (tree 0 of a forest with this seed).
    Start from two distinct random points; then 200 random points in turn move the nearer centroid
    towards themselves (a running mean). Distances are weighted by each centroid's count, which
    keeps the two halves balanced. Angular: points are unit-normalised before averaging. Dot:
    the points are first :func:`~course_lib.ann.mips_transform`-ed, as the forest does, and
    grouped by inner product over their original coordinates (annoy's ``DotProduct``;
    Bernhardsson 2013, ``annoylib.h``).

    Returns
    -------
    (p, q) : two arrays of shape (dim,), or (dim + 1,) for ``"dot"``

    Raises
    ------
    TypeError
        ``points`` sparse or not numeric; ``seed`` not an integer.
    ValueError
        An unknown metric; ``points`` not 2-D, with NaN or infinite values, or fewer than 2 rows;
        a negative seed.
    """
    require_choice(metric, "metric", METRICS)
    pts = validate_matrix(points, "points")
    seed = require_int(seed, "seed", 0)
    if pts.shape[0] < 2:
        raise ValueError(f"two_means needs at least 2 points, got {pts.shape[0]}")
    # the state of tree 0 of a forest with this seed, so TreeRandom(seed) replays these draws
    state = np.array([TreeRandom(seed)._state], np.uint64)
    if metric == "dot":
        pts = mips_transform(pts)[0]
    perm = np.arange(pts.shape[0], dtype=np.int32)
    cosine = metric != "euclidean"
    return _kernels.two_means(pts, perm, 0, pts.shape[0], cosine, state, metric == "dot")


class TreeRandom:
    """The random draws of tree ``tree`` of a forest built with ``seed``, in plain Python.

    The compiled builder draws from xorshift64* (Vigna 2016), seeded per tree from
    ``np.random.SeedSequence(seed)``; this class yields the same numbers, so that chapter 06
    can grow, with numpy, the very trees of :class:`~course_lib.ann.RandomHyperplaneForest`.
    ``integer(n)`` is a draw in ``0 .. n - 1``; ``coin()`` is 0 or 1.

    Raises
    ------
    TypeError, ValueError
        ``seed`` or ``tree`` not an integer >= 0.
    """

    def __init__(self, seed: int, tree: int = 0) -> None:
        seed = require_int(seed, "seed", 0)
        tree = require_int(tree, "tree", 0)
        state = np.random.SeedSequence(seed).generate_state(tree + 1, np.uint64)[tree]
        self._state = int(state) or 88172645463325252  # xorshift needs a non-zero state
        for _ in range(4):  # the compiled builder warms up the same way
            self._next()

    def _next(self) -> int:
        x = self._state
        x ^= x >> 12
        x ^= (x << 25) & _MASK
        x ^= x >> 27
        self._state = x
        return (x * 2685821657736338717) & _MASK

    def integer(self, n: int) -> int:
        """A draw in ``0 .. n - 1`` (``n >= 1``)."""
        return self._next() % n

    def coin(self) -> int:
        """0 or 1."""
        return (self._next() >> 40) & 1
