"""The chapters' data switch (course_lib.datasets.sources) and the split by time, on fixtures."""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from course_lib.datasets import DATASETS, load_chapter_data
from course_lib.evaluation import split_plays, split_plays_by_time

from .conftest import LOG_FILE, TAGS


def test_an_unknown_dataset_is_refused_with_the_known_names():
    with pytest.raises(ValueError, match="unknown dataset 'hetrec'.*music_world, lastfm_hetr"):
        load_chapter_data("hetrec")
    assert DATASETS == ("music_world", "lastfm_hetrec2011", "lastfm_1k")


def test_the_music_world_is_the_default_and_offers_everything(capsys):
    data = load_chapter_data(world_size="tiny")
    assert data.dataset == "music_world" and data.is_synthetic and data.known_results
    assert data.plays.shape == data.world.plays.shape and (data.plays != data.world.plays).nnz == 0
    assert len(data.item_names) == data.plays.shape[1] and data.item_kind == "track"
    assert data.provides("genres", "a map") and not data.provides("timestamps", "section 4")
    assert capsys.readouterr().out == (
        "Skipped on music_world: section 4 needs timestamps, which these data lack.\n"
    )
    train, test = data.split(0.2, seed=3)
    expected = split_plays(data.plays, test_fraction=0.2, seed=3)
    assert (train != expected[0]).nnz == 0 and (test != expected[1]).nnz == 0
    with pytest.raises(ValueError, match="music world is generated, not read"):
        load_chapter_data("music_world", "some/folder")
    with pytest.raises(ValueError, match="unknown feature"):
        data.provides("lyrics", "section 9")


def test_hetrec_plays_from_a_folder_and_from_its_zip(hetrec_folder, tmp_path):
    data = load_chapter_data("lastfm_hetrec2011", hetrec_folder)
    raw = pd.read_csv(hetrec_folder / "user_artists.dat", sep="\t")
    assert data.plays.shape == (raw.userID.nunique(), 500) and data.plays.nnz == len(raw)
    assert data.plays.sum() == raw.weight.sum() and np.diff(data.plays.indptr).max() <= 50
    assert data.item_kind == "artist" and data.item_names[1] == "Sigur Rós"  # UTF-8 names
    assert data.tags is None and data.first_played is None and not data.complete
    assert not data.known_results and not data.provides("genres", "section 10")
    assert "NOT the complete data set" in data.summary()
    archive = tmp_path / "hetrec2011-lastfm-2k.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for file in hetrec_folder.iterdir():
            zf.write(file, file.name)
    zipped = load_chapter_data("lastfm_hetrec2011", archive, verify=False)
    assert (zipped.plays != data.plays).nnz == 0


def test_hetrec_tags_are_latin1_and_optional(hetrec_folder, tmp_path):
    data = load_chapter_data("lastfm_hetrec2011", hetrec_folder, tags=True)
    assert data.tag_names == TAGS and data.provides("tags", "chapter 07")
    assert data.tags.shape == (data.plays.shape[1], len(TAGS)) and data.tags.nnz > 0
    assigned = sum(1 for _ in open(hetrec_folder / "user_taggedartists.dat", "rb")) - 1
    assert data.summary().splitlines()[2] == (
        f"tags: {assigned:,} tag assignments read (the readme: 186,479), {len(TAGS)} tags"
    )
    plays_only = tmp_path / "plays_only"
    plays_only.mkdir()
    for name in ("user_artists.dat", "artists.dat"):
        (plays_only / name).write_bytes((hetrec_folder / name).read_bytes())
    assert load_chapter_data("lastfm_hetrec2011", plays_only).plays.nnz == data.plays.nnz
    with pytest.raises(FileNotFoundError, match="tags.dat not found.*pass tags=False"):
        load_chapter_data("lastfm_hetrec2011", plays_only, tags=True)


def _first_listens_from_the_log(folder):
    log = pd.read_csv(
        folder / LOG_FILE,
        sep="\t",
        header=None,
        usecols=[0, 1, 3],
        quoting=3,
        names=["user", "time", "artist"],
        keep_default_na=False,
    )
    log["seconds"] = pd.to_datetime(log.time, utc=True).astype("int64") // 10**9
    return log.groupby(["user", "artist"]).seconds.min()


def test_lastfm_1k_plays_come_with_first_listen_times(lastfm_1k_folder, lastfm_1k_registry):
    data = load_chapter_data("lastfm_1k", lastfm_1k_folder)
    assert "verified" in data.info["checksum"] and data.provides("timestamps", "the split")
    first = data.first_played
    assert np.array_equal(first.indptr, data.plays.indptr)
    assert np.array_equal(first.indices, data.plays.indices)
    expected = _first_listens_from_the_log(lastfm_1k_folder)
    users = list(pd.read_csv(lastfm_1k_folder / "userid-profile.tsv", sep="\t")["#id"])
    for user, artist in list(expected.index)[:: max(1, len(expected) // 40)]:
        column = list(data.item_names).index(artist)
        row = users.index(user)
        assert first[row, column] == expected[(user, artist)]
    assert data.plays.sum() == data.info["events"]  # every scrobble counted


def test_lastfm_1k_keeps_the_most_listened_artists(lastfm_1k_folder, lastfm_1k_registry):
    full = load_chapter_data("lastfm_1k", lastfm_1k_folder, max_items=None)
    top = load_chapter_data("lastfm_1k", lastfm_1k_folder, max_items=50)
    listeners = np.diff(full.plays.tocsc().indptr)
    kept = np.isin(full.item_names, top.item_names)
    assert top.plays.shape[1] == 50 and listeners[kept].min() >= listeners[~kept].max()
    assert top.info["artists_dropped"] == full.plays.shape[1] - 50
    with pytest.raises(ValueError, match="Last.fm 1K has no tags"):
        load_chapter_data("lastfm_1k", lastfm_1k_folder, tags=True)


def test_lastfm_1k_fixture_fails_the_published_md5(lastfm_1k_folder):
    with pytest.raises(ValueError, match="(?i)md5"):
        load_chapter_data("lastfm_1k", lastfm_1k_folder)


def test_the_time_split_holds_out_each_users_latest_discoveries(
    lastfm_1k_folder, lastfm_1k_registry
):
    data = load_chapter_data("lastfm_1k", lastfm_1k_folder)
    train, test = data.split(test_fraction=0.25)
    assert ((train + test) != data.plays).nnz == 0 and train.multiply(test).nnz == 0
    _, random_test = split_plays(data.plays, test_fraction=0.25, seed=0)
    assert np.array_equal(np.diff(test.indptr), np.diff(random_test.indptr))
    for u in range(data.plays.shape[0]):
        seen = data.first_played[u].multiply(train[u] > 0).data
        later = data.first_played[u].multiply(test[u] > 0).data
        if later.size:
            assert seen.max() <= later.min(), f"user {u}: a held-out artist came first"


def test_split_plays_by_time_by_hand():
    plays = sp.csr_matrix(np.array([[5, 1, 2, 0], [0, 3, 0, 1], [4, 0, 0, 0]]))
    times = sp.csr_matrix(np.array([[30, 10, 20, 0], [0, 7, 0, 9], [1, 0, 0, 0]], float))
    train, test = split_plays_by_time(plays, times, test_fraction=0.34)
    assert test.toarray().tolist() == [[5, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]]
    assert (train + test != plays).nnz == 0


@pytest.mark.parametrize(
    ("times", "match"),
    [
        (sp.csr_matrix(np.ones((2, 2))), "shape of plays"),
        (sp.csr_matrix(np.array([[1.0, 0, 1], [1, 1, 0]])), "same sparsity pattern"),
        (np.ones((2, 3)), "sparse matrix"),
        (sp.csr_matrix(np.array([[np.nan, 1, 0], [1, 1, 0]])), "NaN"),
    ],
)
def test_split_plays_by_time_refuses_times_that_do_not_fit(times, match):
    plays = sp.csr_matrix(np.array([[1, 2, 0], [3, 4, 0]]))
    with pytest.raises(ValueError, match=match):
        split_plays_by_time(plays, times, 0.5)
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        split_plays_by_time(plays, sp.csr_matrix(plays, dtype=float), 1.0)
