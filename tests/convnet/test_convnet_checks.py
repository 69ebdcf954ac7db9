"""Tests of course_lib.convnet.checks: the exercise checks of chapter 04."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from course_lib import checks
from course_lib.convnet.checks import (
    check_cosine_distance_loss,
    check_global_temporal_pooling,
    check_time_only,
    cosine_distance_loss,
    global_temporal_pooling,
)


def test_the_facade_finds_the_chapter_04_checks() -> None:
    assert checks.check_time_only is check_time_only
    assert set(checks.TIME_ONLY_CHOICES) == {"a", "b", "c", "d"}


def test_the_references_agree_with_numpy() -> None:
    x = np.random.default_rng(0).normal(size=(2, 9, 3))
    want = np.concatenate([x.mean(1), x.max(1), np.sqrt((x**2).sum(1))], axis=1)
    np.testing.assert_allclose(global_temporal_pooling(x), want, rtol=1e-5, atol=1e-6)
    y, f = np.eye(2), np.array([[1.0, 1.0], [0.0, -3.0]])
    assert cosine_distance_loss(y, f) == 1 - (np.sqrt(0.5) - 1) / 2


def test_pooling_check_accepts_the_layer_and_rejects_wrong_axes() -> None:
    class Right(keras.layers.Layer):
        def call(self, x):
            return ops.concatenate([ops.mean(x, 1), ops.max(x, 1), ops.sqrt(ops.sum(x * x, 1))], -1)

    class OverChannels(keras.layers.Layer):
        def call(self, x):
            return ops.concatenate([ops.mean(x, 2), ops.max(x, 2), ops.sqrt(ops.sum(x * x, 2))], -1)

    class RootMeanSquare(keras.layers.Layer):
        def call(self, x):
            return ops.concatenate(
                [ops.mean(x, 1), ops.max(x, 1), ops.sqrt(ops.mean(x * x, 1))], -1
            )

    class Stub(keras.layers.Layer):
        def call(self, x):
            raise NotImplementedError

    assert check_global_temporal_pooling(Right).passed
    assert check_global_temporal_pooling(OverChannels).status == "wrong"
    result = check_global_temporal_pooling(RootMeanSquare)
    assert result.status == "wrong" and "L2 norm" in " ".join(result.problems)
    assert check_global_temporal_pooling(Stub).status == "not implemented"


def test_cosine_check_accepts_the_loss_and_names_slips() -> None:
    def right(y, f):
        yn = y / np.linalg.norm(y, axis=1, keepdims=True)
        return float(1 - np.mean(np.sum(yn * f / np.linalg.norm(f, axis=1, keepdims=True), 1)))

    def unnormalised_prediction(y, f):
        yn = y / np.linalg.norm(y, axis=1, keepdims=True)
        return float(1 - np.mean(np.sum(yn * f, 1)))

    def similarity(y, f):
        return 1 - right(y, f)

    def per_row(y, f):
        return 1 - np.sum(y * f, 1) / (np.linalg.norm(y, axis=1) * np.linalg.norm(f, axis=1))

    def stub(y, f):
        raise NotImplementedError

    assert check_cosine_distance_loss(right).passed
    result = check_cosine_distance_loss(unnormalised_prediction)
    assert result.status == "wrong" and "length of the prediction" in " ".join(result.problems)
    assert "similarity" in " ".join(check_cosine_distance_loss(similarity).problems)
    assert "per row" in " ".join(check_cosine_distance_loss(per_row).problems)
    assert check_cosine_distance_loss(stub).status == "not implemented"


def test_time_only_check_rejects_wrong_choices_and_shapes() -> None:
    right = ("b", (596, 125, 256), 4352)
    assert check_time_only(lambda: right).passed
    assert check_time_only(lambda: ("c", *right[1:])).status == "wrong"
    assert "valid" in check_time_only(lambda: ("b", (599, 128, 256), 4352)).problems[0]
    assert "three axes" in check_time_only(lambda: ("b", (596, 256), 4352)).problems[0]
    assert "bias" in check_time_only(lambda: ("b", (596, 125, 256), 4096)).problems[0]
    assert "time-only" in check_time_only(lambda: ("b", (596, 125, 256), 131_328)).problems[0]

    def stub():
        raise NotImplementedError

    assert check_time_only(stub).status == "not implemented"


def test_time_only_check_does_not_explain_the_wrong_letters() -> None:
    """Elimination must not work: every wrong letter gets the same message and hint."""
    verdicts = [check_time_only(lambda x=x: (x, (596, 125, 256), 4352)) for x in "acd"]
    assert all(v.status == "wrong" for v in verdicts)
    assert len({(tuple(v.problems), v.hint) for v in verdicts}) == 1
    text = " ".join(verdicts[0].problems).lower()
    for giveaway in ("transposition", "impossible", "pooling", "opposite"):
        assert giveaway not in text, giveaway


def test_hints_guide_without_solution_code() -> None:
    class Wrong(keras.layers.Layer):
        def call(self, x):
            return ops.concatenate([ops.mean(x, 1), ops.mean(x, 1), ops.mean(x, 1)], -1)

    hints = [
        check_global_temporal_pooling(Wrong).hint,
        check_cosine_distance_loss(lambda y, f: 0.0).hint,
        check_time_only(lambda: ("b", (1, 1, 1), 1)).hint,
    ]
    for hint in hints:
        assert hint and not any(code in hint for code in ("ops.", "np.", "=", "[")), hint
