"""Chapter 07b on real data: HetRec 2011 Last.fm's plays and its listeners' tags of artists.

The test writes a small folder in the exact format of the published archive (tab-separated
files with a header line; CRLF line endings; ``tags.dat`` in Latin-1, ``artists.dat`` in UTF-8
with LF endings), reads it with the chapter's loader and runs the chapter on it with ``make
run``'s tool (``dataset=lastfm_hetrec2011``). Nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pytest

from course_lib import fusion
from course_lib.datasets import load_chapter_data

TAGS = ["rock", "électronique", "chill-out", "hip-hop", "80s", "français"]


def write_hetrec_with_tags(folder: Path, n_users: int = 150, n_artists: int = 240) -> Path:
    """Each user's top artists (Zipf-like popularity, taste groups) and the tags users gave.

    Tags follow listening: a user tags a few of the artists they listen to, so popular artists
    collect many tags and most tail artists none, as on Last.fm.
    """
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    group = rng.integers(len(TAGS), size=n_artists)
    popularity = 1.0 / np.arange(1, n_artists + 1) ** 0.9
    plays, tagged = [], set()
    for user in range(2, n_users + 2):
        taste = rng.integers(len(TAGS))
        weights = popularity * np.where(group == taste, 10.0, 1.0)
        size = int(rng.integers(10, 40))
        artists = rng.choice(n_artists, size=size, replace=False, p=weights / weights.sum())
        counts = np.sort(np.maximum(1, rng.lognormal(5.0, 1.2, size).round()))[::-1]
        plays += [(user, a + 1, int(c)) for a, c in zip(artists, counts)]
        for a in artists[: int(rng.integers(0, 5))]:
            tag = group[a] if rng.random() < 0.8 else rng.integers(len(TAGS))
            tagged.add((user, a + 1, int(tag) + 1, int(rng.integers(1, 29)), 5, 2010))

    def write(name, header, rows, ending, encoding="utf-8"):
        lines = ["\t".join(header), *("\t".join(map(str, r)) for r in rows)]
        (folder / name).write_bytes((ending.join(lines) + ending).encode(encoding))

    write("user_artists.dat", ["userID", "artistID", "weight"], plays, "\r\n")
    artists = [
        (i + 1, f"Artist {i:03d}", f"http://www.last.fm/music/{i + 1}", "")
        for i in range(n_artists)
    ]
    write("artists.dat", ["id", "name", "url", "pictureURL"], artists, "\n")
    write("tags.dat", ["tagID", "tagValue"], list(enumerate(TAGS, 1)), "\r\n", "latin-1")
    header = ["userID", "artistID", "tagID", "day", "month", "year"]
    write("user_taggedartists.dat", header, sorted(tagged), "\r\n")
    friends = [(u, u + 1) for u in range(2, n_users + 1)]
    write("user_friends.dat", ["userID", "friendID"], friends, "\r\n")
    return folder


@pytest.fixture(scope="module")
def hetrec(tmp_path_factory) -> Path:
    return write_hetrec_with_tags(tmp_path_factory.mktemp("hetrec") / "hetrec2011-lastfm-2k")


def test_the_fixture_is_in_the_published_format(hetrec):
    raw = (hetrec / "tags.dat").read_bytes()
    assert b"\r\n" in raw and "électronique".encode("latin-1") in raw
    assert b"\r\n" not in (hetrec / "artists.dat").read_bytes()
    data = load_chapter_data("lastfm_hetrec2011", hetrec, tags=True)
    assert data.tag_names == TAGS, "tags.dat must be read as Latin-1"
    assert data.tags.shape == (data.plays.shape[1], len(TAGS)) and data.tags.nnz > 0
    assert data.provides("tags", "chapter 07") and data.world is None


def test_real_tags_are_scarce_in_the_tail_and_features_are_built(hetrec):
    data = load_chapter_data("lastfm_hetrec2011", hetrec, tags=True)
    buckets = fusion.popularity_buckets(data.plays)
    share = fusion.untagged_share(data.tags, buckets)
    assert share["tail"] > share["head"], "listeners tag the artists they play"
    x = fusion.tag_features(data.tags, weighting="tfidf")
    norms = np.linalg.norm(x, axis=1)
    tagged = np.asarray(data.tags.sum(axis=1)).ravel() > 0
    np.testing.assert_allclose(norms[tagged], 1.0, rtol=1e-5)
    assert np.all(norms[~tagged] == 0), "an untagged artist is a row of zeros"


def test_chapter_07b_runs_on_hetrec_files(hetrec, tmp_path):
    from tools.run_chapter import main

    out = tmp_path / "runs"
    params = ["dataset=lastfm_hetrec2011", f"data_path={hetrec}"]
    assert main(["07b_tags_and_ensembles", *params, "--out", str(out), "--quiet"]) == 0
    notebook = nbformat.read(out / "07b_tags_and_ensembles.ipynb", as_version=4)
    outputs = [o for c in notebook.cells for o in c.get("outputs", [])]
    printed = "".join(o.get("text", "") for o in outputs)
    assert "lastfm_hetrec2011: 150 users x 240 artists" in printed
    assert "Skipped on" not in printed, "07b has no gated cells: nothing is skipped"
    shown = "".join(str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "share untagged" in shown and "ALS: recall@10" in shown, (
        "the real-data section should show its long-tail table on real data"
    )
