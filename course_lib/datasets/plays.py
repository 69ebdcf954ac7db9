"""Play counts from raw (user, item, count) rows: the result type and the matrix builder.

Part of :mod:`course_lib.datasets`. No chapter teaches it: the data cards in ``datasets/`` use the
loaders (the chapters run on the synthetic music world, :mod:`course_lib.music_world`).

The orientation is the music world's: a ``scipy.sparse.csr_matrix`` of shape
(n_users, n_items), dtype int32; raw identifiers map to contiguous indices, kept in
``user_index`` / ``item_index``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .fields import INT32_MAX, first_repeat, scalar, shorten

__all__ = ["PlayData", "Vocab", "build_plays", "warn_merged"]


@dataclass(repr=False)
class PlayData:
    """Play counts with their users and items, in the music world's orientation.

    Attributes
    ----------
    plays : scipy.sparse.csr_matrix, int32, shape (n_users, n_items)
        Play counts (implicit feedback; zero means "not observed", not "disliked").
    users : pandas.DataFrame
        Row u describes row u of ``plays``; column ``user_id`` holds the raw id.
    items : pandas.DataFrame
        Row i describes column i of ``plays`` (columns depend on the data set).
    user_index, item_index : dict
        Raw id -> contiguous index (the inverse of ``users`` / ``items``).
    info : dict
        Counts worth knowing (lines read, lines skipped, rows dropped, ...) and
        ``info["checksum"]``: what was verified.
    source : str
        Where the data were read from.
    """

    plays: sp.csr_matrix
    users: pd.DataFrame
    items: pd.DataFrame
    user_index: dict[Any, int]
    item_index: dict[Any, int]
    info: dict[str, Any]
    source: str

    def __repr__(self) -> str:
        n_users, n_items = self.plays.shape
        return (
            f"{type(self).__name__}({n_users} users x {n_items} items, {self.plays.nnz} nonzero "
            f"play counts, from {self.source})"
        )


class Vocab:
    """Grow a raw-key -> code table block by block; normalise and sort the keys at the end.

    ``normalize`` maps a raw key to its final form (default: strip surrounding spaces, so that
    ``"SOAAA "`` and ``"SOAAA"`` are one song). Only the distinct keys are normalised, once, in
    :meth:`sorted`; :attr:`merged` then lists the keys that several raw spellings became.
    """

    def __init__(self, normalize: Callable[[Any], Any] = str.strip) -> None:
        self.index: dict[Any, int] = {}
        self.normalize = normalize
        self.merged: list[tuple[Any, list[Any]]] = []  # the first three
        self.n_merged = 0

    def lookup(self, uniques: Sequence[Any]) -> np.ndarray:
        """Global codes of distinct keys, adding the new ones."""
        index = self.index
        return np.fromiter(
            (index.setdefault(u, len(index)) for u in uniques), np.int64, len(uniques)
        )

    def codes(self, values: pd.Series) -> np.ndarray:
        """Global code of every value (only the block's distinct values touch the dict)."""
        local, uniques = pd.factorize(values)
        return self.lookup(uniques.to_numpy(dtype=object))[local]

    def sorted(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (normalised keys in sorted order, array old code -> new code).

        Raw keys that normalise to the same key get the same new code; :attr:`merged` lists
        ``(key, raw spellings)`` for the first three such keys, :attr:`n_merged` counts them.
        """
        raw = np.empty(len(self.index), dtype=object)
        raw[:] = list(self.index)
        normal = np.empty(len(raw), dtype=object)
        normal[:] = [self.normalize(k) for k in raw]
        keys, remap = np.unique(normal, return_inverse=True)
        remap = remap.reshape(-1).astype(np.int64)
        merged = np.flatnonzero(np.bincount(remap, minlength=len(keys)) > 1)
        self.n_merged = len(merged)
        self.merged = [(keys[k], sorted(raw[remap == k])) for k in merged[:3]]
        return keys, remap


def warn_merged(vocab: Vocab, label: str, what: str) -> int:
    """Warn once when stripping spaces merged raw ids of ``what``; return how many merged."""
    if not vocab.merged:
        return 0
    key, spellings = vocab.merged[0]
    shown = " and ".join(shorten(repr(s), 60) for s in spellings[:3])
    more = f" (and {vocab.n_merged - 1} more {what}s)" if vocab.n_merged > 1 else ""
    warnings.warn(
        f"{label}: {shown} differ only by spaces around them and were read as one {what}, "
        f"{shorten(repr(key), 60)}{more}: ids are stripped of surrounding spaces, so their plays "
        "count together. Fix: nothing, if they are one; if they really differ, give them "
        "distinct ids in the file",
        UserWarning,
        stacklevel=3,
    )
    return vocab.n_merged


def build_plays(
    users: np.ndarray,
    items: np.ndarray,
    counts: np.ndarray,
    lines: np.ndarray,
    shape: tuple[int, int],
    *,
    duplicates: str,
    label: str,
    user_keys: np.ndarray,
    item_keys: np.ndarray,
) -> sp.csr_matrix:
    """csr (n_users, n_items) int32 of summed counts; raise on duplicates unless summing.

    Raises
    ------
    ValueError
        A repeated (user, item) pair with ``duplicates="error"`` (naming both lines), or a
        summed count beyond the int32 range.
    """
    matrix = sp.coo_matrix((counts.astype(np.int64), (users, items)), shape=shape).tocsr()
    matrix.sum_duplicates()
    if duplicates == "error" and matrix.nnz < len(counts):
        key = users.astype(np.int64) * shape[1] + items
        repeat = first_repeat(key, lines)
        assert repeat is not None
        j, first = repeat
        user, item = (
            shorten(repr(scalar(k)), 60) for k in (user_keys[users[j]], item_keys[items[j]])
        )
        pair = f"({user}, {item})"
        raise ValueError(
            f"{label}, line {lines[j]}: duplicate (user, item) pair {pair}, first seen on "
            f"line {lines[first]}. Fix: pass duplicates='sum' to add their counts, or delete a row"
        )
    if matrix.nnz and matrix.data.max() > INT32_MAX:
        raise ValueError(
            f"{label}: a summed play count exceeds the int32 range. Fix: check the file for "
            "corrupt counts or repeated rows"
        )
    matrix.data = matrix.data.astype(np.int32)
    matrix.indices = matrix.indices.astype(np.int32)
    matrix.indptr = matrix.indptr.astype(np.int32)
    return matrix
