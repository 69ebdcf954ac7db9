"""The vocabulary of the music world: genres and their sound, drum patterns, scales and names.

Part of the music world toured in chapter 00 and documented in ``datasets/music_world.md``; the
genre table is what chapter 03 listens to (one song per genre). Each genre has a sound (tempo
range, mode, timbre, drum pattern, distortion, vocals ...) that the synthesiser renders and a
set of neighbouring genres whose fans overlap. Changing anything here changes every world:
bump :data:`course_lib.music_world.GENERATOR_VERSION` with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "ADJECTIVES",
    "DRUMS",
    "GENRES",
    "MAJOR",
    "MINOR",
    "NEIGHBOURS",
    "NOISE_TAGS",
    "NOUNS",
    "PARAMS",
    "WORDS",
    "Genre",
]

MAJOR = np.array([0, 2, 4, 5, 7, 9, 11])
MINOR = np.array([0, 2, 3, 5, 7, 8, 10])

# Audible parameters of a track, in this order. They drive the synthesiser, the latent style and
# the expert attributes.
PARAMS = [
    "tempo",
    "mode_major",
    "distortion",
    "vocals",
    "brightness",
    "percussiveness",
    "acousticness",
    "energy",
    "pitch",
    "swing",
    "bass",
    "noisiness",
]


@dataclass(frozen=True)
class Genre:
    name: str
    tempo: tuple[float, float]
    major_prob: float
    distortion: float
    vocals: float
    brightness: float
    percussiveness: float
    acousticness: float
    energy: float
    pitch: float  # MIDI note of the melody's centre
    swing: float
    bass: float
    noisiness: float
    timbre: str
    drums: str


GENRES = [
    Genre(
        "rock", (108, 140), 0.7, 0.45, 0.8, 0.55, 0.7, 0.3, 0.7, 62, 0.0, 0.6, 0.05, "saw", "rock"
    ),
    Genre(
        "metal",
        (150, 190),
        0.1,
        0.95,
        0.6,
        0.75,
        0.9,
        0.05,
        0.95,
        52,
        0.0,
        0.7,
        0.15,
        "saw",
        "metal",
    ),
    Genre(
        "electronic",
        (122, 132),
        0.5,
        0.1,
        0.2,
        0.8,
        0.85,
        0.0,
        0.8,
        69,
        0.0,
        0.8,
        0.02,
        "square",
        "four",
    ),
    Genre(
        "hiphop",
        (84, 98),
        0.3,
        0.05,
        0.9,
        0.35,
        0.8,
        0.15,
        0.6,
        57,
        0.3,
        0.95,
        0.03,
        "square",
        "boombap",
    ),
    Genre(
        "jazz", (100, 170), 0.4, 0.0, 0.3, 0.45, 0.4, 0.8, 0.45, 64, 0.6, 0.5, 0.01, "sax", "swing"
    ),
    Genre(
        "classical",
        (60, 100),
        0.6,
        0.0,
        0.05,
        0.3,
        0.0,
        1.0,
        0.3,
        67,
        0.0,
        0.25,
        0.0,
        "strings",
        "none",
    ),
    Genre(
        "folk",
        (90, 120),
        0.8,
        0.0,
        0.85,
        0.4,
        0.25,
        0.95,
        0.4,
        64,
        0.1,
        0.35,
        0.01,
        "pluck",
        "light",
    ),
    Genre(
        "pop", (100, 124), 0.9, 0.05, 0.95, 0.65, 0.6, 0.2, 0.65, 69, 0.0, 0.6, 0.01, "piano", "pop"
    ),
]
# Genres that share fans (used to build users' genre mixes).
NEIGHBOURS = {
    "rock": ["metal", "folk", "pop"],
    "metal": ["rock"],
    "electronic": ["pop", "hiphop"],
    "hiphop": ["electronic", "pop"],
    "jazz": ["classical", "hiphop"],
    "classical": ["jazz", "folk"],
    "folk": ["rock", "classical"],
    "pop": ["rock", "electronic", "hiphop"],
}

# Drum patterns on 16 sixteenth-notes per bar: (kick, snare, hat) onset steps.
DRUMS = {
    "rock": ([0, 8, 10], [4, 12], list(range(0, 16, 2))),
    "metal": ([0, 2, 4, 6, 8, 10, 12, 14], [4, 12], list(range(0, 16, 2))),
    "four": ([0, 4, 8, 12], [4, 12], [2, 6, 10, 14]),
    "boombap": ([0, 7, 10], [4, 12], list(range(0, 16, 2))),
    "swing": ([0], [], [0, 4, 6, 8, 12, 14]),
    "none": ([], [], []),
    "light": ([0, 8], [], [4, 12]),
    "pop": ([0, 6, 8], [4, 12], list(range(0, 16, 2))),
}

ADJECTIVES = (
    "Velvet Electric Silent Golden Broken Neon Crimson Hollow Lunar Wild Paper Iron Amber "
    "Midnight Static Glass Rusty Quiet Northern Burning Frozen Distant Electric Scarlet Copper "
    "Secret Cosmic Lazy Wooden Bright Faded Savage Gentle Hidden Restless Solar"
).split()
NOUNS = (
    "Engines Wolves Rivers Machines Echoes Harbours Mirrors Lanterns Owls Satellites Gardens "
    "Pilots Tides Cathedrals Foxes Circuits Ravens Dunes Comets Orchards Sparrows Signals Giants "
    "Horizons Shadows Bells Wires Islands Embers Meadows Strangers Saints Arrows Clocks Valleys"
).split()
WORDS = (
    "love night fire rain road heart light dream stone river city summer ghost sky gold "
    "dance storm echo shadow ocean wire glass morning honey thunder silver home winter blue "
    "signal midnight paper garden velvet smoke window static motion fever harbour island"
).split()

# Listener tags that carry no information about the sound (noise in the tag matrix).
NOISE_TAGS = [
    "favorites",
    "seen live",
    "awesome",
    "my playlist",
    "check out",
    "workout",
    "sad",
    "00s",
]
