"""The piezo's hysteresis between a scan and its other direction: a displacement that varies along the line.

Trace and retrace of one line are recorded within a line time, but a piezo's hysteresis and the
feedback's lag displace them differently across the line: on ``pySPM_test.sxm`` the backward frame
lies 7.5 px from the forward one at the line's ends and 23.5 px in its middle. One rigid offset
(:func:`~stmdenoise.metrics.registration.register_frames`) then leaves up to 10 px, forward minus
backward holds the surface's edges, and everything that reads that difference as noise (the
two-direction Wiener, the forward/backward error estimate) takes the edges for noise: the filter
erases grain boundaries and the estimate calls that a gain.

:func:`fast_axis_warp` measures the displacement left after the rigid offset in column windows
(cross-correlation of the rows' derivatives along the line, so that edges and not drift decide),
fits a quadratic in the column to it and keeps the fit only where it moves some column by at
least a pixel and brings the two looks closer; :func:`follow` re-indexes the look's columns by it,
rounded to whole pixels (no interpolation, so the look's noise keeps its spectrum). Ours
(docs/model-selection.md, candidate CC).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = np.arange(256.0)
>>> surface = np.cumsum(rng.normal(size=(64, 400)), axis=1)  # rows of a rough surface
>>> d = 3 + 8 * np.sin(np.pi * x / 255)  # the look shows column c's content at c - d: 3-11 px
>>> frame = np.array([np.interp(x + 60, np.arange(400), r) for r in surface])
>>> look = np.array([np.interp(x + 60 + d, np.arange(400), r) for r in surface])
>>> warp = fast_axis_warp(frame, look, (0.0, 7.0))  # the rigid offset: 7 px
>>> truth = np.rint(d - 7).astype(int)  # beyond it: -4 at the ends, 4 in the middle
>>> int(np.abs(warp.shifts[32:224] - truth[32:224]).max())  # within a pixel where windows are
1
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter1d

from stmdenoise.metrics.registration import levelled, overlap
from stmdenoise.processing.shift import whole_pixels
from stmdenoise.processing.spectrum import hann_1d

__all__ = ["MIN_PEAK_CORRELATION", "MIN_SPAN", "FastAxisWarp", "fast_axis_warp", "follow"]

Array = NDArray[np.float64]

#: Peak normalised cross-correlation a column window needs for its displacement to count.
MIN_PEAK_CORRELATION = 0.3
#: Fewest windows the fit needs (a quadratic has three parameters).
MIN_WINDOWS = 4
#: A window further than this (px) from the first fit is left out of the second.
OUTLIER_PX = 2.0
#: Scale (px, Gaussian sigma along the line) of the edges the windows are matched on.
EDGE_SCALE_PX = 2.0
#: Smallest displacement (px) from the rigid offset, somewhere along the line, worth following.
MIN_DISPLACEMENT_PX = 1.0
#: Smallest share of the line the windows the fit keeps must span (first centre to last): a
#: displacement that varies along the line is measured along it, not extrapolated from one place.
#: On a flat terrace with one defect, the windows over the defect alone (a fifth of the line) gave
#: a quadratic of -5 to +2 px on a pair without hysteresis (docs/model-selection.md, candidate DR).
MIN_SPAN = 0.5


@dataclass(frozen=True)
class FastAxisWarp:
    """Whole-pixel displacements, beyond the rigid offset, of the look's content per scan column.

    Attributes
    ----------
    shifts : ndarray of int, shape (cols,)
        For scan column ``c``, the look's column ``c - sx - shifts[c]`` shows what ``c`` shows
        (``sx`` the rigid offset's whole-pixel column shift).
    windows : int
        Column windows whose correlation peaked clearly (before the fit's outlier pass).
    """

    shifts: NDArray[np.int64]
    windows: int

    @property
    def span(self) -> tuple[int, int]:
        """Smallest and largest displacement (px)."""
        return int(self.shifts.min()), int(self.shifts.max())

    def describe(self) -> str:
        lo, hi = self.span
        return (
            f"the other direction is displaced along the lines by {lo:+d} to {hi:+d} px beyond one "
            f"offset (piezo hysteresis, over {self.windows} column windows): its columns follow that"
        )


def _rows_in_common(ref: Array, mov: Array, sy: int) -> tuple[Array, Array]:
    """The rows of ``ref`` and of ``mov`` shifted by ``sy`` rows that overlap and are complete in
    both (every column kept: the search along the line needs them)."""
    a, b = overlap(ref, mov, sy, 0)
    keep = np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1)
    return a[keep], b[keep]


def _derivative(z: Array) -> Array:
    """Along each row, of the levelled rows smoothed by a :data:`EDGE_SCALE_PX` Gaussian along the
    line (a plain difference is mostly pixel noise); each row's mean removed (drift and line
    offsets go)."""
    smooth = gaussian_filter1d(levelled(z), EDGE_SCALE_PX, axis=1, mode="nearest")
    d = np.diff(smooth, axis=1)
    return np.asarray(d - d.mean(axis=1, keepdims=True))


def _window_peaks(a: Array, b: Array, sx: int, width: int) -> list[tuple[float, float, float]]:
    """``(centre column, displacement, peak correlation)`` of each column window of ``a`` whose
    correlation with ``b`` peaks inside the search (±width/2) at ``MIN_PEAK_CORRELATION`` or more.
    The row-summed cross-correlation of a window comes from one FFT along the rows."""
    cols = a.shape[1]
    half = width // 2
    w = hann_1d(width)
    b2 = (b * b).sum(axis=0)  # the look's power per column, for the normalisation
    out = []
    for c0 in range(0, cols - width + 1, half):
        aw = a[:, c0 : c0 + width] * w
        na = float((aw * a[:, c0 : c0 + width]).sum())
        if not na > 0:
            continue
        lo = max(c0 - sx - half, 0)  # the look's columns any lag of this window reads
        hi = min(c0 - sx + half + width, cols)
        if hi - lo < width:
            continue
        n = 1 << int(np.ceil(np.log2(hi - lo + width)))
        cc = np.fft.irfft(
            (np.conj(np.fft.rfft(aw, n=n, axis=1)) * np.fft.rfft(b[:, lo:hi], n=n, axis=1)).sum(axis=0), n=n
        )  # cc[k] = sum over rows and i of aw[r, i] * b[r, lo + k + i]
        rho = np.full(2 * half + 1, np.nan)
        for i, lag in enumerate(range(-half, half + 1)):
            j0 = c0 - sx - lag
            if j0 < lo or j0 + width > hi:
                continue
            nb = float((b2[j0 : j0 + width] * w).sum())
            if nb > 0:
                rho[i] = float(cc[j0 - lo]) / np.sqrt(na * nb)
        if not np.isfinite(rho).any():
            continue
        i = int(np.nanargmax(rho))
        if not (0 < i < len(rho) - 1) or not np.isfinite(rho[i - 1 : i + 2]).all():
            continue  # at the search's edge: not a peak
        if rho[i] < MIN_PEAK_CORRELATION:
            continue
        y0, y1, y2 = rho[i - 1], rho[i], rho[i + 1]
        curve = y0 - 2 * y1 + y2
        frac = 0.5 * (y0 - y2) / curve if curve < 0 else 0.0
        out.append((c0 + width / 2, i - half + frac, float(rho[i])))
    return out


def _fit(peaks: list[tuple[float, float, float]], cols: int) -> Array | None:
    """A quadratic in the column through the peaks, weighted by their correlation, refitted
    once without those more than :data:`OUTLIER_PX` off; None with fewer than MIN_WINDOWS, or
    where the windows it keeps span less than :data:`MIN_SPAN` of the line."""
    if len(peaks) < MIN_WINDOWS:
        return None
    p = np.asarray(peaks)
    u = p[:, 0] / cols
    for _ in range(2):
        coef = np.polyfit(u, p[:, 1], 2, w=p[:, 2])
        res = np.abs(np.polyval(coef, u) - p[:, 1])
        keep = res <= OUTLIER_PX
        if keep.all():
            break
        p, u = p[keep], u[keep]
        if len(p) < MIN_WINDOWS:
            return None
    if float(u.max() - u.min()) < MIN_SPAN:
        return None
    # not extrapolated: beyond the outermost windows' centres the fit holds its end values
    return np.asarray(np.polyval(coef, np.clip(np.arange(cols) / cols, u.min(), u.max())))


def fast_axis_warp(reference: Array, moving: Array, offset: tuple[float, float]) -> FastAxisWarp | None:
    """The displacement along the lines of ``moving`` (the other direction) onto ``reference`` left
    after the rigid ``offset`` (:func:`~stmdenoise.metrics.registration.register_frames`), or None
    where it stays within :data:`MIN_DISPLACEMENT_PX` everywhere, cannot be measured (too few
    column windows with a clear peak) or does not bring the looks closer."""
    ref = np.asarray(reference, dtype=np.float64)
    mov = np.asarray(moving, dtype=np.float64)
    if ref.ndim != 2 or ref.shape != mov.shape:
        raise ValueError(f"expected two images of one shape, got {ref.shape} and {mov.shape}")
    sy, sx = whole_pixels(offset)
    a, b = _rows_in_common(ref, mov, sy)
    cols = ref.shape[1]
    if a.shape[0] < 8 or cols < 64:
        return None
    a, b = _derivative(a), _derivative(b)
    width = max(32, cols // 8)
    peaks = _window_peaks(a, b, sx, width)
    fitted = _fit(peaks, cols - 1)
    if fitted is None:
        return None
    if float(np.abs(fitted).max()) < MIN_DISPLACEMENT_PX:
        return None
    shifts = np.concatenate([np.rint(fitted), np.rint(fitted[-1:])]).astype(np.int64)
    # the looks' derivatives closer with the warp than without, over the columns both reach
    c = np.arange(cols - 1)
    rigid, warped = c - sx, c - sx - shifts[:-1]
    ok = (rigid >= 0) & (rigid < cols - 1) & (warped >= 0) & (warped < cols - 1)
    if ok.sum() < cols // 2:
        return None
    before = float(((a[:, ok] - b[:, rigid[ok]]) ** 2).sum())
    after = float(((a[:, ok] - b[:, warped[ok]]) ** 2).sum())
    if not after < before:
        return None
    return FastAxisWarp(shifts, len(peaks))


def follow(look: Array, warp: FastAxisWarp, offset: tuple[float, float]) -> Array:
    """``look`` with its columns re-indexed so that, under the same rigid ``offset``, each shows
    what the scan's column shows (:attr:`FastAxisWarp.shifts`). A column whose source would lie
    outside the look takes the nearest one inside (the few columns at the line's ends keep part of
    the displacement, as with the rigid offset alone)."""
    z = np.asarray(look, dtype=np.float64)
    cols = z.shape[1]
    _, sx = whole_pixels(offset)
    m = np.arange(cols)
    scan_col = np.clip(m + sx, 0, cols - 1)
    source = np.clip(m - warp.shifts[scan_col], 0, cols - 1)
    return np.asarray(z[:, source])
