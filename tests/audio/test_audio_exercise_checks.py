"""Tests of the chapter 03 checks of exercises 3.2 to 3.5 (course_lib.audio.checks)."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import checks
from course_lib.audio import checks as audio_checks

USES_COURSE = "uses the course's implementation"
CODE_TOKENS = ("np.", "axis=", "()", "[", " = ", "==", "log10(", "librosa")


def _said(capsys) -> str:
    return " ".join(capsys.readouterr().out.split())


def _window(f0, sr):
    width, n = f0 * (2 ** (1 / 12) - 1), 2
    while sr / n > width:
        n *= 2
    return n


def _gain(gain):
    return 10 * np.log10(gain**2)


def _centroid(power, sr, n_fft):
    freqs = np.arange(power.shape[1]) * sr / n_fft
    return (power * freqs).sum(axis=1) / power.sum(axis=1)


def _side(stereo):
    left, right = stereo
    return np.sum((left - right) ** 2) / (2 * np.sum(left**2 + right**2))


def _side_magnitudes(stereo):
    side, mid = np.abs(stereo[0] - stereo[1]).sum(), np.abs(stereo[0] + stereo[1]).sum()
    return side / (side + mid)


def _stub(*args):
    raise NotImplementedError("write it")


RIGHT = {
    "check_semitone_window": (_window, audio_checks.semitone_window),
    "check_gain_shift": (_gain, audio_checks.gain_shift_db),
    "check_spectral_centroid": (_centroid, audio_checks.spectral_centroid),
    "check_side_share": (_side, audio_checks.side_share),
}


@pytest.mark.parametrize("name", sorted(RIGHT))
def test_checks_accept_an_answer_refuse_the_reference_and_stubs(name, capsys):
    check = getattr(checks, name)
    assert check.__module__ == "course_lib.audio.checks"
    mine, reference = RIGHT[name]
    assert check(mine).passed
    assert check(reference).status == USES_COURSE
    assert check(lambda *a: reference(*a)).status == USES_COURSE
    assert check(_stub).status == "not implemented"
    assert check(lambda *a: 1 / 0).status == "wrong"
    hint = check(lambda *a: -1.0).hint
    assert hint and not [t for t in CODE_TOKENS if t in hint], hint


def test_references_hold_their_principles():
    assert audio_checks.semitone_window(110.0, 16000) == 4096  # 6.5 Hz needs 3.9 Hz bins
    assert audio_checks.gain_shift_db(10.0) == pytest.approx(20.0)
    assert audio_checks.gain_shift_db(-1.0) == 0.0
    a = np.random.default_rng(0).normal(size=100)
    assert audio_checks.side_share(np.stack([a, a])) == 0.0
    assert audio_checks.side_share(np.stack([a, -a])) == 1.0
    assert audio_checks.side_share(np.stack([a, 0 * a])) == pytest.approx(0.5)
    power = np.zeros((2, 5))
    power[0, 1], power[1, 3] = 1.0, 2.0
    assert np.allclose(audio_checks.spectral_centroid(power, 8, 8), [1.0, 3.0])


SLIPS = [
    ("check_semitone_window", lambda f0, sr: _window(f0, sr) // 2, "half as long"),
    ("check_semitone_window", lambda f0, sr: sr / (f0 * (2 ** (1 / 12) - 1)), "power of two"),
    ("check_gain_shift", lambda g: 10 * np.log10(abs(g)), "amplitude squared"),
    ("check_gain_shift", lambda g: 20 * np.log(abs(g)), "natural logarithms"),
    ("check_gain_shift", lambda g: -_gain(g), "wrong sign"),
    ("check_gain_shift", lambda g: 20 * np.log10(g), "negative gain"),
    ("check_spectral_centroid", lambda p, sr, n: _centroid(p, sr, n) * n / sr, "in bins"),
    ("check_spectral_centroid", lambda p, sr, n: _centroid(np.sqrt(p), sr, n), "magnitudes"),
    ("check_spectral_centroid", lambda p, sr, n: p @ (np.arange(p.shape[1]) * sr / n), "dividing"),
    ("check_spectral_centroid", lambda p, sr, n: _centroid(p.T, sr, n), "shape"),
    ("check_side_share", lambda s: np.sum((s[0] - s[1]) ** 2) / np.sum((s[0] + s[1]) ** 2), "mid"),
    ("check_side_share", lambda s: 1 - _side(s), "keeps"),
    ("check_side_share", _side_magnitudes, "magnitudes"),
]


@pytest.mark.parametrize("name, wrong, words", SLIPS)
def test_checks_name_the_slip(name, wrong, words, capsys):
    result = getattr(checks, name)(wrong)
    assert result.status == "wrong"
    assert words in _said(capsys)
