"""Re-drawn logs: a log simulator, all estimators on one log, repeated trials and clipping.

Taught in chapter 08 (``chapters/08_beyond_accuracy.md``): "4. Five estimators over many re-drawn
logs" (:class:`LogSimulator`, :func:`repeated_trials`, :func:`summarise_trials`), "5. Clipping:
trading bias for variance" (:func:`clipping_sweep`), "6. When propensities are logged wrongly"
(``recorded_policy``) and "8. Evaluating the trained bandits offline" (:func:`evaluate_logs`).
:class:`LogSimulator` re-draws logs from a simulator's exact probabilities, so that bias and
variance can be measured over many seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from course_lib.counterfactual.estimators import (
    Estimate,
    _as_vector,
    clipped_ips,
    direct_method,
    doubly_robust,
    ips,
    snips,
)
from course_lib.counterfactual.policies import (
    _validate_policy,
    _validate_probabilities,
    policy_value,
)
from course_lib.validation import require_int, validate_matrix

__all__ = [
    "LogSimulator",
    "clipping_sweep",
    "evaluate_logs",
    "repeated_trials",
    "summarise_trials",
]

#: The columns of a log (the layout of ``world.logged_feedback``).
LOG_COLUMNS = ("user", "item", "propensity", "played")


class LogSimulator:
    """Draw logged impressions from a simulator's exact probabilities, for repeated trials.

    Each impression picks a user uniformly at random, an item from ``logging_policy[user]`` and a
    play with probability ``play_probability[user, item]``: the process behind
    ``world.logged_feedback`` (chapter 08), re-run with any seed.

    Parameters
    ----------
    logging_policy : array of shape (n_users, n_items), rows summing to 1, all entries > 0
    play_probability : array of shape (n_users, n_items), in [0, 1]

    Raises
    ------
    TypeError, ValueError
        A logging policy that is not a matrix of distributions (text, NaN, negative entries, rows
        not summing to 1, empty), play probabilities outside [0, 1] or NaN, or different shapes.
    """

    def __init__(self, logging_policy: np.ndarray, play_probability: np.ndarray) -> None:
        self.logging_policy = _validate_policy("logging_policy", logging_policy)
        self.play_probability = _validate_probabilities(
            "play_probability", play_probability, self.logging_policy.shape
        )
        n_users, n_items = self.logging_policy.shape
        self.n_users, self.n_items = n_users, n_items
        # joint distribution of (user, item): uniform user, then the logging policy
        self._cdf = np.cumsum(self.logging_policy.ravel()) / n_users
        self._cdf[-1] = 1.0

    def true_value(self, policy: np.ndarray) -> float:
        """Exact value of ``policy`` under this simulator (see :func:`policy_value`)."""
        return policy_value(policy, self.play_probability)

    def sample(
        self, n_impressions: int, seed: int = 0, recorded_policy: np.ndarray | None = None
    ) -> pd.DataFrame:
        """One log of ``n_impressions`` rows: ``user``, ``item``, ``propensity``, ``played``.

        Parameters
        ----------
        n_impressions : int
        seed : int
        recorded_policy : array of shape (n_users, n_items), optional
            If given, the ``propensity`` column is read from this matrix instead of the policy that
            really chose the items: a model of propensities that were logged wrongly.

        Raises
        ------
        TypeError, ValueError
            ``n_impressions`` not an integer >= 1, ``seed`` not one >= 0, a ``recorded_policy``
            of another shape or with NaN, infinite or non-numeric entries.
        """
        n_impressions = require_int(n_impressions, "n_impressions", 1)
        seed = require_int(seed, "seed", 0)
        recorded = self.logging_policy
        if recorded_policy is not None:
            recorded = validate_matrix(recorded_policy, "recorded_policy", dtype=np.float64)
            if recorded.shape != self.logging_policy.shape:
                raise ValueError(
                    f"recorded_policy has shape {recorded.shape}; it must have the simulator's "
                    f"shape {self.logging_policy.shape} (n_users, n_items)"
                )
        rng = np.random.default_rng(seed)
        # sorted keys make the search cache-friendly; rows come out grouped by user
        flat = np.searchsorted(self._cdf, np.sort(rng.random(n_impressions)), side="right")
        flat = np.minimum(flat, self._cdf.size - 1)
        users, items = np.divmod(flat, self.n_items)
        played = rng.random(n_impressions) < self.play_probability[users, items]
        return pd.DataFrame(
            {
                "user": users.astype(np.int64),
                "item": items.astype(np.int64),
                "propensity": recorded[users, items].astype(np.float64),
                "played": played.astype(np.int8),
            }
        )


def _log_columns(logs: pd.DataFrame, shape: tuple[int, int]) -> tuple[np.ndarray, ...]:
    """``user, item, played, propensity`` of a log whose ids index an ``(n_users, n_items)``
    policy, or a clear error (not a DataFrame, missing columns, ids that are not integers or
    fall outside the policy)."""
    if not isinstance(logs, pd.DataFrame):
        raise TypeError(
            f"logs must be a DataFrame with columns {', '.join(LOG_COLUMNS)} (as "
            f"world.logged_feedback), got {type(logs).__name__}"
        )
    missing = set(LOG_COLUMNS) - set(logs.columns)
    if missing:
        raise ValueError(
            f"logs lack the columns {sorted(missing)}; expected user, item, propensity, played"
        )
    ids = []
    for column, n, what in (("user", shape[0], "users"), ("item", shape[1], "items")):
        values = logs[column].to_numpy()
        if values.dtype.kind not in "iu":
            raise ValueError(
                f"logs[{column!r}] must hold integer ids, got dtype {values.dtype} (missing ids?)"
            )
        if values.size and (values.min() < 0 or values.max() >= n):
            raise ValueError(
                f"logs[{column!r}] holds ids {values.min()}..{values.max()} but the policy has "
                f"{n} {what}: the log and the policy come from different worlds (or candidate "
                "lists); restrict both to the same items"
            )
        ids.append(values)
    return (
        ids[0],
        ids[1],
        _as_vector("logs['played']", logs["played"]),
        _as_vector("logs['propensity']", logs["propensity"], allow_bool=False),
    )


def _reward_model_values(
    target_policy: np.ndarray, reward_model: np.ndarray | None
) -> tuple[np.ndarray | None, np.ndarray | None]:
    if reward_model is None:
        return None, None
    q = validate_matrix(reward_model, "reward_model", dtype=np.float64)
    if q.shape != target_policy.shape:
        raise ValueError(
            f"reward_model has shape {q.shape}; it must have the target policy's shape "
            f"{target_policy.shape} (n_users, n_items)"
        )
    return q, np.einsum("ua,ua->u", target_policy, q)


def _require_simulator(simulator: object, target_policy: np.ndarray) -> LogSimulator:
    if not isinstance(simulator, LogSimulator):
        raise TypeError(
            f"simulator must be a LogSimulator(logging_policy, play_probability), got "
            f"{type(simulator).__name__}"
        )
    if target_policy.shape != simulator.logging_policy.shape:
        raise ValueError(
            f"target_policy has shape {target_policy.shape} but the simulator's world has shape "
            f"{simulator.logging_policy.shape} (n_users, n_items); use a policy over the same "
            "users and items"
        )
    return simulator


def _evaluate(
    logs: pd.DataFrame,
    target_policy: np.ndarray,
    q: np.ndarray | None,
    q_pi: np.ndarray | None,
    max_weight: float,
    confidence: float,
) -> dict[str, Estimate]:
    u, a, r, mu = _log_columns(logs, target_policy.shape)
    pi = target_policy[u, a]
    out = {
        "IPS": ips(r, mu, pi, confidence),
        "clipped IPS": clipped_ips(r, mu, pi, max_weight, confidence),
        "SNIPS": snips(r, mu, pi, confidence),
    }
    if q is not None and q_pi is not None:
        out["DM"] = direct_method(q_pi[u], confidence)
        out["DR"] = doubly_robust(r, mu, pi, q[u, a], q_pi[u], confidence)
    return out


def evaluate_logs(
    logs: pd.DataFrame,
    target_policy: np.ndarray,
    reward_model: np.ndarray | None = None,
    max_weight: float = 10.0,
    confidence: float = 0.95,
) -> dict[str, Estimate]:
    """All estimators of this module on one log.

    Parameters
    ----------
    logs : DataFrame with columns ``user``, ``item``, ``propensity``, ``played``
        (the layout of ``world.logged_feedback``).
    target_policy : array of shape (n_users, n_items), rows summing to 1
    reward_model : array of shape (n_users, n_items), optional
        Predicted play probabilities ``q_hat``; adds the direct method ("DM") and "DR".
    max_weight : float
        Cap of clipped IPS.
    confidence : float

    Returns
    -------
    dict mapping "IPS", "clipped IPS", "SNIPS" (and "DM", "DR") to :class:`Estimate`

    Raises
    ------
    TypeError, ValueError
        A target policy that is not a matrix of distributions; a reward model of another shape
        or with NaN; logs that are not a DataFrame, lack a column, or hold ids outside the
        policy's users and items; and whatever the estimators refuse (propensities outside
        (0, 1], NaN rewards, a ``max_weight`` or ``confidence`` that is not a valid number).
    """
    pi = _validate_policy("target_policy", target_policy)
    q, q_pi = _reward_model_values(pi, reward_model)
    return _evaluate(logs, pi, q, q_pi, max_weight, confidence)


def _trial_seeds(seed: int, n_trials: int) -> np.ndarray:
    n_trials = require_int(n_trials, "n_trials", 1)
    seed = require_int(seed, "seed", 0)
    return np.random.SeedSequence(seed).generate_state(n_trials)


def repeated_trials(
    simulator: LogSimulator,
    target_policy: np.ndarray,
    n_impressions: int,
    n_trials: int,
    seed: int = 0,
    reward_model: np.ndarray | None = None,
    max_weight: float = 10.0,
    recorded_policy: np.ndarray | None = None,
) -> pd.DataFrame:
    """Re-draw ``n_trials`` logs from ``simulator`` and run :func:`evaluate_logs` on each.

    Parameters
    ----------
    simulator : LogSimulator
    target_policy : array (n_users, n_items)
    n_impressions, n_trials : int
    seed : int
        Seeds the trials (trial t uses the t-th seed of ``np.random.SeedSequence(seed)``).
    reward_model : array (n_users, n_items), optional
        Adds "DM" and "DR".
    max_weight : float
        Cap of clipped IPS.
    recorded_policy : array (n_users, n_items), optional
        Log propensities from this matrix instead of the true logging policy (see
        :meth:`LogSimulator.sample`).

    Returns
    -------
    DataFrame with one row per (trial, estimator): ``trial``, ``estimator``, ``estimate``,
    ``std_error``, ``covers`` (whether the interval contains the exact value) and ``error``
    (estimate minus the exact value).

    Raises
    ------
    TypeError, ValueError
        Before any log is drawn: a ``simulator`` that is not a :class:`LogSimulator`, a target
        policy that is not a matrix of distributions over the simulator's users and items, a
        reward model of another shape, ``n_impressions``, ``n_trials`` or ``seed`` that are not
        integers in range, a bad ``recorded_policy`` (see :meth:`LogSimulator.sample`).
    """
    pi = _validate_policy("target_policy", target_policy)
    _require_simulator(simulator, pi)
    seeds = _trial_seeds(seed, n_trials)
    require_int(n_impressions, "n_impressions", 1)
    truth = simulator.true_value(pi)
    q, q_pi = _reward_model_values(pi, reward_model)
    rows = []
    for trial, trial_seed in enumerate(seeds):
        logs = simulator.sample(n_impressions, int(trial_seed), recorded_policy=recorded_policy)
        for name, est in _evaluate(logs, pi, q, q_pi, max_weight, 0.95).items():
            rows.append(
                (trial, name, est.value, est.std_error, est.covers(truth), est.value - truth)
            )
    return pd.DataFrame(
        rows, columns=["trial", "estimator", "estimate", "std_error", "covers", "error"]
    )


def summarise_trials(trials: pd.DataFrame) -> pd.DataFrame:
    """Bias, spread and interval coverage of each estimator over repeated trials.

    Parameters
    ----------
    trials : DataFrame
        The output of :func:`repeated_trials`.

    Returns
    -------
    DataFrame indexed by estimator: ``mean`` estimate, ``bias`` (mean error), ``std`` (standard
    deviation of the estimates), ``rmse`` and ``coverage`` (share of 95 % intervals that contain
    the exact value), in the order the estimators first appear.

    Raises
    ------
    ValueError
        Not a DataFrame with the columns of :func:`repeated_trials`, or one without rows.
    """
    _require_frame(
        trials, "trials", ("estimator", "estimate", "error", "covers"), "repeated_trials"
    )
    order = list(dict.fromkeys(trials["estimator"]))
    summary = trials.groupby("estimator").agg(
        mean=("estimate", "mean"),
        bias=("error", "mean"),
        std=("estimate", "std"),
        rmse=("error", lambda e: float(np.sqrt(np.mean(np.square(e))))),
        coverage=("covers", "mean"),
    )
    return summary.loc[order]


def clipping_sweep(
    simulator: LogSimulator,
    target_policy: np.ndarray,
    max_weights: np.ndarray,
    n_impressions: int,
    n_trials: int,
    seed: int = 0,
) -> pd.DataFrame:
    """Bias, standard deviation and RMSE of clipped IPS for several weight caps ``M``.

    Every cap is applied to the same ``n_trials`` logs (drawn as in :func:`repeated_trials`), so
    the curves differ only through ``M``. ``M = inf`` is plain IPS.

    Returns
    -------
    DataFrame with columns ``max_weight``, ``bias``, ``std``, ``rmse``.

    Raises
    ------
    TypeError, ValueError
        Before any log is drawn: caps that are not numbers, not 1-D, empty, NaN or <= 0; and
        what :func:`repeated_trials` refuses.
    """
    pi = _validate_policy("target_policy", target_policy)
    _require_simulator(simulator, pi)
    caps = np.asarray(max_weights)
    if caps.dtype.kind not in "iuf":
        raise TypeError(f"max_weights must be numbers, got dtype {caps.dtype}")
    caps = caps.astype(np.float64)
    if caps.ndim != 1 or caps.size == 0 or not (caps > 0).all():
        raise ValueError(
            f"max_weights must be a non-empty 1-D array of positive caps (np.inf for plain IPS), "
            f"got {caps.tolist()}"
        )
    seeds = _trial_seeds(seed, n_trials)
    require_int(n_impressions, "n_impressions", 1)
    truth = simulator.true_value(pi)
    estimates = np.empty((seeds.size, caps.size))
    for trial, trial_seed in enumerate(seeds):
        logs = simulator.sample(n_impressions, int(trial_seed))
        u, a, r, mu = _log_columns(logs, pi.shape)
        w = pi[u, a] / mu
        estimates[trial] = (np.minimum(w[:, None], caps[None, :]) * r[:, None]).mean(axis=0)
    errors = estimates - truth
    return pd.DataFrame(
        {
            "max_weight": caps,
            "bias": errors.mean(axis=0),
            "std": estimates.std(axis=0, ddof=1),
            "rmse": np.sqrt(np.mean(errors**2, axis=0)),
        }
    )


def _require_frame(frame: object, name: str, columns: tuple[str, ...], source: str) -> None:
    """A non-empty DataFrame with ``columns`` (the output of ``source``), or a ValueError."""
    if not isinstance(frame, pd.DataFrame) or set(columns) - set(frame.columns):
        raise ValueError(f"{name} must be the DataFrame that {source} returns (columns {columns})")
    if frame.empty:
        raise ValueError(f"{name} has no rows: nothing to summarise or plot")
