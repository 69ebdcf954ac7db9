"""Splits and the input pipeline: train / validation / test by artist, crops, ``tf.data``.

Taught in chapter 04 (section 3: the split by artist against the split by track; the students
write the pipeline of random crops as a ``keras.utils.PyDataset`` and compare one epoch with
:func:`make_factor_dataset`, the ``tf.data`` pipeline that
:func:`~course_lib.convnet.training.train_factor_model` uses); chapter 07 splits its tracks with
:func:`split_tracks` too.
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
    validate_matrix,
)

from .losses import normalize_factors

__all__ = ["center_crop", "make_factor_dataset", "split_tracks"]


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


def make_factor_dataset(
    log_mels: np.ndarray,
    targets: np.ndarray,
    indices: np.ndarray,
    n_frames: int,
    *,
    batch_size: int = 32,
    training: bool = False,
    seed: int = 0,
) -> Any:
    """A ``tf.data`` pipeline of (log-mel crop, target factors) batches.

    Training: shuffle the track order (seeded, reshuffled each epoch) -> cut a random window of
    ``n_frames`` frames from each spectrogram (seeded stateless offsets, new each epoch; Dieleman
    2014, sec. 5.2: "augmented by slightly cropping the spectrograms along the time axis with a
    random offset") -> batch -> prefetch. Evaluation (``training=False``): the centre crop, in
    index order, so results are deterministic.

    Parameters
    ----------
    log_mels : array (n_tracks, total_frames, n_mels)
        All spectrograms (e.g. ``world.log_mel()``); only ``indices`` are copied into the pipeline.
    targets : array (n_tracks, n_factors)
        Target factors, one row per track (normalised to unit norm here).
    indices : array of int
        Which tracks (rows) to serve.
    n_frames : int
        Crop length; the model's input length.
    batch_size, training, seed

    Raises
    ------
    ValueError
        Spectrograms that are not ``(n_tracks, frames, mels)`` or hold NaN / infinite values in
        the served rows, a crop longer than the spectrograms, no indices or indices out of range,
        targets with another number of rows than ``log_mels`` or with NaN / infinite values.
    TypeError
        ``n_frames``, ``batch_size`` or ``seed`` that is not an integer.
    """
    import tensorflow as tf

    n_frames = require_int(n_frames, "n_frames", 1)
    batch_size = require_int(batch_size, "batch_size", 1)
    seed = require_int(seed, "seed", 0)
    mels = np.asarray(log_mels)
    if mels.ndim != 3:
        raise ValueError(f"log_mels must be (n_tracks, n_frames, n_mels), got shape {mels.shape}")
    idx = _nonempty_index(indices, len(mels), "indices")
    total = mels.shape[1]
    if n_frames > total:
        raise ValueError(
            f"crop of {n_frames} frames is longer than the spectrograms ({total} frames); "
            f"pass n_frames <= {total}"
        )
    factors = validate_matrix(targets, "targets")
    if len(factors) != len(mels):
        raise ValueError(
            f"log_mels has {len(mels)} tracks but targets has {len(factors)} rows: pass one "
            "target row per spectrogram (all tracks), and select them with indices"
        )
    y = normalize_factors(factors[idx])
    x_rows = validate_log_mels(mels[idx], "log_mels", min_frames=n_frames, allow_single=False)
    if not training:
        x = np.ascontiguousarray(center_crop(x_rows, n_frames))
        return (
            tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size).prefetch(tf.data.AUTOTUNE)
        )

    x_all = tf.constant(x_rows)
    y_all = tf.constant(y)
    max_offset = total - n_frames

    def crop(i: Any, r: Any) -> tuple[Any, Any]:
        offset = tf.random.stateless_uniform(
            [],
            seed=tf.stack([r, tf.constant(seed, tf.int64)]),
            maxval=max_offset + 1,
            dtype=tf.int64,
        )
        return x_all[i, offset : offset + n_frames, :], y_all[i]

    order = tf.data.Dataset.range(len(idx)).shuffle(
        len(idx), seed=seed, reshuffle_each_iteration=True
    )
    noise = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    ds = tf.data.Dataset.zip((order, noise)).map(
        crop, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
