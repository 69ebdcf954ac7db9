"""FMA metadata: ``tracks.csv`` (three-line header) read strictly into one row per track.

Part of :mod:`course_lib.datasets`. No chapter teaches it: the data card ``datasets/fma.md``
uses it (the chapters run on the synthetic music world, :mod:`course_lib.music_world`).
Reference: Defferrard et al. (2017), FMA: A Dataset for Music Analysis.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
from collections.abc import Iterator
from typing import Literal

import numpy as np
import pandas as pd

from course_lib.validation import require_choice

from .archives import Member, require_path, resolve
from .download import locate
from .fields import field_error, integers, quoted, require_not_utf16, shorten, unique_ids
from .fma_audio import FMA

__all__ = ["load_fma"]

PathLike = str | os.PathLike[str]

_FIELDS = {
    ("track", "genre_top"): "genre_top",
    ("artist", "name"): "artist",
    ("track", "title"): "title",
    ("track", "duration"): "duration",
    ("set", "split"): "split",
    ("set", "subset"): "subset",
}
_SUBSETS = ("small", "medium", "large", "full")
_SPLITS = ("training", "validation", "test")


def load_fma(
    path: PathLike | None = None,
    subset: Literal["small", "medium", "large", "full"] = "small",
    *,
    audio_path: PathLike | None = None,
    verify: bool = True,
) -> FMA:
    """Load FMA track metadata (``tracks.csv``) for one subset; audio comes on demand.

    Parameters
    ----------
    path : path-like, optional
        ``fma_metadata.zip``, the extracted ``fma_metadata`` folder, or ``tracks.csv`` itself.
        ``None`` downloads the registered ``fma_metadata.zip`` (SHA-1 published by the FMA
        authors) into :func:`~course_lib.datasets.data_dir`.
    subset : {"small", "medium", "large", "full"}
        ``small`` has 8,000 clips in 8 balanced genres; subsets are nested
        (small in medium in large; "full" has the same tracks as "large", untrimmed).
    audio_path : path-like, optional
        ``fma_<subset>.zip`` or its extracted folder, read by :meth:`FMA.audio`.
    verify : bool
        Check a local ``fma_metadata.zip`` (and a local ``fma_small.zip``, on first use)
        against the registry's SHA-1 (default). A folder or ``tracks.csv`` has no published
        hash: only its format is checked.

    Returns
    -------
    FMA
        ``tracks`` (track_id, genre_top, artist, title, duration, split, subset),
        ``genre_names`` and :meth:`FMA.audio` (librosa, resampled to a given rate).

    Raises
    ------
    ValueError
        With the file, the line and the fix: a checksum mismatch; an empty file or one without
        FMA's 3-line header (``raw_tracks.csv``); missing columns; a row with the wrong number
        of fields; a track id that is not a whole number >= 0 or is repeated; a duration that
        is not a finite number >= 0; an unknown subset or split; bytes that are not UTF-8; a
        truncated zip; two ``tracks.csv`` at the same depth of a folder.
    """
    require_choice(subset, "subset", _SUBSETS)
    source, _ = locate(path, "fma_metadata", verify=verify)
    member = resolve(source, ["tracks.csv"], "FMA metadata")["tracks.csv"]
    tracks = _read_tracks(member)
    keep = {"small": ("small",), "medium": ("small", "medium")}.get(
        subset, ("small", "medium", "large")
    )
    tracks = tracks[tracks["subset"].isin(keep)].reset_index(drop=True)
    genres = sorted(str(g) for g in tracks["genre_top"].dropna().unique())
    return FMA(
        tracks=tracks,
        genre_names=genres,
        subset=subset,
        source=str(source),
        audio_path=require_path(audio_path, "audio_path") if audio_path is not None else None,
        verify=verify,
    )


@contextlib.contextmanager
def _csv_field_limit(limit: int) -> Iterator[None]:
    """Let csv read long text fields (FMA's biographies) and restore the global limit after."""
    previous = csv.field_size_limit()
    csv.field_size_limit(max(previous, limit))
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _read_rows(member: Member) -> tuple[list[list[str]], np.ndarray]:
    """The six fields of every data row (track_id first) and their first line numbers."""
    label = member.label
    with member.open() as raw:
        require_not_utf16(raw.read(4096), label)
    with (
        _csv_field_limit(1 << 26),
        member.open() as raw,
        io.TextIOWrapper(raw, encoding="utf-8", newline="") as text,
    ):
        reader = csv.reader(text)
        start = 1
        try:
            top, sub, third = next(reader), next(reader), next(reader)
            columns = _header_columns(label, top, sub, third)
            where = [columns.index(key) for key in _FIELDS]
            rows: list[list[str]] = []
            lines: list[int] = []
            start = reader.line_num + 1
            for row in reader:
                if len(row) != len(columns):
                    raise ValueError(
                        f"{label}, line {start}: expected {len(columns)} comma-separated fields, "
                        f"found {len(row)}. Fix: the file is truncated or edited; extract it "
                        "again from fma_metadata.zip"
                    )
                rows.append([row[0]] + [row[k] for k in where])
                lines.append(start)
                start = reader.line_num + 1
        except StopIteration:
            if reader.line_num == 0:  # not one line: no bytes at all
                raise ValueError(
                    f"{label}: the file is empty (0 bytes). Fix: extract tracks.csv again from "
                    "fma_metadata.zip, or download the archive again"
                ) from None
            raise ValueError(
                f"{label}: only {reader.line_num} line(s), fewer than FMA's 3-line tracks.csv "
                "header (level 1, level 2, 'track_id'). Fix: pass fma_metadata/tracks.csv"
            ) from None
        except csv.Error as err:
            raise ValueError(
                f"{label}, line {start}: {shorten(err)}. Fix: extract tracks.csv again"
            ) from err
        except UnicodeDecodeError as err:
            raise ValueError(
                f"{label}, near line {start}: bytes that are not UTF-8 ({err.reason}). Fix: "
                "pass the original tracks.csv (UTF-8)"
            ) from err
    if not rows:
        raise ValueError(f"{label}: no tracks after the header. Fix: pass the complete tracks.csv")
    return rows, np.asarray(lines)


def _header_columns(
    label: str, top: list[str], sub: list[str], third: list[str]
) -> list[tuple[str, str]]:
    if len(top) != len(sub) or not third or third[0] != "track_id":
        raise ValueError(
            f"{label}, lines 1-3: not FMA's 3-line tracks.csv header (line 3 must start with "
            f"'track_id', found {quoted(third[0] if third else '')}). Fix: pass "
            "fma_metadata/tracks.csv (raw_tracks.csv has a one-line header)"
        )
    columns = list(zip(top, sub, strict=True))
    missing = [f"{a}/{b}" for a, b in _FIELDS if (a, b) not in columns]
    if missing:
        raise ValueError(
            f"{label}, lines 1-2: the header lacks {', '.join(missing)}. Fix: pass the "
            "tracks.csv of fma_metadata.zip (2017 release or later)"
        )
    return columns


def _read_tracks(member: Member) -> pd.DataFrame:
    label = member.label
    rows, lines = _read_rows(member)
    frame = pd.DataFrame(rows, columns=["track_id", *_FIELDS.values()])
    track_ids = integers(frame["track_id"], lines, label, "track_id", minimum=0, what="id")
    unique_ids(track_ids, lines, label, "track_id")
    duration = pd.to_numeric(frame["duration"], errors="coerce").to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bad = (frame["duration"].str.strip() != "").to_numpy() & ~(
            np.isfinite(duration) & (duration >= 0)
        )
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        field_error(
            label,
            int(lines[i]),
            "track/duration",
            "the duration is not a finite number of seconds >= 0",
            frame["duration"].iloc[i],
            "write the duration in seconds",
        )
    for column, allowed in (("subset", ("small", "medium", "large")), ("split", _SPLITS)):
        bad = ~frame[column].isin(allowed).to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            field_error(
                label,
                int(lines[i]),
                f"set/{column}",
                f"the {column} must be one of {list(allowed)}",
                frame[column].iloc[i],
                "pass the original tracks.csv",
            )
    return pd.DataFrame(
        {
            "track_id": track_ids,
            "genre_top": frame["genre_top"].replace("", np.nan),
            "artist": frame["artist"],
            "title": frame["title"],
            "duration": duration,
            "split": frame["split"],
            "subset": frame["subset"],
        }
    )
