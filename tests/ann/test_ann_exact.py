"""course_lib.ann.exact (chapter 06, section 1): brute-force k-NN and recall@k."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib.ann import brute_force_knn, recall_at_k


@pytest.mark.parametrize("metric", ["angular", "euclidean", "dot"])
def test_brute_force_matches_a_naive_scan(data, naive_knn, metric):
    vectors, queries = data
    got = brute_force_knn(vectors, queries, 7, metric, max_block_bytes=4 * 3000 * 16)
    np.testing.assert_array_equal(got, naive_knn(vectors, queries, 7, metric))


def test_brute_force_k_equal_to_n_returns_everything_sorted(clustered, naive_knn):
    vectors = clustered(20, 3, 2, seed=2)
    got = brute_force_knn(vectors, vectors[:2], 20, "euclidean")
    np.testing.assert_array_equal(got, naive_knn(vectors, vectors[:2], 20, "euclidean"))


def test_brute_force_refuses_bad_input_with_the_fix(data):
    vectors, queries = data
    with pytest.raises(ValueError, match="larger than the number of vectors.*k <= 5"):
        brute_force_knn(vectors[:5], vectors[:1], 6)
    with pytest.raises(ValueError, match="k must be an integer >= 1, got 0"):
        brute_force_knn(vectors, queries, 0)
    with pytest.raises(TypeError, match="k must be an integer, got True"):
        brute_force_knn(vectors, queries, True)
    with pytest.raises(TypeError, match="k must be an integer, got '5'"):
        brute_force_knn(vectors, queries, "5")
    with pytest.raises(ValueError, match="metric must be one of 'angular', 'euclidean', 'dot'"):
        brute_force_knn(vectors, queries, 5, "cosine")
    with pytest.raises(ValueError, match="queries has 11 columns but 12 are expected"):
        brute_force_knn(vectors, queries[:, :11], 5)
    bad = queries.copy()
    bad[4, 0] = np.nan
    with pytest.raises(ValueError, match=r"queries contains NaN or infinite values \(rows \[4\]\)"):
        brute_force_knn(vectors, bad, 5)
    with pytest.raises(ValueError, match="vectors is empty"):
        brute_force_knn(np.zeros((0, 12)), queries, 5)
    with pytest.raises(ValueError, match="queries is empty"):
        brute_force_knn(vectors, np.zeros((0, 12)), 5)
    with pytest.raises(TypeError, match="toarray"):
        brute_force_knn(sp.csr_matrix(vectors), queries, 5)
    with pytest.raises(TypeError, match="max_block_bytes must be an integer"):
        brute_force_knn(vectors, queries, 5, max_block_bytes=1e6)


def test_recall_at_k_counts_hits_and_ignores_padding():
    truth = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    found = np.array([[4, 3, 9, -1], [-1, -1, -1, -1]])
    assert recall_at_k(found, truth) == pytest.approx(2 / 8)
    assert recall_at_k(truth, truth) == 1.0


def test_recall_at_k_refuses_bad_input():
    truth = np.array([[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="one row per query"):
        recall_at_k(truth[:1], truth)
    with pytest.raises(ValueError, match="must be 2-D"):
        recall_at_k(truth[0], truth)
    with pytest.raises(TypeError, match="found must hold integer item ids"):
        recall_at_k(truth.astype(float), truth)
    with pytest.raises(TypeError, match="truth must hold integer item ids"):
        recall_at_k(truth, [["1", "2"], ["3", "4"]])
    with pytest.raises(ValueError, match="truth is empty"):
        recall_at_k(np.zeros((0, 2), int), np.zeros((0, 2), int))
