"""A failing cell must fail `make test` (nbval) and the strict book build, and so `.ci/run`.

Each test builds a tiny course in a temporary folder (a chapter, the course's own book.yml,
references.bib and book extension, a table of contents) and runs the course Makefile's own
targets on it with ``make -f <course>/Makefile``, exactly as ``make test`` and ``make book`` run
them. A cell tagged ``raises-exception`` (an exercise stub) must pass both.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tools.convert_notebooks import MYST_NOTEBOOK_HEADER

ROOT = Path(__file__).resolve().parents[1]
MAKE = shutil.which("make")

pytestmark = pytest.mark.skipif(MAKE is None, reason="GNU make is not installed")

HEADER = MYST_NOTEBOOK_HEADER

GOOD_CHAPTER = (
    HEADER
    + """
# A chapter whose exercise is not solved yet

```{code-cell} ipython3
answer = 6 * 7
```

```{code-cell} ipython3
:tags: [raises-exception]

def exercise():
    raise NotImplementedError("your code here")


exercise()
```

```{code-cell} ipython3
assert answer == 42, "the chapter goes on after the stub"
answer * 1000 + 7
```

```{code-cell} ipython3
answer * 1000 + 8;
```
"""
)

BAD_CHAPTER = (
    HEADER
    + """
# A chapter with a broken cell

```{code-cell} ipython3
value = 1
```

```{code-cell} ipython3
raise RuntimeError("deliberately broken cell")
```
"""
)


_MAKE_VARIABLES = {
    "MAKEFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "MFLAGS", "COURSE_LIB_VERBOSE", "VENV", "PYTHON",
    "NB_SOURCES", "NB_DIR", "UNIT_TESTS", "CELL_TIMEOUT", "BOOK_ROOT", "BOOK_FLAGS", "CACHE_DEPS",
    "NBVAL_FLAGS", "SEED_CHAPTERS", "SEED_PARAMS", "SEED_DIR", "PORTABLE_KERNELS",
    "PORTABLE_TESTS", "PORTABLE_NB", "OPENBLAS_CORETYPE",
}  # fmt: skip


def _mini_course(folder: Path, chapter: str) -> Path:
    (folder / "chapters").mkdir(parents=True)
    (folder / "chapters" / "00_demo.md").write_text(chapter)
    shutil.copy(ROOT / "book.yml", folder / "book.yml")
    shutil.copy(ROOT / "references.bib", folder / "references.bib")
    (folder / "tools").mkdir()
    for extension in ("launch_links.py", "citation_anchors.py"):  # book.yml's local extensions
        shutil.copy(ROOT / "tools" / extension, folder / "tools" / extension)
    (folder / "_toc.yml").write_text("format: jb-book\nroot: chapters/00_demo\n")
    return folder


def run_make(
    folder: Path, target: str, *variables: str, cache_deps: str = "book.yml"
) -> subprocess.CompletedProcess[str]:
    """The course Makefile's ``target`` run in a mini course ``folder`` (also for
    tests/test_portable_and_seeds.py)."""
    # CACHE_DEPS: the mini course's execution cache must not be dropped because someone edits
    # course_lib while the test runs (the real targets drop it then, on purpose).
    # Variables of an outer "make test NB_SOURCES=..." reach us through the environment: drop them.
    env = {k: v for k, v in os.environ.items() if k not in _MAKE_VARIABLES}
    return subprocess.run(
        [MAKE, "--no-print-directory", "-f", str(ROOT / "Makefile"), target]
        + [f"CACHE_DEPS={cache_deps}", *variables],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def good_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _mini_course(tmp_path_factory.mktemp("good"), GOOD_CHAPTER)


@pytest.fixture(scope="module")
def bad_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _mini_course(tmp_path_factory.mktemp("bad"), BAD_CHAPTER)


def test_nbval_fails_on_a_failing_cell(bad_course: Path) -> None:
    result = run_make(bad_course, "nbval")
    assert result.returncode != 0, result.stdout + result.stderr
    assert "deliberately broken cell" in result.stdout


def test_book_build_fails_on_a_failing_cell(bad_course: Path) -> None:
    result = run_make(bad_course, "book-build")
    assert result.returncode != 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "ExecutionError" in output and "deliberately broken cell" in output
    assert not (bad_course / "_build" / "html" / "chapters" / "00_demo.html").exists()


def test_raises_exception_tag_passes_nbval_and_book(good_course: Path) -> None:
    nbval = run_make(good_course, "nbval")
    assert nbval.returncode == 0, nbval.stdout + nbval.stderr
    assert "4 passed" in nbval.stdout

    book = run_make(good_course, "book-build")
    assert book.returncode == 0, book.stdout + book.stderr
    # nbval stored the executed notebook in the book's cache: the book did not run it again.
    assert "Using cached notebook" in book.stdout
    page = (good_course / "_build" / "html" / "chapters" / "00_demo.html").read_text()
    assert "NotImplementedError" in page  # the stub's error is shown, not hidden
    assert "42007" in page  # a cell's result is shown ...
    assert "42008" not in page  # ... unless a trailing ";" hides it, as in Jupyter


def test_no_notebook_tests_is_an_error(tmp_path: Path) -> None:
    course = _mini_course(tmp_path, HEADER + "\n# Only text, no code cells\n")
    result = run_make(course, "nbval")
    assert result.returncode != 0
    assert "collected no tests" in result.stderr


def test_no_unit_tests_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    result = run_make(tmp_path, "unit", "UNIT_TESTS=tests")
    assert result.returncode != 0
    assert "collected no tests" in result.stderr


def test_ci_runs_the_tests_before_the_book_and_stops_at_the_first_failure() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    assert os.access(ROOT / ".ci" / "run", os.X_OK), ".ci/run must be executable"
    assert "set -euo pipefail" in script
    test_step, book_step = script.index("make test"), script.index("make book")
    assert test_step < book_step
