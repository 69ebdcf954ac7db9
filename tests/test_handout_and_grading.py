"""tools/handout.py, tools/grade.py and tools/student_book.py: the instructors' tools.

The grading test runs two chapters' handouts for generated students (solutions pasted into the
stubs, untouched, an edited check cell, the course's own function handed in, a forged report and
log, a rebound check function) and one that hangs: nine notebook runs, a few minutes.
"""

from __future__ import annotations

import ast
import csv
import re
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
import plain_markdown  # noqa: E402
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
    imports = [  # every import of the solutions notebook (its set-up cell's included)
        ast.get_source_segment(source, node)
        for source in solutions
        for node in ast.parse(source).body
        if isinstance(node, ast.Import)
        or (isinstance(node, ast.ImportFrom) and node.module != "__future__")
    ]
    solved = nbformat.from_dict(notebook)
    for cell in solved.cells:
        if "exercise-stub" not in cell.metadata.get("tags", []):
            continue
        names = set(_definitions(cell.source))
        for source in solutions:
            found = _definitions(source)
            if names <= set(found):
                # the stub's names and the helpers the solution's cell defines beside them
                cell.source = "\n".join([*dict.fromkeys(imports), *found.values()])
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


def _with_cell(notebook: nbformat.NotebookNode, source: str, before_check: bool = True):
    """A copy of ``notebook`` with a code cell added before its first check cell (or at the end)."""
    changed = nbformat.from_dict(notebook)
    checks_at = [i for i, c in grade.check_cells(changed)]
    where = checks_at[0] if before_check else len(changed.cells)
    changed.cells.insert(where, nbformat.v4.new_code_cell(source))
    return changed


FORGED_REPORT = """\
import json, os
verdict = {"name": "play_share", "status": "correct", "n_cases": 4, "n_failed": 0, "problems": []}
for path in {os.environ.get("COURSE_LIB_GRADING_LOG"), "verdicts.jsonl"} - {None}:
    with open(path, "a") as log:
        log.write(json.dumps(verdict) + "\\n")
report = {"results": {"0.1": {"verdicts": [verdict], "error": None}}, "tampered": []}
print("0" * 64 + ":" + json.dumps(report))  # the shape of the grader's signed report
print("Correct: play_share gives the expected answer on all 4 test cases.")
"""


def test_grading_passes_solutions_and_fails_untouched_tampered_and_hanging(tmp_path, handouts):
    chapters = [ROOT / "chapters" / "00_welcome.md", ROOT / "chapters" / "01_implicit_feedback.md"]
    subset = tmp_path / "handout"
    subset.mkdir()
    for chapter in chapters:
        name = chapter.with_suffix(".ipynb").name
        (subset / name).write_bytes((handouts / "notebooks" / name).read_bytes())
    submissions = tmp_path / "submissions"
    students = ("solved", "untouched", "tampered", "hangs", "reference", "forged", "rebound")
    for student in students:
        (submissions / student).mkdir(parents=True)
    for chapter in chapters:
        name = chapter.with_suffix(".ipynb").name
        notebook = nbformat.read(subset / name, as_version=4)
        nbformat.write(_solved(notebook, chapter), submissions / "solved" / name)
        nbformat.write(notebook, submissions / "untouched" / name)
    welcome = nbformat.read(subset / "00_welcome.ipynb", as_version=4)
    tampered = _solved(welcome, chapters[0])
    for cell in tampered.cells:
        if "exercise-check" in cell.metadata.get("tags", []):
            cell.source = "print('Correct: play_share')"
    nbformat.write(tampered, submissions / "tampered" / "00_welcome.ipynb")
    hangs = _solved(welcome, chapters[0])
    hangs.cells.insert(2, nbformat.v4.new_code_cell("import time\nwhile True:\n    time.sleep(1)"))
    nbformat.write(hangs, submissions / "hangs" / "00_welcome.ipynb")
    # the course's own function handed in; a forged report and log; a rebound check function
    reference = _with_cell(welcome, "from course_lib.evaluation.checks import play_share")
    nbformat.write(reference, submissions / "reference" / "00_welcome.ipynb")
    forged = _with_cell(_with_cell(welcome, FORGED_REPORT), FORGED_REPORT, before_check=False)
    nbformat.write(forged, submissions / "forged" / "00_welcome.ipynb")
    rebound = _with_cell(
        welcome,
        "checks.check_play_share = lambda fn: print('Correct: play_share gives the expected "
        "answer on all 4 test cases.')",
    )
    nbformat.write(rebound, submissions / "rebound" / "00_welcome.ipynb")

    grades = grade.grade(submissions, subset, tmp_path / "grades", timeout=180, cell_timeout=45)
    rows = _read_grades(tmp_path / "grades")
    assert len(rows) == len(grades)
    by_student: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_student.setdefault(row["student"], []).append(row)
    graded = {s: [r for r in rs if r["passed"] != ""] for s, rs in by_student.items()}
    solved = graded["solved"]
    assert {r["chapter"] for r in solved} == {"00_welcome", "01_implicit_feedback"}
    assert all(r["passed"] == "True" for r in solved), solved
    open_ones = {r["exercise"]: r["message"] for r in by_student["solved"] if r["passed"] == ""}
    assert "1.1" in open_ones and "not graded" in open_ones["1.1"], open_ones
    assert all(r["passed"] == "False" for r in graded["untouched"])
    assert any("not implemented" in r["message"] for r in graded["untouched"])
    tampered_rows = [r for r in graded["tampered"] if r["chapter"] == "00_welcome"]
    assert tampered_rows and all("edited" in r["message"] for r in tampered_rows)
    assert any("not submitted" in r["message"] for r in graded["tampered"])
    hang_rows = [r for r in graded["hangs"] if r["chapter"] == "00_welcome"]
    assert hang_rows and all(r["passed"] == "False" for r in hang_rows)
    assert any("time limit" in r["message"] for r in hang_rows), hang_rows
    for student, words in [
        ("reference", "uses the course's implementation"),
        ("forged", "not implemented"),
        ("rebound", "tampering: the notebook replaced course_lib.checks.check_play_share"),
    ]:
        rows_00 = [r for r in graded[student] if r["chapter"] == "00_welcome"]
        assert rows_00 and all(r["passed"] == "False" for r in rows_00), (student, rows_00)
        assert all(words in r["message"] for r in rows_00), (student, rows_00)
    with open(tmp_path / "grades" / "summary.csv", encoding="utf-8") as file:
        summary = {row["student"]: row for row in csv.DictReader(file)}
    assert summary["solved"]["share"] == "1.00" and summary["untouched"]["passed"] == "0"
    assert "1.1" in summary["solved"]["not_graded"].split()


def test_messages_are_cut_at_word_boundaries():
    text = "the result has shape (3, 2), but it should have shape (2, 3) " * 10
    short = grade.shorten(text, width=60)
    assert len(short) <= 60 and short.endswith(" …")
    assert text.startswith(short[: -len(" …")])  # whole words only, nothing cut mid-word
    assert grade.shorten("short enough") == "short enough"


def test_exercises_without_a_full_check_are_listed_as_not_graded():
    notebook = nbformat.v4.new_notebook()
    statements = (
        "**Exercise 2.1: a matrix.** Write `my_confidence`.\n\n"
        "**Exercise 2.3: why slow?** Explain, in two sentences, why. Then write `my_flops`.\n\n"
        "**Exercise 2.4: a plot.** Re-run section 2 and compare."
    )
    check = nbformat.v4.new_code_cell("checks.check_x(my_confidence);")
    check.metadata.update(tags=["exercise-check"], course={"exercise": "2.1", "check": "x"})
    written = nbformat.v4.new_code_cell("checks.check_y(my_flops);")
    written.metadata.update(tags=["exercise-check"], course={"exercise": "2.3", "check": "y"})
    notebook.cells = [nbformat.v4.new_markdown_cell(statements), check, written]
    ungraded = dict(grade.ungraded_exercises(notebook))
    assert set(ungraded) == {"2.3", "2.4"}
    assert "written part" in ungraded["2.3"] and "no check" in ungraded["2.4"]


# --- what the student reads (issue 26) and folders that are not ours (issue 25) ----------------


def _markdown_cells(folder: Path):
    for path in sorted((folder / "notebooks").glob("*.ipynb")):
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
            if cell.cell_type == "markdown":
                yield path.name, index, cell.source


def test_handout_markdown_has_no_myst_left(handouts):
    found = [
        f"{name}, cell {index}: {match.group(0)!r}"
        for name, index, source in _markdown_cells(handouts)
        for match in plain_markdown.MYST_LEFTOVER.finditer(source)
    ]
    assert not found, found


def test_myst_constructs_become_plain_markdown():
    context = plain_markdown.Context(
        ROOT / "chapters" / "02_als.md",
        "https://example.org/book/",
        "https://github.com/o/r",
        "main",
        {"01_implicit_feedback", "02_als"},
    )
    text = (
        "(my-label)=\n"
        "As {cite:t}`hu2008collaborative` show, see [chapter 01](01_implicit_feedback.md).\n\n"
        "```{note} Careful\nThe loss is $\\sum_u c_{ui}$.\n```\n\n"
        "$$\nx^2\n$$\n"
    )
    plain = plain_markdown.convert(text, context)
    assert not plain_markdown.MYST_LEFTOVER.search(plain), plain
    assert "(my-label)=" not in plain
    assert "[Hu et al. (2008)](https://example.org/book/references.html#hu2008" in plain
    assert "](01_implicit_feedback.ipynb)" in plain  # a chapter of the handout: its notebook
    assert "> **Careful**" in plain and "> The loss is $\\sum_u c_{ui}$." in plain
    assert "$$\nx^2\n$$" in plain


def test_handouts_hold_no_repository_leftovers(handouts):
    leftovers = re.compile(
        r"\bCI\s+may\s+pass|\bmake\s+run\b|no saved benchmark|^from a terminal", re.I | re.M
    )
    found = [
        f"{name}, cell {index}: {match.group(0)!r}"
        for name, index, source in _markdown_cells(handouts)
        for match in leftovers.finditer(source)
    ]
    assert not found, found
    for path in (handouts / "notebooks").glob("*.ipynb"):
        code = " ".join(c.source for c in nbformat.read(path, as_version=4).cells)
        assert "no saved benchmark" not in code, path.name  # chapter 02's section 12 is left out
    for name, _, source in _markdown_cells(handouts):
        references = source.partition("## References")[2]
        for line in references.splitlines():  # each entry names authors, year and a title
            if line.startswith("- "):
                assert re.match(r"- \[[^\]]+ \(\d{4}\)\]\(https://[^)]+\): \S", line), (name, line)
    readme = (handouts / "course" / "README.md").read_text(encoding="utf-8")
    assert readme != (ROOT / "README.md").read_text(encoding="utf-8")
    assert "notebooks" in readme and "make " not in readme


def test_make_run_becomes_the_parameters_cell():
    text = (
        "Checks it against the registry. From a terminal:\n\n```bash\n"
        'make run CHAPTER=01_implicit_feedback \\\n  PARAMS="dataset=lastfm_hetrec2011 n=3"\n```\n'
        "The knobs. CI may pass smaller values; the defaults are the lesson."
    )
    plain = plain_markdown.handout_wording(text)
    assert "make run" not in plain and "CI" not in plain
    assert '`dataset = "lastfm_hetrec2011"` and `n = 3` in the parameters cell' in plain
    assert "The defaults are the lesson." in plain


@pytest.mark.parametrize("tool", ["handout", "student_book"])
def test_a_folder_the_tool_did_not_write_is_refused_unless_forced(tmp_path, tool, capsys):
    folder = tmp_path / "my course"
    folder.mkdir()
    (folder / "grades.csv").write_text("alice,1.0\n")
    chapter = str(ROOT / "chapters" / "00_welcome.md")
    run = (
        (lambda *flags: handout.main([str(folder), chapter, *flags]))
        if tool == "handout"
        else (lambda *flags: student_book.main([str(folder), "--cache", str(tmp_path), *flags]))
    )
    assert run() == 2
    message = capsys.readouterr().err
    assert "not empty" in message and "--force" in message and str(folder) in message
    assert (folder / "grades.csv").read_text() == "alice,1.0\n"  # nothing deleted
    assert run("--force") == 0
    assert not (folder / "grades.csv").exists()
    marker = handout.MARKER if tool == "handout" else student_book.MARKER
    assert (folder / marker).is_file()
    (folder / "left over").write_text("an earlier output of the tool is replaced")
    assert run() == 0 and not (folder / "left over").exists()
    file = tmp_path / "a file"
    file.write_text("x")
    target = [str(file), chapter] if tool == "handout" else [str(file)]
    main = handout.main if tool == "handout" else student_book.main
    assert main(target) == 2 and "is a file" in capsys.readouterr().err


def test_make_lab_and_binder_give_the_same_reading_experience():
    import json

    overrides = json.loads((ROOT / "tools" / "jupyterlab_overrides.json").read_text())
    assert overrides["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    viewers = overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers["markdown"] == "Jupytext Notebook"
    post_build = (ROOT / "postBuild").read_text()
    assert "tools/jupyterlab_overrides.json" in post_build  # Binder: the same overrides
    for name in ("pyproject.toml", "environment.yml"):
        assert "jupyterlab-myst" in (ROOT / name).read_text(), name  # and the same extension
    assert re.search(r"^jupyterlab_myst==", (ROOT / "constraints.txt").read_text(), re.M)
    makefile = (ROOT / "Makefile").read_text()
    lab = makefile.partition("\nlab: ")[2].partition("\n\n")[0]
    assert "--allow-root" in lab and "id -u" in lab  # root in a container still gets a lab
