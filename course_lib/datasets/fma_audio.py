"""FMA audio on demand: where a clip lives (folder or zip) and its decoded waveform.

Part of :mod:`course_lib.datasets`. No chapter teaches it: the data card ``datasets/fma.md``
uses it (the chapters run on the synthetic music world, :mod:`course_lib.music_world`).
Reference: Defferrard et al. (2017), FMA: A Dataset for Music Analysis.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from course_lib.validation import require_int, require_number

from .archives import archive_guard, zip_names
from .catalog import registry
from .checksums import verify_checksum
from .download import fetch
from .fields import shorten

__all__ = ["FMA"]


@dataclass(repr=False)
class FMA:
    """FMA metadata of one subset, and its audio on demand (Defferrard et al. 2017).

    Attributes
    ----------
    tracks : pandas.DataFrame
        One row per track: ``track_id`` (int), ``genre_top`` (str or missing), ``artist``,
        ``title``, ``duration`` (seconds of the *full* track; clips are 30 s), ``split``
        (training / validation / test, the official split), ``subset`` (the smallest subset
        that holds the track).
    genre_names : list of str
        The top-level genres present, sorted.
    subset : str
        The subset that was selected.
    source : str
        Where the metadata were read from.
    audio_path : pathlib.Path or None
        ``fma_<subset>.zip`` or its extracted folder; ``None`` downloads ``fma_small.zip``
        (checksum-verified) on the first call to :meth:`audio`.
    verify : bool
        Check a local zip named ``fma_small.zip`` against the registry's SHA-1 on first use
        (about a minute for its 7.2 GiB, once per object); ``False`` skips it. Other subsets'
        archives and extracted folders have no registered hash.
    """

    tracks: pd.DataFrame
    genre_names: list[str]
    subset: str
    source: str
    audio_path: Path | None = None
    verify: bool = True
    _zip_index: dict[str, str] | None = field(default=None, init=False)
    _verified: bool = field(default=False, init=False)

    def __repr__(self) -> str:
        n_tracks, n_genres = len(self.tracks), len(self.genre_names)
        return f"FMA(subset={self.subset!r}, {n_tracks} tracks, {n_genres} genres)"

    def audio_file(self, track_id: int) -> str:
        """Where the clip of ``track_id`` lives (``<audio>/000/000002.mp3`` layout).

        Raises
        ------
        TypeError, ValueError
            ``track_id`` is not an integer, or not in the subset.
        FileNotFoundError
            The clip is missing from the folder or zip.
        """
        track_id = require_int(track_id, "track_id", 0)
        self._check_track(track_id)
        root = self._audio_root()
        tid = f"{track_id:06d}"
        if root.is_dir():
            for base in (root, root / f"fma_{self.subset}"):
                candidate = base / tid[:3] / f"{tid}.mp3"
                if candidate.is_file():
                    return str(candidate)
            raise FileNotFoundError(
                f"{root / tid[:3] / (tid + '.mp3')} not found: pass audio_path= the folder "
                f"extracted from fma_{self.subset}.zip (it holds 000/, 001/, ... folders)"
            )
        index = self._zip_entries(root)
        if tid not in index:
            raise FileNotFoundError(
                f"{root} holds no {tid[:3]}/{tid}.mp3: is it fma_{self.subset}.zip?"
            )
        return f"{root}::{index[tid]}"

    def audio(
        self,
        track_id: int,
        sr: int | None = 22050,
        offset: float = 0.0,
        duration: float | None = None,
    ) -> np.ndarray:
        """Decode one clip with librosa: mono float32, resampled to ``sr`` Hz.

        Parameters
        ----------
        track_id : int
            A ``track_id`` of :attr:`tracks`.
        sr : int or None
            Target sample rate (``None`` keeps the file's own rate, usually 44.1 kHz).
        offset, duration : float
            Seconds to skip (>= 0), seconds to read (> 0; ``None``: to the end).

        Raises
        ------
        TypeError, ValueError
            A bad argument (above); a clip that does not decode or decodes to nothing (the
            message names the file and the known broken FMA clips).
        """
        if sr is not None:
            require_int(sr, "sr", 1)
        offset = require_number(offset, "offset", minimum=0.0)
        if duration is not None:
            duration = require_number(duration, "duration", minimum=0.0, strict_minimum=True)
        where = self.audio_file(track_id)
        import librosa

        if "::" in where:
            archive, member = where.split("::", 1)
            with archive_guard(Path(archive)), zipfile.ZipFile(archive) as zf:
                source: Any = io.BytesIO(zf.read(member))
        else:
            source = where
        try:
            with warnings.catch_warnings():
                # librosa announces its fallback from soundfile to audioread; a failure of both
                # is reported below, a success needs no warning
                warnings.filterwarnings("ignore", message="PySoundFile failed")
                warnings.filterwarnings("ignore", category=FutureWarning, module="librosa")
                y, _ = librosa.load(source, sr=sr, mono=True, offset=offset, duration=duration)
        except Exception as err:  # decoders raise many types (LibsndfileError, NoBackendError, ...)
            raise ValueError(_decode_message(where, f"{type(err).__name__}: {err}")) from err
        if y.size == 0:
            raise ValueError(_decode_message(where, "it decoded to zero samples"))
        return y.astype(np.float32, copy=False)

    def _check_track(self, track_id: int) -> None:
        if not np.isin(track_id, self.tracks["track_id"].to_numpy()):
            raise ValueError(
                f"track_id {track_id} is not in the {self.subset!r} subset; pick one from "
                "fma.tracks['track_id'] (or load a larger subset)"
            )

    def _audio_root(self) -> Path:
        if self.audio_path is None:
            if self.subset != "small":
                raise ValueError(
                    "only fma_small.zip is in the registry: pass audio_path= to "
                    f"fma_{self.subset}.zip or its extracted folder"
                )
            self.audio_path = fetch("fma_small")
            self._verified = True
        root = Path(self.audio_path).expanduser()
        if not root.exists():
            raise FileNotFoundError(f"audio_path {root} does not exist")
        if root.is_file() and not root.name.lower().endswith(".zip"):
            raise ValueError(
                f"audio_path {root} is neither a zip nor a folder: pass fma_{self.subset}.zip "
                "or the folder extracted from it"
            )
        return root

    def _zip_entries(self, archive: Path) -> dict[str, str]:
        if self.verify and not self._verified and archive.name == "fma_small.zip":
            known = registry()["fma_small"].known_hash
            if known is not None:
                verify_checksum(
                    archive,
                    known,
                    fix=(
                        "Fix: this is not the registered fma_small.zip (or it is truncated): "
                        "download it again; for a copy you re-packed, pass the extracted folder "
                        "as audio_path=... (a folder has no published hash to check)"
                    ),
                )
            self._verified = True
        if self._zip_index is None:
            names = zip_names(archive)
            self._zip_index = {n.rsplit("/", 1)[-1][:-4]: n for n in names if n.endswith(".mp3")}
        return self._zip_index


def _decode_message(where: str, why: str) -> str:
    return (
        f"could not decode {where} ({shorten(why)}). A few FMA clips are known to be empty or "
        "cut short (e.g. fma_small 099134, 108925 and 133297 hold no audio: mdeff/fma issues #8 "
        "and #41). Fix: skip this track; if every track fails, install an MP3-capable backend "
        "(soundfile >= 0.12 with libsndfile >= 1.1, or ffmpeg for audioread)"
    )
