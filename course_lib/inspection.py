"""Looking inside the cold-start convnet: activations, filter playlists, similarity and outliers.

Taught in chapter 05 (what the network learned), which reproduces the analysis of Dieleman
(2014, sec. 6) on the music world and makes it playable. The module is called ``inspection``, not
``inspect``: a file named ``inspect.py`` shadows Python's standard ``inspect`` module whenever the
``course_lib`` folder itself is on ``sys.path`` (running one of its files as a script, some
editors), which breaks numpy, pandas and keras imports with baffling errors.

What is here, in the order of the chapter:

* :func:`layer_activations` reads any named layer of a Keras model (a sub-model up to that layer);
  :func:`layer_frame_centres` maps each time step of a convolutional layer back to spectrogram
  frames, hence to audio samples (``sample = frame * hop_length``).
* :func:`filter_playlist` builds the post's two kinds of filter playlists: tracks whose activation
  *peaks* highest (``mode="max"``, sec. 6.1) or stays highest on *average* (``mode="mean"``,
  sec. 6.2); :func:`peak_clips` and :func:`audio_player_row` make them playable.
* :func:`genre_purity`, :func:`chance_purity`, :func:`label_mutual_information` and
  :func:`attribute_selectivity` measure, against the music world's ground truth, how selective a
  filter is for a genre or an attribute (sec. 6.3: "very selective for certain subgenres").
* :func:`similar_tracks` and :func:`neighbour_lists` give similarity playlists by cosine
  similarity (sec. 6.4); :func:`overlap_at_k` and :func:`jaccard_at_k` compare two methods' lists.
* :func:`outlier_share`, :func:`album_outlier_scores` and :func:`flag_outliers` quantify and filter
  the intros, outros and covers that collaborative filtering recommends (sec. 2 and 7).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

if TYPE_CHECKING:
    import keras
    import pandas as pd
    from IPython.display import HTML
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

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
    "mean_playlist",
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
    "track_scores",
]

_MODES = ("max", "mean")
_METRICS = ("cosine", "euclidean")


# ---------------------------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------------------------
def layer_names(model: keras.Model) -> list[str]:
    """Names of the model's layers, input first (for the convnet: :data:`convnet.LAYER_NAMES`)."""
    return [layer.name for layer in model.layers]


def _get_layer(model: keras.Model, name: str) -> Any:
    if not isinstance(name, str):
        raise TypeError(f"layer_name must be a string such as 'conv1', got {type(name).__name__}")
    names = layer_names(model)
    if name not in names:
        raise ValueError(f"the model has no layer {name!r}; valid layer names: {', '.join(names)}")
    return model.get_layer(name)


def _input_frames(model: keras.Model) -> int | None:
    shape = model.input_shape
    if isinstance(shape, list):
        raise ValueError("layer_activations expects a model with one input (a log-mel spectrogram)")
    return None if shape[1] is None else int(shape[1])


def crop_offset(model: keras.Model, total_frames: int) -> int:
    """First frame of the centre crop that :func:`layer_activations` feeds to ``model``.

    The course model reads ``n`` frames (599, as in Dieleman 2014); a longer spectrogram of
    ``total_frames`` frames is centre-cropped, as in chapter 04's evaluation
    (:func:`course_lib.convnet.center_crop`): the crop starts at ``(total_frames - n) // 2``.
    """
    n = _input_frames(model)
    if n is None:
        return 0
    if total_frames < n:
        raise ValueError(
            f"the model reads {n} frames but the spectrograms have only {total_frames}; "
            "pass longer clips (or build the model for shorter inputs)"
        )
    return (int(total_frames) - n) // 2


def layer_activations(
    model: keras.Model,
    layer_name: str | Sequence[str],
    log_mels: np.ndarray,
    *,
    crop: bool = True,
    batch_size: int = 64,
) -> np.ndarray | dict[str, np.ndarray]:
    """Outputs of one (or several) named layers for a batch of spectrograms.

    Builds a Keras sub-model from the model's input to the layer(s) and runs it in inference mode
    (dropout off). This is how Dieleman (2014, sec. 6.1) "computed the feature representations"
    of every test track before searching for maximal activations. Spectrograms longer than the
    model's input are centre-cropped (see :func:`crop_offset`), unless ``crop=False``.

    Parameters
    ----------
    model : keras.Model
        A functional model, e.g. from :func:`course_lib.convnet.load_or_train_course_model`.
    layer_name : str or sequence of str
        ``"conv1"`` ... ``"conv4"``, ``"global_pool"``, ``"dense1"``, ``"dense2"``, ``"factors"``,
        ... (any name in :func:`layer_names`). Several names share one forward pass.
    log_mels : array (n_tracks, n_frames, n_mels) or (n_frames, n_mels)
        Time-major log-mel spectrograms (``world.log_mel(...)``).
    crop : bool
        ``False`` runs the same layers (same weights) on the whole spectrogram, whatever its
        length: convolutions and poolings do not care how long their input is. Use it for
        convolutional layers, to see every second of a clip; for layers after the global pooling
        it changes what the network was trained on (statistics over a longer stretch).
        Needs a chain of single-input layers, like the course model.
    batch_size : int
        Tracks per forward pass.

    Returns
    -------
    np.ndarray or dict of np.ndarray
        float32, ``(n_tracks, time_steps, filters)`` for a convolutional or pooling layer,
        ``(n_tracks, units)`` for a dense layer; a dict keyed by layer name when several names are
        given.

    Raises
    ------
    ValueError
        Unknown layer name (the message lists the valid ones), spectrograms of the wrong shape.
    """
    import keras

    names = [layer_name] if isinstance(layer_name, str) else list(layer_name)
    if not names:
        raise ValueError("give at least one layer name, e.g. layer_activations(model, 'conv1', x)")
    layers = [_get_layer(model, n) for n in names]
    x = np.asarray(log_mels, dtype=np.float32)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f"log_mels must be (n_tracks, n_frames, n_mels), got shape {x.shape}")
    n_mels = model.input_shape[-1]
    if n_mels is not None and x.shape[2] != n_mels:
        raise ValueError(
            f"the model expects {n_mels} mel bands, the spectrograms have {x.shape[2]}; "
            "pass time-major arrays (n_tracks, n_frames, n_mels)"
        )
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    n = _input_frames(model)
    if not crop:
        sub = _variable_length_model(model, names)
    else:
        if n is not None:
            start = crop_offset(model, x.shape[1])
            x = x[:, start : start + n]
        sub = keras.Model(model.inputs, [layer.output for layer in layers])
    out = sub.predict(x, batch_size=int(batch_size), verbose=0)
    if len(names) == 1:
        out = [out[0]] if isinstance(out, list) else [out]
    arrays = {name: np.asarray(a, dtype=np.float32) for name, a in zip(names, out)}
    return arrays[names[0]] if isinstance(layer_name, str) else arrays


def _variable_length_model(model: keras.Model, names: list[str]) -> keras.Model:
    """The model's layers, up to the last of ``names``, re-applied to an input of any length."""
    import keras

    previous = model.layers[0]
    for layer in model.layers[1:]:
        if layer.input is not previous.output:
            raise ValueError(
                "crop=False needs a model whose layers form one chain (each layer reads the "
                "previous one); use crop=True"
            )
        previous = layer
    inputs = keras.Input(shape=(None, model.input_shape[-1]), name="log_mel_any_length")
    x, outputs = inputs, {}
    for layer in model.layers[1:]:
        x = layer(x)
        if layer.name in names:
            outputs[layer.name] = x
        if len(outputs) == len(set(names)):
            break
    return keras.Model(inputs, [outputs[n] for n in names])


def layer_frame_centres(
    model: keras.Model, layer_name: str, total_frames: int | None = None, *, crop: bool = True
) -> np.ndarray:
    """Centre (in input frames) of the receptive field of each time step of a layer.

    Receptive-field arithmetic through the convolutions and poolings below ``layer_name``: a
    layer with kernel ``k``, stride ``s`` and dilation ``d`` turns (start, jump, size) into
    (start - pad * jump, jump * s, size + (k - 1) * d * jump). For the course model, ``conv1``
    step ``t`` sees frames ``t .. t + 3``, centre ``t + 1.5``; ``conv2`` steps are 4 frames apart.
    With ``total_frames`` the centres are shifted by the centre crop (:func:`crop_offset`), so
    they index the full spectrogram; ``sample = frame * hop_length`` then points into the audio.
    With ``crop=False`` (as in :func:`layer_activations`) the layer reads all ``total_frames``.

    Returns
    -------
    np.ndarray float64, one centre per time step of the layer's output.
    """
    target = _get_layer(model, layer_name)
    n = _input_frames(model)
    if n is None or not crop:
        if total_frames is None:
            raise ValueError("pass total_frames: the layer reads the whole spectrogram")
        n = int(total_frames)
    start, jump, size, length = 0.0, 1.0, 1.0, n
    for layer in model.layers:
        kind = type(layer).__name__
        if kind in ("Conv1D", "MaxPooling1D", "AveragePooling1D"):
            if kind == "Conv1D":
                k, s, d = layer.kernel_size[0], layer.strides[0], layer.dilation_rate[0]
            else:
                k, s, d = layer.pool_size[0], layer.strides[0], 1
            span = (k - 1) * d + 1
            pad = {"valid": 0, "same": (span - 1) // 2, "causal": span - 1}[layer.padding]
            start -= pad * jump
            size += (span - 1) * jump
            length = {
                "valid": (length - span) // s + 1,
                "same": -(-length // s),
                "causal": (length - 1) // s + 1,
            }[layer.padding]
            jump *= s
        if layer is target:
            break
    if len(target.output.shape) != 3:
        raise ValueError(
            f"layer {layer_name!r} has no time axis (output shape {tuple(target.output.shape)}); "
            "choose a convolutional or pooling layer such as 'conv1'"
        )
    offset = 0 if total_frames is None or not crop else crop_offset(model, total_frames)
    return offset + start + jump * np.arange(int(length)) + (size - 1) / 2


def track_scores(activations: np.ndarray, mode: str = "max") -> np.ndarray:
    """One number per track and filter: the maximum or the mean of the activation over time.

    ``mode="max"``: the strongest moment (Dieleman 2014, sec. 6.1); ``mode="mean"``: the average
    activation, high only for a sustained response (sec. 6.2). Dense activations
    ``(n_tracks, units)`` are returned unchanged (they have no time axis).
    """
    a = np.asarray(activations)
    if mode not in _MODES:
        raise ValueError(f"mode must be 'max' or 'mean', got {mode!r}")
    if a.ndim == 2:
        return a.astype(np.float64)
    if a.ndim != 3:
        raise ValueError(
            f"activations must be (n_tracks, time, filters) or (n_tracks, units), got {a.shape}"
        )
    return (a.max(axis=1) if mode == "max" else a.mean(axis=1)).astype(np.float64)


# ---------------------------------------------------------------------------------------------
# Filter playlists
# ---------------------------------------------------------------------------------------------
class Playlist(NamedTuple):
    """A filter playlist: track indices, their scores, and the time step of each track's peak.

    ``peak_steps`` index the layer's time axis (map them to frames with
    :func:`layer_frame_centres`); for dense activations they are ``None``. In ``mode="mean"`` the
    peak only tells which segment to play.
    """

    tracks: np.ndarray
    scores: np.ndarray
    peak_steps: np.ndarray | None


def _check_k(k: Any, n: int, what: str = "tracks") -> int:
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if k > n:
        raise ValueError(f"k={k} is larger than the {n} {what} available; ask for at most {n}")
    return int(k)


def _candidates(candidates: Any, n: int) -> np.ndarray:
    if candidates is None:
        return np.arange(n)
    c = np.asarray(candidates)
    if c.dtype == bool:
        if c.shape != (n,):
            raise ValueError(f"a boolean candidates mask needs {n} entries, got {c.shape}")
        return np.flatnonzero(c)
    if c.ndim != 1 or not np.issubdtype(c.dtype, np.integer):
        raise TypeError("candidates must be a 1-D array of track indices or a boolean mask")
    if c.size and (c.min() < 0 or c.max() >= n):
        raise ValueError(f"candidates must lie in [0, {n - 1}]")
    return np.unique(c)


def filter_playlist(
    activations: np.ndarray,
    filter_index: int,
    k: int = 10,
    mode: str = "max",
    *,
    candidates: np.ndarray | None = None,
) -> Playlist:
    """The ``k`` tracks that activate one filter most, by peak or by average activation.

    Dieleman (2014, sec. 6.1): playlists of "songs that maximally activate" a first-layer filter
    (``mode="max"``: the maximum over time, one strong moment suffices); sec. 6.2: "the average
    activation of each feature across time for each track, and then ... the maximum across those"
    (``mode="mean"``: the filter must be active throughout). Ties are broken by track index.

    Parameters
    ----------
    activations : array (n_tracks, time, filters) or (n_tracks, units)
        From :func:`layer_activations`.
    filter_index : int
        Which filter (unit), ``0 <= filter_index < filters``.
    k : int
        Playlist length.
    mode : {"max", "mean"}
    candidates : array of int or bool mask, optional
        Restrict to these tracks (e.g. the test split, as in the post).

    Returns
    -------
    Playlist
        ``tracks`` (best first), ``scores`` and ``peak_steps``.
    """
    a = np.asarray(activations)
    scores = track_scores(a, mode)
    n_filters = scores.shape[1]
    if not isinstance(filter_index, (int, np.integer)) or isinstance(filter_index, bool):
        raise TypeError(f"filter_index must be an integer, got {type(filter_index).__name__}")
    if not 0 <= filter_index < n_filters:
        raise ValueError(
            f"filter_index {filter_index} is out of range: this layer has {n_filters} filters "
            f"(0 .. {n_filters - 1})"
        )
    pool = _candidates(candidates, len(scores))
    k = _check_k(k, pool.size)
    column = scores[pool, filter_index]
    best = pool[np.argsort(-column, kind="stable")[:k]]
    peaks = a[best, :, filter_index].argmax(axis=1) if a.ndim == 3 else None
    return Playlist(best, scores[best, filter_index], peaks)


def mean_playlist(activations: np.ndarray, filter_index: int, k: int = 10) -> np.ndarray:
    """Track indices of the ``mode="mean"`` filter playlist (the answer to exercise 5.1)."""
    return filter_playlist(activations, filter_index, k, mode="mean").tracks


# ---------------------------------------------------------------------------------------------
# Selectivity against the ground truth
# ---------------------------------------------------------------------------------------------
def _scores_and_labels(
    activations: np.ndarray, labels: Any, mode: str
) -> tuple[np.ndarray, np.ndarray]:
    scores = track_scores(activations, mode)
    y = np.asarray(labels)
    if y.shape != (scores.shape[0],):
        raise ValueError(f"labels need one entry per track ({scores.shape[0]}), got {y.shape}")
    return scores, y


def _top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(top-k track indices per filter (filters, k), filters whose k-th best score is > 0)."""
    order = np.argsort(-scores, axis=0, kind="stable")[:k].T
    kth = np.take_along_axis(scores, order[:, -1:].T, axis=0)[0]
    return order, kth > 0


def genre_purity(
    activations: np.ndarray, labels: Any, top_k: int = 20, *, mode: str = "max"
) -> np.ndarray:
    """Per filter: the share of its ``top_k`` tracks that carry its most common label.

    A purity of 1 means all of the filter's favourite tracks share one genre; ``1 / n_genres``
    is the floor for a filter that ignores genre (see :func:`chance_purity`). Dieleman (2014,
    sec. 6.3) found the last dense layer's units "very selective for certain subgenres" and the
    first layer's playlists "quite varied" in genre (sec. 6.1).

    Parameters
    ----------
    activations : array (n_tracks, time, filters) or (n_tracks, units)
    labels : array (n_tracks,)
        E.g. ``world.tracks.genre_id``.
    top_k : int
        Size of each filter's playlist.
    mode : {"max", "mean"}
        How conv activations are reduced over time (:func:`track_scores`).

    Returns
    -------
    np.ndarray float64 (filters,)
        NaN for a filter that is silent (zero) on some of its ``top_k`` tracks: such a "dead"
        ReLU unit has no playlist, and ranking its zeros would only reflect the track order.
    """
    scores, y = _scores_and_labels(activations, labels, mode)
    k = _check_k(top_k, len(y))
    order, alive = _top_k(scores, k)
    _, codes = np.unique(y, return_inverse=True)
    counts = np.stack([np.bincount(row, minlength=codes.max() + 1) for row in codes[order]])
    purity = counts.max(axis=1) / k
    return np.where(alive, purity, np.nan)


def chance_purity(labels: Any, top_k: int = 20, *, n_draws: int = 2000, seed: int = 0) -> float:
    """Expected :func:`genre_purity` of a filter that picks ``top_k`` tracks at random.

    The reference line for the purity histograms: a purity near this value means the filter's
    playlist is as mixed as a random sample of the catalogue.
    """
    y = np.asarray(labels)
    k = _check_k(top_k, y.size)
    _, codes = np.unique(y, return_inverse=True)
    rng = np.random.default_rng(seed)
    draws = np.stack([rng.choice(codes, size=k, replace=False) for _ in range(int(n_draws))])
    counts = np.stack([np.bincount(row, minlength=codes.max() + 1) for row in draws])
    return float((counts.max(axis=1) / k).mean())


def label_mutual_information(
    activations: np.ndarray, labels: Any, *, n_bins: int = 8, mode: str = "max"
) -> np.ndarray:
    """Mutual information (bits) between each filter's activation and a discrete label.

    The activation is cut into ``n_bins`` equal-frequency bins (quantiles; tied values, such as a
    ReLU's zeros, share a bin) and ``I(A; Y) = sum p(a, y) log2 p(a, y) / (p(a) p(y))`` is computed
    from the contingency table. Unlike :func:`genre_purity` it looks at every track, not only the
    top of the playlist; its upper bound is the label entropy ``H(Y)``.
    """
    scores, y = _scores_and_labels(activations, labels, mode)
    if not isinstance(n_bins, (int, np.integer)) or n_bins < 2:
        raise ValueError(f"n_bins must be an integer >= 2, got {n_bins!r}")
    _, codes = np.unique(y, return_inverse=True)
    n_labels = codes.max() + 1
    out = np.empty(scores.shape[1])
    for f in range(scores.shape[1]):
        edges = np.unique(np.quantile(scores[:, f], np.linspace(0, 1, n_bins + 1)[1:-1]))
        bins = np.searchsorted(edges, scores[:, f], side="right")
        joint = np.zeros((n_bins, n_labels))
        np.add.at(joint, (bins, codes), 1.0)
        joint /= joint.sum()
        outer = joint.sum(axis=1, keepdims=True) * joint.sum(axis=0, keepdims=True)
        nz = joint > 0
        out[f] = float(np.sum(joint[nz] * np.log2(joint[nz] / outer[nz])))
    return out


def attribute_selectivity(
    activations: np.ndarray, attribute: Any, top_k: int = 20, *, mode: str = "mean"
) -> np.ndarray:
    """Per filter: how far above average an attribute is among the filter's ``top_k`` tracks.

    ``z_f = (mean of attribute over the top_k tracks of filter f - catalogue mean) / catalogue
    std``: a filter with ``z = 2`` fills its playlist with tracks two standard deviations above
    average (e.g. very distorted ones). NaN for filters silent on part of their top ``k`` (see
    :func:`genre_purity`).
    """
    scores, x = _scores_and_labels(activations, attribute, mode)
    x = x.astype(np.float64)
    k = _check_k(top_k, len(x))
    std = x.std()
    if not np.isfinite(std) or std == 0:
        raise ValueError("the attribute is constant (or not finite): nothing to be selective for")
    order, alive = _top_k(scores, k)
    z = (x[order].mean(axis=1) - x.mean()) / std
    return np.where(alive, z, np.nan)


def most_selective_filter(activations: np.ndarray, attribute: Any, top_k: int = 20) -> int:
    """The filter whose ``top_k`` tracks (by mean activation) have the highest mean attribute.

    The argmax of :func:`attribute_selectivity` over the filters that are alive (the answer to
    exercise 5.2). Ties go to the lower filter index.
    """
    z = attribute_selectivity(activations, attribute, top_k, mode="mean")
    if np.all(np.isnan(z)):
        raise ValueError("every filter is silent on part of its top-k tracks; lower top_k")
    return int(np.nanargmax(z))


# ---------------------------------------------------------------------------------------------
# Similarity playlists
# ---------------------------------------------------------------------------------------------
def _similarities(
    vectors: np.ndarray, queries: np.ndarray, pool: np.ndarray, metric: str
) -> np.ndarray:
    if metric == "cosine":
        norms = np.linalg.norm(vectors, axis=1)
        zero = queries[norms[queries] == 0]
        if zero.size:
            raise ValueError(
                f"track(s) {zero[:5].tolist()} have an all-zero vector, so cosine similarity is "
                "undefined (a track without plays has zero ALS factors); leave them out of the "
                "queries"
            )
        unit = vectors / np.maximum(norms, 1e-12)[:, None]
        return unit[queries] @ unit[pool].T
    d2 = (
        np.sum(vectors[queries] ** 2, axis=1)[:, None]
        - 2 * vectors[queries] @ vectors[pool].T
        + np.sum(vectors[pool] ** 2, axis=1)[None, :]
    )
    return -np.sqrt(np.maximum(d2, 0.0))


def neighbour_lists(
    vectors: np.ndarray,
    k: int = 10,
    *,
    queries: np.ndarray | None = None,
    metric: str = "cosine",
    candidates: np.ndarray | None = None,
    chunk: int = 1024,
) -> np.ndarray:
    """The ``k`` nearest tracks of every query track (itself excluded), best first.

    Exact (brute-force) search: the similarity of each query with every candidate, sorted (ties
    by track index). Chapter 06 replaces it with approximate search for large catalogues.

    Parameters
    ----------
    vectors : array (n_tracks, dim)
        Predicted factors, ALS factors, mean log-mel features, attributes ...
    k : int
    queries : array of int, optional
        Default: every track.
    metric : {"cosine", "euclidean"}
        Cosine similarity (Dieleman 2014, sec. 6.4: "close to it in terms of cosine distance") or
        negative Euclidean distance.
    candidates : array of int or bool mask, optional
        Tracks allowed in the lists (default: all).
    chunk : int
        Queries per block (bounds memory).

    Returns
    -------
    np.ndarray int64 (n_queries, k)
    """
    v = np.asarray(vectors, dtype=np.float64)
    if v.ndim != 2:
        raise ValueError(f"vectors must be (n_tracks, dim), got shape {v.shape}")
    if metric not in _METRICS:
        raise ValueError(f"metric must be one of {_METRICS}, got {metric!r}")
    if not np.all(np.isfinite(v)):
        raise ValueError("vectors contain NaN or inf; clean or drop those tracks first")
    q = np.arange(len(v)) if queries is None else np.asarray(queries, dtype=np.int64).ravel()
    if q.size and (q.min() < 0 or q.max() >= len(v)):
        raise ValueError(f"query indices must lie in [0, {len(v) - 1}]")
    pool = _candidates(candidates, len(v))
    k = _check_k(k, pool.size - int(np.isin(q, pool).any()), "candidate tracks")
    out = np.empty((q.size, k), dtype=np.int64)
    for s in range(0, q.size, chunk):
        qs = q[s : s + chunk]
        sim = _similarities(v, qs, pool, metric)
        sim[pool[None, :] == qs[:, None]] = -np.inf  # never recommend the seed itself
        out[s : s + chunk] = pool[np.argsort(-sim, axis=1, kind="stable")[:, :k]]
    return out


def similar_tracks(
    vectors: np.ndarray,
    track: int,
    k: int = 10,
    metric: str = "cosine",
    *,
    candidates: np.ndarray | None = None,
) -> np.ndarray:
    """The ``k`` tracks most similar to ``track``, most similar first, ``track`` excluded.

    Dieleman (2014, sec. 6.4): similarity playlists from predicted factor vectors by cosine
    distance. See :func:`neighbour_lists` for the parameters.
    """
    if not isinstance(track, (int, np.integer)) or isinstance(track, bool):
        raise TypeError(f"track must be one integer index, got {type(track).__name__}")
    n = np.asarray(vectors).shape[0]
    if not 0 <= track < n:
        raise ValueError(f"track {track} is out of range: there are {n} tracks (0 .. {n - 1})")
    return neighbour_lists(
        vectors, k, queries=np.array([track]), metric=metric, candidates=candidates
    )[0]


def _as_lists(lists: Any) -> list[np.ndarray]:
    if isinstance(lists, np.ndarray) and lists.ndim == 2:
        return list(lists)
    return [np.asarray(row).ravel() for row in lists]


def overlap_at_k(lists_a: Any, lists_b: Any) -> float:
    """Mean share of list A's tracks that also appear in list B (same query, same ``k``).

    ``overlap@k = |A ∩ B| / k``, averaged over queries: 1 when two methods recommend the same
    tracks (in any order), 0 when they share none.
    """
    a, b = _as_lists(lists_a), _as_lists(lists_b)
    if len(a) != len(b) or not a:
        raise ValueError(f"need the same number (> 0) of lists on both sides: {len(a)}, {len(b)}")
    return float(np.mean([np.intersect1d(x, y).size / max(x.size, 1) for x, y in zip(a, b)]))


def jaccard_at_k(lists_a: Any, lists_b: Any) -> float:
    """Mean Jaccard index ``|A ∩ B| / |A ∪ B|`` of paired lists (same queries)."""
    a, b = _as_lists(lists_a), _as_lists(lists_b)
    if len(a) != len(b) or not a:
        raise ValueError(f"need the same number (> 0) of lists on both sides: {len(a)}, {len(b)}")
    return float(
        np.mean([np.intersect1d(x, y).size / max(np.union1d(x, y).size, 1) for x, y in zip(a, b)])
    )


def same_label_share(lists: Any, labels: Any, queries: Any) -> float:
    """Mean share of neighbours that carry the query's label (e.g. the same genre)."""
    y = np.asarray(labels)
    rows = _as_lists(lists)
    q = np.asarray(queries).ravel()
    if len(rows) != q.size:
        raise ValueError(f"{len(rows)} lists but {q.size} queries: pass the lists' queries")
    return float(np.mean([np.mean(y[row] == y[query]) for row, query in zip(rows, q)]))


# ---------------------------------------------------------------------------------------------
# Outliers
# ---------------------------------------------------------------------------------------------
def outlier_share(neighbour_lists: Any, is_outlier: Any) -> float:
    """Mean share of outliers (intros, outros, covers ...) in recommendation lists.

    Dieleman (2014, sec. 2): collaborative filtering recommends "intro tracks, outro tracks,
    interludes, cover songs and remixes", which "aren't good recommendations". Each list counts
    equally; lists may differ in length.
    """
    flags = np.asarray(is_outlier, dtype=bool)
    rows = _as_lists(neighbour_lists)
    if not rows:
        raise ValueError("no lists given")
    for row in rows:
        if row.size and (row.min() < 0 or row.max() >= flags.size):
            raise ValueError(f"list entries must be track indices in [0, {flags.size - 1}]")
    return float(np.mean([flags[row].mean() if row.size else 0.0 for row in rows]))


def album_outlier_scores(features: np.ndarray, album_ids: Any) -> np.ndarray:
    """Median cosine distance of each track's features to the *other* tracks of its album.

    An audio-based outlier score (Dieleman 2014, sec. 7: outliers "could be filtered out
    effectively using an audio-based approach"): an intro or outro shares its album's listeners,
    hence its collaborative-filtering factors, but not its sound. With features computed from
    audio (predicted factors, log-mel statistics) such tracks sit far from their album-mates. The
    median (not the mean) keeps one odd track from making its album-mates look odd too.
    NaN for a track that is alone on its album.
    """
    x = np.asarray(features, dtype=np.float64)
    album = np.asarray(album_ids)
    if x.ndim != 2 or album.shape != (x.shape[0],):
        raise ValueError(
            f"features must be (n_tracks, dim), album_ids (n_tracks,); got {x.shape}, {album.shape}"
        )
    unit = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    scores = np.full(len(x), np.nan)
    order = np.argsort(album, kind="stable")
    starts = np.flatnonzero(np.r_[True, album[order][1:] != album[order][:-1]])
    for members in np.split(order, starts[1:]):
        if members.size < 2:
            continue
        dist = 1.0 - unit[members] @ unit[members].T
        np.fill_diagonal(dist, np.nan)
        scores[members] = np.nanmedian(dist, axis=1)
    return scores


def flag_outliers(scores: Any, z: float = 3.0) -> np.ndarray:
    """Flag scores far above the typical one: robust z-score ``(s - median) / (1.4826 MAD) > z``.

    The median and the median absolute deviation (MAD) ignore the outliers themselves, unlike a
    mean and a standard deviation; ``1.4826 MAD`` estimates the standard deviation of the bulk.
    NaN scores are never flagged.
    """
    s = np.asarray(scores, dtype=np.float64)
    finite = np.isfinite(s)
    if not finite.any():
        raise ValueError("no finite scores to threshold")
    med = np.median(s[finite])
    mad = 1.4826 * np.median(np.abs(s[finite] - med))
    if mad == 0:
        raise ValueError("the scores have zero spread (MAD = 0); a z threshold is meaningless")
    with np.errstate(invalid="ignore"):
        return finite & ((s - med) / mad > z)


# ---------------------------------------------------------------------------------------------
# Playing and showing
# ---------------------------------------------------------------------------------------------
def segment_bounds(
    frame: float, *, sr: int, hop_length: int, n_samples: int, seconds: float = 3.0
) -> tuple[int, int]:
    """Sample range ``[start, stop)`` of a ``seconds``-long segment centred on a frame.

    Frame ``i`` of a centred STFT is centred on sample ``i * hop_length``; the segment is shifted
    to stay inside the clip.
    """
    length = int(round(seconds * sr))
    if length < 1 or length > n_samples:
        raise ValueError(f"segment of {seconds} s does not fit a clip of {n_samples / sr:.2f} s")
    start = int(round(frame * hop_length)) - length // 2
    start = min(max(start, 0), n_samples - length)
    return start, start + length


def peak_clips(
    world: Any, tracks: Sequence[int], frames: Sequence[float], seconds: float = 3.0
) -> list[np.ndarray]:
    """The audio segments (``seconds`` long) around given spectrogram frames of given tracks."""
    if len(tracks) != len(frames):
        raise ValueError(f"one frame per track, got {len(tracks)} tracks and {len(frames)} frames")
    audio = world.audio(np.asarray(tracks, dtype=np.int64))
    clips = []
    for y, frame in zip(audio, frames):
        a, b = segment_bounds(
            frame,
            sr=world.sample_rate,
            hop_length=world.hop_length,
            n_samples=y.size,
            seconds=seconds,
        )
        clips.append(y[a:b])
    return clips


def _player(clip: np.ndarray, sr: int) -> str:
    from IPython.display import Audio

    clip = np.asarray(clip, dtype=np.float32)
    # Audio() scales a clip to full volume; a silent clip would divide by zero.
    return Audio(clip, rate=sr, normalize=bool(np.abs(clip).max() > 0))._repr_html_()


def audio_player_row(clips: Sequence[np.ndarray], sr: int, labels: Sequence[str]) -> HTML:
    """A row of ``IPython.display.Audio`` players with a caption each, as one HTML block."""
    from html import escape

    from IPython.display import HTML

    if len(clips) != len(labels):
        raise ValueError(f"one label per clip, got {len(clips)} clips and {len(labels)} labels")
    cells = [
        '<div style="display:inline-block;margin:0 6px 6px 0;font-size:small;width:16em">'
        f"{escape(str(label))}<br>{_player(clip, sr)}</div>"
        for clip, label in zip(clips, labels)
    ]
    return HTML('<div style="white-space:normal">' + "".join(cells) + "</div>")


def playlist_table(
    tracks: pd.DataFrame,
    indices: Sequence[int],
    *,
    scores: Sequence[float] | None = None,
    peak_seconds: Sequence[float] | None = None,
    columns: Sequence[str] = ("title", "artist", "genre", "kind"),
) -> pd.DataFrame:
    """The rows of ``world.tracks`` for a playlist, numbered from 1, with optional score columns."""
    table = tracks.loc[np.asarray(indices), list(columns)].copy()
    table.insert(0, "track", np.asarray(indices))
    if scores is not None:
        table["activation"] = np.round(np.asarray(scores, dtype=float), 3)
    if peak_seconds is not None:
        table["peak (s)"] = np.round(np.asarray(peak_seconds, dtype=float), 2)
    table.index = np.arange(1, len(table) + 1)
    return table


def side_by_side(tracks: pd.DataFrame, lists: Mapping[str, Sequence[int]]) -> pd.DataFrame:
    """Several playlists as columns: ``"title (artist, genre)"`` plus the kind when not a song."""

    def name(i: int) -> str:
        row = tracks.loc[int(i)]
        kind = "" if row["kind"] == "song" else f" [{row['kind'].upper()}]"
        return f"{row['title']} ({row['artist']}, {row['genre']}){kind}"

    lengths = {len(v) for v in lists.values()}
    if len(lengths) != 1:
        raise ValueError(f"playlists must have the same length, got {sorted(lengths)}")
    table = {method: [name(i) for i in idx] for method, idx in lists.items()}
    import pandas as pd

    return pd.DataFrame(table, index=np.arange(1, lengths.pop() + 1))


def course_split(size: str = "small", seed: int = 0, loss: str = "mse") -> dict[str, np.ndarray]:
    """The train / validation / test split of the cached course model (chapter 04).

    Read from the ``.json`` file that :func:`course_lib.convnet.load_or_train_course_model` writes
    beside the model. Filter playlists, like Dieleman's, should use tracks the network was not
    trained on.
    """
    from course_lib.convnet import course_model_path

    path = course_model_path(size, seed, loss).with_suffix(".json")
    if not path.exists():
        raise FileNotFoundError(
            f"no split at {path}: call course_lib.convnet.load_or_train_course_model(world) first"
        )
    split = json.loads(path.read_text())["split"]
    return {name: np.asarray(idx, dtype=np.int64) for name, idx in split.items()}


# ---------------------------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------------------------
def plot_conv_filters(
    kernel: np.ndarray,
    filters: Sequence[int] | None = None,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    figsize: tuple[float, float] = (12, 3.5),
) -> Figure:
    """Draw first-layer filters side by side: time across (a few frames each), mel bands up.

    As in Dieleman (2014, sec. 6): a diverging colour map with negative weights red, positive blue
    and zero white; dark columns separate the filters. Each filter is scaled by its largest
    absolute weight, so that weak and strong filters are equally visible.

    Parameters
    ----------
    kernel : array (kernel_size, n_mels, n_filters)
        ``model.get_layer("conv1").get_weights()[0]``.
    filters : sequence of int, optional
        Which filters to draw (default: all), in this order.
    """
    from course_lib.plotting import axes_or_new

    w = np.asarray(kernel, dtype=np.float64)
    if w.ndim != 3:
        raise ValueError(f"kernel must be (kernel_size, n_mels, n_filters), got shape {w.shape}")
    chosen = list(range(w.shape[2])) if filters is None else [int(f) for f in filters]
    if not chosen or min(chosen) < 0 or max(chosen) >= w.shape[2]:
        raise ValueError(f"filters must be indices in [0, {w.shape[2] - 1}]")
    width = w.shape[0] + 1
    image = np.full((w.shape[1], width * len(chosen) - 1), np.nan)
    for j, f in enumerate(chosen):
        block = w[:, :, f].T
        image[:, j * width : j * width + w.shape[0]] = block / max(np.abs(block).max(), 1e-12)
    import matplotlib as mpl

    cmap = mpl.colormaps["RdBu"].with_extremes(bad="#3b0a0a")
    fig, ax = axes_or_new(ax, figsize)
    img = ax.imshow(
        image, origin="lower", aspect="auto", cmap=cmap, vmin=-1, vmax=1, interpolation="nearest"
    )
    step = max(1, len(chosen) // 16)
    ticks = np.arange(0, len(chosen), step)
    ax.set_xticks(ticks * width + (w.shape[0] - 1) / 2, [str(chosen[t]) for t in ticks])
    ax.set_xlabel(f"filter (each {w.shape[0]} frames wide)")
    ax.set_ylabel("mel band (low to high)")
    fig.colorbar(img, ax=ax, label="weight / max |weight|", pad=0.01)
    if title:
        ax.set_title(title)
    return fig


def plot_activation_on_spectrogram(
    log_mel: np.ndarray,
    activation: np.ndarray,
    frame_centres: np.ndarray,
    *,
    sr: int,
    hop_length: int,
    segment: tuple[int, int] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    figsize: tuple[float, float] = (8, 3),
) -> Figure:
    """A log-mel spectrogram with one filter's activation over time drawn on top.

    Parameters
    ----------
    log_mel : array (n_frames, n_mels)
    activation : array (time_steps,)
        One filter's activation, e.g. ``acts[track, :, f]``.
    frame_centres : array (time_steps,)
        From :func:`layer_frame_centres` (with ``total_frames``), in frames of ``log_mel``.
    sr, hop_length
        To convert frames to seconds.
    segment : (start, stop) in samples, optional
        Marked by dashed lines: the part played by the audio player (:func:`segment_bounds`).
    """
    from course_lib.audio import plot_spectrogram

    act = np.asarray(activation, dtype=np.float64).ravel()
    centres = np.asarray(frame_centres, dtype=np.float64).ravel()
    if act.shape != centres.shape:
        raise ValueError(f"one frame centre per activation step: {centres.shape} vs {act.shape}")
    fig = plot_spectrogram(
        np.asarray(log_mel), sr, hop_length, ax=ax, title=title, colorbar=False, figsize=figsize
    )
    ax = fig.axes[-1] if ax is None else ax
    curve = ax.twinx()
    curve.plot(centres * hop_length / sr, act, color="cyan", lw=1.2, label="activation")
    peak = int(np.argmax(act))
    curve.plot(centres[peak] * hop_length / sr, act[peak], "wo", ms=5, mec="k")
    curve.set_ylim(0, max(act.max(), 1e-6) * 1.05)
    curve.set_ylabel("activation", color="cyan")
    if segment is not None:
        for edge in segment:
            ax.axvline(edge / sr, color="white", ls="--", lw=1.2)
    return fig


def plot_purity_histograms(
    purity: Mapping[str, np.ndarray],
    *,
    chance: float | None = None,
    ax: Axes | None = None,
    xlabel: str = "genre purity of the unit's top tracks",
    figsize: tuple[float, float] = (7, 3),
) -> Figure:
    """Histograms of a per-filter measure for several layers, with their means (dashed)."""
    from course_lib.plotting import axes_or_new

    fig, ax = axes_or_new(ax, figsize)
    finite = {name: np.asarray(v, float)[np.isfinite(v)] for name, v in purity.items()}
    if not all(v.size for v in finite.values()):
        raise ValueError("every layer needs at least one finite value")
    lo = min(v.min() for v in finite.values())
    hi = max(v.max() for v in finite.values())
    bins = np.linspace(lo, hi if hi > lo else lo + 1, 21)
    for i, (name, values) in enumerate(finite.items()):
        colour = f"C{i}"
        ax.hist(
            values,
            bins=bins,
            density=True,
            alpha=0.45,
            color=colour,
            label=f"{name} ({values.size} units)",
        )
        ax.axvline(values.mean(), color=colour, ls="--", lw=1.5)
    if chance is not None:
        ax.axvline(chance, color="k", ls=":", lw=1.5, label="random playlist")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.legend(fontsize="small")
    return fig
