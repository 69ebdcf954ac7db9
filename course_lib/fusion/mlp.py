"""Factor regression networks: one source, or several fused (early or late fusion).

Taught in chapter 07 (``chapters/07_fusion.md``, section 4 "Networks from each source, and the
late-fusion network", where the student writes the late-fusion network layer by layer and
checks it against :func:`build_factor_mlp`; section 6 compares early fusion, late fusion and
blending). Small Keras networks regress unit-norm ALS item factors from a track's descriptions
with the settings of Nieto (2017): cosine-distance loss, Adam, 50 % dropout, early stopping,
mini-batches of 256 (the talk's size for its attribute model). The course's words follow the
talk: **late fusion** is one network with a dense branch per source, the branches merged
(concatenated) before the shared layers and the output, the talk's "late-fusion deep
architecture"; **early fusion** concatenates the sources' features into one input vector
before the first layer; combining separately trained models afterwards is **blending**
(:mod:`course_lib.fusion.blending`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from course_lib.convnet import cosine_distance, normalize_factors
from course_lib.fusion._inputs import same_rows, source_names, split_parts
from course_lib.validation import (
    require_choice,
    require_int,
    require_number,
    validate_index,
    validate_matrix,
)

if TYPE_CHECKING:
    import keras

__all__ = ["FactorMLP", "build_factor_mlp", "fit_factor_mlp"]


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
    dropout (``{name}_dropout``). Several branches are concatenated (layer ``fusion``), so the
    sources meet inside one network trained end to end: late fusion, the "late-fusion deep
    architecture" of Nieto (2017). Then ``hidden_units`` dense ReLU layers with dropout
    (``hidden1``, ``hidden1_dropout``, ...) and a linear ``factors`` output. One input gives a
    single-branch network: a model of one source or, when that input holds several sources'
    features side by side, early fusion (:func:`fit_factor_mlp` with ``fusion="early"``).
    Nieto (2017) uses 50 % dropout on the dense layers.

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

    Raises
    ------
    TypeError, ValueError
        No inputs; a dimension, ``n_factors``, a width or ``seed`` that is not a positive (for
        ``seed``: non-negative) integer, booleans and strings included; ``hidden_units`` given as
        one number instead of a sequence; ``dropout`` outside [0, 1).
    """
    import keras

    if isinstance(input_dims, Mapping):
        dims = dict(input_dims)
    else:
        dims = {"x": require_int(input_dims, "input_dims", minimum=1)}
    if not dims:
        raise ValueError("input_dims is empty: give at least one input")
    dims = {name: require_int(d, f"input_dims[{name!r}]", minimum=1) for name, d in dims.items()}
    n_factors = require_int(n_factors, "n_factors", minimum=1)
    branch_units = require_int(branch_units, "branch_units", minimum=1)
    if isinstance(hidden_units, str) or not isinstance(hidden_units, Sequence):
        raise TypeError(
            f"hidden_units must be a sequence of layer widths, got {hidden_units!r}; "
            f"pass e.g. hidden_units=({hidden_units!r},) or () for none"
        )
    hidden_units = [require_int(u, "hidden_units[...]", minimum=1) for u in hidden_units]
    dropout = require_number(dropout, "dropout", minimum=0.0, maximum=1.0)
    if dropout >= 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    seed = require_int(seed, "seed", minimum=0)
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
    fusion: str = "late"
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
        xs = _inputs(_select(features, self.sources, rows), self.fusion)
        from keras import ops

        # A direct call (inference mode) instead of model.predict: no predict function is traced
        # per model, which keeps a notebook that trains many small networks quiet and quick.
        # convert_to_numpy: a PyTorch output carries its graph and refuses np.asarray.
        out = self.model(xs, training=False)
        return ops.convert_to_numpy(out).astype(np.float32)


def _select(features: Mapping[str, Any], sources: Sequence[str], rows: Any) -> list[np.ndarray]:
    if not isinstance(features, Mapping):
        raise TypeError(
            f"features must be a dict source name -> array (n_tracks, dim), "
            f"got {type(features).__name__}"
        )
    missing = [s for s in sources if s not in features]
    if missing:
        raise ValueError(f"features has no {missing}; it has {sorted(features)}")
    arrays = [validate_matrix(features[s], f"features[{s!r}]") for s in sources]
    n = same_rows(arrays, sources, "feature matrices")
    if rows is None:
        return arrays
    idx = validate_index(rows, n, "rows")
    return [a[idx] for a in arrays]


def _inputs(arrays: list[np.ndarray], fusion: str) -> list[np.ndarray]:
    """The network's inputs: one array per source (late), or all side by side (early)."""
    if fusion == "early" and len(arrays) > 1:
        return [np.concatenate(arrays, axis=1)]
    return arrays


def _datasets(
    xs: list[np.ndarray], y: np.ndarray, tr: np.ndarray, va: np.ndarray, batch_size: int, seed: int
) -> tuple[Any, Any]:
    """Training and validation data for ``model.fit``.

    Under TensorFlow, ``tf.data`` pipelines (shuffled each epoch with ``seed``; the validation
    batches cached): with a few hundred training rows an epoch is a handful of steps, and
    NumPy arrays would cost Keras more per epoch in setting up than the steps themselves.
    Other backends get the arrays.
    """
    import keras

    train = (tuple(x[tr] for x in xs), y[tr])
    val = (tuple(x[va] for x in xs), y[va])
    if keras.backend.backend() != "tensorflow":
        return train, val
    import tensorflow as tf

    train_ds = (
        tf.data.Dataset.from_tensor_slices(train)
        .shuffle(len(tr), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size)
        .prefetch(2)
    )
    val_ds = tf.data.Dataset.from_tensor_slices(val).batch(max(batch_size, 1024)).cache()
    return train_ds, val_ds


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
    batch_size: int = 256,
    patience: int = 10,
    seed: int = 0,
    fusion: str = "late",
    verbose: int = 0,
) -> FactorMLP:
    """Train :func:`build_factor_mlp` to predict unit-norm ``targets`` from the chosen sources.

    Nieto (2017): loss ``L = 1 - (1/M) sum f(x)^T y / (||f(x)|| ||y||)``
    (:func:`course_lib.convnet.cosine_distance`, the same Keras loss chapter 04 trains with), Adam
    with default parameters, 50 % dropout on dense layers, early stopping on the validation loss
    (best weights restored) and mini-batches of 256, the talk's size for its attribute (MGP)
    model. Several ``sources`` are fused: by default in the talk's late-fusion network, a
    branch per source merged inside the network (:func:`build_factor_mlp`); with
    ``fusion="early"`` their features are concatenated into one input of one branch.

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
    fusion : {"late", "early"}
        How several sources meet: a branch each, merged inside the network (``"late"``, Nieto
        2017), or side by side in one input vector (``"early"``). No difference for one source.

    Returns
    -------
    FactorMLP

    Raises
    ------
    TypeError, ValueError
        Features that are not a mapping, or lack a selected source; ``sources`` given as one
        string; feature matrices or targets that are empty, hold NaN, or differ in their numbers
        of rows; a split without train/val parts, with empty, overlapping or out-of-range parts;
        ``epochs``, ``batch_size``, ``patience`` or ``seed`` that are not integers of the right
        range (booleans and strings included); a ``fusion`` other than ``"late"`` or
        ``"early"``; whatever :func:`build_factor_mlp` refuses.
    """
    import keras

    names = tuple(features) if sources is None else source_names(sources)
    if not names:
        raise ValueError("features is empty: give at least one source")
    y = normalize_factors(validate_matrix(targets, "targets"))
    xs = _select(features, names, None)
    if len(xs[0]) != len(y):
        raise ValueError(
            f"features have {len(xs[0])} rows but targets has {len(y)}: "
            "pass one row per track for both, in the same order"
        )
    tr, va = split_parts(split, len(y))
    epochs = require_int(epochs, "epochs", minimum=1)
    batch_size = require_int(batch_size, "batch_size", minimum=1)
    patience = require_int(patience, "patience", minimum=0)
    seed = require_int(seed, "seed", minimum=0)
    require_choice(fusion, "fusion", ("late", "early"))
    xs = _inputs(xs, fusion)
    input_names = names if len(xs) == len(names) else ("_".join(_layer_name(n) for n in names),)
    keras.utils.set_random_seed(seed)
    model = build_factor_mlp(
        {n: x.shape[1] for n, x in zip(input_names, xs)},
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
    train, val = _datasets(xs, y, tr, va, batch_size, seed)
    start = time.perf_counter()
    if isinstance(train, tuple):  # NumPy arrays (backends other than TensorFlow)
        history = model.fit(
            *train,
            validation_data=val,
            epochs=epochs,
            batch_size=batch_size,
            shuffle=True,
            verbose=verbose,
            callbacks=[stop],
        )
    else:
        history = model.fit(
            train,
            validation_data=val,
            epochs=epochs,
            shuffle=False,  # the pipeline shuffles, with the seed
            verbose=verbose,
            callbacks=[stop],
        )
    seconds = time.perf_counter() - start
    hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    best = int(np.argmin(hist["val_loss"])) + 1
    return FactorMLP(model, names, hist, seconds, best, fusion=fusion)
