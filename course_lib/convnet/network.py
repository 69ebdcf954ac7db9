"""The cold-start convnet's architecture: presets, layer names, time-axis lengths, the builder.

Taught in chapter 04 (section 2: the students write Dieleman's network with ``keras.layers``,
then check that :func:`build_factor_convnet` gives the same layers, shapes and parameter count;
section 2.5 builds the "paper" preset of :data:`PRESETS`); chapter 05 reads its layers by the
names of :data:`LAYER_NAMES`, chapter 07 reuses it on audio patches.

Layer names are stable, so later chapters can read activations by name:

=================  ==============================================================================
``log_mel``        input, ``(n_frames, n_mels)`` time-major log-mel (dB)
``input_norm``     per-mel-band standardisation (``Normalization``, adapted on training data)
``conv1``          Conv1D over time, kernel 4, ReLU (256 filters in "paper")
``pool1``          MaxPooling1D(4)
``conv2``          Conv1D, kernel 4, ReLU
``pool2``          MaxPooling1D(2)
``conv3``          Conv1D, kernel 4, ReLU
``pool3``          MaxPooling1D(2)
``conv4``          Conv1D, kernel 4, ReLU
``global_pool``    :class:`~course_lib.convnet.layers.GlobalTemporalPooling`: mean, max, L2 norm
``dense1``         Dense, ReLU (2048 in "paper"); then ``dropout1``
``dense2``         Dense, ReLU (2048 in "paper"); then ``dropout2``
``factors``        Dense, linear, ``n_factors`` outputs (float32 even under mixed precision)
=================  ==============================================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras

from course_lib.validation import require_choice, require_int

from .device import default_dtype_policy
from .layers import GlobalTemporalPooling

__all__ = [
    "DTYPE_POLICIES",
    "LAYER_NAMES",
    "PRESETS",
    "build_factor_convnet",
    "forward_flops",
    "min_input_frames",
    "temporal_lengths",
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

#: Keras dtype policies :func:`build_factor_convnet` accepts.
DTYPE_POLICIES: tuple[str, ...] = ("float32", "mixed_float16", "mixed_bfloat16")


def _preset(preset: str) -> dict[str, Any]:
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}: choose one of {sorted(PRESETS)}")
    return PRESETS[preset]


def temporal_lengths(n_frames: int, preset: str = "course") -> dict[str, int]:
    """Number of time steps after each conv / pooling layer ("valid" convolutions).

    A convolution of width ``k`` shortens the sequence by ``k - 1``; max-pooling of size ``p``
    divides it by ``p`` (rounding down). For the paper's 599 frames: 596, 149, 146, 73, 70, 35, 32.
    A length below 1 means the input is too short for the network (:func:`min_input_frames`).
    """
    cfg = _preset(preset)
    lengths: dict[str, int] = {}
    t = require_int(n_frames, "n_frames", 1)
    k = cfg["kernel_size"]
    for i in range(len(cfg["filters"])):
        t = t - k + 1
        lengths[f"conv{i + 1}"] = t
        if i < len(cfg["pool_sizes"]):
            t = t // cfg["pool_sizes"][i]
            lengths[f"pool{i + 1}"] = t
    return lengths


def _fewest_frames(steps: Sequence[tuple[int, int, int]]) -> int:
    """Fewest input frames for which a chain of windows ``(size, stride, dilation)`` keeps a step.

    Walks the chain backwards from one output step: a window needs ``(out - 1) * stride +
    (size - 1) * dilation + 1`` input steps (the receptive field of the chain).
    """
    n = 1
    for size, stride, dilation in reversed(steps):
        n = (n - 1) * stride + (size - 1) * dilation + 1
    return n


def _preset_steps(preset: str) -> list[tuple[int, int, int]]:
    cfg = _preset(preset)
    steps: list[tuple[int, int, int]] = []
    for i in range(len(cfg["filters"])):
        steps.append((cfg["kernel_size"], 1, 1))
        if i < len(cfg["pool_sizes"]):
            steps.append((cfg["pool_sizes"][i], cfg["pool_sizes"][i], 1))
    return steps


def _layer_steps(model: keras.Model) -> list[tuple[int, int, int]]:
    steps: list[tuple[int, int, int]] = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv1D):
            size, dilation = layer.kernel_size[0], layer.dilation_rate[0]
        elif isinstance(layer, keras.layers.MaxPooling1D | keras.layers.AveragePooling1D):
            size, dilation = layer.pool_size[0], 1
        else:
            continue
        if layer.padding != "valid":  # "same" / "causal": the length only shrinks by the stride
            size, dilation = 1, 1
        steps.append((size, layer.strides[0], dilation))
    return steps


def min_input_frames(model: keras.Model) -> int:
    """The fewest frames a window fed to ``model`` may have.

    For a model built with a fixed input length (every model of :func:`build_factor_convnet`) that
    length: such a model reads windows of exactly that many frames. For a model whose time axis
    is free (``None``), the receptive field of its ``Conv1D`` and pooling layers: the shortest
    input that leaves at least one time step for the global pooling. Shorter inputs make
    TensorFlow pool over an empty axis (NaN, zeros or an ``AbortedError``).
    """
    shape = model.input_shape
    if not isinstance(shape, tuple) or len(shape) != 3:
        raise ValueError(
            f"expected a model with one (batch, n_frames, n_mels) input, got input_shape {shape}"
        )
    if shape[1] is not None:
        return int(shape[1])
    return _fewest_frames(_layer_steps(model))


def forward_flops(model: keras.Model) -> int:
    """Floating-point operations of one forward pass of one example through ``model``.

    Counted from the layers: a ``Conv1D`` with kernel ``k``, ``c_in`` input and ``c_out`` output
    channels costs ``2 * k * c_in * c_out`` per output time step (a multiply and an add per
    weight), a ``Dense`` layer ``2 * n_in * n_out``; biases, activations, pooling and
    normalisation are ignored (under 1 % here). The "paper" preset on 599 x 128 inputs: about
    0.39 GFLOP. A training step costs about three times as much per example (the backward pass
    computes two products per weight), the usual rule for achieved TFLOP/s.

    Raises
    ------
    ValueError
        A model whose ``Conv1D`` or ``Dense`` layers have an unknown (``None``) size.
    """
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv1D | keras.layers.Dense):
            shape = layer.output.shape
            kernel = layer.kernel.shape  # (k, c_in, c_out) or (n_in, n_out)
            steps = shape[1] if isinstance(layer, keras.layers.Conv1D) else 1
            if steps is None:
                raise ValueError(
                    f"layer {layer.name!r} has an unknown output length {tuple(shape)}: build "
                    "the model with a fixed n_frames to count its operations"
                )
            per_step = 1
            for size in kernel:
                per_step *= int(size)
            total += 2 * int(steps) * per_step
    return total


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
    identity until :func:`~course_lib.convnet.training.train_factor_model` adapts it to the
    training spectrograms.

    Parameters
    ----------
    n_frames, n_mels : int
        Input size (time frames, mel bands). The convolutions need enough frames to leave at least
        one time step after ``conv4`` (103 for both presets); see :func:`temporal_lengths`.
    n_factors : int
        Outputs: the number of ALS factors to predict.
    preset : {"course", "paper"}
        Layer widths.
    dtype_policy : {"float32", "mixed_float16", "mixed_bfloat16"}, optional
        Keras dtype policy; default :func:`default_dtype_policy` (mixed precision on GPU only).
    seed : int
        Seeds weight initialisation and dropout (with the Keras backend's own random generator:
        TensorFlow, JAX and PyTorch start from different weights for the same seed).

    Returns
    -------
    keras.Model
        Uncompiled; layer names as in :data:`LAYER_NAMES`.

    Raises
    ------
    TypeError
        ``n_frames``, ``n_mels``, ``n_factors`` or ``seed`` that is not an integer (``2.0``,
        ``"128"``, ``True``).
    ValueError
        Sizes below 1, ``n_frames`` too short for the preset (the message gives the minimum), an
        unknown preset or dtype policy, a negative seed.
    """
    cfg = _preset(preset)
    n_frames = require_int(n_frames, "n_frames", 1)
    n_mels = require_int(n_mels, "n_mels", 1)
    n_factors = require_int(n_factors, "n_factors", 1)
    seed = require_int(seed, "seed", 0)
    minimum = _fewest_frames(_preset_steps(preset))
    if n_frames < minimum:
        raise ValueError(
            f"n_frames={n_frames} is too short for the {preset!r} preset: the time axis shrinks "
            f"to {temporal_lengths(n_frames, preset)}; use at least {minimum} frames"
        )
    policy = require_choice(dtype_policy or default_dtype_policy(), "dtype_policy", DTYPE_POLICIES)
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
