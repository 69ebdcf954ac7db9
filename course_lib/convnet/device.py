"""Where the convnet runs: a GPU with mixed precision if TensorFlow sees one, else the CPU.

Taught in chapter 04 (its setup cell prints :func:`describe_device`; chapter 07 does too). The same
code runs on both: only the dtype policy of the layers changes (:func:`default_dtype_policy`).
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["default_dtype_policy", "describe_device"]


def _gpus() -> list[Any]:
    import tensorflow as tf

    return tf.config.list_physical_devices("GPU")


def default_dtype_policy() -> str:
    """``"mixed_float16"`` when TensorFlow sees a GPU, else ``"float32"`` (same code on both)."""
    return "mixed_float16" if _gpus() else "float32"


def describe_device() -> str:
    """A one-line description of where Keras will run: the GPU's name, or the CPU core count."""
    gpus = _gpus()
    if gpus:
        import tensorflow as tf

        details = tf.config.experimental.get_device_details(gpus[0])
        return f"GPU: {details.get('device_name', gpus[0].name)} (x{len(gpus)}), mixed precision"
    return f"CPU: {os.cpu_count()} cores visible, float32 (no GPU found)"
