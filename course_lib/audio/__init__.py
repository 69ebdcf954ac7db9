"""The audio front end: waveforms to log-mel spectrograms.

Taught in chapter 03 (listening to data); used by the music world and by the convnet of chapter
04. The representation follows van den Oord, Dieleman & Schrauwen (2013) and Dieleman (2014): a
short-time Fourier transform, a mel filterbank, then logarithmic compression of the powers.
Every spectrogram is TIME-MAJOR, ``(n_frames, n_mels)``.

One job per file:

* :mod:`~course_lib.audio.waveform`: what goes in. :func:`validate_waveform` (mono float
  samples at a known rate; a 2-D array is a batch only with ``batch=True``, never guessed, since
  stereo looks the same; samples far above full scale draw a warning);
* :mod:`~course_lib.audio.files`: :func:`load_audio` (a file of your own, mono, resampled),
  which reads the header first: an absurd sample rate is refused, a WAV cut short is named;
* :mod:`~course_lib.audio.features`: :func:`log_mel` (the function the music world calls), its
  three steps one at a time (:func:`stft_power`, :func:`mel_filterbank`, :func:`power_to_db`) so
  that chapter 03 can show each, :func:`frame_times` and :func:`batched_log_mel` for many clips;
* :mod:`~course_lib.audio.plots`: :func:`plot_waveform`, :func:`plot_spectrogram`,
  :func:`plot_mel_filterbank` (``ax=None``, they return the figure);
* :mod:`~course_lib.audio.checks`: the check of exercise 3.1 (``checks.check_window_leakage``).

The on-disk cache of arrays is :mod:`course_lib.cache` (``cache_dir``, ``cached_array``).
"""

from __future__ import annotations

from .features import (
    AMIN,
    batched_log_mel,
    frame_times,
    log_mel,
    mel_filterbank,
    power_to_db,
    stft_power,
)
from .files import load_audio
from .plots import plot_mel_filterbank, plot_spectrogram, plot_waveform
from .waveform import validate_waveform

__all__ = [
    "AMIN",
    "batched_log_mel",
    "frame_times",
    "load_audio",
    "log_mel",
    "mel_filterbank",
    "plot_mel_filterbank",
    "plot_spectrogram",
    "plot_waveform",
    "power_to_db",
    "stft_power",
    "validate_waveform",
]
