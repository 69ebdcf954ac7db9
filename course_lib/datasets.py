"""Loaders for real music data: Last.fm (HetRec 2011 and 1K), the MSD taste profile and FMA.

Introduced in chapter 01 (what implicit feedback looks like on real logs), used again in
chapter 02 (ALS on real play counts) and chapters 03–04 (FMA audio for the convnet). The
synthetic music world (:mod:`course_lib.music_world`) is what the chapters run on by default;
these loaders give the same shapes on real data:

- play counts are a ``scipy.sparse.csr_matrix`` of shape (n_users, n_items), dtype int32;
- ``users`` / ``items`` are DataFrames whose row *k* describes row / column *k* of ``plays``;
- raw identifiers are mapped to contiguous indices and the mapping is kept
  (``user_index``, ``item_index``: raw id -> index).

Data come from a checksum registry, ``datasets/registry.csv`` (name, file name, URL, hash,
size, license). :func:`fetch` downloads with pooch into a user cache (the environment
variable ``COURSE_LIB_DATA`` overrides the folder; default ``pooch.os_cache("course_lib")``)
and verifies the hash. An entry without a recorded hash is never downloaded: pass the
file you downloaded yourself with ``path=``. Every loader takes ``path`` (an archive, the
extracted folder or the data file itself) and then never touches the network.

Parsing is strict and reports the file, the line and the fix: wrong number of fields,
non-integer, negative, zero, empty or NaN counts, duplicate (user, item) rows (an error by
default, summed with ``duplicates="sum"``), empty lines in the middle of a file, truncated or
corrupt archives, checksum mismatches. Nothing is unpickled.

References: Cantador, Brusilovsky & Kuflik (2011), HetRec 2011; Celma (2010), *Music
Recommendation and Discovery*; Bertin-Mahieux et al. (2011), The Million Song Dataset;
Defferrard et al. (2017), FMA: A Dataset for Music Analysis.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import os
import tarfile
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = [
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
]

PathLike = str | os.PathLike[str]

_REGISTRY_PATH = Path(__file__).resolve().parent.parent / "datasets" / "registry.csv"
_REGISTRY_COLUMNS = ("name", "filename", "url", "hash", "size", "license", "hash_source")
_HASH_LENGTHS = {"sha256": 64, "sha1": 40, "md5": 32}
_BLOCK_BYTES = 1 << 24
_INT32_MAX = int(np.iinfo(np.int32).max)
_MISSING_WORDS = {"nan", "na", "n/a", "null", "none"}
_ARCHIVE_ERRORS = (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile)


# --------------------------------------------------------------------------------------------
# Registry, cache and checksums
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RegistryEntry:
    """One row of ``datasets/registry.csv``.

    ``known_hash`` is in pooch's ``"<algorithm>:<hex>"`` form, or ``None`` when no checksum is
    recorded (such an entry is never downloaded).
    """

    name: str
    filename: str
    url: str
    known_hash: str | None
    size: str
    license: str
    hash_source: str


def registry(path: PathLike | None = None) -> dict[str, RegistryEntry]:
    """Read the checksum registry.

    Parameters
    ----------
    path : path-like, optional
        A registry CSV; default ``datasets/registry.csv`` of this repository.

    Returns
    -------
    dict
        Dataset name -> :class:`RegistryEntry`.
    """
    file = Path(path) if path is not None else _REGISTRY_PATH
    if not file.is_file():
        raise FileNotFoundError(
            f"dataset registry {file} not found: course_lib.datasets expects the repository's "
            "datasets/registry.csv next to course_lib/ (install the course with `pip install -e .`)"
        )
    entries: dict[str, RegistryEntry] = {}
    with open(file, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != _REGISTRY_COLUMNS:
            raise ValueError(
                f"{file}, line 1: the header must be {','.join(_REGISTRY_COLUMNS)}, "
                f"found {','.join(reader.fieldnames or [])}"
            )
        for row in reader:
            line = reader.line_num
            known = _parse_hash(row["hash"], f"{file}, line {line}")
            if row["name"] in entries:
                raise ValueError(f"{file}, line {line}: dataset {row['name']!r} is listed twice")
            entries[row["name"]] = RegistryEntry(
                name=row["name"],
                filename=row["filename"],
                url=row["url"],
                known_hash=known,
                size=row["size"],
                license=row["license"],
                hash_source=row["hash_source"],
            )
    return entries


def _parse_hash(text: str, where: str) -> str | None:
    text = text.strip()
    if text.lower() in ("", "unknown"):
        return None
    alg, _, hexdigest = text.partition(":")
    alg = alg.lower()
    if alg not in _HASH_LENGTHS or len(hexdigest) != _HASH_LENGTHS[alg]:
        raise ValueError(
            f"{where}: hash {text!r} is not of the form 'sha256:<64 hex digits>' "
            "(or sha1:/md5: with 40/32 digits); write 'unknown' when no checksum is known"
        )
    try:
        int(hexdigest, 16)
    except ValueError:
        raise ValueError(f"{where}: hash {text!r} contains characters that are not hex") from None
    return f"{alg}:{hexdigest.lower()}"


def data_dir() -> Path:
    """Folder where downloads are cached.

    ``$COURSE_LIB_DATA`` when set, else ``pooch.os_cache("course_lib")``
    (``~/.cache/course_lib`` on Linux).
    """
    env = os.environ.get("COURSE_LIB_DATA")
    if env:
        return Path(env).expanduser()
    import pooch

    return Path(pooch.os_cache("course_lib"))


def verify_checksum(path: PathLike, known_hash: str) -> None:
    """Raise ``ValueError`` unless the file's hash equals ``known_hash``.

    Parameters
    ----------
    path : path-like
        The file to check.
    known_hash : str
        ``"sha256:<hex>"`` (or ``sha1:``/``md5:``), e.g. ``registry()[name].known_hash``.
    """
    import pooch

    parsed = _parse_hash(known_hash, "known_hash")
    if parsed is None:
        raise ValueError("verify_checksum needs a hash such as 'sha256:<hex>', got 'unknown'")
    alg, expected = parsed.split(":")
    actual = pooch.file_hash(str(path), alg=alg)
    if actual.lower() != expected:
        raise ValueError(
            f"checksum mismatch for {path}: its {alg} is {actual} but {expected} is expected. "
            "Fix: the file is truncated or not the registered one; delete it and download it "
            "again, or correct the hash in datasets/registry.csv if the provider changed the file"
        )


def fetch(name: str, *, downloader: Callable[..., Any] | None = None) -> Path:
    """Download a registered file into :func:`data_dir` and verify its checksum.

    A file already in the cache is re-verified (pooch downloads again if it does not match).
    Entries without a recorded hash are refused, never downloaded unverified.

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
    entries = registry()
    if name not in entries:
        raise ValueError(f"unknown dataset {name!r}; the registry lists {sorted(entries)}")
    entry = entries[name]
    if entry.known_hash is None:
        raise ValueError(
            f"refusing to download {name!r}: datasets/registry.csv records no checksum for "
            f"{entry.url}, so the download could not be verified. Fix: download it yourself and "
            f"pass the local file or extracted folder as path=..., or fill in the hash column "
            f"with 'sha256:' + the output of `sha256sum {entry.filename}` for a copy you trust"
        )
    import pooch

    try:
        local = pooch.retrieve(
            entry.url,
            known_hash=entry.known_hash,
            fname=entry.filename,
            path=data_dir(),
            downloader=downloader,
            progressbar=False,
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
    return Path(local)


# --------------------------------------------------------------------------------------------
# Finding files inside archives and folders
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Member:
    """A data file: a label for error messages and a way to open it as bytes."""

    label: str
    open: Callable[[], contextlib.AbstractContextManager[IO[bytes]]]


@contextlib.contextmanager
def _archive_guard(archive: Path) -> Iterator[None]:
    try:
        yield
    except _ARCHIVE_ERRORS as err:
        raise ValueError(
            f"{archive}: the archive is truncated or corrupt ({type(err).__name__}: {err}). "
            "Fix: delete it and download it again (an interrupted download leaves a partial "
            "file), or unpack it with another tool and pass the extracted folder as path=..."
        ) from err


def _is_tar(name: str) -> bool:
    return name.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz"))


def _plain_member(file: Path) -> _Member:
    return _Member(str(file), lambda: open(file, "rb"))


def _zip_member(archive: Path, member: str) -> _Member:
    @contextlib.contextmanager
    def opener() -> Iterator[IO[bytes]]:
        with _archive_guard(archive), zipfile.ZipFile(archive) as zf, zf.open(member) as fh:
            yield fh

    return _Member(f"{archive} (member {member})", opener)


def _tar_member(archive: Path, basename: str) -> _Member:
    @contextlib.contextmanager
    def opener() -> Iterator[IO[bytes]]:
        with _archive_guard(archive), tarfile.open(archive, "r|*") as tf:
            for info in tf:
                if info.isfile() and Path(info.name).name == basename:
                    fh = tf.extractfile(info)
                    assert fh is not None
                    yield fh
                    return
        raise FileNotFoundError(f"{archive} holds no file named {basename}")

    return _Member(f"{archive} (member {basename})", opener)


def _resolve(path: PathLike, wanted: Sequence[str], dataset: str) -> dict[str, _Member]:
    """Map each wanted basename to a member of an archive, a folder, or the file itself."""
    root = Path(path).expanduser()
    if not root.exists():
        raise FileNotFoundError(
            f"{root} does not exist: pass the {dataset} archive, its extracted folder or its data "
            "file as path=..."
        )
    if root.is_dir():
        found = {}
        for name in wanted:
            hits = sorted(root.rglob(name), key=lambda p: (len(p.parts), str(p)))
            if not hits:
                raise FileNotFoundError(
                    f"{name} not found under {root}: pass the folder extracted from the "
                    f"{dataset} archive (or the archive itself)"
                )
            found[name] = _plain_member(hits[0])
        return found
    lower = root.name.lower()
    if lower.endswith(".zip"):
        with _archive_guard(root), zipfile.ZipFile(root) as zf:
            names = [n for n in zf.namelist() if not n.startswith("__MACOSX/")]
        found = {}
        for name in wanted:
            hits = sorted((n for n in names if n.rsplit("/", 1)[-1] == name), key=len)
            if not hits:
                raise FileNotFoundError(
                    f"{root} holds no file named {name}: is this the {dataset} archive?"
                )
            found[name] = _zip_member(root, hits[0])
        return found
    if _is_tar(lower):
        return {name: _tar_member(root, name) for name in wanted}
    if len(wanted) == 1:
        return {wanted[0]: _plain_member(root)}
    raise ValueError(
        f"{root} is a single file, but {dataset} needs {', '.join(wanted)}: pass the archive "
        "or the folder that holds them"
    )


# --------------------------------------------------------------------------------------------
# Strict tab-separated parsing with line numbers
# --------------------------------------------------------------------------------------------
def _line_text(block: bytes, start: int, end: int) -> str:
    text = block[start:end].decode("utf-8", errors="replace").rstrip("\r")
    return text if len(text) <= 120 else text[:117] + "..."


def _iter_tsv(
    member: _Member,
    names: Sequence[str],
    *,
    header: Sequence[str] | None = None,
    usecols: Sequence[int] | None = None,
    encoding: str = "utf-8",
    on_bad_lines: str = "error",
    max_lines: int | None = None,
    block_bytes: int | None = None,
    stats: dict[str, int] | None = None,
    dtype: dict[str, str] | None = None,
) -> Iterator[tuple[np.ndarray, pd.DataFrame]]:
    """Yield (line numbers, DataFrame) blocks of a tab-separated file.

    Every line must have exactly ``len(names)`` fields; empty lines are allowed only at the end.
    Fields are strings (no quoting, no NaN guessing, no type inference: "0012" stays "0012")
    unless ``dtype`` asks for "int64" for a column; that is tried first and a block that does not
    parse is re-read as strings so that the caller can find and report the bad line.
    """
    n_fields = len(names)
    label = member.label
    consumed = 0
    kept_total = 0
    pending_blank: int | None = None
    with member.open() as handle:
        carry = b""
        done = False
        while not done:
            chunk = handle.read(block_bytes or _BLOCK_BYTES)
            data = carry + chunk
            if chunk:
                cut = data.rfind(b"\n")
                if cut < 0:
                    carry = data
                    continue
                block, carry = data[: cut + 1], data[cut + 1 :]
            else:
                block, carry, done = data, b"", True
                if not block:
                    break
            if header is not None and consumed == 0:
                newline = block.find(b"\n")
                first = block[: newline if newline >= 0 else len(block)]
                found = first.decode(encoding, errors="replace").rstrip("\r").split("\t")
                if found != list(header):
                    raise ValueError(
                        f"{label}, line 1: expected the header {chr(9).join(header)!r}, found "
                        f"{chr(9).join(found)!r}. Fix: pass the original file (is this the "
                        "right file of the data set?)"
                    )
                block = block[newline + 1 :] if newline >= 0 else b""
                consumed = 1
            if not block:
                continue
            buf = np.frombuffer(block, dtype=np.uint8)
            ends = np.flatnonzero(buf == 10)
            if buf[-1] != 10:
                ends = np.append(ends, len(buf))
            starts = np.concatenate(([0], ends[:-1] + 1))
            lengths = ends - starts
            has_cr = (lengths > 0) & (buf[np.maximum(ends - 1, 0)] == 13)
            blank = (lengths - has_cr) == 0
            tabs = np.flatnonzero(buf == 9)
            n_tabs = np.searchsorted(tabs, ends) - np.searchsorted(tabs, starts)
            lines = consumed + 1 + np.arange(len(starts))
            if max_lines is not None:
                # stop after the line that completes max_lines non-empty lines
                nonblank = np.flatnonzero(~blank)
                remaining = max_lines - kept_total
                if nonblank.size >= remaining:
                    stop = int(nonblank[remaining - 1]) + 1
                    starts, ends, blank, n_tabs, lines = (
                        starts[:stop],
                        ends[:stop],
                        blank[:stop],
                        n_tabs[:stop],
                        lines[:stop],
                    )
                    block = block[: ends[-1] + 1]
                    done = True
            consumed += len(starts)

            nonblank = np.flatnonzero(~blank)
            if nonblank.size:
                if pending_blank is not None:
                    raise _empty_line(label, pending_blank)
                interior = np.flatnonzero(blank[: nonblank[-1]])
                if interior.size:
                    raise _empty_line(label, int(lines[interior[0]]))
                tail = np.flatnonzero(blank[nonblank[-1] + 1 :])
                if tail.size:
                    pending_blank = int(lines[nonblank[-1] + 1 + tail[0]])
            elif pending_blank is None:
                pending_blank = int(lines[0])

            bad = ~blank & (n_tabs != n_fields - 1)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                if on_bad_lines == "error":
                    raise ValueError(
                        f"{label}, line {lines[i]}: expected {n_fields} tab-separated fields "
                        f"({', '.join(names)}), found {n_tabs[i] + 1}: "
                        f"{_line_text(block, starts[i], ends[i])!r}. Fix: repair or delete this "
                        "line (is the file truncated or from another data set?)"
                        + ("; or pass on_bad_lines='skip'" if stats is not None else "")
                    )
                if stats is not None:
                    stats["skipped_lines"] = stats.get("skipped_lines", 0) + int(bad.sum())
            keep = np.flatnonzero(~blank & ~bad)
            kept_total += int((~blank).sum())
            if not keep.size:
                continue
            if keep.size != len(starts):
                block = b"".join(block[starts[k] : ends[k]] + b"\n" for k in keep)
            try:
                frame = _parse_block(block, names, usecols, encoding, dtype)
            except UnicodeDecodeError as err:
                raise _decode_error(label, block, lines[keep], encoding, err) from err
            if len(frame) != keep.size:
                raise ValueError(
                    f"{label}, lines {lines[keep[0]]}–{lines[keep[-1]]}: could not split the "
                    "lines into rows (a lone carriage return inside a field?). Fix: convert the "
                    "file to plain '\\n' line endings"
                )
            yield lines[keep], frame


def _parse_block(
    block: bytes,
    names: Sequence[str],
    usecols: Sequence[int] | None,
    encoding: str,
    dtype: dict[str, str] | None,
) -> pd.DataFrame:
    wanted: dict[str, str] = {name: "str" for name in names}
    wanted.update(dtype or {})
    options = dict(
        sep="\t",
        header=None,
        names=list(names),
        usecols=usecols,
        na_filter=False,
        quoting=csv.QUOTE_NONE,
        encoding=encoding,
        engine="c",
    )
    try:
        return pd.read_csv(io.BytesIO(block), dtype=wanted, **options)
    except UnicodeDecodeError:
        raise
    except (ValueError, OverflowError):
        if not any(kind.startswith("int") for kind in wanted.values()):
            raise
    # an integer column did not parse: read it as text so the caller reports the bad line
    as_text = {k: ("str" if v.startswith("int") else v) for k, v in wanted.items()}
    return pd.read_csv(io.BytesIO(block), dtype=as_text, **options)


def _empty_line(label: str, line: int) -> ValueError:
    return ValueError(
        f"{label}, line {line}: the line is empty. Fix: delete it (empty lines are allowed only "
        "at the end of the file)"
    )


def _decode_error(
    label: str, block: bytes, lines: np.ndarray, encoding: str, err: UnicodeDecodeError
) -> ValueError:
    try:
        block.decode(encoding)
        line = int(lines[0])
    except UnicodeDecodeError as inner:
        line = int(lines[block[: inner.start].count(b"\n")])
    return ValueError(
        f"{label}, line {line}: bytes that are not valid {encoding} ({err.reason}). Fix: "
        f"re-encode the file as {encoding} (or pass the original, unmodified file)"
    )


def _read_all(
    member: _Member, names: Sequence[str], **kwargs: Any
) -> tuple[np.ndarray, pd.DataFrame]:
    parts = list(_iter_tsv(member, names, **kwargs))
    if not parts:
        raise ValueError(f"{member.label}: the file has no data lines. Fix: pass the complete file")
    return np.concatenate([p[0] for p in parts]), pd.concat(
        [p[1] for p in parts], ignore_index=True
    )


def _sniff_encoding(member: _Member) -> str:
    """UTF-8 when the whole (small) file decodes as such, else Latin-1 (HetRec's tags.dat)."""
    with member.open() as handle:
        raw = handle.read()
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8"


def _integers(
    values: pd.Series,
    lines: np.ndarray,
    label: str,
    column: str,
    *,
    minimum: int,
    what: str,
) -> np.ndarray:
    """Parse a text or integer column as integers >= minimum; raise at the first bad line."""
    if pd.api.types.is_integer_dtype(values.dtype):
        ints = values.to_numpy(dtype=np.int64)
        bad = (ints < minimum) | (ints > _INT32_MAX)
        if not bad.any():
            return ints
        num = ints.astype(np.float64)
    else:
        num = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(num) | (num != np.floor(num)) | (num < minimum) | (num > _INT32_MAX)
        if not bad.any():
            return num.astype(np.int64)
    i = int(np.flatnonzero(bad)[0])
    text, value = str(values.iloc[i]), num[i]
    if text.strip() == "":
        problem, fix = f"the {what} is empty", "fill it in or delete the line"
    elif text.strip().lower() in _MISSING_WORDS:
        problem, fix = f"the {what} is missing (NaN)", "fill it in or delete the line"
    elif np.isnan(value):
        problem, fix = f"the {what} is not a number", "write a whole number"
    elif not np.isfinite(value):
        problem, fix = f"the {what} is infinite", "write a whole number"
    elif value != np.floor(value):
        problem, fix = (
            f"the {what} is not an integer",
            "write a whole number (counts are not ratings)",
        )
    elif value < 0:
        problem, fix = f"the {what} is negative", f"{what}s must be >= {minimum}"
    elif value < minimum:
        problem = f"the {what} is {value:g}"
        fix = f"{what}s must be >= {minimum}; delete rows without plays"
    else:
        problem, fix = f"the {what} exceeds the int32 range", "check the file for a corrupt value"
    return _raise(label, int(lines[i]), column, problem, text, fix)


def _raise(label: str, line: int, column: str, problem: str, text: str, fix: str) -> Any:
    raise ValueError(
        f"{label}, line {line}, column {column!r}: {problem} (found {text!r}). Fix: {fix}"
    )


def _nonempty(
    values: pd.Series, lines: np.ndarray, label: str, column: str, *, skip_hint: bool = False
) -> None:
    """Raise at the first empty (or all-blank) field."""
    empty = _empty_mask(values)
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        fix = "fill it in or delete the line" + (
            "; or pass on_bad_lines='skip'" if skip_hint else ""
        )
        _raise(label, int(lines[i]), column, f"the {column} is empty", str(values.iloc[i]), fix)


def _empty_mask(values: pd.Series) -> np.ndarray:
    """True where a text field is empty or blank."""
    return (values.str.strip() == "").to_numpy(dtype=bool)


class _Vocab:
    """Grow a raw-key -> code table block by block; sort the keys at the end."""

    def __init__(self) -> None:
        self.index: dict[Any, int] = {}

    def lookup(self, uniques: Sequence[Any]) -> np.ndarray:
        """Global codes of distinct keys, adding the new ones."""
        index = self.index
        return np.fromiter(
            (index.setdefault(u, len(index)) for u in uniques), np.int64, len(uniques)
        )

    def codes(self, values: pd.Series) -> np.ndarray:
        """Global code of every value (only the block's distinct values touch the dict)."""
        local, uniques = pd.factorize(values)
        return self.lookup(uniques.to_numpy(dtype=object))[local]

    def sorted(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (keys in sorted order, array old code -> new code)."""
        keys = np.empty(len(self.index), dtype=object)
        keys[:] = list(self.index)
        order = np.argsort(keys, kind="stable")
        remap = np.empty(len(order), dtype=np.int64)
        remap[order] = np.arange(len(order))
        return keys[order], remap


def _build_plays(
    users: np.ndarray,
    items: np.ndarray,
    counts: np.ndarray,
    lines: np.ndarray,
    shape: tuple[int, int],
    *,
    duplicates: str,
    label: str,
    user_keys: np.ndarray,
    item_keys: np.ndarray,
) -> sp.csr_matrix:
    """csr (n_users, n_items) int32 of summed counts; raise on duplicates unless summing."""
    matrix = sp.coo_matrix((counts.astype(np.int64), (users, items)), shape=shape).tocsr()
    matrix.sum_duplicates()
    if duplicates == "error" and matrix.nnz < len(counts):
        key = users.astype(np.int64) * shape[1] + items
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        second = order[1:][sorted_key[1:] == sorted_key[:-1]]
        j = int(second[np.argmin(lines[second])])
        first = int(order[np.searchsorted(sorted_key, key[j])])
        raise ValueError(
            f"{label}, line {lines[j]}: duplicate (user, item) pair "
            f"({_scalar(user_keys[users[j]])!r}, {_scalar(item_keys[items[j]])!r}), first seen on "
            f"line {lines[first]}. Fix: pass duplicates='sum' to add their counts, or delete a row"
        )
    if matrix.nnz and matrix.data.max() > _INT32_MAX:
        raise ValueError(f"{label}: a summed play count exceeds the int32 range")
    matrix.data = matrix.data.astype(np.int32)
    matrix.indices = matrix.indices.astype(np.int32)
    matrix.indptr = matrix.indptr.astype(np.int32)
    return matrix


def _scalar(value: Any) -> Any:
    """A numpy scalar as a plain Python value (for readable messages)."""
    return value.item() if isinstance(value, np.generic) else value


def _check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")


def _check_max_lines(max_lines: int | None) -> None:
    if max_lines is not None and (not isinstance(max_lines, int) or max_lines < 1):
        raise ValueError(f"max_lines must be a positive integer or None, got {max_lines!r}")


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------
@dataclass(repr=False)
class PlayData:
    """Play counts with their users and items, in the music world's orientation.

    Attributes
    ----------
    plays : scipy.sparse.csr_matrix, int32, shape (n_users, n_items)
        Play counts (implicit feedback; zero means "not observed", not "disliked").
    users : pandas.DataFrame
        Row u describes row u of ``plays``; column ``user_id`` holds the raw id.
    items : pandas.DataFrame
        Row i describes column i of ``plays`` (columns depend on the data set).
    user_index, item_index : dict
        Raw id -> contiguous index (the inverse of ``users`` / ``items``).
    info : dict
        Counts worth knowing: lines read, lines skipped, rows dropped, ...
    source : str
        Where the data were read from.
    """

    plays: sp.csr_matrix
    users: pd.DataFrame
    items: pd.DataFrame
    user_index: dict[Any, int]
    item_index: dict[Any, int]
    info: dict[str, int]
    source: str

    def __repr__(self) -> str:
        n_users, n_items = self.plays.shape
        return (
            f"{type(self).__name__}({n_users} users x {n_items} items, {self.plays.nnz} nonzero "
            f"play counts, from {self.source})"
        )


@dataclass(repr=False)
class LastfmHetrec2011(PlayData):
    """HetRec 2011 Last.fm: user x artist play counts plus artist x tag counts.

    Attributes (beyond :class:`PlayData`)
    -------------------------------------
    tags : scipy.sparse.csr_matrix, int32, shape (n_artists, n_tags)
        How many tag assignments (user, artist, tag) put each tag on each artist.
    tag_names : list of str
        Column t of ``tags`` is ``tag_names[t]``.
    tag_ids : numpy.ndarray
        The raw ``tagID`` of each column.
    """

    tags: sp.csr_matrix
    tag_names: list[str]
    tag_ids: np.ndarray


# --------------------------------------------------------------------------------------------
# HetRec 2011 Last.fm 2k
# --------------------------------------------------------------------------------------------
_HETREC_HEADERS = {
    "user_artists.dat": ["userID", "artistID", "weight"],
    "artists.dat": ["id", "name", "url", "pictureURL"],
    "tags.dat": ["tagID", "tagValue"],
    "user_taggedartists.dat": ["userID", "artistID", "tagID", "day", "month", "year"],
}


def load_lastfm_hetrec2011(
    path: PathLike | None = None, *, duplicates: Literal["error", "sum"] = "error"
) -> LastfmHetrec2011:
    """Load the HetRec 2011 Last.fm 2k data set (Cantador, Brusilovsky & Kuflik 2011).

    Parameters
    ----------
    path : path-like, optional
        ``hetrec2011-lastfm-2k.zip`` or the folder extracted from it. ``None`` downloads the
        registered archive (checksum-verified) into :func:`data_dir`.
    duplicates : {"error", "sum"}
        What to do with repeated (userID, artistID) rows of ``user_artists.dat``. The
        original file has none, so the default raises and names both lines.

    Returns
    -------
    LastfmHetrec2011
        ``plays`` (users x artists csr int32, the ``weight`` column = listening counts),
        ``users`` (``user_id``), ``items`` (``artist_id``, ``name``, ``url``; rows sorted by
        artist id), ``tags`` (artists x tags csr int32) and ``tag_names``. Artists of
        ``user_artists.dat`` missing from ``artists.dat`` keep an empty name; tag assignments
        to artists nobody listened to, or to unknown tags, are dropped and counted in ``info``.
    """
    _check_choice("duplicates", duplicates, ("error", "sum"))
    source = Path(path) if path is not None else fetch("lastfm_hetrec2011")
    members = _resolve(source, list(_HETREC_HEADERS), "HetRec 2011 Last.fm")
    frames = {}
    for name, header in _HETREC_HEADERS.items():
        member = members[name]
        encoding = _sniff_encoding(member)
        frames[name] = (member.label, *_read_all(member, header, header=header, encoding=encoding))

    label, lines, plays = frames["user_artists.dat"]
    user_raw = _integers(plays["userID"], lines, label, "userID", minimum=0, what="id")
    artist_raw = _integers(plays["artistID"], lines, label, "artistID", minimum=0, what="id")
    weight = _integers(plays["weight"], lines, label, "weight", minimum=1, what="play count")

    a_label, a_lines, artists = frames["artists.dat"]
    artist_ids = _integers(artists["id"], a_lines, a_label, "id", minimum=0, what="id")
    _unique_ids(artist_ids, a_lines, a_label, "id")

    t_label, t_lines, tags = frames["tags.dat"]
    tag_ids = _integers(tags["tagID"], t_lines, t_label, "tagID", minimum=0, what="id")
    _unique_ids(tag_ids, t_lines, t_label, "tagID")

    user_ids = np.unique(user_raw)
    item_ids = np.union1d(artist_ids, artist_raw)
    users = np.searchsorted(user_ids, user_raw)
    items = np.searchsorted(item_ids, artist_raw)
    matrix = _build_plays(
        users,
        items,
        weight,
        lines,
        (len(user_ids), len(item_ids)),
        duplicates=duplicates,
        label=label,
        user_keys=user_ids,
        item_keys=item_ids,
    )

    meta = pd.DataFrame(
        {"name": artists["name"].to_numpy(), "url": artists["url"].to_numpy()}, index=artist_ids
    )
    items_frame = pd.DataFrame({"artist_id": item_ids})
    items_frame["name"] = meta["name"].reindex(item_ids).fillna("").to_numpy()
    items_frame["url"] = meta["url"].reindex(item_ids).fillna("").to_numpy()

    g_label, g_lines, tagged = frames["user_taggedartists.dat"]
    parsed = {
        column: _integers(
            tagged[column],
            g_lines,
            g_label,
            column,
            minimum=0,
            what="id" if column.endswith("ID") else "date field",
        )
        for column in _HETREC_HEADERS["user_taggedartists.dat"]
    }
    tagged_artist, tagged_tag = parsed["artistID"], parsed["tagID"]
    tag_order = np.argsort(tag_ids)
    tag_ids_sorted = tag_ids[tag_order]
    known_artist = np.isin(tagged_artist, item_ids)
    known_tag = np.isin(tagged_tag, tag_ids_sorted)
    ok = known_artist & known_tag
    tag_matrix = sp.coo_matrix(
        (
            np.ones(int(ok.sum()), dtype=np.int64),
            (
                np.searchsorted(item_ids, tagged_artist[ok]),
                np.searchsorted(tag_ids_sorted, tagged_tag[ok]),
            ),
        ),
        shape=(len(item_ids), len(tag_ids_sorted)),
    ).tocsr()
    tag_matrix.sum_duplicates()
    tag_matrix.data = tag_matrix.data.astype(np.int32)

    info = {
        "user_artist_lines": len(lines),
        "artists_without_metadata": int((~np.isin(item_ids, artist_ids)).sum()),
        "tag_assignments": len(g_lines),
        "tag_assignments_dropped_unknown_artist": int((~known_artist).sum()),
        "tag_assignments_dropped_unknown_tag": int((known_artist & ~known_tag).sum()),
    }
    return LastfmHetrec2011(
        plays=matrix,
        users=pd.DataFrame({"user_id": user_ids}),
        items=items_frame,
        user_index={int(u): k for k, u in enumerate(user_ids)},
        item_index={int(a): k for k, a in enumerate(item_ids)},
        info=info,
        source=str(source),
        tags=tag_matrix,
        tag_names=[str(t) for t in tags["tagValue"].to_numpy()[tag_order]],
        tag_ids=tag_ids_sorted,
    )


def _unique_ids(ids: np.ndarray, lines: np.ndarray, label: str, column: str) -> None:
    order = np.argsort(ids, kind="stable")
    repeat = np.flatnonzero(ids[order][1:] == ids[order][:-1])
    if repeat.size:
        second = order[repeat + 1]
        j = int(second[np.argmin(lines[second])])
        first = int(order[np.searchsorted(ids[order], ids[j])])
        _raise(
            label,
            int(lines[j]),
            column,
            f"the {column} {ids[j]} was already used on line {lines[first]}",
            str(ids[j]),
            "ids must be unique; delete the repeated line",
        )


# --------------------------------------------------------------------------------------------
# Last.fm 1K listening log
# --------------------------------------------------------------------------------------------
_LASTFM_1K_FILE = "userid-timestamp-artid-artname-traid-traname.tsv"
_LASTFM_1K_NAMES = [
    "user_id",
    "timestamp",
    "artist_mbid",
    "artist_name",
    "track_mbid",
    "track_name",
]


def load_lastfm_1k(
    path: PathLike | None = None,
    *,
    level: Literal["artist", "track"] = "artist",
    on_bad_lines: Literal["error", "skip"] = "error",
    max_lines: int | None = None,
) -> PlayData:
    """Aggregate the Last.fm 1K listening log (Celma 2010) into play counts.

    Each line of ``userid-timestamp-artid-artname-traid-traname.tsv`` is one listening event;
    the count of a (user, item) cell is the number of events, so repeated events are the
    signal, not duplicates.

    Parameters
    ----------
    path : path-like, optional
        ``lastfm-dataset-1K.tar.gz``, the extracted folder, or the ``.tsv`` itself. ``None``
        tries the registry, which holds no checksum for this archive and therefore refuses:
        download it yourself and pass it here.
    level : {"artist", "track"}
        Items are artists (keyed by artist *name*: a third of the artists have no MusicBrainz
        id) or tracks (keyed by artist name and track name).
    on_bad_lines : {"error", "skip"}
        Lines with the wrong number of fields or an empty user / artist / track name raise
        (default) or are skipped and counted in ``info["skipped_lines"]``.
    max_lines : int, optional
        Read only the first ``max_lines`` events (a quick look at a 19-million-line log).

    Returns
    -------
    PlayData
        ``plays`` users x items (csr int32, number of listening events), ``users``
        (``user_id``), ``items`` (``artist_name``, ``artist_mbid`` or ``artist_name``,
        ``track_name``, ``track_mbid``; sorted by key). The first non-empty MusicBrainz id seen
        for an item is kept.
    """
    _check_choice("level", level, ("artist", "track"))
    _check_choice("on_bad_lines", on_bad_lines, ("error", "skip"))
    _check_max_lines(max_lines)
    source = Path(path) if path is not None else fetch("lastfm_1k")
    member = _resolve(source, [_LASTFM_1K_FILE], "Last.fm 1K")[_LASTFM_1K_FILE]
    usecols = [0, 2, 3] if level == "artist" else [0, 3, 4, 5]
    mbid_column = "artist_mbid" if level == "artist" else "track_mbid"
    stats: dict[str, int] = {"skipped_lines": 0}
    user_vocab, item_vocab = _Vocab(), _Vocab()
    mbids: dict[int, str] = {}
    user_parts, item_parts = [], []
    n_events = 0
    required = ["user_id", "artist_name"] + (["track_name"] if level == "track" else [])
    blocks = _iter_tsv(
        member,
        _LASTFM_1K_NAMES,
        usecols=usecols,
        on_bad_lines=on_bad_lines,
        max_lines=max_lines,
        stats=stats,
    )
    for lines, frame in blocks:
        empty = np.zeros(len(frame), dtype=bool)
        for column in required:
            if on_bad_lines == "error":
                _nonempty(frame[column], lines, member.label, column, skip_hint=True)
            else:
                empty |= _empty_mask(frame[column])
        if empty.any():
            stats["skipped_lines"] += int(empty.sum())
            frame, lines = frame[~empty], lines[~empty]
        if level == "artist":
            codes = item_vocab.codes(frame["artist_name"])
        else:
            artist_codes, artist_names = pd.factorize(frame["artist_name"])
            track_codes, track_names = pd.factorize(frame["track_name"])
            n_tracks = max(len(track_names), 1)
            pairs = artist_codes.astype(np.int64) * n_tracks + track_codes
            local, unique_pairs = pd.factorize(pairs)
            artist_names = artist_names.to_numpy(dtype=object)
            track_names = track_names.to_numpy(dtype=object)
            keys = [
                f"{artist_names[p // n_tracks]}\t{track_names[p % n_tracks]}" for p in unique_pairs
            ]
            codes = item_vocab.lookup(keys)[local]
        user_parts.append(user_vocab.codes(frame["user_id"]).astype(np.int32))
        item_parts.append(codes.astype(np.int32))
        n_events += len(frame)
        mbid = frame[mbid_column]
        with_mbid = ~_empty_mask(mbid)
        if with_mbid.any():
            first_codes, first_rows = np.unique(codes[with_mbid], return_index=True)
            values = mbid.to_numpy(dtype=object)[with_mbid][first_rows]
            for code, value in zip(first_codes, values, strict=True):
                mbids.setdefault(int(code), str(value))
    if n_events == 0:
        raise ValueError(
            f"{member.label}: no listening events were read. Fix: pass the complete log"
        )
    user_keys, user_remap = user_vocab.sorted()
    item_keys, item_remap = item_vocab.sorted()
    users = user_remap[np.concatenate(user_parts)]
    items = item_remap[np.concatenate(item_parts)]
    matrix = sp.coo_matrix(
        (np.ones(len(users), dtype=np.int64), (users, items)),
        shape=(len(user_keys), len(item_keys)),
    ).tocsr()
    matrix.sum_duplicates()
    matrix.data = matrix.data.astype(np.int32)
    old_of_new = np.argsort(item_remap)
    mbid_column_values = [mbids.get(int(old), "") for old in old_of_new]
    if level == "artist":
        items_frame = pd.DataFrame({"artist_name": item_keys, "artist_mbid": mbid_column_values})
    else:
        split = [str(k).split("\t", 1) for k in item_keys]
        items_frame = pd.DataFrame(
            {
                "artist_name": [s[0] for s in split],
                "track_name": [s[1] for s in split],
                "track_mbid": mbid_column_values,
            }
        )
    item_index = {str(k): i for i, k in enumerate(item_keys)}
    if level == "track":
        item_index = {tuple(str(k).split("\t", 1)): i for i, k in enumerate(item_keys)}
    return PlayData(
        plays=matrix,
        users=pd.DataFrame({"user_id": user_keys.astype(str)}),
        items=items_frame,
        user_index={str(u): k for k, u in enumerate(user_keys)},
        item_index=item_index,
        info={"events": n_events, "skipped_lines": stats["skipped_lines"]},
        source=str(source),
    )


# --------------------------------------------------------------------------------------------
# Million Song Dataset: Echo Nest taste profile
# --------------------------------------------------------------------------------------------
_TASTE_FILE = "train_triplets.txt"


def load_msd_taste_profile(
    path: PathLike | None = None,
    *,
    duplicates: Literal["error", "sum"] = "error",
    max_lines: int | None = None,
) -> PlayData:
    """Load the Echo Nest taste profile of the Million Song Dataset (Bertin-Mahieux et al. 2011).

    Parameters
    ----------
    path : path-like, optional
        ``train_triplets.txt.zip``, its extracted folder or ``train_triplets.txt`` (lines
        ``user<TAB>song<TAB>count``, no header). ``None`` tries the registry, which holds no
        checksum for this archive and therefore refuses: download it and pass it here.
    duplicates : {"error", "sum"}
        Repeated (user, song) lines raise (default, naming both lines) or are summed.
    max_lines : int, optional
        Read only the first ``max_lines`` triplets (the full file has about 48 million).

    Returns
    -------
    PlayData
        ``plays`` users x songs (csr int32), ``users`` (``user_id``: 40-hex-digit strings),
        ``items`` (``song_id``: Echo Nest ``SO...`` ids), both sorted.
    """
    _check_choice("duplicates", duplicates, ("error", "sum"))
    _check_max_lines(max_lines)
    source = Path(path) if path is not None else fetch("msd_taste_profile")
    member = _resolve(source, [_TASTE_FILE], "MSD taste profile")[_TASTE_FILE]
    user_vocab, item_vocab = _Vocab(), _Vocab()
    parts: list[tuple[np.ndarray, ...]] = []
    dtype = {"count": "int64"}
    blocks = _iter_tsv(member, ["user_id", "song_id", "count"], max_lines=max_lines, dtype=dtype)
    for lines, frame in blocks:
        _nonempty(frame["user_id"], lines, member.label, "user_id")
        _nonempty(frame["song_id"], lines, member.label, "song_id")
        counts = _integers(
            frame["count"], lines, member.label, "count", minimum=1, what="play count"
        )
        parts.append(
            (
                user_vocab.codes(frame["user_id"]).astype(np.int32),
                item_vocab.codes(frame["song_id"]).astype(np.int32),
                counts.astype(np.int32),
                lines.astype(np.int64),
            )
        )
    if not parts:
        raise ValueError(f"{member.label}: the file has no data lines. Fix: pass the complete file")
    user_keys, user_remap = user_vocab.sorted()
    item_keys, item_remap = item_vocab.sorted()
    users = user_remap[np.concatenate([p[0] for p in parts])]
    items = item_remap[np.concatenate([p[1] for p in parts])]
    counts = np.concatenate([p[2] for p in parts])
    lines = np.concatenate([p[3] for p in parts])
    matrix = _build_plays(
        users,
        items,
        counts,
        lines,
        (len(user_keys), len(item_keys)),
        duplicates=duplicates,
        label=member.label,
        user_keys=user_keys,
        item_keys=item_keys,
    )
    return PlayData(
        plays=matrix,
        users=pd.DataFrame({"user_id": user_keys.astype(str)}),
        items=pd.DataFrame({"song_id": item_keys.astype(str)}),
        user_index={str(u): k for k, u in enumerate(user_keys)},
        item_index={str(s): k for k, s in enumerate(item_keys)},
        info={"triplets": len(counts), "duplicate_rows_summed": len(counts) - matrix.nnz},
        source=str(source),
    )


# --------------------------------------------------------------------------------------------
# FMA: metadata and audio
# --------------------------------------------------------------------------------------------
_FMA_FIELDS = {
    ("track", "genre_top"): "genre_top",
    ("artist", "name"): "artist",
    ("track", "title"): "title",
    ("track", "duration"): "duration",
    ("set", "split"): "split",
    ("set", "subset"): "subset",
}
_FMA_SUBSETS = ("small", "medium", "large", "full")
_FMA_SPLITS = ("training", "validation", "test")


@dataclass(repr=False)
class FMA:
    """FMA metadata of one subset, and its audio on demand (Defferrard et al. 2017).

    Attributes
    ----------
    tracks : pandas.DataFrame
        One row per track: ``track_id`` (int), ``genre_top`` (str or missing), ``artist``,
        ``title``, ``duration`` (seconds of the *full* track; clips are 30 s), ``split``
        (training / validation / test, the official split), ``subset`` (the smallest subset
        that holds the track).
    genre_names : list of str
        The top-level genres present, sorted.
    subset : str
        The subset that was selected.
    source : str
        Where the metadata were read from.
    audio_path : pathlib.Path or None
        ``fma_<subset>.zip`` or its extracted folder; ``None`` downloads ``fma_small.zip``
        (checksum-verified) on the first call to :meth:`audio`.
    """

    tracks: pd.DataFrame
    genre_names: list[str]
    subset: str
    source: str
    audio_path: Path | None = None
    _zip_index: dict[str, str] | None = field(default=None, init=False)

    def __repr__(self) -> str:
        n_tracks, n_genres = len(self.tracks), len(self.genre_names)
        return f"FMA(subset={self.subset!r}, {n_tracks} tracks, {n_genres} genres)"

    def audio_file(self, track_id: int) -> str:
        """Where the clip of ``track_id`` lives (``<audio>/000/000002.mp3`` layout)."""
        self._check_track(track_id)
        root = self._audio_root()
        tid = f"{int(track_id):06d}"
        if root.is_dir():
            for base in (root, root / f"fma_{self.subset}"):
                candidate = base / tid[:3] / f"{tid}.mp3"
                if candidate.is_file():
                    return str(candidate)
            raise FileNotFoundError(
                f"{root / tid[:3] / (tid + '.mp3')} not found: pass audio_path= the folder "
                f"extracted from fma_{self.subset}.zip (it holds 000/, 001/, ... folders)"
            )
        index = self._zip_entries(root)
        if tid not in index:
            raise FileNotFoundError(
                f"{root} holds no {tid[:3]}/{tid}.mp3: is it fma_{self.subset}.zip?"
            )
        return f"{root}::{index[tid]}"

    def audio(
        self,
        track_id: int,
        sr: int | None = 22050,
        offset: float = 0.0,
        duration: float | None = None,
    ) -> np.ndarray:
        """Decode one clip with librosa: mono float32, resampled to ``sr`` Hz.

        Parameters
        ----------
        track_id : int
            A ``track_id`` of :attr:`tracks`.
        sr : int or None
            Target sample rate (``None`` keeps the file's own rate, usually 44.1 kHz).
        offset, duration : float
            Seconds to skip, seconds to read (``None``: to the end).
        """
        if sr is not None and (not isinstance(sr, (int, np.integer)) or sr <= 0):
            raise ValueError(f"sr must be a positive integer (Hz) or None, got {sr!r}")
        import librosa

        where = self.audio_file(track_id)
        if "::" in where:
            archive, member = where.split("::", 1)
            with _archive_guard(Path(archive)), zipfile.ZipFile(archive) as zf:
                source: Any = io.BytesIO(zf.read(member))
        else:
            source = where
        try:
            with warnings.catch_warnings():
                # librosa announces its fallback from soundfile to audioread; a failure of both
                # is reported below, a success needs no warning
                warnings.filterwarnings("ignore", message="PySoundFile failed")
                warnings.filterwarnings("ignore", category=FutureWarning, module="librosa")
                y, _ = librosa.load(source, sr=sr, mono=True, offset=offset, duration=duration)
        except Exception as err:  # decoders raise many types (LibsndfileError, NoBackendError, ...)
            raise ValueError(_fma_decode_message(where, f"{type(err).__name__}: {err}")) from err
        if y.size == 0:
            raise ValueError(_fma_decode_message(where, "it decoded to zero samples"))
        return y.astype(np.float32, copy=False)

    def _check_track(self, track_id: int) -> None:
        if not np.isin(int(track_id), self.tracks["track_id"].to_numpy()):
            raise ValueError(
                f"track_id {track_id} is not in the {self.subset!r} subset; pick one from "
                "fma.tracks['track_id'] (or load a larger subset)"
            )

    def _audio_root(self) -> Path:
        if self.audio_path is None:
            if self.subset != "small":
                raise ValueError(
                    "only fma_small.zip is in the registry: pass audio_path= to "
                    f"fma_{self.subset}.zip or its extracted folder"
                )
            self.audio_path = fetch("fma_small")
        root = Path(self.audio_path).expanduser()
        if not root.exists():
            raise FileNotFoundError(f"audio_path {root} does not exist")
        return root

    def _zip_entries(self, archive: Path) -> dict[str, str]:
        if self._zip_index is None:
            with _archive_guard(archive), zipfile.ZipFile(archive) as zf:
                names = zf.namelist()
            self._zip_index = {n.rsplit("/", 1)[-1][:-4]: n for n in names if n.endswith(".mp3")}
        return self._zip_index


def _fma_decode_message(where: str, why: str) -> str:
    return (
        f"could not decode {where} ({why}). A few FMA clips are known to be empty or cut short "
        "(e.g. fma_small 099134, 108925 and 133297 hold no audio: mdeff/fma issues #8 and #41). "
        "Fix: skip this track; if every track fails, install an MP3-capable backend "
        "(soundfile >= 0.12 with libsndfile >= 1.1, or ffmpeg for audioread)"
    )


def load_fma(
    path: PathLike | None = None,
    subset: Literal["small", "medium", "large", "full"] = "small",
    *,
    audio_path: PathLike | None = None,
) -> FMA:
    """Load FMA track metadata (``tracks.csv``) for one subset; audio comes on demand.

    Parameters
    ----------
    path : path-like, optional
        ``fma_metadata.zip``, the extracted ``fma_metadata`` folder, or ``tracks.csv`` itself.
        ``None`` downloads the registered ``fma_metadata.zip`` (SHA-1 published by the FMA
        authors) into :func:`data_dir`.
    subset : {"small", "medium", "large", "full"}
        ``small`` has 8,000 clips in 8 balanced genres; subsets are nested
        (small in medium in large; "full" has the same tracks as "large", untrimmed).
    audio_path : path-like, optional
        ``fma_<subset>.zip`` or its extracted folder, read by :meth:`FMA.audio`.

    Returns
    -------
    FMA
        ``tracks`` (track_id, genre_top, artist, title, duration, split, subset),
        ``genre_names`` and :meth:`FMA.audio` (librosa, resampled to a given rate).
    """
    _check_choice("subset", subset, _FMA_SUBSETS)
    source = Path(path) if path is not None else fetch("fma_metadata")
    member = _resolve(source, ["tracks.csv"], "FMA metadata")["tracks.csv"]
    tracks = _read_fma_tracks(member)
    keep = {"small": ("small",), "medium": ("small", "medium")}.get(
        subset, ("small", "medium", "large")
    )
    tracks = tracks[tracks["subset"].isin(keep)].reset_index(drop=True)
    genres = sorted(str(g) for g in tracks["genre_top"].dropna().unique())
    return FMA(
        tracks=tracks,
        genre_names=genres,
        subset=subset,
        source=str(source),
        audio_path=Path(audio_path) if audio_path is not None else None,
    )


@contextlib.contextmanager
def _csv_field_limit(limit: int) -> Iterator[None]:
    """Let csv read long text fields (FMA's biographies) and restore the global limit after."""
    previous = csv.field_size_limit()
    csv.field_size_limit(max(previous, limit))
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _read_fma_tracks(member: _Member) -> pd.DataFrame:
    label = member.label
    with (
        _csv_field_limit(1 << 26),
        member.open() as raw,
        io.TextIOWrapper(raw, encoding="utf-8", newline="") as text,
    ):
        reader = csv.reader(text)
        try:
            top, sub, third = next(reader), next(reader), next(reader)
        except StopIteration:
            raise ValueError(
                f"{label}: fewer than 3 header lines; FMA's tracks.csv has a 3-line header "
                "(level 1, level 2, 'track_id'). Fix: pass fma_metadata/tracks.csv"
            ) from None
        except UnicodeDecodeError as err:
            raise ValueError(
                f"{label}: not UTF-8 text ({err.reason}). Fix: pass the original tracks.csv"
            ) from err
        if len(top) != len(sub) or not third or third[0] != "track_id":
            raise ValueError(
                f"{label}, lines 1-3: not FMA's 3-line tracks.csv header (line 3 must start with "
                f"'track_id', found {third[:1]}). Fix: pass fma_metadata/tracks.csv "
                "(raw_tracks.csv has a one-line header)"
            )
        columns = list(zip(top, sub, strict=True))
        missing = [f"{a}/{b}" for a, b in _FMA_FIELDS if (a, b) not in columns]
        if missing:
            raise ValueError(
                f"{label}, lines 1-2: the header lacks {', '.join(missing)}. Fix: pass the "
                "tracks.csv of fma_metadata.zip (2017 release or later)"
            )
        where = [columns.index(key) for key in _FMA_FIELDS]
        n_columns = len(columns)
        rows: list[list[str]] = []
        lines: list[int] = []
        start = reader.line_num + 1
        try:
            for row in reader:
                if len(row) != n_columns:
                    raise ValueError(
                        f"{label}, line {start}: expected {n_columns} comma-separated fields, "
                        f"found {len(row)}. Fix: the file is truncated or edited; extract it again "
                        "from fma_metadata.zip"
                    )
                rows.append([row[0]] + [row[k] for k in where])
                lines.append(start)
                start = reader.line_num + 1
        except csv.Error as err:
            raise ValueError(
                f"{label}, line {start}: {err}. Fix: extract tracks.csv again"
            ) from err
        except UnicodeDecodeError as err:
            raise ValueError(f"{label}, near line {start}: not UTF-8 ({err.reason})") from err
    if not rows:
        raise ValueError(f"{label}: no tracks after the header. Fix: pass the complete tracks.csv")
    frame = pd.DataFrame(rows, columns=["track_id", *_FMA_FIELDS.values()])
    line_numbers = np.asarray(lines)
    track_ids = _integers(frame["track_id"], line_numbers, label, "track_id", minimum=0, what="id")
    _unique_ids(track_ids, line_numbers, label, "track_id")
    duration = pd.to_numeric(frame["duration"], errors="coerce").to_numpy(dtype=np.float64)
    bad = (frame["duration"].str.strip() != "").to_numpy() & ~(duration >= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        _raise(
            label,
            int(line_numbers[i]),
            "track/duration",
            "the duration is not a number of seconds >= 0",
            frame["duration"].iloc[i],
            "write the duration in seconds",
        )
    for column, allowed in (("subset", ("small", "medium", "large")), ("split", _FMA_SPLITS)):
        bad = ~frame[column].isin(allowed).to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            _raise(
                label,
                int(line_numbers[i]),
                f"set/{column}",
                f"the {column} must be one of {list(allowed)}",
                frame[column].iloc[i],
                "pass the original tracks.csv",
            )
    out = pd.DataFrame(
        {
            "track_id": track_ids,
            "genre_top": frame["genre_top"].replace("", np.nan),
            "artist": frame["artist"],
            "title": frame["title"],
            "duration": duration,
            "split": frame["split"],
            "subset": frame["subset"],
        }
    )
    return out
