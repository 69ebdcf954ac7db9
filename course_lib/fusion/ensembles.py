"""Ensembles of recommenders: whole recommenders' scores, blended with learned weights.

Taught in chapter 07 (``chapters/07_fusion.md``, section 7, where the notebook writes the same
fit from its equation and checks it against :func:`fit_ensemble_weights`) and chapter 07b: the
"ensemble of recommenders" of Pandora (Nieto 2017; Dorman at Spotify ML Day 2018). Each
recommender's scores are standardised per user and combined with non-negative weights fitted on
held-out plays by the pairwise logistic loss of BPR (Rendle et al. 2009).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize

from course_lib.validation import require_int, require_number, validate_matrix, validate_plays

__all__ = ["ensemble_scores", "fit_ensemble_weights", "standardize_scores"]


def standardize_scores(scores: np.ndarray) -> np.ndarray:
    """Per-user z-scores (each row: zero mean, unit standard deviation; constant rows -> 0).

    Recommenders score on different scales (a dot product, a play count); after this, a weight
    says how much each recommender's ranking counts. Refuses (``ValueError``/``TypeError``)
    scores that are not a non-empty 2-D array of finite numbers.
    """
    s = validate_matrix(scores, "scores", dtype=np.float64)
    mu = s.mean(axis=1, keepdims=True)
    sd = s.std(axis=1, keepdims=True)
    return np.where(sd > 0, (s - mu) / np.where(sd > 0, sd, 1.0), 0.0).astype(np.float32)


def _check_sources(sources: Mapping[str, Any]) -> dict[str, np.ndarray]:
    if not isinstance(sources, Mapping):
        raise TypeError(
            "sources must be a dict name -> scores (n_users, n_items), "
            f"got {type(sources).__name__}"
        )
    if not sources:
        raise ValueError("give at least one recommender's scores")
    out = {
        name: validate_matrix(s, f"sources[{name!r}]", dtype=np.float64)
        for name, s in sources.items()
    }
    if len({s.shape for s in out.values()}) != 1:
        raise ValueError(
            f"all score matrices must be (n_users, n_items) of one shape, got "
            f"{ {n: s.shape for n, s in out.items()} }"
        )
    return out


def fit_ensemble_weights(
    sources: Mapping[str, np.ndarray],
    positives: Any,
    *,
    exclude: Any = None,
    n_pairs: int = 20_000,
    l2: float = 1e-3,
    seed: int = 0,
) -> dict[str, float]:
    """Non-negative weights of an ensemble of recommenders, fitted on validation plays.

    Each source's scores are standardised per user (:func:`standardize_scores`). Pairs
    ``(u, i, j)`` are sampled with ``i`` a validation play of user ``u`` and ``j`` a track ``u``
    neither played in validation nor has in ``exclude``; the weights minimise the pairwise
    logistic loss of BPR (Rendle et al. 2009), ``mean log(1 + exp(-w . (z_ui - z_uj)))
    + l2 ||w||^2``, subject to ``w >= 0`` (L-BFGS-B). They are returned normalised to sum 1
    (the ranking does not depend on their scale).

    Parameters
    ----------
    sources : mapping name -> scores (n_users, n_items)
    positives : sparse (n_users, n_items)
        Validation plays (what the ensemble should rank high).
    exclude : sparse (n_users, n_items), optional
        Items never used as negatives (e.g. the training plays, which are filtered anyway).
    n_pairs : int
        Sampled pairs.
    l2 : float
        Ridge penalty (keeps the problem well posed when sources agree).
    seed : int

    Returns
    -------
    dict name -> weight (non-negative, summing to 1)

    Raises
    ------
    TypeError, ValueError
        No sources, scores of different shapes or holding NaN; plays of another shape, negative
        or NaN, or without any play; ``n_pairs``, ``l2`` or ``seed`` that are not numbers of the
        right kind (a string, a bool) or out of range.
    """
    src = _check_sources(sources)
    n_pairs = require_int(n_pairs, "n_pairs", minimum=1)
    l2 = require_number(l2, "l2", minimum=0.0)
    seed = require_int(seed, "seed", minimum=0)
    names = list(src)
    shape = next(iter(src.values())).shape
    pos = validate_plays(positives, "positives")
    if pos.shape != shape:
        raise ValueError(f"positives has shape {pos.shape}, scores {shape}")
    block = pos.copy()
    if exclude is not None:
        ex = validate_plays(exclude, "exclude")
        if ex.shape != shape:
            raise ValueError(f"exclude has shape {ex.shape}, scores {shape}")
        block = sp.csr_matrix(block + ex)
    rng = np.random.default_rng(seed)
    users_with = np.flatnonzero(np.diff(pos.indptr) > 0)
    if users_with.size == 0:
        raise ValueError("positives holds no plays: nothing to fit the weights on")
    u = rng.choice(users_with, size=n_pairs)
    i = np.array([pos.indices[rng.integers(pos.indptr[x], pos.indptr[x + 1])] for x in u])
    j = rng.integers(0, shape[1], size=n_pairs)
    for _ in range(50):  # resample negatives that are positives or excluded
        bad = np.asarray(block[u, j]).ravel() > 0
        if not bad.any():
            break
        j[bad] = rng.integers(0, shape[1], size=int(bad.sum()))
    keep = np.asarray(block[u, j]).ravel() == 0
    u, i, j = u[keep], i[keep], j[keep]
    z = {n: standardize_scores(s) for n, s in src.items()}
    diff = np.stack([z[n][u, i] - z[n][u, j] for n in names], axis=1).astype(np.float64)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        m = diff @ w
        value = np.mean(np.logaddexp(0.0, -m)) + l2 * w @ w
        grad = -(diff * (1.0 / (1.0 + np.exp(m)))[:, None]).mean(axis=0) + 2 * l2 * w
        return float(value), grad

    res = minimize(
        loss,
        np.full(len(names), 1.0 / len(names)),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, None)] * len(names),
    )
    w = np.maximum(res.x, 0.0)
    if w.sum() <= 0:
        raise ValueError(
            "every weight came out zero: no source ranks validation plays above "
            "random tracks; check that positives and sources are aligned"
        )
    return {n: float(v) for n, v in zip(names, w / w.sum())}


def ensemble_scores(sources: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> np.ndarray:
    """``sum_m w_m * standardize_scores(S_m)``: the ensemble's scores (n_users, n_items).

    A source without a weight counts with weight 0. Refuses sources that
    :func:`fit_ensemble_weights` refuses, weights for unknown sources, weights that are not
    finite non-negative numbers (a string, a bool, NaN, a negative number) and weights that are
    all zero (the ensemble would rank nothing).
    """
    src = _check_sources(sources)
    if not isinstance(weights, Mapping):
        raise TypeError(
            f"weights must be a dict source name -> weight (from fit_ensemble_weights), "
            f"got {type(weights).__name__}"
        )
    missing = set(weights) - set(src)
    if missing:
        raise ValueError(f"weights for unknown sources {sorted(missing)}; have {sorted(src)}")
    checked: dict[str, float] = {}
    for name, w in weights.items():
        checked[name] = require_number(w, f"weights[{name!r}]")
        if checked[name] < 0:
            raise ValueError(f"weight of {name!r} is negative ({w}); ensemble weights are >= 0")
    if not any(checked.values()):
        raise ValueError(
            "every weight is zero: the ensemble would score every track 0; "
            "give at least one source a positive weight (see fit_ensemble_weights)"
        )
    shape = next(iter(src.values())).shape
    out = np.zeros(shape, dtype=np.float32)
    for name, w in checked.items():
        if w > 0:
            out += np.float32(w) * standardize_scores(src[name])
    return out
