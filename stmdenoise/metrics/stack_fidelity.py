"""Fidelity from a frame stack: several recordings of one area, each denoised frame judged
against the mean of the others (leave-one-out), and the band means of such reports.

The estimate is :mod:`stmdenoise.metrics.fidelity`'s with K - 1 other looks instead of one (the
frames' noise is independent, so the mean of the others is a second look whose noise power is the
stack's spread over K - 1); the Ko group's Cu(111) frames are judged so (``bench/fidelity.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from stmdenoise.metrics.bands import Band, FidelityReport
from stmdenoise.metrics.fidelity import _arr, _looks_report, _pixel
from stmdenoise.metrics.registration import register_frames

__all__ = ["mean_reports", "stack_fidelity"]


def stack_fidelity(
    denoised: Sequence[Any],
    frames: Sequence[Any],
    *,
    pixel_size: float | None = None,
    bands: Sequence[Band] | None = None,
    max_shift: float | None = None,
) -> list[FidelityReport]:
    """Fidelity of each denoised frame of a stack against the mean of the other frames.

    Every frame of ``frames`` (several recordings of one area, any drift between them) is
    registered onto frame ``i``; ``denoised[i]``, made from ``frames[i]`` alone, is judged
    against the mean of the others, whose noise power is the stack's spread divided by K - 1.

    Parameters
    ----------
    denoised : sequence of Scan or array_like
        One output per frame, each on its frame's grid.
    frames : sequence of Scan or array_like
        K >= 2 raw frames of one area, same shape.
    pixel_size : float, optional
        Metres per pixel (taken from the first frame when it is a Scan).
    bands : sequence of Band, optional
        Bands to report (default :func:`default_bands`).
    max_shift : float, optional
        Largest drift searched between frames, pixels.

    Returns
    -------
    list of FidelityReport
        One per frame, in order.
    """
    if len(frames) < 2 or len(denoised) != len(frames):
        raise ValueError(
            f"frames must hold at least 2 looks and denoised one output per frame, "
            f"got {len(frames)} frames and {len(denoised)} outputs"
        )
    px = _pixel(frames[0], pixel_size, "frames[0]")
    xs = [_arr(f, f"frames[{i}]") for i, f in enumerate(frames)]
    ds = [_arr(d, f"denoised[{i}]") for i, d in enumerate(denoised)]
    if len({a.shape for a in (*xs, *ds)}) != 1:
        raise ValueError(f"frames and denoised must share one shape, got {[a.shape for a in (*xs, *ds)]}")
    out = []
    for i, (x, d) in enumerate(zip(xs, ds, strict=True)):
        others = [f for j, f in enumerate(xs) if j != i]
        offsets = [register_frames(x, f, max_shift=max_shift) for f in others]
        out.append(_looks_report("frame stack", [d], x, others, offsets, px, bands)[0])
    return out


def mean_reports(reports: Sequence[FidelityReport]) -> list[dict[str, Any]]:
    """Band-by-band means of several reports with the same bands (for tables): error, kept, coherent."""
    if not reports:
        raise ValueError("reports must not be empty")
    rows = []
    for k, entry in enumerate((*reports[0].bands, reports[0].overall)):
        picks = [(*r.bands, r.overall)[k] for r in reports]
        rows.append(
            {
                "band": entry.band.label,
                "error": float(np.nanmean([p.error for p in picks])),
                "kept": float(np.nanmean([p.kept for p in picks]))
                if any(math.isfinite(p.kept) for p in picks)
                else math.nan,
                "coherent": float(np.nanmean([p.coherent for p in picks])),
            }
        )
    return rows
