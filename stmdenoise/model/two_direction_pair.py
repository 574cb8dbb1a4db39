"""Where two scan directions overlap, and whether the two-direction Wiener can run on them.

The geometry of a pair for :mod:`stmdenoise.model.two_direction`: the run of complete rows of the
frame, the block both frames measured once the second look is moved by whole pixels
(:func:`common_block`), the cross-fitting bands and their noise sources (:func:`noise_bands`), the
reason a pair cannot be served (:func:`pair_problem`), and the Fourier subpixel shift that
registers the look (:func:`shifted`). Split out of the filter's module, which keeps the filtering.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy import fft

from stmdenoise.model.fourier_tiles import TILE
from stmdenoise.processing import complete_row_span, complete_rows, whole_pixels

__all__ = [
    "BAND",
    "SMALL_BAND",
    "Block",
    "TwoDirectionError",
    "band_for",
    "block_problem",
    "common_block",
    "frames",
    "noise_bands",
    "pair_problem",
    "shared_rows",
    "shifted",
]

Array = NDArray[np.float64]

#: Rows per cross-fitting band (one row of :data:`TILE`-px noise tiles each).
BAND = TILE
#: Rows per band of a feedback-error current (or a quiet scan) sharing fewer than 2 x :data:`BAND`
#: complete rows with its second look: its noise and power tiles are this many rows by
#: :data:`TILE` columns (docs/model-selection.md, candidates L and Q).
SMALL_BAND = 16


class TwoDirectionError(ValueError):
    """The filter cannot run on this pair (too few complete rows in common, shapes differ, ...)."""


def _complete_run(x: NDArray[Any]) -> tuple[int, int]:
    """``(start, stop)`` of the one run of complete rows of ``x``; unmeasured rows only at its ends."""
    span = complete_row_span(x)
    if span.stop <= span.start:
        raise TwoDirectionError("no complete row")
    if int(complete_rows(x).sum()) != span.stop - span.start:
        raise TwoDirectionError("unmeasured lines inside the scan split it into separate blocks")
    return span.start, span.stop


def shifted(a: Array, dy: float, dx: float) -> Array:
    """``a`` moved down by ``dy`` and right by ``dx`` pixels (|d| < 1) with a Fourier phase ramp on a
    reflect-padded copy (keeps the noise power, unlike interpolation)."""
    pad = 8
    v = np.pad(a, pad, mode="reflect")
    ky = np.fft.fftfreq(v.shape[0])[:, None]
    kx = np.fft.rfftfreq(v.shape[1])[None, :]
    ramp = np.exp(-2j * np.pi * (ky * dy + kx * dx))
    if v.shape[0] % 2 == 0:  # the slow axis' Nyquist row is its own mirror: the ramp's real part
        ramp[v.shape[0] // 2] = np.cos(np.pi * dy) * np.exp(-2j * np.pi * kx[0] * dx)
        if v.shape[1] % 2 == 0:
            ramp[v.shape[0] // 2, -1] = np.cos(np.pi * (dy + dx))
    # on the half plane: the numbers of the full transform's real part (which the Nyquist lines
    # above reproduce), half the work
    out = fft.irfft2(fft.rfft2(v) * ramp, s=v.shape)
    return np.asarray(out[pad:-pad, pad:-pad])


class Block(NamedTuple):
    """Where two frames overlap: ``z``'s complete rows ``start:stop``; the block both measured
    completely, ``r0:r1, c0:c1`` on z's grid; the integer shift ``sy, sx``; ``other`` on that block."""

    start: int
    stop: int
    r0: int
    r1: int
    c0: int
    c1: int
    sy: int
    sx: int
    moved: Array


def frames(z: NDArray[Any], other: NDArray[Any]) -> tuple[Array, Array]:
    """``z`` and ``other`` as float64 arrays of one 2-D shape (else :class:`TwoDirectionError`)."""
    x, b = np.asarray(z, dtype=np.float64), np.asarray(other, dtype=np.float64)
    if x.ndim != 2 or x.shape != b.shape:
        raise TwoDirectionError(
            f"the two directions must be 2-D images of one shape, got {x.shape} and {b.shape}"
        )
    return x, b


def common_block(x: Array, b: Array, offset: tuple[float, float]) -> Block:
    """Where ``x`` and ``b`` (moved by ``offset``'s whole pixels) overlap (:class:`Block`)."""
    start, stop = _complete_run(x)
    h, w = x.shape
    sy, sx = whole_pixels(offset)
    r0, r1, c0, c1 = max(start, sy), min(stop, h + sy), max(0, sx), min(w, w + sx)
    if r1 <= r0 or c1 <= c0:
        return Block(start, stop, r0, r0, c0, max(c0, c1), sy, sx, np.zeros((0, 0)))
    moved = b[r0 - sy : r1 - sy, c0 - sx : c1 - sx]
    # the longest run of rows the backward frame measured completely, inside the common rows
    run = complete_row_span(moved)
    return Block(start, stop, r0 + run.start, r0 + run.stop, c0, c1, sy, sx, moved[run])


def shared_rows(z: NDArray[Any], other: NDArray[Any], offset: tuple[float, float]) -> int:
    """Complete rows ``z`` and ``other`` (moved by ``offset``) share: what :func:`band_for` needs.

    Raises
    ------
    TwoDirectionError
        The shapes differ, ``z`` has no complete row or unmeasured lines split it.
    """
    blk = common_block(*frames(z, other), offset)
    return max(0, blk.r1 - blk.r0)


def band_for(rows: int, short: bool) -> int:
    """Cross-fitting band (rows) for a pair sharing ``rows`` complete rows: :data:`BAND`, or
    :data:`SMALL_BAND` under 2 x BAND rows when ``short`` (a feedback-error current judged against
    its negated other direction, whose gain was trained against the feedback error itself, or a
    quiet scan, which the gain declines; docs/model-selection.md, candidates L and Q). Any other
    small pair keeps BAND, and :func:`pair_problem` then says why it cannot run.

    >>> band_for(512, True), band_for(96, True), band_for(96, False)
    (64, 16, 64)
    """
    return SMALL_BAND if short and rows < 2 * BAND else BAND


def noise_bands(blk: Block, band: int) -> tuple[list[int], list[list[int]]]:
    """The band starts (z's rows, from its first complete row) and, for each parity, the bands of
    the other parity wholly inside the common block (rows of ``blk.moved``): its noise sources."""
    bands = list(range(blk.start, blk.stop, band))
    inside = [[r - blk.r0 for k, r in enumerate(bands) if k % 2 != p and blk.r0 <= r and r + band <= blk.r1]
              for p in (0, 1)]  # fmt: skip
    return bands, inside


def block_problem(blk: Block, band: int) -> str:
    """Why the filter cannot run on ``blk`` with ``band``-row bands ("" when it can)."""
    rows, cols = max(0, blk.r1 - blk.r0), max(0, blk.c1 - blk.c0)
    if rows < 2 * band or cols < TILE:
        return (
            f"the two directions share {rows} complete rows x {cols} columns; "
            f"the noise estimate needs {2 * band} x {TILE}"
        )
    if not all(noise_bands(blk, band)[1]):
        return f"the two directions do not share a complete {band}-row band of each parity"
    return ""


def pair_problem(z: NDArray[Any], other: NDArray[Any], offset: tuple[float, float], band: int = BAND) -> str:
    """Why :func:`two_direction_wiener` cannot run on this pair with ``band``-row bands ("" when it can).

    >>> import numpy as np
    >>> pair_problem(np.zeros((96, 80)), np.zeros((96, 80)), (0.0, 0.0))
    'the two directions share 96 complete rows x 80 columns; the noise estimate needs 128 x 64'
    >>> pair_problem(np.zeros((96, 80)), np.zeros((96, 80)), (0.0, 0.0), band=SMALL_BAND)
    ''
    """
    try:
        return block_problem(common_block(*frames(z, other), offset), band)
    except TwoDirectionError as exc:
        return str(exc)
