"""Tests of course_lib.fusion.audio_model (chapter 07, section 3): the cached audio convnet."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from course_lib import fusion as fu
from course_lib.cache import CacheWarning
from course_lib.convnet import TRAINING_VERSION, center_crop, predict_track_factors


class _FakeWorld:
    size, seed = "test", 0

    def __init__(self, n=24, frames=140, mels=16, seed=0):
        self.mels = np.random.default_rng(seed).normal(size=(n, frames, mels)).astype(np.float32)

    def log_mel(self, progress=False):
        return self.mels


def _inputs():
    world = _FakeWorld()
    targets = np.random.default_rng(1).normal(size=(24, 3)).astype(np.float32)
    split = {"train": np.arange(16), "val": np.arange(16, 20), "test": np.arange(20, 24)}
    return world, targets, split


SMALL = {"n_frames": 110, "epochs": 1, "batch_size": 8}


def _expected_key(targets, split):
    """The cache key, computed by hand: the settings (with the training code's version, so that
    models trained by older training code are not reused), then the targets and the split."""
    settings = {**{"preset": "course", "patience": 4, "seed": 0, "loss": "cosine"}, **SMALL}
    settings["world"] = ["test", 0]
    settings["training_version"] = TRAINING_VERSION
    h = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for a in (targets, split["train"].astype(np.int64), split["val"].astype(np.int64)):
        h.update(str(a.shape).encode())
        rounded = np.round(a.astype(np.float64), 4) if a.dtype.kind == "f" else a
        h.update(rounded.tobytes())
    return h.hexdigest()[:12]


def test_audio_model_cache_audio_features_and_bad_input(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    world, targets, split = _inputs()
    first = fu.load_or_train_audio_model(world, targets, split, **SMALL)
    assert not first.cached and first.epochs == 1 and first.seconds_per_epoch > 0
    second = fu.load_or_train_audio_model(world, targets, split, **SMALL)
    assert second.cached
    assert (second.history, second.epochs, second.device) == (
        first.history,
        first.epochs,
        first.device,
    )
    assert second.seconds_per_epoch == pytest.approx(first.seconds_per_epoch)
    assert (tmp_path / "fusion" / f"audio_convnet_{_expected_key(targets, split)}.keras").exists()
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

    # --- issue 17: bad spectrograms and arguments, refused before the cache is read or written
    files = {p.name: p.read_bytes() for p in (tmp_path / "fusion").iterdir()}
    nan_mels = mels.copy()
    nan_mels[5, 3, 2] = np.nan
    with pytest.raises(ValueError, match=r"log_mels contains NaN.*spectrograms \[5\]"):
        fu.load_or_train_audio_model(world, targets, split, log_mels=nan_mels, **SMALL)
    with pytest.raises(ValueError, match=r"20 spectrograms but 24 target rows.*one spectrogram"):
        fu.load_or_train_audio_model(world, targets, split, log_mels=mels[:20], **SMALL)
    with pytest.raises(ValueError, match=r"100 frames; at least 110"):
        fu.load_or_train_audio_model(world, targets, split, log_mels=mels[:, :100], **SMALL)
    with pytest.raises(TypeError, match=r"epochs must be an integer.*epochs=1"):
        fu.load_or_train_audio_model(world, targets, split, n_frames=110, epochs="1")
    with pytest.raises(TypeError, match="n_frames must be an integer"):
        fu.load_or_train_audio_model(world, targets, split, n_frames=True)
    with pytest.raises(ValueError, match="preset must be one of"):
        fu.load_or_train_audio_model(world, targets, split, preset="huge", **SMALL)
    with pytest.raises(ValueError, match="overlap"):
        fu.load_or_train_audio_model(world, targets, {"train": [0, 1], "val": [1, 2]}, **SMALL)
    with pytest.raises(ValueError, match=r"targets contains NaN"):
        fu.load_or_train_audio_model(world, np.full((24, 3), np.nan), split, **SMALL)
    with pytest.raises(ValueError, match=r"8 mel bands but the model expects 16: compute"):
        fu.audio_features(second.model, mels[..., :8], "track", "factors")
    with pytest.raises(ValueError, match=r"log_mels has 100 frames; at least 110"):
        fu.audio_features(second.model, mels[:, :100], "patch", "factors")
    with pytest.raises(ValueError, match=r"log_mels contains NaN"):
        fu.audio_features(second.model, nan_mels, "patch", "factors")
    with pytest.raises(ValueError, match=r"log_mels must have shape \(n_tracks, n_frames"):
        fu.audio_features(second.model, mels[0], "patch", "factors")
    with pytest.raises(TypeError, match="chunk must be an integer"):
        fu.audio_features(second.model, mels, chunk=True)
    with pytest.raises(ValueError, match="mode must be one of 'patch', 'track'"):
        fu.audio_features(second.model, mels, mode=True)
    assert {p.name: p.read_bytes() for p in (tmp_path / "fusion").iterdir()} == files

    # --- a damaged cache record is reported, the model trained again, the record rewritten
    (record,) = (tmp_path / "fusion").glob("audio_convnet_*.json")
    record.write_text('{"history": {"loss": [0.5')  # cut short by a full disk
    with pytest.warns(CacheWarning, match=record.name):
        again = fu.load_or_train_audio_model(world, targets, split, **SMALL)
    assert not again.cached and again.epochs == 1
    assert json.loads(record.read_text())["epochs"] == 1
    assert fu.load_or_train_audio_model(world, targets, split, **SMALL).cached
