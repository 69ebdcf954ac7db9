"""Autograding: run each student's handout notebooks and read the verdict of every exercise check.

Usage: ``python tools/grade.py SUBMISSIONS --handout _build/handout/notebooks --out _build/grades``
(``make grade SUBMISSIONS=folder`` runs it). ``SUBMISSIONS`` holds one folder per student, each
with some of the handout notebooks (``NN_topic.ipynb``) as the student saved them.

For every student and every handout notebook the grader

1. compares the student's exercise-check cells (tagged ``exercise-check`` by ``tools/handout.py``)
   with the handout's: a check cell that is missing or whose code was changed is reported as such
   and never counts as passed;
2. executes the notebook in a fresh kernel, in its own process, with a time limit per notebook
   (``--timeout``), errors allowed (a failing cell does not stop the notebook), and, where Linux
   allows it, no network (``unshare``: a new network namespace with only the loopback device);
3. reads the verdicts that ``course_lib.checking.run_check`` appends to the file named by
   ``COURSE_LIB_GRADING_LOG`` while each check cell runs: the course's own checks decide, the
   grader re-implements nothing. An exercise passes when its check cell ran unchanged and every
   verdict it printed was "Correct".

A hanging or crashing notebook ends with the time limit; the other notebooks and students are
graded all the same. Results: ``OUT/grades.csv`` (student, chapter, exercise, passed, message) and
``OUT/summary.csv`` (student, exercises, passed, share).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

GRADING_LOG_VARIABLE = "COURSE_LIB_GRADING_LOG"  # = course_lib.checking.GRADING_LOG_VARIABLE
CELL_MARKER = "cell"


@dataclass
class Grade:
    student: str
    chapter: str
    exercise: str
    passed: bool
    message: str


def check_cells(notebook: nbformat.NotebookNode) -> list[tuple[int, nbformat.NotebookNode]]:
    """(index, cell) of the exercise-check cells of a notebook, in order."""
    return [
        (index, cell)
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and "exercise-check" in cell.metadata.get("tags", [])
    ]


def _network_isolation() -> list[str]:
    """A command prefix that runs its command without network, or [] where that is impossible."""
    unshare, ip = shutil.which("unshare"), shutil.which("ip")
    if sys.platform != "linux" or not unshare or not ip:
        return []
    probe = subprocess.run(
        [unshare, "--net", "--map-root-user", ip, "link", "set", "lo", "up"],
        capture_output=True,
    )
    if probe.returncode != 0:
        return []
    script = f'{ip} link set lo up && exec "$@"'
    return [unshare, "--net", "--map-root-user", "sh", "-c", script, "-"]


def execute(notebook_path: Path, log_path: Path, cell_timeout: int) -> None:
    """Run one notebook (in this process) with errors allowed, marking each cell in the log."""
    from nbclient import NotebookClient

    notebook = nbformat.read(notebook_path, as_version=4)
    os.environ[GRADING_LOG_VARIABLE] = str(log_path)

    def mark(cell: nbformat.NotebookNode, cell_index: int, **_: object) -> None:
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps({CELL_MARKER: cell_index}) + "\n")

    client = NotebookClient(
        notebook,
        timeout=cell_timeout,
        allow_errors=True,
        kernel_name="python3",
        resources={"metadata": {"path": str(notebook_path.parent)}},
        on_cell_executed=mark,
    )
    try:
        client.execute()
    finally:  # keep what ran, with its outputs, for the error messages of the report
        nbformat.write(notebook, notebook_path)


def _verdicts_by_cell(log_path: Path) -> tuple[dict[int, list[dict]], int]:
    """Verdicts grouped by the cell that printed them, and the index of the last cell run."""
    by_cell: dict[int, list[dict]] = {}
    pending: list[dict] = []
    last = -1
    if log_path.exists():
        for line in log_path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if CELL_MARKER in record:
                last = int(record[CELL_MARKER])
                by_cell[last] = pending
                pending = []
            else:
                pending.append(record)
    return by_cell, last


def _cell_error(cell: nbformat.NotebookNode) -> str | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename')}: {output.get('evalue')}"[:200]
    return None


def _why_stopped(stderr: str, cell_timeout: int) -> str:
    if "CellTimeoutError" in stderr:
        return f"a cell ran past the time limit of {cell_timeout} s"
    if "DeadKernelError" in stderr:
        return "the kernel died (out of memory, or the notebook ended Python)"
    last = [line for line in stderr.strip().splitlines() if line.strip()][-1:] or ["?"]
    return f"the notebook stopped: {last[0][:200]}"


def grade_notebook(
    student: str,
    handout: Path,
    expected: list[tuple[int, nbformat.NotebookNode]],
    submitted: Path,
    timeout: int,
    cell_timeout: int,
) -> list[Grade]:
    """Grades of one student's copy of one handout notebook, whose check cells are ``expected``."""
    chapter = handout.stem
    try:
        notebook = nbformat.read(submitted, as_version=4)
    except Exception as error:  # noqa: BLE001 - any unreadable file is reported, not raised
        return [
            Grade(student, chapter, c.metadata["course"]["exercise"], False, f"unreadable: {error}")
            for _, c in expected
        ]
    found = {c.metadata.get("course", {}).get("exercise"): (i, c) for i, c in check_cells(notebook)}
    with tempfile.TemporaryDirectory() as work:
        copy = Path(work) / submitted.name
        nbformat.write(notebook, copy)
        log_path = Path(work) / "verdicts.jsonl"
        command = [
            *_network_isolation(),
            sys.executable,
            str(Path(__file__).resolve()),
            "--execute-one",
            str(copy),
            str(log_path),
            "--cell-timeout",
            str(cell_timeout),
        ]
        try:
            run = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
            stopped = "" if run.returncode == 0 else _why_stopped(run.stderr, cell_timeout)
        except subprocess.TimeoutExpired:
            stopped = f"the notebook ran past the time limit of {timeout} s"
        by_cell, last = _verdicts_by_cell(log_path)
        executed = nbformat.read(copy, as_version=4) if copy.exists() else notebook
    grades = []
    for _, cell in expected:
        exercise = cell.metadata["course"]["exercise"]
        if exercise not in found or found[exercise][1].source.strip() != cell.source.strip():
            what = "removed" if exercise not in found else "edited"
            grades.append(Grade(student, chapter, exercise, False, f"check cell {what}"))
            continue
        index = found[exercise][0]
        verdicts = by_cell.get(index)
        if verdicts is None:
            reason = stopped or ("not reached" if index > last else "no verdict")
            grades.append(Grade(student, chapter, exercise, False, reason))
            continue
        statuses = [v.get("status") for v in verdicts]
        passed = bool(statuses) and all(s == "correct" for s in statuses)
        error = _cell_error(executed.cells[index]) if index < len(executed.cells) else None
        message = "; ".join(dict.fromkeys(statuses)) or (error or "the check printed no verdict")
        if not passed and verdicts and verdicts[-1].get("problems"):
            message += ": " + verdicts[-1]["problems"][0][:200]
        grades.append(Grade(student, chapter, exercise, passed, message))
    return grades


def grade(
    submissions: Path, handout_dir: Path, out: Path, timeout: int = 900, cell_timeout: int = 600
) -> list[Grade]:
    """Grade every student folder of ``submissions``; write grades.csv and summary.csv."""
    handouts = sorted(handout_dir.glob("*.ipynb"))
    if not handouts:
        raise ValueError(f"no handout notebooks in {handout_dir}: run `make handout` first")
    students = sorted(p for p in submissions.iterdir() if p.is_dir())
    if not students:
        raise ValueError(f"{submissions} holds no student folders (one folder per student)")
    grades: list[Grade] = []
    # each handout's check cells, read once; chapters without checked exercises are left out
    checked = {h: check_cells(nbformat.read(h, as_version=4)) for h in handouts}
    checked = {h: cells for h, cells in checked.items() if cells}
    for student in students:
        for handout, expected in checked.items():
            submitted = student / handout.name
            if not submitted.exists():
                grades += [
                    Grade(
                        student.name,
                        handout.stem,
                        c.metadata["course"]["exercise"],
                        False,
                        "notebook not submitted",
                    )
                    for _, c in expected
                ]
                continue
            print(f"grading {student.name}/{handout.name}", flush=True)
            grades += grade_notebook(
                student.name, handout, expected, submitted, timeout, cell_timeout
            )
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["student", "chapter", "exercise", "passed", "message"])
        for g in grades:
            writer.writerow([g.student, g.chapter, g.exercise, g.passed, g.message])
    with open(out / "summary.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["student", "exercises", "passed", "share"])
        for student in students:
            mine = [g for g in grades if g.student == student.name]
            n_passed = sum(g.passed for g in mine)
            share = n_passed / len(mine) if mine else 0.0
            writer.writerow([student.name, len(mine), n_passed, f"{share:.2f}"])
    return grades


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path, nargs="?")
    parser.add_argument("--handout", type=Path, default=Path("_build/handout/notebooks"))
    parser.add_argument("--out", type=Path, default=Path("_build/grades"))
    parser.add_argument("--timeout", type=int, default=900, help="seconds per notebook")
    parser.add_argument("--cell-timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument("--execute-one", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.execute_one:
        execute(*args.execute_one, cell_timeout=args.cell_timeout)
        return 0
    if args.submissions is None or not args.submissions.is_dir():
        parser.error("give the folder of submissions (one sub-folder per student)")
    grades = grade(args.submissions, args.handout, args.out, args.timeout, args.cell_timeout)
    n_passed = sum(g.passed for g in grades)
    print(f"{n_passed} of {len(grades)} exercises passed; see {args.out}/grades.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
