"""Small random play-count matrices for the unit tests and the exercise checks.

No chapter teaches this module: it feeds the exercise checks of chapters 01 and 02
(:mod:`course_lib.evaluation.checks`) and the fixture ``random_plays`` of ``tests/conftest.py``,
so that every test and check draws its random plays the same way. Chapters use the simulated
music world (:mod:`course_lib.music_world`) instead.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from course_lib.validation import require_int, require_number

__all__ = ["random_plays"]


def random_plays(
    n_users: int = 80,
    n_items: int = 60,
    density: float = 0.15,
    seed: int = 0,
    max_count: int = 8,
) -> sp.csr_matrix:
    """A random users x items matrix of integer play counts, for tests and exercise checks.

    Each entry is played with probability ``density``; a played entry holds a count drawn
    uniformly from ``1..max_count``. The same ``seed`` gives the same matrix.

    Raises
    ------
    TypeError
        ``n_users``, ``n_items``, ``seed`` or ``max_count`` not integers, ``density`` not a
        number.
    ValueError
        Fewer than one user or item, ``density`` outside [0, 1], a negative ``seed`` or
        ``max_count < 1``.
    """
    n_users = require_int(n_users, "n_users", minimum=1)
    n_items = require_int(n_items, "n_items", minimum=1)
    density = require_number(density, "density", minimum=0.0, maximum=1.0)
    seed = require_int(seed, "seed", minimum=0)
    max_count = require_int(max_count, "max_count", minimum=1)
    rng = np.random.default_rng(seed)
    played = rng.random((n_users, n_items)) < density
    counts = rng.integers(1, max_count + 1, (n_users, n_items))
    return sp.csr_matrix((played * counts).astype(np.int32))
