"""Tests of course_lib.inspection.activations (chapter 05, section 1)."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import inspection as ins


def test_conv1_activations_equal_a_numpy_convolution(model, log_mels):
    n_frames = model.input_shape[1]
    acts = ins.layer_activations(model, "conv1", log_mels)
    kernel, bias = model.get_layer("conv1").get_weights()
    start = ins.crop_offset(model, log_mels.shape[1])
    assert start == 5
    x = log_mels[:, start : start + n_frames]  # input_norm is the identity before adapt()
    t_out = n_frames - kernel.shape[0] + 1
    windows = np.stack([x[:, t : t + kernel.shape[0]] for t in range(t_out)], axis=1)
    expected = np.maximum(np.einsum("ntkm,kmf->ntf", windows, kernel) + bias, 0)
    assert acts.shape == (6, t_out, kernel.shape[2])
    np.testing.assert_allclose(acts, expected, rtol=1e-4, atol=1e-4)


def test_uncropped_activations_cover_the_whole_clip(model, log_mels):
    full = ins.layer_activations(model, ["conv1", "conv2"], log_mels, crop=False)
    cropped = ins.layer_activations(model, ["conv1", "conv2"], log_mels)
    total = log_mels.shape[1]
    assert full["conv1"].shape[1] == total - 3
    start = ins.crop_offset(model, total)  # conv1 of the crop = the same steps of the full clip
    np.testing.assert_allclose(
        full["conv1"][:, start : start + cropped["conv1"].shape[1]], cropped["conv1"], atol=1e-4
    )
    centres = ins.layer_frame_centres(model, "conv2", total, crop=False)
    assert centres.shape == (full["conv2"].shape[1],) and centres[0] == 9.0


def test_several_layers_share_a_pass_and_factors_match_predict(model, log_mels):
    n_frames = model.input_shape[1]
    acts = ins.layer_activations(model, ["conv2", "dense2", "factors"], log_mels)
    assert set(acts) == {"conv2", "dense2", "factors"}
    assert acts["conv2"].ndim == 3 and acts["dense2"].shape == (6, 128)
    start = ins.crop_offset(model, log_mels.shape[1])
    direct = model.predict(log_mels[:, start : start + n_frames], verbose=0)
    np.testing.assert_allclose(acts["factors"], direct, rtol=1e-4, atol=1e-5)
    single = ins.layer_activations(model, "dense2", log_mels[0])
    np.testing.assert_allclose(single, acts["dense2"][:1], rtol=1e-4, atol=1e-5)


def test_bad_layer_names_and_inputs_raise_clear_errors(model, log_mels):
    with pytest.raises(ValueError, match="valid layer names: .*conv1.*dense2"):
        ins.layer_activations(model, "conv9", log_mels)
    with pytest.raises(ValueError, match="no layer 'conv9'; valid layer names: .*conv1"):
        ins.layer_frame_centres(model, "conv9", log_mels.shape[1])
    with pytest.raises(TypeError, match="layer_name"):
        ins.layer_activations(model, [3], log_mels)
    with pytest.raises(ValueError, match="at least one layer name"):
        ins.layer_activations(model, [], log_mels)
    with pytest.raises(ValueError, match="has 8 mel bands but the model expects 16"):
        ins.layer_activations(model, "conv1", log_mels[:, :, :8])
    with pytest.raises(ValueError, match="50 frames; at least 112 are needed"):
        ins.layer_activations(model, "conv1", log_mels[:, :50])
    with pytest.raises(ValueError, match="reads 112 frames"):
        ins.crop_offset(model, 50)
    with pytest.raises(ValueError, match="no time axis"):
        ins.layer_frame_centres(model, "dense1")
    with pytest.raises(ValueError, match=r"log_mels must have shape \(n_tracks"):
        ins.layer_activations(model, "conv1", log_mels[0, 0])
    with pytest.raises(TypeError, match="batch_size must be an integer"):
        ins.layer_activations(model, "conv1", log_mels, batch_size=2.5)


def test_nan_spectrograms_are_refused_before_the_model_runs(model, log_mels):
    broken = log_mels.copy()
    broken[3, 40, 2] = np.nan
    with pytest.raises(ValueError, match=r"log_mels contains NaN.*spectrograms \[3\].*recompute"):
        ins.layer_activations(model, "conv1", broken)
    broken[3, 40, 2] = -np.inf  # log of zero power without the floor
    with pytest.raises(ValueError, match="NaN or infinite"):
        ins.layer_activations(model, "dense2", broken, crop=False)


def test_a_model_with_nan_weights_is_refused(log_mels):
    from course_lib.convnet import build_factor_convnet

    broken = build_factor_convnet(112, 16, 6, preset="course", seed=0)
    kernel, bias = broken.get_layer("conv1").get_weights()
    kernel[0, 0, 1] = np.nan  # as after a diverged training run
    broken.get_layer("conv1").set_weights([kernel, bias])
    with pytest.raises(ValueError, match=r"layer 'conv1' produced NaN.*retrain"):
        ins.layer_activations(broken, "conv1", log_mels)


def test_clips_shorter_than_the_receptive_field_are_refused_without_crop(model, log_mels):
    with pytest.raises(ValueError, match=r"10 frames, fewer than the \d+ frames that layer"):
        ins.layer_activations(model, "conv3", log_mels[:, :10], crop=False)
    with pytest.raises(ValueError, match="receptive field"):
        ins.layer_frame_centres(model, "conv3", 10, crop=False)
    assert ins.layer_activations(model, "conv1", log_mels[:, :10], crop=False).shape[1] == 7


@pytest.mark.parametrize("layer", ["conv1", "conv2", "conv3"])
def test_frame_centres_locate_an_impulse(model, log_mels, layer):
    """Steps that react to a change at frame f are those whose receptive field covers f."""
    total = log_mels.shape[1]
    centres = ins.layer_frame_centres(model, layer, total)
    base = ins.layer_activations(model, layer, log_mels[:1])[0]
    assert centres.shape == (base.shape[0],)
    half = {"conv1": 1.5, "conv2": 9.0, "conv3": 23.0}[layer]  # receptive fields 4, 19, 47
    for frame in (30, 61, 90):
        poked = log_mels[:1].copy()
        poked[0, frame] += 50.0
        changed = np.abs(ins.layer_activations(model, layer, poked)[0] - base).max(axis=1) > 1e-4
        assert changed.any()
        assert np.all(np.abs(centres[changed] - frame) <= half + 1e-9)


def test_track_scores_reduce_over_time_and_refuse_nan_activations():
    acts = np.zeros((3, 4, 2))
    acts[0, 1, 0] = 8.0
    acts[1, :, 0] = 3.0
    np.testing.assert_allclose(ins.track_scores(acts, "max")[:, 0], [8, 3, 0])
    np.testing.assert_allclose(ins.track_scores(acts, "mean")[:, 0], [2, 3, 0])
    assert ins.track_scores(acts[:, 0], "mean").shape == (3, 2)
    acts[2, 3, 1] = np.nan
    with pytest.raises(ValueError, match=r"activations contain NaN.*tracks \[2\].*retrain"):
        ins.track_scores(acts)
    with pytest.raises(ValueError, match="mode must be one of 'max', 'mean'"):
        ins.track_scores(acts[:2], "median")
    with pytest.raises(ValueError, match=r"\(n_tracks, time, filters\) or \(n_tracks, units\)"):
        ins.track_scores(np.zeros(5))
    with pytest.raises(ValueError, match="empty"):
        ins.track_scores(np.zeros((0, 4)))


def test_top_steps_scores_lie_between_the_peak_and_the_mean():
    rng = np.random.default_rng(0)
    acts = rng.gamma(1.0, 1.0, size=(5, 9, 3)).astype(np.float32)
    np.testing.assert_allclose(ins.top_steps_scores(acts, 1), ins.track_scores(acts, "max"))
    np.testing.assert_allclose(
        ins.top_steps_scores(acts, 9), ins.track_scores(acts, "mean"), rtol=1e-6
    )
    three = ins.top_steps_scores(acts, 3)
    np.testing.assert_allclose(three, np.sort(acts, axis=1)[:, -3:].mean(axis=1), rtol=1e-6)
    assert three.dtype == np.float64 and three.shape == (5, 3)
    assert np.all(three <= ins.track_scores(acts, "max") + 1e-6)
    assert np.all(three >= ins.track_scores(acts, "mean") - 1e-6)
    with pytest.raises(ValueError, match="needs activations with a time axis"):
        ins.top_steps_scores(acts[:, 0], 1)
    with pytest.raises(ValueError, match="n_steps=10 is larger than the 9 time steps"):
        ins.top_steps_scores(acts, 10)
    with pytest.raises(TypeError, match="n_steps must be an integer"):
        ins.top_steps_scores(acts, 2.5)
    acts[4, 0, 0] = np.inf
    with pytest.raises(ValueError, match=r"NaN or infinite.*tracks \[4\]"):
        ins.top_steps_scores(acts, 2)
