"""The Echo Nest taste profile of the Million Song Dataset: (user, song, count) triplets.

Part of :mod:`course_lib.datasets`. No chapter teaches it: the data card
``datasets/msd_taste_profile.md`` uses it (the chapters run on the synthetic music world,
:mod:`course_lib.music_world`). Reference: Bertin-Mahieux et al. (2011), The Million Song Dataset.
"""

from __future__ import annotations

import os
from typing import Literal

import numpy as np
import pandas as pd

from course_lib.validation import require_choice, require_int

from .archives import resolve
from .download import locate
from .fields import integers, nonempty
from .plays import PlayData, Vocab, build_plays, warn_merged
from .tsv import iter_tsv

__all__ = ["TASTE_FILE", "load_msd_taste_profile"]

PathLike = str | os.PathLike[str]

TASTE_FILE = "train_triplets.txt"


def load_msd_taste_profile(
    path: PathLike | None = None,
    *,
    duplicates: Literal["error", "sum"] = "error",
    max_lines: int | None = None,
) -> PlayData:
    """Load the Echo Nest taste profile of the Million Song Dataset (Bertin-Mahieux et al. 2011).

    Parameters
    ----------
    path : path-like, optional
        ``train_triplets.txt.zip``, its extracted folder or ``train_triplets.txt`` (lines
        ``user<TAB>song<TAB>count``, no header). ``None`` tries the registry, which holds no
        checksum for this archive and therefore refuses: download it and pass it here. No hash
        is published, so a local copy is checked only for its format, line by line.
    duplicates : {"error", "sum"}
        Repeated (user, song) lines raise (default, naming both lines) or are summed.
    max_lines : int, optional
        Read only the first ``max_lines`` triplets (the full file has about 48 million).

    Returns
    -------
    PlayData
        ``plays`` users x songs (csr int32), ``users`` (``user_id``: 40-hex-digit strings),
        ``items`` (``song_id``: Echo Nest ``SO...`` ids), both sorted. Ids are stripped of
        surrounding spaces; where that makes two spellings one id, a warning says so and
        ``info["ids_merged_by_stripping_spaces"]`` counts them.

    Raises
    ------
    ValueError
        With the file, the line and the fix: a line without three fields; an empty user or song
        id; a count that is empty, NaN, not a whole number, negative or zero; a repeated pair
        (above); an empty line before the end; an empty file; bytes that are not UTF-8; a
        truncated or corrupt zip; two candidate files at the same depth of a folder.
    """
    require_choice(duplicates, "duplicates", ("error", "sum"))
    if max_lines is not None:
        require_int(max_lines, "max_lines", 1)
    source, checked = locate(path, "msd_taste_profile", verify=True)
    member = resolve(source, [TASTE_FILE], "MSD taste profile")[TASTE_FILE]
    user_vocab, item_vocab = Vocab(), Vocab()
    parts: list[tuple[np.ndarray, ...]] = []
    dtype = {"count": "int64"}
    blocks = iter_tsv(member, ["user_id", "song_id", "count"], max_lines=max_lines, dtype=dtype)
    for lines, frame in blocks:
        nonempty(frame["user_id"], lines, member.label, "user_id")
        nonempty(frame["song_id"], lines, member.label, "song_id")
        counts = integers(
            frame["count"], lines, member.label, "count", minimum=1, what="play count"
        )
        parts.append(
            (
                user_vocab.codes(frame["user_id"]).astype(np.int32),
                item_vocab.codes(frame["song_id"]).astype(np.int32),
                counts.astype(np.int32),
                lines.astype(np.int64),
            )
        )
    if not parts:
        raise ValueError(f"{member.label}: the file has no data lines. Fix: pass the complete file")
    user_keys, user_remap = user_vocab.sorted()
    item_keys, item_remap = item_vocab.sorted()
    merged = warn_merged(user_vocab, member.label, "user") + warn_merged(
        item_vocab, member.label, "song"
    )
    counts = np.concatenate([p[2] for p in parts])
    matrix = build_plays(
        user_remap[np.concatenate([p[0] for p in parts])],
        item_remap[np.concatenate([p[1] for p in parts])],
        counts,
        np.concatenate([p[3] for p in parts]),
        (len(user_keys), len(item_keys)),
        duplicates=duplicates,
        label=member.label,
        user_keys=user_keys,
        item_keys=item_keys,
    )
    return PlayData(
        plays=matrix,
        users=pd.DataFrame({"user_id": user_keys.astype(str)}),
        items=pd.DataFrame({"song_id": item_keys.astype(str)}),
        user_index={str(u): k for k, u in enumerate(user_keys)},
        item_index={str(s): k for k, s in enumerate(item_keys)},
        info={
            "triplets": len(counts),
            "duplicate_rows_summed": len(counts) - matrix.nnz,
            "ids_merged_by_stripping_spaces": merged,
            "checksum": checked,
        },
        source=str(source),
    )
