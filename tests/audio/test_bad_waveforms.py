"""Waveforms and spectrograms handed over wrongly (issue 25): ragged lists, (y, sr) pairs,
the wrong scale, too many mel bands, librosa's layout in plot_spectrogram."""

from __future__ import annotations

import warnings

import librosa
import matplotlib
import numpy as np
import pytest

from course_lib import audio

matplotlib.use("Agg")

SR = 16000


@pytest.mark.parametrize(
    "entry",
    [
        lambda y: audio.log_mel(y, SR),
        lambda y: audio.stft_power(y),
        lambda y: audio.validate_waveform(y, SR),
        lambda y: audio.plot_waveform(y, SR),
    ],
)
def test_the_pair_from_librosa_load_is_refused_with_the_fix(entry, tone) -> None:
    with pytest.raises(TypeError, match=r"the \(y, sr\) that librosa.load returns.*y, sr ="):
        entry((tone(440.0), SR))


@pytest.mark.parametrize(
    "entry",
    [
        lambda y: audio.log_mel(y, SR, batch=True),
        lambda y: audio.stft_power(y, batch=True),
        lambda y: audio.batched_log_mel(y, SR),
    ],
)
def test_a_ragged_list_of_clips_is_refused_with_the_fix(entry, tone) -> None:
    clips = [tone(440.0, 0.5), tone(220.0, 0.3)]
    with pytest.raises(ValueError) as info:
        entry(clips)
    message = str(info.value)
    assert "list of 2 clips of different lengths (8000, 4800 samples)" in message
    assert "np.stack" in message and "inhomogeneous" not in message


@pytest.mark.parametrize(
    ("factor", "cause"),
    [
        (32767.0, r"16-bit integer.*y / 32768"),
        (300.0, r"another scale"),
        (2**31 - 1, r"2 \*\* 31"),
    ],
)
def test_waveforms_far_above_full_scale_draw_a_warning(tone, factor, cause) -> None:
    y = np.round(tone(440.0) * 2 * factor) if factor > 1000 else tone(440.0) * 2 * factor
    y = y.astype(np.float64)
    for entry in (lambda: audio.log_mel(y, SR), lambda: audio.stft_power(y)):
        with pytest.warns(UserWarning, match=r"y reaches .*dB too loud.*" + cause) as caught:
            entry()
        assert caught[0].filename == __file__, "the warning points at the caller's line"


def test_a_waveform_at_full_scale_draws_no_warning(tone) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        audio.log_mel(tone(440.0) * 1.9, SR)  # a little above 1 is ordinary (resampling)


def test_more_mel_bands_than_the_fft_fills_are_named_with_the_largest_that_fits(noise) -> None:
    from course_lib.audio.features import max_filled_mels

    best = max_filled_mels(SR, 256)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        audio.log_mel(noise(), SR, n_fft=256, n_mels=best)
        librosa.filters.mel(sr=SR, n_fft=256, n_mels=best)  # librosa agrees that it fits
    with pytest.warns(UserWarning, match="Empty filters"):
        librosa.filters.mel(sr=SR, n_fft=256, n_mels=best + 1)
    for entry in (
        lambda: audio.log_mel(noise(), SR, n_fft=256, n_mels=128),
        lambda: audio.mel_filterbank(SR, n_fft=256, n_mels=128),
    ):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            entry()
        messages = [str(w.message) for w in caught]
        assert len(messages) == 1, messages  # ours, not librosa's as well
        assert "n_mels=128 is more mel bands than n_fft=256" in messages[0]
        assert f"Fix: pass n_mels <= {best}" in messages[0]
    with pytest.warns(UserWarning, match="more mel bands"):
        spec = audio.log_mel(noise(), SR, n_fft=256, n_mels=128)
    assert (spec == spec.min()).all(axis=0).any(), "some bands are really empty"


def test_plot_spectrogram_refuses_librosa_layout_and_wrong_bin_counts(tone) -> None:
    y = tone(440.0, 3.0)
    mel = audio.log_mel(y, SR)  # (188, 128)
    linear = audio.power_to_db(audio.stft_power(y))  # (188, 513)
    with pytest.raises(ValueError, match=r"librosa's \(n_bins, n_frames\).*spec_db.T"):
        audio.plot_spectrogram(mel.T, SR)
    with pytest.raises(ValueError, match=r"librosa's \(n_bins, n_frames\).*spec_db.T"):
        audio.plot_spectrogram(mel.T, SR, n_mels=128)
    with pytest.raises(ValueError, match=r"librosa's \(n_bins, n_frames\).*spec_db.T"):
        audio.plot_spectrogram(linear.T, SR, kind="linear")
    with pytest.raises(ValueError, match=r"n_fft=512 has 1 \+ n_fft // 2 = 257.*n_fft=1024 gives"):
        audio.plot_spectrogram(linear, SR, kind="linear", n_fft=512)
    with pytest.raises(ValueError, match=r"513 bands per frame.*pass kind='linear'"):
        audio.plot_spectrogram(linear, SR)
    with pytest.raises(ValueError, match=r"128 bands per frame.*but n_mels=64"):
        audio.plot_spectrogram(mel, SR, n_mels=64)
    odd = audio.log_mel(y, SR, n_mels=100)[:128]  # 128 frames of 100 bands: ambiguous
    with pytest.raises(ValueError, match=r"pass n_mels=100"):
        audio.plot_spectrogram(odd, SR)
    audio.plot_spectrogram(odd, SR, n_mels=100)
    audio.plot_spectrogram(mel, SR, n_mels=128)
    audio.plot_spectrogram(mel[:40], SR)  # a short clip: fewer frames than bands
    import matplotlib.pyplot as plt

    plt.close("all")
