"""Tests of course_lib.fusion.talk (chapter 07, section 5): the talk's table beside ours."""

from __future__ import annotations

import pandas as pd
import pytest

from course_lib import fusion as fu


def test_results_table_ranks_and_agreement():
    ours = {
        "audio (patches)": {"cosine_distance": 0.5, "epochs": 3, "seconds_per_epoch": 1.0},
        "attributes": {"cosine_distance": 0.3},
        "tags": {"cosine_distance": 0.2},
        "extra row": {"cosine_distance": 0.1},
    }
    t = fu.results_table(ours)
    assert t.loc["attributes", "cos. distance (talk, quoted)"] == 0.15
    assert t.loc["attributes", "talk's input"] == "MGP"
    assert t.loc["audio (patches)", "rank (ours)"] == 3 and t.loc["tags", "rank (ours)"] == 1
    assert t.loc["attributes", "same rank?"] == "no"
    assert t.loc["audio (patches)", "same rank?"] == "yes"
    assert t.loc["extra row", "same rank?"] == "" and pd.isna(t.loc["extra row", "rank (ours)"])
    agree, pairs, notes = fu.ordering_agreement(t)
    assert (agree, pairs) == (2, 3) and len(notes) == 1 and "attributes vs tags" in notes[0]
    with pytest.raises(ValueError, match="cosine_distance"):
        fu.results_table({"x": {}})


def test_talk_results_quote_the_six_rows_of_the_slides():
    assert len(fu.TALK_RESULTS) == 6
    assert fu.TALK_RESULTS["attributes"]["cosine_distance"] == 0.15
    assert min(fu.TALK_RESULTS, key=lambda r: fu.TALK_RESULTS[r]["cosine_distance"]) == (
        "attributes"
    )


# --- issue 17 ----------------------------------------------------------------------------------


def test_results_table_refuses_distances_that_are_not_numbers():
    with pytest.raises(TypeError, match=r"ours\['tags'\]\['cosine_distance'\] must be a number"):
        fu.results_table({"tags": {"cosine_distance": "0.2"}})
    with pytest.raises(TypeError, match="must be a number"):
        fu.results_table({"tags": {"cosine_distance": True}})
    with pytest.raises(ValueError, match=r"ours\['tags'\]\['cosine_distance'\] must be a finite"):
        fu.results_table({"tags": {"cosine_distance": float("nan")}})
    with pytest.raises(ValueError, match="ours is empty"):
        fu.results_table({})
    with pytest.raises(ValueError, match="has no 'cosine_distance'"):
        fu.results_table({"tags": 0.2})
