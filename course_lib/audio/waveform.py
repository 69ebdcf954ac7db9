"""Waveforms in: the checks every audio entry point runs first, and a loader for your own files.

Taught in chapter 03 (listening to data), whose section 6 shows the errors these checks raise.
The course's front end takes MONO floating-point audio at a known sample rate, and never guesses
what a 2-D array means:

* one clip is a 1-D array ``(n_samples,)``;
* several clips of equal length are a 2-D array ``(n_clips, n_samples)``, and only when the
  caller says so (``batch=True``);
* any other 2-D array is refused, because a stereo recording looks exactly like a batch: librosa
  returns ``(channels, n_samples)`` (mix it with ``librosa.to_mono(y)`` or ``y.mean(axis=0)``),
  soundfile returns ``(n_samples, channels)`` (``y.mean(axis=1)``, or ``y.T`` for librosa);
* a list of clips of different lengths, or the ``(y, sr)`` pair of ``librosa.load``, is refused
  with what to do instead (numpy's own message, "inhomogeneous shape", says neither);
* samples far above full scale (a forgotten ``/ 32768``) draw a warning that names the cause.

:func:`course_lib.audio.load_audio` (:mod:`~course_lib.audio.files`) reads a recording of your
own as that mono, resampled waveform.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "FULL_SCALE_LIMIT",
    "as_samples",
    "require_sample_rate",
    "validate_samples",
    "validate_waveform",
    "warn_if_out_of_scale",
]

#: Float audio lives in [-1, 1]; a peak above this many times full scale draws a warning.
FULL_SCALE_LIMIT = 2.0
_PACKAGE = str(Path(__file__).resolve().parents[1])

_STEREO_FIXES = (
    "a stereo recording from librosa.load(..., mono=False) is (channels, n_samples): mix it "
    "with librosa.to_mono(y) or y.mean(axis=0); one from soundfile.read is (n_samples, "
    "channels): mix it with y.mean(axis=1) (y.T gives librosa's layout)"
)


def require_sample_rate(sr: Any, name: str = "sr") -> int:
    """``sr`` as a positive ``int`` number of Hz (``16000.0`` is accepted, ``16000.5`` is not).

    Raises
    ------
    TypeError
        A string, a bool, a fractional or non-finite number.
    ValueError
        Zero or a negative rate.
    """
    is_number = isinstance(sr, int | np.integer | float | np.floating) and not isinstance(sr, bool)
    if not is_number or not np.isfinite(sr) or float(sr) != round(float(sr)):
        raise TypeError(
            f"the sample rate {name} must be a whole number of Hz, got {sr!r}; "
            f"pass e.g. {name}=16000"
        )
    if sr <= 0:
        raise ValueError(f"the sample rate {name} must be positive, got {sr} Hz")
    return int(sr)


def _user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first caller outside course_lib."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


def _is_rate(value: Any) -> bool:
    return isinstance(value, int | np.integer | float | np.floating) and not isinstance(value, bool)


def as_samples(y: Any, name: str = "y") -> np.ndarray:
    """``np.asarray(y)``, with a clear message for the two inputs numpy cannot stack.

    Raises
    ------
    TypeError
        The ``(y, sr)`` pair that ``librosa.load`` returns, passed whole as the waveform.
    ValueError
        A list of clips of different lengths (numpy's "inhomogeneous shape").
    """
    if isinstance(y, tuple) and len(y) == 2 and _is_rate(y[1]) and np.ndim(y[0]) >= 1:
        raise TypeError(
            f"{name} is a pair (samples, {y[1]!r}), the (y, sr) that librosa.load returns, "
            "not a waveform: unpack it first, y, sr = librosa.load(path), then pass y (and sr)"
        )
    try:
        return np.asarray(y)
    except ValueError as error:
        if not isinstance(y, list | tuple):
            raise
        lengths = [int(np.size(clip)) for clip in y[:5]]
        shown = ", ".join(map(str, lengths)) + (", ..." if len(y) > 5 else "")
        raise ValueError(
            f"{name} is a list of {len(y)} clips of different lengths ({shown} samples), "
            "which numpy cannot stack into one array. Fix: pass one clip at a time (a loop), "
            "or cut them to one length first, np.stack([c[:n] for c in clips]) with "
            "n = min(len(c) for c in clips), and pass that array with batch=True"
        ) from error


def warn_if_out_of_scale(y: np.ndarray, name: str = "y") -> None:
    """Warn when float samples reach far above full scale (1), and say what was forgotten.

    Integer audio converted with ``astype(float)`` but not divided (16-bit: by 32768) keeps its
    integer range, and a float file can be written at another scale; either comes out tens of
    dB too loud, which no later step notices. The warning guesses the cause from the peak.
    """
    if y.size == 0:
        return
    peak = max(float(y.max()), -float(y.min()))  # max |y| without a copy of y
    if not peak > FULL_SCALE_LIMIT:  # also False for NaN: refused elsewhere
        return
    whole = bool(np.all(y == np.round(y)))
    if whole and peak <= 255 and float(np.min(y)) >= 0:
        cause = "unsigned 8-bit samples (0..255) converted without scaling: use (y - 128) / 128"
    elif whole and peak <= 32768:
        cause = "16-bit integer samples converted without scaling: divide by 32768 (y / 32768)"
    elif whole and peak <= 2**23:
        cause = "24-bit integer samples converted without scaling: divide by 2 ** 23"
    elif whole and peak <= 2**31:
        cause = "32-bit integer samples converted without scaling: divide by 2 ** 31"
    else:
        cause = (
            "float samples written at another scale: divide by that scale, or normalise "
            "with y / np.abs(y).max()"
        )
    warnings.warn(
        f"{name} reaches {peak:.4g}, far above the full scale of 1 of float audio, so its "
        f"spectrogram comes out {20 * np.log10(peak):+.0f} dB too loud. Probably {cause}",
        UserWarning,
        stacklevel=_user_stacklevel(),
    )


def validate_samples(y: Any, *, batch: bool = False, name: str = "y") -> np.ndarray:
    """Check the samples alone (no rate): mono float waveform(s), finite, not empty.

    Parameters
    ----------
    y : array-like
        ``(n_samples,)``, or ``(n_clips, n_samples)`` with ``batch=True``.
    batch : bool
        Read a 2-D array as several clips. Without it a 2-D array is refused (it may be stereo).
    name : str
        Used in messages.

    Raises
    ------
    TypeError
        Integer, boolean, complex or object samples (the fix for 16-bit audio is in the message);
        the ``(y, sr)`` pair of ``librosa.load`` passed whole.
    ValueError
        A 2-D array without ``batch=True`` (stereo?), a 1-D array with ``batch=True``, any other
        number of dimensions, no samples, NaN or infinite samples, a list of clips of different
        lengths.

    Warns
    -----
    UserWarning
        Samples far above full scale (``max |y| > 2``): the message names the probable cause.
    """
    y = as_samples(y, name)
    if not isinstance(batch, bool):
        raise TypeError(f"batch must be True or False, got {batch!r}")
    if batch and y.ndim != 2:
        raise ValueError(
            f"batch=True expects clips of shape (n_clips, n_samples), got {name} of shape "
            f"{y.shape}; for one clip leave batch=False"
        )
    if not batch and y.ndim == 2:
        raise ValueError(
            f"expected one mono clip of shape (n_samples,), got {name} of shape {y.shape}. "
            f"If its rows are separate clips of equal length, pass batch=True; "
            f"{_STEREO_FIXES}"
        )
    if y.ndim != (2 if batch else 1):
        raise ValueError(
            f"expected a waveform of shape (n_samples,) or, with batch=True, (n_clips, "
            f"n_samples); got {name} of shape {y.shape}; {_STEREO_FIXES}"
        )
    if y.size == 0:
        raise ValueError(
            f"got an empty waveform {name} (shape {y.shape}): pass at least n_fft samples per clip"
        )
    if not np.issubdtype(y.dtype, np.floating):
        raise TypeError(
            f"expected floating-point samples in [-1, 1], got {name} of dtype {y.dtype}; "
            "convert 16-bit integers with y.astype(np.float32) / 32768"
        )
    if not np.all(np.isfinite(y)):
        raise ValueError(
            f"got NaN or infinite samples in {name}: clean the waveform (np.nan_to_num) or drop "
            "the clip"
        )
    warn_if_out_of_scale(y, name)
    return y


def validate_waveform(
    y: Any, sr: Any, expected_sr: int | None = None, *, batch: bool = False
) -> np.ndarray:
    """Validate mono waveform(s) and their sample rate; return them as a numpy array.

    Parameters
    ----------
    y : array-like of shape (n_samples,), or (n_clips, n_samples) with ``batch=True``
        Mono waveform(s), floating point, nominally in [-1, 1].
    sr : int
        Sample rate of ``y`` in Hz.
    expected_sr : int, optional
        If given, ``sr`` must equal it.
    batch : bool
        Read a 2-D ``y`` as several clips (see the module docstring: never guessed).

    Returns
    -------
    np.ndarray
        ``y`` as an array (not copied when it already is one).

    Raises
    ------
    TypeError
        Integer, boolean, complex or object samples; a sample rate that is not a whole number.
    ValueError
        A 2-D array without ``batch=True`` (it may be stereo: the message gives the fixes), the
        wrong number of dimensions, an empty waveform, NaN or infinite samples, a non-positive
        sample rate, or a rate that differs from ``expected_sr``.
    """
    sr = require_sample_rate(sr)
    if expected_sr is not None:
        expected_sr = require_sample_rate(expected_sr, "expected_sr")
    y = validate_samples(y, batch=batch)
    if expected_sr is not None and sr != expected_sr:
        raise ValueError(
            f"audio has sample rate {sr} Hz but {expected_sr} Hz is expected: "
            f"resample with librosa.resample(y, orig_sr={sr}, target_sr={expected_sr})"
        )
    return y
