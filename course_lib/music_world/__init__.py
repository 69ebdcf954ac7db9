"""The music world: a deterministic synthetic catalogue that every chapter runs on.

Toured in chapter 00 and documented in ``datasets/music_world.md``; used by every later chapter.

One hidden structure drives everything, so that each method of the course has something real to
find:

* **Genres** have a sound (tempo range, mode, timbre, drum pattern, distortion, vocals) and a
  position in a latent *taste space*.
* **Artists** live inside a genre with a sub-style of their own; **albums** group their tracks,
  some with an *intro* or *outro* (short, sparse, noise- or speech-like) and some with a *cover*
  (another artist's melody played with this artist's sound).
* A track's latent **style** vector (``track_style``) mixes its genre's position, a projection of
  its audible parameters and an artist term that no audio reveals. Intros and outros take their
  album's style and covers lean towards the original they cover: collaborative filtering will
  place them with the album or the original, audio will not, which is the outlier story of
  Dieleman (2014).
* **Users** mix a few genres. Listening is sampled by a browsing story: a user picks a genre from
  their mix, is shown a few candidates (popular ones more often, a Zipf-like law), and plays the
  one they like best; sometimes they play a whole album. Repeated plays follow affinity, so play
  counts are implicit feedback, not ratings (Hu, Koren & Volinsky 2008).
* **Audio** is synthesised on demand from the track's parameters (melody on a scale, harmonic
  timbre from a wavetable, bass, drums at the track's tempo, formant "vocals" with vibrato,
  distortion), so a convnet can recover much of the style from sound (van den Oord, Dieleman &
  Schrauwen 2013).
* **Attributes** are noisy expert descriptors of part of the audible parameters (not the timbre
  and production, which only the audio carries) and of the lyrics' themes (which the audio cannot
  carry), in the spirit of Pandora's Music Genome Project; **tags** are
  sparse listener tags whose number grows with observed plays, so the long tail is poorly tagged.
* A **simulator** exposes the exact probability that a user plays a recommended track and a
  deployed stochastic logging policy, with a log of its impressions, for counterfactual
  evaluation (chapter 08).

Everything is a function of ``(size, seed)``: the same pair gives byte-identical arrays, and
:func:`make_music_world` hands every caller its own copy.

One job per file: :mod:`~course_lib.music_world.sizes` (the sizes and the generator version),
:mod:`~course_lib.music_world.vocabulary` (genres, drums, names),
:mod:`~course_lib.music_world.generator` (the catalogue, users, listening, attributes, tags),
:mod:`~course_lib.music_world.synthesis` (the audio),
:mod:`~course_lib.music_world.spectrograms` (the log-mel cache),
:mod:`~course_lib.music_world.simulator` (play probabilities and logged feedback) and
:mod:`~course_lib.music_world.world` (the :class:`MusicWorld` object, :func:`make_music_world`,
:func:`world_checksum`).
"""

from __future__ import annotations

from .sizes import GENERATOR_VERSION, SIZES, WorldSize
from .world import MusicWorld, make_music_world, world_checksum

__all__ = [
    "GENERATOR_VERSION",
    "SIZES",
    "MusicWorld",
    "WorldSize",
    "make_music_world",
    "world_checksum",
]
