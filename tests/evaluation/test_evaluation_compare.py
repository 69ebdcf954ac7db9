"""Tests of course_lib.evaluation.compare and per_user_metrics: paired comparisons of models."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.evaluation import (
    PairedComparison,
    compare_models,
    paired_comparison,
    per_user_metrics,
    popularity_scores,
    random_scores,
    ranking_metrics,
    split_plays,
)


def test_per_user_metrics_average_to_ranking_metrics_in_any_batch_size(random_plays):
    plays = random_plays(n_users=90, n_items=70, seed=3)
    train, test = split_plays(plays, seed=0)
    scores = np.random.default_rng(1).normal(size=plays.shape)
    overall = ranking_metrics(scores, train, test, k=5)
    for batch_size in (None, 7):
        per_user = per_user_metrics(scores, train, test, k=5, batch_size=batch_size)
        assert per_user["user"].tolist() == np.flatnonzero(np.diff(test.indptr) > 0).tolist()
        assert per_user["user"].size == overall["n_users_evaluated"]
        for name in ("precision", "recall", "ndcg", "map"):
            assert per_user[name].shape == per_user["user"].shape
            assert per_user[name].mean() == pytest.approx(overall[name])


def test_paired_comparison_by_hand():
    a = np.array([0.5, 0.2, 0.4, 0.1])
    b = np.array([0.3, 0.2, 0.1, 0.2])
    diff = a - b  # 0.2, 0, 0.3, -0.1
    result = paired_comparison(a, b, seed=0)
    assert isinstance(result, PairedComparison)
    assert result.mean_a == pytest.approx(0.3) and result.mean_b == pytest.approx(0.2)
    assert result.difference == pytest.approx(0.1)
    assert result.standard_error == pytest.approx(diff.std(ddof=1) / 2)
    assert result.z == pytest.approx(0.1 / result.standard_error)
    assert result.low <= result.difference <= result.high
    assert result.n == 4 and result.level == 0.95
    assert result.agrees() and not result.beats()  # 1.2 SE: chance explains it
    assert result.beats(n_se=1.0) and not result.agrees(n_se=1.0)
    assert "4 users" in str(result) and "SE" in str(result)


def test_identical_and_exactly_shifted_values():
    same = paired_comparison(np.ones(5), np.ones(5))
    assert same.standard_error == 0 and same.z == 0 and same.agrees() and not same.beats()
    shifted = paired_comparison(np.full(5, 0.3), np.full(5, 0.1))
    assert shifted.z == np.inf and shifted.beats() and not shifted.agrees()


def test_a_few_per_cent_apart_on_few_users_is_agreement_not_a_failure():
    # the false alarm of issue 23: two equally good fits, ~3 % apart on 300 users
    rng = np.random.default_rng(0)
    a = rng.beta(0.3, 2.0, size=300)
    b = a + rng.normal(0.0, 0.08, size=300)  # the same model, other rounding
    result = paired_comparison(a, b)
    assert abs(result.difference / result.mean_b) > 0.01
    assert result.agrees()
    # while a real gap on the same users is not
    assert not paired_comparison(a + 0.05, b).agrees()
    assert paired_comparison(a + 0.05, b).beats()


def test_compare_models_tells_a_better_model_from_chance(random_plays):
    plays = random_plays(n_users=200, n_items=80, density=0.15, seed=2)
    train, test = split_plays(plays, seed=0)
    oracle = test.toarray().astype(float)
    better = compare_models(oracle, random_scores(train, seed=0), train, test, k=5)
    assert better.beats() and better.mean_a == pytest.approx(1.0)
    assert better.mean_b == pytest.approx(
        ranking_metrics(random_scores(train, seed=0), train, test, k=5)["ndcg"]
    )
    chance = compare_models(
        random_scores(train, seed=1), random_scores(train, seed=2), train, test, k=5
    )
    assert chance.agrees() and not chance.beats()
    itself = compare_models(popularity_scores(train), popularity_scores(train), train, test)
    assert itself.difference == 0 and itself.agrees()
    recall = compare_models(oracle, random_scores(train, seed=0), train, test, metric="recall")
    assert recall.beats()


def test_bad_input_is_refused_with_the_fix(random_plays):
    with pytest.raises(ValueError, match="same users"):
        paired_comparison(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="same users"):
        paired_comparison(np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="at least two"):
        paired_comparison([1.0], [0.0])
    with pytest.raises(ValueError, match="NaN"):
        paired_comparison([1.0, np.nan], [0.0, 0.0])
    with pytest.raises(ValueError, match="level"):
        paired_comparison([1.0, 0.5], [0.0, 0.0], level=1.0)
    with pytest.raises(ValueError, match="n_boot"):
        paired_comparison([1.0, 0.5], [0.0, 0.0], n_boot=10)
    with pytest.raises(ValueError, match="n_se"):
        paired_comparison([1.0, 0.5], [0.0, 0.0]).agrees(n_se=-1)
    plays = random_plays(seed=1)
    train, test = split_plays(plays, seed=0)
    with pytest.raises(ValueError, match="metric must be one of"):
        compare_models(
            popularity_scores(train), popularity_scores(train), train, test, metric="coverage"
        )
    with pytest.raises(ValueError, match="shape"):
        per_user_metrics(np.zeros((2, 2)), train, test)
