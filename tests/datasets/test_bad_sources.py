"""Where the loaders look and what they call a bad file (issue 25): empty paths, copies deep in a
tree, encrypted or unread archives, empty files, UTF-16, stray carriage returns, NUL bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from course_lib.datasets import (
    load_fma,
    load_lastfm_hetrec2011,
    load_msd_taste_profile,
)
from course_lib.datasets.archives import resolve
from course_lib.datasets.fields import quoted
from tests.datasets.test_hetrec import write_hetrec
from tests.datasets.test_msd import TRIPLETS, write_triplets


def test_a_folder_is_searched_one_level_deep_and_the_message_says_where(tmp_path) -> None:
    (tmp_path / "extracted").mkdir()
    (tmp_path / "extracted" / "data.txt").write_text("one level down\n")
    member = resolve(tmp_path, ["data.txt"], "Toy")["data.txt"]
    with member.open() as handle:
        assert handle.read() == b"one level down\n"
    deep = tmp_path / "other"
    (deep / "a" / "b").mkdir(parents=True)
    (deep / "a" / "b" / "data.txt").write_text("three levels down\n")
    with pytest.raises(FileNotFoundError) as info:
        resolve(deep, ["data.txt"], "Toy")
    message = str(info.value)
    assert f"data.txt not found: looked in {deep} and in its subfolders (a/), not deeper" in message
    assert "Fix: pass the folder that holds data.txt" in message


@pytest.mark.parametrize("empty", ["", "  "])
def test_an_empty_path_is_refused_not_read_as_the_current_folder(
    tmp_path, monkeypatch, empty
) -> None:
    monkeypatch.chdir(write_hetrec(tmp_path / "cwd"))  # a copy that must not be found
    with pytest.raises(ValueError, match=r"path is empty .*an unset shell variable"):
        load_lastfm_hetrec2011(empty)
    with pytest.raises(ValueError, match=r"^path is empty"):
        load_msd_taste_profile(empty)
    with pytest.raises(ValueError, match=r"^path is empty"):
        resolve(empty, ["user_artists.dat"], "Toy")


def test_fma_refuses_an_empty_audio_path(tmp_path) -> None:
    from tests.datasets.test_fma import write_tracks_csv

    tracks = write_tracks_csv(tmp_path / "meta" / "tracks.csv")
    with pytest.raises(ValueError, match=r"^audio_path is empty"):
        load_fma(tracks, audio_path="")


def _encrypt(archive: Path) -> Path:
    """Set the 'encrypted' flag of every member, as a password-protected zip has it."""
    raw = bytearray(archive.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = raw.find(signature)
        while start >= 0:
            raw[start + offset] |= 0x1
            start = raw.find(signature, start + 4)
    archive.write_bytes(bytes(raw))
    return archive


def test_an_encrypted_zip_is_called_encrypted(tmp_path, zip_folder) -> None:
    archive = _encrypt(zip_folder(write_hetrec(tmp_path / "h"), tmp_path / "locked.zip"))
    with pytest.raises(ValueError) as info:
        load_lastfm_hetrec2011(archive, verify=False)
    message = str(info.value)
    assert f"{archive} is encrypted (password-protected)" in message
    assert "unzip locked.zip" in message and "pass the extracted folder" in message


@pytest.mark.parametrize(
    ("name", "head", "what", "command"),
    [
        ("hetrec.7z", b"7z\xbc\xaf\x27\x1c\x00\x04", "a 7-Zip archive", "7z x hetrec.7z"),
        ("hetrec.rar", b"Rar!\x1a\x07\x01\x00", "a RAR archive", "unrar x hetrec.rar"),
        (
            "data.gz",
            b"\x1f\x8b\x08\x00",
            "a gzip-compressed file (not a .tar.gz)",
            "gunzip -k data.gz",
        ),
    ],
)
def test_an_archive_format_we_do_not_read_is_named(tmp_path, name, head, what, command) -> None:
    archive = tmp_path / name
    archive.write_bytes(head + b"\x00" * 100)
    for load in (load_lastfm_hetrec2011, load_msd_taste_profile):
        with pytest.raises(ValueError) as info:
            load(archive)
        message = str(info.value)
        assert f"{archive} is {what}" in message and "a format the loaders do not read" in message
        assert f"Fix: extract it ({command}) and pass the extracted folder" in message


def test_an_empty_archive_is_called_empty(tmp_path) -> None:
    empty = tmp_path / "hetrec2011-lastfm-2k.zip"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match=r"is empty \(0 bytes\), so it cannot be the registered"):
        load_lastfm_hetrec2011(empty)  # checked against the registry first
    with pytest.raises(ValueError, match=r"hetrec2011-lastfm-2k.zip is empty \(0 bytes\)"):
        load_lastfm_hetrec2011(empty, verify=False)
    with pytest.raises(ValueError, match=r"triplets.tar.gz is empty \(0 bytes\)"):
        (tmp_path / "triplets.tar.gz").write_bytes(b"")
        load_msd_taste_profile(tmp_path / "triplets.tar.gz")


@pytest.mark.parametrize(
    ("encoding", "kind"),
    [
        ("utf-16", "UTF-16 (little-endian, with a byte-order mark)"),
        ("utf-16-le", "UTF-16 (little-endian, without a byte-order mark)"),
        ("utf-16-be", "UTF-16 (big-endian, without a byte-order mark)"),
    ],
)
def test_a_utf16_file_is_called_utf16(tmp_path, encoding, kind) -> None:
    file = write_triplets(tmp_path / "msd")
    file.write_bytes(file.read_text().encode(encoding))
    with pytest.raises(ValueError) as info:
        load_msd_taste_profile(file)
    message = str(info.value)
    assert f"train_triplets.txt: the file is {kind} text" in message
    assert "iconv -f UTF-16 -t UTF-8" in message
    folder = write_hetrec(tmp_path / "h")
    tags = folder / "tags.dat"
    tags.write_bytes(tags.read_bytes().decode("latin-1").encode(encoding))
    with pytest.raises(ValueError, match=rf"tags.dat: the file is {kind[:6]}.*UTF-8 or Latin-1"):
        load_lastfm_hetrec2011(folder)


def test_a_utf16_fma_tracks_csv_is_called_utf16(tmp_path) -> None:
    from tests.datasets.test_fma import write_tracks_csv

    tracks = write_tracks_csv(tmp_path / "meta" / "tracks.csv")
    tracks.write_bytes(tracks.read_text(encoding="utf-8").encode("utf-16"))
    with pytest.raises(ValueError, match=r"tracks.csv: the file is UTF-16 \(little-endian"):
        load_fma(tracks)


def test_a_lone_carriage_return_names_its_line(tmp_path) -> None:
    (user, _, count), rest = TRIPLETS[0], TRIPLETS[1:]
    lines = [f"{u}\t{s}\t{c}" for u, s, c in rest] + [f"{user}\tSOAB\rCD\t{count}"]
    with pytest.raises(ValueError) as info:
        load_msd_taste_profile(write_triplets(tmp_path / "msd", lines))
    message = str(info.value)
    assert f"train_triplets.txt, line {len(lines)}: a carriage return (\\r)" in message
    assert "lines 1-" not in message and "Fix: delete the stray \\r" in message


def test_quoted_content_is_cut_after_repr(tmp_path) -> None:
    text = "\x00" * 600
    assert len(quoted(text)) == 100 and quoted(text).endswith("...'")
    assert quoted("short") == "'short'"
    file = write_triplets(tmp_path / "msd", [f"{TRIPLETS[0][0]}\t{text}"])
    with pytest.raises(ValueError) as info:
        load_msd_taste_profile(file)
    message = str(info.value)
    assert "line 1: expected 3 tab-separated fields" in message
    assert message.count("\\x00") <= 24 and len(message) < 450


def test_the_advice_for_negative_plays_works_as_written() -> None:
    import re

    import numpy as np
    import scipy.sparse as sp

    from course_lib.validation import validate_plays

    plays = sp.csr_matrix(np.array([[3.0, -1.0], [0.0, 2.0]]))
    with pytest.raises(ValueError) as info:
        validate_plays(plays)
    advice = re.search(r"set them to 0 with (plays\.data = [^ ]+)", str(info.value))
    assert advice is not None, str(info.value)
    exec(advice.group(1), {"plays": plays, "np": np})  # the student's next line
    assert validate_plays(plays).toarray().tolist() == [[3.0, 0.0], [0.0, 2.0]]
