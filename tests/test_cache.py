"""Tests of course_lib.cache: one cache root, damaged entries rebuilt, nothing written outside."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
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


# --------------------------------------------------------------------------- issue 25
def test_fingerprint_of_plain_settings_is_unchanged() -> None:
    # the keys of the trained models already in people's caches must stay valid
    settings = {"als": {"factors": 32, "alpha": 40.0}, "world": ["small", 0], "path": Path("x")}
    settings |= {"n": np.int64(3), "x": np.float32(0.5), "on": True, "none": None}
    old = json.dumps(settings, sort_keys=True, default=str)
    assert fingerprint(settings) == hashlib.sha256(old.encode()).hexdigest()[:12]


@pytest.mark.parametrize("mode", ["w+", "r+", "w", "x"])
def test_writing_mmap_modes_are_refused_and_the_entry_survives(cache: Path, mode: str) -> None:
    value = np.arange(12.0)
    cached_array("big", lambda: value)
    (path,) = (cache / "audio").glob("big-*.npy")
    with pytest.raises(ValueError, match=r"mmap_mode must be None, 'r' or 'c'.*truncate"):
        cached_array("big", lambda: value, mmap_mode=mode)
    np.testing.assert_array_equal(np.load(path), value)


def test_copy_on_write_changes_stay_in_memory(cache: Path) -> None:
    cached_array("cow", lambda: np.zeros(5))
    view = cached_array("cow", lambda: np.zeros(5), mmap_mode="c")
    view[:] = 9.0
    np.testing.assert_array_equal(cached_array("cow", lambda: np.ones(5)), np.zeros(5))


def test_arrays_in_params_are_keyed_by_their_bytes(cache: Path) -> None:
    a = np.zeros(10_000)
    b = a.copy()
    b[5_000] = 1.0  # str() of both arrays is the same: "[0. 0. 0. ... 0. 0. 0.]"
    assert str(a) == str(b)
    calls, compute = _counting(np.ones(3))
    cached_array("weighted", compute, params={"weights": a})
    cached_array("weighted", compute, params={"weights": b})
    cached_array("weighted", compute, params={"weights": a.copy()})
    assert len(calls) == 2
    assert fingerprint({"w": a}) != fingerprint({"w": a.astype(np.float32)})
    assert fingerprint({"w": a}) != fingerprint({"w": a.reshape(100, 100)})


def _my_filter(x: np.ndarray) -> np.ndarray:
    return x


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (_my_filter, r"params\['steps'\]\[1\] is a function.*memory address.*its name"),
        (lambda x: x, r"params\['steps'\]\[1\] is a function"),
        (object(), r"params\['steps'\]\[1\] is a object object, not plain data"),
        ({3, 1}, r"params\['steps'\]\[1\] is a set.*sorted"),
        (np.array([None, 1]), r"params\['steps'\]\[1\] is an array of Python objects"),
    ],
)
def test_params_that_are_not_plain_data_are_refused(cache: Path, value, words: str) -> None:
    calls, compute = _counting(np.ones(2))
    with pytest.raises(TypeError, match=words):
        cached_array("demo", compute, params={"steps": ["lowpass", value]})
    assert not calls and not list(cache.rglob("*.npy"))
    with pytest.raises(TypeError, match=r"settings\['fn'\] is a function"):
        fingerprint({"fn": _my_filter})


@pytest.mark.parametrize(
    ("returned", "error", "words"),
    [
        ([np.zeros(5), np.zeros(7)], ValueError, r"ragged list.*\(5,\), \(7,\).*np\.stack"),
        ((np.zeros(100), 22050), TypeError, r"\(y, sr\) pair.*22050.*sample rate in params"),
        (np.array([{"a": 1}]), TypeError, "Python objects"),
    ],
)
def test_compute_returning_a_ragged_list_or_a_pair_is_named(cache, returned, error, words):
    with pytest.raises(error, match=words):
        cached_array("clips", lambda: returned)
    assert not list(cache.rglob("*.npy"))


def test_a_failed_save_leaves_no_temporary_file(cache: Path, monkeypatch) -> None:
    def interrupted(file, arr, allow_pickle):
        Path(file).write_bytes(b"\x93NUMPY half")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cached_array("demo", lambda: np.ones(3))
    assert not list(cache.rglob("*tmp*")) and not list(cache.rglob("*.npy"))


def test_a_cache_root_that_is_a_file_is_named_before_any_work(tmp_path, monkeypatch) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("my notes")
    monkeypatch.setenv("COURSE_LIB_CACHE", str(a_file))
    calls, compute = _counting(np.ones(3))
    words = re.escape(str(a_file)) + r" should be the course cache folder.*is a file.*"
    words += "COURSE_LIB_CACHE"
    with pytest.raises(NotADirectoryError, match=words):
        cached_array("demo", compute)
    with pytest.raises(NotADirectoryError, match=words):
        cache_dir("audio")
    assert not calls and a_file.read_text() == "my notes"


def test_a_folder_where_an_entry_should_be_is_named(cache: Path) -> None:
    calls, compute = _counting(np.ones(3))
    entry = cache / "audio" / f"demo-{fingerprint({})}.npy"
    entry.mkdir(parents=True)
    with pytest.raises(IsADirectoryError, match=re.escape(str(entry)) + ".*is a folder"):
        cached_array("demo", compute)
    assert not calls and entry.is_dir()
    model = cache_dir("models") / "net.npy"
    model.with_suffix(".json").mkdir()
    trainer = _Trainer(1.0)
    with pytest.raises(IsADirectoryError, match="net.json is a folder"):
        _run(model, {"epochs": 3}, trainer)
    assert trainer.calls == 0


def _refusing(code: int):
    def write(*args, **kwargs):
        for arg in args:
            if isinstance(arg, Path | str) and ".tmp" in str(arg):
                Path(arg).write_bytes(b"partial")  # what a full disk leaves
        raise OSError(code, os.strerror(code))

    return write


@pytest.mark.parametrize(
    ("code", "words"),
    [(errno.EROFS, "read-only"), (errno.EACCES, "read-only"), (errno.ENOSPC, "disk.*is full")],
)
def test_an_unwritable_cache_returns_the_array_with_a_warning(cache, monkeypatch, code, words):
    value = np.arange(6.0)
    calls, compute = _counting(value)
    monkeypatch.setattr(np, "save", _refusing(code))
    with pytest.warns(CacheWarning, match=words) as record:
        got = cached_array("demo", compute, mmap_mode="r")
    message = str(record[0].message)
    assert str(cache / "audio") in message and "COURSE_LIB_CACHE" in message
    np.testing.assert_array_equal(got, value)
    assert len(calls) == 1
    assert not list(cache.rglob("*tmp*")) and not list(cache.rglob("*.npy"))


def test_a_read_only_cache_without_its_folder_still_computes(cache, monkeypatch) -> None:
    def refuse(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.warns(CacheWarning, match="read-only"):
        got = cached_array("demo", lambda: np.ones(2))
    np.testing.assert_array_equal(got, np.ones(2))
    with pytest.raises(PermissionError, match="cannot create the cache folder.*COURSE_LIB_CACHE"):
        cache_dir("audio")


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_load_or_train_returns_a_model_it_cannot_store(cache: Path, code: int) -> None:
    path = cache_dir("models") / "net.npy"
    trainer = _Trainer(4.0)
    with pytest.warns(CacheWarning, match="trained model is returned but not kept"):
        model, record, cached = load_or_train(
            path, {"epochs": 3}, trainer.train, save=_refusing(code), load=trainer.load
        )
    np.testing.assert_array_equal(model, np.full(3, 4.0))
    assert not cached and record["settings"] == {"epochs": 3}
    assert list((cache / "models").iterdir()) == []


def test_load_or_train_refuses_settings_that_are_not_plain_data(cache: Path) -> None:
    trainer = _Trainer(1.0)
    with pytest.raises(TypeError, match=r"settings\['loss'\] is a function"):
        _run(cache_dir("models") / "net.npy", {"loss": _my_filter}, trainer)
    assert trainer.calls == 0
