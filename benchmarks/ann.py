"""Benchmark of chapter 06: our random-hyperplane forest against annoy (and voyager, brute force).

At equal ``n_trees`` and ``search_k`` on the same vectors, the issue asks for

* recall@10 of ``course_lib.ann.RandomHyperplaneForest`` within 0.02 of annoy's, and
* our batched query throughput (``query_batch``) at least annoy's single-thread throughput
  (a Python loop over ``get_nns_by_vector``, the way annoy is used from Python).

Both ratios are printed for every grid point, with our single-thread throughput beside them.
Timings are the best of several interleaved repetitions (the machine may be shared).

Data sets
---------
* ``als_angular``: ALS item factors of the music world (``course_lib.als.fit_als``, 40 factors;
  world "large", or "small" with ``--quick``); 1000 held-out items are the queries (angular,
  "tracks like this one").
* ``als_dot``: the same item factors queried with user factors by inner product (MIPS: our
  ``metric="dot"`` against annoy's ``"dot"``; voyager's ``InnerProduct``).
* ``synthetic``: :func:`course_lib.ann.make_clustered_vectors`, 1M x 64 (200k with ``--quick``).

Usage::

    python benchmarks/ann.py            # full run (about 30-40 min on 2 cores)
    python benchmarks/ann.py --quick    # a few minutes
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from course_lib import ann  # noqa: E402
from course_lib.ann import RandomHyperplaneForest, brute_force_knn, recall_at_k  # noqa: E402

K = 10
RESULTS = Path(__file__).resolve().parent / "results"


# --------------------------------------------------------------------------------- data
def als_item_factors(size: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray, str]:
    """(item factors, user factors, source) of the music world ``size``, cached on disk."""
    from course_lib.cache import cache_dir

    path = cache_dir() / f"ann_benchmark_als_{size}_seed{seed}.npz"
    if path.exists():
        saved = np.load(path)
        return saved["items"], saved["users"], str(saved["source"])
    from course_lib.music_world import make_music_world

    world = make_music_world(size=size, seed=seed)
    try:
        from course_lib.als import fit_als

        users, items = fit_als(world.plays, factors=40, iterations=15, seed=seed, progress=False)
        source = "course_lib.als.fit_als"
    except ImportError:
        import implicit

        model = implicit.als.AlternatingLeastSquares(factors=40, iterations=15, random_state=seed)
        model.fit(world.plays.tocsr().astype(np.float32) * 40.0, show_progress=False)
        users, items = np.asarray(model.user_factors), np.asarray(model.item_factors)
        source = "implicit.als.AlternatingLeastSquares"
    played = np.asarray(world.plays.sum(axis=0)).ravel() > 0  # cold-start columns are all zero
    items, users = np.ascontiguousarray(items[played], np.float32), np.asarray(users, np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, items=items, users=users, source=source)
    return items, users, source


def datasets(quick: bool, n_queries: int, skip_als: bool) -> list[dict]:
    rng = np.random.default_rng(0)
    out = []
    if not skip_als:
        size = "small" if quick else "large"
        items, users, source = als_item_factors(size)
        nq = min(n_queries, len(items) // 5)
        held_out = rng.choice(len(items), nq, replace=False)
        keep = np.setdiff1d(np.arange(len(items)), held_out)
        out.append(
            dict(
                name="als_angular",
                metric="angular",
                vectors=items[keep],
                queries=items[held_out],
                source=f"music world {size!r}, {source}",
            )
        )
        out.append(
            dict(
                name="als_dot",
                metric="dot",
                vectors=items,
                queries=users[rng.choice(len(users), n_queries, replace=False)],
                source=f"music world {size!r}, {source}; queries are user factors",
            )
        )
    n = 200_000 if quick else 1_000_000
    data = ann.make_clustered_vectors(n + n_queries, 64, seed=0)
    out.append(
        dict(
            name="synthetic",
            metric="angular",
            vectors=data[:n],
            queries=data[n:],
            source=f"make_clustered_vectors({n}, 64, seed=0)",
        )
    )
    return out


# --------------------------------------------------------------------------------- timing
def best_time(fn, repeats: int) -> tuple[float, object]:
    best, result = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def annoy_queries(index, queries: list, search_k: int) -> list[list[int]]:
    return [index.get_nns_by_vector(v, K, search_k=search_k) for v in queries]


def machine_info() -> dict:
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {"numpy": np.__version__, "numba": numba.__version__}
    for name in ("annoy", "voyager"):
        try:
            from importlib.metadata import version

            versions[name] = version(name)
        except Exception:  # noqa: BLE001 - not installed
            versions[name] = None
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "numba_threads": numba.get_num_threads(),
        "load_average_at_start": os.getloadavg(),
        "versions": versions,
    }


# --------------------------------------------------------------------------------- runners
def brute_force_one(items: np.ndarray, sq_norms: np.ndarray | None, v: np.ndarray) -> np.ndarray:
    """One query against prepared items (unit rows for angular): a product and an argpartition."""
    dist = -(items @ v) if sq_norms is None else sq_norms - 2.0 * (items @ v)
    top = np.argpartition(dist, K - 1)[:K]
    return top[np.argsort(dist[top])]


def run_brute_force(ds: dict, truth: np.ndarray, repeats: int) -> dict:
    x, q, metric = ds["vectors"], ds["queries"], ds["metric"]
    batch_s, _ = best_time(lambda: brute_force_knn(x, q, K, metric), repeats)
    prepared = x / np.linalg.norm(x, axis=1, keepdims=True) if metric == "angular" else x
    sq_norms = np.einsum("ij,ij->i", x, x) if metric == "euclidean" else None
    few = q[:200]
    start = time.perf_counter()
    for v in few:
        brute_force_one(prepared, sq_norms, v)
    single_s = time.perf_counter() - start
    return {
        "method": "brute_force",
        "recall": 1.0,
        "qps_batch": len(q) / batch_s,
        "qps_one_query_at_a_time": len(few) / single_s,
        "flops_per_query": 2 * x.shape[0] * x.shape[1],
        "index_bytes": int(x.nbytes),
    }


def build_annoy(ds: dict, n_trees: int, seed: int = 0):
    import annoy

    x = ds["vectors"]
    index = annoy.AnnoyIndex(x.shape[1], ds["metric"])
    index.set_seed(seed)
    start = time.perf_counter()
    for i, v in enumerate(x):
        index.add_item(i, v)
    add_s = time.perf_counter() - start
    start = time.perf_counter()
    index.build(n_trees, n_jobs=-1)
    build_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:  # annoy's save() re-opens the file by mmap;
        path = os.path.join(tmp, "index.ann")  # the mapping outlives the deleted file
        index.save(path)
        size = os.path.getsize(path)
    return index, {"add_s": add_s, "build_s": build_s, "index_bytes": size}


def run_grid(
    ds: dict, truth: np.ndarray, trees: list[int], search_ks: list[int], repeats: int
) -> list[dict]:
    x, q, metric = ds["vectors"], ds["queries"], ds["metric"]
    rows = []
    q_list = list(q)
    for n_trees in trees:
        start = time.perf_counter()
        forest = RandomHyperplaneForest(n_trees, metric=metric, seed=0, n_jobs=-1).fit(x)
        ours_build = time.perf_counter() - start
        index, annoy_info = build_annoy(ds, n_trees)
        print(
            f"  n_trees={n_trees}: build ours {ours_build:.1f} s, annoy {annoy_info['build_s']:.1f}"
            f" s (+{annoy_info['add_s']:.1f} s add_item); index ours "
            f"{forest.nbytes / 2**20:.0f} MB, annoy {annoy_info['index_bytes'] / 2**20:.0f} MB"
        )
        forest.query_batch(q[:4], K, 10)  # compile
        for search_k in sorted({n_trees * K, *search_ks}):
            if search_k > n_trees * len(x):
                continue
            best = {"batch": np.inf, "single": np.inf, "annoy": np.inf}
            for _ in range(repeats):  # interleaved, so that a busy moment hits all three
                t, ours = timed(forest.query_batch, q, K, search_k)
                best["batch"] = min(best["batch"], t)
                t, _ = timed(forest.query_batch, q, K, search_k, n_threads=1)
                best["single"] = min(best["single"], t)
                t, theirs = timed(annoy_queries, index, q_list, search_k)
                best["annoy"] = min(best["annoy"], t)
            row = {
                "n_trees": n_trees,
                "search_k": search_k,
                "recall_ours": recall_at_k(ours, truth),
                "recall_annoy": recall_at_k(np.array(theirs), truth),
                "qps_ours_batch": len(q) / best["batch"],
                "qps_ours_single_thread": len(q) / best["single"],
                "qps_annoy_single_thread": len(q) / best["annoy"],
                "build_s_ours": ours_build,
                "build_s_annoy": annoy_info["build_s"],
                "index_bytes_ours": forest.nbytes,
                "index_bytes_annoy": annoy_info["index_bytes"],
            }
            row["recall_diff"] = row["recall_ours"] - row["recall_annoy"]
            row["qps_ratio_batch"] = row["qps_ours_batch"] / row["qps_annoy_single_thread"]
            row["qps_ratio_single"] = row["qps_ours_single_thread"] / row["qps_annoy_single_thread"]
            rows.append(row)
            print(
                f"    search_k={search_k:6d}  recall ours {row['recall_ours']:.3f} annoy "
                f"{row['recall_annoy']:.3f} (diff {row['recall_diff']:+.3f})  q/s ours batch "
                f"{row['qps_ours_batch']:8.0f}, 1 thread {row['qps_ours_single_thread']:8.0f}, "
                f"annoy 1 thread {row['qps_annoy_single_thread']:8.0f}  ratios "
                f"{row['qps_ratio_batch']:.2f} / {row['qps_ratio_single']:.2f}"
            )
        index.unload()
        gc.collect()
    return rows


def run_seed_spread(
    ds: dict, truth: np.ndarray, n_trees: int, search_ks: list[int], seeds: range
) -> list[dict]:
    """Recall of ours and annoy over several seeds (small data sets only): how much of a recall
    difference at one seed is the luck of the random trees."""
    rows = []
    for seed in seeds:
        forest = RandomHyperplaneForest(n_trees, metric=ds["metric"], seed=seed).fit(ds["vectors"])
        index, _ = build_annoy(ds, n_trees, seed=seed)
        q_list = list(ds["queries"])
        for search_k in search_ks:
            ours = forest.query_batch(ds["queries"], K, search_k)
            theirs = np.array(annoy_queries(index, q_list, search_k))
            rows.append(
                {
                    "seed": seed,
                    "n_trees": n_trees,
                    "search_k": search_k,
                    "recall_ours": recall_at_k(ours, truth),
                    "recall_annoy": recall_at_k(theirs, truth),
                }
            )
        index.unload()
    table = {}
    for search_k in search_ks:
        sel = [r for r in rows if r["search_k"] == search_k]
        ours = np.array([r["recall_ours"] for r in sel])
        theirs = np.array([r["recall_annoy"] for r in sel])
        table[search_k] = (ours.mean(), ours.std(), theirs.mean(), theirs.std())
        print(
            f"    seeds {list(seeds)}, n_trees={n_trees}, search_k={search_k:6d}: recall ours "
            f"{ours.mean():.3f} +- {ours.std():.3f}, annoy {theirs.mean():.3f} +- "
            f"{theirs.std():.3f} (mean diff {ours.mean() - theirs.mean():+.3f})"
        )
    return rows


def run_voyager(ds: dict, truth: np.ndarray, efs: list[int], repeats: int) -> list[dict]:
    try:
        from voyager import Index, Space
    except ImportError:
        print("  voyager is not installed (pip install voyager); skipped")
        return []
    x, q = ds["vectors"], ds["queries"]
    space = {"angular": Space.Cosine, "dot": Space.InnerProduct, "euclidean": Space.Euclidean}
    index = Index(space[ds["metric"]], num_dimensions=x.shape[1], random_seed=1)
    start = time.perf_counter()
    index.add_items(x, num_threads=-1)
    build_s = time.perf_counter() - start
    rows = []
    for ef in efs:
        t = np.inf
        for _ in range(repeats):
            seconds, (ids, _) = timed(index.query, q, k=K, num_threads=1, query_ef=ef)
            t = min(t, seconds)
        rows.append(
            {
                "query_ef": ef,
                "recall": recall_at_k(ids.astype(np.int64), truth),
                "qps_single_thread": len(q) / t,
                "build_s": build_s,
                "index_bytes": len(index.as_bytes()),
            }
        )
        print(
            f"    voyager ef={ef:4d}  recall {rows[-1]['recall']:.3f}  q/s 1 thread "
            f"{rows[-1]['qps_single_thread']:8.0f}  (build {build_s:.1f} s)"
        )
    return rows


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, short grid")
    parser.add_argument("--n-queries", type=int, default=1000)
    parser.add_argument("--skip-als", action="store_true", help="only the synthetic set")
    parser.add_argument("--no-voyager", action="store_true")
    parser.add_argument("--out", type=Path, default=None, help="JSON file to write")
    args = parser.parse_args(argv)
    trees = [10, 25] if args.quick else [10, 50]
    search_ks = [1_000, 5_000, 20_000]
    repeats = 2 if args.quick else 3
    report = {"machine": machine_info(), "k": K, "quick": args.quick, "datasets": {}}
    for ds in datasets(args.quick, args.n_queries, args.skip_als):
        x, q = ds["vectors"], ds["queries"]
        print(
            f"\n{ds['name']}: {x.shape[0]} x {x.shape[1]} vectors, {len(q)} queries, "
            f"{ds['metric']} ({ds['source']})"
        )
        truth = brute_force_knn(x, q, K, ds["metric"])
        entry = {
            "source": ds["source"],
            "metric": ds["metric"],
            "n_vectors": int(x.shape[0]),
            "dim": int(x.shape[1]),
            "n_queries": int(len(q)),
        }
        entry["brute_force"] = run_brute_force(ds, truth, repeats)
        bf = entry["brute_force"]
        print(
            f"  brute force: {bf['qps_batch']:.0f} q/s batched, "
            f"{bf['qps_one_query_at_a_time']:.0f} q/s one query at a time"
        )
        entry["grid"] = run_grid(ds, truth, trees, search_ks, repeats)
        if x.shape[0] <= 100_000:
            entry["seed_spread"] = run_seed_spread(
                ds, truth, trees[0], sorted({trees[0] * K, *search_ks}), range(5)
            )
        if not args.no_voyager:
            entry["voyager"] = run_voyager(ds, truth, [10, 40, 160], repeats)
        report["datasets"][ds["name"]] = entry
        gc.collect()
    report["machine"]["load_average_at_end"] = os.getloadavg()
    print("\nSummary (ours vs annoy at equal n_trees and search_k):")
    for name, entry in report["datasets"].items():
        grid = entry["grid"]
        diffs = np.array([r["recall_diff"] for r in grid])
        batch = np.array([r["qps_ratio_batch"] for r in grid])
        single = np.array([r["qps_ratio_single"] for r in grid])
        summary = {
            "max_abs_recall_diff": float(np.abs(diffs).max()),
            "mean_recall_diff": float(diffs.mean()),
            "min_qps_ratio_batch": float(batch.min()),
            "min_qps_ratio_single_thread": float(single.min()),
            "median_qps_ratio_single_thread": float(np.median(single)),
        }
        entry["summary"] = summary
        print(
            f"  {name:12s} recall diff: max |.| {summary['max_abs_recall_diff']:.3f}, mean "
            f"{summary['mean_recall_diff']:+.3f};  q/s ours batch / annoy: min "
            f"{summary['min_qps_ratio_batch']:.2f};  ours 1 thread / annoy: min "
            f"{summary['min_qps_ratio_single_thread']:.2f}, median "
            f"{summary['median_qps_ratio_single_thread']:.2f}"
        )
    out = args.out or RESULTS / f"ann_{'quick' if args.quick else 'full'}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=float))
    print(f"\nwrote {out}")
    return report


if __name__ == "__main__":
    main()
