"""Targets and losses of the cold-start convnet: unit-norm factors, MSE, cosine distance.

Taught in chapter 04 (section 1: why the targets are normalised; section 4.1: the students write
the MSE loss and compare it with :func:`unit_mse`; section 5: the two losses, with exercise 4.2
on the cosine distance); chapter 07 trains its fusion networks with the same
:func:`cosine_distance`.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from course_lib.validation import validate_matrix

__all__ = [
    "LOSSES",
    "cosine_distance",
    "factor_metrics",
    "mean_baseline_metrics",
    "normalize_factors",
    "unit_mse",
]


def normalize_factors(factors: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Scale each row to unit L2 norm (rows of zeros stay zero).

    Dieleman (2014, sec. 5.2): the factor vectors "are first normalized so they have a unit norm
    ... to reduce the influence of song popularity (the norms of latent factor vectors tend to be
    correlated with song popularity)".

    Refuses arrays that are not ``(n_items, n_factors)`` and NaN or infinite factors.
    """
    arr = np.asarray(factors)
    if arr.ndim != 2:
        raise ValueError(f"normalize_factors expects (n_items, n_factors), got shape {arr.shape}")
    factors = validate_matrix(arr, "factors", allow_empty=True)
    norms = np.linalg.norm(factors, axis=1, keepdims=True)
    return np.where(norms > eps, factors / np.maximum(norms, eps), 0.0).astype(np.float32)


def _l2n(x: Any) -> Any:
    return x / ops.sqrt(ops.sum(ops.square(x), axis=-1, keepdims=True) + 1e-12)


@keras.saving.register_keras_serializable(package="course_lib")
def unit_mse(y_true: Any, y_pred: Any) -> Any:
    """Mean squared error against unit-norm targets (Dieleman 2014, sec. 5.2).

    ``mean_k (y_pred[k] - y_true[k] / ||y_true||)^2`` per example; the target is normalised inside
    (a no-op when it already has unit norm), the prediction is not.
    """
    y_true = ops.cast(y_true, "float32")
    y_pred = ops.cast(y_pred, "float32")
    return ops.mean(ops.square(y_pred - _l2n(y_true)), axis=-1)


@keras.saving.register_keras_serializable(package="course_lib")
def cosine_distance(y_true: Any, y_pred: Any) -> Any:
    """Cosine distance ``1 - y_true . y_pred / (||y_true|| ||y_pred||)`` per example.

    The loss of Nieto (2017, "Approximating item factors ... loss function: cosine distance"):
    only the direction of the prediction matters, its length is free.
    """
    y_true = ops.cast(y_true, "float32")
    y_pred = ops.cast(y_pred, "float32")
    return 1.0 - ops.sum(_l2n(y_true) * _l2n(y_pred), axis=-1)


#: Loss names accepted by :func:`~course_lib.convnet.training.train_factor_model`.
LOSSES = {"mse": unit_mse, "cosine": cosine_distance}


def factor_metrics(predicted: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """Both losses, in numpy, averaged over items: ``{"mse": ..., "cosine_distance": ...}``.

    The targets are normalised to unit length first (:func:`normalize_factors`), as in training.
    Refuses arrays of different shapes, empty arrays and NaN or infinite values.
    """
    p = validate_matrix(predicted, "predicted", dtype=np.float64)
    t = normalize_factors(targets).astype(np.float64)
    if p.shape != t.shape:
        raise ValueError(f"predicted {p.shape} and targets {t.shape} must have the same shape")
    pn = p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-12)
    return {
        "mse": float(np.mean((p - t) ** 2)),
        "cosine_distance": float(np.mean(1.0 - np.sum(pn * t, axis=1))),
    }


def mean_baseline_metrics(train_targets: np.ndarray, eval_targets: np.ndarray) -> dict[str, float]:
    """Losses of the predict-the-mean baseline: every track gets the mean unit-norm training target.

    A network that cannot beat this has learned nothing from the audio. Refuses an empty
    ``train_targets`` (there is no mean) and the inputs :func:`factor_metrics` refuses.
    """
    train = validate_matrix(train_targets, "train_targets")
    mean = normalize_factors(train).mean(axis=0, keepdims=True)
    return factor_metrics(np.repeat(mean, len(eval_targets), axis=0), eval_targets)
