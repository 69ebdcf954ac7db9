"""Run a chapter's code cells as a plain Python program, for a machine without Jupyter.

A GPU machine may hold Python, PyTorch or JAX, and little else: no Jupyter, no nbval. This runs
a chapter's cells top to bottom in one namespace, as a notebook kernel would, and reports each
cell's wall time and any failure. Cells tagged ``raises-exception`` (the exercise stubs) may
raise; any other exception fails the run (exit status 1). ``display`` is IPython's when IPython is
installed, else ``print``; figures go to matplotlib's ``Agg`` backend; IPython magics (``%``,
``!``) are skipped.

Two steps, so that the machine that runs the cells needs no jupytext:

    python benchmarks/chapter_script.py convert chapters/04_convnet_cold_start.md ch04.json
    KERAS_BACKEND=torch python benchmarks/chapter_script.py run ch04.json [--out log.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def convert(page: Path, out: Path) -> None:
    import jupytext

    notebook = jupytext.read(page)
    cells = [
        {"source": cell.source, "tags": list(cell.metadata.get("tags", []))}
        for cell in notebook.cells
        if cell.cell_type == "code"
    ]
    out.write_text(json.dumps({"page": str(page.relative_to(ROOT)), "cells": cells}, indent=1))
    print(f"{len(cells)} code cells of {page} -> {out}")


def _display() -> Any:
    try:
        from IPython.display import display

        return display
    except ImportError:
        return print


def run(cells_file: Path, out: Path | None) -> int:
    import matplotlib

    matplotlib.use("Agg")
    spec = json.loads(cells_file.read_text())
    page = ROOT / spec["page"]
    os.chdir(page.parent)  # as a notebook: relative paths from the page's folder
    sys.path.insert(0, str(ROOT))
    namespace: dict[str, Any] = {"__name__": "__main__", "display": _display()}
    log, failed = [], 0
    start_all = time.perf_counter()
    for i, cell in enumerate(spec["cells"]):
        lines = [
            line for line in cell["source"].splitlines() if not line.lstrip().startswith(("%", "!"))
        ]
        source = "\n".join(lines)
        expected = "raises-exception" in cell["tags"]
        start = time.perf_counter()
        status = "ok"
        try:
            exec(compile(source, f"<cell {i}>", "exec"), namespace)  # noqa: S102
        except Exception:  # noqa: BLE001  (reported, as a notebook shows it)
            status = "raised (expected)" if expected else "FAILED"
            if not expected:
                failed += 1
                traceback.print_exc()
        seconds = time.perf_counter() - start
        log.append({"cell": i, "status": status, "seconds": seconds, "first_line": lines[:1]})
        print(f"cell {i:3d} {status:<17} {seconds:8.2f} s  {(lines or [''])[0][:60]}", flush=True)
    total = time.perf_counter() - start_all
    n = len(spec["cells"])
    print(f"{n - failed} passed, {failed} failed: {spec['page']} in {total:.0f} s")
    if out is not None:
        out.write_text(json.dumps({"page": spec["page"], "seconds": total, "cells": log}, indent=1))
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("convert", help="chapter .md -> cells .json (needs jupytext)")
    c.add_argument("page", type=Path)
    c.add_argument("out", type=Path)
    r = sub.add_parser("run", help="run the cells of a .json file")
    r.add_argument("cells", type=Path)
    r.add_argument("--out", type=Path, default=None, help="per-cell times (JSON)")
    args = parser.parse_args()
    if args.command == "convert":
        convert(args.page.resolve(), args.out)
    else:
        out = args.out.resolve() if args.out else None
        sys.exit(run(args.cells.resolve(), out))


if __name__ == "__main__":
    main()
