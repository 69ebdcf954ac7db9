"""Tests of the music world's audio and its log-mel cache (chapters 03 and 04)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from course_lib.cache import CacheWarning
from course_lib.music_world import GENERATOR_VERSION
from course_lib.music_world import world as world_module
from course_lib.music_world.spectrograms import cache_file_name, load_or_compute


def test_audio_is_deterministic_and_shaped(tiny):
    x = tiny.audio([0, 5])
    assert x.shape == (2, tiny.n_samples) and x.dtype == np.float32
    assert np.all(np.isfinite(x)) and np.abs(x).max() <= 1.0
    np.testing.assert_array_equal(x, tiny.audio([0, 5]))
    np.testing.assert_array_equal(x[1], tiny.audio(5)[0])
    assert not np.allclose(x[0], x[1])
    assert tiny.audio([]).shape == (0, tiny.n_samples)


def test_bad_ids(tiny):
    with pytest.raises(ValueError, match="track ids"):
        tiny.audio([tiny.n_tracks])
    with pytest.raises(ValueError, match="track ids"):
        tiny.log_mel([-1], progress=False)
    with pytest.raises(TypeError):
        tiny.audio([0.5])
    with pytest.raises(TypeError, match="track_ids"):
        tiny.audio([[0, 1]])


def test_log_mel_cache_and_genre_signal(tiny, tiny_log_mel):
    lm = tiny_log_mel
    assert lm.shape == (tiny.n_tracks, tiny.n_frames, tiny.n_mels)
    # Nearest-centroid genre from mean/std of log-mel frames beats chance by far.
    feat = np.concatenate([lm.mean(axis=1), lm.std(axis=1)], axis=1)
    genre = tiny.tracks["genre_id"].to_numpy()
    songs = tiny.tracks["kind"].isin(["song", "cover"]).to_numpy()
    rng = np.random.default_rng(0)
    train = rng.random(len(genre)) < 0.6
    k = len(tiny.genre_names)
    centroids = np.stack([feat[train & songs & (genre == g)].mean(axis=0) for g in range(k)])
    scale = feat[train].std(axis=0) + 1e-6
    dist = (((feat[:, None, :] - centroids[None]) / scale) ** 2).sum(axis=-1)
    test = ~train & songs
    accuracy = (dist.argmin(axis=1)[test] == genre[test]).mean()
    assert accuracy > 3 / k, f"genre accuracy {accuracy:.2f} is too close to chance {1 / k:.2f}"


def test_the_cache_file_keeps_its_name_and_serves_later_calls(
    tiny, tiny_log_mel, tiny_cache, monkeypatch
):
    path = tiny_cache / f"music_world_tiny_seed0_v{GENERATOR_VERSION}" / "log_mel.npy"
    assert path.exists(), "the cache key must not change: chapters rely on cached spectrograms"
    stored = np.load(path, allow_pickle=False)
    assert stored.dtype == np.float16
    np.testing.assert_array_equal(stored.astype(np.float32), tiny_log_mel)
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tiny_cache))

    def never(*args, **kwargs):
        raise AssertionError("the cached spectrograms should have been read, not recomputed")

    monkeypatch.setattr(world_module, "compute_log_mels", never)
    np.testing.assert_array_equal(tiny.log_mel([3, 1], progress=False), tiny_log_mel[[3, 1]])
    # the spectrograms match the front end of chapter 03, up to float16 storage
    from course_lib.audio import log_mel

    direct = log_mel(tiny.audio(3)[0], tiny.sample_rate)
    np.testing.assert_allclose(tiny_log_mel[3], direct, atol=0.07)


def _fake_compute(calls: list[int]):
    def compute(synth, ids, *, n_mels, n_fft, hop_length, progress, n_jobs=1):
        calls.append(len(ids))
        n_frames = 1 + synth.n_samples // hop_length
        return np.full((len(ids), n_frames, n_mels), -20.0, np.float32)

    return compute


def test_other_settings_get_their_own_file_and_keep_the_default_one(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    calls: list[int] = []
    monkeypatch.setattr(world_module, "compute_log_mels", _fake_compute(calls))
    folder = tmp_path / f"music_world_tiny_seed0_v{GENERATOR_VERSION}"
    default = tiny.log_mel(progress=False)
    narrow = tiny.copy()
    narrow.n_mels = 64
    assert narrow.log_mel(progress=False).shape == (tiny.n_tracks, tiny.n_frames, 64)
    assert sorted(p.name for p in folder.iterdir()) == [
        "log_mel.npy",
        "log_mel_64mels_1024fft_256hop.npy",
    ]
    assert np.load(folder / "log_mel.npy").shape == default.shape
    assert cache_file_name(128, 1024, 256) == "log_mel.npy"
    assert len(calls) == 2


def test_the_large_world_computes_only_the_ids_asked_for(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    large_like = tiny.copy()
    large_like.size = "large"  # the large world's path, on tiny clips
    with pytest.raises(ValueError, match="pass the track ids you need"):
        large_like.log_mel()
    two = large_like.log_mel([2, 0])
    assert two.shape == (2, tiny.n_frames, tiny.n_mels) and two.dtype == np.float32
    assert not list(tmp_path.iterdir()), "the large world writes no spectrogram cache"


# ----------------------------------------------------------------- a damaged cache file
def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-100])


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x80\x04 pickled garbage")


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _wrong_shape(path: Path) -> None:
    np.save(path, np.zeros((2, 3), np.float16))


def _wrong_dtype(path: Path) -> None:
    np.save(path, np.zeros((4, 5, 6), np.float64))


@pytest.mark.parametrize("damage", [_truncate, _garbage, _empty, _wrong_shape, _wrong_dtype])
def test_a_damaged_spectrogram_file_is_named_and_rebuilt(tmp_path, damage):
    path = tmp_path / "world" / "log_mel.npy"
    value = np.random.default_rng(0).normal(size=(4, 5, 6)).astype(np.float16)
    calls: list[int] = []

    def compute() -> np.ndarray:
        calls.append(1)
        return value.astype(np.float32)

    first = load_or_compute(path, (4, 5, 6), compute)
    np.testing.assert_array_equal(first, value)
    damage(path)
    with pytest.warns(CacheWarning, match="damaged") as record:
        rebuilt = load_or_compute(path, (4, 5, 6), compute)
    assert str(path) in str(record[0].message)
    np.testing.assert_array_equal(rebuilt, value)
    assert len(calls) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        np.testing.assert_array_equal(load_or_compute(path, (4, 5, 6), compute), value)
    assert len(calls) == 2
    assert [p.name for p in path.parent.iterdir()] == ["log_mel.npy"]


def test_a_damaged_world_cache_warns_through_log_mel(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    calls: list[int] = []
    monkeypatch.setattr(world_module, "compute_log_mels", _fake_compute(calls))
    tiny.log_mel(progress=False)
    path = tmp_path / f"music_world_tiny_seed0_v{GENERATOR_VERSION}" / "log_mel.npy"
    _truncate(path)
    with pytest.warns(CacheWarning, match="log_mel.npy") as record:
        again = tiny.log_mel([0], progress=False)
    assert record[0].filename == __file__, "the warning points at the caller's line"
    np.testing.assert_array_equal(again, -20.0)
    assert len(calls) == 2
