"""The one custom layer of the cold-start convnet: global temporal pooling (mean, max, L2 norm).

Taught in chapter 04 (section 2.3 uses it in the network and gives its formula; exercise 4.1,
where students write it themselves); chapter 05 reads its output (``global_pool``) when it looks
inside the trained network.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from course_lib.validation import require_number

__all__ = ["GlobalTemporalPooling"]


@keras.saving.register_keras_serializable(package="course_lib")
class GlobalTemporalPooling(keras.layers.Layer):
    """Pool a ``(batch, time, channels)`` tensor over time into mean, max and L2 norm.

    Dieleman (2014, sec. 5.1): "a global temporal pooling layer ... computing statistics of the
    learned features across time ... the mean, the maximum and the L2-norm". For each channel
    ``c`` with activations ``h[t, c]``::

        out = [ mean_t h[t, c] ,  max_t h[t, c] ,  sqrt(sum_t h[t, c]^2 + epsilon) ]

    concatenated along the channel axis, so the output has ``3 * channels`` features and the
    position in time of a detected pattern no longer matters. ``epsilon`` keeps the gradient of
    the square root finite when a ReLU channel is silent over the whole clip.
    The statistics are computed in float32 even under mixed precision.

    Refuses a negative, NaN or non-numeric ``epsilon``, and inputs that are not 3-D.
    """

    def __init__(self, epsilon: float = 1e-7, **kwargs: Any) -> None:
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.epsilon = require_number(epsilon, "epsilon", minimum=0.0)

    def call(self, inputs: Any) -> Any:
        mean = ops.mean(inputs, axis=1)
        peak = ops.max(inputs, axis=1)
        l2 = ops.sqrt(ops.sum(ops.square(inputs), axis=1) + self.epsilon)
        return ops.concatenate([mean, peak, l2], axis=-1)

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        if len(input_shape) != 3:
            raise ValueError(
                f"GlobalTemporalPooling expects (batch, time, channels), got {input_shape}"
            )
        channels = input_shape[-1]
        return (input_shape[0], None if channels is None else 3 * channels)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "epsilon": self.epsilon}
