"""The course model: chapter 04's convnet trained once with fixed settings, cached for chapter 05.

Taught in chapter 04 (section 4.3 loads or trains it with :func:`load_or_train_course_model`
and reads its learning curves, split and wall time with :func:`course_model_record`; section 5
does the same for the cosine-loss model); chapter 05 loads it too and reads the split from the
record beside it (:func:`course_lib.inspection.course_split`). :func:`save_course_run` stores a
model trained elsewhere under the same key.

An experiment pipeline, not model code: ALS on the world's plays, the split by artist, the convnet
trained on unit-norm factors, all with :data:`COURSE_SETTINGS`. The model is stored by the one
model cache, :func:`course_lib.cache.load_or_train`, at :func:`course_model_path`; the ``.json``
record beside it holds ``split``, ``history``, ``seconds``, ``size``, ``seed``, ``loss``,
``world_version``, ``settings`` and ``settings_key``. The cached model is reused only while the
settings and the music world's ``GENERATOR_VERSION`` are those it was trained with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from course_lib.als import fit_als
from course_lib.cache import cache_dir, load_or_train
from course_lib.music_world import GENERATOR_VERSION, SIZES
from course_lib.validation import require_choice, require_int

from .data import split_tracks
from .losses import LOSSES
from .network import build_factor_convnet
from .saving import load_factor_model, save_factor_model
from .training import TRAINING_VERSION, train_factor_model

__all__ = [
    "COURSE_SETTINGS",
    "CourseRun",
    "course_model_path",
    "course_model_record",
    "load_or_train_course_model",
    "save_course_run",
    "train_course_model",
]

_SPLIT_PARTS = ("train", "val", "test")

#: Training settings of the course model (chapter 04 uses the same values). The crop of 256
#: frames (4.1 s) follows van den Oord et al. (2013), who trained on 3-second windows and averaged
#: predictions over windows; large batches average out the noise of the ALS targets. A catalogue
#: of 1 500 tracks supports far fewer factors than Spotify's 40 (Dieleman 2014): with 16, more
#: regularisation and a gentler confidence slope, the targets keep what listening says about a
#: track's style and less of the noise of its few listeners.
COURSE_SETTINGS: dict[str, Any] = {
    "preset": "course",
    "n_frames": 256,
    "epochs": 60,
    "batch_size": 128,
    "learning_rate": 3e-3,
    "patience": 8,
    "split_by": "artist",
    "als": {"factors": 16, "alpha": 10.0, "regularization": 1.0, "iterations": 15},
}


@dataclass
class CourseRun:
    """Everything :func:`train_course_model` produced (model, history, split, factors)."""

    model: keras.Model
    history: dict[str, list[float]]
    split: dict[str, np.ndarray]
    user_factors: np.ndarray
    item_factors: np.ndarray
    seconds: float
    settings: dict[str, Any] = field(default_factory=dict)


def course_model_path(size: str = "small", seed: int = 0, loss: str = "mse") -> Path:
    """Where the trained course model for a music world ``size`` and ``seed`` is cached.

    ``$COURSE_LIB_CACHE/convnet/factor_convnet_{size}_seed{seed}_{loss}.keras`` (default cache
    ``~/.cache/course_lib``); a ``.json`` file with the same stem holds the split, the learning
    curves and the settings it was trained with. Refuses a size that is not a music-world size,
    a negative or non-integer seed and an unknown loss.
    """
    require_choice(size, "size", tuple(SIZES))
    seed = require_int(seed, "seed", 0)
    require_choice(loss, "loss", tuple(LOSSES))
    return cache_dir("convnet", create=False) / f"factor_convnet_{size}_seed{seed}_{loss}.keras"


def course_model_record(size: str = "small", seed: int = 0, loss: str = "mse") -> dict[str, Any]:
    """The record beside the cached course model: how it was trained.

    Read from the ``.json`` file that :func:`load_or_train_course_model` (or
    :func:`save_course_run`) writes next to :func:`course_model_path`. Returns a dict with
    ``history`` (per-epoch ``loss``, ``val_loss`` and the metrics, lists of floats), ``split``
    (``"train"``, ``"val"``, ``"test"``: sorted int arrays), ``seconds`` (training wall time) and
    ``settings`` (:data:`COURSE_SETTINGS` plus the music world's version).

    Raises
    ------
    FileNotFoundError
        No course model of these settings in the cache yet (the message names the call that
        trains it).
    ValueError
        A record that cannot be read or lacks a field (the message names the file and the call
        that rebuilds it).
    """
    path = course_model_path(size, seed, loss).with_suffix(".json")
    call = f"load_or_train_course_model(world, size={size!r}, seed={seed!r}, loss={loss!r}"
    if not path.exists():
        raise FileNotFoundError(f"no course model record at {path}: call {call}) first")
    try:
        record = json.loads(path.read_text())
        split = {part: np.asarray(record["split"][part], dtype=int) for part in _SPLIT_PARTS}
        out = {
            "history": {k: [float(v) for v in vals] for k, vals in record["history"].items()},
            "split": split,
            "seconds": float(record["seconds"]),
            "settings": dict(record["settings"]),
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(
            f"the course model's record {path} is unreadable ({error!r}); rebuild it with "
            f"{call}, retrain=True)"
        ) from None
    return out


def _cache_settings(settings: dict[str, Any], world_version: int) -> dict[str, Any]:
    """What the cached model depends on: settings, the world's and the training code's versions."""
    return {**settings, "world_version": int(world_version), "training_version": TRAINING_VERSION}


def _record(
    history: dict[str, Any],
    split: dict[str, Any],
    *,
    size: str,
    seed: int,
    loss: str,
    seconds: float,
    world_version: int,
) -> dict[str, Any]:
    return {
        "size": size,
        "seed": seed,
        "loss": loss,
        "seconds": float(seconds),
        "world_version": int(world_version),
        "history": {k: [float(v) for v in vals] for k, vals in history.items()},
        "split": {k: np.asarray(v).tolist() for k, v in split.items()},
    }


def save_course_run(
    model: keras.Model,
    history: dict[str, list[float]],
    split: dict[str, np.ndarray],
    *,
    size: str,
    seed: int = 0,
    loss: str = "mse",
    seconds: float = float("nan"),
    settings: dict[str, Any] | None = None,
    world_version: int | None = None,
) -> Path:
    """Save a trained course model and its ``.json`` record at :func:`course_model_path`.

    The record holds the split (chapter 05 reads it), the learning curves, the wall time, the
    settings and the music world's generator version (default: the current one);
    :func:`load_or_train_course_model` reuses the model only if both match the current ones.
    Both files are written through :func:`course_lib.cache.load_or_train`, so the record has
    exactly the form the cache reads back.
    """
    path = course_model_path(size, seed, loss)
    version = GENERATOR_VERSION if world_version is None else world_version
    cfg = COURSE_SETTINGS if settings is None else settings
    record = _record(
        history, split, size=size, seed=seed, loss=loss, seconds=seconds, world_version=version
    )
    load_or_train(
        path,
        _cache_settings(cfg, version),
        lambda: (model, record),
        save=save_factor_model,
        load=load_factor_model,
        retrain=True,
    )
    return path


def train_course_model(
    world: Any,
    *,
    seed: int = 0,
    loss: str = "mse",
    settings: dict[str, Any] | None = None,
    verbose: int = 0,
) -> CourseRun:
    """Fit ALS on ``world.plays``, split by artist, train the course convnet on unit-norm factors.

    The same steps chapter 04 takes one by one, with :data:`COURSE_SETTINGS` (``settings``
    overrides some of them; the crop is shortened to the world's clip length if that is shorter,
    as in the "tiny" world). Refuses an unknown loss and settings keys that
    :data:`COURSE_SETTINGS` does not have.
    """
    require_choice(loss, "loss", tuple(LOSSES))
    unknown = sorted(set(settings or {}) - set(COURSE_SETTINGS))
    if unknown:
        raise ValueError(
            f"settings has unknown keys {unknown}; the course model's settings are "
            f"{sorted(COURSE_SETTINGS)}"
        )
    cfg = {**COURSE_SETTINGS, **(settings or {})}
    user_factors, item_factors = fit_als(world.plays, seed=seed, progress=False, **cfg["als"])
    log_mels = world.log_mel(progress=False)
    split = split_tracks(world.tracks, by=cfg["split_by"], seed=seed)
    n_frames = min(int(cfg["n_frames"]), log_mels.shape[1])
    model = build_factor_convnet(
        n_frames, log_mels.shape[2], item_factors.shape[1], preset=cfg["preset"], seed=seed
    )
    history = train_factor_model(
        model,
        log_mels,
        item_factors,
        split["train"],
        split["val"],
        loss=loss,
        epochs=cfg["epochs"],
        batch_size=cfg["batch_size"],
        learning_rate=cfg["learning_rate"],
        patience=cfg["patience"],
        seed=seed,
        verbose=verbose,
    )
    return CourseRun(
        model,
        {k: [float(v) for v in vals] for k, vals in history.history.items()},
        split,
        np.asarray(user_factors),
        np.asarray(item_factors),
        history.seconds,
        cfg,
    )


def load_or_train_course_model(
    world: Any,
    *,
    size: str | None = None,
    seed: int = 0,
    loss: str = "mse",
    retrain: bool = False,
    verbose: int = 0,
) -> keras.Model:
    """The trained course convnet for ``world``: loaded from the cache, or trained once and saved.

    Parameters
    ----------
    world : MusicWorld
        The music world the model is (or was) trained on.
    size : str, optional
        The world's size name for the cache key; default ``world.size`` (or ``"small"``).
    seed : int
        Seeds ALS, the split and training; part of the cache key.
    loss : {"mse", "cosine"}
    retrain : bool
        Train again even if a cached model exists.

    Returns
    -------
    keras.Model
        Compiled. The split and learning curves are in the ``.json`` file next to
        :func:`course_model_path`. A cached model trained with other settings
        (:data:`COURSE_SETTINGS`) or another version of the music world is retrained, and so is
        one whose files are damaged (a :class:`course_lib.cache.CacheWarning` names the file).
    """
    size = size or str(getattr(world, "size", "small"))
    path = course_model_path(size, seed, loss)

    def train() -> tuple[keras.Model, dict[str, Any]]:
        run = train_course_model(world, seed=seed, loss=loss, verbose=verbose)
        record = _record(
            run.history,
            run.split,
            size=size,
            seed=seed,
            loss=loss,
            seconds=run.seconds,
            world_version=GENERATOR_VERSION,
        )
        return run.model, record

    model, _, _ = load_or_train(
        path,
        _cache_settings(COURSE_SETTINGS, GENERATOR_VERSION),
        train,
        save=save_factor_model,
        load=load_factor_model,
        retrain=retrain,
    )
    return model
