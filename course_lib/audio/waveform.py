"""Waveforms in: the checks every audio entry point runs first, and a loader for your own files.

Taught in chapter 03 (listening to data), whose section 6 shows the errors these checks raise.
The course's front end takes MONO floating-point audio at a known sample rate, and never guesses
what a 2-D array means:

* one clip is a 1-D array ``(n_samples,)``;
* several clips of equal length are a 2-D array ``(n_clips, n_samples)``, and only when the
  caller says so (``batch=True``);
* any other 2-D array is refused, because a stereo recording looks exactly like a batch: librosa
  returns ``(channels, n_samples)`` (mix it with ``librosa.to_mono(y)`` or ``y.mean(axis=0)``),
  soundfile returns ``(n_samples, channels)`` (``y.mean(axis=1)``, or ``y.T`` for librosa).

:func:`load_audio` reads a recording of your own (any format librosa reads) as that mono,
resampled waveform, so its spectrogram compares with the music world's.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from course_lib.validation import require_number

__all__ = ["load_audio", "require_sample_rate", "validate_samples", "validate_waveform"]

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
        Integer, boolean, complex or object samples (the fix for 16-bit audio is in the message).
    ValueError
        A 2-D array without ``batch=True`` (stereo?), a 1-D array with ``batch=True``, any other
        number of dimensions, no samples, NaN or infinite samples.
    """
    y = np.asarray(y)
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


def load_audio(
    path: str | os.PathLike[str],
    sr: int = 16_000,
    *,
    offset: float = 0.0,
    duration: float | None = None,
) -> np.ndarray:
    """Read an audio file as one mono float32 waveform at ``sr`` Hz (``librosa.load``).

    Channels are averaged (``mono=True``) and the audio is resampled to ``sr``, so the result
    goes straight into :func:`course_lib.audio.log_mel` with the music world's settings.

    Parameters
    ----------
    path : str or path
        A file librosa can decode (WAV, FLAC, OGG, MP3 ...).
    sr : int
        Target sample rate in Hz; the default is the music world's 16 kHz.
    offset, duration : float
        Start reading ``offset`` seconds in; read at most ``duration`` seconds (``None``: all).

    Returns
    -------
    np.ndarray, float32, shape (n_samples,)

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    IsADirectoryError
        ``path`` is a folder.
    ValueError
        A file that cannot be decoded as audio, or that holds no samples after ``offset``;
        a negative ``offset`` or a non-positive ``duration``.
    TypeError
        A ``path`` that is not a string or path, or a fractional sample rate.
    """
    import audioread
    import librosa

    if not isinstance(path, str | os.PathLike):
        raise TypeError(
            f"path must be a file name (str or pathlib.Path), got {type(path).__name__}"
        )
    file = Path(path).expanduser()
    if not file.exists():
        raise FileNotFoundError(
            f"no audio file at {file}: check the name (a relative path starts from the "
            f"notebook's folder, {Path.cwd()})"
        )
    if file.is_dir():
        raise IsADirectoryError(
            f"{file} is a folder, not an audio file: pass one file in it, e.g. the first of "
            f"sorted(Path({str(file)!r}).glob('*.mp3'))"
        )
    sr = require_sample_rate(sr)
    offset = require_number(offset, "offset", minimum=0.0)
    if duration is not None:
        duration = require_number(duration, "duration", minimum=0.0, strict_minimum=True)
    try:
        with warnings.catch_warnings():  # librosa's fallback chatter; the error below says it all
            warnings.filterwarnings("ignore", message="PySoundFile failed")
            warnings.filterwarnings("ignore", message=".*audioread_load", category=FutureWarning)
            y, _ = librosa.load(file, sr=sr, mono=True, offset=offset, duration=duration)
    except (RuntimeError, EOFError, audioread.exceptions.DecodeError) as error:
        raise ValueError(
            f"could not decode {file} as audio ({type(error).__name__}: {error}); check that it "
            f"is a sound file (WAV, FLAC, OGG, MP3) and not damaged, or convert it first "
            f"(ffmpeg -i {file.name} {file.stem}.wav)"
        ) from error
    if y.size == 0:
        raise ValueError(
            f"{file} holds no audio after offset={offset} s: pass a smaller offset "
            "(or check the file's length with librosa.get_duration(path=...))"
        )
    return validate_waveform(y.astype(np.float32, copy=False), sr)
