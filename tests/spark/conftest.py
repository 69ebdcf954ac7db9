"""Fixtures of the Spark tests (chapter 02b): one local SparkSession for all of them.

Without pyspark or Java, the tests that ask for the ``spark`` fixture are skipped with the reason
:func:`course_lib.spark.spark_status` gives; the others still run.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib import spark as S
from course_lib.evaluation import split_plays


@pytest.fixture(scope="session")
def spark():
    ok, message = S.spark_status()
    if not ok:
        pytest.skip(message)
    session = S.get_spark("course_lib tests", master="local[2]", shuffle_partitions=2)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def tiny_split() -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Chapter 02's train/test split of the "tiny" music world."""
    from course_lib.music_world import make_music_world

    world = make_music_world("tiny", 0)
    return split_plays(world.plays, test_fraction=0.2, seed=0)


@pytest.fixture
def two_communities() -> Callable[..., sp.csr_matrix]:
    """``two_communities(n_users=40, n_items=24, seed=0)``: users 0..n/2-1 play only items
    0..m/2-1, the others only the other half (5 plays each)."""

    def make(n_users: int = 40, n_items: int = 24, seed: int = 0) -> sp.csr_matrix:
        rng = np.random.default_rng(seed)
        dense = np.zeros((n_users, n_items), dtype=np.int32)
        half_u, half_i = n_users // 2, n_items // 2
        for u in range(n_users):
            items = np.arange(half_i) if u < half_u else np.arange(half_i, n_items)
            chosen = rng.choice(items, size=5, replace=False)
            dense[u, chosen] = rng.integers(1, 6, size=5)
        return sp.csr_matrix(dense)

    return make
