"""course_lib.validation and course_lib.vectors: every refusal names the argument and the fix."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib.validation import (
    require_choice,
    require_int,
    require_number,
    validate_index,
    validate_log_mels,
    validate_matrix,
    validate_plays,
)
from course_lib.vectors import unit_rows


@pytest.mark.parametrize(
    ("value", "error", "words"),
    [
        (2.0, TypeError, "factors must be an integer"),
        ("3", TypeError, "factors must be an integer"),
        (True, TypeError, "factors must be an integer"),
        (0, ValueError, "factors must be an integer >= 1"),
    ],
)
def test_require_int_refuses(value, error, words):
    with pytest.raises(error, match=words):
        require_int(value, "factors", minimum=1)


def test_require_int_accepts_numpy_integers():
    assert require_int(np.int64(5), "factors", minimum=1) == 5
    assert type(require_int(np.int32(5), "factors")) is int


@pytest.mark.parametrize(
    ("value", "kwargs", "error", "words"),
    [
        ("0.1", {}, TypeError, r"regularization=float\('0.1'\)"),
        (True, {}, TypeError, "must be a number"),
        (None, {}, TypeError, "must be a number"),
        (float("nan"), {}, ValueError, "finite"),
        (float("inf"), {}, ValueError, "finite"),
        (-0.5, {"minimum": 0}, ValueError, ">= 0"),
        (0.0, {"minimum": 0, "strict_minimum": True}, ValueError, "> 0"),
        (2.0, {"maximum": 1}, ValueError, "<= 1"),
    ],
)
def test_require_number_refuses(value, kwargs, error, words):
    with pytest.raises(error, match=words):
        require_number(value, "regularization", **kwargs)


def test_require_number_returns_a_float():
    assert require_number(np.float32(0.25), "x", minimum=0) == 0.25
    assert require_number(3, "x") == 3.0


def test_require_choice_lists_the_choices():
    assert require_choice("dot", "metric", ("angular", "dot")) == "dot"
    with pytest.raises(ValueError, match="'angular', 'dot'; got 'cosine'"):
        require_choice("cosine", "metric", ("angular", "dot"))


def test_validate_matrix_converts_and_refuses():
    out = validate_matrix(np.arange(6).reshape(2, 3), "items")
    assert out.dtype == np.float32 and out.flags.c_contiguous
    with pytest.raises(TypeError, match=r"toarray\(\)"):
        validate_matrix(sp.eye(3, format="csr"), "items")
    with pytest.raises(ValueError, match="2-D"):
        validate_matrix(np.ones(3), "items")
    with pytest.raises(ValueError, match="empty"):
        validate_matrix(np.ones((0, 3)), "items")
    with pytest.raises(ValueError, match="4 columns but 3"):
        validate_matrix(np.ones((2, 4)), "queries", n_columns=3)
    bad = np.ones((7, 2))
    bad[5, 1] = np.nan
    with pytest.raises(ValueError, match=r"rows \[5\]"):
        validate_matrix(bad, "items")
    with pytest.raises(TypeError, match="real numbers"):
        validate_matrix(np.array([["a", "b"]]), "items")


def test_validate_index_refuses_out_of_range_and_floats():
    assert validate_index([0, 2], 3, "train").tolist() == [0, 2]
    with pytest.raises(ValueError, match="only 3 rows"):
        validate_index([0, 3], 3, "train")
    with pytest.raises(ValueError, match="integer row indices"):
        validate_index([0.0, 1.0], 3, "train")


def test_validate_log_mels_shapes_and_refusals():
    one = np.zeros((50, 16), dtype=np.float64)
    out = validate_log_mels(one, n_mels=16, min_frames=10)
    assert out.shape == (1, 50, 16) and out.dtype == np.float32
    with pytest.raises(ValueError, match="16 mel bands but the model expects 128"):
        validate_log_mels(one, n_mels=128)
    with pytest.raises(ValueError, match="at least 100 are needed"):
        validate_log_mels(one, min_frames=100)
    bad = np.zeros((3, 50, 16))
    bad[2, 4, 4] = np.nan
    with pytest.raises(ValueError, match=r"NaN or infinite values \(spectrograms \[2\]\)"):
        validate_log_mels(bad)
    with pytest.raises(ValueError, match="must have shape"):
        validate_log_mels(np.zeros(5))
    with pytest.raises(ValueError, match="must have shape"):
        validate_log_mels(one, allow_single=False)


def test_validate_plays_canonical_csr_and_refusals():
    dense = np.array([[0, 2], [1, 0]])
    csr = validate_plays(dense)
    assert sp.issparse(csr) and csr.nnz == 2
    with pytest.raises(ValueError, match="negative"):
        validate_plays(sp.csr_matrix(np.array([[0, -1]])))
    with pytest.raises(ValueError, match="NaN"):
        validate_plays(sp.csr_matrix(np.array([[0.0, np.nan]])))
    with pytest.raises(TypeError, match="scipy.sparse"):
        validate_plays([[1, 2]])


def test_unit_rows_keeps_zero_rows_and_direction():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    out = unit_rows(x)
    assert out.dtype == np.float32
    assert np.allclose(out, [[0.6, 0.8], [0.0, 0.0]])
    assert unit_rows(x, dtype=np.float64).dtype == np.float64


def test_as_array_names_a_ragged_list_and_a_librosa_pair() -> None:
    from course_lib.validation import as_array, validate_matrix

    with pytest.raises(
        ValueError, match=r"clips is a ragged list: its 2 items.*\(3,\), \(2,\)\).*; fix"
    ):
        as_array([np.zeros(3), np.zeros(2)], "clips", "fix")
    with pytest.raises(TypeError, match=r"clips looks like the \(y, sr\) pair.*16000.*; fix"):
        as_array((np.zeros(100), 16000), "clips", "fix")
    np.testing.assert_array_equal(as_array([[1, 2], [3, 4]], "m", "fix"), [[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="factors is a ragged list.*rows of equal length"):
        validate_matrix([[0.1, 0.2], [0.3]], "factors")
