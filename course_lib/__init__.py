"""course_lib: the tested helpers of "Deep Music Recommendation, the course".

One package per topic (``als``, ``audio``, ``convnet`` ...), each file in it one job, each
docstring naming the chapter that teaches it; a few shared modules (``checking``, the exercise-check
framework; ``checks``, the one facade the chapters call; ``validation``; ``cache``; ``plotting``;
``vectors``). Import what you need explicitly, so that it is always clear where a helper comes
from::

    from course_lib import als, checks
    from course_lib.music_world import make_music_world

Importing the package is cheap: it loads no TensorFlow, keras or librosa. Its only side effect
is :mod:`course_lib._quiet`, which keeps TensorFlow's start-up messages and known harmless
warnings out of the notebooks (set ``COURSE_LIB_VERBOSE=1`` to see everything). Put
``import course_lib`` (or any ``from course_lib ...``) before ``import tensorflow`` in a
chapter's setup cell.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from course_lib import _quiet  # noqa: F401  (first: silences TensorFlow before anyone imports it)

__version__ = "0.1.0"

#: The public submodules, loaded on first attribute access (``course_lib.als``).
__all__ = [
    "als",
    "ann",
    "audio",
    "bandits",
    "cache",
    "checking",
    "checks",
    "convnet",
    "counterfactual",
    "datasets",
    "evaluation",
    "feedback_loop",
    "fusion",
    "inspection",
    "music_world",
    "plotting",
    "spark",
    "validation",
    "vectors",
]


def __getattr__(name: str) -> ModuleType:
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
