"""Argument checks shared by the files of :mod:`course_lib.inspection` (taught in chapter 05).

Chapter 05 meets them only as error messages: a playlist longer than the catalogue, a candidate
pool that indexes another catalogue, activations spoiled by NaN.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib.validation import require_int, validate_index


def require_k(k: Any, n: int, name: str = "k", what: str = "tracks") -> int:
    """``k`` as an int in ``[1, n]``: a list of ``k`` items drawn from ``n`` available ones."""
    k = require_int(k, name, 1)
    if k > n:
        raise ValueError(
            f"{name}={k} is larger than the {n} {what} available; ask for at most {name}={n}"
        )
    return k


def candidate_pool(candidates: Any, n: int) -> np.ndarray:
    """Sorted unique track indices from ``None`` (all ``n``), a boolean mask or an index array."""
    if candidates is None:
        return np.arange(n)
    c = np.asarray(candidates)
    if c.dtype == bool:
        if c.shape != (n,):
            raise ValueError(
                f"a boolean candidates mask needs one entry per track ({n}), got shape {c.shape}"
            )
        return np.flatnonzero(c)
    return np.unique(validate_index(c, n, "candidates"))


def validate_activations(activations: Any, name: str = "activations") -> np.ndarray:
    """Layer outputs ``(n_tracks, time, filters)`` or ``(n_tracks, units)``, finite, non-empty."""
    a = np.asarray(activations)
    if a.dtype == object or a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    if a.ndim not in (2, 3):
        raise ValueError(
            f"{name} must be (n_tracks, time, filters) or (n_tracks, units), got shape {a.shape}; "
            "pass the output of layer_activations(model, layer_name, log_mels)"
        )
    if a.size == 0:
        raise ValueError(f"{name} is empty (shape {a.shape}): it needs tracks and filters")
    if not np.isfinite(a.sum(dtype=np.float64)):  # any NaN or inf makes the sum non-finite
        bad = np.flatnonzero(~np.isfinite(a.reshape(len(a), -1)).all(axis=1))
        more = "..." if bad.size > 5 else ""
        raise ValueError(
            f"{name} contain NaN or infinite values (tracks {bad[:5].tolist()}{more}): the "
            "spectrograms or the model's weights are broken; check np.isfinite on the log-mels "
            "and retrain (or reload) the model"
        )
    return a


def as_lists(lists: Any, name: str = "lists") -> list[np.ndarray]:
    """Recommendation lists (a 2-D array or a sequence of index sequences) as 1-D int arrays."""
    if isinstance(lists, np.ndarray) and lists.ndim == 2:
        rows = list(lists)
    else:
        rows = [np.asarray(row).ravel() for row in lists]
    for row in rows:
        if row.size and row.dtype.kind not in "iu":
            raise TypeError(
                f"{name} must hold integer track indices, got dtype {row.dtype}; "
                "pass the output of neighbour_lists or filter_playlist(...).tracks"
            )
    return [row.astype(np.int64) for row in rows]
