"""Tests of course_lib.fusion (chapter 07) and of its exercise checks (course_lib.checks_fusion)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.optimize import nnls

from course_lib import checks_fusion as cf
from course_lib import fusion as fu


def _unit(x):
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return np.where(n > 0, x / np.maximum(n, 1e-12), 0.0)


# --- feature assembly ------------------------------------------------------------------------


def test_attribute_features_standardise_on_the_fit_rows_only():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, size=(50, 4)).astype(np.float32)
    x[:, 3] = 7.0  # a constant column must not divide by zero
    rows = np.arange(30)
    z = fu.attribute_features(x, fit_rows=rows)
    np.testing.assert_allclose(z[rows, :3].mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(z[rows, :3].std(axis=0), 1.0, atol=1e-5)
    assert np.all(z[:, 3] == 0.0)
    assert not np.allclose(z[30:, :3].mean(axis=0), 0.0, atol=1e-3)  # test rows do not define it


def test_feature_builders_reject_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        fu.attribute_features(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="2-D"):
        fu.attribute_features(np.ones(5))
    with pytest.raises(ValueError, match="only 3 rows"):
        fu.attribute_features(np.ones((3, 2)), fit_rows=[0, 5])
    with pytest.raises(ValueError, match="weighting"):
        fu.tag_features(np.ones((3, 2)), weighting="bm25")
    with pytest.raises(ValueError, match=">= 0"):
        fu.tag_features(-np.ones((3, 2)))
    with pytest.raises(ValueError, match="does not fit"):
        fu.genre_features(np.array([0, 3]), n_genres=2)


@pytest.mark.parametrize("weighting", ["tfidf", "log", "binary"])
def test_tag_features_are_unit_rows_and_empty_rows_stay_empty(weighting):
    counts = sp.csr_matrix(np.array([[3, 0, 1], [0, 0, 0], [10, 5, 0], [1, 1, 1]], np.float32))
    x = fu.tag_features(counts, weighting=weighting)
    norms = np.linalg.norm(x, axis=1)
    np.testing.assert_allclose(norms[[0, 2, 3]], 1.0, atol=1e-6)
    assert norms[1] == 0.0


def test_tfidf_weighs_rare_tags_up():
    counts = np.array([[1, 1], [1, 0], [1, 0], [1, 0]], np.float32)
    x = fu.tag_features(counts, weighting="tfidf")
    assert x[0, 1] > x[0, 0]  # tag 1 is rarer than tag 0, so it weighs more in track 0
    np.testing.assert_allclose(
        fu.tag_features(counts, weighting="log")[0], [2**-0.5] * 2, rtol=1e-6
    )


def test_genre_features_one_hot():
    g = fu.genre_features(np.array([2, 0, 1, 2]))
    np.testing.assert_array_equal(g.argmax(axis=1), [2, 0, 1, 2])
    np.testing.assert_array_equal(g.sum(axis=1), 1.0)


def test_untagged_share_counts_tracks_not_stored_entries():
    dense = np.array([[1, 0], [0, 0], [0, 0], [2, 3]], np.float32)
    stored_zero = sp.csr_matrix(
        (np.array([0.0, 1, 2, 3], np.float32), (np.array([1, 0, 3, 3]), np.array([0, 0, 0, 1]))),
        shape=(4, 2),
    )
    labels = np.array(["head", "tail", "tail", "head"])
    for tags in (dense, stored_zero):
        assert fu.untagged_share(tags, labels) == {"head": 0.0, "tail": 1.0}
    with pytest.raises(ValueError, match="one bucket label per track"):
        fu.untagged_share(dense, labels[:3])


# --- popularity buckets ------------------------------------------------------------------------


def _plays(seed=0, n_users=60, n_items=40):
    rng = np.random.default_rng(seed)
    p = rng.random((n_users, n_items)) < np.linspace(0.6, 0.02, n_items)[None, :]
    return sp.csr_matrix(p.astype(np.int32) * rng.integers(1, 4, (n_users, n_items)))


def test_popularity_buckets_sizes_and_order():
    plays = _plays()
    labels = fu.popularity_buckets(plays, head=0.2, tail=0.5)
    assert (labels == "head").sum() == 8 and (labels == "tail").sum() == 20
    listeners = np.diff(plays.tocsc().indptr)
    assert listeners[labels == "head"].min() >= listeners[labels == "torso"].max()
    assert listeners[labels == "torso"].min() >= listeners[labels == "tail"].max()


def test_popularity_buckets_on_a_subset_of_items():
    plays = _plays()
    items = np.arange(10, 30)
    labels = fu.popularity_buckets(plays, items=items)
    assert labels.shape == (20,)
    full = fu.popularity_buckets(plays[:, items])
    np.testing.assert_array_equal(labels, full)
    with pytest.raises(ValueError, match="head"):
        fu.popularity_buckets(plays, head=0.7, tail=0.5)
    with pytest.raises(TypeError, match="sparse"):
        fu.popularity_buckets(plays.toarray())


def test_metrics_by_bucket_perfect_scores_and_alignment_errors():
    from course_lib.evaluation import split_plays

    rng = np.random.default_rng(1)
    plays = _plays(1)
    train, test = split_plays(plays, 0.3, seed=0)
    items = np.arange(plays.shape[1])
    buckets = fu.popularity_buckets(train)
    perfect = test.toarray().astype(float)
    table = fu.metrics_by_bucket(perfect, train, test, items, buckets, k=50)
    assert list(table.index) == ["head", "torso", "tail", "all"]
    np.testing.assert_allclose(table["recall"].astype(float), 1.0)
    random = fu.metrics_by_bucket(rng.random(plays.shape), train, test, items, buckets, k=5)
    assert (random["recall"] < 1).all()
    with pytest.raises(ValueError, match="one bucket label per item"):
        fu.metrics_by_bucket(perfect, train, test, items, buckets[:-1])
    with pytest.raises(ValueError, match="n_users, n_tracks"):
        fu.metrics_by_bucket(perfect[:, :-1], train, test, items, buckets)


# --- distances and late fusion of factors ------------------------------------------------------


def test_cosine_distances_values():
    y = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    p = np.array([[3.0, 0.0], [0.0, -1.0], [0.0, 0.0]])
    np.testing.assert_allclose(fu.cosine_distances(p, y), [0.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="same shape"):
        fu.cosine_distances(p[:2], y)


def test_distance_by_group_table():
    rng = np.random.default_rng(2)
    y = rng.normal(size=(30, 5))
    preds = {"perfect": 2 * y, "noise": rng.normal(size=y.shape)}
    mask = np.arange(30) % 2 == 0
    t = fu.distance_by_group(preds, y, np.arange(10, 30), {"even": mask})
    assert t.loc["perfect", "all"] == pytest.approx(0.0, abs=1e-9)
    assert t.loc["noise", "even"] > 0.5
    assert t.loc["n tracks", "even"] == 10
    with pytest.raises(ValueError, match="boolean mask"):
        fu.distance_by_group(preds, y, np.arange(5), {"bad": mask[:5]})


def test_fit_blend_weights_is_nonnegative_least_squares_on_unit_rows():
    rng = np.random.default_rng(3)
    y = rng.normal(size=(80, 6))
    good = y + 0.5 * rng.normal(size=y.shape)
    echo = (good - y) + 0.2 * rng.normal(size=y.shape)  # least squares wants it negative
    loud = 50 * (y + rng.normal(size=y.shape))
    w = fu.fit_blend_weights({"good": good, "echo": echo, "loud": loud}, y)
    assert np.all(w >= 0) and w[1] == pytest.approx(0.0, abs=1e-12)
    a = np.stack([_unit(p).ravel() for p in (good, echo, loud)], axis=1)
    unconstrained = np.linalg.lstsq(a, _unit(y).ravel(), rcond=None)[0]
    assert unconstrained[1] < 0  # the case really tests the constraint
    grad = a.T @ (a @ w - _unit(y).ravel())  # optimality (KKT) of min ||a w - y||, w >= 0:
    np.testing.assert_allclose(grad[w > 0], 0.0, atol=1e-4)  # zero slope where w > 0
    assert np.all(grad[w == 0] >= -1e-4)  # and no gain from raising a zero weight
    blended = fu.blend([good, echo, loud], w)
    assert fu.cosine_distances(blended, y).mean() <= fu.cosine_distances(good, y).mean()


def test_blend_errors():
    a = np.ones((4, 3))
    with pytest.raises(ValueError, match="same shape"):
        fu.fit_blend_weights([a, np.ones((5, 3))], a)
    with pytest.raises(ValueError, match="exactly the target rows"):
        fu.fit_blend_weights([a, a], np.ones((3, 3)))
    with pytest.raises(ValueError, match="one weight per model"):
        fu.blend([a, a], [1.0])


# --- ensembles of recommenders -------------------------------------------------------------------


def test_standardize_scores_rows():
    s = np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]])
    z = fu.standardize_scores(s)
    np.testing.assert_allclose(z[0].mean(), 0.0, atol=1e-7)
    np.testing.assert_allclose(z[0].std(), 1.0, atol=1e-6)
    assert np.all(z[1] == 0)


def test_fit_ensemble_weights_prefers_the_informative_recommender():
    rng = np.random.default_rng(4)
    n_users, n_items = 50, 80
    truth = rng.normal(size=(n_users, n_items))
    positives = sp.csr_matrix((truth > 1.3).astype(np.float32))
    sources = {
        "informative": truth + 0.5 * rng.normal(size=truth.shape),
        "noise": rng.normal(size=truth.shape),
        "anti": -truth,
    }
    w = fu.fit_ensemble_weights(sources, positives, n_pairs=3000, seed=0)
    assert set(w) == set(sources)
    assert sum(w.values()) == pytest.approx(1.0)
    assert min(w.values()) >= 0
    assert w["informative"] > 0.8 and w["anti"] == pytest.approx(0.0, abs=1e-6)
    assert w == fu.fit_ensemble_weights(sources, positives, n_pairs=3000, seed=0)  # seeded
    scores = fu.ensemble_scores(sources, w)
    assert scores.shape == truth.shape


def test_ensemble_errors():
    s = {"a": np.ones((3, 4)), "b": np.ones((3, 5))}
    with pytest.raises(ValueError, match="one shape"):
        fu.ensemble_scores(s, {"a": 1.0})
    ok = {"a": np.ones((3, 4))}
    with pytest.raises(ValueError, match="negative"):
        fu.ensemble_scores(ok, {"a": -1.0})
    with pytest.raises(ValueError, match="unknown sources"):
        fu.ensemble_scores(ok, {"c": 1.0})
    with pytest.raises(ValueError, match="no plays"):
        fu.fit_ensemble_weights(ok, sp.csr_matrix((3, 4)))


# --- the results table -------------------------------------------------------------------------


def test_results_table_ranks_and_agreement():
    ours = {
        "audio (patches)": {"cosine_distance": 0.5, "epochs": 3, "seconds_per_epoch": 1.0},
        "attributes": {"cosine_distance": 0.3},
        "tags": {"cosine_distance": 0.2},
        "extra row": {"cosine_distance": 0.1},
    }
    t = fu.results_table(ours)
    assert t.loc["attributes", "cos. distance (talk, quoted)"] == 0.15
    assert t.loc["attributes", "talk's input"] == "MGP"
    assert t.loc["audio (patches)", "rank (ours)"] == 3 and t.loc["tags", "rank (ours)"] == 1
    assert t.loc["attributes", "same rank?"] == "no"
    assert t.loc["audio (patches)", "same rank?"] == "yes"
    assert t.loc["extra row", "same rank?"] == "" and pd.isna(t.loc["extra row", "rank (ours)"])
    agree, pairs, notes = fu.ordering_agreement(t)
    assert (agree, pairs) == (2, 3) and len(notes) == 1 and "attributes vs tags" in notes[0]
    with pytest.raises(ValueError, match="cosine_distance"):
        fu.results_table({"x": {}})


# --- Keras models ------------------------------------------------------------------------------


def test_build_factor_mlp_layers_and_errors():
    m = fu.build_factor_mlp({"audio": 8, "tags": 5}, 4, hidden_units=(16,))
    names = [layer.name for layer in m.layers]
    expected = {"audio", "tags", "audio_dense", "tags_dense", "fusion", "hidden1", "factors"}
    assert expected <= set(names)
    assert m.output_shape == (None, 4)
    single = fu.build_factor_mlp(3, 2, hidden_units=())
    assert "fusion" not in [layer.name for layer in single.layers]
    with pytest.raises(ValueError, match="positive integer dimension"):
        fu.build_factor_mlp({"a": 0}, 2)
    with pytest.raises(ValueError, match="dropout"):
        fu.build_factor_mlp(3, 2, dropout=1.0)


def _linear_problem(seed=0, n=300):
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=(n, 6)).astype(np.float32)
    x2 = rng.normal(size=(n, 3)).astype(np.float32)
    y = (x1 @ rng.normal(size=(6, 5)) + x2 @ rng.normal(size=(3, 5))).astype(np.float32)
    split = {"train": np.arange(0, 200), "val": np.arange(200, 250), "test": np.arange(250, n)}
    return {"a": x1, "b": x2}, y, split


def test_fit_factor_mlp_learns_and_fusion_helps():
    feats, y, split = _linear_problem()
    kw = {"epochs": 30, "patience": 5, "dropout": 0.1, "batch_size": 32, "seed": 0}
    only_a = fu.fit_factor_mlp(feats, y, split, sources=["a"], **kw)
    both = fu.fit_factor_mlp(feats, y, split, **kw)
    test = split["test"]
    mean = np.repeat(_unit(y[split["train"]]).mean(axis=0, keepdims=True), len(test), axis=0)
    d_mean = fu.cosine_distances(mean, y[test]).mean()
    d_a = fu.cosine_distances(only_a.predict(feats, test), y[test]).mean()
    d_both = fu.cosine_distances(both.predict(feats, test), y[test]).mean()
    assert d_a < d_mean and d_both < d_a
    assert both.sources == ("a", "b") and 1 <= both.best_epoch <= both.epochs <= 30
    assert both.seconds_per_epoch > 0
    again = fu.fit_factor_mlp(feats, y, split, **kw)
    np.testing.assert_allclose(again.predict(feats, test), both.predict(feats, test), atol=1e-5)


def test_fit_factor_mlp_rejects_misaligned_inputs():
    feats, y, split = _linear_problem(n=260)
    with pytest.raises(ValueError, match="targets has"):
        fu.fit_factor_mlp(feats, y[:-1], split)
    with pytest.raises(ValueError, match="different numbers of rows"):
        fu.fit_factor_mlp({"a": feats["a"], "b": feats["b"][:-1]}, y, split)
    with pytest.raises(ValueError, match="only 260 rows"):
        fu.fit_factor_mlp(feats, y, {"train": np.arange(10), "val": np.array([300])})
    with pytest.raises(ValueError, match="overlap"):
        fu.fit_factor_mlp(feats, y, {"train": np.arange(10), "val": np.arange(5, 15)})
    with pytest.raises(ValueError, match="features has no"):
        fu.fit_factor_mlp(feats, y, split, sources=["c"])


class _FakeWorld:
    size, seed = "test", 0

    def __init__(self, n=24, frames=140, mels=16, seed=0):
        self.mels = np.random.default_rng(seed).normal(size=(n, frames, mels)).astype(np.float32)

    def log_mel(self, progress=False):
        return self.mels


def test_audio_model_cache_and_audio_features(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    from course_lib.convnet import center_crop, predict_track_factors

    world = _FakeWorld()
    targets = np.random.default_rng(1).normal(size=(24, 3)).astype(np.float32)
    split = {"train": np.arange(16), "val": np.arange(16, 20), "test": np.arange(20, 24)}
    first = fu.load_or_train_audio_model(
        world, targets, split, n_frames=110, epochs=1, batch_size=8
    )
    assert not first.cached and first.epochs == 1 and first.seconds_per_epoch > 0
    second = fu.load_or_train_audio_model(
        world, targets, split, n_frames=110, epochs=1, batch_size=8
    )
    assert second.cached
    mels = world.mels
    patch = fu.audio_features(second.model, mels, "patch", "factors")
    np.testing.assert_allclose(
        patch, fu.audio_features(first.model, mels, "patch", "factors"), atol=1e-5
    )
    track = fu.audio_features(second.model, mels, "track", "factors", chunk=10)
    np.testing.assert_allclose(track, predict_track_factors(second.model, mels), atol=1e-5)
    emb = fu.audio_features(second.model, mels, "track", "embedding")
    patch_emb = fu.audio_features(second.model, mels, "patch", "embedding", chunk=10)
    sub = fu.embedding_model(second.model, "dense2")
    np.testing.assert_allclose(patch_emb, sub.predict(center_crop(mels, 110), verbose=0), atol=1e-5)
    assert patch.shape == (24, 3) and emb.shape[0] == 24 and emb.shape[1] > 3
    for mode in ("patch", "track"):
        with pytest.raises(ValueError, match="no layer"):
            fu.audio_features(second.model, mels, mode, output="embedding", layer="dense9")
    with pytest.raises(ValueError, match="mode"):
        fu.audio_features(second.model, mels, mode="window")
    with pytest.raises(ValueError, match="only 24 rows"):
        fu.load_or_train_audio_model(world, targets, {"train": [0, 30], "val": [1]})


# --- exercise checks ---------------------------------------------------------------------------


def _nnls_blend(preds, y):
    a = np.stack([_unit(p).ravel() for p in preds], axis=1)
    return nnls(a, _unit(y).ravel())[0]


def _lstsq_blend(preds, y):
    a = np.stack([_unit(p).ravel() for p in preds], axis=1)
    return np.linalg.lstsq(a, _unit(y).ravel(), rcond=None)[0]


def _stub(*args):
    raise NotImplementedError("your code here")


def test_check_blend_weights_accepts_nnls_and_rejects_plausible_mistakes(capsys):
    assert cf.check_blend_weights(_nnls_blend).passed
    assert cf.check_blend_weights(lambda p, y: 3 * _nnls_blend(p, y)).passed  # scale is free
    wrong = {
        "unconstrained least squares": _lstsq_blend,
        "clipped least squares": lambda p, y: np.clip(_lstsq_blend(p, y), 0, None),
        "rows not normalised": lambda p, y: nnls(np.stack([q.ravel() for q in p], 1), y.ravel())[0],
        "equal weights": lambda p, y: np.ones(len(p)),
    }
    for name, fn in wrong.items():
        assert cf.check_blend_weights(fn).status == "wrong", name
    assert cf.check_blend_weights(_stub).status == "not implemented"
    assert "Not implemented yet" in capsys.readouterr().out


def test_check_untagged_share_rejects_counting_stored_entries():
    def right(tags, buckets):
        s = np.asarray(sp.csr_matrix(tags).sum(axis=1)).ravel()
        return {b: float(np.mean(s[buckets == b] == 0)) for b in set(buckets)}

    def stored(tags, buckets):
        s = sp.csr_matrix(tags).getnnz(axis=1)
        return {b: float(np.mean(s[buckets == b] == 0)) for b in set(buckets)}

    def cells(tags, buckets):
        d = sp.csr_matrix(tags).toarray()
        return {b: float(np.mean(d[buckets == b] == 0)) for b in set(buckets)}

    assert cf.check_untagged_share(right).passed
    assert cf.check_untagged_share(stored).status == "wrong"
    assert cf.check_untagged_share(cells).status == "wrong"
    assert cf.check_untagged_share(_stub).status == "not implemented"


def test_check_tail_tags_answer():
    assert cf.check_tail_tags_answer(lambda: "B").passed
    assert cf.check_tail_tags_answer(lambda: " b) because ...").passed
    for letter in ("A", "C", "D", "E", ""):
        assert cf.check_tail_tags_answer(lambda letter=letter: letter).status == "wrong"
    assert cf.check_tail_tags_answer(_stub).status == "not implemented"


def test_paired_difference_finds_a_consistent_improvement_and_rejects_bad_input():
    rng = np.random.default_rng(0)
    b = rng.uniform(0.2, 0.6, size=400)
    a = b - 0.05 + rng.normal(0, 0.01, size=400)  # a is better on (almost) every track
    out = fu.paired_difference(a, b, seed=1)
    assert out["mean"] == pytest.approx(np.mean(a - b))
    assert out["low"] < out["mean"] < out["high"] < 0
    assert out["share_a_better"] > 0.99 and out["n"] == 400
    assert fu.paired_difference(a, b, seed=1) == out  # seeded: the same interval again
    same = fu.paired_difference(b, b)
    assert same["mean"] == 0 and same["low"] == 0 and same["high"] == 0
    noise = fu.paired_difference(b + rng.normal(0, 0.05, 400), b, seed=2)
    assert noise["low"] < 0 < noise["high"]  # no real difference: the interval covers 0
    with pytest.raises(ValueError, match="equal length"):
        fu.paired_difference(a, b[:-1])
    with pytest.raises(ValueError, match="NaN"):
        fu.paired_difference(np.r_[a[:-1], np.nan], b)


def test_fusion_gain_by_split_repeats_the_comparison_per_seed(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    from course_lib.music_world import make_music_world

    world = make_music_world("tiny", seed=0)
    als = {"factors": 4, "alpha": 10.0, "regularization": 1.0, "iterations": 3}
    settings = dict(als_settings=als, n_frames=110, audio_epochs=1, max_epochs=2, patience=1)
    table = fu.fusion_gain_by_split(world, [3, 4], **settings)
    assert list(table.index) == [3, 4]
    expected = ["audio (full tracks)", "attributes", "audio + attributes", "best single", "gain"]
    assert list(table.columns[:5]) == expected
    d = table[expected[:3]].to_numpy(float)
    assert np.all((d >= 0) & (d <= 2)), "cosine distances lie in [0, 2]"
    np.testing.assert_allclose(table["best single"], d[:, :2].min(axis=1))
    np.testing.assert_allclose(table["gain"], table["best single"] - table["audio + attributes"])
    assert (table["test tracks"] > 0).all()
    again = fu.fusion_gain_by_split(world, [3], **settings)  # cached convnet, seeded networks
    np.testing.assert_allclose(again.loc[3, "attributes"], table.loc[3, "attributes"], atol=1e-4)
    with pytest.raises(ValueError, match="seeds is empty"):
        fu.fusion_gain_by_split(world, [], **settings)
