"""Convert the course's MyST markdown notebooks to .ipynb for nbval, in one process.

Usage: ``python tools/convert_notebooks.py OUT_DIR SOURCE.md [SOURCE.md ...]``, e.g.
``python tools/convert_notebooks.py _build/notebooks chapters/01_x.md`` writes
``_build/notebooks/chapters/01_x.ipynb``. The folders mirror the sources, so that
``tools/nbval_cache.py`` can map each notebook back to its source.

A source is converted only if the book executes it too, i.e. if myst-nb recognises it as a
notebook (its front matter has the jupytext/kernelspec header). Plain pages such as a data card
whose ```` ```python ```` blocks are examples to read are skipped, as in the book.
"""

from __future__ import annotations

import sys
from pathlib import Path

import jupytext
from myst_nb.core.read import is_myst_markdown_notebook

#: The front matter that makes a page a MyST notebook (the header of every chapter; tests that
#: write small chapters start from it).
MYST_NOTEBOOK_HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out_dir, sources = Path(argv[0]), [Path(arg) for arg in argv[1:]]
    for source in sources:
        if source.is_absolute() or ".." in source.parts:
            print(f"error: give sources relative to the course, got {source}", file=sys.stderr)
            return 2
        text = source.read_text(encoding="utf-8")
        if not is_myst_markdown_notebook(text):
            continue
        notebook = jupytext.reads(text, fmt="md:myst")
        target = out_dir / source.with_suffix(".ipynb")
        target.parent.mkdir(parents=True, exist_ok=True)
        jupytext.write(notebook, target, fmt="ipynb")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
