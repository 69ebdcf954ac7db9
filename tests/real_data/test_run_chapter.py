"""``make run``'s tool (tools/run_chapter.py): parameters, pages, and failing cells."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tools.convert_notebooks import MYST_NOTEBOOK_HEADER
from tools.run_chapter import find_page, main, parse_parameters, unexpected_errors

HEADER = MYST_NOTEBOOK_HEADER + "\n# A page\n"

PAGE = (
    HEADER
    + """
```{code-cell} ipython3
:tags: [parameters]

dataset = "music_world"  # the switch
data_path = None
grid = (1, 2)
```

```{code-cell} ipython3
:tags: [raises-exception]

raise NotImplementedError("an exercise stub fails on purpose")
```

```{code-cell} ipython3
print(f"RESULT {dataset} {data_path} {grid}")
assert dataset != "broken", "a failing assert fails the run"
```
"""
)


def test_parameters_are_literals_text_or_paths(tmp_path, monkeypatch):
    known = ["dataset", "data_path", "grid", "k"]
    monkeypatch.chdir(tmp_path)
    values = parse_parameters(
        ["dataset=lastfm_hetrec2011", "data_path=data/x", "grid=(8, 16)", "k=None"], known
    )
    assert values == {
        "dataset": "lastfm_hetrec2011",
        "data_path": str(tmp_path / "data" / "x"),
        "grid": [8, 16],
        "k": None,
    }
    assert parse_parameters(["data_path=~/hetrec"], known)["data_path"] == str(
        Path("~/hetrec").expanduser()
    )
    with pytest.raises(SystemExit, match="'datasets' is not a parameter.*dataset, data_path"):
        parse_parameters(["datasets=lastfm_1k"], known)
    with pytest.raises(SystemExit, match="is not name=value"):
        parse_parameters(["lastfm_1k"], known)


def test_chapters_are_found_by_name_or_unique_prefix():
    assert find_page("02_als").name == "02_als.md"
    assert find_page("02b").name == "02b_als_at_scale.md"
    assert find_page("chapters/03_audio_features.md").name == "03_audio_features.md"
    with pytest.raises(SystemExit, match="matches several chapters"):
        find_page("02")
    with pytest.raises(SystemExit, match="no chapter '99_x'"):
        find_page("99_x")


def test_errors_of_cells_tagged_raises_exception_do_not_count():
    nb = nbformat.v4.new_notebook()
    error = nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=[])
    stub = nbformat.v4.new_code_cell("raise ValueError('bad')", outputs=[error])
    stub.metadata["tags"] = ["raises-exception"]
    nb.cells = [stub]
    assert unexpected_errors(nb) == []
    nb.cells.append(nbformat.v4.new_code_cell("1 / 0", outputs=[error]))
    assert unexpected_errors(nb) == [(1, "ValueError: bad")]


def test_a_page_runs_with_other_parameters_and_a_failing_cell_fails_the_run(tmp_path, capsys):
    page = tmp_path / "page.md"
    page.write_text(PAGE)
    out = tmp_path / "runs"
    assert main([str(page), "dataset=lastfm_1k", "grid=[3]", "--out", str(out)]) == 0
    executed = nbformat.read(out / "page.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert "RESULT lastfm_1k None [3]" in printed
    assert "RESULT lastfm_1k" in capsys.readouterr().out  # shown as it runs
    assert main([str(page), "dataset=broken", "--out", str(out), "--quiet"]) == 1
    assert "a failing assert fails the run" in capsys.readouterr().err
