"""The exercise checks of chapter 03 (listening to data), exercises 3.1 to 3.5.

Built on :func:`course_lib.checking.run_check`, so the verdict reads like every other chapter's:
"Correct", "Not quite" (with what differs and a hint) or "Not implemented yet" (a stub that still
raises ``NotImplementedError``; not an error, the notebook keeps running). Chapters call it
through the facade: ``from course_lib import checks; checks.check_window_leakage(my_leakage)``.

Exercise 3.1 measures *spectral leakage*: the share of a windowed frame's power that a pure tone
spreads to bins more than two bins away from its frequency, with a rectangular window (no taper)
and with the Hann window of the chapter's STFT (Harris 1978). Exercise 3.2 asks for the
shortest power-of-two window whose bins are finer than a semitone, 3.3 for the decibel shift of
a gain, 3.4 for the spectral centroid of every frame and 3.5 for the share of a stereo clip's
power that the mix-down discards.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from course_lib.checking import Case, CheckResult, run_check

# the references (window_leakage, semitone_window, ...) stay out of the facade
__all__ = [
    "check_gain_shift",
    "check_semitone_window",
    "check_side_share",
    "check_spectral_centroid",
    "check_window_leakage",
]

#: The windows exercise 3.1 compares.
WINDOWS = ("rectangular", "hann")
#: Bins within this distance of the tone form its main lobe; the rest is leakage.
MAIN_LOBE_BINS = 2


def _window(name: str, n: int) -> np.ndarray:
    if name == "rectangular":
        return np.ones(n)
    if name == "hann":
        return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)
    raise ValueError(f"window must be one of {WINDOWS}, got {name!r}")


def _leakage(
    tone: np.ndarray,
    tone_bin: float,
    window: str,
    *,
    taper: str | None = None,
    power: float = 2.0,
    full: bool = False,
    centre: float | None = None,
) -> float:
    """Leakage with switches that reproduce the usual slips (``taper`` overrides ``window``)."""
    frame = _window(taper or window, tone.size) * tone
    spectrum = np.abs(np.fft.fft(frame) if full else np.fft.rfft(frame)) ** power
    distance = np.abs(np.arange(spectrum.size) - (tone_bin if centre is None else centre))
    return float(spectrum[distance > MAIN_LOBE_BINS].sum() / spectrum.sum())


def window_leakage(tone: np.ndarray, tone_bin: float, window: str) -> float:
    """The reference of exercise 3.1: the share of a frame's power more than two bins from a tone.

    The frame ``tone`` (``N`` samples) is multiplied by the window (``"rectangular"``: no taper;
    ``"hann"``: ``w[n] = 1/2 - 1/2 cos(2 pi n / N)``, the STFT's window of chapter 03), its power
    spectrum ``P(k) = |rfft|^2`` is taken over the bins ``k = 0 .. N/2``, and the result is the
    share of ``sum_k P(k)`` that lies in bins with ``|k - tone_bin| > 2`` (Harris 1978).

    Raises
    ------
    ValueError
        An unknown ``window``, or a frame without power.
    """
    tone = np.asarray(tone, dtype=np.float64)
    if not np.any(tone):
        raise ValueError("tone is all zeros: a frame without power has no leakage")
    return _leakage(tone, tone_bin, window)


def _tone(n: int, tone_bin: float, phase: float, amplitude: float = 1.0) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * tone_bin * np.arange(n) / n + phase)


def _leakage_cases() -> list[Case]:
    specs = [
        (1024, 100.0, 0.3, "rectangular", "on a bin"),
        (1024, 100.5, 0.3, "rectangular", "half-way between two bins"),
        (1024, 100.5, 0.3, "hann", "half-way between two bins"),
        (512, 40.3, 1.0, "hann", "0.3 bins above a bin"),
        (512, 40.3, 1.0, "rectangular", "0.3 bins above a bin"),
        (256, 20.75, 2.0, "hann", "0.25 bins below a bin, quiet"),
    ]
    return [
        Case(
            (_tone(n, tone_bin, phase, 0.2 if "quiet" in text else 1.0), tone_bin, window),
            label=f"N = {n}, a tone {text} (bin {tone_bin}), {window} window",
        )
        for n, tone_bin, phase, window, text in specs
    ]


def _leakage_slips(tone: np.ndarray, tone_bin: float, window: str) -> dict[str, float]:
    other = "hann" if window == "rectangular" else "rectangular"
    right = _leakage(tone, tone_bin, window)
    return {
        f"the leakage of the {other} window, not of the {window} one: check which taper you "
        "apply for each name (the rectangular window leaves the frame as it is)": _leakage(
            tone, tone_bin, window, taper=other
        ),
        "magnitudes |X(k)| instead of the power |X(k)|²": _leakage(
            tone, tone_bin, window, power=1.0
        ),
        "the full FFT: its upper half mirrors the lower one, so half the power sits far from "
        "the tone; a real frame has the bins 0 .. N/2 only": _leakage(
            tone, tone_bin, window, full=True
        ),
        "the share *inside* the main lobe; the leakage is the share outside it": 1.0 - right,
        "distances from the nearest whole bin; measure them from the tone's own frequency, "
        "tone_bin, which need not be whole": _leakage(
            tone, tone_bin, window, centre=float(np.round(tone_bin))
        ),
        "a percentage; return the share as a fraction between 0 and 1": 100.0 * right,
    }


def _leakage_property(case: Case, got: Any) -> str | None:
    tone, tone_bin, window = case.args
    try:
        value = float(np.asarray(got, dtype=np.float64).item())
    except (TypeError, ValueError):
        return f"expected one number (a share of the power), got a {type(got).__name__}"
    want = window_leakage(tone, tone_bin, window)
    # 2 % relative: numpy's symmetric np.hanning (N - 1 in the cosine) is accepted too
    if np.isclose(value, want, rtol=2e-2, atol=1e-6):
        return None
    for slip, slip_value in _leakage_slips(tone, tone_bin, window).items():
        if np.isclose(value, slip_value, rtol=2e-3, atol=1e-9):
            return f"you returned {value:.4g}, which is {slip}"
    return f"expected a share of {want:.4g}, got {value:.4g}"


def check_window_leakage(student_fn: Callable[[np.ndarray, float, str], float]) -> CheckResult:
    """Check ``my_leakage(tone, tone_bin, window) -> float`` (chapter 03, exercise 3.1).

    Compared with :func:`window_leakage` (not accepted as an answer) on six pure tones: on a
    bin, half-way between two bins and a fraction of a bin off, with ``N`` from 256 to 1024,
    through both windows (tolerance 2 %, so numpy's symmetric ``np.hanning`` passes too). The
    verdict names the usual slips: the windows swapped or the taper forgotten, magnitudes
    instead of power, the full FFT instead of the bins ``0 .. N/2``, the share inside the main
    lobe, distances from the nearest whole bin, and a percentage.
    """
    return run_check(
        student_fn,
        None,
        _leakage_cases(),
        name="my_leakage",
        properties=[_leakage_property],
        forbidden=[window_leakage],
        hint=(
            "follow section 3 for one frame: taper it with the named window (the rectangular "
            "one changes nothing), take the power of the bins a real frame has, then compare "
            "the power of the bins far from the tone with all of it. How far a bin is from "
            "the tone is measured in bins, from the tone's own, possibly fractional, position."
        ),
    )


def _scalar_or_array_property(
    reference: Callable[..., Any],
    slips: Callable[..., dict[str, Any]],
    what: str,
    rtol: float = 1e-6,
) -> Callable[[Case, Any], str | None]:
    """A property: the result matches ``reference``, or the verdict names the slip it matches."""

    def prop(case: Case, got: Any) -> str | None:
        want = np.asarray(reference(*case.args), dtype=np.float64)
        try:
            value = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            return f"expected {what}, got a {type(got).__name__}"
        if value.shape != want.shape:
            return f"expected {what} of shape {want.shape}, got shape {value.shape}"
        if np.allclose(value, want, rtol=rtol, atol=1e-9):
            return None
        for slip, slip_value in slips(*case.args).items():
            slip_value = np.asarray(slip_value, dtype=np.float64)
            if slip_value.shape == value.shape and np.allclose(
                value, slip_value, rtol=rtol, atol=1e-9, equal_nan=True
            ):
                return f"you returned {slip}"
        if want.ndim == 0:
            return f"expected {float(want):.6g}, got {float(value):.6g}"
        worst = int(np.argmax(np.abs(value - want).ravel()))
        return (
            f"largest difference at index {worst}: expected {want.ravel()[worst]:.6g}, "
            f"got {value.ravel()[worst]:.6g}"
        )

    return prop


SEMITONE = 2 ** (1 / 12)


def semitone_window(f0: float, sr: int) -> int:
    """Reference of exercise 3.2: the shortest power-of-two ``n_fft`` with ``sr / n_fft`` at
    most the semitone above ``f0``, ``f0 (2^(1/12) - 1)`` Hz."""
    semitone_hz = f0 * (SEMITONE - 1)
    n_fft = 1
    while sr / n_fft > semitone_hz:
        n_fft *= 2
    return n_fft


def _semitone_slips(f0: float, sr: int) -> dict[str, Any]:
    ratio = sr / (f0 * (SEMITONE - 1))
    right = semitone_window(f0, sr)
    return {
        f"{right // 2}, a window half as long: its bins are still wider than the semitone "
        "(round the power of two up, not down)": right // 2,
        f"{ratio:.1f}, not a power of two: the FFT sizes of the course are powers of two, "
        "take the next one": ratio,
        f"{int(np.ceil(ratio))}, not a power of two: take the next power of two": int(
            np.ceil(ratio)
        ),
    }


def check_semitone_window(student_fn: Callable[[float, int], int]) -> CheckResult:
    """Check ``my_semitone_window(f0, sr) -> int`` (chapter 03, exercise 3.2) on five notes and
    rates; the verdict names rounding down and a size that is not a power of two."""
    cases = [
        Case((110.0, 16000), label="A2 (110 Hz) at 16 kHz"),
        Case((440.0, 16000), label="A4 (440 Hz) at 16 kHz"),
        Case((55.0, 22050), label="A1 (55 Hz) at 22.05 kHz"),
        Case((1000.0, 44100), label="1 kHz at 44.1 kHz"),
        Case((82.41, 48000), label="E2, a guitar's low string, at 48 kHz"),
    ]
    return run_check(
        student_fn,
        None,
        cases,
        name="my_semitone_window",
        properties=[
            _scalar_or_array_property(semitone_window, _semitone_slips, "one whole number")
        ],
        forbidden=[semitone_window],
        hint=(
            "bins are sr / n_fft Hz apart; compute how wide the semitone above f0 is in Hz, "
            "then double the window until its bins are no wider than that."
        ),
    )


def gain_shift_db(gain: float) -> float:
    """Reference of exercise 3.3: the decibels by which ``gain * y`` shifts a log-mel
    spectrogram, ``10 log10(gain^2) = 20 log10|gain|`` (power is amplitude squared)."""
    return float(20 * np.log10(np.abs(gain)))


def _gain_slips(gain: float) -> dict[str, Any]:
    right = gain_shift_db(gain)
    return {
        "10 log10(gain): the gain scales the amplitude, and the power is the amplitude squared": 10
        * np.log10(abs(gain)),
        "natural logarithms; decibels use log10": right * np.log(10),
        "half the natural-log shift; decibels use log10": right * np.log(10) / 2,
        "a shift of the wrong sign: a gain above one makes the clip louder": -right,
        "NaN for a negative gain: a negative gain flips every sample's sign, the power "
        "does not change sign": np.nan,
    }


def check_gain_shift(student_fn: Callable[[float], float]) -> CheckResult:
    """Check ``my_gain_shift(gain) -> float`` (chapter 03, exercise 3.3): the shift in dB of the
    log-mel spectrogram of ``gain * y``; the verdict names 10 log10, natural logs, the sign and
    a negative gain."""
    cases = [Case((g,), label=f"gain {g}") for g in (2.0, 0.5, 10.0, 0.1, 3.0, -2.0)]
    return run_check(
        student_fn,
        None,
        cases,
        name="my_gain_shift",
        properties=[_scalar_or_array_property(gain_shift_db, _gain_slips, "one number")],
        forbidden=[gain_shift_db],
        hint=(
            "a gain multiplies every sample, hence every STFT value; follow it through the "
            "power and the mel sums (both linear in the power) into the decibels of section 5."
        ),
    )


def spectral_centroid(power: np.ndarray, sr: int, n_fft: int) -> np.ndarray:
    """Reference of exercise 3.4: ``sum_k f_k P_t(k) / sum_k P_t(k)`` for every frame ``t`` of a
    time-major power spectrogram, with ``f_k = k sr / n_fft`` Hz."""
    power = np.asarray(power, dtype=np.float64)
    freqs = np.arange(power.shape[1]) * sr / n_fft
    return power @ freqs / power.sum(axis=1)


def _centroid_slips(power: np.ndarray, sr: int, n_fft: int) -> dict[str, Any]:
    right = spectral_centroid(power, sr, n_fft)
    bins = np.arange(power.shape[1])
    return {
        "the centroid in bins, not in Hz: bin k stands for k * sr / n_fft Hz": right * n_fft / sr,
        "the centroid weighted by the magnitudes (the square root of the power); weight "
        "by the power": spectral_centroid(np.sqrt(power), sr, n_fft),
        "the weighted sum without dividing by the frame's total power": power @ (bins * sr / n_fft),
        "the centroid of the frequencies weighted by the bins' average over time; the "
        "exercise asks for one centroid per frame": np.full_like(
            right, float(power.mean(axis=0) @ (bins * sr / n_fft) / power.mean(axis=0).sum())
        ),
    }


def _centroid_cases() -> list[Case]:
    rng = np.random.default_rng(3)
    tone = np.zeros((3, 513))
    tone[:, [40, 200, 41]] = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.0, 0.5]]
    return [
        Case((rng.exponential(size=(6, 513)), 16000, 1024), label="noise, 6 frames"),
        Case((tone, 16000, 1024), label="one or two bins per frame"),
        Case((rng.exponential(size=(4, 129)) ** 3, 22050, 256), label="n_fft 256, 22 kHz"),
        Case((rng.exponential(size=(5, 1025)), 44100, 2048), label="n_fft 2048, 44.1 kHz"),
    ]


def check_spectral_centroid(
    student_fn: Callable[[np.ndarray, int, int], np.ndarray],
) -> CheckResult:
    """Check ``my_centroid(power, sr, n_fft) -> (frames,)`` (chapter 03, exercise 3.4); the
    verdict names bins for Hz, magnitude weights, a missing division and one centroid for all
    frames."""
    return run_check(
        student_fn,
        None,
        _centroid_cases(),
        name="my_centroid",
        properties=[
            _scalar_or_array_property(
                spectral_centroid, _centroid_slips, "one frequency per frame", rtol=1e-5
            )
        ],
        forbidden=[spectral_centroid],
        hint=(
            "for each frame, a weighted mean of the bins' frequencies in Hz (section 3 says "
            "which frequency each bin stands for), weighted by that frame's power."
        ),
    )


def side_share(stereo: np.ndarray) -> float:
    """Reference of exercise 3.5: the share of a stereo clip's power (``(2, n)``, librosa's
    layout) in the side signal ``(L - R) / 2`` that the mix-down ``(L + R) / 2`` discards."""
    left, right = np.asarray(stereo, dtype=np.float64)
    mid, side = (left + right) / 2, (left - right) / 2
    return float(np.sum(side**2) / (np.sum(mid**2) + np.sum(side**2)))


def _side_slips(stereo: np.ndarray) -> dict[str, Any]:
    left, right = np.asarray(stereo, dtype=np.float64)
    mid, side = np.sum(((left + right) / 2) ** 2), np.sum(((left - right) / 2) ** 2)
    absolute = np.abs(left - right).sum(), np.abs(left + right).sum()
    return {
        "the side's power divided by the mid's, not by the power of both": side / mid
        if mid
        else np.inf,
        "the share of the power that the mix-down keeps, not the share it discards": 1
        - side / (mid + side),
        "a share of summed magnitudes; compare powers (squares)": absolute[0] / sum(absolute),
    }


def _side_cases() -> list[Case]:
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(2, 4000))
    return [
        Case((np.stack([a, a]),), label="the same signal in both channels"),
        Case((np.stack([a, -a]),), label="channels in opposite phase"),
        Case((np.stack([a, 0 * a]),), label="left channel only"),
        Case((np.stack([a + 0.3 * b, 0.3 * a + b]),), label="two sources, panned"),
        Case((np.stack([0.8 * a, 0.5 * a + 0.2 * b]),), label="one source louder on the left"),
    ]


def check_side_share(student_fn: Callable[[np.ndarray], float]) -> CheckResult:
    """Check ``my_side_share(stereo) -> float`` (chapter 03, exercise 3.5); the verdict names a
    ratio to the mid signal, the kept share instead of the lost one and magnitudes for power."""
    return run_check(
        student_fn,
        None,
        _side_cases(),
        name="my_side_share",
        properties=[_scalar_or_array_property(side_share, _side_slips, "one number")],
        forbidden=[side_share],
        hint=(
            "split the clip into what the mix-down keeps (the average of the channels) and "
            "what it drops (half their difference); the two powers add up to the clip's."
        ),
    )
