"""Plots of audio: waveforms, spectrograms and the mel filterbank.

Taught in chapter 03 (listening to data), where every figure is drawn with these; chapter 05
draws :func:`plot_spectrogram` again through ``course_lib.inspection``. Like
:mod:`course_lib.plotting`, each helper draws into ``ax`` when one is given (else a new figure of
size ``figsize``), labels its axes with units, never calls ``plt.show()`` and returns the figure.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib.plotting import axes_or_new
from course_lib.validation import require_choice, require_int

from .features import mel_filterbank, require_spectrogram_settings
from .waveform import validate_waveform

__all__ = ["plot_mel_filterbank", "plot_spectrogram", "plot_waveform"]


def plot_waveform(
    y: np.ndarray,
    sr: int,
    *,
    ax: Any = None,
    title: str | None = None,
    figsize: tuple[float, float] = (8, 2),
) -> Any:
    """Plot one mono clip ``(n_samples,)`` against time in seconds; returns the figure.

    Refuses what :func:`course_lib.audio.validate_waveform` refuses, including 2-D (stereo or
    batched) arrays: plot one channel or clip at a time.
    """
    y = validate_waveform(y, sr)
    fig, ax = axes_or_new(ax, figsize)
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
    n_mels: int | None = None,
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
        The settings it was computed with (for the axis labels; checked as in ``log_mel``).
        With ``kind="linear"`` the spectrogram must have ``1 + n_fft // 2`` bins.
    kind : {"mel", "linear"}
        Mel bands are labelled by their centre frequency in Hz; linear bins by ``k * sr / n_fft``.
    n_mels : int, optional
        With ``kind="mel"``, the number of bands it must have. Without it the layout is judged
        from the shape: a band count no mel spectrogram has next to a frame count that is a
        usual ``n_mels`` is taken for librosa's ``(n_mels, n_frames)`` layout and refused.

    Raises
    ------
    ValueError
        A spectrogram that is not 2-D (a batch: plot ``spec_db[i]``), in librosa's frequency-
        major layout (pass ``spec_db.T``), with a bin count that ``n_fft`` (linear) or
        ``n_mels`` (mel) does not give, an unknown ``kind``, or settings
        :func:`course_lib.audio.log_mel` would refuse.
    """
    spec_db = np.asarray(spec_db)
    if spec_db.ndim != 2:
        raise ValueError(
            f"plot_spectrogram expects one time-major (n_frames, n_bins) array, got {spec_db.shape}"
        )
    require_choice(kind, "kind", ("mel", "linear"))
    sr, n_fft, hop_length, _, fmin, fmax = require_spectrogram_settings(
        sr, n_fft, hop_length, 1, fmin, fmax
    )
    _require_time_major(spec_db.shape, kind, n_fft, n_mels)
    fig, ax = axes_or_new(ax, figsize)
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
    ticks = np.linspace(0, n_bins - 1, 6).round().astype(int)
    if kind == "mel":
        import librosa

        centres = librosa.mel_frequencies(n_mels=n_bins + 2, fmin=fmin, fmax=fmax or sr / 2)[1:-1]
        ax.set_yticks(ticks, [f"{centres[i]:.0f}" for i in ticks])
        ax.set_ylabel("mel band centre (Hz)")
    else:
        ax.set_yticks(ticks, [f"{k * sr / n_fft:.0f}" for k in ticks])
        ax.set_ylabel("frequency (Hz)")
    if title:
        ax.set_title(title)
    if colorbar:
        fig.colorbar(img, ax=ax, label="dB", pad=0.01)
    return fig


#: Band counts that mel spectrograms use; a frame count among them hints at a transposed array.
_USUAL_N_MELS = frozenset({32, 40, 48, 60, 64, 80, 96, 128, 160, 192, 256})
#: More bands than this is no mel spectrogram (librosa leaves bands empty well before).
_MAX_N_MELS = 256


def _require_time_major(shape: tuple[int, int], kind: str, n_fft: int, n_mels: int | None) -> None:
    """Refuse librosa's ``(n_bins, n_frames)`` layout and bin counts the settings do not give."""
    n_frames, n_bins = shape
    transposed = (
        f"spec_db has shape {shape}, which looks like librosa's (n_bins, n_frames) layout; "
        "the course's spectrograms are time-major, (n_frames, n_bins): pass spec_db.T"
    )
    if kind == "linear":
        expected = 1 + n_fft // 2
        if n_bins == expected:
            return
        if n_frames == expected:
            raise ValueError(transposed)
        raise ValueError(
            f"a linear spectrogram of n_fft={n_fft} has 1 + n_fft // 2 = {expected} frequency "
            f"bins, but spec_db has {n_bins} (shape {shape}). Fix: pass the n_fft it was "
            f"computed with (n_fft={2 * (n_bins - 1)} gives {n_bins} bins), or kind='mel' for "
            "a log-mel spectrogram"
        )
    if n_mels is not None:
        n_mels = require_int(n_mels, "n_mels", 1)
        if n_bins == n_mels:
            return
        if n_frames == n_mels:
            raise ValueError(transposed)
        raise ValueError(
            f"spec_db has {n_bins} bands per frame (shape {shape}), but n_mels={n_mels}: pass "
            "the n_mels it was computed with"
        )
    if n_bins > _MAX_N_MELS:
        linear = n_bins - 1 in (2**k for k in range(4, 16))
        raise ValueError(
            f"spec_db has {n_bins} bands per frame (shape {shape}), more than a mel "
            f"spectrogram has (the course uses 128). Fix: "
            + ("for a linear STFT spectrogram pass kind='linear'; " if linear else "")
            + "for librosa's (n_mels, n_frames) layout pass spec_db.T; if it really has that "
            f"many mel bands, pass n_mels={n_bins}"
        )
    if n_frames in _USUAL_N_MELS and n_bins not in _USUAL_N_MELS:
        raise ValueError(
            transposed + f". If it really has {n_frames} frames of {n_bins} mel bands, pass "
            f"n_mels={n_bins}"
        )


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
    every = require_int(every, "every", 1)
    bank = mel_filterbank(sr, n_fft, n_mels, fmin, fmax)
    freqs = np.arange(bank.shape[1]) * sr / n_fft
    fig, ax = axes_or_new(ax, figsize)
    for row in bank[::every]:
        ax.plot(freqs, row, lw=1)
    ax.set(
        xlabel="frequency (Hz)",
        ylabel="filter weight",
        xlim=(0, sr / 2),
        title=f"{n_mels} mel filters (every {every}th shown)",
    )
    return fig
