"""Run one chapter with other parameters, with papermill: what ``make run`` calls.

Usage::

    python tools/run_chapter.py CHAPTER [name=value ...] [--out DIR] [--timeout SECONDS] [--quiet]
    make run CHAPTER=02_als PARAMS="dataset=lastfm_hetrec2011 data_path=~/data/hetrec2011-lastfm-2k"

``CHAPTER`` is a chapter's name (``02_als``, or a unique start of one such as ``02b``) or the
path of any notebook page of the course (``chapters/02_als.md``, ``solutions/...``). Each
``name=value`` overrides one variable of the chapter's ``parameters`` cell: the value is read as
a Python literal when it is one (``3``, ``0.5``, ``None``, ``True``, ``[8, 16]``, ``"text"``;
a tuple becomes a list) and as text otherwise (``lastfm_hetrec2011``). A parameter whose name
ends in ``_path`` is a path: ``~`` is expanded and a relative path is taken from the folder you
run the command in; an empty one (``data_path=`` with an unset shell variable) is refused, not
read as the current folder. A name that is not in the ``parameters`` cell is refused (a typo would
otherwise run the defaults).

The page is converted with jupytext and executed with papermill (Jupyter's tool for
parameterised notebooks) in its own folder, with a progress bar; what its cells print is shown
as it runs (``--quiet`` hides it). The executed notebook is written to
``DIR/<chapter>.ipynb`` (default ``_build/runs``), cell by cell, so a failed run can be opened
to see where it stopped. Exit status: 0 when every cell ran, 1 when a cell failed (cells tagged
``raises-exception`` show an error on purpose and do not count), 2 for a bad command line.
"""

from __future__ import annotations

import argparse
import ast
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def find_page(name: str) -> Path:
    """The notebook page that ``name`` designates (see the module docstring)."""
    given = Path(name).expanduser()
    for candidate in (given, ROOT / given):
        if candidate.suffix == ".md" and candidate.is_file():
            return candidate.resolve()
    stem = given.name.removesuffix(".md")
    pages = sorted((ROOT / "chapters").glob("*.md"))
    exact = [p for p in pages if p.stem == stem]
    if exact:
        return exact[0]
    matches = [p for p in pages if p.stem.startswith(stem)]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(p.stem for p in pages)
    if matches:
        options = ", ".join(p.stem for p in matches)
        raise SystemExit(f"error: CHAPTER={name} matches several chapters: {options}")
    raise SystemExit(f"error: no chapter {name!r}; the chapters are: {known}")


def parameter_names(notebook) -> list[str]:
    """Names assigned in the cell tagged ``parameters`` (empty if there is none)."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            names = []
            for node in ast.parse(cell.source).body:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    elements = target.elts if isinstance(target, ast.Tuple) else [target]
                    names += [t.id for t in elements if isinstance(t, ast.Name)]
            return names
    return []


def parse_parameters(pairs: list[str], known: list[str]) -> dict[str, object]:
    """``name=value`` words -> {name: value} (see the module docstring)."""
    parameters: dict[str, object] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise SystemExit(f"error: {pair!r} is not name=value (e.g. dataset=lastfm_hetrec2011)")
        if name not in known:
            raise SystemExit(
                f"error: {name!r} is not a parameter of this chapter; its parameters cell has: "
                f"{', '.join(known) or 'nothing'}"
            )
        try:
            value: object = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text
        if isinstance(value, tuple):  # papermill writes lists, not tuples, into the notebook
            value = list(value)
        if name.endswith("_path") and isinstance(value, str):
            if not value.strip():  # Path("") is the folder the command runs in
                raise SystemExit(
                    f"error: {name}= is empty (an unset shell variable?), which would mean the "
                    f"current folder: give a path ({name}=~/data/...), or {name}=None for the "
                    "chapter's default"
                )
            value = str(Path(value).expanduser().resolve())
        parameters[name] = value
    return parameters


def unexpected_errors(notebook) -> list[tuple[int, str]]:
    """(cell index, "Name: message") of errors in cells not tagged ``raises-exception``."""
    found = []
    for index, cell in enumerate(notebook.cells):
        if "raises-exception" in cell.get("metadata", {}).get("tags", []):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append((index, f"{output.get('ename')}: {output.get('evalue')}"))
        if cell.get("metadata", {}).get("papermill", {}).get("exception") and not any(
            i == index for i, _ in found
        ):
            found.append((index, "the cell raised an exception"))
    return found


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description="Run one chapter with other parameters (papermill).",
        epilog="Example: run_chapter.py 02_als dataset=lastfm_hetrec2011 data_path=~/hetrec",
    )
    parser.add_argument("chapter")
    parser.add_argument("params", nargs="*", help="name=value overrides of the parameters cell")
    parser.add_argument("--out", default=str(ROOT / "_build" / "runs"))
    parser.add_argument("--timeout", type=int, default=1200, help="seconds per cell")
    parser.add_argument("--quiet", action="store_true", help="do not show what cells print")
    args = parser.parse_args(argv)

    import jupytext
    import papermill
    import papermill.execute

    page = find_page(args.chapter)
    notebook = jupytext.read(page, fmt="md:myst")
    parameters = parse_parameters(args.params, parameter_names(notebook))
    out_dir = Path(args.out).expanduser().resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir / f"{page.stem}.ipynb"
    shown = " ".join(f"{k}={v!r}" for k, v in parameters.items()) or "the defaults"
    print(
        f"Running {page.relative_to(ROOT) if page.is_relative_to(ROOT) else page} with "
        f"{shown} -> {output}",
        flush=True,
    )

    # papermill reports the first error output of any cell, even of a cell whose error is the
    # point (tagged raises-exception, as nbval and nbclient allow): report only the others.
    papermill.execute.raise_for_execution_errors = _raise_unexpected
    logging.getLogger("papermill").setLevel(logging.ERROR)  # its guesses at parameter types
    shown_out = None if args.quiet else _AboveTheBar(sys.stdout)
    shown_err = None if args.quiet else _AboveTheBar(sys.stderr)
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            notebook,
            str(output),
            parameters=parameters,
            cwd=str(page.parent),
            progress_bar=True,
            execution_timeout=args.timeout,
            stdout_file=shown_out,
            stderr_file=shown_err,
        )
    except papermill.PapermillExecutionError as error:
        print(
            f"\nFAILED: cell {error.cell_index} (execution count {error.exec_count}) raised "
            f"{error.ename}: {error.evalue}\nThe notebook, run up to that cell: {output}",
            file=sys.stderr,
        )
        return 1
    print(f"Done in {time.perf_counter() - start:.0f} s: {output}")
    return 0


class _AboveTheBar:
    """A stream for what the cells print: on a terminal, each write first clears the line of
    the progress bar (which redraws itself below)."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.clear = "\r\033[K" if sys.stderr.isatty() and stream.isatty() else ""

    def write(self, text: str) -> None:
        self.stream.write(self.clear + text)

    def flush(self) -> None:
        self.stream.flush()


def _raise_unexpected(nb, output_path) -> None:
    """papermill's end-of-run check, ignoring cells tagged ``raises-exception``."""
    import papermill

    errors = unexpected_errors(nb)
    if errors:
        index, message = errors[0]
        cell = nb.cells[index]
        name, _, value = message.partition(": ")
        raise papermill.PapermillExecutionError(
            cell_index=index,
            exec_count=cell.get("execution_count"),
            source=cell.source,
            ename=name,
            evalue=value,
            traceback=[],
        )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
