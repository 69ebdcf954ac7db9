"""Student handouts: every chapter as a Jupyter notebook, without outputs or solutions.

Usage: ``python tools/handout.py OUT_DIR CHAPTER.md [CHAPTER.md ...]`` (``make handout`` runs it
on every chapter into ``_build/handout``). It writes

* ``OUT_DIR/notebooks/NN_topic.ipynb``: the chapter as a notebook with no outputs; the exercise
  stubs are intact, links to the worked solutions are removed, and a first cell finds or installs
  ``course_lib`` (it does nothing where the course is installed, e.g. in this repository);
* ``OUT_DIR/course/``: what the first cell installs from on a laptop (``course_lib``,
  ``pyproject.toml``, ``constraints.txt``, ``environment.yml``);
* ``OUT_DIR/INSTALL.md``: how a student installs and opens the notebooks;
* ``OUT_DIR/deep-music-course-handout.zip``: all of the above in one file.

Exercise cells are marked for ``tools/grade.py``: a stub (a cell that defines a function or class
whose body raises ``NotImplementedError("Exercise N.M: ...")``) gets
the tag ``exercise-stub``; a cell that calls ``checks.check_*`` on a name a stub defined gets the
tag ``exercise-check`` and the metadata ``course: {exercise: "N.M", check: "check_..."}``.
The repository the first cell installs from on Colab or a JupyterHub is ``repository.url`` and
``repository.branch`` of ``book.yml``, the same setting as the book's launch buttons.
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import sys
import zipfile
from pathlib import Path

import jupytext
import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
ZIP_NAME = "deep-music-course-handout.zip"
COURSE_FILES = ("pyproject.toml", "constraints.txt", "environment.yml", "README.md")

# Links into the solutions: {ref}`Solution <sol-..>`, [solution](../solutions/...#...).
_SOLUTION_LINKS = [
    re.compile(r"\s*\{ref\}`[Ss]olution <sol-[^>]*>`\.?"),
    re.compile(r"\s*\[[Ss]olution\]\(\.\./solutions/[^)]*\)\.?"),
]
#: Any link into the solutions that survives the patterns above (``{ref}`x <sol-..>```,
#: ``{ref}`sol-..```, ``](../solutions/..)``): a chapter must use one of the forms above.
SOLUTION_REFERENCE = re.compile(r"<sol-|`sol-|\]\(\.\./solutions/")
_EXERCISE = re.compile(r"NotImplementedError\(\s*[\"']Exercise (\d+[a-z]?\.\d+[a-z]?)")
_CHECK_CALL = re.compile(r"\bchecks\.(check_\w+)\(\s*([A-Za-z_]\w*)")

SETUP_CELL = """\
# Set-up of this handout: use the course's library if it is installed, else install it.
import importlib.util
import pathlib
import subprocess
import sys

REPOSITORY = "{repository}"
if importlib.util.find_spec("course_lib") is not None:
    print("course_lib is installed: nothing to set up.")
else:
    here = pathlib.Path.cwd().resolve()
    folders = [p / "course" for p in (here, *here.parents)]
    local = next((p for p in folders if (p / "pyproject.toml").exists()), None)
    source = str(local) if local else REPOSITORY
    on_colab = "google.colab" in sys.modules
    print(f"Installing course_lib from {{source}}" + (" (Colab: keeping its GPU TensorFlow)"
          if on_colab else "") + "; this takes a few minutes the first time.")
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    if on_colab:  # Colab's TensorFlow sees its GPU: add only what Colab lacks
        subprocess.run([*pip, "--no-deps", source], check=True)
        subprocess.run([*pip, "implicit", "annoy", "voyager", "jupytext"], check=True)
    else:
        subprocess.run([*pip, source], check=True)
    importlib.invalidate_caches()
    print("Done: course_lib", "found" if importlib.util.find_spec("course_lib") else "missing")
"""


def repository_source(book_config: Path = ROOT / "book.yml") -> str:
    """``git+URL@BRANCH`` from ``repository`` in ``book.yml`` (what pip installs on Colab)."""
    config = yaml.safe_load(book_config.read_text(encoding="utf-8")) or {}
    repository = config.get("repository") or {}
    url, branch = repository.get("url", ""), repository.get("branch", "main")
    if not url:
        raise ValueError(f"{book_config}: set repository.url (the course's git repository)")
    return f"git+{url}@{branch}"


def strip_solution_links(text: str) -> str:
    """Markdown without the links into ``solutions/`` (a handout has no solutions)."""
    for pattern in _SOLUTION_LINKS:
        text = pattern.sub("", text)
    return text


def _defined_names(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }


def mark_exercises(notebook: nbformat.NotebookNode) -> list[dict[str, str]]:
    """Tag the stub and check cells of ``notebook`` (in place); return the exercises found."""
    stub_names: dict[str, str] = {}  # name defined in a stub -> exercise number
    exercises: list[dict[str, str]] = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.setdefault("tags", [])
        exercise = _EXERCISE.search(cell.source)
        if exercise:
            tags.append("exercise-stub")
            for name in _defined_names(cell.source):
                stub_names[name] = exercise.group(1)
            continue
        call = _CHECK_CALL.search(cell.source)
        if call and call.group(2) in stub_names:
            tags.append("exercise-check")
            info = {"exercise": stub_names[call.group(2)], "check": call.group(1)}
            cell.metadata["course"] = info
            exercises.append(info)
    return exercises


def handout_notebook(source: Path, repository: str) -> nbformat.NotebookNode:
    """The chapter ``source`` (MyST markdown) as a handout notebook."""
    notebook = jupytext.reads(source.read_text(encoding="utf-8"), fmt="md:myst")
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = strip_solution_links(cell.source)
        else:
            cell.outputs, cell.execution_count = [], None
    mark_exercises(notebook)
    setup = nbformat.v4.new_code_cell(
        SETUP_CELL.format(repository=repository), metadata={"tags": ["course-setup"]}
    )
    notebook.cells.insert(0, setup)
    notebook.metadata.pop("jupytext", None)
    return notebook


def _install_text(names: list[str], repository: str) -> str:
    listing = "\n".join(f"- `notebooks/{name}`" for name in names)
    return f"""# Deep Music Recommendation: the notebooks

{listing}

Each notebook's first cell sets the course up: it does nothing where `course_lib` is installed,
and otherwise installs it, from the `course/` folder beside the notebooks (this zip) or, on Colab
and JupyterHub, from `{repository}`.

On your own machine (Linux or macOS, Python 3.10 or newer):

```bash
python3 -m venv .venv && source .venv/bin/activate
pip install -c course/constraints.txt -e course
jupyter lab notebooks
```

With conda: `conda env create -f course/environment.yml`, then
`pip install --no-deps -e course`. No GPU and no download are needed: every chapter runs on a
synthetic music world generated on your machine. Write your answers in the cells that say
`# Your code here.` and keep the cells that call `checks.check_...` as they are: they tell you
whether your answer is right, and your instructor's grading reads them.
"""


def build(out_dir: Path, sources: list[Path], repository: str) -> list[Path]:
    """Write the handout into ``out_dir`` (replacing it) and return the notebooks written."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    (out_dir / "notebooks").mkdir(parents=True)
    written = []
    for source in sources:
        target = out_dir / "notebooks" / source.with_suffix(".ipynb").name
        nbformat.write(handout_notebook(source, repository), target)
        written.append(target)
    course = out_dir / "course"
    shutil.copytree(
        ROOT / "course_lib", course / "course_lib", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in COURSE_FILES:
        shutil.copy2(ROOT / name, course / name)
    (out_dir / "INSTALL.md").write_text(
        _install_text([p.name for p in written], repository), encoding="utf-8"
    )
    files = sorted(p for p in out_dir.rglob("*") if p.is_file())
    with zipfile.ZipFile(out_dir / ZIP_NAME, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, Path("deep-music-course") / path.relative_to(out_dir))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("sources", nargs="+", type=Path)
    args = parser.parse_args(argv)
    written = build(args.out_dir, args.sources, repository_source())
    print(f"{len(written)} notebooks and {ZIP_NAME} in {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
