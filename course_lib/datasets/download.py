"""Downloads into the course cache, and the checks made on a local copy given with ``path=``.

Part of :mod:`course_lib.datasets`. No chapter teaches it: the data cards in ``datasets/`` use the
loaders (the chapters run on the synthetic music world, :mod:`course_lib.music_world`).

Downloads go to ``course_lib.cache.cache_dir("data")`` (``$COURSE_LIB_CACHE/data``, default
``~/.cache/course_lib/data``), the one cache of the course. A registry entry with a hash of the
archive is verified by pooch; an entry with hashes of the files inside it only (Last.fm 1K) is
downloaded, then its files are verified, and the verified archive's SHA-256 is recorded next to
it (``<archive>.verified.json``) so that later calls re-check one hash instead of unpacking.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from course_lib.cache import cache_dir, write_json

from .archives import is_tar, require_path
from .catalog import RegistryEntry, registry
from .checksums import file_hash, verify_checksum, verify_file_hashes
from .fields import quoted

__all__ = ["data_dir", "fetch", "locate"]

PathLike = str | os.PathLike[str]


def data_dir() -> Path:
    """Folder where downloads are cached: ``course_lib.cache.cache_dir("data")`` (created).

    That is ``$COURSE_LIB_CACHE/data`` when the variable is set, else
    ``~/.cache/course_lib/data``.
    """
    return cache_dir("data")


def _entry(name: str) -> RegistryEntry:
    entries = registry()
    if name not in entries:
        raise ValueError(f"unknown dataset {quoted(name)}; the registry lists {sorted(entries)}")
    return entries[name]


def fetch(name: str, *, downloader: Callable[..., Any] | None = None) -> Path:
    """Download a registered file into :func:`data_dir` and verify its checksum.

    A file already in the cache is re-verified (pooch downloads it again if it does not match).
    Where the registry holds hashes of the files inside the archive instead (``file_hashes``),
    those files are checked after the download and a mismatching download is deleted. Entries
    with neither are refused, never downloaded unverified.

    Parameters
    ----------
    name : str
        A name from :func:`registry`, e.g. ``"lastfm_hetrec2011"``.
    downloader : callable, optional
        A pooch downloader ``(url, output_file, pooch)``: a mirror, or a local copy in tests.

    Returns
    -------
    pathlib.Path
        The verified local file.
    """
    entry = _entry(name)
    if entry.known_hash is None and not entry.file_hashes:
        raise ValueError(
            f"refusing to download {name!r}: datasets/registry.csv records no checksum for "
            f"{entry.url}, so the download could not be verified. Fix: download it yourself and "
            f"pass the local file or extracted folder as path=..., or fill in the hash column "
            f"with 'sha256:' + the output of `sha256sum {entry.filename}` for a copy you trust"
        )
    import pooch

    try:
        local = Path(
            pooch.retrieve(
                entry.url,
                known_hash=entry.known_hash,
                fname=entry.filename,
                path=data_dir(),
                downloader=downloader,
                progressbar=False,
            )
        )
    except ValueError as err:
        if "does not match" not in str(err):
            raise
        raise ValueError(
            f"checksum mismatch for {name!r} downloaded from {entry.url}: {err}. The download "
            "was discarded. Fix: retry (the transfer may have been cut); if it persists the "
            "provider changed the file: check it and update datasets/registry.csv, or pass a "
            "copy you trust as path=..."
        ) from err
    if entry.known_hash is None:
        _verify_content(local, entry)
    return local


def _verify_content(local: Path, entry: RegistryEntry) -> None:
    """Check the files inside a downloaded archive once; remember the archive's SHA-256."""
    record_path = local.with_name(local.name + ".verified.json")
    sha256 = file_hash(local, "sha256")
    try:
        record = json.loads(record_path.read_text())
    except (OSError, ValueError):
        record = {}
    if record == {"sha256": sha256, "file_hashes": dict(entry.file_hashes)}:
        return
    try:
        verify_file_hashes(local, entry.file_hashes, entry.name)
    except (ValueError, FileNotFoundError) as err:
        local.unlink(missing_ok=True)
        record_path.unlink(missing_ok=True)
        raise ValueError(
            f"the {entry.name!r} archive downloaded from {entry.url} failed its check ({err}). "
            "The download was deleted. Fix: retry (the transfer may have been cut); if it "
            "persists, download it yourself, check it and pass it as path=..."
        ) from err
    write_json(record_path, {"sha256": sha256, "file_hashes": dict(entry.file_hashes)})


def locate(path: PathLike | None, name: str, *, verify: bool) -> tuple[Path, str]:
    """Where to read a data set from, and what was checked (for ``info["checksum"]``).

    ``path=None`` fetches the registered file. A local archive (zip or tar) is checked against
    the registry's hash of the archive when ``verify`` is true and a hash is known; files whose
    content hash is published are checked by the loader while it reads them.
    """
    if path is None:
        entry = _entry(name)
        local = fetch(name)
        what = entry.known_hash or "the published hashes of its files"
        return local, f"downloaded and verified ({what.split(':')[0]})"
    source = require_path(path)
    entry = _entry(name)
    archive = source.is_file() and (source.name.lower().endswith(".zip") or is_tar(source.name))
    if not archive:
        return source, "not checked: no published hash for an extracted folder or file"
    if entry.known_hash is None:
        return source, "not checked: no published hash of this archive"
    if not verify:
        return source, "not checked: verify=False"
    verify_checksum(
        source,
        entry.known_hash,
        fix=(
            f"Fix: this is not the registered {entry.filename} (or it is truncated): download "
            "it again. For a copy you re-packed or edited on purpose, pass the extracted folder "
            "instead (data_path=... in a chapter or make run, path=... to a loader): a folder "
            "has no published hash to check"
        ),
    )
    return source, f"verified ({entry.known_hash.split(':')[0]} of the archive)"
