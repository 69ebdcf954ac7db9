"""Tests of course_lib.fusion.blending (chapter 07, section 7): late fusion of factors."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import fusion as fu


def test_fit_blend_weights_is_nonnegative_least_squares_on_unit_rows(unit):
    rng = np.random.default_rng(3)
    y = rng.normal(size=(80, 6))
    good = y + 0.5 * rng.normal(size=y.shape)
    echo = (good - y) + 0.2 * rng.normal(size=y.shape)  # least squares wants it negative
    loud = 50 * (y + rng.normal(size=y.shape))
    w = fu.fit_blend_weights({"good": good, "echo": echo, "loud": loud}, y)
    assert np.all(w >= 0) and w[1] == pytest.approx(0.0, abs=1e-12)
    a = np.stack([unit(p).ravel() for p in (good, echo, loud)], axis=1)
    unconstrained = np.linalg.lstsq(a, unit(y).ravel(), rcond=None)[0]
    assert unconstrained[1] < 0  # the case really tests the constraint
    grad = a.T @ (a @ w - unit(y).ravel())  # optimality (KKT) of min ||a w - y||, w >= 0:
    np.testing.assert_allclose(grad[w > 0], 0.0, atol=1e-4)  # zero slope where w > 0
    assert np.all(grad[w == 0] >= -1e-4)  # and no gain from raising a zero weight
    blended = fu.blend([good, echo, loud], w)
    assert fu.cosine_distances(blended, y).mean() <= fu.cosine_distances(good, y).mean()


def test_blend_errors():
    a = np.ones((4, 3))
    with pytest.raises(ValueError, match="same shape"):
        fu.fit_blend_weights([a, np.ones((5, 3))], a)
    with pytest.raises(ValueError, match="exactly the target rows"):
        fu.fit_blend_weights([a, a], np.ones((3, 3)))
    with pytest.raises(ValueError, match="one weight per model"):
        fu.blend([a, a], [1.0])


# --- issue 17 ----------------------------------------------------------------------------------


def test_bad_blend_weights_are_refused():
    rng = np.random.default_rng(0)
    preds = [rng.normal(size=(5, 3)), rng.normal(size=(5, 3))]
    with pytest.raises(ValueError, match=r"weights must be >= 0.*fit_blend_weights"):
        fu.blend(preds, [0.5, -0.1])
    with pytest.raises(ValueError, match="weights must be finite"):
        fu.blend(preds, [0.5, np.nan])
    with pytest.raises(ValueError, match=r"every weight is zero.*positive weight"):
        fu.blend(preds, [0.0, 0.0])
    with pytest.raises(TypeError, match=r"weights must be numbers.*fit_blend_weights"):
        fu.blend(preds, ["0.5", "0.5"])  # would have been converted silently
    with pytest.raises(TypeError, match="weights must be numbers"):
        fu.blend(preds, [True, False])
    np.testing.assert_allclose(fu.blend(preds, [2, 0]), fu.blend(preds, [1.0, 0.0]) * 2)


def test_bad_predictions_for_blending_are_refused():
    rng = np.random.default_rng(1)
    y = rng.normal(size=(6, 3))
    nan = y.copy()
    nan[5, 0] = np.nan
    with pytest.raises(ValueError, match=r"predictions\[1\] contains NaN.*rows \[5\]"):
        fu.fit_blend_weights([y, nan], y)
    with pytest.raises(ValueError, match="targets contains NaN"):
        fu.fit_blend_weights([y, y], nan)
    with pytest.raises(ValueError, match="at least one model's predictions"):
        fu.fit_blend_weights([], y)
    with pytest.raises(TypeError, match=r"list \(or dict\) of arrays.*\[model_a_predictions"):
        fu.fit_blend_weights(y, y)  # one array instead of a list of them
    with pytest.raises(ValueError, match=r"predictions\[0\] is empty"):
        fu.blend([np.zeros((0, 3))], [1.0])
