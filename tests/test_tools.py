"""The developer tools: the internal-link checker of the built book, the long-line finder."""

from __future__ import annotations

from pathlib import Path

from tools.check_links import check_book, check_launch_buttons
from tools.long_lines import long_code_lines

ROOT = Path(__file__).resolve().parents[1]

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


def test_launch_buttons_are_required_on_chapter_pages(tmp_path):
    binder = '<a href="https://mybinder.org/v2/gh/o/r/main?urlpath=x">Binder</a>'
    colab = '<a href="https://colab.research.google.com/github/o/r/blob/h/n.ipynb">Colab</a>'
    site = _site(tmp_path, {"chapters/one.html": binder + colab, "chapters/two.html": binder})
    problems = check_launch_buttons(site)
    assert len(problems) == 1 and "two.html" in problems[0] and "colab" in problems[0]
    assert "no chapter pages" in check_launch_buttons(tmp_path / "empty")[0]


def test_long_code_lines_are_found_only_in_code_cells(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("x" * 120 + "\n```{code-cell} ipython3\nshort = 1\n" + "y" * 89 + "\n```\n")
    assert [number for number, _ in long_code_lines(page)] == [4]


def test_code_lines_of_chapters_and_solutions_fit_the_book_page():
    pages = sorted([*ROOT.glob("chapters/*.md"), *ROOT.glob("solutions/*.md")])
    long = [f"{p.name}:{n}" for p in pages for n, _ in long_code_lines(p, limit=88)]
    assert not long, f"code lines over 88 characters scroll sideways in the book: {long[:10]}"
