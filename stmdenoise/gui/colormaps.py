"""Colour maps offered for STM images: grey, an afmhot-like map, viridis; a diverging map for differences."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

__all__ = ["COLORMAP_NAMES", "colormap", "difference_colormap", "robust_levels", "symmetric_levels"]

COLORMAP_NAMES: tuple[str, ...] = ("grey", "afmhot", "viridis")


def colormap(name: str) -> pg.ColorMap:
    """The colour map called ``name`` (one of :data:`COLORMAP_NAMES`)."""
    if name == "grey":
        return pg.ColorMap([0.0, 1.0], [(0, 0, 0), (255, 255, 255)], name="grey")
    if name == "afmhot":
        # matplotlib's afmhot: r = 2x, g = 2x - 0.5, b = 2x - 1 (clipped); piecewise linear
        pos = [0.0, 0.25, 0.5, 0.75, 1.0]
        rgb = [(0, 0, 0), (128, 0, 0), (255, 128, 0), (255, 255, 128), (255, 255, 255)]
        return pg.ColorMap(pos, rgb, name="afmhot")
    if name == "viridis":
        return pg.colormap.get("viridis")
    raise ValueError(f"name must be one of {COLORMAP_NAMES}, got {name!r}")


def difference_colormap() -> pg.ColorMap:
    """Blue - white - red diverging map for raw − denoised."""
    return pg.colormap.get("CET-D1")


def robust_levels(data: np.ndarray, *, low: float = 0.5, high: float = 99.5) -> tuple[float, float]:
    """Percentile display levels ignoring NaN; a constant image gets a unit-width window."""
    finite = data[np.isfinite(data)]
    if finite.size == 0:
        return (0.0, 1.0)
    lo, hi = (float(v) for v in np.percentile(finite, [low, high]))
    if not hi > lo:
        lo, hi = float(finite.min()), float(finite.max())
    if not hi > lo:
        pad = abs(lo) * 1e-3 or 1.0
        lo, hi = lo - pad, hi + pad
    return (lo, hi)


def symmetric_levels(data: np.ndarray, *, pct: float = 99.5) -> tuple[float, float]:
    """Levels centred on zero covering ``pct`` percent of |data| (for differences)."""
    finite = np.abs(data[np.isfinite(data)])
    if finite.size == 0:
        return (-1.0, 1.0)
    m = float(np.percentile(finite, pct))
    if not m > 0:
        m = float(finite.max()) or 1.0
    return (-m, m)
