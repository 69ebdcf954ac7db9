"""Autograding: run each student's handout notebooks, then the course's own exercise checks.

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
3. after the student's last cell, runs cells of its own in the same kernel. The first loads the
   course's check framework and the checks this notebook needs *afresh*, from the grader's own
   copy of the course's files (a notebook that changes that copy is reported as tampering):
   ``course_lib.checking``, ``course_lib.checks``, ``course_lib.<topic>.checks``. It runs the
   handout's original code of every exercise-check cell against the student's functions, and
   looks for course functions the notebook replaced (``checks.check_x = ...``). The last cell
   prints the results signed (HMAC) with a random token that the grader makes for this run and
   shows the kernel only then, in that cell. So what the student's cells printed, rebound or
   wrote to a file never decides a grade: a rebound check or a forged "Correct" changes nothing,
   and a replaced course function is reported as tampering and fails the notebook's exercises.

An exercise passes when its check cell is unchanged and every verdict of the grader's run of it is
"Correct". A function that is or calls the course's own implementation is "not accepted"
(:mod:`course_lib.checking`). Exercises that no check grades (answered in words or with a plot,
or with a written part beside a checked function) are listed as ``not graded``: a share of 1.00
covers the checked exercises only.

The grader resists forgery by ordinary notebook code, not a deliberate attack on the Python
interpreter that runs it (threads, patched numpy); read any notebook it reports as tampered.
A hanging or crashing notebook ends with the time limit; the other notebooks and students are
graded all the same. Results: ``OUT/grades.csv`` (student, chapter, exercise, passed, message;
``passed`` is empty for an exercise not graded) and ``OUT/summary.csv`` (student, exercises,
passed, share, not_graded).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import hmac
import json
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
GRADER_TAG = "course-grader"
MESSAGE_WIDTH = 240
_STATEMENT = re.compile(r"\*\*Exercise (\d+[a-z]?\.\d+[a-z]?)\b")
#: Words by which an exercise with a check also asks for a written answer (exercise 2.3).
_WRITTEN = re.compile(r"\b(explain|describe|discuss|in words)\b", re.IGNORECASE)


@dataclass
class Grade:
    student: str
    chapter: str
    exercise: str
    passed: bool | None  # None: not graded automatically
    message: str


def shorten(text: str, width: int = MESSAGE_WIDTH) -> str:
    """``text`` on one line, cut at a word boundary with an ellipsis if longer than ``width``."""
    return textwrap.shorten(" ".join(str(text).split()), width=width, placeholder=" …")


def check_cells(notebook: nbformat.NotebookNode) -> list[tuple[int, nbformat.NotebookNode]]:
    """(index, cell) of the exercise-check cells of a notebook, in order."""
    return [
        (index, cell)
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and "exercise-check" in cell.metadata.get("tags", [])
    ]


def ungraded_exercises(notebook: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """(exercise, why) for every exercise of a handout that no check grades in full."""
    statements: dict[str, str] = {}
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        found = list(_STATEMENT.finditer(cell.source))
        ends = [match.start() for match in found[1:]] + [len(cell.source)]
        for match, end in zip(found, ends, strict=False):  # no match: nothing
            statements.setdefault(match.group(1), cell.source[match.start() : end])
    checked = {cell.metadata["course"]["exercise"] for _, cell in check_cells(notebook)}
    ungraded = []
    for exercise, statement in statements.items():
        if exercise not in checked:
            ungraded.append((exercise, "not graded: no check (answered in words or by a plot)"))
        elif _WRITTEN.search(statement):
            ungraded.append((exercise, "written part not graded (its function is checked)"))
    return ungraded


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


def _course_dir() -> Path:
    import course_lib

    return Path(course_lib.__file__).resolve().parent


def _course_fingerprint(course_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(course_dir.rglob("*.py")):
        digest.update(str(path.relative_to(course_dir)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


# The grader's code, run in the student's kernel after the student's cells, with globals of its
# own (names the notebook defined, such as a `print` or an `exec` of its own, do not reach it).
_KERNEL_GRADER = r'''
def _course_grader_run(course_dir, source_dir, exercises):
    import importlib.util, inspect, json, sys, threading, types
    from IPython import get_ipython
    from pathlib import Path

    def load(name):
        """A fresh module ``name``, from the grader's copy of its file; named as installed."""
        relative = name.split(".")[1:]
        path = Path(course_dir).joinpath(*relative).with_suffix(".py")
        source = Path(source_dir).joinpath(*relative).with_suffix(".py").read_text("utf-8")
        module = types.ModuleType(name)
        module.__file__ = str(path)
        module.__package__ = name.rpartition(".")[0]
        module.__spec__ = importlib.util.spec_from_file_location(name, path)
        sys.modules[name] = module
        exec(compile(source, str(path), "exec"), module.__dict__)
        # "from course_lib.fusion import _exercise_cases" reads the package's attribute first
        parent = sys.modules.get(module.__package__)
        if parent is not None:
            setattr(parent, name.rpartition(".")[2], module)
        return module

    def replaced_course_functions():
        """course_lib attributes (or methods) that are functions written outside course_lib."""
        found = []
        for name, module in sorted(sys.modules.items(), key=lambda item: item[0]):
            if not (name == "course_lib" or name.startswith("course_lib.")):
                continue
            for attribute, value in list(vars(module).items()):
                inner = list(vars(value).values()) if inspect.isclass(value) else []
                for item in [value, *inner]:
                    item = getattr(item, "__func__", item)
                    code = item.__code__ if inspect.isfunction(item) else None
                    filename = code.co_filename if code is not None else "<>"
                    if not filename.startswith("<") and not watch.is_library_file(filename):
                        found.append(f"{name}.{attribute}")
                        break
        return found

    watch = load("course_lib._watch")
    tampered = replaced_course_functions()  # in the modules the student's cells used
    old_checking = sys.modules.get("course_lib.checking")
    checking = load("course_lib.checking")
    # Modules the student's session imported that hold names of the old framework (a topic's
    # checks split over helper files): loaded afresh too, before the checks that import them.
    framework = {
        id(value) for value in vars(old_checking or types).values()
        if callable(value) and getattr(value, "__module__", None) == "course_lib.checking"
    }
    helpers = sorted(
        name for name, module in list(sys.modules.items())
        if name.startswith("course_lib.") and module is not None
        and name not in {"course_lib.checking", "course_lib._watch", "course_lib.checks"}
        and not name.endswith(".checks") and not hasattr(module, "__path__")  # no packages
        and any(callable(value) and id(value) in framework for value in vars(module).values())
    )
    for name in helpers:
        load(name)
    checks = load("course_lib.checks")
    for module in sorted({checks.LOCATIONS[check] for _, check, _ in exercises
                          if check in checks.LOCATIONS}):
        load(module)
    user_ns = get_ipython().user_ns
    results = {}
    for exercise, _, source in exercises:
        namespace = dict(user_ns, checks=checks)
        error = None
        with checking._record_verdicts() as verdicts:
            try:
                exec(compile(source, f"<grader: check of {exercise}>", "exec"), namespace)
            except (Exception, SystemExit) as raised:
                error = f"{type(raised).__name__}: {raised}"
        results[exercise] = {
            "verdicts": [{"name": v.name, "status": v.status, "problems": v.problems[:3]}
                         for v in verdicts],
            "error": error,
        }
    tampered += replaced_course_functions()
    ipython = get_ipython()
    for event in list(ipython.events.callbacks):
        ipython.events.callbacks[event] = []
    sys.settrace(None)
    sys.setprofile(None)
    threading.settrace(None)
    threading.setprofile(None)
    return json.dumps({"results": results, "tampered": sorted(set(tampered))})


report = _course_grader_run(COURSE_DIR, SOURCE_DIR, EXERCISES)
'''

# The grader's two cells: the first runs the code above; the last prints its report signed with
# the run's token (an HMAC), which appears nowhere else in the kernel or its output.
_KERNEL_CELLS = (
    "import builtins as _course_builtins\n"
    "_course_grader_space = {{'__builtins__': _course_builtins, 'COURSE_DIR': {course_dir!r},\n"
    "                        'SOURCE_DIR': {source_dir!r}, 'EXERCISES': {exercises!r}}}\n"
    "_course_builtins.exec({code!r}, _course_grader_space)\n"
    "_course_grader_report = _course_grader_space['report']",
    "import builtins as _course_builtins, hmac as _course_hmac\n"
    "_course_builtins.print(_course_hmac.new({token!r}, _course_grader_report.encode(), "
    "'sha256').hexdigest() + ':' + _course_grader_report)",
)


def _signature(token: str, text: str) -> str:
    return hmac.new(token.encode(), text.encode(), "sha256").hexdigest()


def execute(notebook_path: Path, cell_timeout: int) -> None:
    """Run one notebook (in this process) with errors allowed, then the grader's own cells.

    The grading job arrives on standard input (JSON: the exercises, the course folders and the
    report's token), so it is in no file and no environment variable the kernel can read, and the
    token reaches the kernel only in the last cell, after every student cell and every check ran.
    """
    from nbclient import NotebookClient

    job = json.loads(sys.stdin.read())
    notebook = nbformat.read(notebook_path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=cell_timeout,
        allow_errors=True,
        kernel_name="python3",
        resources={"metadata": {"path": str(notebook_path.parent)}},
    )
    values = {**job, "token": job["token"].encode(), "code": _KERNEL_GRADER}
    grader, report = (cell.format(**values) for cell in _KERNEL_CELLS)
    client.reset_execution_trackers()
    try:
        with client.setup_kernel():
            for index, cell in enumerate(notebook.cells):
                client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
            for source in (grader, report):
                cell = nbformat.v4.new_code_cell(source, metadata={"tags": [GRADER_TAG]})
                notebook.cells.append(cell)
                client.timeout = cell_timeout * max(1, len(job["exercises"]))
                client.execute_cell(cell, len(notebook.cells) - 1)
    finally:  # keep what ran, with its outputs, for the report
        nbformat.write(notebook, notebook_path)


def read_report(notebook: nbformat.NotebookNode, token: str) -> dict | None:
    """The grader's report, printed by the notebook's last cell and signed with ``token``; None
    unless exactly one line of that cell carries a valid signature."""
    if not notebook.cells or GRADER_TAG not in notebook.cells[-1].metadata.get("tags", []):
        return None
    signed = [
        text
        for output in notebook.cells[-1].get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == "stdout"
        for signature, _, text in (line.partition(":") for line in output["text"].splitlines())
        if hmac.compare_digest(signature, _signature(token, text))
    ]
    if len(signed) != 1:
        return None
    try:
        return json.loads(signed[0])
    except json.JSONDecodeError:
        return None


def _why_stopped(stderr: str, cell_timeout: int) -> str:
    if "CellTimeoutError" in stderr:
        return f"a cell ran past the time limit of {cell_timeout} s"
    if "DeadKernelError" in stderr:
        return "the kernel died (out of memory, or the notebook ended Python)"
    last = [line for line in stderr.strip().splitlines() if line.strip()][-1:] or ["?"]
    return shorten(f"the notebook stopped: {last[0]}")


def _verdict_message(result: dict) -> tuple[bool, str]:
    verdicts = result.get("verdicts", [])
    statuses = [v.get("status") for v in verdicts]
    passed = bool(statuses) and all(s == "correct" for s in statuses) and not result["error"]
    message = "; ".join(dict.fromkeys(statuses))
    if result.get("error"):
        message = f"{message}; the check raised {result['error']}".lstrip("; ")
    elif not statuses:
        message = "the check gave no verdict"
    failing = [v for v in verdicts if v.get("status") != "correct" and v.get("problems")]
    if not passed and failing:
        message += ": " + failing[-1]["problems"][0]
    return passed, shorten(message)


def grade_notebook(
    student: str,
    handout: Path,
    expected: list[tuple[int, nbformat.NotebookNode]],
    submitted: Path,
    timeout: int,
    cell_timeout: int,
    source_dir: Path | None = None,
) -> list[Grade]:
    """Grades of one student's copy of one handout notebook, whose check cells are ``expected``.

    The checks are loaded from ``source_dir``, the grader's copy of ``course_lib`` (default: the
    installed one)."""
    chapter = handout.stem
    exercises = [cell.metadata["course"] for _, cell in expected]
    try:
        notebook = nbformat.read(submitted, as_version=4)
    except Exception as error:  # noqa: BLE001 - any unreadable file is reported, not raised
        why = shorten(f"unreadable: {error}")
        return [Grade(student, chapter, e["exercise"], False, why) for e in exercises]
    found = {c.metadata.get("course", {}).get("exercise"): c for _, c in check_cells(notebook)}
    token = secrets.token_hex(32)
    job = {
        "course_dir": str(_course_dir()),
        "source_dir": str(source_dir or _course_dir()),
        "token": token,
        "exercises": [
            (e["exercise"], e["check"], c.source)
            for e, (_, c) in zip(exercises, expected, strict=True)
        ],
    }
    with tempfile.TemporaryDirectory() as work:
        copy = Path(work) / submitted.name
        nbformat.write(notebook, copy)
        command = [
            *_network_isolation(),
            sys.executable,
            str(Path(__file__).resolve()),
            "--execute-one",
            str(copy),
            "--cell-timeout",
            str(cell_timeout),
        ]
        try:
            run = subprocess.run(
                command, input=json.dumps(job), capture_output=True, text=True, timeout=timeout
            )
            stopped = "" if run.returncode == 0 else _why_stopped(run.stderr, cell_timeout)
        except subprocess.TimeoutExpired:
            stopped = f"the notebook ran past the time limit of {timeout} s"
        executed = nbformat.read(copy, as_version=4) if copy.exists() else notebook
    report = read_report(executed, token)
    tampered = report.get("tampered", []) if report else []
    grades = []
    for exercise, (_, cell) in zip(exercises, expected, strict=True):
        number = exercise["exercise"]
        if number not in found or found[number].source.strip() != cell.source.strip():
            what = "removed" if number not in found else "edited"
            grades.append(Grade(student, chapter, number, False, f"check cell {what}"))
        elif report is None:
            why = stopped or "the grader's checks did not report (the notebook interfered?)"
            grades.append(Grade(student, chapter, number, False, why))
        elif tampered:
            why = shorten(f"tampering: the notebook replaced {', '.join(tampered)}")
            grades.append(Grade(student, chapter, number, False, why))
        elif number not in report["results"]:
            grades.append(Grade(student, chapter, number, False, "the grader did not run it"))
        else:
            passed, message = _verdict_message(report["results"][number])
            grades.append(Grade(student, chapter, number, passed, message))
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
    notebooks = {h: nbformat.read(h, as_version=4) for h in handouts}  # each handout read once
    checked = {h: check_cells(nb) for h, nb in notebooks.items()}
    ungraded = {h: ungraded_exercises(nb) for h, nb in notebooks.items()}
    with tempfile.TemporaryDirectory(prefix="course-grader-") as work:
        source_dir = Path(work) / "course_lib"  # the grader's copy, read after each notebook
        shutil.copytree(_course_dir(), source_dir, ignore=shutil.ignore_patterns("__pycache__"))
        fingerprint = _course_fingerprint(source_dir)
        for student in students:
            for handout, expected in checked.items():
                submitted = student / handout.name
                if not submitted.exists():
                    grades += [
                        Grade(student.name, handout.stem, number, False, "notebook not submitted")
                        for number in (c.metadata["course"]["exercise"] for _, c in expected)
                    ]
                    continue
                if expected:
                    print(f"grading {student.name}/{handout.name}", flush=True)
                    mine = grade_notebook(
                        student.name,
                        handout,
                        expected,
                        submitted,
                        timeout,
                        cell_timeout,
                        source_dir,
                    )
                    if _course_fingerprint(source_dir) != fingerprint:
                        for g in mine:
                            g.passed = False
                            g.message = "tampering: the notebook changed the grader's course files"
                        shutil.rmtree(source_dir)
                        shutil.copytree(
                            _course_dir(), source_dir, ignore=shutil.ignore_patterns("__pycache__")
                        )
                        fingerprint = _course_fingerprint(source_dir)
                    grades += mine
                grades += [
                    Grade(student.name, handout.stem, number, None, why)
                    for number, why in ungraded[handout]
                ]
    _write(out, grades, [s.name for s in students])
    return grades


def _write(out: Path, grades: list[Grade], students: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["student", "chapter", "exercise", "passed", "message"])
        for g in grades:
            passed = "" if g.passed is None else g.passed
            writer.writerow([g.student, g.chapter, g.exercise, passed, g.message])
    with open(out / "summary.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["student", "exercises", "passed", "share", "not_graded"])
        for student in students:
            mine = [g for g in grades if g.student == student and g.passed is not None]
            open_ones = [g.exercise for g in grades if g.student == student and g.passed is None]
            n_passed = sum(bool(g.passed) for g in mine)
            share = n_passed / len(mine) if mine else 0.0
            writer.writerow([student, len(mine), n_passed, f"{share:.2f}", " ".join(open_ones)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path, nargs="?")
    parser.add_argument("--handout", type=Path, default=Path("_build/handout/notebooks"))
    parser.add_argument("--out", type=Path, default=Path("_build/grades"))
    parser.add_argument("--timeout", type=int, default=900, help="seconds per notebook")
    parser.add_argument("--cell-timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument("--execute-one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.execute_one:
        execute(args.execute_one, cell_timeout=args.cell_timeout)
        return 0
    if args.submissions is None or not args.submissions.is_dir():
        parser.error("give the folder of submissions (one sub-folder per student)")
    grades = grade(args.submissions, args.handout, args.out, args.timeout, args.cell_timeout)
    graded = [g for g in grades if g.passed is not None]
    n_passed = sum(bool(g.passed) for g in graded)
    print(f"{n_passed} of {len(graded)} checked exercises passed; see {args.out}/grades.csv")
    open_ones = sorted({(g.chapter, g.exercise, g.message) for g in grades if g.passed is None})
    if open_ones:
        print("Not graded automatically (read these answers yourself):")
        for chapter, exercise, why in open_ones:
            print(f"  {exercise} ({chapter}): {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
