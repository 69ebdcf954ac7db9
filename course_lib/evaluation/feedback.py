"""Preference, confidence and the long tail of a play-count matrix.

Taught in chapter 01 (``chapters/01_implicit_feedback.md``, sections 2, "Preference and
confidence", and 3, "The long tail"); chapter 02 builds its ALS objective on :func:`confidence`.
The model is Hu, Koren & Volinsky (2008), eqs. 1-2 and section 4.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from course_lib.validation import require_choice, require_number, validate_plays

__all__ = ["CONFIDENCE_KINDS", "confidence", "popularity_curve", "preference"]

#: The two confidence formulas of :func:`confidence`.
CONFIDENCE_KINDS = ("linear", "log")


def preference(plays: sp.spmatrix) -> sp.csr_matrix:
    """Binary preference ``p_ui = 1[plays_ui > 0]`` (Hu, Koren & Volinsky 2008, eq. 1).

    Returns a float32 CSR matrix with a 1 wherever the user played the item.

    Raises
    ------
    TypeError, ValueError
        What :func:`course_lib.validation.validate_plays` refuses: not a 2-D matrix of numbers,
        negative, NaN or infinite counts.
    """
    csr = validate_plays(plays)
    out = csr.astype(np.float32)
    out.data[:] = 1.0
    return out


def confidence(
    plays: sp.spmatrix, alpha: float = 40.0, kind: str = "linear", eps: float = 1.0
) -> sp.csr_matrix:
    """Confidence ``c_ui`` in the preference ``p_ui`` (Hu, Koren & Volinsky 2008, section 4).

    * ``kind="linear"``: ``c_ui = 1 + alpha * plays_ui`` (their eq. 2, the Spotify slides'
      "1 + a x plays");
    * ``kind="log"``: ``c_ui = 1 + alpha * log(1 + plays_ui / eps)`` (their eq. 6), which
      stops a handful of tracks on repeat from dominating a user's profile.

    Only played entries are stored: every unplayed entry has ``c_ui = 1`` implicitly.

    Parameters
    ----------
    plays : sparse matrix (n_users, n_items)
        Raw play counts (>= 0).
    alpha : float
        How fast confidence grows with plays. Must be >= 0.
    kind : {"linear", "log"}
        Which of the two formulas to use.
    eps : float
        Scale of the log variant (plays are divided by it). Must be > 0.

    Returns
    -------
    scipy.sparse.csr_matrix of float32, same sparsity pattern as ``plays``.

    Raises
    ------
    TypeError
        ``alpha`` or ``eps`` not a number (a string such as ``"40"``, a bool), or ``plays`` not
        a matrix of numbers.
    ValueError
        ``alpha < 0``, ``eps <= 0``, either NaN or infinite, an unknown ``kind``, or negative,
        NaN or infinite play counts.
    """
    alpha = require_number(alpha, "alpha", minimum=0.0)
    eps = require_number(eps, "eps", minimum=0.0, strict_minimum=True)
    require_choice(kind, "kind", CONFIDENCE_KINDS)
    csr = validate_plays(plays).astype(np.float64)
    if kind == "linear":
        csr.data = 1.0 + alpha * csr.data
    else:
        csr.data = 1.0 + alpha * np.log1p(csr.data / eps)
    return csr.astype(np.float32)


def popularity_curve(plays: sp.spmatrix) -> tuple[np.ndarray, np.ndarray]:
    """Items sorted by popularity, and the cumulative share of plays they account for.

    The "long tail" of Celma (2010); chapter 01 plots it with
    :func:`course_lib.plotting.plot_long_tail`.

    Returns
    -------
    counts : np.ndarray (n_items,)
        Total plays per item, sorted in decreasing order (the "long tail" curve).
    cumulative_share : np.ndarray (n_items,)
        ``cumulative_share[j]`` is the fraction of all plays that go to the ``j + 1`` most
        played items; all zeros when nobody played anything (there is no share to take).

    Raises
    ------
    TypeError, ValueError
        What :func:`course_lib.validation.validate_plays` refuses.
    """
    csr = validate_plays(plays)
    counts = np.asarray(csr.sum(axis=0)).ravel().astype(np.float64)
    counts = np.sort(counts)[::-1]
    total = counts.sum()
    share = np.cumsum(counts) / total if total > 0 else np.zeros_like(counts)
    return counts, share
