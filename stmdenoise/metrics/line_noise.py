"""Signal a single-frame filter provably removed: the noise adjacent scan lines show, and a bound.

Without a second look (a scan saved without its other direction) the error of a denoised frame
cannot be estimated, but one kind of harm can be proven. Pixel and electronics noise in one scan
line is independent of the noise in the next line (recorded a line time later), while the
surface changes little from one line to the next. Per frequency along the scan lines (the fast
axis), the second difference across lines, ``row[i] - (row[i-1] + row[i+1]) / 2``, then holds
1.5 times the noise power, plus whatever the surface changes over three lines (which only makes
that noise estimate larger). For the part a filter removed, ``r = raw - out``, and the noise
``n`` restricted to any set of fast-axis frequencies (with every slow-axis frequency),
``|out - surface| = |n - r| >= |r| - |n|``: where the removed power exceeds :data:`PROVEN_RATIO`
(4) times the noise's, the output is further from the surface than the raw frame there, whatever
the surface is (:func:`harmed_bands`; :func:`removal_notice` says so in the do-no-harm verdict,
:func:`stmdenoise.safety.judge`, which then delivers the raw scan).

Noise common to neighbouring lines (slow drift, interference locked to the line rate) reads as
surface here, so such a frame may be refused although its filter removed only noise; a surface
that changes from line to line (atomic rows along the scan lines) only raises the estimate, so it
never causes a refusal. Ours (candidate CB in docs/model-selection.md).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> y, x = np.mgrid[0:128, 0:128].astype(float)
>>> surface = 3 * np.sin(2 * np.pi * x / 6)  # stripes 6 px apart, across the scan lines
>>> raw = surface + rng.normal(size=surface.shape)
>>> [(b.short_px, b.long_px) for b in harmed_bands(raw, np.zeros_like(raw))]  # all of it removed
[(4.0, 8.0)]
>>> harmed_bands(raw, surface)  # exactly the noise removed
[]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from stmdenoise.processing.spectrum import hann_1d

__all__ = [
    "LINE_NOISE_NOTICE",
    "MIN_LINES",
    "PROVEN_RATIO",
    "SURFACE_RATIO",
    "LineBand",
    "harmed_bands",
    "line_bands",
    "removal_notice",
    "surface_removed_bands",
]

Array = NDArray[np.float64]

#: Removed power over the adjacent-line noise power above which the output is provably further
#: from the surface than the raw frame: |r| > 2 |n| gives |n - r| > |n| (the triangle inequality).
PROVEN_RATIO = 4.0
#: Removed power over the adjacent-line noise power above which (beyond 2 SE) the output took
#: surface with the noise (a filter that removed noise only removed at most the noise's power):
#: the repair's test on a frame alone with strong spectral peaks (:func:`surface_removed_bands`,
#: docs/model-selection.md, candidate EH); not proof of harm (that is :data:`PROVEN_RATIO`).
SURFACE_RATIO = 2.0
#: Fewest rows with both neighbours complete for the check to run.
MIN_LINES = 16
#: Frequency bins one Hann-windowed bin is worth (its equivalent noise bandwidth: neighbouring
#: bins share noise).
_HANN_BINS = 1.5
#: Noise power in a second difference across lines, per unit of one line's: 1 + 1/4 + 1/4.
_SECOND_DIFFERENCE_GAIN = 1.5

LINE_NOISE_NOTICE = (
    "along the scan lines at periods of {band}, the model removed {ratio:.1f}x the noise power that "
    "neighbouring lines show there (noise changes from one line to the next; the surface hardly "
    "does): more than 4x means it removed real structure, and its output is further from the surface "
    "than the raw scan in that band"
)


@dataclass(frozen=True)
class LineBand:
    """One octave of periods along the scan lines: what a filter removed and the lines' noise.

    Attributes
    ----------
    short_px, long_px : float
        Periods (pixels along the fast axis) the band holds, (short, long].
    removed : float
        Mean power per line of ``raw - out`` in the band (Hann-windowed rows).
    noise : float
        Mean power per line of the noise there, from second differences across lines.
    noise_se : float
        Standard error of ``noise``.
    """

    short_px: float
    long_px: float
    removed: float
    noise: float
    noise_se: float

    @property
    def ratio(self) -> float:
        """Removed over noise power (inf where no noise shows)."""
        return self.removed / self.noise if self.noise > 0 else math.inf

    @property
    def harmed(self) -> bool:
        """The removed power exceeds :data:`PROVEN_RATIO` times the noise's by more than 2 SE."""
        return self.removed > PROVEN_RATIO * (self.noise + 2 * self.noise_se)

    def describe(self, pixel_size: float | None = None) -> str:
        """The band's periods in Å (``pixel_size`` metres along the lines) or pixels."""
        if pixel_size is None or not (pixel_size > 0 and math.isfinite(pixel_size)):
            return f"{self.short_px:.3g}-{self.long_px:.3g} px"
        a, b = (p * pixel_size * 1e10 for p in (self.short_px, self.long_px))
        return f"{a:.3g}-{b:.3g} Å"


def _row_power(rows: Array, window: Array) -> Array:
    """Power spectrum along each row of ``rows`` (its Hann-weighted mean removed, windowed)."""
    centred = rows - (rows @ window / window.sum())[:, None]
    return np.asarray(np.abs(np.fft.rfft(centred * window, axis=1)) ** 2)


def line_bands(raw: ArrayLike, out: ArrayLike) -> list[LineBand]:
    """Per fast-axis octave (periods 2-4, 4-8, ... px, up to a quarter of a row): the power a
    filter removed from ``raw`` to make ``out`` and the noise power neighbouring lines show.

    Rows with an unmeasured pixel in either are left out (and so are second differences that
    would span them); fewer than :data:`MIN_LINES` usable rows, or rows shorter than 16 px,
    give no bands."""
    x, y = np.asarray(raw, dtype=np.float64), np.asarray(out, dtype=np.float64)
    if x.ndim != 2 or x.shape != y.shape:
        raise ValueError(f"raw and out must be 2-D images of one shape, got {x.shape} and {y.shape}")
    complete = np.asarray(np.isfinite(x).all(axis=1) & np.isfinite(y).all(axis=1))
    centre = np.zeros(len(complete), dtype=bool)
    centre[1:-1] = complete[:-2] & complete[1:-1] & complete[2:]
    cols = x.shape[1]
    if int(centre.sum()) < MIN_LINES or cols < 16:
        return []
    window = hann_1d(cols)
    idx = np.flatnonzero(centre)
    second = x[idx] - (x[idx - 1] + x[idx + 1]) / 2
    noise_rows = _row_power(second, window) / _SECOND_DIFFERENCE_GAIN
    removed_rows = _row_power(x[idx] - y[idx], window)  # the same lines the noise is read on
    period = np.full(cols // 2 + 1, np.inf)
    period[1:] = cols / np.arange(1, cols // 2 + 1)
    next1 = np.flatnonzero(np.diff(idx) == 1)  # pairs of centre lines that are neighbours
    next2 = np.flatnonzero(idx[2:] - idx[:-2] == 2)  # and that are two lines apart
    bands = []
    short = 2.0
    while short * 2 <= cols / 4:
        inside = (period > short) & (period <= 2 * short)
        q = noise_rows[:, inside].sum(axis=1)
        bands.append(
            LineBand(
                short_px=short,
                long_px=2 * short,
                removed=float(removed_rows[:, inside].sum(axis=1).mean()),
                noise=float(q.mean()),
                noise_se=_noise_se(q, next1, next2, max(int(inside.sum()) / _HANN_BINS, 1.0)),
            )
        )
        short *= 2
    return bands


def _noise_se(q: Array, next1: NDArray[np.intp], next2: NDArray[np.intp], bins: float) -> float:
    """Standard error of the mean of ``q`` (per line, its noise power in a band: second
    differences' power over 1.5) as an estimate of the noise these lines hold.

    The second differences' powers hold each line's own noise power exactly (1 + 1/4 + 1/4 of it,
    divided out); what scatters are the products of neighbouring lines' noise, which average to
    zero: per frequency bin, Var Re(a b*) = P_a P_b / 2, two such terms per neighbouring pair
    (weight 1 each) and one per pair two lines apart (weight 1/2), over ``bins`` independent bins.
    Lines whose noise differs (bursts) do not scatter the estimate: the bound is about the noise
    this frame holds."""
    var = 2.0 * float((q[next1] * q[next1 + 1]).sum()) + 0.125 * float((q[next2] * q[next2 + 2]).sum())
    return math.sqrt(var / bins) / (_SECOND_DIFFERENCE_GAIN * len(q))


def harmed_bands(raw: ArrayLike, out: ArrayLike) -> list[LineBand]:
    """The bands of :func:`line_bands` where ``out`` is provably further from the surface than
    ``raw`` (:attr:`LineBand.harmed`)."""
    return [b for b in line_bands(raw, out) if b.harmed]


def surface_removed_bands(raw: ArrayLike, out: ArrayLike) -> list[LineBand]:
    """The bands of :func:`line_bands` from which ``out`` removed more than :data:`SURFACE_RATIO`
    times the noise power neighbouring lines show, beyond 2 SE: surface went with the noise."""
    return [b for b in line_bands(raw, out) if b.removed > SURFACE_RATIO * (b.noise + 2 * b.noise_se)]


def removal_notice(raw: ArrayLike, out: ArrayLike, pixel_size: float | None = None) -> str | None:
    """What the do-no-harm verdict says (:data:`LINE_NOISE_NOTICE`, for the band removed most
    beyond its noise) where ``out`` provably removed real structure from ``raw``, else None.
    ``pixel_size``: metres per pixel along the scan lines (periods in Å), or None (pixels)."""
    harmed = harmed_bands(raw, out)
    if not harmed:
        return None
    worst = max(harmed, key=lambda b: b.ratio)
    return LINE_NOISE_NOTICE.format(band=worst.describe(pixel_size), ratio=worst.ratio)
