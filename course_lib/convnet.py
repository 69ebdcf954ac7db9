"""Predicting collaborative-filtering factors from audio: the cold-start convnet.

Taught in chapter 04 (and read by chapter 05, which looks inside the trained network). The idea is
van den Oord, Dieleman & Schrauwen (2013) as scaled up by Dieleman (2014): a convolutional network
reads a log-mel spectrogram and regresses the track's latent factors from an implicit-feedback
matrix factorisation (chapter 02). For a new track with no plays, the predicted factors place it
in the same space as the users, so it can be recommended on day one.

Layer names are stable, so later chapters can read activations by name:

============  ==================================================================
``log_mel``   input, ``(n_frames, n_mels)`` time-major log-mel (dB)
``input_norm``  per-mel-band standardisation (``Normalization``, adapted on training data)
``conv1``     Conv1D over time, kernel 4, ReLU (256 filters in "paper")
``pool1``     MaxPooling1D(4)
``conv2``     Conv1D, kernel 4, ReLU
``pool2``     MaxPooling1D(2)
``conv3``     Conv1D, kernel 4, ReLU
``pool3``     MaxPooling1D(2)
``conv4``     Conv1D, kernel 4, ReLU
``global_pool``  :class:`GlobalTemporalPooling`: mean, max and L2 norm over time, concatenated
``dense1``    Dense, ReLU (2048 in "paper"); then ``dropout1``
``dense2``    Dense, ReLU (2048 in "paper"); then ``dropout2``
``factors``   Dense, linear, ``n_factors`` outputs (float32 even under mixed precision)
============  ==================================================================

Models are saved in the ``.keras`` format and loaded with ``safe_mode=True``: every custom piece
(the pooling layer, the losses) is a registered Keras object, so no Python code (lambdas) is
deserialised. Trained course models are cached under ``$COURSE_LIB_CACHE/convnet`` (default
``~/.cache/course_lib/convnet``): :func:`course_model_path`, :func:`load_or_train_course_model`.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

from course_lib.audio import cache_dir  # noqa: E402

__all__ = [
    "COURSE_SETTINGS",
    "LAYER_NAMES",
    "PRESETS",
    "CourseRun",
    "GlobalTemporalPooling",
    "LOSSES",
    "build_factor_convnet",
    "center_crop",
    "cold_start_table",
    "cosine_distance",
    "course_model_path",
    "default_dtype_policy",
    "describe_device",
    "factor_metrics",
    "fold_in_item_factors",
    "genre_popularity_scores",
    "load_factor_model",
    "load_or_train_course_model",
    "make_factor_dataset",
    "mean_baseline_metrics",
    "nearest_neighbour_factors",
    "normalize_factors",
    "predict_track_factors",
    "save_course_run",
    "save_factor_model",
    "split_tracks",
    "temporal_lengths",
    "train_course_model",
    "train_factor_model",
    "unit_mse",
]

#: Architecture presets. "paper" is Dieleman (2014, sec. 5.1 and its figure); "course" keeps the
#: shape (four time convolutions of width 4, pooling 4-2-2, global temporal pooling, two dense
#: layers, linear output) with about 1/100 of the parameters: it trains in minutes on 2 CPU cores.
PRESETS: dict[str, dict[str, Any]] = {
    "paper": {
        "filters": (256, 256, 512, 512),
        "kernel_size": 4,
        "pool_sizes": (4, 2, 2),
        "dense_units": (2048, 2048),
        "dropout": 0.5,
    },
    "course": {
        "filters": (32, 32, 64, 64),
        "kernel_size": 4,
        "pool_sizes": (4, 2, 2),
        "dense_units": (128, 128),
        "dropout": 0.3,
    },
}

#: Layer names in order (the ``log_mel`` input first); stable across presets.
LAYER_NAMES: tuple[str, ...] = (
    "log_mel",
    "input_norm",
    "conv1",
    "pool1",
    "conv2",
    "pool2",
    "conv3",
    "pool3",
    "conv4",
    "global_pool",
    "dense1",
    "dropout1",
    "dense2",
    "dropout2",
    "factors",
)


# --------------------------------------------------------------------------------------------
# Device and precision
# --------------------------------------------------------------------------------------------
def _gpus() -> list[Any]:
    import tensorflow as tf

    return tf.config.list_physical_devices("GPU")


def default_dtype_policy() -> str:
    """``"mixed_float16"`` when TensorFlow sees a GPU, else ``"float32"`` (same code on both)."""
    return "mixed_float16" if _gpus() else "float32"


def describe_device() -> str:
    """A one-line description of where Keras will run: the GPU's name, or the CPU core count."""
    gpus = _gpus()
    if gpus:
        import tensorflow as tf

        details = tf.config.experimental.get_device_details(gpus[0])
        return f"GPU: {details.get('device_name', gpus[0].name)} (x{len(gpus)}), mixed precision"
    return f"CPU: {os.cpu_count()} cores visible, float32 (no GPU found)"


# --------------------------------------------------------------------------------------------
# The network
# --------------------------------------------------------------------------------------------
@keras.saving.register_keras_serializable(package="course_lib")
class GlobalTemporalPooling(keras.layers.Layer):
    """Pool a ``(batch, time, channels)`` tensor over time into mean, max and L2 norm.

    Dieleman (2014, sec. 5.1): "a global temporal pooling layer ... computing statistics of the
    learned features across time ... the mean, the maximum and the L2-norm". For each channel
    ``c`` with activations ``h[t, c]``::

        out = [ mean_t h[t, c] ,  max_t h[t, c] ,  sqrt(sum_t h[t, c]^2 + epsilon) ]

    concatenated along the channel axis, so the output has ``3 * channels`` features and the
    position in time of a detected pattern no longer matters. ``epsilon`` keeps the gradient of
    the square root finite when a ReLU channel is silent over the whole clip.
    The statistics are computed in float32 even under mixed precision.
    """

    def __init__(self, epsilon: float = 1e-7, **kwargs: Any) -> None:
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if epsilon < 0:
            raise ValueError(f"epsilon must be >= 0, got {epsilon}")
        self.epsilon = float(epsilon)

    def call(self, inputs: Any) -> Any:
        mean = ops.mean(inputs, axis=1)
        peak = ops.max(inputs, axis=1)
        l2 = ops.sqrt(ops.sum(ops.square(inputs), axis=1) + self.epsilon)
        return ops.concatenate([mean, peak, l2], axis=-1)

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        if len(input_shape) != 3:
            raise ValueError(
                f"GlobalTemporalPooling expects (batch, time, channels), got {input_shape}"
            )
        channels = input_shape[-1]
        return (input_shape[0], None if channels is None else 3 * channels)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "epsilon": self.epsilon}


def temporal_lengths(n_frames: int, preset: str = "course") -> dict[str, int]:
    """Number of time steps after each conv / pooling layer ("valid" convolutions).

    A convolution of width ``k`` shortens the sequence by ``k - 1``; max-pooling of size ``p``
    divides it by ``p`` (rounding down). For the paper's 599 frames: 596, 149, 146, 73, 70, 35, 32.
    """
    cfg = _preset(preset)
    lengths: dict[str, int] = {}
    t = int(n_frames)
    k = cfg["kernel_size"]
    for i in range(len(cfg["filters"])):
        t = t - k + 1
        lengths[f"conv{i + 1}"] = t
        if i < len(cfg["pool_sizes"]):
            t = t // cfg["pool_sizes"][i]
            lengths[f"pool{i + 1}"] = t
    return lengths


def _preset(preset: str) -> dict[str, Any]:
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}: choose one of {sorted(PRESETS)}")
    return PRESETS[preset]


def build_factor_convnet(
    n_frames: int = 599,
    n_mels: int = 128,
    n_factors: int = 40,
    preset: str = "course",
    *,
    dtype_policy: str | None = None,
    seed: int = 0,
) -> keras.Model:
    """Build the convnet that maps a log-mel spectrogram to ``n_factors`` latent factors.

    Dieleman (2014, sec. 5.1): input 599 frames x 128 mel bands; four 1-D convolutions over time
    only (filter length 4, ReLU; 256 filters in the first layer, 256, 512, 512 in the post's
    figure), max-pooling 4 after the first and 2 after the second and third; global temporal
    pooling (mean, max, L2); two dense layers of 2048 ReLU units with dropout; a linear output of 40
    factors. ``preset="course"`` keeps that shape with fewer filters and units (:data:`PRESETS`).
    A per-mel-band ``Normalization`` layer (``input_norm``) precedes the convolutions; it is the
    identity until :func:`train_factor_model` adapts it to the training spectrograms.

    Parameters
    ----------
    n_frames, n_mels : int
        Input size (time frames, mel bands). The convolutions need enough frames to leave at least
        one time step after ``conv4``; see :func:`temporal_lengths`.
    n_factors : int
        Outputs: the number of ALS factors to predict.
    preset : {"course", "paper"}
        Layer widths.
    dtype_policy : str, optional
        Keras dtype policy; default :func:`default_dtype_policy` (mixed precision on GPU only).
    seed : int
        Seeds weight initialisation and dropout.

    Returns
    -------
    keras.Model
        Uncompiled; layer names as in :data:`LAYER_NAMES`.
    """
    cfg = _preset(preset)
    for name, value in (("n_frames", n_frames), ("n_mels", n_mels), ("n_factors", n_factors)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    lengths = temporal_lengths(n_frames, preset)
    if min(lengths.values()) < 1:
        raise ValueError(
            f"n_frames={n_frames} is too short for the {preset!r} preset: the time axis shrinks to "
            f"{lengths}; use at least {_min_frames(preset)} frames"
        )
    policy = dtype_policy or default_dtype_policy()
    init = keras.initializers.GlorotUniform
    k = cfg["kernel_size"]

    inputs = keras.Input(shape=(n_frames, n_mels), name="log_mel")
    x = keras.layers.Normalization(axis=-1, name="input_norm")(inputs)
    for i, n_filters in enumerate(cfg["filters"]):
        x = keras.layers.Conv1D(
            n_filters,
            k,
            activation="relu",
            name=f"conv{i + 1}",
            kernel_initializer=init(seed=seed + i),
            dtype=policy,
        )(x)
        if i < len(cfg["pool_sizes"]):
            x = keras.layers.MaxPooling1D(cfg["pool_sizes"][i], name=f"pool{i + 1}", dtype=policy)(
                x
            )
    x = GlobalTemporalPooling(name="global_pool")(x)
    for j, units in enumerate(cfg["dense_units"]):
        x = keras.layers.Dense(
            units,
            activation="relu",
            name=f"dense{j + 1}",
            kernel_initializer=init(seed=seed + 10 + j),
            dtype=policy,
        )(x)
        x = keras.layers.Dropout(cfg["dropout"], seed=seed + 20 + j, name=f"dropout{j + 1}")(x)
    outputs = keras.layers.Dense(
        n_factors, name="factors", dtype="float32", kernel_initializer=init(seed=seed + 30)
    )(x)
    return keras.Model(inputs, outputs, name=f"factor_convnet_{preset}")


def _min_frames(preset: str) -> int:
    n = 1
    while min(temporal_lengths(n, preset).values()) < 1:
        n += 1
    return n


# --------------------------------------------------------------------------------------------
# Targets and losses
# --------------------------------------------------------------------------------------------
def normalize_factors(factors: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Scale each row to unit L2 norm (rows of zeros stay zero).

    Dieleman (2014, sec. 5.2): the factor vectors "are first normalized so they have a unit norm
    ... to reduce the influence of song popularity (the norms of latent factor vectors tend to be
    correlated with song popularity)".
    """
    factors = np.asarray(factors, dtype=np.float32)
    if factors.ndim != 2:
        raise ValueError(
            f"normalize_factors expects (n_items, n_factors), got shape {factors.shape}"
        )
    norms = np.linalg.norm(factors, axis=1, keepdims=True)
    return np.where(norms > eps, factors / np.maximum(norms, eps), 0.0).astype(np.float32)


def _l2n(x: Any) -> Any:
    return x / ops.sqrt(ops.sum(ops.square(x), axis=-1, keepdims=True) + 1e-12)


@keras.saving.register_keras_serializable(package="course_lib")
def unit_mse(y_true: Any, y_pred: Any) -> Any:
    """Mean squared error against unit-norm targets (Dieleman 2014, sec. 5.2).

    ``mean_k (y_pred[k] - y_true[k] / ||y_true||)^2`` per example; the target is normalised inside
    (a no-op when it already has unit norm), the prediction is not.
    """
    y_true = ops.cast(y_true, "float32")
    y_pred = ops.cast(y_pred, "float32")
    return ops.mean(ops.square(y_pred - _l2n(y_true)), axis=-1)


@keras.saving.register_keras_serializable(package="course_lib")
def cosine_distance(y_true: Any, y_pred: Any) -> Any:
    """Cosine distance ``1 - y_true . y_pred / (||y_true|| ||y_pred||)`` per example.

    The loss of Nieto (2017, "Approximating item factors ... loss function: cosine distance"):
    only the direction of the prediction matters, its length is free.
    """
    y_true = ops.cast(y_true, "float32")
    y_pred = ops.cast(y_pred, "float32")
    return 1.0 - ops.sum(_l2n(y_true) * _l2n(y_pred), axis=-1)


#: Loss names accepted by :func:`train_factor_model`.
LOSSES = {"mse": unit_mse, "cosine": cosine_distance}


def factor_metrics(predicted: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """Both losses, in numpy, averaged over items: ``{"mse": ..., "cosine_distance": ...}``."""
    p = np.asarray(predicted, dtype=np.float64)
    t = normalize_factors(targets).astype(np.float64)
    if p.shape != t.shape:
        raise ValueError(f"predicted {p.shape} and targets {t.shape} must have the same shape")
    pn = p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-12)
    return {
        "mse": float(np.mean((p - t) ** 2)),
        "cosine_distance": float(np.mean(1.0 - np.sum(pn * t, axis=1))),
    }


def mean_baseline_metrics(train_targets: np.ndarray, eval_targets: np.ndarray) -> dict[str, float]:
    """Losses of the predict-the-mean baseline: every track gets the mean unit-norm training target.

    A network that cannot beat this has learned nothing from the audio.
    """
    mean = normalize_factors(train_targets).mean(axis=0, keepdims=True)
    return factor_metrics(np.repeat(mean, len(eval_targets), axis=0), eval_targets)


# --------------------------------------------------------------------------------------------
# Splits and the tf.data pipeline
# --------------------------------------------------------------------------------------------
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
    fractions : three floats summing to 1
    seed : int
    candidates : array of int, optional
        Row indices to split instead of ``~tracks.is_new``.

    Returns
    -------
    dict with sorted int arrays under ``"train"``, ``"val"``, ``"test"``.
    """
    if by not in ("track", "artist"):
        raise ValueError(f"by must be 'track' or 'artist', got {by!r}")
    fr = np.asarray(fractions, dtype=float)
    if fr.shape != (3,) or np.any(fr < 0) or not np.isclose(fr.sum(), 1.0):
        raise ValueError(
            f"fractions must be three non-negative numbers summing to 1, got {fractions}"
        )
    if candidates is None:
        if "is_new" not in tracks:
            raise ValueError("tracks has no is_new column: pass candidates=... explicitly")
        candidates = np.flatnonzero(~tracks["is_new"].to_numpy(bool))
    candidates = np.asarray(candidates, dtype=np.int64)
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
    """The middle ``n_frames`` frames of each time-major spectrogram (the evaluation crop)."""
    x = np.asarray(log_mels)
    total = x.shape[-2]
    if n_frames > total:
        raise ValueError(f"cannot crop {n_frames} frames from spectrograms of {total} frames")
    start = (total - n_frames) // 2
    return x[..., start : start + n_frames, :]


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
    """
    import tensorflow as tf

    idx = np.asarray(indices, dtype=np.int64)
    if idx.size == 0:
        raise ValueError("make_factor_dataset got no indices: the split is empty")
    if log_mels.ndim != 3:
        raise ValueError(
            f"log_mels must be (n_tracks, n_frames, n_mels), got shape {log_mels.shape}"
        )
    total = log_mels.shape[1]
    if n_frames > total:
        raise ValueError(
            f"crop of {n_frames} frames is longer than the spectrograms ({total} frames)"
        )
    y = normalize_factors(np.asarray(targets)[idx])
    if not training:
        x = np.ascontiguousarray(center_crop(log_mels[idx], n_frames), dtype=np.float32)
        return (
            tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size).prefetch(tf.data.AUTOTUNE)
        )

    x_all = tf.constant(np.asarray(log_mels[idx], dtype=np.float32))
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


# --------------------------------------------------------------------------------------------
# Training, prediction, saving
# --------------------------------------------------------------------------------------------
def train_factor_model(
    model: keras.Model,
    log_mels: np.ndarray,
    targets: np.ndarray,
    train_idx: np.ndarray,
    val_idx: np.ndarray,
    *,
    loss: str = "mse",
    epochs: int = 30,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    patience: int = 4,
    seed: int = 0,
    verbose: int = 0,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    jit_compile: bool | str = "auto",
) -> keras.callbacks.History:
    """Fit ``model`` to predict unit-norm ``targets`` from random crops of ``log_mels``.

    Adapts the ``input_norm`` layer to the training spectrograms, compiles with Adam and the chosen
    loss (both losses are tracked as metrics), and fits with early stopping on the validation loss
    (best weights restored), as Nieto (2017) does. Runs on a GPU when TensorFlow sees one (mixed
    precision, with loss scaling, if the model was built with that policy), on the CPU otherwise.

    Parameters
    ----------
    model : keras.Model
        From :func:`build_factor_convnet`; its input length sets the crop length.
    log_mels, targets : arrays
        ``(n_tracks, total_frames, n_mels)`` and ``(n_tracks, n_factors)``, all tracks.
    train_idx, val_idx : arrays of int
        Rows used for training and for early stopping (e.g. from :func:`split_tracks`).
    loss : {"mse", "cosine"}
        :func:`unit_mse` (Dieleman 2014) or :func:`cosine_distance` (Nieto 2017).
    epochs, batch_size, learning_rate, patience, seed, verbose
        Usual meanings; ``seed`` fixes shuffling, crops and dropout.
    callbacks : sequence of keras callbacks
        Extra callbacks.
    jit_compile : bool or "auto"
        Keras' XLA switch for the training step ("auto": on wherever XLA supports the model).

    Returns
    -------
    keras.callbacks.History
        ``history.history`` holds per-epoch ``loss``, ``val_loss``, ``unit_mse``,
        ``cosine_distance`` and their ``val_`` versions; ``history.seconds`` the wall time.
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}")
    if len(targets) != len(log_mels):
        raise ValueError(
            f"log_mels has {len(log_mels)} tracks but targets has {len(targets)}: pass all rows"
        )
    keras.utils.set_random_seed(seed)
    n_frames = int(model.input_shape[1])
    train_ds = make_factor_dataset(
        log_mels, targets, train_idx, n_frames, batch_size=batch_size, training=True, seed=seed
    )
    val_ds = make_factor_dataset(log_mels, targets, val_idx, n_frames, batch_size=128)
    try:
        norm = model.get_layer("input_norm")
    except ValueError:
        norm = None
    if norm is not None:
        sample = np.random.default_rng(seed).permutation(np.asarray(train_idx))[:1024]
        norm.adapt(center_crop(log_mels[np.sort(sample)], n_frames).astype(np.float32))
    optimizer: keras.optimizers.Optimizer = keras.optimizers.Adam(learning_rate)
    if any(getattr(layer.dtype_policy, "name", "") == "mixed_float16" for layer in model.layers):
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    model.compile(
        optimizer=optimizer,
        loss=LOSSES[loss],
        metrics=[unit_mse, cosine_distance],
        jit_compile=jit_compile,
    )
    stop = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=patience, restore_best_weights=True
    )
    start = time.perf_counter()
    history = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=epochs,
        verbose=verbose,
        callbacks=[stop, *callbacks],
        shuffle=False,
    )  # the pipeline shuffles
    history.seconds = time.perf_counter() - start
    return history


def predict_track_factors(
    model: keras.Model,
    log_mels: np.ndarray,
    window: int | None = None,
    hop: int | None = None,
    *,
    batch_size: int = 128,
) -> np.ndarray:
    """Factors for whole tracks: predict on sliding windows and average them.

    Van den Oord et al. (2013) and Dieleman (2014, sec. 5): "to get a prediction for a longer clip,
    we just split it up into ... windows and averaged the predictions across these windows". The
    last window is aligned with the end of the clip so that no frame is left out.

    Parameters
    ----------
    model : keras.Model
    log_mels : array (n_tracks, total_frames, n_mels) or (total_frames, n_mels)
    window : int, optional
        Window length in frames; default the model's input length.
    hop : int, optional
        Step between windows; default ``window // 2``.
    batch_size : int

    Returns
    -------
    np.ndarray, float32, (n_tracks, n_factors) (or (n_factors,) for one track)
    """
    x = np.asarray(log_mels, dtype=np.float32)
    single = x.ndim == 2
    if single:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f"log_mels must be (n_tracks, n_frames, n_mels), got shape {x.shape}")
    window = int(window or model.input_shape[1])
    hop = int(hop or max(window // 2, 1))
    total = x.shape[1]
    if window > total:
        raise ValueError(
            f"window of {window} frames is longer than the spectrograms ({total} frames)"
        )
    if hop < 1:
        raise ValueError(f"hop must be >= 1, got {hop}")
    starts = list(range(0, total - window + 1, hop))
    if starts[-1] != total - window:
        starts.append(total - window)
    windows = np.stack(
        [x[:, s : s + window] for s in starts], axis=1
    )  # (n, n_windows, window, mels)
    flat = windows.reshape((-1, window, x.shape[2]))
    pred = model.predict(flat, batch_size=batch_size, verbose=0)
    out = pred.reshape((x.shape[0], len(starts), -1)).mean(axis=1).astype(np.float32)
    return out[0] if single else out


def save_factor_model(model: keras.Model, path: str | os.PathLike[str]) -> Path:
    """Save in the ``.keras`` format (architecture, weights, optimizer state); returns the path."""
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"save to a path ending in .keras, got {path.name!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return path


def load_factor_model(path: str | os.PathLike[str], *, compile: bool = True) -> keras.Model:
    """Load a ``.keras`` model with ``safe_mode=True`` (refuses to deserialise arbitrary code).

    The custom layer and losses of this module are registered Keras objects, so importing
    ``course_lib.convnet`` is all that is needed.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"no saved model at {path}: train one first (load_or_train_course_model)"
        )
    return keras.saving.load_model(path, safe_mode=True, compile=compile)


# --------------------------------------------------------------------------------------------
# Cold start helpers
# --------------------------------------------------------------------------------------------
def genre_popularity_scores(
    plays: Any, track_genre_ids: np.ndarray, candidates: np.ndarray, seed: int | None = 0
) -> np.ndarray:
    """Popularity-by-genre baseline for new tracks: each user's share of plays in the track's genre.

    ``score[u, j] = plays of u in genre(candidates[j]) / all plays of u``. A new track has no plays
    of its own, so the best a metadata-only recommender can do with popularity is to rank the
    genres a user listens to most. Tracks of one genre tie; with a ``seed`` the ties are broken
    at random (a uniform jitter below 1e-6, far smaller than any difference between genres), so
    the result does not depend on the order of the catalogue's columns.

    Parameters
    ----------
    plays : scipy.sparse matrix (n_users, n_tracks)
    track_genre_ids : array (n_tracks,) of int
    candidates : array of int, the new tracks to score
    seed : int or None
        Seed of the tie-breaking jitter; ``None`` leaves exact ties.

    Returns
    -------
    np.ndarray float64 (n_users, len(candidates))
    """
    import scipy.sparse as sp

    genres = np.asarray(track_genre_ids, dtype=np.int64)
    n_genres = int(genres.max()) + 1
    onehot = sp.csr_matrix(
        (np.ones(len(genres), np.float64), (np.arange(len(genres)), genres)),
        shape=(len(genres), n_genres),
    )
    per_genre = np.asarray((sp.csr_matrix(plays, dtype=np.float64) @ onehot).todense())
    share = per_genre / np.maximum(per_genre.sum(axis=1, keepdims=True), 1.0)
    scores = share[:, genres[np.asarray(candidates)]]
    if seed is not None:
        scores = scores + 1e-7 * np.random.default_rng(seed).random(scores.shape)
    return scores


def fold_in_item_factors(
    user_factors: np.ndarray,
    plays: Any,
    items: np.ndarray,
    alpha: float = 40.0,
    regularization: float = 0.1,
) -> np.ndarray:
    """Item factors that ALS would give ``items`` from their plays, the user factors held fixed.

    One item half-step of implicit ALS (Hu, Koren & Volinsky 2008, eq. 5): for item ``i`` with
    confidence ``C_i = 1 + alpha * plays[:, i]``, ``y_i = (X^T C_i X + lambda I)^-1 X^T C_i p_i``.
    For cold-start tracks, given the plays they *will* get, this is the best factor vector in the
    space of the users we already have: the "oracle" target a factor predictor tries to reach.
    Computed by :func:`course_lib.als.solve_rows` on the tracks' columns.

    Parameters
    ----------
    user_factors : array (n_users, f)
    plays : sparse matrix (n_users, n_tracks), e.g. ``world.new_track_plays``
    items : array of int, the tracks to fold in
    alpha, regularization : float
        As in :func:`course_lib.als.fit_als`.

    Returns
    -------
    np.ndarray float32 (len(items), f)
    """
    import scipy.sparse as sp

    from course_lib.als import solve_rows

    columns = sp.csc_matrix(plays)[:, np.asarray(items)].T
    return solve_rows(columns, user_factors, alpha, regularization).astype(np.float32)


def nearest_neighbour_factors(
    features: np.ndarray,
    targets: np.ndarray,
    train_idx: np.ndarray,
    query_idx: np.ndarray,
    groups: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Predict each query track's unit-norm factors by copying its nearest training track.

    Nearest by Euclidean distance between standardised ``features`` (e.g. the time-averaged
    log-mel spectrum). A one-line "model" whose score depends on whether a close relative (a song
    by the same artist) may be copied: the cheapest way to see split leakage. A query never
    copies itself; with ``groups`` (e.g. artist ids), it never copies a track of its own group.

    Returns
    -------
    predicted : np.ndarray (len(query_idx), n_factors)
    neighbours : np.ndarray of int (len(query_idx),), the training track copied for each query
    """
    x = np.asarray(features, dtype=np.float64)
    train_idx, query_idx = np.asarray(train_idx), np.asarray(query_idx)
    std = x[train_idx].std(0)
    x = (x - x[train_idx].mean(0)) / np.where(std > 0, std, 1.0)
    d2 = ((x[query_idx, None, :] - x[None, train_idx, :]) ** 2).sum(-1)
    d2[query_idx[:, None] == train_idx[None, :]] = np.inf
    if groups is not None:
        g = np.asarray(groups)
        d2[g[query_idx][:, None] == g[train_idx][None, :]] = np.inf
    if np.any(np.all(np.isinf(d2), axis=1)):
        raise ValueError("a query has no admissible neighbour: enlarge the training set")
    neighbours = train_idx[np.argmin(d2, axis=1)]
    return normalize_factors(np.asarray(targets)[neighbours]), neighbours


def cold_start_table(
    scorers: dict[str, Any], plays: Any, new_track_plays: Any, new_tracks: np.ndarray, k: int = 10
) -> Any:
    """Ranking metrics of several cold-start recommenders on the held-back plays of new tracks.

    Each user's candidates are the new tracks only; the truth is ``new_track_plays`` (chapter 01's
    :func:`course_lib.evaluation.ranking_metrics`: NDCG, precision, recall, MAP at ``k``).

    Parameters
    ----------
    scorers : mapping name -> scores (n_users, n_new), (user_factors, item_factors of the new
        tracks) or a callable, as accepted by ``ranking_metrics``
    plays, new_track_plays : sparse (n_users, n_tracks)
    new_tracks : array of int, the ``is_new`` columns
    k : int

    Returns
    -------
    pandas.DataFrame, one row per scorer
    """
    import pandas as pd

    from course_lib.evaluation import ranking_metrics

    cols = np.asarray(new_tracks)
    train, test = plays[:, cols], new_track_plays[:, cols]
    rows = {}
    for name, scorer in scorers.items():
        m = ranking_metrics(scorer, train, test, k)
        rows[name] = {f"{key}@{k}": m[key] for key in ("ndcg", "precision", "recall", "map")}
    return pd.DataFrame(rows).T


# --------------------------------------------------------------------------------------------
# The cached course model (read by chapter 05)
# --------------------------------------------------------------------------------------------
#: Training settings of the course model (chapter 04 uses the same values). The crop of 256
#: frames (4.1 s) follows van den Oord et al. (2013), who trained on 3-second windows and averaged
#: predictions over windows; large batches average out the noise of the ALS targets. A catalogue
#: of 1 500 tracks supports far fewer factors than Spotify's 40 (Dieleman 2014): with 16, more
#: regularisation and a gentler confidence slope, the targets keep what listening says about a
#: track's style and less of the noise of its few listeners.
COURSE_SETTINGS: dict[str, Any] = {
    "preset": "course",
    "n_frames": 256,
    "epochs": 60,
    "batch_size": 128,
    "learning_rate": 3e-3,
    "patience": 8,
    "split_by": "artist",
    "als": {"factors": 16, "alpha": 10.0, "regularization": 1.0, "iterations": 15},
}


@dataclass
class CourseRun:
    """Everything :func:`train_course_model` produced (model, history, split, factors)."""

    model: keras.Model
    history: dict[str, list[float]]
    split: dict[str, np.ndarray]
    user_factors: np.ndarray
    item_factors: np.ndarray
    seconds: float
    settings: dict[str, Any] = field(default_factory=dict)


def _settings_key(settings: dict[str, Any]) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]


def course_model_path(size: str = "small", seed: int = 0, loss: str = "mse") -> Path:
    """Where the trained course model for a music world ``size`` and ``seed`` is cached.

    ``$COURSE_LIB_CACHE/convnet/factor_convnet_{size}_seed{seed}_{loss}.keras`` (default cache
    ``~/.cache/course_lib``); a ``.json`` file with the same stem holds the split, the learning
    curves and the settings it was trained with.
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}")
    return cache_dir("convnet") / f"factor_convnet_{size}_seed{seed}_{loss}.keras"


def save_course_run(
    model: keras.Model,
    history: dict[str, list[float]],
    split: dict[str, np.ndarray],
    *,
    size: str,
    seed: int = 0,
    loss: str = "mse",
    seconds: float = float("nan"),
    settings: dict[str, Any] | None = None,
    world_version: int | None = None,
) -> Path:
    """Save a trained course model and its ``.json`` record at :func:`course_model_path`.

    The record holds the split (chapter 05 reads it), the learning curves, the wall time, the
    settings and the music world's generator version (default: the current one);
    :func:`load_or_train_course_model` reuses the model only if both match the current ones.
    """
    path = course_model_path(size, seed, loss)
    save_factor_model(model, path)
    cfg = settings if settings is not None else COURSE_SETTINGS
    meta = {
        "size": size,
        "seed": seed,
        "loss": loss,
        "seconds": seconds,
        "settings": cfg,
        "settings_key": _settings_key(cfg),
        "world_version": _world_version() if world_version is None else world_version,
        "history": {k: [float(v) for v in vals] for k, vals in history.items()},
        "split": {k: np.asarray(v).tolist() for k, v in split.items()},
    }
    path.with_suffix(".json").write_text(json.dumps(meta))
    return path


def _world_version() -> int | None:
    try:
        from course_lib.music_world import GENERATOR_VERSION
    except ImportError:  # pragma: no cover - the music world ships with the course
        return None
    return int(GENERATOR_VERSION)


def train_course_model(
    world: Any,
    *,
    seed: int = 0,
    loss: str = "mse",
    settings: dict[str, Any] | None = None,
    verbose: int = 0,
) -> CourseRun:
    """Fit ALS on ``world.plays``, split by artist, train the course convnet on unit-norm factors.

    The same steps chapter 04 takes one by one, with :data:`COURSE_SETTINGS` (the crop is
    shortened to the world's clip length if that is shorter, as in the "tiny" world).
    """
    from course_lib.als import fit_als

    cfg = {**COURSE_SETTINGS, **(settings or {})}
    user_factors, item_factors = fit_als(world.plays, seed=seed, progress=False, **cfg["als"])
    log_mels = world.log_mel(progress=False)
    split = split_tracks(world.tracks, by=cfg["split_by"], seed=seed)
    n_frames = min(int(cfg["n_frames"]), log_mels.shape[1])
    model = build_factor_convnet(
        n_frames, log_mels.shape[2], item_factors.shape[1], preset=cfg["preset"], seed=seed
    )
    history = train_factor_model(
        model,
        log_mels,
        item_factors,
        split["train"],
        split["val"],
        loss=loss,
        epochs=cfg["epochs"],
        batch_size=cfg["batch_size"],
        learning_rate=cfg["learning_rate"],
        patience=cfg["patience"],
        seed=seed,
        verbose=verbose,
    )
    return CourseRun(
        model,
        {k: [float(v) for v in vals] for k, vals in history.history.items()},
        split,
        np.asarray(user_factors),
        np.asarray(item_factors),
        history.seconds,
        cfg,
    )


def load_or_train_course_model(
    world: Any,
    *,
    size: str | None = None,
    seed: int = 0,
    loss: str = "mse",
    retrain: bool = False,
    verbose: int = 0,
) -> keras.Model:
    """The trained course convnet for ``world``: loaded from the cache, or trained once and saved.

    Parameters
    ----------
    world : MusicWorld
        The music world the model is (or was) trained on.
    size : str, optional
        The world's size name for the cache key; default ``world.size`` (or ``"small"``).
    seed : int
        Seeds ALS, the split and training; part of the cache key.
    loss : {"mse", "cosine"}
    retrain : bool
        Train again even if a cached model exists.

    Returns
    -------
    keras.Model
        Compiled, loaded with ``safe_mode=True``. The split and learning curves are in the
        ``.json`` file next to :func:`course_model_path`. A cached model trained with other
        settings (:data:`COURSE_SETTINGS`) or another version of the music world is retrained.
    """
    size = size or str(getattr(world, "size", "small"))
    path = course_model_path(size, seed, loss)
    meta_path = path.with_suffix(".json")
    if path.exists() and meta_path.exists() and not retrain:
        meta = json.loads(meta_path.read_text())
        if (
            meta.get("settings_key") == _settings_key(COURSE_SETTINGS)
            and meta.get("world_version") == _world_version()
        ):
            return load_factor_model(path)
    run = train_course_model(world, seed=seed, loss=loss, verbose=verbose)
    save_course_run(
        run.model,
        run.history,
        run.split,
        size=size,
        seed=seed,
        loss=loss,
        seconds=run.seconds,
        settings=run.settings,
        world_version=_world_version(),
    )
    return load_factor_model(path)
