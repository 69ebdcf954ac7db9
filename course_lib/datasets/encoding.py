"""Deciding the text encoding of one data file from evidence in its bytes (HetRec 2011).

Part of :mod:`course_lib.datasets`. No chapter teaches it: the data cards in ``datasets/`` use the
loaders (the chapters run on the synthetic music world, :mod:`course_lib.music_world`).

The rule, per file, looking only at lines that are not plain ASCII:

- every such line decodes as UTF-8: the file is **UTF-8**;
- none does, or lines that do not decode outnumber those that do more than 20 to 1: the file is
  **Latin-1** (in Latin-1 text a valid UTF-8 multi-byte sequence is a rare coincidence), and
  every byte means its Latin-1 character;
- otherwise the file is **UTF-8 with damaged lines**: it is read as UTF-8 (the good lines are
  never re-decoded as Latin-1) and the damaged lines are an error that names them, or, with
  ``encoding_errors="replace"``, their bad bytes become U+FFFD and a warning names the lines.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

from .archives import Member
from .fields import quoted, require_not_utf16

__all__ = ["FileEncoding", "detect_encoding", "require_clean"]

#: Undecodable lines may outnumber UTF-8 lines this many times before a file counts as Latin-1.
LATIN1_RATIO = 20
_LISTED = 5


@dataclass(frozen=True)
class FileEncoding:
    """What :func:`detect_encoding` found.

    ``damaged`` lists ``(line, column, byte, text)`` of the lines of a UTF-8 file that do not
    decode (line and column 1-based; ``text`` decoded with U+FFFD, for the message);
    ``utf8_lines`` counts the non-ASCII lines that do.
    """

    encoding: Literal["utf-8", "latin-1"]
    utf8_lines: int
    damaged: tuple[tuple[int, int, int, str], ...] = ()


def detect_encoding(member: Member) -> FileEncoding:
    """Apply the rule of this module to the whole file (read into memory: HetRec's are small)."""
    with member.open() as handle:
        raw = handle.read()
    require_not_utf16(raw[:4096], member.label, "UTF-8 or Latin-1")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return FileEncoding("utf-8", sum(not line.isascii() for line in raw.splitlines()))
    good, bad = 0, []
    # bytes.splitlines splits on \n, \r\n and a lone \r, so old-Mac files count lines right
    for number, line in enumerate(raw.splitlines(), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            good += 1
        except UnicodeDecodeError as err:
            text = line.decode("utf-8", errors="replace")
            bad.append((number, err.start + 1, line[err.start], text))
    if good == 0 or len(bad) > LATIN1_RATIO * good:
        return FileEncoding("latin-1", good)
    return FileEncoding("utf-8", good, tuple(bad))


def require_clean(
    found: FileEncoding, label: str, errors: Literal["error", "replace"]
) -> Literal["strict", "replace"]:
    """Raise for the damaged lines of a UTF-8 file, or warn and replace; return the pandas
    ``encoding_errors`` to read the file with."""
    if not found.damaged:
        return "strict"
    line, column, byte, text = found.damaged[0]
    lines = ", ".join(str(d[0]) for d in found.damaged[:_LISTED])
    more = f" and {len(found.damaged) - _LISTED} more" if len(found.damaged) > _LISTED else ""
    evidence = (
        f"{found.utf8_lines} other lines with non-ASCII text decode as UTF-8, so the file is "
        "read as UTF-8"
    )
    if errors == "error":
        raise ValueError(
            f"{label}, line {line}: byte 0x{byte:02x} at column {column} is not valid UTF-8 "
            f"({quoted(text)}); {evidence}, not re-decoded as Latin-1. Damaged lines: {lines}"
            f"{more}. Fix: extract the file again from the original archive, or pass "
            "encoding_errors='replace' to read those bytes as U+FFFD (with a warning)"
        )
    warnings.warn(
        f"{label}: lines {lines}{more} hold bytes that are not valid UTF-8 (first: byte "
        f"0x{byte:02x} on line {line}, {quoted(text)}); {evidence} and those bytes became "
        "U+FFFD ('\ufffd'). Fix: extract the file again from the original archive",
        UnicodeWarning,
        stacklevel=3,
    )
    return "replace"
