"""STM-native measures: what BRISQUE and PIQE (trained on photographs) cannot see.

All work in the image's own units (metres for topography) on the longest run of complete
(NaN-free) rows, and refuse images under 64x64 or constant ones (:class:`NotScorableError`).

* :func:`line_artefact_index`: scan-line (row-offset) artefacts relative to the image contrast.
* :func:`noise_floor`: pixel noise, robustly, from the finest diagonal wavelet band.
* :func:`residual_stats`: what a denoiser removed (``raw - denoised``): its size, whiteness and
  how much image structure it still holds (a denoiser that removes signal leaves structure).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from stmdenoise.metrics._input import NotScorableError, _as_array, joint_rows, prepare

__all__ = ["line_artefact_index", "noise_floor", "residual_stats", "ResidualStats", "row_steps"]

_MAD_TO_SIGMA = 1.0 / 0.6744897501960817  # sigma of a normal distribution from its median |x|
_TREND_WINDOW = 7  # rows; slow row-to-row change (tilt, curvature) is topography, not artefact
_FLATNESS_TILE = 32


def _plane_levelled(z: NDArray[np.float64]) -> NDArray[np.float64]:
    rows, cols = z.shape
    yy, xx = np.mgrid[0:rows, 0:cols]
    a = np.column_stack((np.ones(z.size), yy.ravel(), xx.ravel()))
    coef, *_ = np.linalg.lstsq(a, z.ravel(), rcond=None)
    return z - (a @ coef).reshape(z.shape)


def _contrast(z: NDArray[np.float64]) -> float:
    lo, hi = np.percentile(_plane_levelled(z), [1.0, 99.0])
    return float(hi - lo)


def row_steps(image: Any) -> NDArray[np.float64]:
    """Row-to-row offsets not explained by slowly varying topography.

    ``s[i] = median_j(z[i+1, j] - z[i, j])`` minus its running median over 7 rows, so that a
    tilt or a smooth corrugation gives ~0 and a jump of one line against its neighbours gives
    the jump.

    Parameters
    ----------
    image : Scan or array_like, shape (rows, cols)
        Image in any units; NaN rows are dropped (longest complete run).

    Returns
    -------
    ndarray of float64, shape (rows' - 1,)
        Offset steps in the image's units.
    """
    z = prepare(image)
    steps = np.median(np.diff(z, axis=0), axis=1)
    trend = ndimage.median_filter(steps, size=_TREND_WINDOW, mode="nearest")
    return np.asarray(steps - trend, dtype=np.float64)


def line_artefact_index(image: Any) -> float:
    """Scan-line artefact index: spread of line offsets relative to the image contrast.

    ``sqrt(mean(s**2) / 2) / (P99 - P1)``, with ``s`` the detrended row steps
    (:func:`row_steps`) and ``P99 - P1`` the robust range of the plane-levelled image. For
    independent per-line offsets of standard deviation ``sigma_o`` the numerator is about
    ``sigma_o``, so the index reads "line-offset spread as a fraction of the contrast".
    Uniform pixel noise barely moves it (the median over a line averages it out); a clean map
    scores ~0, visibly streaky scans 0.05 and more.

    Lines are the rows (fast-scan axis along a row). A real step edge that runs exactly along
    a scan line counts as an artefact too: no single-image measure can tell the two apart.

    Parameters
    ----------
    image : Scan or array_like, shape (rows, cols)
        Image in any units (metres for topography); NaN rows are dropped.

    Returns
    -------
    float
        Dimensionless index >= 0.

    Raises
    ------
    NotScorableError
        Fewer than 64 complete rows or columns, or a constant image.

    Examples
    --------
    >>> import numpy as np
    >>> y, x = np.mgrid[0:128, 0:128]
    >>> clean = 1e-11 * np.sin(x / 5.0) * np.cos(y / 7.0)          # metres
    >>> offsets = 2e-12 * np.random.default_rng(0).normal(size=(128, 1))
    >>> line_artefact_index(clean) < 0.01 < line_artefact_index(clean + offsets)
    True
    """
    z = prepare(image)
    s = row_steps(z)
    contrast = _contrast(z)
    if not contrast > 0:
        raise NotScorableError("image: no contrast after plane levelling (a tilted plane); nothing to score")
    return float(np.sqrt(np.mean(s * s) / 2.0) / contrast)


def noise_floor(image: Any) -> float:
    """Robust pixel-noise estimate in the image's units.

    The finest diagonal Haar wavelet band ``(z00 - z01 - z10 + z11) / 2`` over 2x2 blocks has
    the standard deviation of white pixel noise, cancels planes, line offsets and column
    offsets, and holds little of smooth topography; the noise is
    ``median(|band|) / 0.6745`` (Donoho's MAD estimator).

    Parameters
    ----------
    image : Scan or array_like, shape (rows, cols)
        Image in any units; NaN rows are dropped.

    Returns
    -------
    float
        Noise standard deviation, in the image's units (metres for topography).

    Raises
    ------
    NotScorableError
        Fewer than 64 complete rows or columns, or a constant image.

    Examples
    --------
    >>> import numpy as np
    >>> noise = 1e-12 * np.random.default_rng(0).normal(size=(256, 256))
    >>> round(noise_floor(noise) / 1e-12, 1)
    1.0
    """
    z = prepare(image)
    r, c = (z.shape[0] // 2) * 2, (z.shape[1] // 2) * 2
    z = z[:r, :c]
    hh = (z[0::2, 0::2] - z[0::2, 1::2] - z[1::2, 0::2] + z[1::2, 1::2]) / 2.0
    return float(np.median(np.abs(hh)) * _MAD_TO_SIGMA)


@dataclass(frozen=True)
class ResidualStats:
    """Statistics of what a denoiser removed, ``residual = raw - denoised``.

    Attributes
    ----------
    rms : float
        Root mean square of the residual, in the image's units.
    mean : float
        Mean of the residual (a denoiser should not shift the level), image units.
    rms_to_noise_floor : float
        ``rms / noise_floor(raw)``: ~1 when the pixel noise was removed; well above 1 when
        line artefacts or signal were removed as well; below 1 when noise was left behind.
    autocorr_fast : float
        Lag-1 autocorrelation of the residual along the rows (fast-scan axis). ~0 for a white
        residual; removed line artefacts raise it (a whole line shares one offset).
    autocorr_slow : float
        Lag-1 autocorrelation along the columns (slow-scan axis). ~0 for white noise and for
        removed line offsets; smooth structure in the residual raises both.
    spectral_flatness : float
        Geometric over arithmetic mean of the residual's power spectrum (averaged over 32x32
        tiles, DC excluded). Close to 1 for white noise on large images (0.88 expected on
        64x64, 0.99 on 512x512); lower when the residual has structure.
    signal_correlation : float
        Pearson correlation of the residual with the denoised image. ~0 when only noise was
        removed; large when the denoiser shrank or removed the signal itself.
    structure_r2 : float
        Fraction of the residual's variance explained (least squares) by the denoised image's
        local structure: its value, x and y gradients and Laplacian. ~0 when the residual is
        independent of the image; near 1 when the denoiser blurred or flattened features.
    rows_used : int
        Number of (complete) rows the statistics use.
    """

    rms: float
    mean: float
    rms_to_noise_floor: float
    autocorr_fast: float
    autocorr_slow: float
    spectral_flatness: float
    signal_correlation: float
    structure_r2: float
    rows_used: int

    def to_dict(self) -> dict[str, float | int]:
        """Fields as a plain dict (JSON-serialisable; NaN for undefined values)."""
        return asdict(self)


def _pearson(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    a = a - a.mean()
    b = b - b.mean()
    den = float(np.sqrt(np.sum(a * a) * np.sum(b * b)))
    return float(np.sum(a * b) / den) if den > 0 else float("nan")


def _spectral_flatness(r: NDArray[np.float64]) -> float:
    t = _FLATNESS_TILE
    nr, nc = r.shape[0] // t, r.shape[1] // t
    tiles = r[: nr * t, : nc * t].reshape(nr, t, nc, t).transpose(0, 2, 1, 3).reshape(-1, t, t)
    tiles = tiles - tiles.mean(axis=(1, 2), keepdims=True)
    power = np.mean(np.abs(np.fft.fft2(tiles)) ** 2, axis=0).ravel()[1:]  # drop DC
    if not np.all(power > 0):
        return float("nan")
    return float(np.exp(np.mean(np.log(power))) / np.mean(power))


def _structure_r2(residual: NDArray[np.float64], denoised: NDArray[np.float64]) -> float:
    gy, gx = np.gradient(denoised)
    lap = ndimage.laplace(denoised, mode="reflect")
    cols = [denoised, gx, gy, lap]
    design = np.column_stack([np.ones(residual.size)] + [c.ravel() for c in cols])
    # scale columns so lstsq is well conditioned whatever the units (metres ~ 1e-10)
    scale = np.abs(design).max(axis=0)
    scale[scale == 0] = 1.0
    coef, *_ = np.linalg.lstsq(design / scale, residual.ravel(), rcond=None)
    fit = (design / scale) @ coef
    rc = residual.ravel() - residual.mean()
    ss_tot = float(np.sum(rc * rc))
    if not ss_tot > 0:
        return float("nan")
    return float(max(0.0, 1.0 - float(np.sum((residual.ravel() - fit) ** 2)) / ss_tot))


def residual_stats(raw: Any, denoised: Any) -> ResidualStats:
    """Statistics of the residual ``raw - denoised`` that reveal a denoiser removing signal.

    Parameters
    ----------
    raw, denoised : Scan or array_like, shape (rows, cols)
        The input scan and the denoiser's output, same shape and units (metres for
        topography). Only rows complete in both are used (longest contiguous run).

    Returns
    -------
    ResidualStats
        Fields are NaN where undefined: a zero residual (the denoiser changed nothing) has no
        correlation, whiteness or structure.

    Raises
    ------
    ValueError
        Shapes differ.
    NotScorableError
        Fewer than 64 jointly complete rows or columns, or ``raw`` or ``denoised`` constant.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y, x = np.mgrid[0:128, 0:128]
    >>> clean = np.sin(x / 5.0) * np.cos(y / 7.0)
    >>> raw = clean + rng.normal(0.0, 0.2, clean.shape)
    >>> good, blurred = residual_stats(raw, clean), residual_stats(raw, 0.5 * clean)
    >>> good.signal_correlation < 0.1 < blurred.signal_correlation
    True
    """
    a = _as_array(raw, "raw")
    b = _as_array(denoised, "denoised")
    rows = joint_rows(a, b, names=("raw", "denoised"))
    za = prepare(np.asarray(a[rows], dtype=np.float64), name="raw")
    zb = prepare(np.asarray(b[rows], dtype=np.float64), name="denoised")
    r = za - zb
    rms = float(np.sqrt(np.mean(r * r)))
    nan = float("nan")
    floor = noise_floor(za)
    ratio = rms / floor if floor > 0 else (nan if rms == 0 else float("inf"))
    if not np.ptp(r) > 0:  # zero or constant residual: no whiteness or structure to speak of
        return ResidualStats(
            rms=rms,
            mean=float(r.mean()),
            rms_to_noise_floor=ratio,
            autocorr_fast=nan,
            autocorr_slow=nan,
            spectral_flatness=nan,
            signal_correlation=nan,
            structure_r2=nan,
            rows_used=int(za.shape[0]),
        )
    return ResidualStats(
        rms=rms,
        mean=float(r.mean()),
        rms_to_noise_floor=ratio,
        autocorr_fast=_pearson(r[:, :-1], r[:, 1:]),
        autocorr_slow=_pearson(r[:-1, :], r[1:, :]),
        spectral_flatness=_spectral_flatness(r),
        signal_correlation=_pearson(r, zb),
        structure_r2=_structure_r2(r, zb),
        rows_used=int(za.shape[0]),
    )
