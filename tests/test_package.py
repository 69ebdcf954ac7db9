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
    modules = {
        path.stem for path in (ROOT / "course_lib").glob("*.py") if not path.stem.startswith("_")
    }
    assert set(course_lib.__all__) == modules, (
        "course_lib.__all__ must list exactly the public modules; "
        f"missing {sorted(modules - set(course_lib.__all__))}, "
        f"stale {sorted(set(course_lib.__all__) - modules)}"
    )


def test_submodules_load_on_attribute_access():
    assert course_lib.checks.play_share is not None
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
