"""Check the internal links of the built book: every local target exists, and so does its anchor.

Usage: ``python tools/check_links.py _build/html`` (``make linkcheck``). Reads every ``.html`` file,
collects ``href`` and ``src`` attributes that point inside the book (external ``http(s):``,
``mailto:`` and ``data:`` links are skipped: CI has no network), and reports each link whose file
is missing or whose ``#fragment`` is not an ``id`` (or ``<a name>``) of the target page. Also
checks that the book has its landing page and a navigation bar, and that every chapter page has
its Binder and Colab launch buttons. Exit status 1 if anything is
broken.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = ["LAUNCH_HOSTS", "check_book", "check_launch_buttons", "main"]

#: Every chapter page must offer these launch buttons (configured in book.yml).
LAUNCH_HOSTS = ("https://mybinder.org/", "https://colab.research.google.com/")

_SKIPPED_SCHEMES = {"http", "https", "mailto", "data", "javascript", "tel", "ftp"}
# Links written by the theme's JavaScript templates or pointing at a build's own source files.
_SKIPPED_PREFIXES = ("_sources/",)


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[str, int]] = []
        self.has_nav = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        if tag == "a" and values.get("name"):
            self.ids.add(values["name"] or "")
        if tag == "nav" and "bd-docs-nav" in (values.get("class") or ""):
            self.has_nav = True
        for attribute in ("href", "src"):
            target = values.get(attribute)
            if target and not (tag == "link" and values.get("rel") == "canonical"):
                self.links.append((target, self.getpos()[0]))


def _parse(path: Path) -> _PageParser:
    parser = _PageParser()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def check_book(html_dir: Path) -> list[str]:
    """Return one message per problem found in the built book at ``html_dir``."""
    if not (html_dir / "index.html").is_file():
        return [f"{html_dir}/index.html is missing: build the book first (make book)"]
    pages = {
        path: _parse(path)
        for path in sorted(html_dir.rglob("*.html"))
        if "_static" not in path.relative_to(html_dir).parts  # theme templates, not pages
    }
    problems: list[str] = []
    ids: dict[Path, set[str]] = defaultdict(set)
    for path, page in pages.items():
        ids[path.resolve()] = page.ids
    content_pages = [
        path for path in pages if path.name not in ("search.html", "genindex.html", "index.html")
    ]
    if content_pages and not any(pages[path].has_nav for path in content_pages):
        problems.append("no page has the navigation bar (nav.bd-docs-nav)")
    for path, page in pages.items():
        for target, line in page.links:
            parts = urlsplit(target)
            if parts.scheme in _SKIPPED_SCHEMES or parts.netloc or target.startswith("//"):
                continue
            link_path = unquote(parts.path)
            if link_path.startswith(_SKIPPED_PREFIXES):
                continue
            if link_path.startswith("/"):
                problems.append(f"{path}:{line}: absolute link {target!r} breaks when hosted")
                continue
            destination = (path.parent / link_path).resolve() if link_path else path.resolve()
            if destination.is_dir():
                destination = destination / "index.html"
            if not destination.exists():
                problems.append(f"{path}:{line}: {target!r} points to a missing file")
                continue
            fragment = unquote(parts.fragment)
            if fragment and destination.suffix == ".html":
                known = ids.get(destination)
                if known is None:
                    known = _parse(destination).ids
                    ids[destination] = known
                if fragment not in known:
                    problems.append(f"{path}:{line}: {target!r}: no id {fragment!r} in the page")
    return problems


def check_launch_buttons(html_dir: Path) -> list[str]:
    """One message per chapter page of the built book that lacks a Binder or Colab button."""
    problems = []
    chapters = sorted((html_dir / "chapters").glob("*.html"))
    if not chapters:
        return [f"no chapter pages in {html_dir}/chapters"]
    for path in chapters:
        links = [target for target, _ in _parse(path).links]
        for host in LAUNCH_HOSTS:
            if not any(link.startswith(host) for link in links):
                problems.append(f"{path}: no launch button to {host}")
    return problems


def main(argv: list[str]) -> int:
    html_dir = Path(argv[0] if argv else "_build/html")
    problems = check_book(html_dir) + check_launch_buttons(html_dir)
    for problem in problems:
        print(problem)
    n_pages = sum(1 for path in html_dir.rglob("*.html") if "_static" not in path.parts)
    if problems:
        print(f"{len(problems)} broken internal link(s) in {n_pages} pages", file=sys.stderr)
        return 1
    print(f"internal links: all fine in {n_pages} pages")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
