"""MSD taste profile loader, on small triplet files written in the real format; no network."""

from __future__ import annotations

import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from course_lib.datasets import load_msd_taste_profile, tsv

TRIPLETS = [
    ("b80344d063b5ccb3212f76538f3d9e43d87dca9e", "SOAKIMP12A8C130995", 1),
    ("b80344d063b5ccb3212f76538f3d9e43d87dca9e", "SOAPDEY12A81C210A9", 2),
    ("85c1f87fea955d09b4bec2e36aee110927aedf9a", "SOAKIMP12A8C130995", 5),
    ("bd4c6e843f00bd476847fb75c47b4fb430a06856", "SOBFNSP12AF72A0E22", 1),
]


def write_triplets(folder: Path, lines: list[str] | None = None, ending: str = "\n") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if lines is None:
        lines = [f"{u}\t{s}\t{c}" for u, s, c in TRIPLETS]
    file = folder / "train_triplets.txt"
    file.write_bytes((ending.join(lines) + ending).encode())
    return file


def zip_triplets(file: Path, archive: Path) -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(file, "train_triplets.txt")
    return archive


def test_taste_profile_counts_and_zip(tmp_path):
    file = write_triplets(tmp_path / "msd")
    archive = zip_triplets(file, tmp_path / "train_triplets.txt.zip")
    for source in (file, archive, file.parent):
        data = load_msd_taste_profile(source)
        assert data.plays.dtype == np.int32
        assert data.plays.shape == (len({t[0] for t in TRIPLETS}), len({t[1] for t in TRIPLETS}))
        for u, s, c in TRIPLETS:
            assert data.plays[data.user_index[u], data.item_index[s]] == c
        assert list(data.items["song_id"]) == sorted({t[1] for t in TRIPLETS})
        assert data.info["checksum"].startswith("not checked: no published hash")


@pytest.mark.parametrize(
    "bad, problem",
    [
        ("u\tSOX\t2\textra", "expected 3 tab-separated fields"),
        ("u\tSOX", "expected 3 tab-separated fields"),
        ("u\tSOX\t1.5", "not an integer"),
        ("u\tSOX\t-1", "negative"),
        ("u\tSOX\tnan", "missing (NaN)"),
        ("u\tSOX\tNaN", "missing (NaN)"),
        ("u\tSOX\t", "empty"),
        ("u\tSOX\t0", "the play count is 0"),
        ("u\tSOX\t99999999999", "exceeds the int32 range"),
        ("\tSOX\t3", "user_id is empty"),
        ("u\t \t3", "song_id is empty"),
    ],
)
def test_taste_profile_bad_lines(tmp_path, bad, problem):
    lines = [f"{u}\t{s}\t{c}" for u, s, c in TRIPLETS]
    lines.insert(1, bad)
    file = write_triplets(tmp_path / "msd", lines)
    with pytest.raises(ValueError) as err:
        load_msd_taste_profile(file)
    message = str(err.value)
    assert "train_triplets.txt, line 2" in message and problem in message and "Fix" in message


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
    with pytest.raises(ValueError, match="max_lines must be an integer >= 1"):
        load_msd_taste_profile(file, max_lines=-3)


def test_taste_profile_empty_file_cr_only_file_and_truncated_zip(tmp_path):
    file = write_triplets(tmp_path / "empty", [])
    file.write_bytes(b"")
    with pytest.raises(ValueError, match=r"train_triplets.txt: the file is empty \(0 bytes\)"):
        load_msd_taste_profile(file)
    file.write_bytes(b"\n")
    with pytest.raises(ValueError, match=r"train_triplets.txt: the file has no data lines\. Fix"):
        load_msd_taste_profile(file)
    mac = load_msd_taste_profile(write_triplets(tmp_path / "mac", ending="\r"))
    unix = load_msd_taste_profile(write_triplets(tmp_path / "unix"))
    assert (mac.plays != unix.plays).nnz == 0 and mac.items.equals(unix.items)
    big = write_triplets(tmp_path / "big", [f"{u}\t{s}\t{c}" for u, s, c in TRIPLETS] * 300)
    archive = zip_triplets(big, tmp_path / "train_triplets.txt.zip")
    payload = archive.read_bytes()
    archive.write_bytes(payload[: len(payload) * 2 // 3])
    with pytest.raises(ValueError, match="the archive is truncated or corrupt") as err:
        load_msd_taste_profile(archive)
    assert "Fix" in str(err.value)


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
    monkeypatch.setattr(tsv, "_BLOCK_BYTES", 331)
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


def test_taste_profile_without_path_refuses(tmp_path):
    with pytest.raises(ValueError, match="refusing to download 'msd_taste_profile'"):
        load_msd_taste_profile()
