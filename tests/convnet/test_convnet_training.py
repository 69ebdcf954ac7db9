"""Tests of course_lib.convnet.training: fitting and whole-track prediction (chapter 04), and
what both refuse (issue 17)."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import convnet as C


def test_course_preset_trains_and_the_loss_decreases(toy_problem) -> None:
    x, y = toy_problem()
    for loss in ("mse", "cosine"):
        model = C.build_factor_convnet(110, 8, 4, preset="course", seed=0)
        history = C.train_factor_model(
            model,
            x,
            y,
            np.arange(80),
            np.arange(80, 96),
            loss=loss,
            epochs=6,
            batch_size=16,
            learning_rate=3e-3,
            patience=10,
            jit_compile=False,  # XLA compilation costs more than these few steps
        )
        losses = history.history["loss"]
        assert losses[-1] < 0.8 * losses[0], losses
        assert history.seconds > 0
    with pytest.raises(ValueError, match="loss"):
        C.train_factor_model(model, x, y, np.arange(80), np.arange(80, 96), loss="mae")


def test_training_refuses_data_that_does_not_fit_the_model(toy_problem) -> None:
    x, y = toy_problem(n=20)
    model = C.build_factor_convnet(110, 8, 4, preset="course", seed=0)
    train, val = np.arange(15), np.arange(15, 20)
    wide = np.repeat(x, 2, axis=2)
    with pytest.raises(ValueError, match="16 mel bands but the model expects 8.*n_mels=8"):
        C.train_factor_model(model, wide, y, train, val)
    with pytest.raises(ValueError, match="100 frames; at least 110"):
        C.train_factor_model(model, x[:, :100], y, train, val)
    with pytest.raises(ValueError, match="targets has 5 factors .* predicts 4.*n_factors=5"):
        C.train_factor_model(model, x, np.hstack([y, y[:, :1]]), train, val)
    with pytest.raises(ValueError, match="log_mels has 20 tracks but targets has 19"):
        C.train_factor_model(model, x, y[:19], train, val)
    nan_x = x.copy()
    nan_x[3, 7, 2] = np.nan
    with pytest.raises(ValueError, match=r"log_mels contains NaN"):
        C.train_factor_model(model, nan_x, y, train, val)
    with pytest.raises(ValueError, match="val_idx is empty"):
        C.train_factor_model(model, x, y, train, np.array([], dtype=int))
    with pytest.raises(ValueError, match="train_idx indexes rows"):
        C.train_factor_model(model, x, y, np.arange(25), val)
    with pytest.raises(TypeError, match="epochs must be an integer"):
        C.train_factor_model(model, x, y, train, val, epochs=2.0)
    with pytest.raises(TypeError, match=r"learning_rate must be a number.*float\('1e-3'\)"):
        C.train_factor_model(model, x, y, train, val, learning_rate="1e-3")
    with pytest.raises(ValueError, match="learning_rate must be a number > 0"):
        C.train_factor_model(model, x, y, train, val, learning_rate=0.0)


def test_predict_track_factors_averages_windows(toy_problem) -> None:
    x, _ = toy_problem(n=3, frames=155)
    model = C.build_factor_convnet(110, 8, 4, preset="course", seed=1)
    got = C.predict_track_factors(model, x, window=110, hop=20)
    starts = [0, 20, 40, 45]  # 45 = last window, aligned with the end of the clip
    manual = np.mean([model.predict(x[:, s : s + 110], verbose=0) for s in starts], axis=0)
    np.testing.assert_allclose(got, manual, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        C.predict_track_factors(model, x[0], hop=20), got[0], rtol=1e-4, atol=1e-5
    )
    with pytest.raises(ValueError, match="longer"):
        C.predict_track_factors(model, x[:, :100])


def test_predict_refuses_nan_spectrograms(toy_problem) -> None:
    x, _ = toy_problem(n=3, frames=155)
    model = C.build_factor_convnet(110, 8, 4, preset="course", seed=1)
    some_nan = x.copy()
    some_nan[1, 40:60, 3] = np.nan
    words = r"log_mels contains NaN or infinite values \(spectrograms \[1\]\)"
    with pytest.raises(ValueError, match=words):
        C.predict_track_factors(model, some_nan)
    with pytest.raises(ValueError, match="recompute them from the audio"):
        C.predict_track_factors(model, np.full((155, 8), np.nan, np.float32))  # was: zeros


def test_predict_refuses_inputs_shorter_than_the_model_after_a_first_call(toy_problem) -> None:
    x, _ = toy_problem(n=3, frames=155)
    model = C.build_factor_convnet(110, 8, 4, preset="course", seed=1)
    before = C.predict_track_factors(model, x)  # the model has been called once
    for frames in (100, 50):  # used to give NaN / zeros / an AbortedError
        with pytest.raises(ValueError, match=f"has {frames} frames; at least 110 are needed"):
            C.predict_track_factors(model, x[:, :frames])
        with pytest.raises(ValueError, match=f"window={frames}.*exactly 110 frames"):
            C.predict_track_factors(model, x, window=frames)
    with pytest.raises(ValueError, match="window=150.*exactly 110 frames.*window=None"):
        C.predict_track_factors(model, x, window=150)
    with pytest.raises(ValueError, match="hop must be an integer >= 1"):
        C.predict_track_factors(model, x, hop=0)
    np.testing.assert_array_equal(C.predict_track_factors(model, x), before)


def test_predict_refuses_another_number_of_mel_bands(toy_problem) -> None:
    x, _ = toy_problem(n=2, frames=120, mels=16)
    model = C.build_factor_convnet(110, 8, 4, preset="course", seed=1)
    with pytest.raises(ValueError, match=r"16 mel bands but the model expects 8.*n_mels=8"):
        C.predict_track_factors(model, x)
    with pytest.raises(ValueError, match="must have shape"):
        C.predict_track_factors(model, x[0, :, 0])


def test_a_model_with_a_free_time_axis_needs_its_receptive_field() -> None:
    import keras

    inputs = keras.Input((None, 8))
    x = keras.layers.MaxPooling1D(2)(keras.layers.Conv1D(4, 4)(inputs))
    free = keras.Model(inputs, keras.layers.Dense(3)(C.GlobalTemporalPooling()(x)))
    # receptive field: pool (1 - 1) * 2 + 2 = 2, conv 2 + 3 = 5 frames
    clips = np.random.default_rng(0).normal(size=(2, 40, 8)).astype(np.float32)
    assert C.predict_track_factors(free, clips, window=5).shape == (2, 3)
    assert C.predict_track_factors(free, clips).shape == (2, 3)  # one window: the whole clip
    with pytest.raises(ValueError, match="receptive field: it needs at least 5 frames"):
        C.predict_track_factors(free, clips, window=4)
    with pytest.raises(ValueError, match="has 4 frames; at least 5 are needed"):
        C.predict_track_factors(free, clips[:, :4])


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_the_gpu_path_trains_on_the_cpu_too(toy_problem, policy: str) -> None:
    """Mixed precision and crops cut on the device (the GPU defaults) run anywhere."""
    x, y = toy_problem(n=40)
    model = C.build_factor_convnet(110, 8, 4, preset="course", seed=0, dtype_policy=policy)
    history = C.train_factor_model(
        model, x, y, np.arange(32), np.arange(32, 40), epochs=2, batch_size=16, on_device=True
    )
    assert np.all(np.isfinite(history.history["loss"] + history.history["val_loss"]))
    assert model.get_layer("conv1").compute_dtype == policy.removeprefix("mixed_")
    assert model.output.dtype == "float32"  # the factors stay float32


def test_predict_names_a_ragged_list_and_a_librosa_pair(toy_problem) -> None:
    x, _ = toy_problem(n=2, frames=155)
    model = C.build_factor_convnet(110, 8, 4, preset="course", seed=1)
    ragged = [x[0], x[1, :130]]
    words = r"log_mels is a ragged list.*\(155, 8\), \(130, 8\).*one track at a time"
    with pytest.raises(ValueError, match=words):
        C.predict_track_factors(model, ragged)
    waveform = np.zeros(22050 * 2, dtype=np.float32)
    with pytest.raises(TypeError, match=r"\(y, sr\) pair that librosa.load.*log_mel\(y, sr\)"):
        C.predict_track_factors(model, (waveform, 22050))
    # what the message suggests works
    one_by_one = [C.predict_track_factors(model, m) for m in ragged]
    assert [f.shape for f in one_by_one] == [(4,), (4,)]
