"""Log-mel spectrograms: the three steps one at a time, all at once, and for a whole catalogue.

Taught in chapter 03 (listening to data), sections 3 to 6; the music world calls :func:`log_mel`
to build ``world.log_mel()``, the input of the convnet of chapter 04. The representation follows
van den Oord, Dieleman & Schrauwen (2013) and Dieleman (2014): a short-time Fourier transform, a
mel filterbank, then logarithmic compression of the powers.

Every spectrogram in the course is TIME-MAJOR, shape ``(n_frames, n_mels)``: time on the first
axis, mel bands on the last, so that a 1-D convolution over time (chapter 04) reads it as it is.
librosa returns the transpose, ``(n_mels, n_frames)``; the helpers here swap the axes once.

Every entry point refuses settings that would give a silently wrong spectrogram: ``n_fft``,
``hop_length`` and ``n_mels`` that are not positive integers, ``fmin >= fmax``, ``fmax`` above
the Nyquist frequency ``sr / 2``, and clips shorter than one window (``n_fft`` samples). More
mel bands than ``n_fft`` can fill (some bands narrower than one FFT bin, empty in every frame)
draw a warning that gives the largest ``n_mels`` that fits (:func:`max_filled_mels`).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from course_lib.validation import require_int, require_number

from .waveform import (
    _user_stacklevel,
    as_samples,
    require_sample_rate,
    validate_samples,
    validate_waveform,
)

__all__ = [
    "AMIN",
    "batched_log_mel",
    "frame_times",
    "log_mel",
    "max_filled_mels",
    "mel_filterbank",
    "power_to_db",
    "require_spectrogram_settings",
    "stft_power",
]

#: Floor added to the power before the logarithm: ``10 * log10(power + AMIN)``; -100 dB is silence.
AMIN = 1e-10


def require_spectrogram_settings(
    sr: Any,
    n_fft: Any = 1024,
    hop_length: Any = 256,
    n_mels: Any = 128,
    fmin: Any = 0.0,
    fmax: Any = None,
) -> tuple[int, int, int, int, float, float | None]:
    """The STFT and mel settings, checked: ``(sr, n_fft, hop_length, n_mels, fmin, fmax)``.

    Raises
    ------
    TypeError
        A setting that is not a (whole) number: ``n_fft=1024.0``, ``n_mels="128"``.
    ValueError
        ``n_fft < 2``, ``hop_length < 1``, ``n_mels < 1``, a negative ``fmin``, ``fmin >= fmax``
        or ``fmax`` above the Nyquist frequency ``sr / 2`` (no recording at ``sr`` holds it).
    """
    sr = require_sample_rate(sr)
    n_fft = require_int(n_fft, "n_fft", 2)
    hop_length = require_int(hop_length, "hop_length", 1)
    n_mels = require_int(n_mels, "n_mels", 1)
    fmin = require_number(fmin, "fmin", minimum=0.0)
    nyquist = sr / 2
    top = nyquist
    if fmax is not None:
        fmax = top = require_number(fmax, "fmax", minimum=0.0, strict_minimum=True)
        if fmax > nyquist:
            raise ValueError(
                f"fmax={fmax:g} Hz is above the Nyquist frequency sr / 2 = {nyquist:g} Hz: audio "
                f"sampled at {sr} Hz holds nothing above it. Pass fmax <= {nyquist:g} (or None)"
            )
    if fmin >= top:
        raise ValueError(
            f"fmin={fmin:g} Hz must be below fmax={top:g} Hz (None means sr / 2): the mel bands "
            "span fmin..fmax; lower fmin or raise fmax"
        )
    return sr, n_fft, hop_length, n_mels, fmin, fmax


_EMPTY_FILTERS = "Empty filters detected"


@functools.lru_cache(maxsize=64)
def _has_empty_bands(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None) -> bool:
    """Whether librosa's filterbank for these settings has bands that no FFT bin falls in."""
    import librosa

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    return any(_EMPTY_FILTERS in str(w.message) for w in caught)


def max_filled_mels(sr: int, n_fft: int, fmin: float = 0.0, fmax: float | None = None) -> int:
    """The most mel bands that ``n_fft`` at ``sr`` fills (every band holds an FFT bin); 0: none.

    Bisection on librosa's own test of empty filters (the lowest, narrowest bands empty first).
    """
    sr, n_fft, _, _, fmin, fmax = require_spectrogram_settings(sr, n_fft, 1, 1, fmin, fmax)
    if _has_empty_bands(sr, n_fft, 1, fmin, fmax):
        return 0
    low, high = 1, 2
    while not _has_empty_bands(sr, n_fft, high, fmin, fmax):
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        if _has_empty_bands(sr, n_fft, middle, fmin, fmax):
            high = middle
        else:
            low = middle
    return low


def _warn_if_bands_empty(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None) -> None:
    """Say, with the largest sensible ``n_mels``, when some mel bands would stay empty."""
    if not _has_empty_bands(sr, n_fft, n_mels, fmin, fmax):
        return
    best = max_filled_mels(sr, n_fft, fmin, fmax)
    fix = f"pass n_mels <= {best}" if best else f"widen fmin..fmax beyond {sr / n_fft:.1f} Hz"
    warnings.warn(
        f"n_mels={n_mels} is more mel bands than n_fft={n_fft} at sr={sr} Hz can fill: the "
        f"narrowest (lowest) bands fall between two FFT bins ({sr / n_fft:.1f} Hz apart) and "
        f"stay empty, at -100 dB in every frame. Fix: {fix}, or a larger n_fft (finer bins)",
        UserWarning,
        stacklevel=_user_stacklevel(),
    )


def _require_window_fits(y: np.ndarray, n_fft: int, batch: bool) -> None:
    n = y.shape[-1]
    if n >= n_fft:
        return
    hint = ""
    if batch and y.shape[0] > n:
        hint = (
            f" An array of shape (n_samples, channels) = {y.shape} read as a batch gives clips "
            "of that few samples: mix it to mono with y.mean(axis=1) and pass one clip."
        )
    raise ValueError(
        f"each clip has {n} samples, fewer than n_fft={n_fft} (one analysis window): pass "
        f"longer clips or a smaller n_fft.{hint}"
    )


def log_mel(
    y: np.ndarray,
    sr: int,
    n_mels: int = 128,
    n_fft: int = 1024,
    hop_length: int = 256,
    fmin: float = 0.0,
    fmax: float | None = None,
    expected_sr: int | None = None,
    *,
    batch: bool = False,
) -> np.ndarray:
    """Log-mel spectrogram(s) in decibels, time-major.

    The three steps of van den Oord et al. (2013, sec. 4) and Dieleman (2014, sec. 5.1): power
    spectrogram ``|STFT|^2`` of Hann-windowed frames, mel filterbank ``M`` (Slaney-style, librosa's
    default), log compression ``10 log10(M |STFT|^2 + AMIN)``. Taught in chapter 03.

    Parameters
    ----------
    y : array of shape (n_samples,), or (n_clips, n_samples) with ``batch=True``
        Mono waveform(s), floats. A 2-D array is never guessed to be a batch: it could be a stereo
        recording (see :mod:`course_lib.audio.waveform`).
    sr : int
        Sample rate of ``y`` in Hz.
    n_mels, n_fft, hop_length, fmin, fmax
        Mel filterbank and STFT settings (librosa's names).
    expected_sr : int, optional
        If given, ``sr`` must equal it (guards against feeding audio at the wrong rate).
    batch : bool
        ``y`` holds several clips of equal length, one per row.

    Returns
    -------
    np.ndarray, float32, shape (n_frames, n_mels), or (n_clips, n_frames, n_mels) with ``batch``
        ``10 * log10(mel power + 1e-10)``: time on the first axis, mel bands on the last, so
        that a 1-D convolution runs over time (Dieleman 2014). ``n_frames = 1 + n_samples //
        hop_length`` (frames are centred, librosa's default).

    Raises
    ------
    ValueError, TypeError
        See :func:`validate_waveform` (empty, non-finite, integer-typed, wrong-rate or 2-D input
        without ``batch=True``, a ragged list of clips, the ``(y, sr)`` pair of
        ``librosa.load``) and :func:`require_spectrogram_settings`; clips shorter than
        ``n_fft`` samples.

    Warns
    -----
    UserWarning
        Samples far above full scale (a forgotten ``/ 32768``), or more mel bands than
        ``n_fft`` can fill (the message gives the largest ``n_mels`` that fits).
    """
    import librosa

    sr, n_fft, hop_length, n_mels, fmin, fmax = require_spectrogram_settings(
        sr, n_fft, hop_length, n_mels, fmin, fmax
    )
    y = validate_waveform(y, sr, expected_sr, batch=batch)
    _require_window_fits(y, n_fft, batch)
    _warn_if_bands_empty(sr, n_fft, n_mels, fmin, fmax)
    with warnings.catch_warnings():  # said above, with the largest n_mels that fits
        warnings.filterwarnings("ignore", message=_EMPTY_FILTERS)
        mel = librosa.feature.melspectrogram(
            y=y.astype(np.float32, copy=False),
            sr=sr,
            n_fft=n_fft,
            hop_length=hop_length,
            n_mels=n_mels,
            fmin=fmin,
            fmax=fmax,
            power=2.0,
        )
    out = 10.0 * np.log10(mel + AMIN)
    return np.swapaxes(out, -1, -2).astype(np.float32)


def stft_power(
    y: np.ndarray, n_fft: int = 1024, hop_length: int = 256, *, batch: bool = False
) -> np.ndarray:
    """Power spectrogram ``|STFT(y)|^2``, time-major: step 1 of :func:`log_mel`.

    Parameters
    ----------
    y : array of shape (n_samples,), or (n_clips, n_samples) with ``batch=True``
        Mono waveform(s), floats (integer samples are refused, as in :func:`log_mel`).
    n_fft, hop_length : int
        Frame length and hop in samples (Hann window, centred frames, as in :func:`log_mel`).
    batch : bool
        ``y`` holds several clips, one per row.

    Returns
    -------
    np.ndarray, float32, shape (..., n_frames, 1 + n_fft // 2)
        Power per frame and linear-frequency bin; bin ``k`` is at ``k * sr / n_fft`` Hz.

    Raises
    ------
    ValueError, TypeError
        As :func:`log_mel`: empty, non-finite, integer or 2-D input without ``batch=True``,
        clips shorter than ``n_fft``, ``n_fft < 2`` or ``hop_length < 1``.
    """
    import librosa

    n_fft = require_int(n_fft, "n_fft", 2)
    hop_length = require_int(hop_length, "hop_length", 1)
    y = validate_samples(y, batch=batch)
    _require_window_fits(y, n_fft, batch)
    spec = librosa.stft(y.astype(np.float32, copy=False), n_fft=n_fft, hop_length=hop_length)
    return np.swapaxes(np.abs(spec) ** 2, -1, -2).astype(np.float32)


def mel_filterbank(
    sr: int, n_fft: int = 1024, n_mels: int = 128, fmin: float = 0.0, fmax: float | None = None
) -> np.ndarray:
    """The mel filterbank of :func:`log_mel`: step 2, one triangular filter per row.

    Parameters
    ----------
    sr, n_fft, n_mels, fmin, fmax
        As in :func:`log_mel` (checked by :func:`require_spectrogram_settings`).

    Returns
    -------
    np.ndarray, float32, shape (n_mels, 1 + n_fft // 2)
        ``mel_power = stft_power @ mel_filterbank(...).T`` for time-major spectrograms.
    """
    import librosa

    sr, n_fft, _, n_mels, fmin, fmax = require_spectrogram_settings(
        sr, n_fft, 1, n_mels, fmin, fmax
    )
    _warn_if_bands_empty(sr, n_fft, n_mels, fmin, fmax)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_EMPTY_FILTERS)
        bank = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    return bank.astype(np.float32)


def power_to_db(power: np.ndarray) -> np.ndarray:
    """Log compression, step 3 of :func:`log_mel`: ``10 * log10(power + AMIN)`` in dB.

    Parameters
    ----------
    power : np.ndarray
        Non-negative, finite powers (any shape).

    Returns
    -------
    np.ndarray, float32
        Decibels; ``AMIN`` keeps silence finite at -100 dB.

    Raises
    ------
    TypeError
        Complex values (an STFT, not its power) or values that are not numbers.
    ValueError
        Negative, NaN or infinite powers.
    """
    power = np.asarray(power)
    if power.dtype.kind == "c":
        raise TypeError(
            "power_to_db expects real powers, got complex STFT values: take np.abs(x) ** 2 first"
        )
    if power.dtype.kind not in "biuf":
        raise TypeError(f"power_to_db expects numbers, got dtype {power.dtype}")
    if not np.all(np.isfinite(power)):
        raise ValueError("power_to_db got NaN or infinite powers: recompute them from finite audio")
    if np.any(power < 0):
        raise ValueError(
            "power_to_db expects non-negative powers; square magnitudes first (np.abs(x) ** 2)"
        )
    return (10.0 * np.log10(power + AMIN)).astype(np.float32)


def frame_times(n_frames: int, sr: int, hop_length: int = 256) -> np.ndarray:
    """Centre time in seconds of each frame of a (centred) spectrogram: ``t = i * hop / sr``."""
    n_frames = require_int(n_frames, "n_frames", 0)
    sr = require_sample_rate(sr)
    hop_length = require_int(hop_length, "hop_length", 1)
    return np.arange(n_frames) * hop_length / float(sr)


def batched_log_mel(
    source: np.ndarray | Callable[[np.ndarray], np.ndarray],
    sr: int,
    *,
    ids: np.ndarray | None = None,
    batch_size: int = 64,
    progress: bool = False,
    **log_mel_kwargs: Any,
) -> np.ndarray:
    """Log-mel spectrograms of many clips, a batch at a time (bounded memory).

    Parameters
    ----------
    source : array of shape (n_clips, n_samples) or callable
        The waveforms (always read as one clip per row: mix stereo to mono first), or a function
        mapping an array of ids to a waveform batch of shape ``(len(ids), n_samples)`` (e.g.
        ``world.audio``), called once per batch so the audio never sits in memory at once.
    sr : int
        Sample rate in Hz.
    ids : 1-D array, optional
        Required when ``source`` is a callable (the ids to pass it, in output order); refused
        with an array (select the clips yourself: ``waves[ids]``).
    batch_size : int
        Clips per call to :func:`log_mel`.
    progress : bool
        Show a tqdm progress bar.
    **log_mel_kwargs
        Forwarded to :func:`log_mel` (``n_mels``, ``n_fft``, ``hop_length``, ...).

    Returns
    -------
    np.ndarray, float32, shape (n_clips, n_frames, n_mels)

    Raises
    ------
    ValueError, TypeError
        No clips, a ``source`` that is not 2-D, ``ids`` missing (loader) or given (array), a
        loader that returns another shape than ``(len(ids), n_samples)``, and everything
        :func:`log_mel` refuses.
    """
    batch_size = require_int(batch_size, "batch_size", 1)
    if "batch" in log_mel_kwargs:
        raise TypeError("batched_log_mel always reads one clip per row: do not pass batch=")
    if callable(source):
        if ids is None:
            raise ValueError("batched_log_mel: pass ids=... when source is a function of ids")
        keys = np.asarray(ids)
        if keys.ndim != 1:
            raise ValueError(f"ids must be a 1-D array of ids, got shape {keys.shape}")
        n = len(keys)

        def get(lo: int, hi: int) -> np.ndarray:
            block = np.asarray(source(keys[lo:hi]))
            if block.ndim != 2 or len(block) != hi - lo:
                raise ValueError(
                    f"the loader returned shape {block.shape} for {hi - lo} ids; it must return "
                    f"one mono waveform per id, shape ({hi - lo}, n_samples)"
                )
            return block
    else:
        if ids is not None:
            raise ValueError(
                "batched_log_mel: ids= is only used with a loader function; with an array, "
                "select the clips yourself (waves[ids])"
            )
        waves = as_samples(source, "source")
        if waves.ndim != 2:
            raise ValueError(
                f"batched_log_mel expects waveforms (n_clips, n_samples), got {waves.shape}; "
                "for one clip call log_mel(y, sr)"
            )
        n = len(waves)

        def get(lo: int, hi: int) -> np.ndarray:
            return waves[lo:hi]

    if n == 0:
        raise ValueError("batched_log_mel got no clips: pass at least one waveform or id")
    starts = range(0, n, batch_size)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="log-mel", unit="batch")
    out: np.ndarray | None = None
    for lo in starts:
        hi = min(lo + batch_size, n)
        block = log_mel(get(lo, hi), sr, batch=True, **log_mel_kwargs)
        if out is None:
            out = np.empty((n,) + block.shape[1:], dtype=np.float32)
        elif block.shape[1:] != out.shape[1:]:
            raise ValueError(
                f"clips {lo}..{hi - 1} give spectrograms of shape {block.shape[1:]}, the first "
                f"ones {out.shape[1:]}: every clip must have the same number of samples (trim "
                "or pad them to one length)"
            )
        out[lo:hi] = block
    assert out is not None
    return out
