"""Experiment: does fusing audio and attributes win when the experts rate only part of the sound?

Issue 24 asks that fusion's gain in chapter 07 hold by several standard errors on any seed,
and proposes a music world whose expert attributes cover only part of the sound. Before the
generator changes, this script measures what that would buy. It runs chapter 07's pipeline
(held-out plays, ALS factors, the split, the cached audio convnet of section 3,
:func:`course_lib.fusion.fit_factor_mlp` with the chapter's settings) and gives the networks
fewer attribute columns, dropped after the fact (the world's tags come from all of them, so
they would not change). For each seed and variant it prints one JSON line: the mean cosine
distance of audio, attributes and audio + attributes on the test tracks, and the gain of the
fused network over the better single source with its paired standard error
(:func:`course_lib.fusion.paired_difference`) and their ratio ``z``.

The lines of 2026-12-07 (AMD EPYC, 2 cores, seeds 0-2, split by track) are in
``benchmarks/results/fusion_attributes.jsonl``. They show that fewer sound ratings alone do
not give a gain of 3 SE on every seed: with some 150 test tracks the SE is about as large as
the gain.

Run:  python benchmarks/fusion_attributes.py [--seeds 0 1 2] [--by track] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_lib import convnet, fusion  # noqa: E402
from course_lib.als import fit_als  # noqa: E402
from course_lib.evaluation import split_plays  # noqa: E402
from course_lib.music_world import make_music_world  # noqa: E402

TIMBRE = ("brightness", "percussiveness", "register", "swing", "noisiness")
#: attribute columns each variant drops (the lyric themes are never dropped)
VARIANTS = {
    "all 23": (),
    "drop 5 timbre": TIMBRE,
    "drop 8 sound": (*TIMBRE, "acousticness", "energy", "bass_heavy"),
    "lyrics only": None,  # every column that is not a lyric theme
}
SETTINGS = {"epochs": 400, "batch_size": 256, "patience": 10}  # chapter 07's defaults


def one_seed(seed: int, by: str) -> list[dict]:
    """Chapter 07, sections 1-5.2, for one seed, once per attribute variant."""
    world = make_music_world("small", seed=seed)
    plays_train, _ = split_plays(world.plays, test_fraction=0.2, seed=seed)
    plays_fit, _ = split_plays(plays_train, test_fraction=0.125, seed=seed + 1)
    als = convnet.COURSE_SETTINGS["als"] | {"confidence_kind": "linear"}
    _, item_factors = fit_als(plays_fit, seed=seed, progress=False, **als)
    warm = np.flatnonzero(np.linalg.norm(item_factors, axis=1) > 0)
    split = convnet.split_tracks(world.tracks, by=by, seed=seed, candidates=warm)
    log_mels = world.log_mel(progress=False)
    audio = fusion.load_or_train_audio_model(
        world, item_factors, split, n_frames=256, epochs=100, batch_size=64,
        patience=10, seed=seed, log_mels=log_mels,
    )  # fmt: skip
    audio_x = fusion.audio_features(audio.model, log_mels, "track", "factors")
    test = split["test"]

    def distances(predicted: np.ndarray) -> np.ndarray:
        return fusion.cosine_distances(predicted[test], item_factors[test])

    d_audio = distances(audio_x)
    names = world.attribute_names
    rows = []
    for label, dropped in VARIANTS.items():
        keep = [
            i
            for i, n in enumerate(names)
            if (n.startswith("lyrics_") if dropped is None else n not in dropped)
        ]
        features = {
            "attributes": fusion.attribute_features(
                world.attributes[:, keep], fit_rows=split["train"]
            ),
            "audio": audio_x,
        }
        got = {}
        for name, sources in (("attributes", ["attributes"]), ("fused", ["audio", "attributes"])):
            net = fusion.fit_factor_mlp(
                features, item_factors, split, sources=sources, seed=seed, **SETTINGS
            )
            got[name] = distances(net.predict(features))
        best = "attributes" if got["attributes"].mean() < d_audio.mean() else "audio"
        best_d = got["attributes"] if best == "attributes" else d_audio
        paired = fusion.paired_difference(got["fused"], best_d, seed=seed)
        gain, se = -paired["mean"], paired["se"]
        rows.append(
            {
                "seed": seed,
                "by": by,
                "variant": label,
                "n_attributes": len(keep),
                "test_tracks": int(test.size),
                "audio": round(float(d_audio.mean()), 4),
                "attributes": round(float(got["attributes"].mean()), 4),
                "fused": round(float(got["fused"].mean()), 4),
                "best": best,
                "gain": round(float(gain), 4),
                "se": round(float(se), 4),
                "z": round(float(gain / se), 2),
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
