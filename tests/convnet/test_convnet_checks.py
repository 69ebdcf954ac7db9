"""Tests of course_lib.convnet.checks: the exercise checks of chapter 04."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

from course_lib import checks
from course_lib.convnet import GlobalTemporalPooling, cosine_distance
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


USES_COURSE = "uses the course's implementation"


def _pool(mean=None, maximum=None, norm=None):
    """A pooling layer class whose three statistics can be swapped for the usual slips."""

    class Pool(keras.layers.Layer):
        def call(self, x):
            return ops.concatenate(
                [
                    (mean or (lambda x: ops.mean(x, 1)))(x),
                    (maximum or (lambda x: ops.max(x, 1)))(x),
                    (norm or (lambda x: ops.sqrt(ops.sum(x * x, 1))))(x),
                ],
                -1,
            )

    return Pool


def test_pooling_check_refuses_the_course_layer() -> None:
    class Subclass(GlobalTemporalPooling):
        def __init__(self):
            super().__init__(epsilon=0.0)

    assert check_global_temporal_pooling(Subclass).status == USES_COURSE
    assert check_global_temporal_pooling(_pool()).passed


class _KeepDims(keras.layers.Layer):
    def call(self, x):
        return ops.concatenate(
            [ops.mean(x, 1, keepdims=True), ops.max(x, 1, keepdims=True)] * 1
            + [ops.sqrt(ops.sum(x * x, 1, keepdims=True))],
            -1,
        )


class _Stacked(keras.layers.Layer):
    def call(self, x):
        return ops.stack([ops.mean(x, 1), ops.max(x, 1), ops.sqrt(ops.sum(x * x, 1))], 1)


@pytest.mark.parametrize(
    "layer, words",
    [
        (_pool(norm=lambda x: ops.sqrt(ops.mean(x * x, 1))), "root mean square"),
        (_pool(norm=lambda x: ops.sum(x * x, 1)), "takes its square root"),
        (_pool(norm=lambda x: ops.sum(ops.abs(x), 1)), "L1 norm"),
        (_pool(mean=lambda x: ops.sum(x, 1)), "sum over time"),
        (_pool(maximum=lambda x: ops.max(ops.abs(x), 1)), "largest absolute value"),
        (_KeepDims, "pool over axis 1"),
        (_Stacked, "concatenate"),
    ],
)
def test_pooling_check_names_the_slip(layer, words) -> None:
    result = check_global_temporal_pooling(layer)
    assert result.status == "wrong"
    assert words in " ".join(result.problems)


def _right_cosine(y, f):
    yn = y / np.linalg.norm(y, axis=1, keepdims=True)
    return float(1 - np.mean(np.sum(yn * f / np.linalg.norm(f, axis=1, keepdims=True), 1)))


def test_cosine_check_refuses_the_course_losses() -> None:
    assert check_cosine_distance_loss(cosine_distance_loss).status == USES_COURSE

    def keras_loss(y, f):
        return float(np.mean(ops.convert_to_numpy(cosine_distance(y, f))))

    assert check_cosine_distance_loss(keras_loss).status == USES_COURSE


def _columns(y, f):
    yn = y / np.linalg.norm(y, axis=0, keepdims=True)
    fn = f / np.linalg.norm(f, axis=0, keepdims=True)
    return float(1 - np.mean(np.sum(yn * fn, 1)))


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda y, f: len(y) * _right_cosine(y, f), "summed the distances"),
        (_columns, "normalised the columns"),
        (
            lambda y, f: 1 - np.mean(np.sum(y * f, 1) / (np.sum(y * y, 1) * np.sum(f * f, 1))),
            "squared lengths",
        ),
    ],
)
def test_cosine_check_names_more_slips(wrong, words) -> None:
    result = check_cosine_distance_loss(wrong)
    assert result.status == "wrong"
    assert words in " ".join(result.problems)


@pytest.mark.parametrize(
    "answer, words",
    [
        (("b", (125, 596, 256), 4352), "swapped"),
        (("b", (595, 124, 256), 4352), "one position short"),
        (("b", (596, 1, 256), 4352), "time-only"),
        (("b", (596, 125, 256), (4 * 4 * 128 + 1) * 256), "input channels"),
        (("b", (596, 125, 256), 17), "one filter"),
    ],
)
def test_time_only_check_names_shape_and_count_slips(answer, words) -> None:
    result = check_time_only(lambda: answer)
    assert result.status == "wrong"
    assert words in " ".join(result.problems)


# ----- exercises 4.4 (inverted dropout) and 4.5 (predicted variances) -----
def _dropout(x, keep, rate):
    return x * keep / (1 - rate)


def _nll(y_true, mean, log_var):
    return np.mean(log_var + (y_true - mean) ** 2 / np.exp(log_var)) / 2


@pytest.mark.parametrize(
    "name, mine, reference",
    [
        ("check_dropout", _dropout, "inverted_dropout"),
        ("check_gaussian_nll", _nll, "gaussian_nll"),
    ],
)
def test_new_checks_accept_answers_and_refuse_the_reference(name, mine, reference, capsys):
    from course_lib.convnet import checks as convnet_checks

    check = getattr(checks, name)
    assert check.__module__ == "course_lib.convnet.checks"
    assert check(mine).passed
    course = getattr(convnet_checks, reference)
    assert check(course).status == "uses the course's implementation"
    assert check(lambda *a: course(*a)).status == "uses the course's implementation"

    def stub(*args):
        raise NotImplementedError("write it")

    assert check(stub).status == "not implemented"
    hint = check(lambda *a: -1.0).hint
    assert not [t for t in ("np.", "()", "[", " = ", "/ (", "exp(") if t in hint], hint


@pytest.mark.parametrize(
    "name, wrong, words",
    [
        ("check_dropout", lambda x, k, r: x * k, "unscaled"),
        ("check_dropout", lambda x, k, r: x * k * (1 - r), "multiplied by 1 - rate"),
        ("check_dropout", lambda x, k, r: x * ~k / (1 - r), "wrong way round"),
        ("check_dropout", lambda x, k, r: x * k / r, "divided by the rate"),
        (
            "check_gaussian_nll",
            lambda y, m, v: np.mean(np.log(v) + (y - m) ** 2 / v) / 2,
            "variance itself",
        ),
        ("check_gaussian_nll", lambda y, m, v: 2 * _nll(y, m, v), "factor 1/2"),
        ("check_gaussian_nll", lambda y, m, v: np.mean((y - m) ** 2 / np.exp(v)) / 2, "log-var"),
        ("check_gaussian_nll", lambda y, m, v: np.mean(v + (y - m) ** 2 * np.exp(v)) / 2, "multi"),
        ("check_gaussian_nll", lambda y, m, v: _nll(y, m, v) * y.shape[-1], "sum over"),
    ],
)
def test_new_checks_name_the_slip(name, wrong, words, capsys):
    assert getattr(checks, name)(wrong).status == "wrong"
    assert words in " ".join(capsys.readouterr().out.split())


def test_the_variance_loss_is_half_the_mse_at_unit_variance():
    from course_lib.convnet.checks import gaussian_nll

    y, m = np.random.default_rng(0).normal(size=(2, 5, 3))
    assert gaussian_nll(y, m, np.zeros((5, 3))) == pytest.approx(np.mean((y - m) ** 2) / 2)
