"""One switch for the chapters: the plays of the music world, or of a real data set.

Part of :mod:`course_lib.datasets`. Chapters 01, 02, 02b, 06 and 07b have ``dataset`` and
``data_path`` in their ``parameters`` cell and load their plays with :func:`load_chapter_data`;
the default, ``"music_world"``, is the synthetic world (offline, fast, with ground truth), and
``"lastfm_hetrec2011"`` or ``"lastfm_1k"`` put the real Last.fm plays through the same cells.
A section that needs what a data set lacks (audio, genres, expert attributes, hidden tastes,
timestamps, tags) asks :meth:`ChapterData.provides`, which prints one line and lets the
chapter skip it. Chapter 07b takes its tags from here too (``tags=True``): the music world's
listener tags, or the real listener tags of HetRec's artists.

References: Cantador, Brusilovsky & Kuflik (2011), HetRec 2011; Celma (2010), *Music
Recommendation and Discovery* (Last.fm 1K).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from course_lib.validation import require_int

from .archives import require_path

__all__ = ["DATASETS", "FEATURES", "ChapterData", "load_chapter_data"]

PathLike = str | os.PathLike[str]

#: What each data set offers beyond its plays; chapters ask with :meth:`ChapterData.provides`.
FEATURES: dict[str, frozenset[str]] = {
    "music_world": frozenset(
        {"audio", "genres", "attributes", "hidden_tastes", "new_releases", "tags"}
    ),
    "lastfm_hetrec2011": frozenset({"tags"}),
    "lastfm_1k": frozenset({"timestamps"}),
}
#: The names a chapter's ``dataset`` parameter accepts.
DATASETS = tuple(FEATURES)

#: Sizes published with each real data set (its readme): the complete data have exactly these.
PUBLISHED: dict[str, dict[str, int]] = {
    "lastfm_hetrec2011": {"users": 1892, "items": 17632, "pairs": 92834},
    "lastfm_1k": {"users": 992, "events": 19_150_868},
}
#: HetRec 2011's tag assignments (user, tag, artist) as its readme counts them; reported, with
#: the number read, when the tags are loaded. ``complete`` is about the plays only.
PUBLISHED_TAG_ASSIGNMENTS = 186_479

_ITEM_KIND = {"music_world": "track", "lastfm_hetrec2011": "artist", "lastfm_1k": "artist"}
_FEATURE_WORDS = {
    "audio": "audio",
    "genres": "genres",
    "attributes": "expert attributes",
    "hidden_tastes": "the users' hidden tastes",
    "new_releases": "new releases",
    "tags": "tags",
    "timestamps": "timestamps",
}


@dataclass(repr=False)
class ChapterData:
    """The plays a chapter runs on, and what else the data set offers.

    Attributes
    ----------
    dataset : str
        One of :data:`DATASETS`.
    plays : scipy.sparse.csr_matrix, int32, shape (n_users, n_items)
        Play counts, users x items (tracks in the music world, artists in Last.fm).
    item_names : numpy.ndarray of str
        Name of column i of ``plays``: a track title or an artist name.
    item_kind : str
        ``"track"`` or ``"artist"``, for printed text.
    features : frozenset of str
        What the data set offers beyond plays (:data:`FEATURES`).
    source : str
        Where the plays come from.
    info : dict
        The loader's counts (lines read, what was verified ...).
    world : MusicWorld or None
        The music world itself (audio, genres, attributes, hidden tastes), else ``None``.
    tags, tag_names
        Items x tags counts (csr int32) and the tag of each column, when tags were asked for
        and the data set has them; else ``None``.
    first_played : scipy.sparse.csr_matrix or None
        First-listen time (Unix seconds) of every played pair, where the data set has
        timestamps (Last.fm 1K); else ``None``.
    """

    dataset: str
    plays: sp.csr_matrix
    item_names: np.ndarray
    item_kind: str
    features: frozenset[str]
    source: str
    info: dict[str, Any] = field(default_factory=dict)
    world: Any = None
    tags: sp.csr_matrix | None = None
    tag_names: list[str] | None = None
    first_played: sp.csr_matrix | None = None

    @property
    def items_word(self) -> str:
        """``"tracks"`` or ``"artists"``."""
        return self.item_kind + "s"

    @property
    def is_synthetic(self) -> bool:
        """True for the music world."""
        return self.dataset == "music_world"

    @property
    def complete(self) -> bool:
        """Whether these are the complete published data (always true for the music world).

        A real data set is complete when its sizes are those of its readme (:data:`PUBLISHED`):
        a sample, a prefix read with ``max_lines`` or a test fixture is not. Chapters check
        what is known about the real data only on the complete data.
        """
        published = PUBLISHED.get(self.dataset)
        if published is None:
            return True
        if self.dataset == "lastfm_hetrec2011":
            return (self.info.get("users"), self.info.get("items"), self.plays.nnz) == (
                published["users"],
                published["items"],
                published["pairs"],
            )
        events = self.info.get("events", 0) + self.info.get("skipped_lines", 0)
        return self.info.get("users") == published["users"] and events == published["events"]

    @property
    def known_results(self) -> bool:
        """Whether the chapters' text describes the results on these data, and asserts them.

        True for the music world and for the complete HetRec 2011 data, whose runs the
        chapters describe; false for a sample, a test fixture, or Last.fm 1K (no run of the
        chapters on it is described). The chapters assert the results they describe (a model
        beating a baseline, a trend over a grid) only where this is true; shapes, invariants
        and agreements between two implementations are asserted on every data set.
        """
        return self.is_synthetic or (self.dataset == "lastfm_hetrec2011" and self.complete)

    def offers(self, feature: str) -> bool:
        """Whether the data offer ``feature`` (one of :data:`FEATURES`' words); prints nothing.

        Raises
        ------
        ValueError
            ``feature`` is not a feature of any data set (the message lists them).
        """
        if feature not in _FEATURE_WORDS:
            raise ValueError(f"unknown feature {feature!r}; choose one of {sorted(_FEATURE_WORDS)}")
        return feature in self.features

    def provides(self, feature: str, needed_by: str) -> bool:
        """Whether the data offer ``feature``; if not, print one line saying what is skipped.

        Parameters
        ----------
        feature : str
            One of ``"audio"``, ``"genres"``, ``"attributes"``, ``"hidden_tastes"``,
            ``"new_releases"``, ``"tags"``, ``"timestamps"``.
        needed_by : str
            What needs it, for the printed line (e.g. ``"the map of section 10"``).
        """
        if self.offers(feature):
            return True
        print(
            f"Skipped on {self.dataset}: {needed_by} needs {_FEATURE_WORDS[feature]}, "
            "which these data lack."
        )
        return False

    def split(
        self, test_fraction: float = 0.2, seed: int = 0
    ) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """Chapter 01's split: by time where the data have timestamps, else at random per user.

        Returns ``(train, test)`` from :func:`course_lib.evaluation.split_plays_by_time` (Last.fm
        1K) or :func:`course_lib.evaluation.split_plays` (the others; ``seed`` fixes it).
        """
        from course_lib.evaluation import split_plays
        from course_lib.evaluation.time_split import split_plays_by_time

        if self.first_played is not None:
            return split_plays_by_time(self.plays, self.first_played, test_fraction)
        return split_plays(self.plays, test_fraction=test_fraction, seed=seed)

    def summary(self) -> str:
        """The data set and its size; for real data, whether it is complete (a second line).

        With HetRec's tags loaded, a third line gives the tag assignments read beside the
        readme's count (a tag file cut short shows here; ``complete`` looks at the plays).
        """
        n_users, n_items = self.plays.shape
        line = (
            f"{self.dataset}: {n_users} users x {n_items} {self.items_word}, "
            f"{self.plays.nnz} (user, {self.item_kind}) pairs with plays"
        )
        if self.is_synthetic:
            return line + " (synthetic)"
        published = ", ".join(f"{v:,} {k}" for k, v in PUBLISHED[self.dataset].items())
        state = "complete" if self.complete else "NOT the complete data set"
        lines = [line, f"{state} (the readme: {published}); from {self.source}"]
        if self.tags is not None and "tag_assignments" in self.info:
            lines.append(
                f"tags: {self.info['tag_assignments']:,} tag assignments read (the readme: "
                f"{PUBLISHED_TAG_ASSIGNMENTS:,}), {self.tags.shape[1]:,} tags"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"ChapterData({self.summary()})"


def load_chapter_data(
    dataset: str = "music_world",
    data_path: PathLike | None = None,
    *,
    world_size: str = "small",
    seed: int = 0,
    tags: bool = False,
    max_items: int | None = 5_000,
    max_lines: int | None = None,
    verify: bool = True,
) -> ChapterData:
    """The plays of a chapter's ``dataset`` parameter, users x items, with what else it offers.

    Parameters
    ----------
    dataset : {"music_world", "lastfm_hetrec2011", "lastfm_1k"}
        The synthetic world (:func:`course_lib.music_world.make_music_world`), HetRec 2011
        Last.fm (:func:`~course_lib.datasets.load_lastfm_hetrec2011`: users x artists, the
        listening counts of each user's top artists) or Last.fm 1K
        (:func:`~course_lib.datasets.load_lastfm_1k`: every scrobble, counted per user and
        artist, with first-listen times for a split by time).
    data_path : path-like, optional
        The real data set's archive, extracted folder (or, for Last.fm 1K, the ``.tsv``);
        ``None`` downloads it once into the course cache and verifies it against
        ``datasets/registry.csv``. Must be ``None`` for the music world.
    world_size, seed
        The music world's size and seed (ignored for real data).
    tags : bool
        Also load HetRec's items x tags counts (``tags.dat`` and ``user_taggedartists.dat``);
        the music world always comes with its listener tags, Last.fm 1K has none.
    max_items : int or None
        Last.fm 1K only: keep the ``max_items`` artists with the most listeners (ties: the
        earlier name). Its 177,000 artist spellings, most heard by one user, would make item
        kNN's item x item matrix too large for a laptop. ``None`` keeps all.
    max_lines : int, optional
        Last.fm 1K only: read the first ``max_lines`` events (a quick look; not complete).
    verify : bool
        Check a local archive against the registry (see the loaders).

    Returns
    -------
    ChapterData

    Raises
    ------
    ValueError
        An unknown ``dataset`` (the message lists the known ones), an empty ``data_path`` (it
        would mean the current folder), a ``data_path`` for the music world, tags asked of
        Last.fm 1K, and whatever the loaders refuse (file, line and fix).
    FileNotFoundError
        ``data_path`` does not exist or lacks a file of the data set.
    """
    if not isinstance(dataset, str) or dataset not in FEATURES:
        raise ValueError(
            f"unknown dataset {dataset!r}: choose one of {', '.join(DATASETS)} (the data cards "
            "in datasets/ describe the real ones)"
        )
    if not isinstance(tags, bool):
        raise TypeError(f"tags must be True or False, got {tags!r}")
    if max_items is not None:
        max_items = require_int(max_items, "max_items", minimum=1)
    if data_path is not None:
        if not isinstance(data_path, str | os.PathLike):
            raise TypeError(
                f"data_path must be a path (str or pathlib.Path) or None, got {data_path!r}"
            )
        data_path = require_path(data_path, "data_path")  # "" would be the current folder
    if dataset == "music_world":
        if data_path is not None:
            raise ValueError(
                f"data_path={str(data_path)!r} was given, but the music world is generated, not "
                "read: pass data_path=None, or dataset='lastfm_hetrec2011' (or 'lastfm_1k') to "
                "read that folder"
            )
        return _music_world(world_size, seed)
    if dataset == "lastfm_hetrec2011":
        return _hetrec(data_path, tags, verify)
    if tags:
        raise ValueError(
            "Last.fm 1K has no tags: pass tags=False, or dataset='lastfm_hetrec2011' for real "
            "listener tags"
        )
    return _lastfm_1k(data_path, max_items, max_lines, verify)


def _music_world(world_size: str, seed: int) -> ChapterData:
    from course_lib.music_world import make_music_world

    world = make_music_world(world_size, seed=seed)
    return ChapterData(
        dataset="music_world",
        plays=world.plays,
        item_names=world.tracks["title"].to_numpy(dtype=str),
        item_kind="track",
        features=FEATURES["music_world"],
        source=f"make_music_world({world_size!r}, seed={seed})",
        info={"users": world.plays.shape[0], "items": world.plays.shape[1]},
        world=world,
        tags=world.tags,
        tag_names=list(world.tag_names),
    )


def _hetrec(path: Path | None, tags: bool, verify: bool) -> ChapterData:
    from .hetrec import load_lastfm_hetrec2011

    data = load_lastfm_hetrec2011(path, tags=tags, verify=verify)
    names = data.items["name"].to_numpy(dtype=object)
    ids = data.items["artist_id"].to_numpy()
    names = np.array([n if n else f"artist {i}" for n, i in zip(names, ids)], dtype=str)
    return ChapterData(
        dataset="lastfm_hetrec2011",
        plays=data.plays,
        item_names=names,
        item_kind="artist",
        features=FEATURES["lastfm_hetrec2011"] if tags else frozenset(),
        source=data.source,
        info={**data.info, "users": data.plays.shape[0], "items": data.plays.shape[1]},
        tags=data.tags if tags else None,
        tag_names=data.tag_names if tags else None,
    )


def _lastfm_1k(
    path: Path | None, max_items: int | None, max_lines: int | None, verify: bool
) -> ChapterData:
    from .lastfm_1k import load_lastfm_1k
    from .lastfm_1k_times import first_listens

    data = load_lastfm_1k(
        path, level="artist", on_bad_lines="skip", max_lines=max_lines, verify=verify
    )
    first = first_listens(data, max_lines=max_lines, on_bad_lines="skip")
    plays = data.plays.tocsr()
    info = {**data.info, "users": plays.shape[0], "artists_in_log": plays.shape[1]}
    keep = np.arange(plays.shape[1])
    if max_items is not None and plays.shape[1] > max_items:
        listeners = np.diff(plays.tocsc().indptr)
        keep = np.sort(np.argsort(-listeners, kind="stable")[:max_items])
        info["artists_dropped"] = plays.shape[1] - len(keep)
        info["plays_dropped"] = int(plays.sum() - plays[:, keep].sum())
    plays, first = plays[:, keep], first.tocsr()[:, keep]
    plays.sort_indices()
    first.sort_indices()
    info["items"] = plays.shape[1]
    return ChapterData(
        dataset="lastfm_1k",
        plays=plays,
        item_names=data.items["artist_name"].to_numpy(dtype=str)[keep],
        item_kind="artist",
        features=FEATURES["lastfm_1k"],
        source=data.source,
        info=info,
        first_played=first,
    )
