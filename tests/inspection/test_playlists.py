"""Tests of course_lib.inspection.playlists (chapter 05, section 3)."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import inspection as ins


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
    only = ins.filter_playlist(acts, 1, 1, mode="max", candidates=np.array([1, 3]))
    assert only.tracks.tolist() == [1]
    mask = ins.filter_playlist(acts, 1, 1, candidates=np.array([False, False, True, True]))
    assert mask.tracks.tolist() == [2]
    dense = ins.filter_playlist(acts[:, 0, :] + np.arange(4)[:, None], 0, 3)
    assert dense.tracks.tolist() == [3, 2, 1] and dense.peak_steps is None


def test_top_steps_playlist_lies_between_peak_and_mean():
    acts = _spike_vs_sustained()
    acts[3, [1, 5], 1] = 6.0  # two strong moments
    one = ins.top_steps_playlist(acts, 1, 4, n_steps=1)
    assert one.tracks.tolist() == ins.filter_playlist(acts, 1, 4, mode="max").tracks.tolist()
    every = ins.top_steps_playlist(acts, 1, 4, n_steps=10)
    assert every.tracks.tolist() == ins.filter_playlist(acts, 1, 4, mode="mean").tracks.tolist()
    two = ins.top_steps_playlist(acts, 1, 2, n_steps=2)
    assert two.tracks.tolist() == [3, 0]  # (6 + 6) / 2 beats (9 + 0) / 2
    np.testing.assert_allclose(two.scores, [6.0, 4.5])
    assert two.peak_steps.tolist() == [1, 7]
    held = ins.top_steps_playlist(acts, 1, 1, n_steps=2, candidates=np.array([1, 2]))
    assert held.tracks.tolist() == [2]  # (5 + 1) / 2 beats (2 + 2) / 2


def test_top_steps_playlist_errors():
    acts = _spike_vs_sustained()
    with pytest.raises(ValueError, match="n_steps=11 is larger than the 10 time steps"):
        ins.top_steps_playlist(acts, 1, 2, n_steps=11)
    with pytest.raises(ValueError, match="n_steps must be an integer >= 1"):
        ins.top_steps_playlist(acts, 1, 2, n_steps=0)
    with pytest.raises(ValueError, match="needs activations with a time axis"):
        ins.top_steps_playlist(acts[:, 0, :], 1, 2, n_steps=1)
    with pytest.raises(ValueError, match="out of range: this layer has 2 filters"):
        ins.top_steps_playlist(acts, 2, 2, n_steps=2)


def test_playlist_errors():
    acts = _spike_vs_sustained()
    with pytest.raises(ValueError, match="out of range: this layer has 2 filters"):
        ins.filter_playlist(acts, 2, 2)
    with pytest.raises(TypeError, match="filter_index must be an integer"):
        ins.filter_playlist(acts, 1.0, 2)
    with pytest.raises(ValueError, match="mode"):
        ins.filter_playlist(acts, 0, 2, mode="median")
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        ins.filter_playlist(acts, 0, 0)
    with pytest.raises(TypeError, match="k must be an integer"):
        ins.filter_playlist(acts, 0, 2.0)
    with pytest.raises(ValueError, match="candidates indexes rows"):
        ins.filter_playlist(acts, 0, 1, candidates=np.array([1, 7]))
    with pytest.raises(ValueError, match="boolean candidates mask needs one entry per track"):
        ins.filter_playlist(acts, 0, 1, candidates=np.array([True, False]))


def test_k_larger_than_the_tracks_names_the_maximum():
    acts = _spike_vs_sustained()
    with pytest.raises(ValueError, match="k=5 is larger than the 4 tracks available; .*k=4"):
        ins.filter_playlist(acts, 0, 5)
    with pytest.raises(ValueError, match="k=3 is larger than the 2 tracks .*k=2"):
        ins.filter_playlist(acts, 0, 3, candidates=np.array([0, 1]))
    with pytest.raises(ValueError, match="k=5 is larger"):
        ins.top_steps_playlist(acts, 0, 5, n_steps=2)


def test_nan_activations_are_refused_with_the_track():
    acts = _spike_vs_sustained()
    acts[3, 2, 0] = np.nan
    with pytest.raises(
        ValueError, match=r"activations contain NaN or infinite values \(tracks \[3\]"
    ):
        ins.filter_playlist(acts, 1, 2)
    with pytest.raises(ValueError, match="NaN"):
        ins.top_steps_playlist(acts, 1, 2, n_steps=2)


def test_wrong_shapes_are_refused():
    with pytest.raises(ValueError, match=r"\(n_tracks, time, filters\) or \(n_tracks, units\)"):
        ins.filter_playlist(np.zeros((2, 3, 4, 5)), 0, 1)
    with pytest.raises(TypeError, match="real numbers"):
        ins.filter_playlist(np.array([["a", "b"]]), 0, 1)


def test_course_split_reads_the_json_beside_the_model(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="load_or_train_course_model"):
        ins.course_split("tiny", 3)
    from course_lib.convnet import course_model_path

    path = course_model_path("tiny", 3).with_suffix(".json")
    assert tmp_path in path.parents
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"split": {"train": [0, 2], "val": [1], "test": [3, 4]}}')
    split = ins.course_split("tiny", 3)
    assert split["test"].tolist() == [3, 4] and split["train"].dtype == np.int64


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"split": {"train": [0, 2', "unreadable"),
        ('{"history": {}}', "holds no split"),
        ("[1, 2]", "holds no split"),
        ('{"split": {"train": [0, 2], "test": ["a"]}}', "damaged 'test' split"),
        ('{"split": {"train": [0, -2], "test": [1]}}', "damaged 'train' split"),
    ],
)
def test_a_damaged_split_record_names_the_file_and_is_left_alone(
    tmp_path, monkeypatch, text, words
):
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    from course_lib.convnet import course_model_path

    path = course_model_path("tiny", 3).with_suffix(".json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    with pytest.raises(ValueError, match=words) as error:
        ins.course_split("tiny", 3)
    assert str(path) in str(error.value) and "retrain=True" in str(error.value)
    assert path.read_text() == text  # nothing cached is deleted or rewritten
