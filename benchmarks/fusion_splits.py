"""Benchmark: chapter 07's fusion comparison, cross-validated, by track and by artist.

Chapter 07 compares, on one split of the music world's tracks, the audio convnet, the attribute
network and the late-fusion network of both (section 5.2). One split of some 150 test tracks
is one draw: its standard error is about as large as the gain, and a split by track lets every
network recognise the test tracks' artists. This script runs
:func:`course_lib.fusion.fusion_gain_by_split` with ``folds=5`` (5-fold cross-validation:
every track with factors is tested once, by models that never trained on it, the audio
features cross-fitted) for each seed, which redraws the held-out plays, the ALS factors and the
folds, once with ``by="track"`` and once with ``by="artist"``. It saves both tables, the cost of
new artists (each track's distance by artist minus by track, same seed, same factors: a
paired comparison over every track) and the machine's description to
``benchmarks/results/fusion_splits.json``, which chapter 07 (section 5.3) reads: a cold run of
the chapter would otherwise train twenty audio convnets. The convnets are cached in
``$COURSE_LIB_CACHE/fusion``, so a second run takes a few minutes.

Run:  python benchmarks/fusion_splits.py [--seeds 0 1] [--folds 5]
      [--world-size small --world-seed 0]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._machine import cpu_model  # noqa: E402
from course_lib import convnet, fusion  # noqa: E402
from course_lib.music_world import make_music_world  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--world-size", default="small")
    parser.add_argument("--world-seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS / "fusion_splits.json")
    args = parser.parse_args()
    world = make_music_world(args.world_size, args.world_seed)
    log_mels = world.log_mel(progress=False)
    # chapter 07's settings (its parameters cell)
    als_settings = convnet.COURSE_SETTINGS["als"] | {"confidence_kind": "linear"}
    settings = dict(
        n_frames=256,
        audio_epochs=100,
        max_epochs=400,
        patience=10,
        batch_size=256,
        audio_batch_size=64,
    )
    start, load = time.perf_counter(), list(os.getloadavg())
    tables, tracks = {}, {}
    for by in ("track", "artist"):
        table, tracks[by] = fusion.fusion_gain_by_split(
            world,
            args.seeds,
            by=by,
            als_settings=als_settings,
            log_mels=log_mels,
            folds=args.folds,
            per_track=True,
            **settings,
        )
        tables[by] = {str(seed): row for seed, row in table.to_dict(orient="index").items()}
        print(f"by {by}:\n{table.round(3).to_string()}\n", flush=True)
    cost = {}
    for seed in args.seeds:  # same seed, same factors, same tracks: pair them track by track
        diff = (tracks["artist"][seed] - tracks["track"][seed]).mean(axis=1)
        cost[str(seed)] = {
            "mean": float(diff.mean()),
            "se": float(diff.std(ddof=1) / len(diff) ** 0.5),
            "tracks": len(diff),
        }
    print(f"new artists cost (mean of the three models, paired by track): {cost}")
    payload = {
        "label": f"{cpu_model()}, {os.cpu_count()} CPUs",
        "date_utc": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M"),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_at_start": load,
        },
        "world": [args.world_size, args.world_seed],
        "settings": settings | {"als": als_settings, "folds": args.folds},
        "seconds": round(time.perf_counter() - start, 1),
        "splits": tables,
        "artist_cost": cost,
    }
    args.out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
