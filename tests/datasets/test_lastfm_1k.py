"""Last.fm 1K loader, on small logs written in the real format; no network."""

from __future__ import annotations

import hashlib
import tarfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from course_lib.datasets import archives, download, load_lastfm_1k, registry, tsv
from course_lib.datasets.lastfm_1k import LOG_FILE, LOG_NAMES

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
PROFILE = "#id\tgender\tage\tcountry\tregistered\nuser_000001\tm\t\tJapan\tAug 13, 2006\n"


def write_log(folder: Path, lines: list[str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if lines is None:
        lines = ["\t".join(e) for e in EVENTS]
    (folder / LOG_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "userid-profile.tsv").write_text(PROFILE)
    return folder


def tar_folder(folder: Path, archive: Path) -> Path:
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(folder, arcname="lastfm-dataset-1K")
    return archive


def md5_of(path: Path) -> str:
    return "md5:" + hashlib.md5(path.read_bytes()).hexdigest()


def register_md5s(use_registry, folder: Path) -> None:
    """Record the MD5 sums of a fixture's two files, as the real page publishes them."""
    hashes = ";".join(f"{n}={md5_of(folder / n)}" for n in (LOG_FILE, "userid-profile.tsv"))
    use_registry(lastfm_1k={"file_hashes": hashes})


def test_lastfm_1k_registry_records_the_published_md5_sums():
    entry = registry()["lastfm_1k"]
    assert entry.known_hash is None  # no hash of the archive is published
    assert entry.file_hashes == {
        LOG_FILE: "md5:64747b21563e3d2aa95751e0ddc46b68",
        "userid-profile.tsv": "md5:c53608b6b445db201098c1489ea497df",
    }


def test_lastfm_1k_artist_counts_are_event_counts(tmp_path):
    data = load_lastfm_1k(write_log(tmp_path / "1k"), verify=False)
    expected = Counter((e[0], e[3]) for e in EVENTS)
    assert data.plays.dtype == np.int32
    assert data.plays.shape == (len({e[0] for e in EVENTS}), len({e[3] for e in EVENTS}))
    for (user, artist), n in expected.items():
        assert data.plays[data.user_index[user], data.item_index[artist]] == n
    assert data.plays.sum() == len(EVENTS) == data.info["events"]
    mbid = dict(zip(data.items["artist_name"], data.items["artist_mbid"], strict=True))
    assert mbid["Radiohead"] == MBID_A and mbid["Björk"] == ""
    assert data.info["checksum"] == "not checked: verify=False"


def test_lastfm_1k_track_level_and_tar_gz(tmp_path):
    folder = write_log(tmp_path / "1k")
    from_tar = load_lastfm_1k(
        tar_folder(folder, tmp_path / "lastfm-dataset-1K.tar.gz"), level="track", verify=False
    )
    from_tsv = load_lastfm_1k(folder / LOG_FILE, level="track", verify=False)
    assert (from_tar.plays != from_tsv.plays).nnz == 0
    expected = Counter((e[0], e[3], e[5]) for e in EVENTS)
    for (user, artist, track), n in expected.items():
        assert from_tar.plays[from_tar.user_index[user], from_tar.item_index[(artist, track)]] == n
    row = from_tar.items.iloc[from_tar.item_index[("Radiohead", "Airbag")]]
    assert row["track_mbid"] == MBID_T
    assert 'Big "Time" Sensuality' in set(from_tar.items["track_name"])  # quotes are literal


def test_lastfm_1k_local_copy_is_checked_against_the_published_md5(tmp_path, use_registry):
    """The page's MD5 sums are checked while the log is read, from a folder, a .tsv or a tar."""
    folder = write_log(tmp_path / "1k")
    register_md5s(use_registry, folder)
    archive = tar_folder(folder, tmp_path / "lastfm-dataset-1K.tar.gz")
    for source in (folder, folder / LOG_FILE, archive):
        data = load_lastfm_1k(source)
        assert data.info["checksum"] == f"verified (md5 of {LOG_FILE}, as published)"
    prefix = load_lastfm_1k(folder, max_lines=2)
    assert prefix.info["checksum"].startswith("not checked: max_lines stopped before the end")
    cut = write_log(tmp_path / "cut", ["\t".join(e) for e in EVENTS[:-2]])  # at a line boundary
    with pytest.raises(ValueError) as err:
        load_lastfm_1k(cut)
    message = str(err.value)
    assert f"checksum mismatch for {cut / LOG_FILE}: its md5 is" in message
    assert "(published with the data set)" in message
    assert "Fix" in message and "verify=False" in message
    assert load_lastfm_1k(cut, verify=False).info["events"] == len(EVENTS) - 2
    register_md5s(use_registry, cut)
    with pytest.raises(ValueError, match="checksum mismatch"):
        load_lastfm_1k(folder)


def test_lastfm_1k_fixture_fails_the_real_published_md5(tmp_path):
    with pytest.raises(ValueError, match="but 64747b21563e3d2aa95751e0ddc46b68 is expected"):
        load_lastfm_1k(write_log(tmp_path / "1k"))


def test_lastfm_1k_without_path_downloads_and_verifies_the_files(
    tmp_path, use_registry, local_downloader
):
    """load_lastfm_1k() fetches the archive, checks its files once, then trusts its SHA-256."""
    folder = write_log(tmp_path / "1k")
    register_md5s(use_registry, folder)
    archive = tar_folder(folder, tmp_path / "lastfm-dataset-1K.tar.gz")
    local = download.fetch("lastfm_1k", downloader=local_downloader(archive))
    assert local == tmp_path / "cache" / "data" / "lastfm-dataset-1K.tar.gz"
    record = local.with_name(local.name + ".verified.json")
    assert record.is_file()
    data = load_lastfm_1k()
    assert data.plays.sum() == len(EVENTS) and data.info["checksum"].startswith("downloaded")
    # a damaged download (one byte changed inside the log) is deleted, with a clear message
    local.unlink()
    record.unlink()
    damaged = write_log(tmp_path / "damaged", ["\t".join(e) for e in EVENTS])
    (damaged / LOG_FILE).write_bytes((damaged / LOG_FILE).read_bytes().replace(b"Lucky", b"Lucy!"))
    bad = tar_folder(damaged, tmp_path / "bad.tar.gz")
    with pytest.raises(ValueError) as err:
        download.fetch("lastfm_1k", downloader=local_downloader(bad))
    message = str(err.value)
    assert "the 'lastfm_1k' archive downloaded from" in message and "failed its check" in message
    assert "checksum mismatch" in message and "The download was deleted" in message
    assert not local.exists()


def test_lastfm_1k_bad_lines_raise_or_are_skipped(tmp_path):
    lines = ["\t".join(e) for e in EVENTS]
    lines.insert(3, "user_000009\t2009-05-04T23:08:57Z\tRadiohead")
    lines.insert(5, "\t".join(("user_000009", "2009", "", "", "", "Untitled")))
    folder = write_log(tmp_path / "1k", lines)
    with pytest.raises(
        ValueError, match=r"traname.tsv, line 4: expected 6 tab-separated fields.*skip"
    ):
        load_lastfm_1k(folder, verify=False)
    data = load_lastfm_1k(folder, on_bad_lines="skip", verify=False)
    assert data.info["skipped_lines"] == 2 and data.plays.sum() == len(EVENTS)
    lines.pop(3)
    folder = write_log(tmp_path / "1k", lines)
    with pytest.raises(ValueError, match=r"line 5, column 'artist_name': the artist_name is empty"):
        load_lastfm_1k(folder, verify=False)
    with pytest.raises(ValueError, match="level must be one of"):
        load_lastfm_1k(folder, level="album")


def test_lastfm_1k_undecodable_bytes_name_the_line_or_are_skipped(tmp_path):
    folder = write_log(tmp_path / "1k")
    raw = (folder / LOG_FILE).read_bytes().replace(b"Lucky", b"Lu\xffky", 1)
    (folder / LOG_FILE).write_bytes(raw)
    with pytest.raises(ValueError) as err:
        load_lastfm_1k(folder, verify=False)
    message = str(err.value)
    assert "traname.tsv, line 2: bytes that are not valid utf-8" in message
    assert "Fix" in message and "on_bad_lines='skip'" in message
    data = load_lastfm_1k(folder, on_bad_lines="skip", verify=False)
    assert data.info["skipped_lines"] == 1 and data.plays.sum() == len(EVENTS) - 1


def test_lastfm_1k_empty_log_and_max_lines(tmp_path):
    folder = write_log(tmp_path / "1k")
    data = load_lastfm_1k(folder, max_lines=3, verify=False)
    assert data.plays.sum() == 3 and list(data.users["user_id"]) == ["user_000001"]
    with pytest.raises(ValueError, match="max_lines must be an integer >= 1"):
        load_lastfm_1k(folder, max_lines=0)
    with pytest.raises(TypeError, match="max_lines must be an integer"):
        load_lastfm_1k(folder, max_lines=2.5)
    (folder / LOG_FILE).write_bytes(b"")
    with pytest.raises(ValueError, match=r"traname.tsv: the file is empty \(0 bytes\)\. Fix"):
        load_lastfm_1k(folder, verify=False)
    (folder / LOG_FILE).write_bytes(b"\n\n")
    with pytest.raises(ValueError, match=r"no listening events were read\. Fix"):
        load_lastfm_1k(folder, verify=False)


def test_lastfm_1k_small_blocks_keep_line_numbers(tmp_path):
    """Blocks split lines across reads; line numbers must still be exact."""
    lines = ["\t".join(e) for e in EVENTS] * 20
    lines.insert(101, "user_000009\tonly-two-fields")
    folder = write_log(tmp_path / "1k", lines)
    member = archives.plain_member(folder / LOG_FILE)
    with pytest.raises(ValueError, match=r"line 102: expected 6"):
        list(tsv.iter_tsv(member, LOG_NAMES, block_bytes=97))
    good = write_log(tmp_path / "ok", ["\t".join(e) for e in EVENTS] * 20)
    chunks = list(tsv.iter_tsv(archives.plain_member(good / LOG_FILE), LOG_NAMES, block_bytes=97))
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
    monkeypatch.setattr(tsv, "_BLOCK_BYTES", 211)
    data = load_lastfm_1k(folder, level=level, verify=False)
    key = (lambda e: e[3]) if level == "artist" else (lambda e: (e[3], e[5]))
    expected = Counter((e[0], key(e)) for e in events)
    assert data.plays.nnz == len(expected) and data.plays.sum() == len(events)
    for (user, item), n in expected.items():
        assert data.plays[data.user_index[user], data.item_index[item]] == n
    assert list(data.users["user_id"]) == sorted({e[0] for e in events})


def test_lastfm_1k_truncated_tar_gz_raises_clearly(tmp_path):
    archive = tar_folder(
        write_log(tmp_path / "1k", ["\t".join(e) for e in EVENTS] * 50),
        tmp_path / "lastfm-dataset-1K.tar.gz",
    )
    payload = archive.read_bytes()
    archive.write_bytes(payload[: len(payload) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt") as err:
        load_lastfm_1k(archive, verify=False)
    assert "Fix" in str(err.value) and len(str(err.value)) < 500


def test_lastfm_1k_tar_with_two_logs_at_the_same_depth_is_refused(tmp_path):
    folder = write_log(tmp_path / "1k")
    archive = tmp_path / "two.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(folder / LOG_FILE, arcname=f"a/{LOG_FILE}")
        tf.add(folder / LOG_FILE, arcname=f"b/{LOG_FILE}")
    with pytest.raises(ValueError, match=f"holds 2 files named {LOG_FILE} at the same depth"):
        load_lastfm_1k(archive, verify=False)
