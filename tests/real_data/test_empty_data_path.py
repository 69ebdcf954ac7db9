"""An empty ``data_path`` (an unset shell variable in ``make run ... data_path=$DATA``) is refused
by ``make run``'s tool and by the chapters' loader, instead of meaning the current folder, where
a copy of the data three levels down was found (issue 25)."""

from __future__ import annotations

import shutil

import pytest

from course_lib.datasets import load_chapter_data
from tools.run_chapter import parse_parameters


@pytest.mark.parametrize("value", ["", " "])
def test_make_run_refuses_an_empty_path_parameter(tmp_path, monkeypatch, value):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match=r"data_path= is empty \(an unset shell variable\?\)"):
        parse_parameters([f"data_path={value}"], ["data_path"])
    assert parse_parameters(["data_path=None"], ["data_path"]) == {"data_path": None}


def test_the_loader_refuses_an_empty_data_path_even_with_a_copy_below(
    hetrec_folder, tmp_path, monkeypatch
):
    deep = tmp_path / "course" / "a" / "b" / "c"
    shutil.copytree(hetrec_folder, deep)
    monkeypatch.chdir(tmp_path / "course")
    for dataset in ("lastfm_hetrec2011", "lastfm_1k"):
        with pytest.raises(ValueError, match=r"^data_path is empty \(''; an unset shell"):
            load_chapter_data(dataset, "")
    with pytest.raises(FileNotFoundError, match=r"looked in .*course and in its subfolders \(a/\)"):
        load_chapter_data("lastfm_hetrec2011", ".")  # the current folder, given on purpose
