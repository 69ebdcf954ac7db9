"""The per-file encoding rule: UTF-8, Latin-1, or UTF-8 with damaged lines."""

from __future__ import annotations

import pytest

from course_lib.datasets.archives import plain_member
from course_lib.datasets.encoding import LATIN1_RATIO, detect_encoding, require_clean


def detect(tmp_path, lines: list[str], encoding: str = "utf-8", patch=None):
    file = tmp_path / "f.dat"
    raw = "\n".join(lines).encode(encoding)
    file.write_bytes(patch(raw) if patch else raw)
    return detect_encoding(plain_member(file))


def test_clean_utf8_and_plain_latin1_files(tmp_path):
    words = ["Röyksopp", "Sigur Rós", "électronique", "ascii only"]
    assert detect(tmp_path, words).encoding == "utf-8"
    found = detect(tmp_path, words, "latin-1")
    assert found.encoding == "latin-1" and found.utf8_lines == 0 and not found.damaged
    assert require_clean(found, "f.dat", "error") == "strict"


def test_a_few_bad_bytes_in_a_utf8_file_are_damage_not_latin1(tmp_path):
    words = ["Röyksopp", "Sigur Rós", "Björk", "Morcheeba"]
    found = detect(tmp_path, words, patch=lambda raw: raw.replace(b"Morch", b"Mo\xffrch"))
    assert found.encoding == "utf-8" and found.utf8_lines == 3
    assert found.damaged == ((4, 3, 0xFF, "Mo\ufffdrcheeba"),)
    with pytest.raises(ValueError, match=r"f.dat, line 4: byte 0xff at column 3.*Fix"):
        require_clean(found, "f.dat", "error")
    with pytest.warns(UnicodeWarning, match="lines 4 hold bytes"):
        assert require_clean(found, "f.dat", "replace") == "replace"


def test_latin1_text_with_a_rare_valid_utf8_pair_stays_latin1(tmp_path):
    """In Latin-1 text a valid UTF-8 sequence is a coincidence: one in 21 lines is not evidence."""
    lines = [f"Beyonc\xe9 {k}" for k in range(LATIN1_RATIO + 1)] + ["Ã©"]
    assert detect(tmp_path, lines, "latin-1").encoding == "latin-1"
    lines = [f"Beyonc\xe9 {k}" for k in range(LATIN1_RATIO)] + ["Ã©"]
    assert detect(tmp_path, lines, "latin-1").encoding == "utf-8"
