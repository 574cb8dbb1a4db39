"""Is a scan's noise even across its rows? (what one noise level per band of rows cannot follow)

The two-direction Wiener (:mod:`stmdenoise.model.two_direction`) filters each band of rows with
the noise spectrum of the other bands, so its noise level changes from band to band only as fast
as the bands do. On some scans it changes much faster: a burst of tip or vibration noise over a
few dozen rows, quiet rows beside it. Forward minus the second look holds the noise of both (and
whatever differs between the directions); its power per :data:`STRIP`-row strip, after a
difference along the fast axis (offsets and slow drift out), measures how uneven it is. On the 17
registrable channels of ``../shared/realdata`` the noisiest strip holds 1.3x-11x the power of the
quietest on 12 (two 63-row currents keep too few whole strips to say) and 490x-1100x on three
(Au_mica Current, CO_img_0050 Z and Current), the three where the shipped model's output lost to
a classical filter beyond twice the paired standard error before version 2.6 (two still do:
`python bench/fidelity.py`). :func:`uneven_noise` measures it; the do-no-harm verdict says so
on the two-direction path (:data:`UNEVEN_RATIO`).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> surface = np.cumsum(rng.normal(size=(128, 96)), axis=1)
>>> level = np.ones((128, 1))
>>> level[32:48] = 30.0
>>> u = uneven_noise(surface + level * rng.normal(size=surface.shape), surface, (0.0, 0.0))
>>> u.rows, u.ratio > UNEVEN_RATIO
((32, 48), True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from stmdenoise.metrics.noise_share import own_share
from stmdenoise.processing import complete_row_span, level_plane, whole_pixels

__all__ = [
    "FAST_EDGES",
    "LEVEL_STRIP",
    "MIN_STRIPS",
    "STRIP",
    "UNEVEN_NOTICE",
    "UNEVEN_RATIO",
    "BandedLevels",
    "StripLevels",
    "UnevenNoise",
    "banded_strip_levels",
    "strip_levels",
    "uneven_noise",
]

#: Rows per strip (the two-direction Wiener's shortest band).
STRIP = 16
#: Fewest strips with noise for a ratio to mean anything.
MIN_STRIPS = 3
#: Rows per strip of the levels the two-direction Wiener reads below the tip's resolution (half a
#: gate strip: a burst of a few rows is diluted less; docs/model-selection.md, candidate BB).
LEVEL_STRIP = 8
#: Edges (cycles per pixel) of the bands of fast-axis frequency |kx| in which each strip gets its own
#: level below the tip's resolution (docs/model-selection.md, candidate BA): a burst slow along the
#: lines but independent between them, and one fine along them, reach those periods in different
#: bands.
FAST_EDGES = (0.0, 1.0 / 6.0, 1.0 / 3.0, math.inf)
#: A band holding no more than this share of a strip's coefficients under the period takes the
#: strip's level over all of them.
MIN_BAND_SHARE = 0.02
#: Noisiest over quietest strip's power from which the verdict names it (realdata: 1.3-11 on 14
#: channels, 490-1100 on three).
UNEVEN_RATIO = 100.0
#: The verdict's notice (:mod:`stmdenoise.safety`).
UNEVEN_NOTICE = (
    "The noise is far from even across the rows: between {strip}-row strips, this frame minus "
    "the {look} varies {ratio:.0f}x in power (rows {first}-{last} hold {share:.0%} of it). The filter "
    "follows each strip's own level only at periods under 2 Å, finer than a tip resolves; above "
    "that it takes each band's noise level from the other bands, so it can leave noise in the "
    "noisiest rows and smooth the quietest. A filter the same everywhere can do better here, and "
    "the check compares them."
)


@dataclass(frozen=True)
class UnevenNoise:
    """How uneven the noise of a scan and its second look is along the slow axis.

    Attributes
    ----------
    ratio : float
        Power of the noisiest strip over the quietest's.
    rows : (int, int)
        The noisiest strip's rows ``first:stop`` on the scan's grid.
    share : float
        Its share of the power of all strips.
    """

    ratio: float
    rows: tuple[int, int]
    share: float

    @property
    def named(self) -> bool:
        """True when it is uneven enough to tell the user (:data:`UNEVEN_RATIO`)."""
        return self.ratio >= UNEVEN_RATIO


def _first_column(offset: Sequence[float]) -> int:
    """The first column of ``raw`` that :func:`_aligned_difference` holds."""
    return max(0, whole_pixels(offset)[1])


def _aligned_difference(raw: Any, other: Any, offset: Sequence[float]) -> NDArray[np.float64] | None:
    """``raw`` minus ``other`` moved onto it by ``offset`` (rounded to whole pixels), over the
    columns both hold: one row per row of ``raw`` (NaN where ``other`` has none); None for other
    shapes or fewer than three common columns."""
    x = np.asarray(getattr(raw, "data", raw), dtype=np.float64)
    b = np.asarray(getattr(other, "data", other), dtype=np.float64)
    if x.ndim != 2 or x.shape != b.shape:
        return None
    sy, sx = whole_pixels(offset)
    h, w = x.shape
    r0, r1, c0, c1 = max(0, sy), min(h, h + sy), _first_column(offset), min(w, w + sx)
    if c1 - c0 < 3:
        return None
    d = np.full((h, c1 - c0), np.nan)
    if r1 > r0:
        d[r0:r1] = x[r0:r1, c0:c1] - b[r0 - sy : r1 - sy, c0 - sx : c1 - sx]
    return d


def _strip_powers(raw: Any, aligned: NDArray[np.float64] | None) -> tuple[int, NDArray[np.float64]] | None:
    """The one strip grid of :func:`uneven_noise` and :func:`strip_levels`: ``raw``'s first
    complete row and the power of its :func:`_aligned_difference` ``aligned``, differenced along
    the fast axis (offsets and slow drift out), in each :data:`STRIP`-row strip counted from it
    (NaN where the two looks do not both measure every row of the strip)."""
    span = complete_row_span(np.asarray(getattr(raw, "data", raw)))
    if aligned is None or span.stop <= span.start:
        return None
    d = np.diff(aligned, axis=1)
    powers = np.full(-(-(span.stop - span.start) // STRIP), np.nan)
    for k in range(len(powers)):
        strip = d[span.start + k * STRIP : min(span.start + (k + 1) * STRIP, span.stop)]
        if len(strip) == STRIP and np.isfinite(strip).all():
            powers[k] = float(np.var(strip))
    return span.start, powers


def uneven_noise(raw: Any, other: Any, offset: Sequence[float]) -> UnevenNoise | None:
    """Power of ``raw`` minus ``other`` (moved onto it by ``offset``, rounded to whole pixels),
    differenced along the fast axis, per :data:`STRIP`-row strip of the rows both measured
    completely (the strips :func:`strip_levels` hands the filter, so the rows named are the rows
    it treats); None with fewer than :data:`MIN_STRIPS` strips that hold any."""
    found = _strip_powers(raw, _aligned_difference(raw, other, offset))
    if found is None:
        return None
    first, power = found
    held = np.isfinite(power) & (power > 0)
    if int(held.sum()) < MIN_STRIPS:
        return None
    k = int(np.nanargmax(np.where(held, power, np.nan)))
    return UnevenNoise(
        ratio=float(power[k] / power[held].min()),
        rows=(first + k * STRIP, first + (k + 1) * STRIP),
        share=float(power[k] / power[held].sum()),
    )


@dataclass(frozen=True)
class StripLevels:
    """The noise power of each :data:`STRIP`-row strip of a scan, from its first complete row on.

    Attributes
    ----------
    first : int
        The scan's first complete row (strip ``s`` holds rows ``first + height s`` on).
    levels : ndarray
        Power of forward minus the second look per strip, differenced along the fast axis (or at
        the periods under the tip's resolution, one band of fast-axis frequency:
        :func:`banded_strip_levels`); a strip the two do not both measure completely takes the
        level of its nearest strips that they do.
    height : int
        Rows per strip: :data:`STRIP`, or :data:`LEVEL_STRIP` for the levels the filter reads.
    """

    first: int
    levels: NDArray[np.float64]
    height: int = STRIP

    def of_rows(self, start: int, stop: int) -> NDArray[np.float64]:
        """The level of each row ``start:stop`` (its strip's; rows past the last strip: the last's)."""
        index = (np.arange(start, stop) - self.first) // self.height
        return np.asarray(self.levels[np.clip(index, 0, len(self.levels) - 1)])


def _fine_strip_powers(
    d: NDArray[np.float64], first: int, count: int, period: tuple[float, float]
) -> NDArray[np.float64]:
    """Per :data:`LEVEL_STRIP`-row strip of the grid from ``first`` (``count`` strips) and per band of
    :data:`FAST_EDGES`, the power of the :func:`_aligned_difference` ``d`` at the two-dimensional periods
    under ``period`` = (rows, columns) pixels with |kx| in the band, on the strip's own rows:
    less the strip's plane, Hann-windowed along the columns only (every row counts alike), two-
    dimensional FFT, per pixel of the strip; a band with no more than :data:`MIN_BAND_SHARE` of
    the coefficients under the period takes the strip's power over all of them. Rows where the
    two do not both measure every row of the strip: NaN (docs/model-selection.md, candidate
    BA). Shape ``(count, bands)``."""
    out = np.full((count, len(FAST_EDGES) - 1), np.nan)
    window = np.hanning(d.shape[1])
    ky = np.fft.fftfreq(LEVEL_STRIP)[:, None]
    kx = np.fft.rfftfreq(d.shape[1])[None, :]
    fine = np.hypot(ky * period[0], kx * period[1]) > 1.0
    masks = [fine & (kx >= lo) & (kx < hi) for lo, hi in zip(FAST_EDGES[:-1], FAST_EDGES[1:], strict=True)]
    own = [int(m.sum()) > MIN_BAND_SHARE * int(fine.sum()) for m in masks]
    norm = LEVEL_STRIP * float(np.sum(window**2))
    for k in range(count):
        rows = d[first + k * LEVEL_STRIP : first + (k + 1) * LEVEL_STRIP]
        if len(rows) < LEVEL_STRIP or not np.isfinite(rows).all():
            continue
        p = np.abs(np.fft.rfft2(level_plane(rows) * window)) ** 2 / norm
        everywhere = float(np.sum(p[fine]))
        out[k] = [float(np.sum(p[m])) if ok else everywhere for m, ok in zip(masks, own, strict=True)]
    return out


@dataclass(frozen=True)
class BandedLevels:
    """:class:`StripLevels` per band of fast-axis frequency (:data:`FAST_EDGES`), measured at the
    periods under the tip's resolution (:func:`banded_strip_levels`).

    ``own`` holds, per band, each strip's level times the frame's own share of it (the noise of
    the frame itself, not of the difference; :func:`own_shares`); None: half of the difference
    is taken as the frame's everywhere."""

    edges: tuple[float, ...]
    bands: tuple[StripLevels, ...]
    own: tuple[StripLevels, ...] | None = None


def strip_levels(raw: Any, other: Any, offset: Sequence[float]) -> StripLevels | None:
    """Per-strip noise power of ``raw`` and its second look ``other`` (moved onto it by ``offset``,
    rounded to whole pixels), the measure of :func:`uneven_noise` on strips counted from ``raw``'s
    first complete row; None unless at least :data:`MIN_STRIPS` strips hold noise and the
    noisiest holds :data:`UNEVEN_RATIO` times the quietest's power or more (the two-direction
    Wiener then uses them below the tip's resolution: docs/model-selection.md, candidate AM).

    The filter reads them where they act: :func:`banded_strip_levels`.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> surface = np.cumsum(rng.normal(size=(128, 96)), axis=1)
    >>> level = np.ones((128, 1))
    >>> level[32:48] = 30.0
    >>> s = strip_levels(surface + level * rng.normal(size=surface.shape), surface, (0.0, 0.0))
    >>> s.first, len(s.levels), int(np.argmax(s.levels))
    (0, 8, 2)
    >>> strip_levels(surface + rng.normal(size=surface.shape), surface, (0.0, 0.0)) is None
    True
    """
    return _gated_levels(raw, _aligned_difference(raw, other, offset))


def _gated_levels(raw: Any, aligned: NDArray[np.float64] | None) -> StripLevels | None:
    """:func:`strip_levels` from ``raw``'s :func:`_aligned_difference` ``aligned``."""
    found = _strip_powers(raw, aligned)
    if found is None:
        return None
    first, levels = found
    held = np.isfinite(levels) & (levels > 0)
    if int(held.sum()) < MIN_STRIPS or levels[held].max() / levels[held].min() < UNEVEN_RATIO:
        return None
    return StripLevels(first, _fill_from_neighbours(levels, held))


def banded_strip_levels(
    raw: Any, other: Any, offset: Sequence[float], period: tuple[float, float]
) -> BandedLevels | StripLevels | None:
    """The per-strip levels where the two-direction Wiener applies them: :func:`strip_levels`' gate
    (the whole-spectrum measure, 100x), then each strip's power at the two-dimensional periods
    under ``period`` = (rows, columns) pixels, per band of fast-axis frequency
    (:func:`_fine_strip_powers`, candidate BA of docs/model-selection.md). None where the gate
    stays shut; the whole-spectrum :class:`StripLevels` where the grid holds no such period or
    fewer than :data:`MIN_STRIPS` strips hold power there in every band.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> surface = np.cumsum(rng.normal(size=(128, 96)), axis=1)
    >>> level = np.ones((128, 1))
    >>> level[32:48] = 30.0
    >>> noisy = surface + level * rng.normal(size=surface.shape)
    >>> b = banded_strip_levels(noisy, surface, (0.0, 0.0), (6.7, 6.7))
    >>> len(b.bands), b.bands[0].height, [sorted(np.argsort(s.levels)[-2:].tolist()) for s in b.bands]
    (3, 8, [[4, 5], [4, 5], [4, 5]])
    """
    aligned = _aligned_difference(raw, other, offset)  # formed once, for the gate and the levels
    whole = _gated_levels(raw, aligned)
    if whole is None or aligned is None or math.hypot(*period) <= 2.0:  # no period under it on this grid
        return whole
    count = len(whole.levels) * STRIP // LEVEL_STRIP
    fine = _fine_strip_powers(aligned, whole.first, count, period)
    held = np.isfinite(fine) & (fine > 0)
    if (held.sum(axis=0) < MIN_STRIPS).any():
        return whole
    bands = tuple(
        StripLevels(whole.first, _fill_from_neighbours(fine[:, j], held[:, j]), LEVEL_STRIP)
        for j in range(fine.shape[1])
    )
    x = np.asarray(getattr(raw, "data", raw), dtype=np.float64)
    c0 = _first_column(offset)
    shares = own_shares(x[:, c0 : c0 + aligned.shape[1]], aligned, whole.first, count, period)
    own = tuple(replace(b, levels=b.levels * shares[:, j]) for j, b in enumerate(bands))
    return BandedLevels(FAST_EDGES, bands, own)


def own_shares(
    frame: NDArray[np.float64],
    aligned: NDArray[np.float64],
    first: int,
    count: int,
    period: tuple[float, float],
) -> NDArray[np.float64]:
    """Per :data:`LEVEL_STRIP`-row strip and band of fast-axis frequency (:func:`_fine_strip_powers`'
    grid), the frame's own share of the noise of its :func:`_aligned_difference` ``aligned`` (over
    the same columns: ``frame``), times two: ``2 r / (1 + r)``, r the frame's own power there over
    the aligned look's (``frame - aligned``). A burst of row noise in one direction's strip then
    raises that frame's level there and lowers the other's (docs/model-selection.md, candidate
    DD). Signal the two share pulls r, and so the share, towards 1; 1 where a strip cannot be
    measured.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> b = rng.normal(size=(64, 96))
    >>> f = rng.normal(size=(64, 96))
    >>> f[16:24] *= 5.0  # a burst in the forward frame's third strip
    >>> s = own_shares(f, f - b, 0, 8, (3.0, 3.0))
    >>> s.shape, bool(np.all(s[2] > 1.8)), bool(np.all(np.abs(s[[0, 5]] - 1) < 0.3))
    ((8, 3), True, True)
    """
    mine = _fine_strip_powers(frame, first, count, period)
    theirs = _fine_strip_powers(frame - aligned, first, count, period)
    r = np.divide(mine, theirs, out=np.full_like(mine, np.nan), where=theirs > 0)
    return np.asarray(own_share(r))


def _fill_from_neighbours(levels: NDArray[np.float64], held: NDArray[np.bool_]) -> NDArray[np.float64]:
    """``levels`` with each strip not ``held`` given the mean level of its nearest held strips
    (both sides when they are as near; docs/model-selection.md, candidate AX): a strip one row
    short at the scan's edge is as loud as the strip beside it, not as the scan's mean.

    >>> _fill_from_neighbours(np.array([0.0, 1.0, 2.0, 0.0, 8.0, 0.0]),
    ...                       np.array([False, True, True, False, True, False]))
    array([1., 1., 2., 5., 8., 8.])
    """
    out = levels.copy()
    where = np.flatnonzero(held)
    for k in np.flatnonzero(~held):
        distance = np.abs(where - k)
        out[k] = float(levels[where[distance == distance.min()]].mean())
    return out
