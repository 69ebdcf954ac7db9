"""Tests of course_lib.inspection.plots (chapter 05, sections 2-4)."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import inspection as ins


def test_plots_draw_filters_activations_and_purity(model, log_mels):
    kernel = model.get_layer("conv1").get_weights()[0]
    fig = ins.plot_conv_filters(kernel, filters=[0, 5, 7])
    image = fig.axes[0].images[0].get_array()
    assert image.shape == (log_mels.shape[2], 3 * 5 - 1)
    with pytest.raises(ValueError, match="filters must be"):
        ins.plot_conv_filters(kernel, filters=[99])
    acts = ins.layer_activations(model, "conv1", log_mels[:1])[0, :, 0]
    centres = ins.layer_frame_centres(model, "conv1", log_mels.shape[1])
    fig = ins.plot_activation_on_spectrogram(
        log_mels[0], acts, centres, sr=16000, hop_length=256, segment=(0, 8000)
    )
    assert len(fig.axes) == 2
    fig = ins.plot_purity_histograms(
        {"a": np.array([0.2, 0.3, np.nan]), "b": np.ones(3)}, chance=0.25
    )
    assert len(fig.axes[0].patches) > 0


def test_plots_refuse_nan_and_misshapen_input(log_mels):
    kernel = np.ones((4, 16, 3))
    kernel[1, 2, 0] = np.nan
    with pytest.raises(ValueError, match="kernel contains NaN.*retrain"):
        ins.plot_conv_filters(kernel)
    with pytest.raises(ValueError, match=r"kernel must be \(kernel_size, n_mels, n_filters\)"):
        ins.plot_conv_filters(kernel[0])
    acts, centres = np.ones(5), np.arange(5.0)
    spec = log_mels[0].copy()
    with pytest.raises(ValueError, match="must be one spectrogram"):
        ins.plot_activation_on_spectrogram(log_mels, acts, centres, sr=16000, hop_length=256)
    with pytest.raises(ValueError, match=r"one frame centre per activation step"):
        ins.plot_activation_on_spectrogram(spec, acts, centres[:4], sr=16000, hop_length=256)
    with pytest.raises(ValueError, match="activation or frame_centres contain NaN"):
        ins.plot_activation_on_spectrogram(
            spec, np.r_[acts[:4], np.nan], centres, sr=16000, hop_length=256
        )
    spec[3, 3] = np.nan
    with pytest.raises(ValueError, match="log_mel contains NaN"):
        ins.plot_activation_on_spectrogram(spec, acts, centres, sr=16000, hop_length=256)
    with pytest.raises(ValueError, match=r"at least one finite value \(none in \['b'\]\)"):
        ins.plot_purity_histograms({"a": np.ones(3), "b": np.full(3, np.nan)})
