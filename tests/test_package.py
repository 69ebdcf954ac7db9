"""The course_lib package: a light import, an explicit list of modules, quiet TensorFlow."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import course_lib

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "COURSE_LIB"))}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=300
    )


def test_all_lists_every_public_module():
    package = ROOT / "course_lib"
    modules = {p.stem for p in package.glob("*.py") if not p.stem.startswith("_")}
    modules |= {p.parent.name for p in package.glob("*/__init__.py") if p.parent.name[0] != "_"}
    assert set(course_lib.__all__) == modules, (
        "course_lib.__all__ must list exactly the public modules; "
        f"missing {sorted(modules - set(course_lib.__all__))}, "
        f"stale {sorted(set(course_lib.__all__) - modules)}"
    )


def test_submodules_load_on_attribute_access():
    assert course_lib.checks.check_play_share is not None
    assert "plotting" in dir(course_lib)


def test_import_is_light():
    result = _python(
        "import sys, course_lib\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'librosa', 'numba', 'matplotlib', 'pyspark')"
        " if m in sys.modules]\n"
        "print(heavy)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_tensorflow_import_is_quiet_after_course_lib():
    code = "import course_lib\nimport tensorflow as tf\nprint(int(tf.reduce_sum(tf.ones(3))))"
    quiet = _python(code)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout.strip() == "3"
    assert quiet.stderr.strip() == "", f"TensorFlow start-up noise leaked: {quiet.stderr[:500]}"


def test_verbose_switch_turns_the_silencing_off():
    result = _python(
        "import os, course_lib\nprint(os.environ.get('TF_CPP_MIN_LOG_LEVEL'))",
        COURSE_LIB_VERBOSE="1",
    )
    assert result.stdout.strip() == "None"


def test_a_failing_import_still_shows_its_error():
    from course_lib._quiet import silenced_stderr

    read_end, write_end = os.pipe()
    saved = os.dup(2)
    os.dup2(write_end, 2)
    try:
        try:
            with silenced_stderr():
                os.write(2, b"hidden unless something fails\n")
                raise ImportError("boom")
        except ImportError:
            pass
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(write_end)
    with os.fdopen(read_end) as pipe:
        assert "hidden unless something fails" in pipe.read()


# --- the layout: small files, no import circle, one facade for the checks -------------------
def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _course_lib_sources() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((ROOT / "course_lib").rglob("*.py"))}


def _imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """course_lib modules that ``name`` imports anywhere in its source (top level or not)."""
    import ast

    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # "from course_lib import als" imports the module course_lib.als
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        found.update(t for t in targets if t in known and t != name)
    return found


def test_no_import_cycle_between_course_lib_modules():
    sources = _course_lib_sources()
    known = set(sources)
    graph = {name: _imported_modules(name, path, known) for name, path in sources.items()}
    for package in known:  # importing a submodule runs its package first: ignore that edge
        graph[package] = {m for m in graph[package] if not package.startswith(m + ".")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycle = stack[stack.index(target) :] + [target]
                raise AssertionError("import cycle in course_lib: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)


def test_the_cycle_detector_finds_a_cycle(tmp_path):
    a = tmp_path / "a.py"
    a.write_text("from course_lib.b import x\n")
    b = tmp_path / "b.py"
    b.write_text("def f():\n    from course_lib.a import y\n")
    known = {"course_lib.a", "course_lib.b"}
    assert _imported_modules("course_lib.a", a, known) == {"course_lib.b"}
    assert _imported_modules("course_lib.b", b, known) == {"course_lib.a"}


def test_no_course_lib_file_over_500_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / "course_lib").rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 500
    }
    assert not long, f"split these files along their sections (500 lines at most): {long}"


def test_checks_facade_has_no_imports_inside_functions():
    import ast

    tree = ast.parse((ROOT / "course_lib" / "checks.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            inner = [n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)]
            assert not inner, f"course_lib.checks.{node.name} imports inside a function"


def test_checking_framework_imports_nothing_from_course_lib():
    # but its private helper course_lib._watch, which imports nothing from course_lib itself
    sources = _course_lib_sources()
    assert _imported_modules(
        "course_lib.checking", sources["course_lib.checking"], set(sources)
    ) <= {"course_lib._watch"}
    assert not _imported_modules("course_lib._watch", sources["course_lib._watch"], set(sources))


def test_every_topic_check_is_reachable_through_the_facade():
    import importlib

    from course_lib import checks

    topic_modules = sorted(
        name for name in _course_lib_sources() if name.endswith(".checks") and name.count(".") == 2
    )
    assert topic_modules, "no course_lib/<topic>/checks.py found"
    listed: set[str] = set()
    for module_name in topic_modules:
        module = importlib.import_module(module_name)
        for public in module.__all__:
            assert checks.LOCATIONS.get(public) == module_name, (
                f"{module_name}.{public} is missing from course_lib.checks.LOCATIONS"
            )
            listed.add(public)
    assert listed == set(checks.LOCATIONS), sorted(set(checks.LOCATIONS) - listed)
    for public in checks.LOCATIONS:
        assert getattr(checks, public) is not None
