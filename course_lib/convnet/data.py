"""Splits and crops: train / validation / test by artist, the centre crop.

Taught in chapter 04 (section 3: the split by artist against the split by track, and the centre
crop that validation uses; the pipeline of random crops built on them is
:mod:`~course_lib.convnet.pipeline`); chapter 07 splits its tracks with :func:`split_tracks` too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib.validation import (
    require_choice,
    require_int,
    require_number,
    validate_index,
    validate_log_mels,
)

__all__ = ["center_crop", "split_tracks"]


def _nonempty_index(idx: Any, n: int, name: str) -> np.ndarray:
    """``validate_index`` that also refuses an empty selection (a side of a split with no track)."""
    arr = validate_index(idx, n, name)
    if arr.size == 0:
        raise ValueError(f"{name} is empty: the split has no track on that side")
    return arr


def _fractions(fractions: Any) -> np.ndarray:
    try:
        values = list(fractions)
    except TypeError:
        raise TypeError(
            f"fractions must be three numbers (train, val, test), got {fractions!r}; "
            "pass e.g. fractions=(0.8, 0.1, 0.1)"
        ) from None
    if len(values) != 3:
        raise ValueError(
            f"fractions must be three numbers (train, val, test), got {len(values)}: "
            f"{fractions!r}; pass e.g. fractions=(0.8, 0.1, 0.1)"
        )
    fr = np.array(
        [
            require_number(v, f"fractions[{i}]", minimum=0.0, maximum=1.0)
            for i, v in enumerate(values)
        ]
    )
    if not np.isclose(fr.sum(), 1.0):
        raise ValueError(
            f"fractions must be three non-negative numbers summing to 1, got {fractions!r} "
            f"(sum {fr.sum():.3g}); pass e.g. fractions=(0.8, 0.1, 0.1)"
        )
    return fr


def split_tracks(
    tracks: Any,
    by: str = "artist",
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    candidates: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Split track indices into train / validation / test, by track or by artist.

    With ``by="track"`` tracks are shuffled individually, so an artist's songs land on both sides
    and the network can score well by recognising the artist's sound (leakage). With
    ``by="artist"`` whole artists are assigned to one side (greedily, in a seeded random order,
    until each side holds its share of tracks), which measures what cold start for a new artist
    needs: generalising to music the network has not heard from that artist.

    Parameters
    ----------
    tracks : pandas.DataFrame
        Needs an ``artist_id`` column (for ``by="artist"``) and, when ``candidates`` is None, an
        ``is_new`` column: only tracks with plays (``~is_new``) are split.
    by : {"track", "artist"}
    fractions : three numbers in [0, 1] summing to 1
    seed : int
    candidates : array of int, optional
        Row indices to split instead of ``~tracks.is_new``.

    Returns
    -------
    dict with sorted int arrays under ``"train"``, ``"val"``, ``"test"``.

    Raises
    ------
    TypeError
        Fractions that are not numbers (strings such as ``"0.8"``, booleans), a seed that is not
        an integer.
    ValueError
        Not three fractions, a fraction outside [0, 1] or NaN, fractions not summing to 1, a
        missing column, candidates that are not integer row indices of ``tracks`` (a boolean
        mask: use ``np.flatnonzero(mask)``), no track to split.
    """
    require_choice(by, "by", ("track", "artist"))
    fr = _fractions(fractions)
    seed = require_int(seed, "seed", 0)
    needed = ["artist_id"] if by == "artist" else []
    if candidates is None:
        needed.append("is_new")
    missing = [column for column in needed if column not in tracks]
    if missing:
        raise ValueError(
            f"tracks has no {' or '.join(missing)} column; pass the music world's tracks table"
            + (" or candidates=... explicitly" if "is_new" in missing else "")
        )
    if candidates is None:
        candidates = np.flatnonzero(~tracks["is_new"].to_numpy(bool))
    candidates = validate_index(candidates, len(tracks), "candidates")
    if candidates.size == 0:
        raise ValueError("there is no track to split: candidates (or ~tracks.is_new) is empty")
    rng = np.random.default_rng(seed)
    names = ("train", "val", "test")
    if by == "track":
        order = rng.permutation(candidates)
        cuts = np.round(np.cumsum(fr)[:2] * len(order)).astype(int)
        parts = np.split(order, cuts)
    else:
        artists = tracks["artist_id"].to_numpy()[candidates]
        unique = rng.permutation(np.unique(artists))
        counts = {a: 0 for a in unique}
        for a in artists:
            counts[a] += 1
        targets = fr * len(candidates)
        side_of: dict[Any, int] = {}
        filled = np.zeros(3)
        for a in unique:  # the side furthest below its share takes the next artist
            side = int(np.argmax(targets - filled))
            side_of[a] = side
            filled[side] += counts[a]
        sides = np.array([side_of[a] for a in artists])
        parts = [candidates[sides == s] for s in range(3)]
    return {n: np.sort(p) for n, p in zip(names, parts)}


def center_crop(log_mels: np.ndarray, n_frames: int) -> np.ndarray:
    """The middle ``n_frames`` frames of each time-major spectrogram (the evaluation crop).

    The crop starts at frame ``(total_frames - n_frames) // 2``. Accepts one ``(frames, mels)``
    spectrogram or a stack ``(n, frames, mels)`` and returns the same layout, as float32.
    Refuses other shapes, crops longer than the spectrograms and NaN or infinite values in the
    crop.
    """
    n_frames = require_int(n_frames, "n_frames", 1)
    x = np.asarray(log_mels)
    if x.ndim in (2, 3):
        total = x.shape[-2]
        if n_frames > total:
            raise ValueError(
                f"cannot crop {n_frames} frames from spectrograms of {total} frames; "
                f"pass n_frames <= {total}"
            )
        start = (total - n_frames) // 2
        x = x[..., start : start + n_frames, :]
    crop = validate_log_mels(x, "log_mels", min_frames=n_frames)
    return crop[0] if x.ndim == 2 else crop
