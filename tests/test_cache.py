"""Tests of course_lib.cache: one cache root, damaged entries rebuilt, nothing written outside."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from course_lib.cache import (
    CacheWarning,
    cache_dir,
    cache_root,
    cached_array,
    fingerprint,
    load_or_train,
    write_json,
)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _counting(value: np.ndarray) -> tuple[list[int], object]:
    calls: list[int] = []

    def compute() -> np.ndarray:
        calls.append(1)
        return value

    return calls, compute


# --------------------------------------------------------------------------- the root and folders
def test_root_follows_the_environment_variable(cache: Path) -> None:
    assert cache_root() == cache
    assert cache_dir() == cache and cache.is_dir()
    assert cache_dir("convnet/small") == cache / "convnet" / "small"
    assert (cache / "convnet" / "small").is_dir()


@pytest.mark.parametrize("subdir", ["../x", "audio/../../x", "/tmp/elsewhere"])
def test_subdirs_that_leave_the_cache_are_refused(cache: Path, subdir: str) -> None:
    with pytest.raises(ValueError, match="would leave the cache folder") as info:
        cache_dir(subdir)
    assert repr(subdir) in str(info.value) and "relative name" in str(info.value)
    with pytest.raises(ValueError, match="would leave the cache folder"):
        cached_array("demo", lambda: np.zeros(2), subdir=subdir)
    assert not (cache.parent / "x").exists()


@pytest.mark.parametrize("name", ["a/b", "a\\b", "..", ".", ""])
def test_names_that_are_not_plain_stems_are_refused(cache: Path, name: str) -> None:
    with pytest.raises(ValueError, match="plain file stem"):
        cached_array(name, lambda: np.zeros(2))


# --------------------------------------------------------------------------- cached_array
def test_cached_array_computes_once_and_keys_on_params(cache: Path) -> None:
    calls, compute = _counting(np.arange(6.0).reshape(2, 3))
    a = cached_array("demo", compute, params={"n_mels": 128})
    b = cached_array("demo", compute, params={"n_mels": 128})
    c = cached_array("demo", compute, params={"n_mels": 64})
    assert len(calls) == 2
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    assert len(list((cache / "audio").glob("demo-*.npy"))) == 2
    assert not list((cache / "audio").glob("*.tmp*"))
    cached_array("demo", compute, params={"n_mels": 128}, refresh=True)
    assert len(calls) == 3


def test_cached_array_file_name_is_the_fingerprint_of_params(cache: Path) -> None:
    cached_array("demo", lambda: np.ones(3), params={"sr": 16000, "hop": 256})
    expected = cache / "audio" / f"demo-{fingerprint({'hop': 256, 'sr': 16000})}.npy"
    assert expected.exists()


def _truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-40])


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x80\x04 pickled garbage")


@pytest.mark.parametrize("damage", [_truncated, _empty, _garbage])
@pytest.mark.parametrize("mmap_mode", [None, "r"])
def test_a_damaged_entry_is_reported_by_name_and_rebuilt(cache, damage, mmap_mode) -> None:
    value = np.arange(100, dtype=np.float32).reshape(10, 10)
    calls, compute = _counting(value)
    cached_array("spec", compute, params={"k": 1}, mmap_mode=mmap_mode)
    (path,) = (cache / "audio").glob("spec-*.npy")
    damage(path)
    with pytest.warns(CacheWarning, match="damaged") as record:
        got = cached_array("spec", compute, params={"k": 1}, mmap_mode=mmap_mode)
    assert str(path) in str(record[0].message)
    assert len(calls) == 2
    np.testing.assert_array_equal(got, value)
    # the rebuilt entry is whole again: read back without a warning or a recomputation
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        again = cached_array("spec", compute, params={"k": 1})
    np.testing.assert_array_equal(again, value)
    assert len(calls) == 2
    assert not list((cache / "audio").glob("*.tmp*"))


def test_other_entries_survive_a_damaged_one(cache: Path) -> None:
    cached_array("keep", lambda: np.full(4, 7.0))
    cached_array("spoil", lambda: np.zeros(4))
    (spoiled,) = (cache / "audio").glob("spoil-*.npy")
    _garbage(spoiled)
    with pytest.warns(CacheWarning):
        cached_array("spoil", lambda: np.ones(4))
    calls, compute = _counting(np.zeros(4))
    np.testing.assert_array_equal(cached_array("keep", compute), np.full(4, 7.0))
    assert not calls


# --------------------------------------------------------------------------- load_or_train
class _Trainer:
    """Counts trainings; the "model" is an array saved with numpy."""

    def __init__(self, value: float) -> None:
        self.value = value
        self.calls = 0

    def train(self) -> tuple[np.ndarray, dict]:
        self.calls += 1
        return np.full(3, self.value), {"loss": [1.0, 0.5]}

    @staticmethod
    def save(model: np.ndarray, path: Path) -> None:
        with open(path, "wb") as fh:
            np.save(fh, model, allow_pickle=False)

    @staticmethod
    def load(path: Path) -> np.ndarray:
        return np.load(path, allow_pickle=False)


def _run(path: Path, settings: dict, trainer: _Trainer, **kwargs):
    return load_or_train(
        path, settings, trainer.train, save=trainer.save, load=trainer.load, **kwargs
    )


def test_load_or_train_reuses_a_matching_record(cache: Path) -> None:
    path = cache_dir("models") / "net.npy"
    trainer = _Trainer(2.0)
    model, record, cached = _run(path, {"epochs": 3}, trainer)
    assert not cached and trainer.calls == 1
    assert record["loss"] == [1.0, 0.5] and record["settings"] == {"epochs": 3}
    assert record["settings_key"] == fingerprint({"epochs": 3})
    model2, record2, cached2 = _run(path, {"epochs": 3}, trainer)
    assert cached2 and trainer.calls == 1
    np.testing.assert_array_equal(model2, model)
    assert record2 == json.loads(path.with_suffix(".json").read_text())
    _, _, cached3 = _run(path, {"epochs": 3}, trainer, retrain=True)
    assert not cached3 and trainer.calls == 2


def test_load_or_train_retrains_when_the_settings_change(cache: Path) -> None:
    path = cache_dir("models") / "net.npy"
    _run(path, {"epochs": 3}, _Trainer(2.0))
    trainer = _Trainer(5.0)
    model, record, cached = _run(path, {"epochs": 4}, trainer)
    assert not cached and trainer.calls == 1
    np.testing.assert_array_equal(model, np.full(3, 5.0))
    assert record["settings"] == {"epochs": 4}
    _, _, cached = _run(path, {"epochs": 4}, trainer)
    assert cached and trainer.calls == 1


@pytest.mark.parametrize("spoil", ["record", "model"])
def test_load_or_train_retrains_on_a_damaged_record_or_model(cache: Path, spoil: str) -> None:
    path = cache_dir("models") / "net.npy"
    _run(path, {"epochs": 3}, _Trainer(2.0))
    damaged = path.with_suffix(".json") if spoil == "record" else path
    damaged.write_bytes(b"\x80\x04 pickled garbage")
    trainer = _Trainer(2.0)
    with pytest.warns(CacheWarning, match="damaged") as record:
        model, meta, cached = _run(path, {"epochs": 3}, trainer)
    assert str(damaged) in str(record[0].message)
    assert not cached and trainer.calls == 1
    np.testing.assert_array_equal(model, np.full(3, 2.0))
    _, _, cached = _run(path, {"epochs": 3}, trainer)
    assert cached and trainer.calls == 1


def test_write_json_is_atomic_and_readable(cache: Path) -> None:
    path = cache_dir() / "record.json"
    write_json(path, {"a": 1, "b": [1, 2]})
    assert json.loads(path.read_text()) == {"a": 1, "b": [1, 2]}
    assert [p.name for p in cache.iterdir()] == ["record.json"]


def test_fingerprint_ignores_key_order_and_last_float_bits() -> None:
    a = np.array([0.1, 0.2, 0.3])
    assert fingerprint({"a": 1, "b": 2}, a) == fingerprint({"b": 2, "a": 1}, a + 1e-9)
    assert fingerprint({"a": 1}, a) != fingerprint({"a": 2}, a)
    assert fingerprint({"a": 1}, a) != fingerprint({"a": 1}, a[:2])
    assert len(fingerprint({})) == 12
