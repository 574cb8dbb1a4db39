"""The whole-pixel part of a registration offset: one rule for every place that moves one frame
onto another by whole pixels and leaves the rest to a sub-pixel shift.

A scan's two directions are registered to a twentieth of a pixel (:mod:`stmdenoise.metrics.registration`),
so an offset of exactly half a pixel is common. Rounding half away from zero moves the frame one
whole pixel further than it must, and the two frames then share one row or column fewer; rounding
half up (``floor(o + 0.5)``) does so for +0.5 only, which made a 128-row scan's backward frame lose
the row its forward frame kept (its two 64-row noise bands no longer fit). Halves therefore round
toward zero here: the remainder, at most half a pixel either way, is the sub-pixel shift's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["whole_pixels"]


def _nearest(o: float) -> int:
    """``o`` rounded to the nearest integer, halves toward zero."""
    return -math.floor(-o + 0.5) if o > 0 else math.floor(o + 0.5)


def whole_pixels(offset: Sequence[float]) -> tuple[int, int]:
    """The whole-pixel shift ``(sy, sx)`` of ``offset = (dy, dx)``: each component rounded to the
    nearest integer, halves toward zero, so ``offset - (sy, sx)`` lies in [-0.5, 0.5] and a shift by
    ``offset`` and one by ``-offset`` keep the same overlap.

    >>> whole_pixels((0.5, -0.5)), whole_pixels((0.7, -1.5)), whole_pixels((2.45, -2.55))
    ((0, 0), (1, -1), (2, -3))
    """
    dy, dx = (float(o) for o in offset)
    return _nearest(dy), _nearest(dx)
