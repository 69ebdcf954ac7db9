"""Tests of course_lib.inspection (chapter 05) and its exercise checks."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.metrics import mutual_info_score  # noqa: E402
from sklearn.metrics.pairwise import cosine_similarity  # noqa: E402
from sklearn.neighbors import NearestNeighbors  # noqa: E402

from course_lib import checks  # noqa: E402
from course_lib import inspection as ins  # noqa: E402

N_FRAMES, N_MELS, N_FACTORS = 112, 16, 6


@pytest.fixture(scope="module")
def model():
    from course_lib.convnet import build_factor_convnet

    return build_factor_convnet(N_FRAMES, N_MELS, N_FACTORS, preset="course", seed=0)


@pytest.fixture(scope="module")
def log_mels():
    rng = np.random.default_rng(0)
    return rng.normal(size=(6, N_FRAMES + 10, N_MELS)).astype(np.float32)


# --------------------------------------------------------------------------- activations
def test_conv1_activations_equal_a_numpy_convolution(model, log_mels):
    acts = ins.layer_activations(model, "conv1", log_mels)
    kernel, bias = model.get_layer("conv1").get_weights()
    start = ins.crop_offset(model, log_mels.shape[1])
    assert start == 5
    x = log_mels[:, start : start + N_FRAMES]  # input_norm is the identity before adapt()
    t_out = N_FRAMES - kernel.shape[0] + 1
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
    acts = ins.layer_activations(model, ["conv2", "dense2", "factors"], log_mels)
    assert set(acts) == {"conv2", "dense2", "factors"}
    assert acts["conv2"].ndim == 3 and acts["dense2"].shape == (6, 128)
    start = ins.crop_offset(model, log_mels.shape[1])
    direct = model.predict(log_mels[:, start : start + N_FRAMES], verbose=0)
    np.testing.assert_allclose(acts["factors"], direct, rtol=1e-4, atol=1e-5)
    single = ins.layer_activations(model, "dense2", log_mels[0])
    np.testing.assert_allclose(single, acts["dense2"][:1], rtol=1e-4, atol=1e-5)


def test_bad_layer_names_and_inputs_raise_clear_errors(model, log_mels):
    with pytest.raises(ValueError, match="valid layer names: .*conv1.*dense2"):
        ins.layer_activations(model, "conv9", log_mels)
    with pytest.raises(TypeError, match="layer_name"):
        ins.layer_activations(model, [3], log_mels)
    with pytest.raises(ValueError, match="mel bands"):
        ins.layer_activations(model, "conv1", log_mels[:, :, :8])
    with pytest.raises(ValueError, match="reads 112 frames"):
        ins.layer_activations(model, "conv1", log_mels[:, :50])
    with pytest.raises(ValueError, match="no time axis"):
        ins.layer_frame_centres(model, "dense1")


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


# --------------------------------------------------------------------------- playlists
def _spike_vs_sustained():
    acts = np.zeros((4, 10, 2), dtype=np.float32)
    acts[0, 7, 1] = 9.0  # one loud moment
    acts[1, :, 1] = 2.0  # always on
    acts[2, :, 1] = 1.0
    acts[2, 3, 1] = 5.0
    return acts


def test_max_and_mean_playlists_differ_as_in_the_post():
    acts = _spike_vs_sustained()
    peak = ins.filter_playlist(acts, 1, 2, mode="max")
    mean = ins.filter_playlist(acts, 1, 2, mode="mean")
    assert peak.tracks.tolist() == [0, 2] and peak.peak_steps.tolist() == [7, 3]
    assert mean.tracks.tolist() == [1, 2]
    np.testing.assert_allclose(mean.scores, [2.0, 1.4])
    assert ins.mean_playlist(acts, 1, 2).tolist() == [1, 2]
    only = ins.filter_playlist(acts, 1, 1, mode="max", candidates=np.array([1, 3]))
    assert only.tracks.tolist() == [1]
    dense = ins.filter_playlist(acts[:, 0, :] + np.arange(4)[:, None], 0, 3)
    assert dense.tracks.tolist() == [3, 2, 1] and dense.peak_steps is None


def test_playlist_errors():
    acts = _spike_vs_sustained()
    with pytest.raises(ValueError, match="out of range: this layer has 2 filters"):
        ins.filter_playlist(acts, 2, 2)
    with pytest.raises(ValueError, match="larger than the 4"):
        ins.filter_playlist(acts, 0, 5)
    with pytest.raises(ValueError, match="mode"):
        ins.filter_playlist(acts, 0, 2, mode="median")
    with pytest.raises(ValueError, match="k must be a positive integer"):
        ins.filter_playlist(acts, 0, 0)


# --------------------------------------------------------------------------- selectivity
def test_genre_purity_chance_and_dead_filters():
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(4), 50)
    scores = rng.random((200, 3)) + 0.1
    scores[labels == 2, 0] += 5.0  # filter 0 loves genre 2
    scores[:, 2] = 0.0
    scores[:5, 2] = 1.0  # filter 2 fires on only 5 tracks: no top-20 playlist
    purity = ins.genre_purity(scores, labels, top_k=20)
    assert purity[0] == 1.0
    assert purity[1] < 0.7
    assert np.isnan(purity[2])
    chance = ins.chance_purity(np.repeat([0, 1], 1000), top_k=2, n_draws=4000, seed=0)
    assert abs(chance - 0.75) < 0.02  # two equal genres, two tracks: same genre half the time
    assert ins.chance_purity(labels, 20) < 0.5


def test_mutual_information_agrees_with_sklearn():
    rng = np.random.default_rng(2)
    labels = rng.permutation(np.repeat(np.arange(4), 100))
    scores = np.stack([labels + rng.normal(0, 0.05, 400), rng.random(400)], axis=1)
    mi = ins.label_mutual_information(scores, labels, n_bins=4)
    entropy = -np.sum(np.bincount(labels) / 400 * np.log2(np.bincount(labels) / 400))
    assert mi[0] == pytest.approx(entropy, abs=1e-9)  # the activation reveals the label
    assert mi[1] < 0.1
    bins = np.searchsorted(np.quantile(scores[:, 1], [0.25, 0.5, 0.75]), scores[:, 1], "right")
    assert mi[1] == pytest.approx(mutual_info_score(labels, bins) / np.log(2), rel=1e-9)


def test_attribute_selectivity_and_most_selective_filter():
    rng = np.random.default_rng(3)
    attribute = rng.normal(size=100)
    scores = rng.random((100, 4))
    scores[:, 1] += 10  # loud but indifferent
    scores[np.argsort(attribute)[-10:], 3] += 2  # picky
    z = ins.attribute_selectivity(scores, attribute, top_k=10)
    assert np.argmax(z) == 3 and z[3] > 1.5
    assert ins.most_selective_filter(scores, attribute, 10) == 3
    with pytest.raises(ValueError, match="constant"):
        ins.attribute_selectivity(scores, np.ones(100), 10)


# --------------------------------------------------------------------------- similarity
def test_similar_tracks_match_brute_force_cosine():
    rng = np.random.default_rng(4)
    vectors = rng.normal(size=(50, 8))
    got = ins.similar_tracks(vectors, 7, k=5)
    sims = cosine_similarity(vectors)[7]
    sims[7] = -np.inf
    assert got.tolist() == np.argsort(-sims)[:5].tolist()
    assert 7 not in ins.neighbour_lists(vectors, 49, queries=np.array([7]))[0]
    pool = np.arange(20, 50)
    assert set(ins.similar_tracks(vectors, 7, 5, candidates=pool)) <= set(pool)


def test_euclidean_lists_match_sklearn_nearest_neighbors():
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(40, 3))
    ours = ins.neighbour_lists(vectors, 4, metric="euclidean")
    _, theirs = NearestNeighbors(n_neighbors=5).fit(vectors).kneighbors(vectors)
    assert np.array_equal(ours, theirs[:, 1:])


def test_similarity_errors():
    vectors = np.eye(4)
    vectors[2] = 0
    with pytest.raises(ValueError, match="all-zero vector"):
        ins.similar_tracks(vectors, 2, 1)
    with pytest.raises(ValueError, match="out of range"):
        ins.similar_tracks(vectors, 9, 1)
    with pytest.raises(ValueError, match="larger than the 3"):
        ins.similar_tracks(vectors, 0, 4)
    with pytest.raises(ValueError, match="metric"):
        ins.neighbour_lists(vectors, 1, metric="manhattan")


def test_overlap_jaccard_same_label_and_outlier_share():
    a = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    b = np.array([[4, 3, 9, 10], [5, 6, 7, 8]])
    assert ins.overlap_at_k(a, b) == pytest.approx((0.5 + 1.0) / 2)
    assert ins.jaccard_at_k(a, b) == pytest.approx((2 / 6 + 1.0) / 2)
    labels = np.array([0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0])
    assert ins.same_label_share(a, labels, [0, 5]) == pytest.approx((2 / 4 + 4 / 4) / 2)
    outlier = np.zeros(11, bool)
    outlier[[2, 9]] = True
    assert ins.outlier_share(a, outlier) == pytest.approx(0.125)
    assert ins.outlier_share([[2, 9], [1, 3, 4, 5]], outlier) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="track indices"):
        ins.outlier_share([[20]], outlier)


def test_album_outlier_rule_finds_the_odd_track_out():
    rng = np.random.default_rng(6)
    album = np.repeat(np.arange(20), 6)
    centres = rng.normal(size=(20, 8))
    features = centres[album] + rng.normal(0, 0.3, size=(120, 8))
    odd = np.arange(0, 120, 6)[:8]  # the first track of 8 albums sounds like nothing else
    features[odd] = -centres[album[odd]] + rng.normal(0, 0.3, size=(8, 8))
    scores = ins.album_outlier_scores(features, album)
    flags = ins.flag_outliers(scores, z=3.0)
    assert set(np.argsort(-scores)[:8]) == set(odd)  # the odd tracks score highest
    assert flags[odd].all() and flags.sum() <= 16  # all found, at least half of the flags right
    lonely = ins.album_outlier_scores(features[:7], album[:7])
    assert np.isnan(lonely[6]) and not ins.flag_outliers(lonely)[6]


# --------------------------------------------------------------------------- players and plots
def test_segments_players_and_plots(model, log_mels):
    assert ins.segment_bounds(10, sr=100, hop_length=10, n_samples=1000, seconds=3) == (0, 300)
    assert ins.segment_bounds(99, sr=100, hop_length=10, n_samples=1000, seconds=3) == (700, 1000)
    assert ins.segment_bounds(50, sr=100, hop_length=10, n_samples=1000, seconds=3) == (350, 650)
    html = ins.audio_player_row([np.zeros(100), np.ones(100) * 0.1], 8000, ["a <b>", "c"]).data
    assert html.count("<audio") == 2 and "a &lt;b&gt;" in html
    kernel = model.get_layer("conv1").get_weights()[0]
    fig = ins.plot_conv_filters(kernel, filters=[0, 5, 7])
    image = fig.axes[0].images[0].get_array()
    assert image.shape == (N_MELS, 3 * 5 - 1)
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


# --------------------------------------------------------------------------- exercise checks
def test_mean_playlist_check_accepts_the_reference_and_rejects_slips():
    assert checks.check_mean_playlist(ins.mean_playlist).passed

    def stub(acts, f, k):
        raise NotImplementedError

    assert checks.check_mean_playlist(stub).status == "not implemented"
    peak = checks.check_mean_playlist(lambda a, f, k: ins.filter_playlist(a, f, k).tracks)
    assert not peak.passed and "peak" in peak.problems[0]
    ascending = checks.check_mean_playlist(lambda a, f, k: np.argsort(a[:, :, f].mean(1))[-k:])
    assert not ascending.passed and "reversed" in ascending.problems[0]
    wrong_axis = checks.check_mean_playlist(lambda a, f, k: np.argsort(-a.mean(2)[:, f])[:k])
    assert not wrong_axis.passed


def test_most_selective_filter_check_rejects_plausible_wrong_answers():
    assert checks.check_most_selective_filter(ins.most_selective_filter).passed

    def most_active(scores, attribute, top_k):
        return int(np.argmax(scores.mean(axis=0)))

    def correlated(scores, attribute, top_k):
        return int(np.argmax([np.corrcoef(s, attribute)[0, 1] for s in scores.T]))

    def bottom_k(scores, attribute, top_k):
        return int(np.argmax(attribute[np.argsort(scores, axis=0)[:top_k]].mean(axis=0)))

    for wrong, words in [
        (most_active, "most active"),
        (correlated, "correlates"),
        (bottom_k, "least"),
    ]:
        result = checks.check_most_selective_filter(wrong)
        assert not result.passed
        assert any(words in p for p in result.problems), (wrong.__name__, result.problems)


def test_course_split_reads_the_json_beside_the_model(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="load_or_train_course_model"):
        ins.course_split("tiny", 3)
    from course_lib.convnet import course_model_path

    path = course_model_path("tiny", 3).with_suffix(".json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"split": {"train": [0, 2], "val": [1], "test": [3, 4]}}')
    split = ins.course_split("tiny", 3)
    assert split["test"].tolist() == [3, 4] and split["train"].dtype == np.int64


def test_tables_name_tracks_and_mark_outliers():
    import pandas as pd

    tracks = pd.DataFrame(
        {
            "title": ["A", "B", "C"],
            "artist": ["x", "y", "z"],
            "genre": ["rock", "pop", "rock"],
            "kind": ["song", "intro", "song"],
        }
    )
    table = ins.playlist_table(tracks, [2, 1], scores=[0.5, 0.25], peak_seconds=[1.0, 2.0])
    assert table["track"].tolist() == [2, 1] and table.index.tolist() == [1, 2]
    assert table["activation"].tolist() == [0.5, 0.25]
    both = ins.side_by_side(tracks, {"one": [0, 1], "two": [2, 0]})
    assert both.loc[2, "one"] == "B (y, pop) [INTRO]" and both.loc[1, "two"] == "C (z, rock)"
    with pytest.raises(ValueError, match="same length"):
        ins.side_by_side(tracks, {"one": [0], "two": [1, 2]})
