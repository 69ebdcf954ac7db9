"""Saving and loading the convnet in Keras' ``.keras`` format, with ``safe_mode=True``.

Taught in chapter 04 (section 7: saving, reloading, and a model file that safe mode refuses); the
course-model cache of chapter 05 (:mod:`course_lib.convnet.course_model`) stores models this way.

Every custom piece (the pooling layer, the losses) is a registered Keras object, so no Python code
(lambdas) is deserialised: a model file from someone else cannot run code on your machine.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import keras

# The registered Keras objects must be imported before a model that uses them is loaded.
from . import layers, losses  # noqa: F401

__all__ = ["load_factor_model", "save_factor_model"]

#: The members of a ``.keras`` archive that hold the weights (Keras 3).
WEIGHT_FILES = frozenset({"model.weights.h5", "model.weights.npz"})


def _keras_path(path: str | os.PathLike[str], verb: str) -> Path:
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(
            f"{verb} a path ending in .keras (Keras' zip format), got {path.name!r}; "
            f"use e.g. {path.with_suffix('.keras').name!r}"
        )
    return path


def save_factor_model(model: keras.Model, path: str | os.PathLike[str]) -> Path:
    """Save in the ``.keras`` format (architecture, weights, optimizer state); returns the path.

    Refuses a path that does not end in ``.keras``; creates the parent folder.
    """
    path = _keras_path(path, "save to")
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return path


def load_factor_model(path: str | os.PathLike[str], *, compile: bool = True) -> keras.Model:
    """Load a ``.keras`` model with ``safe_mode=True`` (refuses to deserialise arbitrary code).

    The custom layer and losses of :mod:`course_lib.convnet` are registered Keras objects, so
    importing ``course_lib.convnet`` is all that is needed.

    Raises
    ------
    FileNotFoundError
        No file at ``path`` (the message names it).
    ValueError
        A path that does not end in ``.keras``; a file that is not a Keras model (not a zip
        archive, a damaged one, a cut ``config.json``, missing weights; the message names the
        file and says to delete it and save or train it again); a model whose configuration
        carries Python code (refused by safe mode).
    """
    path = _keras_path(path, "load from")
    if not path.is_file():
        raise FileNotFoundError(
            f"no saved model at {path}: train one first (load_or_train_course_model) or save "
            "one with save_factor_model"
        )
    damaged = (
        f"the file {path} is not a readable .keras model (a .keras file is a zip archive of the "
        "configuration and the weights); it is damaged or of another format: delete it, then "
        "save the model again (save_factor_model) or train it again"
    )
    if not zipfile.is_zipfile(path):
        raise ValueError(damaged)
    try:
        _check_archive(path)
        return keras.saving.load_model(path, safe_mode=True, compile=compile)
    except (zipfile.BadZipFile, KeyError, EOFError, OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{damaged} ({type(error).__name__}: {error})") from error


def _check_archive(path: Path) -> None:
    """Refuse a ``.keras`` archive whose configuration is cut or whose weights are missing.

    Keras would raise a bare ``JSONDecodeError`` or its own message without the file's name.
    """
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        if "config.json" not in names:
            raise KeyError("the archive has no config.json (the model's architecture)")
        json.loads(archive.read("config.json"))
        if not names & WEIGHT_FILES:
            raise KeyError(f"the archive has none of {sorted(WEIGHT_FILES)} (the weights)")
