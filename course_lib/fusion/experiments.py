"""Repeated splits and cross-validation: is the gain of fusing audio and attributes more than luck?

Taught in chapter 07 (``chapters/07_fusion.md``, section 5.3, which reads the result that
``benchmarks/fusion_splits.py`` saves): one test split of some 150 tracks cannot tell a gain of
a few hundredths from luck, and a split by track lets a network recognise the test tracks'
artists, so :func:`fusion_gain_by_split` redraws everything that depends on the seed, split by
track or by artist, and measures the comparison again, on one split or by K-fold
cross-validation over every track with factors (:func:`kfold_parts`). It chains the other
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
from course_lib.validation import (
    require_choice,
    require_int,
    validate_index,
    validate_log_mels,
)

__all__ = ["fusion_gain_by_split", "kfold_parts"]


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
    folds: int = 1,
    per_track: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, dict[int, pd.DataFrame]]:
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

    ``folds=1`` is chapter 07's single 80/10/10 split, some 150 test tracks. ``folds=K`` (K >= 3)
    is K-fold cross-validation, which tests every track with factors once: the tracks (or, by
    artist, whole artists) are dealt into K folds of equal size; each fold in turn is the test
    part, and the others are split 7:1 into training and validation tracks
    (:func:`kfold_parts`). Each fold trains its own convnet and networks, so no model ever
    predicts a track it trained on: the audio features the networks read are *cross-fitted*
    (the caveat of chapter 07's section 3 does not apply). With K times more test tracks the
    standard error shrinks by about the square root of K, at K times the cost.

    Returns
    -------
    pandas.DataFrame
        One row per seed: the three distances, ``best single`` (the better of audio and
        attributes), ``gain`` (best single minus fused: positive when fusion helps), ``gain SE``
        (the standard error of that gain, from the per-track differences on the same test
        tracks: fusion beats the best single source by ``k`` standard errors when
        ``gain > k * gain SE``) and ``test tracks``.
    dict of seed -> pandas.DataFrame, only with ``per_track=True``
        Every test track's three cosine distances, indexed by track, for paired comparisons
        between runs on the same seed (the same ALS factors), e.g. by track against by artist.

    Raises
    ------
    TypeError, ValueError
        ``seeds`` that is not a non-empty list of distinct non-negative integers (a bare int, a
        string, booleans); ``als_settings`` that is not a mapping; ``by`` other than
        ``"track"`` or ``"artist"``; ``n_frames``, ``audio_epochs``, ``max_epochs``,
        ``patience``, ``batch_size`` or ``audio_batch_size`` that are not positive integers
        (``patience`` may be 0); ``folds`` other than 1 or an integer from 3 to 20; whatever
        the steps it chains refuse (spectrograms with NaN, not one per track ...). All arguments
        are checked before anything is trained.
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
    folds = require_int(folds, "folds", minimum=1)
    if folds == 2 or folds > 20:
        raise ValueError(
            f"folds={folds}: pass 1 (chapter 07's single split) or 3 to 20 folds (5 is usual)"
        )
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
    rows, tracks_of = {}, {}
    for seed in seeds:
        plays_train, _ = split_plays(world.plays, test_fraction=0.2, seed=seed)
        plays_fit, _ = split_plays(plays_train, test_fraction=0.125, seed=seed + 1)
        _, targets = fit_als(plays_fit, seed=seed, progress=False, **dict(als_settings))
        warm = np.flatnonzero(np.linalg.norm(targets, axis=1) > 0)
        if folds == 1:
            parts = [split_tracks(world.tracks, by=by, seed=seed, candidates=warm)]
        else:
            parts = kfold_parts(world.tracks, warm, folds, by=by, seed=seed)
        per_part = []
        for split in parts:
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
            distances = {
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
                distances[name] = cosine_distances(net.predict(features, test), targets[test])
            per_part.append(pd.DataFrame(distances, index=pd.Index(test, name="track")))
        table = pd.concat(per_part).sort_index()
        tracks_of[seed] = table
        row = {name: float(d.mean()) for name, d in table.items()}
        best = min(("audio (full tracks)", "attributes"), key=row.__getitem__)
        row["best single"] = row[best]
        gain = table[best] - table["audio + attributes"]  # paired, track by track
        row["gain"] = float(gain.mean())
        row["gain SE"] = float(gain.std(ddof=1) / np.sqrt(gain.size))
        row["test tracks"] = int(len(table))
        rows[seed] = row
    summary = pd.DataFrame.from_dict(rows, orient="index")
    summary.index.name = "seed"
    return (summary, tracks_of) if per_track else summary


def kfold_parts(
    tracks: pd.DataFrame, candidates: np.ndarray, folds: int, *, by: str = "track", seed: int = 0
) -> list[dict[str, np.ndarray]]:
    """K-fold cross-validation splits of ``candidates``: each track is in one test part.

    The candidates (or, ``by="artist"``, whole artists, in a seeded random order, each to the
    fold with the fewest tracks so far) are dealt into ``folds`` folds. Split ``k`` tests fold
    ``k``; the other folds are split 7:1 into training and validation tracks by
    :func:`course_lib.convnet.split_tracks` (by track or by artist, like the folds), so that
    with 5 folds a model trains on 70 % of the tracks, stops early on 10 % and is tested on 20 %.

    Returns
    -------
    list of dict
        One ``{"train", "val", "test"}`` dict of sorted int arrays per fold.

    Raises
    ------
    TypeError, ValueError
        ``by`` other than ``"track"`` or ``"artist"``; ``folds`` that is not an integer of at
        least 2; candidates that are not integer row indices of ``tracks`` (a boolean mask: use
        ``np.flatnonzero(mask)``); fewer tracks (or artists) than folds.
    """
    require_choice(by, "by", ("track", "artist"))
    folds = require_int(folds, "folds", minimum=2)
    candidates = np.sort(validate_index(candidates, len(tracks), "candidates"))
    rng = np.random.default_rng(seed)
    if by == "track":
        groups = candidates
    else:
        groups = tracks["artist_id"].to_numpy()[candidates]
    order = rng.permutation(np.unique(groups))
    if order.size < folds:
        raise ValueError(f"{order.size} {by}s cannot fill {folds} folds: pass fewer folds")
    size = pd.Series(groups).value_counts()
    fold_of, filled = {}, np.zeros(folds)
    for group in order:
        fold_of[group] = int(np.argmin(filled))
        filled[fold_of[group]] += size[group]
    fold = np.array([fold_of[g] for g in groups])
    parts = []
    for k in range(folds):
        rest = split_tracks(
            tracks,
            by=by,
            fractions=(7 / 8, 1 / 8, 0.0),
            seed=seed + k,
            candidates=candidates[fold != k],
        )
        parts.append({"train": rest["train"], "val": rest["val"], "test": candidates[fold == k]})
    return parts
