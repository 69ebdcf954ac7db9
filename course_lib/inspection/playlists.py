"""Filter playlists: the tracks that excite one filter most, by peak or by average activation.

Taught in chapter 05 (what the network learned), section 3 ("Filter playlists: peaks and
sustained activation") and section 4: Dieleman (2014, sec. 6.1 and 6.2) listened to the test
tracks that maximally activate each filter. :func:`top_steps_playlist`, a playlist between his
two, is the answer to exercise 5.1. :func:`course_split`, used in section 1, gives the test
tracks: the split of the cached course model (chapter 04).
"""

from __future__ import annotations

import json
from typing import NamedTuple

import numpy as np

from course_lib.convnet import course_model_path
from course_lib.inspection._arguments import candidate_pool, require_k
from course_lib.inspection.activations import top_steps_scores, track_scores
from course_lib.validation import require_int

__all__ = ["Playlist", "course_split", "filter_playlist", "top_steps_playlist"]


class Playlist(NamedTuple):
    """A filter playlist: track indices, their scores, and the time step of each track's peak.

    ``peak_steps`` index the layer's time axis (map them to frames with
    :func:`~course_lib.inspection.layer_frame_centres`); for dense activations they are ``None``.
    In ``mode="mean"`` (and in :func:`top_steps_playlist`) the peak only tells which segment to
    play.
    """

    tracks: np.ndarray
    scores: np.ndarray
    peak_steps: np.ndarray | None


def filter_playlist(
    activations: np.ndarray,
    filter_index: int,
    k: int = 10,
    mode: str = "max",
    *,
    candidates: np.ndarray | None = None,
) -> Playlist:
    """The ``k`` tracks that activate one filter most, by peak or by average activation.

    Dieleman (2014, sec. 6.1): playlists of "songs that maximally activate" a first-layer filter
    (``mode="max"``: the maximum over time, one strong moment suffices); sec. 6.2: "the average
    activation of each feature across time for each track, and then ... the maximum across those"
    (``mode="mean"``: the filter must be active throughout). Ties are broken by track index.

    Parameters
    ----------
    activations : array (n_tracks, time, filters) or (n_tracks, units)
        From :func:`~course_lib.inspection.layer_activations`.
    filter_index : int
        Which filter (unit), ``0 <= filter_index < filters``.
    k : int
        Playlist length.
    mode : {"max", "mean"}
    candidates : array of int or bool mask, optional
        Restrict to these tracks (e.g. the test split, as in the post).

    Returns
    -------
    Playlist
        ``tracks`` (best first), ``scores`` and ``peak_steps``.

    Raises
    ------
    TypeError
        A ``filter_index`` or ``k`` that is not an integer.
    ValueError
        Activations of the wrong shape or with NaN / inf; a ``filter_index`` out of range; ``k``
        below 1 or larger than the number of candidate tracks; candidates out of range.
    """
    a = np.asarray(activations)
    return _best_tracks(a, track_scores(a, mode), filter_index, k, candidates)


def top_steps_playlist(
    activations: np.ndarray,
    filter_index: int,
    k: int = 10,
    n_steps: int = 1,
    *,
    candidates: np.ndarray | None = None,
) -> Playlist:
    """The ``k`` tracks whose ``n_steps`` strongest time steps of one filter average highest.

    A playlist between Dieleman's two (2014, sec. 6.1 and 6.2): ``n_steps=1`` gives the peak
    playlist of :func:`filter_playlist`, ``n_steps`` equal to the number of time steps the mean
    playlist; in between, a track must excite the filter for ``n_steps`` steps, not necessarily in
    a row (scores from :func:`~course_lib.inspection.top_steps_scores`). The answer to exercise
    5.1 of chapter 05. Ties are broken by track index.

    Parameters
    ----------
    activations : array (n_tracks, time, filters)
        A convolutional layer's output, from :func:`~course_lib.inspection.layer_activations`.
    filter_index, k, candidates
        As in :func:`filter_playlist`.
    n_steps : int
        How many of each track's strongest time steps to average.

    Returns
    -------
    Playlist
        As :func:`filter_playlist` returns it: tracks best first, their scores, peak steps.

    Raises
    ------
    TypeError, ValueError
        What :func:`filter_playlist` and :func:`~course_lib.inspection.top_steps_scores` refuse
        (activations without a time axis, ``n_steps`` out of range).
    """
    a = np.asarray(activations)
    return _best_tracks(a, top_steps_scores(a, n_steps), filter_index, k, candidates)


def _best_tracks(
    a: np.ndarray,
    scores: np.ndarray,
    filter_index: int,
    k: int,
    candidates: np.ndarray | None,
) -> Playlist:
    """The playlist of one column of ``scores`` (tracks, filters), best first."""
    n_filters = scores.shape[1]
    filter_index = require_int(filter_index, "filter_index")
    if not 0 <= filter_index < n_filters:
        raise ValueError(
            f"filter_index {filter_index} is out of range: this layer has {n_filters} filters "
            f"(0 .. {n_filters - 1})"
        )
    pool = candidate_pool(candidates, len(scores))
    k = require_k(k, pool.size)
    column = scores[pool, filter_index]
    best = pool[np.argsort(-column, kind="stable")[:k]]
    peaks = a[best, :, filter_index].argmax(axis=1) if a.ndim == 3 else None
    return Playlist(best, scores[best, filter_index], peaks)


def course_split(size: str = "small", seed: int = 0, loss: str = "mse") -> dict[str, np.ndarray]:
    """The train / validation / test split of the cached course model (chapter 04).

    Read from the ``.json`` record that :func:`course_lib.convnet.load_or_train_course_model`
    writes beside the model. Filter playlists, like Dieleman's, should use tracks the network was
    not trained on.

    Raises
    ------
    FileNotFoundError
        No course model of these settings in the cache yet.
    ValueError
        A record that cannot be read or holds no valid split (the message names the file and
        the call that rebuilds it; the file itself is left as it is).
    """
    path = course_model_path(size, seed, loss).with_suffix(".json")
    if not path.exists():
        raise FileNotFoundError(
            f"no split at {path}: call course_lib.convnet.load_or_train_course_model(world) first"
        )
    fix = (
        "rebuild the model and its record with course_lib.convnet.load_or_train_course_model("
        f"world, size={size!r}, seed={seed!r}, loss={loss!r}, retrain=True)"
    )
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ValueError(
            f"the course model's record {path} is unreadable ({error}); {fix}"
        ) from None
    split = record.get("split") if isinstance(record, dict) else None
    if not isinstance(split, dict) or not split:
        raise ValueError(f"the course model's record {path} holds no split; {fix}")
    out = {}
    for name, idx in split.items():
        arr = np.asarray(idx)
        if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu") or (arr < 0).any():
            raise ValueError(
                f"the course model's record {path} has a damaged {name!r} split (it must list "
                f"track indices); {fix}"
            )
        out[name] = arr.astype(np.int64)
    return out
