"""What one gain for the whole frame takes from a lone feature, put back where both looks hold it.

The two-direction Wiener (:mod:`stmdenoise.model.two_direction`) multiplies every Fourier
coefficient of a tile by one gain for the whole frame, read from the frame's average power. A lone
adatom or defect on a flat terrace adds almost nothing to that average, so the filter takes its
coefficients for noise and shrinks it (a 4 Å-wide adatom at 1 Å/px kept a fifth of its height).
Its removal is local, and the second look shows it: what the filter removes from the frame there,
it removes from the look too, where noise, slow drift and an edge the two directions see
differently (the feedback's lag, the piezo's hysteresis) differ between the looks. So each pixel
gets back the share of the frame's residual the look's residual holds too (:func:`give_back`),
above a threshold set by how far noise of the removed spectrum scatters (:func:`cross_spread`).
Ours, not the paper's (docs/model-selection.md, candidates CP, CR and CS).
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter

from stmdenoise.model.fourier_tiles import TILE

__all__ = ["RESCUE_SPREADS", "RESCUE_WIDTH", "cross_spread", "give_back", "look_cover", "look_residual"]

Array = NDArray[np.float64]

#: Where the local cross-power of the frame's and the look's residuals exceeds this many standard
#: deviations of what independent noise gives, its coherent share is put back (:func:`give_back`).
#: Six: on noise alone (white, and six shared scans' noise textures) at most 0.5 % of the removed
#: noise's RMS comes back; a chance excursion that far is rare even for noise as slow as drift.
RESCUE_SPREADS = 6.0
#: Width (px, Gaussian sigma) over which the residuals' products are averaged (:func:`give_back`).
RESCUE_WIDTH = 3.0


def cross_spread(transfer: Array, noise: Array, window_power: float) -> float:
    """The standard deviation of the local cross-power :func:`give_back` reads (products smoothed by
    a Gaussian of :data:`RESCUE_WIDTH` px) where the frame's and the look's residuals are
    independent noise of the spectrum the filter removes, (1 - H)^2 N (per pixel: over the noise
    tiles' summed squared window ``window_power``, Parseval; ``noise`` is their Welch power): for
    Gaussian noise of autocovariance C, sqrt(sum_d C(d)^2 A(d)), A the kernel's autocorrelation.
    Coloured noise (slow drift) has few independent samples under the kernel, so its local
    cross-power scatters far more than white noise's."""
    removed = (1.0 - transfer) ** 2 * noise / window_power
    cov = np.fft.ifft2(removed).real  # autocovariance per pixel lag, on the tile grid (wrapped)
    return float(np.sqrt(max(float(np.sum(cov**2 * _local_kernel())), 0.0)))


@functools.lru_cache(maxsize=1)
def _local_kernel() -> Array:
    """The autocorrelation of the Gaussian (:data:`RESCUE_WIDTH` px, unit sum) that smooths the
    residual's squares, on the tile grid, lag 0 at [0, 0]."""
    d = np.minimum(np.arange(TILE), TILE - np.arange(TILE))
    w = np.exp(-(d[:, None] ** 2 + d[None, :] ** 2) / (2 * RESCUE_WIDTH**2))
    w /= w.sum()
    return np.asarray(np.fft.ifft2(np.abs(np.fft.fft2(w)) ** 2).real)


def look_residual(
    look: Array, filtered: Array, block: tuple[int, int, int, int], shape: tuple[int, int]
) -> Array:
    """What the filter removed from the second look (``look`` minus its ``filtered`` output; the
    look's block, levelled and moved onto the frame's grid), placed on the frame's grid (``shape``)
    where the look covers it (``block``: rows ``r0:r1``, columns ``c0:c1`` of that grid), 0 elsewhere."""
    r0, r1, c0, c1 = block
    resid = np.zeros(shape)
    resid[r0:r1, c0:c1] = look - filtered
    return resid


def look_cover(block: tuple[int, int, int, int], shape: tuple[int, int]) -> Array:
    """The share of :func:`give_back`'s smoothing kernel at each pixel of the frame's grid
    (``shape``) that the look's ``block`` covers: one for both parities of a frame."""
    r0, r1, c0, c1 = block
    cover = np.zeros(shape)
    cover[r0:r1, c0:c1] = 1.0
    return _smooth(cover)


def _smooth(a: Array) -> Array:
    """``a`` smoothed by the Gaussian of :data:`RESCUE_WIDTH` px the local sums use."""
    return np.asarray(gaussian_filter(a, RESCUE_WIDTH, mode="reflect"))


def give_back(
    lev: Array, kept: Array, r_b: Array, seen: Array, spread: float
) -> tuple[Array, NDArray[np.bool_]]:
    """``kept`` plus, where what the filter removed from the frame is also in the second look,
    that share of it (docs/model-selection.md, candidates CP, CR and CS).

    One gain for the whole frame sees the frame's average power: a lone adatom or defect on a flat
    terrace adds almost nothing to it, so its coefficients read as noise and the feature is shrunk
    (to a fifth of its height at 1 Å/px). What it removes there is in both looks; what it removes
    of the noise, of slow drift or of an edge's feedback lag is not. So each pixel gets back ``b``
    times the frame's residual r_f = ``lev - kept``, ``b = (C - z s) / E`` clipped to [0, 1]: C the
    local cross-power of r_f with the look's residual ``r_b`` (the same filter on the look,
    :func:`look_residual`; products smoothed by a Gaussian of :data:`RESCUE_WIDTH` px over the
    share ``seen`` the look covers, :func:`look_cover`), E the local power of
    r_f, s the standard deviation C has where both hold independent noise (``spread``,
    :func:`cross_spread`: coloured noise scatters more) and z = :data:`RESCUE_SPREADS`. C / E is
    the coherent share of the local residual: a local Wiener gain for what was removed. Pure
    noise, drift and direction-dependent edges stay removed. The look enters only through those
    local averages (about a hundred pixels each), and only where they pass the threshold. Returns
    the output and where anything was given back."""
    r_f = lev - kept
    cross = _smooth(r_f * r_b) / np.maximum(seen, 1e-12)  # r_b is 0 where the look is not
    power = _smooth(r_f**2)
    threshold = RESCUE_SPREADS * spread
    back = np.clip((cross - threshold) / np.maximum(power, 1e-300), 0.0, 1.0) * (seen > 0.5)
    return np.asarray(kept + back * r_f), back > 0
