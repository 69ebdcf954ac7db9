"""The checksum registry of the real data sets: ``datasets/registry.csv``.

Part of :mod:`course_lib.datasets`. No chapter teaches it: the data cards in ``datasets/`` use the
loaders (the chapters run on the synthetic music world, :mod:`course_lib.music_world`).

One row per downloadable file: name, file name, URL, hash of the file (``sha256:<hex>``, or
``sha1:``/``md5:`` where that is what the provider publishes; ``unknown`` when none is known),
size, license, where the hash comes from, and ``file_hashes``: hashes of files *inside* the
archive, where the provider publishes those instead (Last.fm 1K publishes MD5 sums of its
extracted ``.tsv`` files), written ``name=md5:<hex>;name=md5:<hex>``.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .fields import quoted

__all__ = ["REGISTRY_COLUMNS", "RegistryEntry", "parse_hash", "registry"]

PathLike = str | os.PathLike[str]

_REGISTRY_PATH = Path(__file__).resolve().parents[2] / "datasets" / "registry.csv"
REGISTRY_COLUMNS = (
    "name",
    "filename",
    "url",
    "hash",
    "size",
    "license",
    "hash_source",
    "file_hashes",
)
_HASH_LENGTHS = {"sha256": 64, "sha1": 40, "md5": 32}


@dataclass(frozen=True)
class RegistryEntry:
    """One row of ``datasets/registry.csv``.

    ``known_hash`` is in pooch's ``"<algorithm>:<hex>"`` form, or ``None`` when no checksum of
    the file is recorded. ``file_hashes`` maps the name of a file inside the archive to its
    hash (same form); an entry with neither is never downloaded.
    """

    name: str
    filename: str
    url: str
    known_hash: str | None
    size: str
    license: str
    hash_source: str
    file_hashes: Mapping[str, str] = field(default_factory=dict)


def registry(path: PathLike | None = None) -> dict[str, RegistryEntry]:
    """Read the checksum registry.

    Parameters
    ----------
    path : path-like, optional
        A registry CSV; default ``$COURSE_LIB_REGISTRY`` when that variable is set (a test's
        registry of fixture files, or a private mirror), else ``datasets/registry.csv`` of this
        repository.

    Returns
    -------
    dict
        Dataset name -> :class:`RegistryEntry`.

    Raises
    ------
    FileNotFoundError
        No registry file.
    ValueError
        A wrong header, a malformed hash, a dataset listed twice.
    """
    if path is not None:
        file = Path(path)
    else:
        file = Path(os.environ.get("COURSE_LIB_REGISTRY") or _REGISTRY_PATH).expanduser()
    if not file.is_file():
        raise FileNotFoundError(
            f"dataset registry {file} not found: course_lib.datasets expects the repository's "
            "datasets/registry.csv next to course_lib/ (install the course with `pip install -e .`)"
        )
    entries: dict[str, RegistryEntry] = {}
    with open(file, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != REGISTRY_COLUMNS:
            raise ValueError(
                f"{file}, line 1: the header must be {','.join(REGISTRY_COLUMNS)}, "
                f"found {quoted(','.join(reader.fieldnames or []))}"
            )
        for row in reader:
            where = f"{file}, line {reader.line_num}"
            if row["name"] in entries:
                raise ValueError(f"{where}: dataset {quoted(row['name'])} is listed twice")
            entries[row["name"]] = RegistryEntry(
                name=row["name"],
                filename=row["filename"],
                url=row["url"],
                known_hash=parse_hash(row["hash"], where),
                size=row["size"],
                license=row["license"],
                hash_source=row["hash_source"],
                file_hashes=_parse_file_hashes(row["file_hashes"] or "", where),
            )
    return entries


def parse_hash(text: str, where: str) -> str | None:
    """``"alg:hex"`` in canonical (lower-case) form, or ``None`` for ``""``/``"unknown"``."""
    text = text.strip()
    if text.lower() in ("", "unknown"):
        return None
    alg, _, hexdigest = text.partition(":")
    alg = alg.lower()
    if alg not in _HASH_LENGTHS or len(hexdigest) != _HASH_LENGTHS[alg]:
        raise ValueError(
            f"{where}: hash {quoted(text)} is not of the form 'sha256:<64 hex digits>' "
            "(or sha1:/md5: with 40/32 digits); write 'unknown' when no checksum is known"
        )
    try:
        int(hexdigest, 16)
    except ValueError:
        raise ValueError(
            f"{where}: hash {quoted(text)} contains characters that are not hex"
        ) from None
    return f"{alg}:{hexdigest.lower()}"


def _parse_file_hashes(text: str, where: str) -> dict[str, str]:
    hashes: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(";"))):
        name, sep, digest = item.partition("=")
        parsed = parse_hash(digest, f"{where}, file_hashes") if sep else None
        if not name.strip() or parsed is None:
            raise ValueError(
                f"{where}: file_hashes item {quoted(item)} is not 'file name=md5:<hex>'. Fix: "
                "write items such as 'data.tsv=md5:<32 hex digits>', separated by ';'"
            )
        hashes[name.strip()] = parsed
    return hashes
