"""The synthesiser of the music world: each track's audio, rendered on demand from its parameters.

Part of the music world toured in chapter 00; chapter 03 listens to it and turns it into log-mel
spectrograms. A track is a melody on a scale (a random walk, some notes held), a harmonic timbre
read from a wavetable, a pad and a bass on the bar's chord, drums at the track's tempo, formant
"vocals" with vibrato and distortion; intros and outros are filtered noise with speech-like
bursts. Everything derives from the track's audible parameters and seeds, so a convnet can
recover much of a track's style from its sound (van den Oord, Dieleman & Schrauwen 2013), and
the same track always sounds the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .sizes import GENERATOR_VERSION
from .vocabulary import DRUMS, GENRES, MAJOR, MINOR

__all__ = ["Synthesiser"]


@dataclass(frozen=True, eq=False)
class Synthesiser:
    """Everything the synthesiser needs about a world's tracks: small and picklable, so that
    parallel workers render audio without the world's play matrices.

    Attributes
    ----------
    seed, sample_rate, n_samples
        The world's seed, its sample rate (Hz) and the samples per clip.
    sound : array (n_tracks, len(PARAMS))
        Each track's audible parameters (tempo, mode, distortion ...).
    kind, genre_id, melody_seed : arrays (n_tracks,)
        "song" / "intro" / "outro" / "cover"; the genre's row of ``GENRES``; the melody's seed
        (a cover shares its original's).
    """

    seed: int
    sample_rate: int
    n_samples: int
    sound: np.ndarray
    kind: np.ndarray
    genre_id: np.ndarray
    melody_seed: np.ndarray

    def audio(self, track_ids: np.ndarray) -> np.ndarray:
        """Waveforms of ``track_ids`` (valid int64 ids), float32 ``(len(track_ids), n_samples)``."""
        out = np.empty((track_ids.size, self.n_samples), dtype=np.float32)
        for row, tid in enumerate(track_ids):
            out[row] = _render(self, int(tid))
        return out


_TABLE = 2048


def _wavetable(harmonic_amps: np.ndarray) -> np.ndarray:
    phase = np.arange(_TABLE) / _TABLE
    k = np.arange(1, harmonic_amps.size + 1)
    table = (harmonic_amps[:, None] * np.sin(2 * np.pi * k[:, None] * phase[None, :])).sum(axis=0)
    return (table / (np.abs(table).max() or 1.0)).astype(np.float32)


def _timbre(name: str, brightness: float) -> np.ndarray:
    k = np.arange(1, 17, dtype=np.float64)
    roll = k ** -(2.2 - 1.6 * brightness)
    if name == "square" or name == "sax":
        roll = roll * (k % 2 == 1) + (0.15 * roll if name == "sax" else 0) * (k % 2 == 0)
    elif name == "strings":
        roll = roll * np.exp(-0.05 * k)
    elif name == "piano":
        roll = roll * np.exp(-0.25 * k)
    elif name == "pluck":
        roll = roll * np.exp(-0.15 * k)
    return _wavetable(roll)


def _lookup(table: np.ndarray, freq: np.ndarray, sr: int) -> np.ndarray:
    """Oscillator: read the single-cycle ``table`` at instantaneous frequency ``freq`` (Hz)."""
    cycles = np.cumsum(freq) * (_TABLE / sr)
    return table[cycles.astype(np.int64) & (_TABLE - 1)]


def _midi_hz(m: np.ndarray | float) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(m, dtype=np.float64) - 69.0) / 12.0)


_DECAY = {"pluck": 6.0, "piano": 4.0, "strings": 0.3, "sax": 0.8, "saw": 1.0, "square": 2.0}


def _render(synth: Synthesiser, tid: int) -> np.ndarray:
    """Synthesise one track (deterministic in the world's seed and the track id)."""
    sr = synth.sample_rate
    n = synth.n_samples
    p = synth.sound[tid]
    kind = synth.kind[tid]
    genre = GENRES[int(synth.genre_id[tid])]
    rng = np.random.default_rng([synth.seed, GENERATOR_VERSION, tid])
    t = np.arange(n) / sr
    if kind in ("intro", "outro"):
        return _render_filler(rng, t, sr, p)
    tempo, major, dist, vocals, bright, perc, acoustic, energy, pitch, swing, bass, noise = p
    scale = MAJOR if major >= 0.5 else MINOR
    step = 60.0 / tempo / 2  # eighth notes
    n_steps = int(np.ceil(t[-1] / step)) + 2
    mrng = np.random.default_rng(int(synth.melody_seed[tid]))
    # Melody: a random walk on the scale; some notes are held over several steps.
    moves = mrng.choice([-2, -1, -1, 0, 1, 1, 2, 3, -3], size=n_steps)
    degree = np.clip(np.cumsum(moves), -5, 9)
    hold = mrng.random(n_steps) < 0.35
    for i in range(1, n_steps):
        if hold[i]:
            degree[i] = degree[i - 1]
    semis = 12 * np.floor_divide(degree, 7) + scale[np.mod(degree, 7)]
    note_hz = _midi_hz(pitch + semis)
    # Swing delays off-beat eighths.
    step_start = np.arange(n_steps) * step + (np.arange(n_steps) % 2) * swing * step * 0.33
    idx = np.clip(np.searchsorted(step_start, t, side="right") - 1, 0, n_steps - 1)
    onset = np.r_[True, (degree[1:] != degree[:-1]) | ~hold[1:]]
    # Time since the current note began (held notes keep sounding).
    note_begin = np.maximum.accumulate(np.where(onset, step_start, 0.0))
    since = t - note_begin[idx]
    freq = note_hz[idx]
    env = np.exp(-_DECAY[genre.timbre] * since) * np.minimum(1.0, since / 0.01)
    out = 0.45 * (1 - 0.6 * vocals) * _lookup(_timbre(genre.timbre, bright), freq, sr) * env
    # Chords: the scale triad of the bar's root, as a soft pad; the bass plays the root.
    bar = idx // 8
    roots = mrng.choice([0, 3, 4, 5], size=int(bar[-1]) + 1)
    pad = np.zeros(n)
    pad_table = _timbre("strings", bright * 0.7)
    for offset in (0, 2, 4):
        deg = roots + offset
        pad += _lookup(pad_table, _midi_hz(pitch - 12 + 12 * (deg // 7) + scale[deg % 7])[bar], sr)
    out += 0.04 * (0.4 + acoustic) * pad
    bass_hz = _midi_hz(pitch - 24 + scale[roots % 7])[bar]
    bass_env = np.exp(-3.0 * (t % (2 * step)))
    out += 0.5 * bass * _lookup(_wavetable(np.array([1.0, 0.5, 0.2])), bass_hz, sr) * bass_env
    # Vocals: formant-shaped harmonics with vibrato, singing the melody.
    if vocals > 0.15:
        out += vocals * 0.5 * _vocal(rng, t, sr, freq, since, rap=genre.name == "hiphop")
    # Drums at the track's tempo.
    out += perc * _drums(rng, genre.drums, n, sr, step / 2, swing)
    if dist > 0.05:
        gain = 1 + 12 * dist
        out = np.tanh(gain * out) / np.tanh(gain)
    out += noise * 0.15 * rng.standard_normal(n)
    rms = np.sqrt(np.mean(out**2)) or 1.0
    out *= (0.05 + 0.15 * energy) / rms
    return np.clip(out, -1, 1).astype(np.float32)


_VOWELS = np.array(
    [[730, 1090], [270, 2290], [530, 1840], [570, 840], [300, 870]], dtype=np.float64
)


def _vocal(rng, t, sr, f0, since, rap: bool) -> np.ndarray:
    """Formant "voice": harmonics of f0 weighted by two vowel formants, with vibrato."""
    vib = 1 + 0.012 * np.sin(2 * np.pi * 5.5 * t + rng.uniform(0, 6.28))
    if rap:  # near-monotone syllables
        f0 = np.full_like(f0, rng.uniform(110, 150)) * (1 + 0.05 * np.sin(2 * np.pi * 2.0 * t))
        vib = 1.0
    freq = np.clip(f0 * vib, 80, 900)
    phase = (2 * np.pi * (np.cumsum(freq) / sr % 1.0)).astype(np.float32)
    # Formant weights change slowly: compute them at a 200 Hz control rate.
    hop = max(1, sr // 200)
    ctrl = slice(0, None, hop)
    vowel = _VOWELS[(np.floor(t[ctrl] * 2.5).astype(int) + rng.integers(0, 5)) % 5]
    k = np.arange(1, 13)
    fk = k[None, :] * freq[ctrl][:, None]
    weight = (
        np.exp(-(((fk - vowel[:, :1]) / 120) ** 2))
        + 0.7 * np.exp(-(((fk - vowel[:, 1:]) / 180) ** 2))
        + 0.05 / k[None, :]
    )
    weight = np.repeat(weight.astype(np.float32), hop, axis=0)[: t.size]
    out = np.zeros(t.size, dtype=np.float32)
    # sin(k*phase) by the Chebyshev recurrence: two multiplications per harmonic, no sin calls.
    two_cos = 2 * np.cos(phase)
    s_prev, s_cur = np.zeros_like(phase), np.sin(phase)
    for j in range(k.size):
        out += weight[:, j] * s_cur
        s_prev, s_cur = s_cur, two_cos * s_cur - s_prev
    syll = np.minimum(1.0, since / 0.03) * np.exp(-(3.0 if not rap else 9.0) * since)
    return out / 3 * (0.3 + 0.7 * syll)


def _one_shots(sr: int):
    tau = np.arange(int(0.25 * sr)) / sr
    kick = np.sin(2 * np.pi * (50 * tau + 120 / 30 * (1 - np.exp(-30 * tau)))) * np.exp(-9 * tau)
    rng = np.random.default_rng(12345)
    snare = (0.7 * rng.standard_normal(tau.size) + 0.5 * np.sin(2 * np.pi * 190 * tau)) * np.exp(
        -18 * tau
    )
    hat = np.diff(rng.standard_normal(tau.size + 1)) * np.exp(-70 * tau) * 0.35
    return kick, snare, hat


def _drums(rng, pattern: str, n: int, sr: int, sixteenth: float, swing: float) -> np.ndarray:
    out = np.zeros(n)
    if pattern == "none":
        return out
    kick_steps, snare_steps, hat_steps = DRUMS[pattern]
    shots = _one_shots(sr)
    bar = 16 * sixteenth
    n_bars = int(np.ceil(n / sr / bar))
    for shot, steps, gain in zip(shots, (kick_steps, snare_steps, hat_steps), (0.9, 0.6, 0.5)):
        for b in range(n_bars):
            for s in steps:
                start = int((b * bar + s * sixteenth + (s % 4 == 2) * swing * sixteenth * 0.6) * sr)
                if start >= n:
                    continue
                end = min(n, start + shot.size)
                out[start:end] += gain * rng.uniform(0.8, 1.0) * shot[: end - start]
    return out


def _render_filler(rng, t, sr, p) -> np.ndarray:
    """Intros and outros: a swell of filtered noise (crowd, ambience) and spoken-like bursts,
    then near silence — short and sparse, nothing like the album's songs."""
    n = t.size
    length = rng.uniform(0.35, 0.6) * t[-1]
    swell = np.clip(np.sin(np.pi * np.clip(t / length, 0, 1)), 0, None)
    noise = rng.standard_normal(n)
    spec = np.fft.rfft(noise)
    freqs = np.fft.rfftfreq(n, 1 / sr)
    centre = rng.uniform(300, 2500)
    spec *= np.exp(-((np.log(freqs + 1) - np.log(centre)) ** 2) / 0.8)
    ambience = np.fft.irfft(spec, n)
    ambience /= np.abs(ambience).max() or 1.0
    speech = _vocal(rng, t, sr, np.full(n, rng.uniform(100, 220)), (t * 4) % 1.0, rap=True)
    gate = (rng.random(int(t[-1] * 4) + 2)[(t * 4).astype(int)] < 0.45).astype(float)
    out = swell * (0.6 * ambience + 0.4 * speech * gate)
    rms = np.sqrt(np.mean(out**2)) or 1.0
    return np.clip(out * 0.05 / rms, -1, 1).astype(np.float32)
