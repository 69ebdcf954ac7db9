"""course_lib.counterfactual.checks: chapter 08's exercise checks reject plausible wrong answers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from course_lib import checks
from course_lib.counterfactual import snips
from course_lib.counterfactual.checks import check_ips_enumeration, check_snips, enumerate_ips


def test_the_facade_gives_these_checks():
    assert checks.check_snips is check_snips
    assert checks.check_ips_enumeration is check_ips_enumeration
    assert checks.enumerate_ips is enumerate_ips


def test_check_snips_accepts_the_reference_and_rejects_slips(capsys):
    assert check_snips(lambda r, m, p: snips(r, m, p).value).passed

    def as_ips(r, m, p):
        return float(np.mean(p / m * r))

    def pi_times_mu(r, m, p):
        return float(np.sum(p * m * r) / np.sum(p * m))

    def by_sum_pi(r, m, p):
        return float(np.sum(p / m * r) / np.sum(p))

    def stub(r, m, p):
        raise NotImplementedError("implement SNIPS")

    for wrong in (as_ips, pi_times_mu, by_sum_pi):
        assert check_snips(wrong).status == "wrong"
    out = capsys.readouterr().out
    assert "the IPS estimate" in out and "pi * mu" in out
    result = check_snips(stub)
    assert result.status == "not implemented"
    assert "not implemented yet" in capsys.readouterr().out.lower()


def _independent_enumeration(mu, pi, q, n, weight=lambda p, m: p / m):
    outcomes = [(a, r) for a in range(mu.size) for r in (0, 1)]
    probs, estimates = [], []
    for log in itertools.product(outcomes, repeat=n):
        a = np.array([x[0] for x in log])
        r = np.array([x[1] for x in log], dtype=float)
        probs.append(np.prod(mu[a] * np.where(r == 1, q[a], 1 - q[a])))
        estimates.append(np.mean(weight(pi[a], mu[a]) * r))
    return np.array(probs), np.array(estimates)


def test_enumerate_ips_reference_matches_an_independent_enumeration(tiny_problem):
    t = tiny_problem
    for n in (1, 2):
        p_ref, e_ref = enumerate_ips(t.mu, t.pi, t.q, n)
        p_ind, e_ind = _independent_enumeration(t.mu, t.pi, t.q, n)
        np.testing.assert_allclose(p_ref, p_ind)
        np.testing.assert_allclose(e_ref, e_ind)
        assert p_ref @ e_ref == pytest.approx(t.truth)


def test_enumerate_ips_refuses_what_exact_expectation_refuses(tiny_problem):
    t = tiny_problem
    with pytest.raises(ValueError, match="logging_probs contains NaN"):
        enumerate_ips(np.array([0.5, np.nan, 0.5]), t.pi, t.q, 1)
    with pytest.raises(TypeError, match="n_impressions must be an integer"):
        enumerate_ips(t.mu, t.pi, t.q, 1.0)


def test_check_ips_enumeration_accepts_the_reference_and_rejects_slips(capsys):
    assert check_ips_enumeration(_independent_enumeration).passed
    assert check_ips_enumeration(enumerate_ips).passed

    def only_played(mu, pi, q, n):  # forgets the impressions that were not played
        probs, est = _independent_enumeration(mu, pi, q, n)
        keep = est > 0
        return probs[keep], est[keep]

    def no_division(mu, pi, q, n):  # pi * r instead of pi / mu * r
        return _independent_enumeration(mu, pi, q, n, weight=lambda p, m: p)

    def just_the_truth(mu, pi, q, n):
        return np.array([1.0]), np.array([pi @ q])

    def stub(mu, pi, q, n):
        raise NotImplementedError

    for wrong in (only_played, no_division, just_the_truth):
        assert check_ips_enumeration(wrong).status == "wrong"
    out = capsys.readouterr().out
    assert "sum to" in out and "true value" in out and "spread" in out
    assert check_ips_enumeration(stub).status == "not implemented"
