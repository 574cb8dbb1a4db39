"""Monatomic steps: the terraces, islands and pits real metal and semiconductor surfaces show.

The Cu(111) scenes of :mod:`stmdenoise.physics` are one flat terrace. Real scans cross steps,
whose height (2.08 Å on Cu(111), 2.35 Å on Au(111), 3.1 Å on Si(111), 3.35 Å on graphite) is
tens of times the surface state's corrugation: the largest, sharpest structure most topographs
hold. :func:`step_heights` draws such a field to add to a simulated image (issue 15: "clean maps
with what real surfaces have and ours lacks"); the spectral gain's training adds it to half its
simulated pairs (``stmdenoise train-gain --terraces``; docs/model-selection.md, candidate BW).

>>> import numpy as np
>>> h = step_heights((64, 80), 0.1e-9, np.random.default_rng(0))
>>> h.shape, bool(np.isfinite(h).all()), 1.4e-10 < float(np.ptp(h)) < 1.1e-9
((64, 80), True, True)
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

__all__ = ["STEP_HEIGHT", "STEP_WIDTH", "step_heights"]

#: Range of one step's height (metres): Cu(111)'s 2.08 Å to graphite's 3.35 Å, with a margin.
STEP_HEIGHT = (1.5e-10, 3.5e-10)
#: Range of an edge's width (metres, the logistic's scale times 4): the tip's resolution.
STEP_WIDTH = (1e-10, 3e-10)
#: Spread of the steps' directions around the first one's (degrees): a vicinal surface's.
SPREAD_DEG = 10.0


def step_heights(shape: tuple[int, int], pixel_size: float, rng: np.random.Generator) -> NDArray[np.float64]:
    """Heights (metres) of 1-3 straight steps across a ``shape`` frame of ``pixel_size`` m/px.

    Each step: a direction within ±:data:`SPREAD_DEG` of one drawn at random, a position along its
    normal in the middle 80 % of the frame, a height uniform in :data:`STEP_HEIGHT` up or down
    (terraces, islands, pits), a logistic edge :data:`STEP_WIDTH` wide. The field's mean is 0.
    """
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"shape must be (rows, cols) with both at least 1, got {shape}")
    if not (math.isfinite(pixel_size) and pixel_size > 0):
        raise ValueError(f"pixel_size must be a positive number of metres, got {pixel_size}")
    rows, cols = shape
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float64) * pixel_size
    centre_y, centre_x = (rows - 1) * pixel_size / 2, (cols - 1) * pixel_size / 2
    first = rng.uniform(0.0, math.pi)
    out = np.zeros(shape)
    for _ in range(int(rng.integers(1, 4))):
        angle = first + math.radians(rng.uniform(-SPREAD_DEG, SPREAD_DEG))
        extent = (abs(math.cos(angle)) * (cols - 1) + abs(math.sin(angle)) * (rows - 1)) * pixel_size
        offset = rng.uniform(-0.4, 0.4) * extent
        across = (x - centre_x) * math.cos(angle) + (y - centre_y) * math.sin(angle) - offset
        height = rng.uniform(*STEP_HEIGHT) * (1.0 if rng.random() < 0.5 else -1.0)
        scale = rng.uniform(*STEP_WIDTH) / 4.0
        out += height / (1.0 + np.exp(-np.clip(across / scale, -60.0, 60.0)))
    return out - out.mean()
