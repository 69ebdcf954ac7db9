"""Tests of course_lib.audio.features: the log-mel front end of chapter 03 and its bad inputs."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from course_lib import audio
from course_lib.audio import log_mel

SR = 16000


def test_log_mel_matches_hand_computation_from_stft_and_filterbank(noise, tone) -> None:
    y = noise() + tone(440.0)
    power = np.abs(librosa.stft(y, n_fft=1024, hop_length=256)) ** 2  # (bins, frames)
    bank = librosa.filters.mel(sr=SR, n_fft=1024, n_mels=128)
    by_hand = (10 * np.log10(bank @ power + 1e-10)).T
    got = log_mel(y, SR)
    assert got.shape == (1 + len(y) // 256, 128)  # time-major
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, by_hand, atol=1e-3)


def test_three_steps_compose_to_log_mel(noise) -> None:
    y = noise(seed=1)
    steps = audio.power_to_db(audio.stft_power(y) @ audio.mel_filterbank(SR).T)
    np.testing.assert_allclose(steps, log_mel(y, SR), atol=1e-3)


def test_batch_equals_one_clip_at_a_time(noise) -> None:
    clips = np.stack([noise(seed=s) for s in range(3)])
    batch = log_mel(clips, SR, batch=True)
    assert batch.shape == (3, 1 + 8000 // 256, 128)
    for i in range(3):
        np.testing.assert_allclose(batch[i], log_mel(clips[i], SR), atol=1e-4)
    power = audio.stft_power(clips, batch=True)
    assert power.shape == (3, 1 + 8000 // 256, 513)
    np.testing.assert_allclose(power[1], audio.stft_power(clips[1]), rtol=1e-5, atol=1e-6)


def test_a_pure_tone_peaks_in_the_mel_band_of_its_frequency(tone) -> None:
    for freq in (300.0, 1000.0, 4000.0):
        spec = log_mel(tone(freq), SR)
        band = int(np.argmax(spec.mean(axis=0)))
        centres = librosa.mel_frequencies(n_mels=130, fmin=0, fmax=SR / 2)[1:-1]
        assert abs(centres[band] - freq) / freq < 0.1, (freq, centres[band])


@pytest.mark.parametrize(
    ("y", "sr", "error", "words"),
    [
        (np.zeros(0, np.float32), SR, ValueError, "empty"),
        (np.array([0.1, np.nan] * 600, np.float32), SR, ValueError, "NaN"),
        (np.array([0.1, np.inf] * 600, np.float32), SR, ValueError, "infinite"),
        (np.zeros(2000, np.int16), SR, TypeError, "floating-point"),
        (np.zeros(2000, bool), SR, TypeError, "floating-point"),
        (np.zeros((2, 2, 2000), np.float32), SR, ValueError, "shape"),
        (np.zeros(2000, np.float32), 0, ValueError, "positive"),
        (np.zeros(2000, np.float32), 16000.5, TypeError, "whole number"),
        (np.zeros(2000, np.float32), "16000", TypeError, "whole number"),
        (np.zeros(500, np.float32), SR, ValueError, "fewer than n_fft=1024"),
    ],
)
def test_bad_input_raises_a_clear_error(y: np.ndarray, sr: object, error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        log_mel(y, sr)  # type: ignore[arg-type]


def test_an_empty_batch_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        log_mel(np.zeros((2, 0), np.float32), SR, batch=True)


def test_wrong_sample_rate_is_refused_and_names_the_fix(noise) -> None:
    with pytest.raises(ValueError, match="librosa.resample"):
        log_mel(noise(), 22050, expected_sr=SR)
    assert log_mel(noise(), SR, expected_sr=SR).shape[1] == 128


# ------------------------------------------------------------------ stereo: never guessed
def test_channels_first_stereo_is_refused_with_the_fixes(noise) -> None:
    stereo = np.stack([noise(seed=0), noise(seed=1)])  # librosa.load(mono=False): (2, n)
    with pytest.raises(ValueError, match="shape \\(2, 8000\\)") as info:
        log_mel(stereo, SR)
    message = str(info.value)
    assert "librosa.to_mono(y)" in message and "y.mean(axis=0)" in message
    assert "batch=True" in message
    # the documented fix works, and so does saying "these are two clips"
    assert log_mel(librosa.to_mono(stereo), SR).shape == (32, 128)
    assert log_mel(stereo, SR, batch=True).shape == (2, 32, 128)


def test_channels_last_stereo_is_refused_with_the_fix(noise) -> None:
    stereo = np.stack([noise(seed=0), noise(seed=1)], axis=1)  # soundfile.read: (n, 2)
    with pytest.raises(ValueError, match="y.mean\\(axis=1\\)"):
        log_mel(stereo, SR)
    # even with batch=True it is not read as 8000 clips of two samples
    with pytest.raises(ValueError, match="fewer than n_fft") as info:
        log_mel(stereo, SR, batch=True)
    assert "(n_samples, channels)" in str(info.value) and "y.mean(axis=1)" in str(info.value)
    with pytest.raises(ValueError, match="y.mean\\(axis=1\\)"):
        audio.stft_power(stereo, batch=True)
    assert log_mel(stereo.mean(axis=1), SR).shape == (32, 128)


def test_batch_true_needs_a_2d_array(noise) -> None:
    with pytest.raises(ValueError, match="\\(n_clips, n_samples\\)"):
        log_mel(noise(), SR, batch=True)
    with pytest.raises(TypeError, match="batch"):
        log_mel(noise(), SR, batch="yes")  # type: ignore[arg-type]


# ------------------------------------------------------------------ settings
@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"n_mels": 0}, ValueError, "n_mels must be an integer >= 1"),
        ({"n_mels": -4}, ValueError, "n_mels"),
        ({"n_mels": 64.0}, TypeError, "n_mels must be an integer"),
        ({"n_mels": "128"}, TypeError, "n_mels"),
        ({"n_fft": 0}, ValueError, "n_fft must be an integer >= 2"),
        ({"n_fft": -1024}, ValueError, "n_fft"),
        ({"n_fft": 1024.5}, TypeError, "n_fft must be an integer"),
        ({"hop_length": 0}, ValueError, "hop_length must be an integer >= 1"),
        ({"hop_length": -256}, ValueError, "hop_length"),
        ({"hop_length": 25.6}, TypeError, "hop_length"),
        ({"fmin": 4000.0, "fmax": 2000.0}, ValueError, "fmin=4000 Hz must be below fmax=2000"),
        ({"fmin": 9000.0}, ValueError, "fmin=9000 Hz must be below fmax=8000"),
        ({"fmin": -1.0}, ValueError, "fmin must be a number >= 0"),
        ({"fmax": 11025.0}, ValueError, "above the Nyquist frequency sr / 2 = 8000 Hz"),
        ({"fmax": 0.0}, ValueError, "fmax must be a number > 0"),
        ({"fmax": "8000"}, TypeError, "fmax=float"),
    ],
)
def test_bad_settings_are_refused_by_name(noise, kwargs, error, words) -> None:
    with pytest.raises(error, match=words):
        log_mel(noise(), SR, **kwargs)
    if set(kwargs) & {"n_mels", "fmin", "fmax"} or "n_fft" in kwargs:
        mel_kwargs = {k: v for k, v in kwargs.items() if k != "hop_length"}
        with pytest.raises(error, match=words):
            audio.mel_filterbank(SR, **mel_kwargs)


def test_good_settings_still_pass(noise) -> None:
    spec = log_mel(noise(), SR, n_mels=40, n_fft=512, hop_length=128, fmin=50.0, fmax=8000.0)
    assert spec.shape == (1 + 8000 // 128, 40)
    assert audio.mel_filterbank(16000.0, n_fft=512, n_mels=40).shape == (40, 257)  # type: ignore


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"n_fft": 0}, ValueError, "n_fft"),
        ({"n_fft": 1024.0}, TypeError, "n_fft"),
        ({"hop_length": -1}, ValueError, "hop_length"),
    ],
)
def test_stft_power_refuses_bad_settings(noise, kwargs, error, words) -> None:
    with pytest.raises(error, match=words):
        audio.stft_power(noise(), **kwargs)


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.uint8])
def test_stft_power_refuses_integer_samples_like_log_mel(dtype) -> None:
    y = (np.random.default_rng(0).standard_normal(4000) * 1000).astype(dtype)
    for fn in (audio.stft_power, lambda x: log_mel(x, SR)):
        with pytest.raises(TypeError, match="floating-point") as info:
            fn(y)
        assert "y.astype(np.float32) / 32768" in str(info.value)


def test_power_to_db_refuses_complex_negative_and_nan() -> None:
    with pytest.raises(TypeError, match="np.abs\\(x\\) \\*\\* 2"):
        audio.power_to_db(np.ones(4, dtype=np.complex64))
    with pytest.raises(ValueError, match="non-negative"):
        audio.power_to_db(np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="NaN"):
        audio.power_to_db(np.array([1.0, np.nan]))
    np.testing.assert_allclose(audio.power_to_db(np.array([0.0, 1.0])), [-100.0, 0.0], atol=1e-6)


def test_frame_times_checks_its_arguments() -> None:
    np.testing.assert_allclose(audio.frame_times(3, SR, 256), [0, 0.016, 0.032])
    with pytest.raises(ValueError, match="n_frames"):
        audio.frame_times(-1, SR)
    with pytest.raises(TypeError, match="n_frames"):
        audio.frame_times(2.5, SR)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="hop_length"):
        audio.frame_times(3, SR, 0)


# ------------------------------------------------------------------ batched_log_mel
def test_batched_log_mel_from_array_and_from_a_loader(noise) -> None:
    clips = np.stack([noise(4000, seed=s) for s in range(5)])
    direct = log_mel(clips, SR, batch=True)
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


def test_batched_log_mel_refuses_what_it_cannot_read_unambiguously(noise) -> None:
    clips = np.stack([noise(4000, seed=s) for s in range(3)])
    with pytest.raises(ValueError, match="waves\\[ids\\]"):
        audio.batched_log_mel(clips, SR, ids=np.arange(2))
    with pytest.raises(ValueError, match="log_mel\\(y, sr\\)"):
        audio.batched_log_mel(clips[0], SR)
    with pytest.raises(ValueError, match="y.mean\\(axis=1\\)"):
        audio.batched_log_mel(clips.T, SR)  # (n_samples, channels)
    with pytest.raises(ValueError, match="shape \\(2, n_samples\\)"):
        audio.batched_log_mel(lambda ids: clips[0], SR, ids=np.arange(3), batch_size=2)
    with pytest.raises(ValueError, match="same number of samples"):
        audio.batched_log_mel(
            lambda ids: clips[ids, : 4000 - 600 * ids[0]], SR, ids=np.arange(3), batch_size=2
        )
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        audio.batched_log_mel(clips, SR, batch_size=0)
    with pytest.raises(TypeError, match="batch="):
        audio.batched_log_mel(clips, SR, batch=True)
    with pytest.raises(ValueError, match="no clips"):
        audio.batched_log_mel(clips[:0], SR)
    with pytest.raises(ValueError, match="n_mels"):
        audio.batched_log_mel(clips, SR, n_mels=0)
