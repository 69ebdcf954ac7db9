"""course_lib.spark.session (chapter 02b, section 1): is Java there, and a session's settings.

The Java checks use fake ``java`` executables; nothing starts.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from course_lib import spark as S


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


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"shuffle_partitions": 0}, ValueError, "shuffle_partitions"),
        ({"shuffle_partitions": "4"}, TypeError, "shuffle_partitions must be an integer"),
        ({"driver_memory": 2}, TypeError, "driver_memory must be a string such as '2g'"),
        ({"driver_memory": "lots"}, ValueError, "such as '2g'"),
        ({"master": ""}, TypeError, "master must be a non-empty string"),
        ({"app_name": None}, TypeError, "app_name must be a non-empty string"),
    ],
)
def test_get_spark_checks_its_arguments_before_starting(
    tmp_path, monkeypatch, kwargs, error, message
):
    # with JAVA_HOME pointing nowhere, reaching require_spark would raise SparkUnavailableError
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no_java_here"))
    with pytest.raises(error, match=message):
        S.get_spark(**kwargs)
