"""Counterfactual (off-policy) evaluation: a new policy's play rate from logged impressions.

Taught in chapter 08 (``chapters/08_beyond_accuracy.md``, sections 1 to 6 and 8, and exercises
8.1 and 8.2). A deployed stochastic recommender (the *logging policy* ``mu``) showed item ``a_j``
to user ``u_j`` with a known probability (the *propensity*) and recorded whether it was played
(the *reward* ``r_j``); a *target policy* ``pi`` that was never deployed is evaluated from the same
logs by reweighting each impression with ``w_j = pi(a_j | u_j) / mu(a_j | u_j)``.

One file per job:

* :mod:`~course_lib.counterfactual.estimators`: :func:`ips`, :func:`clipped_ips`, :func:`snips`,
  :func:`direct_method`, :func:`doubly_robust`, :func:`importance_weights`,
  :func:`effective_sample_size`, and the :class:`Estimate` they return (the notation table is
  in that module's docstring);
* :mod:`~course_lib.counterfactual.policies`: :func:`softmax_policy` and :func:`policy_value`;
* :mod:`~course_lib.counterfactual.enumeration`: :func:`exact_expectation`, an estimator's exact
  mean and variance over every possible log of a tiny problem;
* :mod:`~course_lib.counterfactual.simulation`: :class:`LogSimulator`, :func:`evaluate_logs`,
  :func:`repeated_trials`, :func:`summarise_trials`, :func:`clipping_sweep`;
* :mod:`~course_lib.counterfactual.plots`: :func:`plot_estimates`, :func:`plot_clipping`;
* :mod:`~course_lib.counterfactual.checks`: the exercise checks (``checks.check_snips``,
  ``checks.check_ips_enumeration`` through :mod:`course_lib.checks`).
"""

from __future__ import annotations

from course_lib.counterfactual.enumeration import exact_expectation
from course_lib.counterfactual.estimators import (
    Estimate,
    clipped_ips,
    direct_method,
    doubly_robust,
    effective_sample_size,
    importance_weights,
    ips,
    snips,
)
from course_lib.counterfactual.plots import plot_clipping, plot_estimates
from course_lib.counterfactual.policies import policy_value, softmax_policy
from course_lib.counterfactual.simulation import (
    LogSimulator,
    clipping_sweep,
    evaluate_logs,
    repeated_trials,
    summarise_trials,
)

__all__ = [
    "Estimate",
    "LogSimulator",
    "clipped_ips",
    "clipping_sweep",
    "direct_method",
    "doubly_robust",
    "effective_sample_size",
    "evaluate_logs",
    "exact_expectation",
    "importance_weights",
    "ips",
    "plot_clipping",
    "plot_estimates",
    "policy_value",
    "repeated_trials",
    "snips",
    "softmax_policy",
    "summarise_trials",
]
