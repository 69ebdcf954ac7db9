"""Tests of course_lib.fusion.buckets (chapter 07): popularity buckets and metrics per bucket."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib import fusion as fu
from course_lib.evaluation import split_plays


def test_popularity_buckets_sizes_and_order(random_plays):
    plays = random_plays()
    labels = fu.popularity_buckets(plays, head=0.2, tail=0.5)
    assert (labels == "head").sum() == 12 and (labels == "tail").sum() == 30
    listeners = np.diff(plays.tocsc().indptr)
    assert listeners[labels == "head"].min() >= listeners[labels == "torso"].max()
    assert listeners[labels == "torso"].min() >= listeners[labels == "tail"].max()


def test_popularity_buckets_on_a_subset_of_items(random_plays):
    plays = random_plays()
    items = np.arange(10, 30)
    labels = fu.popularity_buckets(plays, items=items)
    assert labels.shape == (20,)
    full = fu.popularity_buckets(plays[:, items])
    np.testing.assert_array_equal(labels, full)
    with pytest.raises(ValueError, match="head"):
        fu.popularity_buckets(plays, head=0.7, tail=0.5)
    with pytest.raises(TypeError, match="sparse"):
        fu.popularity_buckets(plays.toarray())


def test_metrics_by_bucket_perfect_scores_and_alignment_errors(random_plays):
    rng = np.random.default_rng(1)
    plays = random_plays(seed=1)
    train, test = split_plays(plays, 0.3, seed=0)
    items = np.arange(plays.shape[1])
    buckets = fu.popularity_buckets(train)
    perfect = test.toarray().astype(float)
    table = fu.metrics_by_bucket(perfect, train, test, items, buckets, k=50)
    assert list(table.index) == ["head", "torso", "tail", "all"]
    np.testing.assert_allclose(table["recall"].astype(float), 1.0)
    random = fu.metrics_by_bucket(rng.random(plays.shape), train, test, items, buckets, k=5)
    assert (random["recall"] < 1).all()
    with pytest.raises(ValueError, match="one bucket label per item"):
        fu.metrics_by_bucket(perfect, train, test, items, buckets[:-1])
    with pytest.raises(ValueError, match="n_users, n_tracks"):
        fu.metrics_by_bucket(perfect[:, :-1], train, test, items, buckets)


# --- issue 17 ----------------------------------------------------------------------------------


def test_bucket_shares_must_be_numbers(random_plays):
    plays = random_plays()
    with pytest.raises(TypeError, match=r"head must be a number.*head=float\('0.2'\)"):
        fu.popularity_buckets(plays, head="0.2")
    with pytest.raises(TypeError, match="tail must be a number"):
        fu.popularity_buckets(plays, tail=True)
    with pytest.raises(ValueError, match="head must be a finite number"):
        fu.popularity_buckets(plays, head=float("nan"))
    with pytest.raises(ValueError, match=r"items is empty.*None for all"):
        fu.popularity_buckets(plays, items=np.array([], dtype=int))


def test_bad_plays_and_scores_are_refused(random_plays):
    plays = random_plays().astype(np.float32)
    negative = plays.copy()
    negative.data[0] = -1.0
    with pytest.raises(ValueError, match=r"plays contains negative values.*clip"):
        fu.popularity_buckets(negative)
    nan_plays = plays.copy()
    nan_plays.data[0] = np.nan
    with pytest.raises(ValueError, match=r"test contains NaN"):
        fu.metrics_by_bucket(
            np.zeros(plays.shape), plays, nan_plays, np.arange(60), np.array(["head"] * 60)
        )
    scores = np.random.default_rng(0).random(plays.shape)
    scores[3, 4] = np.nan
    items, labels = np.arange(60), fu.popularity_buckets(plays)
    with pytest.raises(ValueError, match=r"scores contains NaN.*rows \[3\]"):
        fu.metrics_by_bucket(scores, plays, plays, items, labels)
    with pytest.raises(TypeError, match=r"k must be an integer.*k=1"):
        fu.metrics_by_bucket(np.zeros(plays.shape), plays, plays, items, labels, k=True)
    train, test = split_plays(plays, 0.3, seed=0)  # disjoint halves: only the metric is bad
    with pytest.raises(ValueError, match=r"unknown metrics \['precision@k'\]"):
        fu.metrics_by_bucket(
            np.zeros(plays.shape), train, test, items, labels, metrics=("precision@k",)
        )
    with pytest.raises(ValueError, match="at least one recommender"):
        fu.bucket_table({}, train, test, items, labels)
    assert sp.issparse(plays)  # the inputs were not converted in place


def test_compare_by_bucket_pairs_the_users_and_finds_a_real_gap(random_plays):
    rng = np.random.default_rng(2)
    plays = random_plays(seed=2)
    train, test = split_plays(plays, 0.3, seed=0)
    items = np.arange(plays.shape[1])
    buckets = fu.popularity_buckets(train)
    oracle = test.toarray() + 0.01 * rng.random(plays.shape)  # ranks the held-out plays first
    noise = rng.random(plays.shape)
    out = fu.compare_by_bucket(oracle, noise, train, test, items, buckets, k=5)
    assert list(out.index) == ["head", "torso", "tail", "all"]
    alone = fu.bucket_table({"a": oracle, "b": noise}, train, test, items, buckets, k=5)
    np.testing.assert_allclose(out["a"].astype(float), alone.loc["a", out.index])
    np.testing.assert_allclose(out["difference"], out["a"] - out["b"])
    assert (out["difference"] > 3 * out["standard error"]).all()
    same = fu.compare_by_bucket(noise, noise, train, test, items, buckets, k=5)
    assert (same["difference"] == 0).all() and (same["standard error"] == 0).all()
    with pytest.raises(ValueError, match="one bucket label per item"):
        fu.compare_by_bucket(oracle, noise, train, test, items, buckets[:-1])
