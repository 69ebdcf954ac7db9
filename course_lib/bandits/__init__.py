"""Contextual bandits for a recommendation shelf with reasons ("because you played X").

Taught in chapter 08 (``chapters/08_beyond_accuracy.md``, sections 7 and 8), after McInerney et
al. (2018), who ran a bandit over explained recommendations on Spotify's home page. Each round a
user arrives with a context vector ``x`` (here: the genre mix of their listening history), the
bandit picks one of ``K`` candidate tracks (its *arms*), shows it with a reason, and observes
whether it was played.

One file per job:

* :mod:`~course_lib.bandits.learners`: :class:`LinearBandit` (greedy), :class:`EpsilonGreedy`,
  :class:`LinUCB` (Li et al. 2010, Algorithm 1), :class:`LinearThompson` (Agrawal & Goyal 2013,
  Algorithm 1) and :class:`UniformRandom`, all disjoint ridge regressions per arm;
* :mod:`~course_lib.bandits.simulation`: :func:`simulate_bandit` runs a learner online against
  exact play probabilities and records the regret (:class:`BanditRun`);
* :mod:`~course_lib.bandits.context`: :func:`genre_mix` (the contexts) and
  :func:`because_you_played` (the reasons).
"""

from __future__ import annotations

from course_lib.bandits.context import because_you_played, genre_mix
from course_lib.bandits.learners import (
    EpsilonGreedy,
    LinearBandit,
    LinearThompson,
    LinUCB,
    UniformRandom,
)
from course_lib.bandits.simulation import BanditRun, simulate_bandit

__all__ = [
    "BanditRun",
    "EpsilonGreedy",
    "LinUCB",
    "LinearBandit",
    "LinearThompson",
    "UniformRandom",
    "because_you_played",
    "genre_mix",
    "simulate_bandit",
]
