"""The course's on-disk cache: one root folder for arrays, trained models and downloads.

Used by every chapter that computes something worth keeping between runs: the music world's
log-mel spectrograms (chapter 03), the trained convnets (chapters 04, 05, 07) and the downloaded
real data sets (:mod:`course_lib.datasets`).

The root is ``$COURSE_LIB_CACHE`` when that variable is set, else ``~/.cache/course_lib``. Under
it, each kind of entry has a sub-folder: ``audio/`` (spectrograms), ``convnet/`` and ``fusion/``
(models), ``data/`` (downloads). Deleting the root is always safe: everything in it is rebuilt
(or downloaded and verified again) on the next run.

Every entry is written to a temporary file first and then renamed, so an interrupted run never
leaves a half-written file under the final name. An entry that is damaged all the same (a full
disk, a file copied by hand, bytes changed on disk) is detected when it is read: a warning names
the file, and the entry is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

__all__ = [
    "CacheWarning",
    "cache_dir",
    "cache_root",
    "cached_array",
    "fingerprint",
    "load_or_train",
    "write_json",
]

T = TypeVar("T")


class CacheWarning(UserWarning):
    """A cache entry was damaged or unreadable and is being rebuilt."""


def cache_root() -> Path:
    """The cache's root folder: ``$COURSE_LIB_CACHE`` or ``~/.cache/course_lib`` (not created)."""
    env = os.environ.get("COURSE_LIB_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "course_lib"


def cache_dir(subdir: str | None = None) -> Path:
    """A folder of the cache (created): the root, or ``subdir`` under it (e.g. ``"audio"``).

    Raises
    ------
    ValueError
        If ``subdir`` is absolute or leaves the root (``".."``): the cache never writes
        anywhere else.
    """
    root = cache_root()
    if not subdir:
        root.mkdir(parents=True, exist_ok=True)
        return root
    relative = Path(subdir)
    if relative.is_absolute() or ".." in relative.parts:
        raise ValueError(
            f"cache sub-folder {subdir!r} would leave the cache folder {root}; "
            "pass a plain relative name such as 'audio' or 'convnet/small'"
        )
    path = root / relative
    path.mkdir(parents=True, exist_ok=True)
    return path


def fingerprint(settings: Mapping[str, Any], *arrays: Any) -> str:
    """A 12-hex-digit SHA-256 of ``settings`` (JSON, sorted keys) and of ``arrays``' contents.

    Float arrays are rounded to 4 decimals first, so that the last bits of a BLAS sum on another
    machine do not change the key.
    """
    digest = hashlib.sha256(json.dumps(dict(settings), sort_keys=True, default=str).encode())
    for array in arrays:
        a = np.ascontiguousarray(array)
        digest.update(str(a.shape).encode())
        rounded = np.round(a.astype(np.float64), 4) if a.dtype.kind == "f" else a
        digest.update(rounded.tobytes())
    return digest.hexdigest()[:12]


def _temporary(path: Path) -> Path:
    return path.with_name(f"{path.stem}.{os.getpid()}.tmp{path.suffix}")


def write_json(path: Path, record: Mapping[str, Any]) -> None:
    """Write ``record`` as JSON to ``path`` atomically (temporary file, then rename)."""
    tmp = _temporary(path)
    tmp.write_text(json.dumps(dict(record)))
    os.replace(tmp, path)


def _damaged(path: Path, error: BaseException) -> None:
    warnings.warn(
        f"the cache file {path} is damaged ({type(error).__name__}: {error}); rebuilding it",
        CacheWarning,
        stacklevel=3,
    )


def cached_array(
    name: str,
    compute: Callable[[], np.ndarray],
    *,
    params: Mapping[str, Any] | None = None,
    subdir: str = "audio",
    mmap_mode: str | None = None,
    refresh: bool = False,
) -> np.ndarray:
    """Load an array from the cache, or compute it once and store it (``.npy``).

    The file name is ``{name}-{hash}.npy`` where the hash covers ``params`` (JSON, sorted keys), so
    changing any setting (sample rate, ``n_mels``, hop, world seed ...) recomputes instead of
    silently reusing a stale file. A file that cannot be read back as an array (truncated, empty,
    garbage, or a pickle, which is never loaded) is reported with a :class:`CacheWarning` that
    names it, and rebuilt.

    Parameters
    ----------
    name : str
        Readable stem, e.g. ``"logmel_small_seed0"``.
    compute : callable
        No-argument function returning the array.
    params : mapping, optional
        Everything the array depends on (JSON-serialisable).
    subdir : str
        Sub-folder of :func:`cache_dir`.
    mmap_mode : {None, "r", "c"}
        Passed to ``np.load`` (memory-map large arrays instead of reading them).
    refresh : bool
        Recompute even if the file exists.

    Raises
    ------
    ValueError
        A ``name`` that is not a plain file stem, or a ``subdir`` that leaves the cache.
    """
    if not name or any(c in name for c in "/\\") or name in (".", ".."):
        raise ValueError(f"cached_array: name must be a plain file stem, got {name!r}")
    path = cache_dir(subdir) / f"{name}-{fingerprint(params or {})}.npy"
    if path.exists() and not refresh:
        try:
            return np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
        except (ValueError, OSError, EOFError) as error:
            _damaged(path, error)
    arr = np.asarray(compute())
    tmp = _temporary(path)
    np.save(tmp, arr, allow_pickle=False)
    os.replace(tmp, path)
    return np.load(path, mmap_mode=mmap_mode, allow_pickle=False) if mmap_mode else arr


def load_or_train(
    path: Path,
    settings: Mapping[str, Any],
    train: Callable[[], tuple[T, dict[str, Any]]],
    *,
    save: Callable[[T, Path], None],
    load: Callable[[Path], T],
    retrain: bool = False,
) -> tuple[T, dict[str, Any], bool]:
    """A trained model from the cache, or trained once and stored: the one model cache.

    The model is stored at ``path`` and a record at ``path.with_suffix(".json")``: what ``train``
    returned beside the model (learning curves, split, timings) plus ``settings`` and their
    :func:`fingerprint`. A cached model is reused only when the fingerprint of ``settings``
    matches; a record or model file that cannot be read is reported (:class:`CacheWarning`) and
    the model is trained again.

    Parameters
    ----------
    path : Path
        Where the model goes (inside :func:`cache_dir`).
    settings : mapping
        Everything the model depends on (JSON-serialisable).
    train : callable
        ``train() -> (model, record)``.
    save, load : callable
        ``save(model, path)`` and ``load(path) -> model`` (e.g. Keras' ``.keras`` format).
    retrain : bool
        Ignore the cache.

    Returns
    -------
    (model, record, cached)
        ``cached`` is True when the model came from the cache.
    """
    key = fingerprint(settings)
    meta_path = path.with_suffix(".json")
    if not retrain and path.exists() and meta_path.exists():
        record: dict[str, Any] = {}
        try:
            record = json.loads(meta_path.read_text())
        except (OSError, ValueError) as error:
            _damaged(meta_path, error)
        if isinstance(record, dict) and record.get("settings_key") == key:
            try:
                return load(path), record, True
            except Exception as error:  # noqa: BLE001 - any unreadable model is rebuilt
                _damaged(path, error)
    model, record = train()
    record = {**record, "settings": dict(settings), "settings_key": key}
    tmp = _temporary(path)
    save(model, tmp)
    os.replace(tmp, path)
    write_json(meta_path, record)
    return model, record, False
