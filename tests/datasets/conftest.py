"""Fixtures of the course_lib.datasets tests: no network, a throwaway cache, small registries."""

from __future__ import annotations

import csv
import hashlib
import shutil
import socket
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from course_lib.datasets import catalog


@pytest.fixture(autouse=True)
def no_network(monkeypatch, tmp_path):
    """Any attempt to open a socket fails the test; downloads go to a throwaway cache."""

    def refuse(*args, **kwargs):
        raise RuntimeError("a test tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("COURSE_LIB_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def zip_folder() -> Callable[[Path, Path], Path]:
    """``zip_folder(folder, archive)``: zip the files of ``folder`` (flat) into ``archive``."""

    def make(folder: Path, archive: Path) -> Path:
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for file in sorted(folder.iterdir()):
                zf.write(file, file.name)
        return archive

    return make


def sha256_of(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def use_registry(tmp_path, monkeypatch) -> Callable[..., Path]:
    """``use_registry(name=dict(hash=..., file_hashes=...), ...)``: a registry with the real
    rows, some fields replaced (``hash`` may be a Path: its SHA-256 is recorded)."""

    def make(**changes: dict[str, object]) -> Path:
        with open(catalog._REGISTRY_PATH, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        names = {row["name"] for row in rows}
        for name, fields in changes.items():
            if name not in names:
                rows.append({column: "" for column in catalog.REGISTRY_COLUMNS} | {"name": name})
            row = next(r for r in rows if r["name"] == name)
            for key, value in fields.items():
                row[key] = sha256_of(value) if isinstance(value, Path) else str(value)
        file = tmp_path / "registry.csv"
        with open(file, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=catalog.REGISTRY_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        monkeypatch.setattr(catalog, "_REGISTRY_PATH", file)
        return file

    return make


@pytest.fixture
def local_downloader() -> Callable[[Path], Callable[..., None]]:
    """``local_downloader(source)``: a pooch downloader that copies a local file."""

    def make(source: Path) -> Callable[..., None]:
        def download(url, output_file, pooch):
            shutil.copyfile(source, output_file)

        return download

    return make
