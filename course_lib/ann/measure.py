"""Measuring approximate search: recall and speed on a settings grid, and the leaf-size sweep.

Taught in chapter 06 (approximate nearest neighbours): :func:`recall_qps_grid` makes the tables of
section 5 ("Recall against speed, ours against annoy") and section 6 (build time and index size);
:func:`leaf_size_sweep` is the reference answer of exercise 6.3. The plot of the grid is
:func:`course_lib.ann.plot_recall_qps`; ``benchmarks/ann.py`` runs the larger comparison.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Sequence
from typing import Any

import annoy
import numpy as np
import pandas as pd

from course_lib.ann.exact import brute_force_knn, recall_at_k
from course_lib.ann.forest import RandomHyperplaneForest
from course_lib.validation import require_int, validate_matrix

__all__ = ["leaf_size_sweep", "recall_qps_grid"]


def _int_list(values: Any, name: str, minimum: int, allow_empty: bool = False) -> list[int]:
    """A list of integers >= ``minimum`` (bools and strings refused), non-empty unless allowed."""
    if isinstance(values, str) or not isinstance(values, Sequence | np.ndarray | set):
        raise TypeError(f"{name} must be a list of integers, got {type(values).__name__}")
    if len(values) == 0 and not allow_empty:
        raise ValueError(f"{name} is empty; pass at least one value, e.g. {name}=[{minimum}]")
    return [require_int(v, f"{name}[{i}]", minimum) for i, v in enumerate(values)]


def leaf_size_sweep(
    vectors: np.ndarray,
    queries: np.ndarray,
    leaf_sizes: Sequence[int],
    n_trees: int = 10,
    search_k: int | None = None,
    k: int = 10,
    seed: int = 0,
    metric: str = "angular",
) -> pd.DataFrame:
    """Build one forest per leaf size and measure it at a fixed ``search_k``.

    The reference answer of chapter 06's exercise 6.3. Recall is against
    :func:`~course_lib.ann.brute_force_knn`; times are wall-clock seconds on this machine (one
    query thread). Forests as in annoy (Bernhardsson 2013).

    Returns
    -------
    pandas.DataFrame with columns ``leaf_size, n_nodes, index_mb, build_s, query_ms, recall``
    (``query_ms``: milliseconds per query).

    Raises
    ------
    TypeError
        ``leaf_sizes`` not a list of integers (``[4.0]``, ``["16"]``, ``[True]``); the errors of
        :class:`~course_lib.ann.RandomHyperplaneForest` and
        :func:`~course_lib.ann.brute_force_knn` for the other arguments.
    ValueError
        ``leaf_sizes`` empty or holding a size below 1; bad vectors, queries, ``k`` or settings
        (all refused before any forest is built); ``search_k`` below ``k`` (at the first query).
    """
    sizes = _int_list(leaf_sizes, "leaf_sizes", 1)
    RandomHyperplaneForest(n_trees, metric=metric, seed=seed)  # refuses bad settings now
    truth = brute_force_knn(vectors, queries, k, metric)
    rows = []
    for leaf_size in sizes:
        start = time.perf_counter()
        forest = RandomHyperplaneForest(n_trees, leaf_size=leaf_size, metric=metric, seed=seed)
        forest.fit(vectors)
        build_s = time.perf_counter() - start
        start = time.perf_counter()
        found = forest.query_batch(queries, k, search_k, n_threads=1)
        query_ms = 1e3 * (time.perf_counter() - start) / len(queries)
        rows.append(
            {
                "leaf_size": leaf_size,
                "n_nodes": forest.n_nodes,
                "index_mb": forest.nbytes / 2**20,
                "build_s": build_s,
                "query_ms": query_ms,
                "recall": recall_at_k(found, truth),
            }
        )
    return pd.DataFrame(rows)


def recall_qps_grid(
    vectors: np.ndarray,
    queries: np.ndarray,
    n_trees: Sequence[int],
    search_ks: Sequence[int],
    k: int = 10,
    metric: str = "angular",
    seed: int = 0,
    with_annoy: bool = True,
    repeats: int = 1,
) -> pd.DataFrame:
    """Recall@k and queries per second of brute force, our forest and annoy on a settings grid.

    For each ``n_trees`` both indexes are built once (same vectors, metric and seed; annoy with all
    cores, like ours); each ``search_k`` (plus the default ``n_trees * k``) is then queried with
    every query: ours through :meth:`~course_lib.ann.RandomHyperplaneForest.query_batch` on all
    threads and on one, annoy (Bernhardsson 2013) one ``get_nns_by_vector`` call per query (its
    Python API; single thread). Times are the best of ``repeats``; recall as in ann-benchmarks
    (Aumüller et al. 2020).

    Returns
    -------
    pandas.DataFrame with columns ``library, n_trees, search_k, recall, qps, build_s, index_mb``;
    ``library`` is ``"brute force"``, ``"ours"``, ``"ours, 1 thread"`` or ``"annoy"``.

    Raises
    ------
    TypeError
        ``n_trees`` or ``search_ks`` not lists of integers; ``k``, ``seed`` or ``repeats`` not an
        integer; ``with_annoy`` not a bool; sparse or non-numeric vectors or queries.
    ValueError
        ``n_trees`` empty; a value below 1; ``search_ks`` below ``k``; bad vectors or queries
        (empty, NaN, another dimension); ``k`` larger than the catalogue; an unknown metric.
        All are checked before anything is built.
    """
    trees_list = _int_list(n_trees, "n_trees", 1)
    search_list = _int_list(search_ks, "search_ks", 1, allow_empty=True)
    k = require_int(k, "k", 1)
    repeats = require_int(repeats, "repeats", 1)
    if not isinstance(with_annoy, bool | np.bool_):
        raise TypeError(f"with_annoy must be True or False, got {with_annoy!r}")
    RandomHyperplaneForest(trees_list[0], metric=metric, seed=seed)  # refuses bad settings now
    too_small = [s for s in search_list if s < k]
    if too_small:
        raise ValueError(
            f"search_ks {too_small} are smaller than k={k}: a search must collect at least k "
            "candidates; drop them or ask for a smaller k"
        )
    items = validate_matrix(vectors, "vectors")
    q = validate_matrix(queries, "queries", n_columns=items.shape[1])
    seconds, truth = _best_of(repeats, brute_force_knn, items, q, k, metric)
    rows = [
        dict(
            library="brute force",
            n_trees=0,
            search_k=len(items),
            recall=1.0,
            qps=len(q) / seconds,
            build_s=0.0,
            index_mb=items.nbytes / 2**20,
        )
    ]
    for trees in trees_list:
        start = time.perf_counter()
        forest = RandomHyperplaneForest(trees, metric=metric, seed=seed).fit(items)
        build_s = time.perf_counter() - start
        index, annoy_build_s, annoy_mb = None, 0.0, 0.0
        if with_annoy:
            index, annoy_build_s, annoy_mb = _annoy_index(items, metric, trees, seed)
        for search_k in sorted({trees * k, *search_list}):
            for library, threads in (("ours", None), ("ours, 1 thread", 1)):
                seconds, found = _best_of(repeats, forest.query_batch, q, k, search_k, threads)
                rows.append(
                    dict(
                        library=library,
                        n_trees=trees,
                        search_k=search_k,
                        recall=recall_at_k(found, truth),
                        qps=len(q) / seconds,
                        build_s=build_s,
                        index_mb=forest.nbytes / 2**20,
                    )
                )
            if index is not None:
                seconds, found = _best_of(repeats, _annoy_query, index, q, k, search_k)
                rows.append(
                    dict(
                        library="annoy",
                        n_trees=trees,
                        search_k=search_k,
                        recall=recall_at_k(np.array(found), truth),
                        qps=len(q) / seconds,
                        build_s=annoy_build_s,
                        index_mb=annoy_mb,
                    )
                )
    return pd.DataFrame(rows)


def _best_of(repeats: int, fn: Any, *args: Any) -> tuple[float, Any]:
    """(best wall-clock seconds over ``repeats`` calls of ``fn(*args)``, its result)."""
    times, result = [], None
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        result = fn(*args)
        times.append(time.perf_counter() - start)
    return min(times), result


def _annoy_query(index: Any, queries: np.ndarray, k: int, search_k: int) -> list[list[int]]:
    return [index.get_nns_by_vector(v, k, search_k=search_k) for v in queries]


def _annoy_index(
    items: np.ndarray, metric: str, n_trees: int, seed: int
) -> tuple[Any, float, float]:
    """An annoy index of ``items`` (build seconds, size in MB of its saved file)."""
    index = annoy.AnnoyIndex(items.shape[1], metric)
    index.set_seed(seed)
    for i, v in enumerate(items):
        index.add_item(i, v)
    start = time.perf_counter()
    index.build(n_trees, n_jobs=-1)
    build_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:  # save() re-opens the file by mmap, which
        path = os.path.join(folder, "index.ann")  # outlives the deleted file
        index.save(path)
        size = os.path.getsize(path)
    return index, build_s, size / 2**20
