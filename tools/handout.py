"""Student handouts: every chapter as a Jupyter notebook, without outputs or solutions.

Usage: ``python tools/handout.py OUT_DIR CHAPTER.md [CHAPTER.md ...]`` (``make handout`` runs it
on every chapter into ``_build/handout``). It writes

* ``OUT_DIR/notebooks/NN_topic.ipynb``: the chapter as a notebook with no outputs; the exercise
  stubs are intact, links to the worked solutions are removed, the markdown is plain notebook
  markdown (``tools/plain_markdown.py``: citations and cross-references link to the published
  book, what only the repository has is left out), and a first cell finds or installs
  ``course_lib`` (it does nothing where the course is installed, e.g. in this repository);
* ``OUT_DIR/course/``: what the first cell installs from on a laptop (``course_lib``,
  ``pyproject.toml``, ``constraints.txt``, ``environment.yml``, a README for students);
* ``OUT_DIR/INSTALL.md``: how a student installs and opens the notebooks;
* ``OUT_DIR/deep-music-course-handout.zip``: all of the above in one file.

Exercise cells are marked for ``tools/grade.py``: a stub (a cell that defines a function or class
whose body raises ``NotImplementedError("Exercise N.M: ...")``) gets
the tag ``exercise-stub``; a cell that calls ``checks.check_*`` on a name a stub defined gets the
tag ``exercise-check`` and the metadata ``course: {exercise: "N.M", check: "check_..."}``.
The repository the first cell installs from on Colab or a JupyterHub is ``repository.url`` and
``repository.branch`` of ``book.yml``, the same setting as the book's launch buttons.

``OUT_DIR`` is replaced only if it is empty, missing, or an earlier handout (it holds the marker
file ``.deep-music-course-handout``); any other folder is refused unless ``--force`` is given.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
import plain_markdown  # noqa: E402  (a sibling tool, not a package)

ROOT = Path(__file__).resolve().parents[1]
ZIP_NAME = "deep-music-course-handout.zip"
COURSE_FILES = ("pyproject.toml", "constraints.txt", "environment.yml")
#: The file that marks a folder as written by this tool (and so safe to replace).
MARKER = ".deep-music-course-handout"

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
        subprocess.run([*pip, "implicit", "annoy", "voyager", "jupytext", "myst-nb"],
                       check=True)
    else:
        subprocess.run([*pip, source], check=True)
    importlib.invalidate_caches()
    print("Done: course_lib", "found" if importlib.util.find_spec("course_lib") else "missing")
"""


def _book_config(book_config: Path) -> dict:
    return yaml.safe_load(book_config.read_text(encoding="utf-8")) or {}


def repository_source(book_config: Path = ROOT / "book.yml") -> str:
    """``git+URL@BRANCH`` from ``repository`` in ``book.yml`` (what pip installs on Colab)."""
    repository = _book_config(book_config).get("repository") or {}
    url, branch = repository.get("url", ""), repository.get("branch", "main")
    if not url:
        raise ValueError(f"{book_config}: set repository.url (the course's git repository)")
    return f"git+{url}@{branch}"


def book_url(book_config: Path = ROOT / "book.yml") -> str:
    """The published book's address, ``html.baseurl`` of ``book.yml``, ending in "/"."""
    url = ((_book_config(book_config).get("html") or {}).get("baseurl") or "").strip()
    if not url.startswith(("http://", "https://")):
        raise ValueError(
            f"{book_config}: set html.baseurl to the address where the book is published "
            "(e.g. https://your-org.github.io/deep-music-course/): the handouts link to it"
        )
    return url.rstrip("/") + "/"


def prepare_output_folder(out_dir: Path, marker: str, force: bool, what: str) -> None:
    """Empty ``out_dir`` for a new output, refusing a folder this tool did not write.

    ``out_dir`` is replaced if it is missing, empty or holds ``marker`` (an earlier output of the
    same tool); any other folder is refused with a ``ValueError`` unless ``force`` is true.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"{out_dir} is a file, not a folder: choose a folder for the {what}")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not (out_dir / marker).is_file() and not force:
            raise ValueError(
                f"{out_dir} is not empty and was not written by this tool (no {marker} in it): "
                f"its files would be deleted. Choose a new or empty folder for the {what}, or "
                "pass --force (make ... FORCE=1) to replace it anyway."
            )
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / marker).write_text(
        f"This folder holds the {what} of the course; the next run of its tool replaces it.\n",
        encoding="utf-8",
    )


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


def handout_notebook(
    source: Path, repository: str, context: plain_markdown.Context | None = None
) -> nbformat.NotebookNode:
    """The chapter ``source`` (MyST markdown) as a handout notebook (plain markdown)."""
    notebook = jupytext.reads(source.read_text(encoding="utf-8"), fmt="md:myst")
    if context is None:
        context = _context(source, repository, {source.stem})
    context.source = source
    notebook.cells = plain_markdown.omit_sections(notebook.cells)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = plain_markdown.convert(strip_solution_links(cell.source), context)
        else:
            cell.outputs, cell.execution_count = [], None
    mark_exercises(notebook)
    setup = nbformat.v4.new_code_cell(
        SETUP_CELL.format(repository=repository), metadata={"tags": ["course-setup"]}
    )
    notebook.cells.insert(0, setup)
    notebook.metadata.pop("jupytext", None)
    return notebook


def _context(source: Path, repository: str, notebooks: set[str]) -> plain_markdown.Context:
    url, branch = repository.removeprefix("git+").rsplit("@", 1)
    return plain_markdown.Context(source, book_url(), url.removesuffix(".git"), branch, notebooks)


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


def build(out_dir: Path, sources: list[Path], repository: str, force: bool = False) -> list[Path]:
    """Write the handout into ``out_dir`` and return the notebooks written.

    ``out_dir`` must be missing, empty or an earlier handout, unless ``force`` (see
    ``prepare_output_folder``).
    """
    prepare_output_folder(out_dir, MARKER, force, "handout")
    (out_dir / "notebooks").mkdir(parents=True)
    written = []
    context = _context(sources[0], repository, {source.stem for source in sources})
    for source in sources:
        target = out_dir / "notebooks" / source.with_suffix(".ipynb").name
        nbformat.write(handout_notebook(source, repository, context), target)
        written.append(target)
    course = out_dir / "course"
    shutil.copytree(
        ROOT / "course_lib", course / "course_lib", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in COURSE_FILES:
        shutil.copy2(ROOT / name, course / name)
    install = _install_text([p.name for p in written], repository)
    (out_dir / "INSTALL.md").write_text(install, encoding="utf-8")
    (course / "README.md").write_text(  # pip reads it (pyproject's readme): the students' README
        "This folder is the course's library, which the notebooks install. Run the commands below\n"
        "from the folder that holds `course/` and `notebooks/`.\n\n" + install,
        encoding="utf-8",
    )
    files = sorted(p for p in out_dir.rglob("*") if p.is_file() and p.name != MARKER)
    with zipfile.ZipFile(out_dir / ZIP_NAME, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, Path("deep-music-course") / path.relative_to(out_dir))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("sources", nargs="+", type=Path)
    parser.add_argument(
        "--force", action="store_true", help="replace OUT_DIR even if this tool did not write it"
    )
    args = parser.parse_args(argv)
    try:
        written = build(args.out_dir, args.sources, repository_source(), force=args.force)
    except ValueError as error:
        print(f"handout: {error}", file=sys.stderr)
        return 2
    print(f"{len(written)} notebooks and {ZIP_NAME} in {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
