"""Experiment: does fusing audio and attributes win when the experts rate only part of the sound?

Issue 24 asks that fusion's gain in chapter 07 hold by several standard errors on any seed,
and proposes a music world whose expert attributes cover only part of the sound. Before the
generator changes, this script measures what that would buy. For each seed it builds the world
of that seed, gives it fewer attribute columns (dropped after the fact: the world's tags come
from all of them, so they would not change) and runs chapter 07's comparison through
:func:`course_lib.fusion.fusion_gain_by_split` on the split of the same seed, with the chapter's
settings (the audio convnet comes from the cache once trained). It prints one JSON line per
seed and variant: the mean cosine distance of audio, attributes and audio + attributes on the
test tracks, the gain of the fused network over the better single source, its paired standard
error and their ratio ``z``.

The lines of 2026-12-07 (AMD EPYC, 2 cores, seeds 0-2, split by track) are in
``benchmarks/results/fusion_attributes.jsonl``. They show that fewer sound ratings alone do
not give a gain of 3 SE on every seed: with some 150 test tracks the SE is about as large as
the gain.

Run:  python benchmarks/fusion_attributes.py [--seeds 0 1 2] [--by track] [--out FILE]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_lib import convnet, fusion  # noqa: E402
from course_lib.music_world import make_music_world  # noqa: E402

TIMBRE = ("brightness", "percussiveness", "register", "swing", "noisiness")
#: attribute columns each variant drops (the lyric themes are never dropped)
VARIANTS = {
    "all 23": (),
    "drop 5 timbre": TIMBRE,
    "drop 8 sound": (*TIMBRE, "acousticness", "energy", "bass_heavy"),
    "lyrics only": None,  # every column that is not a lyric theme
}
#: chapter 07's defaults
SETTINGS = {"n_frames": 256, "audio_epochs": 100, "max_epochs": 400, "patience": 10}


def one_seed(seed: int, by: str) -> list[dict]:
    """Chapter 07's comparison (sections 1-5.2) for one seed, once per attribute variant."""
    world = make_music_world("small", seed=seed)
    log_mels = world.log_mel(progress=False)
    als = convnet.COURSE_SETTINGS["als"] | {"confidence_kind": "linear"}
    names = world.attribute_names
    rows = []
    for label, dropped in VARIANTS.items():
        keep = [
            i
            for i, n in enumerate(names)
            if (n.startswith("lyrics_") if dropped is None else n not in dropped)
        ]
        fewer = dataclasses.replace(
            world,
            attributes=world.attributes[:, keep],
            attribute_names=[names[i] for i in keep],
        )
        table = fusion.fusion_gain_by_split(
            fewer, [seed], als_settings=als, by=by, log_mels=log_mels, **SETTINGS
        )
        row = table.loc[seed]
        best = "attributes" if row["attributes"] == row["best single"] else "audio"
        rows.append(
            {
                "seed": seed,
                "by": by,
                "variant": label,
                "n_attributes": len(keep),
                "test_tracks": int(row["test tracks"]),
                "audio": round(float(row["audio (full tracks)"]), 4),
                "attributes": round(float(row["attributes"]), 4),
                "fused": round(float(row["audio + attributes"]), 4),
                "best": best,
                "gain": round(float(row["gain"]), 4),
                "se": round(float(row["gain SE"]), 4),
                "z": round(float(row["gain"] / row["gain SE"]), 2),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--by", choices=["track", "artist"], default="track")
    parser.add_argument("--out", type=Path, help="also append the JSON lines to this file")
    args = parser.parse_args()
    for seed in args.seeds:
        start = time.perf_counter()
        rows = one_seed(seed, args.by)
        for row in rows:
            line = json.dumps(row)
            print(line, flush=True)
            if args.out:
                with args.out.open("a", encoding="utf-8") as file:
                    file.write(line + "\n")
        print(f"seed {seed}: {time.perf_counter() - start:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
