"""pytest plugin: store the notebooks that nbval ran successfully in the book's jupyter-cache.

``make test`` runs every chapter under nbval; ``make book`` builds the book with
``execute_notebooks: cache``. Without this plugin CI would execute every chapter twice. With it,
each notebook whose cells all passed under nbval is written, with the outputs nbval received from
the kernel, into the jupyter-cache that Jupyter Book reads (``_build/.jupyter_cache``), under
the same hash that myst-nb computes for the chapter's ``.md`` source (the code cells, their
metadata and the kernelspec). The book build then finds it and does not run it again; a notebook
that failed, was skipped, or changed since is executed by the book build as usual.

Enable with ``python -m pytest -p tools.nbval_cache --nbval-cache=_build/.jupyter_cache
--nbval-cache-sources=_build/notebooks`` (the Makefile does). The second option is the folder
that mirrors the sources: ``_build/notebooks/chapters/01_x.ipynb`` came from ``chapters/01_x.md``.

nbval executes cells with ``store_history=False``; the one visible consequence, that a trailing
``;`` does not hide a cell's result, is undone here before caching.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

__all__ = ["pytest_addoption", "pytest_configure"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("nbval-cache", "store nbval-executed notebooks in a jupyter-cache")
    group.addoption("--nbval-cache", default=None, help="jupyter-cache folder to write to")
    group.addoption(
        "--nbval-cache-sources",
        default=None,
        help="folder of the converted notebooks; their path below it names the source .md",
    )


class _NotebookCacheWriter:
    def __init__(self, cache_path: Path, notebooks_root: Path) -> None:
        self.cache_path = cache_path
        self.notebooks_root = notebooks_root.resolve()
        self.cells: dict[Any, list[tuple[Any, bool]]] = defaultdict(list)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]):
        report = yield
        parent = item.parent
        if hasattr(item, "test_outputs") and hasattr(parent, "nb"):
            if report.when == "call" or (report.when == "setup" and not report.passed):
                self.cells[parent].append((item, report.passed and report.when == "call"))
        return report

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        from jupyter_cache import get_cache
        from jupyter_cache.base import CacheBundleIn

        cache = None
        for notebook_file, results in self.cells.items():
            code_cells = [cell for cell in notebook_file.nb.cells if cell.cell_type == "code"]
            if len(results) != len(code_cells) or not all(passed for _, passed in results):
                continue
            source = self._source_of(Path(str(notebook_file.path)))
            if source is None:
                continue
            notebook = copy.deepcopy(notebook_file.nb)
            code_index = 0
            for cell in notebook.cells:
                if cell.cell_type != "code":
                    continue
                item = results[code_index][0]
                code_index += 1
                cell.execution_count = code_index
                cell.outputs = copy.deepcopy(item.test_outputs or [])
                if _ends_with_semicolon(cell.source):
                    # nbval runs cells with store_history=False, so IPython cannot see the
                    # trailing ";" that hides a cell's result; drop the result as IPython would.
                    cell.outputs = [o for o in cell.outputs if o.output_type != "execute_result"]
                for output in cell.outputs:
                    if output.get("output_type") == "execute_result":
                        output["execution_count"] = code_index
            if cache is None:
                cache = get_cache(str(self.cache_path))
            cache.cache_notebook_bundle(
                CacheBundleIn(notebook, str(source), data={"executed_by": "nbval"}),
                check_validity=False,
                overwrite=True,
            )

    def _source_of(self, notebook_path: Path) -> Path | None:
        try:
            relative = notebook_path.resolve().relative_to(self.notebooks_root)
        except ValueError:
            return None
        source = Path.cwd() / relative.with_suffix(".md")
        return source.resolve() if source.is_file() else None


def _ends_with_semicolon(source: str) -> bool:
    from IPython.core.displayhook import DisplayHook

    try:
        return bool(DisplayHook.semicolon_at_end_of_expression(source))
    except Exception:  # noqa: BLE001 - untokenizable source: keep the outputs as they are
        return False


def pytest_configure(config: pytest.Config) -> None:
    cache_path = config.getoption("--nbval-cache")
    sources = config.getoption("--nbval-cache-sources")
    if cache_path and sources:
        config.pluginmanager.register(
            _NotebookCacheWriter(Path(cache_path), Path(sources)), "nbval-cache-writer"
        )
