"""Audio files: :func:`load_audio`, and the checks of a file's header made before decoding it.

Taught in chapter 03 (listening to data), section 9, where :func:`course_lib.audio.load_audio`
reads files of your own. A file's header can lie, and a lie costs more than a wrong picture:

* a sample rate outside :data:`MIN_SAMPLE_RATE` .. :data:`MAX_SAMPLE_RATE` (a damaged header
  claiming 1 Hz or 10 Hz) would be resampled to a clip of hours and gigabytes, so it is refused
  before any sample is decoded (:func:`require_plausible_rate`);
* a WAV whose ``data`` chunk announces more bytes than the file holds (an interrupted copy or
  download) decodes as a shorter clip without a word from the decoders, so
  :func:`wav_shortfall` compares the two and :func:`warn_if_cut_short` says so, naming the file.
"""

from __future__ import annotations

import os
import struct
import warnings
from pathlib import Path

import numpy as np

from course_lib.validation import require_number

from .waveform import _user_stacklevel, require_sample_rate, warn_if_out_of_scale

__all__ = [
    "MAX_SAMPLE_RATE",
    "MIN_SAMPLE_RATE",
    "header_rate",
    "load_audio",
    "require_plausible_rate",
    "wav_shortfall",
    "warn_if_cut_short",
]

#: Below this no recording is sampled (telephone audio is 8 kHz; old samplers 4-5 kHz).
MIN_SAMPLE_RATE = 1_000
#: Above this neither (768 kHz is the highest rate of studio converters).
MAX_SAMPLE_RATE = 768_000
#: A ``data`` size that streaming writers leave as a placeholder (size unknown when written).
_PLACEHOLDER_SIZES = (0, 0xFFFFFFFF)


def require_plausible_rate(rate: int, what: str, *, fix: str | None = None) -> int:
    """``rate`` if it lies in ``MIN_SAMPLE_RATE .. MAX_SAMPLE_RATE`` Hz, else a ``ValueError``.

    ``what`` says whose rate it is in the message (``"the header of song.wav"``, ``"sr"``).
    """
    if MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        return rate
    fix = fix or f"pass a rate between {MIN_SAMPLE_RATE} and {MAX_SAMPLE_RATE} Hz, e.g. 16000"
    raise ValueError(
        f"{what}: a sample rate of {rate} Hz is not an audio rate (recordings use "
        f"{MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz: 8 kHz telephone, 44.1 kHz CD, 768 kHz "
        f"studio). Fix: {fix}"
    )


def header_rate(file: Path) -> int | None:
    """The sample rate the file's header declares, read without decoding (``soundfile.info``).

    ``None`` when soundfile cannot read the header (librosa then tries its other decoder, and
    :func:`course_lib.audio.load_audio` checks the rate that decoder reports).
    """
    import soundfile

    try:
        return int(soundfile.info(str(file)).samplerate)
    except (RuntimeError, TypeError, ValueError):  # soundfile.LibsndfileError is a RuntimeError
        return None


def _riff_chunks(handle, size: int, endian: str):
    """(chunk id, declared size, offset of its body) of each chunk of a RIFF/WAVE file."""
    position = 12
    while position + 8 <= size:
        handle.seek(position)
        head = handle.read(8)
        if len(head) < 8:
            return
        declared = struct.unpack(endian + "I", head[4:])[0]
        yield head[:4], declared, position + 8
        position += 8 + declared + (declared & 1)


def wav_shortfall(file: Path) -> tuple[int, int, int] | None:
    """``(declared, present, bytes_per_second)`` of a WAV's audio when the file is cut short.

    ``declared`` is the size the ``data`` chunk announces, ``present`` the bytes that follow it
    in the file. ``None`` for a complete WAV, a file that is not a RIFF/WAVE file, or a writer's
    placeholder size (0 or 0xFFFFFFFF: the length was unknown when the header was written).
    """
    size = file.stat().st_size
    with open(file, "rb") as handle:
        head = handle.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
            return None
        endian = "<" if head[:4] == b"RIFF" else ">"
        bytes_per_second = 0
        for chunk, declared, body in _riff_chunks(handle, size, endian):
            if chunk == b"fmt " and declared >= 12:
                handle.seek(body + 8)
                bytes_per_second = struct.unpack(endian + "I", handle.read(4))[0]
            if chunk == b"data":
                present = size - body
                if declared in _PLACEHOLDER_SIZES or declared <= present:
                    return None
                return declared, present, bytes_per_second
    return None


def warn_if_cut_short(file: Path) -> None:
    """Warn, naming the file, when a WAV holds less audio than its header announces."""
    short = wav_shortfall(file)
    if short is None:
        return
    declared, present, per_second = short
    if per_second:
        lengths = f"{declared / per_second:.2f} s of audio, but only {present / per_second:.2f} s"
    else:
        lengths = f"{declared} bytes of audio, but only {present} bytes"
    warnings.warn(
        f"{file} is cut short: its header announces {lengths} are in the file "
        f"({100 * present / declared:.0f} %); what is read is the beginning only. An "
        "interrupted copy or download truncates a file this way. Fix: copy or export the file "
        "again (or trim it on purpose with an audio editor, which rewrites the header)",
        UserWarning,
        stacklevel=_user_stacklevel(),
    )


def _decode_error(file: Path, error: BaseException) -> ValueError:
    return ValueError(
        f"could not decode {file} as audio ({type(error).__name__}: {error}); check that it "
        f"is a sound file (WAV, FLAC, OGG, MP3) and not damaged, or convert it first "
        f"(ffmpeg -i {file.name} {file.stem}.wav)"
    )


def load_audio(
    path: str | os.PathLike[str],
    sr: int = 16_000,
    *,
    offset: float = 0.0,
    duration: float | None = None,
) -> np.ndarray:
    """Read an audio file as one mono float32 waveform at ``sr`` Hz (``librosa.load``).

    The file is decoded at its own rate with all its channels, the channels are averaged and
    the audio is resampled to ``sr`` (what ``librosa.load(path, sr=sr, mono=True)`` does), so
    the result goes straight into :func:`course_lib.audio.log_mel` with the music world's
    settings. The header is read first: an implausible rate is refused before decoding.

    Parameters
    ----------
    path : str or path
        A file librosa can decode (WAV, FLAC, OGG, MP3 ...).
    sr : int
        Target sample rate in Hz; the default is the music world's 16 kHz.
    offset, duration : float
        Start reading ``offset`` seconds in; read at most ``duration`` seconds (``None``: all).

    Returns
    -------
    np.ndarray, float32, shape (n_samples,)

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    IsADirectoryError
        ``path`` is a folder.
    ValueError
        An empty path or file; a file that cannot be decoded as audio, whose header claims a
        rate outside 1 kHz .. 768 kHz, that holds NaN or infinite samples, or that holds no
        samples after ``offset``; a negative ``offset``, a non-positive ``duration``, a target
        ``sr`` outside 1 kHz .. 768 kHz.
    TypeError
        A ``path`` that is not a string or path, or a fractional sample rate.

    Warns
    -----
    UserWarning
        A WAV cut short (its header announces more audio than the file holds), or samples far
        above full scale (the message names the probable cause).
    """
    import audioread
    import librosa

    if not isinstance(path, str | os.PathLike):
        raise TypeError(
            f"path must be a file name (str or pathlib.Path), got {type(path).__name__}"
        )
    if not os.fspath(path).strip():
        raise ValueError(
            f"path is empty ({os.fspath(path)!r}; an unset variable?), which would mean the "
            "current folder: pass the name of an audio file"
        )
    file = Path(path).expanduser()
    if not file.exists():
        raise FileNotFoundError(
            f"no audio file at {file}: check the name (a relative path starts from the "
            f"notebook's folder, {Path.cwd()})"
        )
    if file.is_dir():
        raise IsADirectoryError(
            f"{file} is a folder, not an audio file: pass one file in it, e.g. the first of "
            f"sorted(Path({str(file)!r}).glob('*.mp3'))"
        )
    if file.stat().st_size == 0:
        raise ValueError(
            f"{file} is empty (0 bytes): it holds no audio. Fix: copy or export it again"
        )
    sr = require_plausible_rate(require_sample_rate(sr), "sr")
    offset = require_number(offset, "offset", minimum=0.0)
    if duration is not None:
        duration = require_number(duration, "duration", minimum=0.0, strict_minimum=True)
    damaged = (
        "re-export it from the original recording; if you know its true rate R, read the "
        "samples with soundfile.read and resample them with librosa.resample(y, orig_sr=R, "
        "target_sr=sr)"
    )
    declared = header_rate(file)
    if declared is not None:  # before decoding: a 1 Hz header would become hours of audio
        require_plausible_rate(declared, f"the header of {file}", fix=damaged)
        warn_if_cut_short(file)
    try:
        with warnings.catch_warnings():  # librosa's fallback chatter; the error below says it all
            warnings.filterwarnings("ignore", message="PySoundFile failed")
            warnings.filterwarnings("ignore", message=".*audioread_load", category=FutureWarning)
            native, native_sr = librosa.load(
                file, sr=None, mono=False, offset=offset, duration=duration
            )
    except (RuntimeError, EOFError, audioread.exceptions.DecodeError) as error:
        raise _decode_error(file, error) from error
    require_plausible_rate(int(native_sr), f"the header of {file}", fix=damaged)
    if native.size == 0:
        raise ValueError(
            f"{file} holds no audio after offset={offset} s: pass a smaller offset "
            "(or check the file's length with librosa.get_duration(path=...))"
        )
    finite = np.isfinite(native)
    if not finite.all():
        bad = ~finite if native.ndim == 1 else ~finite.all(axis=0)
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{file} holds {int((~finite).sum())} NaN or infinite samples (the first "
            f"{first / native_sr + offset:.3f} s in): a float file written by a program that "
            "failed. Fix: export it again, or read it with soundfile.read, clean the samples "
            "(np.nan_to_num) and resample them yourself"
        )
    mono = native if native.ndim == 1 else native.mean(axis=0)  # librosa.to_mono
    warn_if_out_of_scale(mono, str(file))
    try:
        y = mono if native_sr == sr else librosa.resample(mono, orig_sr=native_sr, target_sr=sr)
    except librosa.util.exceptions.ParameterError as error:
        raise _decode_error(file, error) from error
    return np.ascontiguousarray(y, dtype=np.float32)
