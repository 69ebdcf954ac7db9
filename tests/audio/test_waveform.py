"""Tests of course_lib.audio.waveform: validate_waveform and load_audio (chapter 03)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from course_lib import audio
from course_lib.audio import load_audio, validate_waveform

SR = 16000


def test_validate_waveform_returns_the_array_unchanged(noise) -> None:
    y = noise()
    assert validate_waveform(y, SR) is y
    clips = np.stack([y, y])
    assert validate_waveform(clips, 16000.0, expected_sr=SR, batch=True) is clips


def test_validate_waveform_never_guesses_a_2d_array(noise) -> None:
    stereo = np.stack([noise(seed=0), noise(seed=1)])
    for y in (stereo, stereo.T):
        with pytest.raises(ValueError, match="batch=True") as info:
            validate_waveform(y, SR)
        assert "librosa.to_mono" in str(info.value) and "y.mean(axis=1)" in str(info.value)


def test_expected_sr_is_checked_too(noise) -> None:
    with pytest.raises(TypeError, match="expected_sr"):
        validate_waveform(noise(), SR, expected_sr="16000")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="expected_sr must be positive"):
        validate_waveform(noise(), SR, expected_sr=0)


def test_the_old_name_is_gone() -> None:
    assert not hasattr(audio, "check_waveform"), "input validators are validate_*, not check_*"


def _wav(path: Path, y: np.ndarray, sr: int) -> Path:
    soundfile.write(path, y, sr)
    return path


def test_load_audio_mixes_to_mono_and_resamples(tmp_path: Path) -> None:
    sr_file = 22050
    t = np.arange(sr_file // 2) / sr_file
    left = 0.4 * np.sin(2 * np.pi * 440 * t)
    right = 0.2 * np.sin(2 * np.pi * 440 * t)
    path = _wav(tmp_path / "stereo.wav", np.stack([left, right], axis=1), sr_file)
    y = load_audio(path)
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(y.size - SR // 2) <= 1, "half a second at 16 kHz"
    assert 0.25 < np.abs(y).max() < 0.35, "the channels are averaged: (0.4 + 0.2) / 2"
    assert audio.log_mel(y, SR).shape[1] == 128
    y22 = load_audio(str(path), sr=sr_file, offset=0.1, duration=0.2)
    assert abs(y22.size - int(0.2 * sr_file)) <= 1


def test_load_audio_refuses_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "no_such_song.mp3"
    with pytest.raises(FileNotFoundError, match="no audio file at") as info:
        load_audio(missing)
    assert str(missing) in str(info.value) and "relative path" in str(info.value)


def test_load_audio_refuses_a_folder(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError, match="is a folder, not an audio file") as info:
        load_audio(tmp_path)
    assert str(tmp_path) in str(info.value) and "glob" in str(info.value)


@pytest.mark.parametrize(
    ("content", "name"),
    [(b"\x80\x04 pickled garbage", "song.mp3"), (b"not audio at all", "song.wav")],
)
def test_load_audio_refuses_undecodable_files(tmp_path: Path, content: bytes, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValueError, match="could not decode") as info:
        load_audio(path)
    assert str(path) in str(info.value) and "ffmpeg" in str(info.value)


def test_load_audio_refuses_bad_arguments(tmp_path: Path) -> None:
    path = _wav(tmp_path / "short.wav", np.zeros(1600), SR)
    with pytest.raises(ValueError, match="holds no audio after offset"):
        load_audio(path, offset=5.0)
    with pytest.raises(ValueError, match="offset"):
        load_audio(path, offset=-1.0)
    with pytest.raises(ValueError, match="duration"):
        load_audio(path, duration=0.0)
    with pytest.raises(TypeError, match="whole number"):
        load_audio(path, sr=16000.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="file name"):
        load_audio(b"song.wav")  # type: ignore[arg-type]
    assert load_audio(path).shape == (1600,)
