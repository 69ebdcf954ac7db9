"""When each Last.fm 1K user first played each item: the clock of the split by time.

Part of :mod:`course_lib.datasets`. Chapters 01 and 02 split Last.fm 1K by time
(:func:`course_lib.evaluation.split_plays_by_time`) when their ``dataset`` parameter is
``"lastfm_1k"``; :func:`course_lib.datasets.load_chapter_data` calls :func:`first_listens` after
:func:`~course_lib.datasets.load_lastfm_1k` has counted (and verified) the plays, reading the
log's timestamps in a second pass. Reference: Celma (2010), *Music Recommendation and Discovery*.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .archives import resolve
from .fields import quoted
from .lastfm_1k import LOG_FILE, LOG_NAMES
from .plays import PlayData
from .tsv import iter_tsv

__all__ = ["TIMESTAMP_FORMAT", "first_listens"]

#: How the log writes a time: ``2009-05-04T23:08:57Z`` (UTC).
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _stripped_indexer(index: pd.Index, values: pd.Series) -> np.ndarray:
    """Position in ``index`` of each value stripped of spaces (as the loader keyed them)."""
    local, uniques = pd.factorize(values)
    return index.get_indexer(pd.Index(uniques).str.strip())[local]


def first_listens(
    data: PlayData, *, max_lines: int | None = None, on_bad_lines: str = "error"
) -> sp.csr_matrix:
    """First-listen time (Unix seconds, UTC) of every (user, artist) pair of ``data.plays``.

    Parameters
    ----------
    data : PlayData
        What ``load_lastfm_1k(path, level="artist", ...)`` returned; its ``source`` is read
        again (archive, folder or ``.tsv``).
    max_lines, on_bad_lines
        The values given to ``load_lastfm_1k``, so that both passes read the same events.

    Returns
    -------
    scipy.sparse.csr_matrix, float64
        Same shape and sparsity pattern as ``data.plays``.

    Raises
    ------
    ValueError
        A timestamp that is not of the form ``2009-05-04T23:08:57Z`` (file, line and fix), or a
        log that no longer matches the counted plays (it changed between the two passes).
    """
    if "artist_name" not in data.items or "track_name" in data.items:
        raise ValueError(
            "first_listens needs Last.fm 1K plays at artist level: pass the result of "
            "load_lastfm_1k(path, level='artist')"
        )
    member = resolve(data.source, [LOG_FILE], "Last.fm 1K")[LOG_FILE]
    users = pd.Index(data.users["user_id"].astype(str))
    items = pd.Index(data.items["artist_name"].astype(str))
    n_items = len(items)
    parts = []
    blocks = iter_tsv(
        member,
        LOG_NAMES,
        usecols=[0, 1, 3],
        on_bad_lines=on_bad_lines,
        max_lines=max_lines,
        stats={"skipped_lines": 0},
    )
    for lines, frame in blocks:
        user = _stripped_indexer(users, frame["user_id"])
        item = _stripped_indexer(items, frame["artist_name"])
        known = (user >= 0) & (item >= 0)  # lines the first pass skipped are not known
        stamps = frame["timestamp"].to_numpy()[known]
        seconds = pd.to_datetime(stamps, format=TIMESTAMP_FORMAT, errors="coerce", utc=True)
        bad = np.flatnonzero(seconds.isna())
        if bad.size:
            line = int(lines[known][bad[0]])
            raise ValueError(
                f"{member.label}, line {line}: the timestamp {quoted(stamps[bad[0]])} is not of "
                "the form 2009-05-04T23:08:57Z. Fix: repair or delete the line"
            )
        key = user[known].astype(np.int64) * n_items + item[known]
        parts.append(pd.Series(seconds.asi8 // 10**9).groupby(key).min())
    first = pd.concat(parts).groupby(level=0).min() if parts else pd.Series(dtype=np.int64)
    keys = first.index.to_numpy(dtype=np.int64)
    matrix = sp.csr_matrix(
        (first.to_numpy(dtype=np.float64), (keys // n_items, keys % n_items)),
        shape=data.plays.shape,
    )
    matrix.sort_indices()
    plays = data.plays.tocsr()
    plays.sort_indices()
    if not (
        np.array_equal(matrix.indptr, plays.indptr)
        and np.array_equal(matrix.indices, plays.indices)
    ):
        raise ValueError(
            f"{member.label}: the timestamps do not cover exactly the counted plays (the file "
            "changed between the two passes?). Fix: load it again"
        )
    return matrix
