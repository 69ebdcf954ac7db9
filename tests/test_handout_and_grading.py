"""tools/handout.py, tools/grade.py and tools/student_book.py: the instructors' tools.

The grading test runs two chapters' handouts for three generated students (solutions pasted into
the stubs, untouched, and a tampered check cell) and one that hangs, so it takes a minute or two.
"""

from __future__ import annotations

import ast
import csv
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import grade  # noqa: E402
import handout  # noqa: E402
import student_book  # noqa: E402

CHAPTERS = sorted((ROOT / "chapters").glob("*.md"))
REPOSITORY = handout.repository_source()


def _definitions(source: str) -> dict[str, str]:
    """name -> source of each top-level function or class defined in a code cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    return {
        node.name: ast.get_source_segment(source, node) or ""
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.ClassDef)
    }


def _solution_cells(chapter: Path) -> list[str]:
    path = ROOT / "solutions" / f"{chapter.stem}_solutions.md"
    if not path.exists():
        return []
    notebook = jupytext.reads(path.read_text(encoding="utf-8"), fmt="md:myst")
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def _solved(notebook: nbformat.NotebookNode, chapter: Path) -> nbformat.NotebookNode:
    """The handout with each stub replaced by the worked solution's definitions and imports."""
    solutions = _solution_cells(chapter)
    solved = nbformat.from_dict(notebook)
    for cell in solved.cells:
        if "exercise-stub" not in cell.metadata.get("tags", []):
            continue
        names = set(_definitions(cell.source))
        for source in solutions:
            found = _definitions(source)
            if names <= set(found):
                tree = ast.parse(source)
                imports = [
                    ast.get_source_segment(source, node)
                    for node in tree.body
                    if isinstance(node, ast.Import | ast.ImportFrom)
                ]
                cell.source = "\n".join([*imports, *(found[name] for name in sorted(names))])
                break
        else:
            raise AssertionError(f"{chapter.name}: no solution defines {sorted(names)}")
    return solved


@pytest.fixture(scope="module")
def handouts(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("handout")
    handout.build(out, CHAPTERS, REPOSITORY)
    return out


def test_every_chapter_becomes_a_handout_without_outputs(handouts):
    names = sorted(p.name for p in (handouts / "notebooks").glob("*.ipynb"))
    assert names == [c.with_suffix(".ipynb").name for c in CHAPTERS]
    for path in (handouts / "notebooks").glob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        assert "course-setup" in notebook.cells[0].metadata["tags"], path.name
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert not cell.outputs, f"{path.name} has stored outputs"
            assert not handout.SOLUTION_REFERENCE.search(cell.source), (
                f"{path.name} links to the solutions"
            )
    assert (handouts / handout.ZIP_NAME).stat().st_size > 0
    assert (handouts / "course" / "course_lib" / "__init__.py").exists()


def test_no_solution_appears_in_any_handout(handouts):
    checked = 0
    for chapter in CHAPTERS:
        notebook = nbformat.read(
            handouts / "notebooks" / chapter.with_suffix(".ipynb").name, as_version=4
        )
        stubs = [c for c in notebook.cells if "exercise-stub" in c.metadata.get("tags", [])]
        stub_names = {name for cell in stubs for name in _definitions(cell.source)}
        text = " ".join(" ".join(c.source.split()) for c in notebook.cells)
        for source in _solution_cells(chapter):
            for name, definition in _definitions(source).items():
                if name in stub_names:
                    checked += 1
                    assert " ".join(definition.split()) not in text, (
                        f"the solution of {name} appears in the handout of {chapter.name}"
                    )
    assert checked >= 10, f"only {checked} solutions were compared; are the stubs found?"


def test_every_exercise_stub_has_its_check_marked(handouts):
    for chapter in CHAPTERS:
        notebook = nbformat.read(
            handouts / "notebooks" / chapter.with_suffix(".ipynb").name, as_version=4
        )
        marked = {c.metadata["course"]["exercise"] for _, c in grade.check_cells(notebook)}
        stubs = set(handout._EXERCISE.findall(chapter.read_text(encoding="utf-8")))
        assert marked == stubs, f"{chapter.name}: stubs {sorted(stubs)}, checks {sorted(marked)}"


def test_the_solution_free_book_drops_the_solutions_part(tmp_path):
    student_book.build(tmp_path / "book", tmp_path / "cache")
    toc = yaml.safe_load((tmp_path / "book" / "_toc.yml").read_text())
    captions = [part["caption"] for part in toc["parts"]]
    assert "Solutions" not in captions and "Chapters" in captions
    for page in (tmp_path / "book" / "chapters").glob("*.md"):
        text = page.read_text(encoding="utf-8")
        assert not handout.SOLUTION_REFERENCE.search(text), page.name
    config = yaml.safe_load((tmp_path / "book" / "book.yml").read_text())
    assert config["execute"]["cache"] == str((tmp_path / "cache").resolve())


def _read_grades(out: Path) -> list[dict[str, str]]:
    with open(out / "grades.csv", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def test_grading_passes_solutions_and_fails_untouched_tampered_and_hanging(tmp_path, handouts):
    chapters = [ROOT / "chapters" / "00_welcome.md", ROOT / "chapters" / "01_implicit_feedback.md"]
    subset = tmp_path / "handout"
    subset.mkdir()
    for chapter in chapters:
        name = chapter.with_suffix(".ipynb").name
        (subset / name).write_bytes((handouts / "notebooks" / name).read_bytes())
    submissions = tmp_path / "submissions"
    for student in ("solved", "untouched", "tampered", "hangs"):
        (submissions / student).mkdir(parents=True)
    for chapter in chapters:
        name = chapter.with_suffix(".ipynb").name
        notebook = nbformat.read(subset / name, as_version=4)
        nbformat.write(_solved(notebook, chapter), submissions / "solved" / name)
        nbformat.write(notebook, submissions / "untouched" / name)
    tampered = _solved(nbformat.read(subset / "00_welcome.ipynb", as_version=4), chapters[0])
    for cell in tampered.cells:
        if "exercise-check" in cell.metadata.get("tags", []):
            cell.source = "print('Correct: play_share')"
    nbformat.write(tampered, submissions / "tampered" / "00_welcome.ipynb")
    hangs = _solved(nbformat.read(subset / "00_welcome.ipynb", as_version=4), chapters[0])
    hangs.cells.insert(2, nbformat.v4.new_code_cell("import time\nwhile True:\n    time.sleep(1)"))
    nbformat.write(hangs, submissions / "hangs" / "00_welcome.ipynb")

    grades = grade.grade(submissions, subset, tmp_path / "grades", timeout=180, cell_timeout=45)
    rows = _read_grades(tmp_path / "grades")
    assert len(rows) == len(grades)
    by_student: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_student.setdefault(row["student"], []).append(row)
    solved = by_student["solved"]
    assert {r["chapter"] for r in solved} == {"00_welcome", "01_implicit_feedback"}
    assert all(r["passed"] == "True" for r in solved), solved
    assert all(r["passed"] == "False" for r in by_student["untouched"])
    assert any("not implemented" in r["message"] for r in by_student["untouched"])
    tampered_rows = [r for r in by_student["tampered"] if r["chapter"] == "00_welcome"]
    assert tampered_rows and all("edited" in r["message"] for r in tampered_rows)
    assert any("not submitted" in r["message"] for r in by_student["tampered"])
    hang_rows = [r for r in by_student["hangs"] if r["chapter"] == "00_welcome"]
    assert hang_rows and all(r["passed"] == "False" for r in hang_rows)
    assert any("time limit" in r["message"] for r in hang_rows), hang_rows
    with open(tmp_path / "grades" / "summary.csv", encoding="utf-8") as file:
        summary = {row["student"]: row for row in csv.DictReader(file)}
    assert summary["solved"]["share"] == "1.00" and summary["untouched"]["passed"] == "0"
