"""The developer tools: the internal-link checker of the built book."""

from __future__ import annotations

from pathlib import Path

from tools.check_links import check_book

NAV = '<nav class="bd-docs-nav">nav</nav>'


def _site(folder: Path, pages: dict[str, str]) -> Path:
    for name, body in pages.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"<html><body>{body}</body></html>")
    return folder


def test_a_consistent_site_has_no_problems(tmp_path):
    site = _site(
        tmp_path,
        {
            "index.html": '<a href="chapters/one.html">one</a>',
            "chapters/one.html": NAV + '<h2 id="intro">x</h2><a href="#intro">self</a>'
            '<a href="../references.html#hu">ref</a><img src="../_images/a.png">'
            '<a href="https://example.org/missing">external</a>',
            "references.html": NAV + '<div id="hu"></div>',
            "_images/a.png": "",
        },
    )
    assert check_book(site) == []


def test_missing_files_anchors_and_nav_are_reported(tmp_path):
    site = _site(
        tmp_path,
        {
            "index.html": '<a href="chapters/two.html">missing page</a>',
            "chapters/one.html": '<a href="../references.html#nope">bad anchor</a>'
            '<a href="/abs.html">absolute</a>',
            "references.html": '<div id="hu"></div>',
        },
    )
    problems = "\n".join(check_book(site))
    assert "missing file" in problems
    assert "no id 'nope'" in problems
    assert "absolute link" in problems
    assert "navigation bar" in problems


def test_an_unbuilt_book_is_reported(tmp_path):
    assert "make book" in check_book(tmp_path)[0]
