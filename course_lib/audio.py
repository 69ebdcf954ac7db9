"""The audio front end: waveforms to log-mel spectrograms.

Taught in chapter 03 (listening to data); used by the music world and by the convnet of chapter 04.
The representation follows van den Oord, Dieleman & Schrauwen (2013) and Dieleman (2014): a
short-time Fourier transform, a mel filterbank, then logarithmic compression of the magnitudes.

Every spectrogram in the course is TIME-MAJOR, shape ``(n_frames, n_mels)``: time on the first axis,
mel bands on the last, so that a 1-D convolution over time (chapter 04) reads it as it is. librosa
returns the transpose, ``(n_mels, n_frames)``; the helpers here swap the axes once, in one place.

Besides :func:`log_mel` (the function the music world calls), the module offers the three steps one
at a time (:func:`stft_power`, :func:`mel_filterbank`, :func:`power_to_db`) so that chapter 03 can
show each, a batched version for many clips (:func:`batched_log_mel`), an on-disk cache
(:func:`cache_dir`, :func:`cached_array`) and plotting helpers that take ``ax=None`` and return the
figure (:func:`plot_waveform`, :func:`plot_spectrogram`, :func:`plot_mel_filterbank`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "AMIN",
    "batched_log_mel",
    "cache_dir",
    "cached_array",
    "check_waveform",
    "frame_times",
    "log_mel",
    "mel_filterbank",
    "plot_mel_filterbank",
    "plot_spectrogram",
    "plot_waveform",
    "power_to_db",
    "stft_power",
]

#: Floor added to the power before the logarithm: ``10 * log10(power + AMIN)``; -100 dB is silence.
AMIN = 1e-10


def check_waveform(y: Any, sr: Any, expected_sr: int | None = None) -> np.ndarray:
    """Validate mono waveform(s) and their sample rate; return them as a numpy array.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_clips, n_samples)
        Mono waveform(s), floating point, nominally in [-1, 1].
    sr : int
        Sample rate of ``y`` in Hz.
    expected_sr : int, optional
        If given, ``sr`` must equal it.

    Returns
    -------
    np.ndarray
        ``y`` as an array (not copied when it already is one).

    Raises
    ------
    TypeError
        Integer, boolean, complex or object samples; a sample rate that is not an integer.
    ValueError
        Wrong number of dimensions, an empty waveform, NaN or infinite samples, a non-positive
        sample rate, or a rate that differs from ``expected_sr``.
    """
    y = np.asarray(y)
    is_number = isinstance(sr, (int, np.integer, float, np.floating)) and not isinstance(sr, bool)
    if not is_number or not np.isfinite(sr) or float(sr) != round(float(sr)):
        raise TypeError(
            f"the sample rate must be a whole number of Hz, got {sr!r}; pass e.g. sr=16000"
        )
    if sr <= 0:
        raise ValueError(f"the sample rate must be positive, got {sr} Hz")
    if y.ndim not in (1, 2):
        raise ValueError(
            f"expected a waveform of shape (n_samples,) or (n_clips, n_samples), got {y.shape}; "
            "mix stereo to mono first (y.mean(axis=0))"
        )
    if y.size == 0:
        raise ValueError(
            f"got an empty waveform (shape {y.shape}): pass at least n_fft samples per clip"
        )
    if not np.issubdtype(y.dtype, np.floating):
        raise TypeError(
            f"expected floating-point samples in [-1, 1], got dtype {y.dtype}; "
            "convert 16-bit integers with y.astype(np.float32) / 32768.0"
        )
    if not np.all(np.isfinite(y)):
        raise ValueError(
            "got NaN or infinite samples: clean the waveform (np.nan_to_num) or drop the clip"
        )
    if expected_sr is not None and sr != expected_sr:
        raise ValueError(
            f"audio has sample rate {sr} Hz but {expected_sr} Hz is expected: "
            f"resample with librosa.resample(y, orig_sr={sr}, target_sr={expected_sr})"
        )
    return y


def log_mel(
    y: np.ndarray,
    sr: int,
    n_mels: int = 128,
    n_fft: int = 1024,
    hop_length: int = 256,
    fmin: float = 0.0,
    fmax: float | None = None,
    expected_sr: int | None = None,
) -> np.ndarray:
    """Log-mel spectrogram(s) in decibels, time-major.

    The three steps of van den Oord et al. (2013, sec. 4) and Dieleman (2014, sec. 5.1): power
    spectrogram ``|STFT|^2`` of Hann-windowed frames, mel filterbank ``M`` (Slaney-style, librosa's
    default), log compression ``10 log10(M |STFT|^2 + AMIN)``. Taught in chapter 03.

    Parameters
    ----------
    y : array of shape (n_samples,) or (n_clips, n_samples)
        Mono waveform(s), floats.
    sr : int
        Sample rate of ``y`` in Hz.
    n_mels, n_fft, hop_length, fmin, fmax
        Mel filterbank and STFT settings (librosa's names).
    expected_sr : int, optional
        If given, ``sr`` must equal it (guards against feeding audio at the wrong rate).

    Returns
    -------
    np.ndarray, float32, shape (n_frames, n_mels) or (n_clips, n_frames, n_mels)
        ``10 * log10(mel power + 1e-10)``: time on the first axis, mel bands on the last, so
        that a 1-D convolution runs over time (Dieleman 2014). ``n_frames = 1 + n_samples //
        hop_length`` (frames are centred, librosa's default).

    Raises
    ------
    ValueError, TypeError
        See :func:`check_waveform`: empty, non-finite, integer-typed or wrong-rate input.
    """
    import librosa

    y = check_waveform(y, sr, expected_sr)
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


def stft_power(y: np.ndarray, n_fft: int = 1024, hop_length: int = 256) -> np.ndarray:
    """Power spectrogram ``|STFT(y)|^2``, time-major: step 1 of :func:`log_mel`.

    Parameters
    ----------
    y : array of shape (n_samples,) or (n_clips, n_samples)
        Mono waveform(s), floats.
    n_fft, hop_length : int
        Frame length and hop in samples (Hann window, centred frames, as in :func:`log_mel`).

    Returns
    -------
    np.ndarray, float32, shape (..., n_frames, 1 + n_fft // 2)
        Power per frame and linear-frequency bin; bin ``k`` is at ``k * sr / n_fft`` Hz.
    """
    import librosa

    y = np.asarray(y)
    if y.size == 0:
        raise ValueError("stft_power got an empty waveform: pass at least n_fft samples of audio")
    spec = librosa.stft(y.astype(np.float32, copy=False), n_fft=n_fft, hop_length=hop_length)
    return np.swapaxes(np.abs(spec) ** 2, -1, -2).astype(np.float32)


def mel_filterbank(
    sr: int, n_fft: int = 1024, n_mels: int = 128, fmin: float = 0.0, fmax: float | None = None
) -> np.ndarray:
    """The mel filterbank of :func:`log_mel`: step 2, one triangular filter per row.

    Parameters
    ----------
    sr, n_fft, n_mels, fmin, fmax
        As in :func:`log_mel`.

    Returns
    -------
    np.ndarray, float32, shape (n_mels, 1 + n_fft // 2)
        ``mel_power = stft_power @ mel_filterbank(...).T`` for time-major spectrograms.
    """
    import librosa

    return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax).astype(
        np.float32
    )


def power_to_db(power: np.ndarray) -> np.ndarray:
    """Log compression, step 3 of :func:`log_mel`: ``10 * log10(power + AMIN)`` in dB.

    Parameters
    ----------
    power : np.ndarray
        Non-negative powers (any shape).

    Returns
    -------
    np.ndarray, float32
        Decibels; ``AMIN`` keeps silence finite at -100 dB.
    """
    power = np.asarray(power)
    if np.any(power < 0):
        raise ValueError(
            "power_to_db expects non-negative powers; square magnitudes first (np.abs(x) ** 2)"
        )
    return (10.0 * np.log10(power + AMIN)).astype(np.float32)


def frame_times(n_frames: int, sr: int, hop_length: int = 256) -> np.ndarray:
    """Centre time in seconds of each frame of a (centred) spectrogram: ``t = i * hop / sr``."""
    if n_frames < 0:
        raise ValueError(f"n_frames must be >= 0, got {n_frames}")
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
        The waveforms, or a function mapping an array of ids to a waveform batch
        (e.g. ``world.audio``), called once per batch so the audio never sits in memory at once.
    sr : int
        Sample rate in Hz.
    ids : array of int, optional
        Required when ``source`` is a callable: the ids to pass it, in output order.
    batch_size : int
        Clips per call to :func:`log_mel`.
    progress : bool
        Show a tqdm progress bar.
    **log_mel_kwargs
        Forwarded to :func:`log_mel` (``n_mels``, ``n_fft``, ``hop_length``, ...).

    Returns
    -------
    np.ndarray, float32, shape (n_clips, n_frames, n_mels)
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if callable(source):
        if ids is None:
            raise ValueError("batched_log_mel: pass ids=... when source is a function of ids")
        keys = np.asarray(ids)
        n = len(keys)

        def get(lo: int, hi: int) -> np.ndarray:
            return source(keys[lo:hi])
    else:
        waves = np.asarray(source)
        if waves.ndim != 2:
            raise ValueError(
                f"batched_log_mel expects waveforms (n_clips, n_samples), got {waves.shape}"
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
        block = log_mel(get(lo, hi), sr, **log_mel_kwargs)
        if block.ndim == 2:
            block = block[None]
        if out is None:
            out = np.empty((n,) + block.shape[1:], dtype=np.float32)
        out[lo:hi] = block
    assert out is not None
    return out


def cache_dir(subdir: str | None = None) -> Path:
    """The course's on-disk cache: ``$COURSE_LIB_CACHE`` or ``~/.cache/course_lib`` (created).

    Parameters
    ----------
    subdir : str, optional
        A sub-folder (e.g. ``"audio"`` or ``"convnet"``), created too.
    """
    root = Path(
        os.environ.get("COURSE_LIB_CACHE", Path.home() / ".cache" / "course_lib")
    ).expanduser()
    path = root / subdir if subdir else root
    path.mkdir(parents=True, exist_ok=True)
    return path


def cached_array(
    name: str,
    compute: Callable[[], np.ndarray],
    *,
    params: Mapping[str, Any] | None = None,
    subdir: str = "audio",
    mmap_mode: str | None = None,
    refresh: bool = False,
) -> np.ndarray:
    """Load an array from the cache, or compute it once and store it (``.npy``).

    The file name is ``{name}-{hash}.npy`` where the hash covers ``params`` (JSON, sorted keys), so
    changing any setting (sample rate, ``n_mels``, hop, world seed ...) recomputes instead of
    silently reusing a stale file. Writes go to a temporary file first, then are renamed, so an
    interrupted run never leaves a truncated cache entry.

    Parameters
    ----------
    name : str
        Readable stem, e.g. ``"logmel_small_seed0"``.
    compute : callable
        No-argument function returning the array.
    params : mapping, optional
        Everything the array depends on (JSON-serialisable).
    subdir : str
        Sub-folder of :func:`cache_dir`.
    mmap_mode : {None, "r", "c"}
        Passed to ``np.load`` (memory-map large arrays instead of reading them).
    refresh : bool
        Recompute even if the file exists.
    """
    if not name or any(c in name for c in "/\\"):
        raise ValueError(f"cached_array: name must be a plain file stem, got {name!r}")
    key = json.dumps(dict(params or {}), sort_keys=True, default=str)
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    path = cache_dir(subdir) / f"{name}-{digest}.npy"
    if path.exists() and not refresh:
        return np.load(path, mmap_mode=mmap_mode)
    arr = np.asarray(compute())
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npy")
    np.save(tmp, arr)
    os.replace(tmp, path)
    return np.load(path, mmap_mode=mmap_mode) if mmap_mode else arr


def _new_ax(ax: Any, figsize: tuple[float, float]) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    else:
        fig = ax.figure
    return fig, ax


def plot_waveform(
    y: np.ndarray,
    sr: int,
    *,
    ax: Any = None,
    title: str | None = None,
    figsize: tuple[float, float] = (8, 2),
) -> Any:
    """Plot a mono waveform against time in seconds; returns the matplotlib figure."""
    y = check_waveform(y, sr)
    if y.ndim != 1:
        raise ValueError(f"plot_waveform expects one clip of shape (n_samples,), got {y.shape}")
    fig, ax = _new_ax(ax, figsize)
    ax.plot(np.arange(len(y)) / sr, y, lw=0.4)
    ax.set(xlabel="time (s)", ylabel="amplitude", xlim=(0, len(y) / sr))
    if title:
        ax.set_title(title)
    return fig


def plot_spectrogram(
    spec_db: np.ndarray,
    sr: int,
    hop_length: int = 256,
    *,
    kind: str = "mel",
    n_fft: int = 1024,
    fmin: float = 0.0,
    fmax: float | None = None,
    ax: Any = None,
    title: str | None = None,
    colorbar: bool = True,
    figsize: tuple[float, float] = (8, 3),
) -> Any:
    """Plot a TIME-MAJOR spectrogram in dB (time on x, frequency on y); returns the figure.

    Parameters
    ----------
    spec_db : array of shape (n_frames, n_bins)
        A log-mel (``kind="mel"``) or log-power STFT (``kind="linear"``) spectrogram.
    sr, hop_length, n_fft, fmin, fmax
        The settings it was computed with (for the axis labels).
    kind : {"mel", "linear"}
        Mel bands are labelled by their centre frequency in Hz; linear bins by ``k * sr / n_fft``.
    """
    spec_db = np.asarray(spec_db)
    if spec_db.ndim != 2:
        raise ValueError(
            f"plot_spectrogram expects one time-major (n_frames, n_bins) array, got {spec_db.shape}"
        )
    if kind not in ("mel", "linear"):
        raise ValueError(f"kind must be 'mel' or 'linear', got {kind!r}")
    fig, ax = _new_ax(ax, figsize)
    n_frames, n_bins = spec_db.shape
    t_end = n_frames * hop_length / sr
    img = ax.imshow(
        spec_db.T,
        origin="lower",
        aspect="auto",
        cmap="magma",
        extent=(0.0, t_end, -0.5, n_bins - 0.5),
        interpolation="nearest",
    )
    ax.set_xlabel("time (s)")
    if kind == "mel":
        import librosa

        centres = librosa.mel_frequencies(n_mels=n_bins + 2, fmin=fmin, fmax=fmax or sr / 2)[1:-1]
        ticks = np.linspace(0, n_bins - 1, 6).round().astype(int)
        ax.set_yticks(ticks, [f"{centres[i]:.0f}" for i in ticks])
        ax.set_ylabel("mel band centre (Hz)")
    else:
        ticks = np.linspace(0, n_bins - 1, 6).round().astype(int)
        ax.set_yticks(ticks, [f"{k * sr / n_fft:.0f}" for k in ticks])
        ax.set_ylabel("frequency (Hz)")
    if title:
        ax.set_title(title)
    if colorbar:
        fig.colorbar(img, ax=ax, label="dB", pad=0.01)
    return fig


def plot_mel_filterbank(
    sr: int,
    n_fft: int = 1024,
    n_mels: int = 128,
    *,
    every: int = 8,
    fmin: float = 0.0,
    fmax: float | None = None,
    ax: Any = None,
    figsize: tuple[float, float] = (8, 2.5),
) -> Any:
    """Plot every ``every``-th triangular mel filter against frequency in Hz; returns the figure."""
    bank = mel_filterbank(sr, n_fft, n_mels, fmin, fmax)
    freqs = np.arange(bank.shape[1]) * sr / n_fft
    fig, ax = _new_ax(ax, figsize)
    for row in bank[::every]:
        ax.plot(freqs, row, lw=1)
    ax.set(
        xlabel="frequency (Hz)",
        ylabel="filter weight",
        xlim=(0, sr / 2),
        title=f"{n_mels} mel filters (every {every}th shown)",
    )
    return fig
