"""Tests of the chapter 03 exercise check, checks.check_mel_by_hand (course_lib.audio.checks)."""

from __future__ import annotations

import librosa
import numpy as np

from course_lib import checks


def _correct(y: np.ndarray, sr: int) -> np.ndarray:
    s = np.abs(librosa.stft(y, n_fft=1024, hop_length=256)) ** 2
    return (10 * np.log10(librosa.filters.mel(sr=sr, n_fft=1024, n_mels=128) @ s + 1e-10)).T


def _transposed(y: np.ndarray, sr: int) -> np.ndarray:
    return _correct(y, sr).T


def _magnitude(y: np.ndarray, sr: int) -> np.ndarray:
    s = np.abs(librosa.stft(y, n_fft=1024, hop_length=256))
    return (10 * np.log10(librosa.filters.mel(sr=sr, n_fft=1024, n_mels=128) @ s + 1e-10)).T


def _natural_log(y: np.ndarray, sr: int) -> np.ndarray:
    s = np.abs(librosa.stft(y, n_fft=1024, hop_length=256)) ** 2
    return (10 * np.log(librosa.filters.mel(sr=sr, n_fft=1024, n_mels=128) @ s + 1e-10)).T


def _stub(y: np.ndarray, sr: int) -> np.ndarray:
    raise NotImplementedError


def test_mel_check_accepts_the_answer_and_rejects_slips(capsys) -> None:
    check_mel_by_hand = checks.check_mel_by_hand
    assert check_mel_by_hand.__module__ == "course_lib.audio.checks"
    assert check_mel_by_hand(_correct).passed
    assert check_mel_by_hand(_stub).status == "not implemented"
    result = check_mel_by_hand(_transposed)
    assert result.status == "wrong" and "time-major" in " ".join(result.problems)
    result = check_mel_by_hand(_magnitude)
    assert result.status == "wrong" and "magnitudes" in " ".join(result.problems)
    result = check_mel_by_hand(_natural_log)
    assert result.status == "wrong" and "natural log" in " ".join(result.problems)
    assert "Not quite" in capsys.readouterr().out
