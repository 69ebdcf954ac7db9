"""Tests of course_lib.convnet.network: the architecture (chapter 04) and bad sizes (issue 17)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from course_lib import convnet as C


def test_paper_preset_matches_dieleman_2014() -> None:
    model = C.build_factor_convnet(599, 128, 40, preset="paper", dtype_policy="float32")
    names = [layer.name for layer in model.layers]
    assert tuple(names) == C.LAYER_NAMES
    kinds = [type(model.get_layer(n)).__name__ for n in names]
    assert kinds == [
        "InputLayer",
        "Normalization",
        "Conv1D",
        "MaxPooling1D",
        "Conv1D",
        "MaxPooling1D",
        "Conv1D",
        "MaxPooling1D",
        "Conv1D",
        "GlobalTemporalPooling",
        "Dense",
        "Dropout",
        "Dense",
        "Dropout",
        "Dense",
    ]
    filters = (256, 256, 512, 512)
    for i, n_filters in enumerate(filters, start=1):
        conv = model.get_layer(f"conv{i}")
        assert conv.kernel_size == (4,) and conv.filters == n_filters
        assert conv.activation.__name__ == "relu" and conv.padding == "valid"
    assert [model.get_layer(f"pool{i}").pool_size for i in (1, 2, 3)] == [(4,), (2,), (2,)]
    shapes = {n: tuple(model.get_layer(n).output.shape[1:]) for n in names[1:]}
    assert shapes["conv1"] == (596, 256) and shapes["pool1"] == (149, 256)
    assert shapes["conv2"] == (146, 256) and shapes["pool2"] == (73, 256)
    assert shapes["conv3"] == (70, 512) and shapes["pool3"] == (35, 512)
    assert shapes["conv4"] == (32, 512) and shapes["global_pool"] == (3 * 512,)
    assert shapes["dense1"] == (2048,) and shapes["dense2"] == (2048,)
    assert shapes["factors"] == (40,)
    assert model.get_layer("factors").activation.__name__ == "linear"
    assert model.get_layer("dropout1").rate == 0.5

    # parameters by formula: conv (k * c_in + 1) * c_out, dense (n_in + 1) * n_out
    conv_in = (128, *filters[:-1])
    expected = sum((4 * c_in + 1) * c_out for c_in, c_out in zip(conv_in, filters))
    expected += (3 * 512 + 1) * 2048 + (2048 + 1) * 2048 + (2048 + 1) * 40
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == expected == 9_393_704
    assert model.count_params() == expected + 2 * 128 + 1  # input_norm: mean, variance, count


def test_temporal_lengths_and_too_short_inputs() -> None:
    assert list(C.temporal_lengths(599, "paper").values()) == [596, 149, 146, 73, 70, 35, 32]
    with pytest.raises(ValueError, match="too short"):
        C.build_factor_convnet(30, 16, 4, preset="course")
    with pytest.raises(ValueError, match="unknown preset"):
        C.build_factor_convnet(599, 128, 40, preset="huge")


def test_the_minimum_length_is_the_shortest_that_keeps_a_time_step() -> None:
    # 103 frames: conv1 100, pool1 25, conv2 22, pool2 11, conv3 8, pool3 4, conv4 1
    assert min(C.temporal_lengths(103, "course").values()) == 1
    assert min(C.temporal_lengths(102, "course").values()) == 0
    with pytest.raises(ValueError, match="at least 103 frames"):
        C.build_factor_convnet(102, 16, 4)
    assert C.build_factor_convnet(103, 16, 4).output_shape == (None, 4)


def test_build_refuses_bad_sizes_with_the_argument_and_the_fix() -> None:
    for kwargs, error, words in [
        ({"n_frames": 256.0}, TypeError, "n_frames must be an integer"),
        ({"n_mels": "128"}, TypeError, "n_mels must be an integer"),
        ({"n_factors": True}, TypeError, "n_factors must be an integer"),
        ({"n_factors": 0}, ValueError, "n_factors must be an integer >= 1"),
        ({"n_mels": -3}, ValueError, "n_mels must be an integer >= 1"),
        ({"seed": 1.5}, TypeError, "seed must be an integer"),
        ({"dtype_policy": "float8"}, ValueError, "dtype_policy must be one of"),
    ]:
        with pytest.raises(error, match=words):
            C.build_factor_convnet(**{"n_frames": 110, "n_mels": 8, "n_factors": 4, **kwargs})


def test_min_input_frames_is_the_input_length_or_the_receptive_field() -> None:
    fixed = C.build_factor_convnet(110, 8, 4)
    assert C.min_input_frames(fixed) == 110
    inputs = keras.Input((None, 8))
    x = keras.layers.Conv1D(4, 4)(inputs)
    x = keras.layers.MaxPooling1D(2)(x)
    x = keras.layers.Conv1D(4, 4, dilation_rate=2)(x)
    x = keras.layers.Conv1D(4, 3, padding="same")(x)
    free = keras.Model(inputs, C.GlobalTemporalPooling()(x))
    # backwards from one step: dilated conv 1 + 3 * 2 = 7, pool 6 * 2 + 2 = 14, conv 14 + 3 = 17
    assert C.min_input_frames(free) == 17
    x17 = np.ones((1, 17, 8), np.float32)
    assert free.predict(x17, verbose=0).shape == (1, 12)


def test_course_preset_has_the_same_shape_and_fewer_parameters() -> None:
    course = C.build_factor_convnet(599, 128, 40, preset="course")
    assert [type(layer).__name__ for layer in course.layers] == [
        type(layer).__name__
        for layer in C.build_factor_convnet(599, 128, 40, preset="paper").layers
    ]
    assert course.count_params() < 200_000


def test_mixed_precision_policy_keeps_pooling_and_output_in_float32() -> None:
    model = C.build_factor_convnet(110, 16, 5, preset="course", dtype_policy="mixed_float16")
    assert model.get_layer("conv1").compute_dtype == "float16"
    assert model.get_layer("global_pool").compute_dtype == "float32"
    out = model(np.random.default_rng(0).normal(size=(2, 110, 16)).astype("float32"))
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    assert C.default_dtype_policy() in C.DTYPE_POLICIES


def test_device_is_read_from_the_keras_backend() -> None:
    gpus = C.gpu_names()
    assert (C.default_dtype_policy() == "float32") == (not gpus)  # mixed precision on a GPU
    description = C.describe_device()
    assert description.startswith("GPU: " if gpus else "CPU: ")
    assert f"(Keras backend: {keras.backend.backend()})" in description


def test_forward_flops_counts_the_convolutions_and_dense_layers() -> None:
    paper = C.build_factor_convnet(599, 128, 40, preset="paper")
    # output steps x kernel x c_in x c_out per convolution, n_in x n_out per dense layer
    macs = (
        596 * 4 * 128 * 256
        + 146 * 4 * 256 * 256
        + 70 * 4 * 256 * 512
        + 32 * 4 * 512 * 512
        + 3 * 512 * 2048
        + 2048 * 2048
        + 2048 * 40
    )
    assert C.forward_flops(paper) == 2 * macs  # about 0.39 GFLOP per example
    inputs = keras.Input(shape=(None, 8))
    free = keras.Model(inputs, keras.layers.Conv1D(4, 3)(inputs))
    with pytest.raises(ValueError, match="unknown output length"):
        C.forward_flops(free)
