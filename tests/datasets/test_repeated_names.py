"""Names that should be one (issue 25): ids with stray spaces (MSD, Last.fm 1K) and a tag name
given to two tag ids in HetRec's tags.dat."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from course_lib.datasets import load_lastfm_1k, load_lastfm_hetrec2011, load_msd_taste_profile
from course_lib.datasets.lastfm_1k_times import first_listens
from tests.datasets.test_hetrec import TAGS, write_hetrec
from tests.datasets.test_lastfm_1k import EVENTS, write_log
from tests.datasets.test_msd import TRIPLETS, write_triplets


def test_msd_ids_with_stray_spaces_are_one_id_and_the_merge_is_reported(tmp_path) -> None:
    (user, song, _), (other, _, _) = TRIPLETS[0], TRIPLETS[2]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clean = load_msd_taste_profile(write_triplets(tmp_path / "clean"))
    lines = [f"{u}\t{s}\t{c}" for u, s, c in TRIPLETS[:2]] + [f"{other}\t{song} \t4"]
    with pytest.warns(UserWarning) as caught:
        data = load_msd_taste_profile(write_triplets(tmp_path / "spaced", lines))
    message = str(caught[0].message)
    assert f"'{song}' and '{song} ' differ only by spaces around them" in message
    assert f"read as one song, '{song}'" in message
    assert data.info["ids_merged_by_stripping_spaces"] == 1
    assert list(data.items["song_id"]) == sorted({s for _, s, _ in TRIPLETS[:3]})
    assert data.plays[data.user_index[other], data.item_index[song]] == 4
    assert clean.info["ids_merged_by_stripping_spaces"] == 0
    repeat = [f"{user}\t{song}\t1", f"{user}\t {song}\t2"]  # one pair, twice, once stripped
    with (
        pytest.warns(UserWarning, match="differ only by spaces"),
        pytest.raises(ValueError, match=r"line 2: duplicate \(user, item\) pair"),
    ):
        load_msd_taste_profile(write_triplets(tmp_path / "repeat", repeat))


@pytest.mark.parametrize("level", ["artist", "track"])
def test_lastfm_1k_names_with_stray_spaces_are_one_item(tmp_path, level) -> None:
    spaced = [list(e) for e in EVENTS]
    spaced[4][3] = "Björk "  # user_000002 heard "Björk" and "Björk "
    spaced[4][5] = spaced[4][5] + " "
    folder = write_log(tmp_path / "1k", ["\t".join(e) for e in spaced])
    reference = load_lastfm_1k(write_log(tmp_path / "ref"), level=level, verify=False)
    with pytest.warns(UserWarning, match=r"'Björk ?\t?.*' and .*differ only by spaces"):
        data = load_lastfm_1k(folder, level=level, verify=False)
    assert data.info["ids_merged_by_stripping_spaces"] == 1
    assert data.items.equals(reference.items)
    assert (data.plays != reference.plays).nnz == 0
    if level == "artist":  # the second pass (timestamps) keys the events the same way
        assert (first_listens(data) != first_listens(reference)).nnz == 0


def test_a_repeated_tag_name_gives_one_column_and_a_warning(tmp_path) -> None:
    folder = write_hetrec(tmp_path / "h")
    tags = folder / "tags.dat"
    tags.write_bytes(tags.read_bytes() + "4\tchillout \n".encode("latin-1"))
    reference = load_lastfm_hetrec2011(write_hetrec(tmp_path / "ref"))
    tagged = folder / "user_taggedartists.dat"
    tagged.write_bytes(tagged.read_bytes() + b"5\t52\t4\t1\t4\t2009\n")
    with pytest.warns(UserWarning) as caught:
        data = load_lastfm_hetrec2011(folder)
    message = str(caught[0].message)
    assert "tags.dat: the tag name 'chillout' is given to 2 tag ids" in message
    assert "tagID 3 (line 4), tagID 4 (line 5)" in message and "Fix" in message
    assert data.tag_names == [name for _, name in TAGS] == reference.tag_names
    assert len(set(data.tag_names)) == len(data.tag_names)
    assert list(data.tag_ids) == [1, 2, 3] and data.info["tag_ids_merged_by_name"] == 1
    column = data.tag_names.index("chillout")
    artist = data.item_index[52]
    assert data.tags[artist, column] == reference.tags[artist, column] + 1
    assert data.tags.sum() == reference.tags.sum() + 1
    assert np.array_equal(data.tags.toarray()[:, :2], reference.tags.toarray()[:, :2])
