"""Tests of the chapter 03 exercise check, checks.check_window_leakage (course_lib.audio.checks)."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import checks
from course_lib.audio.checks import window_leakage

USES_COURSE = "uses the course's implementation"
CODE_TOKENS = ("np.", "axis=", "()", "[", " = ", "==", "rfft", "librosa")


def _said(capsys) -> str:
    return " ".join(capsys.readouterr().out.split())


def _leakage(tone, tone_bin, window, *, taper=None, power=2, full=False, centre=None, hann=None):
    n = tone.size
    name = taper or window
    if name == "hann":
        w = hann(n) if hann else 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)
    else:
        w = np.ones(n)
    spectrum = np.abs((np.fft.fft if full else np.fft.rfft)(w * tone)) ** power
    k = np.arange(spectrum.size)
    outside = np.abs(k - (tone_bin if centre is None else centre(tone_bin))) > 2
    return spectrum[outside].sum() / spectrum.sum()


def _stub(tone, tone_bin, window):
    raise NotImplementedError("Exercise 3.1: write my_leakage")


def test_the_reference_measures_what_the_chapter_claims():
    n = 1024
    on_bin = np.sin(2 * np.pi * 100 * np.arange(n) / n)
    between = np.sin(2 * np.pi * 100.5 * np.arange(n) / n)
    assert window_leakage(on_bin, 100.0, "rectangular") < 1e-12  # nothing leaks on a bin
    assert window_leakage(between, 100.5, "rectangular") > 0.05  # a tenth leaks between
    assert (
        window_leakage(between, 100.5, "hann") < window_leakage(between, 100.5, "rectangular") / 50
    )
    with pytest.raises(ValueError, match="window must be one of"):
        window_leakage(between, 100.5, "hamming")
    with pytest.raises(ValueError, match="all zeros"):
        window_leakage(np.zeros(8), 1.0, "hann")


def test_check_window_leakage_accepts_right_answers_and_reports_stubs(capsys):
    assert checks.check_window_leakage.__module__ == "course_lib.audio.checks"
    assert checks.check_window_leakage(_stub).status == "not implemented"
    assert "Not implemented yet" in _said(capsys)
    assert checks.check_window_leakage(_leakage).passed
    assert checks.check_window_leakage(lambda *a: _leakage(*a, hann=np.hanning)).passed


def test_check_window_leakage_refuses_the_reference():
    assert checks.check_window_leakage(window_leakage).status == USES_COURSE


def _swapped(tone, tone_bin, window):
    return _leakage(tone, tone_bin, window, taper="rectangular" if window == "hann" else "hann")


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda t, b, w: _leakage(t, b, w, taper="rectangular"), "leakage of the rectangular"),
        (lambda t, b, w: _leakage(t, b, w, taper="hann"), "leakage of the hann"),
        (_swapped, "which taper"),
        (lambda t, b, w: _leakage(t, b, w, power=1), "magnitudes"),
        (lambda t, b, w: _leakage(t, b, w, full=True), "full FFT"),
        (lambda t, b, w: 1 - _leakage(t, b, w), "inside"),
        (lambda t, b, w: _leakage(t, b, w, centre=round), "nearest whole bin"),
        (lambda t, b, w: 100 * _leakage(t, b, w), "percentage"),
    ],
)
def test_check_window_leakage_names_the_slip(wrong, words, capsys):
    result = checks.check_window_leakage(wrong)
    assert result.status == "wrong"
    assert words in _said(capsys)
    assert not [t for t in CODE_TOKENS if t in result.hint], result.hint
