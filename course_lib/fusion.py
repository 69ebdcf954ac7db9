"""Fusion with attribute data: predicting collaborative factors from every description of a track.

Taught in chapter 07 (``chapters/07_fusion.md``). The chapter follows Nieto (2017, Pandora, "Long
tail music recommendation with deep architectures"): small networks regress the unit-norm item
factors of an implicit-feedback matrix factorisation (chapter 02) from expert attributes (the
Music Genome Project), from listener tags, from audio (chapter 04's convnet) and from genres, with
a cosine-distance loss, Adam with default parameters, 50 % dropout on the dense layers, early
stopping and mini-batches of 64. The sources are then combined in two ways:

* **early fusion**: the inputs are concatenated inside one network (:func:`build_factor_mlp` with
  several inputs), trained end to end;
* **late fusion**: separately trained models are combined afterwards with non-negative weights
  fitted on a validation split, either over their predicted factors (:func:`fit_blend_weights`,
  non-negative least squares, Breiman 1996) or over the scores of whole recommenders
  (:func:`fit_ensemble_weights`, a pairwise logistic loss as in BPR, Rendle et al. 2009), the
  "ensemble of recommenders" of Pandora (Nieto 2017; Dorman at Spotify ML Day 2018).

Because the long tail is the point, results are split by popularity bucket
(:func:`popularity_buckets`: head, torso, tail). The convnet, its training loop, its losses and the
factor normalisation are reused from :mod:`course_lib.convnet`; nothing is copied.

Every function that draws random numbers takes a ``seed``; misaligned inputs (a feature matrix
with the wrong number of rows, a split that indexes outside it) raise ``ValueError`` naming the
problem.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from course_lib import _quiet  # noqa: F401  (silences TensorFlow before keras is imported)

if TYPE_CHECKING:
    import keras
    from matplotlib.figure import Figure

__all__ = [
    "BUCKETS",
    "TALK_RESULTS",
    "AudioModel",
    "FactorMLP",
    "attribute_features",
    "audio_features",
    "bucket_table",
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

#: Popularity bucket names, most popular first.
BUCKETS: tuple[str, ...] = ("head", "torso", "tail")

#: The results table of Nieto (2017), quoted from the talk's slides: test-set cosine distance
#: between predicted and true (unit-norm) item factors, epochs until early stopping and time per
#: epoch, on 83k Pandora tracks. Keys are the course's row names; ``talk_input`` is the talk's
#: wording. "MLG" in the talk is "machine listening genes" (attributes estimated from audio); the
#: course puts its listener-tag model on that row (both are cheaper and noisier than experts).
TALK_RESULTS: dict[str, dict[str, Any]] = {
    "audio (patches)": {
        "talk_input": "Audio (35s patches)",
        "cosine_distance": 0.25,
        "epochs": 22,
        "time_per_epoch": "~2h",
    },
    "audio (full tracks)": {
        "talk_input": "Audio (full tracks)",
        "cosine_distance": 0.21,
        "epochs": None,
        "time_per_epoch": "-",
    },
    "attributes": {
        "talk_input": "MGP",
        "cosine_distance": 0.15,
        "epochs": 37,
        "time_per_epoch": "7s",
    },
    "tags": {"talk_input": "MLG", "cosine_distance": 0.22, "epochs": 37, "time_per_epoch": "7s"},
    "audio + tags": {
        "talk_input": "Audio + MLG",
        "cosine_distance": 0.19,
        "epochs": 37,
        "time_per_epoch": "7s",
    },
    "audio + tags + genres": {
        "talk_input": "Audio + MLG + genres",
        "cosine_distance": 0.16,
        "epochs": 37,
        "time_per_epoch": "7s",
    },
}


# --------------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------------
def _rows(x: Any, name: str) -> np.ndarray:
    """A finite 2-D float32 array (dense) from an array or sparse matrix."""
    if sp.issparse(x):
        x = x.toarray()
    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_tracks, n_features), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} holds NaN or infinite values; clean them before fusing")
    return arr


def _index(idx: Any, n: int, name: str) -> np.ndarray:
    arr = np.asarray(idx)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name} must be a 1-D array of integer row indices")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ValueError(
            f"{name} indexes rows {arr.min()}..{arr.max()} but there are only {n} rows: "
            "the split and the features/targets come from different catalogues"
        )
    return arr


def _get(world_or_array: Any, attr: str) -> Any:
    return getattr(world_or_array, attr) if hasattr(world_or_array, attr) else world_or_array


# --------------------------------------------------------------------------------------------
# Feature assembly
# --------------------------------------------------------------------------------------------
def attribute_features(world_or_attributes: Any, fit_rows: Any = None) -> np.ndarray:
    """Expert attributes, standardised per column (zero mean, unit variance).

    The Music Genome Project of Nieto (2017): about 400 attributes per track rated by trained
    musicologists; the music world has 15 such ratings (``world.attributes``). The mean and
    standard deviation are computed on ``fit_rows`` (the training tracks) so that nothing about
    the test tracks leaks into the features.

    Parameters
    ----------
    world_or_attributes : MusicWorld or array (n_tracks, n_attributes)
    fit_rows : array of int, optional
        Rows that define the mean and scale; default all rows.

    Returns
    -------
    np.ndarray float32 (n_tracks, n_attributes)
    """
    x = _rows(_get(world_or_attributes, "attributes"), "attributes")
    rows = _index(np.arange(len(x)) if fit_rows is None else fit_rows, len(x), "fit_rows")
    if rows.size == 0:
        raise ValueError("fit_rows is empty: pass the training rows")
    mean = x[rows].mean(axis=0)
    std = x[rows].std(axis=0)
    return ((x - mean) / np.where(std > 0, std, 1.0)).astype(np.float32)


def tag_features(world_or_tags: Any, weighting: str = "tfidf", fit_rows: Any = None) -> np.ndarray:
    """Listener-tag counts turned into a unit-norm bag of tags per track.

    ``weighting="log"``: ``log(1 + count)``; ``"tfidf"``: that times the inverse document
    frequency ``idf_t = log((1 + n) / (1 + df_t)) + 1`` computed on ``fit_rows`` (scikit-learn's
    smoothed idf); ``"binary"``: 1 where a tag was given. Each row is then scaled to unit L2 norm,
    so a track tagged 300 times and one tagged 3 times with the same proportions look alike. A
    track nobody tagged keeps a row of zeros: that is the long-tail problem of chapter 07.

    Parameters
    ----------
    world_or_tags : MusicWorld or (sparse) array (n_tracks, n_tags) of counts
    weighting : {"tfidf", "log", "binary"}
    fit_rows : array of int, optional
        Rows whose tags define the idf; default all rows.

    Returns
    -------
    np.ndarray float32 (n_tracks, n_tags)
    """
    counts = _rows(_get(world_or_tags, "tags"), "tags")
    if np.any(counts < 0):
        raise ValueError("tag counts must be >= 0")
    if weighting == "log":
        x = np.log1p(counts)
    elif weighting == "binary":
        x = (counts > 0).astype(np.float32)
    elif weighting == "tfidf":
        rows = _index(
            np.arange(len(counts)) if fit_rows is None else fit_rows, len(counts), "fit_rows"
        )
        df = (counts[rows] > 0).sum(axis=0)
        idf = np.log((1.0 + rows.size) / (1.0 + df)) + 1.0
        x = np.log1p(counts) * idf[None, :]
    else:
        raise ValueError(f"weighting must be 'tfidf', 'log' or 'binary', got {weighting!r}")
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.where(norms > 0, x / np.maximum(norms, 1e-12), 0.0).astype(np.float32)


def untagged_share(tags: Any, buckets: np.ndarray) -> dict[str, float]:
    """Share of tracks that carry no tag at all, in each popularity bucket.

    A track is untagged when its row of tag counts sums to zero (stored zeros are not tags).
    Listener tags accumulate with listening, so this share grows towards the tail (Celma 2010,
    ch. 5; Nieto 2017): the reason a tag-based model cannot help where help is needed most.

    Parameters
    ----------
    tags : (sparse) array (n_tracks, n_tags) of counts
    buckets : array of str (n_tracks,), e.g. from :func:`popularity_buckets`

    Returns
    -------
    dict bucket -> share in [0, 1], buckets in order of first appearance in :data:`BUCKETS`,
    then any other labels sorted
    """
    counts = _rows(tags, "tags")
    labels = np.asarray(buckets).astype(str)
    if labels.shape != (len(counts),):
        raise ValueError(f"need one bucket label per track ({len(counts)}), got {labels.shape}")
    untagged = counts.sum(axis=1) <= 0
    present = set(labels.tolist())
    order = [b for b in BUCKETS if b in present] + sorted(present - set(BUCKETS))
    return {b: float(untagged[labels == b].mean()) for b in order}


def genre_features(world_or_genre_ids: Any, n_genres: int | None = None) -> np.ndarray:
    """One-hot genre labels, float32 ``(n_tracks, n_genres)``.

    Parameters
    ----------
    world_or_genre_ids : MusicWorld or array of int (n_tracks,)
        A world (its ``tracks.genre_id`` and ``genre_names``) or the genre ids themselves.
    n_genres : int, optional
        Number of columns; default ``len(world.genre_names)`` or ``max id + 1``.
    """
    if hasattr(world_or_genre_ids, "tracks"):
        ids = world_or_genre_ids.tracks["genre_id"].to_numpy()
        n_genres = n_genres or len(world_or_genre_ids.genre_names)
    else:
        ids = np.asarray(world_or_genre_ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError("genre ids must be a 1-D integer array (one id per track)")
    if ids.size and ids.min() < 0:
        raise ValueError("genre ids must be >= 0")
    n = int(n_genres or (ids.max() + 1 if ids.size else 0))
    if ids.size and ids.max() >= n:
        raise ValueError(f"genre id {ids.max()} does not fit in n_genres={n}")
    out = np.zeros((ids.size, n), dtype=np.float32)
    out[np.arange(ids.size), ids] = 1.0
    return out


def embedding_model(model: keras.Model, layer: str = "dense2") -> keras.Model:
    """A Keras sub-model that outputs ``layer``'s activations (default: the penultimate layer).

    Chapter 04's convnet names its layers (:data:`course_lib.convnet.LAYER_NAMES`); ``"dense2"``
    is the last hidden layer, the learned audio embedding that the ``factors`` layer reads.
    """
    import keras

    try:
        out = model.get_layer(layer).output
    except ValueError as err:
        names = [lay.name for lay in model.layers]
        raise ValueError(f"model has no layer {layer!r}; its layers are {names}") from err
    return keras.Model(model.inputs, out, name=f"{model.name}_{layer}")


def audio_features(
    model: keras.Model,
    log_mels: np.ndarray,
    mode: str = "track",
    output: str = "embedding",
    *,
    layer: str = "dense2",
    hop: int | None = None,
    chunk: int = 256,
) -> np.ndarray:
    """Audio descriptors from chapter 04's convnet, for a fixed patch or for the whole track.

    ``mode="patch"``: the network reads the centre crop of its input length
    (:func:`course_lib.convnet.center_crop`), like a model evaluated on 35-second patches in
    Nieto (2017). ``mode="track"``: it reads sliding windows over the whole clip and the outputs
    are averaged (:func:`course_lib.convnet.predict_track_factors`; van den Oord et al. 2013).
    ``output="factors"`` returns the predicted factors, ``"embedding"`` the activations of
    ``layer`` (the penultimate layer by default), which fusion networks take as input: for a
    patch they come from chapter 05's :func:`course_lib.inspection.layer_activations`, for a
    whole track from :func:`embedding_model` run over the same windows as the factors.

    Parameters
    ----------
    model : keras.Model
        A trained factor convnet (:func:`course_lib.convnet.build_factor_convnet`).
    log_mels : array (n_tracks, n_frames, n_mels)
    mode : {"patch", "track"}
    output : {"embedding", "factors"}
    layer : str
        Layer read when ``output="embedding"``.
    hop : int, optional
        Window step for ``mode="track"``; default half the model's input length.
    chunk : int
        Tracks processed at once (bounds memory).

    Returns
    -------
    np.ndarray float32 (n_tracks, n_outputs)
    """
    from course_lib.convnet import center_crop, predict_track_factors

    if mode not in ("patch", "track"):
        raise ValueError(f"mode must be 'patch' or 'track', got {mode!r}")
    if output not in ("embedding", "factors"):
        raise ValueError(f"output must be 'embedding' or 'factors', got {output!r}")
    x = np.asarray(log_mels)
    if x.ndim != 3:
        raise ValueError(f"log_mels must be (n_tracks, n_frames, n_mels), got shape {x.shape}")
    if output == "embedding" and mode == "patch":
        from course_lib.inspection import layer_activations  # chapter 05: centre crop, same as ours

        try:
            model.get_layer(layer)
        except ValueError as err:
            names = [lay.name for lay in model.layers]
            raise ValueError(f"model has no layer {layer!r}; its layers are {names}") from err
    net = embedding_model(model, layer) if output == "embedding" and mode == "track" else model
    n_frames = int(model.input_shape[1])
    parts = []
    for start in range(0, len(x), chunk):
        block = np.asarray(x[start : start + chunk], dtype=np.float32)
        if mode == "patch" and output == "embedding":
            parts.append(layer_activations(model, layer, block, batch_size=128))
        elif mode == "patch":
            crop = np.ascontiguousarray(center_crop(block, n_frames))
            parts.append(np.asarray(net.predict(crop, batch_size=128, verbose=0)))
        else:
            parts.append(predict_track_factors(net, block, window=n_frames, hop=hop))
    return np.concatenate(parts, axis=0).astype(np.float32)


# --------------------------------------------------------------------------------------------
# The audio model of chapter 07 (chapter 04's convnet, trained on this chapter's split)
# --------------------------------------------------------------------------------------------
@dataclass
class AudioModel:
    """A trained factor convnet plus what the results table needs (epochs, seconds per epoch)."""

    model: keras.Model
    history: dict[str, list[float]]
    epochs: int
    seconds_per_epoch: float
    device: str
    cached: bool


def _fingerprint(*arrays: np.ndarray, settings: Mapping[str, Any]) -> str:
    h = hashlib.sha256(json.dumps(dict(settings), sort_keys=True).encode())
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str(a.shape).encode())
        rounded = np.round(a.astype(np.float64), 4) if a.dtype.kind == "f" else a
        h.update(rounded.tobytes())
    return h.hexdigest()[:12]


def load_or_train_audio_model(
    world: Any,
    targets: np.ndarray,
    split: Mapping[str, np.ndarray],
    *,
    n_frames: int = 200,
    preset: str = "course",
    epochs: int = 30,
    batch_size: int = 64,
    patience: int = 4,
    seed: int = 0,
    retrain: bool = False,
    log_mels: np.ndarray | None = None,
) -> AudioModel:
    """Chapter 04's convnet trained on patches of ``n_frames`` frames, for this chapter's split.

    Builds the network with :func:`course_lib.convnet.build_factor_convnet` and fits it with
    :func:`course_lib.convnet.train_factor_model` (random crops, Adam, early stopping) using the
    cosine-distance loss and mini-batches of 64, the settings of Nieto (2017). The model is cached
    under ``$COURSE_LIB_CACHE/fusion`` keyed by a fingerprint of the targets, the split and the
    settings, with a ``.json`` holding the history and the measured seconds per epoch.

    Parameters
    ----------
    world : MusicWorld
        Supplies the log-mel spectrograms (``world.log_mel()``) unless ``log_mels`` is given.
    targets : array (n_tracks, n_factors)
        Item factors, one row per track (normalised to unit norm inside).
    split : mapping with int arrays "train" and "val"
    n_frames : int
        Patch length in frames (the network's input length).
    preset, epochs, batch_size, patience, seed
        Passed to chapter 04's builder and training loop.
    retrain : bool
        Ignore the cache.
    log_mels : array, optional
        Spectrograms of all tracks, if already loaded.

    Returns
    -------
    AudioModel
    """
    from course_lib.audio import cache_dir
    from course_lib.convnet import (
        build_factor_convnet,
        describe_device,
        load_factor_model,
        save_factor_model,
        train_factor_model,
    )

    targets = _rows(targets, "targets")
    for part in ("train", "val"):
        if part not in split:
            raise ValueError(f"split needs a {part!r} array (use convnet.split_tracks)")
    train_idx = _index(split["train"], len(targets), "split['train']")
    val_idx = _index(split["val"], len(targets), "split['val']")
    settings = {
        "n_frames": n_frames,
        "preset": preset,
        "epochs": epochs,
        "batch_size": batch_size,
        "patience": patience,
        "seed": seed,
        "loss": "cosine",
        "world": [str(getattr(world, "size", "?")), int(getattr(world, "seed", -1))],
    }
    key = _fingerprint(targets, train_idx, val_idx, settings=settings)
    path = cache_dir("fusion") / f"audio_convnet_{key}.keras"
    meta_path = path.with_suffix(".json")
    if path.exists() and meta_path.exists() and not retrain:
        meta = json.loads(meta_path.read_text())
        return AudioModel(
            load_factor_model(path),
            meta["history"],
            meta["epochs"],
            meta["seconds_per_epoch"],
            meta["device"],
            cached=True,
        )
    mels = world.log_mel(progress=False) if log_mels is None else log_mels
    if len(mels) != len(targets):
        raise ValueError(f"{len(mels)} spectrograms but {len(targets)} target rows")
    model = build_factor_convnet(
        n_frames, mels.shape[2], targets.shape[1], preset=preset, seed=seed
    )
    history = train_factor_model(
        model,
        mels,
        targets,
        train_idx,
        val_idx,
        loss="cosine",
        epochs=epochs,
        batch_size=batch_size,
        patience=patience,
        seed=seed,
    )
    hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    n_epochs = len(hist["loss"])
    meta = {
        "history": hist,
        "epochs": n_epochs,
        "seconds_per_epoch": history.seconds / n_epochs,
        "device": describe_device(),
        "settings": settings,
    }
    save_factor_model(model, path)
    meta_path.write_text(json.dumps(meta))
    return AudioModel(
        model, hist, n_epochs, meta["seconds_per_epoch"], meta["device"], cached=False
    )


# --------------------------------------------------------------------------------------------
# Factor regression networks (one source or several: early fusion)
# --------------------------------------------------------------------------------------------
def _layer_name(name: str) -> str:
    clean = "".join(c if c.isalnum() else "_" for c in name).strip("_")
    if not clean:
        raise ValueError(f"cannot make a layer name from input name {name!r}")
    return clean


def build_factor_mlp(
    input_dims: Mapping[str, int] | int,
    n_factors: int,
    *,
    branch_units: int = 64,
    hidden_units: Sequence[int] = (128,),
    dropout: float = 0.5,
    seed: int = 0,
) -> keras.Model:
    """A small network from one or several feature vectors to ``n_factors`` latent factors.

    Each input ``name`` gets its own dense branch (``{name}_dense``, ReLU, ``branch_units``) with
    dropout; several branches are concatenated (layer ``fusion``), so the sources meet inside one
    network trained end to end (the "late-fusion deep architecture" of Nieto 2017; early fusion
    in this course's words, because one network sees all inputs). Then ``hidden_units`` dense
    ReLU layers with dropout and a linear ``factors`` output. Nieto (2017) uses 50 % dropout on
    the dense layers.

    Parameters
    ----------
    input_dims : mapping name -> feature dimension, or one int (a single input called "x")
    n_factors : int
    branch_units : int
        Width of each per-input branch.
    hidden_units : sequence of int
        Widths of the shared hidden layers after the merge (may be empty).
    dropout : float in [0, 1)
    seed : int
        Seeds initialisation and dropout.

    Returns
    -------
    keras.Model
        Uncompiled; its inputs are named after ``input_dims``'s keys.
    """
    import keras

    dims = {"x": input_dims} if isinstance(input_dims, (int, np.integer)) else dict(input_dims)
    if not dims:
        raise ValueError("input_dims is empty: give at least one input")
    for name, d in dims.items():
        if not isinstance(d, (int, np.integer)) or d < 1:
            raise ValueError(f"input {name!r} must have a positive integer dimension, got {d!r}")
    if not isinstance(n_factors, (int, np.integer)) or n_factors < 1:
        raise ValueError(f"n_factors must be a positive integer, got {n_factors!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    init = keras.initializers.GlorotUniform
    inputs, branches = [], []
    for i, (name, d) in enumerate(dims.items()):
        lname = _layer_name(name)
        inp = keras.Input(shape=(int(d),), name=lname)
        x = keras.layers.Dense(
            branch_units,
            activation="relu",
            name=f"{lname}_dense",
            kernel_initializer=init(seed=seed + i),
        )(inp)
        x = keras.layers.Dropout(dropout, seed=seed + 100 + i, name=f"{lname}_dropout")(x)
        inputs.append(inp)
        branches.append(x)
    x = branches[0] if len(branches) == 1 else keras.layers.Concatenate(name="fusion")(branches)
    for j, units in enumerate(hidden_units):
        x = keras.layers.Dense(
            int(units),
            activation="relu",
            name=f"hidden{j + 1}",
            kernel_initializer=init(seed=seed + 200 + j),
        )(x)
        x = keras.layers.Dropout(dropout, seed=seed + 300 + j, name=f"hidden{j + 1}_dropout")(x)
    out = keras.layers.Dense(
        int(n_factors), name="factors", kernel_initializer=init(seed=seed + 400)
    )(x)
    return keras.Model(inputs, out, name="factor_mlp_" + "_".join(_layer_name(n) for n in dims))


@dataclass
class FactorMLP:
    """A trained factor network and its bookkeeping (from :func:`fit_factor_mlp`)."""

    model: keras.Model
    sources: tuple[str, ...]
    history: dict[str, list[float]]
    seconds: float
    best_epoch: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def epochs(self) -> int:
        """Epochs run before early stopping ended training."""
        return len(self.history.get("loss", []))

    @property
    def seconds_per_epoch(self) -> float:
        return self.seconds / max(self.epochs, 1)

    def predict(self, features: Mapping[str, Any], rows: Any = None) -> np.ndarray:
        """Predicted factors for ``rows`` (default all) of the feature matrices."""
        xs = _select(features, self.sources, rows)
        # A direct call (inference mode) instead of model.predict: no tf.function is traced per
        # model, which keeps a notebook that trains many small networks quiet and quick.
        out = self.model(xs, training=False)
        return np.asarray(out, dtype=np.float32)


def _select(features: Mapping[str, Any], sources: Sequence[str], rows: Any) -> list[np.ndarray]:
    missing = [s for s in sources if s not in features]
    if missing:
        raise ValueError(f"features has no {missing}; it has {sorted(features)}")
    arrays = [_rows(features[s], f"features[{s!r}]") for s in sources]
    n = {len(a) for a in arrays}
    if len(n) != 1:
        sizes = {s: len(a) for s, a in zip(sources, arrays)}
        raise ValueError(
            f"feature matrices have different numbers of rows {sizes}; "
            "every source needs one row per track, in the same order"
        )
    if rows is None:
        return arrays
    idx = _index(rows, len(arrays[0]), "rows")
    return [a[idx] for a in arrays]


def fit_factor_mlp(
    features: Mapping[str, Any],
    targets: np.ndarray,
    split: Mapping[str, np.ndarray],
    *,
    sources: Sequence[str] | None = None,
    branch_units: int = 64,
    hidden_units: Sequence[int] = (128,),
    dropout: float = 0.5,
    epochs: int = 200,
    batch_size: int = 64,
    patience: int = 10,
    seed: int = 0,
    verbose: int = 0,
) -> FactorMLP:
    """Train :func:`build_factor_mlp` to predict unit-norm ``targets`` from the chosen sources.

    Nieto (2017): loss ``L = 1 - (1/M) sum f(x)^T y / (||f(x)|| ||y||)``
    (:func:`course_lib.convnet.cosine_distance`, the same Keras loss chapter 04 trains with), Adam
    with default parameters, 50 % dropout on dense layers, early stopping on the validation loss
    (best weights restored) and mini-batches of 64. Several ``sources`` make an early-fusion
    network.

    Parameters
    ----------
    features : mapping source name -> array (n_tracks, dim)
        One row per track, same order as ``targets``.
    targets : array (n_tracks, n_factors)
        Item factors (normalised to unit norm inside, :func:`course_lib.convnet.normalize_factors`).
    split : mapping with int arrays "train" and "val"
    sources : sequence of str, optional
        Which features to use (default all, in the mapping's order).
    branch_units, hidden_units, dropout
        Architecture (:func:`build_factor_mlp`).
    epochs, batch_size, patience, seed, verbose
        ``epochs`` is an upper bound; early stopping usually ends training first.

    Returns
    -------
    FactorMLP
    """
    import keras

    from course_lib.convnet import cosine_distance, normalize_factors

    names = tuple(features) if sources is None else tuple(sources)
    if not names:
        raise ValueError("no sources selected")
    y = normalize_factors(_rows(targets, "targets"))
    xs = _select(features, names, None)
    if len(xs[0]) != len(y):
        raise ValueError(
            f"features have {len(xs[0])} rows but targets has {len(y)}: "
            "pass one row per track for both, in the same order"
        )
    for part in ("train", "val"):
        if part not in split:
            raise ValueError(f"split needs a {part!r} array (use convnet.split_tracks)")
    tr = _index(split["train"], len(y), "split['train']")
    va = _index(split["val"], len(y), "split['val']")
    if tr.size == 0 or va.size == 0:
        raise ValueError("the train and validation parts of the split must be non-empty")
    if np.intersect1d(tr, va).size:
        raise ValueError("train and validation rows overlap; use disjoint parts of the split")
    keras.utils.set_random_seed(seed)
    model = build_factor_mlp(
        {n: x.shape[1] for n, x in zip(names, xs)},
        y.shape[1],
        branch_units=branch_units,
        hidden_units=hidden_units,
        dropout=dropout,
        seed=seed,
    )
    model.compile(optimizer=keras.optimizers.Adam(), loss=cosine_distance)
    stop = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=patience, restore_best_weights=True
    )
    start = time.perf_counter()
    history = model.fit(
        [x[tr] for x in xs],
        y[tr],
        validation_data=([x[va] for x in xs], y[va]),
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        verbose=verbose,
        callbacks=[stop],
    )
    seconds = time.perf_counter() - start
    hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    best = int(np.argmin(hist["val_loss"])) + 1
    return FactorMLP(model, names, hist, seconds, best)


def fusion_gain_by_split(
    world: Any,
    seeds: Sequence[int],
    *,
    als_settings: Mapping[str, Any],
    n_frames: int = 256,
    audio_epochs: int = 100,
    max_epochs: int = 300,
    patience: int = 10,
    batch_size: int = 64,
    log_mels: np.ndarray | None = None,
) -> pd.DataFrame:
    """Repeat chapter 07's audio / attributes / audio + attributes comparison on other splits.

    One test split of some 150 tracks cannot tell a gain of a hundredth from luck. For each seed
    this redraws everything that depends on it, as chapter 07 does for its own seed: the held-out
    plays (:func:`course_lib.evaluation.split_plays`, 20 % then 12.5 %), the ALS factors
    (:func:`course_lib.als.fit_als` with ``als_settings``), the 80/10/10 split by track
    (:func:`course_lib.convnet.split_tracks`), the audio convnet
    (:func:`load_or_train_audio_model`, cached) and the two factor networks
    (:func:`fit_factor_mlp`), and measures the mean test cosine distance of each model.

    Returns
    -------
    pandas.DataFrame
        One row per seed: the three distances, ``best single`` (the better of audio and
        attributes), ``gain`` (best single minus fused: positive when fusion helps) and
        ``test tracks``.
    """
    from course_lib.als import fit_als
    from course_lib.convnet import split_tracks
    from course_lib.evaluation import split_plays

    if len(seeds) == 0:
        raise ValueError("seeds is empty: give at least one seed")
    mels = world.log_mel(progress=False) if log_mels is None else log_mels
    rows = {}
    for seed in seeds:
        seed = int(seed)
        plays_train, _ = split_plays(world.plays, test_fraction=0.2, seed=seed)
        plays_fit, _ = split_plays(plays_train, test_fraction=0.125, seed=seed + 1)
        _, targets = fit_als(plays_fit, seed=seed, progress=False, **dict(als_settings))
        warm = np.flatnonzero(np.linalg.norm(targets, axis=1) > 0)
        split = split_tracks(world.tracks, by="track", seed=seed, candidates=warm)
        audio = load_or_train_audio_model(
            world,
            targets,
            split,
            n_frames=n_frames,
            epochs=audio_epochs,
            batch_size=batch_size,
            patience=patience,
            seed=seed,
            log_mels=mels,
        )
        features = {
            "audio": audio_features(audio.model, mels, "track", "factors"),
            "attributes": attribute_features(world, fit_rows=split["train"]),
        }
        test = split["test"]
        row = {
            "audio (full tracks)": cosine_distances(features["audio"][test], targets[test]).mean()
        }
        for name, sources in (
            ("attributes", ["attributes"]),
            ("audio + attributes", ["audio", "attributes"]),
        ):
            net = fit_factor_mlp(
                features,
                targets,
                split,
                sources=sources,
                epochs=max_epochs,
                batch_size=batch_size,
                patience=patience,
                seed=seed,
            )
            row[name] = cosine_distances(net.predict(features, test), targets[test]).mean()
        row["best single"] = min(row["audio (full tracks)"], row["attributes"])
        row["gain"] = row["best single"] - row["audio + attributes"]
        row["test tracks"] = int(test.size)
        rows[seed] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "seed"
    return table


# --------------------------------------------------------------------------------------------
# Measuring: cosine distance per track, by group
# --------------------------------------------------------------------------------------------
def cosine_distances(predicted: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per-track cosine distance ``1 - p.y / (||p|| ||y||)`` (0 = same direction, 2 = opposite).

    The quantity Nieto (2017) reports, before averaging over the test set. A zero prediction
    counts as distance 1 (no information about the direction).
    """
    p = _rows(predicted, "predicted").astype(np.float64)
    y = _rows(targets, "targets").astype(np.float64)
    if p.shape != y.shape:
        raise ValueError(f"predicted {p.shape} and targets {y.shape} must have the same shape")
    pn = np.linalg.norm(p, axis=1)
    yn = np.linalg.norm(y, axis=1)
    cos = np.sum(p * y, axis=1) / np.maximum(pn * yn, 1e-12)
    return 1.0 - cos


def paired_difference(
    distances_a: np.ndarray,
    distances_b: np.ndarray,
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, float]:
    """Compare two models on the same test tracks: mean of ``a - b`` with a bootstrap interval.

    Both arrays hold one distance per test track, in the same order (:func:`cosine_distances`).
    Because the tracks are the same, the per-track differences carry the comparison (a paired
    design), and resampling the tracks with replacement ``n_boot`` times gives a percentile
    interval for their mean (Efron & Tibshirani 1993, ch. 13). Negative means ``a`` is better.

    Returns
    -------
    dict with ``mean``, ``low`` and ``high`` (the interval at ``level``), ``share_a_better`` (the
    fraction of tracks where ``a`` is strictly closer) and ``n`` (tracks).
    """
    a = np.asarray(distances_a, dtype=np.float64)
    b = np.asarray(distances_b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(
            f"distances_a {a.shape} and distances_b {b.shape} must be 1-D and of equal length, "
            "one distance per test track in the same order"
        )
    if a.size < 2:
        raise ValueError("need at least two paired distances")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("distances contain NaN or infinity; compute them on valid predictions")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 100:
        raise ValueError(f"n_boot must be an integer of at least 100, got {n_boot!r}")
    diff = a - b
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, diff.size, size=(n_boot, diff.size))].mean(axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return {
        "mean": float(diff.mean()),
        "low": float(low),
        "high": float(high),
        "share_a_better": float(np.mean(diff < 0)),
        "n": int(diff.size),
    }


def distance_by_group(
    predictions: Mapping[str, np.ndarray],
    targets: np.ndarray,
    rows: Any,
    groups: Mapping[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Mean cosine distance of each model on ``rows``, overall and per group.

    Parameters
    ----------
    predictions : mapping model name -> array (n_tracks, n_factors), all tracks
    targets : array (n_tracks, n_factors)
    rows : array of int
        The evaluation tracks (e.g. the test split).
    groups : mapping group name -> boolean mask over all tracks, optional
        E.g. ``{"tail": buckets == "tail", "tail, no tags": ...}``; each adds a column.

    Returns
    -------
    pandas.DataFrame
        One row per model; columns ``all`` and one per group; a final row ``n tracks``.
    """
    y = _rows(targets, "targets")
    idx = _index(rows, len(y), "rows")
    masks = {"all": np.ones(len(y), dtype=bool)}
    for g, m in (groups or {}).items():
        m = np.asarray(m, dtype=bool)
        if m.shape != (len(y),):
            raise ValueError(
                f"group {g!r} must be a boolean mask with one entry per track "
                f"({len(y)}), got shape {m.shape}"
            )
        masks[g] = m
    table: dict[str, dict[str, float]] = {}
    for name, pred in predictions.items():
        p = _rows(pred, f"predictions[{name!r}]")
        if p.shape != y.shape:
            raise ValueError(f"predictions[{name!r}] has shape {p.shape}, targets {y.shape}")
        d = cosine_distances(p[idx], y[idx])
        table[name] = {
            g: float(d[m[idx]].mean()) if m[idx].any() else float("nan") for g, m in masks.items()
        }
    out = pd.DataFrame(table).T
    out.loc["n tracks"] = [int(m[idx].sum()) for m in masks.values()]
    return out


# --------------------------------------------------------------------------------------------
# Late fusion of predicted factors
# --------------------------------------------------------------------------------------------
def _stack_predictions(predictions: Sequence[np.ndarray] | Mapping[str, np.ndarray]) -> list:
    preds = list(predictions.values()) if isinstance(predictions, Mapping) else list(predictions)
    if not preds:
        raise ValueError("give at least one model's predictions")
    arrays = [_rows(p, f"predictions[{i}]") for i, p in enumerate(preds)]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"all predictions must have the same shape, got {sorted(shapes)}")
    return arrays


def _unit_rows(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return np.where(n > 0, x / np.maximum(n, 1e-12), 0.0)


def fit_blend_weights(
    predictions: Sequence[np.ndarray] | Mapping[str, np.ndarray], targets: np.ndarray
) -> np.ndarray:
    """Non-negative blending weights for several models' predicted factors (late fusion).

    Every prediction and target row is first scaled to unit length (only directions matter for
    the cosine distance); then ``w >= 0`` minimises the squared error of the blend,
    ``|| sum_m w_m P_m - Y ||_F^2`` (non-negative least squares, Lawson & Hanson 1974; the
    non-negativity that Breiman 1996 found essential for stacked regressions). Fit it on the
    validation tracks, never on the test tracks.

    Parameters
    ----------
    predictions : sequence (or mapping) of arrays (n_tracks, n_factors)
        Each model's predictions for the same tracks.
    targets : array (n_tracks, n_factors)

    Returns
    -------
    np.ndarray float64 (n_models,)
    """
    from scipy.optimize import nnls

    preds = _stack_predictions(predictions)
    y = _rows(targets, "targets")
    if preds[0].shape != y.shape:
        raise ValueError(
            f"predictions {preds[0].shape} and targets {y.shape} differ in shape; "
            "pass the predictions for exactly the target rows"
        )
    a = np.stack([_unit_rows(p.astype(np.float64)).ravel() for p in preds], axis=1)
    w, _ = nnls(a, _unit_rows(y.astype(np.float64)).ravel())
    return w


def blend(predictions: Sequence[np.ndarray] | Mapping[str, np.ndarray], weights: Any) -> np.ndarray:
    """``sum_m w_m * P_m / ||P_m row||``: the late-fusion prediction (float32)."""
    preds = _stack_predictions(predictions)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (len(preds),):
        raise ValueError(f"need one weight per model ({len(preds)}), got shape {w.shape}")
    out = sum(wi * _unit_rows(p.astype(np.float64)) for wi, p in zip(w, preds))
    return np.asarray(out, dtype=np.float32)


# --------------------------------------------------------------------------------------------
# Popularity buckets and per-bucket ranking metrics
# --------------------------------------------------------------------------------------------
def popularity_buckets(
    plays: Any, head: float = 0.2, tail: float = 0.5, items: Any = None
) -> np.ndarray:
    """Label tracks "head", "torso" or "tail" by their number of listeners.

    Tracks are ranked by how many users played them (the popularity of chapter 01's
    ``ranking_metrics``), ties broken by index; the ``head`` share of most popular tracks is the
    head, the ``tail`` share of least popular ones the tail, the rest the torso (Celma 2010 splits
    the long tail the same way, with other thresholds).

    Parameters
    ----------
    plays : sparse matrix (n_users, n_tracks)
    head, tail : float
        Shares of the ranked tracks, ``head + tail <= 1``.
    items : array of int, optional
        Rank only these columns (e.g. the warm tracks, or the new tracks with their future plays);
        default all columns.

    Returns
    -------
    np.ndarray of str, one label per entry of ``items`` (or per column)
    """
    if not (0 < head < 1 and 0 < tail < 1 and head + tail <= 1):
        raise ValueError(f"need 0 < head, tail < 1 and head + tail <= 1, got {head}, {tail}")
    if not sp.issparse(plays):
        raise TypeError("plays must be a scipy.sparse users x tracks matrix")
    csc = sp.csc_matrix(plays)
    csc.eliminate_zeros()
    listeners = np.diff(csc.indptr)
    cols = _index(np.arange(csc.shape[1]) if items is None else items, csc.shape[1], "items")
    if cols.size == 0:
        raise ValueError("items is empty")
    order = np.argsort(-listeners[cols], kind="stable")
    n_head = int(round(head * cols.size))
    n_tail = int(round(tail * cols.size))
    labels = np.full(cols.size, "torso", dtype=object)
    labels[order[:n_head]] = "head"
    labels[order[cols.size - n_tail :]] = "tail"
    return labels.astype(str)


def metrics_by_bucket(
    scores: np.ndarray,
    train: Any,
    test: Any,
    items: Any,
    buckets: np.ndarray,
    k: int = 10,
    metrics: Sequence[str] = ("recall", "ndcg"),
) -> pd.DataFrame:
    """Chapter 01's ranking metrics when recommending only among the tracks of each bucket.

    For bucket ``b`` the candidate tracks are ``items[buckets == b]``; scores, training and test
    plays are restricted to those columns and :func:`course_lib.evaluation.ranking_metrics`
    ranks them (training plays excluded). "How well does a model rank the tail?" is then a fair
    question even though tail tracks would rarely reach a top 10 over the whole catalogue.

    Parameters
    ----------
    scores : array (n_users, n_tracks)
    train, test : sparse (n_users, n_tracks)
    items : array of int
        Candidate columns.
    buckets : array of str, one label per entry of ``items`` (:func:`popularity_buckets`)
    k : int
    metrics : names of ``ranking_metrics`` outputs to keep

    Returns
    -------
    pandas.DataFrame, one row per bucket plus "all"; columns ``metrics`` and ``n_users``.
    """
    from course_lib.evaluation import ranking_metrics

    s = np.asarray(scores)
    train = sp.csr_matrix(train)
    test = sp.csr_matrix(test)
    if s.ndim != 2 or s.shape != train.shape or train.shape != test.shape:
        raise ValueError(
            f"scores {s.shape}, train {train.shape} and test {test.shape} must all "
            "be (n_users, n_tracks)"
        )
    cols = _index(items, s.shape[1], "items")
    labels = np.asarray(buckets)
    if labels.shape != cols.shape:
        raise ValueError(
            f"need one bucket label per item: {labels.shape} labels, {cols.shape} items"
        )
    rows = {}
    for name in (*[b for b in BUCKETS if b in set(labels)], "all"):
        c = cols if name == "all" else cols[labels == name]
        m = ranking_metrics(s[:, c], train[:, c], test[:, c], k=k)
        rows[name] = {**{key: m[key] for key in metrics}, "n_users": m["n_users_evaluated"]}
    return pd.DataFrame(rows).T


def bucket_table(
    recommenders: Mapping[str, np.ndarray],
    train: Any,
    test: Any,
    items: Any,
    buckets: np.ndarray,
    k: int = 10,
    metric: str = "recall",
) -> pd.DataFrame:
    """One metric of several recommenders, per popularity bucket (:func:`metrics_by_bucket`).

    Returns a DataFrame with one row per recommender and one column per bucket plus "all".
    """
    if not recommenders:
        raise ValueError("give at least one recommender's scores")
    rows = {
        name: metrics_by_bucket(s, train, test, items, buckets, k=k, metrics=(metric,))[metric]
        for name, s in recommenders.items()
    }
    return pd.DataFrame(rows).T.astype(float)


# --------------------------------------------------------------------------------------------
# Ensembles of recommenders (late fusion of scores)
# --------------------------------------------------------------------------------------------
def standardize_scores(scores: np.ndarray) -> np.ndarray:
    """Per-user z-scores (each row: zero mean, unit standard deviation; constant rows -> 0).

    Recommenders score on different scales (a dot product, a play count); after this, a weight
    says how much each recommender's ranking counts.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2:
        raise ValueError(f"scores must be (n_users, n_items), got shape {s.shape}")
    mu = s.mean(axis=1, keepdims=True)
    sd = s.std(axis=1, keepdims=True)
    return np.where(sd > 0, (s - mu) / np.where(sd > 0, sd, 1.0), 0.0).astype(np.float32)


def _check_sources(sources: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    if not sources:
        raise ValueError("give at least one recommender's scores")
    out = {name: np.asarray(s) for name, s in sources.items()}
    shapes = {s.shape for s in out.values()}
    if len(shapes) != 1 or next(iter(shapes)).__len__() != 2:
        raise ValueError(
            f"all score matrices must be (n_users, n_items) of one shape, got "
            f"{ {n: s.shape for n, s in out.items()} }"
        )
    return out


def fit_ensemble_weights(
    sources: Mapping[str, np.ndarray],
    positives: Any,
    *,
    exclude: Any = None,
    n_pairs: int = 20_000,
    l2: float = 1e-3,
    seed: int = 0,
) -> dict[str, float]:
    """Non-negative weights of an ensemble of recommenders, fitted on validation plays.

    Each source's scores are standardised per user (:func:`standardize_scores`). Pairs
    ``(u, i, j)`` are sampled with ``i`` a validation play of user ``u`` and ``j`` a track ``u``
    neither played in validation nor has in ``exclude``; the weights minimise the pairwise
    logistic loss of BPR (Rendle et al. 2009), ``mean log(1 + exp(-w . (z_ui - z_uj)))
    + l2 ||w||^2``, subject to ``w >= 0`` (L-BFGS-B). They are returned normalised to sum 1
    (the ranking does not depend on their scale).

    Parameters
    ----------
    sources : mapping name -> scores (n_users, n_items)
    positives : sparse (n_users, n_items)
        Validation plays (what the ensemble should rank high).
    exclude : sparse (n_users, n_items), optional
        Items never used as negatives (e.g. the training plays, which are filtered anyway).
    n_pairs : int
        Sampled pairs.
    l2 : float
        Ridge penalty (keeps the problem well posed when sources agree).
    seed : int

    Returns
    -------
    dict name -> weight (non-negative, summing to 1)
    """
    from scipy.optimize import minimize

    src = _check_sources(sources)
    names = list(src)
    shape = next(iter(src.values())).shape
    pos = sp.csr_matrix(positives)
    if pos.shape != shape:
        raise ValueError(f"positives has shape {pos.shape}, scores {shape}")
    block = pos.copy()
    if exclude is not None:
        ex = sp.csr_matrix(exclude)
        if ex.shape != shape:
            raise ValueError(f"exclude has shape {ex.shape}, scores {shape}")
        block = (block + ex).tocsr()
    rng = np.random.default_rng(seed)
    users_with = np.flatnonzero(np.diff(pos.indptr) > 0)
    if users_with.size == 0:
        raise ValueError("positives holds no plays: nothing to fit the weights on")
    u = rng.choice(users_with, size=n_pairs)
    i = np.array([pos.indices[rng.integers(pos.indptr[x], pos.indptr[x + 1])] for x in u])
    j = rng.integers(0, shape[1], size=n_pairs)
    for _ in range(50):  # resample negatives that are positives or excluded
        bad = np.asarray(block[u, j]).ravel() > 0
        if not bad.any():
            break
        j[bad] = rng.integers(0, shape[1], size=int(bad.sum()))
    keep = np.asarray(block[u, j]).ravel() == 0
    u, i, j = u[keep], i[keep], j[keep]
    z = {n: standardize_scores(s) for n, s in src.items()}
    diff = np.stack([z[n][u, i] - z[n][u, j] for n in names], axis=1).astype(np.float64)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        m = diff @ w
        value = np.mean(np.logaddexp(0.0, -m)) + l2 * w @ w
        grad = -(diff * (1.0 / (1.0 + np.exp(m)))[:, None]).mean(axis=0) + 2 * l2 * w
        return float(value), grad

    res = minimize(
        loss,
        np.full(len(names), 1.0 / len(names)),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, None)] * len(names),
    )
    w = np.maximum(res.x, 0.0)
    if w.sum() <= 0:
        raise ValueError(
            "every weight came out zero: no source ranks validation plays above "
            "random tracks; check that positives and sources are aligned"
        )
    return {n: float(v) for n, v in zip(names, w / w.sum())}


def ensemble_scores(sources: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> np.ndarray:
    """``sum_m w_m * standardize_scores(S_m)``: the ensemble's scores (n_users, n_items)."""
    src = _check_sources(sources)
    missing = set(weights) - set(src)
    if missing:
        raise ValueError(f"weights for unknown sources {sorted(missing)}; have {sorted(src)}")
    shape = next(iter(src.values())).shape
    out = np.zeros(shape, dtype=np.float32)
    for name, w in weights.items():
        if w < 0:
            raise ValueError(f"weight of {name!r} is negative ({w}); ensemble weights are >= 0")
        if w > 0:
            out += np.float32(w) * standardize_scores(src[name])
    return out


# --------------------------------------------------------------------------------------------
# The results table beside the talk's
# --------------------------------------------------------------------------------------------
def results_table(
    ours: Mapping[str, Mapping[str, Any]], talk: Mapping[str, Mapping[str, Any]] = TALK_RESULTS
) -> pd.DataFrame:
    """Our measured rows beside Nieto's (2017) quoted numbers, with a "same rank?" column.

    Parameters
    ----------
    ours : mapping row name -> {"cosine_distance": float, "epochs": int or None,
        "seconds_per_epoch": float or None}
    talk : mapping row name -> the talk's row (default :data:`TALK_RESULTS`)

    Returns
    -------
    pandas.DataFrame indexed by row name, the talk's columns first: ``talk's input``,
    ``cos. distance (talk, quoted)``, ``epochs (talk)``, ``time / epoch (talk)``, then
    ``cos. distance (ours)``, ``epochs (ours)``, ``s / epoch (ours)``, and ``rank (talk)``,
    ``rank (ours)``, ``same rank?``. Ranks (1 = best) are among the rows that have both numbers;
    other rows get no rank.
    """
    rows = {}
    for name, r in ours.items():
        if "cosine_distance" not in r:
            raise ValueError(f"row {name!r} has no 'cosine_distance'")
        t = talk.get(name, {})
        rows[name] = {
            "talk's input": t.get("talk_input", ""),
            "cos. distance (talk, quoted)": t.get("cosine_distance", np.nan),
            "epochs (talk)": t.get("epochs"),
            "time / epoch (talk)": t.get("time_per_epoch", ""),
            "cos. distance (ours)": float(r["cosine_distance"]),
            "epochs (ours)": r.get("epochs"),
            "s / epoch (ours)": r.get("seconds_per_epoch"),
        }
    df = pd.DataFrame.from_dict(rows, orient="index")
    for col in ("cos. distance (talk, quoted)", "cos. distance (ours)", "s / epoch (ours)"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    for col in ("epochs (talk)", "epochs (ours)"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("Int64")
    both = df["cos. distance (talk, quoted)"].notna()
    for col, source in (
        ("rank (talk)", "cos. distance (talk, quoted)"),
        ("rank (ours)", "cos. distance (ours)"),
    ):
        df[col] = df.loc[both, source].rank(method="min")
        df[col] = df[col].astype("Int64")
    same = (df["rank (ours)"] == df["rank (talk)"]).fillna(False).astype(bool)
    df["same rank?"] = np.where(both, np.where(same, "yes", "no"), "")
    return df


def ordering_agreement(table: pd.DataFrame) -> tuple[int, int, list[str]]:
    """Pairwise comparison of the orderings in :func:`results_table`'s output.

    For every pair of rows with both numbers, do ours and the talk's say the same row is better?
    Returns ``(n_agree, n_pairs, sentences)``, one sentence per disagreeing pair (ties count as
    disagreements unless both sides tie).
    """
    both = table[table["cos. distance (talk, quoted)"].notna()]
    names = list(both.index)
    ours = both["cos. distance (ours)"].astype(float).to_numpy()
    talk = both["cos. distance (talk, quoted)"].astype(float).to_numpy()
    agree, pairs, notes = 0, 0, []
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            pairs += 1
            so, st = np.sign(ours[a] - ours[b]), np.sign(talk[a] - talk[b])
            if so == st:
                agree += 1
                continue
            better_talk = names[a] if st < 0 else names[b] if st > 0 else "neither (tie)"
            better_ours = names[a] if so < 0 else names[b] if so > 0 else "neither (tie)"
            notes.append(
                f"{names[a]} vs {names[b]}: the talk finds {better_talk} better, "
                f"we find {better_ours} better"
            )
    return agree, pairs, notes


def plot_distance_by_bucket(
    table: pd.DataFrame, ax: Any = None, figsize: tuple[float, float] = (7, 3)
) -> Figure:
    """Grouped bars: mean test cosine distance of each model (rows) in each group (columns).

    Takes :func:`distance_by_group`'s table (its ``n tracks`` row is ignored); lower is better.
    """
    from course_lib.plotting import axes_or_new

    data = table.drop(index="n tracks", errors="ignore").astype(float)
    fig, ax = axes_or_new(ax, figsize)
    n_models, n_groups = data.shape
    width = 0.8 / max(n_models, 1)
    x = np.arange(n_groups)
    for m, (name, row) in enumerate(data.iterrows()):
        ax.bar(x + (m - (n_models - 1) / 2) * width, row.to_numpy(), width, label=str(name))
    ax.set_xticks(x, [str(c) for c in data.columns])
    ax.set_ylabel("cosine distance (lower is better)")
    ax.set_xlabel("test tracks")
    ax.legend(fontsize="small", ncols=2)
    return fig
