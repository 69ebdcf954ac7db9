"""Benchmark: chapter 04's factor convnet, trained through the chapter's own code, on any backend.

For each preset ("course", "paper") and batch size, on the Keras backend that ``KERAS_BACKEND``
names (tensorflow, jax or torch) and the device it computes on, this builds the network with
:func:`course_lib.convnet.build_factor_convnet` and trains it with
:func:`course_lib.convnet.train_factor_model` (its ``PyDataset`` of seeded random crops, cut on
the device on a GPU under JAX and PyTorch; Adam; early stopping), exactly as chapter 04 and the
course model do, and reports

* training samples per second: training tracks per epoch / wall time of the epoch's training
  part (validation excluded), median over the epochs after the first, which pays for tracing
  and compilation;
* achieved TFLOP/s: samples/s x 3 x :func:`course_lib.convnet.forward_flops` (forward pass,
  plus a backward pass of about twice its cost); the "paper" preset costs 1.16 GFLOP per
  training sample on 599 x 128 inputs;
* prediction windows per second (:func:`course_lib.convnet.predict_track_factors`, the chapter's
  whole-track prediction) and the input pipeline's own rate (batches served, no model);
* with ``--cpu-reference`` (on a GPU), the same measurement with the GPU hidden, in a
  subprocess on the same machine, and the GPU / CPU ratios.

Mixed precision (``mixed_float16``) on a GPU and float32 on a CPU, as in the course
(``--dtype-policy`` overrides); ``--jit`` sets Keras' ``jit_compile`` (``auto``: XLA under
TensorFlow, ``jax.jit`` under JAX, eager under PyTorch; ``on`` under PyTorch is
``torch.compile``). The spectrograms are random numbers of the music world's shape (626 frames x
128 mel bands), so no audio cache is needed. Results, with the machine, go to ``--out`` (JSON).

Run (a GPU, the batch-size sweep, the ratio to the CPU; see the README's GPU section):
    KERAS_BACKEND=jax python benchmarks/convnet.py --presets paper \\
        --batch-sizes 128 256 512 1024 --cpu-reference --out benchmarks/results/convnet_gpu.json
On a CPU (short): python benchmarks/convnet.py --epochs 3
Two saved runs:   python benchmarks/convnet.py --compare GPU.json CPU.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

N_FRAMES_TOTAL, N_MELS, N_FACTORS = 626, 128, 40
RESULTS = ROOT / "benchmarks" / "results"


def backend_versions() -> dict[str, str]:
    import keras

    backend = keras.backend.backend()
    module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}[backend]
    return {"keras": keras.__version__, backend: __import__(module).__version__}


def make_timer() -> Any:
    import keras

    class EpochTimer(keras.callbacks.Callback):
        """Wall time of each epoch's training part (from its start to the validation pass)."""

        def __init__(self) -> None:
            super().__init__()
            self.train_seconds: list[float] = []
            self._start = 0.0
            self._open = False

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self._start, self._open = time.perf_counter(), True

        def on_test_begin(self, logs: Any = None) -> None:
            if self._open:  # fit's validation pass (evaluate outside fit has no epoch)
                # JAX and CUDA run asynchronously: wait for the last step's weights.
                keras.ops.convert_to_numpy(self.model.trainable_variables[-1])
                self.train_seconds.append(time.perf_counter() - self._start)
                self._open = False

    return EpochTimer()


def n_windows(total: int, window: int) -> int:
    """Windows per clip in ``predict_track_factors`` (hop half a window, the last at the end)."""
    starts = list(range(0, total - window + 1, max(window // 2, 1)))
    return len(starts) + (starts[-1] != total - window)


def pipeline_rate(ds: Any) -> float:
    """Samples per second the pipeline serves on its own (whole epochs, >= 1 s, no model)."""
    from keras import ops

    def wait(x: Any) -> None:  # device work is asynchronous: wait for the last batch
        ops.convert_to_numpy(x[:1, :1, :1])

    wait(ds[0][0])  # warm-up
    start, n = time.perf_counter(), 0
    while n == 0 or time.perf_counter() - start < 1.0:
        for i in range(len(ds)):
            x, _ = ds[i]
            n += int(x.shape[0])
        ds.on_epoch_end()
        wait(x)
    return n / (time.perf_counter() - start)


_DATA: dict[int, Any] = {}


def random_data(n: int, seed: int) -> tuple[Any, Any]:
    """``n`` random spectrograms of the music world's shape (dB-like values) and targets."""
    import numpy as np

    if seed not in _DATA or len(_DATA[seed][0]) < n:  # made once per run, then sliced
        rng = np.random.default_rng(seed)
        mels = rng.standard_normal((n, N_FRAMES_TOTAL, N_MELS), dtype=np.float32)
        mels *= 15.0
        mels -= 30.0
        _DATA[seed] = (mels, rng.standard_normal((n, N_FACTORS), dtype=np.float32))
    mels, targets = _DATA[seed]
    return mels[:n], targets[:n]


def measure(preset: str, batch_size: int, args: argparse.Namespace, gpu: bool) -> dict[str, Any]:
    import keras
    import numpy as np

    from course_lib import convnet as C

    n_frames = 599 if preset == "paper" else int(C.COURSE_SETTINGS["n_frames"])
    n_tracks = args.n_tracks or (8192 if gpu else (192 if preset == "paper" else 1024))
    n_train = max(n_tracks // batch_size, 1) * batch_size  # full batches: one compiled shape
    n_val = args.n_val
    mels, targets = random_data(n_train + n_val, args.seed)
    train_idx, val_idx = np.arange(n_train), np.arange(n_train, n_train + n_val)
    policy = None if args.dtype_policy == "auto" else args.dtype_policy
    keras.utils.set_random_seed(args.seed)
    model = C.build_factor_convnet(
        n_frames, N_MELS, N_FACTORS, preset=preset, dtype_policy=policy, seed=args.seed
    )
    on_device = {"auto": None, "on": True, "off": False}[args.on_device]
    timer = make_timer()
    start = time.perf_counter()
    history = C.train_factor_model(
        model,
        mels,
        targets,
        train_idx,
        val_idx,
        epochs=args.epochs,
        batch_size=batch_size,
        patience=args.epochs,
        seed=args.seed,
        callbacks=[timer],
        jit_compile={"auto": "auto", "on": True, "off": False}[args.jit],
        on_device=on_device,
    )
    total = time.perf_counter() - start
    loss = float(history.history["loss"][-1])
    if not np.isfinite(loss):
        raise RuntimeError(f"{preset}: training loss is {loss}; the measurement is invalid")
    timed = timer.train_seconds[1:] or timer.train_seconds
    train = n_train / statistics.median(timed)
    flops = 3 * C.forward_flops(model)
    ds = C.make_factor_dataset(
        mels, targets, train_idx, n_frames, batch_size=batch_size, training=True,
        on_device=on_device,
    )  # fmt: skip
    pipe = pipeline_rate(ds)
    clips = mels[: min(len(mels), 4 * batch_size if gpu else 64)]
    C.predict_track_factors(model, clips[:8], batch_size=4 * batch_size)  # warm-up
    start = time.perf_counter()
    C.predict_track_factors(model, clips, batch_size=4 * batch_size)
    predict = len(clips) * n_windows(N_FRAMES_TOTAL, n_frames) / (time.perf_counter() - start)
    return {
        "preset": preset,
        "n_frames": n_frames,
        "parameters": int(model.count_params()),
        "dtype_policy": model.get_layer("conv1").dtype_policy.name,
        "batch_size": batch_size,
        "train_tracks_per_epoch": n_train,
        "epochs": len(timer.train_seconds),
        "first_epoch_s": timer.train_seconds[0],
        "train_samples_per_s": train,
        "train_gflop_per_sample": flops / 1e9,
        "achieved_tflop_s": train * flops / 1e12,
        "predict_windows_per_s": predict,
        "pipeline_samples_per_s": pipe,
        "pipeline_over_train": pipe / train,
        "total_s": total,
        "final_loss": loss,
    }


def cpu_reference(args: argparse.Namespace) -> dict[str, Any]:
    """The same benchmark with the GPU hidden, in a subprocess (CPU numbers of this machine)."""
    out = Path(args.out or RESULTS / "convnet_gpu.json").with_suffix(".cpu.json")
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu"}
    cmd = [sys.executable, __file__, "--presets", *args.presets, "--epochs", "3"]
    cmd += ["--batch-sizes", *map(str, args.cpu_batch_sizes), "--out", str(out)]
    subprocess.run(cmd, env=env, check=True)
    return json.loads(out.read_text())


def ratios(fast: dict[str, Any], slow: dict[str, Any]) -> list[dict[str, Any]]:
    """Best training rate per preset on each device, and their ratio."""
    out = []
    for preset in dict.fromkeys(r["preset"] for r in fast["results"]):

        def best(run: dict[str, Any], preset: str = preset) -> dict[str, Any]:
            rows = [r for r in run["results"] if r["preset"] == preset and "error" not in r]
            return max(rows, key=lambda r: r["train_samples_per_s"]) if rows else {}

        f, s = best(fast), best(slow)
        if f and s:
            out.append(
                {
                    "preset": preset,
                    "fast_batch_size": f["batch_size"],
                    "slow_batch_size": s["batch_size"],
                    "train_ratio": f["train_samples_per_s"] / s["train_samples_per_s"],
                    "predict_ratio": f["predict_windows_per_s"] / s["predict_windows_per_s"],
                }
            )
    return out


def print_ratios(fast: dict[str, Any], slow: dict[str, Any]) -> list[dict[str, Any]]:
    rows = ratios(fast, slow)
    print(f"{fast['device']}  versus  {slow['device']}")
    for r in rows:
        print(
            f"{r['preset']:>6}: train {r['train_ratio']:6.1f}x (best batch {r['fast_batch_size']} "
            f"vs {r['slow_batch_size']}), predict {r['predict_ratio']:6.1f}x"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["course", "paper"])
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=3, help="epochs; the first is not timed")
    parser.add_argument("--n-tracks", type=int, default=None, help="training tracks per epoch")
    parser.add_argument("--n-val", type=int, default=64, help="validation tracks")
    parser.add_argument(
        "--dtype-policy",
        default="auto",
        choices=["auto", "float32", "mixed_float16", "mixed_bfloat16"],
    )
    parser.add_argument("--jit", default="auto", choices=["auto", "on", "off"])
    parser.add_argument("--on-device", default="auto", choices=["auto", "on", "off"])
    parser.add_argument("--cpu-reference", action="store_true", help="also time the CPU")
    parser.add_argument("--cpu-batch-sizes", nargs="+", type=int, default=[32, 128])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="JSON file to write")
    parser.add_argument("--compare", nargs=2, metavar=("FAST.json", "SLOW.json"))
    args = parser.parse_args()
    if args.compare:
        a, b = (json.loads(Path(p).read_text()) for p in args.compare)
        print_ratios(a, b)
        return

    import course_lib  # noqa: F401, I001  (first: quiets start-up before keras)
    import keras
    from _machine import cpu_model

    from course_lib import convnet as C

    gpu = bool(C.gpu_names())
    device = C.describe_device()
    sizes = args.batch_sizes or ([128, 256, 512] if gpu else [32, 128])
    print(f"keras {keras.__version__}, {device}")
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    rows = []
    for preset in args.presets:
        for batch_size in sizes:
            try:
                row = measure(preset, batch_size, args, gpu)
            except Exception as error:  # noqa: BLE001  (a sweep goes on past an out-of-memory)
                row = {"preset": preset, "batch_size": batch_size, "error": repr(error)[:500]}
                print(f"{preset:>6} batch {batch_size:>5}: FAILED {row['error']}", flush=True)
                rows.append(row)
                continue
            rows.append(row)
            print(
                f"{preset:>6}: {row['parameters']:>9,} parameters, {row['dtype_policy']}, batch "
                f"{batch_size:>5} | train {row['train_samples_per_s']:9.1f} samples/s = "
                f"{row['achieved_tflop_s']:7.3f} TFLOP/s (first epoch {row['first_epoch_s']:.1f}"
                f" s) | predict {row['predict_windows_per_s']:8.1f} windows/s | pipeline/train "
                f"{row['pipeline_over_train']:6.1f}",
                flush=True,
            )
    result: dict[str, Any] = {
        "device": device,
        "backend": keras.backend.backend(),
        "versions": backend_versions(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "load_average_at_start": list(os.getloadavg()),
        "jit_compile": args.jit,
        "on_device": args.on_device,
        "results": rows,
    }
    if args.cpu_reference and gpu:
        slow = cpu_reference(args)
        result["cpu_reference"] = {"device": slow["device"], "results": slow["results"]}
        result["gpu_over_cpu"] = print_ratios(result, slow)
    elif not gpu:
        result["gpu_over_cpu"] = "no GPU: these are the CPU numbers (ratio 1 by definition)"
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"saved {out}")


if __name__ == "__main__":
    main()
