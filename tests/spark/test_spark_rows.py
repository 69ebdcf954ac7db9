"""course_lib.spark.rows (chapter 02b, sections 2 and 7): rows, Arrow, Parquet, DataFrames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import scipy.sparse as sp

from course_lib import spark as S


def test_plays_to_rows_matches_the_dense_matrix(random_plays):
    plays = random_plays(n_users=30, n_items=20, density=0.3)
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


def test_parquet_round_trip_is_identical(tmp_path: Path, random_plays):
    plays = random_plays(n_users=50, n_items=31, density=0.3, seed=3)
    plays.resize((52, 33))  # trailing empty users and items: only the stored shape keeps them
    path = S.write_plays_parquet(plays, tmp_path / "sub" / "plays.parquet", row_group_size=100)
    back = S.read_plays_parquet(path)
    assert back.shape == plays.shape
    assert back.dtype == plays.dtype
    assert (back != plays).nnz == 0
    assert S.read_plays_parquet(str(path), shape=(60, 40)).shape == (60, 40)


def test_parquet_reader_and_writer_errors(tmp_path: Path, random_plays):
    with pytest.raises(ValueError, match="folder"):
        S.write_plays_parquet(random_plays(), tmp_path)
    with pytest.raises(ValueError, match="row_group_size"):
        S.write_plays_parquet(random_plays(), tmp_path / "x.parquet", row_group_size=0)
    pq.write_table(pa.table({"user": [0], "track": [1], "plays": [3]}), tmp_path / "bad.parquet")
    with pytest.raises(ValueError, match="item"):
        S.read_plays_parquet(tmp_path / "bad.parquet")


def test_writer_refuses_bad_paths_and_arguments_and_writes_nothing(tmp_path: Path, random_plays):
    a_file = tmp_path / "plays.parquet"
    a_file.write_text("not a folder")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        S.write_plays_parquet(random_plays(), a_file / "inside.parquet")
    with pytest.raises(TypeError, match="row_group_size must be an integer"):
        S.write_plays_parquet(random_plays(), tmp_path / "x.parquet", row_group_size="100")
    with pytest.raises(TypeError, match="path must be a file name"):
        S.write_plays_parquet(random_plays(), None)
    negative = sp.csr_matrix(np.array([[1, -2], [0, 3]]))
    with pytest.raises(ValueError, match="negative"):
        S.write_plays_parquet(negative, tmp_path / "new" / "plays.parquet")
    assert not (tmp_path / "new").exists()  # refused before any folder or file was made
    assert a_file.read_text() == "not a folder"


def test_reader_names_the_file_and_the_fix(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="write_plays_parquet"):
        S.read_plays_parquet(tmp_path / "missing.parquet")
    (tmp_path / "plays.csv").write_text("user,item,plays\n0,1,3\n")
    with pytest.raises(ValueError, match=r"plays\.csv is not a readable Parquet file"):
        S.read_plays_parquet(tmp_path / "plays.csv")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no Parquet files"):
        S.read_plays_parquet(tmp_path / "empty")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (pa.table({"user": [0, -1], "item": [1, 2], "plays": [3, 1]}), "non-negative integer ids"),
        (pa.table({"user": [0.5, 1.0], "item": [1, 2], "plays": [3, 1]}), "non-negative integer"),
        (pa.table({"user": [0, None], "item": [1, 2], "plays": [3, 1]}), "missing values"),
        (pa.table({"user": [0, 1], "item": [1, 2], "plays": [3.0, np.nan]}), "NaN"),
        (pa.table({"user": [0, 1], "item": [1, 2], "plays": [3, -1]}), "negative"),
    ],
)
def test_reader_refuses_damaged_rows(tmp_path: Path, table, message):
    pq.write_table(table, tmp_path / "plays.parquet")
    with pytest.raises(ValueError, match=message) as error:
        S.read_plays_parquet(tmp_path / "plays.parquet")
    assert "plays.parquet" in str(error.value)


def test_reader_checks_the_shape(tmp_path: Path, random_plays):
    path = S.write_plays_parquet(random_plays(n_users=8, n_items=6, density=0.5), tmp_path / "p")
    with pytest.raises(ValueError, match="do not fit the shape"):
        S.read_plays_parquet(path, shape=(3, 3))
    with pytest.raises(TypeError, match="shape must be a pair"):
        S.read_plays_parquet(path, shape=8)
    table = pq.read_table(path).replace_schema_metadata({b"course_lib.shape": b"eight,six"})
    pq.write_table(table, tmp_path / "damaged.parquet")
    with pytest.raises(ValueError, match="stored shape .* is damaged"):
        S.read_plays_parquet(tmp_path / "damaged.parquet")


def test_arrow_table_carries_shape_and_columns(random_plays):
    table = S.plays_to_arrow(random_plays(n_users=7, n_items=5))
    assert table.column_names == ["user", "item", "plays"]
    assert table.schema.metadata[b"course_lib.shape"] == b"7,5"


def test_plays_to_dataframe_and_factors_to_numpy_refuse_bad_arguments(random_plays):
    with pytest.raises(TypeError, match="SparkSession"):
        S.plays_to_dataframe(random_plays(), object())
    with pytest.raises(ValueError, match="n_rows"):
        S.factors_to_numpy(object(), n_rows=-1, factors=4)  # before the frame is touched
    with pytest.raises(TypeError, match="factors must be an integer"):
        S.factors_to_numpy(object(), n_rows=3, factors=4.0)


# --- with Spark ------------------------------------------------------------------------------
def test_dataframe_round_trip(spark, random_plays):
    plays = random_plays(n_users=25, n_items=18, density=0.3, seed=4)
    frame = S.plays_to_dataframe(plays, spark)
    assert frame.columns == ["user", "item", "plays"]
    rows = np.array(sorted((r.user, r.item, r.plays) for r in frame.collect()))
    expected = np.column_stack(S.plays_to_rows(plays))
    np.testing.assert_array_equal(rows, expected)


def test_spark_reads_our_parquet_and_we_read_its_folders(spark, tmp_path: Path, random_plays):
    plays = random_plays(n_users=25, n_items=18, density=0.3, seed=6)
    path = S.write_plays_parquet(plays, tmp_path / "plays.parquet")
    frame = spark.read.parquet(str(path))
    rows = np.array(sorted((r.user, r.item, r.plays) for r in frame.collect()))
    np.testing.assert_array_equal(rows, np.column_stack(S.plays_to_rows(plays)))
    assert S.spark_reg_param(0.3, frame) == pytest.approx(S.spark_reg_param(0.3, plays))
    frame.write.parquet(str(tmp_path / "written_by_spark"))  # a folder of part files
    back = S.read_plays_parquet(tmp_path / "written_by_spark", shape=plays.shape)
    assert (back != plays).nnz == 0
