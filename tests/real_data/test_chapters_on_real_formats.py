"""Each chapter's real-data path, run top to bottom on fixtures in the real data's formats.

The chapters run with ``dataset="lastfm_hetrec2011"`` or ``"lastfm_1k"`` and ``data_path`` a
fixture folder (chapter 03 with ``audio_path`` a folder of clips), through ``make run``'s tool,
with small settings where a chapter is slow; every assertion of the chapter that applies to a
sample of the data must hold (the results it describes are asserted on the complete data only,
``ChapterData.known_results``). Nothing is downloaded. About two minutes on two cores.
"""

from __future__ import annotations

import nbformat
import pytest

from tools.run_chapter import main

from .conftest import write_hetrec

SMALL = {
    "02_als": ["naive_users=50", "naive_iterations=3", "factor_grid=[8, 16]"],
    # one size, eight copies of the fixture: timings well above Spark's noise
    "02b_als_at_scale": ["tiles=[8]"],
    "06_ann_search": ["n_synthetic=20000", "n_queries=100", "catalogue_sizes=[5000, 20000]"],
}


def run(chapter, tmp_path, *params):
    out = tmp_path / "runs"
    rc = main([chapter, *params, *SMALL.get(chapter, []), "--out", str(out), "--quiet"])
    assert rc == 0, f"{chapter} failed with {params}: see {out}"
    notebook = nbformat.read(out / f"{chapter}.ipynb", as_version=4)
    return "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))


@pytest.mark.parametrize("chapter", ["01_implicit_feedback", "02_als", "02b_als_at_scale"])
def test_chapters_run_on_hetrec_files(chapter, hetrec_folder, tmp_path):
    printed = run(chapter, tmp_path, "dataset=lastfm_hetrec2011", f"data_path={hetrec_folder}")
    assert "300 users x 500 artists" in printed
    if chapter == "02_als":  # its section 13 ran, on a sample: nothing asserted there
        assert "largest play count:" in printed


def test_chapter_06_runs_on_hetrec_files(tmp_path_factory, tmp_path):
    # a catalogue large enough for recall comparisons over a few hundred queries
    folder = write_hetrec(tmp_path_factory.mktemp("big") / "hetrec", 600, 2000, seed=1)
    printed = run("06_ann_search", tmp_path, "dataset=lastfm_hetrec2011", f"data_path={folder}")
    assert "ALS item vectors" in printed


@pytest.mark.parametrize("chapter", ["01_implicit_feedback", "02_als"])
def test_chapters_run_on_lastfm_1k_files_split_by_time(
    chapter, lastfm_1k_folder, lastfm_1k_registry, tmp_path
):
    printed = run(chapter, tmp_path, "dataset=lastfm_1k", f"data_path={lastfm_1k_folder}")
    assert "lastfm_1k: 120 users x" in printed


def test_chapter_03_shows_your_own_clips(clips_folder, tmp_path):
    out = tmp_path / "runs"
    assert (
        main(["03", f"audio_path={clips_folder}", "world_size=tiny", "--out", str(out), "--quiet"])
        == 0
    )
    notebook = nbformat.read(out / "03_audio_features.ipynb", as_version=4)
    tables = "".join(
        o.get("data", {}).get("text/plain", "")
        for c in notebook.cells
        for o in c.get("outputs", [])
    )
    for name in ("a_mono_22050.wav", "b_stereo_44100.flac", "c_stereo_48000.ogg"):
        assert name in tables
    assert "notes.txt" not in tables
