"""The checksum registry, the download cache and checksums; no network."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import course_lib
from course_lib import datasets
from course_lib.datasets import catalog, download, fetch, registry, verify_checksum


def test_the_package_keeps_the_public_names_of_the_old_module():
    assert set(datasets.__all__) >= {
        "FMA",
        "LastfmHetrec2011",
        "PlayData",
        "RegistryEntry",
        "data_dir",
        "fetch",
        "load_fma",
        "load_lastfm_1k",
        "load_lastfm_hetrec2011",
        "load_msd_taste_profile",
        "registry",
        "verify_checksum",
    }
    assert course_lib.datasets.load_lastfm_hetrec2011 is datasets.load_lastfm_hetrec2011
    assert callable(datasets.registry)  # the function, not a module of that name


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
        assert (
            entry.known_hash is not None or entry.file_hashes or entry.name == "msd_taste_profile"
        )
    assert entries["lastfm_hetrec2011"].known_hash.startswith("sha256:")
    assert entries["fma_small"].known_hash.startswith("sha1:")
    assert entries["msd_taste_profile"].known_hash is None  # nothing known: never downloaded


def test_registry_rejects_malformed_hashes_with_short_messages(tmp_path):
    bad = tmp_path / "registry.csv"
    header = ",".join(catalog.REGISTRY_COLUMNS)
    bad.write_text(header + "\nx,x.zip,https://example.org/x.zip,sha256:abc,1,free,me,\n")
    with pytest.raises(ValueError, match=r"registry.csv, line 2: hash 'sha256:abc'"):
        registry(bad)
    bad.write_text(header + "\nx,x.zip,https://example.org/x.zip,unknown,1,free,me,a.tsv\n")
    with pytest.raises(ValueError, match=r"line 2: file_hashes item 'a.tsv' is not"):
        registry(bad)
    bad.write_text("name," + "x" * 100_000 + "\n")
    with pytest.raises(ValueError, match="the header must be") as err:
        registry(bad)
    assert len(str(err.value)) < 500


def test_data_dir_is_the_course_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path / "here"))
    assert datasets.data_dir() == tmp_path / "here" / "data" and datasets.data_dir().is_dir()
    monkeypatch.delenv("COURSE_LIB_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert datasets.data_dir() == tmp_path / "home" / ".cache" / "course_lib" / "data"


def test_fetch_verifies_the_checksum_with_pooch(tmp_path, use_registry, local_downloader):
    payload = tmp_path / "payload.zip"
    payload.write_bytes(b"not really a zip, but bytes with a known hash")
    use_registry(toy={"filename": "toy.zip", "url": "https://example.org/toy.zip", "hash": payload})
    local = fetch("toy", downloader=local_downloader(payload))
    assert local == tmp_path / "cache" / "data" / "toy.zip"
    assert local.read_bytes() == payload.read_bytes()


def test_fetch_checksum_mismatch_raises_and_keeps_nothing(tmp_path, use_registry, local_downloader):
    payload = tmp_path / "payload.zip"
    payload.write_bytes(b"tampered bytes")
    use_registry(
        toy={"filename": "toy.zip", "url": "https://e.org/toy.zip", "hash": "sha256:" + "0" * 64}
    )
    with pytest.raises(ValueError, match=r"checksum mismatch for 'toy'.*discarded"):
        fetch("toy", downloader=local_downloader(payload))
    assert not (tmp_path / "cache" / "data" / "toy.zip").exists()


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
    verify_checksum(file, "md5:" + hashlib.md5(b"abc").hexdigest())
    with pytest.raises(ValueError, match=r"checksum mismatch for .*f.bin.*Fix"):
        verify_checksum(file, "sha256:" + hashlib.sha256(b"abx").hexdigest())
    with pytest.raises(ValueError, match="needs a hash such as"):
        verify_checksum(file, "unknown")


def test_local_msd_copy_is_not_checked_and_says_so(tmp_path):
    source, note = download.locate(tmp_path, "msd_taste_profile", verify=True)
    assert source == tmp_path and note.startswith("not checked")


def test_nothing_is_unpickled():
    for file in Path(datasets.__file__).parent.glob("*.py"):
        source = file.read_text()
        for loader in ("import pickle", "read_pickle", "allow_pickle=True", "pickle.load"):
            assert loader not in source, f"{file.name} uses {loader}"
        assert "joblib" not in source
