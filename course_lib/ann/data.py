"""Test data for chapter 06: a synthetic catalogue of clustered embedding vectors.

Taught in chapter 06 (approximate nearest neighbours), section 1, where it is the synthetic
catalogue that brute force and the forests search; ``benchmarks/ann.py`` uses it at 1M x 64.
"""

from __future__ import annotations

import numpy as np

from course_lib.validation import require_int, require_number

__all__ = ["make_clustered_vectors"]


def make_clustered_vectors(
    n: int,
    dim: int = 64,
    n_clusters: int = 1000,
    intrinsic_dim: int = 8,
    noise: float = 0.05,
    seed: int = 0,
) -> np.ndarray:
    """A synthetic catalogue of embedding vectors: clusters spread along low-dimensional subspaces.

    Learned embeddings (ALS factors, word vectors) have a low intrinsic dimension: tracks of one
    style vary along a few directions only. Each cluster here has a random centre, a random
    ``intrinsic_dim``-dimensional orientation and its own spread; cluster sizes follow a Zipf-like
    law; ``noise`` adds a little isotropic jitter. Deterministic for a seed.

    Returns
    -------
    np.ndarray, float32, shape (n, dim)

    Raises
    ------
    TypeError
        ``n``, ``dim``, ``n_clusters``, ``intrinsic_dim`` or ``seed`` not an integer (a bool or a
        string included), ``noise`` not a number.
    ValueError
        A count below 1, a negative seed, a negative or non-finite ``noise``.
    """
    n = require_int(n, "n", 1)
    dim = require_int(dim, "dim", 1)
    n_clusters = require_int(n_clusters, "n_clusters", 1)
    intrinsic_dim = require_int(intrinsic_dim, "intrinsic_dim", 1)
    noise = require_number(noise, "noise", minimum=0.0)
    seed = require_int(seed, "seed", 0)
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, dim)).astype(np.float32)
    weights = 1.0 / np.arange(1, n_clusters + 1) ** 0.5
    labels = np.sort(rng.choice(n_clusters, size=n, p=weights / weights.sum()))
    spread = rng.uniform(0.2, 0.6, size=n_clusters)
    out = np.empty((n, dim), dtype=np.float32)
    bounds = np.searchsorted(labels, np.arange(n_clusters + 1))
    for c in range(n_clusters):
        lo, hi = bounds[c], bounds[c + 1]
        if hi == lo:
            continue
        basis = rng.normal(size=(intrinsic_dim, dim)).astype(np.float32) / np.sqrt(intrinsic_dim)
        z = rng.normal(scale=spread[c], size=(hi - lo, intrinsic_dim)).astype(np.float32)
        out[lo:hi] = centres[c] + z @ basis
    out += noise * rng.normal(size=(n, dim)).astype(np.float32)
    return out[rng.permutation(n)]
