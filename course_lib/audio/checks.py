"""The exercise check of chapter 03 (listening to data): exercise 3.1, a mel spectrogram by hand.

Built on :func:`course_lib.checking.run_check`, so the verdict reads like every other chapter's:
"Correct", "Not quite" (with what differs and a hint) or "Not implemented yet" (a stub that still
raises ``NotImplementedError``; not an error, the notebook keeps running). Chapters call it
through the facade: ``from course_lib import checks; checks.check_mel_by_hand(my_log_mel)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from course_lib.checking import Case, CheckResult, run_check

from .features import log_mel

__all__ = ["check_mel_by_hand"]


def _test_signals() -> list[Case]:
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
    bands), converts to decibels ``10 log10(. + 1e-10)`` and returns time-major frames (van den
    Oord, Dieleman & Schrauwen 2013, sec. 4). Compared with :func:`course_lib.audio.log_mel` on a
    chord, a chirp and noise (tolerance 0.01 dB); the verdict names the usual slips: librosa's
    (bands, frames) layout, magnitudes instead of power, natural log, bels, 20 log10.
    """
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
