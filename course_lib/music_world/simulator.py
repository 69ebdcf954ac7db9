"""The simulator of the music world: who would play what, and a deployed policy's logged feedback.

Taught in chapter 08 (beyond accuracy), where counterfactual estimators (IPS, SNIPS) are checked
against the exact truth that only a simulator knows. :class:`Simulator` gives
:class:`~course_lib.music_world.MusicWorld` its methods: the hidden affinity ``taste_u . style_i``,
the exact probability that a user plays a track shown to them, a stochastic logging policy that
gives every track a positive probability (as importance weighting requires), and logs of its
impressions.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

from course_lib.validation import require_int

from .sizes import SIZES

__all__ = ["Simulator", "select_ids"]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def select_ids(ids: Sequence[int] | np.ndarray | int, n: int, what: str) -> np.ndarray:
    """``ids`` (one integer id or a 1-D sequence of them) as int64 ids in ``[0, n)``.

    Raises
    ------
    TypeError
        Ids that are not integers (floats, booleans, strings) or not 1-D.
    ValueError
        An id outside ``[0, n - 1]``.
    """
    arr = np.atleast_1d(np.asarray(ids))
    if arr.ndim == 1 and arr.size == 0:
        return np.empty(0, dtype=np.int64)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(
            f"{what}_ids must be an integer id or a 1-D sequence of integer ids, got "
            f"{arr.dtype} of shape {arr.shape}"
        )
    if arr.min() < 0 or arr.max() >= n:
        raise ValueError(f"{what} ids must lie in [0, {n - 1}]; got {arr.min()}..{arr.max()}")
    return arr.astype(np.int64)


class Simulator:
    """The simulator's methods, mixed into :class:`~course_lib.music_world.MusicWorld`."""

    size: str
    seed: int
    plays: sp.csr_matrix
    tracks: pd.DataFrame
    users: pd.DataFrame
    user_taste: np.ndarray
    track_style: np.ndarray

    @property
    def n_users(self) -> int:
        return self.plays.shape[0]

    @property
    def n_tracks(self) -> int:
        return self.plays.shape[1]

    def _users(self, user_ids: Sequence[int] | np.ndarray | None) -> np.ndarray:
        if user_ids is None:
            return np.arange(self.n_users)
        return select_ids(user_ids, self.n_users, "user")

    @cached_property
    def _affinity_scale(self) -> float:
        rng = np.random.default_rng(self.seed + 17)
        u = rng.integers(0, self.n_users, 256)
        return float(np.std(self.user_taste[u] @ self.track_style.T)) or 1.0

    @cached_property
    def _log_popularity_z(self) -> np.ndarray:
        pop = np.log(self.tracks["popularity"].to_numpy())
        return (pop - pop.mean()) / (pop.std() or 1.0)

    def affinity(self, user_ids: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """Standardised hidden affinity ``taste_u . style_i`` (n_users_selected x n_tracks)."""
        users = self._users(user_ids)
        return (self.user_taste[users] @ self.track_style.T) / self._affinity_scale

    def play_probability(self, user_ids: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """Exact probability that a user plays a track shown to them in one slot.

        ``sigmoid(-3.0 + 1.4 * affinity + 0.3 * log-popularity)``, lowered for intros/outros
        (few people play an intro on its own). Float64 of shape (n_users_selected, n_tracks).
        """
        users = self._users(user_ids)
        logit = -3.0 + 1.4 * self.affinity(users) + 0.3 * self._log_popularity_z[None, :]
        prob = _sigmoid(logit)
        filler = self.tracks["kind"].isin(["intro", "outro"]).to_numpy()
        prob[:, filler] *= 0.3
        return prob

    def logging_policy(self, user_ids: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """The deployed stochastic recommender: P(show track | user), rows sum to one.

        A softmax over ``0.9 * log-popularity + 1.2 * [track in the user's main genre]``: it knows
        popularity and a coarse genre profile but not the fine taste, and gives every track a
        positive probability, as importance weighting requires.
        """
        users = self._users(user_ids)
        main = self.users["main_genre_id"].to_numpy()[users]
        same = (self.tracks["genre_id"].to_numpy()[None, :] == main[:, None]).astype(np.float64)
        logits = 0.9 * self._log_popularity_z[None, :] + 1.2 * same
        logits -= logits.max(axis=1, keepdims=True)
        w = np.exp(logits)
        return w / w.sum(axis=1, keepdims=True)

    @cached_property
    def logged_feedback(self) -> pd.DataFrame:
        """One row per impression of :meth:`logging_policy`: user, item, propensity, played."""
        return self.sample_logged_feedback(SIZES[self.size].n_impressions, seed=self.seed + 1)

    def sample_logged_feedback(self, n_impressions: int, seed: int) -> pd.DataFrame:
        """Draw a fresh log of ``n_impressions`` from the logging policy (for repeated trials).

        Raises ``TypeError`` / ``ValueError`` for an ``n_impressions`` or ``seed`` that is not a
        positive / non-negative integer.
        """
        n_impressions = require_int(n_impressions, "n_impressions", 1)
        seed = require_int(seed, "seed", 0)
        rng = np.random.default_rng(seed)
        users = np.sort(rng.integers(0, self.n_users, n_impressions))
        items = np.empty(n_impressions, dtype=np.int64)
        propensity = np.empty(n_impressions)
        played = np.empty(n_impressions, dtype=np.int8)
        uniq, starts = np.unique(users, return_index=True)
        bounds = np.append(starts, n_impressions)
        for chunk in range(0, uniq.size, 512):
            block = uniq[chunk : chunk + 512]
            policy = self.logging_policy(block)
            pplay = self.play_probability(block)
            cdf = np.cumsum(policy, axis=1)
            for j in range(block.size):
                lo, hi = bounds[chunk + j], bounds[chunk + j + 1]
                draw = np.searchsorted(cdf[j], rng.random(hi - lo) * cdf[j, -1], side="right")
                draw = np.minimum(draw, self.n_tracks - 1)
                items[lo:hi] = draw
                propensity[lo:hi] = policy[j, draw]
                played[lo:hi] = rng.random(hi - lo) < pplay[j, draw]
        return pd.DataFrame(
            {"user": users, "item": items, "propensity": propensity, "played": played}
        )
