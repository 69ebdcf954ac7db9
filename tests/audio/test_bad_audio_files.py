"""load_audio on files that lie (issue 25): damaged headers, cut files, NaN, wrong scale."""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile

from course_lib.audio import load_audio

SR = 16000


def _tone(seconds: float = 1.0, sr: int = SR, scale: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return scale * np.sin(2 * np.pi * 440.0 * t)


def _wav(path: Path, y: np.ndarray, sr: int = SR, subtype: str = "PCM_16") -> Path:
    soundfile.write(path, y, sr, subtype=subtype)
    return path


def _with_header_rate(path: Path, rate: int) -> Path:
    """Rewrite the rate and byte rate of the fmt chunk that soundfile writes first."""
    raw = bytearray(path.read_bytes())
    assert raw[12:16] == b"fmt "
    raw[24:28] = struct.pack("<I", rate)
    raw[28:32] = struct.pack("<I", rate * 2)
    path.write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize("rate", [1, 10, 900_000])
def test_an_absurd_header_rate_is_refused_before_decoding(tmp_path, rate) -> None:
    path = _with_header_rate(_wav(tmp_path / "liar.wav", _tone()), rate)
    with pytest.raises(ValueError) as info:
        load_audio(path)
    message = str(info.value)
    assert f"the header of {path}" in message and f"{rate} Hz is not an audio rate" in message
    assert "Fix: re-export it" in message


def test_an_absurd_target_rate_is_refused(tmp_path) -> None:
    path = _wav(tmp_path / "fine.wav", _tone())
    with pytest.raises(ValueError, match=r"sr: a sample rate of 10 Hz is not an audio rate"):
        load_audio(path, sr=10)


def test_a_wav_cut_short_is_named_in_a_warning(tmp_path) -> None:
    from course_lib.audio.files import wav_shortfall

    full = _wav(tmp_path / "full.wav", _tone())
    assert wav_shortfall(full) is None
    cut = tmp_path / "cut.wav"
    raw = full.read_bytes()
    cut.write_bytes(raw[: int(0.4 * len(raw))])
    declared, present, per_second = wav_shortfall(cut)
    assert declared == 2 * SR and per_second == 2 * SR and present < 0.4 * declared
    with pytest.warns(UserWarning, match=r"cut.wav is cut short.*1\.00 s of audio") as caught:
        y = load_audio(cut)
    assert caught[0].filename == __file__, "the warning points at the caller's line"
    assert 0.3 * SR < y.size < 0.4 * SR


def test_a_streaming_placeholder_size_is_not_called_cut_short(tmp_path) -> None:
    from course_lib.audio.files import wav_shortfall

    path = _wav(tmp_path / "stream.wav", _tone(0.1))
    raw = bytearray(path.read_bytes())
    data = raw.index(b"data")
    raw[data + 4 : data + 8] = struct.pack("<I", 0xFFFFFFFF)
    path.write_bytes(bytes(raw))
    assert wav_shortfall(path) is None


def test_nan_samples_raise_a_value_error_that_names_the_file(tmp_path) -> None:
    y = _tone()
    y[1600] = np.nan
    for sr_file in (SR, 22050):  # with and without resampling (librosa's ParameterError)
        path = _wav(tmp_path / f"nan{sr_file}.wav", y[: sr_file // 2], sr_file, "FLOAT")
        with pytest.raises(ValueError, match=r"nan\d+\.wav holds 1 NaN or infinite samples"):
            load_audio(path)


def test_an_empty_file_and_an_empty_path_are_called_so(tmp_path) -> None:
    path = tmp_path / "x.wav"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"x.wav is empty \(0 bytes\)"):
        load_audio(path)
    with pytest.raises(ValueError, match=r"path is empty \(''; an unset variable\?\)"):
        load_audio("")


@pytest.mark.parametrize(
    ("scale", "subtype", "cause"),
    [
        (32767.0, "FLOAT", r"16-bit integer samples.*divide by 32768"),
        (300.0, "FLOAT", r"float samples written at another scale"),
    ],
)
def test_audio_at_the_wrong_scale_draws_a_warning(tmp_path, scale, subtype, cause) -> None:
    y = np.round(_tone(scale=scale)) if scale > 1000 else _tone(scale=scale)
    path = _wav(tmp_path / "loud.wav", y, subtype=subtype)
    with pytest.warns(UserWarning, match=r"loud.wav reaches .*dB too loud.*" + cause):
        load_audio(path)


def test_audio_at_full_scale_draws_no_warning(tmp_path) -> None:
    path = _wav(tmp_path / "fine.wav", _tone(scale=0.99))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        y = load_audio(path)
    assert y.dtype == np.float32 and y.size == SR
