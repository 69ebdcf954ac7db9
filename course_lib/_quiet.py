"""Keep library start-up noise out of the notebooks, in one place.

Imported first by ``course_lib/__init__.py``, so ``import course_lib`` (or any
``from course_lib import ...``) placed *before* ``import tensorflow`` in a chapter's setup cell is
enough. What it does, and nothing more:

* sets ``TF_CPP_MIN_LOG_LEVEL=3`` and ``KERAS_BACKEND=tensorflow`` with ``os.environ.setdefault``
  (a value you exported yourself wins);
* sets the Python loggers ``tensorflow`` and ``absl`` to ``ERROR``;
* hides the C++ messages that TensorFlow writes straight to the process's standard error while
  ``tensorflow`` or ``keras`` is being imported (the oneDNN notice and the absl banner ignore
  ``TF_CPP_MIN_LOG_LEVEL`` in recent TensorFlow). If that import fails, the hidden text is
  written back to standard error so the real error is not lost;
* filters a few narrowly matched, harmless warnings (see ``_WARNING_FILTERS``).

Set the environment variable ``COURSE_LIB_VERBOSE=1`` to switch all of this off while debugging
an installation. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec

__all__ = ["install", "silenced_stderr"]

VERBOSE = os.environ.get("COURSE_LIB_VERBOSE", "").lower() not in ("", "0", "false", "no")

# (action, message regex, category, module regex): one entry per known, harmless message that
# was observed in a chapter's output. Keep each entry narrow and say where it comes from.
_WARNING_FILTERS: tuple[tuple[str, str, type[Warning], str], ...] = (
    # tqdm.auto (imported by implicit and librosa) without ipywidgets: it falls back to a text
    # progress bar, which is what the course wants; the warning says nothing to a student.
    ("ignore", "IProgress not found", Warning, ""),
)

_NOISY_TOP_LEVEL = frozenset({"tensorflow", "keras"})


@contextlib.contextmanager
def silenced_stderr() -> Iterator[None]:
    """Send file descriptor 2 (C-level standard error) to a temporary file for a while.

    On an exception the captured text is written back to standard error before the exception
    propagates, so a failing import still explains itself.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real fd 2 (unusual embeddings)
        yield
        return
    import tempfile  # imported here: keeps ``import course_lib`` fast

    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            capture.seek(0)
            os.write(2, capture.read())
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class _QuietLoader:
    """Delegate to the real loader, executing the module with C-level stderr silenced."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        # The module must see its real loader (packages use __spec__.loader for resources).
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        with silenced_stderr():
            self._loader.exec_module(module)

    def __getattr__(self, name: str) -> object:
        return getattr(self._loader, name)


class _QuietImportFinder:
    """Meta-path finder that wraps the first import of ``tensorflow`` and ``keras``."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        if fullname not in _NOISY_TOP_LEVEL:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _QuietLoader(spec.loader)
                return spec
        return None


def install() -> None:
    """Apply the settings described in the module docstring (idempotent)."""
    if VERBOSE:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)
    for action, message, category, module in _WARNING_FILTERS:
        warnings.filterwarnings(action, message=message, category=category, module=module)
    if not any(isinstance(finder, _QuietImportFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _QuietImportFinder())


install()
