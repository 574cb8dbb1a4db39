"""Colour maps of the views: the core's :data:`stmdenoise.io.render.COLORMAPS` as pyqtgraph maps.

The names and tables live in one place (:mod:`stmdenoise.io.render`, from ``cmap``); the views
and the PNG export therefore show the same colours. The difference view uses a diverging map.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from stmdenoise.io.render import COLORMAPS, DIFFERENCE_COLORMAP, colormap_lut

__all__ = ["COLORMAP_NAMES", "colormap", "difference_colormap", "robust_levels", "symmetric_levels"]

COLORMAP_NAMES: tuple[str, ...] = COLORMAPS


def colormap(name: str) -> pg.ColorMap:
    """The colour map called ``name`` (one of :data:`COLORMAP_NAMES`) for pyqtgraph."""
    lut = colormap_lut(name, n=64)
    return pg.ColorMap(np.linspace(0.0, 1.0, len(lut)), lut, name=name)


def difference_colormap() -> pg.ColorMap:
    """Blue - white - red diverging map for raw − denoised (the batch pictures' difference map too)."""
    lut = colormap_lut(DIFFERENCE_COLORMAP, n=64)
    return pg.ColorMap(np.linspace(0.0, 1.0, len(lut)), lut, name=DIFFERENCE_COLORMAP)


#: Half-width of the display window of an image that is zero everywhere (SI units: 1 pm of Z,
#: 1 pA of current). A unit-wide window would label a flat Z channel "±500 mm".
ZERO_IMAGE_PAD = 1e-12


def robust_levels(data: np.ndarray, *, low: float = 0.5, high: float = 99.5) -> tuple[float, float]:
    """Percentile display levels ignoring NaN; a constant image gets a window of 0.1 % of its value
    around it (:data:`ZERO_IMAGE_PAD` when the value is 0)."""
    finite = data[np.isfinite(data)]
    if finite.size == 0:
        return (0.0, 1.0)
    lo, hi = (float(v) for v in np.percentile(finite, [low, high]))
    if not hi > lo:
        lo, hi = float(finite.min()), float(finite.max())
    if not hi > lo:
        pad = abs(lo) * 1e-3 or ZERO_IMAGE_PAD
        lo, hi = lo - pad, hi + pad
    return (lo, hi)


def symmetric_levels(data: np.ndarray, *, pct: float = 99.5) -> tuple[float, float]:
    """Levels centred on zero covering ``pct`` percent of |data| (for differences)."""
    finite = np.abs(data[np.isfinite(data)])
    if finite.size == 0:
        return (-1.0, 1.0)
    m = float(np.percentile(finite, pct))
    if not m > 0:
        m = float(finite.max()) or ZERO_IMAGE_PAD
    return (-m, m)
