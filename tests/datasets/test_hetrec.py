"""HetRec 2011 Last.fm 2k loader, on small files written in the real format; no network."""

from __future__ import annotations

import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib.datasets import download, load_lastfm_hetrec2011

PLAYS = [(2, 51, 13883), (2, 52, 11690), (3, 51, 5), (5, 60, 100), (3, 60, 1)]
ARTISTS = [
    (51, "Duran Duran", "http://www.last.fm/music/Duran+Duran"),
    (52, "Morcheeba", "http://www.last.fm/music/Morcheeba"),
    (60, "Sigur Rós", "http://www.last.fm/music/Sigur+R%C3%B3s"),
    (70, "Nobody Listens", "http://www.last.fm/music/Nobody"),
]
TAGS = [(1, "metal"), (2, "électronique"), (3, "chillout")]
TAGGED = [(2, 52, 3), (3, 52, 3), (2, 60, 2), (2, 999, 1), (3, 51, 77), (5, 51, 1)]


def write_hetrec(
    folder: Path,
    plays_lines: list[str] | None = None,
    *,
    artists: list[tuple[int, str, str]] = ARTISTS,
    tagged: list[tuple[int, int, int]] = TAGGED,
    ending: str = "\n",
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if plays_lines is None:
        plays_lines = [f"{u}\t{a}\t{w}" for u, a, w in PLAYS]
    files = {
        "user_artists.dat": ["userID\tartistID\tweight", *plays_lines],
        "artists.dat": ["id\tname\turl\tpictureURL"]
        + [f"{i}\t{n}\t{u}\thttp://userserve-ak.last.fm/serve/252/{i}.jpg" for i, n, u in artists],
        "user_taggedartists.dat": ["userID\tartistID\ttagID\tday\tmonth\tyear"]
        + [f"{u}\t{a}\t{t}\t1\t4\t2009" for u, a, t in tagged],
        "user_friends.dat": ["userID\tfriendID", "2\t3"],
    }
    for name, lines in files.items():
        (folder / name).write_bytes(ending.join(lines).encode("utf-8") + ending.encode())
    tags = ending.join(["tagID\ttagValue", *(f"{i}\t{v}" for i, v in TAGS)]) + ending
    (folder / "tags.dat").write_bytes(tags.encode("latin-1"))  # as in the real archive
    return folder


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
    assert data.info["checksum"].startswith("not checked: no published hash")


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
    assert data.info["encodings"] == {
        "user_artists.dat": "utf-8",
        "artists.dat": "utf-8",
        "tags.dat": "latin-1",
        "user_taggedartists.dat": "utf-8",
    }


def test_hetrec_zip_gives_the_same_data_as_the_folder(tmp_path, zip_folder):
    folder = write_hetrec(tmp_path / "hetrec")
    archive = zip_folder(folder, tmp_path / "hetrec2011-lastfm-2k.zip")
    from_zip = load_lastfm_hetrec2011(archive, verify=False)
    from_dir = load_lastfm_hetrec2011(folder)
    assert (from_zip.plays != from_dir.plays).nnz == 0
    assert (from_zip.tags != from_dir.tags).nnz == 0
    assert from_zip.items.equals(from_dir.items)
    assert "plays" not in repr(from_zip) and "users x" in repr(from_zip)
    assert from_zip.info["checksum"] == "not checked: verify=False"


def test_hetrec_without_path_uses_the_registry_download(tmp_path, monkeypatch, zip_folder):
    archive = zip_folder(write_hetrec(tmp_path / "h"), tmp_path / "hetrec2011-lastfm-2k.zip")
    asked = []
    monkeypatch.setattr(download, "fetch", lambda name, **kw: asked.append(name) or archive)
    data = load_lastfm_hetrec2011()
    assert asked == ["lastfm_hetrec2011"] and data.plays.nnz == len(PLAYS)
    assert data.info["checksum"] == "downloaded and verified (sha256)"


BAD_PLAY_LINES = [
    ("2\t51\t5\t9", "expected 3 tab-separated fields"),
    ("2\t51", "expected 3 tab-separated fields"),
    ("2\t51\t3.5", "not an integer"),
    ("2\t51\tlots", "not a number"),
    ("2\t51\t-4", "negative"),
    ("2\t51\t", "empty"),
    ("2\t51\tNaN", "missing (NaN)"),
    ("2\t51\tinf", "infinite"),
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
    assert summed.info["duplicate_play_rows_summed"] == 1
    with pytest.raises(ValueError, match="duplicates must be one of"):
        load_lastfm_hetrec2011(folder, duplicates="mean")


def test_hetrec_repeated_tag_assignment_is_refused_not_counted_twice(tmp_path):
    """Issue 17: a repeated row of user_taggedartists.dat was counted twice, silently."""
    folder = write_hetrec(tmp_path / "h", tagged=[*TAGGED, TAGGED[0]])
    with pytest.raises(ValueError) as err:
        load_lastfm_hetrec2011(folder)
    message = str(err.value)
    assert "user_taggedartists.dat, line 8: repeated tag assignment" in message
    assert "(2, 52, 3), first seen on line 2" in message
    assert "counted twice" in message and "Fix" in message and "duplicates='sum'" in message
    counted = load_lastfm_hetrec2011(folder, duplicates="sum")
    single = load_lastfm_hetrec2011(write_hetrec(tmp_path / "ok"))
    artist, tag = counted.item_index[52], list(counted.tag_ids).index(3)
    assert counted.tags[artist, tag] == single.tags[artist, tag] + 1
    assert counted.info["duplicate_tag_assignments_counted"] == 1
    assert single.info["duplicate_tag_assignments_counted"] == 0


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


def test_hetrec_empty_and_header_only_files_are_errors(tmp_path):
    folder = write_hetrec(tmp_path / "h")
    (folder / "tags.dat").write_bytes(b"")
    with pytest.raises(ValueError, match=r"tags.dat: the file is empty \(0 bytes\)\. Fix"):
        load_lastfm_hetrec2011(folder)
    (folder / "tags.dat").write_bytes(b"tagID\ttagValue\n")
    with pytest.raises(ValueError, match=r"tags.dat: the file has no data lines\. Fix"):
        load_lastfm_hetrec2011(folder)


def test_hetrec_old_mac_line_endings_are_read_like_unix_ones(tmp_path):
    """Issue 17: a CR-only file gave a 1.48-million-character message (the file as a header)."""
    mac = load_lastfm_hetrec2011(write_hetrec(tmp_path / "mac", ending="\r"))
    unix = load_lastfm_hetrec2011(write_hetrec(tmp_path / "unix"))
    assert (mac.plays != unix.plays).nnz == 0 and (mac.tags != unix.tags).nnz == 0
    assert mac.items.equals(unix.items) and mac.tag_names == unix.tag_names
    lines = [f"{u}\t{a}\t{w}" for u, a, w in PLAYS]
    lines.insert(3, "2\t51\tlots")
    with pytest.raises(ValueError, match=r"user_artists.dat, line 5, column 'weight'"):
        load_lastfm_hetrec2011(write_hetrec(tmp_path / "bad", lines, ending="\r"))


def test_hetrec_messages_stay_short_on_huge_content(tmp_path):
    """A file without any line break (or with a giant field) never floods the notebook."""
    folder = write_hetrec(tmp_path / "h")
    (folder / "user_artists.dat").write_bytes(b"userID artistID weight " * 65_000)  # 1.5 MB
    with pytest.raises(ValueError) as err:
        load_lastfm_hetrec2011(folder)
    message = str(err.value)
    assert "user_artists.dat, line 1: expected the header" in message and "Fix" in message
    assert len(message) < 500, len(message)
    folder = write_hetrec(tmp_path / "g", ["2\t51\t" + "9x" * 500_000])
    with pytest.raises(ValueError) as err:
        load_lastfm_hetrec2011(folder)
    assert "line 2, column 'weight'" in str(err.value) and len(str(err.value)) < 500


NAMES = ["Röyksopp", "Sigur Rós", "Björk", "Mötley Crüe", "Beyoncé", "Motörhead", "Ásgeir"]


def artists_with_one_bad_byte(tmp_path: Path) -> Path:
    artists = [(100 + k, name, f"http://www.last.fm/music/{k}") for k, name in enumerate(NAMES)]
    folder = write_hetrec(tmp_path / "h", artists=[*ARTISTS, *artists])
    raw = (folder / "artists.dat").read_bytes()
    (folder / "artists.dat").write_bytes(raw.replace(b"Morcheeba", b"Morch\xffeba"))
    return folder


def test_hetrec_one_bad_byte_does_not_turn_the_file_into_latin1_mojibake(tmp_path):
    """Issue 17: one 0xFF in artists.dat made the sniffer decode the whole file as Latin-1."""
    folder = artists_with_one_bad_byte(tmp_path)
    with pytest.raises(ValueError) as err:
        load_lastfm_hetrec2011(folder)
    message = str(err.value)
    assert "artists.dat, line 3: byte 0xff at column 9 is not valid UTF-8" in message
    assert "read as UTF-8" in message and "not re-decoded as Latin-1" in message
    assert "Fix" in message and "encoding_errors='replace'" in message
    with pytest.warns(UnicodeWarning, match=r"artists.dat: lines 3 hold bytes that are not valid"):
        data = load_lastfm_hetrec2011(folder, encoding_errors="replace")
    names = dict(zip(data.items["artist_id"], data.items["name"], strict=True))
    assert [names[100 + k] for k in range(len(NAMES))] == NAMES  # no "RÃ¶yksopp"
    assert names[52] == "Morch\ufffdeba" and names[60] == "Sigur Rós"
    assert data.info["encodings"]["artists.dat"] == "utf-8"
    assert data.tag_names == [v for _, v in sorted(TAGS)]  # tags.dat: still Latin-1
    with pytest.raises(ValueError, match="encoding_errors must be one of"):
        load_lastfm_hetrec2011(folder, encoding_errors="ignore")


def test_hetrec_two_copies_at_the_same_depth_are_refused(tmp_path):
    """Issue 17: with two candidate files at the same depth the loader picked one silently."""
    root = tmp_path / "downloads"
    write_hetrec(root / "a")
    write_hetrec(root / "b", [f"{u}\t{a}\t{w}" for u, a, w in PLAYS[:2]])
    with pytest.raises(ValueError) as err:
        load_lastfm_hetrec2011(root)
    message = str(err.value)
    assert "holds 2 files named user_artists.dat at the same depth" in message
    assert str(Path("a") / "user_artists.dat") in message
    assert str(Path("b") / "user_artists.dat") in message and "Fix" in message
    # a deeper copy is not read, and a warning says so
    write_hetrec(root / "a" / "old", [f"{u}\t{a}\t{w}" for u, a, w in PLAYS[:2]])
    with pytest.warns(
        UserWarning, match=r"4 deeper file\(s\) with the name of a data file were not read"
    ):
        data = load_lastfm_hetrec2011(root / "a")
    assert data.plays.nnz == len(PLAYS)


def test_hetrec_a_folder_where_a_data_file_should_be_is_a_clear_error(tmp_path):
    """Issue 17: a directory named like a data file gave a raw IsADirectoryError."""
    folder = write_hetrec(tmp_path / "h")
    (folder / "artists.dat").unlink()
    (folder / "artists.dat").mkdir()
    with pytest.raises(ValueError) as err:
        load_lastfm_hetrec2011(folder)
    message = str(err.value)
    assert "artists.dat is a folder, but it should be the data file artists.dat" in message
    assert "Fix: extract the archive again" in message


def test_hetrec_local_zip_is_checked_against_the_registry_hash(tmp_path, zip_folder, use_registry):
    """Issue 17: a local file given with path= was never checked, so a cut file loaded."""
    good = zip_folder(write_hetrec(tmp_path / "good"), tmp_path / "hetrec2011-lastfm-2k.zip")
    cut_lines = [f"{u}\t{a}\t{w}" for u, a, w in PLAYS[:-2]]  # cut at a line boundary
    cut = zip_folder(write_hetrec(tmp_path / "cut", cut_lines), tmp_path / "cut.zip")
    with pytest.raises(ValueError) as err:  # the real registry: a fixture is not the real zip
        load_lastfm_hetrec2011(good)
    assert "checksum mismatch for" in str(err.value) and "verify=False" not in str(err.value)
    use_registry(lastfm_hetrec2011={"hash": good})
    data = load_lastfm_hetrec2011(good)
    assert data.info["checksum"] == "verified (sha256 of the archive)"
    with pytest.raises(ValueError) as err:
        load_lastfm_hetrec2011(cut)
    message = str(err.value)
    assert f"checksum mismatch for {cut}: its sha256 is" in message
    assert "not the registered hetrec2011-lastfm-2k.zip (or it is truncated)" in message
    # verify=False is no chapter parameter: the fix is one that make run accepts too
    assert "Fix" in message and "pass the extracted folder instead (data_path=" in message
    assert load_lastfm_hetrec2011(tmp_path / "cut").plays.nnz == len(PLAYS) - 2
    assert load_lastfm_hetrec2011(cut, verify=False).plays.nnz == len(PLAYS) - 2


def test_hetrec_truncated_and_corrupt_archives_raise_clearly(tmp_path, zip_folder):
    folder = write_hetrec(tmp_path / "h")
    archive = zip_folder(folder, tmp_path / "hetrec2011-lastfm-2k.zip")
    payload = archive.read_bytes()
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(payload[: len(payload) // 2])
    with pytest.raises(ValueError, match=r"truncated.zip: the archive is truncated or corrupt"):
        load_lastfm_hetrec2011(truncated, verify=False)
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
        load_lastfm_hetrec2011(stored, verify=False)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_lastfm_hetrec2011(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="needs user_artists.dat"):
        load_lastfm_hetrec2011(folder / "user_artists.dat")
