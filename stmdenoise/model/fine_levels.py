"""Below the tip's resolution, each strip's own noise level: what the two-direction Wiener reads of
the per-strip levels, and how it turns them into each tile's and each row's level.

A burst of tip or electronics noise hits a trace line and its retrace alike, so on some scans the
noise changes a hundredfold within a few dozen rows, faster than the cross-fitting bands of
:func:`stmdenoise.model.two_direction.two_direction_wiener` can follow. There, at periods under
:data:`RESOLUTION` (finer than any surface structure a tip images), each row is filtered with the
larger of its tile's mean level and its own strip's (docs/model-selection.md, candidates AM, AQ,
AX, BA). The levels are measured in :mod:`stmdenoise.metrics.uneven`; this module reads them
through :class:`StripLevelsLike` and :class:`BandedLevelsLike`, since the model layer does not
import the metrics one. Split out of :mod:`stmdenoise.model.two_direction`, which imports it.

On a grid finer than half of :data:`RESOLUTION` the spectrum's corners (periods under 2 px) hold
nothing a tip images: :func:`without_corners` removes them from the two-direction output
(docs/model-selection.md, candidate DG).
"""

from __future__ import annotations

import math
import threading
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from stmdenoise.model.fourier_tiles import HALF, STRIDE, TILE, filter_tiles, tile_corners
from stmdenoise.processing import level_plane
from stmdenoise.processing.spectrum import RESOLUTION, SIGNAL_COHERENCE

__all__ = [
    "RESOLUTION",
    "WITHIN_NYQUIST",
    "BandedLevelsLike",
    "StripLevelsLike",
    "band_level",
    "below_resolution",
    "fast_bands",
    "levels_by_band",
    "own_by_band",
    "quiet_fine",
    "relative_levels",
    "sine",
    "tile_levels",
    "without_corners",
]

Array = NDArray[np.float64]


@runtime_checkable
class StripLevelsLike(Protocol):
    """What the two-direction Wiener reads of :class:`stmdenoise.metrics.uneven.StripLevels` (the
    model layer does not import the metrics one)."""

    @property
    def levels(self) -> NDArray[np.float64]: ...

    def of_rows(self, start: int, stop: int) -> NDArray[np.float64]: ...


class BandedLevelsLike(Protocol):
    """What the two-direction Wiener reads of :class:`stmdenoise.metrics.uneven.BandedLevels`: the
    edges (cycles per pixel) of the bands of fast-axis frequency and each band's levels."""

    @property
    def edges(self) -> tuple[float, ...]: ...

    @property
    def bands(self) -> tuple[StripLevelsLike, ...]: ...

    @property
    def own(self) -> tuple[StripLevelsLike, ...] | None: ...


def sine(n: int) -> Array:
    """The sine window of ``n`` samples (the filter tiles' window along one axis)."""
    return np.sin(np.pi * (np.arange(n) + 0.5) / n)


def below_resolution(pixel_size: tuple[float, float] | None, *, full: bool = False) -> NDArray[np.bool_]:
    """Which coefficients of a tile's half spectrum (:data:`TILE` x :data:`HALF`), or with ``full``
    its whole spectrum (TILE x TILE), have periods under :data:`RESOLUTION` on a grid of
    ``pixel_size`` = (dy, dx) metres (none without one).

    >>> int(below_resolution(None).sum()), int(below_resolution((1.5e-10, 1.5e-10)).sum())
    (0, 0)
    >>> bool(below_resolution((0.3e-10, 0.3e-10))[0, HALF - 1])  # 2 px along x: 0.6 Å
    True
    >>> below_resolution((0.3e-10, 0.3e-10), full=True).shape == (TILE, TILE)
    True
    """
    cols = TILE if full else HALF
    if pixel_size is None:
        return np.zeros((TILE, cols), dtype=bool)
    return np.asarray(_radial_k(pixel_size, cols) > 1.0 / RESOLUTION)


#: A tile's half-plane coefficients at periods of 2 px or more (|k| <= 1/2 cycle per pixel): 1,
#: else 0 (the spectrum's corners).
WITHIN_NYQUIST = (np.hypot(np.fft.fftfreq(TILE)[:, None], np.fft.rfftfreq(TILE)[None, :]) <= 0.5).astype(
    float
)


def without_corners(
    block: Array, pixel_size: tuple[float, float] | None, cancel: threading.Event | None = None
) -> Array:
    """``block`` (complete rows) without its coefficients at periods under 2 px (the spectrum's
    corners, beyond the radial Nyquist), on the tiles, where the grid is finer than half of
    :data:`RESOLUTION`: nothing a tip images lies there (docs/model-selection.md, candidate DG).
    ``block`` itself on a coarser grid or without a pixel size."""
    if pixel_size is None or not 2 * max(pixel_size) < RESOLUTION:
        return block
    lev = level_plane(block)
    return np.asarray((block - lev) + filter_tiles(lev, WITHIN_NYQUIST, cancel))


def _radial_k(pixel_size: tuple[float, float], cols: int) -> Array:
    """|k| (cycles per metre) of the first ``cols`` columns of a tile's spectrum on a grid of
    ``pixel_size`` = (dy, dx) metres."""
    dy, dx = pixel_size
    return np.asarray(np.hypot(np.fft.fftfreq(TILE)[:, None] / dy, np.fft.fftfreq(TILE)[None, :cols] / dx))


def quiet_fine(pixel_size: tuple[float, float] | None, together: Array, apart: Array) -> NDArray[np.bool_]:
    """The coefficients under :data:`RESOLUTION` (a tile's whole TILE x TILE spectrum) in the radial
    octaves whose finest part holds no surface: where the two looks share less than
    :data:`~stmdenoise.processing.spectrum.SIGNAL_COHERENCE` of their power there, the fidelity
    measures' rule for a band without signal. ``together`` and ``apart`` are the mean tile power
    of the sum and the difference of the two looks (the same tiles): Re(X B*) = (|X + B|² -
    |X - B|²) / 4 and (|X|² + |B|²) / 2 = (|X + B|² + |X - B|²) / 4. Octaves of period from 2 px
    (the first takes the corners under it), the pixel the grid's geometric mean; none without a
    pixel size (docs/model-selection.md, candidate DC).

    >>> rng = np.random.default_rng(0)
    >>> apart = np.abs(np.fft.fft2(rng.standard_normal((TILE, TILE)))) ** 2
    >>> int(quiet_fine(None, apart, apart).sum())
    0
    >>> px = (0.3e-10, 0.3e-10)
    >>> bool(np.array_equal(quiet_fine(px, apart, apart), below_resolution(px, full=True)))
    True
    >>> int(quiet_fine(px, 3 * apart, apart).sum())  # half the power shared
    0
    """
    fine = below_resolution(pixel_size, full=True)
    if pixel_size is None or not fine.any():
        return fine
    dy, dx = pixel_size
    k = _radial_k(pixel_size, TILE)
    period_px = 1.0 / (k[fine] * math.sqrt(dy * dx))  # k > 0 on every fine coefficient
    octave = np.full(fine.shape, -1)
    octave[fine] = np.floor(np.log2(np.maximum(period_px, 2.0) / 2.0)).astype(int)
    quiet = np.zeros_like(fine)
    for j in np.unique(octave[fine]):
        part = fine & (octave == j)
        shared, power = np.sum(together[part] - apart[part]), np.sum(together[part] + apart[part])
        if power > 0 and shared < SIGNAL_COHERENCE * power:
            quiet |= part
    return quiet


def tile_levels(shape: tuple[int, int], start: int, levels: StripLevelsLike) -> Array:
    """Each filter tile's noise level: its rows' strip levels weighted by the tile window squared
    (rows of the reflect padding read the rows they mirror)."""
    rows = shape[0]
    row_level = levels.of_rows(start, start + rows)
    w2 = sine(TILE) ** 2
    out = []
    for i, _j in tile_corners(*shape):
        r = np.abs(np.arange(i - STRIDE, i - STRIDE + TILE))
        r = np.clip(np.where(r >= rows, 2 * (rows - 1) - r, r), 0, rows - 1)
        out.append(float(np.sum(w2 * row_level[r]) / np.sum(w2)))
    return np.asarray(out)


def levels_by_band(
    levels: StripLevelsLike | BandedLevelsLike,
) -> tuple[tuple[float, ...], tuple[StripLevelsLike, ...]]:
    """The edges of the bands of fast-axis frequency and each band's levels; one band over every
    frequency for a plain :class:`StripLevelsLike`."""
    if isinstance(levels, StripLevelsLike):
        return (0.0, math.inf), (levels,)
    return tuple(levels.edges), tuple(levels.bands)


def own_by_band(levels: StripLevelsLike | BandedLevelsLike) -> tuple[StripLevelsLike, ...]:
    """Per band of fast-axis frequency, each strip's level times the frame's own share of it
    (:attr:`BandedLevelsLike.own`, candidate DD): the rows' levels the filter reads; the
    difference's levels where no share was measured."""
    if isinstance(levels, StripLevelsLike):
        return (levels,)
    return tuple(levels.own) if levels.own is not None else tuple(levels.bands)


def band_level(levels: StripLevelsLike, first: int, band: int) -> float:
    """The noise level of the ``band`` rows from ``first`` as the filter's noise and power tiles
    weight them: their strip levels weighted by the tiles' window squared along the rows (a band's
    edge rows count about a tenth of its middle ones; docs/model-selection.md, candidate AX). A band
    of one strip: its level."""
    w2 = sine(band) ** 2
    return float(np.sum(w2 * levels.of_rows(first, first + band)) / np.sum(w2))


def relative_levels(
    shape: tuple[int, int], start: int, levels: StripLevelsLike, rows: NDArray[np.bool_], source_level: float
) -> Array:
    """For each filter tile (:func:`tile_corners` order) and each of its :data:`TILE` rows, the
    noise level below :data:`RESOLUTION` relative to ``source_level``: the larger of the tile's
    (:func:`tile_levels`) and the row's own strip's; NaN for padded rows and rows not in ``rows``
    (docs/model-selection.md, candidate AQ)."""
    n = shape[0]
    row_level = np.where(rows, levels.of_rows(start, start + n), np.nan)
    tile_level = tile_levels(shape, start, levels)
    out = np.full((len(tile_level), TILE), np.nan)
    for t, (i, _j) in enumerate(tile_corners(*shape)):
        r = i - STRIDE + np.arange(TILE)
        inside = (r >= 0) & (r < n)
        out[t, inside] = np.maximum(row_level[r[inside]], tile_level[t])
    return out / source_level


def fast_bands(pixel_size: tuple[float, float], edges: tuple[float, ...]) -> list[NDArray[np.bool_]]:
    """For each band of fast-axis frequency (``edges``, cycles per pixel), which coefficients of a
    tile's *full* spectrum (:data:`TILE` x TILE) have periods under :data:`RESOLUTION` and |kx| in
    it."""
    kx = np.abs(np.fft.fftfreq(TILE))[None, :]
    fine = below_resolution(pixel_size, full=True)
    return [fine & (kx >= lo) & (kx < hi) for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
