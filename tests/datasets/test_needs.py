"""The ``%%needs`` cell magic: a cell runs only where the chapter's data offer a feature."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from IPython.core.interactiveshell import InteractiveShell

from course_lib.datasets import ChapterData
from course_lib.datasets.needs import should_run
from course_lib.datasets.sources import FEATURES


def chapter_data(dataset: str) -> ChapterData:
    plays = sp.csr_matrix(np.array([[1, 0, 3], [0, 2, 0]], dtype=np.int32))
    return ChapterData(
        dataset=dataset,
        plays=plays,
        item_names=np.array(["a", "b", "c"]),
        item_kind="artist",
        features=FEATURES[dataset],
        source="a test",
    )


@pytest.fixture
def shell():
    ipython = InteractiveShell.instance()
    ipython.run_line_magic("load_ext", "course_lib.datasets")
    ipython.user_ns.pop("data", None)
    yield ipython
    ipython.user_ns.pop("data", None)


def run(shell, source):
    return shell.run_cell(source, store_history=False)


def test_cell_runs_unchanged_where_the_data_offer_the_feature(shell, capsys):
    shell.user_ns["data"] = chapter_data("music_world")
    result = run(shell, "%%needs audio section 3, the convnet,\nx = 41\nx + 1")
    assert result.success and result.result == 42 and shell.user_ns["x"] == 41
    quiet = run(shell, "%%needs audio\nx = 5\nx;  # a semicolon hides the value")
    assert quiet.success and quiet.result is None and shell.user_ns["x"] == 5
    assert "Skipped" not in capsys.readouterr().out


def test_cell_is_skipped_with_one_line_or_silently(shell, capsys):
    shell.user_ns["data"] = chapter_data("lastfm_hetrec2011")
    shell.user_ns.pop("y", None)
    first = run(shell, "%%needs audio section 3, the convnet,\ny = 1")
    later = run(shell, "%%needs audio\ny = 2")
    assert first.success and later.success and "y" not in shell.user_ns
    assert first.result is None and later.result is None
    assert capsys.readouterr().out == (
        "Skipped on lastfm_hetrec2011: section 3, the convnet, needs audio, "
        "which these data lack.\n"
    )
    assert run(shell, "%%needs tags\ny = 3").success and shell.user_ns["y"] == 3


def test_an_error_in_the_cell_fails_it_with_its_own_exception(shell):
    shell.user_ns["data"] = chapter_data("music_world")
    result = run(shell, "%%needs audio\nz = 1\nassert z == 2, 'on purpose'\nz = 3")
    assert isinstance(result.error_in_exec, AssertionError)
    assert str(result.error_in_exec) == "on purpose" and shell.user_ns["z"] == 1


def test_ipython_syntax_and_definitions_work_inside(shell):
    shell.user_ns["data"] = chapter_data("music_world")
    result = run(shell, "%%needs genres\ndef twice(v):\n    return 2 * v\n\nw = twice(4)\n%time w")
    assert result.success and shell.user_ns["w"] == 8


@pytest.mark.parametrize(
    ("line", "namespace", "error", "message"),
    [
        ("", {"data": chapter_data("music_world")}, ValueError, "names no feature"),
        ("lyrics", {"data": chapter_data("music_world")}, ValueError, "unknown feature"),
        ("audio", {}, NameError, "run the cell with load_chapter_data"),
        ("audio", {"data": None}, TypeError, "holds a NoneType"),
    ],
)
def test_bad_lines_and_missing_data_are_named(line, namespace, error, message):
    with pytest.raises(error, match=message):
        should_run(line, namespace)


def test_offers_is_quiet_and_checks_the_name(capsys):
    data = chapter_data("lastfm_hetrec2011")
    assert data.offers("tags") and not data.offers("audio")
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="unknown feature"):
        data.offers("lyrics")
