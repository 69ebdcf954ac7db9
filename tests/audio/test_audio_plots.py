"""Tests of course_lib.audio.plots: labelled figures, ax=None, bad input refused."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from course_lib import audio

matplotlib.use("Agg")

SR = 16000


def test_plot_helpers_return_labelled_figures(tone) -> None:
    import matplotlib.pyplot as plt

    y = tone(440.0)
    fig = audio.plot_waveform(y, SR)
    assert fig.axes[0].get_xlabel() == "time (s)"
    fig = audio.plot_spectrogram(audio.log_mel(y, SR), SR)
    assert "Hz" in fig.axes[0].get_ylabel()
    fig = audio.plot_spectrogram(audio.power_to_db(audio.stft_power(y)), SR, kind="linear")
    assert fig.axes[0].get_ylabel() == "frequency (Hz)"
    fig = audio.plot_mel_filterbank(SR)
    assert fig.axes[0].get_xlabel() == "frequency (Hz)"
    given, ax = plt.subplots()
    assert audio.plot_waveform(y, SR, ax=ax) is given
    plt.close("all")


def test_plot_helpers_refuse_bad_input(tone) -> None:
    with pytest.raises(ValueError, match="time-major"):
        audio.plot_spectrogram(np.zeros((2, 3, 4)), SR)
    with pytest.raises(ValueError, match="kind"):
        audio.plot_spectrogram(np.zeros((3, 4)), SR, kind="log")
    with pytest.raises(ValueError, match="hop_length"):
        audio.plot_spectrogram(np.zeros((3, 4)), SR, hop_length=0)
    with pytest.raises(ValueError, match="batch=True"):
        audio.plot_waveform(np.stack([tone(440.0), tone(220.0)]), SR)
    with pytest.raises(ValueError, match="every"):
        audio.plot_mel_filterbank(SR, every=0)
    with pytest.raises(ValueError, match="n_mels"):
        audio.plot_mel_filterbank(SR, n_mels=0)
