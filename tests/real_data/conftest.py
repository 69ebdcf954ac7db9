"""Small files in the exact formats of the real data, written by the tests (nothing downloaded).

* HetRec 2011 Last.fm: tab-separated files with a header line; ``user_artists.dat``,
  ``user_taggedartists.dat``, ``user_friends.dat`` and ``tags.dat`` end their lines with CRLF,
  ``tags.dat`` is Latin-1, ``artists.dat`` is UTF-8 with LF endings, as in the published archive.
* Last.fm 1K: ``userid-timestamp-artid-artname-traid-traname.tsv``, six tab-separated UTF-8
  fields, no header, one line per scrobble, each user's lines newest first; a registry that
  records the fixture log's MD5 (``$COURSE_LIB_REGISTRY``), so that its verification runs.
* Audio: short clips as WAV, FLAC, OGG and MP3 at 22.05, 44.1 and 48 kHz, mono and stereo.

The plays come from a small latent-taste model (users and artists in taste groups, Zipf-like
popularity, log-normal counts with a heavy tail, each user's top artists only in HetRec), so
that the baselines and models of the chapters separate as they do on the real data.
"""

from __future__ import annotations

import csv
import hashlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from course_lib.datasets import catalog

N_GROUPS = 5
TAGS = ["rock", "électronique", "chill-out", "hip-hop", "80s", "français", "jazz", "metal"]
NAMES = ["Röyksopp", "Sigur Rós", "Björk", "Motörhead", 'The "Quotes"', "Mötley Crüe"]


def _artist_names(n: int) -> list[str]:
    return [NAMES[i] if i < len(NAMES) else f"Artist {i:04d}" for i in range(n)]


def _choose_artists(rng, n_artists, groups, popularity, group, size):
    weights = popularity * np.where(groups == group, 12.0, 1.0)
    return rng.choice(n_artists, size=size, replace=False, p=weights / weights.sum())


def write_hetrec(folder: Path, n_users: int = 300, n_artists: int = 500, seed: int = 0) -> Path:
    """A HetRec 2011 Last.fm folder of ``n_users`` users (ids from 2) and their top artists."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    groups = rng.integers(N_GROUPS, size=n_artists)
    popularity = 1.0 / np.arange(1, n_artists + 1) ** 0.8
    rows, tagged = [], []
    for user in range(2, n_users + 2):
        group = rng.integers(N_GROUPS)
        size = int(rng.integers(8, 51))  # HetRec keeps each user's top 50 artists at most
        artists = _choose_artists(rng, n_artists, groups, popularity, group, size)
        counts = rng.lognormal(5.0, 1.3, size) * rng.lognormal(0.0, 1.0)
        counts = np.sort(np.maximum(1, counts.round()).astype(int))[::-1]
        rows += [(user, int(a) + 1, int(c)) for a, c in zip(artists, counts)]
        for a in artists[: int(rng.integers(0, 4))]:
            tagged.append((user, int(a) + 1, int(groups[a] + rng.integers(2)) % len(TAGS) + 1))

    def write(name, header, lines, ending, encoding="utf-8"):
        text = ending.join(["\t".join(header), *("\t".join(map(str, r)) for r in lines)])
        (folder / name).write_bytes((text + ending).encode(encoding))

    write("user_artists.dat", ["userID", "artistID", "weight"], rows, "\r\n")
    names = _artist_names(n_artists)
    write(
        "artists.dat",
        ["id", "name", "url", "pictureURL"],
        [(i + 1, n, f"http://www.last.fm/music/{i + 1}", "") for i, n in enumerate(names)],
        "\n",
    )
    write("tags.dat", ["tagID", "tagValue"], list(enumerate(TAGS, 1)), "\r\n", "latin-1")
    dated = [(*t, int(rng.integers(1, 29)), int(rng.integers(1, 13)), 2009) for t in tagged]
    header = ["userID", "artistID", "tagID", "day", "month", "year"]
    write("user_taggedartists.dat", header, sorted(set(dated)), "\r\n")
    friends = [(u, u + 1) for u in range(2, n_users + 1)]
    write("user_friends.dat", ["userID", "friendID"], friends, "\r\n")
    return folder


LOG_FILE = "userid-timestamp-artid-artname-traid-traname.tsv"


def write_lastfm_1k(folder: Path, n_users: int = 120, n_artists: int = 300, seed: int = 0) -> Path:
    """A Last.fm 1K folder: scrobbles of ``n_users`` users who discover artists over time."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    groups = rng.integers(N_GROUPS, size=n_artists)
    popularity = 1.0 / np.arange(1, n_artists + 1) ** 0.8
    names = _artist_names(n_artists)
    mbids = [f"{i:08x}-0000-4000-8000-{i:012x}" if i % 3 else "" for i in range(n_artists)]
    lines = []
    for u in range(1, n_users + 1):
        group = rng.integers(N_GROUPS)
        order = _choose_artists(rng, n_artists, groups, popularity, group, 40)
        known = 3
        when = datetime(2005, 2, 14, tzinfo=timezone.utc) + timedelta(days=int(rng.integers(900)))
        events = []
        for _ in range(int(rng.integers(150, 400))):
            if known < len(order) and rng.random() < 0.12:
                known += 1  # a discovery
            artist = int(order[min(int(rng.exponential(known / 3)), known - 1)])
            when += timedelta(minutes=int(rng.integers(3, 3000)))
            track = int(rng.integers(3))
            events.append((when, artist, track))
        for when, artist, track in reversed(events):  # newest first, as in the real log
            lines.append(
                "\t".join(
                    [
                        f"user_{u:06d}",
                        when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        mbids[artist],
                        names[artist],
                        "" if track == 2 else f"{artist:08x}-1111-4000-8000-{track:012x}",
                        f"Track {track} of {names[artist]}",
                    ]
                )
            )
    (folder / LOG_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    profile = ["#id\tgender\tage\tcountry\tregistered"]
    profile += [f"user_{u:06d}\tf\t\tIceland\tFeb 14, 2005" for u in range(1, n_users + 1)]
    (folder / "userid-profile.tsv").write_text("\n".join(profile) + "\n", encoding="utf-8")
    return folder


def registry_with(tmp_path: Path, log: Path) -> Path:
    """A copy of the registry whose Last.fm 1K entry publishes the MD5 of ``log``."""
    with open(catalog._REGISTRY_PATH, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    digest = hashlib.md5(log.read_bytes()).hexdigest()
    for row in rows:
        if row["name"] == "lastfm_1k":
            row["file_hashes"] = f"{LOG_FILE}=md5:{digest}"
    file = tmp_path / "registry.csv"
    with open(file, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=catalog.REGISTRY_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return file


def write_clips(folder: Path, seed: int = 0) -> Path:
    """Four short clips: WAV mono 22.05 kHz, FLAC stereo 44.1 kHz, OGG stereo 48 kHz, MP3."""
    import soundfile as sf

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)

    def clip(sr, seconds, channels):
        t = np.arange(int(sr * seconds)) / sr
        left = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(t.size)
        right = 0.3 * np.sin(2 * np.pi * 330 * t) * np.exp(-t)
        return np.stack([left, right], axis=1)[:, :channels].astype(np.float32)

    sf.write(folder / "a_mono_22050.wav", clip(22050, 1.5, 1)[:, 0], 22050, subtype="PCM_16")
    sf.write(folder / "b_stereo_44100.flac", clip(44100, 1.2, 2), 44100)
    sf.write(folder / "c_stereo_48000.ogg", clip(48000, 1.0, 2), 48000)
    if "MP3" in sf.available_formats():
        sf.write(folder / "d_stereo_44100.mp3", clip(44100, 1.0, 2), 44100)
    (folder / "notes.txt").write_text("not audio: the chapter skips it\n")
    return folder


@pytest.fixture
def no_network(monkeypatch, tmp_path):
    """Any attempt to open a socket fails; downloads would go to a throwaway cache."""
    import socket

    def refuse(*args, **kwargs):
        raise RuntimeError("a test tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(scope="session")
def hetrec_folder(tmp_path_factory) -> Path:
    return write_hetrec(tmp_path_factory.mktemp("hetrec") / "hetrec2011-lastfm-2k")


@pytest.fixture(scope="session")
def lastfm_1k_folder(tmp_path_factory) -> Path:
    return write_lastfm_1k(tmp_path_factory.mktemp("lastfm1k") / "lastfm-dataset-1K")


@pytest.fixture
def lastfm_1k_registry(lastfm_1k_folder, tmp_path, monkeypatch) -> Path:
    """Point the loaders (and notebook kernels started now) at a registry of the fixture."""
    file = registry_with(tmp_path, lastfm_1k_folder / LOG_FILE)
    monkeypatch.setenv("COURSE_LIB_REGISTRY", str(file))
    return file


@pytest.fixture(scope="session")
def clips_folder(tmp_path_factory) -> Path:
    return write_clips(tmp_path_factory.mktemp("clips"))
