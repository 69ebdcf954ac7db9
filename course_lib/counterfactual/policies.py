"""Policies as probability matrices, a softmax policy, and a policy's exact value (chapter 08).

Taught in chapter 08 (``chapters/08_beyond_accuracy.md``, "1. The deployed policy, its log and
the truth"): a policy is an ``(n_users, n_items)`` matrix whose row ``u`` is the distribution
``pi(. | u)`` over items; :func:`softmax_policy` makes one from scores, and :func:`policy_value`
gives its exact play rate in the simulator, the truth every estimator is compared with.
"""

from __future__ import annotations

import numpy as np

from course_lib.validation import require_number, validate_matrix

__all__ = ["policy_value", "softmax_policy"]


def _validate_policy(name: str, policy: object, atol: float = 1e-6) -> np.ndarray:
    """``policy`` as a float64 (n_users, n_items) matrix whose rows are distributions.

    Refuses sparse matrices, text, arrays that are not 2-D, empty ones, NaN or infinite values
    (:func:`course_lib.validation.validate_matrix`), negative entries and rows that do not sum to 1.
    """
    p = validate_matrix(policy, name, dtype=np.float64)
    if (p < 0).any():
        raise ValueError(f"{name} must contain non-negative probabilities; found {p.min():.4g}")
    rows = p.sum(axis=1)
    if not np.allclose(rows, 1.0, atol=atol):
        worst = int(np.argmax(np.abs(rows - 1)))
        raise ValueError(
            f"each row of {name} must sum to 1 (a distribution over items); row {worst} sums to "
            f"{rows[worst]:.6f}. Normalise with policy / policy.sum(axis=1, keepdims=True)"
        )
    return p


def _validate_probabilities(
    name: str, probabilities: object, shape: tuple[int, ...] | None = None
) -> np.ndarray:
    """A float64 matrix of probabilities in [0, 1] (of ``shape``, if given), or a clear error."""
    p = validate_matrix(probabilities, name, dtype=np.float64)
    if shape is not None and p.shape != shape:
        raise ValueError(
            f"{name} has shape {p.shape} but the policy has shape {shape}; both must be "
            "(n_users, n_items) of the same world"
        )
    if ((p < 0) | (p > 1)).any():
        raise ValueError(
            f"{name} must hold probabilities in [0, 1]; found values from {p.min():.4g} to "
            f"{p.max():.4g} (scores or counts instead of probabilities?)"
        )
    return p


def softmax_policy(scores: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Stochastic policy ``pi(a | u) = softmax(scores[u] / temperature)``.

    Parameters
    ----------
    scores : array of shape (n_users, n_items)
        Any real scores; ``-inf`` marks an item the policy never shows.
    temperature : float
        > 0. Small values approach the greedy (top-1) policy, large values the uniform one.

    Returns
    -------
    np.ndarray float64 of shape (n_users, n_items), rows summing to 1.

    Raises
    ------
    TypeError
        Scores that are not numbers, a ``temperature`` that is a string or a bool.
    ValueError
        Scores that are not 2-D, empty, NaN or ``+inf``, a row that is ``-inf`` everywhere, or a
        ``temperature`` that is not a finite number > 0.
    """
    temperature = require_number(temperature, "temperature", minimum=0, strict_minimum=True)
    s = np.asarray(scores)
    if s.dtype.kind not in "biuf":
        raise TypeError(f"scores must be numbers, got dtype {s.dtype}")
    s = s.astype(np.float64)
    if s.ndim != 2 or s.size == 0:
        raise ValueError(f"scores must be a non-empty (n_users, n_items) matrix, got {s.shape}")
    if np.isnan(s).any() or np.isposinf(s).any():
        bad = np.flatnonzero((np.isnan(s) | np.isposinf(s)).any(axis=1))
        raise ValueError(
            f"scores contain NaN or +inf (users {bad[:5].tolist()}); repair the model's scores "
            "(-inf is allowed: it marks an item the policy never shows)"
        )
    if np.isneginf(s).all(axis=1).any():
        bad = np.flatnonzero(np.isneginf(s).all(axis=1))
        raise ValueError(f"every score of users {bad[:5].tolist()} is -inf: nothing to show them")
    z = s / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def policy_value(policy: np.ndarray, play_probability: np.ndarray) -> float:
    """Exact value of a policy in the simulator: ``mean_u sum_a pi(a|u) p(u, a)``.

    Users are weighted equally, as when the logs draw users uniformly at random.

    Parameters
    ----------
    policy : array of shape (n_users, n_items), rows summing to 1
    play_probability : array of shape (n_users, n_items)
        True probability of a play when the item is recommended, in [0, 1].

    Returns
    -------
    float

    Raises
    ------
    TypeError, ValueError
        A policy that is not a matrix of distributions (see above), play probabilities outside
        [0, 1] or NaN, or two matrices of different shapes.
    """
    pi = _validate_policy("policy", policy)
    p = _validate_probabilities("play_probability", play_probability, pi.shape)
    return float(np.einsum("ua,ua->u", pi, p).mean())
