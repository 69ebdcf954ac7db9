"""The sizes of the music world: "tiny" for tests, "small" for the chapters, "large" for benchmarks.

Part of the music world toured in chapter 00 and documented in ``datasets/music_world.md``; every
chapter picks a size in its ``parameters`` cell (``world_size``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GENERATOR_VERSION", "SIZES", "WorldSize"]

#: Bump when the generator changes: it keys the on-disk cache.
GENERATOR_VERSION = 2


@dataclass(frozen=True)
class WorldSize:
    """The knobs of one world size (see :data:`SIZES`)."""

    n_users: int
    artists_per_genre: int
    albums_per_artist: int
    clip_seconds: float
    draws_per_user: float  # mean number of listening draws per user
    n_impressions: int  # rows of the logged-feedback table


SIZES: dict[str, WorldSize] = {
    "tiny": WorldSize(
        n_users=200,
        artists_per_genre=3,
        albums_per_artist=1,
        clip_seconds=3.0,
        draws_per_user=18.0,
        n_impressions=4_000,
    ),
    "small": WorldSize(
        n_users=2_500,
        artists_per_genre=12,
        albums_per_artist=2,
        clip_seconds=10.0,
        draws_per_user=30.0,
        n_impressions=40_000,
    ),
    "large": WorldSize(
        n_users=120_000,
        artists_per_genre=450,
        albums_per_artist=2,
        clip_seconds=10.0,
        draws_per_user=25.0,
        n_impressions=200_000,
    ),
}
