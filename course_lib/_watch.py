"""Watching a student's function while an exercise check runs it (private to the framework).

:func:`course_lib.checking.run_check` asks two questions of every call of a student's function,
and answers them here, once for every exercise of the course:

* **Did it run the course's own implementation?** :func:`watch_calls` records whether the code
  of any of the given callables started running while the student's function ran, whatever the
  path: the function itself handed in, an alias (``play_share = checks.play_share``), a module
  attribute, a closure, a default argument, a subclass calling ``super()``. Nothing is replaced
  or blocked, so the reference still runs normally when the check computes its expected values.
  A profile function (:func:`sys.setprofile`) is installed for the duration of the call only.
* **Was a NotImplementedError the stub's own?** :func:`raised_in_library` tells an error raised
  by the student's own code (the stub's ``raise NotImplementedError``) from one raised inside
  numpy, scipy, the standard library or ``course_lib`` (scipy refuses ``1 + sparse_matrix`` with
  a ``NotImplementedError``), and names the library module.
"""

from __future__ import annotations

import functools
import inspect
import os
import site
import sys
import sysconfig
import types
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = [
    "code_objects",
    "is_library_file",
    "qualified_name",
    "raised_in_library",
    "watch_calls",
]


def qualified_name(item: Any) -> str:
    """``module.qualname`` of a function or class, as a verdict names it."""
    module = getattr(item, "__module__", None) or "?"
    name = getattr(item, "__qualname__", None) or getattr(item, "__name__", None) or repr(item)
    return f"{module}.{name}"


def _functions_of(item: Any) -> list[Any]:
    """The Python functions whose code counts as ``item``'s: the function itself, what it wraps,
    every function defined in a class body, a method's function, a partial's function."""
    if isinstance(item, functools.partial):
        return _functions_of(item.func)
    if inspect.ismethod(item):
        return _functions_of(item.__func__)
    if inspect.isclass(item):
        found = []
        for value in vars(item).values():
            if isinstance(value, staticmethod | classmethod):
                value = value.__func__
            if isinstance(value, property):
                found += [f for f in (value.fget, value.fset, value.fdel) if f is not None]
            elif inspect.isfunction(value):
                found.append(value)
        return found
    if inspect.isfunction(item):
        found = [item]
        wrapped = getattr(item, "__wrapped__", None)
        if wrapped is not None and wrapped is not item:
            found += _functions_of(wrapped)
        return found
    wrapped = getattr(item, "__wrapped__", None)  # e.g. functools.lru_cache
    if wrapped is not None:
        return _functions_of(wrapped)
    call = type(item).__call__ if callable(item) else None  # an instance with __call__
    return [call] if inspect.isfunction(call) else []


def code_objects(items: Iterable[Any]) -> dict[types.CodeType, str]:
    """Code object -> the qualified name of the course callable it belongs to."""
    codes: dict[types.CodeType, str] = {}
    for item in items:
        if item is None:
            continue
        for function in _functions_of(item):
            codes.setdefault(function.__code__, qualified_name(item))
    return codes


@contextmanager
def watch_calls(codes: Mapping[types.CodeType, str]) -> Iterator[list[str]]:
    """Within the block, record (in the yielded list, in order, once each) the names of the
    callables of ``codes`` whose code started running in this thread.

    Code objects are matched by equality, not identity, so a copy of the course's module loaded
    afresh (as ``tools/grade.py`` does) still recognises the functions of the first copy. Where
    a profiler is already running (``sys.getprofile()``), nothing is watched rather than switch
    it off.
    """
    entered: list[str] = []

    def profile(frame: types.FrameType, event: str, _: Any) -> None:
        if event == "call":
            name = codes.get(frame.f_code)
            if name is not None and name not in entered:
                entered.append(name)

    if not codes or sys.getprofile() is not None:
        yield entered
        return
    sys.setprofile(profile)
    try:
        yield entered
    finally:
        sys.setprofile(None)


@functools.cache
def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    roots |= set(getattr(site, "getsitepackages", list)())
    roots.add(site.getusersitepackages() if hasattr(site, "getusersitepackages") else "")
    roots.add(str(Path(__file__).resolve().parent))  # course_lib itself
    return tuple(str(Path(root).resolve()) + os.sep for root in roots if root)


def raised_in_library(error: BaseException) -> str | None:
    """The module that raised ``error`` when that is library code (numpy, scipy, the standard
    library, ``course_lib``), else ``None``: the student's own code raised it."""
    traceback = error.__traceback__
    if traceback is None:
        return None
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    frame = traceback.tb_frame
    filename = frame.f_code.co_filename
    if is_library_file(filename):
        return str(frame.f_globals.get("__name__") or Path(filename).stem)
    return None


def is_library_file(filename: str) -> bool:
    """True for a file of the standard library, an installed package or ``course_lib``; False
    for a notebook cell's file, a test, a script, or code compiled from a string."""
    if filename.startswith("<"):
        return filename.startswith("<frozen")
    return str(Path(filename).resolve()).startswith(_library_roots())
