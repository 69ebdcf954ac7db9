"""Alternating least squares for implicit feedback, written by hand.

Taught in chapter 02 (``chapters/02_als.md``); chapters 02b and 04-08 fit their factors with
:func:`fit_als`. Model and notation: Hu, Koren & Volinsky (2008), "Collaborative Filtering for
Implicit Feedback Datasets"; the conjugate-gradient solver: Takács, Pilászy & Tikk (2011),
"Applications of the conjugate gradient method for implicit feedback collaborative filtering".

The objective (Hu et al. 2008, eq. 3), with ``p_ui = 1[plays_ui > 0]`` and
``c_ui = 1 + alpha * plays_ui``::

    L(X, Y) = Σ_{u,i} c_ui (p_ui − x_uᵀ y_i)² + λ (Σ_u ‖x_u‖² + Σ_i ‖y_i‖²)

summed over *all* ``n_users x n_items`` cells. With ``Y`` fixed, each ``x_u`` has the closed
form (eq. 4) ``x_u = (YᵀC_uY + λI)⁻¹ YᵀC_u p_u``; three solvers compute it:

* ``"naive"``: builds the dense ``n_items x n_items`` diagonal ``C_u`` for every user,
  O(n_items f²) per user. For teaching on small data only.
* ``"cholesky"``: ``YᵀC_uY = YᵀY + Yᵀ(C_u − I)Y``; ``YᵀY`` is computed once per half-step and
  the second term only touches the user's played items: O(n_u f² + f³) per user.
* ``"cg"``: a few conjugate-gradient steps on the same system, warm-started from the previous
  factors, never forming the matrix: O(cg_steps (n_u f + f²)) per user. Compiled with numba
  and multithreaded; this is what ``implicit`` runs by default.

Conventions match ``implicit.cpu.als.AlternatingLeastSquares`` (users x items CSR input,
``factors``, ``regularization``, ``iterations``, ``cg_steps=3``, and the initialisation
``rng.random(shape) * 0.01`` from ``np.random.default_rng(seed)``, users first). One
difference is deliberate: ``implicit`` uses the matrix it is given, times ``alpha``, as the
confidence itself (``c_ui = alpha * plays_ui``), whereas we follow the paper
(``c_ui = 1 + alpha * plays_ui``). To give ``implicit`` exactly our model, fit it with
``alpha=1.0`` on ``course_lib.evaluation.confidence(plays, alpha)``.

Users (items) with no plays get zero factors and keep them: their optimum under the
objective is ``x_u = 0``.

One file per job:

* :mod:`~course_lib.als.update`: :func:`user_update`, eq. 4 for one user as written;
* :mod:`~course_lib.als.solvers`: a half-step by each solver, :func:`solve_rows` (fold rows in);
* :mod:`~course_lib.als._kernels`: the numba kernels of the ``"cholesky"`` and ``"cg"`` solvers;
* :mod:`~course_lib.als.objective`: :func:`als_loss`, eq. 3 from the played entries only;
* :mod:`~course_lib.als.fit`: :func:`fit_als`, :class:`ALSHistory`, :class:`ALSIteration`;
* :mod:`~course_lib.als.checks`: the exercise checks of chapter 02 (through
  :mod:`course_lib.checks`).
"""

from __future__ import annotations

from course_lib.als.fit import ALSHistory, ALSIteration, fit_als, initial_factors
from course_lib.als.objective import als_loss
from course_lib.als.solvers import SOLVERS, solve_rows
from course_lib.als.update import user_update

__all__ = [
    "SOLVERS",
    "ALSHistory",
    "ALSIteration",
    "als_loss",
    "fit_als",
    "initial_factors",
    "solve_rows",
    "user_update",
]
