"""Tests of course_lib.inspection.listening (chapter 05, section 3 on)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from course_lib import inspection as ins


def test_segments_stay_inside_the_clip():
    assert ins.segment_bounds(10, sr=100, hop_length=10, n_samples=1000, seconds=3) == (0, 300)
    assert ins.segment_bounds(99, sr=100, hop_length=10, n_samples=1000, seconds=3) == (700, 1000)
    assert ins.segment_bounds(50, sr=100, hop_length=10, n_samples=1000, seconds=3) == (350, 650)
    assert ins.segment_bounds(np.float64(50.5), sr=np.int64(100), hop_length=10, n_samples=1000)


def test_bad_segments_are_refused():
    with pytest.raises(ValueError, match="does not fit a clip of 10.00 s"):
        ins.segment_bounds(10, sr=100, hop_length=10, n_samples=1000, seconds=12)
    with pytest.raises(ValueError, match="frame must be a finite number"):
        ins.segment_bounds(np.nan, sr=100, hop_length=10, n_samples=1000)
    with pytest.raises(ValueError, match="seconds must be a number > 0"):
        ins.segment_bounds(10, sr=100, hop_length=10, n_samples=1000, seconds=0)
    with pytest.raises(TypeError, match="sr must be an integer"):
        ins.segment_bounds(10, sr=100.0, hop_length=10, n_samples=1000)


def test_peak_clips_cut_the_audio_around_each_frame():
    audio = np.arange(2 * 1000, dtype=np.float32).reshape(2, 1000)
    world = SimpleNamespace(
        audio=lambda ids: audio[ids], sample_rate=100, hop_length=10, n_samples=1000
    )
    clips = ins.peak_clips(world, [1, 0], [50.0, 10.0], seconds=1)
    assert clips[0][0] == 1000 + 450 and clips[1][0] == 50 and clips[1].size == 100
    with pytest.raises(ValueError, match="one frame per track, got 2 tracks and 1 frames"):
        ins.peak_clips(world, [1, 0], [50.0])


def test_audio_players_escape_labels_and_refuse_broken_clips():
    html = ins.audio_player_row([np.zeros(100), np.ones(100) * 0.1], 8000, ["a <b>", "c"]).data
    assert html.count("<audio") == 2 and "a &lt;b&gt;" in html
    with pytest.raises(ValueError, match="one label per clip, got 2 clips and 1 labels"):
        ins.audio_player_row([np.zeros(100), np.zeros(100)], 8000, ["a"])
    with pytest.raises(ValueError, match="NaN or infinite samples"):
        ins.audio_player_row([np.full(100, np.nan)], 8000, ["a"])
    with pytest.raises(ValueError, match="1-D array of samples"):
        ins.audio_player_row([np.zeros((2, 100))], 8000, ["a"])


def test_tables_name_tracks_and_mark_outliers():
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
    with pytest.raises(ValueError, match="scores has 1 entries for 2 tracks"):
        ins.playlist_table(tracks, [2, 1], scores=[0.5])
    both = ins.side_by_side(tracks, {"one": [0, 1], "two": [2, 0]})
    assert both.loc[2, "one"] == "B (y, pop) [INTRO]" and both.loc[1, "two"] == "C (z, rock)"
    with pytest.raises(ValueError, match="same length"):
        ins.side_by_side(tracks, {"one": [0], "two": [1, 2]})
