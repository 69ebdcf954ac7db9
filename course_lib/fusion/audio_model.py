"""The audio source: chapter 04's convnet trained on this chapter's split, cached, and read out.

Taught in chapter 07 (``chapters/07_fusion.md``, section 3 "Audio: chapter 04's convnet on
patches and on full tracks"): the network, its training loop and its losses are reused from
:mod:`course_lib.convnet`, nothing is copied; the trained model lives in the course's one model
cache (:func:`course_lib.cache.load_or_train`); its outputs are read on the centre patch or
averaged over the whole track, as Nieto (2017) evaluates audio both ways.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from course_lib.cache import cache_dir, fingerprint, load_or_train
from course_lib.convnet import (
    PRESETS,
    TRAINING_VERSION,
    build_factor_convnet,
    center_crop,
    describe_device,
    load_factor_model,
    predict_track_factors,
    save_factor_model,
    train_factor_model,
)
from course_lib.fusion._inputs import split_parts
from course_lib.inspection import layer_activations
from course_lib.validation import (
    require_choice,
    require_int,
    validate_log_mels,
    validate_matrix,
)

if TYPE_CHECKING:
    import keras

__all__ = ["AudioModel", "audio_features", "embedding_model", "load_or_train_audio_model"]


def _layer(model: keras.Model, layer: str) -> Any:
    try:
        return model.get_layer(layer)
    except ValueError as err:
        names = [lay.name for lay in model.layers]
        raise ValueError(f"model has no layer {layer!r}; its layers are {names}") from err


def embedding_model(model: keras.Model, layer: str = "dense2") -> keras.Model:
    """A Keras sub-model that outputs ``layer``'s activations (default: the penultimate layer).

    Chapter 04's convnet names its layers (:data:`course_lib.convnet.LAYER_NAMES`); ``"dense2"``
    is the last hidden layer, the learned audio embedding that the ``factors`` layer reads.
    Raises ``ValueError`` (listing the layers) for a name the model does not have.
    """
    import keras

    return keras.Model(model.inputs, _layer(model, layer).output, name=f"{model.name}_{layer}")


def audio_features(
    model: keras.Model,
    log_mels: np.ndarray,
    mode: str = "track",
    output: str = "embedding",
    *,
    layer: str = "dense2",
    hop: int | None = None,
    chunk: int = 256,
) -> np.ndarray:
    """Audio descriptors from chapter 04's convnet, for a fixed patch or for the whole track.

    ``mode="patch"``: the network reads the centre crop of its input length
    (:func:`course_lib.convnet.center_crop`), like a model evaluated on 35-second patches in
    Nieto (2017). ``mode="track"``: it reads sliding windows over the whole clip and the outputs
    are averaged (:func:`course_lib.convnet.predict_track_factors`; van den Oord et al. 2013).
    ``output="factors"`` returns the predicted factors, ``"embedding"`` the activations of
    ``layer`` (the penultimate layer by default), which fusion networks take as input: for a
    patch they come from chapter 05's :func:`course_lib.inspection.layer_activations`, for a
    whole track from :func:`embedding_model` run over the same windows as the factors.

    Parameters
    ----------
    model : keras.Model
        A trained factor convnet (:func:`course_lib.convnet.build_factor_convnet`).
    log_mels : array (n_tracks, n_frames, n_mels)
    mode : {"patch", "track"}
    output : {"embedding", "factors"}
    layer : str
        Layer read when ``output="embedding"``.
    hop : int, optional
        Window step for ``mode="track"``; default half the model's input length.
    chunk : int
        Tracks processed at once (bounds memory).

    Returns
    -------
    np.ndarray float32 (n_tracks, n_outputs)

    Raises
    ------
    TypeError, ValueError
        An unknown ``mode``, ``output`` or ``layer``; spectrograms that are not
        ``(n_tracks, n_frames, n_mels)``, empty, hold NaN, have another number of mel bands
        than the model or fewer frames than its input; a ``hop`` or ``chunk`` that is not a
        positive integer.
    """
    require_choice(mode, "mode", ("patch", "track"))
    require_choice(output, "output", ("embedding", "factors"))
    chunk = require_int(chunk, "chunk", minimum=1)
    if hop is not None:
        hop = require_int(hop, "hop", minimum=1)
    n_frames = int(model.input_shape[1])
    x = validate_log_mels(
        log_mels, "log_mels", n_mels=model.input_shape[2], min_frames=n_frames, allow_single=False
    )
    if output == "embedding":
        _layer(model, layer)
    net = embedding_model(model, layer) if output == "embedding" and mode == "track" else model
    parts = []
    for start in range(0, len(x), chunk):
        block = x[start : start + chunk]
        if mode == "patch" and output == "embedding":
            parts.append(layer_activations(model, layer, block, batch_size=128))
        elif mode == "patch":
            crop = np.ascontiguousarray(center_crop(block, n_frames))
            parts.append(np.asarray(net.predict(crop, batch_size=128, verbose=0)))
        else:
            parts.append(predict_track_factors(net, block, window=n_frames, hop=hop))
    return np.concatenate(parts, axis=0).astype(np.float32)


@dataclass
class AudioModel:
    """A trained factor convnet plus what the results table needs (epochs, seconds per epoch)."""

    model: keras.Model
    history: dict[str, list[float]]
    epochs: int
    seconds_per_epoch: float
    device: str
    cached: bool


def load_or_train_audio_model(
    world: Any,
    targets: np.ndarray,
    split: Mapping[str, np.ndarray],
    *,
    n_frames: int = 200,
    preset: str = "course",
    epochs: int = 30,
    batch_size: int = 64,
    patience: int = 4,
    seed: int = 0,
    retrain: bool = False,
    log_mels: np.ndarray | None = None,
) -> AudioModel:
    """Chapter 04's convnet trained on patches of ``n_frames`` frames, for this chapter's split.

    Builds the network with :func:`course_lib.convnet.build_factor_convnet` and fits it with
    :func:`course_lib.convnet.train_factor_model` (random crops, Adam, early stopping) using the
    cosine-distance loss and mini-batches of 64, the settings of Nieto (2017). The model is kept
    in the course's model cache (:func:`course_lib.cache.load_or_train`) under
    ``$COURSE_LIB_CACHE/fusion``, named by a :func:`course_lib.cache.fingerprint` of the
    settings, the targets and the split, with a ``.json`` record holding the history, the epochs,
    the measured seconds per epoch and the device. A damaged cache entry is reported
    (``CacheWarning``) and the model is trained again.

    Parameters
    ----------
    world : MusicWorld
        Supplies the log-mel spectrograms (``world.log_mel()``) unless ``log_mels`` is given.
    targets : array (n_tracks, n_factors)
        Item factors, one row per track (normalised to unit norm inside).
    split : mapping with int arrays "train" and "val"
    n_frames : int
        Patch length in frames (the network's input length).
    preset, epochs, batch_size, patience, seed
        Passed to chapter 04's builder and training loop.
    retrain : bool
        Ignore the cache.
    log_mels : array, optional
        Spectrograms of all tracks, if already loaded.

    Returns
    -------
    AudioModel

    Raises
    ------
    TypeError, ValueError
        Targets that are empty or hold NaN; a split without train/val parts, or with empty,
        overlapping or out-of-range parts; spectrograms that hold NaN, are shorter than
        ``n_frames`` or are not one per target row; an unknown ``preset``; ``n_frames``,
        ``epochs``, ``batch_size``, ``patience`` or ``seed`` that are not integers of the right
        range (booleans and strings included). All are checked before the cache is read.
    """
    targets = validate_matrix(targets, "targets")
    train_idx, val_idx = split_parts(split, len(targets))
    settings = {
        "n_frames": require_int(n_frames, "n_frames", minimum=1),
        "preset": require_choice(preset, "preset", tuple(PRESETS)),
        "epochs": require_int(epochs, "epochs", minimum=1),
        "batch_size": require_int(batch_size, "batch_size", minimum=1),
        "patience": require_int(patience, "patience", minimum=0),
        "seed": require_int(seed, "seed", minimum=0),
        "loss": "cosine",
        "world": [str(getattr(world, "size", "?")), int(getattr(world, "seed", -1))],
        "training_version": TRAINING_VERSION,
    }

    def spectrograms() -> np.ndarray:
        mels = world.log_mel(progress=False) if log_mels is None else log_mels
        mels = validate_log_mels(mels, "log_mels", min_frames=n_frames, allow_single=False)
        if len(mels) != len(targets):
            raise ValueError(
                f"{len(mels)} spectrograms but {len(targets)} target rows: "
                "pass one spectrogram per track, in the order of the targets"
            )
        return mels

    if log_mels is not None:
        spectrograms()  # refuse bad spectrograms even when the model comes from the cache

    def train() -> tuple[keras.Model, dict[str, Any]]:
        mels = spectrograms()
        model = build_factor_convnet(
            n_frames, mels.shape[2], targets.shape[1], preset=preset, seed=seed
        )
        history = train_factor_model(
            model,
            mels,
            targets,
            train_idx,
            val_idx,
            loss="cosine",
            epochs=epochs,
            batch_size=batch_size,
            patience=patience,
            seed=seed,
        )
        hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        n_epochs = len(hist["loss"])
        record = {
            "history": hist,
            "epochs": n_epochs,
            "seconds_per_epoch": history.seconds / n_epochs,
            "device": describe_device(),
        }
        return model, record

    key = fingerprint(settings, targets, train_idx, val_idx)
    model, record, cached = load_or_train(
        cache_dir("fusion", create=False) / f"audio_convnet_{key}.keras",
        settings,
        train,
        save=save_factor_model,
        load=load_factor_model,
        retrain=retrain,
    )
    return AudioModel(
        model,
        record["history"],
        record["epochs"],
        record["seconds_per_epoch"],
        record["device"],
        cached=cached,
    )
