"""The spark-submit entry point (chapter 02b, section 7): course_lib/spark/submit.py and main."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from course_lib import spark as S

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("COURSE_LIB")}
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=300,
    )


@pytest.mark.parametrize(
    "command",
    [("-m", "course_lib.spark.submit"), ("course_lib/spark/submit.py",)],
    ids=["python -m", "script"],
)
def test_the_entry_point_runs_as_a_module_and_as_a_script(command):
    result = _run(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "--plays" in result.stdout and "--regularization" in result.stdout
    assert result.stderr == ""  # no runpy warning, no traceback


def test_the_entry_point_refuses_a_missing_plays_file_before_spark(tmp_path: Path):
    result = _run("-m", "course_lib.spark.submit", "--plays", str(tmp_path / "none.parquet"),
                  "--output", str(tmp_path / "als"))  # fmt: skip
    assert result.returncode == 2
    assert "no such file or folder" in result.stderr and "write_plays_parquet" in result.stderr
    assert not (tmp_path / "als").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--factors", "0"], "--factors must be an integer >= 1"),
        (["--iterations", "-3"], "--iterations must be an integer >= 1"),
        (["--num-blocks", "0"], "--num-blocks must be an integer >= 1"),
        (["--seed", "-1"], "--seed must be an integer >= 0"),
        (["--alpha", "nan"], "--alpha must be a finite number >= 0"),
        (["--regularization", "-0.1"], "--regularization must be a finite number >= 0"),
        (["--reg-param", "inf"], "--reg-param must be a finite number >= 0"),
        (["--factors", "4.5"], "invalid int value"),
    ],
)
def test_main_refuses_bad_arguments_before_spark(tmp_path, random_plays, capsys, extra, message):
    path = S.write_plays_parquet(random_plays(), tmp_path / "plays.parquet")
    with pytest.raises(SystemExit) as stop:
        S.main(["--plays", str(path), "--output", str(tmp_path / "als"), *extra])
    assert stop.value.code == 2
    assert message in capsys.readouterr().err


def test_main_refuses_an_output_that_is_a_file(tmp_path, random_plays, capsys):
    path = S.write_plays_parquet(random_plays(), tmp_path / "plays.parquet")
    with pytest.raises(SystemExit):
        S.main(["--plays", str(path), "--output", str(path)])
    assert "is a file; give a folder" in capsys.readouterr().err


# --- with Spark ------------------------------------------------------------------------------
def test_main_fits_and_writes_the_factor_tables(spark, tmp_path: Path, random_plays):
    plays = random_plays(n_users=30, n_items=20, density=0.3)
    path = S.write_plays_parquet(plays, tmp_path / "plays.parquet")
    output = tmp_path / "als"
    argv = ["--plays", str(path), "--output", str(output), "--iterations", "2", "--factors", "3"]
    assert S.main([*argv, "--num-blocks", "2"]) == 0
    users = spark.read.parquet(str(output / "user_factors"))
    assert users.count() == np.count_nonzero(np.diff(plays.indptr))
    assert len(users.first().features) == 3
    pq.write_table(pa.table({"user": [0], "track": [1], "plays": [3]}), tmp_path / "bad.parquet")
    with pytest.raises(ValueError, match=r"bad\.parquet lacks the column"):
        S.main(["--plays", str(tmp_path / "bad.parquet"), "--output", str(output)])
