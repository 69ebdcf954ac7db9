"""Tests of course_lib.fusion.ensembles (chapter 07, section 8): ensembles of recommenders."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib import fusion as fu


def test_standardize_scores_rows():
    s = np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]])
    z = fu.standardize_scores(s)
    np.testing.assert_allclose(z[0].mean(), 0.0, atol=1e-7)
    np.testing.assert_allclose(z[0].std(), 1.0, atol=1e-6)
    assert np.all(z[1] == 0)


def _problem(seed=4, n_users=50, n_items=80):
    rng = np.random.default_rng(seed)
    truth = rng.normal(size=(n_users, n_items))
    positives = sp.csr_matrix((truth > 1.3).astype(np.float32))
    sources = {
        "informative": truth + 0.5 * rng.normal(size=truth.shape),
        "noise": rng.normal(size=truth.shape),
        "anti": -truth,
    }
    return truth, positives, sources


def test_fit_ensemble_weights_prefers_the_informative_recommender():
    truth, positives, sources = _problem()
    w = fu.fit_ensemble_weights(sources, positives, n_pairs=3000, seed=0)
    assert set(w) == set(sources)
    assert sum(w.values()) == pytest.approx(1.0)
    assert min(w.values()) >= 0
    assert w["informative"] > 0.8 and w["anti"] == pytest.approx(0.0, abs=1e-6)
    assert w == fu.fit_ensemble_weights(sources, positives, n_pairs=3000, seed=0)  # seeded
    scores = fu.ensemble_scores(sources, w)
    assert scores.shape == truth.shape


def test_ensemble_errors():
    s = {"a": np.ones((3, 4)), "b": np.ones((3, 5))}
    with pytest.raises(ValueError, match="one shape"):
        fu.ensemble_scores(s, {"a": 1.0})
    ok = {"a": np.ones((3, 4))}
    with pytest.raises(ValueError, match="negative"):
        fu.ensemble_scores(ok, {"a": -1.0})
    with pytest.raises(ValueError, match="unknown sources"):
        fu.ensemble_scores(ok, {"c": 1.0})
    with pytest.raises(ValueError, match="no plays"):
        fu.fit_ensemble_weights(ok, sp.csr_matrix((3, 4)))


# --- issue 17 ----------------------------------------------------------------------------------


def test_bad_ensemble_weights_are_refused():
    _, _, sources = _problem(n_users=5, n_items=6)
    with pytest.raises(ValueError, match=r"weights\['noise'\] must be a finite number"):
        fu.ensemble_scores(sources, {"informative": 1.0, "noise": float("nan")})  # was skipped
    with pytest.raises(TypeError, match=r"weights\['noise'\] must be a number.*float\('0.5'\)"):
        fu.ensemble_scores(sources, {"noise": "0.5"})
    with pytest.raises(TypeError, match=r"weights\['noise'\] must be a number"):
        fu.ensemble_scores(sources, {"noise": True})
    with pytest.raises(ValueError, match=r"every weight is zero.*positive weight"):
        fu.ensemble_scores(sources, {"noise": 0.0, "anti": 0})
    with pytest.raises(ValueError, match="every weight is zero"):
        fu.ensemble_scores(sources, {})
    with pytest.raises(TypeError, match="weights must be a dict"):
        fu.ensemble_scores(sources, [0.5, 0.5, 0.0])


def test_bad_sources_and_plays_are_refused():
    truth, positives, sources = _problem(n_users=20, n_items=30)
    sources["noise"][2, 3] = np.nan
    with pytest.raises(ValueError, match=r"sources\['noise'\] contains NaN.*rows \[2\]"):
        fu.fit_ensemble_weights(sources, positives)
    with pytest.raises(ValueError, match=r"sources\['noise'\] contains NaN"):
        fu.ensemble_scores(sources, {"informative": 1.0})
    with pytest.raises(ValueError, match="scores contains NaN"):
        fu.standardize_scores(sources["noise"])
    with pytest.raises(ValueError, match="give at least one recommender"):
        fu.fit_ensemble_weights({}, positives)
    with pytest.raises(TypeError, match="sources must be a dict"):
        fu.fit_ensemble_weights([truth], positives)
    clean = {"a": truth}
    negative = positives.copy()
    negative.data[0] = -1.0
    with pytest.raises(ValueError, match=r"positives contains negative values.*clip"):
        fu.fit_ensemble_weights(clean, negative)
    with pytest.raises(ValueError, match=r"exclude has shape \(20, 29\)"):
        fu.fit_ensemble_weights(clean, positives, exclude=positives[:, :-1])
    with pytest.raises(TypeError, match="n_pairs must be an integer"):
        fu.fit_ensemble_weights(clean, positives, n_pairs=True)
    with pytest.raises(TypeError, match=r"l2 must be a number.*l2=float\('0.1'\)"):
        fu.fit_ensemble_weights(clean, positives, l2="0.1")
    with pytest.raises(ValueError, match="l2 must be a number >= 0"):
        fu.fit_ensemble_weights(clean, positives, l2=-1.0)
