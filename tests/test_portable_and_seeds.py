"""`make seeds` and `make portable` (issue 23): asserts must hold for another seed and machine.

Each test builds a tiny course in a temporary folder and runs the course Makefile's own targets
on it with ``make -f <course>/Makefile``, as ``make test-seeds`` and ``make test-portable`` do
(those two only add the install).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path

import pytest

from tools.convert_notebooks import MYST_NOTEBOOK_HEADER

ROOT = Path(__file__).resolve().parents[1]
MAKE = shutil.which("make")

pytestmark = pytest.mark.skipif(MAKE is None, reason="GNU make is not installed")

ONE_SEED_CHAPTER = (
    MYST_NOTEBOOK_HEADER
    + """
# A chapter whose assert holds for one seed only

```{code-cell} ipython3
:tags: [parameters]

seed = 0
```

```{code-cell} ipython3
assert seed == 0, "an outcome of seed 0, not a principle"
```
"""
)

KERNEL_TEST = """
import os


def test_the_kernel_and_one_thread_reach_the_tests():
    assert os.environ["OPENBLAS_CORETYPE"] in {"Sandybridge", "SkylakeX"}
    assert os.environ["NUMBA_NUM_THREADS"] == "1" and os.environ["OMP_NUM_THREADS"] == "1"
"""

_MAKE_VARIABLES = {
    "MAKEFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "MFLAGS", "VENV", "PYTHON", "NB_SOURCES",
    "NB_DIR", "UNIT_TESTS", "CELL_TIMEOUT", "CACHE_DEPS", "NBVAL_FLAGS", "SEED_CHAPTERS",
    "SEED_PARAMS", "SEED_DIR", "PORTABLE_KERNELS", "PORTABLE_TESTS", "PORTABLE_NB",
    "OPENBLAS_CORETYPE",
}  # fmt: skip


def _make(folder: Path, target: str, *variables: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in _MAKE_VARIABLES}
    return subprocess.run(
        [MAKE, "--no-print-directory", "-f", str(ROOT / "Makefile"), target, "CACHE_DEPS=x.md"]
        + list(variables),
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def course(tmp_path: Path) -> Path:
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters" / "x.md").write_text(ONE_SEED_CHAPTER)
    (tmp_path / "x.md").write_text("")
    return tmp_path


def test_seeds_names_the_chapter_that_fails_with_another_seed(course: Path) -> None:
    chapter = "SEED_CHAPTERS=chapters/x.md"
    same = _make(course, "seeds", chapter, "SEED_PARAMS=seed=0")
    assert same.returncode == 0, same.stdout + same.stderr
    assert "chapters/x.md with seed=0: passed" in same.stdout
    other = _make(course, "seeds", chapter, "SEED_PARAMS=seed=1")
    assert other.returncode != 0
    assert "failed with seed=1: chapters/x.md" in other.stderr
    assert (course / "_build" / "runs-seed" / "x.ipynb").exists()


@pytest.mark.skipif(platform.machine() != "x86_64", reason="OpenBLAS kernels of x86-64")
def test_portable_runs_tests_and_notebooks_under_another_kernel(course: Path) -> None:
    (course / "tests").mkdir()
    (course / "tests" / "test_kernel.py").write_text(KERNEL_TEST)
    result = _make(
        course,
        "portable",
        "PORTABLE_KERNELS=Sandybridge SkylakeX",
        "PORTABLE_TESTS=tests",
        "PORTABLE_NB=chapters/x.md",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "=== OPENBLAS_CORETYPE=Sandybridge (numpy's OpenBLAS runs: Sandybridge)" in (
        result.stdout
    )
    assert "1 passed" in result.stdout  # the test above, under Sandybridge
    assert any((course / "_build" / "notebooks-Sandybridge").rglob("x.ipynb"))
    avx512 = "avx512f" in Path("/proc/cpuinfo").read_text()
    skipped = "OPENBLAS_CORETYPE=SkylakeX: skipped, this CPU has no AVX-512" in result.stdout
    assert skipped != avx512
