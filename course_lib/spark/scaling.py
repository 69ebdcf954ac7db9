"""The one-machine scaling study and the paper estimate of a Spotify-sized fit (chapter 02b).

Taught in chapter 02b (``chapters/02b_als_at_scale.md``): "5. Time per iteration, and how it
grows" times one ALS iteration of three libraries on growing copies of the world
(:func:`tile_plays`, :func:`seconds_per_iteration`, :func:`plot_scaling`) and fits the marginal
cost of a played pair (:func:`marginal_core_seconds_per_play`); "6. A paper estimate for 60
million users" turns it into a cluster budget (:func:`cluster_estimate`). The benchmark
``benchmarks/als_scaling.py`` runs the same study at sizes the chapter cannot afford.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from course_lib.als import fit_als
from course_lib.evaluation import confidence
from course_lib.plotting import axes_or_new
from course_lib.spark.model import _als_estimator, spark_reg_param
from course_lib.spark.rows import _rows_of, plays_to_dataframe
from course_lib.spark.session import get_spark
from course_lib.validation import require_choice, require_int, require_number, validate_plays

if TYPE_CHECKING:  # pragma: no cover - imported for type hints only
    import matplotlib.figure
    from pyspark.sql import SparkSession

__all__ = [
    "LIBRARIES",
    "ClusterEstimate",
    "cluster_estimate",
    "marginal_core_seconds_per_play",
    "plot_scaling",
    "seconds_per_iteration",
    "subsample_plays",
    "tile_plays",
]

#: The three ALS implementations of the scaling study.
LIBRARIES = ("course_lib", "implicit", "spark")


def subsample_plays(plays: sp.spmatrix, n_plays: int, seed: int = 0) -> sp.csr_matrix:
    """Keep ``n_plays`` of the played (user, item) pairs, chosen uniformly without replacement.

    The shape is unchanged (some users and items lose all their plays). Refuses bad play
    counts, an ``n_plays`` or ``seed`` that is not an integer >= 0, and more plays than there are.
    """
    csr = validate_plays(plays)
    n_plays = require_int(n_plays, "n_plays", 0)
    seed = require_int(seed, "seed", 0)
    if n_plays > csr.nnz:
        raise ValueError(
            f"cannot keep {n_plays} plays out of {csr.nnz}; use tile_plays to grow a matrix."
        )
    rng = np.random.default_rng(seed)
    keep = np.sort(rng.choice(csr.nnz, size=n_plays, replace=False))
    user, item, values = _rows_of(csr)
    return sp.csr_matrix((values[keep], (user[keep], item[keep])), shape=csr.shape)


def tile_plays(plays: sp.spmatrix, copies: int) -> sp.csr_matrix:
    """``copies`` independent copies of the world side by side (a block-diagonal matrix).

    Users, items and plays all grow ``copies``-fold while every user keeps the same number of
    plays and every item the same number of listeners: the cost of one ALS iteration grows like
    a catalogue that is ``copies`` times larger, which is what a scaling study needs. Refuses bad
    play counts and a ``copies`` that is not an integer >= 1.
    """
    csr = validate_plays(plays)
    copies = require_int(copies, "copies", 1)
    return sp.block_diag([csr] * copies, format="csr")


def _fit_seconds_course_lib(
    plays: sp.csr_matrix, factors: int, iterations: int, threads: int
) -> float:
    *_, history = fit_als(
        plays,
        factors=factors,
        iterations=iterations,
        progress=False,
        num_threads=threads,
        calculate_training_loss=False,
        return_history=True,
    )
    return float(np.median(history.seconds[1:] if iterations > 1 else history.seconds))


def _fit_seconds_implicit(
    plays: sp.csr_matrix, factors: int, iterations: int, threads: int
) -> float:
    # implicit imports tqdm.auto, whose "IProgress not found" warning course_lib._quiet filters
    from implicit.cpu.als import AlternatingLeastSquares

    seconds: list[float] = []
    # implicit's advice: its own threads, one-thread BLAS (its constructor checks)
    with threadpool_limits(1, "blas"):
        # alpha=1 on our confidence matrix is exactly our model (see course_lib.als)
        model = AlternatingLeastSquares(
            factors=factors,
            alpha=1.0,
            iterations=iterations,
            calculate_training_loss=False,
            num_threads=threads,
            random_state=0,
        )
        model.fit(
            confidence(plays, alpha=1.0),
            show_progress=False,
            callback=lambda _iteration, elapsed, _loss: seconds.append(elapsed),
        )
    return float(np.median(seconds[1:] if iterations > 1 else seconds))


def _fit_seconds_spark(
    plays: sp.csr_matrix, factors: int, iterations: int, spark: SparkSession | None
) -> float:
    spark = spark if spark is not None else get_spark()
    frame = plays_to_dataframe(plays, spark).cache()
    frame.count()
    reg_param = spark_reg_param(0.1, plays)
    num_blocks = int(spark.sparkContext.defaultParallelism)
    walls = {1: np.inf, 1 + iterations: np.inf}
    try:
        for _ in range(2):  # best of two of each: a busy moment slows one fit, rarely both
            for n_iter in walls:
                start = time.perf_counter()
                _als_estimator(factors, 1.0, reg_param, n_iter, 0, num_blocks).fit(frame)
                walls[n_iter] = min(walls[n_iter], time.perf_counter() - start)
    finally:
        frame.unpersist()
    walls_short, walls_long = walls[1], walls[1 + iterations]
    difference = walls_long - walls_short
    if difference <= 0:
        warnings.warn(
            f"Spark's fit with {1 + iterations} iterations took no longer than the one with 1 "
            f"({walls_long:.2f} s against {walls_short:.2f} s): timing noise (a busy machine, or "
            "the JVM still warming up) exceeds the iterations' cost. Time more iterations.",
            RuntimeWarning,
            stacklevel=3,
        )
        return float("nan")
    return difference / iterations


def seconds_per_iteration(
    library: str,
    plays: sp.spmatrix,
    factors: int = 40,
    iterations: int = 3,
    spark: SparkSession | None = None,
    threads: int = 0,
) -> float:
    """Wall-clock seconds of one ALS iteration (users, then items) of one of three libraries.

    * ``"course_lib"``: :func:`course_lib.als.fit_als` (CG), median of its per-iteration times
      after the first (which may include numba's compilation);
    * ``"implicit"``: ``implicit``'s CPU ALS (CG), median of the times its callback reports
      after the first;
    * ``"spark"``: Spark MLlib's ALS (Cholesky) on a cached DataFrame: the wall time of a fit
      with ``1 + iterations`` iterations minus that of a fit with one, divided by
      ``iterations`` (Spark only computes when the fit ends, so this difference removes the
      fixed cost of partitioning the ratings and collecting the factors). Each fit runs twice
      and the faster run counts, which also warms the JVM up; if noise still makes the
      difference negative, the result is NaN, with a warning.

    The model is chapter 02's (``alpha=1``, ``λ=0.1``); the work per iteration does not depend
    on those values. ``threads`` caps the threads of ``course_lib`` and ``implicit`` (0: all
    cores); Spark uses the cores of its session (``local[n]``: ``n``). Training-loss computation
    is off. Timing is noisy: repeat and take a median for numbers you intend to compare closely.

    Raises
    ------
    TypeError, ValueError
        Before anything is timed: an unknown ``library``; bad play counts or a matrix without
        plays; ``factors``, ``iterations`` not integers >= 1, ``threads`` not one >= 0.
    """
    require_choice(library, "library", LIBRARIES)
    csr = validate_plays(plays)
    factors = require_int(factors, "factors", 1)
    iterations = require_int(iterations, "iterations", 1)
    threads = require_int(threads, "threads", 0)
    if csr.nnz == 0:
        raise ValueError("plays has no nonzero entry: there is nothing to time.")
    if library == "course_lib":
        return _fit_seconds_course_lib(csr, factors, iterations, threads)
    if library == "implicit":
        return _fit_seconds_implicit(csr, factors, iterations, threads)
    return _fit_seconds_spark(csr, factors, iterations, spark)


def marginal_core_seconds_per_play(
    n_plays: Sequence[float], seconds_per_iteration: Sequence[float], cores: int
) -> float:
    """Core-seconds that one more played pair adds to an iteration: the slope of a line.

    Fits ``seconds = a + b * n_plays`` by least squares through the measured points (NaNs
    dropped) and returns ``b * cores``. The slope ignores costs that do not grow with the plays
    (scheduling an iteration's tasks, solving each row), which is what an estimate for a far
    larger catalogue needs, and it averages the noise of several sizes instead of trusting one.

    Raises
    ------
    TypeError
        Values that are not numbers (strings such as ``"1e6"`` are refused, not converted), or
        ``cores`` not an integer.
    ValueError
        Arrays that are not 1-D or of unequal length, ``cores`` < 1, fewer than two finite points
        or fewer than two distinct sizes.
    """
    cores = require_int(cores, "cores", 1)
    x, y = (
        _numbers(values, name)
        for values, name in ((n_plays, "n_plays"), (seconds_per_iteration, "seconds_per_iteration"))
    )
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(
            f"n_plays and seconds_per_iteration must be 1-D and of equal length, got shapes "
            f"{x.shape} and {y.shape}."
        )
    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 2 or np.unique(x[keep]).size < 2:
        raise ValueError("need timings at two or more different numbers of plays.")
    slope = np.polyfit(x[keep], y[keep], 1)[0]
    return float(slope) * cores


def _numbers(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must hold numbers, got dtype {arr.dtype}; convert text first "
            "(e.g. [float(v) for v in values])."
        )
    return arr.astype(np.float64)


@dataclass(frozen=True)
class ClusterEstimate:
    """A back-of-the-envelope compute budget for one ALS fit (see :func:`cluster_estimate`)."""

    n_plays: float
    core_seconds_per_play: float
    core_hours_per_iteration: float
    core_hours_total: float
    nodes: float
    shuffle_terabytes_per_iteration: float
    memory_terabytes: float


def cluster_estimate(
    core_seconds_per_play: float,
    n_users: float = 60e6,
    n_items: float = 30e6,
    plays_per_user: float = 300.0,
    iterations: int = 20,
    hours: float = 4.0,
    cores_per_node: int = 8,
    factors: int = 40,
) -> ClusterEstimate:
    """What a catalogue of ``n_users x n_items`` would cost, from a measured per-core throughput.

    Assumes the time of an iteration is proportional to the number of played pairs (true for
    ALS when rows have many plays: ``O(N f²)`` to build the normal equations against
    ``O((U + I) f³)`` to solve them) and that the cluster parallelises perfectly. Both are
    optimistic: the estimate is a lower bound on compute. The network volume is an upper bound
    on what block-partitioned ALS ships per iteration: each played pair may need one factor
    vector (``f`` float32 values) sent in each half-step. The memory is what the fit must hold
    at once: the plays twice (by user and by item, a 4-byte index and a 4-byte value each, as
    Spark's blocks and our CSR/CSC pair store them) and both factor matrices in float32.

    Parameters
    ----------
    core_seconds_per_play : float
        Measured seconds of one iteration, times cores used, divided by played pairs.
    n_users, n_items : float
        Catalogue size (Spotify, 2014: 60M+ active users, 30M+ songs).
    plays_per_user : float
        Distinct tracks per user in the matrix: an assumption, vary it.
    iterations, hours, cores_per_node : int, float, int
        The job: iterations to run, the wall-clock budget, the cores of one node.
    factors : int
        ``f``, for the network volume.

    Raises
    ------
    TypeError
        A string (``"60e6"``), a bool or ``None`` for a number; a float for an integer argument.
    ValueError
        A number that is not finite and > 0, an integer argument below 1.
    """
    core_seconds_per_play, n_users, n_items, plays_per_user, hours = (
        require_number(value, name, minimum=0, strict_minimum=True)
        for name, value in (
            ("core_seconds_per_play", core_seconds_per_play),
            ("n_users", n_users),
            ("n_items", n_items),
            ("plays_per_user", plays_per_user),
            ("hours", hours),
        )
    )
    iterations = require_int(iterations, "iterations", 1)
    cores_per_node = require_int(cores_per_node, "cores_per_node", 1)
    factors = require_int(factors, "factors", 1)
    n_plays = n_users * plays_per_user
    per_iteration = core_seconds_per_play * n_plays / 3600.0
    total = per_iteration * iterations
    nodes = total / (hours * cores_per_node)
    shuffle = 2 * n_plays * factors * 4 / 1e12
    memory = (2 * n_plays * 8 + (n_users + n_items) * factors * 4) / 1e12
    return ClusterEstimate(
        n_plays, core_seconds_per_play, per_iteration, total, nodes, shuffle, memory
    )


def plot_scaling(
    results: Sequence[dict[str, Any]],
    ax: Any = None,
    figsize: tuple[float, float] = (6.0, 3.5),
) -> matplotlib.figure.Figure:
    """Seconds per iteration against played pairs, one line per library, on log-log axes.

    ``results`` holds dicts with keys ``library``, ``n_plays`` and ``seconds_per_iteration``
    (the rows of :func:`seconds_per_iteration`'s study). Returns the figure (nothing is shown).
    A DataFrame with those columns works too. An empty list, or a row that lacks one of the keys,
    is refused with a ``ValueError``.
    """
    if hasattr(results, "to_dict") and not isinstance(results, dict):  # a pandas DataFrame
        results = results.to_dict("records")
    if isinstance(results, dict) or not results:
        raise ValueError("results must be a non-empty list of dicts: nothing to plot.")
    needed = ("library", "n_plays", "seconds_per_iteration")
    for index, row in enumerate(results):
        missing = [key for key in needed if key not in row]
        if missing:
            raise ValueError(
                f"results[{index}] lacks the key(s) {missing}; each row needs {needed}."
            )
    fig, ax = axes_or_new(ax, figsize)
    for library in dict.fromkeys(row["library"] for row in results):
        rows = sorted((r for r in results if r["library"] == library), key=lambda r: r["n_plays"])
        x = [r["n_plays"] for r in rows]
        y = [r["seconds_per_iteration"] for r in rows]
        ax.plot(x, y, marker="o", label=library)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("played (user, track) pairs")
    ax.set_ylabel("seconds per iteration")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return fig
