"""Spark MLlib's implicit-feedback ALS on a CSR matrix, and its regularisation (chapter 02b).

Taught in chapter 02b (``chapters/02b_als_at_scale.md``): "3. Two objectives, one model" maps our
constant ``λ`` to Spark's ``regParam`` (:func:`spark_reg_param`, exercise 2b.2); "4. The same
recommendations?" fits with :func:`fit_als_spark` and compares the rankings with
:func:`course_lib.als.fit_als`.

The regularisation differs
--------------------------
Our :func:`~course_lib.als.fit_als`, ``implicit`` and Hu, Koren & Volinsky (2008, eq. 3) minimise

    Σ_{u,i} c_ui (p_ui − x_uᵀy_i)² + λ (Σ_u ‖x_u‖² + Σ_i ‖y_i‖²)

with one constant ``λ``. Spark MLlib weights each row's penalty by its number of ratings
("weighted-λ regularisation" of ALS-WR, Zhou et al. 2008, section 3.1): user ``u`` with ``n_u``
played items and item ``i`` with ``m_i`` listeners get

    Σ_{u,i} c_ui (p_ui − x_uᵀy_i)² + regParam (Σ_u n_u ‖x_u‖² + Σ_i m_i ‖y_i‖²),

so the ridge added to user ``u``'s normal equations is ``regParam * n_u`` instead of ``λ``. No
single ``regParam`` reproduces a constant ``λ`` for every row; :func:`spark_reg_param` matches
it on average. The confidence is the same in both: ``c_ui = 1 + alpha * plays_ui`` (Spark uses
``|rating|``, so negative ratings would act as confident zeros; play counts are never negative).
Spark solves each row's system exactly (Cholesky), ours by three conjugate-gradient steps, and
the two start from different random factors: equal settings give equally good, not equal,
factors.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from course_lib.spark.rows import (
    ITEM_COL,
    PLAYS_COL,
    USER_COL,
    factors_to_numpy,
    plays_to_dataframe,
)
from course_lib.spark.session import CHECKPOINT_INTERVAL, _ensure_checkpoint_dir, get_spark
from course_lib.validation import require_choice, require_int, require_number, validate_plays

if TYPE_CHECKING:  # pragma: no cover - imported for type hints only
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["fit_als_spark", "spark_reg_param"]

#: How :func:`spark_reg_param` can match our ``λ``.
MATCHES = ("mean", "users", "items")


def _active_counts(plays: Any) -> tuple[int, int, int]:
    """(users with plays, items with plays, played pairs) of a CSR matrix or Spark DataFrame."""
    if sp.issparse(plays) or isinstance(plays, np.ndarray):
        csr = validate_plays(plays)
        n_users = int(np.count_nonzero(np.diff(csr.indptr)))
        n_items = int(np.count_nonzero(np.bincount(csr.indices, minlength=csr.shape[1])))
        return n_users, n_items, int(csr.nnz)
    if hasattr(plays, "agg") and hasattr(plays, "filter"):  # a Spark DataFrame
        from pyspark.sql import functions as F

        _require_play_columns(plays, "plays")

        row = (
            plays.filter(F.col(PLAYS_COL) > 0)
            .agg(
                F.countDistinct(USER_COL).alias("u"),
                F.countDistinct(ITEM_COL).alias("i"),
                F.count("*").alias("n"),
            )
            .first()
        )
        return int(row["u"]), int(row["i"]), int(row["n"])
    raise TypeError(
        f"plays must be a scipy.sparse matrix or a Spark DataFrame, got {type(plays).__name__}."
    )


def _require_play_columns(frame: Any, name: str) -> None:
    missing = [c for c in (USER_COL, ITEM_COL, PLAYS_COL) if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{name} lacks the column(s) {missing}; found {frame.columns}. Build it with "
            "plays_to_dataframe(plays, spark) or rename the columns to user, item, plays."
        )


def spark_reg_param(regularization: float, plays: Any, match: str = "mean") -> float:
    """Spark's ``regParam`` that matches our constant ``λ`` on average.

    Spark adds ``regParam * n_u`` to user ``u``'s normal equations (``n_u`` = items the user
    played) and ``regParam * m_i`` to item ``i``'s (``m_i`` = its listeners); we add ``λ`` to
    every row (Zhou et al. 2008, section 3.1 versus Hu, Koren & Volinsky 2008, eq. 4). Only
    rows with plays count: the others get zero factors in both. With ``N`` played pairs,
    ``U`` active users and ``I`` active items:

    * ``match="mean"``: the ridge averaged over all active users *and* items equals ``λ``:
      ``regParam * 2N / (U + I) = λ``, so ``regParam = λ (U + I) / (2N)``;
    * ``match="users"``: the average user's ridge equals ``λ``: ``regParam = λ U / N``;
    * ``match="items"``: the average item's ridge equals ``λ``: ``regParam = λ I / N``.

    Heavy users and popular items are still penalised more by Spark, light ones less.

    Parameters
    ----------
    regularization : float
        Our ``λ`` (``fit_als``'s and ``implicit``'s ``regularization``).
    plays : sparse matrix or Spark DataFrame
        The training plays (a DataFrame with ``user, item, plays`` columns is counted by Spark).
    match : {"mean", "users", "items"}

    Returns
    -------
    float

    Raises
    ------
    TypeError
        ``regularization`` not a number (a string such as ``"0.1"``, a bool), or ``plays``
        neither a matrix nor a Spark DataFrame.
    ValueError
        ``regularization`` negative or NaN, an unknown ``match``, bad play counts, a DataFrame
        without the ``user, item, plays`` columns, or no plays at all.
    """
    regularization = require_number(regularization, "regularization", minimum=0)
    require_choice(match, "match", MATCHES)
    n_users, n_items, n_plays = _active_counts(plays)
    if n_plays == 0:
        raise ValueError("plays has no nonzero entry: there is nothing to fit.")
    rows = {"mean": (n_users + n_items) / 2.0, "users": n_users, "items": n_items}[match]
    return regularization * rows / n_plays


def _als_estimator(
    factors: int,
    alpha: float,
    reg_param: float,
    iterations: int,
    seed: int,
    num_blocks: int | None,
) -> Any:
    from pyspark.ml.recommendation import ALS

    als = ALS(
        rank=factors,
        maxIter=iterations,
        regParam=reg_param,
        implicitPrefs=True,
        alpha=alpha,
        nonnegative=False,
        userCol=USER_COL,
        itemCol=ITEM_COL,
        ratingCol=PLAYS_COL,
        seed=seed,
        checkpointInterval=CHECKPOINT_INTERVAL,
    )
    if num_blocks is not None:
        als = als.setNumUserBlocks(num_blocks).setNumItemBlocks(num_blocks)
    return als


def fit_als_spark(
    plays: sp.spmatrix,
    factors: int = 40,
    alpha: float = 40.0,
    regularization: float = 0.1,
    iterations: int = 15,
    seed: int = 0,
    spark: SparkSession | None = None,
    *,
    reg_param: float | None = None,
    match: str = "mean",
    num_blocks: int | None = None,
    dataframe: DataFrame | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Fit implicit-feedback ALS with Spark MLlib and return numpy factors.

    Runs ``pyspark.ml.recommendation.ALS(implicitPrefs=True, ...)``: the model of Hu, Koren &
    Volinsky (2008, eq. 3) with the per-row weighted regularisation of Zhou et al. (2008), see
    the module docstring. Arguments mirror :func:`course_lib.als.fit_als`, so one can replace
    the other.

    Parameters
    ----------
    plays : sparse matrix (n_users, n_items)
        Raw play counts, as for ``fit_als``.
    factors : int
        ``rank``: number of latent factors.
    alpha : float
        ``alpha``: confidence ``c_ui = 1 + alpha * plays_ui``, as ours.
    regularization : float
        Our constant ``λ``; converted with :func:`spark_reg_param` (``match``) unless
        ``reg_param`` is given.
    iterations : int
        ``maxIter``.
    seed : int
        Seed of Spark's random initial factors (not the same draw as ``fit_als``'s).
    spark : SparkSession, optional
        Default: :func:`get_spark` (starts ``local[2]`` or reuses the running session). This
        function never stops the session.
    reg_param : float, optional
        Spark's ``regParam`` itself; overrides ``regularization``.
    match : {"mean", "users", "items"}
        How ``regularization`` is mapped, see :func:`spark_reg_param`.
    num_blocks : int, optional
        ``numUserBlocks`` and ``numItemBlocks``: how many pieces each factor matrix is cut into,
        the unit of parallel work and of network traffic. Default: the session's cores
        (``defaultParallelism``); Spark's own default of 10 blocks costs several times more
        CPU on two cores (every block is a task, and every pair of blocks exchanges factors).
        The blocks also seed Spark's random initial factors, so changing their number changes
        the result a little.
    dataframe : pyspark DataFrame, optional
        ``plays`` already converted with :func:`plays_to_dataframe` (and perhaps cached), to
        skip the conversion when fitting several times.

    Returns
    -------
    user_factors : np.ndarray (n_users, factors), float32
    item_factors : np.ndarray (n_items, factors), float32
        Row ``u`` belongs to user ``u`` of ``plays``. Users and items without plays never reach
        Spark and get zero rows (their optimum in both objectives).

    Raises
    ------
    TypeError, ValueError
        All before Spark is touched: bad play counts or a matrix without plays; ``factors``,
        ``iterations``, ``num_blocks`` not integers >= 1 or ``seed`` not one >= 0; ``alpha``,
        ``regularization`` or ``reg_param`` not numbers >= 0 (strings, bools, NaN refused); an
        unknown ``match``; a ``spark`` that is not a SparkSession; a ``dataframe`` without the
        ``user, item, plays`` columns.
    """
    csr = validate_plays(plays)
    factors = require_int(factors, "factors", 1)
    iterations = require_int(iterations, "iterations", 1)
    seed = require_int(seed, "seed", 0)
    alpha = require_number(alpha, "alpha", minimum=0)
    regularization = require_number(regularization, "regularization", minimum=0)
    if num_blocks is not None:
        num_blocks = require_int(num_blocks, "num_blocks", 1)
    if csr.nnz == 0:
        raise ValueError("plays has no nonzero entry: there is nothing to fit.")
    if reg_param is None:
        reg_param = spark_reg_param(regularization, csr, match=match)
    else:
        require_choice(match, "match", MATCHES)
    reg_param = require_number(reg_param, "reg_param", minimum=0)
    if spark is not None and not hasattr(spark, "sparkContext"):
        raise TypeError(
            f"spark must be a SparkSession, got {type(spark).__name__}; start one with "
            "course_lib.spark.get_spark() or leave spark=None."
        )
    if dataframe is not None:
        _require_play_columns(dataframe, "dataframe")
    if spark is None:
        spark = get_spark()
    if iterations > CHECKPOINT_INTERVAL:
        _ensure_checkpoint_dir(spark)
        if spark.sparkContext.getCheckpointDir() is None:
            warnings.warn(
                f"{iterations} iterations without a checkpoint folder may end in a "
                "StackOverflowError; call spark.sparkContext.setCheckpointDir(...) first.",
                stacklevel=2,
            )
    if num_blocks is None:
        num_blocks = int(spark.sparkContext.defaultParallelism)
    frame = dataframe if dataframe is not None else plays_to_dataframe(csr, spark)
    model = _als_estimator(factors, alpha, reg_param, iterations, seed, num_blocks).fit(frame)
    user_factors = factors_to_numpy(model.userFactors, csr.shape[0], factors)
    item_factors = factors_to_numpy(model.itemFactors, csr.shape[1], factors)
    return user_factors, item_factors
