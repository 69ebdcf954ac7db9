"""Finding a data set's files in an archive (zip, tar), an extracted folder, or the file itself.

Part of :mod:`course_lib.datasets`. No chapter teaches it: the data cards in ``datasets/`` use the
loaders (the chapters run on the synthetic music world, :mod:`course_lib.music_world`).

Rules, the same for folders, zips and tars: the shallowest file of the wanted name is read (one
warning names the deeper ones that are not); two at the same depth, or a folder where the file
should be, are errors that list what was found; ``__MACOSX/`` copies are ignored. A folder is
searched in itself and one level of subfolders (the folder an archive extracts to), not deeper:
a copy three levels down is never picked up, and the error says where the loader looked. An
empty path (which would mean the current folder), an empty file, a truncated, corrupt or
encrypted archive, and a format the loaders do not read (7-Zip, RAR, a plain ``.gz``) raise a
``ValueError`` that names the file and the fix. Nothing is extracted to disk.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import lzma
import os
import tarfile
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from .fields import shorten

__all__ = [
    "ARCHIVE_ERRORS",
    "Member",
    "archive_guard",
    "is_tar",
    "plain_member",
    "require_path",
    "resolve",
    "zip_names",
]

PathLike = str | os.PathLike[str]

ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    tarfile.TarError,
    EOFError,
    zlib.error,
    gzip.BadGzipFile,
    lzma.LZMAError,
)
_SKIPPED_FOLDERS = ("__MACOSX",)
_PASS_FOLDER = "pass the extracted folder as path=... (data_path=... in a chapter)"
#: Formats recognised by their first bytes (or name) that the loaders do not read, and the
#: command that extracts each.
_UNREAD_FORMATS = (
    (b"7z\xbc\xaf\x27\x1c", (".7z",), "a 7-Zip archive", "7z x {name}"),
    (b"Rar!\x1a\x07", (".rar",), "a RAR archive", "unrar x {name}"),
    (b"\x1f\x8b", (".gz",), "a gzip-compressed file (not a .tar.gz)", "gunzip -k {name}"),
    (b"BZh", (".bz2",), "a bzip2-compressed file (not a .tar.bz2)", "bunzip2 -k {name}"),
    (b"\xfd7zXZ\x00", (".xz",), "an xz-compressed file (not a .tar.xz)", "unxz -k {name}"),
    (b"(\xb5/\xfd", (".zst",), "a Zstandard-compressed file", "unzstd {name}"),
)


def require_path(path: object, name: str = "path") -> Path:
    """``path`` as a ``Path`` (``~`` expanded); an empty or blank one is refused.

    ``Path("")`` is the current folder, so an empty path (an unset shell variable in
    ``make run ... data_path=$DATA``) would quietly search wherever the command runs.

    Raises
    ------
    TypeError
        Not a ``str`` or path.
    ValueError
        An empty or blank path.
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"{name} must be a path (str or pathlib.Path), got {path!r}")
    if not os.fspath(path).strip():
        raise ValueError(
            f"{name} is empty ({os.fspath(path)!r}; an unset shell variable?), which would mean "
            f"the current folder. Fix: give the archive or the extracted folder as {name}=..., "
            "or None to download the registered copy"
        )
    return Path(path).expanduser()


def _unread_format(file: Path) -> tuple[str, str] | None:
    """(what it is, how to extract it) for a compressed file the loaders do not read."""
    with open(file, "rb") as handle:
        head = handle.read(8)
    lower = file.name.lower()
    for magic, suffixes, what, command in _UNREAD_FORMATS:
        if head.startswith(magic) or lower.endswith(suffixes):
            return what, command.format(name=file.name)
    return None


@dataclass(frozen=True)
class Member:
    """A data file: a label for error messages and a way to open it as bytes."""

    label: str
    open: Callable[[], contextlib.AbstractContextManager[IO[bytes]]]


@contextlib.contextmanager
def archive_guard(archive: Path) -> Iterator[None]:
    """Turn the many exceptions of a damaged archive into one clear ``ValueError``."""
    try:
        yield
    except RuntimeError as err:  # zipfile's way of saying a member needs a password
        if "encrypted" not in str(err):
            raise
        raise _encrypted(archive) from err
    except ARCHIVE_ERRORS as err:
        raise ValueError(
            f"{archive}: the archive is truncated or corrupt ({type(err).__name__}: "
            f"{shorten(err)}). Fix: delete it and download it again (an interrupted download "
            "leaves a partial file), or unpack it with another tool and pass the extracted "
            "folder as path=..."
        ) from err


def _encrypted(archive: Path) -> ValueError:
    return ValueError(
        f"{archive} is encrypted (password-protected), and the loaders read no passwords. "
        f"Fix: extract it with its password (unzip {archive.name}) and {_PASS_FOLDER}"
    )


def is_tar(name: str) -> bool:
    """Whether a file name is that of a (compressed) tar archive."""
    return name.lower().endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz"))


def plain_member(file: Path) -> Member:
    """A file on disk."""
    return Member(str(file), lambda: open(file, "rb"))


def zip_names(archive: Path) -> list[str]:
    """The member names of a zip, without ``__MACOSX/`` copies and folders."""
    with archive_guard(archive), zipfile.ZipFile(archive) as zf:
        if any(info.flag_bits & 0x1 for info in zf.infolist()):
            raise _encrypted(archive)
        return [n for n in zf.namelist() if not _skipped(n) and not n.endswith("/")]


def _zip_member(archive: Path, member: str) -> Member:
    @contextlib.contextmanager
    def opener() -> Iterator[IO[bytes]]:
        with archive_guard(archive), zipfile.ZipFile(archive) as zf, zf.open(member) as fh:
            yield fh

    return Member(f"{archive} (member {member})", opener)


class _Tracked(io.RawIOBase):
    """A read-only stream that remembers whether its reader reached the end."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.at_eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        if not data:
            self.at_eof = True
        buffer[: len(data)] = data
        return len(data)


def _depth(name: str) -> int:
    return len(PurePosixPath(name).parts)


def _tar_member(archive: Path, basename: str) -> Member:
    @contextlib.contextmanager
    def opener() -> Iterator[IO[bytes]]:
        with archive_guard(archive), tarfile.open(archive, "r|*") as tf:
            members = iter(tf)
            for info in members:
                if info.isfile() and not _skipped(info.name) and _basename(info.name) == basename:
                    tracked = _Tracked(tf.extractfile(info))  # type: ignore[arg-type]
                    yield io.BufferedReader(tracked, buffer_size=1 << 20)
                    if tracked.at_eof:  # the member was read to its end: look at the rest
                        others = [
                            other.name
                            for other in members  # the same iterator: the rest only
                            if other.isfile()
                            and not _skipped(other.name)
                            and _basename(other.name) == basename
                        ]
                        found = [info.name, *others]
                        _, ignored = _pick(found, _depth, str(archive), basename, first=info.name)
                        _warn_deeper(str(archive), ignored, stacklevel=4)
                    return
        raise FileNotFoundError(
            f"{archive} holds no file named {basename}: is this the right archive?"
        )

    return Member(f"{archive} (member {basename})", opener)


def _basename(name: str) -> str:
    return PurePosixPath(name).name


def _skipped(name: str) -> bool:
    return any(part in _SKIPPED_FOLDERS for part in PurePosixPath(name).parts)


def _pick(
    candidates: Sequence[str],
    depth: Callable[[str], int],
    where: str,
    name: str,
    *,
    first: str | None = None,
) -> tuple[str, list[str]]:
    """The shallowest candidate and the deeper ones; a tie is an error.

    ``first`` is the candidate already read (tar streams): an error if another is not deeper.
    """
    shallowest = min(depth(c) for c in candidates)
    top = sorted(c for c in candidates if depth(c) == shallowest)
    fix = "Fix: pass the folder (or the file itself) that holds the copy you mean as path=..."
    if len(top) > 1:
        listed = ", ".join(shorten(c, 80) for c in top[:3]) + (" ..." if len(top) > 3 else "")
        raise ValueError(
            f"{shorten(where)} holds {len(top)} files named {name} at the same depth: "
            f"{listed}. {fix}"
        )
    if first is not None and first != top[0]:
        raise ValueError(
            f"{shorten(where)} holds {len(candidates)} files named {name}: the one read, "
            f"{shorten(first, 80)}, is deeper than {shorten(top[0], 80)}. Extract the "
            f"archive; {fix}"
        )
    return top[0], sorted(c for c in candidates if c != top[0])


def _warn_deeper(where: str, ignored: Sequence[str], stacklevel: int) -> None:
    """Say, once, which deeper copies were not read."""
    if ignored:
        warnings.warn(
            f"{shorten(where)}: {len(ignored)} deeper file(s) with the name of a data file were "
            f"not read (e.g. {shorten(ignored[0], 80)}): the shallowest file of a name is used. "
            "Pass the folder that holds the copy you mean as path=... to read another",
            UserWarning,
            stacklevel=stacklevel + 1,
        )


def _folder_member(root: Path, name: str, dataset: str, ignored: list[str]) -> Member:
    """The file ``name`` in ``root`` or in one of its subfolders (an archive's extraction
    folder), never deeper: a loader does not walk a whole tree for a copy of a file."""
    subfolders = sorted(
        p for p in root.iterdir() if p.is_dir() and not _skipped(p.name) and p.name[:1] != "."
    )
    hits = [
        str(p.relative_to(root))
        for p in [root / name, *(sub / name for sub in subfolders)]
        if p.exists() or p.is_symlink()
    ]
    if not hits:
        shown = ", ".join(f"{sub.name}/" for sub in subfolders[:5])
        shown += " ..." if len(subfolders) > 5 else ""
        looked = f" and in its subfolders ({shown})" if subfolders else " (it has no subfolders)"
        raise FileNotFoundError(
            f"{name} not found: looked in {root.absolute()}{looked}, not deeper. Fix: pass "
            f"the folder that holds {name}, extracted from the {dataset} archive (or the "
            "archive itself)"
        )
    picked, deeper = _pick(hits, lambda h: len(Path(h).parts), str(root), name)
    ignored.extend(deeper)
    chosen = root / picked
    if not chosen.is_file():
        kind = "a folder" if chosen.is_dir() else "not a regular file"
        raise ValueError(
            f"{chosen} is {kind}, but it should be the data file {name} of {dataset}. Fix: "
            "extract the archive again into an empty folder and pass that folder as path=..."
        )
    return plain_member(chosen)


def resolve(path: PathLike, wanted: Sequence[str], dataset: str) -> dict[str, Member]:
    """Map each wanted file name to a member of an archive, a folder, or the file itself.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist, or holds no file of a wanted name.
    ValueError
        Two candidate files at the same depth; a folder where a data file should be; a single
        file where several are needed; a truncated or corrupt zip.
    """
    root = require_path(path)
    if not root.exists():
        raise FileNotFoundError(
            f"{root} does not exist: pass the {dataset} archive, its extracted folder or its data "
            "file as path=..."
        )
    ignored: list[str] = []
    if root.is_dir():
        found = {name: _folder_member(root, name, dataset, ignored) for name in wanted}
        _warn_deeper(str(root), ignored, stacklevel=3)
        return found
    if not root.is_file():
        raise ValueError(f"{root} is neither a file nor a folder: pass the {dataset} archive")
    unread = _unread_format(root)
    archive = root.name.lower().endswith(".zip") or is_tar(root.name) or unread is not None
    if archive and root.stat().st_size == 0:  # a data file's parser says it is empty itself
        raise ValueError(
            f"{root} is empty (0 bytes): an interrupted download or copy. Fix: download it "
            f"again, or {_PASS_FOLDER}"
        )
    if root.name.lower().endswith(".zip"):
        names = zip_names(root)
        found = {}
        for name in wanted:
            hits = [n for n in names if _basename(n) == name]
            if not hits:
                raise FileNotFoundError(
                    f"{root} holds no file named {name}: is this the {dataset} archive?"
                )
            picked, deeper = _pick(hits, _depth, str(root), name)
            found[name] = _zip_member(root, picked)
            ignored.extend(deeper)
        _warn_deeper(str(root), ignored, stacklevel=3)
        return found
    if is_tar(root.name):
        return {name: _tar_member(root, name) for name in wanted}
    if unread is not None:
        what, command = unread
        raise ValueError(
            f"{root} is {what}, a format the loaders do not read (they read zip, tar, "
            f"tar.gz/.bz2/.xz, a folder, or the data file itself). Fix: extract it "
            f"({command}) and {_PASS_FOLDER}"
        )
    if len(wanted) == 1:
        return {wanted[0]: plain_member(root)}
    raise ValueError(
        f"{root} is a single file, but {dataset} needs {', '.join(wanted)}: pass the archive "
        "or the folder that holds them"
    )
