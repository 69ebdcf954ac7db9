"""The chapters' MyST markdown as plain notebook markdown, for the handouts (``tools/handout.py``).

Jupyter without jupyterlab-myst, Colab and VS Code render CommonMark and ``$`` math, nothing
else. This module rewrites what they cannot render:

* citations (``{cite}`` roles, or links to ``references.md#key``) become author-year links to the
  published book's references page (``html.baseurl`` of ``book.yml``);
* ``{ref}``, ``{numref}``, ``{doc}`` and ``{eq}`` roles, and links to other ``.md`` pages, become
  links to the handout notebook (a chapter in the handout) or to the book's page;
* labels ``(name)=`` and MyST comments ``% ...`` disappear;
* admonitions (```` ```{note} ````, ``:::{admonition} Title``) become block quotes with their
  title, a figure becomes an image with its caption, a ``{math}`` block ``$$ ... $$``;
* ``{glue:text}`name``` becomes the name in code font (the cell computing it is beside it);
* a path of the repository in code font (`` `benchmarks/als.py` ``) becomes a link to it;
* what only the repository has is said the handout's way (:func:`handout_wording`): the remark
  that CI may pass smaller values goes, and a ``make run CHAPTER=... PARAMS="a=1 b=x"`` command
  becomes "set ``a = 1`` and ``b = "x"`` in the parameters cell and run the notebook again".

Chapters say what a handout leaves out or words differently with MyST comments, which the book
and JupyterLab do not show:

* ``% handout: omit`` drops the next block (a paragraph, a list or a fenced block);
* ``% handout: omit-section`` drops the rest of the section, up to the next heading of the same
  or a higher level (its code cells too);
* ``% handout: Some text.`` puts "Some text." into the handout only.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import citations

ROOT = Path(__file__).resolve().parents[1]

OMIT = "% handout: omit"
OMIT_SECTION = "% handout: omit-section"
_HANDOUT_TEXT = re.compile(r"^% handout: ?(.*)$")
_COMMENT = re.compile(r"^%")
_LABEL = re.compile(r"^\([A-Za-z0-9_:.-]+\)=\s*$")
_FENCE_OPEN = re.compile(r"^(\s*)(`{3,}|:{3,})\s*(\{([\w:-]+)\})?\s*(.*)$")
_HEADING = re.compile(r"^(#{1,6})\s")
_GLUE = re.compile(r"\{glue(?::\w+)?\}`([^`:]+)(?::[^`]*)?`")
_ROLE = re.compile(r"\{(numref|doc|eq|term|download|abbr|sub|sup)\}`([^`]*)`")
_LINK = re.compile(r"(?<!!)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(([^)\s]+)\)")
_REPO_PATH = re.compile(r"(?<![\[\w])`((?:benchmarks|datasets|course_lib|tools|tests)/[\w./-]*)`")
#: What must not survive in a handout's markdown: roles, labels, directive fences, comments.
MYST_LEFTOVER = re.compile(
    r"\{[a-z][\w:-]*\}`|^\([A-Za-z0-9_:.-]+\)=\s*$|^\s*(`{3,}|:{3,})\s*\{|^%", re.MULTILINE
)
_ADMONITIONS = {
    "note": "Note",
    "tip": "Tip",
    "hint": "Hint",
    "important": "Important",
    "warning": "Warning",
    "caution": "Caution",
    "attention": "Attention",
    "danger": "Danger",
    "error": "Error",
    "seealso": "See also",
    "admonition": "",
}


@dataclass
class Context:
    """What the rewriting needs to know besides the text."""

    source: Path  # the chapter's .md file
    book_url: str  # the published book, ending in "/"
    repository: str  # https://github.com/owner/name
    branch: str
    notebooks: set[str] = field(default_factory=set)  # chapter stems that are in the handout
    bibliography: dict = field(default_factory=citations.load_bibliography)
    labels: dict = field(default_factory=lambda: citations.collect_labels(citations.myst_sources()))


def _link_target(target: str, ctx: Context) -> str:
    """Where a relative link of the chapter points in the handout: notebook, book or repository."""
    if re.match(r"^[a-z][a-z0-9+.-]*:|^#", target):
        return target  # absolute (https:, mailto:) or within the page
    path, _, anchor = target.partition("#")
    resolved = (ctx.source.resolve().parent / path).resolve()
    try:
        relative = resolved.relative_to(ROOT).as_posix()
    except ValueError:
        return target
    if resolved.suffix == ".md":
        if resolved.parent == ROOT / "chapters" and resolved.stem in ctx.notebooks and not anchor:
            return f"{resolved.stem}.ipynb"
        page = relative[: -len(".md")]
        return f"{ctx.book_url}{page}.html" + (f"#{anchor}" if anchor else "")
    kind = "tree" if resolved.is_dir() else "blob"
    return f"{ctx.repository}/{kind}/{ctx.branch}/{relative}"


def _inline(line: str, ctx: Context) -> str:
    line = (
        citations.replace_citations(
            line, ctx.bibliography, "../references.md", where=str(ctx.source)
        )
        if "{cite" in line
        else line
    )
    line = citations.replace_refs(line, ctx.labels, ctx.source) if "{ref}" in line else line
    line = _GLUE.sub(lambda m: f"`{m.group(1)}`", line)

    def role(match: re.Match) -> str:
        name, content = match.groups()
        text, _, target = content.partition("<")
        text, target = text.strip(), target.rstrip(">").strip()
        if name == "eq":
            return f"equation ({content})"
        if name == "doc":
            return f"[{text or target or content}]({(target or content)}.md)"
        if name == "numref" and target in ctx.labels:
            return citations.ref_markdown(text, target, ctx.labels, ctx.source)
        return text or content

    line = _ROLE.sub(role, line)
    line = (
        _REPO_PATH.sub(
            lambda m: (
                f"[`{m.group(1)}`]({m.group(1)})" if (ROOT / m.group(1)).exists() else m.group(0)
            ),
            line,
        )
        if "`" in line
        else line
    )
    line = _LINK.sub(
        lambda m: f"[{m.group(1)}]({_link_target(_repo_relative(m.group(2), ctx), ctx)})", line
    )
    return line


def _repo_relative(target: str, ctx: Context) -> str:
    """A bare repository path (from ``_REPO_PATH``) as a path relative to the chapter."""
    head = target.split("/")[0]
    if head in ("benchmarks", "datasets", "course_lib", "tools", "tests") and not target.startswith(
        "."
    ):
        return os.path.relpath(ROOT / target, ctx.source.resolve().parent)
    return target


def _fence_end(lines: list[str], start: int, marker: str) -> int:
    """Index of the line closing the fence opened at ``start`` with ``marker``."""
    char, width = marker[0], len(marker)
    for index in range(start + 1, len(lines)):
        stripped = lines[index].strip()
        if stripped and set(stripped) == {char} and len(stripped) >= width:
            return index
    return len(lines)


def _directive(name: str, argument: str, body: list[str], ctx: Context) -> list[str]:
    """A MyST directive as plain markdown lines."""
    options, content = {}, list(body)
    while content and re.match(r"^\s*:[\w-]+:", content[0]):
        key, _, value = content.pop(0).strip()[1:].partition(":")
        options[key] = value.strip()
    if content and content[0].strip() == "---":
        end = next((i for i, line in enumerate(content[1:], 1) if line.strip() == "---"), 0)
        content = content[end + 1 :]
    inner = convert_lines(content, ctx)
    if name in ("math",):
        return ["$$", *content, "$$"]
    if name in ("figure", "image"):
        caption = " ".join(line.strip() for line in inner if line.strip())
        alt = options.get("alt", caption)
        image = f"![{alt}]({_link_target(argument.strip(), ctx)})"
        return [image, "", f"*{caption}*"] if caption else [image]
    if name in ("code", "code-block", "sourcecode"):
        return [f"```{argument.strip()}", *content, "```"]
    if name in ("bibliography", "tableofcontents", "toctree"):
        return []
    title = argument.strip() or _ADMONITIONS.get(name, name.replace("-", " ").capitalize())
    quoted = [f"> **{title}**" if title else ">", ">"] if title else []
    quoted += [f"> {line}".rstrip() for line in inner]
    return quoted


def convert_lines(lines: list[str], ctx: Context) -> list[str]:
    """Plain markdown lines for MyST ``lines`` (one markdown cell, or a directive's body)."""
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if stripped == OMIT:
            index += 1
            while index < len(lines) and not lines[index].strip():
                index += 1
            while index < len(lines) and lines[index].strip():
                fence = _FENCE_OPEN.match(lines[index])
                if fence and lines[index].lstrip().startswith(("```", ":::")):
                    index = _fence_end(lines, index, fence.group(2))
                index += 1
            continue
        text = _HANDOUT_TEXT.match(stripped)
        if text:
            out.append(_inline(text.group(1), ctx))
            index += 1
            continue
        if _COMMENT.match(stripped) or _LABEL.match(stripped):
            index += 1
            continue
        fence = _FENCE_OPEN.match(line)
        if fence and stripped.startswith(("```", ":::")):
            end = _fence_end(lines, index, fence.group(2))
            body = lines[index + 1 : end]
            if fence.group(4):
                indent = fence.group(1)
                out.extend(
                    indent + converted
                    for converted in _directive(fence.group(4), fence.group(5), body, ctx)
                )
            else:
                out.extend(lines[index : end + 1])  # a plain code block: unchanged
            index = end + 1
            continue
        if stripped == "$$":
            end = next(
                (i for i in range(index + 1, len(lines)) if lines[i].strip() == "$$"),
                len(lines) - 1,
            )
            out.extend(lines[index : end + 1])  # display math: unchanged
            index = end + 1
            continue
        out.append(_inline(line, ctx))
        index += 1
    return out


_CI_REMARK = re.compile(
    r"\s*\bCI\s+may\s+pass\s+smaller\s+\w+(?:[;,]\s+the\s+defaults\s+are\s+the\s+lesson)?\."
)
_CI_REMARK_OPEN = re.compile(
    r"([;,]?)(\s*)\bCI\s+may\s+pass\s+smaller\s+\w+[;,]\s+the(\s+defaults)"
)
_MAKE_RUN = r'make\s+run\s+CHAPTER=\S+\s*\\?\s*PARAMS="([^"]*)"'
#: ``From a terminal:`` and a bash block of one ``make run`` command.
_MAKE_RUN_BLOCK = re.compile(
    r"(,?\s+or)?,?\s+(?:e\.g\.\s+)?from\s+a\s+terminal(?:\s+with)?:?\s*\n\s*```(?:bash|sh)\s*\n\s*"
    + _MAKE_RUN
    + r"\s*\n\s*```",
    re.IGNORECASE,
)
#: A bash block of one ``make run`` command on its own.
_MAKE_RUN_ALONE = re.compile(r"```(?:bash|sh)\s*\n\s*" + _MAKE_RUN + r"\s*\n\s*```")
#: ``e.g. (from a terminal) with `make run ...` `` in a sentence.
_MAKE_RUN_INLINE = re.compile(
    r"(?:from\s+a\s+terminal\s+)?with\s+`" + _MAKE_RUN + "`", re.IGNORECASE
)
_USE_MAKE_RUN = re.compile(r",?\s+or\s+use\s+`make run`[^.;]*")


def _assignments(params: str) -> str:
    """``a=1 b=x`` as ``a = 1`` and ``b = "x"`` (code font), as the parameters cell writes them."""
    parts = []
    for name, value in re.findall(r"(\w+)=(<[^>]*>|\S+)", params):
        try:
            float(value)
        except ValueError:
            value = value if value in ("None", "True", "False") else f'"{value}"'
        parts.append(f"`{name} = {value}`")
    return " and ".join(parts)


def handout_wording(text: str) -> str:
    """``text`` without what only the repository has: CI remarks, ``make run`` commands."""
    text = _CI_REMARK_OPEN.sub(
        lambda m: m.group(1) + m.group(2) + ("the" if m.group(1) else "The") + m.group(3), text
    )
    text = _CI_REMARK.sub("", text)
    text = _MAKE_RUN_BLOCK.sub(
        lambda m: (
            (
                f"; for example, set {_assignments(m.group(2))} there"
                if m.group(1)
                else f" In this notebook, set {_assignments(m.group(2))} in the parameters cell"
            )
            + " and run the notebook again (Run > Run All Cells)."
        ),
        text,
    )
    text = _MAKE_RUN_ALONE.sub(
        lambda m: (
            f"In this notebook, set {_assignments(m.group(1))} in the parameters cell "
            "and run the notebook again (Run > Run All Cells)."
        ),
        text,
    )
    text = _MAKE_RUN_INLINE.sub(
        lambda m: f"with {_assignments(m.group(1))} in the parameters cell", text
    )
    return _USE_MAKE_RUN.sub("", text)


def convert(text: str, ctx: Context) -> str:
    """Plain notebook markdown for the MyST markdown ``text`` of one cell."""
    lines = convert_lines(handout_wording(text).splitlines(), ctx)
    while lines and not lines[0].strip():
        lines.pop(0)
    result = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    return result


def omit_sections(cells: list) -> list:
    """``cells`` without the parts marked ``% handout: omit-section`` (across cells)."""
    kept, omit_level = [], None
    section_level = 0
    for cell in cells:
        if cell.cell_type != "markdown":
            if omit_level is None:
                kept.append(cell)
            continue
        lines_kept: list[str] = []
        for line in cell.source.splitlines():
            heading = _HEADING.match(line)
            if heading:
                level = len(heading.group(1))
                if omit_level is not None and level <= omit_level:
                    omit_level = None
                    if lines_kept and lines_kept[-1].strip():
                        lines_kept.append("")  # the heading starts a block of its own
                section_level = level
            if omit_level is not None:
                continue
            if line.strip() == OMIT_SECTION:
                omit_level = section_level or 1
                continue
            lines_kept.append(line)
        if any(line.strip() for line in lines_kept):
            cell.source = "\n".join(lines_kept)
            kept.append(cell)
    return kept
