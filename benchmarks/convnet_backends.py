"""Benchmark: chapter 04's factor convnet on a GPU, through any Keras backend (the first version).

Superseded by ``benchmarks/convnet.py``, which trains through the chapter's own code
(``train_factor_model`` and its pipeline, crops cut on the device, bfloat16, the batch-size
sweep) and reports TFLOP/s; kept because its H200 results (``benchmarks/results/
convnet_backends_h200_*``, quoted by chapter 04) were measured with it: numpy batches copied from
the host at every step, ``mixed_float16``, no pipeline.

Keras 3 runs the course's model on PyTorch or JAX too, which is how a machine that has a GPU and
PyTorch but no TensorFlow can still measure the network: this script builds both presets with
:func:`course_lib.convnet.build_factor_convnet` on whatever backend ``KERAS_BACKEND`` names and
times

* training samples per second (``model.fit`` on in-memory random crops, Adam, the course's
  ``unit_mse`` loss, after a warm-up call that pays for compilation), and
* inference samples per second (``model.predict``).

Mixed precision (``mixed_float16``) is used on a GPU, float32 on a CPU, as in the course. The
inputs are random numbers of the music world's shape (crops of 128 mel bands), so no audio or
cache is needed. Run it once on the GPU and once with the GPU hidden (``CUDA_VISIBLE_DEVICES=``)
on the same machine; ``--compare`` then prints the GPU / CPU ratios of two saved runs.

Run:  KERAS_BACKEND=torch python benchmarks/convnet_backends.py --out gpu.json
      CUDA_VISIBLE_DEVICES= KERAS_BACKEND=torch python benchmarks/convnet_backends.py --out cpu.json
      python benchmarks/convnet_backends.py --compare gpu.json cpu.json
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
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

N_MELS = 128
N_FACTORS = 40


def describe_backend_device() -> tuple[str, bool]:
    """(description, is_gpu) of the device the current Keras backend computes on."""
    import keras

    backend = keras.backend.backend()
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            return f"GPU: {torch.cuda.get_device_name(0)} (torch {torch.__version__})", True
        return f"CPU: {torch.get_num_threads()} threads (torch {torch.__version__})", False
    if backend == "jax":
        import jax

        dev = jax.devices()[0]
        return f"{dev.platform.upper()}: {dev.device_kind} (jax {jax.__version__})", (
            dev.platform == "gpu"
        )
    from course_lib import convnet

    description = convnet.describe_device()
    return f"{description} (tensorflow)", description.startswith("GPU")


def measure(preset: str, batch_size: int, steps: int, gpu: bool, seed: int) -> dict:
    import keras
    import numpy as np

    from course_lib import convnet

    n_frames = 599 if preset == "paper" else int(convnet.COURSE_SETTINGS["n_frames"])
    keras.utils.set_random_seed(seed)
    model = convnet.build_factor_convnet(
        n_frames,
        N_MELS,
        N_FACTORS,
        preset=preset,
        seed=seed,
        dtype_policy="mixed_float16" if gpu else "float32",
    )
    rng = np.random.default_rng(seed)
    n = batch_size * steps
    x = rng.normal(-30.0, 15.0, size=(n, n_frames, N_MELS)).astype(np.float32)
    y = rng.normal(size=(n, N_FACTORS)).astype(np.float32)
    optimizer = keras.optimizers.Adam(1e-3)
    if gpu:
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    model.compile(optimizer=optimizer, loss=convnet.unit_mse)
    warm = 2 * batch_size
    model.fit(x[:warm], y[:warm], batch_size=batch_size, epochs=1, verbose=0, shuffle=False)
    start = time.perf_counter()
    history = model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, shuffle=False)
    train = n / (time.perf_counter() - start)
    loss = float(history.history["loss"][-1])
    if not np.isfinite(loss):
        raise RuntimeError(f"{preset}: training loss is {loss}; the measurement is invalid")
    model.predict(x[:warm], batch_size=4 * batch_size, verbose=0)
    start = time.perf_counter()
    predicted = model.predict(x, batch_size=4 * batch_size, verbose=0)
    infer = n / (time.perf_counter() - start)
    if predicted.shape != (n, N_FACTORS):
        raise RuntimeError(f"{preset}: predictions have shape {predicted.shape}")
    return {
        "preset": preset,
        "n_frames": n_frames,
        "parameters": int(model.count_params()),
        "batch_size": batch_size,
        "timed_samples": n,
        "train_samples_per_s": train,
        "predict_samples_per_s": infer,
        "final_loss": loss,
    }


def compare(fast_path: str, slow_path: str) -> None:
    fast = json.loads(Path(fast_path).read_text())
    slow = json.loads(Path(slow_path).read_text())
    print(f"{fast['device']}  versus  {slow['device']}")
    slow_rows = {(r["preset"], r["batch_size"]): r for r in slow["results"]}
    for row in fast["results"]:
        other = slow_rows.get((row["preset"], row["batch_size"]))
        if other is None:
            print(f"{row['preset']:>6} batch {row['batch_size']}: no matching row to compare")
            continue
        print(
            f"{row['preset']:>6} batch {row['batch_size']:>4}: train "
            f"{row['train_samples_per_s']:9.1f} vs {other['train_samples_per_s']:8.1f} samples/s "
            f"= {row['train_samples_per_s'] / other['train_samples_per_s']:6.1f}x | predict "
            f"{row['predict_samples_per_s']:9.1f} vs {other['predict_samples_per_s']:8.1f} "
            f"= {row['predict_samples_per_s'] / other['predict_samples_per_s']:6.1f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["course", "paper"])
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[32])
    parser.add_argument("--steps", type=int, default=40, help="timed batches (course preset)")
    parser.add_argument("--paper-steps", type=int, default=10, help="timed batches (paper)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="JSON file to write")
    parser.add_argument("--compare", nargs=2, metavar=("FAST.json", "SLOW.json"))
    args = parser.parse_args()
    if args.compare:
        compare(*args.compare)
        return

    import course_lib  # noqa: F401, I001  (first: quiets start-up before keras)
    import keras

    device, gpu = describe_backend_device()
    print(f"keras {keras.__version__}, backend {keras.backend.backend()}, device {device}")
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    rows = []
    for preset in args.presets:
        for batch_size in args.batch_sizes:
            steps = args.paper_steps if preset == "paper" else args.steps
            row = measure(preset, batch_size, steps, gpu, args.seed)
            rows.append(row)
            print(
                f"{preset:>6}: {row['parameters']:>9,} parameters, {row['n_frames']} frames, "
                f"batch {batch_size:>4} | train {row['train_samples_per_s']:9.1f} samples/s | "
                f"predict {row['predict_samples_per_s']:9.1f} samples/s",
                flush=True,
            )
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(
            json.dumps(
                {
                    "device": device,
                    "backend": keras.backend.backend(),
                    "keras": keras.__version__,
                    "platform": platform.platform(),
                    "cpus": os.cpu_count(),
                    "load_average_at_start": list(os.getloadavg()),
                    "results": rows,
                },
                indent=2,
            )
        )
        print(f"saved {out}")


if __name__ == "__main__":
    main()
