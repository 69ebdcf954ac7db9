"""The results table of Nieto (2017) beside ours, and where the two orderings agree.

Taught in chapter 07 (``chapters/07_fusion.md``, section 5 "The talk's table, on the music
world"): the talk's numbers are quoted from its slides (:data:`TALK_RESULTS`), ours are measured,
and the rows both tables share are ranked side by side.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from course_lib.validation import require_number

__all__ = ["TALK_RESULTS", "ordering_agreement", "results_table"]

#: The results table of Nieto (2017), quoted from the talk's slides: test-set cosine distance
#: between predicted and true (unit-norm) item factors, epochs until early stopping and time per
#: epoch, on 83k Pandora tracks. Keys are the course's row names; ``talk_input`` is the talk's
#: wording. "MLG" in the talk is "machine listening genes" (attributes estimated from audio); the
#: course puts its listener-tag model on that row (both are cheaper and noisier than experts).
TALK_RESULTS: dict[str, dict[str, Any]] = {
    "audio (patches)": {
        "talk_input": "Audio (35s patches)",
        "cosine_distance": 0.25,
        "epochs": 22,
        "time_per_epoch": "~2h",
    },
    "audio (full tracks)": {
        "talk_input": "Audio (full tracks)",
        "cosine_distance": 0.21,
        "epochs": None,
        "time_per_epoch": "-",
    },
    "attributes": {
        "talk_input": "MGP",
        "cosine_distance": 0.15,
        "epochs": 37,
        "time_per_epoch": "7s",
    },
    "tags": {"talk_input": "MLG", "cosine_distance": 0.22, "epochs": 37, "time_per_epoch": "7s"},
    "audio + tags": {
        "talk_input": "Audio + MLG",
        "cosine_distance": 0.19,
        "epochs": 37,
        "time_per_epoch": "7s",
    },
    "audio + tags + genres": {
        "talk_input": "Audio + MLG + genres",
        "cosine_distance": 0.16,
        "epochs": 37,
        "time_per_epoch": "7s",
    },
}


def results_table(
    ours: Mapping[str, Mapping[str, Any]], talk: Mapping[str, Mapping[str, Any]] = TALK_RESULTS
) -> pd.DataFrame:
    """Our measured rows beside Nieto's (2017) quoted numbers, with a "same rank?" column.

    Parameters
    ----------
    ours : mapping row name -> {"cosine_distance": float, "epochs": int or None,
        "seconds_per_epoch": float or None}
    talk : mapping row name -> the talk's row (default :data:`TALK_RESULTS`)

    Returns
    -------
    pandas.DataFrame indexed by row name, the talk's columns first: ``talk's input``,
    ``cos. distance (talk, quoted)``, ``epochs (talk)``, ``time / epoch (talk)``, then
    ``cos. distance (ours)``, ``epochs (ours)``, ``s / epoch (ours)``, and ``rank (talk)``,
    ``rank (ours)``, ``same rank?``. Ranks (1 = best) are among the rows that have both numbers;
    other rows get no rank.

    Raises
    ------
    TypeError, ValueError
        No rows; a row without a cosine distance, or whose distance is not a finite number (a
        string such as ``"0.3"``, a bool, NaN).
    """
    if not ours:
        raise ValueError("ours is empty: give at least one measured row")
    rows = {}
    for name, r in ours.items():
        if not isinstance(r, Mapping) or "cosine_distance" not in r:
            raise ValueError(f"row {name!r} has no 'cosine_distance'")
        distance = require_number(r["cosine_distance"], f"ours[{name!r}]['cosine_distance']")
        t = talk.get(name, {})
        rows[name] = {
            "talk's input": t.get("talk_input", ""),
            "cos. distance (talk, quoted)": t.get("cosine_distance", np.nan),
            "epochs (talk)": t.get("epochs"),
            "time / epoch (talk)": t.get("time_per_epoch", ""),
            "cos. distance (ours)": distance,
            "epochs (ours)": r.get("epochs"),
            "s / epoch (ours)": r.get("seconds_per_epoch"),
        }
    df = pd.DataFrame.from_dict(rows, orient="index")
    for col in ("cos. distance (talk, quoted)", "cos. distance (ours)", "s / epoch (ours)"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    for col in ("epochs (talk)", "epochs (ours)"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("Int64")
    both = df["cos. distance (talk, quoted)"].notna()
    for col, source in (
        ("rank (talk)", "cos. distance (talk, quoted)"),
        ("rank (ours)", "cos. distance (ours)"),
    ):
        df[col] = df.loc[both, source].rank(method="min")
        df[col] = df[col].astype("Int64")
    same = (df["rank (ours)"] == df["rank (talk)"]).fillna(False).astype(bool)
    df["same rank?"] = np.where(both, np.where(same, "yes", "no"), "")
    return df


def ordering_agreement(table: pd.DataFrame) -> tuple[int, int, list[str]]:
    """Pairwise comparison of the orderings in :func:`results_table`'s output.

    For every pair of rows with both numbers, do ours and the talk's say the same row is better?
    Returns ``(n_agree, n_pairs, sentences)``, one sentence per disagreeing pair (ties count as
    disagreements unless both sides tie).
    """
    both = table[table["cos. distance (talk, quoted)"].notna()]
    names = list(both.index)
    ours = both["cos. distance (ours)"].astype(float).to_numpy()
    talk = both["cos. distance (talk, quoted)"].astype(float).to_numpy()
    agree, pairs, notes = 0, 0, []
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            pairs += 1
            so, st = np.sign(ours[a] - ours[b]), np.sign(talk[a] - talk[b])
            if so == st:
                agree += 1
                continue
            better_talk = names[a] if st < 0 else names[b] if st > 0 else "neither (tie)"
            better_ours = names[a] if so < 0 else names[b] if so > 0 else "neither (tie)"
            notes.append(
                f"{names[a]} vs {names[b]}: the talk finds {better_talk} better, "
                f"we find {better_ours} better"
            )
    return agree, pairs, notes
