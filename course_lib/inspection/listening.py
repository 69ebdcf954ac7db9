"""Playing and showing playlists: audio segments around a filter's peak, players, tables.

Taught in chapter 05 (what the network learned), section 3 ("Filter playlists: peaks and
sustained activation"), then used in sections 4, 5 and 7: Dieleman (2014, sec. 6) let the reader
*listen* to each filter's playlist; here every playlist is a table plus a row of audio players.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from course_lib.validation import require_int, require_number

if TYPE_CHECKING:
    from IPython.display import HTML

__all__ = ["audio_player_row", "peak_clips", "playlist_table", "segment_bounds", "side_by_side"]


def segment_bounds(
    frame: float, *, sr: int, hop_length: int, n_samples: int, seconds: float = 3.0
) -> tuple[int, int]:
    """Sample range ``[start, stop)`` of a ``seconds``-long segment centred on a frame.

    Frame ``i`` of a centred STFT is centred on sample ``i * hop_length``; the segment is shifted
    to stay inside the clip. Refuses a NaN frame, non-integer or non-positive ``sr``,
    ``hop_length`` and ``n_samples``, and a segment longer than the clip.
    """
    frame = require_number(frame, "frame")
    sr = require_int(sr, "sr", 1)
    hop_length = require_int(hop_length, "hop_length", 1)
    n_samples = require_int(n_samples, "n_samples", 1)
    seconds = require_number(seconds, "seconds", minimum=0, strict_minimum=True)
    length = int(round(seconds * sr))
    if length < 1 or length > n_samples:
        raise ValueError(
            f"a segment of {seconds} s does not fit a clip of {n_samples / sr:.2f} s; "
            "pass a shorter seconds="
        )
    start = int(round(frame * hop_length)) - length // 2
    start = min(max(start, 0), n_samples - length)
    return start, start + length


def peak_clips(
    world: Any, tracks: Sequence[int], frames: Sequence[float], seconds: float = 3.0
) -> list[np.ndarray]:
    """The audio segments (``seconds`` long) around given spectrogram frames of given tracks.

    Refuses another number of frames than tracks, and what :func:`segment_bounds` refuses.
    """
    if len(tracks) != len(frames):
        raise ValueError(f"one frame per track, got {len(tracks)} tracks and {len(frames)} frames")
    audio = world.audio(np.asarray(tracks, dtype=np.int64))
    clips = []
    for y, frame in zip(audio, frames):
        a, b = segment_bounds(
            frame,
            sr=world.sample_rate,
            hop_length=world.hop_length,
            n_samples=y.size,
            seconds=seconds,
        )
        clips.append(y[a:b])
    return clips


def _player(clip: np.ndarray, sr: int) -> str:
    from IPython.display import Audio  # IPython only where a notebook shows players

    clip = np.asarray(clip, dtype=np.float32)
    if clip.ndim != 1 or clip.size == 0:
        raise ValueError(f"each clip must be a 1-D array of samples, got shape {clip.shape}")
    if not np.isfinite(clip).all():
        raise ValueError("a clip contains NaN or infinite samples; play the audio it was cut from")
    # Audio() scales a clip to full volume; a silent clip would divide by zero.
    return Audio(clip, rate=sr, normalize=bool(np.abs(clip).max() > 0))._repr_html_()


def audio_player_row(clips: Sequence[np.ndarray], sr: int, labels: Sequence[str]) -> HTML:
    """A row of ``IPython.display.Audio`` players with a caption each, as one HTML block.

    Refuses another number of labels than clips, a non-integer ``sr`` and clips that are not
    1-D finite sample arrays.
    """
    from IPython.display import HTML  # IPython only where a notebook shows players

    sr = require_int(sr, "sr", 1)
    if len(clips) != len(labels):
        raise ValueError(f"one label per clip, got {len(clips)} clips and {len(labels)} labels")
    cells = [
        '<div style="display:inline-block;margin:0 6px 6px 0;font-size:small;width:16em">'
        f"{escape(str(label))}<br>{_player(clip, sr)}</div>"
        for clip, label in zip(clips, labels)
    ]
    return HTML('<div style="white-space:normal">' + "".join(cells) + "</div>")


def playlist_table(
    tracks: pd.DataFrame,
    indices: Sequence[int],
    *,
    scores: Sequence[float] | None = None,
    peak_seconds: Sequence[float] | None = None,
    columns: Sequence[str] = ("title", "artist", "genre", "kind"),
) -> pd.DataFrame:
    """The rows of ``world.tracks`` for a playlist, numbered from 1, with optional score columns.

    Refuses ``scores`` or ``peak_seconds`` of another length than ``indices``.
    """
    idx = np.asarray(indices)
    for name, values in (("scores", scores), ("peak_seconds", peak_seconds)):
        if values is not None and len(values) != idx.size:
            raise ValueError(
                f"{name} has {len(values)} entries for {idx.size} tracks; pass one per track"
            )
    table = tracks.loc[idx, list(columns)].copy()
    table.insert(0, "track", idx)
    if scores is not None:
        table["activation"] = np.round(np.asarray(scores, dtype=float), 3)
    if peak_seconds is not None:
        table["peak (s)"] = np.round(np.asarray(peak_seconds, dtype=float), 2)
    table.index = np.arange(1, len(table) + 1)
    return table


def side_by_side(tracks: pd.DataFrame, lists: Mapping[str, Sequence[int]]) -> pd.DataFrame:
    """Several playlists as columns: ``"title (artist, genre)"`` plus the kind when not a song.

    Refuses playlists of different lengths (and no playlists at all).
    """

    def name(i: int) -> str:
        row = tracks.loc[int(i)]
        kind = "" if row["kind"] == "song" else f" [{row['kind'].upper()}]"
        return f"{row['title']} ({row['artist']}, {row['genre']}){kind}"

    lengths = {len(v) for v in lists.values()}
    if len(lengths) != 1:
        raise ValueError(f"playlists must have the same length, got {sorted(lengths)}")
    table = {method: [name(i) for i in idx] for method, idx in lists.items()}
    return pd.DataFrame(table, index=np.arange(1, lengths.pop() + 1))
