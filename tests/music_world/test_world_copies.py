"""Issue 17 (7): make_music_world hands every caller its own world; edits never leak."""

from __future__ import annotations

import numpy as np
import pandas as pd

from course_lib.music_world import make_music_world, world_checksum
from course_lib.music_world.world import _MEMO

TINY_0 = "6d83a1251ce56e9b0c0896f839195944b99077c8e57e1283d0c9c6082ae15a88"


def test_in_place_edits_do_not_reach_the_next_caller():
    first = make_music_world("tiny", 0)
    audio_before = first.audio([0, 7])
    first.plays.data[:] = 0
    first.plays.indices[:] = 0
    first.new_track_plays.data[:] = 0
    first.tags.data[:] = 99
    first.tracks["popularity"] = 0.0
    first.tracks.loc[0, "kind"] = "intro"
    del first.users["activity"]
    first.user_taste[:] = 0
    first.track_style[:] = 0
    first.attributes[:] = 0
    first.genre_names.append("polka")
    first.attribute_names.clear()
    first.tag_names.pop()
    first._sound[:] = 0
    first._melody_seed[:] = 0
    second = make_music_world("tiny", 0)
    assert world_checksum(second) == TINY_0
    assert len(second.genre_names) == 8 and "polka" not in second.genre_names
    assert "activity" in second.users and len(second.attribute_names) == 15
    np.testing.assert_array_equal(second.audio([0, 7]), audio_before)
    assert second is not first and second.plays is not first.plays


def test_reassigned_attributes_stay_with_their_world():
    first = make_music_world("tiny", 0)
    first.plays = first.plays[:10]
    first.tracks = pd.DataFrame()
    second = make_music_world("tiny", 0)
    assert second.plays.shape[0] == 200 and len(second.tracks) == 229
    assert world_checksum(second) == TINY_0


def test_the_kept_original_is_never_handed_out():
    world = make_music_world("tiny", 0)
    kept = _MEMO[("tiny", 0)]
    assert world is not kept
    for name in ("plays", "tracks", "users", "user_taste", "track_style", "attributes", "tags"):
        assert getattr(world, name) is not getattr(kept, name), name
    assert not np.shares_memory(world.plays.data, kept.plays.data)
    assert not np.shares_memory(world.user_taste, kept.user_taste)


def test_copy_is_equal_and_independent(tiny):
    twin = tiny.copy()
    assert world_checksum(twin) == world_checksum(tiny) == TINY_0
    twin.plays.data[:] = 1
    assert world_checksum(tiny) == TINY_0
    np.testing.assert_array_equal(twin.logging_policy([0, 1]), tiny.logging_policy([0, 1]))
