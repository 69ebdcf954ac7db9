"""Is Spark usable here, and a quiet local ``SparkSession`` (chapter 02b, section 1).

Taught in chapter 02b (``chapters/02b_als_at_scale.md``, "1. Starting Spark"): the setup cell
calls :func:`spark_status` and skips the Spark cells when it says no; section 1 starts the
session with :func:`get_spark`. Spark is a Java program: pyspark needs a Java runtime (17 or
newer for pyspark 4). Nothing here imports pyspark until a function needs it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from course_lib.validation import require_int

if TYPE_CHECKING:  # pragma: no cover - imported for type hints only
    from pyspark.sql import SparkSession

__all__ = [
    "CHECKPOINT_INTERVAL",
    "SparkUnavailableError",
    "get_spark",
    "java_version",
    "require_spark",
    "spark_status",
]

#: Spark's ALS checkpoints its factors every this many iterations (``checkpointInterval``).
CHECKPOINT_INTERVAL = 10
#: A JVM memory size: digits and a unit (``512m``, ``2g``).
_MEMORY = re.compile(r"\d+[kmgtp]b?", re.IGNORECASE)

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
    TypeError, ValueError
        Before anything starts: ``shuffle_partitions`` not an integer >= 1, an empty or non-string
        ``app_name`` or ``master``, a ``driver_memory`` that is not a size such as ``"2g"``.
    SparkUnavailableError
        Before anything starts, when Java or pyspark is missing (with install instructions).
    """
    shuffle_partitions = require_int(shuffle_partitions, "shuffle_partitions", 1)
    for name, value in (("app_name", app_name), ("master", master)):
        if not isinstance(value, str) or not value:
            raise TypeError(f"{name} must be a non-empty string, got {value!r}.")
    if not isinstance(driver_memory, str):
        raise TypeError(
            f"driver_memory must be a string such as '2g' or '512m', got {driver_memory!r} "
            "(a bare number would be read as mebibytes)."
        )
    if not _MEMORY.fullmatch(driver_memory):
        raise ValueError(
            f"driver_memory must be a JVM memory size such as '2g' or '512m', got "
            f"{driver_memory!r}: digits, then a unit k, m, g or t."
        )
    require_spark()
    with _no_pandas_version_warning():
        from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.appName(app_name)
        .master(master)
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
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
