"""The same implicit-feedback ALS on Apache Spark, for catalogues that outgrow one machine.

Taught in chapter 02b (``chapters/02b_als_at_scale.md``), after the hand-written ALS of chapter 02
(:mod:`course_lib.als`). Spotify fitted this model (40 factors, about 20 iterations) on a Hadoop
cluster of about 1,300 nodes (Zhang, "Music recommendation in Spotify"); the open-source heir of
that design is Spark MLlib's block-partitioned ALS (Meng et al. 2016), which this module drives
through pyspark.

What is here:

* :func:`get_spark` starts a quiet local (or cluster) ``SparkSession``; :func:`spark_status` and
  :func:`require_spark` say early and in plain words when Java or pyspark is missing;
* :func:`plays_to_rows`, :func:`plays_to_arrow`, :func:`plays_to_dataframe`,
  :func:`write_plays_parquet`, :func:`read_plays_parquet`: a ``users x items`` CSR matrix as
  ``(user, item, plays)`` rows, in memory (Arrow), in Spark, or in a Parquet file that a cluster
  reads;
* :func:`spark_reg_param`: our constant ``λ`` expressed as Spark's ``regParam`` (Spark scales it
  by each row's number of plays, see below);
* :func:`fit_als_spark`: Spark's ALS with ``implicitPrefs=True`` on a CSR matrix, returning numpy
  factors aligned with our indices, a drop-in for :func:`course_lib.als.fit_als`;
* :func:`seconds_per_iteration`, :func:`subsample_plays`, :func:`tile_plays`,
  :func:`marginal_core_seconds_per_play`, :func:`cluster_estimate`, :func:`plot_scaling`: the
  one-machine scaling study and the paper estimate of a Spotify-sized fit;
* :func:`check_spark_reg_param`, :func:`check_plays_to_rows`: the chapter's exercise checks;
* :func:`main`: a command line for ``spark-submit`` (Parquet plays in, Parquet factors out).

The regularisation differs
--------------------------
Our :func:`~course_lib.als.fit_als`, ``implicit`` and Hu, Koren & Volinsky (2008, eq. 3) minimise

    Σ_{u,i} c_ui (p_ui − x_uᵀy_i)² + λ (Σ_u ‖x_u‖² + Σ_i ‖y_i‖²)

with one constant ``λ``. Spark MLlib weights each row's penalty by its number of ratings
("weighted-λ regularisation" of ALS-WR, Zhou et al. 2008, section 3.1): user ``u`` with ``n_u``
played items and item ``i`` with ``m_i`` listeners get

    Σ_{u,i} c_ui (p_ui − x_uᵀy_i)² + regParam (Σ_u n_u ‖x_u‖² + Σ_i m_i ‖y_i‖²),

so the ridge added to user ``u``'s normal equations is ``regParam * n_u`` instead of ``λ``. No
single ``regParam`` reproduces a constant ``λ`` for every row; :func:`spark_reg_param` matches
it on average. The confidence is the same in both: ``c_ui = 1 + alpha * plays_ui`` (Spark uses
``|rating|``, so negative ratings would act as confident zeros; play counts are never negative).
Spark solves each row's system exactly (Cholesky), ours by three conjugate-gradient steps, and
the two start from different random factors: equal settings give equally good, not equal,
factors.

pyspark is an optional dependency (``pip install -e ".[spark]"``) and needs a Java runtime
(17 or newer for pyspark 4). Nothing here imports pyspark until a Spark function is called.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from course_lib.evaluation import check_plays

if TYPE_CHECKING:  # pragma: no cover - imported for type hints only
    import matplotlib.figure
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

__all__ = [
    "CHECKPOINT_INTERVAL",
    "LIBRARIES",
    "ClusterEstimate",
    "SparkUnavailableError",
    "check_plays_to_rows",
    "check_spark_reg_param",
    "cluster_estimate",
    "factors_to_numpy",
    "fit_als_spark",
    "get_spark",
    "java_version",
    "main",
    "marginal_core_seconds_per_play",
    "plays_to_arrow",
    "plays_to_dataframe",
    "plays_to_rows",
    "plot_scaling",
    "read_plays_parquet",
    "require_spark",
    "seconds_per_iteration",
    "spark_reg_param",
    "spark_status",
    "subsample_plays",
    "tile_plays",
    "write_plays_parquet",
]

#: Column names of the play table, in Spark and in Parquet.
USER_COL, ITEM_COL, PLAYS_COL = "user", "item", "plays"
#: Parquet schema metadata key that stores the matrix shape (users with no plays have no rows).
_SHAPE_KEY = b"course_lib.shape"
#: The three ALS implementations of the scaling study.
LIBRARIES = ("course_lib", "implicit", "spark")

_INSTALL_JAVA = (
    "Install a Java 17 runtime, then restart the kernel:\n"
    "  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless\n"
    "  macOS (Homebrew): brew install openjdk@17\n"
    "  conda: conda install -c conda-forge openjdk=17\n"
    "  Windows: install Temurin 17 from https://adoptium.net\n"
    "and make sure `java -version` works in the shell that starts Jupyter "
    "(or set JAVA_HOME to the folder that contains bin/java)."
)


class SparkUnavailableError(RuntimeError):
    """Spark cannot start on this machine: Java or pyspark is missing or too old."""


# ---------------------------------------------------------------------------------------------
# Is Spark usable here?
# ---------------------------------------------------------------------------------------------
def _java_executable() -> tuple[str | None, str]:
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if candidate.exists():
            return str(candidate), ""
        return None, f"JAVA_HOME is set to {java_home!r}, but {candidate} does not exist."
    found = shutil.which("java")
    if found is None:
        return None, "no `java` executable on the PATH and JAVA_HOME is not set."
    return found, ""


def java_version(java: str | None = None) -> int | None:
    """Major version of the Java runtime Spark would use (``JAVA_HOME`` first, then ``PATH``).

    Parameters
    ----------
    java : str, optional
        Path of a ``java`` executable to ask instead.

    Returns
    -------
    int or None
        ``17`` for ``openjdk version "17.0.15"``, ``8`` for ``"1.8.0_392"``; ``None`` when no
        runtime is found or it does not answer ``java -version``.
    """
    executable = java if java is not None else _java_executable()[0]
    if executable is None:
        return None
    try:
        answer = subprocess.run(
            [executable, "-version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', answer.stderr + answer.stdout)
    if match is None:
        return None
    major = int(match.group(1))
    if major == 1 and match.group(2) is not None:  # "1.8.0" is Java 8
        major = int(match.group(2))
    return major


def _required_java(pyspark_version: str) -> int:
    return 17 if int(pyspark_version.split(".")[0]) >= 4 else 8


def spark_status() -> tuple[bool, str]:
    """Can pyspark start a local Spark here? Checks pyspark, then the Java runtime.

    Nothing is started. Chapters call it in a flag cell and skip their Spark cells when it says
    no, printing the message.

    Returns
    -------
    ok : bool
    message : str
        The versions found, or what is missing and how to install it.
    """
    try:
        with _no_pandas_version_warning():
            import pyspark
    except ImportError:
        return False, (
            'pyspark is not installed: run `pip install -e ".[spark]"` in the course folder '
            "(it also needs Java 17; see below).\n" + _INSTALL_JAVA
        )
    executable, problem = _java_executable()
    if executable is None:
        return False, f"Spark needs Java, and {problem}\n{_INSTALL_JAVA}"
    major = java_version(executable)
    needed = _required_java(pyspark.__version__)
    if major is None:
        return False, f"{executable} did not report a version.\n{_INSTALL_JAVA}"
    if major < needed:
        return False, (
            f"pyspark {pyspark.__version__} needs Java {needed} or newer, but {executable} is "
            f"Java {major}.\n{_INSTALL_JAVA}"
        )
    return True, f"pyspark {pyspark.__version__} with Java {major} ({executable})"


def require_spark() -> str:
    """Raise :class:`SparkUnavailableError` with install instructions unless Spark can start.

    Returns the versions found (the message of :func:`spark_status`).
    """
    ok, message = spark_status()
    if not ok:
        raise SparkUnavailableError(message)
    return message


@contextlib.contextmanager
def _no_pandas_version_warning() -> Iterator[None]:
    """Hide pyspark's FutureWarning about pandas >= 3 (no pandas is involved in our calls)."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
        )
        yield


def _quiet_log4j_file() -> Path:
    """A log4j2 configuration that lets only errors through (Spark's default prints warnings)."""
    path = Path(tempfile.gettempdir()) / "course_lib_log4j2.properties"
    text = (
        "rootLogger.level = error\n"
        "rootLogger.appenderRef.stderr.ref = console\n"
        "appender.console.type = Console\n"
        "appender.console.name = console\n"
        "appender.console.target = SYSTEM_ERR\n"
        "appender.console.layout.type = PatternLayout\n"
        "appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n\n"
        # pyspark counts as a shell: unless Spark's own loggers are configured, Spark announces
        # that it sets them to WARN.
        "logger.spark.name = org.apache.spark\n"
        "logger.spark.level = error\n"
    )
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def get_spark(
    app_name: str = "course_lib",
    master: str = "local[2]",
    driver_memory: str = "2g",
    shuffle_partitions: int = 4,
    quiet: bool = True,
    conf: dict[str, str] | None = None,
) -> SparkSession:
    """Start (or return the running) ``SparkSession``, set up for a laptop-sized course.

    Parameters
    ----------
    app_name : str
        Name shown in the cluster's application list.
    master : str
        ``"local[2]"`` runs Spark inside this machine on 2 cores; ``"spark://host:7077"`` or
        ``"yarn"`` submit to a cluster (better: use ``spark-submit``, see :func:`main`).
    driver_memory : str
        JVM heap of the driver (in local mode it also holds the executors). Only applies when
        this call starts the JVM.
    shuffle_partitions : int
        ``spark.sql.shuffle.partitions``: Spark's default of 200 is made for clusters and only
        adds scheduling overhead on 2 cores.
    quiet : bool
        Show only errors in the JVM's log and no progress bars.
    conf : dict, optional
        Extra ``spark.*`` settings.

    Returns
    -------
    pyspark.sql.SparkSession

    Raises
    ------
    SparkUnavailableError
        Before anything starts, when Java or pyspark is missing (with install instructions).
    """
    require_spark()
    if int(shuffle_partitions) < 1:
        raise ValueError(f"shuffle_partitions must be >= 1, got {shuffle_partitions}.")
    with _no_pandas_version_warning():
        from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.appName(app_name)
        .master(master)
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.shuffle.partitions", str(int(shuffle_partitions)))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    if master.startswith("local"):
        builder = builder.config("spark.driver.host", "127.0.0.1").config(
            "spark.driver.bindAddress", "127.0.0.1"
        )
    if quiet:
        builder = builder.config(
            "spark.driver.extraJavaOptions",
            f"-Dlog4j2.configurationFile=file:{_quiet_log4j_file()}",
        )
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    with _no_pandas_version_warning():
        spark = builder.getOrCreate()
    if quiet:
        spark.sparkContext.setLogLevel("ERROR")
    _ensure_checkpoint_dir(spark)
    return spark


#: Spark's ALS checkpoints its factors every this many iterations (``checkpointInterval``).
CHECKPOINT_INTERVAL = 10


def _ensure_checkpoint_dir(spark: SparkSession) -> None:
    """Give a local session a checkpoint folder, so that long ALS fits can cut their lineage.

    Without one, Spark silently skips ALS's checkpoints; after about 20 iterations the chain of
    dependent datasets is so long that serialising a task overflows the JVM's stack
    (``StackOverflowError``). On a cluster, pass a folder on shared storage instead
    (``spark.sparkContext.setCheckpointDir("hdfs:///tmp/checkpoints")``).
    """
    context = spark.sparkContext
    if context.getCheckpointDir() is None and context.master.startswith("local"):
        context.setCheckpointDir(tempfile.mkdtemp(prefix="course_lib_spark_checkpoints_"))


# ---------------------------------------------------------------------------------------------
# A play matrix as rows: numpy, Arrow, Spark, Parquet
# ---------------------------------------------------------------------------------------------
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
    """
    csr = check_plays(plays)
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

    csr = check_plays(plays)
    user, item, values = plays_to_rows(csr)
    table = pa.table({USER_COL: user, ITEM_COL: item, PLAYS_COL: values})
    shape = f"{csr.shape[0]},{csr.shape[1]}".encode()
    return table.replace_schema_metadata({_SHAPE_KEY: shape})


def plays_to_dataframe(plays: sp.spmatrix, spark: SparkSession) -> DataFrame:
    """A Spark DataFrame of ``(user, item, plays)`` rows, shipped to the JVM as Arrow batches."""
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

    The same file is what :func:`main` reads under ``spark-submit`` on a cluster (copy it to
    HDFS or object storage first). The matrix shape is kept in the file's metadata.

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
    """
    import pyarrow.parquet as pq

    if int(row_group_size) < 1:
        raise ValueError(f"row_group_size must be >= 1, got {row_group_size}.")
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder; give a file name such as plays.parquet.")
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(plays_to_arrow(plays), path, row_group_size=int(row_group_size))
    return path


def read_plays_parquet(
    path: str | os.PathLike[str], shape: tuple[int, int] | None = None
) -> sp.csr_matrix:
    """Read a Parquet file (or folder) of ``(user, item, plays)`` rows back into a CSR matrix.

    ``shape`` defaults to the one stored by :func:`write_plays_parquet`, else to
    ``(max user + 1, max item + 1)``.
    """
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    missing = {USER_COL, ITEM_COL, PLAYS_COL} - set(table.column_names)
    if missing:
        raise ValueError(f"{path} has no column(s) {sorted(missing)}; found {table.column_names}.")
    user = table.column(USER_COL).to_numpy()
    item = table.column(ITEM_COL).to_numpy()
    values = table.column(PLAYS_COL).to_numpy()
    if shape is None:
        stored = (table.schema.metadata or {}).get(_SHAPE_KEY)
        if stored is not None:
            n_users, n_items = (int(v) for v in stored.decode().split(","))
        else:
            n_users = int(user.max()) + 1 if user.size else 0
            n_items = int(item.max()) + 1 if item.size else 0
        shape = (n_users, n_items)
    return sp.csr_matrix((values, (user, item)), shape=shape)


def factors_to_numpy(factor_frame: DataFrame, n_rows: int, factors: int) -> np.ndarray:
    """Spark's ``(id, features)`` factor table as a dense ``(n_rows, factors)`` float32 array.

    Row ``id`` of the result holds that id's features; ids absent from the table (users or
    items without plays: Spark never saw them) are zero rows, as in
    :func:`course_lib.als.fit_als`.
    """
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


# ---------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------
def _active_counts(plays: Any) -> tuple[int, int, int]:
    """(users with plays, items with plays, played pairs) of a CSR matrix or Spark DataFrame."""
    if sp.issparse(plays) or isinstance(plays, np.ndarray):
        csr = check_plays(plays)
        n_users = int(np.count_nonzero(np.diff(csr.indptr)))
        n_items = int(np.count_nonzero(np.bincount(csr.indices, minlength=csr.shape[1])))
        return n_users, n_items, int(csr.nnz)
    if hasattr(plays, "agg") and hasattr(plays, "filter"):  # a Spark DataFrame
        from pyspark.sql import functions as F

        row = (
            plays.filter(F.col(PLAYS_COL) > 0)
            .agg(
                F.countDistinct(USER_COL).alias("u"),
                F.countDistinct(ITEM_COL).alias("i"),
                F.count("*").alias("n"),
            )
            .first()
        )
        return int(row["u"]), int(row["i"]), int(row["n"])
    raise TypeError(
        f"plays must be a scipy.sparse matrix or a Spark DataFrame, got {type(plays).__name__}."
    )


def spark_reg_param(regularization: float, plays: Any, match: str = "mean") -> float:
    """Spark's ``regParam`` that matches our constant ``λ`` on average.

    Spark adds ``regParam * n_u`` to user ``u``'s normal equations (``n_u`` = items the user
    played) and ``regParam * m_i`` to item ``i``'s (``m_i`` = its listeners); we add ``λ`` to
    every row (Zhou et al. 2008, section 3.1 versus Hu, Koren & Volinsky 2008, eq. 4). Only
    rows with plays count: the others get zero factors in both. With ``N`` played pairs,
    ``U`` active users and ``I`` active items:

    * ``match="mean"``: the ridge averaged over all active users *and* items equals ``λ``:
      ``regParam * 2N / (U + I) = λ``, so ``regParam = λ (U + I) / (2N)``;
    * ``match="users"``: the average user's ridge equals ``λ``: ``regParam = λ U / N``;
    * ``match="items"``: the average item's ridge equals ``λ``: ``regParam = λ I / N``.

    Heavy users and popular items are still penalised more by Spark, light ones less.

    Parameters
    ----------
    regularization : float
        Our ``λ`` (``fit_als``'s and ``implicit``'s ``regularization``).
    plays : sparse matrix or Spark DataFrame
        The training plays (a DataFrame with ``user, item, plays`` columns is counted by Spark).
    match : {"mean", "users", "items"}

    Returns
    -------
    float
    """
    regularization = float(regularization)
    if not math.isfinite(regularization) or regularization < 0:
        raise ValueError(f"regularization must be a finite number >= 0, got {regularization}.")
    if match not in ("mean", "users", "items"):
        raise ValueError(f'match must be "mean", "users" or "items", got {match!r}.')
    n_users, n_items, n_plays = _active_counts(plays)
    if n_plays == 0:
        raise ValueError("plays has no nonzero entry: there is nothing to fit.")
    rows = {"mean": (n_users + n_items) / 2.0, "users": n_users, "items": n_items}[match]
    return regularization * rows / n_plays


def _check_int(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def _check_nonnegative(value: object, name: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}.") from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")
    return number


def _als_estimator(
    factors: int,
    alpha: float,
    reg_param: float,
    iterations: int,
    seed: int,
    num_blocks: int | None,
) -> Any:
    from pyspark.ml.recommendation import ALS

    als = ALS(
        rank=factors,
        maxIter=iterations,
        regParam=reg_param,
        implicitPrefs=True,
        alpha=alpha,
        nonnegative=False,
        userCol=USER_COL,
        itemCol=ITEM_COL,
        ratingCol=PLAYS_COL,
        seed=seed,
        checkpointInterval=CHECKPOINT_INTERVAL,
    )
    if num_blocks is not None:
        als = als.setNumUserBlocks(num_blocks).setNumItemBlocks(num_blocks)
    return als


def fit_als_spark(
    plays: sp.spmatrix,
    factors: int = 40,
    alpha: float = 40.0,
    regularization: float = 0.1,
    iterations: int = 15,
    seed: int = 0,
    spark: SparkSession | None = None,
    *,
    reg_param: float | None = None,
    match: str = "mean",
    num_blocks: int | None = None,
    dataframe: DataFrame | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Fit implicit-feedback ALS with Spark MLlib and return numpy factors.

    Runs ``pyspark.ml.recommendation.ALS(implicitPrefs=True, ...)``: the model of Hu, Koren &
    Volinsky (2008, eq. 3) with the per-row weighted regularisation of Zhou et al. (2008), see
    the module docstring. Arguments mirror :func:`course_lib.als.fit_als`, so one can replace
    the other.

    Parameters
    ----------
    plays : sparse matrix (n_users, n_items)
        Raw play counts, as for ``fit_als``.
    factors : int
        ``rank``: number of latent factors.
    alpha : float
        ``alpha``: confidence ``c_ui = 1 + alpha * plays_ui``, as ours.
    regularization : float
        Our constant ``λ``; converted with :func:`spark_reg_param` (``match``) unless
        ``reg_param`` is given.
    iterations : int
        ``maxIter``.
    seed : int
        Seed of Spark's random initial factors (not the same draw as ``fit_als``'s).
    spark : SparkSession, optional
        Default: :func:`get_spark` (starts ``local[2]`` or reuses the running session). This
        function never stops the session.
    reg_param : float, optional
        Spark's ``regParam`` itself; overrides ``regularization``.
    match : {"mean", "users", "items"}
        How ``regularization`` is mapped, see :func:`spark_reg_param`.
    num_blocks : int, optional
        ``numUserBlocks`` and ``numItemBlocks``: how many pieces each factor matrix is cut into,
        the unit of parallel work and of network traffic. Default: the session's cores
        (``defaultParallelism``); Spark's own default of 10 blocks costs several times more
        CPU on two cores (every block is a task, and every pair of blocks exchanges factors).
        The blocks also seed Spark's random initial factors, so changing their number changes
        the result a little.
    dataframe : pyspark DataFrame, optional
        ``plays`` already converted with :func:`plays_to_dataframe` (and perhaps cached), to
        skip the conversion when fitting several times.

    Returns
    -------
    user_factors : np.ndarray (n_users, factors), float32
    item_factors : np.ndarray (n_items, factors), float32
        Row ``u`` belongs to user ``u`` of ``plays``. Users and items without plays never reach
        Spark and get zero rows (their optimum in both objectives).
    """
    csr = check_plays(plays)
    factors = _check_int(factors, "factors", 1)
    iterations = _check_int(iterations, "iterations", 1)
    seed = _check_int(seed, "seed", 0)
    alpha = _check_nonnegative(alpha, "alpha")
    if num_blocks is not None:
        num_blocks = _check_int(num_blocks, "num_blocks", 1)
    if reg_param is None:
        reg_param = spark_reg_param(regularization, csr, match=match)
    reg_param = _check_nonnegative(reg_param, "reg_param")
    if csr.nnz == 0:
        raise ValueError("plays has no nonzero entry: there is nothing to fit.")
    if spark is None:
        spark = get_spark()
    if iterations > CHECKPOINT_INTERVAL:
        _ensure_checkpoint_dir(spark)
        if spark.sparkContext.getCheckpointDir() is None:
            warnings.warn(
                f"{iterations} iterations without a checkpoint folder may end in a "
                "StackOverflowError; call spark.sparkContext.setCheckpointDir(...) first.",
                stacklevel=2,
            )
    if num_blocks is None:
        num_blocks = int(spark.sparkContext.defaultParallelism)
    frame = dataframe if dataframe is not None else plays_to_dataframe(csr, spark)
    model = _als_estimator(factors, alpha, reg_param, iterations, seed, num_blocks).fit(frame)
    user_factors = factors_to_numpy(model.userFactors, csr.shape[0], factors)
    item_factors = factors_to_numpy(model.itemFactors, csr.shape[1], factors)
    return user_factors, item_factors


# ---------------------------------------------------------------------------------------------
# The scaling study
# ---------------------------------------------------------------------------------------------
def subsample_plays(plays: sp.spmatrix, n_plays: int, seed: int = 0) -> sp.csr_matrix:
    """Keep ``n_plays`` of the played (user, item) pairs, chosen uniformly without replacement.

    The shape is unchanged (some users and items lose all their plays).
    """
    csr = check_plays(plays)
    n_plays = _check_int(n_plays, "n_plays", 0)
    if n_plays > csr.nnz:
        raise ValueError(
            f"cannot keep {n_plays} plays out of {csr.nnz}; use tile_plays to grow a matrix."
        )
    rng = np.random.default_rng(seed)
    keep = np.sort(rng.choice(csr.nnz, size=n_plays, replace=False))
    user, item, values = plays_to_rows(csr)
    return sp.csr_matrix((values[keep], (user[keep], item[keep])), shape=csr.shape)


def tile_plays(plays: sp.spmatrix, copies: int) -> sp.csr_matrix:
    """``copies`` independent copies of the world side by side (a block-diagonal matrix).

    Users, items and plays all grow ``copies``-fold while every user keeps the same number of
    plays and every item the same number of listeners: the cost of one ALS iteration grows like
    a catalogue that is ``copies`` times larger, which is what a scaling study needs.
    """
    csr = check_plays(plays)
    copies = _check_int(copies, "copies", 1)
    return sp.block_diag([csr] * copies, format="csr")


def _fit_seconds_course_lib(
    plays: sp.csr_matrix, factors: int, iterations: int, threads: int
) -> float:
    from course_lib.als import fit_als

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
    from threadpoolctl import threadpool_limits

    from course_lib.evaluation import confidence

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
    walls = []
    try:
        for n_iter in (1, 1 + iterations):
            start = time.perf_counter()
            _als_estimator(factors, 1.0, reg_param, n_iter, 0, num_blocks).fit(frame)
            walls.append(time.perf_counter() - start)
    finally:
        frame.unpersist()
    difference = walls[1] - walls[0]
    if difference <= 0:
        warnings.warn(
            f"Spark's fit with {1 + iterations} iterations took no longer than the one with 1 "
            f"({walls[1]:.2f} s against {walls[0]:.2f} s): timing noise (a busy machine, or "
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
      fixed cost of partitioning the ratings and collecting the factors). Run one fit first
      to warm the JVM up; if noise makes the difference negative, the result is NaN, with a
      warning.

    The model is chapter 02's (``alpha=1``, ``λ=0.1``); the work per iteration does not depend
    on those values. ``threads`` caps the threads of ``course_lib`` and ``implicit`` (0: all
    cores); Spark uses the cores of its session (``local[n]``: ``n``). Training-loss computation
    is off. Timing is noisy: repeat and take a median for numbers you intend to compare closely.
    """
    csr = check_plays(plays)
    factors = _check_int(factors, "factors", 1)
    iterations = _check_int(iterations, "iterations", 1)
    threads = _check_int(threads, "threads", 0)
    if library == "course_lib":
        return _fit_seconds_course_lib(csr, factors, iterations, threads)
    if library == "implicit":
        return _fit_seconds_implicit(csr, factors, iterations, threads)
    if library == "spark":
        return _fit_seconds_spark(csr, factors, iterations, spark)
    raise ValueError(f"library must be one of {LIBRARIES}, got {library!r}.")


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
    ValueError
        With fewer than two finite points or fewer than two distinct sizes.
    """
    x = np.asarray(n_plays, dtype=np.float64)
    y = np.asarray(seconds_per_iteration, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("n_plays and seconds_per_iteration must be 1-D and of equal length.")
    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 2 or np.unique(x[keep]).size < 2:
        raise ValueError("need timings at two or more different numbers of plays.")
    slope = np.polyfit(x[keep], y[keep], 1)[0]
    return float(slope) * _check_int(cores, "cores", 1)


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
    """
    for name, value in (
        ("core_seconds_per_play", core_seconds_per_play),
        ("n_users", n_users),
        ("n_items", n_items),
        ("plays_per_user", plays_per_user),
        ("hours", hours),
    ):
        if not (math.isfinite(float(value)) and float(value) > 0):
            raise ValueError(f"{name} must be a positive number, got {value!r}.")
    iterations = _check_int(iterations, "iterations", 1)
    cores_per_node = _check_int(cores_per_node, "cores_per_node", 1)
    factors = _check_int(factors, "factors", 1)
    n_plays = float(n_users) * float(plays_per_user)
    per_iteration = core_seconds_per_play * n_plays / 3600.0
    total = per_iteration * iterations
    nodes = total / (float(hours) * cores_per_node)
    shuffle = 2 * n_plays * factors * 4 / 1e12
    memory = (2 * n_plays * 8 + (float(n_users) + float(n_items)) * factors * 4) / 1e12
    return ClusterEstimate(
        n_plays, core_seconds_per_play, per_iteration, total, nodes, shuffle, memory
    )


def plot_scaling(
    results: Sequence[dict[str, Any]],
    ax: Any = None,
    figsize: tuple[float, float] = (6.0, 3.5),
) -> matplotlib.figure.Figure:
    """Seconds per iteration against played pairs, one line per library, on log-log axes.

    ``results`` holds dicts with keys ``library``, ``n_plays`` and ``seconds_per_iteration``.
    Returns the figure (nothing is shown).
    """
    import matplotlib.pyplot as plt

    if not results:
        raise ValueError("results is empty: nothing to plot.")
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    else:
        fig = ax.figure
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


# ---------------------------------------------------------------------------------------------
# Exercise checks (chapter 02b)
# ---------------------------------------------------------------------------------------------
def _check_matrices() -> list[tuple[str, sp.csr_matrix]]:
    rng = np.random.default_rng(11)
    dense = (rng.random((9, 7)) < 0.35) * rng.integers(1, 6, size=(9, 7))
    dense[3] = 0  # a user without plays
    dense[:, 5] = 0  # an item without listeners
    with_gaps = sp.csr_matrix(dense.astype(np.int32))
    explicit_zero = sp.csr_matrix(
        (np.array([2, 0, 3], np.int32), (np.array([0, 1, 2]), np.array([1, 0, 2]))),
        shape=(4, 3),
    )
    skewed = sp.csr_matrix(
        (np.ones(7, np.int32), (np.array([0] * 5 + [1, 2]), np.array([0, 1, 2, 3, 4, 0, 0]))),
        shape=(3, 5),
    )
    return [
        ("a user without plays and an item without listeners", with_gaps),
        ("a matrix that stores an explicit zero", explicit_zero),
        ("one heavy user", skewed),
    ]


def check_spark_reg_param(my_spark_reg_param: Callable[[float, sp.csr_matrix], float]) -> Any:
    """Check ``my_spark_reg_param(regularization, plays) -> float`` against
    :func:`spark_reg_param` with ``match="mean"``, on matrices with empty rows and columns.
    """
    from course_lib.checks import Case, run_check

    cases = [
        Case(args=(lam, matrix), label=label)
        for lam, (label, matrix) in zip((0.1, 2.0, 0.5), _check_matrices())
    ]
    return run_check(
        my_spark_reg_param,
        lambda lam, matrix: spark_reg_param(lam, matrix, match="mean"),
        cases,
        name="my_spark_reg_param",
        rtol=1e-6,
        hint=(
            "count only users and items that have at least one play (Spark never sees the "
            "others), and make regParam times the average number of plays per active row "
            "(users and items together) equal to λ."
        ),
    )


def _same_rows(expected: Any, got: Any) -> str | None:
    if not isinstance(got, tuple | list) or len(got) != 3:
        return "return a tuple of three arrays: (user, item, plays)"
    try:
        got_cols = [np.asarray(column).ravel() for column in got]
    except Exception:  # noqa: BLE001 - anything not array-like is a wrong answer
        return "the three results must be arrays"
    if len({column.size for column in got_cols}) != 1:
        return f"the three arrays have different lengths {[c.size for c in got_cols]}"
    if got_cols[0].size != expected[0].size:
        return f"expected {expected[0].size} rows (one per nonzero entry), got {got_cols[0].size}"
    order = np.lexsort((got_cols[1], got_cols[0]))  # any row order is fine
    for name, want, column in zip(("user", "item", "plays"), expected, got_cols):
        if not np.allclose(np.asarray(column[order], dtype=np.float64), want):
            return f"the {name} column differs from the expected one"
    return None


def check_plays_to_rows(my_plays_to_rows: Callable[[sp.csr_matrix], tuple]) -> Any:
    """Check ``my_plays_to_rows(plays) -> (user, item, plays)`` against :func:`plays_to_rows`.

    Any row order is accepted; explicit zeros must be dropped.
    """
    from course_lib.checks import Case, run_check

    return run_check(
        my_plays_to_rows,
        plays_to_rows,
        [Case(args=(matrix,), label=label) for label, matrix in _check_matrices()],
        name="my_plays_to_rows",
        compare=_same_rows,
        hint=(
            "row u of a CSR matrix owns the entries indptr[u]:indptr[u + 1]; np.repeat of the "
            "user ids by np.diff(indptr) gives the user column. Drop stored zeros first "
            "(plays.eliminate_zeros() on a copy)."
        ),
    )


# ---------------------------------------------------------------------------------------------
# spark-submit entry point
# ---------------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """Fit ALS on a Parquet play table and write the factors as Parquet (for ``spark-submit``).

    ``spark-submit --master yarn course_lib/spark.py --plays hdfs:///music/plays.parquet
    --output hdfs:///music/als`` reads ``(user, item, plays)`` rows (as written by
    :func:`write_plays_parquet`), fits ``ALS(implicitPrefs=True)`` and writes
    ``OUTPUT/user_factors`` and ``OUTPUT/item_factors`` as ``(id, features)`` Parquet tables.
    The factors stay distributed: nothing is collected to the driver.
    """
    parser = argparse.ArgumentParser(
        prog="spark.py", description="Implicit-feedback ALS on Spark (course_lib, chapter 02b)."
    )
    parser.add_argument("--plays", required=True, help="Parquet file or folder of plays")
    parser.add_argument("--output", required=True, help="folder for the factor tables")
    parser.add_argument("--factors", type=int, default=40)
    parser.add_argument("--alpha", type=float, default=40.0)
    parser.add_argument("--regularization", type=float, default=0.1, help="our constant λ")
    parser.add_argument("--reg-param", type=float, default=None, help="Spark's regParam itself")
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num-blocks", type=int, default=None, help="default: the cluster's cores")
    parser.add_argument("--checkpoint-dir", default=None, help="cuts long lineages (HDFS path)")
    parser.add_argument("--master", default=None, help="only when not run by spark-submit")
    args = parser.parse_args(argv)

    require_spark()
    with _no_pandas_version_warning():
        from pyspark.sql import SparkSession

    created = SparkSession.getActiveSession() is None
    builder = SparkSession.builder.appName("course_lib ALS")
    if args.master:
        builder = builder.master(args.master)
    spark = builder.getOrCreate()
    if args.checkpoint_dir:
        spark.sparkContext.setCheckpointDir(args.checkpoint_dir)
    plays = spark.read.parquet(args.plays).select(USER_COL, ITEM_COL, PLAYS_COL)
    reg_param = args.reg_param
    if reg_param is None:
        reg_param = spark_reg_param(args.regularization, plays)
    num_blocks = args.num_blocks or int(spark.sparkContext.defaultParallelism)
    als = _als_estimator(
        args.factors, args.alpha, reg_param, args.iterations, args.seed, num_blocks
    )
    start = time.perf_counter()
    model = als.fit(plays)
    seconds = time.perf_counter() - start
    model.userFactors.write.mode("overwrite").parquet(f"{args.output}/user_factors")
    model.itemFactors.write.mode("overwrite").parquet(f"{args.output}/item_factors")
    print(f"regParam={reg_param:.6g}; fitted {args.iterations} iterations in {seconds:.1f} s")
    if created:  # leave a session we did not start (a notebook's) running
        spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
