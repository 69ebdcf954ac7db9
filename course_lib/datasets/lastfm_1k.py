"""The Last.fm 1K listening log (Celma 2010), aggregated into user x item play counts.

Part of :mod:`course_lib.datasets`. No chapter teaches it: the data card
``datasets/lastfm_1k.md`` uses it, and chapters 01, 02, 02b and 06 read it through
:func:`~course_lib.datasets.load_chapter_data` when their ``dataset`` parameter is
``"lastfm_1k"`` (by default they run on the synthetic music world). Reference: Celma (2010),
*Music Recommendation and Discovery*.
"""

from __future__ import annotations

import os
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from course_lib.validation import require_choice, require_int

from .archives import resolve
from .catalog import registry
from .checksums import ContentCheck
from .download import locate
from .fields import empty_mask, nonempty
from .plays import PlayData, Vocab, warn_merged
from .tsv import iter_tsv

__all__ = ["LOG_FILE", "LOG_NAMES", "load_lastfm_1k"]

PathLike = str | os.PathLike[str]

LOG_FILE = "userid-timestamp-artid-artname-traid-traname.tsv"
LOG_NAMES = ["user_id", "timestamp", "artist_mbid", "artist_name", "track_mbid", "track_name"]


def load_lastfm_1k(
    path: PathLike | None = None,
    *,
    level: Literal["artist", "track"] = "artist",
    on_bad_lines: Literal["error", "skip"] = "error",
    max_lines: int | None = None,
    verify: bool = True,
) -> PlayData:
    """Aggregate the Last.fm 1K listening log (Celma 2010) into play counts.

    Each line of ``userid-timestamp-artid-artname-traid-traname.tsv`` is one listening event;
    the count of a (user, item) cell is the number of events, so repeated events are the
    signal, not duplicates.

    Parameters
    ----------
    path : path-like, optional
        ``lastfm-dataset-1K.tar.gz``, the extracted folder, or the ``.tsv`` itself. ``None``
        downloads the registered archive into :func:`~course_lib.datasets.data_dir`; no hash of
        the archive is published, so its files are checked against the MD5 sums the data set's
        page publishes, once, after the download.
    level : {"artist", "track"}
        Items are artists (keyed by artist *name*: a third of the artists have no MusicBrainz
        id) or tracks (keyed by artist name and track name).
    on_bad_lines : {"error", "skip"}
        Lines with the wrong number of fields, bytes that are not UTF-8, or an empty user /
        artist / track name raise (default) or are skipped and counted in
        ``info["skipped_lines"]``.
    max_lines : int, optional
        Read only the first ``max_lines`` events (a quick look at a 19-million-line log). The
        published MD5 covers the whole file, so a prefix is not verified (``info["checksum"]``
        says so).
    verify : bool
        Check the log of a local copy against its published MD5 while reading it (default; no
        second pass). ``False`` for a copy you edited on purpose.

    Returns
    -------
    PlayData
        ``plays`` users x items (csr int32, number of listening events), ``users``
        (``user_id``), ``items`` (``artist_name``, ``artist_mbid`` or ``artist_name``,
        ``track_name``, ``track_mbid``; sorted by key). The first non-empty MusicBrainz id seen
        for an item is kept. ``info``: events, skipped lines, what was verified. User ids,
        artist and track names are stripped of surrounding spaces; where that makes two
        spellings one, a warning says so (``info["ids_merged_by_stripping_spaces"]``).

    Raises
    ------
    ValueError
        With the file, the line and the fix: an MD5 mismatch, the lines above (unless skipped),
        an empty line before the end, an empty file, a truncated or corrupt ``.tar.gz``, two
        candidate files at the same depth, a folder where the log should be.
    """
    require_choice(level, "level", ("artist", "track"))
    require_choice(on_bad_lines, "on_bad_lines", ("error", "skip"))
    if max_lines is not None:
        require_int(max_lines, "max_lines", 1)
    source, checked = locate(path, "lastfm_1k", verify=verify)
    member = resolve(source, [LOG_FILE], "Last.fm 1K")[LOG_FILE]
    check = None
    known = registry()["lastfm_1k"].file_hashes.get(LOG_FILE)
    if path is not None and verify and known:
        fix = (
            "Fix: the file is truncated, edited or not the published one: extract it again from "
            "lastfm-dataset-1K.tar.gz (an interrupted extraction leaves a short file). A log "
            "edited on purpose cannot pass this check, as an archive or a folder: read it in "
            "Python with load_lastfm_1k(path, verify=False)"
        )
        check = ContentCheck(member.label, known, fix)
    elif path is not None and not verify:
        checked = "not checked: verify=False"
    usecols = [0, 2, 3] if level == "artist" else [0, 3, 4, 5]
    mbid_column = "artist_mbid" if level == "artist" else "track_mbid"
    stats: dict[str, int] = {"skipped_lines": 0}
    user_vocab = Vocab()
    item_vocab = Vocab() if level == "artist" else Vocab(_strip_track_key)
    mbids: dict[int, str] = {}
    user_parts, item_parts = [], []
    n_events = 0
    required = ["user_id", "artist_name"] + (["track_name"] if level == "track" else [])
    blocks = iter_tsv(
        member,
        LOG_NAMES,
        usecols=usecols,
        on_bad_lines=on_bad_lines,
        max_lines=max_lines,
        stats=stats,
        check=check,
    )
    for lines, frame in blocks:
        empty = np.zeros(len(frame), dtype=bool)
        for column in required:
            if on_bad_lines == "error":
                nonempty(frame[column], lines, member.label, column, skip_hint=True)
            else:
                empty |= empty_mask(frame[column])
        if empty.any():
            stats["skipped_lines"] += int(empty.sum())
            frame, lines = frame[~empty], lines[~empty]
        codes = _item_codes(frame, level, item_vocab)
        user_parts.append(user_vocab.codes(frame["user_id"]).astype(np.int32))
        item_parts.append(codes.astype(np.int32))
        n_events += len(frame)
        mbid = frame[mbid_column]
        with_mbid = ~empty_mask(mbid)
        if with_mbid.any():
            first_codes, first_rows = np.unique(codes[with_mbid], return_index=True)
            values = mbid.to_numpy(dtype=object)[with_mbid][first_rows]
            for code, value in zip(first_codes, values, strict=True):
                mbids.setdefault(int(code), str(value))
    if check is not None:
        checked = (
            f"verified (md5 of {LOG_FILE}, as published)"
            if check.done
            else "not checked: max_lines stopped before the end (the MD5 covers the whole file)"
        )
    if n_events == 0:
        raise ValueError(
            f"{member.label}: no listening events were read. Fix: pass the complete log"
        )
    user_keys, user_remap = user_vocab.sorted()
    item_keys, item_remap = item_vocab.sorted()
    merged = warn_merged(user_vocab, member.label, "user") + warn_merged(
        item_vocab, member.label, level
    )
    users = user_remap[np.concatenate(user_parts)]
    items = item_remap[np.concatenate(item_parts)]
    matrix = sp.coo_matrix(
        (np.ones(len(users), dtype=np.int64), (users, items)),
        shape=(len(user_keys), len(item_keys)),
    ).tocsr()
    matrix.sum_duplicates()
    matrix.data = matrix.data.astype(np.int32)
    mbid_values = [""] * len(item_keys)
    for old, value in sorted(mbids.items()):  # the first id seen of merged spellings wins
        new = int(item_remap[old])
        mbid_values[new] = mbid_values[new] or value.strip()
    if level == "artist":
        items_frame = pd.DataFrame({"artist_name": item_keys, "artist_mbid": mbid_values})
        item_index: dict = {str(k): i for i, k in enumerate(item_keys)}
    else:
        split = [str(k).split("\t", 1) for k in item_keys]
        items_frame = pd.DataFrame(
            {
                "artist_name": [s[0] for s in split],
                "track_name": [s[1] for s in split],
                "track_mbid": mbid_values,
            }
        )
        item_index = {(s[0], s[1]): i for i, s in enumerate(split)}
    return PlayData(
        plays=matrix,
        users=pd.DataFrame({"user_id": user_keys.astype(str)}),
        items=items_frame,
        user_index={str(u): k for k, u in enumerate(user_keys)},
        item_index=item_index,
        info={
            "events": n_events,
            "skipped_lines": stats["skipped_lines"],
            "ids_merged_by_stripping_spaces": merged,
            "checksum": checked,
        },
        source=str(source),
    )


def _strip_track_key(key: str) -> str:
    """``"artist\ttrack"`` with the spaces around each part stripped."""
    return "\t".join(part.strip() for part in key.split("\t"))


def _item_codes(frame: pd.DataFrame, level: str, vocab: Vocab) -> np.ndarray:
    """Global item code of each event: artist name, or (artist name, track name)."""
    if level == "artist":
        return vocab.codes(frame["artist_name"])
    artist_codes, artist_names = pd.factorize(frame["artist_name"])
    track_codes, track_names = pd.factorize(frame["track_name"])
    n_tracks = max(len(track_names), 1)
    pairs = artist_codes.astype(np.int64) * n_tracks + track_codes
    local, unique_pairs = pd.factorize(pairs)
    artist_names = artist_names.to_numpy(dtype=object)
    track_names = track_names.to_numpy(dtype=object)
    keys = [f"{artist_names[p // n_tracks]}\t{track_names[p % n_tracks]}" for p in unique_pairs]
    return vocab.lookup(keys)[local]
