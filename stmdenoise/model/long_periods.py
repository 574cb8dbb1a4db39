"""The two-direction Wiener's longest periods, filtered on the frame's own grid (version 2.23).

The two-direction Wiener (:mod:`stmdenoise.model.two_direction`) works in 64 px tiles. A tile holds
periods of a third of a tile and more in its first two or three bins, where a surface's long
periods (a moiré's, a reconstruction's, terraces') mix with the strong long-period noise of real
scans, so the tile's gain takes them down with the noise. Below :data:`COARSE_FROM` cycles per
tile (and within a quarter of the frame's shorter side) :func:`long_periods` replaces the tiles'
output by the whole frame's own Wiener filter on its own grid, with the noise measured on the other
parity's bands of forward minus backward, so cross-fitting holds. Since version 2.24 the tiles are
given the frame's short periods only (:func:`short_periods`), so that a strong long period no
longer leaks into their first bins through their window and holds their gain up there; the periods
longer than a quarter of the field go through the tiles on their own (:func:`longest_periods`).
Ours, not the paper's (docs/model-selection.md, candidates CL, CM, CN, CT and CU).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy import fft
from scipy.ndimage import gaussian_filter

from stmdenoise.model.fine_levels import sine
from stmdenoise.model.fourier_tiles import TILE

__all__ = [
    "COARSE_FROM",
    "COARSE_SMOOTH",
    "LongPeriodsFrame",
    "density",
    "long_periods",
    "long_periods_frame",
    "longest_periods",
    "outside_blend",
    "short_periods",
]

Array = NDArray[np.float64]

#: Below this many cycles per :data:`TILE` px the output is the whole frame's own Wiener
#: (:func:`long_periods`), which blends linearly into the tiles' by one more cycle per tile: periods
#: from about a third of a tile up, which the tiles' first bins cannot resolve (candidates CL, CT).
COARSE_FROM = 2.0
#: Gaussian smoothing, in bins of the frame's own grid, of the frame's power (a surface's peaks stay
#: sharp) and of the noise (smooth; its estimate scatters; along ky only, so that line noise, a
#: column of the spectrum, stays in its column) in :func:`long_periods` (candidate CN).
COARSE_SMOOTH = (1.0, 2.0)


def density(a: Array, shape: tuple[int, int], *, half: bool = False) -> Array:
    """The power spectrum of ``a`` (levelled by its mean) under a sine window, zero-padded to
    ``shape`` and divided by the window's energy: a power density per pixel on that grid (or, with
    ``half``, its ``rfft2`` half: columns ``0 .. shape[1] // 2``)."""
    win = np.outer(sine(a.shape[0]), sine(a.shape[1]))
    x = (a - a.mean()) * win
    # the fast axis first, on a's own rows only, then the zero-padded slow axis: the same numbers as
    # one padded 2-D transform, which also transforms the padding rows (a 64-row band on a 512²
    # grid: the transform 2.6x faster, the density 2.2 -> 1.5 ms)
    rows = fft.rfft(x, n=shape[1], axis=1) if half else fft.fft(x, n=shape[1], axis=1)
    p = np.abs(fft.fft(rows, n=shape[0], axis=0)) ** 2
    return np.asarray(p / float(np.sum(win**2)))


class LongPeriodsFrame(NamedTuple):
    """What :func:`long_periods` needs of the levelled frame, the same for both parities (half plane,
    ``rfft2`` layout): the blend weight, the frame's transform and its smoothed power density, and
    the share of each coefficient taken out of the tiles' input (:func:`short_periods`)."""

    blend: Array
    lev_f: NDArray[np.complex128]
    power: Array
    split: Array
    shape: tuple[int, int]


def _cycles_per_tile(shape: tuple[int, int]) -> Array:
    """|k| of each ``rfft2`` coefficient on a grid of ``shape``, in cycles per :data:`TILE` px."""
    return np.asarray(np.hypot(np.fft.fftfreq(shape[0])[:, None], np.fft.rfftfreq(shape[1])[None, :]) * TILE)


def _split(k: Array) -> Array:
    """Below :data:`COARSE_FROM` cycles per tile 1, 0 from one cycle more, linear between (``k``:
    :func:`_cycles_per_tile`)."""
    return np.asarray(np.clip(COARSE_FROM + 1.0 - k, 0.0, 1.0))


def short_periods(a: Array, a_f: NDArray[np.complex128] | None = None) -> Array:
    """``a`` without what :func:`long_periods` works on its own grid: its transform (``a_f`` where
    the caller has it) times 1 - the split (:data:`COARSE_FROM`), the longest periods included. The
    tiles then see no surface's long periods leaking into their first bins through their window."""
    shape = (a.shape[0], a.shape[1])
    a_f = fft.rfft2(a) if a_f is None else a_f
    return np.asarray(fft.irfft2(a_f * (1.0 - _split(_cycles_per_tile(shape))), s=shape))


def longest_periods(frame: LongPeriodsFrame) -> Array:
    """The levelled frame's periods longer than a quarter of its shorter side that
    :func:`short_periods` took out of the tiles' input and :func:`long_periods` leaves alone: they go
    through the tiles on their own, with the gain of the whole frame's tiles (:func:`outside_blend`)."""
    return np.asarray(fft.irfft2(frame.lev_f * (frame.split - frame.blend), s=frame.shape))


def outside_blend(frame: LongPeriodsFrame, a: Array) -> Array:
    """``a`` (on the frame's grid) kept at the periods :func:`longest_periods` holds only."""
    return np.asarray(fft.irfft2(fft.rfft2(a) * (frame.split - frame.blend), s=frame.shape))


def long_periods_frame(lev: Array) -> LongPeriodsFrame | None:
    """:class:`LongPeriodsFrame` of ``lev``; None where no period is left to :func:`long_periods` (below
    :data:`COARSE_FROM` + 1 cycles per tile but within a quarter of the frame's shorter side)."""
    shape = (lev.shape[0], lev.shape[1])
    k = _cycles_per_tile(shape)
    split = _split(k)
    blend = split.copy()
    # periods longer than a quarter of the shorter side: a dozen coefficients, too few to estimate
    # P and N from, and where drift makes forward minus backward more than noise (candidate CM)
    blend[k * min(shape) / TILE < 4.0] = 0.0
    if not blend.any():
        return None
    # the frame's power smoothed on the whole plane (isotropic, wrapped), then its half
    power = gaussian_filter(density(lev, shape), COARSE_SMOOTH[0], mode="wrap")[:, : blend.shape[1]]
    return LongPeriodsFrame(blend, fft.rfft2(lev), power, split, shape)


def long_periods(
    frame: LongPeriodsFrame | None,
    tiled: Array,
    differences: list[Array],
    scale: float,
    *,
    split: bool = False,
) -> Array:
    """``tiled`` (the tiles' output for the levelled frame of ``frame``, :func:`long_periods_frame`)
    with its longest periods replaced by the whole frame's own Wiener filter of it. A
    :data:`TILE`-px tile resolves periods of a third of a tile and more in two or three bins, each
    of which mixes a surface's long-period peaks (a moiré's, a reconstruction's, terraces') with
    the strong long-period noise of real scans, so its gain takes them down by as much as the noise
    (up to twice the raw frame's error in those periods on constructed scans, truth known). On the
    frame's own grid the gain is ``1 - N / P``, P the frame's power density (sine window, smoothed
    by :data:`COARSE_SMOOTH`'s first width) and N the noise density of forward minus backward
    measured on ``differences`` (bands of it, each band's periodogram on the frame's grid, then
    their mean), times ``scale`` (the frame's share, louder rows); N smoothed by the second width
    along ky only. Applied to the frame's Fourier transform below :data:`COARSE_FROM` cycles per
    tile, blended into ``tiled``'s over the next cycle; the mean kept. Periods longer than a
    quarter of the frame's shorter side keep ``tiled``'s. The bands are the other parity's:
    cross-fitting holds (docs/model-selection.md, candidates CL, CM, CN, CT). With ``split`` the
    tiles were given :func:`short_periods` (and :func:`longest_periods` added back), so ``tiled``
    holds nothing of the blend zone's and is added whole (candidate CU)."""
    if frame is None or not differences:
        return tiled
    shape = (tiled.shape[0], tiled.shape[1])
    total = density(differences[0], shape, half=True)
    for d in differences[1:]:  # one frame-sized density at a time: memory stays bounded
        total += density(d, shape, half=True)
    noise = total / len(differences) * scale
    # the noise along ky only: line noise is a column (kx = 0) and stays one (candidate CN)
    n_s = gaussian_filter(noise, (COARSE_SMOOTH[1], 0.0), mode="wrap")
    gain = np.clip(1.0 - n_s / np.maximum(frame.power, 1e-300), 0.0, 1.0)
    gain[0, 0] = 1.0
    if split:  # the tiles' input held the short periods only (:func:`short_periods`), plus the longest
        merged = fft.rfft2(tiled) + frame.lev_f * gain * frame.blend
    else:
        merged = fft.rfft2(tiled) * (1.0 - frame.blend) + frame.lev_f * gain * frame.blend
    return np.asarray(fft.irfft2(merged, s=shape))
