"""Training the cold-start convnet and predicting factors for whole tracks.

Taught in chapter 04 (section 4: the students compile and fit their network with early
stopping, then use the course model that :func:`train_factor_model` trained, and predict whole
tracks by averaging windows; section 5: the second loss); chapter 05 predicts with the cached
course model, chapter 07 trains the same network on its own split.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from course_lib.validation import (
    as_array,
    require_choice,
    require_int,
    require_number,
    validate_log_mels,
    validate_matrix,
)

from .data import _nonempty_index, center_crop
from .losses import LOSSES, cosine_distance, unit_mse
from .network import min_input_frames
from .pipeline import make_factor_dataset

__all__ = ["TRAINING_VERSION", "predict_track_factors", "train_factor_model"]

#: The version of the training code, part of every trained-model cache key (the course model,
#: chapter 07's audio models). 2: the crops come from numpy (:mod:`~course_lib.convnet.pipeline`,
#: the same on every Keras backend) instead of ``tf.data``; models cached by earlier versions are
#: retrained. Bump it whenever a change to training changes what a model learns.
TRAINING_VERSION = 2


def _check_shapes(model: keras.Model, mels: np.ndarray, n_frames: int) -> None:
    """Shape checks against the model that read one spectrogram only (the rest is read later)."""
    if mels.ndim != 3:
        raise ValueError(f"log_mels must be (n_tracks, n_frames, n_mels), got shape {mels.shape}")
    if len(mels) == 0:
        raise ValueError("log_mels holds no spectrogram")
    validate_log_mels(mels[:1], "log_mels", n_mels=int(model.input_shape[2]), min_frames=n_frames)


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
    on_device: bool | None = None,
    val_batch_size: int = 128,
) -> keras.callbacks.History:
    """Fit ``model`` to predict unit-norm ``targets`` from random crops of ``log_mels``.

    Adapts the ``input_norm`` layer to the training spectrograms, compiles with Adam and the chosen
    loss (both losses are tracked as metrics), and fits with early stopping on the validation loss
    (best weights restored), as Nieto (2017) does. The batches come from
    :func:`~course_lib.convnet.pipeline.make_factor_dataset` (seeded numpy crops: the same on every
    Keras backend). Runs on a GPU when the Keras backend sees one (mixed precision, with loss
    scaling, if the model was built with that policy; the crops cut on the device under JAX and
    PyTorch), on the CPU otherwise.

    Parameters
    ----------
    model : keras.Model
        From :func:`~course_lib.convnet.network.build_factor_convnet`; its input length sets the
        crop length.
    log_mels, targets : arrays
        ``(n_tracks, total_frames, n_mels)`` and ``(n_tracks, n_factors)``, all tracks.
    train_idx, val_idx : arrays of int
        Rows used for training and for early stopping (e.g. from
        :func:`~course_lib.convnet.data.split_tracks`).
    loss : {"mse", "cosine"}
        :func:`~course_lib.convnet.losses.unit_mse` (Dieleman 2014) or
        :func:`~course_lib.convnet.losses.cosine_distance` (Nieto 2017).
    epochs, batch_size, learning_rate, patience, seed, verbose
        Usual meanings; ``seed`` fixes shuffling, crops and dropout.
    callbacks : sequence of keras callbacks
        Extra callbacks.
    jit_compile : bool or "auto"
        Keras' compilation switch for the training step ("auto": XLA under TensorFlow wherever it
        supports the model, always ``jax.jit`` under JAX, eager under PyTorch; ``True`` under
        PyTorch uses ``torch.compile``).
    on_device : bool, optional
        Cut the training crops on the device (default: on a GPU under JAX or PyTorch).
    val_batch_size : int
        Batch size of the validation pass.

    Returns
    -------
    keras.callbacks.History
        ``history.history`` holds per-epoch ``loss``, ``val_loss``, ``unit_mse``,
        ``cosine_distance`` and their ``val_`` versions; ``history.seconds`` the wall time.

    Raises
    ------
    ValueError
        An unknown loss; spectrograms with another number of mel bands than the model, shorter
        than its input, or with NaN / infinite values in the rows used; targets with another
        number of rows than ``log_mels``, another number of columns than the model's outputs,
        or NaN / infinite values; empty or out-of-range indices; epochs, batch size or learning
        rate below 1 (0 for the rate).
    TypeError
        Settings of the wrong type (``epochs=10.0``, ``learning_rate="1e-3"``).
    """
    require_choice(loss, "loss", tuple(LOSSES))
    epochs = require_int(epochs, "epochs", 1)
    batch_size = require_int(batch_size, "batch_size", 1)
    patience = require_int(patience, "patience", 0)
    seed = require_int(seed, "seed", 0)
    learning_rate = require_number(learning_rate, "learning_rate", minimum=0.0, strict_minimum=True)
    n_frames = min_input_frames(model)
    mels = np.asarray(log_mels)
    _check_shapes(model, mels, n_frames)
    factors = validate_matrix(targets, "targets")
    if len(factors) != len(mels):
        raise ValueError(
            f"log_mels has {len(mels)} tracks but targets has {len(factors)}: pass all rows"
        )
    n_outputs = model.output_shape[-1]
    if factors.shape[1] != n_outputs:
        raise ValueError(
            f"targets has {factors.shape[1]} factors per track but the model predicts "
            f"{n_outputs}: build it with n_factors={factors.shape[1]}"
        )
    train_idx = _nonempty_index(train_idx, len(mels), "train_idx")
    val_idx = _nonempty_index(val_idx, len(mels), "val_idx")
    keras.utils.set_random_seed(seed)
    val_batch_size = require_int(val_batch_size, "val_batch_size", 1)
    train_ds = make_factor_dataset(
        mels,
        factors,
        train_idx,
        n_frames,
        batch_size=batch_size,
        training=True,
        seed=seed,
        on_device=on_device,
    )
    val_ds = make_factor_dataset(
        mels, factors, val_idx, n_frames, batch_size=val_batch_size, on_device=on_device
    )
    try:
        norm = model.get_layer("input_norm")
    except ValueError:
        norm = None
    if norm is not None:
        sample = np.random.default_rng(seed).permutation(train_idx)[:1024]
        norm.adapt(center_crop(mels[np.sort(sample)], n_frames))
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


def _window(model: keras.Model, window: Any, total: int) -> int:
    fixed = model.input_shape[1]
    minimum = min_input_frames(model)
    window = require_int((fixed or total) if window is None else window, "window", 1)
    if fixed is not None and window != fixed:
        raise ValueError(
            f"window={window}, but this model reads windows of exactly {fixed} frames (its "
            "input length): other lengths give wrong, even non-deterministic, factors. Leave "
            f"window=None, and pass spectrograms of at least {fixed} frames"
        )
    if window < minimum:
        raise ValueError(
            f"window={window} is shorter than the model's receptive field: it needs at least "
            f"{minimum} frames; pass window >= {minimum}"
        )
    if window > total:
        raise ValueError(
            f"window of {window} frames is longer than the spectrograms ({total} frames): pass "
            f"window between {minimum} and {total}, or longer spectrograms"
        )
    return window


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
        Window length in frames; default (and, for a model with a fixed input length, the only
        accepted value) the model's input length.
    hop : int, optional
        Step between windows; default ``window // 2``.
    batch_size : int

    Returns
    -------
    np.ndarray, float32, (n_tracks, n_factors) (or (n_factors,) for one track)

    Raises
    ------
    TypeError
        The ``(y, sr)`` pair of ``librosa.load`` instead of spectrograms.
    ValueError
        A ragged list of spectrograms of different lengths (the message says what to do);
        spectrograms with NaN or infinite values, another number of mel bands than the model,
        or fewer frames than the model needs (:func:`~course_lib.convnet.network.min_input_frames`,
        named in the message); a window other than the model's input length (or, for a model
        with a free time axis, shorter than its receptive field); a hop or batch size below 1.
    """
    arr = as_array(
        log_mels,
        "log_mels",
        "predict one track at a time ([predict_track_factors(model, m) for m in log_mels]), or "
        "crop them to a common number of frames first; audio needs its spectrogram first: "
        "course_lib.audio.log_mel(y, sr)",
    )
    single = arr.ndim == 2
    minimum = min_input_frames(model)
    x = validate_log_mels(arr, "log_mels", n_mels=int(model.input_shape[2]), min_frames=minimum)
    total = x.shape[1]
    window = _window(model, window, total)
    hop = require_int(max(window // 2, 1) if hop is None else hop, "hop", 1)
    batch_size = require_int(batch_size, "batch_size", 1)
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
