"""Raster geometry of a simulated scan: where each pixel of the trace and retrace was measured.

Thermal drift and piezo creep move the tip relative to the surface while the image is taken;
:func:`raster_warp` applies that distortion alone, which is the clean image as the scan saw it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["raster_warp"]


def _raster_coords(
    rows: int,
    cols: int,
    line_time: float,
    drift: float,
    angle: float,
    creep: float,
    creep_time: float,
    *,
    retrace: bool = False,
) -> NDArray[np.float64]:
    """Where on the surface each pixel of the trace (or retrace) was measured, in pixels.

    Thermal drift moves the tip linearly in raster time (``drift`` of the field over the frame,
    direction ``angle``); piezo creep adds a slow-axis offset relaxing with ``creep_time`` (a
    fraction of the frame time). Returns the (2, rows, cols) coordinates for map_coordinates.
    """
    dt = line_time / cols
    frame_t = 2 * rows * cols * dt
    r_idx = np.arange(rows)[:, None].astype(np.float64)
    c_idx = np.arange(cols)[None, :].astype(np.float64)
    if retrace:
        t = ((2 * r_idx + 1) * cols + (cols - 1 - c_idx)) * dt
    else:
        t = (2 * r_idx * cols + c_idx) * dt
    frac = t / frame_t
    dy = (drift * math.sin(angle) * frac + creep * np.exp(-t / (creep_time * frame_t))) * rows
    dx = drift * math.cos(angle) * frac * cols
    return np.stack([r_idx + dy + 0 * c_idx, c_idx + dx + 0 * r_idx])


def raster_warp(
    image: NDArray[np.floating[Any]], params: dict[str, Any], *, retrace: bool = False
) -> NDArray[np.float64]:
    """Distort ``image`` by the drift and creep recorded in ``params`` (no other artefact).

    This is the clean surface as the simulated scan saw it: features at the positions where
    the noisy trace (or retrace) shows them. A denoiser cannot undo drift, so paired training
    and full-reference scores compare with this image, not with the undistorted map.

    Parameters
    ----------
    image : ndarray, shape (rows, cols)
        The clean image given to :func:`apply_artefacts_trace_retrace`.
    params : dict
        The record that function returned for it.
    retrace : bool
        Distort like the backward (retrace) frame instead of the forward one.

    Returns
    -------
    ndarray of float64, shape (rows, cols)
    """
    a = np.asarray(image, dtype=np.float64)
    rows, cols = a.shape
    line_time = float(params["config"]["line_time"])
    coords = _raster_coords(
        rows,
        cols,
        line_time,
        float(params.get("drift", 0.0)),
        float(params["drift_angle"]),
        float(params.get("creep", 0.0)),
        float(params.get("creep_time", 1.0)) or 1.0,
        retrace=retrace,
    )
    from scipy import ndimage  # loaded when simulating

    return np.asarray(ndimage.map_coordinates(a, coords, order=3, mode="reflect"), dtype=np.float64)
