"""The music world itself: :class:`MusicWorld`, :func:`make_music_world` and the checksum.

Toured in chapter 00 and documented in ``datasets/music_world.md``; every chapter builds its
world with :func:`make_music_world`. A world is built once per ``(size, seed)`` and
kept in memory; every call hands out an independent copy (:meth:`MusicWorld.copy`), so one
caller's in-place edit (``world.plays.data[:] = 0``, a new column in ``world.tracks``) never
reaches the next caller, while the expensive generation still runs only once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from course_lib.cache import cache_dir
from course_lib.validation import require_int

from .generator import generate
from .simulator import Simulator, select_ids
from .sizes import GENERATOR_VERSION, SIZES
from .spectrograms import cache_file_name, compute_log_mels, load_or_compute
from .synthesis import Synthesiser

__all__ = ["MusicWorld", "make_music_world", "world_checksum"]


@dataclass(eq=False)
class MusicWorld(Simulator):
    """A generated music world; build it with :func:`make_music_world`.

    Attributes are documented in the package docstring and in ``datasets/music_world.md``.
    Matrices are oriented users x tracks (as ``implicit`` expects); track ``i`` is row ``i`` of
    :attr:`tracks` and column ``i`` of :attr:`plays`. The simulator's methods (``affinity``,
    ``play_probability``, ``logging_policy``, ``logged_feedback``, ``sample_logged_feedback``)
    come from :class:`~course_lib.music_world.simulator.Simulator`.
    """

    size: str
    seed: int
    plays: sp.csr_matrix
    new_track_plays: sp.csr_matrix
    tracks: pd.DataFrame
    users: pd.DataFrame
    genre_names: list[str]
    attributes: np.ndarray
    attribute_names: list[str]
    tags: sp.csr_matrix
    tag_names: list[str]
    user_taste: np.ndarray
    track_style: np.ndarray
    sample_rate: int
    clip_seconds: float
    n_mels: int = 128
    hop_length: int = 256
    n_fft: int = 1024
    _sound: np.ndarray = field(default=None, repr=False)  # (n_tracks, len(PARAMS)) raw parameters
    _melody_seed: np.ndarray = field(default=None, repr=False)
    _user_genre_mix: np.ndarray = field(default=None, repr=False)

    # ------------------------------------------------------------------ sizes
    @property
    def n_samples(self) -> int:
        """Samples per audio clip."""
        return int(round(self.clip_seconds * self.sample_rate))

    @property
    def n_frames(self) -> int:
        """Frames per log-mel spectrogram (librosa's centred STFT)."""
        return 1 + self.n_samples // self.hop_length

    def __repr__(self) -> str:
        return (
            f"MusicWorld(size={self.size!r}, seed={self.seed}, users={self.n_users}, "
            f"tracks={self.n_tracks} ({int(self.tracks.is_new.sum())} new), "
            f"plays nnz={self.plays.nnz}, genres={len(self.genre_names)})"
        )

    def copy(self) -> MusicWorld:
        """An independent copy: no array, matrix, table or list is shared with this world."""
        copies = {
            f.name: value.copy() if hasattr(value, "copy") else value
            for f in dataclasses.fields(self)
            if (value := getattr(self, f.name)) is not None
        }
        return dataclasses.replace(self, **copies)

    # ------------------------------------------------------------------ audio
    def _check_ids(self, track_ids: Sequence[int] | np.ndarray | int) -> np.ndarray:
        return select_ids(track_ids, self.n_tracks, "track")

    @cached_property
    def _synthesiser(self) -> Synthesiser:
        return Synthesiser(
            seed=self.seed,
            sample_rate=self.sample_rate,
            n_samples=self.n_samples,
            sound=self._sound,
            kind=self.tracks["kind"].to_numpy(),
            genre_id=self.tracks["genre_id"].to_numpy(),
            melody_seed=self._melody_seed,
        )

    def audio(self, track_ids: Sequence[int] | np.ndarray | int) -> np.ndarray:
        """Waveforms of the given tracks, float32 of shape ``(len(track_ids), n_samples)``.

        Synthesised on demand and deterministic: the same track always sounds the same. Ids
        that are not integers (``TypeError``) or lie outside ``[0, n_tracks)`` (``ValueError``)
        are refused.
        """
        return self._synthesiser.audio(self._check_ids(track_ids))

    @property
    def _cache_folder(self) -> Path:
        return cache_dir() / f"music_world_{self.size}_seed{self.seed}_v{GENERATOR_VERSION}"

    def log_mel(
        self, track_ids: Sequence[int] | np.ndarray | int | None = None, progress: bool = True
    ) -> np.ndarray:
        """Log-mel spectrograms (dB), float32 of shape ``(n, n_frames, n_mels)``, time first.

        Computed with :func:`course_lib.audio.log_mel` for every track the first time and cached
        on disk (``course_lib.cache.cache_dir()``, keyed by size, seed and generator version; see
        :mod:`course_lib.music_world.spectrograms`); later calls load from the cache in seconds.
        ``track_ids=None`` returns all tracks. The "large" world has no cache: ask for the ids you
        need. A damaged cache file is reported (``CacheWarning``) and rebuilt.
        """
        settings = {"n_mels": self.n_mels, "n_fft": self.n_fft, "hop_length": self.hop_length}
        if self.size == "large":
            if track_ids is None:
                raise ValueError(
                    "the 'large' world has no audio cache; pass the track ids you need"
                )
            ids = self._check_ids(track_ids)
            return compute_log_mels(self._synthesiser, ids, progress=False, **settings)
        full = load_or_compute(
            self._cache_folder / cache_file_name(**settings),
            (self.n_tracks, self.n_frames, self.n_mels),
            lambda: compute_log_mels(
                self._synthesiser,
                np.arange(self.n_tracks),
                progress=progress,
                n_jobs=min(4, os.cpu_count() or 1),
                **settings,
            ),
        )
        if track_ids is None:
            return np.asarray(full, dtype=np.float32)
        return np.asarray(full[self._check_ids(track_ids)], dtype=np.float32)

    def summary(self) -> pd.DataFrame:
        """A one-column table of the world's sizes, for display in notebooks."""
        kinds = self.tracks["kind"].value_counts()
        rows = {
            "users": self.n_users,
            "tracks": self.n_tracks,
            "  of which new (cold start)": int(self.tracks.is_new.sum()),
            "  intros / outros": int(kinds.get("intro", 0) + kinds.get("outro", 0)),
            "  covers": int(kinds.get("cover", 0)),
            "artists": int(self.tracks.artist_id.nunique()),
            "albums": int(self.tracks.album_id.nunique()),
            "genres": len(self.genre_names),
            "play events (sum of counts)": int(self.plays.sum()),
            "user-track pairs with plays": int(self.plays.nnz),
            "density of the play matrix": f"{self.plays.nnz / (self.n_users * self.n_tracks):.3%}",
            "attributes": len(self.attribute_names),
            "distinct tags": len(self.tag_names),
            "seconds of audio per track": self.clip_seconds,
        }
        return pd.DataFrame({"value": rows})


# The pristine world of each (size, seed) generated so far; never handed out, only copied.
_MEMO: dict[tuple[str, int], MusicWorld] = {}


def _generate(size: str, seed: int) -> MusicWorld:
    return MusicWorld(**generate(size, seed))


def make_music_world(size: str = "small", seed: int = 0) -> MusicWorld:
    """Build the music world of a given size and seed (generated once, then copied from memory).

    Parameters
    ----------
    size : {"tiny", "small", "large"}
        "tiny" for unit tests (a couple of hundred users and tracks, 3-second clips), "small" for
        the chapters (thousands of users, about 1,600 tracks, 10-second clips), "large" for the
        benchmarks (120,000 users x about 61,000 tracks of plays; audio on request only).
    seed : int
        Every random step derives from it: the same ``(size, seed)`` gives byte-identical arrays.

    Returns
    -------
    MusicWorld
        A fresh, independent copy on every call: editing it in place changes nothing for the
        next caller.

    Raises
    ------
    ValueError
        An unknown size, or a negative seed.
    TypeError
        A seed that is not an integer (``1.0``, ``"0"``, ``True``).
    """
    if not isinstance(size, str) or size not in SIZES:
        raise ValueError(f"unknown world size {size!r}; choose one of {sorted(SIZES)}")
    seed = require_int(seed, "seed", 0)
    key = (size, seed)
    if key not in _MEMO:
        _MEMO[key] = _generate(size, seed)
    return _MEMO[key].copy()


def world_checksum(world: MusicWorld, decimals: int = 4) -> str:
    """SHA-256 over the world's arrays and tables (the determinism tests pin it).

    Integer arrays enter as raw bytes; float arrays are rounded to ``decimals`` first, so that a
    last-bit difference between two BLAS builds does not change the checksum.

    Raises ``TypeError`` for anything but a :class:`MusicWorld` and for a non-integer
    ``decimals``, ``ValueError`` for a negative one.
    """
    if not isinstance(world, MusicWorld):
        raise TypeError(
            f"world_checksum expects a MusicWorld (make_music_world(size, seed)), got "
            f"{type(world).__name__}"
        )
    decimals = require_int(decimals, "decimals", 0)
    h = hashlib.sha256()
    for m in (world.plays, world.new_track_plays, world.tags):
        for arr in (m.indptr, m.indices, m.data):
            h.update(np.ascontiguousarray(arr).tobytes())
    for arr in (world.attributes, world.user_taste, world.track_style):
        h.update(np.round(arr.astype(np.float64), decimals).tobytes())
    for table in (world.tracks, world.users):
        h.update(table.round(decimals).to_csv(index=False).encode())
    return h.hexdigest()
