"""The block parser: line endings, long lines, short messages, undecodable bytes."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.datasets import tsv
from course_lib.datasets.archives import plain_member

NAMES = ["a", "b"]


def parse(tmp_path, raw: bytes, **kwargs):
    file = tmp_path / "t.tsv"
    file.write_bytes(raw)
    parts = list(tsv.iter_tsv(plain_member(file), NAMES, **kwargs))
    lines = np.concatenate([p[0] for p in parts])
    frame = [row for p in parts for row in p[1].itertuples(index=False)]
    return lines, frame


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"])
@pytest.mark.parametrize("block_bytes", [None, 5])
def test_every_line_ending_gives_the_same_rows_and_line_numbers(tmp_path, ending, block_bytes):
    raw = ending.join([b"a\tb", b"1\tx", b"2\ty", b"3\tz", b""])
    lines, rows = parse(tmp_path, raw, header=NAMES, block_bytes=block_bytes)
    assert list(lines) == [2, 3, 4] and [tuple(r) for r in rows] == [
        ("1", "x"),
        ("2", "y"),
        ("3", "z"),
    ]


def test_a_line_without_end_is_refused_early_with_a_short_message(tmp_path, monkeypatch):
    monkeypatch.setattr(tsv, "_MAX_LINE_BYTES", 1000)
    with pytest.raises(ValueError) as err:
        parse(tmp_path, b"x" * 5000, block_bytes=256)
    message = str(err.value)
    assert "t.tsv, line 1: more than" in message and "without a line break" in message
    assert "Fix" in message and len(message) < 400


def test_wrong_field_count_quotes_at_most_100_characters(tmp_path):
    with pytest.raises(ValueError) as err:
        parse(tmp_path, b"1\tx\n" + b"y" * 10_000 + b"\n")
    message = str(err.value)
    assert "line 2: expected 2 tab-separated fields" in message and "Fix" in message
    assert "'" + "y" * 95 + "...'" in message and "y" * 96 not in message  # 100 characters


def test_undecodable_line_is_named_or_skipped(tmp_path):
    raw = b"1\tx\n2\t\xff\n3\tz\n"
    with pytest.raises(ValueError, match=r"t.tsv, line 2: bytes that are not valid utf-8.*Fix"):
        parse(tmp_path, raw)
    stats = {}
    lines, rows = parse(tmp_path, raw, on_bad_lines="skip", stats=stats)
    assert list(lines) == [1, 3] and stats["skipped_lines"] == 1
