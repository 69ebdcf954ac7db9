"""Where the convnet runs: a GPU with mixed precision if the Keras backend sees one, else the CPU.

Taught in chapter 04 (its setup cell prints :func:`describe_device`; chapter 07 does too). The same
code runs on both, and on every Keras backend (TensorFlow, JAX, PyTorch; ``KERAS_BACKEND``): only
the dtype policy of the layers changes (:func:`default_dtype_policy`).
"""

from __future__ import annotations

import os

import keras

__all__ = ["default_dtype_policy", "describe_device", "gpu_names"]


def gpu_names() -> list[str]:
    """Names of the accelerators the current Keras backend computes on (empty: the CPU only).

    TensorFlow: its visible GPUs; JAX: the devices of its default platform when that is a GPU;
    PyTorch: the CUDA devices, or Apple's Metal device (``"mps"``) that Keras uses on a Mac.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        return [
            str(tf.config.experimental.get_device_details(g).get("device_name", g.name))
            for g in gpus
        ]
    if backend == "jax":
        import jax

        return [str(d.device_kind) for d in jax.devices() if d.platform in ("gpu", "cuda", "rocm")]
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return ["Apple MPS"]
    return []


def _bfloat16_gpu() -> bool:
    """Whether the backend's GPU computes in bfloat16 natively (NVIDIA compute capability >= 8)."""
    backend = keras.backend.backend()
    try:
        if backend == "torch":
            import torch

            return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
        if backend == "jax":
            import jax

            capability = getattr(jax.devices()[0], "compute_capability", "0")
            return float(capability) >= 8.0
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        details = tf.config.experimental.get_device_details(gpus[0]) if gpus else {}
        return tuple(details.get("compute_capability", (0, 0))) >= (8, 0)
    except (ImportError, RuntimeError, ValueError, TypeError, IndexError):
        return False


def default_dtype_policy() -> str:
    """The dtype policy the convnet is built with by default: mixed precision on a GPU.

    ``"mixed_bfloat16"`` on a GPU with native bfloat16 (NVIDIA Ampere and later: float32's range,
    so no loss scaling), ``"mixed_float16"`` on other GPUs (trained with loss scaling),
    ``"float32"`` on the CPU. The same code runs on all of them.
    """
    if not gpu_names():
        return "float32"
    return "mixed_bfloat16" if _bfloat16_gpu() else "mixed_float16"


def describe_device() -> str:
    """A one-line description of where Keras will run: the GPU's name, or the CPU core count.

    E.g. ``"GPU: NVIDIA H200 (x1), mixed precision, bfloat16 (Keras backend: jax)"`` or
    ``"CPU: 2 cores visible, float32, no GPU found (Keras backend: tensorflow)"``; the text
    before the first comma names the hardware.
    """
    gpus = gpu_names()
    backend = f"(Keras backend: {keras.backend.backend()})"
    if gpus:
        precision = default_dtype_policy().replace("mixed_", "mixed precision, ")
        return f"GPU: {gpus[0]} (x{len(gpus)}), {precision} {backend}"
    return f"CPU: {os.cpu_count()} cores visible, float32, no GPU found {backend}"
