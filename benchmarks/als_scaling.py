"""Benchmark: seconds per ALS iteration against played pairs, for our solver, implicit and Spark.

The one-machine scaling study of chapter 02b, at sizes the chapter cannot afford (1M to 20M
played pairs by default). Data: the music world "large" plays (cached as .npz next to
benchmarks/als.py's copy), subsampled to each size below its number of plays and tiled
block-diagonally (``course_lib.spark.tile_plays``: independent copies of the world side by side)
and then subsampled above it, so every size keeps the world's users-per-track shape.

For each size the three libraries run one after another with the same number of cores:
``course_lib.als.fit_als`` (CG) and ``implicit`` (CG) with ``--threads`` threads, Spark MLlib
(Cholesky) in ``local[--threads]`` mode; see ``course_lib.spark.seconds_per_iteration`` for how
each is timed. Prints seconds per iteration, core-microseconds per played pair and each library's
ratio to ``implicit`` (the reference) measured in the same run, and a paper estimate of a
Spotify-sized fit (60M users x 30M tracks, 300 plays per user, 20 iterations in 4 hours on
8-core nodes) from each library's throughput, both at the largest size and from the slope of
seconds against plays over all sizes (``course_lib.spark.marginal_core_seconds_per_play``).
Saves everything, with the machine's description and load, after each size, to
``benchmarks/results/als_scaling.json`` (``als_scaling_quick.json`` with ``--quick``).

Run:  python benchmarks/als_scaling.py [--sizes 1e6 2e6 5e6 10e6 20e6] [--threads 2]
      python benchmarks/als_scaling.py --quick      # 1M and 2M plays only, a few minutes
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _machine import cpu_model  # noqa: E402  (benchmarks/_machine.py)

from course_lib import spark as spark_lib  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def load_large_plays(seed: int) -> tuple[sp.csr_matrix, str]:
    """The "large" music world's plays, cached as .npz (the file benchmarks/als.py also uses)."""
    from course_lib.cache import cache_dir
    from course_lib.music_world import GENERATOR_VERSION, make_music_world

    source = f'make_music_world("large", seed={seed}).plays'
    path = cache_dir() / f"als_benchmark_large_seed{seed}_v{GENERATOR_VERSION}.npz"
    if path.exists():
        return sp.load_npz(path).tocsr(), source
    start = time.perf_counter()
    plays = make_music_world("large", seed=seed).plays
    print(f"built the large music world in {time.perf_counter() - start:.0f} s")
    path.parent.mkdir(parents=True, exist_ok=True)
    sp.save_npz(path, plays)
    return plays, source


def plays_of_size(plays: sp.csr_matrix, n_plays: int, seed: int) -> sp.csr_matrix:
    """Subsample (below plays.nnz) or tile then subsample (above) to exactly n_plays pairs."""
    copies = max(1, math.ceil(n_plays / plays.nnz))
    grown = spark_lib.tile_plays(plays, copies) if copies > 1 else plays
    return spark_lib.subsample_plays(grown, n_plays, seed=seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1e6, 2e6, 5e6, 10e6, 20e6])
    parser.add_argument("--libraries", nargs="+", default=list(spark_lib.LIBRARIES))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--factors", type=int, default=40)
    parser.add_argument("--iterations", type=int, default=2, help="timed iterations per run")
    parser.add_argument("--spark-max-plays", type=float, default=None, help="skip Spark above")
    parser.add_argument("--driver-memory", default="6g")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="sizes 1M and 2M only")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.quick:
        args.sizes = [1e6, 2e6]
    out = args.out or RESULTS / ("als_scaling_quick.json" if args.quick else "als_scaling.json")
    unknown = set(args.libraries) - set(spark_lib.LIBRARIES)
    if unknown:
        parser.error(f"unknown libraries {sorted(unknown)}; choose from {spark_lib.LIBRARIES}")

    spark = None
    if "spark" in args.libraries:
        ok, message = spark_lib.spark_status()
        if not ok:
            print(f"Spark skipped: {message}")
            args.libraries = [lib for lib in args.libraries if lib != "spark"]
        else:
            spark = spark_lib.get_spark(
                "als_scaling benchmark",
                master=f"local[{args.threads}]",
                driver_memory=args.driver_memory,
                shuffle_partitions=2 * args.threads,
            )

    machine = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": cpu_model(),
        "nproc": os.cpu_count(),
        "load_average_at_start": list(os.getloadavg()),
        "spark": spark.version if spark is not None else None,
        "java": spark_lib.java_version(),
    }
    print(
        f"machine: {machine['cpu_model']}, {machine['nproc']} CPUs, load "
        f"{machine['load_average_at_start'][0]:.1f}; {args.threads} threads per library"
    )
    base, source = load_large_plays(args.seed)
    print(f"data: {source}, {base.shape[0]} users x {base.shape[1]} tracks, {base.nnz} plays")

    # compile numba's kernels and warm the JVM up outside the timed runs
    warm = base[:20_000]
    for library in args.libraries:
        spark_lib.seconds_per_iteration(
            library, warm, factors=args.factors, iterations=1, spark=spark, threads=args.threads
        )

    results = []
    for size in args.sizes:
        plays = plays_of_size(base, int(size), args.seed)
        n_users = int(np.count_nonzero(np.diff(plays.indptr)))
        n_items = int(np.count_nonzero(np.diff(plays.tocsc().indptr)))
        row_block = []
        for library in args.libraries:
            if library == "spark" and args.spark_max_plays and plays.nnz > args.spark_max_plays:
                continue
            load = os.getloadavg()[0]
            start = time.perf_counter()
            seconds = spark_lib.seconds_per_iteration(
                library,
                plays,
                factors=args.factors,
                iterations=args.iterations,
                spark=spark,
                threads=args.threads,
            )
            row = {
                "library": library,
                "n_plays": int(plays.nnz),
                "n_users": n_users,
                "n_items": n_items,
                "seconds_per_iteration": seconds,
                "core_us_per_play": 1e6 * args.threads * seconds / plays.nnz,
                "wall_seconds_of_measurement": time.perf_counter() - start,
                "load_average_before": load,
            }
            row_block.append(row)
            print(
                f"{plays.nnz:>11,} plays  {library:>10}: {seconds:8.3f} s/iteration  "
                f"{row['core_us_per_play']:.3f} core-us/play  (load {load:.1f})",
                flush=True,
            )
        reference = next((r for r in row_block if r["library"] == "implicit"), None)
        for row in row_block:
            if reference is not None:
                ratio = row["seconds_per_iteration"] / reference["seconds_per_iteration"]
                row["ratio_to_implicit"] = ratio
        if reference is not None:
            ratios = ", ".join(f"{r['library']} {r['ratio_to_implicit']:.2f}x" for r in row_block)
            print(f"{'':>17}time per iteration relative to implicit: {ratios}")
        results.extend(row_block)
        save(out, args, machine, source, base, results, [])  # partial results survive a stop

    if spark is not None:
        spark.stop()

    estimates = []
    for library in args.libraries:
        rows = [
            r for r in results if r["library"] == library and math.isfinite(r["core_us_per_play"])
        ]
        if not rows:
            continue
        top = max(rows, key=lambda r: r["n_plays"])
        per_play = {"largest size": top["core_us_per_play"] * 1e-6}
        if len({r["n_plays"] for r in rows}) > 1:
            per_play["slope"] = spark_lib.marginal_core_seconds_per_play(
                [r["n_plays"] for r in rows],
                [r["seconds_per_iteration"] for r in rows],
                cores=args.threads,
            )
        for basis, core_seconds in per_play.items():
            if not core_seconds > 0:
                print(f"{library}: no estimate from the {basis} (non-positive cost {core_seconds})")
                continue
            est = spark_lib.cluster_estimate(core_seconds)
            estimates.append(
                {
                    "library": library,
                    "basis": basis,
                    "core_us_per_play": core_seconds * 1e6,
                    "core_hours_per_iteration": est.core_hours_per_iteration,
                    "core_hours_total": est.core_hours_total,
                    "nodes": est.nodes,
                    "shuffle_terabytes_per_iteration": est.shuffle_terabytes_per_iteration,
                    "memory_terabytes": est.memory_terabytes,
                }
            )
            print(
                f"estimate from {library} ({basis}: {core_seconds * 1e6:.2f} core-us/play): "
                f"{est.core_hours_per_iteration:,.0f} core-hours per iteration, "
                f"{est.nodes:,.0f} nodes of 8 cores for 20 iterations in 4 h (Spotify: ~1,300)"
            )

    save(out, args, machine, source, base, results, estimates)
    print(f"saved {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


def save(out, args, machine, source, base, results, estimates) -> None:
    import implicit

    machine = {**machine, "load_average_at_end": list(os.getloadavg())}
    payload = {
        "benchmark": "ALS seconds per iteration against played pairs (chapter 02b)",
        "complete": bool(estimates),
        "data": source,
        "base_shape": list(base.shape),
        "base_nnz": int(base.nnz),
        "factors": args.factors,
        "alpha": 1.0,
        "regularization": 0.1,
        "timed_iterations": args.iterations,
        "threads": args.threads,
        "implicit_version": implicit.__version__,
        "machine": machine,
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "estimate_assumptions": {
            "n_users": 60e6,
            "n_items": 30e6,
            "plays_per_user": 300,
            "iterations": 20,
            "hours": 4.0,
            "cores_per_node": 8,
        },
        "results": results,
        "estimates": estimates,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
