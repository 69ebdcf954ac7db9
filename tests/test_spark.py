"""Tests of course_lib.spark (chapter 02b): rows, Parquet, the regParam mapping, Spark's ALS.

One local SparkSession serves the whole module. Without pyspark or Java the tests that need Spark
are skipped with the reason course_lib.spark.spark_status() gives; the others still run.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib import spark as S
from course_lib.als import fit_als
from course_lib.evaluation import ranking_metrics, split_plays, top_k_items
from course_lib.music_world import make_music_world

SPARK_OK, SPARK_MESSAGE = S.spark_status()
needs_spark = pytest.mark.skipif(not SPARK_OK, reason=SPARK_MESSAGE)


def random_plays(n_users: int = 30, n_items: int = 20, density: float = 0.3, seed: int = 0):
    rng = np.random.default_rng(seed)
    dense = (rng.random((n_users, n_items)) < density) * rng.integers(1, 9, (n_users, n_items))
    dense[1] = 0  # a user without plays
    dense[:, 2] = 0  # an item without listeners
    return sp.csr_matrix(dense.astype(np.int32))


def two_communities(n_users: int = 40, n_items: int = 24, seed: int = 0) -> sp.csr_matrix:
    """Users 0..n/2-1 play only items 0..m/2-1, the others only the other half."""
    rng = np.random.default_rng(seed)
    dense = np.zeros((n_users, n_items), dtype=np.int32)
    half_u, half_i = n_users // 2, n_items // 2
    for u in range(n_users):
        items = np.arange(half_i) if u < half_u else np.arange(half_i, n_items)
        chosen = rng.choice(items, size=5, replace=False)
        dense[u, chosen] = rng.integers(1, 6, size=5)
    return sp.csr_matrix(dense)


@pytest.fixture(scope="module")
def spark():
    if not SPARK_OK:
        pytest.skip(SPARK_MESSAGE)
    session = S.get_spark("course_lib tests", master="local[2]", shuffle_partitions=2)
    yield session
    session.stop()


@pytest.fixture(scope="module")
def tiny_split():
    world = make_music_world("tiny", 0)
    return split_plays(world.plays, test_fraction=0.2, seed=0)


# ---------------------------------------------------------------------------------------------
# Rows, Arrow and Parquet (no Spark needed)
# ---------------------------------------------------------------------------------------------
def test_plays_to_rows_matches_the_dense_matrix():
    plays = random_plays()
    user, item, values = S.plays_to_rows(plays)
    assert user.dtype == np.int32 and item.dtype == np.int32 and values.dtype == np.int32
    dense = plays.toarray()
    rows, cols = np.nonzero(dense)
    np.testing.assert_array_equal(user, rows)
    np.testing.assert_array_equal(item, cols)
    np.testing.assert_array_equal(values, dense[rows, cols])


def test_plays_to_rows_drops_explicit_zeros_and_sums_duplicates():
    coo = sp.coo_matrix(
        (np.array([2.5, 0.0, 1.0, 1.0]), (np.array([0, 1, 2, 2]), np.array([1, 0, 2, 2]))),
        shape=(3, 3),
    )
    user, item, values = S.plays_to_rows(coo)
    assert values.dtype == np.float32
    np.testing.assert_array_equal(user, [0, 2])
    np.testing.assert_array_equal(item, [1, 2])
    np.testing.assert_allclose(values, [2.5, 2.0])


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (np.arange(5), TypeError),
        ([[1, 2], [3, 4]], TypeError),
        (sp.csr_matrix(np.array([[1, -2], [0, 3]])), ValueError),
        (sp.csr_matrix(np.array([[1.0, np.nan], [0.0, 3.0]])), ValueError),
    ],
)
def test_bad_plays_are_rejected(bad, error):
    with pytest.raises(error):
        S.plays_to_rows(bad)
    with pytest.raises(error):
        S.fit_als_spark(bad, spark=object())  # fails before touching the session


def test_parquet_round_trip_is_identical(tmp_path: Path):
    plays = random_plays(n_users=50, n_items=31, seed=3)
    plays.resize((52, 33))  # trailing empty users and items: only the stored shape keeps them
    path = S.write_plays_parquet(plays, tmp_path / "sub" / "plays.parquet", row_group_size=100)
    back = S.read_plays_parquet(path)
    assert back.shape == plays.shape
    assert back.dtype == plays.dtype
    assert (back != plays).nnz == 0


def test_parquet_reader_and_writer_errors(tmp_path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    with pytest.raises(ValueError, match="folder"):
        S.write_plays_parquet(random_plays(), tmp_path)
    with pytest.raises(ValueError, match="row_group_size"):
        S.write_plays_parquet(random_plays(), tmp_path / "x.parquet", row_group_size=0)
    pq.write_table(pa.table({"user": [0], "track": [1], "plays": [3]}), tmp_path / "bad.parquet")
    with pytest.raises(ValueError, match="item"):
        S.read_plays_parquet(tmp_path / "bad.parquet")


def test_arrow_table_carries_shape_and_columns():
    table = S.plays_to_arrow(random_plays(n_users=7, n_items=5))
    assert table.column_names == ["user", "item", "plays"]
    assert table.schema.metadata[b"course_lib.shape"] == b"7,5"


# ---------------------------------------------------------------------------------------------
# The regularisation mapping, scaling helpers and the estimate
# ---------------------------------------------------------------------------------------------
def test_spark_reg_param_matches_lambda_on_average():
    plays = random_plays(n_users=40, n_items=25, seed=5)
    lam = 0.7
    n_u = np.diff(plays.indptr)
    m_i = np.diff(plays.tocsc().indptr)
    n_u, m_i = n_u[n_u > 0], m_i[m_i > 0]
    for match, counts in (
        ("users", n_u),
        ("items", m_i),
        ("mean", np.concatenate([n_u, m_i])),
    ):
        reg_param = S.spark_reg_param(lam, plays, match=match)
        # Spark's ridge of each active row is reg_param * count; on average it must be λ
        assert np.isclose(np.mean(reg_param * counts), lam)


def test_spark_reg_param_errors():
    with pytest.raises(ValueError, match="regularization"):
        S.spark_reg_param(-1.0, random_plays())
    with pytest.raises(ValueError, match="match"):
        S.spark_reg_param(0.1, random_plays(), match="median")
    with pytest.raises(ValueError, match="nothing to fit"):
        S.spark_reg_param(0.1, sp.csr_matrix((3, 3), dtype=np.int32))
    with pytest.raises(TypeError, match="Spark DataFrame"):
        S.spark_reg_param(0.1, "plays.parquet")


def test_subsample_and_tile():
    plays = random_plays(n_users=60, n_items=40, seed=2)
    sub = S.subsample_plays(plays, 100, seed=1)
    assert sub.shape == plays.shape and sub.nnz == 100
    assert np.all(plays[sub.nonzero()] == sub[sub.nonzero()])  # a subset of the original
    assert (S.subsample_plays(plays, 100, seed=1) != sub).nnz == 0  # seeded
    with pytest.raises(ValueError, match="tile_plays"):
        S.subsample_plays(plays, plays.nnz + 1)
    tiled = S.tile_plays(plays, 3)
    assert tiled.shape == (180, 120) and tiled.nnz == 3 * plays.nnz
    assert (tiled[60:120, 40:80] != plays).nnz == 0
    assert tiled[:60, 40:].nnz == 0
    with pytest.raises(ValueError, match="copies"):
        S.tile_plays(plays, 0)


def test_cluster_estimate_arithmetic():
    one = S.cluster_estimate(
        1e-6, n_users=1e6, plays_per_user=100, iterations=10, hours=2.0, cores_per_node=4
    )
    assert one.n_plays == 1e8
    assert np.isclose(one.core_hours_per_iteration, 1e-6 * 1e8 / 3600)
    assert np.isclose(one.core_hours_total, 10 * one.core_hours_per_iteration)
    assert np.isclose(one.nodes, one.core_hours_total / (2.0 * 4))
    assert np.isclose(one.shuffle_terabytes_per_iteration, 2 * 1e8 * 40 * 4 / 1e12)
    assert np.isclose(one.memory_terabytes, (2 * 1e8 * 8 + (1e6 + 30e6) * 40 * 4) / 1e12)
    double = S.cluster_estimate(
        1e-6, n_users=2e6, plays_per_user=100, iterations=10, hours=2.0, cores_per_node=4
    )
    assert np.isclose(double.nodes, 2 * one.nodes)
    with pytest.raises(ValueError, match="hours"):
        S.cluster_estimate(1e-6, hours=0)


def test_marginal_core_seconds_per_play_is_the_slope_times_cores():
    n = np.array([1e5, 2e5, 4e5, 8e5])
    seconds = 0.5 + 3e-6 * n  # a fixed cost plus 3 microseconds per play
    assert S.marginal_core_seconds_per_play(n, seconds, cores=2) == pytest.approx(6e-6)
    noisy = seconds.copy()
    noisy[1] = np.nan  # a failed timing is dropped
    assert S.marginal_core_seconds_per_play(n, noisy, cores=1) == pytest.approx(3e-6)
    with pytest.raises(ValueError, match="two or more"):
        S.marginal_core_seconds_per_play([1e5, 1e5], [1.0, 2.0], cores=1)
    with pytest.raises(ValueError, match="cores"):
        S.marginal_core_seconds_per_play(n, seconds, cores=0)


def test_plot_scaling_draws_one_line_per_library():
    import matplotlib

    matplotlib.use("Agg")
    results = [
        {"library": lib, "n_plays": n, "seconds_per_iteration": n * k}
        for lib, k in (("a", 1e-6), ("b", 2e-6))
        for n in (1e5, 2e5, 4e5)
    ]
    fig = S.plot_scaling(results)
    assert len(fig.axes[0].lines) == 2
    with pytest.raises(ValueError):
        S.plot_scaling([])


def test_seconds_per_iteration_rejects_unknown_library():
    with pytest.raises(ValueError, match="library"):
        S.seconds_per_iteration("mahout", random_plays())


# ---------------------------------------------------------------------------------------------
# Is Java there? (fake java executables; nothing starts)
# ---------------------------------------------------------------------------------------------
def _fake_java(folder: Path, version_line: str) -> Path:
    bin_dir = folder / "bin"
    bin_dir.mkdir(parents=True)
    java = bin_dir / "java"
    java.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    return java


@pytest.mark.skipif(os.name == "nt", reason="shell-script fake java")
def test_java_version_parses_old_and_new_formats(tmp_path: Path):
    assert S.java_version(str(_fake_java(tmp_path / "a", 'java version "1.8.0_392"'))) == 8
    assert S.java_version(str(_fake_java(tmp_path / "b", 'openjdk version "17.0.15"'))) == 17
    assert S.java_version(str(_fake_java(tmp_path / "c", 'openjdk version "21" 2023'))) == 21
    assert S.java_version(str(tmp_path / "nowhere" / "java")) is None


@pytest.mark.skipif(os.name == "nt", reason="shell-script fake java")
def test_spark_status_explains_missing_or_old_java(tmp_path: Path, monkeypatch):
    pytest.importorskip("pyspark")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no_java_here"))
    ok, message = S.spark_status()
    assert not ok and "JAVA_HOME" in message and "openjdk-17" in message
    with pytest.raises(S.SparkUnavailableError, match="JAVA_HOME"):
        S.get_spark()  # fails early, before any JVM starts
    _fake_java(tmp_path / "jdk8", 'java version "1.8.0_392"')
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk8"))
    ok, message = S.spark_status()
    import pyspark

    if int(pyspark.__version__.split(".")[0]) >= 4:
        assert not ok and "Java 8" in message


# ---------------------------------------------------------------------------------------------
# Exercise checks reject plausible wrong answers
# ---------------------------------------------------------------------------------------------
def test_check_spark_reg_param(capsys):
    def right(lam, plays):
        plays = sp.csr_matrix(plays)
        plays.eliminate_zeros()
        users = np.count_nonzero(np.diff(plays.indptr))
        items = np.count_nonzero(np.diff(plays.tocsc().indptr))
        return lam * (users + items) / (2 * plays.nnz)

    def counts_every_row(lam, plays):  # uses the shape, not the active rows
        return lam * sum(plays.shape) / (2 * plays.nnz)

    def inverted(lam, plays):
        return right(1.0, plays) / lam

    def stub(lam, plays):
        raise NotImplementedError

    assert S.check_spark_reg_param(right).passed
    assert S.check_spark_reg_param(counts_every_row).status == "wrong"
    assert S.check_spark_reg_param(inverted).status == "wrong"
    assert S.check_spark_reg_param(stub).status == "not implemented"
    assert "Not implemented yet" in capsys.readouterr().out


def test_check_plays_to_rows():
    def right(plays):
        coo = sp.coo_matrix(plays)
        keep = coo.data != 0
        return coo.row[keep], coo.col[keep], coo.data[keep]

    def keeps_zeros(plays):
        coo = sp.coo_matrix(plays)
        return coo.row, coo.col, coo.data

    def swapped(plays):
        user, item, values = right(plays)
        return item, user, values

    def stub(plays):
        raise NotImplementedError

    assert S.check_plays_to_rows(right).passed
    assert S.check_plays_to_rows(keeps_zeros).status == "wrong"
    assert S.check_plays_to_rows(swapped).status == "wrong"
    assert S.check_plays_to_rows(stub).status == "not implemented"


# ---------------------------------------------------------------------------------------------
# With Spark
# ---------------------------------------------------------------------------------------------
@needs_spark
def test_dataframe_round_trip(spark):
    plays = random_plays(n_users=25, n_items=18, seed=4)
    frame = S.plays_to_dataframe(plays, spark)
    assert frame.columns == ["user", "item", "plays"]
    rows = np.array(sorted((r.user, r.item, r.plays) for r in frame.collect()))
    expected = np.column_stack(S.plays_to_rows(plays))
    np.testing.assert_array_equal(rows, expected)


@needs_spark
def test_spark_reads_our_parquet(spark, tmp_path: Path):
    plays = random_plays(n_users=25, n_items=18, seed=6)
    path = S.write_plays_parquet(plays, tmp_path / "plays.parquet")
    frame = spark.read.parquet(str(path))
    rows = np.array(sorted((r.user, r.item, r.plays) for r in frame.collect()))
    np.testing.assert_array_equal(rows, np.column_stack(S.plays_to_rows(plays)))
    assert S.spark_reg_param(0.3, frame) == pytest.approx(S.spark_reg_param(0.3, plays))


@needs_spark
def test_factors_are_aligned_with_our_indices(spark):
    plays = two_communities()
    # permute users and items so that community membership is not a contiguous id range
    rng = np.random.default_rng(1)
    user_order, item_order = rng.permutation(plays.shape[0]), rng.permutation(plays.shape[1])
    plays = plays[user_order][:, item_order]
    padded = plays.copy()
    padded.resize((43, 26))
    X, Y = S.fit_als_spark(padded, factors=4, alpha=1.0, iterations=10, spark=spark)
    assert X.shape == (43, 4) and Y.shape == (26, 4) and X.dtype == np.float32
    assert not X[40:].any() and not Y[24:].any()  # users and items without plays: zero rows
    community_of_user = user_order >= 20
    community_of_item = item_order >= 12
    top = top_k_items(X[:40] @ Y[:24].T, 5, exclude=plays)
    same = community_of_item[top] == community_of_user[:, None]
    assert same.mean() > 0.9


@needs_spark
def test_regularization_reaches_spark(spark):
    plays = random_plays(n_users=30, n_items=20, seed=7)
    kwargs = {"factors": 4, "alpha": 1.0, "iterations": 5, "spark": spark}
    X_small, _ = S.fit_als_spark(plays, reg_param=1e-3, **kwargs)
    X_big, _ = S.fit_als_spark(plays, reg_param=1e3, **kwargs)
    assert np.linalg.norm(X_big) < 0.1 * np.linalg.norm(X_small)


@needs_spark
def test_spark_ranks_like_fit_als(spark, tiny_split):
    train, test = tiny_split
    X, Y = fit_als(train, factors=8, alpha=1.0, iterations=10, progress=False)
    Xs, Ys = S.fit_als_spark(train, factors=8, alpha=1.0, iterations=10, spark=spark)
    ours = ranking_metrics((X, Y), train, test, k=10)["ndcg"]
    theirs = ranking_metrics((Xs, Ys), train, test, k=10)["ndcg"]
    popular = ranking_metrics(
        lambda users: np.tile(np.asarray(train.sum(axis=0)), (len(users), 1)), train, test, k=10
    )["ndcg"]
    assert theirs == pytest.approx(ours, rel=0.15)
    assert theirs > popular  # Spark's factors carry more than popularity
    # the two top-10 lists share far more items than two random factorisations would
    a = top_k_items(X @ Y.T, 10, exclude=train)
    b = top_k_items(Xs @ Ys.T, 10, exclude=train)
    rng = np.random.default_rng(0)
    c = top_k_items(rng.normal(size=X.shape) @ Y.T, 10, exclude=train)
    overlap = np.mean([len(set(p) & set(q)) for p, q in zip(a, b)])
    chance = np.mean([len(set(p) & set(q)) for p, q in zip(a, c)])
    assert overlap > 3 * chance


@needs_spark
def test_fit_als_spark_argument_errors(spark):
    plays = random_plays()
    with pytest.raises(ValueError, match="factors"):
        S.fit_als_spark(plays, factors=0, spark=spark)
    with pytest.raises(ValueError, match="iterations"):
        S.fit_als_spark(plays, iterations=0, spark=spark)
    with pytest.raises(ValueError, match="alpha"):
        S.fit_als_spark(plays, alpha=-1.0, spark=spark)
    with pytest.raises(ValueError, match="nothing to fit"):
        S.fit_als_spark(sp.csr_matrix((4, 4), dtype=np.int32), spark=spark)
