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

Faults of the file system are named too, with the folder and how to move the cache
(``COURSE_LIB_CACHE``): a file where the cache folder (or a folder where an entry) should be is
refused before any work; an entry that cannot be written (a read-only shared cache, a full disk)
is reported with a :class:`CacheWarning` and the computed result is returned all the same, only
not kept. Keys are built from plain data only: numpy arrays are hashed by their bytes, and
functions or other objects in the settings are refused (their text changes from run to run).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from course_lib.validation import as_array

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

#: The ``mmap_mode`` values :func:`cached_array` accepts: reading an entry, never writing it.
MMAP_MODES = (None, "r", "c")


class CacheWarning(UserWarning):
    """A cache entry was damaged, unreadable or could not be written (it is rebuilt or skipped)."""


def cache_root() -> Path:
    """The cache's root folder: ``$COURSE_LIB_CACHE`` or ``~/.cache/course_lib`` (not created)."""
    env = os.environ.get("COURSE_LIB_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "course_lib"


def _how_to_move() -> str:
    now = os.environ.get("COURSE_LIB_CACHE")
    where = f"COURSE_LIB_CACHE is {now!r}" if now else "COURSE_LIB_CACHE is not set"
    return (
        f"to use another folder ({where}), set it in a terminal, "
        "export COURSE_LIB_CACHE=$HOME/course_cache, or in the notebook before the first cached "
        "call, os.environ['COURSE_LIB_CACHE'] = '/path/to/a/writable/folder'"
    )


def _require_folder(folder: Path) -> None:
    """Refuse a file standing where ``folder`` or one of its parents should be a folder."""
    root = cache_root()
    for path in (folder, *folder.parents):
        if path.is_dir():
            return
        if path.exists():
            what = "the course cache folder" if path == root else "a folder of the course cache"
            raise NotADirectoryError(
                f"{path} should be {what} ({root}) but is a file: move or delete that file (the "
                f"cache rebuilds everything it holds), or {_how_to_move()}"
            )


def cache_dir(subdir: str | None = None, *, create: bool = True) -> Path:
    """A folder of the cache: the root, or ``subdir`` under it (e.g. ``"audio"``).

    Parameters
    ----------
    subdir : str, optional
        A relative name such as ``"audio"`` or ``"convnet/small"``.
    create : bool
        Create the folder (and the root) if missing.

    Raises
    ------
    ValueError
        If ``subdir`` is absolute or leaves the root (``".."``): the cache never writes
        anywhere else.
    NotADirectoryError
        A file where the root or a folder on the way should be (``COURSE_LIB_CACHE`` pointing at
        a file); the message names it and how to set ``COURSE_LIB_CACHE``.
    OSError
        The folder cannot be created (read-only); the message names it and the fix.
    """
    root = cache_root()
    path = root
    if subdir:
        relative = Path(subdir)
        if relative.is_absolute() or ".." in relative.parts:
            raise ValueError(
                f"cache sub-folder {subdir!r} would leave the cache folder {root}; "
                "pass a plain relative name such as 'audio' or 'convnet/small'"
            )
        path = root / relative
    _require_folder(path)
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise type(error)(
                f"cannot create the cache folder {path} ({error.strerror or error}); "
                f"{_how_to_move()}"
            ) from error
    return path


def _plain(value: Any, where: str) -> Any:
    """``value`` as JSON-ready plain data for a cache key, arrays hashed by dtype, shape, bytes.

    Plain values come back unchanged (and numpy scalars and paths as their text, as
    ``json.dumps(..., default=str)`` wrote them), so the keys of plain settings never change.
    """
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not (key is None or isinstance(key, str | int | float)):
                raise TypeError(
                    f"{where} has a key {key!r} of type {type(key).__name__}; cache keys need "
                    "text or number keys: use str(key)"
                )
            out[key] = _plain(item, f"{where}[{key!r}]")
        return out
    if isinstance(value, list | tuple):
        return [_plain(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError(
                f"{where} is an array of Python objects (dtype object), which has no stable "
                "bytes to hash: pass an array of numbers or text"
            )
        data = np.ascontiguousarray(value)
        digest = hashlib.sha256(data.view(np.uint8).reshape(-1)).hexdigest()
        return {"ndarray": [data.dtype.str, list(data.shape), digest]}
    if isinstance(value, np.generic | Path):
        return str(value)
    if isinstance(value, set | frozenset):
        raise TypeError(
            f"{where} is a set, whose order changes between runs (and so would the key): "
            "pass sorted(...) instead"
        )
    if callable(value):
        raise TypeError(
            f"{where} is a function or class ({value!r}), not plain data: its text holds a "
            "memory address that changes every run, so every run would write a new entry. "
            "Put what it computes with into the settings instead: its name (e.g. "
            "'my_filter') and its own settings"
        )
    hint = "; pass .to_numpy()" if hasattr(value, "to_numpy") else ""
    raise TypeError(
        f"{where} is a {type(value).__name__} object, not plain data (numbers, text, booleans, "
        f"None, lists, dicts or numpy arrays): put the settings it stands for instead{hint}"
    )


def fingerprint(settings: Mapping[str, Any], *arrays: Any, name: str = "settings") -> str:
    """A 12-hex-digit SHA-256 of ``settings`` (JSON, sorted keys) and of ``arrays``' contents.

    ``settings`` must be plain data: numbers, text, booleans, None, lists, tuples, dicts and
    numpy arrays (hashed exactly by dtype, shape and bytes, never by their elided text).
    Extra ``arrays`` are rounded to 4 decimals first when they hold floats, so that the last bits
    of a BLAS sum on another machine do not change the key.

    Raises
    ------
    TypeError
        A function, class, set or other object in ``settings`` (the message names the key, as
        ``settings['fn']``, and what to pass instead).
    ValueError, TypeError
        An ``arrays`` entry that is a ragged list or a ``(y, sr)`` pair.
    """
    plain = _plain(dict(settings), name)
    digest = hashlib.sha256(json.dumps(plain, sort_keys=True).encode())
    for array in arrays:
        a = np.ascontiguousarray(
            as_array(array, "an array of the cache key", "pass one array of equal-length rows")
        )
        digest.update(str(a.shape).encode())
        rounded = np.round(a.astype(np.float64), 4) if a.dtype.kind == "f" else a
        digest.update(rounded.tobytes())
    return digest.hexdigest()[:12]


def _temporary(path: Path) -> Path:
    return path.with_name(f"{path.stem}.{os.getpid()}.tmp{path.suffix}")


def _discard(path: Path) -> None:
    """Remove a temporary file left by a failed write (if any)."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def write_json(path: Path, record: Mapping[str, Any]) -> None:
    """Write ``record`` as JSON to ``path`` atomically (temporary file, then rename)."""
    tmp = _temporary(path)
    try:
        tmp.write_text(json.dumps(dict(record)))
        os.replace(tmp, path)
    except BaseException:
        _discard(tmp)
        raise


def _damaged(path: Path, error: BaseException) -> None:
    warnings.warn(
        f"the cache file {path} is damaged ({type(error).__name__}: {error}); rebuilding it",
        CacheWarning,
        stacklevel=3,
    )


def _not_stored(path: Path, error: OSError, what: str, stacklevel: int = 4) -> None:
    if error.errno == errno.ENOSPC:
        cause = f"the disk of {path.parent} is full: free some space there, or"
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        cause = f"the folder {path.parent} is read-only (a shared cache?):"
    else:
        cause = f"the folder {path.parent} cannot be written:"
    warnings.warn(
        f"could not store {path} ({error.strerror or error}); the {what} is returned but not "
        f"kept, so the next run computes it again. {cause} {_how_to_move()}",
        CacheWarning,
        stacklevel=stacklevel,
    )


def _refuse_folder_entry(path: Path) -> None:
    if path.is_dir():
        raise IsADirectoryError(
            f"{path} is a folder, but the cache keeps an entry (a file) under that name: move "
            f"or delete that folder (the entry is rebuilt), or {_how_to_move()}"
        )


def _stored(path: Path, write: Callable[[Path], Any], what: str) -> bool:
    """Write an entry through a temporary file; False (with a warning) if the disk refuses it."""
    tmp = _temporary(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        os.replace(tmp, path)
    except OSError as error:
        _discard(tmp)
        _not_stored(path, error, what)
        return False
    except BaseException:
        _discard(tmp)
        raise
    return True


def _computed_array(value: Any, name: str) -> np.ndarray:
    arr = as_array(
        value,
        f"the value compute() returned for cached_array({name!r})",
        "return one array: np.stack clips of equal length (or pad them to one length), or "
        "cache each clip under its own name; keep a sample rate in params, not in the array",
    )
    if arr.dtype.hasobject:
        raise TypeError(
            f"compute() for cached_array({name!r}) returned an array of Python objects (dtype "
            "object), which the cache does not store (it never writes or reads pickles): return "
            "an array of numbers or text"
        )
    return arr


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

    The file name is ``{name}-{hash}.npy`` where the hash covers ``params`` (JSON, sorted keys,
    arrays by their bytes), so changing any setting (sample rate, ``n_mels``, hop, world seed
    ...) recomputes instead of silently reusing a stale file. A file that cannot be read back as
    an array (truncated, empty, garbage, or a pickle, which is never loaded) is reported with a
    :class:`CacheWarning` that names it, and rebuilt. When the entry cannot be written (a
    read-only cache, a full disk), a :class:`CacheWarning` says so and the computed array is
    returned (in memory, even with ``mmap_mode``); no temporary file is left behind.

    Parameters
    ----------
    name : str
        Readable stem, e.g. ``"logmel_small_seed0"``.
    compute : callable
        No-argument function returning the array (numbers or text; one array, not a list of
        clips of different lengths).
    params : mapping, optional
        Everything the array depends on, as plain data: numbers, text, booleans, None, lists,
        dicts and numpy arrays (hashed by dtype, shape and bytes). Functions and other objects
        are refused: name them instead.
    subdir : str
        Sub-folder of :func:`cache_dir`.
    mmap_mode : {None, "r", "c"}
        Passed to ``np.load``: memory-map a large entry read-only (``"r"``) or copy-on-write
        (``"c"``: changes stay in memory). Modes that write to the file (``"r+"``, ``"w+"``) are
        refused: they would change, or truncate, the cached entry itself.
    refresh : bool
        Recompute even if the file exists.

    Raises
    ------
    ValueError
        A ``name`` that is not a plain file stem, a ``subdir`` that leaves the cache, an
        ``mmap_mode`` other than None, "r" or "c", a ragged list returned by ``compute``.
    TypeError
        ``params`` that are not plain data (the message names the key); ``compute`` returning
        Python objects or the ``(y, sr)`` pair of ``librosa.load``.
    NotADirectoryError, IsADirectoryError
        A file where the cache folder should be (``COURSE_LIB_CACHE`` pointing at a file), or a
        folder where the entry should be; checked before ``compute`` runs.
    """
    if mmap_mode not in MMAP_MODES:
        raise ValueError(
            f"mmap_mode must be None, 'r' or 'c' to read a cached entry, got {mmap_mode!r}: "
            "'w+' would truncate the entry and 'r+' would write your changes into it; use 'c' "
            "(copy-on-write) to change the array in memory only"
        )
    if not name or any(c in name for c in "/\\") or name in (".", ".."):
        raise ValueError(f"cached_array: name must be a plain file stem, got {name!r}")
    key = fingerprint(params or {}, name="params")
    path = cache_dir(subdir, create=False) / f"{name}-{key}.npy"
    _refuse_folder_entry(path)
    if path.exists() and not refresh:
        try:
            return np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
        except (ValueError, OSError, EOFError) as error:
            _damaged(path, error)
    arr = _computed_array(compute(), name)
    stored = _stored(path, lambda tmp: np.save(tmp, arr, allow_pickle=False), "array")
    if stored and mmap_mode:
        return np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
    return arr


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
    matches; a record or model file that cannot be read (cut, emptied, missing its weights) is
    reported (:class:`CacheWarning`, naming the file) and the model is trained again. A model
    that cannot be stored (a read-only cache, a full disk) is reported the same way and
    returned all the same.

    Parameters
    ----------
    path : Path
        Where the model goes (inside :func:`cache_dir`).
    settings : mapping
        Everything the model depends on, as plain data (see :func:`fingerprint`).
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

    Raises
    ------
    TypeError
        ``settings`` that are not plain data (the message names the key).
    NotADirectoryError, IsADirectoryError
        A file where the model's folder should be, or a folder where the model or its record
        should be; checked before ``train`` runs.
    """
    key = fingerprint(settings)
    meta_path = path.with_suffix(".json")
    _require_folder(path.parent)
    _refuse_folder_entry(path)
    _refuse_folder_entry(meta_path)
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
    if _stored(path, lambda tmp: save(model, tmp), "trained model"):
        try:
            write_json(meta_path, record)
        except OSError as error:
            _not_stored(meta_path, error, "trained model", stacklevel=3)
    return model, record, False
