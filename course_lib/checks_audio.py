"""Exercise checks of chapters 03 (listening to data) and 04 (predicting factors from audio).

Built on :func:`course_lib.checks.run_check`, so the verdicts read like every other chapter's:
"Correct", "Not quite" (with what differs and a hint) or "Not implemented yet" (a stub that still
raises ``NotImplementedError``; not an error, the notebook keeps running). Re-exported by
:mod:`course_lib.checks`.

* :func:`check_mel_by_hand` (exercise 3.1): a log-mel spectrogram from the STFT and librosa's
  filterbank, compared with :func:`course_lib.audio.log_mel`;
* :func:`check_global_temporal_pooling` (exercise 4.1): a Keras layer pooling mean, max and L2
  norm over time, compared with numpy (Dieleman 2014, sec. 5.1);
* :func:`check_cosine_distance_loss` (exercise 4.2): Nieto's (2017) cosine-distance loss;
* :func:`check_time_only` (exercise 4.3): why convolve over time only, as a multiple-choice answer
  plus the shape and parameter count of the first layer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from course_lib.checks import Case, CheckResult

__all__ = [
    "TIME_ONLY_CHOICES",
    "check_cosine_distance_loss",
    "check_global_temporal_pooling",
    "check_mel_by_hand",
    "check_time_only",
    "cosine_distance_loss",
    "global_temporal_pooling",
]


# ---------------------------------------------------------------------------------------------
# Exercise 3.1: a log-mel spectrogram by hand
# ---------------------------------------------------------------------------------------------
def _test_signals() -> list[Case]:
    from course_lib.checks import Case

    sr = 16000
    t = np.arange(int(0.5 * sr)) / sr
    rng = np.random.default_rng(3)
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6)) / 3
    chirp = np.sin(2 * np.pi * (200 * t + 3000 * t**2))
    noise = 0.1 * rng.standard_normal(t.size)
    return [
        Case((chord.astype(np.float32), sr), label="an A-major chord, 0.5 s at 16 kHz"),
        Case((chirp.astype(np.float32), sr), label="a rising chirp"),
        Case((noise.astype(np.float32), sr), label="white noise"),
    ]


def _mel_slips(y: np.ndarray, sr: int) -> dict[str, np.ndarray]:
    import librosa

    spec = np.abs(librosa.stft(np.asarray(y, dtype=np.float32), n_fft=1024, hop_length=256))
    bank = librosa.filters.mel(sr=sr, n_fft=1024, n_mels=128)
    power = (bank @ spec**2).T
    return {
        "magnitudes |STFT| through the filterbank; square them first (power = |STFT| ** 2)": 10
        * np.log10((bank @ spec).T + 1e-10),
        "the natural log; decibels use 10 * log10": 10 * np.log(power + 1e-10),
        "log10 without the factor 10 (bels, not decibels)": np.log10(power + 1e-10),
        "the mel power itself; compress it with 10 * log10(power + 1e-10)": power,
        "20 * log10 of the power; for power, decibels are 10 * log10": 20 * np.log10(power + 1e-10),
    }


def _mel_property(case: Case, got: Any) -> str | None:
    from course_lib.audio import log_mel

    y, sr = case.args
    expected = log_mel(y, sr).astype(np.float64)
    try:
        got = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return f"expected an array, got a {type(got).__name__}"
    if got.shape == expected.shape[::-1]:
        return (
            f"the result has shape {got.shape} (mel bands first, librosa's layout); "
            f"the course is time-major: return shape {expected.shape} (transpose with .T)"
        )
    if got.shape != expected.shape:
        return f"the result has shape {got.shape}, but it should have shape {expected.shape}"
    if np.allclose(got, expected, atol=1e-2, rtol=1e-4):
        return None
    for slip, value in _mel_slips(y, sr).items():
        if np.allclose(got, value, atol=1e-2, rtol=1e-3):
            return f"you returned {slip}"
    diff = np.abs(got - expected)
    worst = np.unravel_index(int(np.argmax(diff)), diff.shape)
    return (
        f"largest difference {diff[worst]:.3g} dB at frame {worst[0]}, mel band {worst[1]} "
        f"(expected {expected[worst]:.2f} dB, got {got[worst]:.2f} dB)"
    )


def check_mel_by_hand(student_fn: Callable[[np.ndarray, int], np.ndarray]) -> CheckResult:
    """Check ``my_log_mel(y, sr) -> (n_frames, 128)`` (chapter 03, exercise 3.1).

    The student computes ``|STFT|^2`` (n_fft 1024, hop 256), applies ``librosa.filters.mel`` (128
    bands), converts to decibels ``10 log10(. + 1e-10)`` and returns time-major frames. Compared
    with :func:`course_lib.audio.log_mel` on a chord, a chirp and noise (tolerance 0.01 dB); the
    verdict names the usual slips: librosa's (bands, frames) layout, magnitudes instead of power,
    natural log, bels, 20 log10.
    """
    from course_lib.checks import run_check

    return run_check(
        student_fn,
        None,
        _test_signals(),
        name="my_log_mel",
        properties=[_mel_property],
        hint=(
            "S = np.abs(librosa.stft(y, n_fft=1024, hop_length=256)) ** 2; "
            "mel = librosa.filters.mel(sr=sr, n_fft=1024, n_mels=128) @ S; "
            "return (10 * np.log10(mel + 1e-10)).T"
        ),
    )


# ---------------------------------------------------------------------------------------------
# Exercise 4.1: the global temporal pooling layer
# ---------------------------------------------------------------------------------------------
def global_temporal_pooling(x: np.ndarray) -> np.ndarray:
    """Numpy reference: ``[mean_t, max_t, sqrt(sum_t x^2)]`` for input ``(batch, time, c)``."""
    x = np.asarray(x, dtype=np.float64)
    return np.concatenate([x.mean(axis=1), x.max(axis=1), np.sqrt((x**2).sum(axis=1))], axis=-1)


def _pooling_cases() -> list[Case]:
    from course_lib.checks import Case

    rng = np.random.default_rng(41)
    relu = np.maximum(rng.normal(size=(4, 32, 8)), 0).astype(np.float32)
    signed = rng.normal(size=(2, 7, 5)).astype(np.float32)
    single = rng.normal(size=(3, 1, 6)).astype(np.float32)
    return [
        Case((relu,), label="4 clips, 32 time steps, 8 ReLU channels"),
        Case((signed,), label="negative values too"),
        Case((single,), label="a single time step"),
    ]


def _pooling_compare(expected: np.ndarray, got: Any) -> str | None:
    from course_lib.checks import compare_values

    got = np.asarray(got, dtype=np.float64)
    n_channels = expected.shape[1] // 3
    if got.shape != expected.shape:
        return (
            f"the output has shape {got.shape}; for input (batch, time, {n_channels}) it should "
            f"be {expected.shape}: pool over axis 1 (time) and concatenate the three "
            "statistics on the last axis"
        )
    if np.allclose(got, expected, rtol=1e-4, atol=1e-4):
        return None
    parts = ("mean", "max", "L2 norm")
    for j, part in enumerate(parts):
        sl = slice(j * n_channels, (j + 1) * n_channels)
        if not np.allclose(got[:, sl], expected[:, sl], rtol=1e-4, atol=1e-4):
            for k, other in enumerate(parts):
                osl = slice(k * n_channels, (k + 1) * n_channels)
                if k != j and np.allclose(got[:, sl], expected[:, osl], rtol=1e-4, atol=1e-4):
                    return f"block {j + 1} holds the {other}; the order is mean, max, L2 norm"
            return f"block {j + 1} of {n_channels} features (the {part}) is wrong: " + str(
                compare_values(expected[:, sl], got[:, sl], rtol=1e-4, atol=1e-4)
            )
    return "the values differ"


def check_global_temporal_pooling(layer_class: Callable[[], Any]) -> CheckResult:
    """Check a Keras layer class pooling ``(batch, time, channels)`` over time (exercise 4.1).

    ``layer_class()`` must build the layer with no arguments; calling it on a float32 array must
    return ``(batch, 3 * channels)``: the mean, the maximum and the L2 norm over time, in that
    order (Dieleman 2014, sec. 5.1). Compared with :func:`global_temporal_pooling` (numpy).
    """
    from course_lib.checks import run_check

    def apply(x: np.ndarray) -> np.ndarray:
        layer = layer_class()
        out = layer(x)
        return np.asarray(out.numpy() if hasattr(out, "numpy") else out)

    return run_check(
        apply,
        global_temporal_pooling,
        _pooling_cases(),
        name="your pooling layer",
        compare=_pooling_compare,
        hint=(
            "in call(): ops.concatenate([ops.mean(x, axis=1), ops.max(x, axis=1), "
            "ops.sqrt(ops.sum(ops.square(x), axis=1))], axis=-1)"
        ),
    )


# ---------------------------------------------------------------------------------------------
# Exercise 4.2: the cosine-distance loss
# ---------------------------------------------------------------------------------------------
def cosine_distance_loss(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Nieto (2017): ``L = 1 - (1/M) sum_m y_m . f_m / (||y_m|| ||f_m||)`` over M rows."""
    y = np.asarray(y_true, dtype=np.float64)
    f = np.asarray(y_pred, dtype=np.float64)
    cos = np.sum(y * f, axis=1) / (np.linalg.norm(y, axis=1) * np.linalg.norm(f, axis=1))
    return float(1.0 - cos.mean())


def _cosine_cases() -> list[Case]:
    from course_lib.checks import Case

    rng = np.random.default_rng(17)
    y = rng.normal(size=(6, 40))
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    f = 3.0 * y + rng.normal(size=y.shape)
    far = rng.normal(size=(5, 4)) * np.array([1.0, 10.0, 0.1, 2.0])
    return [
        Case((y, f), label="unit-norm targets, predictions three times longer"),
        Case((y, -y * 0.5), label="predictions pointing the opposite way"),
        Case((rng.normal(size=(5, 4)), far), label="targets that are not normalised"),
    ]


def _cosine_compare(expected: float, got: Any) -> str | None:
    arr = np.asarray(got, dtype=np.float64)
    if arr.ndim == 1:
        return (
            f"you returned one value per row (shape {arr.shape}); average over the batch to "
            "get the loss, a single number"
        )
    if arr.size != 1:
        return f"expected a single number, got an array of shape {arr.shape}"
    value = float(arr.reshape(()))
    if np.isclose(value, expected, rtol=1e-6, atol=1e-9):
        return None
    if np.isclose(value, 1.0 - expected, rtol=1e-6, atol=1e-9):
        return f"you returned {value:.6g}, the cosine similarity; the distance is 1 minus it"
    return f"expected {expected:.6g}, got {value:.6g}"


def _cosine_property(case: Case, got: Any) -> str | None:
    y, f = (np.asarray(a, dtype=np.float64) for a in case.args)
    expected = cosine_distance_loss(y, f)
    problem = _cosine_compare(expected, got)
    if problem is None or not problem.startswith("expected "):
        return problem
    value = float(np.asarray(got, dtype=np.float64).reshape(()))
    yn = y / np.linalg.norm(y, axis=1, keepdims=True)
    fn = f / np.linalg.norm(f, axis=1, keepdims=True)
    slips = {
        "you did not divide by the length of the prediction ||f(X)||": 1
        - np.mean(np.sum(yn * f, axis=1)),
        "you did not divide by the length of the target ||y||": 1 - np.mean(np.sum(y * fn, axis=1)),
        "you returned the mean squared error of the normalised vectors, not 1 - cosine": float(
            np.mean((yn - fn) ** 2)
        ),
    }
    for slip, slip_value in slips.items():
        if np.isclose(value, slip_value, rtol=1e-6, atol=1e-9):
            return f"{problem}: {slip}"
    return problem


def check_cosine_distance_loss(
    student_fn: Callable[[np.ndarray, np.ndarray], float],
) -> CheckResult:
    """Check ``my_cosine_distance(y_true, y_pred) -> float`` (exercise 4.2, Nieto 2017).

    Both arguments are ``(M, n_factors)`` numpy arrays; the result is the loss averaged over the
    M rows. Compared with :func:`cosine_distance_loss`; wrong answers that forget to normalise the
    prediction (or the target), return the similarity, or return one value per row are named.
    """
    from course_lib.checks import run_check

    return run_check(
        student_fn,
        None,
        _cosine_cases(),
        name="my_cosine_distance",
        properties=[_cosine_property],
        hint="normalise both rows to unit length, take the row-wise dot product, average it over "
        "the batch, and subtract the average from 1",
    )


# ---------------------------------------------------------------------------------------------
# Exercise 4.3: why convolve over time only
# ---------------------------------------------------------------------------------------------
#: The multiple-choice options of exercise 4.3 (one letter is right).
TIME_ONLY_CHOICES: dict[str, str] = {
    "a": "Convolutions over the frequency axis are mathematically impossible on a spectrogram.",
    "b": "The axes mean different things: a sound moved in time is the same sound, but moved up "
    "in frequency it is a different pitch or timbre, so each filter spans all mel bands at "
    "once and slides along time only.",
    "c": "Convolving over time only makes the network invariant to transposition (pitch shifts).",
    "d": "Max-pooling cannot be applied after a 2-D convolution.",
}
_TIME_ONLY_WHY = {
    "a": "a 2-D convolution over (time, frequency) is perfectly possible; Dieleman says so "
    "('technically possible to convolve along both axes')",
    "c": "it is the opposite: a filter that spans all mel bands sees absolute frequency, so a "
    "transposed sound activates different weights",
    "d": "2-D max-pooling is what image convnets do all the time",
}


def check_time_only(student_fn: Callable[[], tuple[str, tuple[int, int], int]]) -> CheckResult:
    """Check exercise 4.3: ``my_answer() -> (letter, conv1_output_shape, conv1_parameters)``.

    The letter picks one of :data:`TIME_ONLY_CHOICES`; the shape is the output of ``conv1`` for
    one input of 599 frames x 128 mel bands (without the batch axis); the parameter count is that
    layer's weights and biases ("paper" preset: 256 filters of width 4, "valid" padding).
    """
    from course_lib.checks import Case, run_check

    expected = ("b", (596, 256), 4 * 128 * 256 + 256)

    def compare(_: Any, got: Any) -> str | None:
        if not isinstance(got, (tuple, list)) or len(got) != 3:
            return "return a tuple of three things: (letter, (frames, filters), parameters)"
        letter, shape, params = got
        letter = str(letter).strip().lower()[:1]
        if letter not in TIME_ONLY_CHOICES:
            return f"the first item must be one of {sorted(TIME_ONLY_CHOICES)}, got {got[0]!r}"
        if letter != expected[0]:
            return f"answer ({letter}) is not the reason: {_TIME_ONLY_WHY[letter]}"
        try:
            shape_t = tuple(int(s) for s in shape)
        except (TypeError, ValueError):
            return f"the shape must be a tuple of two integers, got {shape!r}"
        if shape_t != expected[1]:
            if shape_t == (599, 256):
                return (
                    "conv1 uses 'valid' padding: a width-4 filter fits 599 - 4 + 1 positions, "
                    "not 599"
                )
            if shape_t == (149, 256):
                return "that is after pool1; the question asks for conv1's output"
            return (
                f"conv1's output shape is not {shape_t}: count the positions a width-4 filter fits"
            )
        if int(params) != expected[2]:
            if int(params) == 4 * 128 * 256:
                return "almost: each of the 256 filters also has a bias"
            if int(params) == 4 * 4 * 256 + 256:
                return (
                    "that counts a 4 x 4 image filter; a time-only filter spans all 128 mel "
                    "bands: 4 x 128 weights per filter"
                )
            return (
                f"{int(params)} parameters is not right: weights (width x bands x filters) + biases"
            )
        return None

    return run_check(
        student_fn,
        lambda: expected,
        [Case(label="exercise 4.3")],
        name="my_answer",
        compare=compare,
        hint="read section 5.1 of Dieleman's post; for the shape, a 'valid' "
        "convolution of width k shortens the time axis by k - 1",
    )
