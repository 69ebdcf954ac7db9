"""Fusion with attribute data: predicting collaborative factors from every description of a track.

Taught in chapters 07 (``chapters/07_fusion.md``) and 07b
(``chapters/07b_tags_and_ensembles.md``). They follow Nieto (2017, Pandora, "Long
tail music recommendation with deep architectures"): small networks regress the unit-norm item
factors of an implicit-feedback matrix factorisation (chapter 02) from expert attributes (the
Music Genome Project), from listener tags, from audio (chapter 04's convnet) and from genres, with
a cosine-distance loss, Adam with default parameters, 50 % dropout on the dense layers, early
stopping, and mini-batches of 64 for the audio model and 256 for the attribute model. The
sources are combined in the talk's words:

* **late fusion**: one network with a dense branch per source, the branches merged
  (concatenated) inside the network and trained end to end, the talk's "late-fusion deep
  architecture" (:func:`build_factor_mlp` with several inputs, :func:`fit_factor_mlp`);
* **early fusion**: the sources' features concatenated into one input vector of one network
  (:func:`fit_factor_mlp` with ``fusion="early"``);
* **blending**: separately trained models combined afterwards with non-negative weights fitted on
  a validation split, over their predicted factors (:func:`fit_blend_weights`, non-negative
  least squares, Breiman 1996);
* **ensembles of recommenders**: the same idea over the scores of whole recommenders
  (:func:`fit_ensemble_weights`, a pairwise logistic loss as in BPR, Rendle et al. 2009), as
  at Pandora (Nieto 2017; Dorman at Spotify ML Day 2018).

Because the long tail is the point, results are split by popularity bucket
(:func:`popularity_buckets`: head, torso, tail). The convnet, its training loop, its losses and the
factor normalisation are reused from :mod:`course_lib.convnet`; nothing is copied.

One file per job:

* :mod:`~course_lib.fusion.features`: attributes, tags, genres, untagged shares (2; 07b);
* :mod:`~course_lib.fusion.audio_model`: the cached audio convnet and its outputs (section 3);
* :mod:`~course_lib.fusion.mlp`: the factor networks, early and late fusion (sections 4, 6);
* :mod:`~course_lib.fusion.talk`: the talk's results table beside ours (section 5);
* :mod:`~course_lib.fusion.distances`: cosine distances, paired comparison, by group (5, 6);
* :mod:`~course_lib.fusion.experiments`: the repeated splits and cross-validation, by track or
  artist (5.3);
* :mod:`~course_lib.fusion.buckets`: popularity buckets and metrics per bucket (1, 7; 07b);
* :mod:`~course_lib.fusion.blending`: blending of predicted factors (section 6);
* :mod:`~course_lib.fusion.ensembles`: ensembles of recommenders (section 7; 07b);
* :mod:`~course_lib.fusion.checks`: the exercise checks (through :mod:`course_lib.checks`).

Every function that draws random numbers takes a ``seed``. Bad input raises ``TypeError`` (the
wrong kind of thing: a string or a bool where a number goes, a sparse matrix where a dense one
goes) or ``ValueError`` (NaN features, sources or targets with different numbers of rows, empty
sources, negative or all-zero weights, a split that indexes outside the catalogue), with a
message that names the argument and the fix; each public function lists what it refuses.
"""

from __future__ import annotations

from course_lib.fusion.audio_model import (
    AudioModel,
    audio_features,
    embedding_model,
    load_or_train_audio_model,
)
from course_lib.fusion.blending import blend, fit_blend_weights
from course_lib.fusion.buckets import (
    BUCKETS,
    bucket_table,
    compare_by_bucket,
    metrics_by_bucket,
    popularity_buckets,
)
from course_lib.fusion.distances import (
    cosine_distances,
    distance_by_group,
    paired_difference,
    plot_distance_by_bucket,
)
from course_lib.fusion.ensembles import ensemble_scores, fit_ensemble_weights, standardize_scores
from course_lib.fusion.experiments import fusion_gain_by_split, kfold_parts
from course_lib.fusion.features import (
    attribute_features,
    genre_features,
    tag_features,
    untagged_share,
)
from course_lib.fusion.mlp import FactorMLP, build_factor_mlp, fit_factor_mlp
from course_lib.fusion.talk import TALK_RESULTS, ordering_agreement, results_table

__all__ = [
    "BUCKETS",
    "TALK_RESULTS",
    "AudioModel",
    "FactorMLP",
    "attribute_features",
    "audio_features",
    "bucket_table",
    "compare_by_bucket",
    "blend",
    "build_factor_mlp",
    "cosine_distances",
    "distance_by_group",
    "embedding_model",
    "ensemble_scores",
    "fit_blend_weights",
    "fit_ensemble_weights",
    "fit_factor_mlp",
    "fusion_gain_by_split",
    "kfold_parts",
    "genre_features",
    "load_or_train_audio_model",
    "metrics_by_bucket",
    "ordering_agreement",
    "paired_difference",
    "plot_distance_by_bucket",
    "popularity_buckets",
    "results_table",
    "standardize_scores",
    "tag_features",
    "untagged_share",
]
