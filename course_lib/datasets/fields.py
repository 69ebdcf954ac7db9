"""Field checks of the real-data loaders: integers, empty fields, repeated keys, short messages.

Part of :mod:`course_lib.datasets`. No chapter teaches it: the data cards in ``datasets/`` use the
loaders (the chapters run on the synthetic music world, :mod:`course_lib.music_world`).

Every message names the file, the line, the column, the problem, what was found (cut to about
100 characters, so that a broken file never produces a wall of text) and the fix.
"""

from __future__ import annotations

from typing import Any, NoReturn

import numpy as np
import pandas as pd

__all__ = [
    "INT32_MAX",
    "QUOTE_LIMIT",
    "empty_mask",
    "field_error",
    "first_repeat",
    "integers",
    "nonempty",
    "quoted",
    "require_not_utf16",
    "scalar",
    "shorten",
    "unique_ids",
]

#: Longest piece of file content quoted in an error message.
QUOTE_LIMIT = 100
INT32_MAX = int(np.iinfo(np.int32).max)
_MISSING_WORDS = {"nan", "na", "n/a", "null", "none"}


def shorten(text: object, limit: int = QUOTE_LIMIT) -> str:
    """``str(text)``, cut to ``limit`` characters (ending in ``...`` when cut)."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def quoted(text: object, limit: int = QUOTE_LIMIT) -> str:
    """``repr(str(text))`` cut to ``limit`` characters: how file content is quoted in messages.

    Cut after ``repr``, so that escapes (a NUL byte prints as four characters, ``\\x00``)
    count against the limit; a cut ``repr`` ends in ``...`` and its closing quote.
    """
    text = repr(str(text))
    return text if len(text) <= limit else text[: limit - 4] + "..." + text[0]


def field_error(label: str, line: int, column: str, problem: str, text: str, fix: str) -> NoReturn:
    """Raise the loaders' standard ``ValueError`` for one bad field."""
    raise ValueError(
        f"{label}, line {line}, column {column!r}: {problem} (found {quoted(text)}). Fix: {fix}"
    )


def integers(
    values: pd.Series,
    lines: np.ndarray,
    label: str,
    column: str,
    *,
    minimum: int,
    what: str,
) -> np.ndarray:
    """Parse a text or integer column as int64 in ``[minimum, int32 max]``; raise at the first
    bad line (empty, NaN, not a number, not whole, infinite, negative, too small, too big)."""
    if pd.api.types.is_integer_dtype(values.dtype):
        ints = values.to_numpy(dtype=np.int64)
        bad = (ints < minimum) | (ints > INT32_MAX)
        if not bad.any():
            return ints
        num = ints.astype(np.float64)
    else:
        num = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(num) | (num != np.floor(num)) | (num < minimum) | (num > INT32_MAX)
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
        problem = f"the {what} is not an integer"
        fix = "write a whole number (counts are not ratings)"
    elif value < 0:
        problem, fix = f"the {what} is negative", f"{what}s must be >= {minimum}"
    elif value < minimum:
        problem = f"the {what} is {value:g}"
        fix = f"{what}s must be >= {minimum}; delete rows without plays"
    else:
        problem, fix = f"the {what} exceeds the int32 range", "check the file for a corrupt value"
    field_error(label, int(lines[i]), column, problem, text, fix)


def empty_mask(values: pd.Series) -> np.ndarray:
    """True where a text field is empty or blank."""
    return (values.str.strip() == "").to_numpy(dtype=bool)


def nonempty(
    values: pd.Series, lines: np.ndarray, label: str, column: str, *, skip_hint: bool = False
) -> None:
    """Raise at the first empty (or all-blank) field."""
    empty = empty_mask(values)
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        fix = "fill it in or delete the line" + (
            "; or pass on_bad_lines='skip'" if skip_hint else ""
        )
        field_error(label, int(lines[i]), column, f"the {column} is empty", values.iloc[i], fix)


def first_repeat(keys: np.ndarray, lines: np.ndarray) -> tuple[int, int] | None:
    """The earliest repeated key: (index of the repeat, index of its first occurrence), or None.

    ``keys`` is one integer key per row (or a 2-D array, one key per row); "earliest" is the
    repeat with the smallest line number, so the message points at the first bad line.
    """
    if keys.ndim == 2:
        keys = np.unique(keys, axis=0, return_inverse=True)[1].reshape(-1)
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    second = order[1:][ordered[1:] == ordered[:-1]]
    if not second.size:
        return None
    j = int(second[np.argmin(lines[second])])
    return j, int(order[np.searchsorted(ordered, keys[j])])


def unique_ids(ids: np.ndarray, lines: np.ndarray, label: str, column: str) -> None:
    """Raise if an id column repeats a value, naming both lines."""
    repeat = first_repeat(ids, lines)
    if repeat is not None:
        j, first = repeat
        field_error(
            label,
            int(lines[j]),
            column,
            f"the {column} {ids[j]} was already used on line {lines[first]}",
            str(ids[j]),
            "ids must be unique; delete the repeated line",
        )


def scalar(value: Any) -> Any:
    """A numpy scalar as a plain Python value (for readable messages)."""
    return value.item() if isinstance(value, np.generic) else value


def _utf16_kind(head: bytes) -> str | None:
    """ "UTF-16" / "UTF-32" (with its byte order) when the first bytes say so, else None."""
    for bom, kind in (
        (b"\xff\xfe\x00\x00", "UTF-32 (little-endian, with a byte-order mark)"),
        (b"\x00\x00\xfe\xff", "UTF-32 (big-endian, with a byte-order mark)"),
        (b"\xff\xfe", "UTF-16 (little-endian, with a byte-order mark)"),
        (b"\xfe\xff", "UTF-16 (big-endian, with a byte-order mark)"),
    ):
        if head.startswith(bom):
            return kind
    sample = head[: len(head) // 2 * 2][:512]
    if len(sample) < 8 or sample.count(0) < len(sample) // 3:
        return None
    odd, even = sample[1::2].count(0), sample[0::2].count(0)
    if odd > 0.8 * len(sample) // 2 and even == 0:
        return "UTF-16 (little-endian, without a byte-order mark)"
    if even > 0.8 * len(sample) // 2 and odd == 0:
        return "UTF-16 (big-endian, without a byte-order mark)"
    return None


def require_not_utf16(head: bytes, label: str, expected: str = "UTF-8") -> None:
    """Raise, calling the file what it is, when its first bytes are UTF-16 or UTF-32 text.

    A spreadsheet's "Unicode text" export is UTF-16; read as UTF-8 or Latin-1 it would be
    reported as undecodable bytes or a wrong header, which hides the one-step fix.
    """
    kind = _utf16_kind(head)
    if kind is None:
        return
    raise ValueError(
        f"{label}: the file is {kind} text, but the data set's files are {expected}. Fix: "
        f"extract the original file again, or convert this one to UTF-8 (iconv -f "
        f"{kind.split(' ')[0]} -t UTF-8 FILE > FILE.utf8, or save it as UTF-8 in an editor)"
    )
