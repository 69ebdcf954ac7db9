"""Exercise checks of chapter 04 (predicting factors from audio), reached through
:mod:`course_lib.checks`.

Built on :func:`course_lib.checking.run_check`, so the verdicts read like every other chapter's:
"Correct", "Not quite" (with what differs and a hint) or "Not implemented yet" (a stub that still
raises ``NotImplementedError``; not an error, the notebook keeps running).

* :func:`check_global_temporal_pooling` (exercise 4.1): a Keras layer pooling mean, max and L2
  norm over time, compared with the course's layer
  :class:`~course_lib.convnet.layers.GlobalTemporalPooling` (Dieleman 2014, sec. 5.1);
* :func:`check_cosine_distance_loss` (exercise 4.2): Nieto's (2017) cosine-distance loss, in numpy;
* :func:`check_time_only` (exercise 4.3): why convolve over time only, as a multiple-choice answer,
  plus the output shape and parameter count of the image-style alternative (a ``Conv2D``);
* :func:`check_dropout` (exercise 4.4): inverted dropout, as Keras applies it in training;
* :func:`check_gaussian_nll` (exercise 4.5): the Gaussian negative log-likelihood with predicted
  variances, which Dieleman tried and dropped (2014, sec. 5.3).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from course_lib.checking import Case, CheckResult, Comparison, compare_values, run_check
from course_lib.vectors import unit_rows

from .layers import GlobalTemporalPooling
from .losses import cosine_distance

__all__ = [
    "TIME_ONLY_CHOICES",
    "check_cosine_distance_loss",
    "check_dropout",
    "check_gaussian_nll",
    "check_global_temporal_pooling",
    "check_time_only",
]  # the references cosine_distance_loss and global_temporal_pooling stay out of the facade


# --------------------------------------------------------------------------------------------
# Exercise 4.1: the global temporal pooling layer
# --------------------------------------------------------------------------------------------
def global_temporal_pooling(x: np.ndarray) -> np.ndarray:
    """Reference of exercise 4.1: ``[mean_t, max_t, sqrt(sum_t x^2)]`` for ``(batch, time, c)``.

    The course's layer :class:`~course_lib.convnet.layers.GlobalTemporalPooling` with
    ``epsilon=0`` (the exercise's layer has no epsilon), as a float64 numpy array.
    """
    from keras import ops

    out = GlobalTemporalPooling(epsilon=0.0)(np.asarray(x, dtype=np.float32))
    return ops.convert_to_numpy(out).astype(np.float64)


def _pooling_cases() -> list[Case]:
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


def _pooling_slips(x: np.ndarray) -> dict[str, np.ndarray]:
    """The blocks the usual slips give, keyed by the verdict that names them."""
    x = np.asarray(x, dtype=np.float64)
    return {
        "the third block is the root mean square; the L2 norm is the square root of the sum "
        "of squares over time, not of their mean": np.sqrt((x**2).mean(axis=1)),
        "the third block is the sum of squares; the L2 norm takes its square root": (x**2).sum(
            axis=1
        ),
        "the third block is the sum of the absolute values (the L1 norm); the L2 norm is the "
        "square root of the sum of squares": np.abs(x).sum(axis=1),
        "the first block is the sum over time; it should be the mean": x.sum(axis=1),
        "the second block is the largest absolute value; it should be the maximum": np.abs(x).max(
            axis=1
        ),
    }


def _pooling_compare_with_slips(x: np.ndarray) -> Comparison:
    def compare(expected: np.ndarray, got: Any) -> str | None:
        problem = _pooling_compare(expected, got)
        if problem is None or not problem.startswith("block"):
            return problem
        got = np.asarray(got, dtype=np.float64)
        n_channels = expected.shape[1] // 3
        for slip, block in _pooling_slips(x).items():
            for j in range(3):
                sl = slice(j * n_channels, (j + 1) * n_channels)
                if np.allclose(got[:, sl], block, rtol=1e-4, atol=1e-4):
                    return slip
        return problem

    return compare


def check_global_temporal_pooling(layer_class: Callable[[], Any]) -> CheckResult:
    """Check a Keras layer class pooling ``(batch, time, channels)`` over time (exercise 4.1).

    ``layer_class()`` must build the layer with no arguments; calling it on a float32 array must
    return ``(batch, 3 * channels)``: the mean, the maximum and the L2 norm over time, in that
    order (Dieleman 2014, sec. 5.1). Compared with :func:`global_temporal_pooling` (numpy).
    """

    def apply(x: np.ndarray) -> np.ndarray:
        layer = layer_class()
        out = layer(x)
        from keras import ops

        return np.asarray(ops.convert_to_numpy(out))  # any backend's tensor

    def compare(case: Case, got: Any) -> str | None:
        expected = global_temporal_pooling(*case.args)
        return _pooling_compare_with_slips(case.args[0])(expected, got)

    return run_check(
        apply,
        None,
        _pooling_cases(),
        name="your pooling layer",
        properties=[compare],
        forbidden=[global_temporal_pooling, GlobalTemporalPooling],
        hint=(
            "which axis is time, and which one must survive the pooling? Reread the three "
            "formulas of section 2.3, and the order in which their results are joined."
        ),
    )


# --------------------------------------------------------------------------------------------
# Exercise 4.2: the cosine-distance loss
# --------------------------------------------------------------------------------------------
def cosine_distance_loss(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Nieto (2017): ``L = 1 - (1/M) sum_m y_m . f_m / (||y_m|| ||f_m||)`` over M rows.

    The reference of exercise 4.2, in float64 numpy and averaged over the batch, as the exercise
    asks. The Keras loss the chapter trains with,
    :func:`~course_lib.convnet.losses.cosine_distance`, computes the same per row in float32:
    too coarse for this check's tolerance (1e-6).
    """
    y = unit_rows(y_true, dtype=np.float64)
    f = unit_rows(y_pred, dtype=np.float64)
    return float(1.0 - np.sum(y * f, axis=1).mean())


def _cosine_cases() -> list[Case]:
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
    yn, fn = unit_rows(y, dtype=np.float64), unit_rows(f, dtype=np.float64)
    slips = {
        "you did not divide by the length of the prediction ||f(X)||": 1
        - np.mean(np.sum(yn * f, axis=1)),
        "you did not divide by the length of the target ||y||": 1 - np.mean(np.sum(y * fn, axis=1)),
        "you returned the mean squared error of the normalised vectors, not 1 - cosine": float(
            np.mean((yn - fn) ** 2)
        ),
        "you summed the distances over the rows; the loss is their mean": float(
            np.sum(1.0 - np.sum(yn * fn, axis=1))
        ),
        "you normalised the columns (each factor over the batch), not the rows (each "
        "vector): the norm runs over the factors of one row": 1
        - float(
            np.mean(
                np.sum(
                    y
                    / np.linalg.norm(y, axis=0, keepdims=True)
                    * (f / np.linalg.norm(f, axis=0, keepdims=True)),
                    axis=1,
                )
            )
        ),
        "you divided by the squared lengths; the cosine divides by the lengths themselves": 1
        - float(np.mean(np.sum(y * f, axis=1) / (np.sum(y * y, axis=1) * np.sum(f * f, axis=1)))),
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
    return run_check(
        student_fn,
        None,
        _cosine_cases(),
        name="my_cosine_distance",
        properties=[_cosine_property],
        forbidden=[cosine_distance_loss, cosine_distance],
        hint=(
            "reread Nieto's loss in section 5: what is divided by what, over which axis is a "
            "vector's length taken, and how do the rows become one number?"
        ),
    )


# --------------------------------------------------------------------------------------------
# Exercise 4.3: why convolve over time only
# --------------------------------------------------------------------------------------------
#: The multiple-choice options of exercise 4.3 (one letter is right).
TIME_ONLY_CHOICES: dict[str, str] = {
    "a": "A convolution along the frequency axis cannot be computed on a spectrogram: only "
    "time is an axis a filter can slide along.",
    "b": "A pattern moved in time is the same sound a moment later, but moved in frequency "
    "it is another pitch or timbre: each filter spans all bands and slides along time.",
    "c": "Sliding along time only makes the network invariant to transposition, so a song "
    "played in another key gets the same predicted factors.",
    "d": "Max-pooling and global temporal pooling need a one-dimensional feature map, so the "
    "output of a 2-D convolution could not be pooled.",
}

#: Exercise 4.3's image-style alternative: ``Conv2D(256, (4, 4))`` on the paper's input seen as
#: a one-channel image of 599 frames x 128 bands ("valid" padding).
_CONV2D_SHAPE = (599 - 4 + 1, 128 - 4 + 1, 256)
_CONV2D_PARAMS = (4 * 4 * 1 + 1) * 256
_CONV1D_PARAMS = (4 * 128 + 1) * 256  # the time-only conv1 of the paper preset


def _time_only_letter(got: Any) -> str | None:
    letter = str(got).strip().lower()[:1]
    if letter not in TIME_ONLY_CHOICES:
        return f"the first item must be one of {sorted(TIME_ONLY_CHOICES)}, got {got!r}"
    if letter != "b":  # one neutral message for every wrong letter: no elimination
        return (
            "that letter is not the reason; think about what moving a pattern along each "
            "axis of a spectrogram does to the sound you hear"
        )
    return None


def _conv2d_shape(shape: Any) -> str | None:
    try:
        shape_t = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        return f"the shape must be a tuple of integers, got {shape!r}"
    if shape_t == _CONV2D_SHAPE:
        return None
    if len(shape_t) != 3:
        return (
            f"a Conv2D output has three axes (frames, bands, filters); {shape_t} has "
            f"{len(shape_t)}: a 2-D filter slides along the mel bands too"
        )
    if shape_t[:2] == (599, 128):
        return "'valid' padding: a filter fits only where it lies wholly inside the input"
    if shape_t == (_CONV2D_SHAPE[1], _CONV2D_SHAPE[0], _CONV2D_SHAPE[2]):
        return "the axes are swapped: frames come first, then bands, then filters"
    if shape_t[:2] == (599 - 4, 128 - 4):
        return "one position short on each axis: a filter of width k fits n - k + 1 times"
    if shape_t[:2] == (_CONV2D_SHAPE[0], 1):
        return (
            "that is a time-only convolution, whose filters span every band; the Conv2D "
            "filter is 4 bands tall, so it also slides along the bands"
        )
    return f"{shape_t} is not the output shape: count the positions a 4 x 4 filter fits"


def _conv2d_params(params: Any) -> str | None:
    try:
        count = int(params)
    except (TypeError, ValueError):
        return f"the parameter count must be an integer, got {params!r}"
    if count == _CONV2D_PARAMS:
        return None
    if count == _CONV1D_PARAMS:
        return "that is the time-only conv1 of section 2; count the weights of a 4 x 4 filter"
    if count == _CONV2D_PARAMS - 256:
        return "almost: each of the 256 filters also has a bias"
    if count == (4 * 4 * 128 + 1) * 256:
        return (
            "that counts the 128 mel bands as input channels; in the image view the input "
            "has a single channel and the bands are an axis the filter slides along"
        )
    if count == 4 * 4 + 1:
        return "that is one filter; the layer has 256 of them"
    return (
        f"{count} parameters is not right: count the weights of one filter and its bias, "
        "then multiply by the number of filters"
    )


def check_time_only(
    student_fn: Callable[[], tuple[str, tuple[int, int, int], int]],
) -> CheckResult:
    """Check exercise 4.3: ``my_answer() -> (letter, conv2d_output_shape, conv2d_parameters)``.

    The letter picks one of :data:`TIME_ONLY_CHOICES` (Dieleman 2014, sec. 5.1: why the
    convolutions run over time only); a wrong letter gets the same neutral message whichever it
    is. The shape and parameter count are those of the image-style alternative, a ``Conv2D``
    with 256 filters of 4 frames x 4 bands and "valid" padding on the paper's input seen as a
    one-channel image of 599 x 128: ``(596, 125, 256)`` and 4 352.
    """
    expected = ("b", _CONV2D_SHAPE, _CONV2D_PARAMS)

    def compare(_: Any, got: Any) -> str | None:
        if not isinstance(got, (tuple, list)) or len(got) != 3:
            return "return a tuple of three things: (letter, (frames, bands, filters), parameters)"
        letter, shape, params = got
        return _time_only_letter(letter) or _conv2d_shape(shape) or _conv2d_params(params)

    return run_check(
        student_fn,
        lambda: expected,
        [Case(label="exercise 4.3")],
        name="my_answer",
        compare=compare,
        hint="for the letter, reread section 2 and Dieleman's section 5.1; for the shape, a "
        "'valid' convolution of width k shortens an axis by k - 1",
    )


# --------------------------------------------------------------------------------------------
# Exercises 4.4 (inverted dropout) and 4.5 (predicted variances), each slip named
# --------------------------------------------------------------------------------------------
def inverted_dropout(x: np.ndarray, keep: np.ndarray, rate: float) -> np.ndarray:
    """Reference of exercise 4.4: Keras' dropout during training, ``x * keep / (1 - rate)``."""
    return np.where(keep, np.asarray(x, dtype=np.float64) / (1 - rate), 0.0)


def _dropout_cases() -> list[Case]:
    rng = np.random.default_rng(44)
    x = rng.normal(size=(4, 16))
    return [Case((x, rng.random((4, 16)) >= r, r), label=f"rate {r}") for r in (0.3, 0.5, 0.1)] + [
        Case((np.abs(x[:2]), np.ones((2, 16), dtype=bool), 0.2), label="every unit kept")
    ]


def _dropout_property(case: Case, got: Any) -> str | None:
    x, keep, rate = case.args
    want = inverted_dropout(x, keep, rate)
    problem = compare_values(want, got, rtol=1e-6, atol=1e-9)
    if problem is None:
        return None
    slips = {
        "the kept units unscaled: then the layer's output is smaller in training than at "
        "inference, where nothing is dropped": np.where(keep, x, 0.0),
        "the kept units multiplied by 1 - rate instead of divided": np.where(
            keep, x * (1 - rate), 0.0
        ),
        "the mask the wrong way round: keep marks the units that stay": np.where(
            keep, 0.0, x / (1 - rate)
        ),
        "the kept units divided by the rate, not by the share kept": np.where(keep, x / rate, 0.0),
    }
    for slip, value in slips.items():
        if compare_values(value, got, rtol=1e-6, atol=1e-9) is None:
            return f"you returned {slip}"
    return problem


def check_dropout(student_fn: Callable[[np.ndarray, np.ndarray, float], Any]) -> CheckResult:
    """Check ``my_dropout(x, keep, rate) -> array`` (exercise 4.4): inverted dropout with a
    given mask; names an unscaled output, a product with ``1 - rate``, an inverted mask and a
    division by the rate."""
    return run_check(
        student_fn,
        None,
        _dropout_cases(),
        name="my_dropout",
        properties=[_dropout_property],
        forbidden=[inverted_dropout],
        hint="a dropped unit gives zero; scale the units that stay so that, over the random "
        "masks, each unit's expected output equals its input.",
    )


def gaussian_nll(y_true: np.ndarray, mean: np.ndarray, log_var: np.ndarray) -> float:
    """Reference of exercise 4.5: ``mean of (log_var + (y - mean)^2 / exp(log_var)) / 2``."""
    y_true, mean, log_var = (np.asarray(a, dtype=np.float64) for a in (y_true, mean, log_var))
    return float(np.mean(0.5 * (log_var + (y_true - mean) ** 2 * np.exp(-log_var))))


def _nll_property(case: Case, got: Any) -> str | None:
    y_true, mean, log_var = case.args
    err2, right = (y_true - mean) ** 2, gaussian_nll(y_true, mean, log_var)
    try:
        value = float(np.asarray(got, dtype=np.float64).item())
    except (TypeError, ValueError):
        return f"expected one number, got a {type(got).__name__}"
    with np.errstate(all="ignore"):
        slips = {
            "None": right,
            "which reads log_var as the variance itself": np.mean(
                0.5 * (np.log(log_var) + err2 / log_var)
            ),
            "without the factor 1/2": 2 * right,
            "without the log-variance term, which keeps the variances from growing without "
            "bound": np.mean(0.5 * err2 * np.exp(-log_var)),
            "which multiplies the squared error by the variance instead of dividing": np.mean(
                0.5 * (log_var + err2 * np.exp(log_var))
            ),
            "the sum over the factors, not the mean": right * y_true.shape[-1],
        }
    for slip, slip_value in slips.items():
        if np.isclose(value, slip_value, rtol=1e-6, atol=1e-9, equal_nan=True):
            return None if slip == "None" else f"you returned {value:.6g}, {slip}"
    return f"expected {right:.6g}, got {value:.6g}"


def _nll_cases() -> list[Case]:
    rng = np.random.default_rng(45)
    y, mu = rng.normal(size=(2, 6, 4))
    return [
        Case((y, mu, np.zeros((6, 4))), label="unit variances"),
        Case((y, mu, rng.normal(size=(6, 4))), label="variances of all sizes"),
        Case((y, y + 0.01, np.full((6, 4), -3.0)), label="good means, small variances"),
        Case((y[:3, :2], mu[:3, :2], np.full((3, 2), 2.0)), label="3 tracks, 2 factors"),
    ]


def check_gaussian_nll(
    student_fn: Callable[[np.ndarray, np.ndarray, np.ndarray], float],
) -> CheckResult:
    """Check ``my_gaussian_nll(y_true, mean, log_var) -> float`` (exercise 4.5); names the
    usual slips (log_var read as a variance, the 1/2, the log term, the sum over factors)."""
    return run_check(
        student_fn,
        None,
        _nll_cases(),
        name="my_gaussian_nll",
        properties=[_nll_property],
        forbidden=[gaussian_nll],
        hint="write the formula of the exercise term by term: the network outputs the "
        "logarithm of each variance, and the result is one number, the mean over tracks "
        "and factors.",
    )
