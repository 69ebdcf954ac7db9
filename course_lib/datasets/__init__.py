"""Loaders for real music data: Last.fm (HetRec 2011 and 1K), the MSD taste profile and FMA.

The chapters run on the synthetic music world (:mod:`course_lib.music_world`) by default;
chapters 01, 02, 02b, 06 and 07 take the real Last.fm plays instead when their ``dataset``
parameter says so, through :func:`load_chapter_data` (:mod:`.sources`), and the data cards in
``datasets/`` (``lastfm_hetrec2011.md``, ``lastfm_1k.md``, ``msd_taste_profile.md``,
``fma.md``) use these loaders. They give the music world's shapes on real data:

- play counts are a ``scipy.sparse.csr_matrix`` of shape (n_users, n_items), dtype int32;
- ``users`` / ``items`` are DataFrames whose row *k* describes row / column *k* of ``plays``;
- raw identifiers are mapped to contiguous indices and the mapping is kept
  (``user_index``, ``item_index``: raw id -> index).

Data come from a checksum registry, ``datasets/registry.csv`` (:mod:`.catalog`). :func:`fetch`
downloads with pooch into the course cache, ``course_lib.cache.cache_dir("data")``
(``$COURSE_LIB_CACHE/data``, default ``~/.cache/course_lib/data``), and verifies the hash; an
entry without any recorded hash is never downloaded: pass the file you downloaded yourself with
``path=``. Every loader takes ``path`` (an archive, the extracted folder or the data file itself)
and then never touches the network; a local archive whose hash the registry knows is verified
too (``verify=False`` skips that).

Parsing is strict and reports the file, the line and the fix, with any quoted content cut to
100 characters: wrong number of fields, non-integer, negative, zero, empty or NaN counts,
duplicate rows (an error by default, summed with ``duplicates="sum"``), empty lines in the
middle of a file, empty files, undecodable bytes, UTF-16 files, a carriage return inside a
line, truncated, corrupt or encrypted archives, formats the loaders do not read (7-Zip, RAR),
checksum mismatches, ambiguous or misplaced files in a folder, an empty path (which would mean
the current folder). A folder is searched in itself and one level of subfolders, not deeper.
Ids are stripped of surrounding spaces (a warning names spellings this merges). Old-Mac
(``\\r``) line endings are read. Nothing is unpickled.

Files: :mod:`.catalog` (the registry), :mod:`.checksums`, :mod:`.download` (cache and local
checks), :mod:`.archives` (zip, tar, folders), :mod:`.encoding` (UTF-8 or Latin-1, per file),
:mod:`.tsv` (block parser), :mod:`.fields` (field checks), :mod:`.plays` (the result type), and
one file per data set: :mod:`.hetrec`, :mod:`.lastfm_1k` with :mod:`.lastfm_1k_times`,
:mod:`.msd`, :mod:`.fma` with :mod:`.fma_audio`; and :mod:`.sources`, the chapters' switch.

References: Cantador, Brusilovsky & Kuflik (2011), HetRec 2011; Celma (2010), *Music
Recommendation and Discovery*; Bertin-Mahieux et al. (2011), The Million Song Dataset;
Defferrard et al. (2017), FMA: A Dataset for Music Analysis.
"""

from __future__ import annotations

from .catalog import RegistryEntry, registry
from .checksums import verify_checksum
from .download import data_dir, fetch
from .fma import load_fma
from .fma_audio import FMA
from .hetrec import LastfmHetrec2011, load_lastfm_hetrec2011
from .lastfm_1k import load_lastfm_1k
from .msd import load_msd_taste_profile
from .plays import PlayData
from .sources import DATASETS, ChapterData, load_chapter_data

__all__ = [
    "DATASETS",
    "FMA",
    "ChapterData",
    "LastfmHetrec2011",
    "PlayData",
    "RegistryEntry",
    "data_dir",
    "fetch",
    "load_chapter_data",
    "load_fma",
    "load_lastfm_1k",
    "load_lastfm_hetrec2011",
    "load_msd_taste_profile",
    "registry",
    "verify_checksum",
]
