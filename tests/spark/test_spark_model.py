"""course_lib.spark.model (chapter 02b, sections 3 and 4): regParam from λ, Spark's ALS."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib import spark as S
from course_lib.als import fit_als
from course_lib.evaluation import ranking_metrics, top_k_items


def test_spark_reg_param_matches_lambda_on_average(random_plays):
    plays = random_plays(n_users=40, n_items=25, density=0.3, seed=5)
    lam = 0.7
    n_u = np.diff(plays.indptr)
    m_i = np.diff(plays.tocsc().indptr)
    n_u, m_i = n_u[n_u > 0], m_i[m_i > 0]
    for match, counts in (
        ("users", n_u),
        ("items", m_i),
        ("mean", np.concatenate([n_u, m_i])),
    ):
        reg_param = S.spark_reg_param(lam, plays, match=match)
        # Spark's ridge of each active row is reg_param * count; on average it must be λ
        assert np.isclose(np.mean(reg_param * counts), lam)


def test_spark_reg_param_errors(random_plays):
    with pytest.raises(ValueError, match="regularization"):
        S.spark_reg_param(-1.0, random_plays())
    with pytest.raises(ValueError, match="match"):
        S.spark_reg_param(0.1, random_plays(), match="median")
    with pytest.raises(ValueError, match="nothing to fit"):
        S.spark_reg_param(0.1, sp.csr_matrix((3, 3), dtype=np.int32))
    with pytest.raises(TypeError, match="Spark DataFrame"):
        S.spark_reg_param(0.1, "plays.parquet")


@pytest.mark.parametrize(
    ("regularization", "error", "message"),
    [
        ("0.1", TypeError, r"convert it first: regularization=float\('0.1'\)"),
        (True, TypeError, "regularization must be a number"),
        (None, TypeError, "regularization must be a number"),
        (float("nan"), ValueError, "regularization must be a finite number"),
        (float("inf"), ValueError, "regularization must be a finite number"),
    ],
)
def test_spark_reg_param_refuses_strings_bools_and_nan(
    random_plays, regularization, error, message
):
    with pytest.raises(error, match=message):
        S.spark_reg_param(regularization, random_plays())


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"factors": 0}, ValueError, "factors"),
        ({"factors": 4.0}, TypeError, "factors must be an integer"),
        ({"iterations": 0}, ValueError, "iterations"),
        ({"iterations": "5"}, TypeError, "iterations must be an integer"),
        ({"alpha": -1.0}, ValueError, "alpha"),
        ({"alpha": "40"}, TypeError, "alpha must be a number"),
        ({"alpha": float("nan")}, ValueError, "alpha must be a finite number"),
        ({"regularization": "0.1"}, TypeError, "regularization must be a number"),
        ({"regularization": "0.1", "reg_param": 0.01}, TypeError, "regularization"),
        ({"reg_param": float("nan")}, ValueError, "reg_param must be a finite number"),
        ({"reg_param": True}, TypeError, "reg_param must be a number"),
        ({"seed": -1}, ValueError, "seed"),
        ({"num_blocks": 0}, ValueError, "num_blocks"),
        ({"match": "median", "reg_param": 0.01}, ValueError, "match"),
        ({"spark": object()}, TypeError, "SparkSession"),
    ],
)
def test_fit_als_spark_argument_errors_come_before_spark(random_plays, kwargs, error, message):
    # no session is passed, so a check that came too late would start Spark instead of failing
    with pytest.raises(error, match=message):
        S.fit_als_spark(random_plays(), **kwargs)


def test_fit_als_spark_refuses_an_empty_matrix():
    for empty in (sp.csr_matrix((4, 4), dtype=np.int32), sp.csr_matrix((0, 0), dtype=np.int32)):
        with pytest.raises(ValueError, match="nothing to fit"):
            S.fit_als_spark(empty, reg_param=0.1, spark=object())


# --- with Spark ------------------------------------------------------------------------------
def test_factors_are_aligned_with_our_indices(spark, two_communities):
    plays = two_communities()
    # permute users and items so that community membership is not a contiguous id range
    rng = np.random.default_rng(1)
    user_order, item_order = rng.permutation(plays.shape[0]), rng.permutation(plays.shape[1])
    plays = plays[user_order][:, item_order]
    padded = plays.copy()
    padded.resize((43, 26))
    X, Y = S.fit_als_spark(padded, factors=4, alpha=1.0, iterations=10, spark=spark)
    assert X.shape == (43, 4) and Y.shape == (26, 4) and X.dtype == np.float32
    assert not X[40:].any() and not Y[24:].any()  # users and items without plays: zero rows
    community_of_user = user_order >= 20
    community_of_item = item_order >= 12
    top = top_k_items(X[:40] @ Y[:24].T, 5, exclude=plays)
    same = community_of_item[top] == community_of_user[:, None]
    assert same.mean() > 0.9


def test_regularization_reaches_spark(spark, random_plays):
    plays = random_plays(n_users=30, n_items=20, density=0.3, seed=7)
    kwargs = {"factors": 4, "alpha": 1.0, "iterations": 5, "spark": spark}
    X_small, _ = S.fit_als_spark(plays, reg_param=1e-3, **kwargs)
    X_big, _ = S.fit_als_spark(plays, reg_param=1e3, **kwargs)
    assert np.linalg.norm(X_big) < 0.1 * np.linalg.norm(X_small)


def test_spark_ranks_like_fit_als(spark, tiny_split):
    train, test = tiny_split
    X, Y = fit_als(train, factors=8, alpha=1.0, iterations=10, progress=False)
    Xs, Ys = S.fit_als_spark(train, factors=8, alpha=1.0, iterations=10, spark=spark)
    ours = ranking_metrics((X, Y), train, test, k=10)["ndcg"]
    theirs = ranking_metrics((Xs, Ys), train, test, k=10)["ndcg"]
    popular = ranking_metrics(
        lambda users: np.tile(np.asarray(train.sum(axis=0)), (len(users), 1)), train, test, k=10
    )["ndcg"]
    assert theirs == pytest.approx(ours, rel=0.15)
    assert theirs > popular  # Spark's factors carry more than popularity
    # the two top-10 lists share far more items than two random factorisations would
    a = top_k_items(X @ Y.T, 10, exclude=train)
    b = top_k_items(Xs @ Ys.T, 10, exclude=train)
    rng = np.random.default_rng(0)
    c = top_k_items(rng.normal(size=X.shape) @ Y.T, 10, exclude=train)
    overlap = np.mean([len(set(p) & set(q)) for p, q in zip(a, b)])
    chance = np.mean([len(set(p) & set(q)) for p, q in zip(a, c)])
    assert overlap > 3 * chance


def test_a_dataframe_without_the_play_columns_is_refused(spark, random_plays):
    frame = S.plays_to_dataframe(random_plays(), spark).withColumnRenamed("item", "track")
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['item'\]"):
        S.spark_reg_param(0.1, frame)
    with pytest.raises(ValueError, match="dataframe lacks"):
        S.fit_als_spark(random_plays(), dataframe=frame, spark=spark)
