"""Sphinx extension of the course's book: ``[(Hu et al., 2008)](../references.md#key)`` resolves.

The chapters cite with plain markdown links to the references page (``tools/citations.py``), so
that JupyterLab, Colab and the handouts show readable text. In the book, MyST resolves
``page.md#anchor`` only for heading anchors; this extension adds the ids of the bibliography's
entries (``bibtex_cite_id = "{key}"`` in ``book.yml`` makes each id its BibTeX key) to the anchors
of the page that holds the bibliography, so the links resolve, and an unknown key is still a
warning (an error under ``-W``).
"""

from __future__ import annotations

from typing import Any


def add_citation_anchors(app: Any, doctree: Any) -> None:
    """Register the entry ids of the bibliographies on the page just read as link anchors."""
    env = app.env
    domain = env.get_domain("cite")
    slugs = env.metadata[env.docname].setdefault("myst_slugs", {})
    for where, bibliography in domain.bibliographies.items():
        if where.docname != env.docname:
            continue
        for key, node in bibliography.citation_nodes.items():
            for node_id in node["ids"]:
                slugs.setdefault(node_id, (bibliography.line, node_id, key))


def setup(app: Any) -> dict[str, Any]:
    app.setup_extension("sphinxcontrib.bibtex")
    app.connect("doctree-read", add_citation_anchors)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
