"""Small vector helpers shared by the topics that compare directions (chapters 04-07).

Cosine similarity, the angular metric of annoy (chapter 06) and the cosine loss of the fusion
networks (chapter 07, Nieto 2017) all compare rows by direction only; :func:`unit_rows` is the one
place where rows are scaled to unit length.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["unit_rows"]


def unit_rows(x: Any, dtype: Any = np.float32) -> np.ndarray:
    """Each row of ``x`` divided by its Euclidean norm; all-zero rows stay zero.

    Parameters
    ----------
    x : array (n, dim)
    dtype : numpy dtype
        Of the result (float32 by default, the dtype the indexes and networks use).
    """
    arr = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(arr, axis=-1, keepdims=True)
    return np.divide(arr, norms, out=np.zeros_like(arr), where=norms > 0).astype(dtype)
