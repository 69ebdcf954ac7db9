"""Benchmark: throughput of chapter 04's factor convnet and of its tf.data input pipeline.

For each preset ("course" and "paper", :func:`course_lib.convnet.build_factor_convnet`) on the
device Keras uses here (a GPU if TensorFlow sees one, with mixed precision; else the CPU), prints

* training samples per second (``model.fit`` on the training pipeline, after a warm-up epoch
  that pays for tracing and XLA compilation);
* inference samples per second (``model.predict`` on fixed crops);
* the pipeline's own throughput (random crops, shuffling, batching, prefetching; no model);
* the ratio pipeline / training: above 1 the input keeps up and compute is the bottleneck,
  below 1 the network waits for data.

The spectrograms are random numbers of the music world's shape (626 frames x 128 mel bands), so
the benchmark needs no audio cache; ``--world small`` uses the cached log-mels of the world
instead. Results, with the device and the load average, go to ``benchmarks/results/convnet.json``.

Run:  python benchmarks/convnet.py [--presets course paper] [--steps 20] [--batch-size 32]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import course_lib  # noqa: E402,F401  (quiets TensorFlow's start-up messages)
from course_lib import convnet as C  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def spectrograms(world: str | None, n_tracks: int, seed: int) -> np.ndarray:
    if world:
        from course_lib.music_world import make_music_world

        return make_music_world(world, seed).log_mel(progress=False)[:n_tracks]
    rng = np.random.default_rng(seed)
    return (rng.normal(-30.0, 15.0, size=(n_tracks, 626, 128))).astype(np.float32)


def pipeline_rate(
    mels: np.ndarray, targets: np.ndarray, n_frames: int, batch_size: int, steps: int
) -> float:
    idx = np.arange(len(mels))
    ds = C.make_factor_dataset(mels, targets, idx, n_frames, batch_size=batch_size, training=True)
    ds = ds.repeat()
    it = iter(ds)
    for _ in range(3):  # warm-up: tracing, first prefetch
        next(it)
    start = time.perf_counter()
    for _ in range(steps):
        x, _ = next(it)
    x.numpy()
    return steps * batch_size / (time.perf_counter() - start)


def train_rate(
    model: keras.Model,
    mels: np.ndarray,
    targets: np.ndarray,
    n_frames: int,
    batch_size: int,
    steps: int,
    jit_compile: bool | str,
) -> float:
    idx = np.arange(len(mels))
    ds = C.make_factor_dataset(
        mels, targets, idx, n_frames, batch_size=batch_size, training=True
    ).repeat()
    optimizer = keras.optimizers.Adam(1e-3)
    if model.get_layer("conv1").dtype_policy.name == "mixed_float16":
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    model.compile(optimizer=optimizer, loss=C.unit_mse, jit_compile=jit_compile)
    model.fit(ds, steps_per_epoch=2, epochs=1, verbose=0, shuffle=False)  # warm-up: compile
    start = time.perf_counter()
    model.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    return steps * batch_size / (time.perf_counter() - start)


def predict_rate(
    model: keras.Model, mels: np.ndarray, n_frames: int, batch_size: int, steps: int
) -> float:
    x = C.center_crop(mels, n_frames)[: batch_size * steps]
    x = np.resize(x, (batch_size * steps, *x.shape[1:]))
    model.predict(x[:batch_size], batch_size=batch_size, verbose=0)  # warm-up
    start = time.perf_counter()
    model.predict(x, batch_size=batch_size, verbose=0)
    return len(x) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["course", "paper"])
    parser.add_argument("--steps", type=int, default=20, help="timed training steps (course)")
    parser.add_argument("--paper-steps", type=int, default=6, help="timed training steps (paper)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--n-tracks", type=int, default=512)
    parser.add_argument("--world", default=None, help="use this music world's cached log-mels")
    parser.add_argument(
        "--jit",
        default="auto",
        choices=["auto", "on", "off"],
        help="XLA compilation of the training step (Keras' jit_compile)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(RESULTS / "convnet.json"))
    args = parser.parse_args()
    jit = {"auto": "auto", "on": True, "off": False}[args.jit]

    device = C.describe_device()
    print(f"device: {device}")
    if not tf.config.list_physical_devices("GPU"):
        print(
            "no GPU visible: every number below is a CPU number (the 'paper' preset is meant "
            "for a GPU; run this script on one to measure it there)"
        )
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    mels = spectrograms(args.world, args.n_tracks, args.seed)
    targets = np.random.default_rng(args.seed).normal(size=(len(mels), 40)).astype(np.float32)

    rows = []
    for preset in args.presets:
        n_frames = 599 if preset == "paper" else int(C.COURSE_SETTINGS["n_frames"])
        steps = args.paper_steps if preset == "paper" else args.steps
        keras.utils.set_random_seed(args.seed)
        model = C.build_factor_convnet(n_frames, mels.shape[2], 40, preset=preset)
        pipe = pipeline_rate(mels, targets, n_frames, args.batch_size, max(steps, 20))
        train = train_rate(model, mels, targets, n_frames, args.batch_size, steps, jit)
        infer = predict_rate(model, mels, n_frames, 4 * args.batch_size, max(steps // 2, 2))
        row = {
            "preset": preset,
            "n_frames": n_frames,
            "parameters": model.count_params(),
            "batch_size": args.batch_size,
            "train_samples_per_s": train,
            "predict_samples_per_s": infer,
            "pipeline_samples_per_s": pipe,
            "pipeline_over_train": pipe / train,
        }
        rows.append(row)
        verdict = "input keeps up" if pipe > train else "INPUT-BOUND"
        print(
            f"{preset:>6}: {model.count_params():>9,} parameters, {n_frames} frames | train "
            f"{train:8.1f} samples/s | predict {infer:8.1f} samples/s | pipeline {pipe:8.1f} "
            f"samples/s | pipeline/train {pipe / train:6.1f} ({verdict})"
        )

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "device": device,
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
                "load_average_at_start": list(os.getloadavg()),
                "tensorflow": tf.__version__,
                "keras": keras.__version__,
                "jit_compile": args.jit,
                "world": args.world,
                "results": rows,
            },
            indent=2,
        )
    )
    print(f"saved {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()
