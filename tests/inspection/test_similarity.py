"""Tests of course_lib.inspection.similarity (chapter 05, sections 5 and 6)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics.pairwise import cosine_similarity
from sklearn.neighbors import NearestNeighbors

from course_lib import inspection as ins


def test_similar_tracks_match_brute_force_cosine():
    rng = np.random.default_rng(4)
    vectors = rng.normal(size=(50, 8))
    got = ins.similar_tracks(vectors, 7, k=5)
    sims = cosine_similarity(vectors)[7]
    sims[7] = -np.inf
    assert got.tolist() == np.argsort(-sims)[:5].tolist()
    assert 7 not in ins.neighbour_lists(vectors, 49, queries=np.array([7]))[0]
    pool = np.arange(20, 50)
    assert set(ins.similar_tracks(vectors, 7, 5, candidates=pool)) <= set(pool)
    chunked = ins.neighbour_lists(vectors, 5, chunk=7)
    assert np.array_equal(chunked, ins.neighbour_lists(vectors, 5))


def test_euclidean_lists_match_sklearn_nearest_neighbors():
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(40, 3))
    ours = ins.neighbour_lists(vectors, 4, metric="euclidean")
    _, theirs = NearestNeighbors(n_neighbors=5).fit(vectors).kneighbors(vectors)
    assert np.array_equal(ours, theirs[:, 1:])


def test_similarity_errors():
    vectors = np.eye(4)
    vectors[2] = 0
    with pytest.raises(ValueError, match="all-zero vector"):
        ins.similar_tracks(vectors, 2, 1)
    with pytest.raises(ValueError, match="out of range"):
        ins.similar_tracks(vectors, 9, 1)
    with pytest.raises(TypeError, match="track must be an integer"):
        ins.similar_tracks(vectors, [0, 1], 1)
    with pytest.raises(ValueError, match="k=4 is larger than the 3 candidate tracks .*k=3"):
        ins.similar_tracks(vectors, 0, 4)
    with pytest.raises(ValueError, match="metric"):
        ins.neighbour_lists(vectors, 1, metric="manhattan")
    with pytest.raises(ValueError, match="queries indexes rows 0..9 but there are only 4"):
        ins.neighbour_lists(vectors, 1, queries=[0, 9])


def test_nan_and_misshapen_vectors_are_refused():
    vectors = np.random.default_rng(6).normal(size=(10, 3))
    vectors[6, 1] = np.nan
    with pytest.raises(ValueError, match=r"vectors contains NaN or infinite values \(rows \[6\]"):
        ins.neighbour_lists(vectors, 2)
    with pytest.raises(ValueError, match=r"vectors must be 2-D \(n_rows, n_columns\)"):
        ins.neighbour_lists(np.zeros(10), 2)
    with pytest.raises(TypeError, match="toarray"):
        import scipy.sparse as sp

        ins.neighbour_lists(sp.eye(5, format="csr"), 2)


def test_overlap_jaccard_and_same_label_share():
    a = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    b = np.array([[4, 3, 9, 10], [5, 6, 7, 8]])
    assert ins.overlap_at_k(a, b) == pytest.approx((0.5 + 1.0) / 2)
    assert ins.jaccard_at_k(a, b) == pytest.approx((2 / 6 + 1.0) / 2)
    labels = np.array([0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0])
    assert ins.same_label_share(a, labels, [0, 5]) == pytest.approx((2 / 4 + 4 / 4) / 2)


def test_unpaired_or_foreign_lists_are_refused():
    a = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    labels = np.zeros(11)
    with pytest.raises(ValueError, match="same number .* got 2 and 1: pass both methods' lists"):
        ins.overlap_at_k(a, a[:1])
    with pytest.raises(ValueError, match="same number"):
        ins.jaccard_at_k([], [])
    with pytest.raises(TypeError, match="lists_b must hold integer track indices"):
        ins.jaccard_at_k(a, a / 2)
    with pytest.raises(ValueError, match="2 lists but 1 queries"):
        ins.same_label_share(a, labels, [0])
    with pytest.raises(ValueError, match="lists indexes rows 5..8 but there are only 5"):
        ins.same_label_share(a, labels[:5], [0, 1])
    with pytest.raises(ValueError, match="queries indexes rows"):
        ins.same_label_share(a, labels, [0, 11])
