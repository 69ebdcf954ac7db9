"""The HetRec 2011 Last.fm 2k data set: user x artist play counts and artist x tag counts.

Part of :mod:`course_lib.datasets`. No chapter teaches it: the data card
``datasets/lastfm_hetrec2011.md`` uses it, and chapters 01, 02, 02b and 06 read it through
:func:`~course_lib.datasets.load_chapter_data` when their ``dataset`` parameter is
``"lastfm_hetrec2011"`` (by default they run on the synthetic music world). Reference: Cantador,
Brusilovsky & Kuflik (2011), HetRec 2011.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from course_lib.validation import require_choice

from .archives import resolve
from .download import locate
from .encoding import detect_encoding, require_clean
from .fields import first_repeat, integers, quoted, unique_ids
from .plays import PlayData, build_plays
from .tsv import read_all

__all__ = ["LastfmHetrec2011", "load_lastfm_hetrec2011"]

PathLike = str | os.PathLike[str]

_HEADERS = {
    "user_artists.dat": ["userID", "artistID", "weight"],
    "artists.dat": ["id", "name", "url", "pictureURL"],
    "tags.dat": ["tagID", "tagValue"],
    "user_taggedartists.dat": ["userID", "artistID", "tagID", "day", "month", "year"],
}


@dataclass(repr=False)
class LastfmHetrec2011(PlayData):
    """HetRec 2011 Last.fm: user x artist play counts plus artist x tag counts.

    Attributes (beyond :class:`PlayData`)
    -------------------------------------
    tags : scipy.sparse.csr_matrix, int32, shape (n_artists, n_tags)
        How many tag assignments (user, artist, tag) put each tag on each artist.
    tag_names : list of str
        Column t of ``tags`` is ``tag_names[t]`` (stripped of surrounding spaces); no name is
        repeated: tag ids that share a name share a column (with a warning).
    tag_ids : numpy.ndarray
        The raw ``tagID`` of each column (the smallest, where ids share a name).
    """

    tags: sp.csr_matrix
    tag_names: list[str]
    tag_ids: np.ndarray


def load_lastfm_hetrec2011(
    path: PathLike | None = None,
    *,
    duplicates: Literal["error", "sum"] = "error",
    encoding_errors: Literal["error", "replace"] = "error",
    verify: bool = True,
    tags: bool = True,
) -> LastfmHetrec2011:
    """Load the HetRec 2011 Last.fm 2k data set (Cantador, Brusilovsky & Kuflik 2011).

    Parameters
    ----------
    path : path-like, optional
        ``hetrec2011-lastfm-2k.zip`` or the folder extracted from it. ``None`` downloads the
        registered archive (SHA-256-verified) into :func:`~course_lib.datasets.data_dir`.
    duplicates : {"error", "sum"}
        Repeated rows: a (userID, artistID) pair of ``user_artists.dat`` or a (userID, artistID,
        tagID) assignment of ``user_taggedartists.dat``. The original files have none, so the
        default raises and names both lines; ``"sum"`` adds repeated play counts and counts
        every repeated tag assignment (``info`` says how many).
    encoding_errors : {"error", "replace"}
        Lines of a UTF-8 file that do not decode (see :mod:`course_lib.datasets.encoding`):
        an error naming them (default), or U+FFFD for the bad bytes and a warning.
    verify : bool
        Check a local zip against the registry's SHA-256 (default). ``False`` for a copy you
        re-packed yourself. An extracted folder has no published hash: only its format is
        checked, line by line.
    tags : bool
        Read the tag files, ``tags.dat`` and ``user_taggedartists.dat`` (default). ``False``
        reads the plays and the artists only, for a folder without the tag files: ``tags``
        is then an empty (n_artists, 0) matrix and ``info["tags"]`` says it was not read.

    Returns
    -------
    LastfmHetrec2011
        ``plays`` (users x artists csr int32, the ``weight`` column = listening counts),
        ``users`` (``user_id``), ``items`` (``artist_id``, ``name``, ``url``; rows sorted by
        artist id), ``tags`` (artists x tags csr int32) and ``tag_names``. Artists of
        ``user_artists.dat`` missing from ``artists.dat`` keep an empty name; tag assignments
        to artists nobody listened to, or to unknown tags, are dropped and counted in ``info``;
        ``info["encodings"]`` and ``info["checksum"]`` say how each file was decoded and what
        was verified.

    Raises
    ------
    ValueError
        With the file, the line and the fix: a checksum mismatch; a wrong header; a wrong number
        of fields; an empty line before the end; an empty file; an id or count that is empty,
        NaN, not a whole number, negative or (counts) zero; a repeated id in ``artists.dat`` or
        ``tags.dat``; repeated rows (above); undecodable bytes in a UTF-8 file; two files of
        the same name at the same depth of a folder, or a folder where a file should be; a
        truncated or corrupt zip.
    FileNotFoundError
        ``path`` does not exist or lacks one of the four files (two with ``tags=False``).
    """
    require_choice(duplicates, "duplicates", ("error", "sum"))
    require_choice(encoding_errors, "encoding_errors", ("error", "replace"))
    if not isinstance(tags, bool):
        raise TypeError(f"tags must be True or False, got {tags!r}")
    source, checked = locate(path, "lastfm_hetrec2011", verify=verify)
    wanted = list(_HEADERS) if tags else list(_HEADERS)[:2]
    try:
        members = resolve(source, wanted, "HetRec 2011 Last.fm")
    except FileNotFoundError as error:
        if tags and any(name in str(error) for name in list(_HEADERS)[2:]):
            raise FileNotFoundError(
                f"{error}; or, to load the plays without the tags, pass tags=False"
            ) from None
        raise
    frames, encodings = {}, {}
    for name in wanted:
        header = _HEADERS[name]
        member = members[name]
        found = detect_encoding(member)
        errors = require_clean(found, member.label, encoding_errors)
        encodings[name] = found.encoding
        frames[name] = (
            member.label,
            *read_all(
                member, header, header=header, encoding=found.encoding, encoding_errors=errors
            ),
        )

    label, lines, plays = frames["user_artists.dat"]
    user_raw = integers(plays["userID"], lines, label, "userID", minimum=0, what="id")
    artist_raw = integers(plays["artistID"], lines, label, "artistID", minimum=0, what="id")
    weight = integers(plays["weight"], lines, label, "weight", minimum=1, what="play count")

    a_label, a_lines, artists = frames["artists.dat"]
    artist_ids = integers(artists["id"], a_lines, a_label, "id", minimum=0, what="id")
    unique_ids(artist_ids, a_lines, a_label, "id")

    user_ids = np.unique(user_raw)
    item_ids = np.union1d(artist_ids, artist_raw)
    matrix = build_plays(
        np.searchsorted(user_ids, user_raw),
        np.searchsorted(item_ids, artist_raw),
        weight,
        lines,
        (len(user_ids), len(item_ids)),
        duplicates=duplicates,
        label=label,
        user_keys=user_ids,
        item_keys=item_ids,
    )
    meta = pd.DataFrame(
        {"name": artists["name"].to_numpy(), "url": artists["url"].to_numpy()}, index=artist_ids
    )
    items_frame = pd.DataFrame({"artist_id": item_ids})
    items_frame["name"] = meta["name"].reindex(item_ids).fillna("").to_numpy()
    items_frame["url"] = meta["url"].reindex(item_ids).fillna("").to_numpy()

    if tags:
        t_label, t_lines, tag_frame = frames["tags.dat"]
        tag_ids = integers(tag_frame["tagID"], t_lines, t_label, "tagID", minimum=0, what="id")
        unique_ids(tag_ids, t_lines, t_label, "tagID")
        tag_order = np.argsort(tag_ids)
        tag_ids = tag_ids[tag_order]
        tag_names = [str(t).strip() for t in tag_frame["tagValue"].to_numpy()[tag_order]]
        tag_matrix, tag_info = _tag_counts(
            frames["user_taggedartists.dat"], item_ids, tag_ids, duplicates
        )
        tag_matrix, tag_ids, tag_names, merged = _merge_repeated_names(
            tag_matrix, tag_ids, tag_names, t_lines[tag_order], t_label
        )
        tag_info["tag_ids_merged_by_name"] = merged
    else:
        tag_ids, tag_names = np.zeros(0, dtype=np.int64), []
        tag_matrix = sp.csr_matrix((len(item_ids), 0), dtype=np.int32)
        tag_info = {"tags": "not read (tags=False)"}
    info = {
        "user_artist_lines": len(lines),
        "duplicate_play_rows_summed": len(lines) - matrix.nnz,
        "artists_without_metadata": int((~np.isin(item_ids, artist_ids)).sum()),
        **tag_info,
        "encodings": encodings,
        "checksum": checked,
    }
    return LastfmHetrec2011(
        plays=matrix,
        users=pd.DataFrame({"user_id": user_ids}),
        items=items_frame,
        user_index={int(u): k for k, u in enumerate(user_ids)},
        item_index={int(a): k for k, a in enumerate(item_ids)},
        info=info,
        source=str(source),
        tags=tag_matrix,
        tag_names=tag_names,
        tag_ids=tag_ids,
    )


def _merge_repeated_names(
    matrix: sp.csr_matrix, tag_ids: np.ndarray, names: list[str], lines: np.ndarray, label: str
) -> tuple[sp.csr_matrix, np.ndarray, list[str], int]:
    """One column per tag name: the columns of tag ids that share a name are added up.

    Two columns with the same name would look like two tags in every table and plot. The
    merged column keeps the smallest tag id and its place; a warning names the lines.
    """
    values = np.array(names, dtype=object)
    unique, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    if len(unique) == len(names):
        return matrix, tag_ids, names, 0
    order = np.argsort(first)  # keep the columns in tag-id order
    column = np.empty(len(unique), dtype=np.int64)
    column[order] = np.arange(len(unique))
    merge = sp.csr_matrix(
        (np.ones(len(names), dtype=np.int64), (np.arange(len(names)), column[inverse])),
        shape=(len(names), len(unique)),
    )
    merged = (matrix.astype(np.int64) @ merge).tocsr()
    merged.data = merged.data.astype(np.int32)
    repeats = np.flatnonzero(np.bincount(inverse) > 1)
    same = np.flatnonzero(inverse == repeats[0])
    where = ", ".join(f"tagID {tag_ids[i]} (line {lines[i]})" for i in same[:3])
    more = f"; {len(repeats) - 1} more names are repeated" if len(repeats) > 1 else ""
    warnings.warn(
        f"{label}: the tag name {quoted(unique[repeats[0]], 60)} is given to {len(same)} tag "
        f"ids, {where}{more}. Their counts are added up in one column (the smallest id's), so "
        "that no name appears twice. Fix: nothing, if they mean one tag; else rename one in "
        "tags.dat",
        UserWarning,
        stacklevel=3,
    )
    keep = first[order]
    return merged, tag_ids[keep], [names[i] for i in keep], len(names) - len(unique)


def _tag_counts(
    frame: tuple[str, np.ndarray, pd.DataFrame],
    item_ids: np.ndarray,
    tag_ids: np.ndarray,
    duplicates: str,
) -> tuple[sp.csr_matrix, dict[str, int]]:
    """Artists x tags counts of ``user_taggedartists.dat``; repeated assignments refused."""
    label, lines, tagged = frame
    parsed = {
        column: integers(
            tagged[column],
            lines,
            label,
            column,
            minimum=0,
            what="id" if column.endswith("ID") else "date field",
        )
        for column in _HEADERS["user_taggedartists.dat"]
    }
    keys = np.stack([parsed["userID"], parsed["artistID"], parsed["tagID"]], axis=1)
    repeat = first_repeat(keys, lines)
    n_repeats = 0
    if repeat is not None:
        j, first = repeat
        if duplicates == "error":
            raise ValueError(
                f"{label}, line {lines[j]}: repeated tag assignment (userID, artistID, tagID) = "
                f"({', '.join(str(k) for k in keys[j])}), first seen on line {lines[first]}; "
                "it would be counted twice in tags. Fix: delete the repeated line, or pass "
                "duplicates='sum' to count every line"
            )
        n_repeats = len(keys) - len(np.unique(keys, axis=0))
    artist, tag = parsed["artistID"], parsed["tagID"]
    known_artist = np.isin(artist, item_ids)
    known_tag = np.isin(tag, tag_ids)
    ok = known_artist & known_tag
    matrix = sp.coo_matrix(
        (
            np.ones(int(ok.sum()), dtype=np.int64),
            (np.searchsorted(item_ids, artist[ok]), np.searchsorted(tag_ids, tag[ok])),
        ),
        shape=(len(item_ids), len(tag_ids)),
    ).tocsr()
    matrix.sum_duplicates()
    matrix.data = matrix.data.astype(np.int32)
    return matrix, {
        "tag_assignments": len(lines),
        "duplicate_tag_assignments_counted": n_repeats,
        "tag_assignments_dropped_unknown_artist": int((~known_artist).sum()),
        "tag_assignments_dropped_unknown_tag": int((known_artist & ~known_tag).sum()),
    }
