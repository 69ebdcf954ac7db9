"""Factor regression networks: one source, or several fused inside one network (early fusion).

Taught in chapter 07 (``chapters/07_fusion.md``, section 4 "One small network per source, and
networks over several sources"): small Keras networks regress unit-norm ALS item factors from a
track's descriptions with the settings of Nieto (2017): cosine-distance loss, Adam, 50 % dropout,
early stopping, mini-batches of 64.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from course_lib.convnet import cosine_distance, normalize_factors
from course_lib.fusion._inputs import same_rows, source_names, split_parts
from course_lib.validation import require_int, require_number, validate_index, validate_matrix

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

    Raises
    ------
    TypeError, ValueError
        Features that are not a mapping, or lack a selected source; ``sources`` given as one
        string; feature matrices or targets that are empty, hold NaN, or differ in their numbers
        of rows; a split without train/val parts, with empty, overlapping or out-of-range parts;
        ``epochs``, ``batch_size``, ``patience`` or ``seed`` that are not integers of the right
        range (booleans and strings included); whatever :func:`build_factor_mlp` refuses.
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
