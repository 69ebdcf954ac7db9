"""course_lib.spark.scaling (chapter 02b, sections 5 and 6): the scaling study and the estimate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from course_lib import spark as S


def test_subsample_and_tile(random_plays):
    plays = random_plays(n_users=60, n_items=40, density=0.3, seed=2)
    sub = S.subsample_plays(plays, 100, seed=1)
    assert sub.shape == plays.shape and sub.nnz == 100
    assert np.all(plays[sub.nonzero()] == sub[sub.nonzero()])  # a subset of the original
    assert (S.subsample_plays(plays, 100, seed=1) != sub).nnz == 0  # seeded
    with pytest.raises(ValueError, match="tile_plays"):
        S.subsample_plays(plays, plays.nnz + 1)
    tiled = S.tile_plays(plays, 3)
    assert tiled.shape == (180, 120) and tiled.nnz == 3 * plays.nnz
    assert (tiled[60:120, 40:80] != plays).nnz == 0
    assert tiled[:60, 40:].nnz == 0
    with pytest.raises(ValueError, match="copies"):
        S.tile_plays(plays, 0)


def test_subsample_and_tile_refuse_non_integers(random_plays):
    with pytest.raises(TypeError, match="n_plays must be an integer"):
        S.subsample_plays(random_plays(), "100")
    with pytest.raises(TypeError, match="n_plays must be an integer"):
        S.subsample_plays(random_plays(), 100.0)
    with pytest.raises(ValueError, match="seed"):
        S.subsample_plays(random_plays(), 10, seed=-1)
    with pytest.raises(TypeError, match="copies must be an integer"):
        S.tile_plays(random_plays(), True)


def test_cluster_estimate_arithmetic():
    one = S.cluster_estimate(
        1e-6, n_users=1e6, plays_per_user=100, iterations=10, hours=2.0, cores_per_node=4
    )
    assert one.n_plays == 1e8
    assert np.isclose(one.core_hours_per_iteration, 1e-6 * 1e8 / 3600)
    assert np.isclose(one.core_hours_total, 10 * one.core_hours_per_iteration)
    assert np.isclose(one.nodes, one.core_hours_total / (2.0 * 4))
    assert np.isclose(one.shuffle_terabytes_per_iteration, 2 * 1e8 * 40 * 4 / 1e12)
    assert np.isclose(one.memory_terabytes, (2 * 1e8 * 8 + (1e6 + 30e6) * 40 * 4) / 1e12)
    double = S.cluster_estimate(
        1e-6, n_users=2e6, plays_per_user=100, iterations=10, hours=2.0, cores_per_node=4
    )
    assert np.isclose(double.nodes, 2 * one.nodes)
    with pytest.raises(ValueError, match="hours"):
        S.cluster_estimate(1e-6, hours=0)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"core_seconds_per_play": "1e-6"}, TypeError, "core_seconds_per_play must be a number"),
        ({"n_users": True}, TypeError, "n_users must be a number"),
        ({"plays_per_user": float("nan")}, ValueError, "plays_per_user must be a finite"),
        ({"n_items": -5.0}, ValueError, "n_items must be a number > 0"),
        ({"iterations": 2.5}, TypeError, "iterations must be an integer"),
        ({"cores_per_node": 0}, ValueError, "cores_per_node"),
    ],
)
def test_cluster_estimate_refuses_bad_numbers(kwargs, error, message):
    arguments = {"core_seconds_per_play": 1e-6, **kwargs}
    with pytest.raises(error, match=message):
        S.cluster_estimate(**arguments)


def test_marginal_core_seconds_per_play_is_the_slope_times_cores():
    n = np.array([1e5, 2e5, 4e5, 8e5])
    seconds = 0.5 + 3e-6 * n  # a fixed cost plus 3 microseconds per play
    assert S.marginal_core_seconds_per_play(n, seconds, cores=2) == pytest.approx(6e-6)
    noisy = seconds.copy()
    noisy[1] = np.nan  # a failed timing is dropped
    assert S.marginal_core_seconds_per_play(n, noisy, cores=1) == pytest.approx(3e-6)
    with pytest.raises(ValueError, match="two or more"):
        S.marginal_core_seconds_per_play([1e5, 1e5], [1.0, 2.0], cores=1)
    with pytest.raises(ValueError, match="cores"):
        S.marginal_core_seconds_per_play(n, seconds, cores=0)


def test_marginal_core_seconds_per_play_refuses_text_and_bad_shapes():
    with pytest.raises(TypeError, match="n_plays must hold numbers"):
        S.marginal_core_seconds_per_play(["1e5", "2e5"], [1.0, 2.0], cores=1)
    with pytest.raises(TypeError, match="cores must be an integer"):
        S.marginal_core_seconds_per_play([1e5, 2e5], [1.0, 2.0], cores=2.0)
    with pytest.raises(ValueError, match=r"shapes \(3,\) and \(2,\)"):
        S.marginal_core_seconds_per_play([1e5, 2e5, 3e5], [1.0, 2.0], cores=1)


def test_plot_scaling_draws_one_line_per_library():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = [
        {"library": lib, "n_plays": n, "seconds_per_iteration": n * k}
        for lib, k in (("a", 1e-6), ("b", 2e-6))
        for n in (1e5, 2e5, 4e5)
    ]
    fig = S.plot_scaling(results)
    assert len(fig.axes[0].lines) == 2
    assert len(S.plot_scaling(pd.DataFrame(results)).axes[0].lines) == 2
    with pytest.raises(ValueError):
        S.plot_scaling([])
    with pytest.raises(ValueError, match=r"results\[1\] lacks the key\(s\) \['n_plays'\]"):
        S.plot_scaling([results[0], {"library": "a", "seconds_per_iteration": 1.0}])
    plt.close("all")


def test_seconds_per_iteration_rejects_unknown_library(random_plays):
    with pytest.raises(ValueError, match="library"):
        S.seconds_per_iteration("mahout", random_plays())
    with pytest.raises(ValueError, match="library"):
        S.seconds_per_iteration("mahout", "not even plays")  # the library is checked first


def test_seconds_per_iteration_refuses_empty_plays_and_bad_counts(random_plays):
    with pytest.raises(ValueError, match="nothing to time"):
        S.seconds_per_iteration("course_lib", sp.csr_matrix((5, 5), dtype=np.int32))
    with pytest.raises(TypeError, match="factors must be an integer"):
        S.seconds_per_iteration("course_lib", random_plays(), factors="8")
    with pytest.raises(ValueError, match="threads"):
        S.seconds_per_iteration("implicit", random_plays(), threads=-1)
