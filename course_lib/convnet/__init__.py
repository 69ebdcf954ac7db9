"""Predicting collaborative-filtering factors from audio: the cold-start convnet.

Taught in chapter 04 (and read by chapter 05, which looks inside the trained network, and by
chapter 07, which reuses it on audio patches). The idea is van den Oord, Dieleman & Schrauwen
(2013) as scaled up by Dieleman (2014): a convolutional network reads a log-mel spectrogram and
regresses the track's latent factors from an implicit-feedback matrix factorisation (chapter 02).
For a new track with no plays, the predicted factors place it in the same space as the users, so
it can be recommended on day one.

One file per job:

* :mod:`~course_lib.convnet.device`: where Keras runs (:func:`describe_device`, any backend);
* :mod:`~course_lib.convnet.layers`: :class:`GlobalTemporalPooling`;
* :mod:`~course_lib.convnet.network`: :data:`PRESETS`, :data:`LAYER_NAMES`,
  :func:`build_factor_convnet`, :func:`temporal_lengths`, :func:`min_input_frames`,
  :func:`forward_flops`;
* :mod:`~course_lib.convnet.losses`: unit-norm targets and the two losses;
* :mod:`~course_lib.convnet.data`: :func:`split_tracks`, :func:`center_crop`;
* :mod:`~course_lib.convnet.pipeline`: :func:`make_factor_dataset`, seeded random crops as a
  ``keras.utils.PyDataset`` (:class:`FactorCrops`), cut on the device on a GPU;
* :mod:`~course_lib.convnet.training`: :func:`train_factor_model`, :func:`predict_track_factors`;
* :mod:`~course_lib.convnet.saving`: the ``.keras`` format, loaded with ``safe_mode=True``;
* :mod:`~course_lib.convnet.baselines`: genre popularity, the fold-in oracle, nearest neighbours,
  the cold-start table;
* :mod:`~course_lib.convnet.course_model`: the cached course model of chapters 04 and 05
  (:func:`load_or_train_course_model`, under ``$COURSE_LIB_CACHE/convnet``, and the record of its
  training, :func:`course_model_record`);
* :mod:`~course_lib.convnet.checks`: the exercise checks of chapter 04 (through
  :mod:`course_lib.checks`).

Models are saved in the ``.keras`` format and loaded with ``safe_mode=True``: every custom piece
(the pooling layer, the losses) is a registered Keras object, so no Python code (lambdas) is
deserialised.
"""

from __future__ import annotations

from .baselines import (
    cold_start_table,
    fold_in_item_factors,
    genre_popularity_scores,
    nearest_neighbour_factors,
)
from .course_model import (
    COURSE_SETTINGS,
    CourseRun,
    course_model_path,
    course_model_record,
    load_or_train_course_model,
    save_course_run,
    train_course_model,
)
from .data import center_crop, split_tracks
from .device import default_dtype_policy, describe_device, gpu_names
from .layers import GlobalTemporalPooling
from .losses import (
    LOSSES,
    cosine_distance,
    factor_metrics,
    mean_baseline_metrics,
    normalize_factors,
    unit_mse,
)
from .network import (
    DTYPE_POLICIES,
    LAYER_NAMES,
    PRESETS,
    build_factor_convnet,
    forward_flops,
    min_input_frames,
    temporal_lengths,
)
from .pipeline import FactorCrops, make_factor_dataset
from .saving import load_factor_model, save_factor_model
from .training import TRAINING_VERSION, predict_track_factors, train_factor_model

__all__ = [
    "TRAINING_VERSION",
    "COURSE_SETTINGS",
    "DTYPE_POLICIES",
    "LAYER_NAMES",
    "LOSSES",
    "PRESETS",
    "CourseRun",
    "FactorCrops",
    "GlobalTemporalPooling",
    "build_factor_convnet",
    "center_crop",
    "cold_start_table",
    "cosine_distance",
    "course_model_path",
    "course_model_record",
    "default_dtype_policy",
    "describe_device",
    "factor_metrics",
    "fold_in_item_factors",
    "forward_flops",
    "genre_popularity_scores",
    "gpu_names",
    "load_factor_model",
    "load_or_train_course_model",
    "make_factor_dataset",
    "mean_baseline_metrics",
    "min_input_frames",
    "nearest_neighbour_factors",
    "normalize_factors",
    "predict_track_factors",
    "save_course_run",
    "save_factor_model",
    "split_tracks",
    "temporal_lengths",
    "train_course_model",
    "train_factor_model",
    "unit_mse",
]
