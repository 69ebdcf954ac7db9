"""The music world's log-mel spectrograms: computed once per world, then read from the disk cache.

Chapter 03 (listening to data) teaches the log-mel front end (:func:`course_lib.audio.log_mel`);
chapters 04, 05 and 07 feed ``world.log_mel()`` to their convnets. Computing every track of the
small world takes about a minute on 2 cores, so the result is stored as float16 in
``<cache>/music_world_<size>_seed<seed>_v<GENERATOR_VERSION>/log_mel.npy`` (memory-mapped on
later reads). The file is written to a temporary name and renamed, so concurrent notebooks never
see half a file; a file that is damaged all the same (truncated, garbage, the wrong shape) is
reported with a :class:`course_lib.cache.CacheWarning` naming it, and rebuilt.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from course_lib.audio import log_mel
from course_lib.cache import CacheWarning

from .synthesis import Synthesiser

__all__ = ["cache_file_name", "compute_log_mels", "load_or_compute"]

#: The settings of the course's spectrograms (chapter 03); other settings get their own file.
DEFAULT_SETTINGS = {"n_mels": 128, "n_fft": 1024, "hop_length": 256}


def cache_file_name(n_mels: int, n_fft: int, hop_length: int) -> str:
    """``log_mel.npy`` for the course's settings, a name that spells the settings otherwise."""
    settings = {"n_mels": n_mels, "n_fft": n_fft, "hop_length": hop_length}
    if settings == DEFAULT_SETTINGS:
        return "log_mel.npy"
    return f"log_mel_{n_mels}mels_{n_fft}fft_{hop_length}hop.npy"


def _log_mel_batch(
    synth: Synthesiser, ids: np.ndarray, n_mels: int, n_fft: int, hop_length: int
) -> np.ndarray:
    return log_mel(
        synth.audio(ids),
        synth.sample_rate,
        n_mels=n_mels,
        n_fft=n_fft,
        hop_length=hop_length,
        batch=True,
    )


def compute_log_mels(
    synth: Synthesiser,
    ids: np.ndarray,
    *,
    n_mels: int,
    n_fft: int,
    hop_length: int,
    progress: bool,
    n_jobs: int = 1,
) -> np.ndarray:
    """Float32 log-mels ``(len(ids), n_frames, n_mels)`` of valid track ids, 32 tracks a batch.

    With ``n_jobs > 1`` the batches run in parallel workers (joblib); each receives the small
    :class:`Synthesiser`, never the world's play matrices.
    """
    settings = (n_mels, n_fft, hop_length)
    batches = [ids[i : i + 32] for i in range(0, ids.size, 32)]
    if n_jobs == 1 or len(batches) < 4:
        it = (_log_mel_batch(synth, b, *settings) for b in batches)
    else:
        from joblib import Parallel, delayed

        it = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_log_mel_batch)(synth, b, *settings) for b in batches
        )
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, total=len(batches), desc="log-mel spectrograms", unit="batch")
    if not batches:
        n_frames = 1 + synth.n_samples // hop_length
        return np.empty((0, n_frames, n_mels), np.float32)
    return np.concatenate(list(it), axis=0)


def _damaged(path: Path, problem: str) -> None:
    warnings.warn(
        f"the cache file {path} is damaged ({problem}); rebuilding it", CacheWarning, stacklevel=4
    )


def load_or_compute(
    path: Path, shape: tuple[int, ...], compute: Callable[[], np.ndarray]
) -> np.ndarray:
    """The float16 array of ``shape`` stored at ``path`` (memory-mapped, read-only), or
    ``compute()`` stored there first.

    A file that cannot be read as an array, or holds another shape or dtype, is reported with a
    :class:`~course_lib.cache.CacheWarning` that names it, and rebuilt.
    """
    if path.exists():
        try:
            arr = np.load(path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError, EOFError) as error:
            _damaged(path, f"{type(error).__name__}: {error}")
        else:
            if arr.shape == shape and arr.dtype == np.float16:
                return arr
            _damaged(path, f"it holds {arr.dtype} {arr.shape}, not float16 {shape}")
            del arr  # release the memory map before the file is replaced
    path.parent.mkdir(parents=True, exist_ok=True)
    data = np.asarray(compute()).astype(np.float16)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npy.tmp")
    with os.fdopen(fd, "wb") as fh:
        np.save(fh, data, allow_pickle=False)
    os.replace(tmp, path)  # atomic: concurrent notebooks never see half a file
    return np.load(path, mmap_mode="r", allow_pickle=False)
