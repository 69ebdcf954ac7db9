"""Tests of course_lib.convnet.saving: the .keras round trip in safe mode (chapter 04), and
missing or damaged files (issue 17)."""

from __future__ import annotations

import re
import zipfile

import keras
import numpy as np
import pytest

from course_lib import convnet as C


def test_save_and_load_round_trip_in_safe_mode(tmp_path, toy_problem) -> None:
    x, y = toy_problem()
    model = C.build_factor_convnet(110, 8, 4, preset="course", seed=0)
    C.train_factor_model(
        model, x, y, np.arange(80), np.arange(80, 96), epochs=1, batch_size=16, jit_compile=False
    )
    path = C.save_factor_model(model, tmp_path / "m.keras")
    loaded = C.load_factor_model(path)
    np.testing.assert_allclose(
        loaded.predict(x[:5, :110], verbose=0),
        model.predict(x[:5, :110], verbose=0),
        rtol=1e-5,
        atol=1e-6,
    )
    assert loaded.get_layer("input_norm").get_weights()[0].shape == (8,)
    with pytest.raises(ValueError, match=".keras"):
        C.save_factor_model(model, tmp_path / "m.h5")
    # safe mode refuses a model whose config carries Python code (a lambda)
    inp = keras.Input((4,))
    unsafe = keras.Model(inp, keras.layers.Lambda(lambda t: t * 2)(inp))
    unsafe.save(tmp_path / "unsafe.keras")
    with pytest.raises(ValueError, match="safe_mode"):
        C.load_factor_model(tmp_path / "unsafe.keras")


def test_load_names_a_missing_or_damaged_file(tmp_path) -> None:
    missing = tmp_path / "nothing.keras"
    words = re.escape(f"no saved model at {missing}") + ".*train one"
    with pytest.raises(FileNotFoundError, match=words):
        C.load_factor_model(missing)
    garbage = tmp_path / "garbage.keras"
    garbage.write_bytes(b"this is not a zip archive" * 10)
    words = re.escape(f"{garbage} is not a readable .keras model") + ".*delete it"
    with pytest.raises(ValueError, match=words):
        C.load_factor_model(garbage)
    model = C.build_factor_convnet(110, 8, 4)
    good = C.save_factor_model(model, tmp_path / "good.keras")
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ValueError, match=re.escape(f"{truncated} is not a readable .keras model")):
        C.load_factor_model(truncated)
    with pytest.raises(ValueError, match="load from a path ending in .keras.*'model.keras'"):
        C.load_factor_model(tmp_path / "model.h5")
    folder = tmp_path / "folder.keras"
    folder.mkdir()
    with pytest.raises(FileNotFoundError, match=re.escape(f"no saved model at {folder}")):
        C.load_factor_model(folder)
    other_zip = tmp_path / "other.keras"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("notes.txt", "a zip archive, but not a Keras model")
    with pytest.raises(ValueError, match=re.escape(f"{other_zip} is not a readable .keras model")):
        C.load_factor_model(other_zip)
    assert C.load_factor_model(good).output_shape == (None, 4)  # the good file still loads


def _rewritten(source, target, change) -> None:
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in change(members).items():
            archive.writestr(name, data)


def test_load_names_a_cut_configuration_or_missing_weights(tmp_path) -> None:
    good = C.save_factor_model(C.build_factor_convnet(110, 8, 4), tmp_path / "good.keras")
    cut = tmp_path / "cut.keras"
    _rewritten(good, cut, lambda m: {**m, "config.json": m["config.json"][:100]})
    words = re.escape(f"{cut} is not a readable .keras model") + ".*delete it.*JSONDecodeError"
    with pytest.raises(ValueError, match=words):
        C.load_factor_model(cut)
    unweighted = tmp_path / "unweighted.keras"
    _rewritten(good, unweighted, lambda m: {k: v for k, v in m.items() if "weights" not in k})
    words = re.escape(f"{unweighted} is not a readable .keras model") + ".*delete it.*weights"
    with pytest.raises(ValueError, match=words):
        C.load_factor_model(unweighted)
