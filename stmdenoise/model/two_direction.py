"""The two-direction Wiener filter: the noise spectrum measured from the scan's other direction.

Most STM scans are recorded in both directions: the backward frame is a second look at the same
surface with its own noise, so (once registered) forward minus backward holds noise only, and
its power spectrum is the scan's own noise spectrum, coloured, anisotropic, mains lines and all.
With it a Wiener filter needs nothing learnt: each Fourier coefficient of a tile is multiplied by
``G = 1 - N / P`` (clipped to [0, 1]), N the noise power, P the frame's power at that
frequency. It cannot add structure that is not in the scan and works on any pixel size.

**Cross-fitted.** The rows are cut into :data:`BAND`-row bands; rows of even bands are filtered
with the gain whose noise spectrum comes from the odd bands only, and the other way round. So the
output at a row never depends on the backward frame's noise at that row, and judging the output
against the backward frame (:func:`stmdenoise.metrics.fidelity.pair_fidelity`, the do-no-harm
check) stays an unbiased estimate. Alternating bands, not two halves: a tip change or a burst of
noise part-way through a scan then falls on both sides.

Not for the current of a scan recorded with the Z feedback on (:mod:`stmdenoise.io.feedback`):
there forward minus backward is the feedback error, real signal; the caller decides
(:meth:`stmdenoise.denoise.Denoiser.denoise`). Ours, not the paper's (docs/model-selection.md,
candidate K).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> surface = np.sin(np.arange(160)[:, None] / 5.0) + np.cos(np.arange(144)[None, :] / 7.0)
>>> fwd = surface + rng.normal(0, 0.3, surface.shape)
>>> bwd = surface + rng.normal(0, 0.3, surface.shape)
>>> out = two_direction_wiener(fwd, bwd, (0.0, 0.0))
>>> bool(np.mean((out - surface) ** 2) < 0.3 * np.mean((fwd - surface) ** 2))
True
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter

from stmdenoise.model.spectral_gain import HALF, TILE, WINDOW, filter_tiles
from stmdenoise.processing import complete_row_span, complete_rows, level_plane

__all__ = ["BAND", "KIND", "SMOOTH", "TwoDirectionError", "two_direction_wiener"]

Array = NDArray[np.float64]

#: ``kind`` recorded in the processing step of a scan denoised this way.
KIND = "two-direction-wiener"
#: Rows per cross-fitting band (one row of :data:`TILE`-px noise tiles each).
BAND = TILE
#: Column step of the noise and power tiles (Welch, 75 % overlap).
WELCH_STEP = 16
#: Gaussian smoothing of N and P, Fourier bins.
SMOOTH = 1.0


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


def _shifted(a: Array, dy: float, dx: float) -> Array:
    """``a`` moved down by ``dy`` and right by ``dx`` pixels (|d| < 1) with a Fourier phase ramp on a
    reflect-padded copy (keeps the noise power, unlike interpolation)."""
    pad = 8
    v = np.pad(a, pad, mode="reflect")
    ky = np.fft.fftfreq(v.shape[0])[:, None]
    kx = np.fft.fftfreq(v.shape[1])[None, :]
    out = np.fft.ifft2(np.fft.fft2(v) * np.exp(-2j * np.pi * (ky * dy + kx * dx))).real
    return np.asarray(out[pad:-pad, pad:-pad])


def _welch(a: Array, band_rows: list[int]) -> Array | None:
    """Mean tile power spectrum of ``a`` over one row of tiles at each of ``band_rows`` (None: none)."""
    acc: Array | None = None
    n = 0
    for r in band_rows:
        for j in range(0, a.shape[1] - TILE + 1, WELCH_STEP):
            t = a[r : r + TILE, j : j + TILE]
            p = np.abs(np.fft.fft2((t - t.mean()) * WINDOW)) ** 2  # the gain's sine window
            acc = p if acc is None else acc + p
            n += 1
    return None if acc is None else acc / n


def _mean(spectra: list[Array | None]) -> Array | None:
    found = [p for p in spectra if p is not None]
    return None if not found else np.mean(found, axis=0)


def _gain(noise: Array, power: Array) -> Array:
    g = 1.0 - gaussian_filter(noise, SMOOTH, mode="wrap") / np.maximum(
        gaussian_filter(power, SMOOTH, mode="wrap"), 1e-300
    )
    return np.clip(g, 0.0, 1.0)[:, :HALF]


def two_direction_wiener(
    z: NDArray[Any],
    other: NDArray[Any],
    offset: tuple[float, float],
    *,
    cancel: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Array:
    """``z`` denoised with the noise spectrum of ``z - other`` (cross-fitted, see the module).

    Parameters
    ----------
    z : array_like, shape (rows, cols)
        The frame to denoise (NaN: unmeasured; only at the start or end of the scan).
    other : array_like, same shape
        The other scan direction, mirrored to read left to right as the readers deliver it.
    offset : (float, float)
        ``(dy, dx)`` moving ``other`` onto ``z``
        (:func:`stmdenoise.metrics.registration.register_frames`).
    cancel, progress
        ``cancel`` is checked between chunks of tiles; ``progress(done, 2)`` is called after each
        of the two passes (one per band parity).

    Returns
    -------
    ndarray
        Same shape; unmeasured rows stay NaN.

    Raises
    ------
    TwoDirectionError
        Shapes differ, unmeasured lines split the scan, or the two frames do not share a complete
        band of each parity (at least 2 x :data:`BAND` rows and :data:`TILE` columns in common).
    """
    x = np.asarray(z, dtype=np.float64)
    b = np.asarray(other, dtype=np.float64)
    if x.ndim != 2 or x.shape != b.shape:
        raise TwoDirectionError(
            f"the two directions must be 2-D images of one shape, got {x.shape} and {b.shape}"
        )
    start, stop = _complete_run(x)
    h, w = x.shape
    sy, sx = math.floor(offset[0] + 0.5), math.floor(offset[1] + 0.5)
    r0, r1, c0, c1 = max(start, sy), min(stop, h + sy), max(0, sx), min(w, w + sx)
    if r1 - r0 < 2 * BAND or c1 - c0 < TILE:
        raise TwoDirectionError(
            f"the two directions share {max(0, r1 - r0)} x {max(0, c1 - c0)} measured pixels; "
            f"the noise estimate needs {2 * BAND} x {TILE}"
        )
    moved = b[r0 - sy : r1 - sy, c0 - sx : c1 - sx]
    # the longest run of rows the backward frame measured completely, inside the common rows
    run = complete_row_span(moved)
    moved, r0, r1 = moved[run], r0 + run.start, r0 + run.stop
    if r1 - r0 < 2 * BAND:
        raise TwoDirectionError(
            f"the two directions share {max(0, r1 - r0)} complete rows; the noise estimate needs {2 * BAND}"
        )
    fy, fx = offset[0] - sy, offset[1] - sx
    # bands counted from the first complete row of z; a band joins the noise estimate when all
    # its rows are in the common block
    bands = list(range(start, stop, BAND))
    lev = level_plane(x[start:stop])
    power = _welch(lev, [r - start for r in bands if r + BAND <= stop])
    noises: list[Array | None] = []
    for p in (0, 1):
        # the noise for rows of parity p: the other bands only, both frames levelled with the
        # planes through those bands and each band shifted on its own (no row of a band of
        # parity p reaches it)
        use = [r - r0 for k, r in enumerate(bands) if k % 2 != p and r >= r0 and r + BAND <= r1]
        if not use:
            noises.append(None)
            continue
        fit = np.zeros(moved.shape, dtype=bool)
        for i in use:
            fit[i : i + BAND] = True
        x_lev, b_lev = level_plane(x[r0:r1, c0:c1], mask=fit), level_plane(moved, mask=fit)
        noises.append(
            _mean([_welch(x_lev[i : i + BAND] - _shifted(b_lev[i : i + BAND], fy, fx), [0]) for i in use])
        )
    if power is None or noises[0] is None or noises[1] is None:
        raise TwoDirectionError(f"the two directions do not share a complete {BAND}-row band of each parity")
    out = x.copy()
    parity = ((np.arange(start, stop) - start) // BAND) % 2
    for p, noise in enumerate(noises):
        assert noise is not None
        gain = _gain(noise / 2.0, power)[None]

        def gains(_spectra: NDArray[np.complex128], gain: Array = gain) -> Array:
            return gain  # one gain for every tile: the filter is shift-invariant

        filtered = np.asarray(x[start:stop] - lev) + filter_tiles(lev, gains, cancel)
        out[start:stop][parity == p] = filtered[parity == p]
        if progress is not None:
            progress(p + 1, 2)
    return out
