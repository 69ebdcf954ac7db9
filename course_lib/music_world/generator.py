"""The generator of the music world: catalogue, hidden styles, users, listening, attributes, tags.

Part of the music world toured in chapter 00 and documented in ``datasets/music_world.md`` (which
describes each step below); every chapter runs on its output. One hidden structure drives it all:

* a catalogue of genres, artists, albums and tracks, with intros, outros and covers;
* a latent style per track (genre position + a projection of its audible parameters + an artist
  term no audio reveals) and a taste per user (a mix of genres);
* listening sampled by a browsing story (Zipf-like exposure, the best-liked candidate wins, some
  whole-album sessions), repeat counts growing with affinity: implicit feedback (Hu, Koren &
  Volinsky 2008);
* noisy expert attributes (Music Genome Project style): ratings of part of the sound, and of the
  lyrics, which follow the part of the style that no audio reveals; listener tags that follow
  plays.

Every random step draws from a stream spawned from ``(seed, GENERATOR_VERSION, size)``, so the
same pair gives byte-identical arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .sizes import GENERATOR_VERSION, SIZES, WorldSize
from .vocabulary import (
    ADJECTIVES,
    GENRES,
    NEIGHBOURS,
    NOISE_TAGS,
    NOUNS,
    PARAMS,
    WORDS,
)

__all__ = ["generate"]

_LATENT_DIM = 16
_NEW_ALBUM_FRACTION = 0.1
_LYRIC_NOISE = 0.1  # the musicologist's error on a lyric theme (the themes spread by ~0.4)


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
    n_genres = len(GENRES)
    # Artist popularity: a Zipf law over all artists, shuffled across genres.
    n_artists = n_genres * spec.artists_per_genre
    artist_pop = 1.0 / np.arange(1, n_artists + 1) ** 1.0
    artist_pop = artist_pop[rng.permutation(n_artists)]
    for g, genre in enumerate(GENRES):
        for _ in range(spec.artists_per_genre):
            artist = _name(rng, ADJECTIVES, 1) + " " + _name(rng, NOUNS, 1)
            lo, hi = genre.tempo
            a_tempo = rng.uniform(lo, hi)
            a_pitch = genre.pitch + rng.integers(-4, 5)
            a_shift = rng.normal(0, 0.12, size=len(PARAMS))  # the artist's own sub-style
            a_vocals = float(np.clip(genre.vocals + rng.normal(0, 0.25), 0, 1))
            a_major = rng.random() < genre.major_prob
            for _ in range(spec.albums_per_artist):
                album = _name(rng, WORDS, 2)
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
                    noise = rng.normal(0, 0.08, size=len(PARAMS))
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
                            title=_name(rng, WORDS, 2)
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
    genre_pos = rng.normal(0, 1.0, size=(len(GENRES), d))
    projection = rng.normal(0, 1.0 / np.sqrt(len(PARAMS)), size=(len(PARAMS), d))
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
    n_genres = len(GENRES)
    names = [gn.name for gn in GENRES]
    main = rng.integers(0, n_genres, spec.n_users)
    mix = np.zeros((spec.n_users, n_genres))
    for u in range(spec.n_users):
        neigh = [names.index(n) for n in NEIGHBOURS[names[main[u]]]]
        prior = np.full(n_genres, 0.08)
        prior[neigh] = 0.6
        prior[main[u]] = 3.0
        mix[u] = rng.dirichlet(prior * 1.5)
    sound_pref = rng.normal(0, 0.6, size=(spec.n_users, len(PARAMS)))
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
    g[explore] = rng.integers(0, len(GENRES), explore.sum())
    album_session = rng.random(n) < 0.2

    users_out, tracks_out = [], []
    n_candidates = 8
    for gi in range(len(GENRES)):
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
                score = beta * np.einsum("bd,bcd->bc", taste[user_of[s]], style[cand])
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
            score = beta * np.einsum("bd,bcd->bc", taste[user_of[sel]], a_style[cand])
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
    aff = np.einsum("bd,bd->b", taste[users_all], style[tracks_all]) / scale
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
    """Ratings of every audible parameter by a noisy musicologist, plus a few derived ones
    (Music Genome Project style). Listeners' tags read all of them; the experts publish only
    :data:`_RATED` (see :func:`generate`)."""
    z = sound.copy()
    # The audible parameters under the names a musicologist would use (PARAMS, renamed).
    renamed = {"tempo": "tempo_bpm", "pitch": "register", "bass": "bass_heavy"}
    names = [renamed.get(name, name) for name in PARAMS]
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


#: The sound ratings the experts publish: what a listener names (tempo, key, distortion, voice)
#: and the derived ones. The timbre and the production (brightness, percussiveness,
#: acousticness, energy, register, swing, bass, noisiness) go unrated, so the audio knows part
#: of the sound the attributes miss, as the lyrics (below) know a part the audio misses.
_RATED = (
    "tempo_bpm",
    "mode_major",
    "distortion",
    "vocals",
    "danceability",
    "spoken_word",
    "live_feel",
)

#: Expert ratings of the lyrics (the Music Genome Project rates lyrics too: "joyful lyrics").
_LYRIC_THEMES = [
    "lyrics_joyful",
    "lyrics_romantic",
    "lyrics_political",
    "lyrics_storytelling",
    "lyrics_dark",
    "lyrics_humorous",
    "lyrics_spiritual",
    "lyrics_nostalgic",
]


def _lyric_attributes(style, tracks, sound, genre_pos, projection, rng: np.random.Generator):
    """Expert ratings of what the audio cannot carry: the themes of the lyrics.

    The synthesised "vocals" sing vowels, not words, so the lyrics are the part of a track's
    style that its sound does not explain: the style minus the genre's position and the audible
    projection (mostly the artist term). Each theme reads one random direction of that part and
    is rated on [0, 1] with noise. A stream of its own: every other array of the world is the
    same with or without these columns."""
    g = tracks["genre_id"].to_numpy()
    inaudible = style - genre_pos[g] - 0.8 * _standardise(sound) @ projection
    d, n = inaudible.shape[1], len(_LYRIC_THEMES)
    themes = rng.normal(0, 1.0 / np.sqrt(d), size=(d, n))
    ratings = 0.5 + inaudible @ themes + rng.normal(0, _LYRIC_NOISE, size=(len(tracks), n))
    return np.clip(ratings, 0, 1).astype(np.float32), list(_LYRIC_THEMES)


def _tags(tracks, attributes, attribute_names, plays_all: sp.csr_matrix, rng):
    """Listener tags: the number of tagging events grows with observed plays (the tail is bare)."""
    genre_names = [g.name for g in GENRES]
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
    tag_names = genre_names + list(descriptor) + NOISE_TAGS
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
                cols.append(col[NOISE_TAGS[rng.integers(0, len(NOISE_TAGS))]])
    mat = sp.coo_matrix(
        (np.ones(len(rows), np.float32), (rows, cols)), shape=(len(tracks), len(tag_names))
    ).tocsr()
    mat.sum_duplicates()
    return mat, tag_names


def generate(size: str, seed: int) -> dict[str, Any]:
    """Every array and table of the world ``(size, seed)``: the keyword arguments of a
    :class:`~course_lib.music_world.MusicWorld` (validated by ``make_music_world``)."""
    spec = SIZES[size]
    master = np.random.SeedSequence([seed, GENERATOR_VERSION, list(SIZES).index(size)])
    r_cat, r_lat, r_usr, r_play, r_attr, r_tag, r_lyr = (
        np.random.default_rng(s)
        for s in master.spawn(7)  # the 7th only feeds the lyrics
    )
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
    ratings, rating_names = _attributes(sound, tracks, r_attr)
    tags, tag_names = _tags(tracks, ratings, rating_names, plays_all, r_tag)
    rated = [rating_names.index(name) for name in _RATED]
    lyrics, lyric_names = _lyric_attributes(style, tracks, sound, genre_pos, projection, r_lyr)
    attributes = np.column_stack([ratings[:, rated], lyrics])
    attribute_names = list(_RATED) + lyric_names
    return dict(
        size=size,
        seed=seed,
        plays=plays.astype(np.int32),
        new_track_plays=new_plays.astype(np.int32),
        tracks=tracks,
        users=users,
        genre_names=[g.name for g in GENRES],
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
