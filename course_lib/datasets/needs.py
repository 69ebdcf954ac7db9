"""The ``%%needs`` cell magic: run a cell only where the chapter's data offer what it needs.

Part of :mod:`course_lib.datasets`. A chapter that runs on the music world and on real plays
(``dataset`` in its ``parameters`` cell) has sections that need what real data lack: audio,
expert attributes, new releases. Rather than wrapping every cell of such a section in
``if has_audio:``, the chapter loads the extension once (``%load_ext course_lib.datasets``)
and starts those cells with one line::

    %%needs audio section 5.3, the split by artist,
    by_artist = convnet.split_tracks(...)

    %%needs audio
    predicted_artist = ...

The first word is a feature of :data:`~course_lib.datasets.sources.FEATURES`. The cell runs,
unchanged, where the chapter's data offer it. Where they do not, the cell is skipped; if the
line names what is skipped (the rest of the line, usually a section's first cell), it prints
the one line of :meth:`~course_lib.datasets.ChapterData.provides`, so that a section says once
that it is skipped and its other cells stay quiet. The data are the notebook's variable
``data``, the :class:`~course_lib.datasets.ChapterData` that ``load_chapter_data`` returned.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Mapping
from typing import Any

from .sources import ChapterData

__all__ = ["load_ipython_extension", "run_cell_source", "should_run"]

#: The notebook variable that holds the chapter's data.
DATA_VARIABLE = "data"

_USAGE = "write %%needs FEATURE [what is skipped], e.g. %%needs audio section 3, the convnet,"


def should_run(line: str, namespace: Mapping[str, Any]) -> bool:
    """Whether a ``%%needs`` cell runs: the data in ``namespace["data"]`` offer the feature.

    Parameters
    ----------
    line : str
        The magic's line: a feature, then optionally what is skipped without it (printed once,
        in :meth:`ChapterData.provides`'s words).
    namespace : mapping
        The notebook's variables; ``namespace["data"]`` must be a :class:`ChapterData`.

    Raises
    ------
    ValueError
        An empty line, or a feature that no data set has (the message lists them).
    NameError
        The notebook has no variable ``data`` yet: run the cell that loads the data first.
    TypeError
        ``data`` is something other than a :class:`ChapterData`.
    """
    feature, _, needed_by = line.strip().partition(" ")
    if not feature:
        raise ValueError(f"%%needs names no feature: {_USAGE}")
    if DATA_VARIABLE not in namespace:
        raise NameError(
            f"%%needs reads the chapter's data from the variable {DATA_VARIABLE!r}, which is "
            "not defined yet: run the cell with load_chapter_data(...) first"
        )
    data = namespace[DATA_VARIABLE]
    if not isinstance(data, ChapterData):
        raise TypeError(
            f"%%needs reads the chapter's data from the variable {DATA_VARIABLE!r}, but it "
            f"holds a {type(data).__name__}; set it with data = load_chapter_data(...)"
        )
    needed_by = needed_by.strip()
    if needed_by:
        return data.provides(feature, needed_by)
    return data.offers(feature)


def run_cell_source(ipython: Any, cell: str) -> Any:
    """Run ``cell`` in the notebook's namespace; return its last expression's value, if any.

    The cell runs as if it had no magic line: IPython syntax is transformed, tracebacks show
    the cell's lines, the value of a last expression is returned (so the magic shows it, as
    ``%%time`` does) unless a semicolon ends the cell, and an error propagates, failing the
    cell once, with one traceback.
    """
    source = ipython.transform_cell(cell)
    filename = ipython.compile.cache(source)  # registers the lines for tracebacks
    body = ast.parse(source, filename).body
    last = body.pop() if body and isinstance(body[-1], ast.Expr) else None
    exec(compile(ast.Module(body, type_ignores=[]), filename, "exec"), ipython.user_ns)
    if last is None:
        return None
    value = eval(compile(ast.Expression(last.value), filename, "eval"), ipython.user_ns)
    return None if _ends_with_semicolon(source) else value  # "plot(...);" shows nothing


def _ends_with_semicolon(source: str) -> bool:
    """Whether the last token of ``source``, comments aside, is ``;`` (IPython's "quiet")."""
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.ENDMARKER}
    skip |= {tokenize.INDENT, tokenize.DEDENT}
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    last = [token.string for token in tokens if token.type not in skip][-1:]
    return last == [";"]


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%%needs`` (``%load_ext course_lib.datasets`` calls this)."""

    def needs(line: str, cell: str) -> Any:
        if should_run(line, ipython.user_ns):
            return run_cell_source(ipython, cell)
        return None

    needs.__doc__ = __doc__
    ipython.register_magic_function(needs, magic_kind="cell", magic_name="needs")
