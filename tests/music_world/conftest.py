"""Fixtures of the music-world tests: the tiny world and its log-mel spectrograms."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.music_world import MusicWorld, make_music_world


@pytest.fixture(scope="session")
def tiny() -> MusicWorld:
    """The tiny world of seed 0 (tests must not modify it: take ``tiny.copy()`` to do so)."""
    return make_music_world("tiny", seed=0)


@pytest.fixture(scope="session")
def tiny_cache(tmp_path_factory: pytest.TempPathFactory):
    """A cache folder holding the tiny world's log-mel spectrograms, computed once."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def tiny_log_mel(tiny: MusicWorld, tiny_cache) -> np.ndarray:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COURSE_LIB_CACHE", str(tiny_cache))
        return tiny.log_mel(progress=False)
