"""Figures of chapter 05: first-layer filters, an activation over its spectrogram, purity.

Taught in chapter 05 (what the network learned): :func:`plot_conv_filters` in sections 2
("First-layer filters") and 4, :func:`plot_activation_on_spectrogram` in section 3,
:func:`plot_purity_histograms` in section 4. Each follows the contract of
:mod:`course_lib.plotting`: draws into ``ax`` or a new figure, returns the figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from course_lib.audio import plot_spectrogram
from course_lib.plotting import axes_or_new
from course_lib.validation import require_int, validate_log_mels

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_activation_on_spectrogram", "plot_conv_filters", "plot_purity_histograms"]


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

    Raises
    ------
    ValueError
        A kernel that is not 3-D or holds NaN / inf (training diverged); filter indices out of
        range or none.
    """
    w = np.asarray(kernel, dtype=np.float64)
    if w.ndim != 3:
        raise ValueError(f"kernel must be (kernel_size, n_mels, n_filters), got shape {w.shape}")
    if not np.isfinite(w).all():
        raise ValueError(
            "kernel contains NaN or infinite weights: training diverged; retrain the model "
            "(e.g. with a lower learning rate) or load it again"
        )
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
        From :func:`~course_lib.inspection.layer_frame_centres` (with ``total_frames``), in
        frames of ``log_mel``.
    sr, hop_length
        To convert frames to seconds.
    segment : (start, stop) in samples, optional
        Marked by dashed lines: the part played by the audio player
        (:func:`~course_lib.inspection.segment_bounds`).

    Raises
    ------
    ValueError
        A spectrogram that is not one ``(n_frames, n_mels)`` array or holds NaN / inf; another
        number of activations than frame centres; NaN / inf activations or centres.
    """
    spec = validate_log_mels(log_mel, "log_mel")
    if spec.shape[0] != 1:
        raise ValueError(
            f"log_mel must be one spectrogram (n_frames, n_mels), got {spec.shape[0]}; "
            "pass log_mels[track]"
        )
    sr = require_int(sr, "sr", 1)
    hop_length = require_int(hop_length, "hop_length", 1)
    act = np.asarray(activation, dtype=np.float64).ravel()
    centres = np.asarray(frame_centres, dtype=np.float64).ravel()
    if act.shape != centres.shape or act.size == 0:
        raise ValueError(f"one frame centre per activation step: {centres.shape} vs {act.shape}")
    if not (np.isfinite(act).all() and np.isfinite(centres).all()):
        raise ValueError(
            "activation or frame_centres contain NaN or infinite values; check the model's "
            "output with np.isfinite (layer_activations refuses broken models)"
        )
    fig = plot_spectrogram(
        spec[0], sr, hop_length, ax=ax, title=title, colorbar=False, figsize=figsize
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
    """Histograms of a per-filter measure for several layers, with their means (dashed).

    NaN values (dead units, see :func:`~course_lib.inspection.genre_purity`) are left out.

    Raises
    ------
    ValueError
        No layers, or a layer without one finite value.
    """
    finite = {name: np.asarray(v, float)[np.isfinite(v)] for name, v in purity.items()}
    if not finite or not all(v.size for v in finite.values()):
        empty = [name for name, v in finite.items() if not v.size]
        raise ValueError(
            f"every layer needs at least one finite value (none in {empty}); "
            "lower top_k so that fewer units are dead"
        )
    fig, ax = axes_or_new(ax, figsize)
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
