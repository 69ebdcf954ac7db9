"""Input checks shared by the files of :mod:`course_lib.fusion` (chapter 07).

Taught nowhere: chapter 07 meets these only as error messages. The general validators live in
:mod:`course_lib.validation`; what is here is specific to fusion: a world or a bare array, a
split into train/validation tracks, a list of source names, one row per track in every source.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from course_lib.validation import validate_index, validate_matrix


def from_world(world_or_array: Any, attr: str) -> Any:
    """``world.<attr>`` when given a music world, else the array itself."""
    return getattr(world_or_array, attr) if hasattr(world_or_array, attr) else world_or_array


def tag_counts(tags: Any, name: str = "tags") -> np.ndarray:
    """Tag counts (dense or sparse) as a finite, non-negative float32 matrix, one row per track."""
    counts = validate_matrix(tags.toarray() if sp.issparse(tags) else tags, name)
    if np.any(counts < 0):
        raise ValueError(
            f"{name} holds negative counts (min {counts.min()}); tag counts must be >= 0: "
            "pass how many times each tag was given to each track"
        )
    return counts


def source_names(sources: Any, name: str = "sources") -> tuple[str, ...]:
    """A non-empty tuple of source names; a bare string is refused (``["tags"]``, not ``"tags"``).

    Used by :func:`course_lib.fusion.fit_factor_mlp`.
    """
    if isinstance(sources, str):
        raise TypeError(
            f"{name} must be a list of source names, got the string {sources!r}; "
            f"pass {name}=[{sources!r}]"
        )
    names = tuple(sources)
    if not names:
        raise ValueError(f"{name} is empty: select at least one source, e.g. {name}=['tags']")
    return names


def split_parts(split: Mapping[str, Any], n: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``"train"`` and ``"val"`` row indices of a split into ``n`` tracks.

    Raises ``ValueError`` when a part is missing or empty, indexes outside the ``n`` rows, or
    when the two parts share tracks.
    """
    if not isinstance(split, Mapping):
        raise TypeError(
            f"split must be a dict with 'train' and 'val' index arrays, got {type(split).__name__}"
            " (use convnet.split_tracks)"
        )
    for part in ("train", "val"):
        if part not in split:
            raise ValueError(f"split needs a {part!r} array (use convnet.split_tracks)")
    train = validate_index(split["train"], n, "split['train']")
    val = validate_index(split["val"], n, "split['val']")
    if train.size == 0 or val.size == 0:
        raise ValueError("the train and validation parts of the split must be non-empty")
    if np.intersect1d(train, val).size:
        raise ValueError("train and validation rows overlap; use disjoint parts of the split")
    return train, val


def same_rows(arrays: Sequence[np.ndarray], names: Sequence[str], what: str) -> int:
    """The common number of rows of ``arrays``, or a ``ValueError`` listing each one's count."""
    counts = {name: len(a) for name, a in zip(names, arrays)}
    if len(set(counts.values())) != 1:
        raise ValueError(
            f"{what} have different numbers of rows {counts}; "
            "every source needs one row per track, in the same order"
        )
    return next(iter(counts.values()))
