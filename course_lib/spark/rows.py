"""A play matrix as ``(user, item, plays)`` rows: numpy, Arrow, Spark and Parquet (chapter 02b).

Taught in chapter 02b (``chapters/02b_als_at_scale.md``): "2. The plays as rows" turns the CSR
matrix into rows (:func:`plays_to_rows`, exercise 2b.1) and ships them to Spark as Arrow batches
(:func:`plays_to_dataframe`); "7. From a laptop to a cluster" writes and reads the Parquet file a
cluster reads (:func:`write_plays_parquet`, :func:`read_plays_parquet`). :func:`factors_to_numpy`
brings Spark's factor tables back as numpy arrays aligned with our ids.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from course_lib.spark.session import _no_pandas_version_warning
from course_lib.validation import require_int, validate_plays

if TYPE_CHECKING:  # pragma: no cover - imported for type hints only
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

__all__ = [
    "ITEM_COL",
    "PLAYS_COL",
    "USER_COL",
    "factors_to_numpy",
    "plays_to_arrow",
    "plays_to_dataframe",
    "plays_to_rows",
    "read_plays_parquet",
    "write_plays_parquet",
]

#: Column names of the play table, in Spark and in Parquet.
USER_COL, ITEM_COL, PLAYS_COL = "user", "item", "plays"
#: Parquet schema metadata key that stores the matrix shape (users with no plays have no rows).
_SHAPE_KEY = b"course_lib.shape"


def plays_to_rows(plays: sp.spmatrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The nonzero entries of a ``users x items`` matrix as three aligned columns.

    This is the "coordinate" (COO) view a distributed engine stores: one row per
    (user, item) pair that was played, without Python loops (``np.repeat`` over the CSR row
    pointer). Duplicates are summed and explicit zeros dropped first.

    Returns
    -------
    user, item : np.ndarray of int32
    plays : np.ndarray
        int32 for integer counts, float32 otherwise. Ordered by user, then item.

    Raises
    ------
    TypeError, ValueError
        Not a 2-D matrix of numbers, negative or NaN counts
        (:func:`course_lib.validation.validate_plays`), or more ids than 32 bits hold.
    """
    return _rows_of(validate_plays(plays))


def _rows_of(csr: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`plays_to_rows` of a matrix that :func:`validate_plays` has already returned."""
    if max(csr.shape) > np.iinfo(np.int32).max:
        raise ValueError(f"Spark ids are 32-bit integers; shape {csr.shape} is too large.")
    user = np.repeat(np.arange(csr.shape[0], dtype=np.int32), np.diff(csr.indptr))
    item = csr.indices.astype(np.int32)
    values = csr.data.astype(np.int32 if np.issubdtype(csr.dtype, np.integer) else np.float32)
    return user, item, values


def plays_to_arrow(plays: sp.spmatrix) -> pa.Table:
    """An Arrow table with columns ``user``, ``item``, ``plays`` (see :func:`plays_to_rows`).

    The matrix shape is stored in the schema metadata (``course_lib.shape``), because users
    and items without plays have no row.
    """
    import pyarrow as pa

    csr = validate_plays(plays)
    user, item, values = _rows_of(csr)
    table = pa.table({USER_COL: user, ITEM_COL: item, PLAYS_COL: values})
    shape = f"{csr.shape[0]},{csr.shape[1]}".encode()
    return table.replace_schema_metadata({_SHAPE_KEY: shape})


def plays_to_dataframe(plays: sp.spmatrix, spark: SparkSession) -> DataFrame:
    """A Spark DataFrame of ``(user, item, plays)`` rows, shipped to the JVM as Arrow batches.

    ``spark`` is a running ``SparkSession`` (:func:`~course_lib.spark.get_spark`); anything else
    is refused with a ``TypeError`` before the plays are converted.
    """
    if not hasattr(spark, "createDataFrame"):
        raise TypeError(
            f"spark must be a SparkSession, got {type(spark).__name__}; start one with "
            "course_lib.spark.get_spark()."
        )
    table = plays_to_arrow(plays)
    with _no_pandas_version_warning():
        try:
            return spark.createDataFrame(table)
        except TypeError:  # pyspark < 4 does not take an Arrow table: go through pandas
            return spark.createDataFrame(table.to_pandas())


def write_plays_parquet(
    plays: sp.spmatrix, path: str | os.PathLike[str], row_group_size: int = 1 << 20
) -> Path:
    """Write the plays as a Parquet file of ``(user, item, plays)`` rows (pyarrow, Snappy).

    The same file is what ``course_lib/spark/submit.py`` reads under ``spark-submit`` on a
    cluster (copy it to HDFS or object storage first). The matrix shape is kept in the file's
    metadata.

    Parameters
    ----------
    plays : sparse matrix (n_users, n_items)
    path : str or Path
        File to write (its folder is created). Conventionally ends in ``.parquet``.
    row_group_size : int
        Rows per Parquet row group: the unit that Spark tasks read in parallel.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    TypeError, ValueError
        Bad ``plays`` (see :func:`course_lib.validation.validate_plays`), a ``row_group_size``
        that is not an integer >= 1, a ``path`` that is an existing folder, or a ``path`` whose
        parent is an existing file. Nothing is written then.
    """
    import pyarrow.parquet as pq

    row_group_size = require_int(row_group_size, "row_group_size", 1)
    path = _as_path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder; give a file name such as {path / 'plays.parquet'}.")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(
                    f"cannot write {path}: {parent} is a file, not a folder; choose another path."
                )
            break
    table = plays_to_arrow(plays)  # validates before anything is created
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


def _as_path(path: object) -> Path:
    if not isinstance(path, str | os.PathLike) or str(path) == "":
        raise TypeError(f"path must be a file name (str or Path), got {path!r}.")
    return Path(path)


def read_plays_parquet(
    path: str | os.PathLike[str], shape: tuple[int, int] | None = None
) -> sp.csr_matrix:
    """Read a Parquet file (or a folder of them, as Spark writes) of ``(user, item, plays)`` rows
    back into a CSR matrix.

    ``shape`` defaults to the one stored by :func:`write_plays_parquet`, else to
    ``(max user + 1, max item + 1)``.

    Raises
    ------
    FileNotFoundError
        Nothing at ``path``.
    ValueError
        A file that is not Parquet, a folder without Parquet files, a missing ``user``, ``item``
        or ``plays`` column, ids that are not non-negative integers, missing values, a ``shape``
        too small for the ids, or play counts that are negative or NaN.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = _as_path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"no Parquet file or folder at {path}; check the path, or write one with "
            "write_plays_parquet(plays, path)."
        )
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as err:
        raise ValueError(
            f"{path} is not a readable Parquet file ({err}); pass a file written by "
            "write_plays_parquet or a folder of Parquet files written by Spark."
        ) from None
    if path.is_dir() and table.num_columns == 0:
        raise ValueError(f"the folder {path} holds no Parquet files; pass the plays file itself.")
    missing = {USER_COL, ITEM_COL, PLAYS_COL} - set(table.column_names)
    if missing:
        raise ValueError(f"{path} has no column(s) {sorted(missing)}; found {table.column_names}.")
    columns = {}
    for name in (USER_COL, ITEM_COL, PLAYS_COL):
        column = table.column(name)
        if column.null_count:
            raise ValueError(
                f"{path}: column {name!r} has {column.null_count} missing values; every row needs "
                "a user, an item and a play count (drop those rows)."
            )
        columns[name] = column.to_numpy()
    user, item, values = columns[USER_COL], columns[ITEM_COL], columns[PLAYS_COL]
    for name, ids in ((USER_COL, user), (ITEM_COL, item)):
        if ids.dtype.kind not in "iu" or (ids.size and ids.min() < 0):
            raise ValueError(
                f"{path}: column {name!r} must hold non-negative integer ids, got dtype "
                f"{ids.dtype}{f' and minimum {ids.min()}' if ids.size else ''}."
            )
    needed = (int(user.max()) + 1 if user.size else 0, int(item.max()) + 1 if item.size else 0)
    if shape is None:
        stored = (table.schema.metadata or {}).get(_SHAPE_KEY)
        shape = _stored_shape(stored, path) if stored is not None else needed
    else:
        if not isinstance(shape, tuple | list) or len(shape) != 2:
            raise TypeError(f"shape must be a pair (n_users, n_items), got {shape!r}.")
        shape = (require_int(shape[0], "shape[0]", 0), require_int(shape[1], "shape[1]", 0))
    if shape[0] < needed[0] or shape[1] < needed[1]:
        raise ValueError(
            f"{path} has ids up to user {needed[0] - 1} and item {needed[1] - 1}, which do not "
            f"fit the shape {tuple(shape)}; pass a larger shape (or none)."
        )
    return validate_plays(sp.csr_matrix((values, (user, item)), shape=tuple(shape)), str(path))


def _stored_shape(stored: bytes, path: Path) -> tuple[int, int]:
    try:
        n_users, n_items = (int(v) for v in stored.decode().split(","))
    except ValueError:
        raise ValueError(
            f"{path}: the stored shape {stored!r} is damaged; pass shape=(n_users, n_items)."
        ) from None
    return n_users, n_items


def factors_to_numpy(factor_frame: DataFrame, n_rows: int, factors: int) -> np.ndarray:
    """Spark's ``(id, features)`` factor table as a dense ``(n_rows, factors)`` float32 array.

    Row ``id`` of the result holds that id's features; ids absent from the table (users or
    items without plays: Spark never saw them) are zero rows, as in
    :func:`course_lib.als.fit_als`.
    """
    n_rows = require_int(n_rows, "n_rows", 0)
    factors = require_int(factors, "factors", 1)
    table = factor_frame.select("id", "features").toArrow()
    ids = table.column("id").to_numpy()
    out = np.zeros((n_rows, factors), dtype=np.float32)
    if ids.size == 0:
        return out
    if ids.min() < 0 or ids.max() >= n_rows:
        raise ValueError(f"factor ids span [{ids.min()}, {ids.max()}], outside 0..{n_rows - 1}.")
    features = table.column("features").combine_chunks().flatten().to_numpy()
    out[ids] = features.reshape(ids.size, factors)
    return out
