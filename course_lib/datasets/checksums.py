"""Checksums of the real data: whole files, files inside archives, and files as they are read.

Part of :mod:`course_lib.datasets`. No chapter teaches it: the data cards in ``datasets/`` use the
loaders (the chapters run on the synthetic music world, :mod:`course_lib.music_world`).

SHA-256 is the rule where a hash is known; SHA-1 or MD5 are accepted where that is what the
provider publishes (FMA: SHA-1 of the archives; Last.fm 1K: MD5 of the extracted files).
"""

from __future__ import annotations

import hashlib
import os
import tarfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from .archives import archive_guard, is_tar, resolve
from .catalog import parse_hash

__all__ = ["ContentCheck", "file_hash", "verify_checksum", "verify_file_hashes"]

PathLike = str | os.PathLike[str]
_CHUNK = 1 << 22
_REDOWNLOAD = (
    "Fix: the file is truncated or not the registered one: delete it and download it again, or "
    "correct the hash in datasets/registry.csv if the provider changed the file"
)


def _split(known_hash: str, where: str) -> tuple[str, str]:
    parsed = parse_hash(known_hash, where)
    if parsed is None:
        raise ValueError(f"{where} needs a hash such as 'sha256:<hex>', got 'unknown'")
    alg, expected = parsed.split(":")
    return alg, expected


def file_hash(path: PathLike, alg: str = "sha256") -> str:
    """The hex digest of a file, read in blocks."""
    digest = hashlib.new(alg)
    with open(path, "rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def verify_checksum(path: PathLike, known_hash: str, *, fix: str = _REDOWNLOAD) -> None:
    """Raise ``ValueError`` unless the file's hash equals ``known_hash``.

    Parameters
    ----------
    path : path-like
        The file to check.
    known_hash : str
        ``"sha256:<hex>"`` (or ``sha1:``/``md5:``), e.g. ``registry()[name].known_hash``.
    fix : str
        The advice that ends the message.
    """
    alg, expected = _split(known_hash, "verify_checksum")
    if os.path.getsize(path) == 0:
        raise ValueError(f"{path} is empty (0 bytes), so it cannot be the registered file. " + fix)
    actual = file_hash(path, alg)
    if actual != expected:
        raise ValueError(
            f"checksum mismatch for {path}: its {alg} is {actual} but {expected} is expected. "
            + fix
        )


class ContentCheck:
    """Hash a file while a loader reads it, and compare at the end (no second pass).

    ``update`` takes the raw bytes as read; ``finish`` raises ``ValueError`` on a mismatch and
    sets ``done``. A reader that stops early (``max_lines``) never calls ``finish``.
    """

    def __init__(self, label: str, known_hash: str, fix: str) -> None:
        self.label, self.fix = label, fix
        self.alg, self.expected = _split(known_hash, label)
        self._digest = hashlib.new(self.alg)
        self.done = False

    def update(self, data: bytes) -> None:
        self._digest.update(data)

    def finish(self) -> None:
        actual = self._digest.hexdigest()
        if actual != self.expected:
            raise ValueError(
                f"checksum mismatch for {self.label}: its {self.alg} is {actual} but "
                f"{self.expected} is expected (published with the data set). {self.fix}"
            )
        self.done = True


def verify_file_hashes(source: Path, file_hashes: Mapping[str, str], dataset: str) -> None:
    """Check the files of an archive or folder against their published hashes.

    A tar archive is read once from start to end; a zip or folder file by file.

    Raises
    ------
    FileNotFoundError
        A file with a published hash is missing.
    ValueError
        A hash differs, or the archive is truncated or corrupt.
    """
    fix = "Fix: the archive is damaged or not the published one; delete it and download it again"
    if source.is_file() and is_tar(source.name):
        checks = {
            name: ContentCheck(f"{source} (member {name})", known, fix)
            for name, known in file_hashes.items()
        }
        with archive_guard(source), tarfile.open(source, "r|*") as tf:
            for info in tf:
                check = checks.get(PurePosixPath(info.name).name)
                if info.isfile() and check is not None and not check.done:
                    handle = tf.extractfile(info)
                    assert handle is not None
                    while block := handle.read(_CHUNK):
                        check.update(block)
                    check.finish()
        missing = [name for name, check in checks.items() if not check.done]
        if missing:
            raise FileNotFoundError(
                f"{source} holds no file named {', '.join(missing)}: is it the {dataset} archive?"
            )
        return
    members = resolve(source, list(file_hashes), dataset)
    for name, known in file_hashes.items():
        check = ContentCheck(members[name].label, known, fix)
        with members[name].open() as handle:
            while block := handle.read(_CHUNK):
                check.update(block)
        check.finish()
