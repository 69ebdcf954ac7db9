"""Strict tab-separated parsing in blocks, with exact line numbers in every error.

Part of :mod:`course_lib.datasets`. No chapter teaches it: the data cards in ``datasets/`` use the
loaders (the chapters run on the synthetic music world, :mod:`course_lib.music_world`).

Line endings may be ``\\n``, ``\\r\\n`` or old-Mac ``\\r`` (recognised from the first line
ending and read as such). Refused, with the file, the line and the fix: a wrong header, a line
with the wrong number of fields, an empty line before the end, a line longer than 64 MiB (not a
text file of the data set), bytes that are not valid in the file's encoding, a UTF-16 file
(called so), a carriage return inside a line (its line named), an empty file. Content quoted in
a message is cut to 100 characters.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from typing import Protocol

import numpy as np
import pandas as pd

from .archives import Member
from .fields import quoted, require_not_utf16, shorten

__all__ = ["iter_tsv", "read_all"]

_BLOCK_BYTES = 1 << 24
_MAX_LINE_BYTES = 1 << 26


class _Check(Protocol):
    def update(self, data: bytes) -> None: ...
    def finish(self) -> None: ...


def _line_ending(data: bytes) -> bytes | None:
    """b"\\n" (LF or CRLF), b"\\r" (old Mac), or None when ``data`` cannot tell yet."""
    if b"\n" in data:
        return b"\n"
    cr = data.find(b"\r")
    return b"\r" if 0 <= cr < len(data) - 1 else None


def _lines_of(block: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start and end offsets of each line of a block, and whether it is blank."""
    buf = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(buf == 10)
    if buf[-1] != 10:
        ends = np.append(ends, len(buf))
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts
    has_cr = (lengths > 0) & (buf[np.maximum(ends - 1, 0)] == 13)
    return starts, ends, (lengths - has_cr) == 0


def _text(block: bytes, start: int, end: int, encoding: str) -> str:
    return block[start:end].decode(encoding, errors="replace").rstrip("\r")


def iter_tsv(
    member: Member,
    names: Sequence[str],
    *,
    header: Sequence[str] | None = None,
    usecols: Sequence[int] | None = None,
    encoding: str = "utf-8",
    encoding_errors: str = "strict",
    on_bad_lines: str = "error",
    max_lines: int | None = None,
    block_bytes: int | None = None,
    stats: dict[str, int] | None = None,
    dtype: dict[str, str] | None = None,
    check: _Check | None = None,
) -> Iterator[tuple[np.ndarray, pd.DataFrame]]:
    """Yield (line numbers, DataFrame) blocks of a tab-separated file.

    Every line must have exactly ``len(names)`` fields; empty lines are allowed only at the end.
    Fields are strings (no quoting, no NaN guessing, no type inference: "0012" stays "0012")
    unless ``dtype`` asks for "int64" for a column; that is tried first and a block that does not
    parse is re-read as strings so that the caller can find and report the bad line. With
    ``on_bad_lines="skip"``, lines with the wrong number of fields or undecodable bytes are
    dropped and counted in ``stats["skipped_lines"]``. ``check`` sees every raw byte and is
    finished at the end of the file (not when ``max_lines`` stops the reading early).
    """
    label, n_fields = member.label, len(names)
    consumed = kept_total = n_bytes = 0
    pending_blank: int | None = None
    ending: bytes | None = None
    with member.open() as handle:
        carry, done = b"", False
        while not done:
            chunk = handle.read(block_bytes or _BLOCK_BYTES)
            if n_bytes == 0:
                require_not_utf16(chunk, label, "UTF-8" if encoding == "utf-8" else encoding)
            n_bytes += len(chunk)
            if check is not None:
                check.update(chunk)
            data = carry + chunk
            if ending is None and chunk:
                ending = _line_ending(data)
            if ending == b"\r":  # old-Mac line endings: read them as \n
                data = data.replace(b"\r", b"\n")
            if chunk:
                cut = data.rfind(b"\n") if ending is not None else -1
                if cut < 0:
                    if len(data) > _MAX_LINE_BYTES:
                        raise ValueError(
                            f"{label}, line {consumed + 1}: more than {_MAX_LINE_BYTES >> 20} MiB "
                            f"without a line break ({quoted(data[:200].decode('latin-1'))}). "
                            "Fix: pass the data set's original text file (is this a binary file?)"
                        )
                    carry = data
                    continue
                block, carry = data[: cut + 1], data[cut + 1 :]
            else:
                block, carry, done = data, b"", True
                if check is not None:
                    check.finish()
                if n_bytes == 0:
                    raise ValueError(
                        f"{label}: the file is empty (0 bytes). Fix: extract it again from the "
                        "archive, or download the archive again"
                    )
                if not block:
                    break
            if header is not None and consumed == 0:
                newline = block.find(b"\n")
                first = block[: newline if newline >= 0 else len(block)]
                found = first.decode(encoding, errors="replace").rstrip("\r").split("\t")
                if found != list(header):
                    raise ValueError(
                        f"{label}, line 1: expected the header {chr(9).join(header)!r}, found "
                        f"{quoted(chr(9).join(found))}. Fix: pass the original file (is this the "
                        "right file of the data set?)"
                    )
                block = block[newline + 1 :] if newline >= 0 else b""
                consumed = 1
            if not block:
                continue
            starts, ends, blank = _lines_of(block)
            lines = consumed + 1 + np.arange(len(starts))
            if max_lines is not None:
                # stop after the line that completes max_lines non-empty lines
                nonblank = np.flatnonzero(~blank)
                remaining = max_lines - kept_total
                if nonblank.size >= remaining:
                    stop = int(nonblank[remaining - 1]) + 1
                    starts, ends, blank, lines = (
                        starts[:stop],
                        ends[:stop],
                        blank[:stop],
                        lines[:stop],
                    )
                    block = block[: ends[-1] + 1]
                    done = True
            consumed += len(starts)
            pending_blank = _check_blank_lines(label, blank, lines, pending_blank)
            tabs = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 9)
            n_tabs = np.searchsorted(tabs, ends) - np.searchsorted(tabs, starts)
            bad = ~blank & (n_tabs != n_fields - 1)
            skip_hint = stats is not None
            if bad.any() and on_bad_lines == "error":
                i = int(np.flatnonzero(bad)[0])
                text = quoted(_text(block, starts[i], ends[i], encoding))
                raise _bad_line(
                    label,
                    int(lines[i]),
                    f"expected {n_fields} tab-separated fields ({', '.join(names)}), found "
                    f"{n_tabs[i] + 1}: {text}",
                    "repair or delete this line (is the file truncated or from another data set?)",
                    skip_hint,
                )
            if encoding_errors == "strict":
                undecodable = ~blank & ~bad & _undecodable(block, starts, ends, encoding)
                if undecodable.any() and on_bad_lines == "error":
                    i = int(np.flatnonzero(undecodable)[0])
                    text = quoted(_text(block, starts[i], ends[i], encoding))
                    raise _bad_line(
                        label,
                        int(lines[i]),
                        f"bytes that are not valid {encoding} ({text})",
                        f"re-encode the file as {encoding} (or pass the original, unmodified file)",
                        skip_hint,
                    )
                bad |= undecodable
            if stats is not None:
                stats["skipped_lines"] = stats.get("skipped_lines", 0) + int(bad.sum())
            keep = np.flatnonzero(~blank & ~bad)
            kept_total += int((~blank).sum())
            if not keep.size:
                continue
            if keep.size != len(starts):
                block = b"".join(block[starts[k] : ends[k]] + b"\n" for k in keep)
            frame = _parse_block(block, names, usecols, encoding, encoding_errors, dtype)
            if len(frame) != keep.size:
                raise _unsplit(label, block, lines[keep], encoding)
            yield lines[keep], frame


def _unsplit(label: str, block: bytes, lines: np.ndarray, encoding: str) -> ValueError:
    """The error for a block that pandas split into more rows than it has lines: name the
    first line with a carriage return that does not end it (pandas reads it as a line end)."""
    starts, ends, _ = _lines_of(block)
    returns = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 13)
    owner = np.searchsorted(ends, returns)
    lone = returns[returns != ends[np.minimum(owner, len(ends) - 1)] - 1]
    if not lone.size:
        return ValueError(
            f"{label}, lines {lines[0]}-{lines[-1]}: could not split the lines into rows. Fix: "
            "pass the data set's original file"
        )
    k = int(np.searchsorted(ends, lone[0]))
    text = quoted(_text(block, starts[k], ends[k], encoding))
    return ValueError(
        f"{label}, line {lines[k]}: a carriage return (\\r) inside the line, which would split "
        f"it into two rows ({text}). Fix: delete the stray \\r (or convert the file to plain "
        "'\\n' line endings, e.g. with dos2unix)"
    )


def _check_blank_lines(
    label: str, blank: np.ndarray, lines: np.ndarray, pending: int | None
) -> int | None:
    """Raise at an empty line followed by data; return the first trailing empty line seen."""
    nonblank = np.flatnonzero(~blank)
    if not nonblank.size:
        return pending if pending is not None else int(lines[0])
    if pending is not None:
        raise _empty_line(label, pending)
    interior = np.flatnonzero(blank[: nonblank[-1]])
    if interior.size:
        raise _empty_line(label, int(lines[interior[0]]))
    tail = np.flatnonzero(blank[nonblank[-1] + 1 :])
    return int(lines[nonblank[-1] + 1 + tail[0]]) if tail.size else None


def _undecodable(block: bytes, starts: np.ndarray, ends: np.ndarray, encoding: str) -> np.ndarray:
    """True for each line that does not decode (only the slow path looks line by line)."""
    flags = np.zeros(len(starts), dtype=bool)
    try:
        block.decode(encoding)
        return flags
    except UnicodeDecodeError:
        pass
    for k, (start, end) in enumerate(zip(starts, ends, strict=True)):
        try:
            block[start:end].decode(encoding)
        except UnicodeDecodeError:
            flags[k] = True
    return flags


def _parse_block(
    block: bytes,
    names: Sequence[str],
    usecols: Sequence[int] | None,
    encoding: str,
    encoding_errors: str,
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
        encoding_errors=encoding_errors,
        engine="c",
    )
    try:
        return pd.read_csv(io.BytesIO(block), dtype=wanted, **options)
    except (ValueError, OverflowError):
        if not any(kind.startswith("int") for kind in wanted.values()):
            raise
    # an integer column did not parse: read it as text so the caller reports the bad line
    as_text = {k: ("str" if v.startswith("int") else v) for k, v in wanted.items()}
    return pd.read_csv(io.BytesIO(block), dtype=as_text, **options)


def _bad_line(label: str, line: int, problem: str, fix: str, skip_hint: bool) -> ValueError:
    hint = "; or pass on_bad_lines='skip'" if skip_hint else ""
    return ValueError(f"{label}, line {line}: {problem}. Fix: {fix}{hint}")


def _empty_line(label: str, line: int) -> ValueError:
    return ValueError(
        f"{label}, line {line}: the line is empty. Fix: delete it (empty lines are allowed only "
        "at the end of the file)"
    )


def read_all(
    member: Member, names: Sequence[str], **kwargs: object
) -> tuple[np.ndarray, pd.DataFrame]:
    """All blocks of :func:`iter_tsv` at once; a file without data lines is an error."""
    parts = list(iter_tsv(member, names, **kwargs))  # type: ignore[arg-type]
    if not parts:
        raise ValueError(
            f"{shorten(member.label, 300)}: the file has no data lines. Fix: pass the complete file"
        )
    return np.concatenate([p[0] for p in parts]), pd.concat(
        [p[1] for p in parts], ignore_index=True
    )
