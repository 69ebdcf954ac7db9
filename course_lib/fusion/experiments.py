"""The repeated-split experiment: is the gain of fusing audio and attributes more than luck?

Taught in chapter 07 (``chapters/07_fusion.md``, section 5.3, which reads the result that
``benchmarks/fusion_splits.py`` saves): one test split of some 150 tracks
cannot tell a gain of a hundredth from luck, and a split by track lets a network recognise the
test tracks' artists, so :func:`fusion_gain_by_split` redraws everything that depends on the
seed, split by track or by artist, and measures the comparison again. It chains the other
topics' public helpers (chapter 01's split of plays, chapter 02's ALS, chapter 04's split of
the tracks and convnet) with this package's models; nothing in those topics imports fusion.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from course_lib.als import fit_als
from course_lib.convnet import split_tracks
from course_lib.evaluation import split_plays
from course_lib.fusion.audio_model import audio_features, load_or_train_audio_model
from course_lib.fusion.distances import cosine_distances
from course_lib.fusion.features import attribute_features
from course_lib.fusion.mlp import fit_factor_mlp
from course_lib.validation import require_choice, require_int, validate_log_mels

__all__ = ["fusion_gain_by_split"]


def fusion_gain_by_split(
    world: Any,
    seeds: Sequence[int],
    *,
    als_settings: Mapping[str, Any],
    by: str = "track",
    n_frames: int = 256,
    audio_epochs: int = 100,
    max_epochs: int = 300,
    patience: int = 10,
    batch_size: int = 256,
    audio_batch_size: int = 64,
    log_mels: np.ndarray | None = None,
) -> pd.DataFrame:
    """Repeat chapter 07's audio / attributes / audio + attributes comparison on other splits.

    One test split of some 150 tracks cannot tell a gain of a hundredth from luck. For each seed
    this redraws everything that depends on it, as chapter 07 does for its own seed: the held-out
    plays (:func:`course_lib.evaluation.split_plays`, 20 % then 12.5 %), the ALS factors
    (:func:`course_lib.als.fit_als` with ``als_settings``), the 80/10/10 split of the tracks
    (:func:`course_lib.convnet.split_tracks`, ``by`` track or by artist), the audio convnet
    (:func:`load_or_train_audio_model`, cached; mini-batches of ``audio_batch_size``, 64 in
    Nieto 2017) and the two factor networks (:func:`fit_factor_mlp`; mini-batches of
    ``batch_size``, 256 for the talk's attribute model), and measures the mean test cosine
    distance of each model. The attribute network is one branch; audio + attributes is the
    talk's late-fusion network (a branch per source, merged inside the network).

    A split by track puts songs of one artist on both sides, and an artist's songs share a sound
    and an audience (chapter 04, section 3.1): every model then looks better than it will on a
    new artist. ``by="artist"`` keeps each artist on one side.

    Returns
    -------
    pandas.DataFrame
        One row per seed: the three distances, ``best single`` (the better of audio and
        attributes), ``gain`` (best single minus fused: positive when fusion helps), ``gain SE``
        (the standard error of that gain, from the per-track differences on the same test
        tracks: fusion beats the best single source by ``k`` standard errors when
        ``gain > k * gain SE``) and ``test tracks``.

    Raises
    ------
    TypeError, ValueError
        ``seeds`` that is not a non-empty list of distinct non-negative integers (a bare int, a
        string, booleans); ``als_settings`` that is not a mapping; ``by`` other than
        ``"track"`` or ``"artist"``; ``n_frames``, ``audio_epochs``, ``max_epochs``,
        ``patience``, ``batch_size`` or ``audio_batch_size`` that are not positive integers
        (``patience`` may be 0); whatever the steps it chains refuse (spectrograms
        with NaN, not one per track ...). All arguments are checked before anything is trained.
    """
    if isinstance(seeds, str) or not isinstance(seeds, Sequence | np.ndarray):
        raise TypeError(f"seeds must be a list of integers, e.g. [1, 2, 3]; got {seeds!r}")
    seeds = [require_int(s, f"seeds[{i}]", minimum=0) for i, s in enumerate(seeds)]
    if not seeds:
        raise ValueError("seeds is empty: give at least one seed")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds {seeds} repeat a seed; each split needs its own seed")
    if not isinstance(als_settings, Mapping):
        raise TypeError(
            "als_settings must be a dict of fit_als arguments (e.g. "
            f"convnet.COURSE_SETTINGS['als']), got {type(als_settings).__name__}"
        )
    require_int(n_frames, "n_frames", minimum=1)
    require_int(audio_epochs, "audio_epochs", minimum=1)
    require_int(max_epochs, "max_epochs", minimum=1)
    require_int(patience, "patience", minimum=0)
    require_int(batch_size, "batch_size", minimum=1)
    require_int(audio_batch_size, "audio_batch_size", minimum=1)
    require_choice(by, "by", ("track", "artist"))
    mels = validate_log_mels(
        world.log_mel(progress=False) if log_mels is None else log_mels,
        "log_mels",
        min_frames=n_frames,
        allow_single=False,
    )
    if len(mels) != world.plays.shape[1]:
        raise ValueError(
            f"{len(mels)} spectrograms but the world has {world.plays.shape[1]} tracks: "
            "pass world.log_mel() of this world"
        )
    rows = {}
    for seed in seeds:
        plays_train, _ = split_plays(world.plays, test_fraction=0.2, seed=seed)
        plays_fit, _ = split_plays(plays_train, test_fraction=0.125, seed=seed + 1)
        _, targets = fit_als(plays_fit, seed=seed, progress=False, **dict(als_settings))
        warm = np.flatnonzero(np.linalg.norm(targets, axis=1) > 0)
        split = split_tracks(world.tracks, by=by, seed=seed, candidates=warm)
        audio = load_or_train_audio_model(
            world,
            targets,
            split,
            n_frames=n_frames,
            epochs=audio_epochs,
            batch_size=audio_batch_size,
            patience=patience,
            seed=seed,
            log_mels=mels,
        )
        features = {
            "audio": audio_features(audio.model, mels, "track", "factors"),
            "attributes": attribute_features(world, fit_rows=split["train"]),
        }
        test = split["test"]
        per_track = {
            "audio (full tracks)": cosine_distances(features["audio"][test], targets[test])
        }
        for name, sources in (
            ("attributes", ["attributes"]),
            ("audio + attributes", ["audio", "attributes"]),
        ):
            net = fit_factor_mlp(
                features,
                targets,
                split,
                sources=sources,
                epochs=max_epochs,
                batch_size=batch_size,
                patience=patience,
                seed=seed,
            )
            per_track[name] = cosine_distances(net.predict(features, test), targets[test])
        row = {name: float(d.mean()) for name, d in per_track.items()}
        best = min(("audio (full tracks)", "attributes"), key=row.__getitem__)
        row["best single"] = row[best]
        gain = per_track[best] - per_track["audio + attributes"]  # paired, track by track
        row["gain"] = float(gain.mean())
        row["gain SE"] = float(gain.std(ddof=1) / np.sqrt(gain.size))
        row["test tracks"] = int(test.size)
        rows[seed] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "seed"
    return table
