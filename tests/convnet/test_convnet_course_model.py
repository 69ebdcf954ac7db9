"""Tests of course_lib.convnet.course_model: the cached course model of chapters 04 and 05."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from course_lib import convnet as C
from course_lib.cache import CacheWarning
from course_lib.convnet import course_model as CM


class _World:
    size = "tiny"


def _small_model(seed: int = 0):
    return C.build_factor_convnet(110, 8, 4, seed=seed)


def _history() -> dict[str, list[float]]:
    return {"loss": [0.9, 0.5], "val_loss": [1.0, 0.7]}


def _split() -> dict[str, np.ndarray]:
    return {"train": np.array([0, 2]), "val": np.array([1]), "test": np.array([3, 4])}


@pytest.fixture
def trainings(monkeypatch) -> list[int]:
    """Replace the (minutes-long) course training by a tiny model; count the calls."""
    calls: list[int] = []

    def fake_train(world, *, seed=0, loss="mse", settings=None, verbose=0):
        calls.append(seed)
        return C.CourseRun(_small_model(len(calls)), _history(), _split(), None, None, 1.5, {})

    monkeypatch.setattr(CM, "train_course_model", fake_train)
    return calls


def test_course_model_path_lives_in_the_cache(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    path = C.course_model_path("small", 3, "cosine")
    assert path.parent == tmp_path / "convnet" and path.name.endswith("seed3_cosine.keras")
    with pytest.raises(ValueError, match="loss"):
        C.course_model_path("small", 0, "mae")
    with pytest.raises(ValueError, match="size must be one of"):
        C.course_model_path("../elsewhere", 0)
    with pytest.raises(TypeError, match="seed must be an integer"):
        C.course_model_path("small", 0.5)


def test_the_chapters_model_is_reused_and_its_record_read(tmp_path, monkeypatch, trainings):
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    model = _small_model()
    path = C.save_course_run(model, _history(), _split(), size="tiny", seed=3, seconds=2.0)
    record = json.loads(path.with_suffix(".json").read_text())
    for key in ("split", "history", "seconds", "settings", "world_version", "settings_key"):
        assert key in record, key
    assert record["split"]["test"] == [3, 4] and record["seconds"] == 2.0
    assert record["world_version"] == CM.GENERATOR_VERSION
    loaded = C.load_or_train_course_model(_World(), seed=3)
    assert trainings == []  # chapter 04's model, no training
    x = np.random.default_rng(0).normal(size=(2, 110, 8)).astype(np.float32)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    from course_lib.inspection import course_split

    assert course_split("tiny", 3)["test"].tolist() == [3, 4]


def test_a_change_of_settings_or_world_version_retrains(tmp_path, monkeypatch, trainings):
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    C.load_or_train_course_model(_World(), seed=0)
    C.load_or_train_course_model(_World(), seed=0)
    assert len(trainings) == 1  # trained once, then reused
    record = json.loads(C.course_model_path("tiny", 0).with_suffix(".json").read_text())
    assert record["seconds"] == 1.5 and record["split"]["train"] == [0, 2]
    monkeypatch.setitem(CM.COURSE_SETTINGS, "epochs", 61)
    C.load_or_train_course_model(_World(), seed=0)
    assert len(trainings) == 2
    monkeypatch.setattr(CM, "GENERATOR_VERSION", CM.GENERATOR_VERSION + 1)
    C.load_or_train_course_model(_World(), seed=0)
    C.load_or_train_course_model(_World(), seed=0)
    assert len(trainings) == 3
    C.load_or_train_course_model(_World(), seed=0, retrain=True)
    assert len(trainings) == 4


def test_a_damaged_course_model_is_named_and_retrained(tmp_path, monkeypatch, trainings):
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    C.load_or_train_course_model(_World(), seed=0)
    path = C.course_model_path("tiny", 0)
    path.write_bytes(b"garbage")
    with pytest.warns(CacheWarning, match=str(path.name)):
        model = C.load_or_train_course_model(_World(), seed=0)
    assert len(trainings) == 2 and model.output_shape == (None, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        C.load_or_train_course_model(_World(), seed=0)  # rebuilt: loads cleanly
    assert len(trainings) == 2


def test_train_course_model_refuses_unknown_settings_and_losses() -> None:
    with pytest.raises(ValueError, match=r"unknown keys \['epoch'\].*'epochs'"):
        CM.train_course_model(_World(), settings={"epoch": 3})
    with pytest.raises(ValueError, match="loss must be one of"):
        CM.train_course_model(_World(), loss="mae")


def test_course_model_record_reads_what_the_cache_wrote(tmp_path, monkeypatch, trainings):
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="load_or_train_course_model"):
        C.course_model_record("tiny", 0)
    C.load_or_train_course_model(_World(), seed=0)
    record = C.course_model_record("tiny", 0)
    assert record["history"] == _history() and record["seconds"] == 1.5
    assert record["split"]["test"].tolist() == [3, 4] and record["split"]["val"].dtype.kind == "i"
    assert record["settings"]["epochs"] == C.COURSE_SETTINGS["epochs"]
    path = C.course_model_path("tiny", 0).with_suffix(".json")
    path.write_text('{"history": {}}')
    with pytest.raises(ValueError, match="retrain=True"):
        C.course_model_record("tiny", 0)
