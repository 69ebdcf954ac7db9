"""Tests of course_lib.datasets on small fixtures written in the real formats; no network."""

from __future__ import annotations

import csv
import hashlib
import shutil
import socket
import tarfile
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib import datasets
from course_lib.datasets import (
    fetch,
    load_fma,
    load_lastfm_1k,
    load_lastfm_hetrec2011,
    load_msd_taste_profile,
    registry,
    verify_checksum,
)


@pytest.fixture(autouse=True)
def no_network(monkeypatch, tmp_path):
    """Any attempt to open a socket fails the test; downloads go to a throwaway cache."""

    def refuse(*args, **kwargs):
        raise RuntimeError("a test tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("COURSE_LIB_DATA", str(tmp_path / "cache"))


# ------------------------------------------------------------------------------------------
# HetRec 2011 Last.fm fixtures
# ------------------------------------------------------------------------------------------
PLAYS = [(2, 51, 13883), (2, 52, 11690), (3, 51, 5), (5, 60, 100), (3, 60, 1)]
ARTISTS = [
    (51, "Duran Duran", "http://www.last.fm/music/Duran+Duran"),
    (52, "Morcheeba", "http://www.last.fm/music/Morcheeba"),
    (60, "Sigur Rós", "http://www.last.fm/music/Sigur+R%C3%B3s"),
    (70, "Nobody Listens", "http://www.last.fm/music/Nobody"),
]
TAGS = [(1, "metal"), (2, "électronique"), (3, "chillout")]
TAGGED = [(2, 52, 3), (3, 52, 3), (2, 60, 2), (2, 999, 1), (3, 51, 77), (5, 51, 1)]


def write_hetrec(folder: Path, plays_lines: list[str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if plays_lines is None:
        plays_lines = [f"{u}\t{a}\t{w}" for u, a, w in PLAYS]
    (folder / "user_artists.dat").write_text(
        "userID\tartistID\tweight\n" + "\n".join(plays_lines) + "\n"
    )
    artists = "id\tname\turl\tpictureURL\n" + "".join(
        f"{i}\t{n}\t{u}\thttp://userserve-ak.last.fm/serve/252/{i}.jpg\n" for i, n, u in ARTISTS
    )
    (folder / "artists.dat").write_text(artists, encoding="utf-8")
    tags = "tagID\ttagValue\n" + "".join(f"{i}\t{v}\n" for i, v in TAGS)
    (folder / "tags.dat").write_bytes(tags.encode("latin-1"))  # as in the real archive
    tagged = "userID\tartistID\ttagID\tday\tmonth\tyear\n" + "".join(
        f"{u}\t{a}\t{t}\t1\t4\t2009\n" for u, a, t in TAGGED
    )
    (folder / "user_taggedartists.dat").write_text(tagged)
    (folder / "user_friends.dat").write_text("userID\tfriendID\n2\t3\n")
    return folder


def zip_folder(folder: Path, archive: Path) -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(folder.iterdir()):
            zf.write(file, file.name)
    return archive


def test_hetrec_folder_matches_the_rows_written(tmp_path):
    data = load_lastfm_hetrec2011(write_hetrec(tmp_path / "hetrec"))
    assert isinstance(data.plays, sp.csr_matrix) and data.plays.dtype == np.int32
    users = sorted({u for u, _, _ in PLAYS})
    artists = sorted({a for a, _, _ in ARTISTS} | {a for _, a, _ in PLAYS})
    assert data.plays.shape == (len(users), len(artists))
    assert list(data.users["user_id"]) == users
    assert list(data.items["artist_id"]) == artists
    dense = data.plays.toarray()
    for u, a, w in PLAYS:
        assert dense[data.user_index[u], data.item_index[a]] == w
    assert dense.sum() == sum(w for _, _, w in PLAYS)
    assert data.plays.nnz == len(PLAYS)
    names = dict(zip(data.items["artist_id"], data.items["name"], strict=True))
    assert names == {i: n for i, n, _ in ARTISTS}  # UTF-8 names survive
    assert data.plays[:, data.item_index[70]].nnz == 0  # listed artist without plays


def test_hetrec_tags_count_assignments_and_decode_latin1(tmp_path):
    data = load_lastfm_hetrec2011(write_hetrec(tmp_path / "hetrec"))
    assert data.tag_names == [v for _, v in sorted(TAGS)]
    assert "électronique" in data.tag_names
    assert data.tags.shape == (data.plays.shape[1], len(TAGS)) and data.tags.dtype == np.int32
    expected = Counter((a, t) for _, a, t in TAGGED if a in data.item_index and t in dict(TAGS))
    dense = data.tags.toarray()
    tag_col = {t: k for k, t in enumerate(data.tag_ids)}
    for (a, t), n in expected.items():
        assert dense[data.item_index[a], tag_col[t]] == n
    assert dense.sum() == sum(expected.values())
    assert data.info["tag_assignments_dropped_unknown_artist"] == 1
    assert data.info["tag_assignments_dropped_unknown_tag"] == 1


def test_hetrec_zip_gives_the_same_data_as_the_folder(tmp_path):
    folder = write_hetrec(tmp_path / "hetrec")
    from_zip = load_lastfm_hetrec2011(zip_folder(folder, tmp_path / "hetrec2011-lastfm-2k.zip"))
    from_dir = load_lastfm_hetrec2011(folder)
    assert (from_zip.plays != from_dir.plays).nnz == 0
    assert (from_zip.tags != from_dir.tags).nnz == 0
    assert from_zip.items.equals(from_dir.items)
    assert "plays" not in repr(from_zip) and "users x" in repr(from_zip)


def test_hetrec_without_path_uses_the_registry_download(tmp_path, monkeypatch):
    archive = zip_folder(write_hetrec(tmp_path / "h"), tmp_path / "hetrec2011-lastfm-2k.zip")
    asked = []
    monkeypatch.setattr(datasets, "fetch", lambda name, **kw: asked.append(name) or archive)
    data = load_lastfm_hetrec2011()
    assert asked == ["lastfm_hetrec2011"] and data.plays.nnz == len(PLAYS)


BAD_PLAY_LINES = [
    ("2\t51\t5\t9", "expected 3 tab-separated fields"),
    ("2\t51", "expected 3 tab-separated fields"),
    ("2\t51\t3.5", "not an integer"),
    ("2\t51\tlots", "not a number"),
    ("2\t51\t-4", "negative"),
    ("2\t51\t", "empty"),
    ("2\t51\tNaN", "missing (NaN)"),
    ("2\t51\t0", "must be >= 1"),
    ("x\t51\t3", "'userID'"),
]


@pytest.mark.parametrize("bad, problem", BAD_PLAY_LINES)
def test_hetrec_bad_play_line_names_file_line_and_problem(tmp_path, bad, problem):
    lines = [f"{u}\t{a}\t{w}" for u, a, w in PLAYS]
    lines.insert(2, bad.replace("2\t51", "7\t52", 1) if bad.startswith("2\t51") else bad)
    with pytest.raises(ValueError) as err:
        load_lastfm_hetrec2011(write_hetrec(tmp_path / "h", lines))
    message = str(err.value)
    assert "user_artists.dat" in message and "line 4" in message and problem in message
    assert "Fix" in message


def test_hetrec_duplicates_raise_by_default_and_sum_on_request(tmp_path):
    lines = [f"{u}\t{a}\t{w}" for u, a, w in PLAYS] + ["3\t51\t7"]
    folder = write_hetrec(tmp_path / "h", lines)
    with pytest.raises(ValueError, match=r"line 7: duplicate .*\(3, 51\).*first seen on line 4"):
        load_lastfm_hetrec2011(folder)
    summed = load_lastfm_hetrec2011(folder, duplicates="sum")
    assert summed.plays[summed.user_index[3], summed.item_index[51]] == 5 + 7
    with pytest.raises(ValueError, match="duplicates must be one of"):
        load_lastfm_hetrec2011(folder, duplicates="mean")


def test_hetrec_wrong_header_and_blank_lines(tmp_path):
    folder = write_hetrec(tmp_path / "h")
    (folder / "user_artists.dat").write_text("user\tartist\tplays\n2\t51\t3\n")
    with pytest.raises(ValueError, match=r"user_artists.dat, line 1: expected the header"):
        load_lastfm_hetrec2011(folder)
    (folder / "user_artists.dat").write_text("userID\tartistID\tweight\n2\t51\t3\n\n3\t51\t4\n")
    with pytest.raises(ValueError, match=r"line 3: the line is empty"):
        load_lastfm_hetrec2011(folder)
    # trailing empty lines and Windows line endings are harmless
    (folder / "user_artists.dat").write_bytes(
        b"userID\tartistID\tweight\r\n2\t51\t3\r\n3\t51\t4\r\n\r\n\n"
    )
    data = load_lastfm_hetrec2011(folder)
    assert data.plays.sum() == 7 and data.plays.nnz == 2


def test_hetrec_truncated_and_corrupt_archives_raise_clearly(tmp_path):
    folder = write_hetrec(tmp_path / "h")
    archive = zip_folder(folder, tmp_path / "hetrec2011-lastfm-2k.zip")
    payload = archive.read_bytes()
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(payload[: len(payload) // 2])
    with pytest.raises(ValueError, match=r"truncated.zip: the archive is truncated or corrupt"):
        load_lastfm_hetrec2011(truncated)
    # a flipped byte inside a stored member: the CRC check fails while reading
    stored = tmp_path / "stored.zip"
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as zf:
        for file in sorted(folder.iterdir()):
            zf.write(file, file.name)
    raw = bytearray(stored.read_bytes())
    at = raw.index(b"13883")
    raw[at] = ord("9")
    stored.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"stored.zip: the archive is truncated or corrupt"):
        load_lastfm_hetrec2011(stored)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_lastfm_hetrec2011(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="needs user_artists.dat"):
        load_lastfm_hetrec2011(folder / "user_artists.dat")


# ------------------------------------------------------------------------------------------
# Last.fm 1K fixtures
# ------------------------------------------------------------------------------------------
MBID_A, MBID_T = "a74b1b7f-71a5-4011-9441-d0b5e4122711", "b1a9c0e9-d987-4042-ae91-78d6a3267d69"
EVENTS = [
    ("user_000001", "2009-05-04T23:08:57Z", MBID_A, "Radiohead", MBID_T, "Airbag"),
    ("user_000001", "2009-05-04T13:54:10Z", MBID_A, "Radiohead", "", "Lucky"),
    ("user_000001", "2009-05-04T13:52:04Z", MBID_A, "Radiohead", MBID_T, "Airbag"),
    ("user_000002", "2009-05-03T15:48:25Z", "", "Björk", "", 'Big "Time" Sensuality'),
    ("user_000002", "2009-05-03T15:37:56Z", "", "Björk", "", 'Big "Time" Sensuality'),
    ("user_000002", "2009-05-03T15:14:53Z", MBID_A, "Radiohead", "", "Lucky"),
    ("user_000003", "2009-05-02T11:02:00Z", "", "The Dogs D'Amour", "", "Fall in Love Again?"),
]
LOG_NAME = "userid-timestamp-artid-artname-traid-traname.tsv"


def write_log(folder: Path, lines: list[str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if lines is None:
        lines = ["\t".join(e) for e in EVENTS]
    (folder / LOG_NAME).write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "userid-profile.tsv").write_text("#id\tgender\tage\tcountry\tregistered\n")
    return folder


def tar_folder(folder: Path, archive: Path) -> Path:
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(folder, arcname="lastfm-dataset-1K")
    return archive


def test_lastfm_1k_artist_counts_are_event_counts(tmp_path):
    data = load_lastfm_1k(write_log(tmp_path / "1k"))
    expected = Counter((e[0], e[3]) for e in EVENTS)
    assert data.plays.dtype == np.int32
    assert data.plays.shape == (len({e[0] for e in EVENTS}), len({e[3] for e in EVENTS}))
    for (user, artist), n in expected.items():
        assert data.plays[data.user_index[user], data.item_index[artist]] == n
    assert data.plays.sum() == len(EVENTS) == data.info["events"]
    mbid = dict(zip(data.items["artist_name"], data.items["artist_mbid"], strict=True))
    assert mbid["Radiohead"] == MBID_A and mbid["Björk"] == ""


def test_lastfm_1k_track_level_and_tar_gz(tmp_path):
    folder = write_log(tmp_path / "1k")
    from_tar = load_lastfm_1k(
        tar_folder(folder, tmp_path / "lastfm-dataset-1K.tar.gz"), level="track"
    )
    from_tsv = load_lastfm_1k(folder / LOG_NAME, level="track")
    assert (from_tar.plays != from_tsv.plays).nnz == 0
    expected = Counter((e[0], e[3], e[5]) for e in EVENTS)
    for (user, artist, track), n in expected.items():
        assert from_tar.plays[from_tar.user_index[user], from_tar.item_index[(artist, track)]] == n
    row = from_tar.items.iloc[from_tar.item_index[("Radiohead", "Airbag")]]
    assert row["track_mbid"] == MBID_T
    assert 'Big "Time" Sensuality' in set(from_tar.items["track_name"])  # quotes are literal


def test_lastfm_1k_bad_lines_raise_or_are_skipped(tmp_path):
    lines = ["\t".join(e) for e in EVENTS]
    lines.insert(3, "user_000009\t2009-05-04T23:08:57Z\tRadiohead")
    lines.insert(5, "\t".join(("user_000009", "2009", "", "", "", "Untitled")))
    folder = write_log(tmp_path / "1k", lines)
    with pytest.raises(
        ValueError, match=r"traname.tsv, line 4: expected 6 tab-separated fields.*skip"
    ):
        load_lastfm_1k(folder)
    data = load_lastfm_1k(folder, on_bad_lines="skip")
    assert data.info["skipped_lines"] == 2 and data.plays.sum() == len(EVENTS)
    lines.pop(3)
    folder = write_log(tmp_path / "1k", lines)
    with pytest.raises(ValueError, match=r"line 5, column 'artist_name': the artist_name is empty"):
        load_lastfm_1k(folder)
    with pytest.raises(ValueError, match="level must be one of"):
        load_lastfm_1k(folder, level="album")


def test_lastfm_1k_max_lines_reads_a_prefix(tmp_path):
    folder = write_log(tmp_path / "1k")
    data = load_lastfm_1k(folder, max_lines=3)
    assert data.plays.sum() == 3 and list(data.users["user_id"]) == ["user_000001"]
    with pytest.raises(ValueError, match="max_lines"):
        load_lastfm_1k(folder, max_lines=0)


def test_lastfm_1k_small_blocks_keep_line_numbers(tmp_path):
    """Blocks split lines across reads; line numbers must still be exact."""
    lines = ["\t".join(e) for e in EVENTS] * 20
    lines.insert(101, "user_000009\tonly-two-fields")
    folder = write_log(tmp_path / "1k", lines)
    with pytest.raises(ValueError, match=r"line 102: expected 6"):
        list(
            datasets._iter_tsv(
                datasets._plain_member(folder / LOG_NAME), datasets._LASTFM_1K_NAMES, block_bytes=97
            )
        )
    good = write_log(tmp_path / "ok", ["\t".join(e) for e in EVENTS] * 20)
    chunks = list(
        datasets._iter_tsv(
            datasets._plain_member(good / LOG_NAME), datasets._LASTFM_1K_NAMES, block_bytes=97
        )
    )
    numbers = np.concatenate([c[0] for c in chunks])
    assert len(chunks) > 10 and np.array_equal(numbers, np.arange(1, len(EVENTS) * 20 + 1))


@pytest.mark.parametrize("level", ["artist", "track"])
def test_lastfm_1k_many_blocks_agree_with_a_plain_count(tmp_path, monkeypatch, level):
    """Random log read in tiny blocks (keys recur across blocks) equals collections.Counter."""
    rng = np.random.default_rng(0)
    artists = ["Radiohead", "Björk", "Can", "Nina Simone", "Ἀφροδίτη"]
    events = [
        (f"user_{rng.integers(5):06d}", "2009-05-04T23:08:57Z", "", artists[a], "", f"song {t}")
        for a, t in zip(
            rng.integers(len(artists), size=400), rng.integers(3, size=400), strict=True
        )
    ]
    folder = write_log(tmp_path / "1k", ["\t".join(e) for e in events])
    monkeypatch.setattr(datasets, "_BLOCK_BYTES", 211)
    data = load_lastfm_1k(folder, level=level)
    key = (lambda e: e[3]) if level == "artist" else (lambda e: (e[3], e[5]))
    expected = Counter((e[0], key(e)) for e in events)
    assert data.plays.nnz == len(expected) and data.plays.sum() == len(events)
    for (user, item), n in expected.items():
        assert data.plays[data.user_index[user], data.item_index[item]] == n
    assert list(data.users["user_id"]) == sorted({e[0] for e in events})


def test_taste_profile_many_blocks_agree_with_a_plain_sum(tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    rows = [
        (f"{u:040x}", f"SO{s:016X}", int(c))
        for u, s, c in zip(
            rng.integers(30, size=500),
            rng.integers(40, size=500),
            rng.integers(1, 9, size=500),
            strict=True,
        )
    ]
    file = write_triplets(tmp_path / "msd", [f"{u}\t{s}\t{c}" for u, s, c in rows])
    monkeypatch.setattr(datasets, "_BLOCK_BYTES", 331)
    data = load_msd_taste_profile(file, duplicates="sum")
    expected = Counter()
    for u, s, c in rows:
        expected[u, s] += c
    assert data.plays.nnz == len(expected)
    for (u, s), c in expected.items():
        assert data.plays[data.user_index[u], data.item_index[s]] == c
    rows.insert(300, ("abc", "SOX", 0))
    write_triplets(tmp_path / "msd", [f"{u}\t{s}\t{c}" for u, s, c in rows])
    with pytest.raises(ValueError, match=r"line 301, column 'count': the play count is 0"):
        load_msd_taste_profile(file, duplicates="sum")


def test_lastfm_1k_truncated_tar_gz_raises_clearly(tmp_path):
    archive = tar_folder(
        write_log(tmp_path / "1k", ["\t".join(e) for e in EVENTS] * 50),
        tmp_path / "lastfm-dataset-1K.tar.gz",
    )
    payload = archive.read_bytes()
    archive.write_bytes(payload[: len(payload) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load_lastfm_1k(archive)


def test_lastfm_1k_without_path_refuses_to_download_unverified(tmp_path):
    with pytest.raises(ValueError, match=r"refusing to download 'lastfm_1k'.*path="):
        load_lastfm_1k()


# ------------------------------------------------------------------------------------------
# MSD taste profile fixtures
# ------------------------------------------------------------------------------------------
TRIPLETS = [
    ("b80344d063b5ccb3212f76538f3d9e43d87dca9e", "SOAKIMP12A8C130995", 1),
    ("b80344d063b5ccb3212f76538f3d9e43d87dca9e", "SOAPDEY12A81C210A9", 2),
    ("85c1f87fea955d09b4bec2e36aee110927aedf9a", "SOAKIMP12A8C130995", 5),
    ("bd4c6e843f00bd476847fb75c47b4fb430a06856", "SOBFNSP12AF72A0E22", 1),
]


def write_triplets(folder: Path, lines: list[str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if lines is None:
        lines = [f"{u}\t{s}\t{c}" for u, s, c in TRIPLETS]
    file = folder / "train_triplets.txt"
    file.write_text("\n".join(lines) + "\n")
    return file


def test_taste_profile_counts_and_zip(tmp_path):
    file = write_triplets(tmp_path / "msd")
    archive = tmp_path / "train_triplets.txt.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(file, "train_triplets.txt")
    for source in (file, archive, file.parent):
        data = load_msd_taste_profile(source)
        assert data.plays.dtype == np.int32
        assert data.plays.shape == (len({t[0] for t in TRIPLETS}), len({t[1] for t in TRIPLETS}))
        for u, s, c in TRIPLETS:
            assert data.plays[data.user_index[u], data.item_index[s]] == c
        assert list(data.items["song_id"]) == sorted({t[1] for t in TRIPLETS})


@pytest.mark.parametrize(
    "bad, problem",
    [
        ("u\tSOX\t2\textra", "expected 3 tab-separated fields"),
        ("u\tSOX\t1.5", "not an integer"),
        ("u\tSOX\t-1", "negative"),
        ("u\tSOX\tnan", "missing (NaN)"),
        ("u\tSOX\t", "empty"),
        ("\tSOX\t3", "user_id is empty"),
    ],
)
def test_taste_profile_bad_lines(tmp_path, bad, problem):
    lines = [f"{u}\t{s}\t{c}" for u, s, c in TRIPLETS]
    lines.insert(1, bad)
    file = write_triplets(tmp_path / "msd", lines)
    with pytest.raises(ValueError) as err:
        load_msd_taste_profile(file)
    assert "train_triplets.txt, line 2" in str(err.value) and problem in str(err.value)


def test_taste_profile_duplicates_and_max_lines(tmp_path):
    lines = [f"{u}\t{s}\t{c}" for u, s, c in TRIPLETS] + [f"{TRIPLETS[0][0]}\t{TRIPLETS[0][1]}\t4"]
    file = write_triplets(tmp_path / "msd", lines)
    with pytest.raises(
        ValueError, match=r"line 5: duplicate .*first seen on line 1.*duplicates='sum'"
    ):
        load_msd_taste_profile(file)
    summed = load_msd_taste_profile(file, duplicates="sum")
    row = summed.plays[summed.user_index[TRIPLETS[0][0]]]
    assert row[0, summed.item_index[TRIPLETS[0][1]]] == TRIPLETS[0][2] + 4
    assert row.sum() == TRIPLETS[0][2] + 4 + TRIPLETS[1][2]
    assert summed.info["duplicate_rows_summed"] == 1
    head = load_msd_taste_profile(file, max_lines=2)
    assert head.plays.shape == (1, 2) and head.plays.sum() == 3


def test_taste_profile_without_path_refuses(tmp_path):
    with pytest.raises(ValueError, match="refusing to download 'msd_taste_profile'"):
        load_msd_taste_profile()


# ------------------------------------------------------------------------------------------
# FMA fixtures
# ------------------------------------------------------------------------------------------
FMA_COLUMNS = [
    ("album", "information"),
    ("album", "title"),
    ("artist", "name"),
    ("set", "split"),
    ("set", "subset"),
    ("track", "duration"),
    ("track", "genre_top"),
    ("track", "genres"),
    ("track", "title"),
]
FMA_ROWS = [
    (
        2,
        "<p>multi\nline\ninfo</p>",
        "AWOL - A Way Of Life",
        "AWOL",
        "training",
        "small",
        "168",
        "Hip-Hop",
        "[21]",
        "Food",
    ),
    (
        5,
        "",
        "AWOL - A Way Of Life",
        "AWOL",
        "validation",
        "small",
        "206",
        "Hip-Hop",
        "[21]",
        "This World",
    ),
    (10, "", "Constant Hitmaker", "Kurt Vile", "test", "medium", "161", "Pop", "[10]", "Freeway"),
    (
        20,
        "x, y",
        "Niris",
        "Nicky Cook",
        "training",
        "large",
        "311",
        "",
        "[76, 103]",
        "Spiritual Level",
    ),
]


def write_tracks_csv(file: Path, rows=FMA_ROWS, third=None) -> Path:
    file.parent.mkdir(parents=True, exist_ok=True)
    with open(file, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([""] + [a for a, _ in FMA_COLUMNS])
        writer.writerow([""] + [b for _, b in FMA_COLUMNS])
        writer.writerow(third or ["track_id"] + [""] * len(FMA_COLUMNS))
        writer.writerows(rows)
    return file


def test_fma_metadata_subsets_and_columns(tmp_path):
    file = write_tracks_csv(tmp_path / "fma_metadata" / "tracks.csv")
    small = load_fma(file.parent, subset="small")
    assert list(small.tracks.columns) == [
        "track_id",
        "genre_top",
        "artist",
        "title",
        "duration",
        "split",
        "subset",
    ]
    assert list(small.tracks["track_id"]) == [r[0] for r in FMA_ROWS if r[5] == "small"]
    assert small.genre_names == ["Hip-Hop"]
    assert list(small.tracks["split"]) == ["training", "validation"]
    medium = load_fma(file, subset="medium")
    assert list(medium.tracks["track_id"]) == [2, 5, 10]
    large = load_fma(file, subset="large")
    assert len(large.tracks) == len(FMA_ROWS) and large.tracks["genre_top"].isna().sum() == 1
    assert large.tracks.loc[large.tracks["track_id"] == 10, "duration"].item() == 161.0
    archive = tmp_path / "fma_metadata.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(file, "fma_metadata/tracks.csv")
    assert load_fma(archive).tracks.equals(small.tracks)


def test_fma_bad_metadata_reports_line_after_multiline_fields(tmp_path):
    rows = [list(r) for r in FMA_ROWS]
    rows[2][0] = "ten"  # data row 3 starts on line 8: the first row spans lines 4-6
    with pytest.raises(ValueError, match=r"tracks.csv, line 8, column 'track_id'.*not a number"):
        load_fma(write_tracks_csv(tmp_path / "a" / "tracks.csv", rows))
    rows = [list(r) for r in FMA_ROWS]
    rows[1][5] = "tiny"
    with pytest.raises(ValueError, match=r"line 7, column 'set/subset'"):
        load_fma(write_tracks_csv(tmp_path / "b" / "tracks.csv", rows))
    rows = [list(r) for r in FMA_ROWS]
    rows[1] = rows[1][:-2]
    with pytest.raises(ValueError, match=r"line 7: expected 10 comma-separated fields, found 8"):
        load_fma(write_tracks_csv(tmp_path / "c" / "tracks.csv", rows))
    rows = [list(r) for r in FMA_ROWS]
    rows[3][0] = "5"
    with pytest.raises(ValueError, match=r"line 9, column 'track_id'.*already used on line 7"):
        load_fma(write_tracks_csv(tmp_path / "d" / "tracks.csv", rows))
    one_header = tmp_path / "e" / "tracks.csv"
    one_header.parent.mkdir()
    one_header.write_text("track_id,title\n2,Food\n3,x\n4,y\n")
    with pytest.raises(ValueError, match="3-line tracks.csv header"):
        load_fma(one_header)
    with pytest.raises(ValueError, match="subset must be one of"):
        load_fma(one_header, subset="tiny")


def write_tone(file: Path, freq=440.0, sr=44100, seconds=1.0) -> Path:
    import soundfile

    file.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(sr * seconds)) / sr
    soundfile.write(file, 0.5 * np.sin(2 * np.pi * freq * t), sr, format="MP3")
    return file


def dominant_frequency(y: np.ndarray, sr: int) -> float:
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return float(np.fft.rfftfreq(len(y), 1 / sr)[np.argmax(spectrum)])


def test_fma_audio_from_folder_and_zip_is_resampled(tmp_path):
    meta = write_tracks_csv(tmp_path / "fma_metadata" / "tracks.csv")
    audio = tmp_path / "fma_small"
    write_tone(audio / "000" / "000002.mp3", freq=440.0)
    write_tone(audio / "000" / "000005.mp3", freq=660.0)
    fma = load_fma(meta, audio_path=audio)
    y = fma.audio(2, sr=16000)
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) - 16000) < 0.1 * 16000  # one second, give or take MP3 padding
    assert abs(dominant_frequency(y, 16000) - 440.0) < 5.0
    archive = tmp_path / "fma_small.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for file in sorted(audio.rglob("*.mp3")):
            zf.write(file, f"fma_small/{file.parent.name}/{file.name}")
    zipped = load_fma(meta, audio_path=archive)
    y5 = zipped.audio(5, sr=22050, duration=0.5)
    assert abs(len(y5) - 11025) < 200 and abs(dominant_frequency(y5, 22050) - 660.0) < 5.0
    assert zipped.audio_file(5).endswith("fma_small/000/000005.mp3")


def test_fma_audio_errors(tmp_path):
    meta = write_tracks_csv(tmp_path / "fma_metadata" / "tracks.csv")
    audio = tmp_path / "fma_small" / "000"
    audio.mkdir(parents=True)
    (audio / "000002.mp3").write_bytes(b"\x00" * 64)  # like the known empty FMA clips
    fma = load_fma(meta, audio_path=audio.parent)
    with pytest.raises(ValueError, match=r"could not decode .*000002.mp3.*skip this track"):
        fma.audio(2)
    with pytest.raises(FileNotFoundError, match="000005.mp3 not found"):
        fma.audio(5)
    with pytest.raises(ValueError, match="track_id 10 is not in the 'small' subset"):
        fma.audio(10)
    with pytest.raises(ValueError, match="sr must be a positive integer"):
        fma.audio(2, sr=-1)


def test_fma_audio_without_path_refuses_other_subsets_than_small(tmp_path):
    meta = write_tracks_csv(tmp_path / "fma_metadata" / "tracks.csv")
    with pytest.raises(ValueError, match="only fma_small.zip is in the registry"):
        load_fma(meta, subset="medium").audio(10)


# ------------------------------------------------------------------------------------------
# Registry, cache and checksums
# ------------------------------------------------------------------------------------------
def test_registry_lists_the_real_sources():
    entries = registry()
    assert set(entries) == {
        "lastfm_hetrec2011",
        "lastfm_1k",
        "fma_metadata",
        "fma_small",
        "msd_taste_profile",
    }
    for entry in entries.values():
        assert entry.url.startswith(("http://", "https://"))
        assert entry.url.rsplit("/", 1)[-1] == entry.filename
        assert entry.license and entry.hash_source
    assert entries["lastfm_1k"].known_hash is None  # no checksum known: never downloaded
    assert entries["fma_small"].known_hash.startswith("sha1:")


def test_registry_rejects_malformed_hashes(tmp_path):
    bad = tmp_path / "registry.csv"
    bad.write_text(
        "name,filename,url,hash,size,license,hash_source\n"
        "x,x.zip,https://example.org/x.zip,sha256:abc,1,free,me\n"
    )
    with pytest.raises(ValueError, match=r"registry.csv, line 2: hash 'sha256:abc'"):
        registry(bad)


def test_data_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_LIB_DATA", str(tmp_path / "here"))
    assert datasets.data_dir() == tmp_path / "here"
    monkeypatch.delenv("COURSE_LIB_DATA")
    assert datasets.data_dir().name == "course_lib"


def fake_registry(tmp_path: Path, digest: str) -> Path:
    file = tmp_path / "registry.csv"
    file.write_text(
        "name,filename,url,hash,size,license,hash_source\n"
        f"toy,toy.zip,https://example.org/toy.zip,{digest},1 kB,test,test\n"
    )
    return file


def local_downloader(source: Path):
    def download(url, output_file, pooch):
        shutil.copyfile(source, output_file)

    return download


def test_fetch_verifies_the_checksum_with_pooch(tmp_path, monkeypatch):
    payload = tmp_path / "payload.zip"
    payload.write_bytes(b"not really a zip, but bytes with a known hash")
    digest = hashlib.sha256(payload.read_bytes()).hexdigest()
    monkeypatch.setattr(datasets, "_REGISTRY_PATH", fake_registry(tmp_path, f"sha256:{digest}"))
    local = fetch("toy", downloader=local_downloader(payload))
    assert local.parent == tmp_path / "cache" and local.read_bytes() == payload.read_bytes()


def test_fetch_checksum_mismatch_raises_and_keeps_nothing(tmp_path, monkeypatch):
    payload = tmp_path / "payload.zip"
    payload.write_bytes(b"tampered bytes")
    monkeypatch.setattr(datasets, "_REGISTRY_PATH", fake_registry(tmp_path, "sha256:" + "0" * 64))
    with pytest.raises(ValueError, match=r"checksum mismatch for 'toy'.*discarded"):
        fetch("toy", downloader=local_downloader(payload))
    assert not (tmp_path / "cache" / "toy.zip").exists()


def test_fetch_refuses_entries_without_checksum_and_unknown_names():
    with pytest.raises(ValueError, match=r"no checksum.*sha256sum train_triplets.txt.zip"):
        fetch("msd_taste_profile")
    with pytest.raises(ValueError, match="unknown dataset 'spotify'"):
        fetch("spotify")


def test_verify_checksum_detects_a_changed_file(tmp_path):
    file = tmp_path / "f.bin"
    file.write_bytes(b"abc")
    verify_checksum(file, "sha256:" + hashlib.sha256(b"abc").hexdigest())
    verify_checksum(file, "sha1:" + hashlib.sha1(b"abc").hexdigest())
    with pytest.raises(ValueError, match=r"checksum mismatch for .*f.bin"):
        verify_checksum(file, "sha256:" + hashlib.sha256(b"abx").hexdigest())


def test_nothing_is_unpickled():
    source = Path(datasets.__file__).read_text()
    for loader in ("import pickle", "read_pickle", "allow_pickle=True", "pickle.load", "joblib"):
        assert loader not in source
