"""The same implicit-feedback ALS on Apache Spark, for catalogues that outgrow one machine.

Taught in chapter 02b (``chapters/02b_als_at_scale.md``), after the hand-written ALS of chapter 02
(:mod:`course_lib.als`). Spotify fitted this model (40 factors, about 20 iterations) on a Hadoop
cluster of about 1,300 nodes (Zhang, "Music recommendation in Spotify"); the open-source heir of
that design is Spark MLlib's block-partitioned ALS (Meng et al. 2016), which this package drives
through pyspark.

One file per job:

* :mod:`~course_lib.spark.session`: :func:`get_spark` starts a quiet local (or cluster)
  ``SparkSession``; :func:`spark_status` and :func:`require_spark` say early and in plain words
  when Java or pyspark is missing (section 1);
* :mod:`~course_lib.spark.rows`: :func:`plays_to_rows`, :func:`plays_to_arrow`,
  :func:`plays_to_dataframe`, :func:`write_plays_parquet`, :func:`read_plays_parquet`,
  :func:`factors_to_numpy`: a ``users x items`` CSR matrix as ``(user, item, plays)`` rows, in
  memory (Arrow), in Spark, or in a Parquet file that a cluster reads (sections 2 and 7);
* :mod:`~course_lib.spark.model`: :func:`spark_reg_param`, our constant ``λ`` as Spark's
  per-row-scaled ``regParam``, and :func:`fit_als_spark`, Spark's ALS with
  ``implicitPrefs=True`` on a CSR matrix, a drop-in for :func:`course_lib.als.fit_als`
  (sections 3 and 4);
* :mod:`~course_lib.spark.scaling`: the one-machine scaling study and the paper estimate of a
  Spotify-sized fit (sections 5 and 6);
* :mod:`~course_lib.spark.checks`: the chapter's exercise checks (called as
  ``checks.check_spark_reg_param`` through :mod:`course_lib.checks`);
* :mod:`~course_lib.spark.cli`: :func:`main`, the command line for ``spark-submit`` (Parquet
  plays in, Parquet factors out; section 7), run on a cluster as the script
  ``spark-submit course_lib/spark/submit.py --plays ... --output ...``.

pyspark is an optional dependency (``pip install -e ".[spark]"``) and needs a Java runtime
(17 or newer for pyspark 4). Nothing here imports pyspark until a Spark function is called.
"""

from __future__ import annotations

from course_lib.spark.checks import check_plays_to_rows, check_spark_reg_param
from course_lib.spark.cli import main
from course_lib.spark.model import fit_als_spark, spark_reg_param
from course_lib.spark.rows import (
    factors_to_numpy,
    plays_to_arrow,
    plays_to_dataframe,
    plays_to_rows,
    read_plays_parquet,
    write_plays_parquet,
)
from course_lib.spark.scaling import (
    LIBRARIES,
    ClusterEstimate,
    cluster_estimate,
    marginal_core_seconds_per_play,
    plot_scaling,
    seconds_per_iteration,
    subsample_plays,
    tile_plays,
)
from course_lib.spark.session import (
    CHECKPOINT_INTERVAL,
    SparkUnavailableError,
    get_spark,
    java_version,
    require_spark,
    spark_status,
)

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
