"""``spark-submit course_lib/spark/submit.py --plays ... --output ...``: ALS on a cluster.

The script of chapter 02b ("7. From a laptop to a cluster") and of the README's "ALS on a Spark
cluster": it reads ``(user, item, plays)`` rows from Parquet, fits Spark's implicit-feedback ALS
and writes the factor tables as Parquet (see :func:`course_lib.spark.cli.main` for the options).
It also runs as ``python -m course_lib.spark.submit --help`` or ``python
course_lib/spark/submit.py --help``; the course must be installed (``pip install -e ".[spark]"``).
"""

from __future__ import annotations

from course_lib.spark.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
