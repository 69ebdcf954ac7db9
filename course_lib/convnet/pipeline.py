"""The input pipeline of the cold-start convnet: seeded random crops, on every Keras backend.

Taught in chapter 04 (section 3: the students write the same pipeline, ``RandomCrops``, as a
``keras.utils.PyDataset``, and compare it with :func:`make_factor_dataset`, the tested copy that
:func:`~course_lib.convnet.training.train_factor_model` uses). A ``PyDataset`` is plain Python,
so the pipeline runs on TensorFlow, JAX and PyTorch alike; the crop offsets and the track order
come from one seeded numpy ``Generator``, so a seed gives the same crops on every backend.

On a GPU (JAX or PyTorch backend) the spectrograms are copied to the device once and every batch
is cut there (:class:`FactorCrops` with ``on_device=True``): one gather kernel per batch instead
of a host-side copy of ``batch x n_frames x n_mels`` floats and its transfer, so the card does not
wait for the input.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from course_lib.validation import require_int, validate_log_mels, validate_matrix

from .data import _nonempty_index, center_crop
from .losses import normalize_factors

__all__ = ["FactorCrops", "make_factor_dataset"]


def _gpu_backend() -> bool:
    """Whether crops on the device pay off: a GPU under the JAX or PyTorch backend."""
    from .device import gpu_names

    return keras.backend.backend() in ("jax", "torch") and bool(gpu_names())


class FactorCrops(keras.utils.PyDataset):
    """Batches of (log-mel crop, unit-norm target) for ``model.fit``, ``evaluate``, ``predict``.

    Training (``training=True``): every epoch serves every track once, in a new order, each as a
    window of ``n_frames`` frames starting at a random offset (Dieleman 2014, sec. 5.2: "augmented
    by slightly cropping the spectrograms along the time axis with a random offset"). The order
    and the offsets of the next epoch are drawn in :meth:`on_epoch_end` from one
    ``numpy.random.default_rng(seed)``, in the same way as chapter 04's ``RandomCrops``:
    ``rng.permutation`` of the rows, then ``rng.integers(0, last_start + 1)`` per row. Evaluation
    (``training=False``): the centre crop of every track, in index order.

    Build it with :func:`make_factor_dataset`, which validates the inputs.

    Parameters
    ----------
    rows_log_mels : array (n_rows, total_frames, n_mels), float32
        The served spectrograms only (already selected and validated).
    rows_targets : array (n_rows, n_factors), float32
        Their unit-norm targets.
    n_frames, batch_size, training, seed
        Crop length, batch size, random crops or centre crops, the seed of the crops.
    on_device : bool
        Keep the spectrograms on the backend's default device and cut the crops there (returns
        backend tensors); else numpy arrays.
    **kwargs
        ``workers``, ``use_multiprocessing``, ``max_queue_size`` of ``keras.utils.PyDataset``.
    """

    def __init__(
        self,
        rows_log_mels: np.ndarray,
        rows_targets: np.ndarray,
        n_frames: int,
        *,
        batch_size: int,
        training: bool,
        seed: int,
        on_device: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.n_frames, self.batch_size = int(n_frames), int(batch_size)
        self.training, self.on_device = bool(training), bool(on_device)
        self.n_rows, self.total = rows_log_mels.shape[0], rows_log_mels.shape[1]
        x = rows_log_mels
        if not training:
            x = np.ascontiguousarray(center_crop(rows_log_mels, n_frames))
        if self.on_device:
            from keras import ops

            # One (rows * frames, mels) matrix, so that a batch of crops is one ``take``.
            self._x = ops.convert_to_tensor(x.reshape((-1, x.shape[-1])) if training else x)
            self._y = ops.convert_to_tensor(rows_targets)
        else:
            self._x, self._y = x, rows_targets
        self._frames = np.arange(self.n_frames)
        self.rng = np.random.default_rng(seed)
        self.order = np.arange(self.n_rows)
        self.starts = np.full(self.n_rows, (self.total - self.n_frames) // 2)
        if self.training:
            self.on_epoch_end()

    def on_epoch_end(self) -> None:
        """Draw the next epoch's order of the rows and the start of each crop."""
        if self.training:
            self.order = self.rng.permutation(self.n_rows)
            last_start = self.total - self.n_frames
            self.starts = self.rng.integers(0, last_start + 1, size=self.n_rows)

    def __len__(self) -> int:
        return -(-self.n_rows // self.batch_size)  # rounded up: a short last batch

    def __getitem__(self, i: int) -> tuple[Any, Any]:
        if not 0 <= i < len(self):
            raise IndexError(f"batch {i} out of range: this epoch has {len(self)} batches")
        part = slice(i * self.batch_size, (i + 1) * self.batch_size)
        rows = self.order[part]
        if not self.training:
            return self._x[part], self._y[part]
        if not self.on_device:
            starts = self.starts[part]
            x = np.stack([self._x[r, s : s + self.n_frames] for r, s in zip(rows, starts)])
            return x, self._y[rows]
        from keras import ops

        flat = (rows * self.total + self.starts[part])[:, None] + self._frames[None, :]
        x = ops.take(self._x, ops.convert_to_tensor(flat.astype("int32")), axis=0)
        return x, ops.take(self._y, ops.convert_to_tensor(rows.astype("int32")), axis=0)


def make_factor_dataset(
    log_mels: np.ndarray,
    targets: np.ndarray,
    indices: np.ndarray,
    n_frames: int,
    *,
    batch_size: int = 32,
    training: bool = False,
    seed: int = 0,
    on_device: bool | None = None,
    **kwargs: Any,
) -> FactorCrops:
    """A pipeline of (log-mel crop, target factors) batches, a ``keras.utils.PyDataset``.

    Training: a new order of the tracks and a random window of ``n_frames`` frames from each
    spectrogram every epoch, both drawn from ``numpy.random.default_rng(seed)`` (the same crops
    on every Keras backend, and the same as chapter 04's ``RandomCrops`` with that seed).
    Evaluation (``training=False``): the centre crop, in index order, so results are
    deterministic. See :class:`FactorCrops`.

    Parameters
    ----------
    log_mels : array (n_tracks, total_frames, n_mels)
        All spectrograms (e.g. ``world.log_mel()``); only ``indices`` are copied into the pipeline.
    targets : array (n_tracks, n_factors)
        Target factors, one row per track (normalised to unit norm here).
    indices : array of int
        Which tracks (rows) to serve.
    n_frames : int
        Crop length; the model's input length.
    batch_size, training, seed
    on_device : bool, optional
        Cut the crops on the backend's device (returns backend tensors). Default: on a GPU
        under the JAX or PyTorch backend, where it spares the card from waiting for the host;
        off under TensorFlow, whose ``fit`` reads a ``PyDataset`` through ``tf.data`` on the host.
    **kwargs
        Passed to ``keras.utils.PyDataset`` (``workers=2`` prepares batches in threads).

    Raises
    ------
    ValueError
        Spectrograms that are not ``(n_tracks, frames, mels)`` or hold NaN / infinite values in
        the served rows, a crop longer than the spectrograms, no indices or indices out of range,
        targets with another number of rows than ``log_mels`` or with NaN / infinite values.
    TypeError
        ``n_frames``, ``batch_size`` or ``seed`` that is not an integer.
    """
    n_frames = require_int(n_frames, "n_frames", 1)
    batch_size = require_int(batch_size, "batch_size", 1)
    seed = require_int(seed, "seed", 0)
    mels = np.asarray(log_mels)
    if mels.ndim != 3:
        raise ValueError(f"log_mels must be (n_tracks, n_frames, n_mels), got shape {mels.shape}")
    idx = _nonempty_index(indices, len(mels), "indices")
    total = mels.shape[1]
    if n_frames > total:
        raise ValueError(
            f"crop of {n_frames} frames is longer than the spectrograms ({total} frames); "
            f"pass n_frames <= {total}"
        )
    factors = validate_matrix(targets, "targets")
    if len(factors) != len(mels):
        raise ValueError(
            f"log_mels has {len(mels)} tracks but targets has {len(factors)} rows: pass one "
            "target row per spectrogram (all tracks), and select them with indices"
        )
    y = normalize_factors(factors[idx])
    x_rows = validate_log_mels(mels[idx], "log_mels", min_frames=n_frames, allow_single=False)
    return FactorCrops(
        np.asarray(x_rows, dtype=np.float32),
        y,
        n_frames,
        batch_size=batch_size,
        training=bool(training),
        seed=seed,
        on_device=_gpu_backend() if on_device is None else bool(on_device),
        **kwargs,
    )
