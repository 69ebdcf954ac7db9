"""Tests of course_lib.convnet (chapter 04) and of the chapter 04 exercise checks."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from course_lib import convnet as C


# ----------------------------------------------------------------------------- architecture
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
    assert C.default_dtype_policy() in ("float32", "mixed_float16")
    assert isinstance(C.describe_device(), str)


# ----------------------------------------------------------------------------- pooling, losses
def test_global_temporal_pooling_matches_numpy() -> None:
    x = np.random.default_rng(1).normal(size=(3, 11, 5)).astype("float32")
    got = np.asarray(C.GlobalTemporalPooling(epsilon=0.0)(x))
    want = np.concatenate([x.mean(1), x.max(1), np.sqrt((x**2).sum(1))], axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    layer = C.GlobalTemporalPooling.from_config(C.GlobalTemporalPooling(epsilon=1e-3).get_config())
    assert layer.epsilon == 1e-3


def test_pooling_gradient_is_finite_for_a_silent_channel() -> None:
    import tensorflow as tf

    x = tf.zeros((2, 7, 3))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(C.GlobalTemporalPooling()(x))
    assert np.all(np.isfinite(tape.gradient(y, x).numpy()))


def test_losses_match_numpy() -> None:
    rng = np.random.default_rng(2)
    t, p = rng.normal(size=(6, 8)), rng.normal(size=(6, 8))
    tn = t / np.linalg.norm(t, axis=1, keepdims=True)
    pn = p / np.linalg.norm(p, axis=1, keepdims=True)
    np.testing.assert_allclose(np.asarray(C.unit_mse(t, p)), ((p - tn) ** 2).mean(1), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(C.cosine_distance(t, p)), 1 - (tn * pn).sum(1), rtol=1e-5)
    got = C.factor_metrics(p, t)
    assert got["mse"] == pytest.approx(((p - tn) ** 2).mean(), rel=1e-5)
    assert got["cosine_distance"] == pytest.approx((1 - (tn * pn).sum(1)).mean(), rel=1e-5)
    # predicting the mean of the training targets is the baseline the network must beat
    base = C.mean_baseline_metrics(t, t)
    assert base["mse"] == pytest.approx(tn.var(axis=0).mean(), rel=1e-5)


def test_normalize_factors_keeps_zero_rows() -> None:
    f = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(C.normalize_factors(f), [[0.6, 0.8], [0.0, 0.0]])
    with pytest.raises(ValueError, match="n_factors"):
        C.normalize_factors(np.ones(3))


# ----------------------------------------------------------------------------- splits, pipeline
def _tracks(n: int = 200, n_artists: int = 25) -> pd.DataFrame:
    return pd.DataFrame({"artist_id": np.arange(n) % n_artists, "is_new": np.arange(n) >= n - 20})


def test_split_by_artist_keeps_artists_on_one_side() -> None:
    tracks = _tracks()
    for by in ("track", "artist"):
        split = C.split_tracks(tracks, by=by, seed=3)
        union = np.concatenate(list(split.values()))
        assert np.array_equal(np.sort(union), np.arange(180))  # all warm tracks, once
        artists = {k: set(tracks.artist_id[v]) for k, v in split.items()}
        shared = artists["train"] & (artists["val"] | artists["test"])
        assert (len(shared) == 0) == (by == "artist")
        assert abs(len(split["train"]) - 144) <= 8
    assert np.array_equal(
        C.split_tracks(tracks, seed=3)["val"], C.split_tracks(tracks, seed=3)["val"]
    )
    with pytest.raises(ValueError, match="fractions"):
        C.split_tracks(tracks, fractions=(0.5, 0.5, 0.5))


def test_pipeline_crops_windows_shuffles_with_a_seed_and_centres_validation() -> None:
    rng = np.random.default_rng(4)
    mels = rng.normal(size=(10, 30, 3)).astype("float32")
    targets = rng.normal(size=(10, 2)).astype("float32")
    idx = np.arange(2, 10)

    def epoch(ds) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(x.numpy(), y.numpy()) for x, y in ds.unbatch()]

    ds = C.make_factor_dataset(mels, targets, idx, 12, batch_size=3, training=True, seed=7)
    first, second = epoch(ds), epoch(ds)
    again = epoch(
        C.make_factor_dataset(mels, targets, idx, 12, batch_size=3, training=True, seed=7)
    )
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(first, again))  # seeded
    unit = C.normalize_factors(targets)
    offsets = []
    for x, y in first + second:
        row = int(np.argmin(np.abs(unit - y).sum(1)))
        assert row in idx
        starts = [s for s in range(19) if np.array_equal(mels[row, s : s + 12], x)]
        assert len(starts) == 1  # every example is a window of its own track
        offsets.append(starts[0])
    assert len(set(offsets)) > 3  # random offsets
    order1 = [int(np.argmin(np.abs(unit - y).sum(1))) for _, y in first]
    order2 = [int(np.argmin(np.abs(unit - y).sum(1))) for _, y in second]
    assert sorted(order1) == sorted(idx.tolist()) and order1 != order2  # reshuffled each epoch
    val = epoch(C.make_factor_dataset(mels, targets, idx, 12))
    assert all(np.array_equal(x, mels[i, 9:21]) for (x, _), i in zip(val, idx))
    with pytest.raises(ValueError, match="longer"):
        C.make_factor_dataset(mels, targets, idx, 31)


# ----------------------------------------------------------------------------- training, io
def _toy_problem(n: int = 96, frames: int = 120, mels: int = 8, seed: int = 0):
    """Targets are a fixed linear map of each clip's average spectrum: learnable from audio."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, frames, mels)).astype("float32")
    x += rng.normal(size=(n, 1, mels)).astype("float32") * 2.0
    y = (x.mean(axis=1) @ rng.normal(size=(mels, 4))).astype("float32")
    return x, y


def test_course_preset_trains_and_the_loss_decreases() -> None:
    x, y = _toy_problem()
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


def test_predict_track_factors_averages_windows() -> None:
    x, _ = _toy_problem(n=3, frames=155)
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


def test_save_and_load_round_trip_in_safe_mode(tmp_path) -> None:
    x, y = _toy_problem()
    model = C.build_factor_convnet(110, 8, 4, preset="course", seed=0)
    C.train_factor_model(
        model, x, y, np.arange(80), np.arange(80, 96), epochs=1, batch_size=16, jit_compile=False
    )
    path = C.save_factor_model(model, tmp_path / "m.keras")
    loaded = C.load_factor_model(path)
    np.testing.assert_allclose(
        loaded.predict(x[:5, :110], verbose=0),
        model.predict(x[:5, :110], verbose=0),
        rtol=1e-5,
        atol=1e-6,
    )
    assert loaded.get_layer("input_norm").get_weights()[0].shape == (8,)
    with pytest.raises(ValueError, match=".keras"):
        C.save_factor_model(model, tmp_path / "m.h5")
    # safe mode refuses a model whose config carries Python code (a lambda)
    inp = keras.Input((4,))
    unsafe = keras.Model(inp, keras.layers.Lambda(lambda t: t * 2)(inp))
    unsafe.save(tmp_path / "unsafe.keras")
    with pytest.raises(ValueError, match="safe_mode"):
        C.load_factor_model(tmp_path / "unsafe.keras")


def test_course_model_path_lives_in_the_cache(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    path = C.course_model_path("small", 3, "cosine")
    assert path.parent == tmp_path / "convnet" and path.name.endswith("seed3_cosine.keras")
    with pytest.raises(ValueError, match="loss"):
        C.course_model_path("small", 0, "mae")


def test_genre_popularity_scores_are_each_users_genre_share() -> None:
    plays = sp.csr_matrix(np.array([[3, 1, 0, 0], [0, 0, 2, 2]]))
    genres = np.array([0, 1, 1, 0])
    got = C.genre_popularity_scores(plays, genres, np.array([2, 3]), seed=None)
    np.testing.assert_allclose(got, [[0.25, 0.75], [0.5, 0.5]])
    jittered = C.genre_popularity_scores(plays, genres, np.array([2, 3]), seed=1)
    np.testing.assert_allclose(jittered, got, atol=1e-6)
    assert jittered[1, 0] != jittered[1, 1]  # the tie is broken


# ----------------------------------------------------------------------------- exercise checks
def test_pooling_check_accepts_the_layer_and_rejects_wrong_axes() -> None:
    from keras import ops

    from course_lib.checks_audio import check_global_temporal_pooling

    class Right(keras.layers.Layer):
        def call(self, x):
            return ops.concatenate([ops.mean(x, 1), ops.max(x, 1), ops.sqrt(ops.sum(x * x, 1))], -1)

    class OverChannels(keras.layers.Layer):
        def call(self, x):
            return ops.concatenate([ops.mean(x, 2), ops.max(x, 2), ops.sqrt(ops.sum(x * x, 2))], -1)

    class RootMeanSquare(keras.layers.Layer):
        def call(self, x):
            return ops.concatenate(
                [ops.mean(x, 1), ops.max(x, 1), ops.sqrt(ops.mean(x * x, 1))], -1
            )

    class Stub(keras.layers.Layer):
        def call(self, x):
            raise NotImplementedError

    assert check_global_temporal_pooling(Right).passed
    assert check_global_temporal_pooling(OverChannels).status == "wrong"
    result = check_global_temporal_pooling(RootMeanSquare)
    assert result.status == "wrong" and "L2 norm" in " ".join(result.problems)
    assert check_global_temporal_pooling(Stub).status == "not implemented"


def test_cosine_check_accepts_the_loss_and_names_slips() -> None:
    from course_lib.checks_audio import check_cosine_distance_loss

    def right(y, f):
        yn = y / np.linalg.norm(y, axis=1, keepdims=True)
        return float(1 - np.mean(np.sum(yn * f / np.linalg.norm(f, axis=1, keepdims=True), 1)))

    def unnormalised_prediction(y, f):
        yn = y / np.linalg.norm(y, axis=1, keepdims=True)
        return float(1 - np.mean(np.sum(yn * f, 1)))

    def similarity(y, f):
        return 1 - right(y, f)

    def per_row(y, f):
        return 1 - np.sum(y * f, 1) / (np.linalg.norm(y, axis=1) * np.linalg.norm(f, axis=1))

    def stub(y, f):
        raise NotImplementedError

    assert check_cosine_distance_loss(right).passed
    result = check_cosine_distance_loss(unnormalised_prediction)
    assert result.status == "wrong" and "length of the prediction" in " ".join(result.problems)
    assert "similarity" in " ".join(check_cosine_distance_loss(similarity).problems)
    assert "per row" in " ".join(check_cosine_distance_loss(per_row).problems)
    assert check_cosine_distance_loss(stub).status == "not implemented"


def test_time_only_check_rejects_wrong_choices_and_shapes() -> None:
    from course_lib.checks_audio import check_time_only

    assert check_time_only(lambda: ("b", (596, 256), 131_328)).passed
    assert "transposition" not in check_time_only(lambda: ("c", (596, 256), 131_328)).problems[0]
    assert check_time_only(lambda: ("c", (596, 256), 131_328)).status == "wrong"
    assert "valid" in check_time_only(lambda: ("b", (599, 256), 131_328)).problems[0]
    assert "bias" in check_time_only(lambda: ("b", (596, 256), 131_072)).problems[0]
    assert "4 x 4" in check_time_only(lambda: ("b", (596, 256), 4352)).problems[0]

    def stub():
        raise NotImplementedError

    assert check_time_only(stub).status == "not implemented"


def test_fold_in_matches_the_textbook_item_update() -> None:
    from course_lib.als import user_update

    rng = np.random.default_rng(5)
    users = rng.normal(size=(30, 4))
    plays = sp.random(30, 6, density=0.3, random_state=5, format="csr") * 5
    plays.data = np.ceil(plays.data)
    got = C.fold_in_item_factors(users, plays, np.array([1, 4]), alpha=3.0, regularization=0.5)
    csc = plays.tocsc()
    for row, item in enumerate([1, 4]):
        col = csc[:, item]
        want = user_update(users, col.indices, col.data, 3.0, 0.5)
        np.testing.assert_allclose(got[row], want, rtol=1e-4, atol=1e-5)


def test_nearest_neighbour_copies_the_closest_training_track() -> None:
    features = np.array([[0.0], [10.0], [1.0], [8.0]])
    targets = np.array([[1.0, 0.0], [0.0, 2.0], [5.0, 5.0], [1.0, 1.0]])
    pred, nb = C.nearest_neighbour_factors(features, targets, np.array([0, 1]), np.array([2, 3]))
    assert nb.tolist() == [0, 1]
    np.testing.assert_allclose(pred, [[1.0, 0.0], [0.0, 1.0]])
    everyone = np.arange(4)
    _, nb = C.nearest_neighbour_factors(features, targets, everyone, everyone)
    assert nb.tolist() == [2, 3, 0, 1]  # never itself
    _, nb = C.nearest_neighbour_factors(features, targets, everyone, everyone, groups=[0, 1, 0, 1])
    assert nb.tolist() == [3, 2, 3, 2]  # never its own group


def test_cold_start_table_ranks_a_perfect_scorer_first() -> None:
    rng = np.random.default_rng(6)
    new = np.array([3, 4, 5, 6, 7])
    is_new = np.isin(np.arange(8), new)[None]
    future = sp.csr_matrix(((rng.random((20, 8)) < 0.3) & is_new).astype(np.int32))
    plays = sp.csr_matrix(((rng.random((20, 8)) < 0.5) & ~is_new).astype(np.int32))
    truth = future[:, new].toarray().astype(float)
    table = C.cold_start_table({"perfect": truth, "reversed": -truth}, plays, future, new, k=2)
    assert table.loc["perfect", "ndcg@2"] == pytest.approx(1.0)
    assert table.loc["reversed", "ndcg@2"] < 1.0
