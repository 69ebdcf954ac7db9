"""Tests of course_lib.fusion.experiments (chapter 07, section 5): the repeated-split experiment."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import fusion as fu
from course_lib.music_world import make_music_world

ALS = {"factors": 4, "alpha": 10.0, "regularization": 1.0, "iterations": 3}
SETTINGS = {"als_settings": ALS, "n_frames": 110, "audio_epochs": 1, "max_epochs": 2, "patience": 1}


def test_fusion_gain_by_split_repeats_the_comparison_per_seed(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    world = make_music_world("tiny", seed=0)
    table = fu.fusion_gain_by_split(world, [3, 4], **SETTINGS)
    assert list(table.index) == [3, 4]
    expected = ["audio (full tracks)", "attributes", "audio + attributes", "best single", "gain"]
    assert list(table.columns[:5]) == expected
    d = table[expected[:3]].to_numpy(float)
    assert np.all((d >= 0) & (d <= 2)), "cosine distances lie in [0, 2]"
    np.testing.assert_allclose(table["best single"], d[:, :2].min(axis=1))
    np.testing.assert_allclose(table["gain"], table["best single"] - table["audio + attributes"])
    assert (table["test tracks"] > 0).all()
    assert (table["gain SE"] > 0).all(), "a standard error from the per-track differences"
    assert list(table.columns[5:]) == ["gain SE", "test tracks"]
    again = fu.fusion_gain_by_split(world, [3], **SETTINGS)  # cached convnet, seeded networks
    np.testing.assert_allclose(again.loc[3, "attributes"], table.loc[3, "attributes"], atol=1e-4)
    with pytest.raises(ValueError, match="seeds is empty"):
        fu.fusion_gain_by_split(world, [], **SETTINGS)


def test_split_by_artist_keeps_every_artist_on_one_side(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    world = make_music_world("tiny", seed=0)
    seen = []
    real = fu.experiments.split_tracks

    def spy(*args, **kwargs):
        split = real(*args, **kwargs)
        seen.append((kwargs.get("by"), split))
        return split

    monkeypatch.setattr(fu.experiments, "split_tracks", spy)
    table = fu.fusion_gain_by_split(world, [3], by="artist", **SETTINGS)
    assert list(table.index) == [3] and table.loc[3, "test tracks"] > 0
    ((by, split),) = seen
    assert by == "artist"
    artist = world.tracks["artist_id"].to_numpy()
    assert not set(artist[split["train"]]) & set(artist[split["test"]])


# --- issue 17: refused before any ALS fit or training -------------------------------------------


def test_bad_seeds_and_settings_are_refused_before_anything_is_trained(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    world = make_music_world("tiny", seed=0)
    with pytest.raises(TypeError, match=r"seeds must be a list of integers, e.g. \[1, 2, 3\]"):
        fu.fusion_gain_by_split(world, 3, **SETTINGS)
    with pytest.raises(TypeError, match="seeds must be a list"):
        fu.fusion_gain_by_split(world, "34", **SETTINGS)
    with pytest.raises(TypeError, match=r"seeds\[1\] must be an integer"):
        fu.fusion_gain_by_split(world, [3, True], **SETTINGS)
    with pytest.raises(TypeError, match=r"seeds\[0\] must be an integer"):
        fu.fusion_gain_by_split(world, ["3"], **SETTINGS)
    with pytest.raises(ValueError, match=r"repeat a seed; each split needs its own"):
        fu.fusion_gain_by_split(world, [3, 3], **SETTINGS)
    with pytest.raises(TypeError, match=r"als_settings must be a dict.*COURSE_SETTINGS"):
        fu.fusion_gain_by_split(world, [3], **{**SETTINGS, "als_settings": None})
    with pytest.raises(TypeError, match="max_epochs must be an integer"):
        fu.fusion_gain_by_split(world, [3], **{**SETTINGS, "max_epochs": 2.5})
    with pytest.raises(TypeError, match="audio_batch_size must be an integer"):
        fu.fusion_gain_by_split(world, [3], audio_batch_size=True, **SETTINGS)
    with pytest.raises(ValueError, match="by"):
        fu.fusion_gain_by_split(world, [3], by="album", **SETTINGS)
    mels = world.log_mel(progress=False)
    with pytest.raises(ValueError, match=r"spectrograms but the world has \d+ tracks"):
        fu.fusion_gain_by_split(world, [3], log_mels=mels[:-1], **SETTINGS)
    bad = np.array(mels, dtype=np.float32)
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match=r"log_mels contains NaN.*spectrograms \[0\]"):
        fu.fusion_gain_by_split(world, [3], log_mels=bad, **SETTINGS)
    assert not (tmp_path / "fusion").exists() or not any((tmp_path / "fusion").iterdir())


# --- cross-validation: every track tested once, by models that never trained on it ---------------


@pytest.mark.parametrize("by", ["track", "artist"])
def test_kfold_parts_test_every_candidate_once(by):
    world = make_music_world("small", seed=0)
    candidates = np.flatnonzero(~world.tracks["is_new"].to_numpy())
    parts = fu.kfold_parts(world.tracks, candidates, 5, by=by, seed=1)
    assert len(parts) == 5
    tested = np.concatenate([p["test"] for p in parts])
    np.testing.assert_array_equal(np.sort(tested), candidates)  # each exactly once
    artist = world.tracks["artist_id"].to_numpy()
    for p in parts:
        used = np.concatenate([p["train"], p["val"], p["test"]])
        np.testing.assert_array_equal(np.sort(used), candidates)
        assert abs(p["test"].size - candidates.size / 5) < 0.05 * candidates.size
        assert abs(p["val"].size / (p["train"].size + p["val"].size) - 1 / 8) < 0.03
        if by == "artist":
            assert not set(artist[p["test"]]) & set(artist[np.r_[p["train"], p["val"]]])
    again = fu.kfold_parts(world.tracks, candidates, 5, by=by, seed=1)
    assert all(np.array_equal(a["test"], b["test"]) for a, b in zip(parts, again))
    other = fu.kfold_parts(world.tracks, candidates, 5, by=by, seed=2)
    assert not np.array_equal(parts[0]["test"], other[0]["test"])


def test_kfold_parts_refuses_too_few_groups():
    world = make_music_world("tiny", seed=0)
    candidates = np.flatnonzero(world.tracks["artist_id"].to_numpy() < 2)
    with pytest.raises(ValueError, match="cannot fill 5 folds"):
        fu.kfold_parts(world.tracks, candidates, 5, by="artist")
    with pytest.raises((TypeError, ValueError), match="candidates"):
        fu.kfold_parts(world.tracks, world.tracks["artist_id"].to_numpy() < 2, 3)
    with pytest.raises(TypeError, match="folds must be an integer"):
        fu.kfold_parts(world.tracks, candidates, 2.5)


def test_fusion_gain_with_folds_tests_every_warm_track(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    world = make_music_world("tiny", seed=0)
    table, per_track = fu.fusion_gain_by_split(world, [3], folds=3, per_track=True, **SETTINGS)
    tracks = per_track[3]
    assert tracks.index.is_unique and table.loc[3, "test tracks"] == len(tracks)
    single = fu.fusion_gain_by_split(world, [3], **SETTINGS)
    assert len(tracks) > 2.5 * single.loc[3, "test tracks"], "every warm track, not one tenth"
    np.testing.assert_allclose(table.loc[3, "attributes"], tracks["attributes"].mean())
    assert len(list((tmp_path / "fusion").glob("*.keras"))) == 1 + 3, "a convnet per fold"
    for folds in (2, 21, 0):
        with pytest.raises(ValueError, match="folds"):
            fu.fusion_gain_by_split(world, [3], folds=folds, **SETTINGS)
