"""Tests of course_lib.fusion.distances (chapter 07, sections 5 and 6)."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import fusion as fu


def test_cosine_distances_values():
    y = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    p = np.array([[3.0, 0.0], [0.0, -1.0], [0.0, 0.0]])
    np.testing.assert_allclose(fu.cosine_distances(p, y), [0.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="same shape"):
        fu.cosine_distances(p[:2], y)


def test_distance_by_group_table():
    rng = np.random.default_rng(2)
    y = rng.normal(size=(30, 5))
    preds = {"perfect": 2 * y, "noise": rng.normal(size=y.shape)}
    mask = np.arange(30) % 2 == 0
    t = fu.distance_by_group(preds, y, np.arange(10, 30), {"even": mask})
    assert t.loc["perfect", "all"] == pytest.approx(0.0, abs=1e-9)
    assert t.loc["noise", "even"] > 0.5
    assert t.loc["n tracks", "even"] == 10
    with pytest.raises(ValueError, match="boolean mask"):
        fu.distance_by_group(preds, y, np.arange(5), {"bad": mask[:5]})


def test_paired_difference_finds_a_consistent_improvement_and_rejects_bad_input():
    rng = np.random.default_rng(0)
    b = rng.uniform(0.2, 0.6, size=400)
    a = b - 0.05 + rng.normal(0, 0.01, size=400)  # a is better on (almost) every track
    out = fu.paired_difference(a, b, seed=1)
    assert out["mean"] == pytest.approx(np.mean(a - b))
    assert out["low"] < out["mean"] < out["high"] < 0
    assert out["share_a_better"] > 0.99 and out["n"] == 400
    assert out["se"] == pytest.approx(np.std(a - b, ddof=1) / 20)  # sqrt(400) tracks
    assert out["mean"] < -10 * out["se"]  # a gain of 0.05 against a per-track noise of 0.01
    assert fu.paired_difference(a, b, seed=1) == out  # seeded: the same interval again
    same = fu.paired_difference(b, b)
    assert same["mean"] == 0 and same["low"] == 0 and same["high"] == 0 and same["se"] == 0
    noise = fu.paired_difference(b + rng.normal(0, 0.05, 400), b, seed=2)
    assert noise["low"] < 0 < noise["high"]  # no real difference: the interval covers 0
    with pytest.raises(ValueError, match="equal length"):
        fu.paired_difference(a, b[:-1])
    with pytest.raises(ValueError, match="NaN"):
        fu.paired_difference(np.r_[a[:-1], np.nan], b)


def test_plot_distance_by_bucket_draws_one_bar_per_model_and_group():
    import matplotlib

    matplotlib.use("Agg")
    rng = np.random.default_rng(3)
    y = rng.normal(size=(20, 4))
    table = fu.distance_by_group(
        {"a": y + rng.normal(size=y.shape), "b": rng.normal(size=y.shape)},
        y,
        np.arange(20),
        {"even": np.arange(20) % 2 == 0},
    )
    fig = fu.plot_distance_by_bucket(table)
    assert len(fig.axes[0].patches) == 2 * 2  # two models x ("all", "even"); "n tracks" ignored
    with pytest.raises(ValueError, match="no model rows"):
        fu.plot_distance_by_bucket(table.loc[["n tracks"]])


# --- issue 17 ----------------------------------------------------------------------------------


def test_nan_and_empty_predictions_are_refused():
    y = np.ones((4, 3))
    p = np.ones((4, 3))
    p[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"predicted contains NaN.*rows \[1\].*drop or repair"):
        fu.cosine_distances(p, y)
    with pytest.raises(ValueError, match=r"targets is empty"):
        fu.cosine_distances(np.ones((4, 3)), np.zeros((4, 0)))
    with pytest.raises(ValueError, match=r"predictions\['a'\] contains NaN"):
        fu.distance_by_group({"a": p}, y, np.arange(4))
    with pytest.raises(ValueError, match="at least one model's predictions"):
        fu.distance_by_group({}, y, np.arange(4))


def test_a_group_of_indices_is_refused_not_reinterpreted():
    y = np.random.default_rng(0).normal(size=(4, 3))
    indices = np.array([0, 2, 1, 3])  # one entry per track, but indices, not a mask
    with pytest.raises(ValueError, match=r"boolean mask.*got int64.*np\.isin"):
        fu.distance_by_group({"a": y}, y, np.arange(4), {"wrong": indices})


def test_paired_difference_refuses_bool_and_string_settings():
    a, b = np.linspace(0, 1, 10), np.linspace(0.1, 1.1, 10)
    with pytest.raises(TypeError, match=r"n_boot must be an integer.*n_boot=100"):
        fu.paired_difference(a, b, n_boot=True)
    with pytest.raises(ValueError, match="n_boot must be an integer >= 100"):
        fu.paired_difference(a, b, n_boot=10)
    with pytest.raises(TypeError, match=r"level must be a number.*level=float\('0.9'\)"):
        fu.paired_difference(a, b, level="0.9")
    with pytest.raises(ValueError, match=r"level must be in \(0, 1\)"):
        fu.paired_difference(a, b, level=1.0)
    with pytest.raises(TypeError, match="seed must be an integer"):
        fu.paired_difference(a, b, seed=1.5)
