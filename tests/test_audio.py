"""Tests of course_lib.audio (chapter 03) and of the chapter 03 exercise check."""

from __future__ import annotations

import librosa
import matplotlib
import numpy as np
import pytest

from course_lib import audio
from course_lib.audio import log_mel

matplotlib.use("Agg")

SR = 16000


def _tone(freq: float, seconds: float = 0.5, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _noise(n: int = 8000, seed: int = 0) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal(n)).astype(np.float32)


def test_log_mel_matches_hand_computation_from_stft_and_filterbank() -> None:
    y = _noise() + _tone(440.0)
    power = np.abs(librosa.stft(y, n_fft=1024, hop_length=256)) ** 2  # (bins, frames)
    bank = librosa.filters.mel(sr=SR, n_fft=1024, n_mels=128)
    by_hand = (10 * np.log10(bank @ power + 1e-10)).T
    got = log_mel(y, SR)
    assert got.shape == (1 + len(y) // 256, 128)  # time-major
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, by_hand, atol=1e-3)


def test_three_steps_compose_to_log_mel() -> None:
    y = _noise(seed=1)
    steps = audio.power_to_db(audio.stft_power(y) @ audio.mel_filterbank(SR).T)
    np.testing.assert_allclose(steps, log_mel(y, SR), atol=1e-3)


def test_batch_equals_one_clip_at_a_time() -> None:
    clips = np.stack([_noise(seed=s) for s in range(3)])
    batch = log_mel(clips, SR)
    assert batch.shape == (3, 1 + 8000 // 256, 128)
    for i in range(3):
        np.testing.assert_allclose(batch[i], log_mel(clips[i], SR), atol=1e-4)


def test_a_pure_tone_peaks_in_the_mel_band_of_its_frequency() -> None:
    for freq in (300.0, 1000.0, 4000.0):
        spec = log_mel(_tone(freq), SR)
        band = int(np.argmax(spec.mean(axis=0)))
        centres = librosa.mel_frequencies(n_mels=130, fmin=0, fmax=SR / 2)[1:-1]
        assert abs(centres[band] - freq) / freq < 0.1, (freq, centres[band])


@pytest.mark.parametrize(
    ("y", "sr", "error", "words"),
    [
        (np.zeros(0, np.float32), SR, ValueError, "empty"),
        (np.zeros((2, 0), np.float32), SR, ValueError, "empty"),
        (np.array([0.1, np.nan] * 600, np.float32), SR, ValueError, "NaN"),
        (np.array([0.1, np.inf] * 600, np.float32), SR, ValueError, "infinite"),
        (np.zeros(2000, np.int16), SR, TypeError, "floating-point"),
        (np.zeros(2000, bool), SR, TypeError, "floating-point"),
        (np.zeros((2, 2, 2000), np.float32), SR, ValueError, "shape"),
        (np.zeros(2000, np.float32), 0, ValueError, "positive"),
        (np.zeros(2000, np.float32), 16000.5, TypeError, "whole number"),
        (np.zeros(2000, np.float32), "16000", TypeError, "whole number"),
    ],
)
def test_bad_input_raises_a_clear_error(y: np.ndarray, sr: object, error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        log_mel(y, sr)  # type: ignore[arg-type]


def test_wrong_sample_rate_is_refused_and_names_the_fix() -> None:
    with pytest.raises(ValueError, match="librosa.resample"):
        log_mel(_noise(), 22050, expected_sr=SR)
    assert log_mel(_noise(), SR, expected_sr=SR).shape[1] == 128


def test_batched_log_mel_from_array_and_from_a_loader() -> None:
    clips = np.stack([_noise(4000, seed=s) for s in range(5)])
    direct = log_mel(clips, SR)
    np.testing.assert_allclose(audio.batched_log_mel(clips, SR, batch_size=2), direct, atol=1e-5)
    calls = []

    def loader(ids: np.ndarray) -> np.ndarray:
        calls.append(len(ids))
        return clips[ids]

    got = audio.batched_log_mel(loader, SR, ids=np.arange(5), batch_size=2)
    np.testing.assert_allclose(got, direct, atol=1e-5)
    assert calls == [2, 2, 1]
    with pytest.raises(ValueError, match="ids"):
        audio.batched_log_mel(loader, SR)


def test_cached_array_computes_once_and_keys_on_params(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    calls = []

    def compute() -> np.ndarray:
        calls.append(1)
        return np.arange(6.0).reshape(2, 3)

    a = audio.cached_array("demo", compute, params={"n_mels": 128})
    b = audio.cached_array("demo", compute, params={"n_mels": 128})
    c = audio.cached_array("demo", compute, params={"n_mels": 64})
    assert len(calls) == 2
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    assert len(list((tmp_path / "audio").glob("demo-*.npy"))) == 2
    assert not list((tmp_path / "audio").glob("*.tmp*"))
    with pytest.raises(ValueError, match="file stem"):
        audio.cached_array("a/b", compute)


def test_plot_helpers_return_labelled_figures() -> None:
    y = _tone(440.0)
    fig = audio.plot_waveform(y, SR)
    assert fig.axes[0].get_xlabel() == "time (s)"
    fig = audio.plot_spectrogram(log_mel(y, SR), SR)
    assert "Hz" in fig.axes[0].get_ylabel()
    fig = audio.plot_mel_filterbank(SR)
    assert fig.axes[0].get_xlabel() == "frequency (Hz)"
    with pytest.raises(ValueError, match="time-major"):
        audio.plot_spectrogram(np.zeros((2, 3, 4)), SR)
    np.testing.assert_allclose(audio.frame_times(3, SR, 256), [0, 0.016, 0.032])


# ----------------------------------------------------------------------------- exercise check
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
    from course_lib.checks_audio import check_mel_by_hand

    assert check_mel_by_hand(_correct).passed
    assert check_mel_by_hand(_stub).status == "not implemented"
    result = check_mel_by_hand(_transposed)
    assert result.status == "wrong" and "time-major" in " ".join(result.problems)
    result = check_mel_by_hand(_magnitude)
    assert result.status == "wrong" and "magnitudes" in " ".join(result.problems)
    assert check_mel_by_hand(_natural_log).status == "wrong"
    assert "Not quite" in capsys.readouterr().out
