"""The music world: a deterministic synthetic catalogue that every chapter runs on.

Toured in chapter 00 and documented in ``datasets/music_world.md``; used by every later chapter.

One hidden structure drives everything, so that each method of the course has something real to
find:

* **Genres** have a sound (tempo range, mode, timbre, drum pattern, distortion, vocals) and a
  position in a latent *taste space*.
* **Artists** live inside a genre with a sub-style of their own; **albums** group their tracks,
  some with an *intro* or *outro* (short, sparse, noise- or speech-like) and some with a *cover*
  (another artist's melody played with this artist's sound).
* A track's latent **style** vector (``track_style``) mixes its genre's position, a projection of
  its audible parameters and an artist term that no audio reveals. Intros and outros take their
  album's style and covers lean towards the original they cover: collaborative filtering will
  place them with the album or the original, audio will not, which is the outlier story of
  Dieleman (2014).
* **Users** mix a few genres. Listening is sampled by a browsing story: a user picks a genre from
  their mix, is shown a few candidates (popular ones more often, a Zipf-like law), and plays the
  one they like best; sometimes they play a whole album. Repeated plays follow affinity, so play
  counts are implicit feedback, not ratings (Hu, Koren & Volinsky 2008).
* **Audio** is synthesised on demand from the track's parameters (melody on a scale, harmonic
  timbre from a wavetable, bass, drums at the track's tempo, formant "vocals" with vibrato,
  distortion), so a convnet can recover much of the style from sound (van den Oord, Dieleman &
  Schrauwen 2013).
* **Attributes** are noisy expert descriptors of the audible parameters, in the spirit of
  Pandora's Music Genome Project; **tags** are sparse listener tags whose number grows with
  observed plays, so the long tail is poorly tagged.
* A **simulator** exposes the exact probability that a user plays a recommended track and a
  deployed stochastic logging policy, with a log of its impressions, for counterfactual
  evaluation (chapter 08).

Everything is a function of ``(size, seed)``: the same pair gives byte-identical arrays.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .audio import cache_dir

__all__ = [
    "GENERATOR_VERSION",
    "SIZES",
    "MusicWorld",
    "WorldSize",
    "make_music_world",
    "cache_dir",
    "world_checksum",
]

#: Bump when the generator changes: it keys the on-disk cache.
GENERATOR_VERSION = 2

_MAJOR = np.array([0, 2, 4, 5, 7, 9, 11])
_MINOR = np.array([0, 2, 3, 5, 7, 8, 10])

# Audible parameters of a track, in this order. They drive the synthesiser, the latent style and
# the expert attributes.
_PARAMS = [
    "tempo",
    "mode_major",
    "distortion",
    "vocals",
    "brightness",
    "percussiveness",
    "acousticness",
    "energy",
    "pitch",
    "swing",
    "bass",
    "noisiness",
]


@dataclass(frozen=True)
class _Genre:
    name: str
    tempo: tuple[float, float]
    major_prob: float
    distortion: float
    vocals: float
    brightness: float
    percussiveness: float
    acousticness: float
    energy: float
    pitch: float  # MIDI note of the melody's centre
    swing: float
    bass: float
    noisiness: float
    timbre: str
    drums: str


_GENRES = [
    _Genre(
        "rock", (108, 140), 0.7, 0.45, 0.8, 0.55, 0.7, 0.3, 0.7, 62, 0.0, 0.6, 0.05, "saw", "rock"
    ),
    _Genre(
        "metal",
        (150, 190),
        0.1,
        0.95,
        0.6,
        0.75,
        0.9,
        0.05,
        0.95,
        52,
        0.0,
        0.7,
        0.15,
        "saw",
        "metal",
    ),
    _Genre(
        "electronic",
        (122, 132),
        0.5,
        0.1,
        0.2,
        0.8,
        0.85,
        0.0,
        0.8,
        69,
        0.0,
        0.8,
        0.02,
        "square",
        "four",
    ),
    _Genre(
        "hiphop",
        (84, 98),
        0.3,
        0.05,
        0.9,
        0.35,
        0.8,
        0.15,
        0.6,
        57,
        0.3,
        0.95,
        0.03,
        "square",
        "boombap",
    ),
    _Genre(
        "jazz", (100, 170), 0.4, 0.0, 0.3, 0.45, 0.4, 0.8, 0.45, 64, 0.6, 0.5, 0.01, "sax", "swing"
    ),
    _Genre(
        "classical",
        (60, 100),
        0.6,
        0.0,
        0.05,
        0.3,
        0.0,
        1.0,
        0.3,
        67,
        0.0,
        0.25,
        0.0,
        "strings",
        "none",
    ),
    _Genre(
        "folk",
        (90, 120),
        0.8,
        0.0,
        0.85,
        0.4,
        0.25,
        0.95,
        0.4,
        64,
        0.1,
        0.35,
        0.01,
        "pluck",
        "light",
    ),
    _Genre(
        "pop", (100, 124), 0.9, 0.05, 0.95, 0.65, 0.6, 0.2, 0.65, 69, 0.0, 0.6, 0.01, "piano", "pop"
    ),
]
# Genres that share fans (used to build users' genre mixes).
_NEIGHBOURS = {
    "rock": ["metal", "folk", "pop"],
    "metal": ["rock"],
    "electronic": ["pop", "hiphop"],
    "hiphop": ["electronic", "pop"],
    "jazz": ["classical", "hiphop"],
    "classical": ["jazz", "folk"],
    "folk": ["rock", "classical"],
    "pop": ["rock", "electronic", "hiphop"],
}

# Drum patterns on 16 sixteenth-notes per bar: (kick, snare, hat) onset steps.
_DRUMS = {
    "rock": ([0, 8, 10], [4, 12], list(range(0, 16, 2))),
    "metal": ([0, 2, 4, 6, 8, 10, 12, 14], [4, 12], list(range(0, 16, 2))),
    "four": ([0, 4, 8, 12], [4, 12], [2, 6, 10, 14]),
    "boombap": ([0, 7, 10], [4, 12], list(range(0, 16, 2))),
    "swing": ([0], [], [0, 4, 6, 8, 12, 14]),
    "none": ([], [], []),
    "light": ([0, 8], [], [4, 12]),
    "pop": ([0, 6, 8], [4, 12], list(range(0, 16, 2))),
}

_ADJECTIVES = (
    "Velvet Electric Silent Golden Broken Neon Crimson Hollow Lunar Wild Paper Iron Amber "
    "Midnight Static Glass Rusty Quiet Northern Burning Frozen Distant Electric Scarlet Copper "
    "Secret Cosmic Lazy Wooden Bright Faded Savage Gentle Hidden Restless Solar"
).split()
_NOUNS = (
    "Engines Wolves Rivers Machines Echoes Harbours Mirrors Lanterns Owls Satellites Gardens "
    "Pilots Tides Cathedrals Foxes Circuits Ravens Dunes Comets Orchards Sparrows Signals Giants "
    "Horizons Shadows Bells Wires Islands Embers Meadows Strangers Saints Arrows Clocks Valleys"
).split()
_WORDS = (
    "love night fire rain road heart light dream stone river city summer ghost sky gold "
    "dance storm echo shadow ocean wire glass morning honey thunder silver home winter blue "
    "signal midnight paper garden velvet smoke window static motion fever harbour island"
).split()

# Listener tags that carry no information about the sound (noise in the tag matrix).
_NOISE_TAGS = [
    "favorites",
    "seen live",
    "awesome",
    "my playlist",
    "check out",
    "workout",
    "sad",
    "00s",
]


@dataclass(frozen=True)
class WorldSize:
    """The knobs of one world size (see :data:`SIZES`)."""

    n_users: int
    artists_per_genre: int
    albums_per_artist: int
    clip_seconds: float
    draws_per_user: float  # mean number of listening draws per user
    n_impressions: int  # rows of the logged-feedback table


SIZES: dict[str, WorldSize] = {
    "tiny": WorldSize(
        n_users=200,
        artists_per_genre=3,
        albums_per_artist=1,
        clip_seconds=3.0,
        draws_per_user=18.0,
        n_impressions=4_000,
    ),
    "small": WorldSize(
        n_users=2_500,
        artists_per_genre=12,
        albums_per_artist=2,
        clip_seconds=10.0,
        draws_per_user=30.0,
        n_impressions=40_000,
    ),
    "large": WorldSize(
        n_users=120_000,
        artists_per_genre=450,
        albums_per_artist=2,
        clip_seconds=10.0,
        draws_per_user=25.0,
        n_impressions=200_000,
    ),
}

_LATENT_DIM = 16
_NEW_ALBUM_FRACTION = 0.1


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(eq=False)
class MusicWorld:
    """A generated music world; build it with :func:`make_music_world`.

    Attributes are documented in the module docstring and in ``datasets/music_world.md``.
    Matrices are oriented users x tracks (as ``implicit`` expects); track ``i`` is row ``i`` of
    :attr:`tracks` and column ``i`` of :attr:`plays`.
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
    _sound: np.ndarray = field(default=None, repr=False)  # (n_tracks, len(_PARAMS)) raw parameters
    _melody_seed: np.ndarray = field(default=None, repr=False)
    _user_genre_mix: np.ndarray = field(default=None, repr=False)

    # ------------------------------------------------------------------ sizes
    @property
    def n_users(self) -> int:
        return self.plays.shape[0]

    @property
    def n_tracks(self) -> int:
        return self.plays.shape[1]

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

    # ------------------------------------------------------------------ audio
    def _check_ids(self, track_ids: Sequence[int] | np.ndarray | int) -> np.ndarray:
        ids = np.atleast_1d(np.asarray(track_ids))
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
            raise TypeError("track_ids must be an integer id or a 1-D sequence of integer ids")
        if ids.size and (ids.min() < 0 or ids.max() >= self.n_tracks):
            raise ValueError(
                f"track ids must lie in [0, {self.n_tracks - 1}]; got {ids.min()}..{ids.max()}"
            )
        return ids.astype(np.int64)

    def audio(self, track_ids: Sequence[int] | np.ndarray | int) -> np.ndarray:
        """Waveforms of the given tracks, float32 of shape ``(len(track_ids), n_samples)``.

        Synthesised on demand and deterministic: the same track always sounds the same.
        """
        ids = self._check_ids(track_ids)
        out = np.empty((ids.size, self.n_samples), dtype=np.float32)
        for row, tid in enumerate(ids):
            out[row] = _render(self, int(tid))
        return out

    @property
    def _cache_folder(self) -> Path:
        return cache_dir() / f"music_world_{self.size}_seed{self.seed}_v{GENERATOR_VERSION}"

    def log_mel(
        self, track_ids: Sequence[int] | np.ndarray | int | None = None, progress: bool = True
    ) -> np.ndarray:
        """Log-mel spectrograms (dB), float32 of shape ``(n, n_frames, n_mels)``, time first.

        Computed with :func:`course_lib.audio.log_mel` for every track the first time and cached
        on disk (``cache_dir()``, keyed by size, seed and generator version); later calls load from
        the cache in seconds. ``track_ids=None`` returns all tracks. The "large" world has no
        cache: ask for the ids you need.
        """
        if self.size == "large":
            if track_ids is None:
                raise ValueError(
                    "the 'large' world has no audio cache; pass the track ids you need"
                )
            ids = self._check_ids(track_ids)
            return self._compute_log_mels(ids, progress=False)
        full = self._log_mel_cache(progress)
        if track_ids is None:
            return np.asarray(full, dtype=np.float32)
        return np.asarray(full[self._check_ids(track_ids)], dtype=np.float32)

    def _compute_log_mels(self, ids: np.ndarray, progress: bool, n_jobs: int = 1) -> np.ndarray:
        batches = [ids[i : i + 32] for i in range(0, ids.size, 32)]
        if n_jobs == 1 or len(batches) < 4:
            it = (_log_mel_batch(self, b) for b in batches)
        else:
            from joblib import Parallel, delayed

            # Workers rebuild the world from (size, seed): cheap, and nothing large is pickled.
            it = Parallel(n_jobs=n_jobs, return_as="generator")(
                delayed(_log_mel_batch_by_key)(self.size, self.seed, b) for b in batches
            )
        if progress:
            from tqdm.auto import tqdm

            it = tqdm(it, total=len(batches), desc="log-mel spectrograms", unit="batch")
        return (
            np.concatenate(list(it), axis=0)
            if batches
            else np.empty((0, self.n_frames, self.n_mels), np.float32)
        )

    def _log_mel_cache(self, progress: bool) -> np.ndarray:
        folder = self._cache_folder
        path = folder / "log_mel.npy"
        if path.exists():
            arr = np.load(path, mmap_mode="r", allow_pickle=False)
            if arr.shape == (self.n_tracks, self.n_frames, self.n_mels):
                return arr
        folder.mkdir(parents=True, exist_ok=True)
        data = self._compute_log_mels(
            np.arange(self.n_tracks), progress, n_jobs=min(4, os.cpu_count() or 1)
        ).astype(np.float16)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".npy.tmp")
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, data, allow_pickle=False)
        os.replace(tmp, path)  # atomic: concurrent notebooks never see half a file
        return np.load(path, mmap_mode="r", allow_pickle=False)

    # -------------------------------------------------------------- simulator
    def _users(self, user_ids: Sequence[int] | np.ndarray | None) -> np.ndarray:
        if user_ids is None:
            return np.arange(self.n_users)
        ids = np.atleast_1d(np.asarray(user_ids))
        if not np.issubdtype(ids.dtype, np.integer) or ids.ndim != 1:
            raise TypeError("user_ids must be an integer id or a 1-D sequence of integer ids")
        if ids.size and (ids.min() < 0 or ids.max() >= self.n_users):
            raise ValueError(f"user ids must lie in [0, {self.n_users - 1}]")
        return ids.astype(np.int64)

    @cached_property
    def _affinity_scale(self) -> float:
        rng = np.random.default_rng(self.seed + 17)
        u = rng.integers(0, self.n_users, 256)
        return float(np.std(self.user_taste[u] @ self.track_style.T)) or 1.0

    @cached_property
    def _log_popularity_z(self) -> np.ndarray:
        pop = np.log(self.tracks["popularity"].to_numpy())
        return (pop - pop.mean()) / (pop.std() or 1.0)

    def affinity(self, user_ids: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """Standardised hidden affinity ``taste_u . style_i`` (n_users_selected x n_tracks)."""
        users = self._users(user_ids)
        return (self.user_taste[users] @ self.track_style.T) / self._affinity_scale

    def play_probability(self, user_ids: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """Exact probability that a user plays a track shown to them in one slot.

        ``sigmoid(-3.0 + 1.4 * affinity + 0.3 * log-popularity)``, lowered for intros/outros
        (few people play an intro on its own). Float64 of shape (n_users_selected, n_tracks).
        """
        users = self._users(user_ids)
        logit = -3.0 + 1.4 * self.affinity(users) + 0.3 * self._log_popularity_z[None, :]
        prob = _sigmoid(logit)
        filler = self.tracks["kind"].isin(["intro", "outro"]).to_numpy()
        prob[:, filler] *= 0.3
        return prob

    def logging_policy(self, user_ids: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """The deployed stochastic recommender: P(show track | user), rows sum to one.

        A softmax over ``0.9 * log-popularity + 1.2 * [track in the user's main genre]``: it knows
        popularity and a coarse genre profile but not the fine taste, and gives every track a
        positive probability, as importance weighting requires.
        """
        users = self._users(user_ids)
        main = self.users["main_genre_id"].to_numpy()[users]
        same = (self.tracks["genre_id"].to_numpy()[None, :] == main[:, None]).astype(np.float64)
        logits = 0.9 * self._log_popularity_z[None, :] + 1.2 * same
        logits -= logits.max(axis=1, keepdims=True)
        w = np.exp(logits)
        return w / w.sum(axis=1, keepdims=True)

    @cached_property
    def logged_feedback(self) -> pd.DataFrame:
        """One row per impression shown by :meth:`logging_policy`: user, item, propensity, played."""
        return self.sample_logged_feedback(SIZES[self.size].n_impressions, seed=self.seed + 1)

    def sample_logged_feedback(self, n_impressions: int, seed: int) -> pd.DataFrame:
        """Draw a fresh log of ``n_impressions`` from the logging policy (for repeated trials)."""
        if n_impressions <= 0:
            raise ValueError("n_impressions must be positive")
        rng = np.random.default_rng(seed)
        users = np.sort(rng.integers(0, self.n_users, n_impressions))
        items = np.empty(n_impressions, dtype=np.int64)
        propensity = np.empty(n_impressions)
        played = np.empty(n_impressions, dtype=np.int8)
        uniq, starts = np.unique(users, return_index=True)
        bounds = np.append(starts, n_impressions)
        for chunk in range(0, uniq.size, 512):
            block = uniq[chunk : chunk + 512]
            policy = self.logging_policy(block)
            pplay = self.play_probability(block)
            cdf = np.cumsum(policy, axis=1)
            for j, user in enumerate(block):
                lo, hi = bounds[chunk + j], bounds[chunk + j + 1]
                draw = np.searchsorted(cdf[j], rng.random(hi - lo) * cdf[j, -1], side="right")
                draw = np.minimum(draw, self.n_tracks - 1)
                items[lo:hi] = draw
                propensity[lo:hi] = policy[j, draw]
                played[lo:hi] = rng.random(hi - lo) < pplay[j, draw]
        return pd.DataFrame(
            {"user": users, "item": items, "propensity": propensity, "played": played}
        )

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


def _log_mel_batch(world: MusicWorld, ids: np.ndarray) -> np.ndarray:
    from .audio import log_mel

    return log_mel(
        world.audio(ids),
        world.sample_rate,
        n_mels=world.n_mels,
        n_fft=world.n_fft,
        hop_length=world.hop_length,
    )


def _log_mel_batch_by_key(size: str, seed: int, ids: np.ndarray) -> np.ndarray:
    return _log_mel_batch(make_music_world(size, seed), ids)


# ====================================================================== generation
def _name(rng: np.random.Generator, words: list[str], n: int) -> str:
    picks = rng.choice(len(words), size=n, replace=False)
    return " ".join(words[i].capitalize() for i in picks)


def _build_catalogue(spec: WorldSize, rng: np.random.Generator):
    """Artists, albums and tracks with their audible parameters."""
    rows = []
    sound = []
    melody_seed = []
    track_id = 0
    album_id = 0
    artist_id = 0
    n_genres = len(_GENRES)
    # Artist popularity: a Zipf law over all artists, shuffled across genres.
    n_artists = n_genres * spec.artists_per_genre
    artist_pop = 1.0 / np.arange(1, n_artists + 1) ** 1.0
    artist_pop = artist_pop[rng.permutation(n_artists)]
    for g, genre in enumerate(_GENRES):
        for _ in range(spec.artists_per_genre):
            artist = _name(rng, _ADJECTIVES, 1) + " " + _name(rng, _NOUNS, 1)
            lo, hi = genre.tempo
            a_tempo = rng.uniform(lo, hi)
            a_pitch = genre.pitch + rng.integers(-4, 5)
            a_shift = rng.normal(0, 0.12, size=len(_PARAMS))  # the artist's own sub-style
            a_vocals = float(np.clip(genre.vocals + rng.normal(0, 0.25), 0, 1))
            a_major = rng.random() < genre.major_prob
            for _ in range(spec.albums_per_artist):
                album = _name(rng, _WORDS, 2)
                n_songs = int(rng.integers(6, 11))
                kinds = ["song"] * n_songs
                if rng.random() < 0.4:
                    kinds = ["intro"] + kinds
                if rng.random() < 0.3:
                    kinds = kinds + ["outro"]
                album_age = rng.random()  # 0 = newest
                for kind in kinds:
                    base = np.array(
                        [
                            a_tempo * rng.uniform(0.96, 1.04),
                            float(a_major if rng.random() < 0.85 else not a_major),
                            genre.distortion,
                            a_vocals,
                            genre.brightness,
                            genre.percussiveness,
                            genre.acousticness,
                            genre.energy,
                            a_pitch + rng.integers(-2, 3),
                            genre.swing,
                            genre.bass,
                            genre.noisiness,
                        ]
                    )
                    noise = rng.normal(0, 0.08, size=len(_PARAMS))
                    params = base.copy()
                    unit = slice(2, 8)
                    params[unit] = np.clip(base[unit] + a_shift[unit] + noise[unit], 0, 1)
                    params[9:12] = np.clip(base[9:12] + a_shift[9:12] + noise[9:12], 0, 1)
                    pop = artist_pop[artist_id] * rng.lognormal(0.0, 0.7)
                    if kind in ("intro", "outro"):
                        params[[2, 3, 5, 7]] = [0.0, 0.15, 0.0, 0.15]
                        params[11] = 0.6
                        pop *= 0.5
                    sound.append(params)
                    melody_seed.append(int(rng.integers(0, 2**31 - 1)))
                    rows.append(
                        dict(
                            track_id=track_id,
                            title=_name(rng, _WORDS, 2)
                            if kind == "song"
                            else f"{kind.capitalize()} ({album})",
                            artist=artist,
                            artist_id=artist_id,
                            album=album,
                            album_id=album_id,
                            genre=genre.name,
                            genre_id=g,
                            kind=kind,
                            cover_of=-1,
                            is_new=False,
                            popularity=pop,
                            album_age=album_age,
                        )
                    )
                    track_id += 1
                album_id += 1
            artist_id += 1
    tracks = pd.DataFrame(rows)
    sound = np.array(sound)
    melody_seed = np.array(melody_seed, dtype=np.int64)
    # Covers: about 4 % of songs take another genre's song's melody (the "original").
    songs = np.flatnonzero(tracks["kind"].to_numpy() == "song")
    n_covers = max(2, int(0.04 * songs.size))
    cover_ids = rng.choice(songs, size=n_covers, replace=False)
    genre_of = tracks["genre_id"].to_numpy()
    for cid in cover_ids:
        others = songs[(genre_of[songs] != genre_of[cid]) & ~np.isin(songs, cover_ids)]
        original = int(rng.choice(others))
        tracks.loc[cid, "kind"] = "cover"
        tracks.loc[cid, "cover_of"] = original
        tracks.loc[cid, "title"] = tracks.loc[original, "title"]
        melody_seed[cid] = melody_seed[original]
        tracks.loc[cid, "popularity"] = 0.5 * (
            tracks.loc[cid, "popularity"] + tracks.loc[original, "popularity"]
        )
    # Cold start: the newest albums are new releases with no plays yet.
    album_age = tracks.groupby("album_id")["album_age"].first()
    n_new = max(1, int(round(_NEW_ALBUM_FRACTION * album_age.size)))
    new_albums = album_age.sort_values(kind="stable").index[:n_new]
    tracks["is_new"] = tracks["album_id"].isin(new_albums)
    tracks = tracks.drop(columns="album_age")
    tracks["tempo_bpm"] = sound[:, 0].round(1)
    return tracks, sound, melody_seed


def _standardise(sound: np.ndarray) -> np.ndarray:
    z = sound.copy()
    z[:, 0] = (z[:, 0] - 120.0) / 30.0
    z[:, 8] = (z[:, 8] - 62.0) / 6.0
    z[:, 1:8] = (z[:, 1:8] - 0.5) * 2
    z[:, 9:] = (z[:, 9:] - 0.5) * 2
    return z


def _latent_space(tracks: pd.DataFrame, sound: np.ndarray, rng: np.random.Generator):
    """Hidden track styles: genre position + audible projection + inaudible artist term."""
    d = _LATENT_DIM
    genre_pos = rng.normal(0, 1.0, size=(len(_GENRES), d))
    projection = rng.normal(0, 1.0 / np.sqrt(len(_PARAMS)), size=(len(_PARAMS), d))
    n_artists = int(tracks["artist_id"].max()) + 1
    artist_term = rng.normal(0, 0.35, size=(n_artists, d))
    g = tracks["genre_id"].to_numpy()
    a = tracks["artist_id"].to_numpy()
    style = (
        genre_pos[g]
        + 0.8 * _standardise(sound) @ projection
        + artist_term[a]
        + rng.normal(0, 0.15, size=(len(tracks), d))
    )
    kind = tracks["kind"].to_numpy()
    # Intros/outros are heard in album context: CF sees them as their album.
    album = tracks["album_id"].to_numpy()
    songs = kind == "song"
    album_mean = pd.DataFrame(style[songs]).groupby(album[songs]).mean()
    filler = np.flatnonzero((kind == "intro") | (kind == "outro"))
    style[filler] = album_mean.loc[album[filler]].to_numpy() + rng.normal(0, 0.1, (filler.size, d))
    # Covers are played by fans of the original.
    covers = np.flatnonzero(kind == "cover")
    orig = tracks["cover_of"].to_numpy()[covers]
    style[covers] = 0.7 * style[orig] + 0.3 * style[covers]
    return style.astype(np.float32), genre_pos, projection


def _users(
    spec: WorldSize, genre_pos: np.ndarray, projection: np.ndarray, rng: np.random.Generator
):
    n_genres = len(_GENRES)
    names = [gn.name for gn in _GENRES]
    main = rng.integers(0, n_genres, spec.n_users)
    mix = np.zeros((spec.n_users, n_genres))
    for u in range(spec.n_users):
        neigh = [names.index(n) for n in _NEIGHBOURS[names[main[u]]]]
        prior = np.full(n_genres, 0.08)
        prior[neigh] = 0.6
        prior[main[u]] = 3.0
        mix[u] = rng.dirichlet(prior * 1.5)
    sound_pref = rng.normal(0, 0.6, size=(spec.n_users, len(_PARAMS)))
    taste = (
        mix @ genre_pos
        + 0.5 * sound_pref @ projection
        + rng.normal(0, 0.2, (spec.n_users, genre_pos.shape[1]))
    )
    activity = rng.lognormal(0.0, 0.6, spec.n_users)
    users = pd.DataFrame(
        {
            "user_id": np.arange(spec.n_users),
            "main_genre": [names[g] for g in main],
            "main_genre_id": main,
            "activity": activity,
        }
    )
    return users, taste.astype(np.float32), mix


def _sample_listening(spec, tracks, style, taste, mix, rng):
    """The browsing story: genre from the user's mix, a few candidates, the best-liked wins."""
    n_users = spec.n_users
    n_tracks = len(tracks)
    genre = tracks["genre_id"].to_numpy()
    kind = tracks["kind"].to_numpy()
    pop = tracks["popularity"].to_numpy()
    album = tracks["album_id"].to_numpy()
    scale = float(np.std(taste[:256] @ style.T)) or 1.0
    beta = 2.0 / scale

    activity = tracks  # placeholder to keep names short below
    del activity
    draws = rng.poisson(spec.draws_per_user * _user_activity(rng, n_users))
    draws = np.maximum(draws, 3)
    user_of = np.repeat(np.arange(n_users), draws)
    n = user_of.size
    # Genre of each draw from the user's mix (10 % exploration of any genre).
    cdf = np.cumsum(mix, axis=1)
    g = (rng.random(n)[:, None] * cdf[user_of, -1:] > cdf[user_of]).sum(axis=1)
    explore = rng.random(n) < 0.1
    g[explore] = rng.integers(0, len(_GENRES), explore.sum())
    album_session = rng.random(n) < 0.2

    users_out, tracks_out = [], []
    n_candidates = 8
    for gi in range(len(_GENRES)):
        # Single-track draws: songs and covers of this genre, seen in proportion to popularity.
        pool = np.flatnonzero((genre == gi) & ((kind == "song") | (kind == "cover")))
        sel = np.flatnonzero((g == gi) & ~album_session)
        if sel.size and pool.size:
            cum = np.cumsum(pop[pool])
            for start in range(0, sel.size, 200_000):
                s = sel[start : start + 200_000]
                cand = pool[
                    np.minimum(
                        np.searchsorted(cum, rng.random((s.size, n_candidates)) * cum[-1]),
                        pool.size - 1,
                    )
                ]
                score = beta * np.einsum("nd,ncd->nc", taste[user_of[s]], style[cand])
                score += rng.gumbel(size=score.shape)
                users_out.append(user_of[s])
                tracks_out.append(cand[np.arange(s.size), score.argmax(axis=1)])
        # Album sessions: pick an album by popularity and liking, then play most of it.
        albums = np.unique(album[genre == gi])
        sel = np.flatnonzero((g == gi) & album_session)
        if sel.size and albums.size:
            a_pop = pd.Series(pop).groupby(album).sum().loc[albums].to_numpy()
            a_style = pd.DataFrame(style).groupby(album).mean().loc[albums].to_numpy()
            cum = np.cumsum(a_pop)
            cand = np.minimum(
                np.searchsorted(cum, rng.random((sel.size, 4)) * cum[-1]), albums.size - 1
            )
            score = beta * np.einsum("nd,ncd->nc", taste[user_of[sel]], a_style[cand])
            score += rng.gumbel(size=score.shape)
            chosen = albums[cand[np.arange(sel.size), score.argmax(axis=1)]]
            members = pd.Series(np.arange(n_tracks)).groupby(album).apply(np.asarray)
            for user, alb in zip(user_of[sel], chosen):
                ids = members.loc[alb]
                keep = rng.random(ids.size) < np.where(
                    np.isin(kind[ids], ["intro", "outro"]), 0.8, 0.6
                )
                users_out.append(np.full(keep.sum(), user))
                tracks_out.append(ids[keep])
    users_all = np.concatenate(users_out)
    tracks_all = np.concatenate(tracks_out)
    # Repeat listening grows with affinity: counts are confidence, not ratings.
    aff = np.einsum("nd,nd->n", taste[users_all], style[tracks_all]) / scale
    counts = 1 + rng.poisson(np.clip(0.8 * np.exp(0.7 * aff), 0, 40))
    mat = sp.coo_matrix(
        (counts.astype(np.int64), (users_all, tracks_all)), shape=(n_users, n_tracks)
    ).tocsr()
    mat.sum_duplicates()
    mat.sort_indices()
    return mat.astype(np.int32)


def _user_activity(rng: np.random.Generator, n_users: int) -> np.ndarray:
    return rng.lognormal(-0.18, 0.6, n_users)


def _attributes(sound: np.ndarray, tracks: pd.DataFrame, rng: np.random.Generator):
    """Expert descriptors: the audible parameters rated by a noisy musicologist, plus a few
    derived ones (Music Genome Project style)."""
    z = sound.copy()
    names = [
        "tempo_bpm",
        "mode_major",
        "distortion",
        "vocals",
        "brightness",
        "percussiveness",
        "acousticness",
        "energy",
        "register",
        "swing",
        "bass_heavy",
        "noisiness",
    ]
    noisy = z + rng.normal(0, 1, z.shape) * np.array(
        [4, 0, 0.1, 0.12, 0.1, 0.1, 0.1, 0.1, 1.5, 0.1, 0.1, 0.08]
    )
    noisy[:, 1] = np.where(rng.random(len(z)) < 0.08, 1 - z[:, 1], z[:, 1])  # 8 % mislabelled mode
    noisy[:, 2:8] = np.clip(noisy[:, 2:8], 0, 1)
    noisy[:, 9:] = np.clip(noisy[:, 9:], 0, 1)
    dance = np.clip(1 - np.abs(z[:, 0] - 120) / 60, 0, 1) * z[:, 5] + rng.normal(0, 0.05, len(z))
    kind = tracks["kind"].to_numpy()
    spoken = np.where(np.isin(kind, ["intro", "outro"]), 0.8, 0.05) + rng.normal(0, 0.05, len(z))
    live_feel = z[:, 6] * 0.6 + rng.normal(0, 0.15, len(z))
    extra = np.column_stack([dance, np.clip(spoken, 0, 1), live_feel])
    names += ["danceability", "spoken_word", "live_feel"]
    return np.column_stack([noisy, extra]).astype(np.float32), names


def _tags(tracks, attributes, attribute_names, plays_all: sp.csr_matrix, rng):
    """Listener tags: the number of tagging events grows with observed plays (the tail is bare)."""
    genre_names = [g.name for g in _GENRES]
    descriptor = {
        "heavy": "distortion",
        "chill": "energy",
        "acoustic": "acousticness",
        "vocal": "vocals",
        "instrumental": "vocals",
        "upbeat": "tempo_bpm",
        "danceable": "danceability",
        "dark": "mode_major",
        "bass": "bass_heavy",
    }
    tag_names = genre_names + list(descriptor) + _NOISE_TAGS
    col = {t: i for i, t in enumerate(tag_names)}
    observed = np.asarray(plays_all.sum(axis=0)).ravel()
    observed[tracks["is_new"].to_numpy()] = 0  # nobody has tagged a release nobody has heard
    events = rng.poisson(0.04 * observed)
    a = {n: attributes[:, i] for i, n in enumerate(attribute_names)}
    ranks = {n: np.argsort(np.argsort(v)) / max(len(v) - 1, 1) for n, v in a.items()}
    rows, cols = [], []
    genre = tracks["genre_id"].to_numpy()
    for i in np.flatnonzero(events):
        k = events[i]
        r = rng.random(k)
        for x in r:
            if x < 0.5:  # the genre, sometimes a neighbouring one
                gi = genre[i] if rng.random() < 0.85 else rng.integers(0, len(genre_names))
                rows.append(i)
                cols.append(gi)
            elif x < 0.8:  # a descriptor that fits the sound
                tag = list(descriptor)[rng.integers(0, len(descriptor))]
                high = ranks[descriptor[tag]][i]
                fits = high if tag not in ("chill", "instrumental", "dark") else 1 - high
                if rng.random() < fits:
                    rows.append(i)
                    cols.append(col[tag])
            else:
                rows.append(i)
                cols.append(col[_NOISE_TAGS[rng.integers(0, len(_NOISE_TAGS))]])
    mat = sp.coo_matrix(
        (np.ones(len(rows), np.float32), (rows, cols)), shape=(len(tracks), len(tag_names))
    ).tocsr()
    mat.sum_duplicates()
    return mat, tag_names


def _generate(size: str, seed: int) -> MusicWorld:
    spec = SIZES[size]
    master = np.random.SeedSequence([seed, GENERATOR_VERSION, list(SIZES).index(size)])
    r_cat, r_lat, r_usr, r_play, r_attr, r_tag = (np.random.default_rng(s) for s in master.spawn(6))
    tracks, sound, melody_seed = _build_catalogue(spec, r_cat)
    style, genre_pos, projection = _latent_space(tracks, sound, r_lat)
    users, taste, mix = _users(spec, genre_pos, projection, r_usr)
    plays_all = _sample_listening(spec, tracks, style, taste, mix, r_play)
    is_new = tracks["is_new"].to_numpy()
    plays = plays_all.multiply((~is_new)[None, :].astype(np.int32)).tocsr()
    new_plays = plays_all.multiply(is_new[None, :].astype(np.int32)).tocsr()
    for m in (plays, new_plays):
        m.eliminate_zeros()
        m.sort_indices()
    attributes, attribute_names = _attributes(sound, tracks, r_attr)
    tags, tag_names = _tags(tracks, attributes, attribute_names, plays_all, r_tag)
    return MusicWorld(
        size=size,
        seed=seed,
        plays=plays.astype(np.int32),
        new_track_plays=new_plays.astype(np.int32),
        tracks=tracks,
        users=users,
        genre_names=[g.name for g in _GENRES],
        attributes=attributes,
        attribute_names=attribute_names,
        tags=tags,
        tag_names=tag_names,
        user_taste=taste,
        track_style=style,
        sample_rate=16_000,
        clip_seconds=spec.clip_seconds,
        _sound=sound,
        _melody_seed=melody_seed,
        _user_genre_mix=mix,
    )


_MEMO: dict[tuple[str, int], MusicWorld] = {}


def make_music_world(size: str = "small", seed: int = 0) -> MusicWorld:
    """Build (or fetch from memory) the music world of a given size and seed.

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
    """
    if size not in SIZES:
        raise ValueError(f"unknown world size {size!r}; choose one of {sorted(SIZES)}")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    key = (size, int(seed))
    if key not in _MEMO:
        _MEMO[key] = _generate(size, int(seed))
    return _MEMO[key]


def world_checksum(world: MusicWorld, decimals: int = 4) -> str:
    """SHA-256 over the world's arrays and tables (the determinism tests pin it).

    Integer arrays enter as raw bytes; float arrays are rounded to ``decimals`` first, so that a
    last-bit difference between two BLAS builds does not change the checksum.
    """
    h = hashlib.sha256()
    for m in (world.plays, world.new_track_plays, world.tags):
        for arr in (m.indptr, m.indices, m.data):
            h.update(np.ascontiguousarray(arr).tobytes())
    for arr in (world.attributes, world.user_taste, world.track_style):
        h.update(np.round(arr.astype(np.float64), decimals).tobytes())
    for table in (world.tracks, world.users):
        h.update(table.round(decimals).to_csv(index=False).encode())
    return h.hexdigest()


# ====================================================================== synthesis
_TABLE = 2048


def _wavetable(harmonic_amps: np.ndarray) -> np.ndarray:
    phase = np.arange(_TABLE) / _TABLE
    k = np.arange(1, harmonic_amps.size + 1)
    table = (harmonic_amps[:, None] * np.sin(2 * np.pi * k[:, None] * phase[None, :])).sum(axis=0)
    return (table / (np.abs(table).max() or 1.0)).astype(np.float32)


def _timbre(name: str, brightness: float) -> np.ndarray:
    k = np.arange(1, 17, dtype=np.float64)
    roll = k ** -(2.2 - 1.6 * brightness)
    if name == "square" or name == "sax":
        roll = roll * (k % 2 == 1) + (0.15 * roll if name == "sax" else 0) * (k % 2 == 0)
    elif name == "strings":
        roll = roll * np.exp(-0.05 * k)
    elif name == "piano":
        roll = roll * np.exp(-0.25 * k)
    elif name == "pluck":
        roll = roll * np.exp(-0.15 * k)
    return _wavetable(roll)


def _lookup(table: np.ndarray, freq: np.ndarray, sr: int) -> np.ndarray:
    """Oscillator: read the single-cycle ``table`` at instantaneous frequency ``freq`` (Hz)."""
    cycles = np.cumsum(freq) * (_TABLE / sr)
    return table[cycles.astype(np.int64) & (_TABLE - 1)]


def _midi_hz(m: np.ndarray | float) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(m, dtype=np.float64) - 69.0) / 12.0)


_DECAY = {"pluck": 6.0, "piano": 4.0, "strings": 0.3, "sax": 0.8, "saw": 1.0, "square": 2.0}


def _render(world: MusicWorld, tid: int) -> np.ndarray:
    """Synthesise one track (deterministic in the world's seed and the track id)."""
    sr = world.sample_rate
    n = world.n_samples
    p = world._sound[tid]
    kind = world.tracks["kind"].iat[tid]
    genre = _GENRES[int(world.tracks["genre_id"].iat[tid])]
    rng = np.random.default_rng([world.seed, GENERATOR_VERSION, tid])
    t = np.arange(n) / sr
    if kind in ("intro", "outro"):
        return _render_filler(rng, t, sr, p)
    tempo, major, dist, vocals, bright, perc, acoustic, energy, pitch, swing, bass, noise = p
    scale = _MAJOR if major >= 0.5 else _MINOR
    step = 60.0 / tempo / 2  # eighth notes
    n_steps = int(np.ceil(t[-1] / step)) + 2
    mrng = np.random.default_rng(int(world._melody_seed[tid]))
    # Melody: a random walk on the scale; some notes are held over several steps.
    moves = mrng.choice([-2, -1, -1, 0, 1, 1, 2, 3, -3], size=n_steps)
    degree = np.clip(np.cumsum(moves), -5, 9)
    hold = mrng.random(n_steps) < 0.35
    for i in range(1, n_steps):
        if hold[i]:
            degree[i] = degree[i - 1]
    semis = 12 * np.floor_divide(degree, 7) + scale[np.mod(degree, 7)]
    note_hz = _midi_hz(pitch + semis)
    # Swing delays off-beat eighths.
    step_start = np.arange(n_steps) * step + (np.arange(n_steps) % 2) * swing * step * 0.33
    idx = np.clip(np.searchsorted(step_start, t, side="right") - 1, 0, n_steps - 1)
    onset = np.r_[True, (degree[1:] != degree[:-1]) | ~hold[1:]]
    # Time since the current note began (held notes keep sounding).
    note_begin = np.maximum.accumulate(np.where(onset, step_start, 0.0))
    since = t - note_begin[idx]
    freq = note_hz[idx]
    env = np.exp(-_DECAY[genre.timbre] * since) * np.minimum(1.0, since / 0.01)
    out = 0.45 * (1 - 0.6 * vocals) * _lookup(_timbre(genre.timbre, bright), freq, sr) * env
    # Chords: the scale triad of the bar's root, as a soft pad; the bass plays the root.
    bar = idx // 8
    roots = mrng.choice([0, 3, 4, 5], size=int(bar[-1]) + 1)
    pad = np.zeros(n)
    pad_table = _timbre("strings", bright * 0.7)
    for offset in (0, 2, 4):
        deg = roots + offset
        pad += _lookup(pad_table, _midi_hz(pitch - 12 + 12 * (deg // 7) + scale[deg % 7])[bar], sr)
    out += 0.04 * (0.4 + acoustic) * pad
    bass_hz = _midi_hz(pitch - 24 + scale[roots % 7])[bar]
    bass_env = np.exp(-3.0 * (t % (2 * step)))
    out += 0.5 * bass * _lookup(_wavetable(np.array([1.0, 0.5, 0.2])), bass_hz, sr) * bass_env
    # Vocals: formant-shaped harmonics with vibrato, singing the melody.
    if vocals > 0.15:
        out += vocals * 0.5 * _vocal(rng, t, sr, freq, since, rap=genre.name == "hiphop")
    # Drums at the track's tempo.
    out += perc * _drums(rng, genre.drums, n, sr, step / 2, swing)
    if dist > 0.05:
        gain = 1 + 12 * dist
        out = np.tanh(gain * out) / np.tanh(gain)
    out += noise * 0.15 * rng.standard_normal(n)
    rms = np.sqrt(np.mean(out**2)) or 1.0
    out *= (0.05 + 0.15 * energy) / rms
    return np.clip(out, -1, 1).astype(np.float32)


_VOWELS = np.array(
    [[730, 1090], [270, 2290], [530, 1840], [570, 840], [300, 870]], dtype=np.float64
)


def _vocal(rng, t, sr, f0, since, rap: bool) -> np.ndarray:
    """Formant "voice": harmonics of f0 weighted by two vowel formants, with vibrato."""
    vib = 1 + 0.012 * np.sin(2 * np.pi * 5.5 * t + rng.uniform(0, 6.28))
    if rap:  # near-monotone syllables
        f0 = np.full_like(f0, rng.uniform(110, 150)) * (1 + 0.05 * np.sin(2 * np.pi * 2.0 * t))
        vib = 1.0
    freq = np.clip(f0 * vib, 80, 900)
    phase = (2 * np.pi * (np.cumsum(freq) / sr % 1.0)).astype(np.float32)
    # Formant weights change slowly: compute them at a 200 Hz control rate.
    hop = max(1, sr // 200)
    ctrl = slice(0, None, hop)
    vowel = _VOWELS[(np.floor(t[ctrl] * 2.5).astype(int) + rng.integers(0, 5)) % 5]
    k = np.arange(1, 13)
    fk = k[None, :] * freq[ctrl][:, None]
    weight = (
        np.exp(-(((fk - vowel[:, :1]) / 120) ** 2))
        + 0.7 * np.exp(-(((fk - vowel[:, 1:]) / 180) ** 2))
        + 0.05 / k[None, :]
    )
    weight = np.repeat(weight.astype(np.float32), hop, axis=0)[: t.size]
    out = np.zeros(t.size, dtype=np.float32)
    # sin(k*phase) by the Chebyshev recurrence: two multiplications per harmonic, no sin calls.
    two_cos = 2 * np.cos(phase)
    s_prev, s_cur = np.zeros_like(phase), np.sin(phase)
    for j in range(k.size):
        out += weight[:, j] * s_cur
        s_prev, s_cur = s_cur, two_cos * s_cur - s_prev
    syll = np.minimum(1.0, since / 0.03) * np.exp(-(3.0 if not rap else 9.0) * since)
    return out / 3 * (0.3 + 0.7 * syll)


def _one_shots(sr: int):
    tau = np.arange(int(0.25 * sr)) / sr
    kick = np.sin(2 * np.pi * (50 * tau + 120 / 30 * (1 - np.exp(-30 * tau)))) * np.exp(-9 * tau)
    rng = np.random.default_rng(12345)
    snare = (0.7 * rng.standard_normal(tau.size) + 0.5 * np.sin(2 * np.pi * 190 * tau)) * np.exp(
        -18 * tau
    )
    hat = np.diff(rng.standard_normal(tau.size + 1)) * np.exp(-70 * tau) * 0.35
    return kick, snare, hat


def _drums(rng, pattern: str, n: int, sr: int, sixteenth: float, swing: float) -> np.ndarray:
    out = np.zeros(n)
    if pattern == "none":
        return out
    kick_steps, snare_steps, hat_steps = _DRUMS[pattern]
    shots = _one_shots(sr)
    bar = 16 * sixteenth
    n_bars = int(np.ceil(n / sr / bar))
    for shot, steps, gain in zip(shots, (kick_steps, snare_steps, hat_steps), (0.9, 0.6, 0.5)):
        for b in range(n_bars):
            for s in steps:
                start = int((b * bar + s * sixteenth + (s % 4 == 2) * swing * sixteenth * 0.6) * sr)
                if start >= n:
                    continue
                end = min(n, start + shot.size)
                out[start:end] += gain * rng.uniform(0.8, 1.0) * shot[: end - start]
    return out


def _render_filler(rng, t, sr, p) -> np.ndarray:
    """Intros and outros: a swell of filtered noise (crowd, ambience) and spoken-like bursts,
    then near silence — short and sparse, nothing like the album's songs."""
    n = t.size
    length = rng.uniform(0.35, 0.6) * t[-1]
    swell = np.clip(np.sin(np.pi * np.clip(t / length, 0, 1)), 0, None)
    noise = rng.standard_normal(n)
    spec = np.fft.rfft(noise)
    freqs = np.fft.rfftfreq(n, 1 / sr)
    centre = rng.uniform(300, 2500)
    spec *= np.exp(-((np.log(freqs + 1) - np.log(centre)) ** 2) / 0.8)
    ambience = np.fft.irfft(spec, n)
    ambience /= np.abs(ambience).max() or 1.0
    speech = _vocal(rng, t, sr, np.full(n, rng.uniform(100, 220)), (t * 4) % 1.0, rap=True)
    gate = (rng.random(int(t[-1] * 4) + 2)[(t * 4).astype(int)] < 0.45).astype(float)
    out = swell * (0.6 * ambience + 0.4 * speech * gate)
    rms = np.sqrt(np.mean(out**2)) or 1.0
    return np.clip(out * 0.05 / rms, -1, 1).astype(np.float32)
