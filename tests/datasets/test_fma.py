"""FMA metadata and audio, on a small tracks.csv written in the real format and synthetic MP3s."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import numpy as np
import pytest

from course_lib.datasets import fma_audio, load_fma

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
    assert load_fma(archive, verify=False).tracks.equals(small.tracks)
    with pytest.raises(ValueError, match=r"mismatch for .*fma_metadata.zip.*the extracted folder"):
        load_fma(archive)  # a fixture is not the registered archive
    mac_file = write_tracks_csv(tmp_path / "mac" / "tracks.csv")
    mac_file.write_bytes(mac_file.read_bytes().replace(b"\r\n", b"\r"))
    mac = load_fma(mac_file)
    assert mac.tracks.equals(small.tracks)  # old-Mac line endings read the same


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


@pytest.mark.parametrize("value", ["inf", "-3", "NaN", "long"])
def test_fma_duration_must_be_a_finite_number_of_seconds(tmp_path, value):
    rows = [list(r) for r in FMA_ROWS]
    rows[1][6] = value
    with pytest.raises(ValueError) as err:
        load_fma(write_tracks_csv(tmp_path / "t" / "tracks.csv", rows))
    message = str(err.value)
    assert "tracks.csv, line 7, column 'track/duration'" in message
    assert "not a finite number of seconds >= 0" in message and "Fix" in message


def test_fma_empty_and_huge_headers_give_short_messages(tmp_path):
    empty = tmp_path / "empty" / "tracks.csv"
    empty.parent.mkdir()
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match=r"tracks.csv: the file is empty \(0 bytes\)"):
        load_fma(empty)
    empty.write_bytes(b",track\n")
    with pytest.raises(ValueError, match=r"only 1 line\(s\), fewer than FMA's 3-line"):
        load_fma(empty)
    third = ["x" * 1_000_000] + [""] * len(FMA_COLUMNS)
    with pytest.raises(ValueError) as err:
        load_fma(write_tracks_csv(tmp_path / "huge" / "tracks.csv", third=third))
    assert "3-line tracks.csv header" in str(err.value) and len(str(err.value)) < 500
    latin = write_tracks_csv(tmp_path / "latin" / "tracks.csv")
    latin.write_bytes(latin.read_bytes().replace(b"Freeway", b"Fr\xe9eway"))
    with pytest.raises(ValueError, match=r"tracks.csv, near line \d+: bytes that are not UTF-8"):
        load_fma(latin)


def write_tone(file: Path, freq=440.0, sr=44100, seconds=1.0) -> Path:
    import soundfile

    file.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(sr * seconds)) / sr
    soundfile.write(file, 0.5 * np.sin(2 * np.pi * freq * t), sr, format="MP3")
    return file


def dominant_frequency(y: np.ndarray, sr: int) -> float:
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return float(np.fft.rfftfreq(len(y), 1 / sr)[np.argmax(spectrum)])


def zip_audio(audio: Path, archive: Path) -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for file in sorted(audio.rglob("*.mp3")):
            zf.write(file, f"fma_small/{file.parent.name}/{file.name}")
    return archive


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
    archive = zip_audio(audio, tmp_path / "fma_small.zip")
    zipped = load_fma(meta, audio_path=archive, verify=False)
    y5 = zipped.audio(5, sr=22050, duration=0.5)
    assert abs(len(y5) - 11025) < 200 and abs(dominant_frequency(y5, 22050) - 660.0) < 5.0
    assert zipped.audio_file(5).endswith("fma_small/000/000005.mp3")
    checked = load_fma(meta, audio_path=archive)  # named fma_small.zip: its SHA-1 is checked
    with pytest.raises(ValueError, match=r"mismatch for .*fma_small.zip.*folder as audio_path="):
        checked.audio_file(5)


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
    with pytest.raises(ValueError, match="sr must be an integer >= 1"):
        fma.audio(2, sr=-1)
    with pytest.raises(TypeError, match="track_id must be an integer"):
        fma.audio("2")
    with pytest.raises(ValueError, match="offset must be a number >= 0"):
        fma.audio(2, offset=-1.0)
    with pytest.raises(ValueError, match="duration must be a number > 0"):
        fma.audio(2, duration=0.0)
    not_a_zip = tmp_path / "fma_small.tar"
    not_a_zip.write_bytes(b"x")
    with pytest.raises(ValueError, match="is neither a zip nor a folder"):
        load_fma(meta, audio_path=not_a_zip).audio_file(2)


def test_fma_truncated_audio_zip_is_a_clear_error(tmp_path):
    meta = write_tracks_csv(tmp_path / "fma_metadata" / "tracks.csv")
    audio = tmp_path / "fma_small"
    write_tone(audio / "000" / "000002.mp3")
    archive = zip_audio(audio, tmp_path / "audio.zip")
    archive.write_bytes(archive.read_bytes()[:-200])
    with pytest.raises(ValueError, match=r"audio.zip: the archive is truncated or corrupt"):
        load_fma(meta, audio_path=archive).audio(2)


def test_fma_audio_without_path_refuses_other_subsets_than_small(tmp_path, monkeypatch):
    meta = write_tracks_csv(tmp_path / "fma_metadata" / "tracks.csv")
    with pytest.raises(ValueError, match="only fma_small.zip is in the registry"):
        load_fma(meta, subset="medium").audio(10)
    audio = tmp_path / "fma_small"
    write_tone(audio / "000" / "000002.mp3")
    archive = zip_audio(audio, tmp_path / "fetched.zip")
    monkeypatch.setattr(fma_audio, "fetch", lambda name: archive)  # fetch verifies the SHA-1
    assert load_fma(meta).audio_file(2).endswith("000002.mp3")
