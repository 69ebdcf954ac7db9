"""The command line of ``spark-submit``: Parquet plays in, Parquet factors out (chapter 02b).

Taught in chapter 02b (``chapters/02b_als_at_scale.md``, "7. From a laptop to a cluster"), which
calls :func:`main` in local mode. The file that ``spark-submit`` runs is the small script
``course_lib/spark/submit.py`` beside this one; the README ("ALS on a Spark cluster") submits it
to a standalone and a YARN cluster::

    spark-submit --master yarn course_lib/spark/submit.py \\
        --plays hdfs:///music/plays.parquet --output hdfs:///music/als

The course must be installed where the job is submitted (``pip install -e ".[spark]"``).
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence
from pathlib import Path

from course_lib.spark.model import _als_estimator, _require_play_columns, spark_reg_param
from course_lib.spark.rows import ITEM_COL, PLAYS_COL, USER_COL
from course_lib.spark.session import _no_pandas_version_warning, require_spark

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Fit ALS on a Parquet play table and write the factors as Parquet (for ``spark-submit``).

    ``spark-submit --master yarn course_lib/spark/submit.py --plays hdfs:///music/plays.parquet
    --output hdfs:///music/als`` reads ``(user, item, plays)`` rows (as written by
    :func:`~course_lib.spark.write_plays_parquet`), fits ``ALS(implicitPrefs=True)`` and writes
    ``OUTPUT/user_factors`` and ``OUTPUT/item_factors`` as ``(id, features)`` Parquet tables.
    The factors stay distributed: nothing is collected to the driver.

    Bad arguments stop the program before Spark starts (argparse's usage message and exit status
    2): ``--factors``, ``--iterations``, ``--num-blocks`` below 1, a negative ``--seed``, an
    ``--alpha``, ``--regularization`` or ``--reg-param`` that is negative, ``nan`` or ``inf``, a
    local ``--plays`` path that does not exist, a local ``--output`` that is a file. A table
    without the ``user, item, plays`` columns raises a ``ValueError`` naming the file.
    """
    parser = argparse.ArgumentParser(
        prog="submit.py", description="Implicit-feedback ALS on Spark (course_lib, chapter 02b)."
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
    problem = _argument_problem(args)
    if problem:
        parser.error(problem)

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
    plays = spark.read.parquet(args.plays)
    _require_play_columns(plays, args.plays)
    plays = plays.select(USER_COL, ITEM_COL, PLAYS_COL)
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


def _local_path(path: str) -> Path | None:
    """The local file a path names, or None for a cluster URL (``hdfs://``, ``s3a://`` ...)."""
    if path.startswith("file:"):
        return Path(path.removeprefix("file:").removeprefix("//"))
    return None if "://" in path else Path(path)


def _argument_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the parsed arguments, in words (None when nothing is)."""
    for name in ("factors", "iterations", "num_blocks"):
        value = getattr(args, name)
        if value is not None and value < 1:
            return f"--{name.replace('_', '-')} must be an integer >= 1, got {value}"
    if args.seed < 0:
        return f"--seed must be an integer >= 0, got {args.seed}"
    for name in ("alpha", "regularization", "reg_param"):
        value = getattr(args, name)
        if value is not None and not (math.isfinite(value) and value >= 0):
            return f"--{name.replace('_', '-')} must be a finite number >= 0, got {value}"
    plays = _local_path(args.plays)
    if plays is not None and not plays.exists():
        return (
            f"--plays {args.plays}: no such file or folder; write the plays with "
            "course_lib.spark.write_plays_parquet (or give an hdfs:// or s3a:// URL)"
        )
    output = _local_path(args.output)
    if output is not None and output.exists() and not output.is_dir():
        return f"--output {args.output} is a file; give a folder for the factor tables"
    return None
