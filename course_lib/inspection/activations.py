"""Reading a trained convnet's layers: activations, their time steps, one score per track.

Taught in chapter 05 (what the network learned), section 1 ("The trained network and its
layers"); :func:`track_scores` in section 4. Dieleman (2014, sec. 6.1) "computed the feature
representations" of every test track at every layer, then looked for the tracks that activate each
filter most.

* :func:`layer_activations` runs a sub-model from the input to any named layer(s).
* :func:`layer_frame_centres` maps each time step of a convolutional layer back to spectrogram
  frames, hence to audio samples (``sample = frame * hop_length``).
* :func:`track_scores` reduces a layer's output over time: the peak or the mean;
  :func:`top_steps_scores` the mean of the strongest few steps, between the two (exercise 5.1).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from course_lib.inspection._arguments import require_k, validate_activations
from course_lib.validation import require_choice, require_int, validate_log_mels

if TYPE_CHECKING:
    import keras

__all__ = [
    "crop_offset",
    "layer_activations",
    "layer_frame_centres",
    "layer_names",
    "top_steps_scores",
    "track_scores",
]

_MODES = ("max", "mean")  # how track_scores reduces activations over time
_TIME_LAYERS = ("Conv1D", "MaxPooling1D", "AveragePooling1D")


def layer_names(model: keras.Model) -> list[str]:
    """Names of the model's layers, input first (for the convnet: ``convnet.LAYER_NAMES``)."""
    return [layer.name for layer in model.layers]


def _get_layer(model: keras.Model, name: Any) -> Any:
    if not isinstance(name, str):
        raise TypeError(f"layer_name must be a string such as 'conv1', got {type(name).__name__}")
    names = layer_names(model)
    if name not in names:
        raise ValueError(
            f"the model has no layer {name!r}; valid layer names: {', '.join(names)}. "
            "Pick one of them (layer_names(model) lists them)"
        )
    return model.get_layer(name)


def _input_frames(model: keras.Model) -> int | None:
    shape = model.input_shape
    if isinstance(shape, list):
        raise ValueError("layer_activations expects a model with one input (a log-mel spectrogram)")
    return None if shape[1] is None else int(shape[1])


def _time_steps(
    model: keras.Model, n_frames: int
) -> Iterator[tuple[Any, float, float, float, int]]:
    """Walk the layers: ``(layer, start, jump, size, length)`` after each one.

    Receptive-field arithmetic: a layer with kernel ``k``, stride ``s`` and dilation ``d`` turns
    (start, jump, size) into (start - pad * jump, jump * s, size + (k - 1) * d * jump), and
    shortens the time axis from ``length`` steps to the layer's output length.
    """
    start, jump, size, length = 0.0, 1.0, 1.0, int(n_frames)
    for layer in model.layers:
        kind = type(layer).__name__
        if kind in _TIME_LAYERS:
            if kind == "Conv1D":
                k, s, d = layer.kernel_size[0], layer.strides[0], layer.dilation_rate[0]
            else:
                k, s, d = layer.pool_size[0], layer.strides[0], 1
            span = (k - 1) * d + 1
            pad = {"valid": 0, "same": (span - 1) // 2, "causal": span - 1}[layer.padding]
            start -= pad * jump
            size += (span - 1) * jump
            length = {
                "valid": (length - span) // s + 1,
                "same": -(-length // s),
                "causal": (length - 1) // s + 1,
            }[layer.padding]
            jump *= s
        yield layer, start, jump, size, length


def _require_frames(model: keras.Model, names: Sequence[str], n_frames: int) -> None:
    """Refuse spectrograms too short for the deepest of ``names`` (crop=False)."""
    last = max(layer_names(model).index(name) for name in names)
    for i, (layer, _, _, size, length) in enumerate(_time_steps(model, n_frames)):
        if length < 1:
            raise ValueError(
                f"log_mels has {n_frames} frames, fewer than the {int(size)} frames that layer "
                f"{layer.name!r} needs (its receptive field); pass longer clips or read an "
                "earlier layer"
            )
        if i == last:
            return


def crop_offset(model: keras.Model, total_frames: int) -> int:
    """First frame of the centre crop that :func:`layer_activations` feeds to ``model``.

    The course model reads ``n`` frames (599, as in Dieleman 2014); a longer spectrogram of
    ``total_frames`` frames is centre-cropped, as in chapter 04's evaluation
    (:func:`course_lib.convnet.center_crop`): the crop starts at ``(total_frames - n) // 2``.

    Raises
    ------
    TypeError
        ``total_frames`` is not an integer.
    ValueError
        ``total_frames`` is smaller than the model's input length.
    """
    total_frames = require_int(total_frames, "total_frames", 1)
    n = _input_frames(model)
    if n is None:
        return 0
    if total_frames < n:
        raise ValueError(
            f"the model reads {n} frames but the spectrograms have only {total_frames}; "
            "pass longer clips (or build the model for shorter inputs)"
        )
    return (total_frames - n) // 2


def layer_activations(
    model: keras.Model,
    layer_name: str | Sequence[str],
    log_mels: np.ndarray,
    *,
    crop: bool = True,
    batch_size: int = 64,
) -> np.ndarray | dict[str, np.ndarray]:
    """Outputs of one (or several) named layers for a batch of spectrograms.

    Builds a Keras sub-model from the model's input to the layer(s) and runs it in inference mode
    (dropout off). This is how Dieleman (2014, sec. 6.1) "computed the feature representations"
    of every test track before searching for maximal activations. Spectrograms longer than the
    model's input are centre-cropped (see :func:`crop_offset`), unless ``crop=False``.

    Parameters
    ----------
    model : keras.Model
        A functional model, e.g. from :func:`course_lib.convnet.load_or_train_course_model`.
    layer_name : str or sequence of str
        ``"conv1"`` ... ``"conv4"``, ``"global_pool"``, ``"dense1"``, ``"dense2"``, ``"factors"``,
        ... (any name in :func:`layer_names`). Several names share one forward pass.
    log_mels : array (n_tracks, n_frames, n_mels) or (n_frames, n_mels)
        Time-major log-mel spectrograms (``world.log_mel(...)``).
    crop : bool
        ``False`` runs the same layers (same weights) on the whole spectrogram, whatever its
        length: convolutions and poolings do not care how long their input is. Use it for
        convolutional layers, to see every second of a clip; for layers after the global pooling
        it changes what the network was trained on (statistics over a longer stretch).
        Needs a chain of single-input layers, like the course model.
    batch_size : int
        Tracks per forward pass.

    Returns
    -------
    np.ndarray or dict of np.ndarray
        float32, ``(n_tracks, time_steps, filters)`` for a convolutional or pooling layer,
        ``(n_tracks, units)`` for a dense layer; a dict keyed by layer name when several names are
        given.

    Raises
    ------
    TypeError
        A layer name that is not a string, spectrograms that are not numbers, a ``batch_size``
        that is not an integer.
    ValueError
        Unknown layer name (the message lists the valid ones); spectrograms of the wrong shape,
        with another number of mel bands, shorter than the model's input (or, with
        ``crop=False``, than the layer's receptive field), or holding NaN / infinite values;
        a model whose weights turn finite input into NaN activations (training diverged).
    """
    import keras

    names = [layer_name] if isinstance(layer_name, str) else list(layer_name)
    if not names:
        raise ValueError("give at least one layer name, e.g. layer_activations(model, 'conv1', x)")
    layers = [_get_layer(model, n) for n in names]
    n = _input_frames(model)
    x = validate_log_mels(
        log_mels, "log_mels", n_mels=model.input_shape[-1], min_frames=n if crop and n else 1
    )
    batch_size = require_int(batch_size, "batch_size", 1)
    if n is None or not crop:
        _require_frames(model, names, x.shape[1])
    if not crop:
        sub = _variable_length_model(model, names)
    else:
        if n is not None:
            start = crop_offset(model, x.shape[1])
            x = x[:, start : start + n]
        sub = keras.Model(model.inputs, [layer.output for layer in layers])
    out = sub.predict(x, batch_size=batch_size, verbose=0)
    if len(names) == 1:
        out = [out[0]] if isinstance(out, list) else [out]
    arrays = {name: np.asarray(a, dtype=np.float32) for name, a in zip(names, out)}
    for name, a in arrays.items():
        if not np.isfinite(a.sum(dtype=np.float64)):  # any NaN or inf makes the sum non-finite
            bad = np.flatnonzero(~np.isfinite(a.reshape(len(a), -1)).all(axis=1))
            raise ValueError(
                f"layer {name!r} produced NaN or infinite activations (tracks {bad[:5].tolist()}) "
                "from finite spectrograms: the model's weights are broken (training diverged); "
                "retrain it, e.g. with a lower learning rate, or load it again"
            )
    return arrays[names[0]] if isinstance(layer_name, str) else arrays


def _variable_length_model(model: keras.Model, names: list[str]) -> keras.Model:
    """The model's layers, up to the last of ``names``, re-applied to an input of any length."""
    import keras

    previous = model.layers[0]
    for layer in model.layers[1:]:
        if layer.input is not previous.output:
            raise ValueError(
                "crop=False needs a model whose layers form one chain (each layer reads the "
                "previous one); use crop=True"
            )
        previous = layer
    inputs = keras.Input(shape=(None, model.input_shape[-1]), name="log_mel_any_length")
    x, outputs = inputs, {}
    for layer in model.layers[1:]:
        x = layer(x)
        if layer.name in names:
            outputs[layer.name] = x
        if len(outputs) == len(set(names)):
            break
    return keras.Model(inputs, [outputs[n] for n in names])


def layer_frame_centres(
    model: keras.Model, layer_name: str, total_frames: int | None = None, *, crop: bool = True
) -> np.ndarray:
    """Centre (in input frames) of the receptive field of each time step of a layer.

    Receptive-field arithmetic through the convolutions and poolings below ``layer_name``: a
    layer with kernel ``k``, stride ``s`` and dilation ``d`` turns (start, jump, size) into
    (start - pad * jump, jump * s, size + (k - 1) * d * jump). For the course model, ``conv1``
    step ``t`` sees frames ``t .. t + 3``, centre ``t + 1.5``; ``conv2`` steps are 4 frames apart.
    With ``total_frames`` the centres are shifted by the centre crop (:func:`crop_offset`), so
    they index the full spectrogram; ``sample = frame * hop_length`` then points into the audio.
    With ``crop=False`` (as in :func:`layer_activations`) the layer reads all ``total_frames``.

    Returns
    -------
    np.ndarray float64, one centre per time step of the layer's output.

    Raises
    ------
    ValueError
        Unknown layer name (the message lists the valid ones), a layer without a time axis
        (dense), no ``total_frames`` where the layer reads the whole spectrogram, or too few
        frames for the layer.
    """
    target = _get_layer(model, layer_name)
    if total_frames is not None:
        total_frames = require_int(total_frames, "total_frames", 1)
    n = _input_frames(model)
    if n is None or not crop:
        if total_frames is None:
            raise ValueError("pass total_frames: the layer reads the whole spectrogram")
        n = total_frames
    if len(target.output.shape) != 3:
        raise ValueError(
            f"layer {layer_name!r} has no time axis (output shape {tuple(target.output.shape)}); "
            "choose a convolutional or pooling layer such as 'conv1'"
        )
    _require_frames(model, [layer_name], n)
    start, jump, size, length = next(
        (start, jump, size, length)
        for layer, start, jump, size, length in _time_steps(model, n)
        if layer is target
    )
    offset = 0 if total_frames is None or not crop else crop_offset(model, total_frames)
    return offset + start + jump * np.arange(length) + (size - 1) / 2


def track_scores(activations: np.ndarray, mode: str = "max") -> np.ndarray:
    """One number per track and filter: the maximum or the mean of the activation over time.

    ``mode="max"``: the strongest moment (Dieleman 2014, sec. 6.1); ``mode="mean"``: the average
    activation, high only for a sustained response (sec. 6.2). Dense activations
    ``(n_tracks, units)`` are returned unchanged (they have no time axis).

    Raises
    ------
    ValueError
        An unknown ``mode``; activations that are not 2-D or 3-D, empty, or hold NaN / inf.
    """
    require_choice(mode, "mode", _MODES)
    a = validate_activations(activations)
    if a.ndim == 2:
        return a.astype(np.float64)
    return (a.max(axis=1) if mode == "max" else a.mean(axis=1)).astype(np.float64)


def top_steps_scores(activations: np.ndarray, n_steps: int) -> np.ndarray:
    """One number per track and filter: the mean of the ``n_steps`` strongest time steps.

    A reduction between the two of Dieleman (2014): ``n_steps=1`` is the maximum over time
    (sec. 6.1, one strong moment suffices), ``n_steps=time`` the mean (sec. 6.2, the filter must
    be active throughout); in between, a filter must be strong for ``n_steps`` time steps,
    wherever they fall in the clip (the average of k-max pooling). Exercise 5.1 of chapter 05
    builds its filter playlist (:func:`~course_lib.inspection.top_steps_playlist`).

    Parameters
    ----------
    activations : array (n_tracks, time, filters)
        A convolutional or pooling layer's output (:func:`layer_activations`).
    n_steps : int
        How many of each track's strongest time steps to average, ``1 <= n_steps <= time``.

    Returns
    -------
    np.ndarray float64 (n_tracks, filters)

    Raises
    ------
    TypeError
        An ``n_steps`` that is not an integer; activations that are not numbers.
    ValueError
        Activations without a time axis (a dense layer), empty or with NaN / inf; ``n_steps``
        below 1 or longer than the time axis.
    """
    a = validate_activations(activations)
    if a.ndim != 3:
        raise ValueError(
            "top_steps_scores needs activations with a time axis, (n_tracks, time, filters); "
            f"got shape {a.shape} (a dense layer has no time steps: use its activations as "
            "they are)"
        )
    n_steps = require_k(n_steps, a.shape[1], "n_steps", "time steps")
    strongest = np.partition(a, a.shape[1] - n_steps, axis=1)[:, a.shape[1] - n_steps :]
    return strongest.mean(axis=1).astype(np.float64)
