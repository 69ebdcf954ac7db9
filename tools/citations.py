"""Citations and cross-references as plain markdown links, readable outside the book.

JupyterLab (with jupyterlab-myst), Colab and a handout notebook cannot resolve the book's
bibliography keys or its labels in other files: ``{cite}`hu2008collaborative``` shows up as a key,
``{ref}`welcome``` as a label. The chapters therefore write both as ordinary links, which every
reader renders and which the book still resolves (``tools/citation_anchors.py`` makes
``references.md#<key>`` a valid target):

* a citation: ``[(Hu et al., 2008)](../references.md#hu2008collaborative)``, or
  ``[Hu et al. (2008)](../references.md#hu2008collaborative)`` where the authors are part of the
  sentence; a "References" section lists the entries with their titles;
* a cross-reference: ``[02 · ALS by hand](02_als.md)`` or ``[Solution](../solutions/x.md#slug)``
  (a heading slug, as ``myst_heading_anchors`` makes them).

Usage: ``python tools/citations.py FILE.md [FILE.md ...]`` rewrites the ``{cite}``,
``{cite:p}``, ``{cite:t}`` and ``{ref}`` roles of those files in place (a chapter author writes
``{cite}`key``` and runs this once). ``tools/handout.py`` uses the same functions.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from docutils.nodes import make_id
from pybtex.database import parse_file
from pybtex.richtext import Text

ROOT = Path(__file__).resolve().parents[1]
BIBLIOGRAPHY = ROOT / "references.bib"
REFERENCES_PAGE = ROOT / "references.md"
MYST_SOURCES = ("chapters", "solutions", "datasets")

CITE_ROLE = re.compile(r"\{cite(?::(p|t|ps|ts|author|year))?\}`([^`]+)`")
REF_ROLE = re.compile(r"\{ref\}`([^`<]*?)\s*(?:<([^>]+)>)?`")
LABEL_LINE = re.compile(r"^\(([A-Za-z0-9_:.-]+)\)=\s*$", re.MULTILINE)
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*$", re.MULTILINE)
_CITE_ONLY_LINE = re.compile(r"^[\s,;.]*$")


@dataclass(frozen=True)
class Entry:
    """What a reader needs of one bibliography entry."""

    key: str
    authors: list[str]  # last names, LaTeX decoded
    year: str
    title: str

    def short_authors(self) -> str:
        if len(self.authors) == 1:
            return self.authors[0]
        if len(self.authors) == 2:
            return f"{self.authors[0]} and {self.authors[1]}"
        return f"{self.authors[0]} et al."

    def all_authors(self) -> str:
        if len(self.authors) <= 2:
            return self.short_authors()
        if len(self.authors) > 4:
            return f"{', '.join(self.authors[:3])} et al."
        return ", ".join(self.authors[:-1]) + f" and {self.authors[-1]}"


def _plain(latex: str) -> str:
    return Text.from_latex(latex).render_as("text").strip()


def load_bibliography(path: Path = BIBLIOGRAPHY) -> dict[str, Entry]:
    """The entries of ``path`` (BibTeX) by key."""
    data = parse_file(str(path), bib_format="bibtex")
    entries = {}
    for key, entry in data.entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        authors = [_plain(" ".join(p.prelast_names + p.last_names)) for p in people]
        year = entry.fields.get("year", "n.d.")
        entries[key] = Entry(key, authors or ["Anonymous"], year, _plain(entry.fields["title"]))
    return entries


def _entry(bibliography: dict[str, Entry], key: str, where: str) -> Entry:
    if key not in bibliography:
        raise ValueError(
            f"{where}: citation key {key!r} is not in references.bib; add its BibTeX entry there "
            "or fix the key"
        )
    return bibliography[key]


def citation_markdown(
    role: str | None, keys: str, bibliography: dict[str, Entry], target: str, where: str = ""
) -> str:
    """The markdown link(s) for ``{cite:<role>}`keys```, pointing at ``target#key``."""
    entries = [_entry(bibliography, k.strip(), where) for k in keys.split(",") if k.strip()]
    if role in ("t", "ts"):
        return ", ".join(f"[{e.short_authors()} ({e.year})]({target}#{e.key})" for e in entries)
    if role == "author":
        return ", ".join(f"[{e.short_authors()}]({target}#{e.key})" for e in entries)
    if role == "year":
        return ", ".join(f"[{e.year}]({target}#{e.key})" for e in entries)
    if len(entries) == 1:
        e = entries[0]
        return f"[({e.short_authors()}, {e.year})]({target}#{e.key})"
    inner = "; ".join(f"[{e.short_authors()}, {e.year}]({target}#{e.key})" for e in entries)
    return f"({inner})"


def reference_list(keys: list[str], bibliography: dict[str, Entry], target: str) -> str:
    """A "References" section's list: one line per entry, authors, year and title."""
    lines = []
    for key in keys:
        e = _entry(bibliography, key, "References section")
        lines.append(f"- [{e.all_authors()} ({e.year})]({target}#{e.key}): {e.title}.")
    return "\n".join(lines)


def _references_target(path: Path) -> str:
    return Path(os.path.relpath(REFERENCES_PAGE, path.resolve().parent)).as_posix()


def _replace_reference_sections(text: str, bibliography: dict[str, Entry], target: str) -> str:
    """Paragraphs under "## References" made only of citations become a list with titles."""

    def paragraph(block: str) -> str:
        if not CITE_ROLE.search(block) or not _CITE_ONLY_LINE.match(CITE_ROLE.sub("", block)):
            return block
        keys = [k.strip() for m in CITE_ROLE.finditer(block) for k in m.group(2).split(",")]
        return reference_list(keys, bibliography, target)

    match = re.search(r"^## References\s*$", text, re.MULTILINE)
    if not match:
        return text
    end = re.search(r"^#{1,2} ", text[match.end() :], re.MULTILINE)
    stop = match.end() + end.start() if end else len(text)
    blocks = re.split(r"(\n\s*\n)", text[match.end() : stop])
    return text[: match.end()] + "".join(paragraph(b) for b in blocks) + text[stop:]


def replace_citations(text: str, bibliography: dict[str, Entry], target: str, where="") -> str:
    """``text`` with every ``{cite...}`` role replaced by links to ``target`` (references page)."""
    text = _replace_reference_sections(text, bibliography, target)
    return CITE_ROLE.sub(
        lambda m: citation_markdown(m.group(1), m.group(2), bibliography, target, where), text
    )


@dataclass(frozen=True)
class Label:
    """Where a MyST label ``(name)=`` points: a file, and a heading in it (or its title)."""

    path: Path
    title: str  # the heading's text
    slug: str  # "" for the page title (link to the page itself)


def collect_labels(paths: list[Path]) -> dict[str, Label]:
    """Every ``(label)=`` of ``paths`` that stands before a heading."""
    labels = {}
    for path in paths:
        text = path.read_text(encoding="utf-8")
        for match in LABEL_LINE.finditer(text):
            heading = HEADING.search(text, match.end())
            if not heading or text[match.end() : heading.start()].strip():
                continue  # a label on something else than a heading: not linked by a chapter
            level, title = len(heading.group(1)), heading.group(2)
            labels[match.group(1)] = Label(
                path.resolve(), title, "" if level == 1 else make_id(title)
            )
    return labels


def ref_markdown(text: str, name: str, labels: dict[str, Label], source: Path) -> str:
    """A markdown link for ``{ref}`text <name>``` (or ``{ref}`name```) written in ``source``."""
    if name not in labels:
        raise ValueError(
            f"{source}: {{ref}} to unknown label {name!r}; label the heading with "
            f"({name})= or fix the name"
        )
    label = labels[name]
    relative = Path(os.path.relpath(label.path, source.resolve().parent)).as_posix()
    anchor = f"#{label.slug}" if label.slug else ""
    if label.path == source.resolve():
        relative = ""
        anchor = anchor or "#"
    return f"[{text or label.title}]({relative}{anchor})"


def replace_refs(text: str, labels: dict[str, Label], source: Path) -> str:
    """``text`` with every ``{ref}`` role replaced by a markdown link."""
    return REF_ROLE.sub(
        lambda m: ref_markdown(
            m.group(1).strip() if m.group(2) else "",
            m.group(2) or m.group(1).strip(),
            labels,
            source,
        ),
        text,
    )


def myst_sources() -> list[Path]:
    return sorted(p for folder in MYST_SOURCES for p in (ROOT / folder).glob("*.md"))


def main(argv: list[str] | None = None) -> int:
    paths = [Path(p) for p in (sys.argv[1:] if argv is None else argv)]
    if not paths:
        print(__doc__)
        return 2
    bibliography = load_bibliography()
    labels = collect_labels(sorted(set(myst_sources()) | {p.resolve() for p in paths}))
    changed = 0
    for path in paths:
        text = path.read_text(encoding="utf-8")
        new = replace_citations(text, bibliography, _references_target(path), str(path))
        new = replace_refs(new, labels, path)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed += 1
            print(f"rewrote {path}")
    print(f"{changed} of {len(paths)} files changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
