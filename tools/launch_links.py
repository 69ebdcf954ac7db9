"""Sphinx extension of the course's book: point the Colab launch button at a real notebook.

Colab opens ``.ipynb`` files from GitHub, but the chapters are MyST markdown (``.md``), so the
Colab button that sphinx-book-theme builds for a chapter would open a file Colab cannot read. The
handouts (``make handout``) are those chapters as notebooks; an instructor who publishes them on
a branch of the course repository (``course_handout_branch`` in ``book.yml``, see the
Instructors page) gets Colab buttons that open ``notebooks/NN_topic.ipynb`` on that branch.
Pages that are not chapters (solutions, data cards) lose the Colab button: they have no handout.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any


def _colab_links(buttons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for button in buttons:
        if button.get("text") == "Colab":
            found.append(button)
        found.extend(_colab_links(button.get("buttons", [])))
    return found


def point_colab_at_handouts(
    app: Any, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    """Rewrite (or drop) the Colab button of ``pagename`` after the theme has added it."""
    branch = app.config.course_handout_branch
    buttons = context.get("header_buttons", [])
    links = _colab_links(buttons)
    if not links:
        return
    page = PurePosixPath(pagename)
    for group in buttons:
        inner = group.get("buttons")
        if not inner:
            continue
        if page.parts[0] != "chapters" or not branch:
            group["buttons"] = [b for b in inner if b.get("text") != "Colab"]
            continue
        for button in inner:
            if button.get("text") == "Colab":
                prefix = button["url"].split("/blob/")[0]
                button["url"] = f"{prefix}/blob/{branch}/notebooks/{page.name}.ipynb"


def setup(app: Any) -> dict[str, Any]:
    app.add_config_value("course_handout_branch", "handout", "html")
    app.connect("html-page-context", point_colab_at_handouts, priority=510)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
