"""Benchmark: our conjugate-gradient ALS (course_lib.als, chapter 02) against ``implicit``.

Same data, same model, same thread count, in one run: the music world "large" plays (falling
back to a synthetic matrix of the same shape if the music world is not available), split with
``split_plays(test_fraction=0.2, seed=0)``, 64 factors, ``c_ui = 1 + alpha * plays``. ``implicit``
gets exactly our model by fitting ``confidence(train, alpha)`` with its own ``alpha=1.0`` (it
uses the matrix it is given as the confidence). Both start from the same random factors
(``np.random.default_rng(seed).random(...) * 0.01``), run 3 CG steps per row, and compute no
training loss while timed. For each thread count the two libraries alternate, run after run,
so that a machine shared with other work slows both alike.

Prints seconds per iteration (median over iterations) for each, the ratio ours / implicit, and
NDCG@10 of both on the held-out plays of a fixed sample of users; saves everything, with the
machine's description and load, to ``benchmarks/results/als_large.json`` (which chapter 02
quotes).

Run:  python benchmarks/als.py [--iterations 15] [--threads 1 2] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numba
import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_info, threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _machine import cpu_model  # noqa: E402  (benchmarks/_machine.py)

from course_lib.als import fit_als  # noqa: E402
from course_lib.evaluation import confidence, ranking_metrics, split_plays  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def machine_info() -> dict:
    blas = [
        {k: info.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    ]
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": cpu_model(),
        "nproc": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_average_at_start": list(os.getloadavg()),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE"),
        "blas": blas,
        "numba": numba.__version__,
        "numba_threading_layer": numba.config.THREADING_LAYER,
        "numpy": np.__version__,
    }


def load_plays(size: str, seed: int) -> tuple[sp.csr_matrix, str]:
    """The music world's plays (cached as .npz, keyed by generator version), or a stand-in."""
    try:
        from course_lib.cache import cache_dir
        from course_lib.music_world import GENERATOR_VERSION, make_music_world
    except ImportError:
        return synthetic_plays(seed), "synthetic (course_lib.music_world not available)"
    path = cache_dir() / f"als_benchmark_{size}_seed{seed}_v{GENERATOR_VERSION}.npz"
    if path.exists():
        return sp.load_npz(path).tocsr(), f'make_music_world("{size}", seed={seed}).plays'
    start = time.perf_counter()
    plays = make_music_world(size, seed=seed).plays
    print(f"built the {size} music world in {time.perf_counter() - start:.0f} s")
    path.parent.mkdir(parents=True, exist_ok=True)
    sp.save_npz(path, plays)
    return plays, f'make_music_world("{size}", seed={seed}).plays'


def synthetic_plays(seed: int, n_users: int = 120_000, n_items: int = 60_000) -> sp.csr_matrix:
    """~40 items per user, Zipf-like item popularity, geometric play counts."""
    rng = np.random.default_rng(seed)
    per_user = rng.poisson(40, n_users) + 1
    rows = np.repeat(np.arange(n_users), per_user)
    popularity = 1.0 / np.arange(1, n_items + 1) ** 0.8
    cols = rng.choice(n_items, size=rows.size, p=popularity / popularity.sum())
    counts = rng.geometric(0.3, rows.size).astype(np.int32)
    return sp.csr_matrix((counts, (rows, cols)), shape=(n_users, n_items))


def run_ours(train, args, threads):
    X, Y, history = fit_als(
        train,
        factors=args.factors,
        alpha=args.alpha,
        regularization=args.regularization,
        iterations=args.iterations,
        seed=args.seed,
        num_threads=threads,
        progress=False,
        calculate_training_loss=False,
        return_history=True,
    )
    return X, Y, history.seconds


def run_implicit(train_confidence, args, threads):
    from implicit.cpu.als import AlternatingLeastSquares

    seconds: list[float] = []
    model = AlternatingLeastSquares(
        factors=args.factors,
        regularization=args.regularization,
        alpha=1.0,
        iterations=args.iterations,
        random_state=args.seed,
        num_threads=threads,
        use_cg=True,
        calculate_training_loss=False,
    )
    model.fit(
        train_confidence,
        show_progress=False,
        callback=lambda iteration, elapsed, loss: seconds.append(elapsed),
    )
    return model.user_factors, model.item_factors, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="large")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--regularization", type=float, default=0.1)
    parser.add_argument("--iterations", type=int, default=15)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=1, help="alternating runs per library")
    parser.add_argument("--eval-users", type=int, default=20_000)
    parser.add_argument("--out", type=Path, default=RESULTS / "als_large.json")
    args = parser.parse_args()

    machine = machine_info()
    print(
        f"machine: {machine['cpu_model']}, {machine['nproc']} CPUs, load "
        f"{machine['load_average_at_start'][0]:.1f}; OPENBLAS_CORETYPE="
        f"{machine['OPENBLAS_CORETYPE']} (BLAS only computes the f x f products here)"
    )
    plays, source = load_plays(args.size, args.seed)
    train, test = split_plays(plays, test_fraction=0.2, seed=args.seed)
    train_confidence = confidence(train, args.alpha)
    print(f"data: {source}, {plays.shape[0]} users x {plays.shape[1]} items, {plays.nnz} plays")

    rng = np.random.default_rng(args.seed)
    eval_users = np.sort(rng.choice(plays.shape[0], min(args.eval_users, plays.shape[0]), False))

    def ndcg(X, Y):
        sub_train, sub_test = train[eval_users], test[eval_users]
        return ranking_metrics((X[eval_users], Y), sub_train, sub_test, k=10)["ndcg"]

    # compile (or load from numba's cache) outside the timed runs
    fit_als(train[:1000], factors=args.factors, iterations=1, progress=False)

    results = []
    with threadpool_limits(1, "blas"):  # implicit's advice; fit_als does the same internally
        for threads in args.threads:
            timings: dict[str, list[float]] = {"ours": [], "implicit": []}
            factors = {}
            for _ in range(args.repeats):
                *factors["ours"], seconds = run_ours(train, args, threads)
                timings["ours"] += seconds
                *factors["implicit"], seconds = run_implicit(train_confidence, args, threads)
                timings["implicit"] += seconds
            row = {"threads": threads}
            for name in ("ours", "implicit"):
                row[f"{name}_seconds_per_iteration"] = statistics.median(timings[name])
                row[f"{name}_seconds_all_iterations"] = timings[name]
                row[f"{name}_ndcg_at_10"] = ndcg(*factors[name])
            row["ratio_ours_over_implicit"] = (
                row["ours_seconds_per_iteration"] / row["implicit_seconds_per_iteration"]
            )
            row["ndcg_relative_difference"] = (
                row["ours_ndcg_at_10"] / row["implicit_ndcg_at_10"] - 1.0
            )
            print(
                f"threads={threads}: ours {row['ours_seconds_per_iteration']:.3f} s/iteration, "
                f"implicit {row['implicit_seconds_per_iteration']:.3f} s/iteration, ratio "
                f"{row['ratio_ours_over_implicit']:.2f}; NDCG@10 ours "
                f"{row['ours_ndcg_at_10']:.4f}, implicit {row['implicit_ndcg_at_10']:.4f}"
            )
            results.append(row)

    machine["load_average_at_end"] = list(os.getloadavg())
    import implicit

    payload = {
        "benchmark": "ALS, conjugate gradient, seconds per iteration",
        "data": source,
        "shape": list(plays.shape),
        "nnz_train": int(train.nnz),
        "factors": args.factors,
        "alpha": args.alpha,
        "regularization": args.regularization,
        "iterations": args.iterations,
        "cg_steps": 3,
        "eval_users": int(eval_users.size),
        "implicit_version": implicit.__version__,
        "machine": machine,
        "label": f"{machine['cpu_model']}, {machine['nproc']} CPUs ({machine['platform']})",
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"saved {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
