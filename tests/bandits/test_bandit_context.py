"""course_lib.bandits.context (chapter 08, section 7): genre mixes and reasons."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from course_lib.bandits import because_you_played, genre_mix

PLAYS = sp.csr_matrix(np.array([[3, 1, 0, 0], [0, 0, 0, 0], [0, 2, 2, 0]]))
GENRES = np.array([0, 1, 1, 2])
VECTORS = np.array([[1.0, 0.0], [0.0, 1.0], [0.1, 1.0], [1.0, 0.1]])


def test_genre_mix_and_reasons():
    mix = genre_mix(PLAYS, GENRES)
    np.testing.assert_allclose(mix, [[0.75, 0.25, 0, 1], [0, 0, 0, 1], [0, 1, 0, 1]])
    reasons = because_you_played(
        PLAYS, users=[0, 0, 1, 2], items=[3, 2, 0, 1], item_vectors=VECTORS
    )
    # user 0 played 0 and 1: track 3 is like 0, track 2 like 1; user 1 played nothing;
    # user 2 was recommended track 1, which they played, so the reason is their other track 2
    np.testing.assert_array_equal(reasons, [0, 1, -1, 2])
    assert genre_mix(PLAYS, GENRES, n_genres=5, add_bias=False).shape == (3, 5)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"genre_ids": np.array([0, 1, 1])}, ValueError, "one entry per track \\(4\\)"),
        ({"genre_ids": np.array([0.0, 1.0, 1.5, 2.0])}, TypeError, "integer ids"),
        ({"genre_ids": np.array(["rock", "pop", "pop", "jazz"])}, TypeError, "integer ids"),
        ({"genre_ids": np.array([0, -1, 1, 2])}, ValueError, "genre_ids must be >= 0"),
        ({"n_genres": 2}, ValueError, "genre_ids go up to 2"),
        ({"n_genres": "3"}, TypeError, "n_genres must be an integer"),
        ({"add_bias": "yes"}, TypeError, "add_bias must be True or False"),
        ({"plays": sp.csr_matrix(np.array([[1, -1, 0, 0]]))}, ValueError, "negative"),
    ],
)
def test_genre_mix_refuses_bad_genres_and_plays(kwargs, error, message):
    arguments = {"plays": PLAYS, "genre_ids": GENRES, **kwargs}
    with pytest.raises(error, match=message):
        genre_mix(**arguments)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"users": [0, -1]}, "users indexes rows -1"),  # -1 would silently be the last user
        ({"users": [0, 3]}, "only 3 rows"),
        ({"items": [0, 4]}, "only 4 rows"),
        ({"users": [0.0, 1.0]}, "integer row indices"),
        ({"users": [0]}, "same length"),
        ({"item_vectors": VECTORS[:3]}, "item_vectors has 3 rows but there are 4 tracks"),
        ({"item_vectors": np.where(VECTORS > 0.5, np.nan, VECTORS)}, "item_vectors contains NaN"),
    ],
)
def test_because_you_played_refuses_bad_ids_and_vectors(kwargs, message):
    arguments = {"plays": PLAYS, "users": [0, 2], "items": [3, 1], "item_vectors": VECTORS}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        because_you_played(**arguments)
