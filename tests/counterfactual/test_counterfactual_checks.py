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
    assert not hasattr(checks, "enumerate_ips"), "the facade must not export an answer"


USES_COURSE = "uses the course's implementation"


def _snips(r, m, p):
    w = p / m
    return float(np.sum(w * r) / np.sum(w))


def test_the_checks_refuse_the_course_functions():
    from course_lib.counterfactual import exact_expectation, ips

    assert check_snips(lambda r, m, p: snips(r, m, p).value).status == USES_COURSE
    assert check_ips_enumeration(enumerate_ips).status == USES_COURSE

    def via_exact(mu, pi, q, n):  # the expectation and variance, read off the library
        mean, variance = exact_expectation(ips, mu, pi, q, n)[:2]
        return np.array([0.5, 0.5]), mean + np.sqrt(variance) * np.array([-1.0, 1.0])

    assert check_ips_enumeration(via_exact).status == USES_COURSE


def test_check_snips_accepts_the_reference_and_rejects_slips(capsys):
    assert check_snips(_snips).passed

    def as_ips(r, m, p):
        return float(np.mean(p / m * r))

    def pi_times_mu(r, m, p):
        return float(np.sum(p * m * r) / np.sum(p * m))

    def by_sum_pi(r, m, p):
        return float(np.sum(p / m * r) / np.sum(p))

    def stub(r, m, p):
        raise NotImplementedError("implement SNIPS")

    def upside_down(r, m, p):
        return _snips(r, p, m)

    def by_sum_rewards(r, m, p):
        return float(np.sum(p / m * r) / np.sum(r))

    for wrong in (as_ips, pi_times_mu, by_sum_pi, upside_down, by_sum_rewards):
        assert check_snips(wrong).status == "wrong"
    out = " ".join(capsys.readouterr().out.split())
    assert "the IPS estimate" in out and "pi * mu" in out
    assert "upside down" in out and "sum of the rewards" in out
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


def _honest_clipped_mse(mu, pi, q, n, cap):
    """Bias^2 + variance of clipped IPS, written independently of the check's reference."""
    mu, pi, q = (np.asarray(x, dtype=float) for x in (mu, pi, q))
    term = np.minimum(pi / mu, cap)
    mean = np.sum(mu * q * term)
    variance = np.sum(mu * q * (term - mean) ** 2) + np.sum(mu * (1 - q)) * mean**2
    return float((mean - pi @ q) ** 2 + variance / n)


def test_check_clipped_mse_agrees_with_exact_enumeration(tiny_problem):
    from functools import partial

    from course_lib.counterfactual import clipped_ips, exact_expectation
    from course_lib.counterfactual.checks import _clipped_mse

    t = tiny_problem
    for n, cap in ((1, 1.5), (3, 1.5), (2, np.inf), (2, 0.5)):
        mean, variance = exact_expectation(
            partial(clipped_ips, max_weight=cap), t.mu, t.pi, t.q, n
        )[:2]
        want = (mean - t.truth) ** 2 + variance
        assert _clipped_mse(t.mu, t.pi, t.q, n, cap) == pytest.approx(want, rel=1e-9)
        assert _honest_clipped_mse(t.mu, t.pi, t.q, n, cap) == pytest.approx(want, rel=1e-9)


def test_check_clipped_mse_accepts_honest_work_and_names_slips(capsys):
    from course_lib.counterfactual.checks import _clipped_mse, check_clipped_mse

    assert checks.check_clipped_mse is check_clipped_mse
    assert check_clipped_mse(_honest_clipped_mse).status == "correct"
    assert check_clipped_mse(_clipped_mse).status == USES_COURSE

    def parts(mu, pi, q, n, cap):
        term = np.minimum(pi / mu, cap)
        mean, second = np.sum(mu * q * term), np.sum(mu * q * term**2)
        return mean - pi @ q, second - mean**2, second

    slips = {
        "variance alone": lambda *a: parts(*a)[1] / a[3],
        "squared bias alone": lambda *a: parts(*a)[0] ** 2,
        "bias plus the variance": lambda *a: parts(*a)[0] + parts(*a)[1] / a[3],
        "root of the mean squared error": lambda *a: np.sqrt(_honest_clipped_mse(*a)),
        "error of one impression": lambda *a: parts(*a)[0] ** 2 + parts(*a)[1],
        "second moment": lambda *a: parts(*a)[0] ** 2 + parts(*a)[2] / a[3],
    }
    for words, wrong in slips.items():
        assert check_clipped_mse(wrong).status == "wrong", words
        assert words in " ".join(capsys.readouterr().out.split()), words

    def dropped(mu, pi, q, n, cap):  # weights above the cap set to 0, not capped
        w = pi / mu
        term = np.where(w <= cap, w, 0.0)
        mean, second = np.sum(mu * q * term), np.sum(mu * q * term**2)
        return (mean - pi @ q) ** 2 + (second - mean**2) / n

    assert check_clipped_mse(dropped).status == "wrong"
    assert "dropped" in capsys.readouterr().out

    def stub(mu, pi, q, n, cap):
        raise NotImplementedError("Exercise 8.5")

    assert check_clipped_mse(stub).status == "not implemented"
