"""List code lines longer than a limit in the chapters' and solutions' code cells.

Usage: python tools/long_lines.py [--limit 88] FILE.md ...  (exit status 1 if any is found)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def long_code_lines(path: Path, limit: int = 88) -> list[tuple[int, str]]:
    """(line number, line) of every line inside a ```{code-cell} block longer than ``limit``."""
    found: list[tuple[int, str]] = []
    in_code = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("```{code-cell}"):
            in_code = True
        elif in_code and line.startswith("```"):
            in_code = False
        elif in_code and len(line) > limit:
            found.append((number, line))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--limit", type=int, default=88)
    args = parser.parse_args(argv)
    total = 0
    for path in args.files:
        for number, line in long_code_lines(path, args.limit):
            print(f"{path}:{number}: {len(line)} > {args.limit}: {line.strip()[:60]}")
            total += 1
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
