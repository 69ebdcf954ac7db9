"""The book without its "Solutions" part, for a term in progress.

Usage: ``python tools/student_book.py OUT_DIR`` (``make book SOLUTIONS=no`` runs it, then builds
``OUT_DIR`` with Jupyter Book into ``OUT_DIR/_build/html``). It writes a copy of the book's
sources into ``OUT_DIR``: the chapters with their links into ``solutions/`` removed (as in the
handouts), the data cards, the references, ``_toc.yml`` without the "Solutions" part, and
``book.yml`` with the execution cache pointed at the full book's cache, so that chapters already
executed by ``make test`` or ``make book`` are not executed again (the code cells are unchanged,
and jupyter-cache keys a notebook on its code).

``OUT_DIR`` is replaced only if it is empty, missing, or an earlier output of this tool (it holds
the marker file ``.deep-music-course-student-book``); any other folder is refused unless
``--force`` is given.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from handout import (  # noqa: E402  (a sibling tool, not a package)
    SOLUTION_REFERENCE,
    prepare_output_folder,
    strip_solution_links,
)

ROOT = Path(__file__).resolve().parents[1]
COPIED = (
    "references.md",
    "references.bib",
    "tools/launch_links.py",
    "tools/citation_anchors.py",
)
#: The file that marks a folder as written by this tool (and so safe to replace).
MARKER = ".deep-music-course-student-book"


#: Parts of the table of contents that the students' book leaves out.
LEFT_OUT = ("Solutions", "For instructors")


def student_toc(toc: dict) -> dict:
    """``toc`` without the "Solutions" (and "For instructors") parts."""
    parts = [part for part in toc.get("parts", []) if part.get("caption") not in LEFT_OUT]
    return {**toc, "parts": parts}


def build(out_dir: Path, cache: Path, force: bool = False) -> None:
    """Write the solution-free book sources into ``out_dir``.

    ``out_dir`` must be missing, empty or an earlier output of this tool, unless ``force``.
    """
    prepare_output_folder(out_dir, MARKER, force, "solution-free book")
    for folder in ("chapters", "datasets"):
        (out_dir / folder).mkdir(parents=True)
        for source in sorted((ROOT / folder).glob("*.md")):
            text = strip_solution_links(source.read_text(encoding="utf-8"))
            if SOLUTION_REFERENCE.search(text):
                raise ValueError(
                    f"{source}: a link into solutions/ survived; write it as "
                    "{ref}`Solution <sol-...>` (the form tools/handout.py removes)"
                )
            (out_dir / folder / source.name).write_text(text, encoding="utf-8")
    for name in COPIED:
        (out_dir / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, out_dir / name)
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    (out_dir / "_toc.yml").write_text(yaml.safe_dump(student_toc(toc), sort_keys=False))
    config = yaml.safe_load((ROOT / "book.yml").read_text(encoding="utf-8"))
    config["title"] = f"{config['title']} (without solutions)"
    config.setdefault("execute", {})["cache"] = str(cache.resolve())
    (out_dir / "book.yml").write_text(yaml.safe_dump(config, sort_keys=False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--cache", type=Path, default=ROOT / "_build" / ".jupyter_cache")
    parser.add_argument(
        "--force", action="store_true", help="replace OUT_DIR even if this tool did not write it"
    )
    args = parser.parse_args(argv)
    try:
        build(args.out_dir, args.cache, force=args.force)
    except ValueError as error:
        print(f"student_book: {error}", file=sys.stderr)
        return 2
    print(f"solution-free book sources in {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
