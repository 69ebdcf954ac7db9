"""Validators shared by every topic: arguments and arrays in, a clear error or a clean value out.

Used throughout ``course_lib`` (chapters 01-08 meet them as error messages, never as lessons).
Each validator either returns the value in canonical form (an ``int``, a ``float``, a C-contiguous
array, a CSR matrix) or raises ``TypeError`` (wrong kind of thing) / ``ValueError`` (right kind,
wrong value) with a message that names the argument, what was received and the fix.

Naming: ``require_*`` checks one scalar argument, ``validate_*`` checks and converts an array or
matrix. (``check_*`` names are reserved for the exercise checks of :mod:`course_lib.checks`.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = [
    "as_array",
    "require_choice",
    "require_int",
    "require_number",
    "validate_index",
    "validate_log_mels",
    "validate_matrix",
    "validate_nonempty_plays",
    "validate_plays",
]


def require_int(value: object, name: str, minimum: int | None = None) -> int:
    """``value`` as an ``int`` (Python or numpy integer, not ``bool``), at least ``minimum``.

    Raises
    ------
    TypeError
        A float (even ``2.0``), a string, a bool or anything else that is not an integer.
    ValueError
        An integer below ``minimum``.
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise TypeError(
            f"{name} must be an integer, got {value!r} ({type(value).__name__}); "
            f"pass e.g. {name}={max(minimum or 0, 1)}"
        )
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def require_number(
    value: object,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_minimum: bool = False,
) -> float:
    """``value`` as a finite ``float`` within ``[minimum, maximum]`` (``(minimum, ...`` if strict).

    Strings such as ``"0.1"`` and booleans are refused, not converted: a number read from a text
    file or a command line must be converted by the caller, on purpose.

    Raises
    ------
    TypeError
        Not a real number (a string, a bool, ``None``, a complex number, an array).
    ValueError
        NaN, infinite, or outside the allowed range.
    """
    if isinstance(value, bool | np.bool_) or not isinstance(
        value, int | float | np.integer | np.floating
    ):
        hint = f"; convert it first: {name}=float({value!r})" if isinstance(value, str) else ""
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__}){hint}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}.")
    if minimum is not None and (number < minimum or (strict_minimum and number == minimum)):
        relation = ">" if strict_minimum else ">="
        raise ValueError(f"{name} must be a number {relation} {minimum}, got {value!r}.")
    if maximum is not None and number > maximum:
        raise ValueError(f"{name} must be a number <= {maximum}, got {value!r}.")
    return number


def require_choice(value: object, name: str, choices: Sequence[Any]) -> Any:
    """``value`` if it is one of ``choices``, else a ``ValueError`` that lists them."""
    if value not in choices:
        listed = ", ".join(repr(choice) for choice in choices)
        raise ValueError(f"{name} must be one of {listed}; got {value!r}.")
    return value


def _looks_like_audio_pair(value: object) -> bool:
    """``(y, sr)`` as ``librosa.load`` returns it: a sequence of samples, then a number."""
    return (
        isinstance(value, tuple | list)
        and len(value) == 2
        and isinstance(value[1], int | float | np.integer | np.floating)
        and not isinstance(value[1], bool | np.bool_)
        and np.ndim(value[0]) >= 1
        and np.size(value[0]) > 1
    )


def as_array(value: Any, name: str, fix: str) -> np.ndarray:
    """``np.asarray(value)``, with a clear error for a ragged list or a ``(y, sr)`` pair.

    numpy cannot stack a list of arrays of different shapes ("inhomogeneous shape"), and the
    ``(y, sr)`` tuple that ``librosa.load`` returns is such a list. ``fix`` (a sentence) says
    what to pass instead; it ends both messages.

    Raises
    ------
    TypeError
        ``value`` looks like the ``(y, sr)`` pair of ``librosa.load``.
    ValueError
        ``value`` is a ragged sequence (the message lists the first items' shapes).
    """
    if isinstance(value, np.ndarray):
        return value
    if _looks_like_audio_pair(value):
        raise TypeError(
            f"{name} looks like the (y, sr) pair that librosa.load returns (samples and the "
            f"sample rate {value[1]!r}), not one array: unpack it first, "
            f"y, sr = librosa.load(path); {fix}"
        )
    try:
        arr = np.asarray(value)
    except ValueError:
        if not isinstance(value, Sequence) or isinstance(value, str | bytes):
            raise
        arr = None
    if arr is None or (arr.dtype == object and any(np.ndim(v) > 0 for v in arr.flat)):
        shapes = ", ".join(str(np.shape(item)) for item in list(value)[:4])
        more = ", ..." if len(value) > 4 else ""
        raise ValueError(
            f"{name} is a ragged list: its {len(value)} items have different shapes "
            f"({shapes}{more}), which numpy cannot stack into one array; {fix}"
        )
    return arr


def validate_matrix(
    x: Any,
    name: str,
    *,
    n_columns: int | None = None,
    allow_empty: bool = False,
    dtype: type = np.float32,
) -> np.ndarray:
    """A finite, dense, C-contiguous 2-D array of ``dtype`` (rows are examples), or a clear error.

    Raises
    ------
    TypeError
        A sparse matrix (call ``.toarray()``), or values that are not numbers.
    ValueError
        Not 2-D, empty (unless ``allow_empty``), the wrong number of columns, NaN or infinite
        values (the message lists the first rows that hold them).
    """
    if sp.issparse(x):
        raise TypeError(f"{name} must be a dense array; call .toarray() on the sparse matrix first")
    arr = as_array(x, name, "pass rows of equal length (one row per example)")
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_rows, n_columns), got shape {arr.shape}")
    if not allow_empty and arr.size == 0:
        raise ValueError(
            f"{name} is empty (shape {arr.shape}); it needs at least one row and column"
        )
    if n_columns is not None and arr.shape[1] != n_columns:
        raise ValueError(
            f"{name} has {arr.shape[1]} columns but {n_columns} are expected; "
            "pass vectors from the same model or embedding"
        )
    arr = np.ascontiguousarray(arr, dtype=dtype)
    finite = np.isfinite(arr)
    if not finite.all():
        bad = np.flatnonzero(~finite.all(axis=1))
        more = "..." if bad.size > 5 else ""
        raise ValueError(
            f"{name} contains NaN or infinite values (rows {bad[:5].tolist()}{more}); "
            "drop or repair those rows first"
        )
    return arr


def validate_index(idx: Any, n: int, name: str) -> np.ndarray:
    """A 1-D ``int64`` array of row indices into ``n`` rows, or a clear error."""
    arr = np.asarray(idx)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise ValueError(
            f"{name} must be a 1-D array of integer row indices, got {arr.dtype} of shape "
            f"{arr.shape}"
        )
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ValueError(
            f"{name} indexes rows {arr.min()}..{arr.max()} but there are only {n} rows: "
            "the indices and the data come from different catalogues"
        )
    return arr


_RAGGED_LOG_MELS = (
    "pass one spectrogram at a time, or crop them to a common number of frames first "
    "(np.stack([m[:n_frames] for m in log_mels])); audio needs its spectrogram first: "
    "course_lib.audio.log_mel(y, sr)"
)


def validate_log_mels(
    log_mels: Any,
    name: str = "log_mels",
    *,
    n_mels: int | None = None,
    min_frames: int = 1,
    allow_single: bool = True,
) -> np.ndarray:
    """Time-major log-mel spectrogram(s) as a finite float32 array of shape (n, n_frames, n_mels).

    The course's spectrograms are time-major (chapter 03): ``(n_frames, n_mels)`` for one clip,
    ``(n_tracks, n_frames, n_mels)`` for many. A single clip is returned with a leading axis of 1.

    Parameters
    ----------
    log_mels : array
        The spectrogram(s), in dB.
    name : str
        Used in messages.
    n_mels : int, optional
        The number of mel bands a model was built for; a different count is refused.
    min_frames : int
        The fewest frames the consumer can use (a network's receptive field or its input length).
    allow_single : bool
        Accept one ``(n_frames, n_mels)`` spectrogram.

    Raises
    ------
    TypeError
        Values that are not real numbers, or the ``(y, sr)`` pair of ``librosa.load``.
    ValueError
        A ragged list of spectrograms of different lengths (the message says what to do);
        the wrong number of dimensions, an empty array, another number of mel bands, fewer than
        ``min_frames`` frames, or NaN / infinite values (a damaged file or a log of zero power).
    """
    arr = as_array(log_mels, name, _RAGGED_LOG_MELS)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers (dB), got dtype {arr.dtype}")
    shapes = "(n_tracks, n_frames, n_mels)" + (" or (n_frames, n_mels)" if allow_single else "")
    if arr.ndim == 2 and allow_single:
        arr = arr[None]
    if arr.ndim != 3:
        raise ValueError(f"{name} must have shape {shapes}, got {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if n_mels is not None and arr.shape[2] != n_mels:
        raise ValueError(
            f"{name} has {arr.shape[2]} mel bands but the model expects {n_mels}: compute the "
            f"spectrograms with log_mel(..., n_mels={n_mels}), time-major (n_frames, n_mels)"
        )
    if arr.shape[1] < min_frames:
        raise ValueError(
            f"{name} has {arr.shape[1]} frames; at least {min_frames} are needed. Use a longer "
            "clip (or pad it with the silence level, -100 dB)"
        )
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        bad = np.flatnonzero(~np.isfinite(arr).all(axis=(1, 2)))
        raise ValueError(
            f"{name} contains NaN or infinite values (spectrograms {bad[:5].tolist()}); "
            "recompute them from the audio (a log of zero power needs the floor AMIN)"
        )
    return arr


def validate_plays(plays: object, name: str = "plays") -> sp.csr_matrix:
    """Validate a users x items play-count matrix and return it as canonical CSR.

    Parameters
    ----------
    plays : scipy.sparse matrix or array (n_users, n_items)
        Play counts. COO, CSC, CSR and dense arrays are accepted and converted to CSR (a
        float16 array, which scipy.sparse cannot hold, to float32).
    name : str
        Name used in error messages.

    Returns
    -------
    scipy.sparse.csr_matrix
        A copy with sorted indices and duplicate entries summed; explicit zeros are removed.
        The dtype is kept (integer counts stay integer).

    Raises
    ------
    TypeError
        If ``plays`` is not a 2-D matrix of numbers.
    ValueError
        If it contains negative, NaN or infinite values.
    """
    if isinstance(plays, np.ndarray | np.matrix):
        if plays.ndim != 2:
            raise TypeError(f"{name} must be 2-D (users x items); got shape {plays.shape}.")
        if plays.dtype.kind not in "biuf":
            raise TypeError(
                f"{name} must hold integer or float play counts, got dtype {plays.dtype}. "
                "Convert with plays.astype(np.float32)."
            )
        if plays.dtype == np.float16:  # scipy.sparse has no float16; float32 holds it exactly
            plays = plays.astype(np.float32)
        plays = sp.csr_matrix(plays)
    if not sp.issparse(plays):
        raise TypeError(
            f"{name} must be a scipy.sparse matrix (users x items), got {type(plays).__name__}. "
            "Build one with scipy.sparse.csr_matrix((counts, (user_ids, item_ids)))."
        )
    if plays.ndim != 2:
        raise TypeError(f"{name} must be 2-D (users x items); got shape {plays.shape}.")
    if not (np.issubdtype(plays.dtype, np.integer) or np.issubdtype(plays.dtype, np.floating)):
        raise TypeError(
            f"{name} must hold integer or float play counts, got dtype {plays.dtype}. "
            "Convert with plays.astype(np.float32)."
        )
    csr = sp.csr_matrix(plays, copy=True)  # converts coo/csc/lil; copy so we never touch input
    csr.sum_duplicates()
    csr.sort_indices()
    data = csr.data
    if data.size and np.issubdtype(data.dtype, np.floating) and not np.all(np.isfinite(data)):
        raise ValueError(
            f"{name} contains NaN or infinite values; play counts must be finite. "
            "Drop or fill those entries first (e.g. plays.data = np.nan_to_num(plays.data))."
        )
    if data.size and data.min() < 0:
        raise ValueError(
            f"{name} contains negative values (min {data.min()}); play counts must be >= 0. "
            "Implicit feedback has no negative plays: set them to 0 with "
            "plays.data = plays.data.clip(0) (a sparse matrix; plays = np.clip(plays, 0, None) "
            "for a dense one). plays.data.clip(0) alone returns a copy and changes nothing."
        )
    csr.eliminate_zeros()
    return csr


def validate_nonempty_plays(plays: object, name: str = "plays") -> sp.csr_matrix:
    """:func:`validate_plays`, also refusing a matrix without users or without items.

    Raises
    ------
    ValueError
        A shape such as ``(0, n_items)`` or ``(n_users, 0)``, besides what :func:`validate_plays`
        refuses.
    """
    csr = validate_plays(plays, name)
    if 0 in csr.shape:
        missing = "users (no rows)" if csr.shape[0] == 0 else "items (no columns)"
        raise ValueError(
            f"{name} has no {missing}: shape {csr.shape}. It needs at least one user and one "
            "item; check the filter or the split that built it."
        )
    return csr
