"""`make seeds` and `make portable` (issue 23): asserts must hold for another seed and machine.

Each test builds a tiny course in a temporary folder and runs the course Makefile's own targets
on it with ``make -f <course>/Makefile``, as ``make test-seeds`` and ``make test-portable`` do
(those two only add the install).
"""

from __future__ import annotations

import platform
import shutil
from pathlib import Path

import pytest

from tests.test_failing_cell import run_make
from tools.convert_notebooks import MYST_NOTEBOOK_HEADER

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


@pytest.fixture
def course(tmp_path: Path) -> Path:
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters" / "x.md").write_text(ONE_SEED_CHAPTER)
    (tmp_path / "x.md").write_text("")
    return tmp_path


def test_seeds_names_the_chapter_that_fails_with_another_seed(course: Path) -> None:
    chapter = "SEED_CHAPTERS=chapters/x.md"
    same = run_make(course, "seeds", chapter, "SEED_PARAMS=seed=0", cache_deps="x.md")
    assert same.returncode == 0, same.stdout + same.stderr
    assert "chapters/x.md with seed=0: passed" in same.stdout
    other = run_make(course, "seeds", chapter, "SEED_PARAMS=seed=1", cache_deps="x.md")
    assert other.returncode != 0
    assert "failed with seed=1: chapters/x.md" in other.stderr
    assert (course / "_build" / "runs-seed" / "x.ipynb").exists()


@pytest.mark.skipif(platform.machine() != "x86_64", reason="OpenBLAS kernels of x86-64")
def test_portable_runs_tests_and_notebooks_under_another_kernel(course: Path) -> None:
    (course / "tests").mkdir()
    (course / "tests" / "test_kernel.py").write_text(KERNEL_TEST)
    result = run_make(
        course,
        "portable",
        "PORTABLE_KERNELS=Sandybridge SkylakeX",
        "PORTABLE_TESTS=tests",
        "PORTABLE_NB=chapters/x.md",
        cache_deps="x.md",
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
