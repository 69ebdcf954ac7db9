"""Looking inside the cold-start convnet: activations, filter playlists, similarity and outliers.

Taught in chapter 05 (what the network learned), which reproduces the analysis of Dieleman
(2014, sec. 6) on the music world and makes it playable. The package is called ``inspection``,
not ``inspect``: a module named ``inspect`` shadows Python's standard ``inspect`` module whenever
the ``course_lib`` folder itself is on ``sys.path`` (running one of its files as a script, some
editors), which breaks numpy, pandas and keras imports with baffling errors.

One file per job, in the order of the chapter:

* :mod:`~course_lib.inspection.activations` (section 1): :func:`layer_activations` reads any
  named layer of a Keras model; :func:`layer_frame_centres` maps each time step of a
  convolutional layer back to spectrogram frames, hence to audio samples; :func:`track_scores`
  reduces a layer's output over time (:func:`top_steps_scores`: the strongest few steps).
* :mod:`~course_lib.inspection.plots` (sections 2-4): :func:`plot_conv_filters`,
  :func:`plot_activation_on_spectrogram`, :func:`plot_purity_histograms`.
* :mod:`~course_lib.inspection.playlists` (section 3, exercise 5.1): :func:`filter_playlist`
  builds the post's two kinds of filter playlists: tracks whose activation *peaks* highest
  (``mode="max"``, sec. 6.1) or stays highest on *average* (``mode="mean"``, sec. 6.2);
  :func:`top_steps_playlist` ranks by the strongest few steps, between the two;
  :func:`course_split` reads the course model's held-out tracks.
* :mod:`~course_lib.inspection.listening` (section 3 on): :func:`peak_clips`,
  :func:`audio_player_row`, :func:`playlist_table` and :func:`side_by_side` make playlists
  playable and readable.
* :mod:`~course_lib.inspection.selectivity` (section 4, exercise 5.2): :func:`genre_purity`,
  :func:`chance_purity`, :func:`label_mutual_information` and :func:`attribute_selectivity`
  measure, against the music world's ground truth, how selective a filter is for a genre or an
  attribute (sec. 6.3: "very selective for certain subgenres").
* :mod:`~course_lib.inspection.similarity` (sections 5-6): :func:`similar_tracks` and
  :func:`neighbour_lists` give similarity playlists by cosine similarity (sec. 6.4);
  :func:`overlap_at_k`, :func:`jaccard_at_k` and :func:`same_label_share` compare lists.
* :mod:`~course_lib.inspection.outliers` (section 7): :func:`outlier_share`,
  :func:`album_outlier_scores` and :func:`flag_outliers` quantify and filter the intros, outros
  and covers that collaborative filtering recommends (sec. 2 and 7).
* :mod:`~course_lib.inspection.checks`: the exercise checks, reached through
  :mod:`course_lib.checks`.

Bad input (NaN spectrograms or activations, unknown layer names, playlists longer than the
catalogue, arrays of the wrong shape) raises ``ValueError`` / ``TypeError`` with a message that
names the argument and the fix; each function's docstring lists what it refuses.
"""

from __future__ import annotations

from course_lib.inspection.activations import (
    crop_offset,
    layer_activations,
    layer_frame_centres,
    layer_names,
    top_steps_scores,
    track_scores,
)
from course_lib.inspection.listening import (
    audio_player_row,
    peak_clips,
    playlist_table,
    segment_bounds,
    side_by_side,
)
from course_lib.inspection.outliers import album_outlier_scores, flag_outliers, outlier_share
from course_lib.inspection.playlists import (
    Playlist,
    course_split,
    filter_playlist,
    top_steps_playlist,
)
from course_lib.inspection.plots import (
    plot_activation_on_spectrogram,
    plot_conv_filters,
    plot_purity_histograms,
)
from course_lib.inspection.selectivity import (
    attribute_selectivity,
    chance_purity,
    genre_purity,
    label_mutual_information,
    most_selective_filter,
)
from course_lib.inspection.similarity import (
    jaccard_at_k,
    neighbour_lists,
    overlap_at_k,
    same_label_share,
    similar_tracks,
)

__all__ = [
    "Playlist",
    "album_outlier_scores",
    "attribute_selectivity",
    "audio_player_row",
    "chance_purity",
    "course_split",
    "crop_offset",
    "filter_playlist",
    "flag_outliers",
    "genre_purity",
    "jaccard_at_k",
    "label_mutual_information",
    "layer_activations",
    "layer_frame_centres",
    "layer_names",
    "most_selective_filter",
    "neighbour_lists",
    "outlier_share",
    "overlap_at_k",
    "peak_clips",
    "playlist_table",
    "plot_activation_on_spectrogram",
    "plot_conv_filters",
    "plot_purity_histograms",
    "same_label_share",
    "segment_bounds",
    "side_by_side",
    "similar_tracks",
    "top_steps_playlist",
    "top_steps_scores",
    "track_scores",
]
