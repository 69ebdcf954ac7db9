"""Blending predicted factors: non-negative blending weights and the blend itself.

Taught in chapter 07 (``chapters/07_fusion.md``, section 6 "Early fusion, late fusion and
blending", exercises 7.2 and 7.4): separately trained models are combined afterwards with
non-negative weights fitted on the validation tracks (stacked regressions, Breiman 1996). The
chapter keeps the words of Nieto (2017), whose "late fusion" merges one branch per source
inside a network (:mod:`course_lib.fusion.mlp`); combining finished models is blending.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.optimize import nnls

from course_lib.validation import validate_matrix
from course_lib.vectors import unit_rows

__all__ = ["blend", "fit_blend_weights"]


def _stack_predictions(predictions: Sequence[Any] | Mapping[str, Any]) -> list[np.ndarray]:
    if isinstance(predictions, np.ndarray):
        raise TypeError(
            "predictions must be a list (or dict) of arrays, one per model, not one array; "
            "pass [model_a_predictions, model_b_predictions]"
        )
    preds = list(predictions.values()) if isinstance(predictions, Mapping) else list(predictions)
    if not preds:
        raise ValueError("give at least one model's predictions")
    arrays = [validate_matrix(p, f"predictions[{i}]") for i, p in enumerate(preds)]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"all predictions must have the same shape, got {sorted(shapes)}")
    return arrays


def fit_blend_weights(
    predictions: Sequence[np.ndarray] | Mapping[str, np.ndarray], targets: np.ndarray
) -> np.ndarray:
    """Non-negative blending weights for several models' predicted factors.

    Every prediction and target row is first scaled to unit length (only directions matter for
    the cosine distance); then ``w >= 0`` minimises the squared error of the blend,
    ``|| sum_m w_m P_m - Y ||_F^2`` (non-negative least squares, Lawson & Hanson 1974; the
    non-negativity that Breiman 1996 found essential for stacked regressions). Fit it on the
    validation tracks, never on the test tracks.

    Parameters
    ----------
    predictions : sequence (or mapping) of arrays (n_tracks, n_factors)
        Each model's predictions for the same tracks.
    targets : array (n_tracks, n_factors)

    Returns
    -------
    np.ndarray float64 (n_models,)

    Raises
    ------
    TypeError, ValueError
        No predictions, or a single array instead of a list of them; empty or non-finite (NaN)
        predictions or targets; predictions of different shapes, or not one row per target row.
    """
    preds = _stack_predictions(predictions)
    y = validate_matrix(targets, "targets")
    if preds[0].shape != y.shape:
        raise ValueError(
            f"predictions {preds[0].shape} and targets {y.shape} differ in shape; "
            "pass the predictions for exactly the target rows"
        )
    a = np.stack([unit_rows(p, dtype=np.float64).ravel() for p in preds], axis=1)
    w, _ = nnls(a, unit_rows(y, dtype=np.float64).ravel())
    return w


def blend(predictions: Sequence[np.ndarray] | Mapping[str, np.ndarray], weights: Any) -> np.ndarray:
    """``sum_m w_m * P_m / ||P_m row||``: the blended prediction (float32).

    Raises
    ------
    TypeError, ValueError
        Whatever :func:`fit_blend_weights` refuses for ``predictions``; weights that are not one
        finite, non-negative number per model (strings and booleans are refused, not converted),
        or that are all zero.
    """
    preds = _stack_predictions(predictions)
    w = np.asarray(weights)
    if w.dtype == object or w.dtype.kind not in "iuf":
        raise TypeError(
            f"weights must be numbers (one per model), got dtype {w.dtype}; "
            "pass the array returned by fit_blend_weights"
        )
    w = w.astype(np.float64)
    if w.shape != (len(preds),):
        raise ValueError(f"need one weight per model ({len(preds)}), got shape {w.shape}")
    if not np.isfinite(w).all():
        raise ValueError(f"weights must be finite, got {w.tolist()}")
    if np.any(w < 0):
        raise ValueError(
            f"weights must be >= 0, got {w.tolist()}: a negative weight subtracts a model's "
            "errors on the fitting tracks only; fit them with fit_blend_weights (non-negative)"
        )
    if not np.any(w > 0):
        raise ValueError(
            "every weight is zero: the blend would predict no direction at all; "
            "give at least one model a positive weight"
        )
    out = sum(wi * unit_rows(p, dtype=np.float64) for wi, p in zip(w, preds))
    return np.asarray(out, dtype=np.float32)
